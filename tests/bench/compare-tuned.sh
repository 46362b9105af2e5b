#!/bin/bash
# A benchmark, not a test: prints numbers, asserts nothing.
#
#   tests/bench/compare-tuned.sh [BUILD] [--probes N] [--rounds R] [--starts M]
#       (as root; BUILD relative to the source tree or absolute, default build)
#
# The same probe against tuned (when it is installed) and against the built
# isolated, one after the other, R rounds (default 3) alternating tuned,
# isolated, tuned, isolated...; prints each round, then the median and the
# spread (min-max) of each figure across rounds, side by side.
#
# The probe (issue 14): fork and exec sleep with argv[0] "isoprobe" (its
# comm stays "sleep": only the command line names it), and poll
# sched_getscheduler() every 50 us until it is SCHED_FIFO 10, 1 s at most:
# the delay from just before execve(). N probes (default 50): p50, p99,
# max, caught/N. Then M (default 2000) unmatched process starts (fork +
# exec /bin/true): the tool's CPU time (schedstat of all threads of all its
# processes) from before to when it is quiet again, per start. Then its
# RSS (VmRSS of all its processes), settled after all that.
#
#   isolated: a host-scope rt-only mode with one rule, match =
#     cmdline:isoprobe*, sched = fifo:10 (isoctl plan shows it changes
#     nothing else on this host: printed first), held by the daemon on a
#     private bus (revert-on-stop), ready when its Status method answers.
#   tuned: a profile with [scheduler] runtime=1,
#     group.isoprobe=0:f:10:*:^isoprobe, run as tuned --no-dbus -p PROFILE.
#     tuned 2.20 loads profiles only by name from /usr/lib/tuned and
#     /etc/tuned, so the profile is /etc/tuned/isolated-bench-probe, made
#     and removed by this script; ready when its log says the profile is
#     applied. tuned writes /etc/tuned/active_profile and profile_mode
#     (and post_loaded_profile) and leaves files in /run/tuned: they are
#     put back as they were, and said.
# After each tool stops, the host's scheduling sysctls, IRQ affinities and
# every thread's policy, priority and affinity are compared with before.
# Nothing may hold this machine already (/run/isolated/journal), and no
# tuned may run.
set -u
# shellcheck source=tests/bench/bench-lib.sh
. "$(dirname "$0")/bench-lib.sh"
usage() { echo "usage: $0 [BUILD] [--probes N] [--rounds R] [--starts M]" >&2; exit 2; }
build_arg=build probes=50 rounds=3 starts=2000
while [ $# -gt 0 ]; do
	case $1 in
	--probes | --rounds | --starts)
		[[ ${2:-} =~ ^[1-9][0-9]*$ ]] || usage
		declare "${1#--}=$2"
		shift 2
		;;
	-*) usage ;;
	*) build_arg=$1; shift ;;
	esac
done
bench_setup "$0" "$build_arg"
bench_need "$ISOLATED" all
bench_need "$ISOCTL" all
bench_need "$HELPERS/reaction-bench" helpers
bench_need "$HELPERS/threadstorm" helpers
bench_need_cmd busctl systemd
bench_need_cmd dbus-daemon dbus-daemon
bench_need_done
bench_live_ok
TUNED=$(command -v tuned || true)
PROFILE=isolated-bench-probe
PROFILE_DIR=/etc/tuned/$PROFILE
if [ -n "$TUNED" ]; then
	if pgrep -x tuned >/dev/null || pgrep -f '^/usr/bin/python3 -Es /usr/sbin/tuned' >/dev/null; then
		echo "$(basename "$0"): tuned runs already; stop it first" >&2
		exit 1
	fi
	if [ -e "$PROFILE_DIR" ]; then
		echo "$(basename "$0"): $PROFILE_DIR exists (a run that did not clean up?): remove it first" >&2
		exit 1
	fi
fi

# shellcheck source=tests/integration/dbus-lib.sh
. "$TOP/tests/integration/dbus-lib.sh"
T=$(mktemp -d)
TPID=
tuned_files="active_profile profile_mode post_loaded_profile"
cleanup() {
	isolated_stop
	tuned_stop
	[ -n "$TUNED" ] && rm -rf "$PROFILE_DIR"
	stop_private_bus
	rm -rf "$T"
}
trap 'cleanup; stop_private_bus' EXIT
trap 'exit 129' HUP PIPE
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- tuned ----

