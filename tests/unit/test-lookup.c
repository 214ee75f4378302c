/*
 * Lookup: candidate order, every precondition kind, explain, integrity.
 *
 * Run without arguments, this is a unit test. Run as
 *	test-lookup driver store|lookup|apply [OPTIONS]
 * it is the small C driver the shell tests (tests/t0300-cache*.sh) and
 * benchmarks use to store and look up entries before `procache run`
 * exists, with the cache in $PROCACHE_DIR:
 *	-k TAG=VALUE	a key field (in order; at least one)
 *	-c PATH		content precondition (hashed now)
 *	-a PATH		absent precondition
 *	-s PATH		stat precondition (lstat now)
 *	-l PATH		listing precondition (listed now)
 *	-y PATH		symlink precondition (read now)
 *	-C FILE		content preconditions: one path per line of FILE
 *	-o PATH=SRC	a FILE change (SRC is moved into the blob store)
 *	-d PATH		a DIR change (mode 0755)
 *	-O FILE		captured stdout (moved into the blob store)
 *	-x N		exit code
 *	-e		explain (lookup, apply): print the JSON to stdout
 *	-r ROOT		output root for apply
 *	-n N		lookup: repeat N times, print the mean time in µs
 *	-p		store: copy the captured files (-o, -O), leaving them
 * uncacheable REASON counts an uncacheable run.
 * store prints the entry id; lookup prints "hit ID" (exit 0) or "miss"
 * (exit 1); apply applies a hit under ROOT and writes its stdout.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "cache/cache.h"
#include "cache/internal.h"
#include "cache/materialize.h"
#include "common/cleanup.h"
#include "common/cpus.h"
#include "common/dirlist.h"
#include "common/fdio.h"
#include "common/hash.h"
#include "common/path.h"
#include "common/strbuf.h"
#include "common/units.h"

#include "tests/unit/unit.h"
#include "tests/unit/cache-test.h"

/* ---- driver ----------------------------------------------------------- */

static int driver(int argc, char **argv)
{
	struct strbuf err = STRBUF_INIT;
	struct cache_key *k = cache_key_new();
	struct cache_record *r = NULL;
	struct cache_entry *e = NULL;
	struct cache_explain *ex = NULL;
	struct cache *c;
	const char *cmd = argv[1], *dir = getenv("PROCACHE_DIR");
	const char *max = getenv("PROCACHE_MAX_SIZE");
	const char *root = NULL;
	uint64_t max_size = 0;
	bool explain = false;
	long repeat = 0;
	int opt, rc = 0;

	/* The size limit as the runner takes it (tests/t0300-cache.sh). */
	if (max && *max && parse_size(max, &max_size) < 0)
		die("invalid PROCACHE_MAX_SIZE '%s'", max);
	if (!dir || cache_open(dir, max_size, &c, &err) < 0)
		die("cannot open cache: %s", err.buf);
	/* First pass: key fields (a record needs the whole key). */
	optind = 2;
	while ((opt = getopt(argc, argv, "k:c:a:s:l:y:C:o:d:O:x:er:n:p")) != -1) {
		if (opt == 'k') {
			char *eq = strchr(optarg, '=');

			if (!eq)
				die("-k wants TAG=VALUE");
			*eq = '\0';
			cache_key_add_str(k, optarg, eq + 1);
			*eq = '=';
		} else if (opt == '?') {
			die("bad driver option");
		}
	}
	r = cache_record_new(k);
	optind = 2;
	while ((opt = getopt(argc, argv, "k:c:a:s:l:y:C:o:d:O:x:er:n:p")) != -1) {
		struct pc_hash h;
		struct stat st;

		switch (opt) {
		case 'c':
			if (lstat(optarg, &st) < 0 ||
			    pc_hash_file_at(AT_FDCWD, optarg, &h, NULL) < 0)
				die_errno("cannot hash '%s'", optarg);
			cache_record_add_content(r, optarg, &h, st.st_mode);
			break;
		case 'C': {
			FILE *f = fopen(optarg, "re");
			char *line = NULL;
			size_t cap = 0;
			ssize_t n;

			if (!f)
				die_errno("cannot open '%s'", optarg);
			while ((n = getline(&line, &cap, f)) > 0) {
				if (line[n - 1] == '\n')
					line[n - 1] = '\0';
				if (lstat(line, &st) < 0 ||
				    pc_hash_file_at(AT_FDCWD, line, &h, NULL) < 0)
					die_errno("cannot hash '%s'", line);
				cache_record_add_content(r, line, &h, st.st_mode);
			}
			free(line);
			fclose(f);
			break;
		}
		case 'a':
			cache_record_add_absent(r, optarg);
			break;
		case 's':
			if (lstat(optarg, &st) < 0)
				die_errno("cannot lstat '%s'", optarg);
			cache_record_add_stat(r, optarg, &st, false);
			break;
		case 'l':
			if (dirlist_hash_at(AT_FDCWD, optarg, &h, NULL) < 0)
				die("cannot list '%s'", optarg);
			cache_record_add_listing(r, optarg, &h);
			break;
		case 'y': {
			char buf[4096];
			ssize_t n = readlink(optarg, buf, sizeof(buf) - 1);

			if (n < 0)
				die_errno("cannot readlink '%s'", optarg);
			buf[n] = '\0';
			cache_record_add_symlink(r, optarg, buf);
			break;
		}
		case 'o': {
			char *eq = strchr(optarg, '=');

			if (!eq)
				die("-o wants PATH=SRC");
			*eq = '\0';
			cache_record_add_change(r, CHANGE_FILE, optarg, 0644,
						eq + 1, NULL);
			break;
		}
		case 'd':
			cache_record_add_change(r, CHANGE_DIR, optarg, 0755,
						NULL, NULL);
			break;
		case 'O':
			cache_record_set_output(r, 1, optarg);
			break;
		case 'x':
			cache_record_set_exit(r, atoi(optarg), 0);
			break;
		case 'e':
			explain = true;
			break;
		case 'r':
			root = optarg;
			break;
		case 'n':
			repeat = atol(optarg);
			break;
		case 'p':
			cache_record_set_copy_files(r);
			break;
		default:
			break;
		}
	}
	if (!strcmp(cmd, "store")) {
		cache_record_set_duration(r, 1.5);
		if (cache_store(c, r, &e, &err) < 0)
			die("store failed: %s", err.buf);
		printf("%s\n", cache_entry_id(e));
	} else if (!strcmp(cmd, "lookup") || !strcmp(cmd, "apply")) {
		struct timespec t0, t1;
		long i;
		int hit = 0;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		for (i = 0; i < (repeat > 0 ? repeat : 1); i++) {
			cache_entry_free(e);
			cache_explain_free(ex);
			e = NULL;
			ex = NULL;
			hit = cache_lookup(c, k, explain ? CACHE_LOOKUP_EXPLAIN : 0,
					   &e, &ex, &err);
			if (hit < 0)
				die("lookup failed: %s", err.buf);
		}
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if (repeat > 0)
			printf("%.1f\n", ((double)(t1.tv_sec - t0.tv_sec) * 1e6 +
					  (double)(t1.tv_nsec - t0.tv_nsec) / 1e3) /
						 (double)repeat);
		if (explain) {
			cJSON *j = cache_explain_json(ex);
			char *s = cJSON_Print(j);

			printf("%s\n", s);
			free(s);
			cJSON_Delete(j);
			cache_explain_print(ex, stderr);
		}
		if (repeat <= 0)
			cache_stats_record(c, hit ? CACHE_HIT : CACHE_MISS, NULL,
					   hit ? cache_entry_duration(e) : 0);
		if (!strcmp(cmd, "lookup")) {
			if (repeat <= 0)
				printf(hit ? "hit %s\n" : "miss\n",
				       hit ? cache_entry_id(e) : "");
			rc = hit ? 0 : 1;
		} else if (!hit) {
			rc = 1;
		} else {
			const char *roots[] = { root, NULL };
			struct mat_report rep;

			if (!root)
				die("apply needs -r ROOT");
			mat_report_init(&rep);
			if (cache_entry_apply(c, e, roots, 0, &rep, &err) < 0)
				die("apply failed: %s", err.buf);
			mat_report_release(&rep);
			if (cache_entry_write_output(c, e, 1, 1, &err) < 0)
				die("output failed: %s", err.buf);
		}
	} else if (!strcmp(cmd, "uncacheable")) {
		cache_stats_record(c, CACHE_UNCACHEABLE, argv[argc - 1], 0);
	} else {
		die("unknown driver command '%s'", cmd);
	}
	cache_entry_free(e);
	cache_explain_free(ex);
	cache_record_free(r);
	cache_key_free(k);
	cache_close(c);
	strbuf_release(&err);
	return rc;
}

