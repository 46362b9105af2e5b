/* Unit tests of the JSON builder (lib/json.c): numbers with few decimals,
 * strings made UTF-8, and a document that is whole or NULL. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "isolated/json.h"

static const struct {
	double v;
	int decimals;
	const char *text; /* NULL: JSON null */
} nums[] = {
    {52.3, 3, "52.3"},	{52.299999999999997, 3, "52.3"},
    {1.0, 3, "1"},	{-0.0001, 3, "0"},
    {0.125, 2, "0.12"}, {1e6, 0, "1000000"},
    {NAN, 3, NULL},	{INFINITY, 3, NULL},
};

static void test_values(void **state)
{
	struct jb b = {0};
	json_object *o;

	(void)state;
	for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
		o = jnum(&b, nums[i].v, nums[i].decimals);
		if (!nums[i].text) {
			assert_null(o);
			continue;
		}
		assert_string_equal(json_object_to_json_string(o), nums[i].text);
		json_object_put(o);
	}
	o = jstr(&b, "CPU 0/KVM\xff\xc3x");
	assert_string_equal(json_object_get_string(o), "CPU 0/KVM??x");
	json_object_put(o);
	assert_null(jstr(&b, NULL));
	o = juint(&b, UINT64_MAX);
	assert_int_equal(json_object_get_int64(o), INT64_MAX);
	json_object_put(o);
	assert_false(b.oom);
}

static void test_document(void **state)
{
	struct jb b = {0};
	char *const v[] = {"a", "b", NULL};
	json_object *o = jobj(&b);

	(void)state;
	jset(&b, o, "list", jstrv(&b, v));
	jset(&b, o, "none", NULL);
	jset(&b, o, "yes", jbool(&b, true));
	jset(&b, o, "n", jint(&b, -3));
	o = jdone(&b, o);
	assert_non_null(o);
	assert_string_equal(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
			    "{\"list\":[\"a\",\"b\"],\"none\":null,\"yes\":true,\"n\":-3}");
	json_object_put(o);

	/* a NULL pushed is a failure: the document is not whole */
	o = jarr(&b);
	jpush(&b, o, NULL);
	errno = 0;
	assert_null(jdone(&b, o));
	assert_int_equal(errno, ENOMEM);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_values),
	    cmocka_unit_test(test_document),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
