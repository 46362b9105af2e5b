/* Unit tests of the tree emulator. On copies of the kvm16 tree: every
 * write changes exactly the bytes the kernel would show, writing the old
 * value back restores the tree byte for byte, the kernel's refusals (and
 * faults) change nothing, masks keep their width, and a snapshot reads
 * back what was written. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <ftw.h>
#include <sched.h>
#include <cmocka.h>

#include "host-trees.h"

/* Every file of a tree, to compare a tree before and after, byte by byte. */
struct file_img {
	char *path; /* relative to the tree */
	char *data;
	size_t len;
	mode_t mode;
};

struct tree_img {
	struct file_img *v;
	size_t n, cap;
};

static struct tree_img *img_cur; /* for nftw, which takes no context */
static size_t img_rootlen;

static int img_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	struct file_img *f;

	(void)ftw;
	if (type != FTW_F)
		return 0;
	if (img_cur->n == img_cur->cap) {
		img_cur->cap = img_cur->cap ? img_cur->cap * 2 : 1024;
		img_cur->v = realloc(img_cur->v, img_cur->cap * sizeof(*img_cur->v));
		assert_non_null(img_cur->v);
	}
	f = &img_cur->v[img_cur->n++];
	f->path = strdup(path + img_rootlen + 1);
	assert_non_null(f->path);
	f->mode = st->st_mode;
	assert_int_equal(util_read_at(AT_FDCWD, path, 1 << 24, &f->data, &f->len), 0);
	return 0;
}

static int cmp_file(const void *a, const void *b)
{
	return strcmp(((const struct file_img *)a)->path, ((const struct file_img *)b)->path);
}

static struct tree_img img_take(const char *root)
{
	struct tree_img img = {0};

	img_cur = &img;
	img_rootlen = strlen(root);
	assert_int_equal(nftw(root, img_one, 16, FTW_PHYS), 0);
	img_cur = NULL;
	qsort(img.v, img.n, sizeof(*img.v), cmp_file);
	return img;
}

static void img_free(struct tree_img *img)
{
	for (size_t i = 0; i < img->n; i++) {
		free(img->v[i].path);
		free(img->v[i].data);
	}
	free(img->v);
}

static const struct file_img *img_get(const struct tree_img *img, const char *path)
{
	for (size_t i = 0; i < img->n; i++)
		if (strcmp(img->v[i].path, path) == 0)
			return &img->v[i];
	return NULL;
}

/* The paths that differ (content, mode, presence), space-separated, sorted. */
static char *img_diff(const struct tree_img *a, const struct tree_img *b)
{
	char *out = strdup("");
	size_t i = 0, j = 0;

	assert_non_null(out);
	while (i < a->n || j < b->n) {
		const char *p;
		int c = i == a->n ? 1 : j == b->n ? -1 : strcmp(a->v[i].path, b->v[j].path);
		if (c == 0) {
			const struct file_img *x = &a->v[i++], *y = &b->v[j++];
			if (x->len == y->len && x->mode == y->mode && memcmp(x->data, y->data, x->len) == 0)
				continue;
			p = x->path;
		} else {
			p = c < 0 ? a->v[i++].path : b->v[j++].path;
		}
		char *n = util_sprintf("%s%s%s", out, out[0] ? " " : "", p);
		assert_non_null(n);
		free(out);
		out = n;
	}
	return out;
}

static void assert_tree_unchanged(const struct tree_img *before, const char *root, const char *what)
{
	struct tree_img after = img_take(root);
	char *d = img_diff(before, &after);

	if (d[0])
		fail_msg("%s: changed %s", what, d);
	free(d);
	img_free(&after);
}

/* ---- One write, as data ---- */

enum wkind { W_SYSCTL, W_IRQ, W_CPUMASK, W_AFFINITY, W_SCHED };

struct wop {
	enum wkind kind;
	const char *name;  /* sysctl */
	const char *value; /* sysctl value, or a cpu list */
	unsigned irq;
	enum host_cpumask mask;
	pid_t tgid, tid;
	int policy, prio;
};

