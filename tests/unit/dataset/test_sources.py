"""Tests for storescu.dataset.inspection, .readers, .sources (and .transcode behind open_dataset).

Crafted files are built byte by byte with the small writer below, not with the
code under test, so a bug in the encoder cannot hide a bug in the reader.
"""

from __future__ import annotations

import io
import os
import shutil
import struct
import subprocess
import sys
import warnings
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pydicom
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydicom.data import get_testdata_file, get_testdata_files
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.filereader import read_dataset, read_sequence

from storescu.dataset import inspection, readers
from storescu.dataset.inspection import FileInfo, can_convert, inspect_file
from storescu.dataset.sources import (
    build_file_meta,
    dataset_identity,
    encode_dataset,
    open_dataset,
)
from storescu.kernel.constants import (
    DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN,
    EXPLICIT_VR_BIG_ENDIAN,
    EXPLICIT_VR_LITTLE_ENDIAN,
    IMPLEMENTATION_CLASS_UID,
    IMPLEMENTATION_VERSION_NAME,
    IMPLICIT_VR_LITTLE_ENDIAN,
)
from storescu.kernel.errors import (
    ConversionError,
    FileAccessError,
    InvalidFileError,
    SourceError,
    StorescuError,
    UsageError,
)

IMPLICIT, EXPLICIT, BIG = (
    IMPLICIT_VR_LITTLE_ENDIAN,
    EXPLICIT_VR_LITTLE_ENDIAN,
    EXPLICIT_VR_BIG_ENDIAN,
)
DEFLATED = DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN
UNCOMPRESSED = (IMPLICIT, EXPLICIT, BIG)
CONVERTIBLE = (*UNCOMPRESSED, DEFLATED)
CT_CLASS = "1.2.840.10008.5.1.4.1.1.2"
SC_CLASS = "1.2.840.10008.5.1.4.1.1.7"
TESTDATA = Path(get_testdata_file("CT_small.dcm")).parent  # type: ignore[arg-type]


# pydicom warns about odd values in its own test files while the tests decode them.
pytestmark = pytest.mark.filterwarnings("ignore:Invalid value for VR:UserWarning")


def data_file(name: str) -> str:
    path = get_testdata_file(name)
    assert path is not None
    return str(path)


# ------------------------------------------------------------ a tiny DICOM writer

_LONG = {"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"}


def el(tag: int, vr: str, value: bytes, *, implicit: bool = False, little: bool = True) -> bytes:
    """One element with a defined length (value padded to even length)."""
    if len(value) % 2:
        value += b"\x00" if vr in ("UI", "OB", "UN") else b" "
    e = "<" if little else ">"
    group, elem = tag >> 16, tag & 0xFFFF
    if implicit:
        return struct.pack(e + "HHI", group, elem, len(value)) + value
    if vr in _LONG:
        return struct.pack(e + "HH2sHI", group, elem, vr.encode(), 0, len(value)) + value
    return struct.pack(e + "HH2sH", group, elem, vr.encode(), len(value)) + value


def undefined_sq(tag: int, items: list[bytes], *, implicit: bool = False) -> bytes:
    """A sequence of undefined length whose items have undefined length (PS3.5 7.5.2)."""
    head = (
        struct.pack("<HHI", tag >> 16, tag & 0xFFFF, 0xFFFFFFFF)
        if implicit
        else struct.pack("<HH2sHI", tag >> 16, tag & 0xFFFF, b"SQ", 0, 0xFFFFFFFF)
    )
    body = b"".join(
        struct.pack("<HHI", 0xFFFE, 0xE000, 0xFFFFFFFF)
        + item
        + struct.pack("<HHI", 0xFFFE, 0xE00D, 0)
        for item in items
    )
    return head + body + struct.pack("<HHI", 0xFFFE, 0xE0DD, 0)


def item(content: bytes) -> bytes:
    """A sequence item of defined length (PS3.5 7.5.1)."""
    return struct.pack("<HHI", 0xFFFE, 0xE000, len(content)) + content


def uid_elements(*, implicit: bool = False, little: bool = True, cls: str = CT_CLASS) -> bytes:
    return el(0x00080016, "UI", cls.encode(), implicit=implicit, little=little) + el(
        0x00080018, "UI", b"1.2.3.4.5", implicit=implicit, little=little
    )


def small_dataset(*, implicit: bool = False, little: bool = True) -> bytes:
    kw = {"implicit": implicit, "little": little}
    return (
        el(0x00080005, "CS", b"ISO_IR 100", **kw)
        + uid_elements(**kw)
        + el(0x00100010, "PN", b"Doe^John", **kw)
        + el(0x00280010, "US", struct.pack("<H" if little else ">H", 2), **kw)
        + el(0x7FE00010, "OW", bytes(range(8)), **kw)
    )


def meta(
    *,
    cls: str | None = CT_CLASS,
    inst: str | None = "1.2.3.4.5",
    ts: str | None = EXPLICIT,
    group_length: int | None = None,
    preamble: bool = True,
) -> bytes:
    """File meta information built by hand (PS3.10 7.1)."""
    body = el(0x00020001, "OB", b"\x00\x01")
    for elem, value in ((0x0002, cls), (0x0003, inst), (0x0010, ts)):
        if value is not None:
            body += el(0x00020000 | elem, "UI", value.encode())
    body += el(0x00020012, "UI", b"1.2.3")
    length = len(body) if group_length is None else group_length
    group = el(0x00020000, "UL", struct.pack("<I", length)) + body
    return (bytes(128) + b"DICM" if preamble else b"") + group


def write(tmp_path: Path, data: bytes, name: str = "f.dcm") -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def reason(path: str, **kwargs: Any) -> str:
    with pytest.raises(SourceError) as info:
        inspect_file(path, **kwargs)
    return info.value.reason


# ------------------------------------------------------------------ inspect_file

