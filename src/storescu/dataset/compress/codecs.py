"""The lossless pixel codecs: what each can carry exactly, its encoder and its verifying decoder.

Libraries, chosen as the well-kept ones that pydicom itself uses or
recommends for these syntaxes (each ships wheels for Linux, macOS and
Windows, so ``pip install 'storescu[codecs]'`` needs no compiler):

* JPEG-LS: ``pyjpegls`` (module ``jpeg_ls``), pydicom's JPEG-LS plugin,
  wrapping CharLS, the reference JPEG-LS implementation; encodes and decodes.
* JPEG 2000: ``imagecodecs`` (Christoph Gohlke's codec collection, released
  every few months), wrapping OpenJPEG, the ISO reference implementation: the
  reversible 5-3 wavelet without the multi-component transform, so RGB stays
  RGB, with the component precision set to Bits Stored. Not
  ``pylibjpeg-openjpeg`` (the project's JPEG 2000 decoder), although it
  encodes too: two threads, one encoding and one decoding, crashed it with a
  segmentation fault here (pylibjpeg-openjpeg 2.6.0), and encoding ahead runs
  on threads.
* HTJ2K: ``imagecodecs`` too, wrapping OpenJPH (the HTJ2K reference
  implementation) for encoding and decoding; ``ojph`` has no wheel for every
  platform (it failed to build here) and pylibjpeg-openjpeg only decodes it.
* RLE: ``pylibjpeg-rle`` (module ``rle``), pydicom's fast RLE plugin, which
  encodes and decodes a frame in Rust.

imagecodecs releases the GIL while it encodes or decodes; pyjpegls and
pylibjpeg-rle do not (measured: see :mod:`storescu.dataset.compress.stream`),
so their frames are encoded in worker processes.

Per codec the Image Pixel combinations it carries follow PS3.5 8.2.2-8.2.4
and Annex G (pydicom's encoding guides tabulate them).
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from storescu.dataset.compress.pixels import PixelLayout

if TYPE_CHECKING:
    import numpy as np

__all__ = ["CODECS", "Codec", "codec_for_syntax", "import_problem", "install_problem"]

_MONO: Final = frozenset({"MONOCHROME1", "MONOCHROME2"})
_COLOUR: Final = frozenset({"RGB", "YBR_FULL"})


def _lib(name: str) -> Any:
    """The codec library `name` (untyped: numpy arrays and bytes in, out)."""
    return importlib.import_module(name)


def _sign_extend(values: np.ndarray[Any, Any], layout: PixelLayout) -> np.ndarray[Any, Any]:
    """Unsigned values of Bits Stored bits -> stored words with the sign extended (PS3.5 8.1.1)."""
    import numpy as np

    size = layout.bits_allocated // 8
    words = values.astype(f"<u{size}")
    if not layout.signed or layout.bits_stored == layout.bits_allocated:
        return words
    sign = np.array(1 << (layout.bits_stored - 1), f"<u{size}")
    high = np.array(
        ((1 << layout.bits_allocated) - 1) ^ ((1 << layout.bits_stored) - 1), f"<u{size}"
    )
    return np.where(words & sign, words | high, words).astype(f"<u{size}")


def _as_words(decoded: Any, layout: PixelLayout) -> np.ndarray[Any, Any]:
    """A decoder's array -> stored words shaped (rows, columns, samples)."""
    import numpy as np

    arr = np.asarray(decoded)
    size = layout.bits_allocated // 8
    if arr.dtype.kind == "i":  # signed components come back sign-extended already
        arr = arr.astype(f"<i{size}").view(f"<u{size}")
    else:
        arr = arr.astype(f"<u{size}")
    return arr.reshape(layout.rows, layout.columns, layout.samples)


