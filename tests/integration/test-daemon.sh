#!/bin/bash
# The daemon on a private bus against a copy of the kvm16 fixture tree:
# isoctl through the bus prints exactly what --direct prints; unprivileged
# callers may read but not change; polkit (a stand-in) can authorise a
# non-root caller, and its errors deny; READY=1 and STATUS= reach
# NOTIFY_SOCKET; kill -9 in the middle of an apply loses nothing; an apply
# --confirm-within goes back unless confirmed by the same caller, also
# across a daemon crash; drift is found and, with enforce, re-applied.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dbus-lib.sh"
: "${ISOLATED:?}" "${HELPERS:?}"

# Trees on tmpfs: every apply fsyncs the journal.
S=$(mktemp -d -p /dev/shm isolated-test-daemon.XXXXXX)
DPID=
FPID=
cleanup() {
	[ -n "$DPID" ] && kill -9 "$DPID" 2>/dev/null
	[ -n "$FPID" ] && kill "$FPID" 2>/dev/null
	wait 2>/dev/null
	[ -n "${KEEP:-}" ] || rm -rf "$S" "$T"
}
trap cleanup EXIT
start_private_bus "$T/bus" || { fail "no private bus"; finish; }
chmod 0755 "$T"

H=$S/host
cp -a "$FIX/kvm16" "$H"
# The reference on the same file system (directory sizes differ between them).
cp -a "$FIX/kvm16" "$S/orig"
POL=$TOP/policies
CONF=$H/etc/isolated/host.conf
# What isoctl --direct is given to see the daemon's host.
DIRECT=(--direct --root "$H" --policies "$POL" --config "$H/etc/isolated")

same_tree() { # NAME: the tree is byte for byte the fixture again
	[ "$(tree_sum "$S/orig")" == "$(tree_sum "$H")" ] ||
		fail "$1: the tree differs from the fixture: $(diff -r "$S/orig" "$H" 2>&1 | head -c 600)"
}

