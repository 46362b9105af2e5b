#!/bin/bash
# A benchmark, not a test: prints numbers, asserts nothing.
#
#   tests/bench/scale.sh [BUILD] [--runs N] [--big-runs N] [--held LIST]
#                        [--hold-timeout S] [--no-live]
#       (as root; BUILD relative to the source tree or absolute, default build)
#
# How the cost grows with the host and with what isolated manages; one
# table, a row per host size or managed count.
#
# One-shot path, on trees in /dev/shm (removed after): the kvm16 fixture
# (copied), and hosts made by tests/fixtures/gen-bighost.py: 16 CPUs / 200
# tasks / 64 IRQs, 128 CPUs / 2 000 tasks / 300 IRQs, 1 024 CPUs / 20 000
# tasks / 2 000 IRQs (a 23 MB /proc/interrupts). For each: isoctl --root
# TREE apply dedicated, status, revert, N times (default 5; --big-runs,
# default 3, for the 1 024-CPU one): wall time, median (min-max); then once
# more each under GNU time (peak RSS) and once under strace -f -c (opens:
# openat, openat2 and open calls); the journal's bytes after apply
# (run/isolated but its lock), the targets it manages (status: managed),
# the files of the tree; and the daemon's VmRSS holding dedicated on the
# tree (isolated --root TREE on a private bus, once it answers Status and is
# quiet).
#
# Live part (unless --no-live): the daemon's per-event cost against
# managed targets, as in daemon-reaction.sh: a daemon of its own manages H
# vCPU threads of the benchmark (for H in LIST, default 100,1000,10000),
# then 200 more are renamed "CPU N/KVM" one at a time: rename -> pinned and
# FIFO p50, p99; daemon CPU per measured thread (one clone and one rename
# event each) and per held thread; the daemon's VmRSS. A hold not complete
# in S seconds (default 300) is not measured and says so.
# Nothing may hold this machine already (/run/isolated/journal).
set -u
# shellcheck source=tests/bench/bench-lib.sh
. "$(dirname "$0")/bench-lib.sh"
usage() {
	echo "usage: $0 [BUILD] [--runs N] [--big-runs N] [--held LIST] [--hold-timeout S] [--no-live]" >&2
	exit 2
}
build_arg=build runs=5 big_runs=3 held="100,1000,10000" hold_timeout=300 live=1
while [ $# -gt 0 ]; do
	case $1 in
	--runs | --big-runs | --hold-timeout)
		[[ ${2:-} =~ ^[1-9][0-9]*$ ]] || usage
		v=${1#--}
		declare "${v//-/_}=$2"
		shift 2
		;;
	--held) held=${2:?--held LIST}; shift 2 ;;
	--no-live) live=; shift ;;
	-*) usage ;;
	*) build_arg=$1; shift ;;
	esac
done
bench_setup "$0" "$build_arg"
bench_need "$ISOLATED" all
bench_need "$ISOCTL" all
bench_need "$HELPERS/reaction-bench" helpers
bench_need_cmd python3 python3
bench_need_cmd jq jq
bench_need_cmd busctl systemd
bench_need_cmd dbus-daemon dbus-daemon
bench_need_done
bench_live_ok
GNU_TIME=
[ -x /usr/bin/time ] && /usr/bin/time -f %M true >/dev/null 2>&1 && GNU_TIME=/usr/bin/time
STRACE=$(command -v strace || true)

# shellcheck source=tests/integration/dbus-lib.sh
. "$TOP/tests/integration/dbus-lib.sh"
T=$(mktemp -d)
S=$(mktemp -d -p /dev/shm isolated-bench-scale.XXXXXX)
cleanup() {
	isolated_stop
	scope_stop
	stop_private_bus
	wait 2>/dev/null
	rm -rf "$T" "$S"
}
trap 'cleanup; stop_private_bus' EXIT
trap 'exit 129' HUP PIPE
trap 'exit 130' INT
trap 'exit 143' TERM
start_private_bus "$T/bus" || exit 1

# Wall time of CMD in ms, appended to FILE; CMD's output to $T/out, $T/err.
timed() { # FILE CMD...
	local f=$1 t0 t1
	shift
	t0=$EPOCHREALTIME
	"$@" >"$T/out" 2>"$T/err" || { echo "failed: $* : $(head -c 400 "$T/err")" >&2; return 1; }
	t1=$EPOCHREALTIME
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", (b - a) * 1000 }' >>"$f"
}

