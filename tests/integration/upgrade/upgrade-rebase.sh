#!/usr/bin/env bash
# rebase and save on the real 6.1 tree. An "old" and a "new" base made from Debian's config the way
# a version bump changes it (36 symbols: 30 modules new, the HZ choice, a log size, USB serial
# dropped, XFS built in), a user config with a change of each kind: kept, already in the new
# base, dropped by a dependency the new base turned off, conflicting (the new base changed the same
# symbol differently), and one edit that olddefconfig undoes in the old base already (no change). Then save takes the user's delta from the rebased config, and merging it
# over the new base gives the same config back.
source "$DK_SOURCE_ROOT/tests/lib.sh"
dk_real_parts
dk_tmp
cfg=$DK_TOOLS/distkernel-config

# The modules the new version brings: set off in the old base.
grep -E '^CONFIG_HID_[A-Z0-9_]+=m$' "$DK_DEBIAN_CONFIG" | head -n 30 | sed -E 's/^CONFIG_([A-Z0-9_]+)=m$/\1/' > "$T/new-modules"
[[ $(wc -l < "$T/new-modules") == 30 ]] || dk_fail "expected 30 HID modules in the Debian config"
first=$(head -n 1 "$T/new-modules")
sed_new=()
while read -r s; do sed_new+=(-e "s/^CONFIG_${s}=m\$/# CONFIG_${s} is not set/"); done < "$T/new-modules"
sed "${sed_new[@]}" -e 's/^CONFIG_LOG_BUF_SHIFT=17$/CONFIG_LOG_BUF_SHIFT=18/' \
	-e 's/^CONFIG_HZ_250=y$/# CONFIG_HZ_250 is not set/' -e 's/^# CONFIG_HZ_1000 is not set$/CONFIG_HZ_1000=y/' \
	-e 's/^CONFIG_HZ=250$/CONFIG_HZ=1000/' "$DK_DEBIAN_CONFIG" > "$T/old-base.config"
sed -e 's/^CONFIG_USB_SERIAL=m$/# CONFIG_USB_SERIAL is not set/' -e 's/^CONFIG_XFS_FS=m$/CONFIG_XFS_FS=y/' \
	"$DK_DEBIAN_CONFIG" > "$T/new-base.config"
"$cfg" --json diff "$T/old-base.config" "$T/new-base.config" > "$T/bump.json" 2>/dev/null
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); n=len(d["added"])+len(d["removed"])+len(d["changed"]); assert n == 36, n' \
	"$T/bump.json" || dk_fail "the version bump should change 36 symbols"

# The user's config: the old base with the user's own edits.
sed -e 's/^CONFIG_DEFAULT_HOSTNAME=.*/CONFIG_DEFAULT_HOSTNAME="gentoo-box"/' -e 's/^CONFIG_EXT4_FS=m$/CONFIG_EXT4_FS=y/' \
	-e 's/^CONFIG_BTRFS_FS=m$/# CONFIG_BTRFS_FS is not set/' -e '/^CONFIG_NILFS2_FS=m$/d' \
	-e "s/^# CONFIG_${first} is not set\$/CONFIG_${first}=m/" \
	-e 's/^CONFIG_USB_SERIAL_FTDI_SIO=m$/CONFIG_USB_SERIAL_FTDI_SIO=y/' \
	-e 's/^# CONFIG_USB_SERIAL_SAFE_PADDED is not set$/CONFIG_USB_SERIAL_SAFE_PADDED=y/' \
	-e 's/^CONFIG_LOG_BUF_SHIFT=18$/CONFIG_LOG_BUF_SHIFT=19/' -e 's/^CONFIG_XFS_FS=m$/# CONFIG_XFS_FS is not set/' \
	"$T/old-base.config" > "$T/user.config"

echo "rebasing the user's config onto the new base (olddefconfig)" >&2
dk_expect_status 3 "$cfg" --json rebase --tree "$DK_TREE" -O "$T/build" -o "$T/new.config" --delta "$T/delta.config" \
	--report "$T/report.json" "$T/old-base.config" "$T/user.config" "$T/new-base.config"
