/* Fuzz the /proc/interrupts parser: the input whole, and streamed in chunks
 * (of a size taken from the input's length, so lines break anywhere) must
 * give the same IRQs or the same error on the same line. */
#include <stdio.h>

#include "fuzz.h"
#include "isolated/procfmt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proc_interrupt *v = NULL, *w = NULL;
	struct procfmt_interrupts p;
	size_t n = 0, m = 0, chunk = 1 + size % 61, whole_line;
	int r, s;

	/* The buffer is exactly size bytes, not NUL-terminated: the parser
	 * must not read past len. */
	procfmt_interrupts_init(&p);
	procfmt_interrupts_feed(&p, (const char *)data, size);
	r = procfmt_interrupts_finish(&p, &v, &n);
	whole_line = p.lineno;

	procfmt_interrupts_init(&p);
	for (size_t off = 0; off < size; off += chunk)
		if (procfmt_interrupts_feed(&p, (const char *)data + off, size - off < chunk ? size - off : chunk) < 0)
			break;
	if (procfmt_interrupts_buffered(&p) > PROCFMT_INTERRUPTS_LINE_MAX)
		abort();
	s = procfmt_interrupts_finish(&p, &w, &m);
	if (r != s || (r < 0 && whole_line != p.lineno)) {
		fprintf(stderr, "whole: %d (line %zu), chunks of %zu: %d (line %zu)\n", r, whole_line, chunk, s,
			p.lineno);
		abort();
	}
	if (r < 0)
		return 0;
	if (n != m)
		abort();
	for (size_t i = 0; i < n; i++) {
		if (!v[i].chip || !v[i].hwirq || !v[i].actions)
			abort();
		if (v[i].irq != w[i].irq || strcmp(v[i].chip, w[i].chip) || strcmp(v[i].hwirq, w[i].hwirq) ||
		    strcmp(v[i].actions, w[i].actions))
			abort();
	}
	procfmt_interrupts_free(v, n);
	procfmt_interrupts_free(w, m);
	return 0;
}
