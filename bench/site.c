/* What the bench measures: the site variables (host.conf's, with the
 * bench's own RT VM and CPUs over them) and the modes loaded with them,
 * scoped to the bench's processes unless --scope host. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "isolated/host.h"
#include "isolated/modes.h"
#include "isolated/procfmt.h"
#include "http.h"
#include "memcached.h"
#include "runner.h"

#define BENCH_VM_PREFIX "isobench-"
/* The RT probes are the RT VM's vCPUs 1 and 2 (probe.c). */
#define BENCH_VCPUS "1-2"
#define HELD_SYSCTL "kernel.sched_rt_runtime_us"

static void print_diag(const struct diag *d)
{
	for (size_t i = 0; i < d->n; i++)
		fprintf(stderr, "%s\n", d->lines[i]);
}

static int push_var(char ***v, const char *name, const char *value)
{
	return strv_push(v, util_sprintf("%s=%s", name, value));
}

/* host.conf's assignments but the bench's own, then the bench's. */
static int site_assignments(const struct bench_config *cfg, const struct hostconf *site, char ***assign)
{
	/* --workload http and memcached: the bench's server is the RT
	 * service (only it: the modes are scoped to the bench's processes).
	 * Else host.conf's, empty by default. */
	const char *server = bench_workload_http(cfg)	     ? BENCH_HTTP_SERVER
			     : bench_workload_memcached(cfg) ? BENCH_MC_SERVER
							     : NULL;

	for (size_t i = 0; site && i < site->n_vars; i++) {
		const struct var *v = &site->vars[i];
		static const char *const ours[] = {"rt_cpus", "housekeeping_cpus", "rt_vm", "rt_vcpus", "online_cpus"};
		bool skip = server && strcmp(v->name, "rt_process") == 0;

		for (size_t j = 0; j < ARRAY_SIZE(ours); j++)
			skip |= strcmp(v->name, ours[j]) == 0;
		if (!skip && push_var(assign, v->name, v->value) < 0)
			return -ENOMEM;
	}
	if (push_var(assign, "rt_cpus", cfg->rt_cpus) < 0 ||
	    push_var(assign, "housekeeping_cpus", cfg->housekeeping_cpus) < 0 ||
	    push_var(assign, "rt_vm", cfg->rt_vm) < 0 || push_var(assign, "rt_vcpus", BENCH_VCPUS) < 0)
		return -ENOMEM;
	/* What the shipped modes refer to and a host without host.conf lacks:
	 * the RT NIC is the server side of the bench's network (it has no
	 * IRQs), the RT poll_list priority the shipped example's. */
	if (!site || !hostconf_get(site, "rt_nic"))
		if (push_var(assign, "rt_nic", "isobench1") < 0)
			return -ENOMEM;
	if (server && push_var(assign, "rt_process", server) < 0)
		return -ENOMEM;
	if (!site || !hostconf_get(site, "rtnet_prio"))
		if (push_var(assign, "rtnet_prio", "60") < 0)
			return -ENOMEM;
	return 0;
}

/* host.conf's variables (when there is one) with the bench's RT VM and CPUs
 * over them. */
