/*
 * An exec redirected to the replayer (DESIGN.md §13.1): the memfd a
 * skipped unit executes (the replayer and its payload, format in
 * sandbox/nest-payload.h), its installation in the caller with
 * SECCOMP_IOCTL_NOTIF_ADDFD, and the rewrite of the path the caller's
 * execve names. The contract is sandbox/nest.h.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/audit.h>
#include <linux/kcmp.h>
#include <linux/seccomp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fdio.h"
#include "common/le.h"
#include "common/xalloc.h"
#include "sandbox/nest.h"

#include "common/banned.h"

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

extern const unsigned char nest_replayer_bytes[], nest_replayer_end[];

const unsigned char *nest_replayer(size_t *len)
{
	*len = (size_t)(nest_replayer_end - nest_replayer_bytes);
	return nest_replayer_bytes;
}

static void put32(struct strbuf *sb, uint64_t v)
{
	unsigned char b[4];

	le_put(b, v, 4);
	strbuf_add(sb, b, 4);
}

int nest_replay_memfd(const struct nest_replay *replay, struct strbuf *err)
{
	_cleanup_strbuf_ struct strbuf payload = STRBUF_INIT;
	unsigned char footer[NEST_FOOTER_SIZE];
	const unsigned char *elf;
	size_t elf_len, i;
	ssize_t r;
	int fd;

	if (replay->signaled ? replay->code < 1 || replay->code > 64 :
			       replay->code < 0 || replay->code > 255)
		return strbuf_error(err, -EINVAL, "replay: bad %s %d",
				    replay->signaled ? "signal" : "exit code",
				    replay->code);
	if (replay->nr_chunks > UINT32_MAX)
		return strbuf_error(err, -EINVAL, "replay: too many chunks");
	put32(&payload, NEST_PAYLOAD_VERSION);
	put32(&payload, 0);
	put32(&payload, replay->signaled ? NEST_END_SIGNAL : NEST_END_EXIT);
	put32(&payload, (uint32_t)replay->code);
	put32(&payload, replay->nr_chunks);
	for (i = 0; i < replay->nr_chunks; i++) {
		const struct nest_chunk *c = &replay->chunks[i];

		if ((c->fd != 1 && c->fd != 2) || c->len > UINT32_MAX)
			return strbuf_error(err, -EINVAL, "replay: bad chunk %zu", i);
		put32(&payload, (uint32_t)c->fd);
		put32(&payload, c->len);
		strbuf_add(&payload, c->buf, c->len);
	}

	elf = nest_replayer(&elf_len);
	le_put(footer, elf_len, 8);
	memcpy(footer + 8, NEST_PAYLOAD_MAGIC, 8);

	/* MFD_EXEC: the kernel's default may become noexec (vm.memfd_noexec) */
	fd = memfd_create("procache-replay", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
	if (fd < 0 && errno == EINVAL)	/* before Linux 6.3: no MFD_EXEC */
		fd = memfd_create("procache-replay", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return strbuf_error(err, -errno, "cannot create the replayer's memfd: %s",
				    strerror(errno));
	if ((r = write_full(fd, elf, elf_len)) < 0 ||
	    (r = write_full(fd, payload.buf, payload.len)) < 0 ||
	    (r = write_full(fd, footer, sizeof(footer))) < 0 ||
	    (r = fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK |
					F_SEAL_SEAL) < 0 ? -errno : 0) < 0) {
		close(fd);
		return strbuf_error(err, (int)r, "cannot fill the replayer's memfd: %s",
				    strerror((int)-r));
	}
	return fd;
}

/*
 * The path string at @addr in the caller: its length, without the NUL
 * (at most PATH_MAX). Read a page at a time from /proc/PID/mem, never
 * across a page end: the string may end just before an unmapped page.
 */
static int path_len_at(int memfd, uint64_t addr, size_t *len)
{
	char page[4096];

	*len = 0;
	while (*len < PATH_MAX) {
		size_t chunk = 4096 - ((addr + *len) & 4095);
		ssize_t n = pread(memfd, page, chunk, (off_t)(addr + *len));
		char *nul;

		if (n <= 0)
			return n < 0 ? -errno : -EFAULT;
		nul = memchr(page, 0, (size_t)n);
		if (nul) {
			*len += (size_t)(nul - page);
			return 0;
		}
		*len += (size_t)n;
	}
	return -ENAMETOOLONG;
}

/* The lowest fd number @pid does not use, as ADDFD will choose it. */
static int lowest_free_fd(pid_t pid)
{
	char dir[64];
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;
	unsigned char used[1024] = { 0 };
	int n;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
	d = opendir(dir);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		char *end;
		long fd = strtol(de->d_name, &end, 10);

		if (de->d_name[0] != '.' && !*end && fd >= 0 && fd < (long)sizeof(used))
			used[fd] = 1;
	}
	for (n = 0; n < (int)sizeof(used); n++)
		if (!used[n])
			return n;
	return -EMFILE;
}

