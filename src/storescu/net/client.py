"""Blocking association driver for the SCU: the sans-IO core plus a socket.

:class:`StoreAssociation` opens one association, sends C-STORE and C-ECHO
requests -- one at a time (:meth:`StoreAssociation.send_store`), or up to the
negotiated Asynchronous Operations Window (PS3.7 D.3.3.3) with
:meth:`StoreAssociation.start_store` and :meth:`StoreAssociation.next_store_response`
-- validates every response, and ends with a release or an abort.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final, NoReturn, Protocol, TypeVar

from storescu.kernel.constants import (
    IMPLEMENTATION_CLASS_UID,
    IMPLEMENTATION_VERSION_NAME,
    MAX_ASSOCIATION_PDU,
    UNLIMITED_PDU_CAP,
)
from storescu.kernel.errors import (
    AssociationAborted,
    NegotiationError,
    RemoteProtocolError,
    StorescuError,
    TimeoutError_,
    TransportError,
)
from storescu.kernel.errors import (
    AssociationRejected as AssociationRejectedError,
)
from storescu.kernel.records import dataclass
from storescu.net.responses import (
    StoreResponse,
    _abort_text,
    _describe_command,
    _hex,
    _unexpected,
    _validate_store_response,
)
from storescu.net.responses import (
    wait_event as _wait,
)
from storescu.net.settings import AssociationSettings as AssociationSettings
from storescu.net.transport import Transport, TransportInterrupted
from storescu.protocol import dimse
from storescu.protocol.association import (
    Aborted,
    AssociationAccepted,
    AssociationRejected,
    Connection,
    DataReceived,
    IndicationEvent,
    ReleaseConfirmed,
    ReleaseRequested,
    Role,
    describe_reject,
)
from storescu.protocol.negotiation import AcceptedContext, AcceptedContexts, accepted_contexts
from storescu.protocol.pdu import (
    AAssociateAC,
    AAssociateRQ,
    PresentationContextAC,
    PresentationContextRQ,
    UserInformation,
)
from storescu.protocol.status import Status, classify
from storescu.protocol.window import Outstanding, negotiated_window

if TYPE_CHECKING:
    pass  # for annotations: imported at run time only with TLS

log = logging.getLogger("storescu")

_T = TypeVar("_T")

#: Bytes read from a file per scatter-gather write (many PDUs per system call).
_SEND_BLOCK = 1024 * 1024


class DatasetSource(Protocol):
    """What :meth:`StoreAssociation.send_store` reads the dataset from.

    ``length`` None: not known until the end (a dataset compressed while it
    is sent); the source may then say ``exhausted`` once it gave out its
    last byte, so the last fragment is marked without a further read.
    """

    @property
    def length(self) -> int | None: ...

    def readinto(self, buf: memoryview) -> int:
        """Fill ``buf`` from the dataset; return the byte count (0 at the end)."""
        ...


class StoreAssociation:
    """One open association to a Storage SCP (blocking).

    Use :meth:`open`; afterwards :meth:`send_store` / :meth:`echo`, then
    :meth:`release` or :meth:`abort`. After any exception from a send, the
    association is gone (it was aborted) and :attr:`is_open` is False.
    """

    def __init__(
        self,
        transport: Transport,
        connection: Connection,
        settings: AssociationSettings,
        accepted: AcceptedContexts,
        peer_max_pdu: int,
        peer_implementation: tuple[str, str],
    ) -> None:
        self.transport = transport
        self.connection = connection
        self.settings = settings
        self.accepted = accepted
        self.peer_max_pdu = peer_max_pdu
        self.peer_implementation = peer_implementation
        self._next_message_id = 1
        # Found by the fuzz run: the send buffer below is sized from this, so a
        # peer announcing a 2-4 GiB maximum PDU made us allocate that much.
        # PDUs smaller than the peer allows are always legal (PS3.8 D.1): cap it.
        limit = min(peer_max_pdu or UNLIMITED_PDU_CAP, UNLIMITED_PDU_CAP)
        if settings.max_send_pdu:
            limit = min(limit, settings.max_send_pdu)
        # PS3.8 9.3.5: the PDU length covers the PDV's 4-byte length and its
        # 2 header bytes, so each fragment carries at most limit - 6 bytes.
        self.max_fragment = max(limit - 6, 1)
        self._block_size = max(
            self.max_fragment, (_SEND_BLOCK // self.max_fragment) * self.max_fragment
        )
        # Grown on demand (_send_message): one 9 KB file need not zero 1 MiB.
        self._block = bytearray()
        self._assembler = dimse.MessageAssembler(frozenset(accepted.by_id))
        self.is_open = True
        #: False while a request is being sent; True once its last fragment
        #: went out (then a failure leaves the store's outcome unknown).
        self.request_complete = True
        #: Dataset bytes of the current (or last) C-STORE handed to the socket:
        #: all of them once the request is complete; fewer when the send failed.
        self.dataset_bytes_sent = 0
        #: The peer's answer for every presentation context, by context ID.
        self.answers: dict[int, PresentationContextAC] = {}
        #: The presentation context the last response came on.
        self._response_context: int | None = None
        #: How many C-STOREs may be under way at once (PS3.7 D.3.3.3); set
        #: from the A-ASSOCIATE-AC by :meth:`_from_accept`.
        self.window = 1
        #: The requests started with :meth:`start_store` and not yet answered.
        self.outstanding: Outstanding[_Request] = Outstanding(1)

    # -------------------------------------------------------------- opening

    @classmethod
    def open(
        cls,
        host: str,
        port: int,
        contexts: tuple[PresentationContextRQ, ...],
        settings: AssociationSettings,
        family: int = 0,
    ) -> StoreAssociation:
        """Connect and negotiate an association.

        The steps (PS3.8 9.1.1, 9.3.2-9.3.4): the A-ASSOCIATE-RQ is built and
        handed to the sans-IO connection, the transport connects (with the TLS
        handshake), the RQ goes out and the answer is awaited; an
        A-ASSOCIATE-RJ, an abort or anything else is raised, an
        A-ASSOCIATE-AC is checked before the association is returned.

        Raises
        ------
        AssociationRejected
            The peer sent A-ASSOCIATE-RJ.
        AssociationAborted
            The peer aborted or closed the connection during negotiation, or
            broke the protocol.
        NegotiationError
            The peer accepted none of the proposed presentation contexts.
        TransportError, TimeoutError_
            Connecting failed or a timeout expired.
        """
        rq = _associate_request(contexts, settings)
        connection = Connection(Role.REQUESTOR, settings.max_pdu, MAX_ASSOCIATION_PDU)
        connection.request(rq)
        transport = _connect(host, port, settings, family)
        event = _handshake(transport, connection, settings, len(contexts))
        ac = _expect_accept(transport, event)
        return cls._from_accept(transport, connection, settings, contexts, ac)

    @classmethod
    def _from_accept(
        cls,
        transport: Transport,
        connection: Connection,
        settings: AssociationSettings,
        contexts: tuple[PresentationContextRQ, ...],
        ac: AAssociateAC,
    ) -> StoreAssociation:
        """The association `ac` accepted, once its answers are checked.

        Raises NegotiationError (after an A-ABORT) when a positive user
        identity response was asked for and is missing, or when no proposed
        presentation context was accepted.
        """
        accepted, warnings = accepted_contexts(contexts, ac.presentation_contexts)
        if log.isEnabledFor(logging.DEBUG):
            user = ac.user_information
            log.debug(
                "Received A-ASSOCIATE-AC: %d of %d presentation contexts accepted, "
                "max PDU %d, implementation %s %s",
                len(accepted),
                len(contexts),
                user.max_length,
                user.implementation_class_uid,
                user.implementation_version_name,
            )
        for warning in warnings:
            log.warning("%s", warning)
        user = ac.user_information
        assoc = cls(
            transport,
            connection,
            settings,
            accepted,
            user.max_length,
            (user.implementation_class_uid, user.implementation_version_name),
        )
        assoc._check_user_identity(user)
        assoc._check_peer_max_pdu()
        assoc.window = negotiated_window(settings.async_ops, user.async_ops)
        assoc.outstanding = Outstanding(assoc.window)
        if settings.async_ops is not None:
            log.info(
                "Asynchronous Operations Window: proposed %s, answered %s: %d outstanding",
                settings.async_ops,
                user.async_ops,
                assoc.window,
            )
        assoc.answers = {answer.context_id: answer for answer in ac.presentation_contexts}
        if not accepted.contexts:
            assoc.abort()
            error = NegotiationError("No Acceptable Presentation Contexts")
            error.answers = dict(assoc.answers)
            raise error
        return assoc

    def _check_peer_max_pdu(self) -> None:
        """Abort and raise when the peer's maximum PDU cannot carry a data byte.

        PS3.8 D.1 and 9.3.5: the maximum bounds the P-DATA-TF variable field;
        a PDV item takes 4 length bytes and 2 header bytes before its data,
        so below 7 (other than 0, "no limit") no fragment can go out at all.
        """
        size = self.peer_max_pdu
        if 0 < size < MIN_PEER_MAX_PDU:
            self.abort()
            raise NegotiationError(
                f"peer {self.transport.peer}: its maximum PDU length {size} is below "
                f"{MIN_PEER_MAX_PDU}, the smallest "
                "P-DATA-TF that carries data (PS3.8 D.1, 9.3.5); association aborted"
            )

    def _check_user_identity(self, user: UserInformation) -> None:
        """``-rsp``: the A-ASSOCIATE-AC must answer the user identity (else abort, raise)."""
        identity = self.settings.user_identity
        if identity is None or not identity.positive_response_requested:
            return
        if user.user_identity_response is None:
            # PS3.7 D.3.3.7.2: the acceptor answers only when asked and
            # when it accepted the identity; DCMTK's -rsp fails here.
            self.abort()
            raise NegotiationError(
                "User Identity Negotiation failed: positive response requested but none received"
            )
        log.info("User identity accepted by the peer")

    # ------------------------------------------------------------- messages

    def next_message_id(self) -> int:
        """Allocate the next Message ID (1, 2, ... wrapping within 16 bits)."""
        message_id = self._next_message_id
        self._next_message_id = message_id % 0xFFFF + 1
        return message_id

    def send_store(
        self,
        context: AcceptedContext,
        sop_class_uid: str,
        sop_instance_uid: str,
        dataset: DatasetSource,
        message_id: int,
        idle: Callable[[], object] | None = None,
        priority: int = dimse.PRIORITY_MEDIUM,
    ) -> StoreResponse:
        """Send one C-STORE-RQ with its dataset and return the validated response.

        `idle`, when given, is called once the request is out, before waiting
        for the response: work for the next store (reading its file) then
        overlaps with the peer storing this one. `priority` is the request's
        Priority (PS3.7 9.1.1.1.9: 0 MEDIUM, DCMTK's only one; 1 HIGH; 2 LOW).

        Raises
        ------
        AssociationAborted, TransportError, TimeoutError_
            The association is gone; whether the peer stored the instance is
            unknown unless the exception says the dataset was never complete.
        """
        command = dimse.encode_c_store_rq(message_id, sop_class_uid, sop_instance_uid, priority)
        if log.isEnabledFor(logging.DEBUG):
            log.debug(
                "C-STORE-RQ: MsgID %d, context %d, class %s, instance %s, priority %s",
                message_id,
                context.context_id,
                sop_class_uid,
                sop_instance_uid,
                _PRIORITY_NAMES.get(priority, f"0x{priority:04X}"),
            )
        self.request_complete = False
        self.dataset_bytes_sent = 0
        self._guard(lambda: self._send_message(context.context_id, command, dataset))
        self.request_complete = True
        if idle is not None:
            idle()
        rsp = self._guard(lambda: self._wait_response(context.context_id, message_id))
        if log.isEnabledFor(logging.DEBUG):
            log.debug("Received command set: %s", _describe_command(rsp))
        try:
            response = _validate_store_response(rsp, message_id, sop_instance_uid, context)
        except RemoteProtocolError as exc:
            self._protocol_abort(str(exc))
        if self._response_context != context.context_id:
            # RELIABILITY row 32: believed (the Message ID matches), but said.
            other = (
                f"response came on presentation context {self._response_context}, "
                f"request was on {context.context_id}"
            )
            response = StoreResponse(
                response.status, response.error_comment, (*response.warnings, other)
            )
        return response

    def start_store(
        self,
        context: AcceptedContext,
        sop_class_uid: str,
        sop_instance_uid: str,
        dataset: DatasetSource,
        message_id: int,
        priority: int = dimse.PRIORITY_MEDIUM,
    ) -> None:
        """Send one C-STORE-RQ and its dataset without waiting for the response.

        The request joins :attr:`outstanding` before its first byte goes out:
        one more than the window allows raises LocalProtocolError and sends
        nothing (PS3.7 D.3.3.3). Collect the responses with
        :meth:`next_store_response`.

        Raises
        ------
        AssociationAborted, TransportError, TimeoutError_
            The association is gone (:attr:`request_complete` says whether
            this request went out whole); the requests still in
            :attr:`outstanding` have an unknown outcome.
        """
        self.outstanding.add(message_id, _Request(message_id, sop_instance_uid, context))
        command = dimse.encode_c_store_rq(message_id, sop_class_uid, sop_instance_uid, priority)
        if log.isEnabledFor(logging.DEBUG):
            log.debug(
                "C-STORE-RQ: MsgID %d, context %d, class %s, instance %s, priority %s "
                "(%d outstanding)",
                message_id,
                context.context_id,
                sop_class_uid,
                sop_instance_uid,
                _PRIORITY_NAMES.get(priority, f"0x{priority:04X}"),
                len(self.outstanding),
            )
        self.request_complete = False
        self.dataset_bytes_sent = 0
        self._guard(lambda: self._send_message(context.context_id, command, dataset))
        self.request_complete = True

    def next_store_response(self) -> tuple[int, StoreResponse]:
        """Wait for the response to any outstanding C-STORE (in any order).

        Returns the Message ID it answers and the validated response. The
        DIMSE timeout (``-td``) counts from the start of this wait. A response
        for a Message ID that is not outstanding is a protocol error: the
        association is aborted (PS3.7 9.3.1.2; RELIABILITY row 30).

        Raises
        ------
        AssociationAborted, TransportError, TimeoutError_
            The association is gone; every request still in
            :attr:`outstanding` has an unknown outcome.
        """
        rsp = self._guard(lambda: self._wait_response(0, 0))
        if log.isEnabledFor(logging.DEBUG):
            log.debug("Received command set: %s", _describe_command(rsp))
        responded = rsp.get_int(dimse.MESSAGE_ID_BEING_RESPONDED_TO)
        try:
            request = self.outstanding.complete(responded)  # refuses None
            response = _validate_store_response(
                rsp, request.message_id, request.instance, request.context
            )
        except RemoteProtocolError as exc:
            self._protocol_abort(str(exc), exc.abort_reason)
        if self._response_context != request.context.context_id:
            other = (
                f"response came on presentation context {self._response_context}, "
                f"request was on {request.context.context_id}"
            )
            response = StoreResponse(
                response.status, response.error_comment, (*response.warnings, other)
            )
        return request.message_id, response

    def echo(self) -> Status:
        """Send a C-ECHO-RQ on the Verification context and return its status."""
        context = next(
            (c for c in self.accepted.contexts if c.abstract_syntax == "1.2.840.10008.1.1"),
            None,
        )
        if context is None:
            raise NegotiationError("the peer did not accept the Verification SOP Class")
        message_id = self.next_message_id()
        command = dimse.encode_c_echo_rq(message_id)
        self._guard(lambda: self._send_message(context.context_id, command, None))
        rsp = self._guard(lambda: self._wait_response(context.context_id, message_id))
        if rsp.command_field != dimse.C_ECHO_RSP:
            self._protocol_abort("C-ECHO response has the wrong command field")
        status = rsp.get_int(dimse.STATUS)
        if status is None:
            self._protocol_abort("C-ECHO response without a Status")
        return classify(status)

    def _send_message(self, context_id: int, command: bytes, dataset: DatasetSource | None) -> None:
        conn = self.connection
        timeout = self.settings.socket_timeout
        buffers = conn.send_data(
            context_id, command, is_command=True, last=True, max_fragment=self.max_fragment
        )
        if dataset is None:
            self.transport.send(buffers, timeout)
            return
        remaining = dataset.length
        if remaining is None:
            self._send_unknown_length(context_id, buffers, dataset)
            return
        if len(self._block) < min(remaining, self._block_size):
            fragments = -(-remaining // self.max_fragment)  # whole PDUs per read
            self._block = bytearray(min(self._block_size, fragments * self.max_fragment))
        view = memoryview(self._block)
        if remaining == 0:
            buffers += conn.send_data(
                context_id, b"", is_command=False, last=True, max_fragment=self.max_fragment
            )
            self.transport.send(buffers, timeout)
            return
        while remaining > 0:
            if getattr(self.transport, "interrupted", False):
                # A parallel run is stopping (Transport.interrupt, Ctrl-C): end
                # here, at a PDU boundary, where an A-ABORT can still follow.
                raise TransportInterrupted
            want = min(len(view), remaining)
            got = _read_full(dataset, view[:want])
            if got == 0:
                raise _SourceShrank(f"the file ended {remaining} bytes early while sending")
            remaining -= got
            # The command goes out with the first block: one system call for
            # small files (command + whole dataset).
            buffers += conn.send_data(
                context_id,
                view[:got],
                is_command=False,
                last=remaining == 0,
                max_fragment=self.max_fragment,
            )
            self.transport.send(buffers, timeout)
            self.dataset_bytes_sent += got  # written, not merely read (issue 14.4)
            buffers = []

    def _send_unknown_length(
        self, context_id: int, buffers: list[Any], dataset: DatasetSource
    ) -> None:
        """The dataset of a message whose length is known only at its end.

        What one read gives goes out at once (a frame encoded is on the wire
        while the next one is encoded); the last fragment is the one after
        which the source says it is ``exhausted``, or an empty one when a
        read gives 0 (PS3.8 E.2: the last fragment of the dataset has bit 1
        of the message control header set). A failure of the
        source midway (a frame that failed verification) aborts the
        association: the message cannot be completed, so the peer cannot
        have stored it (PS3.7 8.1), and the error goes up unchanged.
        """
        conn, timeout = self.connection, self.settings.socket_timeout
        if len(self._block) < self._block_size:
            self._block = bytearray(self._block_size)
        view = memoryview(self._block)
        while True:
            if getattr(self.transport, "interrupted", False):
                raise TransportInterrupted  # as in _send_message
            try:
                got = dataset.readinto(view)
            except Exception:
                self.abort()
                raise
            last = got == 0 or bool(getattr(dataset, "exhausted", False))
            buffers += conn.send_data(
                context_id, view[:got], is_command=False, last=last, max_fragment=self.max_fragment
            )
            self.transport.send(buffers, timeout)
            self.dataset_bytes_sent += got
            buffers = []
            if last:
                return

    def _wait_response(self, context_id: int, message_id: int) -> dimse.Command:
        timeout = self.settings.dimse_timeout
        kind = "DIMSE"
        if timeout is None:
            timeout, kind = self.settings.socket_timeout, "socket"
        while True:
            event = _wait(self.transport, self.connection, timeout, kind)
            if isinstance(event, DataReceived):
                for pdv in event.pdvs:
                    message = self._assembler.feed(
                        pdv.context_id, pdv.is_command, pdv.is_last, pdv.data
                    )
                    if isinstance(message, dimse.CommandReceived):
                        self._response_context = message.context_id
                        command = message.command
                        if not command.has_dataset:
                            return command
                        field = command.command_field
                        if not (field or 0) & 0x8000:
                            # RELIABILITY row 31: a request (a C-STORE-RQ...) is no
                            # answer; fail now instead of awaiting its dataset.
                            raise RemoteProtocolError(
                                f"expected a response, got command field {_hex(field)}"
                            )
                        # PS3.7 9.3.1.2, 9.3.5.2: C-STORE-RSP and C-ECHO-RSP carry
                        # no dataset; one that claims to is broken: fail now,
                        # not after waiting for a dataset that need not come.
                        dataset_type = command.get_int(dimse.COMMAND_DATA_SET_TYPE)
                        raise RemoteProtocolError(
                            f"response (command field {_hex(field)}) claims a dataset follows "
                            f"(Command Data Set Type {_hex(dataset_type)}, not 0x0101)"
                        )
                continue
            if isinstance(event, ReleaseRequested):
                self._protocol_abort("the peer requested release while a response was outstanding")
            if isinstance(event, Aborted):
                self._dead()
                raise AssociationAborted(
                    _abort_text(event, self.transport.peer), event.source, event.reason
                )
            self._protocol_abort(f"unexpected {type(event).__name__} while awaiting a response")

    # -------------------------------------------------------------- endings

    def release(self) -> None:
        """Release the association (PS3.8 7.2) and close the connection."""
        if not self.is_open:
            return
        try:
            self.transport.send(self.connection.release(), self.settings.socket_timeout)
            while True:
                event = _wait(self.transport, self.connection, self.settings.acse_timeout, "ACSE")
                if isinstance(event, ReleaseConfirmed):
                    break
                if isinstance(event, Aborted):
                    raise AssociationAborted(
                        _abort_text(event, self.transport.peer), event.source, event.reason
                    )
                if isinstance(event, DataReceived):
                    continue  # PS3.8 AR-6: late data during release is delivered; dropped here
                if isinstance(event, ReleaseRequested):
                    # Release collision (PS3.8 9.2.3, AR-8/AR-9): as requestor we answer.
                    self.transport.send(
                        self.connection.release_response(), self.settings.socket_timeout
                    )
                    continue
                raise _unexpected(event, "while awaiting A-RELEASE-RP", self.transport.peer)
        except StorescuError:
            self._dead()
            raise
        self._dead()

    def abort(self) -> None:
        """Send an A-ABORT (service user) and close; never raises."""
        if not self.is_open:
            return
        try:
            self._send_abort()
        finally:
            self._dead()

    def _send_abort(self) -> None:
        """Send an A-ABORT (service user) unless the stream stops inside a PDU."""
        if self.transport.torn:
            # A write was cut short mid-PDU (Ctrl-C, socket timeout): the peer
            # would read an A-ABORT as the rest of that PDU. Closing is the
            # clean end left (the peer sees an A-P-ABORT).
            return
        try:
            self.transport.send(self.connection.abort(0, 0), self.settings.socket_timeout)
        except StorescuError:
            pass

    def _dead(self) -> None:
        self.is_open = False
        self.transport.close()
        self.connection.transport_closed()

    def _protocol_abort(self, message: str, reason: int = 0) -> NoReturn:
        """The peer broke DIMSE: abort (PS3.7 says the SCU aborts) and raise."""
        self._send_abort()
        self._dead()
        raise AssociationAborted(f"Protocol error: {message} (association aborted)", 0, reason)

    def _guard(self, func: Callable[[], _T]) -> _T:
        """Run a send/receive step; on any failure make sure the association is gone."""
        try:
            return func()
        except RemoteProtocolError as exc:
            self._protocol_abort(str(exc), exc.abort_reason)
        except (TransportError, TimeoutError_, _SourceShrank):
            self.abort()
            raise
        except AssociationAborted:
            self._dead()
            raise


_PRIORITY_NAMES: Final = {code: name.upper() for name, code in dimse.PRIORITIES.items()}

#: PS3.8 9.3.5: a PDV item's 4 length bytes, 2 header bytes and one data byte.
MIN_PEER_MAX_PDU: Final = 7


@dataclass(frozen=True, slots=True)
class _Request:
    """What a response to an outstanding C-STORE is checked against."""

    message_id: int
    instance: str
    context: AcceptedContext


class _SourceShrank(StorescuError):
    """The input ended before its announced length: the message cannot be completed."""


def _read_full(source: DatasetSource, view: memoryview) -> int:
    got = 0
    total = len(view)
    while got < total:
        n = source.readinto(view[got:])
        if not n:
            break
        got += n
    return got


# ------------------------------------------------------ opening, step by step


def _associate_request(
    contexts: tuple[PresentationContextRQ, ...], settings: AssociationSettings
) -> AAssociateRQ:
    """The A-ASSOCIATE-RQ proposing `contexts` (PS3.8 9.3.2), our user information with it."""
    return AAssociateRQ(
        called_ae=settings.called_aet,
        calling_ae=settings.calling_aet,
        presentation_contexts=contexts,
        user_information=UserInformation(
            max_length=settings.max_pdu,
            implementation_class_uid=IMPLEMENTATION_CLASS_UID,
            implementation_version_name=IMPLEMENTATION_VERSION_NAME,
            user_identity=settings.user_identity,
            role_selections=settings.role_selections,
            async_ops=settings.async_ops,
        ),
    )


def _connect(host: str, port: int, settings: AssociationSettings, family: int) -> Transport:
    """The connection to the peer: TCP, with the TLS handshake when configured.

    The SNI name is ``tls_server_name``, else the host when the context checks
    host names; the handshake is bounded by ``connect_timeout``, else
    ``socket_timeout``.
    """
    server_name = settings.tls_server_name
    if settings.tls is not None and server_name is None and settings.tls.check_hostname:
        server_name = host
    transport = Transport.connect(
        host,
        port,
        settings.connect_timeout,
        family,
        tls=settings.tls,
        server_hostname=server_name,
        handshake_timeout=(
            settings.connect_timeout
            if settings.connect_timeout is not None
            else settings.socket_timeout
        ),
    )
    if transport.is_tls:
        log.info("TLS connection established: %s", transport.describe_tls())
    return transport


def _handshake(
    transport: Transport, connection: Connection, settings: AssociationSettings, proposed: int
) -> IndicationEvent:
    """Send the A-ASSOCIATE-RQ queued in `connection`; return the peer's answer.

    On any failure the transport is closed; giving up on the answer (a timeout,
    Ctrl-C) first sends an A-ABORT.
    """
    try:
        if log.isEnabledFor(logging.DEBUG):
            log.debug("Sending A-ASSOCIATE-RQ with %d presentation contexts", proposed)
        transport.send(connection.transport_connected(), settings.socket_timeout)
        return _wait(transport, connection, settings.acse_timeout, "ACSE")
    except BaseException as exc:
        if isinstance(exc, (TimeoutError_, KeyboardInterrupt)):
            # RELIABILITY row 20: giving up on the A-ASSOCIATE-AC is an
            # A-ABORT request in Sta5 (PS3.8 AA-1), not a silent close.
            try:
                transport.send(connection.abort(0, 0), 1.0)
            except StorescuError:
                pass
        transport.close()
        raise


def _expect_accept(transport: Transport, event: IndicationEvent) -> AAssociateAC:
    """The A-ASSOCIATE-AC of `event`; else close the transport and raise.

    Raises AssociationRejected for an A-ASSOCIATE-RJ (PS3.8 9.3.4), and
    AssociationAborted for an abort, a close or any other PDU.
    """
    if isinstance(event, AssociationRejected):
        transport.close()
        rj = event.rj
        lines = describe_reject(rj.result, rj.source, rj.reason)
        raise AssociationRejectedError(
            "Association Rejected:\n" + "\n".join(lines), rj.result, rj.source, rj.reason
        )
    if not isinstance(event, AssociationAccepted):
        transport.close()
        error = _unexpected(event, "while waiting for A-ASSOCIATE-AC", transport.peer)
        if (
            isinstance(event, Aborted)
            and event.source is None
            and not transport.is_tls
            and not transport.received_any
        ):
            # A TLS-only port closes on the first plain byte without a word.
            raise AssociationAborted(
                f"{error} without answering the A-ASSOCIATE-RQ; if the peer expects "
                "TLS, use +tls KEY CERT or +tla"
            )
        raise error
    return event.ac


#: For the other drivers of this layer (Storage Commitment).
abort_text = _abort_text
