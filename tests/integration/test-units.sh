# The systemd unit of the daemon: it loads cleanly, its sandbox scores 2.6 or
# lower, its system call filter allows what the daemon does and nothing the
# daemon must never do, and `make install` puts the files where systemd,
# dbus-daemon and polkitd look for them.
#
# Here what systemd would enforce is checked statically, against systemd's
# own tables (systemd-analyze syscall-filter) and against what the built
# daemon imports from libc (nm -D); test-systemd.sh starts the installed
# unit under a real systemd and checks that the sandbox refuses nothing.
. "$TOP/tests/integration/lib.sh"
: "${ISOLATED:?}"
UNIT=$TOP/systemd/isolated.service

for tool in systemd-analyze nm; do
	command -v "$tool" >/dev/null || {
		fail "$tool is not installed (Debian: apt-get install systemd binutils)"
		finish
	}
done

# ---- systemd-analyze verify ----
# verify checks that every Exec*= command exists and that each man: page of
# Documentation= can be opened, but it only warns (status 0) about unknown
# keys and unparsable values: any output at all is a failure here.
mkdir -p "$T/units" "$T/man/man5" "$T/man/man8"
for m in "$TOP"/man/*.5; do ln -s "$m" "$T/man/man5/"; done
for m in "$TOP"/man/*.8; do ln -s "$m" "$T/man/man8/"; done
verify() { # UNIT-FILE: prints what systemd-analyze verify says, status 1 if anything
	local out
	out=$(MANPATH=$T/man systemd-analyze verify "$1" 2>&1)
	local rc=$?
	[ -n "$out" ] && printf '%s\n' "$out"
	[ "$rc" -eq 0 ] && [ -z "$out" ]
}
sed "s|^ExecStart=.*|ExecStart=$ISOLATED|" "$UNIT" >"$T/units/isolated.service"
grep -q "^ExecStart=$ISOLATED\$" "$T/units/isolated.service" || fail "no ExecStart= line in $UNIT"
if out=$(verify "$T/units/isolated.service"); then
	echo "systemd-analyze verify: clean"
else
	fail "systemd-analyze verify isolated.service: $out"
fi
# The check itself: a misspelt key, a bad value, a missing program must fail it.
for bad in 's/^ProtectSystem=/ProtectSystm=/' 's/^SystemCallFilter=capset/SystemCallFilter=capsett/' \
	's/^RestrictAddressFamilies=AF_UNIX/RestrictAddressFamilies=AF_UNIXX/' "s|^ExecStart=.*|ExecStart=$T/none|"; do
	mkdir -p "$T/bad" && sed "$bad" "$T/units/isolated.service" >"$T/bad/isolated.service"
	cmp -s "$T/bad/isolated.service" "$T/units/isolated.service" && fail "sed '$bad' changed nothing in the unit"
	verify "$T/bad/isolated.service" >/dev/null && fail "systemd-analyze verify accepts the unit after sed '$bad'"
done

# ---- systemd-analyze security ----
# In the C locale a setting in force is "+ NAME", one missing "- NAME".
LC_ALL=C systemd-analyze security --offline=true "$UNIT" >"$T/security" 2>&1
score=$(sed -n 's/.*Overall exposure level for isolated\.service: \([0-9.]*\).*/\1/p' "$T/security")
if [ -z "$score" ]; then
	fail "no overall exposure level in: $(tail -c 600 "$T/security")"
else
	# 2.6 since [partition] (issue 18): the daemon writes the cpuset
	# hierarchy, so ProtectControlGroups= (0.2) is off.
	echo "systemd-analyze security --offline=true: exposure $score (at most 2.6)"
	awk -v s="$score" 'BEGIN { exit !(s <= 2.6) }' || {
		grep '^- ' "$T/security" >&2
		fail "exposure $score is above 2.6"
	}
