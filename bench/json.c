/* The document of isoctl bench --json (schema: tests/data/bench.schema.json). */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compare.h"
#include "http.h"
#include "memcached.h"
#include "isolated/json.h"
#include "isolated/util.h"
#include "output.h"
#include "program.h"
#include "spread.h"

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
	jset(b, o, "rounds", juint(b, c->rounds ? c->rounds : 1));
	jset(b, o, "workload", jstr(b, c->workload ? c->workload : "probes"));
	if (bench_workload_http(c)) {
		json_object *h = jobj(b);

		jset(b, h, "server", jstr(b, BENCH_HTTP_SERVER));
		jset(b, h, "client", jstr(b, BENCH_HTTP_CLIENT));
		jset(b, h, "uri", jstr(b, c->http_file));
		jset(b, h, "rate", juint(b, c->http_rate));
		jset(b, h, "conns", juint(b, c->http_conns));
		jset(b, h, "client_cpus", jstr(b, c->housekeeping_cpus));
		jset(b, h, "client_nice", json_object_new_int(BENCH_CLIENT_NICE));
		jset(b, o, "http", h);
	} else
		jset(b, o, "http", NULL);
	if (bench_workload_memcached(c)) {
		json_object *h = jobj(b);

		jset(b, h, "server", jstr(b, BENCH_MC_SERVER));
		jset(b, h, "server_threads", juint(b, BENCH_MC_THREADS));
		jset(b, h, "client", jstr(b, BENCH_MC_CLIENT));
		jset(b, h, "concurrency", juint(b, c->mc_concurrency));
		jset(b, h, "client_cpus", jstr(b, c->housekeeping_cpus));
		jset(b, h, "client_nice", json_object_new_int(BENCH_CLIENT_NICE));
		jset(b, h, "histogram", jstr(b, "log2"));
		jset(b, o, "memcached", h);
	} else
		jset(b, o, "memcached", NULL);
	return o;
}

/* What identifies the host: kernel, CPU model, online CPUs,
 * virtualization, boot command line (null where unknown). */
static json_object *json_host(struct jb *b, const struct bench_config *c)
{
	json_object *o = jobj(b);

	jset(b, o, "kernel", jstr(b, c->kernel));
	jset(b, o, "kernel_version", jstr(b, c->host.kernel_version));
	jset(b, o, "cpu_model", jstr(b, c->host.cpu_model));
	jset(b, o, "online_cpus", juint(b, c->online_cpus));
	jset(b, o, "virtualization", jstr(b, c->host.virtualization));
	jset(b, o, "cmdline", jstr(b, c->host.cmdline));
	return o;
}

static const char *const http_conn_key[_HTTP_CONN_MAX] = {"conn_min_ms", "conn_avg_ms", "conn_max_ms", "conn_median_ms",
							  "conn_stddev_ms"};

