"""Peer fixtures for the interop suite: all on 127.0.0.1, ephemeral ports, own dirs.

* ``dcmtk_storescp(*args)`` -- start DCMTK storescp with extra options (``+xi``,
  ``--refuse``, ``--abort-after``...), writing into its own ``received/`` dir;
* ``orthanc`` -- one Orthanc for the session, emptied before and after each test;
* ``pynetdicom_scp(**options)`` -- an in-process pynetdicom SCP (status, AE checks...);
* ``our_scp(*args)`` -- the project's ``python -m storescu.scp``.

Every started peer is stopped at teardown and its log is shown when a test fails.
A missing peer binary fails the test with an install hint; it is never skipped.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.peers import OrthancPeer, OurScpPeer, PynetdicomPeer, StorescpPeer
from tests.helpers.reporting import attach_peer

_counter = itertools.count(1)


def _workdir(tmp_path: Path, kind: str) -> Path:
    path = tmp_path / f"{kind}-{next(_counter)}"
    path.mkdir(parents=True)
    return path


@pytest.fixture
def dcmtk_storescp(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Callable[..., StorescpPeer]]:
    """Factory: ``dcmtk_storescp("+xi")`` -> a running :class:`StorescpPeer`."""
    started: list[StorescpPeer] = []

    def start(*args: str, unique_names: bool = True) -> StorescpPeer:
        peer = StorescpPeer(_workdir(tmp_path, "storescp"), args, unique_names=unique_names)
        started.append(peer)
        attach_peer(request.node, f"storescp {' '.join(args)}".strip(), peer)
        return peer

    yield start
    for peer in started:
        peer.stop()


@pytest.fixture(scope="session")
def orthanc_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OrthancPeer]:
    """One Orthanc per session (it takes about a second to start)."""
    peer = OrthancPeer(tmp_path_factory.mktemp("orthanc"))
    try:
        yield peer
    finally:
        peer.stop()


@pytest.fixture
def orthanc(request: pytest.FixtureRequest, orthanc_server: OrthancPeer) -> Iterator[OrthancPeer]:
    """The session's Orthanc, empty at the start and the end of the test."""
    if not orthanc_server.process.alive():
        pytest.fail(f"Orthanc died:\n{orthanc_server.describe()}", pytrace=False)
    orthanc_server.clear()
    attach_peer(request.node, "Orthanc", orthanc_server)
    yield orthanc_server
    orthanc_server.clear()


@pytest.fixture
def pynetdicom_scp(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Callable[..., PynetdicomPeer]]:
    """Factory: ``pynetdicom_scp(status=0xA700)`` -> a running :class:`PynetdicomPeer`."""
    started: list[PynetdicomPeer] = []

    def start(**options: Any) -> PynetdicomPeer:
        peer = PynetdicomPeer(_workdir(tmp_path, "pynetdicom"), **options)
        started.append(peer)
        attach_peer(request.node, "pynetdicom SCP", peer)
        return peer

    yield start
    for peer in started:
        peer.stop()


@pytest.fixture
def our_scp(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[..., OurScpPeer]]:
    """Factory: ``our_scp("--status", "A700")`` -> a running :class:`OurScpPeer`."""
    started: list[OurScpPeer] = []

    def start(*args: str, **options: Any) -> OurScpPeer:
        peer = OurScpPeer(_workdir(tmp_path, "our-scp"), args, **options)
        started.append(peer)
        attach_peer(request.node, "storescu.scp", peer)
        return peer

    yield start
    for peer in started:
        peer.stop()
