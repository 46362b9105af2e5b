/* Unit tests of the cpuset cgroups' vocabulary (lib/cgroup.c): targets,
 * names, values compared, the order of writes, a task's cgroup line, which
 * hierarchy holds cpuset, and a partition's state, as tables of cases. */
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
#include "isolated/cgroup.h"
#include "isolated/util.h"

static void test_targets(void **state)
{
	static const struct {
		const char *target;
		int r;
		bool dir;
	} cases[] = {
	    {"cgroup/machine.slice/cpuset.cpus.exclusive", 0, false},
	    {"cgroup/machine.slice/machine-qemu\\x2d1\\x2drtvm.scope/libvirt/isolated-rt", 0, true},
	    {"cgroup/cpuset/cpuset.sched_load_balance", 0, false},
	    {"cgroup/cpuset/isolated-rt-housekeeping", 0, true},
	    {"cgroup/cgroup.subtree_control", 0, false},
	    {"cgroup/isolated", 0, true},
	    /* no directory but ours, no file but those we write */
	    {"cgroup/machine.slice", -EINVAL, false},
	    {"cgroup/machine.slice/cgroup.procs", -EINVAL, false},
	    {"cgroup/isolatedx", -EINVAL, false},
	    {"cgroup/../etc/isolated-rt", -EINVAL, false},
	    {"cgroup/a//isolated", -EINVAL, false},
	    {"cgroup/a/./isolated", -EINVAL, false},
	    {"cgroup/a b/isolated", -EINVAL, false},
	    {"cgroup/", -EINVAL, false},
	    {"sysfs/isolated", -EINVAL, false},
	};
	char why[128];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		bool dir = !cases[i].dir;
		int r = cgroup_target_check(cases[i].target, &dir, why, sizeof(why));

		if (r != cases[i].r)
			fail_msg("%s: %d, expected %d", cases[i].target, r, cases[i].r);
		if (r == 0)
			assert_int_equal(dir, cases[i].dir);
		/* the journal takes exactly these */
		assert_int_equal(action_canonical_target(ACTION_CGROUP, cases[i].target, 0, 0, NULL) != NULL, r == 0);
	}
	assert_true(cgroup_own_name("isolated-rt"));
	assert_true(cgroup_own_name("isolated.db_1"));
	assert_false(cgroup_own_name("isolatedrt"));
	assert_false(cgroup_own_name("rt"));
	assert_false(cgroup_own_name("isolated-a/b"));
	assert_true(cgroup_path_ok("/"));
	assert_true(cgroup_path_ok("/machine.slice/user@0.service"));
	assert_false(cgroup_path_ok("machine.slice"));
	assert_false(cgroup_path_ok("/a/"));
	assert_false(cgroup_path_ok("/a/../b"));
}

static void test_values(void **state)
{
	char why[128];

	(void)state;
	assert_true(cgroup_value_equal("6-7", "6,7"));
	assert_true(cgroup_value_equal("", ""));
	assert_false(cgroup_value_equal("", "6"));
	assert_true(cgroup_value_equal("cpu cpuset", "cpuset cpu"));
	/* whole words: "cpu" is not in "cpuset" */
	assert_false(cgroup_value_equal("cpu", "cpuset"));
	assert_true(cgroup_has_word("cpuset cpu\n", "cpu", 3));
	assert_false(cgroup_has_word("cpuset io", "cpu", 3));
	assert_false(cgroup_has_word("", "cpu", 3));
	assert_false(cgroup_value_equal("cpu", "cpuset cpu"));
	assert_true(cgroup_value_equal("isolated", "isolated"));
	assert_false(cgroup_value_equal("isolated", "isolated invalid (Invalid cpu list in cpuset.cpus.exclusive)"));
	assert_false(cgroup_value_equal(NULL, "x"));
	assert_int_equal(cgroup_value_check("member", why, sizeof(why)), 0);
	assert_int_equal(cgroup_value_check("a\nb", why, sizeof(why)), -EINVAL);
	assert_int_equal(action_value_check(ACTION_THREAD_CGROUP, "/isolated-rt", why, sizeof(why)), 0);
	assert_int_equal(action_value_check(ACTION_THREAD_CGROUP, "isolated-rt", why, sizeof(why)), -EINVAL);
}

/* Writes in order: a directory, its files (the partition last), then its
 * children; restores run the order backwards. */
static void test_order(void **state)
{
	static const char *const sorted[] = {
	    "cgroup/cgroup.subtree_control",
	    "cgroup/machine.slice/cgroup.subtree_control",
	    "cgroup/machine.slice/cpuset.cpus.exclusive",
	    "cgroup/machine.slice/m.scope/cpuset.cpus.exclusive",
	    "cgroup/machine.slice/m.scope/libvirt/cpuset.cpus.exclusive",
	    "cgroup/machine.slice/m.scope/libvirt/isolated-rt",
	    "cgroup/machine.slice/m.scope/libvirt/isolated-rt/cpuset.cpus",
	    "cgroup/machine.slice/m.scope/libvirt/isolated-rt/cpuset.cpus.exclusive",
	    "cgroup/machine.slice/m.scope/libvirt/isolated-rt/cpuset.cpus.partition",
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(sorted); i++)
		for (size_t j = 0; j < ARRAY_SIZE(sorted); j++) {
			int c = cgroup_target_cmp(sorted[i], sorted[j]);
			int want = i < j ? -1 : i > j ? 1 : 0;

			if ((c > 0) - (c < 0) != want)
				fail_msg("%s vs %s: %d, expected %d", sorted[i], sorted[j], c, want);
		}
}

