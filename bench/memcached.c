/* --workload memcached: memcached, the RT service, and memaslap, its
 * client.
 *
 * memcached is started once, before the first mode is applied, so that the
 * modes find it: it is a child of the bench (in its process scope), its
 * process name the site's rt_process, which the shipped modes give the RT
 * vCPU's place; one worker thread, on the server side of the bench's
 * network, as user nobody.
 *
 * memaslap runs once per window on the client side (program.c), one thread
 * with BENCH_MC_CONCURRENCY requests in flight, its default mix (nine gets
 * to a set). It is closed-loop: each answer sends the next request, so it
 * keeps a housekeeping CPU busy and its rate is what the round trips allow.
 * Two things of memaslap 1.1 shape how it is run: it times requests only
 * with a statistics period (-S), so the period is the window; and its
 * --tps limit never takes effect (it compares an integer division of
 * operations by microseconds, 0 below 10^6 per second), so there is no
 * fixed rate to offer.
 *
 * Its latencies come as a histogram with power-of-two buckets; the get and
 * set probes hold them at the buckets' tops, so their percentiles are upper
 * bounds a factor of two apart, while count, min, max, mean and standard
 * deviation are memaslap's exact figures. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memcached.h"
#include "program.h"
#include "runner.h"

/* ---- memaslap's report ---- */

/* The line after the first line of out that starts with prefix (after
 * blanks), or NULL. */
static const char *find_line(const char *out, const char *prefix)
{
	size_t plen = strlen(prefix);

	for (const char *line = out; line && *line;) {
		const char *p = line + strspn(line, " \t"), *end = strchr(line, '\n');

		if (strncmp(p, prefix, plen) == 0)
			return p;
		line = end ? end + 1 : NULL;
	}
	return NULL;
}

/* "   Key:   N" in block: N into *ret; false when missing. */
static bool block_num(const char *block, const char *end, const char *key, double *ret)
{
	const char *p = find_line(block, key);
	char *stop;

	if (!p || (end && p > end))
		return false;
	*ret = strtod(p + strlen(key), &stop);
	return stop != p + strlen(key);
}

/* The block "NAME Statistics (N events)" (memaslap prints it at the end;
 * the period tables before it have no "("). */
static int parse_block(const char *out, const char *name, struct bench_mc_stats *s)
{
	char head[64];
	const char *block, *end, *dist;
	double min, max, avg, std;
	char *stop;

	*s = (struct bench_mc_stats){0};
	snprintf(head, sizeof(head), "%s Statistics (", name);
	if (!(block = find_line(out, head)))
		return -EINVAL;
	s->events = strtoull(block + strlen(head), &stop, 10);
	if (stop == block + strlen(head))
		return -EINVAL;
	block = strchr(block, '\n');
	if (!block)
		return -EINVAL;
	end = strstr(block, "\n\n");
	if (s->events == 0)
		return 0; /* memaslap prints no figures for none */
	if (!block_num(block, end, "Min:", &min) || !block_num(block, end, "Max:", &max) ||
	    !block_num(block, end, "Avg:", &avg) || !block_num(block, end, "Std:", &std) ||
	    !(dist = find_line(block, "Log2 Dist:")) || (end && dist > end))
		return -EINVAL;
	s->min_us = (uint64_t)min;
	s->max_us = (uint64_t)max;
	s->avg_us = (uint64_t)avg;
	s->std_us = std;
	/* Rows "  I:   n n n n" up to the blank line: I the first bucket. */
	for (const char *line = strchr(dist, '\n'); line && (!end || line < end);) {
		const char *p = line + 1, *eol = strchr(p, '\n');
		long i = strtol(p, &stop, 10);

		if (stop == p || *stop != ':' || i < 0 || i >= 64)
			break;
		/* the numbers of this line only (strtoull would skip the
		 * newline into the next row's index) */
		for (p = stop + 1; i < 64;) {
			unsigned long long n = strtoull(p, &stop, 10);

			if (stop == p || (eol && stop > eol))
				break;
			s->dist[i++] = n;
			p = stop;
		}
		line = eol;
	}
	return 0;
}

