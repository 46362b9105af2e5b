#!/bin/bash
# Bad input never hurts: every policy and host.conf of tests/bad-policies/
# (and the ones too big, binary or badly owned to commit, made here) goes
# through `isoctl apply` on a copy of the kvm16 tree. Each must exit 2, print
# exactly its NAME.expect on stderr and nothing on stdout, and leave the tree
# byte for byte as it was. See tests/bad-policies/README.
#
# BAD_POLICIES_REGEN=1 writes the .expect files from what isoctl prints
# instead of comparing: only after reading every message.
. "$(dirname "$0")/lib.sh"

CASES=$TOP/tests/bad-policies
W=$T/w
regen=${BAD_POLICIES_REGEN:-0}
is_root=0
[ "$(id -u)" = 0 ] && is_root=1

# A policy that is fine, for the cases whose fault is in host.conf.
OK_POLICY='[mode]
type = rt-only
'
# One with an error on line 2, for the cases whose file must be read (the
# error shows it was).
READ_POLICY='[mode]
type = bogus
'
# A secret of root's that others cannot read (an ssh key; /etc/shadow is
# root's and 0640 too): every line of it would be quoted in an error.
SECRET='-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW
-----END OPENSSH PRIVATE KEY-----
'

# Cases without a committed input: made by prepare() below.
GEN_CASES="gen-empty-host-ok gen-nul gen-nul-host gen-garbage gen-10mb gen-10mb-host gen-limit-plus-one
gen-1mb-line gen-1mb-line-host gen-perm-group gen-perm-other gen-perm-host gen-owner gen-owner-host
gen-host-missing gen-host-dir gen-host-fifo gen-host-devnull gen-policy-dir gen-proc-mem gen-proc-mem-host
gen-host-symlink-loop gen-deep-chain gen-dir-world-writable gen-dir-group-writable gen-dir-owner
gen-host-dir-writable gen-symlink-trusted gen-symlink-untrusted gen-symlink-secret gen-sticky-dir
gen-sticky-symlink gen-sticky-dir-owner"

# Deterministic bytes that look like an executable: an ELF header (with its
# NUL bytes) and then 4 KiB of a linear congruential generator.
garbage() {
	local x=12345 i s='' b
	printf '\177ELF\002\001\001\000\000\000'
	for ((i = 0; i < 4096; i++)); do
		x=$(((x * 1103515245 + 12345) % 2147483648))
		printf -v b '\\x%02x' $(((x >> 16) & 255))
		s+=$b
		if ((i % 256 == 255)); then
			printf %b "$s"
			s=''
		fi
	done
}

# big FILE SIZE: a file of comment lines, SIZE bytes.
big() {
	yes '# padding padding padding padding padding padding padding padding padding padding' |
		head -c "$2" >"$1"
}

# trusted/real.conf: READ_POLICY, in a directory root alone can change, and
# untrusted/, a directory anyone can write to.
trusted_real() {
	mkdir -m 0755 trusted
	printf '%s' "$READ_POLICY" >trusted/real.conf
	chmod 644 trusted/real.conf
}

