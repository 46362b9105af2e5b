/* Transactions: plan a mode against the host as it was before isolated
 * touched it, journal the pristine values, write in a safe order, read back,
 * and undo the whole transaction when a write fails. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "apply-internal.h"
#include "isolated/action.h"
#include "isolated/cgroup.h"
#include "isolated/apply.h"
#include "isolated/irqbalance.h"
#include "isolated/needs.h"
#include "isolated/util.h"

static const char *const outcome_names[] = {
    [STEP_PLANNED] = "planned",		[STEP_DONE] = "done",
    [STEP_UNCHANGED] = "unchanged",	[STEP_PENDING] = "pending",
    [STEP_NOT_MOVABLE] = "not-movable", [STEP_GONE] = "gone",
    [STEP_CONFLICT] = "conflict",	[STEP_FAILED] = "failed",
    [STEP_UNDONE] = "undone",		[STEP_NOT_DONE] = "not-done",
};

const char *apply_outcome_name(enum step_outcome o)
{
	return o < _STEP_OUTCOME_MAX ? outcome_names[o] : "?";
}

static const char *errno_name(int e)
{
	const char *n = strerrorname_np(e);

	return n ? n : "E?";
}

/* EPERM on making a thread realtime: RT group scheduling gives its cgroup no
 * RT time, or we lack CAP_SYS_NICE. Say which when the host shows it. */
static char *eperm_sched_message(const struct host *h, const struct host_state *s, const struct journal_entry *e)
{
	static const char *const roots[] = {"sys/fs/cgroup/cpu,cpuacct", "sys/fs/cgroup/cpu", "sys/fs/cgroup"};
	const struct task_info *t = host_state_task(s, e->tid);
	char *cg = NULL, *m = NULL;
	const char *cgroup = t ? t->cgroup : NULL;

	/* The snapshot reads cgroups only for a policy that looks at them. */
	if (t && !cgroup && host_read_cgroup(h, t->tgid, &cg) == 0)
		cgroup = cg;
	for (size_t i = 0; cgroup && !m && i < ARRAY_SIZE(roots); i++) {
		char *path = util_sprintf("%s%s/cpu.rt_runtime_us", roots[i], strcmp(cgroup, "/") == 0 ? "" : cgroup);
		char *buf = NULL;
		long v;

		if (path && host_read(h, path, &buf, NULL) == 0 &&
		    util_parse_long(util_strip(buf), -1, 1L << 62, &v) == 0 && v == 0)
			m = util_sprintf(
			    "RT group scheduling: its cgroup %s has cpu.rt_runtime_us = 0 (/%s), so no thread in it "
			    "may "
			    "be SCHED_FIFO or SCHED_RR; give that cgroup (and its parents) RT time, e.g. echo 950000 > "
			    "/%s, or move the thread to a cgroup that has some, or run a kernel without "
			    "CONFIG_RT_GROUP_SCHED",
			    cgroup, path, path);
		free(path);
		free(buf);
	}
	free(cg);
	return m ? m
		 : strdup("isoctl needs root (CAP_SYS_NICE); if the kernel has RT group scheduling "
			  "(CONFIG_RT_GROUP_SCHED), the thread's cgroup also needs cpu.rt_runtime_us > 0");
}

/* ---- The transaction ---- */

/* The journal targets a transaction sees: all of them, or with threads_only
 * those of the threads in its snapshot. idx[k] indexes j->targets (sorted);
 * now[k] is its value now (NULL: gone); covered[k]: a plan action is for it. */
struct view {
	size_t *idx;
	char **now;
	bool *covered;
	size_t n, cap;
};

/* One apply_mode, carried through its phases. */
struct txn {
	struct host *h;
	const struct policy *p;
	const struct apply_opts *o;
	struct host_state *s; /* o->state, or the snapshot taken */
	struct apply_result *res;
	unsigned writes, undo_writes;
	int lock_fd; /* -1: not locked (a dry run) */
	char *boot_id;
	struct journal *j;
	struct view v;
	size_t dropped; /* targets of exited threads dropped from j */
	bool journaled; /* the transaction was saved to the journal before its writes */
	bool changed;	/* the commit changed j */
	bool saved;	/* the journal file holds what j holds */
	bool stored;	/* the commit stored j */
	bool removed;	/* the journal file was removed */
	bool irqbalance; /* the plan or the journal has an irqbalance target */
};

static void crash_point(const struct apply_opts *o, const char *fmt, unsigned n)
{
	char point[32];

	if (!o->crash_after)
		return;
	snprintf(point, sizeof(point), fmt, n);
	if (strcmp(point, o->crash_after) == 0) {
		/* The crash tests: die as a power cut or kill -9 would, with
		 * nothing flushed or cleaned up. */
		kill(getpid(), SIGKILL);
		pause();
	}
}

static int add_notice(struct apply_result *res, char *s)
{
	return s && strv_push(&res->notices, s) == 0 ? 0 : -ENOMEM;
}

static void step_done(struct apply_step *st)
{
	journal_entry_done(&st->e);
	free(st->message);
}

static int push_step(struct apply_result *res, struct apply_step *st, size_t *cap)
{
	if (res->n_steps == *cap) {
		size_t n = *cap ? *cap * 2 : 64;
		struct apply_step *v = realloc(res->steps, n * sizeof(*v));
		if (!v) {
			step_done(st);
			return -ENOMEM;
		}
		res->steps = v;
		*cap = n;
	}
	res->steps[res->n_steps++] = *st;
	return 0;
}

