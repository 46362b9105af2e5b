#!/bin/bash
# A --root tree may be hostile (DESIGN.md, invariant 8). Symbolic links and
# mount points that lead out of the tree, FIFOs in place of files, a tree
# whose proc is the real /proc, a snapshot into a directory someone else
# owns: each is refused with a message naming the path, and nothing outside
# the tree is read or written. A kill inside a tree write loses nothing.
. "$(dirname "$0")/lib.sh"

W=$(mktemp -d -p /dev/shm 2>/dev/null || mktemp -d -p "$T")
trap 'rm -rf "$T" "$W"' EXIT
chmod 0755 "$W"
POL=(--policies "$TOP/policies")
OUT=$W/out
tree=$W/t

fresh() { # a new copy of kvm16 in $tree, an empty $OUT
	rm -rf "$tree" "$OUT"
	cp -a "$FIX/kvm16" "$tree"
	mkdir -p "$OUT"
}

# run_t STATUS ARGS...: isoctl on the tree, killed if it blocks.
run_t() {
	local want=$1 got
	shift
	timeout 60 "$ISOCTL" --root "$tree" "${POL[@]}" "$@" >"$T/out" 2>"$T/err"
	got=$?
	[ "$got" != 124 ] || { fail "isoctl $* blocked (killed after 60 s)"; return 1; }
	[ "$got" == "$want" ] || { fail "isoctl $* exited $got, expected $want: $(head -c 400 "$T/err")"; return 1; }
}

# ---- 1. Symbolic links out of the tree ----

# A directory of the tree replaced by a link to one outside it.
fresh
mv "$tree/proc/sys/kernel" "$OUT/v"
ln -s "$OUT/v" "$tree/proc/sys/kernel"
before=$(tree_sum "$OUT")
for c in "apply dedicated" "plan dedicated" "status" "revert"; do
	# shellcheck disable=SC2086
	run_t 1 $c
	expect_grep "$T/err" "proc/sys/kernel/[a-z_/]+: leads out of the tree"
done
expect_eq "files behind proc/sys/kernel -> $OUT/v" "$(tree_sum "$OUT")" "$before"
# The same through "..": a relative link that climbs out.
rm "$tree/proc/sys/kernel"
ln -s ../../../out/v "$tree/proc/sys/kernel"
run_t 1 apply dedicated
expect_grep "$T/err" "leads out of the tree"
expect_eq "files behind proc/sys/kernel -> ../../../out/v" "$(tree_sum "$OUT")" "$before"
# A link that stays inside is followed: writes land in the tree.
rm "$tree/proc/sys/kernel"
mv "$OUT/v" "$tree/kernel-elsewhere"
ln -s ../../kernel-elsewhere "$tree/proc/sys/kernel"
run_t 0 apply dedicated
expect_eq "timer_migration through a link inside the tree" "$(cat "$tree/kernel-elsewhere/timer_migration")" 0
run_t 0 revert
expect_eq "timer_migration reverted through it" "$(cat "$tree/kernel-elsewhere/timer_migration")" 1

# The journal's directory a link out: nothing there is created or removed.
fresh
mkdir "$OUT/w"
echo 12345 >"$OUT/w/lock"
echo old >"$OUT/w/journal.tmp"
ln -s "$OUT/w" "$tree/run/isolated"
before=$(tree_sum "$OUT")
run_t 1 apply dedicated
expect_grep "$T/err" "run/isolated: a symbolic link where none may be"
run_t 1 revert
expect_eq "files behind run/isolated -> $OUT/w" "$(tree_sum "$OUT")" "$before"
expect_eq "timer_migration after the refused apply" "$(cat "$tree/proc/sys/kernel/timer_migration")" 1
# ... and its parent.
rm "$tree/run/isolated"
rm -rf "$tree/run"
ln -s "$OUT/w" "$tree/run"
run_t 1 apply dedicated
expect_grep "$T/err" "leads out of the tree"
expect_eq "files behind run -> $OUT/w" "$(tree_sum "$OUT")" "$before"

