"""``--commit-port``: where the archive calls us back with Storage Commitment reports.

Archives are configured with the modality's AE title, host and port, and
send the N-EVENT-REPORT on an association they open (PS3.4 J.3.3). This
listener accepts such an association only

* for our AE title as called AE title (else A-ASSOCIATE-RJ, permanent,
  "called AE title not recognized");
* for the Storage Commitment Push Model SOP Class (every other presentation
  context is refused; without it the association is rejected);
* while reports are outstanding (else A-ASSOCIATE-RJ, transient).

The archive is the association requestor but the SCP of the class; it
proposes SCP/SCU role selection with the SCP role (PS3.7 D.3.3.4), which we
accept as proposed. Every association is bounded in time: the ARTIM timeout
for its request, the socket timeout for each read.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from collections.abc import Sequence

from storescu.kernel.constants import (
    EXPLICIT_VR_LITTLE_ENDIAN,
    IMPLEMENTATION_CLASS_UID,
    IMPLEMENTATION_VERSION_NAME,
    IMPLICIT_VR_LITTLE_ENDIAN,
    MAX_ASSOCIATION_PDU,
    UNLIMITED_PDU_CAP,
)
from storescu.kernel.errors import RemoteProtocolError, TransportError
from storescu.net.commitment import CommitmentTracker, answer_report, read_message
from storescu.protocol import commitment as sc
from storescu.protocol import dimse
from storescu.protocol.association import (
    Aborted,
    AssociationRequested,
    Connection,
    ConnectionClosed,
    DataReceived,
    NeedData,
    ReleaseConfirmed,
    ReleaseRequested,
    Role,
)
from storescu.protocol.pdu import (
    PC_ABSTRACT_SYNTAX_NOT_SUPPORTED,
    PC_ACCEPTANCE,
    PC_TRANSFER_SYNTAXES_NOT_SUPPORTED,
    AAssociateAC,
    AAssociateRJ,
    AAssociateRQ,
    PresentationContextAC,
    RoleSelection,
    UserInformation,
)

log = logging.getLogger("storescu")

_ARTIM = 10.0
_SYNTAXES = (EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN)


class _Ended(Exception):
    """The association is over (released, aborted or closed)."""


class CommitmentListener:
    """A small acceptor for Storage Commitment reports (we are the SCU of the class).

    Parameters
    ----------
    port : int
        TCP port (0 picks a free one: read :attr:`port`).
    tracker : CommitmentTracker
        The outstanding transactions; its ``calling_aet`` is the only called
        AE title accepted.
    host : str
        Address to bind ("" is every interface: the archive calls from afar).
    max_pdu : int
        Our maximum receive PDU.
    timeout : float
        Socket timeout for each read on an accepted association.
    """

    def __init__(
        self,
        port: int,
        tracker: CommitmentTracker,
        host: str = "",
        max_pdu: int = 16384,
        timeout: float = 30.0,
    ) -> None:
        self.tracker = tracker
        self.max_pdu = max_pdu
        self.timeout = timeout
        self.refused: list[str] = []
        try:
            self._server = socket.create_server((host, port), reuse_port=False)
        except OSError as exc:
            raise TransportError(
                f"--commit-port {port}: cannot listen: {exc.strerror or exc}"
            ) from exc
        self.port: int = self._server.getsockname()[1]
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._sockets: set[socket.socket] = set()
        self._accept = threading.Thread(target=self._serve, name="commit-listener", daemon=True)

    def start(self) -> CommitmentListener:
        """Accept associations in a background thread."""
        log.info("Listening for Storage Commitment reports on port %d", self.port)
        self._accept.start()
        return self

    def stop(self) -> None:
        """Stop listening; wait (bounded) for associations in progress."""
        self._stop.set()
        with contextlib.suppress(OSError):
            self._server.close()
        if self._accept.is_alive():
            self._accept.join(timeout=2)
        for sock in list(self._sockets):  # wake handlers blocked in recv()
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        for thread in self._threads:
            thread.join(timeout=2)

    def __enter__(self) -> CommitmentListener:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _serve(self) -> None:
        self._server.settimeout(0.2)
        while not self._stop.is_set():
            try:
                sock, address = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            peer = f"{address[0]}:{address[1]}"
            thread = threading.Thread(
                target=self._association, args=(sock, peer), name="commit-report", daemon=True
            )
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]
            thread.start()

    def _association(self, sock: socket.socket, peer: str) -> None:
        handler = _Handler(self, sock, peer)
        self._sockets.add(sock)
        try:
            handler.run()
        except _Ended:
            pass
        except (OSError, RemoteProtocolError) as exc:
            log.warning("Storage Commitment association from %s ended: %s", peer, exc)
        finally:
            self._sockets.discard(sock)
            with contextlib.suppress(OSError):
                sock.close()

    def answer(self, rq: AAssociateRQ, peer: str) -> AAssociateAC | AAssociateRJ:
        """Our answer to an A-ASSOCIATE-RQ (see the module's rules)."""
        if rq.called_ae.strip() != self.tracker.calling_aet.strip():
            return self._refuse(
                AAssociateRJ(1, 1, 7),
                f"called AE title '{rq.called_ae}' is not ours ('{self.tracker.calling_aet}')",
                peer,
            )
        answers = []
        accepted = 0
        for ctx in rq.presentation_contexts:
            if ctx.abstract_syntax != sc.STORAGE_COMMITMENT_SOP_CLASS:
                result, syntax = PC_ABSTRACT_SYNTAX_NOT_SUPPORTED, ctx.transfer_syntaxes[0]
            else:
                chosen = next((ts for ts in ctx.transfer_syntaxes if ts in _SYNTAXES), None)
                result = PC_ACCEPTANCE if chosen else PC_TRANSFER_SYNTAXES_NOT_SUPPORTED
                syntax = chosen or ctx.transfer_syntaxes[0]
                accepted += chosen is not None
            answers.append(PresentationContextAC(ctx.context_id, result, syntax))
        if not accepted:
            classes = ", ".join(sorted({c.abstract_syntax for c in rq.presentation_contexts}))
            return self._refuse(
                AAssociateRJ(1, 1, 1),
                f"it proposes no Storage Commitment Push Model context (only {classes})",
                peer,
            )
        if not self.tracker.outstanding:
            return self._refuse(AAssociateRJ(2, 3, 1), "no report is outstanding", peer)
        # PS3.7 D.3.3.4: accept the roles the archive proposes for the class.
        roles = tuple(
            RoleSelection(r.sop_class_uid, r.scu_role, r.scp_role)
            for r in rq.user_information.role_selections
            if r.sop_class_uid == sc.STORAGE_COMMITMENT_SOP_CLASS
        )
        return AAssociateAC(
            called_ae=rq.called_ae,
            calling_ae=rq.calling_ae,
            presentation_contexts=tuple(answers),
            user_information=UserInformation(
                max_length=self.max_pdu,
                implementation_class_uid=IMPLEMENTATION_CLASS_UID,
                implementation_version_name=IMPLEMENTATION_VERSION_NAME,
                role_selections=roles,
            ),
        )

    def _refuse(self, rj: AAssociateRJ, why: str, peer: str) -> AAssociateRJ:
        message = f"Storage Commitment listener: refused association from {peer}: {why}"
        log.warning("%s", message)
        self.refused.append(message)
        return rj


class _Handler:
    """One association from the archive, on the acceptor side."""

    def __init__(self, listener: CommitmentListener, sock: socket.socket, peer: str) -> None:
        self.listener = listener
        self.sock = sock
        self.peer = peer
        self.conn = Connection(Role.ACCEPTOR, listener.max_pdu, MAX_ASSOCIATION_PDU)
        self.assembler = dimse.MessageAssembler(frozenset())
        self.explicit: dict[int, bool] = {}
        self.max_fragment = UNLIMITED_PDU_CAP - 6
        self.calling = "?"

    def send(self, buffers: Sequence[bytes | bytearray | memoryview]) -> None:
        for buf in buffers:
            self.sock.sendall(buf)

    def run(self) -> None:
        self.conn.transport_indication()
        while True:
            context_id, command, data = read_message(self.assembler, self._pdvs)
            if command.command_field != sc.N_EVENT_REPORT_RQ:
                log.error(
                    "Storage Commitment listener: %s sent command field 0x%04X: aborted",
                    self.peer,
                    command.command_field or 0,
                )
                self.send(self.conn.abort(2, 0))
                raise _Ended
            who = f"{self.calling} at {self.peer}"
            rsp = answer_report(
                command, data, self.explicit[context_id], self.listener.tracker, who
            )
            self.send(
                self.conn.send_data(
                    context_id, rsp, is_command=True, last=True, max_fragment=self.max_fragment
                )
            )

    def _pdvs(self) -> list[tuple[int, bool, bool, bytes]]:
        """The PDVs of the next P-DATA; association events in between are handled here."""
        while True:
            event = self.conn.next_event()
            pending = self.conn.data_to_send()
            if pending:
                self.send(pending)
            if isinstance(event, NeedData):
                self._receive()
            elif isinstance(event, AssociationRequested):
                self._on_request(event.rq)
            elif isinstance(event, DataReceived):
                return [(p.context_id, p.is_command, p.is_last, bytes(p.data)) for p in event.pdvs]
            elif isinstance(event, ReleaseRequested):
                self.send(self.conn.release_response())
                raise _Ended
            elif isinstance(event, Aborted):
                log.info(
                    "Storage Commitment association from %s aborted: %s", self.peer, event.message
                )
                raise _Ended
            elif isinstance(event, (ConnectionClosed, ReleaseConfirmed)):
                raise _Ended

    def _receive(self) -> None:
        if self.conn.close_requested or self.conn.state.name == "Sta1":
            raise _Ended
        self.sock.settimeout(_ARTIM if self.conn.artim_running else self.listener.timeout)
        try:
            data = self.sock.recv(256 * 1024)
        except TimeoutError:
            if self.conn.artim_running:
                self.conn.artim_expired()
                return
            log.warning(
                "Storage Commitment association from %s: no data for %.0f s: aborted",
                self.peer,
                self.listener.timeout,
            )
            with contextlib.suppress(OSError):
                self.send(self.conn.abort(0, 0))
            raise _Ended from None
        if not data:
            self.conn.transport_closed()
        else:
            self.conn.receive_data(data)

    def _on_request(self, rq: AAssociateRQ) -> None:
        self.calling = rq.calling_ae
        answer = self.listener.answer(rq, self.peer)
        if isinstance(answer, AAssociateRJ):
            self.send(self.conn.reject(answer))
            return
        accepted = {a.context_id for a in answer.presentation_contexts if a.accepted}
        self.explicit = {
            a.context_id: a.transfer_syntax == EXPLICIT_VR_LITTLE_ENDIAN
            for a in answer.presentation_contexts
            if a.accepted
        }
        # run() holds this assembler already (read_message): widen it, do not replace it.
        self.assembler.accepted_contexts = frozenset(accepted)
        peer_max = rq.user_information.max_length or UNLIMITED_PDU_CAP
        self.max_fragment = max(min(peer_max, UNLIMITED_PDU_CAP) - 6, 1)
        log.info("Storage Commitment association from %s (%s) accepted", self.peer, rq.calling_ae)
        self.send(self.conn.accept(answer))
