/* The seam to the kernel: reads of /proc, /sys and /etc relative to a root
 * directory fd (the running kernel or a tree), snapshots and tree dumps. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host-internal.h"
#include "isolated/host.h"
#include "isolated/procfmt.h"
#include "isolated/util.h"

/* The most a file of a host can hold, by what the file is: a file larger is
 * -EFBIG, because no kernel writes one (in a tree it is hostile). First
 * match wins; fnmatch(3) without FNM_PATHNAME, so '*' spans '/'.
 * /proc/interrupts is not among them: it is streamed (walk_interrupts). */
#define KIB(n) ((size_t)(n) << 10)
#define MIB(n) ((size_t)(n) << 20)
/* A list of CPUSET_MAX_CPUS CPUs at its longest, every other one
 * ("0,2,4,...,65534": 32 768 numbers and commas, 190 KiB); a mask of them
 * is 18 KiB. */
#define HOST_CPUSET_MAX KIB(256)
static const struct read_limit {
	const char *glob;
	size_t max;
} read_limits[] = {
    /* COMMAND_LINE_SIZE: 2 KiB on x86, 4 KiB elsewhere, configurable up
     * to 1 MiB on s390; bootconfig appends at most 32 KiB. */
    {"proc/cmdline", MIB(2)},
    /* A sysctl: numbers, or a string as long as its table allows; the
     * longest are bitmaps printed as lists (net.ipv4.ip_local_reserved_ports,
     * 65 536 ports: 380 KiB at worst). */
    {"proc/sys/*", MIB(1)},
    /* smp_affinity(_list), effective_affinity(_list), default_smp_affinity. */
    {"proc/irq/*", HOST_CPUSET_MAX},
    /* argv and the environment of execve() take at most 6 MiB (3/4 of
     * _STK_LIM, fs/exec.c), which is what cmdline shows at its longest (a
     * process that rewrote its argv over its environment). */
    {"proc/*/cmdline", MIB(8)},
    /* Groups: lists up to NGROUPS_MAX (65 536) ids of 10 digits (720 KiB);
     * Cpus_allowed_list and Mems_allowed_list, HOST_CPUSET_MAX at most. */
    {"proc/*/status", MIB(1) + HOST_CPUSET_MAX},
    /* 52 numbers of at most 20 digits and a comm of at most 64 bytes. */
    {"proc/*/stat", KIB(4)},
    /* 64 bytes at most (TASK_COMM_LEN, or a kernel thread's full name),
     * each escaped at worst to 4. */
    {"proc/*/comm", KIB(4)},
    /* A line per hierarchy, each a path of at most PATH_MAX: 64 of them. */
    {"proc/*/cgroup", KIB(256)},
    /* sysfs and cgroupfs attributes are a page at most (64 KiB with the
     * largest pages); CPU lists and masks, HOST_CPUSET_MAX at most. */
    {"sys/*", HOST_CPUSET_MAX},
    /* Configuration an administrator writes (etc/default/grub, host.conf,
     * etc/default/irqbalance): a few KiB. */
    {"etc/*", MIB(1)},
};
/* Anything else: nothing reads more. */
#define HOST_READ_MAX MIB(1)

static size_t read_limit(const char *path)
{
	for (size_t i = 0; i < ARRAY_SIZE(read_limits); i++)
		if (fnmatch(read_limits[i].glob, path, 0) == 0)
			return read_limits[i].max;
	return HOST_READ_MAX;
}

const char *const host_known_sysctls[] = {
    "kernel.timer_migration", "kernel.sched_rt_runtime_us", "kernel.sched_rt_period_us",
    "kernel.numa_balancing",  "net.core.rtnet_prio",	    NULL,
};