# prepare NAME: make pol/NAME.conf and conf/host.conf for a generated case
# (conf/host.conf is already the fixture's, pol/NAME.conf the fine policy).
# Returns 1 when the case cannot run here (it needs root).
prepare() {
	local p="pol/$1.conf" h=conf/host.conf
	case $1 in
	gen-dir-world-writable) # the policy's directory: anyone could put their own there
		[ $is_root = 1 ] || return 1
		chmod 0777 pol ;;
	gen-dir-group-writable)
		[ $is_root = 1 ] || return 1
		chmod 0775 pol ;;
	gen-dir-owner) # its owner may chmod it, and change what is in it
		[ $is_root = 1 ] || return 1
		chown 65534 pol ;;
	gen-host-dir-writable)
		[ $is_root = 1 ] || return 1
		chmod 0777 conf ;;
	gen-symlink-trusted) # a symlink to a file root alone can change: read (its error shows it)
		[ $is_root = 1 ] || return 1
		trusted_real
		ln -sf ../trusted/real.conf "$p" ;;
	gen-symlink-untrusted) # the same file, in a directory anyone can write to
		[ $is_root = 1 ] || return 1
		mkdir -m 0777 untrusted
		printf '%s' "$READ_POLICY" >untrusted/real.conf
		chmod 0777 untrusted
		chmod 644 untrusted/real.conf
		ln -sf ../untrusted/real.conf "$p" ;;
	gen-symlink-secret) # a root file others cannot read: its lines must not reach a bus caller
		[ $is_root = 1 ] || return 1
		trusted_real
		printf '%s' "$SECRET" >trusted/secret
		chmod 0640 trusted/secret
		ln -sf ../trusted/secret "$p" ;;
	gen-sticky-dir) # like /tmp: others may add files but not replace root's: read
		[ $is_root = 1 ] || return 1
		chmod 1777 pol
		printf '%s' "$READ_POLICY" >"$p" ;;
	gen-sticky-symlink) # but a symlink someone else owns there is theirs to replace
		[ $is_root = 1 ] || return 1
		trusted_real
		chmod 1777 pol
		ln -sf ../trusted/real.conf "$p"
		chown -h 65534 "$p" ;;
	gen-sticky-dir-owner) # a sticky directory's owner may still replace everything in it
		[ $is_root = 1 ] || return 1
		chmod 1777 pol
		chown 65534 pol ;;
	gen-empty-host-ok) # an empty host.conf is valid: the fault is the empty policy
		: >"$h"
		: >"$p" ;;
	gen-nul) printf '[mode]\ntype = dedicated\n\000\n' >"$p" ;;
	gen-nul-host) printf 'rt_cpus = 6-7\000\n' >"$h" ;;
	gen-garbage) garbage >"$p" ;;
	gen-10mb) big "$p" 10485760 ;;
	gen-10mb-host) big "$h" 10485760 ;;
	gen-limit-plus-one) # one byte over the 1 MiB limit
		big "$p" 1048576
		printf '\n' >>"$p" ;;
	gen-1mb-line)
		{
			printf '[mode]\ntype = dedicated\nsummary = '
			head -c 1000000 /dev/zero | tr '\0' x
			printf '\n'
		} >"$p" ;;
	gen-1mb-line-host)
		{
			printf 'rt_cpus = 6-7\nrt_vm = '
			head -c 1000000 /dev/zero | tr '\0' v
			printf '\n'
		} >"$h" ;;
	gen-perm-group)
		[ $is_root = 1 ] || return 1
		chmod 664 "$p" ;;
	gen-perm-other)
		[ $is_root = 1 ] || return 1
		chmod 646 "$p" ;;
	gen-perm-host)
		[ $is_root = 1 ] || return 1
		chmod 620 "$h" ;;
	gen-owner)
		[ $is_root = 1 ] || return 1
		chown 1000:0 "$p" ;;
	gen-owner-host)
		[ $is_root = 1 ] || return 1
		chown 65534 "$h" ;;
	gen-host-missing) rm -f "$h" ;;
	gen-host-dir)
		rm -f "$h"
		mkdir "$h" ;;
	gen-host-fifo)
		rm -f "$h"
		mkfifo "$h" ;;
	gen-host-devnull) ln -sf /dev/null "$h" ;;
	gen-policy-dir) # a directory where the policy should be
		rm -f "$p"
		mkdir "$p" ;;
	gen-host-symlink-loop) ln -sf host.conf "$h" ;;
	gen-deep-chain) # 20000 variables, each naming the next: once a stack overflow; now cut at the 4097th key
		{
			echo 'rt_cpus = 6-7'
			for ((i = 1; i <= 20000; i++)); do
				echo "a$i = \${a$((i + 1))}"
			done
			echo 'a20001 = 1'
		} >"$h" ;;
	gen-proc-mem) # a regular file (to stat) whose read fails, EIO at address 0; as root it
		# is refused before: others cannot read it (mode 0600)
		[ $is_root = 1 ] || return 1
		ln -sf /proc/self/mem "$p" ;;
	gen-proc-mem-host)
		[ $is_root = 1 ] || return 1
		ln -sf /proc/self/mem "$h" ;;
	*)
		fail "$1: no input (neither $1.conf nor $1.host.conf) and not a generated case"
		return 1 ;;
	esac
	return 0
}

# ---- the cases: committed inputs, then generated ones ----
names=()
for f in "$CASES"/*.conf; do
	[ -e "$f" ] || continue
	n=${f##*/}
	n=${n%.conf}
	n=${n%.host}
	names+=("$n")
done
for n in $GEN_CASES; do
	names+=("$n")
done
mapfile -t names < <(printf '%s\n' "${names[@]}" | LC_ALL=C sort -u)

