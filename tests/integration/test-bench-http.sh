#!/bin/bash
# isoctl bench --workload http on the running kernel, as root, scoped to its
# own processes: a real lighttpd as the RT service, driven by a real httperf,
# 2 s per mode of vanilla and dedicated. The document must validate against
# tests/data/bench.schema.json, every connection must be answered in every
# mode, dedicated must really give lighttpd the RT CPU and SCHED_FIFO while
# it is in force, and afterwards the host must be as it was (sysctls, no
# journal, no lighttpd of ours, no files in /tmp), also after SIGINT in the
# middle of a run; --plot draws httperf's figures, a row per mode. Figures
# are printed, not asserted.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/bench-lib.sh"

bench_preconditions
for p in lighttpd httperf; do
	PATH=$PATH:/usr/sbin command -v $p >/dev/null || { fail "$p is not installed (apt-get install $p)"; finish; }
done
SCHEMA=$TOP/tests/data/bench.schema.json

bench_save_host
# lighttpd processes of ours: children of a bench, config in /tmp/isobench-http.*.
ours() { pgrep -f 'lighttpd -D -f /tmp/isobench-http\.'; }

shipped_modes
dirs_before=$(ls -d /tmp/isobench-http.* 2>/dev/null | sort)

host_clean() { # WHEN
	expect_eq "$1: sysctls" "$(sysctls)" "$before"
	expect_eq "$1: the mode held" "$(held_mode)" vanilla
	[ -n "$(ours)" ] && fail "$1: a lighttpd of the bench is left: $(ours)"
	pgrep -x httperf >/dev/null && fail "$1: an httperf is left"
	expect_eq "$1: lighttpd's files" "$(ls -d /tmp/isobench-http.* 2>/dev/null | sort)" "$dirs_before"
	ip -o link 2>/dev/null | grep -q isobench && fail "$1: an isobench link is in the host's namespace"
	return 0
}

# ---- arguments ----
run 2 --policies "$T/shipped" bench --workload ftp vanilla
expect_grep "$T/err" '^isoctl: --workload ftp: probes \(the default\), http or memcached$'
run 2 --policies "$T/shipped" bench --rate 10 vanilla
expect_grep "$T/err" '^isoctl: --rate and --conns: options of --workload http$'
run 2 --policies "$T/shipped" bench --workload http --rate 0 vanilla
expect_grep "$T/err" '^isoctl: --rate 0: a number from 1 to 10000$'
run 2 --policies "$T/shipped" bench --workload http --conns 20 --duration 5 vanilla
expect_grep "$T/err" '^isoctl: --conns and --duration: give one'
run 2 --policies "$T/shipped" bench --workload http --probe cyclictest vanilla
expect_grep "$T/err" '^isoctl: --probe: an option of the probes'
run 2 status --workload http
expect_grep "$T/err" 'options of bench only'
PATH=/nonexistent "$ISOCTL" --policies "$T/shipped" bench --workload http vanilla >"$T/out" 2>"$T/err"
expect_eq "bench without httperf: exit status" "$?" 1
expect_grep "$T/err" '^isoctl: --workload http: httperf is not installed \(apt-get install httperf\)$'
host_clean "after the argument errors"

# ---- a server or a client that fails: said with its own last words ----
mkdir -p "$T/bin"
cat >"$T/fake-lighttpd" <<'EOF'
#!/bin/sh
# as lighttpd does, into the error log of its configuration (-D -f CONF)
echo "2026-12-04 10:00:00: (network.c.1) can't bind to socket: fake" >>"$(dirname "$3")/error.log"
exit 255
EOF
cat >"$T/fake-httperf" <<'EOF'
#!/bin/sh
echo "httperf: warning: open file limit > FD_SETSIZE"
echo "httperf: fake: connection refused"
echo
exit 1
EOF
chmod +x "$T/fake-lighttpd" "$T/fake-httperf"
cp "$T/fake-lighttpd" "$T/bin/lighttpd"
PATH=$T/bin:$PATH run 1 --policies "$T/shipped" bench --workload http --conns 5 vanilla
expect_grep "$T/err" "^isoctl: bench: lighttpd ended \(exit status 255\): 2026-12-04 10:00:00: \(network.c.1\) can't bind to socket: fake$"
host_clean "after lighttpd failed"
rm "$T/bin/lighttpd"
cp "$T/fake-httperf" "$T/bin/httperf"
PATH=$T/bin:$PATH run 1 --policies "$T/shipped" bench --workload http --conns 5 vanilla
expect_grep "$T/err" '^isoctl: bench: httperf failed \(exit status 1\): httperf: fake: connection refused$'
host_clean "after httperf failed"
rm "$T/bin/httperf"

