/* isoctl bench's results for people and programs: the comparison table, the
 * --json document, --csv and the --plot SVG, all from one struct
 * bench_result. Nothing here measures or changes the host. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench.h"
#include "isolated/util.h"

const char *const bench_probe_name[_BENCH_PROBE_MAX] = {"wakeup", "netrt"};
const char *const bench_probe_title[_BENCH_PROBE_MAX] = {"wakeup latency", "NetRT round trip"};
/* The probes in the table's header. */
static const char *const probe_label[_BENCH_PROBE_MAX] = {"wakeup", "NetRT"};

double bench_rel(double a, double b)
{
	if (!isfinite(a) || !isfinite(b) || a <= 0 || b < 0)
		return NAN;
	return (b - a) / a * 100.0;
}

void bench_result_free(struct bench_result *r)
{
	if (!r)
		return;
	free(r->cfg.scope);
	free(r->cfg.rt_cpus);
	free(r->cfg.housekeeping_cpus);
	free(r->cfg.rt_vm);
	free(r->cfg.kernel);
	strv_free(r->cfg.held_back);
	for (size_t i = 0; i < r->n_modes; i++) {
		free(r->modes[i].mode);
		free(r->modes[i].cpu_util_per_cpu);
	}
	free(r->modes);
	*r = (struct bench_result){0};
}

/* ---- the numbers every output shows ---- */

/* The compared statistics, in the order of the table's columns. */
enum { ST_MEAN, ST_P50, ST_P99, ST_P999, ST_MAX, ST_STDDEV, _ST_MAX };
static const char *const st_title[_ST_MAX] = {"mean", "p50", "p99", "p99.9", "max", "stddev"};
static const char *const st_key[_ST_MAX] = {"mean", "p50", "p99", "p999", "max", "stddev"};

/* A probe's summary in microseconds. */
struct us_stats {
	uint64_t samples, lost;
	double v[_ST_MAX];
	double min;
};

static void probe_stats(const struct bench_probe_result *p, struct us_stats *ret)
{
	struct hist_stats s;

	hist_stats(&p->hist, &s);
	*ret = (struct us_stats){
	    .samples = s.count,
	    .lost = p->lost,
	    .v = {s.mean / 1000.0, s.p50 / 1000.0, s.p99 / 1000.0, s.p999 / 1000.0, s.max / 1000.0, s.stddev / 1000.0},
	    .min = s.min / 1000.0,
	};
}

/* b against a for statistic i: NAN when either has no samples. */
static double stat_rel(const struct us_stats *a, const struct us_stats *b, int i)
{
	if (a->samples == 0 || b->samples == 0)
		return NAN;
	return bench_rel(a->v[i], b->v[i]);
}

static bool probe_ran(const struct bench_result *r, int p)
{
	if (r->cfg.net || r->calibration[p].hist.count)
		return true;
	for (size_t i = 0; i < r->n_modes; i++)
		if (r->modes[i].probe[p].hist.count)
			return true;
	return p == BENCH_WAKEUP;
}

static const char *probe_tool(const struct bench_result *r)
{
	return r->cfg.probe_tool ? r->cfg.probe_tool : "isolated";
}

/* "2 CPU hogs + TCP stream over veth", "none". */
static void load_text(const struct bench_config *c, char *buf, size_t len)
{
	int n = 0;

	buf[0] = '\0';
	if (c->load_cpu)
		n = snprintf(buf, len, "%u CPU hog%s", c->n_hogs, c->n_hogs == 1 ? "" : "s");
	if (c->load_net && n >= 0 && (size_t)n < len)
		snprintf(buf + n, len - (size_t)n, "%sTCP stream over %s", n ? " + " : "", c->net ? c->net : "?");
	if (!buf[0])
		snprintf(buf, len, "none");
}

/* ---- the table ---- */

/* Microseconds: one decimal below 1000, none above. */
static const char *fmt_us(char *buf, size_t len, double v)
{
	if (!isfinite(v))
		snprintf(buf, len, "-");
	else if (v < 999.95)
		snprintf(buf, len, "%.1f", v);
	else
		snprintf(buf, len, "%.0f", v);
	return buf;
}

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