static int do_write(struct host *h, const struct wop *op)
{
	struct cpuset s = CPUSET_INIT;
	int r = -EINVAL;

	if (op->kind != W_SYSCTL && op->kind != W_SCHED)
		s = cpus_of(op->value);
	switch (op->kind) {
	case W_SYSCTL:
		r = host_write_sysctl(h, op->name, op->value);
		break;
	case W_IRQ:
		r = host_write_irq_affinity(h, op->irq, &s);
		break;
	case W_CPUMASK:
		r = host_write_cpumask(h, op->mask, &s);
		break;
	case W_AFFINITY:
		r = host_set_thread_affinity(h, op->tgid, op->tid, &s);
		break;
	case W_SCHED:
		r = host_set_thread_sched(h, op->tgid, op->tid, op->policy, op->prio);
		break;
	}
	cpuset_free(&s);
	return r;
}

#define SYSCTL(n, v)                                                                                                   \
	{                                                                                                              \
		W_SYSCTL, n, v, 0, 0, 0, 0, 0, 0                                                                       \
	}
#define IRQ(i, v)                                                                                                      \
	{                                                                                                              \
		W_IRQ, NULL, v, i, 0, 0, 0, 0, 0                                                                       \
	}
#define MASK(m, v)                                                                                                     \
	{                                                                                                              \
		W_CPUMASK, NULL, v, 0, m, 0, 0, 0, 0                                                                   \
	}
#define AFFINITY(g, t, v)                                                                                              \
	{                                                                                                              \
		W_AFFINITY, NULL, v, 0, 0, g, t, 0, 0                                                                  \
	}
#define SCHED(g, t, p, q)                                                                                              \
	{                                                                                                              \
		W_SCHED, NULL, NULL, 0, 0, g, t, p, q                                                                  \
	}

/* In path, from (which must occur exactly once) becomes to. */
struct edit {
	const char *path, *from, *to;
};

struct write_case {
	const char *what;
	struct wop op, undo;
	struct edit edits[4];
};

#define ST_2205 "proc/2201/task/2205/status"

