#!/bin/bash
# isoctl boot show/apply/revert on copies of the fixture trees in the layouts
# of the boot loaders it knows: Debian's GRUB (update-grub), Fedora's
# grub2-mkconfig with BLS, systemd-boot with and without etc/kernel/cmdline.
# Each apply writes what the mode wants and keeps the originals in
# var/lib/isolated/boot; each revert leaves the tree as it was, names and
# modes included, files that were not there removed. A mode switch starts
# from the originals; a file changed by hand is refused; a journal someone
# else wrote cannot name another file; nothing is written on a failed check.
. "$(dirname "$0")/lib.sh"

# The kvm16 fixture in a layout: debian, grub2, bls (no etc/kernel/cmdline),
# bls-cmdline (with one).
layout() { # NAME DIR
	local d=$2
	rm -rf "$d"
	cp -a "$FIX/kvm16" "$d"
	case $1 in
	grub2)
		mkdir -p "$d/boot/grub2" "$d/usr/sbin"
		: >"$d/usr/sbin/grub2-mkconfig"
		cat >"$d/etc/default/grub" <<'EOF'
GRUB_TIMEOUT=5
GRUB_DISTRIBUTOR="$(sed 's, release .*$,,g' /etc/system-release)"
GRUB_DEFAULT=saved
GRUB_DISABLE_SUBMENU=true
GRUB_TERMINAL_OUTPUT="console"
GRUB_CMDLINE_LINUX="rhgb quiet"
GRUB_DISABLE_RECOVERY="true"
GRUB_ENABLE_BLSCFG=true
EOF
		;;
	bls | bls-cmdline)
		rm "$d/etc/default/grub"
		mkdir -p "$d/boot/loader/entries"
		printf 'title Debian\nlinux /vmlinuz-6.1.0-27-amd64\noptions root=UUID=3f1c2a6e ro quiet\n' \
			>"$d/boot/loader/entries/debian-6.1.0-27-amd64.conf"
		if [ "$1" = bls-cmdline ]; then
			mkdir -p "$d/etc/kernel"
			printf 'root=UUID=3f1c2a6e ro quiet isolcpus=2\n' >"$d/etc/kernel/cmdline"
			chmod 0600 "$d/etc/kernel/cmdline"
		fi
		;;
	esac
}

# apply MODE then revert on a layout: what changed, then the tree as it was.
for l in debian grub2 bls bls-cmdline; do
	O=$T/$l.orig
	K=$T/$l
	layout "$l" "$O"
	cp -a "$O" "$K"
	run 0 --root "$K" boot show dedicated || continue
	expect_same_tree "$l: boot show writes nothing" "$O" "$K"
	run 0 --root "$K" boot apply dedicated --dry-run
	expect_same_tree "$l: boot apply --dry-run writes nothing" "$O" "$K"
	run 0 --root "$K" boot apply dedicated || continue
	cp "$T/out" "$T/$l.apply"
	[ -f "$K/var/lib/isolated/boot/journal" ] || fail "$l: no journal after boot apply"
	expect_eq "$l: no temporary file left" "$(find "$K" -name '*.isoctl-tmp' | wc -l)" 0
	case $l in
	debian)
		expect_grep "$T/out" '^\+GRUB_CMDLINE_LINUX_DEFAULT="quiet isolcpus=6-7 nohz_full=6-7 rcu_nocbs=6-7 irqaffinity=0-5,8-15"$'
		expect_grep "$T/out" '^then run: update-grub, and reboot$'
		cmp -s "$K/var/lib/isolated/boot/grub.orig" "$O/etc/default/grub" || fail "debian: grub.orig is not the original"
		expect_eq "debian: the saved original is ours only" "$(stat -c %a "$K/var/lib/isolated/boot/grub.orig")" 600
		;;
	grub2)
		expect_grep "$T/out" '^\+GRUB_CMDLINE_LINUX_DEFAULT="isolcpus=6-7 nohz_full=6-7 rcu_nocbs=6-7 irqaffinity=0-5,8-15"$'
		expect_grep "$T/out" '^then run: grub2-mkconfig -o /boot/grub2/grub.cfg --update-bls-cmdline, and reboot$'
		expect_eq "grub2: GRUB_CMDLINE_LINUX untouched" "$(grep '^GRUB_CMDLINE_LINUX=' "$K/etc/default/grub")" \
			'GRUB_CMDLINE_LINUX="rhgb quiet"'
		;;
	bls)
		# kernel-install's default, /proc/cmdline without what the loader added.
		expect_eq "bls: etc/kernel/cmdline made" "$(cat "$K/etc/kernel/cmdline")" \
			"root=UUID=3f1c2a6e-8d4b-4c1e-9a57-2b0f6e9d1c44 ro quiet isolcpus=6-7 nohz_full=6-7 rcu_nocbs=6-7 irqaffinity=0-5,8-15"
		expect_grep "$T/out" '^then run: kernel-install add 6.1.0-27-amd64 /boot/vmlinuz-6.1.0-27-amd64, and reboot$'
		expect_grep "$K/var/lib/isolated/boot/journal" '^dir etc/kernel$'
		;;
	bls-cmdline)
		expect_eq "bls-cmdline: edited in place" "$(cat "$K/etc/kernel/cmdline")" \
			"root=UUID=3f1c2a6e ro quiet isolcpus=6-7 nohz_full=6-7 rcu_nocbs=6-7 irqaffinity=0-5,8-15"
		expect_eq "bls-cmdline: mode kept" "$(stat -c %a "$K/etc/kernel/cmdline")" 600
		;;
	esac
	# systemd's drop-in and the module options, made with their directories.
	expect_eq "$l: CPUAffinity drop-in" "$(grep -v '^#' "$K/etc/systemd/system.conf.d/isolated.conf")" "[Manager]
