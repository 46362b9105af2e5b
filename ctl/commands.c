/* isoctl's read-only views: list, show, plan, status, snapshot. Each prints a
 * table for people or, with --json, one JSON document for scripts. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "isoctl.h"

static int want_args(int argc, int n, const char *usage)
{
	if (argc != n) {
		err_msg("usage: isoctl %s", usage);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

static char *list_of(const struct cpuset *s)
{
	char *out = NULL;

	if (cpuset_format_list(s, &out) < 0)
		return NULL;
	return out;
}

/* ---- list ---- */

static int mode_names(struct ctx *c, char ***ret)
{
	char **names = NULL;

	for (size_t i = 0; c->policy_dirs[i]; i++) {
		char **files = NULL;

		if (policy_list_dir(c->policy_dirs[i], &files) < 0)
			continue;
		for (size_t j = 0; files[j]; j++) {
			const char *base = strrchr(files[j], '/');
			char *name = strdup(base ? base + 1 : files[j]);

			if (!name)
				continue;
			name[strlen(name) - strlen(".conf")] = '\0';
			if (strv_contains(names, name))
				free(name);
			else
				strv_push(&names, name);
		}
		strv_free(files);
	}
	*ret = names;
	return 0;
}

int cmd_list(struct ctx *c, int argc, char **argv)
{
	json_object *arr = NULL;
	char **names = NULL;
	int r;

	(void)argv;
	if ((r = want_args(argc, 0, "list")) != EXIT_OK)
		return r;
	if ((r = ctx_load_config(c)) != EXIT_OK)
		return r;
	mode_names(c, &names);
	if (!names) {
		err_msg("no policies found");
		return EXIT_FAIL;
	}
	if (c->json)
		arr = json_object_new_array();
	else
		printf("%-16s %-12s %s\n", "MODE", "TYPE", "SUMMARY");
	for (size_t i = 0; names[i]; i++) {
		struct policy *p = NULL;
		struct diag d = {0};

		/* Errors of one mode must not hide the others: list says which
		 * are broken, check and show say why. */
		ctx_policy(c, names[i], &p, &d);
		if (c->json) {
			json_object *o = json_object_new_object();

			json_object_object_add(o, "name", json_str(names[i]));
			json_object_object_add(o, "type", p ? json_str(policy_mode_type_name(p->type)) : NULL);
			json_object_object_add(o, "summary", p && p->summary ? json_str(p->summary) : NULL);
			json_object_object_add(o, "file", p ? json_str(p->file) : NULL);
			json_object_object_add(o, "valid", json_object_new_boolean(p != NULL));
			if (!p) {
				json_object *errs = json_object_new_array();

				for (size_t k = 0; k < d.n; k++)
					json_object_array_add(errs, json_str(d.lines[k]));
				json_object_object_add(o, "errors", errs);
			}
			json_object_array_add(arr, o);
		} else if (p)
			printf("%-16s %-12s %s\n", names[i], policy_mode_type_name(p->type),
			       p->summary ? p->summary : "");
		else
			printf("%-16s %-12s %s\n", names[i], "INVALID", "has errors: see isoctl check");
		diag_free(&d);
		policy_free(p);
	}
	strv_free(names);
	if (c->json)
		print_json(arr);
	return EXIT_OK;
}

/* ---- show ---- */

static const char *req_names(unsigned req, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s", req & POLICY_REQ_PREEMPT_RT ? "preempt-rt" : "",
		 (req & POLICY_REQ_PREEMPT_RT) && (req & POLICY_REQ_RTNET) ? " " : "",
		 req & POLICY_REQ_RTNET ? "rtnet" : "");
	return buf;
}

static char *joined(char *const *v)
{
	size_t len = 1;
	char *s;

	for (size_t i = 0; v && v[i]; i++)
		len += strlen(v[i]) + 1;
	s = calloc(1, len);
	for (size_t i = 0; s && v && v[i]; i++) {
		if (i)
			strcat(s, " ");
		strcat(s, v[i]);
	}
	return s;
}

