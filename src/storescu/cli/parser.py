"""The DCMTK-compatible command line parsed into :class:`~storescu.cli.options.Options`.

Theory of operation
-------------------
:func:`parse_args` runs in steps, each in a module of its own:

1. :func:`~storescu.cli.scanner.scan` walks argv with the option table
   (:mod:`storescu.cli.table`): option occurrences and operands, ``@file``
   expanded, ``--`` honoured.
2. ``--help``, ``--version``, ``+ph`` and ``+cc`` win over every later check and
   return an :class:`~storescu.cli.options.InfoRequest`.
3. Pending options are refused, the rows' conflicts checked, missing operands
   reported.
4. Each destination takes the value of the last occurrence that sets it (a
   ``+x``/``-x`` pair shares one destination, so the last one wins, as in
   DCMTK), converted by :mod:`storescu.cli.values`; ``multiple`` rows collect
   all of theirs.
5. :mod:`storescu.cli.rules` checks DCMTK's dependencies between options.

Errors never print or exit: they raise ``UsageError`` with DCMTK-like wording.
Importing this module is cheap (no pydicom, no argparse): :func:`build_parser`,
argparse's view of the same table, is built on first use and only as a
cross-check.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Final, NoReturn

from storescu.cli import rules
from storescu.cli.helptext import help_text, version_text
from storescu.cli.options import InfoRequest, Options, ParseResult
from storescu.cli.scanner import Occurrence, scan
from storescu.cli.table import OPTION_TABLE, PARAMETERS
from storescu.cli.values import COMPLETION_SHELLS, bad_value, convert, parse_port
from storescu.kernel.errors import UsageError

if TYPE_CHECKING:
    import argparse

__all__ = ["build_parser", "parse_args"]

_FIELDS: Final = frozenset(Options.fields())


def parse_args(argv: Sequence[str]) -> ParseResult:
    """Parse the command line (without the program name).

    Parameters
    ----------
    argv
        The words after the program name, as the shell passed them.

    Returns
    -------
    Options or InfoRequest
        :class:`~storescu.cli.options.Options`, or an
        :class:`~storescu.cli.options.InfoRequest` for ``--help``,
        ``--version``, ``+ph``, ``+cc`` or an empty command line (DCMTK prints
        its help then).

    Raises
    ------
    UsageError
        Anything else that is wrong, including options whose feature is not
        implemented yet.
    """
    if not argv:
        return InfoRequest("help", help_text())
    occurrences, operands, expanded = scan(argv)

    # Like DCMTK, --help and --version win over every later check (but not
    # over words that could not be read at all, reported by scan).
    used = {occ.spec.long for occ in occurrences}
    if "--help" in used:
        return InfoRequest("help", help_text())
    if "--version" in used:
        return InfoRequest("version", version_text())
    if "--completion" in used:
        occ = [o for o in occurrences if o.spec.long == "--completion"][-1]
        if occ.values[0] not in COMPLETION_SHELLS:
            raise bad_value(occ, occ.values[0], "expected one of " + ", ".join(COMPLETION_SHELLS))
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
    rules.check_conflicts(occurrences)

    # --echo needs no files; --probe uses them when given; --file-list names them.
    # --commit-check sends nothing: it reads the instances from a report.
    needed = 2 if used & {"--echo", "--probe", "--file-list", "--commit-check"} else len(PARAMETERS)
    for index, name in enumerate(PARAMETERS[:needed]):
        if len(operands) <= index:
            raise UsageError(f"missing parameter {name[0]}")

    values = _values(occurrences)
    rules.check_tls(occurrences, values)
    rules.check_scanning(occurrences, values)
    rules.check_syntaxes(occurrences, values)
    rules.check_commitment(occurrences, values)
    rules.check_cluster(occurrences, values)

    # The seed manual's +v means "verbose and show contexts"; DCMTK 3.6.7 refuses
    # +v without -v. We follow the manual unless a level was given explicitly.
    if values.get("show_contexts") and "log_level" not in values:
        values["log_level"] = "info"

    peer, port_text, *files = operands
    if not peer:
        raise UsageError("invalid value for parameter peer: '' (empty host name)")
    return Options(
        peer=peer,
        port=parse_port(port_text),
        files=tuple(files),
        args_expanded=tuple(expanded),
        **values,
    )


def _values(occurrences: Sequence[Occurrence]) -> dict[str, Any]:
    """The converted value of every destination the command line sets."""
    # The row that set a destination last decides how its value converts
    # (-ll's argument versus -v's constant share "log_level").
    last: dict[str, Occurrence] = {}
    for occ in occurrences:
        if occ.spec.dest is not None:
            last[occ.spec.dest] = occ
    values: dict[str, Any] = {}
    for dest, occ in last.items():
        if dest not in _FIELDS:
            raise AssertionError(f"{occ.spec.long}: dest {dest!r} is not an Options field")
        # The last occurrence decides (a +x/-x pair shares one destination, the
        # last one wins, as in DCMTK): its converted values, or its constant.
        values[dest] = convert(occ, occ.values) if occ.spec.args else occ.spec.const
        if occ.spec.multiple:
            values[dest] = tuple(convert(o, o.values) for o in occurrences if o.spec.dest == dest)
    return values


# Joins (and precedes) the values of an option inside one ``--long=...`` word for
# argparse; NUL cannot occur in a POSIX argument, so the split is unambiguous.
_SEP: Final = "\0"


def _split_values(word: str) -> tuple[str, ...]:
    return tuple(word.split(_SEP)[1:])


@lru_cache(maxsize=1)
def build_parser() -> argparse.ArgumentParser:
    """Return an argparse parser generated from the option table (built once).

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
