"""The man pages ``storescu(1)`` and ``storescu-scp(1)``, generated from the option tables.

Plain ``man(7)`` macros, no date (the output depends on the code only, so a
test can regenerate it and compare bytes). The pages ship in the wheel under
``share/man/man1``, where pip and pipx install them for ``man`` to find.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from itertools import groupby
from typing import TYPE_CHECKING, Final

from storescu.kernel.version import __version__

if TYPE_CHECKING:
    from storescu.cli.docgen import OptionDoc

_HEADER: Final = (
    '.\\" Generated from the option table (python -m storescu.cli.generated --write);'
    " do not edit.\n"
)


def escape(text: str) -> str:
    """Text for a roff line: backslashes and hyphen-minus escaped, no leading control dot."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    return "\\&" + text if text[:1] in (".", "'") else text


def _bold(text: str) -> str:
    return f"\\fB{escape(text)}\\fR"


def _italic(text: str) -> str:
    return f"\\fI{escape(text)}\\fR"


def _option_head(option: OptionDoc) -> str:
    arguments = "".join(" " + _italic(arg) for arg in option.args)
    return ", ".join(_bold(spelling) + arguments for spelling in option.spellings)


def _origin_text(option: OptionDoc) -> str:
    from storescu.cli.docgen import DCMSEND, DCMTK, DCMTK_37, OURS

    parts = []
    if option.origin == OURS:
        parts.append("Not in DCMTK.")
    elif option.origin == DCMTK_37:
        parts.append("As DCMTK 3.7 storescu.")
    elif option.origin == DCMSEND:
        parts.append("As DCMTK dcmsend.")
    elif option.origin not in (DCMTK, "DCMTK storescp"):
        parts.append(f"{option.origin}.")
    if option.note:
        parts.append(option.note[0].upper() + option.note[1:] + ".")
    if option.pending:
        parts.append(f"Not supported yet ({option.pending}): refused.")
    return " ".join(parts)


def _options(options: Iterable[OptionDoc]) -> list[str]:
    lines: list[str] = []
    current = None
    for (group, subgroup), rows in groupby(options, lambda o: (o.group, o.subgroup)):
        if group != current:
            lines.append(f'.SS "{escape(group)}"')
            current = group
        if subgroup:
            lines += [".PP", _italic(subgroup + ":")]
        for option in rows:
            lines += [".TP", _option_head(option), escape(option.help)]
            if option.arg_help:
                lines += [".br", escape(option.arg_help)]
            extra = _origin_text(option)
            if extra:
                lines += [".br", escape(extra)]
    return lines


def _exit_codes() -> list[str]:
    from storescu.cli.exitcodes import EXIT_CODES_TEXT

    lines: list[str] = []
    for line in EXIT_CODES_TEXT.splitlines()[1:]:
        match = re.match(r"  (\S+)\s+(.*)", line)
        if match and not line.startswith("        "):
            lines += [".TP", _bold(match.group(1)), escape(match.group(2))]
        else:
            lines.append(escape(line.strip()))
    return lines


def _page(name: str, summary: str, body: list[str]) -> str:
    head = [
        _HEADER.rstrip("\n"),
        f'.TH {name.upper()} 1 "" "storescu {__version__}" "User Commands"',
        ".nh",  # no hyphenation: option names and UIDs must stay whole
        ".ad l",
        ".SH NAME",
        f"{escape(name)} \\- {escape(summary)}",
    ]
    return "\n".join(head + body) + "\n"


