#!/bin/bash
# A big host: a generated 1 024-CPU tree with 1 700 IRQs, whose
# /proc/interrupts (19 MB) is larger than any file isoctl once read whole.
# plan, apply and revert work on it; a snapshot copies the file as it is and
# plans the same; a hostile proc/interrupts (a line longer than any kernel
# prints) is one clear error.
. "$(dirname "$0")/lib.sh"

# On tmpfs: 30 000 files to write, and every apply fsyncs the journal.
S=$(mktemp -d -p /dev/shm isolated-test-bighost.XXXXXX)
trap 'rm -rf "$S" "$T"' EXIT
H=$S/host

python3 "$TOP/tests/fixtures/gen-bighost.py" --cpus 1024 --threads 1100 --irqs 1700 "$H" >"$T/gen" ||
	{ fail "gen-bighost.py: $(cat "$T/gen")"; finish; }
size=$(stat -c %s "$H/proc/interrupts")
[ "$size" -gt $((17 * 1024 * 1024)) ] || fail "proc/interrupts is only $size bytes"
before=$(tree_sum "$H")
rtvm=$(sed -n 's/^ *QEMU rtvm *pid \([0-9]*\):.*/\1/p' "$H/README")
eth1=$(sed -n 's/^ *eth1 (the RT NIC) *IRQs \([0-9]*\)-.*/\1/p' "$H/README")

jqa() { jq -r "$@" "$T/out"; }

if run 0 --root "$H" --json plan dedicated; then
	expect_eq "IRQ changes" "$(jqa '.counts["irq-affinity"]')" 1700
	expect_eq "the RT vCPUs" \
		"$(jqa '[.actions[] | select(.rule == "rt-vcpu" and .kind == "thread-affinity") | .to] | join(" ")')" "6-7 6-7"
	expect_eq "the first eth1 IRQ" \
		"$(jqa --arg t "irq/$eth1" '.actions[] | select(.target == $t) | "\(.rule) \(.to)"')" "rt-nic 6-7"
	expect_eq "other IRQs" \
		"$(jqa '[.actions[] | select(.kind == "irq-affinity" and .rule == "other") | .to] | unique | join(" ")')" "0-5,8-1023"
	cp "$T/out" "$T/plan.json"
fi

if run 0 --root "$H" apply dedicated; then
	expect_eq "eth1 IRQ affinity" "$(cat "$H/proc/irq/$eth1/smp_affinity_list")" 6-7
	expect_eq "vCPU 0 affinity" "$(sed -n 's/^Cpus_allowed_list:\t//p' "$H/proc/$rtvm/task/$((rtvm + 3))/status")" 6-7
fi
run 0 --root "$H" revert
[ "$(tree_sum "$H")" == "$before" ] || fail "revert did not give the generated tree back"

# The dump copies the streamed file as it is, and plans the same.
if run 0 --root "$H" snapshot "$S/snap"; then
	cmp -s "$H/proc/interrupts" "$S/snap/proc/interrupts" || fail "snapshot: proc/interrupts differs"
	run 0 --root "$S/snap" --json plan dedicated &&
		expect_eq "plan of the snapshot" "$(jq -S 'del(.root)' "$T/out" | sha256sum)" \
			"$(jq -S 'del(.root)' "$T/plan.json" | sha256sum)"
fi

# A line longer than CPUSET_MAX_CPUS columns could print: refused by name.
cp -a "$FIX/kvm16" "$S/bad"
{
	echo "           CPU0"
	printf '  1: %0800000d\n' 0
} >"$S/bad/proc/interrupts"
run 1 --root "$S/bad" plan dedicated
expect_grep "$T/err" '^isoctl: .*proc/interrupts:2: a line longer than [0-9]+ bytes'
finish
