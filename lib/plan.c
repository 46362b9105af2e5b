/* Plans: from a validated policy and a snapshot of the host, the ordered list
 * of changes that would bring the host into the mode, and what cannot be done
 * and why. Reads nothing and writes nothing: everything comes from the
 * snapshot. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "isolated/action.h"
#include "isolated/cgroup.h"
#include "isolated/irqbalance.h"
#include "isolated/plan.h"
#include "isolated/procfmt.h"

const char *plan_action_kind_name(enum action_kind k)
{
	return action_kind_name(k);
}

struct builder {
	struct plan *pl;
	const struct policy *p;
	const struct host_state *s;
	size_t cap_actions, cap_skips;
	int error;
	/* Outside the host scope: which tasks (index into s->tasks) thread
	 * rules may touch, and the scope as text for messages. */
	bool scoped;
	bool *in_scope;
	/* plan_build_threads: thread rules only (see plan.h). */
	bool threads_only;
	char scope_text[PATH_MAX + 16];
	/* plan_irqs: the IRQs a rule puts on CPUs [irqbalance] bans, which
	 * irqbalance is told to leave alone. */
	struct cpuset irqbalance_irqs;
	/* plan_threads: the tasks (index into s->tasks) of the rules
	 * [partition] names, with the rule of each. */
	size_t *part_tasks;
	const struct rule **part_rules;
	size_t n_part;
};

/* Takes ownership of the strings; returns the new action, NULL on failure
 * (b->error is then set). */
static struct action *add_action(struct builder *b, enum action_kind kind, char *target, char *label, char *from,
				 char *to, const char *rule, bool rt)
{
	struct plan *pl = b->pl;

	if (!target || !label || !from || !to) {
		b->error = -ENOMEM;
		goto fail;
	}
	if (pl->n_actions == b->cap_actions) {
		size_t cap = b->cap_actions ? b->cap_actions * 2 : 64;
		struct action *v = realloc(pl->actions, cap * sizeof(*v));

		if (!v) {
			b->error = -ENOMEM;
			goto fail;
		}
		pl->actions = v;
		b->cap_actions = cap;
	}
	pl->actions[pl->n_actions++] = (struct action){
	    .kind = kind,
	    .target = target,
	    .label = label,
	    .from = from,
	    .to = to,
	    .rule = rule,
	    .rt = rt,
	};
	pl->counts[kind]++;
	return &pl->actions[pl->n_actions - 1];
fail:
	free(target);
	free(label);
	free(from);
	free(to);
	return NULL;
}

static void add_skip(struct builder *b, enum action_kind kind, char *target, char *label, char *reason,
		     const char *rule)
{
	struct plan *pl = b->pl;

	if (!target || !label || !reason) {
		b->error = -ENOMEM;
		goto fail;
	}
	if (pl->n_skips == b->cap_skips) {
		size_t cap = b->cap_skips ? b->cap_skips * 2 : 32;
		struct plan_skip *v = realloc(pl->skips, cap * sizeof(*v));

		if (!v) {
			b->error = -ENOMEM;
			goto fail;
		}
		pl->skips = v;
		b->cap_skips = cap;
	}
	pl->skips[pl->n_skips++] =
	    (struct plan_skip){.kind = kind, .target = target, .label = label, .reason = reason, .rule = rule};
	return;
fail:
	free(target);
	free(label);
	free(reason);
}

static void add_warning(struct builder *b, char *w)
{
	if (!w || strv_push(&b->pl->warnings, w) < 0)
		b->error = -ENOMEM;
}

/* Tie a thread action to the thread it was planned for, so a reused tid is
 * not taken for it later. */
static void set_thread(struct action *a, const struct task_info *t)
{
	if (!a)
		return;
	a->tid = t->tid;
	a->tgid = t->tgid;
	a->starttime = t->starttime;
}

/* SCHED_DEADLINE: sched_setscheduler cannot give a thread its runtime,
 * deadline and period back, so a sched change could never be undone; and
 * the kernel refuses affinity changes that would break deadline admission
 * (EBUSY). A policy isolated has no value for (SCHED_EXT and anything
 * newer) could not be journaled as a pristine value to put back either.
 * Such a thread is left as it is. */
static bool is_deadline(const struct task_info *t)
{
	return t->policy == SCHED_DEADLINE;
}

static bool unrestorable(const struct task_info *t)
{
	return !action_sched_has_value(t->policy);
}

static char *unrestorable_reason(const struct task_info *t)
{
	if (is_deadline(t))
		return strdup("SCHED_DEADLINE thread: isolated leaves it alone");
	return util_sprintf("scheduling policy %d (SCHED_EXT is 7), which isolated could not put back: it "
			    "leaves the thread alone",
			    t->policy);
}

static char *thread_label(const struct task_info *t)
{
	if (t->tid == t->tgid || t->kthread)
		return util_sprintf("%s", t->comm);
	return util_sprintf("%s (%s %d)", t->comm, t->proc_comm ? t->proc_comm : "?", (int)t->tgid);
}

static char *irq_label(const struct irq_info *irq)
{
	size_t len = 1;
	char *s;

	for (size_t i = 0; irq->actions && irq->actions[i]; i++)
		len += strlen(irq->actions[i]) + 1;
	if (irq->nic)
		len += strlen(irq->nic) + 3;
	s = malloc(len);
	if (!s)
		return NULL;
	s[0] = '\0';
	for (size_t i = 0; irq->actions && irq->actions[i]; i++) {
		if (i)
			strcat(s, ",");
		strcat(s, irq->actions[i]);
	}
	if (irq->nic) {
		strcat(s, " (");
		strcat(s, irq->nic);
		strcat(s, ")");
	}
	return s;
}

/* A rule belongs to the RT workload when it gives realtime priority or puts
 * its targets on the RT CPUs. */
