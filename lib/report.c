/* The JSON documents of isoctl --json and of the daemon's bus methods, built
 * in one place from the engine's results. They carry everything isoctl's
 * text output shows (ctl/render.c renders the text from them), so the text
 * is the same whether isoctl did the work or asked the daemon. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "isolated/journal.h"
#include "isolated/json.h"
#include "isolated/modes.h"
#include "isolated/report.h"

static json_object *jcpus(struct jb *b, const struct cpuset *s)
{
	char *list = NULL;
	json_object *o;

	if (cpuset_format_list(s, &list) < 0)
		return jb_check(b, NULL);
	o = jstr(b, list);
	free(list);
	return o;
}

/* The tree a document is about; null for the running kernel. */
static json_object *jroot(struct jb *b, const struct host *h)
{
	return h && h->is_tree ? jstr(b, h->root_path) : NULL;
}

static json_object *skip_json(struct jb *b, const struct plan_skip *k, bool with_rule)
{
	json_object *o = jobj(b);

	jset(b, o, "kind", jstr(b, plan_action_kind_name(k->kind)));
	jset(b, o, "target", jstr(b, k->target));
	jset(b, o, "label", jstr(b, k->label));
	jset(b, o, "reason", jstr(b, k->reason));
	if (with_rule)
		jset(b, o, "rule", jstr(b, k->rule));
	return o;
}

/* ---- plan ---- */

static json_object *action_json(struct jb *b, const struct action *a)
{
	json_object *o = jobj(b);

	jset(b, o, "kind", jstr(b, plan_action_kind_name(a->kind)));
	jset(b, o, "target", jstr(b, a->target));
	jset(b, o, "label", jstr(b, a->label));
	jset(b, o, "from", jstr(b, a->from));
	jset(b, o, "to", jstr(b, a->to));
	jset(b, o, "rule", jstr(b, a->rule));
	jset(b, o, "rt", jbool(b, a->rt));
	return o;
}

json_object *report_plan(const struct host *h, const struct plan *pl, const struct host_state *s)
{
	struct jb b = {0};
	json_object *o = jobj(&b), *acts = jarr(&b), *skips = jarr(&b), *counts = jobj(&b);

	jset(&b, o, "mode", jstr(&b, pl->policy->name));
	jset(&b, o, "type", jstr(&b, policy_mode_type_name(pl->policy->type)));
	jset(&b, o, "kernel", jstr(&b, s->osrelease));
	jset(&b, o, "preempt_rt", jbool(&b, s->preempt_rt));
	jset(&b, o, "online_cpus", jcpus(&b, &s->online));
	for (size_t i = 0; i < pl->n_actions; i++)
		jpush(&b, acts, action_json(&b, &pl->actions[i]));
	for (size_t i = 0; i < pl->n_skips; i++)
		jpush(&b, skips, skip_json(&b, &pl->skips[i], true));
	for (int k = 0; k < _ACTION_KIND_MAX; k++)
		jset(&b, counts, plan_action_kind_name((enum action_kind)k), jint(&b, (int64_t)pl->counts[k]));
	jset(&b, counts, "cannot", jint(&b, (int64_t)pl->n_skips));
	jset(&b, counts, "unchanged", jint(&b, (int64_t)pl->unchanged));
	jset(&b, o, "counts", counts);
	jset(&b, o, "actions", acts);
	jset(&b, o, "cannot", skips);
	jset(&b, o, "warnings", jstrv(&b, pl->warnings));
	jset(&b, o, "root", jroot(&b, h));
	return jdone(&b, o);
}

/* ---- apply, revert ---- */