fi
# Each setting the unit promises must be in force as systemd reads it (a
# later line or a typo could undo one without moving the score past 2.6).
for item in NoNewPrivileges= ProtectSystem= ProtectHome= PrivateTmp= PrivateDevices= PrivateMounts= \
	ProtectKernelModules= ProtectKernelLogs= ProtectClock= ProtectHostname= \
	SystemCallArchitectures= LockPersonality= MemoryDenyWriteExecute= RestrictSUIDSGID= UMask= \
	IPAddressDeny= AmbientCapabilities= 'RestrictAddressFamilies=~AF_(INET|INET6)' \
	'RestrictAddressFamilies=~AF_PACKET' 'RestrictAddressFamilies=~…' 'RestrictNamespaces=~user' \
	'RestrictNamespaces=~net' 'RestrictNamespaces=~mnt' 'CapabilityBoundingSet=~CAP_SYS_PTRACE' \
	'CapabilityBoundingSet=~CAP_SYS_MODULE' 'CapabilityBoundingSet=~CAP_(DAC_*|FOWNER|IPC_OWNER)' \
	'CapabilityBoundingSet=~CAP_SET(UID|GID|PCAP)' 'CapabilityBoundingSet=~CAP_SYS_RAWIO' \
	'SystemCallFilter=~@mount' 'SystemCallFilter=~@debug' 'SystemCallFilter=~@module' \
	'SystemCallFilter=~@raw-io' 'SystemCallFilter=~@reboot' 'SystemCallFilter=~@swap' \
	'SystemCallFilter=~@clock' 'SystemCallFilter=~@obsolete' 'SystemCallFilter=~@cpu-emulation'; do
	grep -qF "+ $item " "$T/security" || fail "systemd-analyze security: $item is not in force: $(grep -F " $item " "$T/security")"
done

# ---- The system call filter, as systemd builds it ----
# Group contents from systemd's own table; the unit's SystemCallFilter= lines
# applied in order as systemd does: the first line without "~" makes an
# allow list (to which systemd adds @default), later lines add ("name") or
# remove ("~name"); an empty assignment starts over.
declare -A members allowed
group=
while IFS= read -r line; do
	case $line in
	@*) group=${line%% *} ;;
	'    #'*) ;;
	'    '*) [ -n "$group" ] && members[$group]+=" ${line##* }" ;;
	*) group= ;;
	esac
