/*
 * What the tracer records of a path it resolved (trace-internal.h): a
 * found host object becomes a content, stat, listing or symlink
 * observation (or a taint when it cannot be one), and an executed file
 * brings in the interpreters the kernel loads with it.
 */
#include <ctype.h>
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/fs.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/binfmt.h"
#include "common/cleanup.h"
#include "common/dirlist.h"
#include "common/fdio.h"
#include "common/filestat.h"
#include "common/loginuid.h"
#include "common/path.h"
#include "common/xalloc.h"
#include "sandbox/trace-internal.h"

#include "common/banned.h"

/* binfmt_script + binfmt_elf nest at most 5 deep (BINPRM_MAX_RECURSION 4). */
#define TRACE_MAX_INTERP_DEPTH 5
/*
 * Program headers read from an executable, at most: more than any real
 * binary has (a handful to a few dozen), so that a corrupt or hostile
 * e_phnum costs a bounded number of reads. Beyond it the binary's
 * PT_INTERP is not looked for.
 */
#define TRACE_MAX_PHNUM 512

/* ---------------------------------------------------------------------- */
/* observations of a resolved path */

/* The host fact @name ("loginuid", "sessionid"): procache's own value. */
static void audit_fact(struct trace *t, pid_t pid, const char *sc, const char *name)
{
	struct strbuf v = STRBUF_INIT;
	struct trace_obs *o;

	if (loginuid_fact_value(name, &v) < 0) {
		trace_taint(t, "syscall %s: cannot read procache's /proc/self/%s", sc, name);
	} else {
		o = trace_obs_add(t, TRACE_HOSTFACT, name, sc, NULL);
		if (o)
			o->value = xstrdup(v.buf);
		/* the caller's units' too (DESIGN §13.3) */
		trace_nest_observe(t, pid, TRACE_HOSTFACT, name, v.buf, false);
	}
	strbuf_release(&v);
}

void trace_proc_audit_facts(struct trace *t, pid_t pid, const char *sc,
			    const char *entry, const char *rest)
{
	bool login = false, session = false;
	const char *c = rest;

	if (entry && strcmp(entry, "task")) {
		login = !strcmp(entry, "loginuid");
		session = !strcmp(entry, "sessionid");
	} else {
		/* task/<tid>/loginuid, or a way out of where the walk starts */
		while (*c) {
			size_t len;

			c += strspn(c, "/");
			len = strcspn(c, "/");
			if (len == 8 && !strncmp(c, "loginuid", len))
				login = true;
			else if (len == 9 && !strncmp(c, "sessionid", len))
				session = true;
			else if (len == 2 && !strncmp(c, "..", len))
				login = session = true;
			c += len;
		}
	}
	if (login)
		audit_fact(t, pid, sc, "loginuid");
	if (session)
		audit_fact(t, pid, sc, "sessionid");
}

void trace_record_access(struct trace *t, const char *hostpath,
			 const struct stat *st, const char *sc)
{
	struct trace_obs *o;

	/* the kernel's own files: their modes are its, not a host state */
	if (!t->cfg.access || path_has_prefix_component(hostpath, "/proc") ||
	    path_has_prefix_component(hostpath, "/sys"))
		return;
	if (st && !trace_obs_find(t, TRACE_STAT, hostpath)) {
		o = trace_obs_add(t, TRACE_STAT, hostpath, sc, st);
		o->access = true;
	}
	/* the access ACL (system.posix_acl_access) is one of them */
	trace_record_xattrs_path(t, hostpath, sc);
}

void trace_record_link_access(struct trace *t, const char *hostpath,
			      const struct stat *st, const char *sc)
{
	_cleanup_free_ char *parent = NULL;
	struct stat pst;
	const char *sl;

	if (!t->cfg.access || trace_obs_find(t, TRACE_STAT, hostpath))
		return;
	sl = strrchr(hostpath, '/');
	parent = sl && sl != hostpath ? xstrndup(hostpath, (size_t)(sl - hostpath))
				      : xstrdup("/");
	/*
	 * A symlink's bits mean nothing, its owner only in a sticky
	 * directory: who may remove it there, and whom the kernel lets
	 * follow it (fs.protected_symlinks).
	 */
	if (!lstat(parent, &pst) && (pst.st_mode & S_ISVTX))
		trace_obs_add(t, TRACE_STAT, hostpath, sc, st)->access = true;
}

void trace_record_found(struct trace *t, const struct res *r,
			enum trace_obs_kind kind, const char *sc)
{
	struct trace_obs *o;

