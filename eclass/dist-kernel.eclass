# Copyright 2026 The distkernel authors
# Distributed under the terms of the GNU General Public License v2

# @ECLASS: dist-kernel.eclass
# @MAINTAINER:
# The distkernel project
# @SUPPORTED_EAPIS: 8
# @BLURB: Build, stage and install a distribution kernel with the distkernel tools.
# @DESCRIPTION:
# Maps the ebuild phases onto the distkernel tools (see docs/cli-contracts.md):
#
# - src_configure: distkernel-config merge (base config, the variant's fragments, USE=debug and
#   USE=hardened fragments, savedconfig, ${ESYSROOT}/etc/kernel/config.d), verified; dies with the
#   tool's report when a requested value did not survive. With ${ESYSROOT}/etc/kernel/distkernel-trim
#   (docs/trim.md), a layer from distkernel-config trim first turns off the modules that machine
#   does not need; the package then records that machine's snapshot.
# - src_compile: the kernel's own make.
# - src_test: boots the built kernel in QEMU (USE=test).
# - src_install: distkernel-stage into ${ED} (/usr/src/linux-KV, /lib/modules/KV); nothing in
#   /boot and nothing read from the build machine's /boot or /etc/kernel, so that a binary
#   package is setup-agnostic.
# - pkg_postinst, pkg_config: distkernel-install add for ${EROOT}, on the machine where the
#   package is merged; pkg_postinst first checks a trimmed kernel against that machine.
# - pkg_postrm: distkernel-install remove, then what Portage leaves behind: /lib/modules/KV is in
#   Portage's default UNINSTALL_IGNORE, so the eclass removes this kernel's own modules, indexes
#   and links there itself (keeping other packages' modules), and repoints /usr/src/linux.
#
# A variant sets DIST_KERNEL_BASE_CONFIGS and usually DIST_KERNEL_FRAGMENTS and
# DIST_KERNEL_LOCALVERSION, unpacks its sources into ${S} and applies its patches through PATCHES;
# the eclass does the rest. The eclass sets no PDEPEND: an ebuild that provides virtual/dist-kernel
# sets PDEPEND=">=virtual/dist-kernel-${PV}" itself (docs/eclass.md).

case ${EAPI} in
	8) ;;
	*) die "${ECLASS}: EAPI ${EAPI:-0} not supported" ;;
esac

if [[ -z ${_DIST_KERNEL_ECLASS} ]]; then
_DIST_KERNEL_ECLASS=1

inherit toolchain-funcs

# @ECLASS_VARIABLE: DIST_KERNEL_BASE_CONFIGS
# @REQUIRED
# @DESCRIPTION:
# Array of the base configuration files: the first is the base (a whole distribution config);
# the others are merged on it, in order, before the variant's fragments. Read from
# src_configure on (not at inherit time): set it anywhere in the ebuild's global scope.

# @ECLASS_VARIABLE: DIST_KERNEL_FRAGMENTS
# @DEFAULT_UNSET
# @DESCRIPTION:
# Array of the variant's configuration fragments, merged in order after the base.

# @ECLASS_VARIABLE: DIST_KERNEL_REQUIRED_FRAGMENTS
# @DEFAULT_UNSET
# @DESCRIPTION:
# Array of the variant's fragments (also listed in DIST_KERNEL_FRAGMENTS or the debug/hardened
# ones) whose values must survive: src_configure dies when one does not. The variant's other
# fragments only inform.

# @ECLASS_VARIABLE: DIST_KERNEL_DEBUG_FRAGMENTS
# @DEFAULT_UNSET
# @DESCRIPTION:
# Array of fragments merged with USE=debug.

# @ECLASS_VARIABLE: DIST_KERNEL_NODEBUG_FRAGMENTS
# @DEFAULT_UNSET
# @DESCRIPTION:
# Array of fragments merged with USE=-debug (for example one that turns debug information off).

# @ECLASS_VARIABLE: DIST_KERNEL_HARDENED_FRAGMENTS
# @DEFAULT_UNSET
# @DESCRIPTION:
# Array of fragments merged with USE=hardened. USE=hardened with none set is an error.

# @ECLASS_VARIABLE: DIST_KERNEL_HARDENED_GCC_FRAGMENTS
# @DEFAULT_UNSET
# @DESCRIPTION:
# Array of fragments merged with USE=hardened after DIST_KERNEL_HARDENED_FRAGMENTS, only when
# the compiler is GCC (gentoo-kernel-config's hardened-gcc-plugins.config: clang has no GCC
# plugins).

# @ECLASS_VARIABLE: DIST_KERNEL_SECUREBOOT_FRAGMENTS
# @DEFAULT_UNSET
# @DESCRIPTION:
# Array of fragments merged with USE=secureboot, after the hardening ones: gentoo-kernel-config's
# secureboot.config (signed kexec, lockdown, the UEFI and machine-owner keyrings) and zboot.config
# (CONFIG_EFI_ZBOOT: an EFI image that can be signed, on arm64, riscv and loongarch; x86's bzImage
# is one already).

# @ECLASS_VARIABLE: DIST_KERNEL_HARDENED_ARCH_DIR
# @DEFAULT_UNSET
# @DESCRIPTION:
# A directory with per-architecture hardening fragments named hardened-${ARCH}.config
# (gentoo-kernel-config has amd64, x86, arm and arm64): with USE=hardened, the one of this ARCH
# is merged last when it exists; an ARCH without one gets none.

# @ECLASS_VARIABLE: DIST_KERNEL_LOCALVERSION
# @DESCRIPTION:
# The local version appended to the kernel release (CONFIG_LOCALVERSION); USE=hardened adds
# -hardened after it.
: "${DIST_KERNEL_LOCALVERSION=-dist}"

# @ECLASS_VARIABLE: DIST_KERNEL_RELEASE
# @DESCRIPTION:
# The kernel release (make kernelrelease) this package promises; src_configure dies when the
# configured tree says otherwise. Defaults to ${PV} (6.18 as 6.18.0, _rcN as -rcN, _pN as -pN)
# followed by the local version.

# @ECLASS_VARIABLE: DIST_KERNEL_VARIANT
# @DESCRIPTION:
# The variant's name, recorded in the staged manifest (distkernel-install uses it to decide
# whether /usr/src/linux may be moved). Defaults to ${PN}.
: "${DIST_KERNEL_VARIANT:=${PN}}"

# @ECLASS_VARIABLE: DIST_KERNEL_IMAGE_PATH
# @DESCRIPTION:
# The kernel image's path relative to the build directory, when it is not the one the kernel's
# make names (make -s image_name: arch/x86/boot/bzImage on amd64, arch/arm64/boot/Image.gz on
# arm64, arch/arm64/boot/vmlinuz.efi with CONFIG_EFI_ZBOOT, ...).

# @ECLASS_VARIABLE: DIST_KERNEL_MODULE_COMPRESSION
# @DEFAULT_UNSET
# @DESCRIPTION:
# When set (zstd, xz, gzip or none), distkernel-stage compresses the staged modules with it.

# @ECLASS_VARIABLE: DIST_KERNEL_QEMU_BOOT
# @DEFAULT_UNSET
# @DESCRIPTION:
# The boot check src_test runs (KERNEL INITRD LOG; exit 0 booted, 77 QEMU missing). Unset: the
# one sys-kernel/distkernel installs, ${BROOT}/usr/libexec/distkernel/qemu-boot (the project's
# tests/qemu-boot, which its own tests use too).

# @ECLASS_VARIABLE: DIST_KERNEL_BUILD_DIR
# @OUTPUT_VARIABLE
# @DESCRIPTION:
# The kernel's out-of-tree build directory (make O=), ${WORKDIR}/build; set by the phases
# (WORKDIR is not defined in global scope).