static const char *fmt_seconds(char *buf, size_t len, double s)
{
	snprintf(buf, len, "%g s", s);
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

static void print_header(FILE *f, const struct bench_result *r)
{
	const struct bench_config *c = &r->cfg;
	char load[128], d1[32], d2[32], d3[32], line[256];
	size_t n = 0;

	fputs("isoctl bench:", f);
	for (size_t i = 0; i < r->n_modes; i++)
		fprintf(f, "%s%s", i ? ", " : " ", r->modes[i].mode);
	fprintf(f, "; %s per mode after %s warm-up\n", fmt_seconds(d1, sizeof(d1), c->duration_s),
		fmt_seconds(d2, sizeof(d2), c->warmup_s));
	print_field(f, "CPUs", "RT %s, housekeeping %s; scope %s (as VM %s)", c->rt_cpus ? c->rt_cpus : "?",
		    c->housekeeping_cpus ? c->housekeeping_cpus : "?", c->scope ? c->scope : "?",
		    c->rt_vm ? c->rt_vm : "?");
	print_field(f, "host", "kernel %s, %u online CPUs", c->kernel ? c->kernel : "?", c->online_cpus);
	load_text(c, load, sizeof(load));
	print_field(f, "load", "%s", load);
	if (c->net)
		snprintf(line, sizeof(line), "NetRT every %u..%u µs over %s", c->netrt_min_us, c->netrt_max_us, c->net);
	else
		snprintf(line, sizeof(line), "NetRT off (no network)");
	print_field(f, "probes", "wakeup every %u µs (%s); %s", c->interval_us, probe_tool(r), line);
	for (size_t i = 0; c->held_back && c->held_back[i]; i++)
		print_field(f, "held back", "%s", c->held_back[i]);
	print_field(f, "idle states", "%s",
		    c->pm_qos ? "/dev/cpu_dma_latency held at 0 while measuring (as cyclictest does)"
			      : "left to the kernel (--keep-idle, or /dev/cpu_dma_latency could not be held)");

	print_field(f, "calibration", "probes alone, no load, no mode, %s; clock read %.0f ns, record %.0f ns",
		    fmt_seconds(d3, sizeof(d3), c->calibration_s), r->clock_read_ns, r->record_ns);
	line[0] = '\0';
	for (int p = 0; p < _BENCH_PROBE_MAX; p++) {
		struct us_stats s;
		int k;

		if (!probe_ran(r, p))
			continue;
		probe_stats(&r->calibration[p], &s);
		if (s.samples)
			k = snprintf(line + n, sizeof(line) - n, "%s%s p50 %s p99 %s µs", n ? "; " : "", probe_label[p],
				     fmt_us(d1, sizeof(d1), s.v[ST_P50]), fmt_us(d2, sizeof(d2), s.v[ST_P99]));
		else
			k = snprintf(line + n, sizeof(line) - n, "%s%s no samples", n ? "; " : "", probe_label[p]);
		if (k < 0 || (size_t)k >= sizeof(line) - n)
			break;
		n += (size_t)k;
	}
	print_field(f, "", "%s", line);

	line[0] = '\0';
	n = 0;
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
		fprintf(f, " %8s", st_title[i]);
	fprintf(f, " %6s\n", "lost");

	for (size_t m = 0; m < r->n_modes; m++) {
		struct us_stats s;

		probe_stats(&r->modes[m].probe[p], &s);
		if (m == 0)
			first = s;
		fprintf(f, "%-*s %8llu", mw, r->modes[m].mode, (unsigned long long)s.samples);
		for (int i = 0; i < _ST_MAX; i++)
			fprintf(f, " %8s", fmt_us(b, sizeof(b), s.samples ? s.v[i] : NAN));
		fprintf(f, " %6llu\n", (unsigned long long)s.lost);
		if (m == 0)
			continue;
		fprintf(f, "  vs %-*s %8s", mw - 5, r->modes[0].mode, "");
		for (int i = 0; i < _ST_MAX; i++)
			fprintf(f, " %8s", fmt_pct(b, sizeof(b), stat_rel(&first, &s, i)));
		fputc('\n', f);
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

void bench_print_table(FILE *f, const struct bench_result *r)
{
	int mw = mode_width(r);

	print_header(f, r);
	for (int p = 0; p < _BENCH_PROBE_MAX; p++)
		if (probe_ran(r, p))
			print_probe(f, r, p, mw);
	print_load(f, r, mw);
}

/* ---- JSON ---- */

/* A document under construction: an allocation failure anywhere makes
 * bench_json return NULL rather than a document with holes. */
struct jb {
	bool oom;
};

static json_object *jb_check(struct jb *b, json_object *o)
{
	if (!o)
		b->oom = true;
	return o;
}

static json_object *jobj(struct jb *b)
{
	return jb_check(b, json_object_new_object());
}

static json_object *jarr(struct jb *b)
{
	return jb_check(b, json_object_new_array());
}

static json_object *jstr(struct jb *b, const char *s)
{
	return s ? jb_check(b, json_object_new_string(s)) : NULL;
}

static json_object *juint(struct jb *b, uint64_t v)
{
	return jb_check(b, json_object_new_int64(v > INT64_MAX ? INT64_MAX : (int64_t)v));
}

/* A number written with at most `decimals` decimals (µs to the ns, not
 * 52.299999999999997); NULL (JSON null) when not finite. */
static json_object *jnum(struct jb *b, double v, int decimals)
{
	char buf[64], *dot;

	if (!isfinite(v))
		return NULL;
	snprintf(buf, sizeof(buf), "%.*f", decimals, v);
	dot = strchr(buf, '.');
	if (dot) {
		char *e = buf + strlen(buf) - 1;

		while (e > dot && *e == '0')
			*e-- = '\0';
		if (e == dot)
			*e = '\0';
	}
	if (strcmp(buf, "-0") == 0)
		strcpy(buf, "0");
	return jb_check(b, json_object_new_double_s(strtod(buf, NULL), buf));
}

static void jset(struct jb *b, json_object *o, const char *key, json_object *v)
{
	if (!o || json_object_object_add(o, key, v) < 0) {
		json_object_put(v);
		b->oom = true;
	}
}

static void jpush(struct jb *b, json_object *a, json_object *v)
{
	if (!a || !v || json_object_array_add(a, v) < 0) {
		json_object_put(v);
		b->oom = true;
	}
}

static json_object *json_config(struct jb *b, const struct bench_config *c)
{
	json_object *o = jobj(b), *load = jarr(b), *held = jarr(b);

	jset(b, o, "scope", jstr(b, c->scope));
	jset(b, o, "rt_cpus", jstr(b, c->rt_cpus));
	jset(b, o, "housekeeping_cpus", jstr(b, c->housekeeping_cpus));
	jset(b, o, "rt_vm", jstr(b, c->rt_vm));
	jset(b, o, "probe_tool", jstr(b, c->probe_tool ? c->probe_tool : "isolated"));
	jset(b, o, "net", jstr(b, c->net));
	if (c->load_cpu)
		jpush(b, load, jstr(b, "cpu"));
	if (c->load_net)
		jpush(b, load, jstr(b, "net"));
	jset(b, o, "load", load);
	jset(b, o, "n_hogs", juint(b, c->n_hogs));
	jset(b, o, "interval_us", juint(b, c->interval_us));
	jset(b, o, "netrt_min_us", juint(b, c->netrt_min_us));
	jset(b, o, "netrt_max_us", juint(b, c->netrt_max_us));
	jset(b, o, "duration_s", jnum(b, c->duration_s, 3));
	jset(b, o, "warmup_s", jnum(b, c->warmup_s, 3));
	jset(b, o, "calibration_s", jnum(b, c->calibration_s, 3));
	jset(b, o, "kernel", jstr(b, c->kernel));
	jset(b, o, "online_cpus", juint(b, c->online_cpus));
	for (size_t i = 0; c->held_back && c->held_back[i]; i++)
		jpush(b, held, jstr(b, c->held_back[i]));
	jset(b, o, "held_back", held);
	jset(b, o, "pm_qos", json_object_new_boolean(c->pm_qos));
	return o;
}

/* {"samples", "mean_us", ..., "histogram": [[low_us, high_us, count], ...]};
 * the statistics are null when there are no samples. */
static json_object *json_probe(struct jb *b, const struct bench_probe_result *p)
{
	json_object *o = jobj(b), *h = jarr(b);
	struct us_stats s;
	char key[32];

	probe_stats(p, &s);
	jset(b, o, "samples", juint(b, s.samples));
	for (int i = 0; i < _ST_MAX; i++) {
		snprintf(key, sizeof(key), "%s_us", st_key[i]);
		jset(b, o, key, jnum(b, s.samples ? s.v[i] : NAN, 3));
	}
	jset(b, o, "min_us", jnum(b, s.samples ? s.min : NAN, 3));
	jset(b, o, "lost", juint(b, s.lost));
	for (size_t i = 0; i < HIST_BUCKETS && s.samples; i++) {
		json_object *e;

		if (!p->hist.buckets[i])
			continue;
		e = jarr(b);
		jpush(b, e, jnum(b, hist_bucket_low(i) / 1000.0, 3));
		jpush(b, e, jnum(b, hist_bucket_high(i) / 1000.0, 3));
		jpush(b, e, juint(b, p->hist.buckets[i]));
		jpush(b, h, e);
	}
	jset(b, o, "histogram", h);
	return o;
}

static json_object *json_probes(struct jb *b, const struct bench_probe_result *p)
{
	json_object *o = jobj(b);

	for (int i = 0; i < _BENCH_PROBE_MAX; i++)
		jset(b, o, bench_probe_name[i], json_probe(b, &p[i]));
	return o;
}

static json_object *json_load(struct jb *b, const struct bench_mode_result *m)
{
	json_object *o = jobj(b), *per = jarr(b);

	jset(b, o, "stream_MBps", jnum(b, m->stream_MBps < 0 ? NAN : m->stream_MBps, 3));
	jset(b, o, "hog_ops_per_s", jnum(b, m->hog_ops < 0 ? NAN : m->hog_ops, 0));
	jset(b, o, "cpu_busy_pct", jnum(b, m->cpu_util < 0 ? NAN : m->cpu_util, 1));
	for (unsigned i = 0; m->cpu_util_per_cpu && i < m->n_cpus; i++) {
		double v = m->cpu_util_per_cpu[i];

		/* A CPU that went offline during the window has no number. */
		if (!isfinite(v) || v < 0) {
			if (per && json_object_array_add(per, NULL) < 0)
				b->oom = true;
		} else {
			jpush(b, per, jnum(b, v, 1));
		}
	}
	jset(b, o, "cpu_busy_pct_per_cpu", per);
	return o;
}

static json_object *json_relative(struct jb *b, const struct bench_mode_result *a, const struct bench_mode_result *m)
{
	json_object *o = jobj(b);
	char key[32];

	jset(b, o, "against", jstr(b, a->mode));
	for (int p = 0; p < _BENCH_PROBE_MAX; p++) {
		json_object *po = jobj(b);
		struct us_stats sa, sm;

		probe_stats(&a->probe[p], &sa);
		probe_stats(&m->probe[p], &sm);
		for (int i = 0; i < _ST_MAX; i++) {
			snprintf(key, sizeof(key), "%s_pct", st_key[i]);
			jset(b, po, key, jnum(b, stat_rel(&sa, &sm, i), 1));
		}
		jset(b, o, bench_probe_name[p], po);
	}
	jset(b, o, "stream_pct", jnum(b, bench_rel(a->stream_MBps, m->stream_MBps), 1));
	jset(b, o, "hog_ops_pct", jnum(b, bench_rel(a->hog_ops, m->hog_ops), 1));
	return o;
}

json_object *bench_json(const struct bench_result *r)
{
	struct jb b = {0};
	json_object *doc = jobj(&b), *cal = jobj(&b), *modes = jarr(&b);

	jset(&b, doc, "version", juint(&b, 1));
	jset(&b, doc, "config", json_config(&b, &r->cfg));
	jset(&b, cal, "clock_read_ns", jnum(&b, r->clock_read_ns, 1));
	jset(&b, cal, "record_ns", jnum(&b, r->record_ns, 1));
	jset(&b, cal, "probes", json_probes(&b, r->calibration));
	jset(&b, doc, "calibration", cal);
	for (size_t i = 0; i < r->n_modes; i++) {
		const struct bench_mode_result *m = &r->modes[i];
		json_object *o = jobj(&b);

		jset(&b, o, "mode", jstr(&b, m->mode));
		jset(&b, o, "measured_s", jnum(&b, m->measured_s, 3));
		jset(&b, o, "changed", juint(&b, m->n_changed));
		jset(&b, o, "probes", json_probes(&b, m->probe));
		jset(&b, o, "load", json_load(&b, m));
		jset(&b, o, "relative", i ? json_relative(&b, &r->modes[0], m) : NULL);
		jpush(&b, modes, o);
	}
	jset(&b, doc, "modes", modes);
	if (b.oom) {
		json_object_put(doc);
		errno = ENOMEM;
		return NULL;
	}
	return doc;
}

/* ---- CSV ---- */

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

static void csv_row(FILE *f, const char *mode, int p, const struct bench_probe_result *pr,
		    const struct bench_mode_result *m)
{
	char buf[32];
	struct us_stats s;

	probe_stats(pr, &s);
	csv_field(f, mode, false);
	csv_field(f, bench_probe_name[p], false);
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)s.samples);
	csv_field(f, buf, false);
	for (int i = 0; i < _ST_MAX; i++)
		csv_num(f, s.samples ? s.v[i] : NAN, 3, false);
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)s.lost);
	csv_field(f, buf, false);
	csv_num(f, m ? m->stream_MBps : NAN, 3, false);
	csv_num(f, m ? m->hog_ops : NAN, 0, false);
	csv_num(f, m ? m->cpu_util : NAN, 1, true);
}

