#!/bin/bash
# isoctl as a client of the isolated daemon, and its direct mode: text
# output unchanged (golden hashes taken before the output was rendered
# from JSON documents), verify, confirm, --confirm-within, the bus that is
# not there, and -- against a stand-in daemon on a private bus
# (tests/helpers/fake-isolated) -- that the text rendered from the daemon's
# document is the direct mode's, that options and interactive
# authorisation reach the daemon, and that bus errors become the direct
# mode's messages and exit statuses.
# Trees and journals on tmpfs: fsync on a disk makes this slow.
[ -d /dev/shm ] && [ -w /dev/shm ] && export TMPDIR=/dev/shm
. "$(dirname "$0")/lib.sh"
: "${HELPERS:?}"
EX="--config $TOP/policies/examples"

. "$(dirname "$0")/dbus-lib.sh"

# The stand-in daemon is not our child (the bus daemonises what it
# activates): stop it by its pid, and see it gone before the bus goes.
stop_fake() {
	local pid
	[ -s "$T/fake/pid" ] || return 0
	pid=$(cat "$T/fake/pid")
	kill "$pid" 2>/dev/null
	for _ in $(seq 100); do
		[ -d "/proc/$pid" ] && [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != Z ] || break
		sleep 0.05
	done
}

fresh() { # NAME FIXTURE: a copy of the fixture in $T/NAME
	rm -rf "${T:?}/$1"
	cp -a "$FIX/$2" "$T/$1"
}

# The output with the tree's path and the apply time taken out, hashed.
normsum() { # FILE TREE
	sed -e "s#$2#TREE#g" -e 's/applied [0-9-]* [0-9:]* [+-][0-9]*/applied TIME/' "$1" | sha256sum | cut -c1-16
}

golden() { # NAME TREE WANT_HASH
	local got
	got=$(normsum "$T/out" "$2")
	[ "$got" == "$3" ] || fail "$1: output changed (hash $got, expected $3): $(head -c 400 "$T/out")"
}

# No daemon is asked in this part: the system bus is not there.
export DBUS_SYSTEM_BUS_ADDRESS=unix:path=/nonexistent

# ---- direct mode: byte for byte the output isoctl had before ----
# (hashes of the output of the isoctl before this change, on kvm16; taken
# again when the shipped dedicated mode gained its sysctls and [sysfs], and the RT CPUs' ksoftirqd their priority, and
# its [partition], which kvm16 (no cgroup tree) cannot have; the diff of the outputs being those lines alone)
fresh d kvm16
run 0 --root "$T/d" plan dedicated && golden "plan" "$T/d" bb267fc85461433a
run 0 --root "$T/d" apply dedicated --dry-run && golden "dry run" "$T/d" fbbefdc2f0d19ce9
run 0 --root "$T/d" apply dedicated && golden "apply" "$T/d" ac684420486c1562
expect_eq "apply text" "$(cat "$T/out")" "Applying dedicated (from vanilla, scope host) on $T/d: 166 changes
cannot be done: 58 (see isoctl plan dedicated)
dedicated in force: 153 done, 13 pending, 0 unchanged, 0 not movable, 0 gone, 0 conflicts"
run 0 --root "$T/d" status && golden "status" "$T/d" f5a9f07bbf496c4c
run 0 --root "$T/d" status --all && golden "status --all" "$T/d" b6e14f7bd336396f
# --direct changes nothing in direct mode.
for cmd in "status" "plan rt-only" "apply dedicated --dry-run" "verify"; do
	# shellcheck disable=SC2086
	run 0 --root "$T/d" $cmd && cp "$T/out" "$T/out.1"
	# shellcheck disable=SC2086
	run 0 --direct --root "$T/d" $cmd && cmp -s "$T/out" "$T/out.1" || fail "--direct $cmd: output differs"
done
run 0 --root "$T/d" revert && golden "revert" "$T/d" b06c67b82d70d535
expect_eq "revert text" "$(cat "$T/out")" "Reverting dedicated to vanilla on $T/d: 166 changes
vanilla in force: 166 done, 0 pending, 0 unchanged, 0 not movable, 0 gone, 0 conflicts
isolated holds nothing on this host any more"
run 0 --root "$T/d" status && golden "status after revert" "$T/d" 25217def52f613be

