/* Unit tests of the host seam's primitives: opening a host, sysctl paths,
 * bounded reads, and the single reads that verify a write, on trees and on
 * the running kernel. */
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

#include "host-trees.h"

struct sysctl_case {
	const char *name;
	int r;
	const char *path;
};

static const struct sysctl_case sysctl_cases[] = {
    {"kernel.timer_migration", 0, "proc/sys/kernel/timer_migration"},
    {"net.ipv4.conf.eth0-1.rp_filter", 0, "proc/sys/net/ipv4/conf/eth0-1/rp_filter"},
    {"vm.stat_interval", 0, "proc/sys/vm/stat_interval"},
    {"", -EINVAL, NULL},
    {"../x", -EINVAL, NULL},
    {"a/b", -EINVAL, NULL},
    {"a..b", -EINVAL, NULL},
    {".kernel", -EINVAL, NULL},
    {"kernel.", -EINVAL, NULL},
    {"Kernel.x", -EINVAL, NULL},
    {"kernel x", -EINVAL, NULL},
    {"kernel.x\n", -EINVAL, NULL},
};

static void test_sysctl_path(void **state)
{
	char buf[64];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(sysctl_cases); i++) {
		int r = host_sysctl_path(sysctl_cases[i].name, buf, sizeof(buf));
		if (r != sysctl_cases[i].r)
			fail_msg("'%s': got %d, want %d", sysctl_cases[i].name, r, sysctl_cases[i].r);
		if (r == 0)
			assert_string_equal(buf, sysctl_cases[i].path);
	}
	assert_int_equal(host_sysctl_path("kernel.timer_migration", buf, 20), -ENAMETOOLONG);
}

static void test_read(void **state)
{
	char *t = build_tree(), *v = NULL;
	struct host *h = NULL;
	size_t len;

	(void)state;
	assert_int_equal(host_open(t, &h), 0);
	assert_true(h->is_tree);
	assert_string_equal(h->root_path, t);
	assert_int_equal(host_read_sysctl(h, "kernel.sched_rt_runtime_us", &v), 0);
	assert_string_equal(v, "950000");
	free(v);
	assert_int_equal(host_read_sysctl(h, "kernel.sched_rt_period_us", &v), -ENOENT);
	assert_int_equal(host_read_sysctl(h, "../etc/passwd", &v), -EINVAL);
	assert_int_equal(host_read(h, "proc/cmdline", &v, &len), 0);
	assert_int_equal(len, strlen(v));
	free(v);
	assert_int_equal(host_read(h, "/etc/passwd", &v, &len), -EINVAL);
	host_free(h);

	assert_int_equal(host_open("/nonexistent/dir", &h), -ENOENT);
	rm_rf(t);
	free(t);
}

/* ---- Reads ---- */

