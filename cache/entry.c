/*
 * The JSON form of a cache entry: the payload of entry files of format
 * version 3 (still read; version 4, binary, is what is written: the
 * envelope and that payload are cache/entrybin.c's) and what `procache
 * cache show --json` prints, with its parser (never trusting the input:
 * entries are fuzzed); the accessors of a struct cache_entry. No I/O
 * here: the entry files are read by cache/entryfile.c and written by
 * cache/store.c.
 *
 * The payload is one JSON object (compact, UTF-8 except for path bytes,
 * which cJSON carries as they are). Every key below is required unless
 * said otherwise, and unknown keys, kinds and types are rejected:
 *
 *	{"key": "<32 hex>",
 *	 "key_fields": [["<tag>", "s"|"u"|"x", "<value>"], ...],
 *	     s: the field's bytes as text (valid UTF-8, no NUL)
 *	     u: a u64, in decimal (keyenc_add_u64)
 *	     x: any bytes, lowercase hex
 *	   Re-encoding the fields with keyenc (common/hash.h) must give "key".
 *	 "preconditions": [ sorted by (path, kind), each one of
 *	   {"kind":"content","path":P,"hash":H,"type":"file","mode":M}
 *	   {"kind":"absent","path":P}
 *	   {"kind":"stat","path":P,"type":T,"mode":M,"uid":U,"gid":G,
 *	    "size":S,"nlink":N (type "file" only), "mtime":"<ns>",
 *	    "ctime":"<ns>" (both: strict)}
 *	   a stat that is not strict has "mtime" alone when the job was
 *	   shown the times (optional, any type); a "file" one with "mtime"
 *	   may add "hash":H, the content seen (--mtime=content): it holds
 *	   when the mtime is the same, or the content is
 *	   (cache_record_add_stat())
 *	   {"kind":"listing","path":P,"hash":H}
 *	   {"kind":"xattrs","path":P,"hash":H}  (the path's extended
 *	    attributes, every name and value: xattr_hash_path()), may add
 *	    "absent_ok":true (an output file that had none:
 *	    cache_record_add_xattrs())
 *	   {"kind":"symlink","path":P,"target":"<non-empty>"}
 *	   {"kind":"hostfact","name":"uname.release"|"uname.sysname"|
 *	    "uname.version"|"uname.machine"|"uname.domainname","value":V}
 *	    or "name":"cpuinfo","value":"<cpu list> <hash>" (the job's
 *	    /proc/cpuinfo: cpuinfo_fact(), common/cpus.h)
 *	    or "name":"loginuid"|"sessionid","value":V (the bytes of
 *	    /proc/self/loginuid or sessionid: common/loginuid.h)
 *	   {"kind":"output","path":P,"mode":M,"uid":U,"gid":G,
 *	    "create":{"mode":M,"uid":U,"gid":G,"parent_type":"dir",
 *	              "parent_mode":M,"parent_uid":U,"parent_gid":G}
 *	    ("create" optional: the open had O_CREAT)} ],
 *	 "result": {"exit": {"code": 0..255} | {"signal": 1..64},
 *	            "stdout": {"blob": H, "size": N}, "stderr": {...},
 *	            "changes": [ in recorded (path) order, each one of
 *	   {"kind":"file","path":P,"blob":H,"size":N,"mode":M,TIMES,XATTRS}
 *	   {"kind":"dir"|"dir_replaced","path":P,"mode":M,TIMES,XATTRS}
 *	   {"kind":"mode","path":P,"mode":M,XATTRS}
 *	   {"kind":"symlink","path":P,"target":"<non-empty>",TIMES,XATTRS}
 *	   {"kind":"delete","path":P} ]},
 *	   TIMES, optional (all three or none): "mtime":"<ns>",
 *	   "atime":"<ns>", "time":"exact"|"fresh" (the replay rule of
 *	   DESIGN.md §7: these times, or the time of the apply)
 *	   XATTRS, optional on every kind but delete: "xattrs":
 *	   [["<name>","<hex value>"], ...], non-empty, sorted by name
 *	   (bytewise) without repeats, no private name (common/xattr.h):
 *	   the extended attributes the path ends with; absent: none
 *	 "duration_s": <number >= 0>, "created": <seconds>, "procache": "<version>",
 *	 "base_relative": true (optional: a relocatable entry, below)}
 *
 * A base-relative entry (DESIGN.md section 12) may have, besides
 * absolute paths, relative ones P: "." or path_is_safe_relative(), meaning
 * that path under the base directory of the run that reads it
 * (entry_rebase()). Its id is computed from those relative paths.
 *
 * P: absolute, no empty, "." or ".." component, no trailing slash ("/"
 * itself only in preconditions). H: 32 lowercase hex digits. T: "file",
 * "dir", "symlink", "chr", "blk", "fifo", "sock". M: permission bits,
 * 0..07777. mtime/ctime are decimal strings because nanosecond times do
 * not fit JSON's exact integers.
 *
 * The id of a version 3 entry (its file name) is the first 64 bits, in
 * hex, of the XXH3-128 of the compact JSON of the sorted preconditions
 * array (entry_json_id()).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cache/cache.h"
#include "cache/internal.h"
#include "common/cleanup.h"
#include "common/die.h"
#include "common/hash.h"
#include "common/hex.h"
#include "common/json.h"
#include "common/path.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "common/banned.h"

static const char *const hostfact_names[] = {
	"uname.sysname", "uname.release", "uname.version", "uname.machine",
	"uname.domainname", "cpuinfo", "loginuid", "sessionid", "binfmt_misc",
};

bool entry_hostfact_known(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(hostfact_names); i++)
		if (!strcmp(name, hostfact_names[i]))
			return true;
	return false;
}

bool entry_path_is_safe(const char *path, bool allow_root)
{
	if (!path || path_unsafe_reason(path, PATH_ABSOLUTE))
		return false;
	return allow_root || path[1];
}

bool entry_path_valid(const char *path, bool allow_root, bool rel)
{
	if (rel && *path != '/' && (!strcmp(path, ".") || path_is_safe_relative(path)))
		return true;
	return entry_path_is_safe(path, allow_root);
}

const char *pre_kind_name(enum pre_kind k)
{
	switch (k) {
	case PRE_CONTENT:
		return "content";
	case PRE_ABSENT:
		return "absent";
	case PRE_STAT:
		return "stat";
	case PRE_LISTING:
		return "listing";
	case PRE_SYMLINK:
		return "symlink";
	case PRE_HOSTFACT:
		return "hostfact";
	case PRE_OUTPUT:
		return "output";
	case PRE_XATTRS:
		return "xattrs";
	}
	return "?";
}

/* ---- entries: accessors ----------------------------------------------- */

