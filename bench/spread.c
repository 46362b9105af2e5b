/* Median, range and bootstrap interval of a statistic over rounds. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "result.h"
#include "spread.h"

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Of sorted s[0..n). */
static double median_sorted(const double *s, size_t n)
{
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/* splitmix64: small, fast, and the same sequence everywhere. */
static uint64_t next(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* The value at rank pct of sorted s[0..n), linearly between ranks. */
static double quantile_sorted(const double *s, size_t n, double pct)
{
	double pos = pct / 100 * (double)(n - 1);
	size_t i = (size_t)pos;

	return i + 1 < n ? s[i] + (s[i + 1] - s[i]) * (pos - (double)i) : s[n - 1];
}

int spread_of(const double *v, size_t n, uint64_t seed, struct spread *ret)
{
	double *s, *meds = NULL, *draw = NULL;
	struct spread out = {.n = n};

	if (n == 0)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (isnan(v[i]))
			return -EINVAL;
	s = malloc(n * sizeof(*s));
	if (!s)
		return -ENOMEM;
	memcpy(s, v, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_double);
	out.median = median_sorted(s, n);
	out.min = s[0];
	out.max = s[n - 1];
	out.lo = out.min;
	out.hi = out.max;
	if (n >= SPREAD_BOOTSTRAP_MIN) {
		uint64_t state = seed;

		meds = malloc(SPREAD_RESAMPLES * sizeof(*meds));
		draw = malloc(n * sizeof(*draw));
		if (!meds || !draw) {
			free(s);
			free(meds);
			free(draw);
			return -ENOMEM;
		}
		for (size_t r = 0; r < SPREAD_RESAMPLES; r++) {
			for (size_t i = 0; i < n; i++)
				draw[i] = s[next(&state) % n];
			qsort(draw, n, sizeof(*draw), cmp_double);
			meds[r] = median_sorted(draw, n);
		}
		qsort(meds, SPREAD_RESAMPLES, sizeof(*meds), cmp_double);
		out.lo = quantile_sorted(meds, SPREAD_RESAMPLES, 2.5);
		out.hi = quantile_sorted(meds, SPREAD_RESAMPLES, 97.5);
		/* The percentile interval of a median can miss the median
		 * itself on skewed data: widen it to hold it. */
		if (out.lo > out.median)
			out.lo = out.median;
		if (out.hi < out.median)
			out.hi = out.median;
		out.bootstrap = true;
	}
	free(s);
	free(meds);
	free(draw);
	*ret = out;
	return 0;
}

bool spread_differs(const struct spread *a, const struct spread *b)
{
	if (a->n < 2 || b->n < 2)
		return false;
	return a->hi < b->lo || b->hi < a->lo;
}

/* The seed of a statistic: fixed, so a run's output follows from its data.
 * Slots 0 and 1 are the wakeup and NetRT probes', 2 the load's, 3 httperf's,
 * 4 and 5 memcached's get and set, 6 memaslap's rate (the first four as
 * they were before memcached came). */
#define SEED(slot, stat) (0x1505a7edULL + 64 * (uint64_t)(slot) + (uint64_t)(stat))
#define SLOT_LOAD 2
#define SLOT_HTTP 3
#define SLOT_MEMCACHED 6
#define SLOT_PROBE(p) ((p) < BENCH_MC_GET ? (p) : (p) + 2)

/* The spread of one figure of every round, get(round, which) giving it. */
static int spread_rounds(const struct bench_mode_result *m, double (*get)(const struct bench_round *, int), int which,
			 uint64_t seed, struct spread *ret)
{
	double *v;
	int r;

	if (!m->n_rounds)
		return -ENOENT;
	v = malloc(m->n_rounds * sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < m->n_rounds; i++)
		v[i] = get(&m->rounds[i], which);
	r = spread_of(v, m->n_rounds, seed, ret);
	free(v);
	return r;
}

/* which: probe * _BENCH_STAT_MAX + stat */
static double get_probe(const struct bench_round *rd, int which)
{
	return (double)rd->stat[which / _BENCH_STAT_MAX][which % _BENCH_STAT_MAX] / 1000;
}

static double get_load(const struct bench_round *rd, int stream)
{
	return stream ? rd->stream_MBps : rd->hog_ops;
}

static double get_http(const struct bench_round *rd, int field)
{
	return field == _HTTP_CONN_MAX ? rd->http.response_ms : rd->http.conn_ms[field];
}

int bench_spread_probe(const struct bench_mode_result *m, int p, int stat, struct spread *ret)
{
	return spread_rounds(m, get_probe, p * _BENCH_STAT_MAX + stat, SEED(SLOT_PROBE(p), stat), ret);
}

int bench_spread_load(const struct bench_mode_result *m, bool stream, struct spread *ret)
{
	if (m->n_rounds && get_load(&m->rounds[0], stream) < 0)
		return -ENOENT;
	return spread_rounds(m, get_load, stream, SEED(SLOT_LOAD, stream), ret);
}

int bench_spread_http(const struct bench_mode_result *m, int field, struct spread *ret)
{
	if (m->n_rounds && (!m->rounds[0].http.ran || field < 0 || field > _HTTP_CONN_MAX))
		return -ENOENT;
	return spread_rounds(m, get_http, field, SEED(SLOT_HTTP, field), ret);
}

static double get_memcached(const struct bench_round *rd, int unused)
{
	(void)unused;
	return rd->mc.ops_per_s;
}

int bench_spread_memcached(const struct bench_mode_result *m, struct spread *ret)
{
	if (m->n_rounds && !m->rounds[0].mc.ran)
		return -ENOENT;
	return spread_rounds(m, get_memcached, 0, SEED(SLOT_MEMCACHED, 0), ret);
}

double spread_median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return median_sorted(v, n);
}
