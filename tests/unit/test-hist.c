/* Unit tests of the latency histogram: bucket geometry, and percentiles,
 * mean and stddev of known data sets against values computed independently
 * (exact rational arithmetic in Python over the raw samples; see each set),
 * merging, and the cost of one hist_record (printed, not asserted). */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "hist.h"
#include "spread.h"

static struct hist *hist_new(void)
{
	struct hist *h = malloc(sizeof(*h));

	assert_non_null(h);
	hist_init(h);
	return h;
}

/* Relative comparison of doubles: the expected values below are printed to
 * 16-17 significant digits. */
static void assert_close(double got, double want)
{
	double tol = 1e-12 * (want < 0 ? -want : want) + 1e-12, d = got - want;

	if (d < -tol || d > tol)
		fail_msg("got %.17g, want %.17g", got, want);
}

/* Expected numbers: computed once by a Python script over the same samples:
 *   s = sorted(vals); n = len(s)
 *   pct(p) = s[ceil(Fraction(p) * n / 100) - 1]       (the true percentile)
 *   mean = Fraction(sum(s), n); sd = sqrt(Fraction(sum(v*v), n) - mean**2)
 *   bucketed(v) = min(v if v < 256 else (v // w) * w + w - 1, max)
 *                 with w = 2 ** (v.bit_length() - 8)   (the bucket's high end)
 */
struct known {
	const char *name;
	void (*fill)(struct hist *h);
	uint64_t count, min, max, sum;
	uint64_t true_p50, true_p99, true_p999; /* exact order statistics */
	uint64_t p50, p99, p999;		/* what the histogram must report */
	double mean, stddev;
};

static void fill_1_100(struct hist *h)
{
	for (uint64_t v = 1; v <= 100; v++)
		hist_record(h, v);
}

static void fill_constant(struct hist *h)
{
	for (int i = 0; i < 777; i++)
		hist_record(h, 12345);
}

static void fill_two(struct hist *h)
{
	for (int i = 0; i < 900; i++)
		hist_record(h, 100);
	for (int i = 0; i < 100; i++)
		hist_record(h, 1000000);
}

/* 10 µs .. 1 ms, spread by a quadratic residue: buckets 64..4096 ns wide. */
static uint64_t us_ms_value(uint64_t k)
{
	return 10000 + (k * k * 7919) % 990000;
}

static void fill_us_ms(struct hist *h)
{
	for (uint64_t k = 0; k < 10000; k++)
		hist_record(h, us_ms_value(k));
}

/* m * 10^e for m 1..9, e 1..9, and 10 s: 10 ns .. 10 s. */
static void fill_wide(struct hist *h)
{
	uint64_t p = 10;

	for (int e = 1; e <= 9; e++, p *= 10)
		for (uint64_t m = 1; m <= 9; m++)
			hist_record(h, m * p);
	hist_record(h, 10000000000ULL);
}

static void fill_single(struct hist *h)
{
	hist_record(h, 4242);
}

static const struct known known_sets[] = {
    /* 1..100: mean 50.5, stddev sqrt((100^2 - 1) / 12); all below 256, so exact. */
    {"1..100", fill_1_100, 100, 1, 100, 5050, 50, 99, 100, 50, 99, 100, 50.5, 28.86607004772212},
    /* 12345 bucket is [12288, 12351]; clamped to max. */
    {"constant", fill_constant, 777, 12345, 12345, 777 * 12345ULL, 12345, 12345, 12345, 12345, 12345, 12345, 12345.0,
     0.0},
    /* 90% 100 ns, 10% 1 ms: stddev = sqrt(0.9 * 0.1) * (1e6 - 100) = 299970. */
    {"two values", fill_two, 1000, 100, 1000000, 100090000, 100, 1000000, 1000000, 100, 1000000, 1000000, 100090.0,
     299970.0},
    {"us..ms", fill_us_ms, 10000, 10000, 999991, 5045215000ULL, 504639, 993879, 999775, 505855, 995327, 999991,
     504521.5, 287585.2794025626},
    {"10ns..10s", fill_wide, 82, 10, 10000000000ULL, 59999999950ULL, 500000, 10000000000ULL, 10000000000ULL, 501759,
     10000000000ULL, 10000000000ULL, 731707316.4634147, 2048129274.1199055},
    {"single", fill_single, 1, 4242, 4242, 4242, 4242, 4242, 4242, 4242, 4242, 4242, 4242.0, 0.0},
};

