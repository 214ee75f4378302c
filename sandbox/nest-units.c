/*
 * Execution units' bookkeeping (DESIGN.md §13.2); the contract is
 * sandbox/nest-units.h.
 *
 * NEEDSWORK: processes are found by a linear scan and conflicts by
 * comparing every own access with every foreign one; enough for the tens
 * of processes and hundreds of paths of a unit of a pipeline, not for a
 * whole make -j of a large tree (an index of paths by component is the
 * next step).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/path.h"
#include "common/strbuf.h"
#include "common/strmap.h"
#include "common/xalloc.h"
#include "sandbox/nest-units.h"

#include "common/banned.h"

struct access {
	enum nest_access kind;
	char *path;
};

struct access_set {
	struct access *v;
	size_t nr, alloc;
	struct strmap seen;	/* kind byte + path */
};

struct unit {
	unsigned id, parent;
	pid_t root;
	bool ended;
	char *refused;
	struct access_set own, foreign;
};

struct proc {
	pid_t pid;
	unsigned *stack;	/* enclosing units, outermost first */
	size_t nr, alloc;
	bool restricted;	/* nest_units_restrict(): it or an ancestor */
	bool policy;		/* nest_units_set_policy(): a memory policy */
};

struct nest_units {
	struct unit *units;	/* units[id - 1] */
	size_t nr_units, alloc_units, nr_open;
	struct proc *procs;
	size_t nr_procs, alloc_procs;
	unsigned *ended;
	size_t nr_ended, alloc_ended, next_ended;
	bool any_restricted;	/* a process of unknown parent may be one's */
	bool any_policy;	/* the same, for a memory policy */
};

struct nest_units *nest_units_new(void)
{
	return xcalloc(1, sizeof(struct nest_units));
}

static void access_set_release(struct access_set *s)
{
	size_t i;

	for (i = 0; i < s->nr; i++)
		free(s->v[i].path);
	free(s->v);
	strmap_release(&s->seen);
}

void nest_units_free(struct nest_units *u)
{
	size_t i;

	if (!u)
		return;
	for (i = 0; i < u->nr_units; i++) {
		access_set_release(&u->units[i].own);
		access_set_release(&u->units[i].foreign);
		free(u->units[i].refused);
	}
	for (i = 0; i < u->nr_procs; i++)
		free(u->procs[i].stack);
	free(u->units);
	free(u->procs);
	free(u->ended);
	free(u);
}

static struct proc *find_proc(const struct nest_units *u, pid_t pid)
{
	size_t i;

	for (i = 0; i < u->nr_procs; i++)
		if (u->procs[i].pid == pid)
			return &u->procs[i];
	return NULL;
}

bool nest_units_known(const struct nest_units *u, pid_t pid)
{
	return find_proc(u, pid) != NULL;
}

static bool encloses(const struct proc *p, unsigned id)
{
	size_t i;

	for (i = 0; i < p->nr; i++)
		if (p->stack[i] == id)
			return true;
	return false;
}

static void refuse_unit(struct unit *un, const char *reason)
{
	if (!un->refused)
		un->refused = xstrdup(reason);
}

void nest_units_refuse_open(struct nest_units *u, const char *reason)
{
	size_t i;

	for (i = 0; i < u->nr_units; i++)
		if (!u->units[i].ended)
			refuse_unit(&u->units[i], reason);
}

void nest_units_refuse_unit(struct nest_units *u, unsigned id, const char *reason)
{
	if (id && id <= u->nr_units)
		refuse_unit(&u->units[id - 1], reason);
}

void nest_units_refuse(struct nest_units *u, pid_t pid, const char *reason)
{
	struct proc *p = find_proc(u, pid);
	size_t i;

	if (!p) {
		nest_units_refuse_open(u, reason);
		return;
	}
	for (i = 0; i < p->nr; i++)
		refuse_unit(&u->units[p->stack[i] - 1], reason);
}

static struct proc *add_proc(struct nest_units *u, pid_t pid, const struct proc *like)
{
	struct proc *p;

