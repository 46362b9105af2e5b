/* Unit tests of actions' vocabulary (lib/action.c): the kinds' names, the
 * values of each kind parsed (as values and as policy rules write them),
 * formatted, checked and compared, as tables of cases. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "isolated/action.h"
#include "isolated/util.h"

static void test_kinds(void **state)
{
	(void)state;
	assert_false(action_kind_is_thread(ACTION_SYSCTL));
	assert_false(action_kind_is_thread(ACTION_IRQ_AFFINITY));
	assert_true(action_kind_is_thread(ACTION_THREAD_AFFINITY));
	assert_true(action_kind_is_thread(ACTION_THREAD_SCHED));
	assert_false(action_kind_is_thread(ACTION_CPUMASK));
	assert_false(action_kind_is_cpulist(ACTION_SYSCTL));
	assert_true(action_kind_is_cpulist(ACTION_IRQ_AFFINITY));
	assert_true(action_kind_is_cpulist(ACTION_THREAD_AFFINITY));
	assert_false(action_kind_is_cpulist(ACTION_THREAD_SCHED));
	assert_true(action_kind_is_cpulist(ACTION_CPUMASK));
	assert_false(action_kind_is_thread(ACTION_SYSFS));
	assert_false(action_kind_is_cpulist(ACTION_SYSFS)); /* its values are text, a cpumask file's too */
}

static void test_sched(void **state)
{
	static const struct {
		const char *s;
		int r, policy, prio;
	} cases[] = {
	    {"other", 0, SCHED_OTHER, 0},   {"batch", 0, SCHED_BATCH, 0},
	    {"idle", 0, SCHED_IDLE, 0},	    {"fifo:1", 0, SCHED_FIFO, 1},
	    {"fifo:99", 0, SCHED_FIFO, 99}, {"rr:5", 0, SCHED_RR, 5},
	    {"fifo:0", -EINVAL, 0, 0},	    {"fifo:100", -EINVAL, 0, 0},
	    {"rr:", -EINVAL, 0, 0},	    {"fifo", -EINVAL, 0, 0},
	    {"deadline", -EINVAL, 0, 0},    {"policy7:0", -EINVAL, 0, 0},
	    {"Other", -EINVAL, 0, 0},	    {"", -EINVAL, 0, 0},
	    {"fifo: 5", -EINVAL, 0, 0},	    {"fifo:5 ", -EINVAL, 0, 0},
	    {"other ", -EINVAL, 0, 0},	    {"0-3", -EINVAL, 0, 0},
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		int policy = -7, prio = -7;
		int r = action_sched_parse(cases[i].s, &policy, &prio);

		if (r != cases[i].r)
			fail_msg("\"%s\": %d, wanted %d", cases[i].s, r, cases[i].r);
		if (r < 0) {
			assert_int_equal(policy, -7);
			continue;
		}
		assert_int_equal(policy, cases[i].policy);
		assert_int_equal(prio, cases[i].prio);
		/* what parses formats back to itself */
		{
			char *s = action_sched_format(policy, prio);

			assert_string_equal(s, cases[i].s);
			free(s);
		}
	}
	/* the policies isolated does not set have a name, and do not parse */
	{
		char *d = action_sched_format(SCHED_DEADLINE, 0), *x = action_sched_format(SCHED_EXT, 3);

		assert_string_equal(d, "deadline");
		assert_string_equal(x, "policy7:3");
		free(d);
		free(x);
	}
}