done < <(systemd-analyze syscall-filter 2>/dev/null)
[ -n "${members[@system-service]:-}" ] || fail "systemd-analyze syscall-filter lists no @system-service"
expand() { # NAME...: the system calls, groups expanded (runs in $(...): no fail here)
	local n
	for n in "$@"; do
		n=${n%%:*}
		if [ "${n:0:1}" = @ ]; then
			# shellcheck disable=SC2086
			expand ${members[$n]:-}
		else
			printf '%s\n' "$n"
		fi
	done
}
mode=
while IFS= read -r value; do
	for n in ${value#\~}; do
		n=${n%%:*}
		[ "${n:0:1}" != @ ] || [ -n "${members[$n]:-}" ] || fail "SystemCallFilter=: unknown group $n"
	done
	case $value in
	'')
		mode=''
		allowed=()
		;;
	'~'*)
		[ "$mode" ] || mode=deny
		# shellcheck disable=SC2086
		for s in $(expand ${value#\~}); do
			if [ "$mode" = allow ]; then unset "allowed[$s]"; else allowed[$s]=no; fi
		done
		;;
	*)
		if [ -z "$mode" ]; then
			mode=allow
			for s in $(expand @default); do allowed[$s]=1; done
		fi
		# shellcheck disable=SC2086
		for s in $(expand $value); do
			if [ "$mode" = allow ]; then allowed[$s]=1; else unset "allowed[$s]"; fi
		done
		;;
	esac
done < <(sed -n 's/^SystemCallFilter=//p' "$UNIT")
expect_eq "SystemCallFilter= mode (the first line an allow list)" "$mode" allow
is_allowed() { [ "${allowed[$1]:-}" = 1 ]; }

# What the daemon does: affinities and priorities of any thread (the event
# path), netlink (proc connector, rtnetlink, uevents) and AF_UNIX (bus,
# journal, sd_notify), the journal file (durable writes, flock), sd-event,
# libcap lowering its own sets, sd_journal_send's memfd for long entries;
# kill for ExecReload=/bin/kill -HUP.
for s in sched_setaffinity sched_setscheduler sched_setattr sched_getaffinity sched_getscheduler \
	sched_getparam sched_getattr socket bind connect sendmsg recvmsg sendto recvfrom setsockopt \
	getsockopt getsockname getpeername openat read write pread64 pwrite64 close fstat newfstatat \
	getdents64 readlinkat mkdirat unlinkat renameat renameat2 openat2 fsync fdatasync flock ftruncate fchmod \
	fcntl ioctl epoll_create1 epoll_ctl epoll_wait epoll_pwait timerfd_create timerfd_settime \
	signalfd4 eventfd2 rt_sigprocmask rt_sigaction capget capset prctl memfd_create getrandom \
	clock_gettime prlimit64 kill exit_group; do
	is_allowed "$s" || fail "the unit's SystemCallFilter= denies $s, which the daemon needs"
done
# What it never does: run a program or start a thread (no hooks, ever:
# CVE-2024-52336), change uid or file owners, read other processes' memory.
for s in fork vfork clone clone3 execveat setuid setresuid setgid chown fchownat ptrace \
	process_vm_readv process_vm_writev mount umount2 init_module reboot swapon clock_settime \
	mlockall setrlimit ioprio_set mbind io_uring_setup keyctl; do
	is_allowed "$s" && fail "the unit's SystemCallFilter= allows $s"
done

# What the built daemon imports from libc, checked against the filter. A
# libc function is its system call of the same name unless listed here.
declare -A wrapper=([fork]="clone" [_Fork]="clone" [daemon]="clone" [pthread_create]="clone3 clone"
	[posix_spawn]="clone3 clone" [posix_spawnp]="clone3 clone" [system]="clone3 clone" [popen]="clone3 clone"
	[fexecve]="execveat" [setrlimit]="prlimit64" [getrlimit]="prlimit64" [nice]="setpriority"
	[seteuid]="setresuid" [setegid]="setresgid" [umount]="umount2" [pthread_setschedparam]="sched_setscheduler"
	[pthread_setaffinity_np]="sched_setaffinity" [syscall]="openat2")
# syscall() is a wrapper of any system call: ours is openat2 alone (lib/path.c).
grep -rhoE '\bsyscall\([A-Za-z0-9_]+' "$TOP/lib" "$TOP/daemon" | sort -u >"$T/syscalls"
expect_eq "system calls made through syscall()" "$(tr '\n' ' ' <"$T/syscalls")" "syscall(SYS_openat2 "
declare -A known=()
for s in $(expand @known); do known[$s]=1; done
nm -D --undefined-only "$ISOLATED" >"$T/imports" 2>&1 || fail "nm -D $ISOLATED: $(head -c 300 "$T/imports")"
nimports=0
while read -r _ sym; do
	sym=${sym%%@*}
	nimports=$((nimports + 1))
	case $sym in
	execv | execve | execvp | execvpe | execl | execle | execlp | fexecve | system | popen | posix_spawn | posix_spawnp)
		fail "the daemon calls $sym(): it must never run a program" ;;
	esac
	calls=${wrapper[$sym]:-}
	[ -z "$calls" ] && [ -n "${known[$sym]:-}" ] && calls=$sym
	for s in $calls; do
		is_allowed "$s" || fail "the daemon calls $sym() (system call $s), which the unit's SystemCallFilter= denies"
	done
done < <(grep -E '^ +U ' "$T/imports")
[ "$nimports" -gt 0 ] || fail "nm -D found no imports in $ISOLATED"
echo "SystemCallFilter=: ${#allowed[@]} system calls allowed; $nimports imports of the daemon checked"

# ---- The unit against the code ----
# Capabilities: the bounding set must hold every one the daemon keeps.
bounding=$(sed -n 's/^CapabilityBoundingSet=//p' "$UNIT" | tr ' ' '\n' | LC_ALL=C sort | tr '\n' ' ')
expect_eq "CapabilityBoundingSet=" "$bounding" "CAP_NET_ADMIN CAP_SYS_ADMIN CAP_SYS_NICE "
if [ -e "$TOP/daemon/caps.c" ]; then
	keep=$(sed -n 's/.*keep\[\] *= *{\(.*\)}.*/\1/p' "$TOP/daemon/caps.c" | tr -d ' ' | tr ',' '\n' | LC_ALL=C sort |
		tr '\n' ' ')
	expect_eq "capabilities daemon/caps.c keeps" "$keep" "$bounding"
fi
# The bus name: BusName=, the name the daemon takes, and the activation file.
busname=$(sed -n 's/^BusName=//p' "$UNIT")
expect_eq "BusName=" "$busname" "$(sed -n 's/^#define ISOLATED_BUS_NAME "\(.*\)"/\1/p' "$TOP/include/isolated/busapi.h")"
act=$TOP/systemd/io.isolated.Daemon1.service
if [ -e "$act" ]; then
	expect_eq "Name= in $(basename "$act")" "$(sed -n 's/^Name=//p' "$act")" "$busname"
	expect_eq "SystemdService= in $(basename "$act")" "$(sed -n 's/^SystemdService=//p' "$act")" isolated.service
	expect_eq "Exec= in $(basename "$act")" "$(sed -n 's/^Exec=//p' "$act")" "$(sed -n 's/^ExecStart=//p' "$UNIT")"