/* A reported percentile is never below the true one and at most a bucket
 * width (1/128 of the value) above it. */
static void assert_within_bucket(uint64_t got, uint64_t truth)
{
	assert_true(got >= truth);
	assert_true(got - truth <= truth / 128);
}

static void test_known_sets(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(known_sets) / sizeof(known_sets[0]); i++) {
		const struct known *k = &known_sets[i];
		struct hist *h = hist_new();
		struct hist_stats st;

		print_message("set %s\n", k->name);
		k->fill(h);
		assert_int_equal(h->count, k->count);
		assert_int_equal(h->min, k->min);
		assert_int_equal(h->max, k->max);
		assert_int_equal(h->sum, k->sum);
		hist_stats(h, &st);
		assert_int_equal(st.count, k->count);
		assert_int_equal(st.min, k->min);
		assert_int_equal(st.max, k->max);
		assert_int_equal(st.p50, k->p50);
		assert_int_equal(st.p99, k->p99);
		assert_int_equal(st.p999, k->p999);
		assert_within_bucket(st.p50, k->true_p50);
		assert_within_bucket(st.p99, k->true_p99);
		assert_within_bucket(st.p999, k->true_p999);
		assert_close(st.mean, k->mean);
		assert_close(st.stddev, k->stddev);
		assert_int_equal(hist_percentile(h, 0), k->min);
		assert_int_equal(hist_percentile(h, 100), k->max);
		free(h);
	}
}

/* Percentiles of 1..100 at other ranks, including fractional ones. */
static void test_percentile_ranks(void **state)
{
	static const struct {
		double pct;
		uint64_t want;
	} cases[] = {
	    {0, 1},   {0.5, 1},	   {1, 1},   {1.01, 2},	  {25, 25},   {33.3, 34},
	    {50, 50}, {50.01, 51}, {90, 90}, {99.9, 100}, {100, 100},
	};
	struct hist *h = hist_new();

	(void)state;
	fill_1_100(h);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		print_message("p%g\n", cases[i].pct);
		assert_int_equal(hist_percentile(h, cases[i].pct), cases[i].want);
	}
	free(h);

	/* p99.9 of 1..1000 is the 999th: 99.9 is not exact in binary, and
	 * rounding the product up would give the 1000th. */
	h = hist_new();
	for (uint64_t v = 1; v <= 1000; v++)
		hist_record(h, v); /* 999's bucket is [996, 999] */
	assert_int_equal(hist_percentile(h, 99.9), 999);
	assert_int_equal(hist_percentile(h, 25), 250);
	free(h);
}

static void test_empty(void **state)
{
	struct hist *h = hist_new();
	struct hist_stats st;

	(void)state;
	memset(&st, 0xff, sizeof(st));
	hist_stats(h, &st);
	assert_int_equal(st.count, 0);
	assert_int_equal(st.min, 0);
	assert_int_equal(st.max, 0);
	assert_int_equal(st.p50, 0);
	assert_int_equal(st.p99, 0);
	assert_int_equal(st.p999, 0);
	assert_true(st.mean == 0.0);
	assert_true(st.stddev == 0.0);
	assert_int_equal(hist_percentile(h, 0), 0);
	assert_int_equal(hist_percentile(h, 50), 0);
	assert_int_equal(hist_percentile(h, 100), 0);
	assert_int_equal(h->min, UINT64_MAX);
	assert_int_equal(h->max, 0);
	free(h);
}

/* Values of HIST_MAX_NS and more share the last bucket, but min, max and
 * the mean stay exact. */