def _common(layout: PixelLayout, max_allocated: int) -> str | None:
    if layout.bits_allocated > max_allocated:
        return f"Bits Allocated {layout.bits_allocated}"
    if layout.samples == 1:
        if layout.photometric not in _MONO | {"PALETTE COLOR"}:
            return f"Photometric Interpretation {layout.photometric or '(none)'}"
        if layout.photometric == "PALETTE COLOR" and layout.signed:
            return "signed palette colour indices"
        return None
    if layout.photometric not in _COLOUR:
        return f"Photometric Interpretation {layout.photometric or '(none)'} with 3 samples"
    if layout.signed:
        return "signed colour samples"
    return None


# ----------------------------------------------------------------------- JPEG-LS


def _jls_check(layout: PixelLayout) -> str | None:
    # PS3.5 8.2.3 (ISO/IEC 14495-1): 2 to 16 bits per sample; YBR_FULL only 8-bit.
    if layout.bits_stored < 2:
        return f"Bits Stored {layout.bits_stored} (JPEG-LS needs 2 to 16)"
    if layout.samples == 3 and layout.photometric == "YBR_FULL" and layout.bits_allocated != 8:
        return "YBR_FULL with more than 8 bits"
    return _common(layout, 16)


def _jls_frame_check(words: np.ndarray[Any, Any], layout: PixelLayout) -> str | None:
    """Signed words narrower than Bits Allocated with negative values: refused.

    JPEG-LS codes unsigned samples: a negative value travels as its Bits
    Stored-bit two's complement pattern, and decoders differ on the high bits
    they give back (pydicom sign-extends; DCMTK's dcmdjpls leaves them zero,
    checked), so the stored words would depend on the receiver's decoder.
    """
    if not layout.signed or layout.bits_stored == layout.bits_allocated:
        return None
    if (words >> (layout.bits_stored - 1) & 1).any():
        return "negative values in signed data narrower than Bits Allocated (JPEG-LS has no sign)"
    return None


def _jls_encode(words: np.ndarray[Any, Any], layout: PixelLayout) -> bytes:
    jpeg_ls = _lib("jpeg_ls")

    # JPEG-LS codes unsigned samples of P = Bits Stored bits; CharLS wants the
    # unused high bits zero, so signed words are masked to their two's
    # complement bit pattern (DCMTK bug #1160 is the same point).
    values = words & ((1 << layout.bits_stored) - 1)
    return bytes(
        jpeg_ls.encode_buffer(
            values.tobytes(),
            layout.rows,
            layout.columns,
            layout.samples,
            layout.bits_stored,
            interleave_mode=2 if layout.samples > 1 else None,  # colour-by-pixel
        )
    )


def _jls_decode(data: bytes, layout: PixelLayout) -> np.ndarray[Any, Any]:
    import numpy as np

    jpeg_ls = _lib("jpeg_ls")

    raw, _meta = jpeg_ls.decode_buffer(data)
    dtype = "<u1" if layout.bits_stored <= 8 else "<u2"
    values = np.frombuffer(bytes(raw), dtype).reshape(layout.rows, layout.columns, layout.samples)
    return _sign_extend(values, layout)


# -------------------------------------------------------------------- JPEG 2000


def _j2k_check(layout: PixelLayout) -> str | None:
    # PS3.5 8.2.4: up to 38 bits in the standard; OpenJPEG's encoder here takes
    # 8- and 16-bit arrays.
    return _common(layout, 16)


def _signed_values(words: np.ndarray[Any, Any], layout: PixelLayout) -> np.ndarray[Any, Any]:
    """Stored words as a JPEG 2000 component's values (signed for Pixel Representation 1)."""
    if layout.signed:
        return words.view(f"<i{layout.bits_allocated // 8}")
    return words


def _j2k_encode(words: np.ndarray[Any, Any], layout: PixelLayout) -> bytes:
    imagecodecs = _lib("imagecodecs")
    arr = _signed_values(words, layout)
    if layout.samples == 1:
        arr = arr.reshape(layout.rows, layout.columns)
    # A raw codestream (PS3.5 A.4.4: no JP2 header), the reversible 5-3
    # wavelet, component precision = Bits Stored, signed components for
    # Pixel Representation 1, and no multiple component transform: RGB stays
    # RGB, not YBR_RCT (PS3.5 8.2.4).
    return bytes(
        imagecodecs.jpeg2k_encode(
            arr,
            codecformat="J2K",
            bitspersample=layout.bits_stored,
            reversible=True,
            mct=False,
        )
    )