static bool rule_is_rt(const struct policy *p, const struct rule *r)
{
	if (policy_sched_is_rt(&r->sched) || policy_sched_is_rt(&r->thread))
		return true;
	return r->has_cpus && !cpuset_empty(&p->rt_cpus) && !cpuset_empty(&r->cpus) &&
	       cpuset_subset(&r->cpus, &p->rt_cpus);
}

static char *rule_ref(const struct rule *r)
{
	return util_sprintf("[%s %s]", r->is_irq ? "irq" : "thread", r->name);
}

static bool numeric_equal(const char *a, const char *b)
{
	long x, y;

	if (util_parse_long(a, -(1L << 62), 1L << 62, &x) == 0 && util_parse_long(b, -(1L << 62), 1L << 62, &y) == 0)
		return x == y;
	return strcmp(a, b) == 0;
}

static void plan_sysctls(struct builder *b)
{
	for (size_t i = 0; i < b->p->n_sysctls; i++) {
		const struct sysctl_setting *set = &b->p->sysctls[i];
		const char *cur = host_state_sysctl(b->s, set->name);
		char path[PATH_MAX];
		const struct host_file *f =
		    host_sysctl_path(set->name, path, sizeof(path)) == 0 ? host_state_file(b->s, path) : NULL;

		if (cur && f && !f->writable) {
			add_skip(b, ACTION_SYSCTL, strdup(set->name), strdup(set->name),
				 util_sprintf("%s is read-only on this kernel", set->name), "sysctl");
			continue;
		}
		if (!cur) {
			add_skip(b, ACTION_SYSCTL, strdup(set->name), strdup(set->name),
				 util_sprintf("the kernel has no %s%s", set->name,
					      strcmp(set->name, "net.core.rtnet_prio") == 0
						  ? " (it needs the RT poll_list patch)"
						  : ""),
				 "sysctl");
			continue;
		}
		if (numeric_equal(cur, set->value)) {
			b->pl->unchanged++;
			continue;
		}
		add_action(b, ACTION_SYSCTL, strdup(set->name), strdup(set->name), strdup(cur), strdup(set->value),
			   "sysctl", false);
	}
}

/* [sysfs]: attributes, planned like sysctls. */
static void plan_sysfs(struct builder *b)
{
	for (size_t i = 0; i < b->p->n_sysfs; i++) {
		const struct sysfs_setting *set = &b->p->sysfs[i];
		char file[PATH_MAX], *cur;
		const struct host_file *f =
		    util_path(file, sizeof(file), "sys/%s", set->path) == 0 ? host_state_file(b->s, file) : NULL;

		if (!f || !f->value) {
			add_skip(b, ACTION_SYSFS, action_sysfs_target(set->path), strdup(set->path),
				 util_sprintf("the kernel has no /sys/%s", set->path), "sysfs");
			continue;
		}
		if (!f->writable) {
			add_skip(b, ACTION_SYSFS, action_sysfs_target(set->path), strdup(set->path),
				 util_sprintf("/sys/%s is read-only on this kernel", set->path), "sysfs");
			continue;
		}
		if (!action_sysfs_offers(f->value, set->value)) {
			add_skip(b, ACTION_SYSFS, action_sysfs_target(set->path), strdup(set->path),
				 util_sprintf("%s is not one of the values /sys/%s offers (%s)", set->value, set->path,
					      f->value),
				 "sysfs");
			continue;
		}
		cur = action_sysfs_value(f->value);
		if (cur && action_value_equal(ACTION_SYSFS, cur, set->value)) {
			b->pl->unchanged++;
			free(cur);
			continue;
		}
		add_action(b, ACTION_SYSFS, action_sysfs_target(set->path), strdup(set->path), cur, strdup(set->value),
			   "sysfs", false);
	}
}

/* [cpumask]: host-wide defaults for what starts later (new IRQs, unbound
 * workqueue workers), planned like sysctls. */
static void plan_cpumask(struct builder *b, bool want_set, const struct cpuset *want, bool has,
			 const struct cpuset *cur, const char *target, const char *label, const char *missing)
{
	if (!want_set)
		return;
	if (!has) {
		add_skip(b, ACTION_CPUMASK, strdup(target), strdup(label), strdup(missing), "cpumask");
		return;
	}
	if (cpuset_equal(cur, want)) {
		b->pl->unchanged++;
		return;
	}
	add_action(b, ACTION_CPUMASK, strdup(target), strdup(label), action_cpus_format(cur), action_cpus_format(want),
		   "cpumask", false);
}

static void plan_cpumasks(struct builder *b)
{
	const struct policy *p = b->p;
	const struct host_state *s = b->s;

	plan_cpumask(b, p->has_irq_default, &p->irq_default, s->has_irq_default, &s->irq_default,
		     action_cpumask_target(HOST_CPUMASK_IRQ_DEFAULT), "default IRQ affinity",
		     "the kernel has no /proc/irq/default_smp_affinity");
	plan_cpumask(b, p->has_wq_cpumask, &p->wq_cpumask, s->has_wq_cpumask, &s->wq_cpumask,
		     action_cpumask_target(HOST_CPUMASK_WORKQUEUE), "workqueue cpumask",
		     "no /sys/devices/virtual/workqueue/cpumask (kernel without unbound workqueue cpumask)");
}

/* [irqbalance]: the CPUs it bans get the policy's besides its own, and the
 * IRQs the [irq] rules put on those CPUs are banned from balancing, so
 * that irqbalance, restarted, neither gives other IRQs to those CPUs nor
 * takes these off them. Planned against the file as it was before
 * isolated changed it (the backup, when there is one). */
