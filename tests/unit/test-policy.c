/* Unit tests of the policy language: host.conf variables, every validation
 * error with its exact "FILE:LINE: message", terms, sched specs, file safety,
 * and the shipped policies loading cleanly on a 16-CPU and a 2-CPU host. */
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
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "isolated/policy.h"

#define POLICY_DIR TEST_DATADIR "/../../policies"

/* A scratch directory per test. */
struct fixture {
	char dir[PATH_MAX];
	struct cpuset online2, online16;
	struct hostconf *hc; /* test host: 2 CPUs, rt_cpus 1 */
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char *const vars[] = {"rt_cpus=1", "rt_nic=eth0", "rt_vm=rtvm", "rt_vcpus=1", "rtnet_prio=50", "empty=", NULL};
	struct diag d = {0};
	char err[128];

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/test-policy.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_int_equal(cpuset_parse_list("0-1", &f->online2, err, sizeof(err)), 0);
	assert_int_equal(cpuset_parse_list("0-15", &f->online16, err, sizeof(err)), 0);
	assert_int_equal(hostconf_from_strv(vars, &f->online2, &f->hc, &d), 0);
	assert_int_equal(d.n, 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	hostconf_free(f->hc);
	cpuset_free(&f->online2);
	cpuset_free(&f->online16);
	free(f);
	return 0;
}

static char *write_file(const struct fixture *f, const char *name, const char *text, size_t len)
{
	char *path = NULL;
	int fd;

	assert_true(asprintf(&path, "%s/%s", f->dir, name) > 0);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(fchmod(fd, 0644), 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
	return path;
}

/* Copy a file of the source tree into the scratch dir (root-owned, 0644 there
 * whoever checked the tree out), keeping its name. */
static char *copy_file(const struct fixture *f, const char *src, const char *name)
{
	FILE *in = fopen(src, "r");
	char buf[65536];
	size_t n;

	assert_non_null(in);
	n = fread(buf, 1, sizeof(buf), in);
	assert_true(n < sizeof(buf));
	fclose(in);
	return write_file(f, name, buf, n);
}

/* Compare diag lines with expected ones, "FILE" standing for path. */
static void expect_diag(const struct diag *d, const char *path, const char *const *expected)
{
	size_t n = 0;
	bool ok = true;

	while (expected[n])
		n++;
	if (d->n != n)
		ok = false;
	for (size_t i = 0; ok && i < n; i++) {
		char *want = NULL;

		assert_true(strncmp(expected[i], "FILE", 4) == 0);
		assert_true(asprintf(&want, "%s%s", path, expected[i] + 4) > 0);
		if (strcmp(want, d->lines[i]) != 0)
			ok = false;
		free(want);
	}
	if (!ok) {
		for (size_t i = 0; i < n; i++)
			print_error("expected: %s\n", expected[i]);
		for (size_t i = 0; i < d->n; i++)
			print_error("got:      %s\n", d->lines[i]);
		fail_msg("diagnostics differ for %s", path);
	}
}

/* ---- validation errors: one table, exact messages ---- */

#define MODE_VANILLA "[mode]\ntype = vanilla\n"
#define MODE_DEDICATED "[mode]\ntype = dedicated\n"
#define MODE_RT_ONLY "[mode]\ntype = rt-only\n"
#define MODE_OUTSOURCING "[mode]\ntype = outsourcing\n"
#define MAX_EXPECT 6
#define SYSFS_SUBTREES                                                                                                 \
	"(kernel/mm/transparent_hugepage, kernel/mm/ksm, devices/system/cpu/cpuN/cpufreq, "                            \
	"devices/system/cpu/cpuN/power, devices/virtual/workqueue/*, bus/workqueue/devices/*, module/*/parameters)"

struct bad_policy {
	const char *name;
	const char *text;
	const char *expected[MAX_EXPECT + 1]; /* "...-without-rtnet": host.conf lacks rtnet_prio */
};

static const struct bad_policy bad_policies[] = {
    {"unknown-section", MODE_VANILLA "[foo]\nx = 1\n", {"FILE:3: unknown section [foo]"}},
    {"unknown-key",
     MODE_VANILLA "color = red\n",
     {"FILE:3: unknown key \"color\" in [mode] (expected name, summary, type, requires, strict, scope)"}},
    {"duplicate-key", MODE_VANILLA "type = rt-only\n", {"FILE:3: duplicate key \"type\" in [mode] (first at line 2)"}},
    {"missing-type", "[mode]\nname = x\n", {"FILE:1: missing key \"type\" in [mode]"}},
    {"missing-mode", "[sysctl]\nkernel.numa_balancing = 0\n", {"FILE: missing [mode] section"}},
    {"bad-type",
     "[mode]\ntype = turbo\n",
     {"FILE:2: unknown type \"turbo\" (expected vanilla, rt-only, dedicated or outsourcing)"}},
    {"bad-mode-name",
     "[mode]\nname = my/mode\ntype = vanilla\n",
     {"FILE:2: invalid mode name \"my/mode\" (allowed: A-Z a-z 0-9 _ -)"}},
    {"bad-requires",
     "[mode]\ntype = rt-only\nrequires = preempt-rt dpdk\n",
     {"FILE:3: unknown requirement \"dpdk\" (expected preempt-rt or rtnet)"}},
    {"bad-strict",
     MODE_VANILLA "strict = maybe\n",
     {"FILE:3: invalid value \"maybe\" for strict (expected yes or no)"}},
    {"duplicate-section", MODE_VANILLA "[mode]\nname = x\n", {"FILE:3: duplicate section [mode] (first at line 1)"}},
    {"refused-sysctl",
     MODE_VANILLA "[sysctl]\nkernel.modules_disabled = 1\n",
     {"FILE:4: isolated does not set kernel.modules_disabled: it cannot be set back to 0 without a reboot, so "
      "revert could not undo it"}},
    {"refused-sysctl-program",
     MODE_VANILLA "[sysctl]\nkernel.core_pattern = |/tmp/x\n",
     {"FILE:4: isolated does not set kernel.core_pattern: it can name a program the kernel runs as root, and "
      "isolated runs no program"}},
    {"sysctl-slash-name",
     MODE_VANILLA "[sysctl]\nkernel/panic = 1\n",
     {"FILE:4: invalid sysctl name \"kernel/panic\" (expected its name under /proc/sys with dots: lower-case "
      "letters, digits, _ and -, as in vm.stat_interval)"}},
    {"sysctl-dotdot-name",
     MODE_VANILLA "[sysctl]\nkernel..panic = 1\n",
     {"FILE:4: invalid sysctl name \"kernel..panic\" (expected its name under /proc/sys with dots: lower-case "
      "letters, digits, _ and -, as in vm.stat_interval)"}},
    {"sysctl-stat-interval-zero",
     MODE_VANILLA "[sysctl]\nvm.stat_interval = 0\n",
     {"FILE:4: value 0 of vm.stat_interval out of range 1..2147483"}},
    {"sysctl-watchdog-range",
     MODE_VANILLA "[sysctl]\nkernel.nmi_watchdog = 2\n",
     {"FILE:4: value 2 of kernel.nmi_watchdog out of range 0..1"}},
    {"sysctl-not-integer",
     MODE_VANILLA "[sysctl]\nkernel.timer_migration = off\n",
     {"FILE:4: value \"off\" of kernel.timer_migration is not an integer"}},
    {"sysctl-range",
     MODE_VANILLA "[sysctl]\nkernel.timer_migration = 2\n",
     {"FILE:4: value 2 of kernel.timer_migration out of range 0..1"}},
    {"sysctl-empty",
     MODE_VANILLA "[sysctl]\nkernel.numa_balancing = ${empty}\n",
     {"FILE:4: empty value for kernel.numa_balancing (is the variable set in host.conf?)"}},
    {"unknown-cmdline-key",
     MODE_VANILLA "[cmdline]\nrequires = isolcpus=1\n",
     {"FILE:4: unknown key \"requires\" in [cmdline] (expected require, recommend)"}},
    {"cmdline-empty-value",
     MODE_VANILLA "[cmdline]\nrequire = isolcpus=${empty}\n",
     {"FILE:4: kernel parameter \"isolcpus=\" has an empty value (is the variable set in host.conf?)"}},
    {"cmdline-bad-param", MODE_VANILLA "[cmdline]\nrecommend = =1\n", {"FILE:4: invalid kernel parameter \"=1\""}},
    {"cmdline-dashdash", MODE_VANILLA "[cmdline]\nrequire = quiet --\n", {"FILE:4: invalid kernel parameter \"--\""}},
    {"unknown-variable", MODE_VANILLA "[irq a]\nmatch = nic:${nope}\n", {"FILE:4: unknown variable ${nope}"}},
    {"bad-variable-ref", MODE_VANILLA "[irq a]\nmatch = nic:${Nope}\n", {"FILE:4: invalid variable reference ${Nope}"}},
    {"unterminated-variable",
     MODE_VANILLA "[irq a]\nmatch = nic:${rt_nic\n",
     {"FILE:4: unterminated variable reference in \"nic:${rt_nic\""}},
    {"malformed-cpus",
     MODE_VANILLA "[thread a]\nmatch = *\ncpus = 1-x\n",
     {"FILE:5: invalid cpu list: unexpected 'x' at position 3 in \"1-x\""}},
    {"offline-cpu", MODE_VANILLA "[thread a]\nmatch = *\ncpus = 9\n", {"FILE:5: cpu 9 is not online (online: 0-1)"}},
    {"offline-cpus",
     MODE_VANILLA "[thread a]\nmatch = *\ncpus = 0-3\n",
     {"FILE:5: cpus 2-3 are not online (online: 0-1)"}},
    {"empty-cpus",
     MODE_VANILLA "[thread a]\nmatch = *\ncpus = ${empty}\nsched = fifo:10\n",
     {"FILE:5: empty cpu list"}},
    {"prio-zero", MODE_VANILLA "[thread a]\nmatch = *\nsched = fifo:0\n", {"FILE:5: priority 0 out of range 1..99"}},
    {"prio-100", MODE_VANILLA "[irq a]\nmatch = *\nthread = rr:100\n", {"FILE:5: priority 100 out of range 1..99"}},
    {"bad-sched",
     MODE_VANILLA "[thread a]\nmatch = *\nsched = batch\n",
     {"FILE:5: invalid scheduling \"batch\" (expected fifo:N, rr:N or other)"}},
    {"sched-no-prio",
     MODE_VANILLA "[thread a]\nmatch = *\nsched = fifo\n",
     {"FILE:5: missing priority in \"fifo\" (expected fifo:N, N in 1..99)"}},
    {"sched-bad-prio",
     MODE_VANILLA "[thread a]\nmatch = *\nsched = fifo:high\n",
     {"FILE:5: invalid priority \"high\" in \"fifo:high\""}},
    {"sched-in-irq",
     MODE_VANILLA "[irq a]\nmatch = *\nsched = fifo:10\n",
     {"FILE:5: unknown key \"sched\" in [irq a] (irq rules use \"thread\")"}},
    {"unknown-rule-key",
     MODE_VANILLA "[thread a]\nmatch = *\nnice = 5\n",
     {"FILE:5: unknown key \"nice\" in [thread a] (expected match, cpus, sched)"}},
    {"missing-match", MODE_VANILLA "[thread a]\ncpus = 0\n", {"FILE:3: missing key \"match\" in [thread a]"}},
    {"empty-match",
     MODE_VANILLA "[thread a]\nmatch = ${empty}\n",
     {"FILE:4: empty match (use \"*\" to match everything)"}},
    {"thread-term-in-irq",
     MODE_VANILLA "[irq a]\nmatch = comm:eth0\n",
     {"FILE:4: match term \"comm:eth0\" is only valid in [thread] rules"}},
    {"irq-term-in-thread",
     MODE_VANILLA "[thread a]\nmatch = nic:eth0\n",
     {"FILE:4: match term \"nic:eth0\" is only valid in [irq] rules"}},
    {"vhost-in-irq",
     MODE_VANILLA "[irq a]\nmatch = vhost\n",
     {"FILE:4: match term \"vhost\" is only valid in [thread] rules"}},
    {"unknown-term", MODE_VANILLA "[thread a]\nmatch = user:root\n", {"FILE:4: unknown match term \"user:root\""}},
    {"bare-word-term", MODE_VANILLA "[thread a]\nmatch = qemu\n", {"FILE:4: unknown match term \"qemu\""}},
    {"lone-bang", MODE_VANILLA "[thread a]\nmatch = ! comm:x\n", {"FILE:4: \"!\" must be followed by a match term"}},
    {"empty-quoted-term",
     MODE_VANILLA "[thread a]\nmatch = comm:x \"\"\n",
     {"FILE:4: empty match term \"\" (use \"*\" to match everything)"}},
    {"control-char-escaped",
     MODE_VANILLA "[sysctl]\nkernel.numa_balancing = 0\x1b[2J\n",
     {"FILE:4: value \"0\\x1b[2J\" of kernel.numa_balancing is not an integer"}},
    {"bad-kthread",
     MODE_VANILLA "[thread a]\nmatch = kthread:maybe\n",
     {"FILE:4: invalid value \"maybe\" in \"kthread:maybe\" (expected kthread:yes or kthread:no)"}},
    {"bad-vcpu-list",
     MODE_VANILLA "[thread a]\nmatch = vcpu:1-\n",
     {"FILE:4: invalid vcpu list in \"vcpu:1-\": unexpected end of \"1-\""}},
    {"unterminated-quote",
     MODE_VANILLA "[thread a]\nmatch = comm:\"CPU 1/KVM\n",
     {"FILE:4: unterminated quote in \"comm:\"CPU 1/KVM\""}},
    {"bad-rule-name",
     MODE_VANILLA "[thread a/b]\nmatch = *\n",
     {"FILE:3: invalid rule name \"a/b\" (allowed: A-Z a-z 0-9 _ . -)"}},
    {"missing-rule-name", MODE_VANILLA "[irq]\nmatch = *\n", {"FILE:3: missing rule name in [irq NAME]"}},
    {"duplicate-rule",
     MODE_VANILLA "[irq a]\nmatch = *\n[irq a]\nmatch = *\n[thread a]\nmatch = *\n",
     {"FILE:5: duplicate rule [irq a] (first at line 3)"}},
    {"key-outside-section", "type = vanilla\n" MODE_VANILLA, {"FILE:1: key \"type\" outside of any section"}},
    {"mode-with-name", "[mode x]\ntype = vanilla\n" MODE_VANILLA, {"FILE:1: section [mode] takes no name"}},
    {"syntax-no-equals", MODE_VANILLA "just words\n", {"FILE:3: expected \"key = value\", got \"just words\""}},
    {"syntax-no-bracket", MODE_VANILLA "[irq a\nmatch = *\n", {"FILE:3: missing \"]\" in section header"}},
    {"syntax-after-bracket",
     MODE_VANILLA "[irq a] extra\nmatch = *\n",
     {"FILE:3: unexpected text after \"]\": \"extra\""}},
    {"indented-key",
     MODE_VANILLA "[thread a]\nmatch = comm:x\n  cpus = 0\n",
     {"FILE:5: indented key \"cpus\": keys start in the first column (an indented line continues the previous "
      "value)"}},
    {"syntax-no-key", MODE_VANILLA "= 5\n", {"FILE:3: missing key name before \"=\""}},
    {"dedicated-rt-on-housekeeping",
     MODE_DEDICATED "[thread a]\nmatch = *\ncpus = 0-1\nsched = fifo:10\n",
     {"FILE:5: realtime rule (fifo:10) on housekeeping cpus 0: in a dedicated mode realtime work stays on "
      "rt_cpus"}},
    {"dedicated-rt-irq-on-housekeeping",
     MODE_DEDICATED "[irq a]\nmatch = *\ncpus = 0\nthread = rr:5\n",
     {"FILE:5: realtime rule (rr:5) on housekeeping cpus 0: in a dedicated mode realtime work stays on "
      "rt_cpus"}},
    {"outsourcing-without-rtnet",
     MODE_OUTSOURCING "[irq a]\nmatch = nic:eth0\nthread = fifo:60\n",
     {"FILE:2: type outsourcing requires rtnet_prio: set rtnet_prio in host.conf or net.core.rtnet_prio in "
      "[sysctl]"}},
    {"outsourcing-prio-below",
     MODE_OUTSOURCING "[irq a]\nmatch = nic:eth0\nthread = fifo:40\n",
     {"FILE:5: thread priority 40 is below rtnet_prio 50: the IRQ thread would not use the RT poll_list"}},
    {"outsourcing-prio-below-sysctl",
     MODE_OUTSOURCING "[sysctl]\nnet.core.rtnet_prio = 70\n[irq a]\nmatch = nic:eth0\nthread = fifo:60\n",
     {"FILE:7: thread priority 60 is below rtnet_prio 70: the IRQ thread would not use the RT poll_list"}},
    {"runtime-unlimited-no-cpus",
     MODE_RT_ONLY "[sysctl]\nkernel.sched_rt_runtime_us = -1\n[thread a]\nmatch = *\nsched = fifo:10\n",
     {"FILE:7: realtime sched fifo:10 without cpus while kernel.sched_rt_runtime_us = -1: a spinning RT "
      "thread would starve housekeeping work forever"}},
    {"runtime-unlimited-housekeeping",
     MODE_RT_ONLY "[sysctl]\nkernel.sched_rt_runtime_us = -1\n[thread a]\nmatch = *\ncpus = 0-1\nsched = rr:10\n",
     {"FILE:8: realtime sched rr:10 on housekeeping cpus 0 while kernel.sched_rt_runtime_us = -1: a spinning "
      "RT thread would starve housekeeping work on that CPU forever"}},
    /* [mode] scope */
    {"scope-unknown",
     MODE_VANILLA "scope = vm:rtvm\n",
     {"FILE:3: invalid scope \"vm:rtvm\" (expected host, process:PID or cgroup:PATH)"}},
    {"scope-case",
     MODE_VANILLA "scope = Host\n",
     {"FILE:3: invalid scope \"Host\" (expected host, process:PID or cgroup:PATH)"}},
    {"scope-pid-missing",
     MODE_VANILLA "scope = process:\n",
     {"FILE:3: missing pid in scope \"process:\" (expected process:PID)"}},
    {"scope-pid-zero",
     MODE_VANILLA "scope = process:0\n",
     {"FILE:3: invalid pid \"0\" in scope \"process:0\" (expected a positive number)"}},
    {"scope-pid-negative",
     MODE_VANILLA "scope = process:-5\n",
     {"FILE:3: invalid pid \"-5\" in scope \"process:-5\" (expected a positive number)"}},
    {"scope-pid-plus",
     MODE_VANILLA "scope = process:+5\n",
     {"FILE:3: invalid pid \"+5\" in scope \"process:+5\" (expected a positive number)"}},
    {"scope-pid-word",
     MODE_VANILLA "scope = process:qemu\n",
     {"FILE:3: invalid pid \"qemu\" in scope \"process:qemu\" (expected a positive number)"}},
    {"scope-pid-huge",
     MODE_VANILLA "scope = process:99999999999\n",
     {"FILE:3: invalid pid \"99999999999\" in scope \"process:99999999999\" (expected a positive number)"}},
    {"scope-cgroup-missing",
     MODE_VANILLA "scope = cgroup:\n",
     {"FILE:3: missing cgroup path in scope \"cgroup:\" (expected cgroup:/PATH)"}},
    {"scope-cgroup-relative",
     MODE_VANILLA "scope = cgroup:machine.slice\n",
     {"FILE:3: cgroup path \"machine.slice\" is not absolute (it must start with \"/\")"}},
    {"scope-cgroup-dotdot",
     MODE_VANILLA "scope = cgroup:/machine.slice/../system.slice\n",
     {"FILE:3: \"..\" in cgroup path \"/machine.slice/../system.slice\" (use the path as /proc/PID/cgroup shows "
      "it)"}},
    {"scope-cgroup-dotdot-end",
     MODE_VANILLA "scope = cgroup:/machine.slice/..\n",
     {"FILE:3: \"..\" in cgroup path \"/machine.slice/..\" (use the path as /proc/PID/cgroup shows it)"}},
    {"scope-cgroup-dot",
     MODE_VANILLA "scope = cgroup:/./machine.slice\n",
     {"FILE:3: \".\" in cgroup path \"/./machine.slice\" (use the path as /proc/PID/cgroup shows it)"}},
    {"scope-cgroup-empty-component",
     MODE_VANILLA "scope = cgroup:/machine.slice//vm\n",
     {"FILE:3: empty component in cgroup path \"/machine.slice//vm\""}},
    {"scope-cgroup-space",
     MODE_VANILLA "scope = cgroup:/my slice\n",
     {"FILE:3: invalid character in cgroup path \"/my slice\" (printable ASCII without spaces only)"}},
    {"scope-cgroup-non-ascii",
     MODE_VANILLA "scope = cgroup:/caf\xc3\xa9\n",
     {"FILE:3: invalid character in cgroup path \"/caf\xc3\xa9\" (printable ASCII without spaces only)"}},
    {"scope-variable", MODE_VANILLA "scope = process:${nope}\n", {"FILE:3: unknown variable ${nope}"}},
    {"scope-variable-empty",
     MODE_VANILLA "scope = ${empty}\n",
     {"FILE:3: invalid scope \"\" (expected host, process:PID or cgroup:PATH)"}},
    {"scope-duplicate",
     MODE_VANILLA "scope = host\nscope = process:1\n",
     {"FILE:4: duplicate key \"scope\" in [mode] (first at line 3)"}},
    /* [cpumask] */
    {"cpumask-unknown-key",
     MODE_RT_ONLY "[cpumask]\nirq = 0\n",
     {"FILE:4: unknown key \"irq\" in [cpumask] (expected irq_default, workqueue)"}},
    {"cpumask-empty", MODE_RT_ONLY "[cpumask]\nirq_default = ${empty}\n", {"FILE:4: empty cpu list"}},
    {"cpumask-offline", MODE_RT_ONLY "[cpumask]\nworkqueue = 0-3\n", {"FILE:4: cpus 2-3 are not online (online: 0-1)"}},
    {"cpumask-malformed",
     MODE_RT_ONLY "[cpumask]\nworkqueue = 1-x\n",
     {"FILE:4: invalid cpu list: unexpected 'x' at position 3 in \"1-x\""}},
    {"cpumask-variable", MODE_RT_ONLY "[cpumask]\nirq_default = ${nope}\n", {"FILE:4: unknown variable ${nope}"}},
    {"cpumask-duplicate-key",
     MODE_RT_ONLY "[cpumask]\nworkqueue = 0\nworkqueue = 1\n",
     {"FILE:5: duplicate key \"workqueue\" in [cpumask] (first at line 4)"}},
    {"cpumask-duplicate-section",
     MODE_RT_ONLY "[cpumask]\nworkqueue = 0\n[cpumask]\nirq_default = 0\n",
     {"FILE:5: duplicate section [cpumask] (first at line 3)"}},
    {"cpumask-with-name", MODE_RT_ONLY "[cpumask wq]\nworkqueue = 0\n", {"FILE:3: section [cpumask] takes no name"}},
    {"cpumask-vanilla",
     MODE_VANILLA "[cpumask]\nirq_default = 0\nworkqueue = ${rt_cpus}\n",
     {"FILE:4: irq_default in a vanilla mode: vanilla sets nothing, it restores what isolated changed",
      "FILE:5: workqueue in a vanilla mode: vanilla sets nothing, it restores what isolated changed"}},
    /* the section before [mode]: the check does not depend on the order */
    {"cpumask-before-vanilla",
     "[cpumask]\nworkqueue = 9\n" MODE_VANILLA,
     {"FILE:2: cpu 9 is not online (online: 0-1)",
      "FILE:2: workqueue in a vanilla mode: vanilla sets nothing, it restores what isolated changed"}},
    /* an unknown type is not taken for vanilla */
    {"cpumask-unknown-type",
     "[mode]\ntype = turbo\n[cpumask]\nworkqueue = 0\n",
     {"FILE:2: unknown type \"turbo\" (expected vanilla, rt-only, dedicated or outsourcing)"}},
    /* [sysfs] (rt-only: vanilla refuses the section itself) */
    {"sysfs-absolute",
     MODE_RT_ONLY "[sysfs]\n/sys/kernel/mm/ksm/run = 1\n",
     {"FILE:4: sysfs path \"/sys/kernel/mm/ksm/run\" is not relative to /sys (write kernel/mm/ksm/run, not "
      "/sys/kernel/mm/ksm/run)"}},
    {"sysfs-dotdot",
     MODE_RT_ONLY "[sysfs]\nkernel/mm/transparent_hugepage/../../../../etc/x = 1\n",
     {"FILE:4: sysfs path \"kernel/mm/transparent_hugepage/../../../../etc/x\" is not a path of names under /sys "
      "(no empty, \".\" or \"..\" component)"}},
    {"sysfs-empty-component",
     MODE_RT_ONLY "[sysfs]\nkernel/mm//ksm/run = 1\n",
     {"FILE:4: sysfs path \"kernel/mm//ksm/run\" is not a path of names under /sys (no empty, \".\" or \"..\" "
      "component)"}},
    {"sysfs-outside",
     MODE_RT_ONLY "[sysfs]\nclass/net/eth0/mtu = 9000\n",
     {"FILE:4: sysfs path \"class/net/eth0/mtu\" is not under a subtree isolated sets " SYSFS_SUBTREES}},
    {"sysfs-subtree-itself",
     MODE_RT_ONLY "[sysfs]\nkernel/mm/ksm = 1\n",
     {"FILE:4: sysfs path \"kernel/mm/ksm\" is not under a subtree isolated sets " SYSFS_SUBTREES}},
    {"sysfs-workqueue-cpumask",
     MODE_RT_ONLY "[sysfs]\ndevices/virtual/workqueue/cpumask = 1\n",
     {"FILE:4: sysfs path \"devices/virtual/workqueue/cpumask\" is not set here ([cpumask] workqueue sets it)"}},
    {"sysfs-bad-char",
     MODE_RT_ONLY "[sysfs]\nkernel/mm/ksm/run$x = 1\n",
     {"FILE:4: sysfs path \"kernel/mm/ksm/run$x\" is not a path of names under /sys (letters, digits, _ . : - "
      "and /)"}},
    {"sysfs-empty", MODE_RT_ONLY "[sysfs]\nkernel/mm/ksm/run =   \n", {"FILE:4: empty value for kernel/mm/ksm/run"}},
    {"sysfs-empty-variable",
     MODE_RT_ONLY "[sysfs]\nkernel/mm/ksm/run = ${empty}\n",
     {"FILE:4: empty value for kernel/mm/ksm/run (is the variable set in host.conf?)"}},
    {"sysfs-control",
     MODE_RT_ONLY "[sysfs]\nkernel/mm/transparent_hugepage/enabled = never\x1b[2J\n",
     {"FILE:4: value \"never\\x1b[2J\" of kernel/mm/transparent_hugepage/enabled is not a sysfs value (it has a "
      "control character)"}},
    {"sysfs-duplicate-key",
     MODE_RT_ONLY "[sysfs]\nkernel/mm/ksm/run = 0\nkernel/mm/ksm/run = 1\n",
     {"FILE:5: duplicate key \"kernel/mm/ksm/run\" in [sysfs] (first at line 4)"}},
    {"sysfs-duplicate-expanded",
     MODE_RT_ONLY "[sysfs]\ndevices/system/cpu/cpu${rt_cpus}/power/pm_qos_resume_latency_us = 0\n"
		  "devices/system/cpu/cpu0-1/power/pm_qos_resume_latency_us = n/a\n",
     {"FILE:5: devices/system/cpu/cpu1/power/pm_qos_resume_latency_us is set twice in [sysfs] (first at line 4)"}},
    {"sysfs-offline",
     MODE_RT_ONLY "[sysfs]\ndevices/system/cpu/cpu0-3/cpufreq/scaling_governor = performance\n",
     {"FILE:4: cpus 2-3 are not online (online: 0-1)"}},
    {"sysfs-bad-cpu-list",
     MODE_RT_ONLY "[sysfs]\ndevices/system/cpu/cpu1-x/cpufreq/scaling_governor = performance\n",
     {"FILE:4: invalid cpu list: unexpected 'x' at position 3 in \"1-x\""}},
    {"sysfs-expanded-outside",
     MODE_RT_ONLY "[sysfs]\ndevices/system/cpu/cpu${rt_cpus}/online = 0\n",
     {"FILE:4: sysfs path \"devices/system/cpu/cpu1/online\" is not under a subtree isolated sets " SYSFS_SUBTREES}},
    {"sysfs-unknown-variable",
     MODE_RT_ONLY "[sysfs]\ndevices/system/cpu/cpu${rt_cpu}/power/pm_qos_resume_latency_us = 0\n",
     {"FILE:4: unknown variable ${rt_cpu}"}},
    {"sysfs-vanilla",
     MODE_VANILLA "[sysfs]\nkernel/mm/ksm/run = 0\n",
     {"FILE:3: [sysfs] in a vanilla mode: vanilla sets nothing, it restores what isolated changed"}},
    {"sysfs-vanilla-and-bad",
     "[sysfs]\n/sys/x = 1\n" MODE_VANILLA,
     {"FILE:1: [sysfs] in a vanilla mode: vanilla sets nothing, it restores what isolated changed",
      "FILE:2: sysfs path \"/sys/x\" is not relative to /sys (write kernel/mm/ksm/run, not /sys/kernel/mm/ksm/run)"}},
    {"sysfs-with-name", MODE_RT_ONLY "[sysfs thp]\nkernel/mm/ksm/run = 0\n", {"FILE:3: section [sysfs] takes no name"}},
    {"sysfs-duplicate-section",
     MODE_RT_ONLY "[sysfs]\nkernel/mm/ksm/run = 0\n[sysfs]\nkernel/mm/ksm/pages_to_scan = 100\n",
     {"FILE:5: duplicate section [sysfs] (first at line 3)"}},
    /* [systemd] and [modprobe] */
    {"systemd-empty-variable", MODE_RT_ONLY "[systemd]\ncpu_affinity = ${empty}\n", {"FILE:4: empty cpu list"}},
    {"systemd-offline",
     MODE_RT_ONLY "[systemd]\ncpu_affinity = 0-3\n",
     {"FILE:4: cpus 2-3 are not online (online: 0-1)"}},
    /* the type after the section: the check does not depend on the order */
    {"systemd-dedicated-rt",
     "[systemd]\ncpu_affinity = ${online_cpus}\n" MODE_DEDICATED,
     {"FILE:2: cpu_affinity in [systemd] includes rt_cpus 1: in a dedicated mode it would put every service "
      "systemd starts on the RT CPUs"}},
    {"systemd-vanilla-empty",
     MODE_VANILLA "[systemd]\n",
     {"FILE:3: [systemd] in a vanilla mode: vanilla sets nothing, it restores what isolated changed"}},
    {"systemd-unknown-key",
     MODE_RT_ONLY "[systemd]\nCPUAffinity = 0\n",
     {"FILE:4: unknown key \"CPUAffinity\" in [systemd] (expected cpu_affinity)"}},
    {"systemd-duplicate-key",
     MODE_RT_ONLY "[systemd]\ncpu_affinity = 0\ncpu_affinity = 0-1\n",
     {"FILE:5: duplicate key \"cpu_affinity\" in [systemd] (first at line 4)"}},
    {"systemd-with-name", MODE_RT_ONLY "[systemd x]\ncpu_affinity = 0\n", {"FILE:3: section [systemd] takes no name"}},
    {"modprobe-empty-variable",
     MODE_RT_ONLY "[modprobe]\nkvm = ${empty}\n",
     {"FILE:4: empty value for module kvm in [modprobe] (is the variable set in host.conf?)"}},
    {"modprobe-empty-param-variable",
     MODE_RT_ONLY "[modprobe]\nkvm_intel = nested ple_gap=${empty}\n",
     {"FILE:4: parameter \"ple_gap=\" of module kvm_intel has an empty value (is the variable set in host.conf?)"}},
    {"modprobe-same-module",
     MODE_RT_ONLY "[modprobe]\nkvm_intel = nested=1\nkvm-intel = ple_gap=0\nkvm_amd = npt=1\nkvm-amd = avic=1\n",
     {"FILE:5: module kvm-intel is listed twice in [modprobe] (first at line 4 as kvm_intel: modprobe takes - and _ "
      "alike)",
      "FILE:7: module kvm-amd is listed twice in [modprobe] (first at line 6 as kvm_amd: modprobe takes - and _ "
      "alike)"}},
    {"modprobe-param-twice",
     MODE_RT_ONLY "[modprobe]\nkvm = a=1 b a\n",
     {"FILE:4: parameter \"a\" is given twice for module kvm"}},
    {"modprobe-param-prefix", /* "ple" is not "ple_gap" */
     MODE_RT_ONLY "[modprobe]\nkvm_intel = ple_gap=0 ple ple_gap\n",
     {"FILE:4: parameter \"ple_gap\" is given twice for module kvm_intel"}},
    {"modprobe-bad-param",
     MODE_RT_ONLY "[modprobe]\nkvm = =0 a/b=1\n",
     {"FILE:4: invalid parameter \"=0\" for module kvm (expected NAME or NAME=VALUE, NAME of A-Z a-z 0-9 _ .)",
      "FILE:4: invalid parameter \"a/b=1\" for module kvm (expected NAME or NAME=VALUE, NAME of A-Z a-z 0-9 _ .)"}},
    {"modprobe-quote-variable",
     MODE_RT_ONLY "[modprobe]\nkvm = x=${rt_vm}'\n",
     {"FILE:4: value \"x=rtvm'\" of module kvm has a quote, a backslash or a control character (modprobe.d has no "
      "quoting: a parameter's value cannot hold white space or quotes)"}},
    {"modprobe-vanilla",
     MODE_VANILLA "[modprobe]\nkvm = a\n",
     {"FILE:3: [modprobe] in a vanilla mode: vanilla sets nothing, it restores what isolated changed"}},
    {"modprobe-with-name", MODE_RT_ONLY "[modprobe kvm]\na = 1\n", {"FILE:3: section [modprobe] takes no name"}},
    {"many-errors",
     "[mode]\ntype = dedicated\ncolour = red\n[sysctl]\nvm.drop_caches = 1\n[thread a]\ncpus = 7\nsched = fifo:0\n"
     "[bogus]\n",
     {"FILE:3: unknown key \"colour\" in [mode] (expected name, summary, type, requires, strict, scope)",
      "FILE:5: isolated does not set vm.drop_caches: it is an action, not a setting: there is no value to "
      "journal and put back",
      "FILE:6: missing key \"match\" in [thread a]", "FILE:7: cpu 7 is not online (online: 0-1)",
      "FILE:8: priority 0 out of range 1..99", "FILE:9: unknown section [bogus]"}},
};

static void test_bad_policies(void **state)
{
	struct fixture *f = *state;
	char *const no_rtnet_vars[] = {"rt_cpus=1", "rt_nic=eth0", NULL};
	struct hostconf *no_rtnet = NULL;
	struct diag hd = {0};

	assert_int_equal(hostconf_from_strv(no_rtnet_vars, &f->online2, &no_rtnet, &hd), 0);
	for (size_t i = 0; i < ARRAY_SIZE(bad_policies); i++) {
		const struct bad_policy *b = &bad_policies[i];
		struct policy *p = NULL;
		struct diag d = {0};
		char name[128], *path;
		int r;

		snprintf(name, sizeof(name), "%s.conf", b->name);
		path = write_file(f, name, b->text, strlen(b->text));
		r = policy_load(path, strstr(b->name, "without-rtnet") ? no_rtnet : f->hc, &f->online2, &p, &d);
		if (r != -EINVAL)
			print_error("%s: r = %d\n", b->name, r);
		assert_int_equal(r, -EINVAL);
		assert_null(p);
		expect_diag(&d, path, b->expected);
		diag_free(&d);
		free(path);
	}
	hostconf_free(no_rtnet);
}

/* ---- whole-file refusals ---- */

static void test_long_line(void **state)
{
	struct fixture *f = *state;
	const char *exp[] = {"FILE:3: line longer than 197 characters", NULL};
	char text[512], *path;
	struct policy *p = NULL;
	struct diag d = {0};

	/* 197 characters are fine, 198 are not; the rest of the file still parses. */
	snprintf(text, sizeof(text), MODE_VANILLA "summary = %0*d\n[thread a]\nmatch = *\n", 187, 0);
	path = write_file(f, "ok-line.conf", text, strlen(text));
	assert_int_equal(policy_load(path, f->hc, &f->online2, &p, &d), 0);
	assert_int_equal(strlen(p->summary), 187);
	policy_free(p);
	p = NULL;
	free(path);

	snprintf(text, sizeof(text), MODE_VANILLA "summary = %0*d\n[thread a]\nmatch = *\n", 188, 0);
	path = write_file(f, "long-line.conf", text, strlen(text));
	assert_int_equal(policy_load(path, f->hc, &f->online2, &p, &d), -EINVAL);
	expect_diag(&d, path, exp);
	diag_free(&d);
	free(path);

	/* A long section header: its keys are not reported against the previous section. */
	snprintf(text, sizeof(text), MODE_VANILLA "[thread %0*d]\nmatch = *\n", 250, 0);
	path = write_file(f, "long-header.conf", text, strlen(text));
	assert_int_equal(policy_load(path, f->hc, &f->online2, &p, &d), -EINVAL);
	expect_diag(&d, path, exp);
	diag_free(&d);
	free(path);
}

static void test_file_refusals(void **state)
{
	struct fixture *f = *state;
	const char *binary[] = {"FILE: binary file", NULL};
	const char *empty[] = {"FILE: empty policy", NULL};
	const char *large[] = {"FILE: file too large (limit 1048576 bytes)", NULL};
	const char *missing[] = {"FILE: cannot open: No such file or directory", NULL};
	static const char nul[] = "[mode]\ntype = vanilla\0\n";
	struct policy *p = NULL;
	struct diag d = {0};
	char *path, *big;

	path = write_file(f, "nul.conf", nul, sizeof(nul) - 1);
	assert_int_equal(policy_load(path, f->hc, &f->online2, &p, &d), -EINVAL);
	expect_diag(&d, path, binary);
	diag_free(&d);
	free(path);

	path = write_file(f, "empty.conf", "", 0);
	assert_int_equal(policy_load(path, f->hc, &f->online2, &p, &d), -EINVAL);
	expect_diag(&d, path, empty);
	diag_free(&d);
	free(path);

	path = write_file(f, "comments.conf", "# nothing\n; here\n\n", 18);
	assert_int_equal(policy_load(path, f->hc, &f->online2, &p, &d), -EINVAL);
	expect_diag(&d, path, empty);
	diag_free(&d);
	free(path);

	big = malloc(1024 * 1024 + 1);
	assert_non_null(big);
	memset(big, '#', 1024 * 1024 + 1);
	path = write_file(f, "big.conf", big, 1024 * 1024 + 1);
	free(big);
	assert_int_equal(policy_load(path, f->hc, &f->online2, &p, &d), -EFBIG);
	expect_diag(&d, path, large);
	diag_free(&d);
	free(path);

	assert_true(asprintf(&path, "%s/missing.conf", f->dir) > 0);
	assert_int_equal(policy_load(path, f->hc, &f->online2, &p, &d), -ENOENT);
	expect_diag(&d, path, missing);
	diag_free(&d);
	free(path);
	assert_null(p);
}

static void test_permissions(void **state)
{
	struct fixture *f = *state;
	const char *gw[] = {"FILE: refusing: writable by group or others (mode 0664)", NULL};
	const char *ow[] = {"FILE: refusing: writable by group or others (mode 0602)", NULL};
	const char *uid[] = {"FILE: refusing: owned by uid 1000", NULL};
	struct hostconf *hc = NULL;
	struct policy *p = NULL;
	struct diag d = {0};
	char *path;

	if (geteuid() != 0)
		skip();
	path = write_file(f, "perm.conf", MODE_VANILLA, strlen(MODE_VANILLA));
	assert_int_equal(policy_load(path, f->hc, &f->online2, &p, &d), 0);
	policy_free(p);
	p = NULL;

	assert_int_equal(chmod(path, 0664), 0);
	assert_int_equal(policy_load(path, f->hc, &f->online2, &p, &d), -EPERM);
	expect_diag(&d, path, gw);
	diag_free(&d);

	assert_int_equal(chmod(path, 0602), 0);
	assert_int_equal(policy_load(path, f->hc, &f->online2, &p, &d), -EPERM);
	expect_diag(&d, path, ow);
	diag_free(&d);

	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(chown(path, 1000, 0), 0);
	assert_int_equal(policy_load(path, f->hc, &f->online2, &p, &d), -EPERM);
	expect_diag(&d, path, uid);
	diag_free(&d);

	/* host.conf is trusted the same way. */
	assert_int_equal(hostconf_load(path, &f->online2, &hc, &d), -EPERM);
	expect_diag(&d, path, uid);
	diag_free(&d);
	assert_null(p);
	assert_null(hc);
	free(path);
}

/* ---- trust: the directories to a file, symlinks, who may read it ---- */

/* policy_load of path, as the one line "path: " and the rest. */
static void expect_load(const struct fixture *f, const char *path, int want_r, const char *fmt, ...) ISO_PRINTF(4, 5);
static void expect_load(const struct fixture *f, const char *path, int want_r, const char *fmt, ...)
{
	struct policy *p = NULL;
	struct diag d = {0};
	char *rest = NULL, *want = NULL;
	va_list ap;
	int r;

	va_start(ap, fmt);
	assert_true(vasprintf(&rest, fmt, ap) >= 0);
	va_end(ap);
	assert_true(asprintf(&want, "%s: %s", path, rest) > 0);
	r = policy_load(path, f->hc, &f->online2, &p, &d);
	if (r != want_r || d.n != 1 || strcmp(d.lines[0], want) != 0)
		print_error("%s: r = %d (want %d), \"%s\"\n  want \"%s\"\n", path, r, want_r, d.n ? d.lines[0] : "",
			    want);
	assert_int_equal(r, want_r);
	assert_int_equal(d.n, 1);
	assert_string_equal(d.lines[0], want);
	assert_null(p);
	diag_free(&d);
	free(rest);
	free(want);
}

static void expect_loads(const struct fixture *f, const char *path)
{
	struct policy *p = NULL;
	struct diag d = {0};
	int r = policy_load(path, f->hc, &f->online2, &p, &d);

	if (r != 0)
		print_error("%s: r = %d, %s\n", path, r, d.n ? d.lines[0] : "");
	assert_int_equal(r, 0);
	policy_free(p);
	diag_free(&d);
}

static char *sub(const struct fixture *f, const char *name)
{
	char *s = NULL;

	assert_true(asprintf(&s, "%s/%s", f->dir, name) > 0);
	return s;
}

static void test_trust_dirs(void **state)
{
	struct fixture *f = *state;
	char *dir, *path, *link, *fifo, cwd[PATH_MAX];

	if (geteuid() != 0)
		skip();
	/* The scratch directory is below /tmp: sticky, 1777, fine for root's entries. */
	dir = sub(f, "pol");
	assert_int_equal(mkdir(dir, 0755), 0);
	path = write_file(f, "pol/a.conf", MODE_VANILLA, strlen(MODE_VANILLA));
	expect_loads(f, path);

	assert_int_equal(chmod(dir, 0777), 0);
	expect_load(f, path, -EPERM, "refusing: directory %s is writable by group or others (mode 0777)", dir);
	assert_int_equal(chmod(dir, 0770), 0);
	expect_load(f, path, -EPERM, "refusing: directory %s is writable by group or others (mode 0770)", dir);
	assert_int_equal(chmod(dir, 0755), 0);
	assert_int_equal(chown(dir, 65534, 0), 0);
	expect_load(f, path, -EPERM, "refusing: directory %s is owned by uid 65534", dir);
	assert_int_equal(chown(dir, 0, 0), 0);

	/* A directory above: the scratch directory itself. */
	assert_int_equal(chmod(f->dir, 0757), 0);
	expect_load(f, path, -EPERM, "refusing: directory %s is writable by group or others (mode 0757)", f->dir);
	assert_int_equal(chmod(f->dir, 0700), 0);

	/* Sticky: root's entries are safe from others, someone else's symlink is not. */
	assert_int_equal(chmod(dir, 01777), 0);
	expect_loads(f, path);
	link = sub(f, "pol/b.conf");
	assert_int_equal(symlink("a.conf", link), 0);
	expect_loads(f, link);
	assert_int_equal(lchown(link, 65534, 65534), 0);
	expect_load(f, link, -EPERM, "refusing: symlink %s is owned by uid 65534 in sticky directory %s (mode 1777)",
		    link, dir);
	assert_int_equal(chmod(dir, 0755), 0);
	/* elsewhere a symlink's owner cannot change it: only who can write its directory */
	expect_loads(f, link);

	/* Relative paths: the working directory's own directories count, and
	 * messages name directories below it relative to it. */
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(f->dir), 0);
	expect_loads(f, "pol/a.conf");
	assert_int_equal(chmod(dir, 0777), 0);
	expect_load(f, "pol/a.conf", -EPERM, "refusing: directory pol is writable by group or others (mode 0777)");
	assert_int_equal(chdir(dir), 0);
	expect_load(f, "a.conf", -EPERM, "refusing: directory %s is writable by group or others (mode 0777)", dir);
	assert_int_equal(chmod(dir, 0755), 0);
	expect_loads(f, "a.conf");
	expect_loads(f, "../pol/./a.conf");
	assert_int_equal(chdir(cwd), 0);

	/* Not a file: refused without being opened (a FIFO would block). */
	fifo = sub(f, "pol/fifo.conf");
	assert_int_equal(mkfifo(fifo, 0644), 0);
	expect_load(f, fifo, -EINVAL, "not a regular file");
	free(fifo);
	free(link);
	free(path);
	free(dir);
}

static void test_trust_symlinks(void **state)
{
	struct fixture *f = *state;
	char *open_dir, *trusted, *path, *link, *secret, *loop, *sdir;

	if (geteuid() != 0)
		skip();
	trusted = sub(f, "trusted");
	open_dir = sub(f, "open");
	assert_int_equal(mkdir(trusted, 0755), 0);
	assert_int_equal(mkdir(open_dir, 0755), 0);
	assert_int_equal(chmod(open_dir, 0777), 0);
	path = write_file(f, "trusted/real.conf", MODE_VANILLA, strlen(MODE_VANILLA));
	free(write_file(f, "open/real.conf", MODE_VANILLA, strlen(MODE_VANILLA)));

	/* A chain of symlinks, relative and absolute, to a trusted file. */
	link = sub(f, "a.conf");
	assert_int_equal(symlink("b.conf", link), 0);
	free(link);
	link = sub(f, "b.conf");
	assert_int_equal(symlink(path, link), 0);
	free(link);
	link = sub(f, "a.conf");
	expect_loads(f, link);
	free(link);

	/* Through a directory anyone can write to: refused, even when the path
	 * leaves it at once (every directory passed through counts, as the
	 * kernel passes through it). */
	link = sub(f, "c.conf");
	assert_int_equal(symlink("open/../trusted/real.conf", link), 0);
	expect_load(f, link, -EPERM, "refusing: directory %s is writable by group or others (mode 0777)", open_dir);
	free(link);
	link = sub(f, "d.conf");
	assert_int_equal(symlink("trusted/../open/real.conf", link), 0);
	expect_load(f, link, -EPERM, "refusing: directory %s is writable by group or others (mode 0777)", open_dir);
	free(link);
	/* a directory reached through a symlink */
	sdir = sub(f, "sdir");
	assert_int_equal(symlink("open", sdir), 0);
	link = sub(f, "sdir/real.conf");
	expect_load(f, link, -EPERM, "refusing: directory %s is writable by group or others (mode 0777)", open_dir);
	free(link);
	free(sdir);

	/* A root file others cannot read (/etc/shadow is 0640): refused, never quoted. */
	secret = write_file(f, "trusted/secret", "root:$y$j9T$hash:19700:0:99999:7:::\n", 37);
	assert_int_equal(chmod(secret, 0640), 0);
	expect_load(f, secret, -EPERM,
		    "refusing: not readable by others (mode 0640): isolated shows what it reads, errors included, to "
		    "anyone who asks");
	link = sub(f, "e.conf");
	assert_int_equal(symlink(secret, link), 0);
	expect_load(f, link, -EPERM,
		    "refusing: symlink target not readable by others (mode 0640): isolated shows what it reads, errors "
		    "included, to anyone who asks");
	assert_int_equal(chown(secret, 1000, 0), 0);
	expect_load(f, link, -EPERM, "refusing: symlink target owned by uid 1000");
	free(link);

	/* The kernel's links in /proc lead where the kernel says: a memfd read
	 * by its /proc/self/fd name (as the fuzzer does) has no directory. */
	{
		int fd = memfd_create("policy", MFD_CLOEXEC);
		char name[64];

		assert_true(fd >= 0);
		assert_int_equal(write(fd, MODE_VANILLA, strlen(MODE_VANILLA)), (ssize_t)strlen(MODE_VANILLA));
		snprintf(name, sizeof(name), "/proc/self/fd/%d", fd);
		expect_load(f, name, -EPERM, "refusing: symlink target writable by group or others (mode 0777)");
		assert_int_equal(fchmod(fd, 0644), 0);
		expect_loads(f, name);
		close(fd);
	}

	loop = sub(f, "loop.conf");
	assert_int_equal(symlink("loop.conf", loop), 0);
	expect_load(f, loop, -ELOOP, "cannot open: Too many levels of symbolic links");
	free(loop);
	link = sub(f, "missing.conf");
	assert_int_equal(symlink("trusted/nothing.conf", link), 0);
	expect_load(f, link, -ENOENT, "cannot open: No such file or directory");
	free(link);
	link = sub(f, "trusted/real.conf/x.conf");
	expect_load(f, link, -ENOTDIR, "cannot open: Not a directory");
	free(link);
	free(secret);
	free(path);
	free(open_dir);
	free(trusted);
}

/* host.conf goes the same way. */
static void test_trust_hostconf(void **state)
{
	struct fixture *f = *state;
	struct hostconf *hc = NULL;
	struct diag d = {0};
	char *dir, *path, *want = NULL;

	if (geteuid() != 0)
		skip();
	dir = sub(f, "conf");
	assert_int_equal(mkdir(dir, 0755), 0);
	path = write_file(f, "conf/host.conf", "rt_cpus = 1\n", 12);
	assert_int_equal(hostconf_load(path, &f->online2, &hc, &d), 0);
	hostconf_free(hc);
	hc = NULL;
	assert_int_equal(chmod(dir, 0775), 0);
	assert_int_equal(hostconf_load(path, &f->online2, &hc, &d), -EPERM);
	assert_true(
	    asprintf(&want, "%s: refusing: directory %s is writable by group or others (mode 0775)", path, dir) > 0);
	assert_int_equal(d.n, 1);
	assert_string_equal(d.lines[0], want);
	assert_null(hc);
	diag_free(&d);
	free(want);
	free(path);
	free(dir);
}

/* ---- host.conf ---- */

struct hc_case {
	const char *name;
	const char *text;
	const char *expected[4];
};

static const struct hc_case bad_hostconfs[] = {
    {"recursion", "a = x${b}\nb = ${a}\n", {"FILE:2: recursive variable reference: a -> b -> a"}},
    {"self", "[host]\na = ${a}\n", {"FILE:2: recursive variable reference: a -> a"}},
    {"long-cycle",
     "a = ${b}\nb = ${c}\nc = ${a}\nd = ${a}\n",
     {"FILE:3: recursive variable reference: a -> b -> c -> a"}},
    {"rt-hk-cycle",
     "rt_cpus = ${housekeeping_cpus}\n",
     {"FILE:1: recursive variable reference: rt_cpus -> housekeeping_cpus -> rt_cpus"}},
    {"unknown", "a = 1\nb = ${a}${c}\nd = ${b}\n", {"FILE:2: unknown variable ${c}"}},
    /* 33 references deep: a1..a33 -> a34; one error, where it goes too far */
    {"too-deep",
     "a1 = ${a2}\na2 = ${a3}\na3 = ${a4}\na4 = ${a5}\na5 = ${a6}\na6 = ${a7}\na7 = ${a8}\na8 = ${a9}\na9 = ${a10}\na10 "
     "= ${a11}\na11 = ${a12}\na12 = ${a13}\na13 = ${a14}\na14 = ${a15}\na15 = ${a16}\na16 = ${a17}\na17 = ${a18}\na18 "
     "= ${a19}\na19 = ${a20}\na20 = ${a21}\na21 = ${a22}\na22 = ${a23}\na23 = ${a24}\na24 = ${a25}\na25 = ${a26}\na26 "
     "= ${a27}\na27 = ${a28}\na28 = ${a29}\na29 = ${a30}\na30 = ${a31}\na31 = ${a32}\na32 = ${a33}\na33 = ${a34}\na34 "
     "= x\n",
     {"FILE:32: variable references nested deeper than 32 levels (at ${a33})"}},
    {"bad-name",
     "Rt_cpus = 1\nrt-nic = eth0\n",
     {"FILE:1: invalid variable name \"Rt_cpus\" (allowed: a-z 0-9 _, not starting with a digit)",
      "FILE:2: invalid variable name \"rt-nic\" (allowed: a-z 0-9 _, not starting with a digit)"}},
    {"duplicate", "rt_cpus = 1\n[host]\nrt_cpus = 0\n", {"FILE:3: duplicate variable \"rt_cpus\" (first at line 1)"}},
    {"builtin", "online_cpus = 0-3\n", {"FILE:1: online_cpus is built in and cannot be set"}},
    {"section", "[hosts]\nrt_cpus = 1\n", {"FILE:1: unknown section [hosts] (host.conf has only [host])"}},
    {"syntax", "rt_cpus 1\n", {"FILE:1: expected \"key = value\", got \"rt_cpus 1\""}},
    {"rt-cpus-malformed", "rt_cpus = 1,,2\n", {"FILE:1: invalid cpu list: unexpected ',' at position 3 in \"1,,2\""}},
    {"rt-cpus-offline", "cpu = 9\nrt_cpus = ${cpu}\n", {"FILE:2: cpu 9 is not online (online: 0-1)"}},
    {"hk-offline", "housekeeping_cpus = 0-2\n", {"FILE:1: cpu 2 is not online (online: 0-1)"}},
    {"hk-overlap",
     "rt_cpus = 1\nhousekeeping_cpus = 0-1\n",
     {"FILE:2: housekeeping_cpus 0-1 overlap rt_cpus 1 (cpu 1): a CPU is real-time or housekeeping, not both"}},
    {"rt-vcpus", "rt_vcpus = one\n", {"FILE:1: invalid vcpu list: unexpected 'o' at position 1 in \"one\""}},
    {"rtnet-prio", "rtnet_prio = 0\n", {"FILE:1: priority 0 out of range 1..99"}},
    {"rtnet-prio-nan", "rtnet_prio = high\n", {"FILE:1: rtnet_prio \"high\" is not an integer"}},
    {"rt-nic", "rt_nic = eth0/1\n", {"FILE:1: invalid interface name \"eth0/1\""}},
    /* Each line doubles the value: a13 would be 128 KiB (a39 a terabyte). */
    {"expansion-doubling",
     "a0 = xxxxxxxxxxxxxxxx\n"
     "a1 = ${a0}${a0}\n"
     "a2 = ${a1}${a1}\n"
     "a3 = ${a2}${a2}\n"
     "a4 = ${a3}${a3}\n"
     "a5 = ${a4}${a4}\n"
     "a6 = ${a5}${a5}\n"
     "a7 = ${a6}${a6}\n"
     "a8 = ${a7}${a7}\n"
     "a9 = ${a8}${a8}\n"
     "a10 = ${a9}${a9}\n"
     "a11 = ${a10}${a10}\n"
     "a12 = ${a11}${a11}\n"
     "a13 = ${a12}${a12}\n"
     "a14 = ${a13}\n",
     {"FILE:14: value longer than 65536 bytes after variable expansion"}},
};

static void test_bad_hostconfs(void **state)
{
	struct fixture *f = *state;

	for (size_t i = 0; i < ARRAY_SIZE(bad_hostconfs); i++) {
		const struct hc_case *c = &bad_hostconfs[i];
		struct hostconf *hc = NULL;
		struct diag d = {0};
		char *path = write_file(f, c->name, c->text, strlen(c->text));

		assert_int_equal(hostconf_load(path, &f->online2, &hc, &d), -EINVAL);
		assert_null(hc);
		expect_diag(&d, path, c->expected);
		diag_free(&d);
		free(path);
	}
}

/* Values under CONF_MAX_VALUE each, but too many of them: 300 copies of a
 * 64 KiB value are more than the 16 MiB a file may expand to. */
static void test_hostconf_expansion_budget(void **state)
{
	struct fixture *f = *state;
	struct hostconf *hc = NULL;
	struct diag d = {0};
	char *text = NULL, *path, line[80];
	size_t len = 0;
	FILE *m = open_memstream(&text, &len);

	assert_non_null(m);
	fprintf(m, "a0 = xxxxxxxxxxxxxxxx\n");
	for (int i = 1; i <= 12; i++)
		fprintf(m, "a%d = ${a%d}${a%d}\n", i, i - 1, i - 1);
	for (int i = 0; i < 300; i++)
		fprintf(m, "b%d = ${a12}\n", i);
	assert_int_equal(fclose(m), 0);
	path = write_file(f, "budget", text, len);
	assert_int_equal(hostconf_load(path, &f->online2, &hc, &d), -EINVAL);
	assert_null(hc);
	/* a0..a12 are 128 KiB, 254 b's fill the rest: b254, line 268, is one too many. */
	assert_true(d.n > 0);
	snprintf(line, sizeof(line), ":268: variables expand to more than %d bytes in all", 16 * 1024 * 1024);
	if (!strstr(d.lines[0], line))
		fail_msg("first error: %s", d.lines[0]);
	diag_free(&d);
	free(path);
	free(text);
}

/* A file is a page of text: 4096 sections and keys load, one more does
 * not (and the checks that compare them pairwise stay fast). */
static void test_hostconf_max_items(void **state)
{
	struct fixture *f = *state;
	char *text = NULL, *path, line[512];
	size_t len = 0;
	FILE *m = open_memstream(&text, &len);

	assert_non_null(m);
	for (int i = 0; i < 4096; i++)
		fprintf(m, "v%d = %d\n", i, i);
	fprintf(m, "# a comment after the last key is fine\n");
	assert_int_equal(fflush(m), 0);
	for (int pass = 0; pass < 2; pass++) {
		struct hostconf *hc = NULL;
		struct diag d = {0};

		path = write_file(f, "items", text, len);
		if (pass == 0) {
			assert_int_equal(hostconf_load(path, &f->online2, &hc, &d), 0);
			assert_string_equal(hostconf_get(hc, "v4095"), "4095");
			hostconf_free(hc);
			fprintf(m, "v4096 = x\nv4097 = y\n");
			assert_int_equal(fflush(m), 0);
		} else {
			assert_int_equal(hostconf_load(path, &f->online2, &hc, &d), -EINVAL);
			assert_null(hc);
			assert_int_equal(d.n, 1);
			snprintf(line, sizeof(line),
				 "%s:4098: more than 4096 sections and keys: the rest of the file is not read", path);
			assert_string_equal(d.lines[0], line);
		}
		diag_free(&d);
		free(path);
	}
	assert_int_equal(fclose(m), 0);
	free(text);
}

static void test_hostconf_expansion(void **state)
{
	struct fixture *f = *state;
	static const char text[] = "# comment\n"
				   "rt_cpus = ${first}-${last}\n"
				   "first = 2\n"
				   "[host]\n"
				   "last = 3\n"
				   "price = $5 and ${first}$\n"
				   "cmd = isolcpus=${rt_cpus} irqaffinity=${housekeeping_cpus}\n"
				   "all = ${online_cpus}\n";
	struct hostconf *hc = NULL;
	struct diag d = {0};
	char *path = write_file(f, "host.conf", text, sizeof(text) - 1);

	assert_int_equal(hostconf_load(path, &f->online16, &hc, &d), 0);
	assert_int_equal(d.n, 0);
	assert_string_equal(hostconf_get(hc, "rt_cpus"), "2-3");
	assert_string_equal(hostconf_get(hc, "housekeeping_cpus"), "0-1,4-15");
	assert_string_equal(hostconf_get(hc, "online_cpus"), "0-15");
	assert_string_equal(hostconf_get(hc, "price"), "$5 and 2$");
	assert_string_equal(hostconf_get(hc, "cmd"), "isolcpus=2-3 irqaffinity=0-1,4-15");
	assert_string_equal(hostconf_get(hc, "all"), "0-15");
	assert_null(hostconf_get(hc, "nope"));
	assert_string_equal(hc->file, path);
	/* built-ins first, then file order */
	assert_string_equal(hc->vars[0].name, "online_cpus");
	assert_null(hc->vars[0].file);
	assert_string_equal(hc->vars[2].name, "rt_cpus");
	assert_int_equal(hc->vars[2].line, 2);
	assert_string_equal(hc->vars[2].file, path);
	hostconf_free(hc);
	free(path);

	/* An empty host.conf is fine: housekeeping is everything. */
	path = write_file(f, "empty-host.conf", "", 0);
	assert_int_equal(hostconf_load(path, &f->online2, &hc, &d), 0);
	assert_string_equal(hostconf_get(hc, "housekeeping_cpus"), "0-1");
	assert_null(hostconf_get(hc, "rt_cpus"));
	hostconf_free(hc);
	free(path);

	/* housekeeping_cpus set explicitly wins */
	path = write_file(f, "hk-host.conf", "rt_cpus = 1\nhousekeeping_cpus = 0\n", 34);
	assert_int_equal(hostconf_load(path, &f->online16, &hc, &d), 0);
	assert_string_equal(hostconf_get(hc, "housekeeping_cpus"), "0");
	hostconf_free(hc);
	free(path);
	assert_int_equal(d.n, 0);
}

static void test_hostconf_strv(void **state)
{
	struct fixture *f = *state;
	char *const good[] = {"rt_cpus = 1", "x=${rt_cpus}:${housekeeping_cpus}", NULL};
	char *const bad[] = {"rt_cpus=9", "junk", "y=${z}", NULL};
	const char *exp[] = {"rt_cpus=9: cpu 9 is not online (online: 0-1)", "junk: expected NAME=VALUE",
			     "y=${z}: unknown variable ${z}", NULL};
	struct hostconf *hc = NULL;
	struct diag d = {0};

	assert_int_equal(hostconf_from_strv(good, &f->online2, &hc, &d), 0);
	assert_string_equal(hostconf_get(hc, "x"), "1:0");
	assert_null(hc->file);
	hostconf_free(hc);
	hc = NULL;

	assert_int_equal(hostconf_from_strv(bad, &f->online2, &hc, &d), -EINVAL);
	assert_null(hc);
	assert_int_equal(d.n, 3);
	/* order: syntax first, then expansion, then checks */
	assert_true(strv_contains(d.lines, exp[0]));
	assert_true(strv_contains(d.lines, exp[1]));
	assert_true(strv_contains(d.lines, exp[2]));
	diag_free(&d);
}

/* ---- terms, sched, a good policy in full ---- */

static void test_terms(void **state)
{
	struct fixture *f = *state;
	struct hostconf *hc = NULL;
	struct policy *p = NULL;
	struct diag d = {0};
	char *hpath = copy_file(f, TEST_DATADIR "/policies/host.conf", "host.conf");
	char *path = copy_file(f, TEST_DATADIR "/policies/terms.conf", "terms.conf");
	const struct rule *r;
	char buf[32];

	assert_int_equal(hostconf_load(hpath, &f->online2, &hc, &d), 0);
	assert_int_equal(policy_load(path, hc, &f->online2, &p, &d), 0);
	assert_int_equal(d.n, 0);
	assert_string_equal(p->name, "terms");
	assert_string_equal(p->summary, "every term");
	assert_int_equal(p->type, MODE_TYPE_RT_ONLY);
	assert_int_equal(p->requires, POLICY_REQ_PREEMPT_RT);
	assert_true(p->strict);
	assert_int_equal(strv_len(p->cmdline_require), 2);
	assert_string_equal(p->cmdline_require[0], "isolcpus=1");
	assert_string_equal(p->cmdline_require[1], "nohz_full=1");
	/* an indented line continues the value */
	assert_int_equal(strv_len(p->cmdline_recommend), 2);
	assert_string_equal(p->cmdline_recommend[1], "quiet");
	assert_int_equal(p->cmdline_line, 10);
	assert_true(cpuset_isset(&p->rt_cpus, 1) && cpuset_count(&p->rt_cpus) == 1);
	assert_true(cpuset_isset(&p->housekeeping_cpus, 0) && cpuset_count(&p->housekeeping_cpus) == 1);

	assert_int_equal(p->n_irq_rules, 2);
	r = &p->irq_rules[0];
	assert_string_equal(r->name, "nic");
	assert_true(r->is_irq);
	assert_int_equal(r->line, 15);
	assert_int_equal(r->n_terms, 3);
	assert_int_equal(r->terms[0].kind, TERM_NIC);
	assert_string_equal(r->terms[0].arg, "eth0");
	assert_int_equal(r->terms[1].kind, TERM_ACTION);
	assert_string_equal(r->terms[1].arg, "eth0-rx-*");
	assert_false(r->terms[1].negate);
	assert_int_equal(r->terms[2].kind, TERM_IRQ);
	assert_true(r->terms[2].negate);
	assert_int_equal(cpuset_count(&r->terms[2].set), 9);
	assert_true(cpuset_isset(&r->terms[2].set, 40));
	assert_string_equal(r->match_text, "nic:eth0 action:\"eth0-rx-*\" !irq:24-31,40");
	assert_int_equal(r->thread.kind, SCHED_KIND_RR);
	assert_int_equal(r->thread.prio, 10);
	assert_int_equal(r->thread_line, 17);
	assert_false(r->has_cpus);

	/* nic:${empty}: allowed, the term keeps "" and matches nothing */
	r = &p->irq_rules[1];
	assert_int_equal(r->n_terms, 1);
	assert_int_equal(r->terms[0].kind, TERM_NIC);
	assert_string_equal(r->terms[0].arg, "");

	assert_int_equal(p->n_thread_rules, 3);
	r = &p->thread_rules[0];
	assert_string_equal(r->name, "vcpu");
	assert_int_equal(r->n_terms, 5);
	assert_int_equal(r->terms[0].kind, TERM_VM);
	assert_string_equal(r->terms[0].arg, "rtvm");
	assert_int_equal(r->terms[1].kind, TERM_COMM);
	assert_string_equal(r->terms[1].arg, "CPU 1/KVM");
	assert_int_equal(r->terms[2].kind, TERM_VCPU);
	assert_int_equal(cpuset_count(&r->terms[2].set), 3);
	assert_int_equal(r->terms[3].kind, TERM_KTHREAD);
	assert_true(r->terms[3].negate);
	assert_true(r->terms[3].yes);
	assert_int_equal(r->terms[4].kind, TERM_PCOMM);
	assert_string_equal(r->terms[4].arg, "qemu*");
	assert_string_equal(policy_sched_format(&r->sched, buf, sizeof(buf)), "fifo:60");
	assert_int_equal(r->sched_line, 26);

	r = &p->thread_rules[1];
	assert_int_equal(r->n_terms, 3);
	assert_int_equal(r->terms[0].kind, TERM_VHOST);
	assert_null(r->terms[0].arg);
	assert_int_equal(r->terms[1].kind, TERM_CMDLINE);
	assert_int_equal(r->terms[2].kind, TERM_CGROUP);
	assert_string_equal(r->terms[2].arg, "/machine.slice/*");
	assert_int_equal(r->sched.kind, SCHED_KIND_OTHER);

	r = &p->thread_rules[2];
	assert_int_equal(r->n_terms, 2);
	assert_true(r->terms[0].negate);
	assert_false(r->terms[0].yes);
	assert_int_equal(r->terms[1].kind, TERM_ANY);
	assert_null(r->terms[1].arg);
	assert_true(r->has_cpus);
	assert_string_equal(r->cpus_text, "0");
	assert_int_equal(r->cpus_line, 34);
	assert_int_equal(r->sched.kind, SCHED_KIND_UNSET);

	policy_free(p);
	hostconf_free(hc);
	free(path);
	free(hpath);
}

static void test_sched(void **state)
{
	static const struct {
		const char *in;
		int r;
		enum sched_kind kind;
		int prio;
		const char *msg;
	} cases[] = {
	    {"other", 0, SCHED_KIND_OTHER, 0, NULL},
	    {"fifo:1", 0, SCHED_KIND_FIFO, 1, NULL},
	    {"fifo:99", 0, SCHED_KIND_FIFO, 99, NULL},
	    {"rr:50", 0, SCHED_KIND_RR, 50, NULL},
	    {"fifo:0", -ERANGE, 0, 0, "priority 0 out of range 1..99"},
	    {"rr:100", -ERANGE, 0, 0, "priority 100 out of range 1..99"},
	    {"fifo:-1", -ERANGE, 0, 0, "priority -1 out of range 1..99"},
	    {"fifo:", -EINVAL, 0, 0, "missing priority in \"fifo:\" (expected fifo:N, N in 1..99)"},
	    {"rr", -EINVAL, 0, 0, "missing priority in \"rr\" (expected rr:N, N in 1..99)"},
	    {"fifo:5x", -EINVAL, 0, 0, "invalid priority \"5x\" in \"fifo:5x\""},
	    {"FIFO:5", -EINVAL, 0, 0, "invalid scheduling \"FIFO:5\" (expected fifo:N, rr:N or other)"},
	    {"", -EINVAL, 0, 0, "invalid scheduling \"\" (expected fifo:N, rr:N or other)"},
	};
	char buf[32];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct sched_spec s = {SCHED_KIND_UNSET, 0};
		char err[256] = "";

		assert_int_equal(policy_sched_parse(cases[i].in, &s, err, sizeof(err)), cases[i].r);
		if (cases[i].r == 0) {
			assert_int_equal(s.kind, cases[i].kind);
			assert_int_equal(s.prio, cases[i].prio);
			assert_string_equal(policy_sched_format(&s, buf, sizeof(buf)), cases[i].in);
			assert_int_equal(policy_sched_is_rt(&s), s.kind != SCHED_KIND_OTHER);
		} else {
			assert_string_equal(err, cases[i].msg);
			assert_int_equal(s.kind, SCHED_KIND_UNSET); /* untouched */
		}
	}
	assert_string_equal(policy_sched_format(&(struct sched_spec){SCHED_KIND_UNSET, 0}, buf, sizeof(buf)), "");
	assert_string_equal(policy_mode_type_name(MODE_TYPE_OUTSOURCING), "outsourcing");
	assert_string_equal(policy_mode_type_name(MODE_TYPE_RT_ONLY), "rt-only");
}