void entry_release(struct cache_entry *e)
{
	size_t i;

	key_fields_free(e->fields, e->nr_fields);
	for (i = 0; i < e->nr_pre; i++) {
		free(e->pre[i].path);
		free(e->pre[i].value);
	}
	free(e->pre);
	for (i = 0; i < e->nr_ch; i++) {
		free(e->ch[i].path);
		free(e->ch[i].target);
		free(e->ch[i].src);
		xattr_set_release(&e->ch[i].xattrs);
	}
	free(e->ch);
	free(e->out[0].src);
	free(e->out[1].src);
	free(e->version);
	memset(e, 0, sizeof(*e));
}

void cache_entry_free(struct cache_entry *e)
{
	if (!e)
		return;
	entry_release(e);
	free(e);
}

const char *cache_entry_id(const struct cache_entry *e)
{
	return e->name;
}

const char *cache_entry_key_hex(const struct cache_entry *e)
{
	return e->key_hex;
}

int cache_entry_exit_code(const struct cache_entry *e)
{
	return e->exit_code;
}

int cache_entry_signal(const struct cache_entry *e)
{
	return e->signal;
}

double cache_entry_duration(const struct cache_entry *e)
{
	return e->duration;
}

int64_t cache_entry_created(const struct cache_entry *e)
{
	return e->created;
}

bool cache_entry_is_unit(const struct cache_entry *e)
{
	for (size_t i = 0; i < e->nr_fields; i++)
		if (!strcmp(e->fields[i].tag, "unit"))
			return true;
	return false;
}

int cache_entry_output(const struct cache_entry *e, int which,
		       struct pc_hash *hash, uint64_t *size)
{
	if (which != 1 && which != 2)
		return -EINVAL;
	if (hash)
		*hash = e->out[which - 1].hash;
	if (size)
		*size = e->out[which - 1].size;
	return 0;
}

size_t cache_entry_nr_pre(const struct cache_entry *e)
{
	return e->nr_pre;
}

void cache_entry_pre(const struct cache_entry *e, size_t i, const char **kind,
		     const char **path, bool *mtime)
{
	const struct precondition *p = &e->pre[i];

	*kind = pre_kind_name(p->kind);
	*path = p->path;
	*mtime = p->kind == PRE_STAT && (p->strict || p->has_mtime);
}

size_t cache_entry_nr_changes(const struct cache_entry *e)
{
	return e->nr_ch;
}

void cache_entry_change(const struct cache_entry *e, size_t i,
			struct cache_change_view *out)
{
	const struct change *c;

	if (i >= e->nr_ch)
		BUG("cache_entry_change: %zu out of %zu", i, e->nr_ch);
	c = &e->ch[i];
	memset(out, 0, sizeof(*out));
	out->kind = c->kind;
	out->path = c->path;
	out->mode = c->mode;
	out->target = c->target;
	out->has_blob = c->has_blob;
	out->blob = c->blob;
	out->size = c->size;
	out->has_times = c->has_times;
	out->exact_times = c->exact_times;
	out->mtime_ns = c->mtime_ns;
	out->atime_ns = c->atime_ns;
	out->xattrs = &c->xattrs;
}

bool entry_next_blob(const struct cache_entry *e, size_t *i,
		     const struct pc_hash **h, uint64_t *size)
{
	while (*i < 2 + e->nr_ch) {
		size_t k = (*i)++;

		if (k < 2) {
			*h = &e->out[k].hash;
			*size = e->out[k].size;
			return true;
		}
		if (e->ch[k - 2].has_blob) {
			*h = &e->ch[k - 2].blob;
			*size = e->ch[k - 2].size;
			return true;
		}
	}
	return false;
}

/* ---- base-relative paths ---------------------------------------------- */

static void relativize(char **path, const char *base)
{
	size_t len = strlen(base);
	char *rel;

	if (!path_is_beneath(*path, base))
		return;
	rel = xstrdup((*path)[len] ? *path + len + 1 : ".");
	free(*path);
	*path = rel;
}

