/*
 * sandbox/hostfacts.c: the CPU lists, and the generated files being a
 * function of struct sbx_hostfacts alone (DESIGN.md §2, "Host facts").
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "common/path.h"
#include "common/strbuf.h"
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
	};
	struct strbuf err = STRBUF_INIT;
	char *d1 = NULL, *d2 = NULL, *d3 = NULL, *s;

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
	CHECK(!sbx_hostfacts_is_synthetic("/proc/cpuinfo"));
	CHECK(!sbx_hostfacts_is_synthetic("/proc/meminfo2"));
	free(d1);
	free(d2);
	free(d3);
	strbuf_release(&err);
}

int main(void)
{
	RUN(test_cpu_lists);
	RUN(test_generated_once_per_content);
	return unit_done();
}
