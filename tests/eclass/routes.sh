#!/usr/bin/env bash
# Every route that refreshes an installed kernel's initramfs ends in one distkernel transaction
# and its record (docs/routes.md), with Debian's real kernel staged in a temporary root, the real
# dracut, the real kernel-install of systemd and the phase harness:
#  - dist-kernel.eclass's dist-kernel_reinstall_initramfs KV_DIR KV, and with --all (dkroute);
#  - what ::gentoo's dist-kernel-utils.eclass does instead (installkernel KV IMAGE MAP, dkroute
#    with DKROUTE_CALL=gentoo): Gentoo's installkernel is not in Debian; with USE=systemd it hands
#    the kernel to kernel-install add, so the test's installkernel does that with the real one,
#    and distkernel's plugin (data/kernel/05-distkernel.install) routes it;
#  - a plain kernel-install add / remove, and the plugin called as installkernel's preinst.d calls
#    it (KV IMAGE);
#  - no recursion: distkernel-install's own hooks and installer calls carry DISTKERNEL_INSTALLING,
#    and the plugin steps aside; a kernel distkernel did not stage is left to the installer.
# "Record updated": the record's install time moves and its initramfs is the one in /boot.
# shellcheck source=../lib.sh
source "$(dirname "$0")/../lib.sh"
# shellcheck source=harness.sh
source "$DK_SOURCE_ROOT/tests/eclass/harness.sh"
# shellcheck source=common.sh
source "$DK_SOURCE_ROOT/tests/eclass/common.sh"
dk_real_parts
dk_tmp
[[ -x /usr/bin/kernel-install ]] || dk_skip "no kernel-install (systemd)"
[[ $(id -u) == 0 ]] || dk_skip "chroot needs root"
for tool in distkernel-stage distkernel-install; do
	[[ -x $DK_TOOLS/$tool ]] || dk_fail "$tool is not built in $DK_TOOLS"
done
started=$SECONDS
R=$T/root KV=$DK_DEBIAN_KV
install=$DK_TOOLS/distkernel-install
plugin=$DK_SOURCE_ROOT/data/kernel/05-distkernel.install
record=$R/var/lib/distkernel/kernels/$KV.json
export PATH="$DK_TOOLS:$PATH"
# Debian's kernel image with a small real module tree (ext4 and what it needs): staging and
# verifying all of its 4000 modules would be most of this test's time.
mods=$T/modules/$KV deb_mods=$DK_DEBIAN_ROOT/lib/modules/$KV
for m in kernel/fs/ext4 kernel/fs/jbd2 kernel/fs/mbcache.ko kernel/lib/crc16.ko modules.builtin modules.order; do
	mkdir -p "$(dirname "$mods/$m")"
	cp -r "$deb_mods/$m" "$mods/$m"
done
"$DK_TOOLS/distkernel-stage" prebuilt --release "$KV" --image "$DK_DEBIAN_ROOT/boot/vmlinuz-$KV" --modules "$mods" \
	--config "$DK_DEBIAN_CONFIG" --system-map "$DK_DEBIAN_ROOT/boot/System.map-$KV" --variant debian-bin \
	--dest "$R" -q >/dev/null || dk_fail "staging the Debian kernel into $R"
# A shell inside the root for its hooks (distkernel-install --hooks chroot).
mkdir -p "$R/boot" "$R/bin" "$R/tmp"
cp /bin/busybox "$R/bin/busybox"
ln -s busybox "$R/bin/sh"
# The initramfs of every route: dracut without the kernel's modules (fast; what goes into it is
# the external-module test's business). reinstall repeats the recorded dracut arguments.
dk_expect_status 0 "$install" add "$KV" --root "$R" --dracut-arg=--no-kernel --dracut-arg=--modules --dracut-arg=base
[[ -f $R/boot/initramfs-$KV.img && -f $record ]] || dk_fail "add made no initramfs or record"

# record_time: the install time of KV's record.
record_time() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["time"])' "$record"; }
# expect_refreshed WHAT BEFORE: the record is newer than BEFORE and names the initramfs as it is.
expect_refreshed() {
	local now
	now=$(record_time)
	[[ $now > $2 ]] || dk_fail "$1: the record's time did not move ($2 -> $now)"
	python3 - "$record" "$R" <<'PY' || dk_fail "$1: the record does not match /boot"
import hashlib, json, sys
rec = json.load(open(sys.argv[1]))
init = [f for f in rec["files"] if f["path"].startswith("/boot/initramfs-")]
assert init, rec["files"]
for f in init:
    data = open(sys.argv[2] + f["path"], "rb").read()
    assert hashlib.sha256(data).hexdigest() == f["sha256"], f
PY
	dk_ok "$1: one transaction, record updated ($2 -> $now)"
}
# Record times have one-second resolution.
tick() { sleep 1; }

PMS_BASE=$T/pms
PMS_ROOT=$R
repo=$T/repo/sys-kernel/dkroute
mkdir -p "$repo"
cp "$DK_ECLASS_FIXTURES/dkroute/dkroute.ebuild" "$repo/dkroute-1.ebuild"
# route CALL: dkroute's pkg_postinst with DKROUTE_CALL=CALL, output in $T/route-CALL.log.
route() {
	PMS_MAKE_CONF="DKROUTE_KV=$KV DKROUTE_CALL=$1"
	pms_init "$repo/dkroute-1.ebuild" sys-kernel
	pms_phase pkg_postinst > "$T/route-$1.log" 2>&1 || { cat "$T/route-$1.log" >&2; dk_fail "pkg_postinst ($1) died"; }
}