int bench_mc_parse(const char *out, struct bench_mc_stats *get, struct bench_mc_stats *set, struct bench_memcached *mc)
{
	struct bench_memcached m = {.ran = true};
	const char *p;
	double v;

	if (parse_block(out, "Get", get) < 0 || parse_block(out, "Set", set) < 0 || !(p = find_line(out, "Run time:")))
		return -EINVAL;
	m.run_s = strtod(p + strlen("Run time:"), NULL);
	if ((p = strstr(p, "Ops:")))
		m.ops = strtoull(p + 4, NULL, 10);
	if (p && (p = strstr(p, "TPS:")))
		m.ops_per_s = strtod(p + 4, NULL);
	if (block_num(out, NULL, "cmd_get:", &v))
		m.gets = (uint64_t)v;
	if (block_num(out, NULL, "cmd_set:", &v))
		m.sets = (uint64_t)v;
	if (block_num(out, NULL, "get_misses:", &v))
		m.get_misses = (uint64_t)v;
	*mc = m;
	return 0;
}

void bench_mc_hist(const struct bench_mc_stats *s, struct hist *h)
{
	uint64_t n = 0;
	double mean, var;

	hist_init(h);
	for (int i = 0; i < 64; i++) {
		uint64_t top = i < 44 ? (1ULL << i) : UINT64_MAX / 1000;

		if (!s->dist[i])
			continue;
		/* The bucket's top, 1 ns under it so the histogram's own
		 * bucket ends there; the maximum where it falls. */
		if (top >= s->max_us)
			hist_record_n(h, s->max_us * 1000, s->dist[i]);
		else
			hist_record_n(h, top * 1000 - 1, s->dist[i]);
		n += s->dist[i];
	}
	if (!n)
		return;
	mean = (double)s->avg_us * 1000;
	var = s->std_us * 1000 * s->std_us * 1000;
	h->min = s->min_us * 1000;
	h->max = s->max_us * 1000;
	h->sum = (uint64_t)llround(mean * (double)n);
	h->sumsq = (unsigned __int128)((var + mean * mean) * (double)n);
}

void bench_mc_combine(const struct bench_round *rounds, size_t n, struct bench_memcached *ret)
{
	struct bench_memcached c = {0};
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		const struct bench_memcached *m = &rounds[i].mc;

		if (!m->ran)
			continue;
		k++;
		c.ops += m->ops;
		c.gets += m->gets;
		c.sets += m->sets;
		c.get_misses += m->get_misses;
		c.run_s += m->run_s;
		c.ops_per_s += m->ops_per_s;
	}
	if (k) {
		c.ran = true;
		c.ops_per_s /= (double)k;
	}
	*ret = c;
}

/* ---- memcached and memaslap ---- */

int bench_mc_start(struct bench *b)
{
	char port[16], threads[16];

	snprintf(port, sizeof(port), "%d", BENCH_MC_PORT);
	snprintf(threads, sizeof(threads), "%d", BENCH_MC_THREADS);
	/* -U 0: no UDP; -u nobody: memcached will not run as root. */
	return bench_server_start(b, "memcached",
				  (char *const[]){b->server_bin, "-u", "nobody", "-l", b->net.server_addr, "-p", port,
						  "-U", "0", "-t", threads, "-m", "64", NULL},
				  BENCH_MC_PORT);
}

int bench_mc_run(struct bench *b, double seconds, struct bench_probe_result *res, struct bench_memcached *mc)
{
	struct bench_mc_stats get, set;
	char server[48], conc[16], time[16], *out = NULL;
	unsigned s = seconds < 1 ? 1 : (unsigned)ceil(seconds);
	int r = -1;

	snprintf(server, sizeof(server), "%s:%d", b->net.server_addr, BENCH_MC_PORT);
	snprintf(conc, sizeof(conc), "%u", b->r.cfg.mc_concurrency);
	snprintf(time, sizeof(time), "%us", s);
	if (bench_client_run(
		b, "memaslap",
		(char *const[]){b->client_bin, "-s", server, "-T", "1", "-c", conc, "-t", time, "-S", time, NULL},
		s + 15.0, &out) < 0)
		return -1;
	if (bench_mc_parse(out, &get, &set, mc) < 0) {
		b->env->err("bench: memaslap's report has no \"Get Statistics (\", \"Set Statistics (\" or "
			    "\"Run time:\" line");
		goto out;
	}
	for (int p = 0; p < _BENCH_PROBE_MAX; p++) {
		hist_init(&res[p].hist);
		res[p].lost = 0;
	}
	bench_mc_hist(&get, &res[BENCH_MC_GET].hist);
	bench_mc_hist(&set, &res[BENCH_MC_SET].hist);
	r = 0;
out:
	free(out);
	return r;
}
