/* Boot-time artifacts as one persistent, reversible transaction: the kernel
 * command line of the boot loader (GRUB's /etc/default/grub, systemd-boot's
 * /etc/kernel/cmdline), systemd's CPUAffinity drop-in and module options in
 * /etc/modprobe.d, each file's original kept in /var/lib/isolated/boot until
 * boot_revert puts it back byte for byte (or removes the file when there
 * was none). The runtime journal's counterpart for what survives a reboot:
 * every write is fsync'd, file and directory.
 *
 * The transaction's journal, BOOT_JOURNAL, is text:
 *   isolated-boot 1
 *   mode NAME
 *   dir PATH                  a directory the transaction created
 *   file ID present MODE UID GID LEN CRC new present|absent LEN CRC
 *   file ID absent new present|absent LEN CRC
 * ID is one of the fixed artifacts below (never a path: a journal someone
 * else wrote cannot make a revert write or remove any other file), MODE
 * octal, CRC the zlib crc32 of the original (saved as BOOT_DIR/ID.orig)
 * and of what the transaction wrote. A dir is a parent of an artifact.
 *
 * Order of an apply: originals saved (each durable), then the journal
 * (atomic, durable): from then on a revert restores them; only then the
 * artifacts. A revert restores every file, removes the directories it
 * created, then the journal, then the saved originals. A kill anywhere
 * leaves either no journal and the files as they were, or a journal that
 * boot_revert completes (a file already back is recognised by its CRC). */
#ifndef ISOLATED_BOOT_H
#define ISOLATED_BOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "isolated/cpuset.h"
#include "isolated/grub.h"
#include "isolated/host.h"

#define BOOT_DIR "var/lib/isolated/boot"
#define BOOT_JOURNAL BOOT_DIR "/journal"

enum boot_artifact {
	BOOT_GRUB,	     /* etc/default/grub */
	BOOT_KERNEL_CMDLINE, /* etc/kernel/cmdline */
	BOOT_SYSTEMD,	     /* etc/systemd/system.conf.d/isolated.conf */
	BOOT_MODPROBE,	     /* etc/modprobe.d/isolated.conf */
	BOOT_N_ARTIFACTS,
};

const char *boot_artifact_id(enum boot_artifact a);
const char *boot_artifact_path(enum boot_artifact a);

/* How the host boots, from the files of its root. */
enum boot_loader {
	BOOT_LOADER_NONE,
	BOOT_LOADER_GRUB_DEBIAN, /* etc/default/grub, update-grub, boot/grub/grub.cfg */
	BOOT_LOADER_GRUB2,	 /* etc/default/grub, grub2-mkconfig, boot/grub2/grub.cfg */
	BOOT_LOADER_BLS,	 /* systemd-boot: etc/kernel/cmdline, kernel-install */
};

struct boot_host {
	enum boot_loader loader;
	bool has_grub;		 /* etc/default/grub is there */
	bool has_kernel_cmdline; /* etc/kernel/cmdline is there */
	bool grub_bls;		 /* GRUB_ENABLE_BLSCFG=true: entries in boot/loader/entries */
	const char *generated;	 /* the file the loader reads at boot ("boot/grub/grub.cfg"), or NULL */
	char *then;		 /* the command that makes the next boot take the change */
	char *why;		 /* how the loader was recognised */
};

/* What a mode writes for the next boot. */
struct boot_wants {
	const char *mode;
	char *const *cmdline;		       /* kernel parameters, "key=value" / "key" (NULL: none) */
	const struct cpuset *systemd_affinity; /* NULL: no drop-in */
	char *const *modprobe;		       /* "MODULE PARAM..." lines (NULL: none) */
};

/* One artifact the transaction holds, as its journal says. */
struct boot_record {
	bool held;
	bool orig_present;
	mode_t mode;
	uid_t uid;
	gid_t gid;
	size_t orig_len;
	uint32_t orig_crc;
	bool new_present; /* what the last apply wrote */
	size_t new_len;
	uint32_t new_crc;
	bool was_present; /* what was there before that write */
	size_t was_len;
	uint32_t was_crc;
};

struct boot_journal {
	char *mode;
	struct boot_record files[BOOT_N_ARTIFACTS];
	char **dirs; /* strv, in the order created */
};