# --json status: without --all only the tuned threads, as before; with
# --all every thread.
run 0 --root "$T/d" --json status
expect_eq "status --json threads" "$(jq '[.threads[] | select(.tuned | not)] | length' "$T/out")" 0
expect_eq "status --json tuned" "$(jq '.threads | length' "$T/out")" "$(jq .threads_tuned "$T/out")"
run 0 --root "$T/d" --json --all status
expect_eq "status --all --json" "$(jq '.threads | length' "$T/out")" "$(jq .threads_total "$T/out")"

# ---- verify: drift, never enforced in direct mode ----
fresh v kvm16
run 0 --root "$T/v" verify
expect_eq "verify, nothing held" "$(cat "$T/out")" "mode        vanilla (isolated holds nothing on this host)
nothing to verify"
run 0 --root "$T/v" apply dedicated
run 0 --root "$T/v" verify
expect_grep "$T/out" '^no drift: 166 targets as wanted, 0 gone$'
# Something else moves an IRQ and a sysctl.
printf '3\n' >"$T/v/proc/irq/133/smp_affinity_list"
printf '0008\n' >"$T/v/proc/irq/133/smp_affinity"
printf '1\n' >"$T/v/proc/sys/kernel/timer_migration"
before=$(tree_sum "$T/v")
run 1 --root "$T/v" verify
expect_grep "$T/out" "^drift       2 of 166 targets changed behind isolated's back$"
expect_grep "$T/out" '^\* IRQ affinity +irq/133 .* 6-7 +3$'
expect_grep "$T/out" '^\* sysctl +kernel.timer_migration +1 +0 +1$'
expect_grep "$T/out" '^left as they are: isoctl apply dedicated --force puts them back$'
expect_eq "verify lists drift only" "$(grep -c '^\*' "$T/out")" 2
run 1 --root "$T/v" --json verify
expect_eq "verify --json drift" "$(jq .drift "$T/out")" 2
expect_eq "verify --json targets" "$(jq -r '[.targets[].target] | join(" ")' "$T/out")" "kernel.timer_migration irq/133"
expect_eq "verify --json enforced" "$(jq .enforced "$T/out")" false
expect_eq "verify --json managed" "$(jq .managed "$T/out")" 166
expect_eq "verify wrote nothing" "$(tree_sum "$T/v")" "$before"
run 0 --root "$T/v" revert --force

# ---- confirm in direct mode (the daemon is down) ----
fresh c kvm16
run 1 --root "$T/c" confirm
expect_grep "$T/err" '^isoctl: nothing to confirm'
run 2 --root "$T/c" confirm extra
expect_grep "$T/err" '^isoctl: usage: isoctl confirm$'
# A mode applied unless confirmed (what the daemon does for
# --confirm-within), by this shell's uid and session.
if "$HELPERS/apply-unconfirmed" "$T/c" "$TOP/policies" "$T/c/etc/isolated/host.conf" dedicated 3600; then
	run 0 --root "$T/c" status
	expect_grep "$T/out" '^            unconfirmed: back to vanilla at [0-9-]+ [0-9:]+ [+-][0-9]+ unless isoctl confirm comes first$'
	run 0 --root "$T/c" --json status
	expect_eq "status: confirm" "$(jq -r '.isolated.confirm.previous_mode' "$T/out")" vanilla
	run 0 --root "$T/c" confirm
	expect_eq "confirm" "$(cat "$T/out")" "dedicated confirmed: it stays in force"
	run 0 --root "$T/c" status
	expect_no_grep "$T/out" 'unconfirmed'
	expect_grep "$T/out" '^mode +dedicated \(scope host\)'
	run 1 --root "$T/c" confirm
	expect_grep "$T/err" '^isoctl: nothing to confirm'
else
	fail "apply-unconfirmed failed"
