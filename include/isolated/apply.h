/* Transactions: bring a host into a mode (or back to vanilla) with the
 * journal guarding every change: plan against the host as it was before
 * isolated touched it, journal the pristine values, apply in a safe order,
 * read back, and undo everything on a failure. */
#ifndef ISOLATED_APPLY_H
#define ISOLATED_APPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "isolated/confirm.h"
#include "isolated/snapshot.h"
#include "isolated/journal.h"
#include "isolated/plan.h"
#include "isolated/policy.h"
/* Status (isolated/status.h) was part of this module: its callers still
 * find it here. */
#include "isolated/status.h"

struct apply_opts {
	bool dry_run; /* plan the transaction, write nothing (not even the journal) */
	bool force;   /* restore or overwrite targets changed behind isolated's back */
	bool no_wait; /* fail at once when another invocation holds the lock */
	/* Fault injection for the crash tests (isoctl takes it from
	 * ISOLATED_CRASH_AFTER): "journal" = SIGKILL right after the journal
	 * write, before the first change; "N" = after the N-th write of the
	 * transaction (1-based); "undo:N" = after the N-th write of an undo;
	 * "recovered" = after the journal save that ends the recovery of an
	 * interrupted transaction; "commit" = after the journal save that
	 * commits the transaction. NULL: never. */
	const char *crash_after;
	/* The daemon: take this snapshot instead of reading one (apply may
	 * change it: pristine values are put back into it; the caller still
	 * owns it). Its boot_id is taken for the host's. NULL: snapshot. A
	 * partial snapshot (host_snapshot_threads) needs threads_only
	 * (-EINVAL otherwise). */
	struct host_state *state;
	/* The daemon's event path: state holds only some threads (from
	 * host_snapshot_threads). Only thread rules are planned, only for
	 * those threads (not for context_only ones); journal targets of other
	 * threads, IRQs, sysctls and cpumasks are carried over untouched; a
	 * journaled thread in state that no rule wants any more is restored.
	 * No "matches nothing" warnings. The journal's mode and scope stay as
	 * they are, and so do its applied_at and a pending confirmation
	 * (confirm is ignored). A journal thread target whose tid is in state
	 * with another start time is dropped (the tid was reused). When nothing
	 * is written and the journal would not change, it is not rewritten.
	 * -ESTALE (err says which) when the journal holds another mode or
	 * scope than p (no journal: vanilla, host): the caller's idea of the
	 * mode in force is out of date. Requires state. */
	bool threads_only;
	/* Apply unless confirmed: written into the journal with the commit (see
	 * struct journal's confirm fields). NULL: none, and any pending
	 * confirmation of the previous mode is dropped. A failed transaction
	 * leaves the journal, and its confirmation, as they were. A journal
	 * awaiting confirmation is kept even when it holds nothing else (a
	 * revert unless confirmed). */
	const struct apply_confirm *confirm;
	/* The caller's journal, kept between calls (the daemon): made current
	 * under the lock (journal_refresh: kept when the file is still the one
	 * it was read from or saved to, read again otherwise), worked on in
	 * place and saved as records, so an event costs what it changes. It
	 * stays the caller's; *journal may be replaced (another boot's, a file
	 * changed behind it). After a dry run or a failure it is marked to be
	 * read again. NULL: read the file, and free it after. */
	struct journal **journal;
};

enum step_outcome {
	STEP_PLANNED,	  /* dry run */
	STEP_DONE,	  /* written and read back */
	STEP_UNCHANGED,	  /* already held the value: recorded, nothing written */
	STEP_PENDING,	  /* IRQ written; its effective affinity follows at the next interrupt */
	STEP_NOT_MOVABLE, /* the kernel refuses (PF_NO_SETAFFINITY, kernel-managed IRQ) */
	STEP_GONE,	  /* the thread exited meanwhile */
	STEP_CONFLICT,	  /* changed behind our back since we wrote it: left alone (no --force) */
	STEP_FAILED,	  /* the error that failed the transaction */
	STEP_UNDONE,	  /* written, then put back because the transaction failed */
	STEP_NOT_DONE,	  /* not attempted: the transaction failed before it */
	_STEP_OUTCOME_MAX,
};

struct apply_step {
	/* kind, target, label, ids; pristine; before = the value now;
	 * wanted = the value this step writes. */
	struct journal_entry e;
	bool restore; /* back to pristine: the target leaves the journal */
	bool write;   /* false: the target already holds the value */
	enum step_outcome outcome;
	int error;     /* errno of NOT_MOVABLE / FAILED */
	char *message; /* why, for PENDING / NOT_MOVABLE / CONFLICT / FAILED */
};

struct apply_result {
	char *mode;	     /* the mode applied */
	char *previous_mode; /* the mode in force before ("vanilla" if none) */
	char *scope;
	struct plan *plan; /* the mode's plan against the pristine host (warnings, skips) */
	struct apply_step *steps;
	size_t n_steps;
	size_t counts[_STEP_OUTCOME_MAX];
	char **notices; /* stale journal discarded, interrupted transaction undone, threads dropped */
	bool failed;
	char *error;	      /* the failure, naming the item, the value and the errno */
	bool journal_removed; /* the host holds nothing of isolated's any more */
};

/* Apply p (a vanilla policy = revert). Returns 0 when the mode is in force
 * (conflicts and "not movable" are in the result, not errors); -errno with
 * a message in err when nothing was changed for a reason found before any
 * write (lock held, corrupt journal, bad scope ...); when a write failed,
 * the transaction is undone, *ret holds the steps with result->failed set,
 * and the return value is the failed write's -errno. */
int apply_mode(struct host *h, const struct policy *p, const struct apply_opts *o, struct apply_result **ret, char *err,
	       size_t errlen);
void apply_result_free(struct apply_result *r);
const char *apply_outcome_name(enum step_outcome o);

#endif
