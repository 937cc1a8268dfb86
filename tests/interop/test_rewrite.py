"""Dataset rewriting against DCMTK storescp -od: what arrives, grouped as DCMTK groups it.

The +II/+IR/+IS/+IP expectations are DCMTK's rules (storescu.cc,
replaceSOPInstanceInformation): a new series once +IR images were sent, a new
study once +IS series, a new patient once +IP studies; the counters go on
across files and across --repeat. They hold for DCMTK's own storescu as the
sender too (``STORESCU_CMD=/usr/bin/storescu``); -s and --uid-suffix are ours
(from dcm4che) and are skipped in that mode.
"""

from __future__ import annotations

import itertools
import struct
from collections.abc import Callable
from pathlib import Path

import pydicom
import pytest

from tests.conftest import GeneratedCT
from tests.helpers.compare import assert_same_dataset
from tests.helpers.data import pydicom_file
from tests.helpers.peers import StorescpPeer
from tests.helpers.sender import send_to, skip_if_dcmtk_sender

pytestmark = pytest.mark.interop

#: Attributes +II replaces (PS3.3 C.7.1.1 Patient, C.7.2.1 General Study,
#: C.7.3.1 General Series, C.12.1 SOP Common, C.7.6.1 General Image).
INVENTED = frozenset(
    {0x00100010, 0x00100020, 0x0020000D, 0x00200010, 0x00080050, 0x0020000E}
    | {0x00200011, 0x00080018, 0x00200013}
)
SMALL = ["CT_small.dcm", "MR_small_bigendian.dcm", "rtplan.dcm"]  # explicit LE, BE, implicit


@pytest.fixture(scope="module")
def ten_files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Ten small CTs, told apart by ImageComments (which rewriting leaves alone)."""
    folder = tmp_path_factory.mktemp("ten")
    paths = []
    for n in range(10):
        ds = pydicom.dcmread(pydicom_file("CT_small.dcm"))
        ds.ImageComments = f"file {n}"
        ds.SOPInstanceUID = f"{ds.SOPInstanceUID}.{n + 1}"
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        path = folder / f"ct{n}.dcm"
        ds.save_as(path)
        paths.append(path)
    return paths


def _received(peer: StorescpPeer) -> list[pydicom.Dataset]:
    return [pydicom.dcmread(p) for p in peer.received_files()]


def _groups(values: list[str]) -> list[int]:
    """Sizes of the runs of equal values, in arrival order."""
    return [len(list(g)) for _, g in itertools.groupby(values)]


def test_invent_series_with_repeat(
    dcmtk_storescp: Callable[..., StorescpPeer], ten_files: list[Path]
) -> None:
    peer = dcmtk_storescp()
    result = send_to(peer, ten_files, "-v", "+IR", "3", "--repeat", "2")
    got = _received(peer)
    assert len(got) == 20, result.describe()
    # Arrival order is send order: each file twice, in turn.
    assert [ds.ImageComments for ds in got] == [f"file {n // 2}" for n in range(20)]
    assert len({ds.SOPInstanceUID for ds in got}) == 20
    assert not {ds.SOPInstanceUID for ds in got} & {
        pydicom.dcmread(p).SOPInstanceUID for p in ten_files
    }
    assert _groups([ds.SeriesInstanceUID for ds in got]) == [3, 3, 3, 3, 3, 3, 2]
    assert len({ds.SeriesInstanceUID for ds in got}) == 7
    assert len({ds.StudyInstanceUID for ds in got}) == 1
    assert len({ds.PatientID for ds in got}) == 1
    assert len({str(ds.PatientName) for ds in got}) == 1
    assert [int(ds.InstanceNumber) for ds in got] == [0, 1, 2] * 6 + [0, 1]
    assert [int(ds.SeriesNumber) for ds in got] == [n // 3 for n in range(20)]
    assert str(got[0].PatientName).startswith("OFFIS^TEST_PN_")
    assert got[0].PatientID.startswith("PID_") and got[0].StudyID.startswith("SID_")
    assert result.stderr.count("Inventing Identifying Information") == 20, result.describe()
    twice = [p for p in ten_files for _ in range(2)]
    for sent, ds in zip(twice, got, strict=True):
        assert_same_dataset(sent, ds, ignore=INVENTED)


@pytest.mark.parametrize(
    ("options", "series", "studies", "patients"),
    [
        # +IS: 10 images, 2 per series -> 5 series; 2 series per study -> 3 studies.
        (["+IR", "2", "+IS", "2"], [2] * 5, [4, 4, 2], [10]),
        # +IP: 1 image per series, 2 series per study, 2 studies per patient.
        (["+IR", "1", "+IS", "2", "+IP", "2"], [1] * 10, [2] * 5, [4, 4, 2]),
    ],
    ids=["study", "patient"],
)
def test_invent_study_and_patient_boundaries(
    dcmtk_storescp: Callable[..., StorescpPeer],
    ten_files: list[Path],
    options: list[str],
    series: list[int],
    studies: list[int],
    patients: list[int],
) -> None:
    peer = dcmtk_storescp()
    result = send_to(peer, ten_files, *options)
    got = _received(peer)
    assert len(got) == 10, result.describe()
    assert _groups([ds.SeriesInstanceUID for ds in got]) == series
    assert len({ds.SeriesInstanceUID for ds in got}) == len(series)
    assert _groups([ds.StudyInstanceUID for ds in got]) == studies
    assert len({ds.StudyInstanceUID for ds in got}) == len(studies)
    assert _groups([ds.PatientID for ds in got]) == patients
    assert _groups([str(ds.PatientName) for ds in got]) == patients
    assert len({ds.PatientID for ds in got}) == len(patients)


def test_invent_instance_alone_makes_one_new_patient_study_series(
    dcmtk_storescp: Callable[..., StorescpPeer],
) -> None:
    """DCMTK's +II replaces patient, study and series too (defaults 100/50/25)."""
    peer = dcmtk_storescp()
    files = [pydicom_file(n) for n in SMALL]
    result = send_to(peer, files, "+II")
    got = _received(peer)
    assert len(got) == 3, result.describe()
    for attr in ("PatientID", "StudyInstanceUID", "SeriesInstanceUID"):
        values = {str(getattr(ds, attr)) for ds in got}
        assert len(values) == 1, attr
        assert not values & {str(getattr(pydicom.dcmread(f), attr, "")) for f in files}
    assert len({ds.SOPInstanceUID for ds in got}) == 3
    for sent, ds in zip(files, got, strict=True):
        assert_same_dataset(sent, ds, ignore=INVENTED)


