/* A journal target's value: read from a snapshot or put into it (the
 * pristine view a plan is made against), and read from the host or written
 * to it through the host seam, for the transactions and status. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "apply-internal.h"
#include "isolated/action.h"
#include "isolated/cgroup.h"
#include "isolated/irqbalance.h"
#include "isolated/util.h"

/* ---- In a snapshot ---- */

static struct irq_info *state_irq(const struct host_state *s, unsigned irq)
{
	size_t lo = 0, hi = s->n_irqs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->irqs[mid].irq < irq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < s->n_irqs && s->irqs[lo].irq == irq ? &s->irqs[lo] : NULL;
}

/* The thread of a journal entry, if it is still the same thread. */
struct task_info *target_thread(const struct host_state *s, const struct journal_entry *e)
{
	struct task_info *t = (struct task_info *)host_state_task(s, e->tid);

	return t && t->starttime == e->starttime ? t : NULL;
}

/* The snapshot's file of a sysfs target, if it read it. */
static struct host_file *state_sysfs(const struct host_state *s, const char *target)
{
	const char *path = action_sysfs_path(target);
	char file[PATH_MAX];

	if (!path || util_path(file, sizeof(file), "sys/%s", path) < 0)
		return NULL;
	return host_state_file(s, file);
}

/* Put value of an irqbalance target into a file's text of the snapshot. */
static int set_irqbalance_in(struct host_file *f, const char *target, const char *value)
{
	char *nbuf, err[256];
	size_t nlen;
	int r;

	if (!f || !f->value)
		return 0;
	r = irqbalance_edit(f->value, strlen(f->value), target, value, &nbuf, &nlen, err, sizeof(err));
	/* A file we cannot edit keeps its text: the plan says why. */
	if (r == -EINVAL)
		return 0;
	if (r < 0)
		return r;
	free(f->value);
	f->value = nbuf;
	return 0;
}

/* ---- cgroups ---- */

/* The cgroup (a path of the cpuset hierarchy: "/isolated-rt") of a
 * directory target's REL, in buf; NULL when REL is not below the
 * snapshot's hierarchy. */
static const char *state_cgroup_dir(const struct host_state *s, const char *rel, char *buf, size_t len)
{
	const char *mount = s->cgroups.mount, *below;
	size_t ml;

	if (!mount || strncmp(mount, "sys/fs/cgroup", 13) != 0)
		return NULL;
	below = mount + 13;
	below += *below == '/';
	ml = strlen(below);
	if (ml && (strncmp(rel, below, ml) != 0 || rel[ml] != '/'))
		return NULL;
	return util_path(buf, len, "/%s", rel + ml + (ml ? 1 : 0)) < 0 ? NULL : buf;
}

static ssize_t state_dir_index(const struct host_state *s, const char *dir)
{
	for (size_t i = 0; s->cgroups.dirs && s->cgroups.dirs[i]; i++)
		if (strcmp(s->cgroups.dirs[i], dir) == 0)
			return (ssize_t)i;
	return -1;
}

/* A directory target's value in the snapshot: "absent", "present", or
 * "threaded" (its cgroup.type); NULL when the snapshot has no cgroups. */
static int state_cgroup_dir_value(const struct host_state *s, const char *rel, char **ret)
{
	char dir[PATH_MAX], file[PATH_MAX];
	const struct host_file *f;

	*ret = NULL;
	if (!s->have.cgroups || !state_cgroup_dir(s, rel, dir, sizeof(dir)))
		return 0;
	if (state_dir_index(s, dir) < 0)
		*ret = strdup("absent");
	else if (util_path(file, sizeof(file), "sys/fs/cgroup/%s/cgroup.type", rel) == 0 &&
		 (f = host_state_file(s, file)) && f->value && strcmp(f->value, "threaded") == 0)
		*ret = strdup("threaded");
	else
		*ret = strdup("present");
	return *ret ? 0 : -ENOMEM;
}

static struct host_file *state_cgroup_file(const struct host_state *s, const char *target)
{
	const char *rel = cgroup_target_rel(target);
	char file[PATH_MAX];

	if (!rel || util_path(file, sizeof(file), "sys/fs/cgroup/%s", rel) < 0)
		return NULL;
	return host_state_file(s, file);
}

static bool cgroup_is_dir(const char *target)
{
	char why[128];
	bool dir = false;

	return cgroup_target_check(target, &dir, why, sizeof(why)) == 0 && dir;
}