/* ---- unit tests ------------------------------------------------------- */

static struct cache_key *key_of(const char *argv0, const char *env)
{
	struct cache_key *k = cache_key_new();

	cache_key_add_str(k, "format", "procache-key-1");
	cache_key_add_u64(k, "argc", 1);
	cache_key_add_str(k, "argv", argv0);
	if (env)
		cache_key_add_str(k, "env", env);
	cache_key_add_str(k, "cwd", "/tmp");
	return k;
}

/* Store an entry of key @k with content preconditions on @paths. */
static char *store_with(struct cache *c, struct cache_key *k,
			const char *const *paths, int exit_code)
{
	struct strbuf err = STRBUF_INIT;
	struct cache_record *r = cache_record_new(k);
	struct cache_entry *e = NULL;
	char *id;
	size_t i;

	for (i = 0; paths && paths[i]; i++) {
		struct pc_hash h;
		struct stat st;

		if (lstat(paths[i], &st) == 0) {
			pc_hash_file_at(AT_FDCWD, paths[i], &h, NULL);
			cache_record_add_content(r, paths[i], &h, st.st_mode);
		} else {
			cache_record_add_absent(r, paths[i]);
		}
	}
	cache_record_set_exit(r, exit_code, 0);
	if (cache_store(c, r, &e, &err) < 0)
		die("store: %s", err.buf);
	id = xstrdup(cache_entry_id(e));
	cache_entry_free(e);
	cache_record_free(r);
	strbuf_release(&err);
	return id;
}

static int lookup_exit(struct cache *c, struct cache_key *k, char **id)
{
	struct strbuf err = STRBUF_INIT;
	struct cache_entry *e = NULL;
	int r = cache_lookup(c, k, 0, &e, NULL, &err), code = -1;

	if (r == 1) {
		code = cache_entry_exit_code(e);
		if (id)
			*id = xstrdup(cache_entry_id(e));
	}
	cache_entry_free(e);
	strbuf_release(&err);
	return r == 1 ? code : -1;
}

TEST(test_miss_then_hit)
{
	struct cache *c = open_tmp_cache();
	struct cache_key *k = key_of("cc", "PATH=/bin");
	const char *dir = unit_tmpdir();
	char *in = path_join(dir, "in.c");
	const char *paths[] = { in, NULL };
	char *id;

	write_file(in, "int x;\n");
	CHECK_EQ_INT(lookup_exit(c, k, NULL), -1);
	id = store_with(c, k, paths, 3);
	CHECK_EQ_INT(lookup_exit(c, k, NULL), 3);
	write_file(in, "int y;\n");
	CHECK_EQ_INT(lookup_exit(c, k, NULL), -1);
	write_file(in, "int x;\n");
	CHECK_EQ_INT(lookup_exit(c, k, NULL), 3);
	free(id);
	free(in);
	cache_key_free(k);
	cache_close(c);
}

TEST(test_many_candidates_right_one)
{
	struct cache *c = open_tmp_cache();
	struct cache_key *k = key_of("gen", NULL);
	const char *dir = unit_tmpdir();
	char *in = path_join(dir, "variant");
	const char *paths[] = { in, NULL };
	char text[32];
	int i;

	/* Ten runs, each having seen another content of the same input. */
	for (i = 0; i < 10; i++) {
		snprintf(text, sizeof(text), "v%d\n", i);
		write_file(in, text);
		free(store_with(c, k, paths, 10 + i));
	}
	for (i = 0; i < 10; i++) {
		snprintf(text, sizeof(text), "v%d\n", i);
		write_file(in, text);
		CHECK_EQ_INT(lookup_exit(c, k, NULL), 10 + i);
	}
	write_file(in, "v-none\n");
	CHECK_EQ_INT(lookup_exit(c, k, NULL), -1);
	free(in);
	cache_key_free(k);
	cache_close(c);
}