static void rebase(char **path, const char *base)
{
	char *abs;

	if (**path == '/')
		return;
	abs = strcmp(*path, ".") ? path_join(base, *path) : xstrdup(base);
	free(*path);
	*path = abs;
}

/* @fn on every path of @e (a host fact's "path" is its name: not one). */
static void map_paths(struct cache_entry *e, void (*fn)(char **, const char *),
		      const char *base)
{
	for (size_t i = 0; i < e->nr_pre; i++)
		if (e->pre[i].kind != PRE_HOSTFACT)
			fn(&e->pre[i].path, base);
	for (size_t i = 0; i < e->nr_ch; i++)
		fn(&e->ch[i].path, base);
}

void entry_paths_relativize(struct cache_entry *e, const char *base)
{
	map_paths(e, relativize, base);
	e->base_relative = true;
}

void entry_paths_rebase(struct cache_entry *e, const char *base)
{
	map_paths(e, rebase, base);
	e->rebased = true;
}

/* ---- encoding --------------------------------------------------------- */

static void add_hash(cJSON *o, const char *key, const struct pc_hash *h)
{
	char hex[PC_HASH_HEX_LEN + 1];

	pc_hash_to_hex(h, hex);
	cJSON_AddStringToObject(o, key, hex);
}

static void add_i64_str(cJSON *o, const char *key, int64_t v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%" PRId64, v);
	cJSON_AddStringToObject(o, key, buf);
}

static cJSON *pre_to_json(const struct precondition *p)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "kind", pre_kind_name(p->kind));
	switch (p->kind) {
	case PRE_CONTENT:
		cJSON_AddStringToObject(o, "path", p->path);
		add_hash(o, "hash", &p->hash);
		cJSON_AddStringToObject(o, "type", file_type_name(p->mode));
		cJSON_AddNumberToObject(o, "mode", p->mode & 07777);
		break;
	case PRE_ABSENT:
		cJSON_AddStringToObject(o, "path", p->path);
		break;
	case PRE_STAT:
		cJSON_AddStringToObject(o, "path", p->path);
		cJSON_AddStringToObject(o, "type", file_type_name(p->mode));
		cJSON_AddNumberToObject(o, "mode", p->mode & 07777);
		cJSON_AddNumberToObject(o, "uid", p->uid);
		cJSON_AddNumberToObject(o, "gid", p->gid);
		if (S_ISREG(p->mode)) {
			cJSON_AddNumberToObject(o, "size", (double)p->size);
			cJSON_AddNumberToObject(o, "nlink", (double)p->nlink);
		}
		if (p->strict) {
			add_i64_str(o, "mtime", p->mtime_ns);
			add_i64_str(o, "ctime", p->ctime_ns);
		} else if (p->has_mtime) {
			add_i64_str(o, "mtime", p->mtime_ns);
			if (p->has_hash)
				add_hash(o, "hash", &p->hash);
		}
		break;
	case PRE_LISTING:
	case PRE_XATTRS:
		cJSON_AddStringToObject(o, "path", p->path);
		add_hash(o, "hash", &p->hash);
		if (p->absent_ok)
			cJSON_AddTrueToObject(o, "absent_ok");
		break;
	case PRE_SYMLINK:
		cJSON_AddStringToObject(o, "path", p->path);
		cJSON_AddStringToObject(o, "target", p->value);
		break;
	case PRE_HOSTFACT:
		cJSON_AddStringToObject(o, "name", p->path);
		cJSON_AddStringToObject(o, "value", p->value);
		break;
	case PRE_OUTPUT:
		cJSON_AddStringToObject(o, "path", p->path);
		cJSON_AddNumberToObject(o, "mode", p->mode & 07777);
		cJSON_AddNumberToObject(o, "uid", p->uid);
		cJSON_AddNumberToObject(o, "gid", p->gid);
		if (p->create) {
			cJSON *c = cJSON_AddObjectToObject(o, "create");
			cJSON_AddNumberToObject(c, "mode", p->create_mode);
			cJSON_AddNumberToObject(c, "uid", p->create_uid);
			cJSON_AddNumberToObject(c, "gid", p->create_gid);
			cJSON_AddStringToObject(c, "parent_type",
						file_type_name(p->parent_mode));
			cJSON_AddNumberToObject(c, "parent_mode", p->parent_mode & 07777);
			cJSON_AddNumberToObject(c, "parent_uid", p->parent_uid);
			cJSON_AddNumberToObject(c, "parent_gid", p->parent_gid);
		}
		break;
	}
	return o;
}

