/* The bench's options: read from its argv (as isoctl hands them over),
 * then checked into struct bench_config with the defaults filled in. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "isolated/util.h"
#include "http.h"
#include "memcached.h"
#include "runner.h"

/* "20", "20s", "2m", "500ms" -> milliseconds in [min_ms, max_ms]. */
static int parse_ms(const char *s, unsigned long long min_ms, unsigned long long max_ms, unsigned long long *ret)
{
	static const struct {
		const char *unit;
		unsigned long long ms;
	} units[] = {{"", 1000}, {"s", 1000}, {"ms", 1}, {"m", 60000}, {"min", 60000}};
	unsigned long long n = 0;
	const char *p = s;

	for (; *p >= '0' && *p <= '9'; p++)
		if ((n = n * 10 + (unsigned long long)(*p - '0')) > 100000000ULL)
			return -ERANGE;
	if (p == s)
		return -EINVAL;
	for (size_t i = 0; i < ARRAY_SIZE(units); i++)
		if (strcmp(p, units[i].unit) == 0) {
			n *= units[i].ms;
			if (n < min_ms || n > max_ms)
				return -ERANGE;
			*ret = n;
			return 0;
		}
	return -EINVAL;
}

static int opt_duration(const struct bench_env *env, const char *name, const char *arg, unsigned long long min_ms,
			unsigned long long max_ms, const char *range, double *ret)
{
	unsigned long long ms;
	int r;

	if (!arg)
		return BENCH_OK;
	r = parse_ms(arg, min_ms, max_ms, &ms);
	if (r == -ERANGE) {
		env->err("--%s %s: %s", name, arg, range);
		return BENCH_USAGE;
	}
	if (r < 0) {
		env->err("--%s %s: not a duration (20s, 2m, 500ms; a plain number is seconds)", name, arg);
		return BENCH_USAGE;
	}
	*ret = (double)ms / 1000.0;
	return BENCH_OK;
}

static int opt_number(const struct bench_env *env, const char *name, const char *arg, long min, long max, unsigned *ret)
{
	long v;

	if (!arg)
		return BENCH_OK;
	if (util_parse_long(arg, min, max, &v) < 0) {
		env->err("--%s %s: a number from %ld to %ld", name, arg, min, max);
		return BENCH_USAGE;
	}
	*ret = (unsigned)v;
	return BENCH_OK;
}

/* prog's full path: in $PATH, or in the sbin directories a user's PATH
 * may lack (lighttpd is in /usr/sbin); NULL if none. */
char *bench_find_program(const char *prog)
{
	const char *path = getenv("PATH");
	char *copy, *save = NULL, *found = NULL;

	if (!(copy = util_sprintf("%s:/usr/sbin:/sbin", path ? path : "/usr/bin:/bin")))
		return NULL;
	for (char *dir = strtok_r(copy, ":", &save); dir && !found; dir = strtok_r(NULL, ":", &save)) {
		found = util_sprintf("%s/%s", dir, prog);
		if (found && access(found, X_OK) != 0) {
			free(found);
			found = NULL;
		}
	}
	free(copy);
	return found;
}

static bool on_path(const char *prog)
{
	char *f = bench_find_program(prog);

	free(f);
	return f != NULL;
}

/* A workload's server and client found, or which package has them. */
static int find_programs(struct bench *b, const char *workload, const char *const progs[2][3])
{
	for (size_t i = 0; i < 2; i++) {
		char **bin = i ? &b->client_bin : &b->server_bin;

		/* progs[i]: the program, another name of it or NULL, the
		 * package */
		if (!(*bin = bench_find_program(progs[i][0])) && progs[i][1])
			*bin = bench_find_program(progs[i][1]);
		if (!*bin) {
			b->env->err("--workload %s: %s is not installed (apt-get install %s)", workload, progs[i][0],
				    progs[i][2]);
			return BENCH_FAIL;
		}
	}
	return BENCH_OK;
}

/* --workload: the probes; http or memcached with their two programs
 * found. */
