#!/usr/bin/env bash
# The PMS harness itself must be honest for the eclass tests to mean anything: a die in a
# command substitution aborts the phase, an undefined helper is an error, use() of a flag outside
# IUSE is an error, nonfatal makes a helper return instead, D/ED exist only from src_install,
# ROOT only in pkg_* phases, the working directory is ${S} in src_* phases, variables carry from
# phase to phase through the saved environment (also into a binary package's pkg_postinst),
# inherit accumulates IUSE and EXPORT_FUNCTIONS exports, PMS_USE_TRACE records the USE questions
# a phase asks.
# shellcheck source=../lib.sh
source "$(dirname "$0")/../lib.sh"
# shellcheck source=harness.sh
source "$DK_SOURCE_ROOT/tests/eclass/harness.sh"
# shellcheck source=common.sh
source "$DK_SOURCE_ROOT/tests/eclass/common.sh"
dk_tmp

PMS_BASE=$T/tmp
PMS_ROOT=$T/root
mkdir -p "$PMS_ROOT" "$T/repo/app-misc/pms-selftest"
ebuild=$T/repo/app-misc/pms-selftest/pms-selftest-1.ebuild
cp "$DK_ECLASS_FIXTURES/selftest/pms-selftest.ebuild" "$ebuild"
log=$T/selftest.log

run() {
	local fail=$1
	: > "$log"
	PMS_MAKE_CONF="SELFTEST_LOG=$log SELFTEST_FAIL=$fail"
	pms_init "$ebuild" app-misc
	pms_build_source > "$T/out-$fail.log" 2>&1
}

# the good path
run none || { cat "$T/out-none.log" >&2; dk_fail "the self-test package failed to build"; }
work=$PMS_BUILDDIR/work
dk_grep '^pkg_setup ROOT=/.* MERGE_TYPE=source D=unset$' "$log"
dk_grep "^src_unpack cwd=$work carried=from-pkg_setup\$" "$log"
dk_grep "^src_configure cwd=$work/src ROOT=unset D=unset on=yes off=no\$" "$log"
dk_grep '^src_compile eclass=hello-from-eclass$' "$log"
dk_grep "^src_install D=$PMS_BUILDDIR/image/ ED=$PMS_BUILDDIR/image/\$" "$log"
dk_grep 'fromeclass' "$PMS_BUILDDIR/temp/environment"
pms_merge >> "$T/out-none.log" 2>&1 || { cat "$T/out-none.log" >&2; dk_fail "merge failed"; }
dk_grep '^pkg_preinst exported ED=' "$log"
dk_grep "^pkg_postinst ROOT=$PMS_ROOT MERGE_TYPE=source carried=from-pkg_setup D=unset\$" "$log"
[[ $(cat "$PMS_ROOT/usr/share/selftest/hello") == hello && -L $PMS_ROOT/usr/share/selftest/link ]] ||
	dk_fail "the merged files are not in ROOT"
pms_pack "$T/pkg.tar" || dk_fail "pms_pack"
# CONFIG_PROTECT: a changed /etc file is kept at a merge, the package's copy is ._cfg0000_NAME
echo edited > "$PMS_ROOT/etc/selftest/hello.conf"
pms_merge >> "$T/out-none.log" 2>&1 || { cat "$T/out-none.log" >&2; dk_fail "second merge failed"; }
[[ $(cat "$PMS_ROOT/etc/selftest/hello.conf") == edited && $(cat "$PMS_ROOT/etc/selftest/._cfg0000_hello.conf") == hello ]] ||
	dk_fail "CONFIG_PROTECT: the edited /etc/selftest/hello.conf was not kept beside ._cfg0000_hello.conf"
