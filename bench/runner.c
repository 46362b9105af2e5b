/* isoctl bench MODE [MODE...]: the same RT probes and best-effort load
 * under each mode in turn.
 *
 * The bench is its own RT VM (bench-work.c): its site variables name its
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
#include <netinet/in.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "isolated/apply.h"
#include "isolated/modes.h"
#include "isolated/procfmt.h"
#include "isolated/report.h"
#include "../ctl/isoctl.h"

#define NSEC_PER_SEC 1000000000ULL
#define BENCH_VM_PREFIX "isobench-"
/* The RT probes are the RT VM's vCPUs 1 and 2 (bench-work.c). */
#define BENCH_VCPUS "1-2"
#define HELD_SYSCTL "kernel.sched_rt_runtime_us"

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	interrupted = sig;
}

struct bench {
	struct ctx *c;
	struct bench_result r;
	struct bench_shm *shm;
	int shm_fd;
	struct bench_net net;
	bool have_net;
	pid_t kids[256];
	size_t n_kids;
	struct hostconf *hc;
	struct policy **pol; /* one per mode of r.modes */
	struct policy *vanilla;
	bool applied; /* a mode of ours is in force */
	int dma_fd;   /* /dev/cpu_dma_latency held at 0, -1 */
	unsigned gen;
	char *sysctl_before[3];
};

static const char *const watched_sysctls[] = {"kernel.timer_migration", "kernel.sched_rt_runtime_us",
					      "kernel.numa_balancing"};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

/* ---- options ---- */

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

static int opt_duration(const char *name, const char *arg, unsigned long long min_ms, unsigned long long max_ms,
			const char *range, double *ret)
{
	unsigned long long ms;
	int r;

	if (!arg)
		return EXIT_OK;
	r = parse_ms(arg, min_ms, max_ms, &ms);
	if (r == -ERANGE) {
		err_msg("--%s %s: %s", name, arg, range);
		return EXIT_USAGE;
	}
	if (r < 0) {
		err_msg("--%s %s: not a duration (20s, 2m, 500ms; a plain number is seconds)", name, arg);
		return EXIT_USAGE;
	}
	*ret = (double)ms / 1000.0;
	return EXIT_OK;
}

static int opt_number(const char *name, const char *arg, long min, long max, unsigned *ret)
{
	long v;

	if (!arg)
		return EXIT_OK;
	if (util_parse_long(arg, min, max, &v) < 0) {
		err_msg("--%s %s: a number from %ld to %ld", name, arg, min, max);
		return EXIT_USAGE;
	}
	*ret = (unsigned)v;
	return EXIT_OK;
}

static bool on_path(const char *prog)
{
	const char *path = getenv("PATH");
	char *copy, *save = NULL;
	bool found = false;

	if (!path || !(copy = strdup(path)))
		return false;
	for (char *dir = strtok_r(copy, ":", &save); dir && !found; dir = strtok_r(NULL, ":", &save)) {
		char *f = util_sprintf("%s/%s", dir, prog);

		found = f && access(f, X_OK) == 0;
		free(f);
	}
	free(copy);
	return found;
}

static int parse_options(struct bench *b)
{
	const struct bench_args *a = &b->c->bench;
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
	if ((r = opt_duration("duration", a->duration, 1000, 3600000, "from 1s to 1h", &cfg->duration_s)) ||
	    (r = opt_duration("warmup", a->warmup, 0, 600000, "from 0 to 10m", &cfg->warmup_s)) ||
	    (r = opt_number("interval", a->interval, 100, 1000000, &cfg->interval_us)) ||
	    (r = opt_number("hogs", a->hogs, 0, 128, &cfg->n_hogs)))
		return r;
	if (a->probe) {
		if (strcmp(a->probe, "cyclictest") == 0)
			cfg->probe_tool = "cyclictest";
		else if (strcmp(a->probe, "isolated") != 0) {
			err_msg("--probe %s: isolated or cyclictest", a->probe);
			return EXIT_USAGE;
		}
	}
	if (a->net) {
		if (strcmp(a->net, "loopback") == 0)
			cfg->net = "loopback";
		else if (strcmp(a->net, "veth") != 0) {
			err_msg("--net %s: veth or loopback", a->net);
			return EXIT_USAGE;
		}
	}
	if (a->load) {
		cfg->load_cpu = cfg->load_net = false;
		if (strcmp(a->load, "none") != 0) {
			char *copy = strdup(a->load), *save = NULL;

			if (!copy)
				return EXIT_FAIL;
			for (char *w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
				if (strcmp(w, "cpu") == 0)
					cfg->load_cpu = true;
				else if (strcmp(w, "net") == 0)
					cfg->load_net = true;
				else {
					err_msg("--load %s: a list of cpu and net, or none", a->load);
					free(copy);
					return EXIT_USAGE;
				}
			}
			free(copy);
		}
	}
	if (strcmp(cfg->probe_tool, "cyclictest") == 0) {
		if (fmod(cfg->duration_s, 1.0) != 0) {
			err_msg("--duration %s: cyclictest measures whole seconds", a->duration);
			return EXIT_USAGE;
		}
		if (!on_path("cyclictest")) {
			err_msg("--probe cyclictest: cyclictest is not installed (apt-get install rt-tests)");
			return EXIT_FAIL;
		}
	}
	if (b->c->scope && strcmp(b->c->scope, "host") != 0) {
		err_msg("--scope %s: bench takes only --scope host (by default the modes govern the bench's own "
			"processes)",
			b->c->scope);
		return EXIT_USAGE;
	}
	if (b->c->json && a->csv) {
		err_msg("--json and --csv: choose one");
		return EXIT_USAGE;
	}
	if (b->c->root) {
		err_msg("--root: bench measures the running kernel, not a tree");
		return EXIT_USAGE;
	}
	cfg->calibration_s = cfg->duration_s < 2 ? cfg->duration_s : 2;
	return EXIT_OK;
}