/* As a policy rule writes it: the rule's three policies, its messages. */
static void test_sched_rule(void **state)
{
	static const struct {
		const char *s;
		int r, policy, prio;
		const char *err;
	} cases[] = {
	    {"other", 0, SCHED_OTHER, 0, ""},
	    {"fifo:50", 0, SCHED_FIFO, 50, ""},
	    {"rr:1", 0, SCHED_RR, 1, ""},
	    {"fifo:05", 0, SCHED_FIFO, 5, ""}, /* a rule may spell it so; its value is fifo:5 */
	    {"fifo", -EINVAL, 0, 0, "missing priority in \"fifo\" (expected fifo:N, N in 1..99)"},
	    {"rr:", -EINVAL, 0, 0, "missing priority in \"rr:\" (expected rr:N, N in 1..99)"},
	    {"batch", -EINVAL, 0, 0, "invalid scheduling \"batch\" (expected fifo:N, rr:N or other)"},
	    {"idle", -EINVAL, 0, 0, "invalid scheduling \"idle\" (expected fifo:N, rr:N or other)"},
	    {"deadline", -EINVAL, 0, 0, "invalid scheduling \"deadline\" (expected fifo:N, rr:N or other)"},
	    {"other:5", -EINVAL, 0, 0, "invalid scheduling \"other:5\" (expected fifo:N, rr:N or other)"},
	    {"fifo:+5", -EINVAL, 0, 0, "invalid priority \"+5\" in \"fifo:+5\""},
	    {"fifo:x", -EINVAL, 0, 0, "invalid priority \"x\" in \"fifo:x\""},
	    {"fifo:0", -ERANGE, 0, 0, "priority 0 out of range 1..99"},
	    {"rr:-3", -ERANGE, 0, 0, "priority -3 out of range 1..99"},
	    {"fifo:99999999", -ERANGE, 0, 0, "priority 99999999 out of range 1..99"},
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		int policy = -7, prio = -7;
		char err[160] = "";
		int r = action_sched_parse_rule(cases[i].s, &policy, &prio, err, sizeof(err));

		if (r != cases[i].r)
			fail_msg("\"%s\": %d, wanted %d (%s)", cases[i].s, r, cases[i].r, err);
		assert_string_equal(err, cases[i].err);
		if (r < 0) {
			assert_int_equal(policy, -7);
			continue;
		}
		assert_int_equal(policy, cases[i].policy);
		assert_int_equal(prio, cases[i].prio);
	}
}

/* Every policy number: its value, how a report shows it, whether it has a
 * value to put back. */
static void test_sched_names(void **state)
{
	static const struct {
		int policy, prio;
		const char *value, *shown;
		bool has_value;
	} cases[] = {
	    {SCHED_OTHER, 0, "other", "other", true},
	    {SCHED_FIFO, 80, "fifo:80", "fifo:80", true},
	    {SCHED_RR, 2, "rr:2", "rr:2", true},
	    {SCHED_BATCH, 0, "batch", "batch", true},
	    {SCHED_ISO, 0, "policy4:0", "iso", false},
	    {SCHED_IDLE, 0, "idle", "idle", true},
	    {SCHED_DEADLINE, 0, "deadline", "deadline", false},
	    {SCHED_EXT, 3, "policy7:3", "?", false},
	    {-1, 0, "policy-1:0", "?", false},
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char buf[ACTION_SCHED_MAX], *v = action_sched_format(cases[i].policy, cases[i].prio),
					    *d = action_sched_describe(cases[i].policy, cases[i].prio);

		assert_string_equal(v, cases[i].value);
		assert_string_equal(action_sched_name(cases[i].policy, cases[i].prio, buf), cases[i].value);
		assert_string_equal(d, cases[i].shown);
		assert_int_equal(action_sched_has_value(cases[i].policy), cases[i].has_value);
		free(v);
		free(d);
	}
	{
		char buf[ACTION_SCHED_MAX];

		assert_string_equal(action_sched_name(INT32_MAX, INT32_MIN, buf), "policy2147483647:-2147483648");
	}
}

/* Each kind: a value formatted from what it parses to is one the kind
 * accepts, as it is; bad values are refused with what they are not. */