/* One artifact's change. */
struct boot_change {
	enum boot_artifact a;
	bool old_present, new_present, orig_present;
	char *old, *new, *orig; /* now, to be, the original (NULL when absent) */
	size_t old_len, new_len, orig_len;
	bool legacy; /* orig is var/lib/isolated/grub.orig (of isoctl grub --write) */
};

struct boot_plan {
	struct boot_host host;
	struct boot_journal *journal; /* as read, NULL when none */
	char *mode;
	/* Every artifact the mode or the journal concerns, changed or not:
	 * new is what it is to be. */
	struct boot_change changes[BOOT_N_ARTIFACTS];
	bool concerned[BOOT_N_ARTIFACTS];
	bool reverting; /* every artifact goes back to its original */
	/* Artifacts changed by someone else since the transaction wrote them
	 * (a strv of paths): boot_apply and boot_revert refuse them unless
	 * forced. */
	char **modified;
	char **notes; /* strv: what the administrator should know */
};

/* Which boot loader h has. Reads only. */
int boot_detect(const struct host *h, struct boot_host *ret);
void boot_host_done(struct boot_host *b);

/* Read BOOT_JOURNAL: -ENOENT when there is none, -EBADMSG (message) when
 * it does not parse or names something it may not. */
int boot_journal_read(const struct host *h, struct boot_journal **ret, char *err, size_t errlen);
void boot_journal_free(struct boot_journal *j);
/* The text of a journal, and back (boot_journal_read's checks, the
 * message without the file's name; *ret untouched on failure). */
int boot_journal_parse(const char *buf, size_t len, struct boot_journal **ret, char *err, size_t errlen);
int boot_journal_format(const struct boot_journal *j, char **ret);
bool boot_journal_exists(const struct host *h);

/* What boot_apply would write for w (w NULL: the revert): each artifact
 * computed from its original (the journal's, or the file now when the
 * journal does not hold it), so a mode switch takes the previous mode's
 * parameters out. Reads only; -EINVAL with a message when an artifact
 * cannot be edited safely, or the host has no boot loader configuration
 * for a mode that has kernel parameters. */
int boot_plan(const struct host *h, const struct boot_wants *w, struct boot_plan **ret, char *err, size_t errlen);
void boot_plan_free(struct boot_plan *p);
/* Whether the plan writes anything (taking in isoctl grub --write's
 * var/lib/isolated/grub.orig counts). */
bool boot_plan_changes(const struct boot_plan *p);

struct boot_options {
	bool force;		    /* write over files changed by someone else */
	defaults_chown_fn chown_fn; /* as grub_write's */
	/* Tests: SIGKILL after the Nth durable step (ISOLATED_BOOT_CRASH_AFTER). */
	unsigned crash_after;
	/* Tests: the write that would be the Nth step fails with EIO
	 * (ISOLATED_BOOT_FAIL_AT). */
	unsigned fail_at;
};

/* Carry out a plan (of boot_plan with a mode, or of a revert): the
 * transaction described above. The caller holds the journal lock. -EBUSY
 * with a message when p->modified is not empty and o->force is not set;
 * -errno with a message naming the file on a failed write, after what was
 * written is put back as it was before (the previous mode's files and
 * journal, or none); when that fails too, the message says so and what was
 * written stays journaled for boot_revert. */
int boot_apply(struct host *h, const struct boot_plan *p, const struct boot_options *o, char *err, size_t errlen);

/* Remove what a killed transaction left that no journal names: temporary
 * files of our writes, saved originals without a journal, an empty
 * BOOT_DIR. */
void boot_tidy(const struct host *h);

/* The kernel command line value for the next boot of an artifact's
 * contents: etc/default/grub's two variables, or etc/kernel/cmdline as it
 * is. NULL when none (or on a parse error). */
char *boot_cmdline_of(enum boot_artifact a, const char *buf, size_t len);

/* What stands between w and the running kernel, one line each: a
 * parameter not written for the next boot yet, written but not in the
 * generated grub.cfg (run update-grub), written but not what the running
 * kernel has (/proc/cmdline; what /sys/devices/system/cpu/isolated and
 * nohz_full read), systemd's CPU affinity now, a loaded module's parameter
 * now. *ret_reboot: a reboot would close some of them. */
int boot_pending(const struct host *h, const struct boot_wants *w, char ***ret_lines, bool *ret_reboot);

#endif
