#!/usr/bin/env bash
# installkernel's hooks as Gentoo's installkernel runs them, after distkernel's own work: the
# root's /etc/kernel/{preinst,postinst}.d and /usr/lib/kernel/{preinst,postinst}.d merged by file
# name (a non-executable file in /etc masks the one of /usr/lib), in version order; postinst after
# the commit with KV and the installed image's path; exit 77 skips the rest; the initramfs hook
# is not run (distkernel built the initramfs) and inspect says so. Under --root the hooks run
# only through `--hooks chroot` (inside the root: a static busybox here), otherwise each is
# printed as the command to run. grub: layout=grub with no grub-mkconfig hook runs grub-mkconfig
# itself, after add, remove and clean.
source "$DK_SOURCE_ROOT/tests/lib.sh"
source "$DK_SOURCE_ROOT/tests/integration/install/common.sh"
dk_real_parts
dk_tmp
[[ $(id -u) == 0 ]] || dk_skip "chroot needs root"
R=$T/root KV=$DK_DEBIAN_KV
install=$DK_TOOLS/distkernel-install
dk_chroot_root "$R" compat sh cat test echo
mkdir -p "$R/usr/lib/kernel/preinst.d" "$R/usr/lib/kernel/postinst.d" "$R/etc/kernel/preinst.d" "$R/etc/kernel/postinst.d"
printf 'NAME="Gentoo"\nID=gentoo\nPRETTY_NAME="Gentoo Linux"\n' > "$R/etc/os-release"

hook() { # hook FILE BODY: an executable /bin/sh script
	printf '#!/bin/sh\n%s\n' "$2" > "$1"
	chmod 755 "$1"
}
# shellcheck disable=SC2016 # expanded by the hook
log='echo "$0 $* layout=$INSTALLKERNEL_LAYOUT gen=$INSTALLKERNEL_INITRD_GENERATOR name=$NAME" >> /hooks.log'
hook "$R/usr/lib/kernel/preinst.d/10-pre.install" "$log"
# Would fail the install if it ran: distkernel built the initramfs already.
hook "$R/usr/lib/kernel/preinst.d/52-dracut.install" 'exit 1'
# (--no-initramfs below: INSTALLKERNEL_INITRD_GENERATOR=none, what distkernel did.)
# postinst gets the final path: the image is in place when it runs.
hook "$R/usr/lib/kernel/postinst.d/10-post.install" "test -f \"\$2\" || exit 3; $log"
hook "$R/etc/kernel/postinst.d/15-etc.install" "$log"
hook "$R/usr/lib/kernel/postinst.d/20-masked.install" "$log"
: > "$R/etc/kernel/postinst.d/20-masked.install" # not executable: masks /usr/lib's
hook "$R/usr/lib/kernel/postinst.d/30-skip.install" "$log; exit 77"
hook "$R/usr/lib/kernel/postinst.d/40-after.install" "$log"

# inspect lists every hook with what distkernel does with it.
dk_expect_status 0 "$install" inspect --root "$R" --json
python3 - "$T/out" <<'PY' || dk_fail "inspect --json: hooks"
import json, sys
d = json.load(open(sys.argv[1]))
pre = {h["name"]: h for h in d["hooks"]["preinst"]}
post = [h["name"] for h in d["hooks"]["postinst"]]
assert list(pre) == ["10-pre.install", "52-dracut.install"], pre
assert pre["52-dracut.install"]["action"] == "skip" and "initramfs" in pre["52-dracut.install"]["reason"], pre
assert post == ["10-post.install", "15-etc.install", "20-masked.install", "30-skip.install", "40-after.install"], post
m = d["hooks"]["postinst"][2]
assert m["action"] == "skip" and m["path"] == "/etc/kernel/postinst.d/20-masked.install", m
PY
dk_grep '52-dracut.install .*skip.*initramfs' "$T/err"
dk_ok "inspect lists the hooks, the skipped ones with why"

# Under --root without --hooks chroot: nothing runs on this machine, each command is printed.
dk_expect_status 0 "$install" add "$KV" --root "$R" --no-initramfs
[[ ! -e $R/hooks.log ]] || dk_fail "hooks ran on the build machine under --root"
dk_grep "not run under --root: chroot $R /usr/lib/kernel/postinst.d/10-post.install $KV /boot/vmlinuz-$KV" "$T/err"
dk_ok "--root: hooks printed, not run"