int host_open(const char *root, struct host **ret)
{
	struct host *h;

	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->root_path = strdup(root ? root : "/");
	if (!h->root_path) {
		free(h);
		return -ENOMEM;
	}
	h->root_fd = open(h->root_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (h->root_fd < 0) {
		int r = -errno;
		free(h->root_path);
		free(h);
		return r;
	}
	h->is_tree = root != NULL;
	/* Tests (and users rehearsing failures) make a tree's writes fail. */
	if (h->is_tree) {
		int r = host_set_faults(h, getenv("ISOLATED_TREE_FAULTS"));
		if (r < 0) {
			host_free(h);
			return r;
		}
	}
	*ret = h;
	return 0;
}

void host_free(struct host *h)
{
	if (!h)
		return;
	if (h->root_fd >= 0)
		close(h->root_fd);
	host_faults_free(h);
	free(h->root_path);
	free(h);
}

unsigned host_resolve(const struct host *h)
{
	return h->is_tree ? PATH_BENEATH : 0;
}

int host_openat(const struct host *h, const char *path, int flags, mode_t mode)
{
	return path_open(h->root_fd, path, flags, mode, host_resolve(h));
}

int host_open_parent(const struct host *h, const char *path, char name[NAME_MAX + 1])
{
	return path_open_parent(h->root_fd, path, host_resolve(h), name);
}

int host_lstat(const struct host *h, const char *path, struct stat *ret)
{
	char name[NAME_MAX + 1];
	int dfd, r = 0;

	dfd = host_open_parent(h, path, name);
	if (dfd < 0)
		return dfd;
	if (fstatat(dfd, name, ret, AT_SYMLINK_NOFOLLOW) < 0)
		r = -errno;
	close(dfd);
	return r;
}

int host_open_read(const struct host *h, const char *path)
{
	return path_open_read(h->root_fd, path, host_resolve(h));
}

int host_read(const struct host *h, const char *path, char **ret, size_t *ret_len)
{
	return path_read(h->root_fd, path, host_resolve(h), read_limit(path), ret, ret_len);
}

int host_sysctl_path(const char *name, char *buf, size_t len)
{
	static const char prefix[] = "proc/sys/";
	size_t n = strlen(name);

	if (n == 0 || name[0] == '.' || name[n - 1] == '.' || strstr(name, ".."))
		return -EINVAL;
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' || *p == '.' || *p == '-'))
			return -EINVAL;
	if (sizeof(prefix) + n > len)
		return -ENAMETOOLONG;
	memcpy(buf, prefix, sizeof(prefix) - 1);
	for (size_t i = 0; i <= n; i++)
		buf[sizeof(prefix) - 1 + i] = name[i] == '.' ? '/' : name[i];
	return 0;
}

int host_read_sysctl(const struct host *h, const char *name, char **ret)
{
	char path[PATH_MAX], *buf;
	size_t len;
	int r;

	r = host_sysctl_path(name, path, sizeof(path));
	if (r < 0)
		return r;
	r = host_read(h, path, &buf, &len);
	if (r < 0)
		return r;
	if (len > 0 && buf[len - 1] == '\n')
		buf[len - 1] = '\0';
	*ret = buf;
	return 0;
}

/* path exists in the host (resolved as every path of it is). */
static bool host_exists(const struct host *h, const char *path)
{
	int fd = host_openat(h, path, O_PATH, 0);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

/* A snapshot walks the host through these helpers. When dst_fd >= 0 (a dump)
 * every file read is also copied to the same relative path under dst_fd, so a
 * snapshot of the dump reads exactly what the original snapshot read. */
struct walk {
	const struct host *h;
	int dst_fd;
	char *err;
	size_t errlen;
	pid_t self; /* left out of readings of the running kernel; 0 for a tree */
	/* Tasks' CPUs by sched_getaffinity() (walk_cpus_syscall), in a mask
	 * of ncpus CPUs. */
	bool cpus_syscall;
	unsigned ncpus;
};

static int walk_fail(struct walk *w, int r, const char *fmt, ...) ISO_PRINTF(3, 4);
static int walk_fail(struct walk *w, int r, const char *fmt, ...)
{
	va_list ap;

	if (w->err && w->errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(w->err, w->errlen, fmt, ap);
		va_end(ap);
	}
	return r;
}

static bool vanished(int r)
{
	return r == -ENOENT || r == -ESRCH;
}

/* How the dump resolves its own paths: inside the directory it writes, no
 * symbolic link followed (it makes none; nobody else may write there). */
#define DUMP_HOW (PATH_BENEATH | PATH_NO_SYMLINKS)

/* A directory of the dump, with its parents. */
static int dump_mkdirs(int dfd, const char *path)
{
	int fd = path_mkdirs(dfd, path, 0755, DUMP_HOW, false);

	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

/* A new file of the dump, opened to write: never one that is there
 * already (O_EXCL), so nothing is truncated or written through. */
static int dump_create(int dfd, const char *path)
{
	int fd, r;

	fd = path_open(dfd, path, O_WRONLY | O_CREAT | O_EXCL, 0644, DUMP_HOW);
	if (fd == -ENOENT) {
		const char *slash = strrchr(path, '/');
		char dir[PATH_MAX];

		if (!slash || (size_t)(slash - path) >= sizeof(dir))
			return -ENOENT;
		memcpy(dir, path, (size_t)(slash - path));
		dir[slash - path] = '\0';
		r = dump_mkdirs(dfd, dir);
		if (r < 0)
			return r;
		fd = path_open(dfd, path, O_WRONLY | O_CREAT | O_EXCL, 0644, DUMP_HOW);
	}
	return fd;
}

static int write_at(int dfd, const char *path, const char *buf, size_t len)
{
	int fd, r;

	fd = dump_create(dfd, path);
	if (fd < 0)
		return fd;
	r = util_write_all(fd, buf, len);
	if (close(fd) < 0 && r == 0)
		r = -errno;
	return r;
}

/* Read a file of the host (copying it when dumping). Returns the read's
 * error without a message: the caller decides whether it is fatal. */
static int walk_read(struct walk *w, const char *path, char **ret, size_t *ret_len)
{
	char *buf;
	size_t len;
	int r;

	r = host_read(w->h, path, &buf, &len);
	if (r < 0)
		return r;
	if (w->dst_fd >= 0) {
		r = write_at(w->dst_fd, path, buf, len);
		if (r < 0) {
			free(buf);
			return walk_fail(w, r, "writing %s: %s", path, path_strerror(-r));
		}
	}
	*ret = buf;
	if (ret_len)
		*ret_len = len;
	return 0;
}

/* Like walk_read, but any error but ENOENT is fatal with a message; *ret is
 * NULL for a missing file. */
static int walk_read_opt(struct walk *w, const char *path, char **ret, size_t *ret_len)
{
	int r = walk_read(w, path, ret, ret_len);

	if (r == -ENOENT || r == -ENOTDIR) {
		*ret = NULL;
		if (ret_len)
			*ret_len = 0;
		return 0;
	}
	if (r < 0 && w->err && w->err[0] == '\0')
		return walk_fail(w, r, "%s: %s", path, path_strerror(-r));
	return r;
}

static int walk_read_req(struct walk *w, const char *path, char **ret, size_t *ret_len)
{
	int r = walk_read(w, path, ret, ret_len);

	if (r < 0 && w->err && w->err[0] == '\0')
		return walk_fail(w, r, "%s: %s", path, path_strerror(-r));
	return r;
}

enum list_kind {
	LIST_ALL,	 /* every entry; the dump creates nothing */
	LIST_DIRS_MKDIR, /* subdirectories only; the dump creates them empty */
	LIST_ALL_TOUCH,	 /* every entry; the dump creates them as empty files */
};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Entry names of a host directory, sorted. dump_path: where the dump
 * mirrors the entries (for LIST_DIRS_MKDIR / LIST_ALL_TOUCH). Errors are
 * returned without a message. */
static int walk_list(struct walk *w, const char *path, enum list_kind kind, const char *dump_path, char ***ret)
{
	char **v = NULL;
	struct dirent *de;
	DIR *d;
	int fd, r = 0;

	fd = host_openat(w->h, path, O_RDONLY | O_DIRECTORY, 0);
	if (fd < 0)
		return fd;
	d = fdopendir(fd);
	if (!d) {
		r = -errno;
		close(fd);
		return r;
	}
	for (;;) {
		errno = 0;
		de = readdir(d);
		if (!de) {
			r = -errno;
			break;
		}
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (kind == LIST_DIRS_MKDIR) {
			bool isdir = de->d_type == DT_DIR;
			struct stat st;
			if (de->d_type == DT_UNKNOWN)
				isdir =
				    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
			if (!isdir)
				continue;
		}
		r = strv_push_dup(&v, de->d_name);
		if (r < 0)
			break;
	}
	closedir(d);
	if (r < 0) {
		strv_free(v);
		return r;
	}
	if (v)
		qsort(v, strv_len(v), sizeof(*v), cmp_str);

	if (w->dst_fd >= 0 && kind != LIST_ALL && v) {
		char p[PATH_MAX];
		r = dump_mkdirs(w->dst_fd, dump_path);
		for (size_t i = 0; r >= 0 && v[i]; i++) {
			r = util_path(p, sizeof(p), "%s/%s", dump_path, v[i]);
			if (r >= 0 && kind == LIST_DIRS_MKDIR)
				r = dump_mkdirs(w->dst_fd, p);
			if (r >= 0 && kind == LIST_ALL_TOUCH)
				r = write_at(w->dst_fd, p, "", 0);
		}
		if (r < 0) {
			strv_free(v);
			return walk_fail(w, r, "writing %s: %s", dump_path, path_strerror(-r));
		}
	}
	*ret = v;
	return 0;
}

static int parse_cpus(struct walk *w, const char *path, const char *text, struct cpuset *ret)
{
	char perr[256] = "";
	int r = cpuset_parse_list(text, ret, perr, sizeof(perr));

	if (r < 0)
		return walk_fail(w, r, "%s: %s", path, perr[0] ? perr : path_strerror(-r));
	return 0;
}

static void chomp(char *s, size_t *len)
{
	if (*len > 0 && s[*len - 1] == '\n')
		s[--*len] = '\0';
}

static void task_info_done(struct task_info *t)
{
	free(t->comm);
	free(t->proc_comm);
	free(t->cmdline);
	free(t->cgroup);
	cpuset_free(&t->cpus);
}

static void irq_info_done(struct irq_info *q)
{
	free(q->chip);
	free(q->hwirq);
	strv_free(q->actions);
	free(q->nic);
	cpuset_free(&q->affinity);
	cpuset_free(&q->effective);
}

void host_state_free(struct host_state *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n_tasks; i++)
		task_info_done(&s->tasks[i]);
	free(s->tasks);
	if (s->borrowed) {
		free(s);
		return;
	}
	cpuset_free(&s->online);
	cpuset_free(&s->possible);
	free(s->cmdline);
	free(s->boot_id);
	cpuset_free(&s->irq_default);
	cpuset_free(&s->wq_cpumask);
	free(s->osrelease);
	free(s->kversion);
	free(s->grub_cmdline_linux);
	free(s->grub_cmdline_linux_default);
	for (size_t i = 0; i < s->n_sysctls; i++)
		free(s->sysctls[i].value);
	free(s->sysctls);
	for (size_t i = 0; i < s->n_irqs; i++)
		irq_info_done(&s->irqs[i]);
	free(s->irqs);
	free(s);
}

const char *host_state_sysctl(const struct host_state *s, const char *name)
{
	for (size_t i = 0; i < s->n_sysctls; i++)
		if (strcmp(s->sysctls[i].name, name) == 0)
			return s->sysctls[i].value;
	return NULL;
}

const struct task_info *host_state_task(const struct host_state *s, pid_t tid)
{
	size_t lo = 0, hi = s->n_tasks;

	/* Tasks are sorted by (tgid, tid): a thread group leader (tid == tgid)
	 * is found by bisection; other threads by a scan. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct task_info *t = &s->tasks[mid];
		if (t->tgid < tid || (t->tgid == tid && t->tid < tid))
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < s->n_tasks && s->tasks[lo].tid == tid)
		return &s->tasks[lo];
	for (size_t i = 0; i < s->n_tasks; i++)
		if (s->tasks[i].tid == tid)
			return &s->tasks[i];
	return NULL;
}

/* An optional hex cpumask file. */
static int read_mask_opt(struct walk *w, const char *path, struct cpuset *ret, bool *ret_has)
{
	char *buf, msg[128];
	int r;

	r = walk_read_opt(w, path, &buf, NULL);
	if (r < 0 || !buf)
		return r;
	r = cpuset_parse_mask(buf, ret, msg, sizeof(msg));
	free(buf);
	if (r < 0)
		return walk_fail(w, r, "%s: %s", path, msg);
	*ret_has = true;
	return 0;
}

/* The top-level files: cpus, command line, kernel version, sysctls, grub. */
static int snap_system(struct walk *w, struct host_state *s)
{
	char *buf;
	size_t len;
	int r;

	r = walk_read_req(w, "sys/devices/system/cpu/online", &buf, NULL);
	if (r < 0)
		return r;
	r = parse_cpus(w, "sys/devices/system/cpu/online", buf, &s->online);
	free(buf);
	if (r < 0)
		return r;
	r = walk_read_opt(w, "sys/devices/system/cpu/possible", &buf, NULL);
	if (r < 0)
		return r;
	if (buf) {
		r = parse_cpus(w, "sys/devices/system/cpu/possible", buf, &s->possible);
		free(buf);
	} else {
		r = cpuset_copy(&s->possible, &s->online);
	}
	if (r < 0)
		return walk_fail(w, r, "sys/devices/system/cpu/possible: %s", path_strerror(-r));

	r = walk_read_req(w, "proc/cmdline", &s->cmdline, NULL);
	if (r < 0)
		return r;
	util_strip(s->cmdline);

	r = read_mask_opt(w, "proc/irq/default_smp_affinity", &s->irq_default, &s->has_irq_default);
	if (r < 0)
		return r;
	r = read_mask_opt(w, "sys/devices/virtual/workqueue/cpumask", &s->wq_cpumask, &s->has_wq_cpumask);
	if (r < 0)
		return r;

	r = walk_read_opt(w, "proc/sys/kernel/osrelease", &s->osrelease, &len);
	if (r < 0)
		return r;
	if (!s->osrelease && !(s->osrelease = strdup("")))
		return walk_fail(w, -ENOMEM, "out of memory");
	chomp(s->osrelease, &len);
	r = walk_read_opt(w, "proc/sys/kernel/version", &s->kversion, &len);
	if (r < 0)
		return r;
	if (!s->kversion && !(s->kversion = strdup("")))
		return walk_fail(w, -ENOMEM, "out of memory");
	chomp(s->kversion, &len);

	r = walk_read_opt(w, "sys/kernel/realtime", &buf, NULL);
	if (r < 0)
		return r;
	s->preempt_rt = (buf && strcmp(util_strip(buf), "1") == 0) || strstr(s->kversion, "PREEMPT_RT");
	free(buf);

	s->sysctls = calloc(ARRAY_SIZE(host_known_sysctls), sizeof(*s->sysctls));
	if (!s->sysctls)
		return walk_fail(w, -ENOMEM, "out of memory");
	for (size_t i = 0; host_known_sysctls[i]; i++) {
		char path[PATH_MAX];
		r = host_sysctl_path(host_known_sysctls[i], path, sizeof(path));
		if (r < 0)
			return walk_fail(w, r, "%s: %s", host_known_sysctls[i], path_strerror(-r));
		s->sysctls[i].name = host_known_sysctls[i];
		s->n_sysctls++;
		r = walk_read_opt(w, path, &s->sysctls[i].value, &len);
		if (r < 0)
			return r;
		if (s->sysctls[i].value)
			chomp(s->sysctls[i].value, &len);
	}

	r = walk_read_opt(w, "etc/default/grub", &buf, &len);
	if (r < 0)
		return r;
	if (buf) {
		s->has_grub = true;
		r = procfmt_parse_grub(buf, len, &s->grub_cmdline_linux, &s->grub_cmdline_linux_default);
		free(buf);
		if (r < 0)
			return walk_fail(w, r, "etc/default/grub: %s",
					 r == -EINVAL  ? "unterminated quote"
					 : r == -E2BIG ? "a GRUB_CMDLINE value too long after variable expansion"
						       : path_strerror(-r));
	}
	return 0;
}

struct nic_irq {
	unsigned irq;
	char *ifname;
};

struct nic_map {
	struct nic_irq *v;
	size_t n, cap;
};

static void nic_map_done(struct nic_map *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->v[i].ifname);
	free(m->v);
}

static int nic_map_add(struct nic_map *m, unsigned irq, const char *ifname)
{
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 16;
		struct nic_irq *v = realloc(m->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		m->v = v;
		m->cap = cap;
	}
	m->v[m->n].ifname = strdup(ifname);
	if (!m->v[m->n].ifname)
		return -ENOMEM;
	m->v[m->n++].irq = irq;
	return 0;
}

/* IRQ -> interface, from sys/class/net/IF/device/msi_irqs/. A virtio-net
 * device has no msi_irqs of its own: its parent PCI device has them. */
static int snap_nics(struct walk *w, struct nic_map *m)
{
	char **ifs = NULL;
	int r;

	r = walk_list(w, "sys/class/net", LIST_ALL, NULL, &ifs);
	if (r == -ENOENT || r == -ENOTDIR)
		return 0;
	if (r < 0)
		return walk_fail(w, r, "sys/class/net: %s", path_strerror(-r));

	for (size_t i = 0; ifs && ifs[i]; i++) {
		char dev[PATH_MAX], path[PATH_MAX], cfg[PATH_MAX], **irqs = NULL;

		r = util_path(dev, sizeof(dev), "sys/class/net/%s/device/msi_irqs", ifs[i]);
		if (r >= 0)
			r = walk_list(w, dev, LIST_ALL_TOUCH, dev, &irqs);
		if (r == -ENOENT || r == -ENOTDIR) {
			/* Only when the device is not itself PCI (no config): the
			 * parent of a PCI NIC is a bridge with IRQs of its own. */
			r = util_path(cfg, sizeof(cfg), "sys/class/net/%s/device/config", ifs[i]);
			if (r >= 0)
				r = util_path(path, sizeof(path), "sys/class/net/%s/device/../msi_irqs", ifs[i]);
			if (r >= 0 && host_exists(w->h, cfg))
				r = -ENOENT;
			else if (r >= 0)
				r = walk_list(w, path, LIST_ALL_TOUCH, dev, &irqs);
		}
		if (r == -ENOENT || r == -ENOTDIR)
			continue;
		if (r < 0) {
			strv_free(ifs);
			if (w->err && w->err[0] == '\0')
				walk_fail(w, r, "%s: %s", dev, path_strerror(-r));
			return r;
		}
		for (size_t j = 0; irqs && irqs[j]; j++) {
			long irq;
			if (util_parse_long(irqs[j], 0, UINT_MAX, &irq) < 0)
				continue;
			r = nic_map_add(m, (unsigned)irq, ifs[i]);
			if (r < 0) {
				strv_free(irqs);
				strv_free(ifs);
				return walk_fail(w, r, "out of memory");
			}
		}
		strv_free(irqs);
	}
	strv_free(ifs);
	return 0;
}

/* Action names: the subdirectories of proc/irq/N/, in the order
 * /proc/interrupts prints them; else (or without dirs_too) that text
 * split on ", ". */
static int irq_actions(struct walk *w, unsigned irq, const char *text, bool dirs_too, char ***ret)
{
	char path[PATH_MAX], **dirs = NULL, **out = NULL, **words = NULL;
	int r = 0;

	r = util_path(path, sizeof(path), "proc/irq/%u", irq);
	if (r >= 0 && dirs_too)
		r = walk_list(w, path, LIST_DIRS_MKDIR, path, &dirs);
	if (r == -ENOENT || r == -ENOTDIR)
		r = 0;
	if (r < 0) {
		if (w->err && w->err[0] == '\0')
			walk_fail(w, r, "%s: %s", path, path_strerror(-r));
		return r;
	}

	/* The printed text, split on ", ". */
	for (const char *p = text; *p;) {
		const char *sep = strstr(p, ", ");
		size_t n = sep ? (size_t)(sep - p) : strlen(p);
		if (n > 0) {
			char *s = strndup(p, n);
			r = s ? strv_push(&words, s) : -ENOMEM;
			if (r < 0)
				goto fail;
		}
		p += n + (sep ? 2 : 0);
	}

	if (!dirs) {
		*ret = words;
		return 0;
	}
	for (size_t i = 0; words && words[i]; i++)
		if (strv_contains(dirs, words[i]) && !strv_contains(out, words[i]) &&
		    (r = strv_push_dup(&out, words[i])) < 0)
			goto fail;
	for (size_t i = 0; dirs[i]; i++)
		if (!strv_contains(out, dirs[i]) && (r = strv_push_dup(&out, dirs[i])) < 0)
			goto fail;
	strv_free(dirs);
	strv_free(words);
	*ret = out;
	return 0;

fail:
	strv_free(dirs);
	strv_free(words);
	strv_free(out);
	return walk_fail(w, r, "out of memory");
}

static int read_irq_cpus(struct walk *w, unsigned irq, const char *file, struct cpuset *ret, bool *ret_has)
{
	char path[PATH_MAX], *buf;
	int r;

	r = util_path(path, sizeof(path), "proc/irq/%u/%s", irq, file);
	if (r < 0)
		return walk_fail(w, r, "proc/irq/%u/%s: %s", irq, file, path_strerror(-r));
	r = walk_read_opt(w, path, &buf, NULL);
	if (r < 0)
		return r;
	if (!buf) {
		*ret_has = false;
		return 0;
	}
	r = parse_cpus(w, path, buf, ret);
	free(buf);
	if (r < 0)
		return r;
	*ret_has = true;
	return 0;
}

static int cmp_irq(const void *a, const void *b)
{
	const struct irq_info *x = a, *y = b;
	return x->irq < y->irq ? -1 : x->irq > y->irq;
}

/* /proc/interrupts is read in chunks of this size and parsed as it comes:
 * the file is 23 MB on 1 024 CPUs with 2 000 IRQs, 180 MB on 8 192 CPUs,
 * and what is held is a chunk and the line the parser is in the middle of
 * (see procfmt.h for the limits of a line and of the file). */
#define HOST_INTERRUPTS_CHUNK (64u * 1024)

/* proc/interrupts parsed as it is read (and copied chunk by chunk when
 * dumping). Errors with a message. */
static int walk_interrupts(struct walk *w, struct proc_interrupt **ret, size_t *ret_n)
{
	static const char path[] = "proc/interrupts";
	struct procfmt_interrupts p;
	int fd, out = -1, r = 0;
	char *buf;

	fd = host_open_read(w->h, path);
	if (fd < 0)
		return walk_fail(w, fd, "%s: %s", path, path_strerror(-fd));
	buf = malloc(HOST_INTERRUPTS_CHUNK);
	if (!buf) {
		close(fd);
		return walk_fail(w, -ENOMEM, "out of memory");
	}
	if (w->dst_fd >= 0 && (out = dump_create(w->dst_fd, path)) < 0)
		r = walk_fail(w, out, "writing %s: %s", path, path_strerror(-out));
	procfmt_interrupts_init(&p);
	while (r == 0) {
		ssize_t n = read(fd, buf, HOST_INTERRUPTS_CHUNK);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n < 0)
				r = walk_fail(w, -errno, "%s: %s", path, path_strerror(errno));
			break;
		}
		if (out >= 0 && (r = util_write_all(out, buf, (size_t)n)) < 0)
			r = walk_fail(w, r, "writing %s: %s", path, path_strerror(-r));
		else if (procfmt_interrupts_feed(&p, buf, (size_t)n) < 0)
			break; /* reported by finish */
	}
	if (out >= 0 && close(out) < 0 && r == 0)
		r = walk_fail(w, -errno, "writing %s: %s", path, path_strerror(errno));
	close(fd);
	free(buf);
	if (r < 0) {
		procfmt_interrupts_done(&p);
		return r;
	}
	r = procfmt_interrupts_finish(&p, ret, ret_n);
	if (r == -ENOMEM)
		return walk_fail(w, r, "out of memory");
	if (r < 0)
		return walk_fail(w, r, "%s:%zu: %s", path, p.lineno, p.why);
	return 0;
}

