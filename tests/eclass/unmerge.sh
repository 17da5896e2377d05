#!/usr/bin/env bash
# dist-kernel.eclass's pkg_* phases on a merged kernel, with Portage's default UNINSTALL_IGNORE
# ("/lib/modules/*": unmerge leaves everything there) and CONFIG_PROTECT modelled by the harness,
# the real distkernel-stage and distkernel-install, and Debian's real prebuilt kernel image
# staged under two releases with a small real module tree (tests/fixtures/eclass/dkbin-kernel;
# nothing is built, USE=-initramfs so dracut does not run):
#  - two kernel versions and an external-module package (dkmod, a module in the older kernel's
#    /lib/modules/KV/extra) merged; /usr/src/linux follows the newest;
#  - unmerging the newer kernel removes its /lib/modules/KV entirely (modules, indexes, links)
#    and repoints /usr/src/linux at the older one;
#  - unmerging the older one (depclean of its slot) keeps only dkmod's module there, says so,
#    removes /usr/src/linux, and keeps the saved config (USE=savedconfig) that pkg_postinst
#    refreshed, as savedconfig.eclass does.
# shellcheck source=../lib.sh
source "$(dirname "$0")/../lib.sh"
# shellcheck source=harness.sh
source "$DK_SOURCE_ROOT/tests/eclass/harness.sh"
# shellcheck source=common.sh
source "$DK_SOURCE_ROOT/tests/eclass/common.sh"
dk_real_parts
dk_tmp
for tool in distkernel-stage distkernel-install; do
	[[ -x $DK_TOOLS/$tool ]] || dk_fail "$tool is not built in $DK_TOOLS"
done

PMS_BASE=$T/tmp
PMS_ROOT=$T/root
mkdir -p "$PMS_ROOT/boot"
repo=$T/repo
mkdir -p "$repo/sys-kernel/dkbin-kernel" "$repo/sys-kernel/dkmod"
old=6.1.1 new=6.1.2
kv_old=$old-dkbin kv_new=$new-dkbin
for v in "$old" "$new"; do
	cp "$DK_ECLASS_FIXTURES/dkbin-kernel/dkbin-kernel.ebuild" "$repo/sys-kernel/dkbin-kernel/dkbin-kernel-$v.ebuild"
done
cp "$DK_ECLASS_FIXTURES/dkmod/dkmod.ebuild" "$repo/sys-kernel/dkmod/dkmod-1.ebuild"

# A small real module tree for each release: ext4 and what it needs, from Debian's kernel.
deb_mods=$DK_DEBIAN_ROOT/lib/modules/$DK_DEBIAN_KV
for kv in "$kv_old" "$kv_new"; do
	for m in kernel/fs/ext4 kernel/fs/jbd2 kernel/fs/mbcache.ko kernel/lib/crc16.ko; do
		mkdir -p "$T/modules/$kv/${m%/*}"
		cp -r "$deb_mods/$m" "$T/modules/$kv/$m"
	done
done
PMS_MAKE_CONF="DK_DEBIAN_ROOT=$DK_DEBIAN_ROOT DK_DEBIAN_KV=$DK_DEBIAN_KV DKBIN_MODULES=$T/modules DKMOD_KV=$kv_old"
PMS_USE="-initramfs savedconfig"

