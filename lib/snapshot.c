/* The full snapshot of a host, or the part of it a policy needs: the
 * system's files (CPUs, command line, kernel, sysctls, cpumasks, grub), the
 * IRQs with their NICs, and the tasks (read file by file in
 * snapshot-threads.c). Through a walk that, for a dump, copies every file
 * it reads into the dump's tree. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "isolated/procfmt.h"
#include "isolated/snapshot.h"
#include "isolated/util.h"
#include "snapshot-internal.h"

const char *const host_known_sysctls[] = {
    "kernel.timer_migration", "kernel.sched_rt_runtime_us", "kernel.sched_rt_period_us",
    "kernel.numa_balancing",  "net.core.rtnet_prio",	    NULL,
};

static void files_free(struct host_file *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].path);
		free(v[i].value);
	}
	free(v);
}

/* path has a write bit in the host. */
static bool host_writable(const struct host *h, const char *path)
{
	int fd = host_openat(h, path, O_PATH, 0);
	struct stat st;
	bool w;

	if (fd < 0)
		return false;
	w = fstat(fd, &st) == 0 && (st.st_mode & 0222);
	close(fd);
	return w;
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

int walk_fail(struct walk *w, int r, const char *fmt, ...)
{
	va_list ap;

	if (w->err && w->errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(w->err, w->errlen, fmt, ap);
		va_end(ap);
	}
	return r;
}

/* Read a file of the host (copying it when dumping). Returns the read's
 * error without a message: the caller decides whether it is fatal. */
int walk_read(struct walk *w, const char *path, char **ret, size_t *ret_len)
{
	char *buf;
	size_t len;
	int r;

	r = host_read(w->h, path, &buf, &len);
	if (r < 0)
		return r;
	if (w->dst_fd >= 0) {
		r = util_write_new_at(w->dst_fd, path, buf, len);
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
int walk_read_opt(struct walk *w, const char *path, char **ret, size_t *ret_len)
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

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Entry names of a host directory, sorted. dump_path: where the dump
 * mirrors the entries (for LIST_DIRS_MKDIR / LIST_ALL_TOUCH). Errors are
 * returned without a message. */
int walk_list(struct walk *w, const char *path, enum list_kind kind, const char *dump_path, char ***ret)
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
		r = util_mkdir_p_at(w->dst_fd, dump_path);
		for (size_t i = 0; r >= 0 && v[i]; i++) {
			r = util_path(p, sizeof(p), "%s/%s", dump_path, v[i]);
			if (r >= 0 && kind == LIST_DIRS_MKDIR)
				r = util_mkdir_p_at(w->dst_fd, p);
			if (r >= 0 && kind == LIST_ALL_TOUCH)
				r = util_write_new_at(w->dst_fd, p, "", 0);
		}
		if (r < 0) {
			strv_free(v);
			return walk_fail(w, r, "writing %s: %s", dump_path, path_strerror(-r));
		}
	}
	*ret = v;
	return 0;
}

int walk_parse_cpus(struct walk *w, const char *path, const char *text, struct cpuset *ret)
{
	char perr[256] = "";
	int r = cpuset_parse_list(text, ret, perr, sizeof(perr));

	if (r < 0)
		return walk_fail(w, r, "%s: %s", path, perr[0] ? perr : path_strerror(-r));
	return 0;
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
		host_task_done(&s->tasks[i]);
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
	files_free(s->files, s->n_files);
	cgroup_tree_done(&s->cgroups);
	for (size_t i = 0; i < s->n_irqs; i++)
		irq_info_done(&s->irqs[i]);
	free(s->irqs);
	free(s);
}

const char *host_state_sysctl(const struct host_state *s, const char *name)
{
	char path[PATH_MAX];
	const struct host_file *f;

	for (size_t i = 0; i < s->n_sysctls; i++)
		if (strcmp(s->sysctls[i].name, name) == 0)
			return s->sysctls[i].value;
	if (host_sysctl_path(name, path, sizeof(path)) < 0)
		return NULL;
	f = host_state_file(s, path);
	return f ? f->value : NULL;
}

struct host_file *host_state_file(const struct host_state *s, const char *path)
{
	for (size_t i = 0; i < s->n_files; i++)
		if (strcmp(s->files[i].path, path) == 0)
			return &s->files[i];
	return NULL;
}

int walk_add_file(struct walk *w, struct host_state *s, const char *path)
{
	struct host_file *v = realloc(s->files, (s->n_files + 1) * sizeof(*v)), *f;
	size_t len;
	int r;

	if (!v)
		return walk_fail(w, -ENOMEM, "out of memory");
	s->files = v;
	f = &v[s->n_files];
	*f = (struct host_file){.path = strdup(path)};
	if (!f->path)
		return walk_fail(w, -ENOMEM, "out of memory");
	s->n_files++;
	r = walk_read_opt(w, path, &f->value, &len);
	if (r < 0)
		return r;
	if (f->value)
		chomp(f->value, &len);
	f->writable = f->value && host_writable(w->h, path);
	return 0;
}

void cgroup_tree_done(struct cgroup_tree *t)
{
	free(t->mount);
	strv_free(t->dirs);
	*t = (struct cgroup_tree){0};
}

/* The files that s lacks, read into more (which has room for them). */
static int snap_files(struct walk *w, const struct host_state *s, char *const *files, struct host_state *more)
{
	size_t want = 0;

	for (size_t i = 0; files && files[i]; i++)
		want += !host_state_file(s, files[i]) && !host_state_file(more, files[i]);
	if (want == 0)
		return 0;
	more->files = calloc(want, sizeof(*more->files));
	if (!more->files)
		return walk_fail(w, -ENOMEM, "out of memory");
	for (size_t i = 0; files[i]; i++) {
		struct host_file *f = &more->files[more->n_files];
		size_t len;
		int r;

		if (host_state_file(s, files[i]) || host_state_file(more, files[i]))
			continue;
		f->path = strdup(files[i]);
		if (!f->path)
			return walk_fail(w, -ENOMEM, "out of memory");
		more->n_files++;
		r = walk_read_opt(w, files[i], &f->value, &len);
		if (r < 0)
			return r;
		if (f->value)
			chomp(f->value, &len);
		f->writable = f->value && host_writable(w->h, files[i]);
	}
	return 0;
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

/* The known sysctls (host_known_sysctls), NULL where the kernel has none. */
static int snap_sysctls(struct walk *w, struct host_state *s)
{
	size_t len;
	int r;

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
	r = walk_parse_cpus(w, "sys/devices/system/cpu/online", buf, &s->online);
	free(buf);
	if (r < 0)
		return r;
	r = walk_read_opt(w, "sys/devices/system/cpu/possible", &buf, NULL);
	if (r < 0)
		return r;
	if (buf) {
		r = walk_parse_cpus(w, "sys/devices/system/cpu/possible", buf, &s->possible);
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

	r = snap_sysctls(w, s);
	if (r < 0)
		return r;

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
	r = walk_parse_cpus(w, path, buf, ret);
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
	if (w->dst_fd >= 0 && (out = util_create_at(w->dst_fd, path)) < 0)
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

/* A task's CPUs by sched_getaffinity() give what its status shows when the
 * kernel's active CPUs are all its possible ones, 0..N-1: the syscall
 * gives the mask within the active CPUs, status the mask itself (bits up
 * to nr_cpu_ids). Never on a tree, nor for a dump, which copies files. */
void walk_cpus_syscall(struct walk *w, const struct host_state *s)
{
	int last = cpuset_last(&s->possible);

	w->cpus_syscall = !w->h->is_tree && w->dst_fd < 0 && last >= 0 && cpuset_equal(&s->online, &s->possible) &&
			  cpuset_count(&s->possible) == (unsigned)last + 1;
	w->ncpus = last >= 0 ? (unsigned)last + 1 : 0;
}

static bool needs_cover(const struct host_state *s, const struct host_needs *want)
{
	const struct host_needs *have = &s->have;

	if (!(have->boot_id || !want->boot_id) || (want->cgroups && !have->cgroups) ||
	    (want->irqs & ~have->irqs) != 0 || (want->tasks & ~have->tasks) != 0)
		return false;
	for (size_t i = 0; want->files && want->files[i]; i++)
		if (!host_state_file(s, want->files[i]))
			return false;
	return true;
}

bool host_state_has(const struct host_state *s, const struct host_needs *needs)
{
	return !s->borrowed && needs_cover(s, needs);
}

/* What snap_more read and did not hand over to s. */
static void more_free(struct host_state *more)
{
	files_free(more->files, more->n_files);
	cgroup_tree_done(&more->cgroups);
	free(more->boot_id);
	for (size_t i = 0; i < more->n_irqs; i++)
		irq_info_done(&more->irqs[i]);
	free(more->irqs);
	for (size_t i = 0; i < more->n_tasks; i++)
		host_task_done(&more->tasks[i]);
	free(more->tasks);
}

/* Read what n asks that s lacks (see host_snapshot_add). */
static int snap_more(struct walk *w, struct host_state *s, const struct host_needs *n)
{
	struct host_state more = {0};
	struct host_file *files = s->files;
	int r;

	r = snap_files(w, s, n->files, &more);
	if (r >= 0 && n->boot_id && !s->have.boot_id) {
		r = walk_read_opt(w, "proc/sys/kernel/random/boot_id", &more.boot_id, NULL);
		if (r >= 0 && more.boot_id)
			util_strip(more.boot_id);
	}
	if (r >= 0 && (n->irqs & ~s->have.irqs))
		r = snap_irqs(w, n->irqs | s->have.irqs, &more);
	if (r >= 0 && n->cgroups && !s->have.cgroups)
		r = walk_cgroups(w, &more);
	w->cgroup_kind = s->have.cgroups ? s->cgroups.kind : more.cgroups.kind;
	if (r >= 0 && (n->tasks & ~s->have.tasks)) {
		walk_cpus_syscall(w, s);
		r = walk_tasks(w, (n->tasks | s->have.tasks) | HOST_TASK_STAT, &more);
	}
	if (r >= 0 && more.n_files && !(files = realloc(s->files, (s->n_files + more.n_files) * sizeof(*files))))
		r = walk_fail(w, -ENOMEM, "out of memory");
	if (r < 0) {
		more_free(&more);
		return r;
	}
	/* Nothing fails from here on. */
	if (more.n_files) {
		memcpy(files + s->n_files, more.files, more.n_files * sizeof(*files));
		s->files = files;
		s->n_files += more.n_files;
	}
	free(more.files);
	if (n->cgroups && !s->have.cgroups) {
		s->cgroups = more.cgroups;
		s->have.cgroups = true;
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
			host_task_done(&s->tasks[i]);
		free(s->tasks);
		s->tasks = more.tasks;
		s->n_tasks = more.n_tasks;
		s->have.tasks |= n->tasks | HOST_TASK_STAT;
	}
	return 0;
}

int walk_snapshot(struct walk *w, const struct host_needs *n, struct host_state **ret)
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
	struct walk w = {h, -1, err, errlen, h->is_tree ? 0 : getpid(), false, 0, CGROUP_NONE};

	return walk_snapshot(&w, needs, ret);
}

int host_snapshot_add(const struct host *h, struct host_state *s, const struct host_needs *needs, char *err,
		      size_t errlen)
{
	struct walk w = {h, -1, err, errlen, h->is_tree ? 0 : getpid(), false, 0, CGROUP_NONE};

	if (err && errlen > 0)
		err[0] = '\0';
	if (s->borrowed)
		return walk_fail(&w, -EINVAL, "a partial snapshot cannot be added to");
	if (needs_cover(s, needs))
		return 0;
	return snap_more(&w, s, needs);
}
