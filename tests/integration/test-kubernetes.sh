#!/bin/bash
# contrib/kubernetes/isolated.yaml, as far as it can be checked without a
# cluster (contrib/kubernetes/README.md says so): it parses as the four
# objects it should be, yamllint is clean, the DaemonSet has what the
# daemon needs on a node, and its ConfigMap's isolated.conf and host.conf
# pass isolated --check on the 16-CPU fixture host.
. "$(dirname "$0")/lib.sh"
Y=$TOP/contrib/kubernetes/isolated.yaml
PY=/usr/bin/python3
$PY -c 'import yaml' 2>/dev/null || { fail "python3-yaml is not installed (apt-get install python3-yaml)"; finish; }
command -v yamllint >/dev/null || { fail "yamllint is not installed (apt-get install yamllint)"; finish; }

yamllint -s "$Y" >"$T/lint" 2>&1 || fail "yamllint: $(head -5 "$T/lint")"
$PY - "$Y" "$T" <<'EOF' || fail "isolated.yaml: structure"
import sys, yaml
docs = list(yaml.safe_load_all(open(sys.argv[1])))
docs = [d for d in docs if d]
assert [d["kind"] for d in docs] == ["Namespace", "ServiceAccount", "ConfigMap", "DaemonSet"], [d["kind"] for d in docs]
ns = docs[0]["metadata"]["name"]
assert all(d["metadata"].get("namespace") == ns for d in docs[1:]), "every object in the namespace"
cm, ds = docs[2], docs[3]
assert set(cm["data"]) == {"host.conf", "isolated.conf"}, cm["data"].keys()
spec = ds["spec"]["template"]["spec"]
assert ds["spec"]["selector"]["matchLabels"] == ds["spec"]["template"]["metadata"]["labels"]
assert spec["hostPID"] is True and spec["hostNetwork"] is True, "host PID namespace and network"
assert spec["nodeSelector"] == {"isolated.io/rt-host": "true"}
assert spec["serviceAccountName"] == docs[1]["metadata"]["name"]
c = spec["containers"][0]
assert c["command"] == ["/usr/sbin/isolated"]
assert c["securityContext"]["privileged"] is True and c["securityContext"]["runAsUser"] == 0
mounts = {m["mountPath"]: m for m in c["volumeMounts"]}
vols = {v["name"]: v for v in spec["volumes"]}
for path, host in [("/run/isolated", "/run/isolated"), ("/var/lib/isolated", "/var/lib/isolated"),
                   ("/run/dbus", "/run/dbus"), ("/sys/fs/cgroup", "/sys/fs/cgroup")]:
    v = vols[mounts[path]["name"]]
    assert v["hostPath"]["path"] == host, (path, v)
assert vols[mounts["/etc/isolated"]["name"]]["configMap"]["name"] == cm["metadata"]["name"]
assert mounts["/etc/isolated"].get("readOnly") is True
for k, v in cm["data"].items():
    open(sys.argv[2] + "/" + k, "w").write(v)
EOF
"$ISOLATED" --check --conf "$T/isolated.conf" --host-conf "$T/host.conf" --root "$FIX/kvm16" \
	--policies "$TOP/policies" >"$T/check" 2>&1 || fail "isolated --check of the ConfigMap: $(head -5 "$T/check")"
expect_grep "$T/check" '^isolated: configuration OK: 4 modes'

finish
