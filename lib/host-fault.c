/* Fault injection into a tree's writes, for tests and for rehearsing
 * failures: the faults given when the host is opened (host_options.faults)
 * or set later (host_set_faults), and the errno a write to a target gets. */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host-internal.h"
#include "isolated/action.h"
#include "isolated/cgroup.h"
#include "isolated/irqbalance.h"
#include "isolated/host.h"
#include "isolated/util.h"

struct host_fault {
	char *target; /* "irq/151", "tid/2205/sched", "kernel.numa_balancing", ... */
	int err;      /* positive errno */
};

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
		return !slash || strcmp(slash, "/affinity") == 0 || strcmp(slash, "/sched") == 0 ||
		       strcmp(slash, "/cgroup") == 0;
	}
	if (strncmp(t, "cpumask/", 8) == 0)
		return strcmp(t + 8, "irq_default") == 0 || strcmp(t + 8, "workqueue") == 0;
	if (action_sysfs_path(t))
		return action_sysfs_path_check(action_sysfs_path(t), path, sizeof(path)) == 0;
	if (irqbalance_target_valid(t))
		return true;
	if (cgroup_target_rel(t)) {
		bool dir;
		return cgroup_target_check(t, &dir, path, sizeof(path)) == 0;
	}
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
int host_fault(const struct host *h, const char *target)
{
	if (!h->is_tree)
		return 0;
	for (size_t i = h->n_faults; i-- > 0;)
		if (strcmp(h->faults[i].target, target) == 0)
			return -h->faults[i].err;
	return 0;
}

int host_fault_irq(const struct host *h, unsigned irq)
{
	char t[32];

	snprintf(t, sizeof(t), "irq/%u", irq);
	return host_fault(h, t);
}

int host_fault_cpumask(const struct host *h, enum host_cpumask which)
{
	return host_fault(h, which == HOST_CPUMASK_IRQ_DEFAULT ? "cpumask/irq_default" : "cpumask/workqueue");
}

int host_fault_thread(const struct host *h, pid_t tid, const char *what)
{
	char t[64];
	int r;

	snprintf(t, sizeof(t), "tid/%d/%s", (int)tid, what);
	r = host_fault(h, t);
	if (r < 0)
		return r;
	snprintf(t, sizeof(t), "tid/%d", (int)tid);
	return host_fault(h, t);
}
