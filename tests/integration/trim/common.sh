# Shared set-up of the trim proof's tests (sourced after tests/lib.sh and dk_real_parts).
# shellcheck shell=bash
# shellcheck source=../check/images.sh
source "$DK_SOURCE_ROOT/tests/integration/check/images.sh"

DK_TRIM_DIR=$DK_SOURCE_ROOT/tests/integration/trim
DK_TRIM_FIXTURES=$DK_SOURCE_ROOT/tests/fixtures/trim

# The initramfs that boots Debian's kernel on both machines: dracut's small systemd image with
# the drivers of both roots (virtio, AHCI) and ext4; cached.
dk_trim_debian_initramfs() {
	dk_check_image trim-machine zstd --drivers "virtio_pci virtio_blk ext4 ahci sd_mod" \
		--omit "crypt dm nvdimm lunmask resume qemu virtiofs terminfo usrmount"
}

# dk_trim_collect_debian MACHINE OUTDIR: the machine booted with Debian's prebuilt kernel, its
# documents collected into OUTDIR (tests/integration/trim/collect).
dk_trim_collect_debian() {
	local initrd
	initrd=$(dk_trim_debian_initramfs)
	"$DK_TRIM_DIR/collect" "$1" "$DK_DEBIAN_ROOT/boot/vmlinuz-$DK_DEBIAN_KV" "$initrd" \
		"$DK_DEBIAN_ROOT/lib/modules/$DK_DEBIAN_KV" "$2"
}

# dk_trim_snapshot_has FILE PYTHON-EXPRESSION WHAT: fails with WHAT unless the expression is true
# of the snapshot (d: the document; devs: its devices; root: its root chain's device drivers).
dk_trim_snapshot_has() {
	python3 - "$1" "$2" <<'PY' || dk_fail "$1: $3"
import json, sys
d = json.load(open(sys.argv[1]))
devs = d["devices"]
root = [x["driver"] for layer in d["mounts"]["root"]["chain"] for x in layer["devices"]]
sys.exit(0 if eval(sys.argv[2]) else 1)
PY
}

# dk_trim_projected_tree TRIM-JSON DIR: the module tree a trimmed config yields, without building
# it: the files of Debian's prebuilt tree for the modules `distkernel-config trim --json` keeps
# (hard links where possible), Debian's modules.builtin*, then depmod. Prints DIR/lib/modules/KV.
dk_trim_projected_tree() {
	local json=$1 dir=$2
	local src=$DK_DEBIAN_ROOT/lib/modules/$DK_DEBIAN_KV dst=$2/lib/modules/$DK_DEBIAN_KV
	mkdir -p "$dst"
	cp "$src"/modules.builtin* "$src/modules.order" "$dst/"
	local module file rel
	while read -r module; do
		file=$(modinfo -b "$DK_DEBIAN_ROOT" -k "$DK_DEBIAN_KV" -F filename "$module" 2>/dev/null) || continue
		[[ $file == "$src"/* ]] || continue
		rel=${file#"$src"/}
		mkdir -p "$dst/$(dirname "$rel")"
		ln -f "$file" "$dst/$rel" 2>/dev/null || cp "$file" "$dst/$rel"
	done < <(python3 -c 'import json,sys; [print(k["module"]) for k in json.load(open(sys.argv[1]))["kept"]]' "$json")
	depmod -b "$dir" "$DK_DEBIAN_KV" || dk_fail "depmod of the projected tree $dst failed"
	echo "$dst"
}
