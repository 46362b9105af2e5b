/* The bench's comparison table for people (stdout of isoctl bench): the
 * run's settings, then per probe one row a mode and its change against the
 * first, then the best-effort load. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compare.h"
#include "http.h"
#include "memcached.h"
#include "isolated/util.h"
#include "output.h"
#include "program.h"
#include "spread.h"

/* The probes in the table's header. */
static const char *const probe_label[_BENCH_PROBE_MAX] = {"wakeup", "NetRT", "get", "set"};

/* "-72%", "+5%", "0%"; "-" when not computable. */
static const char *fmt_pct(char *buf, size_t len, double pct)
{
	double r;

	if (!isfinite(pct)) {
		snprintf(buf, len, "-");
		return buf;
	}
	r = round(pct);
	if (r == 0)
		snprintf(buf, len, "0%%");
	else
		snprintf(buf, len, "%+.0f%%", r);
	return buf;
}

/* Width of the first column: the mode names and "  vs FIRST". */
static int mode_width(const struct bench_result *r)
{
	size_t w = strlen("calibration");

	for (size_t i = 0; i < r->n_modes; i++) {
		size_t n = strlen(r->modes[i].mode ? r->modes[i].mode : "");

		if (n > w)
			w = n;
	}
	if (r->n_modes > 1 && r->modes[0].mode && strlen(r->modes[0].mode) + 5 > w)
		w = strlen(r->modes[0].mode) + 5;
	return w > 40 ? 40 : (int)w;
}

#define LABEL_W 13
#define TABLE_W 100

/* Columns a UTF-8 string takes ("µ" is two bytes, one column). */
static size_t text_width(const char *s, size_t n)
{
	size_t w = 0;

	for (size_t i = 0; i < n; i++)
		w += ((unsigned char)s[i] & 0xc0) != 0x80;
	return w;
}

/* "LABEL        text", the text wrapped at blanks to TABLE_W columns, its
 * continuation lines under its start. */
static void print_field(FILE *f, const char *label, const char *fmt, ...) ISO_PRINTF(3, 4);
static void print_field(FILE *f, const char *label, const char *fmt, ...)
{
	const size_t room = TABLE_W - LABEL_W;
	char *text, *p;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&text, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	fprintf(f, "%-*s", LABEL_W, label);
	for (p = text;;) {
		size_t len = strlen(p), cut = len;

		if (text_width(p, len) > room) {
			/* the last blank that leaves the line within room */
			for (size_t i = 0; i < len && text_width(p, i) <= room; i++)
				if (p[i] == ' ')
					cut = i;
		}
		fprintf(f, "%.*s\n", (int)cut, p);
		if (cut >= len)
			break;
		p += cut + 1;
		fprintf(f, "%-*s", LABEL_W, "");
	}
	free(text);
}

/* The probes alone: their floor on this host and what one sample costs. */
static void print_probe_calibration(FILE *f, const struct bench_result *r)
{
	char line[256], d1[32], d2[32];
	size_t n = 0;

	if (bench_workload_memcached(&r->cfg))
		print_field(f, "calibration", "memcached alone, no load, no mode, %s",
			    bench_fmt_seconds(d1, sizeof(d1), ceil(r->cfg.calibration_s)));
	else
		print_field(f, "calibration", "probes alone, no load, no mode, %s; clock read %.0f ns, record %.0f ns",
			    bench_fmt_seconds(d1, sizeof(d1), r->cfg.calibration_s), r->clock_read_ns, r->record_ns);
	line[0] = '\0';
	for (int p = 0; p < _BENCH_PROBE_MAX; p++) {
		struct us_stats s;
		int k;

		if (!bench_probe_ran(r, p))
			continue;
		bench_probe_stats(&r->calibration[p], &s);
		if (s.samples)
			k = snprintf(line + n, sizeof(line) - n, "%s%s p50 %s p99 %s µs", n ? "; " : "", probe_label[p],
				     bench_fmt_us(d1, sizeof(d1), s.v[ST_P50]),
				     bench_fmt_us(d2, sizeof(d2), s.v[ST_P99]));
		else
			k = snprintf(line + n, sizeof(line) - n, "%s%s no samples", n ? "; " : "", probe_label[p]);
		if (k < 0 || (size_t)k >= sizeof(line) - n)
			break;
		n += (size_t)k;
	}
	print_field(f, "", "%s", line);
}

