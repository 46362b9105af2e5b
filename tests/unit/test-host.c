/* Unit tests of the host seam: a snapshot of a hand-built tree checked field
 * by field, the running kernel, dumps that must snapshot the same, and the
 * partial snapshots of the daemon's event path. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <signal.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "isolated/dump.h"
#include "isolated/host.h"
#include "isolated/snapshot.h"
#include "isolated/procfmt.h"
#include "isolated/util.h"
#include "tree-files.h"

/* ---- tree helpers ---- */

static void symlink_in(const char *root, const char *rel, const char *target)
{
	char path[PATH_MAX];

	assert_true((size_t)snprintf(path, sizeof(path), "%s/%s", root, rel) < sizeof(path));
	assert_int_equal(symlink(target, path), 0);
}

static void unlink_in(const char *root, const char *rel)
{
	char path[PATH_MAX];

	assert_true((size_t)snprintf(path, sizeof(path), "%s/%s", root, rel) < sizeof(path));
	assert_int_equal(unlink(path), 0);
}

static char *make_tmpdir(void)
{
	char *d = strdup("/tmp/test-host.XXXXXX");

	assert_non_null(d);
	assert_non_null(mkdtemp(d));
	return d;
}

/* A thread in proc/PID/task/TID/: stat (52 fields), status, comm. */
struct fake_task {
	int pid, tid, ppid;
	const char *comm; /* NULL: no comm file, the stat's comm is used */
	const char *stat_comm;
	unsigned long flags;
	int processor, rt_priority, policy;
	const char *cpus;
};

static void put_task(const char *root, const struct fake_task *t)
{
	char rel[256];

	snprintf(rel, sizeof(rel), "proc/%d/task/%d/stat", t->pid, t->tid);
	putf(root, rel,
	     "%d (%s) S %d %d %d 0 -1 %lu 10 0 0 0 1 2 0 0 %d 0 1 0 100 1000 10 18446744073709551615 1 1 0 0 0 0 0 0 0 "
	     "0 0 0 17 %d %d %d 0 0 0 0 0 0 0 0 0 0 0\n",
	     t->tid, t->stat_comm, t->ppid, t->pid, t->pid, t->flags, t->policy ? -1 - t->rt_priority : 20,
	     t->processor, t->rt_priority, t->policy);
	snprintf(rel, sizeof(rel), "proc/%d/task/%d/status", t->pid, t->tid);
	putf(root, rel,
	     "Name:\t%s\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t%d\nNgid:\t0\nPid:\t%d\nPPid:\t%d\n"
	     "Cpus_allowed:\tf\nCpus_allowed_list:\t%s\nMems_allowed_list:\t0\n",
	     t->stat_comm, t->pid, t->tid, t->ppid, t->cpus);
	if (t->comm) {
		snprintf(rel, sizeof(rel), "proc/%d/task/%d/comm", t->pid, t->tid);
		putf(root, rel, "%s\n", t->comm);
	}
}

static const struct fake_task fake_tasks[] = {
    {7, 7, 2, "migration/1", "migration/1", 0x04208040, 1, 99, 1, "1"},
    {100, 100, 1, "qemu-kvm", "qemu-kvm", 0x00400100, 0, 0, 0, "0-3"},
    {100, 105, 1, NULL, "CPU 0/KVM", 0x00400040, 2, 10, 1, "2"},
};

/* The tree of a 4-CPU host: see the expectations in test_tree_snapshot. */
static char *build_tree(void)
{
	char *t = make_tmpdir();

	put(t, "sys/devices/system/cpu/online", "0-3\n");
	put(t, "sys/devices/system/cpu/possible", "0-7\n");
	put(t, "proc/cmdline", "BOOT_IMAGE=/vmlinuz root=/dev/sda1 isolcpus=2-3\n");
	put(t, "proc/sys/kernel/osrelease", "6.18.0-rt3\n");
	put(t, "proc/sys/kernel/version", "#1 SMP PREEMPT_RT Thu Jan  1 00:00:00 UTC 2026\n");
	put(t, "proc/sys/kernel/timer_migration", "1\n");
	put(t, "proc/sys/kernel/sched_rt_runtime_us", "950000\n");
	put(t, "proc/sys/kernel/numa_balancing", "0\n");
	put(t, "etc/default/grub",
	    "# comment\nGRUB_CMDLINE_LINUX=\"quiet\"\nGRUB_CMDLINE_LINUX=\"$GRUB_CMDLINE_LINUX "
	    "nohz_full=2-3\"\n");

	put(t, "proc/interrupts",
	    "           CPU0       CPU1       CPU2       CPU3\n"
	    " 31:          0          5          0          0  PCI-MSIX-0000:00:03.0   1-edge      virtio2-input.0, "
	    "virtio2-output.0\n"
	    "  9:          3          0          0          0   IO-APIC   9-fasteoi   acpi\n"
	    " 30:         10         20          0          0  PCI-MSIX-0000:01:00.0   0-edge      eth1-rx-0\n"
	    "NMI:          0          0          0          0   Non-maskable interrupts\n"
	    "ERR:          0\n");
	put(t, "proc/irq/9/smp_affinity_list", "0-3\n");
	put(t, "proc/irq/9/effective_affinity_list", "0\n");
	put(t, "proc/irq/9/smp_affinity", "f\n");
	put(t, "proc/irq/9/node", "0\n");
	mkdirs(t, "proc/irq/9/acpi");
	put(t, "proc/irq/30/smp_affinity_list", "2\n");
	mkdirs(t, "proc/irq/30/eth1-rx-0");
	put(t, "proc/irq/31/effective_affinity_list", "1\n");
	put(t, "proc/irq/default_smp_affinity", "f\n");
	put(t, "sys/devices/virtual/workqueue/cpumask", "c\n");
	put(t, "proc/sys/kernel/random/boot_id", "8d0b6c2e-4f1a-4d7e-9b3a-2c5e7f901a11\n");

	/* eth1: a PCI NIC with its own msi_irqs (32 is not in /proc/interrupts). */
	put(t, "sys/class/net/eth1/device/msi_irqs/30", "msix\n");
	put(t, "sys/class/net/eth1/device/msi_irqs/32", "msix\n");
	put(t, "sys/class/net/eth1/device/config", "");
	/* eth2: virtio-net, device is a symlink to the virtio device whose
	 * parent PCI device has the msi_irqs. */
	put(t, "sys/devices/pci0000:00/0000:00:03.0/msi_irqs/31", "msix\n");
	put(t, "sys/devices/pci0000:00/0000:00:03.0/config", "");
	mkdirs(t, "sys/devices/pci0000:00/0000:00:03.0/virtio2");
	mkdirs(t, "sys/class/net/eth2");
	symlink_in(t, "sys/class/net/eth2/device", "../../../devices/pci0000:00/0000:00:03.0/virtio2");
	/* eth3: a PCI NIC without MSI behind a bridge that has them: not its IRQs. */
	put(t, "sys/devices/pci0000:00/0000:00:1c.0/msi_irqs/9", "msi\n");
	put(t, "sys/devices/pci0000:00/0000:00:1c.0/0000:02:00.0/config", "");
	mkdirs(t, "sys/class/net/eth3");
	symlink_in(t, "sys/class/net/eth3/device", "../../../devices/pci0000:00/0000:00:1c.0/0000:02:00.0");
	mkdirs(t, "sys/class/net/lo");

	/* Processes: a kernel thread, qemu with a vCPU thread, and leftovers of
	 * tasks that vanished (no task/ dir; a thread without status). */
	for (size_t i = 0; i < ARRAY_SIZE(fake_tasks); i++)
		put_task(t, &fake_tasks[i]);
	put(t, "proc/7/comm", "migration/1\n");
	put(t, "proc/7/cmdline", "");
	put(t, "proc/7/cgroup", "3:cpuset:/kt\n1:name=systemd:/\n");
	put(t, "proc/100/comm", "qemu-kvm\n");
	put_len(t, "proc/100/cmdline", "qemu\0-name\0guest=vm1\0", 21);
	put(t, "proc/100/cgroup", "1:name=systemd:/machine.slice\n0::/machine.slice/vm1.scope\n");
	static const struct fake_task gone = {100, 106, 1, "gone", "gone", 0, 0, 0, 0, "0"};
	put_task(t, &gone);
	unlink_in(t, "proc/100/task/106/status");
	put(t, "proc/50/comm", "exited\n");
	mkdirs(t, "proc/self");
	mkdirs(t, "proc/sys/fs");
	return t;
}