cmp -s "$T/out" "$T/report.json" || dk_fail "--json and --report differ"
python3 - "$T/report.json" "$first" <<'PY' || dk_fail "rebase classification"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["schema"] == "distkernel.rebase-report", r["schema"]
got = {c["symbol"]: c for c in r["changes"]}
want = {
	"CONFIG_DEFAULT_HOSTNAME": "kept", "CONFIG_EXT4_FS": "kept", "CONFIG_BTRFS_FS": "kept",
	"CONFIG_NILFS2_FS": "kept", "CONFIG_" + sys.argv[2]: "kept",
	"CONFIG_USB_SERIAL_SAFE_PADDED": "dropped", "CONFIG_LOG_BUF_SHIFT": "conflict", "CONFIG_XFS_FS": "conflict",
}
assert {k: v["status"] for k, v in got.items()} == want, {k: v["status"] for k, v in got.items()}
# FTDI_SIO=y under USB_SERIAL=m is m through olddefconfig, as in the old base: no change of the user's
assert "CONFIG_USB_SERIAL_FTDI_SIO" not in got
assert "USB_SERIAL is n" in got["CONFIG_USB_SERIAL_SAFE_PADDED"]["reason"], got["CONFIG_USB_SERIAL_SAFE_PADDED"]
c = got["CONFIG_LOG_BUF_SHIFT"]
assert (c["old_base"], c["user"], c["new_base"], c["final"]) == ("18", "19", "17", "17"), c
c = got["CONFIG_XFS_FS"]
assert (c["old_base"], c["user"], c["new_base"], c["final"]) == ("m", "n", "y", "y"), c
assert got["CONFIG_NILFS2_FS"]["user"] == "n" and got["CONFIG_NILFS2_FS"]["final"] == "n"
assert "same value" in got["CONFIG_" + sys.argv[2]]["reason"]
assert r["summary"] == {"changes": 8, "kept": 5, "dropped": 1, "conflict": 2}, r["summary"]
assert not r["clean"]
PY
dk_grep '^warning: conflict: CONFIG_LOG_BUF_SHIFT=19 .*changed it from 18 to 17' "$T/err"
dk_grep '^warning: dropped: CONFIG_USB_SERIAL_SAFE_PADDED=y .*depends on .*USB_SERIAL is n' "$T/err"
dk_grep '5 kept, 1 dropped, 2 conflict' "$T/err"
new=$T/new.config
dk_grep '^CONFIG_DEFAULT_HOSTNAME="gentoo-box"$' "$new"
dk_grep '^CONFIG_EXT4_FS=y$' "$new"
dk_grep '^# CONFIG_BTRFS_FS is not set$' "$new"
dk_grep '^CONFIG_LOG_BUF_SHIFT=17$' "$new"   # conflict: the new base's value until the user decides
dk_grep '^CONFIG_XFS_FS=y$' "$new"
dk_grep '^CONFIG_HZ=250$' "$new"
while read -r s; do dk_grep "^CONFIG_${s}=m\$" "$new"; done < "$T/new-modules"
dk_nogrep '^CONFIG_USB_SERIAL_(FTDI_SIO|SAFE_PADDED)=' "$new"
dk_grep '^# distkernel savedconfig$' "$T/delta.config"
dk_grep '^# kernel: 6\.1\.' "$T/delta.config"
dk_grep '^CONFIG_EXT4_FS=y$' "$T/delta.config"
dk_nogrep 'LOG_BUF_SHIFT|XFS_FS|FTDI_SIO|SAFE_PADDED' "$T/delta.config"
dk_ok "rebase: kept, already there, dropped with the reason, conflicts listed with the new base's value"

echo "saving the user's delta from the rebased config (olddefconfig of the base alone)" >&2
dk_expect_status 0 "$cfg" save --tree "$DK_TREE" -O "$T/save" --config "$new" -o "$T/saved.config" "$T/new-base.config"
saved=$T/saved.config
dk_grep "^# base: $T/new-base.config sha256=$(sha256sum "$T/new-base.config" | cut -d' ' -f1)\$" "$saved"
dk_grep '^CONFIG_DEFAULT_HOSTNAME="gentoo-box"$' "$saved"
dk_grep '^CONFIG_EXT4_FS=y$' "$saved"
dk_grep '^# CONFIG_BTRFS_FS is not set$' "$saved"
dk_grep '^# CONFIG_NILFS2_FS is not set$' "$saved"
dk_nogrep "LOG_BUF_SHIFT|XFS_FS=|CONFIG_${first}=" "$saved"
echo "merging the saved delta over the new base (olddefconfig)" >&2
dk_expect_status 0 "$cfg" merge --tree "$DK_TREE" -O "$T/again" "$T/new-base.config" "$saved"
dk_expect_status 0 "$cfg" diff "$new" "$T/again/.config"
dk_grep '^0 added, 0 removed, 0 changed$' "$T/err"
dk_ok "save: the delta over the base gives the same config back"

# A user who changed nothing (the old base through olddefconfig, saved whole) gets exactly the new
# base's config: what olddefconfig derived (menus off in the old base, compiler facts) is no change.
echo "rebasing an untouched full config (olddefconfig x4)" >&2
dk_expect_status 0 "$cfg" merge --tree "$DK_TREE" -O "$T/untouched" "$T/old-base.config"
cp "$T/untouched/.config" "$T/untouched.config"
dk_expect_status 0 "$cfg" rebase --tree "$DK_TREE" -O "$T/rebase0" -o "$T/new0.config" --report "$T/report0.json" \
	"$T/old-base.config" "$T/untouched.config" "$T/new-base.config"
dk_grep 'rebased 0 change\(s\) of the user: 0 kept, 0 dropped, 0 conflict\(s\)' "$T/err"
dk_expect_status 0 "$cfg" merge --tree "$DK_TREE" -O "$T/newbase" "$T/new-base.config"
cmp "$T/new0.config" "$T/newbase/.config" || dk_fail "an untouched config rebased is not the new base's config"
dk_nogrep '"line": 0' "$T/report.json"
dk_nogrep '"line": 0' "$T/report0.json"
dk_ok "rebase of an untouched full config: the new base's config, exit 0"

# A bad input leaves nothing written.
printf 'CONFIG_FOO=maybe\n' > "$T/bad.config"
dk_expect_status 1 "$cfg" rebase --tree "$DK_TREE" -O "$T/bad" -o "$T/bad.out" "$T/old-base.config" "$T/bad.config" "$T/new-base.config"
dk_grep 'bad.config:1' "$T/err"
[[ ! -e $T/bad.out && ! -e $T/bad ]] || dk_fail "a bad input must leave nothing written"
dk_expect_status 2 "$cfg" rebase --tree "$DK_TREE" "$T/old-base.config" "$T/user.config" "$T/new-base.config"
dk_grep 'build directory of its own' "$T/err"
dk_ok "rebase errors"