/* Put a directory's value into the snapshot: its path joins or leaves the
 * hierarchy's cgroups (its files stay as they were read). */
static int set_cgroup_dir_in(struct host_state *s, const char *rel, const char *value)
{
	char dir[PATH_MAX];
	ssize_t i;

	if (!s->have.cgroups || !state_cgroup_dir(s, rel, dir, sizeof(dir)))
		return 0;
	i = state_dir_index(s, dir);
	if (strcmp(value, "absent") == 0 && i >= 0) {
		free(s->cgroups.dirs[i]);
		memmove(&s->cgroups.dirs[i], &s->cgroups.dirs[i + 1],
			(strv_len(s->cgroups.dirs) - (size_t)i) * sizeof(char *));
	} else if (strcmp(value, "absent") != 0 && i < 0)
		return strv_push_dup(&s->cgroups.dirs, dir);
	return 0;
}

bool target_in_state(const struct host_state *s, const struct journal_entry *e)
{
	char path[PATH_MAX];

	switch (e->kind) {
	case ACTION_SYSCTL:
		for (size_t i = 0; i < s->n_sysctls; i++)
			if (strcmp(s->sysctls[i].name, e->target) == 0)
				return true;
		return host_sysctl_path(e->target, path, sizeof(path)) == 0 && host_state_file(s, path);
	case ACTION_SYSFS:
		return state_sysfs(s, e->target) != NULL;
	case ACTION_IRQBALANCE:
		return irqbalance_state_file(s, false) != NULL;
	case ACTION_CGROUP:
		return s->have.cgroups && (cgroup_is_dir(e->target) || state_cgroup_file(s, e->target));
	case ACTION_THREAD_CGROUP:
		return s->have.cgroups && (s->have.tasks & HOST_TASK_CPUSET);
	default:
		return true;
	}
}

/* The value of e's target in the snapshot; NULL with *ret_gone when the
 * target no longer exists. -ENOMEM. */
int target_value_in(const struct host_state *s, const struct journal_entry *e, char **ret)
{
	const struct irq_info *irq;
	const struct task_info *t;
	enum host_cpumask which;
	const char *v;
	char *out = NULL;

	switch (e->kind) {
	case ACTION_SYSCTL:
		v = host_state_sysctl(s, e->target);
		if (v && !(out = strdup(v)))
			return -ENOMEM;
		break;
	case ACTION_SYSFS: {
		const struct host_file *f = state_sysfs(s, e->target);

		if (f && f->value && !(out = action_sysfs_value(f->value)))
			return -ENOMEM;
		break;
	}
	case ACTION_IRQBALANCE: {
		const struct host_file *f = irqbalance_state_file(s, false);
		char why[256];
		int r;

		/* A file that does not read is no value: the plan says why. */
		if (f && (r = irqbalance_value(f->value, strlen(f->value), e->target, &out, why, sizeof(why))) < 0 &&
		    r != -EINVAL)
			return r;
		break;
	}
	case ACTION_CGROUP: {
		const struct host_file *f;

		if (cgroup_is_dir(e->target))
			return state_cgroup_dir_value(s, cgroup_target_rel(e->target), ret);
		f = state_cgroup_file(s, e->target);
		if (f && f->value && !(out = strdup(f->value)))
			return -ENOMEM;
		break;
	}
	case ACTION_THREAD_CGROUP:
		t = target_thread(s, e);
		if (t && t->cpuset_cgroup && !(out = strdup(t->cpuset_cgroup)))
			return -ENOMEM;
		break;
	case ACTION_CPUMASK:
		if (action_cpumask_which(e->target, &which) < 0)
			break;
		if (which == HOST_CPUMASK_IRQ_DEFAULT && s->has_irq_default)
			out = action_cpus_format(&s->irq_default);
		else if (which == HOST_CPUMASK_WORKQUEUE && s->has_wq_cpumask)
			out = action_cpus_format(&s->wq_cpumask);
		else
			break;
		if (!out)
			return -ENOMEM;
		break;
	case ACTION_IRQ_AFFINITY:
		irq = state_irq(s, e->irq);
		if (irq && irq->has_affinity && !(out = action_cpus_format(&irq->affinity)))
			return -ENOMEM;
		break;
	case ACTION_THREAD_AFFINITY:
	case ACTION_THREAD_SCHED:
		t = target_thread(s, e);
		if (!t)
			break;
		out = e->kind == ACTION_THREAD_AFFINITY ? action_cpus_format(&t->cpus)
							: action_sched_format(t->policy, t->rt_priority);
		if (!out)
			return -ENOMEM;
		break;
	default:
		break;
	}
	*ret = out;
	return 0;
}