/* ---- site variables and the modes ---- */

static int push_var(char ***v, const char *name, const char *value)
{
	return strv_push(v, util_sprintf("%s=%s", name, value));
}

/* host.conf's variables (when there is one) with the bench's RT VM and CPUs
 * over them. */
static int site_variables(struct bench *b)
{
	struct ctx *c = b->c;
	struct bench_config *cfg = &b->r.cfg;
	struct hostconf *site = NULL;
	struct diag d = {0};
	struct cpuset rt = {0}, hk = {0};
	char **assign = NULL, msg[256], *list = NULL;
	const char *rt_list = NULL, *hk_list = NULL;
	int r, ret = EXIT_USAGE;

	if ((r = ctx_load_online(c)) != EXIT_OK)
		return r;
	cfg->online_cpus = cpuset_count(&c->online);
	if (cfg->online_cpus < 2) {
		err_msg("bench needs 2 online CPUs or more: one for the RT probes, one for housekeeping");
		return EXIT_FAIL;
	}
	r = hostconf_load(c->hostconf_path, &c->online, &site, &d);
	if (r < 0 && r != -ENOENT) {
		print_diag(&d);
		goto out;
	}
	if (c->bench.rt_cpus)
		rt_list = c->bench.rt_cpus;
	else if (site && hostconf_get(site, "rt_cpus") && *hostconf_get(site, "rt_cpus")) {
		rt_list = hostconf_get(site, "rt_cpus");
		hk_list = hostconf_get(site, "housekeeping_cpus");
	}
	if (rt_list) {
		if (cpuset_parse_list(rt_list, &rt, msg, sizeof(msg)) < 0) {
			err_msg("--rt-cpus %s: %s", rt_list, msg);
			goto out;
		}
		if (!cpuset_subset(&rt, &c->online) || cpuset_empty(&rt) || cpuset_count(&rt) >= cfg->online_cpus) {
			if (cpuset_format_list(&c->online, &list) < 0)
				goto oom;
			err_msg("--rt-cpus %s: one or more online CPUs, not all of them (online: %s)", rt_list, list);
			goto out;
		}
	} else if (cpuset_set(&rt, (unsigned)cpuset_last(&c->online)) < 0)
		goto oom;
	if (hk_list) {
		if (cpuset_parse_list(hk_list, &hk, msg, sizeof(msg)) < 0)
			goto out;
	} else if (cpuset_andnot(&hk, &c->online, &rt) < 0)
		goto oom;
	if (cpuset_format_list(&rt, &cfg->rt_cpus) < 0 || cpuset_format_list(&hk, &cfg->housekeeping_cpus) < 0)
		goto oom;
	cfg->rt_vm = util_sprintf(BENCH_VM_PREFIX "%d", getpid());
	if (!cfg->rt_cpus || !cfg->housekeeping_cpus || !cfg->rt_vm)
		goto oom;
	for (size_t i = 0; site && i < site->n_vars; i++) {
		const struct var *v = &site->vars[i];
		static const char *const ours[] = {"rt_cpus", "housekeeping_cpus", "rt_vm", "rt_vcpus", "online_cpus"};
		bool skip = false;

		for (size_t j = 0; j < ARRAY_SIZE(ours); j++)
			skip |= strcmp(v->name, ours[j]) == 0;
		if (!skip && push_var(&assign, v->name, v->value) < 0)
			goto oom;
	}
	if (push_var(&assign, "rt_cpus", cfg->rt_cpus) < 0 ||
	    push_var(&assign, "housekeeping_cpus", cfg->housekeeping_cpus) < 0 ||
	    push_var(&assign, "rt_vm", cfg->rt_vm) < 0 || push_var(&assign, "rt_vcpus", BENCH_VCPUS) < 0)
		goto oom;
	/* What the shipped modes refer to and a host without host.conf lacks:
	 * the RT NIC is the server side of the bench's network (it has no
	 * IRQs), the RT poll_list priority the shipped example's. */
	if (!site || !hostconf_get(site, "rt_nic"))
		if (push_var(&assign, "rt_nic", "isobench1") < 0)
			goto oom;
	if (!site || !hostconf_get(site, "rt_process"))
		if (push_var(&assign, "rt_process", "") < 0)
			goto oom;
	if (!site || !hostconf_get(site, "rtnet_prio"))
		if (push_var(&assign, "rtnet_prio", "60") < 0)
			goto oom;
	diag_free(&d);
	if (hostconf_from_strv(assign, &c->online, &b->hc, &d) < 0) {
		print_diag(&d);
		goto out;
	}
	ret = EXIT_OK;
	goto out;
oom:
	err_msg("out of memory");
	ret = EXIT_FAIL;
out:
	diag_free(&d);
	strv_free(assign);
	hostconf_free(site);
	free(list);
	cpuset_free(&rt);
	cpuset_free(&hk);
	return ret;
}

