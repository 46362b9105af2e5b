/* Unit tests of mode lookup (lib/modes.c): which names are names, which
 * directory wins, the built-in vanilla, the messages isoctl and the daemon
 * both print, and the list of modes. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "isolated/modes.h"
#include "tree-files.h"

struct fix {
	char dir[64];
	char *a, *b; /* two policy directories */
	char *dirs[3];
	struct cpuset online;
	struct hostconf *hc;
};

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));
	struct diag d = {0};
	char *vars[] = {(char *)"rt_cpus=1", NULL};

	assert_non_null(f);
	strcpy(f->dir, "/tmp/test-modes.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->a = util_sprintf("%s/a", f->dir);
	f->b = util_sprintf("%s/b", f->dir);
	f->dirs[0] = f->a;
	f->dirs[1] = f->b;
	put(f->dir, "a/dedicated.conf", "[mode]\ntype = dedicated\nsummary = from a\n");
	put(f->dir, "a/rt-only.conf", "[mode]\ntype = rt-only\n");
	put(f->dir, "b/dedicated.conf", "[mode]\ntype = dedicated\nsummary = from b\n");
	put(f->dir, "b/broken.conf", "[mode]\ntype = nonsense\n");
	put(f->dir, "b/host.conf", "rt_cpus = 1\n");
	put(f->dir, "b/alpha.conf", "[mode]\ntype = rt-only\n");
	assert_int_equal(cpuset_parse_list("0-1", &f->online, NULL, 0), 0);
	assert_int_equal(hostconf_from_strv(vars, &f->online, &f->hc, &d), 0);
	diag_free(&d);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;

	rm_rf(f->dir);
	free(f->a);
	free(f->b);
	cpuset_free(&f->online);
	hostconf_free(f->hc);
	free(f);
	return 0;
}

static void test_name_valid(void **state)
{
	static const struct {
		const char *name;
		bool valid;
	} cases[] = {
	    {"dedicated", true},
	    {"rt-only", true},
	    {"Mode_2", true},
	    {"x", true},
	    {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", true},	  /* 64 */
	    {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false}, /* 65 */
	    {"", false},
	    {"../dedicated", false},
	    {"/etc/passwd", false},
	    {"a b", false},
	    {".hidden", false},
	    {"dedicated.conf", false},
	    {"mode\n", false},
	    {"caf\xc3\xa9", false},
	};

	(void)state;
	/* Through modes_load, which checks the name first (with no directory
	 * to look in, a valid name is an unknown mode): calling
	 * modes_name_valid here would link daemon/bus.o's weak stand-in for
	 * it from libdaemon.a. */
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct policy *p = NULL;
		struct diag d = {0};
		char *dirs[] = {(char *)"/nonexistent", NULL};

		assert_int_equal(modes_load(dirs, NULL, NULL, cases[i].name, &p, &d), MODES_USAGE);
		assert_null(p);
		assert_int_equal(d.n, 1);
		assert_true(d.bare[0]); /* the front door puts its name before it */
		assert_true(strncmp(d.lines[0], cases[i].valid ? "unknown mode" : "invalid mode name",
				    cases[i].valid ? 12 : 17) == 0);
		diag_free(&d);
	}
}

static void test_first_dir_wins(void **state)
{
	struct fix *f = *state;
	struct policy *p = NULL;
	struct diag d = {0};

	assert_int_equal(modes_load(f->dirs, f->hc, &f->online, "dedicated", &p, &d), MODES_OK);
	assert_int_equal(d.n, 0);
	assert_string_equal(p->summary, "from a");
	policy_free(p);
	p = NULL;
	/* only in b */
	assert_int_equal(modes_load(f->dirs, f->hc, &f->online, "alpha", &p, &d), MODES_OK);
	assert_int_equal(p->type, MODE_TYPE_RT_ONLY);
	policy_free(p);
}