/* Order: sysctls, then the host-wide cpumasks and sysfs attributes, IRQs,
 * thread affinity, and thread priorities, so RT priorities are given
 * to threads already on their CPUs; then a [partition]'s cgroups (in
 * cgroup_target_cmp's order: ancestors first, the partition made last)
 * and the threads moved into it -- after their affinity, which a thread
 * outside the partition could not be given back while the partition holds
 * its CPUs; irqbalance last, restarted (once, in txn_finish) when the IRQs
 * it is told to leave alone are where the mode puts them. Restores run
 * first and in the reverse order: threads leave the partition before it
 * is dissolved, RT priorities go before threads move back onto shared
 * CPUs. */
static int kind_rank(enum action_kind k)
{
	switch (k) {
	case ACTION_SYSCTL:
		return 0;
	case ACTION_CPUMASK:
		return 1;
	case ACTION_SYSFS:
		return 2;
	case ACTION_IRQ_AFFINITY:
		return 3;
	case ACTION_THREAD_AFFINITY:
		return 4;
	case ACTION_CGROUP:
		return 6;
	case ACTION_THREAD_CGROUP:
		return 7;
	case ACTION_IRQBALANCE:
		return 8;
	default:
		return 5;
	}
}

static int step_cmp(const void *x, const void *y)
{
	const struct apply_step *a = x, *b = y;
	int ra = kind_rank(a->e.kind), rb = kind_rank(b->e.kind);

	if (a->restore != b->restore)
		return a->restore ? -1 : 1;
	if (ra != rb)
		return a->restore ? rb - ra : ra - rb;
	if (a->e.kind == ACTION_CGROUP && b->e.kind == ACTION_CGROUP) {
		int c = cgroup_target_cmp(a->e.target, b->e.target);
		return a->restore ? -c : c;
	}
	return 0;
}

static void sort_steps(struct apply_result *res)
{
	/* Insertion sort: stable, so the plan's order holds within a kind. */
	for (size_t i = 1; i < res->n_steps; i++) {
		struct apply_step tmp = res->steps[i];
		size_t j = i;
		while (j > 0 && step_cmp(&res->steps[j - 1], &tmp) > 0) {
			res->steps[j] = res->steps[j - 1];
			j--;
		}
		res->steps[j] = tmp;
	}
}

static int entry_from_action(const struct action *a, struct journal_entry *e)
{
	*e = (struct journal_entry){
	    .kind = a->kind,
	    .irq = a->irq,
	    .tid = a->tid,
	    .tgid = a->tgid,
	    .starttime = a->starttime,
	};
	e->target = strdup(a->target);
	e->label = strdup(a->label);
	e->rule = a->rule ? strdup(a->rule) : NULL;
	if (!e->target || !e->label || (a->rule && !e->rule)) {
		journal_entry_done(e);
		return -ENOMEM;
	}
	return 0;
}

static void view_done(struct view *v)
{
	for (size_t k = 0; k < v->n; k++)
		free(v->now[k]);
	free(v->idx);
	free(v->now);
	free(v->covered);
	*v = (struct view){0};
}

static int view_add(struct view *v, size_t i)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 16;
		size_t *idx = realloc(v->idx, cap * sizeof(*idx));
		char **now;
		bool *covered;

		if (!idx)
			return -ENOMEM;
		v->idx = idx;
		if (!(now = realloc(v->now, cap * sizeof(*now))))
			return -ENOMEM;
		v->now = now;
		if (!(covered = realloc(v->covered, cap * sizeof(*covered))))
			return -ENOMEM;
		v->covered = covered;
		v->cap = cap;
	}
	v->idx[v->n] = i;
	v->now[v->n] = NULL;
	v->covered[v->n] = false;
	v->n++;
	return 0;
}

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return x < y ? -1 : x > y;
}

/* The position in v of j->targets[i], or SIZE_MAX. */
static size_t view_pos(const struct view *v, size_t i)
{
	const size_t *p = v->n ? bsearch(&i, v->idx, v->n, sizeof(i), cmp_size) : NULL;

	return p ? (size_t)(p - v->idx) : SIZE_MAX;
}

/* The steps of the transaction: every plan action (planned against the
 * pristine host) and every journal target in view the mode no longer
 * wants, each with the value it holds now. */
