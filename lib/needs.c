/* What a policy reads of a host: from its compiled rules, sysctls and
 * cpumasks, which parts of a snapshot its plan looks at, and which fields
 * of a new thread decide whether any rule could match it. Reads nothing
 * but in needs_snapshot_apply, which takes that snapshot. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "isolated/action.h"
#include "isolated/irqbalance.h"
#include "isolated/needs.h"
#include "isolated/plan.h"
#include "isolated/util.h"

/* A sysctl other than the known ones (which every snapshot reads) is a
 * file of the needs. */
static int add_sysctl(struct host_needs *n, const char *name)
{
	char path[PATH_MAX];

	/* A journal's dropped target has none. */
	if (!name)
		return 0;
	for (size_t i = 0; host_known_sysctls[i]; i++)
		if (strcmp(host_known_sysctls[i], name) == 0)
			return 0;
	if (host_sysctl_path(name, path, sizeof(path)) < 0 || strv_contains(n->files, path))
		return 0;
	return strv_push_dup(&n->files, path);
}

/* A sysfs target's file: "sys/PATH". */
static int add_sysfs(struct host_needs *n, const char *path)
{
	char file[PATH_MAX];

	if (!path || util_path(file, sizeof(file), "sys/%s", path) < 0 || strv_contains(n->files, file))
		return 0;
	return strv_push_dup(&n->files, file);
}

/* irqbalance's defaults files, and the backup of the original. */
static int add_irqbalance(struct host_needs *n)
{
	for (size_t i = 0; irqbalance_files[i]; i++)
		if (!strv_contains(n->files, irqbalance_files[i]) && strv_push_dup(&n->files, irqbalance_files[i]) < 0)
			return -ENOMEM;
	if (strv_contains(n->files, IRQBALANCE_BACKUP_PATH))
		return 0;
	return strv_push_dup(&n->files, IRQBALANCE_BACKUP_PATH);
}

/* The file of a journal entry of the system's (a sysctl beyond the
 * known ones, a sysfs attribute); 0 for the others. */
static int add_entry_file(struct host_needs *n, const struct journal_entry *e)
{
	if (e->kind == ACTION_SYSCTL)
		return add_sysctl(n, e->target);
	if (e->kind == ACTION_SYSFS && e->target)
		return add_sysfs(n, action_sysfs_path(e->target));
	if (e->kind == ACTION_IRQBALANCE)
		return add_irqbalance(n);
	return 0;
}

int needs_of_policy(const struct policy *p, struct host_needs *ret)
{
	struct host_needs n = {.boot_id = true};
	bool host_scope = p->scope.kind == SCOPE_HOST;

	/* IRQ rules (and [cpumask], which is the system's files) are
	 * host-wide: not planned in a narrower scope. An IRQ rule with
	 * thread = also sets its irq/N-name thread. */
	if (host_scope && p->n_irq_rules) {
		n.irqs = HOST_IRQ_ALL;
		for (size_t i = 0; i < p->n_irq_rules; i++)
			if (p->irq_rules[i].thread.kind != SCHED_KIND_UNSET)
				n.tasks |= HOST_TASK_COMM | HOST_TASK_STAT | HOST_TASK_PCOMM;
	}
	if (p->n_thread_rules) {
		/* comm and the process's for labels (and IRQ threads), stat for
		 * identity, flags and scheduling; the IRQ numbers because an IRQ
		 * thread of a known IRQ is left to the IRQ rules. */
		n.tasks |= HOST_TASK_COMM | HOST_TASK_STAT | HOST_TASK_PCOMM;
		if (!n.irqs)
			n.irqs = HOST_IRQ_LIST;
		for (size_t i = 0; i < p->n_thread_rules; i++) {
			n.tasks |= match_rule_fields(&p->thread_rules[i]);
			if (p->thread_rules[i].has_cpus)
				n.tasks |= HOST_TASK_CPUS;
		}
		if (p->scope.kind == SCOPE_CGROUP)
			n.tasks |= HOST_TASK_CGROUP;
	}
	/* A process scope is checked against the tasks (plan_build: ESRCH
	 * when its process is not there), their ppid chains. */
	if (p->scope.kind == SCOPE_PROCESS)
		n.tasks |= HOST_TASK_STAT;
	n.tasks &= HOST_TASK_ALL;
	/* [partition]: the cpuset hierarchy, and each thread's cgroup in it
	 * (threads of one process may be in different cgroups on v2). */
	if (host_scope && p->partition.set) {
		n.cgroups = true;
		n.tasks |= HOST_TASK_CPUSET;
	}
	for (size_t i = 0; i < p->n_sysctls; i++)
		if (add_sysctl(&n, p->sysctls[i].name) < 0) {
			needs_done(&n);
			return -ENOMEM;
		}
	for (size_t i = 0; i < p->n_sysfs; i++)
		if (add_sysfs(&n, p->sysfs[i].path) < 0) {
			needs_done(&n);
			return -ENOMEM;
		}
	if (host_scope && p->has_irqbalance && add_irqbalance(&n) < 0) {
		needs_done(&n);
		return -ENOMEM;
	}
	*ret = n;
	return 0;
}

