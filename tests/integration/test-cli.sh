# The command line as a user meets it: usage errors, unknown modes, mode names
# that try to be paths, errors as one "isoctl: ..." line with exit 2.
. "$(dirname "$0")/lib.sh"
EX="--config $TOP/policies/examples"

run 2 || true
expect_grep "$T/err" '^isoctl: no command given'
run 2 frobnicate
expect_grep "$T/err" '^isoctl: unknown command "frobnicate"'
run 2 --bogus-option list
run 0 --help && expect_grep "$T/out" '^Usage: isoctl'
run 2 $EX plan
expect_grep "$T/err" '^isoctl: usage: isoctl plan MODE'
run 2 $EX plan no-such-mode
expect_grep "$T/err" '^isoctl: unknown mode "no-such-mode"'
for bad in ../dedicated /etc/passwd 'a b' '.hidden' ''; do
	run 2 $EX plan "$bad"
	expect_grep "$T/err" '^isoctl: invalid mode name'
done
run 2 --root /nonexistent status
expect_grep "$T/err" '^isoctl: --root /nonexistent: not a directory'
run 2 --config "$T/empty-dir" plan dedicated
expect_grep "$T/err" "host.conf"

# list and show with the example host.conf
run 0 $EX list
for m in vanilla rt-only dedicated outsourcing; do expect_grep "$T/out" "^$m "; done
run 0 $EX list --json
expect_eq "list --json valid" "$(jq -r '[.[] | select(.valid)] | length' "$T/out")" 4
run 0 $EX show dedicated
expect_grep "$T/out" '^type = dedicated'
# every value resolved (the comments are the file's, as written)
grep -v '^#' "$T/out" >"$T/values"
expect_no_grep "$T/values" '\$\{'
# every section the file has: [sysfs] (expanded), [cpumask], [irqbalance]
expect_grep "$T/out" '^kernel/mm/ksm/run = 2$'
expect_grep "$T/out" '^devices/system/cpu/cpu1/power/pm_qos_resume_latency_us = 3$'
expect_grep "$T/out" '^irq_default = 0$'
expect_grep "$T/out" '^workqueue = 0$'
expect_grep "$T/out" '^banned = 1$'
expect_eq "show sections" "$(grep '^\[[a-z]*\]$' "$T/out" | tr '\n' ' ')" \
	"[mode] [sysctl] [sysfs] [cpumask] [irqbalance] [partition] [cmdline] [systemd] [modprobe] "
run 0 $EX show dedicated --json
expect_eq "show --json sysctl" "$(jq -r '.sysctl["kernel.sched_rt_runtime_us"]' "$T/out")" "-1"
expect_eq "show --json sysfs" "$(jq -r '.sysfs[] | "\(.path) = \(.value)"' "$T/out")" \
	"kernel/mm/transparent_hugepage/enabled = never
kernel/mm/ksm/run = 2
devices/system/cpu/cpu1/power/pm_qos_resume_latency_us = 3
devices/system/cpu/cpu1/cpufreq/scaling_governor = performance"
expect_eq "show --json cpumask" "$(jq -c .cpumask "$T/out")" '{"irq_default":"0","workqueue":"0"}'
expect_eq "show --json irqbalance" "$(jq -c .irqbalance "$T/out")" '{"banned":"1"}'
expect_eq "show --json boot sections" "$(jq -c '[.systemd, .modprobe]' "$T/out")" \
	'[{"cpu_affinity":"0"},{"kvm":"kvmclock_periodic_sync=0"}]'
run 0 $EX show vanilla --json
expect_eq "show --json vanilla: empty sections" \
	"$(jq -c '[.sysfs, .cpumask, .irqbalance, .systemd, .modprobe]' "$T/out")" '[[],{},{},{},{}]'
run 0 $EX show vanilla
expect_no_grep "$T/out" '^\[(sysfs|cpumask|irqbalance|systemd|modprobe)\]$'

