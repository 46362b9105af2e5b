/* Least privilege after start-up: of root's capabilities the daemon keeps
 * only the three its writes need (tested on kernel 6.18, see isolated(8)):
 *   CAP_SYS_NICE   sched_setaffinity / sched_setscheduler on threads of
 *                  other users, and SCHED_FIFO at all (RLIMIT_RTPRIO is 0)
 *   CAP_SYS_ADMIN  kernel.numa_balancing refuses writes without it
 *   CAP_NET_ADMIN  the proc connector before kernel 6.6
 * /proc/sys and /proc/irq writes check that euid 0 owns the file, not a
 * capability, so the daemon stays uid 0. It never runs a program, so
 * no_new_privs costs nothing and the bounding set goes too. */
#include <errno.h>
#include <stdbool.h>
#include <sys/capability.h>
#include <sys/prctl.h>

#include "daemon.h"
#include "isolated/util.h"

static const cap_value_t keep[] = {CAP_SYS_NICE, CAP_SYS_ADMIN, CAP_NET_ADMIN};

static bool kept(cap_value_t c)
{
	for (size_t i = 0; i < ARRAY_SIZE(keep); i++)
		if (keep[i] == c)
			return true;
	return false;
}

/* Everything but keep out of the bounding set. Needs CAP_SETPCAP, so it
 * comes before the sets are cut down. */
static int drop_bounding(void)
{
	cap_value_t max = cap_max_bits();

	for (cap_value_t c = 0; c < max; c++) {
		if (kept(c) || cap_get_bound(c) <= 0)
			continue;
		if (cap_drop_bound(c) < 0)
			return -errno;
	}
	return 0;
}

/* Permitted and effective = keep, as far as we hold them now (a unit's
 * CapabilityBoundingSet may have taken some already); inheritable and
 * ambient empty. */
static int set_sets(void)
{
	cap_t now = cap_get_proc(), want = cap_init();
	cap_value_t have[ARRAY_SIZE(keep)];
	int n = 0, r = 0;

	if (!now || !want) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < ARRAY_SIZE(keep); i++) {
		cap_flag_value_t v = CAP_CLEAR;

		if (cap_get_flag(now, keep[i], CAP_PERMITTED, &v) == 0 && v == CAP_SET)
			have[n++] = keep[i];
	}
	if (n > 0 && (cap_set_flag(want, CAP_PERMITTED, n, have, CAP_SET) < 0 ||
		      cap_set_flag(want, CAP_EFFECTIVE, n, have, CAP_SET) < 0)) {
		r = -errno;
		goto out;
	}
	if (cap_set_proc(want) < 0) {
		r = -errno;
		goto out;
	}
	if (CAP_AMBIENT_SUPPORTED() && cap_reset_ambient() < 0)
		r = -errno;
out:
	cap_free(now);
	cap_free(want);
	return r;
}

int caps_drop(bool tree)
{
	int r;

	/* Without CAP_SETPCAP (a test run by a user against a tree) there is
	 * nothing to give up but what we do not have. */
	if (caps_have(CAP_SETPCAP) && (r = drop_bounding()) < 0)
		return r;
	if (!tree && (r = set_sets()) < 0)
		return r;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	return 0;
}

bool caps_have(int cap)
{
	cap_flag_value_t v = CAP_CLEAR;
	cap_t c = cap_get_proc();

	if (!c)
		return false;
	if (cap_get_flag(c, (cap_value_t)cap, CAP_EFFECTIVE, &v) < 0)
		v = CAP_CLEAR;
	cap_free(c);
	return v == CAP_SET;
}
