#!/usr/bin/env python3
"""Measures the module dependency graph of the lienthong crate (issue #12, "Measures").

Reads every `crate::...` path (in `use` trees, brace groups included, and in expressions),
every `super::`/`self::` path, and `lienthong::...` in src/main.rs, with comments and
string literals removed, and prints:

  - the dependency graph between top-level modules of src/ (or between files: --files),
    each edge with how many references make it;
  - the strongly connected components of more than one node (import cycles);
  - the edges that point up against LAYERS below, the layer order of docs/DESIGN.md
    ("Module map"), with the references behind each.

It measures; it is not a gate: the exit status is 0 whatever it finds (2 for bad usage).

    python3 scripts/module-deps.py            # top-level modules
    python3 scripts/module-deps.py --files    # one node per file (module path)
    python3 scripts/module-deps.py --self-test

Standard library only.
"""

import argparse
import os
import re
import sys
from collections import defaultdict

# The layer order of docs/DESIGN.md, "Module map", lowest first. A module may import from
# its own layer and the layers below; an import of a higher layer is an "up" edge. Keep
# this list and the table in DESIGN.md the same.
LAYERS = [
    ("foundation", ["model", "xml", "libxml2", "percent", "problem"]),
    ("soap vocabulary", ["soap", "target"]),
    ("configuration", ["config"]),
    ("contracts", ["wsdl"]),
    ("message layers", ["schema", "wssec", "audit"]),
    ("mapping", ["mapping"]),
    ("transport", ["net"]),
    ("catalogue", ["registry"]),
    ("pipeline", ["pipeline"]),
    ("front ends", ["server", "web", "providers"]),
    ("application", ["app", "reload"]),
    ("command line", ["cli"]),
    ("binary", ["main"]),
]

ROOT = "(crate root)"


# --- source text -------------------------------------------------------------------------

def strip(src):
    """The source with comments, string and char literals blanked (newlines kept)."""
    out = []
    i, n = 0, len(src)
    while i < n:
        c = src[i]
        if src.startswith("//", i):
            j = src.find("\n", i)
            i = n if j < 0 else j
        elif src.startswith("/*", i):
            depth, i = 1, i + 2
            while i < n and depth:
                if src.startswith("/*", i):
                    depth, i = depth + 1, i + 2
                elif src.startswith("*/", i):
                    depth, i = depth - 1, i + 2
                else:
                    if src[i] == "\n":
                        out.append("\n")
                    i += 1
        elif c == "r" and re.match(r'r#*"', src[i:i + 260]) and _raw_start(src, i):
            m = re.match(r'r(#*)"', src[i:])
            end = src.find('"' + m.group(1), i + len(m.group(0)))
            end = n if end < 0 else end + 1 + len(m.group(1))
            out.append("\n" * src.count("\n", i, end) + '""')
            i = end
        elif c == '"':
            j = i + 1
            while j < n and src[j] != '"':
                j += 2 if src[j] == "\\" else 1
            out.append("\n" * src.count("\n", i, j) + '""')
            i = j + 1
        elif c == "'":
            # A char literal ('a', '\n', '\u{1F600}'), or a lifetime ('a), which is kept.
            m = re.match(r"'(\\(u\{[0-9a-fA-F]+\}|x[0-9a-fA-F]{2}|.)|[^\\'])'", src[i:i + 12])
            if m:
                out.append("' '")
                i += len(m.group(0))
            else:
                out.append(c)
                i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _ident_char(s, i):
    return 0 <= i < len(s) and (s[i].isalnum() or s[i] == "_")


def _raw_start(s, i):
    """True when the `r` at s[i] opens a raw string (`r"`, `r#"`, `br"`), not an identifier."""
    if s[i - 1:i] == "b":
        i -= 1
    return not _ident_char(s, i - 1)


TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|::|[{},*;]|\S")


