# Copyright 2026 The distkernel authors
# Distributed under the terms of the GNU General Public License v2

EAPI=8

inherit meson

# The release tarball is what `meson dist` makes from the release tag: ${P}.tar.xz (meson's
# name for project 'distkernel' version ${PV}). The maintainer uploads it and sets
# DISTKERNEL_DIST_URI to the directory it is served from (docs/eclass.md, "Releasing the
# tools"); until then the tarball is fetch-restricted and pkg_nofetch says how to make it.
DISTKERNEL_DIST_URI=""

DESCRIPTION="Tools of the distribution kernel: configure, stage, install, check, clean"
HOMEPAGE="https://wiki.gentoo.org/wiki/Project:Distribution_Kernel"
if [[ -n ${DISTKERNEL_DIST_URI} ]]; then
	SRC_URI="${DISTKERNEL_DIST_URI}/${P}.tar.xz"
else
	SRC_URI="${P}.tar.xz"
fi

LICENSE="GPL-2"
SLOT="0"
KEYWORDS="~amd64"
IUSE="test"
RESTRICT="!test? ( test )"
[[ -z ${DISTKERNEL_DIST_URI} ]] && RESTRICT+=" fetch"

# libkmod at run time; Boost (Boost.Process is header-only, links Boost.Filesystem), fmt, CLI11
# and nlohmann/json at build time. The kernel's own make, dracut and installkernel are run by
# the tools on the target.
DEPEND="
	dev-cpp/cli11
	dev-cpp/nlohmann_json
	dev-libs/boost
	dev-libs/libfmt:=
	sys-apps/kmod
	test? ( dev-cpp/catch )
"
RDEPEND="
	dev-libs/boost:=
	dev-libs/libfmt:=
	sys-apps/kmod
	sys-kernel/dracut
	|| ( sys-kernel/installkernel sys-apps/systemd )
"
BDEPEND="virtual/pkgconfig"

pkg_nofetch() {
	einfo "${P}.tar.xz is not hosted yet. Make it from the distkernel checkout at tag v${PV}:"
	einfo "  meson setup build && meson dist -C build --formats xztar --no-tests"
	einfo "and copy build/meson-dist/${P}.tar.xz into ${DISTDIR}."
}

src_configure() {
	local emesonargs=(
		"$(meson_use test tests)"
	)
	meson_src_configure
}
