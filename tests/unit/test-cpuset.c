/* Unit tests of cpu lists and hex masks: round trips, >64 CPUs, and
 * malformed input whose message must name the offending character. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "isolated/cpuset.h"

struct good {
	const char *in;
	const char *list; /* canonical form */
	unsigned count;
};

static const struct good good_lists[] = {
    {"", "", 0},
    {"0", "0", 1},
    {"0-3", "0-3", 4},
    {"0-3,8,10-11", "0-3,8,10-11", 7},
    {"3,2,1,0", "0-3", 4},
    {"1,1,1", "1", 1},
    {"0-3\n", "0-3", 4},
    {"  5  ", "5", 1},
    {"63-64", "63-64", 2},
    {"0-255", "0-255", 256},
    {"8191", "8191", 1},
    {"0-15:2/4", "0-1,4-5,8-9,12-13", 8},
    {"0,64,128,4095", "0,64,128,4095", 4},
};

static void test_parse_list_good(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(good_lists) / sizeof(good_lists[0]); i++) {
		struct cpuset s = CPUSET_INIT;
		char err[256] = "", *out = NULL;

		assert_int_equal(cpuset_parse_list(good_lists[i].in, &s, err, sizeof(err)), 0);
		assert_int_equal(cpuset_count(&s), good_lists[i].count);
		assert_int_equal(cpuset_format_list(&s, &out), 0);
		assert_string_equal(out, good_lists[i].list);
		free(out);
		cpuset_free(&s);
	}
}

struct bad {
	const char *in;
	int r;
	const char *msg;
};

static const struct bad bad_lists[] = {
    {"a", -EINVAL, "unexpected 'a' at position 1 in \"a\""},
    {"0-3,x", -EINVAL, "unexpected 'x' at position 5 in \"0-3,x\""},
    {"0-", -EINVAL, "unexpected end of \"0-\""},
    {"0,,1", -EINVAL, "unexpected ',' at position 3 in \"0,,1\""},
    {"1,", -EINVAL, "unexpected end of \"1,\""},
    {",1", -EINVAL, "unexpected ',' at position 1 in \",1\""},
    {"3-1", -EINVAL, "range 3-1 in \"3-1\" is reversed"},
    {"0 1", -EINVAL, "unexpected ' ' at position 2 in \"0 1\""},
    {"-1", -EINVAL, "unexpected '-' at position 1 in \"-1\""},
    {"0;1", -EINVAL, "unexpected ';' at position 2 in \"0;1\""},
    {"99999999999", -ERANGE, "cpu number at position 1 in \"99999999999\" is too large (limit 65535)"},
    {"0-15:0/4", -EINVAL, "bad group \":0/4\" in \"0-15:0/4\""},
};

static void test_parse_list_bad(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_lists) / sizeof(bad_lists[0]); i++) {
		struct cpuset s = CPUSET_INIT;
		char err[256] = "";

		cpuset_set(&s, 42);
		assert_int_equal(cpuset_parse_list(bad_lists[i].in, &s, err, sizeof(err)), bad_lists[i].r);
		assert_string_equal(err, bad_lists[i].msg);
		/* untouched on failure */
		assert_true(cpuset_isset(&s, 42));
		assert_int_equal(cpuset_count(&s), 1);
		cpuset_free(&s);
	}
}

struct mask {
	const char *mask;
	unsigned nr_cpus;
	const char *list;
	const char *formatted;
};

static const struct mask masks[] = {
    {"3", 2, "0-1", "3"},
    {"1", 2, "0", "1"},
    {"ffff", 16, "0-15", "ffff"},
    {"00000000,00000001", 64, "0", "00000000,00000001"},
    {"1,00000000,00000000", 65, "64", "1,00000000,00000000"},
    {"80000000,00000000", 64, "63", "80000000,00000000"},
    {"ff,ffffffff,ffffffff", 72, "0-71", "ff,ffffffff,ffffffff"},
    {"f0f0\n", 16, "4-7,12-15", "f0f0"},
    {"0", 4, "", "0"},
    {"DEAD", 16, "0,2-3,5,7,9-12,14-15", "dead"},
};

