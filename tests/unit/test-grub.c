/* Unit tests of the /etc/default/grub editor: real-world shapes of the file
 * edited byte for byte, the ones it must refuse, idempotence, and the
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

#include "isolated/grub.h"
#include "isolated/procfmt.h"
#include "isolated/util.h"
#include "tree-files.h"

/* Debian 12's stock file (grub2-common), around its two variables. */
#define DEBIAN_HEAD                                                                                                    \
	"# If you change this file, run 'update-grub' afterwards to update\n"                                          \
	"# /boot/grub/grub.cfg.\n"                                                                                     \
	"# For full documentation of the options in this file, see:\n"                                                 \
	"#   info -f grub -n 'Simple configuration'\n"                                                                 \
	"\n"                                                                                                           \
	"GRUB_DEFAULT=0\n"                                                                                             \
	"GRUB_TIMEOUT=5\n"                                                                                             \
	"GRUB_DISTRIBUTOR=`lsb_release -i -s 2> /dev/null || echo Debian`\n"
#define DEBIAN_TAIL                                                                                                    \
	"\n"                                                                                                           \
	"# Uncomment to enable BadRAM filtering, modify to suit your needs\n"                                          \
	"#GRUB_BADRAM=\"0x01234567,0xfefefefe,0x89abcdef,0xefefefef\"\n"                                               \
	"\n"                                                                                                           \
	"# Uncomment to get a beep at grub start\n"                                                                    \
	"#GRUB_INIT_TUNE=\"480 440 1\"\n"

/* "$( nested in a double quote, eight times over. */
#define DEEP8 "\"$(\"$(\"$(\"$(\"$(\"$(\"$(\"$("

#define DED "isolcpus=6-7", "nohz_full=6-7", "rcu_nocbs=6-7", "irqaffinity=0-5,8-15"
#define DED_S "isolcpus=6-7 nohz_full=6-7 rcu_nocbs=6-7 irqaffinity=0-5,8-15"

struct edit_case {
	const char *name;
	const char *in;
	const char *params[6]; /* NULL-terminated */
	int r;
	const char *out;   /* expected file; NULL: the input (nothing to change) */
	const char *error; /* substring of the message when r < 0 */
};

