/* Unit tests of the transactions the daemon needs (lib/apply.c): a given
 * snapshot, threads-only applies against a partial snapshot of a copied
 * kvm16 tree with a full dedicated journal, and what one event-path apply
 * costs (printed). Apply unless confirmed: test-confirm.c. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "apply-env.h"

/* stat field 22 (starttime): a new thread that got an old tid. */
static void set_starttime(const char *root, int pid, int tid, unsigned long long starttime)
{
	char rel[128], *buf, *p, *end;
	int field = 2;

	snprintf(rel, sizeof(rel), "proc/%d/task/%d/stat", pid, tid);
	buf = read_rel(root, rel, NULL);
	p = strrchr(buf, ')') + 1; /* " S 1 ..." : field 3 follows */
	while (field < 21) {
		p = strchr(p + 1, ' ');
		assert_non_null(p);
		field++;
	}
	/* p is the space before field 22 */
	end = strchr(p + 1, ' ');
	assert_non_null(end);
	p[1] = '\0';
	putf(root, rel, "%s%llu%s", buf, starttime, end);
	free(buf);
}

/* What the journal holds, in a canonical form (one checkpoint): the same
 * text for the same state, whatever records led to it. */
static char *journal_text(struct env *e)
{
	struct journal *j = journal_of(e);
	char *text = NULL;
	size_t len;

	assert_int_equal(journal_format(j, &text, &len), 0);
	journal_free(j);
	return text;
}

static void journal_stat(struct env *e, struct stat *st)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", e->root, JOURNAL_PATH);
	assert_int_equal(stat(path, st), 0);
}

static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_ino == b->st_ino && a->st_size == b->st_size && a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	       a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

static void assert_str_or_null_equal(const char *a, const char *b)
{
	if (!a || !b)
		assert_ptr_equal(a, b);
	else
		assert_string_equal(a, b);
}

static void assert_entry_equal(const struct journal_entry *a, const struct journal_entry *b)
{
	assert_int_equal(a->kind, b->kind);
	assert_string_equal(a->target, b->target);
	assert_string_equal(a->label, b->label);
	assert_str_or_null_equal(a->rule, b->rule);
	assert_int_equal(a->irq, b->irq);
	assert_int_equal(a->tid, b->tid);
	assert_int_equal(a->tgid, b->tgid);
	assert_true(a->starttime == b->starttime);
	assert_string_equal(a->pristine, b->pristine);
	assert_string_equal(a->wanted, b->wanted);
	assert_null(b->before);
}

/* b is a, but for the targets of the threads in tids: same targets in the
 * same order, field for field (so the same bytes on disk), same mode,
 * scope, time and confirmation. */
static void assert_journal_same_but(const struct journal *a, const struct journal *b, const pid_t *tids, size_t n)
{
	size_t i = 0, k = 0;

	assert_string_equal(a->mode, b->mode);
	assert_string_equal(a->scope, b->scope);
	assert_true(a->applied_at == b->applied_at);
	assert_int_equal(a->has_confirm, b->has_confirm);
	assert_false(b->has_txn);
	for (;;) {
		bool skip_a = false, skip_b = false;

		for (size_t t = 0; t < n; t++) {
			skip_a |= i < a->n_targets && a->targets[i].tid == tids[t];
			skip_b |= k < b->n_targets && b->targets[k].tid == tids[t];
		}
		if (skip_a) {
			i++;
			continue;
		}
		if (skip_b) {
			k++;
			continue;
		}
		if (i == a->n_targets || k == b->n_targets)
			break;
		assert_entry_equal(&a->targets[i++], &b->targets[k++]);
	}
	assert_int_equal(i, a->n_targets);
	assert_int_equal(k, b->n_targets);
}

static const struct journal_entry *find(struct journal *j, enum action_kind kind, int tid)
{
	char target[32];

	snprintf(target, sizeof(target), "tid/%d", tid);
	return journal_find(j, kind, target);
}

static void assert_thread(struct env *e, int pid, int tid, const char *cpus, int policy, int prio)
{
	struct thread_now now = {.cpus = CPUSET_INIT};
	char *list = NULL;

	assert_int_equal(host_read_thread(e->h, pid, tid, &now), 0);
	assert_int_equal(cpuset_format_list(&now.cpus, &list), 0);
	assert_string_equal(list, cpus);
	assert_int_equal(now.policy, policy);
	assert_int_equal(now.rt_priority, prio);
	free(list);
	cpuset_free(&now.cpus);
}

