#!/usr/bin/env bash
# Each shipped preset applied as a layer over the real Debian config on the real 6.1 tree: merge
# (the kernel's olddefconfig) verifies that every value the preset requires survives, check-preset
# agrees on the result; check-preset finds a deliberately missing symbol with its reason; the
# /etc/kernel selection gives the preset files as layers, and an unknown name fails with file:line.
source "$DK_SOURCE_ROOT/tests/lib.sh"
dk_real_parts
dk_tmp
cfg=$DK_TOOLS/distkernel-config
presets=$DK_SOURCE_ROOT/data/presets

names=$("$cfg" presets --list --preset-dir "$presets" | cut -f1)
for want in docker kvm-host kvm-guest systemd zfs-ready hardened debug; do
	grep -qx "$want" <<<"$names" || dk_fail "preset $want is not shipped"
done

for name in $names; do
	echo "applying preset $name to the Debian config (olddefconfig)" >&2
	# Every value carries a note (checked below): a comment line right above it.
	dk_expect_status 0 "$cfg" merge --tree "$DK_TREE" -O "$T/$name" --report "$T/$name.json" \
		"$DK_DEBIAN_CONFIG" "$presets/$name.config"
	python3 - "$T/$name.json" "$presets/$name.config" <<'PY' || dk_fail "preset $name: report"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["ok"], r["summary"]
need = [f for f in r["findings"] if not f["optional"]]
assert need and all(f["survived"] for f in need), [f for f in need if not f["survived"]]
lines = open(sys.argv[2]).read().split("\n")
for f in r["findings"]:
	above = [l for l in lines[:f["origin"]["line"] - 1] if l and not l.startswith("# distkernel:")]
	assert above and above[-1].startswith("# ") and not above[-1].startswith("# CONFIG_"), f"no note above {f['symbol']}"
PY
	dk_expect_status 0 "$cfg" check-preset "$name" --preset-dir "$presets" --config "$T/$name/.config"
	dk_grep "preset $name: .* satisfied" "$T/err"
	rm -rf "$T/$name"/{scripts,include} # keep only what the next checks read
done
dk_ok "every preset's required values survive olddefconfig on the Debian config"

# A .config without CONFIG_VETH (the containers' network) and with cgroups' memory controller off.
sed -e '/^CONFIG_VETH=/d' -e 's/^CONFIG_MEMCG=y$/# CONFIG_MEMCG is not set/' "$DK_DEBIAN_CONFIG" > "$T/broken.config"
dk_expect_status 3 "$cfg" check-preset docker --preset-dir "$presets" --config "$T/broken.config" --tree "$DK_TREE"
dk_grep '^warning: missing: dropped: CONFIG_VETH=m .*docker.config:[0-9]+ became n' "$T/err"
dk_grep 'CONFIG_VETH=m.*\[preset: A container.s end of the network is one side of a veth pair' "$T/err"
dk_grep '^warning: missing: dropped: CONFIG_MEMCG=y' "$T/err"
dk_grep '2 required value\(s\) missing' "$T/err"
dk_expect_status 3 "$cfg" --json check-preset docker --preset-dir "$presets" --config "$T/broken.config"
python3 - "$T/out" <<'PY' || dk_fail "check-preset --json"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["schema"] == "distkernel.preset-check" and d["missing"] == 2 and not d["ok"], d
m = [f for f in d["findings"] if not f["survived"] and not f["optional"]]
assert sorted(f["symbol"] for f in m) == ["CONFIG_MEMCG", "CONFIG_VETH"], m
assert all(f["note"] for f in m)
PY
dk_ok "check-preset names the missing symbols with the preset's reason"

# Selection under ROOT/etc/kernel.
mkdir -p "$T/root/etc/kernel"
dk_expect_status 0 "$cfg" presets --root "$T/root" --preset-dir "$presets"
[[ ! -s $T/out ]] || dk_fail "no selection file must select nothing"
printf '# presets for this machine\ndocker systemd\n\nkvm-host # VMs too\n' > "$T/root/etc/kernel/distkernel-presets"
dk_expect_status 0 "$cfg" presets --root "$T/root" --preset-dir "$presets"
printf '%s\n' "$presets/docker.config" "$presets/systemd.config" "$presets/kvm-host.config" > "$T/want"
diff -u "$T/want" "$T/out" || dk_fail "selected presets"
printf 'docker\nkubernetes\n' > "$T/root/etc/kernel/distkernel-presets"
dk_expect_status 1 "$cfg" presets --root "$T/root" --preset-dir "$presets"
dk_grep 'etc/kernel/distkernel-presets:2: .*no preset .kubernetes.' "$T/err"
dk_expect_status 2 "$cfg" check-preset no-such --preset-dir "$presets" --config "$T/broken.config"
dk_grep 'no preset .no-such. .*known: debug, docker' "$T/err"
dk_ok "preset selection"
