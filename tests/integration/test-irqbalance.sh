#!/bin/bash
# [irqbalance] (issue 17) on copies of the kvm16 fixture (irqbalance runs
# there, Debian's defaults file): the shipped dedicated mode bans the RT
# CPUs and the RT NIC's IRQs in /etc/default/irqbalance; the original is
# kept once in var/lib/isolated and put back byte for byte on revert, also
# after drift, an injected write error, a lost journal (a reboot) and an
# operator's edit meanwhile; values the operator set are kept beside ours;
# the files irqbalance cannot be told through are "cannot be done"; a
# symlinked defaults file is not written through; the same through the
# daemon.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dbus-lib.sh"
: "${ISOLATED:?}"

same_tree() { expect_same_tree "$1" "$T/orig" "$H"; }
H=$T/host
F=$H/etc/default/irqbalance
B=$H/var/lib/isolated/irqbalance.orig
fresh() {
	rm -rf "$H" "$T/orig"
	cp -a "$FIX/kvm16" "$H"
	cp -a "$H" "$T/orig"
}
I=(--root "$H" --policies "$TOP/policies" --config "$H/etc/isolated")
RT_IRQS="--banirq=133 --banirq=134 --banirq=135 --banirq=136 --banirq=137 --banirq=138 --banirq=139 --banirq=140 --banirq=141"

# ---- plan, check, apply, status, drift, revert ----
fresh
run 0 "${I[@]}" plan dedicated
expect_grep "$T/out" '^irqbalance: 2 changes$'
expect_grep "$T/out" '^ +irqbalance/banned_cpus +none -> 6-7 +\[irqbalance\]$'
expect_grep "$T/out" '^ +irqbalance/banned_irqs +none -> 133-141 +\[irqbalance\]$'
expect_grep "$T/out" ', 2 irqbalance\), '
run 0 "${I[@]}" --json plan dedicated
expect_eq "plan --json: irqbalance actions" \
	"$(jq -c '[.actions[] | select(.kind == "irqbalance") | [.target, .from, .to]]' "$T/out")" \
	'[["irqbalance/banned_cpus","","6-7"],["irqbalance/banned_irqs","","133-141"]]'
"$ISOCTL" "${I[@]}" check dedicated >"$T/out" 2>&1
expect_grep "$T/out" 'irqbalance \(pid 812\) runs without the RT CPUs 6-7 banned: .*isoctl apply dedicated bans them \(\[irqbalance\]\)'

run 0 "${I[@]}" apply dedicated
expect_eq "the two lines appended" "$(diff "$T/orig/etc/default/irqbalance" "$F" | grep '^>')" \
	"> IRQBALANCE_BANNED_CPULIST=\"6-7\"
> IRQBALANCE_ARGS=\"$RT_IRQS\""
cmp -s "$B" "$T/orig/etc/default/irqbalance" || fail "the backup is not the original file"
# The shell reads what irqbalance's unit will get (EnvironmentFile=).
expect_eq "as sh reads it" "$(sh -c ". '$F'; echo \"\$IRQBALANCE_BANNED_CPULIST|\$IRQBALANCE_ARGS\"")" "6-7|$RT_IRQS"
"$ISOCTL" "${I[@]}" check dedicated >"$T/out" 2>&1
expect_grep "$T/out" 'irqbalance \(pid 812\) keeps off the RT CPUs'
run 0 "${I[@]}" status --all
expect_grep "$T/out" '^  irqbalance +irqbalance/banned_cpus +none +6-7 +6-7$'
expect_grep "$T/out" '^  irqbalance +irqbalance/banned_irqs +none +133-141 +133-141$'
run 0 "${I[@]}" verify
sed -i 's/^IRQBALANCE_BANNED_CPULIST="6-7"$/IRQBALANCE_BANNED_CPULIST="7"/' "$F"
run 1 "${I[@]}" verify
expect_grep "$T/out" '^\* irqbalance +irqbalance/banned_cpus +none +6-7 +7$'
run 1 "${I[@]}" revert
expect_grep "$T/out" 'irqbalance/banned_cpus .*changed behind isolated.s back'
run 0 "${I[@]}" revert --force
same_tree "revert --force after drift"

# ---- a failed write undoes everything, the backup too ----
fresh
ISOLATED_TREE_FAULTS="irqbalance/banned_irqs=EIO" run 1 "${I[@]}" apply dedicated
expect_grep "$T/err" 'irqbalance/banned_irqs'
same_tree "apply undone after EIO"

# ---- the journal lost (a reboot): the backup still says what was there ----
fresh
run 0 "${I[@]}" apply dedicated
rm -rf "$H/run/isolated"
run 0 "${I[@]}" plan dedicated
expect_grep "$T/out" '^ +irqbalance/banned_cpus +none -> 6-7 '
run 0 "${I[@]}" apply dedicated
run 0 "${I[@]}" revert
cmp -s "$F" "$T/orig/etc/default/irqbalance" || fail "after a lost journal: the file is not the original: $(diff "$T/orig/etc/default/irqbalance" "$F")"
[ ! -e "$B" ] || fail "after a lost journal: the backup is left"

# ---- what a kill inside a write leaves is cleaned by the next transaction ----
# (test-kill-random.sh kills at random system calls; these are its leftovers.)
fresh
cp "$F" "$B"
: >"$H/var/lib/isolated/.irqbalance.orig.isoctl-tmp"
: >"$H/etc/default/.irqbalance.isoctl-tmp"
run 0 "${I[@]}" apply dedicated
run 0 "${I[@]}" revert
same_tree "leftovers of a kill, after apply and revert"

