/* Unit tests of irqbalance's defaults file: the two targets read from real
 * shapes of the file, the edit byte for byte with its refusals, and the
 * durable write with its one backup on a temp tree. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "isolated/cpuset.h"
#include "isolated/host.h"
#include "isolated/irqbalance.h"
#include "isolated/util.h"
#include "tree-files.h"

/* Debian 12's stock file (irqbalance 1.9.2), as tests/fixtures/gen-kvm16.py
 * writes it: every variable commented out. */
#define STOCK                                                                                                          \
	"# irqbalance is a daemon process that distributes interrupts across\n"                                        \
	"# CPUs on SMP systems.  The default is to rebalance once every 10\n"                                          \
	"# seconds.  This is the environment file that is specified to systemd via the\n"                              \
	"# EnvironmentFile key in the service unit file.\n"                                                            \
	"#\n"                                                                                                          \
	"# IRQBALANCE_ONESHOT\n"                                                                                       \
	"#    After starting, wait for a minute, then look at the interrupt\n"                                         \
	"#    load and balance it once; after balancing exit and do not change\n"                                      \
	"#    it again.\n"                                                                                             \
	"#IRQBALANCE_ONESHOT=\n"                                                                                       \
	"\n"                                                                                                           \
	"#\n"                                                                                                          \
	"# IRQBALANCE_BANNED_CPUS\n"                                                                                   \
	"#    64 bit bitmask of the CPUs to skip when rebalancing IRQs\n"                                              \
	"#    (deprecated: use IRQBALANCE_BANNED_CPULIST).\n"                                                          \
	"#IRQBALANCE_BANNED_CPUS=\n"                                                                                   \
	"\n"                                                                                                           \
	"#\n"                                                                                                          \
	"# IRQBALANCE_BANNED_CPULIST\n"                                                                                \
	"#    The list of the CPUs to skip when rebalancing IRQs: no IRQ is\n"                                         \
	"#    assigned to them.  <cpu>,...,<cpu>, <cpu>-<cpu>, or both.\n"                                             \
	"#IRQBALANCE_BANNED_CPULIST=\n"                                                                                \
	"\n"                                                                                                           \
	"#\n"                                                                                                          \
	"# IRQBALANCE_ARGS\n"                                                                                          \
	"#    Append any args here to the irqbalance daemon as documented in the man\n"                                \
	"#    page.\n"                                                                                                 \
	"#IRQBALANCE_ARGS=\n"

#define CPUS IRQBALANCE_TARGET_CPUS
#define IRQS IRQBALANCE_TARGET_IRQS

/* ---- irqbalance_value ---- */

struct value_case {
	const char *name;
	const char *in;
	const char *target;
	int r;
	const char *value; /* when r == 0 */
	const char *error; /* substring of the message when r < 0 */
};

