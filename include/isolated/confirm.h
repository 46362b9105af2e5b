/* Confirmation: an apply made "unless confirmed" (isoctl apply
 * --confirm-within) and its end, under the journal's lock (lib/confirm.c). */
#ifndef ISOLATED_CONFIRM_H
#define ISOLATED_CONFIRM_H

#include <stddef.h>
#include <sys/types.h>

#include "isolated/host.h"

/* A mode applied "unless confirmed" (isoctl apply --confirm-within). */
struct apply_confirm {
	long long deadline_usec;    /* CLOCK_REALTIME, microseconds since the epoch */
	const char *previous_mode;  /* the mode to go back to ("vanilla": revert) */
	const char *previous_scope; /* its scope */
	uid_t uid;		    /* the caller that applied; only it may confirm */
	const char *session;	    /* its login session id, NULL if it has none */
};

/* Confirm the pending "unless confirmed" apply: under the lock, load the
 * journal, check the caller (uid and session must equal the ones
 * recorded), drop the deadline, save. -ENOENT (err says "nothing to
 * confirm") when none is pending; -EPERM (err names the owner) when the
 * caller differs; other -errno with a message. ret_mode (may be NULL):
 * the mode confirmed, allocated. */
int apply_confirm(struct host *h, uid_t uid, const char *session, char **ret_mode, char *err, size_t errlen);

#endif