/* ---- comparisons ---- */

static void assert_str_or_null(const char *a, const char *b)
{
	if (!a || !b)
		assert_ptr_equal(a, b);
	else
		assert_string_equal(a, b);
}

static void assert_cpus(const struct cpuset *s, const char *want)
{
	char *l = NULL;

	assert_int_equal(cpuset_format_list(s, &l), 0);
	assert_string_equal(l, want);
	free(l);
}

static void assert_strv_equal(char **a, char **b)
{
	assert_int_equal(strv_len(a), strv_len(b));
	for (size_t i = 0; a && a[i]; i++)
		assert_string_equal(a[i], b[i]);
}

static void assert_irqs_equal(const struct host_state *a, const struct host_state *b)
{
	assert_int_equal(a->n_irqs, b->n_irqs);
	for (size_t i = 0; i < a->n_irqs; i++) {
		const struct irq_info *x = &a->irqs[i], *y = &b->irqs[i];
		assert_int_equal(x->irq, y->irq);
		assert_string_equal(x->chip, y->chip);
		assert_string_equal(x->hwirq, y->hwirq);
		assert_strv_equal(x->actions, y->actions);
		assert_str_or_null(x->nic, y->nic);
		assert_int_equal(x->has_affinity, y->has_affinity);
		assert_int_equal(x->has_effective, y->has_effective);
		assert_true(cpuset_equal(&x->affinity, &y->affinity));
		assert_true(cpuset_equal(&x->effective, &y->effective));
	}
}

static void assert_task_equal(const struct task_info *x, const struct task_info *y)
{
	assert_int_equal(x->tid, y->tid);
	assert_int_equal(x->tgid, y->tgid);
	assert_int_equal(x->ppid, y->ppid);
	assert_string_equal(x->comm, y->comm);
	assert_string_equal(x->proc_comm, y->proc_comm);
	assert_string_equal(x->cmdline, y->cmdline);
	assert_string_equal(x->cgroup, y->cgroup);
	assert_int_equal(x->flags, y->flags);
	assert_int_equal(x->kthread, y->kthread);
	assert_int_equal(x->no_setaffinity, y->no_setaffinity);
	assert_true(cpuset_equal(&x->cpus, &y->cpus));
	assert_int_equal(x->policy, y->policy);
	assert_int_equal(x->rt_priority, y->rt_priority);
}

/* Everything but IRQs and tasks. */
static void assert_system_equal(const struct host_state *a, const struct host_state *b)
{
	assert_true(cpuset_equal(&a->online, &b->online));
	assert_true(cpuset_equal(&a->possible, &b->possible));
	assert_string_equal(a->cmdline, b->cmdline);
	assert_string_equal(a->osrelease, b->osrelease);
	assert_string_equal(a->kversion, b->kversion);
	assert_int_equal(a->preempt_rt, b->preempt_rt);
	assert_int_equal(a->has_grub, b->has_grub);
	assert_str_or_null(a->grub_cmdline_linux, b->grub_cmdline_linux);
	assert_str_or_null(a->grub_cmdline_linux_default, b->grub_cmdline_linux_default);
	assert_str_or_null(a->boot_id, b->boot_id);
	assert_int_equal(a->has_irq_default, b->has_irq_default);
	assert_true(cpuset_equal(&a->irq_default, &b->irq_default));
	assert_int_equal(a->has_wq_cpumask, b->has_wq_cpumask);
	assert_true(cpuset_equal(&a->wq_cpumask, &b->wq_cpumask));
	assert_int_equal(a->n_sysctls, b->n_sysctls);
	for (size_t i = 0; i < a->n_sysctls; i++) {
		assert_string_equal(a->sysctls[i].name, b->sysctls[i].name);
		assert_str_or_null(a->sysctls[i].value, b->sysctls[i].value);
	}
}

static struct host_state *snapshot_of(const char *root)
{
	struct host *h = NULL;
	struct host_state *s = NULL;
	char err[512] = "";
	int r;

	assert_int_equal(host_open(root, &h), 0);
	r = host_snapshot(h, &s, err, sizeof(err));
	if (r < 0)
		fail_msg("host_snapshot(%s): %d %s", root ? root : "/", r, err);
	host_free(h);
	return s;
}

/* ---- tests ---- */

struct irq_expect {
	unsigned irq;
	const char *chip, *hwirq, *actions[3], *nic, *affinity, *effective; /* NULL: has_* false */
};

static const struct irq_expect tree_irqs[] = {
    {9, "IO-APIC", "9-fasteoi", {"acpi", NULL}, NULL, "0-3", "0"},
    {30, "PCI-MSIX-0000:01:00.0", "0-edge", {"eth1-rx-0", NULL}, "eth1", "2", NULL},
    {31, "PCI-MSIX-0000:00:03.0", "1-edge", {"virtio2-input.0", "virtio2-output.0", NULL}, "eth2", NULL, "1"},
};

