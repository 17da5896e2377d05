#!/usr/bin/env bash
# The eclass, the overlay's ebuilds and the test harness: bash -n, shellcheck (with the
# top-level .shellcheckrc), the devmanual's eclass layout, and the overlay's structure.
# shellcheck source=../lib.sh
source "$(dirname "$0")/../lib.sh"
cd "$DK_SOURCE_ROOT" || exit 1

eclass=eclass/dist-kernel.eclass
mapfile -t ebuilds < <(find ebuilds tests/fixtures/eclass -name '*.ebuild' | sort)
[[ ${#ebuilds[@]} -ge 5 ]] || dk_fail "expected the overlay's ebuilds and the test ebuild, found: ${ebuilds[*]}"
scripts=( "$eclass" tests/fixtures/eclass/eclass/*.eclass "${ebuilds[@]}" tests/eclass/*.sh )

for f in "${scripts[@]}"; do
	bash -n "$f" || dk_fail "bash -n $f"
done
dk_ok "bash -n: ${#scripts[@]} files"

command -v shellcheck >/dev/null || dk_skip "shellcheck is not installed"
shellcheck -x "${scripts[@]}" || dk_fail "shellcheck"
dk_ok "shellcheck: ${#scripts[@]} files"

# The devmanual's eclass layout.
for tag in '@ECLASS: dist-kernel.eclass' '@MAINTAINER:' '@SUPPORTED_EAPIS: 8' '@BLURB: ' '@DESCRIPTION:'; do
	dk_grep "^# $tag" "$eclass"
done
dk_grep '^case \$\{EAPI\} in' "$eclass"
dk_grep '^if \[\[ -z \$\{_DIST_KERNEL_ECLASS\} \]\]; then' "$eclass"
[[ $(grep -v '^\s*$' "$eclass" | tail -n 1) == EXPORT_FUNCTIONS* ]] || dk_fail "EXPORT_FUNCTIONS is not last in $eclass"
# every function documented, every DIST_KERNEL_ variable assigned or read documented
while read -r fn; do
	grep -q "^# @FUNCTION: $fn\$" "$eclass" || dk_fail "function $fn has no @FUNCTION block"
done < <(sed -n 's/^\([A-Za-z_][A-Za-z0-9_-]*\)() {$/\1/p' "$eclass")
while read -r var; do
	grep -q "^# @ECLASS_VARIABLE: $var\$" "$eclass" || dk_fail "variable $var has no @ECLASS_VARIABLE block"
done < <(grep -oP '(?<![_A-Za-z])DIST_KERNEL_[A-Z_]*' "$eclass" | sort -u)
dk_ok "eclass layout and documentation"

# The overlay: a repository Portage accepts, every package with metadata.xml, EAPI 8 only.
[[ $(cat ebuilds/profiles/repo_name) == distkernel ]] || dk_fail "ebuilds/profiles/repo_name"
dk_grep '^masters = gentoo$' ebuilds/metadata/layout.conf
[[ -f ebuilds/eclass/dist-kernel.eclass ]] || dk_fail "the eclass is not reachable as ebuilds/eclass/dist-kernel.eclass"
for pkg in sys-kernel/vanilla-kernel sys-kernel/gentoo-kernel sys-kernel/distkernel virtual/dist-kernel; do
	dk_grep "^${pkg%/*}\$" ebuilds/profiles/categories
	[[ -f ebuilds/$pkg/metadata.xml ]] || dk_fail "$pkg has no metadata.xml"
	if command -v xmllint >/dev/null; then xmllint --noout "ebuilds/$pkg/metadata.xml" || dk_fail "$pkg/metadata.xml"; fi
done
for f in "${ebuilds[@]}"; do
	dk_grep '^EAPI=8$' "$f"
done
dk_grep '^SLOT="0/\$\{PVR\}"$' ebuilds/virtual/dist-kernel/dist-kernel-*.ebuild
for f in ebuilds/sys-kernel/{vanilla,gentoo}-kernel/*.ebuild; do
	dk_grep '^inherit dist-kernel$' "$f"
	dk_grep '^SLOT="\$\{PV\}"$' "$f"
done
dk_ok "overlay structure"
