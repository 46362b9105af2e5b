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
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "http.h"
#include "isolated/cpuset.h"
#include "runner.h"

/* ---- httperf's report ---- */

/* The numbers after each word of keys on the line that starts with
 * prefix: "min 0.1 avg 0.3" with keys {"min", "avg"}. Returns how many. */
static int fields(const char *out, const char *prefix, const char *const *keys, double *v, int n)
{
	const char *line = out;
	int found = 0;

	while (line && *line) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);

		if (strncmp(line, prefix, strlen(prefix)) == 0) {
			char buf[512];

			snprintf(buf, sizeof(buf), "%.*s", (int)(len < sizeof(buf) ? len : sizeof(buf) - 1), line);
			for (int i = 0; i < n; i++) {
				char pat[64];
				const char *at;

				snprintf(pat, sizeof(pat), " %s", keys[i]);
				at = buf;
				while ((at = strstr(at, pat))) {
					char *stop;
					double d;

					at += strlen(pat);
					if (*at != ' ' && *at != '=')
						continue;
					d = strtod(at + 1, &stop);
					if (stop != at + 1) {
						v[i] = d;
						found++;
					}
					break;
				}
			}
			return found;
		}
		line = end ? end + 1 : NULL;
	}
	return 0;
}

static uint64_t count(double d)
{
	return d > 0 && isfinite(d) ? (uint64_t)llround(d) : 0;
}

int bench_http_parse(const char *out, struct bench_http *ret)
{
	static const char *const total_k[] = {"connections", "requests", "replies", "test-duration"};
	static const char *const conn_k[] = {"min", "avg", "max", "median", "stddev"};
	static const char *const rate_k[] = {"min", "avg", "max", "stddev"};
	static const char *const reply_k[] = {"response", "transfer"};
	static const char *const err_k[] = {"total", "client-timo", "connrefused", "connreset"};
	double total[4] = {0}, err[4] = {0}, samples = 0;
	struct bench_http h = {0};
	const char *p;

	if (fields(out, "Total:", total_k, total, 4) < 4 ||
	    fields(out, "Connection time [ms]: min", conn_k, h.conn_ms, _HTTP_CONN_MAX) < _HTTP_CONN_MAX)
		return -EINVAL;
	h.ran = true;
	h.conns = count(total[0]);
	h.requests = count(total[1]);
	h.replies = count(total[2]);
	h.duration_s = total[3];
	if ((p = strstr(out, "Connection rate: ")))
		h.conn_rate = strtod(p + strlen("Connection rate: "), NULL);
	if ((p = strstr(out, "Connection time [ms]: connect ")))
		h.connect_ms = strtod(p + strlen("Connection time [ms]: connect "), NULL);
	fields(out, "Reply rate [replies/s]:", rate_k, h.reply_rate, 4);
	if ((p = strstr(out, "Reply rate [replies/s]:")) && (p = strchr(p, '(')))
		samples = strtod(p + 1, NULL);
	h.reply_rate_samples = (unsigned)count(samples);
	{
		double rt[2] = {0};

		fields(out, "Reply time [ms]:", reply_k, rt, 2);
		h.response_ms = rt[0];
		h.transfer_ms = rt[1];
	}
	{
		double st[1] = {0};

		fields(out, "Reply status:", (const char *const[]){"2xx"}, st, 1);
		h.status_2xx = count(st[0]);
	}
	fields(out, "Errors: total", err_k, err, 4);
	h.errors = count(err[0]);
	h.client_timo = count(err[1]);
	h.connrefused = count(err[2]);
	h.connreset = count(err[3]);
	if ((p = strstr(out, "CPU time [s]:")) && (p = strstr(p, "total ")))
		h.cpu_pct = strtod(p + strlen("total "), NULL);
	*ret = h;
	return 0;
}