# start_daemon [ENV=VALUE...] [-- OPTIONS...]: the daemon on $H; waits
# until it answers on the bus (READY comes before the bus name is useful
# to a test only through NOTIFY_SOCKET, checked separately).
start_daemon() {
	local envs=() opts=()
	stop_daemon
	while [ $# -gt 0 ] && [ "$1" != -- ]; do envs+=("$1"); shift; done
	[ "${1:-}" == -- ] && shift
	opts=("$@")
	env "${envs[@]}" "$ISOLATED" --root "$H" --policies "$POL" --host-conf "$CONF" "${opts[@]}" \
		>>"$S/daemon.log" 2>&1 &
	DPID=$!
	for _ in $(seq 200); do
		kill -0 "$DPID" 2>/dev/null || break
		busctl call "$BUSNAME" "$BUSPATH" "$BUSIF" Status >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	fail "the daemon did not come up: $(tail -c 800 "$S/daemon.log")"
	return 1
}
stop_daemon() {
	[ -n "$DPID" ] || return 0
	kill "$DPID" 2>/dev/null
	wait "$DPID" 2>/dev/null
	DPID=
}
kill9_daemon() {
	kill -9 "$DPID" 2>/dev/null
	wait "$DPID" 2>/dev/null
	DPID=
}
BUSNAME=io.isolated.Daemon1
BUSPATH=/io/isolated/Daemon1
BUSIF=io.isolated.Daemon1
export SYSTEMD_BUS_TIMEOUT=60

# ---- 1. The same output through the bus as directly ----
# Direct first (the daemon is not running: nothing owns the name), then the
# same commands through the daemon on the same tree, from the same state.
cmds=("list" "plan dedicated" "status" "apply dedicated" "status" "verify" "plan rt-only" "apply rt-only"
	"--json status" "--all status" "revert" "status")
i=0
for c in "${cmds[@]}"; do
	# shellcheck disable=SC2086
	"$ISOCTL" "${DIRECT[@]}" $c >"$S/direct.$i.out" 2>"$S/direct.$i.err"
	echo $? >"$S/direct.$i.rc"
	i=$((i + 1))
done
same_tree "direct revert"
start_daemon || finish
i=0
for c in "${cmds[@]}"; do
	# shellcheck disable=SC2086
	"$ISOCTL" $c >"$S/bus.$i.out" 2>"$S/bus.$i.err"
	echo $? >"$S/bus.$i.rc"
	for f in out err rc; do
		# status prints when the mode was applied: seconds apart.
		sed -i -E 's/applied [0-9]{4}-[0-9-]+ [0-9:]+/applied TIME/; s/"applied_at": ?[0-9]+/"applied_at": T/' \
			"$S/direct.$i.$f" "$S/bus.$i.$f"
		cmp -s "$S/direct.$i.$f" "$S/bus.$i.$f" ||
			fail "isoctl $c: $f through the bus differs from --direct: $(diff "$S/direct.$i.$f" "$S/bus.$i.$f" | head -20)"
	done
	i=$((i + 1))
done
grep -q "Applying dedicated" "$S/bus.3.out" || fail "apply through the bus printed: $(head -5 "$S/bus.3.out")"
same_tree "revert through the bus"
# isoctl chose the bus: the daemon logged the calls.
grep -q "dedicated" "$S/daemon.log" || fail "the daemon did not log the apply: $(tail -5 "$S/daemon.log")"

# Errors come back as direct mode prints them, with its exit statuses.
for c in "apply no-such-mode" "apply ../../etc/passwd" "plan 'a b'"; do
	eval "\"\$ISOCTL\" \"\${DIRECT[@]}\" $c" >"$S/e1.out" 2>"$S/e1.err"
	r1=$?
	eval "\"\$ISOCTL\" $c" >"$S/e2.out" 2>"$S/e2.err"
	r2=$?
	expect_eq "isoctl $c exit status through the bus" "$r2" "$r1"
	cmp -s "$S/e1.err" "$S/e2.err" || fail "isoctl $c: stderr differs: $(diff "$S/e1.err" "$S/e2.err")"
done

# ---- 2. Unprivileged callers: answers, but no changes ----
nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
nobody "$ISOCTL" status >"$S/n.out" 2>"$S/n.err" || fail "status as nobody failed: $(cat "$S/n.err")"
grep -q "^mode *vanilla" "$S/n.out" || fail "status as nobody: $(head -3 "$S/n.out")"
for c in "apply dedicated" "revert" "confirm"; do
	# shellcheck disable=SC2086
	nobody "$ISOCTL" $c >"$S/n.out" 2>"$S/n.err"
	expect_eq "isoctl $c as nobody exit status" $? 1
	expect_grep "$S/n.err" "permission denied"
done
out=$(nobody busctl call "$BUSNAME" "$BUSPATH" "$BUSIF" Apply 'sa{sv}' dedicated 0 2>&1)
echo "$out" | grep -q "Access denied\|AccessDenied" || fail "Apply as nobody over busctl: $out"
nobody busctl call "$BUSNAME" "$BUSPATH" "$BUSIF" Revert 'a{sv}' 0 >/dev/null 2>&1 &&
	fail "Revert as nobody succeeded"
nobody busctl call "$BUSNAME" "$BUSPATH" "$BUSIF" Status >/dev/null 2>&1 || fail "Status as nobody was refused"
same_tree "after the refused calls"
# Status for nobody is the daemon's summary; --all asks for the whole
# document, which is then what root sees.
run 0 apply dedicated
nobody "$ISOCTL" status >"$S/n.out" 2>"$S/n.err" || fail "status as nobody: $(cat "$S/n.err")"
expect_grep "$S/n.out" "^mode +dedicated \(scope host\), applied "
expect_grep "$S/n.out" "^state +holding$"
expect_grep "$S/n.out" "^managed +166 targets, 0 drifted at the last verification$"
expect_grep "$S/n.out" "isoctl status --all asks it for every target and thread"
expect_no_grep "$S/n.out" "^kernel"
expect_eq "summary for nobody (--json)" "$(nobody "$ISOCTL" --json status | jq -c '[.summary, .isolated.state, .isolated.managed, (.threads|type)]')" '[true,"holding",166,"null"]'
"$ISOCTL" --all status >"$S/r.all" 2>&1
nobody "$ISOCTL" --all status >"$S/n.all" 2>&1 || fail "status --all as nobody: $(head -3 "$S/n.all")"
cmp -s "$S/r.all" "$S/n.all" || fail "status --all as nobody differs from root's: $(diff "$S/r.all" "$S/n.all" | head -5)"
run 0 revert
same_tree "after the summaries"

# ---- 2b. What a caller other than root may cost ----
# call-burst calls at once, then one an hour: a burst one longer gets exactly
# one refusal, whatever the machine's speed. Refused calls (denied, limited)
# reach the log five a minute; the rest are one count, said at the latest
# when the daemon stops. Root is never limited.
stop_daemon
printf '[daemon]\ncall-burst = 6\ncall-interval = 3600\n' >"$S/limits.conf"
start_daemon -- --conf "$S/limits.conf" || finish
: >"$S/daemon.log"
refused=0
for _ in $(seq 7); do
	out=$(nobody busctl call "$BUSNAME" "$BUSPATH" "$BUSIF" Apply 'sa{sv}' dedicated 0 2>&1)
	case $out in
	*"too many calls from uid 65534: try again in "*) refused=$((refused + 1)) ;;
	*"Access denied"* | *AccessDenied* | *"needs root"*) ;;
	*) fail "Apply as nobody in a burst: $out" ;;
	esac