static int set_sysctl_in(struct host_state *s, const char *name, const char *value)
{
	char path[PATH_MAX], **slot = NULL, *v;
	struct host_file *f;

	for (size_t i = 0; i < s->n_sysctls && !slot; i++)
		if (strcmp(s->sysctls[i].name, name) == 0)
			slot = &s->sysctls[i].value;
	if (!slot && host_sysctl_path(name, path, sizeof(path)) == 0 && (f = host_state_file(s, path)))
		slot = &f->value;
	/* Not in the snapshot: nothing to put it into. */
	if (!slot)
		return 0;
	if (!(v = strdup(value)))
		return -ENOMEM;
	free(*slot);
	*slot = v;
	return 0;
}

/* Put value (of e's target) into the snapshot: the journal's pristine
 * values, so the plan is made against the host as it was before isolated
 * touched it; or what a recovery put back. */
int target_set_in(struct host_state *s, const struct journal_entry *e, const char *value)
{
	struct irq_info *irq;
	struct task_info *t;
	enum host_cpumask which;
	int policy, prio;

	switch (e->kind) {
	case ACTION_SYSCTL:
		return set_sysctl_in(s, e->target, value);
	case ACTION_SYSFS: {
		struct host_file *f = state_sysfs(s, e->target);
		char *v;

		if (!f || !f->value)
			return 0;
		if (!(v = strdup(value)))
			return -ENOMEM;
		free(f->value);
		f->value = v;
		return 0;
	}
	case ACTION_IRQBALANCE: {
		int r = set_irqbalance_in((struct host_file *)irqbalance_state_file(s, false), e->target, value);

		if (r >= 0)
			r = set_irqbalance_in(host_state_file(s, IRQBALANCE_BACKUP_PATH), e->target, value);
		return r;
	}
	case ACTION_CGROUP: {
		struct host_file *f;
		char *v;

		if (cgroup_is_dir(e->target))
			return set_cgroup_dir_in(s, cgroup_target_rel(e->target), value);
		f = state_cgroup_file(s, e->target);
		if (!f)
			return 0;
		if (!(v = strdup(value)))
			return -ENOMEM;
		free(f->value);
		f->value = v;
		return 0;
	}
	case ACTION_THREAD_CGROUP: {
		char *v;

		t = target_thread(s, e);
		if (!t)
			return 0;
		if (!(v = strdup(value)))
			return -ENOMEM;
		free(t->cpuset_cgroup);
		t->cpuset_cgroup = v;
		return 0;
	}
	case ACTION_CPUMASK:
		if (action_cpumask_which(e->target, &which) < 0)
			return -EINVAL;
		return action_cpus_parse(value, which == HOST_CPUMASK_IRQ_DEFAULT ? &s->irq_default : &s->wq_cpumask);
	case ACTION_IRQ_AFFINITY:
		irq = state_irq(s, e->irq);
		return irq ? action_cpus_parse(value, &irq->affinity) : 0;
	case ACTION_THREAD_AFFINITY:
		t = target_thread(s, e);
		return t ? action_cpus_parse(value, &t->cpus) : 0;
	case ACTION_THREAD_SCHED:
		t = target_thread(s, e);
		if (!t)
			return 0;
		if (action_sched_parse(value, &policy, &prio) < 0)
			return -EINVAL;
		t->policy = policy;
		t->rt_priority = prio;
		return 0;
	default:
		return -EINVAL;
	}
}

/* ---- On the host, through the seam ---- */

