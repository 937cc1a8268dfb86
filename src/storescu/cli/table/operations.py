"""Operation options: how often, how persistently and how widely to send, or only verify.

DCMTK's ``--repeat``, ``--abort`` and ``-nh``; our retries (``--retry``,
``--retry-delay``, ``--resend-unknown``), parallel associations (``-P``) and
the operations that send no files (``--echo``, ``--probe``). ``--help`` lists
them inside DCMTK's "other network options".
"""

from __future__ import annotations

from typing import Final

from storescu.cli.spec import INT32_MAX, NETWORK_GROUP, OptionSpec, in_group

_O = OptionSpec

ROWS: Final[tuple[OptionSpec, ...]] = (
    *in_group(
        NETWORK_GROUP,
        "other network options",
        _O(
            None,
            "--repeat",
            "send every file N times",
            "repeat",
            args=("N",),
            arg_help="N: integer >= 1",
            kind="int",
            minimum=1,
            maximum=INT32_MAX,
        ),
        _O(
            None,
            "--priority",
            "C-STORE priority (PS3.7 9.1.1.1.9;\ndefault: medium, as DCMTK always sends)",
            "priority",
            args=("LEVEL",),
            arg_help="LEVEL: low, medium, high",
            kind="priority",
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
    ),
)
