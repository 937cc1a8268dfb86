"""Tests for storescu.dataset.rewrite: option checks, override parsing, DCMTK's counters, rewriting.

The counter expectations come from DCMTK storescu's replaceSOPInstanceInformation
(dcmnet/apps/storescu.cc), not from the code under test: a new series when the
image counter has reached +IR, a new study when the series counter has reached
+IS, a new patient when the study counter has reached +IP; counters from 0.
"""

from __future__ import annotations

import itertools
import logging
import re
import struct
from collections import Counter
from pathlib import Path

import pydicom
import pydicom.uid
import pytest
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from storescu.dataset import inspection, sources
from storescu.dataset.identity import Identity, Inventor
from storescu.dataset.rewrite import Rewriter
from storescu.dataset.rewriteopts import (
    DEFAULT_UID_ROOT,
    RewriteOptions,
    is_valid_uid,
    normalize_uid_root,
    parse_override,
    validate_uid_suffix,
)
from storescu.kernel.constants import EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN
from storescu.kernel.errors import ConversionError, RewriteError, UsageError

CT = str(get_testdata_file("CT_small.dcm"))
MR_BE = str(get_testdata_file("MR_small_bigendian.dcm"))
RTPLAN = str(get_testdata_file("rtplan.dcm"))
JPEG2000 = str(get_testdata_file("JPEG2000.dcm"))


# ------------------------------------------------------------------- UIDs, root, suffix


@pytest.mark.parametrize(
    "uid", ["0", "1.2", "1.2.840.10008.1.2.1", "2.25.0", "1." + "2" * 62, "1.0.3"]
)
def test_valid_uids(uid: str) -> None:
    assert is_valid_uid(uid)


@pytest.mark.parametrize(
    "uid",
    ["", ".1", "1.", "1..2", "1.02", "01.2", "1.2a", "1.2 ", "1." + "2" * 63, "1,2", "-1"],
)
def test_invalid_uids(uid: str) -> None:
    assert not is_valid_uid(uid)


def test_default_root_is_pydicoms() -> None:
    assert DEFAULT_UID_ROOT == pydicom.uid.PYDICOM_ROOT_UID
    assert RewriteOptions().uid_root == DEFAULT_UID_ROOT


def test_uid_root_gets_its_dot_and_is_checked() -> None:
    assert normalize_uid_root("1.2.3") == "1.2.3."
    assert normalize_uid_root("1.2.3.") == "1.2.3."
    longest = "1." + "2" * 41  # 43 characters: 20 left for the unique part
    assert normalize_uid_root(longest) == longest + "."
    for bad in ["", ".", "1.02", "1..2", "a.b", "1.2.3..", longest + "2"]:
        with pytest.raises(UsageError):
            normalize_uid_root(bad)


@pytest.mark.parametrize("suffix", [".1", "9", "1.2", ".0", ".10.3"])
def test_good_uid_suffixes(suffix: str) -> None:
    assert validate_uid_suffix(suffix) == suffix


@pytest.mark.parametrize("suffix", ["", ".", "1.", "..1", ".01", "a", ". 1", "1" * 63])
def test_bad_uid_suffixes(suffix: str) -> None:
    with pytest.raises(UsageError):
        validate_uid_suffix(suffix)


def test_options_are_checked_together() -> None:
    with pytest.raises(UsageError, match="at least 1"):
        RewriteOptions(invent=True, images_per_series=0)
    long_root = "1." + "2" * 41
    RewriteOptions(invent=True, uid_root=long_root)  # 20 digits left
    with pytest.raises(UsageError, match="fewer than 20"):
        RewriteOptions(invent=True, uid_root=long_root, uid_suffix=".1")
    RewriteOptions(uid_root=long_root, uid_suffix=".1")  # nothing invented: no room needed
    assert not RewriteOptions().active
    assert RewriteOptions(fix_uid_padding=True).active
    assert RewriteOptions(uid_suffix="1").active


# ------------------------------------------------------------------------- overrides


def test_override_by_keyword_tag_and_hex() -> None:
    for text in ["PatientID=X", "(0010,0020)=X", "( 0010 , 0020 )=X", "00100020=X"]:
        ov = parse_override(text)
        assert (ov.path, ov.tag, ov.vr, ov.values) == ((), 0x00100020, "LO", ("X",))
    assert parse_override("PatientName=ANON").values == ("ANON",)