struct task_expect {
	pid_t tid, tgid, ppid;
	const char *comm, *proc_comm, *cmdline, *cgroup;
	unsigned long flags;
	bool kthread, no_setaffinity;
	const char *cpus;
	int policy, rt_priority;
};

static const struct task_expect tree_tasks[] = {
    {7, 7, 2, "migration/1", "migration/1", "", "/kt", 0x04208040, true, true, "1", 1, 99},
    {100, 100, 1, "qemu-kvm", "qemu-kvm", "qemu -name guest=vm1", "/machine.slice/vm1.scope", 0x00400100, false, false,
     "0-3", 0, 0},
    {105, 100, 1, "CPU 0/KVM", "qemu-kvm", "qemu -name guest=vm1", "/machine.slice/vm1.scope", 0x00400040, false, false,
     "2", 1, 10},
};

static void check_tree_state(const struct host_state *s)
{
	assert_cpus(&s->online, "0-3");
	assert_cpus(&s->possible, "0-7");
	assert_string_equal(s->cmdline, "BOOT_IMAGE=/vmlinuz root=/dev/sda1 isolcpus=2-3");
	assert_string_equal(s->osrelease, "6.18.0-rt3");
	assert_string_equal(s->kversion, "#1 SMP PREEMPT_RT Thu Jan  1 00:00:00 UTC 2026");
	assert_true(s->preempt_rt);
	assert_true(s->has_grub);
	assert_string_equal(s->grub_cmdline_linux, "quiet nohz_full=2-3");
	assert_null(s->grub_cmdline_linux_default);
	assert_string_equal(s->boot_id, "8d0b6c2e-4f1a-4d7e-9b3a-2c5e7f901a11");
	assert_true(s->has_irq_default);
	assert_cpus(&s->irq_default, "0-3");
	assert_true(s->has_wq_cpumask);
	assert_cpus(&s->wq_cpumask, "2-3");

	assert_int_equal(s->n_sysctls, 5);
	assert_string_equal(host_state_sysctl(s, "kernel.timer_migration"), "1");
	assert_string_equal(host_state_sysctl(s, "kernel.sched_rt_runtime_us"), "950000");
	assert_null(host_state_sysctl(s, "kernel.sched_rt_period_us"));
	assert_string_equal(host_state_sysctl(s, "kernel.numa_balancing"), "0");
	assert_null(host_state_sysctl(s, "net.core.rtnet_prio"));
	assert_null(host_state_sysctl(s, "kernel.no_such"));

	assert_int_equal(s->n_irqs, ARRAY_SIZE(tree_irqs));
	for (size_t i = 0; i < s->n_irqs; i++) {
		const struct irq_info *q = &s->irqs[i];
		const struct irq_expect *e = &tree_irqs[i];
		assert_int_equal(q->irq, e->irq);
		assert_string_equal(q->chip, e->chip);
		assert_string_equal(q->hwirq, e->hwirq);
		assert_int_equal(strv_len(q->actions), strv_len((char **)e->actions));
		for (size_t j = 0; e->actions[j]; j++)
			assert_string_equal(q->actions[j], e->actions[j]);
		assert_str_or_null(q->nic, e->nic);
		assert_int_equal(q->has_affinity, e->affinity != NULL);
		if (e->affinity)
			assert_cpus(&q->affinity, e->affinity);
		assert_int_equal(q->has_effective, e->effective != NULL);
		assert_cpus(&q->effective, e->effective ? e->effective : "");
	}

	assert_int_equal(s->n_tasks, ARRAY_SIZE(tree_tasks));
	for (size_t i = 0; i < s->n_tasks; i++) {
		const struct task_info *t = &s->tasks[i];
		const struct task_expect *e = &tree_tasks[i];
		assert_int_equal(t->tid, e->tid);
		assert_int_equal(t->tgid, e->tgid);
		assert_int_equal(t->ppid, e->ppid);
		assert_string_equal(t->comm, e->comm);
		assert_string_equal(t->proc_comm, e->proc_comm);
		assert_string_equal(t->cmdline, e->cmdline);
		assert_string_equal(t->cgroup, e->cgroup);
		assert_int_equal(t->flags, e->flags);
		assert_int_equal(t->kthread, e->kthread);
		assert_int_equal(t->no_setaffinity, e->no_setaffinity);
		assert_cpus(&t->cpus, e->cpus);
		assert_int_equal(t->policy, e->policy);
		assert_int_equal(t->rt_priority, e->rt_priority);
		assert_ptr_equal(host_state_task(s, t->tid), t);
	}
	assert_null(host_state_task(s, 106));
	assert_null(host_state_task(s, 50));
	assert_null(host_state_task(s, 1));
}

static void test_tree_snapshot(void **state)
{
	char *t = build_tree();
	struct host_state *s;

	(void)state;
	s = snapshot_of(t);
	check_tree_state(s);
	host_state_free(s);
	rm_rf(t);
	free(t);
}

/* A dump of a tree snapshots exactly like the tree (the virtio msi_irqs
 * are flattened into device/msi_irqs), and carries the extra files. */
static void test_tree_dump(void **state)
{
	char *t = build_tree(), *d = make_tmpdir(), dump[PATH_MAX], err[512] = "", *buf;
	struct host *h = NULL, *hd = NULL;
	struct host_state *s;
	size_t len;
	int r;

	(void)state;
	snprintf(dump, sizeof(dump), "%s/a/b", d);
	assert_int_equal(host_open(t, &h), 0);
	r = host_dump(h, dump, err, sizeof(err));
	if (r < 0)
		fail_msg("host_dump: %d %s", r, err);
	s = snapshot_of(dump);
	check_tree_state(s);
	host_state_free(s);

	assert_int_equal(host_open(dump, &hd), 0);
	assert_true(hd->is_tree);
	assert_int_equal(host_read(hd, "sys/class/net/eth2/device/msi_irqs/31", &buf, &len), 0);
	assert_int_equal(len, 0);
	free(buf);
	assert_int_equal(host_read(hd, "sys/class/net/eth3/device/msi_irqs/9", &buf, &len), -ENOENT);
	assert_int_equal(host_read(hd, "proc/irq/9/smp_affinity", &buf, &len), 0);
	assert_string_equal(buf, "f\n");
	free(buf);
	assert_int_equal(host_read(hd, "proc/irq/default_smp_affinity", &buf, &len), 0);
	free(buf);
	assert_int_equal(host_read(hd, "proc/100/cmdline", &buf, &len), 0);
	assert_int_equal(len, 21);
	assert_memory_equal(buf, "qemu\0-name\0guest=vm1\0", 21);
	free(buf);
	/* proc/interrupts, read in chunks, is copied as it is. */
	{
		char *orig;
		size_t olen;

		assert_int_equal(host_read(h, "proc/interrupts", &orig, &olen), 0);
		assert_int_equal(host_read(hd, "proc/interrupts", &buf, &len), 0);
		assert_int_equal(len, olen);
		assert_memory_equal(buf, orig, len);
		free(orig);
		free(buf);
	}
	/* node is not read by the snapshot: not copied */
	assert_int_equal(host_read(hd, "proc/irq/9/node", &buf, &len), -ENOENT);
	/* An empty run/, where the journal of the dump will live. */
	struct stat st;
	assert_int_equal(fstatat(hd->root_fd, "run", &st, 0), 0);
	assert_true(S_ISDIR(st.st_mode));
	host_free(hd);

	/* Not empty now. */
	err[0] = '\0';
	assert_int_equal(host_dump(h, dump, err, sizeof(err)), -ENOTEMPTY);
	assert_non_null(strstr(err, dump));

	host_free(h);
	rm_rf(t);
	rm_rf(d);
	free(t);
	free(d);
}

