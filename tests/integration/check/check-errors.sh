#!/usr/bin/env bash
# Bad input: each error names the file and the value, with exit 1 (2 for usage).
source "$DK_SOURCE_ROOT/tests/lib.sh"
source "$DK_SOURCE_ROOT/tests/integration/check/images.sh"
dk_real_parts
dk_tmp
check=$DK_TOOLS/distkernel-check
fx=$DK_SOURCE_ROOT/tests/fixtures/check
mods=(--modules "$DK_DEBIAN_ROOT/lib/modules/$DK_DEBIAN_KV")
sed 's/"version": "1.0"/"version": "2.0"/' "$fx/virtio-vm.json" > "$T/v2.json"
dk_expect_status 1 "$check" "$DK_DEBIAN_KV" "${mods[@]}" --machine "$T/v2.json"
dk_grep "$T/v2.json: version 2.0 of distkernel.machine is not supported" "$T/err"
sed 's/"version": "1.0"/"version": "1.7"/' "$fx/virtio-vm.json" > "$T/v17.json"
dk_expect_status 0 "$check" "$DK_DEBIAN_KV" "${mods[@]}" --machine "$T/v17.json" --initramfs "$(dk_check_image_virtio)"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); d["mounts"]["boot"]["free_bytes"]="lots"; json.dump(d,open(sys.argv[2],"w"))' "$fx/virtio-vm.json" "$T/bad.json"
dk_expect_status 1 "$check" "$DK_DEBIAN_KV" "${mods[@]}" --machine "$T/bad.json"
dk_grep "$T/bad.json: mounts.boot.free_bytes: expected a byte count, got \"lots\"" "$T/err"
echo '{"schema": ' > "$T/broken.json"
dk_expect_status 1 "$check" "$DK_DEBIAN_KV" "${mods[@]}" --machine "$T/broken.json"
dk_grep "$T/broken.json: not valid JSON" "$T/err"
dk_expect_status 2 "$check" "../../etc" --machine "$fx/virtio-vm.json"
dk_grep "invalid kernel release '../../etc'" "$T/err"
dk_expect_status 1 "$check" "9.9.9-none" --root "$T" --machine "$fx/virtio-vm.json"
dk_grep "no module tree for 9.9.9-none under $T" "$T/err"
mkdir -p "$T/notatree"
dk_expect_status 1 "$check" "$DK_DEBIAN_KV" --modules "$T/notatree" --machine "$fx/virtio-vm.json"
dk_grep "$T/notatree: not a module tree \(no modules.dep" "$T/err"
dk_ok "errors name the file and the value"