/* The IRQs, as level (HOST_IRQ_*) says. */
static int snap_irqs(struct walk *w, unsigned level, struct host_state *s)
{
	bool all = (level & HOST_IRQ_ALL) == HOST_IRQ_ALL;
	struct proc_interrupt *pi = NULL;
	struct nic_map nics = {0};
	size_t npi = 0;
	int r;

	r = walk_interrupts(w, &pi, &npi);
	if (r < 0)
		return r;

	r = all ? snap_nics(w, &nics) : 0;
	if (r < 0)
		goto out;

	s->irqs = calloc(npi ? npi : 1, sizeof(*s->irqs));
	if (!s->irqs) {
		r = walk_fail(w, -ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < npi; i++) {
		struct irq_info *q = &s->irqs[s->n_irqs++];

		q->irq = pi[i].irq;
		q->chip = pi[i].chip;
		q->hwirq = pi[i].hwirq;
		pi[i].chip = pi[i].hwirq = NULL;
		for (size_t j = 0; j < nics.n; j++)
			if (nics.v[j].irq == q->irq) {
				q->nic = strdup(nics.v[j].ifname);
				if (!q->nic) {
					r = walk_fail(w, -ENOMEM, "out of memory");
					goto out;
				}
				break;
			}
		r = all ? read_irq_cpus(w, q->irq, "smp_affinity_list", &q->affinity, &q->has_affinity) : 0;
		if (r >= 0 && all)
			r = read_irq_cpus(w, q->irq, "effective_affinity_list", &q->effective, &q->has_effective);
		if (r >= 0)
			r = irq_actions(w, q->irq, pi[i].actions, all, &q->actions);
		if (r < 0)
			goto out;
	}
	qsort(s->irqs, s->n_irqs, sizeof(*s->irqs), cmp_irq);
	r = 0;
out:
	procfmt_interrupts_free(pi, npi);
	nic_map_done(&nics);
	return r;
}

struct task_vec {
	struct task_info *v;
	size_t n, cap;
};

/* The cgroup v2 path ("0::/path"), else the first line's path. */
static char *cgroup_path(const char *buf)
{
	const char *first = NULL;

	for (const char *line = buf; line && *line;) {
		const char *nl = strchr(line, '\n');
		size_t n = nl ? (size_t)(nl - line) : strlen(line);
		const char *c1 = memchr(line, ':', n);
		const char *c2 = c1 ? memchr(c1 + 1, ':', n - (size_t)(c1 + 1 - line)) : NULL;
		if (c2) {
			if (!first)
				first = line;
			if (strncmp(line, "0::", 3) == 0)
				return strndup(c2 + 1, n - (size_t)(c2 + 1 - line));
		}
		line = nl ? nl + 1 : NULL;
	}
	if (!first)
		return strdup("");
	const char *nl = strchr(first, '\n');
	size_t n = nl ? (size_t)(nl - first) : strlen(first);
	const char *c2 = strchr(strchr(first, ':') + 1, ':');
	return strndup(c2 + 1, n - (size_t)(c2 + 1 - first));
}

/* proc/PID/task/TID/NAME into buf (its path into path): 1 when the thread
 * vanished (the file is gone or empty), 0 when read, -errno with a message. */
static int read_task_file(struct walk *w, const char *pid, const char *tid, const char *name, char *path,
			  size_t pathlen, char **ret, size_t *ret_len)
{
	int r = util_path(path, pathlen, "proc/%s/task/%s/%s", pid, tid, name);

	if (r >= 0)
		r = walk_read(w, path, ret, ret_len);
	if (vanished(r))
		return 1;
	if (r < 0)
		return walk_fail(w, r, "%s: %s", path, path_strerror(-r));
	if (*ret_len == 0) {
		free(*ret);
		return 1;
	}
	return 0;
}

static int task_vec_push(struct walk *w, struct task_vec *tv, struct task_info *t)
{
	if (tv->n == tv->cap) {
		size_t cap = tv->cap ? tv->cap * 2 : 256;
		struct task_info *v = realloc(tv->v, cap * sizeof(*v));
		if (!v) {
			task_info_done(t);
			return walk_fail(w, -ENOMEM, "out of memory");
		}
		tv->v = v;
		tv->cap = cap;
	}
	tv->v[tv->n++] = *t;
	return 0;
}

static void task_vec_done(struct task_vec *tv)
{
	for (size_t i = 0; i < tv->n; i++)
		task_info_done(&tv->v[i]);
	free(tv->v);
	*tv = (struct task_vec){0};
}

/* ---- Tasks, file by file ----
 *
 * A task is read field by field (HOST_TASK_*), each file once however
 * many fields or threads need it: the one-shot snapshot asks for what the
 * policy needs of every task, the event path for what decides whether a
 * rule could match, then for the rest. */

/* What the threads of a process share: its comm, cmdline and cgroup. */
struct proc_files {
	pid_t tgid;
	char pid[16];
	unsigned have; /* HOST_TASK_PCOMM, _CMDLINE, _CGROUP read */
	bool gone;     /* its comm is gone: the process exited */
	char *comm, *cmdline, *cgroup;
};

static void proc_files_init(struct proc_files *pf, pid_t tgid)
{
	*pf = (struct proc_files){.tgid = tgid};
	snprintf(pf->pid, sizeof(pf->pid), "%d", (int)tgid);
}

static void proc_files_done(struct proc_files *pf)
{
	free(pf->comm);
	free(pf->cmdline);
	free(pf->cgroup);
}

/* Read the process files of want not read yet: comm (gone: the process
 * exited), cmdline, cgroup (gone: ""). 0, or -errno with a message. */
static int proc_files_read(struct walk *w, struct proc_files *pf, unsigned want)
{
	char path[PATH_MAX], *buf = NULL;
	size_t len = 0;
	int r;

	want &= HOST_TASK_PROCESS & ~pf->have;
	if (pf->gone || !want)
		return 0;
	if (want & HOST_TASK_PCOMM) {
		r = util_path(path, sizeof(path), "proc/%s/comm", pf->pid);
		if (r >= 0)
			r = walk_read(w, path, &pf->comm, &len);
		if (vanished(r)) {
			pf->gone = true;
			return 0;
		}
		if (r < 0)
			goto fail_msg;
		chomp(pf->comm, &len);
		pf->have |= HOST_TASK_PCOMM;
	}
	if (want & HOST_TASK_CMDLINE) {
		r = util_path(path, sizeof(path), "proc/%s/cmdline", pf->pid);
		if (r >= 0)
			r = walk_read(w, path, &buf, &len);
		if (vanished(r)) {
			buf = NULL;
			len = 0;
		} else if (r < 0) {
			goto fail_msg;
		}
		r = procfmt_join_cmdline(buf ? buf : "", len, &pf->cmdline);
		free(buf);
		buf = NULL;
		if (r < 0)
			return walk_fail(w, r, "out of memory");
		pf->have |= HOST_TASK_CMDLINE;
	}
	if (want & HOST_TASK_CGROUP) {
		r = util_path(path, sizeof(path), "proc/%s/cgroup", pf->pid);
		if (r >= 0)
			r = walk_read(w, path, &buf, &len);
		if (r < 0 && !vanished(r))
			goto fail_msg;
		pf->cgroup = cgroup_path(r < 0 ? "" : buf);
		free(buf);
		if (!pf->cgroup)
			return walk_fail(w, -ENOMEM, "out of memory");
		pf->have |= HOST_TASK_CGROUP;
	}
	return 0;

fail_msg:
	if (w->err && w->err[0] == '\0')
		walk_fail(w, r, "%s: %s", path, path_strerror(-r));
	return r;
}

/* A thread's own files. */
struct thread_files {
	pid_t tid;
	char tid_s[16];
	unsigned have; /* HOST_TASK_COMM, _STAT, _CPUS, _TGID read */
	bool gone;     /* its stat or status is gone (or empty): it exited */
	struct proc_stat st;
	pid_t tgid; /* status's Tgid with HOST_TASK_TGID, else the process's */
	char *comm; /* the comm file; stat's when that is gone */
	struct cpuset cpus;
};

static void thread_files_init(struct thread_files *tf, const struct walk *w, const struct proc_files *pf, pid_t tid)
{
	*tf = (struct thread_files){.tid = tid, .tgid = pf->tgid, .cpus = CPUSET_INIT};
	snprintf(tf->tid_s, sizeof(tf->tid_s), "%d", (int)tid);
	/* proc/TGID/task/TID is there only for a thread of TGID: the running
	 * kernel's directories say the thread group. A tree's status says it. */
	if (!w->h->is_tree)
		tf->have |= HOST_TASK_TGID;
}

static void thread_files_done(struct thread_files *tf)
{
	free(tf->comm);
	cpuset_free(&tf->cpus);
}

/* Its CPUs from the kernel, in a mask as wide as the possible CPUs. 1 when
 * the thread is gone. */
static int thread_affinity(struct walk *w, struct thread_files *tf)
{
	cpu_set_t *set = CPU_ALLOC(w->ncpus);
	size_t size = CPU_ALLOC_SIZE(w->ncpus);
	int r = 0;

	if (!set)
		return walk_fail(w, -ENOMEM, "out of memory");
	if (sched_getaffinity(tf->tid, size, set) < 0) {
		r = errno == ESRCH ? 1
				   : walk_fail(w, -errno, "sched_getaffinity(%d): %s", (int)tf->tid, strerror(errno));
	} else {
		cpuset_zero(&tf->cpus);
		for (unsigned c = 0; c < w->ncpus && r == 0; c++)
			if (CPU_ISSET_S(c, size, set) && cpuset_set(&tf->cpus, c) < 0)
				r = walk_fail(w, -ENOMEM, "out of memory");
	}
	CPU_FREE(set);
	return r;
}

/* Read the thread files of want not read yet (tf->gone when it exited).
 * 0, or -errno with a message. */
static int thread_files_read(struct walk *w, struct proc_files *pf, struct thread_files *tf, unsigned want)
{
	char path[PATH_MAX], *buf = NULL;
	size_t len;
	int r;

	want &= (HOST_TASK_COMM | HOST_TASK_STAT | HOST_TASK_CPUS | HOST_TASK_TGID) & ~tf->have;
	if (tf->gone || !want)
		return 0;
	if (want & HOST_TASK_STAT) {
		r = read_task_file(w, pf->pid, tf->tid_s, "stat", path, sizeof(path), &buf, &len);
		if (r != 0) {
			tf->gone = r == 1;
			return r < 0 ? r : 0;
		}
		r = procfmt_parse_stat(buf, len, &tf->st);
		free(buf);
		if (r < 0)
			return walk_fail(w, r, "%s: %s", path, r == -EINVAL ? "malformed" : path_strerror(-r));
		tf->have |= HOST_TASK_STAT;
	}
	if ((want & HOST_TASK_CPUS) && w->cpus_syscall) {
		r = thread_affinity(w, tf);
		if (r != 0) {
			tf->gone = r == 1;
			return r < 0 ? r : 0;
		}
		tf->have |= HOST_TASK_CPUS;
		want &= ~HOST_TASK_CPUS;
	}
	if (want & (HOST_TASK_CPUS | HOST_TASK_TGID)) {
		struct proc_status ss = {0};

		r = read_task_file(w, pf->pid, tf->tid_s, "status", path, sizeof(path), &buf, &len);
		if (r != 0) {
			tf->gone = r == 1;
			return r < 0 ? r : 0;
		}
		r = procfmt_parse_status(buf, len, &ss);
		free(buf);
		if (r < 0)
			return walk_fail(w, r, "%s: %s", path, r == -EINVAL ? "malformed" : path_strerror(-r));
		if (!ss.cpus_allowed_list) {
			procfmt_status_done(&ss);
			return walk_fail(w, -EINVAL, "%s: no Cpus_allowed_list", path);
		}
		r = parse_cpus(w, path, ss.cpus_allowed_list, &tf->cpus);
		procfmt_status_done(&ss);
		if (r < 0)
			return r;
		/* Status's Tgid wins over the one asked with; on the kernel they agree. */
		if (ss.tgid)
			tf->tgid = ss.tgid;
		tf->have |= HOST_TASK_CPUS | HOST_TASK_TGID;
	}
	if (want & HOST_TASK_COMM) {
		r = util_path(path, sizeof(path), "proc/%s/task/%s/comm", pf->pid, tf->tid_s);
		if (r >= 0)
			r = walk_read(w, path, &tf->comm, &len);
		if (r >= 0) {
			chomp(tf->comm, &len);
		} else if (vanished(r)) {
			/* The comm stat shows. */
			if ((r = thread_files_read(w, pf, tf, HOST_TASK_STAT)) < 0 || tf->gone)
				return r;
			if (!(tf->comm = strdup(tf->st.comm)))
				return walk_fail(w, -ENOMEM, "out of memory");
		} else {
			if (w->err && w->err[0] == '\0')
				walk_fail(w, r, "%s: %s", path, path_strerror(-r));
			return r;
		}
		tf->have |= HOST_TASK_COMM;
	}
	return 0;
}

/* strdup of s, NULL for NULL; *oom set when it fails. */
static char *dup_or_null(const char *s, bool *oom)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (!d)
		*oom = true;
	return d;
}

