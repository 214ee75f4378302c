/*
 * sandbox/hostfacts.c: the CPU lists, and the generated files being a
 * function of struct sbx_hostfacts alone (DESIGN.md §2, "Host facts");
 * common/cpus.c: the /proc/cpuinfo shown and its host-fact check.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cpus.h"
#include "common/path.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "sandbox/sandbox.h"
#include "tests/unit/unit.h"

TEST(test_cpu_lists)
{
	char *s;

	CHECK(sbx_cpu_list_count("0-3,6") == 5);
	CHECK(sbx_cpu_list_count("0") == 1);
	CHECK(sbx_cpu_list_count("") == 0);
	CHECK(sbx_cpu_list_count("3-1") == 0);
	CHECK(sbx_cpu_list_count("0,") == 0);
	CHECK(sbx_cpu_list_count("a") == 0);
	s = sbx_cpu_list_first("0-3,6", 2);
	CHECK_EQ_STR(s, "0-1");
	free(s);
	s = sbx_cpu_list_first("0-1,4-7", 3);
	CHECK_EQ_STR(s, "0-1,4");
	free(s);
	s = sbx_cpu_list_first("2,5", 2);
	CHECK_EQ_STR(s, "2,5");
	free(s);
	CHECK(sbx_cpu_list_first("0-1", 3) == NULL);
}

static char *read_at(const char *dir, const char *rel)
{
	struct strbuf sb = STRBUF_INIT;
	char *p = path_join(dir, rel);

	if (strbuf_read_file_at(&sb, AT_FDCWD, p, 0) < 0)
		strbuf_addstr(&sb, "(unreadable)");
	free(p);
	return strbuf_detach(&sb, NULL);
}

TEST(test_generated_once_per_content)
{
	const char *base = unit_tmpdir();
	struct sbx_hostfacts hf = {
		.memory_bytes = 1ULL << 30, .memory_limited = true,
		.pids_max = 64, .cpus = 1, .cpu_list = "0",
		.cgroup_layout = "v1:4:memory;3:cpu,cpuacct;2:pids;0:",
		.cpuinfo = "processor\t: 0\nmodel name\t: X\n\n",
	};
	struct strbuf err = STRBUF_INIT;
	char *d1 = NULL, *d2 = NULL, *d2b = NULL, *d3 = NULL, *s;

	CHECK(sbx_hostfacts_prepare(&hf, base, &d1, &err) == 0);
	CHECK(sbx_hostfacts_prepare(&hf, base, &d2, &err) == 0);
	CHECK_EQ_STR(d1, d2);
	s = read_at(d1, "proc/meminfo");
	CHECK(!strncmp(s, "MemTotal:        1048576 kB\n", 28));
	free(s);
	s = read_at(d1, "cgroup/memory/memory.limit_in_bytes");
	CHECK_EQ_STR(s, "1073741824\n");
	free(s);
	/* a shared hierarchy: its directory, and a symlink per controller */
	s = read_at(d1, "cgroup/cpu/cpu.cfs_quota_us");
	CHECK_EQ_STR(s, "100000\n");
	free(s);
	s = read_at(d1, "cgroup/cpu,cpuacct/cpu.cfs_period_us");
	CHECK_EQ_STR(s, "100000\n");
	free(s);
	s = read_at(d1, "cgroup/pids/pids.max");
	CHECK_EQ_STR(s, "64\n");
	free(s);
	s = read_at(d1, "sys/devices/system/cpu/online");
	CHECK_EQ_STR(s, "0\n");
	free(s);
	s = read_at(d1, "sys/devices/system/cpu/offline");
	CHECK_EQ_STR(s, "\n");
	free(s);
	s = read_at(d1, "proc/cpuinfo");
	CHECK_EQ_STR(s, hf.cpuinfo);
	free(s);
	/* CPUs of the host not given: the directory without their cpuN */
	if (access("/sys/devices/system/cpu/cpu1", F_OK) == 0) {
		s = path_join(d1, "syscpu");
		CHECK(access(s, F_OK) == 0);
		free(s);
		s = path_join(d1, "syscpu/cpu0");
		CHECK(access(s, F_OK) == 0);
		free(s);
		s = path_join(d1, "syscpu/cpu1");
		CHECK(access(s, F_OK) < 0);
		free(s);
	}

	/* another input, another directory */
	hf.cgroup_layout = "v2";
	hf.cpus = 0;
	CHECK(sbx_hostfacts_prepare(&hf, base, &d3, &err) == 0);
	CHECK(strcmp(d1, d3) != 0);
	s = read_at(d3, "cgroup/cpu.max");
	CHECK_EQ_STR(s, "max 100000\n");
	free(s);
	s = read_at(d3, "cgroup/memory.max");
	CHECK_EQ_STR(s, "1073741824\n");
	free(s);

	CHECK(sbx_hostfacts_is_synthetic("/proc/meminfo"));
	CHECK(sbx_hostfacts_is_synthetic("/sys/fs/cgroup/memory/x"));
	CHECK(sbx_hostfacts_is_synthetic("/proc/cpuinfo"));
	CHECK(sbx_hostfacts_is_synthetic("/sys/devices/system/cpu/offline"));
	CHECK(!sbx_hostfacts_is_synthetic("/sys/devices/system/cpu"));
	CHECK(!sbx_hostfacts_is_synthetic("/sys/devices/system/cpu/cpu0/online"));
	CHECK(!sbx_hostfacts_is_synthetic("/proc/meminfo2"));
	/* another model line, another directory */
	hf.cpuinfo = "processor\t: 0\nmodel name\t: Y\n\n";
	CHECK(sbx_hostfacts_prepare(&hf, base, &d2b, &err) == 0);
	CHECK(strcmp(d2b, d3) != 0);
	free(d1);
	free(d2);
	free(d2b);
	free(d3);
	strbuf_release(&err);
}