static void test_value_check(void **state)
{
	static const struct {
		enum action_kind kind;
		const char *value;
		int r;
		const char *why;
	} cases[] = {
	    {ACTION_SYSCTL, "1", 0, ""},
	    {ACTION_SYSCTL, "4096 87380 6291456", 0, ""},
	    {ACTION_SYSCTL, "1\n", -EINVAL, "a sysctl value (it has a newline)"},
	    {ACTION_IRQ_AFFINITY, "0-3,8", 0, ""},
	    {ACTION_THREAD_AFFINITY, "", 0, ""},
	    {ACTION_CPUMASK, "0-x", -EINVAL, "a CPU list (unexpected 'x' at position 3 in \"0-x\")"},
	    {ACTION_THREAD_SCHED, "rr:7", 0, ""},
	    {ACTION_THREAD_SCHED, "idle", 0, ""},
	    {ACTION_THREAD_SCHED, "fifo:050", -EINVAL, "the canonical form fifo:50"},
	    {ACTION_THREAD_SCHED, "rr:+7", -EINVAL, "the canonical form rr:7"},
	    {ACTION_THREAD_SCHED, "deadline", -EINVAL,
	     "a scheduling value (other, batch, idle, fifo:N or rr:N with N in 1..99)"},
	    {ACTION_SYSFS, "never", 0, ""},
	    {ACTION_SYSFS, "always madvise", 0, ""},
	    {ACTION_SYSFS, "", 0, ""}, /* [sysfs] refuses it; the kind does not */
	    {ACTION_SYSFS, "rt\x1b[2J", -EINVAL, "a sysfs value (it has a control character)"},
	    {ACTION_SYSFS, "1\n", -EINVAL, "a sysfs value (it has a control character)"},
	    {ACTION_SYSFS, "a\tb", -EINVAL, "a sysfs value (it has a control character)"},
	    {ACTION_SYSFS, "\x7f", -EINVAL, "a sysfs value (it has a control character)"},
	    {_ACTION_KIND_MAX, "1", -EINVAL, "a value of a known kind"},
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char why[200] = "";
		int r = action_value_check(cases[i].kind, cases[i].value, why, sizeof(why));

		if (r != cases[i].r)
			fail_msg("case %zu \"%s\": %d, wanted %d (%s)", i, cases[i].value, r, cases[i].r, why);
		assert_string_equal(why, cases[i].why);
	}
	/* round trips: parse, format, and the kind takes the result as it is */
	{
		static const char *const scheds[] = {"other", "batch", "idle", "fifo:1", "fifo:99", "rr:42"};
		struct cpuset set = CPUSET_INIT;
		char why[200], *s;

		for (size_t i = 0; i < ARRAY_SIZE(scheds); i++) {
			int policy, prio;

			assert_int_equal(action_sched_parse(scheds[i], &policy, &prio), 0);
			s = action_sched_format(policy, prio);
			assert_string_equal(s, scheds[i]);
			assert_int_equal(action_value_check(ACTION_THREAD_SCHED, s, why, sizeof(why)), 0);
			assert_true(action_value_equal(ACTION_THREAD_SCHED, s, scheds[i]));
			free(s);
		}
		assert_int_equal(action_cpus_parse("8,0-3,2", &set), 0);
		s = action_cpus_format(&set);
		assert_string_equal(s, "0-3,8");
		assert_int_equal(action_value_check(ACTION_IRQ_AFFINITY, s, why, sizeof(why)), 0);
		assert_true(action_value_equal(ACTION_IRQ_AFFINITY, s, "8,0-3,2"));
		free(s);
		cpuset_free(&set);
	}
}

static void test_kind_names(void **state)
{
	static const struct {
		enum action_kind kind;
		const char *name, *noun;
	} cases[] = {
	    {ACTION_SYSCTL, "sysctl", "sysctl"},
	    {ACTION_IRQ_AFFINITY, "irq-affinity", "IRQ affinity"},
	    {ACTION_THREAD_AFFINITY, "thread-affinity", "affinity"},
	    {ACTION_THREAD_SCHED, "thread-sched", "scheduling"},
	    {ACTION_CPUMASK, "cpumask", "cpumask"},
	    {ACTION_SYSFS, "sysfs", "sysfs attribute"},
	    {_ACTION_KIND_MAX, "?", "value"},
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		assert_string_equal(action_kind_name(cases[i].kind), cases[i].name);
		assert_string_equal(action_kind_noun(cases[i].kind), cases[i].noun);
		if (cases[i].kind != _ACTION_KIND_MAX) {
			enum action_kind k = _ACTION_KIND_MAX;

			assert_int_equal(action_kind_parse(cases[i].name, &k), 0);
			assert_int_equal(k, cases[i].kind);
		}
	}
	for (const char *const *bad = (const char *const[]){"?", "", "IRQ affinity", "sysctl ", NULL}; *bad; bad++) {
		enum action_kind k;

		assert_int_equal(action_kind_parse(*bad, &k), -EINVAL);
	}
	{
		enum action_kind k = ACTION_SYSCTL;

		assert_int_equal(action_kind_parse("sysfs attribute", &k), -EINVAL); /* the noun is not a name */
		assert_int_equal(action_kind_parse("SYSFS", &k), -EINVAL);
		assert_int_equal(k, ACTION_SYSCTL);
	}
}

