# Sourced by the integration tests: run the built isoctl as a user would and
# check what it prints, its exit status, and that it changed nothing.
# ISOCTL and TOP come from tests/run-tests.sh.
set -u
: "${ISOCTL:?}" "${TOP:?}"
FIX=$TOP/tests/fixtures
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
nfail=0

fail() {
	echo "FAIL: $*" >&2
	nfail=$((nfail + 1))
}

# run EXPECTED_STATUS ARGS...: runs isoctl, output in $T/out and $T/err.
run() {
	local want=$1 got
	shift
	"$ISOCTL" "$@" >"$T/out" 2>"$T/err"
	got=$?
	if [ "$got" != "$want" ]; then
		fail "isoctl $* exited $got, expected $want; stderr: $(head -c 600 "$T/err")"
		return 1
	fi
	return 0
}

expect_eq() { # NAME GOT WANT
	[ "$2" == "$3" ] || fail "$1: got [$2], expected [$3]"
}

expect_grep() { # FILE PATTERN (extended regexp)
	grep -Eq -- "$2" "$1" || fail "$(basename "$1") does not match /$2/: $(head -c 400 "$1")"
}

expect_no_grep() {
	! grep -Eq -- "$2" "$1" || fail "$(basename "$1") matches /$2/ but should not"
}

# A fingerprint of a tree (names, modes, contents) to prove it did not change.
tree_sum() {
	(cd "$1" && find . -printf '%p %m %s\n' | LC_ALL=C sort && find . -type f -print0 | LC_ALL=C sort -z |
		xargs -0 cat) | sha256sum
}

# expect_same_tree NAME ORIG TREE: TREE is ORIG byte for byte, names and
# modes included.
expect_same_tree() {
	if ! diff -r "$2" "$3" >"$T/same-tree.diff" 2>&1; then
		fail "$1: the tree differs from the original: $(head -c 800 "$T/same-tree.diff")"
	elif [ "$(tree_sum "$2")" != "$(tree_sum "$3")" ]; then
		fail "$1: modes or names differ from the original"
	fi
}

finish() {
	if [ "$nfail" -gt 0 ]; then
		echo "$nfail check(s) failed" >&2
		exit 1
	fi
	exit 0
}
