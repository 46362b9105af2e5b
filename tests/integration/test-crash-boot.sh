#!/bin/bash
# The boot transaction's crash matrix: isoctl boot apply killed (SIGKILL,
# ISOLATED_BOOT_CRASH_AFTER) after each of its durable steps (an original
# saved, the journal, a directory made, a file written), then isoctl boot
# revert: the tree is the original, names and modes included. The same for a
# mode switch killed midway, and for a revert killed after each of its steps
# (a file put back, a directory, the journal, a saved original removed).
. "$(dirname "$0")/lib.sh"

layout() { # NAME DIR: as test-boot.sh's debian and bls layouts
	rm -rf "$2"
	cp -a "$FIX/kvm16" "$2"
	if [ "$1" = bls ]; then
		rm "$2/etc/default/grub"
		mkdir -p "$2/boot/loader/entries"
	fi
}

# isoctl killed at step N: 137; past its last step it finishes (0).
at() { # N ARGS...
	local n=$1
	shift
	(ISOLATED_BOOT_CRASH_AFTER=$n exec "$ISOCTL" --root "$K" "$@" >"$T/out" 2>"$T/err") 2>/dev/null
}

# Back to the original: boot writes below etc/, var/ and boot/ only (the
# rest of the 3000-file tree is copied once).
reset() {
	rm -rf "$K/etc" "$K/var" "$K/boot"
	cp -a "$O/etc" "$O/var" "$K/"
	[ ! -d "$O/boot" ] || cp -a "$O/boot" "$K/"
}

total=0
for l in debian bls; do
	O=$T/$l.orig
	K=$T/$l
	layout "$l" "$O"
	rm -rf "$K" && cp -a "$O" "$K"
	# apply killed at each step, then revert
	n=1
	while :; do
		reset
		at "$n" boot apply dedicated 2>/dev/null
		st=$?
		[ "$st" = 0 ] && break
		[ "$st" = 137 ] || { fail "$l: apply at $n exited $st: $(head -c 300 "$T/err")"; break; }
		run 0 --root "$K" boot revert || break
		expect_same_tree "$l: apply killed after step $n, then revert" "$O" "$K"
		n=$((n + 1))
	done
	echo "$l: apply has $((n - 1)) steps"
	[ "$n" -ge 3 ] || fail "$l: apply killed at only $((n - 1)) steps"
	total=$((total + n - 1))
	# a switch killed at each step (dedicated, then a mode with other
	# parameters), then revert
	n=1
	while :; do
		reset
		run 0 --root "$K" boot apply dedicated || break
		sed -i 's/^rt_cpus = 6-7$/rt_cpus = 5-7/' "$K/etc/isolated/host.conf"
		at "$n" boot apply dedicated 2>/dev/null
		st=$?
		sed -i 's/^rt_cpus = 5-7$/rt_cpus = 6-7/' "$K/etc/isolated/host.conf"
		[ "$st" = 0 ] && break
		[ "$st" = 137 ] || { fail "$l: switch at $n exited $st: $(head -c 300 "$T/err")"; break; }
		run 0 --root "$K" boot revert || break
		expect_same_tree "$l: switch killed after step $n, then revert" "$O" "$K"
		n=$((n + 1))
	done
	grep -q 'isolcpus=5-7' "$K/etc/default/grub" "$K/etc/kernel/cmdline" 2>/dev/null ||
		fail "$l: the switch did not write isolcpus=5-7"
	echo "$l: switch has $((n - 1)) steps"
	total=$((total + n - 1))
	# revert killed at each step, then revert again
	n=1
	while :; do
		reset
		run 0 --root "$K" boot apply dedicated || break
		at "$n" boot revert 2>/dev/null
		st=$?
		[ "$st" = 0 ] && break
		[ "$st" = 137 ] || { fail "$l: revert at $n exited $st: $(head -c 300 "$T/err")"; break; }
		"$ISOCTL" --root "$K" boot revert >"$T/out" 2>"$T/err" || fail "$l: revert after a revert killed at $n: $(cat "$T/err")"
		expect_same_tree "$l: revert killed after step $n, then revert" "$O" "$K"
		n=$((n + 1))
	done
	echo "$l: revert has $((n - 1)) steps"
	[ "$n" -ge 3 ] || fail "$l: revert killed at only $((n - 1)) steps"
	total=$((total + n - 1))
done
echo "boot crash matrix: $total kill points"
finish
