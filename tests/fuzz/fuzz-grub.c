/* Fuzz /etc/default/grub: the shell-fragment reader, and the edit that puts
 * a mode's boot parameters into it. Input: the file, optionally followed by
 * "\n----\n" and the parameters, one a line (else a fixed set). A
 * successful edit must read back with the parameters in place, and editing
 * its result again must change nothing. */
#include <stdbool.h>
#include <stdio.h>

#include "fuzz.h"
#include "isolated/grub.h"
#include "isolated/procfmt.h"
#include "isolated/util.h"

static char *const fixed_params[] = {
    "isolcpus=managed_irq,domain,2-15", "nohz_full=2-15", "rcu_nocbs=2-15", "irqaffinity=0-1", "threadirqs",
    "intel_idle.max_cstate=0",	       "foo=a b",	 NULL,
};

static void check_edit(const char *buf, size_t len, char *const *params)
{
	char err[512], *out = NULL, *again = NULL, *lin = NULL, *def = NULL;
	size_t out_len = 0, again_len = 0;
	bool changed = false;
	int r;

	err[0] = '\0';
	r = grub_edit(buf, len, params, &out, &out_len, &changed, err, sizeof(err));
	if (r < 0) {
		if (r != -EINVAL && r != -ENOMEM)
			abort();
		if (out)
			abort(); /* ret untouched on failure */
		return;
	}
	if (!out || out[out_len] != '\0' || (!changed && (out_len != len || memcmp(out, buf, len) != 0)))
		abort();
	/* The result reads back, and each parameter is in GRUB_CMDLINE_LINUX_DEFAULT. */
	if (procfmt_parse_grub(out, out_len, &lin, &def) < 0) {
		fprintf(stderr, "edited file does not parse\n");
		abort();
	}
	for (size_t i = 0; params[i]; i++) {
		const char *want;
		char *key = grub_param_split(params[i], &want), *got = NULL;

		if (!key)
			abort();
		if (!def || procfmt_cmdline_get(def, key, &got) != 1 || !grub_param_equal(key, got, want)) {
			fprintf(stderr, "parameter %s not in the edited GRUB_CMDLINE_LINUX_DEFAULT \"%s\"\n",
				params[i], def ? def : "(unset)");
			abort();
		}
		free(got);
		free(key);
	}
	/* Idempotent. */
	r = grub_edit(out, out_len, params, &again, &again_len, &changed, err, sizeof(err));
	if (r < 0 || changed) {
		fprintf(stderr, "second edit: r=%d changed=%d: %s\n", r, changed, err);
		abort();
	}
	free(again);
	free(lin);
	free(def);
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = {"GRUB_CMDLINE_LINUX", "GRUB_CMDLINE_LINUX_DEFAULT", "IRQBALANCE_BANNED_CPUS",
					    "A", NULL};
	char *vals[4] = {NULL, NULL, NULL, NULL}, *lin = NULL, *def = NULL, **params = NULL;
	const uint8_t *rest;
	size_t rest_len, len;

	if (size > 65536)
		return 0;
	len = fuzz_split(data, size, "\n----\n", &rest, &rest_len);

	if (procfmt_parse_shell((const char *)data, len, names, vals) == 0)
		for (size_t i = 0; i < 4; i++)
			free(vals[i]);
	if (procfmt_parse_grub((const char *)data, len, &lin, &def) == 0) {
		char *nl = NULL, *nd = NULL, err[512];
		bool changed;

		if (grub_edit_values(lin, def, fixed_params, &nl, &nd, &changed, err, sizeof(err)) == 0) {
			free(nl);
			free(nd);
		}
		free(lin);
		free(def);
	}

	if (rest) {
		char *text = fuzz_strndup(rest, rest_len), *line, *save = NULL;

		for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
			if (strv_push_dup(&params, line) < 0)
				abort();
		free(text);
	}
	check_edit((const char *)data, len, params ? params : fixed_params);
	strv_free(params);
	return 0;
}