# ---- an operator's edit meanwhile stays, our values go ----
fresh
run 0 "${I[@]}" apply dedicated
echo "IRQBALANCE_ONESHOT=yes" >>"$F"
run 0 "${I[@]}" revert
expect_eq "the operator's line kept, ours gone" "$(diff "$T/orig/etc/default/irqbalance" "$F")" \
	'28a29,31
> IRQBALANCE_BANNED_CPULIST=""
> IRQBALANCE_ARGS=""
> IRQBALANCE_ONESHOT=yes'
[ ! -e "$B" ] || fail "after an edit meanwhile: the backup is left"

# ---- what the operator banned stays banned; their arguments stay ----
fresh
printf 'IRQBALANCE_BANNED_CPULIST=3\nIRQBALANCE_ARGS='"'"'--hintpolicy=ignore --banirq=5'"'"'\n' >>"$F"
cp "$F" "$T/orig/etc/default/irqbalance"
run 0 "${I[@]}" plan dedicated
expect_grep "$T/out" '^ +irqbalance/banned_cpus +3 -> 3,6-7 '
expect_grep "$T/out" '^ +irqbalance/banned_irqs +5 -> 5,133-141 '
run 0 "${I[@]}" apply dedicated
expect_eq "as sh reads it" "$(sh -c ". '$F'; echo \"\$IRQBALANCE_BANNED_CPULIST|\$IRQBALANCE_ARGS\"")" \
	"3,6-7|--hintpolicy=ignore --banirq=5 $RT_IRQS"
expect_grep "$F" "^IRQBALANCE_ARGS='--hintpolicy=ignore --banirq=5 --banirq=133 "
run 0 "${I[@]}" revert
same_tree "revert keeps the operator's values"

# ---- what cannot be done ----
fresh
echo "IRQBALANCE_BANNED_CPUS=ff" >>"$F"
cp "$F" "$T/orig/etc/default/irqbalance"
run 0 "${I[@]}" plan dedicated
expect_grep "$T/out" 'irqbalance/banned_cpus +banned CPUs +/etc/default/irqbalance: it sets IRQBALANCE_BANNED_CPUS \(a mask irqbalance 1.8 deprecated\): replace it with IRQBALANCE_BANNED_CPULIST \[irqbalance\]'
expect_grep "$T/out" '^ +irqbalance/banned_irqs +none -> 133-141 '
printf 'IRQBALANCE_ARGS="--banirq"\n' >>"$F"
run 0 "${I[@]}" plan dedicated
expect_grep "$T/out" 'irqbalance/banned_irqs +banned IRQs +/etc/default/irqbalance: IRQBALANCE_ARGS has a --banirq without an IRQ number: "--banirq" \[irqbalance\]'
rm "$F"
run 0 "${I[@]}" plan dedicated
expect_grep "$T/out" 'irqbalance is not installed \(no /etc/default/irqbalance or /etc/sysconfig/irqbalance\) \[irqbalance\]'
expect_no_grep "$T/out" '^irqbalance: '
# Fedora's place, when Debian's is not there.
fresh
mkdir "$H/etc/sysconfig"
mv "$F" "$H/etc/sysconfig/irqbalance"
rm -rf "$T/orig" && cp -a "$H" "$T/orig"
run 0 "${I[@]}" apply dedicated
expect_grep "$H/etc/sysconfig/irqbalance" '^IRQBALANCE_BANNED_CPULIST="6-7"$'
run 0 "${I[@]}" revert
same_tree "revert of etc/sysconfig/irqbalance"

# ---- a symlinked defaults file is not written through ----
fresh
mv "$F" "$H/etc/default/irqbalance.real"
ln -s irqbalance.real "$F"
rm -rf "$T/orig" && cp -a "$H" "$T/orig"
run 1 "${I[@]}" apply dedicated
expect_grep "$T/err" 'etc/default/irqbalance is a symbolic link \(replacing it would cut the link\): edit it by hand'
same_tree "after the refused symlink"

# ---- through the daemon ----
fresh
start_private_bus "$T/bus" || { fail "no private bus"; finish; }
start_tree_daemon "$H" "$TOP/policies"
run 0 apply dedicated
expect_grep "$F" '^IRQBALANCE_BANNED_CPULIST="6-7"$'
expect_grep "$T/daemon.log" 'irqbalance/banned_cpus: irqbalance none -> 6-7 \[irqbalance\]'
expect_grep "$T/daemon.log" 'irqbalance/banned_irqs: irqbalance none -> 133-141 \[irqbalance\]'
sed -i 's/^IRQBALANCE_BANNED_CPULIST="6-7"$/IRQBALANCE_BANNED_CPULIST="7"/' "$F"
run 1 verify
expect_grep "$T/daemon.log" 'drift: irqbalance/banned_cpus irqbalance is 7, isolated wrote 6-7'
sed -i 's/^IRQBALANCE_BANNED_CPULIST="7"$/IRQBALANCE_BANNED_CPULIST="6-7"/' "$F"
run 0 revert
expect_grep "$T/daemon.log" 'irqbalance/banned_cpus: irqbalance 6-7 -> none \[irqbalance\] \(restored\)'
stop_pid "$DPID" TERM 30 "the daemon"
same_tree "revert through the daemon"
finish
