#!/usr/bin/env bash
# The overlay's dependencies as emerge would meet them, with the real ebuilds and eclass
# (metadata only: nothing is built), through the harness's package database (pms_record) and
# its dependency model (tests/eclass/pmsdep.sh):
#  - two gentoo-kernel versions installed side by side with the single-slot virtual/dist-kernel
#    at the newer one: no unsatisfied dependency (no slot conflict); an external-module package
#    depending on virtual/dist-kernel:= is due for a rebuild when the new kernel lands, and
#    satisfied after it;
#  - the new-variant example of docs/eclass.md, at a version without a virtual of its own, next
#    to them: nothing unsatisfied;
#  - every dependency of every kernel ebuild on a package of the overlay is met by an ebuild of
#    the overlay with the default keyword (~amd64).
# shellcheck source=../lib.sh
source "$(dirname "$0")/../lib.sh"
# shellcheck source=harness.sh
source "$DK_SOURCE_ROOT/tests/eclass/harness.sh"
# shellcheck source=common.sh
source "$DK_SOURCE_ROOT/tests/eclass/common.sh"
dk_tmp

overlay=$DK_SOURCE_ROOT/ebuilds
repo=$T/repo
PMS_BASE=$T/tmp
PMS_ROOT=$T/root
mkdir -p "$PMS_ROOT"
# ::gentoo's packages (and the tools' own ebuild, checked for keywords below) are not recorded.
PMSDEP_ASSUME_INSTALLED="sys-kernel/distkernel sys-kernel/installkernel sys-kernel/dracut"