def test_override_sequence_path() -> None:
    ov = parse_override("00400275[0].00400009=Y")
    assert ov.path == ((0x00400275, 0),)
    assert (ov.tag, ov.vr, ov.values) == (0x00400009, "SH", ("Y",))
    assert parse_override("RequestAttributesSequence.ScheduledProcedureStepID=Y").path == (
        (0x00400275, 0),
    )
    deep = parse_override("ReferencedImageSequence[2].PurposeOfReferenceCodeSequence.CodeValue=1")
    assert deep.path == ((0x00081140, 2), (0x0040A170, 0))
    assert deep.name == ("ReferencedImageSequence[2].PurposeOfReferenceCodeSequence[0].CodeValue")


def test_override_values_are_converted() -> None:
    assert parse_override("Rows=512").values == (512,)
    assert parse_override("ImageType=ORIGINAL\\PRIMARY").values == ("ORIGINAL", "PRIMARY")
    assert parse_override("PixelSpacing=0.5\\0.5").values == ("0.5", "0.5")
    assert parse_override("FrameIncrementPointer=FrameTime").values == (0x00181063,)
    assert parse_override("FrameIncrementPointer=00181063").values == (0x00181063,)
    assert parse_override("ImageComments=a\\b").values == ("a\\b",)  # LT: one value
    assert parse_override("PatientName=").values == ()
    assert parse_override("ReferencedImageSequence=").vr == "SQ"
    assert parse_override("StudyInstanceUID=1.2.3").values == ("1.2.3",)
    assert parse_override("SpecificCharacterSet=ISO_IR 192").values == ("ISO_IR 192",)
    assert parse_override("PatientName=Müller^Hans").values == ("Müller^Hans",)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("PatientName", "TAG=VALUE"),
        ("=x", "TAG=VALUE"),
        ("NoSuchKeyword=1", "unknown attribute keyword"),
        ("(0010,0020=X", "not a keyword"),
        ("001000200=X", "not a keyword"),
        ("(0011,0010)=X", "private"),
        ("00091001=X", "private"),
        ("(0002,0010)=1.2", "file meta"),
        ("(0000,0100)=1", "command"),
        ("(0010,0000)=1", "encoding element"),
        ("(FFFE,E000)=1", "encoding element"),
        ("SOPClassUID=1.2.3", "presentation context"),
        ("PixelData=1", "VR OB or OW"),
        ("(0009,0000)=1", "encoding element"),
        ("(0011,0000)=1", "encoding element"),
        ("(0010,9999)=X", "not in the data dictionary"),
        ("PatientName.PatientID=X", "not a sequence"),
        ("RequestAttributesSequence.ScheduledProcedureStepID[0]=Y", "item index"),
        ("ReferencedImageSequence=x", "only an empty value"),
        ("PatientName=A\\B", "VM"),
        ("PixelSpacing=0.5", "VM"),
        ("Rows=abc", "not an integer"),
        ("Rows=70000", "between 0 and 65535"),
        ("Rows=-1", "between 0 and 65535"),
        ("StudyDate=20241301", "Invalid value for VR DA"),
        ("StudyTime=250000", "Invalid value for VR TM"),
        ("StudyInstanceUID=1.2.03", "not a valid UID"),
        ("StudyInstanceUID=1." + "2" * 64, "not a valid UID"),
        ("Modality=ct", "Invalid value for VR CS"),
        ("StudyID=12345678901234567", "exceeds the maximum length"),
        ("PatientID=a\nb", "control characters"),
        ("SliceThickness=thick", "Invalid value for VR DS"),
        ("FrameIncrementPointer=NoSuchKeyword", "unknown attribute keyword"),
        ("PatientAge=12", "Invalid value for VR AS"),
    ],
)
def test_bad_overrides_are_usage_errors(text: str, why: str) -> None:
    with pytest.raises(UsageError, match=re.escape(why)):
        parse_override(text)


# ------------------------------------------------------------------ DCMTK's counters


def _inventor(**counts: int) -> Inventor:
    digits = (str(10**30 + n) for n in itertools.count())
    return Inventor(
        RewriteOptions(invent=True, **counts),
        clock=lambda: 1_700_000_000,
        random_digits=lambda: next(digits),
    )


def _take(inventor: Inventor, n: int) -> list[Identity]:
    return [inventor.next() for _ in range(n)]


def test_first_identity_counts_from_zero() -> None:
    first = _inventor().next()
    assert (first.patient, first.study, first.series, first.image) == (0, 0, 0, 0)
    assert first.patient_name == "OFFIS^TEST_PN_17000000000"
    assert first.patient_id == "PID_17000000000"
    assert first.study_id == "SID_17000000000"
    assert first.accession_number == "17000000000"
    assert first.series_number == "0"
    assert first.instance_number == "0"
    for uid in (first.study_instance_uid, first.series_instance_uid, first.sop_instance_uid):
        assert uid.startswith(DEFAULT_UID_ROOT)
        assert is_valid_uid(uid)
        assert len(uid) == 64


