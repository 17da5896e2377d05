# One ebuild phase (started by harness.sh under env -i): the helpers, the saved environment or
# else the ebuild itself, the phase function in its working directory (PMS 9.1), the
# environment saved for the next phase.
# shellcheck shell=bash disable=SC1090,SC1091,SC2034,SC2086

phase=$1
umask 022
PMS_MAIN_PID=$BASHPID
source "${PMS_HELPERS}"

# What belongs to this process or to the phase, never to the saved environment.
_pms_not_saved='^(BASH.*|EUID|UID|PPID|SHELLOPTS|BASHOPTS|RANDOM|SRANDOM|SECONDS|LINENO|HISTCMD|FUNCNAME|GROUPS|DIRSTACK|PIPESTATUS|OPTIND|OPTARG|OPTERR|IFS|PWD|OLDPWD|SHLVL|HOSTNAME|HOSTTYPE|MACHTYPE|OSTYPE|EPOCHREALTIME|EPOCHSECONDS|COLUMNS|LINES|PS[0-9]|_|phase|PATH|HOME|TERM|TMPDIR|T|WORKDIR|DISTDIR|FILESDIR|D|ED|ROOT|EROOT|SYSROOT|ESYSROOT|BROOT|EPREFIX|PORTAGE_CONFIGROOT|MERGE_TYPE|REPLACING_VERSIONS|REPLACED_BY_VERSION|EBUILD_PHASE|EBUILD_PHASE_FUNC|PMS_.*|_pms_.*)$'

if [[ -f ${T}/environment ]]; then
	# The phase's own variables (set by env -i) win over the saved ones.
	_pms_phase_vars=$(declare -px)
	source "${T}/environment" || die "cannot source the saved environment"
	eval "${_pms_phase_vars}"
	unset _pms_phase_vars
else
	declare -A _PMS_E=()
	S=${WORKDIR}/${P}
	source "${PMS_EBUILD}" || die "sourcing ${PMS_EBUILD} failed"
	[[ ${EAPI} == 8 ]] || die "this harness runs EAPI 8 only (the ebuild says '${EAPI}')"
	for _pms_var in IUSE REQUIRED_USE DEPEND BDEPEND RDEPEND PDEPEND IDEPEND PROPERTIES RESTRICT; do
		printf -v "${_pms_var}" '%s' "${!_pms_var}${_PMS_E[${_pms_var}]}"
	done
	unset _pms_var
	unset -v _PMS_E
	# The effective USE: IUSE defaults, then the user's tokens, restricted to IUSE_EFFECTIVE.
	IUSE_EFFECTIVE="${IUSE} ${ARCH} kernel_linux elibc_glibc"
	_pms_use=" ${ARCH} kernel_linux elibc_glibc "
	for _pms_flag in ${IUSE}; do
		[[ ${_pms_flag} == +* ]] && _pms_use+="${_pms_flag#+} "
	done
	for _pms_flag in ${PMS_USE}; do
		if [[ ${_pms_flag} == -* ]]; then
			_pms_use=${_pms_use// ${_pms_flag#-} / }
		else
			_pms_use+="${_pms_flag} "
		fi
	done
	USE=
	for _pms_flag in ${_pms_use}; do
		_pms_in_iuse_effective "${_pms_flag}" && ! has "${_pms_flag}" ${USE} && USE+="${_pms_flag} "
	done
	unset _pms_use _pms_flag
fi

# "depend": the metadata Portage's cache would hold (PMS 7), printed as NAME=VALUE lines.
if [[ ${phase} == depend ]]; then
	for _pms_var in SLOT KEYWORDS IUSE REQUIRED_USE SRC_URI DEPEND BDEPEND RDEPEND PDEPEND IDEPEND RESTRICT USE INHERITED; do
		printf '%s=%s\n' "${_pms_var}" "${!_pms_var//$'\n'/ }"
	done
	exit 0
fi

case ${phase} in
	src_unpack) cd "${WORKDIR}" || die ;;
	src_*)
		if [[ -d ${S} ]]; then cd "${S}" || die; else cd "${WORKDIR}" || die; fi ;;
	*) cd "${HOME%/homedir}/empty" || die ;;
esac

# A phase that dies exits from die (or is killed by it from a subshell); the return status of
# the phase function itself is not checked, as in Portage.
if declare -F "${phase}" >/dev/null; then
	"${phase}"
elif declare -F "default_${phase}" >/dev/null; then
	"default_${phase}"
fi

{
	while IFS= read -r _pms_name; do
		[[ ${_pms_name} =~ ${_pms_not_saved} ]] && continue
		declare -p "${_pms_name}" 2>/dev/null
	done < <(compgen -v)
	declare -f
} > "${T}/environment.new" || die "cannot save the environment"
mv "${T}/environment.new" "${T}/environment" || die
exit 0