/* ---- scope and [cpumask] ---- */

static void test_scope_parse(void **state)
{
	static const struct {
		const char *in;
		int r;
		enum scope_kind kind;
		int pid;
		const char *cgroup; /* normalised */
		const char *text;   /* policy_scope_format; the message on error */
	} cases[] = {
	    {"host", 0, SCOPE_HOST, 0, NULL, "host"},
	    {"process:1", 0, SCOPE_PROCESS, 1, NULL, "process:1"},
	    {"process:4194304", 0, SCOPE_PROCESS, 4194304, NULL, "process:4194304"},
	    {"process:007", 0, SCOPE_PROCESS, 7, NULL, "process:7"},
	    {"cgroup:/", 0, SCOPE_CGROUP, 0, "/", "cgroup:/"},
	    {"cgroup://", 0, SCOPE_CGROUP, 0, "/", "cgroup:/"},
	    {"cgroup:/machine.slice", 0, SCOPE_CGROUP, 0, "/machine.slice", "cgroup:/machine.slice"},
	    {"cgroup:/machine.slice/", 0, SCOPE_CGROUP, 0, "/machine.slice", "cgroup:/machine.slice"},
	    {"cgroup:/machine.slice/machine-qemu\\x2d1\\x2drtvm.scope", 0, SCOPE_CGROUP, 0,
	     "/machine.slice/machine-qemu\\x2d1\\x2drtvm.scope",
	     "cgroup:/machine.slice/machine-qemu\\x2d1\\x2drtvm.scope"},
	    {"cgroup:/a..b/.c", 0, SCOPE_CGROUP, 0, "/a..b/.c", "cgroup:/a..b/.c"},
	    {"", -EINVAL, 0, 0, NULL, "invalid scope \"\" (expected host, process:PID or cgroup:PATH)"},
	    {"process", -EINVAL, 0, 0, NULL, "invalid scope \"process\" (expected host, process:PID or cgroup:PATH)"},
	    {"process: 12", -EINVAL, 0, 0, NULL,
	     "invalid pid \" 12\" in scope \"process: 12\" (expected a positive number)"},
	    {"process:2147483648", -EINVAL, 0, 0, NULL,
	     "invalid pid \"2147483648\" in scope \"process:2147483648\" (expected a positive number)"},
	    {"cgroup:/a/", 0, SCOPE_CGROUP, 0, "/a", "cgroup:/a"},
	    {"cgroup:/a//", 0, SCOPE_CGROUP, 0, "/a", "cgroup:/a"},
	    {"cgroup:/a\tb", -EINVAL, 0, 0, NULL,
	     "invalid character in cgroup path \"/a\tb\" (printable ASCII without spaces only)"},
	    {"cgroup:/a/./", -EINVAL, 0, 0, NULL,
	     "\".\" in cgroup path \"/a/./\" (use the path as /proc/PID/cgroup shows it)"},
	};
	char buf[128];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct scope sc = {SCOPE_PROCESS, 42, NULL};
		char err[256] = "";
		int r = policy_scope_parse(cases[i].in, &sc, err, sizeof(err));

		if (r != cases[i].r)
			print_error("%s: r = %d (%s)\n", cases[i].in, r, err);
		assert_int_equal(r, cases[i].r);
		if (r == 0) {
			assert_int_equal(sc.kind, cases[i].kind);
			assert_int_equal(sc.pid, cases[i].pid);
			if (cases[i].cgroup)
				assert_string_equal(sc.cgroup, cases[i].cgroup);
			else
				assert_null(sc.cgroup);
			assert_string_equal(policy_scope_format(&sc, buf, sizeof(buf)), cases[i].text);
			/* what format prints parses back to the same scope */
			{
				struct scope again = {SCOPE_HOST, 0, NULL};

				assert_int_equal(policy_scope_parse(buf, &again, err, sizeof(err)), 0);
				assert_int_equal(again.kind, sc.kind);
				assert_int_equal(again.pid, sc.pid);
				assert_true(again.cgroup == sc.cgroup || strcmp(again.cgroup, sc.cgroup) == 0);
				policy_scope_done(&again);
			}
			policy_scope_done(&sc);
			assert_int_equal(sc.kind, SCOPE_HOST);
			assert_null(sc.cgroup);
		} else {
			assert_string_equal(err, cases[i].text);
			/* untouched */
			assert_int_equal(sc.kind, SCOPE_PROCESS);
			assert_int_equal(sc.pid, 42);
			assert_null(sc.cgroup);
		}
	}
	policy_scope_done(NULL);
}

