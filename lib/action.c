/* Actions' vocabulary: the values of each kind of change, parsed, formatted
 * and compared in one place for plans, the journal and the transactions. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "isolated/action.h"
#include "isolated/util.h"

bool action_kind_is_thread(enum action_kind k)
{
	return k == ACTION_THREAD_AFFINITY || k == ACTION_THREAD_SCHED;
}

bool action_kind_is_cpulist(enum action_kind k)
{
	return k == ACTION_IRQ_AFFINITY || k == ACTION_THREAD_AFFINITY || k == ACTION_CPUMASK;
}

/* ---- cpu lists ---- */

int action_cpus_parse(const char *s, struct cpuset *ret)
{
	char msg[128];

	return cpuset_parse_list(s, ret, msg, sizeof(msg));
}

char *action_cpus_format(const struct cpuset *c)
{
	char *s = NULL;

	return cpuset_format_list(c, &s) < 0 ? NULL : s;
}

/* ---- scheduling ---- */

/* "other" "batch" "idle" "fifo:N" "rr:N": the scheduling values plans use. */
int action_sched_parse(const char *s, int *ret_policy, int *ret_prio)
{
	static const struct {
		const char *name;
		int policy;
	} plain[] = {{"other", 0}, {"batch", 3}, {"idle", 5}};
	long prio;

	for (size_t i = 0; i < ARRAY_SIZE(plain); i++)
		if (strcmp(s, plain[i].name) == 0) {
			*ret_policy = plain[i].policy;
			*ret_prio = 0;
			return 0;
		}
	if (strncmp(s, "fifo:", 5) == 0 && util_parse_long(s + 5, 1, 99, &prio) == 0) {
		*ret_policy = 1;
		*ret_prio = (int)prio;
		return 0;
	}
	if (strncmp(s, "rr:", 3) == 0 && util_parse_long(s + 3, 1, 99, &prio) == 0) {
		*ret_policy = 2;
		*ret_prio = (int)prio;
		return 0;
	}
	return -EINVAL;
}

/* "fifo:99", "policy2147483647:-2147483648" */
#define SCHED_VALUE_MAX 40

static const char *sched_format(int policy, int prio, char buf[SCHED_VALUE_MAX])
{
	switch (policy) {
	case 0:
		return "other";
	case 1:
		snprintf(buf, SCHED_VALUE_MAX, "fifo:%d", prio);
		return buf;
	case 2:
		snprintf(buf, SCHED_VALUE_MAX, "rr:%d", prio);
		return buf;
	case 3:
		return "batch";
	case 5:
		return "idle";
	case 6:
		return "deadline";
	default:
		snprintf(buf, SCHED_VALUE_MAX, "policy%d:%d", policy, prio);
		return buf;
	}
}

char *action_sched_format(int policy, int prio)
{
	char buf[SCHED_VALUE_MAX];

	return strdup(sched_format(policy, prio, buf));
}

/* ---- checking ---- */

int action_value_check(enum action_kind k, const char *value, char *why, size_t whylen)
{
	struct cpuset set = CPUSET_INIT;
	char msg[160], buf[SCHED_VALUE_MAX];
	const char *canonical;
	int policy, prio, r;

	switch (k) {
	case ACTION_SYSCTL:
		/* host_write_sysctl writes one line */
		if (strchr(value, '\n')) {
			snprintf(why, whylen, "a sysctl value (it has a newline)");
			return -EINVAL;
		}
		return 0;
	case ACTION_IRQ_AFFINITY:
	case ACTION_THREAD_AFFINITY:
	case ACTION_CPUMASK:
		r = cpuset_parse_list(value, &set, msg, sizeof(msg));
		cpuset_free(&set);
		if (r == -ENOMEM)
			return r;
		if (r < 0) {
			snprintf(why, whylen, "a CPU list (%s)", msg);
			return -EINVAL;
		}
		return 0;
	case ACTION_THREAD_SCHED:
		if (action_sched_parse(value, &policy, &prio) < 0) {
			snprintf(why, whylen,
				 "a scheduling value (other, batch, idle, fifo:N or rr:N with N in 1..99)");
			return -EINVAL;
		}
		canonical = sched_format(policy, prio, buf);
		if (strcmp(canonical, value) != 0) {
			snprintf(why, whylen, "the canonical form %s", canonical);
			return -EINVAL;
		}
		return 0;
	default:
		snprintf(why, whylen, "a value of a known kind");
		return -EINVAL;
	}
}