def paths(src, crate_names=("crate",)):
    """Every path named in `src` that starts at the crate root or is relative to the
    current module, as (segments, inline, test): segments like ["crate", "a", "b"] or
    ["super", "x"] (`use` trees with braces expanded); `inline` the inline modules
    (`mod tests { ... }`) the path sits in, which `super` and `self` count from; `test`
    true inside a `#[cfg(test)]` module. Also returns the names of `#[cfg(test)] mod x;`
    declarations (whole files compiled for tests only)."""
    toks = TOKEN.findall(strip(src))
    found, test_files = [], []
    inline = []  # (brace depth at which the module's block closes, name, test)
    depth = 0

    def emit(path):
        if path:
            found.append((path, tuple(m for _, m, _ in inline), any(t for _, _, t in inline)))

    def tree(i, prefix):
        """Parses a use tree at toks[i]; returns the index after it."""
        path = list(prefix)
        while i < len(toks):
            t = toks[i]
            if t == "{":
                i += 1
                while i < len(toks) and toks[i] != "}":
                    i = tree(i, path)
                    if i < len(toks) and toks[i] == ",":
                        i += 1
                return i + 1
            if t == "*":
                emit(path)
                return i + 1
            if re.match(r"[A-Za-z_]", t):
                path.append(t)
                if i + 1 < len(toks) and toks[i + 1] == "::":
                    i += 2
                    continue
                emit(path)
                i += 1
                if i + 1 < len(toks) and toks[i] == "as":
                    i += 2
                return i
            emit(path)
            return i
        emit(path)
        return i

    starts = set(crate_names) | {"super", "self"}
    cfg_test = ["#", "[", "cfg", "(", "test", ")", "]"]
    pending_test = False
    i = 0
    while i < len(toks):
        t = toks[i]
        if toks[i:i + 7] == cfg_test:
            pending_test = True
            i += 7
            continue
        if t == "mod" and i + 2 < len(toks) and re.match(r"[A-Za-z_]", toks[i + 1]):
            if toks[i + 2] == "{":
                depth += 1
                inline.append((depth, toks[i + 1], pending_test))
                pending_test = False
                i += 3
                continue
            if toks[i + 2] == ";" and pending_test:
                test_files.append(toks[i + 1])
        if t == "{":
            depth += 1
            pending_test = False
        elif t == "}":
            if inline and inline[-1][0] == depth:
                inline.pop()
            depth -= 1
        elif t == ";":
            pending_test = False
        if (
            t in starts
            and i + 1 < len(toks)
            and toks[i + 1] == "::"
            and (i == 0 or toks[i - 1] != "::")
        ):
            i = tree(i, [])
            continue
        i += 1
    norm = [(["crate"] + p[1:] if p[0] in crate_names else p, m, test) for p, m, test in found]
    return norm, test_files


# --- modules -----------------------------------------------------------------------------

def module_of(rel):
    """src-relative file path -> module path (a tuple), or None for non-modules."""
    parts = rel.replace(os.sep, "/").split("/")
    if parts == ["lib.rs"]:
        return ()
    if parts == ["main.rs"]:
        return ("main",)
    if not parts[-1].endswith(".rs"):
        return None
    last = parts[-1][:-3]
    if last == "mod":
        return tuple(parts[:-1])
    return tuple(parts[:-1] + [last])


def resolve(segments, here, modules, inline=()):
    """A path's segments, written in module `here` inside the inline modules `inline`
    -> the longest known module it names, or None (an extern item)."""
    if not segments:
        return None
    if segments[0] == "crate":
        base, rest = (), segments[1:]
    else:
        # `self` is the current module; `super` is its parent. A file `a/b.rs` is the
        # module a::b, so `super` from it is `a`; from `a/mod.rs` (module a) it is the root.
        base, rest = tuple(here), list(segments)
        if here == ("main",):
            base = ()
        base += inline
        while rest and rest[0] in ("self", "super"):
            if rest[0] == "super":
                base = base[:-1]
            rest = rest[1:]
    full = base + tuple(rest)
    for k in range(len(full), -1, -1):
        if full[:k] in modules:
            return full[:k]
    return None


