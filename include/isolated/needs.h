/* What a policy reads of a host: the snapshot its plan needs (a policy of
 * sysctls alone reads no /proc/PID at all), and on the event path which
 * new threads are worth reading in full (those a rule could match). */
#ifndef ISOLATED_NEEDS_H
#define ISOLATED_NEEDS_H

#include "isolated/snapshot.h"
#include "isolated/journal.h"
#include "isolated/policy.h"

/* What plan_build(p, s) reads of s: a plan of the snapshot host_snapshot_ex
 * gives for these needs is the plan of a full snapshot. Its files (the
 * sysctls beyond host_known_sysctls) are allocated: needs_done. -ENOMEM
 * (nothing to free). */
int needs_of_policy(const struct policy *p, struct host_needs *ret);
/* Add what applying over journal j reads: the value now of each of its
 * targets (thread: stat and CPUs; IRQ: its affinity; a sysctl: its file).
 * j NULL: whatever a journal may hold, but the files, which only j can
 * name (apply_mode adds them to a snapshot it is given). -ENOMEM. */
int needs_add_journal(struct host_needs *n, const struct journal *j);
/* The files of j's targets alone (what apply_mode adds to a snapshot it
 * is given). -ENOMEM. */
int needs_of_journal(const struct journal *j, struct host_needs *ret);
/* Free what needs_of_policy and needs_add_journal allocated. */
void needs_done(struct host_needs *n);
/* What isoctl status shows (report_status), the journal's targets
 * included: every thread's comm, process comm, stat and CPUs, every IRQ. */
extern const struct host_needs needs_status;

/* apply_mode's snapshot: p's needs and j's, without the boot id (apply
 * has it). As host_snapshot. */
int needs_snapshot_apply(const struct host *h, const struct policy *p, const struct journal *j, struct host_state **ret,
			 char *err, size_t errlen);

/* The event path: could a rule of p match thread t (see host_thread_filter;
 * t->have says what is read)? YES as soon as one does, NO when none can,
 * else MORE with the fields that would decide. Rules only: the scope, IRQ
 * threads of known IRQs and what a rule would change are the plan's
 * business (a thread taken that the plan leaves alone costs its reads,
 * never a change). */
enum host_want needs_want_thread(const struct policy *p, const struct task_info *t, const struct task_info *owner,
				 unsigned *ret_more);
/* A filter for host_snapshot_threads_ex asking needs_want_thread, reading
 * of a thread taken what p's plan needs and what apply compares with any
 * journal (stat, CPUs). keep: none; the caller may set it. p must outlive
 * it. */
void needs_thread_filter(const struct policy *p, struct host_thread_filter *ret);

#endif
