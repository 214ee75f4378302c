/*
 * The job's view of host resource facts (DESIGN.md §2, "Host facts").
 *
 * The files a runtime reads at start-up to size itself (memory, CPUs,
 * load, pressure, cgroup limits) change by themselves on the host, so
 * the job is shown generated files instead, bound read-only over the
 * fresh /proc and /sys entries of its view: their bytes are a function of
 * struct sbx_hostfacts, which the caller keys (but for cpuinfo, which it
 * records when the job reads it), and of the host's listing of
 * /sys/devices/system/cpu, which the tracer records when the job lists it.
 *
 * They are generated once per distinct content, in
 * <base>/<XXH3-128 of the inputs>/, made as <base>/.tmp-<random> and
 * renamed into place (a concurrent run that lost the race uses the
 * winner's). Layout of such a directory (format HOSTFACTS_FORMAT,
 * in the inputs hashed, so a change of the generator gets new
 * directories):
 *	proc/meminfo proc/cpuinfo proc/stat proc/uptime proc/loadavg
 *	proc/vmstat proc/cgroups proc/pressure/{cpu,memory,io}
 *	sys/devices/system/cpu/{online,possible,present,offline}
 *	syscpu/		when the host has CPUs the job is not given: the
 *			job's /sys/devices/system/cpu, the host's entries
 *			but those CPUs' cpuN, each an empty placeholder
 *			(a directory, a file) that init binds the host's
 *			entry over (symlinks as the host's)
 *	sys/node0/{meminfo,numastat,vmstat,cpulist}	(NUMA node 0's)
 *	cgroup/		the tree shown at /sys/fs/cgroup
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdarg.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/cpus.h"
#include "common/fdio.h"
#include "common/hash.h"
#include "common/path.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "sandbox/sbx-internal.h"

#include "common/banned.h"

#define HOSTFACTS_FORMAT "procache-hostfacts-3"

/* What the view shows, and where the generated file is. */
static const struct {
	const char *view;	/* the job's path */
	const char *file;	/* in the hostfacts directory */
	bool optional;		/* absent on kernels without it (PSI) */
} synthetic_files[] = {
	{ "/proc/meminfo", "proc/meminfo", false },
	{ "/proc/cpuinfo", "proc/cpuinfo", false },
	{ "/proc/stat", "proc/stat", false },
	{ "/proc/uptime", "proc/uptime", false },
	{ "/proc/loadavg", "proc/loadavg", false },
	{ "/proc/vmstat", "proc/vmstat", false },
	{ "/proc/cgroups", "proc/cgroups", true },
	{ "/proc/pressure/cpu", "proc/pressure/cpu", true },
	{ "/proc/pressure/memory", "proc/pressure/memory", true },
	{ "/proc/pressure/io", "proc/pressure/io", true },
	{ "/sys/devices/system/cpu/online", "sys/devices/system/cpu/online", false },
	{ "/sys/devices/system/cpu/possible", "sys/devices/system/cpu/possible", false },
	{ "/sys/devices/system/cpu/present", "sys/devices/system/cpu/present", false },
	{ "/sys/devices/system/cpu/offline", "sys/devices/system/cpu/offline", true },
	/* NUMA: node 0 holds everything shown (procps reads its meminfo) */
	{ "/sys/devices/system/node/node0/meminfo", "sys/node0/meminfo", true },
	{ "/sys/devices/system/node/node0/numastat", "sys/node0/numastat", true },
	{ "/sys/devices/system/node/node0/vmstat", "sys/node0/vmstat", true },
	{ "/sys/devices/system/node/node0/cpulist", "sys/node0/cpulist", true },
};

const char *const sbx_synthetic_cgroup_dir = "/sys/fs/cgroup";

bool sbx_hostfacts_is_synthetic(const char *path)
{
	size_t i;

	if (path_has_prefix_component(path, sbx_synthetic_cgroup_dir))
		return true;
	for (i = 0; i < ARRAY_SIZE(synthetic_files); i++)
		if (!strcmp(path, synthetic_files[i].view))
			return true;
	return false;
}

