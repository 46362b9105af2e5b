/* Unit tests of daemon/limit.c: the token bucket of calls and the limit on
 * logged refusals, per uid, driven by a clock the tests set. Tables of
 * steps: at time T, uid U takes a call (or has a refusal logged, or the
 * windows are flushed), and what comes back. */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "daemon.h"

#define S 1000000ULL /* a second, in µs */

enum op { OP_TAKE, OP_CHARGE, OP_LOG, OP_FLUSH };

struct step {
	enum op op;
	uid_t uid;
	unsigned long long now;
	bool ok;		  /* TAKE: allowed; LOG: to be logged */
	unsigned long long value; /* TAKE refused: retry; CHARGE: the call's time (given);
				     LOG: suppressed before; FLUSH: next */
	const char *reported;	  /* FLUSH: "uid:n uid:n" in table order */
};

struct reported {
	char text[256];
};

static void on_report(void *userdata, uid_t uid, unsigned long long n)
{
	struct reported *r = userdata;
	size_t len = strlen(r->text);

	snprintf(r->text + len, sizeof(r->text) - len, "%s%u:%llu", len ? " " : "", (unsigned)uid, n);
}

static void run_steps(const struct limits_config *cfg, const struct step *steps, size_t n)
{
	struct limits *l = NULL;

	assert_int_equal(limits_new(cfg, &l), 0);
	for (size_t i = 0; i < n; i++) {
		const struct step *s = &steps[i];
		unsigned long long v = 4711;
		struct reported rep = {{0}};
		bool ok = false;

		switch (s->op) {
		case OP_TAKE:
			ok = limits_take(l, s->uid, s->now, &v);
			if (ok)
				v = 0;
			break;
		case OP_CHARGE:
			limits_charge(l, s->uid, s->now, s->value);
			ok = s->ok;
			v = s->value;
			break;
		case OP_LOG:
			ok = limits_log(l, s->uid, s->now, &v);
			break;
		case OP_FLUSH:
			v = limits_flush(l, s->now, on_report, &rep);
			ok = s->ok;
			break;
		}
		if (ok != s->ok || v != s->value)
			fail_msg("step %zu (op %d, uid %u, t=%llu): got %s %llu, expected %s %llu", i, s->op,
				 (unsigned)s->uid, s->now, ok ? "yes" : "no", v, s->ok ? "yes" : "no", s->value);
		if (s->op == OP_FLUSH && strcmp(rep.text, s->reported ? s->reported : "") != 0)
			fail_msg("step %zu: flush reported \"%s\", expected \"%s\"", i, rep.text,
				 s->reported ? s->reported : "");
	}
	limits_free(l);
}

/* TAKE(uid, now, allowed, retry), CHARGE(uid, now, usec the call took),
 * LOG(uid, now, logged, suppressed before), FLUSH(now, next, "uid:n ...") */
/* clang-format off */
#define TAKE(u, t, ok, v) {OP_TAKE, u, t, ok, v, NULL}
#define CHARGE(u, t, usec) {OP_CHARGE, u, t, false, usec, NULL}
#define LOG(u, t, ok, v) {OP_LOG, u, t, ok, v, NULL}
#define FLUSH(t, next, rep) {OP_FLUSH, 0, t, false, next, rep}
/* clang-format on */
#define RUN(cfg, steps) run_steps(&(cfg), steps, sizeof(steps) / sizeof(steps[0]))

static const struct limits_config three_a_second = {
    .burst = 3, .interval_usec = S, .log_first = 2, .log_window_usec = 60 * S};

static void test_bucket(void **state)
{
	static const struct step steps[] = {
	    /* a full bucket at the first call: three at once, then none */
	    TAKE(1000, 10 * S, true, 0),
	    TAKE(1000, 10 * S, true, 0),
	    TAKE(1000, 10 * S, true, 0),
	    TAKE(1000, 10 * S, false, S),
	    /* a refusal takes nothing: the credit still grows */
	    TAKE(1000, 10 * S + 400000, false, 600000),
	    TAKE(1000, 11 * S - 1, false, 1),
	    TAKE(1000, 11 * S, true, 0),
	    TAKE(1000, 11 * S, false, S),
	    /* half a call's credit stays after one more */
	    TAKE(1000, 12 * S + S / 2, true, 0),
	    TAKE(1000, 12 * S + S / 2, false, S / 2),
	    /* a long pause fills the bucket, no more */
	    TAKE(1000, 1000 * S, true, 0),
	    TAKE(1000, 1000 * S, true, 0),
	    TAKE(1000, 1000 * S, true, 0),
	    TAKE(1000, 1000 * S, false, S),
	    /* another uid has a bucket of its own */
	    TAKE(1001, 1000 * S, true, 0),
	    TAKE(1001, 1000 * S, true, 0),
	    TAKE(1001, 1000 * S, true, 0),
	    TAKE(1001, 1000 * S, false, S),
	    TAKE(1000, 1001 * S, true, 0),
	    /* root is never limited */
	    TAKE(0, 1000 * S, true, 0),
	    TAKE(0, 1000 * S, true, 0),
	    TAKE(0, 1000 * S, true, 0),
	    TAKE(0, 1000 * S, true, 0),
	    TAKE(0, 1000 * S, true, 0),
	};

	(void)state;
	RUN(three_a_second, steps);
}