static int compose(struct txn *t, struct journal *j, struct view *v)
{
	const struct plan *pl = t->res->plan;
	struct apply_result *res = t->res;
	size_t cap = 0;
	int r;

	for (size_t i = 0; i < pl->n_actions; i++) {
		const struct action *a = &pl->actions[i];
		struct journal_entry *je = journal_find(j, a->kind, a->target);
		size_t k = je ? view_pos(v, (size_t)(je - j->targets)) : SIZE_MAX;
		struct apply_step st = {0};
		const char *cur = a->from;

		t->irqbalance |= a->kind == ACTION_IRQBALANCE;
		if ((r = entry_from_action(a, &st.e)) < 0)
			return r;
		if (k != SIZE_MAX) {
			v->covered[k] = true;
			cur = v->now[k];
			/* Keep the first label and identity we recorded. */
			st.e.starttime = je->starttime;
		} else {
			je = NULL;
		}
		if (util_set_str(&st.e.pristine, a->from) < 0 || util_set_str(&st.e.before, cur) < 0 ||
		    util_set_str(&st.e.wanted, a->to) < 0) {
			step_done(&st);
			return -ENOMEM;
		}
		st.write = !action_value_equal(a->kind, cur, a->to);
		st.outcome = STEP_PLANNED;
		if (je && st.write && !t->o->force && !action_value_equal(a->kind, cur, je->pristine) &&
		    !action_value_equal(a->kind, cur, je->wanted)) {
			st.outcome = STEP_CONFLICT;
			st.write = false;
			st.message = util_sprintf("changed behind isolated's back: it is %s, isolated wrote %s "
						  "(pristine %s); left alone, --force overwrites it",
						  cur, je->wanted, je->pristine);
		}
		if (!st.write && st.outcome == STEP_PLANNED)
			st.outcome = STEP_UNCHANGED;
		if ((r = push_step(res, &st, &cap)) < 0)
			return r;
	}

	for (size_t k = 0; k < v->n; k++) {
		const struct journal_entry *je = &j->targets[v->idx[k]];
		const char *now = v->now[k];
		struct apply_step st = {.restore = true};

		t->irqbalance |= je->kind == ACTION_IRQBALANCE;
		if (v->covered[k] || !now)
			continue;
		/* Back where it started without us: nothing to write. */
		if (action_value_equal(je->kind, now, je->pristine))
			continue;
		if ((r = journal_entry_copy(&st.e, je)) < 0)
			return r;
		if (util_set_str(&st.e.before, now) < 0 || util_set_str(&st.e.wanted, je->pristine) < 0) {
			step_done(&st);
			return -ENOMEM;
		}
		st.write = true;
		st.outcome = STEP_PLANNED;
		if (!t->o->force && !action_value_equal(je->kind, now, je->wanted)) {
			st.outcome = STEP_CONFLICT;
			st.write = false;
			st.message = util_sprintf("changed behind isolated's back: it is %s, isolated wrote %s; "
						  "left alone, --force restores the pristine %s",
						  now, je->wanted, je->pristine);
		}
		if ((r = push_step(res, &st, &cap)) < 0)
			return r;
	}
	sort_steps(res);
	return 0;
}

/* Sort a failed write into "not movable", "gone" or a failure. */
static enum step_outcome classify(struct txn *t, struct apply_step *st, int r)
{
	const struct journal_entry *e = &st->e;
	int err = -r;
	char *why = NULL;

	st->error = err;
	if (action_kind_is_thread(e->kind) && err == ESRCH) {
		st->message = strdup("the thread exited");
		return STEP_GONE;
	}
	if (e->kind == ACTION_IRQ_AFFINITY && (err == EIO || err == EPERM))
		why = util_sprintf("not movable (kernel-managed): the kernel refused with %s", errno_name(err));
	else if (e->kind == ACTION_IRQ_AFFINITY && err == EINVAL)
		why = util_sprintf("not movable: the interrupt controller refuses affinity changes (EINVAL)");
	else if (e->kind == ACTION_THREAD_AFFINITY && err == EINVAL)
		why = util_sprintf("not movable: per-CPU kernel thread (PF_NO_SETAFFINITY), EINVAL");
	if (why) {
		st->message = why;
		if (!t->p->strict)
			return STEP_NOT_MOVABLE;
		st->message = util_sprintf("%s, and the policy is strict", why);
		free(why);
		return STEP_FAILED;
	}
	if (e->kind == ACTION_THREAD_SCHED && err == EPERM)
		why = eperm_sched_message(t->h, t->s, e);
	else if (e->kind == ACTION_IRQBALANCE && host_irqbalance_error(t->h))
		why = strdup(host_irqbalance_error(t->h));
	st->message = util_sprintf("%s (%s)%s%s", path_strerror(err), errno_name(err), why ? ": " : "", why ? why : "");
	free(why);
	return STEP_FAILED;
}

/* Write one step and read it back. */
static void execute(struct txn *t, struct apply_step *st)
{
	char *back = NULL;
	bool pending;
	int r;

	r = target_write(t->h, &st->e, st->e.wanted);
	if (r < 0) {
		st->outcome = classify(t, st, r);
		return;
	}
	t->writes++;
	crash_point(t->o, "%u", t->writes);
	r = target_read(t->h, &st->e, st->e.wanted, &back, &pending);
	if (r == -ESRCH && action_kind_is_thread(st->e.kind)) {
		st->outcome = STEP_GONE;
		st->message = strdup("the thread exited");
		return;
	}
	if (r < 0) {
		st->error = -r;
		st->outcome = STEP_FAILED;
		st->message =
		    util_sprintf("written, but reading it back failed: %s (%s)", path_strerror(-r), errno_name(-r));
		return;
	}
	if (!action_value_equal(st->e.kind, back, st->e.wanted)) {
		st->error = EIO;
		st->outcome = STEP_FAILED;
		st->message = util_sprintf("wrote %s, but it reads back as %s", st->e.wanted, back);
	} else if (pending) {
		st->outcome = STEP_PENDING;
		st->message = strdup("effective affinity follows at the IRQ's next interrupt");
	} else {
		st->outcome = STEP_DONE;
	}
	free(back);
}

static bool changed(const struct apply_step *st)
{
	return st->outcome == STEP_DONE || st->outcome == STEP_PENDING;
}

/* Put back, in reverse order, what steps [0, n) wrote. Returns how many
 * could not be put back (their messages are added to the result). */
