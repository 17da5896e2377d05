#!/usr/bin/env bash
# dist-kernel.eclass end to end, with the real parts: the test kernel (tests/fixtures/eclass/
# dktest-kernel) built from the real 6.1 tree through the phases in Portage's order, merged into
# a temporary ROOT (traditional /boot layout) and booted in QEMU from what pkg_postinst
# installed; then the same image as a binary package, merged into a second ROOT with the BLS
# layout (pkg_postinst with MERGE_TYPE=binary from the saved environment) and booted from its
# boot entry; then unmerged (pkg_postrm removes what was deployed).
#
# The kernel is the shared test kernel (tests/test-kernel: this ebuild, configured and built by
# the same phases, cached): src_compile finds it built and its make has nothing to do.
# shellcheck source=../lib.sh
source "$(dirname "$0")/../lib.sh"
# shellcheck source=harness.sh
source "$DK_SOURCE_ROOT/tests/eclass/harness.sh"
# shellcheck source=common.sh
source "$DK_SOURCE_ROOT/tests/eclass/common.sh"
dk_kernel_test_start distkernel-config distkernel-stage distkernel-install
PMS_BASE=$T/pms
# src_test boots with the checkout's qemu-boot (sys-kernel/distkernel installs the same script).
PMS_MAKE_CONF="DK_TREE=$DK_TREE DIST_KERNEL_QEMU_BOOT=$DK_SOURCE_ROOT/tests/qemu-boot DISTKERNEL_CACHE=$DK_CACHE"
PMS_ROOT=$T/root1
mkdir -p "$PMS_ROOT"

# --- 1. build from source, merge, boot ---------------------------------------------------------
ebuild=$(dk_test_ebuild "$T")
kv=$(dk_tree_version)-dktest
PMS_USE="test"
pms_init "$ebuild" sys-kernel
work=$PMS_BUILDDIR/work
for phase in pkg_setup src_unpack src_prepare src_configure; do
	pms_phase "$phase" || dk_fail "$phase died"
done
cmp -s "$work/build/.config" "$prebuilt/.config" ||
	dk_fail "src_configure made another .config than the shared test kernel's ($prebuilt/.config)"
# The build directory as tests/test-kernel made it: a symlink to the shared build, which the
# kernel's make resolves to the path it was built at.
rm -rf "$work/build"
ln -s "$prebuilt" "$work/build"
bzimage=$prebuilt/arch/x86/boot/bzImage
before=$(stat -c %Y "$bzimage")
t0=$SECONDS
pms_phase src_compile > "$T/compile.log" 2>&1 || { tail -n 40 "$T/compile.log" >&2; dk_fail "src_compile died"; }
echo "kernel build: src_compile on the shared build took $((SECONDS - t0)) s" >&2
[[ $(stat -c %Y "$bzimage") == "$before" ]] ||
	dk_fail "src_compile rebuilt the shared test kernel: the eclass's build differs from tests/test-kernel's"
# src_test (USE=test): the eclass's own boot of the built kernel with a generic initramfs.
pms_phase src_test > "$T/test.log" 2>&1 || { tail -n 40 "$T/test.log" >&2; dk_fail "src_test died"; }
dk_grep 'The kernel booted in QEMU' "$T/test.log"
dk_ok "src_test booted the built kernel in QEMU"
pms_phase src_install > "$T/install.log" 2>&1 || { tail -n 40 "$T/install.log" >&2; dk_fail "src_install died"; }

image=$PMS_BUILDDIR/image
[[ -f $image/usr/src/linux-$kv/distkernel.json ]] || dk_fail "no staged manifest in the image"
[[ -d $image/lib/modules/$kv ]] || dk_fail "no /lib/modules/$kv in the image"
[[ ! -e $image/boot ]] || dk_fail "the image has a /boot: src_install must be setup-agnostic"
[[ ! -e $image/etc/kernel ]] || dk_fail "the image has /etc/kernel"
[[ -n $(find "$image/lib/modules/$kv" -name 'ext4.ko*') ]] || dk_fail "ext4 is not a staged module"
dk_ok "staged $kv into \${D}"

