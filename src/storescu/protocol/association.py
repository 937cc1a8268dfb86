"""The sans-IO Upper Layer connection (PS3.8 section 9), for both roles.

Bytes in, events out; primitives in, buffers out. The caller owns the socket
and the clock:

* local primitives (``request``, ``transport_connected``, ``accept``,
  ``release``, ``abort``, ``send_data``...) return the buffers to write;
* bytes read from the transport go to :meth:`Connection.receive_data`, and
  :meth:`Connection.next_event` returns indications (:class:`DataReceived`,
  :class:`Aborted`...) or :data:`NEED_DATA`;
* some received PDUs make the protocol answer by itself (an A-ABORT after a
  malformed PDU): those buffers wait in :meth:`Connection.data_to_send`;
* :attr:`Connection.close_requested` tells the driver to close the transport;
  :attr:`Connection.artim_running` tells it to run the ARTIM timer and call
  :meth:`Connection.artim_expired` when it fires.

Every transition goes through :func:`storescu.protocol.state.lookup` (Table 9-10).
"""

from __future__ import annotations

from collections import deque
from enum import Enum
from typing import Final

from storescu.kernel.errors import LocalProtocolError, RemoteProtocolError
from storescu.kernel.records import dataclass
from storescu.protocol import pdu as P
from storescu.protocol.state import NEXT_STATE, Action, Event, State, lookup


class Role(Enum):
    """Which side of the association this connection plays."""

    REQUESTOR = "requestor"
    ACCEPTOR = "acceptor"


class NeedData:
    def __repr__(self) -> str:
        return "NEED_DATA"


#: Returned by :meth:`Connection.next_event` when more bytes are needed.
NEED_DATA: Final = NeedData()


@dataclass(frozen=True, slots=True)
class AssociationRequested:
    """A-ASSOCIATE indication (acceptor): answer with accept() or reject()."""

    rq: P.AAssociateRQ


@dataclass(frozen=True, slots=True)
class AssociationAccepted:
    """A-ASSOCIATE confirmation (accept)."""

    ac: P.AAssociateAC


@dataclass(frozen=True, slots=True)
class AssociationRejected:
    """A-ASSOCIATE confirmation (reject); the transport is to be closed."""

    rj: P.AAssociateRJ


@dataclass(frozen=True, slots=True)
class DataReceived:
    """P-DATA indication: the PDVs of one P-DATA-TF PDU."""

    pdvs: tuple[P.PDV, ...]


@dataclass(frozen=True, slots=True)
class ReleaseRequested:
    """A-RELEASE indication; ``collision`` is True in a release collision."""

    collision: bool = False


@dataclass(frozen=True, slots=True)
class ReleaseConfirmed:
    """A-RELEASE confirmation: the association ended normally."""


@dataclass(frozen=True, slots=True)
class Aborted:
    """A-ABORT or A-P-ABORT indication.

    ``by_peer`` is True when the peer sent an A-ABORT or dropped the transport;
    False when this side aborted because the peer broke the protocol (then
    ``source``/``reason`` are what we sent).
    """

    source: int | None
    reason: int | None
    by_peer: bool
    message: str
    #: For a connection lost in the middle of a PDU: what was cut short
    #: (``truncated A-ASSOCIATE-AC: 84 of 584 bytes``), else None.
    truncated: str | None = None


@dataclass(frozen=True, slots=True)
class ConnectionClosed:
    """The transport closed after the association had already ended."""


IndicationEvent = (
    AssociationRequested
    | AssociationAccepted
    | AssociationRejected
    | DataReceived
    | ReleaseRequested
    | ReleaseConfirmed
    | Aborted
    | ConnectionClosed
)

_PDU_EVENTS: Final = {
    P.A_ASSOCIATE_AC: Event.Evt3,
    P.A_ASSOCIATE_RJ: Event.Evt4,
    P.A_ASSOCIATE_RQ: Event.Evt6,
    P.P_DATA_TF: Event.Evt10,
    P.A_RELEASE_RQ: Event.Evt12,
    P.A_RELEASE_RP: Event.Evt13,
    P.A_ABORT: Event.Evt16,
}

