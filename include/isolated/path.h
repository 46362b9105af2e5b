/* Opening paths below a directory that may be hostile (a --root tree, a
 * snapshot being written): with PATH_BENEATH every path resolves inside the
 * directory -- no symbolic link or ".." out of it, no /proc magic link, no
 * mount point crossed -- and one that would leave it is -EXDEV. Without
 * flags these are plain openat() and friends (the running kernel's "/").
 *
 * The kernel does the resolution (openat2 with RESOLVE_BENEATH |
 * RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV); where openat2 is missing or
 * filtered, an equivalent walk one component at a time (path_open_walk). */
#ifndef ISOLATED_PATH_H
#define ISOLATED_PATH_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

enum {
	PATH_BENEATH = 1u << 0,	    /* stay inside dirfd (see above) */
	PATH_NO_SYMLINKS = 1u << 1, /* with PATH_BENEATH: follow no symbolic link at all (-ELOOP) */
};

/* The errno of a file that is there but is not a regular file (a FIFO, a
 * device, a socket, a directory) where PATH_BENEATH reads or replaces one:
 * reading a FIFO would block, a device has side effects. */
#define PATH_ENOTREG EMEDIUMTYPE

/* strerror() with our meaning of the errnos this module gives: EXDEV
 * "leads out of the tree (a symbolic link or mount point on the way)",
 * PATH_ENOTREG "not a regular file", ELOOP "a symbolic link where none may
 * be". */
const char *path_strerror(int errnum);

/* openat(dirfd, path, flags | O_CLOEXEC, mode), resolved as how says. A
 * path must be relative and non-empty (-EINVAL). Returns the fd or -errno. */
int path_open(int dirfd, const char *path, int flags, mode_t mode, unsigned how);
/* The same resolution done one component at a time, without openat2; used
 * when the kernel has none, and by the tests. */
int path_open_walk(int dirfd, const char *path, int flags, mode_t mode, unsigned how);

/* The directory holding path's last component, opened O_RDONLY|O_DIRECTORY
 * and resolved as how says, and that component into name. For *at() calls
 * on the entry itself (unlinkat, renameat, fstatat(AT_SYMLINK_NOFOLLOW)),
 * which then cannot be redirected. -EINVAL when path has no last component
 * ("", "a/", "a/..", "."). */
int path_open_parent(int dirfd, const char *path, unsigned how, char name[NAME_MAX + 1]);

/* mkdir -p of path below dirfd, resolved as how says: each directory made
 * gets mode exactly (whatever the umask) and, with sync, its parent is
 * fsync'd so that it survives a crash. An existing non-directory on the way
 * is -ENOTDIR. Returns the last directory opened O_RDONLY|O_DIRECTORY. */
int path_mkdirs(int dirfd, const char *path, mode_t mode, unsigned how, bool sync);

/* Open a file to read it, O_RDONLY: with PATH_BENEATH only a regular file,
 * opened without blocking (PATH_ENOTREG otherwise). The fd or -errno. */
int path_open_read(int dirfd, const char *path, unsigned how);
/* Read a whole file, opened as path_open_read does, into a NUL-terminated
 * buffer: at most max bytes (-EFBIG beyond). */
int path_read(int dirfd, const char *path, unsigned how, size_t max, char **ret, size_t *ret_len);

/* Replace the existing regular file path with buf, atomically: a reader sees
 * the old bytes or the new ones, never a mix or an empty file, and a kill
 * at any instant leaves one of the two. The new file is written under a
 * temporary name, given the old one's mode, then renamed over it; it is
 * owned by the writer (changing owners is not ours to do: the daemon's
 * system call filter refuses it). The temporary file is made in scratch_fd when it is
 * >= 0 (a directory on the same file system, whose stale entries its owner
 * sweeps with path_sweep_scratch), else beside the file as ".NAME.isolated~"
 * (a stale one is removed first). A missing file is -ENOENT (nothing is
 * created), a symbolic link -ELOOP, anything else not regular PATH_ENOTREG,
 * a file without write permission for us -EACCES. Not fsync'd: trees are
 * rehearsals; the journal that guards them is. */
int path_replace(int dirfd, const char *path, unsigned how, const char *buf, size_t len, int scratch_fd);
/* Remove the temporary files path_replace left in scratch_fd when it was
 * killed. Only for the holder of the lock that serialises the writers. */
void path_sweep_scratch(int scratch_fd);

#endif