static size_t undo_steps(struct txn *t, size_t n)
{
	size_t failed = 0;

	for (size_t i = n; i-- > 0;) {
		struct apply_step *st = &t->res->steps[i];
		int r;

		if (!changed(st))
			continue;
		r = target_write(t->h, &st->e, st->e.before);
		if (r < 0 && !(action_kind_is_thread(st->e.kind) && r == -ESRCH)) {
			failed++;
			add_notice(t->res, util_sprintf("could not undo %s %s (%s): writing %s back failed: %s (%s)",
							st->e.target, action_kind_noun(st->e.kind), st->e.label,
							st->e.before, path_strerror(-r), errno_name(-r)));
			continue;
		}
		st->outcome = STEP_UNDONE;
		t->undo_writes++;
		crash_point(t->o, "undo:%u", t->undo_writes);
	}
	return failed;
}

/* A snapshot the caller gave may predate a recovery: make it say what the
 * host holds now. A partial one only for its own threads (the rest is its
 * base's, and a threads-only apply does not plan it). */
static int state_follow(struct txn *t, const struct journal_entry *e, const char *value)
{
	if (!t->s || (t->s->borrowed && !action_kind_is_thread(e->kind)))
		return 0;
	return target_set_in(t->s, e, value) == -ENOMEM ? -ENOMEM : 0;
}

/* A step as a journal target: its pristine value, and the value it writes
 * as the one isolated wrote. */
static int add_target(struct journal *j, const struct journal_entry *step)
{
	struct journal_entry e;
	int r;

	r = journal_entry_copy(&e, step);
	if (r < 0)
		return r;
	free(e.before);
	e.before = NULL;
	r = journal_add_target(j, &e);
	journal_entry_done(&e);
	return r;
}

/* An earlier invocation died inside its transaction: put back what its
 * steps may have written (those not reached still hold "before"), then
 * drop the transaction. */
static int recover(struct txn *t, struct journal *j, char *err, size_t errlen)
{
	size_t undone = 0, conflicts = 0;

	for (size_t i = j->n_steps; i-- > 0;) {
		const struct journal_entry *e = &j->steps[i];
		char *cur = NULL;
		bool pending;
		int r;

		r = target_read(t->h, e, NULL, &cur, &pending);
		if (r == -ESRCH || r == -ENOENT)
			continue;
		if (r < 0) {
			snprintf(err, errlen, "undoing the interrupted transaction: reading %s failed: %s", e->target,
				 path_strerror(-r));
			return r;
		}
		if (state_follow(t, e, cur) < 0) {
			free(cur);
			return -ENOMEM;
		}
		if (action_value_equal(e->kind, cur, e->before)) {
			free(cur);
			continue;
		}
		if (!action_value_equal(e->kind, cur, e->wanted)) {
			/* Changed by someone else meanwhile: left alone, but its
			 * pristine value is never dropped. A target the journal
			 * did not hold yet (this transaction's first change of
			 * it) becomes one, so that a revert reports it as a
			 * conflict, keeps the journal, and --force restores it. */
			conflicts++;
			r = journal_find(j, e->kind, e->target) ? 0 : add_target(j, e);
			if (r < 0) {
				free(cur);
				return r;
			}
			add_notice(t->res, util_sprintf("interrupted transaction: %s (%s) is %s, neither the %s it had "
							"nor the %s being written; left alone, its pristine value %s "
							"stays in the journal (isoctl revert --force restores it)",
							e->target, e->label, cur, e->before, e->wanted, e->pristine));
			free(cur);
			continue;
		}
		free(cur);
		r = target_write(t->h, e, e->before);
		if (r < 0 && !(action_kind_is_thread(e->kind) && r == -ESRCH)) {
			snprintf(err, errlen,
				 "undoing the interrupted transaction: writing %s back to %s %s failed: %s (%s)",
				 e->before, e->target, action_kind_noun(e->kind), path_strerror(-r), errno_name(-r));
			return r;
		}
		undone++;
		t->undo_writes++;
		crash_point(t->o, "undo:%u", t->undo_writes);
		if (state_follow(t, e, e->before) < 0)
			return -ENOMEM;
	}
	add_notice(t->res, util_sprintf("an interrupted transaction (apply %s, pid %d) was undone: %zu value%s put "
					"back%s",
					j->txn_mode ? j->txn_mode : "?", j->txn_pid, undone, undone == 1 ? "" : "s",
					conflicts ? ", some left alone (see above)" : ""));
	journal_clear_txn(j);
	return 0;
}

/* The two journal targets of a thread (its affinity, its scheduling). */
static struct journal_entry *thread_target(struct journal *j, enum action_kind kind, pid_t tid)
{
	char target[ACTION_TARGET_ID_MAX];

	const char *name = action_canonical_target(kind, NULL, 0, tid, target);

	return name ? journal_find(j, kind, name) : NULL;
}

/* Drop thread targets whose thread exited (or whose tid was reused). A
 * partial snapshot (threads_only) tells only about the tids it holds: a
 * target is dropped when its tid is there with another start time; only
 * those are looked up. */
