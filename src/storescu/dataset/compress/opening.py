"""open_compressed: a dataset with native pixel data, encoded in a lossless syntax.

The elements before and after Pixel Data are encoded explicit VR little
endian by :func:`storescu.dataset.transcode.encode_parts` (PS3.5 A.4: every
encapsulated syntax is explicit VR little endian outside the fragments),
values left in the file by :func:`~storescu.dataset.transcode.read_deferred`
streamed from it; elements after Pixel Data (e.g. (FFFC,FFFC)) stay after
it. Pixel Data becomes OB with undefined length: a Basic Offset Table item,
one fragment per frame, the sequence delimiter (PS3.5 A.4). Frames are read
from the file by offset, never the whole value.

Only what the syntax requires changes: Planar Configuration becomes 0 for
colour JPEG-LS and JPEG 2000 (PS3.5 8.2.3, 8.2.4); Photometric
Interpretation never changes (no colour transform is applied, so RGB stays
RGB); Lossy Image Compression is never set (the encoding is lossless and
verified).
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING, Final

from storescu.dataset.compress.codecs import Codec, codec_for_syntax, import_problem
from storescu.dataset.compress.errors import NotCompressed
from storescu.dataset.compress.frames import (
    DELIMITER,
    FrameRefused,
    basic_offset_table,
    pixel_data_header,
)
from storescu.dataset.compress.pixels import FrameSource, PixelLayout, layout_of
from storescu.dataset.compress.stream import CompressedReader, FrameQueue
from storescu.dataset.inspection import CONVERTIBLE_SYNTAXES, FileInfo
from storescu.dataset.parts import Part, PartsReader
from storescu.dataset.readers import DatasetReader
from storescu.kernel.constants import (
    EXPLICIT_VR_LITTLE_ENDIAN,
    transfer_syntax_name,
)
from storescu.kernel.errors import ConversionError

if TYPE_CHECKING:
    from pydicom.dataset import Dataset

__all__ = ["STREAM_ABOVE", "open_compressed"]

#: Objects with more native pixel bytes than this (and more than one frame) are
#: streamed frame by frame; smaller ones are encoded whole first (length known,
#: Basic Offset Table filled).
STREAM_ABOVE: int = 64 * 1024 * 1024

_PIXEL_DATA: Final = 0x7FE00010
_PIXEL_GROUP_LENGTH: Final = 0x7FE00000


def open_compressed(
    info: FileInfo, dataset: Dataset | None, target_ts: str, *, verify: bool = True
) -> CompressedReader:
    """The dataset encoded in `target_ts` (explicit VR little endian outside the fragments).

    Parameters
    ----------
    info : FileInfo
        The file (its path and transfer syntax).
    dataset : Dataset or None
        An in-memory dataset (API inputs, a rewritten one) to encode instead
        of the file; its Pixel Data is native in ``info.transfer_syntax``.
    target_ts : str
        One of the pixel codecs' syntaxes (``CODEC_SYNTAXES``).
    verify : bool
        Decode every encoded frame again and compare it with the source's
        stored words (False: ``--no-verify-compression``).

    Returns
    -------
    CompressedReader
        Small objects are encoded and verified whole (``length`` known, Basic
        Offset Table filled); objects over :data:`STREAM_ABOVE` with several
        frames are streamed (``length`` None), their first frame verified.

    Raises
    ------
    NotCompressed
        It cannot be carried exactly in `target_ts` (the reason says why);
        nothing was produced.
    FileAccessError, InvalidFileError
        The file cannot be read, or is broken.
    """
    codec = codec_for_syntax(target_ts)
    if codec is None:
        raise ConversionError(
            f"'{transfer_syntax_name(target_ts)}' is not a lossless pixel codec here"
        )
    missing = import_problem(codec.name)
    if missing:
        raise NotCompressed(f"{codec.name} encoder not installed (missing: {', '.join(missing)})")
    own_ts = info.transfer_syntax
    if own_ts not in CONVERTIBLE_SYNTAXES:
        raise NotCompressed(f"pixel data already encapsulated ({transfer_syntax_name(own_ts)})")
    if dataset is None:
        from storescu.dataset.transcode import read_deferred

        ds, info = read_deferred(info)
        path: str | None = info.path
    else:
        ds, path = dataset, None
    layout = layout_of(ds)
    reason = codec.check(layout)
    if reason:
        raise NotCompressed(f"{codec.name}: {reason}")
    # A dataset from read_deferred (a rewritten one) keeps its large values in
    # its file: they stream from there, as those of the file itself do.
    path = path or _filename(ds)
    source = _frame_source(ds, layout, path)
    head, tail = _split(ds, codec, layout)
    head_parts = _encode(head, own_ts, path)
    tail_parts = _encode(tail, own_ts, path)
    if layout.frames > 1 and layout.total_bytes > STREAM_ABOVE:
        return _streamed(codec, source, verify, head_parts, tail_parts)
    # PS3.5 7.2: a group length the source has is kept, its value measured on
    # the new encoding (as transcode does); only when Pixel Data is its group's
    # sole element, so the value is the encapsulated element's length.
    group_length = _PIXEL_GROUP_LENGTH in ds and not any(
        t >> 16 == 0x7FE0 for t in sorted(tail.keys())
    )
    return _whole(codec, source, verify, head_parts, tail_parts, group_length)


def _filename(ds: Dataset) -> str | None:
    name = getattr(ds, "filename", None)
    return name if isinstance(name, str) else None


def _frame_source(ds: Dataset, layout: PixelLayout, path: str | None) -> FrameSource:
    """Where the frames are, and how their words are ordered (PS3.5 7.3, A.2, A.3)."""
    from pydicom.dataelem import RawDataElement

    item = ds.get_item(_PIXEL_DATA, keep_deferred=True)
    if isinstance(item, RawDataElement):
        little, vr, length = item.is_little_endian, item.VR, item.length
        deferred = item.value is None and item.length > 0
        data = None if deferred else bytes(item.value or b"")
        offset = item.value_tell
    else:
        little = ds.original_encoding[1] is not False
        vr, value = item.VR, item.value
        data = bytes(value or b"") if isinstance(value, (bytes, bytearray)) else None
        if data is None:
            raise NotCompressed("pixel data is not held as bytes")
        deferred, length, offset = False, len(data), 0
    if length == 0xFFFFFFFF:
        raise NotCompressed("pixel data already encapsulated")
    if length < layout.total_bytes:
        raise NotCompressed(f"pixel data has {length} bytes, the frames need {layout.total_bytes}")
    # PS3.5 8.1.1 / 7.1: one pad byte makes an odd length even; bytes beyond
    # that belong to no frame and would be lost by encoding the frames.
    if length > layout.total_bytes + layout.total_bytes % 2:
        raise NotCompressed(
            f"pixel data has {length} bytes, more than its frames' {layout.total_bytes}"
        )
    swap = 0
    if not little:
        # PS3.5 7.3 and A.3: OW values are 16-bit words, byte-swapped in big
        # endian; OB bytes are not. A 32-bit word in OW is ambiguous: left alone.
        if layout.bits_allocated == 32:
            raise NotCompressed("big endian pixel data with Bits Allocated 32")
        if layout.bits_allocated == 16 or vr == "OW":
            if layout.frame_bytes % 2:
                raise NotCompressed("big endian OW pixel data with odd-length frames")
            swap = 2
    if deferred:
        if path is None:
            raise NotCompressed("pixel data left in a file whose name is not known")
        return FrameSource(layout, swap, path=path, offset=offset)
    return FrameSource(layout, swap, data=data)


def _split(ds: Dataset, codec: Codec, layout: PixelLayout) -> tuple[Dataset, Dataset]:
    """The elements before and after Pixel Data, raw values kept as read."""
    from pydicom.dataset import Dataset

    head, tail = Dataset(), Dataset()
    for part in (head, tail):
        implicit, little = ds.original_encoding
        part.set_original_encoding(implicit, little, ds.original_character_set)
        for attr in ("filename", "fileobj_type", "timestamp"):
            if hasattr(ds, attr):
                setattr(part, attr, getattr(ds, attr))
    for tag in sorted(ds.keys()):
        # (7FE0,0000) is written by _whole once the fragments are known; a
        # streamed object goes without it (PS3.5 7.2: group lengths are
        # optional outside groups 0000 and 0002, and its value would come
        # after the element it measures).
        if tag in (_PIXEL_DATA, _PIXEL_GROUP_LENGTH) or tag >> 16 == 0x0002:
            continue
        part = head if tag < _PIXEL_DATA else tail
        part._dict[tag] = ds.get_item(tag, keep_deferred=True)
    if codec.planar_zero and layout.samples > 1 and layout.planar != 0:
        # PS3.5 8.2.3 (CP-1843) and 8.2.4: colour JPEG-LS / JPEG 2000 have
        # Planar Configuration 0; the codestream orders the samples itself.
        head.PlanarConfiguration = 0
    return head, tail


def _encode(part: Dataset, own_ts: str, path: str | None) -> list[Part]:
    from storescu.dataset.transcode import encode_parts

    if not len(part):
        return []
    return encode_parts(part, own_ts, EXPLICIT_VR_LITTLE_ENDIAN, path)


def _reader(parts: list[Part]) -> list[DatasetReader | bytes]:
    """Parts as reader segments: bytes as they are, file spans through one PartsReader."""
    if any(not isinstance(p, bytes) for p in parts):
        return [PartsReader(parts)]
    return [b"".join(p for p in parts if isinstance(p, bytes))]


def _whole(
    codec: Codec,
    source: FrameSource,
    verify: bool,
    head: list[Part],
    tail: list[Part],
    group_length: bool = False,
) -> CompressedReader:
    """Every frame encoded (on the workers) before returning; the offset table filled."""
    queue = FrameQueue(codec, source, verify)
    frames = []
    try:
        for _ in range(source.layout.frames):
            frames.append(queue.take())
    except FrameRefused as exc:
        raise NotCompressed(str(exc)) from None
    finally:
        queue.close()
    items = [f.item for f in frames]
    pixel = b"".join(
        [pixel_data_header(), basic_offset_table([len(i) for i in items]), *items, DELIMITER]
    )
    if group_length and len(pixel) <= 0xFFFFFFFF:
        pixel = struct.pack("<HH2sHI", 0x7FE0, 0x0000, b"UL", 4, len(pixel)) + pixel
    reader = CompressedReader(codec.syntax, [*_reader(head), pixel, *_reader(tail)])
    for frame in frames:
        reader.count(frame)
    reader.set_length()
    return reader


def _streamed(
    codec: Codec, source: FrameSource, verify: bool, head: list[Part], tail: list[Part]
) -> CompressedReader:
    """Frames encoded ahead of the socket; the first one verified before returning."""
    queue = FrameQueue(codec, source, verify)
    try:
        first = queue.take()
    except FrameRefused as exc:
        queue.close()
        raise NotCompressed(str(exc)) from None
    except BaseException:
        queue.close()
        raise
    # The offset table stays empty (PS3.5 A.4 allows it): offsets are not
    # known before every frame is encoded.
    start = b"".join([pixel_data_header(), basic_offset_table(None), first.item])
    reader = CompressedReader(codec.syntax, [*_reader(head), start])
    reader.count(first)
    reader.stream(queue, source.layout.frames - 1, _reader(tail))
    return reader
