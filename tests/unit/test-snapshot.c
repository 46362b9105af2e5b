/* Unit tests of the snapshot: a hand-built tree checked field by field,
 * malformed and oversized files, what is optional, the running kernel, and
 * snapshots of only what a policy needs. */
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
#include <cmocka.h>

#include "isolated/procfmt.h"
#include "host-trees.h"

static void test_tree_snapshot(void **state)
{
	char *t = build_tree();
	struct host_state *s;

	(void)state;
	s = snapshot_of(t);
	check_tree_state(s);
	host_state_free(s);
	rm_rf(t);
	free(t);
}

struct bad_tree_case {
	const char *file, *content;
	int r;
};

static const struct bad_tree_case bad_trees[] = {
    {"proc/100/task/105/stat", "105 (x) S 1", -EINVAL},
    {"proc/100/task/105/status", "Name:\tx\nTgid:\t100\n", -EINVAL},
    {"proc/100/task/105/status", "Name:\tx\nTgid:\t100\nCpus_allowed_list:\t0-x\n", -EINVAL},
    {"proc/irq/30/smp_affinity_list", "zz\n", -EINVAL},
    {"sys/devices/system/cpu/online", "q\n", -EINVAL},
    {"proc/interrupts", "no header here\n", -EINVAL},
    {"etc/default/grub", "GRUB_CMDLINE_LINUX=\"open\n", -EINVAL},
    {"proc/irq/default_smp_affinity", "f,g\n", -EINVAL},
    {"sys/devices/virtual/workqueue/cpumask", "0-3\n", -EINVAL},
};

/* Malformed files fail the snapshot with a message naming the file. */
static void test_tree_bad(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad_trees); i++) {
		char *t = build_tree(), err[512] = "";
		struct host_state *s = (void *)0x1;
		struct host *h = NULL;

		put(t, bad_trees[i].file, bad_trees[i].content);
		assert_int_equal(host_open(t, &h), 0);
		assert_int_equal(host_snapshot(h, &s, err, sizeof(err)), bad_trees[i].r);
		assert_ptr_equal(s, (void *)0x1);
		if (!strstr(err, bad_trees[i].file))
			fail_msg("case %zu: message '%s' does not name %s", i, err, bad_trees[i].file);
		host_free(h);
		rm_rf(t);
		free(t);
	}
}

/* Files as large as the kernel can make them are read; one byte more is
 * refused with a message naming the file (read_limits in host.c); a line of
 * proc/interrupts longer than any kernel prints likewise (procfmt.h). */
struct limit_case {
	const char *file;
	size_t len; /* the file: head, then fill up to len */
	const char *head;
	char fill;
	int r;
	const char *msg; /* in the message after the file's name */
};

static const struct limit_case limit_cases[] = {
    {"proc/100/cmdline", 6u << 20, "qemu", '\0', 0, NULL},
    {"proc/100/cmdline", (8u << 20) + 1, "qemu", '\0', -EFBIG, "File too large"},
    {"proc/100/task/105/stat", 4097, "105 (x) S 1 ", '0', -EFBIG, "File too large"},
    {"proc/100/task/105/comm", 4097, "", 'c', -EFBIG, "File too large"},
    {"proc/100/task/105/status", (1u << 20) + (256u << 10) + 1, "Name:\tx\nTgid:\t100\nGroups:\t", '1', -EFBIG,
     "File too large"},
    {"proc/interrupts", PROCFMT_INTERRUPTS_LINE_MAX + 12, "  CPU0\n 9: ", '7', -E2BIG, ":2: a line longer than"},
};