static void print_header(FILE *f, const struct bench_result *r)
{
	const struct bench_config *c = &r->cfg;
	char load[128], d1[32], d2[32], line[256];
	size_t n = 0;

	fputs("isoctl bench:", f);
	for (size_t i = 0; i < r->n_modes; i++)
		fprintf(f, "%s%s", i ? ", " : " ", r->modes[i].mode);
	fprintf(f, "; %s per mode after %s warm-up\n", bench_fmt_seconds(d1, sizeof(d1), c->duration_s),
		bench_fmt_seconds(d2, sizeof(d2), c->warmup_s));
	print_field(f, "CPUs", "RT %s, housekeeping %s; scope %s (%s%s)", c->rt_cpus ? c->rt_cpus : "?",
		    c->housekeeping_cpus ? c->housekeeping_cpus : "?", c->scope ? c->scope : "?",
		    bench_workload_http(c)	  ? "lighttpd as rt_process"
		    : bench_workload_memcached(c) ? "memcached as rt_process"
						  : "as VM ",
		    bench_workload_http(c) || bench_workload_memcached(c) ? ""
		    : c->rt_vm						  ? c->rt_vm
									  : "?");
	print_field(f, "host", "kernel %s, %u online CPUs%s%s, virtualization %s", c->kernel ? c->kernel : "?",
		    c->online_cpus, c->host.cpu_model ? ", " : "", c->host.cpu_model ? c->host.cpu_model : "",
		    c->host.virtualization ? c->host.virtualization : "unknown");
	bench_load_text(c, load, sizeof(load));
	print_field(f, "load", "%s", load);
	if (c->net)
		snprintf(line, sizeof(line), "NetRT every %u..%u µs over %s", c->netrt_min_us, c->netrt_max_us, c->net);
	else
		snprintf(line, sizeof(line), "NetRT off (no network)");
	if (bench_workload_http(c))
		print_field(f, "workload",
			    "http: lighttpd (the RT service) serving %s (1 KiB) over %s; httperf %u "
			    "connections at %u/s, on CPUs %s at nice %d",
			    c->http_file ? c->http_file : "?", c->net ? c->net : "?", c->http_conns, c->http_rate,
			    c->housekeeping_cpus ? c->housekeeping_cpus : "?", BENCH_CLIENT_NICE);
	else if (bench_workload_memcached(c))
		print_field(f, "workload",
			    "memcached: memcached (the RT service, %d worker thread) over %s; memaslap, %u concurrent "
			    "requests, 9 gets to 1 set, on CPUs %s at nice %d; latencies in memaslap's power-of-two "
			    "buckets: a percentile is the top of its bucket",
			    BENCH_MC_THREADS, c->net ? c->net : "?", c->mc_concurrency,
			    c->housekeeping_cpus ? c->housekeeping_cpus : "?", BENCH_CLIENT_NICE);
	else
		print_field(f, "probes", "wakeup every %u µs (%s); %s", c->interval_us, bench_probe_tool(r), line);
	for (size_t i = 0; c->held_back && c->held_back[i]; i++)
		print_field(f, "held back", "%s", c->held_back[i]);
	print_field(f, "idle states", "%s",
		    c->pm_qos ? "/dev/cpu_dma_latency held at 0 while measuring (as cyclictest does)"
			      : "left to the kernel (--keep-idle, or /dev/cpu_dma_latency could not be held)");

	if (bench_workload_http(c))
		print_field(f, "calibration",
			    "lighttpd alone, no load, no mode, %llu connections: connection time median %.1f avg %.1f "
			    "max %.1f ms",
			    (unsigned long long)r->http_calibration.conns, r->http_calibration.conn_ms[HTTP_MEDIAN],
			    r->http_calibration.conn_ms[HTTP_AVG], r->http_calibration.conn_ms[HTTP_MAX]);
	else
		print_probe_calibration(f, r);

	line[0] = '\0';
	for (size_t i = 0; i < r->n_modes; i++) {
		int k = snprintf(line + n, sizeof(line) - n, "%s %s %u", i ? "," : "", r->modes[i].mode,
				 r->modes[i].n_changed);

		if (k < 0 || (size_t)k >= sizeof(line) - n)
			break;
		n += (size_t)k;
	}
	print_field(f, "modes", "values changed:%s", line);
}

