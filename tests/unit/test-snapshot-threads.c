/* Unit tests of threads read alone and of the partial snapshots of the
 * daemon's event path, on the kvm16 tree and on the running kernel. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <pthread.h>
#include <time.h>
#include <cmocka.h>

#include "host-trees.h"

struct want_task {
	pid_t tid, tgid;
	bool context_only;
	const char *comm;
};

static void assert_tasks(const struct host_state *s, const struct want_task *want, size_t n)
{
	for (size_t i = 0; i < s->n_tasks && i < n; i++) {
		const struct task_info *t = &s->tasks[i];

		if (t->tid != want[i].tid || t->tgid != want[i].tgid || t->context_only != want[i].context_only)
			fail_msg("task %zu: tid %d tgid %d context %d, want tid %d tgid %d context %d", i, (int)t->tid,
				 (int)t->tgid, t->context_only, (int)want[i].tid, (int)want[i].tgid,
				 want[i].context_only);
		assert_string_equal(t->comm, want[i].comm);
		/* host_state_task's bisection needs the order */
		assert_ptr_equal(host_state_task(s, t->tid), t);
	}
	assert_int_equal(s->n_tasks, n);
}

static struct host_state *partial_of(const struct host *h, const struct host_state *base, const struct thread_ref *refs,
				     size_t n, bool ancestors)
{
	struct host_state *s = NULL;
	char err[512] = "x";
	int r;

	r = host_snapshot_threads(h, base, refs, n, ancestors, &s, err, sizeof(err));
	if (r < 0)
		fail_msg("host_snapshot_threads: %d %s", r, err);
	assert_string_equal(err, "");
	assert_true(s->borrowed);
	return s;
}

/* kvm16: the threads asked for, fully read, and the context rules need:
 * leaders, the QEMU a vhost worker serves, ancestors on request. */
