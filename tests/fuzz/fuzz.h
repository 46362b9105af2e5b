/* Shared by the libFuzzer harnesses of tests/fuzz/: the entry point's
 * prototype and small helpers for turning fuzz input into C strings. */
#ifndef ISOLATED_FUZZ_H
#define ISOLATED_FUZZ_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A NUL-terminated copy of data[0..size) (an embedded NUL ends the string
 * early, as it would for any C caller). Aborts on ENOMEM: a harness that
 * cannot allocate a few bytes has nothing to test. */
static inline char *fuzz_strndup(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	if (size)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* Split data at the first occurrence of sep: *ret_rest points after it.
 * Returns the length of the first part, or size when sep is not there
 * (*ret_rest NULL). */
static inline size_t fuzz_split(const uint8_t *data, size_t size, const char *sep, const uint8_t **ret_rest,
				size_t *ret_rest_len)
{
	size_t n = strlen(sep);

	for (size_t i = 0; n && i + n <= size; i++)
		if (memcmp(data + i, sep, n) == 0) {
			*ret_rest = data + i + n;
			*ret_rest_len = size - i - n;
			return i;
		}
	*ret_rest = NULL;
	*ret_rest_len = 0;
	return size;
}

#endif
