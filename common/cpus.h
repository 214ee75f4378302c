/*
 * CPU lists ("0-3,6", the kernel's cpulist format) and /proc/cpuinfo as
 * a job is shown it (DESIGN.md §2, "Host facts").
 *
 * The sandbox generates the job's /proc/cpuinfo with cpuinfo_shown(),
 * the tracer records cpuinfo_fact() of what it showed as the "cpuinfo"
 * host-fact precondition, and the cache (cache/lookup.c) recomputes both
 * from the host on lookup: all three call these functions, so they agree
 * byte for byte.
 */
#ifndef PROCACHE_COMMON_CPUS_H
#define PROCACHE_COMMON_CPUS_H

#include <stdbool.h>

struct strbuf;

/*
 * Call @fn(first, last, @ctx) for each range of the CPU list @list, in
 * order; -1 when the list is malformed (after the ranges before the
 * fault: an empty list, a trailing comma, a range backwards), else 0.
 */
int cpu_list_ranges(const char *list,
		    void (*fn)(unsigned long, unsigned long, void *), void *ctx);

/* Whether CPU @cpu is in @list (false when @list is malformed). */
bool cpu_list_has(const char *list, unsigned long cpu);

/*
 * Append to @out the /proc/cpuinfo a job given the CPUs @list sees: the
 * host's blocks ("processor : N" to the blank line) of those CPUs, in
 * the host's order, each as the host has it but for "cpu MHz", the one
 * line that changes while the machine runs (the current frequency of
 * that core, sampled at each read): it shows bogomips / 2, which the
 * kernel derives from the TSC frequency calibrated at boot (the nominal
 * frequency; what a VM shows there anyway), or is left out when the
 * block has no bogomips. Returns 0; -errno when /proc/cpuinfo cannot be
 * read; -ENOENT when a CPU of @list has no block, -EINVAL when @list is
 * malformed (@out then holds what was appended before).
 */
int cpuinfo_shown(const char *list, struct strbuf *out);

/*
 * The value of the "cpuinfo" host-fact precondition for @shown, what
 * cpuinfo_shown(@list) gave: "@list <XXH3-128 hex of @shown>". The list
 * (no spaces) leads, so that the cache can recompute the content on
 * lookup (cpuinfo_fact_check()).
 */
void cpuinfo_fact(const char *list, const char *shown, struct strbuf *out);

/*
 * Append to @found the value cpuinfo_fact() gives for the host now, for
 * the CPU list that @recorded (a cpuinfo_fact() value) names; "unknown"
 * when the host's cpuinfo cannot be read or has no block for one of
 * them. Returns whether it equals @recorded.
 */
bool cpuinfo_fact_check(const char *recorded, struct strbuf *found);

#endif
