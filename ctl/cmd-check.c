/* isoctl check: is the host ready for a mode (boot parameters now and at
 * next boot, their consistency, kernel features, other tuners that would
 * fight us)? */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "isolated/action.h"
#include "isolated/cgroup.h"
#include "isolated/boot.h"
#include "isolated/grub.h"
#include "isolated/util.h"
#include "isolated/procfmt.h"
#include "isoctl.h"

enum verdict { V_OK, V_FAIL, V_WARN, V_INFO };
static const char *const verdict_names[] = {"ok", "FAIL", "warn", "info"};

struct report {
	json_object *items;
	bool failed;
	bool json;
};

static void item(struct report *rep, enum verdict v, const char *what, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void item(struct report *rep, enum verdict v, const char *what, const char *fmt, ...)
{
	va_list ap;
	char *detail = NULL;

	va_start(ap, fmt);
	if (vasprintf(&detail, fmt, ap) < 0)
		detail = NULL;
	va_end(ap);
	if (v == V_FAIL)
		rep->failed = true;
	if (rep->json) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "status", json_str(v == V_FAIL ? "fail" : verdict_names[v]));
		json_object_object_add(o, "item", json_str(what));
		json_object_object_add(o, "detail", json_str(detail ? detail : ""));
		json_object_array_add(rep->items, o);
	} else
		print_line("%-5s %-32s %s", verdict_names[v], what, detail ? detail : "");
	free(detail);
}

/* isolcpus may carry flags before its list ("isolcpus=managed_irq,domain,2-3"). */
static const char *cpulist_part(const char *key, const char *value)
{
	if (strcmp(key, "isolcpus") == 0)
		while (value && (!strncmp(value, "nohz,", 5) || !strncmp(value, "domain,", 7) ||
				 !strncmp(value, "managed_irq,", 12)))
			value = strchr(value, ',') + 1;
	return value;
}

static char *grub_line(const struct host_state *s)
{
	return util_sprintf("%s %s", s->grub_cmdline_linux ? s->grub_cmdline_linux : "",
			    s->grub_cmdline_linux_default ? s->grub_cmdline_linux_default : "");
}

/* One required or recommended parameter, at runtime and at next boot. */
static void check_param(struct report *rep, const struct host_state *s, const char *param, bool required)
{
	const char *want;
	char *key = grub_param_split(param, &want);
	char *now = NULL, *next = NULL, *grub = NULL;
	char what[96];
	int has_now, has_next = 0;
	enum verdict bad = required ? V_FAIL : V_WARN;

	if (!key)
		return;
	snprintf(what, sizeof(what), "%s %s", required ? "boot" : "recommend", key);
	has_now = procfmt_cmdline_get(s->cmdline ? s->cmdline : "", key, &now) == 1;
	if (s->has_grub) {
		grub = grub_line(s);
		has_next = grub && procfmt_cmdline_get(grub, key, &next) == 1;
	}
#define SAME(v) grub_param_equal(key, (v), want)
	if (has_now && SAME(now))
		item(rep, V_OK, what, "%s in effect", param);
	else if (has_now)
		item(rep, bad, what, "running kernel has %s=%s, the mode wants %s", key, now ? now : "", param);
	else
		item(rep, bad, what, "%s missing from the running kernel's command line", param);
	if (!s->has_grub)
		; /* said once by cmd_check */
	else if (has_next && SAME(next)) {
		if (!(has_now && SAME(now)))
			item(rep, V_INFO, what, "%s is in etc/default/grub: in effect after update-grub and a reboot",
			     param);
	} else if (has_next)
		item(rep, bad, what, "etc/default/grub has %s=%s, the mode wants %s (see isoctl grub)", key,
		     next ? next : "", param);
	else
		item(rep, bad, what, "%s missing from etc/default/grub (see isoctl grub)", param);
#undef SAME
	free(key);
	free(now);
	free(next);
	free(grub);
}

static bool get_cpus(const char *cmdline, const char *key, struct cpuset *ret)
{
	char *v = NULL, err[128];
	bool ok = false;

	if (procfmt_cmdline_get(cmdline, key, &v) == 1 && v)
		ok = cpuset_parse_list(cpulist_part(key, v), ret, err, sizeof(err)) == 0;
	free(v);
	return ok;
}

/* nohz_full within isolcpus, rcu_nocbs covering nohz_full, irqaffinity the
 * complement of the isolated CPUs, idle=poll vs intel_idle.max_cstate. */