static const struct value_case value_cases[] = {
    {"stock file: no banned CPUs", STOCK, CPUS, 0, "", NULL},
    {"stock file: no banned IRQs", STOCK, IRQS, 0, "", NULL},
    {"empty file", "", CPUS, 0, "", NULL},
    {"a CPU list", STOCK "IRQBALANCE_BANNED_CPULIST=\"2,4-5\"\n", CPUS, 0, "2,4-5", NULL},
    {"a CPU list written out of order, as a set", "IRQBALANCE_BANNED_CPULIST='5,2,4'\n", CPUS, 0, "2,4-5", NULL},
    {"the list is not the IRQs", "IRQBALANCE_BANNED_CPULIST=\"2,4-5\"\n", IRQS, 0, "", NULL},
    {"every spelling of a banned IRQ, among other arguments",
     "IRQBALANCE_ARGS=\"--foreground --banirq=5 --hintpolicy=ignore --banirq 7 -i 9 --debug -i11\"\n", IRQS, 0,
     "5,7,9,11", NULL},
    {"the IRQs are not the CPUs", "IRQBALANCE_ARGS=\"--banirq=5\"\n", CPUS, 0, "", NULL},
    {"an ARGS without bans", "IRQBALANCE_ARGS=\"--foreground --oneshot\"\n", IRQS, 0, "", NULL},
    {"the last assignment wins, as in sh", "IRQBALANCE_BANNED_CPULIST=1\nIRQBALANCE_BANNED_CPULIST=3\n", CPUS, 0, "3",
     NULL},
    {"an empty mask is no mask", "IRQBALANCE_BANNED_CPUS=\nIRQBALANCE_BANNED_CPULIST=6-7\n", CPUS, 0, "6-7", NULL},
    {"the mask does not hide the IRQs", "IRQBALANCE_BANNED_CPUS=ff\nIRQBALANCE_ARGS=\"--banirq=5\"\n", IRQS, 0, "5",
     NULL},

    /* Refused. */
    {"--banirq at the end, without a number", "IRQBALANCE_ARGS=\"--foreground --banirq\"\n", IRQS, -EINVAL, NULL,
     "IRQBALANCE_ARGS has a --banirq without an IRQ number: \"--banirq\""},
    {"--banirq= with a word", "IRQBALANCE_ARGS=\"--banirq=five\"\n", IRQS, -EINVAL, NULL, "\"--banirq=five\""},
    {"--banirq followed by another option", "IRQBALANCE_ARGS=\"--banirq --foreground\"\n", IRQS, -EINVAL, NULL,
     "\"--banirq --foreground\""},
    {"-i with a word", "IRQBALANCE_ARGS=\"-i x\"\n", IRQS, -EINVAL, NULL, "without an IRQ number: \"-i x\""},
    {"-iN with a word", "IRQBALANCE_ARGS=\"-ix\"\n", IRQS, -EINVAL, NULL, "\"-ix\""},
    {"a negative IRQ", "IRQBALANCE_ARGS=\"--banirq=-1\"\n", IRQS, -EINVAL, NULL, "\"--banirq=-1\""},
    {"the deprecated mask", STOCK "IRQBALANCE_BANNED_CPUS=ff\n", CPUS, -EINVAL, NULL,
     "it sets IRQBALANCE_BANNED_CPUS (a mask irqbalance 1.8 deprecated): replace it with "
     "IRQBALANCE_BANNED_CPULIST"},
    {"the mask beside a list", "IRQBALANCE_BANNED_CPUS=ff\nIRQBALANCE_BANNED_CPULIST=6-7\n", CPUS, -EINVAL, NULL,
     "replace it with IRQBALANCE_BANNED_CPULIST"},
    {"a list that is not one", "IRQBALANCE_BANNED_CPULIST=\"6-x\"\n", CPUS, -EINVAL, NULL,
     "IRQBALANCE_BANNED_CPULIST is not a CPU list: "},
    {"a range backwards", "IRQBALANCE_BANNED_CPULIST=7-6\n", CPUS, -EINVAL, NULL, "is not a CPU list"},
    {"an unterminated quote", "IRQBALANCE_BANNED_CPULIST=\"6-7\n", CPUS, -EINVAL, NULL, "an unterminated quote"},
    {"an unterminated quote hides the IRQs too", "IRQBALANCE_ARGS='--banirq=5\n", IRQS, -EINVAL, NULL,
     "an unterminated quote"},
    {"not a target", "", "irqbalance/nothing", -EINVAL, NULL, ""},
};

static void test_value(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(value_cases); i++) {
		const struct value_case *c = &value_cases[i];
		char err[256] = "", *v = (char *)"untouched";
		int r;

		r = irqbalance_value(c->in, strlen(c->in), c->target, &v, err, sizeof(err));
		if (r != c->r)
			fail_msg("%s: returned %d (%s), expected %d", c->name, r, err, c->r);
		if (r < 0) {
			if (!strstr(err, c->error))
				fail_msg("%s: message \"%s\" lacks \"%s\"", c->name, err, c->error);
			if (*c->error && strlen(err) < 10)
				fail_msg("%s: message \"%s\" says too little", c->name, err);
			assert_string_equal(v, "untouched");
			continue;
		}
		if (strcmp(v, c->value) != 0)
			fail_msg("%s: got \"%s\", expected \"%s\"", c->name, v, c->value);
		free(v);
	}
}

/* ---- irqbalance_edit ---- */

