#!/usr/bin/env bash
# The eclass, the overlay's ebuilds and the test harness: bash -n, shellcheck (with the
# top-level .shellcheckrc), the devmanual's eclass layout, and the overlay's structure.
# shellcheck source=../lib.sh
source "$(dirname "$0")/../lib.sh"
cd "$DK_SOURCE_ROOT" || exit 1

eclass=eclass/dist-kernel.eclass
mapfile -t ebuilds < <(find ebuilds tests/fixtures/eclass -name '*.ebuild' | sort)
[[ ${#ebuilds[@]} -ge 5 ]] || dk_fail "expected the overlay's ebuilds and the test ebuild, found: ${ebuilds[*]}"
scripts=( "$eclass" eclass/dist-kernel-bin.eclass tests/fixtures/eclass/eclass/*.eclass "${ebuilds[@]}" tests/eclass/*.sh )

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
for pkg in sys-kernel/vanilla-kernel sys-kernel/gentoo-kernel sys-kernel/gentoo-kernel-bin sys-kernel/distkernel virtual/dist-kernel; do
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

# --- what pkgcheck would flag, checked here (pkgcheck is not in Debian) ------------------------
# shellcheck source=harness.sh
source "$DK_SOURCE_ROOT/tests/eclass/harness.sh"
# shellcheck source=common.sh
source "$DK_SOURCE_ROOT/tests/eclass/common.sh"
dk_tmp
PMS_BASE=$T/tmp

# Variable order (pkgcheck's VariableOrderCheck, skel.ebuild's order): the first top-level
# assignment of each.
order=( DESCRIPTION HOMEPAGE SRC_URI S LICENSE SLOT KEYWORDS IUSE RESTRICT )
for f in "${ebuilds[@]}"; do
	prev='' prev_line=0
	for var in "${order[@]}"; do
		line=$(grep -n -m1 -E "^(	)?${var}\+?=" "$f" | cut -d: -f1) || true
		[[ -n $line ]] || continue
		(( line > prev_line )) || dk_fail "$f:$line: $var should come before $prev (skel.ebuild's order)"
		prev=$var prev_line=$line
	done
done
dk_ok "variable order: ${#ebuilds[@]} ebuilds"

# metadata.xml: every package of the overlay has one, well-formed, with a maintainer or the
# maintainer-needed comment, describing only flags the package has in IUSE.
for dir in ebuilds/*/*/; do
	pkg=${dir%/}
	pkg=${pkg#ebuilds/}
	[[ $pkg == metadata/* || $pkg == profiles/* || $pkg == eclass/* ]] && continue
	ls "$dir"*.ebuild >/dev/null 2>&1 || continue
	xml=$dir/metadata.xml
	[[ -f $xml ]] || dk_fail "$pkg has no metadata.xml"
	python3 -c 'import sys, xml.dom.minidom as m; m.parse(sys.argv[1])' "$xml" || dk_fail "$xml is not well-formed XML"
	grep -qE '<maintainer[ >]|<!-- maintainer-needed -->' "$xml" || dk_fail "$xml: no <maintainer> and no <!-- maintainer-needed --> comment"
	grep -q '<!DOCTYPE pkgmetadata SYSTEM "https://www.gentoo.org/dtd/metadata.dtd">' "$xml" || dk_fail "$xml: no metadata.dtd DOCTYPE"
	iuse=''
	for f in "$dir"*.ebuild; do
		if grep -qE '^inherit dist-kernel(-bin)?$' "$f"; then
			pms_init "$f" "${pkg%/*}"
			pms_metadata || dk_fail "sourcing $f failed"
			iuse+=" $PMS_META_IUSE"
		else
			iuse+=" $(sed -n 's/^IUSE="\(.*\)"$/\1/p' "$f")"
		fi
	done
	while read -r flag; do
		[[ " ${iuse//+/} " == *" $flag "* ]] || dk_fail "$xml describes USE=$flag, which no ebuild of $pkg has"
	done < <(sed -n 's/.*<flag name="\([^"]*\)".*/\1/p' "$xml")
done
dk_ok "metadata.xml of every package"

# @PRE_INHERIT truth: an eclass variable documented @PRE_INHERIT is set before "inherit" in every
# ebuild that inherits the eclass; the eclass reads no DIST_KERNEL_ variable at inherit time
# other than through a default assignment (: "${VAR=...}").
mapfile -t pre < <(awk '/^# @ECLASS_VARIABLE:/{v=$3} /^# @PRE_INHERIT/{print v}' "$eclass")
for f in "${ebuilds[@]}"; do
	grep -q '^inherit .*dist-kernel' "$f" || continue
	inherit_line=$(grep -n -m1 '^inherit ' "$f" | cut -d: -f1)
	for var in "${pre[@]}"; do
		line=$(grep -n -m1 -E "^${var}=" "$f" | cut -d: -f1) || true
		[[ -n $line && $line -lt $inherit_line ]] || dk_fail "$f: $var is @PRE_INHERIT but not set before inherit"
	done
done
# shellcheck disable=SC2016 # literal ${ in the patterns
global=$(awk '/^[A-Za-z_][A-Za-z0-9_-]*\(\) \{$/{f=1} f&&/^}$/{f=0; next} !f' "$eclass" |
	grep -v '^#' | grep -v '^: "\${DIST_KERNEL_' | grep -oP '(?<![_A-Za-z])DIST_KERNEL_[A-Z_]*' | sort -u) || true
for var in $global; do
	[[ " ${pre[*]} " == *" $var "* ]] || dk_fail "$eclass reads $var at inherit time but does not document it @PRE_INHERIT"
done
dk_ok "@PRE_INHERIT: ${#pre[@]} variable(s), set before inherit where documented"

# IUSE and REQUIRED_USE: every flag REQUIRED_USE or a USE-conditional dependency names is in
# IUSE or is a profile flag (ARCH).
arches=" amd64 x86 arm arm64 riscv ppc64 loong "
for f in ebuilds/*/*/*.ebuild; do
	grep -q '^inherit .*dist-kernel' "$f" || continue
	pms_init "$f" sys-kernel
	pms_metadata || dk_fail "sourcing $f failed"
	for word in $PMS_META_REQUIRED_USE $PMS_META_BDEPEND $PMS_META_DEPEND $PMS_META_RDEPEND $PMS_META_IDEPEND $PMS_META_PDEPEND $PMS_META_RESTRICT; do
		[[ $word == *\? ]] || continue
		flag=${word%\?} flag=${flag#!}
		[[ " ${PMS_META_IUSE//+/} " == *" $flag "* || $arches == *" $flag "* ]] ||
			dk_fail "$f: '$word' names USE=$flag, not in IUSE ($PMS_META_IUSE)"
	done
done
dk_ok "REQUIRED_USE and USE-conditional dependencies name only IUSE and ARCH flags"

# Fragments: every gentoo-kernel-config file a kernel ebuild names (and hardened-ARCH.config for
# each keyworded ARCH) is in the listing of that tag kept in tests/eclass/data.
for f in ebuilds/sys-kernel/*-kernel/*.ebuild; do
	ver=$(sed -n 's/^GENTOO_CONFIG_VER=//p' "$f")
	[[ -n $ver ]] || continue
	list=tests/eclass/data/gentoo-kernel-config-$ver.list
	[[ -f $list ]] || dk_fail "$f: gentoo-kernel-config $ver has no listing $list (make it from the tag: git ls-tree --name-only $ver)"
	names=$(grep -oE '\$\{GENTOO_CONFIGS\}/[^"]+' "$f" | sed 's/.*\///')
	# shellcheck disable=SC2016 # a literal ${GENTOO_CONFIGS}
	if grep -q '^DIST_KERNEL_HARDENED_ARCH_DIR=\${GENTOO_CONFIGS}$' "$f"; then
		read -r -a kws <<< "$(sed -n 's/^KEYWORDS="\(.*\)"$/\1/p' "$f")"
		for kw in "${kws[@]}"; do names+=$'\n'"hardened-${kw#\~}.config"; done
	fi
	for name in $names; do
		grep -qxF "$name" "$list" || dk_fail "$f names $name, which gentoo-kernel-config $ver does not have ($list)"
	done
done
dk_ok "every gentoo-kernel-config fragment the kernels name exists in its tag's listing"