static void check_consistency(struct report *rep, const struct host_state *s, const char *where, const char *cmdline)
{
	struct cpuset iso = CPUSET_INIT, nohz = CPUSET_INIT, nocb = CPUSET_INIT, aff = CPUSET_INIT;
	struct cpuset hk = CPUSET_INIT;
	bool has_iso = get_cpus(cmdline, "isolcpus", &iso), has_nohz = get_cpus(cmdline, "nohz_full", &nohz);
	bool has_nocb = get_cpus(cmdline, "rcu_nocbs", &nocb), has_aff = get_cpus(cmdline, "irqaffinity", &aff);
	char what[64], *v = NULL;

	snprintf(what, sizeof(what), "consistency (%s)", where);
	if (has_nohz && has_iso && !cpuset_subset(&nohz, &iso))
		item(rep, V_FAIL, what, "nohz_full names CPUs that are not in isolcpus");
	if (has_nohz && (!has_nocb || !cpuset_subset(&nohz, &nocb)))
		item(rep, V_FAIL, what,
		     "rcu_nocbs does not cover nohz_full: RCU callbacks would still run on "
		     "the tickless CPUs");
	if (has_aff && has_iso) {
		cpuset_andnot(&hk, &s->online, &iso);
		if (cpuset_intersects(&aff, &iso))
			item(rep, V_FAIL, what, "irqaffinity includes isolated CPUs");
		else if (!cpuset_equal(&aff, &hk))
			item(rep, V_FAIL, what, "irqaffinity is not the complement of isolcpus within the online CPUs");
		else
			item(rep, V_OK, what, "irqaffinity is the complement of isolcpus");
	}
	if (procfmt_cmdline_get(cmdline, "idle", &v) == 1 && v && strcmp(v, "poll") == 0) {
		char *m = NULL;

		if (procfmt_cmdline_get(cmdline, "intel_idle.max_cstate", &m) == 1)
			item(rep, V_INFO, what,
			     "idle=poll already keeps every CPU out of idle states; "
			     "intel_idle.max_cstate is then redundant");
		else
			item(rep, V_INFO, what, "idle=poll spins every CPU, housekeeping ones too, at full power");
		free(m);
	}
	free(v);
	cpuset_free(&iso);
	cpuset_free(&nohz);
	cpuset_free(&nocb);
	cpuset_free(&aff);
	cpuset_free(&hk);
}

static const struct task_info *find_process(const struct host_state *s, const char *comm)
{
	for (size_t i = 0; i < s->n_tasks; i++)
		if (s->tasks[i].tid == s->tasks[i].tgid && s->tasks[i].comm && strcmp(s->tasks[i].comm, comm) == 0)
			return &s->tasks[i];
	return NULL;
}

/* The variables irqbalance takes its banned CPUs from, in whichever defaults
 * file the distribution uses (Debian: /etc/default, Fedora: /etc/sysconfig). */
static void irqbalance_banned(const struct host *h, char **ret_list, char **ret_mask)
{
	static const char *const files[] = {"etc/default/irqbalance", "etc/sysconfig/irqbalance"};
	static const char *const names[] = {"IRQBALANCE_BANNED_CPULIST", "IRQBALANCE_BANNED_CPUS", NULL};

	*ret_list = *ret_mask = NULL;
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		char *buf = NULL, *v[2];
		size_t len;

		if (host_read(h, files[i], &buf, &len) < 0)
			continue;
		if (procfmt_parse_shell(buf, len, names, v) == 0) {
			*ret_list = v[0];
			*ret_mask = v[1];
			free(buf);
			return;
		}
		free(buf);
	}
}