	ALLOC_GROW(u->procs, u->nr_procs + 1, u->alloc_procs);
	p = &u->procs[u->nr_procs++];
	memset(p, 0, sizeof(*p));
	p->pid = pid;
	p->restricted = like ? like->restricted : u->any_restricted;
	p->policy = like ? like->policy : u->any_policy;
	if (like && like->nr) {
		p->stack = xmalloc(like->nr * sizeof(*p->stack));
		memcpy(p->stack, like->stack, like->nr * sizeof(*p->stack));
		p->nr = p->alloc = like->nr;
	}
	return p;
}

void nest_units_proc(struct nest_units *u, pid_t pid, const pid_t *ancestors, size_t n)
{
	const struct proc *known = NULL;
	struct proc copy;
	size_t i, k;

	if (find_proc(u, pid))
		return;
	for (k = 0; k < n && !known; k++)
		known = find_proc(u, ancestors[k]);
	if (!known) {
		if (u->nr_open) {
			char reason[96];

			snprintf(reason, sizeof(reason),
				 "a process whose parent is unknown (pid %d)", (int)pid);
			nest_units_refuse_open(u, reason);
		}
		add_proc(u, pid, NULL);
		return;
	}
	/* add_proc() may move the table: copy the stack's owner out first */
	copy = *known;
	copy.stack = copy.nr ? xmalloc(copy.nr * sizeof(*copy.stack)) : NULL;
	if (copy.nr)
		memcpy(copy.stack, known->stack, copy.nr * sizeof(*copy.stack));
	/* the ancestors between, which never made a call, are in them too */
	for (i = 0; i + 1 < k; i++)
		add_proc(u, ancestors[i], &copy);
	add_proc(u, pid, &copy);
	free(copy.stack);
}

void nest_units_restrict(struct nest_units *u, pid_t pid)
{
	struct proc *p = find_proc(u, pid);

	u->any_restricted = true;
	if (p)
		p->restricted = true;
}

bool nest_units_restricted(const struct nest_units *u, pid_t pid)
{
	const struct proc *p = find_proc(u, pid);

	return p ? p->restricted || p->policy : u->any_restricted || u->any_policy;
}

void nest_units_set_policy(struct nest_units *u, pid_t pid, bool on)
{
	struct proc *p = find_proc(u, pid);

	if (on)
		u->any_policy = true;
	if (p)
		p->policy = on;
	else if (on)
		u->any_restricted = true;	/* unknown: its children too */
}

unsigned nest_units_exec(struct nest_units *u, pid_t pid)
{
	struct proc *p = find_proc(u, pid);
	struct unit *un;

	if (!p)
		return 0;
	ALLOC_GROW(u->units, u->nr_units + 1, u->alloc_units);
	un = &u->units[u->nr_units];
	memset(un, 0, sizeof(*un));
	un->id = (unsigned)++u->nr_units;
	un->parent = p->nr ? p->stack[p->nr - 1] : 0;
	un->root = pid;
	u->nr_open++;
	ALLOC_GROW(p->stack, p->nr + 1, p->alloc);
	p->stack[p->nr++] = un->id;
	return un->id;
}

static void access_add(struct access_set *s, enum nest_access kind, const char *path)
{
	struct strbuf key = STRBUF_INIT;

	strbuf_addch(&key, '0' + (int)kind);
	strbuf_addstr(&key, path);
	if (strmap_put(&s->seen, key.buf, key.len, (long)s->nr) == -1) {
		ALLOC_GROW(s->v, s->nr + 1, s->alloc);
		s->v[s->nr].kind = kind;
		s->v[s->nr].path = xstrdup(path);
		s->nr++;
	}
	strbuf_release(&key);
}

void nest_units_access(struct nest_units *u, pid_t pid, enum nest_access kind,
		       const char *path)
{
	struct proc *p;
	size_t i;

	if (!u->nr_open)
		return;
	p = find_proc(u, pid);
	if (!p) {
		nest_units_refuse_open(u, "an access by a process of no known unit");
		return;
	}
	for (i = 0; i < u->nr_units; i++) {
		struct unit *un = &u->units[i];

		if (!un->ended)
			access_add(encloses(p, un->id) ? &un->own : &un->foreign, kind, path);
	}
}

/* The directory holding @path ("/" for "/x"), into @out. */
static void parent_of(const char *path, struct strbuf *out)
{
	const char *slash = strrchr(path, '/');

	strbuf_reset(out);
	if (!slash || slash == path)
		strbuf_addch(out, '/');
	else
		strbuf_add(out, path, (size_t)(slash - path));
}

