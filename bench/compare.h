/* The numbers every output of the bench shows (compare.c): a probe's
 * statistics in microseconds, relative changes, and the words and formats
 * the table and the plot share. */
#ifndef BENCH_COMPARE_H
#define BENCH_COMPARE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "result.h"

/* The compared statistics, in the order of the table's columns. */
enum { ST_MEAN, ST_P50, ST_P99, ST_P999, ST_MAX, ST_STDDEV, _ST_MAX };
extern const char *const bench_st_title[_ST_MAX]; /* "mean", ... "p99.9", ... */
extern const char *const bench_st_key[_ST_MAX];	  /* "mean", ... "p999", ... */

/* A probe's summary in microseconds. */
struct us_stats {
	uint64_t samples, lost;
	double v[_ST_MAX];
	double min;
};

void bench_probe_stats(const struct bench_probe_result *p, struct us_stats *ret);

/* Relative change of b against a in percent ((b - a) / a * 100); NAN when
 * a is 0 or either is negative (not measured). */
double bench_rel(double a, double b);
/* b against a for statistic i: NAN when either has no samples. */
double bench_stat_rel(const struct us_stats *a, const struct us_stats *b, int i);

/* Probe p has something to show (NetRT has not without a network). */
bool bench_probe_ran(const struct bench_result *r, int p);
/* "isolated" or "cyclictest". */
const char *bench_probe_tool(const struct bench_result *r);
/* "2 CPU hogs + TCP stream over veth", "none". */
void bench_load_text(const struct bench_config *c, char *buf, size_t len);
/* Microseconds: one decimal below 1000, none above; "-" when not finite. */
const char *bench_fmt_us(char *buf, size_t len, double v);
/* text written to path whole or not at all (a temporary file beside it,
 * synced, renamed over it). -errno with err set. */
int bench_write_file(const char *path, const char *text, char *err, size_t errlen);
/* "20 s". */
const char *bench_fmt_seconds(char *buf, size_t len, double s);

#endif
