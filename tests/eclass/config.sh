#!/usr/bin/env bash
# dist-kernel.eclass's src_configure with the real distkernel-config and the real 6.1 tree
# (no kernel build):
#  - a user fragment in ${ROOT}/etc/kernel/config.d (the harness's SYSROOT is its ROOT) asking for
#    a value that cannot survive (BTRFS_FS_POSIX_ACL without BTRFS_FS) makes src_configure die
#    with the tool's report naming the file, line and symbol;
#  - a user fragment that can survive is applied;
#  - savedconfig (USE=savedconfig) is found in savedconfig.eclass's order under
#    PORTAGE_CONFIGROOT: ${PF} before ${P} before ${PN}, each in ${CHOST}/ before the plain
#    directory; then the newest other version's (a version bump), which is rebased (the
#    lookup is checked alone, without a configure run); ignored with USE=-savedconfig, a
#    warning when missing.
# shellcheck source=../lib.sh
source "$(dirname "$0")/../lib.sh"
# shellcheck source=harness.sh
source "$DK_SOURCE_ROOT/tests/eclass/harness.sh"
# shellcheck source=common.sh
source "$DK_SOURCE_ROOT/tests/eclass/common.sh"
dk_real_parts
dk_tmp
[[ -x $DK_TOOLS/distkernel-config ]] || dk_fail "distkernel-config is not built in $DK_TOOLS"

PMS_BASE=$T/tmp
PMS_MAKE_CONF="DK_TREE=$DK_TREE"
PMS_ROOT=$T/root
PMS_CONFIGROOT=$T/configroot
mkdir -p "$PMS_ROOT" "$PMS_CONFIGROOT"
ebuild=$(dk_test_ebuild "$T" -r1)
pf=dktest-kernel-$(dk_tree_version)-r1 p=dktest-kernel-$(dk_tree_version) pn=dktest-kernel

# configure NAME: pkg_setup .. src_configure of a fresh build, output in $T/NAME.log; returns
# the status of src_configure.
configure() {
	local name=$1 phase
	pms_init "$ebuild" sys-kernel
	for phase in pkg_setup src_unpack src_prepare; do
		pms_phase "$phase" > "$T/$name.log" 2>&1 || { cat "$T/$name.log" >&2; dk_fail "$name: $phase died"; }
	done
	pms_phase src_configure >> "$T/$name.log" 2>&1
}
final_config() { echo "$PMS_BUILDDIR/work/build/.config"; }

# --- a dropped value in /etc/kernel/config.d ---------------------------------------------------
mkdir -p "$PMS_ROOT/etc/kernel/config.d"
printf '# wants btrfs ACLs, without btrfs\nCONFIG_BTRFS_FS_POSIX_ACL=y\n' > "$PMS_ROOT/etc/kernel/config.d/50-acl.config"
if configure dropped; then cat "$T/dropped.log" >&2; dk_fail "src_configure survived a dropped required value"; fi
dk_grep 'failed \(configure phase\)' "$T/dropped.log"
dk_grep 'did not make it into the final .config' "$T/dropped.log"
dk_grep 'BTRFS_FS_POSIX_ACL' "$T/dropped.log"
dk_grep '50-acl.config:2' "$T/dropped.log"
[[ -f $PMS_BUILDDIR/temp/config-report.json ]] || dk_fail "no report in \${T}"
dk_grep 'BTRFS_FS_POSIX_ACL' "$PMS_BUILDDIR/temp/config-report.json"
dk_nogrep 'Kernel release' "$T/dropped.log"
dk_ok "a dropped value in /etc/kernel/config.d: src_configure died with the report"
rm "$PMS_ROOT/etc/kernel/config.d/50-acl.config"