NOT_DICOM = {
    "README.txt", "README", "crayons.icc", "rtplan.dump", "rtstruct.dump",
    "test1.json", "test_PN.json", "zipMR.gz", "no_meta.dcm",
}  # fmt: skip
EXPECTED_FAILURES = {
    "MR_truncated.dcm": "truncated at offset 1488",  # inside Pixel Data, like dcmdump says
    "rtplan_truncated.dcm": "truncated at offset 1410",
    "SC_rgb_jpeg.dcm": "dataset is not encoded in JPEG Baseline",  # implicit VR inside
    "empty_charset_LEI.dcm": "missing SOP Class UID",
    "meta_missing_tsyntax.dcm": "missing SOP Class UID",
    "nested_priv_SQ.dcm": "missing SOP Class UID",
}
ALL_FILES = sorted(str(p) for p in map(Path, get_testdata_files()) if p.is_file())


def _pydicom_view(path: str) -> tuple[str | None, str | None, str, Dataset]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = pydicom.dcmread(path, force=True)
    fm = ds.file_meta
    # The dataset's UIDs win over the meta header's, as in DCMTK.
    cls = ds.get("SOPClassUID") or fm.get("MediaStorageSOPClassUID")
    inst = ds.get("SOPInstanceUID") or fm.get("MediaStorageSOPInstanceUID")
    implicit, little = ds.original_encoding
    ts = fm.get("TransferSyntaxUID") or (IMPLICIT if implicit else EXPLICIT if little else BIG)
    return cls, inst, str(ts), ds


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: os.path.relpath(p, TESTDATA))
def test_inspect_pydicom_test_files(path: str) -> None:
    name = Path(path).name
    if name in NOT_DICOM:
        assert reason(path) == "not a DICOM file"
        return
    if name in EXPECTED_FAILURES:
        with pytest.raises(InvalidFileError) as exc:
            inspect_file(path)
        assert exc.value.reason == EXPECTED_FAILURES[name]
        assert exc.value.path == path
        return
    info = inspect_file(path)
    cls, inst, ts, ds = _pydicom_view(path)
    assert (info.sop_class_uid, info.sop_instance_uid) == (cls, inst)
    assert info.transfer_syntax == ts
    assert info.file_size == os.path.getsize(path)
    assert info.dataset_length == info.file_size - info.dataset_offset
    assert info.has_meta == (info.dataset_offset > 0)
    if ts == DEFLATED:
        return
    # The dataset offset is right: pydicom reads the same dataset from there.
    implicit, little = ts == IMPLICIT, ts != BIG
    with open(path, "rb") as fp:
        fp.seek(info.dataset_offset)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            again = read_dataset(fp, implicit, little)
    assert sorted(again.keys()) == [k for k in sorted(ds.keys()) if k.group != 2]


def test_fast_inspection_agrees_without_truncation_check() -> None:
    for path in ALL_FILES:
        try:
            full = inspect_file(path)
        except SourceError:
            continue
        assert inspect_file(path, check_truncation=False) == full


def test_empty_file(tmp_path: Path) -> None:
    assert reason(write(tmp_path, b"")) == "empty file"


@pytest.mark.parametrize(
    "data",
    [b"x", b"hello world, not dicom at all" * 10, os.urandom(4096), bytes(200), b"\xff" * 300],
)
def test_not_dicom(tmp_path: Path, data: bytes) -> None:
    assert reason(write(tmp_path, data)) == "not a DICOM file"


def test_missing_path(tmp_path: Path) -> None:
    path = str(tmp_path / "nope.dcm")
    with pytest.raises(FileAccessError) as exc:
        inspect_file(path)
    assert exc.value.reason == "cannot access file: No such file or directory"
    assert exc.value.path == path


def test_directory(tmp_path: Path) -> None:
    with pytest.raises(FileAccessError) as exc:
        inspect_file(str(tmp_path))
    assert exc.value.reason == "is a directory"