# @ECLASS_VARIABLE: KV_FULL
# @OUTPUT_VARIABLE
# @DESCRIPTION:
# The kernel release of the configured tree, set by src_configure and kept in the saved
# environment so that the pkg_* phases of a binary package know it.

# @ECLASS_VARIABLE: MODULES_SIGN_KEY
# @USER_VARIABLE
# @DEFAULT_UNSET
# @DESCRIPTION:
# With USE=modules-sign: the private key (PEM; it may hold the certificate too) the kernel's
# modules are signed with, as Gentoo's kernel and linux-mod-r1 eclasses read it; a PKCS#11 URI
# (pkcs11:...) is passed on unchecked. Checked in pkg_setup. Unset: the kernel build generates a
# key, which pkg_postinst keeps on the build machine in /var/lib/distkernel/keys/KV/
# (signing_key.pem, mode 0600, directory 0700) and links from /usr/src/linux-KV/certs/, where
# linux-mod-r1 looks for it by default; it is never in the binary package.

# @ECLASS_VARIABLE: MODULES_SIGN_CERT
# @USER_VARIABLE
# @DEFAULT_UNSET
# @DESCRIPTION:
# With USE=modules-sign and MODULES_SIGN_KEY: the key's X.509 certificate (PEM or DER), when it
# is not in the key file.

# @ECLASS_VARIABLE: SECUREBOOT_SIGN_KEY
# @USER_VARIABLE
# @DEFAULT_UNSET
# @DESCRIPTION:
# With USE=secureboot (required then): the private key (PEM) the kernel image is signed with for
# UEFI Secure Boot (sbsign, at src_install, before the staged manifest is written). Checked with
# SECUREBOOT_SIGN_CERT in pkg_setup.

# @ECLASS_VARIABLE: SECUREBOOT_SIGN_CERT
# @USER_VARIABLE
# @DEFAULT_UNSET
# @DESCRIPTION:
# With USE=secureboot (required then): the certificate (PEM) of SECUREBOOT_SIGN_KEY.

# @ECLASS_VARIABLE: MODULES_SIGN_HASH
# @USER_VARIABLE
# @DEFAULT_UNSET
# @DESCRIPTION:
# With USE=modules-sign: sha1, sha224, sha256, sha384 or sha512 (CONFIG_MODULE_SIG_SHA*).
# Unset: the base configuration's choice.

# @ECLASS_VARIABLE: DIST_KERNEL_GENERIC_INITRAMFS
# @USER_VARIABLE
# @DEFAULT_UNSET
# @DESCRIPTION:
# Set to 1 (make.conf of a binary-package host): src_install also makes a generic initramfs with
# dracut (--no-hostonly, nothing read from the build machine's dracut configuration) from the
# staged modules, as ${ED}/usr/src/linux-KV/initramfs-generic.img. pkg_postinst installs it
# instead of running dracut when the target machine asks for nothing else (docs/eclass.md), and
# a -bin package (dist-kernel-bin.eclass) ships it.

if [[ -n ${_DIST_KERNEL_BIN_ECLASS} ]]; then
	# A -bin package installs what a build made: only the install-time choice is a flag.
	IUSE="+initramfs"
else
IUSE="debug hardened +initramfs modules-sign savedconfig secureboot test"
RESTRICT="!test? ( test )"

# The tools run at build time (configure, stage) from BROOT and on the target (install) from
# the installed system: BDEPEND plus IDEPEND, and RDEPEND so that they are still there for
# pkg_postrm and emerge --config. pahole makes the BTF of USE=debug (CONFIG_DEBUG_INFO_BTF).
# An LLVM=1 build (CC is clang) also needs llvm and lld: no USE flag says so in advance, so
# pkg_setup checks for them. src_test boots the kernel in the QEMU of the build's ARCH.
BDEPEND="
	sys-kernel/distkernel
	app-alternatives/bc
	app-alternatives/cpio
	app-alternatives/lex
	dev-lang/perl
	dev-libs/openssl
	sys-devel/bison
	virtual/libelf
	debug? ( dev-util/pahole )
	secureboot? ( app-crypt/sbsigntools )
	test? (
		amd64? ( app-emulation/qemu[qemu_softmmu_targets_x86_64] )
		x86? ( app-emulation/qemu[qemu_softmmu_targets_i386] )
		sys-apps/busybox[static]
		sys-fs/e2fsprogs
		sys-kernel/dracut
	)
"
# distkernel-install runs dracut itself and hands its image to installkernel (or kernel-install
# for BLS): dracut is the initramfs generator, installkernel needs no generator flag of its own.
fi
IDEPEND="
	sys-kernel/distkernel
	sys-kernel/installkernel
	initramfs? ( sys-kernel/dracut )
"
RDEPEND="${IDEPEND}"

