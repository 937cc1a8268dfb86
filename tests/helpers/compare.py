"""``assert_same_dataset``: the correctness check of every interop test.

A received file is correct when its dataset equals the sent one element by element
(DESIGN.md section 4), not when the sender exited 0. Both files are parsed with
pydicom and walked recursively, sequences and private elements included. The
comparison is on *decoded* values, so differences that a legitimate change of
transfer syntax causes are tolerated, and nothing else:

* file meta information (group 0002) is not part of the dataset and is skipped;
* group length elements (gggg,0000) are skipped: they are retired and their values
  depend on the encoding (explicit vs implicit VR);
* Data Set Trailing Padding (FFFC,FFFC) is skipped: it has no meaning (PS3.10 7.2)
  and DCMTK drops it;
* numbers (US, SS, UL, FL, AT, ...) compare as values, whatever their byte order;
* OW/OF/OL/OD/OV bytes compare after normalising big endian to little endian
  (OW words swapped, OF/OL 4-byte units, OD/OV 8-byte units); OB and UN are bytes;
* an element read with VR UN on one side (implicit VR loses the VR of private and
  unknown tags) is re-decoded with the other side's VR, and a UN value holding a
  sequence is decoded as a sequence (PS3.5 6.2.2: implicit VR little endian);
* OB vs OW for Pixel Data and the other "OB or OW" / "US or OW" / "US or SS"
  elements compare as little-endian bytes.

The first difference is reported with its full path, e.g.
``(0008,1140) ReferencedImageSequence[0] > (0008,1155) ReferencedSOPInstanceUID``.
"""

from __future__ import annotations

import array
import contextlib
import struct
from collections.abc import Iterator, MutableSequence
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import Any

import pydicom.config
from pydicom import dcmread
from pydicom.datadict import keyword_for_tag
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.tag import BaseTag
from pydicom.values import convert_SQ, convert_value

_NUMERIC_FORMATS = {
    "US": "H",
    "SS": "h",
    "UL": "L",
    "SL": "l",
    "FL": "f",
    "FD": "d",
    "SV": "q",
    "UV": "Q",
}
#: Bytes VRs and the size of the unit whose byte order flips in big endian.
_WORD_SIZE = {"OB": 1, "UN": 1, "OW": 2, "OF": 4, "OL": 4, "OD": 8, "OV": 8}
_TEXT_VRS = frozenset(
    {
        "AE",
        "AS",
        "CS",
        "DA",
        "DS",
        "DT",
        "IS",
        "LO",
        "LT",
        "PN",
        "SH",
        "ST",
        "TM",
        "UC",
        "UI",
        "UR",
        "UT",
    }
)


_TRAILING_PADDING = BaseTag(0xFFFCFFFC)


class DatasetMismatch(AssertionError):
    """Raised by :func:`assert_same_dataset` with the first difference."""


@dataclass(frozen=True)
class _Side:
    """How one side's dataset was encoded: needed to normalise raw bytes."""

    name: str
    implicit: bool
    little: bool


DatasetSource = str | PathLike[str] | Dataset


def read_dataset(source: DatasetSource) -> Dataset:
    """Parse a file (with or without meta header) leniently, or pass a Dataset through."""
    if isinstance(source, Dataset):
        return source
    with lenient_reading():
        return dcmread(source, force=True)


@contextlib.contextmanager
def lenient_reading() -> Iterator[None]:
    """Decode odd-but-real files (e.g. pydicom's badVR.dcm) without raising.

    The comparison must see what is in the file, not pydicom's opinion of it.
    """
    settings = pydicom.config.settings
    saved = settings.reading_validation_mode
    settings.reading_validation_mode = pydicom.config.IGNORE
    try:
        yield
    finally:
        settings.reading_validation_mode = saved


def assert_same_dataset(
    sent: DatasetSource,
    received: DatasetSource,
    *,
    ignore: frozenset[int] = frozenset(),
) -> None:
    """Fail with :class:`DatasetMismatch` unless the two datasets are equal.

    ``sent``/``received`` are paths or already parsed datasets. ``ignore`` holds
    top-level tags (as ints) that a test expects to differ (none by default).
    """
    a = read_dataset(sent)
    b = read_dataset(received)
    sa = _side(a, _label(sent, "sent"))
    sb = _side(b, _label(received, "received"))
    with lenient_reading():
        problem = _compare_datasets(a, b, sa, sb, "", ignore)
    if problem is not None:
        raise DatasetMismatch(f"{sa.name} != {sb.name}\n  first difference at {problem}")


