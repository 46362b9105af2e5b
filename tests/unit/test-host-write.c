/* Unit tests of the real writes, as root on the running kernel: a thread of
 * ours and kernel.timer_migration, put back as they were. */
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
#include <sched.h>
#include <cmocka.h>

#include "host-trees.h"

/* ---- The running kernel ---- */

struct blocker {
	int wake[2], tid_pipe[2];
	pthread_t th;
	pid_t tid;
};

/* Blocks in read(): never spins, whatever its policy. */
static void *block(void *arg)
{
	struct blocker *b = arg;
	pid_t tid = gettid();
	char c;

	if (write(b->tid_pipe[1], &tid, sizeof(tid)) != sizeof(tid))
		return NULL;
	while (read(b->wake[0], &c, 1) < 0 && errno == EINTR)
		;
	return NULL;
}

static void blocker_start(struct blocker *b)
{
	assert_int_equal(pipe2(b->wake, O_CLOEXEC), 0);
	assert_int_equal(pipe2(b->tid_pipe, O_CLOEXEC), 0);
	assert_int_equal(pthread_create(&b->th, NULL, block, b), 0);
	assert_int_equal(read(b->tid_pipe[0], &b->tid, sizeof(b->tid)), sizeof(b->tid));
}

static void blocker_stop(struct blocker *b)
{
	assert_int_equal(write(b->wake[1], "x", 1), 1);
	assert_int_equal(pthread_join(b->th, NULL), 0);
	close(b->wake[0]);
	close(b->wake[1]);
	close(b->tid_pipe[0]);
	close(b->tid_pipe[1]);
}

static void test_live_thread(void **state)
{
	struct blocker b;
	struct host *h = NULL;
	struct thread_now before, now, after;
	struct cpuset one = CPUSET_INIT;
	struct sched_param op, kp;
	int opol, kpol, r_aff, r_sched, r_read, r_unsched, r_unaff, r_after;
	bool k_one;

	(void)state;
	if (geteuid() != 0)
		skip();
	blocker_start(&b);
	assert_int_equal(host_open(NULL, &h), 0);
	assert_int_equal(host_read_thread(h, getpid(), b.tid, &before), 0);
	opol = sched_getscheduler(b.tid);
	assert_int_equal(sched_getparam(b.tid, &op), 0);
	assert_int_equal(before.policy, opol);
	assert_true(kernel_cpus_equal(b.tid, &before.cpus));
	assert_int_equal(cpuset_set(&one, (unsigned)cpuset_last(&before.cpus)), 0);

	/* Change, read back both ways, and put back before any assertion. */
	r_aff = host_set_thread_affinity(h, getpid(), b.tid, &one);
	r_sched = host_set_thread_sched(h, getpid(), b.tid, SCHED_FIFO, 10);
	r_read = host_read_thread(h, getpid(), b.tid, &now);
	k_one = kernel_cpus_equal(b.tid, &one);
	kpol = sched_getscheduler(b.tid);
	sched_getparam(b.tid, &kp);
	r_unsched = host_set_thread_sched(h, getpid(), b.tid, opol, op.sched_priority);
	r_unaff = host_set_thread_affinity(h, getpid(), b.tid, &before.cpus);
	r_after = host_read_thread(h, getpid(), b.tid, &after);

	assert_int_equal(r_aff, 0);
	assert_int_equal(r_sched, 0);
	assert_int_equal(r_read, 0);
	assert_true(cpuset_equal(&now.cpus, &one));
	assert_int_equal(now.policy, SCHED_FIFO);
	assert_int_equal(now.rt_priority, 10);
	assert_int_equal(now.starttime, before.starttime);
	assert_true(k_one);
	assert_int_equal(kpol, SCHED_FIFO);
	assert_int_equal(kp.sched_priority, 10);
	assert_int_equal(r_unsched, 0);
	assert_int_equal(r_unaff, 0);
	assert_int_equal(r_after, 0);
	assert_true(cpuset_equal(&after.cpus, &before.cpus));
	assert_int_equal(after.policy, opol);
	assert_int_equal(after.rt_priority, op.sched_priority);
	assert_true(kernel_cpus_equal(b.tid, &before.cpus));
	assert_int_equal(sched_getscheduler(b.tid), opol);

	/* A thread that is not there. */
	assert_int_equal(host_read_thread(h, getpid(), getpid() + 4194304, &now), -ESRCH);

	blocker_stop(&b);
	cpuset_free(&before.cpus);
	cpuset_free(&now.cpus);
	cpuset_free(&after.cpus);
	cpuset_free(&one);
	host_free(h);
}

static void test_live_sysctl(void **state)
{
	const char *name = "kernel.timer_migration";
	char *orig = NULL, *now = NULL, *restored = NULL;
	struct host *h = NULL;
	int r_write, r_read, r_restore, r_reread;

	(void)state;
	if (geteuid() != 0)
		skip();
	assert_int_equal(host_open(NULL, &h), 0);
	if (host_read_sysctl(h, name, &orig) == -ENOENT) {
		host_free(h);
		skip();
	}
	/* The running kernel ignores faults. */
	assert_int_equal(host_set_faults(h, "kernel.timer_migration=EIO"), 0);

	const char *other = strcmp(orig, "0") == 0 ? "1" : "0";
	r_write = host_write_sysctl(h, name, other);
	r_read = host_read_sysctl(h, name, &now);
	r_restore = host_write_sysctl(h, name, orig);
	r_reread = host_read_sysctl(h, name, &restored);

	assert_int_equal(r_write, 0);
	assert_int_equal(r_read, 0);
	assert_string_equal(now, other);
	assert_int_equal(r_restore, 0);
	assert_int_equal(r_reread, 0);
	assert_string_equal(restored, orig);
	free(orig);
	free(now);
	free(restored);
	host_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_live_thread),
	    cmocka_unit_test(test_live_sysctl),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
