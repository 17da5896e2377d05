# Copyright 2026 The distkernel authors
# Distributed under the terms of the GNU General Public License v2

EAPI=8

inherit dist-kernel

MY_P=linux-${PV%.*}
# The base config: Gentoo's fork of Fedora's kernel configs, and Gentoo's dist-kernel fragments.
CONFIG_VER=6.18.12-gentoo
GENTOO_CONFIG_VER=g18
# genpatches: the "base" set (the stable patches and Gentoo's fixes) and "extras"
# (its revision for ${PV} was not checked against the genpatches release list here)
GENPATCHES_P=genpatches-${PV%.*}-39

DESCRIPTION="Linux kernel with Gentoo patches (genpatches), built with the distkernel tools"
HOMEPAGE="https://wiki.gentoo.org/wiki/Project:Distribution_Kernel https://www.kernel.org/"
SRC_URI="
	https://cdn.kernel.org/pub/linux/kernel/v${PV%%.*}.x/${MY_P}.tar.xz
	https://dev.gentoo.org/~mpagano/dist/genpatches/${GENPATCHES_P}.base.tar.xz
	https://dev.gentoo.org/~mpagano/dist/genpatches/${GENPATCHES_P}.extras.tar.xz
	https://gitweb.gentoo.org/fork/fedora/kernel.git/snapshot/kernel-${CONFIG_VER}.tar.bz2
		-> kernel-config-${CONFIG_VER}.tar.bz2
	https://github.com/projg2/gentoo-kernel-config/archive/${GENTOO_CONFIG_VER}.tar.gz
		-> gentoo-kernel-config-${GENTOO_CONFIG_VER}.tar.gz
"
S=${WORKDIR}/${MY_P}

LICENSE="GPL-2"
SLOT="${PV}"
KEYWORDS="~amd64"
REQUIRED_USE="!amd64? ( savedconfig )"
# Any kernel of this version or newer provides virtual/dist-kernel: with ~, two kernels of
# different versions would need two versions of the single-slot virtual (a slot conflict).
PDEPEND=">=virtual/dist-kernel-${PV}"

GENTOO_CONFIGS=${WORKDIR}/gentoo-kernel-config-${GENTOO_CONFIG_VER}
DIST_KERNEL_BASE_CONFIGS=( "${WORKDIR}/kernel-${CONFIG_VER}/kernel-x86_64-fedora.config" )
DIST_KERNEL_FRAGMENTS=( "${GENTOO_CONFIGS}/base.config" "${GENTOO_CONFIGS}/6.12+.config" )
DIST_KERNEL_NODEBUG_FRAGMENTS=( "${GENTOO_CONFIGS}/no-debug.config" )
DIST_KERNEL_HARDENED_FRAGMENTS=( "${GENTOO_CONFIGS}/hardened-base.config" )
DIST_KERNEL_HARDENED_GCC_FRAGMENTS=( "${GENTOO_CONFIGS}/hardened-gcc-plugins.config" )
DIST_KERNEL_HARDENED_ARCH_DIR=${GENTOO_CONFIGS}
DIST_KERNEL_SECUREBOOT_FRAGMENTS=( "${GENTOO_CONFIGS}/secureboot.config" "${GENTOO_CONFIGS}/zboot.config" )
DIST_KERNEL_LOCALVERSION=-gentoo-dist

src_unpack() {
	unpack "${MY_P}.tar.xz" kernel-config-${CONFIG_VER}.tar.bz2 \
		gentoo-kernel-config-${GENTOO_CONFIG_VER}.tar.gz
	mkdir "${WORKDIR}/genpatches" || die
	cd "${WORKDIR}/genpatches" || die
	unpack "${GENPATCHES_P}.base.tar.xz" "${GENPATCHES_P}.extras.tar.xz"
}

src_prepare() {
	# genpatches' numbering is its order; 0000-1999 (the stable patches) and 4567 (the Gentoo
	# distribution Kconfig menu) included, the experimental 5000+ set is not shipped here.
	local p patches=()
	for p in "${WORKDIR}"/genpatches/*.patch; do
		[[ ${p##*/} == 5[0-9][0-9][0-9]_* ]] && continue
		patches+=( "${p}" )
	done
	eapply "${patches[@]}"
	dist-kernel_src_prepare
}