TEST(test_most_recently_used_first)
{
	struct cache *c = open_tmp_cache();
	struct cache_key *k = key_of("mru", NULL);
	const char *dir = unit_tmpdir();
	char *a = path_join(dir, "a"), *b = path_join(dir, "b");
	const char *pa[] = { a, NULL }, *pb[] = { b, NULL };
	char *ida, *idb, *got = NULL;
	struct timespec old[2] = { { 1000000000, 0 }, { 1000000000, 0 } };
	struct strbuf rel = STRBUF_INIT;

	write_file(a, "a");
	write_file(b, "b");
	/* Both hold; whichever was used last must be chosen. */
	ida = store_with(c, k, pa, 1);
	idb = store_with(c, k, pb, 2);
	strbuf_addf(&rel, "%s/keys/%.2s/%s.entry", cache_path(c), idb, idb);
	CHECK(utimensat(AT_FDCWD, rel.buf, old, 0) == 0);
	CHECK_EQ_INT(lookup_exit(c, k, &got), 1);
	CHECK_EQ_STR(got, ida);
	free(got);
	got = NULL;
	/* Make b the most recently used. */
	strbuf_reset(&rel);
	strbuf_addf(&rel, "%s/keys/%.2s/%s.entry", cache_path(c), ida, ida);
	CHECK(utimensat(AT_FDCWD, rel.buf, old, 0) == 0);
	strbuf_reset(&rel);
	strbuf_addf(&rel, "%s/keys/%.2s/%s.entry", cache_path(c), idb, idb);
	CHECK(utimensat(AT_FDCWD, rel.buf, NULL, 0) == 0);
	CHECK_EQ_INT(lookup_exit(c, k, &got), 2);
	CHECK_EQ_STR(got, idb);
	free(got);
	strbuf_release(&rel);
	free(ida);
	free(idb);
	free(a);
	free(b);
	cache_key_free(k);
	cache_close(c);
}

TEST(test_every_kind)
{
	struct cache *c = open_tmp_cache();
	struct cache_key *k = key_of("kinds", NULL);
	const char *dir = unit_tmpdir();
	char *f = path_join(dir, "f"), *d = path_join(dir, "d");
	char *l = path_join(dir, "l"), *missing = path_join(dir, "missing");
	char *inner = path_join(d, "x");
	struct strbuf err = STRBUF_INIT;
	struct cache_record *r = cache_record_new(k);
	struct cache_entry *e = NULL;
	struct pc_hash h;
	struct stat st;
	char *newf = path_join(d, "new");

	write_file(f, "content");
	CHECK(mkdir(d, 0755) == 0);
	write_file(inner, "x");
	CHECK(symlink("target", l) == 0);
	lstat(f, &st);
	pc_hash_file_at(AT_FDCWD, f, &h, NULL);
	cache_record_add_content(r, f, &h, st.st_mode);
	cache_record_add_stat(r, f, &st, false);
	dirlist_hash_at(AT_FDCWD, d, &h, NULL);
	cache_record_add_listing(r, d, &h);
	cache_record_add_symlink(r, l, "target");
	cache_record_add_absent(r, missing);
	CHECK(cache_store(c, r, NULL, &err) == 0);
	CHECK_EQ_INT(lookup_exit(c, k, NULL), 0);

	/* Each precondition broken in turn is a miss; restored, a hit. */
	write_file(missing, "");
	CHECK_EQ_INT(lookup_exit(c, k, NULL), -1);
	unlink(missing);
	CHECK_EQ_INT(lookup_exit(c, k, NULL), 0);

	unlink(l);
	CHECK(symlink("other", l) == 0);
	CHECK_EQ_INT(lookup_exit(c, k, NULL), -1);
	unlink(l);
	CHECK(symlink("target", l) == 0);
	CHECK_EQ_INT(lookup_exit(c, k, NULL), 0);

	write_file(newf, "");
	CHECK_EQ_INT(lookup_exit(c, k, NULL), -1);
	unlink(newf);
	CHECK_EQ_INT(lookup_exit(c, k, NULL), 0);

	chmod(f, 0600);
	CHECK_EQ_INT(lookup_exit(c, k, NULL), -1);
	chmod(f, 0644);
	CHECK_EQ_INT(lookup_exit(c, k, NULL), 0);

	cache_entry_free(e);
	cache_record_free(r);
	cache_key_free(k);
	strbuf_release(&err);
	free(f);
	free(d);
	free(l);
	free(missing);
	free(inner);
	free(newf);
	cache_close(c);
}

/*
 * An output precondition (O_TRUNC open): holds for any content of an
 * existing regular file with the recorded mode and owner, or for an absent
 * file in an unchanged parent when creating it gives the same result.
 */
TEST(test_output_precondition)
{
	struct cache *c = open_tmp_cache();
	struct cache_key *k = key_of("output", NULL);
	char *d = path_join(unit_tmpdir(), "outdir");
	char *f = path_join(d, "out.txt");
	struct strbuf err = STRBUF_INIT;
	struct cache_record *r = cache_record_new(k);
	struct stat pst;

	CHECK(mkdir(d, 0755) == 0);
	CHECK(lstat(d, &pst) == 0);
	struct cache_output_pre o = {
		.mode = 0644, .uid = getuid(), .gid = getgid(),
		.create = true, .create_mode = 0644,
		.create_uid = getuid(), .create_gid = getgid(),
		.parent_mode = pst.st_mode, .parent_uid = pst.st_uid,
		.parent_gid = pst.st_gid,
	};
	cache_record_add_output(r, f, &o);
	CHECK(cache_store(c, r, NULL, &err) == 0);

	/* Absent, creatable: a hit. */
	CHECK_EQ_INT(lookup_exit(c, k, NULL), 0);
	/* Present with any content, same mode and owner: a hit. */
	write_file(f, "whatever the last run wrote");
	CHECK(chmod(f, 0644) == 0);
	CHECK_EQ_INT(lookup_exit(c, k, NULL), 0);
	/* Another mode: the job would keep it, the entry would not. */
	CHECK(chmod(f, 0600) == 0);
	CHECK_EQ_INT(lookup_exit(c, k, NULL), -1);
	/* Not a regular file: a miss. */
	CHECK(unlink(f) == 0);
	CHECK(mkdir(f, 0755) == 0);
	CHECK_EQ_INT(lookup_exit(c, k, NULL), -1);
	CHECK(rmdir(f) == 0);
	CHECK(symlink("elsewhere", f) == 0);
	CHECK_EQ_INT(lookup_exit(c, k, NULL), -1);
	CHECK(unlink(f) == 0);
	CHECK_EQ_INT(lookup_exit(c, k, NULL), 0);
	/* The parent changed (mode) or is gone: a miss. */
	CHECK(chmod(d, 0700) == 0);
	CHECK_EQ_INT(lookup_exit(c, k, NULL), -1);
	CHECK(chmod(d, 0755) == 0);
	CHECK_EQ_INT(lookup_exit(c, k, NULL), 0);
	CHECK(rmdir(d) == 0);
	CHECK_EQ_INT(lookup_exit(c, k, NULL), -1);

	/* The entry survives a round trip through the file format. */
	struct cache_entry *e = NULL;
	CHECK(mkdir(d, 0755) == 0);
	CHECK(cache_lookup(c, k, 0, &e, NULL, &err) == 1);
	cJSON *j = e ? cache_entry_json(e) : NULL;
	char *text = j ? cJSON_PrintUnformatted(j) : NULL;
	CHECK(text && strstr(text, "\"kind\":\"output\""));
	CHECK(text && strstr(text, "\"parent_type\":\"dir\""));
	free(text);
	cJSON_Delete(j);
	cache_entry_free(e);

	cache_record_free(r);
	cache_key_free(k);
	strbuf_release(&err);
	free(f);
	free(d);
	cache_close(c);
}