static void print_probe(FILE *f, const struct bench_result *r, int p, int mw)
{
	struct us_stats first = {0};
	char b[32];

	fprintf(f, "\n%s, µs\n", bench_probe_title[p]);
	fprintf(f, "%-*s %8s", mw, "mode", "samples");
	for (int i = 0; i < _ST_MAX; i++)
		fprintf(f, " %8s", bench_st_title[i]);
	fprintf(f, " %6s\n", "lost");

	for (size_t m = 0; m < r->n_modes; m++) {
		struct us_stats s;

		bench_probe_stats(&r->modes[m].probe[p], &s);
		if (m == 0)
			first = s;
		fprintf(f, "%-*s %8llu", mw, r->modes[m].mode, (unsigned long long)s.samples);
		for (int i = 0; i < _ST_MAX; i++)
			fprintf(f, " %8s", bench_fmt_us(b, sizeof(b), s.samples ? s.v[i] : NAN));
		fprintf(f, " %6llu\n", (unsigned long long)s.lost);
		if (m == 0)
			continue;
		fprintf(f, "  vs %-*s %8s", mw - 5, r->modes[0].mode, "");
		for (int i = 0; i < _ST_MAX; i++)
			fprintf(f, " %8s", fmt_pct(b, sizeof(b), bench_stat_rel(&first, &s, i)));
		fputc('\n', f);
	}
}

/* httperf's figures per mode, as the research's table had them. */
static void print_http(FILE *f, const struct bench_result *r, int mw)
{
	static const char *const title[_HTTP_CONN_MAX] = {"min", "avg", "max", "median", "stddev"};
	const struct bench_http *first = &r->modes[0].http;
	char b[32];

	fprintf(f, "\nHTTP (httperf against lighttpd), connection time and reply time, ms\n");
	fprintf(f, "%-*s %7s %6s", mw, "mode", "conns", "errors");
	for (int i = 0; i < _HTTP_CONN_MAX; i++)
		fprintf(f, " %7s", title[i]);
	fprintf(f, " %7s %8s\n", "reply", "conn/s");
	for (size_t m = 0; m < r->n_modes; m++) {
		const struct bench_http *h = &r->modes[m].http;

		fprintf(f, "%-*s %7llu %6llu", mw, r->modes[m].mode, (unsigned long long)h->conns,
			(unsigned long long)h->errors);
		for (int i = 0; i < _HTTP_CONN_MAX; i++)
			fprintf(f, " %7.1f", h->conn_ms[i]);
		fprintf(f, " %7.1f %8.1f\n", h->response_ms, h->conn_rate);
		if (m == 0)
			continue;
		fprintf(f, "  vs %-*s %7s %6s", mw - 5, r->modes[0].mode, "", "");
		for (int i = 0; i < _HTTP_CONN_MAX; i++)
			fprintf(f, " %7s", fmt_pct(b, sizeof(b), bench_rel(first->conn_ms[i], h->conn_ms[i])));
		fprintf(f, " %7s\n", fmt_pct(b, sizeof(b), bench_rel(first->response_ms, h->response_ms)));
	}
}