static void test_beyond_max(void **state)
{
	struct hist *h = hist_new();
	struct hist_stats st;

	(void)state;
	assert_int_equal(hist_bucket_index(HIST_MAX_NS - 1), HIST_BUCKETS - 1);
	assert_int_equal(hist_bucket_index(HIST_MAX_NS), HIST_BUCKETS - 1);
	assert_int_equal(hist_bucket_index(UINT64_MAX), HIST_BUCKETS - 1);

	hist_record(h, 100000000000ULL); /* 100 s */
	hist_record(h, 200000000000ULL); /* 200 s */
	assert_int_equal(h->buckets[HIST_BUCKETS - 1], 2);
	hist_stats(h, &st);
	assert_int_equal(st.min, 100000000000ULL);
	assert_int_equal(st.max, 200000000000ULL);
	/* both in one bucket, whose high end is clamped to max */
	assert_int_equal(st.p50, 200000000000ULL);
	assert_close(st.mean, 150000000000.0);
	assert_close(st.stddev, 50000000000.0);
	free(h);

	/* The largest value: its square still fits the 128-bit sum of squares. */
	h = hist_new();
	hist_record(h, UINT64_MAX);
	hist_stats(h, &st);
	assert_int_equal(st.max, UINT64_MAX);
	assert_int_equal(st.p50, UINT64_MAX);
	assert_close(st.mean, 18446744073709551615.0);
	assert_true(st.stddev == 0.0);
	/* A second one saturates sum rather than wrapping to a small value. */
	hist_record(h, UINT64_MAX);
	assert_int_equal(h->sum, UINT64_MAX);
	assert_int_equal(h->count, 2);
	hist_stats(h, &st);
	assert_true(st.stddev >= 0.0);
	free(h);
}

/* Hand-checked edges of the geometry: 256 one-value buckets, then 128 per
 * power of two. */
static void test_bucket_edges(void **state)
{
	static const struct {
		uint64_t v;
		size_t i;
		uint64_t low, high;
	} cases[] = {
	    {0, 0, 0, 0},
	    {1, 1, 1, 1},
	    {255, 255, 255, 255},
	    {256, 256, 256, 257},
	    {257, 256, 256, 257},
	    {258, 257, 258, 259},
	    {511, 383, 510, 511},
	    {512, 384, 512, 515},
	    {1000, 506, 1000, 1003}, /* shift 2: 2*128 + (1000 >> 2 = 250) */
	    {1023, 511, 1020, 1023},
	    {1024, 512, 1024, 1031},
	    {1000000, 1780, 999424, 1003519}, /* shift 12: 12*128 + 244 */
	    {HIST_MAX_NS - 1, HIST_BUCKETS - 1, (HIST_MAX_NS >> 1) + (127ULL << 28), UINT64_MAX},
	};

	(void)state;
	assert_int_equal(HIST_BUCKETS, 3840);
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		print_message("v %llu\n", (unsigned long long)cases[k].v);
		assert_int_equal(hist_bucket_index(cases[k].v), cases[k].i);
		assert_int_equal(hist_bucket_low(cases[k].i), cases[k].low);
		assert_int_equal(hist_bucket_high(cases[k].i), cases[k].high);
	}
}

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void assert_in_bucket(uint64_t v)
{
	size_t i = hist_bucket_index(v);

	if (i >= HIST_BUCKETS || hist_bucket_low(i) > v || v > hist_bucket_high(i))
		fail_msg("%llu: bucket %zu [%llu, %llu]", (unsigned long long)v, i,
			 (unsigned long long)hist_bucket_low(i), (unsigned long long)hist_bucket_high(i));
}

/* Every value lies in its bucket; buckets tile the range with no gap; a
 * bucket is at most 1/128 of its low end wide (above the linear part). */
static void test_bucket_properties(void **state)
{
	uint64_t seed = 0x9e3779b97f4a7c15ULL;

	(void)state;
	for (uint64_t v = 0; v < 70000; v++)
		assert_in_bucket(v);
	for (int n = 0; n < 1000000; n++) {
		uint64_t r = xorshift(&seed);

		assert_in_bucket(r >> (24 + r % 40)); /* 2^0 .. 2^40, log-spread */
	}
	for (unsigned b = 1; b < 64; b++) {
		assert_in_bucket((1ULL << b) - 1);
		assert_in_bucket(1ULL << b);
		assert_in_bucket((1ULL << b) + 1);
	}
	assert_in_bucket(UINT64_MAX);
	assert_int_equal(hist_bucket_low(0), 0);
	for (size_t i = 0; i < HIST_BUCKETS - 1; i++) {
		uint64_t low = hist_bucket_low(i), high = hist_bucket_high(i);

		if (high + 1 != hist_bucket_low(i + 1))
			fail_msg("gap after bucket %zu: high %llu, next low %llu", i, (unsigned long long)high,
				 (unsigned long long)hist_bucket_low(i + 1));
		assert_int_equal(hist_bucket_index(low), i);
		assert_int_equal(hist_bucket_index(high), i);
		if (i >= 256)
			assert_true((high - low + 1) * 128 <= low);
	}
}