static void test_cpus(void **state)
{
	struct cpuset set = CPUSET_INIT;
	char *s;

	(void)state;
	assert_int_equal(action_cpus_parse("3,0-1", &set), 0);
	s = action_cpus_format(&set);
	assert_string_equal(s, "0-1,3");
	free(s);
	assert_int_equal(action_cpus_parse("0-x", &set), -EINVAL);
	s = action_cpus_format(&set); /* untouched on failure */
	assert_string_equal(s, "0-1,3");
	free(s);
	assert_int_equal(action_cpus_parse("", &set), 0);
	s = action_cpus_format(&set);
	assert_string_equal(s, "");
	free(s);
	cpuset_free(&set);
}

static void test_equal(void **state)
{
	static const struct {
		enum action_kind kind;
		const char *a, *b;
		bool eq;
	} cases[] = {
	    {ACTION_SYSCTL, "1", "1", true},
	    {ACTION_SYSCTL, "01", "1", true}, /* numbers as numbers */
	    {ACTION_SYSCTL, "-1", "1", false},
	    {ACTION_SYSCTL, "4096\t87380  6291456", "4096 87380 6291456", true},
	    {ACTION_SYSCTL, " a b ", "a b", true},
	    {ACTION_SYSCTL, "a b", "ab", false},
	    {ACTION_SYSCTL, "a", "ab", false},
	    {ACTION_SYSCTL, "", "", true},
	    {ACTION_IRQ_AFFINITY, "0-3", "0,1,2,3", true},
	    {ACTION_THREAD_AFFINITY, "0-3", "0-2", false},
	    {ACTION_CPUMASK, " 2\n", "2", true},
	    {ACTION_CPUMASK, "x", "x", true}, /* not a list: as strings */
	    {ACTION_CPUMASK, "x", "0", false},
	    {ACTION_THREAD_SCHED, "fifo:5", "fifo:5", true},
	    {ACTION_THREAD_SCHED, "fifo:5", "fifo:05", false},
	    {ACTION_THREAD_SCHED, "other", "batch", false},
	    {ACTION_SYSFS, "never", "never", true},
	    {ACTION_SYSFS, "never", "madvise", false},
	    {ACTION_SYSFS, "never\n", " never", true}, /* white space as a sysctl's */
	    {ACTION_SYSFS, "0", "00", true},	       /* numbers as numbers */
	    /* Hex masks, as the kernel prints a workqueue's cpumask (every CPU's
	     * digit, a comma every 32 bits): leading zeros and commas do not count. */
	    {ACTION_SYSFS, "ffff", "0ffff", true},
	    {ACTION_SYSFS, "3f", "0000003f", true},
	    {ACTION_SYSFS, "1,00000000", "100000000", true},
	    {ACTION_SYSFS, "FF3F", "ff3f", true},
	    {ACTION_SYSFS, "ff3f", "ff3e", false},
	    {ACTION_SYSFS, "10", "100", false},
	    {ACTION_SYSFS, "ff", "0xff", false},
	    {ACTION_SYSFS, "0", "0,00000000", true},
	    {ACTION_SYSFS, "performance", "Performance", false},
	    {ACTION_SYSFS, "always madvise [never]", "never", false}, /* compare action_sysfs_value's */
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		if (action_value_equal(cases[i].kind, cases[i].a, cases[i].b) != cases[i].eq ||
		    action_value_equal(cases[i].kind, cases[i].b, cases[i].a) != cases[i].eq)
			fail_msg("case %zu: \"%s\" vs \"%s\": wanted %s", i, cases[i].a, cases[i].b,
				 cases[i].eq ? "equal" : "different");
	}
	assert_true(action_value_equal(ACTION_SYSCTL, NULL, NULL));
	assert_false(action_value_equal(ACTION_SYSCTL, NULL, "1"));
	assert_false(action_value_equal(ACTION_CPUMASK, "1", NULL));
	assert_false(action_value_equal(ACTION_SYSFS, NULL, "never"));
}