def test_not_a_regular_file(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    # O_RDONLY on a FIFO blocks until a writer appears: give it one.
    fd = os.open(fifo, os.O_RDWR)
    try:
        with pytest.raises(FileAccessError) as exc:
            inspect_file(str(fifo))
        assert exc.value.reason == "not a regular file"
    finally:
        os.close(fd)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads anything")
def test_unreadable(tmp_path: Path) -> None:
    path = write(tmp_path, meta() + small_dataset())
    os.chmod(path, 0)
    assert reason(path) == "cannot access file: Permission denied"


def test_bad_read_mode(tmp_path: Path) -> None:
    with pytest.raises(UsageError):
        inspect_file(write(tmp_path, meta() + small_dataset()), read_mode="bogus")


def test_meta_parsed_without_trusting_group_length(tmp_path: Path) -> None:
    body = small_dataset()
    good = inspect_file(write(tmp_path, meta() + body, "good.dcm"))
    for wrong in (0, 4, 1_000_000):
        info = inspect_file(write(tmp_path, meta(group_length=wrong) + body, f"{wrong}.dcm"))
        assert info.dataset_offset == good.dataset_offset
        assert info.transfer_syntax == EXPLICIT
        assert (info.sop_class_uid, info.sop_instance_uid) == (CT_CLASS, "1.2.3.4.5")


def test_meta_value_past_end_of_file(tmp_path: Path) -> None:
    data = bytes(128) + b"DICM" + el(0x00020001, "OB", b"\x00\x01")
    data += struct.pack("<HH2sH", 2, 2, b"UI", 200) + b"1.2.3"
    assert reason(write(tmp_path, data)) == f"truncated at offset {132 + 14}"


def test_meta_too_large(tmp_path: Path) -> None:
    data = bytes(128) + b"DICM" + el(0x00020001, "OB", bytes(70_000)) + small_dataset()
    assert reason(write(tmp_path, data)).startswith("meta header larger than")


def test_meta_only(tmp_path: Path) -> None:
    assert reason(write(tmp_path, meta())) == "no dataset after the meta header"


def test_preamble_and_prefix_only(tmp_path: Path) -> None:
    assert reason(write(tmp_path, bytes(128) + b"DICM")) == "no dataset after the meta header"


@pytest.mark.parametrize(
    ("implicit", "little", "ts"),
    [(True, True, IMPLICIT), (False, True, EXPLICIT), (False, False, BIG)],
)
def test_meta_without_transfer_syntax_infers_it(
    tmp_path: Path, implicit: bool, little: bool, ts: str
) -> None:
    data = meta(ts=None) + small_dataset(implicit=implicit, little=little)
    info = inspect_file(write(tmp_path, data))
    assert info.transfer_syntax == ts
    assert info.has_meta


def test_meta_without_sop_uids_uses_dataset(tmp_path: Path) -> None:
    for ts, implicit, little in (
        (EXPLICIT, False, True),
        (IMPLICIT, True, True),
        (BIG, False, False),
    ):
        data = meta(cls=None, inst=None, ts=ts) + small_dataset(implicit=implicit, little=little)
        info = inspect_file(write(tmp_path, data, f"{ts}.dcm"))
        assert (info.sop_class_uid, info.sop_instance_uid) == (CT_CLASS, "1.2.3.4.5")


def test_missing_uids(tmp_path: Path) -> None:
    body = el(0x00080005, "CS", b"ISO_IR 100") + el(0x00100010, "PN", b"Doe")
    assert reason(write(tmp_path, meta(cls=None) + body, "a")) == "missing SOP Class UID"
    assert reason(write(tmp_path, meta(inst=None) + body, "b")) == "missing SOP Instance UID"


@pytest.mark.parametrize(
    ("implicit", "little", "ts"),
    [(True, True, IMPLICIT), (False, True, EXPLICIT), (False, False, BIG)],
)
def test_bare_dataset(tmp_path: Path, implicit: bool, little: bool, ts: str) -> None:
    path = write(tmp_path, small_dataset(implicit=implicit, little=little))
    for mode in ("auto", "dataset"):
        info = inspect_file(path, read_mode=mode)
        assert info == FileInfo(path, CT_CLASS, "1.2.3.4.5", ts, 0, os.path.getsize(path), False)
    assert reason(path, read_mode="fileformat") == "meta header missing"


def test_dataset_mode_on_a_file_with_meta(tmp_path: Path) -> None:
    path = write(tmp_path, meta() + small_dataset())
    assert inspect_file(path, read_mode="dataset") == inspect_file(path)
    assert inspect_file(path, read_mode="fileformat") == inspect_file(path)


def test_meta_without_preamble_is_not_sent_as_dataset(tmp_path: Path) -> None:
    path = write(tmp_path, meta(preamble=False) + small_dataset())
    info = inspect_file(path)
    assert info.has_meta
    assert info.dataset_offset == len(meta(preamble=False))


def test_mislabelled_implicit_dataset_is_relabelled(tmp_path: Path) -> None:
    path = write(tmp_path, meta(ts=EXPLICIT) + small_dataset(implicit=True))
    assert inspect_file(path).transfer_syntax == IMPLICIT
    path = write(tmp_path, meta(ts=IMPLICIT) + small_dataset(implicit=False), "b.dcm")
    assert inspect_file(path).transfer_syntax == EXPLICIT


def test_uid_values_are_stripped_and_kept_verbatim(tmp_path: Path) -> None:
    # Without UIDs in the dataset, the meta header's are used.
    body = el(0x00080005, "CS", b"ISO_IR 100") + el(0x00100010, "PN", b"Doe^John")
    data = meta(cls=CT_CLASS + " ", inst="../../etc/passwd") + body
    info = inspect_file(write(tmp_path, data))
    assert info.sop_class_uid == CT_CLASS
    assert info.sop_instance_uid == "../../etc/passwd"  # never used as a path here


def test_dataset_uids_win_over_meta(tmp_path: Path) -> None:
    # DCMTK names the dataset's own UIDs in the C-STORE-RQ; receivers check them.
    data = meta(cls=CT_CLASS, inst="9.9.9") + small_dataset()
    info = inspect_file(write(tmp_path, data))
    assert info.sop_instance_uid == "1.2.3.4.5"


def test_truncated_values_detected(tmp_path: Path) -> None:
    data = (Path(data_file("MR_small.dcm"))).read_bytes()
    pixel_header = data.index(b"\xe0\x7f\x10\x00OW")
    for cut in (len(data) - 1, len(data) - 2, pixel_header + 13, pixel_header + 5, 400):
        path = write(tmp_path, data[:cut], f"{cut}.dcm")
        got = reason(path)
        assert got.startswith("truncated at offset "), (cut, got)
        offset = int(got.rsplit(" ", 1)[1])
        assert offset <= cut
        # Without the check a file cut after its SOP UIDs is accepted: it is
        # only cheap validation (a cut before them is caught by the UID scan).
        if cut > 1000:
            assert inspect_file(path, check_truncation=False).file_size == cut


def test_trailing_garbage_is_truncation(tmp_path: Path) -> None:
    data = meta() + small_dataset()
    assert reason(write(tmp_path, data + b"\x01\x02\x03")) == f"truncated at offset {len(data)}"


def test_undefined_length_sequences_walked(tmp_path: Path) -> None:
    inner = el(0x00081150, "UI", b"1.2") + undefined_sq(0x00081199, [el(0x00081155, "UI", b"1.3")])
    body = (
        el(0x00080005, "CS", b"ISO_IR 100")
        + uid_elements()
        + undefined_sq(0x00081140, [inner, inner])
        + el(0x00100010, "PN", b"Doe")
    )
    info = inspect_file(write(tmp_path, meta() + body))
    assert info.sop_class_uid == CT_CLASS
    cut = meta() + body[: body.index(b"1.3")]
    assert reason(write(tmp_path, cut, "cut.dcm")).startswith("truncated at offset")


def test_undefined_length_before_uids_in_bare_implicit_dataset(tmp_path: Path) -> None:
    # A sequence before (0008,0016), as in a DICOMDIR-like group 0004.
    body = undefined_sq(0x00041220, [el(0x00041400, "UL", bytes(4), implicit=True)], implicit=True)
    body += uid_elements(implicit=True)
    info = inspect_file(write(tmp_path, body))
    assert (info.transfer_syntax, info.sop_class_uid) == (IMPLICIT, CT_CLASS)


def test_deeply_nested_undefined_sequences_refused(tmp_path: Path) -> None:
    nested = el(0x00100010, "PN", b"Doe")
    for _ in range(3000):
        nested = undefined_sq(0x00081140, [nested])
    path = write(tmp_path, meta() + uid_elements() + nested)
    assert reason(path).startswith("sequences nested deeper than")


def test_encapsulated_pixel_data(tmp_path: Path) -> None:
    fragments = struct.pack("<HHI", 0xFFFE, 0xE000, 0)  # empty basic offset table
    for _ in range(50):
        fragments += struct.pack("<HHI", 0xFFFE, 0xE000, 4) + b"\xff\xd8\xff\xd9"
    pixel = struct.pack("<HH2sHI", 0x7FE0, 0x10, b"OB", 0, 0xFFFFFFFF) + fragments
    end = struct.pack("<HHI", 0xFFFE, 0xE0DD, 0)
    jpeg = "1.2.840.10008.1.2.4.50"
    ok = write(tmp_path, meta(ts=jpeg) + uid_elements() + pixel + end, "ok.dcm")
    assert inspect_file(ok).transfer_syntax == jpeg
    # Padding after the pixel data defeats the shortcut: the fragments are walked.
    padded = pixel + end + el(0xFFFCFFFC, "OB", bytes(4))
    assert inspect_file(write(tmp_path, meta(ts=jpeg) + uid_elements() + padded, "p.dcm"))
    cut = write(tmp_path, meta(ts=jpeg) + uid_elements() + pixel[:-3], "cut.dcm")
    assert reason(cut).startswith("truncated at offset")


def test_deflated_without_uids_in_meta(tmp_path: Path) -> None:
    raw = small_dataset()
    comp = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    data = meta(cls=None, inst=None, ts=DEFLATED) + comp.compress(raw) + comp.flush()
    info = inspect_file(write(tmp_path, data))
    assert (info.transfer_syntax, info.sop_class_uid) == (DEFLATED, CT_CLASS)


def test_large_sparse_file(tmp_path: Path) -> None:
    head = meta() + uid_elements() + struct.pack("<HH2sHI", 0x7FE0, 0x10, b"OW", 0, 3 << 30)
    path = tmp_path / "big.dcm"
    with open(path, "wb") as fp:
        fp.write(head)
        fp.truncate(len(head) + (3 << 30))  # sparse: 3 GiB, no disk used
    info = inspect_file(str(path))
    assert info.dataset_length == len(head) - len(meta()) + (3 << 30)
    with open(path, "r+b") as fp:
        fp.truncate(len(head) + (3 << 30) - 2)
    assert reason(str(path)) == f"truncated at offset {len(meta()) + len(uid_elements())}"


def _mutations(data: bytes) -> st.SearchStrategy[bytes]:
    def mutate(args: tuple[int, bytes, int]) -> bytes:
        pos, junk, cut = args
        pos %= len(data)
        out = data[:pos] + junk + data[pos + len(junk) :]
        return out[: max(1, cut % (len(out) + 1))]

    return st.tuples(
        st.integers(0, 1 << 20), st.binary(min_size=1, max_size=8), st.integers(0, 1 << 20)
    ).map(mutate)


_FUZZ_SEED = meta(ts=None) + small_dataset() + undefined_sq(0x00081140, [uid_elements()])


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.one_of(st.binary(max_size=600), _mutations(_FUZZ_SEED)))
def test_fuzz_inspect_never_raises_anything_else(tmp_path: Path, data: bytes) -> None:
    path = write(tmp_path, data)
    for check in (True, False):
        try:
            info = inspect_file(path, check_truncation=check)
        except SourceError:
            continue
        assert 0 <= info.dataset_offset < info.file_size
        for target in (IMPLICIT, BIG):
            try:
                with open_dataset(info, target) as reader:
                    assert len(reader.read()) == reader.length
            except StorescuError:
                pass