	if (r->status == RES_FOUND && r->where == W_INTERNAL &&
	    t->cfg.hostfacts && sbx_hostfacts_is_synthetic(r->path.buf) &&
	    (kind == TRACE_CONTENT || kind == TRACE_LISTING)) {
		trace_synthetic_read(t, r->path.buf);
		/* generated from the host's model lines: those are recorded */
		if (t->cfg.cpuinfo_fact && !strcmp(r->path.buf, "/proc/cpuinfo") &&
		    !trace_obs_find(t, TRACE_HOSTFACT, "cpuinfo")) {
			o = trace_obs_add(t, TRACE_HOSTFACT, "cpuinfo", sc, NULL);
			if (o)
				o->value = xstrdup(t->cfg.cpuinfo_fact);
		}
	}
	if (r->status != RES_FOUND || r->where != W_HOST)
		return;
	/*
	 * The job lists its own procfs: its processes, and the kernel's
	 * entries (DESIGN.md §3: out of the model, like the kernel's
	 * version when not asked with uname), never the host's processes.
	 */
	if (kind == TRACE_LISTING && t->cfg.hostfacts &&
	    !strcmp(r->hostpath.buf, "/proc"))
		return;
	if (trace_record_always_changing(t, r->hostpath.buf, sc))
		return;
	if (S_ISLNK(r->st.st_mode)) {
		struct strbuf target = STRBUF_INIT;

		if (trace_obs_find(t, TRACE_SYMLINK, r->hostpath.buf))
			return;
		if (trace_readlink(r->hostpath.buf, &target) < 0) {
			trace_taint(t, "syscall %s: cannot read symlink %s", sc, r->hostpath.buf);
		} else {
			o = trace_obs_add(t, TRACE_SYMLINK, r->hostpath.buf, sc, &r->st);
			o->value = strbuf_detach(&target, NULL);
			trace_record_link_access(t, r->hostpath.buf, &r->st, sc);
		}
		strbuf_release(&target);
		return;
	}
	if (kind == TRACE_CONTENT && !S_ISREG(r->st.st_mode)) {
		if (S_ISDIR(r->st.st_mode)) {
			kind = TRACE_STAT;
		} else {
			trace_taint(t, "syscall %s: opens host special file %s", sc,
				    r->hostpath.buf);
			return;
		}
	}
	/*
	 * A content observation has no owner, a listing no mode: whether the
	 * job could open, execute or list the object is recorded apart (a
	 * stat's own observation below has them, its ACL is added).
	 */
	if (kind == TRACE_STAT)
		trace_record_access(t, r->hostpath.buf, NULL, sc);
	else
		trace_record_access(t, r->hostpath.buf, &r->st, sc);
	if (kind == TRACE_LISTING) {
		struct pc_hash h;
		size_t n = 0;
		int err;

		if (!S_ISDIR(r->st.st_mode))
			return;
		if (trace_obs_find(t, TRACE_LISTING, r->hostpath.buf))
			return;
		/* the listing the job saw: its declared outputs hidden */
		err = dirlist_hash_at_hiding(AT_FDCWD, r->hostpath.buf, r->hostpath.buf,
					     (const char *const *)t->declared,
					     t->cfg.nr_declared, &h, &n);
		if (err < 0) {
			trace_taint(t, "syscall %s: cannot list %s: %s", sc, r->hostpath.buf,
				    strerror(-err));
			return;
		}
		o = trace_obs_add(t, TRACE_LISTING, r->hostpath.buf, sc, &r->st);
		o->hash = h;
		o->hashed = true;
		o->nr_entries = n;
		return;
	}
	/* content implies stat: a file read also had its existence checked */
	if (kind == TRACE_STAT && trace_obs_find(t, TRACE_CONTENT, r->hostpath.buf))
		return;
	trace_obs_add(t, kind, r->hostpath.buf, sc, &r->st);
}

/*
 * /proc and /sys: their times mean nothing; a directory's are an
 * observation only when a stat by path that does not follow a final
 * symlink showed them (trace.h, trace_obs.times; DESIGN.md §3).
 */
static bool times_not_observed(const struct res *r, bool by_path, bool nofollow)
{
	return (S_ISDIR(r->st.st_mode) && !(by_path && nofollow)) ||
	       path_has_prefix_component(r->hostpath.buf, "/proc") ||
	       path_has_prefix_component(r->hostpath.buf, "/sys");
}

