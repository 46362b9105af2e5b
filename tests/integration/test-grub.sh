# isoctl grub MODE --write and isoctl grub --restore on copies of the fixture
# trees: only the GRUB_CMDLINE values change, the original is saved once and
# byte for byte, --restore puts it back and removes the backup, and what
# cannot be edited safely is refused with nothing written.
. "$(dirname "$0")/lib.sh"
K=$T/kvm16
G=$K/etc/default/grub
B=$K/var/lib/isolated/grub.orig
before_fix=$(tree_sum "$FIX/kvm16")
cp -a "$FIX/kvm16" "$K"
cp "$G" "$T/grub.orig"
chmod 0640 "$G"

# What sh reads from a grub file: update-grub sources it.
sh_value() { # FILE VARIABLE
	env -i sh -c '. "$1" >/dev/null 2>&1; eval "printf %s \"\$$2\""' sh "$1" "$2"
}

run 0 --root "$K" grub dedicated --write || finish
expect_eq "the new value, as sh reads it" "$(sh_value "$G" GRUB_CMDLINE_LINUX_DEFAULT)" \
	"quiet isolcpus=6-7 nohz_full=6-7 rcu_nocbs=6-7 irqaffinity=0-5,8-15"
expect_eq "only that line changed" "$(diff "$T/grub.orig" "$G" | grep '^[<>]')" \
	'< GRUB_CMDLINE_LINUX_DEFAULT="quiet"
> GRUB_CMDLINE_LINUX_DEFAULT="quiet isolcpus=6-7 nohz_full=6-7 rcu_nocbs=6-7 irqaffinity=0-5,8-15"'
cmp -s "$B" "$T/grub.orig" || fail "the backup is not the original byte for byte"
expect_eq "mode kept" "$(stat -c %a "$G")" 640
expect_eq "backup mode" "$(stat -c %a "$B")" 644
expect_eq "backup dir mode" "$(stat -c %a "$K/var/lib/isolated")" 755
expect_eq "no temporary file left" "$(ls -A "$K/etc/default" "$K/var/lib/isolated" | grep -c isoctl)" 0
expect_grep "$T/out" '^-GRUB_CMDLINE_LINUX_DEFAULT="quiet"$'
expect_grep "$T/out" '^\+GRUB_CMDLINE_LINUX_DEFAULT="quiet isolcpus=6-7 nohz_full=6-7 rcu_nocbs=6-7 irqaffinity=0-5,8-15"$'
expect_grep "$T/out" "^saved the original as $B "
expect_grep "$T/out" '^run update-grub \(Debian/Ubuntu\) or grub2-mkconfig -o /boot/grub2/grub.cfg, then reboot$'
# isoctl check now finds the parameters for the next boot.
run 1 --root "$K" check dedicated
expect_grep "$T/out" '^info +boot isolcpus +isolcpus=6-7 is in etc/default/grub'

# Again: nothing to change, nothing written, the backup untouched.
cp "$G" "$T/grub.new"
run 0 --root "$K" grub dedicated --write --json || finish
expect_eq "second write" "$(jq -r '"\(.changed) \(.backup_made) \(.changes | length) \(.backup)"' "$T/out")" \
	"false false 0 $B"
cmp -s "$G" "$T/grub.new" || fail "a write with nothing to change changed the file"
cmp -s "$B" "$T/grub.orig" || fail "the second write touched the backup"
run 0 --root "$K" grub dedicated --write
expect_grep "$T/out" 'already has the boot parameters of mode dedicated: nothing to change'

# Another mode over it: the file changes, the backup still holds the first original.
mkdir -p "$T/pol"
cp "$TOP/policies/dedicated.conf" "$T/pol/"
cat >"$T/pol/dbg.conf" <<'POL'
[mode]
name = dbg
type = dedicated

