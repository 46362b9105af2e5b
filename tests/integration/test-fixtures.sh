# isoctl on the fixture trees of a 16-CPU two-socket KVM host (stock and
# PREEMPT_RT kernels): the dedicated plan names the RT vCPUs, the vhost worker
# and the RT NIC's IRQs with their priorities, sends everything else to the
# housekeeping CPUs, sets the three sysctls and reports the threads the kernel
# will not move. Reading a tree never changes it.
. "$(dirname "$0")/lib.sh"
K=$FIX/kvm16
R=$FIX/kvm16-rt
before_k=$(tree_sum "$K")
before_r=$(tree_sum "$R")

jqa() { jq -r "$@" "$T/out"; }

# host.conf comes from the tree (etc/isolated/host.conf): rt_cpus = 6-7,
# rt_nic = eth1, rt_vm = rtvm, rt_vcpus = 0-1.
run 0 --root "$K" plan dedicated --json || finish
expect_eq "sysctls" "$(jqa '[.actions[] | select(.kind == "sysctl") | "\(.target)=\(.to)"] | sort | join(" ")')" \
	"kernel.hung_task_timeout_secs=600 kernel.numa_balancing=0 kernel.sched_rt_runtime_us=-1 kernel.timer_migration=0 kernel.watchdog_cpumask=0-5,8-15 vm.stat_interval=10"
expect_eq "RT vCPU affinity" \
	"$(jqa '[.actions[] | select(.rule == "rt-vcpu" and .kind == "thread-affinity") | "\(.target):\(.to)"] | join(" ")')" \
	"tid/2205:6-7 tid/2206:6-7"
expect_eq "RT vCPU priority" \
	"$(jqa '[.actions[] | select(.rule == "rt-vcpu" and .kind == "thread-sched") | "\(.target):\(.to)"] | join(" ")')" \
	"tid/2205:fifo:51 tid/2206:fifo:51"
expect_eq "RT vhost (a kernel thread on 6.1)" \
	"$(jqa '[.actions[] | select(.rule == "rt-vhost") | "\(.target):\(.kind):\(.to)"] | join(" ")')" \
	"tid/2207:thread-affinity:6-7 tid/2207:thread-sched:fifo:55"
expect_eq "RT NIC IRQs" \
	"$(jqa '[.actions[] | select(.rule == "rt-nic") | "\(.target):\(.to)"] | join(" ")')" \
	"$(for i in $(seq 133 141); do printf 'irq/%s:6-7 ' $i; done | sed 's/ $//')"
expect_eq "every RT action is marked rt" "$(jqa '[.actions[] | select(.rule | startswith("rt-")) | .rt] | unique | join(",")')" "true"
# Every other IRQ and movable thread goes to housekeeping, nothing else to the RT CPUs.
expect_eq "other IRQs to housekeeping" \
	"$(jqa '[.actions[] | select(.kind == "irq-affinity" and .rule != "rt-nic") | .to] | unique | join(" ")')" "0-5,8-15"
expect_eq "other threads to housekeeping" \
	"$(jqa '[.actions[] | select(.kind == "thread-affinity" and (.rule | startswith("rt-") | not)) | .to] | unique | join(" ")')" "0-5,8-15"
expect_eq "the other guests' vCPUs move" \
	"$(jqa '[.actions[] | select(.kind == "thread-affinity" and (.target == "tid/2305" or .target == "tid/2405")) | .to] | join(" ")')" \
	"0-5,8-15 0-5,8-15"
expect_eq "irqbalance moves" "$(jqa '[.actions[] | select(.target == "tid/812") | .to] | join(" ")')" "0-5,8-15"
# Per-CPU kernel threads on the RT CPUs cannot be moved, and say so; the
# RT CPUs' ksoftirqd get FIFO 2 (rt-ksoftirqd) and no affinity.
expect_eq "RT CPUs' ksoftirqd" \
	"$(jqa '[.actions[] | select(.rule == "rt-ksoftirqd") | "\(.label):\(.kind):\(.to)"] | join(" ")')" \
	"ksoftirqd/6:thread-sched:fifo:2 ksoftirqd/7:thread-sched:fifo:2"
expect_eq "no other ksoftirqd is touched" \
	"$(jqa '[.actions[] | select(.kind == "thread-sched" and (.label | startswith("ksoftirqd/"))) | .label] | join(" ")')" \
	"ksoftirqd/6 ksoftirqd/7"
