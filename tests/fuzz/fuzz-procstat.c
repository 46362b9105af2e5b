/* Fuzz the /proc/PID/stat and /proc/PID/status parsers. */
#include "fuzz.h"
#include "isolated/procfmt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proc_stat st;
	struct proc_status status = {0};

	if (procfmt_parse_stat((const char *)data, size, &st) == 0 && !memchr(st.comm, '\0', sizeof(st.comm)))
		abort(); /* comm must be a terminated string */
	if (procfmt_parse_status((const char *)data, size, &status) == 0) {
		if (!memchr(status.name, '\0', sizeof(status.name)))
			abort();
		procfmt_status_done(&status);
	}
	return 0;
}
