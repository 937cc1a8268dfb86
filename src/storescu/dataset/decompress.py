"""Decompressing encapsulated pixel data when the peer accepted no compressed syntax.

Only imported when that happens (never on the plain path). Decoding uses
pydicom's pixel decoders (``pydicom.pixels``) with whatever plugins are
installed; ``pip install 'storescu[codecs]'`` installs numpy, pylibjpeg and
its plugins (libjpeg: JPEG and JPEG-LS; openjpeg: JPEG 2000 and HTJ2K; rle),
which cover every syntax below but the video ones. Without them a compressed
file whose syntax the peer did not accept is not sent, and the message says
what is missing and what would fix it.

Rules (PS3.5 A.4; the options are dcmsend's):

* ``-dn``: never decompress; ``+dls`` (default): only losslessly compressed
  syntaxes (:data:`storescu.kernel.syntaxes.LOSSLESS`); ``+dly``: lossy ones too.
* Video (MPEG2, H.264, HEVC) is never decoded.
* The decoded pixel data is held in memory whole (pydicom decodes all
  frames into one array, then it is encoded), so its size, computed from
  Rows x Columns x Samples per Pixel x Bits Allocated x Number of Frames
  before anything is decoded, must not exceed the limit (1 GiB by default);
  the peak is about three times that size.
* Colour data decoded from YCbCr (JPEG baseline) is converted to RGB and
  Photometric Interpretation says so, as pydicom and DCMTK's dcmdjpeg do;
  nothing else in the dataset changes (the SOP Instance UID stays: this is
  a transfer, not a new instance, and Lossy Image Compression keeps what
  the file says).

The mode and the limit come as plain values from
:meth:`storescu.dataset.conversion.Conversion.open`, the one caller: this
module does not import :mod:`storescu.dataset.conversion`, which imports it.
"""

from __future__ import annotations

import copy
import logging
import warnings
from typing import TYPE_CHECKING, Any, Final

from storescu.kernel.constants import EXPLICIT_VR_LITTLE_ENDIAN, transfer_syntax_name
from storescu.kernel.errors import ConversionError, FileAccessError, StorescuError
from storescu.kernel.syntaxes import VIDEO, is_lossless, option_for

if TYPE_CHECKING:
    from pydicom.dataset import Dataset

    from storescu.dataset.inspection import FileInfo

__all__ = ["DecompressionError", "decoded_size", "decoder_problem", "decompressed"]

log = logging.getLogger("storescu")

_MIB: Final = 1024 * 1024
INSTALL_HINT: Final = "pip install 'storescu[codecs]'"


class DecompressionError(ConversionError):
    """The compressed dataset cannot or may not be decompressed."""


def decoder_problem(ts: str) -> str | None:
    """Why pixel data in `ts` cannot be decoded here, or None when it can."""
    name = transfer_syntax_name(ts)
    if ts in VIDEO:
        return f"'{name}' is video, which is never decoded"
    try:
        import numpy  # noqa: F401 - pydicom decodes pixel data into numpy arrays
    except ImportError:
        return f"numpy (needed to decode '{name}') is not installed: {INSTALL_HINT}"
    try:
        from pydicom.pixels.decoders.base import get_decoder
    except ImportError as exc:  # pragma: no cover - pydicom 3 always has it
        return f"pydicom cannot decode pixel data ({exc}): {INSTALL_HINT}"
    try:
        decoder = get_decoder(ts)
    except (NotImplementedError, KeyError, ValueError):
        return f"no decoder exists here for '{name}'"
    if decoder.is_available:
        return None
    return f"no decoder for '{name}' is installed: {INSTALL_HINT}"