void bench_print_csv(FILE *f, const struct bench_result *r)
{
	fputs("mode,probe,samples,mean_us,p50_us,p99_us,p999_us,max_us,stddev_us,lost,stream_MBps,hog_ops_per_s,"
	      "cpu_busy_pct\n",
	      f);
	for (int p = 0; p < _BENCH_PROBE_MAX; p++)
		csv_row(f, "calibration", p, &r->calibration[p], NULL);
	for (size_t i = 0; i < r->n_modes; i++)
		for (int p = 0; p < _BENCH_PROBE_MAX; p++)
			csv_row(f, r->modes[i].mode, p, &r->modes[i].probe[p], &r->modes[i]);
}

/* ---- SVG ---- */

#define SVG_W 1000
#define SVG_TITLE_H 96
#define PANEL_H 400
#define PLOT_X0 80
#define PLOT_X1 700
#define PLOT_DY 40 /* panel top to plot top */
#define PLOT_H 280
#define LEGEND_X 725
#define BINS_PER_DECADE 60
#define X_MIN_US 0.1 /* lower values are drawn in the first bin */

static const char *const svg_colour[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e",
					 "#9467bd", "#8c564b", "#e377c2", "#17becf"};

static void svg_printf(struct sbuf *b, const char *fmt, ...) ISO_PRINTF(2, 3);
static void svg_printf(struct sbuf *b, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->oom = true;
	} else if ((size_t)n < sizeof(buf)) {
		sbuf_add(b, buf, (size_t)n);
	} else {
		char *s;

		va_start(ap, fmt);
		n = vasprintf(&s, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->oom = true;
			return;
		}
		sbuf_add(b, s, (size_t)n);
		free(s);
	}
}

