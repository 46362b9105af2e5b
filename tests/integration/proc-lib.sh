# shellcheck shell=bash
# Sourced by the test and benchmark libraries: stopping a process the test
# started, by pid, and adding a command to the EXIT trap.
#
#   stop_pid PID SIGNAL SECONDS WHAT [WAITPID]
#       Sends SIGNAL to PID, waits until WAITPID (default PID) has ended,
#       SECONDS at most, then SIGKILLs PID, saying so on stderr as
#       "WARNING: WHAT (pid PID) did not stop in SECONDS s after SIGNAL";
#       reaps WAITPID when it is our child. WAITPID is for a process whose
#       end says PID has ended (unshare --fork, whose child is the PID 1
#       sent the signal).
#   trap_prepend CMD
#       Runs CMD first on EXIT, before the EXIT trap in force (lib.sh's
#       removes the temp dir, which may hold what CMD needs); once.

stop_pid() { # PID SIGNAL SECONDS WHAT [WAITPID]
	local pid=$1 sig=$2 secs=$3 what=$4 waitpid=${5:-$1} n
	[ -n "$pid" ] || return 0
	kill -s "$sig" "$pid" 2>/dev/null
	for ((n = secs * 10; n > 0; n--)); do
		kill -0 "$waitpid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$waitpid" 2>/dev/null; then
		echo "WARNING: $what (pid $pid) did not stop in $secs s after SIG${sig#SIG}: SIGKILL" >&2
		kill -9 "$pid" 2>/dev/null
	fi
	wait "$waitpid" 2>/dev/null
	return 0
}

trap_prepend() { # CMD
	local old
	old=$(trap -p EXIT)
	case $old in
	*"$1"*) return 0 ;;
	'') trap "$1" EXIT ;;
	*)
		eval "set -- \"\$1\" $old"
		trap "$1; $4" EXIT
		;;
	esac
}