/* Are a and b lists of the same numbers? */
static bool same_list(const char *a, const char *b)
{
	struct cpuset x = CPUSET_INIT, y = CPUSET_INIT;
	char msg[160];
	bool same;

	assert_int_equal(cpuset_parse_list(a, &x, msg, sizeof(msg)), 0);
	assert_int_equal(cpuset_parse_list(b, &y, msg, sizeof(msg)), 0);
	same = cpuset_equal(&x, &y);
	cpuset_free(&x);
	cpuset_free(&y);
	return same;
}

struct edit_case {
	const char *name;
	const char *in;
	const char *target;
	const char *value;
	int r;
	const char *out;   /* the expected file; NULL: the input, unchanged */
	const char *error; /* substring of the message when r < 0 */
};

static const struct edit_case edit_cases[] = {
    {"stock file: the list appended", STOCK, CPUS, "6-7", 0, STOCK "IRQBALANCE_BANNED_CPULIST=\"6-7\"\n", NULL},
    {"stock file: the IRQs appended", STOCK, IRQS, "133-134", 0,
     STOCK "IRQBALANCE_ARGS=\"--banirq=133 --banirq=134\"\n", NULL},
    {"no newline at the end", "#x", CPUS, "6,7", 0, "#x\nIRQBALANCE_BANNED_CPULIST=\"6-7\"\n", NULL},
    {"bare value stays bare", "IRQBALANCE_ONESHOT=1\nIRQBALANCE_BANNED_CPULIST=2\n#end\n", CPUS, "2,6-7", 0,
     "IRQBALANCE_ONESHOT=1\nIRQBALANCE_BANNED_CPULIST=2,6-7\n#end\n", NULL},
    {"double quotes stay double", "IRQBALANCE_BANNED_CPULIST=\"2\"\n", CPUS, "2,6-7", 0,
     "IRQBALANCE_BANNED_CPULIST=\"2,6-7\"\n", NULL},
    {"single quotes stay single", "IRQBALANCE_BANNED_CPULIST='2'\n", CPUS, "2,6-7", 0,
     "IRQBALANCE_BANNED_CPULIST='2,6-7'\n", NULL},
    {"export and a comment after the value kept", "  export IRQBALANCE_BANNED_CPULIST=\"2\" # isolcpus\n", CPUS, "6-7",
     0, "  export IRQBALANCE_BANNED_CPULIST=\"6-7\" # isolcpus\n", NULL},
    {"the list is written as a list", "IRQBALANCE_BANNED_CPULIST=\"\"\n", CPUS, "7,6", 0,
     "IRQBALANCE_BANNED_CPULIST=\"6-7\"\n", NULL},
    /* Like ARGS (below), the same set written another way keeps its text:
     * nothing to write, nothing to back up. */
    {"the same set written differently is left as it is", "IRQBALANCE_BANNED_CPULIST=\"6,7\"\n", CPUS, "6-7", 0,
     "IRQBALANCE_BANNED_CPULIST=\"6,7\"\n", NULL},
    {"--banirq= with nothing after it", "IRQBALANCE_ARGS=\"--banirq=\"\n", IRQS, "5", -EINVAL, NULL,
     "IRQBALANCE_ARGS has a --banirq without an IRQ number: \"--banirq=\""},
    {"a list emptied", "IRQBALANCE_BANNED_CPULIST=\"6-7\"\n", CPUS, "", 0, "IRQBALANCE_BANNED_CPULIST=\"\"\n", NULL},
    {"IRQs added after the other arguments", "IRQBALANCE_ARGS=\"--foreground --banirq=5\"\n", IRQS, "5,133-134", 0,
     "IRQBALANCE_ARGS=\"--foreground --banirq=5 --banirq=133 --banirq=134\"\n", NULL},
    {"IRQs removed, every spelling, the other arguments kept",
     "IRQBALANCE_ARGS=\"--banirq 7 --foreground -i 9 --banirq=5 -i11 --debug\"\n", IRQS, "5", 0,
     "IRQBALANCE_ARGS=\"--foreground --banirq=5 --debug\"\n", NULL},
    {"IRQs kept in their own spelling", "IRQBALANCE_ARGS=\"--banirq 7 -i9\"\n", IRQS, "7,9,10", 0,
     "IRQBALANCE_ARGS=\"--banirq 7 -i9 --banirq=10\"\n", NULL},
    {"every IRQ removed leaves an empty ARGS", "IRQBALANCE_ARGS=\"--banirq=5\"\n", IRQS, "", 0,
     "IRQBALANCE_ARGS=\"\"\n", NULL},
    {"single-quoted ARGS stays single", "IRQBALANCE_ARGS='--foreground'\n", IRQS, "5", 0,
     "IRQBALANCE_ARGS='--foreground --banirq=5'\n", NULL},
    {"bare ARGS gets quotes when it needs them", "IRQBALANCE_ARGS=--foreground\n", IRQS, "5", 0,
     "IRQBALANCE_ARGS=\"--foreground --banirq=5\"\n", NULL},
    {"the same IRQs: ARGS as written, its blanks too", "IRQBALANCE_ARGS=\"--foreground   -i 5\"\n", IRQS, "5", 0, NULL,
     NULL},
    {"the list is not touched by the IRQs", "IRQBALANCE_BANNED_CPULIST='6-7'\nIRQBALANCE_ARGS=\"--banirq=5\"\n", IRQS,
     "", 0, "IRQBALANCE_BANNED_CPULIST='6-7'\nIRQBALANCE_ARGS=\"\"\n", NULL},
    {"nothing banned in a file that bans nothing: the list not added", STOCK, CPUS, "", 0, NULL, NULL},
    {"nothing banned in a file that bans nothing: ARGS not added", STOCK, IRQS, "", 0, NULL, NULL},

    /* Refused. */
    {"the list assigned twice", "IRQBALANCE_BANNED_CPULIST=2\n#\nIRQBALANCE_BANNED_CPULIST=3\n", CPUS, "6-7", -EINVAL,
     NULL, "IRQBALANCE_BANNED_CPULIST is assigned 2 times (lines 1 and 3)"},
    {"ARGS assigned twice", "IRQBALANCE_ARGS=\"--banirq=5\"\nIRQBALANCE_ARGS=\"$IRQBALANCE_ARGS --foreground\"\n", IRQS,
     "6", -EINVAL, NULL, "IRQBALANCE_ARGS is assigned 2 times"},
    {"assigned on a continued line", "IRQBALANCE_ONESHOT=1 \\\nIRQBALANCE_BANNED_CPULIST=2\n", CPUS, "6-7", -EINVAL,
     NULL, "line 2: IRQBALANCE_BANNED_CPULIST is assigned on a line continued"},
    {"the value continues", "IRQBALANCE_ARGS=\"--foreground \\\n --banirq=5\"\n", IRQS, "6", -EINVAL, NULL,
     "continues on the next line"},
    {"a variable in the value", "IRQBALANCE_BANNED_CPULIST=\"$RT\"\n", CPUS, "6-7", -EINVAL, NULL,
     "refers to a variable"},
    {"an unterminated quote", "IRQBALANCE_ARGS=\"--foreground\n", IRQS, "6", -EINVAL, NULL, "unterminated quote"},
    {"a --banirq without a number", "IRQBALANCE_ARGS=\"--banirq\"\n", IRQS, "6", -EINVAL, NULL,
     "a --banirq without an IRQ number"},
    {"a value that is not a list", STOCK, CPUS, "6-x", -EINVAL, NULL, "\"6-x\" is not a list: "},
    {"not a target", STOCK, "irqbalance/nothing", "6", -EINVAL, NULL, ""},
};

