/* The journal on disk: frames (a checkpoint, then records), reading them
 * back, saving what changed (a record appended, or a new checkpoint), and
 * the lock that serialises every invocation that changes a host. The format
 * and what a reader makes of a damaged file are in isolated/journal.h. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "isolated/journal.h"
#include "isolated/util.h"
#include "journal-internal.h"

#define JOURNAL_FILE "journal" /* JOURNAL_PATH within JOURNAL_DIR */
#define JOURNAL_TMP "journal.tmp"
#define JOURNAL_LOCK_FILE "lock" /* JOURNAL_LOCK_PATH within JOURNAL_DIR */
/* Far above any real host (a few hundred bytes a target, the records at
 * most as many bytes as the checkpoint): a bigger file is not ours, and
 * reading it whole would only waste memory. */
#define JOURNAL_MAX (64u << 20)
/* A header line: "K LENGTH PCRC HCRC\n", at most 2 + 20 + 1 + 8 + 1 + 8 + 1. */
#define FRAME_HEADER_MAX JOURNAL_HEAD_MAX
/* Records may grow to this much before a checkpoint is due, however small
 * the checkpoint. */
#define RECORDS_MIN_BUDGET (64u << 10)
/* A record above this size, and above half the checkpoint, is written as a
 * checkpoint instead. */
#define RECORD_BIG (4u << 10)

/* Whether a save must reach the disk before the change it guards. On the
 * running kernel, no: what the journal guards (sysctls, affinities, the
 * threads themselves) dies with the kernel, a kill -9 loses nothing the
 * page cache holds, and a journal of an earlier boot is discarded whatever
 * it holds (its boot id; or, damaged, its age: journal_load). /run is a
 * tmpfs on most hosts, where fsync is nearly free; where it is a disk (a
 * container's /run on ext4), fsync costs 0.2 ms a record, more than the
 * rest of a thread's event. A --root tree's values are files that outlive
 * a power cut: there, each save is fsync'd. */
static bool durable(const struct host *h)
{
	return h->is_tree;
}

/* The path as the user knows it: "/run/isolated/journal", "tree/run/...". */
static void user_path(const struct host *h, const char *rel, char *buf, size_t len)
{
	size_t n = strlen(h->root_path);

	snprintf(buf, len, "%s%s%s", h->root_path, n && h->root_path[n - 1] == '/' ? "" : "/", rel);
}

/* JOURNAL_DIR, created if missing (0755 whatever the umask: anyone may read
 * what isolated holds), opened for fsync and *at() calls. Its parent is
 * resolved inside a tree; the directory itself is ours and never a
 * symbolic link. */
static int open_dir(const struct host *h, bool create, char *err, size_t errlen)
{
	char path[PATH_MAX], name[NAME_MAX + 1];
	bool made = false;
	int pfd, fd, r;

	pfd = host_open_parent(h, JOURNAL_DIR, name);
	if (pfd < 0) {
		r = pfd;
		user_path(h, "run", path, sizeof(path));
		if (r == -ENOENT)
			util_set_err(err, errlen, "%s does not exist", path);
		else
			util_set_err(err, errlen, "cannot open %s: %s", path, path_strerror(-r));
		return r;
	}
	fd = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	r = -errno;
	/* Created only when missing: the daemon locks for every event. */
	if (fd < 0 && r == -ENOENT && create) {
		if (mkdirat(pfd, name, 0755) == 0)
			made = true;
		else if (errno != EEXIST) {
			r = -errno;
			close(pfd);
			user_path(h, JOURNAL_DIR, path, sizeof(path));
			util_set_err(err, errlen, "cannot create %s: %s", path, path_strerror(-r));
			return r;
		}
		fd = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		r = -errno;
	}
	/* O_NOFOLLOW|O_DIRECTORY says ENOTDIR of a link: say what it is. */
	if (fd < 0 && r == -ENOTDIR) {
		struct stat st;

		if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
			r = -ELOOP;
	}
	close(pfd);
	if (fd < 0) {
		user_path(h, JOURNAL_DIR, path, sizeof(path));
		util_set_err(err, errlen, "cannot open %s: %s", path, path_strerror(-r));
		return r;
	}
	if (made)
		(void)fchmod(fd, 0755);
	return fd;
}

