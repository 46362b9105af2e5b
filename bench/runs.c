/* isoctl bench compare RUN.json RUN.json...: runs saved with --output, on
 * one host or several, in one table, each figure against the first run's
 * for the same mode. Runs whose configuration differs (duration, load,
 * probe interval, workload...) are compared all the same, with a warning
 * naming each difference: their figures are not comparable as they stand.
 * Reads only the files; needs no root and changes nothing. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "compare.h"
#include "output.h"
#include "isolated/util.h"
#include "runs.h"

/* A figure of a mode, where it is in the mode's object and its scale. */
struct figure {
	const char *title;
	const char *path; /* dot-separated keys under modes[] */
	double scale;	  /* shown as value / scale */
};

static const struct figure probe_figures[] = {
    {"wakeup latency p99, µs", "probes.wakeup.p99_us", 1},  {"wakeup latency max, µs", "probes.wakeup.max_us", 1},
    {"NetRT round trip p99, µs", "probes.netrt.p99_us", 1}, {"stream, MB/s", "load.stream_MBps", 1},
    {"CPU hogs, Mops/s", "load.hog_ops_per_s", 1e6},
};

static const struct figure http_figures[] = {
    {"HTTP connection time avg, ms", "http.conn_avg_ms", 1}, {"HTTP connection time max, ms", "http.conn_max_ms", 1},
    {"HTTP reply time, ms", "http.response_ms", 1},	     {"stream, MB/s", "load.stream_MBps", 1},
    {"CPU hogs, Mops/s", "load.hog_ops_per_s", 1e6},
};

/* memaslap's percentiles are the tops of power-of-two buckets: its
 * throughput and max say more between runs than a p50 that moves in
 * factors of two. */
static const struct figure memcached_figures[] = {
    {"memcached get p99 (bucket top), µs", "probes.get.p99_us", 1},
    {"memcached get max, µs", "probes.get.max_us", 1},
    {"memcached set p99 (bucket top), µs", "probes.set.p99_us", 1},
    {"memcached ops/s", "memcached.ops_per_s", 1},
    {"stream, MB/s", "load.stream_MBps", 1},
    {"CPU hogs, Mops/s", "load.hog_ops_per_s", 1e6},
};

/* The configuration keys that make two runs comparable, as the --json
 * document spells them (under config). */
static const char *const config_keys[] = {
    "workload",	    "duration_s", "warmup_s",	"load",	  "n_hogs",    "interval_us", "netrt_min_us",
    "netrt_max_us", "net",	  "probe_tool", "rounds", "http.rate", "http.conns",  "memcached.concurrency",
};

static json_object *at(json_object *o, const char *path)
{
	char key[64];

	while (o && *path) {
		size_t n = strcspn(path, ".");

		snprintf(key, sizeof(key), "%.*s", (int)n, path);
		if (!json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, key, &o))
			return NULL;
		path += n + (path[n] == '.');
	}
	return o;
}

static double number_at(json_object *o, const char *path)
{
	json_object *v = at(o, path);

	return v && (json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int))
		   ? json_object_get_double(v)
		   : NAN;
}

