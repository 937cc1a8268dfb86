"""Transfer syntaxes: what each proposal option proposes, and what each syntax is.

The option table follows DCMTK storescu (``addStoragePresentationContexts``):
every ``-x?`` option names a *preferred* syntax, proposed in one context per
SOP class, and the three uncompressed syntaxes are proposed as a *fallback*
in a second context -- except for implicit VR little endian (every peer must
accept it, PS3.5 10.1) and the video syntaxes (MPEG2, H.264, HEVC), which
cannot be transcoded, so DCMTK proposes them alone. The HTJ2K options are
ours (DCMTK has none): ``-xjl``, ``-xjr`` and ``-xjy``.

UIDs are those of PS3.5 Annex A (A.4 for the encapsulated ones, A.5 for
deflate). Nothing here imports pydicom: the command line and the proposal
need these facts before any file is read.
"""

from __future__ import annotations

from typing import Final

from storescu.kernel.constants import (
    DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN,
    EXPLICIT_VR_BIG_ENDIAN,
    EXPLICIT_VR_LITTLE_ENDIAN,
    IMPLICIT_VR_LITTLE_ENDIAN,
)

__all__ = [
    "CONVERTIBLE",
    "JPEG2000",
    "JPEG2000_LOSSLESS",
    "JPEG_BASELINE",
    "JPEG_EXTENDED",
    "JPEG_LOSSLESS",
    "JPEG_LOSSLESS_SV1",
    "JPEG_LS_LOSSLESS",
    "JPEG_LS_NEAR_LOSSLESS",
    "LOSSLESS",
    "PROPOSAL_MODES",
    "RLE_LOSSLESS",
    "VIDEO",
    "fallback_for",
    "is_encapsulated",
    "is_lossless",
    "option_for",
    "preferred_for",
]

# PS3.5 A.4: encapsulated (compressed) syntaxes.
JPEG_BASELINE: Final = "1.2.840.10008.1.2.4.50"
JPEG_EXTENDED: Final = "1.2.840.10008.1.2.4.51"
JPEG_LOSSLESS: Final = "1.2.840.10008.1.2.4.57"
JPEG_LOSSLESS_SV1: Final = "1.2.840.10008.1.2.4.70"
JPEG_LS_LOSSLESS: Final = "1.2.840.10008.1.2.4.80"
JPEG_LS_NEAR_LOSSLESS: Final = "1.2.840.10008.1.2.4.81"
JPEG2000_LOSSLESS: Final = "1.2.840.10008.1.2.4.90"
JPEG2000: Final = "1.2.840.10008.1.2.4.91"
MPEG2_MAIN: Final = "1.2.840.10008.1.2.4.100"
MPEG2_HIGH: Final = "1.2.840.10008.1.2.4.101"
MPEG4_HP41: Final = "1.2.840.10008.1.2.4.102"
MPEG4_HP41_BD: Final = "1.2.840.10008.1.2.4.103"
MPEG4_HP42_2D: Final = "1.2.840.10008.1.2.4.104"
MPEG4_HP42_3D: Final = "1.2.840.10008.1.2.4.105"
MPEG4_STEREO: Final = "1.2.840.10008.1.2.4.106"
HEVC_MAIN: Final = "1.2.840.10008.1.2.4.107"
HEVC_MAIN10: Final = "1.2.840.10008.1.2.4.108"
HTJ2K_LOSSLESS: Final = "1.2.840.10008.1.2.4.201"
HTJ2K_LOSSLESS_RPCL: Final = "1.2.840.10008.1.2.4.202"
HTJ2K: Final = "1.2.840.10008.1.2.4.203"
RLE_LOSSLESS: Final = "1.2.840.10008.1.2.5"

#: The syntaxes converted between without touching pixel data (PS3.5 A.1-A.3, A.5).
CONVERTIBLE: Final = frozenset(
    {
        IMPLICIT_VR_LITTLE_ENDIAN,
        EXPLICIT_VR_LITTLE_ENDIAN,
        EXPLICIT_VR_BIG_ENDIAN,
        DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN,
    }
)

#: Encapsulated syntaxes whose decoding gives back the original pixels.
#: JPEG 2000 (.91) and HTJ2K (.203) *may* be lossless but are not required
#: to be, so they count as lossy (decompressing them needs ``+dly``).
LOSSLESS: Final = frozenset(
    {
        JPEG_LOSSLESS,
        JPEG_LOSSLESS_SV1,
        JPEG_LS_LOSSLESS,
        JPEG2000_LOSSLESS,
        HTJ2K_LOSSLESS,
        HTJ2K_LOSSLESS_RPCL,
        RLE_LOSSLESS,
    }
)

