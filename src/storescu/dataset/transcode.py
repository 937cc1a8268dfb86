"""Re-encode a dataset in another uncompressed transfer syntax (PS3.5 7, A.1-A.3, A.5).

Only imported when a file's own transfer syntax was not accepted: this is the
one module that loads pydicom for files.

pydicom parses the dataset, but the output is encoded here, element by
element, from the *raw* value bytes, because pydicom 3.0.2's writer
(``write_dataset``/``dcmwrite``) does not swap the byte order of OB/OW/OF/OL/
OD/OV/UN values (its docs say so; checked: big endian OW pixel data comes out
unswapped) and because decoding and re-encoding text can change it (character
sets, invalid bytes). Here:

* text and other byte-order independent values are copied verbatim;
* US/SS/UL/SL/FL/FD/SV/UV/AT and OW/OF/OL/OD/OV values are byte-swapped per
  16/32/64-bit word when the byte order changes (PS3.5 7.3); OB and UN never;
* VRs come from the file (explicit VR) or from pydicom's dictionaries
  (implicit VR; unknown private tags become UN); ambiguous dictionary VRs
  ("US or SS", "OB or OW", "US or OW") are resolved from PixelRepresentation,
  BitsAllocated and the value length (PS3.5 A.1, PS3.3 C.7.6.3.1, C.11.1);
* sequences are re-encoded recursively with defined lengths, group lengths
  (gggg,0000) are dropped (retired, PS3.5 7.2) since the header sizes change;
* an undefined-length UN sequence stays implicit VR little endian inside
  when it remains UN (PS3.5 6.2.2).

Large values need not be in memory: :func:`read_deferred` parses a file with
pydicom's ``defer_size``, leaving values above :data:`DEFER_SIZE` in the file,
and :func:`encode_parts` then writes each such top-level value as a
:class:`FileSpan` (byte-swapped on the fly when the byte order changes) between
the encoded bytes, which :class:`PartsReader` streams. A 1 GB pixel data
element is thus read from disk while it is sent, never held (dataset
rewriting, :mod:`storescu.dataset.rewrite`, uses this).
"""

from __future__ import annotations

import array
import copy
import io
import logging
import os
import struct
import warnings
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, TypeAlias

from storescu.dataset.inspection import CONVERTIBLE_SYNTAXES, FileInfo, can_convert, inspect_file
from storescu.dataset.readers import DatasetReader
from storescu.kernel.constants import (
    DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN,
    EXPLICIT_VR_BIG_ENDIAN,
    IMPLICIT_VR_LITTLE_ENDIAN,
    transfer_syntax_name,
)
from storescu.kernel.errors import ConversionError, FileAccessError, InvalidFileError, StorescuError

if TYPE_CHECKING:
    from pydicom.dataelem import RawDataElement
    from pydicom.dataset import Dataset

__all__ = [
    "DEFER_SIZE",
    "FileSpan",
    "Part",
    "PartsReader",
    "encode_dataset",
    "encode_parts",
    "read_deferred",
    "transcode_file",
]

_log = logging.getLogger(__name__)

_UNDEFINED: Final = 0xFFFFFFFF
_MAX_DEPTH: Final = 128
#: Cap on an inflated deflated dataset; a small file can otherwise expand a thousandfold.
_MAX_INFLATED: Final = 2 * 1024**3