static const char *string_at(json_object *o, const char *path)
{
	json_object *v = at(o, path);

	return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

/* The mode named name in run doc; NULL when the run did not measure it. */
static json_object *mode_of(json_object *doc, const char *name)
{
	json_object *modes = at(doc, "modes");

	for (size_t i = 0; modes && i < json_object_array_length(modes); i++) {
		json_object *m = json_object_array_get_idx(modes, i);
		const char *n = string_at(m, "mode");

		if (n && strcmp(n, name) == 0)
			return m;
	}
	return NULL;
}

/* A configuration value as text into buf: an array as its words joined
 * by commas ("cpu,net", "none" when empty), a string as it is, "null". */
static const char *config_text(json_object *doc, const char *key, char *buf, size_t len)
{
	json_object *v = at(at(doc, "config"), key);
	size_t n = 0;

	if (!v)
		snprintf(buf, len, "null");
	else if (json_object_is_type(v, json_type_string))
		snprintf(buf, len, "%s", json_object_get_string(v));
	else if (!json_object_is_type(v, json_type_array))
		snprintf(buf, len, "%s", json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
	else if (json_object_array_length(v) == 0)
		snprintf(buf, len, "none");
	else
		for (size_t i = 0; i < json_object_array_length(v) && n < len; i++) {
			json_object *e = json_object_array_get_idx(v, i);
			int k = snprintf(buf + n, len - n, "%s%s", i ? "," : "",
					 json_object_is_type(e, json_type_string) ? json_object_get_string(e) : "?");

			n += k > 0 ? (size_t)k : 0;
		}
	return buf;
}

int bench_runs_load(const char *path, json_object **ret, char *err, size_t errlen)
{
	json_object *doc = json_object_from_file(path);
	json_object *v = at(doc, "version");

	if (!doc) {
		FILE *f = fopen(path, "re");

		if (!f)
			snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
		else
			snprintf(err, errlen, "%s: not JSON (%s)", path, json_util_get_last_err());
		if (f)
			fclose(f);
		return -EINVAL;
	}
	if (!v || json_object_get_int(v) != 1 || !json_object_is_type(at(doc, "modes"), json_type_array) ||
	    !json_object_is_type(at(doc, "config"), json_type_object)) {
		snprintf(err, errlen, "%s: not a run of isoctl bench (--output or --json, version 1)", path);
		json_object_put(doc);
		return -EINVAL;
	}
	*ret = doc;
	return 0;
}

static void print_runs(FILE *f, char *const *paths, json_object **docs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		json_object *d = docs[i];
		const char *kernel = string_at(d, "host.kernel"), *cpu = string_at(d, "host.cpu_model"),
			   *virt = string_at(d, "host.virtualization"), *wl = string_at(d, "config.workload");
		double cpus = number_at(d, "host.online_cpus"), dur = number_at(d, "config.duration_s");

		if (!kernel)
			kernel = string_at(d, "config.kernel");
		if (isnan(cpus))
			cpus = number_at(d, "config.online_cpus");
		fprintf(f, "run %zu  %s\n", i + 1, paths[i]);
		fprintf(f, "       host: kernel %s, %.0f online CPUs%s%s, virtualization %s\n", kernel ? kernel : "?",
			cpus, cpu ? ", " : "", cpu ? cpu : "", virt ? virt : "unknown");
		char load[64], rounds[16];

		fprintf(f, "       ran:  %s, %g s a mode, load %s, %s round(s)\n", wl ? wl : "probes", dur,
			config_text(d, "load", load, sizeof(load)), config_text(d, "rounds", rounds, sizeof(rounds)));
	}
}

/* Each configuration key whose value differs from the first run's. */
static int warn_config(FILE *f, char *const *paths, json_object **docs, size_t n)
{
	int k = 0;

	for (size_t c = 0; c < ARRAY_SIZE(config_keys); c++)
		for (size_t i = 1; i < n; i++) {
			char first[128], now[128];

			config_text(docs[0], config_keys[c], first, sizeof(first));
			config_text(docs[i], config_keys[c], now, sizeof(now));
			if (strcmp(first, now) == 0)
				continue;
			if (!k++)
				fputc('\n', f);
			fprintf(f, "warning: %s: %s is %s, in %s %s\n", paths[i], config_keys[c], now, paths[0], first);
		}
	if (k)
		fprintf(f,
			"warning: the runs differ in configuration: their figures are not comparable as they stand\n");
	return k;
}

/* The modes in the order the runs name them, each once. */
static char **mode_names(json_object **docs, size_t n)
{
	char **names = NULL;

	for (size_t i = 0; i < n; i++) {
		json_object *modes = at(docs[i], "modes");

		for (size_t j = 0; j < json_object_array_length(modes); j++) {
			const char *m = string_at(json_object_array_get_idx(modes, j), "mode");

			if (m && !strv_contains(names, m) && strv_push_dup(&names, m) < 0) {
				strv_free(names);
				return NULL;
			}
		}
	}
	return names;
}

static void print_figure(FILE *f, const struct figure *fig, char *const *names, json_object **docs, size_t n)
{
	int mw = 12;
	char b[32];

	for (size_t m = 0; names[m]; m++)
		if ((int)strlen(names[m]) > mw)
			mw = (int)strlen(names[m]);
	fprintf(f, "\n%s\n%-*s", fig->title, mw, "mode");
	for (size_t i = 0; i < n; i++) {
		snprintf(b, sizeof(b), "run %zu", i + 1);
		fprintf(f, " %11s", b);
	}
	fputc('\n', f);
	for (size_t m = 0; names[m]; m++) {
		double first = number_at(mode_of(docs[0], names[m]), fig->path) / fig->scale;

		fprintf(f, "%-*s", mw, names[m]);
		for (size_t i = 0; i < n; i++)
			fprintf(
			    f, " %11s",
			    bench_fmt_us(b, sizeof(b), number_at(mode_of(docs[i], names[m]), fig->path) / fig->scale));
		fprintf(f, "\n%-*s %11s", mw, "  vs run 1", "");
		for (size_t i = 1; i < n; i++) {
			double pct = bench_rel(first, number_at(mode_of(docs[i], names[m]), fig->path) / fig->scale);

			if (isfinite(pct))
				snprintf(b, sizeof(b), "%+.0f%%", round(pct) == 0 ? 0.0 : round(pct));
			else
				snprintf(b, sizeof(b), "-");
			fprintf(f, " %11s", strcmp(b, "+0%") == 0 ? "0%" : b);
		}
		fputc('\n', f);
	}
}

/* The figures of the first run's workload. */
static const struct figure *figures_of(json_object *first, size_t *ret_n)
{
	const char *wl = string_at(first, "config.workload");

	if (wl && strcmp(wl, "http") == 0) {
		*ret_n = ARRAY_SIZE(http_figures);
		return http_figures;
	}
	if (wl && strcmp(wl, "memcached") == 0) {
		*ret_n = ARRAY_SIZE(memcached_figures);
		return memcached_figures;
	}
	*ret_n = ARRAY_SIZE(probe_figures);
	return probe_figures;
}

int bench_runs_print(FILE *f, char *const *paths, json_object **docs, size_t n)
{
	size_t n_figs;
	const struct figure *figs = figures_of(docs[0], &n_figs);
	char **names = mode_names(docs, n);
	int warned;

	if (!names)
		return -ENOMEM;
	fprintf(f, "isoctl bench compare: %zu runs, each figure against run 1's for the same mode\n", n);
	print_runs(f, paths, docs, n);
	warned = warn_config(f, paths, docs, n);
	for (size_t i = 0; i < n_figs; i++)
		print_figure(f, &figs[i], names, docs, n);
	strv_free(names);
	return warned;
}

/* ---- the SVG: a panel per figure, a group of bars per mode, a bar per
 * run (its colour in the legend), each bar's value written at its end ---- */

#define RUNS_W 1000
#define RUNS_LABEL_W 130
#define RUNS_BAR_H 14
#define RUNS_TITLE_H 40

static void svg_figure(struct sbuf *b, const struct figure *fig, char *const *names, json_object **docs, size_t n,
		       double *y)
{
	double max = 0, width = RUNS_W - RUNS_LABEL_W - 110;
	char v[32];

	for (size_t m = 0; names[m]; m++)
		for (size_t i = 0; i < n; i++) {
			double x = number_at(mode_of(docs[i], names[m]), fig->path) / fig->scale;

			if (isfinite(x) && x > max)
				max = x;
		}
	*y += 28;
	sbuf_addf(b, "<text x=\"20\" y=\"%.0f\" font-weight=\"bold\">", *y);
	bench_svg_text(b, fig->title);
	sbuf_adds(b, "</text>\n");
	*y += 8;
	for (size_t m = 0; names[m]; m++) {
		double top = *y;

		sbuf_addf(b, "<text x=\"20\" y=\"%.0f\">", top + n * (RUNS_BAR_H + 2) / 2.0 + 4);
		bench_svg_text(b, names[m]);
		sbuf_adds(b, "</text>\n");
		for (size_t i = 0; i < n; i++) {
			double x = number_at(mode_of(docs[i], names[m]), fig->path) / fig->scale;
			double w = isfinite(x) && max > 0 ? width * x / max : 0;

			sbuf_addf(b,
				  "<rect class=\"run%zu\" x=\"%d\" y=\"%.0f\" width=\"%.1f\" height=\"%d\" "
				  "fill=\"%s\"><title>run %zu: %s</title></rect>\n",
				  i + 1, RUNS_LABEL_W, *y, w, RUNS_BAR_H, bench_svg_colour(i), i + 1,
				  bench_fmt_us(v, sizeof(v), x));
			sbuf_addf(b, "<text x=\"%.1f\" y=\"%.0f\" font-size=\"11\">%s</text>\n", RUNS_LABEL_W + w + 4,
				  *y + RUNS_BAR_H - 3, isfinite(x) ? v : "not measured");
			*y += RUNS_BAR_H + 2;
		}
		*y += 6;
	}
}

char *bench_runs_svg(char *const *paths, json_object **docs, size_t n)
{
	size_t n_figs;
	const struct figure *figs = figures_of(docs[0], &n_figs);
	char **names = mode_names(docs, n);
	struct sbuf body = {0}, b = {0};
	double y = RUNS_TITLE_H + 18.0 * (double)n;
	char *text;

	if (!names)
		return NULL;
	for (size_t i = 0; i < n_figs; i++)
		svg_figure(&body, &figs[i], names, docs, n, &y);
	strv_free(names);
	if (!(text = sbuf_take(&body)))
		return NULL;
	sbuf_addf(
	    &b,
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%.0f\" viewBox=\"0 0 %d %.0f\" "
	    "font-family=\"sans-serif\" font-size=\"12\">\n"
	    "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
	    "<text x=\"20\" y=\"26\" font-size=\"18\" font-weight=\"bold\">isoctl bench compare: %zu runs</text>\n",
	    RUNS_W, y + 20, RUNS_W, y + 20, n);
	/* The legend: a run's colour, its file and host. */
	for (size_t i = 0; i < n; i++) {
		const char *kernel = string_at(docs[i], "host.kernel"),
			   *virt = string_at(docs[i], "host.virtualization");
		char load[64];

		sbuf_addf(&b, "<rect x=\"20\" y=\"%.0f\" width=\"12\" height=\"12\" fill=\"%s\"/>\n",
			  RUNS_TITLE_H + 18.0 * (double)i, bench_svg_colour(i));
		sbuf_addf(&b, "<text x=\"38\" y=\"%.0f\">run %zu: ", RUNS_TITLE_H + 18.0 * (double)i + 10, i + 1);
		bench_svg_text(&b, paths[i]);
		sbuf_adds(&b, " (kernel ");
		bench_svg_text(&b, kernel ? kernel : "?");
		sbuf_adds(&b, ", ");
		bench_svg_text(&b, virt ? virt : "virtualization unknown");
		sbuf_adds(&b, "; load ");
		bench_svg_text(&b, config_text(docs[i], "load", load, sizeof(load)));
		sbuf_adds(&b, ")</text>\n");
	}
	sbuf_adds(&b, text);
	sbuf_adds(&b, "</svg>\n");
	free(text);
	return sbuf_take(&b);
}
