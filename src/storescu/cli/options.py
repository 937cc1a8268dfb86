"""The DCMTK-compatible command line: a declarative option table, parsed into :class:`Options`.

Theory of operation
-------------------
:data:`OPTION_TABLE` lists every option of the seed manual, of DCMTK 3.6.7 and of
DCMTK 3.7, one frozen :class:`OptionSpec` row each: spellings, arguments, the
:class:`Options` field it sets (``dest``) and the value it stores, help text, and a
``status``. Options whose feature belongs to a later issue are ``"pending:<topic>"``:
they parse with their real arity (so the rest of the line is read correctly) and
are then refused with a :class:`~storescu.errors.UsageError`, never ignored.
Supporting one later means: flip ``status``, give it a ``dest``, add the field.

DCMTK's grammar is not argparse's, so :func:`parse_args` runs in two steps:

1. A scanner walks argv with the table. As in DCMTK, options may appear anywhere
   (also between operands), spellings must match exactly, and an option's values
   are the next words *taken literally* (``-aet -X`` sets the title ``-X``).
   ``@file`` in option position is replaced by the words of that file; ``--``
   (our addition: DCMTK 3.6.7 has none) makes every later word an operand.
2. The recognised options, rewritten as ``--long=value`` words (values that start
   with ``-`` or ``+`` survive that form), go through an ``argparse`` parser built
   from the table. ``argparse`` applies the actions in command-line order; each
   ``+x``/``-x`` pair shares one destination, so the last one wins, as in DCMTK.

Errors never print or exit: they raise ``UsageError`` with DCMTK-like wording.
Importing this module is cheap (no pydicom; the parser is built on first use).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import re
import sys
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import groupby
from typing import Any, Final, Literal, NoReturn, TypeAlias

from storescu import __version__
from storescu.cli.exitcodes import EXIT_CODES_TEXT
from storescu.constants import (
    DEFAULT_CALLED_AET,
    DEFAULT_CALLING_AET,
    DEFAULT_MAX_PDU,
    MAX_MAX_PDU,
    MIN_MAX_PDU,
)
from storescu.errors import UsageError

__all__ = [
    "EXIT_CODES_TEXT",
    "LOG_LEVELS",
    "OPTION_TABLE",
    "InfoRequest",
    "OptionSpec",
    "Options",
    "ParseResult",
    "build_parser",
    "help_text",
    "parse_args",
    "split_command_file",
    "version_text",
]

LOG_LEVELS: Final = ("fatal", "error", "warn", "info", "debug", "trace")

#: PS3.5 6.2: an AE title is at most 16 characters of the default repertoire.
_MAX_AE_TITLE: Final = 16
#: DCMTK keeps option numbers in a signed 32-bit integer; larger values also
#: overflow the socket layer's timeval.
_INT32_MAX: Final = 2**31 - 1


# ------------------------------------------------------------------------ results


@dataclass(frozen=True)
class Options:
    """Everything the command line asked for, validated. Built by :func:`parse_args`."""

    peer: str
    port: int
    files: tuple[str, ...]
    log_level: str = "warn"
    log_config: str | None = None
    show_contexts: bool = False
    calling_aet: str = DEFAULT_CALLING_AET
    called_aet: str = DEFAULT_CALLED_AET
    propose: str = "uncompr"
    required_only: bool = False
    combine: bool = False
    max_pdu: int = DEFAULT_MAX_PDU
    max_send_pdu: int | None = None
    repeat: int = 1
    abort: bool = False
    halt: bool = True
    read_mode: str = "auto"
    connect_timeout: float | None = None
    socket_timeout: float | None = 60.0
    acse_timeout: float | None = 30.0
    dimse_timeout: float | None = None
    args_expanded: tuple[str, ...] = ()
    print_arguments: bool = False


@dataclass(frozen=True)
class InfoRequest:
    """``--help`` or ``--version`` (or no arguments): print ``text`` to stdout, exit 0."""

    kind: Literal["help", "version"]
    text: str


ParseResult: TypeAlias = Options | InfoRequest


# -------------------------------------------------------------------- the table


@dataclass(frozen=True)
class OptionSpec:
    """One row of the option table.

    ``kind`` says how a single argument converts: ``str``, ``int`` (within
    ``minimum``..``maximum``), ``aetitle``, ``level`` (a log level), ``timeout``
    (seconds > 0) or ``socket-timeout`` (seconds; 0 or -1 mean none).
    ``conflicts`` names long options this one may not be combined with.
    """

    short: str | None
    long: str
    help: str
    dest: str | None = None
    const: object = True
    args: tuple[str, ...] = ()
    arg_help: str = ""
    kind: str = "str"
    minimum: int | None = None
    maximum: int | None = None
    conflicts: tuple[str, ...] = ()
    status: str = "supported"
    group: str = ""
    subgroup: str = ""

    def __post_init__(self) -> None:
        # Catch table typos at import time rather than as odd parses later.
        if not self.long.startswith("--"):
            raise ValueError(f"{self.long}: long names start with --")
        if self.short is not None and self.short[:1] not in "-+":
            raise ValueError(f"{self.short}: short names start with - or +")
        if self.status != "supported" and not self.status.startswith("pending:"):
            raise ValueError(f"{self.long}: bad status {self.status!r}")
        if self.args and not self.arg_help:
            raise ValueError(f"{self.long}: an option with arguments needs arg_help")

    @property
    def spellings(self) -> tuple[str, ...]:
        return (self.short, self.long) if self.short else (self.long,)

    @property
    def pending_topic(self) -> str | None:
        """The later issue that brings this option, or None when it works now."""
        return self.status.partition(":")[2] if self.status.startswith("pending:") else None


def _in(group: str, subgroup: str, *rows: OptionSpec) -> tuple[OptionSpec, ...]:
    return tuple(dataclasses.replace(r, group=group, subgroup=subgroup) for r in rows)


def _pending(topic: str, *rows: OptionSpec) -> tuple[OptionSpec, ...]:
    return tuple(dataclasses.replace(r, status=f"pending:{topic}") for r in rows)


_GENERAL: Final = "general options"
_INPUT: Final = "input options"
_NETWORK: Final = "network options"
_TLS_GROUP: Final = "transport layer security (TLS) options"

_TLS: Final = "TLS"
_CODECS: Final = "compressed and deflated transfer syntaxes"
_REWRITE: Final = "UID invention and dataset rewriting"
_SCAN: Final = "directory scanning and renaming"
_IDENTITY: Final = "user identity negotiation"
_IPVER: Final = "IP version selection"

_O = OptionSpec


def _propose(short: str, name: str, help: str) -> OptionSpec:
    # The stored value is the long name's suffix: -xs -> "lossless", so a later
    # issue enables one by flipping its status only.
    return _O(short, f"--propose-{name}", help, dest="propose", const=name)


OPTION_TABLE: Final[tuple[OptionSpec, ...]] = (
    *_in(
        _GENERAL,
        "",
        _O("-h", "--help", "show this help and exit"),
        _O(None, "--version", "show version information and exit"),
        _O(None, "--arguments", "print the arguments after @file expansion", "print_arguments"),
        _O("-q", "--quiet", "report fatal errors only", "log_level", "fatal"),
        _O("-v", "--verbose", "report what is being done", "log_level", "info"),
        _O("-d", "--debug", "also show PDUs and DIMSE commands", "log_level", "debug"),
        _O(
            "-ll",
            "--log-level",
            "log at this level",
            "log_level",
            args=("LEVEL",),
            arg_help="LEVEL: fatal, error, warn, info, debug, trace",
            kind="level",
            conflicts=("--quiet", "--verbose", "--debug"),
        ),
        _O(
            "-lc",
            "--log-config",
            "configure logging from FILE",
            "log_config",
            args=("FILE",),
            arg_help="FILE: logging configuration file",
            conflicts=("--quiet", "--verbose", "--debug", "--log-level"),
        ),
        _O("+v", "--verbose-pc", "verbose, and list presentation contexts", "show_contexts"),
    ),
    *_in(
        _INPUT,
        "input file format",
        _O("+f", "--read-file", "file with or without meta header (default)", "read_mode", "auto"),
        _O("+fo", "--read-file-only", "require a file meta header", "read_mode", "fileformat"),
        _O("-f", "--read-dataset", "bare data set, no file meta header", "read_mode", "dataset"),
    ),
    *_in(
        _INPUT,
        "input files",
        *_pending(
            _SCAN,
            _O("+sd", "--scan-directories", "send the files inside directory arguments"),
            _O(
                "+sp",
                "--scan-pattern",
                "send only file names matching PATTERN",
                args=("PATTERN",),
                arg_help="PATTERN: wildcards (only with +sd)",
            ),
            _O("-r", "--no-recurse", "stay out of subdirectories (default)"),
            _O("+r", "--recurse", "descend into subdirectories"),
            _O("-rn", "--no-rename", "leave processed files alone (default)"),
            _O("+rn", "--rename", "rename processed files to NAME.done/.bad"),
        ),
    ),
    *_in(
        _NETWORK,
        "IP protocol version",
        *_pending(
            _IPVER,
            _O("-i4", "--ipv4", "connect over IPv4 only (default)"),
            _O("-i6", "--ipv6", "connect over IPv6 only"),
            _O("-i0", "--ip-auto", "use the family the host name resolves to"),
        ),
    ),
    *_in(
        _NETWORK,
        "application entity titles",
        _O(
            "-aet",
            "--aetitle",
            f"our calling AE title (default: {DEFAULT_CALLING_AET})",
            "calling_aet",
            args=("AETITLE",),
            arg_help="AETITLE: 1..16 characters",
            kind="aetitle",
        ),
        _O(
            "-aec",
            "--call",
            f"the peer's called AE title (default: {DEFAULT_CALLED_AET})",
            "called_aet",
            args=("AETITLE",),
            arg_help="AETITLE: 1..16 characters",
            kind="aetitle",
        ),
    ),
    *_in(
        _NETWORK,
        "association negotiation profile from a config file",
        *_pending(
            _CODECS,
            _O(
                "-xf",
                "--config-file",
                "propose the contexts of PROFILE in FILE",
                args=("FILE", "PROFILE"),
                arg_help="FILE PROFILE: DCMTK asconfig file, name",
            ),
        ),
    ),
    *_in(
        _NETWORK,
        "proposed transfer syntaxes (not with -xf)",
        _propose(
            "-x=", "uncompr", "uncompressed, explicit VR in local byte\norder first (default)"
        ),
        _propose("-xe", "little", "uncompressed, explicit VR little endian first"),
        _propose("-xb", "big", "uncompressed, explicit VR big endian first"),
        _propose("-xi", "implicit", "implicit VR little endian only"),
        *_pending(
            _CODECS,
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
        ),
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
    *_in(
        _NETWORK,
        "post-1993 value representations",
        _O("+u", "--enable-new-vr", "keep UN, UT and other newer VRs (default)"),
        *_pending(_CODECS, _O("-u", "--disable-new-vr", "convert newer VRs to OB")),
    ),
    *_in(
        _NETWORK,
        "deflate compression level (only with -xd or -xf)",
        *_pending(
            _CODECS,
            _O(
                "+cl",
                "--compression-level",
                "0 = none, 1 = fastest, 9 = smallest",
                args=("LEVEL",),
                arg_help="LEVEL: integer 0..9 (default: 6)",
            ),
        ),
    ),
    *_in(
        _NETWORK,
        "user identity negotiation",
        *_pending(
            _IDENTITY,
            _O("-usr", "--user", "authenticate as NAME", args=("NAME",), arg_help="NAME: string"),
            _O(
                "-pwd",
                "--password",
                "with PASSWORD",
                args=("PASSWORD",),
                arg_help="PASSWORD: string (only with -usr)",
            ),
            _O("-epw", "--empty-password", "send an empty password (only with -usr)"),
            _O(
                "-kt",
                "--kerberos",
                "send the Kerberos ticket in FILE",
                args=("FILE",),
                arg_help="FILE: file name",
            ),
            _O(
                None,
                "--saml",
                "send the SAML assertion in FILE",
                args=("FILE",),
                arg_help="FILE: file name",
            ),
            _O(
                None,
                "--jwt",
                "send the JSON web token in FILE",
                args=("FILE",),
                arg_help="FILE: file name",
            ),
            _O("-rsp", "--pos-response", "require the peer to confirm the identity"),
        ),
    ),
    *_in(
        _NETWORK,
        "other network options",
        _O(
            "-to",
            "--timeout",
            "give up connecting after SECONDS",
            "connect_timeout",
            args=("SECONDS",),
            arg_help="SECONDS: number > 0 (default: none)",
            kind="timeout",
        ),
        _O(
            "-ts",
            "--socket-timeout",
            "limit on each socket read and write",
            "socket_timeout",
            args=("SECONDS",),
            arg_help="SECONDS: 0 or -1 = none (default: 60)",
            kind="socket-timeout",
        ),
        _O(
            "-ta",
            "--acse-timeout",
            "wait for association replies",
            "acse_timeout",
            args=("SECONDS",),
            arg_help="SECONDS: number > 0 (default: 30)",
            kind="timeout",
        ),
        _O(
            "-td",
            "--dimse-timeout",
            "wait for each C-STORE response",
            "dimse_timeout",
            args=("SECONDS",),
            arg_help="SECONDS: number > 0 (default: none)",
            kind="timeout",
        ),
        _O(
            "-pdu",
            "--max-pdu",
            f"largest PDU we receive (default: {DEFAULT_MAX_PDU})",
            "max_pdu",
            args=("BYTES",),
            arg_help=f"BYTES: integer {MIN_MAX_PDU}..{MAX_MAX_PDU}",
            kind="int",
            minimum=MIN_MAX_PDU,
            maximum=MAX_MAX_PDU,
        ),
        _O(
            None,
            "--max-send-pdu",
            "cap the PDUs we send at BYTES",
            "max_send_pdu",
            args=("BYTES",),
            arg_help=f"BYTES: integer {MIN_MAX_PDU}..{MAX_MAX_PDU}",
            kind="int",
            minimum=MIN_MAX_PDU,
            maximum=MAX_MAX_PDU,
        ),
        _O(
            None,
            "--repeat",
            "send every file N times",
            "repeat",
            args=("N",),
            arg_help="N: integer >= 1",
            kind="int",
            minimum=1,
            maximum=_INT32_MAX,
        ),
        _O(None, "--abort", "end with A-ABORT instead of A-RELEASE", "abort"),
        _O("-nh", "--no-halt", "go on after a failed file (default: stop)", "halt", False),
        *_pending(
            _REWRITE,
            _O("-up", "--uid-padding", "fix UIDs padded with spaces"),
            _O("+II", "--invent-instance", "new SOP instance UID for every file"),
            _O(
                "+IR",
                "--invent-series",
                "new series UID every N files (default: 100)",
                args=("N",),
                arg_help="N: integer (implies +II)",
            ),
            _O(
                "+IS",
                "--invent-study",
                "new study UID every N series (default: 50)",
                args=("N",),
                arg_help="N: integer (implies +II)",
            ),
            _O(
                "+IP",
                "--invent-patient",
                "new patient ID and name every N studies\n(default: 25)",
                args=("N",),
                arg_help="N: integer (implies +II)",
            ),
        ),
    ),
    *_in(
        _TLS_GROUP,
        "transport protocol stack",
        _O("-tls", "--disable-tls", "plain TCP (default)"),
        *_pending(
            _TLS,
            _O(
                "+tls",
                "--enable-tls",
                "TLS, authenticated with KEY and CERT",
                args=("KEY", "CERT"),
                arg_help="KEY CERT: private key and certificate files",
            ),
            _O("+tla", "--anonymous-tls", "TLS without a client certificate"),
        ),
    ),
    *_in(
        _TLS_GROUP,
        "private key password (only with +tls)",
        *_pending(
            _TLS,
            _O("+ps", "--std-passwd", "ask for it on the terminal (default)"),
            _O(
                "+pw",
                "--use-passwd",
                "use PASSWORD",
                args=("PASSWORD",),
                arg_help="PASSWORD: string",
            ),
            _O("-pw", "--null-passwd", "use an empty password"),
        ),
    ),
    *_in(
        _TLS_GROUP,
        "key and certificate file format",
        *_pending(
            _TLS,
            _O("-pem", "--pem-keys", "PEM files (default)"),
            _O("-der", "--der-keys", "DER files"),
        ),
    ),
    *_in(
        _TLS_GROUP,
        "certification authority",
        *_pending(
            _TLS,
            _O(
                "+cf",
                "--add-cert-file",
                "trust the certificate in FILE",
                args=("FILE",),
                arg_help="FILE: certificate file",
            ),
            _O(
                "+cd",
                "--add-cert-dir",
                "trust the certificates in DIR",
                args=("DIR",),
                arg_help="DIR: hashed certificate directory",
            ),
            _O(
                "+crl",
                "--add-crl-file",
                "add a revocation list (implies +crv)",
                args=("FILE",),
                arg_help="FILE: CRL file",
            ),
            _O("+crv", "--enable-crl-vfy", "check the peer certificate against CRLs"),
            _O("+cra", "--enable-crl-all", "check the whole chain against CRLs"),
        ),
    ),
    *_in(
        _TLS_GROUP,
        "security profile",
        *_pending(
            _TLS,
            _O("+ph", "--list-profiles", "list the security profiles and exit"),
            _O("+pg", "--profile-8996", "BCP 195 RFC 8996 (DCMTK 3.7 default)"),
            _O("+pm", "--profile-8996-mod", "modified BCP 195 RFC 8996"),
            _O("+py", "--profile-bcp195-nd", "non-downgrading BCP 195 (DCMTK 3.6.7\ndefault)"),
            _O("+px", "--profile-bcp195", "BCP 195 (retired)"),
            _O("+pz", "--profile-bcp195-ex", "extended BCP 195, TLS 1.2 only (retired)"),
            _O("+pb", "--profile-basic", "basic, 3DES (retired)"),
            _O("+pa", "--profile-aes", "AES (retired)"),
            _O("+pn", "--profile-null", "authenticated, unencrypted (retired)"),
        ),
    ),
    *_in(
        _TLS_GROUP,
        "ciphersuite",
        *_pending(
            _TLS,
            _O("+cc", "--list-ciphers", "list the supported ciphersuites and exit"),
            _O(
                "+cs",
                "--cipher",
                "also offer ciphersuite NAME (not with +pz)",
                args=("NAME",),
                arg_help="NAME: OpenSSL ciphersuite name",
            ),
            _O(
                "+dp",
                "--dhparam",
                "DH parameters (servers only; removed\nfrom storescu in DCMTK 3.6.4)",
                args=("FILE",),
                arg_help="FILE: DH parameter file",
            ),
        ),
    ),
    *_in(
        _TLS_GROUP,
        "server name indication",
        *_pending(
            _TLS,
            _O(None, "--no-sni", "send no server name (default)"),
            _O(
                None,
                "--request-sni",
                "ask the peer for server name NAME",
                args=("NAME",),
                arg_help="NAME: host name",
            ),
        ),
    ),
    *_in(
        _TLS_GROUP,
        "pseudo random generator",
        *_pending(
            _TLS,
            _O(
                "+rs",
                "--seed",
                "seed the generator from FILE",
                args=("FILE",),
                arg_help="FILE: seed file",
            ),
            _O("+ws", "--write-seed", "update the seed file afterwards (with +rs)"),
            _O(
                "+wf",
                "--write-seed-file",
                "write a new seed to FILE (with +rs)",
                args=("FILE",),
                arg_help="FILE: seed file",
            ),
        ),
    ),
    *_in(
        _TLS_GROUP,
        "peer authentication",
        *_pending(
            _TLS,
            _O("-rc", "--require-peer-cert", "verify the peer certificate (default)"),
            _O(
                "-vc",
                "--verify-peer-cert",
                "verify it if present (servers only;\nremoved from storescu in DCMTK 3.6.4)",
            ),
            _O("-ic", "--ignore-peer-cert", "do not verify the peer certificate"),
        ),
    ),
)

_BY_SPELLING: Final[dict[str, OptionSpec]] = {s: r for r in OPTION_TABLE for s in r.spellings}

_PARAMETERS: Final = (
    ("peer", "host name or IP address of the storage SCP"),
    ("port", "its TCP port, 1..65535"),
    ("dcmfile-in", "DICOM file(s) to send"),
)

# Words that look like negative numbers are operands, not options (``-ts -1``
# gets its value that way, and a port of ``-1`` gets a range error).
_NUMBER: Final = re.compile(r"[-+]?[0-9]+(?:\.[0-9]+)?")
_INTEGER: Final = re.compile(r"[-+]?[0-9]+")

# Joins (and precedes) the values of an option inside one ``--long=...`` word for
# argparse; NUL cannot occur in a POSIX argument, so the split is unambiguous.
_SEP: Final = "\0"


# ----------------------------------------------------------------------- parsing


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of printing and exiting."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        raise UsageError(message or f"argument parser exited with status {status}")


def _split_values(word: str) -> tuple[str, ...]:
    return tuple(word.split(_SEP)[1:])


@lru_cache(maxsize=1)
def build_parser() -> argparse.ArgumentParser:
    """Return the argparse parser generated from :data:`OPTION_TABLE` (built once).

    It knows every spelling; :func:`parse_args` feeds it the scanned options in
    ``--long[=value]`` form. Defaults are suppressed so the namespace holds only
    what the command line set; the rest comes from :class:`Options`' defaults.
    """
    parser = _Parser(
        prog="storescu",
        prefix_chars="-+",
        allow_abbrev=False,
        add_help=False,
        exit_on_error=False,
    )
    for index, spec in enumerate(OPTION_TABLE):
        dest = spec.dest or f"_unused_{index}"
        if spec.args:
            parser.add_argument(
                *spec.spellings, dest=dest, type=_split_values, default=argparse.SUPPRESS
            )
        else:
            parser.add_argument(
                *spec.spellings,
                dest=dest,
                action="store_const",
                const=spec.const,
                default=argparse.SUPPRESS,
            )
    return parser


@dataclass(frozen=True)
class _Occurrence:
    spec: OptionSpec
    spelling: str
    values: tuple[str, ...]


def split_command_file(text: str) -> list[str]:
    """Split the text of an ``@file`` into words, as DCMTK does.

    Words are separated by whitespace; ``"..."`` or ``'...'`` keep spaces (and
    the other quote character) inside one word, and may sit in the middle of a
    word. Backslashes are ordinary characters, so Windows paths survive.
    """
    words: list[str] = []
    current: list[str] = []
    in_word = False
    quote: str | None = None
    for ch in text:
        if quote is not None:
            if ch == quote:
                quote = None
            else:
                current.append(ch)
        elif ch in "\"'":
            quote = ch
            in_word = True  # '' and "" are words too (an empty password)
        elif ch.isspace():
            if in_word:
                words.append("".join(current))
                current = []
                in_word = False
        else:
            current.append(ch)
            in_word = True
    if quote is not None:
        raise UsageError(f"unterminated {quote} quote in command file")
    if in_word:
        words.append("".join(current))
    return words


def _read_command_file(path: str) -> list[str]:
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise UsageError(f"cannot open command file '{path}': {exc.strerror}") from exc
    # fsdecode: the same bytes-to-str mapping Python uses for argv itself.
    text = os.fsdecode(data).removeprefix("\ufeff")
    try:
        return split_command_file(text)
    except UsageError as exc:
        raise UsageError(f"{exc} '{path}'") from None


def _is_option_word(word: str) -> bool:
    return len(word) > 1 and word[0] in "-+" and not _NUMBER.fullmatch(word)


def _scan(argv: Sequence[str]) -> tuple[list[_Occurrence], list[str], list[str]]:
    """Split argv into option occurrences and operands, expanding ``@file``.

    Returns (occurrences, operands, expanded argv). Expansion happens only in
    option position and is not recursive (DCMTK takes ``@x`` inside a command
    file literally); option values are taken literally too.
    """
    queue: deque[tuple[str, bool]] = deque((word, True) for word in argv)
    occurrences: list[_Occurrence] = []
    operands: list[str] = []
    expanded: list[str] = []
    options_ended = False
    while queue:
        word, expandable = queue.popleft()
        if _SEP in word:  # possible from a command file or an API caller, never from a shell
            raise UsageError(f"argument contains a NUL character: {word!r}")
        if options_ended:
            operands.append(word)
            expanded.append(word)
            continue
        if expandable and len(word) > 1 and word[0] == "@":
            queue.extendleft((w, False) for w in reversed(_read_command_file(word[1:])))
            continue
        expanded.append(word)
        if word == "--":
            options_ended = True
        elif _is_option_word(word):
            spec = _BY_SPELLING.get(word)
            if spec is None:
                raise UsageError(f"unknown option {word}")
            values: list[str] = []
            for _ in spec.args:
                if not queue:
                    raise UsageError(f"missing value for option {word}")
                value = queue.popleft()[0]
                if _SEP in value:
                    raise UsageError(f"argument contains a NUL character: {value!r}")
                values.append(value)
            expanded.extend(values)
            occurrences.append(_Occurrence(spec, word, tuple(values)))
        else:
            operands.append(word)
    return occurrences, operands, expanded


def _show(text: str) -> str:
    return text if text and text.strip() == text else repr(text)


def _bad(occ: _Occurrence, text: str, why: str) -> UsageError:
    return UsageError(f"invalid value for option {occ.spelling}: {_show(text)} ({why})")


def _convert(occ: _Occurrence, raw: tuple[str, ...]) -> object:
    """Turn an option's raw argument(s) into the value its ``dest`` holds."""
    spec = occ.spec
    if len(spec.args) != 1:
        return raw
    (text,) = raw
    if spec.kind == "str":
        return text
    if spec.kind == "int":
        if not _INTEGER.fullmatch(text):
            raise _bad(occ, text, "expected an integer")
        value = int(text)
        lo, hi = spec.minimum, spec.maximum
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            raise _bad(occ, text, f"allowed range {lo}..{hi}")
        return value
    if spec.kind in ("timeout", "socket-timeout"):
        if not _NUMBER.fullmatch(text):
            raise _bad(occ, text, "expected a number of seconds")
        seconds = float(text)
        if spec.kind == "socket-timeout":
            # DCMTK: 0 disables the socket timeout and -1 leaves it unset; both
            # mean "wait forever", which the drivers spell None.
            if seconds < -1 or seconds > _INT32_MAX:
                raise _bad(occ, text, f"allowed range -1..{_INT32_MAX}, 0 or -1 for none")
            return None if seconds <= 0 else seconds
        if seconds <= 0 or seconds > _INT32_MAX:
            raise _bad(occ, text, f"must be greater than 0 and at most {_INT32_MAX}")
        return seconds
    if spec.kind == "level":
        if text not in LOG_LEVELS:
            raise _bad(occ, text, "expected one of " + ", ".join(LOG_LEVELS))
        return text
    if spec.kind == "aetitle":
        # PS3.5 6.2 (AE): 16 characters at most, default repertoire without
        # control characters or backslash; spaces only are not a title.
        if not text.strip(" "):
            raise _bad(occ, text, "an AE title must not be empty")
        if len(text) > _MAX_AE_TITLE:
            raise _bad(occ, text, f"an AE title has at most {_MAX_AE_TITLE} characters")
        if any(not (" " <= ch <= "~") or ch == "\\" for ch in text):
            raise _bad(occ, text, "an AE title allows printable ASCII except backslash")
        return text
    raise AssertionError(f"unknown kind {spec.kind!r} in the option table")