def collect(files, tests=True):
    """files: {src-relative path: source text} -> ({(from, to): [refs]}, modules) at file
    granularity, module paths as tuples. tests=False leaves out `#[cfg(test)]` modules,
    inline or in files of their own."""
    modules = {}
    for rel in files:
        m = module_of(rel)
        if m is not None:
            modules[m] = rel
    parsed, test_only = {}, set()
    for rel, src in files.items():
        here = module_of(rel)
        if here is None:
            continue
        names = ("crate", "lienthong") if here == ("main",) else ("crate",)
        parsed[rel] = paths(src, names)
        test_only.update(here + (child,) for child in parsed[rel][1])
    edges = defaultdict(list)
    for rel in sorted(parsed):
        here = module_of(rel)
        if not tests and any(here[:k] in test_only for k in range(1, len(here) + 1)):
            continue
        for p, inline, test in parsed[rel][0]:
            if test and not tests:
                continue
            if here == ("main",) and p[0] != "crate":
                continue
            to = resolve(p, here, modules, inline)
            if to is None or to == here or to == () or to == ("main",):
                continue
            edges[(here, to)].append("::".join(p))
    return edges, modules


def name(m):
    return "::".join(m) if m else ROOT


def top(m):
    return m[0] if m else ROOT


def coarsen(edges):
    out = defaultdict(list)
    for (a, b), refs in edges.items():
        if top(a) != top(b):
            out[(top(a), top(b))].extend(refs)
    return out


# --- graph -------------------------------------------------------------------------------

def sccs(nodes, adj):
    """Tarjan's strongly connected components, iteratively (no recursion limit)."""
    index, low, on, stack, comps, counter = {}, {}, set(), [], [], [0]
    for root in sorted(nodes):
        if root in index:
            continue
        work = [(root, iter(sorted(adj.get(root, ()))))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on.add(root)
        while work:
            v, it = work[-1]
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter[0]
                    counter[0] += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(adj.get(w, ())))))
                    break
                if w in on:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on.discard(w)
                        comp.append(w)
                        if w == v:
                            break
                    comps.append(sorted(comp))
    return comps


def rank_of(layers):
    return {m: r for r, (_, mods) in enumerate(layers) for m in mods}


def up_edges(edges, layers, key=lambda n: n):
    """Edges (from, to) whose target sits in a higher layer than their source."""
    rank = rank_of(layers)
    return sorted(
        (e for e in edges if key(e[0]) in rank and key(e[1]) in rank
         and rank[key(e[1])] > rank[key(e[0])]),
        key=lambda e: (str(e[0]), str(e[1])),
    )


# --- report ------------------------------------------------------------------------------

def report(edges, layers, files_mode, out):
    if files_mode:
        shown = {(name(a), name(b)): r for (a, b), r in edges.items()}
        key = lambda n: n.split("::")[0]
    else:
        shown = dict(coarsen(edges))
        key = lambda n: n
    nodes = {n for e in shown for n in e}
    adj = defaultdict(set)
    for a, b in shown:
        adj[a].add(b)
    unknown = sorted({key(n) for n in nodes} - set(rank_of(layers)))

    out.write("# %s dependency graph (%d nodes, %d edges)\n"
              % ("file" if files_mode else "module", len(nodes), len(shown)))
    for a in sorted(adj):
        out.write("%s -> %s\n" % (a, ", ".join(
            "%s (%d)" % (b, len(shown[(a, b)])) for b in sorted(adj[a]))))

    cycles = [c for c in sccs(nodes, adj) if len(c) > 1]
    cycles.sort(key=lambda c: (-len(c), c))
    out.write("\n# cycles (strongly connected components): %d\n" % len(cycles))
    for c in cycles:
        out.write("%d: %s\n" % (len(c), ", ".join(c)))

    ups = up_edges(shown, layers, key)
    out.write("\n# edges pointing up against the layer order: %d (%d references)\n"
              % (len(ups), sum(len(shown[e]) for e in ups)))
    for a, b in ups:
        refs = sorted(set(shown[(a, b)]))
        more = " ..." if len(refs) > 4 else ""
        out.write("%s -> %s: %s%s\n" % (a, b, ", ".join(refs[:4]), more))
    if unknown:
        out.write("\n# modules missing from LAYERS (not counted): %s\n" % ", ".join(unknown))
    return cycles, ups


