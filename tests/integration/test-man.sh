# The manual pages: each renders without a warning from groff or man, and
# isolated(8) documents every option the built daemon's --help lists.
. "$TOP/tests/integration/lib.sh"
: "${ISOLATED:?}"

command -v groff >/dev/null || {
	fail "groff is not installed (Debian: apt-get install groff-base man-db)"
	finish
}
n=0
for page in "$TOP"/man/*.[1-9]; do
	n=$((n + 1))
	name=$(basename "$page")
	groff -man -Tutf8 -ww -z "$page" >"$T/groff" 2>&1 || fail "groff $name failed"
	[ -s "$T/groff" ] && fail "groff -ww $name: $(head -c 600 "$T/groff")"
	if command -v man >/dev/null; then
		LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$page" >"$T/text" 2>"$T/man" || fail "man -l $name failed"
		[ -s "$T/man" ] && fail "man --warnings -l $name: $(head -c 600 "$T/man")"
		[ -s "$T/text" ] || fail "man -l $name rendered nothing"
	fi
	# The .TH title is the file name.
	title=$(sed -n 's/^\.TH \([^ ]*\) \([^ ]*\) .*/\1.\2/p' "$page" | tr '[:upper:]' '[:lower:]')
	expect_eq "$name: .TH" "$title" "$name"
done
[ "$n" -ge 3 ] || fail "only $n manual pages in $TOP/man"

# Every long option of `isolated --help` is in isolated(8), as the roff
# source writes it (\-\-name).
if "$ISOLATED" --help >"$T/help" 2>&1; then
	opts=$(grep -oE '(^|[ ,])--[a-z][a-z-]*' "$T/help" | sed 's/^[ ,]*//' | sort -u)
	[ -n "$opts" ] || fail "isolated --help lists no option: $(head -c 300 "$T/help")"
	for o in $opts; do
		roff=$(printf '%s' "$o" | sed 's/-/\\\\-/g')
		grep -q -- "$roff" "$TOP/man/isolated.8" || fail "isolated --help lists $o; isolated.8 does not"
	done
	echo "isolated.8 documents the $(echo "$opts" | wc -w) options of isolated --help"
else
	echo "note: $ISOLATED --help failed (status $?); options not compared: $(head -c 200 "$T/help")"
fi

finish
