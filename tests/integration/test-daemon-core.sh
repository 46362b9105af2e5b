#!/bin/bash
# The daemon binary as systemd runs it, on a copy of the kvm16 tree: the
# configuration file (errors as FILE:LINE, --check), a private dbus-daemon as
# the system bus, sd_notify (READY=1 with STATUS= only after the mode is
# applied, RELOADING=1 + MONOTONIC_USEC on SIGHUP, STOPPING=1 on SIGTERM),
# the mode left in force on SIGTERM or reverted with revert-on-stop, and no
# daemon at all without a bus.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dbus-lib.sh"
: "${ISOLATED:?}" "${HELPERS:?}"

W=$(mktemp -d -p /dev/shm 2>/dev/null || mktemp -d -p "$T")
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
	rm -rf "$T" "$W"
}
trap cleanup EXIT
tree=$W/kvm16
cp -a "$FIX/kvm16" "$tree"
cp -a "$FIX/kvm16" "$W/orig"
POL=$TOP/policies
HC=$tree/etc/isolated/host.conf

# ---- Configuration: file:line errors, --check ----

printf '[daemon]\nmode = dedicated\nenforce = maybe\nverify-interval = -3\nbogus = 1\n[other]\nx = 1\n' >"$T/bad.conf"
"$ISOLATED" --conf "$T/bad.conf" --root "$tree" >"$T/out" 2>"$T/err"
expect_eq "bad config exit status" "$?" 2
expect_grep "$T/err" "^$T/bad.conf:3: enforce = maybe: expected yes or no$"
expect_grep "$T/err" "^$T/bad.conf:4: verify-interval = -3: "
expect_grep "$T/err" "^$T/bad.conf:5: unknown key \"bogus\""
expect_grep "$T/err" "^$T/bad.conf:7: \[other\]: isolated.conf has only a \[daemon\] section"
expect_grep "$T/err" "4 errors in the configuration: not starting"

# The limits on callers other than root: a burst of 1 to 10000 calls, an
# interval of at least a second.
printf '[daemon]\ncall-burst = 0\ncall-interval = 0\n' >"$T/limits.conf"
"$ISOLATED" --conf "$T/limits.conf" --check --root "$tree" >"$T/out" 2>"$T/err"
expect_eq "bad limits exit status" "$?" 2
expect_grep "$T/err" "^$T/limits.conf:2: call-burst = 0: expected a number of calls, 1 to 10000$"
expect_grep "$T/err" "^$T/limits.conf:3: call-interval = 0: expected a number of seconds, at least 1$"
printf '[daemon]\ncall-burst = 10001\n' >"$T/limits.conf"
"$ISOLATED" --conf "$T/limits.conf" --check --root "$tree" >"$T/out" 2>"$T/err"
expect_grep "$T/err" "^$T/limits.conf:2: call-burst = 10001: expected a number of calls, 1 to 10000$"

"$ISOLATED" --conf "$T/missing.conf" --check --root "$tree" >"$T/out" 2>"$T/err"
expect_eq "named config missing" "$?" 2
expect_grep "$T/err" "missing.conf: cannot open: No such file or directory"

# As root the configuration is trusted as policies are: it names the policy
# directories, host.conf and the mode root applies.
if [ "$(id -u)" = 0 ]; then
	mkdir -m 0777 "$T/open"
	chmod 0777 "$T/open"
	printf '[daemon]\nhost-conf = %s\n' "$HC" >"$T/open/isolated.conf"
	"$ISOLATED" --conf "$T/open/isolated.conf" --check --root "$tree" --policies "$POL" >"$T/out" 2>"$T/err"
	expect_eq "config in a directory anyone can write to" "$?" 2
	expect_eq "config in a directory anyone can write to: stderr" "$(head -1 "$T/err")" \
		"$T/open/isolated.conf: refusing: directory $T/open is writable by group or others (mode 0777)"
	chmod 0755 "$T/open"
	chmod 0600 "$T/open/isolated.conf"
	"$ISOLATED" --conf "$T/open/isolated.conf" --check --root "$tree" --policies "$POL" >"$T/out" 2>"$T/err"
	expect_eq "config root alone can read and change" "$?" 0
	# The file itself as a policy's (conf_parse_file): not writable by
	# others, root's, at most 1 MiB of text. refused WHAT MESSAGE: --check
	# exits 2 with MESSAGE first.
	C=$T/open/isolated.conf
	refused() {
		"$ISOLATED" --conf "$C" --check --root "$tree" --policies "$POL" >"$T/out" 2>"$T/err"
		expect_eq "$1" "$?" 2
		expect_eq "$1: stderr" "$(head -1 "$T/err")" "$C: $2"
	}
	chmod 0664 "$C"
	refused "group-writable config" "refusing: writable by group or others (mode 0664)"
	chmod 0644 "$C"
	chown 65534 "$C"
	refused "config owned by another user" "refusing: owned by uid 65534"
	chown 0 "$C"
	{ printf '[daemon]\nhost-conf = %s\n' "$HC"; head -c 1100000 /dev/zero | tr '\0' '#' | fold -w 100; } >"$C"
	refused "config over 1 MiB" "file too large (limit 1048576 bytes)"
	printf '[daemon]\nhost-conf = %s\nenforce = yes\0\n' "$HC" >"$C"
	refused "binary config" "binary file"
