/* The write side of the host seam: sysctls, IRQ affinity, cpumask knobs and
 * thread affinity/scheduling, as real writes and system calls on the running
 * kernel or as rewrites of a tree's files in the kernel's formats; faults
 * injected into trees; and the single reads that verify a write. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host-internal.h"
#include "isolated/host.h"
#include "isolated/procfmt.h"
#include "isolated/util.h"

struct host_fault {
	char *target; /* "irq/151", "tid/2205/sched", "kernel.numa_balancing", ... */
	int err;      /* positive errno */
};

/* ---- Faults ---- */

static const struct {
	const char *name;
	int err;
} errno_names[] = {
    {"EPERM", EPERM},	{"ENOENT", ENOENT},   {"ESRCH", ESRCH},		  {"EINTR", EINTR},
    {"EIO", EIO},	{"ENXIO", ENXIO},     {"E2BIG", E2BIG},		  {"EAGAIN", EAGAIN},
    {"ENOMEM", ENOMEM}, {"EACCES", EACCES},   {"EFAULT", EFAULT},	  {"EBUSY", EBUSY},
    {"EEXIST", EEXIST}, {"ENODEV", ENODEV},   {"ENOTDIR", ENOTDIR},	  {"EINVAL", EINVAL},
    {"ENOSPC", ENOSPC}, {"EROFS", EROFS},     {"ERANGE", ERANGE},	  {"EDEADLK", EDEADLK},
    {"ENOSYS", ENOSYS}, {"ENOTSUP", ENOTSUP}, {"EOPNOTSUPP", EOPNOTSUPP}, {"ETIMEDOUT", ETIMEDOUT},
};

/* "EIO" or "5" -> 5. */
static int parse_errno(const char *s, int *ret)
{
	long v;

	for (size_t i = 0; i < ARRAY_SIZE(errno_names); i++)
		if (strcmp(s, errno_names[i].name) == 0) {
			*ret = errno_names[i].err;
			return 0;
		}
	if (!util_all_digits(s) || util_parse_long(s, 1, 4095, &v) < 0)
		return -EINVAL;
	*ret = (int)v;
	return 0;
}

static bool valid_target(const char *t)
{
	char path[PATH_MAX], num[16];
	long v;

	if (strncmp(t, "irq/", 4) == 0)
		return util_all_digits(t + 4) && util_parse_long(t + 4, 0, UINT_MAX, &v) == 0;
	if (strncmp(t, "tid/", 4) == 0) {
		const char *slash = strchr(t + 4, '/');
		size_t n = slash ? (size_t)(slash - (t + 4)) : strlen(t + 4);
		if (n >= sizeof(num))
			return false;
		memcpy(num, t + 4, n);
		num[n] = '\0';
		if (!util_all_digits(num) || util_parse_long(num, 1, INT32_MAX, &v) < 0)
			return false;
		return !slash || strcmp(slash, "/affinity") == 0 || strcmp(slash, "/sched") == 0;
	}
	if (strncmp(t, "cpumask/", 8) == 0)
		return strcmp(t + 8, "irq_default") == 0 || strcmp(t + 8, "workqueue") == 0;
	return host_sysctl_path(t, path, sizeof(path)) == 0;
}

static void faults_free(struct host_fault *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].target);
	free(v);
}

void host_faults_free(struct host *h)
{
	faults_free(h->faults, h->n_faults);
	h->faults = NULL;
	h->n_faults = 0;
}

int host_set_faults(struct host *h, const char *spec)
{
	static const char seps[] = " \t\n,";
	struct host_fault *v = NULL;
	size_t n = 0;
	int r;

	for (const char *p = spec ? spec : ""; *p;) {
		struct host_fault *nv;
		char *tok, *eq;
		size_t len;
		int err;

		p += strspn(p, seps);
		if (!*p)
			break;
		len = strcspn(p, seps);
		tok = strndup(p, len);
		if (!tok) {
			r = -ENOMEM;
			goto fail;
		}
		p += len;
		eq = strchr(tok, '=');
		if (eq)
			*eq = '\0';
		if (!eq || !valid_target(tok) || parse_errno(eq + 1, &err) < 0) {
			free(tok);
			r = -EINVAL;
			goto fail;
		}
		nv = realloc(v, (n + 1) * sizeof(*v));
		if (!nv) {
			free(tok);
			r = -ENOMEM;
			goto fail;
		}
		v = nv;
		v[n].target = tok; /* the errno after the NUL is dead weight */
		v[n++].err = err;
	}
	host_faults_free(h);
	h->faults = v;
	h->n_faults = n;
	return 0;

fail:
	faults_free(v, n);
	return r;
}