def same_dataset(sent: DatasetSource, received: DatasetSource) -> bool:
    """Boolean form of :func:`assert_same_dataset`."""
    try:
        assert_same_dataset(sent, received)
    except DatasetMismatch:
        return False
    return True


def _label(source: DatasetSource, default: str) -> str:
    if isinstance(source, Dataset):
        return default
    return f"{default} {Path(source)}"


def _side(ds: Dataset, name: str) -> _Side:
    implicit, little = ds.original_encoding
    if implicit is None or little is None:
        # Built in memory: take the declared transfer syntax, else explicit LE.
        ts = getattr(getattr(ds, "file_meta", None), "TransferSyntaxUID", None)
        implicit = bool(ts is not None and ts.is_implicit_VR)
        little = bool(ts is None or ts.is_little_endian)
    return _Side(name, implicit, little)


def _tag_name(tag: BaseTag) -> str:
    keyword = keyword_for_tag(tag)
    if not keyword and tag.is_private:
        keyword = "private" if tag.element > 0x00FF else "private creator"
    return f"({tag.group:04X},{tag.element:04X}) {keyword}".rstrip()


def _compared_tags(ds: Dataset, ignore: frozenset[int]) -> list[BaseTag]:
    tags: list[BaseTag] = list(ds.keys())
    return [
        t
        for t in tags
        if t.group != 0x0002
        and t.element != 0x0000
        and t != _TRAILING_PADDING
        and int(t) not in ignore
    ]


def _compare_datasets(
    a: Dataset, b: Dataset, sa: _Side, sb: _Side, path: str, ignore: frozenset[int]
) -> str | None:
    tags_a = _compared_tags(a, ignore)
    tags_b = _compared_tags(b, ignore)
    set_b = set(tags_b)
    set_a = set(tags_a)
    for tag in sorted(set_a | set_b):
        where = f"{path}{_tag_name(tag)}"
        if tag not in set_b:
            return f"{where}: only in sent ({_short(_safe_value(a, tag))})"
        if tag not in set_a:
            return f"{where}: only in received ({_short(_safe_value(b, tag))})"
        problem = _compare_elements(a[tag], b[tag], sa, sb, where)
        if problem is not None:
            return problem
    return None


def _safe_value(ds: Dataset, tag: BaseTag) -> Any:
    try:
        return ds[tag].value
    except Exception as exc:  # only used to describe a difference
        return f"<undecodable: {exc}>"


def _compare_elements(
    ea: DataElement, eb: DataElement, sa: _Side, sb: _Side, where: str
) -> str | None:
    va, vb = str(ea.VR), str(eb.VR)
    if "SQ" in (va, vb):
        return _compare_sequences(ea, eb, sa, sb, where)
    if va != vb and "UN" in (va, vb):
        # Implicit VR lost the VR of a private/unknown element: decode the UN bytes
        # with the VR the other side knows.
        if va == "UN":
            ea = _reinterpret(ea, vb, sa)
            va = vb
        else:
            eb = _reinterpret(eb, va, sb)
            vb = va
    if va == vb and va in _TEXT_VRS:
        a_val, b_val = _norm_text(ea.value), _norm_text(eb.value)
        if a_val != b_val:
            return f"{where} [{va}]: sent {_short(a_val)} != received {_short(b_val)}"
        return None
    a_bytes = _canonical_bytes(ea, sa)
    b_bytes = _canonical_bytes(eb, sb)
    if a_bytes is None or b_bytes is None:
        # Not a binary/numeric VR on some side: compare decoded values.
        a_val, b_val = _norm_text(ea.value), _norm_text(eb.value)
        if a_val != b_val:
            return f"{where} [{va} vs {vb}]: sent {_short(a_val)} != received {_short(b_val)}"
        return None
    if a_bytes != b_bytes:
        return f"{where} [{va} vs {vb}]: {_describe_bytes_difference(a_bytes, b_bytes)}"
    return None


