"""Input files: open the dataset of one for sending, in the negotiated syntax.

Theory of operation
-------------------
What an input file is -- SOP Class/Instance UIDs, transfer syntax, where the
dataset starts -- is found without pydicom by :mod:`storescu.dataset.inspection`
(:func:`inspect_file`, :func:`verify_file`); the bytes are read by the readers
of :mod:`storescu.dataset.readers`. This module sits above both and above
:mod:`storescu.dataset.transcode`, and picks the way a dataset goes out.

:func:`open_dataset` streams the dataset bytes straight from disk when the
negotiated transfer syntax is the file's own. Only when the dataset must be
re-encoded does :mod:`storescu.dataset.transcode` (and with it pydicom) get
imported, which is why that import is inside the function: the plain path
never pays for it.
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING

from storescu.dataset.inspection import (
    _PREAMBLE_LEN,
    FileInfo,
    _check_ascii,
    can_convert,
)
from storescu.dataset.readers import DatasetReader, FileDatasetReader, MemoryDatasetReader
from storescu.kernel.constants import (
    DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN,
    IMPLEMENTATION_CLASS_UID,
    IMPLEMENTATION_VERSION_NAME,
    transfer_syntax_name,
)
from storescu.kernel.errors import ConversionError, InvalidFileError

if TYPE_CHECKING:
    from pydicom.dataset import Dataset

__all__ = ["build_file_meta", "dataset_identity", "encode_dataset", "open_dataset"]


def open_dataset(info: FileInfo, target_ts: str, whole: bytes | None = None) -> DatasetReader:
    """Open the dataset of an inspected file, encoded in `target_ts`.

    When `target_ts` is the file's own syntax the bytes are streamed from disk
    unchanged, without pydicom. Otherwise the dataset is decoded with pydicom
    (large values left in the file) and re-encoded by :mod:`storescu.dataset.transcode`
    (explicit/implicit VR, either byte order, deflated); large values are
    streamed from the file at send time.

    Parameters
    ----------
    info : FileInfo
        From :func:`inspect_file`.
    target_ts : str
        The transfer syntax accepted for the presentation context.
    whole : bytes, optional
        The whole file, already read (:func:`verify_file`): sent from memory
        when no conversion is needed.

    Returns
    -------
    DatasetReader

    Raises
    ------
    ConversionError
        The conversion is not supported (compressed pixel data) or failed.
    FileAccessError, InvalidFileError
        The file cannot be read (any more) or is broken.
    """
    if target_ts == info.transfer_syntax:
        if target_ts == DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN and info.dataset_length % 2:
            # PS3.5 A.5: an odd-length deflated stream is padded with one NUL byte
            # (files on disk often are not; DCMTK refuses odd fragments).
            from storescu.dataset.transcode import FileSpan, PartsReader

            span = FileSpan(info.path, info.dataset_offset, info.dataset_length)
            return PartsReader([span, b"\x00"])
        if whole is not None and len(whole) == info.file_size:
            return MemoryDatasetReader(memoryview(whole)[info.dataset_offset :])
        return FileDatasetReader(info)
    if not can_convert(info.transfer_syntax, target_ts):
        raise ConversionError(
            f"cannot convert from '{transfer_syntax_name(info.transfer_syntax)}' "
            f"to '{transfer_syntax_name(target_ts)}'"
        )
    from storescu.dataset import transcode

    # Values above transcode.DEFER_SIZE (pixel data) stay in the file and are
    # streamed (byte-swapped on the fly when the byte order changes), so the
    # memory needed does not grow with the file.
    ds, current = transcode.read_deferred(info)
    parts = transcode.encode_parts(ds, current.transfer_syntax, target_ts, current.path)
    return transcode.PartsReader(parts)


def encode_dataset(ds: Dataset, target_ts: str) -> bytes:
    """Encode an in-memory pydicom dataset (without file meta) in `target_ts`.

    `target_ts` may be any syntax in :data:`CONVERTIBLE_SYNTAXES`, or the
    dataset's own compressed syntax (``ds.file_meta.TransferSyntaxUID``), in
    which case the encapsulated pixel data is written as it is. OB/OW/OF/OL/
    OD/OV byte values are taken to be in the dataset's original byte order
    (little endian for datasets built in memory) and are swapped as needed.

    Parameters
    ----------
    ds : pydicom.dataset.Dataset
        The dataset; group 0002 elements in it are ignored.
    target_ts : str
        Transfer syntax UID to encode in.

    Returns
    -------
    bytes

    Raises
    ------
    ConversionError
        The dataset cannot be encoded in `target_ts`.
    """
    from storescu.dataset import transcode

    return transcode.encode_dataset(ds, target_ts)


def dataset_identity(ds: Dataset) -> tuple[str, str, str | None]:
    """Return (SOP Class UID, SOP Instance UID, transfer syntax or None) of a dataset.

    The UIDs come from the dataset, else from its file meta; the transfer
    syntax from ``ds.file_meta`` when present.

    Raises
    ------
    InvalidFileError
        A SOP UID is missing (the "path" is ``ds.filename`` or ``<dataset>``).
    """
    meta = getattr(ds, "file_meta", None)

    def pick(keyword: str, meta_keyword: str) -> str | None:
        for source, key in ((ds, keyword), (meta, meta_keyword)):
            value = source.get(key) if source is not None else None
            if value:
                return str(value).strip("\x00 ") or None
        return None

    name = str(getattr(ds, "filename", None) or "<dataset>")
    sop_class = pick("SOPClassUID", "MediaStorageSOPClassUID")
    sop_inst = pick("SOPInstanceUID", "MediaStorageSOPInstanceUID")
    if not sop_class:
        raise InvalidFileError(name, "missing SOP Class UID")
    if not sop_inst:
        raise InvalidFileError(name, "missing SOP Instance UID")
    _check_ascii(sop_class, "SOP Class UID", lambda text: InvalidFileError(name, text))
    _check_ascii(sop_inst, "SOP Instance UID", lambda text: InvalidFileError(name, text))
    ts = meta.get("TransferSyntaxUID") if meta is not None else None
    return sop_class, sop_inst, (str(ts) if ts else None)


# --------------------------------------------------------------------- file meta


def _meta_element(elem: int, vr: bytes, value: bytes) -> bytes:
    """Encode one group 0002 element, explicit VR little endian (PS3.10 7.1)."""
    if len(value) > 0xFFFE:
        raise ValueError(f"value of (0002,{elem:04X}) is too long")
    if vr == b"OB":
        return struct.pack("<HH2sHI", 0x0002, elem, vr, 0, len(value)) + value
    return struct.pack("<HH2sH", 0x0002, elem, vr, len(value)) + value


def _padded(text: str, pad: bytes) -> bytes:
    data = text.encode("ascii")  # UI and AE use the default repertoire (PS3.5 6.1.2)
    return data + pad if len(data) % 2 else data


def build_file_meta(
    sop_class_uid: str,
    sop_instance_uid: str,
    transfer_syntax: str,
    *,
    source_aet: str | None = None,
) -> bytes:
    """Return preamble, ``DICM`` and a file meta information group (PS3.10 7.1).

    Appending the dataset bytes, encoded in `transfer_syntax`, gives a valid
    DICOM file.

    Parameters
    ----------
    sop_class_uid, sop_instance_uid, transfer_syntax : str
        Written to (0002,0002), (0002,0003) and (0002,0010).
    source_aet : str, optional
        Written to (0002,0016) Source Application Entity Title when given.

    Returns
    -------
    bytes

    Raises
    ------
    ValueError
        A value is not ASCII or too long for its element.
    """
    elements = [
        _meta_element(0x0001, b"OB", b"\x00\x01"),
        _meta_element(0x0002, b"UI", _padded(sop_class_uid, b"\x00")),
        _meta_element(0x0003, b"UI", _padded(sop_instance_uid, b"\x00")),
        _meta_element(0x0010, b"UI", _padded(transfer_syntax, b"\x00")),
        _meta_element(0x0012, b"UI", _padded(IMPLEMENTATION_CLASS_UID, b"\x00")),
        _meta_element(0x0013, b"SH", _padded(IMPLEMENTATION_VERSION_NAME, b" ")),
    ]
    if source_aet is not None:
        elements.append(_meta_element(0x0016, b"AE", _padded(source_aet, b" ")))
    body = b"".join(elements)
    group_length = _meta_element(0x0000, b"UL", struct.pack("<I", len(body)))
    return bytes(_PREAMBLE_LEN) + b"DICM" + group_length + body
