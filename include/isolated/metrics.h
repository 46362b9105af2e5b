/* Prometheus metrics of the mode held, in the text exposition format that
 * node_exporter's textfile collector reads (metrics.c): what the journal
 * says (isoctl status --prometheus), and the daemon's own counters in the
 * file it keeps (isolated(8), METRICS). Names follow Prometheus' naming:
 * isolated_..., base units (seconds), _total for counters, _timestamp_seconds
 * for points in time. */
#ifndef ISOLATED_METRICS_H
#define ISOLATED_METRICS_H

#include <stdbool.h>
#include <stddef.h>

#include "isolated/action.h"

struct journal;

/* The reaction time histogram's upper bounds, seconds (+Inf after them). */
#define METRICS_REACTION_BUCKETS 8
extern const double metrics_reaction_le[METRICS_REACTION_BUCKETS];

/* What only the daemon knows. */
struct metrics_daemon {
	const char *state; /* "holding", "idle", "failed", "drifted", ... */
	unsigned long long events, overflows, rescans;
	/* New threads a rule selected, from the event batch read to the
	 * transaction done: per bucket (not cumulative), count, sum in s. */
	unsigned long long reaction_buckets[METRICS_REACTION_BUCKETS + 1];
	unsigned long long reaction_count;
	double reaction_sum;
	long long last_apply_at; /* unix s of the last apply or revert; 0: none since start */
	bool last_apply_ok;
	unsigned long long last_apply_conflicts;
};

struct metrics {
	const char *mode;  /* "vanilla" when nothing is held */
	const char *scope; /* "" with vanilla */
	long long applied_at;
	size_t by_kind[_ACTION_KIND_MAX]; /* targets held, by kind */
	size_t drift, gone;
	bool have_drift, have_gone;	     /* known (a status read, a verify pass) */
	long long confirm_deadline_usec;     /* CLOCK_REALTIME µs; 0: nothing to confirm */
	const struct metrics_daemon *daemon; /* NULL: isoctl's, without the daemon's counters */
};

/* Mode, scope, applied_at, targets by kind and the confirm deadline of j
 * (NULL: vanilla) into m; the rest of m is left as it is. */
void metrics_from_journal(const struct journal *j, struct metrics *m);
/* One reaction of usec µs into d's histogram. */
void metrics_reaction_record(struct metrics_daemon *d, unsigned long long usec);
/* The exposition text, every metric with its HELP and TYPE; NULL on ENOMEM. */
char *metrics_text(const struct metrics *m);
/* text into path, whole or not at all (a temporary file beside it that
 * node_exporter does not read, renamed over path), 0644. -errno, err set. */
int metrics_write(const char *path, const char *text, char *err, size_t errlen);

#endif
