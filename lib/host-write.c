/* The write side of the seam: every change isolated makes to a host, its
 * arguments checked alike for both backends and a fault injected into a
 * tree's write honoured (host-fault.c), then made by the kernel's own
 * interfaces -- one write() to /proc or /sys, sched_setaffinity(),
 * sched_setscheduler() -- or, on a tree, by the emulator (host-tree.c). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/magic.h>
#include <sys/vfs.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-daemon.h>

#include "host-internal.h"
#include "isolated/action.h"
#include "isolated/host.h"
#include "isolated/irqbalance.h"
#include "isolated/util.h"

/* The kernel takes a /proc or /sys value in one write(); a short one means
 * it did not take all of it. */
static int write_once(int fd, const char *value)
{
	size_t len = strlen(value);
	ssize_t n;

	do
		n = write(fd, value, len);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : (size_t)n != len ? -EIO : 0;
}

static int kernel_write(const struct host *h, const char *path, const char *value)
{
	int fd, r;

	fd = openat(h->root_fd, path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	r = write_once(fd, value);
	if (close(fd) < 0 && r == 0 && errno != EINTR)
		r = -errno;
	return r;
}

/* value and a newline, as kernel_write writes it. */
static int kernel_write_line(const struct host *h, const char *path, const char *value)
{
	char *line = util_sprintf("%s\n", value);
	int r;

	if (!line)
		return -ENOMEM;
	r = kernel_write(h, path, line);
	free(line);
	return r;
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

int host_write_sysctl(struct host *h, const char *name, const char *value)
{
	char path[PATH_MAX];
	int r;

	r = host_sysctl_path(name, path, sizeof(path));
	if (r < 0)
		return r;
	/* One value, one line: a newline inside would be a second write. */
	if (strchr(value, '\n'))
		return -EINVAL;
	r = host_fault(h, name);
	if (r < 0)
		return r;
	if (h->is_tree)
		return host_tree_write_sysctl(h, path, value);
	return kernel_write_line(h, path, value);
}

/* sysfs on the running kernel: the file opened as every read of the host
 * opens it, and on sysfs, or nothing is written. */
static int kernel_write_sysfs(const struct host *h, const char *path, const char *value)
{
	char *line = util_sprintf("%s\n", value);
	struct statfs sfs;
	int fd, r;

	if (!line)
		return -ENOMEM;
	fd = host_openat(h, path, O_WRONLY | O_CLOEXEC | O_NOCTTY, 0);
	if (fd < 0) {
		free(line);
		return fd;
	}
	r = fstatfs(fd, &sfs) < 0 || sfs.f_type != SYSFS_MAGIC ? -EXDEV : write_once(fd, line);
	close(fd);
	free(line);
	return r;
}

int host_write_sysfs(struct host *h, const char *path, const char *value)
{
	char file[PATH_MAX], why[256], *target;
	int r;

	if (action_sysfs_path_check(path, why, sizeof(why)) < 0 || strchr(value, '\n'))
		return -EINVAL;
	r = util_path(file, sizeof(file), "sys/%s", path);
	if (r < 0)
		return r;
	target = action_sysfs_target(path);
	if (!target)
		return -ENOMEM;
	r = host_fault(h, target);
	free(target);
	if (r < 0)
		return r;
	if (h->is_tree)
		return host_tree_write_sysfs(h, file, value);
	return kernel_write_sysfs(h, file, value);
}

/* irqbalance reads its defaults file when it starts: restarted by systemd,
 * if it runs (TryRestartUnit starts nothing that is stopped), the one way
 * isolated has to make a daemon take a change. No systemd, no restart:
 * irqbalance started another way is its starter's to restart. */
static int restart_irqbalance(struct host *h)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus *bus = NULL;
	int r;

	if (sd_booted() <= 0)
		return 0;
	r = sd_bus_open_system(&bus);
	if (r >= 0)
		r = sd_bus_call_method(bus, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
				       "org.freedesktop.systemd1.Manager", "TryRestartUnit", &e, NULL, "ss",
				       IRQBALANCE_UNIT, "replace");
	/* Not installed as a unit, or masked: nothing runs it. */
	if (r < 0 && (sd_bus_error_has_name(&e, "org.freedesktop.systemd1.NoSuchUnit") ||
		      sd_bus_error_has_name(&e, "org.freedesktop.systemd1.UnitMasked")))
		r = 0;
	if (r < 0)
		util_set_err(h->irqbalance_err, sizeof(h->irqbalance_err), "restarting %s: %s", IRQBALANCE_UNIT,
			     e.message ? e.message : strerror(-r));
	sd_bus_error_free(&e);
	sd_bus_flush_close_unref(bus);
	return r < 0 ? r : 0;
}

int host_write_irqbalance(struct host *h, const char *target, const char *value)
{
	int r;

	h->irqbalance_err[0] = '\0';
	if (!irqbalance_target_valid(target) || strchr(value, '\n'))
		return -EINVAL;
	r = host_fault(h, target);
	if (r < 0)
		return r;
	r = irqbalance_write(h, target, value, h->irqbalance_err, sizeof(h->irqbalance_err));
	if (r >= 0 && (!h->is_tree || h->restart_units))
		h->irqbalance_pending = true;
	return r;
}

int host_restart_irqbalance(struct host *h)
{
	if (!h->irqbalance_pending)
		return 0;
	h->irqbalance_pending = false;
	h->irqbalance_err[0] = '\0';
	return restart_irqbalance(h);
}

const char *host_irqbalance_error(const struct host *h)
{
	return h->irqbalance_err[0] ? h->irqbalance_err : NULL;
}

int host_write_irq_affinity(struct host *h, unsigned irq, const struct cpuset *cpus)
{
	char path[PATH_MAX], *list;
	int r;

	r = host_fault_irq(h, irq);
	if (r < 0)
		return r;
	if (h->is_tree)
		return host_tree_write_irq_affinity(h, irq, cpus);
	r = util_path(path, sizeof(path), "proc/irq/%u/smp_affinity_list", irq);
	if (r < 0)
		return r;
	r = cpuset_format_list(cpus, &list);
	if (r < 0)
		return r;
	r = kernel_write_line(h, path, list);
	free(list);
	return r;
}

int host_write_cpumask(struct host *h, enum host_cpumask which, const struct cpuset *cpus)
{
	const char *path = host_cpumask_path(which);
	char *mask;
	int r;

	if (!path)
		return -EINVAL;
	r = host_fault_cpumask(h, which);
	if (r < 0)
		return r;
	if (h->is_tree)
		return host_tree_write_cpumask(h, path, cpus);
	/* The kernel takes a mask of any width. */
	r = cpuset_format_mask(cpus, 0, &mask);
	if (r < 0)
		return r;
	r = kernel_write_line(h, path, mask);
	free(mask);
	return r;
}

int host_set_thread_affinity(struct host *h, pid_t tgid, pid_t tid, const struct cpuset *cpus)
{
	int r;

	/* tid 0 would be the caller itself. */
	if (tid <= 0 || tgid <= 0)
		return -EINVAL;
	r = host_fault_thread(h, tid, "affinity");
	if (r < 0)
		return r;
	if (h->is_tree)
		return host_tree_set_thread_affinity(h, tgid, tid, cpus);
	return kernel_thread_affinity(tid, cpus);
}

int host_set_thread_sched(struct host *h, pid_t tgid, pid_t tid, int policy, int prio)
{
	struct sched_param sp = {.sched_priority = prio};
	int r;

	if (tid <= 0 || tgid <= 0)
		return -EINVAL;
	r = host_fault_thread(h, tid, "sched");
	if (r < 0)
		return r;
	if (h->is_tree)
		return host_tree_set_thread_sched(h, tgid, tid, policy, prio);
	return sched_setscheduler(tid, policy, &sp) < 0 ? -errno : 0;
}
