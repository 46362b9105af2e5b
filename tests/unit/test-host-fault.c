/* Unit tests of fault injection: every errno by name or number, malformed
 * specs, targets, and faults as an option of opening a tree. */
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

/* ---- Faults ---- */

struct errno_name {
	const char *name;
	int err;
};

static const struct errno_name errno_names[] = {
    {"EIO", EIO},	{"EPERM", EPERM}, {"EINVAL", EINVAL}, {"ESRCH", ESRCH},	  {"EACCES", EACCES}, {"EBUSY", EBUSY},
    {"ENOSPC", ENOSPC}, {"EROFS", EROFS}, {"ENOENT", ENOENT}, {"ENODEV", ENODEV}, {"5", 5},	      {"22", 22},
};

static const char *const bad_specs[] = {
    "irq/x=EIO",      "irq/=EIO",      "irq/1=",	  "irq/1",	   "=EIO",
    "tid/0=EIO",      "tid/5/foo=EIO", "tid//sched=EIO",  "tid/x=EIO",	   "cpumask/nope=EIO",
    "kernel.x=ENOPE", "kernel.x=0",    "kernel.x=-5",	  "kernel.x=4096", "Kernel.X=EIO",
    "irq/1=EIO junk", "irq/-1=EIO",    "irq/+1=EIO",	  "irq/1==EIO",	   "irq/1=eio",
    "../x=EIO",	      "a/b=EIO",       "irq/1=EIO tid/1",
};

static void test_faults(void **state)
{
	char *t = kvm16();
	struct host *h = open_tree(t);
	struct cpuset s = cpus_of("6-7");

	(void)state;
	/* Every errno name, and numbers. */
	for (size_t i = 0; i < ARRAY_SIZE(errno_names); i++) {
		char spec[64];
		snprintf(spec, sizeof(spec), "irq/133=%s", errno_names[i].name);
		assert_int_equal(host_set_faults(h, spec), 0);
		assert_int_equal(h->n_faults, 1);
		assert_int_equal(host_write_irq_affinity(h, 133, &s), -errno_names[i].err);
	}

	/* Malformed specs set nothing and keep the faults in force. */
	assert_int_equal(host_set_faults(h, "irq/151=EIO tid/2205/sched=EPERM kernel.numa_balancing=EACCES "
					    "cpumask/workqueue=EINVAL"),
			 0);
	assert_int_equal(h->n_faults, 4);
	for (size_t i = 0; i < ARRAY_SIZE(bad_specs); i++) {
		int r = host_set_faults(h, bad_specs[i]);
		if (r != -EINVAL)
			fail_msg("\"%s\": got %d, want -EINVAL", bad_specs[i], r);
		assert_int_equal(h->n_faults, 4);
	}
	/* A fault on one kind of write to a thread leaves the other alone. */
	assert_int_equal(host_set_thread_sched(h, 2201, 2205, SCHED_FIFO, 10), -EPERM);
	assert_int_equal(host_set_thread_affinity(h, 2201, 2205, &s), 0);
	/* Other targets are not faulted. */
	assert_int_equal(host_write_irq_affinity(h, 133, &s), 0);
	assert_int_equal(host_write_irq_affinity(h, 151, &s), -EIO);

	/* Empty specs clear. */
	assert_int_equal(host_set_faults(h, " ,\t\n"), 0);
	assert_int_equal(h->n_faults, 0);
	assert_int_equal(host_set_faults(h, "tid/7/affinity=EBUSY,cpumask/irq_default=ENODEV net.core.rtnet_prio=5"),
			 0);
	assert_int_equal(h->n_faults, 3);
	assert_int_equal(host_set_faults(h, NULL), 0);
	assert_int_equal(h->n_faults, 0);
	assert_int_equal(host_write_irq_affinity(h, 151, &s), 0);

	cpuset_free(&s);
	host_free(h);
	drop_tree(t);
}

static int unset_faults_env(void **state)
{
	(void)state;
	return unsetenv(HOST_FAULTS_ENV);
}

/* Faults are an option of opening a tree; the engine reads no environment
 * (the front doors pass ISOLATED_TREE_FAULTS). */
static void test_faults_option(void **state)
{
	const struct host_options two = {.faults = "irq/133=EIO kernel.timer_migration=EPERM"};
	const struct host_options bad = {.faults = "irq/133=EIO tid/abc=EPERM"};
	char *t = kvm16();
	struct host *h = NULL, *k = NULL;
	struct cpuset s = cpus_of("6-7");

	(void)state;
	assert_int_equal(host_open_ex(t, &two, &h), 0);
	assert_int_equal(h->n_faults, 2);
	assert_int_equal(host_write_irq_affinity(h, 133, &s), -EIO);
	assert_int_equal(host_write_sysctl(h, "kernel.timer_migration", "0"), -EPERM);
	assert_int_equal(host_write_sysctl(h, "kernel.numa_balancing", "0"), 0);
	host_free(h);

	h = (void *)0x1;
	assert_int_equal(host_open_ex(t, &bad, &h), -EINVAL);
	assert_ptr_equal(h, (void *)0x1);
	/* The running kernel ignores them, malformed or not. */
	assert_int_equal(host_open_ex(NULL, &bad, &k), 0);
	assert_int_equal(k->n_faults, 0);
	host_free(k);

	/* The variable alone does nothing. */
	assert_int_equal(setenv(HOST_FAULTS_ENV, two.faults, 1), 0);
	h = open_tree(t);
	assert_int_equal(h->n_faults, 0);
	host_free(h);
	assert_int_equal(host_open_ex(t, &(struct host_options){0}, &h), 0);
	assert_int_equal(h->n_faults, 0);
	host_free(h);
	cpuset_free(&s);
	drop_tree(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_faults),
	    cmocka_unit_test_teardown(test_faults_option, unset_faults_env),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
