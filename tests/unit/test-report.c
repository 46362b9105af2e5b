/* Unit tests of the JSON documents (lib/report.c): strings that are not
 * UTF-8 (the bus refuses them), verify's filter, the fields the text output
 * needs (root, write, journal_removed, confirm), and the messages of an
 * apply that returned no result. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "isolated/report.h"

static const char *sget(json_object *o, const char *key)
{
	json_object *v = NULL;

	if (!json_object_object_get_ex(o, key, &v) || !v)
		return NULL;
	return json_object_get_string(v);
}

static json_object *get(json_object *o, const char *key)
{
	json_object *v = NULL;

	assert_true(json_object_object_get_ex(o, key, &v));
	return v;
}

static void test_utf8(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
	    {"dedicated", "dedicated"},
	    {"caf\xc3\xa9", "caf\xc3\xa9"},
	    {"\xf0\x9f\x98\x80 emoji", "\xf0\x9f\x98\x80 emoji"},
	    {"a\xffz", "a?z"},
	    {"\xc0\xaf", "??"},		     /* overlong '/' */
	    {"\xe0\x80\xaf", "???"},	     /* overlong, 3 bytes */
	    {"\xed\xa0\x80", "???"},	     /* a UTF-16 surrogate */
	    {"\xf4\x90\x80\x80", "????"},    /* above U+10FFFF */
	    {"cut \xe2\x82", "cut ??"},	     /* truncated at the end */
	    {"\xe2\x82 mid", "?? mid"},	     /* truncated in the middle */
	    {"\x80lead", "?lead"},	     /* a continuation byte alone */
	    {"CPU 0/KVM\xfe", "CPU 0/KVM?"}, /* what prctl(PR_SET_NAME) allows */
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		json_object *o = report_confirm(cases[i].in);

		assert_non_null(o);
		assert_string_equal(sget(o, "confirmed"), cases[i].out);
		json_object_put(o);
	}
}

static struct journal_entry ent(enum action_kind kind, const char *target, const char *pristine, const char *wanted)
{
	return (struct journal_entry){
	    .kind = kind,
	    .target = (char *)target,
	    .label = (char *)"",
	    .rule = (char *)"r",
	    .pristine = (char *)pristine,
	    .wanted = (char *)wanted,
	};
}

static void test_verify(void **state)
{
	struct journal *j = journal_new("boot");
	struct status_target t[3];
	struct apply_status st = {0};
	struct journal_entry e[3] = {
	    ent(ACTION_SYSCTL, "kernel.timer_migration", "1", "0"),
	    ent(ACTION_IRQ_AFFINITY, "irq/133", "0-15", "6-7"),
	    ent(ACTION_THREAD_AFFINITY, "tid/2205", "0-15", "6-7"),
	};
	json_object *o, *targets;

	(void)state;
	assert_non_null(j);
	free(j->mode);
	j->mode = strdup("dedicated");
	j->applied_at = 1700000000;
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(journal_add_target(j, &e[i]), 0);
	t[0] = (struct status_target){.e = &j->targets[0], .now = (char *)"1", .drift = true};
	t[1] = (struct status_target){.e = &j->targets[1], .now = (char *)"6-7", .drift = false};
	t[2] = (struct status_target){.e = &j->targets[2], .now = NULL, .drift = false};
	st = (struct apply_status){.journal = j, .targets = t, .n_targets = 3, .n_drift = 1, .n_gone = 1};

	o = report_verify(&st, true);
	assert_non_null(o);
	assert_string_equal(sget(o, "mode"), "dedicated");
	assert_int_equal(json_object_get_int64(get(o, "drift")), 1);
	assert_int_equal(json_object_get_int64(get(o, "gone")), 1);
	assert_int_equal(json_object_get_int64(get(o, "managed")), 3);
	assert_int_equal(json_object_get_int64(get(o, "applied_at")), 1700000000);
	assert_true(json_object_get_boolean(get(o, "enforced")));
	assert_null(get(o, "confirm"));
	targets = get(o, "targets");
	assert_int_equal(json_object_array_length(targets), 1);
	assert_string_equal(sget(json_object_array_get_idx(targets, 0), "target"), "kernel.timer_migration");
	assert_string_equal(sget(json_object_array_get_idx(targets, 0), "now"), "1");
	json_object_put(o);

	/* A pending confirmation is in the document. */
	j->has_confirm = true;
	j->confirm_deadline = 1700000060000000LL;
	j->confirm_previous_mode = strdup("rt-only");
	j->confirm_previous_scope = strdup("host");
	j->confirm_uid = 1000;
	o = report_verify(&st, false);
	assert_non_null(o);
	assert_false(json_object_get_boolean(get(o, "enforced")));
	assert_int_equal(json_object_get_int64(get(get(o, "confirm"), "deadline_usec")), 1700000060000000LL);
	assert_string_equal(sget(get(o, "confirm"), "previous_mode"), "rt-only");
	assert_int_equal(json_object_get_int64(get(get(o, "confirm"), "uid")), 1000);
	json_object_put(o);
	/* journal_free may not know the confirm fields yet (engine work in
	 * parallel): free them here. */
	free(j->confirm_previous_mode);
	free(j->confirm_previous_scope);
	j->confirm_previous_mode = j->confirm_previous_scope = NULL;
	j->has_confirm = false;
	journal_free(j);

	/* Nothing held. */
	st = (struct apply_status){.stale_boot_id = (char *)"old"};
	o = report_verify(&st, false);
	assert_non_null(o);
	assert_string_equal(sget(o, "mode"), "vanilla");
	assert_string_equal(sget(o, "stale_journal_boot_id"), "old");
	assert_int_equal(json_object_get_int64(get(o, "drift")), 0);
	assert_int_equal(json_object_array_length(get(o, "targets")), 0);
	assert_false(json_object_object_get_ex(o, "applied_at", NULL));
	json_object_put(o);
}

