# A real QEMU (TCG, 2 vCPUs, stopped with -S so it uses no CPU): with
# rt_vm=rtvm and rt_vcpus=1, the dedicated plan must pick its "CPU 1/TCG"
# thread as the RT vCPU, and no other thread of it.
. "$(dirname "$0")/lib.sh"

qemu=$(command -v qemu-system-x86_64) || { fail "qemu-system-x86_64 not installed (apt-get install qemu-system-x86)"; finish; }
if [ "$(nproc)" -lt 2 ]; then
	echo "one CPU: no RT CPU to plan for; skipped" >&2
	finish
fi

# debug-threads=on makes QEMU name its threads ("CPU 1/TCG"); libvirt always sets it.
"$qemu" -accel tcg -smp 2 -m 64 -name guest=rtvm,debug-threads=on -S -display none -nodefaults &
qpid=$!
trap 'kill $qpid 2>/dev/null; wait $qpid 2>/dev/null; rm -rf "$T"' EXIT
for _ in $(seq 100); do
	grep -qx "CPU 1/TCG" /proc/$qpid/task/*/comm 2>/dev/null && break
	sleep 0.1
done
vcpu1=$(grep -lx "CPU 1/TCG" /proc/$qpid/task/*/comm | cut -d/ -f5)
[ -n "$vcpu1" ] || { fail "QEMU did not start a CPU 1/TCG thread"; finish; }

mkdir -p "$T/conf"
cat >"$T/conf/host.conf" <<CONF
rt_cpus = 1
rt_nic = no-such-nic
rt_vm = rtvm
rt_vcpus = 1
rtnet_prio = 50
CONF
run 0 --config "$T/conf" plan dedicated --json || finish
rt_tids=$(jq -r '.actions[] | select(.rule == "rt-vcpu") | .target' "$T/out" | sort -u)
expect_eq "RT vCPU thread" "$rt_tids" "tid/$vcpu1"
expect_eq "RT vCPU to the RT CPU" \
	"$(jq -r --arg t "tid/$vcpu1" '.actions[] | select(.target == $t and .kind == "thread-affinity") | .to' "$T/out")" "1"
expect_eq "RT vCPU priority" \
	"$(jq -r --arg t "tid/$vcpu1" '.actions[] | select(.target == $t and .kind == "thread-sched") | .to' "$T/out" | cut -d: -f1)" "fifo"
# Every other QEMU thread goes to housekeeping (CPU 0).
for t in $(ls /proc/$qpid/task); do
	[ "$t" = "$vcpu1" ] && continue
	to=$(jq -r --arg t "tid/$t" '.actions[] | select(.target == $t and .kind == "thread-affinity") | .to' "$T/out")
	expect_eq "QEMU thread $t ($(cat /proc/$qpid/task/$t/comm)) placement" "$to" "0"
done
# The plan changed nothing: QEMU's threads are where they were.
expect_eq "vCPU affinity untouched" "$(awk '/^Cpus_allowed_list/ {print $2}' /proc/$qpid/task/$vcpu1/status)" "$(cat /sys/devices/system/cpu/online)"
finish
