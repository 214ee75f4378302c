/*
 * tr-sigstorm N: N stat() calls (notified to the tracer) while a second
 * thread sends the calling thread SIGUSR1 every 50 µs (handler with
 * SA_RESTART). A signal that arrives while the tracer handles a call
 * interrupts the wait; the kernel restarts the call and the tracer's
 * answer to the first one fails with ENOENT, which the tracer must take
 * as "the call is gone", not as its own failure.
 *
 * Prints "<failures> failures"; exit status 1 if any stat() failed.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static volatile sig_atomic_t stop;
static pthread_t main_thread;

static void on_usr1(int sig)
{
	(void)sig;
}

static void *storm(void *arg)
{
	(void)arg;
	while (!stop) {
		pthread_kill(main_thread, SIGUSR1);
		usleep(50);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	struct sigaction sa;
	struct stat st;
	pthread_t t;
	long i, n, bad = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: tr-sigstorm N\n");
		return 2;
	}
	n = strtol(argv[1], NULL, 10);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGUSR1, &sa, NULL);
	main_thread = pthread_self();
	if (pthread_create(&t, NULL, storm, NULL)) {
		fprintf(stderr, "tr-sigstorm: cannot create a thread\n");
		return 2;
	}
	for (i = 0; i < n; i++) {
		if (stat("/", &st) < 0) {
			if (!bad)
				fprintf(stderr, "tr-sigstorm: stat: %s (call %ld)\n",
					strerror(errno), i);
			bad++;
		}
	}
	stop = 1;
	pthread_join(t, NULL);
	printf("%ld failures\n", bad);
	return bad != 0;
}