for t in cpuhp/6 migration/6 cpuhp/7 migration/7; do
	expect_eq "$t not movable" "$(jqa --arg c "$t" '.cannot[] | select(.label == $c) | .reason')" \
		"not movable: per-CPU kernel thread (PF_NO_SETAFFINITY), stays on ${t#*/}"
done
expect_eq "ksoftirqd/3 (already on housekeeping) is no problem" "$(jqa '[.cannot[] | select(.label == "ksoftirqd/3")] | length')" 0
# No IRQ threads on a stock kernel: the RT NIC's thread priority cannot be set.
expect_eq "no IRQ threads on 6.1" "$(jqa '[.cannot[] | select(.rule == "rt-nic") | .reason] | unique | join("")')" \
	"no IRQ thread: the kernel is not PREEMPT_RT and was not booted with threadirqs"
expect_eq "counts" "$(jqa '"\(.counts.sysctl) \(.counts.sysfs) \(.counts["thread-sched"])"')" "6 6 5"
# [cpumask]: new IRQs and unbound workqueues start on housekeeping, right
# after the sysctls; then [sysfs]: THP, KSM, the RT CPUs' PM QoS and governor.
expect_eq "sysfs" "$(jqa '[.actions[] | select(.kind == "sysfs") | "\(.target | ltrimstr("sysfs/")):\(.from)->\(.to)"] | join(" ")')" \
	"kernel/mm/transparent_hugepage/enabled:madvise->never kernel/mm/ksm/run:1->2 devices/system/cpu/cpu6/power/pm_qos_resume_latency_us:0->3 devices/system/cpu/cpu7/power/pm_qos_resume_latency_us:0->3 devices/system/cpu/cpu6/cpufreq/scaling_governor:powersave->performance devices/system/cpu/cpu7/cpufreq/scaling_governor:powersave->performance"
expect_eq "sysfs right after the cpumasks" "$(jqa '.actions[8].kind')" sysfs
expect_eq "default IRQ affinity" "$(jqa '.actions[6] | "\(.target):\(.from)->\(.to)"')" "cpumask/irq_default:0-15->0-5,8-15"
expect_eq "workqueue cpumask" "$(jqa '.actions[7] | "\(.target):\(.from)->\(.to)"')" "cpumask/workqueue:0-15->0-5,8-15"

run 0 --root "$K" plan dedicated
expect_grep "$T/out" '^ +RT +tid/2205 +CPU 0/KVM \(qemu-system-x86 2201\) +0-15 -> 6-7'
expect_grep "$T/out" 'cannot be done: [0-9]+'

# PREEMPT_RT variant: IRQ threads exist and get the rule's priority; the vhost
# worker is a thread of QEMU itself (Linux >= 6.4).
run 0 --root "$R" plan dedicated --json || finish
expect_eq "irq threads of eth1" \
	"$(jqa '[.actions[] | select(.rule == "rt-nic" and .kind == "thread-sched") | .to] | unique | join(" ")')" "fifo:60"
expect_eq "irq thread count" "$(jqa '[.actions[] | select(.rule == "rt-nic" and .kind == "thread-sched")] | length')" 9
expect_eq "vhost as a QEMU thread" "$(jqa '[.actions[] | select(.rule == "rt-vhost" and .kind == "thread-sched") | .target] | join(" ")')" "tid/2207"
expect_eq "no IRQ thread gets a thread-affinity action" \
	"$(jqa '[.actions[] | select(.kind == "thread-affinity" and (.label | startswith("irq/")))] | length')" 0
run 0 --root "$R" plan rt-only --json || finish
expect_eq "rt-only changes no affinity" "$(jqa '.counts["irq-affinity"] + .counts["thread-affinity"]')" 0
expect_eq "rt-only priorities" \
	"$(jqa '[.actions[] | select(.kind == "thread-sched") | "\(.rule)=\(.to)"] | unique | join(" ")')" \
	"rcub=fifo:4 rt-ksoftirqd=fifo:2 rt-ktimers=fifo:2 rt-nic=fifo:60 rt-rcuc=fifo:4 rt-vcpu=fifo:70 rt-vhost=fifo:65"
run 0 --root "$R" plan outsourcing --json || finish
expect_grep "$T/out" 'RT poll_list'