# add_version CAT/PN OLD NEW: the overlay's ebuild at another version (what a sync brings).
add_version() {
	mkdir -p "$repo/$1"
	cp "$overlay/$1/${1#*/}-$2.ebuild" "$repo/$1/${1#*/}-$3.ebuild"
}
# land CAT/PN-VERSION: records the package, then what its PDEPEND pulls: for each atom, the
# highest version in the repository that matches it (what emerge picks), recursively.
land() {
	local cp=${1%-*} ver=${1##*-} atom f best bestv v
	pms_init "$repo/$cp/${cp#*/}-$ver.ebuild" "${cp%/*}"
	pms_record >> "$T/record.log" 2>&1 || { cat "$T/record.log" >&2; dk_fail "recording $1 failed"; }
	for atom in $PMS_META_PDEPEND; do
		pmsdep_parse "$atom" || continue
		best='' bestv=''
		for f in "$repo/$_pmsdep_cp"/*.ebuild; do
			v=${f##*/} v=${v%.ebuild} v=${v#"${_pmsdep_cp#*/}"-}
			pmsdep_match "$atom" "$_pmsdep_cp" "$v" 0 || continue
			if [[ -z $best || $(pmsdep_vercmp "$v" "$bestv") == 1 ]]; then best=$_pmsdep_cp-$v bestv=$v; fi
		done
		[[ -n $best ]] || dk_fail "$1: nothing in the repository satisfies its PDEPEND $atom"
		land "$best"
	done
}
problems() { pms_world_problems > "$T/problems" || true; cat "$T/problems"; }

# --- the first kernel, an external module ------------------------------------------------------
add_version sys-kernel/gentoo-kernel 6.18.35 6.18.35
add_version virtual/dist-kernel 6.18.35 6.18.35
mkdir -p "$repo/sys-kernel/dkmod"
cp "$DK_ECLASS_FIXTURES/dkmod/dkmod.ebuild" "$repo/sys-kernel/dkmod/dkmod-1.ebuild"
land sys-kernel/gentoo-kernel-6.18.35
land sys-kernel/dkmod-1
[[ -z $(problems) ]] || dk_fail "one kernel and its external module: $(cat "$T/problems")"
dk_grep '^virtual/dist-kernel:0/6\.18\.35=$' "$PMS_ROOT/var/db/pkg/sys-kernel/dkmod-1/RDEPEND"
dk_ok "gentoo-kernel-6.18.35, virtual/dist-kernel-6.18.35 and dkmod (recorded :0/6.18.35=) installed"

# --- the upgrade: the new version lands, the old one stays ------------------------------------
add_version sys-kernel/gentoo-kernel 6.18.35 6.18.40
add_version virtual/dist-kernel 6.18.35 6.18.40
land sys-kernel/gentoo-kernel-6.18.40
[[ -d $PMS_ROOT/var/db/pkg/sys-kernel/gentoo-kernel-6.18.35 && -d $PMS_ROOT/var/db/pkg/sys-kernel/gentoo-kernel-6.18.40 ]] ||
	dk_fail "the two kernel versions are not installed side by side"
[[ -d $PMS_ROOT/var/db/pkg/virtual/dist-kernel-6.18.40 && ! -d $PMS_ROOT/var/db/pkg/virtual/dist-kernel-6.18.35 ]] ||
	dk_fail "virtual/dist-kernel was not upgraded in its slot"
problems > /dev/null
if grep '^UNSATISFIED' "$T/problems"; then
	dk_fail "two kernel versions side by side: a dependency nothing installed can satisfy (a slot conflict of the single-slot virtual)"
fi
dk_grep '^REBUILD sys-kernel/dkmod-1 virtual/dist-kernel:0/6\.18\.35=$' "$T/problems"
dk_ok "6.18.35 and 6.18.40 side by side, one virtual/dist-kernel-6.18.40: no conflict; dkmod due for a rebuild"
land sys-kernel/dkmod-1
[[ -z $(problems) ]] || dk_fail "after rebuilding dkmod: $(cat "$T/problems")"
dk_grep '^virtual/dist-kernel:0/6\.18\.40=$' "$PMS_ROOT/var/db/pkg/sys-kernel/dkmod-1/RDEPEND"
dk_ok "dkmod rebuilt against the new kernel (:0/6.18.40=)"

# --- the docs' new variant at a version without a virtual of its own ---------------------------
mkdir -p "$repo/sys-kernel/lowlatency-kernel"
awk '/^## Adding a variant/{on=1} on&&/^```bash$/{grab=1; next} grab&&/^```$/{exit} grab{print}' \
	"$DK_SOURCE_ROOT/docs/eclass.md" > "$repo/sys-kernel/lowlatency-kernel/lowlatency-kernel-6.18.38.ebuild"
dk_grep '^inherit dist-kernel$' "$repo/sys-kernel/lowlatency-kernel/lowlatency-kernel-6.18.38.ebuild"
land sys-kernel/lowlatency-kernel-6.18.38
[[ -z $(problems) ]] || dk_fail "the docs' variant at 6.18.38: $(cat "$T/problems")"
dk_ok "docs/eclass.md's new variant at 6.18.38 (no virtual/dist-kernel-6.18.38) installs beside them"

# --- default keywords --------------------------------------------------------------------------
# keywords FILE: the ebuild's KEYWORDS (a literal, as pkgcheck wants it).
keywords() { sed -n 's/^KEYWORDS="\(.*\)"$/\1/p' "$1"; }
checked=0
for ebuild in "$overlay"/sys-kernel/*-kernel/*.ebuild; do
	pms_init "$ebuild" sys-kernel
	pms_metadata || dk_fail "metadata of $ebuild"
	for atom in $PMS_META_BDEPEND $PMS_META_DEPEND $PMS_META_RDEPEND $PMS_META_IDEPEND $PMS_META_PDEPEND; do
		[[ $atom == */* && $atom != !* ]] || continue
		pmsdep_parse "$atom" || dk_fail "$ebuild: not an atom: $atom"
		[[ -d $overlay/$_pmsdep_cp ]] || continue # a ::gentoo package
		ok=
		for f in "$overlay/$_pmsdep_cp"/*.ebuild; do
			v=${f##*/} v=${v%.ebuild} v=${v#"${_pmsdep_cp#*/}"-}
			slot=$(sed -n 's/^SLOT="\([^"]*\)"$/\1/p' "$f")
			pmsdep_match "${atom%=}" "$_pmsdep_cp" "$v" "${slot/\$\{PVR\}/$v}" || continue
			[[ " $(keywords "$f") " == *" ~amd64 "* || " $(keywords "$f") " == *" amd64 "* ]] && ok=$f
		done
		[[ -n $ok ]] || dk_fail "${ebuild#"$overlay"/}: $atom: no ebuild in the overlay with ~amd64 satisfies it"
		checked=$((checked + 1))
	done
done
[[ $checked -ge 4 ]] || dk_fail "checked only $checked overlay dependencies"
dk_ok "every kernel's dependencies on the overlay ($checked) are met with ~amd64"