static void test_cpumask_which(void **state)
{
	enum host_cpumask w = (enum host_cpumask) - 1;

	(void)state;
	assert_int_equal(action_cpumask_which("cpumask/irq_default", &w), 0);
	assert_int_equal(w, HOST_CPUMASK_IRQ_DEFAULT);
	assert_int_equal(action_cpumask_which("cpumask/workqueue", &w), 0);
	assert_int_equal(w, HOST_CPUMASK_WORKQUEUE);
	assert_int_equal(action_cpumask_which("cpumask/other", &w), -EINVAL);
	assert_int_equal(action_cpumask_which("cpumask/workqueue/", &w), -EINVAL);
	assert_int_equal(action_cpumask_which("", &w), -EINVAL);
	assert_int_equal(w, HOST_CPUMASK_WORKQUEUE);
}

static void test_targets(void **state)
{
	static const struct {
		enum action_kind kind;
		const char *target;
		unsigned irq;
		pid_t tid;
		const char *canonical; /* NULL: not valid for the kind */
	} cases[] = {
	    {ACTION_SYSCTL, "kernel.timer_migration", 0, 0, "kernel.timer_migration"},
	    {ACTION_SYSCTL, "net.core.rtnet_prio", 7, 8, "net.core.rtnet_prio"}, /* irq, tid ignored */
	    {ACTION_SYSCTL, "tid/../../../etc", 0, 0, NULL},
	    {ACTION_SYSCTL, "kernel..x", 0, 0, NULL},
	    {ACTION_SYSCTL, ".kernel.x", 0, 0, NULL},
	    {ACTION_SYSCTL, "Kernel.X", 0, 0, NULL},
	    {ACTION_SYSCTL, "", 0, 0, NULL},
	    {ACTION_CPUMASK, "cpumask/irq_default", 0, 0, "cpumask/irq_default"},
	    {ACTION_CPUMASK, "cpumask/workqueue", 0, 0, "cpumask/workqueue"},
	    {ACTION_CPUMASK, "cpumask/../workqueue", 0, 0, NULL},
	    {ACTION_IRQ_AFFINITY, "irq/41", 41, 0, "irq/41"},
	    {ACTION_IRQ_AFFINITY, "irq/041", 41, 0, "irq/41"}, /* built from irq alone */
	    {ACTION_IRQ_AFFINITY, "", 0, 5, "irq/0"},
	    {ACTION_IRQ_AFFINITY, NULL, 4294967295u, 0, "irq/4294967295"},
	    {ACTION_THREAD_AFFINITY, "tid/02205", 0, 2205, "tid/2205"},
	    {ACTION_THREAD_SCHED, "tid/../../../etc", 41, 1, "tid/1"},
	    {ACTION_THREAD_SCHED, "tid/0", 0, 0, NULL},
	    {ACTION_THREAD_AFFINITY, "tid/-3", 0, -3, NULL},
	    {ACTION_SYSFS, "sysfs/kernel/mm/ksm/run", 3, 4, "sysfs/kernel/mm/ksm/run"},
	    {ACTION_SYSFS, "sysfs/devices/system/cpu/cpu6/power/pm_qos_resume_latency_us", 0, 0,
	     "sysfs/devices/system/cpu/cpu6/power/pm_qos_resume_latency_us"},
	    {ACTION_SYSFS, "kernel/mm/ksm/run", 0, 0, NULL}, /* the path, not the target */
	    {ACTION_SYSFS, "sysfs//sys/kernel/mm/ksm/run", 0, 0, NULL},
	    {ACTION_SYSFS, "sysfs/kernel/mm/../../../etc/shadow", 0, 0, NULL},
	    {ACTION_SYSFS, "sysfs/devices/virtual/workqueue/cpumask", 0, 0, NULL},
	    {ACTION_SYSFS, "sysfs/class/net/eth0/mtu", 0, 0, NULL},
	    {ACTION_SYSFS, "sysfs/", 0, 0, NULL},
	    {ACTION_SYSFS, "sysctl/kernel/mm/ksm/run", 0, 0, NULL},
	    {ACTION_SYSFS, "", 0, 0, NULL},
	    {ACTION_SYSCTL, "sysfs/kernel/mm/ksm/run", 0, 0, NULL},
	    {_ACTION_KIND_MAX, "tid/1", 0, 1, NULL},
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char buf[ACTION_TARGET_ID_MAX];
		const char *t =
		    action_canonical_target(cases[i].kind, cases[i].target, cases[i].irq, cases[i].tid, buf);

		if (!t || !cases[i].canonical) {
			if (t != cases[i].canonical)
				fail_msg("case %zu (%s): \"%s\", wanted %s", i,
					 cases[i].target ? cases[i].target : "NULL", t ? t : "NULL",
					 cases[i].canonical ? cases[i].canonical : "NULL");
			continue;
		}
		assert_string_equal(t, cases[i].canonical);
	}
	/* the builders the planner uses are the same spelling */
	{
		char *a = action_irq_target(9), *b = action_tid_target(2205);

		assert_string_equal(a, "irq/9");
		assert_string_equal(b, "tid/2205");
		free(a);
		free(b);
	}
	assert_string_equal(action_cpumask_target(HOST_CPUMASK_IRQ_DEFAULT), "cpumask/irq_default");
	assert_string_equal(action_cpumask_target(HOST_CPUMASK_WORKQUEUE), "cpumask/workqueue");
	/* a sysfs target is the one it was given, not a copy */
	{
		static const char t[] = "sysfs/kernel/mm/ksm/run";
		char buf[ACTION_TARGET_ID_MAX];

		assert_ptr_equal(action_canonical_target(ACTION_SYSFS, t, 0, 0, buf), t);
	}
}

