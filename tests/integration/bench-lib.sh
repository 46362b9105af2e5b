# Sourced by the live bench tests (test-bench.sh, test-bench-http.sh) after
# lib.sh: what they need to run, the sysctls they watch, the shipped modes
# as this machine's tests may run them, the mode held, and a run
# interrupted with SIGINT while dedicated is in force.

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
