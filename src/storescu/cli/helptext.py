"""The ``--help`` and ``--version`` texts.

``--help`` is generated from :data:`~storescu.cli.table.OPTION_TABLE` in DCMTK's
layout: groups and subgroups as headings (consecutive rows of one subgroup
share one), short names in front, long names in one column, then each row's
argument help and help text in the next; our exit codes close it. It is built
once, on first use.
"""

from __future__ import annotations

from functools import lru_cache
from itertools import groupby
from typing import Final

from storescu.cli.exitcodes import EXIT_CODES_TEXT
from storescu.cli.table import OPTION_TABLE, PARAMETERS

__all__ = ["help_text", "version_text"]

#: Long names start in this column, as in DCMTK's help; short names fill the gap.
_LONG_COLUMN: Final = 10
_NOT_YET: Final = "(not supported yet)"
#: The longest long name that keeps its description on its own line.
_MAX_LONG: Final = 22


def _render_help() -> str:
    # A long name past _MAX_LONG gets its description on the next lines
    # instead of pushing the column (and every line) past 79 characters.
    longest = min(max(len(r.long) for r in OPTION_TABLE), _MAX_LONG)
    description_column = _LONG_COLUMN + longest + 2
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
            if len(head) >= description_column - 1:
                lines.append(head)
                lines += [" " * description_column + t for t in text]
                continue
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