void trace_record_stat_times(struct trace *t, const struct res *r,
			     const char *sc, bool by_path, bool nofollow)
{
	struct trace_obs *o;

	if (r->status != RES_FOUND)
		return;
	if (r->where == W_JOB) {
		if (by_path)
			trace_jobtime_mark(t, r->path.buf, TRACE_TIMES_SEEN);
		return;
	}
	if (r->where != W_HOST)
		return;
	if (trace_record_always_changing(t, r->hostpath.buf, sc))
		return;
	/* a symlink's target, and its own times like any object's */
	if (S_ISLNK(r->st.st_mode))
		trace_record_found(t, r, TRACE_STAT, sc);
	o = trace_obs_find(t, TRACE_STAT, r->hostpath.buf);
	if (!o) {
		o = trace_obs_add(t, TRACE_STAT, r->hostpath.buf, sc, &r->st);
		o->times = !times_not_observed(r, by_path, nofollow);
		return;
	}
	o->access = false; /* the job was shown it (trace.h) */
	if (o->times || times_not_observed(r, by_path, nofollow))
		return;
	/*
	 * First seen by a call that showed no times (access, chmod...): the
	 * times shown now must be of the object as it was then, or the
	 * record would not say what the job saw. A directory whose entries
	 * changed meanwhile (a sibling job's files: only its times and size
	 * moved) is recorded as it is now: the first call showed what is
	 * still the same (the object, its type, mode and owner), so a host
	 * in today's state shows the job both of what it saw; its entries
	 * are a listing's, checked apart.
	 */
	if (S_ISDIR(r->st.st_mode) && o->st.st_dev == r->st.st_dev &&
	    o->st.st_ino == r->st.st_ino && o->st.st_mode == r->st.st_mode &&
	    o->st.st_uid == r->st.st_uid && o->st.st_gid == r->st.st_gid) {
		o->st = r->st;
	} else if (!stat_same_file(&o->st, &r->st) || o->st.st_mode != r->st.st_mode) {
		trace_taint(t, "input changed during the run: %s", r->hostpath.buf);
		return;
	}
	o->times = true;
}

/*
 * The immutable and append-only flags are no precondition (DESIGN §3,
 * "Immutable and append-only host objects taint"): a write the flag
 * refused (EPERM, a shell's "cannot create") would be stored and
 * replayed after `chattr -i`, and the reverse (a success recorded, the
 * flag set since) is a loud "cannot apply" on a hit. So a write-side
 * call on such an object taints the run (found in review, t1140).
 */
void trace_check_inode_flags(struct trace *t, const char *hostpath)
{
	_cleanup_close_ int fd = -1;
	size_t len = strlen(hostpath);
	struct stat st;
	int flags = 0;

	if (strmap_get(&t->flags_checked, hostpath, len) != -1)
		return;
	strmap_put(&t->flags_checked, hostpath, len, 0);
	/* their files have no such flags; opening some of them acts */
	if (path_has_prefix_component(hostpath, "/proc") ||
	    path_has_prefix_component(hostpath, "/sys") ||
	    path_has_prefix_component(hostpath, "/dev"))
		return;
	if (lstat(hostpath, &st) < 0 || !(S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)))
		return; /* gone (the diff or the record's checks tell), or no flags */
	fd = open(hostpath, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		if (errno != ENOENT && errno != ELOOP)
			trace_taint(t, "cannot read the inode flags of '%s': %s", hostpath,
				    strerror(errno));
		return;
	}
	/* the kernel reads and writes an int, whatever the ioctl's type says */
	if (ioctl(fd, FS_IOC_GETFLAGS, &flags) < 0) {
		if (errno != ENOTTY && errno != EOPNOTSUPP && errno != EINVAL)
			trace_taint(t, "cannot read the inode flags of '%s': %s", hostpath,
				    strerror(errno));
		return;
	}
	if (flags & FS_IMMUTABLE_FL)
		trace_taint(t, "'%s' is immutable on the host (chattr +i)", hostpath);
	if (flags & FS_APPEND_FL)
		trace_taint(t, "'%s' is append-only on the host (chattr +a)", hostpath);
}

/* ---------------------------------------------------------------------- */
/* execve: the binary, its PT_INTERP and #! interpreters */

static void record_exec_chain(const struct walk *w, const struct res *r, int depth,
			      bool *needs_first);

/* A dynamic section holds at most this many entries we read. */
#define TRACE_MAX_DYN 1024

/*
 * Whether the ELF program @fd (program headers @ph, @phnum of them) names
 * an AddressSanitizer runtime among its DT_NEEDED libraries
 * (libasan.so.N, libclang_rt.asan-*.so): it aborts unless it is first in
 * the link map, which a preloaded library would be (DESIGN §3.1
 * "Compatibility"). Read at every execve: two reads, then one per
 * needed library.
 */
