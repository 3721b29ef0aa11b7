#!/usr/bin/env python3
"""Structure checks of the workspace's own rules (CONTRIBUTING: "How we write code").

    python3 .ci/structure.py            # report and exit 1 on a violation
    python3 .ci/structure.py --list     # also list every function over 60 lines

Checks, over each crate's `src/` (tests, benches and fuzz targets are exempt):
  * no function body over MAX_FN lines outside `#[cfg(test)]` code;
  * no module file over MAX_MODULE lines (test modules in files of their own
    are exempt: `*_tests.rs`, `tests.rs`);
  * no two modules of one crate that import each other (an edge is any
    `crate::`/`super::`/`self::` path from one module into another that is
    not its ancestor or descendant; a parent's `mod`/`pub use` of its
    children is how Rust declares modules, not a circle).
The parser is small and textual: it blanks comments, strings and chars,
then matches braces.
"""
import os
import re
import sys

MAX_FN = 80
MAX_MODULE = 800
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def blank(src):
    """Comments, string and char literals replaced by spaces (newlines kept)."""
    out = []
    i, n = 0, len(src)
    while i < n:
        c = src[i]
        if src.startswith("//", i):
            j = src.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif src.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if src.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif src.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            out.append(re.sub(r"[^\n]", " ", src[i:j]))
            i = j
        elif c == "r" and re.match(r'r#*"', src[i:i + 12]) and not (i and (src[i - 1].isalnum() or src[i - 1] == "_")):
            m = re.match(r'r(#*)"', src[i:])
            end = '"' + m.group(1)
            j = src.find(end, i + len(m.group(0)))
            j = n if j < 0 else j + len(end)
            out.append(re.sub(r"[^\n]", " ", src[i:j]))
            i = j
        elif c == '"':
            j = i + 1
            while j < n and src[j] != '"':
                j += 2 if src[j] == "\\" else 1
            j += 1
            out.append(re.sub(r"[^\n]", " ", src[i:j]))
            i = j
        elif c == "'":
            m = re.match(r"'(\\.[^']*|[^\\'])'", src[i:])
            if m:
                out.append(" " * len(m.group(0)))
                i += len(m.group(0))
            else:  # a lifetime
                out.append(c)
                i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def match_brace(text, open_at):
    depth = 0
    for j in range(open_at, len(text)):
        if text[j] == "{":
            depth += 1
        elif text[j] == "}":
            depth -= 1
            if depth == 0:
                return j
    return len(text) - 1


def test_spans(text):
    """Spans of items under #[cfg(test)] (modules and functions)."""
    spans = []
    for m in re.finditer(r"#\[cfg\(test\)\]", text):
        j = text.find("{", m.end())
        semi = text.find(";", m.end())
        if j < 0 or (0 <= semi < j):
            continue
        spans.append((m.start(), match_brace(text, j)))
    return spans


def inside(pos, spans):
    return any(a <= pos <= b for a, b in spans)


def rust_files():
    for dirpath, dirnames, filenames in os.walk(ROOT):
        rel = os.path.relpath(dirpath, ROOT)
        parts = rel.split(os.sep)
        if any(p in ("target", ".git", "fuzz", "tests", "benches", "examples") for p in parts):
            dirnames[:] = []
            continue
        if "src" not in parts:
            continue
        for f in filenames:
            if f.endswith(".rs"):
                yield os.path.join(dirpath, f)


def is_test_file(path):
    base = os.path.basename(path)
    return base == "tests.rs" or base.endswith("_tests.rs")


def long_functions(path, text, threshold):
    spans = test_spans(text)
    found = []
    for m in re.finditer(r"\bfn\s+([A-Za-z_][A-Za-z0-9_]*)", text):
        if inside(m.start(), spans):
            continue
        # The body starts at the first `{` at bracket depth 0 after the name;
        # a `;` first means a declaration without a body.
        depth, j = 0, m.end()
        while j < len(text):
            ch = text[j]
            if ch in "([<":
                depth += 1
            elif ch in ")]>":
                depth -= 1 if text[j - 1] != "-" else 0
            elif ch == ";" and depth <= 0:
                j = -1
                break
            elif ch == "{" and depth <= 0:
                break
            j += 1
        if j < 0 or j >= len(text):
            continue
        end = match_brace(text, j)
        lines = text.count("\n", j, end) + 1
        if lines > threshold:
            found.append((lines, m.group(1), text.count("\n", 0, m.start()) + 1))
    return found


# ------------------------------------------------------------------ modules

