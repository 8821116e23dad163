"""The package's shape: no import cycle, prefixes written in one place, no private imports.

The import graph is read from the source with :mod:`ast`, so an import inside a
function counts as much as one at the top of a module: a cycle cannot hide in
a function body. A module's edge goes to the module it names (``from kg.ingest.inputs
import x`` is an edge to ``kg.ingest.inputs``, not to the package ``kg.ingest``).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import networkx as nx
import pytest

KG = Path(__file__).resolve().parent.parent / "kg"


def _modules() -> dict[str, tuple[Path, bool]]:
    out = {}
    for path in sorted(KG.rglob("*.py")):
        parts = list(path.relative_to(KG.parent).with_suffix("").parts)
        package = parts[-1] == "__init__"
        if package:
            parts = parts[:-1]
        out[".".join(parts)] = (path, package)
    return out


def _imports(name: str, path: Path, package: bool, modules) -> list[tuple[str, str, int]]:
    """``(imported module, imported name or "", line)`` for every kg import in ``path``."""
    here = name if package else name.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(a.name, "", node.lineno) for a in node.names if a.name.split(".")[0] == "kg"]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here.split(".")[: len(here.split(".")) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if mod.split(".")[0] != "kg":
                continue
            for a in node.names:
                sub = f"{mod}.{a.name}"
                found.append((sub, "", node.lineno) if sub in modules else (mod, a.name, node.lineno))
    return found


def import_graph() -> nx.DiGraph:
    """The graph of kg's modules, an edge from each module to every kg module it imports."""
    modules = _modules()
    G = nx.DiGraph()
    G.add_nodes_from(modules)
    for name, (path, package) in modules.items():
        for mod, _name, line in _imports(name, path, package, modules):
            assert mod in modules, f"{path}:{line} imports {mod}, which does not exist"
            if mod != name:
                G.add_edge(name, mod, line=line)
    return G


def test_import_graph_is_read_with_function_level_imports():
    G = import_graph()
    assert G.has_edge("kg.cli", "kg.store")  # imported inside click commands only
    assert G.has_edge("kg.store", "kg.remote")  # open_store's import inside the function
    assert len(G) > 40


def test_no_import_cycle():
    G = import_graph()
    cycles = [c for c in nx.simple_cycles(G) if len(c) <= 8]
    described = [" -> ".join(c + [c[0]]) for c in cycles[:10]]
    assert not cycles, "import cycles in kg/:\n" + "\n".join(described)


def test_no_module_imports_another_modules_private_names():
    modules = _modules()
    bad = []
    for name, (path, package) in modules.items():
        for mod, imported, line in _imports(name, path, package, modules):
            if imported.startswith("_") and not imported.startswith("__") and mod != name:
                bad.append(f"{path.relative_to(KG.parent)}:{line} imports {mod}.{imported}")
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("path", sorted(p for p in KG.rglob("*.py") if p.name != "namespaces.py"),
                         ids=lambda p: str(p.relative_to(KG.parent)))
def test_sparql_prefixes_are_written_only_in_namespaces(path):
    """``PREFIX x: <...>`` lines come from ``kg.namespaces`` (saved .rq files keep theirs)."""
    text = path.read_text(encoding="utf-8")
    hits = [m.group(0) for m in re.finditer(r"PREFIX\s+[A-Za-z][\w-]*:\s*[<\"'{+]", text)]
    assert not hits, f"{path}: hand-written PREFIX {hits}; use kg.namespaces.SPARQL_PREFIXES"


def test_prefix_check_would_catch_a_hand_written_block():
    pattern = r"PREFIX\s+[A-Za-z][\w-]*:\s*[<\"'{+]"
    assert re.search(pattern, '"PREFIX sp: <" + SP + ">"')
    assert re.search(pattern, 'f"PREFIX sp: <{SP}>"')
    assert re.search(pattern, "PREFIX owl: <http://www.w3.org/2002/07/owl#>")


def _readme_layers() -> list[list[str]]:
    """The rows of the layer picture in README.md's Design section (top row first)."""
    text = (KG.parent / "README.md").read_text(encoding="utf-8")
    design = text.split("## Design", 1)[1]
    block = design.split("```text\n", 1)[1].split("```", 1)[0]
    rows = []
    for line in block.splitlines():
        names = line.split("  ", 1)[0].split()
        rows.append(["kg" if n == "kg" else f"kg.{n}" for n in names])
    return rows


def test_readme_layers_match_the_import_graph():
    rows = _readme_layers()
    G = import_graph()
    top = {m: ".".join(m.split(".")[:2]) for m in G}  # kg.claims.checks -> kg.claims
    layer = {name: len(rows) - i for i, row in enumerate(rows) for name in row}
    assert sorted(layer) == sorted(set(top.values())), "README's layers must name every module"
    upward = [f"{a} -> {b}" for a, b in G.edges
              if top[a] != top[b] and layer[top[a]] < layer[top[b]]]
    assert not upward, "imports that reach up a layer:\n" + "\n".join(sorted(upward))


def test_no_function_over_80_lines_without_a_reason():
    """A function over 80 lines says why in its docstring (``Long on purpose: ...``)."""
    long = []
    for path in sorted(KG.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                size = node.end_lineno - node.lineno + 1
                if size > 80 and "Long on purpose:" not in (ast.get_docstring(node) or ""):
                    long.append(f"{path.relative_to(KG.parent)}:{node.lineno} {node.name} ({size} lines)")
    assert not long, "\n".join(long)
