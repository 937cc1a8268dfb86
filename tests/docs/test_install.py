"""Ready to publish: the built sdist and wheel install into a fresh environment and work.

Also: the test environment's own ``storescu`` command is ours (pynetdicom, a test
dependency, installs one too), and ``--version`` lists the optional libraries.
"""

from __future__ import annotations

import email
import os
import ssl
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from storescu.cli.generated import SHIPPED
from storescu.cli.versioninfo import OPTIONAL_DISTRIBUTIONS, distribution_version, version_text
from storescu.kernel.version import __version__

ROOT = Path(__file__).resolve().parents[2]
FIRST_LINE = f"storescu {__version__} (Python re-implementation of DCMTK storescu)"


def run(*command: str | Path, **kwargs: object) -> str:
    result = subprocess.run(
        [str(c) for c in command], capture_output=True, text=True, timeout=600, **kwargs
    )
    assert result.returncode == 0, f"{command}: {result.stdout}{result.stderr}"
    return result.stdout


def test_environment_storescu_is_ours() -> None:
    """After scripts/test.sh, .venv/bin/storescu is this program, not pynetdicom's."""
    command = Path(sys.executable).parent / "storescu"
    assert command.exists(), command
    assert run(command, "--version").splitlines()[0] == FIRST_LINE


def test_version_lists_the_optional_libraries() -> None:
    text = version_text()
    assert text.splitlines()[0] == FIRST_LINE
    assert ssl.OPENSSL_VERSION in text
    for name, _ in OPTIONAL_DISTRIBUTIONS:
        version = distribution_version(name)
        expected = f"- {name} {version} (" if version else f"- {name}: not installed"
        assert expected in text, name
    assert distribution_version("numpy")  # the test extra installs the codecs extra


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """sdist and wheel from ``python -m build`` (no isolation: no download)."""
    out = tmp_path_factory.mktemp("dist")
    run(sys.executable, "-m", "build", "--no-isolation", "--outdir", out, ROOT, cwd=ROOT)
    run(sys.executable, "-m", "twine", "check", "--strict", *sorted(out.iterdir()))
    return out


def test_metadata(dist: Path) -> None:
    (wheel,) = dist.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = email.message_from_bytes(
            archive.read(f"storescu-{__version__}.dist-info/METADATA")
        )
    assert metadata["Version"] == __version__
    assert metadata["License-File"] == "LICENSE"
    assert f"storescu-{__version__}.dist-info/licenses/LICENSE" in names
    assert any(url.startswith("Source, ") for url in metadata.get_all("Project-URL") or [])
    for relative in SHIPPED:
        assert f"storescu-{__version__}.data/data/{relative}" in names, relative
    (sdist,) = dist.glob("*.tar.gz")
    with tarfile.open(sdist) as archive:
        members = {m.name.split("/", 1)[1] for m in archive.getmembers() if "/" in m.name}
    assert {"LICENSE", "README.md", *SHIPPED} <= members


def test_wheel_installs_into_a_fresh_environment(dist: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", venv)
    (wheel,) = dist.glob("*.whl")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    run(venv / "bin/python", "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
        wheel, env=env)  # fmt: skip
    assert run(venv / "bin/storescu", "--version", env=env).splitlines()[0] == FIRST_LINE
    assert "usage: storescu [options] peer port dcmfile-in..." in run(
        venv / "bin/storescu", "--help", env=env
    )
    assert "usage: storescu-scp" in run(venv / "bin/storescu-scp", "--help", env=env)
    assert run(venv / "bin/python", "-c", "import storescu; print(storescu.__file__)",
               env=env, cwd=tmp_path).startswith(str(venv))  # fmt: skip
    man = run("man", "-M", venv / "share/man", "storescu",
              env={**env, "MANPAGER": "cat", "MANWIDTH": "100"})  # fmt: skip
    assert man.splitlines()[0].split()[0] == "STORESCU(1)"
    assert (venv / "share/bash-completion/completions/storescu").exists()
    assert (venv / "share/zsh/site-functions/_storescu").exists()