dk_expect_status 0 "$install" add "$KV" --root "$R" --no-initramfs --hooks chroot -v
cat > "$T/want" <<EOT
/usr/lib/kernel/preinst.d/10-pre.install $KV /usr/src/linux-$KV/arch/x86/boot/bzImage layout=compat gen=none name=Gentoo
/usr/lib/kernel/postinst.d/10-post.install $KV /boot/vmlinuz-$KV layout=compat gen=none name=Gentoo
/etc/kernel/postinst.d/15-etc.install $KV /boot/vmlinuz-$KV layout=compat gen=none name=Gentoo
/usr/lib/kernel/postinst.d/30-skip.install $KV /boot/vmlinuz-$KV layout=compat gen=none name=Gentoo
EOT
diff "$T/want" "$R/hooks.log" >&2 || dk_fail "hooks: order, arguments or environment"
dk_grep '30-skip.install exited 77: the remaining postinst hooks are skipped' "$T/err"
dk_ok "--hooks chroot: merged, ordered, masked, 77, final paths"

# A failing postinst hook: the kernel stays installed (it is committed), the hook is named.
hook "$R/etc/kernel/postinst.d/12-fail.install" 'echo broken >&2; exit 5'
dk_expect_status 1 "$install" add "$KV" --root "$R" --no-initramfs --hooks chroot
dk_grep "postinst hook /etc/kernel/postinst.d/12-fail.install failed \(exit 5\)" "$T/err"
dk_grep "$KV is installed" "$T/err"
[[ -f $R/boot/vmlinuz-$KV && -f $R/var/lib/distkernel/kernels/$KV.json ]] || dk_fail "a failing postinst hook undid the install"
rm "$R/etc/kernel/postinst.d/12-fail.install"
dk_ok "failing postinst hook: installed, exit 1, hook named"

# A failing preinst hook: nothing changes.
base=$(dk_boot_snapshot "$R")
hook "$R/etc/kernel/preinst.d/05-no.install" 'exit 4'
dk_expect_status 1 "$install" add "$KV" --root "$R" --no-initramfs --hooks chroot
dk_grep "preinst hook /etc/kernel/preinst.d/05-no.install failed \(exit 4\)" "$T/err"
dk_same_boot "$R" "$base" "a failing preinst hook"
rm "$R/etc/kernel/preinst.d/05-no.install"
dk_ok "failing preinst hook: nothing changed"

# Version-less links, as installkernel keeps them: refreshed only where the root has them.
[[ ! -e $R/boot/vmlinuz && ! -L $R/boot/vmlinuz ]] || dk_fail "/boot/vmlinuz made where the root had none"
echo old > "$R/boot/vmlinuz-6.0.0-old"
ln -s vmlinuz-6.0.0-old "$R/boot/vmlinuz"
ln -s System.map-6.0.0-old "$R/boot/System.map"
dk_expect_status 0 "$install" add "$KV" --root "$R" --no-initramfs --hooks none
[[ $(readlink "$R/boot/vmlinuz") == "vmlinuz-$KV" ]] || dk_fail "/boot/vmlinuz -> $(readlink "$R/boot/vmlinuz")"
[[ $(readlink "$R/boot/vmlinuz.old") == vmlinuz-6.0.0-old ]] || dk_fail "/boot/vmlinuz.old -> $(readlink "$R/boot/vmlinuz.old")"
[[ $(readlink "$R/boot/System.map") == "System.map-$KV" ]] || dk_fail "/boot/System.map not refreshed"
[[ ! -e $R/boot/config && ! -L $R/boot/config ]] || dk_fail "/boot/config made where the root had none"
# A reinstall of the same release leaves them as they are.
dk_expect_status 0 "$install" add "$KV" --root "$R" --no-initramfs --hooks none
[[ $(readlink "$R/boot/vmlinuz.old") == vmlinuz-6.0.0-old ]] || dk_fail "a reinstall moved /boot/vmlinuz.old"
dk_ok "vmlinuz and vmlinuz.old links refreshed as installkernel does"