def test_series_after_n_images_and_counters_go_on() -> None:
    ids = _take(_inventor(images_per_series=3), 20)  # 10 files, --repeat 2
    assert [i.image for i in ids] == [0, 1, 2] * 6 + [0, 1]
    assert [int(i.series_number) for i in ids] == [s for s in range(7) for _ in range(3)][:20]
    series = Counter(i.series_instance_uid for i in ids)
    assert sorted(series.values(), reverse=True) == [3, 3, 3, 3, 3, 3, 2]
    assert len({i.sop_instance_uid for i in ids}) == 20
    assert len({i.study_instance_uid for i in ids}) == 1
    assert len({i.patient_id for i in ids}) == 1
    assert [i.instance_number for i in ids[:4]] == ["0", "1", "2", "0"]


def test_study_after_n_series() -> None:
    ids = _take(_inventor(images_per_series=2, series_per_study=2), 10)
    studies = [i.study_instance_uid for i in ids]
    assert [len(list(g)) for _, g in itertools.groupby(studies)] == [4, 4, 2]
    assert len({i.series_instance_uid for i in ids}) == 5
    assert [i.study for i in ids] == [0] * 4 + [1] * 4 + [2] * 2
    # SeriesNumber restarts in each study (DCMTK would give 2 to the first
    # series of the second study: its counter before the reset).
    assert [i.series_number for i in ids] == ["0", "0", "1", "1"] * 2 + ["0", "0"]
    assert [i.study_id[-1] for i in ids] == ["0"] * 4 + ["1"] * 4 + ["2"] * 2
    assert len({i.accession_number for i in ids}) == 3


def test_patient_after_n_studies() -> None:
    ids = _take(_inventor(images_per_series=1, series_per_study=2, studies_per_patient=2), 10)
    assert len({i.series_instance_uid for i in ids}) == 10
    assert len({i.study_instance_uid for i in ids}) == 5
    patients = [i.patient_id for i in ids]
    assert [len(list(g)) for _, g in itertools.groupby(patients)] == [4, 4, 2]
    assert [i.patient for i in ids] == [0] * 4 + [1] * 4 + [2] * 2
    assert ids[4].patient_name == "OFFIS^TEST_PN_17000000001"
    assert ids[4].study == 0  # the study counter restarts with each patient...
    # ...but StudyID and AccessionNumber count the run's studies, so they stay unique
    assert len({i.accession_number for i in ids}) == 5


def test_defaults_are_dcmtks() -> None:
    opts = RewriteOptions(invent=True)
    assert (opts.images_per_series, opts.series_per_study, opts.studies_per_patient) == (
        100,
        50,
        25,
    )
    ids = _take(_inventor(), 101)
    assert len({i.series_instance_uid for i in ids}) == 2
    assert ids[100].image == 0 and ids[99].image == 99


def test_short_string_stamps_stay_within_16_characters() -> None:
    ids = _take(_inventor(images_per_series=1, series_per_study=1), 1200)
    assert max(len(i.study_id) for i in ids) == 16
    assert max(len(i.accession_number) for i in ids) <= 16
    assert len({i.study_id for i in ids}) == 1200
    assert ids[1000].study_id == "SID_00000000" + "1000"  # "17" of 1700000000 dropped


def test_invented_uids_leave_room_for_the_suffix() -> None:
    inventor = Inventor(RewriteOptions(invent=True, uid_suffix=".12345", uid_root="1.2.3"))
    identity = inventor.next()
    for uid in (identity.sop_instance_uid, identity.study_instance_uid):
        assert uid.startswith("1.2.3.")
        assert len(uid) == 64 - len(".12345")
        assert is_valid_uid(uid + ".12345")
    assert len({inventor.next().sop_instance_uid for _ in range(1000)}) == 1000


def test_identity_is_logged_like_dcmtk(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="storescu"):
        _inventor().next().log()
    lines = [r.getMessage() for r in caplog.records]
    assert lines[0] == "Inventing Identifying Information (pa0, st0, se0, im0):"
    assert "  PatientName=OFFIS^TEST_PN_17000000000" in lines
    assert any(line.startswith("  SOPInstanceUID=1.2.826.0.1.3680043.8.498.") for line in lines)
    assert "  ImageNumber=0" in lines


# ------------------------------------------------------------------------- rewriting


@pytest.fixture
def ct() -> Dataset:
    return pydicom.dcmread(CT)


def _rewriter(**options: object) -> Rewriter:
    return Rewriter(RewriteOptions(**options))  # type: ignore[arg-type]