static void plan_irqbalance_one(struct builder *b, const struct host_file *f, const char *target, const char *label,
				const struct cpuset *add)
{
	struct cpuset set = CPUSET_INIT, want = CPUSET_INIT;
	char *cur = NULL, why[256];
	int r;

	r = irqbalance_value(f->value, strlen(f->value), target, &cur, why, sizeof(why));
	if (r == -EINVAL) {
		add_skip(b, ACTION_IRQBALANCE, strdup(target), strdup(label), util_sprintf("/%s: %s", f->path, why),
			 "irqbalance");
		return;
	}
	if (r >= 0)
		r = action_cpus_parse(cur, &set);
	if (r >= 0)
		r = cpuset_or(&want, &set, add);
	if (r < 0)
		b->error = r;
	else if (cpuset_equal(&want, &set))
		b->pl->unchanged++;
	else {
		add_action(b, ACTION_IRQBALANCE, strdup(target), strdup(label), cur, action_cpus_format(&want),
			   "irqbalance", false);
		cur = NULL;
	}
	free(cur);
	cpuset_free(&set);
	cpuset_free(&want);
}

static void plan_irqbalance(struct builder *b)
{
	const struct policy *p = b->p;
	const struct host_file *f;

	if (!p->has_irqbalance)
		return;
	f = irqbalance_state_file(b->s, true);
	if (!f) {
		add_skip(b, ACTION_IRQBALANCE, strdup(IRQBALANCE_TARGET_CPUS), strdup("banned CPUs"),
			 util_sprintf("irqbalance is not installed (no /%s or /%s)", irqbalance_files[0],
				      irqbalance_files[1]),
			 "irqbalance");
		return;
	}
	plan_irqbalance_one(b, f, IRQBALANCE_TARGET_CPUS, "banned CPUs", &p->irqbalance_banned);
	plan_irqbalance_one(b, f, IRQBALANCE_TARGET_IRQS, "banned IRQs", &b->irqbalance_irqs);
}

/* ---- scope ---- */

enum { WALK_UNKNOWN = 0, WALK_IN, WALK_OUT };

/* Is the process of leader task i (tid == tgid) pid or a descendant of it?
 * Walks the ppid chain of thread group leaders, memoising every process on
 * the way in state[] (indexed like s->tasks), so the whole snapshot costs
 * one walk per process. path: scratch room for n_tasks indices. */
static unsigned char process_in_scope(const struct host_state *s, pid_t pid, size_t i, unsigned char *state,
				      size_t *path)
{
	size_t n = 0, cur = i;
	unsigned char result = WALK_OUT;

	for (;;) {
		const struct task_info *t = &s->tasks[cur], *parent;

		if (state[cur] != WALK_UNKNOWN) {
			result = state[cur];
			break;
		}
		/* A child of the scope's process is in scope even when the
		 * snapshot does not hold that process: isoctl leaves itself out
		 * of its readings, and isoctl bench scopes the modes to itself. */
		if (t->tgid == pid || t->ppid == pid) {
			result = WALK_IN;
			break;
		}
		/* n > n_tasks: a ppid loop, which a consistent snapshot cannot
		 * have; a torn one might. */
		if (n == s->n_tasks)
			break;
		path[n++] = cur;
		parent = t->ppid > 0 && t->ppid != t->tgid ? host_state_task(s, t->ppid) : NULL;
		if (!parent || parent->tid != parent->tgid)
			break;
		cur = (size_t)(parent - s->tasks);
	}
	state[i] = result;
	while (n)
		state[path[--n]] = result;
	return result;
}

static bool cgroup_in_scope(const char *scope, const char *cgroup)
{
	size_t n = strlen(scope);

	if (!cgroup)
		return false;
	if (strcmp(scope, "/") == 0)
		return cgroup[0] == '/';
	return strncmp(cgroup, scope, n) == 0 && (cgroup[n] == '\0' || cgroup[n] == '/');
}

/* Outside the host scope, mark the tasks thread rules may touch: computed
 * once per plan. -ESRCH when a process scope names no process of the
 * snapshot. */
static int plan_scope(struct builder *b, char *err, size_t errlen)
{
	const struct scope *sc = &b->p->scope;
	const struct host_state *s = b->s;
	unsigned char *state = NULL;
	size_t *path = NULL;

	if (sc->kind == SCOPE_HOST)
		return 0;
	b->scoped = true;
	policy_scope_format(sc, b->scope_text, sizeof(b->scope_text));
	if (sc->kind == SCOPE_CGROUP && !sc->cgroup) {
		snprintf(err, errlen, "scope cgroup: no cgroup path");
		return -EINVAL;
	}
	if (sc->kind == SCOPE_PROCESS) {
		bool found = false;

		/* Any thread of the process will do: its leader may have exited
		 * while its other threads run on. A thread id is not a process.
		 * A process with children in the snapshot exists even when it is
		 * not in it itself (isoctl bench's own process). */
		for (size_t i = 0; i < s->n_tasks && !found; i++)
			found = s->tasks[i].tgid == (pid_t)sc->pid ||
				(s->tasks[i].ppid == (pid_t)sc->pid && s->tasks[i].tid == s->tasks[i].tgid);
		/* A partial snapshot holds only a few threads: the process may
		 * just not be among them, so nothing is in scope. */
		if (!found && b->threads_only) {
			b->in_scope = calloc(s->n_tasks + 1, sizeof(*b->in_scope));
			if (!b->in_scope)
				goto oom;
			return 0;
		}
		if (!found) {
			snprintf(err, errlen, "scope %s: no such process", b->scope_text);
			return -ESRCH;
		}
	}
	b->in_scope = calloc(s->n_tasks + 1, sizeof(*b->in_scope));
	if (!b->in_scope)
		goto oom;
	if (sc->kind == SCOPE_CGROUP) {
		for (size_t i = 0; i < s->n_tasks; i++)
			b->in_scope[i] = cgroup_in_scope(sc->cgroup, s->tasks[i].cgroup);
		return 0;
	}
	state = calloc(s->n_tasks + 1, sizeof(*state));
	path = calloc(s->n_tasks + 1, sizeof(*path));
	if (!state || !path)
		goto oom;
	for (size_t i = 0; i < s->n_tasks; i++) {
		const struct task_info *t = &s->tasks[i];
		const struct task_info *leader = t->tid == t->tgid ? t : host_state_task(s, t->tgid);

		if (t->tgid == (pid_t)sc->pid)
			b->in_scope[i] = true;
		else if (leader && leader->tid == leader->tgid)
			b->in_scope[i] =
			    process_in_scope(s, (pid_t)sc->pid, (size_t)(leader - s->tasks), state, path) == WALK_IN;
	}
	free(state);
	free(path);
	return 0;
oom:
	free(state);
	free(path);
	snprintf(err, errlen, "out of memory");
	return -ENOMEM;
}

