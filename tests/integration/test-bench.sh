#!/bin/bash
# isoctl bench on the running kernel, as root, scoped to its own processes:
# a short run (2 s per mode, vanilla and dedicated) must produce a document
# that validates against tests/data/bench.schema.json with samples from
# every probe in every mode; the dedicated mode must really govern the
# bench's probe threads while it is in force; afterwards the host must be as
# it was (sysctls, no journal, no namespaces, links or processes left), also
# after SIGINT in the middle of a run. Figures are printed, not asserted.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/bench-lib.sh"

bench_preconditions
SCHEMA=$TOP/tests/data/bench.schema.json

bench_save_host
bench_cleanup_more() { pkill -9 -f '^isobench-vm --bench-vm' 2>/dev/null; }

shipped_modes

# The host as isolated found it: no journal, no bench processes, no links.
host_clean() { # WHEN
	local now
	now=$(sysctls)
	expect_eq "$1: sysctls" "$now" "$before"
	expect_eq "$1: the mode held" "$(held_mode)" vanilla
	pgrep -f '^isobench-vm --bench-vm' >/dev/null && fail "$1: an isobench-vm process is left"
	pgrep -x isobench-hog >/dev/null && fail "$1: a CPU hog is left"
	ip -o link 2>/dev/null | grep -q isobench && fail "$1: an isobench link is in the host's namespace"
	return 0
}

validate() { # FILE
	$PY - "$SCHEMA" "$1" <<'EOF' || fail "$(basename "$1") does not validate against bench.schema.json"
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
jsonschema.validate(json.load(open(sys.argv[2])), schema, format_checker=jsonschema.FormatChecker())
EOF
}

# ---- arguments ----
run 2 bench
expect_grep "$T/err" '^isoctl: usage: isoctl bench '
run 2 --policies "$T/shipped" bench nosuchmode
expect_grep "$T/err" 'unknown mode "nosuchmode"'
run 2 --policies "$T/shipped" bench 'bad/name'
expect_grep "$T/err" 'is not a mode name'
run 2 --policies "$T/shipped" bench --duration 0 vanilla
expect_grep "$T/err" '^isoctl: --duration 0: from 1s to 1h$'
run 2 --policies "$T/shipped" bench --duration soon vanilla
expect_grep "$T/err" '^isoctl: --duration soon: not a duration'
run 2 --policies "$T/shipped" bench --rounds 0 vanilla
expect_grep "$T/err" '^isoctl: --rounds 0: a number from 1 to 100$'
run 2 --policies "$T/shipped" bench --probe dtrace vanilla
expect_grep "$T/err" '^isoctl: --probe dtrace: isolated or cyclictest$'
run 2 --policies "$T/shipped" bench --net wifi vanilla
expect_grep "$T/err" '^isoctl: --net wifi: veth or loopback$'
run 2 --policies "$T/shipped" bench --load disk vanilla
expect_grep "$T/err" '^isoctl: --load disk: '
run 2 --policies "$T/shipped" bench --scope process:1 vanilla
expect_grep "$T/err" '^isoctl: --scope process:1: bench takes only --scope host'
run 2 --policies "$T/shipped" bench --json --csv vanilla
expect_grep "$T/err" '^isoctl: --json and --csv: choose one$'
run 2 status --duration 5
expect_grep "$T/err" 'options of bench only'
run 2 --policies "$T/shipped" bench --rt-cpus 0-4095 vanilla
expect_grep "$T/err" '^isoctl: --rt-cpus 0-4095: '
setpriv --reuid=65534 --regid=65534 --clear-groups "$ISOCTL" --policies "$T/shipped" bench vanilla >"$T/out" 2>"$T/err"
expect_eq "bench as nobody: exit status" "$?" 1
expect_grep "$T/err" '^isoctl: bench needs root'
host_clean "after the argument errors"

# ---- a mode in force: the bench refuses and changes nothing ----
mkdir -p "$T/pol" "$T/conf"
cat >"$T/pol/pin.conf" <<'EOF'
[mode]
name = pin
summary = the test's sleep on CPU 0
type = rt-only
[thread s]
match = comm:sleep
cpus = 0
EOF
: >"$T/conf/host.conf"
sleep 300 &
spid=$!
if run 0 --policies "$T/pol" --config "$T/conf" --direct apply pin --scope process:$spid; then
	run 1 --policies "$T/shipped" bench --duration 1 vanilla
	expect_grep "$T/err" '^isoctl: mode pin is in force \(scope process:[0-9]+\); .*isoctl revert first$'
	run 0 --policies "$T/pol" --config "$T/conf" --direct revert