/* The task_info of what is read of a thread (its stat at least) and of its
 * process. 0 or -ENOMEM with a message. */
static int task_from(struct walk *w, const struct proc_files *pf, struct thread_files *tf, bool context_only,
		     struct task_info *ret)
{
	const struct proc_stat *st = &tf->st;
	struct task_info t = {.cpus = CPUSET_INIT};
	bool oom = false;

	t.have = (tf->have & ~HOST_TASK_COMM) | (pf->have & HOST_TASK_PROCESS) | (tf->comm ? HOST_TASK_COMM : 0);
	t.comm = dup_or_null(tf->comm ? tf->comm : st->comm, &oom);
	t.proc_comm = dup_or_null(pf->have & HOST_TASK_PCOMM ? pf->comm : NULL, &oom);
	t.cmdline = dup_or_null(pf->have & HOST_TASK_CMDLINE ? pf->cmdline : NULL, &oom);
	t.cgroup = dup_or_null(pf->have & HOST_TASK_CGROUP ? pf->cgroup : NULL, &oom);
	if (tf->have & HOST_TASK_CPUS) {
		t.cpus = tf->cpus;
		tf->cpus = (struct cpuset)CPUSET_INIT;
	}
	t.tid = st->pid;
	t.tgid = tf->tgid;
	t.ppid = st->ppid;
	t.flags = st->flags;
	t.kthread = st->flags & HOST_PF_KTHREAD;
	t.no_setaffinity = st->flags & HOST_PF_NO_SETAFFINITY;
	t.policy = (int)st->policy;
	t.rt_priority = (int)st->rt_priority;
	t.starttime = st->starttime;
	t.context_only = context_only;
	if (oom) {
		task_info_done(&t);
		return walk_fail(w, -ENOMEM, "out of memory");
	}
	*ret = t;
	return 0;
}

