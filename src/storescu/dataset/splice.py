"""Replace top-level elements of a dataset without decoding the rest (rewriting's fast path).

Theory of operation
-------------------
When every change is a top-level attribute (``+II``, ``--uid-suffix``, ``-s``
without a sequence path) and the dataset goes out in the file's own transfer
syntax, nothing needs parsing: :func:`read_layout` walks the top-level
elements by their declared lengths (seeking over values, as
:mod:`storescu.dataset.inspection` does to find the UIDs), :func:`encode_element`
encodes each new value, and :func:`splice` returns the dataset as the file's
unchanged byte ranges with the new elements in between, at their place in
ascending tag order (PS3.5 7.1). Every byte of every other element is sent as
it is in the file; values are never decoded, so neither is pixel data.

Group length elements (gggg,0000) of a changed group are left out: they are
retired (PS3.5 7.2) and would be wrong. This module imports no pydicom unless
a non-ASCII value must be encoded in a Specific Character Set.
"""

from __future__ import annotations

import os
import struct
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, TypeAlias

from storescu.dataset.inspection import (  # the file walker's building blocks
    _LONG_VRS,
    _SHORT_VRS,
    FileInfo,
    _Bad,
    _pread,
    _skip_undefined,
    _Window,
)
from storescu.dataset.transcode import _SPACE_PADDED, FileSpan, Part
from storescu.kernel.constants import EXPLICIT_VR_BIG_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN
from storescu.kernel.errors import FileAccessError, InvalidFileError, RewriteError

__all__ = ["Layout", "encode_element", "read_layout", "splice"]

_UNDEFINED: Final = 0xFFFFFFFF
#: Datasets up to this size are read once and spliced from memory.
_IN_MEMORY: Final = 1024 * 1024
_CHUNK: Final = 64 * 1024
#: Text whose bytes depend on Specific Character Set (PS3.5 6.1.2.3).
_CHARSET_VRS: Final = frozenset({"LO", "LT", "PN", "SH", "ST", "UC", "UT"})
_NUMBER_FORMATS: Final = {
    "US": "H", "SS": "h", "UL": "I", "SL": "i", "UV": "Q", "SV": "q", "FL": "f", "FD": "d",
}  # fmt: skip
_MAX_SMALL_VALUE: Final = 1024


#: One top-level element: (tag, start, stop, value start), file offsets.
Element: TypeAlias = tuple[int, int, int, int]


@dataclass(frozen=True, slots=True)
class Layout:
    """The top-level elements of a file's dataset, in file order.

    Attributes
    ----------
    info : FileInfo
        The file (as inspected now).
    implicit, little : bool
        Its encoding.
    elements : list of Element
        Offsets are file offsets.
    rest : int
        Where the elements not walked start (`until` of :func:`read_layout`);
        `end` when all were.
    end : int
        The end of the dataset (the file size when it was walked).
    data : bytes or None
        The whole dataset when it is small (from ``info.dataset_offset``).
    """

    info: FileInfo
    implicit: bool
    little: bool
    elements: list[Element]
    rest: int
    end: int
    data: bytes | None

    def value(self, tag: int) -> bytes | None:
        """The raw value of a small top-level element, or None if absent (or large)."""
        for element_tag, _, stop, value_start in self.elements:
            if element_tag == tag:
                length = stop - value_start
                if length > _MAX_SMALL_VALUE:
                    return None
                if self.data is not None:
                    start = value_start - self.info.dataset_offset
                    return self.data[start : start + length]
                return _read(self.info.path, value_start, length)
        return None

    def text(self, tag: int) -> str | None:
        """A small top-level value as text, padding removed; None if absent."""
        raw = self.value(tag)
        return None if raw is None else raw.decode("latin-1").strip("\x00 ")


