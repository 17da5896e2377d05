# Copyright 2026 The distkernel authors
# Distributed under the terms of the GNU General Public License v2

# @ECLASS: dist-kernel-bin.eclass
# @MAINTAINER:
# The distkernel project
# @SUPPORTED_EAPIS: 8
# @BLURB: Install a distribution kernel built once elsewhere (a -bin package), without building.
# @DESCRIPTION:
# A -bin package ships what dist-kernel.eclass's src_install staged on a build host (with
# DIST_KERNEL_GENERIC_INITRAMFS=1): a tarball of the image, usr/src/linux-KV (the staged kernel,
# its manifest distkernel.json and the generic initramfs initramfs-generic.img) and
# lib/modules/KV. src_install moves it into ${ED} after checking it holds the release the ebuild
# promises; every pkg_* phase is dist-kernel.eclass's, so pkg_postinst installs the kernel with
# distkernel-install add, which uses the generic initramfs unless the machine asks for another
# (host-only, its own dracut settings, external modules: docs/eclass.md) and then says why and
# runs dracut.
#
# The tarball is made on the build host from the source package's image:
#   tar -C "${D}" -cJf ${PN}-${PV}.tar.xz usr/src/linux-KV lib/modules/KV
# The ebuild sets SRC_URI to it and DIST_KERNEL_LOCALVERSION as the source package had it.

case ${EAPI} in
	8) ;;
	*) die "${ECLASS}: EAPI ${EAPI:-0} not supported" ;;
esac

if [[ -z ${_DIST_KERNEL_BIN_ECLASS} ]]; then
_DIST_KERNEL_BIN_ECLASS=1

inherit dist-kernel

# @FUNCTION: dist-kernel-bin_src_configure
# @DESCRIPTION:
# Sets KV_FULL (kept in the saved environment for the pkg_* phases) to the promised release.
dist-kernel-bin_src_configure() {
	KV_FULL=$(_dist-kernel_release)
}

# @FUNCTION: dist-kernel-bin_src_compile
# @DESCRIPTION:
# Nothing: the kernel was built on the build host.
dist-kernel-bin_src_compile() { :; }

# @FUNCTION: dist-kernel-bin_src_test
# @DESCRIPTION:
# Nothing: the build host's src_test booted the kernel.
dist-kernel-bin_src_test() { :; }

# @FUNCTION: dist-kernel-bin_src_install
# @DESCRIPTION:
# Moves the unpacked image (usr/src/linux-${KV_FULL}, lib/modules/${KV_FULL}) into ${ED}; dies
# when the tarball does not hold the staged kernel ${KV_FULL}. Says when it has no generic
# initramfs (pkg_postinst then always runs dracut).
dist-kernel-bin_src_install() {
	local src=${WORKDIR}/usr/src/linux-${KV_FULL}
	[[ -f ${src}/distkernel.json && -d ${WORKDIR}/lib/modules/${KV_FULL} ]] ||
		die "${FUNCNAME[0]}: the tarball holds no staged kernel ${KV_FULL} (usr/src/linux-${KV_FULL}/distkernel.json and lib/modules/${KV_FULL})"
	[[ -f ${src}/initramfs-generic.img ]] ||
		ewarn "The tarball has no generic initramfs: pkg_postinst builds one with dracut"
	mkdir -p "${ED%/}/usr/src" "${ED%/}/lib/modules" || die
	mv "${src}" "${ED%/}/usr/src/" || die
	mv "${WORKDIR}/lib/modules/${KV_FULL}" "${ED%/}/lib/modules/" || die
	# Stripped (or not) and signed on the build host: Portage's strip would break signatures.
	dostrip -x "/lib/modules/${KV_FULL}" "/usr/src/linux-${KV_FULL}"
}

# @FUNCTION: dist-kernel-bin_pkg_setup
# @DESCRIPTION:
# Nothing: the build-time checks of dist-kernel_pkg_setup (signing keys, LLVM) were the build
# host's.
dist-kernel-bin_pkg_setup() { :; }

fi

EXPORT_FUNCTIONS pkg_setup src_configure src_compile src_test src_install