/* One thread of a process read as fields say. 1 when it (or its process)
 * vanished, 0 when read into *ret, -errno. */
static int read_task(struct walk *w, struct proc_files *pf, pid_t tid, unsigned fields, bool context_only,
		     struct task_info *ret)
{
	struct thread_files tf;
	int r;

	r = proc_files_read(w, pf, fields);
	if (r < 0 || pf->gone)
		return r < 0 ? r : 1;
	thread_files_init(&tf, w, pf, tid);
	r = thread_files_read(w, pf, &tf, fields | HOST_TASK_STAT);
	if (r == 0 && !tf.gone)
		r = task_from(w, pf, &tf, context_only, ret);
	else if (r == 0)
		r = 1;
	thread_files_done(&tf);
	return r;
}

/* One process: what its threads share, then its threads. */
static int snap_process(struct walk *w, const char *pid, unsigned fields, struct task_vec *tv)
{
	char path[PATH_MAX], **tids = NULL;
	struct proc_files pf;
	long v;
	int r;

	if (util_parse_long(pid, 1, INT32_MAX, &v) < 0)
		return 0;
	/* isoctl itself is no part of the host it looks at: leaving it out
	 * keeps a plan of the machine and a plan of its snapshot comparable. */
	if (v == w->self)
		return 0;
	proc_files_init(&pf, (pid_t)v);
	r = proc_files_read(w, &pf, fields);
	if (r < 0 || pf.gone)
		goto out;

	r = util_path(path, sizeof(path), "proc/%s/task", pid);
	if (r >= 0)
		r = walk_list(w, path, LIST_ALL, NULL, &tids);
	if (vanished(r) || r == -ENOTDIR) {
		r = 0;
		goto out;
	}
	if (r < 0) {
		if (w->err && w->err[0] == '\0')
			walk_fail(w, r, "%s: %s", path, path_strerror(-r));
		goto out;
	}
	for (size_t i = 0; tids && tids[i]; i++) {
		struct task_info t;

		if (!util_all_digits(tids[i]) || util_parse_long(tids[i], 1, INT32_MAX, &v) < 0)
			continue;
		r = read_task(w, &pf, (pid_t)v, fields, false, &t);
		if (r == 0)
			r = task_vec_push(w, tv, &t);
		if (r < 0)
			goto out;
	}
	r = 0;
out:
	strv_free(tids);
	proc_files_done(&pf);
	return r;
}

