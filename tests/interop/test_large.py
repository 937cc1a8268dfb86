"""The ~100 MiB multi-frame file, sent once to each peer (marker ``large``).

Kept apart so the suite stays fast: ``-m 'not large'`` leaves these out.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers.compare import assert_same_dataset
from tests.helpers.peers import OrthancPeer, OurScpPeer, PynetdicomPeer, StorescpPeer
from tests.helpers.sender import SendResult, send_to

pytestmark = [pytest.mark.interop, pytest.mark.large]

TIMEOUT = 300.0


def _check(result: SendResult, sent: Path, received: list[Path]) -> None:
    assert len(received) == 1, f"{len(received)} files received\n{result.describe()}"
    assert_same_dataset(sent, received[0])


def test_100mb_to_dcmtk_storescp(
    dcmtk_storescp: Callable[..., StorescpPeer], multiframe_100mb: Path
) -> None:
    peer = dcmtk_storescp()
    result = send_to(peer, [multiframe_100mb], "-v", timeout=TIMEOUT)
    _check(result, multiframe_100mb, peer.received_files())


def test_100mb_to_orthanc(orthanc: OrthancPeer, multiframe_100mb: Path) -> None:
    result = send_to(orthanc, [multiframe_100mb], "-v", timeout=TIMEOUT)
    _check(result, multiframe_100mb, orthanc.received_files())


def test_100mb_to_pynetdicom(
    pynetdicom_scp: Callable[..., PynetdicomPeer], multiframe_100mb: Path
) -> None:
    peer = pynetdicom_scp()
    result = send_to(peer, [multiframe_100mb], "-v", timeout=TIMEOUT)
    _check(result, multiframe_100mb, peer.received_files())


def test_100mb_to_our_scp(our_scp: Callable[..., OurScpPeer], multiframe_100mb: Path) -> None:
    peer = our_scp()
    result = send_to(peer, [multiframe_100mb], "-v", timeout=TIMEOUT)
    _check(result, multiframe_100mb, peer.received_files())
