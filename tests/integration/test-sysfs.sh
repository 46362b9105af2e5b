#!/bin/bash
# [sysfs] (issue 17) on copies of the kvm16 fixture: a mode that sets
# transparent hugepages, KSM, per-CPU PM QoS and governor (cpu${rt_cpus}),
# a workqueue device and a module parameter plans, applies (THP's brackets
# move as the kernel moves them), shows in status, finds drift, and
# reverts byte for byte; what the kernel lacks, cannot write, or does not
# offer is "cannot be done" and the rest still goes; an injected write
# error undoes the whole transaction; a symlink out of sys/ in a hostile
# tree is not written through; the same through the daemon.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dbus-lib.sh"
: "${ISOLATED:?}"

same_tree() { expect_same_tree "$1" "$T/orig" "$H"; }
H=$T/host
fresh() {
	rm -rf "$H" "$T/orig"
	cp -a "$FIX/kvm16" "$H"
	cp -a "$H" "$T/orig"
}
I=(--root "$H" --policies "$T/pol" --config "$H/etc/isolated")
S=sys/devices/system/cpu
mkdir -p "$T/pol"
cat >"$T/pol/knobs.conf" <<'EOF'
[mode]
type = dedicated
[sysfs]
kernel/mm/transparent_hugepage/enabled = never
kernel/mm/ksm/run = 2
devices/system/cpu/cpu${rt_cpus}/power/pm_qos_resume_latency_us = 3
devices/system/cpu/cpu${rt_cpus}/cpufreq/scaling_governor = performance
devices/virtual/workqueue/writeback/cpumask = ff3f
module/kvm/parameters/halt_poll_ns = 0
kernel/mm/transparent_hugepage/defrag = sometimes
module/rcutree/parameters/kthread_prio = 5
kernel/mm/ksm/no_such_file = 1
EOF

# ---- plan ----
fresh
chmod a-w "$H/sys/module/rcutree/parameters/kthread_prio" "$T/orig/sys/module/rcutree/parameters/kthread_prio"
run 0 "${I[@]}" plan knobs
expect_grep "$T/out" '^sysfs: 8 changes$'
expect_grep "$T/out" 'sysfs/kernel/mm/transparent_hugepage/enabled +madvise -> never +\[sysfs\]'
expect_grep "$T/out" 'sysfs/kernel/mm/ksm/run +1 -> 2 '
expect_grep "$T/out" "sysfs/devices/system/cpu/cpu6/power/pm_qos_resume_latency_us +0 -> 3 "
expect_grep "$T/out" "sysfs/devices/system/cpu/cpu7/power/pm_qos_resume_latency_us +0 -> 3 "
expect_grep "$T/out" 'sysfs/devices/system/cpu/cpu7/cpufreq/scaling_governor +powersave -> performance'
expect_grep "$T/out" 'sometimes is not one of the values /sys/kernel/mm/transparent_hugepage/defrag offers \(always defer defer\+madvise \[madvise\] never\) \[sysfs\]'
expect_grep "$T/out" '/sys/module/rcutree/parameters/kthread_prio is read-only on this kernel \[sysfs\]'
expect_grep "$T/out" 'the kernel has no /sys/kernel/mm/ksm/no_such_file \[sysfs\]'
expect_grep "$T/out" '^8 changes \(0 sysctl, 0 cpumask, 8 sysfs, 0 IRQ affinity'
run 0 "${I[@]}" --json plan knobs
expect_eq "plan --json: sysfs count" "$(jq .counts.sysfs "$T/out")" 8
expect_eq "plan --json: first sysfs action" "$(jq -c '[.actions[] | select(.kind == "sysfs")][0] | [.target, .from, .to]' "$T/out")" \
	'["sysfs/kernel/mm/transparent_hugepage/enabled","madvise","never"]'

# ---- apply, status, drift, revert ----
run 0 "${I[@]}" apply knobs
expect_eq "THP enabled as the kernel prints it" "$(cat "$H/sys/kernel/mm/transparent_hugepage/enabled")" "always madvise [never]"
expect_eq "KSM run" "$(cat "$H/sys/kernel/mm/ksm/run")" 2
expect_eq "pm_qos cpu6" "$(cat "$H/$S/cpu6/power/pm_qos_resume_latency_us")" 3
expect_eq "pm_qos cpu5 untouched" "$(cat "$H/$S/cpu5/power/pm_qos_resume_latency_us")" 0
expect_eq "governor cpu7" "$(cat "$H/$S/cpu7/cpufreq/scaling_governor")" performance
run 0 "${I[@]}" status
expect_grep "$T/out" 'managed +8 targets, 0 drifted, 0 gone'
expect_grep "$T/out" '^  sysfs +sysfs/kernel/mm/transparent_hugepage/enabled +madvise +never +never$'
run 0 "${I[@]}" verify
echo "[always] madvise never" >"$H/sys/kernel/mm/transparent_hugepage/enabled"
run 1 "${I[@]}" verify
expect_grep "$T/out" '^\* sysfs +sysfs/kernel/mm/transparent_hugepage/enabled +madvise +never +always$'
run 0 "${I[@]}" apply knobs --force
expect_eq "THP after --force" "$(cat "$H/sys/kernel/mm/transparent_hugepage/enabled")" "always madvise [never]"
run 0 "${I[@]}" revert
same_tree "revert of knobs"

# ---- a failed write undoes everything ----
fresh
ISOLATED_TREE_FAULTS="sysfs/devices/system/cpu/cpu7/cpufreq/scaling_governor=EBUSY" run 1 "${I[@]}" apply knobs
expect_grep "$T/err" 'sysfs/devices/system/cpu/cpu7/cpufreq/scaling_governor'
same_tree "apply undone after EBUSY"
[ ! -e "$H/run/isolated/journal" ] || fail "a journal is left after the undone apply"

# ---- a hostile tree: a symlink out of sys/ is not written through ----
fresh
mkdir -p "$H/etc/evil/parameters"
echo 7 >"$H/etc/evil/parameters/x"
ln -s ../../etc/evil "$H/sys/module/evil"
cp -a "$H/etc/evil" "$T/orig/etc/"
ln -s ../../etc/evil "$T/orig/sys/module/evil"
cat >"$T/pol/evil.conf" <<'EOF'
[mode]
type = dedicated
[sysfs]
module/evil/parameters/x = 8
EOF
"$ISOCTL" "${I[@]}" apply evil >"$T/out" 2>"$T/err"
expect_eq "etc/evil/parameters/x after the apply" "$(cat "$H/etc/evil/parameters/x")" 7
expect_grep "$T/err" 'module/evil/parameters/x'
"$ISOCTL" "${I[@]}" revert >/dev/null 2>&1
same_tree "after the refused symlink"

# ---- through the daemon ----
fresh
start_private_bus "$T/bus" || { fail "no private bus"; finish; }
start_tree_daemon "$H" "$T/pol"
run 0 apply knobs
expect_eq "daemon: KSM run" "$(cat "$H/sys/kernel/mm/ksm/run")" 2
expect_grep "$T/daemon.log" 'sysfs/kernel/mm/ksm/run: sysfs 1 -> 2 \[sysfs\]'
echo 1 >"$H/sys/kernel/mm/ksm/run"
run 1 verify
expect_grep "$T/daemon.log" 'drift: sysfs/kernel/mm/ksm/run sysfs is 1, isolated wrote 2'
echo 2 >"$H/sys/kernel/mm/ksm/run"
run 0 revert
stop_pid "$DPID" TERM 30 "the daemon"
same_tree "revert through the daemon"
finish