[cmdline]
require = isolcpus=4-7 "dyndbg=file sched.c +p" threadirqs
POL
chmod 644 "$T/pol"/*.conf
run 0 --root "$K" --policies "$T/pol" grub dbg --write --json || finish
expect_eq "dbg write" "$(jq -r '"\(.changed) \(.backup_made)"' "$T/out")" "true false"
expect_eq "a value with spaces, as sh and the kernel read it" "$(sh_value "$G" GRUB_CMDLINE_LINUX_DEFAULT)" \
	'quiet isolcpus=4-7 nohz_full=6-7 rcu_nocbs=6-7 irqaffinity=0-5,8-15 dyndbg="file sched.c +p" threadirqs'
expect_eq "json new value" "$(jq -r '.changes[0].new' "$T/out")" \
	'quiet isolcpus=4-7 nohz_full=6-7 rcu_nocbs=6-7 irqaffinity=0-5,8-15 dyndbg="file sched.c +p" threadirqs'
cmp -s "$B" "$T/grub.orig" || fail "a later write replaced the backup"
# isoctl grub MODE prints the quoted parameter quoted (it used to lose the quotes).
run 0 --root "$K" --policies "$T/pol" grub dbg
expect_grep "$T/out" '^GRUB_CMDLINE_LINUX_DEFAULT="quiet isolcpus=4-7 nohz_full=6-7 rcu_nocbs=6-7 irqaffinity=0-5,8-15 dyndbg=\\"file sched.c \+p\\" threadirqs"$'

# --restore: the original byte for byte, its mode, the backup gone.
run 0 --root "$K" grub --restore || finish
cmp -s "$G" "$T/grub.orig" || fail "--restore did not put the original back byte for byte"
expect_eq "mode after restore" "$(stat -c %a "$G")" 640
[ ! -e "$B" ] || fail "--restore left the backup"
expect_grep "$T/out" "^restored $G from $B and removed the backup$"
expect_grep "$T/out" '^\+GRUB_CMDLINE_LINUX_DEFAULT="quiet"$'
run 1 --root "$K" grub --restore
expect_grep "$T/err" "^isoctl: no $B: nothing to restore"
run 1 --root "$K" grub --restore --json
expect_eq "nothing on stdout" "$(cat "$T/out")" ""

# GRUB_CMDLINE_LINUX with other values (kvm16-rt) is changed there too.
R=$T/kvm16-rt
cp -a "$FIX/kvm16-rt" "$R"
run 0 --root "$R" grub dedicated --write --json || finish
expect_eq "both variables" "$(jq -r '[.changes[] | "\(.variable)=\(.new)"] | join("|")' "$T/out")" \
	"GRUB_CMDLINE_LINUX_DEFAULT=quiet isolcpus=6-7 nohz_full=6-7 rcu_nocbs=6-7 irqaffinity=0-5,8-15|GRUB_CMDLINE_LINUX=isolcpus=6-7 nohz_full=6-7 rcu_nocbs=6-7"
expect_eq "sh reads GRUB_CMDLINE_LINUX" "$(sh_value "$R/etc/default/grub" GRUB_CMDLINE_LINUX)" \
	"isolcpus=6-7 nohz_full=6-7 rcu_nocbs=6-7"
cmp -s "$R/var/lib/isolated/grub.orig" "$FIX/kvm16-rt/etc/default/grub" || fail "kvm16-rt backup"
run 0 --root "$R" grub --restore
cmp -s "$R/etc/default/grub" "$FIX/kvm16-rt/etc/default/grub" || fail "kvm16-rt restore"

# A file it cannot edit safely: refused, nothing written, no backup.
printf 'GRUB_CMDLINE_LINUX_DEFAULT="quiet \\\n  splash"\n' >"$G"
cp "$G" "$T/grub.cont"
run 1 --root "$K" grub dedicated --write
expect_grep "$T/err" "^isoctl: $G: line 1: the value of GRUB_CMDLINE_LINUX_DEFAULT continues on the next line \(backslash\); nothing written"
cmp -s "$G" "$T/grub.cont" || fail "a refused file was changed"
[ ! -e "$B" ] || fail "a refused edit made a backup"
printf 'GRUB_CMDLINE_LINUX_DEFAULT="quiet $(cat /etc/extra)"\n' >"$G"
run 1 --root "$K" grub dedicated --write
expect_grep "$T/err" 'refers to a variable or runs a command'

# A symbolic link is refused rather than replaced by a file.
rm "$G"
cp "$T/grub.orig" "$K/etc/default/grub.real"
ln -s grub.real "$G"
run 1 --root "$K" grub dedicated --write
expect_grep "$T/err" 'is a symbolic link'
[ -L "$G" ] || fail "the link was replaced"
[ ! -e "$B" ] || fail "a refused write made a backup"

# No grub file at all.
rm "$G"
run 1 --root "$K" grub dedicated --write
expect_grep "$T/err" '^isoctl: no etc/default/grub on '
[ ! -e "$B" ] || fail "no grub file, yet a backup"

# Usage.
run 2 --root "$K" plan dedicated --write
expect_grep "$T/err" '^isoctl: --write is an option of grub only'
run 2 --root "$K" grub dedicated --restore
expect_grep "$T/err" '^isoctl: usage: isoctl grub --restore'
run 2 --root "$K" grub --write
expect_grep "$T/err" '^isoctl: usage: isoctl grub MODE \[--write\]'

# The journal's lock serialises grub edits with apply and revert; none is
# left behind when isolated holds nothing.
L=$T/lock
cp -a "$FIX/kvm16" "$L"
mkdir -p "$L/run/isolated"
exec 9>"$L/run/isolated/lock"
flock 9
echo 4343 >&9
run 1 --root "$L" --no-wait grub dedicated --write
expect_grep "$T/err" 'another isoctl or isolated \(pid 4343\) is changing this host \(--no-wait given\)'
cmp -s "$FIX/kvm16/etc/default/grub" "$L/etc/default/grub" || fail "grub file written while the lock was held"
exec 9>&-
rm -rf "$L/run/isolated"
run 0 --root "$L" grub dedicated --write
run 0 --root "$L" grub --restore
[ -e "$L/run/isolated" ] && fail "grub --write/--restore left run/isolated behind"

expect_eq "the fixture is untouched" "$(tree_sum "$FIX/kvm16")" "$before_fix"
finish