def _read(path: str, offset: int, length: int) -> bytes:
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
        try:
            data = _pread(fd, length, offset)
        finally:
            os.close(fd)
    except OSError as exc:
        raise FileAccessError(path, f"cannot read file: {exc.strerror or exc}") from exc
    if len(data) != length:
        raise InvalidFileError(path, f"truncated at offset {offset + len(data)}")
    return data


def read_layout(info: FileInfo, until: int = 0xFFFFFFFF) -> Layout:
    """Walk the top-level elements of `info`'s dataset (not deflated) up to tag `until`.

    The walk stops before the first element whose tag is above `until`: the
    rest of the dataset is one unchanged run (:func:`inspect_file` checked
    its structure when the run began).

    Raises
    ------
    InvalidFileError
        A length runs past the end of the file (it changed, or is broken).
    FileAccessError
        The file cannot be read.
    """
    implicit = info.transfer_syntax == IMPLICIT_VR_LITTLE_ENDIAN
    little = info.transfer_syntax != EXPLICIT_VR_BIG_ENDIAN
    try:
        fd = os.open(info.path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    except OSError as exc:
        raise FileAccessError(info.path, f"cannot access file: {exc.strerror or exc}") from exc
    try:
        size = os.fstat(fd).st_size
        pos = info.dataset_offset
        whole = size - pos <= _IN_MEMORY
        first = _pread(fd, size - pos if whole else _CHUNK, pos)
        win = _Window(fd, first, pos)
        elements, rest = _walk(win, pos, size, implicit, little, until)
    except _Bad as exc:
        raise InvalidFileError(info.path, str(exc)) from None
    except (OSError, struct.error) as exc:
        raise FileAccessError(info.path, f"cannot read file: {exc}") from exc
    finally:
        os.close(fd)
    return Layout(info, implicit, little, elements, rest, size, first if whole else None)


def _walk(
    win: _Window, pos: int, end: int, implicit: bool, little: bool, until: int = 0xFFFFFFFF
) -> tuple[list[Element], int]:
    """Top-level elements from `pos` (PS3.5 7.1), values skipped, and where the walk ended."""
    e = "<" if little else ">"
    implicit_header = struct.Struct(e + "HHI").unpack_from
    explicit_header = struct.Struct(e + "HH2sH").unpack_from
    long_length = struct.Struct(e + "I").unpack_from
    long_vrs, short_vrs = _LONG_VRS, _SHORT_VRS
    elements: list[Element] = []
    vr = b""
    while pos < end:
        left = end - pos
        if left < 8:
            raise _Bad(f"truncated at offset {pos}")
        buf = win.buf
        i = pos - win.base
        if i < 0 or i + 12 > len(buf):  # the hot path tests the buffer inline
            i = win.view(pos, 12 if left >= 12 else 8)
            buf = win.buf
        header = 8
        if implicit:
            group, elem, length = implicit_header(buf, i)
        else:
            group, elem, vr, length = explicit_header(buf, i)
            if vr in long_vrs:
                if left < 12:
                    raise _Bad(f"truncated at offset {pos}")
                length, header = long_length(buf, i + 8)[0], 12
            elif vr not in short_vrs and not b"AA" <= vr <= b"ZZ":
                raise _Bad(f"invalid VR at offset {pos}")
        tag = group << 16 | elem
        if group == 0xFFFE:
            raise _Bad(f"unexpected item at offset {pos}")
        if tag > until:
            return elements, pos
        if length == _UNDEFINED:
            inner_implicit = implicit or vr == b"UN"  # PS3.5 6.2.2
            stop = _skip_undefined(win, pos + header, end, inner_implicit, little or inner_implicit)
        else:
            stop = pos + header + length
            if stop > end:
                raise _Bad(f"truncated at offset {pos}")
        elements.append((tag, pos, stop, pos + header))
        pos = stop
    return elements, end


# ------------------------------------------------------------------------ encoding


def _text(value: str, vr: str, charset: Sequence[str]) -> bytes:
    if value.isascii():
        return value.encode("ascii")
    terms = list(charset)
    if vr not in _CHARSET_VRS or not terms or terms == ["ISO_IR 6"]:
        raise RewriteError(
            f"'{value}' needs a Specific Character Set (0008,0005); add one, "
            "e.g. -s SpecificCharacterSet=ISO_IR 192"
        )
    from pydicom.charset import convert_encodings, encode_string

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            return bytes(encode_string(value, convert_encodings(terms)))
        except Exception:
            names = "\\".join(terms)
            raise RewriteError(f"'{value}' cannot be encoded in {names}") from None


def encode_element(
    tag: int,
    vr: str,
    values: Sequence[str | int | float],
    implicit: bool,
    little: bool,
    charset: Sequence[str] = (),
) -> bytes:
    """Encode one element (header and value) in the given encoding (PS3.5 7.1, 6.2).

    Text values are joined by backslashes (PS3.5 6.4) and padded to an even
    length (UI with NUL, other text with a space); numbers are packed in the
    byte order; an AT value is a tag number. ``SQ`` with no values is an
    empty sequence.

    Raises
    ------
    RewriteError
        Non-ASCII text that the character set cannot hold.
    """
    e = "<" if little else ">"
    if vr == "SQ" or not values:
        value = b""
    elif vr in _NUMBER_FORMATS:
        value = struct.pack(e + _NUMBER_FORMATS[vr] * len(values), *values)
    elif vr == "AT":
        value = b"".join(struct.pack(e + "HH", int(v) >> 16, int(v) & 0xFFFF) for v in values)
    else:
        value = b"\\".join(_text(str(v), vr, charset) for v in values)
        if len(value) % 2:
            value += b" " if vr in _SPACE_PADDED else b"\x00"
    group, elem = tag >> 16, tag & 0xFFFF
    if implicit:
        return struct.pack(e + "HHI", group, elem, len(value)) + value
    if vr in ("OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"):
        return struct.pack(e + "HH2sHI", group, elem, vr.encode(), 0, len(value)) + value
    if len(value) > 0xFFFF:
        raise RewriteError(f"({group:04X},{elem:04X}): value too long for VR {vr}")
    return struct.pack(e + "HH2sH", group, elem, vr.encode(), len(value)) + value


def splice(layout: Layout, changes: dict[int, bytes]) -> list[Part]:
    """The dataset with the elements of `changes` (tag -> encoded element) put in.

    An element already there is replaced where it is; a new one goes before
    the first element with a larger tag. Group lengths of changed groups are
    left out. Unchanged bytes are slices of :attr:`Layout.data` or, for a
    large file, :class:`~storescu.dataset.transcode.FileSpan` ranges.
    """
    info = layout.info
    groups = {tag >> 16 for tag in changes}
    pending = sorted(changes)
    parts: list[Part] = []
    run_start = run_stop = info.dataset_offset

    def flush() -> None:
        if run_stop > run_start:
            if layout.data is not None:
                base = info.dataset_offset
                parts.append(layout.data[run_start - base : run_stop - base])
            else:
                parts.append(FileSpan(info.path, run_start, run_stop - run_start))

    seen: set[int] = set()
    for tag, start, stop, _ in layout.elements:
        while pending and pending[0] < tag:
            flush()
            run_start = run_stop = start
            parts.append(changes[pending.pop(0)])
        dropped = (tag & 0xFFFF == 0 and tag >> 16 in groups) or tag in seen
        if tag in changes and not dropped:
            flush()
            parts.append(changes[tag])
            seen.add(tag)
            if pending and pending[0] == tag:
                pending.pop(0)
            run_start = run_stop = stop
        elif dropped:  # a group length to drop, or a duplicate of a replaced tag
            flush()
            run_start = run_stop = stop
        else:
            run_stop = stop
    if pending:  # tags beyond the walked elements go before the rest
        flush()
        run_start = run_stop = layout.rest
        parts.extend(changes[tag] for tag in pending)
    run_stop = layout.end
    flush()
    return [p for p in parts if not isinstance(p, bytes) or p]