/* ---- tests ---- */

static void test_threads_only(void **state)
{
	struct env *e = *state;
	struct journal *j0, *j1;
	struct apply_result *res;
	struct stat st0, st1;
	char *text0, *text1, err[1024];
	const struct journal_entry *x;

	apply_full(e, e->dedicated, NULL);
	j0 = journal_of(e);
	assert_true(j0->n_targets > 140);
	journal_stat(e, &st0);
	text0 = journal_text(e);

	/* Nothing new: the RT vCPUs, the vhost kernel thread (judged through
	 * rtvm's QEMU, a context task) and QEMU itself are as wanted. Nothing
	 * is written, not even the journal. */
	{
		static const struct thread_ref refs[] = {{2201, 2205}, {2201, 2206}, {2207, 2207}, {2201, 2201}};

		res = apply_threads_ok(e, e->dedicated, refs, ARRAY_SIZE(refs));
		assert_true(res->n_steps >= 6);
		assert_int_equal(res->counts[STEP_UNCHANGED], res->n_steps);
		assert_string_equal(res->previous_mode, "dedicated");
		assert_null(res->plan->warnings);
		assert_int_equal(res->plan->counts[ACTION_SYSCTL] + res->plan->counts[ACTION_IRQ_AFFINITY], 0);
		apply_result_free(res);
		journal_stat(e, &st1);
		assert_true(same_file(&st0, &st1));
	}

	/* QEMU names a thread "CPU 3/KVM": planned (rt-vcpu) and written; the
	 * other 150 targets stay as they were. */
	{
		static const struct thread_ref refs[] = {{2201, 2211}};
		static const pid_t changed[] = {2211};

		rename_thread(e->root, 2201, 2211, "CPU 3/KVM");
		res = apply_threads_ok(e, e->dedicated, refs, 1);
		assert_int_equal(res->counts[STEP_DONE], 2);
		apply_result_free(res);
		assert_thread(e, 2201, 2211, "6-7", 1, 51);
		j1 = journal_of(e);
		assert_journal_same_but(j0, j1, changed, 1);
		x = find(j1, ACTION_THREAD_AFFINITY, 2211);
		assert_non_null(x);
		assert_string_equal(x->pristine, "0-15");
		assert_string_equal(x->wanted, "6-7");
		assert_string_equal(x->rule, "rt-vcpu");
		x = find(j1, ACTION_THREAD_SCHED, 2211);
		assert_non_null(x);
		assert_string_equal(x->pristine, "other");
		assert_string_equal(x->wanted, "fifo:51");
		assert_int_equal(j1->n_targets, j0->n_targets + 1);
		journal_free(j0);
		j0 = j1;
	}

	/* CPU 1/KVM renamed away: "other" wants it on the housekeeping CPUs,
	 * and no rule wants its priority any more: restored to pristine. */
	{
		static const struct thread_ref refs[] = {{2201, 2206}};
		static const pid_t changed[] = {2206};

		rename_thread(e->root, 2201, 2206, "worker");
		res = apply_threads_ok(e, e->dedicated, refs, 1);
		assert_int_equal(res->counts[STEP_DONE], 2);
		apply_result_free(res);
		assert_thread(e, 2201, 2206, "0-5,8-15", 0, 0);
		j1 = journal_of(e);
		assert_journal_same_but(j0, j1, changed, 1);
		assert_null(find(j1, ACTION_THREAD_SCHED, 2206));
		x = find(j1, ACTION_THREAD_AFFINITY, 2206);
		assert_non_null(x);
		assert_string_equal(x->wanted, "0-5,8-15");
		assert_string_equal(x->rule, "other");
		assert_string_equal(x->pristine, "0-15");
		journal_free(j0);
		j0 = j1;
	}

	/* A write fails: what was written is undone, the journal holds again
	 * exactly what it held (the file has two more records: the
	 * transaction opened, then dropped). */
	{
		static const struct thread_ref refs[] = {{2201, 2212}};

		free(text0);
		text0 = journal_text(e);
		rename_thread(e->root, 2201, 2212, "CPU 3/KVM");
		assert_int_equal(host_set_faults(e->h, "tid/2212/sched=EPERM"), 0);
		assert_int_equal(apply_threads(e, e->dedicated, refs, 1, &res, err, sizeof(err)), -EPERM);
		assert_non_null(res);
		assert_true(res->failed);
		assert_int_equal(res->counts[STEP_UNDONE], 1);
		apply_result_free(res);
		assert_int_equal(host_set_faults(e->h, NULL), 0);
		assert_thread(e, 2201, 2212, "0-5,8-15", 0, 0);
		text1 = journal_text(e);
		assert_string_equal(text0, text1);
		free(text1);
	}

	/* Killed after the first write: the next event's apply undoes it, then
	 * does it again, whole. */
	{
		static const struct thread_ref refs[] = {{2201, 2212}};
		struct host_state *s = NULL;
		pid_t pid;
		int status;
		size_t undone = 0;

		assert_int_equal(host_snapshot_threads(e->h, e->base, refs, 1, false, &s, err, sizeof(err)), 0);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			struct apply_opts o = {.state = s, .threads_only = true, .crash_after = "1"};

			apply_mode(e->h, e->dedicated, &o, &res, err, sizeof(err));
			_exit(0);
		}
		assert_int_equal(waitpid(pid, &status, 0), pid);
		host_state_free(s);
		assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
		j1 = journal_of(e);
		assert_true(j1->has_txn);
		assert_int_equal(j1->n_steps, 2);
		journal_free(j1);
		assert_thread(e, 2201, 2212, "6-7", 0, 0);

		res = apply_threads_ok(e, e->dedicated, refs, 1);
		for (size_t i = 0; res->notices && res->notices[i]; i++)
			undone += strstr(res->notices[i], "interrupted transaction") != NULL;
		assert_int_equal(undone, 1);
		assert_int_equal(res->counts[STEP_DONE], 2);
		apply_result_free(res);
		assert_thread(e, 2201, 2212, "6-7", 1, 51);
		j1 = journal_of(e);
		assert_false(j1->has_txn);
		assert_non_null(find(j1, ACTION_THREAD_SCHED, 2212));
		journal_free(j0);
		j0 = j1;
	}

	/* A thread that exited: not in the partial snapshot, its targets are
	 * carried over (the next full apply drops them); nothing is written. */
	{
		static const struct thread_ref refs[] = {{2301, 2305}};
		char path[PATH_MAX];

		journal_stat(e, &st0);
		snprintf(path, sizeof(path), "%s/proc/2301/task/2305", e->root);
		rm_rf(path);
		res = apply_threads_ok(e, e->dedicated, refs, 1);
		assert_int_equal(res->n_steps, 0);
		apply_result_free(res);
		journal_stat(e, &st1);
		assert_true(same_file(&st0, &st1));
		j1 = journal_of(e);
		assert_non_null(find(j1, ACTION_THREAD_AFFINITY, 2305));
		journal_free(j1);
	}

	/* A new thread with an old tid (another start time): the old target
	 * goes; the new thread is planned from what it is now. */
	{
		static const struct thread_ref refs[] = {{2401, 2406}};
		static const pid_t changed[] = {2406};
		bool said = false;

		set_starttime(e->root, 2401, 2406, 987654321ULL);
		res = apply_threads_ok(e, e->dedicated, refs, 1);
		for (size_t i = 0; res->notices && res->notices[i]; i++)
			said |= strstr(res->notices[i], "1 target of exited threads dropped") != NULL;
		assert_true(said);
		assert_int_equal(res->counts[STEP_DONE], 0);
		apply_result_free(res);
		j1 = journal_of(e);
		assert_null(find(j1, ACTION_THREAD_AFFINITY, 2406));
		assert_journal_same_but(j0, j1, changed, 1);
		journal_free(j1);
	}

	/* Misuse. */
	{
		static const struct thread_ref refs[] = {{2201, 2205}};
		struct host_state *s = NULL;
		struct apply_opts o = {.threads_only = true};

		res = NULL;
		/* another mode than the journal's: the caller is out of date */
		assert_int_equal(apply_threads(e, e->rt_only, refs, 1, &res, err, sizeof(err)), -ESTALE);
		assert_null(res);
		assert_non_null(strstr(err, "holds mode dedicated"));
		/* threads_only needs a snapshot; a partial one needs threads_only */
		assert_int_equal(apply_mode(e->h, e->dedicated, &o, &res, err, sizeof(err)), -EINVAL);
		assert_int_equal(host_snapshot_threads(e->h, e->base, refs, 1, false, &s, err, sizeof(err)), 0);
		o = (struct apply_opts){.state = s};
		assert_int_equal(apply_mode(e->h, e->dedicated, &o, &res, err, sizeof(err)), -EINVAL);
		assert_null(res);
		host_state_free(s);
	}

	journal_free(j0);
	free(text0);
}

