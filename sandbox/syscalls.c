/*
 * The system-call classification table (DESIGN.md §5): one line per x86_64
 * system call libseccomp knows, sorted by name. tests/unit/test-syscalls.c
 * fails when libseccomp resolves a number this table lacks, and when the
 * table is not sorted.
 *
 * PURE entries that do observe something of the host say why they are
 * accepted: what they reveal (free space, CPU count, memory size) is out of
 * the model like the clock — a job printing it replays the recorded value.
 */
#include "sandbox/syscalls.h"

#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"
#include "common/banned.h"

static const struct trace_sc table[] = {
	{ "_sysctl", TRACE_SC_DENY },
	{ "accept", TRACE_SC_PURE },
	{ "accept4", TRACE_SC_PURE },
	{ "access", TRACE_SC_TRACED },
	{ "acct", TRACE_SC_DENY },
	{ "add_key", TRACE_SC_DENY },
	{ "adjtimex", TRACE_SC_DENY },
	{ "afs_syscall", TRACE_SC_DENY },
	{ "alarm", TRACE_SC_PURE },
	{ "arch_prctl", TRACE_SC_PURE },
	{ "bind", TRACE_SC_TRACED },                    /* path recorded as named by a writing call */
	{ "bpf", TRACE_SC_DENY },
	{ "brk", TRACE_SC_PURE },
	{ "cachestat", TRACE_SC_PURE },                 /* page-cache state of an open fd: out of the model */
	{ "capget", TRACE_SC_PURE },
	{ "capset", TRACE_SC_PURE },
	{ "chdir", TRACE_SC_TRACED },
	{ "chmod", TRACE_SC_TRACED },
	{ "chown", TRACE_SC_TRACED },
	{ "chroot", TRACE_SC_TAINT },
	{ "clock_adjtime", TRACE_SC_DENY },
	{ "clock_getres", TRACE_SC_PURE },
	{ "clock_gettime", TRACE_SC_PURE },
	{ "clock_nanosleep", TRACE_SC_PURE },
	{ "clock_settime", TRACE_SC_DENY },
	{ "clone", TRACE_SC_TRACED },                   /* argument filter: namespace flags taint/deny */
	{ "clone3", TRACE_SC_DENY },                    /* ENOSYS in every mode (flags unreadable by BPF): libc falls back to clone */
	{ "close", TRACE_SC_PURE },
	{ "close_range", TRACE_SC_PURE },
	{ "connect", TRACE_SC_TRACED },                 /* unix socket path checked */
	{ "copy_file_range", TRACE_SC_PURE },
	{ "creat", TRACE_SC_TRACED },
	{ "create_module", TRACE_SC_DENY },
	{ "delete_module", TRACE_SC_DENY },
	{ "dup", TRACE_SC_PURE },
	{ "dup2", TRACE_SC_PURE },
	{ "dup3", TRACE_SC_PURE },
	{ "epoll_create", TRACE_SC_PURE },
	{ "epoll_create1", TRACE_SC_PURE },
	{ "epoll_ctl", TRACE_SC_PURE },
	{ "epoll_ctl_old", TRACE_SC_DENY },
	{ "epoll_pwait", TRACE_SC_PURE },
	{ "epoll_pwait2", TRACE_SC_PURE },
	{ "epoll_wait", TRACE_SC_PURE },
	{ "epoll_wait_old", TRACE_SC_DENY },
	{ "eventfd", TRACE_SC_PURE },
	{ "eventfd2", TRACE_SC_PURE },
	{ "execve", TRACE_SC_TRACED },
	{ "execveat", TRACE_SC_TRACED },
	{ "exit", TRACE_SC_PURE },
	{ "exit_group", TRACE_SC_PURE },
	{ "faccessat", TRACE_SC_TRACED },
	{ "faccessat2", TRACE_SC_TRACED },
	{ "fadvise64", TRACE_SC_PURE },
	{ "fallocate", TRACE_SC_PURE },
	{ "fanotify_init", TRACE_SC_PURE },             /* harmless until fanotify_mark (TAINT): tsc 7 opens one and closes it */
	{ "fanotify_mark", TRACE_SC_TAINT },
	{ "fchdir", TRACE_SC_PURE },                    /* cwd is read from /proc/PID/cwd at each traced call */
	{ "fchmod", TRACE_SC_PURE },                    /* writes go to the upper dir */
	{ "fchmodat", TRACE_SC_TRACED },
	{ "fchmodat2", TRACE_SC_TRACED },
	{ "fchown", TRACE_SC_PURE },                    /* writes go to the upper dir */
	{ "fchownat", TRACE_SC_TRACED },
	{ "fcntl", TRACE_SC_PURE },
	{ "fdatasync", TRACE_SC_PURE },
	{ "fgetxattr", TRACE_SC_TRACED },
	{ "finit_module", TRACE_SC_DENY },
	{ "flistxattr", TRACE_SC_TRACED },
	{ "flock", TRACE_SC_PURE },
	{ "fork", TRACE_SC_PURE },
	{ "fremovexattr", TRACE_SC_TRACED },
	{ "fsconfig", TRACE_SC_DENY },
	{ "fsetxattr", TRACE_SC_TRACED },
	{ "fsmount", TRACE_SC_DENY },
	{ "fsopen", TRACE_SC_DENY },
	{ "fspick", TRACE_SC_DENY },
	{ "fstat", TRACE_SC_TRACED },                   /* the times it shows are observations (DESIGN §3) */
	{ "fstatfs", TRACE_SC_PURE },                   /* free space and fs type: out of the model, like the clock */
	{ "fsync", TRACE_SC_PURE },
	{ "ftruncate", TRACE_SC_PURE },                 /* writes go to the upper dir */
	{ "futex", TRACE_SC_PURE },
	{ "futex_requeue", TRACE_SC_PURE },
	{ "futex_wait", TRACE_SC_PURE },
	{ "futex_waitv", TRACE_SC_PURE },
	{ "futex_wake", TRACE_SC_PURE },
	{ "futimesat", TRACE_SC_TRACED },
	{ "get_kernel_syms", TRACE_SC_DENY },
	{ "get_mempolicy", TRACE_SC_PURE },
	{ "get_robust_list", TRACE_SC_PURE },
	{ "get_thread_area", TRACE_SC_DENY },
	{ "getcpu", TRACE_SC_PURE },                    /* out of the model */
	{ "getcwd", TRACE_SC_PURE },                    /* cwd is part of the key */
	{ "getdents", TRACE_SC_TRACED },
	{ "getdents64", TRACE_SC_TRACED },
	{ "getegid", TRACE_SC_PURE },
	{ "geteuid", TRACE_SC_PURE },
	{ "getgid", TRACE_SC_PURE },
	{ "getgroups", TRACE_SC_PURE },
	{ "getitimer", TRACE_SC_PURE },
	{ "getpeername", TRACE_SC_PURE },
	{ "getpgid", TRACE_SC_PURE },
	{ "getpgrp", TRACE_SC_PURE },
	{ "getpid", TRACE_SC_PURE },
	{ "getpmsg", TRACE_SC_DENY },
	{ "getppid", TRACE_SC_PURE },
	{ "getpriority", TRACE_SC_PURE },
	{ "getrandom", TRACE_SC_PURE },
	{ "getresgid", TRACE_SC_PURE },
	{ "getresuid", TRACE_SC_PURE },
	{ "getrlimit", TRACE_SC_PURE },
	{ "getrusage", TRACE_SC_PURE },
	{ "getsid", TRACE_SC_PURE },
	{ "getsockname", TRACE_SC_PURE },
	{ "getsockopt", TRACE_SC_PURE },
	{ "gettid", TRACE_SC_PURE },
	{ "gettimeofday", TRACE_SC_PURE },
	{ "getuid", TRACE_SC_PURE },
	{ "getxattr", TRACE_SC_TRACED },
	{ "init_module", TRACE_SC_DENY },
	{ "inotify_add_watch", TRACE_SC_TAINT },
	{ "inotify_init", TRACE_SC_PURE },              /* harmless until inotify_add_watch (TAINT) */
	{ "inotify_init1", TRACE_SC_PURE },             /* harmless until inotify_add_watch (TAINT) */
	{ "inotify_rm_watch", TRACE_SC_PURE },
	{ "io_cancel", TRACE_SC_PURE },
	{ "io_destroy", TRACE_SC_PURE },
	{ "io_getevents", TRACE_SC_PURE },
	{ "io_pgetevents", TRACE_SC_PURE },
	{ "io_setup", TRACE_SC_PURE },
	{ "io_submit", TRACE_SC_PURE },
	{ "io_uring_enter", TRACE_SC_DENY },
	{ "io_uring_register", TRACE_SC_DENY },
	{ "io_uring_setup", TRACE_SC_DENY },
	{ "ioctl", TRACE_SC_TRACED },                   /* argument filter: TIOCSTI/TIOCLINUX taint/deny */
	{ "ioperm", TRACE_SC_DENY },
	{ "iopl", TRACE_SC_DENY },
	{ "ioprio_get", TRACE_SC_PURE },
	{ "ioprio_set", TRACE_SC_PURE },
	{ "kcmp", TRACE_SC_PURE },
	{ "kexec_file_load", TRACE_SC_DENY },
	{ "kexec_load", TRACE_SC_DENY },
	{ "keyctl", TRACE_SC_DENY },
	{ "kill", TRACE_SC_TRACED },	/* own PID namespace; signals sent: DESIGN §7 */
	{ "landlock_add_rule", TRACE_SC_PURE },
	{ "landlock_create_ruleset", TRACE_SC_PURE },
	{ "landlock_restrict_self", TRACE_SC_PURE },
	{ "lchown", TRACE_SC_TRACED },
	{ "lgetxattr", TRACE_SC_TRACED },
	{ "link", TRACE_SC_TRACED },
	{ "linkat", TRACE_SC_TRACED },
	{ "listen", TRACE_SC_PURE },
	{ "listxattr", TRACE_SC_TRACED },
	{ "llistxattr", TRACE_SC_TRACED },
	{ "lookup_dcookie", TRACE_SC_DENY },
	{ "lremovexattr", TRACE_SC_TRACED },
	{ "lseek", TRACE_SC_PURE },
	{ "lsetxattr", TRACE_SC_TRACED },
	{ "lstat", TRACE_SC_TRACED },
	{ "madvise", TRACE_SC_PURE },
	{ "map_shadow_stack", TRACE_SC_PURE },
	{ "mbind", TRACE_SC_PURE },
	{ "membarrier", TRACE_SC_PURE },
	{ "memfd_create", TRACE_SC_PURE },
	{ "memfd_secret", TRACE_SC_PURE },
	{ "migrate_pages", TRACE_SC_PURE },
	{ "mincore", TRACE_SC_PURE },
	{ "mkdir", TRACE_SC_TRACED },
	{ "mkdirat", TRACE_SC_TRACED },
	{ "mknod", TRACE_SC_TRACED },
	{ "mknodat", TRACE_SC_TRACED },
	{ "mlock", TRACE_SC_PURE },
	{ "mlock2", TRACE_SC_PURE },
	{ "mlockall", TRACE_SC_PURE },
	{ "mmap", TRACE_SC_PURE },
	{ "modify_ldt", TRACE_SC_DENY },
	{ "mount", TRACE_SC_DENY },
	{ "mount_setattr", TRACE_SC_DENY },
	{ "move_mount", TRACE_SC_DENY },
	{ "move_pages", TRACE_SC_PURE },
	{ "mprotect", TRACE_SC_PURE },
	{ "mq_getsetattr", TRACE_SC_PURE },
	{ "mq_notify", TRACE_SC_PURE },
	{ "mq_open", TRACE_SC_PURE },
	{ "mq_timedreceive", TRACE_SC_PURE },
	{ "mq_timedsend", TRACE_SC_PURE },
	{ "mq_unlink", TRACE_SC_PURE },
	{ "mremap", TRACE_SC_PURE },
	{ "msgctl", TRACE_SC_PURE },
	{ "msgget", TRACE_SC_PURE },
	{ "msgrcv", TRACE_SC_PURE },
	{ "msgsnd", TRACE_SC_PURE },
	{ "msync", TRACE_SC_PURE },
	{ "munlock", TRACE_SC_PURE },
	{ "munlockall", TRACE_SC_PURE },
	{ "munmap", TRACE_SC_PURE },
	{ "name_to_handle_at", TRACE_SC_DENY },
	{ "nanosleep", TRACE_SC_PURE },
	{ "newfstatat", TRACE_SC_TRACED },
	{ "nfsservctl", TRACE_SC_DENY },
	{ "open", TRACE_SC_TRACED },
	{ "open_by_handle_at", TRACE_SC_DENY },
	{ "open_tree", TRACE_SC_DENY },
	{ "openat", TRACE_SC_TRACED },
	{ "openat2", TRACE_SC_TRACED },
	{ "pause", TRACE_SC_PURE },
	{ "perf_event_open", TRACE_SC_DENY },
	{ "personality", TRACE_SC_TRACED },             /* argument filter: only queries pass */
	{ "pidfd_getfd", TRACE_SC_PURE },
	{ "pidfd_open", TRACE_SC_PURE },
	{ "pidfd_send_signal", TRACE_SC_TRACED },	/* signals sent: DESIGN §7 */
	{ "pipe", TRACE_SC_PURE },
	{ "pipe2", TRACE_SC_PURE },
	{ "pivot_root", TRACE_SC_DENY },
	{ "pkey_alloc", TRACE_SC_PURE },
	{ "pkey_free", TRACE_SC_PURE },
	{ "pkey_mprotect", TRACE_SC_PURE },
	{ "poll", TRACE_SC_PURE },
	{ "ppoll", TRACE_SC_PURE },
	{ "prctl", TRACE_SC_PURE },
	{ "pread64", TRACE_SC_PURE },
	{ "preadv", TRACE_SC_PURE },
	{ "preadv2", TRACE_SC_PURE },
	{ "prlimit64", TRACE_SC_PURE },
	{ "process_madvise", TRACE_SC_PURE },
	{ "process_mrelease", TRACE_SC_PURE },
	{ "process_vm_readv", TRACE_SC_PURE },          /* own PID namespace */
	{ "process_vm_writev", TRACE_SC_PURE },         /* own PID namespace */
	{ "pselect6", TRACE_SC_PURE },
	{ "ptrace", TRACE_SC_TRACED },                  /* of the job's own processes: LeakSanitizer, gdb (trace-notify.c) */
	{ "putpmsg", TRACE_SC_DENY },
	{ "pwrite64", TRACE_SC_PURE },
	{ "pwritev", TRACE_SC_PURE },
	{ "pwritev2", TRACE_SC_PURE },
	{ "query_module", TRACE_SC_DENY },
	{ "quotactl", TRACE_SC_TAINT },
	{ "quotactl_fd", TRACE_SC_TAINT },
	{ "read", TRACE_SC_PURE },
	{ "readahead", TRACE_SC_PURE },
	{ "readlink", TRACE_SC_TRACED },
	{ "readlinkat", TRACE_SC_TRACED },
	{ "readv", TRACE_SC_PURE },
	{ "reboot", TRACE_SC_DENY },
	{ "recvfrom", TRACE_SC_PURE },
	{ "recvmmsg", TRACE_SC_PURE },
	{ "recvmsg", TRACE_SC_PURE },
	{ "remap_file_pages", TRACE_SC_PURE },
	{ "removexattr", TRACE_SC_TRACED },
	{ "rename", TRACE_SC_TRACED },
	{ "renameat", TRACE_SC_TRACED },
	{ "renameat2", TRACE_SC_TRACED },
	{ "request_key", TRACE_SC_DENY },
	{ "restart_syscall", TRACE_SC_PURE },
	{ "rmdir", TRACE_SC_TRACED },
	{ "rseq", TRACE_SC_PURE },
	{ "rt_sigaction", TRACE_SC_PURE },
	{ "rt_sigpending", TRACE_SC_PURE },
	{ "rt_sigprocmask", TRACE_SC_PURE },
	{ "rt_sigqueueinfo", TRACE_SC_TRACED },	/* signals sent: DESIGN §7 */
	{ "rt_sigreturn", TRACE_SC_PURE },
	{ "rt_sigsuspend", TRACE_SC_PURE },
	{ "rt_sigtimedwait", TRACE_SC_PURE },
	{ "rt_tgsigqueueinfo", TRACE_SC_TRACED },	/* signals sent: DESIGN §7 */
	{ "sched_get_priority_max", TRACE_SC_PURE },
	{ "sched_get_priority_min", TRACE_SC_PURE },
	{ "sched_getaffinity", TRACE_SC_PURE },         /* CPU count: out of the model */
	{ "sched_getattr", TRACE_SC_PURE },
	{ "sched_getparam", TRACE_SC_PURE },
	{ "sched_getscheduler", TRACE_SC_PURE },
	{ "sched_rr_get_interval", TRACE_SC_PURE },
	{ "sched_setaffinity", TRACE_SC_PURE },
	{ "sched_setattr", TRACE_SC_PURE },
	{ "sched_setparam", TRACE_SC_PURE },
	{ "sched_setscheduler", TRACE_SC_PURE },
	{ "sched_yield", TRACE_SC_PURE },
	{ "seccomp", TRACE_SC_PURE },
	{ "security", TRACE_SC_DENY },
	{ "select", TRACE_SC_PURE },
	{ "semctl", TRACE_SC_PURE },
	{ "semget", TRACE_SC_PURE },
	{ "semop", TRACE_SC_PURE },
	{ "semtimedop", TRACE_SC_PURE },
	{ "sendfile", TRACE_SC_PURE },
	{ "sendmmsg", TRACE_SC_TRACED },                /* as sendmsg */
	{ "sendmsg", TRACE_SC_TRACED },                 /* unix socket paths checked; not on the listener hand-over socket (§5) */
	{ "sendto", TRACE_SC_TRACED },                  /* unix socket path checked */
	{ "set_mempolicy", TRACE_SC_PURE },
	{ "set_mempolicy_home_node", TRACE_SC_PURE },
	{ "set_robust_list", TRACE_SC_PURE },
	{ "set_thread_area", TRACE_SC_DENY },
	{ "set_tid_address", TRACE_SC_PURE },
	{ "setdomainname", TRACE_SC_PURE },             /* own UTS namespace */
	{ "setfsgid", TRACE_SC_PURE },
	{ "setfsuid", TRACE_SC_PURE },
	{ "setgid", TRACE_SC_PURE },
	{ "setgroups", TRACE_SC_PURE },
	{ "sethostname", TRACE_SC_PURE },               /* own UTS namespace */
	{ "setitimer", TRACE_SC_PURE },
	{ "setns", TRACE_SC_DENY },
	{ "setpgid", TRACE_SC_PURE },
	{ "setpriority", TRACE_SC_PURE },
	{ "setregid", TRACE_SC_PURE },
	{ "setresgid", TRACE_SC_PURE },
	{ "setresuid", TRACE_SC_PURE },
	{ "setreuid", TRACE_SC_PURE },
	{ "setrlimit", TRACE_SC_PURE },
	{ "setsid", TRACE_SC_PURE },
	{ "setsockopt", TRACE_SC_PURE },
	{ "settimeofday", TRACE_SC_DENY },
	{ "setuid", TRACE_SC_PURE },
	{ "setxattr", TRACE_SC_TRACED },
	{ "shmat", TRACE_SC_PURE },
	{ "shmctl", TRACE_SC_PURE },
	{ "shmdt", TRACE_SC_PURE },
	{ "shmget", TRACE_SC_PURE },
	{ "shutdown", TRACE_SC_PURE },
	{ "sigaltstack", TRACE_SC_PURE },
	{ "signalfd", TRACE_SC_PURE },
	{ "signalfd4", TRACE_SC_PURE },
	{ "socket", TRACE_SC_PURE },
	{ "socketpair", TRACE_SC_PURE },
	{ "splice", TRACE_SC_PURE },
	{ "stat", TRACE_SC_TRACED },
	{ "statfs", TRACE_SC_PURE },                    /* free space and fs type: out of the model, like the clock (DESIGN §3) */
	{ "statx", TRACE_SC_TRACED },
	{ "swapoff", TRACE_SC_DENY },
	{ "swapon", TRACE_SC_DENY },
	{ "symlink", TRACE_SC_TRACED },
	{ "symlinkat", TRACE_SC_TRACED },
	{ "sync", TRACE_SC_PURE },
	{ "sync_file_range", TRACE_SC_PURE },
	{ "syncfs", TRACE_SC_PURE },
	{ "sysfs", TRACE_SC_PURE },                     /* file system type names: out of the model */
	{ "sysinfo", TRACE_SC_TRACED },                 /* answered from the host facts the view shows */
	{ "syslog", TRACE_SC_TAINT },
	{ "tee", TRACE_SC_PURE },
	{ "tgkill", TRACE_SC_TRACED },	/* own PID namespace; signals sent: DESIGN §7 */
	{ "time", TRACE_SC_PURE },
	{ "timer_create", TRACE_SC_PURE },
	{ "timer_delete", TRACE_SC_PURE },
	{ "timer_getoverrun", TRACE_SC_PURE },
	{ "timer_gettime", TRACE_SC_PURE },
	{ "timer_settime", TRACE_SC_PURE },
	{ "timerfd_create", TRACE_SC_PURE },
	{ "timerfd_gettime", TRACE_SC_PURE },
	{ "timerfd_settime", TRACE_SC_PURE },
	{ "times", TRACE_SC_PURE },
	{ "tkill", TRACE_SC_TRACED },	/* own PID namespace; signals sent: DESIGN §7 */
	{ "truncate", TRACE_SC_TRACED },
	{ "tuxcall", TRACE_SC_DENY },
	{ "umask", TRACE_SC_PURE },
	{ "umount2", TRACE_SC_DENY },
	{ "uname", TRACE_SC_TRACED },
	{ "unlink", TRACE_SC_TRACED },
	{ "unlinkat", TRACE_SC_TRACED },
	{ "unshare", TRACE_SC_DENY },
	{ "uselib", TRACE_SC_DENY },
	{ "userfaultfd", TRACE_SC_DENY },
	{ "ustat", TRACE_SC_PURE },                     /* free space: out of the model */
	{ "utime", TRACE_SC_TRACED },
	{ "utimensat", TRACE_SC_TRACED },
	{ "utimes", TRACE_SC_TRACED },
	{ "vfork", TRACE_SC_PURE },
	{ "vhangup", TRACE_SC_DENY },
	{ "vmsplice", TRACE_SC_PURE },
	{ "vserver", TRACE_SC_DENY },
	{ "wait4", TRACE_SC_PURE },
	{ "waitid", TRACE_SC_PURE },
	{ "write", TRACE_SC_PURE },
	{ "writev", TRACE_SC_PURE },
};

const struct trace_sc *trace_sc_table(size_t *nr)
{
	*nr = ARRAY_SIZE(table);
	return table;
}

static int sc_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct trace_sc *)elem)->name);
}

const struct trace_sc *trace_sc_find(const char *name)
{
	return bsearch(name, table, ARRAY_SIZE(table), sizeof(table[0]), sc_cmp);
}

const char *trace_sc_class_name(enum trace_sc_class c)
{
	switch (c) {
	case TRACE_SC_PURE: return "pure";
	case TRACE_SC_TRACED: return "traced";
	case TRACE_SC_TAINT: return "taint";
	case TRACE_SC_DENY: return "deny";
	}
	return "?";
}
