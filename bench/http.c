/* --workload http: lighttpd, the RT service, and httperf, its client.
 *
 * lighttpd is started once, before the first mode is applied, so that the
 * modes find it: it is a child of the bench (in its process scope) and its
 * process name is the site's rt_process, which the shipped modes give the
 * RT vCPU's place. It serves one small static file on the server side of
 * the bench's network (a private namespace; nothing of the host's network
 * is touched).
 *
 * httperf runs once per measurement window, started after the apply, so no
 * mode governs it: the bench pins it to the housekeeping CPUs itself, at
 * nice -20, as the research ran its client on another machine. httperf
 * polls without sleeping, so it takes a housekeeping CPU whole while it
 * runs; its own delays count in what it reports, and the best-effort load
 * on those CPUs is measured beside it. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "http.h"
#include "program.h"
#include "runner.h"
#include "spread.h"

/* ---- httperf's report ---- */

/* The number after " KEY " or " KEY=" on the first line of out that starts
 * with prefix ("Connection time [ms]: min 0.1 avg 0.3", key "avg"); NAN
 * when there is none. */
static double field(const char *out, const char *prefix, const char *key)
{
	size_t plen = strlen(prefix), klen = strlen(key);

	for (const char *line = out; line && *line;) {
		const char *end = strchr(line, '\n'), *at = line;

		if (!end)
			end = line + strlen(line);
		if (strncmp(line, prefix, plen) == 0) {
			while ((at = memchr(at, ' ', (size_t)(end - at)))) {
				char *stop;
				double d;

				at++;
				if ((size_t)(end - at) <= klen || strncmp(at, key, klen) != 0 ||
				    (at[klen] != ' ' && at[klen] != '='))
					continue;
				d = strtod(at + klen + 1, &stop);
				return stop != at + klen + 1 && stop <= end ? d : NAN;
			}
			return NAN;
		}
		line = *end ? end + 1 : NULL;
	}
	return NAN;
}

static uint64_t count(double d)
{
	return d > 0 && isfinite(d) ? (uint64_t)llround(d) : 0;
}

static double num(double d)
{
	return isfinite(d) ? d : 0;
}

int bench_http_parse(const char *out, struct bench_http *ret)
{
	static const char *const conn_k[_HTTP_CONN_MAX] = {"min", "avg", "max", "median", "stddev"};
	static const char *const rate_k[4] = {"min", "avg", "max", "stddev"};
	struct bench_http h = {.ran = true};
	const char *p;

	h.duration_s = field(out, "Total:", "test-duration");
	if (isnan(h.duration_s))
		return -EINVAL;
	for (int i = 0; i < _HTTP_CONN_MAX; i++)
		if (isnan(h.conn_ms[i] = field(out, "Connection time [ms]: min", conn_k[i])))
			return -EINVAL;
	h.conns = count(field(out, "Total:", "connections"));
	h.requests = count(field(out, "Total:", "requests"));
	h.replies = count(field(out, "Total:", "replies"));
	h.conn_rate = num(field(out, "Connection rate:", "rate:"));
	h.connect_ms = num(field(out, "Connection time [ms]: connect", "connect"));
	for (int i = 0; i < 4; i++)
		h.reply_rate[i] = num(field(out, "Reply rate [replies/s]:", rate_k[i]));
	if ((p = strstr(out, "Reply rate [replies/s]:")) && (p = strchr(p, '(')))
		h.reply_rate_samples = (unsigned)count(strtod(p + 1, NULL));
	h.response_ms = num(field(out, "Reply time [ms]:", "response"));
	h.transfer_ms = num(field(out, "Reply time [ms]:", "transfer"));
	h.status_2xx = count(field(out, "Reply status:", "2xx"));
	h.errors = count(field(out, "Errors: total", "total"));
	h.client_timo = count(field(out, "Errors: total", "client-timo"));
	h.connrefused = count(field(out, "Errors: total", "connrefused"));
	h.connreset = count(field(out, "Errors: total", "connreset"));
	h.cpu_pct = num(field(out, "CPU time [s]:", "total"));
	*ret = h;
	return 0;
}

