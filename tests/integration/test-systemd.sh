#!/bin/bash
# The installed unit as an administrator runs it: `make install` into a
# container's private view, then systemd 252 as its PID 1, its own journald,
# dbus-daemon and polkitd (container-lib.sh keeps it off the machine). The
# daemon holds a copy of the kvm16 fixture tree, given to it by a drop-in
# (--root, and ReadWritePaths= for the tree: the sandbox stays as shipped),
# so no real thread, IRQ or sysctl is touched.
#
# What it shows: start is active only with READY=1 and shows our STATUS=;
# isoctl through the container's system bus prints what --direct prints; a
# call starts the stopped daemon through bus activation; reload re-reads the
# policies and a broken one keeps the old mode, logged FILE:LINE; the
# watchdog and kill -9 restart it holding the mode, journal intact; stop
# leaves the mode or, with revert-on-stop, reverts; the journal carries the
# structured fields; the sandbox refuses nothing the daemon does and scores
# at most 2.6 (the cpuset hierarchy is written for [partition]) on the running unit; a real polkitd grants or refuses
# io.isolated.manage by a rules.d file; the daemon says once that the proc
# connector is not usable in a container.
#
# Both builds (`make check` runs it on build/ and build/san): the
# sanitizers run inside the sandbox too, with leak checking off (LSan stops
# the world with clone and ptrace, which the system call filter refuses).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/container-lib.sh"
: "${ISOLATED:?}"

BUILD_DIR=$(dirname "$ISOLATED")
BUILD_REL=${BUILD_DIR#"$TOP"/}
MAKE_ARGS=(BUILD="$BUILD_REL")
SAN=0
case $BUILD_REL in *san*) SAN=1 MAKE_ARGS+=(SAN=1) ;; esac

