#!/bin/bash
# The daemon watches the partition it holds (issue 18): on the kvm16 tree
# with a cgroup v2 layout (gen-kvm16.py --variant v2) and a private bus,
# dedicated makes an isolated partition; the test then writes what the
# kernel writes when it invalidates one into the tree's
# cpuset.cpus.partition. The daemon's inotify watch sees it: one
# PartitionChanged signal, one warning in its log, status (through the
# bus and directly, text and --json) says the CPUs are load-balanced
# again; the same state again is not reported again; a valid state is
# (a notice, a signal). Across a restart the watch is armed again and a
# partition invalidated while the daemon was down is reported at start.
# Revert drops the watch and puts the tree back byte for byte.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dbus-lib.sh"
: "${ISOLATED:?}"

S=$(mktemp -d -p /dev/shm isolated-test-dpart.XXXXXX)
DPID=
MPID=
cleanup() {
	[ -n "$MPID" ] && kill "$MPID" 2>/dev/null
	[ -n "$DPID" ] && kill "$DPID" 2>/dev/null
	wait 2>/dev/null
	[ -n "${KEEP:-}" ] || rm -rf "$S" "$T"
}
trap cleanup EXIT
start_private_bus "$T/bus" || {
	fail "no private bus"
	finish
}
export SYSTEMD_BUS_TIMEOUT=60
BUSNAME=io.isolated.Daemon1

H=$S/host
python3 "$TOP/tests/fixtures/gen-kvm16.py" --variant v2 "$H" >/dev/null || {
	fail "gen-kvm16.py --variant v2"
	finish
}
cp -a "$H" "$S/orig"
POL=$TOP/policies
DIRECT=(--direct --root "$H" --policies "$POL" --config "$H/etc/isolated")
RTVM='machine.slice/machine-qemu\x2d1\x2drtvm.scope'
CGROUP="$RTVM/libvirt/isolated-rt"
P="$H/sys/fs/cgroup/$CGROUP/cpuset.cpus.partition"
# The cgroup as a regular expression (its backslashes).
CG_RE=$(printf '%s' "$CGROUP" | sed 's/[\\.]/\\&/g')
# And as gdbus prints a string (GVariant text: each backslash doubled).
SIG_RE=$(printf '%s' "$CGROUP" | sed 's/\\/\\\\\\\\/g; s/\./\\./g')
INVALID='isolated invalid (Cpu list in cpuset.cpus not exclusive)'
INVALID_RE='isolated invalid \(Cpu list in cpuset\.cpus not exclusive\)'

# No rescan within a test (it follows the journal too): what arms the
# watch is the apply, the start, nothing else.
start_daemon() {
	start_tree_daemon "$H" "$POL" --rescan-interval 3600
	kill -0 "$DPID" 2>/dev/null || fail "the daemon did not come up: $(tail -c 800 "$T/daemon.log")"
}
stop_daemon() {
	[ -n "$DPID" ] || return 0
	kill "$DPID" 2>/dev/null
	wait "$DPID" 2>/dev/null
	DPID=
}
# A subscriber to the daemon's signals, as a client would be (AddMatch),
# its lines in $S/signals; returns once it is subscribed.
start_monitor() {
	gdbus monitor --system --dest "$BUSNAME" >"$S/signals" 2>&1 &
	MPID=$!
	for _ in $(seq 200); do
		grep -q "is owned by" "$S/signals" && return 0
		sleep 0.05
	done
	fail "gdbus monitor did not subscribe: $(head -c 400 "$S/signals")"
}
# wait_for FILE PATTERN: until FILE has a line matching PATTERN (10 s).
wait_for() {
	for _ in $(seq 200); do
		grep -Eq -- "$2" "$1" && return 0
		sleep 0.05
	done
	fail "$(basename "$1") has no line matching /$2/ after 10 s: $(tail -c 600 "$1")"
	return 1
}
signals() { grep -c 'PartitionChanged' "$S/signals"; }
# The daemon logs before it sends: wait (10 s at most) for the Nth signal
# to reach the monitor before counting.
wait_signals() { # N
	for _ in $(seq 200); do
		[ "$(signals)" -ge "$1" ] && return 0
		sleep 0.05
	done
}
warnings() { grep -c "warning: partition $CG_RE: " "$T/daemon.log"; }

