"""Storage Commitment Push Model, SCU side (PS3.4 Annex J): requests and their reports.

:class:`CommitmentTracker` holds the outstanding transactions and judges every
N-EVENT-REPORT against them (thread-safe: reports may arrive on the request's
association or on one the archive opens back to us, see
:mod:`storescu.net.commitlistener`). Only an instance that a report for *its*
transaction lists in the Referenced SOP Sequence becomes committed; everything
else stays unconfirmed or failed.

:class:`CommitmentAssociation` is the requesting association: it proposes only
the Storage Commitment Push Model SOP Class (we are its SCU, which includes
receiving N-EVENT-REPORTs on this association, so no role selection is needed:
PS3.4 J.3.3, PS3.7 D.3.3.4), sends N-ACTION-RQs and waits for the
N-ACTION-RSPs and, when asked, for the reports.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import NoReturn, TypeVar

from storescu.kernel.constants import EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN
from storescu.kernel.errors import (
    AssociationAborted,
    NegotiationError,
    RemoteProtocolError,
    StorescuError,
    TimeoutError_,
    TransportError,
)
from storescu.kernel.records import dataclass
from storescu.net.client import AssociationSettings, StoreAssociation, abort_text
from storescu.net.responses import wait_event
from storescu.protocol import commitment as sc
from storescu.protocol import dimse
from storescu.protocol.association import Aborted, DataReceived, ReleaseRequested
from storescu.protocol.pdu import PresentationContextRQ, RoleSelection
from storescu.protocol.status import Status, classify

log = logging.getLogger("storescu")

_T = TypeVar("_T")

COMMITTED = "committed"
FAILED = "failed"
UNCONFIRMED = "unconfirmed"

#: N-EVENT-REPORT-RSP statuses (PS3.7 10.1.4.1.10).
_SUCCESS = 0x0000
_PROCESSING_FAILURE = 0x0110


@dataclass(frozen=True, slots=True)
class Commitment:
    """The archive's answer for one instance: ``state`` and, when failed, the reason."""

    state: str
    reason: int | None = None

    @property
    def text(self) -> str:
        """``committed``, ``failed 0x0112 no such object instance`` or ``unconfirmed``."""
        if self.state == FAILED and self.reason is not None:
            return f"{FAILED} {sc.describe_failure(self.reason)}"
        return self.state


class CommitmentTracker:
    """Outstanding Storage Commitment transactions and the per-instance results.

    Parameters
    ----------
    calling_aet : str
        Our AE title: the only called AE title the listener accepts.
    """

    def __init__(self, calling_aet: str = "") -> None:
        self.calling_aet = calling_aet
        self._lock = threading.Lock()
        self._pending: dict[str, frozenset[sc.Reference]] = {}
        self._finished: set[str] = set()
        self.results: dict[sc.Reference, Commitment] = {}
        self.changed = threading.Condition(self._lock)

    def add(self, request: sc.CommitmentRequest) -> None:
        """Register a transaction before its N-ACTION-RQ goes out."""
        with self._lock:
            self._pending[request.transaction_uid] = frozenset(request.references)

    def drop(self, transaction_uid: str) -> None:
        """Forget a transaction the archive refused (its instances stay unconfirmed)."""
        with self._lock:
            self._pending.pop(transaction_uid, None)
            self.changed.notify_all()

    @property
    def outstanding(self) -> int:
        """Transactions still waiting for their report."""
        with self._lock:
            return len(self._pending)

    def wait(self, deadline: float) -> bool:
        """Block until no transaction is outstanding or `deadline` (monotonic); True when done."""
        with self._lock:
            while self._pending:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.changed.wait(min(left, 0.5))
            return True

    def on_report(self, report: sc.CommitmentReport, peer: str) -> int:
        """Judge one N-EVENT-REPORT; return the status for its N-EVENT-REPORT-RSP."""
        uid = report.transaction_uid
        with self._lock:
            expected = self._pending.pop(uid, None)
            if expected is None:
                if uid in self._finished:
                    log.warning(
                        "Storage Commitment: second report from %s for Transaction UID %s: ignored",
                        peer,
                        uid,
                    )
                    return _SUCCESS
                log.error(
                    "Storage Commitment: report from %s for unknown Transaction UID %s: ignored",
                    peer,
                    uid,
                )
                return _PROCESSING_FAILURE
            self._finished.add(uid)
            self._judge(report, expected, peer)
            self.changed.notify_all()
            return _SUCCESS

    def _judge(
        self, report: sc.CommitmentReport, expected: frozenset[sc.Reference], peer: str
    ) -> None:
        answered: set[sc.Reference] = set()
        strangers = 0
        for sop_class, instance, reason in report.failed:
            if (sop_class, instance) not in expected:
                strangers += 1
                continue
            answered.add((sop_class, instance))
            self.results[(sop_class, instance)] = Commitment(FAILED, reason)
            log.info("Storage Commitment failed for %s: %s", instance, sc.describe_failure(reason))
        for ref in report.committed:
            if ref not in expected:
                strangers += 1
            elif ref not in answered:  # listed in both: failed wins
                answered.add(ref)
                self.results[ref] = Commitment(COMMITTED)
        if strangers:
            log.warning(
                "Storage Commitment: report from %s (Transaction UID %s) names %d instance(s) "
                "that were not requested: ignored",
                peer,
                report.transaction_uid,
                strangers,
            )
        missing = len(expected - answered)
        if missing:
            log.warning(
                "Storage Commitment: report from %s (Transaction UID %s) leaves %d instance(s) "
                "unanswered: unconfirmed",
                peer,
                report.transaction_uid,
                missing,
            )
        log.info(
            "Received Storage Commitment report from %s (Transaction UID %s): "
            "%d committed, %d failed",
            peer,
            report.transaction_uid,
            len(report.committed),
            len(report.failed),
        )