def read_tree(src_dir):
    files = {}
    for dirpath, _, names in os.walk(src_dir):
        for f in names:
            if f.endswith(".rs"):
                p = os.path.join(dirpath, f)
                with open(p, encoding="utf-8") as fh:
                    files[os.path.relpath(p, src_dir)] = fh.read()
    return files


# --- self-test ---------------------------------------------------------------------------

def self_test():
    files = {
        "lib.rs": "pub mod a;\npub mod b;\npub mod c;\n",
        "a.rs": "use crate::b::{self, Thing as T};\n// use crate::c::Commented;\n"
                'const S: &str = "crate::c::InAString";\nfn f() -> char { \'"\' }\n',
        "b/mod.rs": "pub mod inner;\npub use self::inner::X;\nfn g() { crate::a::f(); }\n",
        "b/inner.rs": "use super::super::c::{deep::{Y, Z}, *};\nfn h<'a>(x: &'a str) {}\n",
        "c/mod.rs": "pub mod deep;\n/* crate::a::Blocked /* nested */ */\n",
        "c/deep.rs": 'fn k() { let _ = r#"crate::a"#; let _ = br"crate::b\\"; }\n'
                     "#[cfg(test)]\nmod tests {\n    use super::super::super::a;\n}\n",
        "main.rs": "use lienthong::a;\nfn main() { lienthong::c::deep::k(); }\n",
    }
    edges, modules = collect(files)
    assert set(modules) == {(), ("a",), ("b",), ("b", "inner"), ("c",), ("c", "deep"),
                            ("main",)}, modules
    got = {(name(a), name(b)) for a, b in edges}
    want = {("a", "b"), ("b", "b::inner"), ("b", "a"), ("b::inner", "c"),
            ("b::inner", "c::deep"), ("main", "a"), ("main", "c::deep"), ("c::deep", "a")}
    assert got == want, got ^ want
    # `super` counts from the inline test module; without tests that edge goes.
    lib_only = {(name(a), name(b)) for a, b in collect(files, tests=False)[0]}
    assert lib_only == want - {("c::deep", "a")}, lib_only
    top_edges = coarsen(edges)
    assert set(top_edges) == {("a", "b"), ("b", "a"), ("b", "c"), ("c", "a"), ("main", "a"),
                              ("main", "c")}, set(top_edges)
    layers = [("low", ["c"]), ("mid", ["a"]), ("high", ["b"]), ("bin", ["main"])]
    assert up_edges(top_edges, layers) == [("a", "b"), ("c", "a")]
    adj = defaultdict(set)
    for a, b in top_edges:
        adj[a].add(b)
    comps = [c for c in sccs({n for e in top_edges for n in e}, adj) if len(c) > 1]
    assert comps == [["a", "b", "c"]], comps
    assert paths("fn x() { self.y; Self::z(); x::crate::q; }") == ([], [])
    assert paths("use crate::{a::{b, c as d}, e};")[0] == [
        (["crate", "a", "b"], (), False), (["crate", "a", "c"], (), False),
        (["crate", "e"], (), False)]
    assert paths("#[cfg(test)]\nmod t;\nmod u;") == ([], ["t"])
    print("self-test passed")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--files", action="store_true", help="one node per file")
    ap.add_argument("--no-tests", action="store_true",
                    help="leave out #[cfg(test)] modules (what the library itself imports)")
    ap.add_argument("--self-test", action="store_true", help="run the built-in checks")
    ap.add_argument("--src", default=os.path.join(os.path.dirname(__file__), "..", "src"),
                    help="the crate's src/ directory (default: ../src from this script)")
    args = ap.parse_args()
    if args.self_test:
        self_test()
        return 0
    edges, _ = collect(read_tree(args.src), tests=not args.no_tests)
    report(edges, LAYERS, args.files, sys.stdout)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:
        sys.exit(0)