# @FUNCTION: _dist-kernel_release
# @INTERNAL
# @DESCRIPTION:
# Prints the release promised by the ebuild.
_dist-kernel_release() {
	if [[ -n ${DIST_KERNEL_RELEASE} ]]; then
		echo "${DIST_KERNEL_RELEASE}"
		return
	fi
	local base=${PV%%_*} suffix=
	[[ ${PV} == *_* ]] && suffix=-${PV#*_}
	# 6.18 is released as 6.18.0
	[[ ${base} == *.*.* ]] || base+=.0
	echo "${base}${suffix}$(_dist-kernel_localversion)"
}

# @FUNCTION: _dist-kernel_localversion
# @INTERNAL
# @DESCRIPTION:
# Prints CONFIG_LOCALVERSION: DIST_KERNEL_LOCALVERSION, with -hardened for USE=hardened.
_dist-kernel_localversion() {
	# A -bin package has no USE=hardened: its release is the one it was built with.
	if in_iuse hardened; then
		echo "${DIST_KERNEL_LOCALVERSION}$(usev hardened -hardened)"
	else
		echo "${DIST_KERNEL_LOCALVERSION}"
	fi
}

# @FUNCTION: _dist-kernel_image_path
# @INTERNAL
# @DESCRIPTION:
# Prints the built kernel image's path in the build directory: the kernel's own make says which
# image it built (arm64 with CONFIG_EFI_ZBOOT, as USE=secureboot's zboot.config sets: vmlinuz.efi).
# After src_compile, and after _dist-kernel_toolchain_args.
_dist-kernel_image_path() {
	if [[ -n ${DIST_KERNEL_IMAGE_PATH} ]]; then
		echo "${DIST_KERNEL_IMAGE_PATH}"
		return
	fi
	distkernel-stage image-path --tree "${S}" -O "${DIST_KERNEL_BUILD_DIR}" "${_DIST_KERNEL_TOOL_ARGS[@]}" ||
		die "${FUNCNAME[0]}: the kernel's make did not name its image, set DIST_KERNEL_IMAGE_PATH"
}

# @FUNCTION: _dist-kernel_toolchain_args
# @INTERNAL
# @DESCRIPTION:
# Sets _DIST_KERNEL_TOOL_ARGS (the toolchain options of distkernel-config and distkernel-stage)
# and _DIST_KERNEL_MAKE_ARGS (the same for the kernel's make). The kernel's Makefile assigns CC
# itself, so only CC= on make's command line lets Portage's distcc or ccache wrapper (or a CC
# from make.conf) reach the compiler; configure runs with CROSS_COMPILE (or LLVM=1) alone.
# Both must name the same compiler: its identity is part of .config (CONFIG_CC_VERSION_TEXT),
# and kbuild would re-run Kconfig after the configuration was verified (src_configure checks).
_dist-kernel_toolchain_args() {
	DIST_KERNEL_BUILD_DIR=${WORKDIR}/build
	local karch
	karch=$(tc-arch-kernel)
	_DIST_KERNEL_TOOL_ARGS=( --arch "${karch}" --cross-compile "${CHOST}-" )
	_DIST_KERNEL_MAKE_ARGS=(
		-C "${S}"
		O="${DIST_KERNEL_BUILD_DIR}"
		ARCH="${karch}"
		CROSS_COMPILE="${CHOST}-"
		CC="$(tc-getCC)"
		HOSTCC="$(tc-getBUILD_CC)"
		HOSTCXX="$(tc-getBUILD_CXX)"
	)
	if tc-is-clang; then
		_DIST_KERNEL_TOOL_ARGS+=( --llvm )
		_DIST_KERNEL_MAKE_ARGS+=( LLVM=1 )
	fi
}

# @FUNCTION: _dist-kernel_find_savedconfig
# @INTERNAL
# @DESCRIPTION:
# Prints the saved config to use, looked up in savedconfig.eclass's order under
# ${PORTAGE_CONFIGROOT}/etc/portage/savedconfig/: ${CATEGORY}/${PF}, then ${P}, then ${PN}, each
# in ${CTARGET}/, then ${CHOST}/, then directly. When none is found, the saved config of the
# newest other version of ${PN} (${PN}-<version>[-r<N>], as src_install saves it), so that a
# version bump finds the previous kernel's saved config and rebases it. Returns 1 when there is
# none at all.
_dist-kernel_find_savedconfig() {
	local base=${PORTAGE_CONFIGROOT%/}/etc/portage/savedconfig
	local prefixes=( ${CTARGET:+"${CTARGET}/"} "${CHOST}/" "" )
	local prefix name
	for name in "${PF}" "${P}" "${PN}"; do
		for prefix in "${prefixes[@]}"; do
			if [[ -f ${base}/${prefix}${CATEGORY}/${name} ]]; then
				echo "${base}/${prefix}${CATEGORY}/${name}"
				return 0
			fi
		done
	done
	# Another version's: the highest version, by sort -V over the names (the version follows
	# ${PN}- and starts with a digit).
	local f names newest
	for prefix in "${prefixes[@]}"; do
		names=()
		for f in "${base}/${prefix}${CATEGORY}/${PN}"-[0-9]*; do
			[[ -f ${f} && ${f} != *.base && ${f##*/} =~ ^${PN}-[0-9][^-]*(-r[0-9]+)?$ ]] && names+=( "${f##*/}" )
		done
		[[ ${#names[@]} -gt 0 ]] || continue
		newest=$(printf '%s\n' "${names[@]}" | sort -V | tail -n 1)
		echo "${base}/${prefix}${CATEGORY}/${newest}"
		return 0
	done
	return 1
}

# @FUNCTION: _dist-kernel_savedconfig_layer
# @INTERNAL
# @USAGE: <saved config>
# @DESCRIPTION:
# Sets _DIST_KERNEL_SAVED_LAYER to the layer a saved config gives. A delta (written by
# distkernel-config save) or a config of this kernel version is applied as it is. A full config
# from another kernel version, with the base it was made from beside it (<saved>.base, which
# src_install writes), is rebased onto this version's base with distkernel-config rebase: the
# user's own changes carry over, those dropped by the new kernel or in conflict with the new base
# are listed (a conflict keeps the new base's value: the user decides, nothing is guessed).
_dist-kernel_savedconfig_layer() {
	local saved=$1 info key value format="" version="" tree_version status=0
	_DIST_KERNEL_SAVED_LAYER=${saved}
	# The tool reads the saved config's header (format=delta|config, kernel_version=).
	info=$(distkernel-config saved-info "${saved}") ||
		die "${FUNCNAME[0]}: distkernel-config saved-info ${saved} failed"
	while IFS='=' read -r key value; do
		case ${key} in
			format) format=${value} ;;
			kernel_version) version=${value} ;;
		esac
	done <<< "${info}"
	if [[ ${format} == delta ]]; then
		elog "Applying the saved delta ${saved}"
		return 0
	fi
	# Portage's ARCH (amd64) is not the kernel's: the kernel's make must not see it.
	if [[ -n ${version} ]]; then
		tree_version=$(emake -s -C "${S}" ARCH="$(tc-arch-kernel)" kernelversion) ||
			die "${FUNCNAME[0]}: make kernelversion failed"
	fi
	if [[ -z ${version} || ${version} == "${tree_version}" ]]; then
		elog "Applying the saved config ${saved}"
		return 0
	fi
	if [[ ! -f ${saved}.base ]]; then
		ewarn "The saved config ${saved} is from kernel ${version}, this is ${tree_version}, and the base"
		ewarn "it was made from (${saved}.base) is missing: applying it as it is, stale values included"
		return 0
	fi
	einfo "Rebasing the saved config ${saved} (kernel ${version}) onto ${tree_version} (distkernel-config rebase)"
	distkernel-config rebase --tree "${S}" -O "${T}/savedconfig-rebase" "${_DIST_KERNEL_TOOL_ARGS[@]}" \
		--delta "${T}/savedconfig-rebased.config" --report "${T}/savedconfig-rebase.json" \
		"${saved}.base" "${saved}" "${DIST_KERNEL_BASE_CONFIGS[0]}" || status=$?
	case ${status} in
		0) elog "Every change of the saved config carried over to ${tree_version}" ;;
		3)
			ewarn "Some changes of the saved config did not carry over to ${tree_version}: listed above,"
			ewarn "JSON in ${T}/savedconfig-rebase.json. A conflict keeps the new base's value; put yours in"
			ewarn "${ESYSROOT%/}/etc/kernel/config.d/ to override it."
			;;
		*) die "${FUNCNAME[0]}: distkernel-config rebase failed (exit ${status})" ;;
	esac
	_DIST_KERNEL_SAVED_LAYER=${T}/savedconfig-rebased.config
}

# @FUNCTION: _dist-kernel_new_options_summary
# @INTERNAL
# @DESCRIPTION:
# A short summary of the options this kernel brings that the configuration of the kernel in
# ${ESYSROOT}/usr/src/linux does not mention, with the values the new configuration gave them.
# Information only: a failure never stops the build.
_dist-kernel_new_options_summary() {
	local old=${ESYSROOT%/}/usr/src/linux/.config
	[[ -f ${old} ]] || return 0
	einfo "Options new since ${old} (distkernel-config new-options; first 25):"
	distkernel-config new-options --tree "${S}" "${_DIST_KERNEL_TOOL_ARGS[@]}" --old-config "${old}" \
		--new-config "${DIST_KERNEL_BUILD_DIR}/.config" --limit 25 ||
		ewarn "distkernel-config new-options failed; the build goes on"
}

# @FUNCTION: dist-kernel_pkg_pretend
# @DESCRIPTION:
# Warnings before anything is built: an initramfs without sys-kernel/linux-firmware (drivers that
# need firmware fail early at boot), USE=-initramfs (the root filesystem's drivers must then be
# built in), and a /boot that /etc/fstab names but that is not mounted (the kernel would land
# on the root filesystem, where the boot loader does not look).
dist-kernel_pkg_pretend() {
	if use initramfs && ! has_version sys-kernel/linux-firmware; then
		ewarn "sys-kernel/linux-firmware is not installed: the initramfs will hold no firmware, and"
		ewarn "hardware whose driver needs firmware at boot (many GPUs, network and storage"
		ewarn "controllers) may not work. Install sys-kernel/linux-firmware unless you know you need none."
	fi
	if ! use initramfs; then
		ewarn "USE=-initramfs: the kernel boots without an initramfs, so the drivers of your root"
		ewarn "filesystem and its disk must be built in (a distribution config builds them as modules),"
		ewarn "and an encrypted or LVM root cannot be opened. Keep USE=initramfs unless you know it boots."
	fi
	if [[ -z ${ROOT} && ${MERGE_TYPE} != buildonly ]] &&
		grep -qE '^[^#[:space:]]+[[:space:]]+/boot/?[[:space:]]' /etc/fstab 2>/dev/null &&
		! grep -qE '^[^[:space:]]+[[:space:]]+/boot[[:space:]]' /proc/mounts 2>/dev/null; then
		ewarn "/etc/fstab names /boot but it is not mounted: mount /boot before the kernel is"
		ewarn "merged, or the kernel is installed where the boot loader does not look."
	fi
}

# @FUNCTION: dist-kernel_pkg_setup
# @DESCRIPTION:
# For a build from source with clang (LLVM=1), checks that the LLVM tools and lld the kernel's
# make then runs are there: no USE flag announces a clang build, so BDEPEND cannot pull them.
dist-kernel_pkg_setup() {
	[[ ${MERGE_TYPE} == binary ]] && return 0
	_dist-kernel_check_modules_sign
	_dist-kernel_check_secureboot
	if tc-is-clang; then
		local tool missing=()
		for tool in ld.lld llvm-ar llvm-nm llvm-objcopy llvm-strip; do
			type -P "${tool}" >/dev/null || missing+=( "${tool}" )
		done
		[[ ${#missing[@]} -eq 0 ]] ||
			die "${FUNCNAME[0]}: CC is clang, so the kernel is built with LLVM=1, which needs ${missing[*]}: emerge llvm-core/llvm llvm-core/lld"
	fi
}

# @FUNCTION: _dist-kernel_check_modules_sign
# @INTERNAL
# @DESCRIPTION:
# With USE=modules-sign, dies before anything is built when MODULES_SIGN_KEY cannot be read, is
# not a private key, or does not match MODULES_SIGN_CERT (distkernel-stage signing-key check names
# the file), or when MODULES_SIGN_HASH is not a hash the kernel signs with.
_dist-kernel_check_modules_sign() {
	use modules-sign || return 0
	case ${MODULES_SIGN_HASH} in
		''|sha1|sha224|sha256|sha384|sha512) ;;
		*) die "${FUNCNAME[0]}: MODULES_SIGN_HASH='${MODULES_SIGN_HASH}' is not one of sha1, sha224, sha256, sha384, sha512" ;;
	esac
	[[ -n ${MODULES_SIGN_KEY} && ${MODULES_SIGN_KEY} != pkcs11:* ]] || return 0
	distkernel-stage signing-key check --key "${MODULES_SIGN_KEY}" ${MODULES_SIGN_CERT:+--cert "${MODULES_SIGN_CERT}"} ||
		die "${FUNCNAME[0]}: MODULES_SIGN_KEY/MODULES_SIGN_CERT cannot sign modules (the file is named above)"
}

# @FUNCTION: _dist-kernel_check_secureboot
# @INTERNAL
# @DESCRIPTION:
# With USE=secureboot, dies before anything is built unless SECUREBOOT_SIGN_KEY and
# SECUREBOOT_SIGN_CERT are set and belong together (distkernel-stage signing-key check).
_dist-kernel_check_secureboot() {
	use secureboot || return 0
	[[ -n ${SECUREBOOT_SIGN_KEY} && -n ${SECUREBOOT_SIGN_CERT} ]] ||
		die "${FUNCNAME[0]}: USE=secureboot needs SECUREBOOT_SIGN_KEY and SECUREBOOT_SIGN_CERT (make.conf)"
	distkernel-stage signing-key check --key "${SECUREBOOT_SIGN_KEY}" --cert "${SECUREBOOT_SIGN_CERT}" ||
		die "${FUNCNAME[0]}: SECUREBOOT_SIGN_KEY/SECUREBOOT_SIGN_CERT cannot sign the kernel (the file is named above)"
}

# @FUNCTION: _dist-kernel_modules_sign_layer
# @INTERNAL
# @DESCRIPTION:
# With USE=modules-sign, writes ${T}/modules-sign.config (module signing on, every module signed
# at modules_install, the hash and key asked for) and prints its path; prints nothing otherwise.
# A key and a certificate in two files are joined in ${T} (CONFIG_MODULE_SIG_KEY holds both).
_dist-kernel_modules_sign_layer() {
	use modules-sign || return 0
	local layer=${T}/modules-sign.config key=${MODULES_SIGN_KEY}
	{
		echo "CONFIG_MODULE_SIG=y"
		echo "CONFIG_MODULE_SIG_ALL=y"
		[[ -n ${MODULES_SIGN_HASH} ]] && echo "CONFIG_MODULE_SIG_${MODULES_SIGN_HASH^^}=y"
		if [[ -n ${key} ]]; then
			if [[ -n ${MODULES_SIGN_CERT} && ${key} != pkcs11:* ]]; then
				( umask 077 && cat "${key}" "${MODULES_SIGN_CERT}" > "${T}/modules-sign-key.pem" ) ||
					die "${FUNCNAME[0]}: cannot join ${key} and ${MODULES_SIGN_CERT}"
				key=${T}/modules-sign-key.pem
			fi
			echo "CONFIG_MODULE_SIG_KEY=\"${key}\""
		fi
	} > "${layer}" || die
	echo "${layer}"
}

# @FUNCTION: dist-kernel_src_prepare
# @DESCRIPTION:
# Applies PATCHES and the user's patches; nothing machine-specific.
dist-kernel_src_prepare() {
	default
}

# @FUNCTION: _dist-kernel_check_cc
# @INTERNAL
# @DESCRIPTION:
# Dies when CC (make's CC= in src_compile) is another compiler than the one Kconfig runs in
# src_configure (${CHOST}-gcc, or clang with LLVM=1): kbuild would then re-run Kconfig with the
# other compiler after the configuration was verified. Wrappers (ccache, distcc) print the
# wrapped compiler's version, so they pass.
_dist-kernel_check_cc() {
	local kconfig_cc=${CHOST}-gcc cc want got
	tc-is-clang && kconfig_cc=clang
	cc=$(tc-getCC)
	# shellcheck disable=SC2086 # CC may be a command with arguments ("ccache gcc")
	got=$(${cc} --version 2>/dev/null | head -n 1)
	want=$("${kconfig_cc}" --version 2>/dev/null | head -n 1)
	[[ ${got} == "${want}" ]] ||
		die "${FUNCNAME[0]}: CC='${cc}' says '${got}', the kernel's Kconfig uses ${kconfig_cc} ('${want}'); set CC to ${kconfig_cc} (or a ccache/distcc wrapper of it)"
}

# @FUNCTION: _dist-kernel_trim_layer
# @USAGE: <preset files, one per line>
# @INTERNAL
# @DESCRIPTION:
# With ${ESYSROOT}/etc/kernel/distkernel-trim (docs/trim.md: the machine's snapshot, the module
# tree whose aliases map its devices, keep/drop rules), writes ${T}/trim.config with
# distkernel-config trim (what the presets and the user's config.d set to y or m stays) and
# ${T}/trim-machine.json, the snapshot it was trimmed for. Returns 1 when there is no such file.
_dist-kernel_trim_layer() {
	[[ -f ${ESYSROOT%/}/etc/kernel/distkernel-trim ]] || return 1
	local config_d=() preset
	while read -r preset; do
		[[ -n ${preset} ]] && config_d+=( --layer "${preset}" )
	done <<< "${1}"
	[[ -d ${ESYSROOT%/}/etc/kernel/config.d ]] && config_d+=( --layer "${ESYSROOT%/}/etc/kernel/config.d" )
	einfo "Trimming the modules to one machine (${ESYSROOT%/}/etc/kernel/distkernel-trim)"
	distkernel-config trim --root "${ESYSROOT:-/}" --settings /etc/kernel/distkernel-trim \
		--tree "${S}" --arch "$(tc-arch-kernel)" --base "${DIST_KERNEL_BASE_CONFIGS[0]}" "${config_d[@]}" \
		--save-machine "${T}/trim-machine.json" -o "${T}/trim.config" ||
		die "${FUNCNAME[0]}: distkernel-config trim failed (${ESYSROOT%/}/etc/kernel/distkernel-trim)"
}

# @FUNCTION: dist-kernel_src_configure
# @DESCRIPTION:
# Merges the configuration layers with distkernel-config merge into ${DIST_KERNEL_BUILD_DIR},
# dies with the tool's report when a required value was dropped, then checks that the
# configured tree's kernel release is the one the ebuild promises and sets KV_FULL.
# Required are the user's layers: the presets the user chose, savedconfig,
# /etc/kernel/config.d. The base configs and the variant's own fragments (DIST_KERNEL_FRAGMENTS,
# the debug/nodebug and hardened ones) are written for many versions and architectures: their
# values that do not survive are reported, never fatal (distkernel-config merge --informational),
# except a fragment the ebuild also lists in DIST_KERNEL_REQUIRED_FRAGMENTS.
dist-kernel_src_configure() {
	[[ ${#DIST_KERNEL_BASE_CONFIGS[@]} -gt 0 ]] ||
		die "${FUNCNAME[0]}: DIST_KERNEL_BASE_CONFIGS is not set"
	_dist-kernel_toolchain_args
	_dist-kernel_check_cc

	local layers=( "${DIST_KERNEL_BASE_CONFIGS[@]:1}" "${DIST_KERNEL_FRAGMENTS[@]}" )
	if use debug; then
		layers+=( "${DIST_KERNEL_DEBUG_FRAGMENTS[@]}" )
	else
		layers+=( "${DIST_KERNEL_NODEBUG_FRAGMENTS[@]}" )
	fi
	if use hardened; then
		[[ ${#DIST_KERNEL_HARDENED_FRAGMENTS[@]} -gt 0 ]] ||
			die "${FUNCNAME[0]}: USE=hardened but ${PN} names no DIST_KERNEL_HARDENED_FRAGMENTS"
		layers+=( "${DIST_KERNEL_HARDENED_FRAGMENTS[@]}" )
		if tc-is-clang; then
			[[ ${#DIST_KERNEL_HARDENED_GCC_FRAGMENTS[@]} -gt 0 ]] &&
				einfo "clang: not merging the GCC-only ${DIST_KERNEL_HARDENED_GCC_FRAGMENTS[*]##*/}"
		else
			layers+=( "${DIST_KERNEL_HARDENED_GCC_FRAGMENTS[@]}" )
		fi
		local arch_fragment=${DIST_KERNEL_HARDENED_ARCH_DIR}/hardened-${ARCH}.config
		if [[ -n ${DIST_KERNEL_HARDENED_ARCH_DIR} && -f ${arch_fragment} ]]; then
			layers+=( "${arch_fragment}" )
		elif [[ -n ${DIST_KERNEL_HARDENED_ARCH_DIR} ]]; then
			einfo "No hardening fragment for ARCH=${ARCH} (${arch_fragment##*/})"
		fi
	fi
	use secureboot && layers+=( "${DIST_KERNEL_SECUREBOOT_FRAGMENTS[@]}" )
	# The distribution's layers inform; the ones the ebuild requires stay required.
	local info=() layer required
	for layer in "${layers[@]}"; do
		required=
		for required in "${DIST_KERNEL_REQUIRED_FRAGMENTS[@]}" ''; do
			[[ ${required} == "${layer}" ]] && break
		done
		if [[ -n ${required} ]]; then
			info+=( "${layer}" )
		else
			info+=( --informational "${layer}" )
		fi
	done
	layers=( "${info[@]}" )
	# USE=modules-sign: required (a kernel that cannot sign its modules must not build).
	local sign_layer
	sign_layer=$(_dist-kernel_modules_sign_layer) || die
	[[ -n ${sign_layer} ]] && layers+=( "${sign_layer}" )
	# Feature presets selected in /etc/kernel/distkernel-presets (docs/presets.md), before the
	# user's own layers so that those win.
	local presets
	presets=$(distkernel-config presets --root "${ESYSROOT:-/}") ||
		die "${FUNCNAME[0]}: distkernel-config presets failed (${ESYSROOT%/}/etc/kernel/distkernel-presets)"
	# A kernel trimmed to one machine: after the distribution's layers, before the user's
	# (what the presets and config.d set to y or m stays in the trim).
	_dist-kernel_trim_layer "${presets}" && layers+=( "${T}/trim.config" )
	if [[ -n ${presets} ]]; then
		elog "Applying the feature presets: ${presets//$'\n'/ }"
		mapfile -t -O "${#layers[@]}" layers <<< "${presets}"
	fi
	if use savedconfig; then
		local saved
		if saved=$(_dist-kernel_find_savedconfig); then
			_dist-kernel_savedconfig_layer "${saved}"
			layers+=( "${_DIST_KERNEL_SAVED_LAYER}" )
		else
			# As savedconfig.eclass: a first build with USE=savedconfig has none yet, and
			# src_install saves this one.
			ewarn "USE=savedconfig but no saved config in ${PORTAGE_CONFIGROOT%/}/etc/portage/savedconfig/${CATEGORY}/"
			ewarn "(${PF}, ${P}, ${PN} or another version of ${PN}): building without one;"
			ewarn "this build's config is saved as ${CATEGORY}/${PF}."
		fi
	fi
	# ESYSROOT, not EROOT: PMS defines ROOT and EROOT only in pkg_* phases; the system the
	# kernel is configured for is SYSROOT (/ for an ordinary emerge, like ROOT).
	local user=${ESYSROOT%/}/etc/kernel/config.d user_file
	for user_file in "${user}"/*.config; do
		[[ -f ${user_file} ]] || continue
		elog "Applying the user config ${user_file}"
		layers+=( "${user_file}" )
	done
	# Last, so that the release this package promises wins over a stale savedconfig or a
	# user fragment; the kernelrelease check below would catch it otherwise.
	printf 'CONFIG_LOCALVERSION="%s"\n# CONFIG_LOCALVERSION_AUTO is not set\n' \
		"$(_dist-kernel_localversion)" > "${T}/localversion.config" || die
	layers+=( "${T}/localversion.config" )

	mkdir -p "${DIST_KERNEL_BUILD_DIR}" || die
	einfo "Merging the kernel configuration (distkernel-config merge)"
	local status=0
	distkernel-config merge --tree "${S}" -O "${DIST_KERNEL_BUILD_DIR}" \
		"${_DIST_KERNEL_TOOL_ARGS[@]}" --report "${T}/config-report.json" \
		"${DIST_KERNEL_BASE_CONFIGS[0]}" "${layers[@]}" || status=$?
	case ${status} in
		0) ;;
		3) die "${FUNCNAME[0]}: a requested kernel configuration value did not make it into the final .config (the report above; JSON in ${T}/config-report.json)" ;;
		*) die "${FUNCNAME[0]}: distkernel-config merge failed (exit ${status})" ;;
	esac
	_dist-kernel_new_options_summary

	# kernelrelease reads include/config/auto.conf, which only syncconfig writes.
	emake -s "${_DIST_KERNEL_MAKE_ARGS[@]}" syncconfig
	KV_FULL=$(emake -s "${_DIST_KERNEL_MAKE_ARGS[@]}" kernelrelease)
	local want
	want=$(_dist-kernel_release)
	[[ ${KV_FULL} == "${want}" ]] ||
		die "${FUNCNAME[0]}: make kernelrelease says '${KV_FULL}', ${PF} promises '${want}'"
	einfo "Kernel release: ${KV_FULL}"
}

# @FUNCTION: dist-kernel_src_compile
# @DESCRIPTION:
# Builds the kernel and its modules with the kernel's own make (MAKEOPTS honoured by emake).
dist-kernel_src_compile() {
	_dist-kernel_toolchain_args
	emake "${_DIST_KERNEL_MAKE_ARGS[@]}" all
}

# @FUNCTION: dist-kernel_src_test
# @DESCRIPTION:
# Boots the built kernel in QEMU with a generic (not host-only) dracut initramfs made from its
# own modules, with the boot check installed by sys-kernel/distkernel (DIST_KERNEL_QEMU_BOOT):
# a tiny ext4 root whose init prints a marker and the kernel release, then reboots (QEMU exits).
# Skipped, with a warning, when QEMU, busybox or mkfs.ext4 is missing.
dist-kernel_src_test() {
	[[ ${ARCH} == amd64 || ${ARCH} == x86 ]] || {
		ewarn "src_test boots only amd64 and x86 kernels for now"
		return 0
	}
	_dist-kernel_toolchain_args
	local t=${T}/boot-test
	rm -rf "${t}" || die
	mkdir -p "${t}/confdir" || die
	emake "${_DIST_KERNEL_MAKE_ARGS[@]}" INSTALL_MOD_PATH="${t}/modules" modules_install

	_dist-kernel_generic_initramfs "${t}/modules/lib/modules/${KV_FULL}" "${t}/initrd"

	einfo "Booting ${KV_FULL} in QEMU (TCG)"
	local status=0
	DK_BOOT_TIMEOUT=600 "${DIST_KERNEL_QEMU_BOOT:-${BROOT}/usr/libexec/distkernel/qemu-boot}" \
		"${DIST_KERNEL_BUILD_DIR}/$(_dist-kernel_image_path)" "${t}/initrd" "${t}/serial.log" ||
		status=$?
	case ${status} in
		0) ;;
		77)
			ewarn "QEMU, busybox or mkfs.ext4 is missing: not booting the kernel"
			return 0
			;;
		*) die "the kernel did not boot in QEMU (serial log: ${t}/serial.log)" ;;
	esac
	grep -q "DISTKERNEL-BOOT-OK [0-9a-f]* ${KV_FULL}\b" "${t}/serial.log" ||
		die "QEMU booted another kernel release than ${KV_FULL} (serial log: ${t}/serial.log)"
	einfo "The kernel booted in QEMU"
}

# @FUNCTION: _dist-kernel_generic_initramfs
# @INTERNAL
# @USAGE: <module directory> <output>
# @DESCRIPTION:
# Makes a generic (not host-only) dracut initramfs of ${KV_FULL} from the modules in <module
# directory> (ending in lib/modules/KV). The build machine's dracut.conf and dracut.conf.d say
# nothing about the target: dracut gets an empty configuration instead.
_dist-kernel_generic_initramfs() {
	local moddir=${1} out=${2} conf
	conf=$(mktemp -d "${T}/dracut-conf.XXXXXX") || die
	mkdir "${conf}/confdir" || die
	: > "${conf}/dracut.conf" || die
	einfo "Making a generic initramfs with dracut"
	dracut --conf "${conf}/dracut.conf" --confdir "${conf}/confdir" --no-hostonly \
		--kver "${KV_FULL}" --kmoddir "${moddir}" \
		--omit "crypt dm dmraid lvm mdraid multipath nbd network network-manager nfs plymouth" \
		--no-early-microcode --force "${out}" || die "dracut failed"
	chmod 0644 "${out}" || die
}

# @FUNCTION: dist-kernel_src_install
# @DESCRIPTION:
# Stages the built kernel into ${ED} with distkernel-stage build, and with USE=savedconfig
# installs the final config as /etc/portage/savedconfig/${CATEGORY}/${PF} and the base config
# beside it as ${PF}.base (for distkernel-config rebase on a later version).
dist-kernel_src_install() {
	_dist-kernel_toolchain_args
	local args=(
		build --tree "${S}" -O "${DIST_KERNEL_BUILD_DIR}" --dest "${ED}"
		"${_DIST_KERNEL_TOOL_ARGS[@]}"
		--image-path "$(_dist-kernel_image_path)"
		--variant "${DIST_KERNEL_VARIANT}"
		--config-report "${T}/config-report.json"
	)
	use debug || args+=( --strip-modules )
	use secureboot &&
		args+=( --secureboot-key "${SECUREBOOT_SIGN_KEY}" --secureboot-cert "${SECUREBOOT_SIGN_CERT}" )
	[[ -n ${DIST_KERNEL_MODULE_COMPRESSION} ]] &&
		args+=( --compress-modules "${DIST_KERNEL_MODULE_COMPRESSION}" )
	einfo "Staging ${KV_FULL} into the image (distkernel-stage build)"
	local staged
	staged=$(distkernel-stage "${args[@]}") || die "${FUNCNAME[0]}: distkernel-stage build failed"
	[[ ${staged} == "${KV_FULL}" ]] ||
		die "${FUNCNAME[0]}: distkernel-stage staged '${staged}', src_configure found '${KV_FULL}'"
	# The modules are stripped (or kept for USE=debug) by distkernel-stage; Portage's strip
	# would break module signatures.
	dostrip -x "/lib/modules/${KV_FULL}" "/usr/src/linux-${KV_FULL}"
	[[ ${DIST_KERNEL_GENERIC_INITRAMFS} == 1 ]] &&
		_dist-kernel_generic_initramfs "${ED%/}/lib/modules/${KV_FULL}" \
			"${ED%/}/usr/src/linux-${KV_FULL}/initramfs-generic.img"
	_dist-kernel_save_config
	# A trimmed kernel records the machine it was trimmed for; distkernel-check reads it.
	if [[ -f ${T}/trim-machine.json ]]; then
		insinto "/usr/src/linux-${KV_FULL}"
		newins "${T}/trim-machine.json" distkernel-trim-machine.json
	fi
}

# @FUNCTION: _dist-kernel_save_config
# @INTERNAL
# @DESCRIPTION:
# With USE=savedconfig, installs the final config as /etc/portage/savedconfig/${CATEGORY}/${PF}
# and the base config beside it as ${PF}.base (a later version rebases the user's changes from
# it). Under CONFIG_PROTECT (/etc), so a saved config the user edited is not overwritten.
_dist-kernel_save_config() {
	use savedconfig || return 0
	insinto "/etc/portage/savedconfig/${CATEGORY}"
	newins "${DIST_KERNEL_BUILD_DIR}/.config" "${PF}"
	newins "${DIST_KERNEL_BASE_CONFIGS[0]}" "${PF}.base"
}

# @FUNCTION: dist-kernel_pkg_preinst
# @DESCRIPTION:
# Checks that the image holds the staged kernel this package promises.
dist-kernel_pkg_preinst() {
	[[ -n ${KV_FULL} ]] || die "${FUNCNAME[0]}: KV_FULL is not set (was src_configure run?)"
	[[ -f ${ED}/usr/src/linux-${KV_FULL}/distkernel.json ]] ||
		die "${FUNCNAME[0]}: the image has no staged kernel ${KV_FULL}"
	_dist-kernel_merged_usr_links
}

# @FUNCTION: _dist-kernel_merged_usr_links
# @INTERNAL
# @DESCRIPTION:
# On a merged-usr root (/lib a link to usr/lib), /lib/modules/KV is /usr/lib/modules/KV, one level
# deeper than the staged links (build, source, vmlinuz, config, System.map ->
# ../../../usr/src/linux-KV/...) assume: they are rewritten in the image to ../../../src/linux-KV/...
# before the merge, as Gentoo's kernel-install.eclass does, so that external-module builds
# through lib/modules/KV/build find the kernel.
_dist-kernel_merged_usr_links() {
	# shellcheck disable=SC2153 # EROOT is set by the package manager
	local root=${EROOT%/}
	[[ -L ${root}/lib && ${root}/lib -ef ${root}/usr/lib ]] || return 0
	local dir=${ED%/}/lib/modules/${KV_FULL} link target
	for link in build source vmlinuz config System.map; do
		[[ -L ${dir}/${link} ]] || continue
		target=$(readlink "${dir}/${link}") || die
		[[ ${target} == ../../../usr/src/* ]] || continue
		ln -snf "../../../${target#../../../usr/}" "${dir}/${link}" ||
			die "${FUNCNAME[0]}: cannot rewrite ${dir}/${link}"
	done
	einfo "merged-usr root: /lib/modules/${KV_FULL}/build and the other links point one level up"
}

# @FUNCTION: _dist-kernel_install_args
# @INTERNAL
# @DESCRIPTION:
# Prints nothing; sets _DIST_KERNEL_INSTALL_ARGS for distkernel-install add.
_dist-kernel_install_args() {
	_DIST_KERNEL_INSTALL_ARGS=( add "${KV_FULL}" --root "${EROOT:-/}" )
	use initramfs || _DIST_KERNEL_INSTALL_ARGS+=( --no-initramfs )
	# The generic initramfs the package was built with (DIST_KERNEL_GENERIC_INITRAMFS, a -bin
	# package): distkernel-install uses it unless this machine asks for another, and says so.
	local generic=${EROOT%/}/usr/src/linux-${KV_FULL}/initramfs-generic.img
	if use initramfs && [[ -f ${generic} ]]; then
		_DIST_KERNEL_INSTALL_ARGS+=( --prebuilt-initramfs "${generic}" )
	fi
}

# @FUNCTION: _dist-kernel_refresh_savedconfig
# @INTERNAL
# @DESCRIPTION:
# With USE=savedconfig, gives the saved config files this package installed a new modification
# time, as savedconfig.eclass does: Portage's unmerge (depclean of this slot) keeps a file whose
# mtime differs from the one recorded at merge, so the user's saved config outlives the slot.
# The new time is at least one second after the recorded one (Portage records whole seconds).
_dist-kernel_refresh_savedconfig() {
	# A -bin package (dist-kernel-bin.eclass) has no savedconfig flag.
	in_iuse savedconfig && use savedconfig || return 0
	local f now mtime
	for f in "${EROOT%/}/etc/portage/savedconfig/${CATEGORY}/${PF}"{,.base}; do
		[[ -f ${f} ]] || continue
		now=$(date +%s) || die
		mtime=$(stat -c %Y "${f}") || die
		(( now > mtime )) || now=$(( mtime + 1 ))
		touch -m -d "@${now}" "${f}" || ewarn "Could not refresh ${f}: depclean of this slot would remove it"
	done
}

# @FUNCTION: dist-kernel_pkg_postinst
# @DESCRIPTION:
# Installs the kernel into the machine's boot layout with distkernel-install add (initramfs
# with USE=initramfs) and points /usr/src/linux at it when that is missing or points at this
# variant. A failure does not fail the merge: it says how to retry with emerge --config.
dist-kernel_pkg_postinst() {
	_dist-kernel_refresh_savedconfig
	_dist-kernel_keep_signing_key
	_dist-kernel_check_trimmed || return 0
	_dist-kernel_install_args
	if ! distkernel-install "${_DIST_KERNEL_INSTALL_ARGS[@]}" --src-symlink; then
		eerror "Installing kernel ${KV_FULL} into the boot layout failed (the messages above)."
		eerror "The previously installed kernels are untouched. After fixing the cause, run:"
		eerror "  emerge --config '=${CATEGORY}/${PF}'"
	fi
}

# @FUNCTION: _dist-kernel_check_trimmed
# @INTERNAL
# @DESCRIPTION:
# A kernel trimmed for one machine (it holds /usr/src/linux-KV/distkernel-trim-machine.json) is
# checked with distkernel-check against the machine it is merged on, before it is installed into
# the boot layout. Returns 1 (install nothing) when the check says it will not boot here (exit
# 5); warns when devices here lose their driver (exit 4) or when the check itself fails.
_dist-kernel_check_trimmed() {
	local record=${EROOT%/}/usr/src/linux-${KV_FULL}/distkernel-trim-machine.json status=0
	[[ -f ${record} ]] || return 0
	einfo "${KV_FULL} was trimmed for one machine: checking it against this one (distkernel-check)"
	distkernel-check "${KV_FULL}" --root "${EROOT:-/}" || status=$?
	case ${status} in
		0) ;;
		4)
			ewarn "${KV_FULL} was trimmed for another machine (${record}): some devices here lose"
			ewarn "their driver (listed above). Trim for this machine's snapshot or remove"
			ewarn "/etc/kernel/distkernel-trim, and rebuild."
			;;
		5)
			eerror "${KV_FULL} was trimmed for another machine (${record}) and will not boot this"
			eerror "one (distkernel-check above): it was NOT installed into the boot layout. Rebuild it"
			eerror "with this machine's snapshot, or without /etc/kernel/distkernel-trim; to install"
			eerror "it anyway: emerge --config '=${CATEGORY}/${PF}'"
			return 1
			;;
		*) ewarn "distkernel-check could not check the trimmed ${KV_FULL} against this machine (exit ${status})" ;;
	esac
	return 0
}

# @FUNCTION: _dist-kernel_keep_signing_key
# @INTERNAL
# @DESCRIPTION:
# With USE=modules-sign and no MODULES_SIGN_KEY, on the machine that built the kernel (a source
# merge: the build directory is still there): keeps the key the build generated, which
# src_install left out of the image, in ${EROOT}/var/lib/distkernel/keys/KV/ (0700, key 0600),
# linked from /usr/src/linux-KV/certs/signing_key.pem where external-module packages look for it.
_dist-kernel_keep_signing_key() {
	in_iuse modules-sign && use modules-sign && [[ -z ${MODULES_SIGN_KEY} && ${MERGE_TYPE} != binary ]] || return 0
	distkernel-stage signing-key keep "${KV_FULL}" --build "${WORKDIR}/build" --root "${EROOT:-/}" >/dev/null ||
		ewarn "The generated module signing key could not be kept: external modules cannot be signed for ${KV_FULL}"
}

# @FUNCTION: dist-kernel_pkg_config
# @DESCRIPTION:
# Runs the install of pkg_postinst again (emerge --config).
dist-kernel_pkg_config() {
	_dist-kernel_install_args
	distkernel-install "${_DIST_KERNEL_INSTALL_ARGS[@]}" ||
		die "${FUNCNAME[0]}: distkernel-install add ${KV_FULL} failed"
}

# @FUNCTION: dist-kernel_pkg_prerm
# @DESCRIPTION:
# Remembers (in _DIST_KERNEL_OWN_MODULES, carried to pkg_postrm by the saved environment) the
# files this package staged under /lib/modules/KV, from the staged manifest, which Portage is
# about to remove with /usr/src/linux-KV.
dist-kernel_pkg_prerm() {
	local manifest=${EROOT%/}/usr/src/linux-${KV_FULL}/distkernel.json
	_DIST_KERNEL_OWN_MODULES=()
	[[ -f ${manifest} ]] || return 0
	# The manifest's paths are plain strings: a module path holds no quote to escape.
	mapfile -t _DIST_KERNEL_OWN_MODULES < <(
		grep -o '"path": *"[^"]*"' "${manifest}" | sed -e 's/^"path": *"//' -e 's/"$//' |
			grep -F "/lib/modules/${KV_FULL}/"
	) || die "${FUNCNAME[0]}: cannot read ${manifest}"
}

# @FUNCTION: dist-kernel_pkg_postrm
# @DESCRIPTION:
# Removes what distkernel-install deployed for this kernel (never the running kernel: the tool
# refuses it), then what Portage's unmerge leaves: /lib/modules/* is in Portage's default
# UNINSTALL_IGNORE (so that other packages' modules survive), so this kernel's own modules,
# links and the module indexes generated for it are removed here; files there that this
# package did not stage (external modules of other packages) are kept and listed; a
# /usr/src/linux left pointing at the removed tree is repointed at the newest remaining staged
# kernel (of the same variant first), or removed. Nothing when the same release was merged
# again over this one.
dist-kernel_pkg_postrm() {
	local root=${EROOT%/}
	if [[ -n ${REPLACED_BY_VERSION} && -f ${root}/usr/src/linux-${KV_FULL}/distkernel.json ]]; then
		return 0
	fi
	local status=0
	distkernel-install remove "${KV_FULL}" --root "${EROOT:-/}" || status=$?
	case ${status} in
		0) ;;
		77) einfo "Kernel ${KV_FULL} was not deployed by distkernel-install: nothing to remove" ;;
		*) ewarn "Removing the deployed kernel ${KV_FULL} failed; see distkernel-clean" ;;
	esac
	_dist-kernel_remove_modules
	# The link to the kept signing key (pkg_postinst) is not the package's: Portage leaves it.
	local key_link=${root}/usr/src/linux-${KV_FULL}/certs/signing_key.pem
	if [[ -L ${key_link} ]]; then
		rm -f "${key_link}" && rmdir "${key_link%/*}" "${key_link%/certs/*}" 2>/dev/null
	fi
	_dist-kernel_fix_src_link
}

# @FUNCTION: _dist-kernel_remove_modules
# @INTERNAL
# @DESCRIPTION:
# The /lib/modules/KV part of pkg_postrm.
_dist-kernel_remove_modules() {
	local moddir=${EROOT%/}/lib/modules/${KV_FULL}
	[[ -d ${moddir} ]] || return 0
	local f
	for f in "${_DIST_KERNEL_OWN_MODULES[@]}"; do
		[[ ${f} == /lib/modules/"${KV_FULL}"/* ]] || continue
		if [[ -L ${EROOT%/}${f} || -f ${EROOT%/}${f} ]]; then
			rm -f "${EROOT%/}${f}" || ewarn "Cannot remove ${EROOT%/}${f}"
		fi
	done
	# depmod's indexes: made for this kernel (at staging, and again by external modules'
	# packages), useless without it.
	rm -f "${moddir}"/modules.{alias,alias.bin,builtin,builtin.alias.bin,builtin.bin,builtin.modinfo,dep,dep.bin,devname,order,softdep,symbols,symbols.bin,weakdep} ||
		ewarn "Cannot remove the module indexes in ${moddir}"
	find "${moddir}" -depth -mindepth 1 -type d -empty -delete 2>/dev/null
	local kept=()
	mapfile -t kept < <(find "${moddir}" -mindepth 1 ! -type d)
	if [[ ${#kept[@]} -gt 0 ]]; then
		ewarn "Kept in ${moddir}: ${#kept[@]} file(s) that ${CATEGORY}/${PF} did not install (external"
		ewarn "modules of other packages; they go when those packages are removed or rebuilt):"
		for f in "${kept[@]:0:10}"; do ewarn "  ${f}"; done
		[[ ${#kept[@]} -le 10 ]] || ewarn "  ... and $(( ${#kept[@]} - 10 )) more"
	else
		rmdir "${moddir}" 2>/dev/null || ewarn "Cannot remove ${moddir}"
	fi
}

# @FUNCTION: _dist-kernel_fix_src_link
# @INTERNAL
# @DESCRIPTION:
# The /usr/src/linux part of pkg_postrm: only a link left dangling at linux-KV is changed.
_dist-kernel_fix_src_link() {
	local src=${EROOT%/}/usr/src link
	[[ -L ${src}/linux && ! -e ${src}/linux ]] || return 0
	link=$(readlink "${src}/linux")
	[[ ${link##*/} == "linux-${KV_FULL}" ]] || return 0
	local manifest same=() any=()
	for manifest in "${src}"/linux-*/distkernel.json; do
		[[ -f ${manifest} ]] || continue
		any+=( "${manifest%/distkernel.json}" )
		grep -q "\"variant\": *\"${DIST_KERNEL_VARIANT}\"" "${manifest}" && same+=( "${manifest%/distkernel.json}" )
	done
	local pick
	[[ ${#same[@]} -gt 0 ]] && any=( "${same[@]}" )
	if [[ ${#any[@]} -gt 0 ]]; then
		pick=$(printf '%s\n' "${any[@]##*/}" | sort -V | tail -n 1)
		ln -sfn "${pick}" "${src}/linux" || die "${FUNCNAME[0]}: cannot repoint ${src}/linux"
		elog "${src}/linux pointed at the removed ${link}; it now points at ${pick}"
	else
		rm -f "${src}/linux" || die "${FUNCNAME[0]}: cannot remove ${src}/linux"
		elog "${src}/linux pointed at the removed ${link} and no other kernel is staged: removed it"
	fi
}

# @FUNCTION: dist-kernel_reinstall_initramfs
# @USAGE: <kv-dir> <kv-full> [--all]
# @DESCRIPTION:
# For external-module and firmware packages (ZFS, nvidia, linux-firmware): rebuilds the
# initramfs of kernel <kv-full>, or with --all of every kernel distkernel installed, so that it
# contains the newly merged files, with distkernel-install reinstall (one transaction and record
# per kernel). The arguments are those of Gentoo's dist-kernel-utils.eclass; <kv-dir> is not
# needed (distkernel finds the staged kernel by its release). A kernel distkernel did not install
# is left alone with a message; a failure is reported, not fatal (pkg_postinst cannot undo the
# merge). Packages that inherit ::gentoo's dist-kernel-utils.eclass instead reach the same
# command through distkernel's installkernel/kernel-install plugin (docs/routes.md).
dist-kernel_reinstall_initramfs() {
	[[ ${#} -eq 2 || ( ${#} -eq 3 && ${3} == --all ) ]] ||
		die "Usage: ${FUNCNAME[0]} <kv-dir> <kv-full> [--all]"
	[[ ${MERGE_TYPE} == buildonly ]] && return 0
	local kv_full=${2} what args status=0
	if [[ ${3} == --all ]]; then
		what="every kernel installed by distkernel"
		args=( --all )
	else
		what=${kv_full}
		args=( "${kv_full}" )
	fi
	einfo "Rebuilding the initramfs of ${what} (distkernel-install reinstall)"
	distkernel-install reinstall "${args[@]}" --root "${EROOT:-/}" || status=$?
	case ${status} in
		0) ;;
		77) einfo "No kernel installed by distkernel under ${EROOT:-/}: nothing to rebuild" ;;
		*)
			eerror "Rebuilding the initramfs of ${what} failed (the messages above); retry with:"
			eerror "  distkernel-install reinstall ${args[*]}"
			;;
	esac
}

fi

EXPORT_FUNCTIONS pkg_pretend pkg_setup src_prepare src_configure src_compile src_test src_install pkg_preinst pkg_postinst pkg_config pkg_prerm pkg_postrm