def decoded_size(ds: Dataset) -> int:
    """Bytes of the decoded pixel data (PS3.3 C.7.6.3), from the image attributes."""

    def number(keyword: str, default: int) -> int:
        value = ds.get(keyword, default)
        try:
            return max(int(value if value not in (None, "") else default), 0)
        except (TypeError, ValueError):
            return default

    bits = number("BitsAllocated", 8)
    frames = max(number("NumberOfFrames", 1), 1)
    pixels = number("Rows", 0) * number("Columns", 0) * max(number("SamplesPerPixel", 1), 1)
    return pixels * frames * ((bits + 7) // 8)


def _refusal(ts: str, mode: str) -> str | None:
    name = transfer_syntax_name(ts)
    if mode == "never":
        return "nothing is decompressed with -dn (--decompress-never)"
    if not is_lossless(ts) and mode != "lossy":
        return f"'{name}' is lossy compression, decompressed only with +dly (--decompress-lossy)"
    problem = decoder_problem(ts)
    if problem is None:
        return None
    option = option_for(ts)
    proposal = f" (proposed by {option} or, for files in it, +fs)" if option else ""
    return f"{problem}, or send to a peer that accepts '{name}'{proposal}"


def check(ts: str, mode: str, target_ts: str = EXPLICIT_VR_LITTLE_ENDIAN) -> None:
    """Raise :class:`DecompressionError` unless data in `ts` may and can be decoded.

    `mode` is :attr:`storescu.dataset.conversion.Conversion.decompress`
    (``"never"``, ``"lossless"`` or ``"lossy"``). The message starts
    "cannot convert from 'TS' to 'TARGET'" and says why.
    """
    problem = _refusal(ts, mode)
    if problem is not None:
        raise DecompressionError(
            f"cannot convert from '{transfer_syntax_name(ts)}' to "
            f"'{transfer_syntax_name(target_ts)}': {problem}"
        )


def decompressed(
    info: FileInfo,
    dataset: Dataset | None,
    mode: str,
    max_decoded: int,
    target_ts: str = EXPLICIT_VR_LITTLE_ENDIAN,
) -> Dataset:
    """The input's dataset with its pixel data decoded (explicit VR little endian).

    Parameters
    ----------
    info : FileInfo
        The input (``info.transfer_syntax`` is its compressed syntax).
    dataset : pydicom.dataset.Dataset, optional
        An in-memory input; copied, never changed.
    mode : {"never", "lossless", "lossy"}
        Which compressed syntaxes may be decompressed
        (:attr:`storescu.dataset.conversion.Conversion.decompress`).
    max_decoded : int
        Largest decoded pixel data allowed, in bytes
        (:attr:`storescu.dataset.conversion.Conversion.max_decoded`).
    target_ts : str
        The syntax it will be sent in (for messages).

    Raises
    ------
    DecompressionError
        Not allowed, no decoder, too large, or the data does not decode.
    FileAccessError
        The file cannot be read any more.
    """
    ts = info.transfer_syntax
    check(ts, mode, target_ts)
    name = transfer_syntax_name(ts)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pydicom's value warnings are not ours to show
        ds = copy.deepcopy(dataset) if dataset is not None else _read(info)
        size = decoded_size(ds)
        if size > max_decoded:
            raise DecompressionError(
                f"decompressing its '{name}' pixel data would need {size / _MIB:.0f} MiB, "
                f"more than the limit of {max_decoded / _MIB:.0f} MiB"
            )
        log.info("Decompressing '%s' pixel data (%.1f MiB)", name, size / _MIB)
        try:
            from pydicom.pixels.utils import decompress

            decompress(ds, as_rgb=True, generate_instance_uid=False)
        except StorescuError:
            raise
        except Exception as exc:  # decoders raise many types on bad data
            raise DecompressionError(f"cannot decode its '{name}' pixel data: {exc}") from exc
    _plain_values(ds)
    return ds


def _read(info: FileInfo) -> Dataset:
    from pydicom import dcmread

    try:
        return dcmread(info.path, force=True)
    except OSError as exc:
        raise FileAccessError(info.path, f"cannot read file: {exc.strerror or exc}") from exc
    except Exception as exc:  # pydicom raises many types on bad data
        raise DecompressionError(f"cannot parse the dataset: {exc}") from exc


def _plain_values(ds: Dataset) -> None:
    """pydicom sets enum members (PhotometricInterpretation.RGB): store plain text."""
    value: Any = ds.get("PhotometricInterpretation")
    if value is not None and type(value) is not str:
        ds.PhotometricInterpretation = str(getattr(value, "value", value))
