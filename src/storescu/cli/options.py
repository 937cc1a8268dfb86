"""The DCMTK-compatible command line: a declarative option table, parsed into :class:`Options`.

Theory of operation
-------------------
:data:`OPTION_TABLE` lists every option of the seed manual, of DCMTK 3.6.7 and of
DCMTK 3.7, one frozen :class:`OptionSpec` row each: spellings, arguments, the
:class:`Options` field it sets (``dest``) and the value it stores, help text, and a
``status``. Options whose feature belongs to a later issue are ``"pending:<topic>"``:
they parse with their real arity (so the rest of the line is read correctly) and
are then refused with a :class:`~storescu.kernel.errors.UsageError`, never ignored.
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

import os
import re
from collections import deque
from collections.abc import Sequence
from functools import lru_cache
from itertools import groupby
from typing import TYPE_CHECKING, Any, Final, Literal, NoReturn, TypeAlias

from storescu.cli.exitcodes import EXIT_CODES_TEXT
from storescu.kernel.constants import (
    DEFAULT_CALLED_AET,
    DEFAULT_CALLING_AET,
    DEFAULT_MAX_PDU,
    MAX_MAX_PDU,
    MIN_MAX_PDU,
)
from storescu.kernel.errors import UsageError

if TYPE_CHECKING:
    import argparse

    from storescu.dataset.rewrite import Override

__all__ = [
    "COMPLETION_SHELLS",
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
#: ``--completion SHELL`` (storescu.cli.completion writes the scripts).
COMPLETION_SHELLS: Final = ("bash", "zsh")

#: PS3.5 6.2: an AE title is at most 16 characters of the default repertoire.
_MAX_AE_TITLE: Final = 16
#: DCMTK keeps option numbers in a signed 32-bit integer; larger values also
#: overflow the socket layer's timeval.
_INT32_MAX: Final = 2**31 - 1


# ------------------------------------------------------------------------ results


class Options:
    """Everything the command line asked for, validated. Built by :func:`parse_args`.

    Frozen. A plain class, not a dataclass: a dataclass of a hundred fields
    compiles its generated methods at every start (about 5 ms of the ~40 ms
    a one-file run may take); these are compiled once, into the bytecode cache.
    :meth:`fields` and :meth:`replace` stand in for :mod:`dataclasses`' own.
    """

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
    # Transfer syntaxes (kernel.syntaxes, dataset.conversion, run.asconfig).
    config_file: tuple[str, str] | None = None  # -xf FILE PROFILE
    compression_level: int | None = None  # +cl
    new_vrs: bool = True  # +u / -u
    decompress: str = "lossless"  # +dls / +dly / -dn
    decompress_limit: int | None = None  # MiB
    propose_file_syntaxes: bool = True  # +fs / -fs
    propose_file_classes: bool = False  # +fc / -fc
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
    # TLS (PS3.15 Annex B); storescu.net.tls.TlsOptions has the meaning of each.
    tls: str = "off"  # "off" (-tls), "auth" (+tls KEY CERT), "anonymous" (+tla)
    tls_key_file: str | None = None
    tls_cert_file: str | None = None
    tls_password: str | None = None  # None: +ps (ask on a terminal)
    tls_der: bool = False
    tls_ca_files: tuple[str, ...] = ()
    tls_ca_dirs: tuple[str, ...] = ()
    tls_crl_files: tuple[str, ...] = ()
    tls_crl: str = "none"  # "leaf" (+crv), "all" (+cra)
    tls_profile: str = "8996"
    tls_cipher_suites: tuple[str, ...] = ()
    tls_dhparam: str | None = None
    tls_seed_file: str | None = None
    tls_write_seed_file: str | None = None
    tls_verify_peer: str = "require"
    tls_sni: str | None = None
    tls_check_hostname: bool = False
    args_expanded: tuple[str, ...] = ()
    print_arguments: bool = False
    ip_version: str = "ipv4"
    user: str | None = None
    password: str | None = None
    empty_password: bool = False
    kerberos_file: str | None = None
    saml_file: str | None = None
    jwt_file: str | None = None
    positive_response: bool = False
    retries: int = 0
    retry_delay: float = 1.0
    resend_unknown: bool = False
    parallel: int = 1  # -P: associations at once (storescu.run.parallel)
    echo: bool = False
    probe: bool = False
    # Dataset rewriting; storescu.dataset.rewrite.RewriteOptions has the meaning of each.
    invent_instance: bool = False
    invent_series: int | None = None
    invent_study: int | None = None
    invent_patient: int | None = None
    uid_padding: bool = False
    overrides: tuple[Override, ...] = ()
    uid_suffix: str | None = None
    uid_root: str | None = None
    # Inputs, report, resuming, progress (storescu.run.inputs, storescu.run.report).
    scan_directories: bool = False
    scan_pattern: str | None = None
    recurse: bool = False
    rename: bool = False
    file_list: str | None = None
    skip_sent: tuple[str, ...] = ()
    report: str | None = None
    progress: str = "auto"  # "on" (--progress), "off" (--no-progress)

    def __init__(self, peer: str, port: int, files: tuple[str, ...], **values: Any) -> None:
        unknown = set(values) - _FIELDS
        if unknown:
            raise TypeError(f"unknown Options field(s): {', '.join(sorted(unknown))}")
        store = object.__setattr__
        store(self, "peer", peer)
        store(self, "port", port)
        store(self, "files", files)
        for name, value in values.items():
            store(self, name, value)  # the others keep the class defaults

    @classmethod
    def fields(cls) -> tuple[str, ...]:
        """The field names, in declaration order."""
        return _FIELD_ORDER

    def replace(self, **changes: Any) -> Options:
        """A copy with `changes` (as :func:`dataclasses.replace`)."""
        values = {name: getattr(self, name) for name in _FIELD_ORDER}
        values.update(changes)
        peer, port, files = values.pop("peer"), values.pop("port"), values.pop("files")
        return Options(peer, port, files, **values)

    def _key(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in _FIELD_ORDER)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Options):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in _FIELD_ORDER)
        return f"Options({shown})"

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"cannot assign to field {name!r}: Options is frozen")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r}: Options is frozen")


# Under ``from __future__ import annotations`` these are the names, in order.
_FIELD_ORDER: Final[tuple[str, ...]] = tuple(Options.__annotations__)
_FIELDS: Final = frozenset(_FIELD_ORDER)


class InfoRequest:
    """``--help``, ``--version``, ``--completion``, ``+ph`` or ``+cc`` (or no arguments).

    Print ``text``, exit 0. For ``completion``, ``text`` names the shell and
    :func:`storescu.cli.main.main` prints that shell's script.
    """

    __slots__ = ("kind", "text")

    def __init__(
        self, kind: Literal["help", "version", "completion", "profiles", "ciphers"], text: str
    ) -> None:
        self.kind = kind
        self.text = text

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, InfoRequest):
            return NotImplemented
        return (self.kind, self.text) == (other.kind, other.text)

    def __hash__(self) -> int:
        return hash((self.kind, self.text))

    def __repr__(self) -> str:
        return f"InfoRequest(kind={self.kind!r}, text=<{len(self.text)} characters>)"


ParseResult: TypeAlias = Options | InfoRequest


# -------------------------------------------------------------------- the table


class OptionSpec:
    """One row of the option table.

    ``kind`` says how a single argument converts: ``str``, ``int`` (within
    ``minimum``..``maximum``), ``aetitle``, ``level`` (a log level), ``timeout``
    (seconds > 0) or ``socket-timeout`` (seconds; 0 or -1 mean none).
    ``conflicts`` names long options this one may not be combined with.
    ``multiple``: every occurrence counts (``+cf A +cf B``); the destination
    holds a tuple of the values in order instead of the last one.

    A plain class with slots (not a dataclass, for start-up time, as
    :class:`Options`); treat it as frozen and use :meth:`replace`.
    """

    __slots__ = (
        "arg_help",
        "args",
        "conflicts",
        "const",
        "dest",
        "group",
        "help",
        "kind",
        "long",
        "maximum",
        "minimum",
        "multiple",
        "short",
        "status",
        "subgroup",
    )

    def __init__(
        self,
        short: str | None,
        long: str,
        help: str,
        dest: str | None = None,
        const: object = True,
        args: tuple[str, ...] = (),
        arg_help: str = "",
        kind: str = "str",
        minimum: int | None = None,
        maximum: int | None = None,
        conflicts: tuple[str, ...] = (),
        multiple: bool = False,
        status: str = "supported",
        group: str = "",
        subgroup: str = "",
    ) -> None:
        self.short = short
        self.long = long
        self.help = help
        self.dest = dest
        self.const = const
        self.args = args
        self.arg_help = arg_help
        self.kind = kind
        self.minimum = minimum
        self.maximum = maximum
        self.conflicts = conflicts
        self.multiple = multiple
        self.status = status
        self.group = group
        self.subgroup = subgroup
        # Catch table typos at import time rather than as odd parses later.
        if not long.startswith("--"):
            raise ValueError(f"{long}: long names start with --")
        if short is not None and short[:1] not in "-+":
            raise ValueError(f"{short}: short names start with - or +")
        if status != "supported" and not status.startswith("pending:"):
            raise ValueError(f"{long}: bad status {status!r}")
        if args and not arg_help:
            raise ValueError(f"{long}: an option with arguments needs arg_help")

    def replace(self, **changes: Any) -> OptionSpec:
        """A copy with `changes` (as :func:`dataclasses.replace`)."""
        values = {name: getattr(self, name) for name in self.__slots__}
        values.update(changes)
        return OptionSpec(**values)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, OptionSpec):
            return NotImplemented
        return all(getattr(self, name) == getattr(other, name) for name in self.__slots__)

    def __hash__(self) -> int:
        return hash((self.short, self.long))

    def __repr__(self) -> str:
        return f"OptionSpec({self.short!r}, {self.long!r}, status={self.status!r})"

    @property
    def spellings(self) -> tuple[str, ...]:
        return (self.short, self.long) if self.short else (self.long,)

    @property
    def pending_topic(self) -> str | None:
        """The later issue that brings this option, or None when it works now."""
        return self.status.partition(":")[2] if self.status.startswith("pending:") else None


def _in(group: str, subgroup: str, *rows: OptionSpec) -> tuple[OptionSpec, ...]:
    for row in rows:  # the rows are made for this table only: set in place
        row.group, row.subgroup = group, subgroup
    return rows


def _pending(topic: str, *rows: OptionSpec) -> tuple[OptionSpec, ...]:
    for row in rows:
        row.status = f"pending:{topic}"
    return rows


_GENERAL: Final = "general options"
_INPUT: Final = "input options"
_OUTPUT: Final = "output options"
_NETWORK: Final = "network options"
_TLS_GROUP: Final = "transport layer security (TLS) options"

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
        _O(
            None,
            "--completion",
            "print the shell completion script and exit",
            args=("SHELL",),
            arg_help="SHELL: bash, zsh",
        ),
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
        _O(
            "+sd",
            "--scan-directories",
            "send the files inside directory arguments\n(names sorted; without +sd a directory\n"
            "is skipped with a warning)",
            "scan_directories",
        ),
        _O(
            "+sp",
            "--scan-pattern",
            "send only file names matching PATTERN",
            "scan_pattern",
            args=("PATTERN",),
            arg_help="PATTERN: wildcards * ? [...] (only with +sd)",
        ),
        _O("-r", "--no-recurse", "stay out of subdirectories (default)", "recurse", False),
        _O("+r", "--recurse", "descend into subdirectories (only with +sd)", "recurse"),
        _O("-rn", "--no-rename", "leave processed files alone (default)", "rename", False),
        _O("+rn", "--rename", "rename processed files to NAME.done/.bad", "rename"),
        _O(
            None,
            "--file-list",
            "also send the files listed in FILE, one path\nper line (DICOMDIRs and, "
            "with +sd,\ndirectories too)",
            "file_list",
            args=("FILE",),
            arg_help="FILE: file name, - for stdin",
        ),
        _O(
            None,
            "--skip-sent",
            "skip files that REPORT records as stored\n(resume; may be given more than once)",
            "skip_sent",
            args=("REPORT",),
            arg_help="REPORT: a --report file",
            multiple=True,
        ),
    ),
    *_in(
        _OUTPUT,
        "per-file report and progress",
        _O(
            None,
            "--report",
            "write one line per file and send to FILE:\nJSON Lines, or CSV if FILE ends in .csv",
            "report",
            args=("FILE",),
            arg_help="FILE: file name",
        ),
        _O(
            None,
            "--progress",
            "show a progress line on stderr even if it\nis not a terminal",
            "progress",
            "on",
        ),
        _O(
            None,
            "--no-progress",
            "no progress line (default: one when stderr\nis a terminal, not with -q)",
            "progress",
            "off",
        ),
    ),
    *_in(
        _NETWORK,
        "IP protocol version",
        _O("-i4", "--ipv4", "connect over IPv4 only (default)", "ip_version", "ipv4"),
        _O("-i6", "--ipv6", "connect over IPv6 only", "ip_version", "ipv6"),
        _O("-i0", "--ip-auto", "use what the host name resolves to", "ip_version", "auto"),
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
        _O(
            "-xf",
            "--config-file",
            "propose the contexts of PROFILE in FILE\n(not with -x?, -R, +C)",
            "config_file",
            args=("FILE", "PROFILE"),
            arg_help="FILE PROFILE: DCMTK asconfig file, name",
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
    *_in(
        _NETWORK,
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
            "also propose the files' SOP classes that\nthe built-in list lacks",
            "propose_file_classes",
        ),
        _O(
            "-fc",
            "--no-file-classes",
            "propose the built-in list only (default)",
            "propose_file_classes",
            False,
        ),
    ),
    *_in(
        _NETWORK,
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
    *_in(
        _NETWORK,
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
    *_in(
        _NETWORK,
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
    *_in(
        _NETWORK,
        "user identity negotiation",
        _O(
            "-usr",
            "--user",
            "authenticate as NAME",
            "user",
            args=("NAME",),
            arg_help="NAME: string",
        ),
        _O(
            "-pwd",
            "--password",
            "with PASSWORD",
            "password",
            args=("PASSWORD",),
            arg_help="PASSWORD: string (only with -usr)",
        ),
        _O("-epw", "--empty-password", "send an empty password (with -usr)", "empty_password"),
        _O(
            "-kt",
            "--kerberos",
            "send the Kerberos ticket in FILE",
            "kerberos_file",
            args=("FILE",),
            arg_help="FILE: file name",
        ),
        _O(
            None,
            "--saml",
            "send the SAML assertion in FILE",
            "saml_file",
            args=("FILE",),
            arg_help="FILE: file name",
        ),
        _O(
            None,
            "--jwt",
            "send the JSON web token in FILE",
            "jwt_file",
            args=("FILE",),
            arg_help="FILE: file name",
        ),
        _O(
            "-rsp",
            "--pos-response",
            "require the peer to confirm the identity",
            "positive_response",
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
        _O(
            None,
            "--retry",
            "retry transient failures N times (default:\n0): refused/reset connections, rejected-\n"
            "transient, A7xx, requests not fully sent",
            "retries",
            args=("N",),
            arg_help="N: integer 0..100",
            kind="int",
            minimum=0,
            maximum=100,
        ),
        _O(
            None,
            "--retry-delay",
            "first back-off delay, doubled per retry\n(at most 30 s; default: 1)",
            "retry_delay",
            args=("SECONDS",),
            arg_help="SECONDS: number > 0",
            kind="timeout",
        ),
        _O(
            None,
            "--resend-unknown",
            "with --retry, also resend a file whose\n"
            "outcome is unknown (lost while awaiting\nits response)",
            "resend_unknown",
        ),
        _O(
            "-P",
            "--parallel",
            "send over N associations at once (default:\n"
            "1; DCMTK has no such option): reports stay\n"
            "in input order; halting stops handing out\n"
            "files, the stores under way finish",
            "parallel",
            args=("N",),
            arg_help="N: integer 1..64",
            kind="int",
            minimum=1,
            maximum=64,
        ),
        _O(None, "--echo", "only verify the peer with C-ECHO (no files)", "echo"),
        _O(
            None,
            "--probe",
            "only list the SOP classes and transfer\n"
            "syntaxes the peer accepts (for the given\n"
            "files or the built-in list); sends no data",
            "probe",
        ),
        _O("-up", "--uid-padding", "silently fix UIDs padded with spaces", "uid_padding"),
        _O(
            "+II",
            "--invent-instance",
            "invent a new SOP instance UID (and patient,\nstudy, series) for every file sent",
            "invent_instance",
        ),
        _O(
            "+IR",
            "--invent-series",
            "new series UID after N files (default: 100)",
            "invent_series",
            args=("N",),
            arg_help="N: integer >= 1 (implies +II)",
            kind="int",
            minimum=1,
            maximum=_INT32_MAX,
        ),
        _O(
            "+IS",
            "--invent-study",
            "new study UID after N series (default: 50)",
            "invent_study",
            args=("N",),
            arg_help="N: integer >= 1 (implies +II)",
            kind="int",
            minimum=1,
            maximum=_INT32_MAX,
        ),
        _O(
            "+IP",
            "--invent-patient",
            "new patient ID and name after N studies\n(default: 25)",
            "invent_patient",
            args=("N",),
            arg_help="N: integer >= 1 (implies +II)",
            kind="int",
            minimum=1,
            maximum=_INT32_MAX,
        ),
    ),
    *_in(
        _NETWORK,
        "dataset rewriting (beyond DCMTK, as dcm4che)",
        _O(
            "-s",
            "--set",
            "set or add an attribute in every dataset\n"
            "sent (repeatable); TAG: keyword, (gggg,eeee),\n"
            "ggggeeee or a path: 00400275[0].00400009",
            "overrides",
            args=("TAG=VALUE",),
            arg_help="TAG=VALUE: values separated by \\",
            kind="override",
            multiple=True,
        ),
        _O(
            None,
            "--uid-suffix",
            "append SUFFIX to the study, series and SOP\ninstance UIDs",
            "uid_suffix",
            args=("SUFFIX",),
            arg_help="SUFFIX: digits and dots, e.g. .1",
            kind="uid-suffix",
        ),
        _O(
            None,
            "--uid-root",
            "root of invented UIDs (default: pydicom's\n1.2.826.0.1.3680043.8.498.)",
            "uid_root",
            args=("ROOT",),
            arg_help="ROOT: UID prefix, at most 43 characters",
            kind="uid-root",
        ),
    ),
    *_in(
        _TLS_GROUP,
        "transport protocol stack",
        _O("-tls", "--disable-tls", "plain TCP (default)", "tls", "off"),
        _O(
            "+tls",
            "--enable-tls",
            "TLS, authenticated with KEY and CERT",
            "tls",
            args=("KEY", "CERT"),
            arg_help="KEY CERT: private key and certificate files",
        ),
        _O("+tla", "--anonymous-tls", "TLS without a client certificate", "tls", "anonymous"),
    ),
    *_in(
        _TLS_GROUP,
        "private key password (only with +tls)",
        _O(
            "+ps",
            "--std-passwd",
            "ask on the terminal if the key is encrypted\n(default; fails at once without one)",
            "tls_password",
            None,
        ),
        _O(
            "+pw",
            "--use-passwd",
            "use PASSWORD",
            "tls_password",
            args=("PASSWORD",),
            arg_help="PASSWORD: string",
        ),
        _O("-pw", "--null-passwd", "use an empty password", "tls_password", ""),
    ),
    *_in(
        _TLS_GROUP,
        "key and certificate file format",
        _O("-pem", "--pem-keys", "PEM files (default)", "tls_der", False),
        _O("-der", "--der-keys", "DER files (key, certificates, CAs, CRLs)", "tls_der"),
    ),
    *_in(
        _TLS_GROUP,
        "certification authority",
        _O(
            "+cf",
            "--add-cert-file",
            "trust the certificate in FILE (repeatable)",
            "tls_ca_files",
            args=("FILE",),
            arg_help="FILE: certificate file",
            multiple=True,
        ),
        _O(
            "+cd",
            "--add-cert-dir",
            "trust the certificates in DIR (repeatable)",
            "tls_ca_dirs",
            args=("DIR",),
            arg_help="DIR: hashed directory (openssl rehash DIR)",
            multiple=True,
        ),
        _O(
            "+crl",
            "--add-crl-file",
            "add a revocation list (implies +crv)",
            "tls_crl_files",
            args=("FILE",),
            arg_help="FILE: CRL file",
            multiple=True,
        ),
        _O(
            "+crv", "--enable-crl-vfy", "check the peer certificate against CRLs", "tls_crl", "leaf"
        ),
        _O("+cra", "--enable-crl-all", "check the whole chain against CRLs", "tls_crl", "all"),
    ),
    *_in(
        _TLS_GROUP,
        "security profile",
        _O("+ph", "--list-profiles", "list the security profiles and exit"),
        _O("+pg", "--profile-8996", "BCP 195 RFC 8996 (default)", "tls_profile", "8996"),
        _O("+pm", "--profile-8996-mod", "modified BCP 195 RFC 8996", "tls_profile", "8996-mod"),
        _O(
            "+py",
            "--profile-bcp195-nd",
            "non-downgrading BCP 195 (retired; DCMTK\n3.6.7 default)",
            "tls_profile",
            "bcp195-nd",
        ),
        _O("+px", "--profile-bcp195", "BCP 195 (retired)", "tls_profile", "bcp195"),
        _O(
            "+pz",
            "--profile-bcp195-ex",
            "extended BCP 195, TLS 1.2 only (retired)",
            "tls_profile",
            "bcp195-ex",
        ),
        _O(
            "+pb",
            "--profile-basic",
            "basic, 3DES (retired; fails: OpenSSL 3\nhas no 3DES)",
            "tls_profile",
            "basic",
        ),
        _O("+pa", "--profile-aes", "AES (retired)", "tls_profile", "aes"),
        _O(
            "+pn",
            "--profile-null",
            "authenticated, unencrypted (retired)",
            "tls_profile",
            "null",
        ),
    ),
    *_in(
        _TLS_GROUP,
        "ciphersuite",
        _O("+cc", "--list-ciphers", "list the supported ciphersuites and exit"),
        _O(
            "+cs",
            "--cipher",
            "also offer ciphersuite NAME (TLS <= 1.2;\nnot with +pz or +pm; repeatable)",
            "tls_cipher_suites",
            args=("NAME",),
            arg_help="NAME: IANA (as +cc lists) or OpenSSL name",
            multiple=True,
        ),
        _O(
            "+dp",
            "--dhparam",
            "accepted and ignored: DH parameters are\nthe server's choice (DCMTK 3.6.4\nremoved "
            "it from storescu)",
            "tls_dhparam",
            args=("FILE",),
            arg_help="FILE: DH parameter file",
        ),
    ),
    *_in(
        _TLS_GROUP,
        "server name indication",
        _O(None, "--no-sni", "send no server name (default)", "tls_sni", None),
        _O(
            None,
            "--request-sni",
            "send server name NAME (SNI)",
            "tls_sni",
            args=("NAME",),
            arg_help="NAME: host name",
            conflicts=("--no-sni",),
        ),
    ),
    *_in(
        _TLS_GROUP,
        "pseudo random generator (added to OpenSSL 3's own seeding)",
        _O(
            "+rs",
            "--seed",
            "mix FILE into the generator",
            "tls_seed_file",
            args=("FILE",),
            arg_help="FILE: seed file",
        ),
        _O(
            "+ws",
            "--write-seed",
            "write fresh random bytes back (with +rs)",
            "tls_write_seed_file",
        ),
        _O(
            "+wf",
            "--write-seed-file",
            "write fresh random bytes to FILE (with +rs)",
            "tls_write_seed_file",
            args=("FILE",),
            arg_help="FILE: seed file",
        ),
    ),
    *_in(
        _TLS_GROUP,
        "peer authentication",
        _O(
            "-rc",
            "--require-peer-cert",
            "verify the peer certificate (default)",
            "tls_verify_peer",
            "require",
        ),
        _O(
            "-vc",
            "--verify-peer-cert",
            "as -rc: a TLS server always sends a\ncertificate (DCMTK 3.6.4 removed it\n"
            "from storescu)",
            "tls_verify_peer",
            "verify",
        ),
        _O(
            "-ic",
            "--ignore-peer-cert",
            "do not verify the peer certificate",
            "tls_verify_peer",
            "ignore",
        ),
        _O(
            None,
            "--check-hostname",
            "also require that the server certificate\nmatches the host name (or the SNI name;\n"
            "not in DCMTK)",
            "tls_check_hostname",
        ),
    ),
)

_BY_SPELLING: Final[dict[str, OptionSpec]] = {s: r for r in OPTION_TABLE for s in r.spellings}

_PARAMETERS: Final = (
    ("peer", "host name or IP address of the storage SCP"),
    ("port", "its TCP port, 1..65535"),
    ("dcmfile-in", "DICOM files, DICOMDIRs or directories (+sd)"),
)

# Words that look like negative numbers are operands, not options (``-ts -1``
# gets its value that way, and a port of ``-1`` gets a range error).
_NUMBER: Final = re.compile(r"[-+]?[0-9]+(?:\.[0-9]+)?")
_INTEGER: Final = re.compile(r"[-+]?[0-9]+")

# Joins (and precedes) the values of an option inside one ``--long=...`` word for
# argparse; NUL cannot occur in a POSIX argument, so the split is unambiguous.
_SEP: Final = "\0"


# ----------------------------------------------------------------------- parsing


def _split_values(word: str) -> tuple[str, ...]:
    return tuple(word.split(_SEP)[1:])


@lru_cache(maxsize=1)
def build_parser() -> argparse.ArgumentParser:
    """Return an argparse parser generated from :data:`OPTION_TABLE` (built once).

    :func:`parse_args` does not use it any more (building it took about as
    long as a one-file run may take in all); it stays as a cross-check that
    argparse with ``prefix_chars="-+"`` accepts every spelling of the table.
    """
    import argparse

    class _Parser(argparse.ArgumentParser):
        """argparse that raises instead of printing and exiting."""

        def error(self, message: str) -> NoReturn:
            raise UsageError(message)

        def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
            raise UsageError(message or f"argument parser exited with status {status}")

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


class _Occurrence:
    __slots__ = ("spec", "spelling", "values")

    def __init__(self, spec: OptionSpec, spelling: str, values: tuple[str, ...]) -> None:
        self.spec = spec
        self.spelling = spelling
        self.values = values


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
    if spec.kind in ("override", "uid-suffix", "uid-root"):
        # Loaded only here: checking -s values against the data dictionary
        # imports pydicom, which runs without these options never do.
        from storescu.dataset import rewrite

        try:
            if spec.kind == "override":
                return rewrite.parse_override(text)
            if spec.kind == "uid-suffix":
                return rewrite.validate_uid_suffix(text)
            return rewrite.normalize_uid_root(text)
        except UsageError as exc:
            raise _bad(occ, text, str(exc)) from None
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


def parse_args(argv: Sequence[str]) -> ParseResult:
    """Parse the command line (without the program name).

    Returns :class:`Options`, or an :class:`InfoRequest` for ``--help``,
    ``--version`` or an empty command line (DCMTK prints its help then).
    Raises :class:`~storescu.kernel.errors.UsageError` for anything else that is wrong,
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
    if "--completion" in used:
        occ = [o for o in occurrences if o.spec.long == "--completion"][-1]
        if occ.values[0] not in COMPLETION_SHELLS:
            raise _bad(occ, occ.values[0], "expected one of " + ", ".join(COMPLETION_SHELLS))
        return InfoRequest("completion", occ.values[0])  # main() prints its script
    if used & {"--list-profiles", "--list-ciphers"}:
        from storescu.net import tls  # imports ssl: only when asked

        if "--list-profiles" in used:
            return InfoRequest("profiles", tls.profiles_text())
        return InfoRequest("ciphers", tls.ciphers_text())

    for occ in occurrences:
        topic = occ.spec.pending_topic
        if topic is not None:
            raise UsageError(f"option {occ.spelling} is not supported yet ({topic})")
    _check_conflicts(occurrences)

    # --echo needs no files; --probe uses them when given; --file-list names them.
    needed = 2 if used & {"--echo", "--probe", "--file-list"} else len(_PARAMETERS)
    for index, name in enumerate(_PARAMETERS[:needed]):
        if len(operands) <= index:
            raise UsageError(f"missing parameter {name[0]}")

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
        # The last occurrence decides (a +x/-x pair shares one destination, the
        # last one wins, as in DCMTK): its converted values, or its constant.
        values[dest] = _convert(occ, occ.values) if occ.spec.args else occ.spec.const
        if occ.spec.multiple:
            values[dest] = tuple(_convert(o, o.values) for o in occurrences if o.spec.dest == dest)
    _check_tls(occurrences, values)
    _check_scanning(occurrences, values)
    _check_syntaxes(occurrences, values)

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


