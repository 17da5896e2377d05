#!/usr/bin/env bash
# kernel-install's plugins act on remove and clean: the root's own plugins (ROOT/etc/kernel/install.d,
# ROOT/usr/lib/kernel/install.d) run through the real kernel-install (systemd's, the build
# machine's program run inside the root) as `kernel-install remove KV`, before distkernel removes
# what its record lists: systemd's real 90-loaderentry.install deletes the BLS entry, a plugin of
# the root's own is told of each removal; 50-depmod is left out (it would delete the package's
# modules.dep) and inspect says so; kernel-install remove with distkernel's own plugin runs each
# plugin once; clean --all tells them of a kernel distkernel did not install too. Under --root
# without --hooks chroot the command is printed; a failing plugin fails the removal after the
# files are gone, naming it.
source "$DK_SOURCE_ROOT/tests/lib.sh"
source "$DK_SOURCE_ROOT/tests/integration/install/common.sh"
dk_private_mounts "$@"
dk_real_parts
dk_tmp_mounts
[[ -x /usr/bin/kernel-install && -f /usr/lib/kernel/install.d/90-loaderentry.install ]] ||
	dk_skip "no kernel-install with 90-loaderentry.install (systemd)"
dk_previous_debian
R=$T/root KV=$DK_DEBIAN_KV OLD=$DK_PREV_KV token=0123456789abcdef0123456789abcdef
install=$DK_TOOLS/distkernel-install clean=$DK_TOOLS/distkernel-clean
start=$SECONDS
dk_stage_debian "$R"
dk_stage_previous "$R"
mkdir -p "$R/usr/lib/kernel/install.d" "$R/etc/kernel/install.d" "$R/boot/loader/entries"
printf 'NAME=Gentoo\nID=gentoo\nPRETTY_NAME="Gentoo Linux"\n' > "$R/etc/os-release"
echo "$token" > "$R/etc/machine-id"
cp /usr/lib/kernel/install.d/90-loaderentry.install /usr/lib/kernel/install.d/50-depmod.install "$R/usr/lib/kernel/install.d/"
cat > "$R/etc/kernel/install.d/60-record.install" <<'EOT'
#!/bin/sh
echo "$*" >> /plugin-calls
[ ! -e /plugin-fails ]
EOT
chmod 755 "$R/etc/kernel/install.d/60-record.install"
dk_host_userland "$R"

dk_expect_status 0 "$install" inspect --root "$R"
dk_grep '^  /usr/lib/kernel/install.d/50-depmod.install skip: deletes modules.dep' "$T/err"
dk_grep '^  /etc/kernel/install.d/60-record.install run' "$T/err"
dk_grep '^  /usr/lib/kernel/install.d/90-loaderentry.install run' "$T/err"
dk_ok "inspect lists the plugins remove runs and the one it leaves out"

for k in "$OLD" "$KV"; do
	dk_expect_status 0 "$install" add "$k" --root "$R" --layout bls --no-initramfs --hooks chroot
done
entry=$R/boot/loader/entries/$token-$KV.conf
[[ -f $entry && -f $R/boot/$token/$KV/linux ]] || dk_fail "no BLS entry for $KV"

# Under --root without --hooks chroot: printed, not run.
dk_expect_status 0 "$install" remove "$KV" --root "$R" --pretend
dk_grep "would run: KERNEL_INSTALL_PLUGINS=\"/etc/kernel/install.d/60-record.install /usr/lib/kernel/install.d/90-loaderentry.install\" chroot $R /usr/bin/kernel-install remove $KV" "$T/err"
[[ ! -e $R/plugin-calls ]] || dk_fail "remove --pretend ran a plugin"

dk_expect_status 0 "$install" remove "$KV" --root "$R" --hooks chroot
dk_grep "^remove $KV /boot/$token/$KV\$" "$R/plugin-calls"
[[ ! -e $entry && ! -e $R/boot/$token/$KV ]] || dk_fail "the BLS entry of $KV is still there"
[[ -f $R/boot/loader/entries/$token-$OLD.conf ]] || dk_fail "the entry of $OLD went too"
[[ -f $R/lib/modules/$KV/modules.dep ]] || dk_fail "50-depmod ran: $KV's modules.dep is gone"
dk_ok "remove: kernel-install remove $KV ran the root's plugins; the entry is gone, $OLD's is there"