static void test_masks(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(masks) / sizeof(masks[0]); i++) {
		struct cpuset s = CPUSET_INIT, back = CPUSET_INIT;
		char err[256] = "", *list = NULL, *mask = NULL;

		assert_int_equal(cpuset_parse_mask(masks[i].mask, &s, err, sizeof(err)), 0);
		assert_int_equal(cpuset_format_list(&s, &list), 0);
		assert_string_equal(list, masks[i].list);
		assert_int_equal(cpuset_format_mask(&s, masks[i].nr_cpus, &mask), 0);
		assert_string_equal(mask, masks[i].formatted);
		assert_int_equal(cpuset_parse_mask(mask, &back, err, sizeof(err)), 0);
		assert_true(cpuset_equal(&s, &back));
		free(list);
		free(mask);
		cpuset_free(&s);
		cpuset_free(&back);
	}
}

static const struct bad bad_masks[] = {
    {"fg", -EINVAL, "unexpected 'g' at position 2 in \"fg\""},
    {"ff,,ff", -EINVAL, "unexpected ',' at position 4 in \"ff,,ff\""},
    {"ff,", -EINVAL, "unexpected end of \"ff,\""},
    {"123456789", -EINVAL, "unexpected '9' at position 9 in \"123456789\""},
    {"0x1", -EINVAL, "unexpected 'x' at position 2 in \"0x1\""},
};

static void test_masks_bad(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_masks) / sizeof(bad_masks[0]); i++) {
		struct cpuset s = CPUSET_INIT;
		char err[256] = "";

		assert_int_equal(cpuset_parse_mask(bad_masks[i].in, &s, err, sizeof(err)), bad_masks[i].r);
		assert_string_equal(err, bad_masks[i].msg);
		assert_true(cpuset_empty(&s));
	}
}

static void test_set_ops(void **state)
{
	struct cpuset a = CPUSET_INIT, b = CPUSET_INIT, c = CPUSET_INIT;
	char err[128], *out = NULL;

	(void)state;
	assert_int_equal(cpuset_parse_list("0-127", &a, err, sizeof(err)), 0);
	assert_int_equal(cpuset_parse_list("64-65,200", &b, err, sizeof(err)), 0);
	assert_true(cpuset_intersects(&a, &b));
	assert_false(cpuset_subset(&b, &a));
	assert_int_equal(cpuset_andnot(&c, &a, &b), 0);
	assert_int_equal(cpuset_format_list(&c, &out), 0);
	assert_string_equal(out, "0-63,66-127");
	free(out);
	assert_int_equal(cpuset_and(&c, &a, &b), 0);
	assert_int_equal(cpuset_format_list(&c, &out), 0);
	assert_string_equal(out, "64-65");
	free(out);
	assert_int_equal(cpuset_or(&a, &a, &b), 0); /* aliasing */
	assert_int_equal(cpuset_count(&a), 129);
	assert_int_equal(cpuset_last(&a), 200);
	assert_int_equal(cpuset_next(&a, 127), 200);
	assert_int_equal(cpuset_next(&a, 200), -1);
	assert_int_equal(cpuset_set(&a, CPUSET_MAX_CPUS), -ERANGE);
	cpuset_clear(&a, 200);
	assert_int_equal(cpuset_last(&a), 127);
	assert_true(cpuset_subset(&b, &b));
	cpuset_zero(&b);
	assert_true(cpuset_empty(&b));
	assert_true(cpuset_equal(&b, &c) == false);
	cpuset_free(&a);
	cpuset_free(&b);
	cpuset_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_list_good), cmocka_unit_test(test_parse_list_bad), cmocka_unit_test(test_masks),
	    cmocka_unit_test(test_masks_bad),	    cmocka_unit_test(test_set_ops),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
