"""The docs' examples work: Python blocks run, command lines parse, the TLS walkthrough runs.

Python blocks of a page run in order, in one namespace, in a temporary directory
(they start the project's SCP themselves). Every ``storescu`` / ``storescu-scp``
command line of a shell block is parsed by the real parser, so a renamed or
removed option fails here.
"""

from __future__ import annotations

import contextlib
import io
import re
import shlex
import subprocess
from pathlib import Path

import pytest

from storescu.cli.docgen import scp_parser
from storescu.cli.options import InfoRequest, Options
from storescu.cli.parser import parse_args

DOCS = Path(__file__).resolve().parents[2] / "docs"
PAGES = sorted(p for p in DOCS.rglob("*.md") if p.name != "ARCHITECTURE.md")


def blocks(page: Path, language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", page.read_text(), re.DOTALL | re.MULTILINE)


PYTHON_PAGES = [p for p in PAGES if blocks(p, "python")]


@pytest.mark.parametrize("page", PYTHON_PAGES, ids=lambda p: str(p.relative_to(DOCS)))
def test_python_examples_run(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    if page.name == "tls.md":  # the page's own openssl commands make the pki/ it uses
        setup = next(b for b in blocks(page, "sh") if b.startswith("mkdir -p pki"))
        subprocess.run(["bash", "-euc", setup], check=True, capture_output=True, timeout=120)
    namespace: dict[str, object] = {"__name__": "docs_example"}
    with contextlib.redirect_stdout(io.StringIO()):
        for block in blocks(page, "python"):
            exec(compile(block, str(page), "exec"), namespace)


def test_every_page_with_python_is_covered() -> None:
    names = {str(p.relative_to(DOCS)) for p in PYTHON_PAGES}
    assert {"reference/api.md", "howto/tls.md", "howto/test-pacs.md"} <= names


def command_lines() -> list[tuple[str, list[str]]]:
    """(page, argv) of every storescu / storescu-scp command in the shell blocks."""
    found = []
    for page in PAGES:
        for block in blocks(page, "sh"):
            for line in block.replace("\\\n", " ").splitlines():
                line = line.split(" #", 1)[0].strip()
                for part in line.split("|")[-1:]:
                    words = shlex.split(part.replace("&", ""), comments=True)
                    for prefix in (["storescu"], ["python", "-m", "storescu"]):
                        if words[: len(prefix)] == prefix:
                            found.append((page.name, ["storescu", *words[len(prefix) :]]))
                    for prefix in (["storescu-scp"], ["python", "-m", "storescu.scp"]):
                        if words[: len(prefix)] == prefix:
                            found.append((page.name, ["storescu-scp", *words[len(prefix) :]]))
    return found


def test_command_lines_parse() -> None:
    lines = command_lines()
    assert len(lines) >= 40, lines
    for page, argv in lines:
        if argv[0] == "storescu-scp":
            scp_parser().parse_args(argv[1:])
        elif not any(word.startswith("@") for word in argv):  # @file needs the file
            result = parse_args(argv[1:])
            assert isinstance(result, (Options, InfoRequest)), (page, argv)