CPUAffinity=0-5,8-15"
	expect_eq "$l: modprobe.d" "$(grep -v '^#' "$K/etc/modprobe.d/isolated.conf")" "options kvm kvmclock_periodic_sync=0"
	[ -d "$O/etc/systemd" ] || expect_grep "$K/var/lib/isolated/boot/journal" '^dir etc/systemd$'
	# Again: nothing to change, the journal as it was.
	cp "$K/var/lib/isolated/boot/journal" "$T/journal.1"
	run 0 --root "$K" boot apply dedicated
	expect_grep "$T/out" "^nothing to change"
	cmp -s "$T/journal.1" "$K/var/lib/isolated/boot/journal" || fail "$l: a second apply rewrote the journal"
	run 0 --root "$K" boot revert || continue
	expect_grep "$T/out" "^the next boot's files are the originals again"
	expect_same_tree "$l: boot revert" "$O" "$K"
	run 0 --root "$K" boot revert
	expect_grep "$T/out" "^nothing to revert"
done

# JSON: the loader, the command, each file.
K=$T/json
layout debian "$K"
run 0 --root "$K" --json boot show dedicated
expect_eq "json loader" "$(jq -r .loader "$T/out")" grub
expect_eq "json then" "$(jq -r .then "$T/out")" update-grub
expect_eq "json files" "$(jq -r '.files[] | "\(.artifact) \(.change)"' "$T/out")" "grub modify
systemd create
modprobe create"

# A mode scoped to a cgroup: [systemd] and [modprobe] are host-wide, not
# written; its kernel parameters are.
mkdir -p "$T/scoped"
sed 's|^\[mode\]$|[mode]\nscope = cgroup:/machine.slice|' "$TOP/policies/dedicated.conf" >"$T/scoped/dedicated.conf"
grep -q '^scope = cgroup:/machine.slice$' "$T/scoped/dedicated.conf" || fail "scoped policy not made"
run 0 --root "$K" -p "$T/scoped" --json boot show dedicated
expect_grep "$T/err" "^isoctl: warning: mode dedicated is scoped to a cgroup: \[systemd\] and \[modprobe\] are host-wide and are not written$"
expect_eq "scoped: only grub" "$(jq -r '.files[] | .artifact' "$T/out")" grub

