#!/usr/bin/env bash
# distkernel-stage prebuilt on Debian's real kernel: the staged layout, the manifest and its
# hashes; bad inputs refused; distkernel-install refusing a corrupted staged kernel and a bad release.
source "$DK_SOURCE_ROOT/tests/lib.sh"
source "$DK_SOURCE_ROOT/tests/integration/install/common.sh"
dk_real_parts
dk_tmp
R=$T/root KV=$DK_DEBIAN_KV
stage=$DK_TOOLS/distkernel-stage install=$DK_TOOLS/distkernel-install

dk_expect_status 0 "$stage" prebuilt --release "$KV" --image "$DK_DEBIAN_ROOT/boot/vmlinuz-$KV" \
	--modules "$DK_DEBIAN_ROOT/lib/modules/$KV" --config "$DK_DEBIAN_CONFIG" \
	--system-map "$DK_DEBIAN_ROOT/boot/System.map-$KV" --variant debian-bin --dest "$R" --json -v
python3 - "$T/out" <<'PY' || dk_fail "stage --json output"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["schema"] == "distkernel.stage-result" and d["files"] > 4000, d
PY
dk_grep 'hashed [0-9]+ files' "$T/err"
src=$R/usr/src/linux-$KV mod=$R/lib/modules/$KV
for f in arch/x86/boot/bzImage .config System.map distkernel.json; do
	[[ -f $src/$f ]] || dk_fail "missing $src/$f"
done
cmp "$src/arch/x86/boot/bzImage" "$DK_DEBIAN_ROOT/boot/vmlinuz-$KV" || dk_fail "staged image differs"
[[ $(readlink "$mod/build") == ../../../usr/src/linux-$KV ]] || dk_fail "build symlink: $(readlink "$mod/build")"
[[ $(readlink "$mod/source") == ../../../usr/src/linux-$KV ]] || dk_fail "source symlink"
[[ -f $mod/vmlinuz && -f $mod/config && -f $mod/System.map ]] || dk_fail "vmlinuz/config/System.map links do not resolve"
[[ -s $mod/modules.dep && -s $mod/modules.alias ]] || dk_fail "depmod did not run on the staged tree"
grep -q 'kernel/fs/ext4/ext4.ko' "$mod/modules.dep" || dk_fail "ext4 missing from modules.dep"
dk_ok "staged layout"

# The manifest: schema, version, every staged file once with the right size and sha256.
python3 - "$R" "$KV" <<'PY' || dk_fail "manifest check"
import hashlib, json, os, random, sys
root, kv = sys.argv[1], sys.argv[2]
m = json.load(open(f"{root}/usr/src/linux-{kv}/distkernel.json"))
assert m["schema"] == "distkernel.staged" and m["version"] == "1.0", m["schema"]
assert m["release"] == kv and m["variant"] == "debian-bin"
assert m["image"] == f"/usr/src/linux-{kv}/arch/x86/boot/bzImage"
files = {f["path"]: f for f in m["files"]}
on_disk = set()
for top in (f"/usr/src/linux-{kv}", f"/lib/modules/{kv}"):
    for d, dirs, names in os.walk(root + top):
        for n in names + [x for x in dirs if os.path.islink(os.path.join(d, x))]:
            p = os.path.join(d, n)[len(root):]
            if p != f"/usr/src/linux-{kv}/distkernel.json":
                on_disk.add(p)
assert on_disk == set(files), (on_disk ^ set(files))
regular = [f for f in m["files"] if "sha256" in f]
assert len(regular) > 4000, len(regular)
for f in random.sample(regular, 50) + [files[m["image"]]]:
    data = open(root + f["path"], "rb").read()
    assert len(data) == f["size"] and hashlib.sha256(data).hexdigest() == f["sha256"], f["path"]
assert files[f"/lib/modules/{kv}/build"]["link"] == f"../../../usr/src/linux-{kv}"
PY
dk_ok "manifest lists every staged file with size and sha256"

# Bad inputs: refused, nothing written.
dk_expect_status 1 "$stage" prebuilt --release "$KV" --image "$DK_DEBIAN_ROOT/boot/vmlinuz-$KV" \
	--modules "$DK_DEBIAN_ROOT/lib/modules/$KV" --config "$DK_DEBIAN_CONFIG" --dest "$R"
dk_grep 'already exists' "$T/err"
dk_expect_status 2 "$stage" prebuilt --release "../../etc" --image "$DK_DEBIAN_ROOT/boot/vmlinuz-$KV" \
	--modules "$DK_DEBIAN_ROOT/lib/modules/$KV" --config "$DK_DEBIAN_CONFIG" --dest "$T/bad"