tuned_prepare() {
	mkdir -p "$T/tuned-save" "$PROFILE_DIR"
	printf '[main]\nsummary=isolated benchmark probe (made by %s)\n[scheduler]\nruntime=1\ngroup.isoprobe=0:f:10:*:^isoprobe\n' \
		"$(basename "$0")" >"$PROFILE_DIR/tuned.conf"
	for f in $tuned_files; do
		[ -e "/etc/tuned/$f" ] && cp -a "/etc/tuned/$f" "$T/tuned-save/$f"
	done
	find /run/tuned -mindepth 1 -maxdepth 1 -printf '%f\n' >"$T/run-tuned.before" 2>/dev/null
	[ -d /run/tuned ] && touch "$T/run-tuned.existed"
	[ -d /var/lib/tuned ] && touch "$T/var-lib-tuned.existed"
}

# Starts tuned and waits until it says the profile is applied (60 s).
tuned_start() { # LOG
	"$TUNED" --no-dbus -l "$1" -P "$T/tuned.pid" -p "$PROFILE" >"$1.out" 2>&1 &
	TPID=$!
	for _ in $(seq 600); do
		grep -q "static tuning from profile '$PROFILE' applied" "$1" 2>/dev/null && return 0
		kill -0 "$TPID" 2>/dev/null || break
		sleep 0.1
	done
	echo "tuned did not apply the profile; its log:" >&2
	cat "$1" "$1.out" 2>/dev/null | sed 's/^/  /' >&2
	tuned_stop
	return 1
}

# SIGTERM by pid, then what it wrote in /etc/tuned and /run/tuned put back.
tuned_stop() {
	local f said=
	[ -n "$TPID" ] || return 0
	stop_pid "$TPID" TERM 60 tuned
	TPID=
	for f in $tuned_files; do
		if [ -e "$T/tuned-save/$f" ]; then
			# Its time stamp too (tuned rewrites even what it leaves as is).
			if cmp -s "$T/tuned-save/$f" "/etc/tuned/$f"; then
				cp -a "$T/tuned-save/$f" "/etc/tuned/$f"
				continue
			fi
			cp -a "$T/tuned-save/$f" "/etc/tuned/$f"
		else
			[ -e "/etc/tuned/$f" ] || continue
			rm -f "/etc/tuned/$f"
		fi
		said+=" /etc/tuned/$f"
	done
	find /run/tuned -mindepth 1 -maxdepth 1 -printf '%f\n' 2>/dev/null | while read -r f; do
		grep -qxF "$f" "$T/run-tuned.before" || { rm -rf "/run/tuned/${f:?}"; echo "/run/tuned/$f"; }
	done >"$T/run-tuned.removed"
	[ -e "$T/run-tuned.existed" ] || rmdir /run/tuned 2>/dev/null
	[ -e "$T/var-lib-tuned.existed" ] || rmdir /var/lib/tuned 2>/dev/null
	said+=" $(tr '\n' ' ' <"$T/run-tuned.removed")"
	[ -n "${said// /}" ] && TUNED_RESTORED="put back what tuned left:$said"
	return 0
}

# ---- the probe, for either tool ----

# measure TOOL ROUND PID: one line of figures into $T/rows.
measure() { # TOOL ROUND PID
	local tool=$1 round=$2 pid=$3 out=$T/$1-$2 c0 c1 n caught line p50 p99 max rss
	sleep 1
	"$HELPERS/reaction-bench" exec "$probes" isoprobe --sleep --fifo 10 --poll-us 50 --timeout-ms 1000 >"$out.probe" 2>&1
	read -r n caught < <(sed -n 's/^exec of sleep.*: \([0-9]*\) items, \([0-9]*\) changed.*/\1 \2/p' "$out.probe")
	line=$(grep '^delay us:' "$out.probe")
	if [[ $line =~ p50\ ([0-9.]+)\ p99\ ([0-9.]+)\ max\ ([0-9.]+) ]]; then
		p50=${BASH_REMATCH[1]} p99=${BASH_REMATCH[2]} max=${BASH_REMATCH[3]}
	else
		p50=- p99=- max=-
	fi
	[ -n "${n:-}" ] || { echo "  $tool: the probe did not run: $(cat "$out.probe")" >&2; n=$probes caught=0; }
	wait_quiet "$pid"
	c0=$(tree_cpu_ns "$pid")
	"$HELPERS/threadstorm" exec "$starts" /bin/true >/dev/null
	wait_quiet "$pid"
	c1=$(tree_cpu_ns "$pid")
	rss=$(tree_rss_kb "$pid")
	echo "$tool $round $p50 $p99 $max $caught $n $(((c1 - c0) / starts)) $rss" >>"$T/rows"
	awk -v t="$tool" -v r="$round" -v a="$p50" -v b="$p99" -v m="$max" -v k="$caught" -v n="$n" \
		-v c=$(((c1 - c0) / starts)) -v rss="$rss" 'BEGIN {
		printf "round %d %-8s p50 %s ms, p99 %s ms, max %s ms, caught %d/%d, CPU per start %.1f us, RSS %.1f MB\n",
			r, t, a == "-" ? "-" : sprintf("%.2f", a / 1000), b == "-" ? "-" : sprintf("%.2f", b / 1000),
			m == "-" ? "-" : sprintf("%.2f", m / 1000), k, n, c / 1000, rss / 1024 }'
}

