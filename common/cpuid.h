/*
 * The "cpu" key field (DESIGN.md §3 "Out of the model" and §4): what the
 * CPUID instruction tells a job. A job reads it without a system call
 * (gcc -march=native, OpenBLAS and numpy choosing kernels, glibc's
 * ifuncs), so the tracer cannot observe it: it is keyed instead.
 */
#ifndef PROCACHE_COMMON_CPUID_H
#define PROCACHE_COMMON_CPUID_H

/*
 * "VENDOR FAMILY.MODEL.STEPPING XXH3-128-hex" of this machine's CPU:
 * the vendor string, the signature of leaf 1 eax, and a hash of that
 * eax and the feature words (leaves 1 ecx/edx, 7.0 ebx/ecx/edx, 7.1 eax,
 * 0xd.1 eax, 0x80000001 ecx/edx; a leaf the CPU does not have counts as
 * zeros). Not leaf 1 ebx: its APIC id is the core the caller ran on.
 * Computed at the first call; a static string.
 */
const char *cpuid_key(void);

#include <stdint.h>

/* The feature words hashed into it, in that order: cpuid_words() from
 * glibc's start-up reading, cpuid_words_direct() by CPUID itself. */
void cpuid_words(uint32_t words[10]);
void cpuid_words_direct(uint32_t words[10]);

#endif
