"""``+rn``: rename each processed file to ``NAME.done`` or ``NAME.bad``, as DCMTK does.

DCMTK storescu renames a file after its store: ``.done`` when the peer
answered success or a warning, ``.bad`` when the file could not be read, had
no SOP UIDs, no presentation context, could not be converted, or the store
failed (failure status or network error). Files it never reached (after a
halt, or when the association failed) keep their names. Here the rename
happens after the last result of a file (``--repeat``): ``.bad`` if any
send was bad, else ``.done``. Directories, DICOMDIR references that were
rejected, missing files and files skipped as already sent are never
touched, and the new name is always the old one plus the suffix (never
built from a UID). An existing ``NAME.done`` is replaced, as with DCMTK.
"""

from __future__ import annotations

import logging
import os
from typing import Final

from storescu.run.results import FileResult, Outcome

__all__ = ["Renamer", "verdict"]

log = logging.getLogger("storescu")

DONE: Final = ".done"
BAD: Final = ".bad"


def verdict(result: FileResult) -> str | None:
    """``".done"``, ``".bad"`` or None (not processed) for one result."""
    outcome = result.outcome
    if outcome in (Outcome.SENT, Outcome.SENT_WITH_WARNING):
        return DONE
    if outcome in (Outcome.FAILED_STATUS, Outcome.FAILED_OUTCOME_UNKNOWN):
        return BAD
    if outcome is Outcome.NOT_SENT:
        # With an association the file was processed (no context, cannot be
        # converted or read); without, the run never got to it.
        return BAD if result.association is not None else None
    if outcome is Outcome.SKIPPED_INVALID:
        return BAD if os.path.isfile(result.path) else None
    return None


class Renamer:
    """Renames files as their results arrive (use it as ``on_result``; call :meth:`finish`)."""

    def __init__(self) -> None:
        self._path: str | None = None
        self._suffix: str | None = None
        self.renamed = 0

    def __call__(self, result: FileResult) -> None:
        if result.path != self._path:
            self.finish()
            self._path = result.path
        suffix = verdict(result)
        if suffix == BAD or self._suffix is None:
            self._suffix = suffix or self._suffix

    def finish(self) -> None:
        """Rename the file whose results came last (at the end of the run)."""
        path, suffix = self._path, self._suffix
        self._path = self._suffix = None
        if path is None or suffix is None:
            return
        target = path + suffix
        try:
            os.replace(path, target)
        except OSError as exc:
            log.warning("cannot rename file '%s' to '%s': %s", path, target, exc.strerror)
            return
        self.renamed += 1
        log.debug("renamed file '%s' to '%s'", path, target)