round_tuned() { # ROUND
	local before=$T/state.tuned.$1.before after=$T/state.tuned.$1.after d
	host_state "$before"
	TUNED_RESTORED=
	tuned_start "$T/tuned.$1.log" || { echo "round $1 tuned    could not start"; return; }
	measure tuned "$1" "$TPID"
	tuned_stop
	host_state "$after"
	d=$(host_state_diff "$before" "$after")
	[ "$d" == - ] && echo "         tuned    host as before: yes${TUNED_RESTORED:+; $TUNED_RESTORED}" ||
		printf '         tuned    host NOT as before:\n%s\n' "$d"
	grep -E ' (ERROR|WARNING) ' "$T/tuned.$1.log" | sed 's/^/         tuned log: /' | head -5
}

round_isolated() { # ROUND
	local before=$T/state.isolated.$1.before after=$T/state.isolated.$1.after d
	host_state "$before"
	isolated_start "$T/iso" "$T/iso/pol" "$T/iso/host.conf" probe || { echo "round $1 isolated could not start"; return; }
	measure isolated "$1" "$DPID"
	isolated_stop
	host_state "$after"
	d=$(host_state_diff "$before" "$after")
	[ "$d" == - ] && echo "         isolated host as before: yes; /run/isolated: $(run_isolated)" ||
		printf '         isolated host NOT as before:\n%s\n' "$d"
}

# ---- run ----

mkdir -p "$T/iso/pol"
: >"$T/iso/host.conf"
cat >"$T/iso/pol/probe.conf" <<EOF
[mode]
type = rt-only
summary = the benchmark's probe: processes whose command line starts with isoprobe get fifo:10
[thread probe]
match = cmdline:isoprobe*
sched = fifo:10
EOF
chmod 0755 "$T" "$T/iso" "$T/iso/pol"
chmod 0644 "$T/iso/host.conf" "$T/iso/pol/probe.conf"
"$ISOCTL" --direct -p "$T/iso/pol" -c "$T/iso" --json plan probe >"$T/plan.json" 2>"$T/plan.err" ||
	{ echo "isoctl plan probe failed: $(cat "$T/plan.err")" >&2; exit 1; }
echo "isolated's probe mode on this host (isoctl plan probe, no isoprobe running):" \
	"$(jq -r '.counts | to_entries | map("\(.key) \(.value)") | join(", ")' "$T/plan.json")"
start_private_bus "$T/bus" || exit 1
if [ -n "$TUNED" ]; then
	tuned_prepare
	tuned_version=$("$TUNED" --version 2>&1 | awk '{print $NF}')
fi
echo "$probes probes, $starts unmatched starts, $rounds rounds; $(nproc) CPUs, kernel $(uname -r)"
: >"$T/rows"
for r in $(seq "$rounds"); do
	[ -n "$TUNED" ] && round_tuned "$r"
	round_isolated "$r"
done

# ---- the table ----

column_of() { # TOOL FIELD (3 p50 .. 9 rss)
	awk -v t="$1" -v f="$2" '$1 == t && $f != "-" { print $f }' "$T/rows"
}
row() { # TOOL LABEL
	local caught n
	if ! grep -q "^$1 " "$T/rows"; then
		printf '| %s | %s |\n' "$2" "did not run"
		return
	fi
	n=$(column_of "$1" 7 | head -1)
	# shellcheck disable=SC2046 # one number a word
	caught=$(fmt_stat 1 0 $(column_of "$1" 6))
	# shellcheck disable=SC2046
	printf '| %s | %s | %s | %s | %s/%s | %s | %s |\n' "$2" \
		"$(fmt_stat 1000 2 $(column_of "$1" 3))" "$(fmt_stat 1000 2 $(column_of "$1" 4))" \
		"$(fmt_stat 1000 2 $(column_of "$1" 5))" "$caught" "$n" \
		"$(fmt_stat 1000 1 $(column_of "$1" 8))" "$(fmt_stat 1024 1 $(column_of "$1" 9))"
}
echo
echo "median (min-max) over $rounds rounds"
echo
echo "| | p50 ms | p99 ms | max ms | caught | CPU per unmatched process start, us | RSS MB |"
echo "|---|---|---|---|---|---|---|"
if [ -n "$TUNED" ]; then
	row tuned "tuned $tuned_version"
else
	echo "| tuned: not installed | | | | | | |"
fi
row isolated "isolated ($(basename "$(dirname "$BUILD")")/$(basename "$BUILD"))"