else
	echo "note: systemd/io.isolated.Daemon1.service is not in this tree"
fi
# The journal directory survives a stop, and is never empty (see the unit).
expect_eq "RuntimeDirectory=" "$(sed -n 's/^RuntimeDirectory=//p' "$UNIT")" "isolated isolated/daemon"
expect_eq "RuntimeDirectoryPreserve=" "$(sed -n 's/^RuntimeDirectoryPreserve=//p' "$UNIT")" yes

# ---- make install ----
# Into a scratch DESTDIR, without rebuilding (-o all: the test must not
# relink the binaries the other tests use).
build=${ISOLATED%/isolated}
build=${build#"$TOP"/}
install_to() { # DESTDIR PREFIX
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$TOP" -o all -o check-deps BUILD="$build" DESTDIR="$1" PREFIX="$2" install >"$T/make.out" 2>&1 ||
		fail "make install PREFIX=$2: $(tail -c 600 "$T/make.out")"
}
check_install() { # DESTDIR PREFIX UNITDIR DBUS-POLICY-DIR
	local d=$1 unit=$1$3/isolated.service exec
	[ -x "$d$2/sbin/isolated" ] || fail "PREFIX=$2: no $2/sbin/isolated"
	[ -f "$unit" ] || {
		fail "PREFIX=$2: no $3/isolated.service"
		return
	}
	exec=$(sed -n 's/^ExecStart=//p' "$unit")
	expect_eq "PREFIX=$2: ExecStart=" "$exec" "$2/sbin/isolated"
	[ -x "$d$exec" ] || fail "PREFIX=$2: ExecStart=$exec is not installed"
	[ -f "$d$2/share/man/man8/isolated.8" ] || fail "PREFIX=$2: no isolated.8"
	[ ! -e "$TOP/systemd/io.isolated.Daemon1.service" ] ||
		expect_eq "PREFIX=$2: Exec= of the activation file" \
			"$(sed -n 's/^Exec=//p' "$d$2/share/dbus-1/system-services/io.isolated.Daemon1.service")" "$2/sbin/isolated"
	[ ! -e "$TOP/systemd/io.isolated.Daemon1.conf" ] || [ -f "$d$4/io.isolated.Daemon1.conf" ] ||
		fail "PREFIX=$2: no $4/io.isolated.Daemon1.conf"
	[ ! -e "$TOP/systemd/io.isolated.policy" ] || [ -f "$d/usr/share/polkit-1/actions/io.isolated.policy" ] ||
		fail "PREFIX=$2: no /usr/share/polkit-1/actions/io.isolated.policy"
}
install_to "$T/usr" /usr
check_install "$T/usr" /usr /usr/lib/systemd/system /usr/share/dbus-1/system.d
install_to "$T/local" /usr/local
check_install "$T/local" /usr/local /usr/local/lib/systemd/system /etc/dbus-1/system.d
# The installed unit as systemd would load it (ExecStart= must exist: it is
# pointed into the scratch tree).
sed "s|^ExecStart=|ExecStart=$T/local|" "$T/local/usr/local/lib/systemd/system/isolated.service" \
	>"$T/units/isolated.service"
out=$(verify "$T/units/isolated.service") || fail "systemd-analyze verify of the installed unit: $out"
# The daemon's configuration: installed as the live file only where there is
# none, so it must set nothing (all defaults commented out).
ex=$TOP/policies/isolated.conf.example
if [ -e "$ex" ]; then
	active=$(grep -Ev '^[[:space:]]*([#;].*)?$|^\[daemon\]$' "$ex")
	[ -z "$active" ] || fail "$ex sets something, and make install makes it the live isolated.conf: $active"
	[ -f "$T/local/etc/isolated/isolated.conf" ] || fail "make install: no /etc/isolated/isolated.conf"
	echo "# the administrator's" >"$T/local/etc/isolated/isolated.conf"
	install_to "$T/local" /usr/local
	expect_eq "an existing isolated.conf after make install" "$(cat "$T/local/etc/isolated/isolated.conf")" \
		"# the administrator's"
fi

finish