static void assert_hist_equal(const struct hist *a, const struct hist *b)
{
	struct hist_stats sa, sb;

	assert_int_equal(a->count, b->count);
	assert_int_equal(a->min, b->min);
	assert_int_equal(a->max, b->max);
	assert_int_equal(a->sum, b->sum);
	assert_true(a->sumsq == b->sumsq);
	for (size_t i = 0; i < HIST_BUCKETS; i++)
		if (a->buckets[i] != b->buckets[i])
			fail_msg("bucket %zu: %llu != %llu", i, (unsigned long long)a->buckets[i],
				 (unsigned long long)b->buckets[i]);
	hist_stats(a, &sa);
	hist_stats(b, &sb);
	assert_memory_equal(&sa, &sb, sizeof(sa));
}

/* hist(A ∪ B) == merge(hist(A), hist(B)), for disjoint and overlapping
 * ranges and with an empty side. */
static void test_merge(void **state)
{
	struct hist *a = hist_new(), *b = hist_new(), *all = hist_new(), *empty = hist_new();
	uint64_t seed = 12345;

	(void)state;
	for (uint64_t k = 0; k < 10000; k++) {
		uint64_t v = us_ms_value(k);

		hist_record(k % 3 ? a : b, v);
		hist_record(all, v);
	}
	for (int k = 0; k < 5000; k++) {
		uint64_t v = xorshift(&seed) >> 30; /* up to 2^34 */

		hist_record(k % 2 ? a : b, v);
		hist_record(all, v);
	}
	hist_record(b, 3); /* b alone holds the min */
	hist_record(all, 3);
	hist_merge(a, b);
	assert_hist_equal(a, all);

	hist_merge(a, empty); /* no change, min/max included */
	assert_hist_equal(a, all);
	hist_merge(empty, all); /* into an empty one: a copy */
	assert_hist_equal(empty, all);
	free(a);
	free(b);
	free(all);
	free(empty);
}

static void test_record_n(void **state)
{
	static const uint64_t values[] = {0, 1, 255, 256, 999, 123456, 987654321, HIST_MAX_NS - 1, HIST_MAX_NS};
	struct hist *a = hist_new(), *b = hist_new();

	(void)state;
	for (size_t k = 0; k < sizeof(values) / sizeof(values[0]); k++) {
		uint64_t n = 1 + k * 37;

		hist_record_n(a, values[k], n);
		for (uint64_t j = 0; j < n; j++)
			hist_record(b, values[k]);
	}
	hist_record_n(a, 77, 0); /* n = 0 records nothing, min untouched */
	assert_hist_equal(a, b);
	free(a);
	free(b);

	a = hist_new();
	hist_record_n(a, 77, 0);
	assert_int_equal(a->count, 0);
	assert_int_equal(a->min, UINT64_MAX);
	free(a);
}

/* Cost of one hist_record, for the bench's self-calibration to compare
 * with; printed, not asserted (timing-dependent). */
static void test_record_cost(void **state)
{
	enum { N = 20000000 };
	struct hist *h = hist_new();
	struct timespec t0, t1;
	uint64_t seed = 7, v[1024];
	double ns;

	(void)state;
	for (size_t i = 0; i < 1024; i++)
		v[i] = 1000 + xorshift(&seed) % 100000; /* 1..101 µs: realistic latencies */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (uint32_t i = 0; i < N; i++)
		hist_record(h, v[i & 1023]);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ns = ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) / N;
	print_message("hist_record: %.2f ns per call (%d calls)\n", ns, N);
	assert_int_equal(h->count, N);
	free(h);
}

/* Spread over rounds: p99 of 10 rounds, in us, shaped as this VM gives
 * them (51-598 us for one mode). The expected medians and intervals were
 * computed independently in Python with the same procedure (splitmix64
 * from seed 42, 2000 resamples, the 2.5th/97.5th percentile linearly
 * between ranks). */
