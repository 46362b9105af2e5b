/* Fuzz the boot transaction's journal reader (var/lib/isolated/boot/journal,
 * which boot revert trusts to name the files it writes and removes). What
 * parses must name only the fixed artifacts and their parents below etc/,
 * and format and parse again to the same text. */
#include <stdio.h>
#include <string.h>

#include "fuzz.h"
#include "isolated/boot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct boot_journal *j = NULL, *j2 = NULL;
	char err[512], *out = NULL, *again = NULL;

	if (boot_journal_parse((const char *)data, size, &j, err, sizeof(err)) < 0) {
		if (j)
			abort(); /* ret untouched on failure */
		return 0;
	}
	for (size_t i = 0; j->dirs && j->dirs[i]; i++)
		if (strncmp(j->dirs[i], "etc/", 4) != 0 || strstr(j->dirs[i], "..")) {
			fprintf(stderr, "a journal names a directory outside etc/: %s\n", j->dirs[i]);
			abort();
		}
	if (boot_journal_format(j, &out) < 0)
		abort();
	if (boot_journal_parse(out, strlen(out), &j2, err, sizeof(err)) < 0) {
		fprintf(stderr, "formatted boot journal does not parse: %s\n", err);
		abort();
	}
	if (boot_journal_format(j2, &again) < 0 || strcmp(again, out) != 0) {
		fprintf(stderr, "formatted boot journal reads back as another\n");
		abort();
	}
	free(out);
	free(again);
	boot_journal_free(j);
	boot_journal_free(j2);
	return 0;
}