static void test_task_path(void **state)
{
	char *p = NULL;

	(void)state;
	assert_int_equal(cgroup_task_path("0::/a/vcpu0\n", CGROUP_V2, &p), 0);
	assert_string_equal(p, "/a/vcpu0");
	free(p);
	assert_int_equal(cgroup_task_path("3:cpuset:/x/vcpu0\n1:name=systemd:/x\n0::/x\n", CGROUP_V1, &p), 0);
	assert_string_equal(p, "/x/vcpu0");
	free(p);
	assert_int_equal(cgroup_task_path("3:cpuset:/x/vcpu0\n1:name=systemd:/x\n0::/x\n", CGROUP_V2, &p), 0);
	assert_string_equal(p, "/x");
	free(p);
	/* cpuset co-mounted with others on v1 */
	assert_int_equal(cgroup_task_path("4:cpu,cpuset:/y\n", CGROUP_V1, &p), 0);
	assert_string_equal(p, "/y");
	free(p);
	/* "cpusetx" is not cpuset */
	assert_int_equal(cgroup_task_path("4:cpusetx:/y\n", CGROUP_V1, &p), 0);
	assert_null(p);
	assert_int_equal(cgroup_task_path("", CGROUP_V2, &p), 0);
	assert_null(p);
}

static void test_pick(void **state)
{
	const char *m;

	(void)state;
	assert_int_equal(cgroup_pick("cpuset cpu io memory\n", false, NULL, &m), CGROUP_V2);
	assert_string_equal(m, "sys/fs/cgroup");
	/* hybrid: cpuset on v1, the unified hierarchy without it (this VM) */
	assert_int_equal(cgroup_pick(NULL, true, "hugetlb\n", &m), CGROUP_V1);
	assert_string_equal(m, "sys/fs/cgroup/cpuset");
	assert_int_equal(cgroup_pick(NULL, false, "cpuset\n", &m), CGROUP_V2);
	assert_string_equal(m, "sys/fs/cgroup/unified");
	assert_int_equal(cgroup_pick("cpu memory\n", false, "", &m), CGROUP_NONE);
	assert_null(m);
	assert_int_equal(cgroup_pick("cpusets\n", false, NULL, &m), CGROUP_NONE);
}

/* cpuset.cpus.partition as kernels write it: 6.12 (tests/data has none:
 * the kernel's own strings, from kernel/cgroup/cpuset.c perr_strings and
 * sched_partition_show), 5.15 ("root invalid" without a reason). */
static void test_partition_state(void **state)
{
	static const struct {
		const char *text;
		int r;
		enum cgroup_partition_type type;
		bool invalid;
		const char *reason;
	} cases[] = {
	    {"member", 0, CGROUP_PARTITION_MEMBER, false, ""},
	    {"member\n", 0, CGROUP_PARTITION_MEMBER, false, ""},
	    {"root\n", 0, CGROUP_PARTITION_ROOT, false, ""},
	    {"isolated", 0, CGROUP_PARTITION_ISOLATED, false, ""},
	    {"isolated invalid (Cpu list in cpuset.cpus not exclusive)\n", 0, CGROUP_PARTITION_ISOLATED, true,
	     "Cpu list in cpuset.cpus not exclusive"},
	    {"isolated invalid (Invalid cpu list in cpuset.cpus.exclusive)", 0, CGROUP_PARTITION_ISOLATED, true,
	     "Invalid cpu list in cpuset.cpus.exclusive"},
	    /* a reason may hold parentheses of its own */
	    {"root invalid (Parent is an invalid partition root (or so))", 0, CGROUP_PARTITION_ROOT, true,
	     "Parent is an invalid partition root (or so)"},
	    {"root invalid", 0, CGROUP_PARTITION_ROOT, true, ""},
	    {"isolated invalid ()", 0, CGROUP_PARTITION_ISOLATED, true, ""},
	    {"", -EINVAL, 0, false, NULL},
	    {"\n", -EINVAL, 0, false, NULL},
	    {"isolatedx", -EINVAL, 0, false, NULL},
	    {"isolated ", -EINVAL, 0, false, NULL},
	    {"member invalid (x)", -EINVAL, 0, false, NULL},
	    {"isolated invalid (no close", -EINVAL, 0, false, NULL},
	    {"isolated invalid x)", -EINVAL, 0, false, NULL},
	    {"isolated invalidly", -EINVAL, 0, false, NULL},
	    {"isolated\nmember", -EINVAL, 0, false, NULL},
	    {"Isolated", -EINVAL, 0, false, NULL},
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct cgroup_partition_state st = {.type = 99, .reason = "untouched"};
		int r = cgroup_partition_parse(cases[i].text, &st);

		if (r != cases[i].r)
			fail_msg("\"%s\": %d, expected %d", cases[i].text, r, cases[i].r);
		if (r < 0) {
			assert_int_equal(st.type, 99); /* untouched on failure */
			assert_string_equal(st.reason, "untouched");
			continue;
		}
		assert_int_equal(st.type, cases[i].type);
		assert_int_equal(st.invalid, cases[i].invalid);
		assert_int_equal(st.reason_len, strlen(cases[i].reason));
		assert_memory_equal(st.reason, cases[i].reason, st.reason_len);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_targets),   cmocka_unit_test(test_values), cmocka_unit_test(test_order),
	    cmocka_unit_test(test_task_path), cmocka_unit_test(test_pick),   cmocka_unit_test(test_partition_state),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
