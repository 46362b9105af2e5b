/* The tree emulator: a write to a --root tree rewrites the files the
 * kernel would show afterwards, in the kernel's own formats (hex masks as
 * wide as they were, stat fields in place), all of a write's files or none,
 * each replaced so that a reader sees the old bytes or the new. The
 * kernel's refusals are emulated too (see the write side in host.h). */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host-internal.h"
#include "isolated/action.h"
#include "isolated/host.h"
#include "isolated/procfmt.h"
#include "isolated/util.h"

/* ---- Rewriting files ---- */

/* Rewrite an existing tree file the way the kernel changes its files: a
 * reader sees the old value or the new one, whatever instant we are killed
 * at (path_replace). It keeps its mode, and a missing file is -ENOENT
 * rather than created (the kernel creates no files). The new content is
 * written in the tree's run/isolated/ when it is there -- the lock holder
 * sweeps what a killed writer left in it -- else beside the file. */
static int tree_put(const struct host *h, const char *path, const char *buf, size_t len)
{
	int scratch = host_openat(h, "run/isolated", O_PATH | O_DIRECTORY | O_NOFOLLOW, 0);
	int r;

	r = path_replace(h->root_fd, path, host_resolve(h), buf, len, scratch);
	if (scratch >= 0)
		close(scratch);
	return r;
}

void rewrites_done(struct rewrite *rw, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(rw[i].old);
		free(rw[i].new);
	}
}

/* All files or none: the contents are built before the first write, and a
 * failed write puts back what the earlier ones (and itself) replaced. */
int tree_put_all(const struct host *h, struct rewrite *rw, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int r = tree_put(h, rw[i].path, rw[i].new, rw[i].new_len);
		if (r < 0) {
			for (size_t j = 0; j <= i; j++)
				(void)tree_put(h, rw[j].path, rw[j].old, rw[j].old_len);
			return r;
		}
	}
	return 0;
}

/* Read the file a rewrite replaces. */
int rewrite_read(const struct host *h, struct rewrite *rw)
{
	return host_read(h, rw->path, &rw->old, &rw->old_len);
}

/* s with the spans [start, end) replaced, in order and not overlapping. */
struct span {
	size_t start, end;
	const char *with;
};

static char *splice_spans(const char *s, size_t len, const struct span *sp, size_t n, size_t *ret_len)
{
	size_t out = len, pos = 0, at = 0;
	char *buf;

	for (size_t i = 0; i < n; i++)
		out = out - (sp[i].end - sp[i].start) + strlen(sp[i].with);
	buf = malloc(out + 1);
	if (!buf)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		size_t w = strlen(sp[i].with);
		memcpy(buf + pos, s + at, sp[i].start - at);
		pos += sp[i].start - at;
		memcpy(buf + pos, sp[i].with, w);
		pos += w;
		at = sp[i].end;
	}
	memcpy(buf + pos, s + at, len - at);
	pos += len - at;
	buf[pos] = '\0';
	*ret_len = pos;
	return buf;
}

/* The hex mask of s as wide as old, a mask the kernel printed: the same
 * number of comma-separated groups with the same digits each ("ffff" for 16
 * CPUs, "00000000,0000ffff" for 64), so that writing back the old set gives
 * the old bytes. -EINVAL when s needs more bits, or old is not a mask. An
 * empty old gives the mask just wide enough. */
