/* Latency histograms for isoctl bench: HDR-style log-linear buckets of
 * nanoseconds with a fixed size, so a probe records a sample with no
 * allocation, no I/O and no lock (one writer per histogram), and
 * histograms of different runs merge by adding counts.
 *
 * Values below 2^(HIST_SUB_BITS+1) ns (256 ns) have a bucket each; above,
 * every power of two is split into 2^HIST_SUB_BITS (128) buckets, so a
 * bucket is at most 1/128 (0.78%) of its value wide. Values of
 * HIST_MAX_NS and more land in the last bucket (their exact max is kept).
 * count, sum, sum of squares, min and max are exact, so mean and stddev
 * are exact; percentiles are exact to the bucket's width. */
#ifndef BENCH_HIST_H
#define BENCH_HIST_H

#include <stddef.h>
#include <stdint.h>

#define HIST_SUB_BITS 7
#define HIST_MAX_SHIFT 36 /* values < 2^36 ns (68.7 s) get their own bucket */
#define HIST_MAX_NS (1ULL << HIST_MAX_SHIFT)
/* (HIST_MAX_SHIFT - HIST_SUB_BITS) ranges of 128 buckets above 256 linear ones */
#define HIST_BUCKETS ((size_t)(HIST_MAX_SHIFT - HIST_SUB_BITS + 1) << HIST_SUB_BITS)

struct hist {
	uint64_t count;
	uint64_t min, max; /* ns; min is UINT64_MAX and max 0 while empty */
	uint64_t sum;	   /* ns */
	unsigned __int128 sumsq;
	uint64_t buckets[HIST_BUCKETS];
};

/* Summary in nanoseconds. All 0 for an empty histogram. */
struct hist_stats {
	uint64_t count;
	double mean, stddev; /* population stddev: sqrt(sumsq/n - mean^2) */
	uint64_t min, p50, p99, p999, max;
};

void hist_init(struct hist *h);
/* Record one sample: O(1), no allocation, async-signal-safe. */
void hist_record(struct hist *h, uint64_t ns);
/* Record n samples of the same value (a histogram read from another tool). */
void hist_record_n(struct hist *h, uint64_t ns, uint64_t n);
/* dst += src. */
void hist_merge(struct hist *dst, const struct hist *src);

/* The bucket a value falls into, and the values a bucket holds: [low, high]. */
size_t hist_bucket_index(uint64_t ns);
uint64_t hist_bucket_low(size_t i);
uint64_t hist_bucket_high(size_t i);

/* The smallest value v such that at least pct percent of the samples are
 * <= v, to the bucket's width: the highest value of the bucket holding the
 * ceil(pct/100 * count)-th smallest sample, but never above max nor below
 * min. pct in [0, 100]; 0 gives min, 100 gives max; 0 when empty. */
uint64_t hist_percentile(const struct hist *h, double pct);
void hist_stats(const struct hist *h, struct hist_stats *ret);

#endif