static void test_apply(void **state)
{
	struct host tree = {.is_tree = true, .root_path = (char *)"/srv/tree"};
	struct host kernel = {.is_tree = false, .root_path = (char *)"/"};
	struct apply_step steps[2] = {
	    {.e = ent(ACTION_SYSCTL, "kernel.timer_migration", "1", "0"), .write = true, .outcome = STEP_DONE},
	    {.e = ent(ACTION_SYSCTL, "kernel.numa_balancing", "0", "0"), .write = false, .outcome = STEP_UNCHANGED},
	};
	struct apply_result res = {
	    .mode = (char *)"dedicated",
	    .previous_mode = (char *)"vanilla",
	    .scope = (char *)"host",
	    .steps = steps,
	    .n_steps = 2,
	};
	struct apply_confirm conf = {
	    .deadline_usec = 42000000, .previous_mode = "vanilla", .previous_scope = "host", .uid = 7};
	json_object *o;

	(void)state;
	res.counts[STEP_DONE] = 1;
	res.counts[STEP_UNCHANGED] = 1;
	o = report_apply(&tree, &res, false, &conf);
	assert_non_null(o);
	assert_string_equal(sget(o, "root"), "/srv/tree");
	assert_string_equal(sget(o, "result"), "applied");
	assert_false(json_object_get_boolean(get(o, "journal_removed")));
	assert_true(json_object_get_boolean(get(json_object_array_get_idx(get(o, "steps"), 0), "write")));
	assert_false(json_object_get_boolean(get(json_object_array_get_idx(get(o, "steps"), 1), "write")));
	assert_int_equal(json_object_get_int64(get(get(o, "confirm"), "deadline_usec")), 42000000);
	assert_int_equal(json_object_array_length(get(o, "cannot")), 0);
	json_object_put(o);

	/* The running kernel has no root; a dry run confirms nothing. */
	o = report_apply(&kernel, &res, true, &conf);
	assert_non_null(o);
	assert_null(get(o, "root"));
	assert_string_equal(sget(o, "result"), "dry-run");
	assert_null(get(o, "confirm"));
	json_object_put(o);

	res.failed = true;
	res.error = (char *)"it broke";
	o = report_apply(NULL, &res, false, &conf);
	assert_non_null(o);
	assert_null(get(o, "root"));
	assert_string_equal(sget(o, "result"), "failed");
	assert_string_equal(sget(o, "error"), "it broke");
	assert_null(get(o, "confirm"));
	json_object_put(o);
}

static void test_apply_error(void **state)
{
	struct host tree = {.is_tree = true, .root_path = (char *)"/srv/tree"};
	struct host kernel = {.is_tree = false, .root_path = (char *)"/"};
	char *m;

	(void)state;
	m = report_apply_error(&kernel, "dedicated", -EWOULDBLOCK,
			       "another isoctl or isolated (pid 42) is changing "
			       "this host",
			       false, true);
	assert_string_equal(m, "another isoctl or isolated (pid 42) is changing this host (--no-wait given)");
	free(m);
	m = report_apply_error(&kernel, "dedicated", -EINVAL, "no such process", false, false);
	assert_string_equal(m, "applying dedicated: no such process");
	free(m);
	m = report_apply_error(&kernel, "vanilla", -EINVAL, "x", true, false);
	assert_string_equal(m, "planning vanilla: x");
	free(m);
	m = report_apply_error(&tree, "dedicated", -EBADMSG, "/srv/tree/run/isolated/journal: truncated", false, false);
	assert_non_null(strstr(m, "/srv/tree/run/isolated/journal: truncated\nrefusing to change "));
	assert_non_null(strstr(m, "(mv /srv/tree/run/isolated/journal /srv/tree/run/isolated/journal.bad)"));
	assert_null(strchr(strchr(m, '\n') + 1, '\n'));
	free(m);
	m = report_apply_error(&kernel, "dedicated", -EBADMSG, "bad", false, false);
	assert_non_null(strstr(m, "(mv /run/isolated/journal /run/isolated/journal.bad)"));
	free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_utf8),
	    cmocka_unit_test(test_verify),
	    cmocka_unit_test(test_apply),
	    cmocka_unit_test(test_apply_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
