/* isoctl bench --plot FILE.svg: the latency distributions of the modes
 * overlaid, one panel per probe, log scales; a standalone SVG written
 * atomically. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compare.h"
#include "http.h"
#include "isolated/util.h"
#include "output.h"

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

const char *bench_svg_colour(size_t i)
{
	return svg_colour[i % ARRAY_SIZE(svg_colour)];
}

void bench_svg_text(struct sbuf *b, const char *s)
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
	sbuf_addf(b, "<polyline class=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"1.6\"%s points=\"", cls, colour,
		  extra);
	sbuf_addf(b, "%.1f,%.1f", ax_x(a, a->lx0 + first * per), base);
	for (unsigned k = first; k <= last; k++) {
		double y = bins[k] > 0 ? ax_y(a, log10(bins[k])) : base;

		sbuf_addf(b, " %.1f,%.1f %.1f,%.1f", ax_x(a, a->lx0 + k * per), y, ax_x(a, a->lx0 + (k + 1) * per), y);
	}
	sbuf_addf(b, " %.1f,%.1f\"><title>", ax_x(a, a->lx0 + (last + 1) * per), base);
	bench_svg_text(b, name);
	sbuf_adds(b, "</title></polyline>\n");
}

/* A label for a power of ten: "0.1", "1", "1000", "1e+06". */
static void decade_label(char *buf, size_t len, int k, double scale, const char *unit)
{
	snprintf(buf, len, "%g%s", pow(10, k) * scale, unit);
}

/* The plot's frame and its x axis: decades of log10 units labelled, the
 * axis named title. */
static void svg_x_axis(struct sbuf *b, const struct axes *a, const char *title)
{
	double top = a->y0 + PLOT_DY, bottom = top + PLOT_H;
	char lab[32];

	sbuf_addf(b, "<rect x=\"%d\" y=\"%.1f\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#444\"/>\n", PLOT_X0,
		  top, PLOT_X1 - PLOT_X0, PLOT_H);
	/* x: decades with labels, 2..9 as small ticks */
	for (int k = (int)lround(a->lx0); k <= (int)lround(a->lx1); k++) {
		double x = ax_x(a, k);

		if (k > lround(a->lx0) && k < lround(a->lx1))
			sbuf_addf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n", x,
				  top, x, bottom);
		sbuf_addf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#444\"/>\n", x, bottom, x,
			  bottom + 6);
		decade_label(lab, sizeof(lab), k, 1, "");
		sbuf_addf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n", x, bottom + 20, lab);
		for (int m = 2; m <= 9 && k < lround(a->lx1); m++) {
			double xm = ax_x(a, k + log10(m));

			sbuf_addf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#444\"/>\n", xm,
				  bottom, xm, bottom + 3);
		}
	}
	sbuf_addf(b, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"middle\">", (PLOT_X0 + PLOT_X1) / 2, bottom + 42);
	sbuf_addf(b, "%s (log scale)</text>\n", title);
}

