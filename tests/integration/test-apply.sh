#!/bin/bash
# apply and revert on copies of the fixture trees: every action kind, the
# journal's promises (pristine values, conflicts, stale and corrupt
# journals, exited and new threads), injected kernel errors, the lock.
# Every revert must leave the tree byte for byte as it was.
. "$(dirname "$0")/lib.sh"

# same_tree NAME ORIG COPY: names, modes and contents equal.
same_tree() {
	if [ "$(tree_sum "$2")" != "$(tree_sum "$3")" ]; then
		fail "$1: the tree differs from the original: $(diff -r "$2" "$3" 2>&1 | head -c 800)"
	fi
}

fresh() { # NAME FIXTURE: a copy of the fixture in $T/NAME
	rm -rf "${T:?}/$1"
	cp -a "$FIX/$2" "$T/$1"
}

json() { # FILTER: jq over $T/out
	jq -r "$1" "$T/out"
}

# ---- one policy per action kind ----
mkdir -p "$T/pol"
cat >"$T/pol/k-sysctl.conf" <<'EOF'
[mode]
type = dedicated
[sysctl]
kernel.timer_migration = 0
kernel.numa_balancing = 0
kernel.sched_rt_runtime_us = -1
EOF
cat >"$T/pol/k-irq.conf" <<'EOF'
[mode]
type = dedicated
[irq rt-nic]
match = nic:${rt_nic}
cpus = ${rt_cpus}
[irq other]
match = *
cpus = ${housekeeping_cpus}
EOF
cat >"$T/pol/k-affinity.conf" <<'EOF'
[mode]
type = dedicated
[thread rt-vcpu]
match = vm:${rt_vm} vcpu:${rt_vcpus}
cpus = ${rt_cpus}
[thread other]
match = *
cpus = ${housekeeping_cpus}
EOF
cat >"$T/pol/k-sched.conf" <<'EOF'
[mode]
type = rt-only
[thread rt-vcpu]
match = vm:${rt_vm} vcpu:${rt_vcpus}
sched = fifo:51
[thread rt-vhost]
match = vm:${rt_vm} vhost
sched = rr:50
EOF
cat >"$T/pol/k-irqthread.conf" <<'EOF'
[mode]
type = rt-only
[irq rt-nic]
match = nic:${rt_nic}
thread = fifo:60
EOF
cat >"$T/pol/k-cpumask.conf" <<'EOF'
[mode]
type = dedicated
[cpumask]
irq_default = ${housekeeping_cpus}
workqueue = ${housekeeping_cpus}
EOF

check_kind() { # POLICY FIXTURE FILE WANT (a file of the tree and its content after apply)
	fresh kind "$2"
	if run 0 --root "$T/kind" --policies "$T/pol" apply "$1"; then
		expect_eq "$1: $3" "$(cat "$T/kind/$3")" "$4"
		[ -f "$T/kind/run/isolated/journal" ] || fail "$1: no journal after apply"
	fi
	run 0 --root "$T/kind" --policies "$T/pol" revert && same_tree "$1 revert" "$FIX/$2" "$T/kind"
}
check_kind k-sysctl kvm16 proc/sys/kernel/sched_rt_runtime_us -1
check_kind k-irq kvm16 proc/irq/133/smp_affinity_list 6-7
check_kind k-irq kvm16 proc/irq/124/smp_affinity "ff3f"
check_kind k-affinity kvm16 proc/2201/task/2205/status "$(sed 's/^Cpus_allowed:.*/Cpus_allowed:\t00c0/; s/^Cpus_allowed_list:.*/Cpus_allowed_list:\t6-7/' "$FIX/kvm16/proc/2201/task/2205/status")"
check_kind k-affinity kvm16 proc/2301/task/2305/status "$(sed 's/^Cpus_allowed:.*/Cpus_allowed:\tff3f/; s/^Cpus_allowed_list:.*/Cpus_allowed_list:\t0-5,8-15/' "$FIX/kvm16/proc/2301/task/2305/status")"
# stat: fields 18 (priority), 40 (rt_priority), 41 (policy) change, nothing else.
check_kind k-sched kvm16 proc/2201/task/2206/stat "$(sed -E 's/^(.*\) ([^ ]+ ){15})[^ ]+ (([^ ]+ ){21})[^ ]+ [^ ]+ /\1-52 \351 1 /' "$FIX/kvm16/proc/2201/task/2206/stat")"
check_kind k-irqthread kvm16-rt proc/sys/kernel/timer_migration "$(cat "$FIX/kvm16-rt/proc/sys/kernel/timer_migration")"
check_kind k-cpumask kvm16 sys/devices/virtual/workqueue/cpumask ff3f

