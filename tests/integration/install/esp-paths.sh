#!/usr/bin/env bash
# The ESP where it is not /boot: layout=uki and layout=efistub install onto the root's /efi or
# /boot/efi, found from ROOT/etc/fstab or by content (an EFI directory), or named with --esp-path;
# inspect shows which and why; the transaction (staging, journal, roll back after a kill) stays on
# the ESP; the efibootmgr command names paths on the ESP; remove takes exactly those files; a
# reinstall onto another ESP removes the previous install's files once it has committed, and a
# killed or failed one leaves them.
# No initramfs is built (--no-initramfs, or a small prebuilt one): only where files go is tested.
source "$DK_SOURCE_ROOT/tests/lib.sh"
source "$DK_SOURCE_ROOT/tests/integration/install/common.sh"
dk_real_parts
dk_tmp
KV=$DK_DEBIAN_KV token=0123456789abcdef0123456789abcdef
install=$DK_TOOLS/distkernel-install
stub=/usr/lib/systemd/boot/efi/linuxx64.efi.stub
[[ -f $stub ]] || dk_skip "no $stub (systemd-boot-efi; scripts/install-deps)"
start=$SECONDS

# esp_root ROOT LAYOUT: the Debian kernel staged, install.conf saying LAYOUT, os-release, machine
# id and the stub.
esp_root() {
	dk_stage_debian "$1"
	mkdir -p "$1/usr/lib/kernel" "$1/usr/lib/systemd/boot/efi" "$1/boot"
	printf 'layout=%s\n' "$2" > "$1/usr/lib/kernel/install.conf"
	printf 'NAME=Gentoo\nID=gentoo\n' > "$1/etc/os-release"
	echo "$token" > "$1/etc/machine-id"
	cp "$stub" "$1/usr/lib/systemd/boot/efi/"
}

# --- /efi from fstab, layout=uki
R=$T/efi
esp_root "$R" uki
mkdir -p "$R/efi"
printf '# the root\nUUID=1234-ABCD  /efi  vfat  umask=0077  0 2\nUUID=0a0a /  ext4  defaults  0 1\n' > "$R/etc/fstab"
dk_expect_status 0 "$install" inspect --root "$R"
dk_grep "^ESP: +/efi  \($R/etc/fstab:2 mounts vfat on /efi\)" "$T/err"
dk_grep "^on the ESP: +/efi/EFI/Linux/$token-KV.efi " "$T/err"
# A kill after the first rename: the next add rolls it back on the ESP, then installs.
DISTKERNEL_TEST_KILL_AFTER_RENAMES=1 dk_expect_status 137 "$install" add "$KV" --root "$R" --no-initramfs
dk_grep '"boot": "/efi"' "$R/var/lib/distkernel/journal.json"
dk_expect_status 0 "$install" add "$KV" --root "$R" --no-initramfs
dk_grep "was interrupted .* rolling it back" "$T/err"
uki=$R/efi/EFI/Linux/$token-$KV.efi
[[ -f $uki ]] || dk_fail "no UKI at $uki"
[[ -z $(ls -A "$R/boot") ]] || dk_fail "the uki layout with the ESP at /efi wrote into /boot: $(ls -A "$R/boot")"
[[ -z $(find "$R/efi" -name '.distkernel-*') ]] || dk_fail "staging or backup left on the ESP"
dk_expect_status 0 "$install" list --root "$R"
dk_grep "^$KV	uki	" "$T/out"
dk_expect_status 0 "$install" remove "$KV" --root "$R"
[[ ! -e $uki && ! -e $R/efi/EFI ]] || dk_fail "remove left $(find "$R/efi" -mindepth 1)"
dk_ok "ESP at /efi by fstab: uki installed there, a killed add rolled back there, removed exactly"

# --esp-path overrides fstab; a place kernel-install does not know is a usage error.
dk_expect_status 0 "$install" add "$KV" --root "$R" --no-initramfs --esp-path /boot
[[ -f $R/boot/EFI/Linux/$token-$KV.efi && ! -e $R/efi/EFI ]] || dk_fail "--esp-path /boot not honoured"
dk_expect_status 0 "$install" inspect --root "$R" --esp-path /boot
dk_grep "^ESP: +/boot  \(--esp-path\)" "$T/err"
dk_expect_status 2 "$install" add "$KV" --root "$R" --no-initramfs --esp-path /mnt/esp
dk_grep "esp-path must be /efi, /boot/efi or /boot" "$T/err"
dk_ok "--esp-path: honoured over fstab; an unknown place refused"

