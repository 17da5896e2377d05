# Copyright 2026 The distkernel authors
# Distributed under the terms of the GNU General Public License v2

EAPI=8

inherit git-r3 meson

DESCRIPTION="Tools of the distribution kernel: configure, stage, install, check, clean"
HOMEPAGE="https://github.com/distkernel/distkernel"
EGIT_REPO_URI="https://github.com/distkernel/distkernel.git"

LICENSE="GPL-2"
SLOT="0"
IUSE="test"
RESTRICT="!test? ( test )"

# libkmod at run time; Boost (Boost.Process is header-only, links Boost.Filesystem), fmt, CLI11
# and nlohmann/json at build time. The kernel's own make, dracut and installkernel are run by
# the tools on the target.
DEPEND="
	dev-cpp/cli11
	dev-cpp/nlohmann_json
	dev-libs/boost
	dev-libs/libfmt:=
	dev-libs/openssl:=
	sys-apps/kmod
	test? ( dev-cpp/catch )
"
RDEPEND="
	dev-libs/boost:=
	dev-libs/libfmt:=
	dev-libs/openssl:=
	sys-apps/kmod
	sys-kernel/dracut
	|| ( sys-kernel/installkernel sys-apps/systemd )
"
BDEPEND="virtual/pkgconfig"

src_configure() {
	local emesonargs=(
		"$(meson_use test tests)"
	)
	meson_src_configure
}