# etc/default a link out: grub --write and --restore leave it alone.
fresh
mv "$tree/etc/default" "$OUT/x"
ln -s "$OUT/x" "$tree/etc/default"
before=$(tree_sum "$OUT")
run_t 1 grub dedicated --write
expect_grep "$T/err" "etc/default/grub: leads out of the tree"
run_t 1 grub --restore
expect_eq "files behind etc/default -> $OUT/x" "$(tree_sum "$OUT")" "$before"

# A tree whose proc is the real /proc: a rehearsal must not become real.
fresh
real_tm=$(cat /proc/sys/kernel/timer_migration)
rm -rf "$tree/proc"
ln -s /proc "$tree/proc"
run_t 1 apply dedicated
expect_grep "$T/err" "proc/[a-z_/]+: leads out of the tree"
run_t 1 plan dedicated
expect_eq "the real kernel.timer_migration" "$(cat /proc/sys/kernel/timer_migration)" "$real_tm"
# ... or a mount point in the tree (here a tmpfs over proc/sys/kernel, in a
# mount namespace of our own).
fresh
unshare --mount --propagation private bash -c '
	cp -a "$1/proc/sys/kernel" "$2/k" && mount -t tmpfs none "$1/proc/sys/kernel" &&
	cp -a "$2/k/." "$1/proc/sys/kernel/" &&
	exec timeout 60 "$3" --root "$1" --policies "$4/policies" apply dedicated' _ "$tree" "$OUT" "$ISOCTL" "$TOP" \
	>"$T/out" 2>"$T/err"
expect_eq "apply across a mount point in the tree: exit status" "$?" 1
expect_grep "$T/err" "leads out of the tree \(a symbolic link or mount point on the way\)"

# The tree's own host.conf: a link out of the tree is refused too.
fresh
cp "$tree/etc/isolated/host.conf" "$OUT/host.conf"
ln -sf "$OUT/host.conf" "$tree/etc/isolated/host.conf"
run_t 2 plan dedicated
expect_grep "$T/err" "etc/isolated/host.conf: leads out of the tree"

# ---- 2. snapshot DIR: only a directory we made or the caller owns ----
fresh
mkdir -m 0755 "$W/nobodys"
chown 65534:65534 "$W/nobodys"
run_t 1 snapshot "$W/nobodys"
expect_grep "$T/err" "nobodys is owned by uid 65534, not by you \(uid 0\)"
expect_eq "files in a directory uid 65534 made" "$(find "$W/nobodys" -mindepth 1 | wc -l)" 0
mkdir -m 0777 "$W/open"
chmod 0777 "$W/open"
run_t 1 snapshot "$W/open"
expect_grep "$T/err" "open is writable by others \(mode 0777\)"
expect_eq "files in a directory anyone may write" "$(find "$W/open" -mindepth 1 | wc -l)" 0
mkdir "$W/real"
ln -s "$W/real" "$W/alias"
run_t 1 snapshot "$W/alias"
expect_grep "$T/err" "alias is a symbolic link"
expect_eq "files behind a link" "$(find "$W/real" -mindepth 1 | wc -l)" 0
mkdir "$W/full"
touch "$W/full/x"
run_t 1 snapshot "$W/full"
expect_grep "$T/err" "full: directory is not empty"
# New (with its parents), or empty and ours: taken, and replays as the tree.
run_t 0 snapshot "$W/new/deeper/snap"
[ "$(stat -c %U:%a "$W/new/deeper/snap")" == "root:755" ] || fail "snapshot dir: $(stat -c %U:%a "$W/new/deeper/snap")"
"$ISOCTL" --root "$tree" "${POL[@]}" --json plan dedicated | jq -S 'del(.root)' >"$T/p1"
"$ISOCTL" --root "$W/new/deeper/snap" "${POL[@]}" --json plan dedicated | jq -S 'del(.root)' >"$T/p2"
cmp -s "$T/p1" "$T/p2" || fail "a plan of the snapshot differs from the tree's: $(diff "$T/p1" "$T/p2" | head -5)"
mkdir "$W/empty"
run_t 0 snapshot "$W/empty"

# ---- 4. Reads: regular files only, inside the tree, never blocking ----
fresh
rm "$tree/proc/cmdline"
mkfifo "$tree/proc/cmdline"
for c in "status" "plan dedicated" "apply dedicated"; do
	# shellcheck disable=SC2086
	run_t 1 $c
	expect_grep "$T/err" "proc/cmdline: not a regular file"
