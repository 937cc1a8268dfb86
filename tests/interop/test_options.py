"""Sender options against real peers: what arrives, and what the peer saw on the wire.

Content checks run against every peer; protocol checks (proposed contexts, PDU sizes,
AE titles, message IDs, release vs abort) use the pynetdicom SCP, which records the
A-ASSOCIATE-RQ and every P-DATA-TF it receives.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pydicom.uid import ExplicitVRBigEndian, ExplicitVRLittleEndian, ImplicitVRLittleEndian

from tests.conftest import GeneratedCT
from tests.helpers.data import SEED_SOP_CLASSES, describe_file, pydicom_file
from tests.helpers.matching import assert_received_all
from tests.helpers.peers import (
    AssociationRecord,
    OrthancPeer,
    OurScpPeer,
    PynetdicomPeer,
    StorescpPeer,
)
from tests.helpers.sender import SENDER_IS_DCMTK, send_to

pytestmark = pytest.mark.interop

ELE, EBE, IVLE = str(ExplicitVRLittleEndian), str(ExplicitVRBigEndian), str(ImplicitVRLittleEndian)
SMALL = ["CT_small.dcm", "MR_small_bigendian.dcm", "rtplan.dcm"]  # explicit LE, BE, implicit


@pytest.fixture
def files(generated_ct: GeneratedCT) -> list[Path]:
    """Three syntaxes plus the 512 KB CT (many PDUs at 4096 bytes)."""
    return [pydicom_file(n) for n in SMALL] + [generated_ct.explicit_le]


# --- every option, every peer: the files must arrive intact ---------------------------

OPTIONS: dict[str, list[str]] = {
    "pdu-4096": ["-pdu", "4096"],
    "max-send-pdu-4096": ["--max-send-pdu", "4096"],
    "repeat-3": ["--repeat", "3"],
    "abort": ["--abort"],
    "combine": ["+C"],
    "required": ["-R"],
    "implicit-only": ["-xi"],
    "big-endian-first": ["-xb"],
}
PEERS = ["storescp", "orthanc", "pynetdicom", "our_scp"]


@pytest.fixture(params=PEERS)
def peer(request: pytest.FixtureRequest) -> Iterator[Any]:
    name = request.param
    if name == "storescp":
        yield request.getfixturevalue("dcmtk_storescp")()
    elif name == "orthanc":
        yield request.getfixturevalue("orthanc")
    elif name == "pynetdicom":
        yield request.getfixturevalue("pynetdicom_scp")()
    else:
        yield request.getfixturevalue("our_scp")()


@pytest.mark.parametrize("option", list(OPTIONS))
def test_option_delivers_every_file(peer: Any, files: list[Path], option: str) -> None:
    args = OPTIONS[option]
    result = send_to(peer, files, *args)
    expected = list(files)
    if option == "repeat-3" and not isinstance(peer, OrthancPeer):
        expected = expected * 3  # Orthanc keeps one instance per SOP Instance UID
    assert_received_all(expected, peer.received_files(), result.describe())


# --- what the peer saw ------------------------------------------------------------------


def _one_association(peer: PynetdicomPeer) -> AssociationRecord:
    peer.wait_for_associations_closed()
    assert len(peer.associations) == 1, peer.describe()
    return peer.associations[0]


def test_verbose_messages_and_message_ids(
    pynetdicom_scp: Callable[..., PynetdicomPeer], files: list[Path]
) -> None:
    peer = pynetdicom_scp()
    result = send_to(peer, files, "-v")
    assert "Sending Store Request (MsgID 1, CT)" in result.stderr, result.describe()
    assert "Sending Store Request (MsgID 2, MR)" in result.stderr, result.describe()
    assert "Sending Store Request (MsgID 4, CT)" in result.stderr, result.describe()
    assert result.stderr.count("Received Store Response (Success)") == 4, result.describe()
    assert [r.message_id for r in peer.requests] == [1, 2, 3, 4]
    assert _one_association(peer).outcome == "released"


def test_default_proposal(pynetdicom_scp: Callable[..., PynetdicomPeer]) -> None:
    """Two contexts per class: [explicit LE] then [explicit BE, implicit LE]; odd IDs."""
    peer = pynetdicom_scp()
    send_to(peer, [pydicom_file("CT_small.dcm")])
    contexts = _one_association(peer).contexts
    assert [c[0] for c in contexts] == list(range(1, 2 * len(contexts), 2))
    for first, second in zip(contexts[::2], contexts[1::2], strict=True):
        assert first[1] == second[1]
        assert first[2] == [ELE]
        assert second[2] == [EBE, IVLE]
    classes = [c[1] for c in contexts[::2]]
    if SENDER_IS_DCMTK:
        assert len(contexts) == 128  # DCMTK 3.6.7's own list of 64 classes
    else:
        assert classes == list(SEED_SOP_CLASSES)  # the seed's 62 classes, 124 contexts


def test_combined_proposal(pynetdicom_scp: Callable[..., PynetdicomPeer]) -> None:
    peer = pynetdicom_scp()
    send_to(peer, [pydicom_file("CT_small.dcm")], "+C")
    contexts = _one_association(peer).contexts
    assert all(c[2] == [ELE, EBE, IVLE] for c in contexts), contexts[:3]
    assert len({c[1] for c in contexts}) == len(contexts)
    if not SENDER_IS_DCMTK:
        assert [c[1] for c in contexts] == list(SEED_SOP_CLASSES)


@pytest.mark.parametrize(
    ("option", "first", "second"),
    [("-xe", [ELE], [EBE, IVLE]), ("-x=", [ELE], [EBE, IVLE]), ("-xb", [EBE], [ELE, IVLE])],
)
def test_preferred_syntax(
    pynetdicom_scp: Callable[..., PynetdicomPeer], option: str, first: list[str], second: list[str]
) -> None:
    peer = pynetdicom_scp()
    send_to(peer, [pydicom_file("CT_small.dcm")], option)
    contexts = _one_association(peer).contexts
    assert all(c[2] == first for c in contexts[::2])
    assert all(c[2] == second for c in contexts[1::2])


def test_implicit_only_proposal(
    pynetdicom_scp: Callable[..., PynetdicomPeer], files: list[Path]
) -> None:
    """-xi: one context per class with implicit LE only; BE/explicit files converted."""
    peer = pynetdicom_scp()
    send_to(peer, files, "-xi")
    contexts = _one_association(peer).contexts
    assert all(c[2] == [IVLE] for c in contexts)
    assert len({c[1] for c in contexts}) == len(contexts)
    assert {r.transfer_syntax for r in peer.requests} == {IVLE}


def test_required_proposal(
    pynetdicom_scp: Callable[..., PynetdicomPeer], files: list[Path]
) -> None:
    """-R: only the SOP classes of the input files, also ones outside the seed list."""
    segmentation = pydicom_file("liver_1frame.dcm")
    peer = pynetdicom_scp()
    send_to(peer, [*files, segmentation], "-R")
    wanted = set()
    for path in [*files, segmentation]:
        info = describe_file(path)
        assert info is not None
        wanted.add(info.sop_class_uid)
    contexts = _one_association(peer).contexts
    assert {c[1] for c in contexts} == wanted
    assert len(contexts) == 2 * len(wanted)
    assert_received_all([*files, segmentation], peer.received_files())


def test_ae_titles(pynetdicom_scp: Callable[..., PynetdicomPeer]) -> None:
    peer = pynetdicom_scp(ae_title="PYSCP", require_called_aet=True)
    send_to(peer, [pydicom_file("CT_small.dcm")], "-aet", "MY-SENDER", "-aec", "PYSCP")
    record = _one_association(peer)
    assert (record.calling_ae, record.called_ae) == ("MY-SENDER", "PYSCP")


def test_default_ae_titles(pynetdicom_scp: Callable[..., PynetdicomPeer]) -> None:
    peer = pynetdicom_scp()
    send_to(peer, [pydicom_file("CT_small.dcm")])
    record = _one_association(peer)
    assert (record.calling_ae, record.called_ae) == ("STORESCU", "ANY-SCP")


# --- PDU sizes --------------------------------------------------------------------------


def test_max_receive_pdu_is_announced(
    pynetdicom_scp: Callable[..., PynetdicomPeer], files: list[Path]
) -> None:
    peer = pynetdicom_scp()
    send_to(peer, files, "-pdu", "4096")
    assert _one_association(peer).max_pdu == 4096


def test_default_max_receive_pdu(pynetdicom_scp: Callable[..., PynetdicomPeer]) -> None:
    peer = pynetdicom_scp()
    send_to(peer, [pydicom_file("CT_small.dcm")])
    assert _one_association(peer).max_pdu == 16384


def test_max_send_pdu_limits_fragments(
    pynetdicom_scp: Callable[..., PynetdicomPeer], files: list[Path]
) -> None:
    peer = pynetdicom_scp(max_pdu=16382)
    send_to(peer, files, "--max-send-pdu", "4096")
    lengths = _one_association(peer).p_data_lengths
    assert max(lengths) <= 4096
    assert len(lengths) > 128  # the 512 KB CT alone needs that many
    assert_received_all(files, peer.received_files())


@pytest.mark.parametrize("peer_max", [4096, 16382, 65536])
def test_fragments_fit_the_peers_max_pdu(
    pynetdicom_scp: Callable[..., PynetdicomPeer], files: list[Path], peer_max: int
) -> None:
    peer = pynetdicom_scp(max_pdu=peer_max)
    send_to(peer, files)
    lengths = _one_association(peer).p_data_lengths
    assert max(lengths) <= peer_max
    assert_received_all(files, peer.received_files())


def test_peer_without_pdu_limit(
    pynetdicom_scp: Callable[..., PynetdicomPeer], files: list[Path]
) -> None:
    """Max PDU 0 means "no limit" (PS3.8 D.1); the sender must still fragment sanely."""
    peer = pynetdicom_scp(max_pdu=0)
    send_to(peer, files)
    assert_received_all(files, peer.received_files())


def test_storescp_with_small_pdus(
    dcmtk_storescp: Callable[..., StorescpPeer], files: list[Path]
) -> None:
    peer = dcmtk_storescp("-pdu", "4096")
    result = send_to(peer, files, "-pdu", "4096", "--max-send-pdu", "4096")
    assert_received_all(files, peer.received_files(), result.describe())


# --- repeat and abort -------------------------------------------------------------------


def test_repeat_sends_copies_on_one_association(
    pynetdicom_scp: Callable[..., PynetdicomPeer], files: list[Path]
) -> None:
    peer = pynetdicom_scp()
    send_to(peer, files[:2], "--repeat", "3")
    assert [r.message_id for r in peer.requests] == [1, 2, 3, 4, 5, 6]
    assert_received_all(files[:2] * 3, peer.received_files())
    assert _one_association(peer).outcome == "released"


def test_abort_instead_of_release(
    pynetdicom_scp: Callable[..., PynetdicomPeer], files: list[Path]
) -> None:
    peer = pynetdicom_scp()
    result = send_to(peer, files, "-v", "--abort")  # exit 0, as DCMTK
    assert_received_all(files, peer.received_files(), result.describe())
    assert _one_association(peer).outcome == "aborted"


def test_storescp_abort(dcmtk_storescp: Callable[..., StorescpPeer], files: list[Path]) -> None:
    peer = dcmtk_storescp()
    result = send_to(peer, files, "--abort")
    assert_received_all(files, peer.received_files(), result.describe())
    assert "Abort" in peer.process.log() or "abort" in peer.process.log()


def test_our_scp_sees_the_calling_ae(our_scp: Callable[..., OurScpPeer], files: list[Path]) -> None:
    peer = our_scp()
    send_to(peer, files[:1], "-aet", "CALLER-1")
    assert [r["calling_aet"] for r in peer.records()] == ["CALLER-1"]