/* Text content and attribute values. */
static void svg_text(struct sbuf *b, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&':
			sbuf_adds(b, "&amp;");
			break;
		case '<':
			sbuf_adds(b, "&lt;");
			break;
		case '>':
			sbuf_adds(b, "&gt;");
			break;
		case '"':
			sbuf_adds(b, "&quot;");
			break;
		default:
			/* XML 1.0 allows no control characters but tab and newlines. */
			sbuf_addc(b, (unsigned char)*s < 0x20 ? ' ' : *s);
		}
	}
}

/* One panel's scales: log10 of µs across, log10 of the share of samples up. */
struct axes {
	double y0;	 /* panel top */
	double lx0, lx1; /* log10(µs) at the plot's left and right */
	double ly0, ly1; /* log10(share) at the bottom and the top */
	unsigned nbins;
};

static double ax_x(const struct axes *a, double lx)
{
	return PLOT_X0 + (lx - a->lx0) / (a->lx1 - a->lx0) * (PLOT_X1 - PLOT_X0);
}

static double ax_y(const struct axes *a, double ly)
{
	if (ly < a->ly0)
		ly = a->ly0;
	if (ly > a->ly1)
		ly = a->ly1;
	return a->y0 + PLOT_DY + PLOT_H - (ly - a->ly0) / (a->ly1 - a->ly0) * PLOT_H;
}

