/* Unit tests of the engine's small helpers: text made safe to show
 * (util_escape), the UTF-8 reader behind it, diag lines, which use it, and
 * the durable write (util_write_replace). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "isolated/util.h"

static const struct {
	const char *in, *out, *out_nl; /* out_nl: with keep_newlines (NULL: as out) */
} escapes[] = {
    {"", "", NULL},
    {"CPU 0/KVM", "CPU 0/KVM", NULL},
    {"tab\there", "tab\there", NULL},
    /* what anyone can set with prctl(PR_SET_NAME): 14 bytes, a title and a clear screen */
    {"\x1b]0;pwned\a\x1b[2J", "\\x1b]0;pwned\\x07\\x1b[2J", NULL},
    {"a\nb", "a\\x0ab", "a\nb"},
    {"cr\rback\bdel\x7f", "cr\\x0dback\\x08del\\x7f", NULL},
    {"\x01\x1f", "\\x01\\x1f", NULL},
    /* valid UTF-8 stays, the C1 controls (CSI is U+009B) do not */
    {"vm-\xc3\xa9t\xc3\xa9", "vm-\xc3\xa9t\xc3\xa9", NULL},
    {"\xe2\x82\xac \xf0\x9f\x90\xa7", "\xe2\x82\xac \xf0\x9f\x90\xa7", NULL},
    {"\xc2\x9b"
     "2J",
     "\\xc2\\x9b2J", NULL},
    {"\xc2\x80\xc2\x9f\xc2\xa0", "\\xc2\\x80\\xc2\\x9f\xc2\xa0", NULL},
    /* bytes that are not UTF-8, one escape each; what follows them is read afresh */
    {"d\xe9"
     "dicated",
     "d\\xe9dicated", NULL},
    {"\x9b"
     "2J",
     "\\x9b2J", NULL},
    {"\xc3", "\\xc3", NULL},
    {"\xc3\xc3\xa9", "\\xc3\xc3\xa9", NULL},
    {"\xc0\xaf", "\\xc0\\xaf", NULL},			/* overlong "/" */
    {"\xed\xa0\x80", "\\xed\\xa0\\x80", NULL},		/* a surrogate */
    {"\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80", NULL}, /* beyond U+10FFFF */
    {"\xe2\x82", "\\xe2\\x82", NULL},			/* cut short */
    /* a backslash is left alone: escaping an escaped line changes nothing */
    {"\\x1b", "\\x1b", NULL},
};

static void test_escape(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(escapes) / sizeof(escapes[0]); i++)
		for (int keep = 0; keep < 2; keep++) {
			const char *want = keep && escapes[i].out_nl ? escapes[i].out_nl : escapes[i].out;
			char *got = util_escape(escapes[i].in, keep), *again;

			assert_non_null(got);
			if (strcmp(got, want) != 0)
				print_error("case %zu keep %d: got \"%s\", want \"%s\"\n", i, keep, got, want);
			assert_string_equal(got, want);
			assert_int_equal(util_escape_needed(escapes[i].in, keep), strcmp(escapes[i].in, want) != 0);
			again = util_escape(got, keep);
			assert_string_equal(again, got);
			assert_false(util_escape_needed(got, keep));
			free(again);
			free(got);
		}
}

static void test_utf8_seq(void **state)
{
	(void)state;
	assert_int_equal(util_utf8_seq("a"), 1);
	assert_int_equal(util_utf8_seq("\xc3\xa9"), 2);
	assert_int_equal(util_utf8_seq("\xe2\x82\xac"), 3);
	assert_int_equal(util_utf8_seq("\xf0\x9f\x90\xa7"), 4);
	assert_int_equal(util_utf8_seq("\xc3"), 0);
	assert_int_equal(util_utf8_seq("\xe0\x80\x80"), 0);
	assert_int_equal(util_utf8_seq("\x80"), 0);
	assert_int_equal(util_utf8_seq("\xff"), 0);
}

static char *vfmt(bool keep, const char *fmt, ...) ISO_PRINTF(2, 3);
static char *vfmt(bool keep, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = util_escape_vsprintf(keep, fmt, ap);
	va_end(ap);
	return s;
}

/* The fields are escaped, and so are the format's own newlines unless kept. */
static void test_escape_vsprintf(void **state)
{
	char *s;

	(void)state;
	s = vfmt(false, "tid/%d (%s)\n", 813, "\x1b[2J");
	assert_string_equal(s, "tid/813 (\\x1b[2J)\\x0a");
	free(s);
	s = vfmt(true, "a %s\nb\n", "\r");
	assert_string_equal(s, "a \\x0d\nb\n");
	free(s);
}

/* Diag lines reach a terminal or a D-Bus caller: escaped, as isoctl prints them. */
static void test_diag_escaped(void **state)
{
	struct diag d = {0};

	(void)state;
	diag_add(&d, "f.conf", 2, "unknown type \"%s\"",
		 "d\xe9"
		 "dicated");
	diag_add(&d, "f.conf", 3, "value \"%s\"", "0\x1b[2J");
	diag_add(&d, NULL, 0, "%s", "ok \xc3\xa9\ttab");
	assert_int_equal(d.n, 3);
	assert_string_equal(d.lines[0], "f.conf:2: unknown type \"d\\xe9dicated\"");
	assert_string_equal(d.lines[1], "f.conf:3: value \"0\\x1b[2J\"");
	assert_string_equal(d.lines[2], "ok \xc3\xa9\ttab");
	diag_free(&d);
}

