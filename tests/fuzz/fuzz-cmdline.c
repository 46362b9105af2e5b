/* Fuzz the kernel command line: /proc/PID/cmdline joining, and looking up
 * parameters in the result (a few fixed keys and one taken from the input). */
#include "fuzz.h"
#include "isolated/procfmt.h"

static const char *const keys[] = {"isolcpus", "nohz_full", "rcu_nocbs", "threadirqs", "idle", "--", "a", NULL};

static void lookup(const char *cmdline, const char *key)
{
	char *v = NULL;
	int r = procfmt_cmdline_get(cmdline, key, &v);

	if (r == 1)
		free(v);
	else if (r < 0 && *key)
		abort();
	(void)procfmt_cmdline_get(cmdline, key, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *rest;
	size_t rest_len, klen;
	char *joined = NULL, *key;

	if (size > 65536)
		return 0;
	if (procfmt_join_cmdline((const char *)data, size, &joined) < 0)
		abort();
	for (size_t i = 0; keys[i]; i++)
		lookup(joined, keys[i]);
	/* "KEY\n" followed by a command line: look that key up. */
	klen = fuzz_split(data, size, "\n", &rest, &rest_len);
	if (rest) {
		char *cmdline = fuzz_strndup(rest, rest_len);

		key = fuzz_strndup(data, klen);
		lookup(cmdline, key);
		free(key);
		free(cmdline);
	}
	free(joined);
	return 0;
}
