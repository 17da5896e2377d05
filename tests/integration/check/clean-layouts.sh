#!/usr/bin/env bash
# distkernel-clean on roots with 6 kernels in each layout (installkernel and BLS recorded by
# distkernel; UKIs and plain files that distkernel did not install), one "running" (the root's
# own /proc/sys/kernel/osrelease), one pinned (clean.conf); checked file by file. Removal of
# recorded kernels goes through the install library's remove().
source "$DK_SOURCE_ROOT/tests/lib.sh"
dk_tmp
clean=$DK_TOOLS/distkernel-clean
kvs=(6.1.0-9-amd64 6.1.0-10-amd64 6.1.0-50-amd64 6.1.0-55-amd64 6.6.30-gentoo-dist 6.12.1-gentoo-dist)
running=6.1.0-9-amd64 pinned=6.1.0-10-amd64

# blob FILE N: N bytes of data.
blob() { mkdir -p "$(dirname "$1")"; head -c "$2" /dev/urandom > "$1"; }
# record ROOT KV LAYOUT DIRS FILE...: the state record distkernel-install writes.
record() {
	local r=$1 kv=$2 layout=$3 dirs=$4; shift 4
	mkdir -p "$r/var/lib/distkernel/kernels"
	python3 - "$r" "$kv" "$layout" "$dirs" "$@" > "$r/var/lib/distkernel/kernels/$kv.json" <<'PY'
import hashlib, json, os, sys
r, kv, layout, dirs, files = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:]
out = {"schema": "distkernel.deployment", "version": "1.0", "release": kv, "variant": "dist", "layout": layout,
       "time": "2026-11-0%dT00:00:00Z" % (len(kv) % 9 + 1), "initramfs": True, "hostonly": False, "dracut_args": [],
       "files": [{"path": f, "size": os.path.getsize(r + f), "sha256": hashlib.sha256(open(r + f, "rb").read()).hexdigest()}
                 for f in files],
       "dirs": [d for d in dirs.split(",") if d]}
print(json.dumps(out, indent=1))
PY
}
common() { # ROOT: modules, sources, running kernel, config
	local r=$1 i=0 kv
	for kv in "${kvs[@]}"; do
		i=$((i + 1))
		blob "$r/lib/modules/$kv/kernel/fs/ext4/ext4.ko" $((3000 + i))
		blob "$r/lib/modules/$kv/modules.dep" 10
		blob "$r/usr/src/linux-$kv/.config" 200
	done
	mkdir -p "$r/proc/sys/kernel" "$r/etc/distkernel"
	echo "$running" > "$r/proc/sys/kernel/osrelease"
	printf '# test\nkeep = 2\npin = %s\n' "$pinned" > "$r/etc/distkernel/clean.conf"
	# 6.1.0-55's modules belong to a package still installed: they stay.
	mkdir -p "$r/var/db/pkg/sys-kernel/gentoo-kernel-bin-6.1.55"
	printf 'dir /lib/modules/6.1.0-55-amd64\nobj /lib/modules/6.1.0-55-amd64/kernel/fs/ext4/ext4.ko 0 0\n' \
		> "$r/var/db/pkg/sys-kernel/gentoo-kernel-bin-6.1.55/CONTENTS"
}
files_of() { (cd "$1" && find . \( -type f -o -type l \) ! -path ./var/lib/distkernel/lock | sed 's,^\.,,' | sort); }

# ---- installkernel layout, recorded by distkernel ------------------------------------------
r=$T/ik
common "$r"
blob "$r/boot/intel-ucode.img" 1000
i=0
for kv in "${kvs[@]}"; do
	i=$((i + 1))
	blob "$r/boot/vmlinuz-$kv" $((100000 + i)); blob "$r/boot/System.map-$kv" 5000; blob "$r/boot/config-$kv" 2000
	blob "$r/boot/initramfs-$kv.img" $((400000 + i))
	record "$r" "$kv" installkernel "" /boot/vmlinuz-$kv /boot/System.map-$kv /boot/config-$kv /boot/initramfs-$kv.img /boot/intel-ucode.img