static cJSON *change_to_json(const struct change *c)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "kind", change_kind_name(c->kind));
	cJSON_AddStringToObject(o, "path", c->path);
	switch (c->kind) {
	case CHANGE_FILE:
		add_hash(o, "blob", &c->blob);
		cJSON_AddNumberToObject(o, "size", (double)c->size);
		cJSON_AddNumberToObject(o, "mode", c->mode & 07777);
		break;
	case CHANGE_DIR:
	case CHANGE_DIR_REPLACED:
	case CHANGE_MODE:
		cJSON_AddNumberToObject(o, "mode", c->mode & 07777);
		break;
	case CHANGE_SYMLINK:
		cJSON_AddStringToObject(o, "target", c->target ? c->target : "");
		break;
	case CHANGE_DELETE:
		break;
	case CHANGE_SPECIAL:
		BUG("a special file in a stored entry");
	}
	if (c->xattrs.nr) {
		cJSON *arr = cJSON_AddArrayToObject(o, "xattrs");

		for (size_t i = 0; i < c->xattrs.nr; i++) {
			const struct xattr *x = &c->xattrs.v[i];
			cJSON *pair = cJSON_CreateArray();
			char *hex = xmalloc(2 * x->len + 1);

			hex_encode(x->value, x->len, hex);
			cJSON_AddItemToArray(pair, cJSON_CreateString(x->name));
			cJSON_AddItemToArray(pair, cJSON_CreateString(hex));
			cJSON_AddItemToArray(arr, pair);
			free(hex);
		}
	}
	if (c->has_times) {
		add_i64_str(o, "mtime", c->mtime_ns);
		add_i64_str(o, "atime", c->atime_ns);
		cJSON_AddStringToObject(o, "time", c->exact_times ? "exact" : "fresh");
	}
	return o;
}

static cJSON *output_to_json(const struct output *out)
{
	cJSON *o = cJSON_CreateObject();

	add_hash(o, "blob", &out->hash);
	cJSON_AddNumberToObject(o, "size", (double)out->size);
	return o;
}

static cJSON *key_fields_to_json(const struct key_field *f, size_t nr)
{
	cJSON *arr = cJSON_CreateArray();
	size_t i;

	for (i = 0; i < nr; i++) {
		cJSON *t = cJSON_CreateArray();
		char type[2] = { f[i].type, 0 };
		struct strbuf v = STRBUF_INIT;

		cJSON_AddItemToArray(t, cJSON_CreateString(f[i].tag));
		cJSON_AddItemToArray(t, cJSON_CreateString(type));
		key_field_value(&f[i], &v);
		cJSON_AddItemToArray(t, cJSON_CreateString(v.buf));
		strbuf_release(&v);
		cJSON_AddItemToArray(arr, t);
	}
	return arr;
}

static cJSON *pre_array_json(const struct cache_entry *e)
{
	cJSON *arr = cJSON_CreateArray();
	size_t i;

	for (i = 0; i < e->nr_pre; i++)
		cJSON_AddItemToArray(arr, pre_to_json(&e->pre[i]));
	return arr;
}

cJSON *entry_to_json(const struct cache_entry *e, bool for_show)
{
	cJSON *o = cJSON_CreateObject(), *res, *ex, *chs;
	size_t i;

	if (for_show) {
		cJSON_AddStringToObject(o, "id", e->name);
		cJSON_AddNumberToObject(o, "last_use", (double)e->mtime);
		cJSON_AddNumberToObject(o, "entry_size", (double)e->file_size);
	}
	cJSON_AddStringToObject(o, "key", e->key_hex);
	cJSON_AddItemToObject(o, "key_fields",
			      key_fields_to_json(e->fields, e->nr_fields));
	cJSON_AddItemToObject(o, "preconditions", pre_array_json(e));
	res = cJSON_AddObjectToObject(o, "result");
	ex = cJSON_AddObjectToObject(res, "exit");
	if (e->signal)
		cJSON_AddNumberToObject(ex, "signal", e->signal);
	else
		cJSON_AddNumberToObject(ex, "code", e->exit_code);
	cJSON_AddItemToObject(res, "stdout", output_to_json(&e->out[0]));
	cJSON_AddItemToObject(res, "stderr", output_to_json(&e->out[1]));
	chs = cJSON_AddArrayToObject(res, "changes");
	for (i = 0; i < e->nr_ch; i++)
		cJSON_AddItemToArray(chs, change_to_json(&e->ch[i]));
	cJSON_AddNumberToObject(o, "duration_s", e->duration);
	cJSON_AddNumberToObject(o, "created", (double)e->created);
	cJSON_AddStringToObject(o, "procache", e->version ? e->version : "");
	if (e->base_relative)
		cJSON_AddTrueToObject(o, "base_relative");
	return o;
}

cJSON *cache_entry_json(const struct cache_entry *e)
{
	return entry_to_json(e, true);
}

void entry_json_id(const struct cache_entry *e, char id[ENTRY_ID_LEN + 1])
{
	_cleanup_cjson_ cJSON *pre = pre_array_json(e);
	_cleanup_free_ char *pre_text = json_print_compact(pre);
	char hex[PC_HASH_HEX_LEN + 1];
	struct pc_hash h;

	pc_hash_buffer(pre_text, strlen(pre_text), &h);
	pc_hash_to_hex(&h, hex);
	memcpy(id, hex, ENTRY_ID_LEN);
	id[ENTRY_ID_LEN] = '\0';
}

/* ---- decoding --------------------------------------------------------- */

/* A malformed entry: -EBADMSG with the reason. */
#define bad(err, ...) strbuf_error((err), -EBADMSG, __VA_ARGS__)

/* A json.h getter's -EINVAL becomes -EBADMSG, with its message. */
#define TRY_JSON(call)                          \
	do {                                    \
		int r_ = (call);                \
		if (r_ < 0)                     \
			return -EBADMSG;        \
	} while (0)

static int get_hash(const cJSON *o, const char *key, struct pc_hash *out,
		    struct strbuf *err)
{
	const char *s;