static int drop_exited(struct txn *t, struct journal *j, size_t *ret_dropped)
{
	static const enum action_kind kinds[] = {ACTION_THREAD_AFFINITY, ACTION_THREAD_SCHED};
	size_t dropped = 0;

	if (t->o->threads_only) {
		for (size_t i = 0; i < t->s->n_tasks; i++) {
			const struct task_info *task = &t->s->tasks[i];

			for (size_t k = 0; k < ARRAY_SIZE(kinds); k++) {
				struct journal_entry *e = thread_target(j, kinds[k], task->tid);

				if (e && e->starttime != task->starttime) {
					journal_kill_target(j, e);
					dropped++;
				}
			}
		}
	} else {
		for (size_t i = 0; i < j->n_targets; i++) {
			struct journal_entry *e = &j->targets[i];

			if (e->target && action_kind_is_thread(e->kind) && !target_thread(t->s, e)) {
				journal_kill_target(j, e);
				dropped++;
			}
		}
	}
	*ret_dropped = dropped;
	if (dropped)
		return add_notice(t->res, util_sprintf("%zu target%s of exited threads dropped from the journal",
						       dropped, dropped == 1 ? "" : "s"));
	return 0;
}

/* The targets in view, with their values now. A threads-only apply sees
 * only the threads of its snapshot: the other targets are out of view,
 * neither read nor restored; and the scheduling of an IRQ thread (it keeps
 * its IRQ) is the IRQ rules' business, which a threads-only plan leaves out. */
static int build_view(struct txn *t, struct journal *j, struct view *v)
{
	static const enum action_kind kinds[] = {ACTION_THREAD_AFFINITY, ACTION_THREAD_SCHED};
	int r;

	if (t->o->threads_only) {
		for (size_t i = 0; i < t->s->n_tasks; i++) {
			const struct task_info *task = &t->s->tasks[i];

			if (task->context_only)
				continue;
			for (size_t k = 0; k < ARRAY_SIZE(kinds); k++) {
				struct journal_entry *e = thread_target(j, kinds[k], task->tid);

				if (e && !(e->kind == ACTION_THREAD_SCHED && e->irq) && target_thread(t->s, e) &&
				    (r = view_add(v, (size_t)(e - j->targets))) < 0)
					return r;
			}
		}
		if (v->n > 1)
			qsort(v->idx, v->n, sizeof(*v->idx), cmp_size);
	} else {
		for (size_t i = 0; i < j->n_targets; i++)
			if (j->targets[i].target && (r = view_add(v, i)) < 0)
				return r;
	}
	for (size_t k = 0; k < v->n; k++)
		if ((r = target_value_in(t->s, &j->targets[v->idx[k]], &v->now[k])) < 0)
			return r;
	return 0;
}

/* The journal to work on: the caller's, made current (the daemon keeps one
 * in memory), or read. A journal of another boot is discarded. */
static int load_journal(struct txn *t, const char *boot_id, struct journal **ret, char *err, size_t errlen)
{
	struct journal *j = NULL;
	int r;

	if (t->o->journal) {
		r = journal_refresh(t->h, t->o->journal, boot_id, NULL, err, errlen);
		j = *t->o->journal;
	} else {
		r = journal_load(t->h, &j, err, errlen);
		if (r == -ENOENT) {
			err[0] = '\0';
			r = (j = journal_new(boot_id)) ? 0 : -ENOMEM;
		}
	}
	if (r < 0)
		return r;
	if (strcmp(j->boot_id, boot_id) != 0) {
		add_notice(t->res,
			   util_sprintf("the journal is from another boot (%s; this is %s) and %s: "
					"the values it recorded did not survive the reboot",
					j->boot_id, boot_id, t->o->dry_run ? "would be discarded" : "was discarded"));
		if (t->o->journal)
			*t->o->journal = NULL;
		journal_free(j);
		if (!t->o->dry_run && (r = journal_remove(t->h, err, errlen)) < 0)
			return r;
		j = journal_new(boot_id);
		if (!j)
			return -ENOMEM;
		if (t->o->journal)
			*t->o->journal = j;
	}
	*ret = j;
	return 0;
}

/* Write what changed in j, or remove the file when j holds nothing (the
 * host is vanilla, and no revert awaits confirmation). */
int apply_store_journal(const struct host *h, struct journal *j, bool *ret_removed, char *err, size_t errlen)
{
	int r;

	if (journal_n_live(j) == 0 && !j->has_txn && !j->has_confirm && strcmp(j->mode, "vanilla") == 0) {
		*ret_removed = true;
		r = journal_remove(h, err, errlen);
		if (r >= 0)
			journal_forget_file(j); /* of no file now */
		return r;
	}
	*ret_removed = false;
	return journal_save(h, j, err, errlen);
}

static void count_outcomes(struct apply_result *res)
{
	memset(res->counts, 0, sizeof(res->counts));
	for (size_t i = 0; i < res->n_steps; i++)
		res->counts[res->steps[i].outcome]++;
}

/* Replace *dst by src unless they are equal; *changed when replaced. */
static int update_str(char **dst, const char *src, bool *changed)
{
	if ((!*dst && !src) || (*dst && src && strcmp(*dst, src) == 0))
		return 0;
	*changed = true;
	return util_set_str(dst, src);
}

static int set_confirm(struct journal *j, const struct apply_confirm *c)
{
	journal_clear_confirm(j);
	if (!c)
		return 0;
	j->has_confirm = true;
	j->confirm_deadline = c->deadline_usec;
	j->confirm_uid = c->uid;
	if (util_set_str(&j->confirm_previous_mode, c->previous_mode) < 0 ||
	    util_set_str(&j->confirm_previous_scope, c->previous_scope) < 0 ||
	    util_set_str(&j->confirm_session, c->session) < 0)
		return -ENOMEM;
	return 0;
}

