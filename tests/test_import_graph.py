"""No import circle among the project's modules, read from the source (nothing is imported).

The graph: one node per module of the packages `videoad` and `extract` (a package's
`__init__` is the package's own node); an edge for every import executed when the module is
imported: module level, class bodies, `try` blocks; not inside functions, not under
`if TYPE_CHECKING:`, not under `if __name__ == "__main__":`. `from a.b import c` is an edge to
`a.b.c` when that is a module, else to `a.b`; relative imports resolve against the module's
package. Also checked: no circle even counting the imports inside functions, and `extract`
never imports `videoad`, at any level.
"""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("videoad", "extract")


def project_modules() -> dict[str, Path]:
    mods = {}
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            mods[".".join(parts)] = path
    return mods


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _is_main_guard(test: ast.expr) -> bool:
    return (isinstance(test, ast.Compare) and isinstance(test.left, ast.Name) and test.left.id == "__name__"
            and any(isinstance(c, ast.Constant) and c.value == "__main__" for c in test.comparators))


def import_time_imports(tree: ast.Module, *, all_levels: bool = False):
    """The Import / ImportFrom nodes run when the module is imported (all of them with `all_levels`)."""
    out = []

    def visit(node):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                out.append(child)
            elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)) and not all_levels:
                continue
            elif isinstance(child, ast.If) and not all_levels and (_is_type_checking(child.test)
                                                                   or _is_main_guard(child.test)):
                visit_list(child.orelse)
            else:
                visit(child)

    def visit_list(nodes):
        for n in nodes:
            holder = ast.Module(body=[n], type_ignores=[])
            visit(holder)

    visit(tree)
    return out


def _resolve(name: str, mods: dict) -> str | None:
    """The project module `name` is, or the longest project module it lies in."""
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in mods:
            return candidate
        parts.pop()
    return None


def edges_of(module: str, path: Path, mods: dict, *, all_levels: bool = False) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    is_pkg = path.name == "__init__.py"
    out = set()
    for node in import_time_imports(tree, all_levels=all_levels):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        else:
            if node.level:
                base = module.split(".") if is_pkg else module.split(".")[:-1]
                base = base[:len(base) - (node.level - 1)] if node.level > 1 else base
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            targets = [f"{prefix}.{a.name}" if f"{prefix}.{a.name}" in mods else prefix for a in node.names]
        for t in targets:
            r = _resolve(t, mods)
            if r is not None and r != module:
                out.add(r)
    return out


def import_graph(*, all_levels: bool = False) -> dict[str, set[str]]:
    mods = project_modules()
    return {m: edges_of(m, p, mods, all_levels=all_levels) for m, p in mods.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One concrete circle (a -> b -> ... -> a) per strongly connected component of 2+ modules."""
    index, low, stack, on, comps = {}, {}, [], set(), []
    counter = [0]

    def strong(v):  # Tarjan, iterative enough for this size through recursion
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                comps.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            strong(v)
    out = []
    for comp in comps:  # a shortest path back to the start, inside the component
        start, members = comp[0], set(comp)
        prev, frontier, found = {start: None}, [start], None
        while frontier and found is None:
            nxt = []
            for v in frontier:
                for w in sorted(graph[v] & members):
                    if w == start:
                        found = v
                        break
                    if w not in prev:
                        prev[w] = v
                        nxt.append(w)
                if found is not None:
                    break
            frontier = nxt
        path, v = [], found
        while v is not None:
            path.append(v)
            v = prev[v]
        out.append(path[::-1] + [start])
    return out


def test_the_graph_reader_on_a_known_example(tmp_path):
    src = ("from __future__ import annotations\nfrom typing import TYPE_CHECKING\nimport videoad.scores\n"
           "from videoad.detector import base, registry\nfrom . import events\nfrom .bench import common as c\n"
           "if TYPE_CHECKING:\n    import videoad.report\nelse:\n    import videoad.metrics\n"
           "def f():\n    import videoad.plots\nclass K:\n    import videoad.footage\n"
           "if __name__ == '__main__':\n    import videoad.live\n")
    path = tmp_path / "m.py"
    path.write_text(src)
    got = edges_of("videoad.somewhere", path, project_modules())
    assert got == {"videoad.scores", "videoad.detector.base", "videoad.detector.registry", "videoad.events",
                   "videoad.bench.common", "videoad.metrics", "videoad.footage"}
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]


def test_no_import_circle_in_the_packages():
    found = cycles(import_graph())
    assert not found, "import circle(s) among the project's modules:\n" + "\n".join(
        "  " + " -> ".join(c) for c in found)


def test_no_import_circle_even_through_imports_inside_functions():
    """Stricter: a lazy import inside a function does not break a circle of design (the
    persistence <-> DUAD and clustering <-> Distribution Clustering pairs were such): modules
    that must find each other do it through a registry of "module:Class" names."""
    found = cycles(import_graph(all_levels=True))
    assert not found, "import circle(s), counting imports inside functions:\n" + "\n".join(
        "  " + " -> ".join(c) for c in found)


def test_extract_never_imports_videoad():
    mods = project_modules()
    bad = sorted(f"{m} -> {t}" for m, p in mods.items() if m.split(".")[0] == "extract"
                 for t in edges_of(m, p, mods, all_levels=True) if t.split(".")[0] == "videoad")
    assert not bad, "extract imports videoad: " + ", ".join(bad)
