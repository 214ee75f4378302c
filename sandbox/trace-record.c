/*
 * The tracer's records (trace-internal.h): the observations, found again
 * by (kind, path) through an open-addressing table, the taint reasons,
 * and the caches of lookups already recorded (seen, hostdirs) with the
 * one event that invalidates them. Also the list of host files that
 * change by themselves, which no observation can describe.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "common/path.h"
#include "common/xalloc.h"
#include "common/xattr.h"
#include "sandbox/trace-internal.h"

#include "common/banned.h"

static uint64_t obs_key(enum trace_obs_kind kind, const char *path)
{
	/* small and hot: one-shot over the path, seeded with the kind */
	return XXH3_64bits_withSeed(path, strlen(path), (unsigned char)kind + 1);
}

static void map_insert(struct trace *t, size_t idx)
{
	const struct trace_obs *o = &t->obs[idx];
	size_t mask = t->map_size - 1;
	size_t pos = obs_key(o->kind, o->path) & mask;

	while (t->map[pos])
		pos = (pos + 1) & mask;
	t->map[pos] = (uint32_t)(idx + 1);
}

static void map_grow(struct trace *t)
{
	size_t i;

	free(t->map);
	t->map_size = t->map_size ? t->map_size * 2 : 1024;
	t->map = xcalloc(t->map_size, sizeof(*t->map));
	for (i = 0; i < t->nr_obs; i++)
		map_insert(t, i);
}

struct trace_obs *trace_obs_find(struct trace *t, enum trace_obs_kind kind,
				 const char *path)
{
	size_t mask, pos;

	if (!t->map_size)
		return NULL;
	mask = t->map_size - 1;
	pos = obs_key(kind, path) & mask;
	while (t->map[pos]) {
		struct trace_obs *o = &t->obs[t->map[pos] - 1];

		if (o->kind == kind && !strcmp(o->path, path))
			return o;
		pos = (pos + 1) & mask;
	}
	return NULL;
}

struct trace_obs *trace_obs_add(struct trace *t, enum trace_obs_kind kind,
				const char *path, const char *sc,
				const struct stat *st)
{
	struct trace_obs *o = trace_obs_find(t, kind, path);

	if (o) {
		/* a call observed it: no longer for access alone (trace.h) */
		o->access = false;
		return NULL;
	}
	ALLOC_GROW(t->obs, t->nr_obs + 1, t->alloc_obs);
	o = &t->obs[t->nr_obs++];
	memset(o, 0, sizeof(*o));
	o->kind = kind;
	o->path = xstrdup(path);
	o->syscall = sc;
	if (st)
		o->st = *st;
	if ((t->nr_obs + 1) * 2 > t->map_size)
		map_grow(t);
	else
		map_insert(t, t->nr_obs - 1);
	return o;
}

void trace_record_xattrs_path(struct trace *t, const char *hostpath,
			      const char *sc)
{
	struct trace_obs *o;

	if (trace_obs_find(t, TRACE_XATTRS, hostpath))
		return;
	o = trace_obs_add(t, TRACE_XATTRS, hostpath, sc, NULL);
	xattr_hash_path(hostpath, &o->hash);
	o->hashed = true;
}

void trace_record_xattrs(struct trace *t, const struct res *r, const char *sc)
{
	if (r->status != RES_FOUND || r->where != W_HOST)
		return;
	trace_record_xattrs_path(t, r->hostpath.buf, sc);
}

void trace_forget_resolutions(struct trace *t, const char *path)
{
	strmap_clear(&t->hostdirs);
	if (path)
		trace_forget_seen_path(t, path);
	else
		trace_forget_seen(t);
}

void trace_forget_seen(struct trace *t)
{
	size_t i;

	strmap_clear(&t->seen);
	t->nr_seen_ids = 0;
	strmap_clear(&t->visited);
	for (i = 0; i < t->nr_visit_nodes; i++) {
		free(t->visit_nodes[i].ids);
		free(t->visit_nodes[i].kids);
	}
	t->nr_visit_nodes = 0;
	trace_fast_forget(t); /* and the channel's copy (DESIGN §3.1) */
}

long trace_seen_find(const struct trace *t, const char *key, size_t len)
{
	long id = strmap_get(&t->seen, key, len);

	return id >= 0 && t->seen_valid[id] ? id : -1;
}

bool trace_seen_valid(const struct trace *t, long id)
{
	return id >= 0 && (size_t)id < t->nr_seen_ids && t->seen_valid[id];
}

/* The node of the visited job-view @path (absolute, clean), made if new. */
static long visit_node(struct trace *t, const char *path, size_t len)
{
	long n = strmap_get(&t->visited, path, len), parent;
	const char *sl;

	if (n >= 0)
		return n;
	/* its parent first ("/" has none): the tree a forget walks down */
	sl = len > 1 ? memrchr(path, '/', len) : NULL;
	parent = sl ? visit_node(t, path, sl == path ? 1 : (size_t)(sl - path)) : -1;
	ALLOC_GROW(t->visit_nodes, t->nr_visit_nodes + 1, t->alloc_visit_nodes);
	n = (long)t->nr_visit_nodes++;
	memset(&t->visit_nodes[n], 0, sizeof(t->visit_nodes[n]));
	strmap_put(&t->visited, path, len, n);
	if (parent >= 0) {
		struct visit_node *pn = &t->visit_nodes[parent];

		ALLOC_GROW(pn->kids, pn->nr_kids + 1, pn->alloc_kids);
		pn->kids[pn->nr_kids++] = n;
	}
	return n;
}