TEST(test_hostfact)
{
	struct cache *c = open_tmp_cache();
	struct cache_key *k = key_of("uname", NULL);
	struct strbuf err = STRBUF_INIT;
	struct cache_record *r = cache_record_new(k);

	{
		struct utsname u;

		uname(&u);
		cache_record_add_hostfact(r, "uname.machine", u.machine);
		cache_record_add_hostfact(r, "uname.domainname", u.domainname);
		cache_record_add_hostfact(r, "uname.release", u.release);
	}
	CHECK(cache_store(c, r, NULL, &err) == 0);
	CHECK_EQ_INT(lookup_exit(c, k, NULL), 0);
	cache_record_free(r);

	r = cache_record_new(k);
	cache_record_add_hostfact(r, "uname.machine", "vax");
	CHECK(cache_store(c, r, NULL, &err) == 0);
	cache_record_free(r);

	r = cache_record_new(k);
	cache_record_add_hostfact(r, "uname.nodename", "x");
	strbuf_reset(&err);
	CHECK_EQ_INT(cache_store(c, r, NULL, &err), -EINVAL);
	CHECK(strstr(err.buf, "unknown host fact") != NULL);
	cache_record_free(r);
	strbuf_release(&err);
	cache_key_free(k);
	cache_close(c);
}

/* The job's /proc/cpuinfo (common/cpus.h): generated again on lookup. */
TEST(test_cpuinfo_fact)
{
	struct cache *c = open_tmp_cache();
	struct cache_key *ok = key_of("cpuinfo-same", NULL);
	struct cache_key *other = key_of("cpuinfo-other", NULL);
	struct strbuf err = STRBUF_INIT, shown = STRBUF_INIT, value = STRBUF_INIT;
	struct cache_record *r;

	CHECK(cpuinfo_shown("0", &shown) == 0);
	cpuinfo_fact("0", shown.buf, &value);
	r = cache_record_new(ok);
	cache_record_add_hostfact(r, "cpuinfo", value.buf);
	CHECK(cache_store(c, r, NULL, &err) == 0);
	cache_record_free(r);
	CHECK_EQ_INT(lookup_exit(c, ok, NULL), 0);

	/* another CPU model when recorded: a miss */
	strbuf_reset(&value);
	cpuinfo_fact("0", "processor\t: 0\nmodel name\t: another\n\n", &value);
	r = cache_record_new(other);
	cache_record_add_hostfact(r, "cpuinfo", value.buf);
	CHECK(cache_store(c, r, NULL, &err) == 0);
	cache_record_free(r);
	CHECK_EQ_INT(lookup_exit(c, other, NULL), -1);

	strbuf_release(&err);
	strbuf_release(&shown);
	strbuf_release(&value);
	cache_key_free(ok);
	cache_key_free(other);
	cache_close(c);
}

TEST(test_explain_lists_every_failure)
{
	struct cache *c = open_tmp_cache();
	struct cache_key *k = key_of("ex", NULL);
	const char *dir = unit_tmpdir();
	char *a = path_join(dir, "a"), *b = path_join(dir, "b");
	const char *pab[] = { a, b, NULL };
	struct strbuf err = STRBUF_INIT;
	struct cache_explain *ex = NULL;
	struct cache_entry *e = NULL;
	cJSON *j, *it;
	int kinds = 0;

	write_file(a, "a");
	unlink(b);
	free(store_with(c, k, pab, 0)); /* content a, absent b */
	write_file(a, "changed");
	write_file(b, "now here");
	CHECK_EQ_INT(cache_lookup(c, k, CACHE_LOOKUP_EXPLAIN, &e, &ex, &err), 0);
	CHECK_EQ_INT(cache_explain_count(ex), 2);
	j = cache_explain_json(ex);
	cJSON_ArrayForEach(it, j)
	{
		const char *kind = cJSON_GetObjectItem(it, "kind")->valuestring;
		const char *path = cJSON_GetObjectItem(it, "path")->valuestring;

		if (!strcmp(kind, "content") && !strcmp(path, a))
			kinds |= 1;
		if (!strcmp(kind, "absent") && !strcmp(path, b) &&
		    !strcmp(cJSON_GetObjectItem(it, "found")->valuestring,
			    "file 0644"))
			kinds |= 2;
		CHECK(cJSON_GetObjectItem(it, "candidate") != NULL);
		CHECK(cJSON_GetObjectItem(it, "expected") != NULL);
	}
	CHECK_EQ_INT(kinds, 3);
	cJSON_Delete(j);
	cache_explain_free(ex);
	free(a);
	free(b);
	strbuf_release(&err);
	cache_key_free(k);
	cache_close(c);
}