static int refuse_fix(int fd, const struct stat *st, void *userdata)
{
	(void)fd;
	(void)st;
	(*(int *)userdata)++;
	return -EPERM;
}

static char *read_back(int dfd, const char *name)
{
	char *buf = NULL;

	if (util_read_at(dfd, name, 4096, &buf, NULL) < 0)
		return NULL;
	return buf;
}

/* A new file, a replaced one, no_replace, a stale temporary file, and a
 * rename that fails: the temporary file never stays, the step is said. */
static void test_write_replace(void **state)
{
	char dir[] = "/tmp/test-util-XXXXXX", *s;
	struct util_replace o = {.tmp = "f.tmp", .mode = 0640, .sync = true};
	enum util_write_step step = UTIL_WRITE_DATA;
	struct stat st, ret_st;
	int dfd, fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	dfd = open(dir, O_RDONLY | O_DIRECTORY);
	assert_true(dfd >= 0);

	o.ret_st = &ret_st;
	assert_int_equal(util_write_replace(dfd, "f", "one\n", 4, &o, &step), 0);
	assert_string_equal(s = read_back(dfd, "f"), "one\n");
	free(s);
	assert_int_equal(fstatat(dfd, "f", &st, 0), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_int_equal(st.st_ino, ret_st.st_ino);
	assert_int_equal(st.st_size, 4);

	/* a stale temporary file goes; the file is replaced */
	fd = openat(dfd, "f.tmp", O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	close(fd);
	o.ret_st = NULL;
	o.sync = false;
	assert_int_equal(util_write_replace(dfd, "f", "two\n", 4, &o, &step), 0);
	assert_string_equal(s = read_back(dfd, "f"), "two\n");
	free(s);
	assert_int_equal(faccessat(dfd, "f.tmp", F_OK, 0), -1);

	/* no_replace: an existing file stays */
	o.no_replace = true;
	assert_int_equal(util_write_replace(dfd, "f", "three\n", 6, &o, &step), -EEXIST);
	assert_int_equal(step, UTIL_WRITE_RENAME);
	assert_string_equal(s = read_back(dfd, "f"), "two\n");
	free(s);
	assert_int_equal(faccessat(dfd, "f.tmp", F_OK, 0), -1);
	assert_int_equal(util_write_replace(dfd, "g", "new\n", 4, &o, &step), 0);
	assert_string_equal(s = read_back(dfd, "g"), "new\n");
	free(s);

	/* renaming over a non-empty directory fails, and the temporary file goes */
	o.no_replace = false;
	assert_int_equal(mkdirat(dfd, "d", 0700), 0);
	fd = openat(dfd, "d/x", O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_true(util_write_replace(dfd, "d", "x", 1, &o, &step) < 0);
	assert_int_equal(step, UTIL_WRITE_RENAME);
	assert_int_equal(faccessat(dfd, "f.tmp", F_OK, 0), -1);

	/* the fix hook fails: the step is the mode's, name stays */
	int calls = 0;
	o.fix = refuse_fix;
	o.userdata = &calls;
	assert_int_equal(util_write_replace(dfd, "f", "x", 1, &o, &step), -EPERM);
	assert_int_equal(step, UTIL_WRITE_MODE);
	assert_int_equal(calls, 1);
	assert_int_equal(faccessat(dfd, "f.tmp", F_OK, 0), -1);
	assert_string_equal(s = read_back(dfd, "f"), "two\n");
	free(s);
	o.fix = NULL;

	/* a temporary name that is a directory cannot be removed as stale */
	assert_int_equal(mkdirat(dfd, "f.tmp", 0700), 0);
	assert_int_equal(util_write_replace(dfd, "f", "x", 1, &o, &step), -EISDIR);
	assert_int_equal(step, UTIL_WRITE_REMOVE_STALE);

	unlinkat(dfd, "f.tmp", AT_REMOVEDIR);
	unlinkat(dfd, "d/x", 0);
	unlinkat(dfd, "d", AT_REMOVEDIR);
	unlinkat(dfd, "f", 0);
	unlinkat(dfd, "g", 0);
	close(dfd);
	assert_int_equal(rmdir(dir), 0);
}

/* A bare line (no file) is printed after the front door's name, a FILE:LINE
 * line as it is; diag_append keeps which is which. */
static void test_diag_bare(void **state)
{
	struct diag d = {0}, all = {0};

	(void)state;
	diag_add(&d, "f.conf", 2, "bad");
	diag_add(&d, "f.conf", 0, "unreadable");
	diag_add(&d, NULL, 0, "unknown mode \"%s\"", "x");
	diag_add(&all, NULL, 0, "first");
	diag_append(&all, &d);
	assert_int_equal(all.n, 4);
	assert_true(all.bare[0]);
	assert_false(all.bare[1]);
	assert_false(all.bare[2]);
	assert_true(all.bare[3]);
	assert_string_equal(all.lines[3], "unknown mode \"x\"");
	assert_null(all.lines[4]);
	diag_free(&d);
	diag_free(&all);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_escape),	    cmocka_unit_test(test_utf8_seq),
	    cmocka_unit_test(test_escape_vsprintf), cmocka_unit_test(test_diag_escaped),
	    cmocka_unit_test(test_write_replace),
	    cmocka_unit_test(test_diag_bare),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
