#!/usr/bin/env bash
# distkernel-clean --all on roots whose foreign boot entries name directories ("linux /..",
# "linux /", "linux /somedir", "initrd /loader/../.."): what it removes is a regular file strictly
# under the boot directory, never a directory a foreign entry names, never a parent of a kept file.
# A snapshot of everything outside ROOT/boot (and of the kept kernel) must be unchanged.
source "$DK_SOURCE_ROOT/tests/lib.sh"
dk_tmp
clean=$DK_TOOLS/distkernel-clean
keep=6.1.0-9-amd64

# snapshot DIR: every entry with its type, every file's sha256 (paths relative to DIR), except
# the tools' own state directory (clean takes the install lock there).
snapshot() {
	(cd "$1" && find . -mindepth 1 -path ./root/var/lib/distkernel -prune -o -printf '%y %p\n' | sort &&
		find . -path ./root/var/lib/distkernel -prune -o -type f -exec sha256sum {} + | sort -k 2)
}

n=0
for value in /.. / /somedir /loader/../.. /./ //.. /somedir/. /somedir/.. /loader/entries; do
	n=$((n + 1))
	r=$T/case$n/root
	mkdir -p "$r/boot/loader/entries" "$r/boot/somedir" "$r/lib/modules/$keep/kernel" "$r/proc/sys/kernel" \
		"$r/etc" "$r/var/lib" "$T/case$n/outside"
	echo sentinel > "$T/case$n/outside/file"
	echo "$keep" > "$r/proc/sys/kernel/osrelease"
	head -c 5000 /dev/urandom > "$r/boot/vmlinuz-$keep"
	head -c 7000 /dev/urandom > "$r/boot/initrd.img-$keep"
	head -c 3000 /dev/urandom > "$r/boot/somedir/keepme"
	head -c 3000 /dev/urandom > "$r/lib/modules/$keep/kernel/ext4.ko"
	echo data > "$r/etc/fstab"
	printf 'title Hostile\nversion 5.4.0-%d\nlinux %s\ninitrd %s\n' "$n" "$value" "$value" \
		> "$r/boot/loader/entries/hostile.conf"
	outside_before=$(snapshot "$T/case$n")
	dk_expect_status 0 "$clean" --root "$r" --all --keep 1 --running "$keep"
	# The entry itself is a foreign kernel's file: it may go. Nothing else may.
	rm -f "$r/boot/loader/entries/hostile.conf"
	printf 'title Hostile\nversion 5.4.0-%d\nlinux %s\ninitrd %s\n' "$n" "$value" "$value" \
		> "$r/boot/loader/entries/hostile.conf"
	touch -r "$r/boot/loader/entries" "$r/boot/loader/entries/hostile.conf"
	outside_after=$(snapshot "$T/case$n")
	if [[ $outside_before != "$outside_after" ]]; then
		diff <(echo "$outside_before") <(echo "$outside_after") >&2 || true
		dk_fail "linux $value: clean --all removed or changed more than the foreign entry"
	fi
	dk_ok "linux $value: only the entry removed; the kept kernel, ROOT and outside intact"
done
