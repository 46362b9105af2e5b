# The command line as a user meets it: usage errors, unknown modes, mode names
# that try to be paths, errors as one "isoctl: ..." line with exit 2.
. "$(dirname "$0")/lib.sh"
EX="--config $TOP/policies/examples"

run 2 || true
expect_grep "$T/err" '^isoctl: no command given'
run 2 frobnicate
expect_grep "$T/err" '^isoctl: unknown command "frobnicate"'
run 2 --bogus-option list
run 0 --help && expect_grep "$T/out" '^Usage: isoctl'
run 2 $EX plan
expect_grep "$T/err" '^isoctl: usage: isoctl plan MODE'
run 2 $EX plan no-such-mode
expect_grep "$T/err" '^isoctl: unknown mode "no-such-mode"'
for bad in ../dedicated /etc/passwd 'a b' '.hidden' ''; do
	run 2 $EX plan "$bad"
	expect_grep "$T/err" '^isoctl: invalid mode name'
done
run 2 --root /nonexistent status
expect_grep "$T/err" '^isoctl: --root /nonexistent: not a directory'
run 2 --config "$T/empty-dir" plan dedicated
expect_grep "$T/err" "host.conf"

# list and show with the example host.conf
run 0 $EX list
for m in vanilla rt-only dedicated outsourcing; do expect_grep "$T/out" "^$m "; done
run 0 $EX list --json
expect_eq "list --json valid" "$(jq -r '[.[] | select(.valid)] | length' "$T/out")" 4
run 0 $EX show dedicated
expect_grep "$T/out" '^type = dedicated'
expect_no_grep "$T/out" '\$\{'
# every section the file has: [sysfs] (expanded), [cpumask], [irqbalance]
expect_grep "$T/out" '^kernel/mm/ksm/run = 2$'
expect_grep "$T/out" '^devices/system/cpu/cpu1/power/pm_qos_resume_latency_us = 3$'
expect_grep "$T/out" '^irq_default = 0$'
expect_grep "$T/out" '^workqueue = 0$'
expect_grep "$T/out" '^banned = 1$'
expect_eq "show sections" "$(grep '^\[[a-z]*\]$' "$T/out" | tr '\n' ' ')" \
	"[mode] [sysctl] [sysfs] [cpumask] [irqbalance] [cmdline] "
run 0 $EX show dedicated --json
expect_eq "show --json sysctl" "$(jq -r '.sysctl["kernel.sched_rt_runtime_us"]' "$T/out")" "-1"
expect_eq "show --json sysfs" "$(jq -r '.sysfs[] | "\(.path) = \(.value)"' "$T/out")" \
	"kernel/mm/transparent_hugepage/enabled = never
kernel/mm/ksm/run = 2
devices/system/cpu/cpu1/power/pm_qos_resume_latency_us = 3
devices/system/cpu/cpu1/cpufreq/scaling_governor = performance"
expect_eq "show --json cpumask" "$(jq -c .cpumask "$T/out")" '{"irq_default":"0","workqueue":"0"}'
expect_eq "show --json irqbalance" "$(jq -c .irqbalance "$T/out")" '{"banned":"1"}'
run 0 $EX show vanilla --json
expect_eq "show --json vanilla: empty sections" "$(jq -c '[.sysfs, .cpumask, .irqbalance]' "$T/out")" '[[],{},{}]'
run 0 $EX show vanilla
expect_no_grep "$T/out" '^\[(sysfs|cpumask|irqbalance)\]$'

# no policies at all is an error, for check as for list
mkdir -p "$T/nopol"
run 1 $EX --policies "$T/nopol" check
expect_grep "$T/err" '^isoctl: no policies found'
run 1 $EX --policies "$T/nopol" list

# check without a mode validates every policy
run 0 $EX check
expect_grep "$T/out" 'dedicated.conf'

# A broken policy: one FILE:LINE line per error, exit 2, nothing else printed.
mkdir -p "$T/pol"
cp "$TOP/policies/dedicated.conf" "$T/pol/"
cat >"$T/pol/broken.conf" <<'POL'
[mode]
type = dedicated

[thread rt]
match = comm:foo
cpus = 0-1,x
sched = fifo:100
POL
chmod 644 "$T/pol/broken.conf"
run 2 $EX --policies "$T/pol" plan broken
expect_eq "errors" "$(cat "$T/err")" "$T/pol/broken.conf:6: invalid cpu list: unexpected 'x' at position 5 in \"0-1,x\"
$T/pol/broken.conf:7: priority 100 out of range 1..99"
expect_eq "nothing on stdout" "$(cat "$T/out")" ""
run 0 $EX --policies "$T/pol" list
expect_grep "$T/out" '^broken +INVALID'
run 2 $EX --policies "$T/pol" check

# Refused when writable by others (we run as root in CI, as sudo would).
if [ "$(id -u)" = 0 ]; then
	chmod 666 "$T/pol/dedicated.conf"
	run 2 $EX --policies "$T/pol" plan dedicated
	expect_grep "$T/err" 'dedicated.conf: refusing: writable by group or others'
fi
finish
