# Sourced by integration tests that need a real systemd: systemd 252 as PID 1
# of new PID, mount, cgroup, UTS and IPC namespaces, with `make install` done
# into the namespace's private view of the file system, booted into a target
# of the test's own that starts journald, dbus and nothing else.
#
# The container shares this machine's kernel and, under the mounts below,
# its file system. What it must not touch, and how it is kept away:
#   /tmp, /var/tmp, /run, /dev   tmpfs of its own (systemd-tmpfiles would
#                                empty the real /tmp; /dev holds only null,
#                                zero, full, random, urandom, tty and a new
#                                devpts);
#   /etc, /usr, /var             overlays on a tmpfs: make install, the unit
#                                masks, drop-ins and the journal files land
#                                in the upper layer, which dies with it;
#   sysctls, modules, binfmt,    every unit file but journald's, dbus's,
#   udev, fstab, getty ...       polkit's and ours is masked, every generator
#                                too: nothing of sysinit runs;
#   cgroups                      a cgroup2 directory of its own under the
#                                machine's unified hierarchy, the root of its
#                                cgroup namespace (systemd moves every process
#                                of its root cgroup into init.scope; it must
#                                not see the machine's), removed afterwards.
# container_check_machine compares /tmp, /var/tmp, the mount table, the
# sysctls that sysinit would write, /etc/systemd/system and /run/isolated
# with what they were before the boot.
#
#   container_start NAME [MAKE-ARGS...]
#       Boots it; MAKE-ARGS go to `make install` (BUILD=..., SAN=1).
#       Exports CT_PID (the host pid of its systemd). Returns 1, with the
#       reason on stderr, if it does not come up. Stops it on EXIT (set your
#       own trap first). Files for the container: put them under
#       "$CT_STAGE" before container_start; they are at /run/isolated-test
#       inside.
#   ct CMD...                   runs CMD inside (PATH of the installed tree)
#   container_stop              poweroff (SIGRTMIN+4), SIGKILL after 30 s
#   container_check_machine     1 (and a message) if the machine changed
#
# Needs TOP and T (lib.sh) and root.

. "$(dirname "${BASH_SOURCE[0]}")/proc-lib.sh"

CT_PID=
CT_UNSHARE=
CT_CGROUP=
CT_STAGE=$T/ct-stage
CT_LOG=$T/ct-systemd.log
CT_NAME=
mkdir -p "$CT_STAGE"

# Units that may run: the target below starts them (and a poweroff stops
# them); everything else is masked.
CT_ALLOW=(systemd-journald.service systemd-journald.socket systemd-journald-dev-log.socket
	dbus.service dbus.socket polkit.service isolated.service
	irqbalance.service # test-systemd.sh's stand-in (from the stage's /etc)
	systemd-poweroff.service systemd-halt.service systemd-exit.service)

