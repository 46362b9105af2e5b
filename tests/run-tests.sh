#!/bin/bash
# Runs the unit test binaries given as arguments, then every integration test
# tests/integration/test-*.sh against the isoctl in BUILD, and prints one
# closing line "N passed, N failed". Exit status 1 if anything failed.
set -u
build=$1
shift
top=$(cd "$(dirname "$0")/.." && pwd)
passed=0 failed=0 failures=()

for t in "$@"; do
	if out=$("$t" 2>&1); then
		passed=$((passed + 1))
		printf 'PASS %s\n' "$t"
	else
		failed=$((failed + 1))
		failures+=("$t")
		printf 'FAIL %s\n%s\n' "$t" "$out"
	fi
done

# UNIT_ONLY=1 (make check-unit): the unit tests only.
for t in "$top"/tests/integration/test-*.sh; do
	[ -e "$t" ] && [ "${UNIT_ONLY:-0}" != 1 ] || continue
	name=${t#"$top"/}
	if out=$(ISOCTL="$top/$build/isoctl" ISOLATED="$top/$build/isolated" HELPERS="$top/$build/tests/helpers" \
		TOP="$top" bash "$t" 2>&1); then
		passed=$((passed + 1))
		printf 'PASS %s\n' "$name"
	else
		failed=$((failed + 1))
		failures+=("$name")
		printf 'FAIL %s\n%s\n' "$name" "$out"
	fi
done

[ "$failed" -eq 0 ] || printf 'failed: %s\n' "${failures[*]}"
printf '%d passed, %d failed\n' "$passed" "$failed"
[ "$failed" -eq 0 ]