static const struct edit_case edit_cases[] = {
    {"debian stock",
     DEBIAN_HEAD "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\nGRUB_CMDLINE_LINUX=\"\"\n" DEBIAN_TAIL,
     {DED},
     0,
     DEBIAN_HEAD "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet " DED_S "\"\nGRUB_CMDLINE_LINUX=\"\"\n" DEBIAN_TAIL,
     NULL},
    {"ubuntu quiet splash, isolcpus of another value replaced in place",
     "GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX_DEFAULT=\"quiet isolcpus=2-3 splash\"\nGRUB_CMDLINE_LINUX=\"\"\n",
     {"isolcpus=6-7", "nohz_full=6-7"},
     0,
     "GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX_DEFAULT=\"quiet isolcpus=6-7 splash "
     "nohz_full=6-7\"\nGRUB_CMDLINE_LINUX=\"\"\n",
     NULL},
    {"every occurrence of another value replaced",
     "GRUB_CMDLINE_LINUX_DEFAULT=\"isolcpus=1 quiet isolcpus=2\"\n",
     {"isolcpus=6-7"},
     0,
     "GRUB_CMDLINE_LINUX_DEFAULT=\"isolcpus=6-7 quiet isolcpus=6-7\"\n",
     NULL},
    {"the same cpus written differently is no change",
     "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet isolcpus=6,7\"\n",
     {"isolcpus=6-7"},
     0,
     NULL,
     NULL},
    {"isolcpus flags are not part of the list",
     "GRUB_CMDLINE_LINUX_DEFAULT=\"isolcpus=managed_irq,domain,6-7 nohz_full=6,7\"\n",
     {"isolcpus=6-7", "nohz_full=6-7"},
     0,
     NULL,
     NULL},
    {"quoted dyndbg kept as written",
     "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet dyndbg=\\\"file foo.c +p\\\"\"\n",
     {"isolcpus=6-7"},
     0,
     "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet dyndbg=\\\"file foo.c +p\\\" isolcpus=6-7\"\n",
     NULL},
    {"a value with spaces written quoted, after an escaped quote",
     "GRUB_CMDLINE_LINUX_DEFAULT=\"a=\\\"x y\\\" dyndbg=\\\"file foo.c +p\\\" b\"\n",
     {"dyndbg=file bar.c +p", "c=$1`x`\\"},
     0,
     "GRUB_CMDLINE_LINUX_DEFAULT=\"a=\\\"x y\\\" dyndbg=\\\"file bar.c +p\\\" b c=\\$1\\`x\\`\\\\\"\n",
     NULL},
    {"single quotes kept",
     "GRUB_CMDLINE_LINUX_DEFAULT='quiet splash $x'\n",
     {"isolcpus=6-7", "dyndbg=file bar.c +p", "o=it's"},
     0,
     "GRUB_CMDLINE_LINUX_DEFAULT='quiet splash $x isolcpus=6-7 dyndbg=\"file bar.c +p\" o=it'\\''s'\n",
     NULL},
    {"export and leading blanks",
     "if true; then\n  export GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\nfi\n",
     {"isolcpus=6-7"},
     0,
     "if true; then\n  export GRUB_CMDLINE_LINUX_DEFAULT=\"quiet isolcpus=6-7\"\nfi\n",
     NULL},
    {"unquoted value gets quotes when it needs them",
     "GRUB_CMDLINE_LINUX_DEFAULT=quiet\n",
     {"isolcpus=6-7"},
     0,
     "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet isolcpus=6-7\"\n",
     NULL},
    {"unquoted value stays unquoted when it can",
     "GRUB_CMDLINE_LINUX_DEFAULT=isolcpus=1 # one word\n",
     {"isolcpus=6-7"},
     0,
     "GRUB_CMDLINE_LINUX_DEFAULT=isolcpus=6-7 # one word\n",
     NULL},
    {"empty unquoted value",
     "GRUB_CMDLINE_LINUX_DEFAULT=\nGRUB_TIMEOUT=5\n",
     {"isolcpus=6-7", "nohz_full=6-7"},
     0,
     "GRUB_CMDLINE_LINUX_DEFAULT=\"isolcpus=6-7 nohz_full=6-7\"\nGRUB_TIMEOUT=5\n",
     NULL},
    {"empty value",
     "GRUB_CMDLINE_LINUX_DEFAULT=\"\"\n",
     {"isolcpus=6-7"},
     0,
     "GRUB_CMDLINE_LINUX_DEFAULT=\"isolcpus=6-7\"\n",
     NULL},
    {"blanks inside the quotes kept",
     "GRUB_CMDLINE_LINUX_DEFAULT=\"  quiet\tsplash  \"\n",
     {"isolcpus=6-7"},
     0,
     "GRUB_CMDLINE_LINUX_DEFAULT=\"  quiet\tsplash isolcpus=6-7  \"\n",
     NULL},
    {"comment after the value, no newline at the end",
     "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"   # stock",
     {"isolcpus=6-7"},
     0,
     "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet isolcpus=6-7\"   # stock",
     NULL},
    {"rhel: no DEFAULT line, one appended",
     "GRUB_TIMEOUT=5\nGRUB_CMDLINE_LINUX=\"crashkernel=1G-4G:192M rd.lvm.lv=rhel/root rhgb quiet\"\n"
     "GRUB_ENABLE_BLSCFG=true\n",
     {DED},
     0,
     "GRUB_TIMEOUT=5\nGRUB_CMDLINE_LINUX=\"crashkernel=1G-4G:192M rd.lvm.lv=rhel/root rhgb quiet\"\n"
     "GRUB_ENABLE_BLSCFG=true\nGRUB_CMDLINE_LINUX_DEFAULT=\"" DED_S "\"\n",
     NULL},
    {"no DEFAULT line and no newline at the end",
     "GRUB_TIMEOUT=5",
     {"dyndbg=file bar.c +p"},
     0,
     "GRUB_TIMEOUT=5\nGRUB_CMDLINE_LINUX_DEFAULT=\"dyndbg=\\\"file bar.c +p\\\"\"\n",
     NULL},
    {"commented-out DEFAULT line is not an assignment",
     "#GRUB_CMDLINE_LINUX_DEFAULT=\"quiet splash\"\n",
     {"isolcpus=6-7"},
     0,
     "#GRUB_CMDLINE_LINUX_DEFAULT=\"quiet splash\"\nGRUB_CMDLINE_LINUX_DEFAULT=\"isolcpus=6-7\"\n",
     NULL},
    {"the name inside another value is not an assignment",
     "GRUB_X=\"GRUB_CMDLINE_LINUX_DEFAULT=x\"\nGRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\nGRUB_Y=$GRUB_CMDLINE_LINUX_"
     "DEFAULT\n",
     {"isolcpus=6-7"},
     0,
     "GRUB_X=\"GRUB_CMDLINE_LINUX_DEFAULT=x\"\nGRUB_CMDLINE_LINUX_DEFAULT=\"quiet isolcpus=6-7\"\n"
     "GRUB_Y=$GRUB_CMDLINE_LINUX_DEFAULT\n",
     NULL},
    {"GRUB_CMDLINE_LINUX with other values: replaced there too",
     "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\nGRUB_CMDLINE_LINUX=\"isolcpus=4-7 nohz_full=4-7 rcu_nocbs=4-5 "
     "console=ttyS0\"\n",
     {"isolcpus=6-7", "nohz_full=6-7", "rcu_nocbs=6-7"},
     0,
     "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet isolcpus=6-7 nohz_full=6-7 rcu_nocbs=6-7\"\n"
     "GRUB_CMDLINE_LINUX=\"isolcpus=6-7 nohz_full=6-7 rcu_nocbs=6-7 console=ttyS0\"\n",
     NULL},
    {"GRUB_CMDLINE_LINUX with the same value: left alone",
     "GRUB_CMDLINE_LINUX=\"isolcpus=6,7\"\nGRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\n",
     {"isolcpus=6-7"},
     0,
     "GRUB_CMDLINE_LINUX=\"isolcpus=6,7\"\nGRUB_CMDLINE_LINUX_DEFAULT=\"quiet isolcpus=6-7\"\n",
     NULL},
    {"GRUB_CMDLINE_LINUX needing no change is not looked at",
     "GRUB_CMDLINE_LINUX=\"rd.lvm \\\n  crashkernel=auto\"\nGRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\n",
     {"isolcpus=6-7"},
     0,
     "GRUB_CMDLINE_LINUX=\"rd.lvm \\\n  crashkernel=auto\"\nGRUB_CMDLINE_LINUX_DEFAULT=\"quiet isolcpus=6-7\"\n",
     NULL},
    {"parameters go before a \"--\"",
     "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet -- single isolcpus=1\"\n",
     {"isolcpus=6-7", "nohz_full=6-7"},
     0,
     "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet isolcpus=6-7 nohz_full=6-7 -- single isolcpus=1\"\n",
     NULL},
    {"bare key present", "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet threadirqs\"\n", {"threadirqs"}, 0, NULL, NULL},
    {"bare key with a value replaced",
     "GRUB_CMDLINE_LINUX_DEFAULT=\"threadirqs=1 quiet\"\n",
     {"threadirqs"},
     0,
     "GRUB_CMDLINE_LINUX_DEFAULT=\"threadirqs quiet\"\n",
     NULL},
    {"a parameter required twice with the same value",
     "GRUB_CMDLINE_LINUX_DEFAULT=\"\"\n",
     {"isolcpus=6-7", "isolcpus=6,7"},
     0,
     "GRUB_CMDLINE_LINUX_DEFAULT=\"isolcpus=6-7\"\n",
     NULL},
    {"no parameters: nothing to do", DEBIAN_HEAD DEBIAN_TAIL, {NULL}, 0, NULL, NULL},

    {"nested substitutions on other lines are skipped whole",
     "GRUB_DISTRIBUTOR=\"$(echo \"$(lsb_release -i -s) ${X:-\"a)b\"}\")\"\n"
     "GRUB_Y=$(echo GRUB_CMDLINE_LINUX_DEFAULT=1 ')')\nGRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\n",
     {"isolcpus=6-7"},
     0,
     "GRUB_DISTRIBUTOR=\"$(echo \"$(lsb_release -i -s) ${X:-\"a)b\"}\")\"\n"
     "GRUB_Y=$(echo GRUB_CMDLINE_LINUX_DEFAULT=1 ')')\nGRUB_CMDLINE_LINUX_DEFAULT=\"quiet isolcpus=6-7\"\n",
     NULL},

    /* Refused. */
    {"where the reader and the locator disagree, the read-back refuses",
     "GRUB_DISTRIBUTOR=`lsb_release || \"echo Debian`\nGRUB_X=\"quiet\"\n",
     {"isolcpus=6-7"},
     -EINVAL,
     NULL,
     "the edited file would not read back as intended"},
    {"an unterminated substitution hides the assignment from sh",
     "GRUB_X=$(echo a\nGRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\n",
     {"isolcpus=6-7"},
     -EINVAL,
     NULL,
     "line 1: a quote or substitution opened here is never closed"},
    {"substitutions nested too deeply",
     "GRUB_X=" DEEP8 DEEP8 DEEP8 DEEP8 DEEP8 "x"
     "\nGRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\n",
     {"isolcpus=6-7"},
     -EINVAL,
     NULL,
     "line 1: quotes and substitutions nested too deeply"},
    {"continuation in the value",
     "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet \\\n splash\"\n",
     {"isolcpus=6-7"},
     -EINVAL,
     NULL,
     "line 1: the value of GRUB_CMDLINE_LINUX_DEFAULT continues on the next line (backslash)"},
    {"continuation after the value",
     "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\" \\\n GRUB_X=1\n",
     {"isolcpus=6-7"},
     -EINVAL,
     NULL,
     "continues on the next line"},
    {"continuation of an unquoted value",
     "GRUB_CMDLINE_LINUX_DEFAULT=quiet\\\nsplash\n",
     {"isolcpus=6-7"},
     -EINVAL,
     NULL,
     "continues on the next line"},
    {"assigned on a continued line",
     "GRUB_X=1 \\\nGRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\n",
     {"isolcpus=6-7"},
     -EINVAL,
     NULL,
     "line 2: GRUB_CMDLINE_LINUX_DEFAULT is assigned on a line continued"},
    {"command substitution",
     "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet $(cat /etc/extra)\"\n",
     {"isolcpus=6-7"},
     -EINVAL,
     NULL,
     "refers to a variable or runs a command ($)"},
    {"backquotes",
     "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet `cat /etc/extra`\"\n",
     {"isolcpus=6-7"},
     -EINVAL,
     NULL,
     "runs a command (`)"},
    {"variable reference",
     "GRUB_CMDLINE_LINUX_DEFAULT=\"${GRUB_X} quiet\"\n",
     {"isolcpus=6-7"},
     -EINVAL,
     NULL,
     "refers to a variable"},
    {"unquoted variable reference",
     "GRUB_CMDLINE_LINUX_DEFAULT=$GRUB_X\n",
     {"isolcpus=6-7"},
     -EINVAL,
     NULL,
     "refers to a variable"},
    {"assigned twice",
     "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\n\nGRUB_CMDLINE_LINUX_DEFAULT=\"$GRUB_CMDLINE_LINUX_DEFAULT x\"\n",
     {"isolcpus=6-7"},
     -EINVAL,
     NULL,
     "GRUB_CMDLINE_LINUX_DEFAULT is assigned 2 times (lines 1 and 3)"},
    {"assigned after another command",
     "GRUB_TIMEOUT=5; GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\n",
     {"isolcpus=6-7"},
     -EINVAL,
     NULL,
     "line 1: GRUB_CMDLINE_LINUX_DEFAULT is assigned after another command on its line"},
    {"conditional assignment",
     "[ -e /x ] && GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\n",
     {"isolcpus=6-7"},
     -EINVAL,
     NULL,
     "after another command"},
    {"exported on its own",
     "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\nexport GRUB_CMDLINE_LINUX_DEFAULT\n",
     {"isolcpus=6-7"},
     -EINVAL,
     NULL,
     "line 2: GRUB_CMDLINE_LINUX_DEFAULT is used other than in a plain assignment"},
    {"several quoted parts",
     "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"' splash'\n",
     {"isolcpus=6-7"},
     -EINVAL,
     NULL,
     "made of several quoted and unquoted parts"},
    {"more on the line",
     "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\" GRUB_X=1\n",
     {"isolcpus=6-7"},
     -EINVAL,
     NULL,
     "is followed by more on its line"},
    {"a value spanning lines",
     "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\nsplash\"\n",
     {"isolcpus=6-7"},
     -EINVAL,
     NULL,
     "spans several lines"},
    {"CRLF line ends", "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\r\n", {"isolcpus=6-7"}, -EINVAL, NULL, "carriage return"},
    {"unterminated quote", "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\n", {"isolcpus=6-7"}, -EINVAL, NULL, "unterminated"},
    {"unbalanced kernel quote",
     "GRUB_CMDLINE_LINUX_DEFAULT='quiet dyndbg=\"x'\n",
     {"isolcpus=6-7"},
     -EINVAL,
     NULL,
     "GRUB_CMDLINE_LINUX_DEFAULT has an unbalanced double quote"},
    {"\"--\" in GRUB_CMDLINE_LINUX",
     "GRUB_CMDLINE_LINUX=\"ro -- single\"\nGRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\n",
     {"isolcpus=6-7"},
     -EINVAL,
     NULL,
     "GRUB_CMDLINE_LINUX has \"--\""},
    {"GRUB_CMDLINE_LINUX to change but not editable",
     "GRUB_CMDLINE_LINUX=\"isolcpus=1 \\\n ro\"\nGRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\n",
     {"isolcpus=6-7"},
     -EINVAL,
     NULL,
     "line 1: the value of GRUB_CMDLINE_LINUX continues"},
    {"no DEFAULT line after a trailing backslash", "GRUB_X=1 \\\n", {"isolcpus=6-7"}, -EINVAL, NULL, "backslash"},
    {"a double quote in a parameter",
     "GRUB_CMDLINE_LINUX_DEFAULT=\"\"\n",
     {"isolcpus=6-7", "x=a\"b"},
     -EINVAL,
     NULL,
     "a double quote cannot be passed to the kernel"},
    {"a control character in a parameter",
     "GRUB_CMDLINE_LINUX_DEFAULT=\"\"\n",
     {"x=a\nb"},
     -EINVAL,
     NULL,
     "control characters"},
    {"an empty key", "GRUB_CMDLINE_LINUX_DEFAULT=\"\"\n", {"=6-7"}, -EINVAL, NULL, "no name before '='"},
    {"a value doubled on every line",
     "GRUB_CMDLINE_LINUX_DEFAULT=xxxxxxxxxxxxxxxx\n"
     "GRUB_CMDLINE_LINUX_DEFAULT=\"$GRUB_CMDLINE_LINUX_DEFAULT$GRUB_CMDLINE_LINUX_DEFAULT\"\n"
     "GRUB_CMDLINE_LINUX_DEFAULT=\"$GRUB_CMDLINE_LINUX_DEFAULT$GRUB_CMDLINE_LINUX_DEFAULT\"\n"
     "GRUB_CMDLINE_LINUX_DEFAULT=\"$GRUB_CMDLINE_LINUX_DEFAULT$GRUB_CMDLINE_LINUX_DEFAULT\"\n"
     "GRUB_CMDLINE_LINUX_DEFAULT=\"$GRUB_CMDLINE_LINUX_DEFAULT$GRUB_CMDLINE_LINUX_DEFAULT\"\n"
     "GRUB_CMDLINE_LINUX_DEFAULT=\"$GRUB_CMDLINE_LINUX_DEFAULT$GRUB_CMDLINE_LINUX_DEFAULT\"\n"
     "GRUB_CMDLINE_LINUX_DEFAULT=\"$GRUB_CMDLINE_LINUX_DEFAULT$GRUB_CMDLINE_LINUX_DEFAULT\"\n"
     "GRUB_CMDLINE_LINUX_DEFAULT=\"$GRUB_CMDLINE_LINUX_DEFAULT$GRUB_CMDLINE_LINUX_DEFAULT\"\n"
     "GRUB_CMDLINE_LINUX_DEFAULT=\"$GRUB_CMDLINE_LINUX_DEFAULT$GRUB_CMDLINE_LINUX_DEFAULT\"\n"
     "GRUB_CMDLINE_LINUX_DEFAULT=\"$GRUB_CMDLINE_LINUX_DEFAULT$GRUB_CMDLINE_LINUX_DEFAULT\"\n"
     "GRUB_CMDLINE_LINUX_DEFAULT=\"$GRUB_CMDLINE_LINUX_DEFAULT$GRUB_CMDLINE_LINUX_DEFAULT\"\n"
     "GRUB_CMDLINE_LINUX_DEFAULT=\"$GRUB_CMDLINE_LINUX_DEFAULT$GRUB_CMDLINE_LINUX_DEFAULT\"\n"
     "GRUB_CMDLINE_LINUX_DEFAULT=\"$GRUB_CMDLINE_LINUX_DEFAULT$GRUB_CMDLINE_LINUX_DEFAULT\"\n"
     "GRUB_CMDLINE_LINUX_DEFAULT=\"$GRUB_CMDLINE_LINUX_DEFAULT$GRUB_CMDLINE_LINUX_DEFAULT\"\n",
     {"isolcpus=6-7"},
     -EINVAL,
     NULL,
     "a value longer than 65536 bytes after variable expansion"},
    {"a bare \"--\" as a parameter",
     "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet --\"\n",
     {"isolcpus=6-7", "--"},
     -EINVAL,
     NULL,
     "it ends the kernel's parameters"},
    {"one key with two values",
     "GRUB_CMDLINE_LINUX_DEFAULT=\"\"\n",
     {"isolcpus=6-7", "isolcpus=4-7"},
     -EINVAL,
     NULL,
     "boot parameter isolcpus is required twice, as isolcpus=6-7 and isolcpus=4-7"},
};