pms_merge > "$T/merge1.log" 2>&1 || { cat "$T/merge1.log" >&2; dk_fail "merge into $PMS_ROOT failed"; }
dk_nogrep 'emerge --config' "$T/merge1.log"
[[ -f $PMS_ROOT/boot/vmlinuz-$kv ]] || { cat "$T/merge1.log" >&2; ls -lR "$PMS_ROOT/boot" >&2; dk_fail "pkg_postinst installed no /boot/vmlinuz-$kv"; }
initrd=
for f in "$PMS_ROOT/boot/initramfs-$kv.img" "$PMS_ROOT/boot/initrd.img-$kv"; do
	[[ -f $f ]] && initrd=$f
done
[[ -n $initrd ]] || { ls -l "$PMS_ROOT/boot" >&2; dk_fail "pkg_postinst made no initramfs (USE=initramfs is on)"; }
[[ $(readlink "$PMS_ROOT/usr/src/linux") == linux-$kv ]] || dk_fail "/usr/src/linux does not point at linux-$kv"
dk_ok "pkg_postinst installed $kv into the traditional layout of $PMS_ROOT"

"$DK_SOURCE_ROOT/tests/qemu-boot" "$PMS_ROOT/boot/vmlinuz-$kv" "$initrd" "$T/boot1.log" ||
	dk_fail "the kernel installed in $PMS_ROOT did not boot"
dk_grep "DISTKERNEL-BOOT-OK [0-9a-f]+ $kv" "$T/boot1.log"
dk_ok "booted $kv from $PMS_ROOT/boot in QEMU"

# --- 2. the binary package, merged into a BLS root ---------------------------------------------
pms_pack "$T/dktest-kernel.tar" || dk_fail "packing the binary package failed"
root2=$T/root2
mkdir -p "$root2/etc/kernel" "$root2/boot/loader/entries"
echo layout=bls > "$root2/etc/kernel/install.conf"
PMS_ROOT=$root2
pms_init_binary "$T/dktest-kernel.tar" sys-kernel || dk_fail "unpacking the binary package failed"
[[ -d $PMS_BUILDDIR/work && -z $(ls -A "$PMS_BUILDDIR/work") ]] || dk_fail "binary merge: WORKDIR is not empty"
pms_phase pkg_setup || dk_fail "binary pkg_setup died"
pms_merge > "$T/merge2.log" 2>&1 || { cat "$T/merge2.log" >&2; dk_fail "binary merge into $root2 failed"; }
entry=$(grep -l "$kv" "$root2"/boot/loader/entries/*.conf 2>/dev/null | head -n 1)
[[ -n $entry ]] || { cat "$T/merge2.log" >&2; find "$root2/boot" >&2; dk_fail "no BLS entry for $kv in $root2"; }
linux=$(awk '$1=="linux"{print $2}' "$entry")
initrd2=$(awk '$1=="initrd"{print $2}' "$entry")
[[ -n $linux && -n $initrd2 ]] || { cat "$entry" >&2; dk_fail "the BLS entry names no linux and initrd"; }
[[ -f $root2/boot/${linux#/} && -f $root2/boot/${initrd2#/} ]] ||
	{ cat "$entry" >&2; find "$root2/boot" >&2; dk_fail "the entry's linux/initrd are not under $root2/boot"; }
[[ ! -e $root2/boot/vmlinuz-$kv ]] || dk_fail "the BLS root got a traditional /boot/vmlinuz-$kv too"
dk_ok "binary package: pkg_postinst (MERGE_TYPE=binary) installed $kv as the BLS entry ${entry##*/}"
"$DK_SOURCE_ROOT/tests/qemu-boot" "$root2/boot/${linux#/}" "$root2/boot/${initrd2#/}" "$T/boot2.log" ||
	dk_fail "the kernel of the BLS entry did not boot"
dk_ok "booted $kv from the BLS entry in QEMU"

# --- removal -----------------------------------------------------------------------------------
pms_unmerge > "$T/unmerge2.log" 2>&1 || { cat "$T/unmerge2.log" >&2; dk_fail "unmerge from $root2 failed"; }
[[ ! -e $root2/boot/${linux#/} ]] || dk_fail "pkg_postrm left $linux in $root2/boot"
[[ -z $(ls -A "$root2/boot/loader/entries") ]] || dk_fail "pkg_postrm left a boot entry"
[[ ! -e $root2/lib/modules/$kv/kernel ]] || dk_fail "unmerge left the modules"
dk_ok "unmerge: pkg_postrm removed what pkg_postinst deployed"
echo "eclass kernel test: $((SECONDS - started)) s" >&2
