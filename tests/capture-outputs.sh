#!/bin/bash
# capture-outputs.sh ISOCTL OUTDIR: what isoctl prints (stdout, stderr, exit
# status) on the fixture trees, as text and --json: list, check, status,
# verify, and for each mode show, plan, check, grub, apply --dry-run, then an
# apply on a copy of the tree with status, verify, revert and the checksums
# of the tree it leaves; the bad policies; usage errors. Times, pids and the
# temporary paths are normalised, so that two builds can be compared:
#   tests/capture-outputs.sh OLD/build/isoctl /tmp/a
#   tests/capture-outputs.sh build/isoctl /tmp/b && diff -r /tmp/a /tmp/b
# A developer's tool for changes that must not change behaviour; it writes
# only below OUTDIR and a temporary directory.
set -u
[ $# -eq 2 ] || { echo "usage: $0 ISOCTL OUTDIR" >&2; exit 2; }
ISOCTL=$(realpath "$1")
OUT=$(realpath -m "$2")
TOP=$(cd "$(dirname "$0")/.." && pwd)
BTOP=$(dirname "$(dirname "$ISOCTL")") # the build tree the binary is in
W=$(mktemp -d /tmp/capture.XXXXXX)
trap 'rm -rf "$W"' EXIT
mkdir -p "$OUT" && rm -f "$OUT"/*
cp -a "$TOP/tests/fixtures" "$W/fix" && cp -a "$TOP/policies" "$W/pol"
P="-p $W/pol"

cap() { # NAME ARGS...: one run of isoctl
	local name=$1
	shift
	(cd "$TOP" && exec -a isoctl "$ISOCTL" "$@") >"$OUT/$name.out" 2>"$OUT/$name.err"
	echo "rc=$?" >>"$OUT/$name.err"
}

for tree in kvm16 kvm16-rt vm2; do
	R=$W/fix/$tree
	for j in "" --json; do
		t=$tree${j:+-json}
		cap "$t-list" --root "$R" $P $j list
		cap "$t-check" --root "$R" $P $j check
		cap "$t-status" --root "$R" $P $j status
		cap "$t-status-all" --root "$R" $P $j --all status
		cap "$t-verify" --root "$R" $P $j verify
		for m in vanilla rt-only dedicated outsourcing; do
			cap "$t-show-$m" --root "$R" $P $j show $m
			cap "$t-plan-$m" --root "$R" $P $j plan $m
			cap "$t-check-$m" --root "$R" $P $j check $m
			cap "$t-grub-$m" --root "$R" $P $j grub $m
			cap "$t-dry-$m" --root "$R" $P $j --dry-run apply $m
		done
		for m in dedicated outsourcing rt-only; do
			C=$W/copy
			rm -rf "$C" && cp -a "$R" "$C"
			cap "$t-apply-$m" --root "$C" $P $j apply $m
			cap "$t-after-$m-status" --root "$C" $P $j status
			cap "$t-after-$m-verify" --root "$C" $P $j verify
			cap "$t-after-$m-revert" --root "$C" $P $j revert
			(cd "$C" && find . -type f ! -name lock -print0 | sort -z | xargs -0 sha1sum) >"$OUT/$t-tree-$m.sum"
		done
	done
done
cap examples-plan --config policies/examples --root "$W/fix/vm2" plan dedicated
cap examples-plan-web --config policies/examples --policies policies/examples --root "$W/fix/vm2" plan webserver-2cpu
cap help --help
cap version --version
cap noargs
cap badcmd frob
cap badopt --frob list
cap nowait-show --root "$W/fix/vm2" --no-wait show dedicated
for f in "$TOP"/tests/bad-policies/*.conf; do
	b=$(basename "$f" .conf)
	mkdir -p "$W/bad" && rm -f "$W/bad"/* && cp "$f" "$W/bad/dedicated.conf" && chmod 644 "$W/bad/dedicated.conf"
	cap "bad-$b" --root "$W/fix/kvm16" --policies "$W/bad" check
	cap "bad-$b-json" --root "$W/fix/kvm16" --policies "$W/bad" --json check dedicated
done
sed -i -E 's/20[0-9]{2}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2} \+0000/DATE/; s/"applied_at":[0-9]+/"applied_at":T/' "$OUT"/*
sed -i -e "s#$W/#TMP/#g" -e "s#$BTOP/#TREE/#g" "$OUT"/*
echo "$(ls "$OUT" | wc -l) outputs in $OUT"