static bool needs_sanitizer_first(int fd, const Elf64_Phdr *ph, int phnum)
{
	_cleanup_free_ Elf64_Dyn *dyn = NULL;
	const Elf64_Phdr *dp = NULL;
	uint64_t strtab = 0, strsz = 0, str_off = 0;
	size_t n, i;
	int k;

	for (k = 0; k < phnum; k++)
		if (ph[k].p_type == PT_DYNAMIC)
			dp = &ph[k];
	if (!dp)
		return false;
	n = (size_t)(dp->p_filesz / sizeof(Elf64_Dyn));
	if (n > TRACE_MAX_DYN)
		n = TRACE_MAX_DYN;
	dyn = xcalloc(n + 1, sizeof(*dyn));
	if (pread(fd, dyn, n * sizeof(*dyn), (off_t)dp->p_offset) != (ssize_t)(n * sizeof(*dyn)))
		return false;
	for (i = 0; i < n && dyn[i].d_tag != DT_NULL; i++) {
		if (dyn[i].d_tag == DT_STRTAB)
			strtab = dyn[i].d_un.d_ptr;
		else if (dyn[i].d_tag == DT_STRSZ)
			strsz = dyn[i].d_un.d_val;
	}
	/* DT_STRTAB is an address: its file offset through its PT_LOAD */
	for (k = 0; k < phnum && !str_off; k++)
		if (ph[k].p_type == PT_LOAD && strtab >= ph[k].p_vaddr &&
		    strtab < ph[k].p_vaddr + ph[k].p_filesz)
			str_off = strtab - ph[k].p_vaddr + ph[k].p_offset;
	if (!str_off || !strsz)
		return false;
	for (i = 0; i < n && dyn[i].d_tag != DT_NULL; i++) {
		char name[32] = "";

		if (dyn[i].d_tag != DT_NEEDED || dyn[i].d_un.d_val >= strsz ||
		    pread(fd, name, sizeof(name) - 1, (off_t)(str_off + dyn[i].d_un.d_val)) <= 0)
			continue;
		if (!strncmp(name, "libasan.so", 10) || !strncmp(name, "libclang_rt.asan", 16))
			return true;
	}
	return false;
}

/*
 * Text (@buf, the first @n bytes of a file): no control character but
 * tab, newline, carriage return and form feed. Without #!, execve()
 * refuses it with ENOEXEC and a shell then runs it itself (what it reads
 * is recorded then), unless a binfmt_misc handler takes it.
 */
static bool plain_text(const unsigned char *buf, ssize_t n)
{
	for (ssize_t i = 0; i < n; i++)
		if (buf[i] < 0x20 && buf[i] != '\t' && buf[i] != '\n' &&
		    buf[i] != '\r' && buf[i] != '\f')
			return false;
	return true;
}

/* The host fact "binfmt_misc": what procache sees registered. */
static void binfmt_fact(struct trace *t, pid_t pid, const char *sc)
{
	struct strbuf v = STRBUF_INIT;
	struct trace_obs *o;

	if (binfmt_fact_value(&v) < 0) {
		trace_taint(t, "syscall %s: cannot read the binfmt_misc registrations", sc);
	} else {
		o = trace_obs_add(t, TRACE_HOSTFACT, "binfmt_misc", sc, NULL);
		if (o && !o->value)
			o->value = xstrdup(v.buf);
		trace_nest_observe(t, pid, TRACE_HOSTFACT, "binfmt_misc", v.buf, false);
	}
	strbuf_release(&v);
}

/*
 * Whether the first @n bytes of a file, @buf, are the header of an ELF
 * binary binfmt_elf runs here: 64-bit, little-endian, x86-64. Any other
 * ELF runs only through a binfmt_misc handler (qemu-user) or not at all.
 */
static bool is_native_elf(const unsigned char *buf, ssize_t n)
{
	Elf64_Ehdr eh;

	if (n < (ssize_t)sizeof(eh) || memcmp(buf, ELFMAG, SELFMAG) ||
	    buf[EI_CLASS] != ELFCLASS64 || buf[EI_DATA] != ELFDATA2LSB)
		return false;
	memcpy(&eh, buf, sizeof(eh));
	return eh.e_machine == EM_X86_64;
}