Buffer = bytes | bytearray | memoryview


class Connection:
    """One Upper Layer association, without any I/O.

    Parameters
    ----------
    role : Role
        Requestor (the SCU) or acceptor (an SCP).
    max_receive_pdu : int
        Our advertised maximum P-DATA-TF length (PS3.8 D.1); received P-DATA
        PDUs longer than this are a protocol violation. 0 = unlimited.
    max_association_pdu : int
        Bound on received association-control PDUs (A-ASSOCIATE-RQ/AC...).
    """

    def __init__(
        self,
        role: Role,
        max_receive_pdu: int = 16384,
        max_association_pdu: int = 1024 * 1024,
    ) -> None:
        self.role = role
        self.state = State.Sta1
        self.close_requested = False
        self.artim_running = False
        self._reader = P.PDUReader(max_receive_pdu, max_association_pdu)
        self._events: deque[IndicationEvent] = deque()
        self._outbox: list[Buffer] = []
        self._rq: P.AAssociateRQ | None = None
        self._stream_broken = False

    # ----------------------------------------------------------- machinery

    def _transition(self, event: Event) -> Action:
        action = lookup(event, self.state)
        if action is None:
            raise LocalProtocolError(
                f"{event.name} ({event.value}) is not allowed in {self.state.name}"
            )
        self.state = NEXT_STATE[action]
        return action

    def data_to_send(self) -> list[Buffer]:
        """Return (and forget) buffers the protocol produced on its own."""
        out, self._outbox = self._outbox, []
        return out

    # ---------------------------------------------------- local primitives

    def request(self, rq: P.AAssociateRQ) -> None:
        """A-ASSOCIATE request (Evt1, AE-1): the driver must now connect."""
        self._transition(Event.Evt1)
        self._rq = rq

    def transport_connected(self) -> list[Buffer]:
        """Transport connect confirmation (Evt2, AE-2): send the A-ASSOCIATE-RQ."""
        self._transition(Event.Evt2)
        assert self._rq is not None  # AE-1 stored it
        return [self._rq.encode()]

    def transport_indication(self) -> None:
        """A peer connected to us (Evt5, AE-5): await its A-ASSOCIATE-RQ."""
        self._transition(Event.Evt5)
        self.artim_running = True

    def accept(self, ac: P.AAssociateAC) -> list[Buffer]:
        """A-ASSOCIATE response accept (Evt7, AE-7)."""
        self._transition(Event.Evt7)
        return [ac.encode()]

    def reject(self, rj: P.AAssociateRJ) -> list[Buffer]:
        """A-ASSOCIATE response reject (Evt8, AE-8)."""
        self._transition(Event.Evt8)
        self.artim_running = True
        return [rj.encode()]

    def send_pdata(self, pdata: P.PDataTF) -> list[Buffer]:
        """P-DATA request (Evt9, DT-1 or AR-7) with a ready-made PDU."""
        self._transition(Event.Evt9)
        return [pdata.encode()]

    def send_data(
        self,
        context_id: int,
        data: Buffer,
        *,
        is_command: bool,
        last: bool,
        max_fragment: int,
    ) -> list[Buffer]:
        """P-DATA requests for one message fragment stream, without copying ``data``.

        ``data`` is cut into PDVs of at most ``max_fragment`` bytes, one PDV per
        P-DATA-TF, returned as ``[header, slice, header, slice, ...]`` for a
        scatter-gather write. ``last`` marks whether the final PDV ends the
        command or dataset (PS3.8 Annex E.2). Each PDU is one Evt9.
        """
        if max_fragment < 1:
            # A size below 1 never advances: the loop below would append headers
            # forever (unbounded memory) instead of failing.
            raise ValueError(f"max_fragment must be at least 1, not {max_fragment}")
        view = memoryview(data)
        total = len(view)
        out: list[Buffer] = []
        offset = 0
        header = P.pdata_pdv_header
        before = self.state
        self._transition(Event.Evt9)
        # Evt9 leaves Sta6 (DT-1) and Sta7 (AR-7) as they are: the same cell
        # holds for every further PDU of this call, so it is looked up once.
        again = self.state is not before
        first = True
        while True:
            chunk = min(max_fragment, total - offset)
            end = offset + chunk
            if again and not first:
                self._transition(Event.Evt9)
            first = False
            out.append(header(context_id, chunk, is_command, last and end == total))
            out.append(view[offset:end])
            offset = end
            if offset >= total:
                return out

    def release(self) -> list[Buffer]:
        """A-RELEASE request (Evt11, AR-1)."""
        self._transition(Event.Evt11)
        return [P.AReleaseRQ().encode()]

    def release_response(self) -> list[Buffer]:
        """A-RELEASE response (Evt14: AR-4 or AR-9)."""
        action = self._transition(Event.Evt14)
        if action is Action.AR_4:
            self.artim_running = True
        return [P.AReleaseRP().encode()]

    def abort(self, source: int = 0, reason: int = 0) -> list[Buffer]:
        """A-ABORT request (Evt15: AA-1, or AA-2 while still connecting)."""
        action = self._transition(Event.Evt15)
        if action is Action.AA_2:
            self.artim_running = False
            self.close_requested = True
            return []
        self.artim_running = True
        return [P.AAbort(source, reason).encode()]

    def transport_closed(self) -> None:
        """Transport connection closed indication (Evt17)."""
        if self.state is State.Sta1:
            return
        action = self._transition(Event.Evt17)
        self.artim_running = False
        if action is Action.AR_5 or action is Action.AA_5:
            self._events.append(ConnectionClosed())
        else:  # AA-4: A-P-ABORT indication
            # RELIABILITY rows 23/24: say when the close cut a PDU short.
            partial = None if self._stream_broken else self._reader.partial()
            message = "the peer closed the connection (A-P-ABORT)"
            if partial is not None:
                message += f" in the middle of a PDU ({partial})"
            self._events.append(Aborted(None, None, True, message, partial))

    def artim_expired(self) -> None:
        """ARTIM timer expired (Evt18, AA-2)."""
        if self.state not in (State.Sta2, State.Sta13):
            self.artim_running = False
            return
        self._transition(Event.Evt18)
        self.artim_running = False
        self.close_requested = True
        self._events.append(ConnectionClosed())

    # ------------------------------------------------------------ receiving

    def receive_data(self, data: Buffer) -> None:
        """Feed bytes read from the transport (decoded lazily by next_event)."""
        if self._stream_broken or self.state is State.Sta1:
            return
        self._reader.feed(data)

    @property
    def buffered(self) -> int:
        """Received bytes not yet decoded into PDUs."""
        return self._reader.buffered

    def partial_pdu(self) -> str | None:
        """Describe an incomplete received PDU (for timeout messages), or None."""
        return None if self._stream_broken else self._reader.partial()

    def next_event(self) -> IndicationEvent | NeedData:
        """Return the next indication, or NEED_DATA."""
        while not self._events:
            if self._stream_broken or self.state is State.Sta1:
                return NEED_DATA
            try:
                frame = self._reader.next_frame()
                if frame is None:
                    return NEED_DATA
                pdu_type, body = frame
                pdu = P.decode_pdu(pdu_type, body)
            except RemoteProtocolError as exc:
                # Evt19: after a framing error the byte stream has no usable
                # boundaries left, so everything after it is ignored.
                self._stream_broken = True
                self._invalid_pdu(exc)
                continue
            self._on_pdu(pdu)
        return self._events.popleft()

    def _invalid_pdu(self, exc: RemoteProtocolError) -> None:
        action = self._transition(Event.Evt19)
        self._after_peer_violation(action, exc.abort_reason, str(exc))

    def _after_peer_violation(self, action: Action, reason: int, message: str) -> None:
        if action is Action.AA_1:
            self._outbox.append(P.AAbort(0, 0).encode())
            self.artim_running = True
        elif action is Action.AA_7:
            self._outbox.append(P.AAbort(2, reason).encode())
        elif action is Action.AA_8:
            self._outbox.append(P.AAbort(2, reason).encode())
            self.artim_running = True
            self._events.append(Aborted(2, reason, False, message))
        # AA-6 ignores the PDU.

    def _on_pdu(self, pdu: P.PDU) -> None:
        event = _PDU_EVENTS[pdu.pdu_type]
        action = self._transition(event)
        if action is Action.AE_3:
            assert isinstance(pdu, P.AAssociateAC)
            self._events.append(AssociationAccepted(pdu))
        elif action is Action.AE_4:
            assert isinstance(pdu, P.AAssociateRJ)
            self.close_requested = True
            self._events.append(AssociationRejected(pdu))
        elif action is Action.AE_6:
            assert isinstance(pdu, P.AAssociateRQ)
            self.artim_running = False
            if not pdu.protocol_version & 1:
                # PS3.8 9.3.2: bit 0 of the protocol version must be set; we
                # reject (source 2, reason 2: protocol version not supported).
                self.state = State.Sta13
                self.artim_running = True
                self._outbox.append(P.AAssociateRJ(1, 2, 2).encode())
            else:
                self._events.append(AssociationRequested(pdu))
        elif action in (Action.DT_2, Action.AR_6):
            assert isinstance(pdu, P.PDataTF)
            self._events.append(DataReceived(pdu.pdvs))
        elif action is Action.AR_2:
            self._events.append(ReleaseRequested())
        elif action is Action.AR_8:
            if self.role is Role.ACCEPTOR:
                self.state = State.Sta10
            self._events.append(ReleaseRequested(collision=True))
        elif action in (Action.AR_3, Action.AR_10):
            if action is Action.AR_3:
                self.close_requested = True
            self._events.append(ReleaseConfirmed())
        elif action is Action.AA_3:
            assert isinstance(pdu, P.AAbort)
            self.close_requested = True
            self._events.append(
                Aborted(pdu.source, pdu.reason, True, describe_abort(pdu.source, pdu.reason))
            )
        elif action is Action.AA_2:
            self.artim_running = False
            self.close_requested = True
            self._events.append(ConnectionClosed())
        else:
            self._after_peer_violation(
                action,
                P.ABORT_UNEXPECTED_PDU,
                f"unexpected {type(pdu).__name__} in state {self.state.name}",
            )