static json_object *step_json(struct jb *b, const struct apply_step *st)
{
	json_object *o = jobj(b);

	jset(b, o, "kind", jstr(b, plan_action_kind_name(st->e.kind)));
	jset(b, o, "target", jstr(b, st->e.target));
	jset(b, o, "label", jstr(b, st->e.label));
	jset(b, o, "rule", jstr(b, st->e.rule));
	jset(b, o, "from", jstr(b, st->e.before));
	jset(b, o, "to", jstr(b, st->e.wanted));
	jset(b, o, "pristine", jstr(b, st->e.pristine));
	jset(b, o, "restore", jbool(b, st->restore));
	jset(b, o, "outcome", jstr(b, apply_outcome_name(st->outcome)));
	jset(b, o, "errno", st->error ? jstr(b, strerrorname_np(st->error)) : NULL);
	jset(b, o, "message", jstr(b, st->message));
	/* false: the target already held the value, nothing was written */
	jset(b, o, "write", jbool(b, st->write));
	return o;
}

static json_object *confirm_json(struct jb *b, long long deadline, const char *mode, const char *scope, uid_t uid)
{
	json_object *o = jobj(b);

	jset(b, o, "deadline_usec", jint(b, deadline));
	jset(b, o, "previous_mode", jstr(b, mode));
	jset(b, o, "previous_scope", jstr(b, scope));
	jset(b, o, "uid", jint(b, (int64_t)uid));
	return o;
}

json_object *report_apply(const struct host *h, const struct apply_result *res, bool dry_run,
			  const struct apply_confirm *confirm)
{
	struct jb b = {0};
	json_object *o = jobj(&b), *steps = jarr(&b), *counts = jobj(&b), *skips = jarr(&b);
	const struct plan *pl = res->plan;

	jset(&b, o, "mode", jstr(&b, res->mode));
	jset(&b, o, "previous_mode", jstr(&b, res->previous_mode));
	jset(&b, o, "scope", jstr(&b, res->scope));
	jset(&b, o, "result", jstr(&b, dry_run ? "dry-run" : res->failed ? "failed" : "applied"));
	jset(&b, o, "error", jstr(&b, res->error));
	for (int k = 0; k < _STEP_OUTCOME_MAX; k++)
		jset(&b, counts, apply_outcome_name((enum step_outcome)k), jint(&b, (int64_t)res->counts[k]));
	jset(&b, o, "counts", counts);
	jset(&b, o, "notices", jstrv(&b, res->notices));
	for (size_t i = 0; i < res->n_steps; i++)
		jpush(&b, steps, step_json(&b, &res->steps[i]));
	jset(&b, o, "steps", steps);
	for (size_t i = 0; pl && i < pl->n_skips; i++)
		jpush(&b, skips, skip_json(&b, &pl->skips[i], false));
	jset(&b, o, "cannot", skips);
	jset(&b, o, "warnings", jstrv(&b, pl ? pl->warnings : NULL));
	jset(&b, o, "root", jroot(&b, h));
	jset(&b, o, "journal_removed", jbool(&b, res->journal_removed));
	jset(&b, o, "confirm",
	     confirm && !dry_run && !res->failed ? confirm_json(&b, confirm->deadline_usec, confirm->previous_mode,
								confirm->previous_scope, confirm->uid)
						 : NULL);
	return jdone(&b, o);
}

static char *apply_error_text(const struct host *h, const char *mode, int r, const char *err, bool dry_run,
			      bool no_wait)
{
	const char *root = h && h->is_tree ? h->root_path : "";

	if (r == -EBADMSG)
		return util_sprintf(
		    "%s\n"
		    "refusing to change the host: the journal records what isolated changed "
		    "and the pristine values, and it cannot be read. It was left as it is. To recover: "
		    "restore the pristine values it shows by hand, or reboot (runtime settings reset at "
		    "boot); then move it away (mv %s/%s %s/%s.bad) and run isoctl again",
		    err, root, JOURNAL_PATH, root, JOURNAL_PATH);
	if (r == -EWOULDBLOCK && no_wait)
		return util_sprintf("%s (--no-wait given)", err);
	return util_sprintf("%s %s: %s", dry_run ? "planning" : "applying", mode, err);
}

char *report_apply_error(const struct host *h, const char *mode, int r, const char *err, bool dry_run, bool no_wait)
{
	/* err may name a thread: these are lines for people, escaped as the text of the documents is */
	char *e = util_escape(err ? err : "", false), *m;

	if (!e)
		return NULL;
	m = apply_error_text(h, mode, r, e, dry_run, no_wait);
	free(e);
	return m;
}

