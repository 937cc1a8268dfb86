"""The DCMTK-compatible command line: the option table, parsed into :class:`Options`.

The table is :data:`storescu.cli.table.OPTION_TABLE`, one module per topic; its
rows are :class:`~storescu.cli.spec.OptionSpec`.

Theory of operation
-------------------
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
import sys
from collections import deque
from collections.abc import Sequence
from functools import lru_cache
from itertools import groupby
from typing import TYPE_CHECKING, Any, Final, Literal, NoReturn, TypeAlias

from storescu.cli.exitcodes import EXIT_CODES_TEXT
from storescu.cli.spec import INT32_MAX, TLS_GROUP, OptionSpec
from storescu.cli.table import OPTION_TABLE, PARAMETERS
from storescu.kernel.constants import (
    DEFAULT_CALLED_AET,
    DEFAULT_CALLING_AET,
    DEFAULT_MAX_PDU,
)
from storescu.kernel.errors import UsageError
from storescu.kernel.version import __version__

if TYPE_CHECKING:
    import argparse

    from storescu.dataset.rewrite import Override

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
    """``--help``, ``--version``, ``+ph`` or ``+cc`` (or no arguments): print ``text``, exit 0."""

    __slots__ = ("kind", "text")

    def __init__(self, kind: Literal["help", "version", "profiles", "ciphers"], text: str) -> None:
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


_BY_SPELLING: Final[dict[str, OptionSpec]] = {s: r for r in OPTION_TABLE for s in r.spellings}

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
            if seconds < -1 or seconds > INT32_MAX:
                raise _bad(occ, text, f"allowed range -1..{INT32_MAX}, 0 or -1 for none")
            return None if seconds <= 0 else seconds
        if seconds <= 0 or seconds > INT32_MAX:
            raise _bad(occ, text, f"must be greater than 0 and at most {INT32_MAX}")
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
    needed = 2 if used & {"--echo", "--probe", "--file-list"} else len(PARAMETERS)
    for index, name in enumerate(PARAMETERS[:needed]):
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
        if spec.group != TLS_GROUP or spec.long in ("--disable-tls", "--enable-tls"):
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
    lines += [f"  {name}".ljust(description_column) + text for name, text in PARAMETERS]
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
