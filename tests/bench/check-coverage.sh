#!/usr/bin/env bash
# Runs the check-coverage benchmark on 500 modaliases made from the Debian module tree's own
# modules.alias (real PCI and USB vendor/device ids, wildcards filled in as a device would
# report them), plus aliases no driver claims.
source "$DK_SOURCE_ROOT/tests/lib.sh"
dk_real_parts
dk_tmp
dir=$DK_DEBIAN_ROOT/lib/modules/$DK_DEBIAN_KV
python3 - "$dir/modules.alias" > "$T/aliases" <<'PY'
import random, re, sys
random.seed(5)
pci, usb = [], []
for line in open(sys.argv[1]):
    parts = line.split()
    if len(parts) != 3:
        continue
    a = parts[1]
    if a.startswith("pci:v0000") and "[" not in a:
        pci.append(a)
    elif a.startswith("usb:v") and "[" not in a:
        usb.append(a)
def fill(a):
    # Each wildcard field as a device reports it: zeros of the field's width.
    for field, width in (("sv", 8), ("sd", 8), ("bc", 2), ("sc", 2), ("v", 8), ("d", 8), ("i", 2)):
        a = a.replace(field + "*", field + "0" * width)
    for field, width in (("dsc", 2), ("dc", 2), ("dp", 2), ("isc", 2), ("ic", 2), ("ip", 2), ("in", 2), ("p", 4), ("d", 4)):
        a = a.replace(field + "*", field + "0" * width)
    return a.replace("*", "")
out = [fill(a) for a in random.sample(pci, 400)]
out += [fill(a) for a in random.sample(usb, 50)]
out += ["pci:v0000FFFEd%08Xsv00000000sd00000000bc00sc00i00" % i for i in range(50)]
print("\n".join(out))
PY
[[ $(wc -l < "$T/aliases") == 500 ]] || dk_fail "expected 500 modaliases"
"$DK_BUILD_ROOT/tests/integration/check/check-coverage" "$dir" "$T/aliases" 50 100