struct bad_tree_case {
	const char *file, *content;
	int r;
};

static const struct bad_tree_case bad_trees[] = {
    {"proc/100/task/105/stat", "105 (x) S 1", -EINVAL},
    {"proc/100/task/105/status", "Name:\tx\nTgid:\t100\n", -EINVAL},
    {"proc/100/task/105/status", "Name:\tx\nTgid:\t100\nCpus_allowed_list:\t0-x\n", -EINVAL},
    {"proc/irq/30/smp_affinity_list", "zz\n", -EINVAL},
    {"sys/devices/system/cpu/online", "q\n", -EINVAL},
    {"proc/interrupts", "no header here\n", -EINVAL},
    {"etc/default/grub", "GRUB_CMDLINE_LINUX=\"open\n", -EINVAL},
    {"proc/irq/default_smp_affinity", "f,g\n", -EINVAL},
    {"sys/devices/virtual/workqueue/cpumask", "0-3\n", -EINVAL},
};

/* Malformed files fail the snapshot with a message naming the file. */
static void test_tree_bad(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad_trees); i++) {
		char *t = build_tree(), err[512] = "";
		struct host_state *s = (void *)0x1;
		struct host *h = NULL;

		put(t, bad_trees[i].file, bad_trees[i].content);
		assert_int_equal(host_open(t, &h), 0);
		assert_int_equal(host_snapshot(h, &s, err, sizeof(err)), bad_trees[i].r);
		assert_ptr_equal(s, (void *)0x1);
		if (!strstr(err, bad_trees[i].file))
			fail_msg("case %zu: message '%s' does not name %s", i, err, bad_trees[i].file);
		host_free(h);
		rm_rf(t);
		free(t);
	}
}

/* Files as large as the kernel can make them are read; one byte more is
 * refused with a message naming the file (read_limits in host.c); a line of
 * proc/interrupts longer than any kernel prints likewise (procfmt.h). */
struct limit_case {
	const char *file;
	size_t len;	 /* the file: head, then fill up to len */
	const char *head;
	char fill;
	int r;
	const char *msg; /* in the message after the file's name */
};

static const struct limit_case limit_cases[] = {
    {"proc/100/cmdline", 6u << 20, "qemu", '\0', 0, NULL},
    {"proc/100/cmdline", (8u << 20) + 1, "qemu", '\0', -EFBIG, "File too large"},
    {"proc/100/task/105/stat", 4097, "105 (x) S 1 ", '0', -EFBIG, "File too large"},
    {"proc/100/task/105/comm", 4097, "", 'c', -EFBIG, "File too large"},
    {"proc/100/task/105/status", (1u << 20) + (256u << 10) + 1, "Name:\tx\nTgid:\t100\nGroups:\t", '1', -EFBIG,
     "File too large"},
    {"proc/interrupts", PROCFMT_INTERRUPTS_LINE_MAX + 12, "  CPU0\n 9: ", '7', -E2BIG, ":2: a line longer than"},
};

static void test_tree_limits(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(limit_cases); i++) {
		const struct limit_case *c = &limit_cases[i];
		char *t = build_tree(), *buf = malloc(c->len), err[512] = "";
		size_t n = strlen(c->head);
		struct host_state *s = NULL;
		struct host *h = NULL;

		assert_non_null(buf);
		memcpy(buf, c->head, n);
		memset(buf + n, c->fill, c->len - n);
		put_len(t, c->file, buf, c->len);
		assert_int_equal(host_open(t, &h), 0);
		assert_int_equal(host_snapshot(h, &s, err, sizeof(err)), c->r);
		if (c->r == 0) {
			assert_string_equal(host_state_task(s, 105)->cmdline, "qemu");
			host_state_free(s);
		} else if (!strstr(err, c->file) || !strstr(strstr(err, c->file), c->msg)) {
			fail_msg("case %zu: message '%s' does not name %s with '%s'", i, err, c->file, c->msg);
		}
		host_free(h);
		rm_rf(t);
		free(t);
		free(buf);
	}
}

/* Required files missing; optional ones missing are fine. */
static void test_tree_missing(void **state)
{
	char *t = build_tree(), err[512] = "";
	struct host_state *s = NULL;
	struct host *h = NULL;

	(void)state;
	unlink_in(t, "sys/devices/system/cpu/possible");
	unlink_in(t, "etc/default/grub");
	unlink_in(t, "proc/sys/kernel/version");
	unlink_in(t, "proc/irq/9/effective_affinity_list");
	unlink_in(t, "proc/sys/kernel/random/boot_id");
	unlink_in(t, "proc/irq/default_smp_affinity");
	unlink_in(t, "sys/devices/virtual/workqueue/cpumask");
	s = snapshot_of(t);
	assert_null(s->boot_id);
	assert_false(s->has_irq_default);
	assert_false(s->has_wq_cpumask);
	assert_cpus(&s->possible, "0-3");
	assert_false(s->has_grub);
	assert_null(s->grub_cmdline_linux);
	assert_string_equal(s->kversion, "");
	assert_false(s->preempt_rt);
	assert_false(s->irqs[0].has_effective);
	host_state_free(s);

	put(t, "sys/kernel/realtime", "1\n");
	s = snapshot_of(t);
	assert_true(s->preempt_rt);
	host_state_free(s);

	unlink_in(t, "proc/cmdline");
	assert_int_equal(host_open(t, &h), 0);
	s = (void *)0x1;
	assert_int_equal(host_snapshot(h, &s, err, sizeof(err)), -ENOENT);
	assert_ptr_equal(s, (void *)0x1);
	assert_non_null(strstr(err, "proc/cmdline"));
	host_free(h);
	rm_rf(t);
	free(t);
}

struct sysctl_case {
	const char *name;
	int r;
	const char *path;
};

