/* Plans: what applying a policy to a host would change, computed from a
 * snapshot. A plan never writes anything. */
#ifndef ISOLATED_PLAN_H
#define ISOLATED_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "isolated/action.h"
#include "isolated/snapshot.h"
#include "isolated/policy.h"

struct action {
	enum action_kind kind;
	char *target; /* "kernel.timer_migration", "irq/41", "tid/1234", "cpumask/workqueue" */
	char *label;  /* what a person recognises: IRQ actions, thread comm (process comm) */
	unsigned irq;
	pid_t tid, tgid;
	unsigned long long starttime; /* threads: the task_info's starttime */
	char *from;		      /* current value: sysctl as read, cpu lists ("0-1", also for the
				       * cpumask knobs), sched "fifo:50" "rr:5" "other" "batch" "idle" */
	char *to;
	const char *rule; /* the rule's name ("rt-vcpu"), or "sysctl": borrowed from the policy */
	bool rt;	  /* part of the RT workload (RT CPUs or RT priority) */
};

/* Something the plan cannot do, and why. */
struct plan_skip {
	enum action_kind kind;
	char *target;
	char *label;
	char *reason;
	const char *rule;
};

struct plan {
	const struct policy *policy; /* borrowed */
	struct action *actions;	     /* sysctls, IRQs, thread affinity, thread sched */
	size_t n_actions;
	struct plan_skip *skips;
	size_t n_skips;
	char **warnings; /* rules matching nothing, unmet kernel requirements... */
	size_t counts[_ACTION_KIND_MAX];
	size_t unchanged; /* targets a rule covers that already hold the wanted value */
};

/* Tasks marked context_only (partial snapshots) are never planned. */
int plan_build(const struct policy *p, const struct host_state *s, struct plan **ret, char *err, size_t errlen);
/* The daemon's event path, against a partial snapshot
 * (host_snapshot_threads): only the thread rules, only for the tasks that
 * are not context_only. No sysctl, cpumask or IRQ actions (an IRQ thread
 * of a known IRQ is left to the IRQ rules, as in plan_build), no warnings
 * or skips for rules matching nothing, no kernel requirement warnings, no
 * "IRQ rules are host-wide" warning. A process scope whose process is not
 * in s puts nothing in scope: an empty plan, not -ESRCH. */
int plan_build_threads(const struct policy *p, const struct host_state *s, struct plan **ret, char *err, size_t errlen);
void plan_free(struct plan *pl);
/* action_kind_name, under the name its callers know. */
const char *plan_action_kind_name(enum action_kind k);

/* Selectors, exposed for tests. */
bool match_thread(const struct rule *r, const struct task_info *t, const struct host_state *s);
/* The event path's selector, on a thread of which only some fields are
 * read (t->have, HOST_TASK_*): MATCH_YES or MATCH_NO when those decide
 * (a term that fails decides alone), else MATCH_UNKNOWN with *ret_need
 * (may be NULL) the fields its undecided terms read. With every field
 * read it says what match_thread says; owner is the process a
 * "vhost-PID" thread serves (see host_thread_filter), NULL if none. */
enum match3 {
	MATCH_NO,
	MATCH_YES,
	MATCH_UNKNOWN,
};
enum match3 match_thread3(const struct rule *r, const struct task_info *t, const struct task_info *owner,
			  unsigned *ret_need);
/* comm:, pcomm: or vm: with an empty name (a site variable left empty,
 * such as host.conf's rt_process): it matches no thread, whatever the
 * thread's fields, and reads none. */
bool match_term_empty(const struct match_term *m);
/* A rule with such a term (not negated) selects nothing by design. */
bool match_rule_nobody(const struct rule *r);
/* The HOST_TASK_* fields a rule's terms read (HOST_TASK_OWNER for vm:). */
unsigned match_rule_fields(const struct rule *r);
bool match_irq(const struct rule *r, const struct irq_info *irq);
/* The VM name of a QEMU command line ("-name guest=rtvm,debug-threads=on"
 * or "-name rtvm"), NULL if none. Allocated. */
char *match_vm_name(const char *cmdline);

#endif
