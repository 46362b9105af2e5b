#!/bin/bash
# The Debian package, end to end, as root on a Debian machine (CI's package
# stage; needs debhelper, lintian and dpkg-dev): dpkg-buildpackage -us -uc
# -b from a copy of the tree, lintian with no error (its warnings and infos
# printed), then apt-get install of the .deb, its files where dpkg -L says,
# isoctl and isolated running from /usr/sbin, the conffile registered, the
# unit enabled; apt-get remove with a mode in force (scoped to a sleep of
# the test's) reverts it; then dpkg --purge, after which nothing is left: no
# file dpkg listed, no /etc/isolated (when there was none before), no
# /var/lib/isolated, no enable link. OUT (default: a temporary directory)
# keeps the .deb, its file list and lintian's output.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
nfail=0
fail() {
	echo "FAIL: $*" >&2
	nfail=$((nfail + 1))
}
[ "$(id -u)" = 0 ] || { echo "not root: the package test installs the package; skipped" >&2; exit 0; }
for p in dpkg-buildpackage:dpkg-dev dh:debhelper lintian:lintian; do
	command -v "${p%%:*}" >/dev/null || { echo "FAIL: ${p%%:*} is not installed (apt-get install ${p#*:})" >&2; exit 1; }
done
if dpkg -s isolated >/dev/null 2>&1; then
	echo "FAIL: a package isolated is installed already; the test would remove it" >&2
	exit 1
fi
if [ -e /run/isolated/journal ]; then
	echo "FAIL: a mode of isolated is in force (/run/isolated/journal); the test applies and reverts one of its own" >&2
	exit 1
fi
OUT=${OUT:-$(mktemp -d)}
W=$(mktemp -d)
spid=
# On the way out: the sleep killed, a journal the test's mode left (the
# removal failed to revert it) reverted with the build's isoctl, the
# package purged.
trap '[ -n "$spid" ] && kill "$spid" 2>/dev/null
	[ -e /run/isolated/journal ] && [ -x "$W/src/build/isoctl" ] && "$W/src/build/isoctl" --direct revert >/dev/null 2>&1
	rm -rf "$W"
	dpkg -s isolated >/dev/null 2>&1 && dpkg --purge isolated >/dev/null 2>&1' EXIT
etc_before=$([ -e /etc/isolated ] && echo yes || echo no)

# ---- build, from a copy without the working tree's build/ ----
mkdir "$W/src"
(cd "$top" && git ls-files -z | xargs -0 cp --parents -t "$W/src") ||
	(cd "$top" && tar --exclude=./build -cf - . | tar -C "$W/src" -xf -)
(cd "$W/src" && dpkg-buildpackage -us -uc -b) >"$OUT/build.log" 2>&1 ||
	{ tail -30 "$OUT/build.log" >&2; echo "FAIL: dpkg-buildpackage" >&2; exit 1; }
