"""What the peer answers: the next indication (:func:`wait_event`), a valid C-STORE-RSP
(PS3.7 9.3.1.2), its log line, aborts as text."""

from __future__ import annotations

from storescu.kernel.errors import (
    AssociationAborted,
    RemoteProtocolError,
    StorescuError,
    TimeoutError_,
)
from storescu.kernel.records import dataclass
from storescu.net.transport import Transport
from storescu.protocol import dimse
from storescu.protocol.association import Aborted, Connection, IndicationEvent, NeedData
from storescu.protocol.negotiation import AcceptedContext
from storescu.protocol.status import Status, classify

__all__ = ["StoreResponse", "wait_event"]


@dataclass(frozen=True, slots=True)
class StoreResponse:
    """A validated C-STORE-RSP."""

    status: Status
    error_comment: str | None
    warnings: tuple[str, ...]


def _validate_store_response(
    command: dimse.Command, message_id: int, sop_instance_uid: str, context: AcceptedContext
) -> StoreResponse:
    # PS3.7 9.3.1.2 and RELIABILITY rows 30-32: validate before believing it.
    if command.command_field != dimse.C_STORE_RSP:
        raise RemoteProtocolError(
            f"expected C-STORE-RSP (0x8001), got command field {_hex(command.command_field)}"
        )
    responded = command.get_int(dimse.MESSAGE_ID_BEING_RESPONDED_TO)
    if responded != message_id:
        raise RemoteProtocolError(
            f"response is for MsgID {responded}, request was MsgID {message_id}"
        )
    code = command.get_int(dimse.STATUS)
    if code is None:
        raise RemoteProtocolError("C-STORE-RSP without Status", 0, 0)
    warnings: list[str] = []
    instance = command.get_str(dimse.AFFECTED_SOP_INSTANCE_UID)
    if instance is not None and instance != sop_instance_uid:
        warnings.append(f"response names SOP Instance {instance}, request was {sop_instance_uid}")
    sop_class = command.get_str(dimse.AFFECTED_SOP_CLASS_UID)
    if sop_class is not None and sop_class != context.abstract_syntax:
        warnings.append(
            f"response names SOP Class {sop_class}, request was {context.abstract_syntax}"
        )
    return StoreResponse(classify(code), command.get_str(dimse.ERROR_COMMENT), tuple(warnings))


def _hex(value: int | None) -> str:
    return "none" if value is None else f"0x{value:04X}"


def _describe_command(command: dimse.Command) -> str:
    parts = []
    for tag, value in sorted(command.elements.items()):
        if isinstance(value, bytes):
            shown = value.decode("ascii", "replace").rstrip("\x00 ")
        elif isinstance(value, int):
            shown = f"0x{value:04X}"
        else:
            shown = str(value)
        parts.append(f"(0000,{tag:04X})={shown}")
    return " ".join(parts)


def _abort_text(event: Aborted, peer: str | None = None) -> str:
    # Name the peer (RELIABILITY invariant 1) and what a close cut short (rows 23, 24).
    who = f"Peer {peer}" if peer else "Peer"
    if event.by_peer:
        if event.source is None:
            if event.truncated:
                return (
                    f"{who} aborted Association (A-P-ABORT: connection closed in the "
                    f"middle of a PDU, {event.truncated})"
                )
            return f"{who} aborted Association (A-P-ABORT: connection closed)"
        return f"{who} aborted Association ({event.message})"
    source = f"peer {peer}" if peer else "peer"
    return f"Protocol error from {source}: {event.message} (association aborted)"


def _unexpected(event: IndicationEvent, when: str, peer: str | None = None) -> StorescuError:
    if isinstance(event, Aborted):
        return AssociationAborted(_abort_text(event, peer), event.source, event.reason)
    return AssociationAborted(f"Protocol error: unexpected {type(event).__name__} {when}")


def wait_event(
    transport: Transport, connection: Connection, timeout: float | None, kind: str
) -> IndicationEvent:
    """Read until the core yields an indication; flush what the core answers by itself."""
    unsent = transport.unsent()
    while True:
        event = connection.next_event()
        pending = connection.data_to_send()
        if pending:
            try:
                transport.send(pending, timeout)
            except StorescuError:
                pass
        if not isinstance(event, NeedData):
            if isinstance(event, Aborted) and not event.by_peer:
                # We aborted because the peer broke the protocol (AA-8).
                transport.close()
                connection.transport_closed()
            return event
        try:
            data = transport.receive(timeout, kind)
        except TimeoutError_ as exc:
            now = transport.unsent()
            if now is not None and unsent is not None and now < unsent:
                # RELIABILITY row 22: the peer is still reading what we sent (our
                # send buffer drained since the last look): slow, not dead. The
                # timeout counts from its last progress, not from our last write.
                unsent = now
                continue
            partial = connection.partial_pdu()
            if partial is None:
                raise
            # RELIABILITY row 24: a PDU whose length promised more than came.
            raise TimeoutError_(f"{exc} ({partial})", exc.kind) from exc
        if not data:
            connection.transport_closed()
            event = connection.next_event()
            if isinstance(event, NeedData):
                raise AssociationAborted("Peer closed the connection (A-P-ABORT)")
            return event
        connection.receive_data(data)
