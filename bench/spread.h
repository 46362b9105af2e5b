/* The spread of one statistic over the rounds of a bench run (--rounds N:
 * the modes alternate A B A B ..., each round gives each mode one value of
 * p99, of throughput, ...): its median, its range, and an interval for the
 * median, so that a difference between two modes is called one only when
 * their intervals do not overlap. Single 10 s rounds of p99 moved by 10x
 * on the VM this was written on (51-598 us): one round says little. */
#ifndef BENCH_SPREAD_H
#define BENCH_SPREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Rounds from which the interval is a bootstrap one; with fewer the
 * resampled medians take too few values to mean anything, and the
 * interval is the range (min-max). */
#define SPREAD_BOOTSTRAP_MIN 5
#define SPREAD_RESAMPLES 2000

struct spread {
	size_t n;
	double median; /* of the n values; the mean of the middle two for even n */
	double min, max;
	/* The interval of the median: a percentile bootstrap 95% interval
	 * (SPREAD_RESAMPLES resamples with replacement, the 2.5th and 97.5th
	 * percentile of their medians) when n >= SPREAD_BOOTSTRAP_MIN, else
	 * [min, max]. Always within [min, max] and holding the median. */
	double lo, hi;
	bool bootstrap; /* lo, hi are the bootstrap's (else the range) */
};

/* The spread of v[0..n) (n >= 1; NaN values are refused: -EINVAL). The
 * bootstrap draws from a generator seeded with seed, so a run's output
 * can be reproduced from its data. -ENOMEM. */
int spread_of(const double *v, size_t n, uint64_t seed, struct spread *ret);

/* The median of v[0..n) (n >= 1), sorting v in place. */
double spread_median(double *v, size_t n);

/* A difference, not noise: the intervals of a and b do not overlap (both
 * with 2 rounds or more; one round has no spread to judge by). */
bool spread_differs(const struct spread *a, const struct spread *b);

/* Over a mode's rounds (--rounds): the spread of one statistic of probe p
 * (BENCH_STAT_*, in µs), or of a load's throughput (stream: MB/s, else hog
 * operations per second). -ENOENT when the mode has no rounds or the load
 * was off; -ENOMEM. */
struct bench_mode_result;
int bench_spread_probe(const struct bench_mode_result *m, int p, int stat, struct spread *ret);
int bench_spread_load(const struct bench_mode_result *m, bool stream, struct spread *ret);
/* --workload http: of httperf's connection time (field: HTTP_AVG, ...) or,
 * with field _HTTP_CONN_MAX, its reply (response) time, in ms. -ENOENT
 * when the mode has no http rounds. */
int bench_spread_http(const struct bench_mode_result *m, int field, struct spread *ret);
/* --workload memcached: memaslap's ops/s; -ENOENT when it did not run. */
int bench_spread_memcached(const struct bench_mode_result *m, struct spread *ret);

#endif