/* [sysfs] paths: one accepted under each subtree, and every refusal with
 * the reason that follows "sysfs path \"PATH\" is not ". */
static void test_sysfs_path_check(void **state)
{
	static const char outside[] = "under a subtree isolated sets (kernel/mm/transparent_hugepage, kernel/mm/ksm, "
				      "devices/system/cpu/cpuN/cpufreq, devices/system/cpu/cpuN/power, "
				      "devices/virtual/workqueue/*, bus/workqueue/devices/*, module/*/parameters)";
	static const char component[] = "a path of names under /sys (no empty, \".\" or \"..\" component)";
	static const char chars[] = "a path of names under /sys (letters, digits, _ . : - and /)";
	static const struct {
		const char *path;
		const char *why; /* "": accepted */
	} cases[] = {
	    {"kernel/mm/transparent_hugepage/enabled", ""},
	    {"kernel/mm/transparent_hugepage/khugepaged/defrag", ""},
	    {"kernel/mm/ksm/run", ""},
	    {"devices/system/cpu/cpu7/cpufreq/scaling_governor", ""},
	    {"devices/system/cpu/cpu0/cpufreq/energy_performance_preference", ""},
	    {"devices/system/cpu/cpu12/power/pm_qos_resume_latency_us", ""},
	    {"devices/virtual/workqueue/writeback/cpumask", ""},
	    {"bus/workqueue/devices/writeback/cpumask", ""},
	    {"module/kvm/parameters/halt_poll_ns", ""},
	    {"module/kvm_intel/parameters/ple_gap", ""},
	    {"/sys/kernel/mm/ksm/run", "relative to /sys (write kernel/mm/ksm/run, not /sys/kernel/mm/ksm/run)"},
	    {"/kernel/mm/ksm/run", "relative to /sys (write kernel/mm/ksm/run, not /sys/kernel/mm/ksm/run)"},
	    {"kernel/mm/../ksm/run", component},
	    {"kernel/mm/ksm/..", component},
	    {"kernel/mm/./ksm/run", component},
	    {"kernel//mm", component},
	    {"kernel/mm/ksm/run/", component},
	    {"", component},
	    {"kernel/mm/ksm", outside}, /* the subtree itself, not a file under it */
	    {"kernel/mm/transparent_hugepage", outside},
	    {"kernel/mm", outside},
	    {"devices/system/cpu/cpu01/power/x", outside}, /* a CPU is named without leading zeros */
	    {"devices/system/cpu/cpu/power/x", outside},
	    {"devices/system/cpu/cpu6-7/power/x", outside}, /* [sysfs] expands a list before the check */
	    {"devices/system/cpu/cpufreq/policy0/scaling_governor", outside},
	    {"devices/system/cpu/cpu3/online", outside},
	    {"devices/virtual/workqueue/cpumask", "set here ([cpumask] workqueue sets it)"},
	    {"kernel/mm/ksm/run$x", chars},
	    {"kernel/mm/ksm/run x", chars},
	    {"kernel/mm/ksm/r\xc3\xbcn", chars},
	    {"class/net/eth0/mtu", outside},
	    {"module/kvm/halt_poll_ns", outside},
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char why[512] = "";
		int r = action_sysfs_path_check(cases[i].path, why, sizeof(why));

		if (r != (*cases[i].why ? -EINVAL : 0))
			fail_msg("\"%s\": %d (%s)", cases[i].path, r, why);
		assert_string_equal(why, cases[i].why);
	}
}

