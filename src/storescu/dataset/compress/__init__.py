"""Lossless compression of native pixel data while sending (issue 18).

:func:`open_compressed` gives a dataset with native Pixel Data encoded in
JPEG-LS, JPEG 2000, HTJ2K or RLE Lossless, every frame verified by decoding it
again, or raises :class:`NotCompressed` with the reason it goes uncompressed.
Modules: :mod:`.pixels` (layout, frames, what Bits Stored can hold),
:mod:`.codecs` (the libraries and what each carries), :mod:`.frames` (one
frame encoded and verified; fragments, offset table), :mod:`.stream` (worker
threads, the reader), :mod:`.opening` (the dataset around the pixels).
numpy and the codecs are imported on first use.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from storescu.dataset.compress.codecs import CODECS, install_problem
from storescu.dataset.compress.errors import NotCompressed, VerificationFailed
from storescu.kernel.constants import DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN

if TYPE_CHECKING:
    from storescu.dataset.compress.opening import open_compressed
    from storescu.dataset.compress.stream import CompressedReader


def __getattr__(name: str) -> Any:
    # The reader and its worker pools (concurrent.futures, multiprocessing)
    # load when a file is first encoded, not when a run checks its options:
    # ``--compress auto`` on a fast link never encodes and should not pay
    # their ~50 ms import (issue 18: "on loopback it must cost nothing").
    if name == "open_compressed":
        from storescu.dataset.compress.opening import open_compressed

        return open_compressed
    if name == "CompressedReader":
        from storescu.dataset.compress.stream import CompressedReader

        return CompressedReader
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "CODEC_SYNTAXES",
    "COMPRESS_CHOICES",
    "PIXEL_CODECS",
    "CompressedReader",
    "NotCompressed",
    "VerificationFailed",
    "available_codecs",
    "missing_encoders",
    "open_compressed",
]

CODEC_SYNTAXES: Final[Mapping[str, str]] = {
    "jpeg-ls": "1.2.840.10008.1.2.4.80",  # JPEG-LS Lossless
    "j2k": "1.2.840.10008.1.2.4.90",  # JPEG 2000 Lossless Only
    "htj2k": "1.2.840.10008.1.2.4.201",  # HTJ2K Lossless
    "rle": "1.2.840.10008.1.2.5",  # RLE Lossless
    # No pixel encoding: the existing transcode path.
    "deflate": DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN,
}
PIXEL_CODECS: Final = ("jpeg-ls", "j2k", "htj2k", "rle")
COMPRESS_CHOICES: Final = (*CODEC_SYNTAXES, "auto")

_NAMES: Final = {"jpeg-ls": "a JPEG-LS", "j2k": "a JPEG 2000", "htj2k": "an HTJ2K", "rle": "an RLE"}


def available_codecs() -> tuple[str, ...]:
    """The pixel codecs whose encoder and verifying decoder are installed, in PIXEL_CODECS order.

    Checked without importing them (:func:`~storescu.dataset.compress.codecs.install_problem`).
    """
    return tuple(name for name in PIXEL_CODECS if not install_problem(name))


def missing_encoders(codec: str) -> str | None:
    """None when `codec` can be used here, else a one-line message naming what to install.

    For ``"auto"``: None when at least one pixel codec is available (auto
    uses what is there). ``"deflate"`` needs nothing (zlib).
    """
    if codec == "deflate":
        return None
    if codec == "auto":
        if available_codecs():
            return None
        return "--compress auto needs at least one lossless encoder: pip install 'storescu[codecs]'"
    if codec not in CODECS:
        return f"--compress {codec}: unknown codec (choose from {', '.join(COMPRESS_CHOICES)})"
    missing = install_problem(codec)
    if not missing:
        return None
    return (
        f"--compress {codec} needs {_NAMES[codec]} encoder: pip install 'storescu[codecs]' "
        f"(missing: {', '.join(missing)})"
    )
