# Sourced by the live bench tests (test-bench.sh, test-bench-http.sh,
# test-bench-memcached.sh) after lib.sh: what they need to run, the sysctls
# they watch, the shipped modes as this machine's tests may run them, the
# mode held, and a run interrupted with SIGINT while dedicated is in force.

# Root, two CPUs and python3-jsonschema, or the test ends here (skipped,
# or failed for the missing package). Sets PY.
bench_preconditions() {
	if [ "$(id -u)" != 0 ]; then
		echo "not root: bench skipped" >&2
		finish
	fi
	if [ "$(nproc)" -lt 2 ]; then
		echo "one CPU: no RT CPU to isolate; skipped" >&2
		finish
	fi
	PY=/usr/bin/python3
	$PY -c 'import jsonschema' 2>/dev/null || {
		fail "python3-jsonschema is not installed (apt-get install python3-jsonschema)"
		finish
	}
}

# The host's state saved ($before: the sysctls as one line; the values to
# put back), and bench_cleanup trapped on EXIT: the bench of $bpid killed,
# any mode reverted, the sysctls restored, $T removed (after the test's own
# bench_cleanup_more, when it defines one).
bench_save_host() {
	before=$(sysctls)
	tm0=$(cat /proc/sys/kernel/timer_migration)
	nb0=$(cat /proc/sys/kernel/numa_balancing)
	rt0=$(cat /proc/sys/kernel/sched_rt_runtime_us)
	bpid=
	trap bench_cleanup EXIT
}
bench_cleanup() {
	[ -n "$bpid" ] && kill -9 "$bpid" 2>/dev/null
	"$ISOCTL" --direct revert --force >/dev/null 2>&1
	echo "$tm0" >/proc/sys/kernel/timer_migration
	echo "$nb0" >/proc/sys/kernel/numa_balancing
	[ "$(cat /proc/sys/kernel/sched_rt_runtime_us)" = "$rt0" ] || echo "$rt0" >/proc/sys/kernel/sched_rt_runtime_us
	declare -F bench_cleanup_more >/dev/null && bench_cleanup_more
	rm -rf "$T"
}

# The sysctls the modes set, as one line.
sysctls() {
	for f in timer_migration sched_rt_runtime_us numa_balancing; do
		printf '%s=%s ' $f "$(cat /proc/sys/kernel/$f)"
	done
}

# The shipped modes, but what this machine's tests may not change live
# (../shared/DESIGN.md, "Tests on this kind of machine"): dedicated sets
# kernel.watchdog_cpumask and kernel.hung_task_timeout_secs, which the bench
# would set and restore on the running kernel, and [irqbalance]'s banned,
# which would edit /etc/default/irqbalance on a machine that has it. Into
# $T/shipped.
shipped_modes() {
	mkdir -p "$T/shipped"
	for f in "$TOP"/policies/*.conf; do
		grep -Ev '^(kernel\.(watchdog_cpumask|hung_task_timeout_secs)|banned) *=' "$f" >"$T/shipped/${f##*/}"
	done
}

held_mode() { "$ISOCTL" --direct status --json 2>/dev/null | jq -r .isolated.mode; }

# bench_sigint ARGS...: isoctl ARGS in the background, SIGINT once dedicated
# is in force; it must exit 1, say so, and leave the host clean (the
# caller's host_clean).
bench_sigint() {
	local st
	"$ISOCTL" "$@" >"$T/int.out" 2>"$T/int.err" &
	bpid=$!
	for _ in $(seq 400); do
		[ "$(held_mode)" = dedicated ] && break
		sleep 0.1
	done
	kill -INT $bpid
	wait $bpid
	st=$?
	bpid=
	expect_eq "bench after SIGINT: exit status" "$st" 1
	expect_grep "$T/int.err" 'interrupted by signal 2; the host is back as it was'
	host_clean "after SIGINT"
}

# bench_server_run SERVER ARGS...: isoctl ARGS in the background, its stdout
# into $T/bench.json and stderr into $T/bench.err; while dedicated is in
# force, the bench's child SERVER is looked at. It must exit 0, and the
# server must have been SCHED_FIFO on the last CPU (the RT CPU).
bench_server_run() {
	local server=$1 seen= st s pol cpus
	shift
	"$ISOCTL" "$@" >"$T/bench.json" 2>"$T/bench.err" &
	bpid=$!
	while kill -0 $bpid 2>/dev/null; do
		if [ "$(held_mode)" = dedicated ]; then
			s=$(pgrep -P $bpid -x "$server" | head -1)
			if [ -n "$s" ]; then
				pol=$(chrt -p "$s" 2>/dev/null | sed -n 's/.*policy: //p')
				cpus=$(taskset -cp "$s" 2>/dev/null | sed 's/.*: //')
				[ "$(held_mode)" = dedicated ] && seen="$pol on $cpus"
			fi
			[ -n "$seen" ] && break
		fi
		sleep 0.05
	done
	wait $bpid
	st=$?
	bpid=
	expect_eq "bench $*: exit status" "$st" 0
	[ "$st" = 0 ] || cat "$T/bench.err" >&2
	expect_eq "$server under dedicated" "$seen" "SCHED_FIFO on $(($(nproc) - 1))"
}