def test_invented_identity_is_written_and_added(ct: Dataset) -> None:
    del ct.AccessionNumber, ct.StudyID
    rewriter = _rewriter(invent=True)
    rewriter.apply(ct)
    assert str(ct.PatientName).startswith("OFFIS^TEST_PN_")
    assert ct.PatientID.startswith("PID_")
    assert ct.StudyID.startswith("SID_")
    assert ct["StudyID"].VR == "SH" and ct["AccessionNumber"].VR == "SH"
    assert ct.SeriesNumber == 0 and ct.InstanceNumber == 0
    assert ct.SOPInstanceUID.startswith(DEFAULT_UID_ROOT)


def test_retries_of_one_send_keep_the_identity(ct: Dataset) -> None:
    rewriter = _rewriter(invent=True)
    uids = []
    for send in (1, 1, 2, 0, 0):
        ds = pydicom.dcmread(CT)
        rewriter.apply(ds, send)
        uids.append(ds.SOPInstanceUID)
    assert uids[0] == uids[1]
    assert len(set(uids)) == 4


def test_uid_suffix(ct: Dataset) -> None:
    study, series, sop = ct.StudyInstanceUID, ct.SeriesInstanceUID, ct.SOPInstanceUID
    _rewriter(uid_suffix=".9").apply(ct)
    assert (ct.StudyInstanceUID, ct.SeriesInstanceUID, ct.SOPInstanceUID) == (
        study + ".9",
        series + ".9",
        sop + ".9",
    )


def test_uid_suffix_making_an_invalid_uid_stops_the_file(ct: Dataset) -> None:
    ct.SeriesInstanceUID = "1.2." + "3" * 58  # 62 characters
    with pytest.raises(RewriteError, match="longer than 64"):
        _rewriter(uid_suffix=".99").apply(ct)
    ct.SeriesInstanceUID = "1.2.0"
    with pytest.raises(RewriteError, match="not valid"):
        _rewriter(uid_suffix="5").apply(ct)  # 1.2.05


def test_overrides_set_add_and_create_sequences(ct: Dataset) -> None:
    overrides = tuple(
        parse_override(t)
        for t in (
            "PatientName=ANON",
            "(0010,0020)=X",
            "00400275[0].00400009=Y",
            "RequestAttributesSequence[1].ScheduledProcedureStepID=Z",
            "ImageType=DERIVED\\SECONDARY",
            "Rows=64",
        )
    )
    _rewriter(overrides=overrides).apply(ct)
    assert ct.PatientName == "ANON" and ct.PatientID == "X"
    assert [i.ScheduledProcedureStepID for i in ct.RequestAttributesSequence] == ["Y", "Z"]
    assert list(ct.ImageType) == ["DERIVED", "SECONDARY"]
    assert ct.Rows == 64


def test_override_into_an_existing_item_keeps_the_rest() -> None:
    ds = pydicom.dcmread(RTPLAN)
    first = ds.BeamSequence[0]
    name, count = first.BeamName, len(ds.BeamSequence)
    _rewriter(overrides=(parse_override("BeamSequence[0].BeamDescription=checked"),)).apply(ds)
    assert len(ds.BeamSequence) == count
    assert ds.BeamSequence[0].BeamName == name
    assert ds.BeamSequence[0].BeamDescription == "checked"


def test_override_item_beyond_the_next_one_stops_the_file(ct: Dataset) -> None:
    with pytest.raises(RewriteError, match="no item"):
        _rewriter(overrides=(parse_override("00400275[1].00400009=Y"),)).apply(ct)
    ct.RequestAttributesSequence = Sequence([Dataset()])
    with pytest.raises(RewriteError, match="1 item"):
        _rewriter(overrides=(parse_override("00400275[2].00400009=Y"),)).apply(ct)


def test_explicit_override_wins_over_invention(ct: Dataset) -> None:
    rewriter = _rewriter(invent=True, overrides=(parse_override("PatientID=KEEP"),))
    rewriter.apply(ct)
    assert ct.PatientID == "KEEP"
    assert str(ct.PatientName).startswith("OFFIS^TEST_PN_")


def test_non_ascii_values_need_a_character_set(ct: Dataset) -> None:
    umlaut = (parse_override("PatientName=Müller"),)
    _rewriter(overrides=umlaut).apply(ct)  # CT_small is ISO_IR 100
    assert ct.PatientName == "Müller"
    del ct.SpecificCharacterSet
    with pytest.raises(RewriteError, match="no Specific Character Set"):
        _rewriter(overrides=umlaut).apply(ct)
    ct.SpecificCharacterSet = "ISO_IR 100"
    with pytest.raises(RewriteError, match="cannot be encoded"):
        _rewriter(overrides=(parse_override("PatientName=\u4e2d\u6587"),)).apply(ct)
    both = (parse_override("SpecificCharacterSet=ISO_IR 192"), parse_override("PatientName=中文"))
    _rewriter(overrides=both).apply(ct)
    assert ct.PatientName == "中文"