# --- a distribution fragment informs, a user's unknown value fails -----------------------------
# The variant's fragments are written for many versions and architectures: an unknown symbol
# there is reported, not fatal; the same in /etc/kernel/config.d (the user's) is.
printf 'CONFIG_X86_X32=y\nCONFIG_ARM64_VA_BITS_48=y\n' > "$T/distro-other.config"
echo "DIST_KERNEL_FRAGMENTS+=( \"$T/distro-other.config\" )" >> "$ebuild"
configure distro || { cat "$T/distro.log" >&2; dk_fail "src_configure died on a distribution fragment's unknown symbols"; }
dk_grep 'unknown: CONFIG_ARM64_VA_BITS_48=y .*only defined for arm64' "$T/distro.log"
printf '# CONFIG_HIBERNATON is not set\n' > "$PMS_ROOT/etc/kernel/config.d/50-typo.config"
if configure typo; then cat "$T/typo.log" >&2; dk_fail "src_configure survived a user's unknown value"; fi
dk_grep 'unknown: # CONFIG_HIBERNATON is not set requested by .*50-typo.config:1' "$T/typo.log"
rm "$PMS_ROOT/etc/kernel/config.d/50-typo.config"
dk_ok "a distribution fragment's unknown symbols inform; a user's unknown value fails src_configure"

# --- savedconfig lookup order (the eclass's lookup alone: no configure run) --------------------
saved=$PMS_CONFIGROOT/etc/portage/savedconfig
mkdir -p "$saved/sys-kernel" "$saved/x86_64-linux-gnu/sys-kernel"
# found: the saved config the eclass's lookup picks, in this package's phase environment.
found() {
	pms_init "$ebuild" sys-kernel
	pms_phase pkg_setup > "$T/found.log" 2>&1 || { cat "$T/found.log" >&2; dk_fail "pkg_setup died"; }
	pms_phase _dist-kernel_find_savedconfig 2>> "$T/found.log" || true
}
[[ -z $(found) ]] || dk_fail "a saved config was found where there is none"
for name in "$pn" "$p" "$pf"; do
	: > "$saved/sys-kernel/$name"
	[[ $(found) == "$saved/sys-kernel/$name" ]] || dk_fail "lookup: want $saved/sys-kernel/$name, got '$(found)'"
