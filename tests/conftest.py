"""Fixtures and hooks shared by every test.

* Generated test files (session scope, cached across runs in pytest's cache dir and
  rebuilt when the generator version changes): a 512x512 CT in three transfer
  syntaxes and a ~100 MiB multi-frame image.
* The list of uncompressed files shipped in the pydicom wheel.
* Peer logs attached to the report of a failed test
  (see :func:`tests.helpers.reporting.attach_peer`).
"""

from __future__ import annotations

import sys
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

_REPO_ROOT = Path(__file__).resolve().parents[1]
if str(_REPO_ROOT) not in sys.path:  # make ``tests.helpers`` importable however run
    sys.path.insert(0, str(_REPO_ROOT))

from tests.helpers import data  # noqa: E402
from tests.helpers.reporting import peer_sections  # noqa: E402


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "large: sends the ~100 MiB multi-frame file (once per peer); "
        "select with -m large, leave out with -m 'not large'",
    )


# --- peer logs in failure reports -------------------------------------------------------


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, Any, None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    if report.failed and report.when in ("setup", "call"):
        report.sections.extend(peer_sections(item))


# --- test data ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def data_dir(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where generated files live: pytest's cache (kept between runs) or a tmp dir."""
    cache = getattr(request.config, "cache", None)
    if cache is not None:
        path = Path(cache.mkdir(f"storescu-test-data-v{data.GENERATOR_VERSION}"))
    else:
        path = tmp_path_factory.mktemp("test-data")
    return path


@dataclass(frozen=True)
class GeneratedCT:
    explicit_le: Path
    big_endian: Path
    implicit: Path

    @property
    def all(self) -> list[Path]:
        return [self.explicit_le, self.big_endian, self.implicit]


@pytest.fixture(scope="session")
def generated_ct(data_dir: Path) -> GeneratedCT:
    """The generated 512x512 16-bit CT, plus DCMTK ``dcmconv`` +tb / +ti copies."""
    le = data_dir / "ct_512_explicit_le.dcm"
    be = data_dir / "ct_512_big_endian.dcm"
    implicit = data_dir / "ct_512_implicit.dcm"
    if not le.exists():
        data.make_ct(le)
    if not be.exists():
        data.dcmconv(le, be, "+tb")
    if not implicit.exists():
        data.dcmconv(le, implicit, "+ti")
    return GeneratedCT(le, be, implicit)


MULTIFRAME_FRAMES = 200
MULTIFRAME_MIN_SIZE = 512 * 512 * 2 * MULTIFRAME_FRAMES


@pytest.fixture(scope="session")
def multiframe_100mb(data_dir: Path) -> Path:
    """A 512x512x200 16-bit multi-frame secondary capture (~100 MiB)."""
    path = data_dir / f"multiframe_512x512x{MULTIFRAME_FRAMES}.dcm"
    if not path.exists() or path.stat().st_size < MULTIFRAME_MIN_SIZE:
        data.make_multiframe(path, frames=MULTIFRAME_FRAMES)
    return path


@pytest.fixture(scope="session")
def pydicom_files() -> list[data.DicomFile]:
    """Uncompressed files of the pydicom wheel (see data.pydicom_uncompressed_files)."""
    files = data.pydicom_uncompressed_files()
    if len(files) < 50:
        pytest.fail(f"only {len(files)} uncompressed pydicom test files found", pytrace=False)
    return files


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Certificates for the TLS tests, made fresh for the session (tests.helpers.certs)."""
    from tests.helpers.certs import make_pki

    return make_pki(tmp_path_factory.mktemp("pki"))