/* The injected errno (negative) for a write to target, 0 if none. The last
 * entry for a target wins. Only trees honour faults. */
static int fault(const struct host *h, const char *target)
{
	if (!h->is_tree)
		return 0;
	for (size_t i = h->n_faults; i-- > 0;)
		if (strcmp(h->faults[i].target, target) == 0)
			return -h->faults[i].err;
	return 0;
}

static int thread_fault(const struct host *h, pid_t tid, const char *what)
{
	char t[64];
	int r;

	snprintf(t, sizeof(t), "tid/%d/%s", (int)tid, what);
	r = fault(h, t);
	if (r < 0)
		return r;
	snprintf(t, sizeof(t), "tid/%d", (int)tid);
	return fault(h, t);
}

/* ---- Writing files ---- */

/* The kernel takes a /proc or /sys value in one write(); a short one means
 * it did not take all of it. */
static int kernel_write(const struct host *h, const char *path, const char *value)
{
	size_t len = strlen(value);
	ssize_t n;
	int fd, r;

	fd = openat(h->root_fd, path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	do
		n = write(fd, value, len);
	while (n < 0 && errno == EINTR);
	r = n < 0 ? -errno : (size_t)n != len ? -EIO : 0;
	if (close(fd) < 0 && r == 0 && errno != EINTR)
		r = -errno;
	return r;
}

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

/* One file of a tree write: its old content, kept to undo, and the new. */
struct rewrite {
	char path[PATH_MAX];
	char *old, *new;
	size_t old_len, new_len;
};

static void rewrites_done(struct rewrite *rw, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(rw[i].old);
		free(rw[i].new);
	}
}

/* All files or none: the contents are built before the first write, and a
 * failed write puts back what the earlier ones (and itself) replaced. */
static int tree_put_all(const struct host *h, struct rewrite *rw, size_t n)
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
static int rewrite_read(const struct host *h, struct rewrite *rw)
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

int host_write_sysctl(struct host *h, const char *name, const char *value)
{
	char path[PATH_MAX], *buf;
	struct stat st;
	struct rewrite rw = {0};
	int r;

	r = host_sysctl_path(name, path, sizeof(path));
	if (r < 0)
		return r;
	/* One value, one line: a newline inside would be a second write. */
	if (strchr(value, '\n'))
		return -EINVAL;
	buf = util_sprintf("%s\n", value);
	if (!buf)
		return -ENOMEM;
	if (!h->is_tree) {
		r = kernel_write(h, path, buf);
		free(buf);
		return r;
	}

	r = fault(h, name);
	if (r == 0)
		r = host_lstat(h, path, &st);
	/* /proc/sys refuses root too when the sysctl has no write bit. */
	if (r == 0 && !(st.st_mode & (S_IWUSR | S_IWGRP | S_IWOTH)))
		r = -EACCES;
	if (r == 0 && !S_ISREG(st.st_mode))
		r = -EINVAL;
	if (r == 0) {
		memcpy(rw.path, path, sizeof(path));
		rw.new = buf;
		rw.new_len = strlen(buf);
		buf = NULL;
		r = rewrite_read(h, &rw);
	}
	if (r == 0)
		r = tree_put_all(h, &rw, 1);
	free(buf);
	rewrites_done(&rw, 1);
	return r;
}

/* ---- IRQ affinity and cpumask knobs ---- */

