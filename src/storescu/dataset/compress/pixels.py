"""The native pixel data of a dataset: its layout, its frames, and what a lossless stream can hold.

A frame is handled as an array of *stored words* (``uint8``/``uint16``/
``uint32``, shape rows x columns x samples) holding every bit of Bits
Allocated, whatever the byte order and Planar Configuration of the source
(PS3.5 8.1.1, 8.2; PS3.3 C.7.6.3.1.3). Encoders get values derived from it
and the decoded frame is turned back into stored words, so the comparison in
verification is of all Bits Allocated bits, sign extension included.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Final

from storescu.dataset.compress.errors import NotCompressed
from storescu.kernel.errors import FileAccessError, InvalidFileError

if TYPE_CHECKING:
    import numpy as np
    from pydicom.dataset import Dataset

__all__ = ["FrameSource", "PixelLayout", "layout_of", "out_of_range", "to_words"]

#: PS3.3 C.7.6.3.1.2: native data whose chrominance is subsampled. No codec here
#: takes subsampled input without resampling it, which would change values.
_SUBSAMPLED: Final = frozenset({"YBR_FULL_422", "YBR_PARTIAL_422", "YBR_PARTIAL_420"})
#: Only produced by JPEG (2000) encoders; never valid for native data (PS3.3 C.7.6.3.1.2).
_COMPRESSED_ONLY: Final = frozenset({"YBR_ICT", "YBR_RCT"})
_FLOAT_TAGS: Final = (0x7FE00008, 0x7FE00009)  # Float / Double Float Pixel Data (PS3.3 C.7.6.3)


@dataclass(frozen=True, slots=True)
class PixelLayout:
    """The Image Pixel attributes that say how the native frames are laid out (PS3.3 C.7.6.3).

    Attributes
    ----------
    rows, columns, samples, frames : int
        Rows, Columns, Samples per Pixel, Number of Frames (1 when absent).
    bits_allocated, bits_stored, high_bit : int
        As in the dataset.
    signed : bool
        Pixel Representation 1 (two's complement).
    photometric : str
        Photometric Interpretation.
    planar : int
        Planar Configuration (0 when absent: one sample per pixel).
    """

    rows: int
    columns: int
    samples: int
    frames: int
    bits_allocated: int
    bits_stored: int
    high_bit: int
    signed: bool
    photometric: str
    planar: int

    @property
    def frame_bytes(self) -> int:
        """Bytes of one native frame (PS3.5 8.1.1: frames are contiguous, no padding between)."""
        return self.rows * self.columns * self.samples * self.bits_allocated // 8

    @property
    def total_bytes(self) -> int:
        """Bytes of all native frames (the even-length pad of the element excluded)."""
        return self.frame_bytes * self.frames


def _int(ds: Dataset, keyword: str, default: int | None = None) -> int:
    value = ds.get(keyword, default)
    if isinstance(value, (list, tuple)) or value is None:  # multi-valued or missing
        if default is None:
            raise NotCompressed(f"{keyword} missing or not a single number")
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise NotCompressed(f"{keyword} is not a number: {value!r}") from None


def layout_of(ds: Dataset) -> PixelLayout:
    """The layout of `ds`'s native Pixel Data; NotCompressed when no codec can carry it exactly.

    Codec-independent rules only; :mod:`storescu.dataset.compress.codecs`
    adds each codec's own.
    """
    if any(tag in ds for tag in _FLOAT_TAGS):
        raise NotCompressed("float pixel data (no lossless image codec for it)")
    if 0x7FE00010 not in ds:
        raise NotCompressed("no pixel data")
    photometric = str(ds.get("PhotometricInterpretation", "")).strip().upper()
    layout = PixelLayout(
        rows=_int(ds, "Rows"),
        columns=_int(ds, "Columns"),
        samples=_int(ds, "SamplesPerPixel", 1),
        frames=_int(ds, "NumberOfFrames", 1) or 1,
        bits_allocated=_int(ds, "BitsAllocated"),
        bits_stored=_int(ds, "BitsStored"),
        high_bit=_int(ds, "HighBit"),
        signed=_int(ds, "PixelRepresentation", 0) == 1,
        photometric=photometric,
        planar=_int(ds, "PlanarConfiguration", 0),
    )
    _check(layout)
    return layout


def _check(layout: PixelLayout) -> None:
    if layout.bits_allocated == 1:
        raise NotCompressed("Bits Allocated 1 (no lossless codec here takes bit-packed data)")
    if layout.bits_allocated not in (8, 16, 32):
        raise NotCompressed(f"Bits Allocated {layout.bits_allocated}")
    if not 1 <= layout.bits_stored <= layout.bits_allocated:
        raise NotCompressed(
            f"Bits Stored {layout.bits_stored} with Bits Allocated {layout.bits_allocated}"
        )
    # PS3.5 8.2: an encapsulated stream holds the Bits Stored low bits; a High
    # Bit elsewhere (PS3.5 8.1.1 allows it for native data) has no place there.
    if layout.high_bit != layout.bits_stored - 1:
        raise NotCompressed(f"High Bit {layout.high_bit} is not Bits Stored - 1")
    if layout.rows <= 0 or layout.columns <= 0 or layout.frames <= 0:
        raise NotCompressed("empty image")
    if layout.samples not in (1, 3):
        raise NotCompressed(f"Samples per Pixel {layout.samples}")
    if layout.photometric in _SUBSAMPLED:
        raise NotCompressed(f"{layout.photometric}: subsampled native data")
    if layout.photometric in _COMPRESSED_ONLY:
        raise NotCompressed(f"{layout.photometric} in native pixel data")
    if layout.samples == 3 and layout.planar not in (0, 1):
        raise NotCompressed(f"Planar Configuration {layout.planar}")


@dataclass(frozen=True, slots=True)
class FrameSource:
    """Where the native frames are: a span of a file, or bytes in memory.

    Attributes
    ----------
    layout : PixelLayout
    swap : int
        0, or the word size whose byte order is reversed when read (big
        endian OW data: 2).
    path : str or None
        The file, when the frames are read from it by offset.
    offset : int
        Offset of the Pixel Data value in the file.
    data : bytes or None
        The Pixel Data value when held in memory (from frame `first` on).
    first : int
        The frame `data` starts with.
    """

    layout: PixelLayout
    swap: int
    path: str | None = None
    offset: int = 0
    data: bytes | None = None
    first: int = 0

    def for_frame(self, index: int) -> FrameSource:
        """A source holding only what frame `index` needs (sent to a worker process)."""
        if self.data is None:
            return self
        size = self.layout.frame_bytes
        start = (index - self.first) * size
        return replace(self, data=self.data[start : start + size], first=index)

    def raw(self, index: int) -> bytes:
        """The stored bytes of frame `index` (0-based), byte-swapped to little endian."""
        size = self.layout.frame_bytes
        start = (index - self.first) * size
        if self.data is not None:
            chunk = self.data[start : start + size]
        else:
            assert self.path is not None
            chunk = _pread(self.path, self.offset + start, size)
        if len(chunk) != size:
            where = self.path or "dataset"
            raise InvalidFileError(where, f"pixel data ends inside frame {index + 1}")
        if self.swap:
            import numpy as np

            chunk = np.frombuffer(chunk, f">u{self.swap}").astype(f"<u{self.swap}").tobytes()
        return chunk


def _pread(path: str, offset: int, size: int) -> bytes:
    try:
        fd = os.open(path, os.O_RDONLY)
        try:
            return os.pread(fd, size, offset)
        finally:
            os.close(fd)
    except OSError as exc:
        raise FileAccessError(path, f"cannot read file: {exc.strerror or exc}") from exc


def to_words(raw: bytes, layout: PixelLayout) -> np.ndarray[Any, Any]:
    """Frame bytes (little endian) as stored words: (rows, columns, samples), by pixel.

    PS3.3 C.7.6.3.1.3: Planar Configuration 1 sends each colour plane whole;
    it is turned into colour-by-pixel here, the layout the encoders take.
    """
    import numpy as np

    words = np.frombuffer(raw, f"<u{layout.bits_allocated // 8}")
    shape = (layout.rows, layout.columns, layout.samples)
    if layout.samples > 1 and layout.planar == 1:
        planes = words.reshape(layout.samples, layout.rows, layout.columns)
        return np.ascontiguousarray(planes.transpose(1, 2, 0))
    return words.reshape(shape)


def out_of_range(words: np.ndarray[Any, Any], layout: PixelLayout) -> str | None:
    """Why `words` cannot go through a stream of Bits Stored bits; None when it can.

    PS3.5 8.2 / PS3.3 C.7.6.3.1.1: a lossless stream carries Bits Stored bits
    per sample; a decoder gives back zeros above them (unsigned) or the sign
    extension (signed). Stored words with other high bits (unused bits set,
    overlays in the pixel data) would come back changed.
    """
    bits, allocated = layout.bits_stored, layout.bits_allocated
    if bits == allocated:
        return None
    if not layout.signed:
        if int(words.max(initial=0)) >> bits:
            return f"values above Bits Stored {bits} in the stored words (unused high bits set)"
        return None
    signed = words.view(f"<i{allocated // 8}")
    low, high = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    if int(signed.min(initial=0)) < low or int(signed.max(initial=0)) > high:
        return f"stored words not sign-extended from Bits Stored {bits} (high bits set)"
    return None
