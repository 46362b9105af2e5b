#!/bin/bash
# isoctl bench --workload memcached on the running kernel, as root, scoped to
# its own processes: a real memcached as the RT service, driven by a real
# memaslap (libmemcached-tools), 2 s per mode of vanilla and dedicated. The
# document must validate against tests/data/bench.schema.json, memaslap's
# gets and sets must be timed in every mode, dedicated must really give
# memcached the RT CPU and SCHED_FIFO while it is in force, --plot must draw
# the get and set panels, and afterwards the host must be as it was
# (sysctls, no journal, no memcached or memaslap of ours), also after SIGINT
# in the middle of a run. Figures are printed, not asserted.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/bench-lib.sh"

bench_preconditions
for p in memcached:memcached memcaslap:libmemcached-tools; do
	command -v "${p%%:*}" >/dev/null || { fail "${p%%:*} is not installed (apt-get install ${p#*:})"; finish; }
done
SCHEMA=$TOP/tests/data/bench.schema.json

bench_save_host
# memcached processes of ours: the bench's command line (Debian's own
# memcached service runs as user memcache on 127.0.0.1).
ours() { pgrep -f '^(/usr)?/bin/memcached -u nobody -l [0-9.]+ -p 11211 -U 0 -t 1 -m 64$'; }

shipped_modes

host_clean() { # WHEN
	expect_eq "$1: sysctls" "$(sysctls)" "$before"
	expect_eq "$1: the mode held" "$(held_mode)" vanilla
	[ -n "$(ours)" ] && fail "$1: a memcached of the bench is left: $(ours)"
	pgrep -x memcaslap >/dev/null && fail "$1: a memaslap is left"
	ip -o link 2>/dev/null | grep -q isobench && fail "$1: an isobench link is in the host's namespace"
	return 0
}

# ---- arguments ----
run 2 --policies "$T/shipped" bench --workload ftp vanilla
expect_grep "$T/err" '^isoctl: --workload ftp: probes \(the default\), http or memcached$'
run 2 --policies "$T/shipped" bench --workload memcached --rate 10 vanilla
expect_grep "$T/err" '^isoctl: --rate and --conns: options of --workload http$'
run 2 --policies "$T/shipped" bench --workload memcached --interval 100 vanilla
expect_grep "$T/err" '^isoctl: --interval: an option of the probes; --workload memcached measures memcached with memaslap$'
PATH=/nonexistent "$ISOCTL" --policies "$T/shipped" bench --workload memcached vanilla >"$T/out" 2>"$T/err"
expect_eq "bench without memcached: exit status" "$?" 1
expect_grep "$T/err" '^isoctl: --workload memcached: memcached is not installed \(apt-get install memcached\)$'
mkdir -p "$T/only"
ln -s /usr/bin/memcached "$T/only/memcached"
PATH=$T/only "$ISOCTL" --policies "$T/shipped" bench --workload memcached vanilla >"$T/out" 2>"$T/err"
expect_eq "bench without memaslap: exit status" "$?" 1
expect_grep "$T/err" '^isoctl: --workload memcached: memcaslap is not installed \(apt-get install libmemcached-tools\)$'
host_clean "after the argument errors"

# ---- a server or a client that fails: said with its own last words ----
mkdir -p "$T/bin"
cat >"$T/fake-memcached" <<'EOF'
#!/bin/sh
echo "failed to listen on TCP port 11211: fake" >&2
exit 71
EOF
cat >"$T/fake-memcaslap" <<'EOF'
#!/bin/sh
echo "servers: fake"
echo "memaslap: fake: connection refused"
exit 1
EOF
cat >"$T/short-memcaslap" <<'EOF'
#!/bin/sh
echo "Get Statistics"
echo "Period   1        65460        65460        67.9       0          8        2179       54"
exit 0
EOF
chmod +x "$T/fake-memcached" "$T/fake-memcaslap" "$T/short-memcaslap"
cp "$T/fake-memcached" "$T/bin/memcached"
PATH=$T/bin:$PATH run 1 --policies "$T/shipped" bench --workload memcached --duration 1 vanilla
expect_grep "$T/err" '^failed to listen on TCP port 11211: fake$'
expect_grep "$T/err" '^isoctl: bench: memcached ended \(exit status 71\)$'
host_clean "after memcached failed"
rm "$T/bin/memcached"
cp "$T/fake-memcaslap" "$T/bin/memcaslap"
PATH=$T/bin:$PATH run 1 --policies "$T/shipped" bench --workload memcached --duration 1 vanilla
expect_grep "$T/err" '^isoctl: bench: memaslap failed \(exit status 1\): memaslap: fake: connection refused$'
host_clean "after memaslap failed"
cp "$T/short-memcaslap" "$T/bin/memcaslap"
PATH=$T/bin:$PATH run 1 --policies "$T/shipped" bench --workload memcached --duration 1 vanilla
expect_grep "$T/err" "^isoctl: bench: memaslap's report has no \"Get Statistics \(\", \"Set Statistics \(\" or \"Run time:\" line$"
host_clean "after memaslap's report was cut short"
rm "$T/bin/memcaslap"

