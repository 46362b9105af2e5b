/* isoctl bench: the command handed to the bench (bench/bench.h), with what
 * it needs of isoctl and nothing else. */
#include <stdlib.h>
#include <string.h>

#include "../bench/bench.h"
#include "isoctl.h"

/* The running kernel and its online CPUs (one read of
 * sys/devices/system/cpu/online), for the bench. */
static int open_host(void *front, struct host **ret_host, const struct cpuset **ret_online)
{
	struct ctx *c = front;
	int r;

	c->online_only = true;
	if ((r = ctx_open_host(c)) != EXIT_OK || (r = ctx_load_online(c)) != EXIT_OK)
		return r;
	*ret_host = c->host;
	*ret_online = &c->online;
	return EXIT_OK;
}

int cmd_bench(struct ctx *c, int argc, char **argv)
{
	const struct bench_env env = {
	    .root = c->root,
	    .scope = c->scope,
	    .json = c->json,
	    .policy_dirs = c->policy_dirs,
	    .hostconf_path = c->hostconf_path,
	    .front = c,
	    .err = err_msg,
	    .err_lines = err_lines,
	    .open_host = open_host,
	    .daemon_running = client_daemon_running,
	};
	static const struct option opts[] = {BENCH_LONG_OPTIONS};
	/* "isoctl", the bench's options as isoctl read them, "--", the modes */
	char **args = calloc(ARRAY_SIZE(opts) + (size_t)argc + 3, sizeof(*args));
	int n = 0, r = EXIT_FAIL;

	if (!args)
		goto oom;
	args[n++] = "isoctl";
	for (size_t i = 0; i < ARRAY_SIZE(opts); i++) {
		const char *v = c->bench_opts[opts[i].val - BENCH_OPT_FIRST];

		if (v && !(args[n++] = opts[i].has_arg ? util_sprintf("--%s=%s", opts[i].name, v)
						       : util_sprintf("--%s", opts[i].name)))
			goto oom;
	}
	args[n++] = "--";
	for (int i = 0; i < argc; i++)
		args[n++] = argv[i];
	r = bench_main(&env, n, args);
	goto out;
oom:
	err_msg("out of memory");
out:
	for (int i = 1; args && args[i] && strcmp(args[i], "--") != 0; i++)
		free(args[i]);
	free(args);
	return r;
}