fi
kill $spid
wait $spid 2>/dev/null

# ---- the short run: JSON ----
# While it runs, catch the dedicated mode in force and look at the probes.
"$ISOCTL" --policies "$T/shipped" bench --duration 2 --warmup 1 --json vanilla dedicated >"$T/bench.json" 2>"$T/bench.err" &
bpid=$!
seen_dedicated=
while kill -0 $bpid 2>/dev/null; do
	if [ "$(held_mode)" = dedicated ]; then
		vm=$(pgrep -f '^isobench-vm --bench-vm' | head -1)
		for t in /proc/$vm/task/*; do
			[ "$(cat $t/comm 2>/dev/null)" = "CPU 1/KVM" ] || continue
			pol=$(chrt -p ${t##*/} 2>/dev/null | sed -n 's/.*policy: //p')
			cpus=$(taskset -cp ${t##*/} 2>/dev/null | sed 's/.*: //')
			# Read again: the mode may have ended between the two reads.
			if [ "$(held_mode)" = dedicated ]; then
				seen_dedicated="$pol on $cpus"
			fi
		done
		[ -n "$seen_dedicated" ] && break
	fi
	sleep 0.05
done
wait $bpid
st=$?
bpid=
expect_eq "bench --json: exit status" "$st" 0
[ "$st" = 0 ] || cat "$T/bench.err" >&2
last=$(($(nproc) - 1))
expect_eq "the wakeup probe under dedicated" "$seen_dedicated" "SCHED_FIFO on $last"
validate "$T/bench.json"
$PY - "$T/bench.json" <<'EOF' || fail "bench.json: structure"
import json, sys
d = json.load(open(sys.argv[1]))
modes = [m["mode"] for m in d["modes"]]
assert modes == ["vanilla", "dedicated"], modes
for m in d["modes"]:
    for p in ("wakeup", "netrt"):
        s = m["probes"][p]
        assert s["samples"] > 0, (m["mode"], p, s["samples"])
        assert s["p50_us"] <= s["p99_us"] <= s["p999_us"] <= s["max_us"], (m["mode"], p)
        assert sum(b[2] for b in s["histogram"]) == s["samples"], (m["mode"], p)
    # 2 s at one wakeup a millisecond
    assert m["probes"]["wakeup"]["samples"] > 1000, m["probes"]["wakeup"]["samples"]
    assert m["load"]["stream_MBps"] > 0 and m["load"]["hog_ops_per_s"] > 0, m["load"]
assert d["modes"][0]["relative"] is None
assert d["modes"][1]["relative"]["against"] == "vanilla"
assert any("sched_rt_runtime_us" in h for h in d["config"]["held_back"]), d["config"]["held_back"]
assert d["modes"][1]["changed"] > 0
for m in d["modes"]:
    w, n = m["probes"]["wakeup"], m["probes"]["netrt"]
    print("%-10s wakeup p50 %.1f p99 %.1f max %.1f | netrt p50 %.1f p99 %.1f | stream %.0f MB/s" % (
        m["mode"], w["p50_us"], w["p99_us"], w["max_us"], n["p50_us"], n["p99_us"], m["load"]["stream_MBps"]))
EOF
host_clean "after the JSON run"

# A document that lacks a key must not validate: the schema is not vacuous.
$PY - "$SCHEMA" "$T/bench.json" <<'EOF' || fail "the schema accepts a document without modes[0].probes"
import json, sys, jsonschema
d = json.load(open(sys.argv[2]))
del d["modes"][0]["probes"]
try:
    jsonschema.validate(d, json.load(open(sys.argv[1])))
except jsonschema.ValidationError:
    sys.exit(0)
sys.exit(1)
EOF

# ---- table, CSV, plot; loopback, CPU load only ----
run 0 --policies "$T/shipped" bench --duration 1 --warmup 0 --net loopback --load cpu --plot "$T/b.svg" \
	--output "$T/saved.json" vanilla dedicated
# --output: the --json document with what identifies this host and modes.
validate "$T/saved.json"
$PY - "$T/saved.json" "$T/shipped/dedicated.conf" <<'EOF' || fail "saved.json: the host or the policy CRC is not this one's"
import json, os, sys, zlib
d = json.load(open(sys.argv[1]))
h = d["host"]
assert h["kernel"] == os.uname().release, h["kernel"]
assert h["online_cpus"] == os.cpu_count(), h["online_cpus"]
assert h["cmdline"] == open("/proc/cmdline").read().strip(), h["cmdline"]
assert h["cpu_model"], h
crc = "%08x" % zlib.crc32(open(sys.argv[2], "rb").read())
assert d["modes"][1]["policy_crc32"] == crc, (d["modes"][1]["policy_crc32"], crc)
EOF
expect_grep "$T/out" 'wakeup'
expect_grep "$T/out" 'NetRT'
expect_grep "$T/out" 'vs vanilla'
$PY -c 'import xml.dom.minidom,sys; xml.dom.minidom.parse(sys.argv[1])' "$T/b.svg" || fail "b.svg is not well-formed"
expect_grep "$T/b.svg" 'dedicated'
run 0 --policies "$T/shipped" bench --duration 1 --warmup 0 --load none --csv vanilla
expect_no_grep "$T/err" 'warning'
expect_eq "CSV lines (header, calibration and vanilla for two probes)" "$(wc -l <"$T/out")" 5
expect_grep "$T/out" '^mode,probe,samples,'
# rt-only needs threaded IRQs: on a kernel without them the bench says so.
run 0 --policies "$T/shipped" bench --duration 1 --warmup 0 --load none --csv rt-only
if [ "$(cat /sys/kernel/realtime 2>/dev/null)" != 1 ] && ! grep -qw threadirqs /proc/cmdline &&
	! grep -q PREEMPT_RT /proc/sys/kernel/version; then
	expect_grep "$T/err" '^isoctl: bench: warning: rt-only requires threaded IRQs \(PREEMPT_RT or threadirqs\)'
else
	expect_no_grep "$T/err" 'warning'
fi
host_clean "after the table and CSV runs"

# ---- --rounds: the modes alternate, each round kept, the spread shown ----
run 0 --policies "$T/shipped" bench --duration 1 --warmup 0 --load cpu --net loopback --rounds 2 vanilla dedicated
expect_eq "rounds alternate" "$(grep -o '^isoctl bench: [a-z-]* (round [0-9] of 2)' "$T/err" | sed 's/^isoctl bench: //')" \
	"vanilla (round 1 of 2)
dedicated (round 1 of 2)
vanilla (round 2 of 2)
dedicated (round 2 of 2)"
expect_grep "$T/out" '^over 2 rounds, the modes alternating: median \[range of the median\]; \* apart from vanilla$'
run 0 --policies "$T/shipped" bench --duration 1 --warmup 0 --load cpu --net loopback --rounds 2 --json vanilla dedicated
cp "$T/out" "$T/rounds.json"
validate "$T/rounds.json"
expect_eq "rounds kept" "$(jq -c '[.config.rounds, (.modes[] | .rounds | length)]' "$T/rounds.json")" "[2,2,2]"
expect_eq "the merged histogram holds both rounds" \
	"$(jq '[.modes[0].probes.wakeup.samples > 1500] | all' "$T/rounds.json")" true
host_clean "after --rounds"

# ---- cyclictest as the wakeup probe ----
if command -v cyclictest >/dev/null; then
	run 0 --policies "$T/shipped" bench --duration 2 --warmup 0 --probe cyclictest --json vanilla dedicated &&
		$PY - "$T/out" <<'EOF' || fail "bench --probe cyclictest: no samples"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["config"]["probe_tool"] == "cyclictest"
for m in d["modes"]:
    assert m["probes"]["wakeup"]["samples"] > 1000, m["probes"]["wakeup"]["samples"]
    print("cyclictest %-10s p50 %.1f p99 %.1f" % (m["mode"], m["probes"]["wakeup"]["p50_us"], m["probes"]["wakeup"]["p99_us"]))
EOF
	host_clean "after the cyclictest run"
else
	fail "cyclictest is not installed (apt-get install rt-tests)"
fi

# ---- SIGINT in the middle: reverted, nothing left ----
bench_sigint --policies "$T/shipped" bench --duration 60 --warmup 0 vanilla dedicated

finish