static void test_scope_cpumask(void **state)
{
	struct fixture *f = *state;
	char *const vars[] = {"rt_cpus=15", "scope=cgroup:/machine.slice/", "pid=1234", NULL};
	static const char text[] = "[cpumask]\n"
				   "irq_default = ${housekeeping_cpus}\n"
				   "workqueue = 0-1,4\n"
				   "[mode]\n"
				   "type = dedicated\n"
				   "strict = yes\n"
				   "scope = ${scope}\n";
	static const char text_pid[] = "[mode]\ntype = rt-only\nscope = process:${pid}\n";
	static const char text_host[] = "[mode]\ntype = vanilla\n[cpumask]\n";
	struct hostconf *hc = NULL;
	struct policy *p = NULL;
	struct diag d = {0};
	struct scope sc = {SCOPE_PROCESS, 77, NULL};
	char *path, buf[64], *list = NULL;

	assert_int_equal(hostconf_from_strv(vars, &f->online16, &hc, &d), 0);
	path = write_file(f, "scoped.conf", text, sizeof(text) - 1);
	assert_int_equal(policy_load(path, hc, &f->online16, &p, &d), 0);
	assert_int_equal(d.n, 0);
	assert_true(p->strict);
	assert_int_equal(p->scope.kind, SCOPE_CGROUP);
	assert_string_equal(p->scope.cgroup, "/machine.slice");
	assert_int_equal(p->scope_line, 7);
	assert_true(p->has_irq_default);
	assert_int_equal(cpuset_format_list(&p->irq_default, &list), 0);
	assert_string_equal(list, "0-14");
	free(list);
	assert_true(p->has_wq_cpumask);
	assert_int_equal(cpuset_format_list(&p->wq_cpumask, &list), 0);
	assert_string_equal(list, "0-1,4");
	free(list);

	/* isoctl --scope: a copy replaces the file's scope */
	assert_int_equal(policy_set_scope(p, &sc), 0);
	assert_int_equal(p->scope.kind, SCOPE_PROCESS);
	assert_int_equal(p->scope.pid, 77);
	assert_int_equal(p->scope_line, 0);
	sc = (struct scope){SCOPE_CGROUP, 0, "/system.slice"};
	assert_int_equal(policy_set_scope(p, &sc), 0);
	assert_ptr_not_equal(p->scope.cgroup, sc.cgroup);
	assert_string_equal(policy_scope_format(&p->scope, buf, sizeof(buf)), "cgroup:/system.slice");
	sc = (struct scope){SCOPE_CGROUP, 0, NULL};
	assert_int_equal(policy_set_scope(p, &sc), -EINVAL);
	assert_string_equal(p->scope.cgroup, "/system.slice");
	policy_free(p); /* frees the scope's copy: ASan would see a leak */
	p = NULL;
	free(path);

	path = write_file(f, "pid.conf", text_pid, sizeof(text_pid) - 1);
	assert_int_equal(policy_load(path, hc, &f->online16, &p, &d), 0);
	assert_int_equal(p->scope.kind, SCOPE_PROCESS);
	assert_int_equal(p->scope.pid, 1234);
	assert_int_equal(p->scope_line, 3);
	assert_false(p->has_irq_default || p->has_wq_cpumask);
	policy_free(p);
	p = NULL;
	free(path);

	/* defaults: the host, no cpumask; an empty [cpumask] is fine in vanilla */
	path = write_file(f, "plain.conf", text_host, sizeof(text_host) - 1);
	assert_int_equal(policy_load(path, hc, &f->online16, &p, &d), 0);
	assert_int_equal(p->scope.kind, SCOPE_HOST);
	assert_null(p->scope.cgroup);
	assert_int_equal(p->scope_line, 0);
	assert_false(p->strict);
	assert_false(p->has_irq_default || p->has_wq_cpumask);
	policy_free(p);
	free(path);
	assert_int_equal(d.n, 0);
	hostconf_free(hc);
}

