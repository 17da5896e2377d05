#!/usr/bin/env bash
# The live machine the tests run on, whatever it is: snapshot it and check Debian's kernel
# against it. Nothing it cannot read may fail the test; what it could not read is reported.
source "$DK_SOURCE_ROOT/tests/lib.sh"
dk_real_parts
dk_tmp
check=$DK_TOOLS/distkernel-check
dk_expect_status 0 "$check" snapshot
cp "$T/out" "$T/machine.json"
python3 - "$T/machine.json" <<'PY' || dk_fail "snapshot is not a distkernel.machine 1.x document"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["schema"] == "distkernel.machine" and d["version"].startswith("1."), d
print(f"live machine: {len(d['devices'])} devices with a modalias, {len(d['loaded_modules'])} loaded modules, "
      f"root {d['mounts'].get('root', {}).get('fstype', '?')}", file=sys.stderr)
for u in d["unreadable"]:
    print(f"could not read: {u}", file=sys.stderr)
PY
grep -q 'could not read' "$T/err" && cat "$T/err" >&2
# Checked live and from its own snapshot: the same verdict, and never an error exit.
st=0
"$check" "$DK_DEBIAN_KV" --modules "$DK_DEBIAN_ROOT/lib/modules/$DK_DEBIAN_KV" --json > "$T/live.json" 2> "$T/live.err" || st=$?
cat "$T/live.err" >&2
[[ $st == 0 || $st == 4 || $st == 5 ]] || dk_fail "live check exited $st"
st2=0
"$check" "$DK_DEBIAN_KV" --modules "$DK_DEBIAN_ROOT/lib/modules/$DK_DEBIAN_KV" --machine "$T/machine.json" --json > "$T/snap.json" 2>/dev/null || st2=$?
[[ $st == "$st2" ]] || dk_fail "live check exited $st, the same machine's snapshot $st2"
dk_ok "live machine checked (exit $st)"

# A root with nothing in it: every unreadable part is named, nothing fails.
mkdir -p "$T/empty"
dk_expect_status 0 "$check" snapshot --root "$T/empty"
dk_grep '"/proc/modules: ' "$T/out"
dk_grep '"/sys/devices: not there' "$T/out"
dk_grep 'warning: could not read /proc/self/mountinfo' "$T/err"
dk_ok "an empty root reports what it could not read"

# A root whose mount source and command line are bytes that are not UTF-8 (Linux paths are
# bytes): the snapshot is still a JSON document, those bytes written as U+FFFD.
mkdir -p "$T/bytes/proc/self"
printf '22 1 0:21 / / rw - tmpfs /de\366v rw\n' > "$T/bytes/proc/self/mountinfo"
printf 'root=\377\376\n' > "$T/bytes/proc/cmdline"
dk_expect_status 0 "$check" snapshot --root "$T/bytes"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["mounts"]["root"]["source"] == "/de\ufffdv", d' "$T/out" ||
	dk_fail "snapshot of a root with non-UTF-8 bytes is not the expected JSON"
dk_ok "bytes that are not UTF-8 print as U+FFFD"
