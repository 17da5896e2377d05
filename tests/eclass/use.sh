#!/usr/bin/env bash
# Every USE combination the overlay's kernel ebuilds offer, through the phases that need no
# kernel sources (their archives are not here; the shared test kernel's configure and build with
# USE flags are eclass-kernel's, eclass-extmod's and eclass-config's): for each ebuild, every subset
# of its IUSE on amd64 (its keyword) passes pkg_pretend and pkg_setup (signing keys given, as
# make.conf would). On arm64 (not keyworded: only REQUIRED_USE's !amd64? branch is looked at),
# requse.py's verdict on every subset must be the one the ebuild's REQUIRED_USE text means (a
# kernel without amd64's config needs savedconfig), and a forbidden combination is refused by the
# harness before any phase runs, as Portage refuses it, with the clause named.
# The REQUIRED_USE evaluator (requse.py) is checked first on PMS's group forms.
# shellcheck source=../lib.sh
source "$(dirname "$0")/../lib.sh"
# shellcheck source=harness.sh
source "$DK_SOURCE_ROOT/tests/eclass/harness.sh"
# shellcheck source=common.sh
source "$DK_SOURCE_ROOT/tests/eclass/common.sh"
dk_tmp
[[ -x $DK_TOOLS/distkernel-stage ]] || dk_fail "distkernel-stage is not built in $DK_TOOLS"
started=$SECONDS
requse=$DK_SOURCE_ROOT/tests/eclass/requse.py

# --- the evaluator ------------------------------------------------------------------------------
# expect STATUS REQUIRED_USE USE
expect() {
	local got=0
	python3 "$requse" check "$2" "$3" > "$T/requse.out" 2>&1 || got=$?
	[[ $got == "$1" ]] || { cat "$T/requse.out" >&2; dk_fail "requse.py check '$2' '$3': exit $got, want $1"; }
}
expect 0 '!amd64? ( savedconfig )' 'amd64'
expect 1 '!amd64? ( savedconfig )' 'arm64 debug'
expect 0 '!amd64? ( savedconfig )' 'arm64 savedconfig'
expect 0 '|| ( a b ) ^^ ( c d ) ?? ( e f )' 'a b c'
expect 1 '^^ ( c d )' 'c d'
expect 1 '^^ ( c d )' ''
expect 1 '?? ( e f )' 'e f'
expect 1 '|| ( a b )' 'c'
expect 0 'a? ( ^^ ( b !c ) )' 'a b c'
expect 1 'a? ( ^^ ( b !c ) )' 'a b'
expect 0 '( a !b )' 'a'
expect 2 '^^ ( a' 'a'
expect 2 'a? b' 'a'
dk_ok "requse.py: PMS's flag, all-of, any-of, exactly-one, at-most-one and conditional groups"

# --- the ebuilds ---------------------------------------------------------------------------------
(umask 077 && openssl req -new -nodes -utf8 -sha256 -days 36500 -batch -x509 -subj "/CN=use combinations/" \
	-newkey rsa:2048 -keyout "$T/sb.key" -out "$T/sb.crt" 2>/dev/null) || dk_fail "openssl req"
PMS_BASE=$T/pms
PMS_ROOT=$T/root
mkdir -p "$PMS_ROOT"
PMS_MAKE_CONF="SECUREBOOT_SIGN_KEY=$T/sb.key SECUREBOOT_SIGN_CERT=$T/sb.crt"
total=0
for ebuild in "$DK_SOURCE_ROOT"/ebuilds/sys-kernel/*-kernel*/*.ebuild; do
	name=${ebuild##*/}
	pms_init "$ebuild" sys-kernel
	PMS_ARCH=amd64 pms_metadata || dk_fail "sourcing $name failed"
	iuse=$PMS_META_IUSE required=${PMS_META_REQUIRED_USE-}
	n=0 refused=0 allowed=0
	for arch in amd64 arm64; do
		export PMS_ARCH=$arch
		while IFS=$'\t' read -r verdict clauses; do
			flags=${verdict#* } verdict=${verdict%% *}
			[[ $flags == - ]] && flags=
			dk_use_every "$iuse" "$flags"
			what="$name ARCH=$arch USE=\"$flags\""
			# What REQUIRED_USE forbids here, read from the ebuilds: savedconfig off where
			# ARCH is not amd64. A new constraint must be named here too.
			forbidden=
			[[ $required == *'!amd64? ( savedconfig )'* && $arch != amd64 && " $flags " != *" savedconfig "* ]] && forbidden=1
			if [[ $verdict == bad ]]; then
				[[ -n $forbidden ]] || dk_fail "$what: requse.py says '$clauses' is broken, the ebuild allows it"
				if ((refused == 0)); then
					# The harness's check is requse.py's: one through the whole of
					# pms_build_source shows the refusal (no phase runs).
					pms_init "$ebuild" sys-kernel
					! pms_build_source > "$T/refused.log" 2>&1 || dk_fail "$what: built although REQUIRED_USE forbids it"
					dk_grep "REQUIRED_USE constraints unsatisfied \(USE=.*\): savedconfig$" "$T/refused.log"
					dk_nogrep 'pkg_pretend|pkg_setup' "$T/refused.log"
				fi
				refused=$((refused + 1))
				continue
			fi
			[[ -z $forbidden ]] || dk_fail "$what: REQUIRED_USE forbids it, requse.py says ok"
			[[ $arch == amd64 ]] || { allowed=$((allowed + 1)); continue; }
			pms_init "$ebuild" sys-kernel
			for phase in pkg_pretend pkg_setup; do
				pms_phase "$phase" > "$T/phase.log" 2>&1 || { tail -n 20 "$T/phase.log" >&2; dk_fail "$what: $phase died"; }
			done
			n=$((n + 1))
		done < <(python3 "$requse" combinations "$required" "$iuse" "$arch")
	done
	unset PMS_ARCH
	dk_ok "$name: IUSE=\"${iuse## }\": $n combinations on amd64 pass pkg_pretend and pkg_setup; on arm64 $allowed allowed and $refused refused by REQUIRED_USE=\"${required%% }\""
	total=$((total + n + allowed + refused))
done
((total > 0)) || dk_fail "no kernel ebuild found under ebuilds/sys-kernel"
echo "USE combinations test: $total combinations, $((SECONDS - started)) s" >&2
