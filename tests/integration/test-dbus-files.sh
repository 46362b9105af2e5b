#!/bin/bash
# The bus files in systemd/, as a system bus would use them: a dbus-daemon
# configured like the system bus starts with our policy
# (io.isolated.Daemon1.conf) and enforces it (root may own the name, nobody
# may not; nobody may call our interface, not another one), the activation
# file (io.isolated.Daemon1.service) starts its Exec= as root on a call, the
# names agree with include/isolated/busapi.h and the Makefile's SBINDIR. The
# XML is checked with xmllint and polkit's DTD where they are installed, and
# with pkaction only where polkitd runs with our action installed (not in
# CI: a note, not a failure).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dbus-lib.sh"

SYS=$TOP/systemd
header=$TOP/include/isolated/busapi.h
define() { sed -n "s/^#define $1 \"\\(.*\\)\".*/\\1/p" "$header"; }
NAME=$(define ISOLATED_BUS_NAME)
ACTION=$(define ISOLATED_POLKIT_ACTION)
expect_eq "bus name in busapi.h" "$NAME" io.isolated.Daemon1
expect_eq "polkit action in busapi.h" "$ACTION" io.isolated.manage

for tool in dbus-daemon busctl setpriv; do
	command -v "$tool" >/dev/null || {
		fail "$tool is not installed (apt-get install dbus-daemon systemd util-linux)"
		finish
	}
done

# ---- The files name what the code uses ----
svc=$SYS/io.isolated.Daemon1.service
sbindir=$(env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS make -s --no-print-directory -C "$TOP" -f Makefile -f - \
	print-sbindir <<<'print-sbindir: ; @echo $(SBINDIR)')
expect_eq "activation file Name=" "$(sed -n 's/^Name=//p' "$svc")" "$NAME"
expect_eq "activation file Exec=" "$(sed -n 's/^Exec=//p' "$svc")" "$sbindir/isolated"
expect_eq "activation file User=" "$(sed -n 's/^User=//p' "$svc")" root
expect_eq "activation file SystemdService=" "$(sed -n 's/^SystemdService=//p' "$svc")" isolated.service
expect_grep "$svc" '^\[D-BUS Service\]$'
expect_grep "$SYS/io.isolated.policy" "<action id=\"$ACTION\">"
expect_grep "$SYS/io.isolated.Daemon1.conf" "<allow own=\"$NAME\"/>"

# ---- XML ----
if command -v xmllint >/dev/null; then
	for f in "$SYS/io.isolated.Daemon1.conf" "$SYS/io.isolated.policy" "$TOP/tests/data/dbus-system-test.conf"; do
		xmllint --noout --nonet "$f" 2>"$T/err" || fail "xmllint $f: $(head -c 400 "$T/err")"
	done
	dtd=/usr/share/polkit-1/policyconfig-1.dtd
	if [ -r "$dtd" ]; then
		xmllint --noout --nonet --dtdvalid "$dtd" "$SYS/io.isolated.policy" 2>"$T/err" ||
			fail "io.isolated.policy is not valid against $dtd: $(head -c 400 "$T/err")"
	else
		echo "note: $dtd not installed; the polkit action is only checked for well-formedness"
	fi
else
	echo "note: xmllint not installed; XML checked by dbus-daemon only"
fi

# Does polkitd know our action? Only where it runs on the host's bus with our
# file installed; asked before DBUS_SYSTEM_BUS_ADDRESS points elsewhere.
if command -v pkaction >/dev/null && busctl --system status org.freedesktop.PolicyKit1 >/dev/null 2>&1 &&
	[ -e /usr/share/polkit-1/actions/io.isolated.policy ]; then
	pkaction --action-id "$ACTION" --verbose >"$T/pk" 2>&1 || fail "pkaction: $(head -c 400 "$T/pk")"
	expect_grep "$T/pk" 'implicit any: *auth_admin$'
	expect_grep "$T/pk" 'implicit inactive: *auth_admin$'
	expect_grep "$T/pk" 'implicit active: *auth_admin_keep$'
else
	echo "note: polkitd is not running here with io.isolated.policy installed; pkaction check skipped"
fi

# ---- The bus, with our policy and activation file ----
chmod 0755 "$T" # nobody reaches the socket below it
mkdir "$T/services"
# The activation file as installed, but Exec= a script that records it ran
# and as whom, then fails at once (it never takes the name).
cat >"$T/started.sh" <<EOF
#!/bin/sh
id -u >>"$T/started"
exit 1
EOF
chmod 0755 "$T/started.sh"
sed "s|^Exec=.*|Exec=$T/started.sh|" "$svc" >"$T/services/$NAME.service"
start_private_bus "$T/bus" "$T/services" || {
	fail "dbus-daemon does not start with tests/data/dbus-system-test.conf (and our policy)"
	finish
}

nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
request_name() { busctl --system call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus RequestName su "$1" 4; }

# Only root may own the name (4: do not queue; 1: primary owner).
nobody busctl --system status >/dev/null 2>"$T/err" || fail "nobody cannot connect to the private bus: $(cat "$T/err")"
if nobody bash -c "$(declare -f request_name); request_name $NAME" >"$T/out" 2>"$T/err"; then
	fail "nobody may own $NAME: $(cat "$T/out")"
else
	expect_grep "$T/err" 'Access denied'
fi
request_name "$NAME" >"$T/out" 2>"$T/err" || fail "root may not own $NAME: $(cat "$T/err")"
expect_eq "root's RequestName" "$(cat "$T/out")" "u 1"
# and nobody may not own what is not ours to give either
nobody bash -c "$(declare -f request_name); request_name io.isolated.Other" >/dev/null 2>&1 &&
	fail "nobody may own io.isolated.Other"

# A call activates the service, as root, whoever calls; nothing else is let
# through to the name.
rm -f "$T/started"
busctl --system call "$NAME" /io/isolated/Daemon1 "$NAME" Status >"$T/out" 2>"$T/err" &&
	fail "Status answered without a daemon: $(cat "$T/out")"
expect_grep "$T/err" 'exited with status 1'
expect_eq "activated as" "$(cat "$T/started" 2>/dev/null)" 0
rm -f "$T/started"
nobody busctl --system call "$NAME" /io/isolated/Daemon1 "$NAME" Status >"$T/out" 2>"$T/err"
expect_grep "$T/err" 'exited with status 1'
expect_eq "activated for nobody as" "$(cat "$T/started" 2>/dev/null)" 0
rm -f "$T/started"
nobody busctl --system call "$NAME" /io/isolated/Daemon1 org.example.Other Frob >"$T/out" 2>"$T/err" &&
	fail "nobody's call to another interface went through"
expect_grep "$T/err" 'Access denied'
[ -e "$T/started" ] && fail "a call the policy refuses activated the service"

stop_private_bus
finish
