/* --workload memcached (memcached.c): the RT service is a real memcached
 * in the server side of the bench's network, the client a real memaslap
 * (libmemcached-tools) on the client side, its get and set latencies the
 * run's two probes. */
#ifndef BENCH_MEMCACHED_H
#define BENCH_MEMCACHED_H

#include <stddef.h>

#include "result.h"

struct bench;

/* The port memcached listens on, inside the bench's private namespace. */
#define BENCH_MC_PORT 11211
#define BENCH_MC_SERVER "memcached"
/* Debian installs memaslap as memcaslap; upstream's name second. */
#define BENCH_MC_CLIENT "memcaslap"
#define BENCH_MC_CLIENT_UPSTREAM "memaslap"
/* One worker thread: the service of one RT vCPU. */
#define BENCH_MC_THREADS 1
/* memaslap's concurrent requests (--concurrency); one thread of it. */
#define BENCH_MC_CONCURRENCY 4

/* What memaslap's report gives of one kind of request: its "Get
 * Statistics (N events)" block. Times in µs; dist[i] counts the requests
 * that took more than 2^(i-1) and at most 2^i µs (dist[0]: at most 1). */
struct bench_mc_stats {
	uint64_t events;
	uint64_t min_us, max_us, avg_us;
	double std_us;
	uint64_t dist[64];
};

/* memaslap's report (its stdout) into the two probes' stats and mc: 0, or
 * -EINVAL when a "Get Statistics (" or "Set Statistics (" block or the
 * "Run time:" line is missing. */
int bench_mc_parse(const char *out, struct bench_mc_stats *get, struct bench_mc_stats *set, struct bench_memcached *mc);

/* One kind's stats into a histogram of ns: each power-of-two bucket's
 * requests at the bucket's top (so a percentile is the top of the bucket it
 * falls in: at most that, never understated), the bucket of the maximum at
 * the maximum; count, min, max, mean and standard deviation memaslap's own. */
void bench_mc_hist(const struct bench_mc_stats *s, struct hist *h);

/* The rounds of one mode as one: counts summed, the rate their mean. */
void bench_mc_combine(const struct bench_round *rounds, size_t n, struct bench_memcached *ret);

/* memcached started on the server side, a child of the bench (so in its
 * scope), and answering. An exit status, errors printed. */
int bench_mc_start(struct bench *b);
/* One memaslap run of seconds (whole, at least 1) into the get and set
 * probes of res and mc. -1 after printing why. */
int bench_mc_run(struct bench *b, double seconds, struct bench_probe_result *res, struct bench_memcached *mc);

#endif