def _j2k_decode(data: bytes, layout: PixelLayout) -> np.ndarray[Any, Any]:
    imagecodecs = _lib("imagecodecs")
    return _as_words(imagecodecs.jpeg2k_decode(data, planar=False), layout)


#: imagecodecs' OpenJPH wrapper is not safe across threads: two frames decoded at
#: once failed with "ojph error" raised inside its codestream callback (and
#: swallowed there, leaving a wrong image; seen 1 run in ~5 of the unit tests).
#: One HTJ2K call at a time; it is the fastest codec here even so.
_HTJ2K_LOCK = threading.Lock()


def _htj2k_encode(words: np.ndarray[Any, Any], layout: PixelLayout) -> bytes:
    imagecodecs = _lib("imagecodecs")
    arr = _signed_values(words, layout)
    if layout.samples == 1:
        arr = arr.reshape(layout.rows, layout.columns)
    # reversible: the 5-3 wavelet (lossless); rgb=False: no colour transform.
    with _HTJ2K_LOCK:
        return bytes(imagecodecs.htj2k_encode(arr, reversible=True, rgb=False))


def _htj2k_decode(data: bytes, layout: PixelLayout) -> np.ndarray[Any, Any]:
    imagecodecs = _lib("imagecodecs")
    with _HTJ2K_LOCK:
        decoded = imagecodecs.htj2k_decode(data, planar=False)
    return _as_words(decoded, layout)


# -------------------------------------------------------------------------- RLE


def _rle_check(layout: PixelLayout) -> str | None:
    # PS3.5 G.2, G.5: one segment per byte of the composite pixel code, at most 15.
    if layout.samples * layout.bits_allocated // 8 > 15:
        return "more than 15 RLE segments"
    return _common(layout, 32)


def _rle_encode(words: np.ndarray[Any, Any], layout: PixelLayout) -> bytes:
    rle = _lib("rle")

    return bytes(
        rle.encode_pixel_data(
            words.tobytes(),
            rows=layout.rows,
            columns=layout.columns,
            samples_per_pixel=layout.samples,
            bits_allocated=layout.bits_allocated,
            byteorder="<",
        )
    )


def _rle_decode(data: bytes, layout: PixelLayout) -> np.ndarray[Any, Any]:
    import numpy as np

    rle = _lib("rle")

    raw = rle.decode_pixel_data(
        data,
        version=2,
        rows=layout.rows,
        columns=layout.columns,
        samples_per_pixel=layout.samples,
        bits_allocated=layout.bits_allocated,
        byteorder="<",
    )
    words = np.frombuffer(bytes(raw), f"<u{layout.bits_allocated // 8}")
    # RLE segments are colour-by-plane (PS3.5 G.2); the decoder returns the planes.
    planes = words.reshape(layout.samples, layout.rows, layout.columns)
    return np.ascontiguousarray(planes.transpose(1, 2, 0))


# ---------------------------------------------------------------------- registry


@dataclass(frozen=True)
class Codec:
    """One lossless codec.

    Attributes
    ----------
    name, syntax : str
        As in ``CODEC_SYNTAXES``.
    modules : tuple of (module, distribution)
        What must import for it, and the PyPI name that brings it.
    check : callable
        Layout -> reason it cannot carry it, or None.
    encode, decode : callable
        One frame of stored words -> the encoded frame, and back.
    frame_check : callable or None
        Stored words -> reason this frame cannot go, or None.
    releases_gil : bool
        The library lets other threads run while it encodes and decodes
        (measured: see :mod:`storescu.dataset.compress.stream`); if not,
        frames are encoded in worker processes.
    planar_zero : bool
        The syntax requires Planar Configuration 0 for colour (PS3.5 8.2.3,
        8.2.4: the codestream orders the samples itself).
    bits_limited : bool
        The stream holds Bits Stored bits (JPEG-LS, JPEG 2000), not all of
        Bits Allocated (RLE codes whole bytes, PS3.5 G.2).
    """

    name: str
    syntax: str
    modules: tuple[tuple[str, str], ...]
    check: Callable[[PixelLayout], str | None]
    encode: Callable[[Any, PixelLayout], bytes]
    decode: Callable[[bytes, PixelLayout], Any]
    planar_zero: bool
    bits_limited: bool
    releases_gil: bool
    frame_check: Callable[[Any, PixelLayout], str | None] | None = None


