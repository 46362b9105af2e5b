#!/bin/bash
# Names that any user can choose reach isoctl's text output escaped: a thread
# named ESC ] 0 ; pwned BEL ESC [ 2 J (14 bytes: it fits in a comm, and
# prctl(PR_SET_NAME) or a write to /proc/self/comm sets it) must not retitle
# and clear the terminal of the administrator running isoctl status. Control
# characters but tab, the C1 controls and bytes that are not UTF-8 show as
# \xNN, as in diag lines; --json carries the names as they are.
. "$(dirname "$0")/lib.sh"

EVIL=$'\e]0;pwned\a\e[2J'
SHOWN='\x1b]0;pwned\x07\x1b[2J'
# A newline in a name must not start a line of its own either.
NL=$'evil\nmode x'
NL_SHOWN='evil\x0amode x'

# no_raw NAME FILE: FILE has no ESC, BEL, CR, no C1 CSI, no stray byte of the names.
no_raw() {
	if LC_ALL=C grep -q $'[\x01-\x08\x0b-\x1f\x7f\x9b]' "$2"; then
		fail "$1: raw control characters in the output: $(od -c "$2" | LC_ALL=C grep -m3 '033\|\\a\|\\r\|233')"
		return 1
	fi
	return 0
}
# shown NAME FILE STRING: FILE has STRING, literally.
shown() {
	grep -qF -- "$3" "$2" || fail "$1: \"$3\" not in the output: $(head -c 600 "$2" | cat -v)"
}

# ---- a copy of kvm16 with hostile names where the kernel would let anyone put them ----
R=$T/tree
cp -a "$FIX/kvm16" "$R"
# thread 813 of irqbalance (812): its comm, as the comm file and in stat
printf '%s\n' "$EVIL" >"$R/proc/812/task/813/comm"
sed -i "s/^813 (gmain)/813 ($EVIL)/" "$R/proc/812/task/813/stat"
grep -qF "($EVIL)" "$R/proc/812/task/813/stat" || fail "the fixture's stat of 813 did not take the name"
# libvirtd's process name, with a newline, as the label of its other threads
printf '%s\n' "$NL" >"$R/proc/900/comm"
printf '%s\n' "$NL" >"$R/proc/900/task/900/comm"
stat=$(cat "$R/proc/900/task/900/stat")
printf '900 (%s) %s\n' "$NL" "${stat#*) }" >"$R/proc/900/task/900/stat"
# a byte that is not UTF-8 (0x9b: CSI on an 8-bit terminal) in an IRQ's action
# name: the documents carry only UTF-8, so it is a '?' there, text and JSON
sed -i 's/  mei_me$/  mei\x9b2J/' "$R/proc/interrupts"
mv "$R/proc/irq/123/mei_me" "$R/proc/irq/123/mei"$'\x9b'"2J"
# a NIC name (root can choose ESC in one; so can anyone in a network namespace)
mv "$R/sys/class/net/eth0" "$R/sys/class/net/"$'\e[31m'
# the kernel command line and grub's, in a tree from someone else
printf 'BOOT_IMAGE=/boot/vmlinuz ro quiet isolcpus=\e[2J6-7\n' >"$R/proc/cmdline"
sed -i 's/^GRUB_CMDLINE_LINUX_DEFAULT="\(.*\)"/GRUB_CMDLINE_LINUX_DEFAULT="\1 x=\x1b[2J"/' "$R/etc/default/grub"
grep -q $'\e' "$R/etc/default/grub" || fail "the fixture's grub did not take the escape"
# policies, as an untrusted user may write them for isoctl check (not as root)
POL=$T/pol
mkdir -p "$POL"
cp "$TOP/policies/dedicated.conf" "$TOP/policies/rt-only.conf" "$POL/"
printf '[mode]\ntype = rt-only\nsummary = look %s here\n\n[thread x]\nmatch = comm:"%s"\nsched = fifo:5\n' \
	"$EVIL" "$EVIL" >"$POL/evil.conf"