def _check_conflicts(occurrences: Sequence[_Occurrence]) -> None:
    for occ in occurrences:
        for other in occurrences:
            if other.spec.long in occ.spec.conflicts:
                raise UsageError(f"option {occ.spelling} not allowed with {other.spelling}")


def _parse_port(text: str) -> int:
    port = int(text) if _INTEGER.fullmatch(text) else 0
    if not 1 <= port <= 65535:
        raise UsageError(
            f"invalid value for parameter port: {_show(text)} (allowed range 1..65535)"
        )
    return port


_FIELDS: Final = frozenset(f.name for f in dataclasses.fields(Options))


def parse_args(argv: Sequence[str]) -> ParseResult:
    """Parse the command line (without the program name).

    Returns :class:`Options`, or an :class:`InfoRequest` for ``--help``,
    ``--version`` or an empty command line (DCMTK prints its help then).
    Raises :class:`~storescu.errors.UsageError` for anything else that is wrong,
    including options whose feature is not implemented yet.
    """
    if not argv:
        return InfoRequest("help", help_text())
    occurrences, operands, expanded = _scan(argv)

    # Like DCMTK, --help and --version win over every later check (but not
    # over words that could not be read at all, reported by _scan).
    used = {occ.spec.long for occ in occurrences}
    if "--help" in used:
        return InfoRequest("help", help_text())
    if "--version" in used:
        return InfoRequest("version", version_text())

    for occ in occurrences:
        topic = occ.spec.pending_topic
        if topic is not None:
            raise UsageError(f"option {occ.spelling} is not supported yet ({topic})")
    _check_conflicts(occurrences)

    for index, name in enumerate(_PARAMETERS):
        if len(operands) <= index:
            raise UsageError(f"missing parameter {name[0]}")

    namespace = build_parser().parse_args(_for_argparse(occurrences))
    parsed = vars(namespace)
    # The row that set a destination last decides how its value converts
    # (-ll's argument versus -v's constant share "log_level").
    last: dict[str, _Occurrence] = {}
    for occ in occurrences:
        if occ.spec.dest is not None:
            last[occ.spec.dest] = occ
    values: dict[str, Any] = {}
    for dest, occ in last.items():
        if dest not in _FIELDS:
            raise AssertionError(f"{occ.spec.long}: dest {dest!r} is not an Options field")
        value = parsed[dest]
        values[dest] = _convert(occ, value) if occ.spec.args else value

    # The seed manual's +v means "verbose and show contexts"; DCMTK 3.6.7 refuses
    # +v without -v. We follow the manual unless a level was given explicitly.
    if values.get("show_contexts") and "log_level" not in values:
        values["log_level"] = "info"

    peer, port_text, *files = operands
    if not peer:
        raise UsageError("invalid value for parameter peer: '' (empty host name)")
    return Options(
        peer=peer,
        port=_parse_port(port_text),
        files=tuple(files),
        args_expanded=tuple(expanded),
        **values,
    )


