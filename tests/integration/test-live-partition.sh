#!/bin/bash
# [partition] on the running kernel (issue 18), inside a child cpuset the
# test creates and removes itself (../shared/DESIGN.md: no other cgroup is
# touched): on a v1 cpuset hierarchy (this build VM's hybrid layout) the
# partition is made below that cpuset -- parent = /isotest-PID -- with a
# process the test starts in it; the kernel's own files read back what
# the plan wanted (our cpusets, their CPUs and sched_load_balance, the
# process's cpuset), and revert leaves the test's cpuset as it was. On a
# host whose cpuset controller is on cgroup v2, or with one CPU, skipped.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || { echo "not root: skipped"; finish; }
C=/sys/fs/cgroup/cpuset
[ -e "$C/cpuset.cpus" ] || { echo "no v1 cpuset hierarchy at $C: skipped"; finish; }
[ -e /sys/devices/system/cpu/cpu1 ] || { echo "one CPU: skipped"; finish; }
[ ! -s /run/isolated/journal ] || { fail "isolated holds this host already (/run/isolated/journal)"; finish; }

P=$C/isotest-$$
mkdir "$P" || { fail "mkdir $P"; finish; }
pid=
cleanup() {
	"$ISOCTL" --direct --config "$T/conf" --policies "$T/pol" revert --force >/dev/null 2>&1
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	for d in "$P"/isolated-rt "$P"/isolated-rt-housekeeping "$P"; do
		[ -d "$d" ] || continue
		while read -r t; do echo "$t" >"$C/tasks" 2>/dev/null; done <"$d/tasks"
		rmdir "$d" 2>/dev/null
	done
	rm -rf "$T"
}
trap cleanup EXIT
cat "$C/cpuset.cpus" >"$P/cpuset.cpus"
cat "$C/cpuset.mems" >"$P/cpuset.mems"
rel=/isotest-$$

# A process of ours in the test's cpuset: its comm names it to the rule.
cp /bin/sleep "$T/isotest-rt"
"$T/isotest-rt" 600 &
pid=$!
echo "$pid" >"$P/tasks"

mkdir -p "$T/conf" "$T/pol"
printf 'rt_cpus = 1\n' >"$T/conf/host.conf"
cat >"$T/pol/part.conf" <<EOF
[mode]
type = rt-only
[thread rt]
match = comm:isotest-rt
cpus = \${rt_cpus}
[partition]
cpus = \${rt_cpus}
threads = rt
parent = $rel
EOF
I=(--direct --config "$T/conf" --policies "$T/pol")
snap() { # the test cpuset's files, ours included
	for f in "$P"/cpuset.cpus "$P"/cpuset.mems "$P"/cpuset.sched_load_balance "$P"/tasks; do
		printf '%s: %s\n' "${f#"$C"/}" "$(tr '\n' ' ' <"$f")"
	done
	find "$P" -mindepth 1 -maxdepth 1 -type d | sort
	grep ':cpuset:' "/proc/$pid/cgroup"
}
snap >"$T/before"

run 0 "${I[@]}" plan part
expect_grep "$T/out" "cgroup/cpuset$rel/cpuset.sched_load_balance +1 -> 0"
expect_grep "$T/out" "cgroup/cpuset$rel/isolated-rt +absent -> present"
expect_grep "$T/out" "tid/$pid +isotest-rt +$rel -> $rel/isolated-rt \[rt\]"
run 0 "${I[@]}" apply part
echo "live partition in $P: $(tail -1 "$T/out")"
expect_eq "our cpuset's CPUs" "$(cat "$P/isolated-rt/cpuset.cpus")" "1"
expect_eq "our cpuset does not balance" "$(cat "$P/isolated-rt/cpuset.sched_load_balance")" "0"
expect_eq "the housekeeping cpuset" "$(cat "$P/isolated-rt-housekeeping/cpuset.cpus") $(cat "$P/isolated-rt-housekeeping/cpuset.sched_load_balance")" "0 1"
expect_eq "the parent does not balance" "$(cat "$P/cpuset.sched_load_balance")" "0"
expect_eq "the process in our cpuset" "$(grep ':cpuset:' "/proc/$pid/cgroup" | cut -d: -f3)" "$rel/isolated-rt"
expect_eq "its CPUs" "$(awk '/^Cpus_allowed_list/ {print $2}' "/proc/$pid/status")" "1"
run 0 "${I[@]}" status
expect_no_grep "$T/out" '\(gone\)'
run 0 "${I[@]}" verify
# A drift the kernel shows: the process taken out of our cpuset.
echo "$pid" >"$P/tasks"
run 1 "${I[@]}" verify
expect_grep "$T/out" "tid/$pid"
run 0 "${I[@]}" revert --force
snap >"$T/after"
diff "$T/before" "$T/after" >"$T/diff" || fail "revert left the test's cpuset changed: $(cat "$T/diff")"
[ ! -s /run/isolated/journal ] || fail "revert left /run/isolated/journal"
finish
