#!/bin/bash
# apply and revert on the running kernel, as root: a real QEMU (TCG, two
# vCPUs, stopped with -S so its vCPU threads sleep) is the workload; a
# dedicated policy scoped to that process must make its vCPU 1 thread
# SCHED_FIFO on the RT CPU and move its other threads to housekeeping, flip
# kernel.timer_migration and kernel.numa_balancing for real, and touch no
# other process and no IRQ. revert must put every value back.
. "$(dirname "$0")/lib.sh"

if [ "$(id -u)" != 0 ]; then
	echo "not root: live apply skipped" >&2
	finish
fi
qemu=$(command -v qemu-system-x86_64) || { fail "qemu-system-x86_64 not installed (apt-get install qemu-system-x86)"; finish; }
if [ "$(nproc)" -lt 2 ]; then
	echo "one CPU: no RT CPU to isolate; skipped" >&2
	finish
fi
for f in timer_migration numa_balancing; do
	[ -w /proc/sys/kernel/$f ] || { echo "no writable kernel.$f: skipped" >&2; finish; }
done

tm0=$(cat /proc/sys/kernel/timer_migration)
nb0=$(cat /proc/sys/kernel/numa_balancing)
"$qemu" -accel tcg -smp 2 -m 64 -name guest=rtvm,debug-threads=on -S -display none -nodefaults &
qpid=$!
# Whatever happens, the host gets its values back and QEMU goes.
cleanup() {
	"$ISOCTL" --config "$T/conf" --policies "$T/pol" revert --force >/dev/null 2>&1
	echo "$tm0" >/proc/sys/kernel/timer_migration
	echo "$nb0" >/proc/sys/kernel/numa_balancing
	kill $qpid 2>/dev/null
	wait $qpid 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
for _ in $(seq 100); do
	grep -qx "CPU 1/TCG" /proc/$qpid/task/*/comm 2>/dev/null && break
	sleep 0.1
done
vcpu1=$(grep -lx "CPU 1/TCG" /proc/$qpid/task/*/comm | cut -d/ -f5)
[ -n "$vcpu1" ] || { fail "QEMU did not start a CPU 1/TCG thread"; finish; }

# A scope is required here: without it the policy would govern every thread
# and IRQ of this machine.
mkdir -p "$T/conf" "$T/pol"
cat >"$T/conf/host.conf" <<CONF
rt_cpus = 1
rt_vm = rtvm
rt_vcpus = 1
CONF
cat >"$T/pol/dedicated.conf" <<POL
[mode]
type = dedicated
summary = the test's dedicated mode: no sched_rt_runtime_us, no IRQs
[sysctl]
kernel.timer_migration = $((1 - tm0))
kernel.numa_balancing = $((nb0 == 0 ? 1 : 0))
[irq other]
match = *
cpus = \${housekeeping_cpus}
[thread rt-vcpu]
match = vm:\${rt_vm} vcpu:\${rt_vcpus}
cpus = \${rt_cpus}
sched = fifo:51
[thread other]
match = *
cpus = \${housekeeping_cpus}
POL

# Every thread but QEMU's, and every IRQ: "tid cpus policy prio" lines.
others() {
	for d in /proc/[0-9]*/task/[0-9]*; do
		pid=${d#/proc/}
		pid=${pid%%/*}
		[ "$pid" = "$qpid" ] && continue
		cpus=$(sed -n 's/^Cpus_allowed_list:\t//p' "$d/status" 2>/dev/null) || continue
		st=$(sed 's/.*) //' "$d/stat" 2>/dev/null | awk '{print $39, $38}') || continue
		[ -n "$cpus" ] && [ -n "$st" ] && echo "${d##*/} $cpus $st"
	done | sort
}
irqs() {
	for f in /proc/irq/[0-9]*/smp_affinity_list; do echo "$f $(cat "$f" 2>/dev/null)"; done
}
others >"$T/others.before"
irqs >"$T/irqs.before"
declare -A cpus0 sched0
for d in /proc/$qpid/task/*; do
	tid=${d##*/}
	cpus0[$tid]=$(taskset -cp "$tid" | sed 's/.*: //')
	sched0[$tid]=$(chrt -p "$tid" | head -1 | sed 's/.*: //')
