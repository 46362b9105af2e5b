/* bench MODE [MODE...] (isoctl bench): the same RT probes and best-effort
 * load under each mode in turn.
 *
 * The bench is its own RT VM (probe.c): its site variables name its
 * probe threads as the RT vCPUs and vhost of VM "isobench-PID", so the
 * shipped modes, unchanged, treat them as they treat a real RT VM. By
 * default the modes are scoped to the bench's process tree (nothing else on
 * the host is touched but the sysctls the modes set, which are restored);
 * --scope host applies them to the whole host.
 *
 * Sequence: calibration (probes alone, no load, no mode), then per mode:
 * apply, load on, warm up, measure, load off, revert. SIGINT/SIGTERM end
 * the run early, and the mode in force is reverted before exit. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "isolated/apply.h"
#include "isolated/host.h"
#include "isolated/modes.h"
#include "isolated/report.h"
#include "compare.h"
#include "http.h"
#include "memcached.h"
#include "output.h"
#include "runs.h"
#include "runner.h"

volatile sig_atomic_t bench_interrupted;

static void on_signal(int sig)
{
	bench_interrupted = sig;
}

static const char *const watched_sysctls[] = {"kernel.timer_migration",	 "kernel.sched_rt_runtime_us",
					      "kernel.numa_balancing",	 "vm.stat_interval",
					      "kernel.watchdog_cpumask", "kernel.hung_task_timeout_secs"};

/* ---- the host before and after ---- */

static char *read_sysctl(struct bench *b, const char *name)
{
	char path[128], *buf = NULL;

	snprintf(path, sizeof(path), "proc/sys/%s", name);
	for (char *p = path + 9; *p; p++)
		if (*p == '.')
			*p = '/';
	if (host_read(b->host, path, &buf, NULL) < 0)
		return NULL;
	util_strip(buf);
	return buf;
}

/* Nothing of isolated's may be in force: the bench switches modes itself
 * and puts the host back as it found it. */
static int check_host_free(struct bench *b)
{
	struct apply_status *st = NULL;
	char err[512] = "";
	int r;

	if (b->env->daemon_running()) {
		b->env->err("the isolated daemon is running: it holds the host's mode and would adopt the bench's; "
			    "stop it for the bench (systemctl stop isolated)");
		return BENCH_FAIL;
	}
	r = apply_status(b->host, &st, err, sizeof(err));
	if (r < 0) {
		b->env->err("cannot read the journal: %s", err[0] ? err : strerror(-r));
		return BENCH_FAIL;
	}
	if (st->journal) {
		b->env->err("mode %s is in force (scope %s); the bench applies modes itself and needs the host as "
			    "isolated found it: isoctl revert first",
			    st->journal->mode ? st->journal->mode : "?",
			    st->journal->scope ? st->journal->scope : "host");
		apply_status_free(st);
		return BENCH_FAIL;
	}
	apply_status_free(st);
	for (size_t i = 0; i < ARRAY_SIZE(watched_sysctls); i++)
		b->sysctl_before[i] = read_sysctl(b, watched_sysctls[i]);
	return BENCH_OK;
}

static int check_host_restored(struct bench *b)
{
	int ret = BENCH_OK;

	for (size_t i = 0; i < ARRAY_SIZE(watched_sysctls); i++) {
		char *now = read_sysctl(b, watched_sysctls[i]);

		if (b->sysctl_before[i] && (!now || strcmp(now, b->sysctl_before[i]) != 0)) {
			b->env->err("%s is %s after the bench, %s before", watched_sysctls[i], now ? now : "unreadable",
				    b->sysctl_before[i]);
			ret = BENCH_FAIL;
		}
		free(now);
	}
	return ret;
}

/* Apply p; 0, or -1 after printing why. */
static int bench_apply(struct bench *b, const struct policy *p, unsigned *ret_changed)
{
	struct apply_opts o = {.no_wait = true};
	struct apply_result *res = NULL;
	char err[1024] = "";
	int r = apply_mode(b->host, p, &o, &res, err, sizeof(err));

	if (!res) {
		char *msg = report_apply_error(b->host, p->name, r, err, false, true);

		b->env->err_lines(msg);
		free(msg);
		return -1;
	}
	if (res->failed) {
		b->env->err("bench: applying %s failed: %s", p->name, res->error ? res->error : strerror(-r));
		apply_result_free(res);
		return -1;
	}
	if (res->counts[STEP_CONFLICT])
		b->env->err("bench: %s: %zu values were changed by another tool meanwhile and left alone", p->name,
			    res->counts[STEP_CONFLICT]);
	if (ret_changed)
		*ret_changed = (unsigned)(res->counts[STEP_DONE] + res->counts[STEP_PENDING]);
	apply_result_free(res);
	return 0;
}