done
blob "$r/boot/vmlinuz-5.10.0-1-amd64" 90000; blob "$r/boot/initrd.img-5.10.0-1-amd64" 300000 # not distkernel's
files_of "$r" > "$T/before"
dk_expect_status 0 "$clean" --root "$r" --pretend --json
files_of "$r" | diff "$T/before" - >&2 || dk_fail "--pretend changed the root"
cp "$T/out" "$T/pretend.json"
dk_grep '^would remove 6.1.0-55-amd64 \(installkernel, installed by distkernel\): older than the newest 2$' "$T/err"
dk_grep '^would remove 6.1.0-50-amd64 ' "$T/err"
dk_grep "^keep $running .*: running$" "$T/err"
dk_grep "^keep $pinned .*: pinned$" "$T/err"
dk_grep '^keep 5.10.0-1-amd64 \(plain, not installed by distkernel\): not installed by distkernel' "$T/err"
dk_grep 'note: /lib/modules/6.1.0-55-amd64 is owned by sys-kernel/gentoo-kernel-bin-6.1.55: kept' "$T/err"
dk_grep 'note: /boot/intel-ucode.img is also used by a kept kernel: kept' "$T/err"
dk_expect_status 0 "$clean" --root "$r" --json
cp "$T/out" "$T/done.json"
# Expected: the two removed kernels' boot files, /lib/modules/6.1.0-50-amd64 and both
# /usr/src trees gone; nothing else.
gone=()
for kv in 6.1.0-50-amd64 6.1.0-55-amd64; do
	gone+=(/boot/vmlinuz-$kv /boot/System.map-$kv /boot/config-$kv /boot/initramfs-$kv.img
		/usr/src/linux-$kv/.config /var/lib/distkernel/kernels/$kv.json)
done
gone+=(/lib/modules/6.1.0-50-amd64/kernel/fs/ext4/ext4.ko /lib/modules/6.1.0-50-amd64/modules.dep)
printf '%s\n' "${gone[@]}" | sort > "$T/gone"
comm -23 "$T/before" "$T/gone" > "$T/expected"
files_of "$r" | diff "$T/expected" - >&2 || dk_fail "installkernel layout: the files left are not the expected ones"
# --pretend said exactly this, with the bytes.
python3 - "$T/pretend.json" "$T/done.json" "$r" <<'PY' || dk_fail "pretend and the real run disagree"
import json, sys
p, d = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert p["schema"] == "distkernel.clean" and p["pretend"] and not d["pretend"]
assert p["kernels"] == d["kernels"], "plans differ"
want = 0
for k in p["kernels"]:
    want += sum(f["bytes"] for f in k["files"])
assert p["bytes_freed"] == want and want > 2 * 500000, (p["bytes_freed"], want)
PY
[[ ! -e $r/lib/modules/6.1.0-50-amd64 && -d $r/lib/modules/6.1.0-55-amd64 ]] || dk_fail "module trees"
dk_ok "installkernel layout: 2 removed through the install library, running, pinned, shared and package-owned kept"

# Nothing more to do: exit 77. --all then takes the plain kernel too.
dk_expect_status 77 "$clean" --root "$r"
dk_expect_status 0 "$clean" --root "$r" --all
[[ ! -e $r/boot/vmlinuz-5.10.0-1-amd64 && ! -e $r/boot/initrd.img-5.10.0-1-amd64 ]] || dk_fail "--all left the plain kernel"
[[ -e $r/boot/vmlinuz-$running && -e $r/boot/vmlinuz-$pinned && -e $r/boot/vmlinuz-6.12.1-gentoo-dist ]] || dk_fail "--all removed a kept kernel"
dk_ok "--all removes the kernel distkernel did not install"

# ---- BLS layout, recorded by distkernel; one foreign entry -----------------------------------
r=$T/bls
common "$r"
tok=0123456789abcdef0123456789abcdef
i=0
for kv in "${kvs[@]}"; do
	i=$((i + 1))
	blob "$r/boot/$tok/$kv/linux" $((100000 + i)); blob "$r/boot/$tok/$kv/initrd" $((400000 + i))
	mkdir -p "$r/boot/loader/entries"
	printf 'title Gentoo\nversion %s\nlinux /%s/%s/linux\ninitrd /%s/%s/initrd\n' "$kv" "$tok" "$kv" "$tok" "$kv" \
		> "$r/boot/loader/entries/$tok-$kv.conf"
	record "$r" "$kv" bls "/boot/$tok/$kv" /boot/$tok/$kv/linux /boot/$tok/$kv/initrd /boot/loader/entries/$tok-$kv.conf