# -------------------------------------------------------------- open_dataset: fast path


def test_same_syntax_streams_file_bytes() -> None:
    path = data_file("CT_small.dcm")
    info = inspect_file(path)
    reader = open_dataset(info, info.transfer_syntax)
    assert isinstance(reader, readers.FileDatasetReader)
    expected = Path(path).read_bytes()[info.dataset_offset :]
    with reader:
        assert reader.length == len(expected) == info.dataset_length
        buf = bytearray(1000)
        view = memoryview(buf)
        got = bytearray()
        while n := reader.readinto(view):
            got += view[:n]
        assert reader.readinto(view) == 0
    assert bytes(got) == expected
    assert reader.readinto(view) == 0  # closed: still 0


def test_file_shrinking_after_inspection(tmp_path: Path) -> None:
    path = write(tmp_path, meta() + small_dataset())
    info = inspect_file(path)
    with open(path, "r+b") as fp:
        fp.truncate(info.file_size - 4)
    with open_dataset(info, EXPLICIT) as reader, pytest.raises(InvalidFileError) as exc:
        reader.read()
    assert exc.value.reason.startswith("truncated at offset")


def test_file_vanishing_after_inspection(tmp_path: Path) -> None:
    path = write(tmp_path, meta() + small_dataset())
    info = inspect_file(path)
    os.unlink(path)
    with pytest.raises(FileAccessError):
        open_dataset(info, EXPLICIT)
    with pytest.raises(FileAccessError):
        open_dataset(info, IMPLICIT)