/* memaslap's throughput and counts per mode. */
static void print_memcached(FILE *f, const struct bench_result *r, int mw)
{
	char b[32];

	fprintf(f, "\nmemcached (memaslap), requests\n");
	fprintf(f, "%-*s %10s %10s %10s %10s\n", mw, "mode", "ops/s", "gets", "sets", "get misses");
	for (size_t m = 0; m < r->n_modes; m++) {
		const struct bench_memcached *mc = &r->modes[m].mc;

		fprintf(f, "%-*s %10.0f %10llu %10llu %10llu\n", mw, r->modes[m].mode, mc->ops_per_s,
			(unsigned long long)mc->gets, (unsigned long long)mc->sets, (unsigned long long)mc->get_misses);
		if (m == 0)
			continue;
		fprintf(f, "  vs %-*s %10s\n", mw - 5, r->modes[0].mode,
			fmt_pct(b, sizeof(b), bench_rel(r->modes[0].mc.ops_per_s, mc->ops_per_s)));
	}
}

/* Throughput with one decimal; "off" for a load that was off. */
static const char *fmt_load(char *buf, size_t len, double v)
{
	if (v < 0 || !isfinite(v)) {
		snprintf(buf, len, "off");
		return buf;
	}
	snprintf(buf, len, "%.1f", v);
	return buf;
}

static void print_busy(FILE *f, const struct bench_mode_result *m)
{
	if (!isfinite(m->cpu_util) || m->cpu_util < 0) {
		fputs("-", f);
		return;
	}
	fprintf(f, "%3.0f%%", m->cpu_util);
	/* Per CPU while it fits the line. */
	if (!m->cpu_util_per_cpu || m->n_cpus == 0 || m->n_cpus > 12)
		return;
	fputs("  ", f);
	for (unsigned i = 0; i < m->n_cpus; i++) {
		double v = m->cpu_util_per_cpu[i];

		if (isfinite(v) && v >= 0)
			fprintf(f, "%s%.0f", i ? "/" : "", v);
		else
			fprintf(f, "%s-", i ? "/" : "");
	}
	fputc('%', f);
}

static void print_load(FILE *f, const struct bench_result *r, int mw)
{
	char b1[32], b2[32];

	fprintf(f, "\nbest-effort load\n");
	fprintf(f, "%-*s %12s %11s  %s\n", mw, "mode", "stream MB/s", "hog Mops/s", "CPU busy (per CPU)");
	for (size_t i = 0; i < r->n_modes; i++) {
		const struct bench_mode_result *m = &r->modes[i];

		fprintf(f, "%-*s %12s %11s  ", mw, m->mode, fmt_load(b1, sizeof(b1), m->stream_MBps),
			fmt_load(b2, sizeof(b2), m->hog_ops < 0 ? m->hog_ops : m->hog_ops / 1e6));
		print_busy(f, m);
		fputc('\n', f);
		if (i == 0)
			continue;
		fprintf(f, "  vs %-*s %12s %11s\n", mw - 5, r->modes[0].mode,
			fmt_pct(b1, sizeof(b1), bench_rel(r->modes[0].stream_MBps, m->stream_MBps)),
			fmt_pct(b2, sizeof(b2), bench_rel(r->modes[0].hog_ops, m->hog_ops)));
	}
}

/* "133 [88-240] *": a spread's median and interval, the mark when it is
 * apart from the first mode's; "-" when there is none. */
static void fmt_spread(char *buf, size_t len, int r, const struct spread *s, int r0, const struct spread *first,
		       bool is_first, double scale)
{
	char m[20], lo[20], hi[20];

	if (r < 0) {
		snprintf(buf, len, "-");
		return;
	}
	bench_fmt_us(m, sizeof(m), s->median / scale);
	bench_fmt_us(lo, sizeof(lo), s->lo / scale);
	bench_fmt_us(hi, sizeof(hi), s->hi / scale);
	snprintf(buf, len, "%s [%s-%s]%s", m, lo, hi, !is_first && r0 >= 0 && spread_differs(first, s) ? " *" : "");
}

