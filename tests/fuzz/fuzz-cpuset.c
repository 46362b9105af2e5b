/* Fuzz the cpu list and hex mask parsers, and check that a parsed set
 * survives format -> parse unchanged in both forms. */
#include <stdio.h>

#include "fuzz.h"
#include "isolated/cpuset.h"

static void roundtrip(const struct cpuset *s)
{
	struct cpuset back = CPUSET_INIT;
	char err[256], *text = NULL;

	if (cpuset_format_list(s, &text) < 0)
		abort();
	if (cpuset_parse_list(text, &back, err, sizeof(err)) < 0 || !cpuset_equal(s, &back)) {
		fprintf(stderr, "list round trip failed: \"%s\": %s\n", text, err);
		abort();
	}
	cpuset_free(&back);
	free(text);

	if (cpuset_format_mask(s, 0, &text) < 0)
		abort();
	if (cpuset_parse_mask(text, &back, err, sizeof(err)) < 0 || !cpuset_equal(s, &back)) {
		fprintf(stderr, "mask round trip failed: \"%s\": %s\n", text, err);
		abort();
	}
	cpuset_free(&back);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cpuset s = CPUSET_INIT;
	char err[256], *text;

	if (size > 4096)
		return 0;
	text = fuzz_strndup(data, size);

	err[0] = '\0';
	if (cpuset_parse_list(text, &s, err, sizeof(err)) == 0) {
		roundtrip(&s);
		cpuset_free(&s);
	} else if (s.w || s.nwords) {
		abort(); /* *ret must be untouched on failure */
	}

	if (cpuset_parse_mask(text, &s, err, sizeof(err)) == 0) {
		roundtrip(&s);
		cpuset_free(&s);
	} else if (s.w || s.nwords) {
		abort();
	}
	free(text);
	return 0;
}