# ---- the short run: JSON and plot; catch dedicated in force and look at memcached ----
bench_server_run memcached --policies "$T/shipped" bench --workload memcached --duration 2 --warmup 1 --json --plot "$T/mc.svg" \
	vanilla dedicated
$PY - "$SCHEMA" "$T/bench.json" <<'EOF' || fail "bench.json: schema or structure"
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
d = json.load(open(sys.argv[2]))
jsonschema.validate(d, schema)
assert d["config"]["workload"] == "memcached", d["config"]["workload"]
assert d["config"]["memcached"]["client"] == "memcaslap", d["config"]["memcached"]
assert [m["mode"] for m in d["modes"]] == ["vanilla", "dedicated"]
assert d["calibration"]["memcached"]["ops"] > 0
for m in d["modes"]:
    mc = m["memcached"]
    assert "wakeup" not in m["probes"], "the probes do not run with --workload memcached"
    g, s = m["probes"]["get"], m["probes"]["set"]
    assert g["samples"] > 0 and s["samples"] > 0, (m["mode"], g["samples"], s["samples"])
    # memaslap's counters and its timed requests agree (a few in flight at the end)
    assert abs(mc["gets"] - g["samples"]) <= 16 and abs(mc["sets"] - s["samples"]) <= 16, (m["mode"], mc)
    assert mc["get_misses"] <= mc["gets"] and mc["ops_per_s"] > 0, mc
    assert g["min_us"] <= g["p50_us"] <= g["p99_us"] <= g["max_us"], g
    assert m["load"]["stream_MBps"] > 0 and m["load"]["hog_ops_per_s"] > 0, m["load"]
    print("%-10s get p50 <=%.0f p99 <=%.0f max %.0f us | set p50 <=%.0f p99 <=%.0f us | %.0f ops/s | stream %.0f MB/s" % (
        m["mode"], g["p50_us"], g["p99_us"], g["max_us"], s["p50_us"], s["p99_us"], mc["ops_per_s"],
        m["load"]["stream_MBps"]))
assert d["modes"][1]["relative"]["memcached"] is not None
assert set(d["modes"][1]["relative"]) >= {"get", "set"}
EOF
expect_grep "$T/mc.svg" '<g class="panel" id="get">'
expect_grep "$T/mc.svg" '<g class="panel" id="set">'
expect_no_grep "$T/mc.svg" 'id="wakeup"'
host_clean "after the JSON run"

# ---- table and CSV, loopback ----
run 0 --policies "$T/shipped" bench --workload memcached --duration 1 --warmup 0 --net loopback --load cpu vanilla dedicated
expect_grep "$T/out" '^workload     memcached: memcached \(the RT service, 1 worker thread\) over loopback'
expect_grep "$T/out" '^memcached get, µs$'
expect_grep "$T/out" '^memcached set, µs$'
expect_grep "$T/out" '^memcached \(memaslap\), requests$'
expect_grep "$T/out" '^  vs vanilla'
expect_no_grep "$T/out" 'wakeup latency'
run 0 --policies "$T/shipped" bench --workload memcached --duration 1 --warmup 0 --load none --csv vanilla
expect_eq "CSV lines (header, calibration get and set, vanilla get and set)" "$(wc -l <"$T/out")" 5
expect_grep "$T/out" '^mode,probe,samples,mean_us,'
expect_grep "$T/out" '^vanilla,get,[1-9]'
expect_grep "$T/out" '^vanilla,set,[1-9]'
host_clean "after the table and CSV runs"

# ---- SIGINT in the middle: reverted, memcached and memaslap gone ----
bench_sigint --policies "$T/shipped" bench --workload memcached --duration 60 --warmup 0 vanilla dedicated

finish