static const struct write_case write_cases[] = {
    {"sysctl",
     SYSCTL("kernel.timer_migration", "0"),
     SYSCTL("kernel.timer_migration", "1"),
     {{"proc/sys/kernel/timer_migration", "1\n", "0\n"}}},
    {"sysctl, longer value",
     SYSCTL("vm.stat_interval", "10"),
     SYSCTL("vm.stat_interval", "1"),
     {{"proc/sys/vm/stat_interval", "1\n", "10\n"}}},
    {"sysctl, a cpu list",
     SYSCTL("kernel.watchdog_cpumask", "0-5,8-15"),
     SYSCTL("kernel.watchdog_cpumask", "0-15"),
     {{"proc/sys/kernel/watchdog_cpumask", "0-15\n", "0-5,8-15\n"}}},
    {"IRQ affinity: the list and the mask",
     IRQ(133, "6-7"),
     IRQ(133, "0-15"),
     {{"proc/irq/133/smp_affinity_list", "0-15\n", "6-7\n"}, {"proc/irq/133/smp_affinity", "ffff\n", "00c0\n"}}},
    {"IRQ affinity from one CPU to many",
     IRQ(151, "0-5,8-15"),
     IRQ(151, "0"),
     {{"proc/irq/151/smp_affinity_list", "0\n", "0-5,8-15\n"}, {"proc/irq/151/smp_affinity", "0001\n", "ff3f\n"}}},
    {"default IRQ affinity",
     MASK(HOST_CPUMASK_IRQ_DEFAULT, "0-5,8-15"),
     MASK(HOST_CPUMASK_IRQ_DEFAULT, "0-15"),
     {{"proc/irq/default_smp_affinity", "ffff\n", "ff3f\n"}}},
    {"workqueue cpumask",
     MASK(HOST_CPUMASK_WORKQUEUE, "0-3"),
     MASK(HOST_CPUMASK_WORKQUEUE, "0-15"),
     {{"sys/devices/virtual/workqueue/cpumask", "ffff\n", "000f\n"}}},
    {"thread affinity",
     AFFINITY(2201, 2205, "6-7"),
     AFFINITY(2201, 2205, "0-15"),
     {{ST_2205, "Cpus_allowed:\tffff\n", "Cpus_allowed:\t00c0\n"},
      {ST_2205, "Cpus_allowed_list:\t0-15\n", "Cpus_allowed_list:\t6-7\n"}}},
    {"thread group leader's affinity, both copies",
     AFFINITY(2201, 2201, "0-5,8-15"),
     AFFINITY(2201, 2201, "0-15"),
     {{"proc/2201/task/2201/status", "Cpus_allowed:\tffff\n", "Cpus_allowed:\tff3f\n"},
      {"proc/2201/task/2201/status", "Cpus_allowed_list:\t0-15\n", "Cpus_allowed_list:\t0-5,8-15\n"},
      {"proc/2201/status", "Cpus_allowed:\tffff\n", "Cpus_allowed:\tff3f\n"},
      {"proc/2201/status", "Cpus_allowed_list:\t0-15\n", "Cpus_allowed_list:\t0-5,8-15\n"}}},
    {"FIFO 10",
     SCHED(2201, 2205, SCHED_FIFO, 10),
     SCHED(2201, 2205, SCHED_OTHER, 0),
     {{"proc/2201/task/2205/stat", " 0 0 20 0 7 0 7615 ", " 0 0 -11 0 7 0 7615 "},
      {"proc/2201/task/2205/stat", " -1 11 0 0 0 50000 ", " -1 11 10 1 0 50000 "}}},
    {"RR 99, comm with parentheses",
     SCHED(3105, 3105, SCHED_RR, 99),
     SCHED(3105, 3105, SCHED_OTHER, 0),
     {{"proc/3105/task/3105/stat", " 0 0 20 0 1 0 10315 ", " 0 0 -100 0 1 0 10315 "},
      {"proc/3105/task/3105/stat", " 17 7 0 0 0 0 0 9", " 17 7 99 2 0 0 0 9"}}},
    {"batch keeps nice 19",
     SCHED(85, 85, SCHED_BATCH, 0),
     SCHED(85, 85, SCHED_OTHER, 0),
     {{"proc/85/task/85/stat", " 17 3 0 0 0 ", " 17 3 0 3 0 "}}},
    {"idle",
     SCHED(2201, 2206, SCHED_IDLE, 0),
     SCHED(2201, 2206, SCHED_OTHER, 0),
     {{"proc/2201/task/2206/stat", " -1 2 0 0 0 51000 ", " -1 2 0 5 0 51000 "}}},
    {"FIFO 50 to other",
     SCHED(88, 88, SCHED_OTHER, 0),
     SCHED(88, 88, SCHED_FIFO, 50),
     {{"proc/88/task/88/stat", " 0 0 -51 0 1 0 42 ", " 0 0 20 0 1 0 42 "},
      {"proc/88/task/88/stat", " 17 8 50 1 0 ", " 17 8 0 0 0 "}}},
    {"a per-CPU kthread's priority can change",
     SCHED(22, 22, SCHED_FIFO, 2),
     SCHED(22, 22, SCHED_OTHER, 0),
     {{"proc/22/task/22/stat", " 0 0 20 0 1 0 25 ", " 0 0 -3 0 1 0 25 "},
      {"proc/22/task/22/stat", " 17 3 0 0 0 ", " 17 3 2 1 0 "}}},
    {"thread group leader's priority, both copies",
     SCHED(2201, 2201, SCHED_FIFO, 1),
     SCHED(2201, 2201, SCHED_OTHER, 0),
     {{"proc/2201/task/2201/stat", " 0 0 20 0 7 0 7603 ", " 0 0 -2 0 7 0 7603 "},
      {"proc/2201/task/2201/stat", " 17 15 0 0 0 ", " 17 15 1 1 0 "},
      {"proc/2201/stat", " 0 0 20 0 7 0 7603 ", " 0 0 -2 0 7 0 7603 "},
      {"proc/2201/stat", " 17 15 0 0 0 ", " 17 15 1 1 0 "}}},
};

