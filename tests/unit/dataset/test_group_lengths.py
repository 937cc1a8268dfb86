"""Group lengths through conversion (issue 14.2, PS3.5 7.2).

A group length (gggg,0000) present in the source is kept and its value
recomputed for the new encoding; none is added. The values are checked here
against the element positions pydicom reads back, independently of the encoder.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pydicom
import pytest
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset
from pydicom.uid import ExplicitVRBigEndian, ExplicitVRLittleEndian, ImplicitVRLittleEndian

from storescu.dataset.inspection import inspect_file
from storescu.dataset.transcode import (
    DEFER_SIZE,
    PartsReader,
    encode_dataset,
    encode_parts,
    read_deferred,
    transcode_file,
)
from tests.helpers.grouplengths import group_lengths

BIG_ENDIAN = str(get_testdata_file("ExplVR_BigEnd.dcm"))
TARGETS = [ExplicitVRLittleEndian, ImplicitVRLittleEndian, ExplicitVRBigEndian]


def _encoding(ts: str) -> tuple[bool, bool]:
    return ts == ImplicitVRLittleEndian, ts != ExplicitVRBigEndian


@pytest.mark.parametrize("target", TARGETS)
def test_big_endian_file_keeps_its_group_lengths_recomputed(target: str) -> None:
    """ExplVR_BigEnd.dcm has six group lengths: all six come out, with true values."""
    source = pydicom.dcmread(BIG_ENDIAN)
    expected = {t >> 16 for t in source.keys() if t & 0xFFFF == 0}  # noqa: SIM118
    assert expected == {0x0008, 0x0010, 0x0018, 0x0020, 0x0028, 0x7FE0}
    data = transcode_file(inspect_file(BIG_ENDIAN), target)
    found = group_lengths(data, *_encoding(target))
    assert {key[-1] for key in found} == expected


def test_no_group_length_is_added() -> None:
    ct = str(get_testdata_file("CT_small.dcm"))
    assert not [t for t in pydicom.dcmread(ct).keys() if t & 0xFFFF == 0]  # noqa: SIM118
    data = transcode_file(inspect_file(ct), ImplicitVRLittleEndian)
    assert group_lengths(data, True, True) == {}


@pytest.mark.parametrize("target", TARGETS)
def test_group_lengths_inside_sequence_items(target: str) -> None:
    ds = Dataset()
    ds.add_new(0x00080000, "UL", 999)  # wrong on purpose: recomputed
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.SOPInstanceUID = "1.2.3.4"
    item = Dataset()
    item.add_new(0x00080000, "UL", 0)
    item.ReferencedSOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    item.ReferencedSOPInstanceUID = "1.2.3.5"
    item.add_new(0x00200000, "UL", 7)
    item.add_new(0x00200013, "IS", "1")
    ds.ReferencedImageSequence = [item]
    ds.PatientName = "GROUP^LENGTH"  # group 0010 has none: none is added
    data = encode_dataset(ds, target)
    found = group_lengths(data, *_encoding(target))
    assert sorted(found) == [
        (0x0008,),
        (0x00081140, 0, 0x0008),
        (0x00081140, 0, 0x0020),
    ]


@pytest.mark.parametrize("target", [ExplicitVRLittleEndian, ImplicitVRLittleEndian])
def test_group_length_over_a_streamed_value(tmp_path: Path, target: str) -> None:
    """Pixel data above DEFER_SIZE stays in the file (a FileSpan); (7FE0,0000) counts it."""
    ds = pydicom.dcmread(BIG_ENDIAN)
    ds.Rows, ds.Columns = 256, 256
    ds.BitsAllocated = ds.BitsStored = 16
    ds.HighBit = 15
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.PixelData = bytes(range(256)) * (2 * 256)
    assert len(ds.PixelData) > DEFER_SIZE
    plain = tmp_path / "plain.dcm"
    ds.save_as(plain, enforce_file_format=True)  # pydicom drops group lengths
    path = tmp_path / "big.dcm"
    # DCMTK writes them (+g: create); its big endian output keeps the byte order.
    subprocess.run(["/usr/bin/dcmconv", "+g", "+tb", str(plain), str(path)], check=True)
    assert 0x7FE00000 in pydicom.dcmread(path)
    parsed, info = read_deferred(inspect_file(str(path)))
    parts = encode_parts(parsed, info.transfer_syntax, target, str(path))
    assert any(not isinstance(p, bytes) for p in parts)  # really streamed
    reader = PartsReader(parts)
    buf = bytearray(reader.length)
    got = reader.readinto(memoryview(buf))
    reader.close()
    assert got == reader.length
    found = group_lengths(bytes(buf), *_encoding(target))
    assert found[(0x7FE0,)] == len(ds.PixelData) + (12 if target != ImplicitVRLittleEndian else 8)