/* Outside --scope host the bench leaves kernel.sched_rt_runtime_us alone:
 * it is the host's guard against a runaway RT thread, and the probes sleep
 * nearly all the time, far from the 95% a period the throttling cuts at. */
static int hold_back(struct bench *b, struct policy *p)
{
	for (size_t i = 0; i < p->n_sysctls; i++) {
		char *line;

		if (strcmp(p->sysctls[i].name, HELD_SYSCTL) != 0)
			continue;
		line = util_sprintf("%s = %s (%s): host-wide RT throttling, changed only with --scope host",
				    HELD_SYSCTL, p->sysctls[i].value, p->name);
		if (!line || strv_push(&b->r.cfg.held_back, line) < 0)
			return -ENOMEM;
		free(p->sysctls[i].name);
		free(p->sysctls[i].value);
		memmove(&p->sysctls[i], &p->sysctls[i + 1], (p->n_sysctls - i - 1) * sizeof(p->sysctls[0]));
		p->n_sysctls--;
		i--;
	}
	return 0;
}

/* Threaded IRQs: a PREEMPT_RT kernel or threadirqs on the command line. */
static bool threaded_irqs(struct bench *b)
{
	char *rt = NULL, *version = NULL, *cmdline = NULL;
	bool yes;

	host_read(b->c->host, "sys/kernel/realtime", &rt, NULL);
	host_read(b->c->host, "proc/sys/kernel/version", &version, NULL);
	host_read(b->c->host, "proc/cmdline", &cmdline, NULL);
	yes = (rt && strcmp(util_strip(rt), "1") == 0) || (version && strstr(version, "PREEMPT_RT")) ||
	      (cmdline && procfmt_cmdline_get(cmdline, "threadirqs", NULL) == 1);
	free(rt);
	free(version);
	free(cmdline);
	return yes;
}

static int load_modes(struct bench *b, char **modes, size_t n)
{
	struct ctx *c = b->c;
	struct scope s = {0};
	char err[256], *scope;

	scope = c->scope ? strdup("host") : util_sprintf("process:%d", getpid());
	if (!scope || policy_scope_parse(scope, &s, err, sizeof(err)) < 0) {
		free(scope);
		err_msg("out of memory");
		return EXIT_FAIL;
	}
	b->r.cfg.scope = scope;
	b->pol = calloc(n, sizeof(*b->pol));
	b->r.modes = calloc(n, sizeof(*b->r.modes));
	if (!b->pol || !b->r.modes)
		goto oom;
	for (size_t i = 0; i < n; i++) {
		struct diag d = {0};

		switch (modes_load(c->policy_dirs, b->hc, &c->online, modes[i], &b->pol[i], &d)) {
		case MODES_OK:
			break;
		case MODES_USAGE:
			print_diag(&d);
			diag_free(&d);
			policy_scope_done(&s);
			return EXIT_USAGE;
		default:
			print_diag(&d);
			diag_free(&d);
			policy_scope_done(&s);
			return EXIT_FAIL;
		}
		print_diag(&d); /* warnings */
		diag_free(&d);
		b->r.n_modes = i + 1;
		if (!(b->r.modes[i].mode = strdup(modes[i])) || policy_set_scope(b->pol[i], &s) < 0)
			goto oom;
		if (!c->scope && hold_back(b, b->pol[i]) < 0)
			goto oom;
		/* The bench measures what the mode does on this kernel, but a
		 * mode built for another should not be mistaken for bad. */
		if ((b->pol[i]->requires & POLICY_REQ_PREEMPT_RT) && !threaded_irqs(b))
			err_msg("bench: warning: %s requires threaded IRQs (PREEMPT_RT or threadirqs) and this kernel "
				"has none: softirq work stays with whatever it interrupts (isoctl check %s)",
				modes[i], modes[i]);
	}
	policy_scope_done(&s);
	if (modes_vanilla(&b->vanilla) < 0)
		return EXIT_FAIL;
	return EXIT_OK;
oom:
	policy_scope_done(&s);
	err_msg("out of memory");
	return EXIT_FAIL;
}