/* before with the case's edits of path applied. */
static char *edited(const struct write_case *c, const char *path, const char *before)
{
	char *s = strdup(before);

	assert_non_null(s);
	for (size_t i = 0; i < ARRAY_SIZE(c->edits) && c->edits[i].path; i++) {
		const struct edit *e = &c->edits[i];
		if (strcmp(e->path, path) != 0)
			continue;
		char *at = strstr(s, e->from);
		if (!at || strstr(at + 1, e->from))
			fail_msg("%s: \"%s\" is not in %s exactly once", c->what, e->from, path);
		char *n = util_sprintf("%.*s%s%s", (int)(at - s), s, e->to, at + strlen(e->from));
		assert_non_null(n);
		free(s);
		s = n;
	}
	return s;
}

/* Each write changes exactly its files, into exactly the expected bytes;
 * the old value written back gives the tree it started from. */
static void test_writes(void **state)
{
	char *t = kvm16();
	struct host *h = open_tree(t);
	struct tree_img orig = img_take(t);

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(write_cases); i++) {
		const struct write_case *c = &write_cases[i];
		char **want = NULL, *got;
		int r;

		r = do_write(h, &c->op);
		if (r != 0)
			fail_msg("%s: %d (%s)", c->what, r, strerror(-r));

		struct tree_img after = img_take(t);
		for (size_t j = 0; j < ARRAY_SIZE(c->edits) && c->edits[j].path; j++) {
			const char *path = c->edits[j].path;
			const struct file_img *x = img_get(&orig, path), *y = img_get(&after, path);
			assert_non_null(x);
			assert_non_null(y);
			char *exp = edited(c, path, x->data);
			if (strcmp(exp, y->data) != 0)
				fail_msg("%s: %s is\n%s\nwant\n%s", c->what, path, y->data, exp);
			free(exp);
			assert_int_equal(x->mode, y->mode);
			if (!strv_contains(want, path))
				assert_int_equal(strv_push_dup(&want, path), 0);
		}
		/* No other file changed. */
		char **g = NULL, err[64];
		got = img_diff(&orig, &after);
		assert_int_equal(strv_split_quoted(got, &g, err, sizeof(err)), 0);
		if (strv_len(want) != strv_len(g))
			fail_msg("%s: changed [%s], want %zu files", c->what, got, strv_len(want));
		for (size_t j = 0; want && want[j]; j++)
			if (!strv_contains(g, want[j]))
				fail_msg("%s: changed [%s], not %s", c->what, got, want[j]);
		strv_free(want);
		strv_free(g);
		free(got);
		img_free(&after);

		r = do_write(h, &c->undo);
		if (r != 0)
			fail_msg("%s, undo: %d (%s)", c->what, r, strerror(-r));
		assert_tree_unchanged(&orig, t, c->what);
	}
	img_free(&orig);
	host_free(h);
	drop_tree(t);
}

/* ---- Refusals: each changes nothing ---- */

static void prep_online_0_7(const char *t)
{
	put(t, "sys/devices/system/cpu/online", "0-7\n");
}

static void prep_ro_sysctl(const char *t)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/proc/sys/kernel/osrelease", t);
	assert_int_equal(chmod(path, 0444), 0);
}

static void prep_no_status(const char *t)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/" ST_2205, t);
	assert_int_equal(unlink(path), 0);
}

static void prep_bad_leader_status(const char *t)
{
	put(t, "proc/2201/status", "Name:\tqemu-system-x86\nTgid:\t2201\nCpus_allowed:\tffff\n");
}

