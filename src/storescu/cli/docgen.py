"""Documentation generated from the option tables: what each option is and where it comes from.

The command line reference of the docs site, the man pages
(:mod:`storescu.cli.manpage`) and the shell completions
(:mod:`storescu.cli.completion`) are all generated from the same rows: the
sender's :data:`~storescu.cli.table.OPTION_TABLE` and the SCP's argparse
parser (:func:`storescu.scp.cli.build_parser`). This module adds what the
tables do not say: where each option comes from (DCMTK's storescu, a newer
DCMTK, dcmsend, or ours) and how it behaves differently from DCMTK.
``tests/docs`` checks these labels against DCMTK's own ``--help``.

The files that ship in the wheel are written by :mod:`storescu.cli.generated`.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Final

from storescu.cli.spec import OptionSpec
from storescu.cli.table import OPTION_TABLE
from storescu.cli.values import COMPLETION_SHELLS
from storescu.protocol.dimse import PRIORITIES

# -------------------------------------------------------------------- origins

#: DCMTK storescu: the seed manual or DCMTK 3.6.7 (the default origin).
DCMTK: Final = "DCMTK"
#: Added to DCMTK storescu after 3.6.7 (3.7.0).
DCMTK_37: Final = "DCMTK 3.7"
#: Not in DCMTK storescu; DCMTK's dcmsend has it with this spelling.
DCMSEND: Final = "dcmsend"
#: Ours: no DCMTK tool has it (the note says where an idea comes from).
OURS: Final = "ours"

_ORIGINS: Final[dict[str, str]] = {
    **dict.fromkeys(
        (
            "--ipv4",
            "--ipv6",
            "--ip-auto",
            "--profile-8996",
            "--profile-8996-mod",
            "--profile-basic",
            "--list-profiles",
            "--no-sni",
            "--request-sni",
        ),
        DCMTK_37,
    ),
    **dict.fromkeys(("--decompress-lossless", "--decompress-lossy", "--decompress-never"), DCMSEND),
    **dict.fromkeys(
        (
            "--completion",
            "--file-list",
            "--skip-sent",
            "--report",
            "--progress",
            "--no-progress",
            "--propose-ht-lossless",
            "--propose-ht-rpcl",
            "--propose-ht-lossy",
            "--propose-file-syntax",
            "--no-file-syntax",
            "--propose-file-classes",
            "--no-file-classes",
            "--decompress-limit",
            "--retry",
            "--retry-delay",
            "--resend-unknown",
            "--parallel",
            "--echo",
            "--probe",
            "--set",
            "--uid-suffix",
            "--uid-root",
            "--check-hostname",
            "--commit",
            "--commit-check",
            "--commit-port",
            "--commit-timeout",
            "--commit-batch",
            "--priority",
            "--compress",
            "--no-verify-compression",
            "--dask",
            "--dask-partition",
            "--dask-associations",
            "--max-ops-invoked",
            "--max-ops-performed",
        ),
        OURS,
    ),
}

#: How an option differs from DCMTK's, or where an option of ours comes from.
NOTES: Final[dict[str, str]] = {
    "--version": "also lists the optional libraries present and their versions",
    "--log-config": "a Python logging.config.fileConfig file (DCMTK: log4cplus)",
    "--verbose-pc": "implies -v unless a level is given (the seed manual's meaning; "
    "DCMTK 3.6.7 needs -v too)",
    "--scan-directories": "names are sorted in each directory (DCMTK: readdir order); "
    "a link back to a parent is skipped, FIFOs are reported",
    "--config-file": "role selection and extended negotiation in the profile are not "
    "negotiated (a warning)",
    "--propose-uncompr": "explicit VR little endian first on every host",
    "--no-halt": "exit code 3 when an input was not stored (DCMTK exits 0)",
    "--uid-padding": "also trims the UI values of the dataset (DCMTK: only the C-STORE "
    "request's two UIDs, which we always fix)",
    "--invent-instance": "UIDs under --uid-root, always valid; AccessionNumber written; "
    "missing attributes added",
    "--add-cert-file": "an unreadable file is an error (DCMTK warns and ignores it)",
    "--add-cert-dir": "says so when the directory is not hashed",
    "--profile-basic": "fails: OpenSSL 3 has no 3DES (in DCMTK only where OpenSSL has it)",
    "--seed": "added to OpenSSL 3's own seeding with RAND_add, no entropy claimed",
    "--decompress-lossless": "DCMTK storescu never decompresses",
    "--set": "as dcm4che storescu's -s",
    "--uid-suffix": "as dcm4che storescu's --uid-suffix",
    "--propose-ht-lossless": "DCMTK has no HTJ2K option",
    "--propose-ht-rpcl": "DCMTK has no HTJ2K option",
    "--propose-ht-lossy": "DCMTK has no HTJ2K option",
    "--propose-file-syntax": "as dcmsend proposes the files' syntaxes",
    "--parallel": "DCMTK's storescu has none (dcmsend's +ma: one association after another)",
    "--max-ops-invoked": "Asynchronous Operations Window (PS3.7 D.3.3.3), dcm4che's spelling",
    "--dask": "tasks on a Dask cluster (dask.distributed); no DCMTK tool has it",
    "--priority": "DCMTK always sends MEDIUM; dcm4che has --prior-high/--prior-low",
    "--commit": "Storage Commitment (PS3.4 Annex J); dcm4che has it in a separate tool",
}

#: SCP options that DCMTK storescp does not have.
SCP_OURS: Final = frozenset(
    {
        "--bind",
        "--status",
        "--error-comment",
        "--port-file",
        "--exit-after",
        "--commit",
        "--commit-delay",
        "--commit-report-to",
        "--commit-report-aet",
        "--commit-fail",
        "--max-ops-performed",
    }
)


def origin_of(spec: OptionSpec) -> str:
    """Where a sender option comes from.

    One of :data:`DCMTK`, :data:`DCMTK_37`, :data:`DCMSEND` and :data:`OURS`.
    """
    return _ORIGINS.get(spec.long, DCMTK)


def labelled_options() -> frozenset[str]:
    """The long names this module labels other than :data:`DCMTK` (for the tests)."""
    return frozenset(_ORIGINS)


# ----------------------------------------------------------------------- rows


@dataclass(frozen=True)
class OptionDoc:
    """One option as the documentation shows it."""

    group: str
    subgroup: str
    spellings: tuple[str, ...]
    args: tuple[str, ...]
    arg_help: str
    help: str
    origin: str
    note: str
    pending: str | None
    choices: tuple[str, ...] = ()

    @property
    def long(self) -> str:
        return self.spellings[-1]

    @property
    def short(self) -> str | None:
        return self.spellings[0] if len(self.spellings) > 1 else None


def _one_line(text: str) -> str:
    return " ".join(text.split())


def sender_options() -> list[OptionDoc]:
    """The sender's options, in table order."""
    from storescu.cli.values import LOG_LEVELS

    rows = []
    for spec in OPTION_TABLE:
        choices: tuple[str, ...] = ()
        if spec.kind == "level":
            choices = tuple(LOG_LEVELS)
        elif spec.long == "--completion":
            choices = COMPLETION_SHELLS
        elif spec.kind == "priority":
            choices = tuple(PRIORITIES)
        elif spec.kind == "compress":
            from storescu.run.compressing import CHOICES

            choices = CHOICES
        elif (
            spec.kind == "int"
            and spec.minimum is not None
            and spec.maximum is not None
            and spec.maximum - spec.minimum <= 10
        ):
            choices = tuple(str(n) for n in range(spec.minimum, spec.maximum + 1))
        rows.append(
            OptionDoc(
                group=spec.group,
                subgroup=spec.subgroup,
                spellings=spec.spellings,
                args=spec.args,
                arg_help=spec.arg_help,
                help=_one_line(spec.help),
                origin=origin_of(spec),
                note=NOTES.get(spec.long, ""),
                pending=spec.pending_topic,
                choices=choices,
            )
        )
    return rows