# merge CAT/PN-VERSION: built and merged into PMS_ROOT, output in $T/merge-PN-VERSION.log.
merge() {
	local pkg=$1 log=$T/merge-${1#*/}.log
	pms_init "$repo/${pkg%-*}/${pkg##*/}.ebuild" "${pkg%%/*}"
	{ pms_build_source && pms_merge; } > "$log" 2>&1 || { cat "$log" >&2; dk_fail "merging $pkg failed"; }
}
# unmerge CAT/PN-VERSION: output in $T/unmerge-PN-VERSION.log.
unmerge() {
	local pkg=$1 log=$T/unmerge-${1#*/}.log
	pms_init "$repo/${pkg%-*}/${pkg##*/}.ebuild" "${pkg%%/*}"
	pms_unmerge > "$log" 2>&1 || { cat "$log" >&2; dk_fail "unmerging $pkg failed"; }
}

merge "sys-kernel/dkbin-kernel-$old"
merge sys-kernel/dkmod-1
merge "sys-kernel/dkbin-kernel-$new"
[[ -f $PMS_ROOT/lib/modules/$kv_old/extra/dkmod.ko && -f $PMS_ROOT/lib/modules/$kv_new/modules.dep ]] ||
	dk_fail "the merged module trees are not in place"
[[ $(readlink "$PMS_ROOT/usr/src/linux") == linux-$kv_new ]] || dk_fail "/usr/src/linux does not point at linux-$kv_new"
[[ -f $PMS_ROOT/boot/vmlinuz-$kv_new && -f $PMS_ROOT/boot/vmlinuz-$kv_old ]] || dk_fail "pkg_postinst did not install both kernels"
saved=$PMS_ROOT/etc/portage/savedconfig/sys-kernel
[[ -f $saved/dkbin-kernel-$old && -f $saved/dkbin-kernel-$old.base ]] || dk_fail "no saved config of dkbin-kernel-$old"
dk_ok "two kernels and an external module merged (USE=savedconfig)"

# --- the newer kernel unmerged -----------------------------------------------------------------
unmerge "sys-kernel/dkbin-kernel-$new"
dk_grep "^--- !ignore obj /lib/modules/$kv_new/" "$T/unmerge-dkbin-kernel-$new.log"
if [[ -e $PMS_ROOT/lib/modules/$kv_new ]]; then
	find "$PMS_ROOT/lib/modules/$kv_new" >&2
	dk_fail "unmerge left /lib/modules/$kv_new"
fi
[[ ! -e $PMS_ROOT/usr/src/linux-$kv_new && ! -e $PMS_ROOT/boot/vmlinuz-$kv_new ]] ||
	dk_fail "unmerge left /usr/src/linux-$kv_new or /boot/vmlinuz-$kv_new"
[[ $(readlink "$PMS_ROOT/usr/src/linux") == linux-$kv_old ]] ||
	dk_fail "/usr/src/linux points at '$(readlink "$PMS_ROOT/usr/src/linux")', not at the remaining linux-$kv_old"
dk_grep "now points at linux-$kv_old" "$T/unmerge-dkbin-kernel-$new.log"
[[ -f $PMS_ROOT/lib/modules/$kv_old/kernel/fs/ext4/ext4.ko ]] || dk_fail "the older kernel's modules went too"
dk_ok "unmerging $kv_new removed its /lib/modules (UNINSTALL_IGNORE'd by Portage) and repointed /usr/src/linux"

# --- the older kernel unmerged (depclean of its slot) ------------------------------------------
unmerge "sys-kernel/dkbin-kernel-$old"
left=$(cd "$PMS_ROOT/lib/modules/$kv_old" && find . -mindepth 1 ! -type d)
[[ $left == ./extra/dkmod.ko ]] || dk_fail "left in /lib/modules/$kv_old: '$left' (want only dkmod's ./extra/dkmod.ko)"
dk_grep "Kept in $PMS_ROOT/lib/modules/$kv_old: 1 file" "$T/unmerge-dkbin-kernel-$old.log"
dk_grep "extra/dkmod.ko" "$T/unmerge-dkbin-kernel-$old.log"
[[ ! -e $PMS_ROOT/usr/src/linux && ! -L $PMS_ROOT/usr/src/linux ]] || dk_fail "/usr/src/linux is left after the last kernel went"
dk_ok "unmerging $kv_old kept only dkmod's module (and said so), removed /usr/src/linux"
dk_grep "^--- !mtime obj /etc/portage/savedconfig/sys-kernel/dkbin-kernel-$old\$" "$T/unmerge-dkbin-kernel-$old.log"
[[ -f $saved/dkbin-kernel-$old && -f $saved/dkbin-kernel-$old.base ]] ||
	dk_fail "depclean of dkbin-kernel-$old removed its saved config"
dk_ok "the saved config of dkbin-kernel-$old (refreshed by pkg_postinst) outlived its slot"