TEST(test_explain_nearest_key)
{
	struct cache *c = open_tmp_cache();
	struct cache_key *k1 = cache_key_new(), *k2 = cache_key_new();
	struct cache_key *other = key_of("unrelated", NULL);
	struct strbuf err = STRBUF_INIT;
	struct cache_explain *ex = NULL;
	struct cache_entry *e = NULL;
	cJSON *j, *it;
	int seen = 0;

	cache_key_add_str(k1, "argv", "make");
	cache_key_add_str(k1, "env", "CC=gcc");
	cache_key_add_str(k1, "env", "OLD=1");
	cache_key_add_str(k1, "cwd", "/src");
	cache_key_add_str(k2, "argv", "make");
	cache_key_add_str(k2, "env", "CC=clang");
	cache_key_add_str(k2, "env", "NEW=1");
	cache_key_add_str(k2, "cwd", "/src2");
	free(store_with(c, k1, NULL, 0));
	free(store_with(c, other, NULL, 0));
	CHECK_EQ_INT(cache_lookup(c, k2, CACHE_LOOKUP_EXPLAIN, &e, &ex, &err), 0);
	j = cache_explain_json(ex);
	cJSON_ArrayForEach(it, j)
	{
		const char *field = cJSON_GetObjectItem(it, "field")->valuestring;

		CHECK_EQ_STR(cJSON_GetObjectItem(it, "kind")->valuestring, "key");
		if (!strcmp(field, "env CC"))
			seen |= 1;
		if (!strcmp(field, "env OLD"))
			seen |= 2;
		if (!strcmp(field, "env NEW"))
			seen |= 4;
		if (!strcmp(field, "cwd"))
			seen |= 8;
	}
	CHECK_EQ_INT(seen, 15);
	CHECK_EQ_INT(cache_explain_count(ex), 4);
	cJSON_Delete(j);
	cache_explain_free(ex);
	ex = NULL;

	/* No key with this argv at all. */
	cache_key_free(k2);
	k2 = cache_key_new();
	cache_key_add_str(k2, "argv", "nothing-like-it");
	CHECK_EQ_INT(cache_lookup(c, k2, CACHE_LOOKUP_EXPLAIN, &e, &ex, &err), 0);
	CHECK_EQ_INT(cache_explain_count(ex), 1);
	cache_explain_free(ex);
	strbuf_release(&err);
	cache_key_free(k1);
	cache_key_free(k2);
	cache_key_free(other);
	cache_close(c);
}

/*
 * A hit writes the stats under which the stat cache vouched for its
 * content preconditions beside the entry (cache/verified.c); the next
 * lookup takes them instead of probing the stat cache, and a file
 * changed since (same size and mtime, new ctime) is checked anew.
 */
TEST(test_verified_stats)
{
	struct cache *c = open_tmp_cache();
	struct cache_key *k = key_of("verified", NULL);
	const char *dir = unit_tmpdir();
	char *in = path_join(dir, "vin.c");
	const char *paths[] = { in, NULL };
	struct strbuf ver = STRBUF_INIT, data = STRBUF_INIT;
	struct timespec old[2] = { { 1000000000, 0 }, { 1000000000, 0 } };
	struct timespec pause = { 2, 100000000 };
	uint64_t probes;
	char *id;
	int fd;

	write_file(in, "int x;\n");
	CHECK(utimensat(AT_FDCWD, in, old, 0) == 0);
	id = store_with(c, k, paths, 5);
	strbuf_addf(&ver, "%s/keys/%.2s/%s.verified", cache_path(c), id, id);
	/* too young for the stat cache (ctime is now): a hit, nothing kept */
	CHECK_EQ_INT(lookup_exit(c, k, NULL), 5);
	CHECK(access(ver.buf, F_OK) < 0);
	nanosleep(&pause, NULL);
	CHECK_EQ_INT(lookup_exit(c, k, NULL), 5);
	CHECK(access(ver.buf, F_OK) == 0);
	probes = statcache_counts.hits + statcache_counts.misses;
	CHECK_EQ_INT(lookup_exit(c, k, NULL), 5);
	CHECK_EQ_INT(statcache_counts.hits + statcache_counts.misses, probes);

	/* other bytes, same size and mtime: the ctime tells */
	write_file(in, "int y;\n");
	CHECK(utimensat(AT_FDCWD, in, old, 0) == 0);
	CHECK_EQ_INT(lookup_exit(c, k, NULL), -1);
	write_file(in, "int x;\n");
	CHECK(utimensat(AT_FDCWD, in, old, 0) == 0);
	CHECK_EQ_INT(lookup_exit(c, k, NULL), 5);

	/* a damaged file is not used, and does no harm */
	CHECK(strbuf_read_file_at(&data, AT_FDCWD, ver.buf, 0) > 0);
	data.buf[data.len / 2] ^= 0x01;
	fd = open(ver.buf, O_WRONLY | O_TRUNC | O_CLOEXEC);
	CHECK(fd >= 0 && write_full(fd, data.buf, data.len) == (ssize_t)data.len);
	close(fd);
	write_file(in, "int y;\n");
	CHECK(utimensat(AT_FDCWD, in, old, 0) == 0);
	CHECK_EQ_INT(lookup_exit(c, k, NULL), -1);
	write_file(in, "int x;\n");
	CHECK_EQ_INT(lookup_exit(c, k, NULL), 5);

	/* removed with its entry */
	strbuf_reset(&data);
	strbuf_addf(&data, "%.2s/%s.entry", id, id);
	CHECK_EQ_INT(entryfile_remove(c, data.buf), 0);
	CHECK(access(ver.buf, F_OK) < 0 && errno == ENOENT);
	strbuf_release(&ver);
	strbuf_release(&data);
	free(id);
	free(in);
	cache_key_free(k);
	cache_close(c);
}

TEST(test_corrupt_entry_is_a_miss_and_removed)
{
	struct cache *c = open_tmp_cache();
	struct cache_key *k = key_of("corrupt", NULL);
	char *id = store_with(c, k, NULL, 0);
	struct strbuf rel = STRBUF_INIT, data = STRBUF_INIT;
	int fd;

	strbuf_addf(&rel, "%s/keys/%.2s/%s.entry", cache_path(c), id, id);
	CHECK(strbuf_read_file_at(&data, AT_FDCWD, rel.buf, 0) > 0);
	data.buf[data.len - 3] ^= 0x20;
	chmod(rel.buf, 0644);
	fd = open(rel.buf, O_WRONLY | O_TRUNC | O_CLOEXEC);
	CHECK(fd >= 0 && write_full(fd, data.buf, data.len) == (ssize_t)data.len);
	close(fd);
	CHECK_EQ_INT(lookup_exit(c, k, NULL), -1);
	CHECK(access(rel.buf, F_OK) < 0 && errno == ENOENT);
	strbuf_release(&rel);
	strbuf_release(&data);
	free(id);
	cache_key_free(k);
	cache_close(c);
}