_LONG_VRS: Final = frozenset(
    {"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"}
)
_VALID_VRS: Final = _LONG_VRS | frozenset(
    {"AE", "AS", "AT", "CS", "DA", "DS", "DT", "FD", "FL", "IS", "LO", "LT"}
    | {"PN", "SH", "SL", "SS", "ST", "TM", "UI", "UL", "US"}
)
# PS3.5 7.3: the unit whose byte order depends on the transfer syntax.
_SWAP_UNIT: Final = {
    "AT": 2, "OW": 2, "SS": 2, "US": 2,
    "FL": 4, "OF": 4, "OL": 4, "SL": 4, "UL": 4,
    "FD": 8, "OD": 8, "OV": 8, "SV": 8, "UV": 8,
}  # fmt: skip
# PS3.5 6.2: padding for odd-length values.
_SPACE_PADDED: Final = frozenset(
    {"AE", "AS", "CS", "DA", "DS", "DT", "IS", "LO", "LT", "PN", "SH", "ST", "TM", "UC", "UR", "UT"}
)
_PIXEL_DATA: Final = 0x7FE00010
#: ``-u``: the VRs DCMTK's dcmDisableGenerationOfNewVRs() writes as OB (dcvr.cc).
OLD_VR_MAP: Final = {
    vr: "OB" for vr in ("UN", "UT", "OF", "OD", "OL", "UC", "UR", "OV", "SV", "UV")
}
#: Values larger than this stay in the file when read by :func:`read_deferred`.
DEFER_SIZE: Final = 64 * 1024
_ITEM_HEADER: Final = struct.Struct("<HHI")


@dataclass(frozen=True, slots=True)
class FileSpan:
    """Bytes ``[offset, offset + length)`` of a file, to be sent as part of a dataset.

    Attributes
    ----------
    path : str
        The file.
    offset, length : int
        Where the bytes are.
    swap : int
        0 to send them as they are, else the word size (2, 4 or 8) whose byte
        order is reversed on the way (PS3.5 7.3).
    """

    path: str
    offset: int
    length: int
    swap: int = 0


#: A piece of an encoded dataset: bytes in memory, or a span of the source file.
Part: TypeAlias = bytes | FileSpan


def _swap(value: bytes, unit: int) -> bytes:
    """Reverse the bytes of each `unit`-byte word (a trailing partial word is kept)."""
    n = len(value) - len(value) % unit
    out = bytearray(value)
    for k in range(unit):
        out[k:n:unit] = value[unit - 1 - k : n : unit]
    return bytes(out)


def _lookup_int(ancestors: list[Dataset], keyword: str) -> int | None:
    """Value of `keyword` in the nearest dataset that has it (PS3.3 C.7.6.3)."""
    for ds in ancestors:
        try:
            value = ds.get(keyword)
        except Exception:  # a broken value must not stop the conversion
            continue
        if isinstance(value, int):
            return value
    return None


def _resolve_vr(vr: str, tag: int, ancestors: list[Dataset], length: int) -> str:
    """Pick one VR for a dictionary VR such as ``"US or SS"``."""
    if vr in _VALID_VRS:
        return vr
    options = vr.replace(" ", "").split("or")
    if "OB" in options and "OW" in options:
        if (tag >> 16) & 0xFF00 == 0x6000:
            return "OW"  # Overlay Data: OW in implicit VR (PS3.5 8.1.2)
        keyword = "WaveformBitsAllocated" if tag >> 16 == 0x5400 else "BitsAllocated"
        bits = _lookup_int(ancestors, keyword)
        # PS3.5 A.2: OW when more than 8 bits are allocated; OB otherwise, so an
        # 8-bit image is never byte-swapped.
        return "OB" if bits is not None and bits <= 8 else "OW"
    if "OW" in options and length > 2:
        return "OW"  # LUT Data with more than one entry (PS3.3 C.11.1.1.1)
    if "SS" in options and _lookup_int(ancestors, "PixelRepresentation") == 1:
        return "SS"
    if "US" in options:
        return "US"
    return "UN"