def _for_argparse(occurrences: Iterable[_Occurrence]) -> list[str]:
    words = []
    for occ in occurrences:
        if occ.values:
            # The leading separator keeps argparse from seeing a bare "--"
            # value, which it would drop as an end-of-options marker.
            words.append(f"{occ.spec.long}={_SEP}{_SEP.join(occ.values)}")
        else:
            words.append(occ.spec.long)
    return words


# -------------------------------------------------------------------- help text

#: Long names start in this column, as in DCMTK's help; short names fill the gap.
_LONG_COLUMN: Final = 10
_NOT_YET: Final = "(not supported yet)"


def _render_help() -> str:
    description_column = _LONG_COLUMN + max(len(r.long) for r in OPTION_TABLE) + 2
    lines = [
        "storescu: send DICOM files to a storage SCP (C-STORE SCU)",
        "usage: storescu [options] peer port dcmfile-in...",
        "",
        "parameters:",
    ]
    lines += [f"  {name}".ljust(description_column) + text for name, text in _PARAMETERS]
    current_group = None
    for (group, subgroup), grouped in groupby(OPTION_TABLE, lambda r: (r.group, r.subgroup)):
        rows = list(grouped)
        if group != current_group:
            lines.append(f"{group}:")
            current_group = group
        indent = 2
        all_pending = all(r.pending_topic for r in rows)
        if subgroup:
            lines.append(f"  {subgroup}" + (f" {_NOT_YET}:" if all_pending else ":"))
            indent = 4
        for row in rows:
            text = ([row.arg_help] if row.arg_help else []) + row.help.split("\n")
            if row.pending_topic and not (subgroup and all_pending):
                text.append(_NOT_YET)
            head = " " * indent + (row.short or "").ljust(_LONG_COLUMN - indent) + row.long
            lines.append(head.ljust(description_column) + text[0])
            lines += [" " * description_column + t for t in text[1:]]
    lines += [
        "command files and operands:",
        "  @FILE   read more arguments from FILE (whitespace separates them,",
        "          quotes keep spaces)",
        "  --      end of options: later words are operands even if they",
        "          start with - or +",
        "",
    ]
    return "\n".join(lines) + "\n" + EXIT_CODES_TEXT


@lru_cache(maxsize=1)
def help_text() -> str:
    """The ``--help`` text: DCMTK layout, generated from the table, then the exit codes."""
    return _render_help()


def version_text() -> str:
    """The ``--version`` text: our version, then Python's and pydicom's."""
    try:
        # Imported here only: pydicom is slow to import and --version is rare.
        import pydicom

        pydicom_version = str(pydicom.__version__)
    except ImportError:
        pydicom_version = "not installed"
    python_version = sys.version.split()[0]
    return (
        f"storescu {__version__} (Python re-implementation of DCMTK storescu)\n"
        f"Python {python_version}\n"
        f"pydicom {pydicom_version}\n"
    )