done
[ ! -e "$tree/run/isolated" ] || fail "a refused apply left $tree/run/isolated"
fresh
rm "$tree/proc/2201/task/2205/comm"
mkfifo "$tree/proc/2201/task/2205/comm"
run_t 1 plan dedicated
expect_grep "$T/err" "proc/2201/task/2205/comm: not a regular file"
# A secret behind a link does not end up in a snapshot, or in grub.
fresh
secret() { echo "SECRET-$$" >"$OUT/secret" && chmod 0600 "$OUT/secret"; }
secret
rm "$tree/proc/sys/kernel/osrelease"
ln -s "$OUT/secret" "$tree/proc/sys/kernel/osrelease"
run_t 1 snapshot "$W/leak"
expect_grep "$T/err" "proc/sys/kernel/osrelease: leads out of the tree"
! grep -rqs "SECRET-$$" "$W/leak" || fail "the secret reached the snapshot"
fresh
secret
mkdir -p "$tree/var/lib/isolated"
ln -s "$OUT/secret" "$tree/var/lib/isolated/grub.orig"
run_t 1 grub --restore
expect_grep "$T/err" "grub.orig: leads out of the tree"
cp "$OUT/secret" "$tree/etc/secret-in-tree"
ln -sf ../../../etc/secret-in-tree "$tree/var/lib/isolated/grub.orig"
run_t 1 grub --restore
expect_grep "$T/err" "grub.orig is not a regular file"
! grep -qs "SECRET-$$" "$tree/etc/default/grub" || fail "grub --restore copied a secret into etc/default/grub"

# ---- 3. A kill inside a tree write ----
# strace kills isoctl at its Nth write(2): the journal's, then the tree's.
# Tree writes are atomic (a new file renamed over the old), so the revert
# finds each value as it was or as written, never empty.
if command -v strace >/dev/null; then
	for n in 2 3 4 7 80 150; do
		fresh
		cp -a "$tree" "$W/orig"
		# In a shell of its own, which reports the kill to /dev/null; no
		# leak check under ptrace (the SAN build).
		ASAN_OPTIONS=detect_leaks=0 bash -c '"$@"; exit $?' _ strace -o /dev/null -e trace=write \
			-e inject=write:signal=KILL:when=$n "$ISOCTL" --root "$tree" "${POL[@]}" apply dedicated \
			>/dev/null 2>&1
		run_t 0 revert
		expect_no_grep "$T/out" "neither the"
		diff -r "$W/orig" "$tree" >"$T/diff" 2>&1 || fail "killed at write $n, then revert: $(head -c 400 "$T/diff")"
		rm -rf "$W/orig"
	done
else
	fail "strace is needed (apt-get install strace)"
fi

# A value that is neither the one it had nor the one being written when a
# transaction was interrupted (another tool changed it) is left alone, and
# its pristine value is never dropped: the revert says so, exits 1, keeps
# the journal; --force restores it.
fresh
cp -a "$tree" "$W/orig"
ISOLATED_CRASH_AFTER=journal bash -c '"$@"; exit $?' _ "$ISOCTL" --root "$tree" "${POL[@]}" apply dedicated \
	>/dev/null 2>&1
echo 5 >"$tree/proc/sys/kernel/timer_migration"
run_t 1 revert
expect_grep "$T/out" "kernel.timer_migration .* is 5, neither the 1 it had nor the 0 being written; left alone, its pristine value 1 stays in the journal"
expect_grep "$T/out" "^revert incomplete: .* 1 conflict"
[ -e "$tree/run/isolated/journal" ] || fail "the revert dropped the journal holding a pristine value"
run_t 0 status
expect_grep "$T/out" "kernel.timer_migration +1 +0 +5"
run_t 0 revert --force
expect_eq "timer_migration after revert --force" "$(cat "$tree/proc/sys/kernel/timer_migration")" 1
diff -r "$W/orig" "$tree" >"$T/diff" 2>&1 || fail "after revert --force: $(head -c 400 "$T/diff")"

finish