static void test_tree_limits(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(limit_cases); i++) {
		const struct limit_case *c = &limit_cases[i];
		char *t = build_tree(), *buf = malloc(c->len), err[512] = "";
		size_t n = strlen(c->head);
		struct host_state *s = NULL;
		struct host *h = NULL;

		assert_non_null(buf);
		memcpy(buf, c->head, n);
		memset(buf + n, c->fill, c->len - n);
		put_len(t, c->file, buf, c->len);
		assert_int_equal(host_open(t, &h), 0);
		assert_int_equal(host_snapshot(h, &s, err, sizeof(err)), c->r);
		if (c->r == 0) {
			assert_string_equal(host_state_task(s, 105)->cmdline, "qemu");
			host_state_free(s);
		} else if (!strstr(err, c->file) || !strstr(strstr(err, c->file), c->msg)) {
			fail_msg("case %zu: message '%s' does not name %s with '%s'", i, err, c->file, c->msg);
		}
		host_free(h);
		rm_rf(t);
		free(t);
		free(buf);
	}
}

/* Required files missing; optional ones missing are fine. */
static void test_tree_missing(void **state)
{
	char *t = build_tree(), err[512] = "";
	struct host_state *s = NULL;
	struct host *h = NULL;

	(void)state;
	unlink_in(t, "sys/devices/system/cpu/possible");
	unlink_in(t, "etc/default/grub");
	unlink_in(t, "proc/sys/kernel/version");
	unlink_in(t, "proc/irq/9/effective_affinity_list");
	unlink_in(t, "proc/sys/kernel/random/boot_id");
	unlink_in(t, "proc/irq/default_smp_affinity");
	unlink_in(t, "sys/devices/virtual/workqueue/cpumask");
	s = snapshot_of(t);
	assert_null(s->boot_id);
	assert_false(s->has_irq_default);
	assert_false(s->has_wq_cpumask);
	assert_cpus(&s->possible, "0-3");
	assert_false(s->has_grub);
	assert_null(s->grub_cmdline_linux);
	assert_string_equal(s->kversion, "");
	assert_false(s->preempt_rt);
	assert_false(s->irqs[0].has_effective);
	host_state_free(s);

	put(t, "sys/kernel/realtime", "1\n");
	s = snapshot_of(t);
	assert_true(s->preempt_rt);
	host_state_free(s);

	unlink_in(t, "proc/cmdline");
	assert_int_equal(host_open(t, &h), 0);
	s = (void *)0x1;
	assert_int_equal(host_snapshot(h, &s, err, sizeof(err)), -ENOENT);
	assert_ptr_equal(s, (void *)0x1);
	assert_non_null(strstr(err, "proc/cmdline"));
	host_free(h);
	rm_rf(t);
	free(t);
}

/* The running kernel: facts that hold on any Linux machine. */
static void test_real(void **state)
{
	pid_t child = start_child();
	struct host_state *s = snapshot_of(NULL);
	const struct task_info *me;

	(void)state;
	assert_false(cpuset_empty(&s->online));
	assert_true(cpuset_subset(&s->online, &s->possible));
	assert_true(s->cmdline[0] != '\0');
	assert_true(s->osrelease[0] != '\0');
	assert_non_null(s->boot_id);
	assert_int_equal(strlen(s->boot_id), 36); /* a UUID, newline stripped */
	assert_non_null(host_state_sysctl(s, "kernel.sched_rt_runtime_us"));
	assert_true(s->n_tasks > 1);
	for (size_t i = 1; i < s->n_tasks; i++)
		assert_true(s->tasks[i - 1].tgid < s->tasks[i].tgid ||
			    (s->tasks[i - 1].tgid == s->tasks[i].tgid && s->tasks[i - 1].tid < s->tasks[i].tid));
	for (size_t i = 1; i < s->n_irqs; i++)
		assert_true(s->irqs[i - 1].irq < s->irqs[i].irq);

	/* The process taking the snapshot is not part of it. */
	assert_null(host_state_task(s, getpid()));
	me = host_state_task(s, child);
	assert_non_null(me);
	assert_int_equal(me->tgid, child);
	assert_int_equal(me->ppid, getpid());
	assert_string_equal(me->comm, "iso-child");
	assert_string_equal(me->proc_comm, "iso-child");
	assert_non_null(strstr(me->cmdline, "test-snapshot"));
	assert_false(me->kthread);
	assert_false(cpuset_empty(&me->cpus));
	stop_child(child);

	/* kthreadd, when visible, is a kernel thread with an empty cmdline. */
	const struct task_info *kt = host_state_task(s, 2);
	if (kt && strcmp(kt->comm, "kthreadd") == 0) {
		assert_true(kt->kthread);
		assert_string_equal(kt->cmdline, "");
	}
	host_state_free(s);
}