/* A sysctl value is written as the number it was checked as: the kernel's
 * proc_dointvec refuses "+0". */
static void test_sysctl_canonical(void **state)
{
	struct fixture *f = *state;
	static const char text[] = "[mode]\ntype = rt-only\n[sysctl]\nkernel.numa_balancing = +0\n"
				   "kernel.sched_rt_period_us = 0001000000\nkernel.sched_rt_runtime_us = -1\n";
	struct policy *p = NULL;
	struct diag d = {0};
	char *path = write_file(f, "canon.conf", text, sizeof(text) - 1);

	assert_int_equal(policy_load(path, NULL, &f->online16, &p, &d), 0);
	assert_int_equal(p->n_sysctls, 3);
	assert_string_equal(p->sysctls[0].value, "0");
	assert_string_equal(p->sysctls[1].value, "1000000");
	assert_string_equal(p->sysctls[2].value, "-1");
	policy_free(p);
	free(path);
	diag_free(&d);
}

/* Any sysctl: the value as the kernel prints it back, a vector with tabs. */
static void test_sysctl_any(void **state)
{
	struct fixture *f = *state;
	static const char text[] = "[mode]\ntype = rt-only\n[sysctl]\nkernel.printk =  4   4 1\t +7 \n"
				   "vm.stat_interval = 010\nnet.ipv4.ip_local_port_range = 32768 60999\n"
				   "kernel.hung_task_timeout_secs = 600\nfs.inotify.max_user_watches = 1e6\n";
	struct policy *p = NULL;
	struct diag d = {0};
	char *path = write_file(f, "any.conf", text, sizeof(text) - 1);

	assert_int_equal(policy_load(path, NULL, &f->online16, &p, &d), 0);
	assert_int_equal(p->n_sysctls, 5);
	assert_string_equal(p->sysctls[0].name, "kernel.printk");
	assert_string_equal(p->sysctls[0].value, "4\t4\t1\t7");
	assert_string_equal(p->sysctls[1].value, "10");
	assert_string_equal(p->sysctls[2].value, "32768\t60999");
	assert_string_equal(p->sysctls[3].value, "600");
	/* Not an integer: as written (the kernel will say). */
	assert_string_equal(p->sysctls[4].value, "1e6");
	policy_free(p);
	free(path);
	diag_free(&d);
}