static void test_edit(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(edit_cases); i++) {
		const struct edit_case *c = &edit_cases[i];
		const char *want = c->out ? c->out : c->in;
		char err[256] = "", *out = (char *)"untouched", *again = NULL, *v = NULL;
		size_t len = 12345, len2;
		int r;

		r = irqbalance_edit(c->in, strlen(c->in), c->target, c->value, &out, &len, err, sizeof(err));
		if (r != c->r)
			fail_msg("%s: returned %d (%s), expected %d", c->name, r, err, c->r);
		if (r < 0) {
			if (!strstr(err, c->error))
				fail_msg("%s: message \"%s\" lacks \"%s\"", c->name, err, c->error);
			assert_string_equal(out, "untouched");
			assert_int_equal(len, 12345);
			continue;
		}
		if (strcmp(out, want) != 0)
			fail_msg("%s: got\n%s\nexpected\n%s", c->name, out, want);
		assert_int_equal(len, strlen(out));

		/* The new file reads back as the value asked for... */
		assert_int_equal(irqbalance_value(out, len, c->target, &v, err, sizeof(err)), 0);
		if (!same_list(v, c->value))
			fail_msg("%s: the new file reads \"%s\", not \"%s\"", c->name, v, c->value);
		free(v);
		/* ...and a second edit changes nothing. */
		assert_int_equal(irqbalance_edit(out, len, c->target, c->value, &again, &len2, err, sizeof(err)), 0);
		if (len2 != len || strcmp(again, out) != 0)
			fail_msg("%s: the second edit changed\n%s\ninto\n%s", c->name, out, again);
		free(again);
		free(out);
	}
}