static int mask_like(const char *old, const struct cpuset *s, char **ret)
{
	const char *p = old, *end, *q;
	size_t ngroups = 1, group, pos = 0, cap;
	int last = cpuset_last(s);
	char *buf;

	while (isspace((unsigned char)*p))
		p++;
	end = p + strlen(p);
	while (end > p && isspace((unsigned char)end[-1]))
		end--;
	if (p == end)
		return cpuset_format_mask(s, 0, ret);
	for (q = p; q < end; q++) {
		if (*q == ',')
			ngroups++;
		else if (!isxdigit((unsigned char)*q))
			return -EINVAL;
	}
	if (ngroups > CPUSET_MAX_CPUS / 32 || (last >= 0 && (size_t)last >= ngroups * 32))
		return -EINVAL;

	cap = (size_t)(end - p) + 1;
	buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	group = ngroups;
	for (q = p; q <= end; q++) {
		const char *g = q;
		size_t digits;
		uint32_t v = 0;

		while (q < end && *q != ',')
			q++;
		digits = (size_t)(q - g);
		if (digits == 0 || digits > 8)
			goto invalid;
		group--;
		for (unsigned b = 0; b < 32; b++)
			if (cpuset_isset(s, (unsigned)(group * 32 + b)))
				v |= UINT32_C(1) << b;
		if (digits < 8 && v >> (4 * digits))
			goto invalid;
		pos += (size_t)snprintf(buf + pos, cap - pos, "%s%0*x", g == p ? "" : ",", (int)digits, v);
	}
	*ret = buf;
	return 0;

invalid:
	free(buf);
	return -EINVAL;
}

/* value + "\n" as a file's content; takes value (NULL: -ENOMEM). */
static int line_file(char *value, char **ret, size_t *ret_len)
{
	char *buf = value ? util_sprintf("%s\n", value) : NULL;

	free(value);
	if (!buf)
		return -ENOMEM;
	*ret = buf;
	*ret_len = strlen(buf);
	return 0;
}

/* old is a mask file ("ffff\n"): the new content, as wide. */
static int mask_file_like(const char *old, const struct cpuset *s, char **ret, size_t *ret_len)
{
	char *m;
	int r = mask_like(old, s, &m);

	return r < 0 ? r : line_file(m, ret, ret_len);
}

static int list_file(const struct cpuset *s, char **ret, size_t *ret_len)
{
	char *l;
	int r = cpuset_format_list(s, &l);

	return r < 0 ? r : line_file(l, ret, ret_len);
}

/* The kernel refuses a set with no online CPU (-EINVAL); a tree says the
 * same, as it has no better CPU to pick. */
static int tree_check_online(const struct host *h, const struct cpuset *cpus)
{
	struct cpuset online = CPUSET_INIT;
	char *buf, msg[128];
	bool ok;
	int r;

	r = host_read(h, "sys/devices/system/cpu/online", &buf, NULL);
	if (r < 0)
		return r;
	r = cpuset_parse_list(buf, &online, msg, sizeof(msg));
	free(buf);
	if (r < 0)
		return r;
	ok = cpuset_intersects(cpus, &online);
	cpuset_free(&online);
	return ok ? 0 : -EINVAL;
}

/* ---- sysctl ---- */

/* A file of /proc/sys or /sys as the kernel lets root write it: -EACCES
 * without a write bit (root too is refused), -EINVAL for anything but a
 * file. */
int tree_writable(const struct host *h, const char *path)
{
	struct stat st;
	int r = host_lstat(h, path, &st);

	if (r == 0 && !(st.st_mode & (S_IWUSR | S_IWGRP | S_IWOTH)))
		r = -EACCES;
	if (r == 0 && !S_ISREG(st.st_mode))
		r = -EINVAL;
	return r;
}

int host_tree_write_sysctl(struct host *h, const char *path, const char *value)
{
	struct rewrite rw = {0};
	int r;

	r = tree_writable(h, path);
	if (r == 0)
		r = util_path(rw.path, sizeof(rw.path), "%s", path);
	if (r == 0 && !(rw.new = util_sprintf("%s\n", value)))
		r = -ENOMEM;
	if (r == 0) {
		rw.new_len = strlen(rw.new);
		r = rewrite_read(h, &rw);
	}
	if (r == 0)
		r = tree_put_all(h, &rw, 1);
	rewrites_done(&rw, 1);
	return r;
}

/* ---- sysfs ---- */

/* old lists choices with the one in force in brackets: the same list with
 * the brackets on value; -EINVAL when value is not one of them. Without
 * brackets in old, value + "\n". */