/* [sysfs]: values trimmed, a cpu list in a CPU's directory one setting per
 * CPU in order (each with the key's line), a CPU named by number one
 * setting, file order kept. */
static void test_sysfs(void **state)
{
	struct fixture *f = *state;
	char *const vars[] = {"rt_cpus=12,6-7", "poll=0", "none=", NULL};
	static const char text[] = "[mode]\ntype = rt-only\n[sysfs]\n"
				   "kernel/mm/transparent_hugepage/enabled =   ${none} never ${none} \t\n"
				   "devices/system/cpu/cpu${rt_cpus}/power/pm_qos_resume_latency_us = n/a\n"
				   "devices/system/cpu/cpu3/cpufreq/scaling_governor = performance\n"
				   "devices/system/cpu/cpu10/cpufreq/scaling_governor = performance\n"
				   "module/kvm/parameters/halt_poll_ns = ${poll}\n"
				   "devices/system/cpu/cpu0-1/cpufreq/energy_performance_preference = power\n";
	static const struct {
		const char *path, *value;
		unsigned line;
	} want[] = {
	    {"kernel/mm/transparent_hugepage/enabled", "never", 4},
	    {"devices/system/cpu/cpu6/power/pm_qos_resume_latency_us", "n/a", 5},
	    {"devices/system/cpu/cpu7/power/pm_qos_resume_latency_us", "n/a", 5},
	    {"devices/system/cpu/cpu12/power/pm_qos_resume_latency_us", "n/a", 5},
	    {"devices/system/cpu/cpu3/cpufreq/scaling_governor", "performance", 6},
	    {"devices/system/cpu/cpu10/cpufreq/scaling_governor", "performance", 7},
	    {"module/kvm/parameters/halt_poll_ns", "0", 8},
	    {"devices/system/cpu/cpu0/cpufreq/energy_performance_preference", "power", 9},
	    {"devices/system/cpu/cpu1/cpufreq/energy_performance_preference", "power", 9},
	};
	struct hostconf *hc = NULL;
	struct policy *p = NULL;
	struct diag d = {0};
	char *path = write_file(f, "sysfs.conf", text, sizeof(text) - 1);

	assert_int_equal(hostconf_from_strv(vars, &f->online16, &hc, &d), 0);
	assert_int_equal(policy_load(path, hc, &f->online16, &p, &d), 0);
	assert_int_equal(d.n, 0);
	assert_int_equal(p->n_sysfs, ARRAY_SIZE(want));
	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		assert_string_equal(p->sysfs[i].path, want[i].path);
		assert_string_equal(p->sysfs[i].value, want[i].value);
		assert_int_equal(p->sysfs[i].line, want[i].line);
	}
	policy_free(p);
	free(path);

	/* no [sysfs], or an empty one: nothing to set */
	for (const char *const *t =
		 (const char *const[]){"[mode]\ntype = vanilla\n", "[mode]\ntype = rt-only\n[sysfs]\n", NULL};
	     *t; t++) {
		p = NULL;
		path = write_file(f, "nosysfs.conf", *t, strlen(*t));
		assert_int_equal(policy_load(path, hc, &f->online16, &p, &d), 0);
		assert_int_equal(p->n_sysfs, 0);
		assert_null(p->sysfs);
		policy_free(p);
		free(path);
	}
	assert_int_equal(d.n, 0);
	hostconf_free(hc);
}