/* "irq/45-i40e-eth1" -> 45; -1 when comm is not an IRQ thread. */
static long irq_thread_number(const struct task_info *t)
{
	char *end;
	long n;

	if (!t->kthread || strncmp(t->comm, "irq/", 4) != 0)
		return -1;
	n = strtol(t->comm + 4, &end, 10);
	return end != t->comm + 4 && *end == '-' ? n : -1;
}

static bool has_irq(const struct host_state *s, long n)
{
	for (size_t i = 0; i < s->n_irqs; i++)
		if ((long)s->irqs[i].irq == n)
			return true;
	return false;
}

static bool threaded_irqs(const struct host_state *s)
{
	return s->preempt_rt || (s->cmdline && procfmt_cmdline_get(s->cmdline, "threadirqs", NULL) == 1);
}

/* The scheduling rule r wants (spec: its sched, or an IRQ rule's thread)
 * for thread t: unchanged, skipped, or an action (returned; NULL
 * otherwise). */
static struct action *plan_sched(struct builder *b, const struct rule *r, const struct sched_spec *spec,
				 const struct task_info *t)
{
	char want[ACTION_SCHED_MAX], now[ACTION_SCHED_MAX];
	struct action *a;

	policy_sched_format(spec, want, sizeof(want));
	if (strcmp(action_sched_name(t->policy, t->rt_priority, now), want) == 0) {
		b->pl->unchanged++;
		return NULL;
	}
	if (unrestorable(t)) {
		add_skip(b, ACTION_THREAD_SCHED, action_tid_target(t->tid), thread_label(t), unrestorable_reason(t),
			 r->name);
		return NULL;
	}
	a = add_action(b, ACTION_THREAD_SCHED, action_tid_target(t->tid), thread_label(t),
		       action_sched_format(t->policy, t->rt_priority), strdup(want), r->name, rule_is_rt(b->p, r));
	set_thread(a, t);
	return a;
}

static void plan_irqs(struct builder *b, size_t *rule_hits)
{
	const struct policy *p = b->p;
	const struct host_state *s = b->s;

	for (size_t i = 0; i < s->n_irqs; i++) {
		const struct irq_info *irq = &s->irqs[i];
		const struct rule *r = NULL;
		size_t ri;
		bool found_thread = false;

		for (ri = 0; ri < p->n_irq_rules; ri++)
			if (match_irq(&p->irq_rules[ri], irq)) {
				r = &p->irq_rules[ri];
				break;
			}
		if (!r)
			continue;
		rule_hits[ri]++;
		if (r->has_cpus && p->has_irqbalance && irq->has_affinity &&
		    cpuset_intersects(&r->cpus, &p->irqbalance_banned) && cpuset_set(&b->irqbalance_irqs, irq->irq) < 0)
			b->error = -ENOMEM;
		if (r->has_cpus) {
			if (!irq->has_affinity)
				add_skip(b, ACTION_IRQ_AFFINITY, action_irq_target(irq->irq), irq_label(irq),
					 strdup("no smp_affinity_list: the kernel does not let this IRQ be moved"),
					 r->name);
			else if (cpuset_equal(&irq->affinity, &r->cpus))
				b->pl->unchanged++;
			else {
				struct action *a = add_action(b, ACTION_IRQ_AFFINITY, action_irq_target(irq->irq),
							      irq_label(irq), action_cpus_format(&irq->affinity),
							      action_cpus_format(&r->cpus), r->name, rule_is_rt(p, r));
				if (a)
					a->irq = irq->irq;
			}
		}
		if (r->thread.kind == SCHED_KIND_UNSET)
			continue;
		for (size_t t = 0; t < s->n_tasks; t++) {
			const struct task_info *task = &s->tasks[t];
			struct action *a;

			if (task->context_only || irq_thread_number(task) != (long)irq->irq)
				continue;
			found_thread = true;
			a = plan_sched(b, r, &r->thread, task);
			if (a)
				a->irq = irq->irq;
		}
		if (!found_thread)
			add_skip(b, ACTION_THREAD_SCHED, action_irq_target(irq->irq), irq_label(irq),
				 strdup(threaded_irqs(s) ? "this IRQ has no irq/N thread"
							 : "no IRQ thread: the kernel is not PREEMPT_RT and was not "
							   "booted with threadirqs"),
				 r->name);
	}
}