static void test_errors(void **state)
{
	struct fix *f = *state;
	struct policy *p = NULL;
	struct diag d = {0};
	char *want;

	assert_int_equal(modes_load(f->dirs, f->hc, &f->online, "nosuch", &p, &d), MODES_USAGE);
	assert_null(p);
	assert_int_equal(d.n, 1);
	want = util_sprintf("unknown mode \"nosuch\" (no nosuch.conf in %s, %s; see isoctl list)", f->a, f->b);
	assert_string_equal(d.lines[0], want);
	free(want);
	diag_free(&d);

	assert_int_equal(modes_load(f->dirs, f->hc, &f->online, "../a/dedicated", &p, &d), MODES_USAGE);
	assert_int_equal(d.n, 1);
	assert_string_equal(d.lines[0], "invalid mode name \"../a/dedicated\": a mode is a name of letters, "
					"digits, '-' and '_'");
	diag_free(&d);

	/* The check comes first: no directories, host.conf or CPUs needed. */
	assert_int_equal(modes_load(NULL, NULL, NULL, "a b", &p, &d), MODES_USAGE);
	assert_int_equal(d.n, 1);
	diag_free(&d);

	/* host.conf holds variables, it is no mode */
	assert_int_equal(modes_load(f->dirs, f->hc, &f->online, "host", &p, &d), MODES_USAGE);
	assert_non_null(strstr(d.lines[0], "unknown mode \"host\""));
	diag_free(&d);

	/* a policy with errors: its FILE:LINE lines */
	assert_int_equal(modes_load(f->dirs, f->hc, &f->online, "broken", &p, &d), MODES_USAGE);
	assert_null(p);
	assert_true(d.n >= 1);
	assert_non_null(strstr(d.lines[0], "/b/broken.conf:2: "));
	assert_false(d.bare[0]); /* printed as it is */
	diag_free(&d);
}

static void test_vanilla(void **state)
{
	struct fix *f = *state;
	struct policy *p = NULL;
	struct diag d = {0};

	/* No vanilla.conf anywhere: the built-in empty one. */
	assert_int_equal(modes_load(f->dirs, f->hc, &f->online, "vanilla", &p, &d), MODES_OK);
	assert_int_equal(d.n, 0);
	assert_string_equal(p->name, "vanilla");
	assert_int_equal(p->type, MODE_TYPE_VANILLA);
	assert_null(p->file);
	assert_int_equal(p->n_thread_rules + p->n_irq_rules + p->n_sysctls, 0);
	assert_int_equal(p->scope.kind, SCOPE_HOST);
	policy_free(p);
	p = NULL;

	/* A vanilla.conf is a mode like any other. */
	put(f->dir, "b/vanilla.conf", "[mode]\ntype = vanilla\nsummary = site vanilla\n");
	assert_int_equal(modes_load(f->dirs, f->hc, &f->online, "vanilla", &p, &d), MODES_OK);
	assert_string_equal(p->summary, "site vanilla");
	policy_free(p);

	assert_int_equal(modes_vanilla(&p), 0);
	assert_string_equal(p->name, "vanilla");
	policy_free(p);
}

static void test_names(void **state)
{
	struct fix *f = *state;
	char *missing[] = {(char *)"/nonexistent/policies", f->b, f->a, NULL};
	char *none[] = {(char *)"/nonexistent/policies", NULL};
	char **names = NULL;

	/* sorted, each once, host.conf left out, a missing directory skipped */
	assert_int_equal(modes_names(missing, &names), 0);
	assert_int_equal(strv_len(names), 4);
	assert_string_equal(names[0], "alpha");
	assert_string_equal(names[1], "broken");
	assert_string_equal(names[2], "dedicated");
	assert_string_equal(names[3], "rt-only");
	strv_free(names);

	assert_int_equal(modes_names(none, &names), 0);
	assert_non_null(names);
	assert_null(names[0]);
	strv_free(names);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_name_valid),
	    cmocka_unit_test_setup_teardown(test_first_dir_wins, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_vanilla, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_names, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