long trace_seen_enter(struct trace *t, const struct res *r)
{
	long id = strmap_put(&t->seen, r->key.buf, r->key.len, (long)t->nr_seen_ids);
	const char *p, *end = r->visited.buf + r->visited.len;

	if (id < 0) {
		ALLOC_GROW(t->seen_valid, t->nr_seen_ids + 1, t->alloc_seen_ids);
		id = (long)t->nr_seen_ids++;
	}
	t->seen_valid[id] = true;
	for (p = r->visited.buf; p < end; p += strlen(p) + 1) {
		long n = visit_node(t, p, strlen(p)); /* may move visit_nodes */
		struct visit_node *vn = &t->visit_nodes[n];

		if (vn->nr_ids && vn->ids[vn->nr_ids - 1] == id)
			continue; /* "." and ".." visit a path twice */
		ALLOC_GROW(vn->ids, vn->nr_ids + 1, vn->alloc_ids);
		vn->ids[vn->nr_ids++] = id;
	}
	return id;
}

void trace_forget_seen_path(struct trace *t, const char *path)
{
	long n = strmap_get(&t->visited, path, strlen(path));
	long *stack = NULL;
	size_t nr = 0, alloc = 0, i;
	bool dropped = false;

	if (n < 0)
		return; /* no lookup of the set looked at it or below it */
	ALLOC_GROW(stack, nr + 1, alloc);
	stack[nr++] = n;
	while (nr) {
		struct visit_node *vn = &t->visit_nodes[stack[--nr]];

		for (i = 0; i < vn->nr_ids; i++) {
			dropped |= t->seen_valid[vn->ids[i]];
			t->seen_valid[vn->ids[i]] = false;
		}
		vn->nr_ids = 0;
		if (!vn->nr_kids)
			continue; /* (kids is NULL then) */
		ALLOC_GROW(stack, nr + vn->nr_kids, alloc);
		memcpy(stack + nr, vn->kids, vn->nr_kids * sizeof(*stack));
		nr += vn->nr_kids;
	}
	free(stack);
	if (dropped)
		trace_fast_seen_drop(t);
}

void trace_jobtime_mark(struct trace *t, const char *path, unsigned flags)
{
	size_t len = strlen(path);
	long i = strmap_get(&t->jobtime_index, path, len);

	if (i >= 0) {
		t->jobtimes[i].flags |= flags;
		return;
	}
	ALLOC_GROW(t->jobtimes, t->nr_jobtimes + 1, t->alloc_jobtimes);
	t->jobtimes[t->nr_jobtimes].path = xstrdup(path);
	t->jobtimes[t->nr_jobtimes].flags = flags;
	strmap_put(&t->jobtime_index, path, len, (long)t->nr_jobtimes++);
}

void trace_jobtime_unmark(struct trace *t, const char *path, unsigned flags)
{
	long i = strmap_get(&t->jobtime_index, path, strlen(path));

	if (i >= 0)
		t->jobtimes[i].flags &= ~flags;
}

void trace_jobtime_rename(struct trace *t, const char *from, const char *to)
{
	size_t i, n = t->nr_jobtimes, flen = strlen(from);

	/* Marks are few (outputs whose times were set or seen): a scan. */
	for (i = 0; i < n; i++) {
		const char *p = t->jobtimes[i].path;
		unsigned flags = t->jobtimes[i].flags;
		char *moved;

		if (!flags || !path_has_prefix_component(p, from))
			continue;
		moved = xasprintf("%s%s", to, p + flen);
		t->jobtimes[i].flags = 0; /* the old name is gone */
		trace_jobtime_mark(t, moved, flags);
		free(moved);
	}
}

unsigned trace_job_times(const struct trace *t, const char *path)
{
	long i = strmap_get(&t->jobtime_index, path, strlen(path));

	return i >= 0 ? t->jobtimes[i].flags : 0;
}

void trace_taint(struct trace *t, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;
	size_t i;

	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	/* it taints the units the caller is in too (DESIGN §13.6) */
	trace_nest_refuse(t, t->nest_pid, sb.buf);
	for (i = 0; i < t->nr_taints; i++) {
		if (!strcmp(t->taints[i], sb.buf)) {
			strbuf_release(&sb);
			return;
		}
	}
	ALLOC_GROW(t->taints, t->nr_taints + 1, t->alloc_taints);
	t->taints[t->nr_taints++] = strbuf_detach(&sb, NULL);
}