	TRY_JSON(json_get_str(o, key, &s, true, err));
	if (pc_hash_from_hex(s, out) < 0)
		return bad(err, "key '%s': not a hash", key);
	return 0;
}

static int get_mode(const cJSON *o, mode_t *out, struct strbuf *err)
{
	uint64_t v;

	TRY_JSON(json_get_u64(o, "mode", &v, true, err));
	if (v > 07777)
		return bad(err, "mode %" PRIu64 " out of range", v);
	*out = (mode_t)v;
	return 0;
}

/* @rel: a base-relative entry, whose paths may be relative (see the top). */
static int get_path(const cJSON *o, char **out, bool allow_root, bool rel,
		    struct strbuf *err)
{
	const char *s;

	TRY_JSON(json_get_str(o, "path", &s, true, err));
	if (!entry_path_valid(s, allow_root, rel))
		return bad(err, "unsafe path '%.200s'", s);
	*out = xstrdup(s);
	return 0;
}

static int get_i64_str(const cJSON *o, const char *key, int64_t *out,
		       struct strbuf *err)
{
	const char *s;
	char *end;
	long long v;

	TRY_JSON(json_get_str(o, key, &s, true, err));
	if (!*s || (*s != '-' && (*s < '0' || *s > '9')))
		return bad(err, "key '%s': not an integer", key);
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end)
		return bad(err, "key '%s': not an integer", key);
	*out = v;
	return 0;
}

static int get_id(const cJSON *o, const char *key, uint32_t *out,
		  struct strbuf *err)
{
	uint64_t v;

	TRY_JSON(json_get_u64(o, key, &v, true, err));
	if (v > UINT32_MAX)
		return bad(err, "%s out of range", key);
	*out = (uint32_t)v;
	return 0;
}

static int get_type(const cJSON *o, mode_t *out, struct strbuf *err)
{
	const char *s;

	TRY_JSON(json_get_str(o, "type", &s, true, err));
	if (file_type_parse(s, out) < 0)
		return bad(err, "unknown file type '%.40s'", s);
	return 0;
}

static int parse_pre(const cJSON *o, struct precondition *p, bool rel,
		     struct strbuf *err)
{
	static const char *const k_content[] = { "kind", "path", "hash", "type", "mode", NULL };
	static const char *const k_absent[] = { "kind", "path", NULL };
	static const char *const k_stat[] = { "kind", "path", "type", "mode", "uid", "gid", "size", "nlink", "mtime", "ctime", "hash", NULL };
	static const char *const k_listing[] = { "kind", "path", "hash", NULL };
	static const char *const k_symlink[] = { "kind", "path", "target", NULL };
	static const char *const k_hostfact[] = { "kind", "name", "value", NULL };
	const char *kind, *s;
	mode_t type = 0, perm = 0;
	uint64_t v;