def crate_of(path):
    rel = os.path.relpath(path, ROOT).split(os.sep)
    i = rel.index("src")
    return os.sep.join(rel[:i]) or ".", rel[i + 1:]


def module_path(rest):
    """src-relative file parts -> module path tuple (lib.rs/main.rs/mod.rs -> parent)."""
    parts = list(rest)
    last = parts.pop()[:-3]
    if last not in ("lib", "main", "mod"):
        parts.append(last)
    return tuple(parts)


def expand_use(tree):
    """`a::{b, c::d}` -> ['a::b', 'a::c::d'] (textual)."""
    tree = re.sub(r"\s+", "", tree)
    m = re.match(r"^(.*?)\{(.*)\}$", tree)
    if not m:
        return [tree]
    prefix, inner = m.group(1), m.group(2)
    items, depth, cur = [], 0, ""
    for ch in inner:
        if ch == "," and depth == 0:
            items.append(cur)
            cur = ""
            continue
        depth += ch == "{"
        depth -= ch == "}"
        cur += ch
    items.append(cur)
    out = []
    for it in items:
        if it:
            out.extend(prefix + p for p in expand_use(it))
    return out


def resolve(mod, path, modules, reexports=None):
    segs = [s for s in path.split("::") if s]
    if not segs:
        return None
    if segs[0] == "crate":
        base, segs = (), segs[1:]
    elif segs[0] == "super":
        base = mod
        while segs and segs[0] == "super":
            base, segs = base[:-1], segs[1:]
    elif segs[0] == "self":
        base, segs = mod, segs[1:]
    else:
        return None
    target = base
    for i, s in enumerate(segs):
        if target + (s,) in modules:
            target = target + (s,)
            continue
        # An item the module re-exports (`pub use inner::Item`) belongs to
        # the module that defines it.
        hop = (reexports or {}).get((target, s))
        if hop is not None and hop != target:
            target = hop
        break
    return target


def circles(files):
    crates = {}
    for path in files:
        crate, rest = crate_of(path)
        crates.setdefault(crate, {})[module_path(rest)] = path
    found = []
    for crate, modules in crates.items():
        reexports = {}
        for mod, path in modules.items():
            text = blank(open(path, encoding="utf-8").read())
            for m in re.finditer(r"\bpub(?:\([a-z]+\))?\s+use\s+([^;]+);", text):
                for p in expand_use(m.group(1)):
                    p = p.split(" as ")
                    name = (p[1] if len(p) > 1 else p[0].split("::")[-1]).strip()
                    src = p[0]
                    if not src.startswith(("crate", "super", "self")):
                        src = "self::" + src
                    t = resolve(mod, src, modules)
                    if t is not None:
                        reexports[(mod, name)] = t
        edges = {}
        for mod, path in modules.items():
            text = blank(open(path, encoding="utf-8").read())
            spans = test_spans(text)
            targets = set()
            for m in re.finditer(r"\buse\s+([^;]+);", text):
                if inside(m.start(), spans):
                    continue
                for p in expand_use(m.group(1)):
                    targets.add(resolve(mod, p.split(" as ")[0], modules, reexports))
            for m in re.finditer(r"(?<![A-Za-z0-9_:])((?:crate|super|self)(?:::[A-Za-z_][A-Za-z0-9_]*)+)", text):
                if not inside(m.start(), spans):
                    targets.add(resolve(mod, m.group(1), modules, reexports))
            edges[mod] = {
                t for t in targets
                if t is not None and t != mod and t[:len(mod)] != mod and mod[:len(t)] != t
            }
        for a in edges:
            for b in edges[a]:
                if a < b and a in edges.get(b, ()):
                    found.append((crate, "::".join(a) or "(root)", "::".join(b) or "(root)"))
    return found


def main():
    listing = "--list" in sys.argv
    files = sorted(rust_files())
    bad = 0
    for path in files:
        rel = os.path.relpath(path, ROOT)
        raw = open(path, encoding="utf-8").read()
        text = blank(raw)
        lines = raw.count("\n")
        if lines > MAX_MODULE and not is_test_file(path):
            print(f"module over {MAX_MODULE} lines: {rel} ({lines})")
            bad += 1
        if is_test_file(path):
            continue
        for n, name, line in long_functions(path, text, 60 if listing else MAX_FN):
            over = n > MAX_FN
            print(f"{'function over %d lines' % MAX_FN if over else 'long function'}: {rel}:{line} {name} ({n})")
            bad += over
    for crate, a, b in circles(files):
        print(f"circle in {crate}: {a} <-> {b}")
        bad += 1
    print(f"structure: {len(files)} files, {bad} violation(s)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
