"""Fixtures of the documentation tests: the built docs site.

``scripts/test.sh`` builds the site just before pytest (its ``docs`` step, with
warnings as errors) and exports ``STORESCU_DOCS_HTML``; without it the fixture
builds the site itself, fresh, the same way.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"


def sphinx_build(out: Path) -> subprocess.CompletedProcess[str]:
    """Build the site the way scripts/test.sh does (warnings as errors, nitpicky)."""
    command = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-n", "-E", "-q"]
    command += ["-b", "html", str(DOCS), str(out)]
    return subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)


@pytest.fixture(scope="session")
def docs_html(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The built HTML site (a directory with index.html)."""
    given = os.environ.get("STORESCU_DOCS_HTML")
    if given:
        path = Path(given)
        assert (path / "index.html").exists(), f"STORESCU_DOCS_HTML={given} has no index.html"
        return path
    out = tmp_path_factory.mktemp("docs-html")
    result = sphinx_build(out)
    assert result.returncode == 0, result.stdout + result.stderr
    return out