static void plan_threads(struct builder *b, size_t *rule_hits)
{
	const struct policy *p = b->p;
	const struct host_state *s = b->s;

	for (size_t i = 0; i < s->n_tasks; i++) {
		const struct task_info *t = &s->tasks[i];
		const struct rule *r = NULL;
		size_t ri;
		long irqn = irq_thread_number(t);

		/* An IRQ thread follows its IRQ's affinity and takes its priority
		 * from the IRQ rule: thread rules leave it alone. */
		if (irqn >= 0 && has_irq(s, irqn))
			continue;
		/* Read only to judge others (a partial snapshot): never acted on. */
		if (t->context_only)
			continue;
		if (b->scoped && !b->in_scope[i])
			continue;
		for (ri = 0; ri < p->n_thread_rules; ri++)
			if (match_thread(&p->thread_rules[ri], t, s)) {
				r = &p->thread_rules[ri];
				break;
			}
		if (!r)
			continue;
		rule_hits[ri]++;
		if (p->partition.set && strv_contains(p->partition.rules, r->name)) {
			size_t *v = realloc(b->part_tasks, (b->n_part + 1) * sizeof(*v));
			const struct rule **rv = v ? realloc(b->part_rules, (b->n_part + 1) * sizeof(*rv)) : NULL;

			if (v)
				b->part_tasks = v;
			if (rv)
				b->part_rules = rv;
			if (!v || !rv) {
				b->error = -ENOMEM;
				return;
			}
			b->part_tasks[b->n_part] = i;
			b->part_rules[b->n_part++] = r;
		}
		if (r->has_cpus) {
			/* A per-CPU kernel thread already inside the wanted CPUs
			 * (ksoftirqd/3 when 3 is housekeeping) is as good as it
			 * gets; only those stuck outside them are worth a line. */
			if (cpuset_equal(&t->cpus, &r->cpus) ||
			    (t->no_setaffinity && cpuset_subset(&t->cpus, &r->cpus)))
				b->pl->unchanged++;
			else if (is_deadline(t)) {
				add_skip(b, ACTION_THREAD_AFFINITY, action_tid_target(t->tid), thread_label(t),
					 strdup("SCHED_DEADLINE thread: isolated leaves it alone (the kernel refuses "
						"affinity changes that would break deadline admission: EBUSY)"),
					 r->name);
			} else if (t->no_setaffinity) {
				char *cur = action_cpus_format(&t->cpus);

				/* Bound to one CPU: a per-CPU kthread. Wider: a workqueue
				 * worker or rescuer, whose CPUs follow the workqueue
				 * cpumask (/sys/devices/virtual/workqueue/cpumask). */
				add_skip(b, ACTION_THREAD_AFFINITY, action_tid_target(t->tid), thread_label(t),
					 cpuset_count(&t->cpus) == 1
					     ? util_sprintf("not movable: per-CPU kernel thread (PF_NO_SETAFFINITY), "
							    "stays on %s",
							    cur ? cur : "?")
					     : util_sprintf(
						   "not movable: kernel workqueue thread (PF_NO_SETAFFINITY) on %s; "
						   "its CPUs follow the workqueue cpumask",
						   cur ? cur : "?"),
					 r->name);
				free(cur);
			} else {
				struct action *a = add_action(b, ACTION_THREAD_AFFINITY, action_tid_target(t->tid),
							      thread_label(t), action_cpus_format(&t->cpus),
							      action_cpus_format(&r->cpus), r->name, rule_is_rt(p, r));
				set_thread(a, t);
			}
		}
		if (r->sched.kind != SCHED_KIND_UNSET)
			plan_sched(b, r, &r->sched, t);
	}
}

/* ---- [partition] ---- */

/* "cgroup/REL" of a cgroup's file (file NULL: the cgroup itself) in the
 * snapshot's hierarchy. */
static char *cg_target(const struct host_state *s, const char *dir, const char *file)
{
	const char *below = s->cgroups.mount + strlen("sys/fs/cgroup"), *parts[3];
	struct sbuf out = {0};

	below += *below == '/';
	parts[0] = below;
	parts[1] = dir + (*dir == '/');
	parts[2] = file ? file : "";
	sbuf_adds(&out, CGROUP_TARGET_PREFIX);
	for (size_t i = 0, n = 0; i < 3; i++)
		if (*parts[i]) {
			if (n++)
				sbuf_addc(&out, '/');
			sbuf_adds(&out, parts[i]);
		}
	return sbuf_take(&out);
}

/* The value of a cgroup's file in the snapshot; NULL: none. */
static const char *cg_value(const struct host_state *s, const char *dir, const char *file)
{
	char path[PATH_MAX];
	const struct host_file *f;

	if (cgroup_file_path(path, sizeof(path), s->cgroups.mount, dir, file) < 0)
		return NULL;
	f = host_state_file(s, path);
	return f ? f->value : NULL;
}

static bool cg_exists(const struct host_state *s, const char *dir)
{
	return strv_contains(s->cgroups.dirs, dir);
}

/* A cgroup path becomes its parent ("/a/b" -> "/a", "/a" -> "/"). */
static void cg_parent(char *dir)
{
	char *slash = strrchr(dir, '/');

	if (slash)
		slash[slash == dir ? 1 : 0] = '\0';
}

/* A cgroup file to be value: an action unless it is already. from: the
 * value now (NULL: the file's in the snapshot). */
static void cg_set(struct builder *b, const char *dir, const char *file, const char *from, const char *to)
{
	const char *cur = from ? from : cg_value(b->s, dir, file);

	if (!cur) {
		add_skip(b, ACTION_CGROUP, cg_target(b->s, dir, file), strdup(dir),
			 util_sprintf("cannot be done: the cgroup %s has no %s", dir, file), "partition");
		return;
	}
	if (action_value_equal(ACTION_CGROUP, cur, to)) {
		b->pl->unchanged++;
		return;
	}
	add_action(b, ACTION_CGROUP, cg_target(b->s, dir, file), strdup(dir), strdup(cur), strdup(to), "partition",
		   true);
}

static void cg_skip(struct builder *b, char *reason)
{
	add_skip(b, ACTION_CGROUP, strdup("partition"), strdup("partition"), reason, "partition");
}

/* A cpu list value with c added. */
static char *cpus_with(const char *cur, const struct cpuset *c)
{
	struct cpuset x = CPUSET_INIT;
	char msg[64], *out = NULL;

	if (cpuset_parse_list(cur ? cur : "", &x, msg, sizeof(msg)) == 0 && cpuset_or(&x, &x, c) == 0)
		out = action_cpus_format(&x);
	cpuset_free(&x);
	return out;
}

static bool cpus_cover(const char *cur, const struct cpuset *c)
{
	struct cpuset x = CPUSET_INIT;
	char msg[64];
	bool ok = cpuset_parse_list(cur ? cur : "", &x, msg, sizeof(msg)) == 0 && cpuset_subset(c, &x);

	cpuset_free(&x);
	return ok;
}

