/* The numbers every output of the bench shows: a probe's statistics in
 * microseconds, relative changes against the first mode, the few words
 * and formats the table and the plot share, and how an output file is
 * written. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compare.h"
#include "isolated/util.h"

const char *const bench_probe_name[_BENCH_PROBE_MAX] = {"wakeup", "netrt", "get", "set"};
const char *const bench_probe_title[_BENCH_PROBE_MAX] = {"wakeup latency", "NetRT round trip", "memcached get",
							 "memcached set"};
const char *const bench_st_title[_ST_MAX] = {"mean", "p50", "p99", "p99.9", "max", "stddev"};
const char *const bench_st_key[_ST_MAX] = {"mean", "p50", "p99", "p999", "max", "stddev"};

double bench_rel(double a, double b)
{
	if (!isfinite(a) || !isfinite(b) || a <= 0 || b < 0)
		return NAN;
	return (b - a) / a * 100.0;
}

void bench_probe_stats(const struct bench_probe_result *p, struct us_stats *ret)
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

double bench_stat_rel(const struct us_stats *a, const struct us_stats *b, int i)
{
	if (a->samples == 0 || b->samples == 0)
		return NAN;
	return bench_rel(a->v[i], b->v[i]);
}

bool bench_probe_ran(const struct bench_result *r, int p)
{
	if (!bench_probe_of(&r->cfg, p))
		return false;
	if (bench_workload_memcached(&r->cfg) || r->cfg.net || r->calibration[p].hist.count)
		return true;
	for (size_t i = 0; i < r->n_modes; i++)
		if (r->modes[i].probe[p].hist.count)
			return true;
	return p == BENCH_WAKEUP;
}

const char *bench_probe_tool(const struct bench_result *r)
{
	return r->cfg.probe_tool ? r->cfg.probe_tool : "isolated";
}

void bench_load_text(const struct bench_config *c, char *buf, size_t len)
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

const char *bench_fmt_us(char *buf, size_t len, double v)
{
	if (!isfinite(v))
		snprintf(buf, len, "-");
	else if (v < 999.95)
		snprintf(buf, len, "%.1f", v);
	else
		snprintf(buf, len, "%.0f", v);
	return buf;
}

const char *bench_fmt_seconds(char *buf, size_t len, double s)
{
	snprintf(buf, len, "%g s", s);
	return buf;
}

int bench_write_file(const char *path, const char *text, char *err, size_t errlen)
{
	const char *slash = strrchr(path, '/'), *name = slash ? slash + 1 : path;
	char *dir = NULL, *tmp = NULL;
	enum util_write_step step = UTIL_WRITE_CREATE;
	int dfd = -1, ret = -ENOMEM;

	/* A temporary file beside the target, renamed over it: a reader never
	 * sees half a file, and a failure leaves nothing behind. */
	dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
	if (dir)
		tmp = util_sprintf(".%s.isoctl-tmp", name);
	if (!tmp) {
		util_set_err(err, errlen, "%s: out of memory", path);
		goto out;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ret = dfd < 0 ? -errno
		      : util_write_replace(dfd, name, text, strlen(text),
					   &(struct util_replace){.tmp = tmp, .mode = 0644, .sync = true}, &step);
	if (ret < 0)
		util_set_err(err, errlen, "cannot %s %s: %s", step <= UTIL_WRITE_CREATE ? "create" : "write", path,
			     strerror(-ret));
out:
	if (dfd >= 0)
		close(dfd);
	free(tmp);
	free(dir);
	return ret;
}
