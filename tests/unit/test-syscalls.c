/*
 * The classification table covers every x86_64 system call libseccomp
 * resolves, is sorted (bsearch), and has no duplicate.
 */
#include "tests/unit/unit.h"

#include <seccomp.h>

#include "sandbox/syscalls.h"

TEST(test_every_number_classified)
{
	int nr, known = 0;

	for (nr = 0; nr < 1024; nr++) {
		char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_X86_64, nr);

		if (!name)
			continue;
		known++;
		if (!trace_sc_find(name))
			unit_fail(__FILE__, __LINE__, "syscall %d (%s) is not classified",
				  nr, name);
		free(name);
	}
	CHECK(known > 300);
}

TEST(test_table_sorted_and_known)
{
	size_t nr, i;
	const struct trace_sc *tab = trace_sc_table(&nr);

	for (i = 1; i < nr; i++)
		if (strcmp(tab[i - 1].name, tab[i].name) >= 0)
			unit_fail(__FILE__, __LINE__, "table not sorted at %s", tab[i].name);
	for (i = 0; i < nr; i++)
		if (seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, tab[i].name) < 0)
			unit_fail(__FILE__, __LINE__, "%s unknown to libseccomp", tab[i].name);
}

TEST(test_classes)
{
	static const struct { const char *name; enum trace_sc_class c; } want[] = {
		{ "read", TRACE_SC_PURE },	{ "write", TRACE_SC_PURE },
		{ "openat", TRACE_SC_TRACED },	{ "openat2", TRACE_SC_TRACED },
		{ "execve", TRACE_SC_TRACED },	{ "getdents64", TRACE_SC_TRACED },
		{ "readlink", TRACE_SC_TRACED },	{ "newfstatat", TRACE_SC_TRACED },
		{ "statx", TRACE_SC_TRACED },	{ "faccessat2", TRACE_SC_TRACED },
		{ "uname", TRACE_SC_TRACED },	{ "connect", TRACE_SC_TRACED },
		{ "getxattr", TRACE_SC_TRACED },	{ "ptrace", TRACE_SC_TRACED },
		{ "fsetxattr", TRACE_SC_TRACED },	{ "chroot", TRACE_SC_TAINT },
		{ "inotify_add_watch", TRACE_SC_TAINT },
		{ "keyctl", TRACE_SC_DENY },	{ "bpf", TRACE_SC_DENY },
		{ "io_uring_setup", TRACE_SC_DENY }, { "unshare", TRACE_SC_DENY },
		{ "mount", TRACE_SC_DENY },	{ "open_by_handle_at", TRACE_SC_DENY },
		{ "clone3", TRACE_SC_DENY },	{ "userfaultfd", TRACE_SC_DENY },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(want); i++) {
		const struct trace_sc *e = trace_sc_find(want[i].name);

		if (CHECK(e))
			CHECK_EQ_STR(trace_sc_class_name(e->class),
				     trace_sc_class_name(want[i].c));
	}
	CHECK(!trace_sc_find("no_such_call"));
}

int main(void)
{
	RUN(test_every_number_classified);
	RUN(test_table_sorted_and_known);
	RUN(test_classes);
	return unit_done();
}