/* What the shell would read from the new file has every parameter, in
 * GRUB_CMDLINE_LINUX_DEFAULT and, where GRUB_CMDLINE_LINUX has it, there. */
static void check_params_read_back(const char *buf, size_t len, const char *const *params)
{
	char *lin = NULL, *def = NULL;

	assert_int_equal(procfmt_parse_grub(buf, len, &lin, &def), 0);
	for (size_t k = 0; params[k]; k++) {
		char *key = strdup(params[k]), *eq = strchr(key, '='), *got = NULL;
		const char *want = eq ? eq + 1 : NULL;

		if (eq)
			*eq = '\0';
		assert_non_null(def);
		assert_int_equal(procfmt_cmdline_get(def, key, &got), 1);
		if (!grub_param_equal(key, got, want))
			fail_msg("%s: %s=%s in the new GRUB_CMDLINE_LINUX_DEFAULT", params[k], key,
				 got ? got : "(none)");
		free(got);
		got = NULL;
		if (lin && procfmt_cmdline_get(lin, key, &got) == 1 && !grub_param_equal(key, got, want))
			fail_msg("%s: %s=%s left in GRUB_CMDLINE_LINUX", params[k], key, got ? got : "(none)");
		free(got);
		free(key);
	}
	free(lin);
	free(def);
}