/* The partition's threads into cgroup dir (a path of the hierarchy). */
static void cg_move_threads(struct builder *b, const char *dir)
{
	for (size_t i = 0; i < b->n_part; i++) {
		const struct task_info *t = &b->s->tasks[b->part_tasks[i]];
		struct action *a;

		if (t->cpuset_cgroup && strcmp(t->cpuset_cgroup, dir) == 0) {
			b->pl->unchanged++;
			continue;
		}
		a = add_action(b, ACTION_THREAD_CGROUP, action_tid_target(t->tid), thread_label(t),
			       strdup(t->cpuset_cgroup), strdup(dir), b->part_rules[i]->name, true);
		set_thread(a, t);
	}
}

/* v2: a threaded cgroup of ours in the threads' cgroup domain (the
 * nearest ancestor of their cgroups that is not "threaded": libvirt's
 * .../libvirt), made an isolated partition: a remote one, its CPUs
 * granted by cpuset.cpus.exclusive on every cgroup between it and the
 * root. */
static void plan_partition_v2(struct builder *b, const char *cpus_text)
{
	const struct partition_spec *ps = &b->p->partition;
	const struct host_state *s = b->s;
	char domain[PATH_MAX] = "", own[PATH_MAX], at[PATH_MAX], **chain = NULL;
	struct cpuset root_eff = CPUSET_INIT;
	const char *v;
	char msg[64];
	pid_t first = 0;

	if (!s->cgroups.isolated) {
		cg_skip(b, util_sprintf("cannot be done: this kernel (%s) has no remote isolated partitions "
					"(cpuset.cpus.exclusive and cpuset.cpus.isolated came in Linux 6.7); only "
					"isolcpus= on the boot command line takes %s out of load balancing",
					s->osrelease ? s->osrelease : "?", cpus_text));
		return;
	}
	v = cg_value(s, "/", "cpuset.cpus.effective");
	if (!v || cpuset_parse_list(v, &root_eff, msg, sizeof(msg)) < 0 || !cpuset_subset(&ps->cpus, &root_eff) ||
	    cpuset_subset(&root_eff, &ps->cpus)) {
		cg_skip(b, util_sprintf("cannot be done: the partition's CPUs %s must be some, not all, of the "
					"root cgroup's %s",
					cpus_text, v ? v : "?"));
		cpuset_free(&root_eff);
		return;
	}
	cpuset_free(&root_eff);
	for (size_t i = 0; i < b->n_part; i++) {
		const struct task_info *t = &s->tasks[b->part_tasks[i]];
		char d[PATH_MAX];

		if (!t->cpuset_cgroup || !cg_exists(s, t->cpuset_cgroup)) {
			cg_skip(b, util_sprintf("cannot be done: the cgroup of thread %d (%s) is not in %s",
						(int)t->tid, t->comm, s->cgroups.mount));
			return;
		}
		snprintf(d, sizeof(d), "%s", t->cpuset_cgroup);
		while (strcmp(d, "/") != 0 && (v = cg_value(s, d, "cgroup.type")) && strcmp(v, "threaded") == 0)
			cg_parent(d);
		/* a cgroup of our own holding it already: its domain is above */
		if (strrchr(d, '/') && strcmp(strrchr(d, '/') + 1, ps->name) == 0)
			cg_parent(d);
		if (!*domain) {
			snprintf(domain, sizeof(domain), "%s", d);
			first = t->tid;
		} else if (strcmp(domain, d) != 0) {
			cg_skip(b, util_sprintf("cannot be done: a partition holds threads of one cgroup domain (one "
						"VM): thread %d is in %s, thread %d (%s) in %s",
						(int)first, domain, (int)t->tid, t->comm, d));
			return;
		}
	}
	if (util_path(own, sizeof(own), "%s/%s", strcmp(domain, "/") == 0 ? "" : domain, ps->name) < 0) {
		cg_skip(b, strdup("cannot be done: the cgroup path is too long"));
		return;
	}
	/* root .. domain */
	snprintf(at, sizeof(at), "%s", domain);
	for (;;) {
		if (strv_push_dup(&chain, at) < 0) {
			b->error = -ENOMEM;
			strv_free(chain);
			return;
		}
		if (strcmp(at, "/") == 0)
			break;
		cg_parent(at);
	}
	for (size_t i = strv_len(chain); i-- > 0;) {
		const char *ctl = cg_value(s, chain[i], "cgroup.subtree_control");

		if (ctl && !cgroup_has_word(ctl, "cpuset", 6)) {
			char *to = util_sprintf("%s%scpuset", ctl, *ctl ? " " : "");
			if (to)
				cg_set(b, chain[i], "cgroup.subtree_control", NULL, to);
			free(to);
		} else if (!ctl)
			cg_set(b, chain[i], "cgroup.subtree_control", NULL, "cpuset");
		if (strcmp(chain[i], "/") != 0) {
			const char *ex = cg_value(s, chain[i], "cpuset.cpus.exclusive");

			if (ex && !cpus_cover(ex, &ps->cpus)) {
				char *to = cpus_with(ex, &ps->cpus);
				if (to)
					cg_set(b, chain[i], "cpuset.cpus.exclusive", NULL, to);
				free(to);
			} else if (!ex)
				cg_set(b, chain[i], "cpuset.cpus.exclusive", NULL, cpus_text);
		}
	}
	strv_free(chain);
	/* Our cgroup: a fresh one's files, unless it is there (held). */
	{
		bool there = cg_exists(s, own);

		if (!there)
			add_action(b, ACTION_CGROUP, cg_target(s, own, NULL), strdup(own), strdup("absent"),
				   strdup("threaded"), "partition", true);
		else
			b->pl->unchanged++;
		cg_set(b, own, "cpuset.cpus", there ? NULL : "", cpus_text);
		cg_set(b, own, "cpuset.cpus.exclusive", there ? NULL : "", cpus_text);
		cg_set(b, own, "cpuset.cpus.partition", there ? NULL : "member", "isolated");
	}
	cg_move_threads(b, own);
}