# A mode switch starts from the originals: rt-only writes no boot
# parameters, so dedicated's go and the transaction ends.
O=$T/switch.orig
K=$T/switch
layout debian "$O"
cp -a "$O" "$K"
run 0 --root "$K" boot apply dedicated
run 0 --root "$K" boot apply rt-only
expect_grep "$T/out" '^-GRUB_CMDLINE_LINUX_DEFAULT="quiet isolcpus=6-7'
expect_same_tree "dedicated, then rt-only" "$O" "$K"

# Changed by hand after the apply: apply and revert refuse, --force writes.
cp -a "$O" "$K.2" && K=$K.2
run 0 --root "$K" boot apply dedicated
echo '# by hand' >>"$K/etc/default/grub"
cp -a "$K" "$T/handmade"
run 1 --root "$K" boot revert
expect_grep "$T/err" "^isoctl: $K/etc/default/grub changed since isoctl boot apply dedicated wrote it: nothing written \(edit it by hand, or --force to write over it\)$"
expect_same_tree "a refused revert writes nothing" "$T/handmade" "$K"
run 1 --root "$K" boot apply outsourcing
expect_grep "$T/err" "changed since isoctl boot apply dedicated wrote it"
run 0 --root "$K" boot show dedicated
expect_grep "$T/out" "^note: $K/etc/default/grub changed since"
run 0 --root "$K" boot revert --force
expect_same_tree "boot revert --force" "$O" "$K"

# The saved original damaged: revert refuses, names it.
cp -a "$O" "$K.3" && K=$K.3
run 0 --root "$K" boot apply dedicated
echo x >>"$K/var/lib/isolated/boot/grub.orig"
run 1 --root "$K" boot revert
expect_grep "$T/err" "grub.orig is not the original the journal recorded \([0-9]+ bytes, crc32 [0-9]+\): restore etc/default/grub by hand"
# A link instead of it: not followed.
rm "$K/var/lib/isolated/boot/grub.orig"
ln -s ../../../../etc/passwd "$K/var/lib/isolated/boot/grub.orig"
run 1 --root "$K" boot revert
expect_grep "$T/err" "grub.orig is not a regular file \(isolated writes it as one\): restore by hand"

# A journal someone else wrote names only our artifacts and their parents.
for bad in 'file passwd absent 0 0 0 0 0 new absent 0 0 was absent 0 0' 'dir etc' 'dir var/lib' \
	'dir etc/kernel/../..' 'file grub present 1 2 0644 0 0 new present 1 2 was' 'mode'; do
	cp -a "$O" "$K.4"
	mkdir -p "$K.4/var/lib/isolated/boot"
	printf 'isolated-boot 1\nmode dedicated\n%s\n' "$bad" >"$K.4/var/lib/isolated/boot/journal"
	cp -a "$K.4" "$T/hostile"
	run 1 --root "$K.4" boot revert
	expect_grep "$T/err" "journal: line 3: not a record isolated writes"
	expect_same_tree "hostile journal [$bad]" "$T/hostile" "$K.4"
	rm -rf "$K.4" "$T/hostile"
done

# isoctl grub --write's backup becomes the transaction's original; grub's
# verbs refuse while boot holds the files.
K=$T/legacy
cp -a "$O" "$K"
run 0 --root "$K" grub dedicated --write
[ -f "$K/var/lib/isolated/grub.orig" ] || fail "grub --write saved no grub.orig"
run 0 --root "$K" boot apply dedicated
[ ! -e "$K/var/lib/isolated/grub.orig" ] || fail "boot apply left grub.orig"
run 1 --root "$K" grub dedicated --write
expect_grep "$T/err" "^isoctl: isoctl boot apply holds the boot files \($K/var/lib/isolated/boot/journal\): use isoctl boot apply MODE and isoctl boot revert$"
run 1 --root "$K" grub --restore
run 0 --root "$K" boot revert
expect_same_tree "grub --write, boot apply, boot revert" "$O" "$K"
# boot revert puts grub --write's original back too.
run 0 --root "$K" grub dedicated --write
run 0 --root "$K" boot revert
expect_same_tree "grub --write, boot revert" "$O" "$K"

