#!/usr/bin/env bash
# A root full of hostile links: every path the tools touch (boot, boot/EFI, boot/loader,
# boot/loader/entries, var/lib/distkernel, its lock and records, etc/kernel/cmdline,
# etc/kernel/install.conf, lib/modules) is a symlink that, followed on the host, leads out of
# the root into $H (standing for the build host, full of decoys). Every tool runs on it: install
# add/list/remove, check, clean, stage --dest. A snapshot of $H (type, path, size, mtime, mode,
# sha256 of every file) before and after each must be identical: a link below the root is
# resolved inside it, whatever its shape.
source "$DK_SOURCE_ROOT/tests/lib.sh"
source "$DK_SOURCE_ROOT/tests/integration/install/common.sh"
dk_real_parts
dk_tmp
KV=$DK_DEBIAN_KV H=$T/host R=$T/root
install=$DK_TOOLS/distkernel-install check=$DK_TOOLS/distkernel-check clean=$DK_TOOLS/distkernel-clean
stage=$DK_TOOLS/distkernel-stage

# ---- the host's decoys -------------------------------------------------------------------------
mkdir -p "$H/boot" "$H/EFI/Linux" "$H/loader/entries" "$H/entries" "$H/state/kernels" "$H/kernels" \
	"$H/lib/modules/$KV" "$H/sys"
echo decoy > "$H/boot/vmlinuz-5.0.0-decoy"
echo decoy > "$H/EFI/Linux/decoy-5.0.0-decoy.efi"
printf 'title Decoy\nversion 5.0.0-decoy\nlinux /vmlinuz-5.0.0-decoy\n' > "$H/entries/decoy.conf"
cp "$H/entries/decoy.conf" "$H/loader/entries/decoy.conf"
echo "HOST-SECRET-CMDLINE" > "$H/cmdline"
echo "layout=installkernel" > "$H/install.conf"
echo "host lock" > "$H/lock"
echo "decoy" > "$H/lib/modules/$KV/modules.dep"
printf '{"schema": "distkernel.deployment", "version": "1.0", "release": "5.0.0-decoy", "layout": "bls", "files": [{"path": "/boot/vmlinuz-5.0.0-decoy", "size": 6, "sha256": "x"}]}\n' \
	> "$H/kernels/5.0.0-decoy.json"
cp "$H/kernels/5.0.0-decoy.json" "$H/state/kernels/"
touch -d '2020-01-01 00:00' "$H"/* "$H"/*/* 2>/dev/null || true

# snapshot: everything under $H with type, size, mtime, mode and contents.
snapshot() {
	(cd "$H" && find . -printf '%y %p %s %T@ %m %l\n' | sort && find . -type f -exec sha256sum {} + | sort -k 2)
}
before=$(snapshot)
same_host() {
	local now
	now=$(snapshot)
	if [[ $now != "$before" ]]; then
		diff <(echo "$before") <(echo "$now") >&2 || true
		dk_fail "$1: something outside the root changed"
	fi
	dk_ok "$1: nothing outside the root changed"
}

# ---- the root: links out of it at every level; what they mean inside the root is real ------
# (an absolute target $H/x is ROOT$H/x inside the root; a relative target climbing above the
# root stops at the root: ../../../host/x from ROOT/etc/kernel is ROOT/host/x)
mkdir -p "$R/etc/kernel" "$R/var/lib" "$R/lib" "$R/usr/src" "$R$H/boot" "$R$H/EFI/Linux" "$R$H/loader" "$R$H/entries" \
	"$R$H/lib/modules" "$R/host/state" "$R/proc/sys/kernel"
ln -s "$H/boot" "$R/boot"
ln -s "$H/EFI" "$R$H/boot/EFI"
ln -s "$H/loader" "$R$H/boot/loader"
ln -s "$H/entries" "$R$H/loader/entries"
ln -s ../../../host/state "$R/var/lib/distkernel"
ln -s "$H/lock" "$R/host/state/lock"
ln -s "$H/kernels" "$R/host/state/kernels"
ln -s "$H/cmdline" "$R/etc/kernel/cmdline"
echo "root=/dev/vda rw console=ttyS0 inside-root" > "$R$H/cmdline"
ln -s ../../../host/install.conf "$R/etc/kernel/install.conf"
mkdir -p "$R/host" && echo "layout=bls" > "$R/host/install.conf"
ln -s "$H/lib/modules" "$R/lib/modules"
echo 0123456789abcdef0123456789abcdef > "$R/etc/machine-id"
echo 6.1.0-0-none > "$R/proc/sys/kernel/osrelease"

# stage --dest into a destination whose lib/modules leads out: refused, nothing written outside.
D=$T/dest
mkdir -p "$D/lib"
ln -s "$H/lib/modules" "$D/lib/modules"
dk_expect_status 1 "$stage" prebuilt --release "$KV" --image "$DK_DEBIAN_ROOT/boot/vmlinuz-$KV" \
	--modules "$DK_DEBIAN_ROOT/lib/modules/$KV" --config "$DK_DEBIAN_CONFIG" --dest "$D" -q
dk_grep "leads outside $D through a symbolic link" "$T/err"
same_host "stage --dest with lib/modules -> host"

# The staged kernel, staged cleanly elsewhere and moved to where the root's links lead.
dk_stage_debian "$T/staged"
mv "$T/staged/usr/src/linux-$KV" "$R/usr/src/"
mv "$T/staged/lib/modules/$KV" "$R$H/lib/modules/"
same_host "staging"

dk_expect_status 0 "$install" add "$KV" --root "$R" "${DK_SMALL_DRACUT[@]}"
same_host "install add"
entry=$(find "$R$H/entries" -name "*$KV.conf")
[[ -n $entry ]] || dk_fail "no boot entry where ROOT/boot/loader/entries leads inside the root"
dk_grep 'inside-root' "$entry"
dk_nogrep 'HOST-SECRET' "$entry"
[[ -f $R$H/lock && ! -L $R$H/lock ]] || dk_fail "the lock file is not where the root's links lead inside it"
[[ -f $R$H/kernels/$KV.json ]] || dk_fail "the record is not where the root's links lead inside it"

dk_expect_status 0 "$install" list --root "$R"
dk_grep "^$KV	bls	" "$T/out"
dk_nogrep decoy "$T/out"
same_host "install list"

set +e
"$check" "$KV" --root "$R" --machine "$DK_SOURCE_ROOT/tests/fixtures/check/virtio-vm.json" >"$T/out" 2>"$T/err"
rc=$?
set -e
[[ $rc == 0 || $rc == 4 || $rc == 5 ]] || { cat "$T/err" >&2; dk_fail "check exited $rc"; }
same_host "check"

# The newest kernel is never clean's: it is kept, and the inventory reads every layout's places.
dk_expect_status 77 "$clean" --root "$R" --all --keep 1 --running 6.1.0-0-none --pretend
dk_nogrep decoy "$T/err"
same_host "clean --pretend"

dk_expect_status 0 "$install" remove "$KV" --root "$R"
[[ ! -e $entry ]] || dk_fail "remove left the entry"
same_host "install remove"

# clean --all removes what is left of a kernel without its boot files (its module tree).
dk_expect_status 0 "$clean" --root "$R" --all --keep 1 --running 6.1.0-0-none
same_host "clean --all"
