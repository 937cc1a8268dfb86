"""One frame encoded and verified, and the encapsulated Pixel Data around the frames (PS3.5 A.4).

:func:`encode_frame` is what a worker runs: read the frame from its source,
check that the codec's stream can hold its stored words, encode, decode again
and compare every bit of Bits Allocated with the source (issue 18, item 2).
"""

from __future__ import annotations

import struct
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from storescu.dataset.compress.codecs import Codec
from storescu.dataset.compress.pixels import FrameSource, PixelLayout, out_of_range, to_words

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "DELIMITER",
    "EncodedFrame",
    "FrameRefused",
    "basic_offset_table",
    "encode_frame",
    "fragment",
    "pixel_data_header",
]

_ITEM: Final = struct.Struct("<HHI")
_UNDEFINED: Final = 0xFFFFFFFF
#: PS3.5 A.4: the Sequence Delimitation Item that ends encapsulated Pixel Data.
DELIMITER: Final = _ITEM.pack(0xFFFE, 0xE0DD, 0)


class FrameRefused(Exception):
    """Internal: a frame cannot be sent in the codec; `args[0]` is the short reason."""


@dataclass(frozen=True, slots=True)
class EncodedFrame:
    """A frame ready to go: its fragment item (PS3.5 A.4) and what it cost."""

    item: bytes
    pixel_bytes: int
    seconds: float


def pixel_data_header() -> bytes:
    """(7FE0,0010) OB with undefined length, explicit VR little endian (PS3.5 A.4)."""
    return struct.pack("<HH2sHI", 0x7FE0, 0x0010, b"OB", 0, _UNDEFINED)


def fragment(data: bytes) -> bytes:
    """An item holding one fragment; PS3.5 A.4: even length, padded with one 00H byte."""
    if len(data) % 2:
        data += b"\x00"
    return _ITEM.pack(0xFFFE, 0xE000, len(data)) + data


def basic_offset_table(items: list[int] | None) -> bytes:
    """The Basic Offset Table item: empty (`items` None), else each frame's offset.

    PS3.5 A.4: offsets are from the first byte of the first fragment's item
    tag to the first byte of each frame's first item tag, 32-bit; an empty
    table (length 0) is always allowed. One fragment per frame here
    (PS3.5 A.4.1 for JPEG-LS/JPEG 2000 allows more; one is what every reader
    takes), so the table lists the item lengths' running sums.
    """
    if items is None:
        return _ITEM.pack(0xFFFE, 0xE000, 0)
    offsets, pos = [], 0
    for length in items:
        offsets.append(pos)
        pos += length
    if pos > 0xFFFFFFFF:  # too far for 32-bit offsets: the empty table says "not given"
        return _ITEM.pack(0xFFFE, 0xE000, 0)
    table = struct.pack(f"<{len(offsets)}I", *offsets)
    return _ITEM.pack(0xFFFE, 0xE000, len(table)) + table


def encode_frame(codec: Codec, source: FrameSource, index: int, verify: bool) -> EncodedFrame:
    """Encode frame `index` of `source` with `codec`; raise FrameRefused with the reason.

    With `verify` the encoded frame is decoded again and its stored words
    (all Bits Allocated bits, sign extension included) compared with the
    source's (issue 18 item 2).
    """
    start = time.perf_counter()
    layout = source.layout
    words = to_words(source.raw(index), layout)
    if codec.bits_limited:
        problem = out_of_range(words, layout)
        if problem:
            raise FrameRefused(f"frame {index + 1}: {problem}")
    if codec.frame_check is not None:
        problem = codec.frame_check(words, layout)
        if problem:
            raise FrameRefused(f"frame {index + 1}: {problem}")
    try:
        data = codec.encode(words, layout)
    except Exception as exc:  # each library raises its own types
        raise FrameRefused(f"frame {index + 1}: {codec.name} encoder failed: {exc}") from exc
    if verify:
        _verify(codec, data, words, layout, index)
    return EncodedFrame(fragment(data), layout.frame_bytes, time.perf_counter() - start)


def _verify(
    codec: Codec, data: bytes, words: np.ndarray[Any, Any], layout: PixelLayout, index: int
) -> None:
    import numpy as np

    try:
        decoded = np.asarray(codec.decode(data, layout))
    except Exception as exc:  # each library raises its own types
        raise FrameRefused(
            f"frame {index + 1}: verification: {codec.name} decoder failed: {exc}"
        ) from exc
    if decoded.shape != words.shape or decoded.dtype != words.dtype:
        raise FrameRefused(f"frame {index + 1}: verification: the decoded frame has another shape")
    if not np.array_equal(decoded, words):
        count = int(np.count_nonzero(decoded != words))
        raise FrameRefused(
            f"frame {index + 1}: verification: {count} samples differ after decoding"
        )