def _dictionary_vr(ds: Dataset, tag: int) -> str:
    """VR of an implicit VR (or UN) element: from the data dictionary.

    Public tags use the dictionary entry itself, so that ambiguous entries
    ("OB or OW") are resolved by :func:`_resolve_vr`; private tags need their
    private creator, which pydicom's element conversion looks up. Unknown
    tags are UN (PS3.5 6.2.2).
    """
    from pydicom.datadict import dictionary_VR

    if tag >> 16 & 1 == 0:
        try:
            return str(dictionary_VR(tag))
        except KeyError:
            return "UN"
    try:
        return str(ds[tag].VR)
    except Exception as exc:  # a broken private value: keep its bytes as UN
        _log.debug("no VR for %08X (%s); using UN", tag, exc)
        return "UN"


def _charset_of(ds: Dataset, parent: list[str]) -> list[str]:
    """Character sets for text written from Python values (PS3.5 6.1.2.5)."""
    value = ds.get("SpecificCharacterSet")
    if not value:
        return parent
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


class _Encoder:
    """Writes elements in one transfer syntax; see the module docstring.

    With `spans` (a list) and `source` (the file the dataset was read from),
    deferred top-level values are appended to `spans` as :class:`FileSpan`
    instead of being read; the caller appends the rest of `out` at the end.
    """

    def __init__(
        self,
        implicit: bool,
        little: bool,
        encapsulated: bool,
        source: str | None = None,
        spans: list[Part] | None = None,
        vr_map: dict[str, str] | None = None,
    ) -> None:
        self.implicit = implicit
        self.vr_map = vr_map or {}
        self.little = little
        self.encapsulated = encapsulated
        self.source = source
        self.spans = spans
        e = "<" if little else ">"
        self._implicit_hdr = struct.Struct(e + "HHI")
        self._short_hdr = struct.Struct(e + "HH2sH")
        self._long_hdr = struct.Struct(e + "HH2sHI")

    def header(self, out: bytearray, tag: int, vr: str, length: int) -> None:
        group, elem = tag >> 16, tag & 0xFFFF
        if self.implicit or tag >> 16 == 0xFFFE:  # items have no VR (PS3.5 7.5)
            out += self._implicit_hdr.pack(group, elem, length)
            return
        if vr not in _LONG_VRS and length > 0xFFFF:
            vr = "UN"  # PS3.5 6.2.2: too long for a 16-bit length, write as UN
        vr = self.vr_map.get(vr, vr)
        if vr in _LONG_VRS:
            out += self._long_hdr.pack(group, elem, vr.encode(), 0, length)
        else:
            out += self._short_hdr.pack(group, elem, vr.encode(), length)

    def dataset(
        self, ds: Dataset, out: bytearray, ancestors: list[Dataset], charset: list[str]
    ) -> None:
        if len(ancestors) > _MAX_DEPTH:
            raise ConversionError(f"sequences nested deeper than {_MAX_DEPTH} levels")
        charset = _charset_of(ds, charset)
        for tag in sorted(ds.keys()):
            # Group lengths are retired (PS3.5 7.2) and would be wrong after
            # re-encoding; group 0002 belongs to the file meta (PS3.10 7.1).
            if tag & 0xFFFF == 0 or tag >> 16 == 0x0002:
                continue
            self.element(ds, int(tag), out, ancestors, charset)

    def element(
        self, ds: Dataset, tag: int, out: bytearray, ancestors: list[Dataset], charset: list[str]
    ) -> None:
        from pydicom.dataelem import RawDataElement

        item = ds.get_item(tag, keep_deferred=True)
        if isinstance(item, RawDataElement) and item.value is None and item.length:
            # Left in the file by defer_size: stream it, or read it now.
            if self.stream_deferred(ds, tag, item, out, ancestors):
                return
            item = self.load_deferred(ds, tag, item)
        if isinstance(item, RawDataElement):
            vr = item.VR
            if vr is None or vr not in _VALID_VRS or vr == "UN":
                vr = _dictionary_vr(ds, tag)
            value: Any = item.value
            source_little = item.is_little_endian
            undefined = item.length == _UNDEFINED
        else:
            vr = item.VR
            value = item.value
            source_little = ds.original_encoding[1] is not False
            undefined = item.is_undefined_length
            if item.is_buffered:  # a file-like value: read it whole, leave it where it was
                where = value.tell()
                value = value.read()
                item.value.seek(where)
        if vr == "SQ":
            self.sequence(ds[tag].value, tag, out, ancestors, charset)
            return
        if value is None:
            value = b""
        vr = _resolve_vr(vr, tag, ancestors, len(value) if isinstance(value, bytes) else 0)
        if not isinstance(value, (bytes, bytearray)):
            self.python_value(item, vr, out, charset)
            return
        value = bytes(value)
        if undefined:  # encapsulated pixel data (PS3.5 A.4)
            if not (self.encapsulated and tag == _PIXEL_DATA):
                raise ConversionError("encapsulated (compressed) pixel data cannot be converted")
            self.header(out, tag, vr, _UNDEFINED)
            out += value
            out += self._implicit_hdr.pack(0xFFFE, 0xE0DD, 0)
            return
        unit = _SWAP_UNIT.get(vr)
        if unit and source_little != self.little:
            value = _swap(value, unit)
        if len(value) % 2:
            value += b" " if vr in _SPACE_PADDED else b"\x00"
        self.header(out, tag, vr, len(value))
        out += value

    def stream_deferred(
        self,
        ds: Dataset,
        tag: int,
        item: RawDataElement,
        out: bytearray,
        ancestors: list[Dataset],
    ) -> bool:
        """Write the header of a deferred value and queue its bytes as a :class:`FileSpan`.

        Only top-level values (pydicom defers no others) whose VR is known
        without reading them: an explicit VR other than UN, or a public tag's
        dictionary VR. A sequence is streamed only into the same encoding,
        undefined-length values only as encapsulated pixel data into its own
        syntax. Returns False when the value must be read instead.
        """
        if self.spans is None or self.source is None or len(ancestors) != 1:
            return False
        vr = item.VR
        if vr is None or vr not in _VALID_VRS or vr == "UN":
            if not item.is_implicit_VR or tag >> 16 & 1:
                return False
            vr = _dictionary_vr(ds, tag)
        vr = _resolve_vr(vr, tag, ancestors, item.length)
        same = item.is_implicit_VR == self.implicit and item.is_little_endian == self.little
        if vr in ("SQ", "UN") and not same:
            return False
        undefined = item.length == _UNDEFINED
        if undefined:
            if not (self.encapsulated and tag == _PIXEL_DATA and same):
                return False
            end = _encapsulated_end(self.source, item.value_tell)
            if end is None:
                return False
            self.header(out, tag, vr, _UNDEFINED)  # the span ends with the delimiter
            length, pad = end - item.value_tell, b""
        else:
            length = item.length
            pad = (b" " if vr in _SPACE_PADDED else b"\x00") if length % 2 else b""
            self.header(out, tag, vr, length + len(pad))
        swap = _SWAP_UNIT.get(vr, 0) if item.is_little_endian != self.little else 0
        self.spans.append(bytes(out))
        out.clear()
        self.spans.append(FileSpan(self.source, item.value_tell, length, swap))
        out += pad
        return True

    def load_deferred(self, ds: Dataset, tag: int, item: RawDataElement) -> Any:
        """Read a deferred value into memory; return the element to encode."""
        if self.source is None:
            # A dataset from dcmread(defer_size=...): pydicom reads it back.
            ds[tag]  # the lookup loads the value
            return ds.get_item(tag)
        if item.length == _UNDEFINED:
            end = _encapsulated_end(self.source, item.value_tell)
            if end is None:
                raise ConversionError(
                    f"cannot find the end of ({tag >> 16:04X},{tag & 0xFFFF:04X}) in the file"
                )
            data = _pread_exact(self.source, item.value_tell, end - 8 - item.value_tell)
        else:
            data = _pread_exact(self.source, item.value_tell, item.length)
        loaded = item._replace(value=data)
        ds[tag] = loaded
        return loaded

    def sequence(
        self,
        items: Iterable[Dataset],
        tag: int,
        out: bytearray,
        ancestors: list[Dataset],
        charset: list[str],
    ) -> None:
        body = bytearray()
        for item in items:
            content = bytearray()
            self.dataset(item, content, [item, *ancestors], charset)
            self.header(body, 0xFFFEE000, "", len(content))
            body += content
        if len(body) >= _UNDEFINED:
            raise ConversionError(f"sequence ({tag >> 16:04X},{tag & 0xFFFF:04X}) too long")
        self.header(out, tag, "SQ", len(body))
        out += body

    def python_value(self, item: Any, vr: str, out: bytearray, charset: list[str]) -> None:
        """Encode an element holding Python values (numbers, text) with pydicom.

        Its writer packs numbers in the byte order of the target stream, which
        is right: only bytes values are left unswapped by it.
        """
        from pydicom.filebase import DicomBytesIO
        from pydicom.filewriter import write_data_element

        elem = copy.copy(item)
        elem.VR = vr
        fp = DicomBytesIO()
        fp.is_little_endian = self.little
        fp.is_implicit_VR = self.implicit
        write_data_element(fp, elem, charset)
        data = fp.getvalue()
        new_vr = self.vr_map.get(vr)
        if new_vr is not None and not self.implicit and data[4:6] == vr.encode():
            # Only long VRs are mapped, to OB, also long: the header keeps its layout.
            data = data[:4] + new_vr.encode() + data[6:]
        out += data