static const struct sysctl_case sysctl_cases[] = {
    {"kernel.timer_migration", 0, "proc/sys/kernel/timer_migration"},
    {"net.ipv4.conf.eth0-1.rp_filter", 0, "proc/sys/net/ipv4/conf/eth0-1/rp_filter"},
    {"vm.stat_interval", 0, "proc/sys/vm/stat_interval"},
    {"", -EINVAL, NULL},
    {"../x", -EINVAL, NULL},
    {"a/b", -EINVAL, NULL},
    {"a..b", -EINVAL, NULL},
    {".kernel", -EINVAL, NULL},
    {"kernel.", -EINVAL, NULL},
    {"Kernel.x", -EINVAL, NULL},
    {"kernel x", -EINVAL, NULL},
    {"kernel.x\n", -EINVAL, NULL},
};

static void test_sysctl_path(void **state)
{
	char buf[64];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(sysctl_cases); i++) {
		int r = host_sysctl_path(sysctl_cases[i].name, buf, sizeof(buf));
		if (r != sysctl_cases[i].r)
			fail_msg("'%s': got %d, want %d", sysctl_cases[i].name, r, sysctl_cases[i].r);
		if (r == 0)
			assert_string_equal(buf, sysctl_cases[i].path);
	}
	assert_int_equal(host_sysctl_path("kernel.timer_migration", buf, 20), -ENAMETOOLONG);
}

static void test_read(void **state)
{
	char *t = build_tree(), *v = NULL;
	struct host *h = NULL;
	size_t len;

	(void)state;
	assert_int_equal(host_open(t, &h), 0);
	assert_true(h->is_tree);
	assert_string_equal(h->root_path, t);
	assert_int_equal(host_read_sysctl(h, "kernel.sched_rt_runtime_us", &v), 0);
	assert_string_equal(v, "950000");
	free(v);
	assert_int_equal(host_read_sysctl(h, "kernel.sched_rt_period_us", &v), -ENOENT);
	assert_int_equal(host_read_sysctl(h, "../etc/passwd", &v), -EINVAL);
	assert_int_equal(host_read(h, "proc/cmdline", &v, &len), 0);
	assert_int_equal(len, strlen(v));
	free(v);
	assert_int_equal(host_read(h, "/etc/passwd", &v, &len), -EINVAL);
	host_free(h);

	assert_int_equal(host_open("/nonexistent/dir", &h), -ENOENT);
	rm_rf(t);
	free(t);
}

/* A child of ours, named "iso-child", paused until killed: the snapshot
 * leaves out the process taking it (isoctl itself), so tests look at this. */
