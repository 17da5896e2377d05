#!/usr/bin/env bash
# The -bin variant (dist-kernel-bin.eclass) with the real parts: the shared test kernel's build
# staged by dktest-kernel's src_install with DIST_KERNEL_GENERIC_INITRAMFS=1 (one dracut run, the
# generic initramfs in the image), packed as the -bin tarball; dktest-kernel-bin built from it
# (nothing compiled) and merged into two roots: a traditional /boot (booted in QEMU) and BLS,
# both installing the prebuilt initramfs without a dracut run; then a third root whose
# dracut.conf.d says hostonly=yes, where pkg_postinst says so and builds its own with dracut.
# Prints the merge's time (pkg_postinst's install) with the prebuilt initramfs and with the dracut
# run.
# shellcheck source=../lib.sh
source "$(dirname "$0")/../lib.sh"
# shellcheck source=harness.sh
source "$DK_SOURCE_ROOT/tests/eclass/harness.sh"
# shellcheck source=common.sh
source "$DK_SOURCE_ROOT/tests/eclass/common.sh"
dk_kernel_test_start distkernel-config distkernel-stage distkernel-install
PMS_BASE=$T/pms
PMS_ROOT=$T/build-root
mkdir -p "$PMS_ROOT"
ver=$(dk_tree_version)
kv=$ver-dktest

# --- the build host: the source package staged with its generic initramfs, packed --------------
PMS_MAKE_CONF="DK_TREE=$DK_TREE DISTKERNEL_CACHE=$DK_CACHE DIST_KERNEL_GENERIC_INITRAMFS=1"
PMS_USE=""
ebuild=$(dk_test_ebuild "$T")
pms_init "$ebuild" sys-kernel
for phase in pkg_setup src_unpack src_prepare src_configure; do
	pms_phase "$phase" > "$T/configure.log" 2>&1 || { tail -n 40 "$T/configure.log" >&2; dk_fail "$phase died"; }
done
cmp -s "$PMS_BUILDDIR/work/build/.config" "$prebuilt/.config" ||
	dk_fail "src_configure made another .config than the shared test kernel's ($prebuilt/.config)"
rm -rf "$PMS_BUILDDIR/work/build"
ln -s "$prebuilt" "$PMS_BUILDDIR/work/build"
t0=$EPOCHREALTIME
pms_phase src_install > "$T/install.log" 2>&1 || { tail -n 40 "$T/install.log" >&2; dk_fail "src_install died"; }
generic_s=$(printf '%.1f' "$(echo "$EPOCHREALTIME - $t0" | bc -l)")
image=$PMS_BUILDDIR/image
generic=$image/usr/src/linux-$kv/initramfs-generic.img
[[ -s $generic ]] || dk_fail "src_install with DIST_KERNEL_GENERIC_INITRAMFS=1 made no $generic"
lsinitrd "$generic" > "$T/lsinitrd.txt" 2>&1 || dk_fail "lsinitrd cannot read $generic"
dk_grep 'ext4\.ko' "$T/lsinitrd.txt"
dk_ok "src_install staged $kv with a generic initramfs ($(stat -c %s "$generic") bytes, ${generic_s} s) at $((SECONDS - started)) s"
tarball=$T/dktest-kernel-bin-$ver.tar
tar -C "$image" -cf "$tarball" "usr/src/linux-$kv" "lib/modules/$kv" || dk_fail "packing the -bin tarball failed"

# --- the -bin package, merged into a root ------------------------------------------------------
binrepo=$T/repo/sys-kernel/dktest-kernel-bin
mkdir -p "$binrepo"
cp "$DK_ECLASS_FIXTURES/dktest-kernel-bin/dktest-kernel-bin.ebuild" "$binrepo/dktest-kernel-bin-$ver.ebuild"
PMS_MAKE_CONF="A=dktest-kernel-bin-$ver.tar"
PMS_USE=""
# bin_merge ROOT NAME: builds the -bin package from the tarball and merges it into ROOT; the
# merge's output in $T/merge-NAME.log, the merge's seconds (pkg_preinst, the copy, pkg_postinst) in merge_s.
bin_merge() {
	PMS_ROOT=$1
	pms_init "$binrepo/dktest-kernel-bin-$ver.ebuild" sys-kernel
	ln -s "$tarball" "$PMS_BUILDDIR/distdir/"
	pms_build_source > "$T/build-$2.log" 2>&1 || { tail -n 40 "$T/build-$2.log" >&2; dk_fail "building the -bin package died"; }
	[[ -f $PMS_BUILDDIR/image/usr/src/linux-$kv/distkernel.json ]] || dk_fail "the -bin image has no staged $kv"
	local t0=$EPOCHREALTIME
	pms_merge > "$T/merge-$2.log" 2>&1 || { cat "$T/merge-$2.log" >&2; dk_fail "merge into $PMS_ROOT failed"; }
	merge_s=$(printf '%.1f' "$(echo "$EPOCHREALTIME - $t0" | bc -l)")
	dk_nogrep 'emerge --config' "$T/merge-$2.log"
}

