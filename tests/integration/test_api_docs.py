"""The Python API's documented examples run: storescu.api's doctests and the API page's code.

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

API_PAGE = Path(__file__).resolve().parents[2] / "docs" / "reference" / "api.md"


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
    text = API_PAGE.read_text(encoding="utf-8")
    body = text.split(f"## {section}\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", body, flags=re.DOTALL)


def test_api_page_example_runs(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    blocks = _python_blocks("An example")
    assert blocks, "the API page's example section has no python code block"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        for block in blocks:
            exec(compile(block, str(API_PAGE), "exec"), {"__name__": "readme_example"})
    assert " sent 0x0000 Success None" in printed.getvalue()
    assert (tmp_path / "report.jsonl").exists()
