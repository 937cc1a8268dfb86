"""The ``--version`` text: ours, Python's and pydicom's, then the optional libraries.

As DCMTK's ``--version`` lists "External libraries used", this lists every
optional library the program can use and its version, or that it is missing:
the decoders of the ``codecs`` extra, numpy, OpenSSL (through :mod:`ssl`),
zlib (deflate) and dask/distributed. Versions come from the installed
distributions' metadata, so nothing heavy is imported (``ssl`` and ``zlib``
are, to ask them which library they were built with).
"""

from __future__ import annotations

import sys
from typing import Final

from storescu.kernel.version import __version__

#: (distribution name, what it is used for), in the order printed.
OPTIONAL_DISTRIBUTIONS: Final[tuple[tuple[str, str], ...]] = (
    ("numpy", "pixel data for decompression, codecs extra"),
    ("pylibjpeg", "decoder plugins, codecs extra"),
    ("pylibjpeg-libjpeg", "JPEG, JPEG-LS decoder, codecs extra"),
    ("pylibjpeg-openjpeg", "JPEG 2000, HTJ2K decoder, codecs extra"),
    ("pylibjpeg-rle", "RLE decoder, codecs extra"),
    ("dask", "--dask, dask extra"),
    ("distributed", "--dask, dask extra"),
)

NOT_INSTALLED: Final = "not installed"


def distribution_version(name: str) -> str | None:
    """The installed version of distribution `name`, or None when it is missing."""
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _openssl() -> str:
    try:
        import ssl
    except ImportError:  # a Python built without OpenSSL: TLS is unavailable
        return f"OpenSSL: {NOT_INSTALLED} (no ssl module: TLS unavailable)"
    return f"{ssl.OPENSSL_VERSION} (ssl module, TLS)"


def _zlib() -> str:
    try:
        import zlib
    except ImportError:
        return f"zlib: {NOT_INSTALLED} (deflate unavailable)"
    return f"zlib {zlib.ZLIB_RUNTIME_VERSION} (deflated transfer syntax)"


def version_text() -> str:
    """Return the ``--version`` text (first three lines: ours, Python, pydicom)."""
    python_version = sys.version.split()[0]
    pydicom_version = distribution_version("pydicom") or NOT_INSTALLED
    lines = [
        f"storescu {__version__} (Python re-implementation of DCMTK storescu)",
        f"Python {python_version}",
        f"pydicom {pydicom_version}",
        "",
        "Optional libraries:",
        f"- {_openssl()}",
        f"- {_zlib()}",
    ]
    for name, purpose in OPTIONAL_DISTRIBUTIONS:
        version = distribution_version(name)
        shown = f"{name} {version}" if version else f"{name}: {NOT_INSTALLED}"
        lines.append(f"- {shown} ({purpose})")
    return "\n".join(lines) + "\n"