void bench_http_combine(const struct bench_round *rounds, size_t n, struct bench_http *ret)
{
	struct bench_http c = {0};
	double sum_avg = 0, sum_resp = 0, sum_transfer = 0, sum_connect = 0, ss = 0, *med;
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		const struct bench_http *h = &rounds[i].http;

		if (!h->ran)
			continue;
		c.conn_ms[HTTP_MIN] = k ? fmin(c.conn_ms[HTTP_MIN], h->conn_ms[HTTP_MIN]) : h->conn_ms[HTTP_MIN];
		c.conn_ms[HTTP_MAX] = k++ ? fmax(c.conn_ms[HTTP_MAX], h->conn_ms[HTTP_MAX]) : h->conn_ms[HTTP_MAX];
		c.conns += h->conns;
		c.requests += h->requests;
		c.replies += h->replies;
		c.status_2xx += h->status_2xx;
		c.errors += h->errors;
		c.client_timo += h->client_timo;
		c.connrefused += h->connrefused;
		c.connreset += h->connreset;
		c.duration_s += h->duration_s;
		c.conn_rate += h->conn_rate;
		c.cpu_pct += h->cpu_pct;
		for (int j = 0; j < 4; j++)
			c.reply_rate[j] += h->reply_rate[j];
		c.reply_rate_samples += h->reply_rate_samples;
		sum_avg += (double)h->conns * h->conn_ms[HTTP_AVG];
		sum_connect += (double)h->conns * h->connect_ms;
		sum_resp += (double)h->replies * h->response_ms;
		sum_transfer += (double)h->replies * h->transfer_ms;
	}
	if (!k) {
		*ret = c;
		return;
	}
	c.ran = true;
	c.conn_rate /= (double)k;
	c.cpu_pct /= (double)k;
	for (int j = 0; j < 4; j++)
		c.reply_rate[j] /= (double)k;
	c.conn_ms[HTTP_AVG] = c.conns ? sum_avg / (double)c.conns : 0;
	c.connect_ms = c.conns ? sum_connect / (double)c.conns : 0;
	c.response_ms = c.replies ? sum_resp / (double)c.replies : 0;
	c.transfer_ms = c.replies ? sum_transfer / (double)c.replies : 0;
	/* Pooled: the rounds' squared deviations about their own means and
	 * their means' about the overall one. */
	for (size_t i = 0; i < n; i++) {
		const struct bench_http *h = &rounds[i].http;
		double d = h->conn_ms[HTTP_AVG] - c.conn_ms[HTTP_AVG];

		if (h->ran && h->conns)
			ss += (double)(h->conns - 1) * h->conn_ms[HTTP_STDDEV] * h->conn_ms[HTTP_STDDEV] +
			      (double)h->conns * d * d;
	}
	c.conn_ms[HTTP_STDDEV] = c.conns > 1 ? sqrt(ss / (double)(c.conns - 1)) : 0;
	med = malloc(k * sizeof(*med));
	if (med) {
		size_t m = 0;

		for (size_t i = 0; i < n; i++)
			if (rounds[i].http.ran)
				med[m++] = rounds[i].http.conn_ms[HTTP_MEDIAN];
		c.conn_ms[HTTP_MEDIAN] = spread_median(med, m);
		free(med);
	} else
		c.conn_ms[HTTP_MEDIAN] = NAN;
	*ret = c;
}

/* ---- lighttpd ---- */

static int write_file(const char *dir, const char *name, const char *text)
{
	char path[PATH_MAX];
	FILE *f;
	int r = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (!(f = fopen(path, "wxe")))
		return -errno;
	if (fputs(text, f) == EOF)
		r = -errno;
	if (fclose(f) == EOF && !r)
		r = -errno;
	return r;
}

/* 1 KiB of text: a small static page, as the research served. */
static char *page(void)
{
	static const char line[] = "isoctl bench --workload http: a small static page served by lighttpd.\n";
	size_t n = 1024 / (sizeof(line) - 1) + 1, len = n * (sizeof(line) - 1);
	char *s = malloc(len + 1);

	if (!s)
		return NULL;
	for (size_t i = 0; i < n; i++)
		memcpy(s + i * (sizeof(line) - 1), line, sizeof(line) - 1);
	s[1024] = '\0';
	s[1023] = '\n';
	return s;
}