/* v1: a cpuset of ours holding the threads with sched_load_balance 0, one
 * with the housekeeping CPUs and sched_load_balance 1, and 0 on the parent
 * and on every other cpuset below it that spans a partition CPU: a CPU
 * leaves load balancing only when no balancing cpuset spans it. */
static void plan_partition_v1(struct builder *b, const char *cpus_text)
{
	const struct partition_spec *ps = &b->p->partition;
	const struct host_state *s = b->s;
	struct cpuset pcpus = CPUSET_INIT, hk = CPUSET_INIT;
	char own[PATH_MAX], hkdir[PATH_MAX], msg[64], *hk_text = NULL;
	const char *pc, *pm;
	size_t plen = strcmp(ps->parent, "/") == 0 ? 0 : strlen(ps->parent);

	if (!cg_exists(s, ps->parent)) {
		cg_skip(b, util_sprintf("cannot be done: there is no cpuset %s (parent in [partition]) in %s",
					ps->parent, s->cgroups.mount));
		return;
	}
	pc = cg_value(s, ps->parent, "cpuset.cpus");
	pm = cg_value(s, ps->parent, "cpuset.mems");
	if (!pc || !pm || cpuset_parse_list(pc, &pcpus, msg, sizeof(msg)) < 0) {
		cg_skip(b, util_sprintf("cannot be done: the cpuset %s has no cpuset.cpus or cpuset.mems", ps->parent));
		return;
	}
	if (!cpuset_subset(&ps->cpus, &pcpus) || cpuset_andnot(&hk, &pcpus, &ps->cpus) < 0 || cpuset_empty(&hk)) {
		cg_skip(b, util_sprintf("cannot be done: the partition's CPUs %s must be some, not all, of the cpuset "
					"%s's %s",
					cpus_text, ps->parent, pc));
		goto out;
	}
	hk_text = action_cpus_format(&hk);
	if (!hk_text || util_path(own, sizeof(own), "%s/%s", plen ? ps->parent : "", ps->name) < 0 ||
	    util_path(hkdir, sizeof(hkdir), "%s-housekeeping", own) < 0) {
		b->error = -ENOMEM;
		goto out;
	}
	/* ours: made, then filled (cpus and mems before any task joins) */
	if (!cg_exists(s, hkdir))
		add_action(b, ACTION_CGROUP, cg_target(s, hkdir, NULL), strdup(hkdir), strdup("absent"),
			   strdup("present"), "partition", false);
	cg_set(b, hkdir, "cpuset.cpus", cg_exists(s, hkdir) ? NULL : "", hk_text);
	cg_set(b, hkdir, "cpuset.mems", cg_exists(s, hkdir) ? NULL : "", pm);
	if (!cg_exists(s, own))
		add_action(b, ACTION_CGROUP, cg_target(s, own, NULL), strdup(own), strdup("absent"), strdup("present"),
			   "partition", true);
	cg_set(b, own, "cpuset.cpus", cg_exists(s, own) ? NULL : "", cpus_text);
	cg_set(b, own, "cpuset.mems", cg_exists(s, own) ? NULL : "", pm);
	cg_set(b, own, "cpuset.sched_load_balance", cg_exists(s, own) ? NULL : "1", "0");
	/* the parent and the other balancing cpusets over the partition's CPUs */
	for (size_t i = 0; s->cgroups.dirs && s->cgroups.dirs[i]; i++) {
		const char *d = s->cgroups.dirs[i], *c, *lb;
		struct cpuset dc = CPUSET_INIT;
		bool over;

		if (plen && (strncmp(d, ps->parent, plen) != 0 || (d[plen] && d[plen] != '/')))
			continue;
		if ((strncmp(d, own, strlen(own)) == 0 && (!d[strlen(own)] || d[strlen(own)] == '/')) ||
		    strcmp(d, hkdir) == 0)
			continue;
		c = cg_value(s, d, "cpuset.cpus");
		lb = cg_value(s, d, "cpuset.sched_load_balance");
		over = c && lb && strcmp(lb, "1") == 0 && cpuset_parse_list(c, &dc, msg, sizeof(msg)) == 0 &&
		       cpuset_intersects(&dc, &ps->cpus);
		cpuset_free(&dc);
		if (over)
			cg_set(b, d, "cpuset.sched_load_balance", NULL, "0");
	}
	cg_move_threads(b, own);
out:
	free(hk_text);
	cpuset_free(&pcpus);
	cpuset_free(&hk);
}

static void plan_partition(struct builder *b)
{
	const struct partition_spec *ps = &b->p->partition;
	char *cpus_text;

	if (!ps->set)
		return;
	if (b->scoped) {
		add_warning(b, util_sprintf("scope %s: [partition] is host-wide and is not applied", b->scope_text));
		return;
	}
	cpus_text = action_cpus_format(&ps->cpus);
	if (!cpus_text) {
		b->error = -ENOMEM;
		return;
	}
	if (!b->s->have.cgroups || b->s->cgroups.kind == CGROUP_NONE)
		cg_skip(b, util_sprintf("cannot be done: no cpuset controller is mounted (neither cgroup v2 with "
					"cpuset at /sys/fs/cgroup nor a v1 cpuset hierarchy); only isolcpus= on the "
					"boot command line takes %s out of load balancing",
					cpus_text));
	else if (!b->n_part)
		cg_skip(b, util_sprintf("not made: no thread of the rules it names (%s) is running; a partition "
					"is made for the threads it holds",
					ps->rules && ps->rules[0] ? ps->rules[0] : "?"));
	else if (b->s->cgroups.kind == CGROUP_V2)
		plan_partition_v2(b, cpus_text);
	else
		plan_partition_v1(b, cpus_text);
	free(cpus_text);
}

