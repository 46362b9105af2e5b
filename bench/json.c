/* The document of isoctl bench --json (schema: tests/data/bench.schema.json). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compare.h"
#include "isolated/util.h"
#include "output.h"

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

	bench_probe_stats(p, &s);
	jset(b, o, "samples", juint(b, s.samples));
	for (int i = 0; i < _ST_MAX; i++) {
		snprintf(key, sizeof(key), "%s_us", bench_st_key[i]);
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

		bench_probe_stats(&a->probe[p], &sa);
		bench_probe_stats(&m->probe[p], &sm);
		for (int i = 0; i < _ST_MAX; i++) {
			snprintf(key, sizeof(key), "%s_pct", bench_st_key[i]);
			jset(b, po, key, jnum(b, bench_stat_rel(&sa, &sm, i), 1));
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