if [ "$regen" = 0 ]; then
	for f in "$CASES"/*.expect; do
		n=${f##*/}
		n=${n%.expect}
		printf '%s\n' "${names[@]}" | grep -qxF -- "$n" || fail "$n.expect: no such case"
	done
fi

# One tree for all cases. A change shows as a ctime after the stamp (ctime
# cannot be set back; the pause puts the stamp's clock tick behind us),
# and at the end the whole tree is compared with the fixture byte for byte.
fresh_tree() {
	rm -rf "${W:?}/tree"
	cp -a "$FIX/kvm16" "$W/tree"
	touch "$W/stamp"
	sleep 0.05
}
mkdir -p "$W"
fresh_tree
pristine=$(tree_sum "$FIX/kvm16")
[ "$pristine" == "$(tree_sum "$W/tree")" ] || fail "the copy of kvm16 differs from the fixture"

ran=0 skipped=0
for n in "${names[@]}"; do
	rm -rf "${W:?}/pol" "$W/conf" "$W/trusted" "$W/untrusted"
	mkdir -m 0755 "$W/pol" "$W/conf"
	cd "$W" || exit 1
	# install -m 644: a checkout made with umask 002 would be group-writable,
	# which root refuses, and that is not what these cases are about.
	if [ -e "$CASES/$n.host.conf" ]; then
		install -m 644 "$CASES/$n.host.conf" conf/host.conf
	else
		install -m 644 "$FIX/kvm16/etc/isolated/host.conf" conf/host.conf
	fi
	if [ -e "$CASES/$n.conf" ]; then
		install -m 644 "$CASES/$n.conf" "pol/$n.conf"
	else
		printf '%s' "$OK_POLICY" >"pol/$n.conf"
		chmod 644 "pol/$n.conf"
	fi
	case $n in
	gen-*)
		if ! prepare "$n"; then
			echo "skip $n: needs root" >&2
			skipped=$((skipped + 1))
			continue
		fi ;;
	esac

	timeout 20 "$ISOCTL" --root tree --policies pol --config conf apply "$n" >out 2>err
	st=$?
	ran=$((ran + 1))
	if [ "$regen" = 1 ]; then
		cp err "$CASES/$n.expect"
		echo "== $n (exit $st)"
		cat err
	else
		[ $st = 2 ] || fail "$n: exit status $st, expected 2"
		if [ ! -e "$CASES/$n.expect" ]; then
			fail "$n: no $n.expect; stderr was: $(head -c 400 err)"
		elif ! cmp -s err "$CASES/$n.expect"; then
			fail "$n: stderr differs from $n.expect:
$(diff "$CASES/$n.expect" err | head -c 1500)"
		fi
		[ -s out ] && fail "$n: stdout not empty: $(head -c 400 out)"
		grep -q "^$n " "$CASES/README" || fail "$n: not listed in tests/bad-policies/README"
	fi
	changed=$(find tree -cnewer stamp -print -quit)
	if [ -e tree/run/isolated ] || [ -n "$changed" ]; then
		fail "$n: the tree changed ($changed): $(diff -r "$FIX/kvm16" tree 2>&1 | head -c 800)"
		fresh_tree
	fi
done
[ "$(tree_sum "$W/tree")" == "$pristine" ] ||
	fail "the tree differs from the fixture: $(diff -r "$FIX/kvm16" "$W/tree" 2>&1 | head -c 800)"

# The case list at the end of the README: name and first message.
readme_list() {
	local f n k m extra
	for f in "$CASES"/*.expect; do
		n=${f##*/}
		n=${n%.expect}
		k=$(wc -l <"$f")
		m=$(head -1 "$f" | sed -E 's/^(pol\/[^:]*|conf\/host\.conf)(:[0-9]+)?: //' |
			LC_ALL=C sed 's/[^[:print:]]/?/g' | cut -c1-80)
		extra=''
		[ "$k" -gt 1 ] && extra=" +$((k - 1))"
		printf '%-38s %s%s\n' "$n" "$m" "$extra"
	done
}
if [ "$regen" = 1 ]; then
	sed -i '/^Cases, one a line/,$d' "$CASES/README"
	{
		printf 'Cases, one a line: the name and the first message it expects, shortened\n'
		printf '(NAME.expect has them all; "+N" says how many more lines it has).\n\n'
		readme_list
	} >>"$CASES/README"
fi

echo "bad policies: $ran cases run, $skipped skipped" >&2
[ "$ran" -ge 100 ] || fail "only $ran cases ran"
finish