@pytest.mark.filterwarnings("ignore:Invalid value for VR UI")
def test_uid_padding_is_fixed_everywhere() -> None:
    ds = pydicom.dcmread(RTPLAN)
    ref = ds.ReferencedStructureSetSequence[0]
    ref.ReferencedSOPInstanceUID = "1.2.3 "
    ds.SOPInstanceUID = " 1.2.4 "
    _rewriter(fix_uid_padding=True).apply(ds)
    assert ds.SOPInstanceUID == "1.2.4"
    assert ds.ReferencedStructureSetSequence[0].ReferencedSOPInstanceUID == "1.2.3"


@pytest.mark.filterwarnings("ignore:Invalid value for VR UI")
def test_uid_padding_in_raw_values(tmp_path: Path) -> None:
    ds = pydicom.dcmread(CT)
    ds.SOPInstanceUID = "1.2.3 "
    ds.ReferencedImageSequence = Sequence([Dataset()])
    ds.ReferencedImageSequence[0].ReferencedSOPInstanceUID = "1.2.9  "
    path = tmp_path / "padded.dcm"
    ds.save_as(path)
    info = inspection.inspect_file(str(path))
    reader, instance = _rewriter(fix_uid_padding=True).open(info, None, info.transfer_syntax)
    assert instance == "1.2.3"
    sent = pydicom.dcmread(_as_file(reader.read(), info.transfer_syntax, tmp_path))
    assert sent["SOPInstanceUID"].value == "1.2.3"
    assert sent.ReferencedImageSequence[0]["ReferencedSOPInstanceUID"].value == "1.2.9"


def _as_file(dataset: bytes, ts: str, tmp_path: Path, name: str = "sent.dcm") -> Path:
    path = tmp_path / name
    path.write_bytes(sources.build_file_meta("1.2.3", "1.2.3", ts) + dataset)
    return path


# ------------------------------------------------------------- open: encode and stream


def _with_big_value(tmp_path: Path, name: str, ts: str) -> Path:
    """CT_small with 300 KB of OW pixel data (above the 64 KiB defer size)."""
    ds = pydicom.dcmread(CT)
    ds.Rows, ds.Columns = 300, 512
    ds.PixelData = bytes(range(256)) * 1200
    ds["PixelData"].VR = "OW"
    ds.file_meta.TransferSyntaxUID = ts
    path = tmp_path / name
    ds.save_as(path, implicit_vr=ts == IMPLICIT_VR_LITTLE_ENDIAN, little_endian=True)
    return path


@pytest.mark.parametrize(
    "target", [EXPLICIT_VR_LITTLE_ENDIAN, "1.2.840.10008.1.2.2", IMPLICIT_VR_LITTLE_ENDIAN]
)
def test_large_values_are_streamed_and_swapped(tmp_path: Path, target: str) -> None:
    from storescu.dataset import transcode

    path = _with_big_value(tmp_path, "big.dcm", EXPLICIT_VR_LITTLE_ENDIAN)
    info = inspection.inspect_file(str(path))
    ds, _ = transcode.read_deferred(info)
    assert ds.get_item(0x7FE00010, keep_deferred=True).value is None
    parts = transcode.encode_parts(ds, info.transfer_syntax, target, info.path)
    spans = [p for p in parts if isinstance(p, transcode.FileSpan)]
    assert len(spans) == 1 and spans[0].length == 300 * 512 * 2
    assert spans[0].swap == (2 if target == "1.2.840.10008.1.2.2" else 0)
    reader = transcode.PartsReader(parts)
    data = reader.read()
    assert len(data) == reader.length
    # The same bytes as the in-memory transcoder (or the file itself).
    expected = (
        sources.open_dataset(info, target).read()
        if target == info.transfer_syntax
        else transcode.transcode_file(info, target)
    )
    if target != info.transfer_syntax:
        assert data == expected
    got = pydicom.dcmread(_as_file(data, target, tmp_path))
    pixels = pydicom.dcmread(path).PixelData
    if target == "1.2.840.10008.1.2.2":  # pydicom leaves OW bytes in the file's order
        pixels = b"".join(pixels[i : i + 2][::-1] for i in range(0, len(pixels), 2))
    assert got.PixelData == pixels