# Nothing written on a failed check: a grub file that cannot be edited
# safely, and no boot loader at all.
K=$T/unsafe
cp -a "$O" "$K"
echo 'GRUB_CMDLINE_LINUX_DEFAULT="$GRUB_CMDLINE_LINUX_DEFAULT splash"' >>"$K/etc/default/grub"
cp -a "$K" "$T/unsafe.orig"
run 1 --root "$K" boot apply dedicated
expect_grep "$T/err" "^isoctl: etc/default/grub: GRUB_CMDLINE_LINUX_DEFAULT is assigned 2 times \(lines 9 and 40\)$"
expect_same_tree "an unsafe grub file" "$T/unsafe.orig" "$K"
K=$T/noloader
cp -a "$O" "$K"
rm "$K/etc/default/grub"
run 1 --root "$K" boot apply dedicated
expect_grep "$T/err" "^isoctl: no boot loader configuration on $K \(no etc/default/grub, no etc/kernel/cmdline, no loader/entries\): mode dedicated has kernel parameters and nowhere to put them; nothing written$"
[ ! -e "$K/var/lib/isolated/boot" ] || fail "no loader: var/lib/isolated/boot made"

# Pending reboot: written, not generated yet (update-grub), generated but
# not running, running but not taken by the kernel, then all in force.
K=$T/pending
cp -a "$O" "$K"
mkdir -p "$K/boot/grub"
printf 'menuentry "Debian" {\n\tlinux\t/boot/vmlinuz-6.1.0-27-amd64 root=UUID=3f1c ro quiet\n}\n' >"$K/boot/grub/grub.cfg"
run 1 --root "$K" check dedicated
expect_grep "$T/out" "^info +next boot +CPUAffinity=0-5,8-15 is not in etc/systemd/system.conf.d/isolated.conf \(isoctl boot apply dedicated writes it\)$"
expect_grep "$T/out" "^info +next boot +options kvm kvmclock_periodic_sync=0 is not in etc/modprobe.d/isolated.conf \(isoctl boot apply dedicated writes it\)$"
run 0 --root "$K" boot apply dedicated
run 1 --root "$K" check dedicated
expect_grep "$T/out" "^info +next boot +isolcpus=6-7 is in etc/default/grub but not in boot/grub/grub.cfg yet: run update-grub$"
run 0 --root "$K" status
expect_grep "$T/out" "^boot: mode dedicated written for the next boot by isoctl boot apply \($K/var/lib/isolated/boot/journal\)$"
expect_grep "$T/out" "^  next boot: nohz_full=6-7 is in etc/default/grub but not in boot/grub/grub.cfg yet: run update-grub$"
# systemd runs on all CPUs: its drop-in needs a reboot already.
expect_grep "$T/out" "^  reboot needed$"
# update-grub
sed -i 's|ro quiet$|ro quiet isolcpus=6-7 nohz_full=6-7 rcu_nocbs=6-7 irqaffinity=0-5,8-15|' "$K/boot/grub/grub.cfg"
run 1 --root "$K" check dedicated
expect_grep "$T/out" "^info +next boot +isolcpus=6-7 is set for the next boot; the running kernel has no isolcpus$"
expect_grep "$T/out" "^warn +reboot +reboot needed: "
run 0 --root "$K" --json status
expect_eq "status: reboot needed" "$(jq .boot.reboot_needed "$T/out")" true
expect_eq "status: the files held" "$(jq -r '.boot.files[]' "$T/out")" "$K/etc/default/grub
$K/etc/systemd/system.conf.d/isolated.conf
$K/etc/modprobe.d/isolated.conf"
# the reboot, with a kernel that did not take isolcpus
echo "BOOT_IMAGE=/boot/vmlinuz-6.1.0-27-amd64 root=UUID=3f1c ro quiet isolcpus=6-7 nohz_full=6-7 rcu_nocbs=6-7 irqaffinity=0-5,8-15" >"$K/proc/cmdline"
echo >"$K/sys/devices/system/cpu/isolated"
echo 6-7 >"$K/sys/devices/system/cpu/nohz_full"
run 0 --root "$K" status
expect_grep "$T/out" '^  next boot: /sys/devices/system/cpu/isolated reads "" though the kernel was booted with isolcpus=6-7$'
echo 6-7 >"$K/sys/devices/system/cpu/isolated"
run 0 --root "$K" status
expect_grep "$T/out" "^  next boot: systemd \(PID 1\) runs on CPUs 0-15, CPUAffinity= wants 0-5,8-15: in effect after a reboot \(or systemctl daemon-reexec\)$"
sed -i 's/^Cpus_allowed_list:.*/Cpus_allowed_list:\t0-5,8-15/' "$K/proc/1/task/1/status"
echo Y >"$K/sys/module/kvm/parameters/kvmclock_periodic_sync"
run 0 --root "$K" status
expect_grep "$T/out" "^  next boot: kvm.kvmclock_periodic_sync is Y, etc/modprobe.d/isolated.conf wants 0: in effect when kvm is loaded again \(or after a reboot\)$"
echo N >"$K/sys/module/kvm/parameters/kvmclock_periodic_sync"
run 0 --root "$K" status
expect_grep "$T/out" "^  the running kernel has it all: no reboot needed$"
run 0 --root "$K" --json status
expect_eq "status: no reboot needed" "$(jq -c '[.boot.reboot_needed, .boot.pending]' "$T/out")" '[false,[]]'
# No boot transaction: no boot part.
run 0 --root "$O" --json status
expect_eq "status without a boot journal" "$(jq -c .boot "$T/out")" null

