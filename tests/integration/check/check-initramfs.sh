#!/usr/bin/env bash
# The initramfs reader on real images: dracut's zstd, xz and gzip images, and an lz4 (legacy
# format, as the kernel's own build writes it) image behind an uncompressed early-microcode cpio
# made by cpio(1). The module lists must equal what cpio -t lists.
source "$DK_SOURCE_ROOT/tests/lib.sh"
source "$DK_SOURCE_ROOT/tests/integration/check/images.sh"
dk_real_parts
dk_tmp
check=$DK_TOOLS/distkernel-check
modules_of() { grep -E '\.ko(\.(xz|zst|gz))?$' | sed 's,.*/,,;s,\.ko.*,,;s,-,_,g' | sort -u; }

for pair in "zstd:$(dk_check_image_virtio)" "xz:$(dk_check_image_luks)" "gzip:$(dk_check_image_no_nvme)"; do
	prog=${pair%%:*} img=${pair#*:}
	dk_expect_status 0 "$check" initramfs "$img"
	sort "$T/out" > "$T/ours"
	"$prog" -dc "$img" | cpio -t --quiet | modules_of > "$T/ref"
	[[ -s $T/ref ]] || dk_fail "cpio -t found no modules in $img"
	diff "$T/ours" "$T/ref" >&2 || dk_fail "$prog image: module lists differ"
	dk_ok "$prog image: $(wc -l < "$T/ours") modules, as cpio -t lists them"
done

mkdir -p "$T/early/kernel/x86/microcode"
head -c 4099 /dev/urandom > "$T/early/kernel/x86/microcode/GenuineIntel.bin"
(cd "$T/early" && find . | cpio -o -H newc --quiet) > "$T/early.cpio"
zstd -dc "$(dk_check_image_virtio)" | lz4 -l -q > "$T/main.lz4"
cat "$T/early.cpio" "$T/main.lz4" > "$T/lz4.img"
dk_expect_status 0 "$check" initramfs "$T/lz4.img" --json
python3 - "$T/out" <<'PY' || dk_fail "lz4 image with an early prefix"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["segments"] == ["cpio", "cpio (lz4)"], d["segments"]
assert "virtio_blk" in d["modules"] and "ext4" in d["modules"], d["modules"]
PY
zstd -dc "$(dk_check_image_virtio)" | cpio -t --quiet | modules_of > "$T/ref"
dk_expect_status 0 "$check" initramfs "$T/lz4.img"
diff <(sort "$T/out") "$T/ref" >&2 || dk_fail "lz4 image: module lists differ"
dk_ok "early-microcode prefix + lz4: both segments read"

# Damaged: a truncated archive and garbage are errors naming the image and the byte.
head -c 300 "$T/early.cpio" > "$T/trunc.img"
dk_expect_status 1 "$check" initramfs "$T/trunc.img"
dk_grep "$T/trunc.img: .*(runs past the end|truncated)" "$T/err"
printf 'not an initramfs at all, no sir' > "$T/garbage.img"
dk_expect_status 1 "$check" initramfs "$T/garbage.img"
dk_grep "$T/garbage.img: byte 0: .* neither a cpio newc header nor a known compression" "$T/err"
head -c 100000 "$(dk_check_image_luks)" > "$T/cut-xz.img"
dk_expect_status 1 "$check" initramfs "$T/cut-xz.img"
dk_grep "$T/cut-xz.img: " "$T/err"
dk_ok "damaged images are errors that name them"
