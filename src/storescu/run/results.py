"""What a run reports: an outcome per input, a row per send, the run's totals.

Every input ends with exactly one :class:`FileResult` per attempted send
(``--repeat`` sends a file several times), whatever happened; the
:class:`Outcome` categories are RELIABILITY.md's. :class:`RunResult` holds
the rows (or only their counts, for runs over millions of files) and what
ended the run, from which the command line chooses its exit code.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from typing import TYPE_CHECKING, Final

from storescu.kernel.records import dataclass, field

if TYPE_CHECKING:  # kept off the sender's start-up path
    from storescu.net.commitment import Commitment
    from storescu.protocol.commitment import Reference

#: The states of :class:`storescu.net.commitment.Commitment` (the same strings).
COMMITTED: Final = "committed"
FAILED: Final = "failed"
UNCONFIRMED: Final = "unconfirmed"

__all__ = ["CommitmentRun", "FileResult", "Outcome", "ResultCallback", "RunResult"]


class Outcome(Enum):
    """What happened to one input (the categories of RELIABILITY.md)."""

    SENT = "sent"
    SENT_WITH_WARNING = "sent-with-warning"
    FAILED_STATUS = "failed-status"
    FAILED_OUTCOME_UNKNOWN = "failed-outcome-unknown"
    NOT_SENT = "not-sent"
    SKIPPED_INVALID = "skipped-invalid-file"
    #: Not one of RELIABILITY.md's categories but a refinement of "not sent":
    #: ``--skip-sent`` found it stored in a previous run's report.
    SKIPPED_ALREADY_SENT = "skipped-already-sent"
    #: A directory operand without ``+sd``: ignored with DCMTK's warning. Not a
    #: file (the summary counts it apart), but named and not sent, so it is
    #: not stored either (the exit code says so).
    IGNORED_DIRECTORY = "ignored-directory"
    #: A second name of a file already in the run (a symbolic link or hard
    #: link met by a ``+sd`` scan): not sent twice. Neither stored nor a
    #: failure: the first name's row says what happened to the file.
    SKIPPED_DUPLICATE = "skipped-duplicate"

    @property
    def neutral(self) -> bool:
        """True for an outcome that says nothing about storing (a duplicate name)."""
        return self is Outcome.SKIPPED_DUPLICATE

    @property
    def stored(self) -> bool:
        """True when the peer confirmed it stored the instance (for
        skipped-already-sent: in the run whose report ``--skip-sent`` read)."""
        return self in (Outcome.SENT, Outcome.SENT_WITH_WARNING, Outcome.SKIPPED_ALREADY_SENT)


@dataclass(slots=True)
class FileResult:
    """The outcome of one input (one row of the per-file report)."""

    path: str
    outcome: Outcome
    sop_class_uid: str | None = None
    #: The SOP Instance UID sent (after rewriting, see ``original_sop_instance_uid``).
    sop_instance_uid: str | None = None
    #: The input's own SOP Instance UID when rewriting sent another one (``+II``...).
    original_sop_instance_uid: str | None = None
    file_transfer_syntax: str | None = None
    network_transfer_syntax: str | None = None
    #: Dataset bytes written to the peer (all of them once the request was complete).
    bytes: int = 0
    #: The input's dataset bytes as read (before any conversion or compression).
    source_bytes: int = 0
    #: ``--compress``: why this send went uncompressed (the peer refused the
    #: syntax, the codec cannot carry it exactly, ``auto`` chose not to...).
    compression: str | None = None
    association: int | None = None
    message_id: int | None = None
    status: int | None = None
    status_text: str | None = None
    error: str | None = None
    seconds: float = 0.0
    #: How many times this send was tried (``--retry``).
    attempts: int = 1
    #: True when an earlier try ended with an unknown outcome and it was resent.
    resent_after_unknown: bool = False
    #: True when the failure was a lost association or a timeout.
    network_failure: bool = False
    #: ``--commit``: the archive's Storage Commitment answer (``committed``,
    #: ``failed 0x.... reason``, ``unconfirmed``); None when not asked.
    commitment: str | None = None


@dataclass(slots=True)
class RunResult:
    """Everything a caller needs to report a run and choose an exit code."""

    results: list[FileResult] = field(default_factory=list)
    #: Set when the run could not start or the association failed before any
    #: store (rejected, refused, no acceptable context...).
    fatal: str | None = None
    #: The failure status that halted the run (halt mode), if any.
    halted_on_status: int | None = None
    #: True when an association was lost (abort, timeout) while storing.
    network_failure: bool = False
    halted: bool = False
    seconds: float = 0.0
    associations: int = 0
    #: True when the run was interrupted (KeyboardInterrupt); every input
    #: not processed is still recorded, as not-sent.
    interrupted: bool = False
    #: How many results each outcome has; kept even when ``results`` is not
    #: (``Sender(keep_results=False)``, for runs over millions of files).
    counts: dict[Outcome, int] = field(default_factory=dict)
    #: Storage Commitment of the stored instances, when it was requested
    #: (``send_files(..., commit=...)``, ``--commit``); else None.
    commitment: CommitmentRun | None = None

    @property
    def all_stored(self) -> bool:
        """True when every result is sent, sent-with-warning or skipped-already-sent
        (skipped-duplicate rows aside: their first name's row counts)."""
        return (
            self.fatal is None
            and not self.interrupted
            and all(
                n == 0 or outcome.stored or outcome.neutral for outcome, n in self.counts.items()
            )
        )

    def count(self, outcome: Outcome) -> int:
        """How many results have ``outcome``."""
        return self.counts.get(outcome, 0)


@dataclass(slots=True)
class CommitmentRun:
    """The commitment of every instance asked about, by (class UID, instance UID)."""

    results: dict[Reference, Commitment] = field(default_factory=dict)
    #: Why the request failed as a whole (association refused...), else None.
    error: str | None = None
    interrupted: bool = False

    def count(self, state: str) -> int:
        """How many instances are in `state` (committed, failed, unconfirmed)."""
        return sum(1 for c in self.results.values() if c.state == state)

    @property
    def all_committed(self) -> bool:
        """True when every instance asked about is committed."""
        return all(c.state == COMMITTED for c in self.results.values())

    def by_instance(self) -> dict[str, Commitment]:
        """The results keyed by SOP Instance UID alone (for report rows)."""
        return {instance: c for (_, instance), c in self.results.items()}

    def summary(self) -> str:
        """``Storage Commitment: 3 committed, 1 failed, 0 unconfirmed``."""
        return (
            f"Storage Commitment: {self.count(COMMITTED)} committed, {self.count(FAILED)} failed, "
            f"{self.count(UNCONFIRMED)} unconfirmed"
        )


#: Called with each result as soon as it is known (progress, reports).
ResultCallback = Callable[[FileResult], None]
