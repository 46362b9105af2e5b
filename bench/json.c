/* The document of isoctl bench --json (schema: tests/data/bench.schema.json). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compare.h"
#include "isolated/json.h"
#include "isolated/util.h"
#include "output.h"

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
	return jdone(&b, doc);
}