/* Set to another value and back: the bytes of a file that assigned the
 * variable come back as they were. */
struct round_case {
	const char *name;
	const char *in;
	const char *target;
	const char *other;
};

static const struct round_case round_cases[] = {
    {"bare list", "IRQBALANCE_BANNED_CPULIST=2\n", CPUS, "2,6-7"},
    {"empty bare list", STOCK "IRQBALANCE_BANNED_CPULIST=\n", CPUS, "6-7"},
    {"single-quoted list", "IRQBALANCE_BANNED_CPULIST='2'\n", CPUS, "6-7"},
    {"double-quoted list emptied", "#x\nIRQBALANCE_BANNED_CPULIST=\"2,4-5\" # ours\n#y\n", CPUS, ""},
    {"ARGS with a ban, more bans", "IRQBALANCE_ARGS=\"--foreground --banirq=5\"\n", IRQS, "5,133-134"},
    {"ARGS without bans", STOCK "IRQBALANCE_ARGS=\"--foreground\"\n", IRQS, "133"},
    {"ARGS of bans only, emptied", "IRQBALANCE_ARGS='--banirq=5'\n", IRQS, ""},
};

static void test_edit_round_trip(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(round_cases); i++) {
		const struct round_case *c = &round_cases[i];
		char err[256] = "", *orig = NULL, *mid = NULL, *back = NULL;
		size_t len = strlen(c->in), mlen, blen;

		assert_int_equal(irqbalance_value(c->in, len, c->target, &orig, err, sizeof(err)), 0);
		assert_int_equal(irqbalance_edit(c->in, len, c->target, c->other, &mid, &mlen, err, sizeof(err)), 0);
		if (mlen == len && memcmp(mid, c->in, len) == 0)
			fail_msg("%s: setting \"%s\" changed nothing", c->name, c->other);
		assert_int_equal(irqbalance_edit(mid, mlen, c->target, orig, &back, &blen, err, sizeof(err)), 0);
		if (blen != len || memcmp(back, c->in, len) != 0)
			fail_msg("%s: \"%s\" and back to \"%s\" gave\n%s\nnot\n%s", c->name, c->other, orig, back,
				 c->in);
		free(orig);
		free(mid);
		free(back);
	}
}

/* ---- irqbalance_write, on a temp tree ---- */

#define DEFAULT_PATH "etc/default/irqbalance"
#define SYSCONFIG_PATH "etc/sysconfig/irqbalance"

static void assert_file(const char *root, const char *rel, const char *want)
{
	char *s = read_in(root, rel);

	if (!want && s)
		fail_msg("%s exists:\n%s", rel, s);
	if (want && (!s || strcmp(s, want) != 0))
		fail_msg("%s is\n%s\nnot\n%s", rel, s ? s : "(absent)", want);
	free(s);
}

static void assert_reads(const struct host *h, const char *target, const char *want)
{
	char *v = NULL;

	assert_int_equal(host_read_irqbalance(h, target, &v), 0);
	if (strcmp(v, want) != 0)
		fail_msg("%s reads \"%s\", not \"%s\"", target, v, want);
	free(v);
}