# ---- the short run: JSON; catch dedicated in force and look at lighttpd ----
bench_server_run lighttpd --policies "$T/shipped" bench --workload http --duration 2 --warmup 1 --json --plot "$T/http.svg" \
	vanilla dedicated
$PY - "$SCHEMA" "$T/bench.json" <<'EOF' || fail "bench.json: schema or structure"
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
d = json.load(open(sys.argv[2]))
jsonschema.validate(d, schema)
assert d["config"]["workload"] == "http", d["config"]["workload"]
assert d["config"]["http"]["conns"] == 20 and d["config"]["http"]["rate"] == 10, d["config"]["http"]
assert [m["mode"] for m in d["modes"]] == ["vanilla", "dedicated"]
assert d["calibration"]["http"]["replies"] > 0
for m in d["modes"]:
    h = m["http"]
    assert h["conns"] == 20 and h["replies"] == 20 and h["status_2xx"] == 20, (m["mode"], h)
    assert h["errors"] == 0, (m["mode"], h)
    assert h["conn_min_ms"] <= h["conn_avg_ms"] <= h["conn_max_ms"], (m["mode"], h)
    assert m["probes"]["wakeup"]["samples"] == 0, "the probes do not run with --workload http"
    assert m["load"]["stream_MBps"] > 0 and m["load"]["hog_ops_per_s"] > 0, m["load"]
    print("%-10s http conn min %.1f avg %.1f max %.1f median %.1f stddev %.1f ms | reply %.1f ms | stream %.0f MB/s" % (
        m["mode"], h["conn_min_ms"], h["conn_avg_ms"], h["conn_max_ms"], h["conn_median_ms"],
        h["conn_stddev_ms"], h["response_ms"], m["load"]["stream_MBps"]))
assert d["modes"][1]["relative"]["http"] is not None
EOF
expect_grep "$T/http.svg" '<g class="panel" id="http">'
expect_eq "--plot: a row per mode and the calibration" "$(grep -c '<g class="http-row">' "$T/http.svg")" 3
expect_no_grep "$T/http.svg" 'id="wakeup"'
host_clean "after the JSON run"

# ---- table and CSV, loopback ----
run 0 --policies "$T/shipped" bench --workload http --conns 10 --warmup 0 --net loopback --load cpu vanilla dedicated
expect_grep "$T/out" '^workload     http: lighttpd \(the RT service\) serving /index.html \(1 KiB\) over loopback'
expect_grep "$T/out" '^HTTP \(httperf against lighttpd\), connection time and reply time, ms$'
expect_grep "$T/out" '^  vs vanilla'
expect_no_grep "$T/out" 'wakeup latency'
run 0 --policies "$T/shipped" bench --workload http --conns 5 --warmup 0 --load none --csv vanilla
expect_eq "CSV lines (header, calibration, vanilla)" "$(wc -l <"$T/out")" 3
expect_grep "$T/out" '^mode,conns,replies,errors,conn_min_ms,'
expect_grep "$T/out" '^vanilla,5,5,0,'
host_clean "after the table and CSV runs"

# ---- SIGINT in the middle: reverted, lighttpd and its files gone ----
bench_sigint --policies "$T/shipped" bench --workload http --duration 60 --warmup 0 vanilla dedicated

finish