	if (!cJSON_IsObject(o))
		return bad(err, "precondition is not an object");
	TRY_JSON(json_get_str(o, "kind", &kind, true, err));
	if (!strcmp(kind, "content")) {
		p->kind = PRE_CONTENT;
		TRY_JSON(json_check_keys(o, k_content, err));
		if (get_path(o, &p->path, true, rel, err) ||
		    get_hash(o, "hash", &p->hash, err) ||
		    get_type(o, &type, err) || get_mode(o, &perm, err))
			return -EBADMSG;
		if (type != S_IFREG)
			return bad(err, "content precondition on a non-file");
		p->mode = type | perm;
	} else if (!strcmp(kind, "absent")) {
		p->kind = PRE_ABSENT;
		TRY_JSON(json_check_keys(o, k_absent, err));
		if (get_path(o, &p->path, true, rel, err))
			return -EBADMSG;
	} else if (!strcmp(kind, "stat")) {
		bool has_m, has_c;

		p->kind = PRE_STAT;
		TRY_JSON(json_check_keys(o, k_stat, err));
		if (get_path(o, &p->path, true, rel, err) ||
		    get_type(o, &type, err) || get_mode(o, &perm, err))
			return -EBADMSG;
		p->mode = type | perm;
		TRY_JSON(json_get_u64(o, "uid", &v, true, err));
		if (v > UINT32_MAX)
			return bad(err, "uid out of range");
		p->uid = (uint32_t)v;
		TRY_JSON(json_get_u64(o, "gid", &v, true, err));
		if (v > UINT32_MAX)
			return bad(err, "gid out of range");
		p->gid = (uint32_t)v;
		if (type == S_IFREG) {
			TRY_JSON(json_get_u64(o, "size", &p->size, true, err));
			TRY_JSON(json_get_u64(o, "nlink", &p->nlink, true, err));
		} else if (cJSON_GetObjectItemCaseSensitive(o, "size") ||
			   cJSON_GetObjectItemCaseSensitive(o, "nlink")) {
			return bad(err, "size or nlink on a stat precondition of a non-file");
		}
		has_m = cJSON_GetObjectItemCaseSensitive(o, "mtime") != NULL;
		has_c = cJSON_GetObjectItemCaseSensitive(o, "ctime") != NULL;
		if (has_c && !has_m)
			return bad(err, "ctime without mtime");
		if (has_c) {
			p->strict = true;
			if (get_i64_str(o, "mtime", &p->mtime_ns, err) ||
			    get_i64_str(o, "ctime", &p->ctime_ns, err))
				return -EBADMSG;
		} else if (has_m) {
			p->has_mtime = true;
			if (get_i64_str(o, "mtime", &p->mtime_ns, err))
				return -EBADMSG;
		}
		if (cJSON_GetObjectItemCaseSensitive(o, "hash")) {
			if (!p->has_mtime || type != S_IFREG)
				return bad(err, "hash on a stat without mtime or of a non-file");
			if (get_hash(o, "hash", &p->hash, err))
				return -EBADMSG;
			p->has_hash = true;
		}

	} else if (!strcmp(kind, "listing")) {
		p->kind = PRE_LISTING;
		TRY_JSON(json_check_keys(o, k_listing, err));
		if (get_path(o, &p->path, true, rel, err) ||
		    get_hash(o, "hash", &p->hash, err))
			return -EBADMSG;
	} else if (!strcmp(kind, "xattrs")) {
		static const char *const k_xattrs[] = { "kind", "path", "hash", "absent_ok", NULL };
		const cJSON *ok;

		p->kind = PRE_XATTRS;
		TRY_JSON(json_check_keys(o, k_xattrs, err));
		if (get_path(o, &p->path, true, rel, err) ||
		    get_hash(o, "hash", &p->hash, err))
			return -EBADMSG;
		ok = cJSON_GetObjectItemCaseSensitive(o, "absent_ok");
		if (ok && !cJSON_IsTrue(ok))
			return bad(err, "absent_ok is not true");
		p->absent_ok = ok != NULL;
	} else if (!strcmp(kind, "symlink")) {
		p->kind = PRE_SYMLINK;
		TRY_JSON(json_check_keys(o, k_symlink, err));
		if (get_path(o, &p->path, true, rel, err))
			return -EBADMSG;
		TRY_JSON(json_get_str(o, "target", &s, true, err));
		if (!*s)
			return bad(err, "empty symlink target");
		p->value = xstrdup(s);
	} else if (!strcmp(kind, "hostfact")) {
		p->kind = PRE_HOSTFACT;
		TRY_JSON(json_check_keys(o, k_hostfact, err));
		TRY_JSON(json_get_str(o, "name", &s, true, err));
		if (!entry_hostfact_known(s))
			return bad(err, "unknown host fact '%.40s'", s);
		p->path = xstrdup(s);
		TRY_JSON(json_get_str(o, "value", &s, true, err));
		p->value = xstrdup(s);
	} else if (!strcmp(kind, "output")) {
		static const char *const k_output[] = { "kind", "path", "mode", "uid", "gid", "create", NULL };
		static const char *const k_create[] = { "mode", "uid", "gid", "parent_type",
			"parent_mode", "parent_uid", "parent_gid", NULL };
		const cJSON *c;
		int rc;

		p->kind = PRE_OUTPUT;
		TRY_JSON(json_check_keys(o, k_output, err));
		if (get_path(o, &p->path, true, rel, err) || get_mode(o, &perm, err) ||
		    get_id(o, "uid", &p->uid, err) || get_id(o, "gid", &p->gid, err))
			return -EBADMSG;
		p->mode = S_IFREG | perm;
		rc = json_get_object(o, "create", &c, false, err);
		if (rc == -EINVAL)
			return -EBADMSG;
		if (rc == 0) {
			mode_t ptype;

			TRY_JSON(json_check_keys(c, k_create, err));
			p->create = true;
			if (get_mode(c, &p->create_mode, err) ||
			    get_id(c, "uid", &p->create_uid, err) ||
			    get_id(c, "gid", &p->create_gid, err) ||
			    get_id(c, "parent_uid", &p->parent_uid, err) ||
			    get_id(c, "parent_gid", &p->parent_gid, err))
				return -EBADMSG;
			TRY_JSON(json_get_str(c, "parent_type", &s, true, err));
			if (strcmp(s, "dir"))
				return bad(err, "output precondition with a parent of type '%.20s'", s);
			ptype = S_IFDIR;
			TRY_JSON(json_get_u64(c, "parent_mode", &v, true, err));
			if (v > 07777)
				return bad(err, "parent_mode out of range");
			p->parent_mode = ptype | (mode_t)v;
		}
	} else {
		return bad(err, "unknown precondition kind '%.40s'", kind);
	}
	return 0;
}

/* TIMES of a change (the format at the top): all three keys or none. */
static int parse_change_times(const cJSON *o, struct change *c,
			      struct strbuf *err)
{
	bool m = cJSON_GetObjectItemCaseSensitive(o, "mtime") != NULL;
	bool a = cJSON_GetObjectItemCaseSensitive(o, "atime") != NULL;
	bool t = cJSON_GetObjectItemCaseSensitive(o, "time") != NULL;
	const char *rule;

	if (!m && !a && !t)
		return 0;
	if (!m || !a || !t)
		return bad(err, "change times: mtime, atime and time go together");
	if (get_i64_str(o, "mtime", &c->mtime_ns, err) ||
	    get_i64_str(o, "atime", &c->atime_ns, err))
		return -EBADMSG;
	TRY_JSON(json_get_str(o, "time", &rule, true, err));
	if (!strcmp(rule, "exact"))
		c->exact_times = true;
	else if (strcmp(rule, "fresh"))
		return bad(err, "unknown time rule '%.20s'", rule);
	c->has_times = true;
	return 0;
}

