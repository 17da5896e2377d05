#!/usr/bin/env bash
# The final .config of `distkernel-config merge` is identical to what the kernel's own
# scripts/kconfig/merge_config.sh -m BASE LAYERS... followed by make olddefconfig gives, on the real
# tree with Debian's real config and layers that exercise what merge_config.sh does with repeated
# symbols, "is not set" lines, choices and the tree's own x86_64_defconfig as a whole layer.
source "$DK_SOURCE_ROOT/tests/lib.sh"
dk_real_parts
dk_tmp
cfg=$DK_TOOLS/distkernel-config

mkdir -p "$T/frags.d" "$T/theirs" "$T/ours"
cp "$DK_TREE/arch/x86/configs/x86_64_defconfig" "$T/frags.d/05-x86_64_defconfig.config"
cat > "$T/frags.d/10-gentoo.config" <<'F'
CONFIG_DEFAULT_HOSTNAME="gentoo"
CONFIG_LOCALVERSION="-a"
# a choice moved without unsetting the old member: the order of the lines decides
CONFIG_PREEMPT=y
CONFIG_HZ_1000=y
CONFIG_EXT4_FS=m
F
cat > "$T/20-disagree.config" <<'F'
CONFIG_LOCALVERSION="-b \"quoted\""
CONFIG_EXT4_FS=y
CONFIG_KVM=n
# the same symbol twice in one layer: Kconfig takes the last
CONFIG_NR_CPUS=64
CONFIG_NR_CPUS=128
# CONFIG_HZ_1000 is not set
CONFIG_HZ_300=y
CONFIG_ZFS=y
CONFIG_DRM_I915_GVT_KVMGT=m
F
# CRLF line ends and text after "is not set": Kconfig reads both as n, merge_config.sh's pattern
# misses them and keeps the earlier lines of the symbol (for the chosen member of a choice, that
# keeps it chosen)
printf '%s\r\n' '# CONFIG_KERNEL_XZ is not set' 'CONFIG_SQUASHFS=m' > "$T/30-crlf.config"
printf '%s\n' '# CONFIG_CIFS is not set # not on this machine' >> "$T/30-crlf.config"
layers=("$T/frags.d/05-x86_64_defconfig.config" "$T/frags.d/10-gentoo.config" "$T/20-disagree.config" "$T/30-crlf.config")

# theirs: merge_config.sh -m (it works in the current directory) + make olddefconfig
(cd "$T/theirs" && KCONFIG_CONFIG="$T/theirs/.config" sh "$DK_TREE/scripts/kconfig/merge_config.sh" -m \
	"$DK_DEBIAN_CONFIG" "${layers[@]}" >"$T/merge_config.log" 2>&1) || dk_fail "merge_config.sh failed"
make -C "$DK_TREE" O="$T/theirs" olddefconfig >"$T/make.log" 2>&1 || { tail "$T/make.log"; dk_fail "make olddefconfig failed"; }

# ours: the same inputs (a directory stands for its fragments in lexical order)
dk_expect_status 3 "$cfg" merge -v --tree "$DK_TREE" -O "$T/ours" "$DK_DEBIAN_CONFIG" "$T/frags.d" "$T/20-disagree.config" "$T/30-crlf.config"

if ! cmp -s "$T/theirs/.config" "$T/ours/.config"; then
	diff -u "$T/theirs/.config" "$T/ours/.config" | head -n 40 >&2
	dk_fail "final .config differs from merge_config.sh -m + olddefconfig"
fi
# the layers really changed something (the comparison is not between two Debian configs)
dk_grep '^CONFIG_DEFAULT_HOSTNAME="gentoo"$' "$T/ours/.config"
dk_grep '^CONFIG_LOCALVERSION="-b \\"quoted\\""$' "$T/ours/.config"
dk_grep '^CONFIG_PREEMPT=y$' "$T/ours/.config"
dk_grep '^CONFIG_HZ_300=y$' "$T/ours/.config"
# MAXSMP (Debian) hides NR_CPUS's prompt: the requested 128 is changed, and the reason says so
dk_grep '^CONFIG_NR_CPUS=8192$' "$T/ours/.config"
dk_grep "^warning: changed: CONFIG_NR_CPUS=128 requested by $T/20-disagree.config:6 became 8192: its prompt is hidden unless SMP && !MAXSMP \\(MAXSMP is y\\); allowed range is 8192 to 8192$" "$T/err"
dk_grep "^$T/30-crlf.config:1: '# CONFIG_KERNEL_XZ is not set' with a CR line end after 'is not set': read as n, as Kconfig reads it; merge_config.sh's pattern misses the line" "$T/err"
dk_grep "^$T/30-crlf.config:3: '# CONFIG_CIFS is not set' with text after 'is not set'" "$T/err"
dk_grep '^CONFIG_SQUASHFS=m$' "$T/ours/.config"
dk_grep '^# CONFIG_CIFS is not set$' "$T/ours/.config"
dk_nogrep '^CONFIG_DEFAULT_HOSTNAME="gentoo"$' "$DK_DEBIAN_CONFIG"
dk_ok "identical to merge_config.sh -m + make olddefconfig ($(wc -l < "$T/ours/.config") lines)"
