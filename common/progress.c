/*
 * A progress line on stderr (see progress.h). Drawn with "\r" and erased
 * with "\r\033[K", so the terminal is left as it was.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/fdio.h"
#include "common/progress.h"
#include "common/banned.h"

#define PROGRESS_DELAY_S 0.5
#define PROGRESS_INTERVAL_S 0.1

static bool enabled;
static double delay_s = PROGRESS_DELAY_S;

void progress_enable(bool on)
{
	const char *d = getenv("PROCACHE_PROGRESS_DELAY");
	char *end;

	enabled = on;
	/* For tests: how long an operation runs before it is shown. */
	if (d && *d) {
		double v = strtod(d, &end);
		if (!*end && v >= 0 && v < 3600)
			delay_s = v;
	}
}

bool progress_enabled(void)
{
	return enabled;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

void progress_start(struct progress *p, const char *title, uint64_t total,
		    enum progress_unit unit)
{
	memset(p, 0, sizeof(*p));
	p->title = title;
	p->total = total;
	p->unit = unit;
	if (enabled)
		p->start = now_s();
}

static void human(char *buf, size_t len, uint64_t v, enum progress_unit unit)
{
	static const char units[] = "KMGT";
	double d = (double)v;
	int i = -1;

	if (unit == PROGRESS_COUNT) {
		snprintf(buf, len, "%llu", (unsigned long long)v);
		return;
	}
	while (d >= 1024 && i < 3) {
		d /= 1024;
		i++;
	}
	if (i < 0)
		snprintf(buf, len, "%llu B", (unsigned long long)v);
	else
		snprintf(buf, len, "%.1f %ciB", d, units[i]);
}

static void draw(struct progress *p)
{
	char line[160], done[32], total[32];
	int n;

	human(done, sizeof(done), p->done, p->unit);
	if (p->total) {
		int pct = (int)(p->done * 100 / p->total);
		int width = 20, fill = pct * width / 100;
		char bar[21];

		memset(bar, '#', fill);
		memset(bar + fill, '.', width - fill);
		bar[width] = '\0';
		human(total, sizeof(total), p->total, p->unit);
		n = snprintf(line, sizeof(line), "\rprocache: %s [%s] %3d%% %s/%s\033[K",
			     p->title, bar, pct, done, total);
	} else {
		n = snprintf(line, sizeof(line), "\rprocache: %s %s\033[K", p->title, done);
	}
	if (n > 0)
		(void)write_full(2, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
	p->drawn = true;
}

void progress_update(struct progress *p, uint64_t done)
{
	double t;

	p->done = done;
	if (!enabled)
		return;
	t = now_s();
	if (t - p->start < delay_s || t - p->last_draw < PROGRESS_INTERVAL_S)
		return;
	p->last_draw = t;
	draw(p);
}

void progress_done(struct progress *p)
{
	if (enabled && p->drawn)
		(void)write_full(2, "\r\033[K", 4);
	p->drawn = false;
}
