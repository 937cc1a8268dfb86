"""The package's shape: layers, no import cycles, small modules and functions.

docs/ARCHITECTURE.md describes the layers; ``lint-imports`` (pyproject's
``[tool.importlinter]``) checks the contracts in CI. These tests check what
import-linter does not: no cycle between any two modules (function-level and
``TYPE_CHECKING`` imports included: a cycle is broken by design, not by hiding
an import in a function), no module over 800 lines and no function over 100
lines (a table that is nothing but data rows is exempt), and that the old
import paths of the public names still work.
"""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

import storescu

PACKAGE = Path(storescu.__file__).resolve().parent
MAX_MODULE_LINES = 800
MAX_FUNCTION_LINES = 100
LAYERS = ("kernel", "protocol", "dataset", "net", "run", "scp", "cli")


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _strongly_connected(edges: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative; components of more than one module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def _import_edges() -> dict[str, set[str]]:
    graph = grimp.build_graph("storescu")
    return {
        module: {m for m in graph.find_modules_directly_imported_by(module) if m != module}
        for module in graph.modules
    }


def test_no_import_cycle() -> None:
    cycles = _strongly_connected(_import_edges())
    assert not cycles, f"import cycles: {cycles}"


def test_cycle_finder_is_not_vacuous() -> None:
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _strongly_connected(edges) == [["a", "b", "c"]]


def test_layers_are_folders() -> None:
    for layer in LAYERS:
        assert (PACKAGE / layer / "__init__.py").is_file(), layer


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_module_size(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_MODULE_LINES, f"{path.relative_to(PACKAGE)}: {lines} lines"


def _is_data_table(node: ast.AST) -> bool:
    """A function whose body is one return/assignment of literal rows (no logic)."""
    body = getattr(node, "body", [])
    body = [s for s in body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
    if len(body) != 1 or not isinstance(body[0], ast.Return | ast.Assign | ast.AnnAssign):
        return False
    value = body[0].value
    logic = (ast.If, ast.For, ast.While, ast.With, ast.Try, ast.Lambda, ast.comprehension)
    return value is not None and not any(isinstance(n, logic) for n in ast.walk(value))


def _long_functions(path: Path, root: Path = PACKAGE) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    long = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            assert node.end_lineno is not None
            length = node.end_lineno - node.lineno + 1
            if length > MAX_FUNCTION_LINES and not _is_data_table(node):
                long.append(f"{path.relative_to(root)}:{node.lineno} {node.name}: {length}")
    return long


def test_function_size() -> None:
    long = [entry for path in _modules() for entry in _long_functions(path)]
    assert not long, "functions over 100 lines:\n" + "\n".join(long)


def test_function_size_check_is_not_vacuous(tmp_path: Path) -> None:
    rows = ",\n".join(f"        ({i}, 'row')" for i in range(MAX_FUNCTION_LINES))
    logic = "\n".join(f"    x{i} = {i}" for i in range(MAX_FUNCTION_LINES))
    (tmp_path / "table.py").write_text(f"def rows():\n    return [\n{rows}\n    ]\n")
    (tmp_path / "logic.py").write_text(f"def f():\n{logic}\n")
    assert _long_functions(tmp_path / "table.py", tmp_path) == []
    assert _long_functions(tmp_path / "logic.py", tmp_path) == ["logic.py:1 f: 101"]


#: Old module paths of the public names (before the layout): they stay importable
#: and are the very same module objects.
OLD_PATHS = {
    "storescu.client": "storescu.net.client",
    "storescu.sender": "storescu.run.sender",
    "storescu.status": "storescu.protocol.status",
    "storescu.tls": "storescu.net.tls",
    "storescu.inputs": "storescu.run.inputs",
    "storescu.report": "storescu.run.report",
    "storescu.rewrite": "storescu.dataset.rewrite",
    "storescu.conversion": "storescu.dataset.conversion",
    "storescu.asconfig": "storescu.run.asconfig",
    "storescu.errors": "storescu.kernel.errors",
    "storescu.constants": "storescu.kernel.constants",
}


@pytest.mark.parametrize("old", sorted(OLD_PATHS))
def test_old_import_paths(old: str) -> None:
    code = (
        f"import importlib, {old} as old\n"
        f"new = importlib.import_module({OLD_PATHS[old]!r})\n"
        "assert old is new, (old, new)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_public_names_resolve() -> None:
    for name in storescu.__all__:
        assert getattr(storescu, name) is not None
    from storescu.client import AssociationSettings
    from storescu.scp import StoreSCP

    assert AssociationSettings is storescu.AssociationSettings
    assert StoreSCP is storescu.StoreSCP
    assert importlib.import_module("storescu.scp.server").StoreSCP is StoreSCP