static void test_partial_tree(void **state)
{
	char *t = copy_tree("kvm16"), path[PATH_MAX];
	struct host *h = NULL;
	struct host_state *base, *s;
	const struct task_info *x;
	char err[256];

	(void)state;
	assert_int_equal(host_open(t, &h), 0);
	base = snapshot_of(t);
	/* be2's vCPU 2405 exits after the base snapshot */
	snprintf(path, sizeof(path), "%s/proc/2401/task/2405", t);
	rm_rf(path);

	const struct thread_ref refs[] = {
	    {2201, 2205}, /* CPU 0/KVM of rtvm */
	    {2207, 2207}, /* vhost-2201, a kernel thread on 6.1 */
	    {2201, 2205}, /* asked twice */
	    {2401, 2405}, /* gone */
	    {2301, 2399}, /* never was */
	    {5555, 5555}, /* no such process */
	};
	s = partial_of(h, base, refs, ARRAY_SIZE(refs), false);
	const struct want_task plain[] = {
	    {2201, 2201, true, "qemu-system-x86"},
	    {2205, 2201, false, "CPU 0/KVM"},
	    {2207, 2207, false, "vhost-2201"},
	};
	assert_tasks(s, plain, ARRAY_SIZE(plain));

	/* The threads asked for read as host_snapshot reads them. */
	assert_task_equal(host_state_task(s, 2205), host_state_task(base, 2205));
	assert_task_equal(host_state_task(s, 2207), host_state_task(base, 2207));
	assert_int_equal(host_state_task(s, 2205)->starttime, host_state_task(base, 2205)->starttime);
	/* Context: stat and the process's files; no status (cpus empty). */
	x = host_state_task(s, 2201);
	assert_non_null(strstr(x->cmdline, "guest=rtvm"));
	assert_string_equal(x->proc_comm, "qemu-system-x86");
	assert_int_equal(x->ppid, 1);
	assert_int_equal(x->starttime, host_state_task(base, 2201)->starttime);
	assert_true(cpuset_empty(&x->cpus));

	/* Everything else is base's own memory, not a copy. */
	assert_ptr_equal(s->irqs, base->irqs);
	assert_ptr_equal(s->sysctls, base->sysctls);
	assert_ptr_equal(s->online.w, base->online.w);
	assert_ptr_equal(s->cmdline, base->cmdline);
	assert_ptr_equal(s->boot_id, base->boot_id);
	assert_int_equal(s->n_irqs, base->n_irqs);
	assert_false(base->borrowed);
	host_state_free(s);
	/* base is whole after its partial is gone (ASan: no double free) */
	assert_non_null(base->irqs[0].chip);
	assert_true(cpuset_count(&base->online) == 16);

	/* With ancestors: the leaders' ppid chain up to 1 (2201 -> 1;
	 * vhost-2201 -> kthreadd 2). Pid 1 asked for outright is no context. */
	s = partial_of(h, base, refs, 2, true);
	const struct want_task anc[] = {
	    {1, 1, true, "systemd"},	      {2, 2, true, "kthreadd"},		 {2201, 2201, true, "qemu-system-x86"},
	    {2205, 2201, false, "CPU 0/KVM"}, {2207, 2207, false, "vhost-2201"},
	};
	assert_tasks(s, anc, ARRAY_SIZE(anc));
	/* rtvm's QEMU is a vhost owner: its cmdline is there; the ancestors
	 * are read from stat alone. */
	assert_non_null(strstr(host_state_task(s, 2201)->cmdline, "guest=rtvm"));
	assert_string_equal(host_state_task(s, 1)->cmdline, "");
	assert_string_equal(host_state_task(s, 1)->proc_comm, "systemd");
	assert_int_equal(host_state_task(s, 1)->ppid, 0);
	host_state_free(s);

	const struct thread_ref leader_too[] = {{2201, 2201}, {1, 1}, {2201, 2206}};
	s = partial_of(h, base, leader_too, ARRAY_SIZE(leader_too), true);
	const struct want_task lt[] = {
	    {1, 1, false, "systemd"},
	    {2201, 2201, false, "qemu-system-x86"},
	    {2206, 2201, false, "CPU 1/KVM"},
	};
	assert_tasks(s, lt, ARRAY_SIZE(lt));
	host_state_free(s);

	/* Nothing left: an empty snapshot, not an error. */
	s = partial_of(h, base, refs + 3, 3, true);
	assert_int_equal(s->n_tasks, 0);
	host_state_free(s);

	/* A partial of a partial borrows the same base. */
	{
		struct host_state *p1 = partial_of(h, base, refs, 1, false);
		struct host_state *p2 = partial_of(h, p1, refs + 1, 1, false);

		assert_ptr_equal(p2->irqs, base->irqs);
		host_state_free(p1);
		host_state_free(p2);
	}

	/* A broken stat is an error naming the file. */
	snprintf(path, sizeof(path), "proc/2301/task/2305/stat");
	put(t, path, "garbage\n");
	const struct thread_ref bad[] = {{2301, 2305}};
	err[0] = '\0';
	s = NULL;
	assert_int_equal(host_snapshot_threads(h, base, bad, 1, false, &s, err, sizeof(err)), -EINVAL);
	assert_null(s);
	assert_non_null(strstr(err, "proc/2301/task/2305/stat"));
	const struct thread_ref zero[] = {{0, 2305}};
	assert_int_equal(host_snapshot_threads(h, base, zero, 1, false, &s, err, sizeof(err)), -EINVAL);

	host_state_free(base);
	host_free(h);
	rm_rf(t);
	free(t);
}

/* host_read_task: one thread as host_snapshot reads it. */
static void test_read_task(void **state)
{
	char *t = copy_tree("kvm16"), path[PATH_MAX];
	struct host_state *base = snapshot_of(t);
	struct task_info ti;
	struct host *h = NULL;

	(void)state;
	assert_int_equal(host_open(t, &h), 0);
	assert_int_equal(host_read_task(h, 2201, 2206, &ti), 0);
	assert_task_equal(&ti, host_state_task(base, 2206));
	assert_false(ti.context_only);
	host_task_done(&ti);
	assert_null(ti.comm);
	host_task_done(&ti); /* twice is fine */

	assert_int_equal(host_read_task(h, 2201, 2399, &ti), -ESRCH);
	assert_int_equal(host_read_task(h, 5555, 5555, &ti), -ESRCH);
	assert_int_equal(host_read_task(h, 0, 1, &ti), -EINVAL);
	snprintf(path, sizeof(path), "%s/proc/2201/task/2206/status", t);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(host_read_task(h, 2201, 2206, &ti), -ESRCH);

	host_state_free(base);
	host_free(h);
	rm_rf(t);
	free(t);
}

