"""Scanning argv with the option table: option occurrences and operands, ``@file`` expanded.

Theory of operation
-------------------
DCMTK's grammar is not argparse's. As in DCMTK, options may appear anywhere
(also between operands), spellings must match exactly (no abbreviations, no
``--long=value``), and an option's values are the next words *taken literally*
(``-aet -X`` sets the title ``-X``). Words that look like numbers are operands,
never options. ``@file`` in option position is replaced by the words of that
file (not recursively: DCMTK takes ``@x`` inside a command file literally);
``--`` (our addition: DCMTK 3.6.7 has none) makes every later word an operand.

The scanner only splits; :mod:`storescu.cli.values` converts what it found and
:mod:`storescu.cli.rules` checks the options against each other.
"""

from __future__ import annotations

import os
import re
from collections import deque
from collections.abc import Sequence
from typing import Final

from storescu.cli.spec import OptionSpec
from storescu.cli.table import OPTION_TABLE
from storescu.kernel.errors import UsageError

__all__ = ["NUMBER", "Occurrence", "scan", "split_command_file"]

_BY_SPELLING: Final[dict[str, OptionSpec]] = {s: r for r in OPTION_TABLE for s in r.spellings}

#: Words that look like negative numbers are operands, not options (``-ts -1``
#: gets its value that way, and a port of ``-1`` gets a range error).
NUMBER: Final = re.compile(r"[-+]?[0-9]+(?:\.[0-9]+)?")

# NUL cannot occur in a POSIX argument; a word with one comes from a command
# file or an API caller, and is refused rather than cut short somewhere later.
_NUL: Final = "\0"


class Occurrence:
    """One option as given: its row, the spelling used and its value words."""

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
    return len(word) > 1 and word[0] in "-+" and not NUMBER.fullmatch(word)


def scan(argv: Sequence[str]) -> tuple[list[Occurrence], list[str], list[str]]:
    """Split argv into option occurrences and operands, expanding ``@file``.

    Parameters
    ----------
    argv
        The command line without the program name.

    Returns
    -------
    tuple
        (occurrences, operands, expanded argv). Expansion happens only in
        option position and is not recursive (DCMTK takes ``@x`` inside a
        command file literally); option values are taken literally too.

    Raises
    ------
    UsageError
        An unknown option, a missing value, a NUL character, or a command file
        that cannot be read or has an unterminated quote.
    """
    queue: deque[tuple[str, bool]] = deque((word, True) for word in argv)
    occurrences: list[Occurrence] = []
    operands: list[str] = []
    expanded: list[str] = []
    options_ended = False
    while queue:
        word, expandable = queue.popleft()
        if _NUL in word:  # possible from a command file or an API caller, never from a shell
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
                if _NUL in value:
                    raise UsageError(f"argument contains a NUL character: {value!r}")
                values.append(value)
            expanded.extend(values)
            occurrences.append(Occurrence(spec, word, tuple(values)))
        else:
            operands.append(word)
    return occurrences, operands, expanded
