"""The Python API's documented examples run: storescu.api's doctests and the README's code.

Both start the project's SCP on a free loopback port, so they need no setup.
"""

from __future__ import annotations

import contextlib
import doctest
import io
import re
from pathlib import Path

import pytest

import storescu.api

README = Path(__file__).resolve().parents[2] / "README.md"


def test_api_docstring_examples(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    tests = [t for t in finder.find(storescu.api) if t.examples]
    assert sum(len(t.examples) for t in tests) >= 25
    out = io.StringIO()
    for test in tests:
        runner.run(test, out=out.write)
    assert runner.failures == 0, out.getvalue()


def _python_blocks(section: str) -> list[str]:
    text = README.read_text(encoding="utf-8")
    body = text.split(f"## {section}\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", body, flags=re.DOTALL)


def test_readme_python_api_runs(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    blocks = _python_blocks("Python API")
    assert blocks, "the README's Python API section has no python code block"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        for block in blocks:
            exec(compile(block, str(README), "exec"), {"__name__": "readme_example"})
    assert " sent 0x0000 Success None" in printed.getvalue()
    assert (tmp_path / "report.jsonl").exists()
