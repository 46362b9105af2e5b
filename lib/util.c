/* Small helpers shared by the engine: diagnostics, string vectors, reading
 * whole files relative to a directory fd, durable writes, text made safe to
 * show. */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <ctype.h>
#include <zlib.h>

#include "isolated/path.h"
#include "isolated/util.h"

size_t util_utf8_seq(const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	unsigned c = s[0], n, min;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, min = 0x80, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, min = 0x800, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, min = 0x10000, cp = c & 0x07;
	else
		return 0;
	/* A NUL ends the loop at the first byte that is not a continuation. */
	for (unsigned i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* The bytes at p that are shown or escaped as one: a UTF-8 sequence, or one
 * byte that does not start one. *esc: escape them. */
static size_t escape_unit(const unsigned char *p, bool keep_newlines, bool *esc)
{
	size_t n = util_utf8_seq((const char *)p);

	if (n == 0) {
		*esc = true;
		return 1;
	}
	if (n == 1)
		*esc = (p[0] < 0x20 && p[0] != '\t' && !(keep_newlines && p[0] == '\n')) || p[0] == 0x7f;
	else /* U+0080..U+009F: the C1 controls, CSI (U+009B) among them */
		*esc = n == 2 && p[0] == 0xc2 && p[1] < 0xa0;
	return n;
}

bool util_escape_needed(const char *s, bool keep_newlines)
{
	bool esc = false;

	for (const unsigned char *p = (const unsigned char *)s; *p && !esc;)
		p += escape_unit(p, keep_newlines, &esc);
	return esc;
}

char *util_escape(const char *s, bool keep_newlines)
{
	struct sbuf b = {0};

	for (const unsigned char *p = (const unsigned char *)s; *p;) {
		bool esc;
		size_t n = escape_unit(p, keep_newlines, &esc);

		for (size_t i = 0; esc && i < n; i++) {
			char x[5];

			snprintf(x, sizeof(x), "\\x%02x", p[i]);
			sbuf_adds(&b, x);
		}
		if (!esc)
			sbuf_add(&b, (const char *)p, n);
		p += n;
	}
	return sbuf_take(&b);
}

char *util_escape_vsprintf(bool keep_newlines, const char *fmt, va_list ap)
{
	char *s = NULL, *e;

	if (vasprintf(&s, fmt, ap) < 0)
		return NULL;
	e = util_escape(s, keep_newlines);
	free(s);
	return e;
}

static void diag_push(struct diag *d, char *line, bool bare);

void diag_vadd(struct diag *d, const char *file, unsigned line, const char *fmt, va_list ap)
{
	char *msg = NULL, *out = NULL;

	if (vasprintf(&msg, fmt, ap) < 0)
		return;
	if (file && line)
		out = util_sprintf("%s:%u: %s", file, line, msg);
	else if (file)
		out = util_sprintf("%s: %s", file, msg);
	else
		out = msg, msg = NULL;
	free(msg);
	/* Control characters of a bad file (ESC, CR, backspace...) would reach
	 * the terminal or the log as they are. */
	if (out && util_escape_needed(out, false)) {
		char *e = util_escape(out, false);

		free(out);
		out = e;
	}
	if (!out)
		return;
	diag_push(d, out, file == NULL);
}

/* Append line (taken) to d. */
static void diag_push(struct diag *d, char *line, bool bare)
{
	if (d->n + 1 >= d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 8;
		char **v = realloc(d->lines, cap * sizeof(*v));
		bool *b = v ? realloc(d->bare, cap * sizeof(*b)) : NULL;

		if (v)
			d->lines = v;
		if (!b) {
			free(line);
			return;
		}
		d->bare = b;
		d->cap = cap;
	}
	d->bare[d->n] = bare;
	d->lines[d->n++] = line;
	d->lines[d->n] = NULL;
}

void diag_append(struct diag *d, const struct diag *from)
{
	for (size_t i = 0; i < from->n; i++) {
		char *l = strdup(from->lines[i]);

		if (l)
			diag_push(d, l, from->bare[i]);
	}
}

void diag_add(struct diag *d, const char *file, unsigned line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_vadd(d, file, line, fmt, ap);
	va_end(ap);
}

void diag_free(struct diag *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->lines[i]);
	free(d->lines);
	free(d->bare);
	d->lines = NULL;
	d->bare = NULL;
	d->n = d->cap = 0;
}

size_t strv_len(char *const *v)
{
	size_t n = 0;

	while (v && v[n])
		n++;
	return n;
}

int strv_push(char ***v, char *s)
{
	size_t n = strv_len(*v);
	char **nv;

	if (!s)
		return -ENOMEM;
	nv = realloc(*v, (n + 2) * sizeof(*nv));
	if (!nv) {
		free(s);
		return -ENOMEM;
	}
	nv[n] = s;
	nv[n + 1] = NULL;
	*v = nv;
	return 0;
}

int strv_push_dup(char ***v, const char *s)
{
	return strv_push(v, strdup(s));
}

bool strv_contains(char *const *v, const char *s)
{
	for (size_t i = 0; v && v[i]; i++)
		if (strcmp(v[i], s) == 0)
			return true;
	return false;
}

void strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

int strv_split_quoted(const char *s, char ***ret, char *err, size_t errlen)
{
	char **v = NULL;
	size_t len = strlen(s);
	char *word = malloc(len + 1);
	int r;

	if (!word)
		return -ENOMEM;
	for (const char *p = s; *p;) {
		size_t n = 0;
		bool quoted = false, any = false;

		while (*p && isspace((unsigned char)*p))
			p++;
		if (!*p)
			break;
		for (; *p && (quoted || !isspace((unsigned char)*p)); p++) {
			any = true;
			if (*p == '"')
				quoted = !quoted;
			else
				word[n++] = *p;
		}
		if (quoted) {
			snprintf(err, errlen, "unterminated quote in \"%s\"", s);
			free(word);
			strv_free(v);
			return -EINVAL;
		}
		if (any) {
			word[n] = '\0';
			r = strv_push_dup(&v, word);
			if (r < 0) {
				free(word);
				strv_free(v);
				return r;
			}
		}
	}
	free(word);
	if (!v) {
		v = calloc(1, sizeof(*v));
		if (!v)
			return -ENOMEM;
	}
	*ret = v;
	return 0;
}

int util_read_fd(int fd, size_t max, char **ret, size_t *ret_len)
{
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	int r;

	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t n;

		if (len + 1 >= cap) {
			char *nb;

			if (cap > max) {
				r = -EFBIG;
				goto fail;
			}
			cap *= 2;
			nb = realloc(buf, cap);
			if (!nb) {
				r = -ENOMEM;
				goto fail;
			}
			buf = nb;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			goto fail;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > max) {
		r = -EFBIG;
		goto fail;
	}
	buf[len] = '\0';
	/* Most files are a few bytes (a comm, a number) and many are kept (a
	 * snapshot holds each thread's comm): give back the rest of the
	 * 4 KiB, which for 10 000 threads was 40 MB. */
	if (cap - len > 64) {
		char *nb = realloc(buf, len + 1);

		if (nb)
			buf = nb;
	}
	*ret = buf;
	if (ret_len)
		*ret_len = len;
	return 0;
fail:
	free(buf);
	return r;
}

int util_read_at(int dirfd, const char *path, size_t max, char **ret, size_t *ret_len)
{
	int fd, r;

	fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	r = util_read_fd(fd, max, ret, ret_len);
	close(fd);
	return r;
}

int util_write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* ---- Durable writes ---- */

/* The steps after the file is created; fd is closed whatever happens. */
static int replace_fill(int dfd, int fd, const char *buf, size_t len, const struct util_replace *o,
			enum util_write_step *step)
{
	struct stat st;
	int r;

	*step = UTIL_WRITE_DATA;
	r = util_write_all(fd, buf, len);
	if (r < 0)
		goto fail;
	*step = UTIL_WRITE_MODE;
	if (fchmod(fd, o->mode) < 0 || fstat(fd, &st) < 0)
		goto fail_errno;
	if (o->fix && (r = o->fix(fd, &st, o->userdata)) < 0)
		goto fail;
	*step = UTIL_WRITE_SYNC;
	if (o->sync && fsync(fd) < 0)
		goto fail_errno;
	if (o->ret_st)
		*o->ret_st = st;
	*step = UTIL_WRITE_CLOSE;
	r = close(fd);
	fd = -1;
	if (r < 0)
		goto fail_errno;
	*step = UTIL_WRITE_RENAME;
	return 0;
fail_errno:
	r = -errno;
fail:
	if (fd >= 0)
		close(fd);
	(void)unlinkat(dfd, o->tmp, 0);
	return r;
}

int util_write_replace(int dfd, const char *name, const char *buf, size_t len, const struct util_replace *o,
		       enum util_write_step *ret_step)
{
	enum util_write_step step = UTIL_WRITE_REMOVE_STALE;
	int fd, r;

	if (unlinkat(dfd, o->tmp, 0) < 0 && errno != ENOENT) {
		r = -errno;
		goto out;
	}
	step = UTIL_WRITE_CREATE;
	fd = openat(dfd, o->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	r = replace_fill(dfd, fd, buf, len, o, &step);
	if (r < 0)
		goto out;
	if (o->no_replace) {
		r = linkat(dfd, o->tmp, dfd, name, 0) < 0 ? -errno : 0;
		(void)unlinkat(dfd, o->tmp, 0);
	} else if (renameat(dfd, o->tmp, dfd, name) < 0) {
		r = -errno;
		(void)unlinkat(dfd, o->tmp, 0);
	}
	if (r < 0)
		goto out;
	step = UTIL_WRITE_SYNC_DIR;
	if (o->sync && fsync(dfd) < 0)
		r = -errno;
out:
	if (r < 0 && ret_step)
		*ret_step = step;
	return r;
}

int util_set_str(char **dst, const char *s)
{
	char *c = NULL;

	if (s && !(c = strdup(s)))
		return -ENOMEM;
	free(*dst);
	*dst = c;
	return 0;
}

char *util_strip(char *s)
{
	char *e;

	size_t lead = 0;

	while (s[lead] && isspace((unsigned char)s[lead]))
		lead++;
	if (lead)
		memmove(s, s + lead, strlen(s + lead) + 1);
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

int util_parse_long(const char *s, long min, long max, long *ret)
{
	char *end;
	long v;

	if (!s || !*s || isspace((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtol(s, &end, 10);
	if (*end)
		return -EINVAL;
	if (errno == ERANGE || v < min || v > max)
		return -ERANGE;
	*ret = v;
	return 0;
}

char *util_sprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	return r < 0 ? NULL : s;
}

int util_path(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

void sbuf_add(struct sbuf *b, const char *p, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 64;
		char *s;

		while (cap < b->len + n + 1)
			cap *= 2;
		s = realloc(b->s, cap);
		if (!s) {
			b->oom = true;
			return;
		}
		b->s = s;
		b->cap = cap;
	}
	memcpy(b->s + b->len, p, n);
	b->len += n;
	b->s[b->len] = '\0';
}

void sbuf_adds(struct sbuf *b, const char *s)
{
	sbuf_add(b, s, strlen(s));
}

void sbuf_addc(struct sbuf *b, char c)
{
	sbuf_add(b, &c, 1);
}

void sbuf_addf(struct sbuf *b, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->oom = true;
	} else if ((size_t)n < sizeof(buf)) {
		sbuf_add(b, buf, (size_t)n);
	} else {
		char *s;

		va_start(ap, fmt);
		n = vasprintf(&s, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->oom = true;
			return;
		}
		sbuf_add(b, s, (size_t)n);
		free(s);
	}
}

char *sbuf_take(struct sbuf *b)
{
	char *s;

	if (!b->oom && !b->s)
		sbuf_add(b, "", 0);
	if (b->oom) {
		free(b->s);
		*b = (struct sbuf){0};
		return NULL;
	}
	s = b->s;
	*b = (struct sbuf){0};
	return s;
}

void util_set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

bool util_all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

/* ---- Writing a new tree below a directory fd (isoctl snapshot DIR) ----
 * Shared by the snapshot's walk, which copies what it reads when dumping,
 * and the dump itself; here so that neither depends on the other. */

/* Paths inside the directory written, no symbolic link followed: we make
 * none, and nobody else may write there. */
#define TREE_HOW (PATH_BENEATH | PATH_NO_SYMLINKS)

int util_mkdir_p_at(int dirfd, const char *path)
{
	int fd = path_mkdirs(dirfd, path, 0755, TREE_HOW, false);

	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

int util_create_at(int dirfd, const char *path)
{
	int fd, r;

	fd = path_open(dirfd, path, O_WRONLY | O_CREAT | O_EXCL, 0644, TREE_HOW);
	if (fd == -ENOENT) {
		const char *slash = strrchr(path, '/');
		char dir[PATH_MAX];

		if (!slash || (size_t)(slash - path) >= sizeof(dir))
			return -ENOENT;
		memcpy(dir, path, (size_t)(slash - path));
		dir[slash - path] = '\0';
		r = util_mkdir_p_at(dirfd, dir);
		if (r < 0)
			return r;
		fd = path_open(dirfd, path, O_WRONLY | O_CREAT | O_EXCL, 0644, TREE_HOW);
	}
	return fd;
}

int util_write_new_at(int dirfd, const char *path, const char *buf, size_t len)
{
	int fd, r;

	fd = util_create_at(dirfd, path);
	if (fd < 0)
		return fd;
	r = util_write_all(fd, buf, len);
	if (close(fd) < 0 && r == 0)
		r = -errno;
	return r;
}

uint32_t util_crc32(const void *buf, size_t len)
{
	const Bytef *p = buf;
	uLong c = crc32(0L, Z_NULL, 0);

	/* crc32 takes a uInt length: in steps, for buffers over 4 GiB. */
	while (len > 0) {
		uInt n = len > (1u << 30) ? (1u << 30) : (uInt)len;

		c = crc32(c, p, n);
		p += n;
		len -= n;
	}
	return (uint32_t)c;
}