def test_parts_reader_small_buffers_and_odd_sizes(tmp_path: Path) -> None:
    from storescu.dataset import transcode

    path = tmp_path / "raw.bin"
    path.write_bytes(bytes(range(256)) * 40)
    parts: list[transcode.Part] = [
        b"head",
        transcode.FileSpan(str(path), 3, 8 * 100 + 5, swap=8),
        b"",
        transcode.FileSpan(str(path), 0, 10),
        b"tail",
    ]
    reader = transcode.PartsReader(parts)
    out = bytearray()
    buf = bytearray(13)
    while True:
        n = reader.readinto(memoryview(buf))
        if not n:
            break
        out += buf[:n]
    raw = path.read_bytes()
    words = raw[3 : 3 + 800]
    swapped = b"".join(words[i : i + 8][::-1] for i in range(0, 800, 8)) + raw[803:808]
    assert bytes(out) == b"head" + swapped + raw[:10] + b"tail"
    assert reader.length == len(out)
    reader.close()


def test_parts_reader_notices_a_shrunk_file(tmp_path: Path) -> None:
    from storescu.dataset import transcode
    from storescu.kernel.errors import InvalidFileError

    path = tmp_path / "raw.bin"
    path.write_bytes(bytes(100))
    reader = transcode.PartsReader([transcode.FileSpan(str(path), 50, 100)])
    with pytest.raises(InvalidFileError, match="truncated"):
        reader.read()


def test_compressed_pixel_data_goes_out_as_it_is(tmp_path: Path) -> None:
    info = inspection.inspect_file(JPEG2000)
    rewriter = _rewriter(invent=True)
    reader, instance = rewriter.open(info, None, info.transfer_syntax)
    sent = pydicom.dcmread(_as_file(reader.read(), info.transfer_syntax, tmp_path))
    original = pydicom.dcmread(JPEG2000)
    assert sent.PixelData == original.PixelData
    assert sent.SOPInstanceUID == instance != original.SOPInstanceUID
    with pytest.raises(ConversionError, match="cannot convert"):
        rewriter.open(info, None, EXPLICIT_VR_LITTLE_ENDIAN)


def test_open_in_memory_dataset_copies_and_updates_meta() -> None:
    ds = pydicom.dcmread(CT)
    before = ds.SOPInstanceUID
    info = inspection.FileInfo(
        "<dataset 0>", ds.SOPClassUID, before, EXPLICIT_VR_LITTLE_ENDIAN, 0, 0, False
    )
    reader, instance = _rewriter(uid_suffix=".1").open(info, ds, IMPLICIT_VR_LITTLE_ENDIAN)
    assert instance == before + ".1"
    assert ds.SOPInstanceUID == before  # the caller's dataset is untouched
    assert reader.length > 0


def test_unchanged_rewrite_keeps_every_element(tmp_path: Path) -> None:
    from tests.helpers.compare import assert_same_dataset

    for name in (CT, MR_BE, RTPLAN):
        info = inspection.inspect_file(name)
        # An override that sets what is already there changes nothing.
        same = parse_override(f"PatientID={pydicom.dcmread(name).PatientID}")
        reader, _ = _rewriter(overrides=(same,)).open(info, None, info.transfer_syntax)
        sent = _as_file(reader.read(), info.transfer_syntax, tmp_path, Path(name).name)
        assert_same_dataset(name, sent)


# ---------------------------------------------------------------------- command line


def test_command_line_names_the_bad_override() -> None:
    from storescu.cli.options import Options
    from storescu.cli.parser import parse_args

    with pytest.raises(UsageError) as info:
        parse_args(["-s", "PatientID=1", "--set", "PatientName=A\\B", "pacs", "104", "a.dcm"])
    assert str(info.value) == (
        "invalid value for option --set: PatientName=A\\B "
        "(PatientName takes 1 value(s) (VM), not 2)"
    )
    parsed = parse_args(["-s", "PatientID=1", "--set", "PatientID=2", "pacs", "104", "a.dcm"])
    assert isinstance(parsed, Options)
    assert [o.values for o in parsed.overrides] == [("1",), ("2",)]
    with pytest.raises(UsageError, match="option \\+IR: 0"):
        parse_args(["+IR", "0", "pacs", "104", "a.dcm"])


def test_public_names_stay_where_they_were() -> None:
    """The names that moved to rewriteopts and identity are still those of storescu.rewrite."""
    import storescu
    from storescu.dataset import identity, rewrite, rewriteopts
    from storescu.rewrite import RewriteOptions as old_path_options
    from storescu.rewrite import parse_override as old_path_parse

    assert old_path_options is RewriteOptions is storescu.RewriteOptions
    assert old_path_parse is parse_override
    for name in rewrite.__all__:
        home = identity if name in identity.__all__ else rewriteopts
        if name != "Rewriter":
            assert getattr(rewrite, name) is getattr(home, name), name


# -------------------------------------------------- splicing (top-level changes only)