TEST(test_missing_blob_is_a_miss)
{
	struct cache *c = open_tmp_cache();
	struct cache_key *k = key_of("blob", NULL);
	const char *dir = unit_tmpdir();
	char *src = path_join(dir, "out");
	struct strbuf err = STRBUF_INIT, rel = STRBUF_INIT;
	struct cache_record *r = cache_record_new(k);
	struct cache_entry *e = NULL;
	struct cache_change_view v;

	write_file(src, "output bytes");
	cache_record_add_change(r, CHANGE_FILE, "/out/file", 0644, src, NULL);
	CHECK(cache_store(c, r, &e, &err) == 0);
	CHECK(access(src, F_OK) < 0); /* moved into the store */
	CHECK_EQ_INT(cache_entry_nr_changes(e), 1);
	cache_entry_change(e, 0, &v);
	CHECK_EQ_INT(v.size, 12);
	CHECK_EQ_INT(lookup_exit(c, k, NULL), 0);
	cache_blob_relpath(&v.blob, &rel);
	CHECK(unlinkat(cache_blobs_dirfd(c), rel.buf, 0) == 0);
	CHECK_EQ_INT(lookup_exit(c, k, NULL), -1);
	/* The entry went with it. */
	CHECK_EQ_INT(lookup_exit(c, k, NULL), -1);
	cache_entry_free(e);
	cache_record_free(r);
	strbuf_release(&err);
	strbuf_release(&rel);
	free(src);
	cache_key_free(k);
	cache_close(c);
}

TEST(test_unsafe_paths_refused_at_store)
{
	struct cache *c = open_tmp_cache();
	struct cache_key *k = key_of("unsafe", NULL);
	const char *bad[] = { "relative", "/a/../b", "/a//b", "/a/./b", "/a/", "" };
	struct strbuf err = STRBUF_INIT;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		struct cache_record *r = cache_record_new(k);

		cache_record_add_change(r, CHANGE_DELETE, bad[i], 0, NULL, NULL);
		strbuf_reset(&err);
		CHECK_EQ_INT(cache_store(c, r, NULL, &err), -EINVAL);
		cache_record_free(r);
		r = cache_record_new(k);
		cache_record_add_absent(r, bad[i]);
		CHECK_EQ_INT(cache_store(c, r, NULL, &err), -EINVAL);
		cache_record_free(r);
	}
	strbuf_release(&err);
	cache_key_free(k);
	cache_close(c);
}

TEST(test_format_refused)
{
	const char *dir = unit_tmpdir();
	char *cdir = path_join(dir, "c"), *fmt = path_join(cdir, "FORMAT");
	struct strbuf err = STRBUF_INIT;
	struct cache *c = NULL;

	CHECK(cache_open(cdir, 0, &c, &err) == 0);
	cache_close(c);
	write_file(fmt, "procache cache format 2\n");
	CHECK_EQ_INT(cache_open(cdir, 0, &c, &err), -EPROTO);
	CHECK(strstr(err.buf, "format 2") != NULL);
	strbuf_reset(&err);
	/* A non-empty directory that is not a cache is not taken over. */
	CHECK_EQ_INT(cache_open(dir, 0, &c, &err), -ENOTEMPTY);
	strbuf_release(&err);
	free(cdir);
	free(fmt);
}

TEST(test_open_max_size)
{
	char *cdir = path_join(unit_tmpdir(), "c");
	struct strbuf err = STRBUF_INIT;
	struct cache *c = NULL;

	CHECK(cache_open(cdir, 0, &c, &err) == 0);
	CHECK_EQ_INT(cache_max_size(c), 0);
	cache_close(c);
	CHECK(cache_open(cdir, 2u << 20, &c, &err) == 0);
	CHECK_EQ_INT(cache_max_size(c), 2u << 20);
	cache_close(c);
	strbuf_release(&err);
	free(cdir);
}

TEST(test_output_replay)
{
	struct cache *c = open_tmp_cache();
	struct cache_key *k = key_of("out", NULL);
	const char *dir = unit_tmpdir();
	char *src = path_join(dir, "stdout"), *dst = path_join(dir, "replayed");
	struct strbuf err = STRBUF_INIT, got = STRBUF_INIT;
	struct cache_record *r = cache_record_new(k);
	struct cache_entry *e = NULL;
	int fd;

	write_file(src, "hello\n");
	cache_record_set_output(r, 1, src);
	CHECK(cache_store(c, r, &e, &err) == 0);
	fd = open(dst, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	CHECK(cache_entry_write_output(c, e, 1, fd, &err) == 0);
	CHECK(cache_entry_write_output(c, e, 2, fd, &err) == 0);
	close(fd);
	strbuf_read_file_at(&got, AT_FDCWD, dst, 0);
	CHECK_EQ_STR(got.buf, "hello\n");
	cache_entry_free(e);
	cache_record_free(r);
	strbuf_release(&err);
	strbuf_release(&got);
	free(src);
	free(dst);
	cache_key_free(k);
	cache_close(c);
}

/* ---- the walk over the store (cache/walk.c, cache/layout.c) ----------- */

struct walk_log {
	size_t keys, entries, blobs;
	struct strbuf strays; /* "rel|name\n" each */
	struct strbuf ids;    /* ENTRY ids, one a line */
	int key_result;       /* what a KEY item returns */
	int entry_result;     /* what an ENTRY item returns */
};

static int log_item(struct cache *c, const struct cache_walk_item *it,
		    void *data)
{
	struct walk_log *w = data;

	(void)c;
	/* @name is the last component of @rel and points into it. */
	CHECK(it->name >= it->rel && !strcmp(it->rel + strlen(it->rel) -
					     strlen(it->name), it->name));
	CHECK(it->fanouts >= 1 && it->fanouts <= CACHE_NR_FANOUTS);
	switch (it->kind) {
	case CACHE_WALK_KEY:
		w->keys++;
		CHECK(cache_is_hex(it->id, PC_HASH_HEX_LEN) && it->st &&
		      S_ISDIR(it->st->st_mode));
		return w->key_result;
	case CACHE_WALK_ENTRY:
		w->entries++;
		CHECK(strlen(it->rel) == ENTRY_REL_LEN &&
		      strlen(it->id) == ENTRY_NAME_LEN && it->st);
		CHECK(!strncmp(it->rel + CACHE_FANOUT_LEN + 1, it->id,
			       ENTRY_NAME_LEN));
		strbuf_addf(&w->ids, "%s\n", it->id);
		return w->entry_result;
	case CACHE_WALK_BLOB:
		w->blobs++;
		CHECK(strlen(it->rel) == BLOB_REL_LEN && it->st &&
		      !strcmp(it->id, it->name));
		return 0;
	case CACHE_WALK_STRAY:
		CHECK(!it->st && !it->id);
		strbuf_addf(&w->strays, "%s|%s\n", it->rel, it->name);
		return 0;
	}
	return 0;
}

static void walk_log_reset(struct walk_log *w)
{
	strbuf_release(&w->strays);
	strbuf_release(&w->ids);
	memset(w, 0, sizeof(*w));
	strbuf_init(&w->strays, 0);
	strbuf_init(&w->ids, 0);
}

static void touch_old(const char *path)
{
	struct timespec ts[2] = { { time(NULL) - 2 * CACHE_GC_GRACE_S, 0 },
				  { time(NULL) - 2 * CACHE_GC_GRACE_S, 0 } };

	write_file(path, "x");
	CHECK(utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW) == 0);
}

