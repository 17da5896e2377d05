#!/usr/bin/env python3
"""REQUIRED_USE as PMS (EAPI 8, section 7.3.3) defines it, for the eclass harness.

    requse.py check REQUIRED_USE USE        exit 0 when USE satisfies it; else exit 1 and the
                                            clauses it breaks, one a line, on stdout
    requse.py combinations REQUIRED_USE FLAGS PROFILE
                                            every subset of FLAGS (the IUSE names), each with the
                                            PROFILE flags (ARCH) always on: a line "ok USE" or
                                            "bad USE\tCLAUSE; CLAUSE" per subset

A clause is a flag ("f", "!f"), an all-of group "( ... )", "|| ( ... )" (at least one),
"^^ ( ... )" (exactly one), "?? ( ... )" (at most one) or "f? ( ... )" / "!f? ( ... )" (the group
when f is on / off). A malformed string is an error (exit 2) naming the token.
"""
import itertools
import sys


class Malformed(Exception):
    pass


def parse(text):
    tokens = text.split()
    pos = 0

    def group():
        nonlocal pos
        if pos >= len(tokens) or tokens[pos] != "(":
            raise Malformed(f"expected '(' after '{tokens[pos - 1]}', found '{tokens[pos] if pos < len(tokens) else 'the end'}'")
        pos += 1
        items = []
        while True:
            if pos >= len(tokens):
                raise Malformed("a '(' is never closed")
            if tokens[pos] == ")":
                pos += 1
                return items
            items.append(clause())

    def clause():
        nonlocal pos
        t = tokens[pos]
        pos += 1
        if t in ("||", "^^", "??"):
            return (t, group())
        if t == "(":
            pos -= 1
            return ("all", group())
        if t.endswith("?"):
            return ("if", t[:-1], group())
        if t == ")":
            raise Malformed("a ')' closes nothing")
        if not t.lstrip("!") or any(c in t for c in "()?|^"):
            raise Malformed(f"'{t}' is not a flag")
        return ("flag", t)

    out = []
    while pos < len(tokens):
        out.append(clause())
    return out


def text(c):
    kind = c[0]
    if kind == "flag":
        return c[1]
    if kind == "if":
        return f"{c[1]}? ( {' '.join(text(x) for x in c[2])} )"
    inner = " ".join(text(x) for x in c[1])
    return f"( {inner} )" if kind == "all" else f"{kind} ( {inner} )"


def on(flag, use):
    return (flag[1:] not in use) if flag.startswith("!") else (flag in use)


def broken(clauses, use):
    """The clauses (as text) that use does not satisfy."""
    out = []
    for c in clauses:
        kind = c[0]
        if kind == "flag":
            ok = on(c[1], use)
        elif kind == "if":
            if on(c[1], use):
                out += broken(c[2], use)
            continue
        elif kind == "all":
            out += broken(c[1], use)
            continue
        else:
            n = sum(1 for x in c[1] if not broken([x], use))
            ok = {"||": n >= 1 or not c[1], "^^": n == 1, "??": n <= 1}[kind]
        if not ok:
            out.append(text(c))
    return out


def main(argv):
    try:
        if len(argv) == 4 and argv[1] == "check":
            bad = broken(parse(argv[2]), set(argv[3].split()))
            for b in bad:
                print(b)
            return 1 if bad else 0
        if len(argv) == 5 and argv[1] == "combinations":
            clauses = parse(argv[2])
            flags = sorted(set(f.lstrip("+-") for f in argv[3].split()))
            profile = argv[4].split()
            for n in range(len(flags) + 1):
                for subset in itertools.combinations(flags, n):
                    use = set(subset) | set(profile)
                    bad = broken(clauses, use)
                    words = " ".join(subset) or "-"
                    print(f"bad {words}\t{'; '.join(bad)}" if bad else f"ok {words}")
            return 0
    except Malformed as e:
        print(f"requse.py: REQUIRED_USE '{argv[2]}': {e}", file=sys.stderr)
        return 2
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
