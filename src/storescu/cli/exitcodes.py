"""Process exit codes of the ``storescu`` command, and their ``--help`` text.

DCMTK's codes are kept where DCMTK has them (0, 1, 10 and the status high byte).
Two are ours: 3 for ``--no-halt`` runs that left files unsent (DCMTK exits 0 and
scripts cannot tell), and 130 / 143 for a run interrupted by SIGINT / SIGTERM (the
shell's 128 + signal number).
"""

from __future__ import annotations

from enum import IntEnum
from typing import Final


class ExitCode(IntEnum):
    """Fixed exit codes; a failure status in halt mode exits with its high byte instead."""

    SUCCESS = 0
    """Every file was stored (success or warning status)."""
    FAILURE = 1
    """Usage error or fatal error (no input, association rejected, no usable context...)."""
    INCOMPLETE = 3
    """``--no-halt``: the run completed but at least one file was not stored."""
    NOT_COMMITTED = 4
    """``--commit``/``--commit-check``: every input was stored, but at least one instance was
    not committed by the archive (failed, or unconfirmed: no report in time)."""
    NETWORK = 10
    """Network or protocol failure during a store (abort, lost connection, timeout)."""
    INTERRUPTED = 130
    """SIGINT (Ctrl-C): the shell's 128 + 2."""
    TERMINATED = 143
    """SIGTERM: the shell's 128 + 15; handled like SIGINT (association aborted, report complete)."""


def exit_code_for_status(status: int) -> int:
    """Return the halt-mode exit code for a C-STORE failure ``status``.

    DCMTK exits with the status's high byte (0xA700 -> 167, 0xC000 -> 192). A
    failure status whose high byte is 0 (an unknown code such as 0x0005) would
    read as success, so it maps to :attr:`ExitCode.FAILURE` instead.
    """
    high = (status >> 8) & 0xFF
    return high if high else int(ExitCode.FAILURE)


EXIT_CODES_TEXT: Final = """\
exit codes:
  0     every input was stored (success or warning status), or was
        stored by an earlier run (skipped with --skip-sent)
  1     usage error or fatal error: no input, association rejected or
        failed, no acceptable presentation context; in halt mode also an
        input that could not be sent (unreadable or not DICOM, no
        presentation context for it, a directory without +sd)
  3     --no-halt only: the run completed but at least one input was not
        stored (DCMTK exits 0 here)
  4     --commit, --commit-check: everything was stored, but at least
        one instance was not committed by the archive (failed, or
        unconfirmed: no report within --commit-timeout)
  10    network or protocol failure during a store (association aborted or
        lost, timeout)
  N     halt mode: the peer answered a failure status; N is the status's
        high byte (0xA700 -> 167, 0xC000 -> 192)
  130   interrupted (SIGINT); the report still lists every input
  143   terminated (SIGTERM), handled like SIGINT: the association is
        aborted and the report still lists every input
"""