/* [systemd] and [modprobe]: what isoctl boot apply writes, parsed in file
 * order, variables expanded, each module as it is spelled. */
static void test_boot_sections(void **state)
{
	struct fixture *f = *state;
	char *const vars[] = {"rt_cpus=6-7", "ple_gap=0", "sync=kvmclock_periodic_sync=0", NULL};
	static const char text[] = "[mode]\ntype = dedicated\n"
				   "[modprobe]\n"
				   "kvm = ${sync}\n"
				   "kvm-intel =  ple_gap=${ple_gap}\t nested  vmentry_l1d_flush=never\n"
				   "[systemd]\n"
				   "cpu_affinity = ${housekeeping_cpus}\n";
	static const char text_none[] = "[mode]\ntype = rt-only\n[systemd]\n[modprobe]\n";
	struct hostconf *hc = NULL;
	struct policy *p = NULL;
	struct diag d = {0};
	char *path, *list = NULL;

	assert_int_equal(hostconf_from_strv(vars, &f->online16, &hc, &d), 0);
	path = write_file(f, "boot.conf", text, sizeof(text) - 1);
	assert_int_equal(policy_load(path, hc, &f->online16, &p, &d), 0);
	assert_int_equal(d.n, 0);
	assert_true(p->has_systemd_affinity);
	assert_int_equal(cpuset_format_list(&p->systemd_affinity, &list), 0);
	assert_string_equal(list, "0-5,8-15");
	free(list);
	assert_int_equal(p->systemd_line, 7);
	assert_int_equal(p->n_modprobe, 2);
	assert_string_equal(p->modprobe[0].module, "kvm");
	assert_int_equal(p->modprobe[0].line, 4);
	assert_int_equal(strv_len(p->modprobe[0].params), 1);
	assert_string_equal(p->modprobe[0].params[0], "kvmclock_periodic_sync=0");
	assert_string_equal(p->modprobe[1].module, "kvm-intel");
	assert_int_equal(p->modprobe[1].line, 5);
	assert_int_equal(strv_len(p->modprobe[1].params), 3);
	assert_string_equal(p->modprobe[1].params[0], "ple_gap=0");
	assert_string_equal(p->modprobe[1].params[1], "nested");
	assert_string_equal(p->modprobe[1].params[2], "vmentry_l1d_flush=never");
	policy_free(p);
	free(path);

	/* no keys, or no sections: nothing to write */
	for (const char *const *t = (const char *const[]){text_none, MODE_RT_ONLY, NULL}; *t; t++) {
		p = NULL;
		path = write_file(f, "noboot.conf", *t, strlen(*t));
		assert_int_equal(policy_load(path, hc, &f->online16, &p, &d), 0);
		assert_false(p->has_systemd_affinity);
		assert_int_equal(p->systemd_line, 0);
		assert_int_equal(p->n_modprobe, 0);
		assert_null(p->modprobe);
		policy_free(p);
		free(path);
	}
	assert_int_equal(d.n, 0);
	hostconf_free(hc);
}