/* Whether write @w changes what access @a depends on (or both write). */
static bool write_meets(const struct access *w, const struct access *a)
{
	struct strbuf parent = STRBUF_INIT;
	bool meets = true;

	switch (a->kind) {
	case NEST_READ:
		/* the object itself, or one of the components it resolves through */
		meets = path_has_prefix_component(a->path, w->path);
		break;
	case NEST_LIST:
		parent_of(w->path, &parent);
		meets = path_has_prefix_component(a->path, w->path) ||
			!strcmp(parent.buf, a->path);
		break;
	case NEST_WRITE:
		/* the final state depends on the order of the two */
		meets = path_has_prefix_component(a->path, w->path) ||
			path_has_prefix_component(w->path, a->path);
		break;
	}
	strbuf_release(&parent);
	return meets;
}

static const char *conflict(const struct unit *un)
{
	size_t i, j;

	for (i = 0; i < un->own.nr; i++)
		for (j = 0; j < un->foreign.nr; j++) {
			const struct access *a = &un->own.v[i], *f = &un->foreign.v[j];

			if ((f->kind == NEST_WRITE && write_meets(f, a)) ||
			    (a->kind == NEST_WRITE && write_meets(a, f)))
				return a->path;
		}
	return NULL;
}

static void end_unit(struct nest_units *u, struct unit *un)
{
	char reason[PATH_MAX + 96];
	const char *path;
	size_t i;

	for (i = 0; i < u->nr_procs; i++)
		if (u->procs[i].pid != un->root && encloses(&u->procs[i], un->id)) {
			snprintf(reason, sizeof(reason),
				 "a process outlived its unit (pid %d)", (int)u->procs[i].pid);
			refuse_unit(un, reason);
			break;
		}
	path = conflict(un);
	if (path) {
		snprintf(reason, sizeof(reason),
			 "shares state with a process running beside it: %s", path);
		refuse_unit(un, reason);
	}
	un->ended = true;
	u->nr_open--;
	/* nothing compares with it any more */
	access_set_release(&un->foreign);
	memset(&un->foreign, 0, sizeof(un->foreign));
	ALLOC_GROW(u->ended, u->nr_ended + 1, u->alloc_ended);
	u->ended[u->nr_ended++] = un->id;
}

void nest_units_exit(struct nest_units *u, pid_t pid)
{
	struct proc *p = find_proc(u, pid);
	size_t i;

	if (!p)
		return;
	/* innermost first: an inner unit ends before the one around it */
	for (i = p->nr; i-- > 0;) {
		struct unit *un = &u->units[p->stack[i] - 1];

		if (un->root == pid && !un->ended)
			end_unit(u, un);
	}
	free(p->stack);
	*p = u->procs[--u->nr_procs];
}

size_t nest_units_stack(const struct nest_units *u, pid_t pid, const unsigned **ids)
{
	const struct proc *p = find_proc(u, pid);

	*ids = p ? p->stack : NULL;
	return p ? p->nr : 0;
}

bool nest_units_refused(const struct nest_units *u, unsigned id)
{
	return id && id <= u->nr_units && u->units[id - 1].refused;
}

void nest_units_end_open(struct nest_units *u)
{
	size_t i;

	/* a unit's id is larger than those of the units around it */
	for (i = u->nr_units; i-- > 0;)
		if (!u->units[i].ended)
			end_unit(u, &u->units[i]);
}

bool nest_units_next_ended(struct nest_units *u, struct nest_unit_end *end)
{
	const struct unit *un;

	if (u->next_ended == u->nr_ended)
		return false;
	un = &u->units[u->ended[u->next_ended++] - 1];
	end->id = un->id;
	end->parent = un->parent;
	end->root = un->root;
	end->refused = un->refused;
	end->nr_accesses = un->own.nr;
	return true;
}

const char *nest_units_access_at(const struct nest_units *u, unsigned id, size_t i,
				 enum nest_access *kind)
{
	const struct unit *un = &u->units[id - 1];

	*kind = un->own.v[i].kind;
	return un->own.v[i].path;
}