_ct_machine_state() { # FILE: what the container must leave as it was
	{
		echo "## mounts"
		findmnt -rn -o TARGET,FSTYPE | LC_ALL=C sort
		echo "## sysctls"
		# Those systemd-sysctl would write, and those the daemon changes.
		local keys
		keys=$(cat /usr/lib/sysctl.d/*.conf /etc/sysctl.d/*.conf /etc/sysctl.conf 2>/dev/null |
			sed -n 's/^[-[:space:]]*\([a-z][a-z0-9_.\/-]*\)[[:space:]]*=.*/\1/p' | grep -v '\*' | LC_ALL=C sort -u)
		for k in $keys kernel.timer_migration kernel.sched_rt_runtime_us kernel.numa_balancing; do
			printf '%s = %s\n' "$k" "$(sysctl -n "$k" 2>/dev/null | tr '\t' ' ')"
		done
		echo "## /run/isolated"
		ls -A /run/isolated 2>/dev/null
		echo "## /etc/systemd/system"
		ls -A /etc/systemd/system
	} >"$1"
}

container_start() { # NAME [MAKE-ARGS...]
	local name=$1 unified=/sys/fs/cgroup/unified
	shift
	: "${TOP:?}" "${T:?}"
	CT_NAME=$name
	[ "$(id -u)" -eq 0 ] || { echo "container_start: needs root" >&2; return 1; }
	[ -x /lib/systemd/systemd ] || { echo "no /lib/systemd/systemd (Debian: apt-get install systemd)" >&2; return 1; }
	# The machine's cgroup2 hierarchy: on a hybrid machine it is at
	# /sys/fs/cgroup/unified, on a unified one at /sys/fs/cgroup.
	[ -e "$unified/cgroup.procs" ] || unified=/sys/fs/cgroup
	[ "$(stat -f -c %T "$unified")" == cgroup2fs ] || { echo "no cgroup2 hierarchy mounted" >&2; return 1; }
	_ct_machine_state "$T/ct-machine.before"
	# A file of the test's own in /tmp, outside the container's view: it
	# must survive the boot (systemd-tmpfiles-setup would remove it).
	touch "$T/ct-canary"
	find /tmp /var/tmp -maxdepth 1 | LC_ALL=C sort >"$T/ct-tmp.before"
	CT_CGROUP=$unified/isolated-test.$$.$name
	mkdir "$CT_CGROUP" || return 1

	# PID 1's script: runs in the new namespaces, before systemd.
	cat >"$T/ct-init.sh" <<-EOF
		set -eu
		mount --make-rprivate /
		# Our own cgroup2, rooted at the namespace's cgroup.
		umount -R -l /sys/fs/cgroup
		mount -t cgroup2 -o nsdelegate cgroup2 /sys/fs/cgroup
		mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs /run
		mkdir -p /run/isolated-test /run/ct-ovl /run/ct-src
		cp -a "$CT_STAGE"/. /run/isolated-test/
		# The source tree (make install, the built programs) at its own
		# path, also when that is under /tmp or /var/tmp.
		mount --bind "$TOP" /run/ct-src
		# Overlays first: the tmpfs of /var/tmp goes on top of /var's.
		for d in etc usr var; do
			mkdir -p /run/ct-ovl/\$d.up /run/ct-ovl/\$d.work
			mount -t overlay overlay -o lowerdir=/\$d,upperdir=/run/ct-ovl/\$d.up,workdir=/run/ct-ovl/\$d.work /\$d
		done
		mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /tmp
		mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /var/tmp
		# /dev: the nodes a service needs, and a devpts of its own.
		mkdir /run/ct-hostdev
		mount --bind /dev /run/ct-hostdev
		mount -t tmpfs -o mode=0755,nosuid tmpfs /dev
		for n in null zero full random urandom tty; do
			touch /dev/\$n
			mount --bind /run/ct-hostdev/\$n /dev/\$n
		done
		umount /run/ct-hostdev
		rmdir /run/ct-hostdev
		mkdir -p /dev/pts /dev/shm
		mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts /dev/pts
		ln -s pts/ptmx /dev/ptmx
		mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /dev/shm
		if [ ! -e "$TOP/Makefile" ]; then
			mkdir -p "$TOP"
			mount --bind /run/ct-src "$TOP"
		fi
		umount /run/ct-src
		rmdir /run/ct-src
		make -s -C "$TOP" install $* >/run/isolated-test/install.log 2>&1
		# Nothing runs but what the test's target wants.
		mkdir -p /etc/systemd/system /etc/systemd/system-generators
		for f in /usr/lib/systemd/system/* /etc/systemd/system/* /usr/local/lib/systemd/system/*; do
			u=\${f##*/}
			case \$u in
			*.service | *.socket | *.mount | *.automount | *.swap | *.timer | *.path) ;;
			*) continue ;;
			esac
			case " ${CT_ALLOW[*]} " in *" \$u "*) continue ;; esac
			ln -sfn /dev/null "/etc/systemd/system/\$u"
		done
		for f in /usr/lib/systemd/system-generators/* /usr/local/lib/systemd/system-generators/*; do
			[ -e "\$f" ] && ln -sfn /dev/null "/etc/systemd/system-generators/\${f##*/}"
		done
		cat >/etc/systemd/system/isolated-test.target <<-EOT
			[Unit]
			Description=isolated's test boot
			DefaultDependencies=no
			Wants=systemd-journald.socket systemd-journald-dev-log.socket systemd-journald.service dbus.socket
			After=systemd-journald.socket dbus.socket
			AllowIsolate=yes
		EOT
		[ ! -d /run/isolated-test/etc ] || cp -a /run/isolated-test/etc/. /etc/
		exec env -i container=$name PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
			/lib/systemd/systemd --system --unit=isolated-test.target --log-target=journal --show-status=no
	EOF
	(
		echo "$BASHPID" >"$CT_CGROUP/cgroup.procs" &&
			exec unshare --cgroup --pid --fork --mount --mount-proc --uts --ipc bash "$T/ct-init.sh"
	) </dev/null >"$CT_LOG" 2>&1 &
	CT_UNSHARE=$!
	trap_prepend container_stop
	# unshare's child is the container's PID 1.
	local i
	for i in $(seq 100); do
		CT_PID=$(cat "$CT_CGROUP/cgroup.procs" 2>/dev/null | grep -vx "$CT_UNSHARE" | head -1)
		[ -n "$CT_PID" ] && break
		kill -0 "$CT_UNSHARE" 2>/dev/null || break
		sleep 0.1
	done
	[ -n "$CT_PID" ] || { echo "the container did not start: $(tail -c 800 "$CT_LOG")" >&2; return 1; }
	# Up: systemd answers and the target's jobs are done.
	for i in $(seq 300); do
		kill -0 "$CT_UNSHARE" 2>/dev/null || break
		if [ "$(ct systemctl is-system-running 2>/dev/null)" != "" ] &&
			[ -z "$(ct systemctl list-jobs --no-legend 2>/dev/null)" ] &&
			[ "$(ct systemctl is-active isolated-test.target 2>/dev/null)" == active ]; then
			return 0
		fi
		sleep 0.1
	done
	echo "the container's systemd did not reach isolated-test.target: $(tail -c 1500 "$CT_LOG")" >&2
	return 1
}

