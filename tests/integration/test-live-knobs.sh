#!/bin/bash
# The new knobs on the running kernel (issue 17), only those this machine's
# tests may change (../shared/DESIGN.md): transparent hugepages, KSM's run,
# vm.stat_interval and CPU 1's pm_qos_resume_latency_us. A host-scope mode
# with no IRQ or thread rule sets them; status reads them back; a drift is
# found; revert puts every one back exactly as it was (and the trap does,
# whatever fails). As root, on a host with CPU 1.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || { echo "not root: skipped"; finish; }
THP=/sys/kernel/mm/transparent_hugepage/enabled
KSM=/sys/kernel/mm/ksm/run
STAT=/proc/sys/vm/stat_interval
QOS=/sys/devices/system/cpu/cpu1/power/pm_qos_resume_latency_us
for f in "$THP" "$KSM" "$STAT" "$QOS"; do
	[ -w "$f" ] || { echo "no writable $f on this kernel: skipped"; finish; }
done
[ ! -s /run/isolated/journal ] || { fail "isolated holds this host already (/run/isolated/journal)"; finish; }

thp0=$(sed 's/.*\[\(.*\)\].*/\1/' "$THP")
ksm0=$(cat "$KSM")
stat0=$(cat "$STAT")
qos0=$(cat "$QOS")
state() { printf '%s|%s|%s|%s' "$(cat "$THP")" "$(cat "$KSM")" "$(cat "$STAT")" "$(cat "$QOS")"; }
before=$(state)
restore() {
	"$ISOCTL" --direct --config "$T/conf" --policies "$T/pol" revert --force >/dev/null 2>&1
	[ "$(state)" == "$before" ] && return
	echo "$thp0" >"$THP"
	echo "$ksm0" >"$KSM"
	echo "$stat0" >"$STAT"
	echo "$qos0" >"$QOS"
}
trap 'restore; rm -rf "$T"' EXIT

# Values other than the host's, whatever they are.
[ "$thp0" == never ] && thp1=madvise || thp1=never
[ "$ksm0" == 0 ] && ksm1=2 || ksm1=0
[ "$stat0" == 10 ] && stat1=5 || stat1=10
[ "$qos0" == 3 ] && qos1=n/a || qos1=3
mkdir -p "$T/conf" "$T/pol"
printf 'rt_cpus = 1\n' >"$T/conf/host.conf"
cat >"$T/pol/knobs.conf" <<EOF
[mode]
type = rt-only
[sysctl]
vm.stat_interval = $stat1
[sysfs]
kernel/mm/transparent_hugepage/enabled = $thp1
kernel/mm/ksm/run = $ksm1
devices/system/cpu/cpu\${rt_cpus}/power/pm_qos_resume_latency_us = $qos1
EOF
I=(--direct --config "$T/conf" --policies "$T/pol")

run 0 "${I[@]}" --json plan knobs
expect_eq "plan: the four changes" "$(jq -c '[.actions[] | [.kind, .target, .to]]' "$T/out")" \
	"[[\"sysctl\",\"vm.stat_interval\",\"$stat1\"],[\"sysfs\",\"sysfs/kernel/mm/transparent_hugepage/enabled\",\"$thp1\"],[\"sysfs\",\"sysfs/kernel/mm/ksm/run\",\"$ksm1\"],[\"sysfs\",\"sysfs/devices/system/cpu/cpu1/power/pm_qos_resume_latency_us\",\"$qos1\"]]"
expect_eq "plan: nothing else" "$(jq '.actions | length' "$T/out")" 4
run 0 "${I[@]}" apply knobs
expect_grep "$THP" "\[$thp1\]"
expect_eq "KSM run" "$(cat "$KSM")" "$ksm1"
expect_eq "stat_interval" "$(cat "$STAT")" "$stat1"
expect_eq "CPU 1 pm_qos" "$(cat "$QOS")" "$qos1"
run 0 "${I[@]}" verify
# Drift: another program puts THP back.
echo "$thp0" >"$THP"
run 1 "${I[@]}" verify
expect_grep "$T/out" "sysfs/kernel/mm/transparent_hugepage/enabled +$thp0 +$thp1 +$thp0"
run 0 "${I[@]}" apply knobs --force
expect_grep "$THP" "\[$thp1\]"
run 0 "${I[@]}" revert
expect_eq "after revert" "$(state)" "$before"
[ ! -s /run/isolated/journal ] || fail "a journal is left after revert"
finish
