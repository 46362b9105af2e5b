#!/bin/bash
# The daemon on this machine, on a private bus, holding a mode scoped to a
# process tree the test starts (nothing else on the machine is touched):
#   - 200 threads renamed "CPU N/KVM" right after creation, as QEMU names its
#     vCPU threads, all end up on the RT CPU with SCHED_FIFO, without any
#     isoctl call after they were born;
#   - a storm of thousands of short-lived threads through a proc connector
#     socket with a tiny receive buffer overflows it (ENOBUFS), and the
#     rescan that follows still catches every matching thread;
#   - a real QEMU (TCG) started after the daemon gets its RT vCPU thread
#     SCHED_FIFO on the RT CPU.
# The RT threads all sleep: nothing spins under SCHED_FIFO.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dbus-lib.sh"
: "${ISOLATED:?}" "${HELPERS:?}"

if [ "$(id -u)" != 0 ]; then
	echo "not root: skipped" >&2
	finish
fi
if [ "$(nproc)" -lt 2 ]; then
	echo "one CPU: no RT CPU; skipped" >&2
	finish
fi
if [ -e /run/isolated/journal ]; then
	fail "isolated already holds this machine (/run/isolated/journal): not touching it"
	finish
fi

DPID=
PIDS=()
cleanup() {
	# The daemon reverts what it holds (revert-on-stop), then everything the
	# test started goes.
	if [ -n "$DPID" ]; then
		kill "$DPID" 2>/dev/null
		wait "$DPID" 2>/dev/null
	fi
	for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
start_private_bus "$T/bus" || { fail "no private bus"; finish; }
BUSNAME=io.isolated.Daemon1
export SYSTEMD_BUS_TIMEOUT=60

# The scope: a shell that runs, as its children, what the test writes into
# its FIFO. Everything the daemon may touch descends from it.
mkfifo "$T/cmd"
bash -c 'exec 3<>"$1"; while read -r line <&3; do eval "$line" & done' scope "$T/cmd" &
ROOT=$!
PIDS+=("$ROOT")
exec 4>"$T/cmd"
spawn() { echo "$*" >&4; }
# threadstorm's threads live until their stdin ends: a FIFO the test keeps
# open (background jobs would get /dev/null).
mkfifo "$T/keep"
exec 5<>"$T/keep"

mkdir -p "$T/pol"
cat >"$T/host.conf" <<EOF
rt_cpus = 1
EOF
cat >"$T/pol/live.conf" <<EOF
[mode]
type = dedicated
summary = the daemon's live test: only the test's process tree
scope = process:$ROOT
[thread qemu-rt-vcpu]
match = vm:rtvm vcpu:1
cpus = \${rt_cpus}
sched = fifo:11
[thread qemu-other]
match = vm:rtvm
cpus = \${housekeeping_cpus}
[thread rt-vcpu]
match = vcpu:0-255
cpus = \${rt_cpus}
sched = fifo:10
[thread storm]
match = comm:isostorm-rt
cpus = \${rt_cpus}
sched = fifo:9
EOF
cat >"$T/isolated.conf" <<EOF
[daemon]
mode = live
revert-on-stop = yes
metrics-file = $T/isolated.prom
EOF
"$ISOLATED" --conf "$T/isolated.conf" --policies "$T/pol" --host-conf "$T/host.conf" \
	--netlink-rcvbuf 4096 >"$T/daemon.log" 2>&1 &
DPID=$!
for _ in $(seq 200); do
	busctl call "$BUSNAME" /io/isolated/Daemon1 io.isolated.Daemon1 Status >/dev/null 2>&1 && break
	sleep 0.05
done
"$ISOCTL" --json status >"$T/st" 2>&1 || fail "status: $(cat "$T/st")"
expect_eq "mode held at start" "$(jq -r .isolated.mode "$T/st")" live

# sched_of TID: "POLICY PRIO CPUS"
sched_of() {
	local s
	s=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) || return 1
	echo "$(echo "$s" | awk '{print $39, $38}') $(sed -n 's/^Cpus_allowed_list:\t//p' "/proc/$1/status")"
}