/* ---- directories ---- */

static void test_list_find(void **state)
{
	struct fixture *f = *state;
	char *dir = NULL, **v = NULL, *path = NULL, *want = NULL;
	static const char *const files[] = {"b.conf", "a.conf", "host.conf", "notes.txt", ".hidden.conf", ".conf"};

	assert_true(asprintf(&dir, "%s/policies", f->dir) > 0);
	assert_int_equal(mkdir(dir, 0755), 0);
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		char *p = NULL;
		FILE *fp;

		assert_true(asprintf(&p, "%s/%s", dir, files[i]) > 0);
		fp = fopen(p, "w");
		assert_non_null(fp);
		fclose(fp);
		free(p);
	}
	assert_true(asprintf(&want, "%s/sub.conf", dir) > 0);
	assert_int_equal(mkdir(want, 0755), 0); /* a directory is not a policy */
	free(want);

	assert_int_equal(policy_list_dir(dir, &v), 0);
	assert_int_equal(strv_len(v), 2);
	assert_true(asprintf(&want, "%s/a.conf", dir) > 0);
	assert_string_equal(v[0], want);
	free(want);
	assert_true(asprintf(&want, "%s/b.conf", dir) > 0);
	assert_string_equal(v[1], want);
	strv_free(v);

	assert_int_equal(policy_find(dir, "b", &path), 0);
	assert_string_equal(path, want);
	free(want);
	free(path);
	path = NULL;
	assert_int_equal(policy_find(dir, "../x", &path), -EINVAL);
	assert_int_equal(policy_find(dir, "a.conf", &path), -EINVAL);
	assert_int_equal(policy_find(dir, "", &path), -EINVAL);
	assert_int_equal(policy_find(dir, "a b", &path), -EINVAL);
	assert_int_equal(policy_find(dir, "zz", &path), -ENOENT);
	assert_int_equal(policy_find(dir, "host", &path), -ENOENT);
	assert_int_equal(policy_find(dir, "sub", &path), -ENOENT);
	assert_null(path);

	assert_int_equal(policy_list_dir("/nonexistent-dir-of-policies", &v), -ENOENT);
	free(dir);
}