fi
# Applied by someone else: refused, the journal untouched.
if "$HELPERS/apply-unconfirmed" "$T/c" "$TOP/policies" "$T/c/etc/isolated/host.conf" rt-only 3600 4242; then
	cp "$T/c/run/isolated/journal" "$T/journal.before"
	run 1 --root "$T/c" confirm
	expect_grep "$T/err" '^isoctl: only the caller that applied rt-only may confirm it: uid 4242'
	cmp -s "$T/journal.before" "$T/c/run/isolated/journal" || fail "a refused confirm changed the journal"
	run 0 --root "$T/c" status
	expect_grep "$T/out" 'unconfirmed: back to dedicated at '
else
	fail "apply-unconfirmed (uid 4242) failed"
fi
# A revert drops what waited for a confirmation.
run 0 --root "$T/c" revert
run 1 --root "$T/c" confirm
expect_grep "$T/err" '^isoctl: nothing to confirm'

# ---- --confirm-within ----
before=$(tree_sum "$T/c")
run 2 --root "$T/c" apply dedicated --confirm-within 60s
expect_eq "confirm-within --root" "$(cat "$T/err")" "isoctl: --confirm-within needs the isolated daemon, and --root names a tree the daemon does not manage: in direct mode nobody would go back from dedicated when the time runs out"
# With --direct nothing is looked at or written either (no --root: this
# would be the running kernel).
run 2 --direct apply dedicated --confirm-within 2m
expect_grep "$T/err" '^isoctl: --confirm-within needs the isolated daemon, and --direct was given'
expect_eq "confirm-within: tree untouched" "$(tree_sum "$T/c")" "$before"
for bad in 0 abc 60x 25h -5 ''; do
	run 2 --root "$T/c" apply dedicated --confirm-within "$bad"
	expect_grep "$T/err" "^isoctl: --confirm-within $bad: "
done
run 2 --root "$T/c" status --confirm-within 60s
expect_grep "$T/err" '^isoctl: --confirm-within is an option of apply only'
run 2 --root "$T/c" apply dedicated --confirm-within 60s --dry-run
expect_grep "$T/err" 'dry run'

# ---- no bus: direct mode, silently ----
# (the running host, read-only commands; --direct is the reference)
for cmd in verify list; do
	"$ISOCTL" --direct $cmd >"$T/want.out" 2>"$T/want.err"
	want=$?
	"$ISOCTL" $cmd >"$T/got.out" 2>"$T/got.err"
	got=$?
	expect_eq "no bus: $cmd status" "$got" "$want"
	cmp -s "$T/want.out" "$T/got.out" || fail "no bus: $cmd: stdout differs from --direct"
	cmp -s "$T/want.err" "$T/got.err" || fail "no bus: $cmd: stderr differs from --direct: $(cat "$T/got.err")"
done

# ---- a private bus, like the system bus (tests/integration/dbus-lib.sh) ----
mkdir -p "$T/services" "$T/fake"
start_private_bus "$T/bus" "$T/services" || {
	fail "no private bus"
	finish
}

# A bus, but no daemon on it and none to start: direct mode, silently.
"$ISOCTL" --direct verify >"$T/want.out" 2>"$T/want.err"
run $? verify
cmp -s "$T/want.out" "$T/out" || fail "bus without daemon: verify differs from --direct"
cmp -s "$T/want.err" "$T/err" || fail "bus without daemon: stderr differs: $(cat "$T/err")"
stop_private_bus

# The stand-in daemon, started by bus activation on the first call, from
# the shipped activation file with its Exec= replaced. (The bus is started
# again: it reads its service files when it starts.)
sed "s|^Exec=.*|Exec=$HELPERS/fake-isolated $T/fake|" "$TOP/systemd/io.isolated.Daemon1.service" \
	>"$T/services/io.isolated.Daemon1.service"
start_private_bus "$T/bus" "$T/services" || {
	fail "no private bus"
	finish
}
trap 'stop_fake; stop_private_bus; rm -rf "$T"' EXIT