int nest_exec_redirect(int listener, const struct seccomp_notif *req, int memfd,
		       const char *fd_dir, struct strbuf *err)
{
	char mem[64], target[PATH_MAX];
	_cleanup_close_ int pmem = -1;
	struct seccomp_notif_addfd addfd = { 0 };
	uint64_t addr;
	size_t have;
	int n, r;

	if (req->data.arch != AUDIT_ARCH_X86_64)
		return -EBUSY;
	if (req->data.nr == __NR_execve) {
		addr = req->data.args[0];
	} else if (req->data.nr == __NR_execveat) {
		if ((req->data.args[4] & AT_EMPTY_PATH) ||
		    (int)req->data.args[0] != AT_FDCWD)
			return -EBUSY;	/* NEEDSWORK: an absolute path at a dirfd */
		addr = req->data.args[1];
	} else {
		return strbuf_error(err, -EINVAL, "not an exec: system call %d",
				    req->data.nr);
	}

	snprintf(mem, sizeof(mem), "/proc/%d/mem", (int)req->pid);
	pmem = open(mem, O_RDWR | O_CLOEXEC);
	if (pmem < 0)
		return errno == ENOENT || errno == ESRCH ? -ENOENT :
		       strbuf_error(err, -errno, "cannot open '%s': %s", mem,
				    strerror(errno));
	r = path_len_at(pmem, addr, &have);
	if (r == -ENAMETOOLONG)
		return r;
	if (r < 0)
		return strbuf_error(err, r, "cannot read the exec path of %d: %s",
				    (int)req->pid, strerror(-r));
	n = lowest_free_fd(req->pid);
	if (n < 0)
		return n == -ENOENT ? n :
		       strbuf_error(err, n, "cannot list the fds of %d: %s",
				    (int)req->pid, strerror(-n));
	if ((size_t)snprintf(target, sizeof(target), "%s/%d", fd_dir, n) > have)
		return -ENAMETOOLONG;

	/* from here on the caller may hold the fd: close-on-exec (§13.1) */
	addfd.id = req->id;
	addfd.srcfd = (uint32_t)memfd;
	addfd.newfd_flags = O_CLOEXEC;
	r = ioctl(listener, SECCOMP_IOCTL_NOTIF_ADDFD, &addfd);
	if (r < 0)
		return errno == ENOENT ? -ENOENT :
		       strbuf_error(err, -errno, "cannot install the replayer in %d: %s",
				    (int)req->pid, strerror(errno));
	if (r != n && (size_t)snprintf(target, sizeof(target), "%s/%d", fd_dir, r) > have)
		return strbuf_error(err, -EAGAIN,
				    "the replayer's fd %d in %d does not fit its exec path",
				    r, (int)req->pid);
	if (pwrite(pmem, target, strlen(target) + 1, (off_t)addr) !=
	    (ssize_t)strlen(target) + 1)
		return strbuf_error(err, -EFAULT, "cannot rewrite the exec path of %d",
				    (int)req->pid);
	/* the pid may have been reused while we wrote: the request says */
	if (ioctl(listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &req->id) < 0)
		return -ENOENT;
	return 0;
}

int nest_shares_vm(pid_t a, pid_t b)
{
	long r = syscall(SYS_kcmp, a, b, KCMP_VM, 0, 0);

	if (r < 0)
		return -errno;
	return r == 0;
}

/* The children of every thread of @pid, appended to @out. */
static int add_children(pid_t pid, pid_t **out, size_t *nr, size_t *alloc)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;
	char path[96];

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (!d)
		return errno == ENOENT ? 0 : -errno;	/* gone: no children */
	while ((de = readdir(d))) {
		_cleanup_close_ int fd = -1;
		char buf[4096], *p, *end, cpath[320];
		ssize_t n;

		if (de->d_name[0] == '.')
			continue;
		snprintf(cpath, sizeof(cpath), "/proc/%d/task/%s/children", (int)pid,
			 de->d_name);
		fd = open(cpath, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			if (errno == ENOENT)
				continue;	/* the thread exited */
			return -errno;
		}
		n = read_full(fd, buf, sizeof(buf) - 1);
		if (n < 0)
			return (int)n;
		if (n == (ssize_t)sizeof(buf) - 1)
			return -E2BIG;	/* NEEDSWORK: read in pieces */
		buf[n] = 0;
		for (p = buf; *p; p = end) {
			long child = strtol(p, &end, 10);

			if (end == p)
				break;
			ALLOC_GROW(*out, *nr + 1, *alloc);
			(*out)[(*nr)++] = (pid_t)child;
		}
	}
	return 0;
}

int nest_exec_sharers(pid_t pid, pid_t tree_root, struct strbuf *reason,
		      struct strbuf *err)
{
	pid_t *procs = NULL;
	size_t nr = 0, alloc = 0, i;
	int r = 0;

	strbuf_reset(reason);
	ALLOC_GROW(procs, 1, alloc);
	procs[nr++] = tree_root;
	for (i = 0; i < nr && !reason->len; i++) {
		pid_t other = procs[i];

		r = add_children(other, &procs, &nr, &alloc);
		if (r < 0)
			break;
		if (other == pid)
			continue;
		if (syscall(SYS_kcmp, pid, other, KCMP_VM, 0, 0) == 0)
			strbuf_addf(reason, "shares its memory with process %d", (int)other);
		else if (syscall(SYS_kcmp, pid, other, KCMP_FILES, 0, 0) == 0)
			strbuf_addf(reason, "shares its fd table with process %d", (int)other);
		/* kcmp fails for a process gone meanwhile: it shares nothing */
	}
	free(procs);
	if (r < 0)
		return strbuf_error(err, r, "cannot list the processes under %d: %s",
				    (int)tree_root, strerror(-r));
	return 0;
}