/* The share of a histogram's samples in each of nbins bins of equal log
 * width from 10^lx0 µs; a bucket is spread over the bins it overlaps in
 * proportion, so that the steps of the HDR buckets (1/128 of a power of
 * two) do not alias with the bins. Values outside the range go to the
 * first or the last bin. */
static void bin_hist(const struct hist *h, const struct axes *a, double *bins)
{
	double per = (a->lx1 - a->lx0) / a->nbins;

	memset(bins, 0, a->nbins * sizeof(*bins));
	if (!h->count)
		return;
	for (size_t i = 0; i < HIST_BUCKETS; i++) {
		double c = (double)h->buckets[i] / (double)h->count, lo, hi;

		if (!h->buckets[i])
			continue;
		/* [low, high + 1) ns as log10 µs */
		lo = (hist_bucket_low(i) ? log10(hist_bucket_low(i) / 1000.0) : a->lx0);
		hi = log10((hist_bucket_high(i) + 1) / 1000.0);
		if (hi <= a->lx0) {
			bins[0] += c;
			continue;
		}
		if (lo >= a->lx1) {
			bins[a->nbins - 1] += c;
			continue;
		}
		if (lo < a->lx0) {
			bins[0] += c * (a->lx0 - lo) / (hi - lo);
			c *= (hi - a->lx0) / (hi - lo);
			lo = a->lx0;
		}
		if (hi > a->lx1) {
			bins[a->nbins - 1] += c * (hi - a->lx1) / (hi - lo);
			c *= (a->lx1 - lo) / (hi - lo);
			hi = a->lx1;
		}
		for (unsigned k = (unsigned)((lo - a->lx0) / per); k < a->nbins; k++) {
			double bl = a->lx0 + k * per, bh = bl + per;
			double ov = fmin(hi, bh) - fmax(lo, bl);

			if (bl >= hi)
				break;
			if (ov > 0)
				bins[k] += c * ov / (hi - lo);
		}
	}
}

/* One step line: the share of samples per bin; bins with nothing (or
 * below the axis) sit on the bottom of the plot. */