/* httperf's figures of a window (null when it did not run). */
static json_object *json_http(struct jb *b, const struct bench_http *h)
{
	static const char *const rate_key[4] = {"min", "avg", "max", "stddev"};
	json_object *o, *rate;

	if (!h->ran)
		return NULL;
	o = jobj(b);
	rate = jobj(b);
	jset(b, o, "conns", juint(b, h->conns));
	jset(b, o, "requests", juint(b, h->requests));
	jset(b, o, "replies", juint(b, h->replies));
	jset(b, o, "status_2xx", juint(b, h->status_2xx));
	jset(b, o, "errors", juint(b, h->errors));
	jset(b, o, "client_timo", juint(b, h->client_timo));
	jset(b, o, "connrefused", juint(b, h->connrefused));
	jset(b, o, "connreset", juint(b, h->connreset));
	jset(b, o, "duration_s", jnum(b, h->duration_s, 3));
	jset(b, o, "conn_rate", jnum(b, h->conn_rate, 1));
	for (int i = 0; i < _HTTP_CONN_MAX; i++)
		jset(b, o, http_conn_key[i], jnum(b, h->conn_ms[i], 1));
	jset(b, o, "connect_ms", jnum(b, h->connect_ms, 1));
	jset(b, o, "response_ms", jnum(b, h->response_ms, 1));
	jset(b, o, "transfer_ms", jnum(b, h->transfer_ms, 1));
	for (int i = 0; i < 4; i++)
		jset(b, rate, rate_key[i], jnum(b, h->reply_rate_samples ? h->reply_rate[i] : NAN, 1));
	jset(b, rate, "samples", juint(b, h->reply_rate_samples));
	jset(b, o, "reply_rate", rate);
	jset(b, o, "client_cpu_pct", jnum(b, h->cpu_pct, 1));
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

/* The probes of the run's workload. */
static json_object *json_probes(struct jb *b, const struct bench_config *c, const struct bench_probe_result *p)
{
	json_object *o = jobj(b);

	for (int i = 0; i < _BENCH_PROBE_MAX; i++)
		if (bench_probe_of(c, i))
			jset(b, o, bench_probe_name[i], json_probe(b, &p[i]));
	return o;
}

/* memaslap's counts of a window (null when it did not run). */
static json_object *json_memcached(struct jb *b, const struct bench_memcached *mc)
{
	json_object *o;

	if (!mc->ran)
		return NULL;
	o = jobj(b);
	jset(b, o, "ops", juint(b, mc->ops));
	jset(b, o, "gets", juint(b, mc->gets));
	jset(b, o, "sets", juint(b, mc->sets));
	jset(b, o, "get_misses", juint(b, mc->get_misses));
	jset(b, o, "run_s", jnum(b, mc->run_s, 1));
	jset(b, o, "ops_per_s", jnum(b, mc->ops_per_s, 0));
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

static json_object *json_relative(struct jb *b, const struct bench_config *c, const struct bench_mode_result *a,
				  const struct bench_mode_result *m)
{
	json_object *o = jobj(b);
	char key[32];

	jset(b, o, "against", jstr(b, a->mode));
	for (int p = 0; p < _BENCH_PROBE_MAX; p++) {
		json_object *po;
		struct us_stats sa, sm;

		if (!bench_probe_of(c, p))
			continue;
		po = jobj(b);
		bench_probe_stats(&a->probe[p], &sa);
		bench_probe_stats(&m->probe[p], &sm);
		for (int i = 0; i < _ST_MAX; i++) {
			snprintf(key, sizeof(key), "%s_pct", bench_st_key[i]);
			jset(b, po, key, jnum(b, bench_stat_rel(&sa, &sm, i), 1));
		}
		jset(b, o, bench_probe_name[p], po);
	}
	if (a->http.ran && m->http.ran) {
		json_object *h = jobj(b);

		for (int i = 0; i < _HTTP_CONN_MAX; i++) {
			snprintf(key, sizeof(key), "%s_pct", http_conn_key[i]);
			jset(b, h, key, jnum(b, bench_rel(a->http.conn_ms[i], m->http.conn_ms[i]), 1));
		}
		jset(b, h, "response_ms_pct", jnum(b, bench_rel(a->http.response_ms, m->http.response_ms), 1));
		jset(b, o, "http", h);
	} else
		jset(b, o, "http", NULL);
	if (a->mc.ran && m->mc.ran) {
		json_object *h = jobj(b);

		jset(b, h, "ops_per_s_pct", jnum(b, bench_rel(a->mc.ops_per_s, m->mc.ops_per_s), 1));
		jset(b, o, "memcached", h);
	} else
		jset(b, o, "memcached", NULL);
	jset(b, o, "stream_pct", jnum(b, bench_rel(a->stream_MBps, m->stream_MBps), 1));
	jset(b, o, "hog_ops_pct", jnum(b, bench_rel(a->hog_ops, m->hog_ops), 1));
	return o;
}

static const char *const round_key[_BENCH_STAT_MAX] = {"p50_us", "p99_us", "p999_us", "max_us"};

/* Each round's figures, in the order measured. */
static json_object *json_rounds(struct jb *b, const struct bench_config *c, const struct bench_mode_result *m)
{
	json_object *a = jarr(b);

	for (size_t i = 0; i < m->n_rounds; i++) {
		const struct bench_round *rd = &m->rounds[i];
		json_object *o = jobj(b);

		for (int p = 0; p < _BENCH_PROBE_MAX; p++) {
			json_object *po;

			if (!bench_probe_of(c, p))
				continue;
			po = jobj(b);
			for (int k = 0; k < _BENCH_STAT_MAX; k++)
				jset(b, po, round_key[k], jnum(b, (double)rd->stat[p][k] / 1000, 3));
			jset(b, o, bench_probe_name[p], po);
		}
		jset(b, o, "stream_MBps", jnum(b, rd->stream_MBps < 0 ? NAN : rd->stream_MBps, 3));
		jset(b, o, "hog_ops_per_s", jnum(b, rd->hog_ops < 0 ? NAN : rd->hog_ops, 1));
		jset(b, o, "http", json_http(b, &rd->http));
		jset(b, o, "memcached", json_memcached(b, &rd->mc));
		jpush(b, a, o);
	}
	return a;
}

/* {"median", "min", "max", "lo", "hi", "bootstrap", "differs"}; null when
 * there is nothing to spread (no rounds, a load that was off). differs:
 * against the first mode, its interval and this one's apart. */
static json_object *json_spread(struct jb *b, int r, const struct spread *s, int r0, const struct spread *first,
				bool is_first)
{
	json_object *o;

	if (r < 0)
		return NULL;
	o = jobj(b);
	jset(b, o, "median", jnum(b, s->median, 3));
	jset(b, o, "min", jnum(b, s->min, 3));
	jset(b, o, "max", jnum(b, s->max, 3));
	jset(b, o, "lo", jnum(b, s->lo, 3));
	jset(b, o, "hi", jnum(b, s->hi, 3));
	jset(b, o, "bootstrap", json_object_new_boolean(s->bootstrap));
	jset(b, o, "differs", json_object_new_boolean(!is_first && r0 >= 0 && spread_differs(first, s)));
	return o;
}

static json_object *json_spreads(struct jb *b, const struct bench_config *c, const struct bench_mode_result *first,
				 const struct bench_mode_result *m)
{
	json_object *o = jobj(b);
	struct spread s, f;
	int r, r0;

	for (int p = 0; p < _BENCH_PROBE_MAX; p++) {
		json_object *po;

		if (!bench_probe_of(c, p))
			continue;
		po = jobj(b);
		for (int k = 0; k < _BENCH_STAT_MAX; k++) {
			r = bench_spread_probe(m, p, k, &s);
			r0 = bench_spread_probe(first, p, k, &f);
			jset(b, po, round_key[k], json_spread(b, r, &s, r0, &f, m == first));
		}
		jset(b, o, bench_probe_name[p], po);
	}
	r = bench_spread_load(m, true, &s);
	r0 = bench_spread_load(first, true, &f);
	jset(b, o, "stream_MBps", json_spread(b, r, &s, r0, &f, m == first));
	r = bench_spread_load(m, false, &s);
	r0 = bench_spread_load(first, false, &f);
	jset(b, o, "hog_ops_per_s", json_spread(b, r, &s, r0, &f, m == first));
	if (m->n_rounds && m->rounds[0].mc.ran) {
		json_object *h = jobj(b);

		r = bench_spread_memcached(m, &s);
		r0 = bench_spread_memcached(first, &f);
		jset(b, h, "ops_per_s", json_spread(b, r, &s, r0, &f, m == first));
		jset(b, o, "memcached", h);
	} else
		jset(b, o, "memcached", NULL);
	if (m->n_rounds && m->rounds[0].http.ran) {
		json_object *h = jobj(b);

		for (int k = 0; k <= _HTTP_CONN_MAX; k++) {
			r = bench_spread_http(m, k, &s);
			r0 = bench_spread_http(first, k, &f);
			jset(b, h, k < _HTTP_CONN_MAX ? http_conn_key[k] : "response_ms",
			     json_spread(b, r, &s, r0, &f, m == first));
		}
		jset(b, o, "http", h);
	} else
		jset(b, o, "http", NULL);
	return o;
}

json_object *bench_json(const struct bench_result *r)
{
	struct jb b = {0};
	json_object *doc = jobj(&b), *cal = jobj(&b), *modes = jarr(&b);

	jset(&b, doc, "version", juint(&b, 1));
	jset(&b, doc, "config", json_config(&b, &r->cfg));
	jset(&b, doc, "host", json_host(&b, &r->cfg));
	jset(&b, cal, "clock_read_ns", jnum(&b, r->clock_read_ns, 1));
	jset(&b, cal, "record_ns", jnum(&b, r->record_ns, 1));
	jset(&b, cal, "probes", json_probes(&b, &r->cfg, r->calibration));
	jset(&b, cal, "http", json_http(&b, &r->http_calibration));
	jset(&b, cal, "memcached", json_memcached(&b, &r->mc_calibration));
	jset(&b, doc, "calibration", cal);
	for (size_t i = 0; i < r->n_modes; i++) {
		const struct bench_mode_result *m = &r->modes[i];
		json_object *o = jobj(&b);

		jset(&b, o, "mode", jstr(&b, m->mode));
		jset(&b, o, "measured_s", jnum(&b, m->measured_s, 3));
		jset(&b, o, "changed", juint(&b, m->n_changed));
		if (m->have_policy_crc32) {
			char crc[9];

			snprintf(crc, sizeof(crc), "%08" PRIx32, m->policy_crc32);
			jset(&b, o, "policy_crc32", jstr(&b, crc));
		} else
			jset(&b, o, "policy_crc32", NULL);
		jset(&b, o, "probes", json_probes(&b, &r->cfg, m->probe));
		jset(&b, o, "http", json_http(&b, &m->http));
		jset(&b, o, "memcached", json_memcached(&b, &m->mc));
		jset(&b, o, "load", json_load(&b, m));
		jset(&b, o, "relative", i ? json_relative(&b, &r->cfg, &r->modes[0], m) : NULL);
		jset(&b, o, "rounds", json_rounds(&b, &r->cfg, m));
		jset(&b, o, "spread", json_spreads(&b, &r->cfg, &r->modes[0], m));
		jpush(&b, modes, o);
	}
	jset(&b, doc, "modes", modes);
	return jdone(&b, doc);
}
