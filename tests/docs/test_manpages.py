"""The man pages, rendered by man(1) from the repository's share/man, list every option."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from storescu.cli.docgen import scp_parser
from storescu.cli.exitcodes import ExitCode
from storescu.cli.table import OPTION_TABLE
from storescu.kernel.version import __version__

ROOT = Path(__file__).resolve().parents[2]


def render(page: str, manpath: Path = ROOT / "share/man") -> str:
    """``man -M MANPATH page`` as plain text (what a user reads)."""
    man = shutil.which("man")
    assert man, "man is missing: scripts/test.sh installs man-db"
    env = {**os.environ, "MANWIDTH": "100", "MANPAGER": "cat", "PAGER": "cat", "LC_ALL": "C.UTF-8"}
    result = subprocess.run(
        [man, "-M", str(manpath), page], capture_output=True, text=True, env=env, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return re.sub(r".\x08", "", result.stdout)  # no overstrike bold


def _entries(text: str) -> set[str]:
    """Every option spelling that starts an entry line (``-aet AETITLE, --aetitle AETITLE``)."""
    found: set[str] = set()
    for line in text.splitlines():
        stripped = line.strip()
        if line.startswith("       ") and not line.startswith("        ") and stripped[:1] in "-+":
            for part in stripped.split(", "):
                found.add(part.split()[0])
    return found


def test_storescu_page_lists_every_option() -> None:
    text = render("storescu")
    assert text.splitlines()[0].split() == ["STORESCU(1)", "User", "Commands", "STORESCU(1)"]
    assert f"storescu {__version__}" in text.splitlines()[-1]
    spellings = {s for row in OPTION_TABLE for s in row.spellings}
    assert spellings <= _entries(text), sorted(spellings - _entries(text))
    status = text.split("EXIT STATUS", 1)[1].split("ENVIRONMENT", 1)[0]
    codes = {line.split()[0] for line in status.splitlines() if line.startswith("       ") and
             not line.startswith("        ") and line.strip()}
    assert {str(int(code)) for code in ExitCode} | {"N"} <= codes


def test_hyphens_are_ascii() -> None:
    # \- in the source: copied options must work in a shell (groff's "-" is U+2010)
    text = render("storescu")
    assert "--aetitle" in text and "\u2010" not in text


def test_scp_page_lists_every_option() -> None:
    text = render("storescu-scp")
    assert text.startswith("STORESCU-SCP(1)")
    spellings = {s for action in scp_parser()._actions for s in action.option_strings}
    assert spellings <= _entries(text), sorted(spellings - _entries(text))
