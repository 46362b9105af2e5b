/* What a policy reads of a host: from its compiled rules, sysctls and
 * cpumasks, which parts of a snapshot its plan looks at, and which fields
 * of a new thread decide whether any rule could match it. Reads nothing
 * but in needs_snapshot_apply, which takes that snapshot. */
#include "isolated/needs.h"
#include "isolated/plan.h"

void needs_of_policy(const struct policy *p, struct host_needs *ret)
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
	*ret = n;
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
	default: /* sysctls and cpumasks: the system's files */
		break;
	}
}

void needs_add_journal(struct host_needs *n, const struct journal *j)
{
	if (!j) {
		add_kind(n, ACTION_THREAD_AFFINITY);
		add_kind(n, ACTION_IRQ_AFFINITY);
		return;
	}
	for (size_t i = 0; i < j->n_targets; i++)
		add_kind(n, j->targets[i].kind);
	for (size_t i = 0; i < j->n_steps; i++)
		add_kind(n, j->steps[i].kind);
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

	needs_of_policy(p, &n);
	needs_add_journal(&n, j);
	n.boot_id = false;
	return host_snapshot_ex(h, &n, ret, err, errlen);
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
	struct host_needs n;

	needs_of_policy(p, &n);
	/* And what apply reads of a thread the journal may hold (a conflict
	 * of an earlier mode's kept as a target): its stat and CPUs. */
	needs_add_journal(&n, NULL);
	*ret = (struct host_thread_filter){
	    .want = want,
	    .userdata = (void *)p,
	    .fields = n.tasks,
	};
}
