"""Bad and unusual input files for RELIABILITY rows 1-13, made locally with pydicom.

Each function writes one file and returns its path. Nothing is downloaded; the
starting point is pydicom's ``CT_small.dcm`` (explicit VR little endian) or a
small dataset built here.
"""

from __future__ import annotations

import io
import os
import struct
import warnings
from pathlib import Path

from pydicom import dcmread
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian

from tests.helpers.data import pydicom_file

CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
SECONDARY_CAPTURE = "1.2.840.10008.5.1.4.1.1.7"


def copy_ct(path: Path) -> Path:
    """pydicom's CT_small.dcm (explicit VR LE, ~39 KB)."""
    path.write_bytes(pydicom_file("CT_small.dcm").read_bytes())
    return path


def copy_mr(path: Path) -> Path:
    """pydicom's MR_small.dcm (explicit VR LE, ~10 KB)."""
    path.write_bytes(pydicom_file("MR_small.dcm").read_bytes())
    return path


def small_dataset(
    sop_class: str | None = SECONDARY_CAPTURE,
    sop_instance: str | None = "1.2.826.0.1.3680043.8.498.99.1",
    pixels: int = 64,
) -> Dataset:
    """A tiny secondary capture image (8x8 8-bit unless ``pixels`` says otherwise)."""
    ds = Dataset()
    if sop_class is not None:
        ds.SOPClassUID = sop_class
    if sop_instance is not None:
        ds.SOPInstanceUID = sop_instance
    ds.PatientName = "FAULT^TEST"
    ds.PatientID = "FAULT"
    ds.Modality = "OT"
    side = int(pixels**0.5)
    ds.Rows = ds.Columns = side
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = ds.BitsStored = 8
    ds.HighBit = 7
    ds.PixelRepresentation = 0
    ds.PixelData = bytes(range(256)) * (side * side // 256) + bytes(side * side % 256)
    return ds


def write(
    ds: Dataset,
    path: Path,
    *,
    syntax: str = ExplicitVRLittleEndian,
    meta: bool = True,
    meta_syntax: bool = True,
    drop_meta: tuple[int, ...] = (),
) -> Path:
    """Write ``ds``: as a DICOM file, a bare dataset (``meta=False``), or with a
    file meta group that lacks (0002,0010) (``meta_syntax=False``) or the
    elements (0002,xxxx) of ``drop_meta``."""
    implicit = syntax == ImplicitVRLittleEndian
    if not meta:
        buffer = io.BytesIO()
        ds.save_as(buffer, implicit_vr=implicit, little_endian=True, enforce_file_format=False)
        path.write_bytes(buffer.getvalue())
        return path
    file_meta = FileMetaDataset()
    file_meta.MediaStorageSOPClassUID = ds.get("SOPClassUID", SECONDARY_CAPTURE)
    file_meta.MediaStorageSOPInstanceUID = ds.get("SOPInstanceUID", "1.2.3")
    file_meta.TransferSyntaxUID = syntax
    file_meta.ImplementationClassUID = "1.2.826.0.1.3680043.8.498.1"
    ds.file_meta = file_meta
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    raw = buffer.getvalue()
    for element in (*drop_meta, *(() if meta_syntax else (0x0010,))):
        raw = _drop_meta_element(raw, element)
    path.write_bytes(raw)
    return path


def _drop_meta_element(raw: bytes, element: int) -> bytes:
    """Remove (0002,element) from a file's meta group and fix the group length."""
    offset = 132
    out = bytearray(raw[:132])
    elements: list[bytes] = []
    while offset < len(raw):
        group, elem = struct.unpack_from("<HH", raw, offset)
        if group != 0x0002:
            break
        vr = raw[offset + 4 : offset + 6]
        if vr in (b"OB", b"OW", b"UN", b"SQ", b"UT"):
            (length,) = struct.unpack_from("<L", raw, offset + 8)
            size = 12 + length
        else:
            (length,) = struct.unpack_from("<H", raw, offset + 6)
            size = 8 + length
        if elem not in (0x0000, element):
            elements.append(raw[offset : offset + size])
        offset += size
    body = b"".join(elements)
    out += struct.pack("<HH2sHL", 0x0002, 0x0000, b"UL", 4, len(body)) + body
    out += raw[offset:]
    return bytes(out)


def empty(path: Path) -> Path:
    """Row 1: zero bytes."""
    path.write_bytes(b"")
    return path


def not_dicom(path: Path) -> Path:
    """Row 2: plain text."""
    path.write_text("this is not a DICOM file\n" * 40)
    return path


def truncated(path: Path, keep: float = 0.6) -> Path:
    """Row 3: CT_small.dcm cut inside its pixel data (declared length > what remains)."""
    raw = pydicom_file("CT_small.dcm").read_bytes()
    path.write_bytes(raw[: int(len(raw) * keep)])
    return path


def without_meta(path: Path) -> Path:
    """Row 4: a bare dataset (implicit VR little endian), no preamble or meta header."""
    return write(small_dataset(), path, syntax=ImplicitVRLittleEndian, meta=False)


def meta_without_syntax(path: Path) -> Path:
    """Row 5: a meta header without (0002,0010) TransferSyntaxUID."""
    return write(small_dataset(), path, meta_syntax=False)


def without_sop_class(path: Path) -> Path:
    """Row 6: no (0008,0016), nor (0002,0002) in the meta header to fall back on."""
    return write(small_dataset(sop_class=None), path, drop_meta=(0x0002,))


def without_sop_instance(path: Path) -> Path:
    """Row 6: no (0008,0018), nor (0002,0003) in the meta header."""
    return write(small_dataset(sop_instance=None), path, drop_meta=(0x0003,))


def with_sop_class(path: Path, sop_class: str) -> Path:
    """Row 7: an unknown or non-storage SOP class."""
    return write(small_dataset(sop_class=sop_class), path)


def with_raw_instance_uid(path: Path, raw: bytes) -> Path:
    """A SOP Instance UID holding bytes no UID may hold (a non-ASCII byte)."""
    data = write(small_dataset(sop_instance="9.9.9.9"), path).read_bytes()
    at = data.rfind(b"9.9.9.9")
    assert len(raw) == 7
    path.write_bytes(data[:at] + raw + data[at + 7 :])
    return path


def with_instance_uid(path: Path, uid: str) -> Path:
    """Row 8: a SOP Instance UID with path characters (``/``, ``..``)."""
    with warnings.catch_warnings():  # pydicom warns about the invalid UI value
        warnings.simplefilter("ignore", UserWarning)
        return write(small_dataset(sop_instance=uid), path)


def deeply_nested(path: Path, depth: int = 3000) -> Path:
    """Row 10: ``depth`` nested sequences (undefined lengths) before the SOP Class UID.

    The nesting sits in (0008,0006) so that anything reading up to the SOP
    UIDs must walk through it.
    """
    raw = write(small_dataset(), path).read_bytes()
    meta_end = 132 + 12 + struct.unpack_from("<L", raw, 140)[0]
    nested = bytearray()
    for _ in range(depth):
        nested += struct.pack("<HH2sHL", 0x0008, 0x0006, b"SQ", 0, 0xFFFFFFFF)
        nested += struct.pack("<HHL", 0xFFFE, 0xE000, 0xFFFFFFFF)
    for _ in range(depth):
        nested += struct.pack("<HHL", 0xFFFE, 0xE00D, 0)
        nested += struct.pack("<HHL", 0xFFFE, 0xE0DD, 0)
    # The dataset starts with (0008,0016) here: insert before it.
    path.write_bytes(raw[:meta_end] + bytes(nested) + raw[meta_end:])
    return path


def sparse_large(path: Path, size: int) -> Path:
    """Row 11: a valid explicit VR LE file of ``size`` bytes, almost all of it a hole.

    The pixel data element is written with its 32-bit length and the file is
    extended with :func:`os.truncate`, so it takes no disk space.
    """
    ds = small_dataset(pixels=0)
    ds.Rows = ds.Columns = 0
    del ds.PixelData
    head = write(ds, path).read_bytes()
    element = struct.pack("<HH2sHL", 0x7FE0, 0x0010, b"OB", 0, 0)
    value_length = size - len(head) - len(element)
    value_length -= value_length % 2
    element = struct.pack("<HH2sHL", 0x7FE0, 0x0010, b"OB", 0, value_length)
    with open(path, "wb") as handle:
        handle.write(head + element)
    os.truncate(path, len(head) + len(element) + value_length)
    return path


def dataset_offset(path: Path) -> int:
    """Where the dataset starts (after the meta group)."""
    raw = path.read_bytes()[:4096]
    return 132 + 12 + struct.unpack_from("<L", raw, 140)[0]


def compressed(path: Path) -> Path:
    """Row 12: a JPEG baseline file from pydicom's test data (decodable)."""
    path.write_bytes(pydicom_file("SC_rgb_jpeg_dcmtk.dcm").read_bytes())
    return path


def many_classes(folder: Path, count: int) -> list[Path]:
    """Row 13: ``count`` files, each of its own (made-up) storage SOP class."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for index in range(count):
        sop_class = f"1.2.840.10008.5.1.4.1.1.9999.{index + 1}"
        instance = f"1.2.826.0.1.3680043.8.498.13.{index + 1}"
        paths.append(write(small_dataset(sop_class, instance), folder / f"c{index:03d}.dcm"))
    return paths


def read_back(path: Path) -> Dataset:
    return dcmread(path, force=True)
