#!/usr/bin/env bash
# Hostile and damaged initramfs images, made with the real gzip, xz, zstd and cpio: a
# decompression bomb is stopped early without a temporary copy of its output, every part the
# kernel would unpack is read, and a damaged part is an error rather than a short list.
source "$DK_SOURCE_ROOT/tests/lib.sh"
dk_tmp
check=$DK_TOOLS/distkernel-check
export TMPDIR=$T/tmp
mkdir -p "$TMPDIR"

# archive NAME FILE...: a cpio newc archive of the named files (created empty) as cpio writes it.
archive() {
	local dir=$T/tree-$1; shift
	mkdir -p "$dir"
	local f
	for f in "$@"; do mkdir -p "$dir/$(dirname "$f")"; : > "$dir/$f"; done
	(cd "$dir" && printf '%s\n' "$@" | cpio -o -H newc --quiet)
}
archive a lib/modules/6.1.0-1/kernel/fs/ext4/ext4.ko > "$T/a.cpio"
archive b lib/modules/6.1.0-1/kernel/drivers/block/virtio_blk.ko.xz > "$T/b.cpio"

# A gzip member followed by an xz archive: the kernel unpacks both.
gzip -c "$T/a.cpio" > "$T/mixed.img"
xz -c --check=crc32 "$T/b.cpio" >> "$T/mixed.img"
dk_expect_status 0 "$check" initramfs "$T/mixed.img" --json
python3 - "$T/out" <<'PY' || dk_fail "gzip + xz image"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["segments"] == ["cpio (gzip)", "cpio (xz)"], d["segments"]
assert sorted(d["modules"]) == ["ext4", "virtio_blk"], d["modules"]
PY
# zstd with zero padding after it (as a boot loader's alignment leaves) still reads.
{ zstd -q -c "$T/a.cpio"; head -c 1024 /dev/zero; } > "$T/padded.img"
dk_expect_status 0 "$check" initramfs "$T/padded.img"
dk_grep '^ext4$' "$T/out"
dk_ok "every concatenated part is read"

# Damaged: a cut gzip trailer, a wrong CRC, zeros only, an archive without its trailer.
gzip -c "$T/a.cpio" > "$T/good.gz"
head -c -4 "$T/good.gz" > "$T/cut.img"
dk_expect_status 1 "$check" initramfs "$T/cut.img"
dk_grep "$T/cut.img: gzip part at byte 0: damaged \(gzip exited 1\)" "$T/err"
size=$(stat -c %s "$T/good.gz")
cp "$T/good.gz" "$T/crc.img"
printf '\xde\xad\xbe\xef' | dd of="$T/crc.img" bs=1 seek=$((size - 8)) conv=notrunc status=none
dk_expect_status 1 "$check" initramfs "$T/crc.img"
dk_grep "$T/crc.img: gzip part at byte 0: damaged" "$T/err"
head -c 4096 /dev/zero > "$T/zeros.img"
dk_expect_status 1 "$check" initramfs "$T/zeros.img"
dk_grep "$T/zeros.img: empty initramfs image" "$T/err"
trailer=$(grep -abo 'TRAILER!!!' "$T/a.cpio" | cut -d: -f1)
head -c $((trailer - 110)) "$T/a.cpio" > "$T/notrailer.img"
dk_expect_status 1 "$check" initramfs "$T/notrailer.img"
dk_grep "$T/notrailer.img: the cpio archive ends without TRAILER!!!" "$T/err"
gzip -c "$T/notrailer.img" > "$T/notrailer-gz.img"
dk_expect_status 1 "$check" initramfs "$T/notrailer-gz.img"
dk_grep "notrailer-gz.img: gzip part at byte 0: the cpio archive ends without TRAILER!!!" "$T/err"
dk_ok "damaged images are errors"

# A decompression bomb: 2 GiB of file data in a small zstd image. Stopped at the limit, in
# bounded memory, without a temporary file of its output.
{
	printf '070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X' 1 33188 0 0 1 0 $((2 << 30)) 0 0 0 0 5 0
	printf 'zero\0\0'
	head -c $((2 << 30)) /dev/zero
} | zstd -q -1 -c > "$T/bomb.img"
start=$SECONDS
# The memory bound (ulimit -v) only where the tool is not built with AddressSanitizer, which
# reserves terabytes of address space for its shadow memory and cannot start under such a limit.
limit='ulimit -v 1048576;'
# An instrumented program names ASan's entry point, whether the runtime is linked statically
# (clang) or is libasan.so (GCC).
if grep -aq __asan_init "$check"; then limit=; fi
dk_expect_status 1 bash -c "$limit"' exec "$@"' - "$check" initramfs "$T/bomb.img"
dk_grep "$T/bomb.img: zstd part at byte 0: expands beyond 1024 MiB: refusing it as a decompression bomb" "$T/err"
(( SECONDS - start < 60 )) || dk_fail "the bomb took $((SECONDS - start)) s"
[[ -z $(ls -A "$TMPDIR") ]] || dk_fail "left behind in TMPDIR: $(ls -A "$TMPDIR")"
dk_ok "a $(stat -c %s "$T/bomb.img")-byte zstd bomb is refused in $((SECONDS - start)) s"