static void prep_bad_leader_stat(const char *t)
{
	put(t, "proc/2201/stat", "2201 (qemu-system-x86) S 1\n");
}

/* The second file of a write fails after the first was written (a tree
 * write never follows a symlink): the first must get its old bytes back. */
static void prep_leader_status_symlink(const char *t)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/proc/2201/status", t);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(symlink("task/2201/status", path), 0);
}

struct refusal_case {
	const char *what;
	const char *faults;
	void (*prep)(const char *tree);
	struct wop op;
	int r;
};

static const struct refusal_case refusals[] = {
    {"fault on an IRQ", "irq/133=EIO", NULL, IRQ(133, "6-7"), -EIO},
    {"fault as a number", "irq/133=16", NULL, IRQ(133, "6-7"), -EBUSY},
    {"fault on a thread's sched", "tid/2205/sched=EPERM", NULL, SCHED(2201, 2205, SCHED_FIFO, 10), -EPERM},
    {"fault on a thread's affinity", "tid/2205/affinity=EINVAL", NULL, AFFINITY(2201, 2205, "6-7"), -EINVAL},
    {"fault on any write to a thread: affinity", "tid/2205=ESRCH", NULL, AFFINITY(2201, 2205, "6-7"), -ESRCH},
    {"fault on any write to a thread: sched", "tid/2205=ESRCH", NULL, SCHED(2201, 2205, SCHED_FIFO, 10), -ESRCH},
    {"fault on a sysctl", "kernel.numa_balancing=EACCES", NULL, SYSCTL("kernel.numa_balancing", "0"), -EACCES},
    {"fault on the workqueue cpumask", "cpumask/workqueue=EINVAL", NULL, MASK(HOST_CPUMASK_WORKQUEUE, "0-3"), -EINVAL},
    {"fault on the default IRQ affinity", "cpumask/irq_default=ENOSPC", NULL, MASK(HOST_CPUMASK_IRQ_DEFAULT, "0-3"),
     -ENOSPC},
    {"faults separated by commas", "irq/1=EIO,kernel.timer_migration=EROFS", NULL,
     SYSCTL("kernel.timer_migration", "0"), -EROFS},
    {"the last fault of a target wins", "irq/133=EIO irq/133=ENODEV", NULL, IRQ(133, "6-7"), -ENODEV},
    {"PF_NO_SETAFFINITY", NULL, NULL, AFFINITY(22, 22, "0-3"), -EINVAL},
    {"no such thread", NULL, NULL, AFFINITY(2201, 9999, "0-3"), -ESRCH},
    {"no such thread: sched", NULL, NULL, SCHED(2201, 9999, SCHED_FIFO, 10), -ESRCH},
    {"a thread of another process", NULL, NULL, SCHED(2301, 2205, SCHED_FIFO, 10), -ESRCH},
    {"tid 0", NULL, NULL, AFFINITY(2201, 0, "0-3"), -EINVAL},
    {"no online CPU: thread", NULL, prep_online_0_7, AFFINITY(2201, 2205, "8-9"), -EINVAL},
    {"no online CPU: IRQ", NULL, prep_online_0_7, IRQ(133, "8-9"), -EINVAL},
    {"no online CPU: cpumask", NULL, prep_online_0_7, MASK(HOST_CPUMASK_WORKQUEUE, "8-9"), -EINVAL},
    {"empty set", NULL, NULL, AFFINITY(2201, 2205, ""), -EINVAL},
    {"wider than the mask: IRQ", NULL, NULL, IRQ(133, "0,16"), -EINVAL},
    {"wider than the mask: thread", NULL, NULL, AFFINITY(2201, 2205, "0,16"), -EINVAL},
    {"wider than the mask: cpumask", NULL, NULL, MASK(HOST_CPUMASK_IRQ_DEFAULT, "0-16"), -EINVAL},
    {"read-only sysctl", NULL, prep_ro_sysctl, SYSCTL("kernel.osrelease", "x"), -EACCES},
    {"no such sysctl", NULL, NULL, SYSCTL("kernel.no_such", "1"), -ENOENT},
    {"bad sysctl name", NULL, NULL, SYSCTL("../x", "1"), -EINVAL},
    {"sysctl value with a newline", NULL, NULL, SYSCTL("kernel.timer_migration", "0\n1"), -EINVAL},
    {"no such IRQ", NULL, NULL, IRQ(999, "0"), -ENOENT},
    {"status missing", NULL, prep_no_status, AFFINITY(2201, 2205, "6-7"), -ENOENT},
    {"all or nothing: leader's status", NULL, prep_bad_leader_status, AFFINITY(2201, 2201, "6-7"), -EINVAL},
    {"all or nothing: leader's stat", NULL, prep_bad_leader_stat, SCHED(2201, 2201, SCHED_FIFO, 1), -EINVAL},
    {"undone when the second file fails", NULL, prep_leader_status_symlink, AFFINITY(2201, 2201, "6-7"), -ELOOP},
    {"FIFO 0", NULL, NULL, SCHED(2201, 2205, SCHED_FIFO, 0), -EINVAL},
    {"RR 100", NULL, NULL, SCHED(2201, 2205, SCHED_RR, 100), -EINVAL},
    {"other with a priority", NULL, NULL, SCHED(2201, 2205, SCHED_OTHER, 5), -EINVAL},
    {"deadline needs sched_setattr", NULL, NULL, SCHED(2201, 2205, 6, 0), -EINVAL},
};

