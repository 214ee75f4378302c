/* CPU lists and the /proc/cpuinfo a job is shown (common/cpus.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cpus.h"
#include "common/hash.h"
#include "common/strbuf.h"
#include "common/xalloc.h"

#include "common/banned.h"

int cpu_list_ranges(const char *list,
		    void (*fn)(unsigned long, unsigned long, void *), void *ctx)
{
	const char *p = list;

	while (*p) {
		char *end;
		unsigned long a = strtoul(p, &end, 10), b = a;

		if (end == p)
			return -1;
		if (*end == '-')
			b = strtoul(end + 1, &end, 10);
		if (b < a || (*end && *end != ','))
			return -1;
		fn(a, b, ctx);
		if (!*end)
			return 0;
		p = end + 1;
	}
	return -1; /* empty, or a trailing comma */
}

struct cpu_find {
	unsigned long cpu;
	bool found;
};

static void find_range(unsigned long a, unsigned long b, void *ctx)
{
	struct cpu_find *f = ctx;

	if (f->cpu >= a && f->cpu <= b)
		f->found = true;
}

bool cpu_list_has(const char *list, unsigned long cpu)
{
	struct cpu_find f = { .cpu = cpu };

	return cpu_list_ranges(list, find_range, &f) == 0 && f.found;
}

static void count_range(unsigned long a, unsigned long b, void *ctx)
{
	*(unsigned long *)ctx += b - a + 1;
}

/* "name<tabs/spaces>: value": the value of line @line if its name is @name */
static const char *field(const char *line, size_t len, const char *name)
{
	size_t n = strlen(name);
	const char *p = line + n;

	if (len < n || memcmp(line, name, n))
		return NULL;
	while (p < line + len && (*p == '\t' || *p == ' '))
		p++;
	if (p == line + len || *p != ':')
		return NULL;
	return p + 1;
}

/* One block (@b, @len bytes, without its blank line) as shown. */
static void block_shown(const char *b, size_t len, struct strbuf *out)
{
	const char *p, *end = b + len, *bogo = NULL;
	char mhz[64] = "";

	for (p = b; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);

		if (!bogo)
			bogo = field(p, l, "bogomips");
		p += l + (nl ? 1 : 0);
	}
	if (bogo) {
		char *e;
		double v = strtod(bogo, &e);

		if (e != bogo && v > 0)
			snprintf(mhz, sizeof(mhz), "cpu MHz\t\t: %.3f\n", v / 2);
	}
	for (p = b; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);

		if (field(p, l, "cpu MHz"))
			strbuf_addstr(out, mhz);
		else
			strbuf_addf(out, "%.*s\n", (int)l, p);
		p += l + (nl ? 1 : 0);
	}
	strbuf_addch(out, '\n');
}

int cpuinfo_shown(const char *list, struct strbuf *out)
{
	struct strbuf host = STRBUF_INIT;
	unsigned long wanted = 0, shown = 0;
	const char *p, *end;
	ssize_t n;

	if (cpu_list_ranges(list, count_range, &wanted) < 0)
		return -EINVAL;
	n = strbuf_read_file_at(&host, AT_FDCWD, "/proc/cpuinfo", 16384);
	if (n < 0) {
		strbuf_release(&host);
		return (int)n;
	}
	end = host.buf + host.len;
	for (p = host.buf; p < end;) {
		/* a block runs to the next blank line */
		const char *stop = strstr(p, "\n\n");
		const char *bend = stop ? stop + 1 : end;
		const char *v = field(p, (size_t)(bend - p), "processor");
		char *e;
		unsigned long cpu;

		if (v && (cpu = strtoul(v, &e, 10), e != v) && cpu_list_has(list, cpu)) {
			block_shown(p, (size_t)(bend - p), out);
			shown++;
		}
		p = stop ? stop + 2 : end;
	}
	strbuf_release(&host);
	return shown == wanted ? 0 : -ENOENT;
}

void cpuinfo_fact(const char *list, const char *shown, struct strbuf *out)
{
	struct pc_hash h;
	char hex[PC_HASH_HEX_LEN + 1];

	pc_hash_buffer(shown, strlen(shown), &h);
	pc_hash_to_hex(&h, hex);
	strbuf_addf(out, "%s %s", list, hex);
}

bool cpuinfo_fact_check(const char *recorded, struct strbuf *found)
{
	const char *sp = strchr(recorded, ' ');
	struct strbuf shown = STRBUF_INIT;
	char *list;
	size_t start = found->len;
	bool ok;

	if (!sp) {
		strbuf_addstr(found, "unknown");
		return false;
	}
	list = xstrndup(recorded, (size_t)(sp - recorded));
	if (cpuinfo_shown(list, &shown) < 0)
		strbuf_addstr(found, "unknown");
	else
		cpuinfo_fact(list, shown.buf, found);
	ok = !strcmp(found->buf + start, recorded);
	free(list);
	strbuf_release(&shown);
	return ok;
}
