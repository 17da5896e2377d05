#!/usr/bin/env bash
# A kernel merged into a merged-usr root (/lib a link to usr/lib, as Gentoo's merged-usr profiles
# make it): /lib/modules/KV is /usr/lib/modules/KV there, and its build, source, vmlinuz, config
# and System.map links (staged as ../../../usr/src/linux-KV/...) are rewritten by pkg_preinst so
# that they lead to the staged kernel; pkg_postinst installs it. Debian's prebuilt kernel with a
# small real module tree (tests/fixtures/eclass/dkbin-kernel), USE=-initramfs: nothing is built.
# (The external-module build through the rewritten lib/modules/KV/build is eclass-extmod's, whose
# root is merged-usr too: it needs a kernel build tree, which this prebuilt kernel has not.)
# shellcheck source=../lib.sh
source "$(dirname "$0")/../lib.sh"
# shellcheck source=harness.sh
source "$DK_SOURCE_ROOT/tests/eclass/harness.sh"
# shellcheck source=common.sh
source "$DK_SOURCE_ROOT/tests/eclass/common.sh"
dk_real_parts
dk_tmp
PMS_BASE=$T/tmp
R=$T/root
PMS_ROOT=$R
mkdir -p "$R/usr/lib" "$R/boot"
ln -s usr/lib "$R/lib"
repo=$T/repo/sys-kernel/dkbin-kernel
mkdir -p "$repo"
cp "$DK_ECLASS_FIXTURES/dkbin-kernel/dkbin-kernel.ebuild" "$repo/dkbin-kernel-6.1.1.ebuild"
kv=6.1.1-dkbin
deb_mods=$DK_DEBIAN_ROOT/lib/modules/$DK_DEBIAN_KV
for m in kernel/fs/mbcache.ko kernel/lib/crc16.ko modules.builtin modules.order; do
	mkdir -p "$T/modules/$kv/${m%/*}"
	cp -r "$deb_mods/$m" "$T/modules/$kv/$m"
done
PMS_MAKE_CONF="DK_DEBIAN_ROOT=$DK_DEBIAN_ROOT DK_DEBIAN_KV=$DK_DEBIAN_KV DKBIN_MODULES=$T/modules"
PMS_USE="-initramfs"
pms_init "$repo/dkbin-kernel-6.1.1.ebuild" sys-kernel
{ pms_build_source && pms_merge; } > "$T/merge.log" 2>&1 || { tail -n 30 "$T/merge.log" >&2; dk_fail "merging the kernel failed"; }
[[ -L $R/lib && -d $R/usr/lib/modules/$kv ]] || dk_fail "the merge replaced the /lib link (or missed /usr/lib/modules)"
src=$(readlink -f "$R/usr/src/linux-$kv")
for l in build source; do
	[[ $(readlink -f "$R/lib/modules/$kv/$l") == "$src" ]] ||
		dk_fail "lib/modules/$kv/$l -> $(readlink "$R/lib/modules/$kv/$l") does not lead to $src"
done
for l in vmlinuz config System.map; do
	[[ -f $R/lib/modules/$kv/$l ]] || dk_fail "lib/modules/$kv/$l -> $(readlink "$R/lib/modules/$kv/$l") leads nowhere"
done
[[ -f $R/usr/src/linux-$kv/Makefile || -f $R/usr/src/linux-$kv/.config ]] || dk_fail "no staged tree"
[[ -f $R/boot/vmlinuz-$kv ]] || dk_fail "pkg_postinst installed no /boot/vmlinuz-$kv"
dk_ok "merged-usr: build, source, vmlinuz, config and System.map lead to the staged kernel; installed"