# A write that fails after the journal (ISOLATED_BOOT_FAIL_AT: EIO at
# that step) is undone: a first apply leaves the tree as it was, a switch
# leaves the previous mode's files and journal.
K=$T/fail
cp -a "$O" "$K"
for n in 3 4 5 6 7 8; do
	(ISOLATED_BOOT_FAIL_AT=$n exec "$ISOCTL" --root "$K" boot apply dedicated >"$T/out" 2>"$T/err")
	expect_eq "fault at step $n: exit status" "$?" 1
	expect_grep "$T/err" "^isoctl: (writing|creating) $K/etc/[^ ]+: Input/output error; nothing changed \(what was written is undone\)$"
	expect_same_tree "fault at step $n of a first apply" "$O" "$K"
done
run 0 --root "$K" boot apply dedicated
cp -a "$K" "$T/fail.dedicated"
sed -i 's/^rt_cpus = 6-7$/rt_cpus = 5-7/' "$K/etc/isolated/host.conf" "$T/fail.dedicated/etc/isolated/host.conf"
for n in 2 3; do
	(ISOLATED_BOOT_FAIL_AT=$n exec "$ISOCTL" --root "$K" boot apply dedicated >"$T/out" 2>"$T/err")
	expect_eq "fault at step $n of a switch: exit status" "$?" 1
	expect_grep "$T/err" "Input/output error; nothing changed \(what was written is undone\)$"
	expect_same_tree "fault at step $n of a switch" "$T/fail.dedicated" "$K"
done
run 0 --root "$K" boot revert
sed -i 's/^rt_cpus = 5-7$/rt_cpus = 6-7/' "$K/etc/isolated/host.conf"
expect_same_tree "after the faults, revert" "$O" "$K"
# A switch that takes in a file the previous mode did not hold (an
# administrator's modprobe.d/isolated.conf): its original, saved by the
# failed switch, goes with the undo; the previous journal does not name it.
mkdir -p "$K/etc/modprobe.d"
echo 'options kvm ignore_msrs=1' >"$K/etc/modprobe.d/isolated.conf"
run 0 --root "$K" -p "$T/scoped" boot apply dedicated
cp -a "$K" "$T/fail.scoped"
(ISOLATED_BOOT_FAIL_AT=3 exec "$ISOCTL" --root "$K" boot apply dedicated >"$T/out" 2>"$T/err")
expect_eq "fault in a switch that takes in a file: exit status" "$?" 1
expect_grep "$T/err" "Input/output error; nothing changed \(what was written is undone\)$"
expect_same_tree "fault in a switch that takes in a file" "$T/fail.scoped" "$K"

# Usage.
run 2 --root "$O" boot
expect_grep "$T/err" "^isoctl: usage: isoctl boot show MODE"
run 2 --root "$O" boot apply
run 2 --root "$O" boot show dedicated --write
finish