static void test_edit(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(edit_cases); i++) {
		const struct edit_case *c = &edit_cases[i];
		char err[256] = "", *out = (char *)"untouched", *again = NULL;
		size_t len = 12345, len2;
		bool changed = true, changed2 = true;
		int r;

		r = grub_edit(c->in, strlen(c->in), (char *const *)c->params, &out, &len, &changed, err, sizeof(err));
		if (r != c->r)
			fail_msg("%s: returned %d (%s), expected %d", c->name, r, err, c->r);
		if (r < 0) {
			if (!strstr(err, c->error))
				fail_msg("%s: message \"%s\" lacks \"%s\"", c->name, err, c->error);
			assert_string_equal(out, "untouched");
			assert_int_equal(len, 12345);
			assert_true(changed);
			continue;
		}
		if (strcmp(out, c->out ? c->out : c->in) != 0)
			fail_msg("%s: got\n%s\nexpected\n%s", c->name, out, c->out ? c->out : c->in);
		assert_int_equal(len, strlen(out));
		if (changed != (c->out != NULL))
			fail_msg("%s: changed is %d", c->name, changed);
		check_params_read_back(out, len, c->params);

		/* Idempotent: the second edit changes nothing. */
		assert_int_equal(
		    grub_edit(out, len, (char *const *)c->params, &again, &len2, &changed2, err, sizeof(err)), 0);
		if (changed2 || strcmp(again, out) != 0)
			fail_msg("%s: the second edit changed\n%s\ninto\n%s", c->name, out, again);
		free(again);
		free(out);
	}
}