static json_object *rule_json(const struct rule *r)
{
	json_object *o = json_object_new_object();
	char buf[32];

	json_object_object_add(o, "name", json_str(r->name));
	json_object_object_add(o, "match", json_str(r->match_text));
	if (r->has_cpus)
		json_object_object_add(o, "cpus", json_str(r->cpus_text));
	if (r->sched.kind != SCHED_KIND_UNSET)
		json_object_object_add(o, "sched", json_str(policy_sched_format(&r->sched, buf, sizeof(buf))));
	if (r->thread.kind != SCHED_KIND_UNSET)
		json_object_object_add(o, "thread", json_str(policy_sched_format(&r->thread, buf, sizeof(buf))));
	return o;
}

static void rule_print(const struct rule *r)
{
	char buf[32];

	printf("\n[%s %s]\nmatch = %s\n", r->is_irq ? "irq" : "thread", r->name, r->match_text ? r->match_text : "");
	if (r->has_cpus)
		printf("cpus = %s\n", r->cpus_text ? r->cpus_text : "");
	if (r->sched.kind != SCHED_KIND_UNSET)
		printf("sched = %s\n", policy_sched_format(&r->sched, buf, sizeof(buf)));
	if (r->thread.kind != SCHED_KIND_UNSET)
		printf("thread = %s\n", policy_sched_format(&r->thread, buf, sizeof(buf)));
}

int cmd_show(struct ctx *c, int argc, char **argv)
{
	struct policy *p = NULL;
	char req[64];
	char *require, *recommend;
	int r;

	if ((r = want_args(argc, 1, "show MODE")) != EXIT_OK)
		return r;
	if ((r = ctx_load_policy(c, argv[0], &p)) != EXIT_OK)
		return r;
	require = joined(p->cmdline_require);
	recommend = joined(p->cmdline_recommend);
	if (c->json) {
		json_object *o = json_object_new_object(), *vars = json_object_new_object();
		json_object *sys = json_object_new_object(), *irqs = json_object_new_array();
		json_object *threads = json_object_new_array();

		json_object_object_add(o, "name", json_str(p->name));
		json_object_object_add(o, "file", json_str(p->file));
		json_object_object_add(o, "type", json_str(policy_mode_type_name(p->type)));
		json_object_object_add(o, "summary", json_str(p->summary));
		json_object_object_add(o, "requires", json_str(req_names(p->requires, req, sizeof(req))));
		json_object_object_add(o, "strict", json_object_new_boolean(p->strict));
		for (size_t i = 0; i < c->hc->n_vars; i++)
			json_object_object_add(vars, c->hc->vars[i].name, json_str(c->hc->vars[i].value));
		json_object_object_add(o, "variables", vars);
		for (size_t i = 0; i < p->n_sysctls; i++)
			json_object_object_add(sys, p->sysctls[i].name, json_str(p->sysctls[i].value));
		json_object_object_add(o, "sysctl", sys);
		json_object_object_add(o, "cmdline_require", json_str(require));
		json_object_object_add(o, "cmdline_recommend", json_str(recommend));
		for (size_t i = 0; i < p->n_irq_rules; i++)
			json_object_array_add(irqs, rule_json(&p->irq_rules[i]));
		for (size_t i = 0; i < p->n_thread_rules; i++)
			json_object_array_add(threads, rule_json(&p->thread_rules[i]));
		json_object_object_add(o, "irq_rules", irqs);
		json_object_object_add(o, "thread_rules", threads);
		print_json(o);
	} else {
		printf("# %s, variables from %s resolved:\n", p->file, c->hc->file ? c->hc->file : "(none)");
		for (size_t i = 0; i < c->hc->n_vars; i++)
			printf("#   %s = %s\n", c->hc->vars[i].name, c->hc->vars[i].value);
		printf("\n[mode]\nname = %s\ntype = %s\n", p->name, policy_mode_type_name(p->type));
		if (p->summary)
			printf("summary = %s\n", p->summary);
		if (p->requires)
			printf("requires = %s\n", req_names(p->requires, req, sizeof(req)));
		if (p->strict)
			printf("strict = yes\n");
		if (p->n_sysctls) {
			printf("\n[sysctl]\n");
			for (size_t i = 0; i < p->n_sysctls; i++)
				printf("%s = %s\n", p->sysctls[i].name, p->sysctls[i].value);
		}
		if ((require && *require) || (recommend && *recommend)) {
			printf("\n[cmdline]\n");
			if (require && *require)
				printf("require = %s\n", require);
			if (recommend && *recommend)
				printf("recommend = %s\n", recommend);
		}
		for (size_t i = 0; i < p->n_irq_rules; i++)
			rule_print(&p->irq_rules[i]);
		for (size_t i = 0; i < p->n_thread_rules; i++)
			rule_print(&p->thread_rules[i]);
	}
	free(require);
	free(recommend);
	policy_free(p);
	return EXIT_OK;
}