/* The journal after a successful transaction: targets in view back at
 * pristine without a step leave it, the steps' outcomes go in; targets out
 * of view (threads_only: threads not in the partial snapshot, IRQs,
 * sysctls, cpumasks) are kept as they are. *ret_changed: j differs from
 * what it was (threads_only only keeps mode, scope, time and confirmation). */
static int commit_journal(struct txn *t, struct journal *j, const struct view *v, bool *ret_changed)
{
	struct apply_result *res = t->res;
	bool changed = false;
	char scope[256];
	int r;

	/* A target with no plan action and no restore step is one compose
	 * found gone, or at its pristine value. */
	for (size_t k = 0; k < v->n; k++) {
		struct journal_entry *e = &j->targets[v->idx[k]];

		if (e->target && !v->covered[k] && (!v->now[k] || action_value_equal(e->kind, v->now[k], e->pristine))) {
			journal_kill_target(j, e);
			changed = true;
		}
	}
	for (size_t k = 0; k < res->n_steps; k++) {
		const struct apply_step *st = &res->steps[k];
		struct journal_entry *je = journal_find(j, st->e.kind, st->e.target);
		bool touched = false;

		switch (st->outcome) {
		case STEP_DONE:
		case STEP_PENDING:
		case STEP_UNCHANGED:
			if (st->restore || action_value_equal(st->e.kind, st->e.wanted, st->e.pristine)) {
				if (je) {
					journal_kill_target(j, je);
					changed = true;
				}
			} else if (je) {
				if (update_str(&je->wanted, st->e.wanted, &touched) < 0 ||
				    update_str(&je->rule, st->e.rule, &touched) < 0)
					return -ENOMEM;
				if (touched) {
					journal_touch(j, je);
					changed = true;
				}
			} else {
				changed = true;
				if ((r = add_target(j, &st->e)) < 0)
					return r;
			}
			break;
		case STEP_GONE:
			if (je) {
				journal_kill_target(j, je);
				changed = true;
			}
			break;
		default:
			/* not movable: nothing changed; conflict: the entry stays as it was */
			break;
		}
	}
	journal_clear_txn(j);
	*ret_changed = changed;
	/* The event path adds to the mode in force: its mode, scope, time and
	 * pending confirmation stay. */
	if (t->o->threads_only)
		return 0;
	*ret_changed = true;
	if (util_set_str(&j->mode, t->p->name) < 0 ||
	    util_set_str(&j->scope, policy_scope_format(&t->p->scope, scope, sizeof(scope))) < 0 ||
	    set_confirm(j, t->o->confirm) < 0)
		return -ENOMEM;
	j->applied_at = (long long)time(NULL);
	return 0;
}

static int begin_txn(struct txn *t, struct journal *j)
{
	int r = journal_begin_txn(j, t->p->name, (int)getpid(), (long long)time(NULL));

	for (size_t i = 0; r >= 0 && i < t->res->n_steps; i++) {
		const struct apply_step *st = &t->res->steps[i];

		if (st->write)
			r = journal_add_step(j, &st->e);
	}
	return r;
}

int apply_fail_msg(char *err, size_t errlen, int r, const char *what)
{
	if (err[0] == '\0')
		snprintf(err, errlen, "%s: %s", what, path_strerror(-r));
	return r;
}

/* Options that cannot work together, before anything is read. */
static int check_opts(const struct apply_opts *o, char *err, size_t errlen)
{
	const struct apply_confirm *c = o->confirm;

	if (o->threads_only && !o->state) {
		snprintf(err, errlen, "a threads-only apply needs a snapshot");
		return -EINVAL;
	}
	if (o->state && o->state->borrowed && !o->threads_only) {
		snprintf(err, errlen, "a partial snapshot can only be applied threads-only");
		return -EINVAL;
	}
	if (c && !o->threads_only &&
	    (!c->previous_mode || !*c->previous_mode || !c->previous_scope || !*c->previous_scope ||
	     (c->session && !*c->session) || c->uid == (uid_t)-1)) {
		snprintf(err, errlen, "a confirmation needs the previous mode and scope and a valid caller");
		return -EINVAL;
	}
	return 0;
}

/* The event path adds threads to the mode in force: a journal holding
 * another mode (or none) means the caller's idea of it is stale. */
static int check_threads_only(struct txn *t, const struct journal *j, char *err, size_t errlen)
{
	char scope[256];

	policy_scope_format(&t->p->scope, scope, sizeof(scope));
	if (strcmp(j->mode, t->p->name) == 0 && strcmp(j->scope, scope) == 0)
		return 0;
	snprintf(err, errlen,
		 "the journal holds mode %s (scope %s), not %s (scope %s): a threads-only apply only adds "
		 "threads to the mode in force",
		 j->mode, j->scope, t->p->name, scope);
	return -ESTALE;
}

int apply_boot_id(const struct host *h, const struct host_state *s, char **ret)
{
	char *id = NULL;
	int r;

	if (s)
		r = (id = strdup(s->boot_id ? s->boot_id : "")) ? 0 : -ENOMEM;
	else
		r = host_read_boot_id(h, &id);
	if (r == -ENOENT && (id = strdup("")))
		r = 0;
	if (r < 0)
		return r;
	*ret = id;
	return 0;
}

