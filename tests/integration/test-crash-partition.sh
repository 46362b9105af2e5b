#!/bin/bash
# The crash matrix of a [partition] (test-crash.sh has kvm16's, which has
# no cgroup tree): `isoctl apply dedicated` on the kvm16 host with a cgroup
# v2 tree and with a v1 one, killed (SIGKILL, ISOLATED_CRASH_AFTER) after
# each of its cgroup writes -- a cgroup made, a file of it, a thread moved
# -- and after the write before the first of them, then `isoctl revert`:
# the tree must equal the original byte for byte, the cgroups we made
# gone. The same for a revert killed after each of its cgroup writes.
. "$(dirname "$0")/lib.sh"

W=$(mktemp -d -p /dev/shm 2>/dev/null || mktemp -d -p "$T")
trap 'rm -rf "$T" "$W"' EXIT
tree=$W/host

killed() { # CRASH_POINT ARGS...: isoctl must die of SIGKILL
	local point=$1 st
	shift
	(ISOLATED_CRASH_AFTER=$point exec "$ISOCTL" --root "$tree" "$@" >"$T/out" 2>"$T/err") 2>/dev/null
	st=$?
	if [ "$st" != 137 ]; then
		fail "crash at $point of '$*': exit status $st, expected 137 (SIGKILL); $(head -c 300 "$T/err")"
		return 1
	fi
}

# The 1-based positions of the cgroup writes among the planned ones.
cgroup_points() {
	jq -r '[.steps[] | select(.outcome == "planned") | .kind] | to_entries |
		map(select(.value == "cgroup" or .value == "thread-cgroup")) | map(.key + 1) | join(" ")' "$T/out"
}

for v in v2 v1; do
	orig=$W/$v
	python3 "$TOP/tests/fixtures/gen-kvm16.py" --variant "$v" "$orig" >/dev/null || {
		fail "gen-kvm16.py --variant $v"
		continue
	}
	reset_tree() {
		rm -rf "$tree"
		cp -a "$orig" "$tree"
	}
	check_same() { # WHAT
		if ! diff -r "$orig" "$tree" >"$T/diff" 2>&1; then
			fail "$v: $1: tree differs: $(head -c 600 "$T/diff")"
			reset_tree
		fi
	}

	reset_tree
	run 0 --root "$tree" --json apply dedicated --dry-run || continue
	points=$(cgroup_points)
	first=${points%% *}
	[ -n "$points" ] && [ "$first" -gt 1 ] || {
		fail "$v: apply dedicated plans no cgroup write ($points)"
		continue
	}
	echo "$v: cgroup writes of apply at $points"
	for point in $((first - 1)) $points; do
		killed "$point" apply dedicated || { reset_tree && continue; }
		run 0 --root "$tree" revert || { reset_tree && continue; }
		grep -q 'an interrupted transaction (apply dedicated' "$T/out" ||
			fail "$v: crash at $point: revert did not report the interrupted transaction"
		check_same "apply killed after $point, then revert"
	done

	run 0 --root "$tree" apply dedicated
	run 0 --root "$tree" --json revert --dry-run
	points=$(cgroup_points)
	echo "$v: cgroup writes of revert at $points"
	for point in $points; do
		killed "$point" revert || { reset_tree && continue; }
		run 0 --root "$tree" revert || { reset_tree && continue; }
		check_same "revert killed after $point, then revert"
		run 0 --root "$tree" apply dedicated || reset_tree
	done
	run 0 --root "$tree" revert
	check_same "final revert"
done

finish
