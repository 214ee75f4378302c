/*
 * Progress of long operations a person waits on (hashing large inputs,
 * storing or restoring many files, cache gc and verify): one line on
 * stderr, redrawn at most ten times a second, shown only once the
 * operation has lasted half a second, and erased when it ends.
 *
 * Nothing is drawn unless progress_enable(true) was called, which the
 * runner does only when stderr is a terminal: output that goes to a file
 * or a pipe (a replayed stderr above all) never contains a progress line.
 * $PROCACHE_PROGRESS_DELAY (seconds, for tests) replaces the half second.
 *
 * Calling sequence:
 *	struct progress p;
 *	progress_start(&p, "restoring", nr_files, PROGRESS_COUNT);
 *	for (...) progress_update(&p, i + 1);
 *	progress_done(&p);
 *
 * Never fails; write errors are ignored (progress is advisory).
 */
#ifndef PROCACHE_COMMON_PROGRESS_H
#define PROCACHE_COMMON_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

enum progress_unit { PROGRESS_COUNT, PROGRESS_BYTES };

struct progress {
	const char *title;	/* static string */
	uint64_t total, done;
	enum progress_unit unit;
	double start, last_draw;
	bool drawn;
};

/* Off by default. */
void progress_enable(bool on);
bool progress_enabled(void);

/* @total may be 0 when unknown (then no percentage is shown). */
void progress_start(struct progress *p, const char *title, uint64_t total,
		    enum progress_unit unit);
void progress_update(struct progress *p, uint64_t done);
void progress_done(struct progress *p);

#endif