/* ---- plan ---- */

static const char *const kind_titles[_ACTION_KIND_MAX] = {
    [ACTION_SYSCTL] = "sysctl",
    [ACTION_IRQ_AFFINITY] = "IRQ affinity",
    [ACTION_THREAD_AFFINITY] = "thread affinity",
    [ACTION_THREAD_SCHED] = "thread scheduling",
    [ACTION_CPUMASK] = "cpumask",
};

const char *kind_title(enum action_kind k)
{
	return k < _ACTION_KIND_MAX && kind_titles[k] ? kind_titles[k] : "?";
}

static json_object *action_json(const struct action *a)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "kind", json_str(plan_action_kind_name(a->kind)));
	json_object_object_add(o, "target", json_str(a->target));
	json_object_object_add(o, "label", json_str(a->label));
	json_object_object_add(o, "from", json_str(a->from));
	json_object_object_add(o, "to", json_str(a->to));
	json_object_object_add(o, "rule", json_str(a->rule));
	json_object_object_add(o, "rt", json_object_new_boolean(a->rt));
	return o;
}

static json_object *plan_json(const struct plan *pl, const struct host_state *s)
{
	json_object *o = json_object_new_object(), *acts = json_object_new_array();
	json_object *skips = json_object_new_array(), *warns = json_object_new_array();
	json_object *counts = json_object_new_object();
	char *online = list_of(&s->online);

	json_object_object_add(o, "mode", json_str(pl->policy->name));
	json_object_object_add(o, "type", json_str(policy_mode_type_name(pl->policy->type)));
	json_object_object_add(o, "kernel", json_str(s->osrelease));
	json_object_object_add(o, "preempt_rt", json_object_new_boolean(s->preempt_rt));
	json_object_object_add(o, "online_cpus", json_str(online));
	free(online);
	for (size_t i = 0; i < pl->n_actions; i++)
		json_object_array_add(acts, action_json(&pl->actions[i]));
	for (size_t i = 0; i < pl->n_skips; i++) {
		json_object *k = json_object_new_object();

		json_object_object_add(k, "kind", json_str(plan_action_kind_name(pl->skips[i].kind)));
		json_object_object_add(k, "target", json_str(pl->skips[i].target));
		json_object_object_add(k, "label", json_str(pl->skips[i].label));
		json_object_object_add(k, "reason", json_str(pl->skips[i].reason));
		json_object_object_add(k, "rule", json_str(pl->skips[i].rule));
		json_object_array_add(skips, k);
	}
	for (size_t i = 0; pl->warnings && pl->warnings[i]; i++)
		json_object_array_add(warns, json_str(pl->warnings[i]));
	for (int k = 0; k < _ACTION_KIND_MAX; k++)
		json_object_object_add(counts, plan_action_kind_name((enum action_kind)k),
				       json_object_new_int64((int64_t)pl->counts[k]));
	json_object_object_add(counts, "cannot", json_object_new_int64((int64_t)pl->n_skips));
	json_object_object_add(counts, "unchanged", json_object_new_int64((int64_t)pl->unchanged));
	json_object_object_add(o, "counts", counts);
	json_object_object_add(o, "actions", acts);
	json_object_object_add(o, "cannot", skips);
	json_object_object_add(o, "warnings", warns);
	return o;
}