static int write_site(struct bench *b, char *err, size_t errlen)
{
	char tmpl[] = "/tmp/isobench-http.XXXXXX", www[PATH_MAX], *conf = NULL, *html = page();
	int r = 0;

	if (!html)
		return -ENOMEM;
	if (!mkdtemp(tmpl)) {
		r = -errno;
		util_set_err(err, errlen, "a directory for lighttpd: %s", strerror(errno));
		free(html);
		return r;
	}
	b->http_dir = strdup(tmpl);
	snprintf(www, sizeof(www), "%s/www", tmpl);
	conf = util_sprintf("# isoctl bench --workload http (pid %d): removed when the bench ends\n"
			    "server.document-root = \"%s\"\n"
			    "server.bind = \"%s\"\n"
			    "server.port = %d\n"
			    "server.errorlog = \"%s/error.log\"\n"
			    "index-file.names = (\"index.html\")\n"
			    "mimetype.assign = (\".html\" => \"text/html\")\n",
			    (int)getpid(), www, b->net.server_addr, BENCH_HTTP_PORT, tmpl);
	if (!b->http_dir || !conf) {
		r = -ENOMEM;
		goto out;
	}
	if (mkdir(www, 0755) < 0 || (r = write_file(www, "index.html", html)) < 0 ||
	    (r = write_file(tmpl, "lighttpd.conf", conf)) < 0) {
		r = r < 0 ? r : -errno;
		util_set_err(err, errlen, "lighttpd's files in %s: %s", tmpl, strerror(-r));
		goto out;
	}
	r = 0;
out:
	free(conf);
	free(html);
	return r;
}

int bench_http_start(struct bench *b)
{
	char err[512] = "", conf[PATH_MAX];

	if (write_site(b, err, sizeof(err)) < 0) {
		b->env->err("bench: %s", err[0] ? err : "out of memory");
		return BENCH_FAIL;
	}
	snprintf(conf, sizeof(conf), "%s/lighttpd.conf", b->http_dir);
	if (!(b->server_log = util_sprintf("%s/error.log", b->http_dir))) {
		b->env->err("out of memory");
		return BENCH_FAIL;
	}
	return bench_server_start(b, "lighttpd", (char *const[]){b->server_bin, "-D", "-f", conf, NULL},
				  BENCH_HTTP_PORT);
}

void bench_http_stop(struct bench *b)
{
	bench_server_stop(b);
	free(b->server_log);
	b->server_log = NULL;
	if (b->http_dir) {
		static const char *const files[] = {"www/index.html", "www", "lighttpd.conf", "error.log"};
		char path[PATH_MAX];

		for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
			snprintf(path, sizeof(path), "%s/%s", b->http_dir, files[i]);
			if (remove(path) < 0 && errno != ENOENT)
				b->env->err("bench: cannot remove %s: %s", path, strerror(errno));
		}
		if (rmdir(b->http_dir) < 0)
			b->env->err("bench: cannot remove %s: %s", b->http_dir, strerror(errno));
		free(b->http_dir);
		b->http_dir = NULL;
	}
}

int bench_http_run(struct bench *b, unsigned conns, struct bench_http *ret)
{
	const struct bench_config *cfg = &b->r.cfg;
	char server[32], port[16], nconns[16], rate[16], *out = NULL;
	int r = -1;

	snprintf(server, sizeof(server), "%s", b->net.server_addr);
	snprintf(port, sizeof(port), "%d", BENCH_HTTP_PORT);
	snprintf(nconns, sizeof(nconns), "%u", conns);
	snprintf(rate, sizeof(rate), "%u", cfg->http_rate);
	/* Its run is conns / rate long; 5 s of timeout and 10 s to spare. */
	if (bench_client_run(b, "httperf",
			     (char *const[]){b->client_bin, "--server", server, "--port", port, "--uri", BENCH_HTTP_URI,
					     "--num-conns", nconns, "--rate", rate, "--timeout", "5", NULL},
			     (double)conns / cfg->http_rate + 15, &out) < 0)
		return -1;
	if (bench_http_parse(out, ret) < 0)
		b->env->err("bench: httperf's report has no \"Total:\" or \"Connection time\" line");
	else
		r = 0;
	free(out);
	return r;
}
