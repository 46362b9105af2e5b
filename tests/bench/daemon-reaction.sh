#!/bin/bash
# A benchmark, not a test: prints numbers, asserts nothing.
#
#   tests/bench/daemon-reaction.sh [BUILD] [--held LIST] [--hold-timeout S] [--no-storm]
#       (as root; BUILD relative to the source tree or absolute, default build)
#
# Runs the built daemon on a private bus against this machine, holding a
# mode scoped to the benchmark's own process tree (nothing else is touched),
# and prints:
#   - the delay between a thread's rename to "CPU N/KVM" and its affinity
#     and SCHED_FIFO priority being visible (200 threads: p50, p99, max),
#     and the daemon's CPU time per such thread;
#   - the same for newly exec'd processes matched by name;
#   - the daemon's CPU time per process start during a storm of 2000
#     unmatched process starts (schedstat of all its threads);
#   - the storm of 20 000 thread creations of which 5 000 match (threadstorm
#     storm-mixed): how many of the 5 000 were caught (on CPU 1, fifo:10)
#     once the daemon was quiet again, and its CPU time for the storm, per
#     thread created and per matched thread (a daemon of its own);
#   - "already managed": for each H of LIST (default 100,1000,10000; none:
#     skip), a daemon of its own first manages H vCPU threads created in a
#     burst (reaction-bench threads --hold H), then 200 more are renamed one
#     at a time and measured: p50, p99, max, daemon CPU per held and per
#     measured thread. When the H are not all changed within S seconds
#     (default 300), that row is not measured and says so.
# Nothing may hold this machine already (/run/isolated/journal). Each daemon
# is stopped with SIGTERM (revert-on-stop); a journal it leaves is reverted
# with isoctl --direct revert, and said. Needs make and make helpers.
set -u
# shellcheck source=tests/bench/bench-lib.sh
. "$(dirname "$0")/bench-lib.sh"
build_arg=build held="100,1000,10000" hold_timeout=300 storm=1
while [ $# -gt 0 ]; do
	case $1 in
	--held) held=${2:?--held LIST}; shift 2 ;;
	--hold-timeout) hold_timeout=${2:?--hold-timeout S}; shift 2 ;;
	--no-storm) storm=; shift ;;
	-*) echo "usage: $0 [BUILD] [--held LIST] [--hold-timeout S] [--no-storm]" >&2; exit 2 ;;
	*) build_arg=$1; shift ;;
	esac
done
[ "$held" == none ] && held=
bench_setup "$0" "$build_arg"
bench_need "$ISOLATED" all
bench_need "$ISOCTL" all
bench_need "$HELPERS/reaction-bench" helpers
bench_need "$HELPERS/threadstorm" helpers
bench_need_cmd busctl systemd
bench_need_cmd dbus-daemon dbus-daemon
bench_need_done
bench_live_ok

# shellcheck source=tests/integration/dbus-lib.sh
. "$TOP/tests/integration/dbus-lib.sh"
T=$(mktemp -d)
cleanup() {
	isolated_stop
	[ -n "${STORM_PID:-}" ] && kill "$STORM_PID" 2>/dev/null
	scope_stop
	stop_private_bus
	wait 2>/dev/null
	rm -rf "$T"
}
# The daemon is stopped before its bus (dbus-lib.sh's trap would stop the
# bus first: it adds nothing to a trap that names stop_private_bus).
trap 'cleanup; stop_private_bus' EXIT
# A signal ends the run through cleanup too: no daemon, no journal left.
trap 'exit 129' HUP PIPE
trap 'exit 130' INT
trap 'exit 143' TERM
start_private_bus "$T/bus" || exit 1
scope_start "$T" || exit 1
reaction_policies "$T"

isolated_start "$T" "$T/pol" "$T/host.conf" bench || exit 1
echo "== renamed threads (200)"
run_in_scope "'$HELPERS/reaction-bench' threads 200 --cpus 1 --fifo 10 --daemon-pid $DPID >'$T/r1' 2>&1"
cat "$T/r1"
echo "== exec'd processes matched by name (200)"
run_in_scope "'$HELPERS/reaction-bench' exec 200 isobench-rt --watch --cpus 1 --fifo 10 --daemon-pid $DPID >'$T/r2' 2>&1"
cat "$T/r2"
echo "== storm of 2000 process starts (not matched)"
c0=$(tree_cpu_ns "$DPID")
t0=$(date +%s.%N)
run_in_scope "'$HELPERS/threadstorm' exec 2000 /bin/true >/dev/null"
wait_quiet "$DPID"
c1=$(tree_cpu_ns "$DPID")
t1=$(date +%s.%N)
# fork + exec per start reach the daemon (exits are filtered by the kernel
# on 6.6+): about 2 events per start; the per-start figure is exact.
awk -v c=$((c1 - c0)) -v t0="$t0" -v t1="$t1" 'BEGIN {
	us = c / 1000
	printf "daemon CPU: %.1f ms over %.2f s: %.1f us per process start, %.1f us per event (~2 per start)\n",
		us / 1000, t1 - t0, us / 2000, us / 4000 }'
isolated_stop

if [ -n "$storm" ]; then
	echo "== storm: 20000 thread creations, 5000 of them matched (comm isostorm-keep -> CPU 1, fifo:10)"
	mkdir -p "$T/storm"
	isolated_start "$T/storm" "$T/pol" "$T/host.conf" bench || exit 1
	mkfifo "$T/storm/in"
	c0=$(tree_cpu_ns "$DPID")
	t0=$(date +%s.%N)
	run_in_scope "'$HELPERS/threadstorm' storm-mixed 20000 isostorm-short 5000 isostorm-keep <'$T/storm/in' >'$T/storm/out' 2>&1 &"
	exec 5>"$T/storm/in"
	STORM_PID=
	for _ in $(seq 6000); do
		read -r word pid 2>/dev/null <"$T/storm/out" && [ "$word" == ready ] && { STORM_PID=$pid; break; }
		grep -q threadstorm: "$T/storm/out" && break
		sleep 0.1
	done
	if [ -z "$STORM_PID" ]; then
		echo "threadstorm did not get ready: $(cat "$T/storm/out")"
	else
		t1=$(date +%s.%N)
		wait_quiet "$DPID"
		c1=$(tree_cpu_ns "$DPID")
		read -r matched caught < <(count_wanted "$STORM_PID" isostorm-keep)
		sleep 2
		read -r _ later < <(count_wanted "$STORM_PID" isostorm-keep)
		awk -v c=$((c1 - c0)) -v t0="$t0" -v t1="$t1" -v m="$matched" -v k="$caught" -v l="$later" 'BEGIN {
			printf "caught: %d of the %d matched threads (20000 created) once the daemon was quiet; %d 2 s later\n", k, m, l
			printf "daemon CPU: %.1f ms (storm of %.2f s, then until quiet): %.1f us per thread created, %.1f us per matched thread\n",
				c / 1e6, t1 - t0, c / 1000 / 20000, c / 1000 / 5000 }'
	fi
	exec 5>&-
	for _ in $(seq 300); do
		[ -z "$STORM_PID" ] || ! kill -0 "$STORM_PID" 2>/dev/null && break
		sleep 0.1
	done
	STORM_PID=
	isolated_stop
fi

for h in ${held//,/ }; do
	echo "== already managed: $h vCPU threads held, then 200 renamed one at a time"
	held_run "$T" "$h" "$hold_timeout" 200
done
