/* irqbalance's defaults file (/etc/default/irqbalance on Debian,
 * /etc/sysconfig/irqbalance on Fedora): the CPUs it must not give IRQs to
 * (IRQBALANCE_BANNED_CPULIST) and the IRQs it must leave where they are
 * (--banirq=N in IRQBALANCE_ARGS), read and set as two journal targets of
 * kind irqbalance, with the file as it was kept once beside grub's backup. */
#ifndef ISOLATED_IRQBALANCE_H
#define ISOLATED_IRQBALANCE_H

#include <stdbool.h>
#include <stddef.h>

#include "isolated/host.h"
#include "isolated/snapshot.h"

/* The targets, and the variables they live in. Values are lists ("6-7",
 * "134-141"), "" for none, compared as sets. */
#define IRQBALANCE_TARGET_CPUS "irqbalance/banned_cpus" /* IRQBALANCE_BANNED_CPULIST */
#define IRQBALANCE_TARGET_IRQS "irqbalance/banned_irqs" /* --banirq= in IRQBALANCE_ARGS */
#define IRQBALANCE_VAR_CPULIST "IRQBALANCE_BANNED_CPULIST"
#define IRQBALANCE_VAR_CPUMASK "IRQBALANCE_BANNED_CPUS" /* the deprecated mask */
#define IRQBALANCE_VAR_ARGS "IRQBALANCE_ARGS"
/* In GRUB_BACKUP_DIR (var/lib/isolated): the file before isolated first
 * changed it. */
#define IRQBALANCE_BACKUP "irqbalance.orig"
#define IRQBALANCE_BACKUP_PATH "var/lib/isolated/irqbalance.orig"
/* The unit restarted after a write, through systemd's D-Bus API. */
#define IRQBALANCE_UNIT "irqbalance.service"

/* The defaults files, relative to the host's root, in the order they are
 * looked for; NULL-terminated. */
extern const char *const irqbalance_files[];

/* Is target one of the two? */
bool irqbalance_target_valid(const char *target);

/* The value of target in a defaults file's bytes: the banned CPUs of
 * IRQBALANCE_BANNED_CPULIST, or the IRQs of IRQBALANCE_ARGS's --banirq=N,
 * --banirq N, -i N and -iN; formatted as a list, "" when none. -EINVAL
 * with a message: a file the shell cannot read, a list that is not one, a
 * --banirq without a number (also "--banirq="); for banned_cpus, a file
 * that sets the deprecated mask IRQBALANCE_BANNED_CPUS (which irqbalance
 * reads instead of, or besides, the list depending on its version: we do
 * not guess). Banned IRQs inside combined short options ("-fi5") are not
 * seen. */
int irqbalance_value(const char *buf, size_t len, const char *target, char **ret, char *err, size_t errlen);

/* The file with target set to value (a list): IRQBALANCE_BANNED_CPULIST
 * assigned value; in IRQBALANCE_ARGS, the banned IRQs not in value removed
 * and --banirq=N appended for those missing, every other argument kept. An
 * assignment that would be the empty value of a variable the file does not
 * set is not added. The edit is defaults_assign's (grub.h), with its
 * refusals. *ret NUL-terminated. */
int irqbalance_edit(const char *buf, size_t len, const char *target, const char *value, char **ret, size_t *ret_len,
		    char *err, size_t errlen);

/* A snapshot's defaults file (one of irqbalance_files it read, present);
 * with original, the backup first: the file as it was before isolated
 * changed it, which a journal lost at a reboot no longer says. NULL: none
 * (needs_irqbalance asks for all three). */
const struct host_file *irqbalance_state_file(const struct host_state *s, bool original);

/* The host's defaults file: the first of irqbalance_files present.
 * -ENOENT when none is (irqbalance is not installed). */
int irqbalance_find(const struct host *h, const char **ret_path);

/* Set target to value in the host's defaults file, atomically and
 * durably. Before the first change the file is kept as
 * IRQBALANCE_BACKUP_PATH (never overwritten while it exists). When the
 * edit brings both targets back to the backup's values, the backup's own
 * bytes are put back (and the backup removed) if the file differs from it
 * only in the lines of our two variables; otherwise (the file was edited
 * meanwhile) the edit is written and the backup removed, its values being
 * back. No restart: see host_write_irqbalance. -errno with a message. */
int irqbalance_write(const struct host *h, const char *target, const char *value, char *err, size_t errlen);

/* What a killed irqbalance_write left, cleaned at the end of a transaction
 * that had an irqbalance target or recovered from a kill: its temporary
 * files (defaults_tidy), and a backup whose values are back in the file
 * (the kill came between the put-back and the removal): the backup's bytes
 * go back if only our lines differ, else it is removed. Best effort. */
void irqbalance_settle(const struct host *h);

#endif
