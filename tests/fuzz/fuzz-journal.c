/* Fuzz the journal reader. The input is tried as it is; then, so that the
 * fuzzer gets past the checksums to the JSON and the replay of records, as
 * format 1 with a correct trailer in place of its own, and as format 2 with
 * every frame's header recomputed (a frame starts at each line that starts
 * with "c " or "r "). Whatever parses must format and parse again, to the
 * same journal. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
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
	{
		char *again = NULL;
		size_t again_len = 0;

		if (journal_format(j2, &again, &again_len) < 0 || again_len != out_len ||
		    memcmp(again, out, out_len) != 0) {
			fprintf(stderr, "formatted journal reads back as another\n");
			abort();
		}
		free(again);
	}
	journal_free(j2);
	free(out);
	journal_free(j);
}

static uLong crc(const char *buf, size_t len)
{
	return crc32(crc32(0L, Z_NULL, 0), (const Bytef *)buf, (uInt)len);
}

static bool frame_start(const uint8_t *data, size_t size, size_t i)
{
	return (i == 0 || data[i - 1] == '\n') && i + 1 < size && (data[i] == 'c' || data[i] == 'r') &&
	       data[i + 1] == ' ';
}

/* Format 2 with right headers: each frame's header line replaced by one
 * computed for the bytes up to the next frame. */
static void try_reframed(const uint8_t *data, size_t size)
{
	size_t cap = size + 64 * (size / 8 + 1), n = 0, i = 0;
	char *buf;

	if (!frame_start(data, size, 0))
		return;
	buf = malloc(cap);
	if (!buf)
		abort();
	while (i < size) {
		char first[64], kind = (char)data[i];
		size_t payload, end;
		int f;

		/* skip the old header line */
		for (payload = i; payload < size && data[payload] != '\n'; payload++)
			;
		if (payload < size)
			payload++;
		for (end = payload; end < size && !frame_start(data, size, end); end++)
			;
		f = snprintf(first, sizeof(first), "%c %zu %08lx", kind, end - payload,
			     crc((const char *)data + payload, end - payload));
		n += (size_t)snprintf(buf + n, cap - n, "%s %08lx\n", first, crc(first, (size_t)f));
		memcpy(buf + n, data + payload, end - payload);
		n += end - payload;
		i = end;
	}
	try_parse(buf, n);
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char trailer[64], *buf;
	size_t body;
	int n;

	if (size > 1024 * 1024)
		return 0;
	try_parse((const char *)data, size);
	try_reframed(data, size);

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