static void test_write_restore(void **state)
{
	static const char with_cpus[] = STOCK "IRQBALANCE_BANNED_CPULIST=\"6-7\"\n";
	static const char with_both[] = STOCK "IRQBALANCE_BANNED_CPULIST=\"6-7\"\n"
					      "IRQBALANCE_ARGS=\"--banirq=133 --banirq=134\"\n";
	char *root = make_tree_dir("test-irqbalance"), path[PATH_MAX], err[512] = "";
	struct host *h = NULL;

	(void)state;
	put(root, DEFAULT_PATH, STOCK);
	snprintf(path, sizeof(path), "%s/" DEFAULT_PATH, root);
	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(host_open(root, &h), 0);

	/* The value it has: nothing written, no backup. */
	assert_int_equal(irqbalance_write(h, CPUS, "", err, sizeof(err)), 0);
	assert_file(root, DEFAULT_PATH, STOCK);
	assert_file(root, IRQBALANCE_BACKUP_PATH, NULL);

	/* The first change keeps the original. */
	assert_int_equal(irqbalance_write(h, CPUS, "6-7", err, sizeof(err)), 0);
	assert_file(root, DEFAULT_PATH, with_cpus);
	assert_file(root, IRQBALANCE_BACKUP_PATH, STOCK);
	assert_int_equal(mode_in(root, DEFAULT_PATH) & 07777, 0640);
	assert_int_equal(mode_in(root, IRQBALANCE_BACKUP_PATH) & 07777, 0644);
	assert_reads(h, CPUS, "6-7");

	/* The second keeps it as it was. */
	assert_int_equal(irqbalance_write(h, IRQS, "133-134", err, sizeof(err)), 0);
	assert_file(root, DEFAULT_PATH, with_both);
	assert_file(root, IRQBALANCE_BACKUP_PATH, STOCK);
	assert_reads(h, IRQS, "133-134");

	/* One target back: not yet the original. */
	assert_int_equal(irqbalance_write(h, CPUS, "", err, sizeof(err)), 0);
	assert_file(root, DEFAULT_PATH,
		    STOCK "IRQBALANCE_BANNED_CPULIST=\"\"\nIRQBALANCE_ARGS=\"--banirq=133 --banirq=134\"\n");
	assert_file(root, IRQBALANCE_BACKUP_PATH, STOCK);

	/* Both back: the original bytes, the backup gone. */
	assert_int_equal(irqbalance_write(h, IRQS, "", err, sizeof(err)), 0);
	assert_file(root, DEFAULT_PATH, STOCK);
	assert_file(root, IRQBALANCE_BACKUP_PATH, NULL);
	assert_int_equal(mode_in(root, DEFAULT_PATH) & 07777, 0640);
	assert_int_equal(mode_in(root, "var/lib/isolated/.irqbalance.orig.isoctl-tmp"), (mode_t)-1);
	assert_int_equal(mode_in(root, "etc/default/.irqbalance.isoctl-tmp"), (mode_t)-1);

	host_free(h);
	rm_rf(root);
	free(root);
}

/* An operator's line added while isolated's values were in: kept when the
 * values go back, and the backup goes, its values being back. */
static void test_write_edited_meanwhile(void **state)
{
	static const char orig[] = "IRQBALANCE_ONESHOT=\nIRQBALANCE_ARGS=\"--foreground\"\n";
	static const char theirs[] = "# ops: oneshot off for now\n"
				     "IRQBALANCE_ONESHOT=\nIRQBALANCE_ARGS=\"--foreground --banirq=140\"\n";
	char *root = make_tree_dir("test-irqbalance"), err[512] = "";
	struct host *h = NULL;

	(void)state;
	put(root, DEFAULT_PATH, orig);
	assert_int_equal(host_open(root, &h), 0);
	assert_int_equal(irqbalance_write(h, IRQS, "140", err, sizeof(err)), 0);
	assert_file(root, IRQBALANCE_BACKUP_PATH, orig);
	put(root, DEFAULT_PATH, theirs);

	assert_int_equal(irqbalance_write(h, IRQS, "", err, sizeof(err)), 0);
	assert_file(root, DEFAULT_PATH,
		    "# ops: oneshot off for now\nIRQBALANCE_ONESHOT=\nIRQBALANCE_ARGS=\"--foreground\"\n");
	assert_file(root, IRQBALANCE_BACKUP_PATH, NULL);
	assert_reads(h, IRQS, "");
	assert_reads(h, CPUS, "");

	/* The next change keeps the file as it is now as the original. */
	assert_int_equal(irqbalance_write(h, CPUS, "6-7", err, sizeof(err)), 0);
	assert_file(root, IRQBALANCE_BACKUP_PATH,
		    "# ops: oneshot off for now\nIRQBALANCE_ONESHOT=\nIRQBALANCE_ARGS=\"--foreground\"\n");

	host_free(h);
	rm_rf(root);
	free(root);
}