start_daemon
start_monitor
run 0 apply dedicated
expect_eq "partition state after apply" "$(cat "$P")" "isolated"
# Our own writes are no change of state: nothing reported.
run 0 status
expect_grep "$T/out" "^partition   $CG_RE: isolated: CPUs 6-7 out of load balancing$"
expect_grep "$T/out" '^            the tick \(nohz_full=\) and RCU callbacks \(rcu_nocbs=\) cannot be moved at run time'
expect_eq "signals after apply" "$(signals)" 0
expect_no_grep "$T/daemon.log" "partition $CG_RE:"

# ---- The kernel invalidates the partition ----
printf '%s\n' "$INVALID" >"$P"
wait_for "$S/signals" "PartitionChanged \('$SIG_RE', '$INVALID_RE'\)"
wait_for "$T/daemon.log" "^isolated: warning: partition $CG_RE: $INVALID_RE: CPUs 6-7 are load-balanced again"
run 0 status
expect_grep "$T/out" "^partition   $CG_RE: $INVALID_RE: CPUs 6-7 are load-balanced again$"
cp "$T/out" "$S/status.bus"
run 0 "${DIRECT[@]}" status
expect_eq "the partition line, directly and through the bus" "$(grep -A2 '^partition ' "$T/out")" \
	"$(grep -A2 '^partition ' "$S/status.bus")"
run 0 --json status
expect_eq "status --json: the partition" "$(python3 -c '
import json, sys
p = json.load(sys.stdin)["isolated"]["partitions"]
print(len(p), p[0]["cgroup"], p[0]["hierarchy"], p[0]["cpus"], p[0]["holds"], p[0]["state"], "|", p[0]["reason"])' <"$T/out")" \
	"1 $CGROUP v2 6-7 False $INVALID | Cpu list in cpuset.cpus not exclusive"

# The same state again (the kernel notifies on every change of the
# partition's CPUs): not reported again. Then valid again: reported.
printf '%s\n' "$INVALID" >"$P"
printf 'isolated\n' >"$P"
wait_for "$S/signals" "PartitionChanged \('$SIG_RE', 'isolated'\)"
wait_for "$T/daemon.log" "^isolated: partition $CG_RE: isolated again: CPUs 6-7 out of load balancing$"
expect_eq "signals: invalid once, valid once" "$(signals)" 2
expect_eq "warnings: one" "$(warnings)" 1
run 0 status
expect_grep "$T/out" "^partition   $CG_RE: isolated: CPUs 6-7 out of load balancing$"

# ---- A restart: recovery watches the partition again ----
stop_daemon
printf '%s\n' "$INVALID" >"$P"
start_daemon
# Invalidated while the daemon was down: said at start (before the bus is
# up, so in the log only). The re-apply leaves it: another program's change.
wait_for "$T/daemon.log" "^isolated: warning: partition $CG_RE: $INVALID_RE"
expect_eq "warnings: the second at start" "$(warnings)" 2
printf 'isolated\n' >"$P"
wait_for "$T/daemon.log" "^isolated: partition $CG_RE: isolated again"
wait_signals 3
expect_eq "signals: valid again after the restart" "$(signals)" 3

# ---- Revert: no partition, no watch ----
run 0 revert
expect_same_tree "apply dedicated, invalidate, revert" "$S/orig" "$H"
expect_eq "signals after revert" "$(signals)" 3
kill -0 "$DPID" 2>/dev/null || fail "the daemon is gone: $(tail -c 600 "$T/daemon.log")"
finish