# IRQ threads get their priority like any thread (kvm16-rt has irq/N threads).
fresh rt kvm16-rt
if run 0 --root "$T/rt" --policies "$T/pol" --json apply k-irqthread; then
	n=$(json '[.steps[] | select(.kind == "thread-sched" and .outcome == "done")] | length')
	[ "$n" -ge 9 ] || fail "k-irqthread: $n IRQ threads made fifo:60, expected the 9 of eth1"
fi
run 0 --root "$T/rt" revert && same_tree "k-irqthread revert" "$FIX/kvm16-rt" "$T/rt"

# ---- the whole dedicated mode, and mode switches ----
fresh d kvm16
if run 0 --root "$T/d" --json apply dedicated; then
	expect_eq "dedicated result" "$(json .result)" applied
	expect_eq "dedicated failed steps" "$(json '.counts.failed')" 0
	expect_eq "timer_migration" "$(cat "$T/d/proc/sys/kernel/timer_migration")" 0
	expect_eq "vCPU 0 sched" "$(sed 's/.*) //' "$T/d/proc/2201/task/2205/stat" | awk '{print $16, $38, $39}')" "-52 51 1"
fi
run 0 --root "$T/d" --json status
expect_eq "status mode" "$(json .isolated.mode)" dedicated
expect_eq "status drift" "$(json .isolated.drift)" 0
run 0 --root "$T/d" status
expect_grep "$T/out" '^mode +dedicated \(scope host\), applied '
run 0 --root "$T/d" apply dedicated
expect_grep "$T/out" 'dedicated in force: 0 done'
run 0 --root "$T/d" revert && same_tree "dedicated revert" "$FIX/kvm16" "$T/d"
[ -e "$T/d/run/isolated" ] && fail "run/isolated left behind after revert"

# dedicated -> rt-only -> dedicated -> vanilla: pristine values, never intermediate ones.
fresh sw kvm16-rt
run 0 --root "$T/sw" apply dedicated
run 0 --root "$T/sw" apply rt-only
expect_eq "timer_migration after rt-only" "$(cat "$T/sw/proc/sys/kernel/timer_migration")" \
	"$(cat "$FIX/kvm16-rt/proc/sys/kernel/timer_migration")"
expect_eq "irq 124 after rt-only" "$(cat "$T/sw/proc/irq/124/smp_affinity_list")" \
	"$(cat "$FIX/kvm16-rt/proc/irq/124/smp_affinity_list")"
run 0 --root "$T/sw" apply dedicated
run 0 --root "$T/sw" apply vanilla && same_tree "dedicated/rt-only/dedicated/vanilla" "$FIX/kvm16-rt" "$T/sw"

# --dry-run writes nothing, not even the journal.
fresh dry kvm16
run 0 --root "$T/dry" apply dedicated --dry-run && same_tree "dry run" "$FIX/kvm16" "$T/dry"
expect_grep "$T/out" 'dry run: nothing was written'

# ---- injected kernel errors ----
fresh f kvm16
if ISOLATED_TREE_FAULTS="irq/151=EIO irq/152=EPERM" run 0 --root "$T/f" --json apply dedicated; then
	expect_eq "managed IRQ outcome" "$(json '.steps[] | select(.target == "irq/151") | .outcome')" not-movable
	expect_grep "$T/out" 'not movable \(kernel-managed\): the kernel refused with EIO'
	expect_eq "managed IRQ unchanged" "$(cat "$T/f/proc/irq/151/smp_affinity_list")" \
		"$(cat "$FIX/kvm16/proc/irq/151/smp_affinity_list")"