void needs_done(struct host_needs *n)
{
	strv_free(n->files);
	n->files = NULL;
}

static void add_kind(struct host_needs *n, enum action_kind k)
{
	switch (k) {
	case ACTION_THREAD_AFFINITY:
	case ACTION_THREAD_SCHED:
		n->tasks |= HOST_TASK_STAT | HOST_TASK_CPUS;
		break;
	case ACTION_IRQ_AFFINITY:
		n->irqs |= HOST_IRQ_ALL;
		break;
	case ACTION_THREAD_CGROUP:
		n->tasks |= HOST_TASK_STAT | HOST_TASK_CPUSET;
		n->cgroups = true;
		break;
	case ACTION_CGROUP:
		n->cgroups = true;
		break;
	default: /* sysctls and cpumasks: the system's files */
		break;
	}
}

int needs_add_journal(struct host_needs *n, const struct journal *j)
{
	if (!j) {
		add_kind(n, ACTION_THREAD_AFFINITY);
		add_kind(n, ACTION_IRQ_AFFINITY);
		return 0;
	}
	for (size_t i = 0; i < j->n_targets; i++) {
		add_kind(n, j->targets[i].kind);
		if (add_entry_file(n, &j->targets[i]) < 0)
			return -ENOMEM;
	}
	for (size_t i = 0; i < j->n_steps; i++) {
		add_kind(n, j->steps[i].kind);
		if (add_entry_file(n, &j->steps[i]) < 0)
			return -ENOMEM;
	}
	return 0;
}

int needs_of_journal(const struct journal *j, struct host_needs *ret)
{
	struct host_needs n = {0};
	int r;

	for (size_t i = 0; i < j->n_targets; i++) {
		if ((r = add_entry_file(&n, &j->targets[i])) < 0) {
			needs_done(&n);
			return r;
		}
		n.cgroups |= j->targets[i].kind == ACTION_CGROUP || j->targets[i].kind == ACTION_THREAD_CGROUP;
	}
	*ret = n;
	return 0;
}

const struct host_needs needs_status = {
    .boot_id = true,
    .irqs = HOST_IRQ_ALL,
    .tasks = HOST_TASK_COMM | HOST_TASK_STAT | HOST_TASK_CPUS | HOST_TASK_PCOMM,
};

int needs_snapshot_apply(const struct host *h, const struct policy *p, const struct journal *j, struct host_state **ret,
			 char *err, size_t errlen)
{
	struct host_needs n;
	int r;

	if ((r = needs_of_policy(p, &n)) < 0 || (r = needs_add_journal(&n, j)) < 0) {
		needs_done(&n);
		snprintf(err, errlen, "out of memory");
		return r;
	}
	n.boot_id = false;
	r = host_snapshot_ex(h, &n, ret, err, errlen);
	needs_done(&n);
	return r;
}

enum host_want needs_want_thread(const struct policy *p, const struct task_info *t, const struct task_info *owner,
				 unsigned *ret_more)
{
	unsigned more = 0;

	for (size_t i = 0; i < p->n_thread_rules; i++) {
		unsigned need = 0;

		switch (match_thread3(&p->thread_rules[i], t, owner, &need)) {
		case MATCH_YES:
			return HOST_WANT_YES;
		case MATCH_UNKNOWN:
			more |= need;
			break;
		case MATCH_NO:
			break;
		}
	}
	*ret_more = more;
	return more ? HOST_WANT_MORE : HOST_WANT_NO;
}

static enum host_want want(void *userdata, const struct task_info *t, const struct task_info *owner, unsigned *ret_more)
{
	return needs_want_thread(userdata, t, owner, ret_more);
}

void needs_thread_filter(const struct policy *p, struct host_thread_filter *ret)
{
	struct host_needs n = {0};

	/* The task fields alone: ENOMEM on the files leaves them set. */
	(void)needs_of_policy(p, &n);
	/* And what apply reads of a thread the journal may hold (a conflict
	 * of an earlier mode's kept as a target): its stat and CPUs. */
	needs_add_journal(&n, NULL);
	needs_done(&n);
	*ret = (struct host_thread_filter){
	    .want = want,
	    .userdata = (void *)p,
	    /* A new thread's plan (plan_build_threads) moves none into a
	     * [partition]: its cgroup is not read on the event path. */
	    .fields = n.tasks & ~HOST_TASK_CPUSET,
	};
}