dk_grep "invalid kernel release '../../etc'" "$T/err"
dk_expect_status 2 "$stage" prebuilt --release x --image /nonexistent --modules "$T" --config "$DK_DEBIAN_CONFIG" --dest "$T/bad"
dk_expect_status 2 "$stage" prebuilt --release "$KV" --image "$DK_DEBIAN_ROOT/boot/vmlinuz-$KV" \
	--modules "$DK_DEBIAN_ROOT/lib/modules/$KV" --config "$DK_DEBIAN_CONFIG" --dest "$T/bad" --compress-modules lz5
dk_grep "unknown module compression 'lz5'" "$T/err"
[[ ! -e $T/bad/usr/src/linux-$KV && ! -e $T/bad/lib/modules/$KV ]] || dk_fail "a refused stage left files"
dk_ok "bad stage inputs refused"

# distkernel-install: a release with ../, nothing installed, a corrupted staged image.
dk_expect_status 2 "$install" add "../../../etc" --root "$R"
dk_grep "invalid kernel release" "$T/err"
dk_expect_status 2 "$install" remove "a/../b" --root "$R"
dk_expect_status 77 "$install" remove "$KV" --root "$R"
dk_expect_status 0 "$install" list --root "$R" --json
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["kernels"]==[], d' "$T/out" || dk_fail "list not empty"
dk_expect_status 1 "$install" add 6.1.0-99-missing --root "$R"
dk_grep 'no staged kernel 6.1.0-99-missing' "$T/err"
printf 'X' >> "$src/arch/x86/boot/bzImage"
dk_expect_status 1 "$install" add "$KV" --root "$R" --no-initramfs
dk_grep 'staged file .*bzImage has [0-9]+ bytes, the manifest says' "$T/err"
truncate -s -1 "$src/arch/x86/boot/bzImage"
printf 'X' | dd of="$src/.config" bs=1 seek=100 conv=notrunc status=none
dk_expect_status 1 "$install" add "$KV" --root "$R" --no-initramfs
dk_grep 'staged file .*\.config has sha256 [0-9a-f]+, the manifest says [0-9a-f]+: the staged kernel is corrupted' "$T/err"
[[ -z $(find "$R/boot" -mindepth 1 2>/dev/null) ]] || dk_fail "a refused install left files in /boot"
dk_ok "corrupted staged kernel refused, /boot untouched"

# The root's own /usr/local/bin/installkernel (the custom layout): chosen automatically, given
# VERSION IMAGE MAP DIR with the initramfs as "initrd" beside the image (Gentoo's convention);
# what it wrote is recorded, and remove takes /boot back to what it was.
C=$T/custom
dk_stage_debian "$C"
mkdir -p "$C/usr/local/bin" "$C/boot"
cat > "$C/usr/local/bin/installkernel" <<'SH'
#!/bin/sh
set -e
# The initrd beside the image must not be put into the package's own /usr/src/linux-KV.
if find "$(dirname "$3")" -name initrd | grep -q .; then echo "an initrd in $(dirname "$3")" >&2; exit 9; fi
case $2 in */usr/src/linux-*) [ ! -f "$(dirname "$2")/initrd" ] || exit 9 ;; esac
cp "$2" "$4/kernel-$1"
cp "$3" "$4/System.map-$1"
if [ -f "$(dirname "$2")/initrd" ]; then cp "$(dirname "$2")/initrd" "$4/initrd-$1"; fi
SH
chmod +x "$C/usr/local/bin/installkernel"
before_custom=$(dk_boot_snapshot "$C")
dk_expect_status 0 "$install" add "$KV" --root "$C" -v "${DK_SMALL_DRACUT[@]}"
dk_grep 'usr/local/bin/installkernel exists and is executable' "$T/err"
for f in kernel-$KV initrd-$KV System.map-$KV; do
	[[ -s $C/boot/$f ]] || dk_fail "the custom installkernel did not get to write /boot/$f"
done
[[ -z $(find "$C/usr/src/linux-$KV" -name initrd) ]] || dk_fail "the initrd handed to installkernel was left in the staged tree"
dk_expect_status 0 "$install" list --root "$C"
dk_grep "^$KV	custom	" "$T/out"
dk_expect_status 0 "$install" remove "$KV" --root "$C"
dk_same_boot "$C" "$before_custom" "remove after a custom installkernel add"
dk_ok "the root's own installkernel: chosen, given the initramfs, recorded, removed"
