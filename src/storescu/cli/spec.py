"""One row of the option table (:class:`OptionSpec`) and the helpers the rows are written with.

The rows themselves live in :mod:`storescu.cli.table`, one module per topic;
the scanner, the value conversion and the rules read them. A row says how its
option is spelled, how many words it takes, which :class:`~storescu.cli.options.Options`
field it sets (``dest``) and with what, and where ``--help`` lists it (``group``
and ``subgroup``, set by :func:`in_group`).
"""

from __future__ import annotations

from typing import Any, Final

__all__ = [
    "GENERAL_GROUP",
    "INPUT_GROUP",
    "INT32_MAX",
    "NETWORK_GROUP",
    "OUTPUT_GROUP",
    "TLS_GROUP",
    "OptionSpec",
    "in_group",
    "pending",
]

#: The groups of DCMTK's ``--help``, in the order it lists them.
GENERAL_GROUP: Final = "general options"
INPUT_GROUP: Final = "input options"
OUTPUT_GROUP: Final = "output options"
NETWORK_GROUP: Final = "network options"
TLS_GROUP: Final = "transport layer security (TLS) options"

#: DCMTK keeps option numbers in a signed 32-bit integer; larger values also
#: overflow the socket layer's timeval.
INT32_MAX: Final = 2**31 - 1


class OptionSpec:
    """One row of the option table.

    ``kind`` says how a single argument converts (:func:`storescu.cli.values.convert`):
    ``str``, ``int`` (within ``minimum``..``maximum``), ``aetitle``, ``level`` (a log
    level), ``timeout`` (seconds > 0), ``socket-timeout`` (seconds; 0 or -1 mean
    none), or ``override``, ``uid-suffix`` and ``uid-root`` (checked by
    :mod:`storescu.dataset.rewrite`).
    ``conflicts`` names long options this one may not be combined with.
    ``multiple``: every occurrence counts (``+cf A +cf B``); the destination
    holds a tuple of the values in order instead of the last one.

    A plain class with slots (not a dataclass, for start-up time, as
    :class:`~storescu.cli.options.Options`); treat it as frozen and use :meth:`replace`.
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


def in_group(group: str, subgroup: str, *rows: OptionSpec) -> tuple[OptionSpec, ...]:
    """Place `rows` under `group` and `subgroup` of ``--help``; return them.

    Parameters
    ----------
    group, subgroup
        The headings ``--help`` lists the rows under (``subgroup`` may be empty).
    *rows
        Rows made for the table only: they are set in place.

    Returns
    -------
    tuple of OptionSpec
        The same rows, to splice into a topic's tuple.
    """
    for row in rows:
        row.group, row.subgroup = group, subgroup
    return rows


def pending(topic: str, *rows: OptionSpec) -> tuple[OptionSpec, ...]:
    """Mark `rows` as brought by the later issue `topic`; return them.

    They parse with their real arity (so the rest of the line is read
    correctly) and are then refused with a usage error, never ignored.
    """
    for row in rows:
        row.status = f"pending:{topic}"
    return rows
