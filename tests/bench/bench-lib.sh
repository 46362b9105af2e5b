# shellcheck shell=bash
# Sourced by the benchmarks of tests/bench/: the build directory, checks of
# what they need, the built daemon on a private bus, and the CPU time and
# memory of a process tree. Benchmarks print figures and assert nothing;
# what they cannot run is an error (exit 1) that names what is missing.
#
#   bench_setup ARG0 [BUILD]
#       Sets TOP (the source tree), BUILD (BUILD relative to the source tree,
#       or absolute; default build), ISOLATED, ISOCTL and HELPERS.
#   bench_need FILE TARGET
#       Notes FILE as missing unless it is an executable file; TARGET is
#       the make target that builds it (all, helpers).
#   bench_need_cmd CMD PACKAGE
#       Notes CMD as missing unless it is in PATH (apt-get install PACKAGE).
#   bench_need_done
#       Exits 1 with one line per missing thing, if any.
#   bench_live_ok
#       Exits 1 unless root and nothing holds this machine (/run/isolated).
#   isolated_start DIR POLICIES HOSTCONF MODE
#       Starts the daemon holding MODE (revert-on-stop) on the private bus
#       (start_private_bus first), its log in DIR/daemon.log, and waits
#       until its Status method answers (10 s at most); sets DPID. Returns 1
#       with the log printed when it exits or does not answer (stopped).
#   isolated_stop
#       SIGTERM, waits (120 s at most, then SIGKILL), then checks that
#       /run/isolated holds nothing: a journal left is reverted with
#       isoctl --direct revert, and said.
#   run_isolated           what /run/isolated holds: absent, empty, holds: ...
#   tree_pids PID          PID and its descendants, one a line
#   tree_cpu_ns PID        CPU time of all their threads (schedstat), plus
#                          what PID's waited-for children used (cutime+cstime)
#   tree_rss_kb PID        the sum of their VmRSS
#   wait_quiet PID         waits until the tree's CPU time grows by less than
#                          1 ms in 250 ms (10 s at most): its backlog is done
#   scope_start DIR        a shell (ROOT) that runs, in its own process tree,
#                          what run_in_scope CMD... gives it (and waits for it)
#   scope_stop
#   reaction_policies DIR  DIR/pol/bench.conf (the mode "bench", scope
#                          process:ROOT: vCPU threads CPU N/KVM, comm
#                          isobench-rt and isostorm-keep -> CPU 1, fifo:10)
#                          and DIR/host.conf
#   count_wanted PID COMM  "M C": threads of PID named COMM, and how many of
#                          them are on CPU 1 only at SCHED_FIFO 10
#   held_run DIR H TIMEOUT N
#                          a daemon of its own holding "bench"; in the scope,
#                          reaction-bench threads N --hold H: its output
#   host_state FILE        what a benchmark must give back (sysctls, IRQ and
#                          thread affinity and scheduling), into FILE
#   host_state_diff A B    what changed between two host_state files, or "-"
#   stats V...             "median min max" of the numbers given
#   fmt_stat SCALE DIGITS V...
#                          "median (min-max)" of V/SCALE; "-" without values

. "$(dirname "${BASH_SOURCE[0]}")/../integration/proc-lib.sh"