static int choices_file(const char *old, const char *value, char **ret, size_t *ret_len)
{
	size_t n = strlen(value);
	struct sbuf b = {0};

	if (!strchr(old, '['))
		return line_file(strdup(value), ret, ret_len);
	if (!action_sysfs_offers(old, value))
		return -EINVAL;
	for (const char *p = old; *p;) {
		size_t k;
		bool on;

		while (*p == ' ' || *p == '[' || *p == ']' || *p == '\n')
			p++;
		k = strcspn(p, " []\n");
		if (!k)
			break;
		on = k == n && strncmp(p, value, n) == 0;
		if (b.len)
			sbuf_addc(&b, ' ');
		if (on)
			sbuf_addc(&b, '[');
		sbuf_add(&b, p, k);
		if (on)
			sbuf_addc(&b, ']');
		p += k;
	}
	return line_file(sbuf_take(&b), ret, ret_len);
}

/* The file path names is in the tree's sys/, whatever symlinks lead to
 * it (bus/workqueue/devices/writeback does; a hostile tree's may lead
 * into its etc/): the kernel's sysfs links stay in /sys. */
static bool tree_in_sys(const struct host *h, const char *path)
{
	char link[64], real[PATH_MAX], root[PATH_MAX];
	int fd = host_openat(h, path, O_PATH | O_NOFOLLOW, 0);
	ssize_t n;
	size_t rl;

	if (fd < 0)
		return true; /* the write reports the error */
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, real, sizeof(real) - 1);
	close(fd);
	if (n < 0 || !realpath(h->root_path, root))
		return false;
	real[n] = '\0';
	rl = strlen(root);
	return strncmp(real, root, rl) == 0 && strncmp(real + rl, "/sys/", 5) == 0;
}

int host_tree_write_sysfs(struct host *h, const char *path, const char *value)
{
	struct rewrite rw = {0};
	int r;

	if (!tree_in_sys(h, path))
		return -EXDEV;
	r = tree_writable(h, path);
	if (r == 0)
		r = util_path(rw.path, sizeof(rw.path), "%s", path);
	if (r == 0)
		r = rewrite_read(h, &rw);
	if (r == 0)
		r = choices_file(rw.old, value, &rw.new, &rw.new_len);
	if (r == 0)
		r = tree_put_all(h, &rw, 1);
	rewrites_done(&rw, 1);
	return r;
}

/* ---- IRQ affinity and cpumask knobs ---- */

int host_tree_write_irq_affinity(struct host *h, unsigned irq, const struct cpuset *cpus)
{
	struct rewrite rw[2] = {0};
	size_t n = 0;
	int r;

	r = util_path(rw[0].path, sizeof(rw[0].path), "proc/irq/%u/smp_affinity_list", irq);
	if (r == 0)
		r = rewrite_read(h, &rw[0]);
	if (r == 0)
		r = tree_check_online(h, cpus);
	if (r == 0)
		r = list_file(cpus, &rw[0].new, &rw[0].new_len);
	if (r < 0)
		goto out;
	n = 1;
	/* smp_affinity shows the same set as a mask, when the tree has it. */
	r = util_path(rw[1].path, sizeof(rw[1].path), "proc/irq/%u/smp_affinity", irq);
	if (r == 0)
		r = rewrite_read(h, &rw[1]);
	if (r == 0) {
		n = 2;
		r = mask_file_like(rw[1].old, cpus, &rw[1].new, &rw[1].new_len);
	} else if (r == -ENOENT) {
		r = 0;
	}
	if (r == 0)
		r = tree_put_all(h, rw, n);
out:
	rewrites_done(rw, 2);
	return r;
}

int host_tree_write_cpumask(struct host *h, const char *path, const struct cpuset *cpus)
{
	struct rewrite rw = {0};
	int r;

	memcpy(rw.path, path, strlen(path) + 1);
	r = rewrite_read(h, &rw);
	if (r == 0)
		r = tree_check_online(h, cpus);
	if (r == 0)
		r = mask_file_like(rw.old, cpus, &rw.new, &rw.new_len);
	if (r == 0)
		r = tree_put_all(h, &rw, 1);
	rewrites_done(&rw, 1);
	return r;
}