static void exec_interp(const struct walk *w, const char *interp, int depth,
			bool *needs_first)
{
	struct walk iw = *w;
	struct res ir = RES_INIT;

	iw.follow_last = true;
	iw.resolve = 0;
	if (trace_walk_from_cwd(&iw, interp, &ir) < 0)
		trace_taint(w->t, "syscall %s: cannot read cwd of %d", w->sc, (int)w->pid);
	else if (ir.status == RES_FOUND) {
		trace_record_found(w->t, &ir, TRACE_CONTENT, w->sc);
		record_exec_chain(w, &ir, depth + 1, needs_first);
	}
	trace_res_release(&ir);
}

static void record_exec_chain(const struct walk *w, const struct res *r, int depth,
			      bool *needs_first)
{
	struct strbuf view = STRBUF_INIT;
	const char *file;
	unsigned char buf[256];
	_cleanup_close_ int fd = -1;
	ssize_t n;

	if (r->status != RES_FOUND || !S_ISREG(r->st.st_mode))
		return;
	if (depth >= TRACE_MAX_INTERP_DEPTH)
		return; /* the kernel gives ELOOP */
	if (r->where == W_HOST) {
		file = r->hostpath.buf;
	} else {
		trace_view_path(w->pid, r->path.buf, &view);
		file = view.buf;
	}
	fd = open(file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		goto out;
	/* what the unit an exec starts runs: in its key (DESIGN §13.3) */
	if (w->t->nest && w->pid)
		trace_nest_exec_file(w->t, w->pid, r->path.buf);
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n < 0)
		goto out;
	buf[n] = 0;
	if (n >= 2 && buf[0] == '#' && buf[1] == '!') {
		/* binfmt_script: the interpreter is the first word after #! */
		char *p = (char *)buf + 2, *end;

		while (*p == ' ' || *p == '\t')
			p++;
		end = p;
		while (*end && *end != ' ' && *end != '\t' && *end != '\n')
			end++;
		if (end == p)
			goto out;
		*end = 0;
		exec_interp(w, p, depth, needs_first);
	} else if (is_native_elf(buf, n)) {
		Elf64_Ehdr eh;
		_cleanup_free_ Elf64_Phdr *ph = NULL;
		size_t size;
		int i;

		memcpy(&eh, buf, sizeof(eh));
		if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum > TRACE_MAX_PHNUM)
			goto out;
		size = (size_t)eh.e_phnum * sizeof(Elf64_Phdr);
		ph = xmalloc(size + 1);
		if (pread(fd, ph, size, (off_t)eh.e_phoff) != (ssize_t)size)
			goto out;
		if (needs_sanitizer_first(fd, ph, eh.e_phnum))
			*needs_first = true;
		for (i = 0; i < eh.e_phnum; i++) {
			char interp[PATH_MAX];

			if (ph[i].p_type != PT_INTERP)
				continue;
			if (ph[i].p_filesz < 2 || ph[i].p_filesz > sizeof(interp) ||
			    pread(fd, interp, ph[i].p_filesz, (off_t)ph[i].p_offset) !=
				    (ssize_t)ph[i].p_filesz ||
			    interp[ph[i].p_filesz - 1]) {
				trace_taint(w->t, "syscall %s: cannot read PT_INTERP of %s", w->sc,
					    r->path.buf);
				break;
			}
			exec_interp(w, interp, depth, needs_first);
			break;
		}
	} else if (n > EI_CLASS && !memcmp(buf, ELFMAG, SELFMAG) &&
		   buf[EI_CLASS] != ELFCLASS64) {
		trace_taint(w->t, "syscall %s: non-64-bit ELF %s", w->sc, r->path.buf);
	} else if ((r->st.st_mode & 0111) && plain_text(buf, n) &&
		   !binfmt_may_take(r->path.buf, buf, n)) {
		/* a script for the shell: as long as no handler appears */
		binfmt_fact(w->t, w->pid, w->sc);
	} else if (r->st.st_mode & 0111) {
		/*
		 * Neither a #! script nor a native ELF binary (a foreign
		 * architecture's ELF, anything else): the kernel runs it only
		 * through a binfmt_misc handler (qemu-user, a registered magic
		 * or extension), whose registration and interpreter no
		 * precondition holds; without one the exec fails with ENOEXEC
		 * (which a shell answers by running the file as a script), and
		 * which of the two happens is the host's configuration as well
		 * (found in review, t1150). Without an execute bit the kernel
		 * refuses it first (EACCES).
		 */
		trace_taint(w->t, "executed '%s' through a binfmt_misc handler "
			    "(neither a native ELF binary nor a #! script)", r->path.buf);
	}
out:
	strbuf_release(&view);
}

bool trace_record_exec(const struct walk *w, const struct res *r)
{
	bool needs_first = false;

	record_exec_chain(w, r, 0, &needs_first);
	return needs_first;
}
