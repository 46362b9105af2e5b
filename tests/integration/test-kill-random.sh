#!/bin/bash
# Kills at random instants, beside test-crash.sh's exhaustive matrix (which
# kills right after each write). strace kills isoctl, or the daemon during
# an Apply, at the Nth call of a system call chosen at random among those
# the operation makes (N at random too): in the middle of a tree write, of a
# journal save, of a read. Then a revert (after a restart, for the daemon)
# must bring the tree back byte for byte and exit 0: no pristine value is
# ever lost.
#
# Seeded: the seed is printed, and KILL_SEED=S replays the same kills
# (KILL_ROUNDS=N and KILL_DAEMON_ROUNDS=N change how many).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dbus-lib.sh"
: "${ISOLATED:?}"

command -v strace >/dev/null || {
	fail "strace is needed (apt-get install strace)"
	finish
}
# LeakSanitizer cannot run under ptrace (the SAN build of make check).
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
seed=${KILL_SEED:-$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')}
rounds=${KILL_ROUNDS:-24}
daemon_rounds=${KILL_DAEMON_ROUNDS:-10}
echo "seed $seed (replay: KILL_SEED=$seed bash $0)"
RANDOM=$seed

S=$(mktemp -d -p /dev/shm isolated-kill.XXXXXX 2>/dev/null || mktemp -d -p "$T")
DPID=
cleanup() {
	[ -n "$DPID" ] && kill -9 "$DPID" 2>/dev/null && gone "$DPID"
	wait 2>/dev/null
	rm -rf "$S" "$T"
}
trap cleanup EXIT
chmod 0755 "$S" "$T"
POL=(--policies "$TOP/policies")
cp -a "$FIX/kvm16" "$S/orig"
tree=$S/t
# The system calls a kill may come at: every one that touches a file.
SYSCALLS="openat openat2 read write close renameat rename unlinkat newfstatat faccessat2 fchmod fchown fsync getdents64 mkdirat flock ftruncate pwrite64 pread64"

reset_tree() {
	rm -rf "$tree"
	cp -a "$S/orig" "$tree"
}

same_tree() { # WHAT
	diff -r "$S/orig" "$tree" >"$T/diff" 2>&1 || {
		fail "$1: the tree differs from the original: $(head -c 500 "$T/diff")"
		return 1
	}
}

# counts FILE: "NAME COUNT" lines from strace -c output, for our syscalls.
counts() {
	# columns: % time, seconds, usecs/call, calls, [errors], syscall
	awk -v want=" $SYSCALLS " '$4 ~ /^[0-9]+$/ && index(want, " " $NF " ") { print $NF, $4 }' "$1"
}

# pick FILE: a random "SYSCALL N" from the counts in FILE.
pick() {
	local -a names nums
	local n c i
	while read -r n c; do
		names+=("$n")
		nums+=("$c")
	done < <(counts "$1")
	[ "${#names[@]}" -gt 0 ] || return 1
	i=$((RANDOM % ${#names[@]}))
	echo "${names[$i]} $((RANDOM % ${nums[$i]} + 1))"
}

# ---- isoctl ----
# The operations: from vanilla to dedicated, dedicated to rt-only, and
# the revert of dedicated; each is counted once (strace -c) to know which
# system calls it makes and how often.
ops=("apply dedicated" "apply rt-only" "revert")
prepare() { # OP: the tree in the state the operation starts from
	reset_tree
	case $1 in
	"apply dedicated") ;;
	*) "$ISOCTL" --root "$tree" "${POL[@]}" apply dedicated >/dev/null 2>&1 || fail "setting up for $1" ;;
	esac
}
for i in "${!ops[@]}"; do
	prepare "${ops[$i]}"
	# shellcheck disable=SC2086
	strace -f -c -o "$S/count.$i" "$ISOCTL" --root "$tree" "${POL[@]}" ${ops[$i]} >/dev/null 2>&1 ||
		fail "isoctl ${ops[$i]} under strace -c failed"
done

for r in $(seq "$rounds"); do
	i=$((RANDOM % ${#ops[@]}))
	read -r sc n < <(pick "$S/count.$i") || { fail "no system calls counted for ${ops[$i]}"; break; }
	prepare "${ops[$i]}"
	# In a shell of its own, which reports the kill to /dev/null, not here.
	# shellcheck disable=SC2086
	bash -c '"$@"; exit $?' _ strace -f -o /dev/null -e trace="$sc" -e inject="$sc":signal=KILL:when="$n" \
		"$ISOCTL" --root "$tree" "${POL[@]}" ${ops[$i]} >"$T/k.out" 2>/dev/null
	st=$?
	echo "round $r: isoctl ${ops[$i]} killed at $sc #$n (exit $st)"
	if ! "$ISOCTL" --root "$tree" "${POL[@]}" revert >"$T/out" 2>"$T/err"; then
		fail "round $r (${ops[$i]}, $sc #$n): revert failed: $(head -c 400 "$T/err") $(grep -m3 -E 'conflict|neither' "$T/out")"
		continue
	fi
	same_tree "round $r (${ops[$i]}, $sc #$n), then revert"
done

# ---- the daemon ----
BUSNAME=io.isolated.Daemon1
BUSPATH=/io/isolated/Daemon1
BUSIF=io.isolated.Daemon1
export SYSTEMD_BUS_TIMEOUT=60
start_private_bus "$T/bus" || {
	fail "no private bus"
	finish
}

start_daemon() {
	"$ISOLATED" --root "$tree" "${POL[@]}" --host-conf "$tree/etc/isolated/host.conf" --no-proc-connector \
		--rescan-interval 3600 >>"$S/daemon.log" 2>&1 &
	DPID=$!
	# Killed on purpose: not a job for this shell to report.
	disown "$DPID"
	for _ in $(seq 200); do
		kill -0 "$DPID" 2>/dev/null || break
		busctl call "$BUSNAME" "$BUSPATH" "$BUSIF" Status >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	fail "the daemon did not come up: $(tail -c 600 "$S/daemon.log")"
	return 1
}
gone() { # PID: wait until it has exited
	tail --pid="$1" -f /dev/null
}
stop_daemon() {
	[ -n "$DPID" ] || return 0
	kill "$DPID" 2>/dev/null
	gone "$DPID"
	DPID=
}
# attach OPTIONS...: strace on the daemon, returns once it is attached.
attach() {
	rm -f "$S/strace.err"
	strace -f -p "$DPID" -o "$S/strace.out" "$@" 2>"$S/strace.err" &
	SPID=$!
	for _ in $(seq 200); do
		grep -q "attached" "$S/strace.err" 2>/dev/null && return 0
		kill -0 "$SPID" 2>/dev/null || break
		sleep 0.02
	done
	fail "strace did not attach to the daemon: $(head -c 300 "$S/strace.err")"
	return 1
}

# Count what an Apply makes the daemon do.
reset_tree
start_daemon || finish
attach -c || finish
"$ISOCTL" apply dedicated >/dev/null 2>&1 || fail "apply through the daemon under strace -c"
kill -INT "$SPID"
wait "$SPID" 2>/dev/null
cp "$S/strace.out" "$S/count.daemon"
stop_daemon

for r in $(seq "$daemon_rounds"); do
	read -r sc n < <(pick "$S/count.daemon") || { fail "no system calls counted for the daemon"; break; }
	reset_tree
	start_daemon || break
	attach -e trace="$sc" -e inject="$sc":signal=KILL:when="$n" || break
	"$ISOCTL" apply dedicated >"$T/k.out" 2>&1
	st=$?
	if kill -0 "$DPID" 2>/dev/null; then
		echo "round $r: daemon not killed at $sc #$n (fewer calls this time); apply exit $st: $(tail -1 "$T/k.out")"
		kill "$SPID" 2>/dev/null
		wait "$SPID" 2>/dev/null
		stop_daemon
	else
		echo "round $r: daemon killed at $sc #$n during Apply (isoctl exit $st)"
		gone "$DPID"
		wait "$SPID" 2>/dev/null
		DPID=
	fi
	start_daemon || break
	if ! "$ISOCTL" revert >"$T/out" 2>"$T/err"; then
		fail "daemon round $r ($sc #$n): revert failed: $(head -c 400 "$T/err") $(grep -m3 -E 'conflict|neither' "$T/out")"
	fi
	stop_daemon
	same_tree "daemon round $r ($sc #$n), restart, revert"
done

[ "$nfail" -eq 0 ] || echo "replay: KILL_SEED=$seed" >&2
finish