fi
# Every syntax error with its line, in the order of the file.
printf 'x = 1\n[daemon\nfoo\n[daemon]\nenforce = yes\nenforce = no\n' >"$T/syntax.conf"
"$ISOLATED" --conf "$T/syntax.conf" --check --root "$tree" --policies "$POL" >"$T/out" 2>"$T/err"
expect_eq "syntax errors exit status" "$?" 2
expect_eq "syntax errors" "$(cat "$T/err")" "$T/syntax.conf:1: key outside any section: isolated.conf has only a [daemon] section
$T/syntax.conf:2: missing \"]\" in section header
$T/syntax.conf:3: expected \"key = value\", got \"foo\"
$T/syntax.conf:6: enforce is given twice
isolated: 4 errors in the configuration: not starting"
# /dev/null: every default.
"$ISOLATED" --conf /dev/null --check --root "$tree" --policies "$POL" --host-conf "$HC" >"$T/out" 2>"$T/err"
expect_eq "--conf /dev/null" "$?" 0

# The example's keys, uncommented, are a valid configuration.
{ echo '[daemon]'; sed -n 's/^#\([a-z-]* = \)/\1/p' "$TOP/policies/isolated.conf.example"; } >"$T/example.conf"
grep -q '^mode = ' "$T/example.conf" || fail "the example has no mode key"
"$ISOLATED" --conf "$T/example.conf" --check --root "$tree" --policies "$POL" --host-conf "$HC" >"$T/out" 2>"$T/err"
expect_eq "--check of the example" "$?" 0
expect_grep "$T/out" "configuration OK: [0-9]+ modes"