# ---- 200 renamed threads ----
spawn "exec '$HELPERS/threadstorm' rename 200 <'$T/keep' >'$T/rename.out'"
for _ in $(seq 200); do grep -q '^ready' "$T/rename.out" 2>/dev/null && break; sleep 0.05; done
spid=$(awk '/^ready/ {print $2}' "$T/rename.out")
[ -n "$spid" ] || { fail "threadstorm rename did not start: $(cat "$T/rename.out")"; finish; }
# The daemon acts within a millisecond; give it a generous second before
# judging, and then judge every thread.
sleep 1
n=0 bad=0
for d in /proc/"$spid"/task/*; do
	comm=$(cat "$d/comm")
	case $comm in "CPU "*"/KVM") ;; *) continue ;; esac
	n=$((n + 1))
	got=$(sched_of "${d##*/}")
	if [ "$got" != "1 10 1" ]; then
		bad=$((bad + 1))
		[ $bad -le 5 ] && fail "thread ${d##*/} ($comm): policy prio cpus = $got, want 1 10 1"
	fi
done
expect_eq "renamed threads" "$n" 200
expect_eq "renamed threads not as wanted" "$bad" 0
kill "$spid" 2>/dev/null

# ---- a thread storm through a 4 KB socket buffer ----
# Short-lived threads named isostorm (not matched) flood the connector; in
# the middle, 50 long-lived isostorm-rt threads (matched) are born and must
# all be caught, by the event or by the rescan after the overflow.
spawn "exec '$HELPERS/threadstorm' storm-mixed 20000 isostorm 50 isostorm-rt <'$T/keep' >'$T/storm.out'"
for _ in $(seq 600); do grep -q '^ready' "$T/storm.out" 2>/dev/null && break; sleep 0.05; done
mpid=$(awk '/^ready/ {print $2}' "$T/storm.out")
[ -n "$mpid" ] || { fail "threadstorm storm-mixed did not start: $(cat "$T/storm.out")"; finish; }
sleep 1
n=0 bad=0
for d in /proc/"$mpid"/task/*; do
	[ "$(cat "$d/comm")" == isostorm-rt ] || continue
	n=$((n + 1))
	got=$(sched_of "${d##*/}")
	[ "$got" == "1 9 1" ] || bad=$((bad + 1))
done
expect_eq "long-lived storm threads" "$n" 50
expect_eq "storm threads missed" "$bad" 0
grep -Eq "overflow|ENOBUFS|events lost" "$T/daemon.log" ||
	fail "the storm did not overflow the 4 KB socket (no overflow in the log): $(tail -5 "$T/daemon.log")"
# The metrics file counted it all: events, the overflow and its rescan, the
# renamed and storm threads' reactions (written within a second).
for _ in $(seq 30); do
	grep -Eq '^isolated_netlink_overflows_total [1-9]' "$T/isolated.prom" 2>/dev/null && break
	sleep 0.1
done
expect_grep "$T/isolated.prom" '^isolated_events_total [1-9][0-9]*$'
expect_grep "$T/isolated.prom" '^isolated_netlink_overflows_total [1-9][0-9]*$'
expect_grep "$T/isolated.prom" '^isolated_rescans_total [1-9][0-9]*$'
expect_grep "$T/isolated.prom" '^isolated_reaction_seconds_count [1-9][0-9]*$'
expect_grep "$T/isolated.prom" '^isolated_mode_info\{mode="live",scope="process:[0-9]+",state="holding"\} 1$'
kill "$mpid" 2>/dev/null

# ---- a real QEMU started after the daemon ----
qemu=$(command -v qemu-system-x86_64) || { fail "qemu-system-x86_64 not installed"; finish; }
spawn "exec '$qemu' -accel tcg -smp 2 -m 64 -name guest=rtvm,debug-threads=on -S -display none -nodefaults"
qpid=
for _ in $(seq 200); do
	qpid=$(pgrep -P "$ROOT" -f 'guest=rtvm' | head -1)
	[ -n "$qpid" ] && grep -qx "CPU 1/TCG" /proc/"$qpid"/task/*/comm 2>/dev/null && break
	sleep 0.05
done
[ -n "$qpid" ] || { fail "QEMU did not start"; finish; }
PIDS+=("$qpid")
sleep 1
vcpu=$(grep -lx "CPU 1/TCG" /proc/"$qpid"/task/*/comm | cut -d/ -f5)
expect_eq "QEMU vCPU 1 (TCG names it CPU 1/TCG)" "$(sched_of "$vcpu")" "1 11 1"
vcpu0=$(grep -lx "CPU 0/TCG" /proc/"$qpid"/task/*/comm | cut -d/ -f5)
expect_eq "QEMU vCPU 0" "$(sched_of "$vcpu0")" "0 0 0"
kill "$qpid"

# ---- stop: revert-on-stop puts the test's processes back; nothing held ----
kill "$DPID"
wait "$DPID"
expect_eq "daemon exit status on SIGTERM" $? 0
DPID=
[ -e /run/isolated/journal ] && fail "journal left after revert-on-stop"
finish
