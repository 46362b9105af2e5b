/* Latency histograms for isoctl bench: log-linear buckets of nanoseconds
 * (HDR style), recorded from a probe's hot loop, merged across runs and
 * summarised as mean, stddev and percentiles. */
#include <math.h>
#include <string.h>

#include "hist.h"

#define SUB_COUNT (1u << HIST_SUB_BITS)	   /* buckets per power of two */
#define LINEAR_MAX (2ull << HIST_SUB_BITS) /* values below this have a bucket each */
#define U128_MAX (~(unsigned __int128)0)

/* sum and sumsq saturate rather than wrap: only absurd inputs reach the
 * limits (a sum of 2^64 ns is 584 years; a sumsq of 2^128 needs values
 * near 2^64), and a saturated total then gives a visibly wrong mean, not a
 * small plausible one. */
static inline uint64_t add_sat64(uint64_t a, uint64_t b)
{
	uint64_t r;

	return __builtin_add_overflow(a, b, &r) ? UINT64_MAX : r;
}

static inline unsigned __int128 add_sat128(unsigned __int128 a, unsigned __int128 b)
{
	unsigned __int128 r;

	return __builtin_add_overflow(a, b, &r) ? U128_MAX : r;
}

void hist_init(struct hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

size_t hist_bucket_index(uint64_t ns)
{
	unsigned shift;

	if (ns < LINEAR_MAX)
		return (size_t)ns;
	if (ns >= HIST_MAX_NS)
		return HIST_BUCKETS - 1;
	/* ns >= 256, so the top bit is at 8 or more and shift >= 1; ns >> shift
	 * keeps the top bit and HIST_SUB_BITS below it: 128..255. */
	shift = (unsigned)(63 - __builtin_clzll(ns)) - HIST_SUB_BITS;
	return ((size_t)shift << HIST_SUB_BITS) + (size_t)(ns >> shift);
}

uint64_t hist_bucket_low(size_t i)
{
	unsigned shift;

	if (i >= HIST_BUCKETS)
		return UINT64_MAX;
	if (i < LINEAR_MAX)
		return i;
	shift = (unsigned)(i >> HIST_SUB_BITS) - 1;
	return (uint64_t)(SUB_COUNT + (i & (SUB_COUNT - 1))) << shift;
}

/* The last bucket also holds everything from HIST_MAX_NS up, so its high
 * end is UINT64_MAX. */
uint64_t hist_bucket_high(size_t i)
{
	unsigned shift;

	if (i >= HIST_BUCKETS - 1)
		return UINT64_MAX;
	if (i < LINEAR_MAX)
		return i;
	shift = (unsigned)(i >> HIST_SUB_BITS) - 1;
	return hist_bucket_low(i) + (UINT64_C(1) << shift) - 1;
}

void hist_record(struct hist *h, uint64_t ns)
{
	h->buckets[hist_bucket_index(ns)]++;
	h->count++;
	h->sum = add_sat64(h->sum, ns);
	h->sumsq = add_sat128(h->sumsq, (unsigned __int128)ns * ns);
	if (ns < h->min)
		h->min = ns;
	if (ns > h->max)
		h->max = ns;
}

void hist_record_n(struct hist *h, uint64_t ns, uint64_t n)
{
	unsigned __int128 sq = (unsigned __int128)ns * ns, sqn;
	uint64_t sn;

	if (n == 0)
		return;
	h->buckets[hist_bucket_index(ns)] += n;
	h->count += n;
	h->sum = add_sat64(h->sum, __builtin_mul_overflow(ns, n, &sn) ? UINT64_MAX : sn);
	h->sumsq = add_sat128(h->sumsq, __builtin_mul_overflow(sq, n, &sqn) ? U128_MAX : sqn);
	if (ns < h->min)
		h->min = ns;
	if (ns > h->max)
		h->max = ns;
}

void hist_merge(struct hist *dst, const struct hist *src)
{
	for (size_t i = 0; i < HIST_BUCKETS; i++)
		dst->buckets[i] += src->buckets[i];
	dst->count += src->count;
	dst->sum = add_sat64(dst->sum, src->sum);
	dst->sumsq = add_sat128(dst->sumsq, src->sumsq);
	/* An empty src has min UINT64_MAX and max 0: no change. */
	if (src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
}

/* ceil(pct/100 * count), in 1..count. pct is meant as a decimal (99.9),
 * which a double holds only approximately: a product within a relative
 * 1e-12 of an integer is taken as that integer, so p99.9 of 1000 samples is
 * the 999th, not the 1000th. (Exact up to 10^12 samples.) */
static uint64_t rank_of(double pct, uint64_t count)
{
	long double x = (long double)pct * (long double)count / 100.0L, r = roundl(x);
	uint64_t rank;

	if (fabsl(x - r) <= x * 1e-12L)
		x = r;
	x = ceill(x);
	if (x < 1.0L)
		return 1;
	if (x >= (long double)count)
		return count;
	rank = (uint64_t)x;
	return rank < 1 ? 1 : rank > count ? count : rank;
}

uint64_t hist_percentile(const struct hist *h, double pct)
{
	uint64_t rank, seen = 0, v;
	size_t i;

	if (h->count == 0)
		return 0;
	if (!(pct > 0.0)) /* also NaN */
		return h->min;
	if (pct >= 100.0)
		return h->max;
	rank = rank_of(pct, h->count);
	for (i = 0; i < HIST_BUCKETS - 1; i++) {
		seen += h->buckets[i];
		if (seen >= rank)
			break;
	}
	v = hist_bucket_high(i);
	if (v > h->max)
		v = h->max;
	if (v < h->min)
		v = h->min;
	return v;
}

/* n * variance = sumsq - sum^2/n, computed without cancellation: with
 * sum = q*n + r (0 <= r < n), sum^2/n = q^2*n + 2*q*r + r^2/n, and the
 * integer part D = sumsq - q^2*n - 2*q*r is exact in 128 bits (it is >= 0
 * by Cauchy-Schwarz, and every term is <= sumsq). Only the fraction r^2/n
 * (< n) is rounded. A constant set gives exactly 0. */
static long double sum_sq_dev(const struct hist *h)
{
	uint64_t n = h->count, q = h->sum / n, r = h->sum % n;
	unsigned __int128 qq = (unsigned __int128)q * q, a, b, d;
	long double m2;

	if (__builtin_mul_overflow(qq, n, &a) || __builtin_mul_overflow((unsigned __int128)q * 2, r, &b) ||
	    __builtin_sub_overflow(h->sumsq, a, &d) || __builtin_sub_overflow(d, b, &d))
		return 0.0L; /* saturated totals: no meaningful spread */
	m2 = (long double)d - (long double)r * (long double)r / (long double)n;
	return m2 > 0.0L ? m2 : 0.0L;
}

void hist_stats(const struct hist *h, struct hist_stats *ret)
{
	memset(ret, 0, sizeof(*ret));
	if (h->count == 0)
		return;
	ret->count = h->count;
	ret->mean = (double)((long double)h->sum / (long double)h->count);
	ret->stddev = (double)sqrtl(sum_sq_dev(h) / (long double)h->count);
	ret->min = h->min;
	ret->p50 = hist_percentile(h, 50.0);
	ret->p99 = hist_percentile(h, 99.0);
	ret->p999 = hist_percentile(h, 99.9);
	ret->max = h->max;
}
