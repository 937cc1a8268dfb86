"""Storage Commitment options (PS3.4 Annex J): ``--commit`` and its companions.

DCMTK's storescu has no Storage Commitment; these spellings clash with none of
DCMTK's. ``--help`` lists them in a subgroup of the network options.
"""

from __future__ import annotations

from typing import Final

from storescu.cli.spec import NETWORK_GROUP, OptionSpec, in_group

_O = OptionSpec

ROWS: Final[tuple[OptionSpec, ...]] = (
    *in_group(
        NETWORK_GROUP,
        "storage commitment",
        _O(
            None,
            "--commit",
            "after sending, request Storage Commitment\nfor every stored instance and "
            "wait for the\narchive's report (exit 4 if any instance\nis not committed)",
            "commit",
        ),
        _O(
            None,
            "--commit-check",
            "send nothing: request commitment for the\ninstances REPORT lists as sent and "
            "fill\nits commitment field",
            "commit_check",
            args=("REPORT",),
            arg_help="REPORT: a --report file",
        ),
        _O(
            None,
            "--commit-port",
            "accept the reports on associations the\narchive opens to PORT (called AE "
            "title:\nour -aet); default: on our association",
            "commit_port",
            args=("PORT",),
            arg_help="PORT: integer 1..65535",
            kind="int",
            minimum=1,
            maximum=65535,
        ),
        _O(
            None,
            "--commit-timeout",
            "wait at most SECONDS for the reports\n(default: 60); then unconfirmed",
            "commit_timeout",
            args=("SECONDS",),
            arg_help="SECONDS: number > 0",
            kind="timeout",
        ),
        _O(
            None,
            "--commit-batch",
            "at most N instances per N-ACTION request\n(default: 500)",
            "commit_batch",
            args=("N",),
            arg_help="N: integer 1..10000",
            kind="int",
            minimum=1,
            maximum=10000,
        ),
    ),
)