/* Phase 1, load and recover: under the lock, the journal of this boot,
 * with an interrupted transaction undone (a dry run only says it would
 * be). */
static int txn_load(struct txn *t, char *err, size_t errlen)
{
	const struct apply_opts *o = t->o;
	int r;

	if (!o->dry_run && (r = journal_lock(t->h, !o->no_wait, &t->lock_fd, err, errlen)) < 0)
		return r;
	/* A snapshot given by the caller has the boot id: one file less on
	 * the event path. */
	if ((r = apply_boot_id(t->h, o->state, &t->boot_id)) < 0)
		return apply_fail_msg(err, errlen, r, "reading proc/sys/kernel/random/boot_id");
	if ((r = load_journal(t, t->boot_id, &t->j, err, errlen)) < 0)
		return r;
	/* Before a recovery, which keeps a given snapshot up to date. */
	t->s = o->state;
	if (t->j->has_txn) {
		/* Killed inside an irqbalance write: its file may want settling. */
		for (size_t i = 0; i < t->j->n_steps && !t->irqbalance; i++)
			t->irqbalance = t->j->steps[i].kind == ACTION_IRQBALANCE;
		if (o->dry_run)
			add_notice(t->res, util_sprintf("an interrupted transaction (apply %s, pid %d) would be undone "
							"first; this plan is made against the host as it is now",
							t->j->txn_mode ? t->j->txn_mode : "?", t->j->txn_pid));
		else if ((r = recover(t, t->j, err, errlen)) < 0 ||
			 (r = apply_store_journal(t->h, t->j, &t->removed, err, errlen)) < 0)
			return r;
		else
			crash_point(o, "recovered", 0);
	}
	if (o->threads_only && (r = check_threads_only(t, t->j, err, errlen)) < 0)
		return r;
	return (t->res->previous_mode = strdup(t->j->mode)) ? 0 : -ENOMEM;
}

static int add_journal_files(struct txn *t, const struct journal *j, char *err, size_t errlen)
{
	struct host_needs n;
	int r;

	if ((r = needs_of_journal(j, &n)) < 0)
		return apply_fail_msg(err, errlen, r, "out of memory");
	r = n.files ? host_snapshot_add(t->h, t->s, &n, err, errlen) : 0;
	needs_done(&n);
	return r;
}

/* Phase 2, the pristine view: the plan, made against the host as it was
 * before isolated touched it (the journal's pristine values put into the
 * snapshot), and the transaction's steps. */
static int txn_plan(struct txn *t, char *err, size_t errlen)
{
	const struct apply_opts *o = t->o;
	struct journal *j = t->j;
	int r;

	if (!o->state && (r = needs_snapshot_apply(t->h, t->p, j, &t->s, err, errlen)) < 0)
		return r;
	/* A snapshot given may lack the files of the journal's targets (a
	 * sysctl the mode held before sets): they are read now. */
	if (o->state && !o->state->borrowed && (r = add_journal_files(t, j, err, errlen)) < 0)
		return r;
	if ((r = drop_exited(t, j, &t->dropped)) < 0)
		return r;
	/* The value of every target in view now, then the pristine view. */
	if ((r = build_view(t, j, &t->v)) < 0)
		return r;
	for (size_t k = 0; k < t->v.n; k++) {
		const struct journal_entry *e = &j->targets[t->v.idx[k]];

		if ((r = target_set_in(t->s, e, e->pristine)) < 0) {
			snprintf(err, errlen, "the journal's pristine value of %s (%s) is not a valid value", e->target,
				 e->pristine);
			return r;
		}
	}
	if (o->threads_only)
		r = plan_build_threads(t->p, t->s, &t->res->plan, err, errlen);
	else
		r = plan_build(t->p, t->s, &t->res->plan, err, errlen);
	if (r < 0 || (r = compose(t, j, &t->v)) < 0)
		return r;
	count_outcomes(t->res);
	return 0;
}

/* Step i failed: the steps after it are not done, those before it are
 * undone. Returns the failed write's -errno, or the error of storing the
 * journal. */
static int rollback(struct txn *t, size_t i, char *err, size_t errlen)
{
	struct apply_result *res = t->res;
	const struct apply_step *st = &res->steps[i];
	int failure = st->error ? -st->error : -EIO, r;
	size_t undone = 0, stuck;

	for (size_t k = i + 1; k < res->n_steps; k++)
		if (res->steps[k].write && res->steps[k].outcome == STEP_PLANNED)
			res->steps[k].outcome = STEP_NOT_DONE;
	stuck = undo_steps(t, i);
	for (size_t k = 0; k < i; k++)
		undone += res->steps[k].outcome == STEP_UNDONE;
	res->error = util_sprintf("%s (%s): setting %s %s failed: %s; %zu change%s of this "
				  "transaction undone%s",
				  st->e.target, st->e.label, action_kind_noun(st->e.kind), st->e.wanted,
				  st->message ? st->message : "?", undone, undone == 1 ? "" : "s",
				  stuck ? ", SOME COULD NOT BE (see above): the host is not as it was" : "");
	res->failed = true;
	/* Keep the transaction in the journal: the next run retries the undo. */
	if (stuck)
		return failure;
	/* Everything put back: the journal as it was before this transaction
	 * (begin_txn only added the transaction to it; the exited threads
	 * dropped stay dropped). */
	journal_clear_txn(t->j);
	if ((r = apply_store_journal(t->h, t->j, &t->removed, err, errlen)) < 0)
		return r;
	t->saved = true;
	return failure;
}

