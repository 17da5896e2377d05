#!/usr/bin/env bash
# Bad input: errors name file:line and the offending text, exit 1, and nothing is written;
# usage errors exit 2; make's own failure is reported with its output.
source "$DK_SOURCE_ROOT/tests/lib.sh"
dk_real_parts
dk_tmp
cfg=$DK_TOOLS/distkernel-config

printf 'CONFIG_A=y\nCONFIG_LOCALVERSION="-open\n' > "$T/unclosed.config"
dk_expect_status 1 "$cfg" merge --tree "$DK_TREE" -O "$T/build" "$DK_DEBIAN_CONFIG" "$T/unclosed.config"
dk_grep "error: $T/unclosed.config:2: string without its closing quote: 'CONFIG_LOCALVERSION=\"-open'" "$T/err"
[[ ! -e $T/build/.config ]] || dk_fail "a .config was written despite the error"

printf '# ok\nCONFIG_B=m\nCONFIG_BAD-NAME=y\n' > "$T/badname.config"
dk_expect_status 1 "$cfg" merge --tree "$DK_TREE" -O "$T/build" "$DK_DEBIAN_CONFIG" "$T/badname.config"
dk_grep "$T/badname.config:3: 'CONFIG_BAD-NAME' is not a symbol name" "$T/err"

printf 'CONFIG_A=y\nEXT4=y\n' > "$T/junk.config"
dk_expect_status 1 "$cfg" merge --tree "$DK_TREE" -O "$T/build" "$DK_DEBIAN_CONFIG" "$T/junk.config"
dk_grep "$T/junk.config:2: not a config line .*: 'EXT4=y'" "$T/err"

printf 'CONFIG_A=yes\n' > "$T/value.config"
dk_expect_status 1 "$cfg" verify --config "$DK_DEBIAN_CONFIG" "$T/value.config"
dk_grep "$T/value.config:1: a value must be y, m, n" "$T/err"

# a bad base and a bad layer: the base, read first, is the one named
printf 'CONFIG_A=y\nnot a line\n' > "$T/badbase.config"
dk_expect_status 1 "$cfg" merge --tree "$DK_TREE" -O "$T/build" "$T/badbase.config" "$T/junk.config" "$T/missing.config"
dk_grep "error: $T/badbase.config:2: not a config line .*: 'not a line'" "$T/err"
dk_nogrep 'junk.config|missing.config' "$T/err"
dk_expect_status 1 "$cfg" merge --tree "$DK_TREE" -O "$T/build" "$T/no-such-base.config" "$T/junk.config"
dk_grep "$T/no-such-base.config" "$T/err"

dk_expect_status 1 "$cfg" merge --tree "$DK_TREE" -O "$T/build" "$DK_DEBIAN_CONFIG" "$T/missing.config"
dk_grep "$T/missing.config: no such fragment file or directory" "$T/err"
[[ ! -e $T/build/.config ]] || dk_fail "a .config was written despite the errors"
dk_ok "malformed input"

# a tree that is not a kernel tree: make's failure with its own words
mkdir -p "$T/notree"
dk_expect_status 1 "$cfg" merge --tree "$T/notree" -O "$T/build" "$DK_DEBIAN_CONFIG"
dk_grep 'make olddefconfig failed' "$T/err"

dk_expect_status 2 "$cfg" merge "$DK_DEBIAN_CONFIG"
dk_grep 'tree' "$T/err"
dk_expect_status 2 "$cfg"
for sub in merge verify diff; do
	dk_expect_status 0 "$cfg" "$sub" --help
	dk_grep 'Usage' "$T/out"
done
dk_ok "usage"

# diff: symbol level, human and JSON
printf 'CONFIG_A=y\nCONFIG_B=m\n# CONFIG_C is not set\n' > "$T/a.config"
printf 'CONFIG_A=y\nCONFIG_B=y\nCONFIG_D="x"\n' > "$T/b.config"
dk_expect_status 0 "$cfg" diff --json "$T/a.config" "$T/b.config"
dk_grep '^-# CONFIG_C is not set$' "$T/err"
dk_grep '^\+CONFIG_D="x"$' "$T/err"
dk_grep '^~CONFIG_B m -> y$' "$T/err"
python3 - "$T/out" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["schema"] == "distkernel.config-diff" and d["version"] == "1.0"
assert d["added"] == [{"symbol": "CONFIG_D", "a": None, "b": '"x"'}], d
assert d["removed"] == [{"symbol": "CONFIG_C", "a": "n", "b": None}], d
assert d["changed"] == [{"symbol": "CONFIG_B", "a": "m", "b": "y"}], d
PY
dk_ok "diff"
