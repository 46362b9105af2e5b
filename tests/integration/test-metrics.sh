#!/bin/bash
# Prometheus metrics, read by a real node_exporter (Debian's
# prometheus-node-exporter, its textfile collector only, on 127.0.0.1):
# isoctl status --prometheus on a tree before and after an apply, a drift
# and a revert; then the daemon on a copy of the kvm16 tree and a private
# bus keeping metrics-file in a directory node_exporter reads, scraped with
# curl after the apply, a drift found by verify and the revert: our series
# parse (node_textfile_scrape_error 0) and carry the right values.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dbus-lib.sh"
: "${ISOLATED:?}"
NE=/usr/bin/prometheus-node-exporter
[ -x "$NE" ] || { fail "node_exporter is not installed (apt-get install prometheus-node-exporter)"; finish; }
command -v curl >/dev/null || { fail "curl is not installed (apt-get install curl)"; finish; }

pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT

# ---- isoctl status --prometheus, direct, on a tree ----
cp -a "$FIX/kvm16" "$T/t"
run 0 --root "$T/t" status --prometheus
expect_grep "$T/out" '^isolated_mode_info\{mode="vanilla",scope=""\} 1$'
expect_grep "$T/out" '^isolated_managed_targets\{kind="sysctl"\} 0$'
expect_no_grep "$T/out" '^isolated_events_total'
run 0 --root "$T/t" apply dedicated
echo 1 >"$T/t/proc/sys/kernel/timer_migration"
run 0 --root "$T/t" status --prometheus
expect_grep "$T/out" '^# TYPE isolated_mode_info gauge$'
expect_grep "$T/out" '^isolated_mode_info\{mode="dedicated",scope="host"\} 1$'
expect_grep "$T/out" '^isolated_managed_targets\{kind="irq-affinity"\} 48$'
expect_grep "$T/out" '^isolated_managed_targets\{kind="sysctl"\} 6$'
expect_grep "$T/out" '^isolated_drifted_targets 1$'
expect_grep "$T/out" '^isolated_mode_applied_timestamp_seconds [1-9][0-9]+$'
run 2 --root "$T/t" status --prometheus --json
expect_grep "$T/err" '^isoctl: --prometheus and --json: choose one$'
run 2 --root "$T/t" verify --prometheus
expect_grep "$T/err" '^isoctl: --prometheus is an option of status only$'
run 0 --root "$T/t" revert --force
run 0 --root "$T/t" status --prometheus
expect_grep "$T/out" '^isolated_mode_info\{mode="vanilla",scope=""\} 1$'

# ---- the daemon's file through node_exporter ----
tree=$T/kvm16
cp -a "$FIX/kvm16" "$tree"
mkdir -p "$T/textfile"
start_private_bus "$T/bus" || { fail "no private bus"; finish; }
printf '[daemon]\nrescan-interval = 3600\nmetrics-file = %s/textfile/isolated.prom\n' "$T" >"$T/isolated.conf"
start_tree_daemon "$tree" "$TOP/policies" --conf "$T/isolated.conf"
pids+=("$DPID")
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$NE" --web.listen-address="127.0.0.1:$port" --collector.disable-defaults --collector.textfile \
	--collector.textfile.directory="$T/textfile" >"$T/ne.log" 2>&1 &
pids+=($!)
scrape() { curl -fsS --max-time 5 "http://127.0.0.1:$port/metrics" >"$T/scrape" 2>"$T/curl.err"; }
# until_scraped PATTERN: scrape (the daemon writes within a second of a
# change) until PATTERN is in it, 10 s at most.
until_scraped() {
	for _ in $(seq 100); do
		scrape && grep -Eq -- "$1" "$T/scrape" && return 0
		sleep 0.1
	done
	fail "node_exporter never showed /$1/: $(grep isolated_mode_info "$T/scrape") $(cat "$T/curl.err")"
	return 1
}
until_scraped '^isolated_mode_info\{mode="vanilla",scope="",state="idle"\} 1$'
expect_grep "$T/scrape" '^node_textfile_scrape_error 0$'
"$ISOCTL" apply dedicated >"$T/apply.out" 2>&1 || fail "apply through the daemon: $(tail -3 "$T/apply.out")"
until_scraped '^isolated_mode_info\{mode="dedicated",scope="host",state="holding"\} 1$'
[ -n "${SCRAPE_KEEP:-}" ] && cp "$T/scrape" "$SCRAPE_KEEP"
expect_grep "$T/scrape" '^node_textfile_scrape_error 0$'
expect_grep "$T/scrape" '^isolated_managed_targets\{kind="thread-affinity"\} [1-9][0-9]*$'
expect_grep "$T/scrape" '^isolated_last_apply_success 1$'
expect_grep "$T/scrape" '^isolated_last_apply_timestamp_seconds [1-9]'
expect_grep "$T/scrape" '^# TYPE isolated_reaction_seconds histogram$'
expect_grep "$T/scrape" '^isolated_reaction_seconds_bucket\{le="\+Inf"\} [0-9]+$'
expect_grep "$T/scrape" '^# TYPE isolated_rescans_total counter$'
expect_no_grep "$T/scrape" '^isolated_drifted_targets'
# a drift, found by a verify pass
echo 1 >"$tree/proc/sys/kernel/timer_migration"
"$ISOCTL" verify >/dev/null 2>&1
until_scraped '^isolated_drifted_targets 1$'
expect_grep "$T/scrape" 'state="drifted"'
"$ISOCTL" revert --force >"$T/revert.out" 2>&1 || fail "revert: $(tail -3 "$T/revert.out")"
until_scraped '^isolated_mode_info\{mode="vanilla",scope="",state="idle"\} 1$'
expect_grep "$T/scrape" '^isolated_managed_targets\{kind="thread-affinity"\} 0$'
# the file is replaced whole: no temporary file left for node_exporter
expect_eq "textfile directory" "$(ls -A "$T/textfile")" "isolated.prom"
expect_eq "isolated.prom's mode" "$(stat -c %a "$T/textfile/isolated.prom")" 644

finish