static void test_spread_known(void **state)
{
	static const double a[] = {51, 88, 120, 133, 145, 160, 210, 240, 390, 598};
	/* the same mode again: other rounds, the same noise */
	static const double a2[] = {560, 60, 200, 95, 420, 110, 150, 140, 260, 170};
	/* a mode that is better but has one bad round */
	static const double b[] = {40, 45, 47, 50, 52, 55, 60, 61, 70, 580};
	struct spread sa, sa2, sb;

	(void)state;
	assert_int_equal(spread_of(a, 10, 42, &sa), 0);
	assert_true(sa.bootstrap);
	assert_true(sa.median == 152.5 && sa.min == 51 && sa.max == 598);
	assert_true(fabs(sa.lo - 116.5) < 1e-9 && fabs(sa.hi - 275) < 1e-9);
	assert_int_equal(spread_of(a2, 10, 42, &sa2), 0);
	assert_true(sa2.median == 160 && fabs(sa2.lo - 110) < 1e-9 && fabs(sa2.hi - 295) < 1e-9);
	assert_int_equal(spread_of(b, 10, 42, &sb), 0);
	assert_true(sb.median == 53.5 && fabs(sb.lo - 47) < 1e-9 && fabs(sb.hi - 62.5) < 1e-9);
	/* Noise is not an effect; a shift beyond the noise is, one bad
	 * round notwithstanding (the median's interval ignores it). */
	assert_false(spread_differs(&sa, &sa2));
	assert_true(spread_differs(&sa, &sb));
	assert_true(spread_differs(&sb, &sa));
	/* Reproducible from the data and the seed. */
	{
		struct spread again;

		assert_int_equal(spread_of(a, 10, 42, &again), 0);
		assert_true(again.lo == sa.lo && again.hi == sa.hi);
	}
}

/* Few rounds: the interval is the range; one round has no spread. */
static void test_spread_few(void **state)
{
	static const double two[] = {300, 100}, three[] = {5, 1, 3}, four[] = {1, 2, 3, 10}, far[] = {1000, 1100};
	static const double nan_in[] = {1, NAN};
	struct spread s2, s3, s4, sf, s1;
	double one = 7;

	(void)state;
	assert_int_equal(spread_of(two, 2, 1, &s2), 0);
	assert_false(s2.bootstrap);
	assert_true(s2.median == 200 && s2.lo == 100 && s2.hi == 300);
	assert_int_equal(spread_of(three, 3, 1, &s3), 0);
	assert_true(s3.median == 3 && s3.lo == 1 && s3.hi == 5);
	assert_int_equal(spread_of(four, 4, 1, &s4), 0);
	assert_true(s4.median == 2.5 && s4.lo == 1 && s4.hi == 10);
	assert_int_equal(spread_of(&one, 1, 1, &s1), 0);
	assert_true(s1.median == 7 && s1.lo == 7 && s1.hi == 7);
	assert_int_equal(spread_of(far, 2, 1, &sf), 0);
	assert_true(spread_differs(&s2, &sf));
	assert_false(spread_differs(&s1, &sf)); /* one round: no judgement */
	assert_false(spread_differs(&s3, &s4)); /* ranges overlap */
	assert_int_equal(spread_of(nan_in, 2, 1, &s1), -EINVAL);
	assert_int_equal(spread_of(two, 0, 1, &s1), -EINVAL);
}

/* On any data: the interval is within the range and holds the median. */
static void test_spread_bounds(void **state)
{
	double v[40];
	uint64_t x = 12345;

	(void)state;
	for (size_t n = 5; n <= 40; n += 7) {
		struct spread s;

		for (size_t i = 0; i < n; i++) {
			x = x * 6364136223846793005ULL + 1442695040888963407ULL;
			v[i] = (double)(x >> 40) / (i % 3 ? 1 : 100); /* skewed */
		}
		assert_int_equal(spread_of(v, n, n, &s), 0);
		assert_true(s.min <= s.lo && s.lo <= s.median && s.median <= s.hi && s.hi <= s.max);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_known_sets),	 cmocka_unit_test(test_percentile_ranks),
	    cmocka_unit_test(test_empty),	 cmocka_unit_test(test_beyond_max),
	    cmocka_unit_test(test_bucket_edges), cmocka_unit_test(test_bucket_properties),
	    cmocka_unit_test(test_merge),	 cmocka_unit_test(test_record_n),
	    cmocka_unit_test(test_record_cost),	 cmocka_unit_test(test_spread_known),
	    cmocka_unit_test(test_spread_few),	 cmocka_unit_test(test_spread_bounds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
