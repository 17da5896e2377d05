"""The package database's file list, as Portage keeps and uses it (the eclass harness's merge and
unmerge; one process for a whole kernel image instead of one per file).

  vdb.py contents IMAGE ROOT KEPT   CONTENTS lines for IMAGE merged into ROOT; KEPT lists (as
                                    "./path" lines) the protected files that stayed, recorded
                                    with the package's own md5 and mtime as Portage does
  vdb.py unmerge ROOT CONTENTS IGNORE
                                    removes what Portage's unmerge removes: not a path matching
                                    one of the IGNORE fnmatch patterns (UNINSTALL_IGNORE), not a
                                    file whose mtime (!mtime) or md5 (!md5) changed since the
                                    merge; then the directories left empty, deepest first
"""
import fnmatch
import hashlib
import os
import sys


def md5(path):
    h = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def contents(image, root, kept_list):
    kept = {line.rstrip("\n")[1:] for line in open(kept_list) if line.strip()}
    out = []
    for d, dirs, files in os.walk(image):
        for n in dirs + files:
            ip = os.path.join(d, n)
            rel = "/" + os.path.relpath(ip, image)
            rp = root + rel
            if os.path.islink(ip):
                out.append(f"sym {rel} -> {os.readlink(ip)} {int(os.lstat(rp).st_mtime)}")
            elif os.path.isdir(ip):
                out.append(f"dir {rel}")
            elif rel in kept:
                out.append(f"obj {rel} {md5(ip)} {int(os.stat(ip).st_mtime)}")
            else:
                out.append(f"obj {rel} {md5(rp)} {int(os.stat(rp).st_mtime)}")
    print("\n".join(sorted(out, key=lambda line: line.split(" ", 2)[1])))


def unmerge(root, contents_file, ignore):
    patterns = ignore.split()
    entries = [line.rstrip("\n").split(" ") for line in open(contents_file) if line.strip()]
    for e in entries:
        kind, path = e[0], e[1]
        if kind == "dir":
            continue
        if any(fnmatch.fnmatchcase(path, p) for p in patterns):
            print(f"--- !ignore {kind} {path}", file=sys.stderr)
            continue
        rp = root + path
        if not os.path.lexists(rp):
            continue
        if str(int(os.lstat(rp).st_mtime)) != e[-1]:
            print(f"--- !mtime {kind} {path}", file=sys.stderr)
            continue
        if kind == "obj" and md5(rp) != e[2]:
            print(f"--- !md5 {kind} {path}", file=sys.stderr)
            continue
        os.remove(rp)
    for e in sorted((e for e in entries if e[0] == "dir"), key=lambda e: e[1], reverse=True):
        try:
            os.rmdir(root + e[1])
        except OSError:
            pass


if __name__ == "__main__":
    command, args = sys.argv[1], sys.argv[2:]
    if command == "contents" and len(args) == 3:
        contents(*args)
    elif command == "unmerge" and len(args) == 3:
        unmerge(*args)
    else:
        sys.exit(f"usage: {sys.argv[0]} contents IMAGE ROOT KEPT | unmerge ROOT CONTENTS IGNORE")