static int opt_workload(struct bench *b)
{
	static const char *const http[2][3] = {{BENCH_HTTP_SERVER, NULL, "lighttpd"},
					       {BENCH_HTTP_CLIENT, NULL, "httperf"}};
	static const char *const mc[2][3] = {{BENCH_MC_SERVER, NULL, "memcached"},
					     {BENCH_MC_CLIENT, BENCH_MC_CLIENT_UPSTREAM, "libmemcached-tools"}};
	const struct bench_env *env = b->env;
	const struct bench_opts *a = &b->opt;
	struct bench_config *cfg = &b->r.cfg;
	int r;

	cfg->workload = "probes";
	if (a->workload && strcmp(a->workload, "http") == 0)
		cfg->workload = "http";
	else if (a->workload && strcmp(a->workload, "memcached") == 0)
		cfg->workload = "memcached";
	else if (a->workload && strcmp(a->workload, "probes") != 0) {
		env->err("--workload %s: probes (the default), http or memcached", a->workload);
		return BENCH_USAGE;
	}
	if (!bench_workload_http(cfg) && (a->rate || a->conns)) {
		env->err("--rate and --conns: options of --workload http");
		return BENCH_USAGE;
	}
	if (strcmp(cfg->workload, "probes") == 0)
		return BENCH_OK;
	if (a->probe || a->interval) {
		env->err("--%s: an option of the probes; --workload %s measures %s with %s",
			 a->probe ? "probe" : "interval", cfg->workload,
			 bench_workload_http(cfg) ? "lighttpd" : "memcached",
			 bench_workload_http(cfg) ? "httperf" : "memaslap");
		return BENCH_USAGE;
	}
	if (bench_workload_memcached(cfg)) {
		cfg->mc_concurrency = BENCH_MC_CONCURRENCY;
		/* memaslap runs whole seconds */
		cfg->duration_s = ceil(cfg->duration_s);
		return find_programs(b, "memcached", mc);
	}
	cfg->http_rate = 10;
	if ((r = opt_number(env, "rate", a->rate, 1, 10000, &cfg->http_rate)) != BENCH_OK)
		return r;
	cfg->http_conns = (unsigned)llround(cfg->http_rate * cfg->duration_s);
	if (a->conns) {
		if ((r = opt_number(env, "conns", a->conns, 1, 1000000, &cfg->http_conns)) != BENCH_OK)
			return r;
		if (a->duration) {
			env->err("--conns and --duration: give one (a window of --workload http is --conns "
				 "connections at --rate, %u per second)",
				 cfg->http_rate);
			return BENCH_USAGE;
		}
		cfg->duration_s = (double)cfg->http_conns / cfg->http_rate;
	}
	if ((r = find_programs(b, "http", http)) != BENCH_OK)
		return r;
	cfg->http_file = BENCH_HTTP_URI;
	return BENCH_OK;
}

/* --load: a list of cpu and net, or none. */
static int opt_load(const struct bench_env *env, const char *arg, struct bench_config *cfg)
{
	char *copy, *save = NULL;

	cfg->load_cpu = cfg->load_net = false;
	if (strcmp(arg, "none") == 0)
		return BENCH_OK;
	if (!(copy = strdup(arg)))
		return BENCH_FAIL;
	for (char *w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		if (strcmp(w, "cpu") == 0)
			cfg->load_cpu = true;
		else if (strcmp(w, "net") == 0)
			cfg->load_net = true;
		else {
			env->err("--load %s: a list of cpu and net, or none", arg);
			free(copy);
			return BENCH_USAGE;
		}
	}
	free(copy);
	return BENCH_OK;
}