/* ---- status, verify: what isolated holds ---- */

/* A partition the journal holds, as status shows it: its cgroup (REL
 * below sys/fs/cgroup), the CPUs it takes, the state isolated wrote and
 * the one now, whether it holds, the kernel's reason when it invalidated
 * it (v2), the sched_load_balance that broke it (v1), and what the
 * kernel keeps out of load balancing now (v2's cpuset.cpus.isolated). */
static json_object *partition_json(struct jb *b, const struct apply_status *st, const struct status_partition *p)
{
	json_object *o = jobj(b);
	struct cgroup_partition_state ps;
	char *cg = strndup(p->cgroup, p->cgroup_len);

	if (!cg)
		b->oom = true;
	jset(b, o, "cgroup", jstr(b, cg ? cgroup_target_rel(cg) : NULL));
	jset(b, o, "hierarchy", jstr(b, cgroup_kind_name(p->kind)));
	jset(b, o, "cpus", jstr(b, p->cpus));
	jset(b, o, "wanted", jstr(b, p->e->wanted));
	jset(b, o, "state", jstr(b, p->now));
	jset(b, o, "holds", jbool(b, p->holds));
	if (p->kind == CGROUP_V2 && p->now && cgroup_partition_parse(p->now, &ps) == 0 && ps.invalid) {
		char *reason = strndup(ps.reason, ps.reason_len);

		if (!reason)
			b->oom = true;
		jset(b, o, "reason", jstr(b, reason));
		free(reason);
	} else
		jset(b, o, "reason", NULL);
	jset(b, o, "broken", p->broken ? jstr(b, p->broken->target) : NULL);
	jset(b, o, "broken_now", NULL);
	for (size_t i = 0; p->broken && i < st->n_targets; i++)
		if (st->targets[i].e == p->broken)
			jset(b, o, "broken_now", jstr(b, st->targets[i].now));
	jset(b, o, "isolated_now", p->kind == CGROUP_V2 ? jstr(b, st->isolated_now) : NULL);
	free(cg);
	return o;
}

/* The held mode; with only_drift the targets that drifted, for verify. */
static json_object *held_json(struct jb *b, const struct apply_status *st, bool only_drift)
{
	json_object *o = jobj(b), *targets;
	const struct journal *j = st->journal;

	if (!j) {
		jset(b, o, "mode", jstr(b, "vanilla"));
		jset(b, o, "stale_journal_boot_id", jstr(b, st->stale_boot_id));
		jset(b, o, "targets", jarr(b));
		if (!only_drift)
			jset(b, o, "partitions", jarr(b));
		jset(b, o, "managed", jint(b, 0));
		jset(b, o, "confirm", NULL);
		return o;
	}
	jset(b, o, "mode", jstr(b, j->mode));
	jset(b, o, "scope", jstr(b, j->scope));
	jset(b, o, "applied_at", jint(b, j->applied_at));
	jset(b, o, "interrupted_transaction", j->has_txn ? jstr(b, j->txn_mode ? j->txn_mode : "?") : NULL);
	jset(b, o, "drift", jint(b, (int64_t)st->n_drift));
	jset(b, o, "gone", jint(b, (int64_t)st->n_gone));
	targets = jarr(b);
	for (size_t i = 0; i < st->n_targets; i++) {
		const struct status_target *t = &st->targets[i];
		json_object *x;

		if (only_drift && !t->drift)
			continue;
		x = jobj(b);
		jset(b, x, "kind", jstr(b, plan_action_kind_name(t->e->kind)));
		jset(b, x, "target", jstr(b, t->e->target));
		jset(b, x, "label", jstr(b, t->e->label));
		jset(b, x, "rule", jstr(b, t->e->rule));
		jset(b, x, "pristine", jstr(b, t->e->pristine));
		jset(b, x, "wanted", jstr(b, t->e->wanted));
		jset(b, x, "now", jstr(b, t->now));
		jset(b, x, "drift", jbool(b, t->drift));
		jpush(b, targets, x);
	}
	jset(b, o, "targets", targets);
	if (!only_drift) {
		json_object *parts = jarr(b);

		for (size_t i = 0; i < st->n_partitions; i++)
			jpush(b, parts, partition_json(b, st, &st->partitions[i]));
		jset(b, o, "partitions", parts);
	}
	jset(b, o, "managed", jint(b, (int64_t)st->n_targets));
	jset(b, o, "interrupted_pid", j->has_txn ? jint(b, j->txn_pid) : NULL);
	jset(b, o, "confirm",
	     j->has_confirm ? confirm_json(b, j->confirm_deadline, j->confirm_previous_mode, j->confirm_previous_scope,
					   j->confirm_uid)
			    : NULL);
	return o;
}