static double median_of(double *v, size_t n)
{
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && v[j - 1] > v[j]; j--) {
			double t = v[j];

			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

void bench_http_combine(const struct bench_http *rounds, size_t n, struct bench_http *ret)
{
	struct bench_http c = {0};
	double sum_avg = 0, sum_resp = 0, sum_transfer = 0, sum_connect = 0, ss = 0, *med;
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		const struct bench_http *h = &rounds[i];

		if (!h->ran)
			continue;
		if (!k++) {
			c.conn_ms[HTTP_MIN] = h->conn_ms[HTTP_MIN];
			c.conn_ms[HTTP_MAX] = h->conn_ms[HTTP_MAX];
		}
		c.conn_ms[HTTP_MIN] = fmin(c.conn_ms[HTTP_MIN], h->conn_ms[HTTP_MIN]);
		c.conn_ms[HTTP_MAX] = fmax(c.conn_ms[HTTP_MAX], h->conn_ms[HTTP_MAX]);
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
	if (k == 1) {
		for (size_t i = 0; i < n; i++)
			if (rounds[i].ran)
				c = rounds[i];
		*ret = c;
		return;
	}
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
		const struct bench_http *h = &rounds[i];
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
			if (rounds[i].ran)
				med[m++] = rounds[i].conn_ms[HTTP_MEDIAN];
		c.conn_ms[HTTP_MEDIAN] = median_of(med, m);
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

/* The last line of lighttpd's error log, for a message. */
static void last_log_line(const struct bench *b, char *buf, size_t len)
{
	char path[PATH_MAX], line[512];
	FILE *f;

	buf[0] = '\0';
	snprintf(path, sizeof(path), "%s/error.log", b->http_dir ? b->http_dir : "");
	if (!(f = fopen(path, "re")))
		return;
	while (fgets(line, sizeof(line), f))
		if (line[0] && line[0] != '\n') {
			line[strcspn(line, "\n")] = '\0';
			snprintf(buf, len, "%s", line);
		}
	fclose(f);
}

int bench_http_alive(struct bench *b)
{
	char why[512];
	int status;

	if (b->http_pid <= 0 || waitpid(b->http_pid, &status, WNOHANG) != b->http_pid)
		return 0;
	b->http_pid = 0;
	last_log_line(b, why, sizeof(why));
	b->env->err("bench: lighttpd ended (%s %d)%s%s", WIFEXITED(status) ? "exit status" : "signal",
		    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), why[0] ? ": " : "", why);
	return -1;
}

/* A connection from the client side succeeds. */
static bool answers(const struct bench *b)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(BENCH_HTTP_PORT)};
	int fd = bench_net_socket(&b->net, false, SOCK_STREAM);
	bool ok;

	if (fd < 0)
		return false;
	inet_pton(AF_INET, b->net.server_addr, &a.sin_addr);
	ok = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	close(fd);
	return ok;
}

/* In a child: into the namespace of one side of the bench's network. */
static void enter_side(const struct bench *b, bool server)
{
	if (setns(server ? b->net.ns_server : b->net.ns_client, CLONE_NEWNET) < 0)
		_exit(126);
}