/* No file, a link, and Fedora's path. */
static void test_write_which_file(void **state)
{
	char *root = make_tree_dir("test-irqbalance"), path[PATH_MAX], err[512] = "";
	struct host *h = NULL;
	int r;

	(void)state;
	mkdirs(root, "etc/default");
	assert_int_equal(host_open(root, &h), 0);

	/* irqbalance not installed. */
	assert_int_equal(irqbalance_write(h, CPUS, "6-7", err, sizeof(err)), -ENOENT);
	assert_string_equal(err, "no etc/default/irqbalance or etc/sysconfig/irqbalance");
	assert_int_equal(mode_in(root, "var/lib/isolated"), (mode_t)-1);
	{
		char *v = (char *)"untouched";

		assert_int_equal(host_read_irqbalance(h, CPUS, &v), -ENOENT);
		assert_string_equal(v, "untouched");
	}

	/* Fedora's file, when Debian's is missing. */
	put(root, SYSCONFIG_PATH, "IRQBALANCE_ARGS=\n");
	assert_int_equal(irqbalance_write(h, CPUS, "6-7", err, sizeof(err)), 0);
	assert_file(root, SYSCONFIG_PATH, "IRQBALANCE_ARGS=\nIRQBALANCE_BANNED_CPULIST=\"6-7\"\n");
	assert_file(root, IRQBALANCE_BACKUP_PATH, "IRQBALANCE_ARGS=\n");
	assert_file(root, DEFAULT_PATH, NULL);
	assert_reads(h, CPUS, "6-7");
	assert_int_equal(irqbalance_write(h, CPUS, "", err, sizeof(err)), 0);
	assert_file(root, SYSCONFIG_PATH, "IRQBALANCE_ARGS=\n");
	assert_file(root, IRQBALANCE_BACKUP_PATH, NULL);

	/* Debian's first, when both are there. */
	put(root, DEFAULT_PATH, STOCK);
	assert_int_equal(irqbalance_write(h, CPUS, "6-7", err, sizeof(err)), 0);
	assert_file(root, DEFAULT_PATH, STOCK "IRQBALANCE_BANNED_CPULIST=\"6-7\"\n");
	assert_file(root, SYSCONFIG_PATH, "IRQBALANCE_ARGS=\n");
	assert_int_equal(irqbalance_write(h, CPUS, "", err, sizeof(err)), 0);
	assert_file(root, DEFAULT_PATH, STOCK);
	assert_file(root, IRQBALANCE_BACKUP_PATH, NULL);

	/* A link inside the tree: followed to read, refused before any
	 * write (replacing it would cut the link). */
	snprintf(path, sizeof(path), "%s/" DEFAULT_PATH, root);
	put(root, "etc/default/irqbalance.real", STOCK);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(symlink("irqbalance.real", path), 0);
	err[0] = '\0';
	r = irqbalance_write(h, CPUS, "6-7", err, sizeof(err));
	assert_int_equal(r, -EINVAL);
	if (!strstr(err, "is a symbolic link (replacing it would cut the link)"))
		fail_msg("message \"%s\"", err);
	assert_true(S_ISLNK(mode_in(root, DEFAULT_PATH)));
	assert_file(root, "etc/default/irqbalance.real", STOCK);
	assert_file(root, IRQBALANCE_BACKUP_PATH, NULL);

	/* A link out of the tree: not even read. */
	put(root, "outside", STOCK);
	assert_int_equal(unlink(path), 0);
	{
		char target[PATH_MAX];

		snprintf(target, sizeof(target), "%s/outside", root);
		assert_int_equal(symlink(target, path), 0);
	}
	err[0] = '\0';
	r = irqbalance_write(h, CPUS, "6-7", err, sizeof(err));
	assert_int_equal(r, -EXDEV);
	if (!strstr(err, "reading " DEFAULT_PATH ": "))
		fail_msg("message \"%s\"", err);
	assert_true(S_ISLNK(mode_in(root, DEFAULT_PATH)));
	assert_file(root, "outside", STOCK);
	assert_file(root, IRQBALANCE_BACKUP_PATH, NULL);

	host_free(h);
	rm_rf(root);
	free(root);
}