done
expect_eq "refusals in a burst of call-burst + 1" "$refused" 1
nobody "$ISOCTL" status >"$S/n.out" 2>"$S/n.err"
expect_eq "status as nobody beyond the burst exit status" $? 1
expect_grep "$S/n.err" "^isoctl: the isolated daemon: Status: too many calls from uid 65534: try again in 3[0-9]{3} s \(a uid other than 0 may make 6 calls at once, then one every 3600 s\) \(org.freedesktop.DBus.Error.LimitsExceeded\)$"
for _ in $(seq 10); do run 0 status; done
expect_grep "$T/out" "^mode +vanilla"
stop_daemon
expect_eq "denials logged one by one" "$(grep -c "from uid 65534 pid [0-9]*: \(denied\|refused\)" "$S/daemon.log")" 5
expect_grep "$S/daemon.log" "^isolated: 3 more denied calls from uid 65534 suppressed \(the first 5 of every 60 s are logged\)$"
start_daemon || finish
same_tree "after the limits"

# ---- 3. polkit: a stand-in authorises uid 65534 ----
"$HELPERS/fake-polkit" --allow-uid 65534 >"$S/polkit.out" 2>&1 &
FPID=$!
for _ in $(seq 100); do grep -q ready "$S/polkit.out" && break; sleep 0.05; done
nobody "$ISOCTL" apply dedicated --confirm-within 60s >"$S/n.out" 2>"$S/n.err" ||
	fail "apply as nobody with polkit's yes failed: $(cat "$S/n.err")"
expect_grep "$S/polkit.out" "check io.isolated.manage uid=65534"
# The confirmation belongs to the caller that applied: not root's to give.
"$ISOCTL" confirm >"$S/c.out" 2>"$S/c.err"
expect_eq "confirm by another caller exit status" $? 1
expect_grep "$S/c.err" "[Cc]onfirm"
nobody "$ISOCTL" confirm >"$S/c.out" 2>"$S/c.err" || fail "confirm by the caller that applied: $(cat "$S/c.err")"
"$ISOCTL" revert >/dev/null 2>&1 || fail "revert after the polkit apply"
same_tree "after the polkit apply"
kill "$FPID"
wait "$FPID" 2>/dev/null
"$HELPERS/fake-polkit" --error >"$S/polkit.out" 2>&1 &
FPID=$!
for _ in $(seq 100); do grep -q ready "$S/polkit.out" && break; sleep 0.05; done
nobody "$ISOCTL" apply dedicated >"$S/n.out" 2>"$S/n.err"
expect_eq "apply as nobody with polkit failing" $? 1
expect_grep "$S/n.err" "permission denied"
kill "$FPID"
wait "$FPID" 2>/dev/null
FPID=
same_tree "after polkit's error"

# ---- 4. sd_notify ----
stop_daemon
rm -f "$S/notify.sock"
"$HELPERS/notify-listen" "$S/notify.sock" READY=1 10 >"$S/notify.out" 2>&1 &
lpid=$!
for _ in $(seq 100); do [ -S "$S/notify.sock" ] && break; sleep 0.02; done
start_daemon NOTIFY_SOCKET="$S/notify.sock" || finish
wait "$lpid" || fail "no READY=1 on NOTIFY_SOCKET: $(cat "$S/notify.out")"
expect_grep "$S/notify.out" "^READY=1"
expect_grep "$S/notify.out" "^STATUS=."

# ---- 5. kill -9 in the middle of an apply ----
stop_daemon
for at in journal 1 40 152; do
	start_daemon ISOLATED_CRASH_AFTER=$at || finish
	"$ISOCTL" apply dedicated >"$S/k.out" 2>"$S/k.err" && fail "apply survived ISOLATED_CRASH_AFTER=$at"
	wait "$DPID" 2>/dev/null
	DPID=
	start_daemon || finish
	run 0 status
	expect_no_grep "$T/out" "INTERRUPTED"
	expect_grep "$T/out" "^mode *vanilla"
	run 0 revert
	same_tree "crash after $at, restart, revert"
