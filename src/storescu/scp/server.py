"""A small Storage SCP on the same sans-IO core: the demo's receiver and a test peer.

It accepts every storage SOP class (and Verification) with the transfer
syntaxes listed in :data:`ACCEPTED_SYNTAXES`, writes each received dataset as
a complete DICOM file (or discards it), and answers every C-STORE with a
configurable status. Received files are named by sequence number, never by a
UID from the peer (a UID is untrusted text, not a path).

Command line: ``python -m storescu.scp [options] port`` (see ``--help``). With
``+tls KEY CERT`` (and DCMTK storescp's other TLS option names) it accepts only
TLS connections (PS3.15 Annex B); see :mod:`storescu.net.tls`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import ssl
import threading
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import BinaryIO, Final

from storescu.dataset.sources import build_file_meta
from storescu.kernel.constants import (
    DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN,
    EXPLICIT_VR_BIG_ENDIAN,
    EXPLICIT_VR_LITTLE_ENDIAN,
    IMPLEMENTATION_CLASS_UID,
    IMPLEMENTATION_VERSION_NAME,
    IMPLICIT_VR_LITTLE_ENDIAN,
    MAX_ASSOCIATION_PDU,
    SOP_CLASS_NAMES,
    UNLIMITED_PDU_CAP,
    VERIFICATION_SOP_CLASS,
)
from storescu.kernel.errors import RemoteProtocolError
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
    AAssociateRQ,
    PresentationContextAC,
    UserInformation,
)
from storescu.protocol.window import answer_window
from storescu.scp.commitment import CommitmentConfig, CommitmentService

log = logging.getLogger("storescu.scp")

#: Transfer syntaxes accepted, in no particular preference: the SCU's order wins.
ACCEPTED_SYNTAXES: Final = frozenset(
    {
        IMPLICIT_VR_LITTLE_ENDIAN,
        EXPLICIT_VR_LITTLE_ENDIAN,
        EXPLICIT_VR_BIG_ENDIAN,
        DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN,
        "1.2.840.10008.1.2.4.50",
        "1.2.840.10008.1.2.4.51",
        "1.2.840.10008.1.2.4.57",
        "1.2.840.10008.1.2.4.70",
        "1.2.840.10008.1.2.4.80",
        "1.2.840.10008.1.2.4.81",
        "1.2.840.10008.1.2.4.90",
        "1.2.840.10008.1.2.4.91",
        "1.2.840.10008.1.2.4.201",
        "1.2.840.10008.1.2.4.202",
        "1.2.840.10008.1.2.4.203",
        "1.2.840.10008.1.2.5",
    }
)

#: PS3.4 Annex B: storage SOP classes live under this root (plus the print ones).
_STORAGE_ROOT: Final = "1.2.840.10008.5.1.4.1.1."
_ARTIM_SECONDS: Final = 10.0
#: The Asynchronous Operations Window granted by default (PS3.7 D.3.3.3.2).
DEFAULT_SCP_WINDOW: Final = 16


def is_storage_class(uid: str) -> bool:
    """True for storage SOP classes (any under PS3.4's root, or the built-in list)."""
    return uid.startswith(_STORAGE_ROOT) or uid in SOP_CLASS_NAMES


@dataclass(frozen=True, slots=True)
class ReceivedInstance:
    """One instance the SCP received."""

    sop_class_uid: str
    sop_instance_uid: str
    transfer_syntax: str
    path: str | None
    calling_aet: str
    bytes: int
    status: int


class StoreSCP:
    """A threaded Storage SCP.

    Parameters
    ----------
    port : int
        TCP port; 0 picks a free one (read :attr:`port` after :meth:`start`).
    host : str
        Address to bind (loopback by default).
    ae_title : str
        Our AE title; any called AE title is accepted.
    output_dir : str or None
        Where to write received files (``NNNNNN.dcm`` and ``received.jsonl``);
        None discards the data.
    status : int
        The status answered to every C-STORE (0x0000 success).
    error_comment : str or None
        Sent as Error Comment with a non-success status.
    max_pdu : int
        Our maximum receive PDU.
    accepted_syntaxes : frozenset of str, optional
        Restrict the accepted transfer syntaxes.
    exit_after : int or None
        Stop after this many connections.
    tls : ssl.SSLContext or None
        Accept TLS connections only, with this server context (usually from
        :func:`storescu.net.tls.server_context`); None is plain TCP.
    commitment : CommitmentConfig or None
        Also be a Storage Commitment Push Model SCP (:mod:`storescu.scp.commitment`);
        None refuses that SOP class.
    max_ops_performed : int
        The largest Asynchronous Operations Window granted (PS3.7 D.3.3.3.2):
        a requestor proposing one is answered min(proposed, this), 16 by
        default. Requests are performed in order, one at a time, and answered
        as each completes; a requestor that proposes none stays synchronous.
    """

    def __init__(
        self,
        port: int = 0,
        host: str = "127.0.0.1",
        ae_title: str = "STORESCP",
        output_dir: str | None = None,
        status: int = 0x0000,
        error_comment: str | None = None,
        max_pdu: int = 16384,
        accepted_syntaxes: frozenset[str] = ACCEPTED_SYNTAXES,
        exit_after: int | None = None,
        tls: ssl.SSLContext | None = None,
        commitment: CommitmentConfig | None = None,
        max_ops_performed: int = DEFAULT_SCP_WINDOW,
    ) -> None:
        self.host = host
        self.commitment = (
            None
            if commitment is None
            else CommitmentService(commitment, ae_title, self.stored_references)
        )
        self.max_ops_performed = max_ops_performed
        self.tls = tls
        self.ae_title = ae_title
        self.output_dir = output_dir
        self.status = status
        self.error_comment = error_comment
        self.max_pdu = max_pdu
        self.accepted_syntaxes = accepted_syntaxes
        self.exit_after = exit_after
        self.received: list[ReceivedInstance] = []
        self.associations = 0
        self._lock = threading.Lock()
        self._counter = 0
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._server = socket.create_server((host, port), family=family)
        self.port: int = self._server.getsockname()[1]
        self._accept_thread: threading.Thread | None = None
        if output_dir is not None:
            os.makedirs(output_dir, exist_ok=True)

    # ------------------------------------------------------------ lifecycle

    def start(self) -> StoreSCP:
        """Serve in a background thread."""
        self._accept_thread = threading.Thread(
            target=self.serve_forever, name="storescp-accept", daemon=True
        )
        self._accept_thread.start()
        return self

    def serve_forever(self) -> None:
        """Accept associations until :meth:`stop` (or ``exit_after`` associations)."""
        self._server.settimeout(0.2)
        while not self._stop.is_set():
            try:
                sock, address = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                break
            with self._lock:
                self.associations += 1
                number = self.associations
            thread = threading.Thread(
                target=self._serve_association,
                args=(sock, f"{address[0]}:{address[1]}"),
                name=f"storescp-assoc-{number}",
                daemon=True,
            )
            self._threads.append(thread)
            thread.start()
            if self.exit_after is not None and number >= self.exit_after:
                thread.join()
                break
        self._server.close()

    def stored_references(self) -> set[tuple[str, str]]:
        """(class, instance) of every instance stored with a success or warning status."""
        with self._lock:
            return {
                (r.sop_class_uid, r.sop_instance_uid)
                for r in self.received
                if r.status == 0 or r.status & 0xF000 == 0xB000
            }

    def stop(self) -> None:
        """Stop accepting and wait for running associations (bounded)."""
        self._stop.set()
        if self.commitment is not None:
            self.commitment.join()
        if self._accept_thread is not None:
            self._accept_thread.join(timeout=5)
        for thread in self._threads:
            thread.join(timeout=5)
        self._server.close()

    def __enter__(self) -> StoreSCP:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --------------------------------------------------------- association

    def _answer(self, rq: AAssociateRQ) -> tuple[AAssociateAC, dict[int, tuple[str, str]]]:
        answers: list[PresentationContextAC] = []
        accepted: dict[int, tuple[str, str]] = {}
        for ctx in rq.presentation_contexts:
            commitment = (
                ctx.abstract_syntax == sc.STORAGE_COMMITMENT_SOP_CLASS
                and self.commitment is not None
            )
            if not (
                is_storage_class(ctx.abstract_syntax)
                or ctx.abstract_syntax == VERIFICATION_SOP_CLASS
                or commitment
            ):
                answers.append(
                    PresentationContextAC(
                        ctx.context_id, PC_ABSTRACT_SYNTAX_NOT_SUPPORTED, ctx.transfer_syntaxes[0]
                    )
                )
                continue
            usable = (
                {IMPLICIT_VR_LITTLE_ENDIAN, EXPLICIT_VR_LITTLE_ENDIAN}
                if commitment
                else self.accepted_syntaxes
            )
            syntax = next((ts for ts in ctx.transfer_syntaxes if ts in usable), None)
            if syntax is None:
                answers.append(
                    PresentationContextAC(
                        ctx.context_id, PC_TRANSFER_SYNTAXES_NOT_SUPPORTED, ctx.transfer_syntaxes[0]
                    )
                )
                continue
            answers.append(PresentationContextAC(ctx.context_id, PC_ACCEPTANCE, syntax))
            accepted[ctx.context_id] = (ctx.abstract_syntax, syntax)
        ac = AAssociateAC(
            # The AE fields of an AC are reserved but should echo the RQ
            # (PS3.8 9.3.3); a title we could not encode is replaced.
            called_ae=_safe_ae(rq.called_ae, self.ae_title),
            calling_ae=_safe_ae(rq.calling_ae, "ANONYMOUS"),
            presentation_contexts=tuple(answers),
            user_information=UserInformation(
                max_length=self.max_pdu,
                implementation_class_uid=IMPLEMENTATION_CLASS_UID,
                implementation_version_name=IMPLEMENTATION_VERSION_NAME,
                async_ops=answer_window(rq.user_information.async_ops, self.max_ops_performed),
            ),
        )
        return ac, accepted

    def _serve_association(self, sock: socket.socket, peer: str) -> None:
        if self.tls is not None:
            secure = self._handshake(sock, peer)
            if secure is None:
                return
            sock = secure
        handler = _AssociationHandler(self, sock, peer)
        try:
            handler.run()
        except Exception:  # a test peer must never die silently
            log.exception("association with %s failed", peer)
        finally:
            handler.cleanup()
            with contextlib.suppress(OSError):
                sock.close()

    def _handshake(self, sock: socket.socket, peer: str) -> ssl.SSLSocket | None:
        """TLS server handshake, bounded like the ARTIM timer; None when it failed."""
        from storescu.net.tls import describe_ssl_error

        assert self.tls is not None
        try:
            sock.settimeout(_ARTIM_SECONDS)
            return self.tls.wrap_socket(sock, server_side=True)
        except OSError as exc:  # ssl.SSLError and timeouts included
            message = describe_ssl_error(
                exc,
                peer=peer,
                server=True,
                has_certificate=True,
                profile=str(getattr(self.tls, "profile_name", "")),
            )
            log.warning("TLS handshake with %s failed: %s", peer, message)
            with contextlib.suppress(OSError):
                sock.close()
            return None

    def _store(
        self, sop_class: str, sop_instance: str, syntax: str, calling: str
    ) -> tuple[BinaryIO | None, str | None]:
        if self.output_dir is None:
            return None, None
        with self._lock:
            self._counter += 1
            name = f"{self._counter:06d}.dcm"
        path = os.path.join(self.output_dir, name)
        handle = open(path, "wb")  # noqa: SIM115 - closed when the dataset ends
        handle.write(build_file_meta(sop_class, sop_instance, syntax, source_aet=calling or None))
        return handle, path

    def _record(self, instance: ReceivedInstance) -> None:
        with self._lock:
            self.received.append(instance)
            if self.output_dir is not None and instance.path is not None:
                entry = asdict(instance)
                entry["file"] = os.path.basename(instance.path)
                with open(os.path.join(self.output_dir, "received.jsonl"), "a") as index:
                    index.write(json.dumps(entry) + "\n")


def _safe_ae(title: str, fallback: str) -> str:
    if title and title.isascii() and title.isprintable() and len(title) <= 16:
        return title
    return fallback


class _AssociationHandler:
    """Runs one association on the acceptor side."""

    def __init__(self, scp: StoreSCP, sock: socket.socket, peer: str) -> None:
        self.scp = scp
        self.sock = sock
        self.peer = peer
        self.conn = Connection(Role.ACCEPTOR, scp.max_pdu, MAX_ASSOCIATION_PDU)
        self.calling = ""
        self.accepted: dict[int, tuple[str, str]] = {}
        self.assembler: dimse.MessageAssembler | None = None
        self.max_fragment = UNLIMITED_PDU_CAP - 6
        self.current: tuple[dimse.Command, int, BinaryIO | None, str | None] | None = None
        self.current_bytes = 0
        self.current_status: int | None = None
        #: An N-ACTION-RQ whose dataset is arriving: (command, context ID, bytes so far).
        self.action: tuple[dimse.Command, int, bytearray] | None = None

    def send(self, buffers: Sequence[bytes | bytearray | memoryview]) -> None:
        for buf in buffers:
            self.sock.sendall(buf)

    def run(self) -> None:
        sock = self.sock
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.conn.transport_indication()
        while True:
            sock.settimeout(_ARTIM_SECONDS if self.conn.artim_running else None)
            try:
                data = sock.recv(256 * 1024)
            except TimeoutError:
                self.conn.artim_expired()
                data = b"x"  # fall through to drain events
            except OSError:
                data = b""
            if not data:
                self.conn.transport_closed()
            elif data != b"x" or not self.conn.artim_running:
                self.conn.receive_data(data)
            if not self._drain():
                return

    def _drain(self) -> bool:
        """Handle every pending event; False when the association is over."""
        while True:
            event = self.conn.next_event()
            pending = self.conn.data_to_send()
            if pending:
                with contextlib.suppress(OSError):
                    self.send(pending)
            if isinstance(event, NeedData):
                return not self.conn.close_requested and self.conn.state.name != "Sta1"
            if isinstance(event, AssociationRequested):
                self._on_request(event.rq)
            elif isinstance(event, DataReceived):
                try:
                    self._on_data(event)
                except RemoteProtocolError as exc:
                    log.error("protocol error from %s: %s", self.peer, exc)
                    with contextlib.suppress(OSError):
                        self.send(self.conn.abort(2, exc.abort_reason))
                    return False
            elif isinstance(event, ReleaseRequested):
                self.send(self.conn.release_response())
            elif isinstance(event, Aborted):
                log.info("association with %s aborted: %s", self.peer, event.message)
                return False
            elif isinstance(event, (ConnectionClosed, ReleaseConfirmed)):
                return False

    def _on_request(self, rq: AAssociateRQ) -> None:
        self.calling = rq.calling_ae
        ac, self.accepted = self.scp._answer(rq)
        peer_max = rq.user_information.max_length or UNLIMITED_PDU_CAP
        self.max_fragment = max(peer_max - 6, 1)
        self.assembler = dimse.MessageAssembler(frozenset(self.accepted))
        log.info(
            "association from %s (%s): %d contexts accepted",
            self.peer,
            self.calling,
            len(self.accepted),
        )
        self.send(self.conn.accept(ac))

    def _on_data(self, event: DataReceived) -> None:
        assert self.assembler is not None
        for pdv in event.pdvs:
            message = self.assembler.feed(pdv.context_id, pdv.is_command, pdv.is_last, pdv.data)
            if message is None:
                continue
            if isinstance(message, dimse.CommandReceived):
                self._on_command(message)
                continue
            if self.action is not None:
                self._on_action_data(message.data, message.last)
                continue
            if self.current is None:
                continue
            command, context_id, handle, path = self.current
            if handle is not None:
                handle.write(message.data)
            self.current_bytes += len(message.data)
            if message.last:
                self._finish_store(command, context_id, handle, path)

    def _on_command(self, message: dimse.CommandReceived) -> None:
        command = message.command
        field = command.command_field
        message_id = command.get_int(dimse.MESSAGE_ID) or 0
        if field == dimse.C_ECHO_RQ:
            rsp = dimse.encode_c_echo_rsp(message_id, 0)
            self.send(
                self.conn.send_data(
                    message.context_id,
                    rsp,
                    is_command=True,
                    last=True,
                    max_fragment=self.max_fragment,
                )
            )
            return
        if field in (sc.N_ACTION_RQ, sc.N_EVENT_REPORT_RSP) and self.scp.commitment is not None:
            if field == sc.N_EVENT_REPORT_RSP:
                log.info(
                    "N-EVENT-REPORT-RSP from %s: 0x%04X",
                    self.peer,
                    command.get_int(dimse.STATUS) or 0,
                )
                self.scp.commitment.report_statuses.append(command.get_int(dimse.STATUS) or 0)
                return
            if not command.has_dataset:
                raise RemoteProtocolError("N-ACTION-RQ without a dataset", 2, 0)
            self.action = (command, message.context_id, bytearray())
            return
        if field != dimse.C_STORE_RQ or not command.has_dataset:
            raise RemoteProtocolError(f"unsupported DIMSE command 0x{field or 0:04X}", 2, 0)
        sop_class, syntax = self.accepted[message.context_id]
        instance = command.get_str(dimse.AFFECTED_SOP_INSTANCE_UID) or ""
        self.current_status = None
        try:
            handle, path = self.scp._store(
                command.get_str(dimse.AFFECTED_SOP_CLASS_UID) or sop_class,
                instance,
                syntax,
                self.calling,
            )
        except (ValueError, OSError) as exc:
            # Peer-supplied UIDs that cannot go into a file meta header, or a
            # full disk: receive the dataset anyway and answer a failure.
            log.error("cannot store instance from %s: %s", self.peer, exc)
            handle, path = None, None
            self.current_status = 0xA700 if isinstance(exc, OSError) else 0xC000
        self.current = (command, message.context_id, handle, path)
        self.current_bytes = 0

    def _on_action_data(self, data: bytes, last: bool) -> None:
        assert self.action is not None and self.scp.commitment is not None
        command, context_id, buffer = self.action
        if len(buffer) + len(data) > sc.MAX_DATASET:
            raise RemoteProtocolError("N-ACTION dataset too large", 2, 0)
        buffer += data
        if not last:
            return
        self.action = None
        explicit = self.accepted[context_id][1] == EXPLICIT_VR_LITTLE_ENDIAN

        def send(rq_or_rsp: bytes, dataset: bytes | None) -> None:
            fragment = self.max_fragment
            buffers = self.conn.send_data(
                context_id, rq_or_rsp, is_command=True, last=True, max_fragment=fragment
            )
            if dataset is not None:
                buffers += self.conn.send_data(
                    context_id, dataset, is_command=False, last=True, max_fragment=fragment
                )
            self.send(buffers)

        self.scp.commitment.on_action(command, bytes(buffer), explicit, self.calling, send)

    def _finish_store(
        self, command: dimse.Command, context_id: int, handle: BinaryIO | None, path: str | None
    ) -> None:
        if handle is not None:
            handle.close()
        self.current = None
        sop_class = command.get_str(dimse.AFFECTED_SOP_CLASS_UID) or ""
        instance = command.get_str(dimse.AFFECTED_SOP_INSTANCE_UID) or ""
        syntax = self.accepted[context_id][1]
        status = self.scp.status if self.current_status is None else self.current_status
        self.scp._record(
            ReceivedInstance(
                sop_class, instance, syntax, path, self.calling, self.current_bytes, status
            )
        )
        message_id = command.get_int(dimse.MESSAGE_ID) or 0
        comment = self.scp.error_comment if status else None
        rsp = dimse.encode_c_store_rsp(message_id, sop_class, instance, status, comment)
        self.send(
            self.conn.send_data(
                context_id, rsp, is_command=True, last=True, max_fragment=self.max_fragment
            )
        )

    def cleanup(self) -> None:
        """Remove a partly received file after an abort."""
        if self.current is not None:
            _, _, handle, path = self.current
            if handle is not None:
                handle.close()
            if path is not None:
                with contextlib.suppress(OSError):
                    os.remove(path)
            self.current = None
