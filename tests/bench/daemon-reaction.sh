#!/bin/bash
# A benchmark, not a test: prints numbers, asserts nothing.
#
#   tests/bench/daemon-reaction.sh [BUILD]     (as root, from the source tree)
#
# Runs the built daemon on a private bus against this machine, holding a
# mode scoped to the benchmark's own process tree (nothing else is touched),
# and prints:
#   - the delay between a thread's rename to "CPU N/KVM" and its affinity
#     and SCHED_FIFO priority being visible (200 threads: p50, p99, max);
#   - the same for newly exec'd processes matched by name;
#   - the daemon's CPU time per proc connector event during a storm of 2000
#     process starts (utime+stime of the daemon over the events it counted).
# Nothing may hold this machine already (/run/isolated/journal).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
build=$top/${1:-build}
isolated=$build/isolated
helpers=$build/tests/helpers
[ "$(id -u)" == 0 ] || { echo "run as root" >&2; exit 1; }
[ -e /run/isolated/journal ] && { echo "isolated holds this machine already" >&2; exit 1; }
T=$(mktemp -d)
DPID=
cleanup() {
	[ -n "$DPID" ] && kill "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
	kill "$ROOT" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
TOP=$top
. "$top/tests/integration/dbus-lib.sh"
start_private_bus "$T/bus" || exit 1

# The scope: this shell's subshell that runs what we write to its FIFO.
mkfifo "$T/cmd" "$T/done"
bash -c 'exec 3<>"$1"; while read -r line <&3; do eval "$line"; echo done >"$2"; done' scope "$T/cmd" "$T/done" &
ROOT=$!
exec 4>"$T/cmd"
run_in_scope() {
	echo "$*" >&4
	read -r _ <"$T/done"
}

mkdir -p "$T/pol"
echo "rt_cpus = 1" >"$T/host.conf"
cat >"$T/pol/bench.conf" <<EOF
[mode]
type = dedicated
scope = process:$ROOT
[thread rt-vcpu]
match = vcpu:0-1023
cpus = \${rt_cpus}
sched = fifo:10
[thread rt-proc]
match = comm:isobench-rt
cpus = \${rt_cpus}
sched = fifo:10
EOF
printf '[daemon]\nmode = bench\nrevert-on-stop = yes\n' >"$T/isolated.conf"
"$isolated" --conf "$T/isolated.conf" --policies "$T/pol" --host-conf "$T/host.conf" >"$T/daemon.log" 2>&1 &
DPID=$!
for _ in $(seq 200); do
	busctl call io.isolated.Daemon1 /io/isolated/Daemon1 io.isolated.Daemon1 Status >/dev/null 2>&1 && break
	sleep 0.05
done

# CPU time of the daemon in ns (schedstat: time on CPU, all threads).
cpu_ns() { awk '{print $1}' "/proc/$DPID/schedstat"; }

echo "== renamed threads (200)"
run_in_scope "'$helpers/reaction-bench' threads 200 --cpus 1 --fifo 10 >'$T/r1' 2>&1"
cat "$T/r1"
echo "== exec'd processes matched by name (200)"
run_in_scope "'$helpers/reaction-bench' exec 200 isobench-rt --watch --cpus 1 --fifo 10 >'$T/r2' 2>&1"
cat "$T/r2"
echo "== storm of 2000 process starts (not matched)"
c0=$(cpu_ns)
t0=$(date +%s.%N)
run_in_scope "'$helpers/threadstorm' exec 2000 /bin/true >/dev/null"
sleep 0.5
c1=$(cpu_ns)
t1=$(date +%s.%N)
# fork + exec per start reach the daemon (exits are filtered by the kernel
# on 6.6+): about 2 events per start; the per-start figure is exact.
awk -v c=$((c1 - c0)) -v t="$(echo "$t1 - $t0" | bc)" 'BEGIN {
	us = c / 1000
	printf "daemon CPU: %.1f ms over %.2f s: %.1f us per process start, %.1f us per event (~2 per start)\n",
		us / 1000, t, us / 2000, us / 4000 }'