int target_write(struct host *h, const struct journal_entry *e, const char *value)
{
	struct cpuset set = CPUSET_INIT;
	enum host_cpumask which;
	int r, policy, prio;

	if (e->kind == ACTION_SYSCTL)
		return host_write_sysctl(h, e->target, value);
	if (e->kind == ACTION_SYSFS)
		return action_sysfs_path(e->target) ? host_write_sysfs(h, action_sysfs_path(e->target), value)
						    : -EINVAL;
	if (e->kind == ACTION_IRQBALANCE)
		return host_write_irqbalance(h, e->target, value);
	if (e->kind == ACTION_CGROUP)
		return cgroup_target_rel(e->target) ? host_write_cgroup_target(h, cgroup_target_rel(e->target), value)
						    : -EINVAL;
	if (e->kind == ACTION_THREAD_CGROUP)
		return host_set_thread_cpuset(h, e->tgid, e->tid, value);
	if (e->kind == ACTION_THREAD_SCHED) {
		if (action_sched_parse(value, &policy, &prio) < 0)
			return -EINVAL;
		return host_set_thread_sched(h, e->tgid, e->tid, policy, prio);
	}
	r = action_cpus_parse(value, &set);
	if (r < 0)
		return r;
	switch (e->kind) {
	case ACTION_CPUMASK:
		r = action_cpumask_which(e->target, &which);
		if (r >= 0)
			r = host_write_cpumask(h, which, &set);
		break;
	case ACTION_IRQ_AFFINITY:
		r = host_write_irq_affinity(h, e->irq, &set);
		break;
	case ACTION_THREAD_AFFINITY:
		r = host_set_thread_affinity(h, e->tgid, e->tid, &set);
		break;
	default:
		r = -EINVAL;
	}
	cpuset_free(&set);
	return r;
}

/* The value now, read from the host. -ESRCH when the thread is gone (or its
 * tid now belongs to another thread). *ret_pending: an IRQ whose effective
 * affinity is not yet inside want. */
int target_read(const struct host *h, const struct journal_entry *e, const char *want, char **ret, bool *ret_pending)
{
	struct cpuset aff = CPUSET_INIT, eff = CPUSET_INIT, w = CPUSET_INIT;
	struct thread_now now = {.cpus = CPUSET_INIT};
	enum host_cpumask which;
	bool has_eff = false;
	char *out = NULL;
	int r;

	*ret_pending = false;
	switch (e->kind) {
	case ACTION_SYSCTL:
		r = host_read_sysctl(h, e->target, &out);
		break;
	case ACTION_SYSFS:
		r = host_read_sysfs(h, action_sysfs_path(e->target), &out);
		break;
	case ACTION_IRQBALANCE:
		r = host_read_irqbalance(h, e->target, &out);
		break;
	case ACTION_CGROUP:
		r = cgroup_target_rel(e->target) ? host_read_cgroup_target(h, cgroup_target_rel(e->target), &out)
						 : -EINVAL;
		break;
	case ACTION_THREAD_CGROUP:
		r = host_read_thread_ex(h, e->tgid, e->tid, 0, &now);
		if (r >= 0 && now.starttime != e->starttime)
			r = -ESRCH;
		if (r >= 0)
			r = host_read_thread_cpuset(h, e->tgid, e->tid, &out);
		cpuset_free(&now.cpus);
		break;
	case ACTION_CPUMASK:
		r = action_cpumask_which(e->target, &which);
		if (r >= 0)
			r = host_read_cpumask(h, which, &aff);
		if (r >= 0 && !(out = action_cpus_format(&aff)))
			r = -ENOMEM;
		break;
	case ACTION_IRQ_AFFINITY:
		r = host_read_irq_affinity(h, e->irq, &aff, &eff, &has_eff);
		if (r >= 0 && !(out = action_cpus_format(&aff)))
			r = -ENOMEM;
		if (r >= 0 && has_eff && want && action_cpus_parse(want, &w) == 0 && !cpuset_empty(&eff))
			*ret_pending = !cpuset_subset(&eff, &w);
		break;
	case ACTION_THREAD_AFFINITY:
	case ACTION_THREAD_SCHED:
		r = host_read_thread_ex(h, e->tgid, e->tid, e->kind == ACTION_THREAD_AFFINITY ? HOST_TASK_CPUS : 0,
					&now);
		if (r >= 0 && now.starttime != e->starttime)
			r = -ESRCH;
		if (r >= 0) {
			out = e->kind == ACTION_THREAD_AFFINITY ? action_cpus_format(&now.cpus)
								: action_sched_format(now.policy, now.rt_priority);
			if (!out)
				r = -ENOMEM;
		}
		cpuset_free(&now.cpus);
		break;
	default:
		r = -EINVAL;
	}
	cpuset_free(&aff);
	cpuset_free(&eff);
	cpuset_free(&w);
	if (r < 0) {
		free(out);
		return r;
	}
	*ret = out;
	return 0;
}
