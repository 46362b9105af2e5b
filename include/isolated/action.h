/* Actions' vocabulary: the kinds of change isolated makes and the values of
 * each kind, as policy rules, plans, the journal, the transactions and the
 * reports write, read and compare them. A new value is added here. Pure
 * functions on strings: reads nothing, writes nothing. */
#ifndef ISOLATED_ACTION_H
#define ISOLATED_ACTION_H

#include <sched.h>
#include <stdbool.h>
#include <sys/types.h>

#include "isolated/cpuset.h"
#include "isolated/host.h"

enum action_kind {
	ACTION_SYSCTL,
	ACTION_IRQ_AFFINITY,
	ACTION_THREAD_AFFINITY,
	ACTION_THREAD_SCHED,
	ACTION_CPUMASK,	      /* [cpumask]: "cpumask/irq_default", "cpumask/workqueue" */
	ACTION_SYSFS,	      /* [sysfs]: "sysfs/kernel/mm/transparent_hugepage/enabled" */
	ACTION_IRQBALANCE,    /* [irqbalance]: "irqbalance/banned_cpus", "irqbalance/banned_irqs" */
	ACTION_CGROUP,	      /* [partition]: "cgroup/machine.slice/cpuset.cpus.exclusive", a directory */
	ACTION_THREAD_CGROUP, /* [partition]: a thread's cpuset cgroup, "tid/N" */
	_ACTION_KIND_MAX,
};

/* Scheduling policies go by <sched.h>'s names (the kernel's numbers:
 * SCHED_OTHER 0, FIFO 1, RR 2, BATCH 3, ISO 4, IDLE 5, DEADLINE 6); glibc
 * does not name the newest yet. */
#ifndef SCHED_EXT
#define SCHED_EXT 7
#endif

/* "sysctl", "irq-affinity", "thread-affinity", "thread-sched", "cpumask",
 * "sysfs", "irqbalance", "cgroup", "thread-cgroup" (as plans and the
 * journal name kinds); "?" for another k. */
const char *action_kind_name(enum action_kind k);
/* What a value of kind k sets, for messages: "sysctl", "IRQ affinity",
 * "affinity", "scheduling", "cpumask", "sysfs attribute", "irqbalance
 * setting"; "value" for another k. */
const char *action_kind_noun(enum action_kind k);
/* action_kind_name() in reverse: 0, or -EINVAL for a name of no kind. */
int action_kind_parse(const char *name, enum action_kind *ret);

/* thread-affinity, thread-sched, thread-cgroup: the kinds a thread target
 * has. */
bool action_kind_is_thread(enum action_kind k);
/* irq-affinity, thread-affinity, cpumask, irqbalance: values are lists
 * (of CPUs; irqbalance's banned IRQs are a list of IRQ numbers). */
bool action_kind_is_cpulist(enum action_kind k);

/* Values, by kind:
 *   cpu lists   "0-3,8", as cpuset_parse_list reads them (any spelling of a
 *               set: "0,1" and "0-1" are the same value)
 *   thread-sched "other" "batch" "idle" "fifo:N" "rr:N" (N in 1..99)
 *   sysctl      the value as /proc/sys shows it, without its newline
 *   sysfs       the value of the attribute (action_sysfs_value): one line
 *               of printable characters
 *   cgroup      as cgroup_value_check (cgroup.h): a file's value, or a
 *               directory's "absent", "present", "threaded"
 *   thread-cgroup the thread's cgroup in the cpuset hierarchy, "/a/b"
 *               (cgroup_path_ok) */

/* A cpu list. 0, or -EINVAL/-ERANGE/-ENOMEM (*ret untouched). */
int action_cpus_parse(const char *s, struct cpuset *ret);
/* Allocated; "" for the empty set; NULL on ENOMEM. */
char *action_cpus_format(const struct cpuset *c);
/* A scheduling value into its policy (SCHED_OTHER, FIFO, RR, BATCH, IDLE)
 * and priority (1..99 for FIFO and RR, 0 otherwise); N as strtol reads it,
 * so "fifo:+5" parses (action_value_check then wants "fifo:5"). -EINVAL. */
int action_sched_parse(const char *s, int *ret_policy, int *ret_prio);
/* A scheduling value as a policy rule writes it (sched =, thread =): one of
 * the policies a rule may give, "other", "fifo:N", "rr:N", N in decimal
 * digits. -EINVAL or -ERANGE (N outside 1..99) with a message in err, the
 * policy file's: "missing priority in "fifo" (expected fifo:N, N in
 * 1..99)", "invalid scheduling "batch" (expected fifo:N, rr:N or
 * other)", "invalid priority ...", "priority 0 out of range 1..99". */
int action_sched_parse_rule(const char *s, int *ret_policy, int *ret_prio, char *err, size_t errlen);
/* Room for any scheduling value: "policy2147483647:-2147483648". */
#define ACTION_SCHED_MAX 40
/* A thread's scheduling as a value: the inverse of action_sched_parse, and
 * "deadline" or "policyN:PRIO" for the policies isolated does not set
 * (action_sched_parse refuses those). In buf, or a static string. */
const char *action_sched_name(int policy, int prio, char buf[ACTION_SCHED_MAX]);
/* The same, allocated; NULL on ENOMEM. */
char *action_sched_format(int policy, int prio);
/* A thread's scheduling as reports show it: the value for the policies
 * that have one, "iso", "deadline", "?" for a policy of no name.
 * Allocated; NULL on ENOMEM. */
char *action_sched_describe(int policy, int prio);
/* Has policy a value action_sched_parse gives back (other, fifo, rr,
 * batch, idle)? The others cannot be journaled and put back. */
bool action_sched_has_value(int policy);
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
 *   sysfs        "sysfs/PATH", PATH under /sys (action_sysfs_path_check)
 *   irqbalance   "irqbalance/banned_cpus", "irqbalance/banned_irqs"
 *   cgroup       "cgroup/REL" (cgroup_target_check)
 *   thread-cgroup "tid/N"
 * N in decimal without leading zeros. */

/* ---- sysfs ---- */
/* A path under /sys that [sysfs] may set: relative, its components
 * non-empty and not "." or "..", of letters, digits and "_.:-", and under
 * one of the subtrees a KVM host's tuning needs (transparent hugepages,
 * KSM, a CPU's cpufreq and power, workqueues, module parameters); not the
 * workqueue cpumask of [cpumask]. 0, or -EINVAL with why (to follow
 * "PATH is not ...": "relative to /sys (...)"). */
int action_sysfs_path_check(const char *path, char *why, size_t whylen);
/* The subtrees action_sysfs_path_check allows, for messages: "a, b, c". */
extern const char action_sysfs_subtrees[];
/* "sysfs/PATH"; allocated, NULL on ENOMEM. */
char *action_sysfs_target(const char *path);
/* PATH of "sysfs/PATH"; NULL for a target of another kind. */
const char *action_sysfs_path(const char *target);
/* Does an attribute that lists its choices ("always madvise [never]")
 * offer value? true when it lists none (any value may be written). */
bool action_sysfs_offers(const char *raw, const char *value);
/* The value of an attribute as read (its newline stripped): the word in
 * brackets where the kernel lists the choices and marks the one in force
 * ("always madvise [never]" -> "never"), else the text with white space
 * at either end trimmed. Allocated; NULL on ENOMEM. */
char *action_sysfs_value(const char *raw);

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
