/*
 * The CPUID key field (common/cpuid.h). x86-64 only, as procache is
 * (the key's "arch" field).
 */
#include <cpuid.h>
#include <pthread.h>
#include <sys/platform/x86.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "common/cpuid.h"
#include "common/hash.h"
#include "common/banned.h"

/* One leaf's registers, zeros when the CPU does not have it. */
static void leaf(unsigned int l, unsigned int sub, unsigned int r[4])
{
	if (!__get_cpuid_count(l, sub, &r[0], &r[1], &r[2], &r[3]))
		memset(r, 0, 4 * sizeof(r[0]));
}

/*
 * The feature words, as leaf() would give them: from what glibc read
 * with CPUID at start-up (the same leaves, raw: glibc clears what it will
 * not use in its separate "active" words; zeros for a leaf the CPU does
 * not have), since CPUID traps to the hypervisor in a virtual machine:
 * the 10 instructions of cpuid_words_direct() and their __get_cpuid_max()
 * cost some 50 us here, a few percent of a cache hit. test-common checks
 * that both agree.
 */
void cpuid_words(uint32_t words[10])
{
	const struct cpuid_feature *f;

	f = __x86_get_cpuid_feature_leaf(CPUID_INDEX_1);
	words[0] = f->cpuid_array[cpuid_register_index_eax];
	words[1] = f->cpuid_array[cpuid_register_index_ecx];
	words[2] = f->cpuid_array[cpuid_register_index_edx];
	f = __x86_get_cpuid_feature_leaf(CPUID_INDEX_7);
	words[3] = f->cpuid_array[cpuid_register_index_ebx];
	words[4] = f->cpuid_array[cpuid_register_index_ecx];
	words[5] = f->cpuid_array[cpuid_register_index_edx];
	f = __x86_get_cpuid_feature_leaf(CPUID_INDEX_7_ECX_1);
	words[6] = f->cpuid_array[cpuid_register_index_eax];
	f = __x86_get_cpuid_feature_leaf(CPUID_INDEX_D_ECX_1);
	words[7] = f->cpuid_array[cpuid_register_index_eax];
	f = __x86_get_cpuid_feature_leaf(CPUID_INDEX_80000001);
	words[8] = f->cpuid_array[cpuid_register_index_ecx];
	words[9] = f->cpuid_array[cpuid_register_index_edx];
}

void cpuid_words_direct(uint32_t words[10])
{
	unsigned int r[4];

	leaf(1, 0, r);
	/* ebx left out: brand index, CLFLUSH size, and the APIC id (per core) */
	words[0] = r[0];
	words[1] = r[2];
	words[2] = r[3];
	leaf(7, 0, r);
	words[3] = r[1];
	words[4] = r[2];
	words[5] = r[3];
	leaf(7, 1, r);
	words[6] = r[0];
	leaf(0xd, 1, r);
	words[7] = r[0];
	leaf(0x80000001, 0, r);
	words[8] = r[2];
	words[9] = r[3];
}

static char key[96];

static void compute(void)
{
	unsigned int r[4], eax1;
	uint32_t words[10];
	char vendor[13];
	char hex[PC_HASH_HEX_LEN + 1];
	struct pc_hash h;
	struct pc_hasher hs;
	unsigned family, model;

	/* leaf 0 always exists: no __get_cpuid_max() first */
	__cpuid(0, r[0], r[1], r[2], r[3]);
	memcpy(vendor, &r[1], 4);	/* ebx, edx, ecx: "GenuineIntel" */
	memcpy(vendor + 4, &r[3], 4);
	memcpy(vendor + 8, &r[2], 4);
	vendor[12] = '\0';
	if (!vendor[0])
		memcpy(vendor, "unknown", sizeof("unknown"));
	/* glibc reads every one of these leaves for these two vendors
	 * (sysdeps/x86/cpu-features.c); for another, CPUID itself */
	if (!strcmp(vendor, "GenuineIntel") || !strcmp(vendor, "AuthenticAMD"))
		cpuid_words(words);
	else
		cpuid_words_direct(words);
	eax1 = words[0];
	pc_hasher_init(&hs);
	pc_hasher_update(&hs, vendor, sizeof(vendor));
	pc_hasher_update(&hs, words, sizeof(words));
	pc_hasher_final(&hs, &h);
	pc_hasher_release(&hs);
	pc_hash_to_hex(&h, hex);
	/* the displayed family and model (Intel's SDM, leaf 1) */
	family = (eax1 >> 8) & 0xf;
	model = (eax1 >> 4) & 0xf;
	if (family == 0xf)
		family += (eax1 >> 20) & 0xff;
	if (family == 0x6 || family >= 0xf)
		model |= ((eax1 >> 16) & 0xf) << 4;
	snprintf(key, sizeof(key), "%s %u.%u.%u %s", vendor, family, model, eax1 & 0xf, hex);
}

const char *cpuid_key(void)
{
	/* nested units' keys are made on other threads (runner/nest.c) */
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, compute);
	return key;
}