# show explains each line: the comment block right above a key or a header
# of the file is printed above it (a blank line ends a block), [sysfs] once
# above the CPUs a key expands to; --json has them in .why, by "SECTION"
# and "SECTION KEY", the other fields as they were.
mkdir -p "$T/why"
cat >"$T/why/why.conf" <<'POL'
# The whole file: a blank line follows, so it explains nothing below.

; why the mode
[mode]
type = dedicated
# why the summary
summary = explained

[sysctl]
# why stat_interval,
# on two lines
#
#   indented
vm.stat_interval = 10
kernel.numa_balancing = 0
# cut off by the blank line

kernel.timer_migration = 0

# why sysfs
[sysfs]
; why pm_qos
devices/system/cpu/cpu${rt_cpus}/power/pm_qos_resume_latency_us = 3
kernel/mm/ksm/run = 2

[cpumask]
# why irq_default
irq_default = ${housekeeping_cpus}

[irqbalance]
# why banned
banned = ${rt_cpus}

[cmdline]
# why require
require = isolcpus=${rt_cpus}

# why systemd
[systemd]
cpu_affinity = ${housekeeping_cpus}

[modprobe]
# why kvm
kvm = kvmclock_periodic_sync=0
kvm-intel = ple_gap=0	nested

# why the rule
[irq  rt-nic]
match = nic:${rt_nic} ; an inline comment is not kept
# why its cpus
cpus = ${rt_cpus}

[thread rt-vcpu]
match = vm:${rt_vm} vcpu:${rt_vcpus}
cpus = ${rt_cpus}
# why sched
sched = fifo:51
POL
chmod 644 "$T/why/why.conf"
run 0 --root "$FIX/kvm16" --policies "$T/why" show why
expect_eq "show explains" "$(sed '1,/^$/d' "$T/out")" "# why the mode
[mode]
name = why
type = dedicated
# why the summary
summary = explained

[sysctl]
# why stat_interval,
# on two lines
#
#   indented
vm.stat_interval = 10
kernel.numa_balancing = 0
kernel.timer_migration = 0

# why sysfs
[sysfs]
# why pm_qos
devices/system/cpu/cpu6/power/pm_qos_resume_latency_us = 3
devices/system/cpu/cpu7/power/pm_qos_resume_latency_us = 3
kernel/mm/ksm/run = 2

[cpumask]
# why irq_default
irq_default = 0-5,8-15

[irqbalance]
# why banned
banned = 6-7

[cmdline]
# why require
require = isolcpus=6-7

# why systemd
[systemd]
cpu_affinity = 0-5,8-15

[modprobe]
# why kvm
kvm = kvmclock_periodic_sync=0
kvm-intel = ple_gap=0 nested

# why the rule
[irq rt-nic]
match = nic:eth1
# why its cpus
cpus = 6-7

[thread rt-vcpu]
match = vm:rtvm vcpu:0-1
cpus = 6-7
# why sched
sched = fifo:51"
run 0 --root "$FIX/kvm16" --policies "$T/why" show why --json
expect_eq "show --json why" "$(jq -S . "$T/out" | jq -c .why)" '{"cmdline require":"why require","cpumask irq_default":"why irq_default","irq rt-nic":"why the rule","irq rt-nic cpus":"why its cpus","irqbalance banned":"why banned","mode":"why the mode","mode summary":"why the summary","modprobe kvm":"why kvm","sysctl vm.stat_interval":"why stat_interval,\non two lines\n\n  indented","sysfs":"why sysfs","sysfs devices/system/cpu/cpu6/power/pm_qos_resume_latency_us":"why pm_qos","sysfs devices/system/cpu/cpu7/power/pm_qos_resume_latency_us":"why pm_qos","systemd":"why systemd","thread rt-vcpu sched":"why sched"}'
expect_eq "show --json fields" "$(jq -c 'keys_unsorted' "$T/out")" \
	'["name","file","hostconf","type","summary","requires","strict","variables","sysctl","sysfs","cpumask","irqbalance","partition","cmdline_require","cmdline_recommend","systemd","modprobe","irq_rules","thread_rules","why"]'
