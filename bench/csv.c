/* isoctl bench --csv: a header line, then one line per mode and probe. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "compare.h"
#include "isolated/util.h"
#include "output.h"

/* RFC 4180: a field with a comma, a quote or a line break is quoted, its
 * quotes doubled. */
static void csv_field(FILE *f, const char *s, bool last)
{
	if (strpbrk(s, ",\"\r\n")) {
		fputc('"', f);
		for (; *s; s++) {
			if (*s == '"')
				fputc('"', f);
			fputc(*s, f);
		}
		fputc('"', f);
	} else {
		fputs(s, f);
	}
	fputc(last ? '\n' : ',', f);
}

/* A number, or an empty field when there is none. */
static void csv_num(FILE *f, double v, int decimals, bool last)
{
	char buf[64] = "";

	if (isfinite(v) && v >= 0)
		snprintf(buf, sizeof(buf), "%.*f", decimals, v);
	csv_field(f, buf, last);
}

static void csv_uint(FILE *f, uint64_t v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
	csv_field(f, buf, false);
}

/* The best-effort load of a mode, the last fields of a line (empty for the
 * calibration). */
static void csv_load(FILE *f, const struct bench_mode_result *m)
{
	csv_num(f, m ? m->stream_MBps : NAN, 3, false);
	csv_num(f, m ? m->hog_ops : NAN, 0, false);
	csv_num(f, m ? m->cpu_util : NAN, 1, true);
}

static void csv_row(FILE *f, const char *mode, int p, const struct bench_probe_result *pr,
		    const struct bench_mode_result *m)
{
	struct us_stats s;

	bench_probe_stats(pr, &s);
	csv_field(f, mode, false);
	csv_field(f, bench_probe_name[p], false);
	csv_uint(f, s.samples);
	for (int i = 0; i < _ST_MAX; i++)
		csv_num(f, s.samples ? s.v[i] : NAN, 3, false);
	csv_uint(f, s.lost);
	csv_load(f, m);
}

/* --workload http: one line per mode of httperf's figures. */
static void csv_http(FILE *f, const char *mode, const struct bench_http *h, const struct bench_mode_result *m)
{
	csv_field(f, mode, false);
	csv_uint(f, h->conns);
	csv_uint(f, h->replies);
	csv_uint(f, h->errors);
	for (int i = 0; i < _HTTP_CONN_MAX; i++)
		csv_num(f, h->conn_ms[i], 1, false);
	csv_num(f, h->response_ms, 1, false);
	csv_num(f, h->conn_rate, 1, false);
	csv_load(f, m);
}

void bench_print_csv(FILE *f, const struct bench_result *r)
{
	if (bench_workload_http(&r->cfg)) {
		fputs("mode,conns,replies,errors,conn_min_ms,conn_avg_ms,conn_max_ms,conn_median_ms,conn_stddev_ms,"
		      "response_ms,conn_per_s,stream_MBps,hog_ops_per_s,cpu_busy_pct\n",
		      f);
		csv_http(f, "calibration", &r->http_calibration, NULL);
		for (size_t i = 0; i < r->n_modes; i++)
			csv_http(f, r->modes[i].mode, &r->modes[i].http, &r->modes[i]);
		return;
	}
	fputs("mode,probe,samples,mean_us,p50_us,p99_us,p999_us,max_us,stddev_us,lost,stream_MBps,hog_ops_per_s,"
	      "cpu_busy_pct\n",
	      f);
	for (int p = 0; p < _BENCH_PROBE_MAX; p++)
		if (bench_probe_of(&r->cfg, p))
			csv_row(f, "calibration", p, &r->calibration[p], NULL);
	for (size_t i = 0; i < r->n_modes; i++)
		for (int p = 0; p < _BENCH_PROBE_MAX; p++)
			if (bench_probe_of(&r->cfg, p))
				csv_row(f, r->modes[i].mode, p, &r->modes[i].probe[p], &r->modes[i]);
}