static pid_t start_child(void)
{
	int p[2];
	char c;
	pid_t pid;

	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		prctl(PR_SET_NAME, "iso-child");
		if (write(p[1], "x", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	assert_int_equal(read(p[0], &c, 1), 1);
	close(p[0]);
	close(p[1]);
	return pid;
}

static void stop_child(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/* The running kernel: facts that hold on any Linux machine. */
static void test_real(void **state)
{
	pid_t child = start_child();
	struct host_state *s = snapshot_of(NULL);
	const struct task_info *me;

	(void)state;
	assert_false(cpuset_empty(&s->online));
	assert_true(cpuset_subset(&s->online, &s->possible));
	assert_true(s->cmdline[0] != '\0');
	assert_true(s->osrelease[0] != '\0');
	assert_non_null(s->boot_id);
	assert_int_equal(strlen(s->boot_id), 36); /* a UUID, newline stripped */
	assert_non_null(host_state_sysctl(s, "kernel.sched_rt_runtime_us"));
	assert_true(s->n_tasks > 1);
	for (size_t i = 1; i < s->n_tasks; i++)
		assert_true(s->tasks[i - 1].tgid < s->tasks[i].tgid ||
			    (s->tasks[i - 1].tgid == s->tasks[i].tgid && s->tasks[i - 1].tid < s->tasks[i].tid));
	for (size_t i = 1; i < s->n_irqs; i++)
		assert_true(s->irqs[i - 1].irq < s->irqs[i].irq);

	/* The process taking the snapshot is not part of it. */
	assert_null(host_state_task(s, getpid()));
	me = host_state_task(s, child);
	assert_non_null(me);
	assert_int_equal(me->tgid, child);
	assert_int_equal(me->ppid, getpid());
	assert_string_equal(me->comm, "iso-child");
	assert_string_equal(me->proc_comm, "iso-child");
	assert_non_null(strstr(me->cmdline, "test-host"));
	assert_false(me->kthread);
	assert_false(cpuset_empty(&me->cpus));
	stop_child(child);

	/* kthreadd, when visible, is a kernel thread with an empty cmdline. */
	const struct task_info *kt = host_state_task(s, 2);
	if (kt && strcmp(kt->comm, "kthreadd") == 0) {
		assert_true(kt->kthread);
		assert_string_equal(kt->cmdline, "");
	}
	host_state_free(s);
}

/* Dump the running kernel; the dump snapshots like the kernel for what
 * does not change in between: system files, IRQs, our own process. */
static void test_real_dump(void **state)
{
	char *d = make_tmpdir(), err[512] = "";
	struct host *h = NULL;
	struct host_state *a, *b;
	int r;

	pid_t child = start_child();

	(void)state;
	a = snapshot_of(NULL);
	assert_int_equal(host_open(NULL, &h), 0);
	assert_false(h->is_tree);
	r = host_dump(h, d, err, sizeof(err));
	if (r < 0)
		fail_msg("host_dump: %d %s", r, err);
	host_free(h);
	b = snapshot_of(d);

	assert_system_equal(a, b);
	assert_irqs_equal(a, b);
	size_t na = 0, nb = 0;
	for (size_t i = 0; i < a->n_tasks; i++)
		if (a->tasks[i].tgid == child) {
			const struct task_info *t = host_state_task(b, a->tasks[i].tid);
			assert_non_null(t);
			assert_task_equal(&a->tasks[i], t);
			na++;
		}
	for (size_t i = 0; i < b->n_tasks; i++)
		nb += b->tasks[i].tgid == child;
	assert_int_equal(na, nb);
	assert_true(na >= 1);
	/* kthreadd and init outlive the test */
	for (pid_t pid = 1; pid <= 2; pid++) {
		const struct task_info *x = host_state_task(a, pid), *y = host_state_task(b, pid);
		if (x) {
			assert_non_null(y);
			assert_string_equal(x->comm, y->comm);
			assert_string_equal(x->cmdline, y->cmdline);
			assert_int_equal(x->flags & HOST_PF_KTHREAD, y->flags & HOST_PF_KTHREAD);
		}
	}
	stop_child(child);
	host_state_free(a);
	host_state_free(b);
	rm_rf(d);
	free(d);
}

/* ---- partial snapshots ---- */

#define FIXTURES TEST_DATADIR "/../fixtures"

/* A copy of a fixture tree, in memory when there is a tmpfs. */
static char *copy_fixture(const char *name)
{
	const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	char *d = util_sprintf("%s/test-host.XXXXXX", base), cmd[PATH_MAX * 2 + 32];

	assert_non_null(d);
	assert_non_null(mkdtemp(d));
	snprintf(cmd, sizeof(cmd), "cp -a '%s/%s/.' '%s/'", FIXTURES, name, d);
	assert_int_equal(system(cmd), 0);
	return d;
}

struct want_task {
	pid_t tid, tgid;
	bool context_only;
	const char *comm;
};

static void assert_tasks(const struct host_state *s, const struct want_task *want, size_t n)
{
	for (size_t i = 0; i < s->n_tasks && i < n; i++) {
		const struct task_info *t = &s->tasks[i];

		if (t->tid != want[i].tid || t->tgid != want[i].tgid || t->context_only != want[i].context_only)
			fail_msg("task %zu: tid %d tgid %d context %d, want tid %d tgid %d context %d", i, (int)t->tid,
				 (int)t->tgid, t->context_only, (int)want[i].tid, (int)want[i].tgid,
				 want[i].context_only);
		assert_string_equal(t->comm, want[i].comm);
		/* host_state_task's bisection needs the order */
		assert_ptr_equal(host_state_task(s, t->tid), t);
	}
	assert_int_equal(s->n_tasks, n);
}

static struct host_state *partial_of(const struct host *h, const struct host_state *base, const struct thread_ref *refs,
				     size_t n, bool ancestors)
{
	struct host_state *s = NULL;
	char err[512] = "x";
	int r;

	r = host_snapshot_threads(h, base, refs, n, ancestors, &s, err, sizeof(err));
	if (r < 0)
		fail_msg("host_snapshot_threads: %d %s", r, err);
	assert_string_equal(err, "");
	assert_true(s->borrowed);
	return s;
}

/* kvm16: the threads asked for, fully read, and the context rules need:
 * leaders, the QEMU a vhost worker serves, ancestors on request. */
static void test_partial_tree(void **state)
{
	char *t = copy_fixture("kvm16"), path[PATH_MAX];
	struct host *h = NULL;
	struct host_state *base, *s;
	const struct task_info *x;
	char err[256];

	(void)state;
	assert_int_equal(host_open(t, &h), 0);
	base = snapshot_of(t);
	/* be2's vCPU 2405 exits after the base snapshot */
	snprintf(path, sizeof(path), "%s/proc/2401/task/2405", t);
	rm_rf(path);

	const struct thread_ref refs[] = {
	    {2201, 2205}, /* CPU 0/KVM of rtvm */
	    {2207, 2207}, /* vhost-2201, a kernel thread on 6.1 */
	    {2201, 2205}, /* asked twice */
	    {2401, 2405}, /* gone */
	    {2301, 2399}, /* never was */
	    {5555, 5555}, /* no such process */
	};
	s = partial_of(h, base, refs, ARRAY_SIZE(refs), false);
	const struct want_task plain[] = {
	    {2201, 2201, true, "qemu-system-x86"},
	    {2205, 2201, false, "CPU 0/KVM"},
	    {2207, 2207, false, "vhost-2201"},
	};
	assert_tasks(s, plain, ARRAY_SIZE(plain));

	/* The threads asked for read as host_snapshot reads them. */
	assert_task_equal(host_state_task(s, 2205), host_state_task(base, 2205));
	assert_task_equal(host_state_task(s, 2207), host_state_task(base, 2207));
	assert_int_equal(host_state_task(s, 2205)->starttime, host_state_task(base, 2205)->starttime);
	/* Context: stat and the process's files; no status (cpus empty). */
	x = host_state_task(s, 2201);
	assert_non_null(strstr(x->cmdline, "guest=rtvm"));
	assert_string_equal(x->proc_comm, "qemu-system-x86");
	assert_int_equal(x->ppid, 1);
	assert_int_equal(x->starttime, host_state_task(base, 2201)->starttime);
	assert_true(cpuset_empty(&x->cpus));

	/* Everything else is base's own memory, not a copy. */
	assert_ptr_equal(s->irqs, base->irqs);
	assert_ptr_equal(s->sysctls, base->sysctls);
	assert_ptr_equal(s->online.w, base->online.w);
	assert_ptr_equal(s->cmdline, base->cmdline);
	assert_ptr_equal(s->boot_id, base->boot_id);
	assert_int_equal(s->n_irqs, base->n_irqs);
	assert_false(base->borrowed);
	host_state_free(s);
	/* base is whole after its partial is gone (ASan: no double free) */
	assert_non_null(base->irqs[0].chip);
	assert_true(cpuset_count(&base->online) == 16);

	/* With ancestors: the leaders' ppid chain up to 1 (2201 -> 1;
	 * vhost-2201 -> kthreadd 2). Pid 1 asked for outright is no context. */
	s = partial_of(h, base, refs, 2, true);
	const struct want_task anc[] = {
	    {1, 1, true, "systemd"},	      {2, 2, true, "kthreadd"},		 {2201, 2201, true, "qemu-system-x86"},
	    {2205, 2201, false, "CPU 0/KVM"}, {2207, 2207, false, "vhost-2201"},
	};
	assert_tasks(s, anc, ARRAY_SIZE(anc));
	/* rtvm's QEMU is a vhost owner: its cmdline is there; the ancestors
	 * are read from stat alone. */
	assert_non_null(strstr(host_state_task(s, 2201)->cmdline, "guest=rtvm"));
	assert_string_equal(host_state_task(s, 1)->cmdline, "");
	assert_string_equal(host_state_task(s, 1)->proc_comm, "systemd");
	assert_int_equal(host_state_task(s, 1)->ppid, 0);
	host_state_free(s);

	const struct thread_ref leader_too[] = {{2201, 2201}, {1, 1}, {2201, 2206}};
	s = partial_of(h, base, leader_too, ARRAY_SIZE(leader_too), true);
	const struct want_task lt[] = {
	    {1, 1, false, "systemd"},
	    {2201, 2201, false, "qemu-system-x86"},
	    {2206, 2201, false, "CPU 1/KVM"},
	};
	assert_tasks(s, lt, ARRAY_SIZE(lt));
	host_state_free(s);

	/* Nothing left: an empty snapshot, not an error. */
	s = partial_of(h, base, refs + 3, 3, true);
	assert_int_equal(s->n_tasks, 0);
	host_state_free(s);

	/* A partial of a partial borrows the same base. */
	{
		struct host_state *p1 = partial_of(h, base, refs, 1, false);
		struct host_state *p2 = partial_of(h, p1, refs + 1, 1, false);

		assert_ptr_equal(p2->irqs, base->irqs);
		host_state_free(p1);
		host_state_free(p2);
	}

	/* A broken stat is an error naming the file. */
	snprintf(path, sizeof(path), "proc/2301/task/2305/stat");
	put(t, path, "garbage\n");
	const struct thread_ref bad[] = {{2301, 2305}};
	err[0] = '\0';
	s = NULL;
	assert_int_equal(host_snapshot_threads(h, base, bad, 1, false, &s, err, sizeof(err)), -EINVAL);
	assert_null(s);
	assert_non_null(strstr(err, "proc/2301/task/2305/stat"));
	const struct thread_ref zero[] = {{0, 2305}};
	assert_int_equal(host_snapshot_threads(h, base, zero, 1, false, &s, err, sizeof(err)), -EINVAL);

	host_state_free(base);
	host_free(h);
	rm_rf(t);
	free(t);
}

/* ---- lean snapshots (host_snapshot_ex, host_snapshot_add) ---- */

static struct host_state *snapshot_needs(const struct host *h, const struct host_needs *n)
{
	struct host_state *s = NULL;
	char err[512] = "";
	int r = host_snapshot_ex(h, n, &s, err, sizeof(err));

	if (r < 0)
		fail_msg("host_snapshot_ex: %d %s", r, err);
	return s;
}

/* Only what is asked for is read; what is read is what host_snapshot
 * reads; the rest is NULL or empty, and have says so. */
static void test_snapshot_needs(void **state)
{
	char *t = copy_fixture("kvm16"), *cg = NULL;
	struct host *h = NULL;
	struct host_state *full, *s;

	(void)state;
	assert_int_equal(host_open(t, &h), 0);
	full = snapshot_of(t);
	assert_int_equal(full->have.tasks, HOST_TASK_ALL);
	assert_int_equal(full->have.irqs, HOST_IRQ_ALL);
	assert_true(full->have.boot_id);
	assert_int_equal(full->tasks[0].have, HOST_TASK_ALL);

	/* the system's files alone */
	s = snapshot_needs(h, &(struct host_needs){0});
	assert_int_equal(s->n_tasks, 0);
	assert_int_equal(s->n_irqs, 0);
	assert_null(s->boot_id);
	assert_false(host_state_has(s, &(struct host_needs){.boot_id = true}));
	assert_true(host_state_has(s, &(struct host_needs){0}));
	assert_int_equal(host_snapshot_add(h, s, &(struct host_needs){.boot_id = true}, NULL, 0), 0);
	assert_system_equal(s, full);
	/* ... then everything added: host_snapshot's */
	assert_int_equal(host_snapshot_add(h, s, &host_needs_all, NULL, 0), 0);
	assert_true(host_state_has(s, &host_needs_all));
	assert_string_equal(s->boot_id, full->boot_id);
	assert_int_equal(s->n_tasks, full->n_tasks);
	assert_int_equal(s->n_irqs, full->n_irqs);
	for (size_t i = 0; i < s->n_tasks; i++)
		assert_task_equal(&s->tasks[i], &full->tasks[i]);
	host_state_free(s);

	/* stat alone: the same tasks, in the same order */
	s = snapshot_needs(h, &(struct host_needs){.tasks = HOST_TASK_STAT});
	assert_int_equal(s->n_tasks, full->n_tasks);
	assert_int_equal(s->have.tasks, HOST_TASK_STAT);
	for (size_t i = 0; i < s->n_tasks; i++) {
		const struct task_info *x = &s->tasks[i], *y = &full->tasks[i];

		assert_int_equal(x->have, HOST_TASK_STAT);
		assert_int_equal(x->tid, y->tid);
		assert_int_equal(x->tgid, y->tgid);
		assert_int_equal(x->ppid, y->ppid);
		assert_int_equal(x->starttime, y->starttime);
		assert_int_equal(x->policy, y->policy);
		assert_int_equal(x->flags, y->flags);
		assert_non_null(x->comm); /* stat's */
		assert_null(x->proc_comm);
		assert_null(x->cmdline);
		assert_null(x->cgroup);
		assert_true(cpuset_empty(&x->cpus));
	}
	host_state_free(s);

	/* CPUs and cmdline: those as host_snapshot has them */
	s = snapshot_needs(h, &(struct host_needs){.tasks = HOST_TASK_CPUS | HOST_TASK_CMDLINE});
	assert_int_equal(s->n_tasks, full->n_tasks);
	for (size_t i = 0; i < s->n_tasks; i++) {
		assert_true(cpuset_equal(&s->tasks[i].cpus, &full->tasks[i].cpus));
		assert_string_equal(s->tasks[i].cmdline, full->tasks[i].cmdline);
		assert_null(s->tasks[i].cgroup);
	}
	host_state_free(s);

	/* IRQs listed: numbers and chips of proc/interrupts, nothing of proc/irq/N */
	s = snapshot_needs(h, &(struct host_needs){.irqs = HOST_IRQ_LIST});
	assert_int_equal(s->n_irqs, full->n_irqs);
	assert_int_equal(s->n_tasks, 0);
	for (size_t i = 0; i < s->n_irqs; i++) {
		assert_int_equal(s->irqs[i].irq, full->irqs[i].irq);
		assert_string_equal(s->irqs[i].chip, full->irqs[i].chip);
		assert_false(s->irqs[i].has_affinity);
		assert_null(s->irqs[i].nic);
	}
	/* ... and in full when added */
	assert_int_equal(host_snapshot_add(h, s, &(struct host_needs){.irqs = HOST_IRQ_ALL}, NULL, 0), 0);
	for (size_t i = 0; i < s->n_irqs; i++)
		assert_int_equal(s->irqs[i].has_affinity, full->irqs[i].has_affinity);
	host_state_free(s);

	assert_int_equal(host_read_cgroup(h, 2201, &cg), 0);
	assert_string_equal(cg, host_state_task(full, 2201)->cgroup);
	free(cg);
	assert_int_equal(host_read_cgroup(h, 5555, &cg), -ENOENT);
	assert_int_equal(host_read_cgroup(h, 0, &cg), -EINVAL);
	host_state_free(full);
	host_free(h);
	rm_rf(t);
	free(t);
}

/* The running kernel: CPUs by sched_getaffinity() are what each task's
 * status file shows (when every possible CPU is online). */
static void test_real_affinity(void **state)
{
	struct host *h = NULL;
	struct host_state *s;
	size_t compared = 0;

	(void)state;
	assert_int_equal(host_open(NULL, &h), 0);
	s = snapshot_needs(h, &(struct host_needs){.tasks = HOST_TASK_STAT | HOST_TASK_CPUS});
	for (size_t i = 0; i < s->n_tasks && compared < 200; i++) {
		const struct task_info *t = &s->tasks[i];
		struct cpuset cpus = CPUSET_INIT;
		char path[64], *buf = NULL, msg[128];
		struct proc_status ss = {0};
		size_t len;

		snprintf(path, sizeof(path), "proc/%d/task/%d/status", (int)t->tgid, (int)t->tid);
		if (host_read(h, path, &buf, &len) < 0)
			continue; /* exited meanwhile */
		assert_int_equal(procfmt_parse_status(buf, len, &ss), 0);
		free(buf);
		assert_int_equal(cpuset_parse_list(ss.cpus_allowed_list, &cpus, msg, sizeof(msg)), 0);
		if (!cpuset_equal(&cpus, &t->cpus))
			fail_msg("%s: status says %s", path, ss.cpus_allowed_list);
		procfmt_status_done(&ss);
		cpuset_free(&cpus);
		compared++;
	}
	assert_true(compared > 10);
	host_state_free(s);
	host_free(h);
}

/* host_read_task: one thread as host_snapshot reads it. */
static void test_read_task(void **state)
{
	char *t = copy_fixture("kvm16"), path[PATH_MAX];
	struct host_state *base = snapshot_of(t);
	struct task_info ti;
	struct host *h = NULL;

	(void)state;
	assert_int_equal(host_open(t, &h), 0);
	assert_int_equal(host_read_task(h, 2201, 2206, &ti), 0);
	assert_task_equal(&ti, host_state_task(base, 2206));
	assert_false(ti.context_only);
	host_task_done(&ti);
	assert_null(ti.comm);
	host_task_done(&ti); /* twice is fine */

	assert_int_equal(host_read_task(h, 2201, 2399, &ti), -ESRCH);
	assert_int_equal(host_read_task(h, 5555, 5555, &ti), -ESRCH);
	assert_int_equal(host_read_task(h, 0, 1, &ti), -EINVAL);
	snprintf(path, sizeof(path), "%s/proc/2201/task/2206/status", t);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(host_read_task(h, 2201, 2206, &ti), -ESRCH);

	host_state_free(base);
	host_free(h);
	rm_rf(t);
	free(t);
}

/* A thread of ours, named "iso-thread", blocked until released. */
struct our_thread {
	pthread_t th;
	int ready[2], release[2];
	pid_t tid;
};

static void *thread_main(void *arg)
{
	struct our_thread *o = arg;
	char c;

	prctl(PR_SET_NAME, "iso-thread");
	o->tid = gettid();
	if (write(o->ready[1], "x", 1) != 1)
		return NULL;
	(void)!read(o->release[0], &c, 1);
	return NULL;
}

static void start_thread(struct our_thread *o)
{
	char c;

	assert_int_equal(pipe(o->ready), 0);
	assert_int_equal(pipe(o->release), 0);
	assert_int_equal(pthread_create(&o->th, NULL, thread_main, o), 0);
	assert_int_equal(read(o->ready[0], &c, 1), 1);
}

static void stop_thread(struct our_thread *o)
{
	assert_int_equal(write(o->release[1], "x", 1), 1);
	assert_int_equal(pthread_join(o->th, NULL), 0);
	/* pthread_join returns when the kernel clears the thread's tid, which
	 * is before the thread is released: /proc/self/task/TID may still be
	 * there for a moment. Wait until it is gone (an exiting thread still
	 * exists, and a snapshot rightly reads it). */
	{
		char path[64];

		snprintf(path, sizeof(path), "/proc/self/task/%d", (int)o->tid);
		for (int i = 0; i < 5000 && access(path, F_OK) == 0; i++)
			usleep(1000);
		assert_int_not_equal(access(path, F_OK), 0);
	}
	for (int i = 0; i < 2; i++) {
		close(o->ready[i]);
		close(o->release[i]);
	}
}

static double cpu_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* The running kernel: a thread this test starts, its leader (this
 * process) and its ancestors; then what one call costs. */
static void test_partial_real(void **state)
{
	struct our_thread o;
	struct host *h = NULL;
	struct host_state *base, *s;
	const struct task_info *x;

	(void)state;
	start_thread(&o);
	assert_int_equal(host_open(NULL, &h), 0);
	base = snapshot_of(NULL);
	const struct thread_ref ref = {getpid(), o.tid};

	s = partial_of(h, base, &ref, 1, false);
	assert_int_equal(s->n_tasks, 2);
	x = host_state_task(s, o.tid);
	assert_non_null(x);
	assert_string_equal(x->comm, "iso-thread");
	assert_int_equal(x->tgid, getpid());
	assert_false(x->context_only);
	assert_false(cpuset_empty(&x->cpus));
	assert_non_null(strstr(x->cmdline, "test-host"));
	x = host_state_task(s, getpid());
	assert_non_null(x);
	assert_true(x->context_only);
	assert_int_equal(x->ppid, getppid());
	host_state_free(s);

	s = partial_of(h, base, &ref, 1, true);
	/* every leader's parent is there, down to init */
	for (size_t i = 0; i < s->n_tasks; i++) {
		x = &s->tasks[i];
		if (x->tid == x->tgid && x->ppid > 0)
			assert_non_null(host_state_task(s, x->ppid));
	}
	x = host_state_task(s, 1);
	assert_non_null(x);
	assert_true(x->context_only);
	host_state_free(s);

	/* Benchmark (printed, not asserted): CPU time of one call. */
	for (int anc = 0; anc <= 1; anc++) {
		const int n = 2000;
		double t0 = cpu_usec();

		for (int i = 0; i < n; i++) {
			s = partial_of(h, base, &ref, 1, anc);
			host_state_free(s);
		}
		printf("# host_snapshot_threads, 1 thread of a running process%s: %.1f us CPU per call\n",
		       anc ? ", with ancestors" : "", (cpu_usec() - t0) / n);
	}

	stop_thread(&o);
	/* The thread is gone: skipped. */
	s = partial_of(h, base, &ref, 1, false);
	assert_null(host_state_task(s, o.tid));
	host_state_free(s);
	host_state_free(base);
	host_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tree_snapshot), cmocka_unit_test(test_tree_dump),
	    cmocka_unit_test(test_tree_bad),	  cmocka_unit_test(test_tree_limits),
	    cmocka_unit_test(test_tree_missing),  cmocka_unit_test(test_sysctl_path),
	    cmocka_unit_test(test_read),	  cmocka_unit_test(test_real),
	    cmocka_unit_test(test_real_dump),	  cmocka_unit_test(test_partial_tree),
	    cmocka_unit_test(test_read_task),	  cmocka_unit_test(test_snapshot_needs),
	    cmocka_unit_test(test_real_affinity), cmocka_unit_test(test_partial_real),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