class _Bytes:
    """A dataset held in memory, read like a file (what the association sends from)."""

    def __init__(self, data: bytes) -> None:
        self.length = len(data)
        self._view = memoryview(data)
        self._offset = 0

    def readinto(self, buf: memoryview) -> int:
        n = min(len(buf), self.length - self._offset)
        buf[:n] = self._view[self._offset : self._offset + n]
        self._offset += n
        return n


Message = tuple[int, dimse.Command, bytes | None]


def read_message(
    assembler: dimse.MessageAssembler,
    next_pdvs: Callable[[], Iterable[tuple[int, bool, bool, bytes]]],
) -> Message:
    """Reassemble one DIMSE message from PDVs; the dataset is bounded by sc.MAX_DATASET."""
    command: dimse.CommandReceived | None = None
    data = bytearray()
    while True:
        for context_id, is_command, is_last, chunk in next_pdvs():
            event = assembler.feed(context_id, is_command, is_last, chunk)
            if isinstance(event, dimse.CommandReceived):
                if not event.command.has_dataset:
                    return event.context_id, event.command, None
                command = event
            elif event is not None and command is not None:
                if len(data) + len(event.data) > sc.MAX_DATASET:
                    raise RemoteProtocolError(
                        f"Storage Commitment dataset exceeds {sc.MAX_DATASET} bytes", 0, 0
                    )
                data += event.data
                if event.last:
                    return command.context_id, command.command, bytes(data)


def answer_report(
    command: dimse.Command,
    data: bytes | None,
    explicit: bool,
    tracker: CommitmentTracker,
    peer: str,
) -> bytes:
    """Judge an N-EVENT-REPORT-RQ and return the N-EVENT-REPORT-RSP command set."""
    message_id = command.get_int(dimse.MESSAGE_ID) or 0
    event_type = sc.command_us(command, sc.EVENT_TYPE_ID)
    if data is None or event_type not in (sc.EVENT_ALL_COMMITTED, sc.EVENT_FAILURES):
        log.error(
            "Storage Commitment: N-EVENT-REPORT from %s with event type %s%s: ignored",
            peer,
            event_type,
            "" if data is not None else " and no dataset",
        )
        return sc.encode_n_event_report_rsp(message_id, 0x0113 if data else 0x0120, event_type)
    try:
        report = sc.decode_report(data, explicit)
    except RemoteProtocolError as exc:
        log.error("Storage Commitment: malformed report from %s: %s: ignored", peer, exc)
        return sc.encode_n_event_report_rsp(message_id, _PROCESSING_FAILURE, event_type)
    status = tracker.on_report(report, peer)
    return sc.encode_n_event_report_rsp(message_id, status, event_type)