int bench_site_variables(struct bench *b)
{
	const struct cpuset *online = b->online;
	struct bench_config *cfg = &b->r.cfg;
	struct hostconf *site = NULL;
	struct diag d = {0};
	struct cpuset rt = {0}, hk = {0};
	char **assign = NULL, msg[256], *list = NULL;
	const char *rt_list = NULL, *hk_list = NULL;
	int r, ret = BENCH_USAGE;

	cfg->online_cpus = cpuset_count(online);
	if (cfg->online_cpus < 2) {
		b->env->err("bench needs 2 online CPUs or more: one for the RT probes, one for housekeeping");
		return BENCH_FAIL;
	}
	r = hostconf_load(b->env->hostconf_path, online, &site, &d);
	if (r < 0 && r != -ENOENT) {
		print_diag(&d);
		goto out;
	}
	if (b->opt.rt_cpus)
		rt_list = b->opt.rt_cpus;
	else if (site && hostconf_get(site, "rt_cpus") && *hostconf_get(site, "rt_cpus")) {
		rt_list = hostconf_get(site, "rt_cpus");
		hk_list = hostconf_get(site, "housekeeping_cpus");
	}
	if (rt_list) {
		if (cpuset_parse_list(rt_list, &rt, msg, sizeof(msg)) < 0) {
			b->env->err("--rt-cpus %s: %s", rt_list, msg);
			goto out;
		}
		if (!cpuset_subset(&rt, online) || cpuset_empty(&rt) || cpuset_count(&rt) >= cfg->online_cpus) {
			if (cpuset_format_list(online, &list) < 0)
				goto oom;
			b->env->err("--rt-cpus %s: one or more online CPUs, not all of them (online: %s)", rt_list,
				    list);
			goto out;
		}
	} else if (cpuset_set(&rt, (unsigned)cpuset_last(online)) < 0)
		goto oom;
	if (hk_list) {
		if (cpuset_parse_list(hk_list, &hk, msg, sizeof(msg)) < 0)
			goto out;
	} else if (cpuset_andnot(&hk, online, &rt) < 0)
		goto oom;
	if (cpuset_format_list(&rt, &cfg->rt_cpus) < 0 || cpuset_format_list(&hk, &cfg->housekeeping_cpus) < 0)
		goto oom;
	cfg->rt_vm = util_sprintf(BENCH_VM_PREFIX "%d", getpid());
	if (!cfg->rt_cpus || !cfg->housekeeping_cpus || !cfg->rt_vm)
		goto oom;
	if (site_assignments(cfg, site, &assign) < 0)
		goto oom;
	diag_free(&d);
	if (hostconf_from_strv(assign, online, &b->hc, &d) < 0) {
		print_diag(&d);
		goto out;
	}
	ret = BENCH_OK;
	goto out;
oom:
	b->env->err("out of memory");
	ret = BENCH_FAIL;
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

	host_read(b->host, "sys/kernel/realtime", &rt, NULL);
	host_read(b->host, "proc/sys/kernel/version", &version, NULL);
	host_read(b->host, "proc/cmdline", &cmdline, NULL);
	yes = (rt && strcmp(util_strip(rt), "1") == 0) || (version && strstr(version, "PREEMPT_RT")) ||
	      (cmdline && procfmt_cmdline_get(cmdline, "threadirqs", NULL) == 1);
	free(rt);
	free(version);
	free(cmdline);
	return yes;
}

int bench_load_modes(struct bench *b, char **modes, size_t n)
{
	const struct bench_env *env = b->env;
	struct scope s = {0};
	char err[256], *scope;

	scope = env->scope ? strdup("host") : util_sprintf("process:%d", getpid());
	if (!scope || policy_scope_parse(scope, &s, err, sizeof(err)) < 0) {
		free(scope);
		b->env->err("out of memory");
		return BENCH_FAIL;
	}
	b->r.cfg.scope = scope;
	b->pol = calloc(n, sizeof(*b->pol));
	b->r.modes = calloc(n, sizeof(*b->r.modes));
	if (!b->pol || !b->r.modes)
		goto oom;
	for (size_t i = 0; i < n; i++) {
		struct diag d = {0};

		switch (modes_load(env->policy_dirs, b->hc, b->online, modes[i], &b->pol[i], &d)) {
		case MODES_OK:
			break;
		case MODES_USAGE:
			print_diag(&d);
			diag_free(&d);
			policy_scope_done(&s);
			return BENCH_USAGE;
		default:
			print_diag(&d);
			diag_free(&d);
			policy_scope_done(&s);
			return BENCH_FAIL;
		}
		print_diag(&d); /* warnings */
		diag_free(&d);
		b->r.n_modes = i + 1;
		if (!(b->r.modes[i].mode = strdup(modes[i])) || policy_set_scope(b->pol[i], &s) < 0)
			goto oom;
		if (!env->scope && hold_back(b, b->pol[i]) < 0)
			goto oom;
		/* The bench measures what the mode does on this kernel, but a
		 * mode built for another should not be mistaken for bad. */
		if ((b->pol[i]->requires & POLICY_REQ_PREEMPT_RT) && !threaded_irqs(b))
			b->env->err(
			    "bench: warning: %s requires threaded IRQs (PREEMPT_RT or threadirqs) and this kernel "
			    "has none: softirq work stays with whatever it interrupts (isoctl check %s)",
			    modes[i], modes[i]);
	}
	policy_scope_done(&s);
	if (modes_vanilla(&b->vanilla) < 0)
		return BENCH_FAIL;
	return BENCH_OK;
oom:
	policy_scope_done(&s);
	b->env->err("out of memory");
	return BENCH_FAIL;
}