/* The edit without a file, as isoctl grub MODE prints it. */
static void test_edit_values(void **state)
{
	char *const ded[] = {"isolcpus=6-7", "dyndbg=file foo.c +p", NULL};
	char *l = (char *)"x", *d = (char *)"x", err[256];
	bool changed = false;

	(void)state;
	assert_int_equal(grub_edit_values("isolcpus=4-7 ro", "quiet dyndbg=\"file a.c +p\"", ded, &l, &d, &changed, err,
					  sizeof(err)),
			 0);
	assert_string_equal(l, "isolcpus=6-7 ro");
	assert_string_equal(d, "quiet dyndbg=\"file foo.c +p\" isolcpus=6-7");
	assert_true(changed);
	free(l);
	free(d);

	assert_int_equal(grub_edit_values(NULL, NULL, ded, &l, &d, &changed, err, sizeof(err)), 0);
	assert_null(l);
	assert_string_equal(d, "isolcpus=6-7 dyndbg=\"file foo.c +p\"");
	free(d);

	assert_int_equal(grub_edit_values("ro", "quiet isolcpus=6,7 dyndbg=\"file foo.c +p\"", ded, &l, &d, &changed,
					  err, sizeof(err)),
			 0);
	assert_false(changed);
	assert_string_equal(l, "ro");
	assert_string_equal(d, "quiet isolcpus=6,7 dyndbg=\"file foo.c +p\"");
	free(l);
	free(d);

	{
		char *const none[] = {NULL};

		assert_int_equal(grub_edit_values(NULL, NULL, none, &l, &d, &changed, err, sizeof(err)), 0);
		assert_null(l);
		assert_null(d);
		assert_false(changed);
	}
	l = d = (char *)"untouched";
	assert_int_equal(grub_edit_values("ro -- single", "", ded, &l, &d, &changed, err, sizeof(err)), -EINVAL);
	assert_string_equal(l, "untouched");
	assert_string_equal(d, "untouched");
}