/*
 * "xattrs" of a change (the format at the top): [[name, hex value], ...],
 * non-empty, sorted by name without repeats; no private name.
 */
static int parse_change_xattrs(const cJSON *o, struct change *c,
			       struct strbuf *err)
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(o, "xattrs"), *pair;

	if (!arr)
		return 0;
	if (!cJSON_IsArray(arr) || !cJSON_GetArraySize(arr))
		return bad(err, "xattrs: not a non-empty array");
	cJSON_ArrayForEach(pair, arr)
	{
		const cJSON *name = cJSON_GetArrayItem(pair, 0);
		const cJSON *val = cJSON_GetArrayItem(pair, 1);
		size_t hexlen, len;
		unsigned char *v;

		if (!cJSON_IsArray(pair) || cJSON_GetArraySize(pair) != 2 ||
		    !cJSON_IsString(name) || !cJSON_IsString(val))
			return bad(err, "xattrs: not a [name, value] pair");
		if (!*name->valuestring || strlen(name->valuestring) > 255 ||
		    !strchr(name->valuestring, '.') ||
		    xattr_name_private(name->valuestring))
			return bad(err, "xattrs: bad name '%.60s'", name->valuestring);
		if (c->xattrs.nr &&
		    strcmp(c->xattrs.v[c->xattrs.nr - 1].name, name->valuestring) >= 0)
			return bad(err, "xattrs: names not sorted or repeated");
		hexlen = strlen(val->valuestring);
		if (hexlen % 2 || hexlen / 2 > 65536)
			return bad(err, "xattrs: bad value of '%.60s'", name->valuestring);
		len = hexlen / 2;
		v = xmalloc(len ? len : 1);
		if (hex_decode(val->valuestring, hexlen, v) < 0) {
			free(v);
			return bad(err, "xattrs: bad value of '%.60s'", name->valuestring);
		}
		xattr_set_add(&c->xattrs, name->valuestring, v, len);
		free(v);
	}
	if (c->kind == CHANGE_DELETE)
		return bad(err, "xattrs on a deletion");
	return 0;
}

static int parse_change(const cJSON *o, struct change *c, bool rel,
			struct strbuf *err)
{
	static const char *const k_file[] = { "kind", "path", "blob", "size", "mode",
		"mtime", "atime", "time", "xattrs", NULL };
	static const char *const k_dir[] = { "kind", "path", "mode", "mtime", "atime",
		"time", "xattrs", NULL };
	static const char *const k_mode[] = { "kind", "path", "mode", "xattrs", NULL };
	static const char *const k_symlink[] = { "kind", "path", "target", "mtime",
		"atime", "time", "xattrs", NULL };
	static const char *const k_delete[] = { "kind", "path", NULL };
	const char *kind, *s;

	if (!cJSON_IsObject(o))
		return bad(err, "change is not an object");
	TRY_JSON(json_get_str(o, "kind", &kind, true, err));
	if (!strcmp(kind, "file")) {
		c->kind = CHANGE_FILE;
		TRY_JSON(json_check_keys(o, k_file, err));
		if (get_hash(o, "blob", &c->blob, err) ||
		    get_mode(o, &c->mode, err))
			return -EBADMSG;
		TRY_JSON(json_get_u64(o, "size", &c->size, true, err));
		c->has_blob = true;
	} else if (!strcmp(kind, "dir") || !strcmp(kind, "dir_replaced") ||
		   !strcmp(kind, "mode")) {
		c->kind = !strcmp(kind, "dir")		? CHANGE_DIR
			  : !strcmp(kind, "mode")	? CHANGE_MODE
							: CHANGE_DIR_REPLACED;
		TRY_JSON(json_check_keys(o, c->kind == CHANGE_MODE ? k_mode : k_dir, err));
		if (get_mode(o, &c->mode, err))
			return -EBADMSG;
	} else if (!strcmp(kind, "symlink")) {
		c->kind = CHANGE_SYMLINK;
		TRY_JSON(json_check_keys(o, k_symlink, err));
		TRY_JSON(json_get_str(o, "target", &s, true, err));
		if (!*s)
			return bad(err, "empty symlink target");
		c->target = xstrdup(s);
	} else if (!strcmp(kind, "delete")) {
		c->kind = CHANGE_DELETE;
		TRY_JSON(json_check_keys(o, k_delete, err));
	} else {
		return bad(err, "unknown change kind '%.40s'", kind);
	}
	if (parse_change_times(o, c, err) || parse_change_xattrs(o, c, err))
		return -EBADMSG;
	return get_path(o, &c->path, false, rel, err);
}

static int parse_output(const cJSON *res, const char *key, struct output *out,
			struct strbuf *err)
{
	static const char *const keys[] = { "blob", "size", NULL };
	const cJSON *o;

	TRY_JSON(json_get_object(res, key, &o, true, err));
	TRY_JSON(json_check_keys(o, keys, err));
	if (get_hash(o, "blob", &out->hash, err))
		return -EBADMSG;
	TRY_JSON(json_get_u64(o, "size", &out->size, true, err));
	return 0;
}

static int parse_key_fields(const cJSON *arr, struct cache_entry *e,
			    struct strbuf *err)
{
	const cJSON *t;
	size_t n = (size_t)cJSON_GetArraySize(arr), i = 0;