static void svg_steps(struct sbuf *b, const struct axes *a, const double *bins, const char *colour, const char *cls,
		      const char *name, const char *extra)
{
	double per = (a->lx1 - a->lx0) / a->nbins, base = ax_y(a, a->ly0);
	unsigned first = a->nbins, last = 0;

	for (unsigned k = 0; k < a->nbins; k++)
		if (log10(bins[k] > 0 ? bins[k] : 1e-300) >= a->ly0) {
			if (first == a->nbins)
				first = k;
			last = k;
		}
	if (first == a->nbins)
		return;
	svg_printf(b, "<polyline class=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"1.6\"%s points=\"", cls,
		   colour, extra);
	svg_printf(b, "%.1f,%.1f", ax_x(a, a->lx0 + first * per), base);
	for (unsigned k = first; k <= last; k++) {
		double y = bins[k] > 0 ? ax_y(a, log10(bins[k])) : base;

		svg_printf(b, " %.1f,%.1f %.1f,%.1f", ax_x(a, a->lx0 + k * per), y, ax_x(a, a->lx0 + (k + 1) * per), y);
	}
	svg_printf(b, " %.1f,%.1f\"><title>", ax_x(a, a->lx0 + (last + 1) * per), base);
	svg_text(b, name);
	sbuf_adds(b, "</title></polyline>\n");
}

/* A label for a power of ten: "0.1", "1", "1000", "1e+06". */
static void decade_label(char *buf, size_t len, int k, double scale, const char *unit)
{
	snprintf(buf, len, "%g%s", pow(10, k) * scale, unit);
}

static void svg_axes(struct sbuf *b, const struct axes *a, int p)
{
	double top = a->y0 + PLOT_DY, bottom = top + PLOT_H;
	char lab[32];

	svg_printf(b, "<rect x=\"%d\" y=\"%.1f\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#444\"/>\n", PLOT_X0,
		   top, PLOT_X1 - PLOT_X0, PLOT_H);
	/* x: decades with labels, 2..9 as small ticks */
	for (int k = (int)lround(a->lx0); k <= (int)lround(a->lx1); k++) {
		double x = ax_x(a, k);

		if (k > lround(a->lx0) && k < lround(a->lx1))
			svg_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n", x,
				   top, x, bottom);
		svg_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#444\"/>\n", x, bottom, x,
			   bottom + 6);
		decade_label(lab, sizeof(lab), k, 1, "");
		svg_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n", x, bottom + 20, lab);
		for (int m = 2; m <= 9 && k < lround(a->lx1); m++) {
			double xm = ax_x(a, k + log10(m));

			svg_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#444\"/>\n", xm,
				   bottom, xm, bottom + 3);
		}
	}
	svg_printf(b, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"middle\">", (PLOT_X0 + PLOT_X1) / 2, bottom + 42);
	svg_printf(b, "%s, µs (log scale)</text>\n", bench_probe_title[p]);
	/* y: decades of the share of samples, as percent */
	for (int k = (int)lround(a->ly0); k <= (int)lround(a->ly1); k++) {
		double y = ax_y(a, k);

		if (k > lround(a->ly0) && k < lround(a->ly1))
			svg_printf(b, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#ddd\"/>\n", PLOT_X0,
				   y, PLOT_X1, y);
		svg_printf(b, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#444\"/>\n", PLOT_X0 - 6, y,
			   PLOT_X0, y);
		decade_label(lab, sizeof(lab), k, 100, "%");
		svg_printf(b, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n", PLOT_X0 - 9, y + 4, lab);
	}
	svg_printf(b,
		   "<text transform=\"translate(%d %.1f) rotate(-90)\" text-anchor=\"middle\">"
		   "share of samples per 1/%d decade (log)</text>\n",
		   18, top + PLOT_H / 2.0, BINS_PER_DECADE);
}

/* The range of the x axis: whole decades around the smallest and the
 * largest sample of every mode and of the calibration. */
static bool x_range(const struct bench_result *r, int p, struct axes *a, uint64_t *ret_max_samples)
{
	uint64_t lo = UINT64_MAX, hi = 0, n = 0;

	for (size_t i = 0; i <= r->n_modes; i++) {
		const struct hist *h = i < r->n_modes ? &r->modes[i].probe[p].hist : &r->calibration[p].hist;

		if (!h->count)
			continue;
		if (h->min < lo)
			lo = h->min;
		if (h->max > hi)
			hi = h->max;
		if (h->count > n)
			n = h->count;
	}
	if (!n)
		return false;
	a->lx0 = floor(log10(fmax(lo / 1000.0, X_MIN_US)));
	a->lx1 = ceil(log10(fmax((hi + 1) / 1000.0, X_MIN_US)));
	if (a->lx1 <= a->lx0)
		a->lx1 = a->lx0 + 1;
	a->nbins = (unsigned)lround(a->lx1 - a->lx0) * BINS_PER_DECADE;
	*ret_max_samples = n;
	return true;
}