static void plan_unmatched(struct builder *b, const struct rule *rules, size_t n, const size_t *hits)
{
	for (size_t i = 0; i < n; i++) {
		const struct rule *r = &rules[i];

		if (hits[i] || match_rule_nobody(r))
			continue;
		if (rule_is_rt(b->p, r))
			add_skip(b, r->is_irq ? ACTION_IRQ_AFFINITY : ACTION_THREAD_AFFINITY, rule_ref(r),
				 strdup(r->match_text ? r->match_text : ""),
				 util_sprintf("RT rule matches no %s %s%s", r->is_irq ? "IRQ" : "thread",
					      b->scoped ? "in scope " : "on this host", b->scoped ? b->scope_text : ""),
				 r->name);
		else
			add_warning(b,
				    util_sprintf("[%s %s] matches nothing%s%s (match = %s)",
						 r->is_irq ? "irq" : "thread", r->name, b->scoped ? " in scope " : "",
						 b->scoped ? b->scope_text : "", r->match_text ? r->match_text : ""));
	}
}

static void plan_requirements(struct builder *b)
{
	if ((b->p->requires & POLICY_REQ_PREEMPT_RT) && !threaded_irqs(b->s))
		add_warning(b, util_sprintf("mode %s wants a PREEMPT_RT kernel (or threadirqs on the command line) for "
					    "IRQ thread priorities; this kernel is %s",
					    b->p->name, b->s->osrelease ? b->s->osrelease : "unknown"));
	if (((b->p->requires & POLICY_REQ_RTNET) || b->p->type == MODE_TYPE_OUTSOURCING) &&
	    !host_state_sysctl(b->s, "net.core.rtnet_prio"))
		add_warning(b, util_sprintf("mode %s needs the RT poll_list kernel patch (net.core.rtnet_prio); "
					    "this kernel does not have it",
					    b->p->name));
}

static int action_cmp(const void *x, const void *y)
{
	const struct action *a = x, *c = y;

	if (a->kind != c->kind)
		return (int)a->kind - (int)c->kind;
	if (a->kind == ACTION_IRQ_AFFINITY)
		return (a->irq > c->irq) - (a->irq < c->irq);
	if (a->kind == ACTION_CGROUP)
		return cgroup_target_cmp(a->target, c->target);
	if (action_kind_is_thread(a->kind)) {
		if (a->tgid != c->tgid)
			return (a->tgid > c->tgid) - (a->tgid < c->tgid);
		return (a->tid > c->tid) - (a->tid < c->tid);
	}
	return strcmp(a->target, c->target);
}

static int build(const struct policy *p, const struct host_state *s, bool threads_only, struct plan **ret, char *err,
		 size_t errlen)
{
	struct builder b = {.p = p, .s = s, .threads_only = threads_only};
	size_t *irq_hits, *thread_hits, fixed;
	int r;

	b.pl = calloc(1, sizeof(*b.pl));
	irq_hits = calloc(p->n_irq_rules + 1, sizeof(*irq_hits));
	thread_hits = calloc(p->n_thread_rules + 1, sizeof(*thread_hits));
	if (!b.pl || !irq_hits || !thread_hits) {
		free(b.pl);
		free(irq_hits);
		free(thread_hits);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	b.pl->policy = p;
	r = plan_scope(&b, err, errlen);
	if (r < 0) {
		plan_free(b.pl);
		free(irq_hits);
		free(thread_hits);
		free(b.in_scope);
		return r;
	}
	if (threads_only) {
		plan_threads(&b, thread_hits);
	} else {
		if (b.scoped && (p->n_irq_rules || p->has_irq_default || p->has_wq_cpumask || p->has_irqbalance))
			add_warning(&b, util_sprintf("scope %s: IRQ rules, [cpumask] and [irqbalance] are host-wide "
						     "and are not applied",
						     b.scope_text));
		plan_requirements(&b);
		plan_sysctls(&b);
		if (!b.scoped) {
			plan_cpumasks(&b);
			plan_sysfs(&b);
			plan_irqs(&b, irq_hits);
			plan_irqbalance(&b);
		}
		plan_threads(&b, thread_hits);
		plan_partition(&b);
		if (!b.scoped)
			plan_unmatched(&b, p->irq_rules, p->n_irq_rules, irq_hits);
		plan_unmatched(&b, p->thread_rules, p->n_thread_rules, thread_hits);
	}
	free(irq_hits);
	free(thread_hits);
	free(b.in_scope);
	free(b.part_tasks);
	free(b.part_rules);
	cpuset_free(&b.irqbalance_irqs);
	if (b.error < 0) {
		plan_free(b.pl);
		snprintf(err, errlen, "out of memory while planning");
		return b.error;
	}
	/* Sysctls, then the cpumask defaults, were added first and keep the
	 * policy's order (qsort is not stable, so they stay out of the sort);
	 * then IRQs by number, threads by process and thread. */
	fixed = b.pl->counts[ACTION_SYSCTL] + b.pl->counts[ACTION_CPUMASK] + b.pl->counts[ACTION_SYSFS];
	if (b.pl->n_actions > fixed)
		qsort(b.pl->actions + fixed, b.pl->n_actions - fixed, sizeof(*b.pl->actions), action_cmp);
	*ret = b.pl;
	return 0;
}

int plan_build(const struct policy *p, const struct host_state *s, struct plan **ret, char *err, size_t errlen)
{
	return build(p, s, false, ret, err, errlen);
}

int plan_build_threads(const struct policy *p, const struct host_state *s, struct plan **ret, char *err, size_t errlen)
{
	return build(p, s, true, ret, err, errlen);
}

void plan_free(struct plan *pl)
{
	if (!pl)
		return;
	for (size_t i = 0; i < pl->n_actions; i++) {
		free(pl->actions[i].target);
		free(pl->actions[i].label);
		free(pl->actions[i].from);
		free(pl->actions[i].to);
	}
	for (size_t i = 0; i < pl->n_skips; i++) {
		free(pl->skips[i].target);
		free(pl->skips[i].label);
		free(pl->skips[i].reason);
	}
	free(pl->actions);
	free(pl->skips);
	strv_free(pl->warnings);
	free(pl);
}
