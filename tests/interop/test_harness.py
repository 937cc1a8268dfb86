"""Self-tests of the interop harness: the comparator, the data, and the peers.

If these fail, the interop results mean nothing, so they run first (file order).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from pydicom import dcmread
from pydicom.uid import ExplicitVRBigEndian, ImplicitVRLittleEndian

from tests.conftest import GeneratedCT
from tests.helpers import data
from tests.helpers.compare import DatasetMismatch, assert_same_dataset
from tests.helpers.matching import assert_received_all, transfer_syntax, unique_uid_batches
from tests.helpers.peers import OrthancPeer, PynetdicomPeer, StorescpPeer
from tests.helpers.proc import ManagedProcess

# --- the comparator ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("MR_small.dcm", "MR_small_expb.dcm"),
        ("MR_small.dcm", "MR_small_bigendian.dcm"),  # differs only in trailing padding
        ("MR_small.dcm", "MR_small_implicit.dcm"),
        ("SC_rgb_small_odd.dcm", "SC_rgb_small_odd_big_endian.dcm"),
        ("liver_1frame.dcm", "liver_expb_1frame.dcm"),
    ],
)
def test_comparator_equal_across_byte_order(a: str, b: str) -> None:
    assert_same_dataset(data.pydicom_file(a), data.pydicom_file(b))
    assert_same_dataset(data.pydicom_file(b), data.pydicom_file(a))


def test_comparator_equal_across_transfer_syntaxes(generated_ct: GeneratedCT) -> None:
    """dcmconv's +tb / +ti copies of the CT (private tags become UN in implicit)."""
    assert transfer_syntax(generated_ct.big_endian) == ExplicitVRBigEndian
    assert transfer_syntax(generated_ct.implicit) == ImplicitVRLittleEndian
    for x in generated_ct.all:
        for y in generated_ct.all:
            assert_same_dataset(x, y)


@pytest.mark.parametrize(
    ("a", "b", "where"),
    [
        ("MR_small.dcm", "MR_small_padded.dcm", "(7FE0,0010) PixelData"),
        ("rtdose.dcm", "badVR.dcm", "(0028,0008) NumberOfFrames"),
        ("reportsi.dcm", "reportsi_with_empty_number_tags.dcm", "(0008,1161)"),
    ],
)
def test_comparator_reports_first_difference(a: str, b: str, where: str) -> None:
    with pytest.raises(DatasetMismatch, match="first difference at .*" + re.escape(where)):
        assert_same_dataset(data.pydicom_file(a), data.pydicom_file(b))


def _mutated(src: Path, dst: Path, change: Callable[..., None]) -> Path:
    ds = dcmread(src)
    change(ds)
    ds.save_as(dst)
    return dst


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda ds: setattr(ds, "PatientName", "Other^Name"), r"\(0010,0010\) PatientName"),
        (
            lambda ds: setattr(
                ds.ReferencedImageSequence[0].PurposeOfReferenceCodeSequence[0],
                "CodeValue",
                "X",
            ),
            r"ReferencedImageSequence\[0\] > \(0040,A170\) PurposeOfReferenceCodeSequence\[0\]"
            r" > \(0008,0100\) CodeValue",
        ),
        (lambda ds: setattr(ds[0x00091002], "value", [1, 2, 65534]), r"\(0009,1002\) private"),
        (lambda ds: setattr(ds[0x00091004], "value", bytes(255) + b"\x01"), r"\(0009,1004\)"),
        (
            lambda ds: setattr(ds[0x00091007].value[0][0x00091001], "value", "changed"),
            r"\(0009,1007\) private\[0\] > \(0009,1001\)",
        ),
        (lambda ds: delattr(ds, "WindowWidth"), r"\(0028,1051\) WindowWidth: only in sent"),
        (
            lambda ds: setattr(ds, "PixelData", ds.PixelData[:-2] + b"\x00\x00"),
            r"\(7FE0,0010\) PixelData.*byte 524286",
        ),
    ],
    ids=[
        "top-level",
        "nested-sequence",
        "private-US",
        "private-OB",
        "private-SQ",
        "missing",
        "pixel-data",
    ],
)
def test_comparator_detects_changes(
    generated_ct: GeneratedCT, tmp_path: Path, change: Callable[..., None], where: str
) -> None:
    changed = _mutated(generated_ct.explicit_le, tmp_path / "changed.dcm", change)
    for sent in generated_ct.all:  # also across byte order and VR explicitness
        with pytest.raises(DatasetMismatch, match=where):
            assert_same_dataset(sent, changed)


def test_matching_counts_duplicates(generated_ct: GeneratedCT) -> None:
    ct = generated_ct.explicit_le
    assert_received_all([ct, ct], [generated_ct.implicit, generated_ct.big_endian])
    with pytest.raises(AssertionError, match="2 file\\(s\\) sent but 1 received"):
        assert_received_all([ct, ct], [ct])
    assert unique_uid_batches([ct, generated_ct.implicit, ct]) == [
        [ct],
        [generated_ct.implicit],
        [ct],
    ]


# --- the data ---------------------------------------------------------------------------


def test_seed_list_matches_the_manual() -> None:
    if not data.SEED_MANUAL.exists():
        pytest.skip(f"{data.SEED_MANUAL} not present (shared/ is not beside this clone)")
    assert data.parse_seed_sop_classes() == list(data.SEED_SOP_CLASSES)
    assert len(data.SEED_SOP_CLASSES) == 62


def test_pydicom_corpus(pydicom_files: list[data.DicomFile]) -> None:
    syntaxes = {f.transfer_syntax for f in pydicom_files}
    assert syntaxes == data.UNCOMPRESSED_SYNTAXES
    names = {f.name for f in pydicom_files}
    assert {"CT_small.dcm", "MR_small_bigendian.dcm", "MR_small_implicit.dcm"} <= names
    assert not names & set(data.BROKEN_PYDICOM_FILES)


@pytest.mark.large
def test_multiframe_is_100mb(multiframe_100mb: Path) -> None:
    assert multiframe_100mb.stat().st_size > 100 * 1024 * 1024
    ds = dcmread(multiframe_100mb, stop_before_pixels=True)
    assert ds.SOPClassUID in data.SEED_SOP_CLASS_SET
    assert ds.NumberOfFrames == 200


# --- the peers start and stop cleanly ---------------------------------------------------


def _group_gone(process: ManagedProcess) -> bool:
    try:
        os.killpg(process.pid, 0)
    except ProcessLookupError:
        return True
    return False


@pytest.mark.interop
def test_storescp_starts_and_stops(
    dcmtk_storescp: Callable[..., StorescpPeer],
) -> None:
    peer = dcmtk_storescp("+xi")
    assert peer.process.alive()
    peer.stop()
    assert not peer.process.alive()
    assert _group_gone(peer.process)


@pytest.mark.interop
def test_orthanc_starts_and_stops(tmp_path: Path) -> None:
    peer = OrthancPeer(tmp_path)
    try:
        assert peer.get_json("/system")["DicomAet"] == "ORTHANC"
        assert peer.instances() == []
    finally:
        peer.stop()
    assert not peer.process.alive()
    assert _group_gone(peer.process)


@pytest.mark.interop
def test_pynetdicom_scp_starts_and_stops(tmp_path: Path) -> None:
    import socket

    peer = PynetdicomPeer(tmp_path)
    with socket.create_connection((peer.host, peer.port), timeout=5):
        pass
    peer.stop()
    with pytest.raises(OSError), socket.create_connection((peer.host, peer.port), timeout=1):
        pass