# clean: the same plugins for each kernel it removes.
dk_expect_status 0 "$install" add "$KV" --root "$R" --layout bls --no-initramfs --hooks chroot
: > "$R/plugin-calls"
dk_expect_status 0 "$clean" --root "$R" --keep 1 --running none-running --hooks chroot
dk_grep "^remove $OLD /boot/$token/$OLD\$" "$R/plugin-calls"
[[ ! -e $R/boot/loader/entries/$token-$OLD.conf ]] || dk_fail "clean left the entry of $OLD"
[[ -f $entry ]] || dk_fail "clean removed the entry of $KV"
dk_ok "clean: kernel-install remove $OLD ran the root's plugins"

# clean --all: a kernel distkernel did not install (a BLS entry of its own) gets the same plugins.
FKV=5.10.0-0-foreign
mkdir -p "$R/boot/$token/$FKV"
echo "a kernel image" > "$R/boot/$token/$FKV/linux"
printf 'title Foreign\nversion %s\nmachine-id %s\nlinux /%s/%s/linux\n' "$FKV" "$token" "$token" "$FKV" \
	> "$R/boot/loader/entries/$token-$FKV.conf"
: > "$R/plugin-calls"
dk_expect_status 0 "$clean" --root "$R" --keep 1 --all --running none-running --hooks chroot
dk_grep "^remove $FKV /boot/$token/$FKV\$" "$R/plugin-calls"
[[ $(grep -c . "$R/plugin-calls") == 1 ]] || dk_fail "the root's plugin ran for: $(cat "$R/plugin-calls")"
[[ ! -e $R/boot/loader/entries/$token-$FKV.conf && ! -e $R/boot/$token/$FKV ]] || dk_fail "clean --all left $FKV"
[[ -f $entry ]] || dk_fail "clean --all removed the entry of $KV"
dk_ok "clean --all: kernel-install remove $FKV (not distkernel's) ran the root's plugins"

# kernel-install remove KV itself, with distkernel's plugin (05-distkernel.install) among the
# root's: the plugin routes the removal into distkernel and exits 77, so kernel-install runs no
# other plugin; distkernel's removal runs them (its own plugin sees the guard and does nothing):
# each plugin once.
cp "$DK_SOURCE_ROOT/data/kernel/05-distkernel.install" "$R/usr/lib/kernel/install.d/"
build=$(realpath "$DK_TOOLS/..")
mkdir -p "$R/usr/local/bin" "$R$build"
mount --bind "$build" "$R$build"
printf '#!/bin/sh
exec %q "$@"
' "$(realpath "$install")" > "$R/usr/local/bin/distkernel-install"
chmod 755 "$R/usr/local/bin/distkernel-install"
: > "$R/plugin-calls"
dk_expect_status 0 chroot "$R" /usr/bin/kernel-install remove "$KV"
[[ ! -e $entry && ! -e $R/var/lib/distkernel/kernels/$KV.json ]] || dk_fail "kernel-install remove left $KV"
[[ $(grep -c "^remove $KV " "$R/plugin-calls") == 1 ]] || dk_fail "the root's plugin ran $(grep -c . "$R/plugin-calls") times"
rm "$R/usr/lib/kernel/install.d/05-distkernel.install"
dk_expect_status 0 "$install" add "$KV" --root "$R" --layout bls --no-initramfs --hooks chroot
dk_ok "kernel-install remove through distkernel's plugin: each plugin ran once"

# A failing plugin: the removal is done, and it fails naming the plugin run.
touch "$R/plugin-fails"
dk_expect_status 1 "$install" remove "$KV" --root "$R" --hooks chroot
dk_grep "kernel-install remove failed \(exit 1\)" "$T/err"
dk_grep "$KV's files and record are removed" "$T/err"
[[ ! -e $entry && ! -e $R/var/lib/distkernel/kernels/$KV.json ]] || dk_fail "a failing plugin kept $KV"
dk_ok "a failing plugin: exit 1 naming it, the kernel removed"
echo "install-remove-plugins: $((SECONDS - start))s" >&2
