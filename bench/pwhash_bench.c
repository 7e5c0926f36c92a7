/* pwhash_bench.c: the reference for the login benchmark: bare libsodium
 * crypto_pwhash_str_verify (Argon2id) with the parameters tongban uses
 * (crypto_pwhash_*_INTERACTIVE, identity.h), on THREADS threads for SECONDS seconds.
 * Prints "verifies/s N". Usage: pwhash_bench THREADS SECONDS */
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static char hash[crypto_pwhash_STRBYTES];
static const char pw[] = "Zhangsan@2026";
static double until;
static long total;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *run(void *arg)
{
	(void)arg;
	long n = 0;
	while (now() < until) {
		if (crypto_pwhash_str_verify(hash, pw, strlen(pw)) != 0) {
			fprintf(stderr, "verify failed\n");
			exit(1);
		}
		n++;
	}
	pthread_mutex_lock(&mu);
	total += n;
	pthread_mutex_unlock(&mu);
	return NULL;
}

int main(int argc, char **argv)
{
	int threads = argc > 1 ? atoi(argv[1]) : 2;
	double secs = argc > 2 ? atof(argv[2]) : 10;
	if (sodium_init() < 0 || threads < 1 || threads > 256 || secs <= 0)
		return 2;
	if (crypto_pwhash_str(hash, pw, strlen(pw), crypto_pwhash_OPSLIMIT_INTERACTIVE,
			      crypto_pwhash_MEMLIMIT_INTERACTIVE))
		return 1;
	pthread_t t[256];
	double t0 = now();
	until = t0 + secs;
	for (int i = 0; i < threads; i++)
		pthread_create(&t[i], NULL, run, NULL);
	for (int i = 0; i < threads; i++)
		pthread_join(t[i], NULL);
	printf("verifies/s %.1f\n", (double)total / (now() - t0));
	return 0;
}
