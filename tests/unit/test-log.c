/* Unit tests of the daemon's log (daemon/log.c) on stderr: one line a
 * message, "isolated: " and the priority's word first, and what the message
 * quotes (a thread's name in a step, a line of a file) escaped, so that the
 * journal, a terminal or a log file gets no control character from it. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "daemon.h"

#define EVIL "\x1b]0;pwned\a\x1b[2J"
#define SHOWN "\\x1b]0;pwned\\x07\\x1b[2J"

/* What the calls of fn wrote on stderr. */
static char *captured(void (*fn)(void))
{
	char *buf = calloc(1, 4096);
	FILE *f = tmpfile();
	int saved = dup(STDERR_FILENO);
	size_t n;

	assert_non_null(buf);
	assert_non_null(f);
	assert_true(saved >= 0);
	fflush(stderr);
	assert_true(dup2(fileno(f), STDERR_FILENO) >= 0);
	fn();
	fflush(stderr);
	assert_true(dup2(saved, STDERR_FILENO) >= 0);
	close(saved);
	rewind(f);
	n = fread(buf, 1, 4095, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void log_step(void)
{
	log_notice("tid/813 %s (irqbalance 812): thread affinity 0-15 -> 0-5 [other]", EVIL);
}

static void log_multi(void)
{
	log_warning("reading the journal: %s", "line\nisolated: error: forged \xc2\x9b"
					       "2J \xe9");
	log_errno(LOG_ERR, -EIO, "writing %s", "tid/9 \x7f");
	log_info("%s", "CPU 0/KVM \xc3\xa9\ttab");
}

static void test_escaped(void **state)
{
	char *out;

	(void)state;
	unsetenv("JOURNAL_STREAM");
	log_setup();
	out = captured(log_step);
	assert_string_equal(out, "isolated: tid/813 " SHOWN " (irqbalance 812): thread affinity 0-15 -> 0-5 [other]\n");
	free(out);

	out = captured(log_multi);
	assert_string_equal(out,
			    "isolated: warning: reading the journal: line\\x0aisolated: error: forged \\xc2\\x9b2J "
			    "\\xe9\n"
			    "isolated: error: writing tid/9 \\x7f: Input/output error\n"
			    "isolated: CPU 0/KVM \xc3\xa9\ttab\n");
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_escaped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