/* ---- lean snapshots (host_snapshot_ex, host_snapshot_add) ---- */

static struct host_state *snapshot_needs(const struct host *h, const struct host_needs *n)
{
	struct host_state *s = NULL;
	char err[512] = "";
	int r = host_snapshot_ex(h, n, &s, err, sizeof(err));

	if (r < 0)
		fail_msg("host_snapshot_ex: %d %s", r, err);
	return s;
}

/* Only what is asked for is read; what is read is what host_snapshot
 * reads; the rest is NULL or empty, and have says so. */
static void test_snapshot_needs(void **state)
{
	char *t = copy_tree("kvm16"), *cg = NULL;
	struct host *h = NULL;
	struct host_state *full, *s;

	(void)state;
	assert_int_equal(host_open(t, &h), 0);
	full = snapshot_of(t);
	assert_int_equal(full->have.tasks, HOST_TASK_ALL);
	assert_int_equal(full->have.irqs, HOST_IRQ_ALL);
	assert_true(full->have.boot_id);
	assert_int_equal(full->tasks[0].have, HOST_TASK_ALL);

	/* the system's files alone */
	s = snapshot_needs(h, &(struct host_needs){0});
	assert_int_equal(s->n_tasks, 0);
	assert_int_equal(s->n_irqs, 0);
	assert_null(s->boot_id);
	assert_false(host_state_has(s, &(struct host_needs){.boot_id = true}));
	assert_true(host_state_has(s, &(struct host_needs){0}));
	assert_int_equal(host_snapshot_add(h, s, &(struct host_needs){.boot_id = true}, NULL, 0), 0);
	assert_system_equal(s, full);
	/* ... then everything added: host_snapshot's */
	assert_int_equal(host_snapshot_add(h, s, &host_needs_all, NULL, 0), 0);
	assert_true(host_state_has(s, &host_needs_all));
	assert_string_equal(s->boot_id, full->boot_id);
	assert_int_equal(s->n_tasks, full->n_tasks);
	assert_int_equal(s->n_irqs, full->n_irqs);
	for (size_t i = 0; i < s->n_tasks; i++)
		assert_task_equal(&s->tasks[i], &full->tasks[i]);
	host_state_free(s);

	/* stat alone: the same tasks, in the same order */
	s = snapshot_needs(h, &(struct host_needs){.tasks = HOST_TASK_STAT});
	assert_int_equal(s->n_tasks, full->n_tasks);
	assert_int_equal(s->have.tasks, HOST_TASK_STAT);
	for (size_t i = 0; i < s->n_tasks; i++) {
		const struct task_info *x = &s->tasks[i], *y = &full->tasks[i];

		assert_int_equal(x->have, HOST_TASK_STAT);
		assert_int_equal(x->tid, y->tid);
		assert_int_equal(x->tgid, y->tgid);
		assert_int_equal(x->ppid, y->ppid);
		assert_int_equal(x->starttime, y->starttime);
		assert_int_equal(x->policy, y->policy);
		assert_int_equal(x->flags, y->flags);
		assert_non_null(x->comm); /* stat's */
		assert_null(x->proc_comm);
		assert_null(x->cmdline);
		assert_null(x->cgroup);
		assert_true(cpuset_empty(&x->cpus));
	}
	host_state_free(s);

	/* CPUs and cmdline: those as host_snapshot has them */
	s = snapshot_needs(h, &(struct host_needs){.tasks = HOST_TASK_CPUS | HOST_TASK_CMDLINE});
	assert_int_equal(s->n_tasks, full->n_tasks);
	for (size_t i = 0; i < s->n_tasks; i++) {
		assert_true(cpuset_equal(&s->tasks[i].cpus, &full->tasks[i].cpus));
		assert_string_equal(s->tasks[i].cmdline, full->tasks[i].cmdline);
		assert_null(s->tasks[i].cgroup);
	}
	host_state_free(s);

	/* IRQs listed: numbers and chips of proc/interrupts, nothing of proc/irq/N */
	s = snapshot_needs(h, &(struct host_needs){.irqs = HOST_IRQ_LIST});
	assert_int_equal(s->n_irqs, full->n_irqs);
	assert_int_equal(s->n_tasks, 0);
	for (size_t i = 0; i < s->n_irqs; i++) {
		assert_int_equal(s->irqs[i].irq, full->irqs[i].irq);
		assert_string_equal(s->irqs[i].chip, full->irqs[i].chip);
		assert_false(s->irqs[i].has_affinity);
		assert_null(s->irqs[i].nic);
	}
	/* ... and in full when added */
	assert_int_equal(host_snapshot_add(h, s, &(struct host_needs){.irqs = HOST_IRQ_ALL}, NULL, 0), 0);
	for (size_t i = 0; i < s->n_irqs; i++)
		assert_int_equal(s->irqs[i].has_affinity, full->irqs[i].has_affinity);
	host_state_free(s);

	assert_int_equal(host_read_cgroup(h, 2201, &cg), 0);
	assert_string_equal(cg, host_state_task(full, 2201)->cgroup);
	free(cg);
	assert_int_equal(host_read_cgroup(h, 5555, &cg), -ENOENT);
	assert_int_equal(host_read_cgroup(h, 0, &cg), -EINVAL);
	host_state_free(full);
	host_free(h);
	rm_rf(t);
	free(t);
}