TEST(test_cpuinfo_shown)
{
	struct strbuf shown = STRBUF_INIT, fact = STRBUF_INIT, found = STRBUF_INIT;
	char *bad;

	CHECK(cpu_list_has("0-3,6", 6));
	CHECK(cpu_list_has("0-3,6", 0));
	CHECK(!cpu_list_has("0-3,6", 4));
	CHECK(!cpu_list_has("0,", 0));
	CHECK(cpuinfo_shown("0", &shown) == 0);
	CHECK(!strncmp(shown.buf, "processor\t: 0\n", 14));
	CHECK(!strstr(shown.buf, "\nprocessor"));
	/* "cpu MHz" is bogomips / 2, never the current frequency */
	if (strstr(shown.buf, "bogomips"))
		CHECK(strstr(shown.buf, "\ncpu MHz\t\t: ") != NULL);
	CHECK(cpuinfo_shown("100000", &found) == -ENOENT);
	CHECK(cpuinfo_shown("", &found) == -EINVAL);
	strbuf_reset(&found);

	cpuinfo_fact("0", shown.buf, &fact);
	CHECK(!strncmp(fact.buf, "0 ", 2));
	CHECK(cpuinfo_fact_check(fact.buf, &found));
	CHECK_EQ_STR(found.buf, fact.buf);
	/* another content recorded, or another CPU: the check fails */
	bad = xstrdup(fact.buf);
	bad[2] = bad[2] == '0' ? '1' : '0';
	strbuf_reset(&found);
	CHECK(!cpuinfo_fact_check(bad, &found));
	CHECK_EQ_STR(found.buf, fact.buf);
	strbuf_reset(&found);
	CHECK(!cpuinfo_fact_check("100000 00", &found));
	CHECK_EQ_STR(found.buf, "unknown");
	strbuf_reset(&found);
	CHECK(!cpuinfo_fact_check("garbage", &found));
	free(bad);
	strbuf_release(&shown);
	strbuf_release(&fact);
	strbuf_release(&found);
}

int main(void)
{
	RUN(test_cpu_lists);
	RUN(test_generated_once_per_content);
	RUN(test_cpuinfo_shown);
	return unit_done();
}