int host_write_irq_affinity(struct host *h, unsigned irq, const struct cpuset *cpus)
{
	struct rewrite rw[2] = {0};
	size_t n = 0;
	char t[32];
	int r;

	if (!h->is_tree) {
		char path[PATH_MAX], *l, *buf;
		r = util_path(path, sizeof(path), "proc/irq/%u/smp_affinity_list", irq);
		if (r < 0)
			return r;
		r = cpuset_format_list(cpus, &l);
		if (r < 0)
			return r;
		buf = util_sprintf("%s\n", l);
		free(l);
		if (!buf)
			return -ENOMEM;
		r = kernel_write(h, path, buf);
		free(buf);
		return r;
	}

	snprintf(t, sizeof(t), "irq/%u", irq);
	r = fault(h, t);
	if (r < 0)
		return r;
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

static const char *cpumask_path(enum host_cpumask which)
{
	switch (which) {
	case HOST_CPUMASK_IRQ_DEFAULT:
		return "proc/irq/default_smp_affinity";
	case HOST_CPUMASK_WORKQUEUE:
		return "sys/devices/virtual/workqueue/cpumask";
	}
	return NULL;
}

int host_write_cpumask(struct host *h, enum host_cpumask which, const struct cpuset *cpus)
{
	const char *path = cpumask_path(which);
	struct rewrite rw = {0};
	int r;

	if (!path)
		return -EINVAL;
	if (!h->is_tree) {
		char *m, *buf;
		/* The kernel takes a mask of any width. */
		r = cpuset_format_mask(cpus, 0, &m);
		if (r < 0)
			return r;
		buf = util_sprintf("%s\n", m);
		free(m);
		if (!buf)
			return -ENOMEM;
		r = kernel_write(h, path, buf);
		free(buf);
		return r;
	}

	r = fault(h, which == HOST_CPUMASK_IRQ_DEFAULT ? "cpumask/irq_default" : "cpumask/workqueue");
	if (r < 0)
		return r;
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

static int kernel_thread_affinity(pid_t tid, const struct cpuset *cpus)
{
	int last = cpuset_last(cpus);
	size_t ncpus = last < 0 ? 1 : (size_t)last + 1, size = CPU_ALLOC_SIZE(ncpus);
	cpu_set_t *set = CPU_ALLOC(ncpus);
	int r = 0;

	if (!set)
		return -ENOMEM;
	CPU_ZERO_S(size, set);
	for (int c = cpuset_next(cpus, -1); c >= 0; c = cpuset_next(cpus, c))
		CPU_SET_S((size_t)c, size, set);
	if (sched_setaffinity(tid, size, set) < 0)
		r = -errno;
	CPU_FREE(set);
	return r;
}

int host_set_thread_affinity(struct host *h, pid_t tgid, pid_t tid, const struct cpuset *cpus)
{
	struct rewrite rw[2] = {0}, st = {0};
	struct proc_stat ps;
	int n = 0, r;

	/* tid 0 would be the caller itself. */
	if (tid <= 0 || tgid <= 0)
		return -EINVAL;
	if (!h->is_tree)
		return kernel_thread_affinity(tid, cpus);

	r = thread_fault(h, tid, "affinity");
	if (r == 0)
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

int host_set_thread_sched(struct host *h, pid_t tgid, pid_t tid, int policy, int prio)
{
	struct rewrite rw[2] = {0};
	int n = 0, r;

	if (tid <= 0 || tgid <= 0)
		return -EINVAL;
	if (!h->is_tree) {
		struct sched_param sp = {.sched_priority = prio};
		return sched_setscheduler(tid, policy, &sp) < 0 ? -errno : 0;
	}

	r = thread_fault(h, tid, "sched");
	if (r == 0)
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

/* ---- Single reads ---- */

static int read_list(const struct host *h, const char *path, struct cpuset *ret)
{
	char *buf, msg[128];
	int r;

	r = host_read(h, path, &buf, NULL);
	if (r < 0)
		return r;
	r = cpuset_parse_list(buf, ret, msg, sizeof(msg));
	free(buf);
	return r;
}

int host_read_irq_affinity(const struct host *h, unsigned irq, struct cpuset *ret_affinity,
			   struct cpuset *ret_effective, bool *ret_has_effective)
{
	struct cpuset aff = CPUSET_INIT, eff = CPUSET_INIT;
	char path[PATH_MAX];
	bool has_eff = false;
	int r;

	r = util_path(path, sizeof(path), "proc/irq/%u/smp_affinity_list", irq);
	if (r == 0)
		r = read_list(h, path, &aff);
	if (r < 0)
		return r;
	if (ret_effective || ret_has_effective) {
		r = util_path(path, sizeof(path), "proc/irq/%u/effective_affinity_list", irq);
		if (r == 0)
			r = read_list(h, path, &eff);
		if (r == 0)
			has_eff = true;
		else if (r == -ENOENT)
			r = 0;
		if (r < 0) {
			cpuset_free(&aff);
			return r;
		}
	}
	cpuset_free(ret_affinity);
	*ret_affinity = aff;
	if (ret_effective) {
		cpuset_free(ret_effective);
		*ret_effective = eff;
	} else {
		cpuset_free(&eff);
	}
	if (ret_has_effective)
		*ret_has_effective = has_eff;
	return 0;
}

int host_read_cpumask(const struct host *h, enum host_cpumask which, struct cpuset *ret)
{
	const char *path = cpumask_path(which);
	char *buf, msg[128];
	int r;

	if (!path)
		return -EINVAL;
	r = host_read(h, path, &buf, NULL);
	if (r < 0)
		return r;
	r = cpuset_parse_mask(buf, ret, msg, sizeof(msg));
	free(buf);
	return r;
}

/* A file of proc/TGID/task/TID/; -ESRCH when it is gone (or empty, as the
 * kernel's are once the thread has been reaped). */
static int read_thread_file(const struct host *h, pid_t tgid, pid_t tid, const char *name, char **ret, size_t *ret_len)
{
	char path[PATH_MAX];
	int r;

	r = util_path(path, sizeof(path), "proc/%d/task/%d/%s", (int)tgid, (int)tid, name);
	if (r == 0)
		r = host_read(h, path, ret, ret_len);
	if (r == -ENOENT || r == -ENOTDIR)
		return -ESRCH;
	if (r == 0 && *ret_len == 0) {
		free(*ret);
		return -ESRCH;
	}
	return r;
}

int host_read_thread(const struct host *h, pid_t tgid, pid_t tid, struct thread_now *ret)
{
	return host_read_thread_ex(h, tgid, tid, HOST_TASK_CPUS, ret);
}

int host_read_thread_ex(const struct host *h, pid_t tgid, pid_t tid, unsigned fields, struct thread_now *ret)
{
	struct thread_now t = {.cpus = CPUSET_INIT};
	struct proc_status ss = {0};
	struct proc_stat st;
	char *buf, msg[128];
	size_t len;
	int r;

	if (tid <= 0 || tgid <= 0)
		return -EINVAL;
	r = read_thread_file(h, tgid, tid, "stat", &buf, &len);
	if (r < 0)
		return r;
	r = procfmt_parse_stat(buf, len, &st);
	free(buf);
	if (r < 0)
		return r;
	if (!(fields & HOST_TASK_CPUS))
		goto done;
	r = read_thread_file(h, tgid, tid, "status", &buf, &len);
	if (r < 0)
		return r;
	r = procfmt_parse_status(buf, len, &ss);
	free(buf);
	if (r < 0)
		return r;
	r = ss.cpus_allowed_list ? cpuset_parse_list(ss.cpus_allowed_list, &t.cpus, msg, sizeof(msg)) : -EINVAL;
	procfmt_status_done(&ss);
	if (r < 0)
		return r;
done:
	t.policy = (int)st.policy;
	t.rt_priority = (int)st.rt_priority;
	t.starttime = st.starttime;
	t.flags = st.flags;
	snprintf(t.comm, sizeof(t.comm), "%s", st.comm);
	*ret = t;
	return 0;
}

int host_read_boot_id(const struct host *h, char **ret)
{
	char *buf;
	int r;

	r = host_read(h, "proc/sys/kernel/random/boot_id", &buf, NULL);
	if (r < 0)
		return r;
	*ret = util_strip(buf);
	return 0;
}