void trace_synthetic_read(struct trace *t, const char *path)
{
	/*
	 * The generated files are a function of the key's hostfacts fields
	 * (a unit's too), but for /proc/cpuinfo, which shows the host's
	 * CPUs: NEEDSWORK, not a unit's observation yet.
	 */
	if (!strcmp(path, "/proc/cpuinfo"))
		trace_nest_refuse(t, t->nest_pid, "reads /proc/cpuinfo");
	size_t i;

	for (i = 0; i < t->nr_synthetic; i++)
		if (!strcmp(t->synthetic[i], path))
			return;
	ALLOC_GROW(t->synthetic, t->nr_synthetic + 1, t->alloc_synthetic);
	t->synthetic[t->nr_synthetic++] = xstrdup(path);
}

size_t trace_nr_synthetic(const struct trace *t)
{
	return t->nr_synthetic;
}

const char *trace_synthetic_at(const struct trace *t, size_t i)
{
	return t->synthetic[i];
}

void trace_location(struct trace *t, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	if (t->location_seen)
		return;
	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	t->location_seen = strbuf_detach(&sb, NULL);
}

bool trace_in_location(const struct trace *t, const char *path)
{
	return t->cfg.location_dir && path_is_beneath(path, t->cfg.location_dir);
}

void trace_records_release(struct trace *t)
{
	size_t i;

	for (i = 0; i < t->nr_obs; i++) {
		free(t->obs[i].path);
		free(t->obs[i].value);
	}
	free(t->obs);
	free(t->map);
	strmap_release(&t->seen);
	free(t->seen_valid);
	strmap_release(&t->visited);
	for (i = 0; i < t->nr_visit_nodes; i++) {
		free(t->visit_nodes[i].ids);
		free(t->visit_nodes[i].kids);
	}
	free(t->visit_nodes);
	strmap_release(&t->hostdirs);
	strmap_release(&t->flags_checked);
	strmap_release(&t->searched);
	strbuf_release(&t->scratch_name);
	strbuf_release(&t->scratch_base);
	strbuf_release(&t->scratch_key);
	for (i = 0; i < t->nr_jobtimes; i++)
		free(t->jobtimes[i].path);
	free(t->jobtimes);
	strmap_release(&t->jobtime_index);
	for (i = 0; i < t->nr_taints; i++)
		free(t->taints[i]);
	free(t->taints);
	for (i = 0; i < t->nr_synthetic; i++)
		free(t->synthetic[i]);
	free(t->synthetic);
	free(t->location_seen);
}

static const char *const always_changing[] = {
	"/proc/meminfo", "/proc/stat", "/proc/uptime", "/proc/loadavg",
	"/proc/interrupts", "/proc/vmstat", "/proc/diskstats", "/proc/net",
	"/proc/pressure", "/proc/softirqs", "/proc/schedstat",
	"/proc/zoneinfo", "/proc/slabinfo", "/proc/buddyinfo",
	"/proc/sys/kernel/random", "/proc/locks", "/sys/fs/cgroup",
};

/*
 * Under /sys/fs/cgroup, the files that say how a cgroup is configured
 * change only when someone configures it: they are read as any host file
 * (content), not tainting. Build tools read them to size their
 * parallelism (ninja: cpu.cfs_quota_us; Go, the JVM: cpu.max,
 * memory.max). The counters (memory.current, cpu.stat...) still taint.
 */
static const char *const cgroup_settings[] = {
	"cpu.max", "cpu.weight", "cpu.cfs_quota_us", "cpu.cfs_period_us",
	"cpu.shares", "cpuset.cpus", "cpuset.cpus.effective", "cpuset.mems",
	"cpuset.mems.effective", "cpuset.effective_cpus", "cpuset.effective_mems",
	"memory.max", "memory.high", "memory.low", "memory.min",
	"memory.swap.max", "memory.limit_in_bytes", "memory.soft_limit_in_bytes",
	"memory.memsw.limit_in_bytes", "pids.max", "cgroup.controllers",
	"cgroup.subtree_control", "cgroup.type",
};

static bool is_cgroup_setting(const char *hostpath)
{
	const char *base = strrchr(hostpath, '/');
	size_t i;

	if (!path_has_prefix_component(hostpath, "/sys/fs/cgroup") || !base)
		return false;
	for (i = 0; i < ARRAY_SIZE(cgroup_settings); i++)
		if (!strcmp(base + 1, cgroup_settings[i]))
			return true;
	return false;
}

bool trace_is_always_changing(const char *hostpath)
{
	static const char *const node_counters[] = { "meminfo", "numastat", "vmstat" };
	const char *base = strrchr(hostpath, '/');
	size_t i;

	/* NUMA nodes' counters (node 0's are generated: §2 "Host facts") */
	if (base && path_has_prefix_component(hostpath, "/sys/devices/system/node"))
		for (i = 0; i < ARRAY_SIZE(node_counters); i++)
			if (!strcmp(base + 1, node_counters[i]))
				return true;

	for (i = 0; i < ARRAY_SIZE(always_changing); i++)
		if (path_has_prefix_component(hostpath, always_changing[i]))
			return !is_cgroup_setting(hostpath);
	return false;
}

bool trace_record_always_changing(struct trace *t, const char *hostpath,
				  const char *sc)
{
	if (!trace_is_always_changing(hostpath))
		return false;
	trace_taint(t, "syscall %s: reads always-changing host file %s", sc,
		    hostpath);
	return true;
}