bench_setup() { # ARG0 [BUILD]
	TOP=$(cd "$(dirname "$1")/../.." && pwd)
	case ${2:-build} in
	/*) BUILD=$2 ;;
	*) BUILD=$TOP/${2:-build} ;;
	esac
	ISOLATED=$BUILD/isolated
	ISOCTL=$BUILD/isoctl
	HELPERS=$BUILD/tests/helpers
	BENCH_MISSING=
	DPID=
}

# How to build TARGET into BUILD.
bench_make() { # TARGET
	if [ "$BUILD" == "$TOP/build" ]; then
		echo "make $1"
	elif [ "$(basename "$BUILD")" == build ]; then
		echo "cd $(dirname "$BUILD") && make $1"
	else
		echo "make BUILD=$BUILD $1"
	fi
}

bench_need() { # FILE TARGET
	[ -f "$1" ] && [ -x "$1" ] && return 0
	BENCH_MISSING+="  $1 (build it with: $(bench_make "$2"))"$'\n'
}

bench_need_cmd() { # CMD PACKAGE
	command -v "$1" >/dev/null 2>&1 && return 0
	BENCH_MISSING+="  $1 (apt-get install $2)"$'\n'
}

bench_need_done() {
	[ -z "$BENCH_MISSING" ] && return 0
	printf '%s: missing, nothing measured:\n%s' "$(basename "$0")" "$BENCH_MISSING" >&2
	exit 1
}

bench_live_ok() {
	[ "$(id -u)" == 0 ] || { echo "$(basename "$0"): run as root" >&2; exit 1; }
	if [ -e /run/isolated/journal ]; then
		echo "$(basename "$0"): isolated holds this machine already (/run/isolated/journal)" >&2
		exit 1
	fi
}

isolated_start() { # DIR POLICIES HOSTCONF MODE
	local dir=$1 answered=
	printf '[daemon]\nmode = %s\nrevert-on-stop = yes\nmetrics-file =\n' "$4" >"$dir/isolated.conf"
	"$ISOLATED" --conf "$dir/isolated.conf" --policies "$2" --host-conf "$3" >"$dir/daemon.log" 2>&1 &
	DPID=$!
	for _ in $(seq 200); do
		if busctl call io.isolated.Daemon1 /io/isolated/Daemon1 io.isolated.Daemon1 Status >/dev/null 2>&1; then
			answered=1
			break
		fi
		kill -0 "$DPID" 2>/dev/null || break
		sleep 0.05
	done
	[ -n "$answered" ] && return 0
	echo "$(basename "$0"): the daemon did not come up (its Status method never answered); its log:" >&2
	sed 's/^/  /' "$dir/daemon.log" >&2
	isolated_stop
	return 1
}

isolated_stop() {
	[ -n "$DPID" ] || return 0
	stop_pid "$DPID" TERM 120 "the daemon"
	DPID=
	if [ -e /run/isolated/journal ]; then
		echo "WARNING: the daemon left /run/isolated/journal although revert-on-stop = yes: isoctl --direct revert" >&2
		"$ISOCTL" --direct revert >&2
	fi
	case $(run_isolated) in
	absent | empty) ;;
	*) echo "WARNING: /run/isolated still $(run_isolated)" >&2 ;;
	esac
	return 0
}

# What /run/isolated holds: absent, empty, or "holds: NAME...".
run_isolated() {
	local names
	[ -d /run/isolated ] || { echo absent; return; }
	names=$(find /run/isolated -mindepth 1 -maxdepth 1 -printf '%f ')
	[ -n "$names" ] && echo "holds: $names" || echo empty
}

scope_start() { # DIR
	SCOPE_DIR=$1
	mkfifo "$SCOPE_DIR/cmd" "$SCOPE_DIR/done" || return 1
	# shellcheck disable=SC2016 # the inner shell expands $1 and $2
	bash -c 'exec 3<>"$1"; while read -r line <&3; do eval "$line"; echo done >"$2"; done' scope \
		"$SCOPE_DIR/cmd" "$SCOPE_DIR/done" &
	ROOT=$!
	exec 4>"$SCOPE_DIR/cmd"
}

run_in_scope() { # CMD...
	echo "$*" >&4
	read -r _ <"$SCOPE_DIR/done"
}

scope_stop() {
	[ -n "${ROOT:-}" ] || return 0
	exec 4>&-
	kill "$ROOT" 2>/dev/null
	wait "$ROOT" 2>/dev/null
	ROOT=
}

reaction_policies() { # DIR
	mkdir -p "$1/pol"
	echo "rt_cpus = 1" >"$1/host.conf"
	cat >"$1/pol/bench.conf" <<EOF
[mode]
type = dedicated
scope = process:$ROOT
[thread rt-vcpu]
match = vcpu:0-16383
cpus = \${rt_cpus}
sched = fifo:10
[thread rt-proc]
match = comm:isobench-rt
cpus = \${rt_cpus}
sched = fifo:10
[thread storm-keep]
match = comm:isostorm-keep
cpus = \${rt_cpus}
sched = fifo:10
EOF
	chmod 0755 "$1" "$1/pol"
	chmod 0644 "$1/host.conf" "$1/pol/bench.conf"
}

count_wanted() { # PID COMM
	/usr/bin/python3 - "$1" "$2" <<'EOF'
import os, sys
pid, comm = sys.argv[1], sys.argv[2]
matched = caught = 0
base = "/proc/%s/task" % pid
for tid in os.listdir(base):
    try:
        with open("%s/%s/comm" % (base, tid)) as f:
            if f.read().rstrip("\n") != comm:
                continue
        matched += 1
        with open("%s/%s/stat" % (base, tid)) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        with open("%s/%s/status" % (base, tid)) as f:
            cpus = [l.split(":", 1)[1].strip() for l in f if l.startswith("Cpus_allowed_list:")][0]
        # fields[0] is field 3 (state): rt_priority is field 40, policy 41.
        if fields[37] == "10" and fields[38] == "1" and cpus == "1":
            caught += 1
    except (OSError, IndexError):
        pass
print(matched, caught)
EOF
}

held_run() { # DIR H TIMEOUT N
	local dir=$1/held-$2
	mkdir -p "$dir"
	isolated_start "$dir" "$1/pol" "$1/host.conf" bench || return 1
	run_in_scope "'$HELPERS/reaction-bench' threads $4 --hold $2 --hold-timeout $3 --cpus 1 --fifo 10 --daemon-pid $DPID >'$dir/out' 2>&1"
	isolated_stop
	cat "$dir/out"
}

tree_pids() { # PID
	ps -e -o pid=,ppid= | awk -v root="$1" '
		{ kids[$2] = kids[$2] " " $1 }
		END {
			n = 1; q[1] = root
			for (i = 1; i <= n; i++) {
				print q[i]
				k = split(kids[q[i]], c, " ")
				for (j = 1; j <= k; j++) q[++n] = c[j]
			}
		}'
}

tree_cpu_ns() { # PID
	local hz pid t sum=0 f
	hz=$(getconf CLK_TCK)
	for pid in $(tree_pids "$1"); do
		for f in /proc/"$pid"/task/*/schedstat; do
			read -r t _ 2>/dev/null <"$f" && sum=$((sum + t))
		done
	done
	# cutime and cstime: fields 16 and 17, counted after the ')' of comm.
	t=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | awk '{print $14 + $15}')
	echo $((sum + ${t:-0} * 1000000000 / hz))
}