/* ---- Threads ---- */

static int tree_thread_dir(const struct host *h, pid_t tgid, pid_t tid)
{
	char path[PATH_MAX];
	int r;

	int fd;

	r = util_path(path, sizeof(path), "proc/%d/task/%d", (int)tgid, (int)tid);
	if (r < 0)
		return r;
	fd = host_openat(h, path, O_PATH | O_DIRECTORY, 0);
	if (fd < 0)
		return fd == -ENOENT || fd == -ENOTDIR ? -ESRCH : fd;
	close(fd);
	return 0;
}

/* The thread's NAME files to rewrite: proc/TGID/task/TID/NAME, and
 * proc/TID/NAME for a thread group leader when the tree has it. Their old
 * contents are read; returns how many, or -errno. */
static int thread_files(const struct host *h, pid_t tgid, pid_t tid, const char *name, struct rewrite rw[2])
{
	int r;

	r = util_path(rw[0].path, sizeof(rw[0].path), "proc/%d/task/%d/%s", (int)tgid, (int)tid, name);
	if (r == 0)
		r = rewrite_read(h, &rw[0]);
	if (r < 0)
		return r;
	if (tid != tgid)
		return 1;
	r = util_path(rw[1].path, sizeof(rw[1].path), "proc/%d/%s", (int)tid, name);
	if (r == 0)
		r = rewrite_read(h, &rw[1]);
	if (r == -ENOENT)
		return 1;
	return r < 0 ? r : 2;
}

/* status with its Cpus_allowed (mask, width kept) and Cpus_allowed_list
 * lines showing s; every other byte as it was. */
static int status_with_cpus(const char *buf, size_t len, const struct cpuset *s, char **ret, size_t *ret_len)
{
	struct span sp[2];
	char *with[2] = {NULL, NULL}, *out = NULL;
	size_t n = 0;
	bool have_list = false;
	int r = 0;

	for (size_t at = 0; at < len && r == 0;) {
		const char *line = buf + at, *nl = memchr(line, '\n', len - at);
		size_t llen = nl ? (size_t)(nl - line) : len - at, key = 0, v;
		bool list = false;

		if (llen > 13 && memcmp(line, "Cpus_allowed:", 13) == 0) {
			key = 13;
		} else if (llen > 18 && memcmp(line, "Cpus_allowed_list:", 18) == 0) {
			key = 18;
			list = true;
		}
		if (key && n < 2) {
			for (v = key; v < llen && (line[v] == ' ' || line[v] == '\t'); v++)
				;
			if (list) {
				have_list = true;
				r = cpuset_format_list(s, &with[n]);
			} else {
				char *old = strndup(line + v, llen - v);
				r = old ? mask_like(old, s, &with[n]) : -ENOMEM;
				free(old);
			}
			sp[n].start = at + v;
			sp[n].end = at + llen;
			sp[n].with = with[n];
			n++;
		}
		at += llen + 1;
	}
	if (r == 0 && !have_list)
		r = -EINVAL;
	if (r == 0) {
		out = splice_spans(buf, len, sp, n, ret_len);
		r = out ? 0 : -ENOMEM;
	}
	free(with[0]);
	free(with[1]);
	if (r == 0)
		*ret = out;
	return r;
}

/* Byte spans of stat fields 3..41 (after the comm, which may hold spaces
 * and parentheses: it ends at the last ')'). */
static int stat_spans(const char *buf, size_t len, size_t start[42], size_t end[42])
{
	const char *close = NULL;
	size_t p;

	for (const char *q = buf; q < buf + len; q++)
		if (*q == ')')
			close = q;
	if (!close)
		return -EINVAL;
	p = (size_t)(close - buf) + 1;
	for (unsigned f = 3; f <= 41; f++) {
		while (p < len && buf[p] == ' ')
			p++;
		start[f] = p;
		while (p < len && !isspace((unsigned char)buf[p]))
			p++;
		end[f] = p;
		if (start[f] == end[f])
			return -EINVAL;
	}
	return 0;
}