/* ---- comparing ---- */

/* Sysctl values: white space runs are one space, numbers compare as numbers. */
static bool sysctl_equal(const char *a, const char *b)
{
	long x, y;

	if (util_parse_long(a, -(1L << 62), 1L << 62, &x) == 0 && util_parse_long(b, -(1L << 62), 1L << 62, &y) == 0)
		return x == y;
	for (;;) {
		while (*a == ' ' || *a == '\t' || *a == '\n')
			a++;
		while (*b == ' ' || *b == '\t' || *b == '\n')
			b++;
		if (!*a || !*b)
			return !*a && !*b;
		while (*a && *a != ' ' && *a != '\t' && *a != '\n') {
			if (*a++ != *b++)
				return false;
		}
		if (*b && *b != ' ' && *b != '\t' && *b != '\n')
			return false;
	}
}

bool action_value_equal(enum action_kind kind, const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	if (kind == ACTION_SYSCTL)
		return sysctl_equal(a, b);
	if (action_kind_is_cpulist(kind)) {
		struct cpuset x = CPUSET_INIT, y = CPUSET_INIT;
		bool eq;

		if (action_cpus_parse(a, &x) < 0 || action_cpus_parse(b, &y) < 0) {
			cpuset_free(&x);
			cpuset_free(&y);
			return strcmp(a, b) == 0;
		}
		eq = cpuset_equal(&x, &y);
		cpuset_free(&x);
		cpuset_free(&y);
		return eq;
	}
	return strcmp(a, b) == 0;
}

/* ---- targets ---- */

static const char *const cpumask_targets[] = {
    [HOST_CPUMASK_IRQ_DEFAULT] = "cpumask/irq_default",
    [HOST_CPUMASK_WORKQUEUE] = "cpumask/workqueue",
};

static const char *irq_target(unsigned irq, char buf[ACTION_TARGET_ID_MAX])
{
	snprintf(buf, ACTION_TARGET_ID_MAX, "irq/%u", irq);
	return buf;
}

static const char *tid_target(pid_t tid, char buf[ACTION_TARGET_ID_MAX])
{
	snprintf(buf, ACTION_TARGET_ID_MAX, "tid/%d", (int)tid);
	return buf;
}

char *action_irq_target(unsigned irq)
{
	char buf[ACTION_TARGET_ID_MAX];

	return strdup(irq_target(irq, buf));
}

char *action_tid_target(pid_t tid)
{
	char buf[ACTION_TARGET_ID_MAX];

	return strdup(tid_target(tid, buf));
}

const char *action_cpumask_target(enum host_cpumask which)
{
	return (size_t)which < ARRAY_SIZE(cpumask_targets) ? cpumask_targets[which] : "cpumask/?";
}

int action_cpumask_which(const char *target, enum host_cpumask *ret)
{
	for (size_t i = 0; i < ARRAY_SIZE(cpumask_targets); i++)
		if (strcmp(target, cpumask_targets[i]) == 0) {
			*ret = (enum host_cpumask)i;
			return 0;
		}
	return -EINVAL;
}

const char *action_canonical_target(enum action_kind k, const char *target, unsigned irq, pid_t tid,
				    char buf[ACTION_TARGET_ID_MAX])
{
	char path[PATH_MAX];
	enum host_cpumask which;

	switch (k) {
	case ACTION_SYSCTL:
		return host_sysctl_path(target, path, sizeof(path)) == 0 ? target : NULL;
	case ACTION_CPUMASK:
		return action_cpumask_which(target, &which) == 0 ? action_cpumask_target(which) : NULL;
	case ACTION_IRQ_AFFINITY:
		return irq_target(irq, buf);
	case ACTION_THREAD_AFFINITY:
	case ACTION_THREAD_SCHED:
		return tid > 0 ? tid_target(tid, buf) : NULL;
	default:
		return NULL;
	}
}