/* A fault injected into the tree's write: the error, and nothing written. */
static void test_host_write_fault(void **state)
{
	char *root = make_tree_dir("test-irqbalance");
	struct host *h = NULL;

	(void)state;
	put(root, DEFAULT_PATH, STOCK);
	assert_int_equal(host_open(root, &h), 0);
	assert_int_equal(host_set_faults(h, "irqbalance/banned_cpus=EIO"), 0);
	assert_int_equal(host_write_irqbalance(h, CPUS, "6-7"), -EIO);
	assert_file(root, DEFAULT_PATH, STOCK);
	assert_file(root, IRQBALANCE_BACKUP_PATH, NULL);

	/* The other target is not faulted. */
	assert_int_equal(host_write_irqbalance(h, IRQS, "133"), 0);
	assert_null(host_irqbalance_error(h));
	assert_file(root, DEFAULT_PATH, STOCK "IRQBALANCE_ARGS=\"--banirq=133\"\n");
	assert_file(root, IRQBALANCE_BACKUP_PATH, STOCK);

	/* Refused before the file is looked at. */
	assert_int_equal(host_write_irqbalance(h, "irqbalance/nothing", "6"), -EINVAL);
	assert_int_equal(host_write_irqbalance(h, IRQS, "133\n134"), -EINVAL);

	/* An edit it refuses says why. */
	put(root, DEFAULT_PATH, "IRQBALANCE_ARGS=\"--banirq\"\n");
	assert_int_equal(host_write_irqbalance(h, IRQS, "133"), -EINVAL);
	assert_non_null(host_irqbalance_error(h));
	if (!strstr(host_irqbalance_error(h), DEFAULT_PATH ": IRQBALANCE_ARGS has a --banirq without an IRQ number"))
		fail_msg("message \"%s\"", host_irqbalance_error(h));

	host_free(h);
	rm_rf(root);
	free(root);
}

/* The library changes no owner (the daemon's system call filter denies
 * fchown): a defaults file owned by someone else is refused, and nothing
 * is written. Needs root to give the file away. */
static void test_write_other_owner(void **state)
{
	char *root, path[PATH_MAX], err[512] = "";
	struct host *h = NULL;

	(void)state;
	if (geteuid() != 0)
		skip();
	root = make_tree_dir("test-irqbalance");
	put(root, DEFAULT_PATH, STOCK);
	snprintf(path, sizeof(path), "%s/" DEFAULT_PATH, root);
	assert_int_equal(chown(path, 65534, 65534), 0);
	assert_int_equal(host_open(root, &h), 0);
	assert_int_equal(irqbalance_write(h, CPUS, "6-7", err, sizeof(err)), -EPERM);
	if (!strstr(err,
		    DEFAULT_PATH " is owned by 65534:65534, and its replacement would be 0:0 (isolated keeps owners): "
				 "edit it by hand"))
		fail_msg("message \"%s\"", err);
	assert_file(root, DEFAULT_PATH, STOCK);
	assert_int_equal(mode_in(root, "var/lib/isolated/irqbalance.orig"), (mode_t)-1);
	host_free(h);
	rm_rf(root);
	free(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_value),
	    cmocka_unit_test(test_edit),
	    cmocka_unit_test(test_edit_round_trip),
	    cmocka_unit_test(test_write_restore),
	    cmocka_unit_test(test_write_edited_meanwhile),
	    cmocka_unit_test(test_write_which_file),
	    cmocka_unit_test(test_host_write_fault),
	    cmocka_unit_test(test_write_other_owner),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
