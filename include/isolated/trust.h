/* What root trusts: a file only root could have written, reached through
 * directories only root can change, as sshd's StrictModes and sudo's checks
 * of sudoers do. trust_open is how policies, host.conf and isolated.conf
 * are opened. It reads nothing but inodes and symlinks; it never writes. */
#ifndef ISOLATED_TRUST_H
#define ISOLATED_TRUST_H

#include <stddef.h>
#include <sys/stat.h>

/* The file is shown to anyone who asks (a policy, host.conf: the daemon's
 * Plan and ListModes return their errors, which quote their lines): as
 * root, refuse one that others may not read. */
#define TRUST_PUBLIC 0x1u

/* Open path for reading: a regular file, or -EINVAL ("not a regular file").
 * As root (euid 0), symlinks are followed one component at a time and the
 * file is refused (-EPERM) unless
 *   - every directory from / to it, the working directory's own for a
 *     relative path and those a symlink leads through included, is owned
 *     by root and not writable by group or others; a sticky directory
 *     (/tmp) may be, its entries being safe from others: a symlink in it
 *     must then be root's too (a directory and the file are anyway);
 *   - the file (the one a symlink leads to) is owned by root and not
 *     writable by group or others, and with TRUST_PUBLIC readable by
 *     others.
 * Not root, a user reads what the kernel lets them read, and nothing read
 * can change the host: no checks but the file's type. On success *ret_fd
 * (O_RDONLY, O_NONBLOCK) and *ret_st; otherwise a negative errno and err,
 * one line without the file's name ("cannot open: ...", "refusing: ...";
 * directories named relative to the working directory for a relative
 * path). */
int trust_open(const char *path, unsigned flags, int *ret_fd, struct stat *ret_st, char *err, size_t errlen);

#endif