/* A thread is "tuned" when it is not as a fresh thread would be: pinned to
 * fewer than the online CPUs, or not SCHED_OTHER. */
static bool task_tuned(const struct task_info *t, const struct host_state *s)
{
	return t->policy != SCHED_OTHER || !cpuset_equal(&t->cpus, &s->online);
}

static json_object *irq_json(struct jb *b, const struct irq_info *q)
{
	json_object *o = jobj(b);

	jset(b, o, "irq", jint(b, q->irq));
	jset(b, o, "chip", jstr(b, q->chip));
	jset(b, o, "actions", jstrv(b, q->actions));
	jset(b, o, "nic", jstr(b, q->nic));
	jset(b, o, "affinity", q->has_affinity ? jcpus(b, &q->affinity) : NULL);
	jset(b, o, "effective", q->has_effective ? jcpus(b, &q->effective) : NULL);
	return o;
}

static json_object *task_json(struct jb *b, const struct task_info *t, bool tuned)
{
	json_object *o = jobj(b);
	char *sched = action_sched_describe(t->policy, t->rt_priority);

	if (!sched)
		b->oom = true;
	jset(b, o, "tid", jint(b, t->tid));
	jset(b, o, "tgid", jint(b, t->tgid));
	jset(b, o, "comm", jstr(b, t->comm));
	jset(b, o, "process", jstr(b, t->proc_comm));
	jset(b, o, "kthread", jbool(b, t->kthread));
	jset(b, o, "movable", jbool(b, !t->no_setaffinity));
	jset(b, o, "cpus", jcpus(b, &t->cpus));
	jset(b, o, "sched", jstr(b, sched));
	jset(b, o, "tuned", jbool(b, tuned));
	free(sched);
	return o;
}

json_object *report_status(const struct host *h, const struct host_state *s)
{
	struct jb b = {0};
	json_object *o = jobj(&b), *sys = jobj(&b), *irqs = jarr(&b), *tasks = jarr(&b), *held;
	struct apply_status *st = NULL;
	char err[512] = "";
	size_t tuned = 0;
	int r;

	r = apply_status_in(h, s, &st, err, sizeof(err));
	if (r == -ENOMEM && !err[0])
		b.oom = true;
	if (r < 0) {
		/* status still shows the host: the error is the held mode's */
		held = jobj(&b);
		jset(&b, held, "mode", NULL);
		jset(&b, held, "error", jstr(&b, err[0] ? err : strerror(-r)));
	} else
		held = held_json(&b, st, false);
	apply_status_free(st);
	jset(&b, o, "isolated", held);
	jset(&b, o, "kernel", jstr(&b, s->osrelease));
	jset(&b, o, "preempt_rt", jbool(&b, s->preempt_rt));
	jset(&b, o, "online_cpus", jcpus(&b, &s->online));
	jset(&b, o, "cmdline", jstr(&b, s->cmdline));
	if (s->has_grub) {
		json_object *grub = jobj(&b);

		jset(&b, grub, "GRUB_CMDLINE_LINUX", jstr(&b, s->grub_cmdline_linux));
		jset(&b, grub, "GRUB_CMDLINE_LINUX_DEFAULT", jstr(&b, s->grub_cmdline_linux_default));
		jset(&b, o, "grub", grub);
	} else
		jset(&b, o, "grub", NULL);
	for (size_t i = 0; i < s->n_sysctls; i++)
		jset(&b, sys, s->sysctls[i].name, jstr(&b, s->sysctls[i].value));
	jset(&b, o, "sysctl", sys);
	for (size_t i = 0; i < s->n_irqs; i++)
		jpush(&b, irqs, irq_json(&b, &s->irqs[i]));
	jset(&b, o, "irqs", irqs);
	/* Every thread, each marked tuned or not: isoctl shows the tuned ones
	 * unless --all (the daemon's Status() has no options). */
	for (size_t i = 0; i < s->n_tasks; i++) {
		bool t = task_tuned(&s->tasks[i], s);

		tuned += t;
		jpush(&b, tasks, task_json(&b, &s->tasks[i], t));
	}
	jset(&b, o, "threads", tasks);
	jset(&b, o, "threads_total", jint(&b, (int64_t)s->n_tasks));
	jset(&b, o, "threads_tuned", jint(&b, (int64_t)tuned));
	return jdone(&b, o);
}