peak_kb() { # CMD...
	[ -n "$GNU_TIME" ] || { echo "install time"; return; }
	"$GNU_TIME" -o "$T/time" -f %M "$@" >/dev/null 2>&1
	tail -1 "$T/time"
}

openats() { # CMD...
	[ -n "$STRACE" ] || { echo "install strace"; return; }
	# openat2: how isoctl opens inside a --root tree (RESOLVE_BENEATH).
	"$STRACE" -f -c -e trace=openat,openat2,open -o "$T/strace" "$@" >/dev/null 2>&1
	awk '$NF == "openat" || $NF == "openat2" || $NF == "open" { n += $4 } END { print n + 0 }' "$T/strace"
}

journal_bytes() { # TREE
	find "$1/run/isolated" -maxdepth 1 -type f ! -name lock -printf '%s\n' 2>/dev/null | awk '{ n += $1 } END { print n + 0 }'
}

# The daemon holding dedicated on TREE: its VmRSS in kB once quiet, or "-".
daemon_rss_kb() { # TREE
	local d=$T/daemon-tree rss
	mkdir -p "$d"
	printf '[daemon]\nmode = dedicated\nrevert-on-stop = yes\nmetrics-file =\n' >"$d/isolated.conf"
	"$ISOLATED" --conf "$d/isolated.conf" --root "$1" >"$d/daemon.log" 2>&1 &
	DPID=$!
	for _ in $(seq 1200); do
		busctl call io.isolated.Daemon1 /io/isolated/Daemon1 io.isolated.Daemon1 Status >/dev/null 2>&1 && break
		kill -0 "$DPID" 2>/dev/null || break
		sleep 0.05
	done
	if kill -0 "$DPID" 2>/dev/null && busctl call io.isolated.Daemon1 /io/isolated/Daemon1 io.isolated.Daemon1 Status >/dev/null 2>&1; then
		wait_quiet "$DPID"
		rss=$(tree_rss_kb "$DPID")
	else
		echo "the daemon on $1 did not come up: $(head -c 600 "$d/daemon.log")" >&2
		rss=-
	fi
	isolated_stop
	# revert-on-stop puts the tree back; a journal left in it is taken back here.
	[ -e "$1/run/isolated/journal" ] && "$ISOCTL" --root "$1" revert >/dev/null 2>&1
	echo "$rss"
}

# One row of the one-shot part: LABEL TREE RUNS.
oneshot() { # LABEL TREE RUNS
	local label=$1 tree=$2 n=$3 f=$T/times files targets jb ra rs rr oa os or drss
	rm -f "$f".*
	files=$(find "$tree" -type f | wc -l)
	for _ in $(seq "$n"); do
		timed "$f.apply" "$ISOCTL" --root "$tree" apply dedicated || return 1
		jb=$(journal_bytes "$tree")
		targets=$("$ISOCTL" --root "$tree" --json status | jq -r .isolated.managed)
		timed "$f.status" "$ISOCTL" --root "$tree" status || return 1
		timed "$f.revert" "$ISOCTL" --root "$tree" revert || return 1
	done
	ra=$(peak_kb "$ISOCTL" --root "$tree" apply dedicated)
	rs=$(peak_kb "$ISOCTL" --root "$tree" status)
	rr=$(peak_kb "$ISOCTL" --root "$tree" revert)
	oa=$(openats "$ISOCTL" --root "$tree" apply dedicated)
	os=$(openats "$ISOCTL" --root "$tree" status)
	or=$(openats "$ISOCTL" --root "$tree" revert)
	drss=$(daemon_rss_kb "$tree")
	# shellcheck disable=SC2046 # one number a word
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t-\t-\t-\n' "$label ($n runs)" "$files" "$targets" \
		"$(fmt_stat 1 1 $(cat "$f.apply"))" "$(fmt_stat 1 1 $(cat "$f.status"))" "$(fmt_stat 1 1 $(cat "$f.revert"))" \
		"$(mb "$ra") / $(mb "$rs") / $(mb "$rr")" "$(awk -v b="$jb" 'BEGIN { printf "%.1f", b / 1024 }')" \
		"$oa / $os / $or" "$(mb "$drss")" >>"$T/table"
	echo "$label: done" >&2
}