static int svg_panel(struct sbuf *b, const struct bench_result *r, int p, double y0)
{
	struct axes a = {.y0 = y0};
	uint64_t nmax = 0;
	double *bins, ymax = 0;
	char v1[32], v2[32];
	double ly = y0 + PLOT_DY + 12;
	/* two lines a legend entry; closer when many modes would run into
	 * the next panel */
	double step = (r->n_modes + 2) * 38.0 > PANEL_H - PLOT_DY - 10 ? 30 : 38;

	svg_printf(b, "<g class=\"panel\" id=\"%s\">\n", bench_probe_name[p]);
	svg_printf(b, "<text x=\"%d\" y=\"%.1f\" font-size=\"15\" font-weight=\"bold\">%s</text>\n", PLOT_X0, y0 + 24,
		   bench_probe_title[p]);
	if (!x_range(r, p, &a, &nmax)) {
		svg_printf(b, "<text x=\"%d\" y=\"%.1f\">no samples</text>\n</g>\n", PLOT_X0, y0 + PLOT_DY + 40);
		return 0;
	}
	bins = calloc(a.nbins, sizeof(*bins));
	if (!bins)
		return -ENOMEM;

	/* y: from a decade under one sample of the largest run to the decade
	 * over the highest bin. */
	for (size_t i = 0; i <= r->n_modes; i++) {
		const struct hist *h = i < r->n_modes ? &r->modes[i].probe[p].hist : &r->calibration[p].hist;

		bin_hist(h, &a, bins);
		for (unsigned k = 0; k < a.nbins; k++)
			ymax = fmax(ymax, bins[k]);
	}
	a.ly1 = fmin(0, ceil(log10(ymax)));
	a.ly0 = floor(log10(0.5 / (double)nmax));
	if (a.ly0 >= a.ly1)
		a.ly0 = a.ly1 - 1;
	svg_axes(b, &a, p);

	/* The calibration first, under the modes: the floor of the probe. */
	bin_hist(&r->calibration[p].hist, &a, bins);
	svg_steps(b, &a, bins, "#999", "calibration", "calibration: probes alone, no load, no mode",
		  " stroke-dasharray=\"2 2\"");
	if (r->calibration[p].hist.count) {
		struct us_stats s;

		probe_stats(&r->calibration[p], &s);
		svg_printf(b,
			   "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#999\" stroke-width=\"2\" "
			   "stroke-dasharray=\"2 2\"/>\n",
			   LEGEND_X, ly - 4, LEGEND_X + 24, ly - 4);
		svg_printf(b, "<text class=\"legend\" x=\"%d\" y=\"%.1f\">calibration (no load, no mode)</text>\n",
			   LEGEND_X + 30, ly);
		svg_printf(b, "<text x=\"%d\" y=\"%.1f\" fill=\"#555\">p50 %s µs, p99 %s µs</text>\n", LEGEND_X + 30,
			   ly + 15, fmt_us(v1, sizeof(v1), s.v[ST_P50]), fmt_us(v2, sizeof(v2), s.v[ST_P99]));
		ly += step;
	}

	for (size_t i = 0; i < r->n_modes; i++) {
		const struct bench_mode_result *m = &r->modes[i];
		const char *colour = svg_colour[i % ARRAY_SIZE(svg_colour)];
		struct us_stats s;

		probe_stats(&m->probe[p], &s);
		bin_hist(&m->probe[p].hist, &a, bins);
		svg_steps(b, &a, bins, colour, "mode", m->mode, "");
		if (s.samples) {
			double x = ax_x(&a, log10(fmax(s.v[ST_P99], pow(10, a.lx0))));

			svg_printf(b,
				   "<line class=\"p99\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
				   "stroke-width=\"1.2\" stroke-dasharray=\"6 4\"/>\n",
				   x, y0 + PLOT_DY, x, y0 + PLOT_DY + PLOT_H, colour);
		}
		/* legend: the mode, then its p50 and p99 */
		svg_printf(b, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"3\"/>\n",
			   LEGEND_X, ly - 4, LEGEND_X + 24, ly - 4, colour);
		svg_printf(b, "<text class=\"legend\" x=\"%d\" y=\"%.1f\" font-weight=\"bold\">", LEGEND_X + 30, ly);
		svg_text(b, m->mode);
		sbuf_adds(b, "</text>\n");
		if (s.samples)
			svg_printf(b, "<text x=\"%d\" y=\"%.1f\">p50 %s µs, p99 %s µs</text>\n", LEGEND_X + 30, ly + 15,
				   fmt_us(v1, sizeof(v1), s.v[ST_P50]), fmt_us(v2, sizeof(v2), s.v[ST_P99]));
		else
			svg_printf(b, "<text x=\"%d\" y=\"%.1f\">no samples</text>\n", LEGEND_X + 30, ly + 15);
		ly += step;
	}
	svg_printf(b,
		   "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#444\" stroke-dasharray=\"6 4\"/>\n"
		   "<text x=\"%d\" y=\"%.1f\" fill=\"#555\">each mode's p99</text>\n",
		   LEGEND_X, ly - 4, LEGEND_X + 24, ly - 4, LEGEND_X + 30, ly);
	sbuf_adds(b, "</g>\n");
	free(bins);
	return 0;
}