/* A thread of ours, named "iso-thread", blocked until released. */
struct our_thread {
	pthread_t th;
	int ready[2], release[2];
	pid_t tid;
};

static void *thread_main(void *arg)
{
	struct our_thread *o = arg;
	char c;

	prctl(PR_SET_NAME, "iso-thread");
	o->tid = gettid();
	if (write(o->ready[1], "x", 1) != 1)
		return NULL;
	(void)!read(o->release[0], &c, 1);
	return NULL;
}

static void start_thread(struct our_thread *o)
{
	char c;

	assert_int_equal(pipe(o->ready), 0);
	assert_int_equal(pipe(o->release), 0);
	assert_int_equal(pthread_create(&o->th, NULL, thread_main, o), 0);
	assert_int_equal(read(o->ready[0], &c, 1), 1);
}

static void stop_thread(struct our_thread *o)
{
	assert_int_equal(write(o->release[1], "x", 1), 1);
	assert_int_equal(pthread_join(o->th, NULL), 0);
	/* pthread_join returns when the kernel clears the thread's tid, which
	 * is before the thread is released: /proc/self/task/TID may still be
	 * there for a moment. Wait until it is gone (an exiting thread still
	 * exists, and a snapshot rightly reads it). */
	{
		char path[64];

		snprintf(path, sizeof(path), "/proc/self/task/%d", (int)o->tid);
		for (int i = 0; i < 5000 && access(path, F_OK) == 0; i++)
			usleep(1000);
		assert_int_not_equal(access(path, F_OK), 0);
	}
	for (int i = 0; i < 2; i++) {
		close(o->ready[i]);
		close(o->release[i]);
	}
}

static double cpu_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* The running kernel: a thread this test starts, its leader (this
 * process) and its ancestors; then what one call costs. */
static void test_partial_real(void **state)
{
	struct our_thread o;
	struct host *h = NULL;
	struct host_state *base, *s;
	const struct task_info *x;

	(void)state;
	start_thread(&o);
	assert_int_equal(host_open(NULL, &h), 0);
	base = snapshot_of(NULL);
	const struct thread_ref ref = {getpid(), o.tid};

	s = partial_of(h, base, &ref, 1, false);
	assert_int_equal(s->n_tasks, 2);
	x = host_state_task(s, o.tid);
	assert_non_null(x);
	assert_string_equal(x->comm, "iso-thread");
	assert_int_equal(x->tgid, getpid());
	assert_false(x->context_only);
	assert_false(cpuset_empty(&x->cpus));
	assert_non_null(strstr(x->cmdline, "test-snapshot-threads"));
	x = host_state_task(s, getpid());
	assert_non_null(x);
	assert_true(x->context_only);
	assert_int_equal(x->ppid, getppid());
	host_state_free(s);

	s = partial_of(h, base, &ref, 1, true);
	/* every leader's parent is there, down to init */
	for (size_t i = 0; i < s->n_tasks; i++) {
		x = &s->tasks[i];
		if (x->tid == x->tgid && x->ppid > 0)
			assert_non_null(host_state_task(s, x->ppid));
	}
	x = host_state_task(s, 1);
	assert_non_null(x);
	assert_true(x->context_only);
	host_state_free(s);

	/* Benchmark (printed, not asserted): CPU time of one call. */
	for (int anc = 0; anc <= 1; anc++) {
		const int n = 2000;
		double t0 = cpu_usec();

		for (int i = 0; i < n; i++) {
			s = partial_of(h, base, &ref, 1, anc);
			host_state_free(s);
		}
		printf("# host_snapshot_threads, 1 thread of a running process%s: %.1f us CPU per call\n",
		       anc ? ", with ancestors" : "", (cpu_usec() - t0) / n);
	}

	stop_thread(&o);
	/* The thread is gone: skipped. */
	s = partial_of(h, base, &ref, 1, false);
	assert_null(host_state_task(s, o.tid));
	host_state_free(s);
	host_state_free(base);
	host_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_partial_tree),
	    cmocka_unit_test(test_read_task),
	    cmocka_unit_test(test_partial_real),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