class CommitmentAssociation:
    """An association on which we request Storage Commitment (we are the SCU)."""

    def __init__(self, assoc: StoreAssociation, tracker: CommitmentTracker) -> None:
        self.assoc = assoc
        self.tracker = tracker
        context = assoc.accepted.contexts[0]
        self.context_id = context.context_id
        self.explicit = context.transfer_syntax == EXPLICIT_VR_LITTLE_ENDIAN
        self._assembler = dimse.MessageAssembler(frozenset(assoc.accepted.by_id))
        self.peer = assoc.transport.peer or "the archive"

    @classmethod
    def open(
        cls,
        host: str,
        port: int,
        settings: AssociationSettings,
        tracker: CommitmentTracker,
        family: int = 0,
        as_scp: bool = False,
    ) -> CommitmentAssociation:
        """Open an association proposing only the Storage Commitment Push Model class.

        `as_scp`: we are the archive calling back with a report; the
        association requestor then proposes the SCP role for the class
        (PS3.4 J.3.3.1.2 note 1, PS3.7 D.3.3.4).

        Raises
        ------
        NegotiationError
            The peer does not accept the class (it is no Storage Commitment SCP).
        """
        contexts = (
            PresentationContextRQ(
                1,
                sc.STORAGE_COMMITMENT_SOP_CLASS,
                (EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN),
            ),
        )
        if as_scp:
            from dataclasses import replace  # not on the sender's start-up path

            role = RoleSelection(sc.STORAGE_COMMITMENT_SOP_CLASS, scu_role=0, scp_role=1)
            settings = replace(settings, role_selections=(role,))
        try:
            assoc = StoreAssociation.open(host, port, contexts, settings, family)
        except NegotiationError as exc:
            raise NegotiationError(
                "the peer did not accept the Storage Commitment Push Model SOP Class "
                f"(1.2.840.10008.1.20.1): {exc}"
            ) from exc
        return cls(assoc, tracker)

    def report(self, report: sc.CommitmentReport) -> Status:
        """Send one N-EVENT-REPORT-RQ (we are the SCP, PS3.4 J.3.3) and return its RSP status."""
        assoc = self.assoc
        message_id = assoc.next_message_id()
        command = sc.encode_n_event_report_rq(message_id, report.event_type)
        dataset = sc.encode_report(report, self.explicit)
        self._guard(lambda: self._send(command, dataset))
        timeout = assoc.settings.dimse_timeout or assoc.settings.socket_timeout
        _, rsp, _ = self._guard(lambda: self._next(timeout))
        if rsp.command_field != sc.N_EVENT_REPORT_RSP:
            self._protocol_abort(
                f"expected N-EVENT-REPORT-RSP, got command field {rsp.command_field}"
            )
        if rsp.get_int(dimse.MESSAGE_ID_BEING_RESPONDED_TO) != message_id:
            self._protocol_abort("N-EVENT-REPORT-RSP answers another Message ID")
        code = rsp.get_int(dimse.STATUS)
        if code is None:
            self._protocol_abort("N-EVENT-REPORT-RSP without Status")
        return classify(code)

    def request(self, request: sc.CommitmentRequest) -> Status:
        """Send one N-ACTION-RQ (PS3.4 J.3.2) and return the N-ACTION-RSP status.

        A report arriving before the response is answered and judged.
        """
        assoc = self.assoc
        message_id = assoc.next_message_id()
        command = sc.encode_n_action_rq(message_id)
        dataset = sc.encode_request(request, self.explicit)
        log.debug(
            "N-ACTION-RQ: MsgID %d, Transaction UID %s, %d instance(s)",
            message_id,
            request.transaction_uid,
            len(request.references),
        )
        self.tracker.add(request)
        self._guard(lambda: self._send(command, dataset))
        timeout = assoc.settings.dimse_timeout or assoc.settings.socket_timeout
        while True:
            _, rsp, data = self._guard(lambda: self._next(timeout))
            if rsp.command_field == sc.N_EVENT_REPORT_RQ:
                self._answer(rsp, data)
                continue
            if rsp.command_field != sc.N_ACTION_RSP:
                self._protocol_abort(
                    f"expected N-ACTION-RSP, got command field {rsp.command_field}"
                )
            if rsp.get_int(dimse.MESSAGE_ID_BEING_RESPONDED_TO) != message_id:
                self._protocol_abort("N-ACTION-RSP answers another Message ID")
            code = rsp.get_int(dimse.STATUS)
            if code is None:
                self._protocol_abort("N-ACTION-RSP without Status")
            status = classify(code)
            if not status.is_success and not status.is_warning:
                self.tracker.drop(request.transaction_uid)
            return status

    def wait_reports(self, deadline: float) -> None:
        """Answer N-EVENT-REPORTs on this association until none is outstanding or `deadline`."""
        while self.tracker.outstanding and self.assoc.is_open:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            try:
                _, command, data = self._next(left)
            except TimeoutError_:
                return  # the caller releases; the instances stay unconfirmed
            except RemoteProtocolError as exc:
                self._protocol_abort(str(exc))
            if command.command_field != sc.N_EVENT_REPORT_RQ:
                self._protocol_abort(
                    f"expected N-EVENT-REPORT-RQ, got command field {command.command_field}"
                )
            self._answer(command, data)

    def release(self) -> None:
        """Release the association; a failure to release is only logged."""
        try:
            self.assoc.release()
        except StorescuError as exc:
            log.warning("Storage Commitment association: release failed: %s", exc)

    def abort(self) -> None:
        """Abort the association (never raises)."""
        self.assoc.abort()

    # ---------------------------------------------------------------- steps

    def _answer(self, command: dimse.Command, data: bytes | None) -> None:
        rsp = answer_report(command, data, self.explicit, self.tracker, self.peer)
        self._guard(lambda: self._send(rsp, None))

    def _send(self, command: bytes, dataset: bytes | None) -> None:
        assoc = self.assoc
        send = assoc.connection.send_data
        buffers = send(
            self.context_id, command, is_command=True, last=True, max_fragment=assoc.max_fragment
        )
        if dataset is not None:
            buffers += send(
                self.context_id,
                dataset,
                is_command=False,
                last=True,
                max_fragment=assoc.max_fragment,
            )
        assoc.transport.send(buffers, assoc.settings.socket_timeout)

    def _next(self, timeout: float | None) -> Message:
        assoc = self.assoc

        def pdvs() -> list[tuple[int, bool, bool, bytes]]:
            event = wait_event(assoc.transport, assoc.connection, timeout, "DIMSE")
            if isinstance(event, DataReceived):
                return [(p.context_id, p.is_command, p.is_last, bytes(p.data)) for p in event.pdvs]
            if isinstance(event, Aborted):
                assoc.abort()
                raise AssociationAborted(
                    abort_text(event, assoc.transport.peer), event.source, event.reason
                )
            if isinstance(event, ReleaseRequested):
                # PS3.4 J.3.3.1.2: an archive may release now and report later on
                # an association of its own; answer the release and say so.
                with contextlib.suppress(StorescuError):
                    assoc.transport.send(
                        assoc.connection.release_response(), assoc.settings.socket_timeout
                    )
                assoc.is_open = False
                assoc.transport.close()
                assoc.connection.transport_closed()
                raise AssociationAborted(
                    f"{self.peer} released the association before reporting "
                    "(if the archive calls back, use --commit-port)"
                )
            raise RemoteProtocolError(f"unexpected {type(event).__name__}")

        return read_message(self._assembler, pdvs)

    def _guard(self, func: Callable[[], _T]) -> _T:
        try:
            return func()
        except RemoteProtocolError as exc:
            self._protocol_abort(str(exc))
        except (TransportError, TimeoutError_):
            self.assoc.abort()
            raise

    def _protocol_abort(self, message: str) -> NoReturn:
        self.assoc.abort()
        raise AssociationAborted(f"Protocol error: {message} (association aborted)", 0, 0)
