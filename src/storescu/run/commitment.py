"""``--commit``: Storage Commitment after sending (PS3.4 Annex J, Push Model).

After the files of a run are stored, :func:`request_commitment` asks the
archive to commit to every instance stored with a success or warning status:
one association proposing only the Storage Commitment Push Model SOP Class,
one N-ACTION-RQ (Action Type ID 1, a new Transaction UID, the Referenced SOP
Sequence) per batch of at most ``batch_size`` instances. The reports
(N-EVENT-REPORT-RQ) are awaited until ``timeout``:

* without a listen port, on that association (it stays open meanwhile);
* with one (``--commit-port``), on associations the archive opens back to our
  AE title (:mod:`storescu.net.commitlistener`); the requesting association is
  released once every N-ACTION-RSP is in.

An instance is ``committed`` only when a report for its transaction lists it
in the Referenced SOP Sequence; ``failed`` (with the PS3.3 C.14.1.1 reason)
when listed in the Failed SOP Sequence; otherwise ``unconfirmed`` (no report
by the deadline, the archive refused the request, the association failed,
Ctrl-C).
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from storescu.kernel.errors import ReportError, StorescuError
from storescu.kernel.records import dataclass
from storescu.net.client import AssociationSettings
from storescu.net.commitlistener import CommitmentListener
from storescu.net.commitment import (
    COMMITTED,
    FAILED,
    UNCONFIRMED,
    Commitment,
    CommitmentAssociation,
    CommitmentTracker,
)
from storescu.protocol.commitment import CommitmentRequest, Reference
from storescu.run.results import CommitmentRun, FileResult, Outcome

__all__ = [
    "COMMITTED",
    "FAILED",
    "UNCONFIRMED",
    "Commitment",
    "CommitmentOptions",
    "CommitmentRun",
    "StoredCollector",
    "annotate_report",
    "references_from_report",
    "request_commitment",
]

log = logging.getLogger("storescu")

#: Default number of instances per N-ACTION-RQ (``--commit-batch``).
DEFAULT_BATCH = 500
#: Default wait for the reports, in seconds (``--commit-timeout``).
DEFAULT_TIMEOUT = 60.0


@dataclass(frozen=True, slots=True)
class CommitmentOptions:
    """How to request Storage Commitment.

    Parameters
    ----------
    batch_size : int
        Instances per N-ACTION-RQ (one Transaction UID each).
    timeout : float
        Seconds to wait for the reports after the last N-ACTION-RSP.
    listen_port : int or None
        Accept the reports on associations the archive opens to this port
        (our calling AE title is the only called AE title accepted); None
        waits on the requesting association.
    listen_host : str
        Address the listener binds ("" is every interface).
    """

    batch_size: int = DEFAULT_BATCH
    timeout: float = DEFAULT_TIMEOUT
    listen_port: int | None = None
    listen_host: str = ""


class StoredCollector:
    """A result observer keeping (class, instance) of everything stored in this run."""

    def __init__(self) -> None:
        self.references: dict[Reference, None] = {}

    def __call__(self, result: FileResult) -> None:
        stored = result.outcome in (Outcome.SENT, Outcome.SENT_WITH_WARNING)
        if stored and result.sop_class_uid and result.sop_instance_uid:
            self.references[(result.sop_class_uid, result.sop_instance_uid)] = None


def new_transaction_uid() -> str:
    """A fresh Transaction UID (PS3.5 B.2: the 2.25 root with a random UUID)."""
    return f"2.25.{uuid.uuid4().int}"


def request_commitment(
    host: str,
    port: int,
    references: Iterable[Reference],
    settings: AssociationSettings,
    options: CommitmentOptions | None = None,
    family: int = 0,
) -> CommitmentRun:
    """Request Storage Commitment for `references` and wait for the reports.

    Never raises for a network or protocol failure, nor for Ctrl-C while
    waiting: the instances without an answer are ``unconfirmed`` and
    :attr:`CommitmentRun.error` / :attr:`~CommitmentRun.interrupted` say why.

    Raises
    ------
    TransportError
        The listen port cannot be opened (nothing was requested).
    """
    options = options or CommitmentOptions()
    refs = list(dict.fromkeys(references))
    run = CommitmentRun({ref: Commitment(UNCONFIRMED) for ref in refs})
    if not refs:
        return run
    tracker = CommitmentTracker(settings.calling_aet)
    listener = None
    if options.listen_port is not None:
        listener = CommitmentListener(
            options.listen_port, tracker, options.listen_host, settings.max_pdu
        ).start()
    assoc: CommitmentAssociation | None = None
    try:
        log.info("Requesting Association for Storage Commitment")
        assoc = CommitmentAssociation.open(host, port, settings, tracker, family)
        log.info("Association Accepted (Storage Commitment Push Model)")
        _send_requests(assoc, refs, options.batch_size)
        deadline = time.monotonic() + options.timeout
        if tracker.outstanding:
            log.info(
                "Waiting up to %g s for %d Storage Commitment report(s)%s",
                options.timeout,
                tracker.outstanding,
                f" on port {listener.port}" if listener else "",
            )
        if listener is None:
            assoc.wait_reports(deadline)
        else:
            assoc.release()
            assoc = None
            tracker.wait(deadline)
        if tracker.outstanding:
            log.warning(
                "Storage Commitment: no report for %d transaction(s) within %g s: "
                "their instances are unconfirmed",
                tracker.outstanding,
                options.timeout,
            )
    except StorescuError as exc:
        run.error = f"Storage Commitment failed: {exc}"
        log.error("%s", run.error)
    except KeyboardInterrupt:
        run.interrupted = True
        if assoc is not None:
            assoc.abort()
            assoc = None
    finally:
        if assoc is not None and assoc.assoc.is_open:
            assoc.release()
        if listener is not None:
            listener.stop()
    run.results.update((ref, c) for ref, c in tracker.results.items() if ref in run.results)
    return run


def _send_requests(assoc: CommitmentAssociation, refs: Sequence[Reference], batch: int) -> None:
    for start in range(0, len(refs), max(batch, 1)):
        request = CommitmentRequest(new_transaction_uid(), tuple(refs[start : start + batch]))
        log.info(
            "Requesting Storage Commitment for %d instance(s) (Transaction UID %s)",
            len(request.references),
            request.transaction_uid,
        )
        status = assoc.request(request)
        if status.is_success or status.is_warning:
            log.info("Received N-ACTION-RSP (%s)", f"{status.hex} {status.text}")
        else:
            log.error(
                "Storage Commitment request refused: %s; %d instance(s) unconfirmed",
                f"{status.hex} {status.text}",
                len(request.references),
            )


def references_from_report(path: str) -> list[Reference]:
    """(class, instance) of every row an earlier report lists as sent (for checking later).

    Raises
    ------
    ReportError
        The report cannot be read.
    """
    from storescu.run.report import read_report

    refs: dict[Reference, None] = {}
    for row in read_report(path):
        if row.get("outcome") not in (Outcome.SENT.value, Outcome.SENT_WITH_WARNING.value):
            continue
        sop_class, instance = row.get("sop_class_uid"), row.get("sop_instance_uid")
        if isinstance(sop_class, str) and sop_class and isinstance(instance, str) and instance:
            refs[(sop_class, instance)] = None
    return list(refs)


def annotate_report(path: str, run: CommitmentRun) -> int:
    """Fill the ``commitment`` field of the report's stored rows; return the rows changed.

    The file is rewritten next to itself and renamed over the original, so
    a crash leaves either the old or the new report, whole.

    Raises
    ------
    ReportError
        The report cannot be read or written.
    """
    from storescu.run.report import COLUMNS, read_report, write_rows

    found = run.by_instance()
    rows: list[dict[str, Any]] = []
    changed = 0
    for row in read_report(path):
        instance = row.get("sop_instance_uid")
        outcome = row.get("outcome")
        if (
            isinstance(instance, str)
            and instance in found
            and outcome in (Outcome.SENT.value, Outcome.SENT_WITH_WARNING.value)
        ):
            row["commitment"] = found[instance].text
            changed += 1
        rows.append({name: row.get(name) for name in COLUMNS})
    temporary = f"{path}.commit-tmp"
    try:
        write_rows(temporary, rows, as_csv=path.lower().endswith(".csv"))
        os.replace(temporary, path)
    except OSError as exc:
        raise ReportError(f"cannot write report file '{path}': {exc.strerror or exc}") from exc
    return changed
