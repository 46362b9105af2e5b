#!/bin/bash
# The crash matrix: `isoctl apply dedicated` on the 16-CPU fixture killed
# (SIGKILL, ISOLATED_CRASH_AFTER) right after the journal write, after
# every one of its writes and after its commit, then `isoctl revert`: the
# tree must equal the original byte for byte each time. The same for a
# revert killed after each of its writes, for kills while an interrupted
# transaction is undone and right after that undo is journaled, and for a
# journal whose last record was cut short (a kill inside its append).
. "$(dirname "$0")/lib.sh"

# A working copy on tmpfs when there is one: 300+ runs over a 2800-file tree.
W=$(mktemp -d -p /dev/shm 2>/dev/null || mktemp -d -p "$T")
trap 'rm -rf "$T" "$W"' EXIT
orig=$FIX/kvm16
tree=$W/kvm16

reset_tree() {
	rm -rf "$tree"
	cp -a "$orig" "$tree"
}

# The tree equals the original (diff -r for contents, tree_sum for modes
# too, only when diff passes: it is the slower of the two).
check_same() { # WHAT
	if ! diff -r "$orig" "$tree" >"$T/diff" 2>&1; then
		fail "$1: tree differs: $(head -c 600 "$T/diff")"
		reset_tree
		return 1
	fi
	return 0
}

killed() { # CRASH_POINT ARGS...: isoctl must die of SIGKILL
	local point=$1 st
	shift
	# In a subshell, so bash does not report each kill.
	(ISOLATED_CRASH_AFTER=$point exec "$ISOCTL" --root "$tree" "$@" >"$T/out" 2>"$T/err") 2>/dev/null
	st=$?
	if [ "$st" != 137 ]; then
		fail "crash at $point of '$*': exit status $st, expected 137 (SIGKILL); $(head -c 300 "$T/err")"
		return 1
	fi
}

reset_tree
run 0 --root "$tree" --json apply dedicated --dry-run || finish
n=$(jq '[.steps[] | select(.outcome == "planned")] | length' "$T/out")
[ "$n" -ge 100 ] || fail "apply dedicated on kvm16 plans $n writes; expected over 100"
echo "crash matrix: $n writes"

# The journal a kill left reads (status parses it whole, records and all).
journal_reads() { # WHAT
	[ -e "$tree/run/isolated/journal" ] || return 0
	"$ISOCTL" --root "$tree" status >/dev/null 2>"$T/status-err" ||
		fail "$1: the journal left behind does not read: $(head -c 300 "$T/status-err")"
}

# Kill apply at every point; revert must restore the original.
for point in journal $(seq 1 "$n") commit; do
	killed "$point" apply dedicated || continue
	journal_reads "crash at $point"
	run 0 --root "$tree" revert || { reset_tree; continue; }
	if [ "$point" != commit ]; then
		grep -q 'an interrupted transaction (apply dedicated' "$T/out" ||
			fail "crash at $point: revert did not report the interrupted transaction"
	fi
	check_same "apply killed after $point, then revert"
done

# After a kill, status reports the interrupted transaction and apply
# completes the undo before applying.
killed 7 apply dedicated
run 0 --root "$tree" status
expect_grep "$T/out" 'INTERRUPTED: a transaction to dedicated'
run 0 --root "$tree" apply dedicated
expect_grep "$T/out" 'an interrupted transaction \(apply dedicated, pid [0-9]+\) was undone: 7 values put back'
run 0 --root "$tree" revert
check_same "interrupted, apply, revert"

# Kill revert at every point; another revert must finish the job.
run 0 --root "$tree" apply dedicated
run 0 --root "$tree" --json revert --dry-run
m=$(jq '[.steps[] | select(.outcome == "planned")] | length' "$T/out")
expect_eq "revert writes" "$m" "$n"
for point in journal $(seq 1 "$m"); do
	killed "$point" revert || continue
	journal_reads "revert killed at $point"
	run 0 --root "$tree" revert || { reset_tree; continue; }
	check_same "revert killed after $point, then revert"
	run 0 --root "$tree" apply dedicated || reset_tree
done
run 0 --root "$tree" revert
check_same "final revert"

# A kill inside the append of a record: a re-apply that puts back one
# drifted IRQ (--force) appends a small record (its transaction), killed right after.
# Cut short anywhere, the journal reads as before that record (its kernel
# writes never started): dedicated, no transaction open. A whole journal
# is never cut: a transaction that rewrites most of it is written as a new
# checkpoint (tmp + rename), which a kill leaves whole or not at all.
run 0 --root "$tree" apply dedicated
printf '3\n' >"$tree/proc/irq/133/smp_affinity_list"
printf '0008\n' >"$tree/proc/irq/133/smp_affinity"
size0=$(stat -c %s "$tree/run/isolated/journal")
killed journal apply dedicated --force
size1=$(stat -c %s "$tree/run/isolated/journal")
if [ "$size1" -le "$size0" ] || [ "$(tail -c +$((size0 + 1)) "$tree/run/isolated/journal" | head -c 2)" != "r " ]; then
	fail "the re-apply's transaction was not appended as a record ($size0 -> $size1 bytes)"
fi
cp "$tree/run/isolated/journal" "$T/journal.whole"
for cut in 1 $(((size1 - size0) / 2)) $((size1 - size0 - 1)); do
	truncate -s $((size1 - cut)) "$tree/run/isolated/journal"
	run 0 --root "$tree" status
	expect_grep "$T/out" '^mode +dedicated'
	expect_no_grep "$T/out" 'INTERRUPTED'
	cp "$T/journal.whole" "$tree/run/isolated/journal"
done
truncate -s $((size1 - 3)) "$tree/run/isolated/journal"
run 0 --root "$tree" revert --force
check_same "a record cut short, then revert --force (the drifted IRQ too)"

# Kill the undo of an interrupted transaction itself, and right after the
# undo is journaled.
for undo in undo:1 undo:5 undo:40 recovered; do
	killed 60 apply dedicated || continue
	killed "$undo" revert || continue
	journal_reads "undo killed at $undo"
	run 0 --root "$tree" revert
	check_same "apply killed at 60, its undo killed at $undo, then revert"
done

finish