static int cmp_task(const void *a, const void *b)
{
	const struct task_info *x = a, *y = b;

	if (x->tgid != y->tgid)
		return x->tgid < y->tgid ? -1 : 1;
	return x->tid < y->tid ? -1 : x->tid > y->tid;
}

static int snap_tasks(struct walk *w, unsigned fields, struct host_state *s)
{
	struct task_vec tv = {0};
	char **pids = NULL;
	int r;

	r = walk_list(w, "proc", LIST_ALL, NULL, &pids);
	if (r < 0)
		return walk_fail(w, r, "proc: %s", path_strerror(-r));
	for (size_t i = 0; pids && pids[i]; i++) {
		if (!util_all_digits(pids[i]))
			continue;
		r = snap_process(w, pids[i], fields, &tv);
		if (r < 0)
			break;
	}
	strv_free(pids);
	if (r < 0) {
		task_vec_done(&tv);
		return r;
	}
	if (tv.n > 0)
		qsort(tv.v, tv.n, sizeof(*tv.v), cmp_task);
	s->tasks = tv.v;
	s->n_tasks = tv.n;
	return 0;
}

/* A task's CPUs by sched_getaffinity() give what its status shows when the
 * kernel's active CPUs are all its possible ones, 0..N-1: the syscall
 * gives the mask within the active CPUs, status the mask itself (bits up
 * to nr_cpu_ids). Never on a tree, nor for a dump, which copies files. */
static void walk_cpus_syscall(struct walk *w, const struct host_state *s)
{
	int last = cpuset_last(&s->possible);

	w->cpus_syscall = !w->h->is_tree && w->dst_fd < 0 && last >= 0 && cpuset_equal(&s->online, &s->possible) &&
			  cpuset_count(&s->possible) == (unsigned)last + 1;
	w->ncpus = last >= 0 ? (unsigned)last + 1 : 0;
}

static bool needs_cover(const struct host_needs *have, const struct host_needs *want)
{
	return (have->boot_id || !want->boot_id) && (want->irqs & ~have->irqs) == 0 &&
	       (want->tasks & ~have->tasks) == 0;
}

bool host_state_has(const struct host_state *s, const struct host_needs *needs)
{
	return !s->borrowed && needs_cover(&s->have, needs);
}

/* Read what n asks that s lacks (see host_snapshot_add). */
static int snap_more(struct walk *w, struct host_state *s, const struct host_needs *n)
{
	struct host_state more = {0};
	int r = 0;

	if (n->boot_id && !s->have.boot_id) {
		r = walk_read_opt(w, "proc/sys/kernel/random/boot_id", &more.boot_id, NULL);
		if (r < 0)
			return r;
		if (more.boot_id)
			util_strip(more.boot_id);
	}
	if (n->irqs & ~s->have.irqs)
		r = snap_irqs(w, n->irqs | s->have.irqs, &more);
	if (r >= 0 && (n->tasks & ~s->have.tasks)) {
		walk_cpus_syscall(w, s);
		r = snap_tasks(w, (n->tasks | s->have.tasks) | HOST_TASK_STAT, &more);
	}
	if (r < 0) {
		free(more.boot_id);
		for (size_t i = 0; i < more.n_irqs; i++)
			irq_info_done(&more.irqs[i]);
		free(more.irqs);
		for (size_t i = 0; i < more.n_tasks; i++)
			task_info_done(&more.tasks[i]);
		free(more.tasks);
		return r;
	}
	if (n->boot_id && !s->have.boot_id) {
		s->boot_id = more.boot_id;
		s->have.boot_id = true;
	}
	if (n->irqs & ~s->have.irqs) {
		for (size_t i = 0; i < s->n_irqs; i++)
			irq_info_done(&s->irqs[i]);
		free(s->irqs);
		s->irqs = more.irqs;
		s->n_irqs = more.n_irqs;
		s->have.irqs |= n->irqs;
	}
	if (n->tasks & ~s->have.tasks) {
		for (size_t i = 0; i < s->n_tasks; i++)
			task_info_done(&s->tasks[i]);
		free(s->tasks);
		s->tasks = more.tasks;
		s->n_tasks = more.n_tasks;
		s->have.tasks |= n->tasks | HOST_TASK_STAT;
	}
	return 0;
}

static int snapshot(struct walk *w, const struct host_needs *n, struct host_state **ret)
{
	struct host_state *s;
	int r;

	if (w->err && w->errlen > 0)
		w->err[0] = '\0';
	s = calloc(1, sizeof(*s));
	if (!s)
		return walk_fail(w, -ENOMEM, "out of memory");
	r = snap_system(w, s);
	if (r >= 0)
		r = snap_more(w, s, n);
	if (r < 0) {
		host_state_free(s);
		return r;
	}
	*ret = s;
	return 0;
}

const struct host_needs host_needs_all = {.boot_id = true, .irqs = HOST_IRQ_ALL, .tasks = HOST_TASK_ALL};

int host_snapshot(const struct host *h, struct host_state **ret, char *err, size_t errlen)
{
	return host_snapshot_ex(h, &host_needs_all, ret, err, errlen);
}

int host_snapshot_ex(const struct host *h, const struct host_needs *needs, struct host_state **ret, char *err,
		     size_t errlen)
{
	struct walk w = {h, -1, err, errlen, h->is_tree ? 0 : getpid(), false, 0};

	return snapshot(&w, needs, ret);
}

int host_snapshot_add(const struct host *h, struct host_state *s, const struct host_needs *needs, char *err,
		      size_t errlen)
{
	struct walk w = {h, -1, err, errlen, h->is_tree ? 0 : getpid(), false, 0};

	if (err && errlen > 0)
		err[0] = '\0';
	if (s->borrowed)
		return walk_fail(&w, -EINVAL, "a partial snapshot cannot be added to");
	if (needs_cover(&s->have, needs))
		return 0;
	return snap_more(&w, s, needs);
}

int host_read_cgroup(const struct host *h, pid_t pid, char **ret)
{
	struct walk w = {h, -1, NULL, 0, 0, false, 0};
	struct proc_files pf;
	char path[PATH_MAX], *buf = NULL;
	int r;

	if (pid <= 0)
		return -EINVAL;
	proc_files_init(&pf, pid);
	r = util_path(path, sizeof(path), "proc/%s/cgroup", pf.pid);
	if (r >= 0)
		r = walk_read(&w, path, &buf, NULL);
	if (r < 0)
		return r;
	*ret = cgroup_path(buf);
	free(buf);
	return *ret ? 0 : -ENOMEM;
}

/* ---- Partial snapshots: the daemon's event path ---- */

int host_read_task(const struct host *h, pid_t tgid, pid_t tid, struct task_info *ret)
{
	struct walk w = {h, -1, NULL, 0, 0, false, 0};
	struct proc_files pf;
	struct task_info t;
	int r;

	if (tgid <= 0 || tid <= 0)
		return -EINVAL;
	proc_files_init(&pf, tgid);
	r = read_task(&w, &pf, tid, HOST_TASK_ALL, false, &t);
	proc_files_done(&pf);
	if (r != 0)
		return r < 0 ? r : -ESRCH;
	*ret = t;
	return 0;
}

void host_task_done(struct task_info *t)
{
	if (!t)
		return;
	task_info_done(t);
	memset(t, 0, sizeof(*t));
}

/* A leader still to read as context. follow: then its parent too. lean:
 * an ancestor, needed only for its ppid: stat alone. */
struct want {
	pid_t pid;
	bool follow, lean;
};

struct partial {
	struct walk *w;
	const struct host_thread_filter *f; /* NULL: every thread asked for is taken */
	unsigned fields;		    /* of a thread taken */
	struct proc_files **procs;	    /* each process's files, read once */
	size_t n_procs, cap_procs;
	struct want *wants;
	size_t n_wants, cap_wants;
	struct task_vec tv;
	size_t n_sorted; /* tv.v[0, n_sorted) is sorted (the threads asked for) */
};

