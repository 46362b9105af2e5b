/* Fuzz the journal reader. The input is tried as it is, and as the JSON
 * body of a journal with a correct trailer in place of its own (so the
 * fuzzer gets past the checksum). Whatever parses must format and parse
 * again. */
#include <stdio.h>
#include <zlib.h>

#include "fuzz.h"
#include "isolated/journal.h"

static void try_parse(const char *buf, size_t len)
{
	struct journal *j = NULL, *j2 = NULL;
	char err[512], *out = NULL;
	size_t out_len = 0;

	if (journal_parse(buf, len, &j, err, sizeof(err)) < 0) {
		if (j)
			abort(); /* ret untouched on failure */
		return;
	}
	if (journal_format(j, &out, &out_len) < 0) {
		fprintf(stderr, "parsed journal does not format\n");
		abort();
	}
	if (journal_parse(out, out_len, &j2, err, sizeof(err)) < 0) {
		fprintf(stderr, "formatted journal does not parse: %s\n", err);
		abort();
	}
	journal_free(j2);
	free(out);
	journal_free(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char trailer[64], *buf;
	size_t body;
	int n;

	if (size > 1024 * 1024)
		return 0;
	try_parse((const char *)data, size);

	/* A mutated journal's own trailer is wrong: replace it (the last line,
	 * when it starts with "end "), so the fuzzer works on the JSON. */
	body = size;
	while (body > 0 && data[body - 1] == '\n')
		body--;
	while (body > 0 && data[body - 1] != '\n')
		body--;
	if (!(size - body >= 4 && memcmp(data + body, "end ", 4) == 0))
		body = size;
	size = body;
	/* The trailer starts a line. */
	buf = malloc(size + 1 + sizeof(trailer));
	if (!buf)
		abort();
	if (size)
		memcpy(buf, data, size);
	if (!size || data[size - 1] != '\n')
		buf[body++] = '\n';
	n = snprintf(trailer, sizeof(trailer), "end %zu %08lx\n", body,
		     crc32(crc32(0L, Z_NULL, 0), (const Bytef *)buf, (uInt)body));
	memcpy(buf + body, trailer, (size_t)n);
	try_parse(buf, body + (size_t)n);
	free(buf);
	return 0;
}
