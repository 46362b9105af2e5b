#!/bin/bash
# [sysctl] takes any sysctl (issue 17): on copies of the kvm16 fixture, a
# mode that sets sysctls beyond the five the modes always read (a checked
# one, a vector, a free string) plans, applies, reads back, shows in status,
# finds drift, and reverts byte for byte; a mode switch that no longer sets
# one puts it back (the journal's sysctl must be read for that); one the
# kernel lacks or cannot write is "cannot be done", and the rest still goes.
# The same through the daemon on a private bus.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dbus-lib.sh"
: "${ISOLATED:?}"

H=$T/host
fresh() {
	rm -rf "$H" "$T/orig"
	cp -a "$FIX/kvm16" "$H"
	# Sysctls kvm16 does not have, in the kernel's formats.
	printf '4\t4\t1\t7\n' >"$H/proc/sys/kernel/printk"
	echo 120 >"$H/proc/sys/kernel/hung_task_timeout_secs"
	echo '(none)' >"$H/proc/sys/kernel/domainname"
	echo 6.1.0-27-amd64 >"$H/proc/sys/kernel/osrelease"
	cp -a "$H" "$T/orig"
}
I=(--root "$H" --policies "$T/pol" --config "$H/etc/isolated")
mkdir -p "$T/pol"
cat >"$T/pol/knobs.conf" <<'EOF'
[mode]
type = rt-only
[sysctl]
vm.stat_interval = 10
kernel.hung_task_timeout_secs = 600
kernel.nmi_watchdog = 0
kernel.printk = 3 4 1 7
kernel.domainname = rt-host
kernel.no_such_knob = 1
kernel.osrelease = 7
EOF
cat >"$T/pol/fewer.conf" <<'EOF'
[mode]
type = rt-only
[sysctl]
vm.stat_interval = 10
EOF

# ---- plan: what exists and can be written, and what cannot ----
fresh
chmod a-w "$H/proc/sys/kernel/osrelease"
cp -a "$H/proc/sys/kernel/osrelease" "$T/orig/proc/sys/kernel/osrelease"
run 0 "${I[@]}" plan knobs
expect_grep "$T/out" 'vm\.stat_interval +1 -> 10 +\[sysctl\]'
expect_grep "$T/out" 'kernel\.hung_task_timeout_secs +120 -> 600'
expect_grep "$T/out" 'kernel\.nmi_watchdog +1 -> 0'
expect_grep "$T/out" 'kernel\.printk +4	4	1	7 -> 3	4	1	7'
expect_grep "$T/out" 'kernel\.domainname +\(none\) -> rt-host'
expect_grep "$T/out" 'the kernel has no kernel\.no_such_knob \[sysctl\]'
expect_grep "$T/out" 'kernel\.osrelease is read-only on this kernel \[sysctl\]'
run 0 "${I[@]}" --json plan knobs
expect_eq "plan --json: sysctl actions" "$(jq '[.actions[] | select(.kind == "sysctl")] | length' "$T/out")" 5
expect_eq "plan --json: cannot" "$(jq -c '[.cannot[].target]' "$T/out")" '["kernel.no_such_knob","kernel.osrelease"]'

# ---- apply, status, verify, drift, revert ----
run 0 "${I[@]}" apply knobs
expect_eq "stat_interval" "$(cat "$H/proc/sys/vm/stat_interval")" 10
expect_eq "hung_task_timeout_secs" "$(cat "$H/proc/sys/kernel/hung_task_timeout_secs")" 600
expect_eq "printk" "$(cat "$H/proc/sys/kernel/printk")" "$(printf '3\t4\t1\t7')"
expect_eq "domainname" "$(cat "$H/proc/sys/kernel/domainname")" rt-host
run 0 "${I[@]}" --json status
expect_eq "status: pristine of printk" \
	"$(jq -r '.. | objects | select(.target? == "kernel.printk") | .pristine' "$T/out")" "$(printf '4\t4\t1\t7')"
expect_eq "status: pristine of hung_task" \
	"$(jq -r '.. | objects | select(.target? == "kernel.hung_task_timeout_secs") | .pristine' "$T/out")" 120
run 0 "${I[@]}" verify
echo 60 >"$H/proc/sys/kernel/hung_task_timeout_secs"
run 1 "${I[@]}" verify
expect_grep "$T/out" 'kernel\.hung_task_timeout_secs +120 +600 +60'
echo 600 >"$H/proc/sys/kernel/hung_task_timeout_secs"
run 0 "${I[@]}" revert
expect_same_tree "revert of knobs" "$T/orig" "$H"

# ---- a mode switch puts back what the new mode does not set ----
fresh
run 0 "${I[@]}" apply knobs
run 0 "${I[@]}" apply fewer
expect_eq "printk after the switch" "$(cat "$H/proc/sys/kernel/printk")" "$(printf '4\t4\t1\t7')"
expect_eq "hung_task after the switch" "$(cat "$H/proc/sys/kernel/hung_task_timeout_secs")" 120
expect_eq "stat_interval after the switch" "$(cat "$H/proc/sys/vm/stat_interval")" 10
run 0 "${I[@]}" revert
expect_same_tree "revert after the switch" "$T/orig" "$H"

# ---- through the daemon: the same switch, on a private bus ----
fresh
start_private_bus "$T/bus" || { fail "no private bus"; finish; }
start_tree_daemon "$H" "$T/pol"
run 0 apply knobs
expect_eq "daemon: printk" "$(cat "$H/proc/sys/kernel/printk")" "$(printf '3\t4\t1\t7')"
run 0 apply fewer
expect_eq "daemon: printk after the switch" "$(cat "$H/proc/sys/kernel/printk")" "$(printf '4\t4\t1\t7')"
run 0 revert
stop_pid "$DPID" TERM 30 "the daemon"
expect_same_tree "revert through the daemon" "$T/orig" "$H"
finish