static void partial_done(struct partial *p)
{
	for (size_t i = 0; i < p->n_procs; i++) {
		proc_files_done(p->procs[i]);
		free(p->procs[i]);
	}
	free(p->procs);
	free(p->wants);
	task_vec_done(&p->tv);
}

/* The files of process tgid, as read so far (a new, unread one the first
 * time). NULL on ENOMEM (with a message). */
static struct proc_files *partial_process(struct partial *p, pid_t tgid)
{
	struct proc_files *pf;

	for (size_t i = 0; i < p->n_procs; i++)
		if (p->procs[i]->tgid == tgid)
			return p->procs[i];
	if (p->n_procs == p->cap_procs) {
		size_t cap = p->cap_procs ? p->cap_procs * 2 : 8;
		struct proc_files **v = realloc(p->procs, cap * sizeof(*v));

		if (!v) {
			walk_fail(p->w, -ENOMEM, "out of memory");
			return NULL;
		}
		p->procs = v;
		p->cap_procs = cap;
	}
	pf = malloc(sizeof(*pf));
	if (!pf) {
		walk_fail(p->w, -ENOMEM, "out of memory");
		return NULL;
	}
	proc_files_init(pf, tgid);
	p->procs[p->n_procs++] = pf;
	return pf;
}

/* Thread tid of process tgid appended to tv, read as fields says; 1 when
 * it vanished. lean (an ancestor, needed only for its ppid): its stat
 * alone, proc_comm its comm, cmdline and cgroup "". */
static int partial_thread(struct partial *p, pid_t tgid, pid_t tid, bool context_only, bool lean, unsigned fields)
{
	struct proc_files *pf = partial_process(p, tgid);
	struct task_info t;
	int r;

	if (!pf)
		return -ENOMEM;
	r = read_task(p->w, pf, tid, lean ? HOST_TASK_STAT : fields, context_only, &t);
	if (r != 0)
		return r;
	if (lean) {
		free(t.proc_comm);
		free(t.cmdline);
		free(t.cgroup);
		t.proc_comm = strdup(t.comm);
		t.cmdline = strdup("");
		t.cgroup = strdup("");
		if (!t.proc_comm || !t.cmdline || !t.cgroup) {
			task_info_done(&t);
			return walk_fail(p->w, -ENOMEM, "out of memory");
		}
	}
	return task_vec_push(p->w, &p->tv, &t);
}

/* The order the filter's questions are answered in: the cheapest file
 * first (a thread's comm is a few bytes; status is the largest; an owner
 * is another process). */
static const unsigned field_order[] = {
    HOST_TASK_COMM, HOST_TASK_STAT, HOST_TASK_PCOMM,  HOST_TASK_CMDLINE,
    HOST_TASK_TGID, HOST_TASK_CPUS, HOST_TASK_CGROUP, HOST_TASK_OWNER,
};

/* What filter->want says of thread tf of process pf, reading what it asks
 * for until it decides: 1 take it, 0 leave it out (or it vanished), -errno. */
static int partial_filter(struct partial *p, struct proc_files *pf, struct thread_files *tf)
{
	const struct host_thread_filter *f = p->f;
	struct proc_files *opf = NULL;
	bool has_owner = false;
	int r;

	for (;;) {
		struct task_info view = {.cpus = CPUSET_INIT}, oview = {.cpus = CPUSET_INIT};
		unsigned more = 0, next = 0;
		enum host_want v;

		view.have = tf->have | (pf->have & HOST_TASK_PROCESS) | (has_owner ? HOST_TASK_OWNER : 0);
		view.tid = tf->tid;
		view.tgid = tf->tgid;
		view.comm = tf->comm;
		view.proc_comm = pf->comm;
		view.cmdline = pf->cmdline;
		view.cgroup = pf->cgroup;
		view.cpus = tf->cpus;
		if (tf->have & HOST_TASK_STAT) {
			view.ppid = tf->st.ppid;
			view.flags = tf->st.flags;
			view.kthread = tf->st.flags & HOST_PF_KTHREAD;
			view.no_setaffinity = tf->st.flags & HOST_PF_NO_SETAFFINITY;
			view.policy = (int)tf->st.policy;
			view.rt_priority = (int)tf->st.rt_priority;
			view.starttime = tf->st.starttime;
		}
		if (opf) {
			oview.have = opf->have;
			oview.tid = oview.tgid = opf->tgid;
			oview.comm = oview.proc_comm = opf->comm;
			oview.cmdline = opf->cmdline;
		}
		v = f->want(f->userdata, &view, has_owner && opf ? &oview : NULL, &more);
		if (v != HOST_WANT_MORE)
			return v == HOST_WANT_YES;
		more &= ~view.have;
		for (size_t i = 0; i < ARRAY_SIZE(field_order) && !next; i++)
			if (more & field_order[i])
				next = field_order[i];
		if (!next)
			return 1;
		if (next == HOST_TASK_OWNER) {
			long owner;

			/* Named after the process it serves: its comm first. */
			if ((r = thread_files_read(p->w, pf, tf, HOST_TASK_COMM)) < 0)
				return r;
			if (tf->gone)
				return 0;
			owner = procfmt_vhost_owner(tf->comm);
			has_owner = true;
			if (owner <= 0)
				continue;
			if (!(opf = partial_process(p, (pid_t)owner)))
				return -ENOMEM;
			if ((r = proc_files_read(p->w, opf, HOST_TASK_PCOMM | HOST_TASK_CMDLINE)) < 0)
				return r;
			if (opf->gone)
				opf = NULL;
			continue;
		}
		if (next & HOST_TASK_PROCESS) {
			if ((r = proc_files_read(p->w, pf, next)) < 0)
				return r;
			if (pf->gone)
				return 0;
		} else {
			if ((r = thread_files_read(p->w, pf, tf, next)) < 0)
				return r;
			if (tf->gone)
				return 0;
		}
	}
}

/* A thread asked for: through the filter, then read in full. */
static int partial_asked(struct partial *p, pid_t tgid, pid_t tid)
{
	struct proc_files *pf = partial_process(p, tgid);
	struct thread_files tf;
	struct task_info t;
	int r = 1;

	if (!pf)
		return -ENOMEM;
	thread_files_init(&tf, p->w, pf, tid);
	if (p->f && !(p->f->keep && p->f->keep(p->f->keep_userdata, tid)) && (r = partial_filter(p, pf, &tf)) <= 0)
		goto out;
	r = proc_files_read(p->w, pf, p->fields);
	if (r < 0 || pf->gone)
		goto out;
	r = thread_files_read(p->w, pf, &tf, p->fields | HOST_TASK_STAT);
	if (r < 0 || tf.gone)
		goto out;
	r = task_from(p->w, pf, &tf, false, &t);
	if (r == 0)
		r = task_vec_push(p->w, &p->tv, &t);
out:
	thread_files_done(&tf);
	return r < 0 ? r : 0;
}

static int partial_want(struct partial *p, pid_t pid, bool follow, bool lean)
{
	if (p->n_wants == p->cap_wants) {
		size_t cap = p->cap_wants ? p->cap_wants * 2 : 16;
		struct want *v = realloc(p->wants, cap * sizeof(*v));

		if (!v)
			return walk_fail(p->w, -ENOMEM, "out of memory");
		p->wants = v;
		p->cap_wants = cap;
	}
	p->wants[p->n_wants++] = (struct want){pid, follow, lean};
	return 0;
}

/* Is the leader of process pid (tid == tgid == pid) read already? */
static bool partial_has_leader(const struct partial *p, pid_t pid)
{
	const struct task_info key = {.tid = pid, .tgid = pid};

	if (p->n_sorted && bsearch(&key, p->tv.v, p->n_sorted, sizeof(key), cmp_task))
		return true;
	for (size_t i = p->n_sorted; i < p->tv.n; i++)
		if (p->tv.v[i].tid == pid)
			return true;
	return false;
}

static int cmp_ref(const void *a, const void *b)
{
	const struct thread_ref *x = a, *y = b;

	if (x->tgid != y->tgid)
		return x->tgid < y->tgid ? -1 : 1;
	return x->tid < y->tid ? -1 : x->tid > y->tid;
}

/* The threads asked for, each once, in (tgid, tid) order. */
static int partial_requested(struct partial *p, const struct thread_ref *refs, size_t n)
{
	struct thread_ref *v;
	int r = 0;

	if (n == 0)
		return 0;
	v = malloc(n * sizeof(*v));
	if (!v)
		return walk_fail(p->w, -ENOMEM, "out of memory");
	memcpy(v, refs, n * sizeof(*v));
	qsort(v, n, sizeof(*v), cmp_ref);
	for (size_t i = 0; i < n && r >= 0; i++) {
		if (v[i].tgid <= 0 || v[i].tid <= 0) {
			r = walk_fail(p->w, -EINVAL, "thread %d of process %d: not a thread id", (int)v[i].tid,
				      (int)v[i].tgid);
			break;
		}
		if (i > 0 && cmp_ref(&v[i - 1], &v[i]) == 0)
			continue;
		r = partial_asked(p, v[i].tgid, v[i].tid);
	}
	free(v);
	if (r < 0)
		return r;
	/* Status's Tgid wins over the one asked with; on the kernel they agree. */
	if (p->tv.n > 1)
		qsort(p->tv.v, p->tv.n, sizeof(*p->tv.v), cmp_task);
	p->n_sorted = p->tv.n;
	return 0;
}