def _check_syntaxes(occurrences: Sequence[_Occurrence], values: dict[str, Any]) -> None:
    """DCMTK: ``-xf`` not with another ``-x?``, ``-R``, ``+C``; ``+cl`` needs ``-xd`` or ``-xf``."""
    if "config_file" in values:
        for occ in occurrences:
            long = occ.spec.long
            if long in ("--required", "--combine") or (
                occ.spec.dest == "propose" and long != "--propose-uncompr"
            ):
                raise UsageError(f"option -xf not allowed with {occ.spelling}")
    if "compression_level" in values and not (
        values.get("propose") == "deflated" or "config_file" in values
    ):
        raise UsageError("option +cl only allowed with -xd or -xf")


def _check_scanning(occurrences: Sequence[_Occurrence], values: dict[str, Any]) -> None:
    """DCMTK: ``+sp`` and ``+r`` only with ``+sd``."""
    if values.get("scan_directories"):
        return
    for occ in reversed(occurrences):  # the last of +r/-r wins
        if (occ.spec.long == "--recurse" and values.get("recurse")) or (
            occ.spec.long == "--scan-pattern"
        ):
            raise UsageError(f"option {occ.spelling} only allowed with +sd (--scan-directories)")


_TLS_NEEDS_AUTH: Final = frozenset({"--std-passwd", "--use-passwd", "--null-passwd"})


