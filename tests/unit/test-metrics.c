/* Unit tests of the Prometheus text (lib/metrics.c): what a journal gives
 * (targets by kind, dropped ones not counted, the confirm deadline), the
 * text's lines (HELP and TYPE before every metric, label values quoted as
 * the exposition format wants), the daemon's counters and its reaction
 * histogram (cumulative buckets, +Inf = count), and the atomic write. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "isolated/journal.h"
#include "isolated/metrics.h"
#include "isolated/util.h"

static bool has_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (strncmp(p, line, n) == 0 && (p[n] == '\n' || p[n] == '\0'))
			return true;
	return false;
}

static void add(struct journal *j, enum action_kind k, const char *target)
{
	struct journal_entry e = {.kind = k, .target = (char *)target, .pristine = "1", .wanted = "0"};

	assert_int_equal(journal_add_target(j, &e), 0);
}

static void test_from_journal(void **state)
{
	struct journal *j = journal_new("b");
	struct metrics m = {0};

	(void)state;
	assert_non_null(j);
	metrics_from_journal(NULL, &m);
	assert_string_equal(m.mode, "vanilla");
	assert_string_equal(m.scope, "");
	assert_int_equal(m.applied_at, 0);
	free(j->mode);
	j->mode = strdup("dedicated");
	free(j->scope);
	j->scope = strdup("cgroup:/machine.slice/a\"b");
	j->applied_at = 1700000000;
	j->has_confirm = true;
	j->confirm_deadline = 1700000060500000LL;
	add(j, ACTION_SYSCTL, "kernel.timer_migration");
	add(j, ACTION_SYSCTL, "kernel.numa_balancing");
	add(j, ACTION_IRQ_AFFINITY, "irq/41");
	add(j, ACTION_THREAD_AFFINITY, "tid/2205");
	journal_kill_target(j, journal_find(j, ACTION_THREAD_AFFINITY, "tid/2205"));
	metrics_from_journal(j, &m);
	assert_string_equal(m.mode, "dedicated");
	assert_int_equal(m.by_kind[ACTION_SYSCTL], 2);
	assert_int_equal(m.by_kind[ACTION_IRQ_AFFINITY], 1);
	assert_int_equal(m.by_kind[ACTION_THREAD_AFFINITY], 0); /* dropped */
	assert_int_equal(m.applied_at, 1700000000);
	assert_true(m.confirm_deadline_usec == 1700000060500000LL);
	{
		char *t = metrics_text(&m);

		assert_non_null(t);
		/* a scope with a quote, quoted */
		assert_true(
		    has_line(t, "isolated_mode_info{mode=\"dedicated\",scope=\"cgroup:/machine.slice/a\\\"b\"} 1"));
		assert_true(has_line(t, "isolated_managed_targets{kind=\"sysctl\"} 2"));
		assert_true(has_line(t, "isolated_managed_targets{kind=\"thread-cgroup\"} 0"));
		assert_true(has_line(t, "isolated_mode_applied_timestamp_seconds 1700000000"));
		assert_true(has_line(t, "isolated_confirm_deadline_timestamp_seconds 1700000060.500000"));
		/* neither drift nor gone unless known, no daemon counters */
		assert_null(strstr(t, "isolated_drifted_targets"));
		assert_null(strstr(t, "isolated_events_total"));
		free(t);
	}
	journal_free(j);
}