tree_rss_kb() { # PID
	local pid sum=0 kb
	for pid in $(tree_pids "$1"); do
		kb=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null)
		sum=$((sum + ${kb:-0}))
	done
	echo "$sum"
}

wait_quiet() { # PID
	local a b
	a=$(tree_cpu_ns "$1")
	for _ in $(seq 40); do
		sleep 0.25
		b=$(tree_cpu_ns "$1")
		[ $((b - a)) -lt 1000000 ] && return 0
		a=$b
	done
}

stats() { # V...
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
		if (NR == 0) exit
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		print m, v[1], v[NR] }'
}

fmt_stat() { # SCALE DIGITS V...
	local scale=$1 digits=$2
	shift 2
	[ $# -gt 0 ] || { echo "-"; return; }
	stats "$@" | awk -v s="$scale" -v d="$digits" -v n=$# '{
		if (n == 1) printf "%.*f", d, $1 / s
		else printf "%.*f (%.*f-%.*f)", d, $1 / s, d, $2 / s, d, $3 / s }'
}

# What the benchmarks may change and must give back: scheduling sysctls,
# IRQ affinities, and every thread's policy, priority and affinity (threads
# alive at both snapshots: a thread is its tid and start time).
host_state() { # FILE
	/usr/bin/python3 - "$1" <<'EOF'
import glob, os, sys
out = {}
def read(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return None
for p in ["/proc/sys/kernel/sched_rt_runtime_us", "/proc/sys/kernel/sched_rt_period_us",
          "/proc/sys/kernel/timer_migration", "/proc/sys/kernel/numa_balancing",
          "/proc/sys/vm/stat_interval", "/proc/irq/default_smp_affinity",
          "/sys/kernel/mm/transparent_hugepage/enabled", "/sys/devices/virtual/workqueue/cpumask"]:
    out[p] = read(p)
for p in glob.glob("/proc/irq/*/smp_affinity_list"):
    out[p] = read(p)
for d in glob.glob("/proc/[0-9]*/task/[0-9]*"):
    stat, status = read(d + "/stat"), read(d + "/status")
    if not stat or not status:
        continue
    comm, f = stat[stat.index("(") + 1:stat.rindex(")")], stat[stat.rindex(")") + 2:].split()
    cpus = [l.split(":", 1)[1].strip() for l in status.splitlines() if l.startswith("Cpus_allowed_list:")]
    # f[0] is field 3: starttime is field 22, rt_priority 40, policy 41.
    out["task %s@%s (%s)" % (d.rsplit("/", 1)[1], f[19], comm)] = "policy %s prio %s cpus %s" % (f[38], f[37], cpus[0] if cpus else "?")
with open(sys.argv[1], "w") as w:
    for k in sorted(out):
        w.write("%s\t%s\n" % (k, out[k]))
EOF
}

# The differences between two host_state files, "-" when none.
host_state_diff() { # BEFORE AFTER
	awk -F'\t' 'NR == FNR { a[$1] = $2; next } ($1 in a) && a[$1] != $2 { print "  " $1 ": " a[$1] " -> " $2; n++ }
		END { if (!n) print "-" }' "$1" "$2"
}
