"""Fixtures of the fault suite (RELIABILITY.md rows; see README.md here).

* ``hostile(script)`` -- a started :class:`~tests.helpers.hostile.HostilePeer`,
  stopped at teardown, which also checks that its thread is gone and that its
  script did not crash;
* ``ct`` / ``mr`` -- copies of pydicom's CT_small.dcm and MR_small.dcm;
* ``report`` -- the path of the run's JSON Lines report;
* the interop suite's peers (``dcmtk_storescp``, ``our_scp``, ``pynetdicom_scp``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.faults import files
from tests.helpers.hostile import HostilePeer, Script
from tests.interop.conftest import dcmtk_storescp, our_scp, pynetdicom_scp  # noqa: F401


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "soak: the soak and the sparse large file; reduced in CI, full size with "
        "STORESCU_SOAK=full (see tests/faults/README.md)",
    )


@pytest.fixture
def hostile() -> Iterator[Callable[..., HostilePeer]]:
    started: list[HostilePeer] = []

    def start(script: Script, **options: Any) -> HostilePeer:
        peer = HostilePeer(script, **options).start()
        started.append(peer)
        return peer

    yield start
    for peer in started:
        peer.stop()
        assert not peer.alive, "the hostile peer's thread outlived the test"
        assert peer.failure is None, f"the hostile peer's script crashed:\n{peer.failure}"


@pytest.fixture
def ct(tmp_path: Path) -> Path:
    return files.copy_ct(tmp_path / "ct.dcm")


@pytest.fixture
def mr(tmp_path: Path) -> Path:
    return files.copy_mr(tmp_path / "mr.dcm")


@pytest.fixture
def report(tmp_path: Path) -> Path:
    return tmp_path / "report.jsonl"
