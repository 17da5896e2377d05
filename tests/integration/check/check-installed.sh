#!/usr/bin/env bash
# End to end with the real tools: Debian's kernel staged (distkernel-stage prebuilt), checked
# before install (no initramfs yet; room against the snapshot's /boot), installed with a real
# dracut image (distkernel-install add), checked again (the initramfs found in ROOT/boot), then
# removed (distkernel-install remove) and its leftovers cleaned away (distkernel-clean --all: the
# module tree and sources without a kernel). Before and after
# the install, the reads (install list, check, clean --pretend) leave the root exactly as it was.
source "$DK_SOURCE_ROOT/tests/lib.sh"
dk_real_parts
dk_tmp
kv=$DK_DEBIAN_KV
r=$T/root
fx=$DK_SOURCE_ROOT/tests/fixtures/check/qemu-pc-virtio.json
check=$DK_TOOLS/distkernel-check
echo "staging $kv into $r (copies about 400 MB)" >&2
dk_expect_status 0 "$DK_TOOLS/distkernel-stage" prebuilt --release "$kv" --image "$DK_DEBIAN_ROOT/boot/vmlinuz-$kv" \
	--modules "$DK_DEBIAN_ROOT/lib/modules/$kv" --config "$DK_DEBIAN_CONFIG" --dest "$r"

# Before install: the snapshot's /boot (20 MB free) is too small; with room it is ok, with
# warnings that the initramfs to come must hold the root's modules.
dk_expect_status 5 "$check" "$kv" --root "$r" --machine "$fx"
dk_grep "error \[room\]: /boot has 20000000 bytes free, $kv needs about [0-9]+ \(image [0-9]+ bytes" "$T/err"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); d["mounts"]["boot"]["free_bytes"]=10**10; json.dump(d,open(sys.argv[2],"w"))' "$fx" "$T/roomy.json"
dk_expect_status 0 "$check" "$kv" --root "$r" --machine "$T/roomy.json"
dk_grep "warning \[root\]: .*needs virtio_blk from an initramfs, and none was found" "$T/err"
dk_ok "staged, not installed: room and the initramfs to come"

# reads_change_nothing WHAT: every entry of the root with its type, mode, size, mtime and link target,
# before and after the read-only commands.
reads_change_nothing() {
	local before after
	before=$(find "$r" -printf '%y %m %s %T@ %p -> %l\n' | sort)
	dk_expect_status 0 "$DK_TOOLS/distkernel-install" list --root "$r" --json
	"$check" "$kv" --root "$r" --machine "$T/roomy.json" >/dev/null 2>&1 || true
	local rc=0
	"$DK_TOOLS/distkernel-clean" --root "$r" --running 1.0.0-other --keep 1 --all --pretend >/dev/null 2>&1 || rc=$?
	[[ $rc == 0 || $rc == 77 ]] || dk_fail "distkernel-clean --pretend exited $rc"
	after=$(find "$r" -printf '%y %m %s %T@ %p -> %l\n' | sort)
	[[ $before == "$after" ]] || { diff <(echo "$before") <(echo "$after") >&2; dk_fail "a read changed the root ($1)"; }
	dk_ok "install list, check and clean --pretend changed nothing ($1)"
}
reads_change_nothing "staged, nothing installed"

echo "installing $kv with a small dracut image" >&2
dk_expect_status 0 "$DK_TOOLS/distkernel-install" add "$kv" --root "$r" --layout installkernel \
	--dracut-arg=--drivers "--dracut-arg=virtio_pci virtio_blk ext4" \
	--dracut-arg=--omit "--dracut-arg=crypt dm nvdimm lunmask resume qemu virtiofs terminfo usrmount"
dk_expect_status 0 "$check" "$kv" --root "$r" --machine "$fx" --json
dk_grep "\"initramfs\": \"$r/boot/initramfs-$kv.img\"" "$T/out"
dk_grep "info \[room\]: $kv is already installed" "$T/err"
dk_nogrep "warning \[root\]" "$T/err"
dk_ok "installed: the initramfs in ROOT/boot holds the root's drivers"
reads_change_nothing "installed"

# clean never removes the newest kernel: --keep 0 is refused, the root unchanged.
dk_expect_status 2 "$DK_TOOLS/distkernel-clean" --root "$r" --running 1.0.0-other --keep 0
dk_grep 'keep 0 would remove every kernel, the newest too' "$T/err"
reads_change_nothing "clean --keep 0 refused"
dk_expect_status 0 "$DK_TOOLS/distkernel-install" remove "$kv" --root "$r"
for p in /boot/vmlinuz-$kv /boot/initramfs-$kv.img /var/lib/distkernel/kernels/$kv.json; do
	[[ ! -e $r$p ]] || dk_fail "remove left $p"
done
dk_expect_status 0 "$DK_TOOLS/distkernel-clean" --root "$r" --running 1.0.0-other --keep 1 --all --json
for p in /lib/modules/$kv /usr/src/linux-$kv; do
	[[ ! -e $r$p ]] || dk_fail "clean left $p"
done
dk_nogrep '"reason": "(running|pinned)"' "$T/out"
dk_ok "removed by distkernel-install remove, the leftovers by clean --all: boot files, record, modules and sources gone"
