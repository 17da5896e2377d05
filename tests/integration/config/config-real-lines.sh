#!/usr/bin/env bash
# The configure step on real inputs, on the real 6.1 tree with Debian's real config: a base with
# "# CONFIG_X is not set # comment" lines (as in Gentoo's Fedora-derived base), a distribution
# fragment that informs (symbols of other versions and architectures, a choice the user changes),
# a user's layer that is required (a typo asked to be n, values whose reasons the report must
# give), bytes that are not UTF-8, dot-files and a dangling symlink in a directory of layers.
source "$DK_SOURCE_ROOT/tests/lib.sh"
dk_real_parts
dk_tmp
cfg=$DK_TOOLS/distkernel-config

# the base: Debian's config with comments after "is not set", as Gentoo's real base has them
sed -e 's/^# CONFIG_DEBUG_VM is not set$/# CONFIG_DEBUG_VM is not set # revisit this if performance isn'"'"'t horrible/' \
	"$DK_DEBIAN_CONFIG" > "$T/base.config"
dk_grep "^# CONFIG_DEBUG_VM is not set # revisit" "$T/base.config"

# a distribution's own fragment, written for many versions and architectures
cat > "$T/distro.config" <<'F'
CONFIG_X86_X32=y
CONFIG_ARM64_VA_BITS_48=y
CONFIG_HZ_300=y
CONFIG_PROC_FS=y
F
mkdir -p "$T/config.d"
printf '%s\n' '# CONFIG_EXPERT is not set' '# CONFIG_SYSFS_SYSCALL is not set' 'CONFIG_HZ_1000=y' \
	'# CONFIG_HIBERNATON is not set' 'CONFIG_GCC_PLUGINS=y' 'CONFIG_EXT4_FS=y' '# CONFIG_JBD2 is not set' \
	'CONFIG_PGTABLE_LEVELS=4' > "$T/config.d/10-user.config"
# Latin-1 bytes in a value and in a file name
printf 'CONFIG_DEFAULT_HOSTNAME="caf\xe9"\n' > "$T/config.d/20-caf"$'\xe9'".config"
# a dot-file is not a layer (the shell's *.config glob skips it)
echo 'CONFIG_NO_SUCH_THING=y' > "$T/config.d/.hidden.config"

dk_expect_status 3 "$cfg" merge -v --tree "$DK_TREE" -O "$T/build" --report "$T/report.json" \
	"$T/base.config" --informational "$T/distro.config" "$T/config.d"
final=$T/build/.config
err=$T/err
u=$T/config.d/10-user.config

# 1: the base's commented line is read as n and -v says what was unusual
dk_grep "^# CONFIG_DEBUG_VM is not set$" "$final"
dk_grep "^$T/base.config:[0-9]+: '# CONFIG_DEBUG_VM is not set' with text after 'is not set': read as n, as Kconfig reads it$" "$err"
# 2: the distribution's unknown symbols inform, never fail; one is only for arm64
dk_grep "^unknown: CONFIG_X86_X32=y requested by $T/distro.config:1: no such symbol in this kernel \(informational layer\)$" "$err"
dk_grep "^unknown: CONFIG_ARM64_VA_BITS_48=y requested by $T/distro.config:2: no such symbol in this kernel \(only defined for arm64\) \(informational layer\)$" "$err"
# 3: the user's choice of another HZ replaces the distribution's, it does not drop it
dk_grep '^CONFIG_HZ_1000=y$' "$final"
dk_grep "^CONFIG_HZ_1000=y from $u:3 overrides CONFIG_HZ_300=y \($T/distro.config:3\)$" "$err"
dk_nogrep 'CONFIG_HZ_300=y requested' "$err"
# 4: a typo asked to be n is unknown, and it is the user's: it fails
dk_grep "^warning: unknown: # CONFIG_HIBERNATON is not set requested by $u:4: no such symbol in this kernel$" "$err"
# 5: the reasons
dk_grep "^warning: changed: # CONFIG_SYSFS_SYSCALL is not set requested by $u:2 became y: its prompt is hidden unless EXPERT \(EXPERT is n from $u:1\): its default decides \(default y\)$" "$err"
dk_grep "^warning: dropped: CONFIG_GCC_PLUGINS=y requested by $u:5 became n \(absent\): depends on \\\$\(success,test -e .*plugin-version.h\), a Kconfig macro \(a test of the build host\): it failed here$" "$err"
dk_grep "^warning: changed: # CONFIG_JBD2 is not set requested by $u:7 became y: .*selected by EXT4_FS \(EXT4_FS is y from $u:6\)" "$err"
dk_grep "^warning: changed: CONFIG_PGTABLE_LEVELS=4 requested by $u:8 became 5: it has no prompt: only its defaults set it \(default 5 if X86_5LEVEL\)$" "$err"
# 7: the dot-file was not read
dk_nogrep 'NO_SUCH_THING' "$err"
dk_grep '^verified [0-9]+ requested values: .*; 5 required value\(s\) did not survive$' "$err"

# 6: bytes that are not UTF-8 are carried through, escaped, into the JSON report
python3 - "$T/report.json" "$T" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); t = sys.argv[2]
f = {x["symbol"]: x for x in r["findings"]}
assert f["CONFIG_DEFAULT_HOSTNAME"]["requested"] == '"caf\\xe9"', f["CONFIG_DEFAULT_HOSTNAME"]
assert f["CONFIG_DEFAULT_HOSTNAME"]["status"] == "kept"
assert f["CONFIG_DEFAULT_HOSTNAME"]["origin"]["file"] == t + "/config.d/20-caf\\xe9.config"
assert [l["required"] for l in r["layers"]] == [False, True, True], r["layers"]
assert f["CONFIG_X86_X32"]["informational"] and f["CONFIG_X86_X32"]["status"] == "unknown"
assert f["CONFIG_HIBERNATON"]["status"] == "unknown" and not f["CONFIG_HIBERNATON"]["survived"]
assert "CONFIG_HZ_300" not in f
hz = [o for o in r["overrides"] if o["symbol"] == "CONFIG_HZ_300" and "symbol" in o["after"]]
assert hz and hz[0]["after"]["symbol"] == "CONFIG_HZ_1000", r["overrides"]
assert r["summary"]["failures"] == 5, r["summary"]
PY
dk_grep '^CONFIG_DEFAULT_HOSTNAME="caf'$'\xe9''"$' "$final"

# with only the distribution's fragment, the merge succeeds
dk_expect_status 0 "$cfg" merge --tree "$DK_TREE" -O "$T/build2" "$T/base.config" --informational "$T/distro.config"
dk_grep '^verified 4 requested values: .* 2 unknown; every required value survived$' "$T/err"

# 7: a dangling *.config symlink in a directory is an error naming it (before make runs)
mkdir -p "$T/links.d"
ln -s "$T/gone.config" "$T/links.d/30-gone.config"
dk_expect_status 1 "$cfg" merge --tree "$DK_TREE" -O "$T/build3" "$T/base.config" "$T/links.d"
dk_grep "$T/links.d/30-gone.config: dangling symlink \(to '$T/gone.config'\)" "$T/err"
[[ ! -e $T/build3/.config ]] || dk_fail "a .config was written despite the error"
dk_ok "real lines, informational layers, choices, reasons, bytes, directories"
