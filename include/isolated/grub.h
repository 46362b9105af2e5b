/* Putting a mode's boot parameters into /etc/default/grub, changing nothing
 * else in the file, and the one backup that lets us put the original back. */
#ifndef ISOLATED_GRUB_H
#define ISOLATED_GRUB_H

#include <stdbool.h>
#include <stddef.h>

#include "isolated/host.h"

/* How a replacement file gets the owner of the one it replaces, when the two
 * differ: fchown() for isoctl. The library never changes an owner itself
 * (the daemon's system call filter denies it): with NULL, a file owned by
 * anyone but the caller is refused (-EPERM, "edit it by hand"). */
typedef int (*defaults_chown_fn)(int fd, uid_t uid, gid_t gid);

/* Relative to the host's root, like every path of the seam. */
#define GRUB_PATH "etc/default/grub"
#define GRUB_BACKUP_DIR "var/lib/isolated"
#define GRUB_BACKUP_PATH "var/lib/isolated/grub.orig"

/* Whether a and b are the same value of boot parameter key; NULL is the key
 * without "=". The cpu lists of isolcpus, nohz_full, rcu_nocbs and
 * irqaffinity compare as sets ("6,7" is "6-7"), ignoring the flags before the
 * list of isolcpus ("managed_irq,domain,"). */
bool grub_param_equal(const char *key, const char *a, const char *b);

/* param with its CPU list (isolcpus, nohz_full, rcu_nocbs, irqaffinity) in
 * the shortest form the kernel reads, ranges: "1,2,3,5" is "1-3,5", so the
 * 112-CPU list of tuned #514 takes 23 bytes, not 300 (the flags of isolcpus
 * kept). Any other parameter, or a list that does not parse, as it is.
 * NULL on ENOMEM. */
char *grub_param_shortest(const char *param);

/* value in double quotes, with the characters sh interprets there escaped:
 * the right side of an assignment in /etc/default/grub. NULL on ENOMEM. */
char *grub_quote(const char *value);

/* The edit, on the values of GRUB_CMDLINE_LINUX and
 * GRUB_CMDLINE_LINUX_DEFAULT (unquoted, as procfmt_parse_grub gives them;
 * NULL when unset). params is a strv of "key=value" / "key", values
 * unquoted (they may hold spaces). For each parameter:
 *   - in GRUB_CMDLINE_LINUX_DEFAULT, every occurrence of the key with
 *     another value is replaced in place; when there is none, the parameter
 *     is appended (before a "--", which ends the kernel's parameters);
 *   - in GRUB_CMDLINE_LINUX, every occurrence of the key with another value
 *     is replaced in place too: the kernel sees both variables, and does not
 *     always take the last value (a second, different isolcpus= or
 *     nohz_full= is ignored with a warning), so two values would leave the
 *     outcome to the kernel's parser. An occurrence with the same value is
 *     left alone, and nothing is ever added to GRUB_CMDLINE_LINUX.
 * Every other parameter, its quotes and the white space between them stay
 * as they are. A value with white space is written key="value".
 * -EINVAL with a message: a parameter the kernel cannot take (a double
 * quote or a control character in it, an empty key, a bare "--", one key required with
 * two values), an unbalanced double quote in a variable, or a "--" in
 * GRUB_CMDLINE_LINUX (everything after it goes to init).
 * *ret_linux is NULL when cmdline_linux is; *ret_default is NULL only when
 * cmdline_default is NULL and params is empty. *ret_changed says whether
 * either value differs. ret_* untouched on failure. */
int grub_edit_values(const char *cmdline_linux, const char *cmdline_default, char *const *params, char **ret_linux,
		     char **ret_default, bool *ret_changed, char *err, size_t errlen);