/* Every metric: HELP, then TYPE, then its samples. */
static void test_shape(void **state)
{
	struct metrics_daemon d = {.state = "holding", .events = 12, .overflows = 1, .rescans = 3};
	struct metrics m = {.mode = "rt-only", .scope = "host", .drift = 2, .have_drift = true, .daemon = &d};
	char *t, *line, *save = NULL;
	char last_help[128] = "", last_type[128] = "";

	(void)state;
	t = metrics_text(&m);
	assert_non_null(t);
	for (line = strtok_r(t, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char name[128];

		if (sscanf(line, "# HELP %127s", name) == 1) {
			snprintf(last_help, sizeof(last_help), "%s", name);
			continue;
		}
		if (sscanf(line, "# TYPE %127s", name) == 1) {
			assert_string_equal(name, last_help);
			snprintf(last_type, sizeof(last_type), "%s", name);
			continue;
		}
		assert_true(line[0] != '#');
		/* a sample of the metric just declared (a histogram's _bucket,
		 * _sum, _count of it) */
		assert_true(strncmp(line, last_type, strlen(last_type)) == 0);
		assert_true(strncmp(line, "isolated_", 9) == 0);
	}
	free(t);
	t = metrics_text(&m);
	assert_true(has_line(t, "isolated_mode_info{mode=\"rt-only\",scope=\"host\",state=\"holding\"} 1"));
	assert_true(has_line(t, "isolated_events_total 12"));
	assert_true(has_line(t, "isolated_netlink_overflows_total 1"));
	assert_true(has_line(t, "isolated_rescans_total 3"));
	assert_true(has_line(t, "isolated_drifted_targets 2"));
	assert_true(has_line(t, "isolated_last_apply_success 0"));
	free(t);
}

/* Reactions into buckets; the text's buckets are cumulative. */
static void test_reaction(void **state)
{
	struct metrics_daemon d = {.state = "holding"};
	struct metrics m = {.mode = "dedicated", .scope = "host", .daemon = &d};
	char *t;

	(void)state;
	metrics_reaction_record(&d, 50);     /* 50 µs: le 0.0001 */
	metrics_reaction_record(&d, 100);    /* exactly 0.0001: le 0.0001 */
	metrics_reaction_record(&d, 800);    /* le 0.001 */
	metrics_reaction_record(&d, 300000); /* 0.3 s: +Inf only */
	assert_int_equal(d.reaction_count, 4);
	assert_int_equal(d.reaction_buckets[0], 2);
	assert_int_equal(d.reaction_buckets[METRICS_REACTION_BUCKETS], 1);
	t = metrics_text(&m);
	assert_true(has_line(t, "isolated_reaction_seconds_bucket{le=\"0.0001\"} 2"));
	assert_true(has_line(t, "isolated_reaction_seconds_bucket{le=\"0.0005\"} 2"));
	assert_true(has_line(t, "isolated_reaction_seconds_bucket{le=\"0.001\"} 3"));
	assert_true(has_line(t, "isolated_reaction_seconds_bucket{le=\"0.1\"} 3"));
	assert_true(has_line(t, "isolated_reaction_seconds_bucket{le=\"+Inf\"} 4"));
	assert_true(has_line(t, "isolated_reaction_seconds_count 4"));
	assert_true(has_line(t, "isolated_reaction_seconds_sum 0.300950000"));
	free(t);
}

/* Written whole, 0644, no temporary file left; a missing directory is an
 * error with the path in it. */
static void test_write(void **state)
{
	char dir[] = "/tmp/test-metrics.XXXXXX", path[64], err[256], *back = NULL;
	struct stat st;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/isolated.prom", dir);
	assert_int_equal(metrics_write(path, "a 1\n", err, sizeof(err)), 0);
	assert_int_equal(metrics_write(path, "a 2\n", err, sizeof(err)), 0);
	assert_int_equal(util_read_at(AT_FDCWD, path, 1024, &back, NULL), 0);
	assert_string_equal(back, "a 2\n");
	free(back);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	snprintf(path, sizeof(path), "%s/.isolated.prom.tmp", dir);
	assert_int_not_equal(access(path, F_OK), 0);
	snprintf(path, sizeof(path), "%s/isolated.prom", dir);
	unlink(path);
	assert_int_equal(rmdir(dir), 0);
	assert_true(metrics_write(path, "a 1\n", err, sizeof(err)) < 0);
	assert_non_null(strstr(err, dir));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_from_journal),
	    cmocka_unit_test(test_shape),
	    cmocka_unit_test(test_reaction),
	    cmocka_unit_test(test_write),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