# --check sees policy errors and an unknown mode.
mkdir "$W/pol" && cp "$POL"/*.conf "$W/pol/"
printf '[mode]\nname = broken\ntype = nonsense\n' >"$W/pol/broken.conf"
"$ISOLATED" --check --conf /dev/null --root "$tree" --policies "$W/pol" --host-conf "$HC" --mode nosuch \
	>"$T/out" 2>"$T/err"
expect_eq "--check with a broken policy" "$?" 2
expect_grep "$T/err" "broken.conf:3:"
expect_grep "$T/err" "mode = nosuch: no such mode"

diff -r "$FIX/kvm16" "$tree" >/dev/null || fail "--check changed the tree"

# ---- No bus, no daemon ----

DBUS_SYSTEM_BUS_ADDRESS=unix:path=$W/nobus timeout 20 "$ISOLATED" --conf /dev/null --root "$tree" \
	--policies "$POL" --host-conf "$HC" >"$T/out" 2>"$T/err"
st=$?
[ "$st" != 0 ] && [ "$st" != 124 ] || fail "without a bus the daemon exited $st, expected a failure"
expect_grep "$T/err" "Failed to connect to the system bus"

# ---- A private bus ----

start_private_bus "$W/bus" || { fail "no private bus"; finish; }

# start_daemon ARGS...: isolated in the background with NOTIFY_SOCKET; its
# notifications in $T/notify, its log in $T/log.
start_daemon() {
	: >"$T/notify"
	"$HELPERS/notify-listen" "$W/notify" STOPPING=1 60 >"$T/notify" 2>"$T/notify.err" &
	listener=$!
	pids+=("$listener")
	for _ in $(seq 100); do [ -S "$W/notify" ] && break; sleep 0.05; done
	NOTIFY_SOCKET=$W/notify "$ISOLATED" --conf /dev/null --root "$tree" --policies "$POL" --host-conf "$HC" \
		"$@" 2>"$T/log" &
	daemon=$!
	pids+=("$daemon")
}

wait_notify() { # PATTERN: wait up to 20 s for a notification line
	for _ in $(seq 400); do
		grep -Eq -- "$1" "$T/notify" && return 0
		kill -0 "$daemon" 2>/dev/null || break
		sleep 0.05
	done
	grep -Eq -- "$1" "$T/notify"
}

start_daemon --mode dedicated
wait_notify '^READY=1$' || { fail "no READY=1; log: $(head -c 800 "$T/log")"; finish; }
expect_grep "$T/notify" '^STATUS=Holding dedicated \([0-9]+ targets\)$'
# READY=1 only after the mode is applied: the tree is in dedicated by then.
expect_eq "timer_migration at READY=1" "$(cat "$tree/proc/sys/kernel/timer_migration")" 0
[ "$(grep -n '^READY=1$' "$T/notify" | head -1 | cut -d: -f1)" -ge 1 ] || fail "READY=1 missing"

busctl --address="$DBUS_SYSTEM_BUS_ADDRESS" get-property io.isolated.Daemon1 /io/isolated/Daemon1 \
	io.isolated.Daemon1 Mode >"$T/out" 2>"$T/err" || fail "Mode property: $(cat "$T/err")"
expect_eq "Mode property" "$(cat "$T/out")" 's "dedicated"'
bus() { # VERB ARGS...: busctl VERB on our object, JSON in $T/out
	local verb=$1
	shift
	busctl --address="$DBUS_SYSTEM_BUS_ADDRESS" --json=short "$verb" io.isolated.Daemon1 /io/isolated/Daemon1 \
		io.isolated.Daemon1 "$@" >"$T/out" 2>"$T/err" || fail "busctl $verb $*: $(cat "$T/err")"
}
bus get-property State
expect_eq "State property" "$(jq -r .data "$T/out")" holding
bus call Status
expect_eq "Status(): isolated.mode" "$(jq -r '.data[0] | fromjson | .isolated.mode' "$T/out")" dedicated
# A switch through the bus: Mode, STATUS= and the tree follow.
bus call Apply 'sa{sv}' rt-only 0
expect_eq "Apply(rt-only): result" "$(jq -r '.data[0] | fromjson | .result' "$T/out")" applied
bus get-property Mode
expect_eq "Mode after Apply" "$(jq -r .data "$T/out")" rt-only
wait_notify '^STATUS=Holding rt-only' || fail "no STATUS= for rt-only"
expect_eq "timer_migration in rt-only" "$(cat "$tree/proc/sys/kernel/timer_migration")" 1
bus call Apply 'sa{sv}' dedicated 0
# An unknown mode: the bus error carries isoctl's message; nothing changes.
busctl --address="$DBUS_SYSTEM_BUS_ADDRESS" call io.isolated.Daemon1 /io/isolated/Daemon1 io.isolated.Daemon1 \
	Apply 'sa{sv}' nosuch 0 >"$T/out" 2>"$T/err" && fail "Apply(nosuch) succeeded"
expect_grep "$T/err" 'isoctl: unknown mode "nosuch" \(no nosuch.conf in '
bus get-property Mode
expect_eq "Mode after a failed Apply" "$(jq -r .data "$T/out")" dedicated
expect_eq "timer_migration in dedicated again" "$(cat "$tree/proc/sys/kernel/timer_migration")" 0

# SIGHUP: RELOADING=1 with MONOTONIC_USEC, then READY=1 again.
kill -HUP "$daemon"
wait_notify '^RELOADING=1$' || fail "no RELOADING=1 after SIGHUP"
wait_notify '^MONOTONIC_USEC=[0-9]+$' || fail "no MONOTONIC_USEC after SIGHUP"
for _ in $(seq 400); do [ "$(grep -c '^READY=1$' "$T/notify")" -ge 2 ] && break; sleep 0.05; done
expect_eq "READY=1 after the reload" "$(grep -c '^READY=1$' "$T/notify")" 2

# SIGTERM: STOPPING=1, exit 0, the mode stays in force.
kill -TERM "$daemon"
wait "$daemon"
expect_eq "exit status on SIGTERM" "$?" 0
wait "$listener" || fail "no STOPPING=1: $(cat "$T/notify")"
expect_eq "timer_migration after stop" "$(cat "$tree/proc/sys/kernel/timer_migration")" 0

# Started again without --mode: the journal's mode is held; with
# revert-on-stop, SIGTERM puts the tree back exactly as it was.
start_daemon --revert-on-stop
wait_notify '^READY=1$' || fail "no READY=1 on the second start: $(head -c 800 "$T/log")"
expect_grep "$T/notify" '^STATUS=Holding dedicated'
kill -TERM "$daemon"
wait "$daemon"
expect_eq "exit status on SIGTERM with revert-on-stop" "$?" 0
wait "$listener"
diff -r "$W/orig" "$tree" >"$T/diff" || fail "revert-on-stop left the tree changed: $(head -c 600 "$T/diff")"

# The bus goes away: not a stop but a restart to come (systemd restarts the
# daemon): exit status 1, said in the log, the mode stays in force even with
# revert-on-stop (reverting would leave the RT VM unprotected until the
# restart re-applies it).
start_daemon --mode dedicated --revert-on-stop
wait_notify '^READY=1$' || fail "no READY=1 on the third start: $(head -c 800 "$T/log")"
stop_private_bus
for _ in $(seq 200); do kill -0 "$daemon" 2>/dev/null || break; sleep 0.05; done
if kill -0 "$daemon" 2>/dev/null; then
	fail "the daemon did not exit when the bus went away"
else
	wait "$daemon"
	expect_eq "exit status when the bus is lost" "$?" 1
	expect_grep "$T/log" 'lost the system bus: exiting to be restarted; dedicated stays in force meanwhile'
	expect_eq "timer_migration after losing the bus" "$(cat "$tree/proc/sys/kernel/timer_migration")" 0
fi
kill "$listener" 2>/dev/null
wait "$listener" 2>/dev/null

finish
