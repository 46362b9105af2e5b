/* Apply a mode "unless confirmed" on a tree, as the daemon does for
 * isoctl apply --confirm-within (isoctl itself refuses that in direct
 * mode), so that isoctl confirm and status can be tested without the
 * daemon.
 *
 *   apply-unconfirmed ROOT POLICYDIR HOSTCONF MODE SECONDS [UID]
 *
 * The confirmation is bound to this process's uid and login session, as
 * isoctl confirm run from the same shell sees them, or to UID (and no
 * session) when given; the previous mode is the one in force. Exit 0 when
 * the mode is in force, 1 with a message otherwise. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <systemd/sd-login.h>

#include "isolated/apply.h"
#include "isolated/modes.h"

int main(int argc, char **argv)
{
	struct apply_opts o = {0};
	struct apply_confirm conf = {0};
	struct apply_result *res = NULL;
	struct apply_status *st = NULL;
	struct hostconf *hc = NULL;
	struct policy *p = NULL;
	struct host *h = NULL;
	struct cpuset online = CPUSET_INIT;
	struct diag d = {0};
	struct timespec now;
	char err[1024] = "", *buf = NULL, *session = NULL, *prev_mode = NULL, *prev_scope = NULL;
	int r;

	if (argc != 6 && argc != 7) {
		fprintf(stderr, "usage: apply-unconfirmed ROOT POLICYDIR HOSTCONF MODE SECONDS [UID]\n");
		return 2;
	}
	if (host_open_ex(argv[1], &(struct host_options){.faults = getenv(HOST_FAULTS_ENV)}, &h) < 0 ||
	    host_read(h, "sys/devices/system/cpu/online", &buf, NULL) < 0 ||
	    cpuset_parse_list(buf, &online, err, sizeof(err)) < 0) {
		fprintf(stderr, "apply-unconfirmed: cannot read %s\n", argv[1]);
		return 1;
	}
	free(buf);
	if (hostconf_load(argv[3], &online, &hc, &d) < 0 ||
	    modes_load((char *[]){argv[2], NULL}, hc, &online, argv[4], &p, &d) != MODES_OK) {
		for (size_t i = 0; i < d.n; i++)
			fprintf(stderr, "%s\n", d.lines[i]);
		return 1;
	}
	/* Back to what is in force now. */
	if (apply_status(h, &st, err, sizeof(err)) < 0) {
		fprintf(stderr, "apply-unconfirmed: %s\n", err);
		return 1;
	}
	prev_mode = strdup(st->journal ? st->journal->mode : "vanilla");
	prev_scope = strdup(st->journal ? st->journal->scope : "host");
	apply_status_free(st);
	clock_gettime(CLOCK_REALTIME, &now);
	conf.deadline_usec = (long long)now.tv_sec * 1000000 + now.tv_nsec / 1000 + atoll(argv[5]) * 1000000;
	conf.previous_mode = prev_mode;
	conf.previous_scope = prev_scope;
	if (argc == 7)
		conf.uid = (uid_t)atol(argv[6]);
	else {
		conf.uid = getuid();
		if (sd_pid_get_session(0, &session) >= 0)
			conf.session = session;
	}
	o.confirm = &conf;
	r = apply_mode(h, p, &o, &res, err, sizeof(err));
	if (r < 0 || !res || res->failed) {
		fprintf(stderr, "apply-unconfirmed: %s\n", res && res->error ? res->error : err);
		return 1;
	}
	apply_result_free(res);
	policy_free(p);
	hostconf_free(hc);
	diag_free(&d);
	cpuset_free(&online);
	host_free(h);
	free(session);
	free(prev_mode);
	free(prev_scope);
	return 0;
}
