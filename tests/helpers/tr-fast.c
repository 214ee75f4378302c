/*
 * tr-fast: make observations through the libc functions the fast path's
 * library interposes (DESIGN.md §3.1), for the tracer tests. Where
 * tr-calls makes raw system calls (always notified), this calls open(),
 * fopen(), stat(), realpath()... as programs do; under the fast path
 * their calls become records, under the notified path notifications, and
 * the observations must be the same.
 *
 *	tr-fast CMD ARGS...
 *
 * Also built statically (tr-fast-static: no library can be preloaded
 * into it). Exit status 0 when the sequence ran (the calls' own results
 * are ignored: a failing probe is an observation too), 2 on bad usage.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox/fastpath.h"

extern char **environ;

/*
 * stat() as a program built against glibc < 2.33 makes it: a call of the
 * compatibility symbol __xstat@GLIBC_2.2.5 (version 1, _STAT_VER_LINUX),
 * bound by ld.so through the PLT (the fast path's library takes it by
 * being first in the lookup order). Weak: NULL in the static build.
 */
int old_xstat(int ver, const char *path, struct stat *st) __attribute__((weak));
int old_lxstat(int ver, const char *path, struct stat *st) __attribute__((weak));
__asm__(".symver old_xstat, __xstat@GLIBC_2.2.5");
__asm__(".symver old_lxstat, __lxstat@GLIBC_2.2.5");

static void usage(void)
{
	fprintf(stderr, "usage: tr-fast CMD ARGS...\n");
	exit(2);
}