/* tuned #514: 112 CPUs, isolated_cores expanded one by one overflowed the
 * 1024-byte grubenv block. Ours are written as ranges. */
static void test_param_shortest(void **state)
{
	struct sbuf b = {0};
	char *list, *param, *got;

	(void)state;
	for (int cpu = 1; cpu <= 111; cpu++)
		if ((cpu <= 27 || cpu == 29 || cpu == 55 || (cpu >= 57 && cpu <= 83) || cpu >= 85)) {
			if (b.len)
				sbuf_addc(&b, ',');
			sbuf_addf(&b, "%d", cpu);
		}
	list = sbuf_take(&b);
	assert_true(strlen(list) > 250);
	param = util_sprintf("isolcpus=managed_irq,domain,%s", list);
	got = grub_param_shortest(param);
	assert_string_equal(got, "isolcpus=managed_irq,domain,1-27,29,55,57-83,85-111");
	free(got);
	free(param);
	param = util_sprintf("nohz_full=%s", list);
	got = grub_param_shortest(param);
	assert_string_equal(got, "nohz_full=1-27,29,55,57-83,85-111");
	free(got);
	free(param);
	free(list);
	/* Not a CPU list, or one that does not parse: as it is. */
	got = grub_param_shortest("intel_idle.max_cstate=0");
	assert_string_equal(got, "intel_idle.max_cstate=0");
	free(got);
	got = grub_param_shortest("rcu_nocbs=x");
	assert_string_equal(got, "rcu_nocbs=x");
	free(got);
	got = grub_param_shortest("threadirqs");
	assert_string_equal(got, "threadirqs");
	free(got);
}