static void test_reads(void **state)
{
	char *t = kvm16(), *id = NULL;
	struct host *h = open_tree(t);
	struct cpuset aff = CPUSET_INIT, eff = CPUSET_INIT, m = CPUSET_INIT;
	struct thread_now now;
	bool has = false;

	(void)state;
	assert_int_equal(host_read_irq_affinity(h, 133, &aff, &eff, &has), 0);
	assert_cpus(&aff, "0-15");
	assert_cpus(&eff, "6");
	assert_true(has);
	assert_int_equal(host_read_irq_affinity(h, 151, &aff, NULL, NULL), 0);
	assert_cpus(&aff, "0");
	put(t, "proc/irq/133/effective_affinity_list", "");
	assert_int_equal(host_read_irq_affinity(h, 133, &aff, &eff, &has), 0);
	assert_true(has);
	assert_cpus(&eff, "");
	unlink_in(t, "proc/irq/133/effective_affinity_list");
	assert_int_equal(host_read_irq_affinity(h, 133, &aff, &eff, &has), 0);
	assert_false(has);
	/* untouched on failure */
	assert_int_equal(host_read_irq_affinity(h, 999, &aff, &eff, &has), -ENOENT);
	assert_cpus(&aff, "0-15");
	assert_false(has);

	assert_int_equal(host_read_cpumask(h, HOST_CPUMASK_IRQ_DEFAULT, &m), 0);
	assert_cpus(&m, "0-15");
	assert_int_equal(host_read_cpumask(h, HOST_CPUMASK_WORKQUEUE, &m), 0);
	assert_cpus(&m, "0-15");
	unlink_in(t, "sys/devices/virtual/workqueue/cpumask");
	assert_int_equal(host_read_cpumask(h, HOST_CPUMASK_WORKQUEUE, &m), -ENOENT);
	assert_cpus(&m, "0-15");

	assert_int_equal(host_read_thread(h, 2201, 2205, &now), 0);
	assert_cpus(&now.cpus, "0-15");
	assert_int_equal(now.policy, 0);
	assert_int_equal(now.rt_priority, 0);
	assert_int_equal(now.starttime, 7615);
	assert_int_equal(now.flags, 4194368);
	assert_string_equal(now.comm, "CPU 0/KVM");
	cpuset_free(&now.cpus);
	assert_int_equal(host_read_thread(h, 3105, 3105, &now), 0);
	assert_string_equal(now.comm, "(sd-pam)");
	assert_int_equal(now.starttime, 10315);
	cpuset_free(&now.cpus);
	assert_int_equal(host_read_thread(h, 88, 88, &now), 0);
	assert_int_equal(now.policy, SCHED_FIFO);
	assert_int_equal(now.rt_priority, 50);
	cpuset_free(&now.cpus);
	assert_int_equal(host_read_thread(h, 2201, 9999, &now), -ESRCH);
	assert_int_equal(host_read_thread(h, 2301, 2205, &now), -ESRCH);
	put(t, "proc/2201/task/2206/status", "");
	assert_int_equal(host_read_thread(h, 2201, 2206, &now), -ESRCH);
	/* a scheduling read-back reads stat alone */
	assert_int_equal(host_read_thread_ex(h, 2201, 2206, 0, &now), 0);
	assert_string_equal(now.comm, "CPU 1/KVM");
	assert_true(cpuset_empty(&now.cpus));
	unlink_in(t, "proc/2201/task/2206/stat");
	assert_int_equal(host_read_thread(h, 2201, 2206, &now), -ESRCH);

	assert_int_equal(host_read_boot_id(h, &id), 0);
	assert_string_equal(id, "8d0b6c2e-4f1a-4d7e-9b3a-2c5e7f901a11");
	free(id);
	unlink_in(t, "proc/sys/kernel/random/boot_id");
	id = NULL;
	assert_int_equal(host_read_boot_id(h, &id), -ENOENT);
	assert_null(id);

	cpuset_free(&aff);
	cpuset_free(&eff);
	cpuset_free(&m);
	host_free(h);
	drop_tree(t);

	/* kvm16-rt's workqueue cpumask leaves out the isolated CPUs. */
	t = copy_tree("kvm16-rt");
	h = open_tree(t);
	assert_int_equal(host_read_cpumask(h, HOST_CPUMASK_WORKQUEUE, &m), 0);
	assert_cpus(&m, "0-3,8-15");
	cpuset_free(&m);
	assert_int_equal(host_read_boot_id(h, &id), 0);
	assert_string_not_equal(id, "8d0b6c2e-4f1a-4d7e-9b3a-2c5e7f901a11");
	free(id);
	host_free(h);
	drop_tree(t);
}

/* The single reads on the running kernel agree with the kernel. */
static void test_live_reads(void **state)
{
	struct host *h = NULL;
	struct thread_now me;
	char *id = NULL, *raw = NULL;
	size_t len;

	(void)state;
	assert_int_equal(host_open(NULL, &h), 0);
	assert_int_equal(host_read_boot_id(h, &id), 0);
	assert_int_equal(util_read_at(AT_FDCWD, "/proc/sys/kernel/random/boot_id", 4096, &raw, &len), 0);
	assert_string_equal(id, util_strip(raw));
	assert_int_equal(strlen(id), 36);
	free(id);
	free(raw);

	assert_int_equal(host_read_thread(h, getpid(), gettid(), &me), 0);
	assert_true(kernel_cpus_equal(gettid(), &me.cpus));
	assert_int_equal(me.policy, sched_getscheduler(0));
	assert_true(me.starttime > 0);
	assert_false(me.flags & HOST_PF_KTHREAD);
	cpuset_free(&me.cpus);
	host_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sysctl_path),
	    cmocka_unit_test(test_read),
	    cmocka_unit_test(test_reads),
	    cmocka_unit_test(test_live_reads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