TEST(test_walk)
{
	struct cache *c = open_tmp_cache();
	struct cache_key *k1 = key_of("walk1", NULL), *k2 = key_of("walk2", NULL);
	char *id1 = store_with(c, k1, NULL, 0), *id2 = store_with(c, k2, NULL, 1);
	struct walk_log w = { .strays = STRBUF_INIT, .ids = STRBUF_INIT };
	struct strbuf p = STRBUF_INIT, rel = STRBUF_INIT;
	const char *top = cache_path(c);
	struct pc_hash empty;
	char hex[PC_HASH_HEX_LEN + 1];

	pc_hash_buffer(NULL, 0, &empty);
	pc_hash_to_hex(&empty, hex);
	CHECK_EQ_INT(lookup_exit(c, k1, NULL), 0); /* a .hits file: no stray */
	/* Strays in blobs/, temporary files, an empty key directory. */
	strbuf_addf(&p, "%s/blobs/README", top);
	write_file(p.buf, "x");
	strbuf_reset(&p);
	strbuf_addf(&p, "%s/blobs/%.2s/junk", top, hex);
	write_file(p.buf, "x");
	strbuf_reset(&p);
	strbuf_addf(&p, "%s/keys/%.2s/%.32s/.tmp.old", top, id1, id1);
	touch_old(p.buf);
	strbuf_reset(&p);
	strbuf_addf(&p, "%s/keys/%.2s/%.32s/.tmp.new", top, id1, id1);
	write_file(p.buf, "x");
	strbuf_reset(&p);
	strbuf_addf(&p, "%s/keys/ff", top);
	mkdir(p.buf, 0700);
	strbuf_addf(&p, "/ff%030d", 0);
	CHECK(mkdir(p.buf, 0700) == 0);

	CHECK_EQ_INT(cache_walk_entries(c, CACHE_WALK_KEYS | CACHE_WALK_STRAYS,
					log_item, &w), 0);
	CHECK_EQ_INT(w.keys, 3);
	CHECK_EQ_INT(w.entries, 2);
	CHECK_EQ_STR(w.strays.buf, "");
	CHECK(strstr(w.ids.buf, id1) && strstr(w.ids.buf, id2));

	walk_log_reset(&w);
	CHECK_EQ_INT(cache_walk_blobs(c, CACHE_WALK_STRAYS, log_item, &w), 0);
	CHECK_EQ_INT(w.blobs, 1); /* the empty stdout and stderr */
	strbuf_addf(&rel, "%.2s/junk|junk\n", hex);
	CHECK(strstr(w.strays.buf, "README|README\n") != NULL);
	CHECK(strstr(w.strays.buf, rel.buf) != NULL);
	walk_log_reset(&w);
	CHECK_EQ_INT(cache_walk_blobs(c, 0, log_item, &w), 0);
	CHECK_EQ_STR(w.strays.buf, "");

	/* A KEY callback skips its entries; any other value stops. */
	walk_log_reset(&w);
	w.key_result = CACHE_WALK_SKIP;
	CHECK_EQ_INT(cache_walk_entries(c, CACHE_WALK_KEYS, log_item, &w), 0);
	CHECK_EQ_INT(w.keys, 3);
	CHECK_EQ_INT(w.entries, 0);
	walk_log_reset(&w);
	w.entry_result = -42;
	CHECK_EQ_INT(cache_walk_entries(c, 0, log_item, &w), -42);
	CHECK_EQ_INT(w.entries, 1);

	/* One key; a key without a directory has no entries. */
	walk_log_reset(&w);
	strbuf_reset(&p);
	strbuf_add(&p, id1, PC_HASH_HEX_LEN);
	CHECK_EQ_INT(cache_walk_key(c, p.buf, 0, log_item, &w), 0);
	CHECK_EQ_INT(w.entries, 1);
	CHECK(!strncmp(w.ids.buf, id1, ENTRY_NAME_LEN));
	CHECK_EQ_INT(cache_walk_key(c, "00000000000000000000000000000000", 0,
				    log_item, &w), 0);
	CHECK_EQ_INT(w.entries, 1);

	/* CLEAN: old temporary files and empty key directories go. */
	walk_log_reset(&w);
	CHECK_EQ_INT(cache_walk_entries(c, CACHE_WALK_CLEAN | CACHE_WALK_KEYS,
					log_item, &w), 0);
	CHECK_EQ_INT(w.keys, 3);
	walk_log_reset(&w);
	CHECK_EQ_INT(cache_walk_entries(c, CACHE_WALK_KEYS, log_item, &w), 0);
	CHECK_EQ_INT(w.keys, 2);
	strbuf_reset(&p);
	strbuf_addf(&p, "%s/keys/%.2s/%.32s/.tmp.old", top, id1, id1);
	CHECK(access(p.buf, F_OK) < 0 && errno == ENOENT);
	strbuf_reset(&p);
	strbuf_addf(&p, "%s/keys/%.2s/%.32s/.tmp.new", top, id1, id1);
	CHECK(access(p.buf, F_OK) == 0);

	walk_log_reset(&w);
	strbuf_release(&w.strays);
	strbuf_release(&w.ids);
	strbuf_release(&p);
	strbuf_release(&rel);
	free(id1);
	free(id2);
	cache_key_free(k1);
	cache_key_free(k2);
	cache_close(c);
}