/* --rounds: each statistic as the median of the rounds with the interval
 * of that median, and a mark only where the intervals of a mode and the
 * first one do not overlap; a difference inside them is noise. */
static void print_rounds(FILE *f, const struct bench_result *r, int mw)
{
	const struct bench_mode_result *first = &r->modes[0];
	bool http = bench_workload_http(&r->cfg);
	char b[80];

	fprintf(f, "\nover %u rounds, the modes alternating: median [%s of the median]; * apart from %s\n",
		r->cfg.rounds, r->cfg.rounds >= SPREAD_BOOTSTRAP_MIN ? "bootstrap 95% interval" : "range", first->mode);
	fprintf(f, "%-*s", mw, "mode");
	if (http)
		fprintf(f, " %22s %22s %22s", "conn median ms", "conn max ms", "reply ms");
	for (int p = 0; !http && p < _BENCH_PROBE_MAX; p++)
		if (bench_probe_ran(r, p))
			fprintf(f, " %14s p99 µs", probe_label[p]);
	if (bench_workload_memcached(&r->cfg))
		fprintf(f, " %22s", "memcached kops/s");
	fprintf(f, " %22s %22s\n", "stream MB/s", "hog Mops/s");
	for (size_t i = 0; i < r->n_modes; i++) {
		const struct bench_mode_result *m = &r->modes[i];
		struct spread s, s0;
		int k, k0;

		fprintf(f, "%-*s", mw, m->mode);
		for (int j = 0; http && j < 3; j++) {
			static const int field[3] = {HTTP_MEDIAN, HTTP_MAX, _HTTP_CONN_MAX};

			k0 = bench_spread_http(first, field[j], &s0);
			fmt_spread(b, sizeof(b), bench_spread_http(m, field[j], &s), &s, k0, &s0, i == 0, 1);
			fprintf(f, " %22s", b);
		}
		for (int p = 0; !http && p < _BENCH_PROBE_MAX; p++) {
			if (!bench_probe_ran(r, p))
				continue;
			k = bench_spread_probe(m, p, BENCH_STAT_P99, &s);
			k0 = bench_spread_probe(first, p, BENCH_STAT_P99, &s0);
			fmt_spread(b, sizeof(b), k, &s, k0, &s0, i == 0, 1);
			fprintf(f, " %*s", 22 + (int)(strlen(b) - text_width(b, strlen(b))), b);
		}
		if (bench_workload_memcached(&r->cfg)) {
			k = bench_spread_memcached(m, &s);
			k0 = bench_spread_memcached(first, &s0);
			fmt_spread(b, sizeof(b), k, &s, k0, &s0, i == 0, 1e3);
			fprintf(f, " %22s", b);
		}
		k = bench_spread_load(m, true, &s);
		k0 = bench_spread_load(first, true, &s0);
		fmt_spread(b, sizeof(b), k, &s, k0, &s0, i == 0, 1);
		fprintf(f, " %22s", b);
		k = bench_spread_load(m, false, &s);
		k0 = bench_spread_load(first, false, &s0);
		fmt_spread(b, sizeof(b), k, &s, k0, &s0, i == 0, 1e6);
		fprintf(f, " %22s\n", b);
	}
}

void bench_print_table(FILE *f, const struct bench_result *r)
{
	int mw = mode_width(r);

	print_header(f, r);
	if (bench_workload_http(&r->cfg))
		print_http(f, r, mw);
	else
		for (int p = 0; p < _BENCH_PROBE_MAX; p++)
			if (bench_probe_ran(r, p))
				print_probe(f, r, p, mw);
	if (bench_workload_memcached(&r->cfg))
		print_memcached(f, r, mw);
	print_load(f, r, mw);
	if (r->cfg.rounds > 1 && r->n_modes)
		print_rounds(f, r, mw);
}