def scp_parser() -> argparse.ArgumentParser:
    """The SCP's argparse parser."""
    from storescu.scp.cli import build_parser

    return build_parser()


def scp_options() -> list[OptionDoc]:
    """The SCP's options (from its argparse parser), with their groups."""
    parser = scp_parser()
    rows = []
    for group in parser._action_groups:  # argparse has no public iterator over groups
        title = group.title or ""
        if title in ("positional arguments",):
            continue
        for action in group._group_actions:
            if not action.option_strings or action.help == argparse.SUPPRESS:
                continue
            spellings = tuple(sorted(action.option_strings, key=lambda s: s.startswith("--")))
            metavar = action.metavar
            if action.nargs == 0:
                args: tuple[str, ...] = ()
            elif isinstance(metavar, tuple):
                args = metavar
            else:
                args = (metavar or action.dest.upper(),)
            long = spellings[-1]
            rows.append(
                OptionDoc(
                    group="general options" if title == "options" else title,
                    subgroup="",
                    spellings=spellings,
                    args=args,
                    arg_help="",
                    help=_one_line(action.help or ""),
                    origin=OURS if long in SCP_OURS else "DCMTK storescp",
                    note="",
                    pending=None,
                    choices=tuple(str(c) for c in action.choices or ()),
                )
            )
    return rows


def scp_operands() -> list[tuple[str, str]]:
    """The SCP's operands: (name, help)."""
    parser = scp_parser()
    return [
        (action.dest, _one_line(action.help or ""))
        for action in parser._actions
        if not action.option_strings
    ]