done
: > "$saved/x86_64-linux-gnu/sys-kernel/$pn"
[[ $(found) == "$saved/sys-kernel/$pf" ]] || dk_fail "lookup: CHOST/PN won over the plain PF ('$(found)')"
: > "$saved/x86_64-linux-gnu/sys-kernel/$pf"
[[ $(found) == "$saved/x86_64-linux-gnu/sys-kernel/$pf" ]] || dk_fail "lookup: CHOST/PF did not win ('$(found)')"
rm -f "$saved"/{,x86_64-linux-gnu/}sys-kernel/*
# a version bump: no PF, P or PN, the newest other version's (as src_install saved it)
: > "$saved/sys-kernel/$pn-6.0.9"
: > "$saved/sys-kernel/$pn-6.0.99"
: > "$saved/sys-kernel/$pn-6.0.99.base"
: > "$saved/sys-kernel/$pn-6.0.99-r1"
[[ $(found) == "$saved/sys-kernel/$pn-6.0.99-r1" ]] || dk_fail "lookup after a version bump: got '$(found)'"
rm -f "$saved"/sys-kernel/*
dk_ok "savedconfig lookup: PF over P over PN, CHOST/ over the plain directory for each, then the newest other version"

# --- a saved delta is applied as it is (the tool reads its header; no configure run) -----------
printf '# distkernel savedconfig\n# kernel: 6.0.99\nCONFIG_DEFAULT_HOSTNAME="delta"\n' > "$T/saved-delta"
# a phase takes no arguments: a function of the test ebuild names the file
echo "_dktest_saved_delta() { _dist-kernel_savedconfig_layer '$T/saved-delta'; }" >> "$ebuild"
pms_init "$ebuild" sys-kernel
pms_phase pkg_setup > "$T/delta.log" 2>&1 || { cat "$T/delta.log" >&2; dk_fail "pkg_setup died"; }
pms_phase _dktest_saved_delta >> "$T/delta.log" 2>&1 ||
	{ cat "$T/delta.log" >&2; dk_fail "a saved delta was not applied"; }
dk_grep "Applying the saved delta $T/saved-delta" "$T/delta.log"
dk_nogrep 'Rebasing' "$T/delta.log"
dk_ok "a saved delta (distkernel-config saved-info: format=delta) is applied as it is, not rebased"

# --- no saved config: a warning; a user fragment that survives is applied ----------------------
PMS_USE=savedconfig
printf 'CONFIG_DEFAULT_HOSTNAME="from-config-d"\n' > "$PMS_ROOT/etc/kernel/config.d/60-host.config"
configure none || { cat "$T/none.log" >&2; dk_fail "USE=savedconfig without a saved config died"; }
dk_grep 'WARNING: USE=savedconfig but no saved config' "$T/none.log"
dk_grep "saved as sys-kernel/$pf" "$T/none.log"
hostname_is() {
	dk_grep "^CONFIG_DEFAULT_HOSTNAME=\"$1\"\$" "$(final_config)"
}
hostname_is from-config-d
dk_grep "Kernel release: $(dk_tree_version)-dktest\$" "$T/none.log"
dk_ok "USE=savedconfig without a saved config warns; /etc/kernel/config.d applied"
rm "$PMS_ROOT/etc/kernel/config.d/60-host.config"

# --- USE=-savedconfig ignores the saved configs ------------------------------------------------
printf 'CONFIG_DEFAULT_HOSTNAME="saved-pf"\n' > "$saved/sys-kernel/$pf"
PMS_USE=-savedconfig
configure unsaved || { cat "$T/unsaved.log" >&2; dk_fail "src_configure with USE=-savedconfig died"; }
dk_nogrep '^CONFIG_DEFAULT_HOSTNAME="saved' "$(final_config)"
dk_ok "USE=-savedconfig: the saved configs are not used"
rm "$saved/sys-kernel/$pf"

# --- a version bump: the previous version's full saved config is found and rebased -------------
# The saved config and the base it was made from (<saved>.base, which src_install writes) claim
# an older kernel; the user's own change (the hostname) must carry over through
# distkernel-config rebase onto this version's base. With the previous kernel's config in
# ${ESYSROOT}/usr/src/linux, src_configure also summarises what this version brings.
PMS_USE=savedconfig
base_config=$DK_SOURCE_ROOT/tests/fixtures/eclass/dktest-kernel/files/base.config
sed -E '1,10s/^(# Linux\/[^ ]+ )[^ ]+( Kernel Configuration)$/\16.0.99\2/' "$base_config" > "$saved/sys-kernel/$pn-6.0.99.base"
sed -E 's/^CONFIG_DEFAULT_HOSTNAME=.*/CONFIG_DEFAULT_HOSTNAME="previous-version"/' \
	"$saved/sys-kernel/$pn-6.0.99.base" > "$saved/sys-kernel/$pn-6.0.99"
printf 'CONFIG_DEFAULT_HOSTNAME="older-version"\n' > "$saved/sys-kernel/$pn-6.0.9"
mkdir -p "$PMS_ROOT/usr/src/linux"
grep -v '^CONFIG_DEFAULT_HOSTNAME=' "$base_config" > "$PMS_ROOT/usr/src/linux/.config"
configure bumped || { cat "$T/bumped.log" >&2; dk_fail "src_configure after a version bump died"; }
dk_grep "Rebasing the saved config $saved/sys-kernel/$pn-6\\.0\\.99 \\(kernel 6\\.0\\.99\\)" "$T/bumped.log"
dk_grep 'Every change of the saved config carried over' "$T/bumped.log"
hostname_is previous-version
dk_ok "a version bump found the previous version's full saved config and rebased it; the user's change carried over"
dk_grep "Options new since $PMS_ROOT/usr/src/linux/.config" "$T/bumped.log"
dk_grep 'DEFAULT_HOSTNAME' "$T/bumped.log"
dk_ok "src_configure summarised the options new since the previous kernel's config"