static void plan_print(const struct plan *pl, const struct host_state *s, const char *root)
{
	char *online = list_of(&s->online);

	printf("Plan for mode %s (%s) on %s: kernel %s%s, CPUs online %s\n", pl->policy->name,
	       policy_mode_type_name(pl->policy->type), root ? root : "this host", s->osrelease ? s->osrelease : "?",
	       s->preempt_rt ? " (PREEMPT_RT)" : "", online ? online : "?");
	free(online);
	/* In the order they are applied: host-wide defaults before IRQs and threads. */
	static const enum action_kind order[] = {ACTION_SYSCTL, ACTION_CPUMASK, ACTION_IRQ_AFFINITY,
						 ACTION_THREAD_AFFINITY, ACTION_THREAD_SCHED};
	for (size_t oi = 0; oi < ARRAY_SIZE(order); oi++) {
		int k = (int)order[oi];

		if (!pl->counts[k])
			continue;
		printf("\n%s: %zu change%s\n", kind_title((enum action_kind)k), pl->counts[k],
		       pl->counts[k] == 1 ? "" : "s");
		for (size_t i = 0; i < pl->n_actions; i++) {
			const struct action *a = &pl->actions[i];

			if ((int)a->kind != k)
				continue;
			if (a->kind == ACTION_SYSCTL)
				printf("  %-4s %-53s %12s -> %-12s [%s]\n", a->rt ? "RT" : "", a->target, a->from,
				       a->to, a->rule);
			else
				printf("  %-4s %-12s %-40s %12s -> %-12s [%s]\n", a->rt ? "RT" : "", a->target,
				       a->label, a->from, a->to, a->rule);
		}
	}
	if (pl->n_skips) {
		printf("\ncannot be done: %zu\n", pl->n_skips);
		for (size_t i = 0; i < pl->n_skips; i++)
			printf("  %-12s %-32s %s [%s]\n", pl->skips[i].target, pl->skips[i].label, pl->skips[i].reason,
			       pl->skips[i].rule);
	}
	if (pl->warnings) {
		printf("\nwarnings:\n");
		for (size_t i = 0; pl->warnings[i]; i++)
			printf("  %s\n", pl->warnings[i]);
	}
	printf("\n%zu change%s (%zu sysctl, %zu cpumask, %zu IRQ affinity, %zu thread affinity, %zu thread "
	       "scheduling), %zu cannot be done, %zu already as wanted\n",
	       pl->n_actions, pl->n_actions == 1 ? "" : "s", pl->counts[ACTION_SYSCTL], pl->counts[ACTION_CPUMASK],
	       pl->counts[ACTION_IRQ_AFFINITY], pl->counts[ACTION_THREAD_AFFINITY], pl->counts[ACTION_THREAD_SCHED],
	       pl->n_skips, pl->unchanged);
}

int cmd_plan(struct ctx *c, int argc, char **argv)
{
	struct policy *p = NULL;
	struct plan *pl = NULL;
	char err[256];
	int r;

	if ((r = want_args(argc, 1, "plan MODE")) != EXIT_OK)
		return r;
	if ((r = ctx_load_policy(c, argv[0], &p)) != EXIT_OK)
		return r;
	if (plan_build(p, c->state, &pl, err, sizeof(err)) < 0) {
		err_msg("planning %s: %s", p->name, err);
		policy_free(p);
		return EXIT_FAIL;
	}
	if (c->json)
		print_json(plan_json(pl, c->state));
	else
		plan_print(pl, c->state, c->root);
	plan_free(pl);
	policy_free(p);
	return EXIT_OK;
}

/* ---- status ---- */

static char *sched_of(const struct task_info *t)
{
	static const char *const names[] = {"other", "fifo", "rr", "batch", "iso", "idle", "deadline"};
	const char *n = t->policy >= 0 && t->policy < (int)ARRAY_SIZE(names) ? names[t->policy] : "?";

	if (t->policy == 1 || t->policy == 2)
		return util_sprintf("%s:%d", n, t->rt_priority);
	return strdup(n);
}

/* A thread is "tuned" when it is not as a fresh thread would be: pinned to
 * fewer than the online CPUs, or not SCHED_OTHER. */
