"""Issue 14.1 and 14.2 against real peers, with default options.

A Segmentation (not in DCMTK's list: proposed by default now) and the big
endian file with six group lengths arrive identical, element by element, at
DCMTK storescp (as it is, or converted for ``+xi``) and at Orthanc (which
accepts only little endian: converted); every group length of the source
arrives with the value its new encoding gives it, and none is added.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pydicom
import pytest
from pydicom.data import get_testdata_file

from tests.helpers.compare import assert_same_dataset
from tests.helpers.grouplengths import file_group_lengths
from tests.helpers.matching import assert_received_all
from tests.helpers.peers import OrthancPeer, StorescpPeer
from tests.helpers.sender import send_to

pytestmark = pytest.mark.interop

SEGMENTATION = Path(str(get_testdata_file("liver_1frame.dcm")))
BIG_ENDIAN = Path(str(get_testdata_file("ExplVR_BigEnd.dcm")))


def _groups_with_a_length(path: Path) -> set[int]:
    ds = pydicom.dcmread(path)
    return {tag >> 16 for tag in ds.keys() if tag & 0xFFFF == 0 and tag >> 16 != 2}  # noqa: SIM118


@pytest.mark.parametrize("peer_kind", ["storescp", "storescp-xi", "orthanc"])
def test_segmentation_and_big_endian_arrive_identical(
    request: pytest.FixtureRequest,
    dcmtk_storescp: Callable[..., StorescpPeer],
    peer_kind: str,
) -> None:
    if peer_kind == "orthanc":
        peer: StorescpPeer | OrthancPeer = request.getfixturevalue("orthanc")
    else:
        peer = dcmtk_storescp(*(["+xi"] if peer_kind == "storescp-xi" else []))
    result = send_to(peer, [SEGMENTATION, BIG_ENDIAN])  # default options: exit 0
    pairs = assert_received_all(
        [SEGMENTATION, BIG_ENDIAN], peer.received_files(), result.describe()
    )
    for sent, received in pairs:
        assert_same_dataset(sent, received)
        assert _groups_with_a_length(received) == _groups_with_a_length(sent), received
        file_group_lengths(received)  # raises unless every value is true for its encoding
    big = next(received for sent, received in pairs if sent == BIG_ENDIAN)
    assert len(file_group_lengths(big)) == 6