static void test_refusals(void **state)
{
	char *shared = kvm16();
	struct tree_img pristine = img_take(shared);

	(void)state;
	/* A refusal changes nothing, so the cases share one tree but for
	 * those that prepare theirs. */
	for (size_t i = 0; i < ARRAY_SIZE(refusals); i++) {
		const struct refusal_case *c = &refusals[i];
		char *t = c->prep ? kvm16() : shared;
		struct host *h = open_tree(t);
		struct tree_img before;

		if (c->prep)
			c->prep(t);
		before = c->prep ? img_take(t) : pristine;
		if (c->faults)
			assert_int_equal(host_set_faults(h, c->faults), 0);
		int r = do_write(h, &c->op);
		if (r != c->r)
			fail_msg("%s: got %d (%s), want %d", c->what, r, strerror(-r), c->r);
		assert_tree_unchanged(&before, t, c->what);
		host_free(h);
		if (c->prep) {
			img_free(&before);
			drop_tree(t);
		}
	}
	img_free(&pristine);
	drop_tree(shared);
}

/* ---- Hex mask widths ---- */

struct width_case {
	const char *old, *cpus, *want; /* want NULL: -EINVAL */
};

static const struct width_case widths[] = {
    {"ffff\n", "0,15", "8001\n"},
    {"00000000,0000ffff\n", "0-3", "00000000,0000000f\n"},
    {"ff,ffffffff\n", "33", "02,00000000\n"},
    {"ff,ffffffff\n", "0-39", "ff,ffffffff\n"},
    {"ff,ffffffff\n", "40", NULL},
    {"ffff\n", "16", NULL},
    {"3\n", "1", "2\n"},
    {"3\n", "4", NULL},
    {"FFFF\n", "0", "0001\n"},
    {"", "0-3,8", "10f\n"},
    {"\n", "1", "2\n"},
    {"zz\n", "0", NULL},
    {"ff,,ff\n", "0", NULL},
    {",ffff\n", "0", NULL},
    {"123456789\n", "0", NULL},
};