fi
run 0 --root "$T/f" revert && same_tree "revert after EIO" "$FIX/kvm16" "$T/f"

# strict: the same refusal fails the whole transaction.
sed 's/^type = dedicated/type = dedicated\nstrict = yes/' "$TOP/policies/dedicated.conf" >"$T/pol/strict.conf"
fresh s kvm16
ISOLATED_TREE_FAULTS="irq/151=EIO" run 1 --root "$T/s" --policies "$T/pol" apply strict
expect_grep "$T/err" 'irq/151.*strict'
same_tree "strict undone" "$FIX/kvm16" "$T/s"

# EPERM on a thread: the whole transaction is undone.
fresh e kvm16
if ISOLATED_TREE_FAULTS="tid/2206/sched=EPERM" run 1 --root "$T/e" --json apply dedicated; then
	expect_eq "EPERM result" "$(json .result)" failed
	expect_grep "$T/err" 'tid/2206 \(CPU 1/KVM.*scheduling fifo:51 failed: Operation not permitted \(EPERM\)'
	expect_grep "$T/err" '[0-9]+ changes of this transaction undone'
fi
same_tree "EPERM undone" "$FIX/kvm16" "$T/e"

# EPERM from RT group scheduling names the cgroup and the fix.
fresh g kvm16
cg='machine.slice/machine-qemu\x2d1\x2drtvm.scope/libvirt/emulator'
mkdir -p "$T/g/sys/fs/cgroup/$cg" && echo 0 >"$T/g/sys/fs/cgroup/$cg/cpu.rt_runtime_us"
ISOLATED_TREE_FAULTS="tid/2205/sched=EPERM" run 1 --root "$T/g" apply dedicated
expect_grep "$T/err" 'RT group scheduling: its cgroup /machine.slice/.* has cpu.rt_runtime_us = 0'

# ESRCH: the thread exited meanwhile; not an error.
fresh x kvm16
if ISOLATED_TREE_FAULTS="tid/2305=ESRCH" run 0 --root "$T/x" --json apply dedicated; then
	expect_eq "ESRCH outcome" "$(json '[.steps[] | select(.target == "tid/2305") | .outcome] | unique | join(",")')" gone
fi
run 0 --root "$T/x" revert && same_tree "revert after ESRCH" "$FIX/kvm16" "$T/x"

# A read-only sysctl (EACCES, as /proc/sys answers root): undone.
fresh ro kvm16
chmod 0444 "$T/ro/proc/sys/kernel/numa_balancing"
cp -a "$T/ro" "$T/ro.orig"
run 1 --root "$T/ro" apply dedicated
expect_grep "$T/err" 'kernel.numa_balancing.*Permission denied \(EACCES\)'
same_tree "read-only sysctl undone" "$T/ro.orig" "$T/ro"
rm -rf "$T/ro.orig"

# ---- the journal ----
# From another boot: discarded with a notice, nothing written to proc/.
fresh b kvm16
run 0 --root "$T/b" apply dedicated
echo 00000000-0000-4000-8000-000000000000 >"$T/b/proc/sys/kernel/random/boot_id"
before=$(tree_sum "$T/b/proc")
run 0 --root "$T/b" revert
expect_grep "$T/out" 'journal is from another boot .* discarded'
expect_eq "stale journal: proc untouched" "$(tree_sum "$T/b/proc")" "$before"
[ -e "$T/b/run/isolated/journal" ] && fail "stale journal not removed"

# Corrupt (a byte changed in the checkpoint): refused, kept as it is,
# nothing written.
fresh c kvm16
run 0 --root "$T/c" apply dedicated
printf 'X' | dd of="$T/c/run/isolated/journal" bs=1 seek=2000 conv=notrunc status=none
cp "$T/c/run/isolated/journal" "$T/journal.bad"
before=$(tree_sum "$T/c/proc")
run 1 --root "$T/c" apply rt-only
expect_grep "$T/err" 'run/isolated/journal: checkpoint at byte 0: checksum mismatch'
expect_grep "$T/err" 'refusing to change the host'
cmp -s "$T/journal.bad" "$T/c/run/isolated/journal" || fail "corrupt journal was modified"
expect_eq "corrupt journal: proc untouched" "$(tree_sum "$T/c/proc")" "$before"
run 1 --root "$T/c" revert
run 1 --root "$T/c" status
expect_grep "$T/out" '^mode +unknown: .*checksum mismatch'