static int bench_revert(struct bench *b)
{
	if (!b->applied)
		return 0;
	if (bench_apply(b, b->vanilla, NULL) < 0)
		return -1;
	b->applied = false;
	return 0;
}

static void progress(const char *fmt, ...) ISO_PRINTF(1, 2);
static void progress(const char *fmt, ...)
{
	va_list ap;

	fputs("isoctl bench: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* One round's window of a mode into m: its figures kept (m->rounds), its
 * samples added to m's histograms, its throughputs and utilisation to m's
 * sums (averaged at the end). */
static int measure_round(struct bench *b, struct bench_mode_result *m, size_t round)
{
	struct bench_probe_result *res = calloc(_BENCH_PROBE_MAX, sizeof(*res));
	struct bench_mode_result one = {0};
	struct bench_round *rd = &m->rounds[round];
	int r;

	if (!res)
		return -1;
	if (bench_workload_http(&b->r.cfg))
		r = bench_measure_http(b, b->r.cfg.http_conns, &rd->http, &one);
	else if (bench_workload_memcached(&b->r.cfg))
		r = bench_measure_memcached(b, b->r.cfg.duration_s, res, &rd->mc, &one);
	else
		r = bench_measure(b, b->r.cfg.duration_s, res, &one);
	if (r == 0) {
		for (int p = 0; p < _BENCH_PROBE_MAX; p++) {
			struct hist_stats st;

			hist_stats(&res[p].hist, &st);
			rd->stat[p][BENCH_STAT_P50] = st.p50;
			rd->stat[p][BENCH_STAT_P99] = st.p99;
			rd->stat[p][BENCH_STAT_P999] = st.p999;
			rd->stat[p][BENCH_STAT_MAX] = st.max;
			hist_merge(&m->probe[p].hist, &res[p].hist);
			m->probe[p].lost += res[p].lost;
		}
		rd->stream_MBps = one.stream_MBps;
		rd->hog_ops = one.hog_ops;
		m->n_rounds = round + 1;
		m->measured_s += one.measured_s;
		m->stream_MBps = one.stream_MBps < 0 ? -1 : round ? m->stream_MBps + one.stream_MBps : one.stream_MBps;
		m->hog_ops = one.hog_ops < 0 ? -1 : round ? m->hog_ops + one.hog_ops : one.hog_ops;
		m->cpu_util += one.cpu_util;
		if (!m->cpu_util_per_cpu) {
			m->cpu_util_per_cpu = one.cpu_util_per_cpu;
			m->n_cpus = one.n_cpus;
			one.cpu_util_per_cpu = NULL;
		} else
			for (unsigned i = 0; i < m->n_cpus && i < one.n_cpus && one.cpu_util_per_cpu; i++)
				m->cpu_util_per_cpu[i] += one.cpu_util_per_cpu[i];
	}
	free(one.cpu_util_per_cpu);
	free(res);
	return r;
}

/* The means of what measure_round summed. */
static void average_rounds(struct bench_mode_result *m)
{
	double n = (double)m->n_rounds;

	bench_http_combine(m->rounds, m->n_rounds, &m->http);
	bench_mc_combine(m->rounds, m->n_rounds, &m->mc);
	if (m->n_rounds < 2)
		return;
	if (m->stream_MBps >= 0)
		m->stream_MBps /= n;
	if (m->hog_ops >= 0)
		m->hog_ops /= n;
	m->cpu_util /= n;
	for (unsigned i = 0; m->cpu_util_per_cpu && i < m->n_cpus; i++)
		m->cpu_util_per_cpu[i] /= n;
}

/* Calibration, then each mode in turn, --rounds times: A B A B ..., not
 * A A B B, so that a drift of the machine (another VM's load, thermal)
 * spreads over every mode instead of landing on one. */
static int run_modes(struct bench *b)
{
	struct bench_config *cfg = &b->r.cfg;

	if (bench_workload_http(&b->r.cfg)) {
		/* One connection at least: calibration_s is the window's
		 * length (--conns / --rate) up to 2 s. */
		unsigned n = (unsigned)(cfg->http_rate * cfg->calibration_s + 0.5);

		progress("calibration: lighttpd alone, %u connections at %u/s", n, cfg->http_rate);
		if (bench_measure_http(b, n, &b->r.http_calibration, NULL) < 0)
			return -1;
	} else if (bench_workload_memcached(cfg)) {
		progress("calibration: memcached alone for %.0f s", ceil(cfg->calibration_s));
		if (bench_measure_memcached(b, cfg->calibration_s, b->r.calibration, &b->r.mc_calibration, NULL) < 0)
			return -1;
	} else {
		progress("calibration: the probes alone for %.0f s", cfg->calibration_s);
		if (bench_measure(b, cfg->calibration_s, b->r.calibration, NULL) < 0)
			return -1;
	}
	b->r.clock_read_ns = b->shm->clock_read_ns;
	b->r.record_ns = b->shm->record_ns;
	for (size_t i = 0; i < b->r.n_modes; i++) {
		struct bench_mode_result *m = &b->r.modes[i];

		m->rounds = calloc(cfg->rounds, sizeof(*m->rounds));
		if (!m->rounds)
			return -1;
		for (int p = 0; p < _BENCH_PROBE_MAX; p++)
			hist_init(&m->probe[p].hist);
	}
	for (unsigned round = 0; round < cfg->rounds; round++)
		for (size_t i = 0; i < b->r.n_modes; i++) {
			struct bench_mode_result *m = &b->r.modes[i];
			char which[48] = "";

			if (bench_interrupted)
				return -1;
			if (cfg->rounds > 1)
				snprintf(which, sizeof(which), " (round %u of %u)", round + 1, cfg->rounds);
			b->applied = true; /* from the first write on, revert */
			if (bench_apply(b, b->pol[i], &m->n_changed) < 0)
				return -1;
			if (bench_workload_memcached(cfg))
				progress("%s%s: applied (%u values changed); warming up %.0f s, memaslap for %.0f s",
					 m->mode, which, m->n_changed, cfg->warmup_s, ceil(cfg->duration_s));
			else if (bench_workload_http(&b->r.cfg))
				progress("%s%s: applied (%u values changed); warming up %.0f s, measuring %u "
					 "connections at %u/s",
					 m->mode, which, m->n_changed, cfg->warmup_s, cfg->http_conns, cfg->http_rate);
			else
				progress("%s%s: applied (%u values changed); warming up %.0f s, measuring %.0f s",
					 m->mode, which, m->n_changed, cfg->warmup_s, cfg->duration_s);
			atomic_store(&b->shm->load_on, cfg->load_cpu || cfg->load_net);
			if (bench_sleep(b, cfg->warmup_s) < 0 || measure_round(b, m, round) < 0)
				return -1;
			atomic_store(&b->shm->load_on, 0);
			if (bench_revert(b) < 0)
				return -1;
		}
	for (size_t i = 0; i < b->r.n_modes; i++)
		average_rounds(&b->r.modes[i]);
	return 0;
}

static void hold_idle(struct bench *b)
{
	int32_t zero = 0;

	b->dma_fd = -1;
	if (b->opt.keep_idle)
		return;
	b->dma_fd = open("/dev/cpu_dma_latency", O_WRONLY | O_CLOEXEC);
	if (b->dma_fd >= 0 && write(b->dma_fd, &zero, sizeof(zero)) != sizeof(zero)) {
		close(b->dma_fd);
		b->dma_fd = -1;
	}
	b->r.cfg.pm_qos = b->dma_fd >= 0;
	if (b->dma_fd < 0)
		b->env->err("bench: cannot hold /dev/cpu_dma_latency at 0 (%s); measuring with deep idle states",
			    strerror(errno));
}

static int output(struct bench *b)
{
	char err[512];

	if (b->opt.plot && bench_write_svg(b->opt.plot, &b->r, err, sizeof(err)) < 0) {
		b->env->err("--plot %s: %s", b->opt.plot, err);
		return BENCH_FAIL;
	}
	if (b->opt.output) {
		json_object *doc = bench_json(&b->r);
		const char *text =
		    doc ? json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE)
			: NULL;
		char *line = text ? util_sprintf("%s\n", text) : NULL;
		int r = line ? bench_write_file(b->opt.output, line, err, sizeof(err)) : -ENOMEM;

		free(line);
		json_object_put(doc);
		if (r < 0) {
			b->env->err("--output %s: %s", b->opt.output, r == -ENOMEM ? "out of memory" : err);
			return BENCH_FAIL;
		}
	}
	if (b->env->json) {
		json_object *doc = bench_json(&b->r);

		puts(json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(doc);
	} else if (b->opt.csv)
		bench_print_csv(stdout, &b->r);
	else
		bench_print_table(stdout, &b->r);
	return BENCH_OK;
}

/* Every probe measured something in every mode. */
static int check_samples(const struct bench *b)
{
	int ret = BENCH_OK;

	for (size_t i = 0; i < b->r.n_modes; i++)
		if (bench_workload_http(&b->r.cfg)) {
			if (b->r.modes[i].http.replies == 0) {
				b->env->err("bench: %s: lighttpd answered none of httperf's %llu connections",
					    b->r.modes[i].mode, (unsigned long long)b->r.modes[i].http.conns);
				ret = BENCH_FAIL;
			}
		} else
			for (int p = 0; p < _BENCH_PROBE_MAX; p++)
				if (bench_probe_of(&b->r.cfg, p) && b->r.modes[i].probe[p].hist.count == 0) {
					b->env->err("bench: %s: the %s probe measured nothing%s", b->r.modes[i].mode,
						    bench_probe_name[p],
						    bench_workload_memcached(&b->r.cfg) ? " (memaslap timed no request)"
											: "");
					ret = BENCH_FAIL;
				}
	return ret;
}

void bench_result_free(struct bench_result *r)
{
	if (!r)
		return;
	free(r->cfg.scope);
	free(r->cfg.rt_cpus);
	free(r->cfg.housekeeping_cpus);
	free(r->cfg.rt_vm);
	free(r->cfg.kernel);
	free(r->cfg.host.kernel_version);
	free(r->cfg.host.cpu_model);
	free(r->cfg.host.virtualization);
	free(r->cfg.host.cmdline);
	strv_free(r->cfg.held_back);
	for (size_t i = 0; i < r->n_modes; i++) {
		free(r->modes[i].mode);
		free(r->modes[i].cpu_util_per_cpu);
		free(r->modes[i].rounds);
	}
	free(r->modes);
	*r = (struct bench_result){0};
}

static void bench_free(struct bench *b)
{
	bench_http_stop(b);
	free(b->server_bin);
	free(b->client_bin);
	if (b->have_net)
		bench_net_done(&b->net);
	if (b->shm)
		munmap(b->shm, sizeof(*b->shm));
	if (b->shm_fd >= 0)
		close(b->shm_fd);
	for (size_t i = 0; b->pol && i < b->r.n_modes; i++)
		policy_free(b->pol[i]);
	free(b->pol);
	policy_free(b->vanilla);
	hostconf_free(b->hc);
	for (size_t i = 0; i < ARRAY_SIZE(b->sysctl_before); i++)
		free(b->sysctl_before[i]);
	bench_result_free(&b->r);
}

/* The options and the modes checked, the host opened and found free. */
static int prepare(struct bench *b, int argc, char **argv)
{
	const struct bench_env *env = b->env;
	int ret;

	if (argc < 1) {
		env->err("usage: isoctl bench [--duration D] [--warmup D] [--probe isolated|cyclictest] "
			 "[--net veth|loopback] [--load cpu,net|cpu|net|none] [--scope host] [--json|--csv] "
			 "[--plot FILE.svg] MODE [MODE...]");
		return BENCH_USAGE;
	}
	for (int i = 0; i < argc; i++)
		if (!modes_name_valid(argv[i])) {
			env->err("\"%s\" is not a mode name", argv[i]);
			return BENCH_USAGE;
		}
	if ((ret = bench_configure(b)) != BENCH_OK)
		return ret;
	if (geteuid() != 0) {
		env->err("bench needs root: it applies modes and creates network namespaces");
		return BENCH_FAIL;
	}
	if ((ret = env->open_host(env->front, &b->host, &b->online)) != BENCH_OK ||
	    (ret = bench_site_variables(b)) != BENCH_OK ||
	    (ret = bench_load_modes(b, argv, (size_t)argc)) != BENCH_OK || (ret = check_host_free(b)) != BENCH_OK)
		return ret;
	if (!b->opt.hogs)
		b->r.cfg.n_hogs = b->r.cfg.online_cpus;
	if (!b->r.cfg.load_cpu)
		b->r.cfg.n_hogs = 0;
	return BENCH_OK;
}

/* bench compare [--plot FILE.svg] RUN RUN...: no other option, no root,
 * nothing changed but the plot. */
static int compare_runs(struct bench *b, int argc, char **argv)
{
	const struct bench_env *env = b->env;
	json_object **docs;
	char err[PATH_MAX + 256];
	int ret = BENCH_OK, r;

	if (b->opt.duration || b->opt.warmup || b->opt.interval || b->opt.probe || b->opt.net || b->opt.load ||
	    b->opt.hogs || b->opt.rounds || b->opt.rt_cpus || b->opt.workload || b->opt.rate || b->opt.conns ||
	    b->opt.output || b->opt.csv || b->opt.keep_idle || env->json || env->scope) {
		env->err("bench compare takes saved runs and --plot only");
		return BENCH_USAGE;
	}
	if (argc < 2) {
		env->err(
		    "usage: isoctl bench compare [--plot FILE.svg] RUN.json RUN.json... (runs saved with isoctl bench "
		    "--output)");
		return BENCH_USAGE;
	}
	if (!(docs = calloc((size_t)argc, sizeof(*docs)))) {
		env->err("out of memory");
		return BENCH_FAIL;
	}
	for (int i = 0; i < argc && ret == BENCH_OK; i++)
		if (bench_runs_load(argv[i], &docs[i], err, sizeof(err)) < 0) {
			env->err("bench compare: %s", err);
			ret = BENCH_FAIL;
		}
	if (ret == BENCH_OK && (r = bench_runs_print(stdout, argv, docs, (size_t)argc)) < 0) {
		env->err("out of memory");
		ret = BENCH_FAIL;
	}
	if (ret == BENCH_OK && b->opt.plot) {
		char *svg = bench_runs_svg(argv, docs, (size_t)argc);

		if (!svg || bench_write_file(b->opt.plot, svg, err, sizeof(err)) < 0) {
			env->err("--plot %s: %s", b->opt.plot, svg ? err : "out of memory");
			ret = BENCH_FAIL;
		}
		free(svg);
	}
	for (int i = 0; i < argc; i++)
		json_object_put(docs[i]);
	free(docs);
	return ret;
}

int bench_main(const struct bench_env *env, int argc, char **argv)
{
	struct bench b = {.env = env, .shm_fd = -1, .dma_fd = -1};
	struct sigaction sa = {.sa_handler = on_signal};
	int first, r, ret;

	if ((ret = bench_opts_parse(&b, argc, argv, &first)) != BENCH_OK)
		goto out;
	if (first < argc && strcmp(argv[first], "compare") == 0) {
		ret = compare_runs(&b, argc - first - 1, argv + first + 1);
		goto out;
	}
	if ((ret = prepare(&b, argc - first, argv + first)) != BENCH_OK)
		goto out;
	bench_identify(&b);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	if ((ret = bench_setup_shm(&b)) != BENCH_OK || (ret = bench_start_processes(&b)) != BENCH_OK)
		goto stop;
	hold_idle(&b);
	r = run_modes(&b);
	ret = r < 0 ? BENCH_FAIL : BENCH_OK;
stop:
	bench_http_stop(&b);
	bench_kill_kids(&b);
	if (b.applied) {
		progress("reverting");
		if (bench_revert(&b) < 0) {
			env->err("bench: the revert failed: run isoctl revert");
			ret = BENCH_FAIL;
		}
	}
	if (b.dma_fd >= 0)
		close(b.dma_fd);
	if (check_host_restored(&b) != BENCH_OK)
		ret = BENCH_FAIL;
	if (bench_interrupted) {
		env->err("bench: interrupted by signal %d; the host is back as it was", (int)bench_interrupted);
		ret = BENCH_FAIL;
	} else if (ret == BENCH_OK) {
		ret = check_samples(&b);
		r = output(&b);
		if (r != BENCH_OK)
			ret = r;
	}
out:
	bench_free(&b);
	return ret;
}