# --- A reinstall onto another ESP: the UKI on /efi (fstab) goes, once the one on /boot/efi
# (--esp-path) is committed; a killed or failed reinstall leaves it in place and recorded.
R=$T/move
esp_root "$R" uki
mkdir -p "$R/efi"
printf 'UUID=1234-ABCD  /efi  vfat  umask=0077  0 2\n' > "$R/etc/fstab"
dk_expect_status 0 "$install" add "$KV" --root "$R" --no-initramfs
old=$R/efi/EFI/Linux/$token-$KV.efi new=$R/boot/efi/EFI/Linux/$token-$KV.efi record=$R/var/lib/distkernel/kernels/$KV.json
[[ -f $old ]] || dk_fail "no UKI at $old"
sum=$(sha256sum < "$old")
DISTKERNEL_TEST_KILL_AFTER_RENAMES=1 dk_expect_status 137 "$install" add "$KV" --root "$R" --no-initramfs --esp-path /boot/efi
[[ -f $old && $(sha256sum < "$old") == "$sum" ]] || dk_fail "a reinstall killed before its commit took the UKI on /efi"
# The next add rolls the killed one back, then fails (the prebuilt initramfs offered is a UEFI
# program): nothing moved.
dk_expect_status 1 "$install" add "$KV" --root "$R" --esp-path /boot/efi --prebuilt-initramfs "$old"
dk_grep "was interrupted .* rolling it back" "$T/err"
dk_grep "is a UEFI executable" "$T/err"
[[ -f $old && $(sha256sum < "$old") == "$sum" && ! -e $new ]] || dk_fail "a failed reinstall onto /boot/efi: $(find "$R/efi" "$R/boot" -type f)"
dk_grep "\"/efi/EFI/Linux/$token-$KV.efi\"" "$record"
dk_ok "reinstall onto /boot/efi killed, then failed: the UKI on /efi in place and recorded"
dk_expect_status 0 "$install" add "$KV" --root "$R" --no-initramfs --esp-path /boot/efi
[[ -f $new ]] || dk_fail "no UKI at $new"
[[ ! -e $old && ! -e $R/efi/EFI ]] || dk_fail "the reinstall onto /boot/efi left $(find "$R/efi" -mindepth 1)"
dk_nogrep '"/efi/' "$record"
dk_expect_status 0 "$install" remove "$KV" --root "$R"
[[ ! -e $new && ! -e $R/boot/efi/EFI ]] || dk_fail "remove left $(find "$R/boot/efi" -mindepth 1)"
dk_ok "reinstall onto /boot/efi: the UKI on /efi and its directories gone, the record lists /boot/efi only"

# --- /boot/efi by content, layout=efistub (with a small prebuilt initramfs: its path on the ESP
# goes into the efibootmgr command)
R=$T/bootefi
esp_root "$R" efistub
mkdir -p "$R/boot/efi/EFI/BOOT"
echo initramfs > "$T/initrd.img"
dk_expect_status 0 "$install" inspect --root "$R"
dk_grep "^ESP: +/boot/efi  \($R/boot/efi/EFI exists\)" "$T/err"
dk_expect_status 0 "$install" add "$KV" --root "$R" --prebuilt-initramfs "$T/initrd.img"
[[ -f $R/boot/efi/EFI/Gentoo/vmlinuz-$KV.efi && -f $R/boot/efi/EFI/Gentoo/initramfs-$KV.img ]] ||
	dk_fail "efistub did not install onto /boot/efi"
[[ ! -e $R/boot/EFI && ! -e $R/boot/vmlinuz-$KV ]] || dk_fail "efistub wrote into /boot itself"
dk_grep "efibootmgr --create .* --loader '\\\\EFI\\\\Gentoo\\\\vmlinuz-$KV.efi' --unicode 'initrd=\\\\EFI\\\\Gentoo\\\\initramfs-$KV.img root=/dev/vda" "$T/err"
dk_expect_status 0 "$install" remove "$KV" --root "$R"
[[ ! -e $R/boot/efi/EFI/Gentoo && -d $R/boot/efi/EFI/BOOT ]] || dk_fail "remove on /boot/efi: $(find "$R/boot/efi")"
dk_ok "ESP at /boot/efi by content: efistub installed there, the efibootmgr command names paths on it"
echo "install-esp-paths: $((SECONDS - start))s" >&2