# --- dist-kernel.eclass's function, with and without --all ------------------------------------
before=$(record_time); tick
route eclass
dk_grep "Rebuilding the initramfs of $KV" "$T/route-eclass.log"
expect_refreshed "dist-kernel_reinstall_initramfs KV_DIR KV" "$before"
before=$(record_time); tick
route eclass-all
dk_grep 'Rebuilding the initramfs of every kernel installed by distkernel' "$T/route-eclass-all.log"
expect_refreshed "dist-kernel_reinstall_initramfs KV_DIR KV --all" "$before"

# --- ::gentoo's function: installkernel -> kernel-install -> distkernel's plugin -----------------
esp=$T/esp conf=$T/kernel-conf
mkdir -p "$esp" "$conf" "$T/bin"
echo layout=bls > "$conf/install.conf"
echo "root=/dev/vda" > "$conf/cmdline"
# kernel-install with the root's settings kept away from this machine's: BOOT_ROOT and
# install.conf of the test, only distkernel's plugin and the entry writer.
cat > "$T/kernel-install" <<EOT
#!/bin/sh
export BOOT_ROOT='$esp' MACHINE_ID=0123456789abcdef0123456789abcdef KERNEL_INSTALL_CONF_ROOT='$conf'
export KERNEL_INSTALL_PLUGINS='$plugin /usr/lib/kernel/install.d/90-loaderentry.install'
export DISTKERNEL_ROOT='$R' PATH='$DK_TOOLS:$PATH'
exec kernel-install "\$@"
EOT
# Gentoo's installkernel with USE=systemd: the kernel goes to kernel-install add.
# shellcheck disable=SC2016 # expanded by the script
printf '#!/bin/sh\nexec %q add "$1" "$2"\n' "$T/kernel-install" > "$T/bin/installkernel"
chmod 755 "$T/kernel-install" "$T/bin/installkernel"
before=$(record_time); tick
PATH="$T/bin:$PATH" route gentoo
expect_refreshed "::gentoo's dist-kernel_reinstall_initramfs (installkernel -> kernel-install -> plugin)" "$before"
[[ -z $(find "$esp" -name '*.conf') ]] || dk_fail "kernel-install went on after distkernel did the work (an entry in $esp)"
dk_ok "kernel-install skipped its remaining plugins (exit 77 of distkernel's plugin)"

# --- installkernel's preinst.d convention: KV IMAGE -------------------------------------------
before=$(record_time); tick
dk_expect_status 77 env DISTKERNEL_ROOT="$R" "$plugin" "$KV" "$R/usr/src/linux-$KV/arch/x86/boot/bzImage"
expect_refreshed "installkernel KV IMAGE (preinst.d plugin, exit 77: installkernel does nothing more)" "$before"

# --- not distkernel's, or distkernel's own call: the installer goes on ------------------------
dk_expect_status 0 env DISTKERNEL_ROOT="$R" "$plugin" 6.1.0-other "$R/usr/src/linux-$KV/arch/x86/boot/bzImage"
dk_expect_status 0 "$T/kernel-install" add 6.1.0-other "$R/usr/src/linux-$KV/arch/x86/boot/bzImage"
[[ -f $esp/loader/entries/0123456789abcdef0123456789abcdef-6.1.0-other.conf ]] ||
	{ find "$esp" >&2; dk_fail "a kernel distkernel did not stage did not reach kernel-install's entry writer"; }
dk_ok "a kernel distkernel did not stage is left to the installer"
before=$(record_time)
dk_expect_status 0 env DISTKERNEL_INSTALLING=1 DISTKERNEL_ROOT="$R" "$plugin" "$KV" /dev/null
[[ $(record_time) == "$before" ]] || dk_fail "the plugin acted on a call from distkernel-install itself"
# distkernel-install add runs the root's preinst.d hooks with the guard set: the plugin there
# steps aside and the install goes on (no recursion, no skip).
mkdir -p "$R/usr/lib/kernel/preinst.d"
cp "$plugin" "$R/usr/lib/kernel/preinst.d/05-distkernel.install"
tick
DISTKERNEL_ROOT=$R dk_expect_status 0 "$install" add "$KV" --root "$R" --hooks chroot -v
dk_grep "running the preinst hook .*05-distkernel.install" "$T/err"
dk_nogrep 'exited 77' "$T/err"
expect_refreshed "distkernel-install add with the plugin among its own hooks (no recursion)" "$before"
rm "$R/usr/lib/kernel/preinst.d/05-distkernel.install"

# --- kernel-install remove ------------------------------------------------------------------
dk_expect_status 0 "$T/kernel-install" remove "$KV"
[[ ! -e $record && ! -e $R/boot/initramfs-$KV.img && ! -e $R/boot/vmlinuz-$KV ]] ||
	dk_fail "kernel-install remove: distkernel's record or files are still there"
dk_ok "kernel-install remove: distkernel removed what it deployed"
echo "routes test: $((SECONDS - started)) s" >&2