def _twin_rewriters(**options: object) -> tuple[Rewriter, Rewriter]:
    """Two rewriters inventing the same identities (fixed clock and digits)."""
    opts = RewriteOptions(**options)  # type: ignore[arg-type]

    def inventor() -> Inventor | None:
        if not opts.invent:
            return None
        digits = (str(10**30 + n) for n in itertools.count())
        return Inventor(opts, clock=lambda: 1_700_000_000, random_digits=lambda: next(digits))

    return Rewriter(opts, inventor()), Rewriter(opts, inventor())


def _full_path(rewriter: Rewriter, info: inspection.FileInfo) -> bytes:
    from storescu.dataset import transcode

    ds, info = transcode.read_deferred(info)
    rewriter.apply(ds)
    parts = transcode.encode_parts(ds, info.transfer_syntax, info.transfer_syntax, info.path)
    return transcode.PartsReader(parts).read()


SPLICE_CASES = {
    "invent": {"invent": True},
    "suffix": {"uid_suffix": ".42"},
    "overrides": {
        "overrides": tuple(
            parse_override(t)
            for t in (
                "PatientName=ANON",
                "Rows=64",
                "ClinicalTrialSponsorName=Sponsor",  # (0012,0010): a new element in between
                "FrameIncrementPointer=FrameTime",
                "ReferencedImageSequence=",
                "ImageType=DERIVED\\SECONDARY",
                "PatientWeight=70.5",
                "AccessionNumber=",
            )
        )
    },
    "all": {
        "invent": True,
        "images_per_series": 2,
        "uid_suffix": ".1",
        "overrides": (parse_override("PatientID=X"),),
    },
}


@pytest.mark.parametrize("case", list(SPLICE_CASES))
@pytest.mark.parametrize("name", [CT, MR_BE, RTPLAN, JPEG2000], ids=lambda p: Path(p).name)
def test_splice_gives_what_the_full_rewrite_gives(tmp_path: Path, name: str, case: str) -> None:
    from tests.helpers.compare import assert_same_dataset

    spliced, full = _twin_rewriters(**SPLICE_CASES[case])
    assert spliced.spliceable
    info = inspection.inspect_file(name)
    for n in range(3):  # the counters go on the same way
        reader, instance = spliced.open(info, None, info.transfer_syntax, n + 1)
        a = _as_file(reader.read(), info.transfer_syntax, tmp_path, f"spliced{n}.dcm")
        b = _as_file(_full_path(full, info), info.transfer_syntax, tmp_path, f"full{n}.dcm")
        assert_same_dataset(b, a)
        assert pydicom.dcmread(a).SOPInstanceUID == instance


def _elements(data: bytes, ts: str) -> dict[int, bytes]:
    """tag -> raw element bytes of a dataset's top level (for byte comparisons)."""
    from storescu.dataset import splice
    from storescu.dataset.inspection import _Window

    implicit, little = ts == IMPLICIT_VR_LITTLE_ENDIAN, ts != "1.2.840.10008.1.2.2"
    elements, _ = splice._walk(_Window(None, data), 0, len(data), implicit, little)
    return {tag: data[start:stop] for tag, start, stop, _ in elements}


@pytest.mark.parametrize("name", [CT, MR_BE, RTPLAN, JPEG2000], ids=lambda p: Path(p).name)
def test_splice_keeps_every_other_byte(name: str) -> None:
    info = inspection.inspect_file(name)
    original = _elements(
        sources.open_dataset(info, info.transfer_syntax).read(), info.transfer_syntax
    )
    rewriter = _rewriter(invent=True, overrides=(parse_override("ClinicalTrialSponsorName=S"),))
    reader, _ = rewriter.open(info, None, info.transfer_syntax, 1)
    sent = _elements(reader.read(), info.transfer_syntax)
    changed = set(INVENTED_TAGS) | {0x00120010}
    for tag, raw in original.items():
        if tag in changed or (tag & 0xFFFF == 0 and tag >> 16 in {t >> 16 for t in changed}):
            continue
        assert sent[tag] == raw, hex(tag)
    assert set(sent) >= changed
    assert list(sent) == sorted(sent) or list(original) != sorted(original)


INVENTED_TAGS = (
    0x00080018, 0x00080050, 0x00100010, 0x00100020, 0x0020000D,
    0x0020000E, 0x00200010, 0x00200011, 0x00200013,
)  # fmt: skip


def test_splice_streams_a_large_file(tmp_path: Path) -> None:
    from storescu.dataset import transcode

    path = _with_big_value(tmp_path, "big.dcm", EXPLICIT_VR_LITTLE_ENDIAN)
    ds = pydicom.dcmread(path)  # above 1 MiB, so not spliced in memory
    ds.Rows = 300 + 2048
    ds.PixelData = ds.PixelData + bytes(2048 * 512 * 2)
    ds.save_as(path)
    info = inspection.inspect_file(str(path))
    reader, _ = _rewriter(invent=True).open(info, None, info.transfer_syntax, 1)
    assert isinstance(reader, transcode.PartsReader)
    spans = [p for p in reader._parts if isinstance(p, transcode.FileSpan)]
    assert spans and max(s.length for s in spans) > 2 * 1024 * 1024
    sent = pydicom.dcmread(_as_file(reader.read(), info.transfer_syntax, tmp_path))
    assert sent.PixelData == ds.PixelData