root1=$T/root1
mkdir -p "$root1"
bin_merge "$root1" traditional
dk_grep "using the prebuilt generic initramfs" "$T/merge-traditional.log"
dk_nogrep "building the initramfs" "$T/merge-traditional.log"
[[ -f $root1/boot/vmlinuz-$kv ]] || dk_fail "pkg_postinst installed no /boot/vmlinuz-$kv"
cmp -s "$root1/boot/initramfs-$kv.img" "$generic" || dk_fail "/boot/initramfs-$kv.img is not the prebuilt generic one"
python3 -c 'import json, sys; sys.exit(json.load(open(sys.argv[1]))["prebuilt_initramfs"] is not True)' "$root1/var/lib/distkernel/kernels/$kv.json" ||
	dk_fail "the record of $kv does not say the initramfs is the prebuilt one"
dk_ok "-bin: pkg_postinst installed $kv into the traditional layout with the prebuilt initramfs (${merge_s} s)"
prebuilt_merge_s=$merge_s
"$DK_SOURCE_ROOT/tests/qemu-boot" "$root1/boot/vmlinuz-$kv" "$root1/boot/initramfs-$kv.img" "$T/boot1.log" ||
	dk_fail "the -bin kernel installed in $root1 did not boot"
dk_grep "DISTKERNEL-BOOT-OK [0-9a-f]+ $kv" "$T/boot1.log"
dk_ok "booted $kv with the prebuilt initramfs from $root1/boot in QEMU"

root2=$T/root2
mkdir -p "$root2/etc/kernel" "$root2/boot/loader/entries"
echo layout=bls > "$root2/etc/kernel/install.conf"
bin_merge "$root2" bls
dk_grep "using the prebuilt generic initramfs" "$T/merge-bls.log"
entry=$(grep -l "$kv" "$root2"/boot/loader/entries/*.conf 2>/dev/null | head -n 1)
[[ -n $entry ]] || { find "$root2/boot" >&2; dk_fail "no BLS entry for $kv in $root2"; }
initrd2=$(awk '$1=="initrd"{print $2}' "$entry")
cmp -s "$root2/boot/${initrd2#/}" "$generic" || dk_fail "the BLS entry's initrd is not the prebuilt generic one"
dk_ok "-bin: pkg_postinst installed $kv as the BLS entry ${entry##*/} with the prebuilt initramfs (${merge_s} s)"

# --- a root whose dracut configuration asks for a host-only initramfs --------------------------
root3=$T/root3
mkdir -p "$root3/etc/dracut.conf.d"
echo 'hostonly="yes"' > "$root3/etc/dracut.conf.d/50-hostonly.conf"
bin_merge "$root3" hostonly
dk_grep "not using the prebuilt generic initramfs .*: a host-only initramfs is asked for \(.*50-hostonly.conf:1" \
	"$T/merge-hostonly.log"
dk_grep "building the initramfs" "$T/merge-hostonly.log"
[[ -s $root3/boot/initramfs-$kv.img ]] || dk_fail "no initramfs in $root3/boot"
cmp -s "$root3/boot/initramfs-$kv.img" "$generic" && dk_fail "$root3 got the prebuilt initramfs despite hostonly=yes"
python3 -c 'import json, sys; sys.exit(json.load(open(sys.argv[1]))["prebuilt_initramfs"] is not False)' "$root3/var/lib/distkernel/kernels/$kv.json" ||
	dk_fail "the record of $kv in $root3 says prebuilt"
dk_ok "-bin: hostonly=yes in $root3's dracut.conf.d: pkg_postinst said so and ran dracut (${merge_s} s)"

echo "-bin: src_install with the generic initramfs ${generic_s} s; merge with the prebuilt initramfs ${prebuilt_merge_s} s, with a dracut run ${merge_s} s" >&2
echo "eclass bin test: $((SECONDS - started)) s" >&2
