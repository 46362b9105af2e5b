/* What identifies the host and the modes of a run, so that runs saved
 * (--output) on different hosts or days can be told apart and compared
 * (isoctl bench compare): the kernel, the CPU model, the online CPUs,
 * the virtualization as systemd-detect-virt reports it, the boot command
 * line, and a CRC-32 of each mode's policy file. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "isolated/host.h"
#include "isolated/policy.h"
#include "runner.h"

/* The value of the first "KEY<tabs>: VALUE" line of /proc/cpuinfo whose
 * key is one of keys (x86 "model name"; arm64 has none, then NULL). */
static char *cpu_model(const char *cpuinfo)
{
	static const char *const keys[] = {"model name", "Model", "cpu model"};

	for (size_t k = 0; cpuinfo && k < ARRAY_SIZE(keys); k++)
		for (const char *line = cpuinfo; line && *line;) {
			const char *end = strchr(line, '\n'), *colon;
			size_t n = strlen(keys[k]);

			if (!end)
				end = line + strlen(line);
			if (strncmp(line, keys[k], n) == 0 && (line[n] == '\t' || line[n] == ' ' || line[n] == ':') &&
			    (colon = memchr(line, ':', (size_t)(end - line)))) {
				const char *v = colon + 1;

				while (v < end && (*v == ' ' || *v == '\t'))
					v++;
				return strndup(v, (size_t)(end - v));
			}
			line = *end ? end + 1 : NULL;
		}
	return NULL;
}

/* systemd-detect-virt's answer ("kvm", "none"), NULL when it is not
 * installed or says nothing. */
static char *detect_virt(void)
{
	char buf[64] = "";
	FILE *f = popen("systemd-detect-virt 2>/dev/null", "re");

	if (!f)
		return NULL;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	pclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	return buf[0] ? strdup(buf) : NULL;
}

int bench_identify(struct bench *b)
{
	struct bench_host_id *id = &b->r.cfg.host;
	char *cpuinfo = NULL;
	struct utsname u;

	if (uname(&u) == 0) {
		b->r.cfg.kernel = strdup(u.release);
		id->kernel_version = strdup(u.version);
	}
	if (host_read(b->host, "proc/cpuinfo", &cpuinfo, NULL) == 0)
		id->cpu_model = cpu_model(cpuinfo);
	if (host_read(b->host, "proc/cmdline", &id->cmdline, NULL) == 0)
		util_strip(id->cmdline);
	id->virtualization = detect_virt();
	free(cpuinfo);
	for (size_t i = 0; i < b->r.n_modes; i++) {
		char *text = NULL;
		size_t len = 0;

		if (b->pol[i]->file && util_read_at(AT_FDCWD, b->pol[i]->file, 1 << 20, &text, &len) == 0) {
			b->r.modes[i].policy_crc32 = util_crc32(text, len);
			b->r.modes[i].have_policy_crc32 = true;
		}
		free(text);
	}
	return BENCH_OK;
}
