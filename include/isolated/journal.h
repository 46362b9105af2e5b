/* The journal: what isolated changed on a host, the value each target had
 * before isolated first touched it (pristine) and the value it last wrote
 * (wanted), on disk before any change is made. It lives in run/isolated/
 * relative to the host's root (/run/isolated/journal on the running kernel,
 * TREE/run/isolated/journal on a tree): runtime values do not survive a
 * reboot, and neither does the journal.
 *
 * On disk (format 2): frames, each a header line and a payload,
 *     KIND LENGTH PCRC HCRC\n PAYLOAD
 * KIND "c" (a checkpoint: the whole journal as a JSON object) for the first
 * frame, "r" (a record: what one save changed, as a JSON object) for every
 * other; LENGTH the payload's bytes (JSON and a newline); PCRC the payload's
 * CRC32 (zlib), HCRC the CRC32 of "KIND LENGTH PCRC", both 8 lower-case hex
 * digits. A save appends one record (fsync'd before the kernel write it
 * guards), so its cost is proportional to what changed; when the records
 * outgrow the checkpoint, the next save writes a new checkpoint (a new file,
 * fsync'd, renamed over the old). Reading replays the records over the
 * checkpoint.
 *
 * What a reader may find, and what it takes it for: every frame whole and
 * right -- the state after the last save; a last frame cut short (the header
 * or the payload incomplete, or only NUL bytes after the last frame: a save
 * that died in its append, before the kernel write it guarded) -- the state
 * before that save; anything else (a checksum that does not match, a frame
 * that does not parse, a record that does not apply, an empty file, a
 * checkpoint cut short) -- refused with a message saying what is wrong and
 * where. Never an empty journal.
 *
 * Durability: each save is complete in the file (written, visible to every
 * other process, safe from a kill -9 of the writer) before the engine makes
 * the change it records. On a --root tree it is also fsync'd (the file, and
 * the directory after a rename): a tree's values are files that outlive a
 * power cut, and so must the record that can undo them. On the running
 * kernel it is not: the values the journal guards (sysctls, affinities,
 * priorities, the threads) die with the kernel, so a record that outlives
 * them has nothing left to undo; a journal of an earlier boot is discarded
 * by its boot id, or, when damaged, by being older than this boot. /run is
 * a tmpfs on most hosts, where fsync costs little; on a /run that is a disk
 * (measured on ext4: 0.2 ms a record) it would cost more than the rest of
 * a thread's event.
 *
 * Format 1 (a pretty-printed JSON object and an "end LENGTH CRC32" line) is
 * still read; the next save writes format 2. */
#ifndef ISOLATED_JOURNAL_H
#define ISOLATED_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "isolated/host.h"
#include "isolated/plan.h"

#define JOURNAL_VERSION 2
#define JOURNAL_DIR "run/isolated"
#define JOURNAL_PATH "run/isolated/journal"
#define JOURNAL_LOCK_PATH "run/isolated/lock"

/* One target isolated manages (targets), or one write of the open
 * transaction (steps). A target is identified by (kind, target): a thread
 * has two, its affinity and its scheduling, both named "tid/N". */
struct journal_entry {
	enum action_kind kind;
	char *target; /* "kernel.timer_migration", "irq/41", "tid/2205", "cpumask/workqueue":
		       * the canonical form of the fields (action_canonical_target) */
	char *label;  /* for people: "CPU 0/KVM (qemu-system-x86 2201)" */
	char *rule;   /* the rule that wanted it ("rt-vcpu", "sysctl"); may be NULL */
	unsigned irq; /* irq-affinity, and thread-sched of an IRQ thread */
	pid_t tid, tgid;
	unsigned long long starttime; /* threads: stat field 22, so a reused tid is not mistaken for ours */
	char *pristine;		      /* the value before isolated first changed it (a value of its kind, action.h) */
	char *wanted;		      /* targets: what isolated last wrote; steps: what this transaction writes */
	char *before;		      /* steps only: the value when the transaction started; NULL in targets */
};

struct journal {
	unsigned version;
	char *boot_id;	      /* proc/sys/kernel/random/boot_id when written ("" if the host has none) */
	char *mode;	      /* mode in force: "vanilla" when isolated holds nothing */
	char *scope;	      /* scope of that mode: "host", "process:1234", "cgroup:/x" */
	long long applied_at; /* unix time (s) the mode was committed; 0 if never */
	/* targets[0, n_targets): an entry whose target is NULL was dropped
	 * (journal_kill_target) and is skipped; journal_compact removes them.
	 * A journal just read or copied has none. */
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

	/* The journal module's own: the index of targets, what changed since
	 * the file was read or written, which file that was. */
	struct journal_priv *priv;
};

/* An empty journal (mode "vanilla", scope "host", no targets, no
 * transaction) for this boot id. NULL on ENOMEM. */
struct journal *journal_new(const char *boot_id);
void journal_free(struct journal *j);

/* Deep copies, for the engine to build the next journal from the current one. */
int journal_copy(const struct journal *j, struct journal **ret);
int journal_entry_copy(struct journal_entry *dst, const struct journal_entry *src);
void journal_entry_done(struct journal_entry *e);

