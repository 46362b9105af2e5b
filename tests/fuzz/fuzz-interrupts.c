/* Fuzz the /proc/interrupts parser. */
#include "fuzz.h"
#include "isolated/procfmt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proc_interrupt *v = NULL;
	size_t n = 0;

	/* The buffer is exactly size bytes, not NUL-terminated: the parser
	 * must not read past len. */
	if (procfmt_parse_interrupts((const char *)data, size, &v, &n) == 0) {
		for (size_t i = 0; i < n; i++)
			if (!v[i].chip || !v[i].hwirq || !v[i].actions)
				abort();
		procfmt_interrupts_free(v, n);
	}
	return 0;
}