json_object *report_summary(const struct report_held *s)
{
	struct jb b = {0};
	json_object *o = jobj(&b), *held = jobj(&b);
	const struct apply_confirm *c = s->confirm;

	jset(&b, o, "summary", jbool(&b, true));
	jset(&b, held, "mode", jstr(&b, s->mode));
	jset(&b, held, "scope", s->applied_at ? jstr(&b, s->scope) : NULL);
	jset(&b, held, "applied_at", s->applied_at ? jint(&b, s->applied_at) : NULL);
	jset(&b, held, "state", jstr(&b, s->state));
	jset(&b, held, "managed", jint(&b, (int64_t)s->managed));
	jset(&b, held, "drift", jint(&b, (int64_t)s->drift));
	jset(&b, held, "confirm",
	     c ? confirm_json(&b, c->deadline_usec, c->previous_mode, c->previous_scope, c->uid) : NULL);
	jset(&b, o, "isolated", held);
	return jdone(&b, o);
}

json_object *report_verify(const struct apply_status *st, bool enforced)
{
	struct jb b = {0};
	json_object *o = held_json(&b, st, true);

	if (!st->journal)
		jset(&b, o, "drift", jint(&b, 0));
	jset(&b, o, "enforced", jbool(&b, enforced));
	return jdone(&b, o);
}

/* ---- list, confirm ---- */

json_object *report_modes(char *const *dirs, const struct hostconf *hc, const struct cpuset *online)
{
	struct jb b = {0};
	json_object *arr = jarr(&b);
	char **names = NULL;

	if (modes_names(dirs, &names) < 0) {
		json_object_put(arr);
		errno = ENOMEM;
		return NULL;
	}
	for (size_t i = 0; names[i]; i++) {
		json_object *o = jobj(&b);
		struct policy *p = NULL;
		struct diag d = {0};

		/* Errors of one mode must not hide the others: list says which
		 * are broken, check and show say why. */
		if (modes_load(dirs, hc, online, names[i], &p, &d) != MODES_OK)
			p = NULL;
		jset(&b, o, "name", jstr(&b, names[i]));
		jset(&b, o, "type", p ? jstr(&b, policy_mode_type_name(p->type)) : NULL);
		jset(&b, o, "summary", p ? jstr(&b, p->summary) : NULL);
		jset(&b, o, "file", p ? jstr(&b, p->file) : NULL);
		jset(&b, o, "valid", jbool(&b, p != NULL));
		if (!p) {
			json_object *errs = jarr(&b);

			for (size_t k = 0; k < d.n; k++)
				jpush(&b, errs, jstr(&b, d.lines[k]));
			jset(&b, o, "errors", errs);
		}
		jpush(&b, arr, o);
		diag_free(&d);
		policy_free(p);
	}
	strv_free(names);
	return jdone(&b, arr);
}

json_object *report_confirm(const char *mode)
{
	struct jb b = {0};
	json_object *o = jobj(&b);

	jset(&b, o, "confirmed", jstr(&b, mode));
	return jdone(&b, o);
}