/* An attribute's value as read: the choice in brackets, else the text. */
static void test_sysfs_value(void **state)
{
	static const struct {
		const char *raw, *value;
	} cases[] = {
	    {"always madvise [never]", "never"},
	    {"[always] madvise never", "always"},
	    {"always [madvise] never\n", "madvise"},
	    {"[ never ]", "never"},
	    {"[a] [b]", "a"}, /* the first */
	    {"performance", "performance"},
	    {"0\n", "0"},
	    {" \t 100 \n", "100"},
	    {"ffff", "ffff"},
	    {"a b", "a b"},
	    {"", ""},
	    {"\n", ""},
	    {"[]", "[]"}, /* nothing between the brackets: the text */
	    {"a [] b", "a [] b"},
	    {"always [madvise", "always [madvise"}, /* no closing bracket: the text */
	    {"never] always", "never] always"},
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char *v = action_sysfs_value(cases[i].raw);

		assert_non_null(v);
		if (strcmp(v, cases[i].value) != 0)
			fail_msg("case %zu: \"%s\", wanted \"%s\"", i, v, cases[i].value);
		free(v);
	}
}

/* "sysfs/PATH" and back. */
static void test_sysfs_target(void **state)
{
	static const char *const paths[] = {"kernel/mm/ksm/run",
					    "devices/system/cpu/cpu12/power/pm_qos_resume_latency_us",
					    "module/kvm/parameters/halt_poll_ns"};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(paths); i++) {
		char *t = action_sysfs_target(paths[i]), buf[ACTION_TARGET_ID_MAX];

		assert_non_null(t);
		assert_true(strncmp(t, "sysfs/", 6) == 0);
		assert_string_equal(action_sysfs_path(t), paths[i]);
		assert_string_equal(action_canonical_target(ACTION_SYSFS, t, 0, 0, buf), t);
		free(t);
	}
	assert_null(action_sysfs_path("kernel.timer_migration"));
	assert_null(action_sysfs_path("cpumask/workqueue"));
	assert_null(action_sysfs_path("sysfs"));
	assert_null(action_sysfs_path("sysfsx/kernel/mm/ksm/run"));
	assert_null(action_sysfs_path(""));
	assert_string_equal(action_sysfs_path("sysfs/"), "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_kinds),
	    cmocka_unit_test(test_sched),
	    cmocka_unit_test(test_sched_rule),
	    cmocka_unit_test(test_sched_names),
	    cmocka_unit_test(test_cpus),
	    cmocka_unit_test(test_value_check),
	    cmocka_unit_test(test_equal),
	    cmocka_unit_test(test_cpumask_which),
	    cmocka_unit_test(test_targets),
	    cmocka_unit_test(test_kind_names),
	    cmocka_unit_test(test_sysfs_path_check),
	    cmocka_unit_test(test_sysfs_value),
	    cmocka_unit_test(test_sysfs_target),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