_ABORT_SOURCES: Final = {
    0: "DICOM UL service-user",
    1: "reserved",
    2: "DICOM UL service-provider",
}
_ABORT_REASONS: Final = {
    0: "reason-not-specified",
    1: "unrecognized-PDU",
    2: "unexpected-PDU",
    3: "reserved",
    4: "unrecognized-PDU-parameter",
    5: "unexpected-PDU-parameter",
    6: "invalid-PDU-parameter-value",
}


def describe_abort(source: int, reason: int) -> str:
    """Readable text for an A-ABORT's source and reason (PS3.8 Table 9-26)."""
    source_text = _ABORT_SOURCES.get(source, "unknown source")
    if source == 2:
        reason_text = _ABORT_REASONS.get(reason, "unknown reason")
    else:
        reason_text = "reason not significant"
    return f"A-ABORT from {source_text} (source {source}), {reason_text} (reason {reason})"


_RJ_RESULTS: Final = {1: "Rejected Permanent", 2: "Rejected Transient"}
_RJ_SOURCES: Final = {
    1: "Service User",
    2: "Service Provider (ACSE related function)",
    3: "Service Provider (Presentation related function)",
}
_RJ_REASONS: Final = {
    (1, 1): "No Reason",
    (1, 2): "Application Context Name Not Supported",
    (1, 3): "Calling AE Title Not Recognized",
    (1, 7): "Called AE Title Not Recognized",
    (2, 1): "No Reason",
    (2, 2): "Protocol Version Not Supported",
    (3, 1): "Temporary Congestion",
    (3, 2): "Local Limit Exceeded",
}


def describe_reject(result: int, source: int, reason: int) -> list[str]:
    """DCMTK-like lines describing an A-ASSOCIATE-RJ (PS3.8 Table 9-21)."""
    return [
        f"Result: {_RJ_RESULTS.get(result, 'Unknown Result')} ({result})",
        f"Source: {_RJ_SOURCES.get(source, 'Unknown Source')} ({source})",
        f"Reason: {_RJ_REASONS.get((source, reason), 'Unknown Reason')} ({reason})",
    ]
