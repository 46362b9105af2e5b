/* Unit tests of the INI reader's comments: which block of comment lines a
 * key or a section header keeps (isoctl show prints them as the policy's
 * reasons), as a table of files and the document they read as. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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

#include "isolated/conf.h"
#include "isolated/trust.h"

struct conf_case {
	const char *name;
	const char *text;
	/* The document: a line "[HEADER]" per section ("[-]" for keys before
	 * any, "[!]" for a broken header), one "KEY" line per key, each
	 * followed by " # COMMENT" when it has one, its lines joined by "|". */
	const char *doc;
	unsigned n_errors;
};

static const struct conf_case cases[] = {
    {"header and key", "# a\n# b\n[s]\n; c\nk = v\n", "[s] # a|b\nk # c", 0},
    {"a blank line ends the block", "# a\n\n[s]\nk = v\n", "[s]\nk", 0},
    {"only the block next to it", "# a\n\n# b\n[s]\n", "[s] # b", 0},
    {"between header and key: the key's", "[s]\n# a\nk = v\n", "[s]\nk # a", 0},
    {"the key right below only", "[s]\n# a\nk = 1\nj = 2\n", "[s]\nk # a\nj", 0},
    {"indented, bare and spaced comment lines", "[s]\n  # x\n#\n#  y\n;z\nk = v\n", "[s]\nk # x|| y|z", 0},
    {"inline comments are not kept", "[s]\nk = v ; why\nj = w\n", "[s]\nk\nj", 0},
    /* A comment between a key and its continuation line belongs to
     * neither, nor to the key after them. */
    {"above a continuation line", "[s]\nk = a\n# c\n  b\nj = 1\n", "[s]\nk\nj", 0},
    {"keys before any section", "# t\nk = v\n# u\n[s]\n", "[-]\nk # t\n[s] # u", 0},
    {"a syntax error ends the block", "[s]\n# a\nbogus\nk = v\n", "[s]\nk", 1},
    {"above a broken header: not kept", "# a\n[s\nk = v\n", "[!]\nk", 1},
    {"at the end of the file", "[s]\nk = v\n# trailing\n", "[s]\nk", 0},
    {"after a byte order mark", "\xEF\xBB\xBF# a\n[s]\n", "[s] # a", 0},
    {"CRLF line ends", "# a\r\n[s]\r\n# b\r\nk = v\r\n", "[s] # a\nk # b", 0},
    {"comment characters inside", "# a ; b # c\n[s]\n", "[s] # a ; b # c", 0},
};

static void add_comment(struct sbuf *b, const char *comment)
{
	if (!comment)
		return;
	sbuf_adds(b, " # ");
	for (const char *p = comment; *p; p++)
		sbuf_addc(b, *p == '\n' ? '|' : *p);
}

static char *dump(const struct conf_doc *doc)
{
	struct sbuf b = {0};

	for (size_t i = 0; i < doc->n_sections; i++) {
		const struct conf_section *s = &doc->sections[i];

		if (i)
			sbuf_addc(&b, '\n');
		sbuf_addc(&b, '[');
		sbuf_adds(&b, s->broken ? "!" : s->header ? s->header : "-");
		sbuf_addc(&b, ']');
		add_comment(&b, s->comment);
		for (size_t j = 0; j < s->n_entries; j++) {
			sbuf_addc(&b, '\n');
			sbuf_adds(&b, s->entries[j].key);
			add_comment(&b, s->entries[j].comment);
		}
	}
	return sbuf_take(&b);
}

static void test_comments(void **state)
{
	char dir[] = "/tmp/test-conf.XXXXXX";

	(void)state;
	assert_non_null(mkdtemp(dir));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct conf_case *c = &cases[i];
		struct conf_doc doc = {0};
		struct diag d = {0};
		char path[PATH_MAX], *got;
		int fd;

		snprintf(path, sizeof(path), "%s/%zu.conf", dir, i);
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		assert_true(fd >= 0);
		assert_int_equal(fchmod(fd, 0644), 0);
		assert_int_equal(write(fd, c->text, strlen(c->text)), (ssize_t)strlen(c->text));
		close(fd);

		assert_int_equal(conf_parse_file(path, TRUST_PUBLIC, &doc, &d), 0);
		got = dump(&doc);
		assert_non_null(got);
		if (strcmp(got, c->doc) != 0 || doc.n_errors != c->n_errors)
			fail_msg("%s: read as\n%s\n(%u errors), expected\n%s\n(%u errors)", c->name, got, doc.n_errors,
				 c->doc, c->n_errors);
		free(got);
		conf_doc_free(&doc);
		diag_free(&d);
		unlink(path);
	}
	assert_int_equal(rmdir(dir), 0);
}

/* The comments change nothing else: values, lines, continuation. */
static void test_values_and_lines(void **state)
{
	static const char text[] = "# why\n[s]\n# k's\nk = a ; inline\n  b\n\n# j's\nj = c\n";
	char dir[] = "/tmp/test-conf.XXXXXX", path[PATH_MAX];
	struct conf_doc doc = {0};
	struct diag d = {0};
	int fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/v.conf", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(fchmod(fd, 0644), 0);
	assert_int_equal(write(fd, text, sizeof(text) - 1), (ssize_t)sizeof(text) - 1);
	close(fd);

	assert_int_equal(conf_parse_file(path, TRUST_PUBLIC, &doc, &d), 0);
	assert_int_equal(doc.n_errors, 0);
	assert_int_equal(doc.n_sections, 1);
	assert_int_equal(doc.sections[0].line, 2);
	assert_string_equal(doc.sections[0].comment, "why");
	assert_int_equal(doc.sections[0].n_entries, 2);
	assert_string_equal(doc.sections[0].entries[0].value, "a b");
	assert_int_equal(doc.sections[0].entries[0].line, 4);
	assert_string_equal(doc.sections[0].entries[0].comment, "k's");
	assert_string_equal(doc.sections[0].entries[1].value, "c");
	assert_int_equal(doc.sections[0].entries[1].line, 8);
	assert_string_equal(doc.sections[0].entries[1].comment, "j's");
	conf_doc_free(&doc);
	diag_free(&d);
	unlink(path);
	assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_comments),
	    cmocka_unit_test(test_values_and_lines),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
