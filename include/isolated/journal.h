/* The journal: what isolated changed on a host, the value each target had
 * before isolated first touched it (pristine) and the value it last wrote
 * (wanted), on disk before any change is made. It lives in run/isolated/
 * relative to the host's root (/run/isolated/journal on the running kernel,
 * TREE/run/isolated/journal on a tree): runtime values do not survive a
 * reboot, and neither does the journal.
 *
 * On disk: a JSON object (json-c, pretty-printed), then one trailer line
 *     end LENGTH CRC32\n
 * where LENGTH is the number of bytes before the trailer and CRC32 (zlib,
 * 8 lower-case hex digits) their checksum. A journal cut anywhere, or with
 * any byte changed, fails to parse with a message saying what is wrong; it
 * is never taken for an empty one. */
#ifndef ISOLATED_JOURNAL_H
#define ISOLATED_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "isolated/host.h"
#include "isolated/plan.h"

#define JOURNAL_VERSION 1
#define JOURNAL_DIR "run/isolated"
#define JOURNAL_PATH "run/isolated/journal"
#define JOURNAL_LOCK_PATH "run/isolated/lock"

/* One target isolated manages (targets), or one write of the open
 * transaction (steps). A target is identified by (kind, target): a thread
 * has two, its affinity and its scheduling, both named "tid/N". */
struct journal_entry {
	enum action_kind kind;
	char *target; /* "kernel.timer_migration", "irq/41", "tid/2205", "cpumask/workqueue" */
	char *label;  /* for people: "CPU 0/KVM (qemu-system-x86 2201)" */
	char *rule;   /* the rule that wanted it ("rt-vcpu", "sysctl"); may be NULL */
	unsigned irq; /* irq-affinity, and thread-sched of an IRQ thread */
	pid_t tid, tgid;
	unsigned long long starttime; /* threads: stat field 22, so a reused tid is not mistaken for ours */
	char *pristine;		      /* the value before isolated first changed it (plan value format) */
	char *wanted;		      /* targets: what isolated last wrote; steps: what this transaction writes */
	char *before;		      /* steps only: the value when the transaction started; NULL in targets */
};

struct journal {
	unsigned version;
	char *boot_id;	      /* proc/sys/kernel/random/boot_id when written ("" if the host has none) */
	char *mode;	      /* mode in force: "vanilla" when isolated holds nothing */
	char *scope;	      /* scope of that mode: "host", "process:1234", "cgroup:/x" */
	long long applied_at; /* unix time (s) the mode was committed; 0 if never */
	struct journal_entry *targets;
	size_t n_targets;

	/* An open transaction: written before its first change, gone after its
	 * commit or its undo. Read by a later invocation, it means that one was
	 * interrupted (killed, crashed, power lost). */
	bool has_txn;
	char *txn_mode;
	long long txn_started; /* unix time (s) */
	int txn_pid;
	struct journal_entry *steps; /* in the order they are applied */
	size_t n_steps;
	/* Applied unless confirmed (isoctl apply --confirm-within): if
	 * confirm_deadline (CLOCK_REALTIME, microseconds) passes before isoctl
	 * confirm, the daemon -- or its next start, when it was down -- goes
	 * back to confirm_previous_mode / confirm_previous_scope. Optional in
	 * the file (absent: has_confirm false). On disk:
	 *   "confirm": {"deadline": USEC, "previous_mode": "rt-only",
	 *               "previous_scope": "host", "uid": 1000, "session": "4"}
	 * with "session" left out when confirm_session is NULL. */
	bool has_confirm;
	long long confirm_deadline;
	char *confirm_previous_mode;
	char *confirm_previous_scope;
	uid_t confirm_uid;
	char *confirm_session; /* NULL: the caller had no login session */
};

/* An empty journal (mode "vanilla", scope "host", no targets, no
 * transaction) for this boot id. NULL on ENOMEM. */
struct journal *journal_new(const char *boot_id);
void journal_free(struct journal *j);

/* Deep copies, for the engine to build the next journal from the current one. */
int journal_copy(const struct journal *j, struct journal **ret);
int journal_entry_copy(struct journal_entry *dst, const struct journal_entry *src);
void journal_entry_done(struct journal_entry *e);

/* Find a target by (kind, name); NULL if none. */
struct journal_entry *journal_find(const struct journal *j, enum action_kind kind, const char *target);
/* Append a copy of e to targets / steps. -ENOMEM. */
int journal_add_target(struct journal *j, const struct journal_entry *e);
int journal_add_step(struct journal *j, const struct journal_entry *e);
/* Remove targets[i], keeping the order of the rest. */
void journal_remove_target(struct journal *j, size_t i);
/* Drop the transaction and its steps. */
void journal_clear_txn(struct journal *j);
/* Drop the confirmation fields (has_confirm false). */
void journal_clear_confirm(struct journal *j);

/* Serialise (JSON + trailer). ret is NUL-terminated; ret_len excludes the NUL. */
int journal_format(const struct journal *j, char **ret, size_t *ret_len);
/* Parse what journal_format wrote. Any defect (empty, truncated, bad
 * trailer, checksum mismatch, bad JSON, missing or mistyped field, unknown
 * kind, a version newer than JOURNAL_VERSION) is -EBADMSG with a one-line
 * message in err saying what is wrong ("truncated: no end line after byte
 * 1234", "checksum mismatch: ..."); *ret untouched. */
int journal_parse(const char *buf, size_t len, struct journal **ret, char *err, size_t errlen);

/* Read JOURNAL_PATH of the host. -ENOENT when there is none (err empty);
 * -EBADMSG when it does not parse (err says what); other -errno with a
 * message. The file is never modified or removed by a failed load. */
int journal_load(const struct host *h, struct journal **ret, char *err, size_t errlen);
/* Write durably: JOURNAL_PATH.tmp (O_EXCL after removing a stale one,
 * mode 0644: anyone may read what isolated holds), write, fsync, rename over JOURNAL_PATH, fsync the directory.
 * Creates JOURNAL_DIR (0755) if missing; its parent "run" must exist
 * (-ENOENT with a message otherwise). */
int journal_save(const struct host *h, const struct journal *j, char *err, size_t errlen);
/* Remove JOURNAL_PATH (fsync the directory). 0 if it was not there. */
int journal_remove(const struct host *h, char *err, size_t errlen);

/* Serialise isoctl invocations and the daemon: flock(LOCK_EX) on
 * JOURNAL_LOCK_PATH, created if missing (and JOURNAL_DIR with it), with our
 * pid written into it for the message another waiter shows. After taking the
 * lock, checks that the path still names the file locked (a previous holder
 * may have removed it) and retries if not. wait false: -EWOULDBLOCK at once
 * when held, err naming the holder's pid. *ret_fd is the lock. */
int journal_lock(const struct host *h, bool wait, int *ret_fd, char *err, size_t errlen);
/* Release. cleanup true (the host holds nothing of ours any more and there
 * is no journal): unlink the lock file while still holding it, and remove
 * JOURNAL_DIR if it is then empty (trees only: on the running kernel
 * /run/isolated is the daemon's RuntimeDirectory= and stays), so a tree
 * returns to exactly what it was. */
void journal_unlock(const struct host *h, int fd, bool cleanup);
/* JOURNAL_PATH exists (isolated holds something on the host). */
bool journal_exists(const struct host *h);

#endif