static void svg_title(struct sbuf *b, const struct bench_result *r)
{
	const struct bench_config *c = &r->cfg;
	char load[128], d1[32], d2[32];

	svg_printf(b, "<text x=\"20\" y=\"26\" font-size=\"18\" font-weight=\"bold\">isoctl bench: ");
	for (size_t i = 0; i < r->n_modes; i++) {
		if (i)
			sbuf_adds(b, " vs ");
		svg_text(b, r->modes[i].mode);
	}
	sbuf_adds(b, "</text>\n");
	load_text(c, load, sizeof(load));
	svg_printf(b, "<text x=\"20\" y=\"47\">%s per mode after %s warm-up; load: ",
		   fmt_seconds(d1, sizeof(d1), c->duration_s), fmt_seconds(d2, sizeof(d2), c->warmup_s));
	svg_text(b, load);
	sbuf_adds(b, "; RT CPUs ");
	svg_text(b, c->rt_cpus);
	sbuf_adds(b, ", housekeeping ");
	svg_text(b, c->housekeeping_cpus);
	sbuf_adds(b, "; scope ");
	svg_text(b, c->scope);
	sbuf_adds(b, "; kernel ");
	svg_text(b, c->kernel);
	sbuf_adds(b, "</text>\n");
	svg_printf(b, "<text x=\"20\" y=\"66\" fill=\"#555\">wakeup: timer every %u µs (", c->interval_us);
	svg_text(b, probe_tool(r));
	if (c->net)
		svg_printf(b, "); NetRT: UDP echo every %u..%u µs over %s", c->netrt_min_us, c->netrt_max_us, c->net);
	else
		sbuf_adds(b, "); NetRT off");
	sbuf_adds(b, "</text>\n");
	svg_printf(b,
		   "<text x=\"20\" y=\"84\" fill=\"#555\">Curves: each mode's share of its samples per 1/%d "
		   "decade, so runs with different sample counts compare; dashed: each mode's p99.</text>\n",
		   BINS_PER_DECADE);
}

static char *svg_document(const struct bench_result *r)
{
	struct sbuf b = {0};
	int h = SVG_TITLE_H + _BENCH_PROBE_MAX * PANEL_H;

	svg_printf(&b,
		   "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		   "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
		   "font-family=\"sans-serif\" font-size=\"12\">\n"
		   "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
		   SVG_W, h, SVG_W, h);
	svg_title(&b, r);
	for (int p = 0; p < _BENCH_PROBE_MAX; p++)
		if (svg_panel(&b, r, p, SVG_TITLE_H + p * PANEL_H) < 0)
			b.oom = true;
	sbuf_adds(&b, "</svg>\n");
	return sbuf_take(&b);
}

/* Write all of buf to fd. */
static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int bench_write_svg(const char *path, const struct bench_result *r, char *err, size_t errlen)
{
	char *doc, *tmp = NULL;
	int fd = -1, ret;

	doc = svg_document(r);
	if (!doc) {
		util_set_err(err, errlen, "%s: out of memory", path);
		return -ENOMEM;
	}
	/* A temporary file beside the target, renamed over it: a reader never
	 * sees half a plot, and a failure leaves nothing behind. */
	tmp = util_sprintf("%s.XXXXXX", path);
	if (!tmp) {
		ret = -ENOMEM;
		util_set_err(err, errlen, "%s: out of memory", path);
		goto out;
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		util_set_err(err, errlen, "cannot create %s: %s", path, strerror(-ret));
		free(tmp);
		tmp = NULL;
		goto out;
	}
	ret = fchmod(fd, 0644) < 0 ? -errno : 0;
	if (ret == 0)
		ret = write_all(fd, doc, strlen(doc));
	if (ret == 0 && fsync(fd) < 0)
		ret = -errno;
	if (close(fd) < 0 && ret == 0)
		ret = -errno;
	if (ret == 0 && rename(tmp, path) < 0)
		ret = -errno;
	if (ret < 0) {
		util_set_err(err, errlen, "cannot write %s: %s", path, strerror(-ret));
		unlink(tmp);
	}
out:
	free(tmp);
	free(doc);
	return ret;
}