def _encoding(target_ts: str) -> tuple[bool, bool]:
    """(implicit VR, little endian) of a transfer syntax (PS3.5 10, A.4)."""
    return target_ts == IMPLICIT_VR_LITTLE_ENDIAN, target_ts != EXPLICIT_VR_BIG_ENDIAN


def _deflate(data: bytes, level: int = 6) -> bytes:
    """PS3.5 A.5: raw deflate (RFC 1951), no zlib header; `level` 0..9 (``+cl``).

    An odd-length result gets a trailing NUL byte (PS3.5 A.5; DCMTK refuses
    odd fragments: "Odd Fragment Length"), which inflating ignores.
    """
    comp = zlib.compressobj(level, zlib.DEFLATED, -zlib.MAX_WBITS)
    out = comp.compress(data) + comp.flush()
    return out + b"\x00" if len(out) % 2 else out


def _inflate(data: bytes) -> bytes:
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    out = inflater.decompress(data, _MAX_INFLATED)
    if inflater.unconsumed_tail:
        raise ConversionError(f"deflated dataset inflates to more than {_MAX_INFLATED} bytes")
    return out


def _encode(
    ds: Dataset, target_ts: str, encapsulated: bool, level: int = 6, old_vrs: bool = False
) -> bytes:
    implicit, little = _encoding(target_ts)
    encoder = _Encoder(implicit, little, encapsulated, vr_map=OLD_VR_MAP if old_vrs else None)
    out = bytearray()
    parent = ["iso8859"]  # pydicom's name for the default repertoire
    encoder.dataset(ds, out, [ds], parent)
    data = bytes(out)
    return _deflate(data, level) if target_ts == DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN else data


