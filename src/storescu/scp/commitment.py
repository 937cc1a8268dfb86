"""The SCP's Storage Commitment Push Model SCP role (PS3.4 J.3.2.2, J.3.3.1.2).

On an N-ACTION-RQ (Action Type ID 1) the SCP answers N-ACTION-RSP and then,
after a configurable delay, an N-EVENT-REPORT-RQ: every referenced instance
that this SCP stored (same SOP Class and Instance UIDs, success or warning
status) is committed, the others fail with a PS3.3 C.14.1.1 reason:

* ``0x0110`` processing failure: the instance is in the configured ``fail`` set
  (the tests' and demo's chosen failures);
* ``0x0119`` class / instance conflict: stored under another SOP Class;
* ``0x0112`` no such object instance: never stored here;
* ``0x0131`` duplicate transaction UID: a Transaction UID seen before.

The report goes out on the same association (``mode="same"``; if it was
released meanwhile the report is lost, as PS3.4 J.3.3.1.2 note 1 warns) or on
an association this SCP opens to ``report_to`` (``mode="new"``), proposing the
SCP role for the class (PS3.7 D.3.3.4).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from storescu.kernel.errors import RemoteProtocolError, StorescuError
from storescu.net.client import AssociationSettings
from storescu.net.commitment import CommitmentAssociation, CommitmentTracker
from storescu.protocol import commitment as sc
from storescu.protocol import dimse

log = logging.getLogger("storescu.scp")

#: Longest delay honoured before a report on the same association (it blocks that association).
MAX_SAME_ASSOCIATION_DELAY = 30.0


@dataclass(frozen=True)
class CommitmentConfig:
    """How the SCP answers Storage Commitment requests.

    Parameters
    ----------
    mode : str
        ``"same"``: report on the requesting association; ``"new"``: on an
        association to `report_to`.
    delay : float
        Seconds between the N-ACTION-RSP and the report.
    report_to : tuple, optional
        ``(host, port)`` to call back in ``"new"`` mode.
    report_aet : str or None
        Called AE title of the call-back; None uses the requester's calling AE title.
    fail : frozenset of str
        SOP Instance UIDs to report as failed (0x0110) even when stored.
    """

    mode: str = "same"
    delay: float = 0.0
    report_to: tuple[str, int] | None = None
    report_aet: str | None = None
    fail: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if self.mode not in ("same", "new"):
            raise ValueError(f"commitment mode must be 'same' or 'new', not {self.mode!r}")
        if self.mode == "new" and self.report_to is None:
            raise ValueError("commitment mode 'new' needs report_to (host, port)")


def judge(
    request: sc.CommitmentRequest,
    stored: Iterable[sc.Reference],
    fail: frozenset[str],
    duplicate: bool = False,
) -> sc.CommitmentReport:
    """The report for `request`, given what was `stored` (see the module's rules)."""
    have = set(stored)
    classes = {instance: sop_class for sop_class, instance in have}
    committed: list[sc.Reference] = []
    failed: list[tuple[str, str, int]] = []
    for sop_class, instance in request.references:
        if duplicate:
            failed.append((sop_class, instance, 0x0131))
        elif instance in fail:
            failed.append((sop_class, instance, 0x0110))
        elif (sop_class, instance) in have:
            committed.append((sop_class, instance))
        elif instance in classes:
            failed.append((sop_class, instance, 0x0119))
        else:
            failed.append((sop_class, instance, 0x0112))
    return sc.CommitmentReport(request.transaction_uid, tuple(committed), tuple(failed))


class CommitmentService:
    """Answers N-ACTION-RQs for one SCP (shared by its associations).

    Parameters
    ----------
    config : CommitmentConfig
        How to answer.
    ae_title : str
        The SCP's AE title (our calling AE title when calling back).
    stored : callable
        Returns the (class, instance) pairs stored with success or warning.
    """

    def __init__(
        self, config: CommitmentConfig, ae_title: str, stored: Callable[[], set[sc.Reference]]
    ) -> None:
        self.config = config
        self.ae_title = ae_title
        self.stored = stored
        self.reports: list[sc.CommitmentReport] = []
        self.report_statuses: list[int] = []
        self._seen: set[str] = set()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    def on_action(
        self,
        command: dimse.Command,
        data: bytes,
        explicit: bool,
        calling_aet: str,
        send: Callable[[bytes, bytes | None], None],
    ) -> None:
        """Handle one N-ACTION-RQ; `send(command, dataset)` writes on its association."""
        message_id = command.get_int(dimse.MESSAGE_ID) or 0
        if sc.command_us(command, sc.ACTION_TYPE_ID) != sc.ACTION_REQUEST_COMMITMENT:
            send(sc.encode_n_action_rsp(message_id, 0x0123), None)  # no such action
            return
        try:
            request = sc.decode_request(data, explicit)
        except RemoteProtocolError as exc:
            log.error("Storage Commitment request from %s is malformed: %s", calling_aet, exc)
            send(sc.encode_n_action_rsp(message_id, 0x0110), None)
            return
        with self._lock:
            duplicate = request.transaction_uid in self._seen
            self._seen.add(request.transaction_uid)
        send(sc.encode_n_action_rsp(message_id, 0x0000), None)
        report = judge(request, self.stored(), self.config.fail, duplicate)
        log.info(
            "Storage Commitment for %s (Transaction UID %s): %d committed, %d failed",
            calling_aet,
            request.transaction_uid,
            len(report.committed),
            len(report.failed),
        )
        if self.config.mode == "same":
            time.sleep(min(self.config.delay, MAX_SAME_ASSOCIATION_DELAY))
            rq = sc.encode_n_event_report_rq(message_id, report.event_type)
            send(rq, sc.encode_report(report, explicit))
            self.reports.append(report)
            return
        thread = threading.Thread(
            target=self._call_back, args=(report, calling_aet), name="commit-callback", daemon=True
        )
        self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()

    def _call_back(self, report: sc.CommitmentReport, calling_aet: str) -> None:
        time.sleep(self.config.delay)
        assert self.config.report_to is not None
        host, port = self.config.report_to
        settings = AssociationSettings(
            calling_aet=self.ae_title,
            called_aet=self.config.report_aet or calling_aet,
            socket_timeout=30.0,
            dimse_timeout=30.0,
        )
        try:
            assoc = CommitmentAssociation.open(
                host, port, settings, CommitmentTracker(), as_scp=True
            )
            status = assoc.report(report)
            assoc.release()
        except StorescuError as exc:
            log.error("Storage Commitment report to %s:%d failed: %s", host, port, exc)
            return
        self.reports.append(report)
        self.report_statuses.append(status.code)
        log.info("Storage Commitment report to %s:%d answered %s", host, port, status.hex)

    def join(self, timeout: float = 5.0) -> None:
        """Wait (bounded) for call-backs in progress."""
        for thread in self._threads:
            thread.join(timeout)