CODECS: Final[dict[str, Codec]] = {
    "jpeg-ls": Codec(
        "jpeg-ls",
        "1.2.840.10008.1.2.4.80",
        (("numpy", "numpy"), ("jpeg_ls", "pyjpegls")),
        _jls_check,
        _jls_encode,
        _jls_decode,
        planar_zero=True,  # PS3.5 8.2.3 (CP-1843): colour JPEG-LS has Planar Configuration 0
        bits_limited=True,
        releases_gil=False,  # pyjpegls holds it for a whole call
        frame_check=_jls_frame_check,
    ),
    "j2k": Codec(
        "j2k",
        "1.2.840.10008.1.2.4.90",
        (("numpy", "numpy"), ("imagecodecs", "imagecodecs")),
        _j2k_check,
        _j2k_encode,
        _j2k_decode,
        planar_zero=True,  # PS3.5 8.2.4: Planar Configuration 0 for JPEG 2000
        bits_limited=True,
        releases_gil=True,
    ),
    "htj2k": Codec(
        "htj2k",
        "1.2.840.10008.1.2.4.201",
        (("numpy", "numpy"), ("imagecodecs", "imagecodecs")),
        _j2k_check,
        _htj2k_encode,
        _htj2k_decode,
        planar_zero=True,  # PS3.5 8.2.4 applies to HTJ2K too
        bits_limited=True,
        releases_gil=True,
    ),
    "rle": Codec(
        "rle",
        "1.2.840.10008.1.2.5",
        (("numpy", "numpy"), ("rle", "pylibjpeg-rle")),
        _rle_check,
        _rle_encode,
        _rle_decode,
        # PS3.5 G.2 note 2: segments are per sample, yet Planar Configuration
        # "may be 0": either value is valid, so the source's stays.
        planar_zero=False,
        bits_limited=False,
        releases_gil=False,  # pylibjpeg-rle holds it for a whole call
    ),
}


def codec_for_syntax(syntax: str) -> Codec | None:
    """The codec producing `syntax`, or None."""
    for codec in CODECS.values():
        if codec.syntax == syntax:
            return codec
    return None


def install_problem(codec: str) -> tuple[str, ...]:
    """Distributions not installed for `codec` (empty: all are), without importing them.

    What the start of a run checks (``--compress`` stops before any
    association when this is not empty): importing numpy and the codec
    libraries costs a sender that may never encode (``auto`` on a fast link)
    a tenth of a second; :func:`import_problem` imports them when a file is
    encoded, and a library that is present but broken then sends the file
    uncompressed with the reason.
    """
    missing = []
    for module, dist in CODECS[codec].modules:
        try:
            found = importlib.util.find_spec(module.partition(".")[0]) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            missing.append(dist)
    return tuple(missing)


@functools.cache
def import_problem(codec: str) -> tuple[str, ...]:
    """Distributions missing for `codec` (empty: encoder and decoder import here)."""
    missing = []
    for module, dist in CODECS[codec].modules:
        try:
            lib = importlib.import_module(module)
        except Exception:  # a broken install is as missing as an absent one
            missing.append(dist)
            continue
        # imagecodecs builds may leave a codec out: HTJ2K must be in this one.
        if module == "imagecodecs" and not getattr(getattr(lib, "HTJ2K", None), "available", False):
            missing.append(f"{dist} with HTJ2K")
    return tuple(missing)
