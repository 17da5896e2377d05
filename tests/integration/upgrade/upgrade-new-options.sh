#!/usr/bin/env bash
# new-options against the kernel's own `make listnewconfig` on the real 6.1 tree: an "old" config
# is Debian's with every 97th symbol left out (90 symbols: as if they were new in this version);
# the symbol sets must agree, except symbols whose prompt depends on a compiler test ($(...)),
# which distkernel does not run; the values are those of the final config.
source "$DK_SOURCE_ROOT/tests/lib.sh"
dk_real_parts
dk_tmp
cfg=$DK_TOOLS/distkernel-config

awk '/^(# )?CONFIG_/ { n++; if (n % 97 == 0) next } { print }' "$DK_DEBIAN_CONFIG" > "$T/old.config"
mkdir -p "$T/list"
cp "$T/old.config" "$T/list/.config"
echo "running make listnewconfig in $T/list" >&2
make -s -C "$DK_TREE" O="$T/list" listnewconfig > "$T/listnewconfig" 2> "$T/make.err" || { cat "$T/make.err" >&2; dk_fail "make listnewconfig"; }
echo "running olddefconfig on the old config for the new values" >&2
dk_expect_status 0 "$cfg" merge --tree "$DK_TREE" -O "$T/final" "$T/old.config"

dk_expect_status 0 "$cfg" --json new-options --tree "$DK_TREE" --old-config "$T/old.config" --new-config "$T/final/.config"
cp "$T/out" "$T/new.json"
python3 - "$T/new.json" "$T/listnewconfig" "$DK_TREE" <<'PY' || dk_fail "new-options differs from make listnewconfig"
import json, os, re, sys
doc = json.load(open(sys.argv[1]))
assert doc["schema"] == "distkernel.new-options", doc["schema"]
ours = {o["symbol"]: (o, m["menu"]) for m in doc["menus"] for o in m["options"]}
assert doc["count"] == len(ours)
make = dict(l.strip().split("=", 1) for l in open(sys.argv[2]) if l.startswith("CONFIG_"))
assert len(make) > 50, len(make)
missing = sorted(set(make) - set(ours))
assert not missing, f"listed by make only: {missing}"
# A symbol only we list must have a compiler test in its Kconfig block.
tree = sys.argv[3]
blocks = {}
for d, _, files in os.walk(tree):
	for f in files:
		if f.startswith("Kconfig"):
			name = None
			for line in open(os.path.join(d, f), errors="replace"):
				m = re.match(r"^\s*(?:menu)?config\s+(\w+)", line)
				if m:
					name = m.group(1)
				elif re.match(r"^\s*(endmenu|endif|endchoice|choice|menu|if|source|comment)\b", line):
					name = None
				elif name:
					blocks["CONFIG_" + name] = blocks.get("CONFIG_" + name, "") + line
extra = sorted(set(ours) - set(make))
unexplained = [s for s in extra if "$(" not in blocks.get(s, "")]
assert not unexplained, f"listed by distkernel only: {unexplained}"
assert len(extra) <= 5, extra
for s, v in make.items():
	o = ours[s][0]
	got = o["value"] if o["value"] is not None else "n"
	assert got == v, (s, got, v)
	assert o["prompt"] and o["defined_at"], o
assert any(o["help"] for o, _ in ours.values())
assert all(menu for _, menu in ours.values())
print(f"make listnewconfig: {len(make)}, distkernel: {len(ours)} ({len(extra)} behind compiler tests: {extra})")
PY
dk_ok "new-options agrees with make listnewconfig"

# Human output: grouped by menu, value and prompt.
dk_expect_status 0 "$cfg" new-options --tree "$DK_TREE" --old-config "$T/old.config" --new-config "$T/final/.config"
dk_grep '^[^ ].*:$' "$T/err"
dk_grep '^  CONFIG_[A-Z0-9_]+=[^ ]+  .+' "$T/err"
dk_grep '^[0-9]+ new option\(s\) in ' "$T/err"
# Without the new config the old one decides what is visible (no make run).
dk_expect_status 0 "$cfg" --json new-options --tree "$DK_TREE" --old-config "$DK_DEBIAN_CONFIG"
# Debian publishes its config without the build salt and the signing key settings; the rest are
# the two compiler tests.
python3 - "$T/out" <<'PY' || dk_fail "Debian's own config for this tree: only what Debian strips is new"
import json, sys
d = json.load(open(sys.argv[1]))
got = {o["symbol"] for m in d["menus"] for o in m["options"]}
want = {"CONFIG_" + s for s in ["BUILD_SALT", "MODULE_SIG_ALL", "MODULE_SIG_KEY", "SYSTEM_TRUSTED_KEYS", "CFI_CLANG", "GCC_PLUGINS"]}
assert got == want, got ^ want
PY
dk_ok "new-options output"