# Its last record cut short (killed inside the append of the commit, after
# the writes): read as the state before it -- the transaction open -- which
# the next run undoes. The transaction: a re-apply of one drifted IRQ (a
# small record; one that rewrites most of the journal is a new checkpoint).
fresh u kvm16
run 0 --root "$T/u" apply dedicated
printf '3\n' >"$T/u/proc/irq/133/smp_affinity_list"
printf '0008\n' >"$T/u/proc/irq/133/smp_affinity"
run 0 --root "$T/u" apply dedicated --force
expect_grep "$T/out" '1 done'
truncate -s -20 "$T/u/run/isolated/journal"
run 0 --root "$T/u" status
expect_grep "$T/out" 'INTERRUPTED: a transaction to dedicated'
run 0 --root "$T/u" revert --force
expect_grep "$T/out" 'an interrupted transaction \(apply dedicated, pid [0-9]+\) was undone: 1 value put back'
same_tree "commit record cut short, then revert" "$FIX/kvm16" "$T/u"

# Changed behind our back: a conflict, left alone; --force restores it.
fresh k kvm16
run 0 --root "$T/k" apply dedicated
printf '3\n' >"$T/k/proc/irq/133/smp_affinity_list"
printf '0008\n' >"$T/k/proc/irq/133/smp_affinity"
run 0 --root "$T/k" --json status
expect_eq "drift seen" "$(json '.isolated.targets[] | select(.target == "irq/133") | .drift')" true
run 1 --root "$T/k" --json revert
expect_eq "conflict outcome" "$(json '.steps[] | select(.target == "irq/133") | .outcome')" conflict
expect_eq "conflict left alone" "$(cat "$T/k/proc/irq/133/smp_affinity_list")" 3
run 0 --root "$T/k" revert --force && same_tree "revert --force" "$FIX/kvm16" "$T/k"

# Threads that exit are dropped; threads born later get back the values
# they had when isolated first touched them.
fresh t kvm16
run 0 --root "$T/t" apply dedicated
rm -rf "$T/t/proc/2301/task/2305"
cp -a "$FIX/kvm16/proc/2301/task/2306" "$T/t2399.orig"
sed -i 's/^2306 /2399 /' "$T/t2399.orig/stat"
sed -i 's/^Pid:\t2306/Pid:\t2399/' "$T/t2399.orig/status"
cp -a "$T/t2399.orig" "$T/t/proc/2301/task/2399"
if run 0 --root "$T/t" --json apply dedicated; then
	expect_grep "$T/out" 'exited threads dropped from the journal'
	expect_eq "new thread moved" "$(json '.steps[] | select(.target == "tid/2399") | .outcome')" done
fi
run 0 --root "$T/t" revert
diff -r "$T/t2399.orig" "$T/t/proc/2301/task/2399" >/dev/null || fail "new thread not restored to first-touched values"
rm -rf "$T/t/proc/2301/task/2399"
mkdir -p "$T/t.want" && cp -a "$FIX/kvm16/." "$T/t.want/" && rm -rf "$T/t.want/proc/2301/task/2305"
same_tree "exited thread" "$T/t.want" "$T/t"

# ---- the lock ----
fresh l kvm16
mkdir -p "$T/l/run/isolated"
exec 9>"$T/l/run/isolated/lock"
flock 9
echo 4242 >&9
run 1 --root "$T/l" --no-wait apply dedicated
expect_grep "$T/err" 'another isoctl or isolated \(pid 4242\) is changing this host.*--no-wait'
exec 9>&-
run 0 --root "$T/l" apply dedicated
run 0 --root "$T/l" revert
[ -e "$T/l/run/isolated" ] && fail "lock directory left after revert"

finish
