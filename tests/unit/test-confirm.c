/* Unit tests of an apply made unless confirmed and of apply_confirm
 * (lib/confirm.c), on a copied kvm16 tree (apply-env.h). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "apply-env.h"

static const struct apply_confirm confirm_1000 = {
    .deadline_usec = 1767225660000000LL,
    .previous_mode = "vanilla",
    .previous_scope = "host",
    .uid = 1000,
    .session = "c7",
};

static void test_confirm(void **state)
{
	struct env *e = *state;
	static const struct thread_ref refs[] = {{2201, 2211}};
	struct apply_result *res;
	struct journal *j;
	char err[512], *mode = NULL;

	/* nothing to confirm on a vanilla host */
	assert_int_equal(apply_confirm(e->h, 1000, "c7", &mode, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "nothing to confirm"));
	assert_null(mode);

	apply_full(e, e->dedicated, &confirm_1000);
	j = journal_of(e);
	assert_true(j->has_confirm);
	assert_true(j->confirm_deadline == confirm_1000.deadline_usec);
	assert_string_equal(j->confirm_previous_mode, "vanilla");
	assert_string_equal(j->confirm_previous_scope, "host");
	assert_int_equal(j->confirm_uid, 1000);
	assert_string_equal(j->confirm_session, "c7");
	journal_free(j);

	/* the event path keeps it */
	rename_thread(e->root, 2201, 2211, "CPU 3/KVM");
	res = apply_threads_ok(e, e->dedicated, refs, 1);
	assert_int_equal(res->counts[STEP_DONE], 2);
	apply_result_free(res);
	j = journal_of(e);
	assert_true(j->has_confirm);
	assert_string_equal(j->confirm_session, "c7");
	journal_free(j);

	/* only the caller that applied */
	assert_int_equal(apply_confirm(e->h, 0, "c7", &mode, err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, "uid 1000, session c7"));
	assert_int_equal(apply_confirm(e->h, 1000, NULL, &mode, err, sizeof(err)), -EPERM);
	assert_int_equal(apply_confirm(e->h, 1000, "c8", &mode, err, sizeof(err)), -EPERM);
	assert_null(mode);
	j = journal_of(e);
	assert_true(j->has_confirm);
	journal_free(j);

	assert_int_equal(apply_confirm(e->h, 1000, "c7", &mode, err, sizeof(err)), 0);
	assert_string_equal(mode, "dedicated");
	free(mode);
	mode = NULL;
	j = journal_of(e);
	assert_false(j->has_confirm);
	assert_string_equal(j->mode, "dedicated");
	journal_free(j);
	assert_int_equal(apply_confirm(e->h, 1000, "c7", NULL, err, sizeof(err)), -ENOENT);

	/* an apply without confirmation drops a pending one */
	apply_full(e, e->dedicated, &confirm_1000);
	apply_full(e, e->dedicated, NULL);
	j = journal_of(e);
	assert_false(j->has_confirm);
	journal_free(j);
}

/* A revert unless confirmed keeps its journal (nothing else in it);
 * confirmed, it goes, and the lock and directory with it. */
static void test_confirm_revert(void **state)
{
	struct env *e = *state;
	struct journal *j;
	char err[512], *mode = NULL, path[PATH_MAX];
	const struct apply_confirm back = {
	    .deadline_usec = 1, .previous_mode = "dedicated", .previous_scope = "host", .uid = 0, .session = NULL};

	apply_full(e, e->dedicated, NULL);
	apply_full(e, &e->vanilla, &back);
	j = journal_of(e);
	assert_string_equal(j->mode, "vanilla");
	assert_int_equal(j->n_targets, 0);
	assert_true(j->has_confirm);
	assert_null(j->confirm_session);
	journal_free(j);
	assert_int_equal(apply_confirm(e->h, 0, "s1", NULL, err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, "uid 0, no session"));
	assert_int_equal(apply_confirm(e->h, 0, NULL, &mode, err, sizeof(err)), 0);
	assert_string_equal(mode, "vanilla");
	free(mode);
	snprintf(path, sizeof(path), "%s/%s", e->root, JOURNAL_DIR);
	assert_int_equal(access(path, F_OK), -1);
}

/* A confirmation without its previous mode is refused before anything. */
static void test_confirm_refused(void **state)
{
	struct env *e = *state;
	struct apply_result *res = NULL;
	char err[512];
	const struct apply_confirm bad = {.previous_scope = "host"};
	struct apply_opts o = {.confirm = &bad};

	assert_int_equal(apply_mode(e->h, e->dedicated, &o, &res, err, sizeof(err)), -EINVAL);
	assert_null(res);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_confirm, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_confirm_revert, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_confirm_refused, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