static pid_t spawn(struct bench *b, bool server, char *const argv[], int out_fd)
{
	pid_t pid = bench_fork();

	if (pid != 0)
		return pid;
	enter_side(b, server);
	if (out_fd >= 0 && (dup2(out_fd, STDOUT_FILENO) < 0 || dup2(out_fd, STDERR_FILENO) < 0))
		_exit(126);
	if (!server) {
		/* The client: on the housekeeping CPUs, ahead of the load there. */
		struct cpuset hk = {0};
		cpu_set_t set;
		char msg[128];

		CPU_ZERO(&set);
		if (cpuset_parse_list(b->r.cfg.housekeeping_cpus, &hk, msg, sizeof(msg)) == 0)
			for (int c = cpuset_next(&hk, -1); c >= 0 && c < CPU_SETSIZE; c = cpuset_next(&hk, c))
				CPU_SET(c, &set);
		if (CPU_COUNT(&set))
			sched_setaffinity(0, sizeof(set), &set);
		setpriority(PRIO_PROCESS, 0, -20);
	}
	execv(argv[0], argv);
	dprintf(STDERR_FILENO, "%s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

int bench_http_start(struct bench *b)
{
	char err[512] = "", conf[PATH_MAX];
	uint64_t deadline;

	if (write_site(b, err, sizeof(err)) < 0) {
		b->env->err("bench: %s", err[0] ? err : "out of memory");
		return BENCH_FAIL;
	}
	snprintf(conf, sizeof(conf), "%s/lighttpd.conf", b->http_dir);
	b->http_pid = spawn(b, true, (char *const[]){b->http_server_bin, "-D", "-f", conf, NULL}, -1);
	if (b->http_pid < 0) {
		b->http_pid = 0;
		b->env->err("bench: fork: %s", strerror(errno));
		return BENCH_FAIL;
	}
	deadline = bench_now_ns() + 10 * NSEC_PER_SEC;
	while (!answers(b)) {
		if (bench_http_alive(b) < 0 || bench_interrupted)
			return BENCH_FAIL;
		if (bench_now_ns() > deadline) {
			b->env->err("bench: lighttpd does not answer on %s:%d within 10 s", b->net.server_addr,
				    BENCH_HTTP_PORT);
			return BENCH_FAIL;
		}
		usleep(10000);
	}
	return BENCH_OK;
}

void bench_http_stop(struct bench *b)
{
	if (b->http_pid > 0) {
		uint64_t deadline = bench_now_ns() + 2 * NSEC_PER_SEC;
		int status;

		kill(b->http_pid, SIGTERM);
		while (waitpid(b->http_pid, &status, WNOHANG) == 0) {
			if (bench_now_ns() > deadline) {
				kill(b->http_pid, SIGKILL);
				waitpid(b->http_pid, &status, 0);
				break;
			}
			usleep(10000);
		}
		b->http_pid = 0;
	}
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
	size_t len = 0, cap = 0;
	uint64_t deadline;
	int fds[2], status = 0, r = -1;
	pid_t pid;

	snprintf(server, sizeof(server), "%s", b->net.server_addr);
	snprintf(port, sizeof(port), "%d", BENCH_HTTP_PORT);
	snprintf(nconns, sizeof(nconns), "%u", conns);
	snprintf(rate, sizeof(rate), "%u", cfg->http_rate);
	if (pipe2(fds, O_CLOEXEC) < 0) {
		b->env->err("bench: pipe: %s", strerror(errno));
		return -1;
	}
	pid = spawn(b, false,
		    (char *const[]){b->http_client_bin, "--server", server, "--port", port, "--uri", cfg->http_file,
				    "--num-conns", nconns, "--rate", rate, "--timeout", "5", NULL},
		    fds[1]);
	close(fds[1]);
	if (pid < 0) {
		b->env->err("bench: fork: %s", strerror(errno));
		close(fds[0]);
		return -1;
	}
	/* Its run is conns / rate long; 5 s of timeout and 10 s to spare. */
	deadline = bench_now_ns() + (uint64_t)((double)conns / cfg->http_rate + 15) * NSEC_PER_SEC;
	for (;;) {
		struct pollfd p = {.fd = fds[0], .events = POLLIN};
		ssize_t n;

		if (bench_interrupted || bench_kids_alive(b) < 0 || bench_http_alive(b) < 0)
			goto kill;
		if (bench_now_ns() > deadline) {
			b->env->err("bench: httperf did not finish %u connections at %u/s in time", conns,
				    cfg->http_rate);
			goto kill;
		}
		if (poll(&p, 1, 50) <= 0)
			continue;
		if (len + 4096 > cap) {
			char *nb = realloc(out, cap = cap * 2 + 8192);

			if (!nb)
				goto kill;
			out = nb;
		}
		n = read(fds[0], out + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	waitpid(pid, &status, 0);
	pid = 0;
	if (out)
		out[len] = '\0';
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		const char *line = out ? out : "";
		const char *last = strrchr(line, '\n') && strrchr(line, '\n')[1] ? strrchr(line, '\n') + 1 : line;

		b->env->err("bench: httperf failed (%s %d)%s%.200s", WIFEXITED(status) ? "exit status" : "signal",
			    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), *last ? ": " : "", last);
		goto done;
	}
	if (!out || bench_http_parse(out, ret) < 0) {
		b->env->err("bench: httperf's report has no \"Total:\" or \"Connection time\" line");
		goto done;
	}
	r = 0;
	goto done;
kill:
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
	}
done:
	close(fds[0]);
	free(out);
	return r;
}