expect_eq "show --json values" "$(jq -c '[.sysctl, .irq_rules, .thread_rules, .cmdline_require]' "$T/out")" \
	'[{"vm.stat_interval":"10","kernel.numa_balancing":"0","kernel.timer_migration":"0"},[{"name":"rt-nic","match":"nic:eth1","cpus":"6-7"}],[{"name":"rt-vcpu","match":"vm:rtvm vcpu:0-1","cpus":"6-7","sched":"fifo:51"}],"isolcpus=6-7"]'
expect_eq "show --json boot sections" "$(jq -c '[.systemd, .modprobe]' "$T/out")" \
	'[{"cpu_affinity":"0-5,8-15"},{"kvm":"kvmclock_periodic_sync=0","kvm-intel":"ple_gap=0 nested"}]'
# The shipped policies: each header and key is shown under the comment the
# file has above it. pairs FILE: "[SECTION] KEY|COMMENT|LINES" for each key
# and header, values left out (show resolves them) and the per-CPU [sysfs]
# keys too (show expands them).
pairs() {
	awk '/^[ \t]*[#;]/ { sub(/^[ \t]*[#;] ?/, ""); c = c "|" $0; next }
		/^\[/ { h = $0; gsub(/[][]/, "", h); gsub(/[ \t]+/, " ", h); print "[" h "]" c; c = ""; next }
		/=/ { k = $0; sub(/[ \t]*=.*/, "", k); print "[" h "] " k c }
		{ c = "" }' "$1" | grep -v '/cpu\(\${[a-z_]*}\|[0-9]*\)/' | LC_ALL=C sort
}
for m in vanilla rt-only dedicated outsourcing; do
	run 0 --root "$FIX/kvm16" show "$m"
	expect_eq "show $m: the file's comments" "$(pairs "$T/out")" "$(pairs "$TOP/policies/$m.conf")"
done
# A comment line with a terminal escape is shown escaped, in its own line.
printf '[mode]\n# evil \033]0;pwned\a\ntype = vanilla\n' >"$T/why/evil.conf"
chmod 644 "$T/why/evil.conf"
run 0 --root "$FIX/kvm16" --policies "$T/why" show evil
expect_grep "$T/out" '^# evil \\x1b\]0;pwned\\x07$'
expect_no_grep "$T/out" $'\033'

# no policies at all is an error, for check as for list
mkdir -p "$T/nopol"
run 1 $EX --policies "$T/nopol" check
expect_grep "$T/err" '^isoctl: no policies found'
run 1 $EX --policies "$T/nopol" list

# check without a mode validates every policy
run 0 $EX check
expect_grep "$T/out" 'dedicated.conf'

# A broken policy: one FILE:LINE line per error, exit 2, nothing else printed.
mkdir -p "$T/pol"
cp "$TOP/policies/dedicated.conf" "$T/pol/"
cat >"$T/pol/broken.conf" <<'POL'
[mode]
type = dedicated

[thread rt]
match = comm:foo
cpus = 0-1,x
sched = fifo:100
POL
chmod 644 "$T/pol/broken.conf"
run 2 $EX --policies "$T/pol" plan broken
expect_eq "errors" "$(cat "$T/err")" "$T/pol/broken.conf:6: invalid cpu list: unexpected 'x' at position 5 in \"0-1,x\"
$T/pol/broken.conf:7: priority 100 out of range 1..99"
expect_eq "nothing on stdout" "$(cat "$T/out")" ""
run 0 $EX --policies "$T/pol" list
expect_grep "$T/out" '^broken +INVALID'
run 2 $EX --policies "$T/pol" check

# Refused when writable by others (we run as root in CI, as sudo would).
if [ "$(id -u)" = 0 ]; then
	chmod 666 "$T/pol/dedicated.conf"
	run 2 $EX --policies "$T/pol" plan dedicated
	expect_grep "$T/err" 'dedicated.conf: refusing: writable by group or others'
fi
finish