[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root"; finish; }
for tool in nsenter unshare setpriv; do
	command -v "$tool" >/dev/null || { fail "$tool is not installed (Debian: util-linux)"; finish; }
done
[ -x /usr/lib/polkit-1/polkitd ] || { fail "polkitd is not installed (Debian: apt-get install polkitd)"; finish; }

# ---- What the container gets ----
# The tree, the test's drop-in and nothing else of ours: the unit, the bus
# policy, the activation file and the polkit action come from make install.
IN=/run/isolated-test
TREE=$IN/tree
cp -a "$FIX/kvm16" "$CT_STAGE/tree"
cp -a "$FIX/kvm16" "$CT_STAGE/orig"
DROPIN=$CT_STAGE/etc/systemd/system/isolated.service.d
mkdir -p "$DROPIN"
{
	echo "[Service]"
	echo "ExecStart="
	echo "ExecStart=/usr/local/sbin/isolated --root $TREE"
	echo "ReadWritePaths=$TREE"
	# The tree's irqbalance writes restart irqbalance.service as on a host.
	echo "Environment=ISOLATED_TREE_RESTART_UNITS=1"
	[ "$SAN" -eq 0 ] || echo "Environment=ASAN_OPTIONS=detect_leaks=0:abort_on_error=0 UBSAN_OPTIONS=halt_on_error=1"
} >"$DROPIN/50-test-tree.conf"
DIRECT=(--direct --root "$TREE" --config "$TREE/etc/isolated")
# A stand-in irqbalance: it reads the tree's defaults file as Debian's unit
# reads /etc/default/irqbalance, and writes down what it got.
mkdir -p "$CT_STAGE/etc/systemd/system"
cat >"$CT_STAGE/etc/systemd/system/irqbalance.service" <<EOF
[Unit]
Description=irqbalance stand-in of test-systemd.sh
[Service]
EnvironmentFile=-$TREE/etc/default/irqbalance
ExecStart=/bin/sh /etc/isolated-test-irqbalance.sh
EOF
cat >"$CT_STAGE/etc/isolated-test-irqbalance.sh" <<'EOF'
echo "$IRQBALANCE_BANNED_CPULIST|$IRQBALANCE_ARGS" >/run/irqbalance-env
exec sleep infinity
EOF

container_start isolated-test "${MAKE_ARGS[@]}" || { fail "the container did not boot"; finish; }

journal() { # journalctl ARGS for the unit, since the test's mark
	ct journalctl --no-pager -q -u isolated.service "$@"
}
# jhas PATTERN [JOURNALCTL-ARGS]: the unit's journal has a message matching
# PATTERN; journald reads its sockets in its own time, so wait for it.
jhas() {
	local pat=$1
	shift
	wait_for 20 ct journalctl --no-pager -q -u isolated.service "$@" -g "$pat" -n 1 >/dev/null
}
main_pid() { ct systemctl show -P MainPID isolated.service; }
show() { ct systemctl show -P "$1" isolated.service; }
# wait_for SECONDS CMD...: until CMD succeeds (the bound is generous: a
# test may be slow, it never depends on being fast).
wait_for() {
	local n=$(($1 * 10))
	shift
	while [ "$n" -gt 0 ]; do
		"$@" && return 0
		sleep 0.1
		n=$((n - 1))
	done
	return 1
}
is_active() { [ "$(ct systemctl is-active isolated.service)" == "${1:-active}" ]; }

ct cmp -s /usr/local/sbin/isolated "$ISOLATED" || fail "make install did not install $ISOLATED"
grep -q "^ExecStart=/usr/local/sbin/isolated$" <(ct cat /usr/local/lib/systemd/system/isolated.service) ||
	fail "make install did not write ExecStart=/usr/local/sbin/isolated into the unit"

# ---- 1. systemctl enable --now: active after READY=1, STATUS=, the properties ----
# A mode applied by isoctl --direct while the daemon was not running is the
# one it holds at start; it applies it again under the journal's lock
# before READY=1. While the test holds the lock (from outside, through the
# container's root), the unit must stay "activating", and become active
# when the lock is let go.
ct isoctl "${DIRECT[@]}" apply dedicated >"$T/out" 2>&1 || fail "isoctl --direct apply dedicated: $(cat "$T/out")"
lock=/proc/$CT_PID/root$TREE/run/isolated/lock
exec {lockfd}>"$lock" && flock -x "$lockfd" || fail "cannot take $lock"
ct systemctl enable --now --no-block isolated.service >"$T/out" 2>&1 || fail "systemctl enable --now isolated: $(cat "$T/out")"
wait_for 30 sh -c "[ \"\$(nsenter --target $CT_PID --mount --pid -- systemctl show -P MainPID isolated.service)\" -gt 0 ]" ||
	fail "the daemon was not started"
# The daemon waits for the lock (a "->" waiter of its inode in /proc/locks).
ino=$(stat -c %i "$lock")
wait_for 30 grep -Eq -- "-> FLOCK +ADVISORY +WRITE +[0-9]+ +[0-9a-f]+:[0-9a-f]+:$ino " /proc/locks ||
	fail "the daemon is not waiting for the journal's lock: $(cat /proc/locks)"
expect_eq "ActiveState before READY=1" "$(show ActiveState)" activating
expect_eq "SubState before READY=1" "$(show SubState)" start
exec {lockfd}>&-
wait_for 60 is_active || fail "isolated did not become active once the lock was free: $(show ActiveState)"
expect_eq "is-enabled" "$(ct systemctl is-enabled isolated.service)" enabled
ct test -L /etc/systemd/system/multi-user.target.wants/isolated.service || fail "enable made no multi-user.target.wants link"
expect_eq "ActiveState after start" "$(show ActiveState)" active
expect_eq "Type" "$(show Type)" notify
# Type=notify: the status text is the daemon's STATUS= of its READY=1.
show StatusText >"$T/out"
expect_grep "$T/out" '^Holding dedicated'
ct systemctl status --no-pager isolated.service >"$T/status"
expect_grep "$T/status" 'Active: active \(running\)'
expect_grep "$T/status" 'Status: "Holding dedicated'
pid=$(main_pid)
[ -n "$pid" ] && [ "$pid" -gt 1 ] || fail "MainPID is [$pid]"
expect_eq "MainPID is isolated" "$(ct cat /proc/"$pid"/comm)" isolated
expect_eq "NRestarts" "$(show NRestarts)" 0
expect_eq "WatchdogUSec" "$(show WatchdogUSec)" 30s
# The capabilities it kept (caps.c drops to these after start-up).
capeff=$(ct sed -n 's/^CapEff:\t//p' /proc/"$pid"/status)
expect_eq "CapEff: CAP_NET_ADMIN CAP_SYS_NICE CAP_SYS_ADMIN" "$capeff" 0000000000a01000
# In the container the proc connector is of no use: said once, clearly.
jhas 'proc connector unusable' || fail "no word of the proc connector in the journal"
n=$(journal -g 'proc connector unusable: this daemon runs outside the initial PID namespace' | wc -l)
expect_eq "proc connector message" "$n" 1
# Back to the fixture, through the daemon; its status follows.
ct isoctl revert >"$T/out" 2>&1 || fail "isoctl revert: $(cat "$T/out")"
wait_for 20 sh -c "[ \"\$(nsenter --target $CT_PID --mount --pid -- systemctl show -P StatusText isolated.service)\" = 'Idle: nothing held (vanilla)' ]" ||
	fail "StatusText after revert: $(show StatusText)"


# ---- 2. isoctl over the container's system bus prints what --direct prints ----
# Direct first, with the daemon stopped (--direct never asks the bus, so
# nothing activates it), then the same commands through the daemon on the
# same tree from the same state.
ct systemctl stop isolated.service
same_tree() { # NAME: the tree is the fixture again, byte for byte
	ct diff -r "$IN/orig" "$TREE" >"$T/diff" 2>&1 || fail "$1: the tree differs from the fixture: $(head -c 600 "$T/diff")"
}
norm() { sed -i -E 's/applied [0-9]{4}-[0-9-]+ [0-9:]+/applied TIME/; s/"applied_at": ?[0-9]+/"applied_at": T/' "$@"; }
cmds=("list" "plan dedicated" "status" "apply dedicated" "status" "verify" "--json status" "--all status"
	"revert" "status" "apply no-such-mode")
i=0
for c in "${cmds[@]}"; do
	# shellcheck disable=SC2086
	ct isoctl "${DIRECT[@]}" $c >"$T/direct.$i.out" 2>"$T/direct.$i.err"
	echo $? >"$T/direct.$i.rc"
	i=$((i + 1))
done
same_tree "direct revert"
is_active inactive || fail "isoctl --direct started the daemon"
ct systemctl start isolated.service || fail "systemctl start after stop"
i=0
for c in "${cmds[@]}"; do
	# shellcheck disable=SC2086
	ct isoctl $c >"$T/bus.$i.out" 2>"$T/bus.$i.err"
	echo $? >"$T/bus.$i.rc"
	norm "$T/direct.$i."* "$T/bus.$i."*
	for f in out err rc; do
		cmp -s "$T/direct.$i.$f" "$T/bus.$i.$f" ||
			fail "isoctl $c: $f through the bus differs from --direct: $(diff "$T/direct.$i.$f" "$T/bus.$i.$f" | head -20)"
	done
	i=$((i + 1))
done
expect_grep "$T/bus.3.out" "Applying dedicated"
expect_eq "exit status of apply no-such-mode" "$(cat "$T/bus.10.rc")" 2
same_tree "revert through the bus"
jhas 'revert by request: vanilla in force' || fail "the daemon's journal has no revert: $(journal | tail -5)"

# ---- 3. Bus activation ----
ct systemctl stop isolated.service
is_active inactive || fail "isolated is still $(ct systemctl is-active isolated.service) after stop"
ct isoctl status >"$T/out" 2>"$T/err" || fail "isoctl status with the daemon stopped: $(cat "$T/err")"
is_active || fail "isoctl status did not start isolated.service: $(ct systemctl is-active isolated.service)"
wait_for 20 ct journalctl --no-pager -q -u dbus.service -g "Activating via systemd: service name='io.isolated.Daemon1' unit='isolated.service'" >/dev/null ||
	fail "dbus-daemon did not activate isolated.service through systemd: $(ct journalctl --no-pager -q -u dbus.service | tail -5)"
expect_grep "$T/out" "vanilla"

# ---- 4. systemctl reload ----
# A mode of /etc/isolated (searched first) shadows the shipped one.
ct isoctl apply dedicated >"$T/out" 2>&1 || fail "apply dedicated: $(cat "$T/out")"
ct sh -c 'sed "s/^sched = fifo:51$/sched = fifo:52/" /usr/local/share/isolated/policies/dedicated.conf >/etc/isolated/dedicated.conf'
ct grep -q 'fifo:52' /etc/isolated/dedicated.conf || fail "no fifo:52 in the test's dedicated.conf"
pid=$(main_pid)
ct systemctl reload isolated.service || fail "systemctl reload"
expect_eq "MainPID after reload" "$(main_pid)" "$pid"
expect_eq "ActiveState after reload" "$(show ActiveState)" active
# READY=1 after RELOADING=1 again: the status line is the held mode's.
show StatusText >"$T/out"
expect_grep "$T/out" '^Holding dedicated'
jhas 'Reloaded isolated.service' || fail "systemd did not log the reload as done: $(journal | tail -3)"
jhas 'reloading host.conf and the policy of dedicated' || fail "no reload in the journal: $(journal | tail -5)"
has_field() { # JQ-FILTER: an entry of the unit's journal matches it
	journal -o json | jq -e -s "map(select($1)) | length > 0" >/dev/null
}
wait_for 20 has_field '.ISOLATED_RULE == "rt-vcpu" and .ISOLATED_VALUE == "fifo:52"' ||
	fail "the reload did not apply the re-read policy (no rt-vcpu fifo:52 in the journal)"
# A broken policy: the reload keeps the old mode and says where.
ct sh -c 'printf "[thread rt-vcpu]\nsched = fifo:500\n" >>/etc/isolated/dedicated.conf'
ct systemctl reload isolated.service || fail "systemctl reload (broken policy)"
jhas '/etc/isolated/dedicated.conf:[0-9]+' ||
	fail "the broken policy is not logged FILE:LINE: $(journal | tail -5)"
expect_eq "ActiveState after a broken reload" "$(show ActiveState)" active
ct isoctl status >"$T/out" 2>&1
expect_grep "$T/out" "dedicated"
ct rm /etc/isolated/dedicated.conf
ct systemctl reload isolated.service

# ---- 5. Watchdog and kill -9: restarted, the mode held, nothing lost ----
mkdir -p "$T/w"
ct sh -c "mkdir -p /etc/systemd/system/isolated.service.d && printf '[Service]\nWatchdogSec=2s\nTimeoutAbortSec=2s\nRestartSec=0.2s\nLimitCORE=0\n' >/etc/systemd/system/isolated.service.d/60-test-watchdog.conf"
ct systemctl daemon-reload
ct systemctl restart isolated.service || fail "restart with WatchdogSec=2s"
expect_eq "WatchdogUSec with the drop-in" "$(show WatchdogUSec)" 2s
# What the journal holds (every target, its pristine and wanted value),
# before and after: nothing lost.
ct isoctl --all status >"$T/w/status.before" 2>&1
restarts=$(show NRestarts)
pid=$(main_pid)
ct kill -STOP "$pid"
wait_for 60 sh -c "[ \"\$(nsenter --target $CT_PID --mount --pid -- systemctl show -P MainPID isolated.service)\" != $pid ] && [ \"\$(nsenter --target $CT_PID --mount --pid -- systemctl is-active isolated.service)\" = active ]" ||
	fail "a stopped daemon was not restarted by the watchdog"
jhas 'Watchdog timeout' || fail "systemd logged no watchdog timeout"
expect_eq "NRestarts after the watchdog" "$(show NRestarts)" $((restarts + 1))
ct isoctl --all status >"$T/w/status.after" 2>&1
norm "$T/w/status.before" "$T/w/status.after"
cmp -s "$T/w/status.before" "$T/w/status.after" ||
	fail "status after the watchdog restart differs: $(diff "$T/w/status.before" "$T/w/status.after" | head)"
pid=$(main_pid)
ct kill -9 "$pid"
wait_for 60 sh -c "[ \"\$(nsenter --target $CT_PID --mount --pid -- systemctl show -P MainPID isolated.service)\" != $pid ] && [ \"\$(nsenter --target $CT_PID --mount --pid -- systemctl is-active isolated.service)\" = active ]" ||
	fail "the daemon was not restarted after kill -9"
expect_eq "NRestarts after kill -9" "$(show NRestarts)" $((restarts + 2))
ct isoctl --all status >"$T/w/status.after9" 2>&1
norm "$T/w/status.after9"
cmp -s "$T/w/status.before" "$T/w/status.after9" ||
	fail "status after kill -9 differs: $(diff "$T/w/status.before" "$T/w/status.after9" | head)"
ct isoctl "${DIRECT[@]}" verify >"$T/out" 2>&1 || fail "verify after the restarts: $(cat "$T/out")"
ct rm /etc/systemd/system/isolated.service.d/60-test-watchdog.conf
ct systemctl daemon-reload

# ---- 6. Journal fields of an apply and of a drift ----
has_field '.ISOLATED_MODE == "dedicated" and .ISOLATED_KIND == "sysctl" and .ISOLATED_ITEM == "kernel.timer_migration" and .ISOLATED_VALUE == "0" and .ISOLATED_OUTCOME == "done"' ||
	fail "no journal entry with ISOLATED_MODE=dedicated ISOLATED_KIND=sysctl ISOLATED_ITEM=kernel.timer_migration: $(journal -o json | jq -c 'select(.ISOLATED_ITEM) | {ISOLATED_ITEM, ISOLATED_MODE}' | head -3)"
ct sh -c "echo 1 >$TREE/proc/sys/kernel/timer_migration"
ct isoctl verify >"$T/out" 2>&1
wait_for 20 has_field '.ISOLATED_DRIFT == "1" and .ISOLATED_MODE == "dedicated" and .ISOLATED_ITEM == "kernel.timer_migration" and .ISOLATED_NOW == "1"' ||
	fail "the drift of kernel.timer_migration is not in the journal with ISOLATED_DRIFT: $(tail -3 "$T/out")"
ct sh -c "echo 0 >$TREE/proc/sys/kernel/timer_migration"

# ---- 6b. irqbalance restarted through systemd's D-Bus API ----
# The daemon runs no program: it asks systemd (TryRestartUnit) to restart
# irqbalance.service once the defaults file bans the RT CPUs and IRQs, and
# again when the revert puts the file back.
RT_IRQS="--banirq=133 --banirq=134 --banirq=135 --banirq=136 --banirq=137 --banirq=138 --banirq=139 --banirq=140 --banirq=141"
irqb_env() { [ "$(ct cat /run/irqbalance-env 2>/dev/null)" == "$1" ]; }
irqb_id() { ct systemctl show -P InvocationID irqbalance.service; }
ct isoctl revert >/dev/null 2>&1
ct systemctl start irqbalance.service || fail "the irqbalance stand-in does not start"
wait_for 20 irqb_env "|" || fail "irqbalance before the apply got: $(ct cat /run/irqbalance-env)"
id0=$(irqb_id)
ct isoctl apply dedicated >"$T/out" 2>&1 || fail "apply dedicated with irqbalance running: $(cat "$T/out")"
wait_for 20 irqb_env "6-7|$RT_IRQS" || fail "irqbalance after the apply got: $(ct cat /run/irqbalance-env)"
id1=$(irqb_id)
[ -n "$id1" ] && [ "$id1" != "$id0" ] || fail "irqbalance.service was not restarted by the apply ($id0, $id1)"
expect_eq "irqbalance.service after the apply" "$(ct systemctl is-active irqbalance.service)" active
ct isoctl revert >"$T/out" 2>&1 || fail "revert with irqbalance running: $(cat "$T/out")"
wait_for 20 irqb_env "|" || fail "irqbalance after the revert got: $(ct cat /run/irqbalance-env)"
[ "$(irqb_id)" != "$id1" ] || fail "irqbalance.service was not restarted by the revert"
ct cmp -s "$TREE/etc/default/irqbalance" "$IN/orig/etc/default/irqbalance" || fail "the revert did not put irqbalance's file back"
ct systemctl stop irqbalance.service
# A stopped irqbalance stays stopped (TryRestartUnit starts nothing).
ct isoctl apply dedicated >/dev/null 2>&1 || fail "apply dedicated with irqbalance stopped"
expect_eq "irqbalance.service after an apply while stopped" "$(ct systemctl is-active irqbalance.service)" inactive

# ---- 7. polkit: a rules.d file grants io.isolated.manage to uid 65534 ----
# The rule is isolated(8)'s example (members of rtadmin), as it renders;
# nobody (uid 65534) is made a member in the container's /etc.
nobody() { ct setpriv --reuid=65534 --regid=65534 --init-groups "$@"; }
tree_files() { ct sh -c "cd $TREE && find . -type f -print0 | sort -z | xargs -0 cat | sha256sum"; }
ct isoctl revert >/dev/null 2>&1
ct groupadd -r rtadmin && ct usermod -a -G rtadmin nobody || fail "cannot make nobody a member of rtadmin"
MANWIDTH=200 man -l "$TOP/man/isolated.8" 2>/dev/null |
	awk '/cat >\/etc\/polkit-1\/rules.d\/50-isolated.rules <<EOF/ {f=1; next} f && /^ *EOF$/ {exit} f {print}' >"$T/rules"
grep -q 'io.isolated.manage' "$T/rules" || fail "no polkit rule in the EXAMPLES of isolated(8): $(cat "$T/rules")"
tree_files >"$T/sum.before"
nobody isoctl apply dedicated >"$T/out" 2>"$T/err"
rc=$?
[ "$rc" -ne 0 ] || fail "uid 65534 without a polkit rule could apply"
expect_eq "lines of isoctl's refusal" "$(wc -l <"$T/err")" 1
expect_grep "$T/err" '^isoctl: permission denied: Apply needs root or the polkit action io\.isolated\.manage \(polkit: '
# On the bus: org.freedesktop.DBus.Error.AccessDenied.
nobody dbus-send --system --print-reply --dest=io.isolated.Daemon1 /io/isolated/Daemon1 \
	io.isolated.Daemon1.Confirm >"$T/out" 2>"$T/err" && fail "uid 65534 could call Confirm"
expect_grep "$T/err" '^Error org\.freedesktop\.DBus\.Error\.AccessDenied: Confirm needs root or the polkit action io\.isolated\.manage'
tree_files >"$T/sum.after"
cmp -s "$T/sum.before" "$T/sum.after" || fail "a refused apply changed the tree"
jhas 'Apply from uid 65534 pid [0-9]+: denied \(polkit: ' || fail "the refusal is not in the daemon's journal: $(journal | tail -3)"
expect_eq "polkit.service (started by bus activation)" "$(ct systemctl is-active polkit.service)" active
ct sh -c 'cat >/etc/polkit-1/rules.d/50-isolated.rules' <"$T/rules"
# polkitd reloads its rules on a change of rules.d; a restart makes it
# certain without waiting for it.
ct systemctl restart polkit.service
nobody isoctl apply dedicated >"$T/out" 2>"$T/err" || fail "uid 65534 in rtadmin with the polkit rule could not apply: $(cat "$T/err")"
expect_eq "timer_migration after the granted apply" "$(ct cat "$TREE/proc/sys/kernel/timer_migration")" 0
jhas 'authorised by polkit \(io\.isolated\.manage\)' || fail "the daemon did not log polkit's grant"
nobody isoctl revert >"$T/out" 2>"$T/err" || fail "uid 65534 with the polkit rule could not revert: $(cat "$T/err")"
ct rm /etc/polkit-1/rules.d/50-isolated.rules

# ---- 8. systemctl stop: the mode stays, or is reverted with revert-on-stop ----
ct isoctl apply dedicated >/dev/null 2>&1 || fail "apply dedicated before stop"
ct systemctl stop isolated.service
expect_eq "timer_migration after stop" "$(ct cat "$TREE/proc/sys/kernel/timer_migration")" 0
ct isoctl "${DIRECT[@]}" status >"$T/out" 2>&1
expect_grep "$T/out" "dedicated"
ct sh -c 'printf "[daemon]\nrevert-on-stop = yes\n" >/etc/isolated/isolated.conf'
ct systemctl start isolated.service
ct systemctl stop isolated.service
same_tree "stop with revert-on-stop"
ct rm /etc/isolated/isolated.conf
# A restart that cannot be asked for (no system bus) is said, and the
# file is written all the same; the revert puts it back.
NOBUS=(env DBUS_SYSTEM_BUS_ADDRESS=unix:path=/run/no-such-bus ISOLATED_TREE_RESTART_UNITS=1)
ct "${NOBUS[@]}" isoctl "${DIRECT[@]}" apply dedicated >"$T/out" 2>&1 || fail "--direct apply without a bus: $(cat "$T/out")"
expect_grep "$T/out" "irqbalance's defaults file is written, but restarting irqbalance\.service: .+: restart irqbalance to make it read the file"
ct grep -q '^IRQBALANCE_BANNED_CPULIST="6-7"$' "$TREE/etc/default/irqbalance" || fail "--direct apply without a bus did not write irqbalance's file"
ct "${NOBUS[@]}" isoctl "${DIRECT[@]}" revert >"$T/out" 2>&1 || fail "--direct revert without a bus: $(cat "$T/out")"
expect_grep "$T/out" "irqbalance's defaults file is written, but restarting irqbalance\.service"
same_tree "apply and revert without a bus"

# ---- 9. The sandbox refused nothing; its score on the running unit ----
ct systemctl start isolated.service
journal >"$T/daemon.journal"
expect_no_grep "$T/daemon.journal" '(Operation not permitted|Permission denied|not supported|EPERM|EACCES|seccomp|Bad system call|status=31/SYS|core-dump|AddressSanitizer|runtime error)'
# A refused system call, socket or capability degrades the daemon with a
# warning (rtnetlink: no link events (Address family not supported) ...).
# Every warning or error it logged in this run is one the test caused.
journal -o json | jq -r 'select(.SYSLOG_IDENTIFIER == "isolated" and (.PRIORITY | tonumber) <= 4) | .MESSAGE' |
	grep -Ev '^(proc connector unusable: this daemon runs outside the initial PID namespace|drift: kernel\.timer_migration |1 target was changed by another program|/etc/isolated/dedicated\.conf:[0-9]+: |the policy of dedicated has errors: keeping the one read before$)' \
		>"$T/warnings"
[ ! -s "$T/warnings" ] || fail "the daemon warned in the sandbox: $(head -c 800 "$T/warnings")"
LC_ALL=C ct systemd-analyze security --no-pager isolated.service >"$T/security" 2>&1
score=$(sed -n 's/.*Overall exposure level for isolated\.service: \([0-9.]*\).*/\1/p' "$T/security")
if [ -z "$score" ]; then
	fail "systemd-analyze security on the running unit: $(tail -c 400 "$T/security")"
else
	echo "systemd-analyze security isolated.service (running, in the container): $score"
	awk -v s="$score" 'BEGIN { exit !(s <= 2.6) }' || fail "exposure $score is above 2.6"
fi
ct systemctl stop isolated.service

container_stop
container_check_machine || fail "the machine is not as it was before the container"
finish