same_as_direct() { # NAME EXPECTED_STATUS BUS_ARGS -- DIRECT_ARGS
	local name=$1 want=$2 bus=() direct=()
	shift 2
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		bus+=("$1")
		shift
	done
	shift
	direct=("$@")
	run "$want" "${direct[@]}" || return
	mv "$T/out" "$T/direct.out"
	mv "$T/err" "$T/direct.err"
	run "$want" "${bus[@]}" || return
	cmp -s "$T/direct.out" "$T/out" ||
		fail "$name: the daemon's output differs from direct mode: $(diff "$T/direct.out" "$T/out" | head -c 600)"
	cmp -s "$T/direct.err" "$T/err" || fail "$name: stderr differs: $(cat "$T/err")"
}

# Its answers are the documents direct mode builds for a tree, which
# stands for the daemon's host: the bus output must be direct mode's.
fresh b kvm16
"$ISOCTL" --root "$T/b" --json plan dedicated >"$T/fake/Plan.json"
same_as_direct "plan" 0 plan dedicated -- --root "$T/b" plan dedicated
[ -s "$T/fake/pid" ] || fail "the stand-in daemon was not started by bus activation"
same_as_direct "plan --json" 0 --json plan dedicated -- --root "$T/b" --json plan dedicated
"$ISOCTL" $EX --json list >"$T/fake/ListModes.json"
same_as_direct "list" 0 list -- $EX list
same_as_direct "list --json" 0 --json list -- $EX --json list
"$ISOCTL" --root "$T/b" --json apply dedicated >"$T/fake/Apply.json"
"$ISOCTL" --root "$T/b" --json --all status >"$T/fake/Status.json"
same_as_direct "status" 0 status -- --root "$T/b" status
# Anyone may look: nobody gets the same through the daemon (the shipped bus
# policy lets everyone call it; isoctl needs no privilege to ask).
if [ "$(id -u)" = 0 ]; then
	chmod 0755 "$T" # nobody reaches the socket below it
	setpriv --reuid=65534 --regid=65534 --clear-groups "$ISOCTL" status >"$T/nobody.out" 2>"$T/nobody.err" ||
		fail "status as nobody exited $?: $(cat "$T/nobody.err")"
	cmp -s "$T/direct.out" "$T/nobody.out" || fail "status as nobody differs from direct mode"
fi
same_as_direct "status --all" 0 --all status -- --root "$T/b" --all status
same_as_direct "status --json" 0 --json status -- --root "$T/b" --json status
printf '3\n' >"$T/b/proc/irq/133/smp_affinity_list"
"$ISOCTL" --root "$T/b" --json verify >"$T/fake/Verify.json"
same_as_direct "verify" 1 verify -- --root "$T/b" verify
same_as_direct "verify --json" 1 --json verify -- --root "$T/b" --json verify
# apply: the document of an apply on a fresh copy of the same tree.
fresh b kvm16
same_as_direct "apply" 0 apply dedicated -- --root "$T/b" apply dedicated
fresh b kvm16
same_as_direct "apply --json" 0 --json apply dedicated -- --root "$T/b" --json apply dedicated
printf '{"confirmed": "dedicated"}\n' >"$T/fake/Confirm.json"
run 0 confirm
expect_eq "confirm" "$(cat "$T/out")" "dedicated confirmed: it stays in force"

# What reached the daemon: arguments, options, interactive authorisation
# for the methods that change the machine only.
: >"$T/fake/calls"
run 0 apply dedicated --force --scope process:1 --confirm-within 2m
run 0 --all status
run 0 plan rt-only
cp "$T/fake/Apply.json" "$T/fake/Revert.json"
run 0 revert --dry-run
run 0 confirm
expect_eq "calls" "$(cat "$T/fake/calls")" "Apply dedicated force=true scope=process:1 confirm-within=120000000 interactive=1
Status interactive=0
Plan rt-only interactive=0
Revert dry-run=true interactive=1
Confirm interactive=1"

