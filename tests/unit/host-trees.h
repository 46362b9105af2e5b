/* The trees the unit tests of the host seam share (test-host, -snapshot,
 * -snapshot-threads, -dump, -host-tree, -host-fault, -host-write): a
 * hand-built 4-CPU tree and what its snapshot must hold, copies of the
 * fixtures, and comparisons. Test-only; include after cmocka.h. */
#ifndef TEST_HOST_TREES_H
#define TEST_HOST_TREES_H

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "isolated/host.h"
#include "isolated/snapshot.h"
#include "isolated/util.h"
#include "tree-files.h"

#define FIXTURES TEST_DATADIR "/../fixtures"

/* ---- Copies of the fixtures ---- */

/* Copying a 2000-file tree takes seconds on some disks and milliseconds in
 * memory: a tmpfs when there is one. */
static inline const char *tmp_base(void)
{
	const char *t = getenv("TMPDIR");

	if (t && *t)
		return t;
	return access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
}

static inline char *copy_tree(const char *name)
{
	char *d = util_sprintf("%s/test-hostwrite.XXXXXX", tmp_base()), cmd[PATH_MAX * 2 + 32];

	assert_non_null(d);
	assert_non_null(mkdtemp(d));
	snprintf(cmd, sizeof(cmd), "cp -a '%s/%s/.' '%s/'", FIXTURES, name, d);
	assert_int_equal(system(cmd), 0);
	return d;
}

/* kvm16, with proc/2201/{stat,status} as the kernel also shows them for a
 * thread group leader: writes to thread 2201 must change both copies. */
static inline char *kvm16(void)
{
	char *t = copy_tree("kvm16"), *buf;
	int dfd = open(t, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	size_t len;

	assert_true(dfd >= 0);
	assert_int_equal(util_read_at(dfd, "proc/2201/task/2201/stat", 1 << 20, &buf, &len), 0);
	put_len(t, "proc/2201/stat", buf, len);
	free(buf);
	assert_int_equal(util_read_at(dfd, "proc/2201/task/2201/status", 1 << 20, &buf, &len), 0);
	put_len(t, "proc/2201/status", buf, len);
	free(buf);
	close(dfd);
	return t;
}

static inline void drop_tree(char *t)
{
	rm_rf(t);
	free(t);
}

static inline struct host *open_tree(const char *t)
{
	struct host *h = NULL;

	assert_int_equal(host_open(t, &h), 0);
	assert_true(h->is_tree);
	return h;
}

static inline struct cpuset cpus_of(const char *list)
{
	struct cpuset s = CPUSET_INIT;
	char err[128];

	assert_int_equal(cpuset_parse_list(list, &s, err, sizeof(err)), 0);
	return s;
}

static inline void assert_cpus(const struct cpuset *s, const char *want)
{
	char *l = NULL;

	assert_int_equal(cpuset_format_list(s, &l), 0);
	assert_string_equal(l, want);
	free(l);
}

/* ---- The hand-built 4-CPU tree ---- */

static inline void symlink_in(const char *root, const char *rel, const char *target)
{
	char path[PATH_MAX];

	assert_true((size_t)snprintf(path, sizeof(path), "%s/%s", root, rel) < sizeof(path));
	assert_int_equal(symlink(target, path), 0);
}

static inline void unlink_in(const char *root, const char *rel)
{
	char path[PATH_MAX];

	assert_true((size_t)snprintf(path, sizeof(path), "%s/%s", root, rel) < sizeof(path));
	assert_int_equal(unlink(path), 0);
}

static inline char *make_tmpdir(void)
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

static inline void put_task(const char *root, const struct fake_task *t)
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
static inline char *build_tree(void)
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

static inline void assert_str_or_null(const char *a, const char *b)
{
	if (!a || !b)
		assert_ptr_equal(a, b);
	else
		assert_string_equal(a, b);
}

static inline void assert_strv_equal(char **a, char **b)
{
	assert_int_equal(strv_len(a), strv_len(b));
	for (size_t i = 0; a && a[i]; i++)
		assert_string_equal(a[i], b[i]);
}

static inline void assert_irqs_equal(const struct host_state *a, const struct host_state *b)
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

static inline void assert_task_equal(const struct task_info *x, const struct task_info *y)
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
static inline void assert_system_equal(const struct host_state *a, const struct host_state *b)
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

static inline struct host_state *snapshot_of(const char *root)
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

/* ---- What a snapshot of the 4-CPU tree holds ---- */

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

static inline void check_tree_state(const struct host_state *s)
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

static inline bool kernel_cpus_equal(pid_t tid, const struct cpuset *want)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	assert_int_equal(sched_getaffinity(tid, sizeof(set), &set), 0);
	for (unsigned c = 0; c < CPU_SETSIZE; c++)
		if (!!CPU_ISSET(c, &set) != cpuset_isset(want, c))
			return false;
	return true;
}

/* A child of ours, named "iso-child", paused until killed: the snapshot
 * leaves out the process taking it (isoctl itself), so tests look at this. */
static inline pid_t start_child(void)
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

static inline void stop_child(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

#endif