done
# A crash going from one mode to another: the restart holds the first again.
run 0 apply dedicated
stop_daemon
start_daemon ISOLATED_CRASH_AFTER=20 || finish
"$ISOCTL" apply rt-only >/dev/null 2>&1 && fail "apply rt-only survived the crash hook"
wait "$DPID" 2>/dev/null
DPID=
start_daemon || finish
run 0 --json status
expect_eq "mode after the crash and restart" "$(jq -r .isolated.mode "$T/out")" dedicated
expect_eq "drift after the crash and restart" "$(jq -r .isolated.drift "$T/out")" 0
run 0 revert
same_tree "crash between modes, restart, revert"

# ---- 6. --confirm-within ----
# Over the bus as from isoctl: 0 (none) or 1 s to 24 h. 2^64-1 microseconds
# used to be a deadline in the past: applied, then taken back at once.
for usec in 18446744073709551615 9223372036854775807 86400000001 999999; do
	out=$(busctl call "$BUSNAME" "$BUSPATH" "$BUSIF" Apply 'sa{sv}' dedicated 1 confirm-within t "$usec" 2>&1)
	echo "$out" | grep -q "between 1s and 24h" || fail "Apply confirm-within $usec: $out"
done
expect_eq "mode after confirm-within out of range" "$("$ISOCTL" --json status | jq -r .isolated.mode)" vanilla
same_tree "after confirm-within out of range"
# Unconfirmed: back to the previous mode (dedicated) at the deadline, +-1 s.
run 0 apply dedicated
t0=$(date +%s.%N)
run 0 apply rt-only --confirm-within 3s
back=
while :; do
	now=$(date +%s.%N)
	mode=$("$ISOCTL" --json status | jq -r .isolated.mode)
	if [ "$mode" == dedicated ]; then
		back=$now
		break
	fi
	[ "$(echo "$now - $t0 > 8" | bc)" == 1 ] && break
	sleep 0.1
done
if [ -z "$back" ]; then
	fail "not back to dedicated 8 s after apply --confirm-within 3s"
else
	el=$(echo "$back - $t0" | bc)
	[ "$(echo "$el >= 2 && $el <= 4.2" | bc)" == 1 ] || fail "went back after ${el}s, expected 3 +- 1 s"
fi
# Confirmed: stays.
run 0 apply rt-only --confirm-within 2s
run 0 confirm
sleep 3
expect_eq "mode after confirm and the deadline" "$("$ISOCTL" --json status | jq -r .isolated.mode)" rt-only
# Killed inside the window, restarted after the deadline: back at start.
run 0 apply dedicated --confirm-within 2s
kill9_daemon
sleep 2.5
start_daemon || finish
expect_eq "mode after a crash inside the window" "$("$ISOCTL" --json status | jq -r .isolated.mode)" rt-only
# Killed inside the window, restarted inside it: the timer is re-armed.
run 0 apply dedicated --confirm-within 3s
kill9_daemon
start_daemon || finish
sleep 4.2
expect_eq "mode after a restart inside the window" "$("$ISOCTL" --json status | jq -r .isolated.mode)" rt-only
run 0 revert
same_tree "after the confirm tests"

# ---- 7. Drift: found, published, and with enforce re-applied ----
run 0 apply dedicated
irqfile=$(grep -l . "$H"/proc/irq/*/smp_affinity_list | head -1)
irq=$(basename "$(dirname "$irqfile")")
wanted=$(cat "$irqfile")
run 0 verify
echo 0-15 >"$irqfile"
run 1 verify
expect_grep "$T/out" "irq/$irq"
expect_eq "drift left alone without enforce" "$(cat "$irqfile")" 0-15
stop_daemon
printf '[daemon]\nenforce = yes\n' >"$S/isolated.conf"
start_daemon -- --conf "$S/isolated.conf" || finish
"$ISOCTL" verify >"$S/v.out" 2>&1
expect_eq "drift re-applied with enforce" "$(cat "$irqfile")" "$wanted"
grep -q "irq/$irq" "$S/daemon.log" || fail "drift of irq/$irq not logged"
run 0 revert
same_tree "after the drift tests"
stop_daemon
finish
