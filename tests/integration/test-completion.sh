#!/bin/bash
# isoctl's bash completion (completion/isoctl) in a real interactive bash
# with Debian's bash-completion: installed by `make install` where
# bash-completion's loader finds it (complete -p names _isoctl after the
# first completion), then what Tab offers for commands, options per command,
# mode names from the policy directories (and from --policies DIR), the
# values of --scope (host, process:PID, cgroup:PATH, ':' being a word
# break) and of the bench's options.
. "$(dirname "$0")/lib.sh"

BC=/usr/share/bash-completion/bash_completion
[ -r "$BC" ] || { fail "bash-completion is not installed (apt-get install bash-completion)"; finish; }

# The install, as a package would lay it out (a build of its own: PREFIX
# is compiled in).
make -s -C "$TOP" -j"$(nproc)" install BUILD="$T/build" DESTDIR="$T/root" PREFIX=/usr SYSCONFDIR=/etc \
	>"$T/install.out" 2>&1 || fail "make install: $(tail -5 "$T/install.out")"
comp=$T/root/usr/share/bash-completion/completions/isoctl
[ -f "$comp" ] || { fail "make install did not put the completion in $comp"; finish; }
expect_grep "$comp" 'dirs=\("/etc/isolated" "/usr/share/isolated/policies"\)'
mkdir -p "$T/pol"
for m in vanilla dedicated my-mode; do echo "[mode]" >"$T/pol/$m.conf"; done
echo "rt_cpus = 1" >"$T/pol/host.conf"

# tab LINE...: what Tab completes at the end of each LINE, one line of
# output each ("LINE => WORD WORD ..."), in one interactive bash (bash -i
# running $T/tab.sh) that loads bash-completion and finds isoctl's
# completion by its loader. The words are split as readline splits them
# (COMP_WORDBREAKS, so "process:1" is three words).
cat >"$T/tab.sh" <<'EOF'
. /usr/share/bash-completion/bash_completion
_completion_loader isoctl
complete -p isoctl
for line in "$@"; do
	COMP_LINE=$line
	COMP_POINT=${#line}
	COMP_WORDS=()
	w=
	for ((k = 0; k < ${#line}; k++)); do
		ch=${line:k:1}
		if [ "$ch" = " " ]; then
			[ -n "$w" ] && COMP_WORDS+=("$w")
			w=
		elif [[ $COMP_WORDBREAKS == *"$ch"* ]]; then
			[ -n "$w" ] && COMP_WORDS+=("$w")
			COMP_WORDS+=("$ch")
			w=
		else
			w+=$ch
		fi
	done
	COMP_WORDS+=("$w")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMPREPLY=()
	_isoctl isoctl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
	echo "$line => ${COMPREPLY[*]}"
done
EOF
tab() { XDG_DATA_DIRS=$T/root/usr/share bash --norc -i "$T/tab.sh" "$@" 2>"$T/bash.err"; }

tab "isoctl " "isoctl ap" "isoctl -p $T/pol apply " "isoctl --policies=$T/pol plan d" "isoctl -p $T/pol boot " \
	"isoctl -p $T/pol boot show " "isoctl -p $T/pol boot revert " "isoctl -p $T/pol bench " \
	"isoctl -p $T/pol bench vanilla " "isoctl bench --wo" "isoctl bench --workload " "isoctl bench --load n" \
	"isoctl status --w" "isoctl grub --re" "isoctl apply --scope " "isoctl apply --scope process:1" \
	"isoctl apply --scope cgroup:/" "isoctl -p $T/pol apply --scope host " "isoctl snapshot $T/po" \
	"isoctl bench compare $TOP/tests/data/bench-run-l" >"$T/out"
expect_grep "$T/out" '^complete -F _isoctl isoctl$'
has() { # LINE WANT: Tab after LINE offers exactly WANT
	local got
	got=$(grep -F -x -- "$1 => $2" "$T/out")
	[ -n "$got" ] || fail "Tab after [$1]: $(grep -F -- "$1 =>" "$T/out" | head -1), expected [$2]"
}
has "isoctl " "list show plan check grub boot status verify snapshot apply revert confirm bench"
has "isoctl ap" "apply"
has "isoctl -p $T/pol apply " "dedicated my-mode vanilla"
has "isoctl --policies=$T/pol plan d" "dedicated"
has "isoctl -p $T/pol boot " "show apply revert"
has "isoctl -p $T/pol boot show " "dedicated my-mode vanilla"
has "isoctl -p $T/pol boot revert " ""
has "isoctl -p $T/pol bench " "compare dedicated my-mode vanilla"
has "isoctl -p $T/pol bench vanilla " "dedicated my-mode vanilla"
has "isoctl bench --wo" "--workload"
has "isoctl bench --workload " "probes http memcached"
has "isoctl bench --load n" "net none"
has "isoctl status --w" ""
has "isoctl grub --re" "--restore"
has "isoctl apply --scope " "host process: cgroup:"
has "isoctl -p $T/pol apply --scope host " "dedicated my-mode vanilla"
has "isoctl snapshot $T/po" "$T/pol"
has "isoctl bench compare $TOP/tests/data/bench-run-l" "$TOP/tests/data/bench-run-load.json"
# process:1 -> the PIDs starting with 1, without the "process:" readline
# already has (':' is a word break)
grep -F -- "isoctl apply --scope process:1 => " "$T/out" | grep -Eq '=> 1( 1[0-9]+)*$' ||
	fail "Tab after --scope process:1: $(grep -F -- 'process:1 =>' "$T/out")"
grep -F -- "isoctl apply --scope cgroup:/ => " "$T/out" | grep -Eq '=> /[^ ]' ||
	fail "Tab after --scope cgroup:/: $(grep -F -- 'cgroup:/ =>' "$T/out")"
# (compopt refuses outside a completion readline started: the function is
# called directly here)
grep -v 'cannot set terminal process group\|no job control in this shell\|compopt: not currently executing' \
	"$T/bash.err" | grep -q . &&
	fail "bash said: $(head -c 400 "$T/bash.err")"

finish
