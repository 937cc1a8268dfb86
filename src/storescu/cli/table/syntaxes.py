"""Transfer syntax options: what is proposed, and what may be converted to fit.

DCMTK's ``-x?`` family, ``-xf`` (an association negotiation profile of a DCMTK
config file), ``-R`` and ``+C``; then our own proposal from the input files
(``+fs``, ``+fc``), decompression as dcmsend's (``+dls``, ``+dly``, ``-dn``),
DCMTK's ``+u``/``-u`` and ``+cl``, and lossless compression while sending
(``--compress``, ``--no-verify-compression``; :mod:`storescu.run.compressing`).
:mod:`storescu.cli.syntaxopts` turns the parsed values into library objects;
:mod:`storescu.cli.rules` checks DCMTK's restrictions between them.
"""

from __future__ import annotations

from typing import Final

from storescu.cli.spec import NETWORK_GROUP, OptionSpec, in_group

_O = OptionSpec


def _propose(short: str, name: str, help: str) -> OptionSpec:
    # The stored value is the long name's suffix: -xs -> "lossless", so a later
    # issue enables one by flipping its status only.
    return _O(short, f"--propose-{name}", help, dest="propose", const=name)


ROWS: Final[tuple[OptionSpec, ...]] = (
    *in_group(
        NETWORK_GROUP,
        "association negotiation profile from a config file",
        _O(
            "-xf",
            "--config-file",
            "propose the contexts of PROFILE in FILE\n(not with -x?, -R, +C)",
            "config_file",
            args=("FILE", "PROFILE"),
            arg_help="FILE PROFILE: DCMTK asconfig file, name",
        ),
    ),
    *in_group(
        NETWORK_GROUP,
        "proposed transfer syntaxes (not with -xf)",
        _propose(
            "-x=", "uncompr", "uncompressed, explicit VR in local byte\norder first (default)"
        ),
        _propose("-xe", "little", "uncompressed, explicit VR little endian first"),
        _propose("-xb", "big", "uncompressed, explicit VR big endian first"),
        _propose("-xi", "implicit", "implicit VR little endian only"),
        _propose("-xs", "lossless", "JPEG lossless (process 14 SV1), then\nuncompressed"),
        _propose("-xy", "jpeg8", "JPEG baseline (8 bit lossy), then\nuncompressed"),
        _propose("-xx", "jpeg12", "JPEG extended (12 bit lossy), then\nuncompressed"),
        _propose("-xv", "j2k-lossless", "JPEG 2000 lossless, then uncompressed"),
        _propose("-xw", "j2k-lossy", "JPEG 2000 lossy, then uncompressed"),
        _propose("-xt", "jls-lossless", "JPEG-LS lossless, then uncompressed"),
        _propose("-xu", "jls-lossy", "JPEG-LS near-lossless, then uncompressed"),
        _propose("-xm", "mpeg2", "MPEG2 Main Profile @ Main Level only"),
        _propose("-xh", "mpeg2-high", "MPEG2 Main Profile @ High Level only"),
        _propose("-xn", "mpeg4", "H.264 High Profile / Level 4.1 only"),
        _propose("-xl", "mpeg4-bd", "H.264 BD-compatible High Profile only"),
        _propose("-x2", "mpeg4-2-2d", "H.264 High Profile / Level 4.2 (2D) only"),
        _propose("-x3", "mpeg4-2-3d", "H.264 High Profile / Level 4.2 (3D) only"),
        _propose("-xo", "mpeg4-2-st", "H.264 Stereo High Profile / Level 4.2 only"),
        _propose("-x4", "hevc", "HEVC/H.265 Main Profile / Level 5.1 only"),
        _propose("-x5", "hevc10", "HEVC/H.265 Main 10 Profile / Level 5.1 only"),
        _propose("-xr", "rle", "RLE lossless, then uncompressed"),
        _propose("-xd", "deflated", "deflated explicit VR little endian, then\nuncompressed"),
        _propose("-xjl", "ht-lossless", "HTJ2K lossless, then uncompressed (ours)"),
        _propose(
            "-xjr",
            "ht-rpcl",
            "HTJ2K with RPCL options (lossless), then\nuncompressed (ours)",
        ),
        _propose("-xjy", "ht-lossy", "HTJ2K (lossy or lossless), then\nuncompressed (ours)"),
        _O(
            "-R",
            "--required",
            "propose only the SOP classes of the input\n(default: all known)",
            "required_only",
        ),
        _O(
            "+C",
            "--combine",
            "one context per SOP class with all syntaxes\n(default: one per syntax)",
            "combine",
        ),
    ),
    *in_group(
        NETWORK_GROUP,
        "proposal from the input files (beyond DCMTK)",
        _O(
            "+fs",
            "--propose-file-syntax",
            "also propose each file's own compressed\nsyntax for its SOP class (default)",
            "propose_file_syntaxes",
        ),
        _O(
            "-fs",
            "--no-file-syntax",
            "propose only what -x?/-xf say (DCMTK)",
            "propose_file_syntaxes",
            False,
        ),
        _O(
            "+fc",
            "--propose-file-classes",
            "also propose the files' SOP classes that\nthe built-in list lacks (default)",
            "propose_file_classes",
        ),
        _O(
            "-fc",
            "--no-file-classes",
            "propose the built-in list only (DCMTK)",
            "propose_file_classes",
            False,
        ),
    ),
    *in_group(
        NETWORK_GROUP,
        "decompression when only other syntaxes are accepted (as dcmsend)",
        _O(
            "+dls",
            "--decompress-lossless",
            "decompress losslessly compressed files\n(default)",
            "decompress",
            "lossless",
        ),
        _O(
            "+dly",
            "--decompress-lossy",
            "also decompress lossy compressed files",
            "decompress",
            "lossy",
        ),
        _O("-dn", "--decompress-never", "never decompress", "decompress", "never"),
        _O(
            None,
            "--decompress-limit",
            "largest decoded pixel data, held in memory\n(default: 1024)",
            "decompress_limit",
            args=("MIB",),
            arg_help="MIB: integer 1..1048576",
            kind="int",
            minimum=1,
            maximum=1024 * 1024,
        ),
    ),
    *in_group(
        NETWORK_GROUP,
        "lossless compression while sending (off by default)",
        _O(
            None,
            "--compress",
            "send native images in this lossless syntax\n"
            "when the peer accepts it (proposed in\n"
            "contexts of their own; uncompressed\n"
            "contexts stay); files it cannot carry\n"
            "exactly go uncompressed (see -v); auto:\n"
            "a codec only when the file arrives sooner",
            "compress",
            args=("CODEC",),
            arg_help="CODEC: jpeg-ls|j2k|htj2k|rle|deflate|auto",
            kind="compress",
        ),
        _O(
            None,
            "--no-verify-compression",
            "do not decode each encoded frame to compare\n"
            "it with the stored bytes (faster; a codec\n"
            "bug would then change pixel values)",
            "verify_compression",
            False,
        ),
    ),
    *in_group(
        NETWORK_GROUP,
        "post-1993 value representations",
        _O("+u", "--enable-new-vr", "keep UN, UT and other newer VRs (default)", "new_vrs"),
        _O(
            "-u",
            "--disable-new-vr",
            "write UN, UT, UC, UR, OD, OF, OL, OV, SV\nand UV as OB (explicit VR)",
            "new_vrs",
            False,
        ),
    ),
    *in_group(
        NETWORK_GROUP,
        "deflate compression level (only with -xd or -xf)",
        _O(
            "+cl",
            "--compression-level",
            "0 = none, 1 = fastest, 9 = smallest",
            "compression_level",
            args=("LEVEL",),
            arg_help="LEVEL: integer 0..9 (default: 6)",
            kind="int",
            minimum=0,
            maximum=9,
        ),
    ),
)