/* What rules need to judge the threads read, as context_only tasks: the
 * QEMU processes vhost workers serve (their cmdline names the VM), the
 * threads' leaders, and with ancestors the leaders' parents up to pid 1
 * (only their ppid matters: stat alone). */
static int partial_context(struct partial *p, bool ancestors)
{
	unsigned fields = p->fields & HOST_TASK_PROCESS;
	int r = 0;

	/* The vhost owners first: read in full, never as a lean ancestor. */
	for (size_t i = 0; i < p->n_sorted && r >= 0; i++) {
		const struct task_info *t = &p->tv.v[i];
		long owner = procfmt_vhost_owner(t->comm);

		if (owner > 0 && owner != t->tgid)
			r = partial_want(p, (pid_t)owner, false, false);
	}
	for (size_t i = 0; i < p->n_sorted && r >= 0; i++) {
		const struct task_info *t = &p->tv.v[i];

		if (t->tid != t->tgid)
			r = partial_want(p, t->tgid, ancestors, false);
		else if (ancestors && t->ppid > 0)
			r = partial_want(p, t->ppid, true, true);
	}
	/* wants grows while it is walked: each parent read asks for its own. */
	for (size_t i = 0; i < p->n_wants && r >= 0; i++) {
		struct want wt = p->wants[i];
		size_t before = p->tv.n;

		if (partial_has_leader(p, wt.pid))
			continue;
		/* Read once: as fully and as far up as any want of it asks. */
		for (size_t k = i + 1; k < p->n_wants; k++)
			if (p->wants[k].pid == wt.pid) {
				wt.follow |= p->wants[k].follow;
				wt.lean &= p->wants[k].lean;
			}
		r = partial_thread(p, wt.pid, wt.pid, true, wt.lean, fields | HOST_TASK_STAT);
		if (r < 0)
			break;
		r = 0;
		if (wt.follow && p->tv.n > before && p->tv.v[before].ppid > 0)
			r = partial_want(p, p->tv.v[before].ppid, true, true);
	}
	return r;
}

int host_snapshot_threads(const struct host *h, const struct host_state *base, const struct thread_ref *refs, size_t n,
			  bool ancestors, struct host_state **ret, char *err, size_t errlen)
{
	return host_snapshot_threads_ex(h, base, refs, n, ancestors, NULL, ret, err, errlen);
}

int host_snapshot_threads_ex(const struct host *h, const struct host_state *base, const struct thread_ref *refs,
			     size_t n, bool ancestors, const struct host_thread_filter *filter, struct host_state **ret,
			     char *err, size_t errlen)
{
	struct walk w = {h, -1, err, errlen, 0, false, 0};
	struct partial p = {.w = &w, .f = filter, .fields = filter ? filter->fields | HOST_TASK_STAT : HOST_TASK_ALL};
	struct host_state *s = NULL;
	int r;

	if (err && errlen > 0)
		err[0] = '\0';
	walk_cpus_syscall(&w, base);
	r = partial_requested(&p, refs, n);
	if (r >= 0)
		r = partial_context(&p, ancestors);
	if (r >= 0 && !(s = malloc(sizeof(*s))))
		r = walk_fail(&w, -ENOMEM, "out of memory");
	if (r < 0) {
		partial_done(&p);
		return r;
	}
	if (p.tv.n > p.n_sorted)
		qsort(p.tv.v, p.tv.n, sizeof(*p.tv.v), cmp_task);
	/* Everything but the tasks is base's (see host.h). */
	*s = *base;
	s->tasks = p.tv.v;
	s->n_tasks = p.tv.n;
	s->have.tasks = p.fields;
	s->borrowed = true;
	p.tv = (struct task_vec){0};
	partial_done(&p);
	*ret = s;
	return 0;
}

/* Files a user's bug report needs that the snapshot does not parse. */
static int dump_extras(struct walk *w, const struct host_state *s)
{
	char path[PATH_MAX], *buf;
	int r;

	/* Read by isoctl check (other tuners) and isoctl itself (host.conf),
	 * so that a replayed snapshot checks and plans as the host did. */
	static const char *const etc[] = {
	    "etc/default/irqbalance",
	    "etc/sysconfig/irqbalance",
	    "etc/tuned/active_profile",
	    "etc/isolated/host.conf",
	};

	for (size_t i = 0; i < ARRAY_SIZE(etc); i++) {
		r = walk_read_opt(w, etc[i], &buf, NULL);
		if (r < 0)
			return r;
		free(buf);
	}
	for (size_t i = 0; i < s->n_irqs; i++) {
		static const char *const files[] = {"smp_affinity", "effective_affinity"};
		for (size_t j = 0; j < ARRAY_SIZE(files); j++) {
			r = util_path(path, sizeof(path), "proc/irq/%u/%s", s->irqs[i].irq, files[j]);
			if (r < 0)
				return walk_fail(w, r, "proc/irq/%u/%s: %s", s->irqs[i].irq, files[j], path_strerror(-r));
			r = walk_read_opt(w, path, &buf, NULL);
			if (r < 0)
				return r;
			free(buf);
		}
	}
	return 0;
}

/* mkdir -p of the directories above dir (not dir itself), as the user
 * named them. */
static int mkdir_parents(const char *dir)
{
	char buf[PATH_MAX];
	size_t n = strlen(dir);

	if (n >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, dir, n + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/' || p[-1] == '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	return 0;
}

static int dir_is_empty(int fd)
{
	struct dirent *de;
	int r = 1, dfd;
	DIR *d;

	dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	d = fdopendir(dfd);
	if (!d) {
		r = -errno;
		close(dfd);
		return r;
	}
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
			r = 0;
			break;
		}
	closedir(d);
	return r;
}

/* The directory a dump goes into (DESIGN.md, invariant 8): made by us, or
 * one the caller alone owns, empty, and not a symbolic link. Then nobody
 * else can put or swap anything in it while we write. The fd or -errno
 * with a message. */
static int dump_open_dir(struct walk *w, const char *dir)
{
	struct stat st;
	int fd, r;

	if (!*dir)
		return walk_fail(w, -EINVAL, "an empty directory name");
	r = mkdir_parents(dir);
	if (r < 0)
		return walk_fail(w, r, "%s: cannot create its parent directories: %s", dir, path_strerror(-r));
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return walk_fail(w, -errno, "%s: %s", dir, path_strerror(errno));
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && (errno == ELOOP || errno == ENOTDIR) && lstat(dir, &st) == 0 && S_ISLNK(st.st_mode))
		return walk_fail(w, -ELOOP, "%s is a symbolic link: name the directory itself", dir);
	if (fd < 0)
		return walk_fail(w, -errno, "%s: %s", dir, path_strerror(errno));
	if (fstat(fd, &st) < 0)
		r = walk_fail(w, -errno, "%s: %s", dir, path_strerror(errno));
	else if (st.st_uid != geteuid())
		r = walk_fail(w, -EPERM,
			      "%s is owned by uid %u, not by you (uid %u): a snapshot goes into a new directory or "
			      "an empty one you own",
			      dir, (unsigned)st.st_uid, (unsigned)geteuid());
	else if (st.st_mode & (S_IWGRP | S_IWOTH))
		r = walk_fail(w, -EPERM,
			      "%s is writable by %s (mode %04o): others could swap files in it while it is written",
			      dir, (st.st_mode & S_IWOTH) ? "others" : "its group", (unsigned)(st.st_mode & 07777));
	else if ((r = dir_is_empty(fd)) == 0)
		r = walk_fail(w, -ENOTEMPTY, "%s: directory is not empty", dir);
	else if (r < 0)
		r = walk_fail(w, r, "%s: %s", dir, path_strerror(-r));
	else
		r = 0;
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

int host_dump(const struct host *h, const char *dir, char *err, size_t errlen)
{
	struct walk w = {h, -1, err, errlen, h->is_tree ? 0 : getpid(), false, 0};
	struct host_state *s = NULL;
	int r;

	if (err && errlen > 0)
		err[0] = '\0';
	w.dst_fd = dump_open_dir(&w, dir);
	if (w.dst_fd < 0)
		return w.dst_fd;
	/* Where the journal of a tree lives (run/isolated/), so that the dump
	 * can be applied to like the host. */
	r = dump_mkdirs(w.dst_fd, "run");
	if (r < 0)
		r = walk_fail(&w, r, "%s/run: %s", dir, path_strerror(-r));
	if (r >= 0)
		r = snapshot(&w, &host_needs_all, &s);
	if (r >= 0)
		r = dump_extras(&w, s);
	host_state_free(s);
	close(w.dst_fd);
	return r < 0 ? r : 0;
}
