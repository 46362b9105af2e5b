/* Status: what isolated holds on a host, read from the journal, each
 * target with its value now (lib/status.c). Reads; writes nothing. */
#ifndef ISOLATED_STATUS_H
#define ISOLATED_STATUS_H

#include <stdbool.h>
#include <stddef.h>

#include "isolated/snapshot.h"
#include "isolated/journal.h"

/* What isolated holds on a host, for isoctl status. */
struct status_target {
	const struct journal_entry *e; /* into status->journal */
	char *now;		       /* the value now; NULL when the thread is gone */
	bool drift;		       /* now differs from wanted */
};

struct apply_status {
	struct journal *journal; /* NULL: isolated holds nothing (or the journal is stale) */
	char *stale_boot_id;	 /* set when a journal from another boot was found (not removed) */
	struct status_target *targets;
	size_t n_targets;
	size_t n_drift, n_gone;
};

/* Read the journal and each target's value now. Writes nothing. -EBADMSG
 * (message in err) when the journal does not parse. */
int apply_status(const struct host *h, struct apply_status **ret, char *err, size_t errlen);
/* The same, with each target's value now (and the boot id) taken from s, a
 * snapshot just read, instead of read again; s NULL, or without all that
 * needs_status reads: apply_status. */
int apply_status_in(const struct host *h, const struct host_state *s, struct apply_status **ret, char *err,
		    size_t errlen);
void apply_status_free(struct apply_status *st);

#endif
