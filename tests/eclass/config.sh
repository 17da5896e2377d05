#!/usr/bin/env bash
# dist-kernel.eclass's src_configure with the real distkernel-config and the real 6.1 tree
# (no kernel build):
#  - a user fragment in ${ROOT}/etc/kernel/config.d (the harness's SYSROOT is its ROOT) asking for
#    a value that cannot survive (BTRFS_FS_POSIX_ACL without BTRFS_FS) makes src_configure die
#    with the tool's report naming the file, line and symbol;
#  - a user fragment that can survive is applied, after savedconfig;
#  - savedconfig (USE=savedconfig) is found in savedconfig.eclass's order under
#    PORTAGE_CONFIGROOT: ${PF} before ${P} before ${PN}, each in ${CHOST}/ before the plain
#    directory; then the newest other version's (a version bump), which is rebased; applied when
#    found, ignored with USE=-savedconfig, a warning when missing.
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

# --- savedconfig lookup order ------------------------------------------------------------------
saved=$PMS_CONFIGROOT/etc/portage/savedconfig
mkdir -p "$saved/sys-kernel" "$saved/x86_64-linux-gnu/sys-kernel"
hostname_is() {
	dk_grep "^CONFIG_DEFAULT_HOSTNAME=\"$1\"\$" "$(final_config)"
}
PMS_USE=savedconfig
configure none || { cat "$T/none.log" >&2; dk_fail "USE=savedconfig without a saved config died"; }
dk_grep 'WARNING: USE=savedconfig but no saved config' "$T/none.log"
dk_grep "saved as sys-kernel/$pf" "$T/none.log"
for name in "$pn" "$p" "$pf"; do
	printf 'CONFIG_DEFAULT_HOSTNAME="saved-%s"\n' "$name" > "$saved/sys-kernel/$name"
	configure "saved-$name" || { cat "$T/saved-$name.log" >&2; dk_fail "src_configure with the saved config $name died"; }
	hostname_is "saved-$name"
	dk_grep "Applying the saved config $saved/sys-kernel/$name\$" "$T/saved-$name.log"
done
printf 'CONFIG_DEFAULT_HOSTNAME="saved-chost-pn"\n' > "$saved/x86_64-linux-gnu/sys-kernel/$pn"
configure saved-chost-pn || { cat "$T/saved-chost-pn.log" >&2; dk_fail "src_configure with a CHOST/PN saved config died"; }
hostname_is "saved-$pf"
printf 'CONFIG_DEFAULT_HOSTNAME="saved-chost-pf"\n' > "$saved/x86_64-linux-gnu/sys-kernel/$pf"
configure saved-chost-pf || { cat "$T/saved-chost-pf.log" >&2; dk_fail "src_configure with the CHOST/PF saved config died"; }
hostname_is saved-chost-pf
dk_ok "savedconfig: PF over P over PN, CHOST/ over the plain directory for each, applied"
rm -f "$saved"/{,x86_64-linux-gnu/}sys-kernel/*

PMS_USE=-savedconfig
configure unsaved || { cat "$T/unsaved.log" >&2; dk_fail "src_configure with USE=-savedconfig died"; }
dk_nogrep '^CONFIG_DEFAULT_HOSTNAME="saved' "$(final_config)"
dk_ok "USE=-savedconfig: the saved configs are not used"

# --- a user fragment that survives, after savedconfig ------------------------------------------
PMS_USE=savedconfig
printf 'CONFIG_DEFAULT_HOSTNAME="from-config-d"\n' > "$PMS_ROOT/etc/kernel/config.d/60-host.config"
configure user || { cat "$T/user.log" >&2; dk_fail "src_configure with a user fragment died"; }
hostname_is from-config-d
dk_grep "Kernel release: $(dk_tree_version)-dktest\$" "$T/user.log"
dk_ok "/etc/kernel/config.d applied after savedconfig"

# --- a full saved config from an older kernel version is rebased, not applied stale -----------
# The saved config and the base it was made from (<saved>.base, which src_install writes) claim
# an older kernel; the user's own change (the hostname) must carry over through
# distkernel-config rebase onto this version's base.
rm "$PMS_ROOT/etc/kernel/config.d/60-host.config"
base_config=$DK_SOURCE_ROOT/tests/fixtures/eclass/dktest-kernel/files/base.config
sed -E '1,10s/^(# Linux\/[^ ]+ )[^ ]+( Kernel Configuration)$/\16.0.99\2/' "$base_config" \
	> "$saved/x86_64-linux-gnu/sys-kernel/$pn.base"
sed -E 's/^CONFIG_DEFAULT_HOSTNAME=.*/CONFIG_DEFAULT_HOSTNAME="rebased-user"/' \
	"$saved/x86_64-linux-gnu/sys-kernel/$pn.base" > "$saved/x86_64-linux-gnu/sys-kernel/$pn"
configure rebased || { cat "$T/rebased.log" >&2; dk_fail "src_configure with an older full saved config died"; }
dk_grep "Rebasing the saved config $saved/x86_64-linux-gnu/sys-kernel/$pn \\(kernel 6\\.0\\.99\\)" "$T/rebased.log"
dk_grep 'Every change of the saved config carried over' "$T/rebased.log"
hostname_is rebased-user
dk_ok "an older full saved config is rebased onto this version; the user's change carried over"

# --- a version bump: the previous version's saved config (as src_install saved it) is found -----
rm -f "$saved"/{,x86_64-linux-gnu/}sys-kernel/*
sed -E '1,10s/^(# Linux\/[^ ]+ )[^ ]+( Kernel Configuration)$/\16.0.99\2/' "$base_config" > "$saved/sys-kernel/$pn-6.0.99.base"
sed -E 's/^CONFIG_DEFAULT_HOSTNAME=.*/CONFIG_DEFAULT_HOSTNAME="previous-version"/' \
	"$saved/sys-kernel/$pn-6.0.99.base" > "$saved/sys-kernel/$pn-6.0.99"
printf 'CONFIG_DEFAULT_HOSTNAME="older-version"\n' > "$saved/sys-kernel/$pn-6.0.9"
configure bumped || { cat "$T/bumped.log" >&2; dk_fail "src_configure after a version bump died"; }
dk_grep "Rebasing the saved config $saved/sys-kernel/$pn-6\\.0\\.99 \\(kernel 6\\.0\\.99\\)" "$T/bumped.log"
hostname_is previous-version
dk_ok "a version bump finds the newest previous version's saved config and rebases it"

# --- what this version brings: a summary when the previous kernel's config is at hand ---------
# ${ESYSROOT}/usr/src/linux/.config is the previous kernel's; a symbol it does not mention is new.
mkdir -p "$PMS_ROOT/usr/src/linux"
grep -v '^CONFIG_DEFAULT_HOSTNAME=' "$base_config" > "$PMS_ROOT/usr/src/linux/.config"
configure newopts || { cat "$T/newopts.log" >&2; dk_fail "src_configure with a previous config died"; }
dk_grep "Options new since $PMS_ROOT/usr/src/linux/.config" "$T/newopts.log"
dk_grep 'DEFAULT_HOSTNAME' "$T/newopts.log"
dk_ok "src_configure summarised the options new since the previous kernel's config"