static void read_all(int fd)
{
	char buf[4096];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

static void do_open(const char *p)
{
	int fd = open(p, O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		read_all(fd);
		close(fd);
	}
}

/* Every interposed lookup of @p once: what a compiler does to a header. */
static void lookups(const char *p)
{
	char buf[PATH_MAX];
	struct stat st;
	struct statx stx;

	do_open(p);
	stat(p, &st);
	lstat(p, &st);
	statx(AT_FDCWD, p, 0, STATX_BASIC_STATS, &stx);
	access(p, R_OK);
	faccessat(AT_FDCWD, p, R_OK, AT_EACCESS);
	if (readlink(p, buf, sizeof(buf)) < 0 && errno == ENOMEM)
		exit(1);
	if (realpath(p, buf))
		do_open(buf);
}

/* A file of the job's own, read and stat-ed: 0, or -1 when it cannot be made. */
static int make_and_read(const char *p)
{
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	struct stat st;

	if (fd < 0 || write(fd, "mine\n", 5) != 5)
		return -1;
	close(fd);
	do_open(p);
	stat(p, &st);
	return 0;
}

struct loop {
	char **paths;
	int nr, rounds;
};

static void *thread_lookups(void *arg)
{
	struct loop *l = arg;
	int r, i;

	for (r = 0; r < l->rounds; r++)
		for (i = 0; i < l->nr; i++)
			lookups(l->paths[i]);
	return NULL;
}

/* The fast path's channel, from PROCACHE_FAST_CHANNEL (the test driver). */
static struct fp_header *chan_map(void)
{
	const char *p = getenv(FP_CHAN_ENV);
	int fd = p ? open(p, O_RDWR | O_CLOEXEC) : -1;
	void *m;

	if (fd < 0)
		exit(3);
	m = mmap(NULL, FP_CHAN_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		exit(3);
	return m;
}

/* Publish a record as the library does (fastpath.h), for path @path. */
static void chan_publish(struct fp_header *h, const struct fp_rec *r, const char *path)
{
	uint64_t pos;
	struct fp_slot *s;
	size_t n = strlen(path);

	while (__atomic_fetch_sub(&h->free, 1, __ATOMIC_ACQUIRE) <= 0) {
		__atomic_fetch_add(&h->free, 1, __ATOMIC_RELEASE);
		usleep(1000);
	}
	pos = __atomic_fetch_add(&h->head, 1, __ATOMIC_RELAXED);
	s = (struct fp_slot *)((char *)h + FP_HEADER_SIZE + (pos % FP_NR_SLOTS) * FP_SLOT_SIZE);
	while (__atomic_load_n(&s->seq, __ATOMIC_ACQUIRE) != FP_SEQ_FREE(pos))
		usleep(1000);
	s->rec = *r;
	s->rec.base_len = 0;
	s->rec.path_len = (uint16_t)n;
	s->rec.value_len = 0;
	s->rec.data[0] = 0;
	memcpy(s->rec.data + 1, path, n + 1);
	s->rec.data[n + 2] = 0;
	__atomic_store_n(&s->seq, FP_SEQ_PUBLISHED(pos), __ATOMIC_RELEASE);
}

/*
 * Take a position in the channel and never publish it: a producer
 * preempted between the two, as a loaded machine makes them.
 */
static void chan_hold(struct fp_header *h)
{
	while (__atomic_fetch_sub(&h->free, 1, __ATOMIC_ACQUIRE) <= 0) {
		__atomic_fetch_add(&h->free, 1, __ATOMIC_RELEASE);
		usleep(1000);
	}
	__atomic_fetch_add(&h->head, 1, __ATOMIC_RELAXED);
}

/* A record of a stat of PATH that found a regular file with @size bytes. */
static void publish_found(struct fp_header *h, uint64_t gen, const char *path, uint64_t size,
			  int64_t mtime)
{
	struct fp_rec r = { .nr = SYS_newfstatat, .ret = 0, .gen = gen,
			    .st = { .mode = S_IFREG | 0644, .size = size, .mtime_sec = mtime } };

	chan_publish(h, &r, path);
}

int main(int argc, char **argv)
{
	const char *cmd;
	struct stat st;
	char buf[PATH_MAX];
	int fd, dfd;

	if (argc < 2)
		usage();
	cmd = argv[1];
	if (!strcmp(cmd, "open") && argc == 3) {
		do_open(argv[2]);
	} else if (!strcmp(cmd, "fopen") && argc == 3) { /* glibc: __open_nocancel or open */
		FILE *f = fopen(argv[2], "re");

		if (f) {
			while (fread(buf, 1, sizeof(buf), f) > 0)
				;
			fclose(f);
		}
	} else if (!strcmp(cmd, "openat") && argc == 4) { /* DIR NAME */
		dfd = open(argv[2], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		fd = openat(dfd, argv[3], O_RDONLY | O_CLOEXEC);
		if (fd >= 0)
			read_all(fd);
	} else if (!strcmp(cmd, "open-rel") && argc == 4) { /* DIR NAME: from the cwd */
		if (chdir(argv[2]))
			return 1;
		do_open(argv[3]);
	} else if (!strcmp(cmd, "opath") && argc == 3) {
		fd = open(argv[2], O_PATH | O_NOFOLLOW | O_CLOEXEC);
	} else if (!strcmp(cmd, "opendir") && argc == 3) {
		DIR *d = opendir(argv[2]);

		while (d && readdir(d))
			;
	} else if (!strcmp(cmd, "stat") && argc == 3) {
		stat(argv[2], &st);
	} else if (!strcmp(cmd, "lstat") && argc == 3) {
		lstat(argv[2], &st);
	} else if (!strcmp(cmd, "fstatat") && argc == 4) { /* DIR NAME, not followed */
		dfd = open(argv[2], O_PATH | O_DIRECTORY | O_CLOEXEC);
		fstatat(dfd, argv[3], &st, AT_SYMLINK_NOFOLLOW);
	} else if (!strcmp(cmd, "fstat") && argc == 3) { /* an fd's stat: not a lookup */
		fd = open(argv[2], O_RDONLY | O_CLOEXEC);
		fstat(fd, &st);
	} else if (!strcmp(cmd, "statx") && argc == 3) {
		struct statx stx;

		statx(AT_FDCWD, argv[2], AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &stx);
	} else if (!strcmp(cmd, "access") && argc == 3) {
		access(argv[2], X_OK);
	} else if (!strcmp(cmd, "faccessat") && argc == 3) {
		faccessat(AT_FDCWD, argv[2], R_OK, AT_SYMLINK_NOFOLLOW);
	} else if (!strcmp(cmd, "readlink") && argc == 3) {
		if (readlink(argv[2], buf, sizeof(buf)) < 0 && errno == ENOMEM)
			return 1;
	} else if (!strcmp(cmd, "readlinkat") && argc == 4) { /* DIR NAME */
		dfd = open(argv[2], O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (readlinkat(dfd, argv[3], buf, sizeof(buf)) < 0 && errno == ENOMEM)
			return 1;
	} else if (!strcmp(cmd, "realpath") && argc == 3) {
		if (realpath(argv[2], buf))
			printf("%s\n", buf);
	} else if (!strcmp(cmd, "lookups") && argc >= 3) { /* PATH...: all of the above */
		for (int i = 2; i < argc; i++)
			lookups(argv[i]);
	} else if (!strcmp(cmd, "stat-write-stat") && argc >= 4) {
		/*
		 * WRITE PATH...: stat each PATH; a notified call (every
		 * record is handled before it); open WRITE for writing
		 * ("-": nothing); stat each PATH again
		 */
		int i;

		for (i = 3; i < argc; i++)
			stat(argv[i], &st);
		if (chdir(".") < 0)
			return 1;
		if (strcmp(argv[2], "-") && (fd = open(argv[2], O_WRONLY | O_CLOEXEC)) >= 0)
			close(fd);
		for (i = 3; i < argc; i++)
			stat(argv[i], &st);
	} else if (!strcmp(cmd, "read-unlink") && argc == 3) { /* read, then remove */
		do_open(argv[2]);
		stat(argv[2], &st);
		unlink(argv[2]);
	} else if (!strcmp(cmd, "read-rewrite") && argc == 3) { /* read, then rewrite */
		do_open(argv[2]);
		fd = open(argv[2], O_WRONLY | O_TRUNC | O_CLOEXEC);
		if (fd < 0 || write(fd, "new\n", 4) != 4)
			return 1;
	} else if (!strcmp(cmd, "create-read-rm") && argc == 3) { /* the job's own file */
		if (make_and_read(argv[2]))
			return 1;
		unlink(argv[2]);
		stat(argv[2], &st);
	} else if (!strcmp(cmd, "create-read-chmod") && argc == 3) { /* kept, changed */
		if (make_and_read(argv[2]))
			return 1;
		chmod(argv[2], 0644); /* a write that changes nothing */
	} else if (!strcmp(cmd, "threads") && argc >= 5) { /* N ROUNDS PATH...: N threads */
		int n = atoi(argv[2]), i;
		pthread_t th[64];
		struct loop l = { .paths = argv + 4, .nr = argc - 4, .rounds = atoi(argv[3]) };

		if (n < 1 || n > 64)
			usage();
		for (i = 0; i < n; i++)
			pthread_create(&th[i], NULL, thread_lookups, &l);
		for (i = 0; i < n; i++)
			pthread_join(th[i], NULL);
	} else if (!strcmp(cmd, "loop-stat") && argc == 4) { /* N PATH */
		long i, n = atol(argv[2]);

		for (i = 0; i < n; i++)
			stat(argv[3], &st);
	} else if (!strcmp(cmd, "vfork-stat") && argc == 3) { /* a vfork child's call */
		pid_t pid = vfork();

		if (!pid) {
			stat(argv[2], &st);
			_exit(0);
		}
		waitpid(pid, NULL, 0);
	} else if (!strcmp(cmd, "spawn") && argc >= 3) { /* PROG ARGS...: posix_spawn */
		pid_t pid;

		if (posix_spawn(&pid, argv[2], NULL, NULL, argv + 2, environ))
			return 1;
		waitpid(pid, NULL, 0);
	} else if (!strcmp(cmd, "xstat") && argc == 3) { /* an old binary's stat and lstat */
		if (!old_xstat || !old_lxstat)
			return 3;
		old_xstat(1, argv[2], &st);
		old_lxstat(1, argv[2], &st);
		if (old_xstat(7, argv[2], &st) != -1 || errno != EINVAL)
			return 1;
	} else if (!strcmp(cmd, "execvp") && argc >= 4) { /* PATHLIST PROG ARGS...: a PATH search */
		setenv("PATH", argv[2], 1);
		execvp(argv[3], argv + 3);
		printf("execvp: %s\n", strerror(errno));
		fflush(stdout);
	} else if (!strcmp(cmd, "spawnp") && argc >= 4) { /* PATHLIST PROG ARGS...: posix_spawnp */
		pid_t pid;
		int r, ws = 0;

		setenv("PATH", argv[2], 1);
		r = posix_spawnp(&pid, argv[3], NULL, NULL, argv + 3, environ);
		if (!r)
			waitpid(pid, &ws, 0);
		printf("spawnp: %s, status %d\n", strerror(r), ws);
		fflush(stdout);
	} else if (!strcmp(cmd, "exec-envi") && argc >= 3) { /* PROG ARGS...: env -i */
		char *empty[] = { NULL };

		execve(argv[2], argv + 2, empty);
		return 127;
	} else if (!strcmp(cmd, "stale-stat") && (argc == 3 || argc == 4)) {
		/*
		 * A stat of PATH that missed it, published only after a
		 * notified write touched PATH (a record in flight across a
		 * write: DESIGN §3.1 "Ordering"). The chmod fails (ENOENT)
		 * but is a write all the same.
		 */
		struct fp_header *h = chan_map();
		struct fp_rec r = { .nr = SYS_newfstatat, .ret = -ENOENT };

		r.gen = __atomic_load_n(&h->gen, __ATOMIC_ACQUIRE);
		syscall(SYS_chmod, argv[2], 0644);
		/* the job's file appears in the (fake) upper directory */
		if (argc == 4 && (fd = open(argv[3], O_WRONLY | O_CREAT | O_CLOEXEC, 0644)) >= 0)
			close(fd);
		chan_publish(h, &r, argv[2]);
	} else if (!strcmp(cmd, "hole-stat") && argc == 4) {
		/*
		 * A stat of PATH, the job's own file (in the fake upper
		 * directory as UPPATH), published behind a position another
		 * producer holds; then the job renames its file away (the
		 * upper's copy goes). The record is of a call made before
		 * that write, and must be judged before it.
		 */
		struct fp_header *h = chan_map();

		chan_hold(h);
		publish_found(h, __atomic_load_n(&h->gen, __ATOMIC_ACQUIRE), argv[2], 2, 0);
		syscall(SYS_unlink, argv[3]);
	} else if (!strcmp(cmd, "hole-lying") && argc == 4) {
		/* hazard (b) behind a held position: judged, and it taints */
		struct fp_header *h = chan_map();

		chan_hold(h);
		publish_found(h, __atomic_load_n(&h->gen, __ATOMIC_ACQUIRE), argv[2],
			      123456789, 1);
		syscall(SYS_chmod, argv[3], 0644); /* a write (ENOENT) */
	} else if (!strcmp(cmd, "inflight-unlink") && argc == 4) {
		/*
		 * A stat of PATH, the job's own file (UPPATH in the fake
		 * upper), in flight across the job's removal of it: its
		 * generation is older than the removal's.
		 */
		struct fp_header *h = chan_map();
		uint64_t gen = __atomic_load_n(&h->gen, __ATOMIC_ACQUIRE);

		syscall(SYS_unlink, argv[2]);	/* what the tracer sees */
		syscall(SYS_unlink, argv[3]);	/* what overlayfs would do */
		publish_found(h, gen, argv[2], 2, 0);
	} else if (!strcmp(cmd, "inflight-mkdir") && argc == 4) {
		/*
		 * A stat of PATH that found the job's directory (UPPATH in
		 * the fake upper), in flight across another process's mkdir
		 * of it, which fails (EEXIST) as it does for each rustc of
		 * `cargo test` making target/debug/deps.
		 */
		struct fp_header *h = chan_map();
		uint64_t gen = __atomic_load_n(&h->gen, __ATOMIC_ACQUIRE);
		struct fp_rec r = { .nr = SYS_newfstatat, .ret = 0, .gen = gen,
				    .st = { .mode = S_IFDIR | 0755 } };

		syscall(SYS_mkdir, argv[2], 0755);
		chan_publish(h, &r, argv[2]);
	} else if (!strcmp(cmd, "inflight-lying") && argc == 3) {
		/*
		 * A stat of PATH, a host file, that saw other data than it
		 * has, in flight across a write to it (a failing mkdir)
		 */
		struct fp_header *h = chan_map();
		uint64_t gen = __atomic_load_n(&h->gen, __ATOMIC_ACQUIRE);

		syscall(SYS_mkdir, argv[2], 0755);
		publish_found(h, gen, argv[2], 123456789, 1);
	} else if (!strcmp(cmd, "lying-stat") && argc == 3) {
		/* a stat that saw PATH with other data than it has (hazard b) */
		struct fp_header *h = chan_map();
		struct fp_rec r = { .nr = SYS_newfstatat, .ret = 0,
				    .st = { .mode = S_IFREG | 0644, .size = 123456789,
					    .mtime_sec = 1 } };

		r.gen = __atomic_load_n(&h->gen, __ATOMIC_ACQUIRE);
		chan_publish(h, &r, argv[2]);
	} else if (!strcmp(cmd, "page-creat") && argc == 3) {
		/*
		 * A write from the fast path's page (not through the library):
		 * the filter lets only read-only calls through from there, so
		 * this one is notified all the same. Without the page: as is.
		 */
		typedef long (*page_fn)(long, long, long, long, long, long);
		page_fn page = (page_fn)FP_PAGE_ADDR;
		long r;

		if (getenv("LD_PRELOAD"))
			r = page(SYS_openat, AT_FDCWD, (long)argv[2],
				 O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644, 0);
		else
			r = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (r < 0)
			return 1;
	} else if (!strcmp(cmd, "env") && argc == 2) { /* what the job sees */
		const char *p = getenv("LD_PRELOAD");

		printf("LD_PRELOAD=%s\n", p ? p : "");
	} else {
		usage();
	}
	return 0;
}