/* The running kernel: CPUs by sched_getaffinity() are what each task's
 * status file shows (when every possible CPU is online). */
static void test_real_affinity(void **state)
{
	struct host *h = NULL;
	struct host_state *s;
	size_t compared = 0;

	(void)state;
	assert_int_equal(host_open(NULL, &h), 0);
	s = snapshot_needs(h, &(struct host_needs){.tasks = HOST_TASK_STAT | HOST_TASK_CPUS});
	for (size_t i = 0; i < s->n_tasks && compared < 200; i++) {
		const struct task_info *t = &s->tasks[i];
		struct cpuset cpus = CPUSET_INIT;
		char path[64], *buf = NULL, msg[128];
		struct proc_status ss = {0};
		size_t len;

		snprintf(path, sizeof(path), "proc/%d/task/%d/status", (int)t->tgid, (int)t->tid);
		if (host_read(h, path, &buf, &len) < 0)
			continue; /* exited meanwhile */
		assert_int_equal(procfmt_parse_status(buf, len, &ss), 0);
		free(buf);
		assert_int_equal(cpuset_parse_list(ss.cpus_allowed_list, &cpus, msg, sizeof(msg)), 0);
		if (!cpuset_equal(&cpus, &t->cpus))
			fail_msg("%s: status says %s", path, ss.cpus_allowed_list);
		procfmt_status_done(&ss);
		cpuset_free(&cpus);
		compared++;
	}
	assert_true(compared > 10);
	host_state_free(s);
	host_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tree_snapshot), cmocka_unit_test(test_tree_bad),
	    cmocka_unit_test(test_tree_limits),	  cmocka_unit_test(test_tree_missing),
	    cmocka_unit_test(test_real),	  cmocka_unit_test(test_snapshot_needs),
	    cmocka_unit_test(test_real_affinity),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