# Not asked: --direct, --root, --policies, --config; commands it has no
# method for; a mode name that is not a name (checked first, as direct
# mode does, so polkit asks nobody for a password in vain).
: >"$T/fake/calls"
run 0 --direct --root "$T/b" status
run 0 --root "$T/b" status
run 0 $EX list
run 2 --policies "$T/nopol" plan dedicated
run 0 $EX show dedicated
run 2 apply ../dedicated
expect_grep "$T/err" '^isoctl: invalid mode name "\.\./dedicated"'
run 2 plan "$(printf 'x%.0s' {1..65})"
expect_grep "$T/err" '^isoctl: invalid mode name .*at most 64'
expect_eq "not asked" "$(cat "$T/fake/calls")" ""

# Errors: the daemon's lines as they are, exit 2 for arguments and
# policies, 1 otherwise; AccessDenied says "permission denied".
printf 'io.isolated.Error.BadPolicy\nisoctl: unknown mode "nosuch" (no nosuch.conf in /etc/isolated; see isoctl list)\n' \
	>"$T/fake/Apply.error"
run 2 apply nosuch
expect_eq "BadPolicy" "$(cat "$T/err")" 'isoctl: unknown mode "nosuch" (no nosuch.conf in /etc/isolated; see isoctl list)'
expect_eq "BadPolicy: nothing on stdout" "$(cat "$T/out")" ""
printf 'io.isolated.Error.BadPolicy\n/etc/isolated/x.conf:6: invalid cpu list\n/etc/isolated/x.conf:7: priority 100 out of range 1..99\n' \
	>"$T/fake/Apply.error"
run 2 apply x
expect_eq "BadPolicy lines" "$(cat "$T/err")" "/etc/isolated/x.conf:6: invalid cpu list
/etc/isolated/x.conf:7: priority 100 out of range 1..99"
printf 'io.isolated.Error.InvalidArgument\nisoctl: --scope bogus: not a scope\n' >"$T/fake/Apply.error"
run 2 apply dedicated --scope bogus
expect_eq "InvalidArgument" "$(cat "$T/err")" "isoctl: --scope bogus: not a scope"
printf 'org.freedesktop.DBus.Error.AccessDenied\nApply needs root or the polkit action io.isolated.manage\n' \
	>"$T/fake/Apply.error"
run 1 apply dedicated
expect_eq "AccessDenied" "$(cat "$T/err")" "isoctl: permission denied: Apply needs root or the polkit action io.isolated.manage"
printf 'io.isolated.Error.Busy\nisoctl: another isoctl or isolated (pid 4242) is changing this host\n' >"$T/fake/Revert.error"
run 1 revert
expect_eq "Busy" "$(cat "$T/err")" "isoctl: another isoctl or isolated (pid 4242) is changing this host"
printf 'io.isolated.Error.NotOwner\nisoctl: dedicated was applied by uid 1000 (session 4): only it can confirm\n' \
	>"$T/fake/Confirm.error"
run 1 confirm
expect_grep "$T/err" '^isoctl: dedicated was applied by uid 1000'
printf 'org.freedesktop.DBus.Error.NoReply\nDid not receive a reply\n' >"$T/fake/Status.error"
run 1 status
expect_eq "bus error" "$(cat "$T/err")" "isoctl: the isolated daemon: Did not receive a reply (org.freedesktop.DBus.Error.NoReply)"
printf 'not json' >"$T/fake/Verify.json"
run 1 verify
expect_grep "$T/err" '^isoctl: the isolated daemon answered with a document that does not parse'
# A failed transaction is a document: rendered, its error on stderr, exit 1.
rm -f "$T/fake/Apply.error"
fresh e kvm16
ISOLATED_TREE_FAULTS="tid/2206/sched=EPERM" "$ISOCTL" --root "$T/e" --json apply dedicated >"$T/fake/Apply.json" 2>/dev/null
fresh e kvm16
ISOLATED_TREE_FAULTS="tid/2206/sched=EPERM" same_as_direct "failed apply" 1 apply dedicated -- --root "$T/e" apply dedicated
expect_grep "$T/err" '^isoctl: .*tid/2206.*EPERM'

finish
