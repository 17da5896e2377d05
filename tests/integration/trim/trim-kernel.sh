#!/usr/bin/env bash
# The trim proof end to end (suite long; DISTKERNEL_LONG=1, else skipped): Debian's 6.1 config
# trimmed by the eclass to machine A's snapshot (collected in the guest, tests/fixtures/trim),
# named in the configured system's /etc/kernel/distkernel-trim with Debian's module tree for the
# aliases, as a machine running Debian's kernel has them; built through the eclass (the
# dktrim-kernel fixture by tests/test-kernel's phases, cached by its configuration: the first run
# builds for tens of minutes on 2 cores, later runs reuse it), merged into a temporary ROOT (the
# package records the snapshot it was trimmed for), booted on machine A from what pkg_postinst
# installed: the guest reaches the root's init, every device of the machine has its driver (the
# guest's list of devices without one is empty); distkernel-check on ROOT says machine A is
# covered and refuses machine B (its AHCI root has no driver), before any reboot.
# Records the build in $DK_CACHE/trim-kernel/record.json for tests/bench/trim.
source "$DK_SOURCE_ROOT/tests/lib.sh"
[[ ${DISTKERNEL_LONG:-} == 1 ]] || dk_skip "the trimmed kernel's build takes tens of minutes: set DISTKERNEL_LONG=1"
source "$DK_SOURCE_ROOT/tests/eclass/harness.sh"
source "$DK_SOURCE_ROOT/tests/eclass/common.sh"
dk_real_parts
source "$DK_SOURCE_ROOT/tests/integration/trim/common.sh"
dk_tmp
for t in distkernel-config distkernel-stage distkernel-install distkernel-check; do
	[[ -x $DK_TOOLS/$t ]] || dk_fail "$t is not built in $DK_TOOLS"
done
command -v qemu-system-x86_64 >/dev/null || dk_skip "QEMU missing"
started=$SECONDS
mods=$DK_DEBIAN_ROOT/lib/modules/$DK_DEBIAN_KV
record_dir=$DK_CACHE/trim-kernel
mkdir -p "$record_dir"

# --- the machine, for the eclass's trim ----------------------------------------------------------
sysroot=$T/sysroot
mkdir -p "$sysroot/etc/kernel" "$sysroot/lib/modules"
cp "$DK_TRIM_FIXTURES/machine-A.json" "$sysroot/etc/kernel/machine.json"
cp -al "$mods" "$sysroot/lib/modules/" 2>/dev/null || cp -a "$mods" "$sysroot/lib/modules/"
printf 'snapshot = /etc/kernel/machine.json\nmodules = /lib/modules/%s\n' "$DK_DEBIAN_KV" > "$sysroot/etc/kernel/distkernel-trim"
# The same trim by hand, for its figures (the eclass writes the layer only)
"$DK_TOOLS/distkernel-config" trim --machine "$DK_TRIM_FIXTURES/machine-A.json" --tree "$DK_TREE" \
	--base "$DK_DEBIAN_CONFIG" --modules "$mods" --json -o "$T/trim-A.config" > "$T/trim.json" 2> "$T/trim.log" ||
	{ cat "$T/trim.log" >&2; dk_fail "distkernel-config trim failed"; }
dk_ok "trimmed Debian's config to machine A: $(python3 -c 'import json,sys; c=json.load(open(sys.argv[1]))["counts"]; print(c["trimmed_modules"], "of", c["base_modules"], "modules,", c["trimmed_objects"], "of", c["base_objects"], "objects")' "$T/trim.json")"

# --- the build, through the eclass (cached by configuration) -------------------------------------
# ccache around the compiler Kconfig uses, when there is one: a new layer rebuilds only what it
# changes. Always at the same path: kbuild records the compiler's command line per object, and
# another CC would rebuild every object of the cached build.
cc=
if command -v ccache >/dev/null; then
	cc=$record_dir/bin/ccache-gcc
	mkdir -p "$record_dir/bin"
	cat > "$cc.tmp" <<-EOS
	#!/bin/sh
	# ccache around the compiler the eclass gives Kconfig, with its own cache for kernel objects
	export CCACHE_DIR=$record_dir/ccache CCACHE_MAXSIZE=3G CCACHE_NOHASHDIR=true CCACHE_BASEDIR=$DK_CACHE
	exec ccache x86_64-linux-gnu-gcc "\$@"
	EOS
	chmod 755 "$cc.tmp"
	if cmp -s "$cc.tmp" "$cc"; then rm -f "$cc.tmp"; else mv "$cc.tmp" "$cc"; fi
fi
trim_make_conf="DK_DEBIAN_CONFIG=$DK_DEBIAN_CONFIG${cc:+ CC=$cc}"
t0=$SECONDS
prebuilt=$(DK_KERNEL_FIXTURE=dktrim-kernel DK_KERNEL_USE="" DK_KERNEL_MAKE_CONF=$trim_make_conf DK_KERNEL_SYSROOT=$sysroot \
	"$DK_SOURCE_ROOT/tests/test-kernel" 2> "$T/build.log") || { tail -n 40 "$T/build.log" >&2; dk_fail "the trimmed kernel did not build"; }
cat "$T/build.log" >&2
# tests/test-kernel keeps the wall time of the build that made it
build_s=$(cat "$prebuilt/.distkernel-built")
echo "trimmed kernel: $prebuilt (built in ${build_s:-an unrecorded time} s; $((SECONDS - t0)) s in this run)" >&2