# --- a kernel trimmed to one machine: /etc/kernel/distkernel-trim (docs/trim.md) ---------------
# The snapshot of a QEMU guest and the module indexes of Debian's 6.1 kernel under the root:
# src_configure adds distkernel-config trim's layer (the test kernel's base has one module that
# guest does not need) and keeps the snapshot for src_install to record.
PMS_USE=-savedconfig
mkdir -p "$PMS_ROOT/etc/kernel" "$PMS_ROOT/lib/modules/$DK_DEBIAN_KV"
cp "$DK_SOURCE_ROOT/tests/fixtures/trim/qemu-pc-virtio.json" "$PMS_ROOT/etc/kernel/machine.json"
cp "$DK_DEBIAN_ROOT/lib/modules/$DK_DEBIAN_KV"/modules.* "$PMS_ROOT/lib/modules/$DK_DEBIAN_KV/"
printf '# this VM\nsnapshot = /etc/kernel/machine.json\n' > "$PMS_ROOT/etc/kernel/distkernel-trim"
configure trimmed || { cat "$T/trimmed.log" >&2; dk_fail "src_configure with /etc/kernel/distkernel-trim died"; }
dk_grep "Trimming the modules to one machine \($PMS_ROOT/etc/kernel/distkernel-trim\)" "$T/trimmed.log"
dk_grep '^modules: 15 of 16 kept' "$T/trimmed.log"
dk_grep '^# CONFIG_X86_PKG_TEMP_THERMAL is not set$' "$(final_config)"
dk_grep '^CONFIG_VIRTIO_BLK=m$' "$(final_config)"
cmp -s "$PMS_ROOT/etc/kernel/machine.json" "$PMS_BUILDDIR/temp/trim-machine.json" ||
	dk_fail "src_configure did not keep the snapshot it trimmed for"

# pkg_postinst of the trimmed kernel on a machine it will not boot: a root on zfs, which the
# module tree lacks (Debian's indexes under the kernel's release): distkernel-check says so and
# nothing is installed into the boot layout.
kv=$(sed -n 's/.*Kernel release: //p' "$T/trimmed.log")
[[ -n $kv ]] || dk_fail "no kernel release in $T/trimmed.log"
mkdir -p "$PMS_ROOT/usr/src/linux-$kv" "$PMS_ROOT/lib/modules/$kv" "$PMS_ROOT/proc/self"
cp "$PMS_BUILDDIR/temp/trim-machine.json" "$PMS_ROOT/usr/src/linux-$kv/distkernel-trim-machine.json"
cp "$DK_DEBIAN_ROOT/lib/modules/$DK_DEBIAN_KV"/modules.* "$PMS_ROOT/lib/modules/$kv/"
printf '22 1 0:30 / / rw - zfs rpool/ROOT/gentoo rw\n' > "$PMS_ROOT/proc/self/mountinfo"
pms_phase pkg_postinst > "$T/trim-postinst.log" 2>&1 || { cat "$T/trim-postinst.log" >&2; dk_fail "pkg_postinst died"; }
dk_grep "$kv was trimmed for one machine: checking it against this one" "$T/trim-postinst.log"
dk_grep "$kv: will not boot" "$T/trim-postinst.log"
dk_grep "and will not boot this" "$T/trim-postinst.log"
dk_grep "it was NOT installed into the boot layout" "$T/trim-postinst.log"
dk_nogrep "Installing kernel $kv into the boot layout failed" "$T/trim-postinst.log"
rm -r "$PMS_ROOT/usr/src/linux-$kv" "$PMS_ROOT/proc"
printf 'snapshot = /etc/kernel/no-such.json\n' > "$PMS_ROOT/etc/kernel/distkernel-trim"
configure trim-missing && dk_fail "src_configure with a missing snapshot did not die"
dk_grep "no-such.json" "$T/trim-missing.log"
dk_grep 'distkernel-config trim failed' "$T/trim-missing.log"
rm -r "$PMS_ROOT/etc/kernel/distkernel-trim" "$PMS_ROOT/etc/kernel/machine.json" "$PMS_ROOT/lib/modules"
dk_ok "/etc/kernel/distkernel-trim: src_configure trimmed the modules to the snapshot's machine; pkg_postinst refused a machine it will not boot; a missing snapshot dies"