mb() { # KB
	[[ $1 =~ ^[0-9]+$ ]] && awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }' || echo "$1"
}

# One row of the live part, from held_run's output.
live_row() { # H FILE
	local f=$2 p50=- p99=- cpu_ev=- cpu_held=- rss=- line note=
	line=$(grep '^held:' "$f")
	[[ $line == *"not measured"* ]] && note=" ($line)"
	line=$(grep '^threads:' "$f")
	[[ $line =~ ([0-9]+)\ items,\ ([0-9]+)\ changed ]] && [ "${BASH_REMATCH[1]}" != "${BASH_REMATCH[2]}" ] &&
		note+=", only ${BASH_REMATCH[2]} of ${BASH_REMATCH[1]} renamed changed within 1 s"
	line=$(grep '^delay us:' "$f")
	[[ $line =~ p50\ ([0-9.]+)\ p99\ ([0-9.]+) ]] && {
		p50=$(awk -v v="${BASH_REMATCH[1]}" 'BEGIN { printf "%.2f", v / 1000 }')
		p99=$(awk -v v="${BASH_REMATCH[2]}" 'BEGIN { printf "%.2f", v / 1000 }')
	}
	line=$(grep '^daemon CPU us: .* measured threads' "$f")
	[[ $line =~ ,\ ([0-9.]+)\ per\ item ]] && cpu_ev=${BASH_REMATCH[1]}
	line=$(grep '^daemon CPU us: .* held threads' "$f")
	[[ $line =~ ,\ ([0-9.]+)\ per\ item ]] && cpu_held=${BASH_REMATCH[1]}
	line=$(grep '^daemon VmRSS kB:' "$f")
	[[ $line =~ kB:\ ([0-9]+) ]] && rss=$(mb "${BASH_REMATCH[1]}")
	printf '%s\t-\t%s\t-\t-\t-\t-\t-\t-\t%s\t%s\t%s\t%s / %s\n' "live: $1 vCPU threads managed$note" "$1" \
		"$rss" "$p50" "$p99" "$cpu_ev" "$cpu_held" >>"$T/table"
}

: >"$T/table"
echo "isoctl and isolated of $BUILD; $(nproc) CPUs, kernel $(uname -r)" >&2
cp -a "$TOP/tests/fixtures/kvm16" "$S/kvm16"
oneshot "kvm16 fixture" "$S/kvm16" "$runs"
rm -rf "$S/kvm16"
for host in "16 200 64 $runs" "128 2000 300 $runs" "1024 20000 2000 $big_runs"; do
	read -r cpus tasks irqs n <<<"$host"
	python3 "$TOP/tests/fixtures/gen-bighost.py" --cpus "$cpus" --threads "$tasks" --irqs "$irqs" "$S/h" >"$T/gen" 2>&1 ||
		{ echo "gen-bighost.py: $(cat "$T/gen")" >&2; exit 1; }
	oneshot "$cpus CPUs / $tasks tasks / $irqs IRQs" "$S/h" "$n"
	rm -rf "$S/h"
done

if [ -n "$live" ]; then
	scope_start "$T" || exit 1
	reaction_policies "$T"
	for h in ${held//,/ }; do
		held_run "$T" "$h" "$hold_timeout" 200 >"$T/held.$h"
		cat "$T/held.$h" >&2
		live_row "$h" "$T/held.$h"
	done
fi

echo
echo "| host / managed | files | targets | apply ms | status ms | revert ms | peak RSS MB apply / status / revert | journal KB | opens apply / status / revert | daemon RSS MB | rename p50 ms | rename p99 ms | daemon CPU us per renamed thread / per held thread |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
awk -F'\t' '{ printf "|"; for (i = 1; i <= NF; i++) printf " %s |", $i; printf "\n" }' "$T/table"
echo
echo "times: wall clock, median (min-max) of the runs given; peak RSS: GNU time %M, one more run each;"
echo "opens: strace -f -c -e trace=openat,openat2,open, one more run each; daemon RSS: one-shot rows, the daemon"
echo "holding dedicated on the tree; live rows, with the threads still managed. A renamed thread is two"
echo "events (its clone, its rename); held threads came in a burst of H."