TEST(test_layout_names)
{
	const char *key = "0123456789abcdef0123456789abcdef";
	char k[PC_HASH_HEX_LEN + 1], id[ENTRY_ID_LEN + 1];
	struct strbuf sb = STRBUF_INIT, hits = STRBUF_INIT;

	layout_entry_rel(key, "fedcba9876543210", &sb);
	CHECK_EQ_STR(sb.buf, "01/0123456789abcdef0123456789abcdef/fedcba9876543210.entry");
	CHECK_EQ_INT(sb.len, ENTRY_REL_LEN);
	CHECK(layout_parse_entry_rel(sb.buf, k, id));
	CHECK_EQ_STR(k, key);
	CHECK_EQ_STR(id, "fedcba9876543210");
	CHECK(layout_is_entry_file(sb.buf + KEY_DIR_REL_LEN + 1));
	layout_hits_rel(sb.buf, &hits);
	CHECK_EQ_STR(hits.buf, "01/0123456789abcdef0123456789abcdef/fedcba9876543210.hits");
	CHECK(layout_is_side_file(hits.buf + KEY_DIR_REL_LEN + 1));
	CHECK(!layout_is_entry_file(hits.buf + KEY_DIR_REL_LEN + 1));
	CHECK(layout_is_side_file("fedcba9876543210.verified"));
	CHECK(!layout_is_side_file("fedcba987654321.verified"));
	/* The fan-out must be the key's; ids are lowercase hex. */
	CHECK(!layout_parse_entry_rel("02/0123456789abcdef0123456789abcdef/fedcba9876543210.entry", k, id));
	CHECK(!layout_parse_entry_rel("01/0123456789abcdef0123456789abcdef/fedcba987654321X.entry", k, id));
	CHECK(!layout_parse_entry_rel("01/0123456789abcdef0123456789abcdef/fedcba9876543210.hits", k, id));
	CHECK(!layout_is_entry_file("fedcba9876543210.entry~"));
	layout_blob_rel(key, &sb);
	CHECK_EQ_STR(sb.buf, "01/0123456789abcdef0123456789abcdef");
	CHECK_EQ_INT(sb.len, BLOB_REL_LEN);
	layout_key_dir(key, &sb);
	CHECK_EQ_INT(sb.len, KEY_DIR_REL_LEN);
	CHECK(layout_is_tmp(".tmp.FORMAT.1.2") && !layout_is_tmp("tmp"));
	strbuf_release(&sb);
	strbuf_release(&hits);
}

/*
 * Every error of cache_entry_write_output() is its -errno: the runner
 * tells a closed stdout (-EPIPE, the reader went away: not an error of
 * the cache) from a damaged blob by the value alone.
 */
TEST(test_output_errors)
{
	struct cache *c = open_tmp_cache();
	struct cache_key *k = key_of("out-errors", NULL);
	char *src = path_join(unit_tmpdir(), "stdout");
	struct strbuf err = STRBUF_INIT, rel = STRBUF_INIT;
	struct cache_record *r = cache_record_new(k);
	struct cache_entry *e = NULL;
	struct sigaction ign = { .sa_handler = SIG_IGN }, old;
	struct pc_hash h;
	int p[2], fd;

	write_file(src, "bytes for a reader that is gone\n");
	cache_record_set_output(r, 1, src);
	CHECK(cache_store(c, r, &e, &err) == 0);

	/* A pipe whose reader is closed, SIGPIPE ignored: -EPIPE. */
	CHECK(pipe2(p, O_CLOEXEC) == 0);
	close(p[0]);
	CHECK(sigaction(SIGPIPE, &ign, &old) == 0);
	strbuf_reset(&err);
	CHECK_EQ_INT(cache_entry_write_output(c, e, 1, p[1], &err), -EPIPE);
	CHECK(strstr(err.buf, "stdout") != NULL);
	CHECK(sigaction(SIGPIPE, &old, NULL) == 0);
	close(p[1]);

	/* Not a stream: -EINVAL. A write to a bad fd: -EBADF. */
	CHECK_EQ_INT(cache_entry_write_output(c, e, 3, 1, &err), -EINVAL);
	CHECK_EQ_INT(cache_entry_write_output(c, e, 1, -1, &err), -EBADF);

	/* A damaged blob: -EBADMSG (and it is dropped); then -ENOENT. */
	CHECK(cache_entry_output(e, 1, &h, NULL) == 0);
	cache_blob_relpath(&h, &rel);
	CHECK(fchmodat(cache_blobs_dirfd(c), rel.buf, 0644, 0) == 0);
	fd = openat(cache_blobs_dirfd(c), rel.buf, O_WRONLY | O_CLOEXEC);
	CHECK(fd >= 0 && write_full(fd, "B", 1) == 1);
	close(fd);
	fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	strbuf_reset(&err);
	CHECK_EQ_INT(cache_entry_write_output(c, e, 1, fd, &err), -EBADMSG);
	CHECK(strstr(err.buf, "corrupt") != NULL);
	strbuf_reset(&err);
	CHECK_EQ_INT(cache_entry_write_output(c, e, 1, fd, &err), -ENOENT);
	close(fd);

	cache_entry_free(e);
	cache_record_free(r);
	strbuf_release(&err);
	strbuf_release(&rel);
	free(src);
	cache_key_free(k);
	cache_close(c);
}

int main(int argc, char **argv)
{
	if (argc > 2 && !strcmp(argv[1], "driver"))
		return driver(argc - 1, argv + 1);
	RUN(test_miss_then_hit);
	RUN(test_many_candidates_right_one);
	RUN(test_most_recently_used_first);
	RUN(test_every_kind);
	RUN(test_hostfact);
	RUN(test_cpuinfo_fact);
	RUN(test_explain_lists_every_failure);
	RUN(test_explain_nearest_key);
	RUN(test_corrupt_entry_is_a_miss_and_removed);
	RUN(test_missing_blob_is_a_miss);
	RUN(test_unsafe_paths_refused_at_store);
	RUN(test_format_refused);
	RUN(test_open_max_size);
	RUN(test_output_replay);
	RUN(test_output_errors);
	RUN(test_output_precondition);
	RUN(test_walk);
	RUN(test_layout_names);
	RUN(test_verified_stats);
	return unit_done();
}
