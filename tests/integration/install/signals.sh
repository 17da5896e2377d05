#!/usr/bin/env bash
# SIGTERM and SIGINT to distkernel-install add while dracut runs: the tool stops dracut and
# everything it started (its process group), rolls back, removes its temporary files and exits 1
# naming the signal; the root keeps exactly what it had. dracut is a stub that sleeps (the one
# program meant to be interrupted); Debian's real image and config are staged with a tiny
# module tree (the stub never reads it).
source "$DK_SOURCE_ROOT/tests/lib.sh"
source "$DK_SOURCE_ROOT/tests/integration/install/common.sh"
dk_real_parts
dk_tmp
KV=$DK_DEBIAN_KV R=$T/root
install=$DK_TOOLS/distkernel-install

mkdir -p "$T/modules/$KV"
cp "$DK_DEBIAN_ROOT/lib/modules/$KV/modules.order" "$DK_DEBIAN_ROOT/lib/modules/$KV/modules.builtin" "$T/modules/$KV/"
"$DK_TOOLS/distkernel-stage" prebuilt --release "$KV" --image "$DK_DEBIAN_ROOT/boot/vmlinuz-$KV" \
	--modules "$T/modules/$KV" --config "$DK_DEBIAN_CONFIG" --dest "$R" -q >/dev/null || dk_fail "staging"
dk_expect_status 0 "$install" add "$KV" --root "$R" --layout installkernel --no-initramfs
base=$(dk_boot_snapshot "$R")
record=$(sha256sum "$R/var/lib/distkernel/kernels/$KV.json")

cat > "$T/slow-dracut" <<STUB
#!/bin/sh
# dracut that takes its time: itself and a child of its own, both to be stopped.
echo \$\$ > "$T/dracut.pid"
sleep 300 &
echo \$! > "$T/sleep.pid"
wait
STUB
chmod +x "$T/slow-dracut"

for sig in TERM INT; do
	rm -f "$T/dracut.pid" "$T/sleep.pid"
	mkdir -p "$T/tmp-$sig"
	# A background job of a script ignores SIGINT unless told otherwise: the default is restored.
	TMPDIR=$T/tmp-$sig env --default-signal=INT "$install" add "$KV" --root "$R" --layout installkernel \
		--dracut "$T/slow-dracut" >"$T/out" 2>"$T/err" &
	pid=$!
	for _ in $(seq 300); do [[ -s $T/sleep.pid ]] && break; sleep 0.1; done
	[[ -s $T/sleep.pid ]] || dk_fail "SIG$sig: the stub dracut never started"
	kill -"$sig" "$pid"
	rc=0
	wait "$pid" || rc=$?
	[[ $rc == 1 ]] || { cat "$T/err" >&2; dk_fail "SIG$sig: exit $rc, expected 1"; }
	dk_grep "interrupted by signal" "$T/err"
	for p in "$(cat "$T/dracut.pid")" "$(cat "$T/sleep.pid")"; do
		for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		if kill -0 "$p" 2>/dev/null; then
			kill -KILL "$p"
			dk_fail "SIG$sig: the stub dracut's process $p still runs"
		fi
	done
	left=$(find "$T/tmp-$sig" -mindepth 1)
	[[ -z $left ]] || dk_fail "SIG$sig: temporary files left: $left"
	[[ ! -e $R/boot/.distkernel-new-$KV && ! -e $R/var/lib/distkernel/journal.json ]] || dk_fail "SIG$sig: staging or journal left"
	dk_same_boot "$R" "$base" "SIG$sig during dracut"
	[[ $(sha256sum "$R/var/lib/distkernel/kernels/$KV.json") == "$record" ]] || dk_fail "SIG$sig: record changed"
	dk_ok "SIG$sig during dracut: dracut and its child stopped, nothing left behind, exit 1 naming the signal"
done