deb=$(ls "$W"/isolated_*_*.deb | grep -v dbgsym | head -1)
[ -f "$deb" ] || { echo "FAIL: no .deb in $W" >&2; exit 1; }
cp "$deb" "$W"/*.changes "$OUT/" 2>/dev/null
grep -E '^[0-9]+ passed, [0-9]+ failed$' "$OUT/build.log" | tail -1 | sed 's/^/unit tests in the build: /'

# ---- lintian: no error ----
lintian -i -I -E --pedantic "$W"/isolated_*.changes >"$OUT/lintian.txt" 2>&1
grep -v '^N:' "$OUT/lintian.txt" | grep -v 'running with root privileges' | sed 's/^/lintian: /'
grep -q '^E: ' "$OUT/lintian.txt" && fail "lintian reports errors"

# ---- install ----
DEBIAN_FRONTEND=noninteractive apt-get install -y -o DPkg::Lock::Timeout=300 "$deb" >"$OUT/install.log" 2>&1 ||
	{ tail -20 "$OUT/install.log" >&2; fail "apt-get install $deb"; exit 1; }
dpkg -L isolated >"$OUT/files.txt"
while read -r f; do
	[ -e "$f" ] || fail "dpkg -L lists $f, which is not there"
done <"$OUT/files.txt"
for f in /usr/sbin/isoctl /usr/sbin/isolated /lib/systemd/system/isolated.service \
	/usr/share/dbus-1/system.d/io.isolated.Daemon1.conf /usr/share/dbus-1/system-services/io.isolated.Daemon1.service \
	/usr/share/polkit-1/actions/io.isolated.policy /usr/share/isolated/policies/dedicated.conf \
	/usr/share/bash-completion/completions/isoctl /usr/share/man/man8/isoctl.8.gz /etc/isolated/isolated.conf; do
	grep -qx "$f" "$OUT/files.txt" || fail "the package lacks $f"
done
[ "$(/usr/sbin/isoctl --version)" = "isoctl $(dpkg-query -W -f='${Version}' isolated)" ] ||
	fail "isoctl --version: $(/usr/sbin/isoctl --version), the package's $(dpkg-query -W -f='${Version}' isolated)"
/usr/sbin/isolated --version >/dev/null || fail "isolated --version"
# The installed isoctl reads the installed policies (its compiled-in
# /usr/share/isolated), with the example host.conf.
/usr/sbin/isoctl --direct --config "$top/policies/examples" list >"$OUT/list.txt" 2>&1 ||
	fail "isoctl list: $(head -3 "$OUT/list.txt")"
for m in vanilla rt-only dedicated outsourcing; do
	grep -q "^$m " "$OUT/list.txt" || fail "isoctl list does not show the installed $m: $(head -5 "$OUT/list.txt")"
done
grep -q '^ExecStart=/usr/sbin/isolated$' /lib/systemd/system/isolated.service ||
	fail "the unit does not run /usr/sbin/isolated"
dpkg-query -W -f='${Conffiles}\n' isolated | grep -q '^ /etc/isolated/isolated.conf ' ||
	fail "/etc/isolated/isolated.conf is not a conffile"
[ -L /etc/systemd/system/multi-user.target.wants/isolated.service ] ||
	fail "the unit is not enabled (no multi-user.target.wants link)"

# ---- remove with a mode in force: prerm reverts it ----
# A mode of the test's own, scoped to a sleep it starts: only that
# process's affinity changes (no sysctl, nothing else of the host).
mkdir -p "$W/pol" "$W/conf"
: >"$W/conf/host.conf"
cat >"$W/pol/pkgtest-pin.conf" <<'EOF'
[mode]
name = pkgtest-pin
summary = the package test's sleep on CPU 0
type = rt-only
[thread s]
match = comm:sleep
cpus = 0
EOF
sleep 300 &
spid=$!
aff0=$(taskset -cp $spid | sed 's/.*: //')
/usr/sbin/isoctl --direct --policies "$W/pol" --config "$W/conf" apply pkgtest-pin --scope process:$spid \
	>"$OUT/apply.log" 2>&1 ||
	fail "isoctl apply pkgtest-pin: $(tail -3 "$OUT/apply.log")"
[ "$(taskset -cp $spid | sed 's/.*: //')" = 0 ] || fail "the mode did not pin the sleep to CPU 0"
DEBIAN_FRONTEND=noninteractive apt-get remove -y isolated >"$OUT/remove.log" 2>&1 ||
	fail "apt-get remove isolated: $(tail -5 "$OUT/remove.log")"
[ "$(taskset -cp $spid | sed 's/.*: //')" = "$aff0" ] ||
	fail "after the removal the sleep is on $(taskset -cp $spid | sed 's/.*: //'), $aff0 before the mode"
[ -e /run/isolated/journal ] && fail "after the removal a journal is left in /run/isolated"
kill $spid
wait $spid 2>/dev/null
spid=

# ---- purge: nothing left ----
dpkg --purge isolated >"$OUT/purge.log" 2>&1 || fail "dpkg --purge isolated: $(tail -5 "$OUT/purge.log")"
while read -r f; do
	case $f in /. | /etc | /lib | /lib/systemd | /lib/systemd/system | /usr | /usr/* ) [ -d "$f" ] && continue ;; esac
	[ -e "$f" ] && fail "after the purge $f is still there"
done <"$OUT/files.txt"
for f in /usr/sbin/isoctl /usr/sbin/isolated /usr/share/isolated /usr/share/bash-completion/completions/isoctl \
	/var/lib/isolated /etc/systemd/system/multi-user.target.wants/isolated.service; do
	[ -e "$f" ] || [ -L "$f" ] && fail "after the purge $f is still there"
done
[ "$etc_before" = no ] && [ -e /etc/isolated ] && fail "after the purge /etc/isolated is still there"
dpkg -s isolated >/dev/null 2>&1 && fail "dpkg still knows isolated after the purge"

echo "package: $(basename "$deb"), $(grep -c . "$OUT/files.txt") paths; lintian: $(grep -c '^E: ' "$OUT/lintian.txt") errors, $(grep -c '^W: ' "$OUT/lintian.txt") warnings, $(grep -c '^[IP]: ' "$OUT/lintian.txt") infos/pedantic"
if [ "$nfail" -gt 0 ]; then
	echo "$nfail check(s) failed" >&2
	exit 1
fi
