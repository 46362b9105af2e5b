/* isoctl's commands that change the host: apply MODE, revert, confirm;
 * through the daemon when it is there, else with the engine directly. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <systemd/sd-login.h>

#include "isolated/apply.h"
#include "isolated/busapi.h"
#include "isolated/modes.h"
#include "isolated/report.h"
#include "isoctl.h"

static int run_apply(struct ctx *c, const struct policy *p)
{
	struct apply_opts o = {
	    .dry_run = c->dry_run,
	    .force = c->force,
	    .no_wait = c->no_wait,
	    .crash_after = getenv("ISOLATED_CRASH_AFTER"),
	};
	struct apply_result *res = NULL;
	json_object *doc;
	char err[1024] = "";
	int r;

	/* apply has the host open already (the policy needed its online CPUs). */
	if (!c->host && (r = ctx_open_host(c)) != EXIT_OK)
		return r;
	r = apply_mode(c->host, p, &o, &res, err, sizeof(err));
	if (!res) {
		char *msg = report_apply_error(c->host, p->name, r, err, c->dry_run, c->no_wait);

		err_lines(msg);
		free(msg);
		return EXIT_FAIL;
	}
	doc = report_apply(c->host, res, c->dry_run, NULL);
	apply_result_free(res);
	return render(c, DOC_APPLY, doc);
}

static int scope_override(struct ctx *c, struct policy *p)
{
	struct scope s = {0};
	char err[256];

	if (!c->scope)
		return EXIT_OK;
	if (policy_scope_parse(c->scope, &s, err, sizeof(err)) < 0) {
		err_msg("--scope %s: %s", c->scope, err);
		return EXIT_USAGE;
	}
	if (policy_set_scope(p, &s) < 0) {
		policy_scope_done(&s);
		err_msg("out of memory");
		return EXIT_FAIL;
	}
	policy_scope_done(&s);
	return EXIT_OK;
}

/* "60s", "2m", "1h", "90" (seconds): 1 s to 24 h, in microseconds. */
static int parse_duration(const char *s, unsigned long long *ret)
{
	static const struct {
		const char *unit;
		unsigned long long usec;
	} units[] = {
	    {"", 1000000ULL},	  {"s", 1000000ULL},	{"sec", 1000000ULL},	 {"m", 60000000ULL},
	    {"min", 60000000ULL}, {"h", 3600000000ULL}, {"hour", 3600000000ULL},
	};
	unsigned long long n = 0;
	const char *p = s;

	for (; *p >= '0' && *p <= '9'; p++) {
		n = n * 10 + (unsigned long long)(*p - '0');
		if (n > ISOLATED_BUS_CONFIRM_MAX_USEC / 1000000ULL) /* before n * unit can overflow */
			return -ERANGE;
	}
	if (p == s)
		return -EINVAL;
	for (size_t i = 0; i < ARRAY_SIZE(units); i++)
		if (strcmp(p, units[i].unit) == 0) {
			n *= units[i].usec;
			if (n < ISOLATED_BUS_CONFIRM_MIN_USEC || n > ISOLATED_BUS_CONFIRM_MAX_USEC)
				return -ERANGE;
			*ret = n;
			return 0;
		}
	return -EINVAL;
}

int ctx_set_confirm_within(struct ctx *c, const char *arg)
{
	int r = parse_duration(arg, &c->confirm_usec);

	if (r == -ERANGE) {
		err_msg("--confirm-within %s: between 1s and 24h", arg);
		return EXIT_USAGE;
	}
	if (r < 0) {
		err_msg("--confirm-within %s: not a duration (60s, 2m, 1h; a plain number is seconds)", arg);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

int cmd_apply(struct ctx *c, int argc, char **argv)
{
	struct policy *p = NULL;
	json_object *doc = NULL;
	int r;

	if (argc != 1) {
		err_msg("usage: isoctl apply MODE [--dry-run] [--force] [--no-wait] [--scope SCOPE] "
			"[--confirm-within DURATION]");
		return EXIT_USAGE;
	}
	if (c->bus) {
		if ((r = client_apply(c, argv[0], &doc)) != EXIT_OK)
			return r;
		return render(c, DOC_APPLY, doc);
	}
	/* Nobody would go back when the time runs out. */
	if (c->confirm_usec) {
		err_msg("--confirm-within needs the isolated daemon, and %s: in direct mode nobody would go back "
			"from %s when the time runs out",
			client_why_direct(c), argv[0]);
		return EXIT_USAGE;
	}
	/* apply_mode snapshots the host under the lock; this is its only walk of /proc. */
	c->online_only = true;
	if ((r = ctx_load_policy(c, argv[0], &p)) != EXIT_OK)
		return r;
	if ((r = scope_override(c, p)) == EXIT_OK)
		r = run_apply(c, p);
	policy_free(p);
	return r;
}

/* revert needs no policy file and no host.conf: an empty vanilla policy
 * puts back everything the journal holds, even when the configuration
 * that applied it is broken or gone. */
int cmd_revert(struct ctx *c, int argc, char **argv)
{
	struct policy *p = NULL;
	json_object *doc = NULL;
	int r;

	(void)argv;
	if (argc != 0) {
		err_msg("usage: isoctl revert [--dry-run] [--force] [--no-wait]");
		return EXIT_USAGE;
	}
	if (c->bus) {
		if ((r = client_apply(c, NULL, &doc)) != EXIT_OK)
			return r;
		return render(c, DOC_APPLY, doc);
	}
	if (modes_vanilla(&p) < 0) {
		err_msg("out of memory");
		return EXIT_FAIL;
	}
	r = run_apply(c, p);
	policy_free(p);
	return r;
}

/* Keep a mode applied with --confirm-within. The daemon does it; when it
 * is down (the deadline is in the journal, its next start would revert),
 * isoctl confirms in the journal itself, as the same caller. */
int cmd_confirm(struct ctx *c, int argc, char **argv)
{
	json_object *doc = NULL;
	char err[512] = "", *session = NULL, *mode = NULL;
	int r;

	(void)argv;
	if (argc != 0) {
		err_msg("usage: isoctl confirm");
		return EXIT_USAGE;
	}
	if (c->bus) {
		if ((r = client_call(c, "Confirm", &doc)) != EXIT_OK)
			return r;
		return render(c, DOC_CONFIRM, doc);
	}
	if (!c->host && (r = ctx_open_host(c)) != EXIT_OK)
		return r;
	if (sd_pid_get_session(0, &session) < 0)
		session = NULL;
	r = apply_confirm(c->host, getuid(), session, &mode, err, sizeof(err));
	free(session);
	if (r < 0) {
		err_msg("%s", err[0] ? err : path_strerror(-r));
		return EXIT_FAIL;
	}
	doc = report_confirm(mode);
	free(mode);
	return render(c, DOC_CONFIRM, doc);
}
