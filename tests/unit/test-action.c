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
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_kinds),      cmocka_unit_test(test_sched),
	    cmocka_unit_test(test_sched_rule), cmocka_unit_test(test_sched_names),
	    cmocka_unit_test(test_cpus),       cmocka_unit_test(test_value_check),
	    cmocka_unit_test(test_equal),      cmocka_unit_test(test_cpumask_which),
	    cmocka_unit_test(test_targets),    cmocka_unit_test(test_kind_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
