/* Actions' vocabulary: the kinds of change isolated makes and the values of
 * each kind, as plans, the journal and the transactions write, read and
 * compare them. Pure functions on strings: reads nothing, writes nothing. */
#ifndef ISOLATED_ACTION_H
#define ISOLATED_ACTION_H

#include <stdbool.h>
#include <sys/types.h>

#include "isolated/cpuset.h"
#include "isolated/host.h"

enum action_kind {
	ACTION_SYSCTL,
	ACTION_IRQ_AFFINITY,
	ACTION_THREAD_AFFINITY,
	ACTION_THREAD_SCHED,
	ACTION_CPUMASK, /* [cpumask]: "cpumask/irq_default", "cpumask/workqueue" */
	_ACTION_KIND_MAX,
};

/* thread-affinity and thread-sched: the two kinds a thread target has. */
bool action_kind_is_thread(enum action_kind k);
/* irq-affinity, thread-affinity, cpumask: values are cpu lists. */
bool action_kind_is_cpulist(enum action_kind k);

/* Values, by kind:
 *   cpu lists   "0-3,8", as cpuset_parse_list reads them (any spelling of a
 *               set: "0,1" and "0-1" are the same value)
 *   thread-sched "other" "batch" "idle" "fifo:N" "rr:N" (N in 1..99)
 *   sysctl      the value as /proc/sys shows it, without its newline */

/* A cpu list. 0, or -EINVAL/-ERANGE/-ENOMEM (*ret untouched). */
int action_cpus_parse(const char *s, struct cpuset *ret);
/* Allocated; "" for the empty set; NULL on ENOMEM. */
char *action_cpus_format(const struct cpuset *c);
/* A scheduling value into its policy (SCHED_OTHER 0, FIFO 1, RR 2, BATCH 3,
 * IDLE 5) and priority (1..99 for FIFO and RR, 0 otherwise). -EINVAL. */
int action_sched_parse(const char *s, int *ret_policy, int *ret_prio);
/* A thread's scheduling as a value: the inverse of action_sched_parse, and
 * "deadline" or "policyN:PRIO" for the policies isolated does not set
 * (action_sched_parse refuses those). Allocated; NULL on ENOMEM. */
char *action_sched_format(int policy, int prio);
/* Is value one of kind k? 0; -EINVAL with what it is not in why, to
 * follow "VALUE is not ": "a CPU list (unexpected 'x' at position 3 in
 * "0-x")", "a scheduling value (...)", "the canonical form fifo:50" (a
 * scheduling value compares as a string, so it has one spelling: the one
 * action_sched_format writes), "a sysctl value (it has a newline)";
 * -ENOMEM. */
int action_value_check(enum action_kind k, const char *value, char *why, size_t whylen);
/* Values of a kind compare equal: cpu lists as sets, sysctls with white
 * space normalised and numbers as numbers, scheduling as strings. NULL
 * equals only NULL. */
bool action_value_equal(enum action_kind kind, const char *a, const char *b);

/* Targets name what a change is to, in one spelling each, so that equal
 * targets name the same thing:
 *   sysctl       its name: "kernel.timer_migration" (as host_sysctl_path takes it)
 *   irq-affinity "irq/N", N the IRQ
 *   thread-affinity, thread-sched
 *                "tid/N", N the thread id (both kinds of a thread share it)
 *   cpumask      "cpumask/irq_default", "cpumask/workqueue"
 * N in decimal without leading zeros. */

/* "irq/41", "tid/2205". Allocated; NULL on ENOMEM. */
char *action_irq_target(unsigned irq);
char *action_tid_target(pid_t tid);
/* "cpumask/irq_default", "cpumask/workqueue" (static). */
const char *action_cpumask_target(enum host_cpumask which);
/* The knob of a cpumask target ("cpumask/irq_default" ->
 * HOST_CPUMASK_IRQ_DEFAULT). -EINVAL for any other string. */
int action_cpumask_which(const char *target, enum host_cpumask *ret);
/* Room for "irq/N" and "tid/N". */
#define ACTION_TARGET_ID_MAX sizeof("tid/-2147483648")
/* The target a change of kind k must have: built in buf from irq
 * (irq-affinity) or tid (the thread kinds), the arguments the kind does not
 * use being ignored; a sysctl's or a cpumask's target is all that
 * identifies it, so for those target itself, when it is valid. NULL when
 * target is not a sysctl name or not a cpumask target, tid <= 0, k
 * unknown. */
const char *action_canonical_target(enum action_kind k, const char *target, unsigned irq, pid_t tid,
				    char buf[ACTION_TARGET_ID_MAX]);

#endif