def storescu_page() -> str:
    """The text of ``storescu.1``."""
    from storescu.cli.docgen import sender_options

    body = [
        ".SH SYNOPSIS",
        f".B storescu\n[{_italic('options')}] {_italic('peer')} {_italic('port')} "
        f"{_italic('dcmfile-in')}...",
        ".br",
        f".B python \\-m storescu\n[{_italic('options')}] {_italic('peer')} "
        f"{_italic('port')} {_italic('dcmfile-in')}...",
        ".SH DESCRIPTION",
        escape(
            "storescu is a DICOM Storage SCU: it opens an association with a Storage SCP "
            "(a PACS, an archive, a workstation), sends each input file with C-STORE and "
            "waits for the peer's response status. It takes DCMTK storescu's command line "
            "(the same option spellings, the +x/-x pairs where the last one wins, @file "
            "command files), prints messages in DCMTK's form on stderr (I: info, W: warning, "
            "E: error, F: fatal) and exits with the codes below. Options marked "
            '"Not in DCMTK" are this program\'s own.'
        ),
        ".PP",
        escape(
            "When a file's transfer syntax was accepted by the peer, its bytes go from the "
            "disk to the socket without being decoded; otherwise the dataset is converted "
            "between the uncompressed syntaxes, deflated or decompressed, or, when it cannot "
            "be, reported as not sent before any byte of it goes out."
        ),
        ".SH PARAMETERS",
        ".TP",
        _italic("peer"),
        escape("host name or IP address of the storage SCP"),
        ".TP",
        _italic("port"),
        escape("its TCP port, 1..65535"),
        ".TP",
        _italic("dcmfile-in"),
        escape(
            "DICOM files, DICOMDIRs (replaced by the files they reference) or directories "
            "(with +sd)"
        ),
        ".SH OPTIONS",
        *_options(sender_options()),
        ".SH COMMAND FILES",
        ".TP",
        _bold("@FILE"),
        escape("read more arguments from FILE (whitespace separates them, quotes keep spaces)"),
        ".TP",
        _bold("--"),
        escape("end of options: later words are operands even if they start with - or +"),
        ".SH EXIT STATUS",
        *_exit_codes(),
        ".SH ENVIRONMENT",
        ".TP",
        _bold("DCMDICTPATH"),
        escape(
            "colon-separated DCMTK-format data dictionaries, added to pydicom's: private and "
            "newer tags print with names and can be named in -s overrides"
        ),
        ".SH NOTES",
        escape(
            "pynetdicom also installs a command named storescu; in an environment with both, "
            "the package installed last owns the name. storescu --version prints "
            '"storescu VERSION (Python re-implementation of DCMTK storescu)" for this one; '
            "python -m storescu always runs it."
        ),
        ".PP",
        escape(
            "The documentation (how-to guides, the report's columns, the Python API and the "
            "DICOM Conformance Statement) is in the docs folder of the source distribution."
        ),
        ".SH SEE ALSO",
        f"{_bold('storescu-scp')}(1), {_bold('storescp')}(1), {_bold('dcmsend')}(1)",
    ]
    return _page(
        "storescu", "send DICOM files to a Storage SCP (C-STORE SCU, DCMTK-compatible)", body
    )


def scp_page() -> str:
    """The text of ``storescu-scp.1``."""
    from storescu.cli.docgen import scp_operands, scp_options

    operands = []
    for name, text in scp_operands():
        operands += [".TP", _italic(name), escape(text)]
    body = [
        ".SH SYNOPSIS",
        f".B storescu\\-scp\n[{_italic('options')}] {_italic('port')}",
        ".br",
        f".B python \\-m storescu.scp\n[{_italic('options')}] {_italic('port')}",
        ".SH DESCRIPTION",
        escape(
            "storescu-scp is the storescu project's small Storage SCP, on the same protocol "
            "core as the sender: the demo's receiver and a peer for tests. It accepts every "
            "storage SOP class and Verification with the uncompressed and the common "
            "compressed transfer syntaxes, writes each received dataset as DIR/NNNNNN.dcm "
            "(named by sequence, never by a UID from the peer) with a line in "
            "DIR/received.jsonl, or discards it, and answers every C-STORE with a fixed "
            "status. Its TLS options have DCMTK storescp's spellings."
        ),
        ".SH PARAMETERS",
        *operands,
        ".SH OPTIONS",
        *_options(scp_options()),
        ".SH EXIT STATUS",
        escape("0 after a normal stop (Ctrl-C or --exit-after); 1 when it cannot start."),
        ".SH SEE ALSO",
        f"{_bold('storescu')}(1), {_bold('storescp')}(1)",
    ]
    summary = "a small DICOM Storage SCP (the storescu project's receiver)"
    return _page("storescu-scp", summary, body)