/* ---- the host before and after ---- */

static char *read_sysctl(struct bench *b, const char *name)
{
	char path[128], *buf = NULL;

	snprintf(path, sizeof(path), "proc/sys/%s", name);
	for (char *p = path + 9; *p; p++)
		if (*p == '.')
			*p = '/';
	if (host_read(b->c->host, path, &buf, NULL) < 0)
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

	if (client_daemon_running()) {
		err_msg("the isolated daemon is running: it holds the host's mode and would adopt the bench's; "
			"stop it for the bench (systemctl stop isolated)");
		return EXIT_FAIL;
	}
	r = apply_status(b->c->host, &st, err, sizeof(err));
	if (r < 0) {
		err_msg("cannot read the journal: %s", err[0] ? err : strerror(-r));
		return EXIT_FAIL;
	}
	if (st->journal) {
		err_msg("mode %s is in force (scope %s); the bench applies modes itself and needs the host as "
			"isolated found it: isoctl revert first",
			st->journal->mode ? st->journal->mode : "?", st->journal->scope ? st->journal->scope : "host");
		apply_status_free(st);
		return EXIT_FAIL;
	}
	apply_status_free(st);
	for (size_t i = 0; i < ARRAY_SIZE(watched_sysctls); i++)
		b->sysctl_before[i] = read_sysctl(b, watched_sysctls[i]);
	return EXIT_OK;
}