done
blob "$r/boot/other/5.4.0-1/linux" 1000
printf 'title Other\nversion 5.4.0-1\nlinux /other/5.4.0-1/linux\n' > "$r/boot/loader/entries/other-5.4.0-1.conf"
files_of "$r" > "$T/before"
dk_expect_status 0 "$clean" --root "$r"
gone=()
for kv in 6.1.0-50-amd64 6.1.0-55-amd64; do
	gone+=(/boot/$tok/$kv/linux /boot/$tok/$kv/initrd /boot/loader/entries/$tok-$kv.conf /usr/src/linux-$kv/.config
		/var/lib/distkernel/kernels/$kv.json)
done
gone+=(/lib/modules/6.1.0-50-amd64/kernel/fs/ext4/ext4.ko /lib/modules/6.1.0-50-amd64/modules.dep)
printf '%s\n' "${gone[@]}" | sort > "$T/gone"
comm -23 "$T/before" "$T/gone" > "$T/expected"
files_of "$r" | diff "$T/expected" - >&2 || dk_fail "BLS layout: the files left are not the expected ones"
[[ ! -e $r/boot/$tok/6.1.0-50-amd64 ]] || dk_fail "the BLS directory of a removed kernel is left"
dk_ok "BLS layout: entries, kernel directories and records removed; the foreign entry kept"

# ---- UKIs that distkernel did not install: only with --all ------------------------------------
r=$T/uki
common "$r"
i=0
for kv in "${kvs[@]}"; do
	i=$((i + 1))
	blob "$r/boot/EFI/Linux/gentoo-$kv.efi" $((2000000 + i))
done
files_of "$r" > "$T/before"
dk_expect_status 77 "$clean" --root "$r" --pretend
files_of "$r" | diff "$T/before" - >&2 || dk_fail "uki: changed without --all"
dk_expect_status 77 "$clean" --root "$r" --all --keep 3 --pin 6.1.0-50-amd64
# Newest 3 (6.12.1, 6.6.30, 6.1.0-55), running 6.1.0-9 and pinned 6.1.0-10 (conf) and 6.1.0-50 (--pin): nothing
# bootable goes; now --keep 1 without the extra pin: 6.6.30, 6.1.0-55 and 6.1.0-50 go.
for kv in "${kvs[@]}"; do [[ -e $r/boot/EFI/Linux/gentoo-$kv.efi ]] || dk_fail "uki: $kv removed too early"; done
dk_expect_status 0 "$clean" --root "$r" --all --keep 1
gone=()
for kv in 6.1.0-50-amd64 6.1.0-55-amd64 6.6.30-gentoo-dist; do
	gone+=(/boot/EFI/Linux/gentoo-$kv.efi /usr/src/linux-$kv/.config)
done
gone+=(/lib/modules/6.1.0-50-amd64/kernel/fs/ext4/ext4.ko /lib/modules/6.1.0-50-amd64/modules.dep
	/lib/modules/6.6.30-gentoo-dist/kernel/fs/ext4/ext4.ko /lib/modules/6.6.30-gentoo-dist/modules.dep)
printf '%s\n' "${gone[@]}" | sort > "$T/gone"
comm -23 "$T/before" "$T/gone" > "$T/expected"
files_of "$r" | diff "$T/expected" - >&2 || dk_fail "UKI layout: the files left are not the expected ones"
dk_ok "UKIs: kept without --all; with --all the old ones go, running and pinned stay"

# Errors: a bad config line names the file and line.
printf 'keep = 2\nkeep = lots\n' > "$r/etc/distkernel/clean.conf"
dk_expect_status 1 "$clean" --root "$r" --pretend
dk_grep "$r/etc/distkernel/clean.conf:2: keep: 'lots' is not a number" "$T/err"
dk_expect_status 2 "$clean" --root "$r" --pin ../x
dk_ok "bad configuration is an error naming file and line"