static void test_mask_width(void **state)
{
	char *t = kvm16();
	struct host *h = open_tree(t);

	(void)state;
	/* Online CPUs beyond any width, so that only the width decides. */
	put(t, "sys/devices/system/cpu/online", "0-127\n");
	for (size_t i = 0; i < ARRAY_SIZE(widths); i++) {
		const struct width_case *c = &widths[i];
		struct cpuset s = cpus_of(c->cpus);
		char *buf;
		size_t len;

		put(t, "proc/irq/default_smp_affinity", c->old);
		int r = host_write_cpumask(h, HOST_CPUMASK_IRQ_DEFAULT, &s);
		assert_int_equal(host_read(h, "proc/irq/default_smp_affinity", &buf, &len), 0);
		if (r != (c->want ? 0 : -EINVAL))
			fail_msg("\"%s\" <- %s: got %d", c->old, c->cpus, r);
		assert_string_equal(buf, c->want ? c->want : c->old);
		free(buf);
		cpuset_free(&s);
	}

	/* A thread's Cpus_allowed keeps its width too. */
	struct cpuset s = cpus_of("6-7");
	char *buf;
	size_t len;
	put(t, ST_2205, "Name:\tCPU 0/KVM\nTgid:\t2201\nCpus_allowed:\t00000000,0000ffff\nCpus_allowed_list:\t0-15\n");
	assert_int_equal(host_set_thread_affinity(h, 2201, 2205, &s), 0);
	assert_int_equal(host_read(h, ST_2205, &buf, &len), 0);
	assert_string_equal(
	    buf, "Name:\tCPU 0/KVM\nTgid:\t2201\nCpus_allowed:\t00000000,000000c0\nCpus_allowed_list:\t6-7\n");
	free(buf);
	cpuset_free(&s);

	host_free(h);
	drop_tree(t);
}

/* What a tree was written reads back through the single reads and the
 * snapshot, like the kernel. */
static void test_write_then_snapshot(void **state)
{
	char *t = kvm16(), err[256] = "";
	struct host *h = open_tree(t);
	struct cpuset rt = cpus_of("6-7"), hk = cpus_of("0-5,8-15");
	struct host_state *s = NULL;
	struct thread_now now;
	const struct task_info *ti;

	(void)state;
	assert_int_equal(host_write_sysctl(h, "kernel.sched_rt_runtime_us", "-1"), 0);
	assert_int_equal(host_write_irq_affinity(h, 135, &rt), 0);
	assert_int_equal(host_write_cpumask(h, HOST_CPUMASK_WORKQUEUE, &hk), 0);
	assert_int_equal(host_write_cpumask(h, HOST_CPUMASK_IRQ_DEFAULT, &hk), 0);
	assert_int_equal(host_set_thread_affinity(h, 2201, 2206, &rt), 0);
	assert_int_equal(host_set_thread_sched(h, 2201, 2206, SCHED_FIFO, 51), 0);

	assert_int_equal(host_read_thread(h, 2201, 2206, &now), 0);
	assert_cpus(&now.cpus, "6-7");
	assert_int_equal(now.policy, SCHED_FIFO);
	assert_int_equal(now.rt_priority, 51);
	assert_int_equal(now.starttime, 7618);
	cpuset_free(&now.cpus);

	if (host_snapshot(h, &s, err, sizeof(err)) < 0)
		fail_msg("host_snapshot: %s", err);
	assert_string_equal(host_state_sysctl(s, "kernel.sched_rt_runtime_us"), "-1");
	for (size_t i = 0; i < s->n_irqs; i++)
		if (s->irqs[i].irq == 135)
			assert_cpus(&s->irqs[i].affinity, "6-7");
	assert_cpus(&s->wq_cpumask, "0-5,8-15");
	assert_cpus(&s->irq_default, "0-5,8-15");
	ti = host_state_task(s, 2206);
	assert_non_null(ti);
	assert_cpus(&ti->cpus, "6-7");
	assert_int_equal(ti->policy, SCHED_FIFO);
	assert_int_equal(ti->rt_priority, 51);
	host_state_free(s);

	cpuset_free(&rt);
	cpuset_free(&hk);
	host_free(h);
	drop_tree(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_writes),
	    cmocka_unit_test(test_refusals),
	    cmocka_unit_test(test_mask_width),
	    cmocka_unit_test(test_write_then_snapshot),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
