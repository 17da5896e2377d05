# Copyright 2026 The distkernel authors
# Distributed under the terms of the GNU General Public License v2

EAPI=8

# sys-kernel/gentoo-kernel-${PV} built once on the project's build host, with
# DIST_KERNEL_GENERIC_INITRAMFS=1 and the default USE flags: its image (usr/src/linux-KV with the
# generic initramfs, lib/modules/KV) as ${P}-${ARCH}.tar.xz (docs/eclass.md, "The -bin
# variant"). The maintainer uploads it and sets KERNEL_BIN_URI to the directory it is
# served from; until then the tarball is fetch-restricted and pkg_nofetch says how to make it.
KERNEL_BIN_URI=""

inherit dist-kernel-bin

DESCRIPTION="Prebuilt Linux kernel with Gentoo patches (genpatches), installed with the distkernel tools"
HOMEPAGE="https://wiki.gentoo.org/wiki/Project:Distribution_Kernel https://www.kernel.org/"
if [[ -n ${KERNEL_BIN_URI} ]]; then
	SRC_URI="amd64? ( ${KERNEL_BIN_URI}/${P}-amd64.tar.xz )"
else
	SRC_URI="amd64? ( ${P}-amd64.tar.xz )"
fi
S=${WORKDIR}

LICENSE="GPL-2"
SLOT="${PV}"
KEYWORDS="-* ~amd64"
[[ -z ${KERNEL_BIN_URI} ]] && RESTRICT="fetch"
# Any kernel of this version or newer provides virtual/dist-kernel (as gentoo-kernel).
PDEPEND=">=virtual/dist-kernel-${PV}"

# The release sys-kernel/gentoo-kernel-${PV} builds: 6.18.35-gentoo-dist.
DIST_KERNEL_LOCALVERSION=-gentoo-dist

pkg_nofetch() {
	einfo "${P}-${ARCH}.tar.xz is not hosted yet. Build sys-kernel/gentoo-kernel-${PV} with"
	einfo "DIST_KERNEL_GENERIC_INITRAMFS=1 (ebuild ... install) and pack its image:"
	einfo "  tar -C \${D} -cJf ${P}-${ARCH}.tar.xz usr/src/linux-${PV}-gentoo-dist lib/modules/${PV}-gentoo-dist"
	einfo "then copy it into ${DISTDIR}."
}