touch -m -d @1000000000 "$PMS_ROOT/etc/selftest/touched.conf"
pms_unmerge >> "$T/out-none.log" 2>&1 || dk_fail "unmerge failed"
dk_grep '^pkg_postrm REPLACED_BY_VERSION=$' "$log"
[[ ! -e $PMS_ROOT/usr/share/selftest/hello ]] || dk_fail "unmerge left a file"
[[ -f $PMS_ROOT/lib/modules/selftest/kept.ko ]] || dk_fail "UNINSTALL_IGNORE: unmerge removed /lib/modules/selftest/kept.ko"
[[ -f $PMS_ROOT/etc/selftest/touched.conf ]] || dk_fail "unmerge removed a file whose mtime changed"
[[ -f $PMS_ROOT/etc/selftest/hello.conf ]] || dk_fail "unmerge removed the user's edited config"
dk_ok "phase order, variables' scopes, working directories, saved environment, inherit"
dk_ok "Portage's defaults: CONFIG_PROTECT at merge; UNINSTALL_IGNORE, !mtime and !md5 at unmerge"

# PMS_USE_TRACE: the questions src_configure asked about USE (usex through use), with the answers
PMS_MAKE_CONF="SELFTEST_LOG=$log SELFTEST_FAIL=none"
pms_init "$ebuild" app-misc
pms_phase src_unpack > "$T/out-trace.log" 2>&1 || { cat "$T/out-trace.log" >&2; dk_fail "src_unpack died"; }
PMS_USE_TRACE=$T/use.trace pms_phase src_configure >> "$T/out-trace.log" 2>&1 ||
	{ cat "$T/out-trace.log" >&2; dk_fail "src_configure died with PMS_USE_TRACE"; }
[[ $(< "$T/use.trace") == $'use on 1\nuse off 0' ]] || dk_fail "PMS_USE_TRACE: got '$(< "$T/use.trace")', want use on 1, use off 0"
dk_ok "PMS_USE_TRACE records the USE questions a phase asks and their answers"

# SRC_URI's files under USE (pms_fetch's list): conditional and nested groups, renames
got=$(_pms_src_uri_files 'amd64? ( https://h/a.tar ) arm64? ( https://h/b.tar ) https://h/c.tar.gz -> c-1.tar.gz !on? ( d.tar ( e.tar ) ) on? ( ( f.tar ) )' 'amd64 on')
[[ $got == $'https://h/a.tar a.tar\nhttps://h/c.tar.gz c-1.tar.gz\nf.tar f.tar' ]] || dk_fail "SRC_URI files: got '$got'"
! _pms_src_uri_files 'a.tar on? ( b.tar' 'on' > /dev/null 2>&1 || dk_fail "an unbalanced SRC_URI was accepted"
dk_ok "SRC_URI's files under USE: conditional and nested groups, '->' renames; unbalanced refused"

# a binary package's pkg_postinst runs from the saved environment
PMS_ROOT=$T/root2
mkdir -p "$PMS_ROOT"
: > "$log"
pms_init_binary "$T/pkg.tar" app-misc || dk_fail "pms_init_binary"
if ! { pms_phase pkg_setup && pms_merge; } > "$T/out-bin.log" 2>&1; then
	cat "$T/out-bin.log" >&2
	dk_fail "binary merge failed"
fi
dk_grep "^pkg_postinst ROOT=$T/root2 MERGE_TYPE=binary carried=from-pkg_setup D=unset\$" "$log"
dk_ok "binary package: pkg_* phases from the saved environment, MERGE_TYPE=binary"

# dishonest eclasses must fail
for fail in subshell-die unknown-helper use-not-in-iuse; do
	if run "$fail"; then cat "$T/out-$fail.log" >&2; dk_fail "$fail: the phase did not fail"; fi
	dk_grep 'failed \(configure phase\)' "$T/out-$fail.log"
	dk_nogrep '^after ' "$log"
	dk_nogrep '^src_compile' "$log"
done
dk_grep "command not found: 'econf_not_a_helper'" "$T/out-unknown-helper.log"
dk_grep "flag 'nosuchflag' is not in IUSE" "$T/out-use-not-in-iuse.log"
run nonfatal || { cat "$T/out-nonfatal.log" >&2; dk_fail "nonfatal emake killed the phase"; }
dk_grep '^nonfatal returned [1-9]' "$log"
dk_ok "die in a subshell, unknown helpers and unknown USE flags abort the phase; nonfatal returns"
