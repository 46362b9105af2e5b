#!/bin/bash
# The Ansible role (contrib/ansible/roles/isolated) with Debian's
# ansible-core, `ansible-playbook -c local -i localhost,`, against the real
# daemon on a copy of the kvm16 tree and a private bus (isoctl talks to it
# as to the system's): the first run writes host.conf (validated by
# isolated --check before it is put in place), applies dedicated with
# --confirm-within, runs the health check and confirms; the second run
# changes nothing (changed=0); --check --diff with another host.conf shows
# the diff and writes nothing; a value changed behind the daemon's back is
# a failed task in check mode. ansible-lint on the role, as Debian has it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dbus-lib.sh"
: "${ISOLATED:?}"
command -v ansible-playbook >/dev/null || { fail "ansible-playbook is not installed (apt-get install ansible-core)"; finish; }
ROLE=$TOP/contrib/ansible/roles

daemon_pid=
cleanup() {
	[ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null
	[ -n "$KEEP" ] && cp -a "$T" "$KEEP"; rm -rf "$T"
}
trap cleanup EXIT
KEEP=${KEEP:-}
tree=$T/kvm16
cp -a "$FIX/kvm16" "$tree"
rm -f "$tree/etc/isolated/host.conf"
start_private_bus "$T/bus" || { fail "no private bus"; finish; }
# The daemon reads the host.conf the role writes (none yet: it holds
# nothing until it has one and a mode is applied).
# No proc connector on a tree: the fallback rescan is set far off, since
# each one re-applies the mode and would put the drift below back.
printf '[daemon]\nrescan-interval = 3600\n' >"$T/isolated.conf"
start_tree_daemon "$tree" "$TOP/policies" --conf "$T/isolated.conf"
daemon_pid=$DPID
kill -0 "$daemon_pid" 2>/dev/null || { fail "the daemon did not start: $(tail -5 "$T/daemon.log")"; finish; }

export ANSIBLE_ROLES_PATH=$ROLE ANSIBLE_LOCAL_TEMP=$T/ansible-tmp ANSIBLE_REMOTE_TEMP=$T/ansible-remote \
	ANSIBLE_HOME=$T/ansible-home \
	ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0 ANSIBLE_RETRY_FILES_ENABLED=0
cat >"$T/play.yml" <<'EOF'
- name: Isolate the RT host
  hosts: all
  gather_facts: false
  roles:
    - isolated
EOF
vars() { # RT_VCPUS [RT_CPUS]: the role's variables for this test, as JSON
	cat <<EOF
{"isolated_install": "none", "isolated_isoctl": "$ISOCTL", "isolated_daemon": "$ISOLATED",
 "isolated_config_dir": "$tree/etc/isolated",
 "isolated_check_args": "--root $tree --policies $TOP/policies",
 "isolated_host": {"rt_cpus": "${2:-6-7}", "rt_nic": "eth1", "rt_vm": "rtvm", "rt_vcpus": "$1", "rtnet_prio": 50},
 "isolated_mode": "dedicated", "isolated_confirm_within": "2m",
 "isolated_health_check": "test -d $tree/proc",
 "isolated_reload": "kill -HUP $daemon_pid"}
EOF
}
play() { # OUT RT_VCPUS[:RT_CPUS] [ARGS...]
	local out=$1 vc=${2%%:*} cpus=
	[[ $2 == *:* ]] && cpus=${2#*:}
	shift 2
	vars "$vc" "$cpus" >"$T/vars.json"
	ansible-playbook -c local -i localhost, -e "@$T/vars.json" "$@" "$T/play.yml" >"$out" 2>&1
}
recap() { grep -E '^localhost +:' "$1" | sed 's/  */ /g'; }
jstatus() { "$ISOCTL" --json status | jq -r "$1"; }

# ---- first run: written, validated, applied, checked, confirmed ----
play "$T/run1" 0-1
expect_eq "first run: exit status" "$?" 0
expect_grep "$T/run1" 'changed=4 '
expect_grep "$T/run1" 'failed=0 '
expect_grep "$tree/etc/isolated/host.conf" '^rt_vcpus = 0-1$'
expect_eq "first run: the mode held" "$(jstatus .isolated.mode)" dedicated
expect_eq "first run: confirmed" "$(jstatus .isolated.confirm)" null
expect_eq "first run: timer_migration" "$(cat "$tree/proc/sys/kernel/timer_migration")" 0

# ---- second run: nothing to do ----
play "$T/run2" 0-1
expect_eq "second run: exit status" "$?" 0
expect_grep "$T/run2" 'changed=0 '
[ "$(recap "$T/run2")" ] || fail "second run: no recap: $(tail -5 "$T/run2")"

# ---- check mode with another host.conf: a diff, nothing written ----
cp "$tree/etc/isolated/host.conf" "$T/host.conf.before"
play "$T/check" 1 --check --diff
expect_eq "--check --diff: exit status" "$?" 0
expect_grep "$T/check" '^-rt_vcpus = 0-1$'
expect_grep "$T/check" '^\+rt_vcpus = 1$'
cmp -s "$T/host.conf.before" "$tree/etc/isolated/host.conf" || fail "--check wrote host.conf"

# ---- a host.conf that isolated --check refuses: never put in place ----
play "$T/bad" 0-1:99-100
expect_eq "a bad host.conf: exit status" "$?" 2
expect_grep "$T/bad" 'failed to validate'
expect_grep "$T/bad" 'cpus 99-100 are not online \(online: 0-15\)'
cmp -s "$T/host.conf.before" "$tree/etc/isolated/host.conf" || fail "a refused host.conf was written"

# ---- drift: a failed task in check mode ----
echo 1 >"$tree/proc/sys/kernel/timer_migration"
play "$T/drift" 0-1 --check
expect_eq "drift in check mode: exit status" "$?" 2
expect_grep "$T/drift" 'value\(s\) drifted from dedicated: kernel.timer_migration'
expect_eq "check mode put nothing back" "$(cat "$tree/proc/sys/kernel/timer_migration")" 1
"$ISOCTL" apply dedicated --force >/dev/null 2>&1 || fail "isoctl apply --force after the drift"
"$ISOCTL" revert >/dev/null 2>&1 || fail "isoctl revert"

# ---- ansible-lint, when Debian has it ----
if command -v ansible-lint >/dev/null; then
	(cd "$ROLE/.." && HOME=$T/ansible-home ansible-lint --offline -q roles/isolated) >"$T/lint" 2>&1 ||
		fail "ansible-lint: $(head -20 "$T/lint")"
fi

finish