/* The same edit on the bytes of /etc/default/grub: only the values of the
 * two assignments change, in the quote style they have (double quotes, single
 * quotes; an unquoted value gets double quotes when it needs quoting), every
 * other byte of the file is kept. With no GRUB_CMDLINE_LINUX_DEFAULT
 * assignment, the line GRUB_CMDLINE_LINUX_DEFAULT="..." is appended at the
 * end. A variable that needs no change is not looked at beyond reading its
 * value. -EINVAL with a message ("line N: ...") for an assignment that cannot
 * be edited safely: assigned more than once, a backslash continuation, a
 * value spanning lines, command substitution or a variable reference in the
 * value, a value made of several quoted parts, more commands on its line,
 * an assignment not at the start of its line, the variable used other than
 * in an assignment (export NAME, unset NAME), an unterminated quote, a value
 * that $NAME references make longer than PROCFMT_SHELL_MAX_VALUE, quotes
 * and substitutions nested too deeply to follow, or a file whose edited
 * version procfmt_parse_shell does not read back as the values intended.
 * *ret is the new file (NUL-terminated; a copy of buf when nothing changes,
 * with *ret_changed false). ret_* untouched on failure. */
int grub_edit(const char *buf, size_t len, char *const *params, char **ret, size_t *ret_len, bool *ret_changed,
	      char *err, size_t errlen);

/* Replace GRUB_PATH of h with new_buf, first saving old_buf (the file as it
 * was read) as GRUB_BACKUP_PATH when there is no backup yet: a backup is
 * never overwritten, it holds the file as it was before isolated first
 * changed it. Both writes are durable and atomic (a temporary file in the
 * same directory, fsync, rename, fsync of the directory); the backup is mode
 * 0644, GRUB_BACKUP_DIR (and its parents) are created 0755 when missing; the
 * new file keeps the mode and owner of the one it replaces. *ret_backup_made
 * says whether the backup was written now. -EINVAL when GRUB_PATH is not a
 * regular file (a symbolic link is refused: replacing it would cut the link);
 * -errno with a message naming the file. */
int grub_write(const struct host *h, const char *old_buf, size_t old_len, const char *new_buf, size_t new_len,
	       defaults_chown_fn chown_fn, bool *ret_backup_made, char *err, size_t errlen);

/* Put GRUB_BACKUP_PATH back as GRUB_PATH (atomic and durable as above; the
 * mode and owner of the file it replaces, or of the backup when GRUB_PATH is
 * gone), then remove the backup. -ENOENT when there is no backup. */
int grub_restore(const struct host *h, defaults_chown_fn chown_fn, char *err, size_t errlen);

/* ---- Any shell defaults file (/etc/default/irqbalance) ----
 * The same careful edits for one variable of another file of assignments. */

/* name's one assignment gets value: only the value changes, in the quote
 * style it has (an unquoted value gets double quotes when it needs them);
 * with no assignment of name, the line NAME="value" is appended. The
 * refusals of grub_edit (assigned twice, continued, expanded, ...), and the
 * read back: procfmt_parse_shell must read value from the result. *ret is
 * the new file (NUL-terminated; a copy when name already has value). */
int defaults_assign(const char *buf, size_t len, const char *name, const char *value, char **ret, size_t *ret_len,
		    char *err, size_t errlen);
/* grub_write and grub_restore for path (relative to the host's root) with
 * the backup GRUB_BACKUP_DIR/backup. */
int defaults_write(const struct host *h, const char *path, const char *backup, const char *old_buf, size_t old_len,
		   const char *new_buf, size_t new_len, defaults_chown_fn chown_fn, bool *ret_backup_made, char *err,
		   size_t errlen);
int defaults_restore(const struct host *h, const char *path, const char *backup, defaults_chown_fn chown_fn, char *err,
		     size_t errlen);
/* Remove the temporary files a write of path or of its backup killed
 * midway left (.NAME.isoctl-tmp); nothing else. */
void defaults_tidy(const struct host *h, const char *path, const char *backup);
/* Remove GRUB_BACKUP_DIR/backup, durably. -errno with a message. */
int defaults_drop_backup(const struct host *h, const char *backup, char *err, size_t errlen);

/* Split a boot parameter "key=value": the key (allocated), *ret_value
 * pointing into it after the '=' (NULL for a bare "key"). NULL on ENOMEM. */
char *grub_param_split(const char *param, const char **ret_value);

#endif