def _check_tls(occurrences: Sequence[_Occurrence], values: dict[str, Any]) -> None:
    """DCMTK's TLS option dependencies; turn ``+tls KEY CERT`` into its fields."""
    mode = values.get("tls", "off")
    if isinstance(mode, tuple):
        values["tls"] = "auth"
        values["tls_key_file"], values["tls_cert_file"] = mode
    tls_long = "+tls or +tla"
    for occ in occurrences:
        spec = occ.spec
        if spec.group != _TLS_GROUP or spec.long in ("--disable-tls", "--enable-tls"):
            continue
        if spec.long == "--anonymous-tls":
            continue
        if spec.long in _TLS_NEEDS_AUTH and values.get("tls") != "auth":
            raise UsageError(f"option {occ.spelling} only allowed with +tls")
        if values.get("tls", "off") == "off":
            raise UsageError(f"option {occ.spelling} only allowed with {tls_long}")
        if spec.long in ("--write-seed", "--write-seed-file") and "tls_seed_file" not in values:
            raise UsageError(f"option {occ.spelling} only allowed with +rs")
    if values.get("tls_write_seed_file") is True:  # +ws: back into the +rs file
        values["tls_write_seed_file"] = values["tls_seed_file"]
    if values.get("tls_cipher_suites") and values.get("tls_profile") in ("bcp195-ex", "8996-mod"):
        profile = "+pz" if values["tls_profile"] == "bcp195-ex" else "+pm"
        raise UsageError(f"option +cs not allowed with {profile}")
    if values.get("tls_check_hostname") and values.get("tls_verify_peer") == "ignore":
        raise UsageError("option --check-hostname not allowed with -ic")


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
    """The ``--version`` text: ours, Python's, pydicom's, then the optional libraries."""
    from storescu.cli.versioninfo import version_text as text

    return text()