done

if run 0 --config "$T/conf" --policies "$T/pol" --scope "process:$qpid" --json apply dedicated; then
	expect_grep "$T/out" 'IRQ rules, \[cpumask\] and \[irqbalance\] are host-wide and are not applied'
	expect_eq "timer_migration applied" "$(cat /proc/sys/kernel/timer_migration)" $((1 - tm0))
	expect_eq "numa_balancing applied" "$(cat /proc/sys/kernel/numa_balancing)" $((nb0 == 0 ? 1 : 0))
	expect_eq "vCPU 1 affinity" "$(taskset -cp "$vcpu1" | sed 's/.*: //')" 1
	expect_eq "vCPU 1 policy" "$(chrt -p "$vcpu1" | sed -n 's/.*policy: //p')" SCHED_FIFO
	expect_eq "vCPU 1 priority" "$(chrt -p "$vcpu1" | sed -n 's/.*priority: //p')" 51
	for d in /proc/$qpid/task/*; do
		tid=${d##*/}
		[ "$tid" = "$vcpu1" ] && continue
		expect_eq "QEMU thread $tid ($(cat "$d/comm")) affinity" "$(taskset -cp "$tid" | sed 's/.*: //')" 0
		expect_eq "QEMU thread $tid policy" "$(chrt -p "$tid" | sed -n 's/.*policy: //p')" SCHED_OTHER
	done
fi
run 0 --config "$T/conf" --policies "$T/pol" --json status
expect_eq "status mode" "$(jq -r .isolated.mode "$T/out")" dedicated
expect_eq "status scope" "$(jq -r .isolated.scope "$T/out")" "process:$qpid"

# Nothing else moved: no other thread, no IRQ.
others >"$T/others.after"
irqs >"$T/irqs.after"
# Threads that came or went meanwhile (kworkers) are not changes; compare
# the threads present both times.
join "$T/others.before" "$T/others.after" | awk '$2 != $5 || $3 != $6 || $4 != $7' >"$T/moved"
[ -s "$T/moved" ] && fail "threads outside the scope changed: $(head -5 "$T/moved")"
cmp -s "$T/irqs.before" "$T/irqs.after" || fail "IRQ affinities changed: $(diff "$T/irqs.before" "$T/irqs.after" | head -5)"

if run 0 --config "$T/conf" --policies "$T/pol" revert; then
	expect_eq "timer_migration restored" "$(cat /proc/sys/kernel/timer_migration)" "$tm0"
	expect_eq "numa_balancing restored" "$(cat /proc/sys/kernel/numa_balancing)" "$nb0"
	for d in /proc/$qpid/task/*; do
		tid=${d##*/}
		[ -n "${cpus0[$tid]:-}" ] || continue
		expect_eq "QEMU thread $tid affinity restored" "$(taskset -cp "$tid" | sed 's/.*: //')" "${cpus0[$tid]}"
		expect_eq "QEMU thread $tid policy restored" "$(chrt -p "$tid" | head -1 | sed 's/.*: //')" "${sched0[$tid]}"
	done
	[ -e /run/isolated/journal ] && fail "journal left after revert"
fi

# On the running kernel the journal is not fsync'd (what it guards dies
# with the kernel): a damaged one written before this boot (a /run on a
# disk, a power cut) is of no boot -- discarded, not refused -- while a
# damaged one of this boot is refused.
if [ ! -e /run/isolated/journal ]; then
	mkdir -p /run/isolated
	printf 'c 99 0000' >/run/isolated/journal
	run 1 --direct status
	expect_grep "$T/out" 'mode +unknown: .*cut short'
	booted=$(($(date +%s) - $(cut -d. -f1 /proc/uptime)))
	touch -d "@$((booted - 60))" /run/isolated/journal
	run 0 --direct status
	expect_grep "$T/out" 'mode +vanilla'
	run 0 --direct revert
	expect_grep "$T/out" 'journal is from another boot \(unknown: a damaged journal written before this boot'
	[ -e /run/isolated/journal ] && fail "a damaged journal of an earlier boot was not discarded"
	rm -f /run/isolated/journal /run/isolated/lock
fi
finish