def test_fast_path_does_not_import_pydicom() -> None:
    code = (
        "import sys\n"
        "from storescu.dataset.inspection import inspect_file\n"
        "from storescu.dataset.sources import open_dataset\n"
        f"info = inspect_file({data_file('MR_small.dcm')!r})\n"
        "with open_dataset(info, info.transfer_syntax) as r:\n"
        "    buf = bytearray(4096)\n"
        "    total = 0\n"
        "    while n := r.readinto(buf):\n"
        "        total += n\n"
        "assert total == info.dataset_length, total\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('pydicom', 'numpy'))\n"
        "assert not bad, bad\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_memory_reader() -> None:
    reader = readers.MemoryDatasetReader(b"0123456789")
    buf = bytearray(4)
    assert reader.length == 10
    assert [reader.readinto(buf) for _ in range(4)] == [4, 4, 2, 0]
    reader.close()
    assert reader.readinto(buf) == 0


# ----------------------------------------------------------- open_dataset: conversion

UNITS = {"AT": 2, "OW": 2, "SS": 2, "US": 2, "FL": 4, "OF": 4, "OL": 4, "SL": 4, "UL": 4}
UNITS |= {"FD": 8, "OD": 8, "OV": 8, "SV": 8, "UV": 8}


def _to_little(value: bytes, vr: str, little: bool) -> bytes:
    unit = UNITS.get(vr, 0)
    if not unit or little:
        return value
    swapped = bytearray(value)
    n = len(value) - len(value) % unit
    for k in range(unit):
        swapped[k:n:unit] = value[unit - 1 - k : n : unit]
    return bytes(swapped)


def canonical(ds: Dataset) -> dict[int, Any]:
    """A dataset as comparable values, independent of VR encoding and byte order.

    Byte values of word VRs are brought to little endian using the byte order
    the element was read with; padding and group lengths are ignored; pixel
    data is compared as bytes after that, so no numpy is needed. Private
    elements are compared as little endian bytes: an implicit VR file does not
    say their VR, so after implicit VR they are UN (DCMTK does the same), and a
    UN sequence is parsed as implicit VR little endian (PS3.5 6.2.2).
    """
    out: dict[int, Any] = {}
    for tag in sorted(ds.keys()):
        if tag.element == 0:
            continue
        item = ds.get_item(tag)
        little = item.is_little_endian if isinstance(item, RawDataElement) else True
        elem = ds[tag]
        if elem.VR == "SQ":
            out[int(tag)] = [canonical(x) for x in elem.value]
            continue
        value = elem.value
        if tag.is_private and tag.element > 0xFF:
            if elem.VR == "UN" and bytes(value or b"")[:4] == b"\xfe\xff\x00\xe0":
                seq = read_sequence(io.BytesIO(value), True, True, len(value), "iso8859")
                out[int(tag)] = [canonical(x) for x in seq]
                continue
            if isinstance(item, RawDataElement):
                value = _to_little(item.value or b"", elem.VR, little)
            else:
                value = _to_little(bytes(value or b""), elem.VR, little)
            value = value.rstrip(b" \x00")
        elif isinstance(value, bytes):
            value = _to_little(value, elem.VR, little).rstrip(b"\x00")
        elif isinstance(value, str):
            value = value.rstrip(" \x00")
        elif isinstance(value, list | tuple) or type(value).__name__ == "MultiValue":
            value = tuple(value)
        out[int(tag)] = None if value in ("", b"", None, ()) else value
    return out


def read_back(data: bytes, ts: str) -> Dataset:
    """Decode dataset bytes the way a receiver would (through a file, via build_file_meta)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pydicom.dcmread(io.BytesIO(build_file_meta(CT_CLASS, "1.2.3", ts) + data))


def read_original(path: str) -> Dataset:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pydicom.dcmread(path, force=True)


def convert(path: str, ts: str) -> bytes:
    with open_dataset(inspect_file(path), ts) as reader:
        data = reader.read()
        assert len(data) == reader.length
    return data


@pytest.fixture(scope="module")
def private_tags_file(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Explicit VR LE with known and unknown private tags, a private SQ and binary VRs."""
    body = (
        el(0x00080005, "CS", b"ISO_IR 100")
        + uid_elements(cls=SC_CLASS)
        + el(0x00091010, "LO", b"ACME 1.0")  # private creator
        + el(0x00091011, "UL", struct.pack("<I", 0x01020304))
        + el(0x00091012, "UN", b"\x01\x02\x03\x04")
        + el(0x00091013, "SQ", item(el(0x00091014, "FD", struct.pack("<d", 1.5))))
        + el(0x00181060, "DS", b"12.5")
        + el(0x00200032, "DS", b"-1\\2\\3.5")
        + el(0x00280002, "US", struct.pack("<H", 1))
        + el(0x00280009, "AT", struct.pack("<HH", 0x0018, 0x1063))  # Frame Increment Pointer
        + el(0x00280010, "US", struct.pack("<H", 2))
        + el(0x00280011, "US", struct.pack("<H", 2))
        + el(0x00280100, "US", struct.pack("<H", 16))
        + el(0x00280101, "US", struct.pack("<H", 12))
        + el(0x00280103, "US", struct.pack("<H", 1))
        + el(0x00280106, "SS", struct.pack("<h", -5))
        + el(0x00281052, "DS", b"-1024")
        + el(0x00660016, "OF", struct.pack("<3f", 1.0, -2.0, 3.5))
        + el(0x00660040, "OL", struct.pack("<2I", 7, 0x0A0B0C0D))
        + el(0x7FE00010, "OW", struct.pack("<4h", -1, 2, -300, 4000))
    )
    path = tmp_path_factory.mktemp("priv") / "private.dcm"
    path.write_bytes(meta(cls=SC_CLASS, ts=EXPLICIT) + body)
    return str(path)


CONVERSION_FILES = [
    "MR_small.dcm",
    "MR_small_bigendian.dcm",
    "MR_small_implicit.dcm",
    "CT_small.dcm",
    "rtplan.dcm",
]


def _conversion_paths(private: str) -> Iterator[str]:
    yield from map(data_file, CONVERSION_FILES)
    yield private


@pytest.mark.parametrize("target", CONVERTIBLE)
@pytest.mark.parametrize("index", range(len(CONVERSION_FILES) + 1))
def test_conversion_preserves_every_element(
    private_tags_file: str, index: int, target: str
) -> None:
    path = list(_conversion_paths(private_tags_file))[index]
    data = convert(path, target)
    got = read_back(data, target)
    assert got.original_encoding == (target == IMPLICIT, target != BIG)
    assert canonical(got) == canonical(read_original(path))


def test_conversion_sweep_over_all_uncompressed_test_files() -> None:
    for path in ALL_FILES:
        try:
            info = inspect_file(path)
        except SourceError:
            continue
        if info.transfer_syntax not in CONVERTIBLE:
            continue
        original = canonical(read_original(path))
        for target in UNCOMPRESSED:
            assert canonical(read_back(convert(path, target), target)) == original, (path, target)


def test_big_endian_pixel_words_are_swapped() -> None:
    """pydicom 3.0.2 alone would copy OW bytes unswapped: check the raw bytes."""
    be = read_original(data_file("MR_small_bigendian.dcm"))
    le = read_original(data_file("MR_small.dcm"))
    assert be.PixelData != le.PixelData  # stored in different byte orders
    for target in (EXPLICIT, IMPLICIT):
        assert (
            read_back(convert(data_file("MR_small_bigendian.dcm"), target), target).PixelData
            == le.PixelData
        )
    assert read_back(convert(data_file("MR_small.dcm"), BIG), BIG).PixelData == be.PixelData


def test_binary_values_in_big_endian(private_tags_file: str) -> None:
    got = read_back(convert(private_tags_file, BIG), BIG)
    raw = {int(t): got.get_item(t) for t in sorted(got.keys())}
    assert raw[0x00091011].value == struct.pack(">I", 0x01020304)
    assert raw[0x00091012].value == b"\x01\x02\x03\x04"  # UN: never swapped
    assert raw[0x00280106].value == struct.pack(">h", -5)
    assert raw[0x00660016].value == struct.pack(">3f", 1.0, -2.0, 3.5)
    assert raw[0x00660040].value == struct.pack(">2I", 7, 0x0A0B0C0D)
    assert raw[0x00280009].value == struct.pack(">HH", 0x0018, 0x1063)
    assert raw[0x7FE00010].value == struct.pack(">4h", -1, 2, -300, 4000)
    assert got[0x00091013].value[0][0x00091014].value == 1.5
    assert got.SmallestImagePixelValue == -5


def test_implicit_to_explicit_vrs_from_dictionary(private_tags_file: str) -> None:
    implicit = read_back(convert(private_tags_file, IMPLICIT), IMPLICIT)
    path = Path(private_tags_file).with_name("implicit.dcm")
    path.write_bytes(
        build_file_meta(SC_CLASS, "1.2.3.4.5", IMPLICIT) + convert(private_tags_file, IMPLICIT)
    )
    explicit = read_back(convert(str(path), EXPLICIT), EXPLICIT)
    vrs = {int(t): explicit.get_item(t).VR for t in sorted(explicit.keys())}
    assert vrs[0x00280106] == "SS"  # "US or SS": PixelRepresentation is 1
    assert vrs[0x7FE00010] == "OW"  # "OB or OW": 16 bits allocated
    assert vrs[0x00091012] == "UN"  # unknown private tag
    assert vrs[0x00280009] == "AT"
    assert canonical(explicit) == canonical(implicit)


def test_eight_bit_implicit_pixel_data_becomes_ob() -> None:
    path = data_file("SC_rgb_jpeg_dcmd.dcm")  # implicit VR, 8 bits allocated
    for target in (EXPLICIT, BIG):
        got = read_back(convert(path, target), target)
        assert got.get_item(0x7FE00010).VR == "OB"
        assert got.PixelData == read_original(path).PixelData


def reencode(data: bytes, source: str, target: str) -> bytes:
    return encode_dataset(read_back(data, source), target)


def test_round_trip_is_byte_identical(private_tags_file: str) -> None:
    for path in _conversion_paths(private_tags_file):
        # One conversion normalizes (group lengths dropped, defined lengths);
        # after that, going through any syntax and back must not change a byte.
        normal = reencode(convert(path, IMPLICIT), IMPLICIT, EXPLICIT)
        for via in CONVERTIBLE:
            again = reencode(reencode(normal, EXPLICIT, via), via, EXPLICIT)
            assert again == normal, (path, via)


@pytest.mark.skipif(shutil.which("dcmconv") is None, reason="DCMTK dcmconv not installed")
@pytest.mark.parametrize(("target", "option"), [(IMPLICIT, "+ti"), (EXPLICIT, "+te"), (BIG, "+tb")])
def test_conversion_agrees_with_dcmconv(
    private_tags_file: str, tmp_path: Path, target: str, option: str
) -> None:
    for path in _conversion_paths(private_tags_file):
        out = tmp_path / "dcmconv.dcm"
        subprocess.run(["dcmconv", option, path, str(out)], check=True, capture_output=True)
        reference = read_original(str(out))
        assert canonical(read_back(convert(path, target), target)) == canonical(reference), path


def test_compressed_cannot_be_converted() -> None:
    info = inspect_file(data_file("JPEG2000.dcm"))
    with pytest.raises(ConversionError) as exc:
        open_dataset(info, IMPLICIT)
    assert str(exc.value) == "cannot convert from 'JPEG 2000' to 'Little Endian Implicit'"
    with pytest.raises(ConversionError):
        open_dataset(inspect_file(data_file("MR_small.dcm")), "1.2.840.10008.1.2.4.50")


def test_can_convert() -> None:
    assert can_convert(IMPLICIT, BIG) and can_convert(DEFLATED, EXPLICIT)
    assert can_convert("1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.50")
    assert not can_convert("1.2.840.10008.1.2.4.50", EXPLICIT)
    assert not can_convert(EXPLICIT, "1.2.840.10008.1.2.5")


def test_deflated_conversions() -> None:
    path = data_file("image_dfl.dcm")
    original = canonical(read_original(path))
    for target in UNCOMPRESSED:
        assert canonical(read_back(convert(path, target), target)) == original
    deflated = convert(data_file("MR_small.dcm"), DEFLATED)
    assert canonical(read_back(deflated, DEFLATED)) == canonical(
        read_original(data_file("MR_small.dcm"))
    )


def test_conversion_rechecks_truncation(tmp_path: Path) -> None:
    data = Path(data_file("MR_small.dcm")).read_bytes()
    path = write(tmp_path, data[:-10])
    info = inspect_file(path, check_truncation=False)
    with pytest.raises(InvalidFileError):
        open_dataset(info, IMPLICIT)


def test_conversion_of_deep_defined_length_nesting_fails_cleanly(tmp_path: Path) -> None:
    nested = el(0x00100010, "PN", b"Doe")
    for _ in range(400):
        nested = el(0x00081140, "SQ", item(nested))
    path = write(tmp_path, meta() + uid_elements() + nested)
    info = inspect_file(path)  # top level only: defined lengths are not descended
    with pytest.raises(ConversionError):
        open_dataset(info, IMPLICIT)


# ---------------------------------------------------------- encode_dataset & identity


def _in_memory_dataset() -> Dataset:
    ds = Dataset()
    ds.SOPClassUID = SC_CLASS
    ds.SOPInstanceUID = "1.2.3.4"
    ds.PatientName = "Müller^Jörg"
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.Rows, ds.Columns = 1, 2
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.SmallestImagePixelValue = 3  # "US or SS" in the dictionary
    ds.PixelData = struct.pack("<2H", 0x0102, 0x0304)  # little endian, as numpy makes it
    seq_item = Dataset()
    seq_item.ReferencedSOPInstanceUID = "1.2.3"
    seq_item.FrameTime = 33.3
    ds.ReferencedImageSequence = [seq_item]
    return ds


@pytest.mark.parametrize("target", CONVERTIBLE)
def test_encode_in_memory_dataset(target: str) -> None:
    ds = _in_memory_dataset()
    got = read_back(encode_dataset(ds, target), target)
    assert got.PatientName == "Müller^Jörg"
    assert got.PixelData == (ds.PixelData if target != BIG else struct.pack(">2H", 0x0102, 0x0304))
    assert got.SmallestImagePixelValue == 3
    assert got.ReferencedImageSequence[0].FrameTime == 33.3
    if target != IMPLICIT:
        assert got.get_item(0x7FE00010).VR == "OW"
    assert ds.PixelData == struct.pack("<2H", 0x0102, 0x0304)  # the caller's dataset is untouched


def test_encode_compressed_dataset_in_its_own_syntax() -> None:
    ds = read_original(data_file("JPEG2000.dcm"))
    ts = str(ds.file_meta.TransferSyntaxUID)
    data = encode_dataset(ds, ts)
    back = pydicom.dcmread(io.BytesIO(build_file_meta(SC_CLASS, "1.2", ts) + data))
    assert back.PixelData == ds.PixelData
    with pytest.raises(ConversionError):
        encode_dataset(ds, EXPLICIT)


def test_dataset_identity() -> None:
    ds = read_original(data_file("CT_small.dcm"))
    assert dataset_identity(ds) == (CT_CLASS, str(ds.SOPInstanceUID), EXPLICIT)
    mem = _in_memory_dataset()
    assert dataset_identity(mem) == (SC_CLASS, "1.2.3.4", None)
    del mem.SOPClassUID
    with pytest.raises(InvalidFileError) as exc:
        dataset_identity(mem)
    assert exc.value.reason == "missing SOP Class UID"
    mem.file_meta = FileMetaDataset()
    mem.file_meta.MediaStorageSOPClassUID = CT_CLASS
    assert dataset_identity(mem)[0] == CT_CLASS


# --------------------------------------------------------------------- file meta


def test_build_file_meta_layout() -> None:
    data = build_file_meta(CT_CLASS, "1.2.3.45", EXPLICIT, source_aet="STORESCU")
    assert data[:128] == bytes(128) and data[128:132] == b"DICM"
    assert data[132:140] == b"\x02\x00\x00\x00UL\x04\x00"
    (group_length,) = struct.unpack_from("<I", data, 140)
    assert group_length == len(data) - 144
    assert b"1.2.840.10008.5.1.4.1.1.2\x00" in data  # odd UID padded with NUL
    assert b"STORESCU" in data
    assert len(data) % 2 == 0


@pytest.mark.parametrize("aet", [None, "ANY-SCP", "ODD"])
def test_build_file_meta_read_by_pydicom(aet: str | None) -> None:
    body = small_dataset(implicit=True)
    ds = pydicom.dcmread(
        io.BytesIO(build_file_meta(CT_CLASS, "1.2.3.4.5", IMPLICIT, source_aet=aet) + body)
    )
    fm = ds.file_meta
    assert fm.FileMetaInformationVersion == b"\x00\x01"
    assert (fm.MediaStorageSOPClassUID, fm.MediaStorageSOPInstanceUID) == (CT_CLASS, "1.2.3.4.5")
    assert fm.TransferSyntaxUID == IMPLICIT
    assert fm.ImplementationClassUID == IMPLEMENTATION_CLASS_UID
    assert fm.ImplementationVersionName == IMPLEMENTATION_VERSION_NAME
    assert fm.get("SourceApplicationEntityTitle") == aet
    assert (
        fm.FileMetaInformationGroupLength
        == len(build_file_meta(CT_CLASS, "1.2.3.4.5", IMPLICIT, source_aet=aet)) - 144
    )
    assert ds.PatientName == "Doe^John"


def test_build_file_meta_read_by_our_inspector(tmp_path: Path) -> None:
    body = small_dataset(little=False)
    path = write(tmp_path, build_file_meta(CT_CLASS, "1.2.3.4.5", BIG) + body)
    info = inspect_file(path, read_mode="fileformat")
    assert (info.sop_instance_uid, info.transfer_syntax, info.dataset_length) == (
        "1.2.3.4.5",
        BIG,
        len(body),
    )


@pytest.mark.skipif(not os.path.exists("/usr/bin/dcmdump"), reason="DCMTK dcmdump not installed")
def test_build_file_meta_read_by_dcmdump(tmp_path: Path) -> None:
    info = inspect_file(data_file("MR_small_bigendian.dcm"))
    data = Path(info.path).read_bytes()[info.dataset_offset :]
    path = write(
        tmp_path,
        build_file_meta(info.sop_class_uid, info.sop_instance_uid, BIG, source_aet="ME") + data,
    )
    out = subprocess.run(["/usr/bin/dcmdump", path], capture_output=True, text=True, check=False)
    assert out.returncode == 0 and out.stderr == "", out.stderr
    assert "(0002,0010) UI =BigEndianExplicit" in out.stdout
    assert f"(0002,0012) UI [{IMPLEMENTATION_CLASS_UID}]" in out.stdout
    assert "(0002,0016) AE [ME]" in out.stdout
    full = subprocess.run(
        ["/usr/bin/dcmdump", "+L", path], capture_output=True, text=True, check=False
    )
    assert full.returncode == 0 and full.stderr == "", full.stderr
    assert "(7fe0,0010) OW" in full.stdout


def test_build_file_meta_rejects_bad_values() -> None:
    with pytest.raises(ValueError):
        build_file_meta("1.2.é", "1.2", EXPLICIT)
    with pytest.raises(ValueError):
        build_file_meta("1" * 70_000, "1.2", EXPLICIT)


def test_errors_are_storescu_errors(tmp_path: Path) -> None:
    for data in (b"", b"junk" * 100, meta()):
        with pytest.raises(StorescuError):
            inspect_file(write(tmp_path, data))


def test_generated_ct_conversions_match_dcmconv(generated_ct: Any) -> None:
    """The 512x512 CT and its DCMTK +tb/+ti copies: each converts into the others."""
    files = {
        EXPLICIT: generated_ct.explicit_le,
        BIG: generated_ct.big_endian,
        IMPLICIT: generated_ct.implicit,
    }
    reference = {ts: canonical(read_original(str(path))) for ts, path in files.items()}
    for source, path in files.items():
        assert inspect_file(str(path)).transfer_syntax == source
        for target in UNCOMPRESSED:
            if target != source:
                assert canonical(read_back(convert(str(path), target), target)) == reference[target]


# ------------------------------------------------------------------- verify_file


def test_verify_finds_what_the_full_inspection_finds() -> None:
    """Inspecting without the truncation check, then verify_file, gives the same
    answer as the full inspection, for every file of pydicom's test data."""
    for path in ALL_FILES:
        try:
            full: FileInfo | str = inspect_file(path)
        except SourceError as exc:
            full = exc.reason
        try:
            fast = inspect_file(path, check_truncation=False)
            info, whole = inspection.verify_file(fast)
        except SourceError as exc:
            assert full == exc.reason, path
            continue
        assert info == full, path
        assert info.checked
        size = os.path.getsize(path)
        assert (whole is not None) == (size <= 64 * 1024), path
        if whole is not None:
            with open(path, "rb") as fp:
                assert whole == fp.read()


def test_verify_reports_truncation_left_unchecked(tmp_path: Path) -> None:
    data = meta() + small_dataset()
    path = write(tmp_path, data[:-3])
    info = inspect_file(path, check_truncation=False)
    assert not info.checked
    with pytest.raises(InvalidFileError) as exc:
        inspection.verify_file(info)
    assert exc.value.reason.startswith("truncated at offset")


def test_inspect_whole_finds_what_the_full_inspection_finds() -> None:
    """One open and one read (inspection.inspect_whole) answer as inspect_file does,
    and give the bytes of every file of at most 64 KiB."""
    for path in ALL_FILES:
        try:
            full: FileInfo | str = inspect_file(path)
        except SourceError as exc:
            full = exc.reason
        try:
            info, whole = inspection.inspect_whole(path)
        except SourceError as exc:
            assert full == exc.reason, path
            continue
        assert info == full and info.checked, path
        size = os.path.getsize(path)
        assert (whole is not None) == (size <= 64 * 1024), path
        if whole is not None:
            with open(path, "rb") as fp:
                assert whole == fp.read()


def test_inspect_whole_reports_truncation(tmp_path: Path) -> None:
    path = write(tmp_path, meta() + small_dataset() + el(0x7FE00010, "OB", b"xx")[:-1])
    with pytest.raises(InvalidFileError) as exc:
        inspection.inspect_whole(path)
    assert exc.value.reason.startswith("truncated at offset")


def test_verify_reinspects_a_file_changed_since(tmp_path: Path) -> None:
    path = write(tmp_path, meta() + small_dataset())
    info = inspect_file(path, check_truncation=False)
    write(tmp_path, meta(inst="1.2.3.4.6") + small_dataset() + el(0x7FE10010, "OB", b"xx"))
    fresh, whole = inspection.verify_file(info)
    assert fresh.file_size == os.path.getsize(path) != info.file_size
    assert fresh.sop_instance_uid == "1.2.3.4.5"  # the dataset's own UID wins, as always
    assert whole is not None and len(whole) == fresh.file_size


def test_a_verified_small_file_is_sent_from_memory(tmp_path: Path) -> None:
    data = meta() + small_dataset()
    path = write(tmp_path, data)
    info, whole = inspection.verify_file(inspect_file(path, check_truncation=False))
    os.unlink(path)  # read once: the reader needs the file no more
    reader = open_dataset(info, EXPLICIT, whole)
    assert reader.read() == data[info.dataset_offset :]
