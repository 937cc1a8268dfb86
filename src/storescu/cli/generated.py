"""The generated files that ship in the wheel: man pages and completion scripts.

``python -m storescu.cli.generated --write`` regenerates them from the option
tables (``share/man/man1``, ``share/bash-completion``, ``share/zsh`` in the
repository, mapped by ``pyproject.toml``'s data-files); ``--check`` exits 1 when
one differs from what the code generates (``scripts/test.sh`` runs it, and
``tests/docs`` compares the bytes).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Final

from storescu.cli import completion, manpage

# -------------------------------------------------------------- shipped files

#: Files that ship in the wheel (pyproject ``data-files``), relative to the repository.
SHIPPED: Final[tuple[str, ...]] = (
    "share/man/man1/storescu.1",
    "share/man/man1/storescu-scp.1",
    "share/bash-completion/completions/storescu",
    "share/bash-completion/completions/storescu-scp",
    "share/zsh/site-functions/_storescu",
)


def generate(path: str) -> str:
    """The text of shipped file `path` (one of :data:`SHIPPED`), generated from the code."""
    generators: dict[str, Callable[[], str]] = {
        "share/man/man1/storescu.1": manpage.storescu_page,
        "share/man/man1/storescu-scp.1": manpage.scp_page,
        "share/bash-completion/completions/storescu": lambda: completion.script("bash"),
        # bash-completion loads a file per command name; one script serves both.
        "share/bash-completion/completions/storescu-scp": lambda: completion.script("bash"),
        "share/zsh/site-functions/_storescu": lambda: completion.script("zsh"),
    }
    return generators[path]()


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m storescu.cli.generated --write|--check [ROOT]``."""
    parser = argparse.ArgumentParser(prog="python -m storescu.cli.generated")
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", action="store_true", help="regenerate the shipped files")
    mode.add_argument("--check", action="store_true", help="exit 1 if one differs")
    parser.add_argument("root", nargs="?", default=".", help="the repository (default: .)")
    args = parser.parse_args(argv)
    root = Path(args.root)
    stale = []
    for relative in SHIPPED:
        target = root / relative
        text = generate(relative)
        current = target.read_text(encoding="utf-8") if target.exists() else None
        if current == text:
            continue
        if args.write:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
            print(f"wrote {target}")
        else:
            stale.append(relative)
    for relative in stale:
        print(f"{relative} is out of date: run python -m storescu.cli.generated --write")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