/* A clock set back gives no credit and takes none; the ends of the range do
 * not overflow. */
static void test_bucket_clock(void **state)
{
	static const struct step steps[] = {
	    TAKE(7, 100 * S, true, 0),
	    TAKE(7, 100 * S, true, 0),
	    TAKE(7, 100 * S, true, 0),
	    TAKE(7, 50 * S, false, S),
	    TAKE(7, 0, false, S),
	    /* and the credit counts from the latest time seen */
	    TAKE(7, 100 * S + S / 2, false, S / 2),
	    TAKE(7, 101 * S, true, 0),
	    TAKE(7, ULLONG_MAX - 1, true, 0),
	    TAKE(7, ULLONG_MAX - 1, true, 0),
	    TAKE(7, ULLONG_MAX - 1, true, 0),
	    TAKE(7, ULLONG_MAX - 1, false, S),
	    TAKE(7, ULLONG_MAX, false, S - 1),
	    /* a first call at 0 and at the end of time */
	    TAKE(8, 0, true, 0),
	    TAKE(9, ULLONG_MAX, true, 0),
	};

	(void)state;
	RUN(three_a_second, steps);
}

/* A call counts once per 50 ms of the daemon's time, at least once: the
 * bucket goes below empty after an expensive call, and the uid waits. */
static void test_charge(void **state)
{
	static const struct limits_config cfg = {
	    .burst = 3, .interval_usec = S, .call_usec = 50000, .log_first = 2, .log_window_usec = 60 * S};
	static const struct step steps[] = {
	    /* under 100 ms: once */
	    TAKE(5, 10 * S, true, 0),
	    CHARGE(5, 10 * S, 40000),
	    TAKE(5, 10 * S, true, 0),
	    CHARGE(5, 10 * S, 99999),
	    TAKE(5, 10 * S, true, 0),
	    TAKE(5, 10 * S, false, S),
	    /* a second: 20 calls, of which the bucket had 2 and regained 1 while
	     * it ran; 16 s to wait for the next */
	    TAKE(6, 10 * S, true, 0),
	    CHARGE(6, 11 * S, S),
	    TAKE(6, 11 * S, false, 17 * S),
	    TAKE(6, 27 * S, false, S),
	    TAKE(6, 28 * S, true, 0),
	    /* root: no charge, no limit */
	    CHARGE(0, 28 * S, 1000 * S),
	    TAKE(0, 28 * S, true, 0),
	    /* the charge of a call that took for ever stops at a floor */
	    TAKE(7, 0, true, 0),
	    CHARGE(7, 0, ULLONG_MAX),
	    TAKE(7, 0, false, S + LLONG_MAX / 2),
	    /* a uid unknown to the table is charged from a full bucket */
	    CHARGE(8, 0, 10 * S),
	    TAKE(8, 0, false, 197 * S),
	};

	(void)state;
	RUN(cfg, steps);
}

/* Without call_usec every call counts once, whatever it took. */
static void test_charge_off(void **state)
{
	static const struct step steps[] = {
	    TAKE(5, 10 * S, true, 0), CHARGE(5, 10 * S, 1000 * S), TAKE(5, 10 * S, true, 0),
	    TAKE(5, 10 * S, true, 0), TAKE(5, 10 * S, false, S),
	};

	(void)state;
	RUN(three_a_second, steps);
}