static void check_tuners(struct report *rep, struct ctx *c, const struct policy *p)
{
	const struct host_state *s = c->state;
	const struct task_info *t;
	bool moves_irqs = false;

	for (size_t i = 0; i < p->n_irq_rules; i++)
		moves_irqs |= p->irq_rules[i].has_cpus;
	t = find_process(s, "irqbalance");
	if (t && moves_irqs) {
		/* irqbalance leaves alone the CPUs it is told to ban, and (since
		 * 1.8) those in isolcpus and nohz_full. */
		struct cpuset banned = CPUSET_INIT, x = CPUSET_INIT;
		char *list, *mask, err[128], *rt = NULL;

		irqbalance_banned(c->host, &list, &mask);

		if (list && cpuset_parse_list(list, &x, err, sizeof(err)) == 0)
			cpuset_or(&banned, &banned, &x);
		if (mask && cpuset_parse_mask(mask, &x, err, sizeof(err)) == 0)
			cpuset_or(&banned, &banned, &x);
		if (get_cpus(s->cmdline ? s->cmdline : "", "isolcpus", &x))
			cpuset_or(&banned, &banned, &x);
		if (get_cpus(s->cmdline ? s->cmdline : "", "nohz_full", &x))
			cpuset_or(&banned, &banned, &x);
		cpuset_format_list(&p->rt_cpus, &rt);
		if (!cpuset_empty(&p->rt_cpus) && !cpuset_subset(&p->rt_cpus, &banned) && p->has_irqbalance &&
		    cpuset_subset(&p->rt_cpus, &p->irqbalance_banned))
			item(
			    rep, V_FAIL, "tuner irqbalance",
			    "irqbalance (pid %d) runs without the RT CPUs %s banned: it will move IRQs back onto them; "
			    "isoctl apply %s bans them ([irqbalance]) and restarts it",
			    t->tid, rt ? rt : "?", p->name);
		else if (!cpuset_empty(&p->rt_cpus) && !cpuset_subset(&p->rt_cpus, &banned))
			item(
			    rep, V_FAIL, "tuner irqbalance",
			    "irqbalance (pid %d) runs without the RT CPUs %s banned: it will move IRQs back onto them; "
			    "add [irqbalance] banned = ${rt_cpus} to the policy, set IRQBALANCE_BANNED_CPULIST=%s in "
			    "/etc/default/irqbalance, or stop it",
			    t->tid, rt ? rt : "?", rt ? rt : "?");
		else
			item(rep, V_OK, "tuner irqbalance", "irqbalance (pid %d) keeps off the RT CPUs", t->tid);
		free(rt);
		free(list);
		free(mask);
		cpuset_free(&banned);
		cpuset_free(&x);
	}
	t = find_process(s, "tuned");
	if (t) {
		char *profile = NULL;
		size_t len;

		if (host_read(c->host, "etc/tuned/active_profile", &profile, &len) == 0)
			util_strip(profile);
		item(rep, V_WARN, "tuner tuned",
		     "tuned (pid %d) is running%s%s%s: its profile may set the same knobs (affinity, sysctls, "
		     "cmdline); stop it or use a profile that leaves them alone",
		     t->tid, profile && *profile ? " with profile \"" : "", profile && *profile ? profile : "",
		     profile && *profile ? "\"" : "");
		free(profile);
	}
	t = find_process(s, "stalld");
	if (t)
		item(rep, V_INFO, "tuner stalld",
		     "stalld (pid %d) is running: it boosts starving threads with SCHED_DEADLINE, also on RT CPUs "
		     "unless told otherwise (-a/--affinity)",
		     t->tid);
}

static void check_kernel(struct report *rep, const struct host_state *s, const struct policy *p)
{
	if (p->requires & POLICY_REQ_PREEMPT_RT) {
		if (s->preempt_rt)
			item(rep, V_OK, "kernel preempt-rt", "PREEMPT_RT kernel %s", s->osrelease ? s->osrelease : "");
		else if (s->cmdline && procfmt_cmdline_get(s->cmdline, "threadirqs", NULL) == 1)
			item(rep, V_OK, "kernel preempt-rt", "threadirqs: IRQ handlers run in threads");
		else
			item(rep, V_FAIL, "kernel preempt-rt",
			     "kernel %s is not PREEMPT_RT and was not booted with threadirqs: there are no IRQ threads "
			     "to prioritise (install linux-image-rt-amd64, or add threadirqs)",
			     s->osrelease ? s->osrelease : "?");
	}
	if ((p->requires & POLICY_REQ_RTNET) || p->type == MODE_TYPE_OUTSOURCING) {
		const char *v = host_state_sysctl(s, "net.core.rtnet_prio");

		if (v)
			item(rep, V_OK, "kernel rtnet_prio", "net.core.rtnet_prio = %s", v);
		else
			item(rep, V_FAIL, "kernel rtnet_prio",
			     "no net.core.rtnet_prio: outsourcing needs the RT softirq poll_list kernel patch");
	}
}

/* What the next boot changes: the mode's boot files as isoctl boot apply
 * writes them against what is written and what the running kernel has.
 * A warning when only a reboot closes the difference. */
static void check_boot_pending(struct report *rep, struct ctx *c, const struct policy *p)
{
	struct boot_wants w;
	char **modprobe = NULL, **lines = NULL;
	bool reboot = false;

	boot_wants_of(p, &w, &modprobe);
	if (boot_pending(c->host, &w, &lines, &reboot) == 0) {
		for (size_t i = 0; lines && lines[i]; i++)
			item(rep, V_INFO, "next boot", "%s", lines[i]);
		if (reboot)
			item(rep, V_WARN, "reboot",
			     "reboot needed: the running kernel differs from what is written for "
			     "the next boot (the \"next boot\" items)");
	}
	strv_free(lines);
	strv_free(modprobe);
}