ct() {
	nsenter --target "$CT_PID" --mount --pid --uts --ipc --cgroup -- \
		env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C SYSTEMD_PAGER= \
		SYSTEMD_COLORS=0 "$@"
}

container_stop() {
	[ -n "$CT_UNSHARE" ] || return 0
	local i
	# Poweroff; unshare --fork ends when its child, the PID 1, has.
	if [ -n "$CT_PID" ]; then
		stop_pid "$CT_PID" RTMIN+4 30 "the container's systemd" "$CT_UNSHARE"
	else
		kill "$CT_UNSHARE" 2>/dev/null
		wait "$CT_UNSHARE" 2>/dev/null
	fi
	CT_UNSHARE=
	CT_PID=
	# Its cgroups, deepest first (empty once PID 1 of the namespace is gone).
	if [ -n "$CT_CGROUP" ] && [ -d "$CT_CGROUP" ]; then
		for i in $(seq 50); do
			find "$CT_CGROUP" -depth -type d -exec rmdir {} + 2>/dev/null
			[ -d "$CT_CGROUP" ] || break
			sleep 0.1
		done
		[ ! -d "$CT_CGROUP" ] || echo "cannot remove $CT_CGROUP" >&2
	fi
	CT_CGROUP=
	return 0
}

container_check_machine() {
	local r=0
	_ct_machine_state "$T/ct-machine.after"
	if ! diff "$T/ct-machine.before" "$T/ct-machine.after" >"$T/ct-machine.diff"; then
		echo "the container changed the machine: $(head -c 1500 "$T/ct-machine.diff")" >&2
		r=1
	fi
	[ -e "$T/ct-canary" ] || { echo "the test's file in /tmp is gone" >&2; r=1; }
	# What was in /tmp and /var/tmp is still there (others may add files
	# meanwhile).
	find /tmp /var/tmp -maxdepth 1 | LC_ALL=C sort >"$T/ct-tmp.after"
	LC_ALL=C comm -23 "$T/ct-tmp.before" "$T/ct-tmp.after" >"$T/ct-tmp.gone"
	if [ -s "$T/ct-tmp.gone" ]; then
		echo "gone from the machine's /tmp or /var/tmp: $(head -c 600 "$T/ct-tmp.gone")" >&2
		r=1
	fi
	return $r
}