char *sbx_hostfacts_cgroup_layout(void)
{
	struct strbuf sb = STRBUF_INIT, out = STRBUF_INIT;
	char *line, *save = NULL;
	size_t start;
	bool v1 = false;

	if (strbuf_read_file_at(&sb, AT_FDCWD, "/proc/self/cgroup", 4096) < 0) {
		strbuf_release(&sb);
		return xstrdup("none");
	}
	/* "4:memory:/path": keep "4:memory", the hierarchies without paths */
	strbuf_addstr(&out, "v1:");
	start = out.len;
	for (line = strtok_r(sb.buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;

		if (!c2)
			continue;
		if (strncmp(line, "0:", 2))
			v1 = true;
		strbuf_addf(&out, "%s%.*s", out.len > start ? ";" : "",
			    (int)(c2 - line), line);
	}
	strbuf_release(&sb);
	if (!v1) {
		strbuf_release(&out);
		return xstrdup("v2");
	}
	return strbuf_detach(&out, NULL);
}

uint64_t sbx_hostfacts_default_memory(void)
{
	const uint64_t gib = 1ULL << 30, step = 256ULL << 20;
	struct sysinfo si;
	uint64_t total;

	if (sysinfo(&si) < 0)
		return gib;
	total = (uint64_t)si.totalram * (si.mem_unit ? si.mem_unit : 1);
	/*
	 * Rounded down, so that machines of one size whose kernels reserve
	 * a little more or less show the same.
	 */
	if (total >= 2 * gib)
		return total / gib * gib;
	return total > step ? total / step * step : step;
}

static void count_range(unsigned long a, unsigned long b, void *ctx)
{
	*(unsigned long *)ctx += b - a + 1;
}

unsigned sbx_cpu_list_count(const char *list)
{
	unsigned long n = 0;

	return cpu_list_ranges(list, count_range, &n) < 0 ? 0 : (unsigned)n;
}

static int put(int dirfd, const char *name, const struct strbuf *sb,
	       struct strbuf *err)
{
	_cleanup_free_ char *dir = NULL;
	const char *slash = strrchr(name, '/');
	_cleanup_close_ int fd = -1;

	if (slash) {
		dir = xstrndup(name, (size_t)(slash - name));
		if (mkdir_p_at(dirfd, dir, 0755) < 0) {
			strbuf_addf(err, "cannot create '%s': %s", dir,
				    strerror(errno));
			return -errno;
		}
	}
	fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
	if (fd < 0 || write_full(fd, sb->buf, sb->len) < 0) {
		int e = errno ? errno : EIO;

		strbuf_addf(err, "cannot write '%s': %s", name, strerror(e));
		return -e;
	}
	return 0;
}

static int put_str(int dirfd, const char *name, const char *s,
		   struct strbuf *err)
{
	struct strbuf sb = STRBUF_INIT;
	int ret;

	strbuf_addstr(&sb, s);
	ret = put(dirfd, name, &sb, err);
	strbuf_release(&sb);
	return ret;
}

/* One line of a meminfo file: the kernel pads the label to 16, the value to 8. */
static void mem_line(struct strbuf *sb, const char *prefix, const char *name,
		     unsigned long long value, const char *unit)
{
	char label[32];

	snprintf(label, sizeof(label), "%s:", name);
	strbuf_addf(sb, "%s%-16s%8llu%s\n", prefix, label, value, unit);
}

/*
 * @names: "=" before a name shows the memory (kB), "#" a count of 0
 * without unit, anything else 0 kB.
 */
static void mem_lines(struct strbuf *sb, const char *prefix,
		      const char *const *names, size_t n,
		      const struct sbx_hostfacts *hf)
{
	unsigned long long kb = (unsigned long long)(hf->memory_bytes >> 10);
	size_t i;

	for (i = 0; i < n; i++) {
		const char *name = names[i];

		if (*name == '=')
			mem_line(sb, prefix, name + 1, kb, " kB");
		else if (*name == '#')
			mem_line(sb, prefix, name + 1, 0, "");
		else
			mem_line(sb, prefix, name, 0, " kB");
	}
}

static void meminfo(const struct sbx_hostfacts *hf, struct strbuf *sb)
{
	static const char *const names[] = {
		"=MemTotal", "=MemFree", "=MemAvailable", "Buffers", "Cached",
		"SwapCached", "Active", "Inactive", "Active(anon)",
		"Inactive(anon)", "Active(file)", "Inactive(file)",
		"Unevictable", "Mlocked", "SwapTotal", "SwapFree", "Dirty",
		"Writeback", "AnonPages", "Mapped", "Shmem", "KReclaimable",
		"Slab", "SReclaimable", "SUnreclaim", "KernelStack",
		"PageTables", "NFS_Unstable", "Bounce", "WritebackTmp",
		"=CommitLimit", "Committed_AS", "#HugePages_Total",
		"#HugePages_Free", "#HugePages_Rsvd", "#HugePages_Surp",
	};

	mem_lines(sb, "", names, ARRAY_SIZE(names), hf);
	mem_line(sb, "", "Hugepagesize", 2048, " kB");
}

static void node_meminfo(const struct sbx_hostfacts *hf, struct strbuf *sb)
{
	static const char *const names[] = {
		"=MemTotal", "=MemFree", "MemUsed", "SwapCached", "Active",
		"Inactive", "Dirty", "Writeback", "FilePages", "Mapped",
		"AnonPages", "Shmem", "KernelStack", "PageTables", "Slab",
		"SReclaimable", "SUnreclaim", "#HugePages_Total",
		"#HugePages_Free",
	};

	mem_lines(sb, "Node 0 ", names, ARRAY_SIZE(names), hf);
}

static void stat_cpu_lines(unsigned long a, unsigned long b, void *ctx)
{
	for (; a <= b; a++)
		strbuf_addf(ctx, "cpu%lu 0 0 0 0 0 0 0 0 0 0\n", a);
}

static void proc_stat(const struct sbx_hostfacts *hf, struct strbuf *sb)
{
	strbuf_addstr(sb, "cpu  0 0 0 0 0 0 0 0 0 0\n");
	cpu_list_ranges(hf->cpu_list, stat_cpu_lines, sb);
	strbuf_addstr(sb, "intr 0\nctxt 0\nbtime 1700000000\nprocesses 1\n"
		      "procs_running 1\nprocs_blocked 0\n"
		      "softirq 0 0 0 0 0 0 0 0 0 0 0\n");
}

static void vmstat(struct strbuf *sb)
{
	static const char *const names[] = {
		"nr_free_pages", "nr_inactive_anon", "nr_active_anon",
		"nr_inactive_file", "nr_active_file", "nr_unevictable",
		"nr_mlock", "nr_anon_pages", "nr_mapped", "nr_file_pages",
		"nr_dirty", "nr_writeback", "nr_shmem", "pgpgin", "pgpgout",
		"pswpin", "pswpout", "pgfault", "pgmajfault", "oom_kill",
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(names); i++)
		strbuf_addf(sb, "%s 0\n", names[i]);
}

/* ------------------------------------------------------------------ */
/* the cgroup tree: the run's own cgroup is its root (cgroup namespace) */

struct cgroup_gen {
	const struct sbx_hostfacts *hf;
	int dirfd;
	struct strbuf *err;
};

static int cg_put(struct cgroup_gen *g, const char *dir, const char *file,
		  const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int cg_put(struct cgroup_gen *g, const char *dir, const char *file,
		  const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT, name = STRBUF_INIT;
	va_list ap;
	int ret;

	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	strbuf_addf(&name, "cgroup/%s%s%s", dir, *dir ? "/" : "", file);
	ret = put(g->dirfd, name.buf, &sb, g->err);
	strbuf_release(&sb);
	strbuf_release(&name);
	return ret;
}

static const char *max_or(uint64_t v, char *buf, size_t size)
{
	if (!v)
		return "max";
	snprintf(buf, size, "%llu", (unsigned long long)v);
	return buf;
}

/* cgroup v2 files of the root of the namespace, at cgroup/@dir */
static int cg_v2(struct cgroup_gen *g, const char *dir, bool controllers)
{
	const struct sbx_hostfacts *hf = g->hf;
	char mem[32], pids[32];
	int ret = 0;

	if (!controllers)
		return cg_put(g, dir, "cgroup.controllers", "\n") ?:
		       cg_put(g, dir, "cgroup.subtree_control", "\n") ?:
		       cg_put(g, dir, "cgroup.procs", "%s", "");
	ret = cg_put(g, dir, "cgroup.controllers", "cpuset cpu io memory pids\n") ?:
	      cg_put(g, dir, "cgroup.subtree_control", "\n") ?:
	      cg_put(g, dir, "cgroup.type", "domain\n") ?:
	      cg_put(g, dir, "cgroup.procs", "%s", "") ?:
	      cg_put(g, dir, "memory.max", "%s\n",
		     max_or(hf->memory_limited ? hf->memory_bytes : 0, mem, sizeof(mem))) ?:
	      cg_put(g, dir, "memory.high", "max\n") ?:
	      cg_put(g, dir, "memory.low", "0\n") ?:
	      cg_put(g, dir, "memory.min", "0\n") ?:
	      cg_put(g, dir, "memory.swap.max", "%s\n", hf->memory_limited ? "0" : "max") ?:
	      cg_put(g, dir, "memory.current", "0\n") ?:
	      cg_put(g, dir, "memory.peak", "0\n") ?:
	      cg_put(g, dir, "memory.stat",
		     "anon 0\nfile 0\nkernel 0\nkernel_stack 0\npagetables 0\n"
		     "shmem 0\nfile_mapped 0\nfile_dirty 0\nfile_writeback 0\n"
		     "inactive_anon 0\nactive_anon 0\ninactive_file 0\n"
		     "active_file 0\nunevictable 0\nslab 0\n") ?:
	      cg_put(g, dir, "pids.max", "%s\n", max_or(hf->pids_max, pids, sizeof(pids))) ?:
	      cg_put(g, dir, "pids.current", "1\n") ?:
	      cg_put(g, dir, "cpuset.cpus", "%s\n", hf->cpu_list) ?:
	      cg_put(g, dir, "cpuset.cpus.effective", "%s\n", hf->cpu_list) ?:
	      cg_put(g, dir, "cpu.weight", "100\n") ?:
	      cg_put(g, dir, "cpu.stat",
		     "usage_usec 0\nuser_usec 0\nsystem_usec 0\nnr_periods 0\n"
		     "nr_throttled 0\nthrottled_usec 0\n");
	if (ret)
		return ret;
	if (hf->cpus)
		return cg_put(g, dir, "cpu.max", "%u 100000\n", hf->cpus * 100000u);
	return cg_put(g, dir, "cpu.max", "max 100000\n");
}

/* cgroup v1 files of one controller, at cgroup/@dir */
static int cg_v1_controller(struct cgroup_gen *g, const char *dir,
			    const char *ctl)
{
	const struct sbx_hostfacts *hf = g->hf;
	/* the kernel's "no limit" for v1 memory: PAGE_COUNTER_MAX pages */
	const unsigned long long unlimited = 9223372036854771712ULL;
	unsigned long long mem = hf->memory_limited ? hf->memory_bytes : unlimited;
	char pids[32];

	if (!strcmp(ctl, "memory"))
		return cg_put(g, dir, "memory.limit_in_bytes", "%llu\n", mem) ?:
		       cg_put(g, dir, "memory.memsw.limit_in_bytes", "%llu\n", mem) ?:
		       cg_put(g, dir, "memory.soft_limit_in_bytes", "%llu\n", unlimited) ?:
		       cg_put(g, dir, "memory.usage_in_bytes", "0\n") ?:
		       cg_put(g, dir, "memory.max_usage_in_bytes", "0\n") ?:
		       cg_put(g, dir, "memory.stat",
			      "cache 0\nrss 0\nrss_huge 0\nshmem 0\nmapped_file 0\n"
			      "dirty 0\nwriteback 0\nswap 0\npgpgin 0\npgpgout 0\n"
			      "hierarchical_memory_limit %llu\n"
			      "total_cache 0\ntotal_rss 0\n", mem);
	if (!strcmp(ctl, "cpu"))
		return cg_put(g, dir, "cpu.cfs_period_us", "100000\n") ?:
		       cg_put(g, dir, "cpu.cfs_quota_us", "%lld\n",
			      hf->cpus ? (long long)hf->cpus * 100000 : -1LL) ?:
		       cg_put(g, dir, "cpu.shares", "1024\n") ?:
		       cg_put(g, dir, "cpu.stat",
			      "nr_periods 0\nnr_throttled 0\nthrottled_time 0\n");
	if (!strcmp(ctl, "cpuacct"))
		return cg_put(g, dir, "cpuacct.usage", "0\n");
	if (!strcmp(ctl, "cpuset"))
		return cg_put(g, dir, "cpuset.cpus", "%s\n", hf->cpu_list) ?:
		       cg_put(g, dir, "cpuset.effective_cpus", "%s\n", hf->cpu_list);
	if (!strcmp(ctl, "pids"))
		return cg_put(g, dir, "pids.max", "%s\n",
			      max_or(hf->pids_max, pids, sizeof(pids))) ?:
		       cg_put(g, dir, "pids.current", "1\n");
	return 0;
}

/*
 * The v1 (hybrid) layout of @layout ("v1:4:memory;3:cpu,cpuacct;0:"):
 * a directory per hierarchy, named after its controllers, with a symlink
 * per controller of a shared one, and "unified" for the v2 hierarchy.
 */
static int cg_v1(struct cgroup_gen *g, const char *layout, struct strbuf *cgroups)
{
	_cleanup_free_ char *copy = xstrdup(layout + 3);
	char *item, *save = NULL;
	int ret = 0;

	for (item = strtok_r(copy, ";", &save); item && !ret;
	     item = strtok_r(NULL, ";", &save)) {
		char *ctls = strchr(item, ':');
		_cleanup_free_ char *dir = NULL;
		char *c, *csave = NULL;

		if (!ctls)
			continue;
		*ctls++ = '\0';
		if (!strcmp(item, "0")) {
			if (mkdir_p_at(g->dirfd, "cgroup/unified", 0755) < 0)
				return -errno;
			ret = cg_v2(g, "unified", false);
			continue;
		}
		dir = xstrdup(!strncmp(ctls, "name=", 5) ? ctls + 5 : ctls);
		{
			_cleanup_free_ char *rel = xasprintf("cgroup/%s", dir);

			if (mkdir_p_at(g->dirfd, rel, 0755) < 0)
				return -errno;
		}
		ret = cg_put(g, dir, "cgroup.procs", "%s", "");
		if (!strncmp(ctls, "name=", 5))
			continue;
		for (c = strtok_r(ctls, ",", &csave); c && !ret;
		     c = strtok_r(NULL, ",", &csave)) {
			strbuf_addf(cgroups, "%s\t%s\t1\t1\n", c, item);
			ret = cg_v1_controller(g, dir, c);
			if (!ret && strcmp(c, dir)) {
				_cleanup_free_ char *link = xasprintf("cgroup/%s", c);

				if (symlinkat(dir, g->dirfd, link) < 0 && errno != EEXIST)
					return -errno;
			}
		}
	}
	return ret;
}

static void hostfacts_inputs(const struct sbx_hostfacts *hf,
			     const struct strbuf *syscpu, struct strbuf *sb)
{
	strbuf_addf(sb, "%s\nmemory=%llu\nlimited=%d\npids=%llu\ncpus=%u\n"
		    "cpu_list=%s\ncgroup=%s\nsyscpu=%zu\n%s\ncpuinfo=%zu\n%s",
		    HOSTFACTS_FORMAT, (unsigned long long)hf->memory_bytes,
		    hf->memory_limited, (unsigned long long)hf->pids_max,
		    hf->cpus, hf->cpu_list, hf->cgroup_layout, syscpu->len,
		    syscpu->buf, strlen(hf->cpuinfo), hf->cpuinfo);
}

/* ------------------------------------------------------------------ */
/* /sys/devices/system/cpu without the CPUs the job is not given */

#define SYSCPU_DIR "/sys/devices/system/cpu"

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "cpu12": a CPU's directory, its number in *@cpu */
static bool is_cpu_entry(const char *name, unsigned long *cpu)
{
	char *end;

	if (strncmp(name, "cpu", 3) || name[3] < '0' || name[3] > '9')
		return false;
	*cpu = strtoul(name + 3, &end, 10);
	return !*end;
}

/*
 * The host's SYSCPU_DIR as the job sees it, into @out, one sorted line
 * per entry ("d NAME", "f NAME", "l NAME TARGET"), when it names a CPU
 * not in @cpu_list; else @out stays empty (the view shows the host's
 * directory, but for the generated files). A directory that cannot be
 * read leaves @out empty too: the host's is shown, its reads recorded.
 */
static void syscpu_listing(const char *cpu_list, struct strbuf *out)
{
	_cleanup_close_ int fd = open(SYSCPU_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	char **lines = NULL;
	size_t nr = 0, alloc = 0, i;
	bool hides = false;
	struct dirent *de;

	if (!d)
		return;
	fd = -1; /* the DIR owns it */
	/* sysfs gives every d_type: no stat unless another file system does not */
	while ((de = readdir(d))) {
		unsigned long cpu;
		unsigned char type = de->d_type;
		char target[PATH_MAX];
		ssize_t n;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (is_cpu_entry(de->d_name, &cpu) && !cpu_list_has(cpu_list, cpu)) {
			hides = true;
			continue;
		}
		if (type == DT_UNKNOWN) {
			struct stat st;

			if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
				continue; /* gone meanwhile */
			type = S_ISLNK(st.st_mode) ? DT_LNK : S_ISDIR(st.st_mode) ? DT_DIR : DT_REG;
		}
		ALLOC_GROW(lines, nr + 1, alloc);
		if (type == DT_LNK &&
		    (n = readlinkat(dirfd(d), de->d_name, target, sizeof(target) - 1)) > 0)
			lines[nr++] = xasprintf("l %s %.*s", de->d_name, (int)n, target);
		else if (type == DT_DIR)
			lines[nr++] = xasprintf("d %s", de->d_name);
		else
			lines[nr++] = xasprintf("f %s", de->d_name);
	}
	closedir(d);
	if (hides && nr)
		qsort(lines, nr, sizeof(*lines), cmp_str);
	for (i = 0; i < nr; i++) {
		if (hides)
			strbuf_addf(out, "%s\n", lines[i]);
		free(lines[i]);
	}
	free(lines);
}

/* The placeholders of @listing (syscpu_listing()) in syscpu/ under @dirfd */
static int syscpu_generate(int dirfd, const char *listing, struct strbuf *err)
{
	_cleanup_free_ char *copy = xstrdup(listing);
	char *line, *save = NULL;

	if (mkdirat(dirfd, "syscpu", 0755) < 0)
		goto fail;
	for (line = strtok_r(copy, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		_cleanup_free_ char *rel = NULL;
		char *target = NULL;
		int fd;

		if (line[0] == 'l') {
			target = strchr(line + 2, ' ');
			if (!target)
				continue;
			*target++ = '\0';
		}
		rel = xasprintf("syscpu/%s", line + 2);
		switch (line[0]) {
		case 'd':
			if (mkdirat(dirfd, rel, 0755) < 0)
				goto fail;
			break;
		case 'l':
			if (symlinkat(target, dirfd, rel) < 0)
				goto fail;
			break;
		default:
			fd = openat(dirfd, rel, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
			if (fd < 0)
				goto fail;
			close(fd);
		}
	}
	return 0;
fail:
	strbuf_addf(err, "cannot create the view of '%s': %s", SYSCPU_DIR,
		    strerror(errno));
	return -errno;
}

static int generate(const struct sbx_hostfacts *hf, const struct strbuf *syscpu,
		    int dirfd, struct strbuf *err)
{
	struct strbuf sb = STRBUF_INIT, cgroups = STRBUF_INIT;
	struct cgroup_gen g = { .hf = hf, .dirfd = dirfd, .err = err };
	static const char pressure[] =
		"some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"
		"full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n";
	int ret;

	meminfo(hf, &sb);
	ret = put(dirfd, "proc/meminfo", &sb, err) ?:
	      put_str(dirfd, "proc/cpuinfo", hf->cpuinfo, err);
	strbuf_reset(&sb);
	proc_stat(hf, &sb);
	if (!ret)
		ret = put(dirfd, "proc/stat", &sb, err);
	strbuf_reset(&sb);
	vmstat(&sb);
	if (!ret)
		ret = put(dirfd, "proc/vmstat", &sb, err) ?:
		      put_str(dirfd, "proc/uptime", "100.00 100.00\n", err) ?:
		      put_str(dirfd, "proc/loadavg", "0.00 0.00 0.00 1/1 1\n", err) ?:
		      put_str(dirfd, "proc/pressure/cpu", pressure, err) ?:
		      put_str(dirfd, "proc/pressure/memory", pressure, err) ?:
		      put_str(dirfd, "proc/pressure/io", pressure, err);
	strbuf_reset(&sb);
	strbuf_addf(&sb, "%s\n", hf->cpu_list);
	if (!ret)
		ret = put(dirfd, "sys/devices/system/cpu/online", &sb, err) ?:
		      put(dirfd, "sys/devices/system/cpu/possible", &sb, err) ?:
		      put(dirfd, "sys/devices/system/cpu/present", &sb, err) ?:
		      put_str(dirfd, "sys/devices/system/cpu/offline", "\n", err);
	if (!ret && syscpu->len)
		ret = syscpu_generate(dirfd, syscpu->buf, err);
	if (!ret)
		ret = put(dirfd, "sys/node0/cpulist", &sb, err);
	strbuf_reset(&sb);
	node_meminfo(hf, &sb);
	if (!ret)
		ret = put(dirfd, "sys/node0/meminfo", &sb, err) ?:
		      put_str(dirfd, "sys/node0/numastat",
			      "numa_hit 0\nnuma_miss 0\nnuma_foreign 0\n"
			      "interleave_hit 0\nlocal_node 0\nother_node 0\n", err);
	strbuf_reset(&sb);
	vmstat(&sb);
	if (!ret)
		ret = put(dirfd, "sys/node0/vmstat", &sb, err);
	if (!ret && mkdir_p_at(dirfd, "cgroup", 0755) < 0)
		ret = -errno;
	strbuf_addstr(&cgroups, "#subsys_name\thierarchy\tnum_cgroups\tenabled\n");
	if (!ret && !strncmp(hf->cgroup_layout, "v1:", 3)) {
		ret = cg_v1(&g, hf->cgroup_layout, &cgroups);
	} else if (!ret) {
		static const char *const ctls[] = { "cpuset", "cpu", "io", "memory", "pids" };
		size_t i;

		for (i = 0; i < ARRAY_SIZE(ctls); i++)
			strbuf_addf(&cgroups, "%s\t0\t1\t1\n", ctls[i]);
		ret = cg_v2(&g, "", true);
	}
	if (!ret)
		ret = put(dirfd, "proc/cgroups", &cgroups, err);
	if (ret && !strstr(err->buf, "cannot "))
		strbuf_addf(err, "cannot generate: %s", strerror(-ret));
	strbuf_release(&sb);
	strbuf_release(&cgroups);
	return ret;
}

int sbx_hostfacts_prepare(const struct sbx_hostfacts *hf, const char *base,
			  char **out, struct strbuf *err)
{
	struct strbuf in = STRBUF_INIT;
	_cleanup_strbuf_ struct strbuf syscpu = STRBUF_INIT;
	struct pc_hash h;
	char hex[PC_HASH_HEX_LEN + 1], tmp[64];
	_cleanup_close_ int basefd = -1, tfd = -1;
	unsigned int r;
	size_t errlen = err->len;
	int ret;

	*out = NULL;
	if (!sbx_cpu_list_count(hf->cpu_list)) {
		strbuf_addf(err, "bad CPU list '%s'", hf->cpu_list);
		return -EINVAL;
	}
	if (!hf->cpuinfo) {
		strbuf_addstr(err, "no cpuinfo given for the host facts");
		return -EINVAL;
	}
	syscpu_listing(hf->cpu_list, &syscpu);
	hostfacts_inputs(hf, &syscpu, &in);
	pc_hash_buffer(in.buf, in.len, &h);
	strbuf_release(&in);
	pc_hash_to_hex(&h, hex);
	if (mkdir_p_at(AT_FDCWD, base, 0755) < 0 ||
	    (basefd = open(base, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) {
		strbuf_addf(err, "cannot create '%s': %s", base, strerror(errno));
		return -errno;
	}
	*out = path_join(base, hex);
	if (faccessat(basefd, hex, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
		return 0;	/* generated by an earlier run: the usual case */

	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != sizeof(r))
		r = (unsigned int)getpid();
	snprintf(tmp, sizeof(tmp), ".tmp-%d-%08x", (int)getpid(), r);
	if (mkdirat(basefd, tmp, 0755) < 0 ||
	    (tfd = openat(basefd, tmp, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) {
		strbuf_addf(err, "cannot create '%s/%s': %s", base, tmp,
			    strerror(errno));
		ret = -errno;
		goto fail;
	}
	strbuf_addf(err, "host facts in '%s/%s': ", base, tmp);
	ret = generate(hf, &syscpu, tfd, err);
	if (ret < 0) {
		rm_rf_at(basefd, tmp);
		goto fail;
	}
	strbuf_setlen(err, errlen);
	if (renameat(basefd, tmp, basefd, hex) < 0) {
		int e = errno;

		rm_rf_at(basefd, tmp);
		/* another run made the same directory first: use it */
		if (e == EEXIST || e == ENOTEMPTY)
			return 0;
		strbuf_addf(err, "cannot rename '%s/%s': %s", base, tmp, strerror(e));
		ret = -e;
		goto fail;
	}
	return 0;
fail:
	free(*out);
	*out = NULL;
	return ret;
}

/* ------------------------------------------------------------------ */
/* in init: bind the generated files over the view's /proc and /sys */

/*
 * SYSCPU_DIR in the view becomes the generated syscpu/ (read-only), and
 * the host's entries of the view's sysfs are bound over its placeholders
 * (taken before they are covered), but the generated files, which the
 * caller binds after.
 */
static int bind_syscpu(int dfd, int rootfd, struct mount_attr *ro,
		       const char **what, const char **where)
{
	const char *rel = SYSCPU_DIR + 1;
	_cleanup_close_ int gfd = -1, tree = -1;
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;
	struct { int fd; char *name; } *host = NULL;
	size_t nr = 0, alloc = 0, i;
	int ret = -1;

	*where = SYSCPU_DIR;
	*what = "open";
	gfd = openat(dfd, "syscpu", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (gfd < 0 || !(d = fdopendir(gfd)))
		return -1;
	gfd = -1; /* the DIR owns it */
	while ((de = readdir(d))) {
		_cleanup_free_ char *view = NULL;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
		    (de->d_type != DT_DIR && de->d_type != DT_REG))
			continue;
		view = xasprintf("%s/%s", SYSCPU_DIR, de->d_name);
		if (sbx_hostfacts_is_synthetic(view))
			continue;
		ALLOC_GROW(host, nr + 1, alloc);
		host[nr].name = xstrdup(de->d_name);
		host[nr].fd = open_tree(rootfd, view + 1, OPEN_TREE_CLONE |
						      OPEN_TREE_CLOEXEC | AT_RECURSIVE);
		/* gone since generated (hot-unplugged): the placeholder stays */
		if (host[nr].fd < 0 && errno != ENOENT) {
			*what = "open_tree";
			nr++;
			goto out;
		}
		nr++;
	}
	*what = "open_tree";
	tree = open_tree(dfd, "syscpu", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC |
					       AT_RECURSIVE);
	if (tree < 0)
		goto out;
	*what = "mount_setattr";
	if (mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, ro, sizeof(*ro)) < 0)
		goto out;
	*what = "move_mount";
	if (move_mount(tree, "", rootfd, rel, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		goto out;
	for (i = 0; i < nr; i++) {
		_cleanup_free_ char *view = xasprintf("%s/%s", rel, host[i].name);

		if (host[i].fd >= 0 &&
		    move_mount(host[i].fd, "", rootfd, view, MOVE_MOUNT_F_EMPTY_PATH) < 0)
			goto out;
	}
	ret = 0;
out:
	for (i = 0; i < nr; i++) {
		if (host[i].fd >= 0)
			close(host[i].fd);
		free(host[i].name);
	}
	free(host);
	return ret;
}

/*
 * A read-only clone of @name under the host-facts directory: from @base,
 * the directory's detached read-only copy, when the kernel clones from a
 * detached tree (6.15 and later), which carries the attributes; else
 * from @dfd, then made read-only itself (older kernels say EINVAL, and
 * *@base is closed so the next file goes straight there). Returns the
 * mount fd, or -1 with errno and *@what.
 */
static int clone_ro(int dfd, int *base, const char *name, unsigned rec,
		    struct mount_attr *ro, const char **what)
{
	int fd;

	*what = "open_tree";
	if (*base >= 0) {
		fd = open_tree(*base, name, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | rec);
		if (fd >= 0 || errno != EINVAL)
			return fd;
		close(*base);
		*base = -1;
	}
	fd = open_tree(dfd, name, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | rec);
	if (fd < 0)
		return -1;
	*what = "mount_setattr";
	if (mount_setattr(fd, "", AT_EMPTY_PATH | rec, ro, sizeof(*ro)) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

int sbx_hostfacts_bind(const char *dir, int rootfd, const char **what,
		       const char **where)
{
	_cleanup_close_ int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	_cleanup_close_ int base = -1;
	struct mount_attr ro = {
		.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID |
			    MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC,
	};
	size_t i;

	*what = "open";
	*where = dir;
	if (dfd < 0)
		return -1;
	if (faccessat(dfd, "syscpu", F_OK, AT_SYMLINK_NOFOLLOW) == 0 &&
	    bind_syscpu(dfd, rootfd, &ro, what, where) < 0)
		return -1;
	/*
	 * One detached copy of the directory, made read-only once (the
	 * files are shared by every run of the cache): a bind cloned from
	 * it carries its attributes, so each file costs an open_tree and a
	 * move_mount, not five calls (clone_ro(): older kernels pay three).
	 */
	*what = "open_tree";
	base = open_tree(dfd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
	if (base < 0)
		return -1;
	*what = "mount_setattr";
	if (mount_setattr(base, "", AT_EMPTY_PATH, &ro, sizeof(ro)) < 0)
		return -1;
	for (i = 0; i < ARRAY_SIZE(synthetic_files); i++) {
		_cleanup_close_ int fd = -1;
		const char *rel = synthetic_files[i].view + 1;

		*where = synthetic_files[i].view;
		fd = clone_ro(dfd, &base, synthetic_files[i].file, 0, &ro, what);
		if (fd < 0)
			return -1;
		*what = "move_mount";
		if (move_mount(fd, "", rootfd, rel, MOVE_MOUNT_F_EMPTY_PATH) < 0) {
			/* the view has no such file: a kernel without it (PSI) */
			if (errno == ENOENT && synthetic_files[i].optional)
				continue;
			return -1;
		}
	}

	/*
	 * /sys/fs/cgroup: the host's cgroup mounts are detached where the
	 * view may (as root; in a user namespace they are locked), and the
	 * generated tree is put over them, read-only.
	 */
	{
		_cleanup_close_ int fd = -1, cfd = -1;
		const char *rel = sbx_synthetic_cgroup_dir + 1;
		char proc_path[64];

		*where = sbx_synthetic_cgroup_dir;
		cfd = openat(rootfd, rel, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (cfd < 0 && errno == ENOENT)
			return 0; /* no /sys/fs/cgroup on this host */
		if (cfd >= 0) {
			snprintf(proc_path, sizeof(proc_path), "/proc/self/fd/%d", cfd);
			(void)umount2(proc_path, MNT_DETACH);
		}
		/*
		 * hostfacts/cgroup is a plain directory tree with no mount
		 * of its own beneath it: @base (cloned without AT_RECURSIVE)
		 * holds all of it.
		 */
		fd = clone_ro(dfd, &base, "cgroup", AT_RECURSIVE, &ro, what);
		if (fd < 0)
			return -1;
		*what = "move_mount";
		if (move_mount(fd, "", rootfd, rel, MOVE_MOUNT_F_EMPTY_PATH) < 0)
			return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------ */

static void set_cpus(unsigned long a, unsigned long b, void *ctx)
{
	cpu_set_t *set = ctx;

	for (; a <= b && a < CPU_SETSIZE; a++)
		CPU_SET(a, set);
}

int sbx_hostfacts_attach(const struct sbx *s, pid_t pid, struct strbuf *err)
{
	cpu_set_t set;

	if (!s->cfg.cpu_list)
		return 0;
	CPU_ZERO(&set);
	cpu_list_ranges(s->cfg.cpu_list, set_cpus, &set);
	if (sched_setaffinity(pid, sizeof(set), &set) < 0) {
		strbuf_addf(err, "cannot give the sandbox CPUs %s: %s",
			    s->cfg.cpu_list, strerror(errno));
		return -errno;
	}
	return 0;
}

struct first_cpus {
	struct strbuf sb;
	unsigned left;
};

static void take_range(unsigned long a, unsigned long b, void *ctx)
{
	struct first_cpus *f = ctx;

	if (!f->left)
		return;
	if (b - a + 1 > f->left)
		b = a + f->left - 1;
	f->left -= (unsigned)(b - a + 1);
	strbuf_addf(&f->sb, "%s%lu", f->sb.len ? "," : "", a);
	if (b > a)
		strbuf_addf(&f->sb, "-%lu", b);
}

char *sbx_cpu_list_first(const char *list, unsigned n)
{
	struct first_cpus f = { .sb = STRBUF_INIT, .left = n };

	if (cpu_list_ranges(list, take_range, &f) < 0 || f.left) {
		strbuf_release(&f.sb);
		return NULL;
	}
	return strbuf_detach(&f.sb, NULL);
}
