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

# What comes before the kill in each case.
before_apply() { :; }
before_switch() { # dedicated held, then a mode with other parameters
	run 0 --root "$K" boot apply dedicated && sed -i 's/^rt_cpus = 6-7$/rt_cpus = 5-7/' "$K/etc/isolated/host.conf"
}
before_revert() { run 0 --root "$K" boot apply dedicated; }

# kill_each WHAT BEFORE ARGS...: for N = 1, 2, ... until isoctl ARGS
# finishes: reset, BEFORE, isoctl ARGS killed after step N, boot revert
# (which must succeed); the tree is then the original.
kill_each() {
	local what=$1 before=$2 n=1 st
	shift 2
	while :; do
		reset
		"$before" || break
		at "$n" "$@" 2>/dev/null
		st=$?
		sed -i 's/^rt_cpus = 5-7$/rt_cpus = 6-7/' "$K/etc/isolated/host.conf"
		[ "$st" = 0 ] && break
		[ "$st" = 137 ] || { fail "$l: $what at $n exited $st: $(head -c 300 "$T/err")"; break; }
		run 0 --root "$K" boot revert || break
		expect_same_tree "$l: $what killed after step $n, then revert" "$O" "$K"
		n=$((n + 1))
	done
	echo "$l: $what has $((n - 1)) steps"
	[ "$n" -ge 3 ] || fail "$l: $what killed at only $((n - 1)) steps"
	total=$((total + n - 1))
}

total=0
for l in debian bls; do
	O=$T/$l.orig
	K=$T/$l
	layout "$l" "$O"
	rm -rf "$K" && cp -a "$O" "$K"
	kill_each apply before_apply boot apply dedicated
	kill_each switch before_switch boot apply dedicated
	grep -q 'isolcpus=5-7' "$K/etc/default/grub" "$K/etc/kernel/cmdline" 2>/dev/null ||
		fail "$l: the switch did not write isolcpus=5-7"
	kill_each revert before_revert boot revert
done
echo "boot crash matrix: $total kill points"
finish