# --- the eclass's phases on that build, merged into ROOT ------------------------------------------
PMS_BASE=$T/pms
PMS_MAKE_CONF="DK_TREE=$DK_TREE $trim_make_conf DISTKERNEL_CACHE=$DK_CACHE"
PMS_ROOT=$T/root
PMS_SYSROOT=$sysroot
PMS_USE=""
mkdir -p "$PMS_ROOT"
ebuild=$(DK_KERNEL_FIXTURE=dktrim-kernel dk_test_ebuild "$T")
kv=$(dk_tree_version)-dktrim
pms_init "$ebuild" sys-kernel
work=$PMS_BUILDDIR/work
for phase in pkg_setup src_unpack src_prepare src_configure; do
	pms_phase "$phase" > "$T/$phase.log" 2>&1 || { tail -n 40 "$T/$phase.log" >&2; dk_fail "$phase died"; }
done
dk_grep 'Trimming the modules to one machine' "$T/src_configure.log"
cmp -s "$work/build/.config" "$prebuilt/.config" || dk_fail "src_configure made another .config than the cached build's"
[[ $(grep -c '=m$' "$prebuilt/.config") -lt 200 ]] || dk_fail "the built kernel's config is not trimmed ($prebuilt/.config)"
rm -rf "$work/build"
ln -s "$prebuilt" "$work/build"
for phase in src_compile src_install; do
	pms_phase "$phase" > "$T/$phase.log" 2>&1 || { tail -n 40 "$T/$phase.log" >&2; dk_fail "$phase died"; }
done
pms_merge > "$T/merge.log" 2>&1 || { tail -n 40 "$T/merge.log" >&2; dk_fail "merge into $PMS_ROOT failed"; }
[[ -f $PMS_ROOT/boot/vmlinuz-$kv ]] || { ls -l "$PMS_ROOT/boot" >&2; dk_fail "pkg_postinst installed no /boot/vmlinuz-$kv"; }
initrd=
for f in "$PMS_ROOT/boot/initramfs-$kv.img" "$PMS_ROOT/boot/initrd.img-$kv"; do
	[[ -f $f ]] && initrd=$f
done
[[ -n $initrd ]] || { ls -l "$PMS_ROOT/boot" >&2; dk_fail "pkg_postinst made no initramfs"; }
cmp -s "$PMS_ROOT/usr/src/linux-$kv/distkernel-trim-machine.json" "$DK_TRIM_FIXTURES/machine-A.json" ||
	dk_fail "the package does not record the snapshot it was trimmed for (/usr/src/linux-$kv/distkernel-trim-machine.json)"
tree=$PMS_ROOT/lib/modules/$kv
count=$(find "$tree" -name '*.ko*' | wc -l)
bytes=$(find "$tree" -name '*.ko*' -printf '%s\n' | awk '{s+=$1} END{print s+0}')
dk_ok "merged $kv into $PMS_ROOT: $count modules, $((bytes / 1024)) KiB"

# --- boot on machine A ----------------------------------------------------------------------------
t0=$SECONDS
"$DK_TRIM_DIR/collect" A "$PMS_ROOT/boot/vmlinuz-$kv" "$initrd" "$tree" "$T/A" ||
	dk_fail "the trimmed kernel did not boot machine A to its root's init"
boot_s=$((SECONDS - t0))
if [[ -s $T/A/driverless.txt ]]; then
	cat "$T/A/driverless.txt" >&2
	dk_fail "machine A under the trimmed kernel has devices without a driver"
fi
dk_trim_snapshot_has "$T/A/snapshot.json" 'd["release"] == "'"$kv"'"' "the guest did not run $kv"
dk_ok "machine A booted $kv (${boot_s} s): every device has its driver"

# --- the check before a reboot --------------------------------------------------------------------
check=("$DK_TOOLS/distkernel-check" "$kv" --root "$PMS_ROOT")
dk_expect_status 0 "${check[@]}" --machine "$DK_TRIM_FIXTURES/machine-A.json"
dk_ok "distkernel-check: $kv covers machine A"
dk_expect_status 0 "${check[@]}" --machine "$T/A/snapshot.json"
dk_ok "distkernel-check: $kv covers machine A as it ran under $kv"
st=0
"${check[@]}" --machine "$DK_TRIM_FIXTURES/machine-B.json" > "$T/out" 2> "$T/err" || st=$?
[[ $st != 0 ]] || { cat "$T/err" >&2; dk_fail "distkernel-check accepted machine B"; }
dk_grep 'driver ahci' "$T/err"
dk_ok "distkernel-check refuses machine B (exit $st): $(grep -m1 'ahci' "$T/err")"

# The layer's settings identify the configuration (tests/bench/trim compares them with its own trim).
layer_sha=$(grep -E '^(# )?CONFIG_' "$T/trim-A.config" | sha256sum | cut -d' ' -f1)
python3 - "$record_dir/record.json" "$T/trim.json" "$kv" "$prebuilt" "${build_s:-}" "$count" "$bytes" "$boot_s" "$layer_sha" "${cc:+ccache}" <<'PY'
import json, os, sys
path, trim, kv, build, build_s, count, size, boot_s, layer, cc = sys.argv[1:]
record = {"release": kv, "build_dir": build, "layer_sha256": layer, "build_seconds": int(build_s) if build_s else None,
          "ccache": cc == "ccache",
          "modules": int(count), "module_bytes": int(size), "boot_seconds": int(boot_s),
          "counts": json.load(open(trim))["counts"]}
json.dump(record, open(path + ".tmp", "w"), indent=1)
os.replace(path + ".tmp", path)
PY
echo "trim-kernel: $((SECONDS - started)) s" >&2