	e->fields = xcalloc(n ? n : 1, sizeof(*e->fields));
	cJSON_ArrayForEach(t, arr)
	{
		const cJSON *tag = cJSON_GetArrayItem(t, 0);
		const cJSON *type = cJSON_GetArrayItem(t, 1);
		const cJSON *val = cJSON_GetArrayItem(t, 2);
		struct key_field *f = &e->fields[i];
		const char *why;

		if (!cJSON_IsArray(t) || cJSON_GetArraySize(t) != 3 ||
		    !cJSON_IsString(tag) || !cJSON_IsString(type) ||
		    !cJSON_IsString(val) || !*tag->valuestring ||
		    strlen(type->valuestring) != 1)
			return bad(err, "bad key field %zu", i);
		if (!key_tag_valid(tag->valuestring))
			return bad(err, "bad key field tag");
		f->tag = xstrdup(tag->valuestring);
		f->type = type->valuestring[0];
		e->nr_fields = ++i;
		why = key_field_set_value(f, val->valuestring);
		if (why)
			return bad(err, "key field '%s': %s", f->tag, why);
	}
	return 0;
}

static int decode_payload(const cJSON *root, struct cache_entry *e,
			  struct strbuf *err)
{
	static const char *const k_top[] = { "key", "key_fields", "preconditions", "result", "duration_s", "created", "procache", "base_relative", NULL };
	static const char *const k_res[] = { "exit", "stdout", "stderr", "changes", NULL };
	static const char *const k_code[] = { "code", NULL };
	static const char *const k_sig[] = { "signal", NULL };
	const cJSON *arr, *res, *ex, *it, *dur;
	const char *s;
	struct pc_hash kh, kh2;
	uint64_t v;
	int64_t created;
	size_t n;

	TRY_JSON(json_check_keys(root, k_top, err));
	if (cJSON_GetObjectItemCaseSensitive(root, "base_relative")) {
		if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, "base_relative")))
			return bad(err, "base_relative is not true");
		e->base_relative = true;
	}
	if (get_hash(root, "key", &kh, err))
		return -EBADMSG;
	pc_hash_to_hex(&kh, e->key_hex);
	TRY_JSON(json_get_array(root, "key_fields", &arr, true, err));
	if (parse_key_fields(arr, e, err))
		return -EBADMSG;
	key_fields_hash(e->fields, e->nr_fields, &kh2);
	if (!pc_hash_equal(&kh, &kh2))
		return bad(err, "key fields do not hash to the key");

	TRY_JSON(json_get_array(root, "preconditions", &arr, true, err));
	n = (size_t)cJSON_GetArraySize(arr);
	e->pre = xcalloc(n ? n : 1, sizeof(*e->pre));
	e->alloc_pre = n ? n : 1;
	cJSON_ArrayForEach(it, arr)
	{
		e->nr_pre++;
		if (parse_pre(it, &e->pre[e->nr_pre - 1], e->base_relative, err))
			return -EBADMSG;
	}

	TRY_JSON(json_get_object(root, "result", &res, true, err));
	TRY_JSON(json_check_keys(res, k_res, err));
	TRY_JSON(json_get_object(res, "exit", &ex, true, err));
	if (cJSON_GetObjectItemCaseSensitive(ex, "signal")) {
		TRY_JSON(json_check_keys(ex, k_sig, err));
		TRY_JSON(json_get_u64(ex, "signal", &v, true, err));
		if (v < 1 || v > 64)
			return bad(err, "signal %" PRIu64 " out of range", v);
		e->signal = (int)v;
	} else {
		TRY_JSON(json_check_keys(ex, k_code, err));
		TRY_JSON(json_get_u64(ex, "code", &v, true, err));
		if (v > 255)
			return bad(err, "exit code %" PRIu64 " out of range", v);
		e->exit_code = (int)v;
	}
	if (parse_output(res, "stdout", &e->out[0], err) ||
	    parse_output(res, "stderr", &e->out[1], err))
		return -EBADMSG;
	TRY_JSON(json_get_array(res, "changes", &arr, true, err));
	n = (size_t)cJSON_GetArraySize(arr);
	e->ch = xcalloc(n ? n : 1, sizeof(*e->ch));
	e->alloc_ch = n ? n : 1;
	cJSON_ArrayForEach(it, arr)
	{
		e->nr_ch++;
		if (parse_change(it, &e->ch[e->nr_ch - 1], e->base_relative, err))
			return -EBADMSG;
	}

	dur = cJSON_GetObjectItemCaseSensitive(root, "duration_s");
	if (!cJSON_IsNumber(dur) || !(dur->valuedouble >= 0) ||
	    dur->valuedouble > 1e12)
		return bad(err, "bad duration_s");
	e->duration = dur->valuedouble;
	TRY_JSON(json_get_i64(root, "created", &created, true, err));
	e->created = created;
	TRY_JSON(json_get_str(root, "procache", &s, true, err));
	e->version = xstrdup(s);
	return 0;
}

int entry_json_decode(const char *text, size_t len, struct cache_entry *e,
		      struct strbuf *err)
{
	_cleanup_cjson_ cJSON *root = NULL;

	if (json_parse(text, len, &root, err) < 0)
		return -EBADMSG;
	if (decode_payload(root, e, err) < 0) {
		if (err && !err->len)
			strbuf_addstr(err, "bad entry");
		return -EBADMSG;
	}
	return 0;
}
