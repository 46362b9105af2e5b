#!/bin/bash
# isoctl bench compare on two runs saved on this machine with --output
# (tests/data/bench-run-*.json, each with its .source): the table is the
# golden one, the difference in configuration (the load) is warned about,
# and the saved runs still validate against the schema. Reads files only:
# no root needed, nothing changed.
. "$(dirname "$0")/lib.sh"

D=$TOP/tests/data
A=$D/bench-run-load.json
B=$D/bench-run-noload.json
for f in "$A" "$B"; do
	[ -f "$f" ] && [ -f "$f.source" ] || fail "$f or its .source is missing"
done

# The saved runs are documents of this build's schema.
if /usr/bin/python3 -c 'import jsonschema' 2>/dev/null; then
	/usr/bin/python3 - "$D/bench.schema.json" "$A" "$B" <<'EOF' || fail "a saved run does not validate against bench.schema.json"
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
for p in sys.argv[2:]:
    jsonschema.validate(json.load(open(p)), schema)
EOF
else
	fail "python3-jsonschema is not installed (apt-get install python3-jsonschema)"
fi

# The table, from the repository's root as its golden file names the runs.
cd "$TOP" || finish
run 0 bench compare tests/data/bench-run-load.json tests/data/bench-run-noload.json
diff -u tests/data/bench-compare.expect "$T/out" >"$T/diff" || fail "compare differs from tests/data/bench-compare.expect: $(head -c 1500 "$T/diff")"
expect_eq "compare writes nothing on stderr" "$(cat "$T/err")" ""

# Needs no root.
if [ "$(id -u)" = 0 ]; then
	# Copies nobody can reach (a clone may sit in a 0700 directory).
	mkdir -p "$T/pub"
	cp "$ISOCTL" "$A" "$B" "$T/pub/"
	chmod 755 "$T" "$T/pub"
	chmod 644 "$T/pub/"*.json
	setpriv --reuid=65534 --regid=65534 --clear-groups "$T/pub/isoctl" bench compare \
		"$T/pub/bench-run-load.json" "$T/pub/bench-run-noload.json" >"$T/nobody" 2>&1
	expect_eq "compare as nobody: exit status" "$?" 0
	expect_grep "$T/nobody" '^wakeup latency p99, µs$'
fi

# Errors: too few runs, a run that is not there, a file that is not a run,
# an option that is the bench's.
run 2 bench compare "$A"
expect_grep "$T/err" '^isoctl: usage: isoctl bench compare \[--plot FILE.svg\] RUN.json RUN.json'
run 1 bench compare "$A" "$T/none.json"
expect_grep "$T/err" "^isoctl: bench compare: cannot read $T/none.json: No such file or directory$"
run 1 bench compare "$A" "$D/bench.schema.json"
expect_grep "$T/err" "^isoctl: bench compare: $D/bench.schema.json: not a run of isoctl bench"
run 2 bench --duration 5 compare "$A" "$B"
expect_grep "$T/err" '^isoctl: bench compare takes saved runs and --plot only$'

# --plot: one SVG across the runs, well-formed, a bar per mode and run.
run 0 bench compare --plot "$T/c.svg" "$A" "$B"
/usr/bin/python3 - "$T/c.svg" <<'EOF' || fail "c.svg: not well-formed or not a bar per mode and run"
import sys, xml.dom.minidom
d = xml.dom.minidom.parse(sys.argv[1])
bars = [r for r in d.getElementsByTagName("rect") if r.getAttribute("class").startswith("run")]
assert len([b for b in bars if b.getAttribute("class") == "run1"]) == len([b for b in bars if b.getAttribute("class") == "run2"]) > 0, len(bars)
EOF

finish
