/* Durable edits of configuration files of a host (lib/grub.c): the helpers
 * grub.c, defaults files and the boot transaction (lib/boot.c) share. Paths
 * are relative to the host's root; errors are negative errno with a message
 * naming the file as the administrator knows it. */
#ifndef ISOLATED_DFILE_INTERNAL_H
#define ISOLATED_DFILE_INTERNAL_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

#include "isolated/grub.h"
#include "isolated/host.h"

/* "/etc/default/grub", or the tree's "T/etc/default/grub", in buf. */
const char *dfile_host_path(const struct host *h, const char *rel, char *buf, size_t n);
/* Set "WHAT PATH: strerror" and return r. */
int dfile_fail(const struct host *h, const char *what, const char *rel, int r, char *err, size_t errlen);
/* mkdir -p, each new directory 0755, its parent synced. */
int dfile_mkdirs(const struct host *h, const char *rel, char *err, size_t errlen);
/* dir/name gets buf through dir/.name.isoctl-tmp: written, given mode and
 * owner (through chown_fn when it differs from ours), synced, renamed over
 * name (with no_replace linked, -EEXIST without a message when name
 * exists), the directory synced. */
int dfile_write_atomic(const struct host *h, const char *dir, const char *name, const char *buf, size_t len,
		       mode_t mode, uid_t uid, gid_t gid, defaults_chown_fn chown_fn, bool no_replace, char *err,
		       size_t errlen);
/* lstat of path, which must be a regular file (-EINVAL with a message). */
int dfile_stat(const struct host *h, const char *path, struct stat *ret, char *err, size_t errlen);
/* Without chown_fn, path must be ours already (-EPERM with a message). */
int dfile_check_owner(const struct host *h, const char *path, const struct stat *st, defaults_chown_fn chown_fn,
		      char *err, size_t errlen);
/* path's directory and name, split at the last "/". */
int dfile_split(const char *path, char dir[PATH_MAX], const char **ret_name);

#endif