/* ---- the shipped policies ---- */

static const char *const shipped[] = {
    "vanilla.conf", "rt-only.conf", "dedicated.conf", "outsourcing.conf", "examples/webserver-2cpu.conf",
};

static void load_shipped(struct fixture *f, const char *hostconf_src, const struct cpuset *online)
{
	struct hostconf *hc = NULL;
	struct diag d = {0};
	char *hpath = copy_file(f, hostconf_src, "host.conf");

	assert_int_equal(hostconf_load(hpath, online, &hc, &d), 0);
	for (size_t i = 0; i < ARRAY_SIZE(shipped); i++) {
		const char *base = strrchr(shipped[i], '/') ? strrchr(shipped[i], '/') + 1 : shipped[i];
		char *src = NULL, *path;
		struct policy *p = NULL;
		int r;

		assert_true(asprintf(&src, "%s/%s", POLICY_DIR, shipped[i]) > 0);
		path = copy_file(f, src, base);
		r = policy_load(path, hc, online, &p, &d);
		for (size_t j = 0; j < d.n; j++)
			print_error("%s\n", d.lines[j]);
		assert_int_equal(r, 0);
		assert_int_equal(d.n, 0);
		/* the file name and [mode] name agree */
		assert_true(strncmp(base, p->name, strlen(p->name)) == 0 &&
			    strcmp(base + strlen(p->name), ".conf") == 0);
		if (strcmp(p->name, "dedicated") == 0) {
			assert_int_equal(p->type, MODE_TYPE_DEDICATED);
			assert_int_equal(p->n_sysctls, 6);
			/* THP, KSM, and per RT CPU its PM QoS and governor */
			assert_int_equal(p->n_sysfs, 2 + 2 * cpuset_count(&p->rt_cpus));
			for (size_t k = 2; k < p->n_sysfs; k++)
				assert_non_null(strstr(p->sysfs[k].path, "devices/system/cpu/cpu"));
			assert_int_equal(strv_len(p->cmdline_require), 4);
			assert_int_equal(p->n_irq_rules, 2);
			assert_int_equal(p->n_thread_rules, 7);
			assert_false(cpuset_empty(&p->rt_cpus));
			assert_false(cpuset_intersects(&p->rt_cpus, &p->housekeeping_cpus));
			/* new IRQs and unbound kworkers start on housekeeping */
			assert_true(p->has_irq_default && p->has_wq_cpumask);
			assert_true(cpuset_equal(&p->irq_default, &p->housekeeping_cpus));
			assert_true(cpuset_equal(&p->wq_cpumask, &p->housekeeping_cpus));
			/* at boot: systemd's services on housekeeping, kvm's option */
			assert_true(p->has_systemd_affinity);
			assert_true(cpuset_equal(&p->systemd_affinity, &p->housekeeping_cpus));
			assert_int_equal(p->n_modprobe, 1);
			assert_string_equal(p->modprobe[0].module, "kvm");
			assert_int_equal(strv_len(p->modprobe[0].params), 1);
			assert_string_equal(p->modprobe[0].params[0], "kvmclock_periodic_sync=0");
		} else if (strcmp(p->name, "outsourcing") == 0) {
			assert_int_equal(p->requires, POLICY_REQ_PREEMPT_RT | POLICY_REQ_RTNET);
			assert_string_equal(p->sysctls[0].name, "net.core.rtnet_prio");
		} else if (strcmp(p->name, "vanilla") == 0) {
			assert_int_equal(p->n_irq_rules + p->n_thread_rules + p->n_sysctls, 0);
		} else if (strcmp(p->name, "rt-only") == 0) {
			assert_int_equal(p->requires, POLICY_REQ_PREEMPT_RT);
			for (size_t k = 0; k < p->n_sysctls; k++)
				assert_string_not_equal(p->sysctls[k].name, "kernel.sched_rt_runtime_us");
		}
		/* every policy but dedicated keeps all CPUs shared */
		if (strcmp(p->name, "dedicated") != 0) {
			assert_false(p->has_irq_default || p->has_wq_cpumask);
			assert_false(p->has_systemd_affinity);
			assert_int_equal(p->n_modprobe, 0);
		}
		/* the shipped policies govern the whole host */
		assert_int_equal(p->scope.kind, SCOPE_HOST);
		policy_free(p);
		free(path);
		free(src);
	}
	hostconf_free(hc);
	free(hpath);
}

static void test_shipped_16cpu(void **state)
{
	struct fixture *f = *state;

	load_shipped(f, POLICY_DIR "/host.conf.example", &f->online16);
}

static void test_shipped_2cpu(void **state)
{
	struct fixture *f = *state;

	load_shipped(f, POLICY_DIR "/examples/host.conf", &f->online2);
}

/* policy_list_dir on the shipped directory: the four modes, sorted. */
static void test_shipped_list(void **state)
{
	char **v = NULL;

	(void)state;
	assert_int_equal(policy_list_dir(POLICY_DIR, &v), 0);
	assert_int_equal(strv_len(v), 4);
	assert_non_null(strstr(v[0], "/dedicated.conf"));
	assert_non_null(strstr(v[1], "/outsourcing.conf"));
	assert_non_null(strstr(v[2], "/rt-only.conf"));
	assert_non_null(strstr(v[3], "/vanilla.conf"));
	strv_free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_bad_policies, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_long_line, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_file_refusals, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_permissions, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_trust_dirs, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_trust_symlinks, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_trust_hostconf, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_hostconfs, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_hostconf_expansion_budget, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_hostconf_max_items, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_hostconf_expansion, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_hostconf_strv, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_terms, setup, teardown),
	    cmocka_unit_test(test_sched),
	    cmocka_unit_test(test_scope_parse),
	    cmocka_unit_test_setup_teardown(test_sysctl_canonical, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sysctl_any, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sysfs, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_boot_sections, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_scope_cpumask, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_list_find, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_shipped_16cpu, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_shipped_2cpu, setup, teardown),
	    cmocka_unit_test(test_shipped_list),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
