#!/usr/bin/env bash
# merge on the real tree with the real Debian config: a Gentoo-like fragment (hostname, local
# version), a directory of fragments, two layers that disagree, a value whose dependency is off
# (dropped, with the reason), an unknown symbol, an optional value; exit 3, then 0 once the
# failing values are marked optional.
source "$DK_SOURCE_ROOT/tests/lib.sh"
dk_real_parts
dk_tmp
cfg=$DK_TOOLS/distkernel-config

mkdir -p "$T/config.d"
cat > "$T/config.d/10-gentoo.config" <<'F'
# what a Gentoo user puts into /etc/kernel/config.d
CONFIG_DEFAULT_HOSTNAME="gentoo"
CONFIG_LOCALVERSION="-dist \"x\""
CONFIG_EXT4_FS=m
F
cat > "$T/config.d/20-virt.config" <<'F'
# CONFIG_KVM is not set
CONFIG_KVM_AMD=m
CONFIG_ZFS=y
# distkernel: optional
CONFIG_DRM_I915_GVT_KVMGT=m
F
cat > "$T/config.d/README" <<'F'
not a fragment: ignored
F
cat > "$T/90-override.config" <<'F'
CONFIG_EXT4_FS=y
F

dk_expect_status 3 "$cfg" merge --tree "$DK_TREE" -O "$T/build" --report "$T/report.json" \
	"$DK_DEBIAN_CONFIG" "$T/config.d" "$T/90-override.config"
final=$T/build/.config
dk_grep '^CONFIG_DEFAULT_HOSTNAME="gentoo"$' "$final"
dk_grep '^CONFIG_LOCALVERSION="-dist \\"x\\""$' "$final"
dk_grep '^CONFIG_EXT4_FS=y$' "$final"
dk_grep '^# CONFIG_KVM is not set$' "$final"
dk_nogrep '^CONFIG_KVM_AMD=' "$final"
# the human report: one line per finding that matters, with origin and reason
dk_grep "^warning: dropped: CONFIG_KVM_AMD=m requested by $T/config.d/20-virt.config:2 became n \(absent\): depends on VIRTUALIZATION && KVM \(KVM is n from $T/config.d/20-virt.config:1\)$" "$T/err"
dk_grep "^warning: unknown: CONFIG_ZFS=y requested by $T/config.d/20-virt.config:3: no such symbol in this kernel$" "$T/err"
dk_grep "^dropped: CONFIG_DRM_I915_GVT_KVMGT=m requested by $T/config.d/20-virt.config:5 became n \(absent\): depends on .*KVM is n.* \(optional\)$" "$T/err"
dk_grep '^verified 7 requested values: 4 kept, 0 changed, 2 dropped, 1 unknown; 2 required value\(s\) did not survive$' "$T/err"
dk_nogrep 'HOSTNAME' "$T/err"

python3 - "$T/report.json" "$T" "$DK_DEBIAN_CONFIG" <<'PY'
import hashlib, json, sys
r = json.load(open(sys.argv[1])); t = sys.argv[2]
assert r["schema"] == "distkernel.config-report" and r["version"] == "1.0", r
sha = lambda p: hashlib.sha256(open(p, "rb").read()).hexdigest()
assert r["base"] == {"path": sys.argv[3], "sha256": sha(sys.argv[3])}, r["base"]
assert [l["path"] for l in r["layers"]] == [t + "/config.d/10-gentoo.config", t + "/config.d/20-virt.config",
                                          t + "/90-override.config"], r["layers"]
assert all(l["sha256"] == sha(l["path"]) for l in r["layers"])
assert r["final"] == {"path": t + "/build/.config", "sha256": sha(t + "/build/.config")}, r["final"]
f = {x["symbol"]: x for x in r["findings"]}
assert f["CONFIG_KVM_AMD"]["status"] == "dropped" and f["CONFIG_KVM_AMD"]["origin"] == {"file": t + "/config.d/20-virt.config", "line": 2}
assert "KVM is n" in f["CONFIG_KVM_AMD"]["reason"]
assert f["CONFIG_ZFS"]["status"] == "unknown" and f["CONFIG_ZFS"]["final"] is None
assert f["CONFIG_DRM_I915_GVT_KVMGT"]["optional"] is True
assert f["CONFIG_EXT4_FS"]["status"] == "kept" and f["CONFIG_EXT4_FS"]["origin"]["file"] == t + "/90-override.config"
assert f["CONFIG_DEFAULT_HOSTNAME"]["final"] == '"gentoo"'
# the two layers that disagree, as data
ov = [o for o in r["overrides"] if o["symbol"] == "CONFIG_EXT4_FS"]
assert [(o["before"]["value"], o["after"]["value"]) for o in ov] == [("m", "y")], ov
assert ov[-1]["before"]["origin"] == {"file": t + "/config.d/10-gentoo.config", "line": 4}, ov
assert ov[-1]["after"]["origin"] == {"file": t + "/90-override.config", "line": 1}, ov
assert r["summary"] == {"requested": 7, "kept": 4, "changed": 0, "dropped": 2, "unknown": 1, "failures": 2}, r["summary"]
assert r["ok"] is False and r["verified"] is True
PY
dk_ok "dropped, unknown, optional and overridden values reported with origin and reason"

# marking what cannot survive as optional makes the run succeed (and --json prints the report)
sed -i 's/^CONFIG_KVM_AMD=m/# distkernel: optional\n&/; s/^CONFIG_ZFS=y/# distkernel: optional\n&/' "$T/config.d/20-virt.config"
dk_expect_status 0 "$cfg" merge --json --tree "$DK_TREE" -O "$T/build" "$DK_DEBIAN_CONFIG" "$T/config.d" "$T/90-override.config"
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["ok"] and r["summary"]["failures"] == 0, r["summary"]' "$T/out"
dk_grep 'every required value survived' "$T/err"

# verify alone, against the final .config, gives the same verdicts
dk_expect_status 0 "$cfg" verify --config "$final" --tree "$DK_TREE" "$T/config.d" "$T/90-override.config"
dk_grep '^dropped: CONFIG_KVM_AMD=m requested by .*20-virt.config:3 became n \(absent\): depends on VIRTUALIZATION && KVM \(KVM is n from .*20-virt.config:1\) \(optional\)$' "$T/err"
echo 'CONFIG_EXT4_FS=m' > "$T/want-m.config"
dk_expect_status 3 "$cfg" verify --config "$final" --tree "$DK_TREE" "$T/want-m.config"
dk_grep "^warning: changed: CONFIG_EXT4_FS=m requested by $T/want-m.config:1 became y" "$T/err"
dk_ok "verify"
