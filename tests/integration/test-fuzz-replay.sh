# Replays the fuzz regression corpus (tests/fuzz/corpus/NAME/: every input
# that ever crashed or hung a harness, and a few seeds) through each harness,
# built without libFuzzer as BUILD/tests/fuzz-replay-NAME. A crash, a
# sanitizer report (in the SAN=1 pass) or an empty corpus fails.
. "$(dirname "$0")/lib.sh"
bin=$(dirname "$ISOCTL")/tests
n=0
for dir in "$TOP"/tests/fuzz/corpus/*/; do
	h=$(basename "$dir")
	n=$((n + 1))
	if [ ! -x "$bin/fuzz-replay-$h" ]; then
		fail "no $bin/fuzz-replay-$h for tests/fuzz/corpus/$h"
		continue
	fi
	[ -n "$(ls -A "$dir")" ] || fail "tests/fuzz/corpus/$h is empty"
	"$bin/fuzz-replay-$h" "$dir" >"$T/out" 2>&1 || fail "fuzz-replay-$h $dir: $(tail -c 1500 "$T/out")"
done
for src in "$TOP"/tests/fuzz/fuzz-*.c; do
	h=$(basename "$src" .c)
	h=${h#fuzz-}
	[ -d "$TOP/tests/fuzz/corpus/$h" ] || fail "harness $h has no tests/fuzz/corpus/$h"
done
[ "$n" -gt 0 ] || fail "no corpus under tests/fuzz/corpus"
finish
