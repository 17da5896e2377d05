#!/bin/bash
# libdistkernel exports its public API and nothing else: every symbol in its dynamic table carries
# the version node of lib/libdistkernel.map and matches one of the map's global patterns; each of
# them belongs to a name the public headers declare; each function the public headers declare
# DISTKERNEL_API is exported.
source "$(dirname "$0")/../lib.sh"
dk_tmp

lib=$DK_BUILD_ROOT/lib/libdistkernel.so
map=$DK_SOURCE_ROOT/lib/libdistkernel.map
headers=("$DK_SOURCE_ROOT"/lib/include/distkernel/*.hpp)
[[ -e $lib ]] || dk_fail "no $lib"

node=$(sed -n 's/^\([A-Za-z_][A-Za-z0-9_.]*\) {$/\1/p' "$map")
[[ -n $node ]] || dk_fail "no version node in $map"

# The map's global patterns: demangled ones inside extern "C++" { }, mangled ones outside.
sed 's|/\*.*\*/||; /\/\*/,/\*\//d' "$map" | awk -v cxx="$T/cxx" -v c="$T/c" '
	/^global:/ { g = 1; next }
	/^local:/ { g = 0 }
	g && /extern "C\+\+"/ { inx = 1; next }
	g && inx && /};/ { inx = 0; next }
	g && /;/ { gsub(/[ \t;]/, ""); if ($0 != "") print > (inx ? cxx : c) }'
[[ -s $T/cxx && -s $T/c ]] || dk_fail "cannot read the global patterns of $map"

nm -D --defined-only "$lib" >"$T/raw"
nm -DC --defined-only "$lib" >"$T/demangled"
[[ $(wc -l <"$T/raw") == $(wc -l <"$T/demangled") ]] || dk_fail "nm gave different lists"
count=0
while IFS= read -r raw && IFS= read -r dem <&3; do
	# "ADDRESS TYPE NAME@@NODE"; the node itself is an absolute symbol
	name=${raw#* * }
	[[ $name == "$node" ]] && continue
	count=$((count + 1))
	[[ $name == *"@@$node" ]] || dk_fail "exported without the version $node: $name"
	mangled=${name%@@*}
	plain=${dem#* * }
	plain=${plain%@@*}
	matched=
	while read -r pat; do
		# shellcheck disable=SC2053
		[[ $plain == $pat ]] && { matched=1; break; }
	done <"$T/cxx"
	if [[ -z $matched ]]; then
		while read -r pat; do
			# shellcheck disable=SC2053
			[[ $mangled == $pat ]] && { matched=1; break; }
		done <"$T/c"
	fi
	[[ -n $matched ]] || dk_fail "exported but no pattern of $map matches: $plain"
	[[ $plain != *distkernel::detail::* ]] || dk_fail "an internal symbol is exported: $plain"
	# The first name under distkernel:: (a function or a class) is declared in a public header.
	first=$(sed -E 's/^(typeinfo name for |typeinfo for |vtable for )?//; s/^distkernel::(kconfig::)?//; s/[^A-Za-z0-9_].*//' <<<"$plain")
	grep -qw -- "$first" "${headers[@]}" || dk_fail "exported, but no public header declares $first: $plain"
	echo "$plain" >>"$T/exported"
done <"$T/raw" 3<"$T/demangled"
((count > 0)) || dk_fail "nothing exported"

# Each free function the headers mark DISTKERNEL_API is in the table.
grep -h '^DISTKERNEL_API ' "${headers[@]}" | sed -E 's/\(.*//; s/.*[ *&:]//' | sort -u >"$T/declared"
missing=0
while read -r fn; do
	grep -qE "^distkernel::(kconfig::)?$fn(\[abi:[a-z0-9]+\])?\(" "$T/exported" || { echo "not exported: $fn" >&2; missing=1; }
done <"$T/declared"
((missing == 0)) || dk_fail "functions the public headers declare DISTKERNEL_API are not exported"
dk_ok "$count symbols exported, all $node, all from the public headers ($(wc -l <"$T/declared") functions checked)"
