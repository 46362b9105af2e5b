# Sourced by integration tests that need a bus: a private dbus-daemon that
# behaves like the system bus (tests/data/dbus-system-test.conf, which
# includes our systemd/io.isolated.Daemon1.conf), on its own socket, so
# tests never touch the host's bus.
#
#   start_private_bus DIR [SERVICEDIR]
#       Starts the bus with its socket in DIR (created if needed; made
#       0755 so that unprivileged callers, setpriv to nobody, can connect),
#       exports DBUS_SYSTEM_BUS_ADDRESS and PRIVATE_BUS_PID, and stops the
#       bus on EXIT (added in front of the EXIT trap in force when called:
#       set your own trap first). SERVICEDIR, if given, is a directory of
#       D-Bus activation files (NAME.service) the bus starts services from.
#       Returns 1 (with a message on stderr) if the bus does not start.
#       Call it directly, not in $(...): the exports must reach the caller.
#   stop_private_bus
#       Stops it (SIGTERM, then waits for it); does nothing if none runs.
#
# The bus is our child (no --fork), so stopping it is kill + wait. Readiness
# is the address it prints once it listens, read through a FIFO: no sleeps.
# Needs TOP (the source tree), as tests/run-tests.sh sets it.

. "$(dirname "${BASH_SOURCE[0]}")/proc-lib.sh"

PRIVATE_BUS_PID=

start_private_bus() { # DIR [SERVICEDIR]
	local dir=$1 services=${2:-} conf addr
	: "${TOP:?}"
	mkdir -p "$dir" && chmod 0755 "$dir" || return 1
	conf=$dir/bus.conf
	{
		echo '<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"'
		echo ' "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">'
		echo '<busconfig>'
		echo "  <include>$TOP/tests/data/dbus-system-test.conf</include>"
		[ -z "$services" ] || echo "  <servicedir>$services</servicedir>"
		echo '</busconfig>'
	} >"$conf"
	rm -f "$dir/bus.ready"
	mkfifo "$dir/bus.ready" || return 1
	dbus-daemon --config-file="$conf" --address="unix:path=$dir/system_bus_socket" --nofork \
		--print-address=3 3>"$dir/bus.ready" 2>"$dir/bus.log" &
	PRIVATE_BUS_PID=$!
	trap_prepend stop_private_bus
	# EOF (an empty address) when dbus-daemon exits before it listens.
	read -r addr <"$dir/bus.ready"
	rm -f "$dir/bus.ready"
	if [ -z "$addr" ]; then
		echo "dbus-daemon did not start: $(head -c 600 "$dir/bus.log")" >&2
		stop_private_bus
		return 1
	fi
	export DBUS_SYSTEM_BUS_ADDRESS=$addr PRIVATE_BUS_PID
	return 0
}

stop_private_bus() {
	[ -n "${PRIVATE_BUS_PID:-}" ] || return 0
	kill "$PRIVATE_BUS_PID" 2>/dev/null
	wait "$PRIVATE_BUS_PID" 2>/dev/null
	PRIVATE_BUS_PID=
	unset DBUS_SYSTEM_BUS_ADDRESS
	return 0
}

# start_tree_daemon TREE POLICIES [OPTION...]: the daemon on a tree, on the
# private bus (start_private_bus first), with the options given too, its
# log appended to $T/daemon.log (a restart adds to it) and its pid in DPID;
# returns once it answers Status (or after 10 s, or when it exited: the
# test's calls then fail and say so).
start_tree_daemon() {
	local tree=$1 pol=$2
	shift 2
	"$ISOLATED" --root "$tree" --policies "$pol" --host-conf "$tree/etc/isolated/host.conf" --no-proc-connector \
		"$@" >>"$T/daemon.log" 2>&1 &
	DPID=$!
	for _ in $(seq 200); do
		kill -0 "$DPID" 2>/dev/null || return 0
		busctl call io.isolated.Daemon1 /io/isolated/Daemon1 io.isolated.Daemon1 Status >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	return 0
}