def test_splice_drops_the_group_lengths_it_would_falsify(tmp_path: Path) -> None:
    # pydicom drops group lengths when writing: put two in by hand (explicit VR LE).
    info = inspection.inspect_file(CT)
    data = sources.open_dataset(info, info.transfer_syntax).read()
    elements = _elements(data, info.transfer_syntax)
    group_length = {g: struct.pack("<HH2sHI", g, 0, b"UL", 4, 0) for g in (0x0010, 0x0028)}
    crafted = b"".join(
        (group_length.pop(tag >> 16, b"") if tag & 0xFFFF else b"") + raw
        for tag, raw in elements.items()
    )
    path = _as_file(crafted, info.transfer_syntax, tmp_path, "grouplength.dcm")
    info = inspection.inspect_file(str(path))
    reader, _ = _rewriter(overrides=(parse_override("PatientName=ANON"),)).open(
        info, None, info.transfer_syntax
    )
    sent = _elements(reader.read(), info.transfer_syntax)
    assert 0x00100000 not in sent and 0x00280000 in sent
    assert sent[0x00100010].endswith(b"ANON")


def test_splice_encodes_non_ascii_in_the_files_character_set(tmp_path: Path) -> None:
    info = inspection.inspect_file(CT)  # ISO_IR 100
    reader, _ = _rewriter(overrides=(parse_override("PatientName=Müller"),)).open(
        info, None, info.transfer_syntax
    )
    data = reader.read()
    assert "Müller".encode("latin-1") in data
    assert pydicom.dcmread(_as_file(data, info.transfer_syntax, tmp_path)).PatientName == "Müller"
    info = inspection.inspect_file(RTPLAN)  # no Specific Character Set
    with pytest.raises(RewriteError, match="Specific Character Set"):
        _rewriter(overrides=(parse_override("PatientName=Müller"),)).open(
            info, None, info.transfer_syntax
        )
    both = (parse_override("SpecificCharacterSet=ISO_IR 192"), parse_override("PatientName=中文"))
    reader, _ = _rewriter(overrides=both).open(info, None, info.transfer_syntax)
    sent = pydicom.dcmread(_as_file(reader.read(), info.transfer_syntax, tmp_path))
    assert sent.PatientName == "中文"


@pytest.mark.parametrize("little", [True, False])
def test_encode_element(little: bool) -> None:
    from storescu.dataset.splice import encode_element

    e = "<" if little else ">"
    assert encode_element(0x00280010, "US", (512,), False, little) == struct.pack(
        e + "HH2sHH", 0x0028, 0x0010, b"US", 2, 512
    )
    assert encode_element(0x00100010, "PN", ("ABC",), True, True) == (
        b"\x10\x00\x10\x00\x04\x00\x00\x00ABC "
    )
    assert encode_element(0x0020000D, "UI", ("1.2.3",), False, little).endswith(b"1.2.3\x00")
    assert encode_element(0x00081140, "SQ", (), False, little) == struct.pack(
        e + "HH2sHI", 0x0008, 0x1140, b"SQ", 0, 0
    )
    assert encode_element(0x00280009, "AT", (0x00181063,), False, little)[-4:] == struct.pack(
        e + "HH", 0x0018, 0x1063
    )
    assert encode_element(0x00080008, "CS", ("A", "BC"), False, little)[-4:] == b"A\\BC"


def test_splice_adds_missing_attributes_in_tag_order(tmp_path: Path) -> None:
    from tests.helpers.compare import assert_same_dataset

    ds = pydicom.dcmread(CT)
    del ds.AccessionNumber, ds.StudyID, ds.InstanceNumber, ds.SeriesNumber, ds.PatientID
    path = tmp_path / "sparse.dcm"
    ds.save_as(path)
    info = inspection.inspect_file(str(path))
    spliced, full = _twin_rewriters(invent=True, uid_suffix=".3")
    reader, _ = spliced.open(info, None, info.transfer_syntax, 1)
    data = reader.read()
    tags = list(_elements(data, info.transfer_syntax))
    assert tags == sorted(tags)
    assert set(INVENTED_TAGS) <= set(tags)
    a = _as_file(data, info.transfer_syntax, tmp_path, "a.dcm")
    b = _as_file(_full_path(full, info), info.transfer_syntax, tmp_path, "b.dcm")
    assert_same_dataset(b, a)