static int check_host_restored(struct bench *b)
{
	int ret = EXIT_OK;

	for (size_t i = 0; i < ARRAY_SIZE(watched_sysctls); i++) {
		char *now = read_sysctl(b, watched_sysctls[i]);

		if (b->sysctl_before[i] && (!now || strcmp(now, b->sysctl_before[i]) != 0)) {
			err_msg("%s is %s after the bench, %s before", watched_sysctls[i], now ? now : "unreadable",
				b->sysctl_before[i]);
			ret = EXIT_FAIL;
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
	int r = apply_mode(b->c->host, p, &o, &res, err, sizeof(err));

	if (!res) {
		char *msg = report_apply_error(b->c->host, p->name, r, err, false, true);

		fprintf(stderr, "%s\n", msg ? msg : "isoctl: out of memory");
		free(msg);
		return -1;
	}
	if (res->failed) {
		err_msg("bench: applying %s failed: %s", p->name, res->error ? res->error : strerror(-r));
		apply_result_free(res);
		return -1;
	}
	if (res->counts[STEP_CONFLICT])
		err_msg("bench: %s: %zu values were changed by another tool meanwhile and left alone", p->name,
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

/* ---- the processes ---- */

static void kill_kids(struct bench *b)
{
	uint64_t deadline = now_ns() + 2 * NSEC_PER_SEC;

	if (b->shm) {
		atomic_store(&b->shm->load_on, 0);
		atomic_store(&b->shm->phase, BENCH_WORD(++b->gen, BENCH_STOP));
	}
	for (size_t i = 0; i < b->n_kids; i++) {
		int status;

		while (waitpid(b->kids[i], &status, WNOHANG) == 0) {
			if (now_ns() > deadline) {
				kill(b->kids[i], SIGKILL);
				waitpid(b->kids[i], &status, 0);
				break;
			}
			usleep(10000);
		}
	}
	b->n_kids = 0;
}

/* A child that died says why in shm->error. */
static int kids_alive(struct bench *b)
{
	for (size_t i = 0; i < b->n_kids; i++) {
		int status;
		pid_t p = waitpid(b->kids[i], &status, WNOHANG);

		if (p == b->kids[i]) {
			err_msg("bench: a measured process ended: %s",
				b->shm->error[0] ? b->shm->error : "no reason given");
			memmove(&b->kids[i], &b->kids[i + 1], (b->n_kids - i - 1) * sizeof(b->kids[0]));
			b->n_kids--;
			return -1;
		}
	}
	return 0;
}

static pid_t fork_kid(struct bench *b)
{
	pid_t pid;

	if (b->n_kids == ARRAY_SIZE(b->kids))
		return -1;
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() == 1)
			_exit(1);
	} else if (pid > 0)
		b->kids[b->n_kids++] = pid;
	return pid;
}

static int clear_cloexec(int fd)
{
	int fl = fcntl(fd, F_GETFD);

	return fl < 0 ? -1 : fcntl(fd, F_SETFD, fl & ~FD_CLOEXEC);
}

/* A UDP pair (server bound, client connected to it) and a TCP connection
 * (sender on the client side, receiver on the server side). */
static int make_sockets(struct bench *b, int *udp_srv, int *udp_cli, int *tcp_tx, int *tcp_rx, char *err, size_t errlen)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t len = sizeof(a);
	int lst = -1;

	*udp_srv = *udp_cli = *tcp_tx = *tcp_rx = -1;
	inet_pton(AF_INET, b->net.server_addr, &a.sin_addr);
	if ((*udp_srv = bench_net_socket(&b->net, true, SOCK_DGRAM)) < 0 ||
	    bind(*udp_srv, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    getsockname(*udp_srv, (struct sockaddr *)&a, &len) < 0 ||
	    (*udp_cli = bench_net_socket(&b->net, false, SOCK_DGRAM)) < 0 ||
	    connect(*udp_cli, (struct sockaddr *)&a, sizeof(a)) < 0)
		goto fail;
	if (!b->r.cfg.load_net)
		return 0;
	a.sin_port = 0;
	len = sizeof(a);
	if ((lst = bench_net_socket(&b->net, true, SOCK_STREAM)) < 0 ||
	    bind(lst, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(lst, 1) < 0 ||
	    getsockname(lst, (struct sockaddr *)&a, &len) < 0 ||
	    (*tcp_tx = bench_net_socket(&b->net, false, SOCK_STREAM)) < 0 ||
	    connect(*tcp_tx, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    (*tcp_rx = accept4(lst, NULL, NULL, SOCK_CLOEXEC)) < 0)
		goto fail;
	close(lst);
	return 0;
fail:
	util_set_err(err, errlen, "the bench's sockets: %s", strerror(errno));
	if (lst >= 0)
		close(lst);
	return -1;
}

static int start_processes(struct bench *b)
{
	struct bench_config *cfg = &b->r.cfg;
	int udp_srv, udp_cli, tcp_tx, tcp_rx, expected = 1, ret = EXIT_FAIL;
	char err[512] = "";
	pid_t pid;
	uint64_t deadline;

	if (bench_net_setup(strcmp(cfg->net, "veth") == 0 ? BENCH_NET_VETH : BENCH_NET_LOOPBACK, &b->net, err,
			    sizeof(err)) < 0) {
		err_msg("bench: %s", err);
		return EXIT_FAIL;
	}
	b->have_net = true;
	if (make_sockets(b, &udp_srv, &udp_cli, &tcp_tx, &tcp_rx, err, sizeof(err)) < 0) {
		err_msg("bench: %s", err);
		goto out;
	}
	/* The RT VM: isoctl again, with QEMU's -name on its command line. */
	pid = fork_kid(b);
	if (pid == 0) {
		char fds[3][16], guest[64];
		char *argv[] = {"isobench-vm", BENCH_VM_ARG, "-name", guest, fds[0], fds[1], fds[2], NULL};

		snprintf(guest, sizeof(guest), "guest=%s,debug-threads=on", cfg->rt_vm);
		snprintf(fds[0], sizeof(fds[0]), "%d", b->shm_fd);
		snprintf(fds[1], sizeof(fds[1]), "%d", udp_srv);
		snprintf(fds[2], sizeof(fds[2]), "%d", udp_cli);
		if (clear_cloexec(b->shm_fd) < 0 || clear_cloexec(udp_srv) < 0 || clear_cloexec(udp_cli) < 0)
			_exit(1);
		execv("/proc/self/exe", argv);
		snprintf(b->shm->error, sizeof(b->shm->error), "cannot re-execute isoctl: %s", strerror(errno));
		_exit(1);
	}
	if (pid < 0)
		goto fork_failed;
	for (unsigned i = 0; cfg->load_cpu && i < cfg->n_hogs; i++, expected++) {
		if ((pid = fork_kid(b)) == 0)
			bench_hog_main(b->shm);
		if (pid < 0)
			goto fork_failed;
	}
	if (cfg->load_net) {
		if ((pid = fork_kid(b)) == 0)
			bench_stream_sender_main(b->shm, tcp_tx);
		if (pid < 0)
			goto fork_failed;
		if ((pid = fork_kid(b)) == 0)
			bench_stream_receiver_main(b->shm, tcp_rx);
		if (pid < 0)
			goto fork_failed;
		expected += 2;
	}
	/* Every thread the modes must see exists before the first apply. */
	deadline = now_ns() + 10 * NSEC_PER_SEC;
	while (atomic_load(&b->shm->ready) < expected) {
		if (kids_alive(b) < 0 || interrupted)
			goto out;
		if (now_ns() > deadline) {
			err_msg("bench: the measured processes did not start within 10 s");
			goto out;
		}
		usleep(1000);
	}
	ret = EXIT_OK;
	goto out;
fork_failed:
	err_msg("bench: fork: %s", strerror(errno));
out:
	for (int *fd = (int[]){udp_srv, udp_cli, tcp_tx, tcp_rx}, i = 0; i < 4; i++)
		if (fd[i] >= 0)
			close(fd[i]);
	return ret;
}

/* ---- measuring ---- */

/* Switch the probes to phase and wait until both acted on it (their next
 * sample). */
static int set_phase(struct bench *b, enum bench_phase phase, double wait_s)
{
	int word = BENCH_WORD(++b->gen, phase);
	uint64_t deadline = now_ns() + (uint64_t)(wait_s * 1e9);

	atomic_store(&b->shm->phase, word);
	while (atomic_load(&b->shm->seen[BENCH_WAKEUP]) != word || atomic_load(&b->shm->seen[BENCH_NETRT]) != word) {
		if (kids_alive(b) < 0)
			return -1;
		if (now_ns() > deadline) {
			err_msg("bench: the probes did not answer within %.0f s", wait_s);
			return -1;
		}
		usleep(1000);
	}
	return 0;
}

/* Sleep, watching for signals and dead children. */
static int bench_sleep(struct bench *b, double seconds)
{
	uint64_t end = now_ns() + (uint64_t)(seconds * 1e9);

	for (;;) {
		uint64_t now = now_ns(), step;
		struct timespec ts;

		if (interrupted || kids_alive(b) < 0)
			return -1;
		if (now >= end)
			return 0;
		step = end - now < 50000000ULL ? end - now : 50000000ULL;
		ts.tv_sec = 0;
		ts.tv_nsec = (long)step;
		nanosleep(&ts, NULL);
	}
}

struct cpu_times {
	unsigned long long *busy, *total;
	unsigned n;
};

static int read_cpu_times(struct cpu_times *t)
{
	FILE *f = fopen("/proc/stat", "re");
	char line[512];

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		unsigned cpu;
		unsigned long long v[8] = {0};

		if (sscanf(line, "cpu%u %llu %llu %llu %llu %llu %llu %llu %llu", &cpu, &v[0], &v[1], &v[2], &v[3],
			   &v[4], &v[5], &v[6], &v[7]) < 5 ||
		    cpu >= 4096)
			continue;
		if (cpu >= t->n) {
			unsigned long long *nb = realloc(t->busy, (cpu + 1) * sizeof(*nb)),
					   *nt = nb ? realloc(t->total, (cpu + 1) * sizeof(*nt)) : NULL;

			if (nb)
				t->busy = nb;
			if (!nt) {
				fclose(f);
				return -ENOMEM;
			}
			t->total = nt;
			for (unsigned i = t->n; i <= cpu; i++)
				t->busy[i] = t->total[i] = 0;
			t->n = cpu + 1;
		}
		/* user nice system idle iowait irq softirq steal */
		t->busy[cpu] = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
		t->total[cpu] = t->busy[cpu] + v[3] + v[4];
	}
	fclose(f);
	return 0;
}

static void cpu_times_free(struct cpu_times *t)
{
	free(t->busy);
	free(t->total);
}

/* One measurement window of seconds into res (and, for a mode, the load's
 * throughput and the CPUs' utilisation into m). */
static int measure(struct bench *b, double seconds, struct bench_probe_result *res, struct bench_mode_result *m)
{
	struct bench_shm *shm = b->shm;
	struct cpu_times t0 = {0}, t1 = {0};
	uint64_t bytes0, ops0, start, end;
	double wait = 3 + 2 * b->r.cfg.interval_us / 1e6;
	bool ct = shm->cyclictest;
	int r = -1;

	for (int p = 0; p < _BENCH_PROBE_MAX; p++) {
		hist_init(&shm->probe[p].hist);
		shm->probe[p].lost = 0;
	}
	shm->duration_ms = (unsigned)(seconds * 1000);
	read_cpu_times(&t0);
	bytes0 = atomic_load(&shm->stream_bytes);
	ops0 = atomic_load(&shm->hog_ops);
	start = now_ns();
	atomic_store(&shm->phase, BENCH_WORD(++b->gen, BENCH_MEASURE));
	if (bench_sleep(b, seconds) < 0)
		goto out;
	/* cyclictest measures its own whole seconds; wait for it too. */
	if (set_phase(b, BENCH_IDLE, ct ? wait + 15 : wait) < 0)
		goto out;
	end = now_ns();
	read_cpu_times(&t1);
	memcpy(res, shm->probe, sizeof(shm->probe));
	if (m) {
		double s = (double)(end - start) / 1e9;

		m->measured_s = ct ? seconds : s;
		m->stream_MBps = b->r.cfg.load_net ? (double)(atomic_load(&shm->stream_bytes) - bytes0) / s / 1e6 : -1;
		m->hog_ops =
		    b->r.cfg.load_cpu && b->r.cfg.n_hogs ? (double)(atomic_load(&shm->hog_ops) - ops0) / s : -1;
		m->n_cpus = t1.n;
		m->cpu_util_per_cpu = calloc(t1.n ? t1.n : 1, sizeof(double));
		if (m->cpu_util_per_cpu) {
			unsigned long long busy = 0, total = 0;

			for (unsigned i = 0; i < t1.n && i < t0.n; i++) {
				unsigned long long db = t1.busy[i] - t0.busy[i], dt = t1.total[i] - t0.total[i];

				m->cpu_util_per_cpu[i] = dt ? 100.0 * (double)db / (double)dt : 0;
				busy += db;
				total += dt;
			}
			m->cpu_util = total ? 100.0 * (double)busy / (double)total : 0;
		}
	}
	r = 0;
out:
	cpu_times_free(&t0);
	cpu_times_free(&t1);
	return r;
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

static int run_modes(struct bench *b)
{
	struct bench_config *cfg = &b->r.cfg;

	progress("calibration: the probes alone for %.0f s", cfg->calibration_s);
	if (measure(b, cfg->calibration_s, b->r.calibration, NULL) < 0)
		return -1;
	b->r.clock_read_ns = b->shm->clock_read_ns;
	b->r.record_ns = b->shm->record_ns;
	for (size_t i = 0; i < b->r.n_modes; i++) {
		struct bench_mode_result *m = &b->r.modes[i];

		if (interrupted)
			return -1;
		b->applied = true; /* from the first write on, revert */
		if (bench_apply(b, b->pol[i], &m->n_changed) < 0)
			return -1;
		progress("%s: applied (%u values changed); warming up %.0f s, measuring %.0f s", m->mode, m->n_changed,
			 cfg->warmup_s, cfg->duration_s);
		atomic_store(&b->shm->load_on, cfg->load_cpu || cfg->load_net);
		if (bench_sleep(b, cfg->warmup_s) < 0 || measure(b, cfg->duration_s, m->probe, m) < 0)
			return -1;
		atomic_store(&b->shm->load_on, 0);
		if (bench_revert(b) < 0)
			return -1;
	}
	return 0;
}

static int setup_shm(struct bench *b)
{
	b->shm_fd = memfd_create("isobench", MFD_CLOEXEC);
	if (b->shm_fd < 0 || ftruncate(b->shm_fd, sizeof(struct bench_shm)) < 0) {
		err_msg("bench: shared memory: %s", strerror(errno));
		return EXIT_FAIL;
	}
	b->shm = mmap(NULL, sizeof(struct bench_shm), PROT_READ | PROT_WRITE, MAP_SHARED, b->shm_fd, 0);
	if (b->shm == MAP_FAILED) {
		b->shm = NULL;
		err_msg("bench: shared memory: %s", strerror(errno));
		return EXIT_FAIL;
	}
	b->shm->interval_us = b->r.cfg.interval_us;
	b->shm->netrt_min_us = b->r.cfg.netrt_min_us;
	b->shm->netrt_max_us = b->r.cfg.netrt_max_us;
	b->shm->cyclictest = strcmp(b->r.cfg.probe_tool, "cyclictest") == 0;
	for (int p = 0; p < _BENCH_PROBE_MAX; p++)
		hist_init(&b->shm->probe[p].hist);
	return EXIT_OK;
}

/* Like cyclictest: keep the CPUs out of deep idle states while measuring
 * (the PM QoS request ends when the file is closed, however isoctl ends). */
static void hold_idle(struct bench *b)
{
	int32_t zero = 0;

	b->dma_fd = -1;
	if (b->c->bench.keep_idle)
		return;
	b->dma_fd = open("/dev/cpu_dma_latency", O_WRONLY | O_CLOEXEC);
	if (b->dma_fd >= 0 && write(b->dma_fd, &zero, sizeof(zero)) != sizeof(zero)) {
		close(b->dma_fd);
		b->dma_fd = -1;
	}
	b->r.cfg.pm_qos = b->dma_fd >= 0;
	if (b->dma_fd < 0)
		err_msg("bench: cannot hold /dev/cpu_dma_latency at 0 (%s); measuring with deep idle states",
			strerror(errno));
}

static int output(struct bench *b)
{
	struct ctx *c = b->c;
	char err[512];

	if (c->bench.plot && bench_write_svg(c->bench.plot, &b->r, err, sizeof(err)) < 0) {
		err_msg("--plot %s: %s", c->bench.plot, err);
		return EXIT_FAIL;
	}
	if (c->json)
		print_json(bench_json(&b->r));
	else if (c->bench.csv)
		bench_print_csv(stdout, &b->r);
	else
		bench_print_table(stdout, &b->r);
	return EXIT_OK;
}

/* Every probe measured something in every mode. */
static int check_samples(const struct bench *b)
{
	int ret = EXIT_OK;

	for (size_t i = 0; i < b->r.n_modes; i++)
		for (int p = 0; p < _BENCH_PROBE_MAX; p++)
			if (b->r.modes[i].probe[p].hist.count == 0) {
				err_msg("bench: %s: the %s probe measured nothing", b->r.modes[i].mode,
					bench_probe_name[p]);
				ret = EXIT_FAIL;
			}
	return ret;
}

int cmd_bench(struct ctx *c, int argc, char **argv)
{
	struct bench b = {.c = c, .shm_fd = -1, .dma_fd = -1};
	struct sigaction sa = {.sa_handler = on_signal};
	struct utsname u;
	int r, ret;

	if (argc < 1) {
		err_msg("usage: isoctl bench [--duration D] [--warmup D] [--probe isolated|cyclictest] "
			"[--net veth|loopback] [--load cpu,net|cpu|net|none] [--scope host] [--json|--csv] "
			"[--plot FILE.svg] MODE [MODE...]");
		return EXIT_USAGE;
	}
	for (int i = 0; i < argc; i++)
		if (!modes_name_valid(argv[i])) {
			err_msg("\"%s\" is not a mode name", argv[i]);
			return EXIT_USAGE;
		}
	if ((ret = parse_options(&b)) != EXIT_OK)
		goto out;
	if (geteuid() != 0) {
		err_msg("bench needs root: it applies modes and creates network namespaces");
		ret = EXIT_FAIL;
		goto out;
	}
	c->online_only = true;
	if ((ret = ctx_open_host(c)) != EXIT_OK || (ret = site_variables(&b)) != EXIT_OK ||
	    (ret = load_modes(&b, argv, (size_t)argc)) != EXIT_OK || (ret = check_host_free(&b)) != EXIT_OK)
		goto out;
	if (!c->bench.hogs)
		b.r.cfg.n_hogs = b.r.cfg.online_cpus;
	if (!b.r.cfg.load_cpu)
		b.r.cfg.n_hogs = 0;
	if (uname(&u) == 0)
		b.r.cfg.kernel = strdup(u.release);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	if ((ret = setup_shm(&b)) != EXIT_OK || (ret = start_processes(&b)) != EXIT_OK)
		goto stop;
	hold_idle(&b);
	r = run_modes(&b);
	ret = r < 0 ? EXIT_FAIL : EXIT_OK;
stop:
	kill_kids(&b);
	if (b.applied) {
		progress("reverting");
		if (bench_revert(&b) < 0) {
			err_msg("bench: the revert failed: run isoctl revert");
			ret = EXIT_FAIL;
		}
	}
	if (b.dma_fd >= 0)
		close(b.dma_fd);
	if (check_host_restored(&b) != EXIT_OK)
		ret = EXIT_FAIL;
	if (interrupted) {
		err_msg("bench: interrupted by signal %d; the host is back as it was", (int)interrupted);
		ret = EXIT_FAIL;
	} else if (ret == EXIT_OK) {
		ret = check_samples(&b);
		r = output(&b);
		if (r != EXIT_OK)
			ret = r;
	}
out:
	if (b.have_net)
		bench_net_done(&b.net);
	if (b.shm)
		munmap(b.shm, sizeof(*b.shm));
	if (b.shm_fd >= 0)
		close(b.shm_fd);
	for (size_t i = 0; b.pol && i < b.r.n_modes; i++)
		policy_free(b.pol[i]);
	free(b.pol);
	policy_free(b.vanilla);
	hostconf_free(b.hc);
	for (size_t i = 0; i < ARRAY_SIZE(b.sysctl_before); i++)
		free(b.sysctl_before[i]);
	bench_result_free(&b.r);
	return ret;
}