def _guarded(what: str, target_ts: str, func: Any, *args: Any) -> bytes:
    """Run `func`, turning pydicom's and Python's errors into ConversionError."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result: bytes = func(*args)
        except StorescuError:
            raise
        except RecursionError as exc:
            raise ConversionError(f"{what}: sequences nested too deeply") from exc
        except Exception as exc:  # pydicom raises many types on bad data
            name = transfer_syntax_name(target_ts)
            raise ConversionError(f"{what}: cannot encode in '{name}': {exc}") from exc
    for warning in caught:
        _log.debug("%s: pydicom: %s", what, warning.message)
    return result


def encode_dataset(
    ds: Dataset, target_ts: str, *, deflate_level: int = 6, old_vrs: bool = False
) -> bytes:
    """Encode a pydicom dataset in `target_ts`; see :func:`storescu.dataset.sources.encode_dataset`.

    `deflate_level` is the zlib level of a deflated target (``+cl``); with
    `old_vrs` (``-u``) post-1993 VRs are written as OB (:data:`OLD_VR_MAP`).
    """
    meta = getattr(ds, "file_meta", None)
    own_ts = str(meta.get("TransferSyntaxUID", "")) if meta is not None else ""
    if target_ts in CONVERTIBLE_SYNTAXES:
        pixel = ds.get_item(_PIXEL_DATA) if _PIXEL_DATA in ds else None
        undefined = pixel is not None and (
            getattr(pixel, "length", 0) == _UNDEFINED
            or getattr(pixel, "is_undefined_length", False)
        )
        if undefined or (own_ts and own_ts not in CONVERTIBLE_SYNTAXES):
            raise ConversionError(
                f"cannot convert from '{transfer_syntax_name(own_ts or 'compressed')}' "
                f"to '{transfer_syntax_name(target_ts)}'"
            )
        return _guarded("dataset", target_ts, _encode, ds, target_ts, False, deflate_level, old_vrs)
    if own_ts == target_ts:  # its own compressed syntax: explicit VR LE (PS3.5 A.4)
        return _guarded("dataset", target_ts, _encode, ds, target_ts, True, deflate_level, old_vrs)
    raise ConversionError(
        f"cannot convert from '{transfer_syntax_name(own_ts or 'unknown')}' "
        f"to '{transfer_syntax_name(target_ts)}'"
    )


def _parse(data: bytes, source_ts: str) -> Dataset:
    from pydicom.filereader import read_dataset

    if source_ts == DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN:
        data = _inflate(data)
    implicit, little = _encoding(source_ts)
    # read_dataset keeps values raw (bytes); sequences are parsed from them on access.
    return read_dataset(io.BytesIO(data), implicit, little)


def transcode_file(info: FileInfo, target_ts: str) -> bytes:
    """Return the dataset of `info` encoded in `target_ts`.

    Parameters
    ----------
    info : FileInfo
        An inspected file whose syntax is in ``CONVERTIBLE_SYNTAXES``.
    target_ts : str
        A syntax in ``CONVERTIBLE_SYNTAXES``.

    Returns
    -------
    bytes

    Raises
    ------
    ConversionError
        The conversion is not supported, or the dataset cannot be decoded or encoded.
    FileAccessError, InvalidFileError
        The file changed, vanished or broke since it was inspected.
    """
    # pydicom reads truncated values silently: check the structure first (this
    # also notices a file that changed since it was inspected).
    info = inspect_file(info.path, check_truncation=True)
    if not can_convert(info.transfer_syntax, target_ts):
        raise ConversionError(
            f"cannot convert from '{transfer_syntax_name(info.transfer_syntax)}' "
            f"to '{transfer_syntax_name(target_ts)}'"
        )
    try:
        with open(info.path, "rb") as fp:
            fp.seek(info.dataset_offset)
            data = fp.read(info.dataset_length)
    except OSError as exc:
        raise FileAccessError(info.path, f"cannot read file: {exc.strerror or exc}") from exc

    def run() -> bytes:
        return _encode(_parse(data, info.transfer_syntax), target_ts, False)

    return _guarded(info.path, target_ts, run)


# ------------------------------------------------------- deferred values, streaming


def _pread_exact(path: str, offset: int, length: int) -> bytes:
    """Read exactly `length` bytes of `path` at `offset`."""
    try:
        with open(path, "rb") as fp:
            fp.seek(offset)
            data = fp.read(length)
    except OSError as exc:
        raise FileAccessError(path, f"cannot read file: {exc.strerror or exc}") from exc
    if len(data) != length:
        raise InvalidFileError(path, f"truncated at offset {offset + len(data)}")
    return data


def _encapsulated_end(path: str, pos: int) -> int | None:
    """Offset after the sequence delimiter of encapsulated pixel data starting at `pos`.

    PS3.5 A.4: defined-length items (FFFE,E000), then (FFFE,E0DD). Little
    endian, as every encapsulated syntax is. None when the value is not
    shaped like that (it is then read whole and checked by the encoder).
    """
    try:
        with open(path, "rb") as fp:
            size = os.fstat(fp.fileno()).st_size
            while pos + 8 <= size:
                fp.seek(pos)
                group, elem, length = _ITEM_HEADER.unpack(fp.read(8))
                if group != 0xFFFE:
                    return None
                if elem == 0xE0DD:
                    return pos + 8
                if elem != 0xE000 or length == _UNDEFINED or pos + 8 + length > size:
                    return None
                pos += 8 + length
    except (OSError, struct.error):
        return None
    return None


def read_deferred(info: FileInfo) -> tuple[Dataset, FileInfo]:
    """Parse the dataset of `info`, leaving values above :data:`DEFER_SIZE` in the file.

    The file is inspected again first (pydicom reads truncated values
    silently; this also notices a file that changed since it was inspected).
    A deflated dataset (PS3.5 A.5) is inflated and read whole.

    Returns
    -------
    (Dataset, FileInfo)
        The dataset and the file as inspected now.

    Raises
    ------
    ConversionError
        pydicom cannot parse the dataset.
    FileAccessError, InvalidFileError
        The file cannot be read (any more) or is broken.
    """
    from pydicom.filereader import read_dataset

    info = inspect_file(info.path, check_truncation=True)
    implicit, little = _encoding(info.transfer_syntax)

    def run() -> Dataset:
        with open(info.path, "rb") as fp:
            fp.seek(info.dataset_offset)
            if info.transfer_syntax == DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN:
                data = _inflate(fp.read(info.dataset_length))
                return read_dataset(io.BytesIO(data), False, True)
            ds = read_dataset(fp, implicit, little, defer_size=DEFER_SIZE)
        # Let pydicom read a deferred value back when something looks at it
        # (as for a dcmread() dataset); the encoder streams them instead.
        ds.filename, ds.buffer, ds.fileobj_type, ds.timestamp = info.path, None, open, None
        return ds

    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            ds = run()
    except OSError as exc:
        raise FileAccessError(info.path, f"cannot read file: {exc.strerror or exc}") from exc
    except StorescuError:
        raise
    except Exception as exc:  # pydicom raises many types on bad data
        raise ConversionError(f"{info.path}: cannot parse the dataset: {exc}") from exc
    for warning in caught:
        _log.debug("%s: pydicom: %s", info.path, warning.message)
    return ds, info


def encode_parts(
    ds: Dataset,
    own_ts: str,
    target_ts: str,
    source: str | None = None,
    *,
    deflate_level: int = 6,
    old_vrs: bool = False,
) -> list[Part]:
    """Encode `ds`, whose pixel data is in `own_ts`, in `target_ts`, as parts.

    `target_ts` is `own_ts` (an encapsulated pixel data element is written as
    it is, never decoded) or, when both are, another syntax of
    :data:`~storescu.dataset.inspection.CONVERTIBLE_SYNTAXES`. Deferred top-level values
    of `source` (the file `ds` was read from by :func:`read_deferred`) become
    :class:`FileSpan` parts, except for a deflated target, which is deflated
    in memory, at zlib level `deflate_level` (``+cl``). With `old_vrs`
    (``-u``) post-1993 VRs are written as OB (:data:`OLD_VR_MAP`).

    Raises
    ------
    ConversionError
        The dataset cannot be encoded in `target_ts`.
    FileAccessError, InvalidFileError
        A deferred value had to be read and the file cannot be read any more.
    """
    if own_ts == target_ts:
        encapsulated = own_ts not in CONVERTIBLE_SYNTAXES
    elif own_ts in CONVERTIBLE_SYNTAXES and target_ts in CONVERTIBLE_SYNTAXES:
        encapsulated = False
    else:
        raise ConversionError(
            f"cannot convert from '{transfer_syntax_name(own_ts)}' "
            f"to '{transfer_syntax_name(target_ts)}'"
        )
    implicit, little = _encoding(target_ts)
    deflate = target_ts == DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN
    parts: list[Part] = []
    encoder = _Encoder(
        implicit,
        little,
        encapsulated,
        source,
        None if deflate else parts,
        OLD_VR_MAP if old_vrs else None,
    )

    def run() -> bytes:
        out = bytearray()
        encoder.dataset(ds, out, [ds], ["iso8859"])
        return _deflate(bytes(out), deflate_level) if deflate else bytes(out)

    parts.append(_guarded(source or "dataset", target_ts, run))
    return [p for p in parts if not isinstance(p, bytes) or p]


_SWAP_CODES: Final = {array.array(c).itemsize: c for c in "HIQ"}


class PartsReader(DatasetReader):
    """Streams an encoded dataset made of :data:`Part` pieces.

    Bytes parts are copied; file spans are read into the caller's buffer at
    send time (from one open file), byte-swapped in place when asked.

    Parameters
    ----------
    parts : list of Part
        In order. Every :class:`FileSpan` must name the same file.
    """

    def __init__(self, parts: list[Part]) -> None:
        self._parts = parts
        self.length = sum(len(p) if isinstance(p, bytes) else p.length for p in parts)
        self._index = 0
        self._pos = 0  # within the current part
        self._fp: io.FileIO | None = None

    def readinto(self, buf: memoryview | bytearray) -> int:
        """Fill `buf` from the parts; return the number of bytes, 0 at the end."""
        view = buf if isinstance(buf, memoryview) else memoryview(buf)
        done = 0
        while done < len(view) and self._index < len(self._parts):
            part = self._parts[self._index]
            if isinstance(part, bytes):
                n = min(len(view) - done, len(part) - self._pos)
                view[done : done + n] = part[self._pos : self._pos + n]
            else:
                n = self._read_span(part, view[done:])
                if n == 0:  # a partial swapped word does not fit: send what we have
                    break
            done += n
            self._pos += n
            if self._pos >= (len(part) if isinstance(part, bytes) else part.length):
                self._index += 1
                self._pos = 0
        return done

    def _read_span(self, span: FileSpan, view: memoryview) -> int:
        left = span.length - self._pos
        n = min(len(view), left)
        unit = span.swap
        if unit > 1 and n < left:
            n -= n % unit  # swap whole words only; the rest comes with the next call
            if n == 0:
                return 0
        if self._fp is None:
            try:
                self._fp = open(span.path, "rb", buffering=0)  # noqa: SIM115 - closed by close()
            except OSError as exc:
                raise FileAccessError(span.path, f"cannot access file: {exc.strerror}") from exc
        offset = span.offset + self._pos
        try:
            self._fp.seek(offset)
            got = 0
            while got < n:
                r = self._fp.readinto(view[got:n])
                if not r:
                    raise InvalidFileError(span.path, f"truncated at offset {offset + got}")
                got += r
        except OSError as exc:
            raise FileAccessError(span.path, f"cannot read file: {exc.strerror or exc}") from exc
        if unit > 1:
            whole = n - n % unit
            words = array.array(_SWAP_CODES[unit])
            words.frombytes(view[:whole])
            words.byteswap()
            view[:whole] = memoryview(words).cast("B")
        return n

    def close(self) -> None:
        """Close the file; idempotent."""
        if self._fp is not None:
            self._fp.close()
            self._fp = None
        self._index = len(self._parts)