/* rt-only: a journaled vCPU renamed away is restored to its pristine
 * scheduling and leaves the journal. */
static void test_threads_only_restore(void **state)
{
	struct env *e = *state;
	static const struct thread_ref refs[] = {{2201, 2205}};
	static const pid_t changed[] = {2205};
	struct apply_result *res;
	struct journal *j0, *j1;

	apply_full(e, e->rt_only, NULL);
	j0 = journal_of(e);
	assert_non_null(find(j0, ACTION_THREAD_SCHED, 2205));
	assert_thread(e, 2201, 2205, "0-15", 1, 70);

	rename_thread(e->root, 2201, 2205, "worker");
	res = apply_threads_ok(e, e->rt_only, refs, 1);
	assert_int_equal(res->n_steps, 1);
	assert_true(res->steps[0].restore);
	assert_int_equal(res->steps[0].outcome, STEP_DONE);
	apply_result_free(res);
	assert_thread(e, 2201, 2205, "0-15", 0, 0);
	j1 = journal_of(e);
	assert_null(find(j1, ACTION_THREAD_SCHED, 2205));
	assert_non_null(find(j1, ACTION_THREAD_SCHED, 2206));
	assert_non_null(find(j1, ACTION_THREAD_SCHED, 2207));
	assert_journal_same_but(j0, j1, changed, 1);
	journal_free(j0);
	journal_free(j1);
}

