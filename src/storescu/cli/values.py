"""Option and operand values: the words of the command line turned into what Options holds.

Each row's ``kind`` (:class:`~storescu.cli.spec.OptionSpec`) says how its one
argument converts; rows with two arguments keep their words as a tuple. A bad
value is a :class:`~storescu.kernel.errors.UsageError` in DCMTK's wording
(``invalid value for option -pdu: 12 (allowed range 4096..131072)``).
"""

from __future__ import annotations

import re
from typing import Final

from storescu.cli.scanner import NUMBER, Occurrence
from storescu.cli.spec import INT32_MAX
from storescu.kernel.errors import UsageError
from storescu.protocol.dimse import PRIORITIES

__all__ = ["COMPLETION_SHELLS", "LOG_LEVELS", "bad_value", "convert", "parse_port"]

LOG_LEVELS: Final = ("fatal", "error", "warn", "info", "debug", "trace")
#: ``--completion SHELL`` (storescu.cli.completion writes the scripts).
COMPLETION_SHELLS: Final = ("bash", "zsh")

#: PS3.5 6.2: an AE title is at most 16 characters of the default repertoire.
_MAX_AE_TITLE: Final = 16

_INTEGER: Final = re.compile(r"[-+]?[0-9]+")


def _show(text: str) -> str:
    """`text` as an error message quotes it: bare, or ``repr`` if blank-edged or empty."""
    return text if text and text.strip() == text else repr(text)


def bad_value(occ: Occurrence, text: str, why: str) -> UsageError:
    """The usage error for a bad value `text` of option occurrence `occ`, saying `why`."""
    return UsageError(f"invalid value for option {occ.spelling}: {_show(text)} ({why})")


def convert(occ: Occurrence, raw: tuple[str, ...]) -> object:
    """Turn an option's raw argument(s) into the value its ``dest`` holds.

    Parameters
    ----------
    occ
        The occurrence whose row says how (``kind``, ``minimum``, ``maximum``).
    raw
        Its value words.

    Returns
    -------
    object
        The converted value; the words themselves for a row of two arguments.

    Raises
    ------
    UsageError
        The value is not of the row's kind or out of its range.
    """
    spec = occ.spec
    if len(spec.args) != 1:
        return raw
    (text,) = raw
    if spec.kind == "str":
        return text
    if spec.kind == "int":
        if not _INTEGER.fullmatch(text):
            raise bad_value(occ, text, "expected an integer")
        value = int(text)
        lo, hi = spec.minimum, spec.maximum
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            raise bad_value(occ, text, f"allowed range {lo}..{hi}")
        return value
    if spec.kind in ("timeout", "socket-timeout"):
        return _seconds(occ, text)
    if spec.kind == "priority":
        if text not in PRIORITIES:
            raise bad_value(occ, text, "expected one of " + ", ".join(PRIORITIES))
        return text
    if spec.kind == "compress":
        from storescu.run.compressing import CHOICES

        if text not in CHOICES:
            raise bad_value(occ, text, "expected one of " + ", ".join(CHOICES))
        return text
    if spec.kind == "level":
        if text not in LOG_LEVELS:
            raise bad_value(occ, text, "expected one of " + ", ".join(LOG_LEVELS))
        return text
    if spec.kind == "aetitle":
        # PS3.5 6.2 (AE): 16 characters at most, default repertoire without
        # control characters or backslash; spaces only are not a title.
        if not text.strip(" "):
            raise bad_value(occ, text, "an AE title must not be empty")
        if len(text) > _MAX_AE_TITLE:
            raise bad_value(occ, text, f"an AE title has at most {_MAX_AE_TITLE} characters")
        if any(not (" " <= ch <= "~") or ch == "\\" for ch in text):
            raise bad_value(occ, text, "an AE title allows printable ASCII except backslash")
        return text
    if spec.kind in ("override", "uid-suffix", "uid-root"):
        return _rewrite_value(occ, text)
    raise AssertionError(f"unknown kind {spec.kind!r} in the option table")


def _seconds(occ: Occurrence, text: str) -> float | None:
    if not NUMBER.fullmatch(text):
        raise bad_value(occ, text, "expected a number of seconds")
    seconds = float(text)
    if occ.spec.kind == "socket-timeout":
        # DCMTK: 0 disables the socket timeout and -1 leaves it unset; both
        # mean "wait forever", which the drivers spell None.
        if seconds < -1 or seconds > INT32_MAX:
            raise bad_value(occ, text, f"allowed range -1..{INT32_MAX}, 0 or -1 for none")
        return None if seconds <= 0 else seconds
    if seconds <= 0 or seconds > INT32_MAX:
        raise bad_value(occ, text, f"must be greater than 0 and at most {INT32_MAX}")
    return seconds


def _rewrite_value(occ: Occurrence, text: str) -> object:
    # Loaded only here: checking -s values against the data dictionary
    # imports pydicom, which runs without these options never do.
    from storescu.dataset import rewrite

    try:
        if occ.spec.kind == "override":
            return rewrite.parse_override(text)
        if occ.spec.kind == "uid-suffix":
            return rewrite.validate_uid_suffix(text)
        return rewrite.normalize_uid_root(text)
    except UsageError as exc:
        raise bad_value(occ, text, str(exc)) from None


def parse_port(text: str) -> int:
    """The port operand, 1..65535 (raises :class:`~storescu.kernel.errors.UsageError`)."""
    port = int(text) if _INTEGER.fullmatch(text) else 0
    if not 1 <= port <= 65535:
        raise UsageError(
            f"invalid value for parameter port: {_show(text)} (allowed range 1..65535)"
        )
    return port