@skip_if_dcmtk_sender
def test_overrides_arrive(dcmtk_storescp: Callable[..., StorescpPeer]) -> None:
    peer = dcmtk_storescp()
    files = [pydicom_file(n) for n in SMALL]
    result = send_to(
        peer,
        files,
        "-s",
        "PatientName=ANON",
        "-s",
        "(0010,0020)=X",
        "-s",
        "00400275[0].00400009=Y",
        "--uid-suffix",
        ".1",
    )
    got = _received(peer)
    assert len(got) == 3, result.describe()
    for sent, ds in zip(files, got, strict=True):
        original = pydicom.dcmread(sent)
        assert ds.PatientName == "ANON" and ds.PatientID == "X"
        assert ds.RequestAttributesSequence[0].ScheduledProcedureStepID == "Y"
        assert ds.SOPInstanceUID == original.SOPInstanceUID + ".1"
        assert ds.StudyInstanceUID == original.StudyInstanceUID + ".1"
        assert ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID
        changed = frozenset({0x00100010, 0x00100020, 0x00400275, 0x0020000D, 0x0020000E})
        assert_same_dataset(sent, ds, ignore=changed | {0x00080018})


@skip_if_dcmtk_sender
@pytest.mark.parametrize(
    "bad",
    [["-s", "NoSuchAttribute=1"], ["-s", "StudyDate=2024-01-01"], ["--uid-suffix", ".01"]],
    ids=["unknown-tag", "bad-date", "bad-suffix"],
)
def test_invalid_override_fails_before_association(
    dcmtk_storescp: Callable[..., StorescpPeer], bad: list[str]
) -> None:
    peer = dcmtk_storescp()
    result = send_to(peer, [pydicom_file("CT_small.dcm")], *bad, expect=1)
    assert "invalid value for option" in result.stderr, result.describe()
    assert peer.received_files() == []
    # (storescp logs "Association Received" for the harness's port probe too)
    assert "Association Acknowledged" not in peer.process.log()


def _dataset_bytes(path: Path) -> bytes:
    """The bytes after the file meta information (PS3.10 7.1), parsed here by hand."""
    data = path.read_bytes()
    assert data[128:132] == b"DICM"
    pos = 132
    while data[pos : pos + 2] == b"\x02\x00":
        vr = data[pos + 4 : pos + 6]
        if vr in (b"OB", b"OW", b"OF", b"SQ", b"UT", b"UN"):
            pos += 12 + struct.unpack_from("<I", data, pos + 8)[0]
        else:
            pos += 8 + struct.unpack_from("<H", data, pos + 6)[0]
    return data[pos:]


# storescp's options for each file's syntax to be accepted as it is: it takes
# explicit LE and BE by default, implicit VR LE only when asked (+xi).
BYTE_IDENTICAL = {"CT_small.dcm": [], "MR_small_bigendian.dcm": [], "rtplan.dcm": ["+xi"]}


@skip_if_dcmtk_sender  # DCMTK re-encodes every dataset (CT_small.dcm comes out changed)
@pytest.mark.parametrize("name", [*BYTE_IDENTICAL, "generated"])
def test_without_rewriting_the_dataset_arrives_byte_identical(
    dcmtk_storescp: Callable[..., StorescpPeer], generated_ct: GeneratedCT, name: str
) -> None:
    """storescp +B writes what it received; the fast path must not change a byte."""
    sent = generated_ct.explicit_le if name == "generated" else pydicom_file(name)
    peer = dcmtk_storescp("+B", *BYTE_IDENTICAL.get(name, []))
    result = send_to(peer, [sent])
    (received,) = peer.received_files()
    assert pydicom.dcmread(received).file_meta.TransferSyntaxUID == (
        pydicom.dcmread(sent).file_meta.TransferSyntaxUID
    )
    assert _dataset_bytes(received) == _dataset_bytes(sent), result.describe()
