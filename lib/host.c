/* The seam to the kernel: opening a host (the running kernel or a tree) and
 * reading its /proc, /sys and /etc files relative to the root directory fd,
 * each within the size a kernel can make it; and the single reads that
 * verify a write. */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host-internal.h"
#include "isolated/action.h"
#include "isolated/host.h"
#include "isolated/irqbalance.h"
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

struct host_options host_options_from_env(void)
{
	const char *restart = getenv(HOST_RESTART_ENV);

	return (struct host_options){.faults = getenv(HOST_FAULTS_ENV),
				     .restart_units = restart && strcmp(restart, "1") == 0};
}

int host_open_ex(const char *root, const struct host_options *opt, struct host **ret)
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
	h->restart_units = h->is_tree && opt && opt->restart_units;
	if (h->is_tree && opt && opt->faults) {
		int r = host_set_faults(h, opt->faults);
		if (r < 0) {
			host_free(h);
			return r;
		}
	}
	*ret = h;
	return 0;
}

int host_open(const char *root, struct host **ret)
{
	return host_open_ex(root, NULL, ret);
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

int host_read_sysfs(const struct host *h, const char *path, char **ret)
{
	char file[PATH_MAX], why[256], *buf;
	int r;

	if (!path || action_sysfs_path_check(path, why, sizeof(why)) < 0)
		return -EINVAL;
	r = util_path(file, sizeof(file), "sys/%s", path);
	if (r < 0)
		return r;
	r = host_read(h, file, &buf, NULL);
	if (r < 0)
		return r;
	*ret = action_sysfs_value(buf);
	free(buf);
	return *ret ? 0 : -ENOMEM;
}

int host_read_irqbalance(const struct host *h, const char *target, char **ret)
{
	const char *path;
	char *buf = NULL, why[256];
	size_t len;
	int r;

	r = irqbalance_find(h, &path);
	if (r >= 0)
		r = host_read(h, path, &buf, &len);
	if (r >= 0)
		r = irqbalance_value(buf, len, target, ret, why, sizeof(why));
	free(buf);
	return r;
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

const char *host_cpumask_path(enum host_cpumask which)
{
	switch (which) {
	case HOST_CPUMASK_IRQ_DEFAULT:
		return "proc/irq/default_smp_affinity";
	case HOST_CPUMASK_WORKQUEUE:
		return "sys/devices/virtual/workqueue/cpumask";
	}
	return NULL;
}

int host_read_cpumask(const struct host *h, enum host_cpumask which, struct cpuset *ret)
{
	const char *path = host_cpumask_path(which);
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