static void svg_axes(struct sbuf *b, const struct axes *a, int p)
{
	double top = a->y0 + PLOT_DY;
	char lab[32];

	snprintf(lab, sizeof(lab), "%s, µs", bench_probe_title[p]);
	svg_x_axis(b, a, lab);
	/* y: decades of the share of samples, as percent */
	for (int k = (int)lround(a->ly0); k <= (int)lround(a->ly1); k++) {
		double y = ax_y(a, k);

		if (k > lround(a->ly0) && k < lround(a->ly1))
			sbuf_addf(b, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#ddd\"/>\n", PLOT_X0,
				  y, PLOT_X1, y);
		sbuf_addf(b, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#444\"/>\n", PLOT_X0 - 6, y,
			  PLOT_X0, y);
		decade_label(lab, sizeof(lab), k, 100, "%");
		sbuf_addf(b, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n", PLOT_X0 - 9, y + 4, lab);
	}
	sbuf_addf(b,
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

/* Mode m's curve and its p99 line, in colour i; its legend entry at ly. */
static void svg_mode(struct sbuf *b, const struct axes *a, const struct bench_mode_result *m, size_t i, int p,
		     double ly, double *bins)
{
	const char *colour = bench_svg_colour(i);
	struct us_stats s;
	char v1[32], v2[32];

	bench_probe_stats(&m->probe[p], &s);
	bin_hist(&m->probe[p].hist, a, bins);
	svg_steps(b, a, bins, colour, "mode", m->mode, "");
	if (s.samples) {
		double x = ax_x(a, log10(fmax(s.v[ST_P99], pow(10, a->lx0))));

		sbuf_addf(b,
			  "<line class=\"p99\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
			  "stroke-width=\"1.2\" stroke-dasharray=\"6 4\"/>\n",
			  x, a->y0 + PLOT_DY, x, a->y0 + PLOT_DY + PLOT_H, colour);
	}
	/* legend: the mode, then its p50 and p99 */
	sbuf_addf(b, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"3\"/>\n", LEGEND_X,
		  ly - 4, LEGEND_X + 24, ly - 4, colour);
	sbuf_addf(b, "<text class=\"legend\" x=\"%d\" y=\"%.1f\" font-weight=\"bold\">", LEGEND_X + 30, ly);
	bench_svg_text(b, m->mode);
	sbuf_adds(b, "</text>\n");
	if (s.samples)
		sbuf_addf(b, "<text x=\"%d\" y=\"%.1f\">p50 %s µs, p99 %s µs</text>\n", LEGEND_X + 30, ly + 15,
			  bench_fmt_us(v1, sizeof(v1), s.v[ST_P50]), bench_fmt_us(v2, sizeof(v2), s.v[ST_P99]));
	else
		sbuf_addf(b, "<text x=\"%d\" y=\"%.1f\">no samples</text>\n", LEGEND_X + 30, ly + 15);
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

	sbuf_addf(b, "<g class=\"panel\" id=\"%s\">\n", bench_probe_name[p]);
	sbuf_addf(b, "<text x=\"%d\" y=\"%.1f\" font-size=\"15\" font-weight=\"bold\">%s</text>\n", PLOT_X0, y0 + 24,
		  bench_probe_title[p]);
	if (!x_range(r, p, &a, &nmax)) {
		sbuf_addf(b, "<text x=\"%d\" y=\"%.1f\">no samples</text>\n</g>\n", PLOT_X0, y0 + PLOT_DY + 40);
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

		bench_probe_stats(&r->calibration[p], &s);
		sbuf_addf(b,
			  "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#999\" stroke-width=\"2\" "
			  "stroke-dasharray=\"2 2\"/>\n",
			  LEGEND_X, ly - 4, LEGEND_X + 24, ly - 4);
		sbuf_addf(b, "<text class=\"legend\" x=\"%d\" y=\"%.1f\">calibration (no load, no mode)</text>\n",
			  LEGEND_X + 30, ly);
		sbuf_addf(b, "<text x=\"%d\" y=\"%.1f\" fill=\"#555\">p50 %s µs, p99 %s µs</text>\n", LEGEND_X + 30,
			  ly + 15, bench_fmt_us(v1, sizeof(v1), s.v[ST_P50]),
			  bench_fmt_us(v2, sizeof(v2), s.v[ST_P99]));
		ly += step;
	}

	for (size_t i = 0; i < r->n_modes; i++) {
		svg_mode(b, &a, &r->modes[i], i, p, ly, bins);
		ly += step;
	}
	sbuf_addf(b,
		  "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#444\" stroke-dasharray=\"6 4\"/>\n"
		  "<text x=\"%d\" y=\"%.1f\" fill=\"#555\">each mode's p99</text>\n",
		  LEGEND_X, ly - 4, LEGEND_X + 24, ly - 4, LEGEND_X + 30, ly);
	sbuf_adds(b, "</g>\n");
	free(bins);
	return 0;
}

/* --workload http: httperf gives no distribution, so a row per mode (the
 * calibration first) of its connection time on a log axis: min to max a
 * thin line, avg +- stddev a bar, the median a dot, the avg a tick; with
 * --rounds each round's median and max as small marks, so the spread
 * shows. */
static void svg_http_row(struct sbuf *b, const struct axes *a, const struct bench_http *h, const char *name,
			 const char *colour, const struct bench_round *rounds, size_t n_rounds, double y)
{
	const double *c = h->conn_ms;
	double lo = fmax(c[HTTP_AVG] - c[HTTP_STDDEV], c[HTTP_MIN]),
	       hi = fmin(c[HTTP_AVG] + c[HTTP_STDDEV], c[HTTP_MAX]);
	double floor_ms = pow(10, a->lx0);

#define X(ms) ax_x(a, log10(fmax((ms), floor_ms)))
	sbuf_addf(b, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\" font-weight=\"bold\">", PLOT_X0 - 8, y + 4);
	bench_svg_text(b, name);
	sbuf_adds(b, "</text>\n");
	if (!h->ran || !h->conns) {
		sbuf_addf(b, "<text x=\"%d\" y=\"%.1f\">not measured</text>\n", PLOT_X0 + 8, y + 4);
		return;
	}
	sbuf_addf(b, "<g class=\"http-row\"><title>");
	bench_svg_text(b, name);
	sbuf_addf(b, ": connection time min %.1f, median %.1f, avg %.1f, stddev %.1f, max %.1f ms</title>\n",
		  c[HTTP_MIN], c[HTTP_MEDIAN], c[HTTP_AVG], c[HTTP_STDDEV], c[HTTP_MAX]);
	sbuf_addf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"1.5\"/>\n",
		  X(c[HTTP_MIN]), y, X(c[HTTP_MAX]), y, colour);
	sbuf_addf(b,
		  "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"10\" fill=\"%s\" fill-opacity=\"0.35\" "
		  "stroke=\"%s\"/>\n",
		  X(lo), y - 5, fmax(X(hi) - X(lo), 1), colour, colour);
	sbuf_addf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"2\"/>\n",
		  X(c[HTTP_AVG]), y - 9, X(c[HTTP_AVG]), y + 9, colour);
	sbuf_addf(b, "<circle class=\"median\" cx=\"%.1f\" cy=\"%.1f\" r=\"4.5\" fill=\"%s\"/>\n", X(c[HTTP_MEDIAN]), y,
		  colour);
	for (size_t i = 0; n_rounds > 1 && i < n_rounds; i++) {
		const struct bench_http *rh = &rounds[i].http;

		if (!rh->ran)
			continue;
		sbuf_addf(b,
			  "<circle class=\"round\" cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\"none\" stroke=\"%s\"/>\n"
			  "<rect class=\"round\" x=\"%.1f\" y=\"%.1f\" width=\"4\" height=\"4\" fill=\"none\" "
			  "stroke=\"%s\"/>\n",
			  X(rh->conn_ms[HTTP_MEDIAN]), y + 13, colour, X(rh->conn_ms[HTTP_MAX]) - 2, y + 11, colour);
	}
	sbuf_adds(b, "</g>\n");
	sbuf_addf(b, "<text x=\"%d\" y=\"%.1f\">median %.1f, avg %.1f, max %.1f ms</text>\n", LEGEND_X, y + 4,
		  c[HTTP_MEDIAN], c[HTTP_AVG], c[HTTP_MAX]);
#undef X
}

static int svg_http_panel(struct sbuf *b, const struct bench_result *r, double y0)
{
	struct axes a = {.y0 = y0};
	double lo = INFINITY, hi = 0, row;
	bool any = false;

	sbuf_addf(b, "<g class=\"panel\" id=\"http\">\n");
	sbuf_addf(b,
		  "<text x=\"%d\" y=\"%.1f\" font-size=\"15\" font-weight=\"bold\">HTTP connection time (httperf "
		  "against lighttpd)</text>\n",
		  PLOT_X0, y0 + 24);
	for (size_t i = 0; i <= r->n_modes; i++) {
		const struct bench_http *h = i < r->n_modes ? &r->modes[i].http : &r->http_calibration;

		if (!h->ran || !h->conns)
			continue;
		any = true;
		lo = fmin(lo, h->conn_ms[HTTP_MIN]);
		hi = fmax(hi, h->conn_ms[HTTP_MAX]);
		for (size_t k = 0; i < r->n_modes && k < r->modes[i].n_rounds; k++)
			if (r->modes[i].rounds[k].http.ran)
				hi = fmax(hi, r->modes[i].rounds[k].http.conn_ms[HTTP_MAX]);
	}
	if (!any) {
		sbuf_addf(b, "<text x=\"%d\" y=\"%.1f\">not measured</text>\n</g>\n", PLOT_X0, y0 + PLOT_DY + 40);
		return 0;
	}
	/* httperf gives 0.1 ms: the axis starts there at the lowest (0.0 is drawn
	 * at its left end) */
	a.lx0 = floor(log10(fmax(lo, 0.1)));
	a.lx1 = ceil(log10(fmax(hi, 0.1) * 1.001));
	if (a.lx1 <= a.lx0)
		a.lx1 = a.lx0 + 1;
	svg_x_axis(b, &a, "connection time, ms");
	row = PLOT_H / (double)(r->n_modes + 2);
	svg_http_row(b, &a, &r->http_calibration, "calibration", "#999", NULL, 0, y0 + PLOT_DY + row);
	for (size_t i = 0; i < r->n_modes; i++)
		svg_http_row(b, &a, &r->modes[i].http, r->modes[i].mode, bench_svg_colour(i), r->modes[i].rounds,
			     r->modes[i].n_rounds, y0 + PLOT_DY + row * (double)(i + 2));
	sbuf_addf(b,
		  "<text x=\"%d\" y=\"%.1f\" fill=\"#555\">line: min to max; bar: avg ± stddev; tick: avg; dot: "
		  "median (httperf's, from 1 ms bins: 0.5 is under 1 ms)</text>\n",
		  PLOT_X0, y0 + PLOT_DY + PLOT_H + 58);
	if (r->cfg.rounds > 1)
		sbuf_addf(b,
			  "<text x=\"%d\" y=\"%.1f\" fill=\"#555\">under each row: every round's median (circle) "
			  "and max (square)</text>\n",
			  PLOT_X0, y0 + PLOT_DY + PLOT_H + 74);
	sbuf_adds(b, "</g>\n");
	return 0;
}

static void svg_title(struct sbuf *b, const struct bench_result *r)
{
	const struct bench_config *c = &r->cfg;
	char load[128], d1[32], d2[32];

	sbuf_addf(b, "<text x=\"20\" y=\"26\" font-size=\"18\" font-weight=\"bold\">isoctl bench: ");
	for (size_t i = 0; i < r->n_modes; i++) {
		if (i)
			sbuf_adds(b, " vs ");
		bench_svg_text(b, r->modes[i].mode);
	}
	sbuf_adds(b, "</text>\n");
	bench_load_text(c, load, sizeof(load));
	sbuf_addf(b, "<text x=\"20\" y=\"47\">%s per mode after %s warm-up; load: ",
		  bench_fmt_seconds(d1, sizeof(d1), c->duration_s), bench_fmt_seconds(d2, sizeof(d2), c->warmup_s));
	bench_svg_text(b, load);
	sbuf_adds(b, "; RT CPUs ");
	bench_svg_text(b, c->rt_cpus);
	sbuf_adds(b, ", housekeeping ");
	bench_svg_text(b, c->housekeeping_cpus);
	sbuf_adds(b, "; scope ");
	bench_svg_text(b, c->scope);
	sbuf_adds(b, "; kernel ");
	bench_svg_text(b, c->kernel);
	sbuf_adds(b, "</text>\n");
	if (bench_workload_http(c)) {
		sbuf_addf(b,
			  "<text x=\"20\" y=\"66\" fill=\"#555\">lighttpd (the RT service) serving %s over %s; httperf "
			  "%u connections at %u/s per window; httperf reports no distribution, so its figures are drawn"
			  "</text>\n",
			  c->http_file ? c->http_file : "?", c->net ? c->net : "?", c->http_conns, c->http_rate);
	} else if (bench_workload_memcached(c)) {
		sbuf_addf(b,
			  "<text x=\"20\" y=\"66\" fill=\"#555\">memcached (the RT service) driven by memaslap, "
			  "%u concurrent requests over %s; its histogram has power-of-two buckets, so the curves are "
			  "spikes at their tops</text>\n",
			  c->mc_concurrency, c->net ? c->net : "?");
	} else {
		sbuf_addf(b, "<text x=\"20\" y=\"66\" fill=\"#555\">wakeup: timer every %u µs (", c->interval_us);
		bench_svg_text(b, bench_probe_tool(r));
		if (c->net)
			sbuf_addf(b, "); NetRT: UDP echo every %u..%u µs over %s", c->netrt_min_us, c->netrt_max_us,
				  c->net);
		else
			sbuf_adds(b, "); NetRT off");
		sbuf_adds(b, "</text>\n");
	}
	if (!bench_workload_http(c))
		sbuf_addf(b,
			  "<text x=\"20\" y=\"84\" fill=\"#555\">Curves: each mode's share of its samples per 1/%d "
			  "decade, so runs with different sample counts compare; dashed: each mode's p99.</text>\n",
			  BINS_PER_DECADE);
}

static char *svg_document(const struct bench_result *r)
{
	struct sbuf b = {0};
	bool http = bench_workload_http(&r->cfg);
	int n = 0, h;

	for (int p = 0; p < _BENCH_PROBE_MAX; p++)
		n += !http && bench_probe_of(&r->cfg, p);
	n += http;
	h = SVG_TITLE_H + n * PANEL_H;

	sbuf_addf(&b,
		  "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		  "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
		  "font-family=\"sans-serif\" font-size=\"12\">\n"
		  "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
		  SVG_W, h, SVG_W, h);
	svg_title(&b, r);
	n = 0;
	if (http && svg_http_panel(&b, r, SVG_TITLE_H) < 0)
		b.oom = true;
	for (int p = 0; !http && p < _BENCH_PROBE_MAX; p++)
		if (bench_probe_of(&r->cfg, p) && svg_panel(&b, r, p, SVG_TITLE_H + n++ * PANEL_H) < 0)
			b.oom = true;
	sbuf_adds(&b, "</svg>\n");
	return sbuf_take(&b);
}

int bench_write_svg(const char *path, const struct bench_result *r, char *err, size_t errlen)
{
	char *doc = svg_document(r);
	int ret;

	if (!doc) {
		util_set_err(err, errlen, "%s: out of memory", path);
		return -ENOMEM;
	}
	ret = bench_write_file(path, doc, err, errlen);
	free(doc);
	return ret;
}