/* An IRQ thread's priority belongs to its IRQ rule, which the event path
 * does not plan: an event for that thread leaves it (and the journal)
 * alone. */
static void test_threads_only_irq_thread(void **state)
{
	struct env *e = *state;
	static const struct thread_ref refs[] = {{301, 301}};
	struct cpuset online = CPUSET_INIT;
	struct policy *p = NULL;
	struct apply_result *res;
	struct diag d = {0};
	struct journal *j;
	struct stat st0, st1;
	char path[PATH_MAX];

	put(e->root, "irqthread.conf",
	    "[mode]\ntype = rt-only\n\n[irq mei]\nmatch = action:mei_me\nthread = fifo:60\n\n"
	    "[thread rest]\nmatch = comm:nothing-here\nsched = fifo:5\n");
	snprintf(path, sizeof(path), "%s/irqthread.conf", e->root);
	assert_int_equal(cpuset_set_range(&online, 0, 15), 0);
	assert_int_equal(policy_load(path, e->hc, &online, &p, &d), 0);
	cpuset_free(&online);
	diag_free(&d);

	apply_full(e, p, NULL);
	assert_thread(e, 301, 301, "12", 1, 60);
	j = journal_of(e);
	assert_int_equal(find(j, ACTION_THREAD_SCHED, 301)->irq, 123);
	journal_free(j);
	journal_stat(e, &st0);

	res = apply_threads_ok(e, p, refs, 1);
	assert_int_equal(res->n_steps, 0);
	apply_result_free(res);
	assert_thread(e, 301, 301, "12", 1, 60);
	journal_stat(e, &st1);
	assert_true(same_file(&st0, &st1));
	policy_free(p);
}

/* A given full snapshot is used (and left to the caller). */
static void test_given_state(void **state)
{
	struct env *e = *state;
	struct host_state *s = NULL;
	struct apply_opts o = {0};
	struct apply_result *res = NULL;
	char err[512];

	assert_int_equal(host_snapshot(e->h, &s, err, sizeof(err)), 0);
	/* a snapshot that says the sysctls are already as wanted: no sysctl is
	 * written, which proves the engine planned against it */
	for (size_t i = 0; i < s->n_sysctls; i++)
		if (strcmp(s->sysctls[i].name, "kernel.timer_migration") == 0) {
			free(s->sysctls[i].value);
			s->sysctls[i].value = strdup("0");
		}
	o.state = s;
	assert_int_equal(apply_mode(e->h, e->dedicated, &o, &res, err, sizeof(err)), 0);
	for (size_t i = 0; i < res->n_steps; i++)
		assert_string_not_equal(res->steps[i].e.target, "kernel.timer_migration");
	assert_true(res->counts[STEP_DONE] > 100);
	apply_result_free(res);
	/* still the caller's: the engine put the pristine values into it */
	assert_non_null(host_state_task(s, 2205));
	host_state_free(s);
}