/* ---- frames ---- */

/* "K LENGTH PCRC HCRC\n" of a payload into out; its length. */
static size_t frame_header(char kind, const char *payload, size_t len, char out[FRAME_HEADER_MAX])
{
	char first[FRAME_HEADER_MAX];
	int n = snprintf(first, sizeof(first), "%c %zu %08" PRIx32, kind, len, journal_crc(payload, len));

	return (size_t)snprintf(out, FRAME_HEADER_MAX, "%s %08" PRIx32 "\n", first, journal_crc(first, (size_t)n));
}

/* A frame: header and payload, allocated. */
static int frame(char kind, const char *payload, size_t len, char **ret, size_t *ret_len)
{
	char head[FRAME_HEADER_MAX];
	size_t n = frame_header(kind, payload, len, head);
	char *buf = malloc(n + len + 1);

	if (!buf)
		return -ENOMEM;
	memcpy(buf, head, n);
	memcpy(buf + n, payload, len);
	buf[n + len] = '\0';
	*ret = buf;
	*ret_len = n + len;
	return 0;
}

static bool only_nul(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i])
			return false;
	return true;
}

static bool parse_hex8(const char *s, uint32_t *ret)
{
	uint32_t v = 0;

	for (int i = 0; i < 8; i++) {
		char c = s[i];

		if (c >= '0' && c <= '9')
			v = v << 4 | (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v = v << 4 | (uint32_t)(c - 'a' + 10);
		else
			return false;
	}
	*ret = v;
	return true;
}

struct frame_at {
	char kind;
	size_t off;	 /* of the header */
	size_t payload;	 /* offset of the payload */
	size_t len;	 /* of the payload */
	size_t next;	 /* offset after the frame */
	size_t head_len; /* of the header line */
};

/* The frame at buf[pos]: 1 read, 0 cut short (the file ends inside it, or
 * only NUL bytes follow pos: an append that died), -EBADMSG. */
static int next_frame(const char *buf, size_t len, size_t pos, struct frame_at *ret, const char *what, char *err,
		      size_t errlen)
{
	size_t avail = len - pos, n, plen = 0, i;
	const char *h = buf + pos, *nl;
	uint32_t pcrc, hcrc;
	char where[96];

	snprintf(where, sizeof(where), "%s at byte %zu", what, pos);
	if (only_nul(h, avail))
		return 0;
	nl = memchr(h, '\n', avail < FRAME_HEADER_MAX ? avail : FRAME_HEADER_MAX);
	if (!nl)
		return avail < FRAME_HEADER_MAX ? 0 : journal_bad(err, errlen, where, "no header line");
	n = (size_t)(nl - h);
	/* K SP LENGTH SP PCRC SP HCRC */
	if (n < 1 + 1 + 1 + 1 + 8 + 1 + 8 || (h[0] != 'c' && h[0] != 'r') || h[1] != ' ')
		goto malformed;
	for (i = 2; i < n && h[i] >= '0' && h[i] <= '9'; i++) {
		if (plen > (SIZE_MAX - 9) / 10)
			goto malformed;
		plen = plen * 10 + (size_t)(h[i] - '0');
	}
	if (i == 2 || (h[2] == '0') || i + 18 != n || h[i] != ' ' || !parse_hex8(h + i + 1, &pcrc) || h[i + 9] != ' ' ||
	    !parse_hex8(h + i + 10, &hcrc))
		goto malformed;
	if (journal_crc(h, i + 9) != hcrc)
		return journal_bad(err, errlen, where, "header checksum mismatch");
	if (plen > avail - n - 1)
		return 0;
	if (journal_crc(h + n + 1, plen) != pcrc)
		return journal_bad(err, errlen, where,
				   "checksum mismatch: header 0x%08" PRIx32 ", computed 0x%08" PRIx32, pcrc,
				   journal_crc(h + n + 1, plen));
	*ret = (struct frame_at){.kind = h[0],
				 .off = pos,
				 .payload = pos + n + 1,
				 .len = plen,
				 .next = pos + n + 1 + plen,
				 .head_len = n + 1};
	return 1;
malformed:
	return journal_bad(err, errlen, where, "malformed header line");
}

int journal_parse_ex(const char *buf, size_t len, struct journal **ret, size_t *ret_torn, char *err, size_t errlen)
{
	struct journal_file_id id = {0};
	struct frame_at f;
	struct journal *j = NULL;
	size_t pos, k = 0;
	int r;

	if (ret_torn)
		*ret_torn = 0;
	if (len == 0)
		return journal_bad(err, errlen, NULL, "empty file");
	/* Format 2 starts with its checkpoint's header ("c ..."); anything
	 * else is read as format 1, whose messages say best what is wrong
	 * with it. */
	if (buf[0] != 'c' && buf[0] != 'r') {
		r = journal_parse_v1(buf, len, &j, err, errlen);
		if (r < 0)
			return r;
		id.rewrite = true;
		journal_mark_saved(j, &id);
		*ret = j;
		return 0;
	}
	r = next_frame(buf, len, 0, &f, "checkpoint", err, errlen);
	if (r == 0)
		return journal_bad(err, errlen, NULL, "truncated: the checkpoint is cut short (file is %zu bytes)",
				   len);
	if (r < 0)
		return r;
	if (f.kind != 'c')
		return journal_bad(err, errlen, NULL, "not an isolated journal (no checkpoint first)");
	r = journal_parse_checkpoint(buf + f.payload, f.len, "checkpoint", &j, err, errlen);
	if (r < 0)
		return r;
	id.ckpt_size = f.next;
	id.head_len = f.head_len;
	memcpy(id.head, buf, f.head_len);
	for (pos = f.next; pos < len; pos = f.next) {
		char what[48];

		snprintf(what, sizeof(what), "record %zu", ++k);
		r = next_frame(buf, len, pos, &f, what, err, errlen);
		if (r == 0) {
			/* an append that died: the state before it */
			id.rewrite = true;
			if (ret_torn)
				*ret_torn = len - pos;
			break;
		}
		if (r > 0 && f.kind != 'r')
			r = journal_bad(err, errlen, NULL, "%s at byte %zu: a second checkpoint", what, pos);
		if (r > 0) {
			char where[96];

			snprintf(where, sizeof(where), "%s at byte %zu", what, pos);
			r = journal_apply_record(j, buf + f.payload, f.len, where, err, errlen);
		}
		if (r < 0) {
			journal_free(j);
			return r;
		}
	}
	journal_compact(j);
	r = journal_check(j, err, errlen);
	if (r < 0) {
		journal_free(j);
		return r;
	}
	id.size = len;
	journal_mark_saved(j, &id);
	*ret = j;
	return 0;
}

int journal_parse(const char *buf, size_t len, struct journal **ret, char *err, size_t errlen)
{
	return journal_parse_ex(buf, len, ret, NULL, err, errlen);
}

int journal_format(const struct journal *j, char **ret, size_t *ret_len)
{
	char *text;
	size_t n, len;
	int r;

	r = journal_checkpoint_text(j, &text, &n, NULL, 0);
	if (r < 0)
		return r;
	r = frame('c', text, n, ret, &len);
	free(text);
	if (r >= 0 && ret_len)
		*ret_len = len;
	return r;
}

/* ---- reading the file ---- */

/* A file last written before the running kernel booted (the running
 * kernel only: a tree has no boot of its own). */
static bool before_this_boot(const struct host *h, const struct stat *st)
{
	struct timespec up, now;

	if (h->is_tree || clock_gettime(CLOCK_BOOTTIME, &up) < 0 || clock_gettime(CLOCK_REALTIME, &now) < 0)
		return false;
	/* a second of slack for the two clocks read one after the other */
	return st->st_mtime + 1 < now.tv_sec - up.tv_sec;
}

int journal_load(const struct host *h, struct journal **ret, char *err, size_t errlen)
{
	char path[PATH_MAX], msg[512];
	struct journal_file_id *id;
	struct journal *j;
	struct stat st;
	size_t len = 0;
	char *buf = NULL;
	int fd, r;

	util_set_err(err, errlen, "%s", "");
	fd = host_open_read(h, JOURNAL_PATH);
	if (fd == -ENOENT)
		return fd;
	user_path(h, JOURNAL_PATH, path, sizeof(path));
	r = fd < 0 ? fd : fstat(fd, &st) < 0 ? -errno : util_read_fd(fd, JOURNAL_MAX, &buf, &len);
	if (fd >= 0)
		close(fd);
	if (r == -EFBIG) {
		util_set_err(err, errlen, "%s: larger than %u MiB, not a journal", path, JOURNAL_MAX >> 20);
		return r;
	}
	if (r < 0) {
		util_set_err(err, errlen, "%s: %s", path, path_strerror(-r));
		return r;
	}
	msg[0] = '\0';
	r = journal_parse(buf, len, &j, msg, sizeof(msg));
	free(buf);
	if (r == -EBADMSG && before_this_boot(h, &st)) {
		/* Damaged, but from an earlier boot (a /run that is not a
		 * tmpfs, a power cut before the page cache reached it): what it
		 * guarded is gone with that boot. A journal of no boot, which
		 * every caller discards as of another one. */
		j = journal_new("unknown: a damaged journal written before this boot");
		if (!j)
			return -ENOMEM;
		*ret = j;
		return 0;
	}
	if (r < 0) {
		util_set_err(err, errlen, "%s: %s", path, r == -ENOMEM ? path_strerror(ENOMEM) : msg);
		return r;
	}
	id = journal_file_id(j);
	if (id) {
		id->known = true;
		id->dev = st.st_dev;
		id->ino = st.st_ino;
		id->size = (uint64_t)st.st_size;
	}
	*ret = j;
	return 0;
}

/* The file is still the one id describes, as it was then. */
static bool same_file(int dfd, const struct journal_file_id *id)
{
	char head[JOURNAL_HEAD_MAX];
	struct stat st;
	bool same;
	int fd;

	if (!id || !id->known)
		return false;
	fd = openat(dfd, JOURNAL_FILE, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return false;
	same = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_dev == id->dev && st.st_ino == id->ino &&
	       (uint64_t)st.st_size == id->size &&
	       (id->head_len == 0 || (pread(fd, head, id->head_len, 0) == (ssize_t)id->head_len &&
				      memcmp(head, id->head, id->head_len) == 0));
	close(fd);
	return same;
}

int journal_refresh(const struct host *h, struct journal **jp, const char *boot_id, bool *ret_reloaded, char *err,
		    size_t errlen)
{
	struct journal *j = NULL;
	int dfd, r;

	if (ret_reloaded)
		*ret_reloaded = false;
	util_set_err(err, errlen, "%s", "");
	dfd = open_dir(h, false, NULL, 0);
	if (*jp && dfd >= 0 && same_file(dfd, journal_file_id(*jp))) {
		close(dfd);
		return 0;
	}
	if (dfd >= 0)
		close(dfd);
	if (ret_reloaded)
		*ret_reloaded = true;
	r = journal_load(h, &j, err, errlen);
	if (r == -ENOENT) {
		util_set_err(err, errlen, "%s", "");
		j = journal_new(boot_id);
		r = j ? 0 : -ENOMEM;
	}
	if (r < 0)
		return r;
	journal_free(*jp);
	*jp = j;
	return 0;
}

/* ---- writing ---- */

/* Append what changed to the file j was read from or saved to: 1 done (or
 * nothing to do), 0 when a checkpoint is due instead. */
static int save_record(const struct host *h, int dfd, struct journal *j, size_t *ret_bytes, char *err, size_t errlen)
{
	struct journal_file_id *id = journal_file_id(j), now;
	char path[PATH_MAX], *text = NULL, *buf = NULL;
	size_t n, len;
	struct stat st;
	int fd, r;

	if (!id || !id->known || id->rewrite)
		return 0;
	r = journal_record_text(j, &text, &n, err, errlen);
	if (r < 0)
		return r;
	if (!text) /* nothing changed: done if the file is still there as it was */
		return same_file(dfd, id) ? 1 : 0;
	r = frame('r', text, n, &buf, &len);
	free(text);
	if (r < 0)
		return r;
	/* Records outgrowing the checkpoint: a new checkpoint is cheaper to
	 * read. A record that rewrites most of the journal (a first apply's
	 * commit sets every target) costs as much as a checkpoint to write:
	 * written as one, the file is half the size. */
	if (id->size - id->ckpt_size + len > (id->ckpt_size > RECORDS_MIN_BUDGET ? id->ckpt_size : RECORDS_MIN_BUDGET) ||
	    (len > RECORD_BIG && len > id->ckpt_size / 2)) {
		free(buf);
		return 0;
	}
	fd = openat(dfd, JOURNAL_FILE, O_WRONLY | O_APPEND | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_dev != id->dev || st.st_ino != id->ino ||
	    (uint64_t)st.st_size != id->size) {
		/* not the file we know (which the caller should have noticed
		 * under the lock): ours replaces it whole */
		if (fd >= 0)
			close(fd);
		free(buf);
		return 0;
	}
	r = util_write_all(fd, buf, len);
	if (r == 0 && durable(h) && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	free(buf);
	if (r < 0) {
		user_path(h, JOURNAL_PATH, path, sizeof(path));
		util_set_err(err, errlen, "cannot append to %s: %s", path, path_strerror(-r));
		/* what reached the file is unknown: read it again next time */
		id->known = false;
		return r;
	}
	now = *id;
	now.size += len;
	journal_mark_saved(j, &now);
	if (ret_bytes)
		*ret_bytes = len;
	return 1;
}

/* What save_checkpoint says it could not do, by util_write_replace's step. */
static const char *const checkpoint_steps[] = {
    [UTIL_WRITE_REMOVE_STALE] = "remove stale",
    [UTIL_WRITE_CREATE] = "create",
    [UTIL_WRITE_DATA] = "write",
    [UTIL_WRITE_MODE] = "chmod",
    [UTIL_WRITE_SYNC] = "fsync",
    [UTIL_WRITE_CLOSE] = "close",
    [UTIL_WRITE_RENAME] = "rename",
};

/* A new file holding one checkpoint, renamed over JOURNAL_PATH. dfd < 0:
 * JOURNAL_DIR is opened (created) once the checkpoint is known to be
 * valid, so that nothing is created for a journal that is not. Synced only
 * where durable(h) (see above). */
static int save_checkpoint(const struct host *h, int dfd, struct journal *j, size_t *ret_bytes, char *err,
			   size_t errlen)
{
	char path[PATH_MAX], msg[256], *text = NULL, *buf = NULL;
	struct journal_file_id id = {.known = true};
	enum util_write_step step;
	struct stat st;
	size_t n, len = 0;
	int own = -1, r;

	user_path(h, JOURNAL_PATH ".tmp", path, sizeof(path));
	msg[0] = '\0';
	r = journal_checkpoint_text(j, &text, &n, msg, sizeof(msg));
	if (r >= 0)
		r = frame('c', text, n, &buf, &len);
	free(text);
	if (r < 0) {
		util_set_err(err, errlen, "cannot write %s: %s", path, r == -ENOMEM ? path_strerror(ENOMEM) : msg);
		return r;
	}
	if (dfd < 0 && (dfd = own = open_dir(h, true, err, errlen)) < 0) {
		free(buf);
		return dfd;
	}
	/* a stale temporary file is what an earlier save left when it was killed */
	r = util_write_replace(
	    dfd, JOURNAL_FILE, buf, len,
	    &(struct util_replace){.tmp = JOURNAL_TMP, .mode = 0644, .sync = durable(h), .ret_st = &st}, &step);
	if (r < 0 && step != UTIL_WRITE_SYNC_DIR) {
		util_set_err(err, errlen, "cannot %s %s%s: %s", checkpoint_steps[step], path,
			     step == UTIL_WRITE_RENAME ? " to " JOURNAL_FILE : "", path_strerror(-r));
		goto out;
	}
	id.dev = st.st_dev;
	id.ino = st.st_ino;
	id.size = id.ckpt_size = len;
	id.head_len = (size_t)((char *)memchr(buf, '\n', len) - buf) + 1;
	memcpy(id.head, buf, id.head_len);
	journal_mark_saved(j, &id);
	if (ret_bytes)
		*ret_bytes = len;
	if (r < 0) {
		/* in place, but perhaps not on disk yet: say so, nothing to undo */
		user_path(h, JOURNAL_DIR, path, sizeof(path));
		util_set_err(err, errlen, "cannot fsync directory %s: %s", path, path_strerror(-r));
	}
out:
	free(buf);
	if (own >= 0)
		close(own);
	return r;
}

int journal_save_ex(const struct host *h, struct journal *j, size_t *ret_bytes, char *err, size_t errlen)
{
	int dfd, r = 0;

	if (ret_bytes)
		*ret_bytes = 0;
	/* No directory yet: no file to append to either. */
	dfd = open_dir(h, false, err, errlen);
	if (dfd < 0 && dfd != -ENOENT)
		return dfd;
	util_set_err(err, errlen, "%s", "");
	if (dfd >= 0)
		r = save_record(h, dfd, j, ret_bytes, err, errlen);
	if (r == 0) {
		/* save_checkpoint opens the directory when dfd < 0; it does
		 * not close the caller's */
		r = save_checkpoint(h, dfd, j, ret_bytes, err, errlen);
	}
	if (dfd >= 0)
		close(dfd);
	return r < 0 ? r : 0;
}

int journal_save(const struct host *h, struct journal *j, char *err, size_t errlen)
{
	return journal_save_ex(h, j, NULL, err, errlen);
}

int journal_remove(const struct host *h, char *err, size_t errlen)
{
	char path[PATH_MAX];
	int dfd, r;

	dfd = open_dir(h, false, err, errlen);
	if (dfd == -ENOENT) {
		util_set_err(err, errlen, "%s", "");
		return 0;
	}
	if (dfd < 0)
		return dfd;
	/* a temp file left by a save that was killed goes with the journal,
	 * so that journal_unlock can remove the directory */
	(void)unlinkat(dfd, JOURNAL_TMP, 0);
	if (unlinkat(dfd, JOURNAL_FILE, 0) < 0) {
		r = -errno;
		close(dfd);
		if (r == -ENOENT)
			return 0;
		user_path(h, JOURNAL_PATH, path, sizeof(path));
		util_set_err(err, errlen, "cannot remove %s: %s", path, path_strerror(-r));
		return r;
	}
	if (durable(h) && fsync(dfd) < 0) {
		r = -errno;
		close(dfd);
		user_path(h, JOURNAL_DIR, path, sizeof(path));
		util_set_err(err, errlen, "cannot fsync directory %s: %s", path, path_strerror(-r));
		return r;
	}
	close(dfd);
	return 0;
}

/* The pid the holder wrote into the lock file, for the message; 0 if none. */
static long lock_holder(int fd)
{
	char buf[32];
	ssize_t n;
	long pid;

	n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n <= 1 || buf[n - 1] != '\n')
		return 0;
	buf[n - 1] = '\0';
	if (util_parse_long(buf, 1, INT_MAX, &pid) < 0)
		return 0;
	return pid;
}

/* The lock file in dfd is still the one fd holds (a holder's cleanup may
 * have removed it, or its directory, meanwhile). */
static bool lock_current(const struct host *h, int fd)
{
	struct stat a, b;
	int dfd = open_dir(h, false, NULL, 0);
	bool same;

	if (dfd < 0)
		return false;
	same = fstat(fd, &a) == 0 && fstatat(dfd, JOURNAL_LOCK_FILE, &b, AT_SYMLINK_NOFOLLOW) == 0 &&
	       a.st_dev == b.st_dev && a.st_ino == b.st_ino;
	close(dfd);
	return same;
}

int journal_lock(const struct host *h, bool wait, int *ret_fd, char *err, size_t errlen)
{
	char path[PATH_MAX], line[32];
	int fd, r, len;

	user_path(h, JOURNAL_LOCK_PATH, path, sizeof(path));
	/* Each retry means another holder removed the file (cleanup) between
	 * our open and our lock; a bound only guards against a livelock. */
	for (int attempt = 0; attempt < 1000; attempt++) {
		int dfd = open_dir(h, true, err, errlen);

		if (dfd < 0)
			return dfd;
		fd = openat(dfd, JOURNAL_LOCK_FILE, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0644);
		if (fd < 0) {
			r = -errno;
			if (r == -ENOENT) { /* the directory went with a holder's cleanup */
				close(dfd);
				continue;
			}
			util_set_err(err, errlen, "cannot open %s: %s", path, path_strerror(-r));
			close(dfd);
			return r;
		}
		while (flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) < 0) {
			r = -errno;
			if (r == -EINTR)
				continue;
			if (r == -EWOULDBLOCK) {
				long pid = lock_holder(fd);

				if (pid)
					util_set_err(err, errlen,
						     "another isoctl or isolated (pid %ld) is changing this host", pid);
				else
					util_set_err(err, errlen,
						     "another isoctl or isolated (unknown pid) is changing this host");
			} else
				util_set_err(err, errlen, "cannot lock %s: %s", path, path_strerror(-r));
			close(fd);
			close(dfd);
			return r;
		}
		if (!lock_current(h, fd)) {
			close(fd);
			close(dfd);
			continue;
		}
		len = snprintf(line, sizeof(line), "%ld\n", (long)getpid());
		errno = EIO; /* a short pwrite sets none */
		/* The daemon locks for every event: its pid is there already
		 * (and a truncate costs more than the rest of the lock). */
		if (lock_holder(fd) != (long)getpid() &&
		    (ftruncate(fd, 0) < 0 || pwrite(fd, line, (size_t)len, 0) != len)) {
			r = -errno;
			util_set_err(err, errlen, "cannot write %s: %s", path, path_strerror(-r));
			close(fd);
			close(dfd);
			return r;
		}
		/* What a tree write killed before its rename left (see
		 * path_replace): only we write now. */
		if (h->is_tree)
			path_sweep_scratch(dfd);
		close(dfd);
		*ret_fd = fd;
		return 0;
	}
	util_set_err(err, errlen, "cannot lock %s: it keeps being removed", path);
	return -EAGAIN;
}

void journal_unlock(const struct host *h, int fd, bool cleanup)
{
	char name[NAME_MAX + 1];
	int dfd;

	if (fd < 0)
		return;
	if (cleanup && (dfd = open_dir(h, false, NULL, 0)) >= 0) {
		/* while still holding it: a waiter that then gets the old file
		 * sees it is gone and takes a new one */
		(void)unlinkat(dfd, JOURNAL_LOCK_FILE, 0);
		close(dfd);
	}
	close(fd);
	/* A tree returns to exactly what it was. On the running kernel
	 * /run/isolated stays: it is the daemon's RuntimeDirectory=, bind
	 * mounted into its ProtectSystem=strict namespace, and removing it
	 * from outside would leave the daemon a read-only directory. Not
	 * empty (a journal, a lock taken meanwhile): it stays anyway. */
	if (cleanup && h->is_tree && (dfd = host_open_parent(h, JOURNAL_DIR, name)) >= 0) {
		(void)unlinkat(dfd, name, AT_REMOVEDIR);
		close(dfd);
	}
}

bool journal_exists(const struct host *h)
{
	struct stat st;
	int dfd = open_dir(h, false, NULL, 0);
	bool there;

	if (dfd < 0)
		return false;
	there = fstatat(dfd, JOURNAL_FILE, &st, AT_SYMLINK_NOFOLLOW) == 0;
	close(dfd);
	return there;
}
