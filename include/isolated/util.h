/* Small helpers shared by the engine: string vectors, diagnostics, file reads
 * relative to a directory fd, durable writes, text made safe to show. */
#ifndef ISOLATED_UTIL_H
#define ISOLATED_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#define ISO_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Diagnostics: a list of finished lines, "FILE:LINE: message" for policy
 * errors. The engine never prints; the front doors print these, a bare line
 * (about no file: "unknown mode ...") after their name ("isoctl: "). */
struct diag {
	char **lines;
	bool *bare; /* bare[i]: lines[i] was added with file NULL */
	size_t n, cap;
};

/* line 0 gives "FILE: message"; file NULL gives "message", a bare line. */
void diag_add(struct diag *d, const char *file, unsigned line, const char *fmt, ...) ISO_PRINTF(4, 5);
void diag_vadd(struct diag *d, const char *file, unsigned line, const char *fmt, va_list ap) ISO_PRINTF(4, 0);
/* Copies of from's lines, bare or not, at the end of d. */
void diag_append(struct diag *d, const struct diag *from);
void diag_free(struct diag *d);

/* NULL-terminated string vectors. strv_push takes ownership of s (frees it on
 * failure). */
size_t strv_len(char *const *v);
int strv_push(char ***v, char *s);
int strv_push_dup(char ***v, const char *s);
bool strv_contains(char *const *v, const char *s);
void strv_free(char **v);

/* Split on white space, honouring double quotes ("CPU 1/KVM" stays one word;
 * quotes are removed). -EINVAL with message on an unterminated quote. */
int strv_split_quoted(const char *s, char ***ret, char *err, size_t errlen);

/* Read a whole file relative to dirfd into a NUL-terminated buffer. Refuses
 * files larger than max (-EFBIG). Works for /proc files (size 0 in stat). */
int util_read_at(int dirfd, const char *path, size_t max, char **ret, size_t *ret_len);
/* The same from an open file, read to its end. */
int util_read_fd(int fd, size_t max, char **ret, size_t *ret_len);
/* zlib's CRC-32 of buf[0..len). */
uint32_t util_crc32(const void *buf, size_t len);
/* Write all of buf to fd, retrying short writes and EINTR. 0 or -errno
 * (-EIO when write() returns 0). */
int util_write_all(int fd, const char *buf, size_t len);

/* ---- Durable writes: a temporary file, synced, renamed into place ---- */

/* Where util_write_replace stopped, for the caller's message. */
enum util_write_step {
	UTIL_WRITE_REMOVE_STALE, /* a temporary file an interrupted write left */
	UTIL_WRITE_CREATE,
	UTIL_WRITE_DATA,
	UTIL_WRITE_MODE, /* fchmod, fstat, fchown */
	UTIL_WRITE_SYNC, /* fsync of the file */
	UTIL_WRITE_CLOSE,
	UTIL_WRITE_RENAME,   /* or the link of no_replace */
	UTIL_WRITE_SYNC_DIR, /* the file is in place; the directory's fsync failed */
};

struct util_replace {
	const char *tmp; /* the temporary name, in the same directory */
	mode_t mode;	 /* given with fchmod, whatever the umask */
	/* When not NULL, called with the written file after its fchmod (grub.c
	 * gives it its owner): 0 or a negative errno, step UTIL_WRITE_MODE. A
	 * hook, not an fchown here, so that the daemon, which links this file
	 * but changes no owner, does not import fchown (its unit denies it). */
	int (*fix)(int fd, const struct stat *st, void *userdata);
	void *userdata;
	bool no_replace;     /* link, never replace an existing name (-EEXIST) */
	bool sync;	     /* fsync the file, and the directory after the rename */
	struct stat *ret_st; /* the new file's, when not NULL */
};

/* dfd/name gets buf through dfd/o->tmp: a stale tmp removed, tmp created
 * (O_EXCL, no symlink followed), written, given its mode (and o->fix),
 * synced (o->sync), closed, renamed over name (or linked to it with
 * no_replace), then dfd synced (o->sync). On failure tmp is removed, the
 * step is in *ret_step and a negative errno returned; name is untouched
 * unless the step is UTIL_WRITE_SYNC_DIR. */
int util_write_replace(int dfd, const char *name, const char *buf, size_t len, const struct util_replace *o,
		       enum util_write_step *ret_step);
/* Strip leading and trailing white space in place; returns s. */
char *util_strip(char *s);
/* *dst becomes a copy of s (NULL: none), the old value freed; -ENOMEM,
 * *dst untouched. */
int util_set_str(char **dst, const char *s);
/* Parse a decimal integer in [min, max]; whole string; -EINVAL/-ERANGE. */
int util_parse_long(const char *s, long min, long max, long *ret);
/* asprintf that returns NULL on failure. */
char *util_sprintf(const char *fmt, ...) ISO_PRINTF(1, 2);
/* vsnprintf into err when err is not NULL and errlen > 0: the engine's
 * one-line error messages. */
void util_set_err(char *err, size_t errlen, const char *fmt, ...) ISO_PRINTF(3, 4);
/* s is one or more decimal digits and nothing else. */
bool util_all_digits(const char *s);
/* snprintf of a path into buf: 0, or -ENAMETOOLONG when it does not fit. */
int util_path(char *buf, size_t len, const char *fmt, ...) ISO_PRINTF(3, 4);

/* Text from the host or from a file (thread names are any bytes a process
 * chose), made safe to show to people on a terminal or in a log: control
 * characters but tab (and newline with keep_newlines), DEL, the C1 controls
 * U+0080..U+009F and bytes that are not UTF-8 become \xNN, one escape a
 * byte. Backslashes stay: escaping twice changes nothing. NULL: ENOMEM. */
char *util_escape(const char *s, bool keep_newlines);
/* vasprintf, then util_escape: a line for people with fields from others. */
char *util_escape_vsprintf(bool keep_newlines, const char *fmt, va_list ap) ISO_PRINTF(2, 0);
/* util_escape would change s. */
bool util_escape_needed(const char *s, bool keep_newlines);
/* The length (1..4) of the valid UTF-8 sequence s starts with; 0 when it
 * starts none (overlong, surrogate, beyond U+10FFFF, cut short). */
size_t util_utf8_seq(const char *s);

/* A growable string. Appends never fail on the spot: an allocation failure
 * is remembered in oom and reported by sbuf_take. */
struct sbuf {
	char *s;
	size_t len, cap;
	bool oom;
};
void sbuf_add(struct sbuf *b, const char *p, size_t n);
void sbuf_adds(struct sbuf *b, const char *s);
void sbuf_addc(struct sbuf *b, char c);
void sbuf_addf(struct sbuf *b, const char *fmt, ...) ISO_PRINTF(2, 3);
/* The string ("" when nothing was added), b emptied; NULL (b freed) after
 * an allocation failure. */
char *sbuf_take(struct sbuf *b);

/* ---- Writing a new tree below a directory fd (isoctl snapshot DIR) ----
 * Paths resolve inside dirfd and follow no symbolic link (-ELOOP): the
 * tree is one we make and nobody else writes. 0 or -errno. */
/* mkdir -p of path below dirfd; each directory made is 0755. */
int util_mkdir_p_at(int dirfd, const char *path);
/* A new file below dirfd (0644, its missing parents made as above), opened
 * to write: never one that is there already (O_EXCL: -EEXIST), so nothing
 * is truncated or written through. The fd or -errno. */
int util_create_at(int dirfd, const char *path);
/* util_create_at, then all of buf written and the file closed. */
int util_write_new_at(int dirfd, const char *path, const char *buf, size_t len);

#endif
