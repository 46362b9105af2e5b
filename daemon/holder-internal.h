/* What the files of the holder share: struct holder, and the few functions
 * of holder.c that the event path (threads.c) calls. Not for the daemon's
 * other modules: they see daemon.h. */
#ifndef ISOLATED_HOLDER_INTERNAL_H
#define ISOLATED_HOLDER_INTERNAL_H

#include "daemon.h"
#include "isolated/metrics.h"
#include "isolated/apply.h"

#define DEBOUNCE_USEC (50 * 1000ULL)
#define BUSY_RETRY_MIN_USEC (100 * 1000ULL)
#define BUSY_RETRY_MAX_USEC (5 * 1000 * 1000ULL)
#define CONFIRM_RETRY_USEC (5 * 1000 * 1000ULL)
#define ERRLEN 1024

/* "Apply unless confirmed", as the journal records it. */
struct pending {
	bool on;
	long long deadline; /* CLOCK_REALTIME, µs */
	char *mode;	    /* the mode waiting for confirmation */
	char *previous_mode, *previous_scope;
	uid_t uid;
	char *session;
};

struct holder {
	sd_event *ev;
	struct host *host;
	char *root; /* for messages: the tree, or NULL for this host */
	char *boot_id;

	/* Configuration (copied from struct daemon_config). */
	char **policy_dirs;
	char *hostconf_path;
	bool hostconf_given;
	char *start_mode;
	bool revert_on_stop, enforce;
	unsigned verify_interval;
	const char *crash_after; /* ISOLATED_CRASH_AFTER, for the crash tests */

	struct cpuset online;
	struct hostconf *hc;  /* NULL when host.conf could not be loaded: */
	struct diag hc_error; /* then the lines isoctl would print for it */

	/* The mode in force, as the journal says. */
	char *mode;	       /* "vanilla": nothing held */
	char *scope;	       /* its scope ("host", "process:PID", ...) */
	struct policy *policy; /* its policy with that scope; NULL for vanilla or when it cannot be loaded */
	size_t n_targets;
	long long applied_at; /* the journal's; 0: nothing applied */
	struct pending pending;

	char *want_mode, *want_scope; /* the mode to hold whose policy did not load */
	bool failed;		      /* the last re-apply failed */
	char *failure;		      /* why, for STATUS= */
	bool drifted;		      /* the last verify found drift it did not re-apply */
	size_t n_drift;
	size_t n_gone; /* of the last verify */
	bool verified; /* a verify pass ran since start */
	/* The daemon's counters for its metrics file (textfile.c); the
	 * proc connector's are procev's. */
	struct metrics_daemon stats;

	/* Online CPUs, sysctls, IRQs of the last full apply: what the event
	 * path's partial snapshots share (tasks stripped). */
	struct host_state *base;
	/* The journal as this daemon last read or wrote it, kept in memory:
	 * every transaction makes it current under the lock (read again only
	 * when the file changed: isoctl --direct) and appends what changed. */
	struct journal *journal;

	sd_event_source *confirm_timer, *verify_timer, *replan_timer, *trim, *recount;
	struct partwatch *partitions; /* the v2 partitions of the journal, watched */
	char *replan_why;
	unsigned long long busy_retry;

	struct holder_events events;
	void (*status_cb)(void *userdata, const char *status);
	void *status_userdata;
	const char *published_state;
	char *status_text;
	/* The summary document as last published, and its generation. */
	json_object *summary;
	unsigned long long generation;
};

/* Mode, scope, number of targets and a pending confirmation from the
 * journal (in memory, read again only when the file changed). -errno,
 * message in err. */
int holder_sync_journal(struct holder *h, char *err, size_t errlen);
/* The same, a failure logged as "WHAT: message"; returns its result. */
int holder_sync_logged(struct holder *h, const char *what);
/* After every operation: State on the bus, STATUS= and the summary. */
void holder_publish(struct holder *h);
/* A thread the journal holds a target of (the snapshot filter's keep). */
bool holder_managed_has(void *userdata, pid_t tid);
/* The confirmation a re-apply of the held mode carries over; NULL: none. */
const struct apply_confirm *holder_carry_confirm(const struct holder *h, struct apply_confirm *buf);
/* One log line per step worth one, with journalctl fields; mode_name is
 * the mode the step is for (NULL: the one held). Steps done or pending at
 * done_priority, failures and conflicts above it, the rest at debug. */
void holder_log_step(const struct holder *h, const char *mode_name, const struct apply_step *st, int done_priority);
/* A full re-plan delay µs from now; requests meanwhile join it. */
void holder_replan_arm(struct holder *h, const char *why, unsigned long long delay);

#endif