static bool task_tuned(const struct task_info *t, const struct host_state *s)
{
	return t->policy != 0 || !cpuset_equal(&t->cpus, &s->online);
}

int cmd_status(struct ctx *c, int argc, char **argv)
{
	const struct host_state *s;
	char *online;
	size_t tuned = 0;
	bool held_ok;
	int r;

	(void)argv;
	if ((r = want_args(argc, 0, "status")) != EXIT_OK)
		return r;
	if ((r = ctx_load_host(c)) != EXIT_OK)
		return r;
	s = c->state;
	online = list_of(&s->online);
	if (c->json) {
		json_object *o = json_object_new_object(), *sys = json_object_new_object();
		json_object *irqs = json_object_new_array(), *tasks = json_object_new_array();
		json_object *grub = json_object_new_object();

		json_object *held = held_json(c->host);

		held_ok = json_object_object_get_ex(held, "error", NULL) == 0;
		json_object_object_add(o, "isolated", held);
		json_object_object_add(o, "kernel", json_str(s->osrelease));
		json_object_object_add(o, "preempt_rt", json_object_new_boolean(s->preempt_rt));
		json_object_object_add(o, "online_cpus", json_str(online));
		json_object_object_add(o, "cmdline", json_str(s->cmdline));
		if (s->has_grub) {
			json_object_object_add(grub, "GRUB_CMDLINE_LINUX", json_str(s->grub_cmdline_linux));
			json_object_object_add(grub, "GRUB_CMDLINE_LINUX_DEFAULT",
					       json_str(s->grub_cmdline_linux_default));
		}
		json_object_object_add(o, "grub", s->has_grub ? grub : (json_object_put(grub), NULL));
		for (size_t i = 0; i < s->n_sysctls; i++)
			json_object_object_add(sys, s->sysctls[i].name, json_str(s->sysctls[i].value));
		json_object_object_add(o, "sysctl", sys);
		for (size_t i = 0; i < s->n_irqs; i++) {
			const struct irq_info *q = &s->irqs[i];
			json_object *j = json_object_new_object(), *acts = json_object_new_array();
			char *aff = list_of(&q->affinity), *eff = list_of(&q->effective);

			json_object_object_add(j, "irq", json_object_new_int((int)q->irq));
			json_object_object_add(j, "chip", json_str(q->chip));
			for (size_t k = 0; q->actions && q->actions[k]; k++)
				json_object_array_add(acts, json_str(q->actions[k]));
			json_object_object_add(j, "actions", acts);
			json_object_object_add(j, "nic", json_str(q->nic));
			json_object_object_add(j, "affinity", q->has_affinity ? json_str(aff) : NULL);
			json_object_object_add(j, "effective", q->has_effective ? json_str(eff) : NULL);
			json_object_array_add(irqs, j);
			free(aff);
			free(eff);
		}
		json_object_object_add(o, "irqs", irqs);
		for (size_t i = 0; i < s->n_tasks; i++) {
			const struct task_info *t = &s->tasks[i];
			json_object *j;
			char *cpus, *sched;

			if (!c->all && !task_tuned(t, s))
				continue;
			j = json_object_new_object();
			cpus = list_of(&t->cpus);
			sched = sched_of(t);
			json_object_object_add(j, "tid", json_object_new_int(t->tid));
			json_object_object_add(j, "tgid", json_object_new_int(t->tgid));
			json_object_object_add(j, "comm", json_str(t->comm));
			json_object_object_add(j, "process", json_str(t->proc_comm));
			json_object_object_add(j, "kthread", json_object_new_boolean(t->kthread));
			json_object_object_add(j, "movable", json_object_new_boolean(!t->no_setaffinity));
			json_object_object_add(j, "cpus", json_str(cpus));
			json_object_object_add(j, "sched", json_str(sched));
			json_object_array_add(tasks, j);
			free(cpus);
			free(sched);
		}
		json_object_object_add(o, "threads", tasks);
		json_object_object_add(o, "threads_total", json_object_new_int64((int64_t)s->n_tasks));
		print_json(o);
		free(online);
		return held_ok ? EXIT_OK : EXIT_FAIL;
	}

	held_ok = held_print(c->host, c->all);
	printf("\nkernel      %s%s\n", s->osrelease ? s->osrelease : "?", s->preempt_rt ? " (PREEMPT_RT)" : "");
	printf("online      %s\n", online ? online : "?");
	printf("cmdline     %s\n", s->cmdline ? s->cmdline : "");
	if (s->has_grub)
		printf("grub        GRUB_CMDLINE_LINUX=\"%s\" GRUB_CMDLINE_LINUX_DEFAULT=\"%s\"\n",
		       s->grub_cmdline_linux ? s->grub_cmdline_linux : "",
		       s->grub_cmdline_linux_default ? s->grub_cmdline_linux_default : "");
	printf("\nsysctl\n");
	for (size_t i = 0; i < s->n_sysctls; i++)
		printf("  %-30s %s\n", s->sysctls[i].name, s->sysctls[i].value ? s->sysctls[i].value : "(absent)");
	printf("\n%-5s %-10s %-10s %-8s %s\n", "IRQ", "AFFINITY", "EFFECTIVE", "NIC", "ACTIONS");
	for (size_t i = 0; i < s->n_irqs; i++) {
		const struct irq_info *q = &s->irqs[i];
		char *aff = list_of(&q->affinity), *eff = list_of(&q->effective);

		printf("%-5u %-10s %-10s %-8s ", q->irq, q->has_affinity ? aff : "-", q->has_effective ? eff : "-",
		       q->nic ? q->nic : "-");
		for (size_t k = 0; q->actions && q->actions[k]; k++)
			printf("%s%s", k ? "," : "", q->actions[k]);
		putchar('\n');
		free(aff);
		free(eff);
	}
	for (size_t i = 0; i < s->n_tasks; i++)
		tuned += task_tuned(&s->tasks[i], s);
	printf("\nthreads: %zu, of which %zu pinned or not SCHED_OTHER%s\n", s->n_tasks, tuned,
	       c->all || !tuned ? "" : " (--all lists every thread)");
	if (tuned || c->all) {
		printf("%-8s %-8s %-10s %-12s %-8s %s\n", "TID", "PID", "CPUS", "SCHED", "MOVABLE", "THREAD");
		for (size_t i = 0; i < s->n_tasks; i++) {
			const struct task_info *t = &s->tasks[i];
			char *cpus, *sched;

			if (!c->all && !task_tuned(t, s))
				continue;
			cpus = list_of(&t->cpus);
			sched = sched_of(t);
			printf("%-8d %-8d %-10s %-12s %-8s %s%s%s%s\n", t->tid, t->tgid, cpus ? cpus : "?",
			       sched ? sched : "?", t->no_setaffinity ? "no" : "yes", t->comm,
			       t->tid != t->tgid ? " (" : "", t->tid != t->tgid ? t->proc_comm : "",
			       t->tid != t->tgid ? ")" : "");
			free(cpus);
			free(sched);
		}
	}
	free(online);
	return held_ok ? EXIT_OK : EXIT_FAIL;
}

/* ---- snapshot ---- */

int cmd_snapshot(struct ctx *c, int argc, char **argv)
{
	char err[512] = "";
	int r;

	if ((r = want_args(argc, 1, "snapshot DIR")) != EXIT_OK)
		return r;
	r = host_open(c->root, &c->host);
	if (r < 0) {
		err_msg("cannot open %s: %s", c->root ? c->root : "/", strerror(-r));
		return EXIT_FAIL;
	}
	r = host_dump(c->host, argv[0], err, sizeof(err));
	if (r < 0) {
		err_msg("snapshot into %s: %s", argv[0], err[0] ? err : strerror(-r));
		return EXIT_FAIL;
	}
	if (c->json) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "source", json_str(c->root ? c->root : "/"));
		json_object_object_add(o, "snapshot", json_str(argv[0]));
		print_json(o);
	} else
		printf("snapshot of %s written to %s; use it with: isoctl --root %s ...\n",
		       c->root ? c->root : "this host", argv[0], argv[0]);
	return EXIT_OK;
}
