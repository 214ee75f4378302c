/*
 * The CPUID key field (common/cpuid.h). x86-64 only, as procache is
 * (the key's "arch" field).
 */
#include <cpuid.h>
#include <pthread.h>
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

	leaf(0, 0, r);
	memcpy(vendor, &r[1], 4);	/* ebx, edx, ecx: "GenuineIntel" */
	memcpy(vendor + 4, &r[3], 4);
	memcpy(vendor + 8, &r[2], 4);
	vendor[12] = '\0';
	if (!vendor[0])
		memcpy(vendor, "unknown", sizeof("unknown"));
	leaf(1, 0, r);
	eax1 = r[0];
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