/* Find a target by (kind, name); NULL if none. In constant time (an index
 * built at the first lookup and kept up to date by the functions below). */
struct journal_entry *journal_find(struct journal *j, enum action_kind kind, const char *target);
/* Append a copy of e to targets / steps (amortised constant time). -ENOMEM;
 * for a target, -EEXIST when targets already hold (kind, target). */
int journal_add_target(struct journal *j, const struct journal_entry *e);
int journal_add_step(struct journal *j, const struct journal_entry *e);
/* Remove targets[i], keeping the order of the rest (linear time). */
void journal_remove_target(struct journal *j, size_t i);
/* Drop target e (an entry of j->targets) in constant time: its slot stays,
 * with target NULL, until journal_compact. */
void journal_kill_target(struct journal *j, struct journal_entry *e);
/* Remove the dropped slots (linear time). */
void journal_compact(struct journal *j);
/* Targets that are not dropped. */
size_t journal_n_live(const struct journal *j);
/* Say that e's wanted or rule were changed in place, so the next save
 * records it. */
void journal_touch(struct journal *j, const struct journal_entry *e);
/* Open a transaction (steps are added with journal_add_step). */
int journal_begin_txn(struct journal *j, const char *mode, int pid, long long started);
/* Drop the transaction and its steps. */
void journal_clear_txn(struct journal *j);
/* Drop the confirmation fields (has_confirm false). */
void journal_clear_confirm(struct journal *j);

/* Serialise as a file of format 2 holding one checkpoint. ret is
 * NUL-terminated; ret_len excludes the NUL. */
int journal_format(const struct journal *j, char **ret, size_t *ret_len);
/* Parse a journal file (format 2 with its records, or format 1; see the top
 * of this file for what is taken and what is refused). Any defect (empty,
 * truncated checkpoint, bad checksum, bad JSON, a key twice in an object,
 * missing or mistyped field, unknown kind, a field the kind does not have, a
 * target that is not the canonical form of the entry's fields, a value that
 * does not parse for its kind, a record that does not apply, a version
 * newer than JOURNAL_VERSION) is -EBADMSG with a one-line message in err
 * saying what is wrong and where ("record 3 at byte 1234: checksum
 * mismatch ...", "targets[3]: target \"tid/02205\" is not the canonical
 * form tid/2205 of its \"tid\""); *ret untouched. journal_format refuses
 * (-EINVAL) what this would refuse. ret_torn (may be NULL): how many bytes
 * of a last frame cut short were left out (0: none). */
int journal_parse_ex(const char *buf, size_t len, struct journal **ret, size_t *ret_torn, char *err, size_t errlen);
int journal_parse(const char *buf, size_t len, struct journal **ret, char *err, size_t errlen);

/* Read JOURNAL_PATH of the host. -ENOENT when there is none (err empty);
 * -EBADMSG when it does not parse (err says what) -- except, on the
 * running kernel, a damaged file last written before this boot: then a new
 * journal whose boot id is "unknown: ...", which callers discard as of
 * another boot; other -errno with a message. The file is never modified or removed by a failed load. The
 * journal remembers which file it was read from (device, inode, length,
 * checkpoint), for journal_save and journal_refresh. */
int journal_load(const struct host *h, struct journal **ret, char *err, size_t errlen);
/* The caller's journal (*jp, may be NULL: none in memory) made current: kept
 * when JOURNAL_PATH is still the file it was read from or last saved to,
 * as it was then (same device, inode, length, checkpoint header: one
 * fstat and one pread), else read again; a missing file gives a new
 * journal for boot_id. For the daemon, which keeps its journal in memory;
 * call it under the lock. *ret_reloaded (may be NULL): it was read again. */
int journal_refresh(const struct host *h, struct journal **jp, const char *boot_id, bool *ret_reloaded, char *err,
		    size_t errlen);
/* Write durably what changed since j was read or last saved: a record
 * appended to the file j came from (write, fsync), or, when j came from no
 * file or another one, from a format 1 file, or the records have outgrown
 * the checkpoint, a new file with one checkpoint (JOURNAL_PATH.tmp, O_EXCL
 * after removing a stale one, mode 0644: anyone may read what isolated
 * holds; write, fsync, rename over JOURNAL_PATH, fsync the directory).
 * Nothing changed (and the file is still as j last saw it): nothing
 * written. A record holds the header, the transaction when it changed,
 * and the targets added, changed ("set") or dropped ("del"); only those
 * are checked (journal_add_target refuses a duplicate, so none can arise),
 * -EINVAL when one would not read back. Creates JOURNAL_DIR (0755) if missing;
 * its parent "run" must exist (-ENOENT with a message otherwise). On
 * success j remembers the file as it is now. ret_bytes (may be NULL): bytes
 * written. */
int journal_save_ex(const struct host *h, struct journal *j, size_t *ret_bytes, char *err, size_t errlen);
int journal_save(const struct host *h, struct journal *j, char *err, size_t errlen);
/* What j holds is no longer known to be what the file holds (a dry run
 * changed it, a save failed, the file was removed): journal_refresh reads
 * the file again, journal_save writes a checkpoint. */
void journal_forget_file(struct journal *j);
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