#: Video syntaxes (PS3.5 A.4.5-A.4.7, 8.2.5-8.2.7): proposed alone, never decoded.
VIDEO: Final = frozenset(
    {
        MPEG2_MAIN,
        MPEG2_HIGH,
        MPEG4_HP41,
        MPEG4_HP41_BD,
        MPEG4_HP42_2D,
        MPEG4_HP42_3D,
        MPEG4_STEREO,
        HEVC_MAIN,
        HEVC_MAIN10,
    }
)

#: Proposal mode (the ``--propose-NAME`` suffix) -> (short option, preferred syntax).
PROPOSAL_MODES: Final[dict[str, tuple[str, str]]] = {
    "uncompr": ("-x=", EXPLICIT_VR_LITTLE_ENDIAN),  # local byte order: little endian
    "little": ("-xe", EXPLICIT_VR_LITTLE_ENDIAN),
    "big": ("-xb", EXPLICIT_VR_BIG_ENDIAN),
    "implicit": ("-xi", IMPLICIT_VR_LITTLE_ENDIAN),
    "lossless": ("-xs", JPEG_LOSSLESS_SV1),
    "jpeg8": ("-xy", JPEG_BASELINE),
    "jpeg12": ("-xx", JPEG_EXTENDED),
    "j2k-lossless": ("-xv", JPEG2000_LOSSLESS),
    "j2k-lossy": ("-xw", JPEG2000),
    "jls-lossless": ("-xt", JPEG_LS_LOSSLESS),
    "jls-lossy": ("-xu", JPEG_LS_NEAR_LOSSLESS),
    "mpeg2": ("-xm", MPEG2_MAIN),
    "mpeg2-high": ("-xh", MPEG2_HIGH),
    "mpeg4": ("-xn", MPEG4_HP41),
    "mpeg4-bd": ("-xl", MPEG4_HP41_BD),
    "mpeg4-2-2d": ("-x2", MPEG4_HP42_2D),
    "mpeg4-2-3d": ("-x3", MPEG4_HP42_3D),
    "mpeg4-2-st": ("-xo", MPEG4_STEREO),
    "hevc": ("-x4", HEVC_MAIN),
    "hevc10": ("-x5", HEVC_MAIN10),
    "rle": ("-xr", RLE_LOSSLESS),
    "deflated": ("-xd", DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN),
    # Ours: HTJ2K (PS3.5 A.4.11), not in DCMTK's storescu.
    "ht-lossless": ("-xjl", HTJ2K_LOSSLESS),
    "ht-rpcl": ("-xjr", HTJ2K_LOSSLESS_RPCL),
    "ht-lossy": ("-xjy", HTJ2K),
}

_UNCOMPRESSED_ORDER: Final = (
    EXPLICIT_VR_LITTLE_ENDIAN,
    EXPLICIT_VR_BIG_ENDIAN,
    IMPLICIT_VR_LITTLE_ENDIAN,
)


def preferred_for(mode: str) -> str:
    """The preferred transfer syntax of a proposal mode.

    Raises
    ------
    KeyError
        `mode` is not a key of :data:`PROPOSAL_MODES`.
    """
    return PROPOSAL_MODES[mode][1]


def fallback_for(mode: str) -> tuple[str, ...]:
    """The fallback syntaxes DCMTK proposes next to the preferred one.

    The uncompressed syntaxes other than the preferred one; none for implicit
    VR little endian and the video syntaxes (DCMTK storescu.cc).
    """
    preferred = preferred_for(mode)
    if preferred == IMPLICIT_VR_LITTLE_ENDIAN or preferred in VIDEO:
        return ()
    return tuple(ts for ts in _UNCOMPRESSED_ORDER if ts != preferred)


def is_encapsulated(ts: str) -> bool:
    """True for a syntax whose pixel data is encapsulated (PS3.5 A.4), or unknown."""
    return ts not in CONVERTIBLE


def is_lossless(ts: str) -> bool:
    """True when decoding pixel data in `ts` restores the original values."""
    return ts in CONVERTIBLE or ts in LOSSLESS


def option_for(ts: str) -> str | None:
    """The ``-x?`` option that proposes `ts` as its preferred syntax, if one does."""
    for short, syntax in PROPOSAL_MODES.values():
        if syntax == ts and short not in ("-x=", "-xe"):
            return short
    return "-xe" if ts == EXPLICIT_VR_LITTLE_ENDIAN else None
