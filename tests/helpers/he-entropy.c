/*
 * he-entropy: print what is out of procache's model (DESIGN §3): random
 * bytes from getrandom(2), or the time from clock_gettime(2) (vDSO).
 *
 *	he-entropy random     16 bytes of getrandom() in hex
 *	he-entropy clock      CLOCK_REALTIME and CLOCK_MONOTONIC in ns
 *
 * Exit 0, 1 when the call failed, 2 on bad usage.
 */
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "random")) {
		unsigned char b[16];

		if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
			return 1;
		for (size_t i = 0; i < sizeof(b); i++)
			printf("%02x", b[i]);
		printf("\n");
		return 0;
	}
	if (argc == 2 && !strcmp(argv[1], "clock")) {
		struct timespec r, m;

		if (clock_gettime(CLOCK_REALTIME, &r) || clock_gettime(CLOCK_MONOTONIC, &m))
			return 1;
		printf("%lld%09ld %lld%09ld\n", (long long)r.tv_sec, r.tv_nsec,
		       (long long)m.tv_sec, m.tv_nsec);
		return 0;
	}
	fprintf(stderr, "usage: he-entropy random|clock\n");
	return 2;
}