/* Phase 3, execute or roll back: journal the transaction, then write its
 * steps in order; at the first failure, undo what was written. */
static int txn_execute(struct txn *t, char *err, size_t errlen)
{
	int r;

	if ((r = begin_txn(t, t->j)) < 0)
		return r;
	if (t->j->n_steps > 0) {
		t->journaled = true;
		if ((r = journal_save(t->h, t->j, err, errlen)) < 0)
			return r;
		crash_point(t->o, "journal", 0);
	}
	for (size_t i = 0; i < t->res->n_steps; i++) {
		struct apply_step *st = &t->res->steps[i];

		if (!st->write)
			continue;
		execute(t, st);
		if (st->outcome == STEP_FAILED)
			return rollback(t, i, err, errlen);
	}
	return 0;
}

/* Phase 4, commit: the journal after the transaction, stored. */
static int txn_commit(struct txn *t, char *err, size_t errlen)
{
	int r;

	if ((r = commit_journal(t, t->j, &t->v, &t->changed)) < 0)
		return r;
	/* The event path is hot: a journal that would be written back as it
	 * is, is not written (and journal_save writes a record of what
	 * changed, not the journal). */
	if (!t->o->threads_only || t->journaled || t->changed || t->dropped) {
		if ((r = apply_store_journal(t->h, t->j, &t->removed, err, errlen)) < 0)
			return r;
		t->stored = true;
	}
	t->saved = true;
	crash_point(t->o, "commit", 0);
	return 0;
}

/* Whatever the phases reached (r: the first error): unlock, leave the
 * caller's journal as the file holds it, free what the transaction held;
 * the result to the caller, or the error. */
static int txn_finish(struct txn *t, int r, struct apply_result **ret, char *err, size_t errlen)
{
	const struct apply_opts *o = t->o;
	struct journal *j = t->j;

	/* irqbalance reads its file when it starts: once, after the last
	 * write of the transaction (or of its undo), whatever the outcome. */
	if (host_restart_irqbalance(t->h) < 0 &&
	    add_notice(t->res, util_sprintf("irqbalance's defaults file is written, but %s: restart irqbalance to "
					    "make it read the file",
					    host_irqbalance_error(t->h))) < 0 &&
	    r >= 0)
		r = -ENOMEM;
	count_outcomes(t->res);
	/* With no journal on disk the host holds nothing of ours: the lock file
	 * and its directory go too, so a tree is left exactly as it was. A
	 * journal just saved is there (one lookup less on the event path). */
	if (!(t->stored && !t->removed))
		t->removed = !journal_exists(t->h);
	/* A kill inside a write of irqbalance's file or its backup leaves
	 * what no later write may come to clean: a temporary file, a backup
	 * whose values are back. */
	if (t->lock_fd >= 0 && t->irqbalance && !o->threads_only)
		irqbalance_settle(t->h);
	if (t->lock_fd >= 0)
		journal_unlock(t->h, t->lock_fd, t->removed);
	t->res->journal_removed = t->removed;
	view_done(&t->v);
	free(t->boot_id);
	if (o->journal && j) {
		/* The caller keeps it: what memory holds must be what the file
		 * holds. A dry run changed it (exited threads), a failure may
		 * have: read it again next time. */
		if (o->dry_run || !(t->saved || (r >= 0 && !t->changed && !t->dropped && !t->journaled)))
			journal_forget_file(j);
		else if (j->n_targets > 2 * journal_n_live(j) + 64)
			journal_compact(j);
	} else {
		journal_free(j);
	}
	if (t->s != o->state)
		host_state_free(t->s);
	if (r < 0 && !t->res->failed) {
		if (err[0] == '\0')
			snprintf(err, errlen, "%s", path_strerror(-r));
		apply_result_free(t->res);
		return r;
	}
	*ret = t->res;
	return r;
}

int apply_mode(struct host *h, const struct policy *p, const struct apply_opts *o, struct apply_result **ret, char *err,
	       size_t errlen)
{
	struct txn t = {.h = h, .p = p, .o = o, .lock_fd = -1};
	char scope[256];
	int r;

	err[0] = '\0';
	if ((r = check_opts(o, err, errlen)) < 0)
		return r;
	if (!(t.res = calloc(1, sizeof(*t.res))))
		return -ENOMEM;
	if (!(t.res->mode = strdup(p->name)) ||
	    !(t.res->scope = strdup(policy_scope_format(&p->scope, scope, sizeof(scope)))))
		r = -ENOMEM;
	if (r >= 0)
		r = txn_load(&t, err, errlen);
	if (r >= 0)
		r = txn_plan(&t, err, errlen);
	if (r >= 0 && !o->dry_run)
		r = txn_execute(&t, err, errlen);
	if (r >= 0 && !o->dry_run)
		r = txn_commit(&t, err, errlen);
	return txn_finish(&t, r, ret, err, errlen);
}

void apply_result_free(struct apply_result *r)
{
	if (!r)
		return;
	free(r->mode);
	free(r->previous_mode);
	free(r->scope);
	plan_free(r->plan);
	for (size_t i = 0; i < r->n_steps; i++)
		step_done(&r->steps[i]);
	free(r->steps);
	strv_free(r->notices);
	free(r->error);
	free(r);
}
