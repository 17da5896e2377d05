#!/bin/bash
# A read has no side effects: every command that only reads or pretends (install list, inspect,
# remove --pretend, clean --pretend, check snapshot, config presets, each with and without --json)
# leaves the root exactly as it was: no directory, lock or state file made, no modification time
# changed.
source "$(dirname "$0")/../../lib.sh"
dk_tmp

R=$T/root
kv=6.1.0-99-test
mkdir -p "$R/boot" "$R/lib/modules/$kv/kernel" "$R/etc/kernel" "$R/proc/sys/kernel" "$R/usr/lib/kernel"
echo image > "$R/boot/vmlinuz-$kv"
echo 'CONFIG_MODULES=y' > "$R/boot/config-$kv"
echo map > "$R/boot/System.map-$kv"
printf 'layout=compat\ninitrd_generator=dracut\n' > "$R/etc/kernel/install.conf"
echo 6.1.0-1-running > "$R/proc/sys/kernel/osrelease"
echo 'docker' > "$R/etc/kernel/distkernel-presets"

state() { find "$R" -printf '%y %p %m %s %T@\n' | sort; }
before=$(state)

run() {
	local status=0
	"$@" > "$T/out" 2> "$T/err" || status=$?
	# a crash or an internal error is a failure whatever the root looks like afterwards
	if ((status > 128)) || grep -q 'internal error' "$T/err"; then
		cat "$T/err" >&2
		dk_fail "exit $status: $*"
	fi
	[[ $(state) == "$before" ]] || { diff <(echo "$before") <(state) >&2; dk_fail "changed the root: $*"; }
}
for json in "" --json; do
	run "$DK_TOOLS/distkernel-install" $json list --root "$R"
	run "$DK_TOOLS/distkernel-install" $json inspect --root "$R"
	run "$DK_TOOLS/distkernel-install" $json remove "$kv" --pretend --root "$R"
	run "$DK_TOOLS/distkernel-clean" $json --pretend --root "$R"
	run "$DK_TOOLS/distkernel-clean" $json --pretend --keep 0 --all --root "$R"
	run "$DK_TOOLS/distkernel-check" $json snapshot --root "$R"
	run "$DK_TOOLS/distkernel-config" $json presets --root "$R" --preset-dir "$DK_SOURCE_ROOT/data/presets"
done
dk_ok "reads and pretends left the root as it was"