/* ---- what the event path costs ---- */

static double cpu_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* Printed, not asserted: a tree in /dev/shm, the dedicated journal of
 * kvm16 (about 150 targets), one thread per apply. */
static void test_bench(void **state)
{
	struct env *e = *state;
	static const struct thread_ref refs[] = {{2201, 2211}};
	const int n = 200;
	double snap = 0, apply = 0, t0;
	struct journal *j, *mem = NULL;
	size_t len;
	char err[512];

	apply_full(e, e->dedicated, NULL);
	free(read_rel(e->root, JOURNAL_PATH, &len));

	/* one new thread each time: renamed in and out of "CPU 3/KVM", so
	 * each apply writes its affinity and priority (and appends two
	 * records); the journal kept in memory between events, as the daemon
	 * does */
	for (int i = 0; i < n; i++) {
		struct host_state *s = NULL;
		struct apply_opts o = {.threads_only = true, .journal = &mem};
		struct apply_result *res = NULL;

		rename_thread(e->root, 2201, 2211, i % 2 ? "worker" : "CPU 3/KVM");
		t0 = cpu_usec();
		assert_int_equal(host_snapshot_threads(e->h, e->base, refs, 1, false, &s, err, sizeof(err)), 0);
		snap += cpu_usec() - t0;
		o.state = s;
		t0 = cpu_usec();
		assert_int_equal(apply_mode(e->h, e->dedicated, &o, &res, err, sizeof(err)), 0);
		apply += cpu_usec() - t0;
		assert_int_equal(res->counts[STEP_DONE], 2);
		apply_result_free(res);
		host_state_free(s);
	}
	free(read_rel(e->root, JOURNAL_PATH, &len));
	printf("# journal %zu bytes after; one new thread per event: host_snapshot_threads %.1f us, "
	       "threads-only apply %.1f us CPU\n",
	       len, snap / n, apply / n);

	/* nothing to do: the thread is already as wanted */
	snap = apply = 0;
	for (int i = 0; i < n; i++) {
		struct host_state *s = NULL;
		struct apply_opts o = {.threads_only = true, .journal = &mem};
		struct apply_result *res = NULL;

		t0 = cpu_usec();
		assert_int_equal(host_snapshot_threads(e->h, e->base, refs, 1, false, &s, err, sizeof(err)), 0);
		snap += cpu_usec() - t0;
		o.state = s;
		t0 = cpu_usec();
		assert_int_equal(apply_mode(e->h, e->dedicated, &o, &res, err, sizeof(err)), 0);
		apply += cpu_usec() - t0;
		assert_int_equal(res->counts[STEP_DONE], 0);
		apply_result_free(res);
		host_state_free(s);
	}
	printf("# no change: host_snapshot_threads %.1f us, threads-only apply %.1f us CPU\n", snap / n, apply / n);
	journal_free(mem);

	/* its parts: the journal read and parsed, formatted, saved */
	t0 = cpu_usec();
	for (int i = 0; i < n; i++) {
		j = journal_of(e);
		journal_free(j);
	}
	printf("# journal_load %.1f us CPU\n", (cpu_usec() - t0) / n);
	j = journal_of(e);
	t0 = cpu_usec();
	for (int i = 0; i < n; i++) {
		char *buf = NULL;

		assert_int_equal(journal_format(j, &buf, NULL), 0);
		free(buf);
	}
	printf("# journal_format %.1f us CPU\n", (cpu_usec() - t0) / n);
	t0 = cpu_usec();
	for (int i = 0; i < n; i++)
		assert_int_equal(journal_save(e->h, j, err, sizeof(err)), 0);
	printf("# journal_save %.1f us CPU\n", (cpu_usec() - t0) / n);
	journal_free(j);
	t0 = cpu_usec();
	for (int i = 0; i < n; i++) {
		int fd = -1;

		assert_int_equal(journal_lock(e->h, true, &fd, err, sizeof(err)), 0);
		journal_unlock(e->h, fd, false);
	}
	printf("# journal_lock + unlock %.1f us CPU\n", (cpu_usec() - t0) / n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_threads_only, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_threads_only_restore, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_threads_only_irq_thread, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_given_state, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bench, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