chmod 644 "$POL"/*.conf
O=(--root "$R" --policies "$POL" --config "$R/etc/isolated")

# Text: every command that shows these names.
n=0
check_text() { # EXPECTED_STATUS WHAT-MUST-SHOW... -- ARGS...
	local want=$1 s
	shift
	local musts=()
	while [ "$1" != -- ]; do musts+=("$1"); shift; done
	shift
	n=$((n + 1))
	"$ISOCTL" "${O[@]}" "$@" >"$T/t$n.out" 2>"$T/t$n.err"
	s=$?
	[ "$s" = "$want" ] || fail "isoctl $*: exit status $s, expected $want: $(head -c 400 "$T/t$n.err")"
	cat "$T/t$n.out" "$T/t$n.err" >"$T/t$n.all"
	no_raw "isoctl $*" "$T/t$n.all"
	for m in "${musts[@]}"; do shown "isoctl $*" "$T/t$n.all" "$m"; done
}
check_text 0 "$SHOWN" "$NL_SHOWN" 'mei?2J' '\x1b[31m' 'isolcpus=\x1b[2J6-7' 'x=\x1b[2J' -- status --all
check_text 0 "$SHOWN (irqbalance" "(${NL_SHOWN} 900)" '\x1b[31m' -- plan dedicated
check_text 0 "$SHOWN (irqbalance" -- apply --dry-run --all dedicated
check_text 0 "look $SHOWN here" -- list
check_text 0 "look $SHOWN here" "comm:\"$SHOWN\"" -- show evil
check_text 1 'isolcpus=\x1b[2J6-7' -- check dedicated
check_text 0 'x=\x1b[2J' -- grub dedicated
# A write that fails names the thread on stderr.
n=$((n + 1))
ISOLATED_TREE_FAULTS=tid/813=EIO "$ISOCTL" "${O[@]}" apply dedicated >"$T/t$n.out" 2>"$T/t$n.err"
cat "$T/t$n.out" "$T/t$n.err" >"$T/t$n.all"
no_raw "apply with a failing write" "$T/t$n.all"
shown "apply with a failing write" "$T/t$n.err" "$SHOWN"
# The tree holds a mode now: what isolated holds, and its drift, name the thread.
check_text 0 "$SHOWN (irqbalance" -- apply --all dedicated
check_text 0 "$SHOWN (irqbalance" -- status --all
sed -i 's/^Cpus_allowed_list:.*/Cpus_allowed_list:\t0-3/' "$R/proc/812/task/813/status"
check_text 1 "$SHOWN (irqbalance" -- verify
check_text 1 "$SHOWN (irqbalance" -- revert --all

# --json: the exact bytes (json-c writes them as \u001b, \u0007).
"$ISOCTL" "${O[@]}" --json status --all >"$T/j.out" || fail "status --json failed"
no_raw "status --json" "$T/j.out"
expect_eq "status --json comm" "$(jq -r '.threads[] | select(.tid == 813) | .comm' "$T/j.out")" "$EVIL"
expect_eq "status --json process" "$(jq -r '.threads[] | select(.tid == 901) | .process' "$T/j.out")" "$NL"
"$ISOCTL" "${O[@]}" --json show evil >"$T/j2.out" || fail "show --json failed"
expect_eq "show --json summary" "$(jq -r '.summary' "$T/j2.out")" "look $EVIL here"

# ---- the running kernel: a process of ours renames itself ----
if [ -w /proc/self/comm ]; then
	mkfifo "$T/hold"
	(
		printf '%s' "$EVIL" >"/proc/$BASHPID/comm"
		read -r _ <"$T/hold"
	) &
	LPID=$!
	exec 9>"$T/hold"
	for _ in $(seq 100); do
		[ "$(cat "/proc/$LPID/comm" 2>/dev/null)" == "$EVIL" ] && break
		sleep 0.05
	done
	expect_eq "our process renamed itself" "$(cat "/proc/$LPID/comm")" "$EVIL"
	"$ISOCTL" --direct status --all >"$T/live.out" 2>"$T/live.err"
	no_raw "live status --all" "$T/live.out"
	no_raw "live status --all (stderr)" "$T/live.err"
	grep -E "^$LPID +$LPID " "$T/live.out" | grep -qF "$SHOWN" ||
		fail "live status --all: pid $LPID not shown as $SHOWN: $(grep -E "^$LPID " "$T/live.out")"
	exec 9>&-
	wait "$LPID"
fi
finish
