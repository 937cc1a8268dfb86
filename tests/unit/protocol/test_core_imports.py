"""The sans-IO core stays sans-IO (DESIGN.md section 2).

The core (PDU codec, state machine, association, DIMSE, statuses, negotiation,
constants, errors) must not do I/O, keep time, start threads or configure
logging: it takes bytes and returns bytes. Two checks:

* at run time, a fresh interpreter imports only the core and we compare
  ``sys.modules`` with a bare interpreter's (Python preloads some modules at
  start-up, e.g. ``time`` or ``threading`` through site hooks; only modules that
  appear because of the core are blamed);
* statically, every ``import`` statement in the core files is checked, which
  also catches modules that happen to be preloaded.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

import storescu

#: The sans-IO core: the protocol layer and the shared kernel below it.
CORE = [
    "protocol/pdu",
    "protocol/state",
    "protocol/association",
    "protocol/dimse",
    "protocol/status",
    "protocol/negotiation",
    "protocol/planning",
    "kernel/syntaxes",
    "kernel/constants",
    "kernel/errors",
    "kernel/version",
]
CORE_MODULES = [f"storescu.{name.replace('/', '.')}" for name in CORE]
#: Not protocol code but the core's building blocks, like the standard library's
#: dataclasses: the core may import them (storescu.kernel.records keeps a compiled-code
#: cache on disk, so it is not held to the core's no-I/O rules).
HELPERS = {"storescu.kernel.records"}
#: The core's own packages (``from storescu.protocol import pdu``).
PACKAGES = {"storescu.kernel", "storescu.protocol"}
PACKAGE_DIR = Path(storescu.__file__).resolve().parent

#: Must never be loaded because of the core (checked at run time).
FORBIDDEN_RUNTIME = {
    "socket",
    "ssl",
    "select",
    "selectors",
    "asyncio",
    "threading",
    "argparse",
    "pydicom",
    "logging.config",
    "subprocess",
    "multiprocessing",
    "concurrent.futures",
}

#: Top-level modules the core files must not import (checked in the source).
FORBIDDEN_STATIC = {
    "socket",
    "ssl",
    "select",
    "selectors",
    "asyncio",
    "threading",
    "_thread",
    "multiprocessing",
    "concurrent",
    "subprocess",
    "time",
    "argparse",
    "os",
    "io",
    "pathlib",
    "shutil",
    "tempfile",
    "mmap",
    "signal",
    "pydicom",
    "pynetdicom",
}

_LIST_MODULES = "import sys, json; {imports}print(json.dumps(sorted(sys.modules)))"


def loaded_modules(imports: list[str]) -> set[str]:
    code = _LIST_MODULES.format(imports="".join(f"import {m}; " for m in imports))
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    return set(json.loads(result.stdout))


@pytest.fixture(scope="module")
def baseline() -> set[str]:
    return loaded_modules([])


def test_runtime_imports_of_the_core(baseline: set[str]) -> None:
    after = loaded_modules(CORE_MODULES)
    added = after - baseline
    assert set(CORE_MODULES) <= after
    blamed = {
        name
        for name in added
        if name in FORBIDDEN_RUNTIME or name.split(".")[0] in FORBIDDEN_RUNTIME
    }
    assert not blamed, f"the sans-IO core imported {sorted(blamed)}"
    # Layering: no driver, source or CLI module comes along with the core.
    upper = (
        {name for name in added if name.startswith("storescu.")}
        - set(CORE_MODULES)
        - HELPERS
        - PACKAGES
    )
    assert not upper, f"the core pulled in higher layers: {sorted(upper)}"


@pytest.mark.parametrize("module", CORE_MODULES)
def test_each_core_module_alone(module: str, baseline: set[str]) -> None:
    added = loaded_modules([module]) - baseline
    assert not {n for n in added if n.split(".")[0] in FORBIDDEN_RUNTIME}
    assert {n for n in added if n.startswith("storescu.")} <= set(CORE_MODULES) | HELPERS | PACKAGES


def imported_names(path: Path) -> list[tuple[int, str]]:
    """Every module named by an import statement in ``path`` (absolute names)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative import: resolve against the package
                base = "storescu" if not node.module else f"storescu.{node.module}"
                names += [(node.lineno, f"{base}.{a.name}") for a in node.names]
                if node.module:
                    names.append((node.lineno, base))
            else:
                assert node.module is not None
                names.append((node.lineno, node.module))
                if node.module == "storescu":  # ``from storescu import pdu``
                    names += [(node.lineno, f"storescu.{a.name}") for a in node.names]
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "__import__":
            names.append((node.lineno, "__import__"))
    return names


@pytest.mark.parametrize("name", CORE)
def test_static_imports_of_core_files(name: str) -> None:
    path = PACKAGE_DIR / f"{name}.py"
    bad = []
    for lineno, module in imported_names(path):
        top = module.split(".")[0]
        if top in FORBIDDEN_STATIC or module in ("logging.config", "importlib", "__import__"):
            bad.append(f"{path.name}:{lineno}: {module}")
        # Within the package, the core imports only the core.
        if top == "storescu" and module != "storescu":
            inner = ".".join(module.split(".")[:3])
            if inner not in CORE_MODULES and inner not in HELPERS and inner not in PACKAGES:
                bad.append(f"{path.name}:{lineno}: {module} (higher layer)")
    assert not bad, "forbidden imports in the sans-IO core:\n" + "\n".join(bad)


def test_no_open_or_print_calls_in_core() -> None:
    """No file access and no printing: the CLI is the only place that talks to people."""
    offenders = []
    for name in CORE:
        path = PACKAGE_DIR / f"{name}.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) in (
                "open",
                "print",
                "input",
                "exec",
                "eval",
            ):
                offenders.append(f"{path.name}:{node.lineno}: {node.func.id}()")  # type: ignore[attr-defined]
    assert not offenders, offenders


def test_static_check_catches_a_forbidden_import(tmp_path: Path) -> None:
    """The checker itself works (a guard against a vacuous pass)."""
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import socket\nfrom os import path\nfrom .client import X\nimport logging.config\n"
        "from storescu import sources\n"
    )
    modules = [m for _, m in imported_names(sample)]
    assert "storescu.sources" in modules
    assert "socket" in modules
    assert "os" in modules
    assert "storescu.client" in modules
    assert "logging.config" in modules


def test_runtime_check_is_not_vacuous(baseline: set[str]) -> None:
    """A forbidden module imported in the child does show up as added."""
    assert "asyncio" not in baseline
    assert "asyncio" in loaded_modules(["asyncio"]) - baseline
