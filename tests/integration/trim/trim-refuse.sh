#!/usr/bin/env bash
# The trimmed configuration checked before anything is built: `distkernel-config trim` of Debian's
# 6.1 config for machine A's snapshot (collected in the guest, tests/fixtures/trim), the module
# tree that configuration yields (Debian's files of the modules it keeps), then distkernel-check
# against both machines: A is covered; B, whose root is on AHCI, is refused (will not boot),
# naming the AHCI controller and its module.
source "$DK_SOURCE_ROOT/tests/lib.sh"
dk_real_parts
source "$DK_SOURCE_ROOT/tests/integration/trim/common.sh"
dk_tmp
for t in distkernel-config distkernel-check; do
	[[ -x $DK_TOOLS/$t ]] || dk_fail "$t is not built in $DK_TOOLS"
done
mods=$DK_DEBIAN_ROOT/lib/modules/$DK_DEBIAN_KV
started=$SECONDS
dk_expect_status 0 "$DK_TOOLS/distkernel-config" trim --machine "$DK_TRIM_FIXTURES/machine-A.json" --tree "$DK_TREE" \
	--base "$DK_DEBIAN_CONFIG" --modules "$mods" --json -o "$T/A.layer"
cp "$T/out" "$T/trim.json"
echo "trim: $((SECONDS - started)) s" >&2
tree=$(dk_trim_projected_tree "$T/trim.json" "$T/projected")
# The issue's goals, from the configurations (tests/bench/trim measures the build itself):
# modules at most 15 % of the base's size, objects to build at most 25 % of the base's.
bytes() { find "$1" -name '*.ko*' -printf '%s\n' | awk '{s+=$1} END{print s+0}'; }
python3 - "$T/trim.json" "$(find "$tree" -name '*.ko*' | wc -l)" "$(bytes "$tree")" "$(find "$mods" -name '*.ko*' | wc -l)" "$(bytes "$mods")" <<'PY' ||
import json, sys
c = json.load(open(sys.argv[1]))["counts"]
kept, kept_b, base, base_b = map(int, sys.argv[2:])
print(f"the trimmed configuration keeps {kept} of Debian's {base} modules, {100 * kept_b / base_b:.1f} % of their size; "
      f"{c['trimmed_objects']} of {c['base_objects']} objects to build ({100 * c['trimmed_objects'] / c['base_objects']:.1f} %)",
      file=sys.stderr)
sys.exit(0 if kept_b <= 0.15 * base_b and c["trimmed_objects"] <= 0.25 * c["base_objects"] else 1)
PY
	dk_fail "the trimmed configuration misses a goal: modules <= 15 % of the base's size, objects <= 25 %"
for m in virtio_blk virtio_pci virtio_net e1000 ext4 vfat xhci_pci usbhid; do
	modinfo -b "$T/projected" -k "$DK_DEBIAN_KV" "$m" >/dev/null 2>&1 || dk_fail "the trimmed configuration lacks $m, which machine A uses"
done
! modinfo -b "$T/projected" -k "$DK_DEBIAN_KV" ahci >/dev/null 2>&1 || dk_fail "the trimmed configuration keeps ahci, which machine A lacks"

dk_expect_status 0 "$DK_TOOLS/distkernel-check" "$DK_DEBIAN_KV" --modules "$tree" --machine "$DK_TRIM_FIXTURES/machine-A.json"
dk_ok "machine A: covered by the trimmed configuration's modules"
dk_expect_status 5 "$DK_TOOLS/distkernel-check" "$DK_DEBIAN_KV" --modules "$tree" --machine "$DK_TRIM_FIXTURES/machine-B.json"
dk_grep 'will not boot' "$T/err"
dk_grep 'error \[root\]: sda of / device .*driver ahci' "$T/err"
dk_grep 'module ahci is loaded now and .* has no counterpart' "$T/err"
dk_ok "machine B: refused before any build (its AHCI root has no driver in the trimmed kernel)"
echo "trim-refuse: $((SECONDS - started)) s" >&2