static void test_log(void **state)
{
	static const struct step steps[] = {
	    /* two logged, the rest counted */
	    LOG(65534, 5 * S, true, 0),
	    LOG(65534, 6 * S, true, 0),
	    LOG(65534, 7 * S, false, 0),
	    LOG(65534, 8 * S, false, 0),
	    /* a uid of its own counts apart */
	    LOG(1000, 10 * S, true, 0),
	    LOG(1000, 10 * S, true, 0),
	    LOG(1000, 10 * S, false, 0),
	    /* the windows are a minute from their first refusal */
	    FLUSH(64 * S, 65 * S, ""),
	    FLUSH(65 * S, 70 * S, "65534:2"),
	    /* after a flush, the next refusal opens a new window */
	    LOG(65534, 66 * S, true, 0),
	    LOG(65534, 67 * S, true, 0),
	    LOG(65534, 68 * S, false, 0),
	    /* the window of 1000 ended unflushed: the next refusal says so first */
	    LOG(1000, 71 * S, true, 1),
	    LOG(1000, 72 * S, true, 0),
	    LOG(1000, 73 * S, false, 0),
	    LOG(1000, 73 * S, false, 0),
	    /* ULLONG_MAX: everything, at exit */
	    FLUSH(80 * S, 126 * S, ""),
	    FLUSH(ULLONG_MAX, 0, "65534:1 1000:2"),
	    FLUSH(ULLONG_MAX, 0, ""),
	    /* root's refusals are always logged */
	    LOG(0, 80 * S, true, 0),
	    LOG(0, 80 * S, true, 0),
	    LOG(0, 80 * S, true, 0),
	    FLUSH(ULLONG_MAX, 0, ""),
	};

	(void)state;
	RUN(three_a_second, steps);
}

/* log_first 0: every refusal counted, none logged one by one. */
static void test_log_none(void **state)
{
	static const struct limits_config cfg = {.burst = 1, .interval_usec = S, .log_first = 0, .log_window_usec = S};
	static const struct step steps[] = {
	    LOG(5, 0, false, 0),     LOG(5, 1, false, 0),    LOG(5, S, false, 2),
	    FLUSH(S + 1, 2 * S, ""), FLUSH(2 * S, 0, "5:1"),
	};

	(void)state;
	RUN(cfg, steps);
}

/* The table forgets uids whose bucket is full again; it holds at most
 * LIMITS_MAX_UIDS that called lately, and refuses a new one beyond. */
static void test_table(void **state)
{
	struct limits *l = NULL;
	unsigned long long retry = 0, n = 0;

	(void)state;
	assert_int_equal(limits_new(&three_a_second, &l), 0);
	for (uid_t u = 1; u <= LIMITS_MAX_UIDS; u++)
		assert_true(limits_take(l, u, 0, &retry));
	assert_false(limits_take(l, LIMITS_MAX_UIDS + 1, 0, &retry));
	assert_int_equal(retry, S);
	assert_false(limits_log(l, LIMITS_MAX_UIDS + 1, 0, &n));
	/* the ones known go on */
	assert_true(limits_take(l, 1, 0, &retry));
	/* one second later each has its call back, and their buckets are full:
	 * forgotten, room for new uids */
	assert_true(limits_take(l, LIMITS_MAX_UIDS + 1, S, &retry));
	assert_true(limits_take(l, LIMITS_MAX_UIDS + 2, S, &retry));
	/* uid 1 took two: not full yet at 1 s, still remembered */
	assert_true(limits_take(l, 1, S, &retry));
	assert_true(limits_take(l, 1, S, &retry));
	assert_false(limits_take(l, 1, S, &retry));
	/* a uid with refusals to report is kept until they are */
	assert_true(limits_log(l, 2, S, &n));
	assert_true(limits_log(l, 2, S, &n));
	assert_false(limits_log(l, 2, S, &n));
	assert_true(limits_take(l, 99999, 1000 * S, &retry));
	assert_true(limits_log(l, 2, 1000 * S, &n));
	assert_int_equal(n, 1);
	limits_free(l);
}

static void test_config(void **state)
{
	static const struct limits_config bad[] = {
	    {.burst = 0, .interval_usec = S, .log_window_usec = S},
	    {.burst = 1, .interval_usec = 0, .log_window_usec = S},
	    {.burst = 1, .interval_usec = S, .log_window_usec = 0},
	    {.burst = UINT_MAX, .interval_usec = ULLONG_MAX / 2, .log_window_usec = S},
	    {.burst = 3, .interval_usec = ULLONG_MAX / 2, .log_window_usec = S},
	    {.burst = 1, .interval_usec = LLONG_MAX / 2 + 1, .log_window_usec = S},
	};
	struct limits *l = NULL;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(limits_new(&bad[i], &l), -EINVAL);
		assert_null(l);
	}
	assert_int_equal(
	    limits_new(
		&(struct limits_config){.burst = 1, .interval_usec = LLONG_MAX / 2, .log_window_usec = ULLONG_MAX}, &l),
	    0);
	limits_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bucket),     cmocka_unit_test(test_bucket_clock), cmocka_unit_test(test_charge),
	    cmocka_unit_test(test_charge_off), cmocka_unit_test(test_log),	    cmocka_unit_test(test_log_none),
	    cmocka_unit_test(test_table),      cmocka_unit_test(test_config),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
