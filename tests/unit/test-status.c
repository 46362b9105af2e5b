/* Unit tests of status (lib/status.c): what isolated holds on a copied
 * kvm16 tree (apply-env.h), each target with its value now, drift, gone
 * threads and a journal of another boot. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "apply-env.h"

static struct apply_status *status_of(struct env *e)
{
	struct apply_status *st = NULL;
	char err[512] = "";

	if (apply_status(e->h, &st, err, sizeof(err)) < 0)
		fail_msg("apply_status: %s", err);
	return st;
}

static const struct status_target *status_find(const struct apply_status *st, enum action_kind kind, const char *target)
{
	for (size_t i = 0; i < st->n_targets; i++)
		if (st->targets[i].e->kind == kind && strcmp(st->targets[i].e->target, target) == 0)
			return &st->targets[i];
	return NULL;
}

/* A vanilla host: nothing held. */
static void test_status_vanilla(void **state)
{
	struct apply_status *st = status_of(*state);

	assert_null(st->journal);
	assert_null(st->stale_boot_id);
	assert_int_equal(st->n_targets, 0);
	apply_status_free(st);
}

/* Right after an apply every target holds what isolated wrote; a value
 * changed behind its back is drift, a thread that exited is gone. */
static void test_status_drift_and_gone(void **state)
{
	struct env *e = *state;
	const struct status_target *t;
	struct apply_status *st;
	char path[PATH_MAX];

	apply_full(e, e->dedicated, NULL);
	st = status_of(e);
	assert_non_null(st->journal);
	assert_int_equal(st->n_targets, st->journal->n_targets);
	assert_true(st->n_targets > 100);
	assert_int_equal(st->n_drift, 0);
	assert_int_equal(st->n_gone, 0);
	t = status_find(st, ACTION_SYSCTL, "kernel.timer_migration");
	assert_non_null(t);
	assert_string_equal(t->now, t->e->wanted);
	apply_status_free(st);

	putf(e->root, "proc/sys/kernel/timer_migration", "1\n");
	/* vCPU 1's thread exits */
	snprintf(path, sizeof(path), "%s/proc/2201/task/2205", e->root);
	rm_rf(path);
	st = status_of(e);
	assert_int_equal(st->n_drift, 1);
	t = status_find(st, ACTION_SYSCTL, "kernel.timer_migration");
	assert_true(t->drift);
	assert_string_equal(t->now, "1");
	assert_true(st->n_gone >= 1);
	t = status_find(st, ACTION_THREAD_AFFINITY, "tid/2205");
	assert_non_null(t);
	assert_null(t->now);
	assert_false(t->drift);
	apply_status_free(st);
}

/* A journal of another boot holds nothing in force: reported, not read. */
static void test_status_stale_boot(void **state)
{
	struct env *e = *state;
	struct apply_status *st;
	struct journal *j;

	apply_full(e, e->dedicated, NULL);
	j = journal_of(e);
	putf(e->root, "proc/sys/kernel/random/boot_id", "00000000-0000-0000-0000-000000000001\n");
	st = status_of(e);
	assert_null(st->journal);
	assert_int_equal(st->n_targets, 0);
	assert_non_null(st->stale_boot_id);
	assert_string_equal(st->stale_boot_id, j->boot_id);
	apply_status_free(st);
	journal_free(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_status_vanilla, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_status_drift_and_gone, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_status_stale_boot, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