/* stat with priority (18), rt_priority (40) and policy (41) as the kernel
 * shows them after sched_setscheduler(policy, prio); nice (19) stays. */
static int stat_with_sched(const char *buf, size_t len, int policy, int prio, char **ret, size_t *ret_len)
{
	size_t start[42], end[42];
	char nice_s[32], f18[16], f40[16], f41[16], *out;
	long nice;
	int r;

	r = stat_spans(buf, len, start, end);
	if (r < 0)
		return r;
	if (end[19] - start[19] >= sizeof(nice_s))
		return -EINVAL;
	memcpy(nice_s, buf + start[19], end[19] - start[19]);
	nice_s[end[19] - start[19]] = '\0';
	if (util_parse_long(nice_s, -20, 19, &nice) < 0)
		return -EINVAL;
	snprintf(f18, sizeof(f18), "%d", policy == SCHED_FIFO || policy == SCHED_RR ? -1 - prio : 20 + (int)nice);
	snprintf(f40, sizeof(f40), "%d", prio);
	snprintf(f41, sizeof(f41), "%d", policy);
	const struct span sp[] = {{start[18], end[18], f18}, {start[40], end[40], f40}, {start[41], end[41], f41}};
	out = splice_spans(buf, len, sp, ARRAY_SIZE(sp), ret_len);
	if (!out)
		return -ENOMEM;
	*ret = out;
	return 0;
}

static int check_sched(int policy, int prio)
{
	switch (policy) {
	case SCHED_FIFO:
	case SCHED_RR:
		return prio >= 1 && prio <= 99 ? 0 : -EINVAL;
	case SCHED_OTHER:
	case SCHED_BATCH:
	case SCHED_IDLE:
		return prio == 0 ? 0 : -EINVAL;
	default:
		return -EINVAL;
	}
}

int host_tree_set_thread_affinity(struct host *h, pid_t tgid, pid_t tid, const struct cpuset *cpus)
{
	struct rewrite rw[2] = {0}, st = {0};
	struct proc_stat ps;
	int n = 0, r;

	r = tree_thread_dir(h, tgid, tid);
	if (r == 0)
		r = util_path(st.path, sizeof(st.path), "proc/%d/task/%d/stat", (int)tgid, (int)tid);
	if (r == 0)
		r = rewrite_read(h, &st);
	if (r == 0)
		r = procfmt_parse_stat(st.old, st.old_len, &ps);
	/* Per-CPU kernel threads and workqueue workers: the kernel says EINVAL. */
	if (r == 0 && (ps.flags & HOST_PF_NO_SETAFFINITY))
		r = -EINVAL;
	if (r == 0)
		r = tree_check_online(h, cpus);
	if (r == 0)
		r = n = thread_files(h, tgid, tid, "status", rw);
	for (int i = 0; r >= 0 && i < n; i++)
		r = status_with_cpus(rw[i].old, rw[i].old_len, cpus, &rw[i].new, &rw[i].new_len);
	if (r >= 0)
		r = tree_put_all(h, rw, (size_t)n);
	rewrites_done(rw, 2);
	rewrites_done(&st, 1);
	return r < 0 ? r : 0;
}

int host_tree_set_thread_sched(struct host *h, pid_t tgid, pid_t tid, int policy, int prio)
{
	struct rewrite rw[2] = {0};
	int n = 0, r;

	r = check_sched(policy, prio);
	if (r == 0)
		r = tree_thread_dir(h, tgid, tid);
	if (r == 0)
		r = n = thread_files(h, tgid, tid, "stat", rw);
	for (int i = 0; r >= 0 && i < n; i++)
		r = stat_with_sched(rw[i].old, rw[i].old_len, policy, prio, &rw[i].new, &rw[i].new_len);
	if (r >= 0)
		r = tree_put_all(h, rw, (size_t)n);
	rewrites_done(rw, 2);
	return r < 0 ? r : 0;
}