int bench_configure(struct bench *b)
{
	const struct bench_env *env = b->env;
	const struct bench_opts *a = &b->opt;
	struct bench_config *cfg = &b->r.cfg;
	int r;

	cfg->duration_s = 20;
	cfg->warmup_s = 2;
	cfg->interval_us = 1000;
	cfg->netrt_min_us = 1000;
	cfg->netrt_max_us = 10000;
	cfg->probe_tool = "isolated";
	cfg->net = "veth";
	cfg->load_cpu = cfg->load_net = true;
	cfg->rounds = 1;
	if ((r = opt_duration(env, "duration", a->duration, 1000, 3600000, "from 1s to 1h", &cfg->duration_s)) ||
	    (r = opt_duration(env, "warmup", a->warmup, 0, 600000, "from 0 to 10m", &cfg->warmup_s)) ||
	    (r = opt_number(env, "interval", a->interval, 100, 1000000, &cfg->interval_us)) ||
	    (r = opt_number(env, "hogs", a->hogs, 0, 128, &cfg->n_hogs)) ||
	    (r = opt_number(env, "rounds", a->rounds, 1, 100, &cfg->rounds)))
		return r;
	if (a->probe) {
		if (strcmp(a->probe, "cyclictest") == 0)
			cfg->probe_tool = "cyclictest";
		else if (strcmp(a->probe, "isolated") != 0) {
			env->err("--probe %s: isolated or cyclictest", a->probe);
			return BENCH_USAGE;
		}
	}
	if (a->net) {
		if (strcmp(a->net, "loopback") == 0)
			cfg->net = "loopback";
		else if (strcmp(a->net, "veth") != 0) {
			env->err("--net %s: veth or loopback", a->net);
			return BENCH_USAGE;
		}
	}
	if (a->load && (r = opt_load(env, a->load, cfg)) != BENCH_OK)
		return r;
	if ((r = opt_workload(b)) != BENCH_OK)
		return r;
	if (strcmp(cfg->probe_tool, "cyclictest") == 0) {
		if (fmod(cfg->duration_s, 1.0) != 0) {
			env->err("--duration %s: cyclictest measures whole seconds", a->duration);
			return BENCH_USAGE;
		}
		if (!on_path("cyclictest")) {
			env->err("--probe cyclictest: cyclictest is not installed (apt-get install rt-tests)");
			return BENCH_FAIL;
		}
	}
	if (env->scope && strcmp(env->scope, "host") != 0) {
		env->err("--scope %s: bench takes only --scope host (by default the modes govern the bench's own "
			 "processes)",
			 env->scope);
		return BENCH_USAGE;
	}
	if (env->json && a->csv) {
		env->err("--json and --csv: choose one");
		return BENCH_USAGE;
	}
	if (env->root) {
		env->err("--root: bench measures the running kernel, not a tree");
		return BENCH_USAGE;
	}
	cfg->calibration_s = cfg->duration_s < 2 ? cfg->duration_s : 2;
	return BENCH_OK;
}

int bench_opts_parse(struct bench *b, int argc, char **argv, int *ret_first)
{
	static const struct option opts[] = {BENCH_LONG_OPTIONS, {NULL, 0, NULL, 0}};
	struct bench_opts *o = &b->opt;
#define AT(opt) [BENCH_OPT_##opt - BENCH_OPT_FIRST]
	const char **value[BENCH_OPT_COUNT] = {
	    AT(DURATION) = &o->duration, AT(WARMUP) = &o->warmup,     AT(INTERVAL) = &o->interval,
	    AT(PROBE) = &o->probe,	 AT(NET) = &o->net,	      AT(LOAD) = &o->load,
	    AT(HOGS) = &o->hogs,	 AT(RT_CPUS) = &o->rt_cpus,   AT(PLOT) = &o->plot,
	    AT(ROUNDS) = &o->rounds,	 AT(WORKLOAD) = &o->workload, AT(RATE) = &o->rate,
	    AT(CONNS) = &o->conns,	 AT(OUTPUT) = &o->output,
	};
	bool *flag[BENCH_OPT_COUNT] = {AT(KEEP_IDLE) = &o->keep_idle, AT(CSV) = &o->csv};
#undef AT
	int opt;

	optind = 0; /* the front's getopt_long may have run: start afresh */
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		int i = opt - BENCH_OPT_FIRST;

		if (i < 0 || i >= BENCH_OPT_COUNT)
			return BENCH_USAGE; /* getopt_long said what */
		if (value[i])
			*value[i] = optarg;
		else
			*flag[i] = true;
	}
	*ret_first = optind;
	return BENCH_OK;
}