def _compare_sequences(
    ea: DataElement, eb: DataElement, sa: _Side, sb: _Side, where: str
) -> str | None:
    seq_a = _as_sequence(ea, sa)
    seq_b = _as_sequence(eb, sb)
    if seq_a is None or seq_b is None:
        return f"{where}: VR {ea.VR} vs {eb.VR} (sequence on one side only)"
    if len(seq_a) != len(seq_b):
        return f"{where}: {len(seq_a)} items sent, {len(seq_b)} received"
    for i, (item_a, item_b) in enumerate(zip(seq_a, seq_b, strict=True)):
        problem = _compare_datasets(
            item_a,
            item_b,
            _item_side(item_a, sa),
            _item_side(item_b, sb),
            f"{where}[{i}] > ",
            frozenset(),
        )
        if problem is not None:
            return problem
    return None


def _item_side(item: Dataset, parent: _Side) -> _Side:
    implicit, little = item.original_encoding
    if implicit is None or little is None:
        return parent
    return _Side(parent.name, implicit, little)


def _as_sequence(elem: DataElement, side: _Side) -> MutableSequence[Dataset] | None:
    if elem.VR == "SQ":
        return elem.value if elem.value is not None else []
    if elem.VR == "UN":
        data = elem.value or b""
        # PS3.5 6.2.2: a UN value is encoded in implicit VR little endian.
        return convert_SQ(data, True, True)
    return None


def _reinterpret(elem: DataElement, vr: str, side: _Side) -> DataElement:
    data = elem.value or b""
    if not isinstance(data, bytes):
        return elem
    raw = RawDataElement(elem.tag, vr, len(data), data, 0, side.implicit, side.little)
    try:
        value = convert_value(vr, raw)
    except Exception:  # undecodable: compare the bytes instead
        return elem
    return DataElement(elem.tag, vr, value)


def _canonical_bytes(elem: DataElement, side: _Side) -> bytes | None:
    """Little-endian bytes of a binary or numeric element; None for other VRs."""
    vr = str(elem.VR)
    value = elem.value
    if vr in _WORD_SIZE:
        data = bytes(value or b"")
        size = _WORD_SIZE[vr]
        return data if side.little or size == 1 else _swap(data, size)
    if vr in _NUMERIC_FORMATS:
        values = _as_list(value)
        return struct.pack(f"<{len(values)}{_NUMERIC_FORMATS[vr]}", *values)
    if vr == "AT":
        tags = [BaseTag(t) for t in _as_list(value)]
        return b"".join(struct.pack("<HH", t.group, t.element) for t in tags)
    return None


def _as_list(value: Any) -> list[Any]:
    if value is None or value == "" or value == b"":
        return []
    if isinstance(value, MultiValue | list | tuple):
        return list(value)
    return [value]


def _swap(data: bytes, size: int) -> bytes:
    whole = len(data) - len(data) % size
    arr = array.array({2: "H", 4: "L", 8: "Q"}[size])
    if arr.itemsize != size:  # pragma: no cover - exotic platforms
        arr = array.array({2: "H", 4: "I", 8: "Q"}[size])
    arr.frombytes(data[:whole])
    arr.byteswap()
    return arr.tobytes() + data[whole:]


def _norm_text(value: Any) -> Any:
    if value is None or value == "" or value == b"":
        return None
    if isinstance(value, MultiValue | list | tuple):
        items = [_norm_text(v) for v in value]
        return items if items else None
    if isinstance(value, str | int | float | bytes):
        return value
    return str(value)  # PersonName and friends


def _short(value: Any, limit: int = 160) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} chars)"


def _describe_bytes_difference(a: bytes, b: bytes) -> str:
    if len(a) != len(b):
        return f"{len(a)} bytes sent, {len(b)} received (little-endian normalised)"
    chunk = 65536
    start = next(i for i in range(0, len(a), chunk) if a[i : i + chunk] != b[i : i + chunk])
    offset = next(i for i in range(start, start + chunk) if a[i] != b[i])
    return (
        f"{len(a)} bytes, first difference at byte {offset}: "
        f"sent {a[offset : offset + 16].hex()} != received {b[offset : offset + 16].hex()}"
    )
