# isoctl against this machine's real /proc, read-only: status sees the
# processes the test starts as they are, plan picks them out by name, and a
# snapshot replayed with --root plans exactly as the machine itself.
. "$(dirname "$0")/lib.sh"

online=$(cat /sys/devices/system/cpu/online)
run 0 status --json || finish
expect_eq "status online" "$(jq -r .online_cpus "$T/out")" "$online"
expect_eq "status timer_migration" "$(jq -r '.sysctl["kernel.timer_migration"]' "$T/out")" \
	"$(cat /proc/sys/kernel/timer_migration)"
expect_eq "status cmdline" "$(jq -r .cmdline "$T/out")" "$(cat /proc/cmdline | sed 's/[[:space:]]*$//')"
[ "$(jq '.irqs | length' "$T/out")" -gt 0 ] || fail "status lists no IRQs"

if [ "$(nproc)" -lt 2 ]; then
	echo "only one CPU: skipping the pinning checks" >&2
	finish
fi

# Processes of our own, pinned and named so policies select them.
cp /bin/sleep "$T/lighttpd"
taskset -c 1 sleep 300 &
pinned=$!
"$T/lighttpd" 300 &
web=$!
trap 'kill $pinned $web 2>/dev/null; rm -rf "$T"' EXIT
sleep 0.2

run 0 status --json || finish
expect_eq "status shows our pinned sleep" \
	"$(jq -r --argjson t "$pinned" '.threads[] | select(.tid == $t) | .cpus' "$T/out")" "1"

run 0 --config "$TOP/policies/examples" plan dedicated --json || finish
expect_eq "dedicated moves our sleep to housekeeping" \
	"$(jq -r --arg t "tid/$pinned" '.actions[] | select(.target == $t and .kind == "thread-affinity") | "\(.from)->\(.to)"' "$T/out")" \
	"1->0"
[ "$(jq '[.cannot[] | select(.reason | test("PF_NO_SETAFFINITY"))] | length' "$T/out")" -gt 0 ] ||
	fail "no per-CPU kernel thread reported as not movable"

run 0 --config "$TOP/policies/examples" --policies "$TOP/policies/examples" plan webserver-2cpu --json || finish
expect_eq "webserver pins lighttpd to CPU 1" \
	"$(jq -r --arg t "tid/$web" '.actions[] | select(.target == $t and .kind == "thread-affinity") | .to' "$T/out")" "1"
expect_eq "webserver moves other threads to CPU 0" \
	"$(jq -r --arg t "tid/$pinned" '.actions[] | select(.target == $t and .kind == "thread-affinity") | .to' "$T/out")" "0"

# Snapshot, then plan on the snapshot and on the machine: the same plan for
# everything that existed in both (kernel workers and our own short-lived
# processes may come and go in between).
run 0 snapshot "$T/snap" || finish
[ -f "$T/snap/proc/interrupts" ] || fail "snapshot has no proc/interrupts"
run 0 --root "$T/snap" --config "$TOP/policies/examples" plan dedicated --json && cp "$T/out" "$T/plan-snap"
run 0 --config "$TOP/policies/examples" plan dedicated --json && cp "$T/out" "$T/plan-live"
norm='[.actions[], .cannot[]] | map(select(.target | startswith("tid/") | not))'
expect_eq "sysctl and IRQ entries equal" "$(jq -S "$norm" "$T/plan-snap")" "$(jq -S "$norm" "$T/plan-live")"
expect_eq "warnings equal" "$(jq -S .warnings "$T/plan-snap")" "$(jq -S .warnings "$T/plan-live")"
# Threads: every thread present in both plans is planned identically.
jq -r '[.actions[], .cannot[]][] | select(.target | startswith("tid/")) | "\(.target) \(.kind) \(.from // "") \(.to // "") \(.reason // "")"' \
	"$T/plan-snap" | sort >"$T/ts"
jq -r '[.actions[], .cannot[]][] | select(.target | startswith("tid/")) | "\(.target) \(.kind) \(.from // "") \(.to // "") \(.reason // "")"' \
	"$T/plan-live" | sort >"$T/tl"
common=$(comm -12 <(cut -d' ' -f1 "$T/ts" | sort -u) <(cut -d' ' -f1 "$T/tl" | sort -u) | wc -l)
[ "$common" -gt 20 ] || fail "only $common threads in common between snapshot and machine"
# A thread may have several lines (affinity and priority): compare the
# lines of the threads in common as sets, not paired by tid.
comm -12 <(cut -d' ' -f1 "$T/ts" | sort -u) <(cut -d' ' -f1 "$T/tl" | sort -u) >"$T/common"
in_common() { awk 'NR == FNR { c[$1] = 1; next } ($1 in c)' "$T/common" "$1" | sort; }
diffs=$(comm -3 <(in_common "$T/ts") <(in_common "$T/tl") | wc -l)
expect_eq "threads planned differently on snapshot and machine" "$diffs" "0"
grep -q "tid/$pinned " "$T/ts" || fail "snapshot lost our pinned sleep"

# isoctl status on the snapshot reads what it read on the machine.
run 0 --root "$T/snap" status --json && expect_eq "snapshot online" "$(jq -r .online_cpus "$T/out")" "$online"
finish