static void test_param_equal(void **state)
{
	(void)state;
	assert_true(grub_param_equal("isolcpus", "6,7", "6-7"));
	assert_true(grub_param_equal("isolcpus", "managed_irq,domain,6-7", "6-7"));
	assert_false(grub_param_equal("isolcpus", "4-7", "6-7"));
	assert_true(grub_param_equal("irqaffinity", "0-5,8-15", "8-15,0-5"));
	assert_false(grub_param_equal("idle", "poll", "halt"));
	assert_true(grub_param_equal("idle", "poll", "poll"));
	/* Not a cpu list parameter: text. */
	assert_false(grub_param_equal("foo", "6,7", "6-7"));
	assert_true(grub_param_equal("threadirqs", NULL, NULL));
	assert_false(grub_param_equal("threadirqs", NULL, "1"));
	/* Unparsable lists compare as text. */
	assert_true(grub_param_equal("nohz_full", "x", "x"));
	assert_false(grub_param_equal("nohz_full", "x", "6-7"));
}

/* ---- the write and the restore, on a temp tree ---- */

static void test_write_restore(void **state)
{
	static const char orig[] = "GRUB_TIMEOUT=5\nGRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\n";
	static const char v1[] = "GRUB_TIMEOUT=5\nGRUB_CMDLINE_LINUX_DEFAULT=\"quiet isolcpus=6-7\"\n";
	static const char v2[] = "GRUB_TIMEOUT=5\nGRUB_CMDLINE_LINUX_DEFAULT=\"quiet isolcpus=4-7\"\n";
	char *root = make_tree_dir("test-grub"), path[PATH_MAX], err[256], *s;
	struct host *h = NULL;
	bool made = false;
	mode_t old_umask;

	(void)state;
	put(root, GRUB_PATH, orig);
	snprintf(path, sizeof(path), "%s/" GRUB_PATH, root);
	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(host_open(root, &h), 0);

	/* A restrictive umask must not make the backup directory unreadable. */
	old_umask = umask(077);
	assert_int_equal(grub_write(h, orig, strlen(orig), v1, strlen(v1), fchown, &made, err, sizeof(err)), 0);
	umask(old_umask);
	assert_true(made);
	s = read_in(root, GRUB_PATH);
	assert_string_equal(s, v1);
	free(s);
	s = read_in(root, GRUB_BACKUP_PATH);
	assert_string_equal(s, orig);
	free(s);
	assert_int_equal(mode_in(root, GRUB_PATH) & 07777, 0640);
	assert_true(S_ISREG(mode_in(root, GRUB_PATH)));
	assert_int_equal(mode_in(root, GRUB_BACKUP_PATH) & 07777, 0644);
	assert_int_equal(mode_in(root, GRUB_BACKUP_DIR) & 07777, 0755);
	assert_int_equal(mode_in(root, "var/lib") & 07777, 0755);
	assert_int_equal(mode_in(root, "etc/default/.grub.isoctl-tmp"), (mode_t)-1);
	assert_int_equal(mode_in(root, GRUB_BACKUP_DIR "/.grub.orig.isoctl-tmp"), (mode_t)-1);

	/* The second write keeps the first backup: it is the original. */
	made = true;
	assert_int_equal(grub_write(h, v1, strlen(v1), v2, strlen(v2), fchown, &made, err, sizeof(err)), 0);
	assert_false(made);
	s = read_in(root, GRUB_BACKUP_PATH);
	assert_string_equal(s, orig);
	free(s);
	s = read_in(root, GRUB_PATH);
	assert_string_equal(s, v2);
	free(s);

	/* A stale temporary file from an interrupted run is no obstacle. */
	put(root, "etc/default/.grub.isoctl-tmp", "junk");
	assert_int_equal(grub_restore(h, fchown, err, sizeof(err)), 0);
	s = read_in(root, GRUB_PATH);
	assert_string_equal(s, orig);
	free(s);
	assert_int_equal(mode_in(root, GRUB_PATH) & 07777, 0640);
	assert_int_equal(mode_in(root, GRUB_BACKUP_PATH), (mode_t)-1);
	assert_int_equal(mode_in(root, "etc/default/.grub.isoctl-tmp"), (mode_t)-1);

	err[0] = '\0';
	assert_int_equal(grub_restore(h, fchown, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "no backup"));

	/* Restore when the file was removed: it comes back with the backup's mode. */
	assert_int_equal(grub_write(h, orig, strlen(orig), v1, strlen(v1), fchown, &made, err, sizeof(err)), 0);
	assert_true(made);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(grub_restore(h, fchown, err, sizeof(err)), 0);
	s = read_in(root, GRUB_PATH);
	assert_string_equal(s, orig);
	free(s);
	assert_int_equal(mode_in(root, GRUB_PATH) & 07777, 0644);

	/* A symbolic link is refused before anything is written. */
	{
		char target[PATH_MAX];

		snprintf(target, sizeof(target), "%s/etc/default/grub.real", root);
		assert_int_equal(rename(path, target), 0);
		assert_int_equal(symlink("grub.real", path), 0);
	}
	assert_int_equal(grub_write(h, orig, strlen(orig), v1, strlen(v1), fchown, &made, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "symbolic link"));
	assert_int_equal(mode_in(root, GRUB_BACKUP_PATH), (mode_t)-1);
	assert_true(S_ISLNK(mode_in(root, GRUB_PATH)));

	/* No file at all. */
	assert_int_equal(unlink(path), 0);
	assert_int_equal(grub_write(h, orig, strlen(orig), v1, strlen(v1), fchown, &made, err, sizeof(err)), -ENOENT);

	host_free(h);
	rm_rf(root);
	free(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_edit),	  cmocka_unit_test(test_edit_values),
	    cmocka_unit_test(test_param_equal),	  cmocka_unit_test(test_param_shortest),
	    cmocka_unit_test(test_write_restore),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