/* [partition]: what the running kernel's cpusets give at run time, and
 * what only the boot command line gives. Information: the plan says what
 * cannot be done. */
static void check_partition(struct report *rep, struct ctx *c, const struct policy *p)
{
	enum cgroup_kind kind;
	const char *mount;
	char *cpus = NULL, *iso = NULL, *gives;

	if (!p->partition.set)
		return;
	cpus = action_cpus_format(&p->partition.cpus);
	(void)host_cpuset_hierarchy(c->host, &kind, &mount);
	if (host_read_cpus_isolated(c->host, &iso) < 0)
		iso = NULL;
	gives = partition_gives(kind, cpus ? cpus : "?", iso);
	item(rep, V_INFO, "partition", "%s", gives ? gives : "out of memory");
	item(rep, V_INFO, "partition boot", "%s", partition_boot_only);
	free(gives);
	free(iso);
	free(cpus);
}

static int check_all(struct ctx *c)
{
	char **files = NULL;
	size_t bad = 0, good = 0;
	int r;

	if ((r = ctx_load_config(c)) != EXIT_OK)
		return r;
	for (size_t i = 0; c->policy_dirs[i]; i++) {
		if (policy_list_dir(c->policy_dirs[i], &files) < 0)
			continue;
		for (size_t j = 0; files[j]; j++) {
			struct diag d = {0};
			struct policy *p = NULL;

			if (policy_load(files[j], c->hc, &c->state->online, &p, &d) < 0) {
				for (size_t k = 0; k < d.n; k++)
					fprintf(stderr, "%s\n", d.lines[k]);
				if (!d.n)
					err_msg("%s: cannot load", files[j]);
				bad++;
			} else {
				if (!c->json)
					print_line("ok    %s", files[j]);
				good++;
			}
			policy_free(p);
			diag_free(&d);
		}
		strv_free(files);
		files = NULL;
	}
	if (good + bad == 0) {
		err_msg("no policies found");
		return EXIT_FAIL;
	}
	if (c->json) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "valid", json_object_new_int64((int64_t)good));
		json_object_object_add(o, "invalid", json_object_new_int64((int64_t)bad));
		print_json(o);
	}
	return bad ? EXIT_USAGE : EXIT_OK;
}

int cmd_check(struct ctx *c, int argc, char **argv)
{
	struct report rep = {.json = c->json};
	struct policy *p = NULL;
	int r;

	if (argc == 0)
		return check_all(c);
	if (argc != 1) {
		err_msg("usage: isoctl check [MODE]");
		return EXIT_USAGE;
	}
	if ((r = ctx_load_policy(c, argv[0], &p)) != EXIT_OK)
		return r;
	if (rep.json)
		rep.items = json_object_new_array();
	else
		printf("Checking mode %s on %s\n", p->name, c->root ? c->root : "this host");
	if ((p->cmdline_require || p->cmdline_recommend) && !c->state->has_grub)
		item(&rep, V_INFO, "boot (next)", "no etc/default/grub: the next boot's parameters are not checked");
	for (size_t i = 0; p->cmdline_require && p->cmdline_require[i]; i++)
		check_param(&rep, c->state, p->cmdline_require[i], true);
	for (size_t i = 0; p->cmdline_recommend && p->cmdline_recommend[i]; i++)
		check_param(&rep, c->state, p->cmdline_recommend[i], false);
	/* Boot parameters of a mode that needs none are not its business. */
	if (p->cmdline_require || p->cmdline_recommend)
		check_consistency(&rep, c->state, "running", c->state->cmdline ? c->state->cmdline : "");
	if ((p->cmdline_require || p->cmdline_recommend) && c->state->has_grub) {
		char *g = grub_line(c->state);

		if (g)
			check_consistency(&rep, c->state, "next boot", g);
		free(g);
	}
	check_kernel(&rep, c->state, p);
	check_partition(&rep, c, p);
	check_boot_pending(&rep, c, p);
	check_tuners(&rep, c, p);
	if (rep.json) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "mode", json_str(p->name));
		json_object_object_add(o, "ok", json_object_new_boolean(!rep.failed));
		json_object_object_add(o, "items", rep.items);
		print_json(o);
	} else
		printf("%s\n", rep.failed ? "mode requirements NOT met" : "all requirements met");
	policy_free(p);
	return rep.failed ? EXIT_FAIL : EXIT_OK;
}