# check: the RT tree boots with isolcpus=4-7 and an rcu_nocbs that does not
# cover nohz_full; irqbalance runs on both.
run 1 --root "$R" check dedicated
expect_grep "$T/out" '^FAIL +boot isolcpus +running kernel has isolcpus=4-7, the mode wants isolcpus=6-7'
expect_grep "$T/out" '^FAIL +consistency \(running\) +rcu_nocbs does not cover nohz_full'
expect_grep "$T/out" '^ok +tuner irqbalance +irqbalance \(pid 812\) keeps off the RT CPUs'
# irqbalance told to keep off the RT CPUs (Debian's /etc/default/irqbalance):
# no longer a failure. The copy keeps the fixture itself untouched.
cp -a "$K" "$T/kb"
printf '# site\nIRQBALANCE_BANNED_CPULIST="6-7"\n' >"$T/kb/etc/default/irqbalance"
run 1 --root "$T/kb" check dedicated
expect_grep "$T/out" '^ok +tuner irqbalance +irqbalance \(pid 812\) keeps off the RT CPUs'
run 1 --root "$K" check dedicated
expect_grep "$T/out" '^FAIL +tuner irqbalance +irqbalance \(pid 812\) runs without the RT CPUs 6-7 banned'
run 1 --root "$K" check rt-only
expect_grep "$T/out" '^FAIL +kernel preempt-rt'
run 1 --root "$K" check outsourcing --json
expect_eq "outsourcing needs rtnet_prio" "$(jqa '.items[] | select(.item == "kernel rtnet_prio") | .status')" "fail"
run 0 --root "$K" check vanilla
expect_no_grep "$T/out" 'FAIL'

# grub: existing parameters kept, ours added.
run 0 --root "$K" grub dedicated
expect_grep "$T/out" '^GRUB_CMDLINE_LINUX_DEFAULT="quiet isolcpus=6-7 nohz_full=6-7 rcu_nocbs=6-7 irqaffinity=0-5,8-15"$'
run 0 --root "$R" grub dedicated --json
expect_eq "grub replaces isolcpus" "$(jqa .value | grep -o 'isolcpus=[^ ]*' | tr '\n' ' ')" "isolcpus=6-7 "

# status and show on a tree
run 0 --root "$R" status --json
expect_eq "status preempt_rt" "$(jqa .preempt_rt)" "true"
expect_eq "status irqs" "$(jqa '.irqs | length')" 48
run 0 --root "$K" show dedicated --json
expect_eq "show resolves variables" "$(jqa '.irq_rules[0].match')" "nic:eth1"
expect_eq "show expands cpu\${rt_cpus}" \
	"$(jqa '[.sysfs[] | select(.path | test("pm_qos")) | "\(.path)=\(.value)"] | join(" ")')" \
	"devices/system/cpu/cpu6/power/pm_qos_resume_latency_us=3 devices/system/cpu/cpu7/power/pm_qos_resume_latency_us=3"
expect_eq "show [cpumask] [irqbalance]" "$(jqa -c '[.cpumask, .irqbalance]')" \
	'[{"irq_default":"0-5,8-15","workqueue":"0-5,8-15"},{"banned":"6-7"}]'

# The 2-vCPU VM captured with isoctl snapshot (tests/fixtures/vm2): no grub,
# no VM on it, so the RT rules match nothing and say so.
V=$FIX/vm2
before_v=$(tree_sum "$V")
run 0 --root "$V" plan dedicated --json || finish
expect_eq "vm2 online" "$(jqa .online_cpus)" "0-1"
expect_eq "vm2 RT rules unmatched" "$(jqa '[.cannot[] | select(.reason == "RT rule matches no thread on this host") | .rule] | sort | join(" ")')" \
	"rt-ktimers rt-process rt-rcuc rt-vcpu rt-vhost"
expect_eq "vm2 everything else to CPU 0" "$(jqa '[.actions[] | select(.kind == "thread-affinity") | .to] | unique | join(" ")')" "0"
run 1 --root "$V" grub dedicated
expect_grep "$T/err" '^isoctl: no etc/default/grub'
expect_eq "vm2 unchanged" "$(tree_sum "$V")" "$before_v"

expect_eq "kvm16 unchanged" "$(tree_sum "$K")" "$before_k"
expect_eq "kvm16-rt unchanged" "$(tree_sum "$R")" "$before_r"
finish
