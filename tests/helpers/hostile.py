"""A scripted hostile acceptor on loopback, for the fault tests (RELIABILITY.md).

Built on the project's own codec (:mod:`storescu.protocol.pdu`, :mod:`storescu.protocol.dimse`),
not on another DICOM stack: it frames what the sender sends with
:class:`~storescu.protocol.pdu.PDUReader`, decodes it with :func:`~storescu.protocol.pdu.decode_pdu`
and :class:`~storescu.protocol.dimse.MessageAssembler`, and answers with encoded PDUs --
or with whatever broken bytes a scenario wants.

Usage::

    with HostilePeer(scenarios.status(0xA700)) as peer:
        run_sender([..., peer.host, str(peer.port), file])
    session = peer.sessions[0]
    assert session.ending == "release"

A *script* is a function ``script(channel)`` run once per accepted connection
(``channel.index`` says which: 0, 1, ...). When it returns without having seen
the end of the association, the peer keeps reading (bounded) and records how
the sender ended it: ``release`` (A-RELEASE-RQ, answered with an A-RELEASE-RP
unless the script says otherwise), ``abort`` (A-ABORT, with source and reason in
``Session.abort``) or ``closed`` (the TCP connection closed without either).

Everything is bounded in time: the peer runs in one daemon thread, every read
has a deadline, :meth:`HostilePeer.stop` closes every socket and joins the
thread. The peer never raises into the test: what went wrong on its side is in
``Session.errors`` (and :attr:`HostilePeer.failure` for a crashed script).
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from storescu.kernel.errors import RemoteProtocolError
from storescu.protocol import dimse
from storescu.protocol import pdu as P

LOOPBACK = "127.0.0.1"
#: How long one connection may last before the peer gives up on it.
CONNECTION_DEADLINE = 60.0
#: Our advertised maximum PDU unless a scenario says otherwise.
DEFAULT_MAX_PDU = 16384
IMPLEMENTATION_UID = "1.2.826.0.1.3680043.8.498.1.7"


class PeerGone(Exception):
    """The sender closed the connection (or the deadline passed) while a script read."""


@dataclass
class Store:
    """One C-STORE-RQ as the peer received it."""

    context_id: int
    command: dimse.Command
    dataset_bytes: int = 0
    complete: bool = False
    data: bytearray | None = None

    @property
    def message_id(self) -> int:
        return self.command.get_int(dimse.MESSAGE_ID) or 0

    @property
    def sop_class_uid(self) -> str:
        return self.command.get_str(dimse.AFFECTED_SOP_CLASS_UID) or ""

    @property
    def sop_instance_uid(self) -> str:
        return self.command.get_str(dimse.AFFECTED_SOP_INSTANCE_UID) or ""


@dataclass
class Session:
    """What happened on one connection."""

    index: int
    rq: P.AAssociateRQ | None = None
    #: Names of the PDUs the sender sent, in order (``A-ABORT(0,0)`` with source, reason).
    received: list[str] = field(default_factory=list)
    stores: list[Store] = field(default_factory=list)
    #: ``release``, ``abort``, ``closed`` or None while open / when the peer closed first.
    ending: str | None = None
    abort: tuple[int, int] | None = None
    #: Largest P-DATA-TF length (variable field) the sender sent.
    max_pdata: int = 0
    pdata_count: int = 0
    #: Violations the sender committed, as the peer saw them.
    errors: list[str] = field(default_factory=list)
    #: Accepted contexts: ID -> (abstract syntax, transfer syntax).
    accepted: dict[int, tuple[str, str]] = field(default_factory=dict)
    seconds: float = 0.0


def _pdu_name(pdu: P.PDU) -> str:
    if isinstance(pdu, P.AAbort):
        return f"A-ABORT({pdu.source},{pdu.reason})"
    return {
        P.A_ASSOCIATE_RQ: "A-ASSOCIATE-RQ",
        P.A_ASSOCIATE_AC: "A-ASSOCIATE-AC",
        P.A_ASSOCIATE_RJ: "A-ASSOCIATE-RJ",
        P.P_DATA_TF: "P-DATA-TF",
        P.A_RELEASE_RQ: "A-RELEASE-RQ",
        P.A_RELEASE_RP: "A-RELEASE-RP",
    }[pdu.pdu_type]


class Channel:
    """One accepted connection, as a script sees it."""

    def __init__(
        self,
        sock: socket.socket,
        session: Session,
        stop: threading.Event,
        deadline: float,
        keep_data: int,
        store_seen: threading.Event | None = None,
    ) -> None:
        self.sock = sock
        self._store_seen = store_seen
        #: Set once the first C-STORE-RQ command arrived on any connection.
        self.store_seen = store_seen or threading.Event()
        self.session = session
        self.index = session.index
        self._stop = stop
        self.deadline = deadline
        self.keep_data = keep_data
        self.max_pdu = DEFAULT_MAX_PDU
        # Frame with generous bounds: the peer must see whatever the sender sends
        # (a sender PDU beyond our advertised maximum is recorded, not refused).
        self._reader = P.PDUReader(0, unlimited_cap=256 * 1024 * 1024)
        self._assembler: dimse.MessageAssembler | None = None
        self._store: Store | None = None
        self.closed_by_sender = False
        #: Seconds between reads of at most ``read_size`` bytes (a slow peer).
        self.read_delay = 0.0
        self.read_size = 256 * 1024

    # ---------------------------------------------------------------- raw I/O

    def send(self, data: bytes) -> None:
        """Write raw bytes (a PDU, part of one, or garbage)."""
        with contextlib.suppress(OSError):
            self.sock.sendall(data)

    def close(self) -> None:
        """Close the TCP connection now (without any PDU); recorded as ``peer-closed``."""
        if self.session.ending is None and not self.closed_by_sender:
            self.session.ending = "peer-closed"
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            self.sock.close()

    def _recv(self, until: float) -> bytes:
        while True:
            if self._stop.is_set():
                raise PeerGone("peer stopped")
            now = time.monotonic()
            if now >= min(until, self.deadline):
                raise TimeoutError
            if self.read_delay:
                time.sleep(self.read_delay)
            try:
                self.sock.settimeout(min(0.2, max(min(until, self.deadline) - now, 0.001)))
                return self.sock.recv(self.read_size)
            except TimeoutError:
                continue
            except OSError:
                return b""

    def read_pdu(self, timeout: float | None = None) -> P.PDU:
        """The next PDU the sender sends (recorded in ``session.received``).

        Raises
        ------
        PeerGone
            The sender closed the connection (``closed_by_sender`` is set) or
            sent bytes the codec cannot frame.
        TimeoutError
            Nothing complete arrived within ``timeout`` seconds.
        """
        until = time.monotonic() + (timeout if timeout is not None else CONNECTION_DEADLINE)
        while True:
            try:
                frame = self._reader.next_frame()
            except RemoteProtocolError as exc:
                self.session.errors.append(f"unframeable bytes from the sender: {exc}")
                raise PeerGone(str(exc)) from exc
            if frame is not None:
                break
            data = self._recv(until)
            if not data:
                self.closed_by_sender = True
                if self._reader.buffered:
                    self.session.errors.append(
                        f"sender closed with {self._reader.buffered} bytes of a PDU pending"
                    )
                raise PeerGone("the sender closed the connection")
            self._reader.feed(data)
        pdu_type, body = frame
        try:
            pdu = P.decode_pdu(pdu_type, body)
        except RemoteProtocolError as exc:
            self.session.errors.append(f"undecodable PDU 0x{pdu_type:02X} from the sender: {exc}")
            raise PeerGone(str(exc)) from exc
        self.session.received.append(_pdu_name(pdu))
        if isinstance(pdu, P.PDataTF):
            self.session.pdata_count += 1
            self.session.max_pdata = max(self.session.max_pdata, len(body))
            if self.max_pdu and len(body) > self.max_pdu:
                self.session.errors.append(
                    f"P-DATA-TF of {len(body)} bytes exceeds our maximum {self.max_pdu}"
                )
        elif isinstance(pdu, P.AAbort):
            self.session.ending = "abort"
            self.session.abort = (pdu.source, pdu.reason)
        return pdu

    # ------------------------------------------------------------ association

    def read_rq(self) -> P.AAssociateRQ:
        """Read the A-ASSOCIATE-RQ."""
        pdu = self.read_pdu()
        if not isinstance(pdu, P.AAssociateRQ):
            self.session.errors.append(f"expected A-ASSOCIATE-RQ, got {_pdu_name(pdu)}")
            raise PeerGone("no A-ASSOCIATE-RQ")
        self.session.rq = pdu
        return pdu

    def build_ac(
        self,
        rq: P.AAssociateRQ,
        *,
        max_pdu: int = DEFAULT_MAX_PDU,
        answer: Callable[[P.PresentationContextRQ], P.PresentationContextAC | None] | None = None,
        extra: tuple[P.PresentationContextAC, ...] = (),
    ) -> P.AAssociateAC:
        """An A-ASSOCIATE-AC accepting each proposed context with its first syntax.

        ``answer`` may replace the answer for a context (None leaves it out);
        ``extra`` answers are appended (for context IDs never proposed).
        """
        answers: list[P.PresentationContextAC] = []
        for ctx in rq.presentation_contexts:
            if answer is not None:
                chosen = answer(ctx)
                if chosen is not None:
                    answers.append(chosen)
                continue
            answers.append(
                P.PresentationContextAC(ctx.context_id, P.PC_ACCEPTANCE, ctx.transfer_syntaxes[0])
            )
        answers.extend(extra)
        proposed = {ctx.context_id: ctx.abstract_syntax for ctx in rq.presentation_contexts}
        self.session.accepted = {
            a.context_id: (proposed.get(a.context_id, "?"), a.transfer_syntax)
            for a in answers
            if a.accepted
        }
        self.max_pdu = max_pdu
        return P.AAssociateAC(
            called_ae=rq.called_ae or "ANY-SCP",
            calling_ae=rq.calling_ae or "STORESCU",
            presentation_contexts=tuple(answers),
            user_information=P.UserInformation(
                max_length=max_pdu,
                implementation_class_uid=IMPLEMENTATION_UID,
                implementation_version_name="HOSTILE",
            ),
        )

    def accept(self, rq: P.AAssociateRQ | None = None, **options: object) -> P.AAssociateAC:
        """Read the RQ (unless given) and accept it (see :meth:`build_ac`)."""
        rq = rq or self.read_rq()
        ac = self.build_ac(rq, **options)  # type: ignore[arg-type]
        self.send(ac.encode())
        self._assembler = dimse.MessageAssembler(frozenset(self.session.accepted))
        return ac

    def reject(self, result: int, source: int, reason: int) -> None:
        """Read the RQ and answer A-ASSOCIATE-RJ, then close."""
        self.read_rq()
        self.send(P.AAssociateRJ(result, source, reason).encode())
        self.session.ending = "rejected"
        self.close()

    # ------------------------------------------------------------------ DIMSE

    def read_store(self, timeout: float | None = None) -> Store | None:
        """Read one whole C-STORE-RQ (command and dataset).

        None when the sender sent something else instead (recorded; an
        A-RELEASE-RQ is answered) or closed the connection.
        """
        assert self._assembler is not None, "accept() first"
        while True:
            try:
                pdu = self.read_pdu(timeout)
            except PeerGone:
                return None
            if isinstance(pdu, P.AReleaseRQ):
                self.session.ending = "release"
                self.send(P.AReleaseRP().encode())
                return None
            if not isinstance(pdu, P.PDataTF):
                return None
            for pdv in pdu.pdvs:
                try:
                    message = self._assembler.feed(
                        pdv.context_id, pdv.is_command, pdv.is_last, pdv.data
                    )
                except RemoteProtocolError as exc:
                    self.session.errors.append(f"bad P-DATA from the sender: {exc}")
                    return None
                if isinstance(message, dimse.CommandReceived):
                    self._store = Store(
                        message.context_id,
                        message.command,
                        data=bytearray() if self.keep_data else None,
                    )
                    self.session.stores.append(self._store)
                    if self._store_seen is not None:
                        self._store_seen.set()
                elif message is not None and self._store is not None:
                    store = self._store
                    store.dataset_bytes += len(message.data)
                    if store.data is not None and len(store.data) < self.keep_data:
                        store.data += message.data
                    if message.last:
                        store.complete = True
                        self._store = None
                        return store

    def respond(
        self,
        store: Store,
        status: int = 0x0000,
        *,
        comment: str | None = None,
        message_id: int | None = None,
        sop_instance_uid: str | None = None,
        context_id: int | None = None,
        command: bytes | None = None,
    ) -> None:
        """Send a C-STORE-RSP for ``store`` -- or a doctored one."""
        if command is None:
            command = dimse.encode_c_store_rsp(
                store.message_id if message_id is None else message_id,
                store.sop_class_uid,
                store.sop_instance_uid if sop_instance_uid is None else sop_instance_uid,
                status,
                comment,
            )
        context = store.context_id if context_id is None else context_id
        self.send(P.PDataTF((P.PDV(context, True, True, command),)).encode())

    def serve(self, status: int = 0x0000, comment: str | None = None) -> None:
        """Answer every C-STORE with ``status`` until the sender ends the association."""
        while (store := self.read_store()) is not None:
            self.respond(store, status, comment=comment)

    def silence(self) -> None:
        """Say nothing; record what the sender does until it ends or the deadline."""
        self.wait_end()

    def wait_end(self, timeout: float | None = None, answer_release: bool = True) -> None:
        """Read until the sender releases, aborts or closes; record which."""
        with contextlib.suppress(PeerGone, TimeoutError):
            while True:
                pdu = self.read_pdu(timeout)
                if isinstance(pdu, P.AReleaseRQ):
                    self.session.ending = "release"
                    if answer_release:
                        self.send(P.AReleaseRP().encode())
                if isinstance(pdu, P.AAbort):
                    break
        if self.closed_by_sender and self.session.ending is None:
            self.session.ending = "closed"


Script = Callable[[Channel], None]


class HostilePeer:
    """Listen on 127.0.0.1 (ephemeral port) and run ``script`` on each connection.

    Parameters
    ----------
    script : callable
        ``script(channel)``; see :class:`Channel`.
    keep_data : int
        Keep up to this many dataset bytes of each store (``Store.data``).
    rcvbuf : int or None
        SO_RCVBUF for accepted connections (small: the sender blocks sooner).
    deadline : float
        Seconds one connection may last before the peer gives up on it.
    """

    host = LOOPBACK

    def __init__(
        self,
        script: Script,
        *,
        keep_data: int = 0,
        rcvbuf: int | None = None,
        deadline: float = CONNECTION_DEADLINE,
    ) -> None:
        self.script = script
        self.keep_data = keep_data
        self.deadline = deadline
        self.sessions: list[Session] = []
        self.failure: str | None = None
        self._stop = threading.Event()
        self._socks: list[socket.socket] = []
        self._lock = threading.Lock()
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if rcvbuf is not None:
            # Inherited by accepted sockets; must be set before listen().
            self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self._listener.bind((LOOPBACK, 0))
        self._listener.listen(8)
        self.port: int = self._listener.getsockname()[1]
        #: Set when the first C-STORE-RQ command arrives (for the signal tests).
        self.store_seen = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="hostile-peer", daemon=True)

    def start(self) -> HostilePeer:
        self._thread.start()
        return self

    def __enter__(self) -> HostilePeer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop accepting, close every socket, join the thread (bounded)."""
        self._stop.set()
        with contextlib.suppress(OSError):
            self._listener.close()
        with self._lock:
            for sock in self._socks:
                with contextlib.suppress(OSError):
                    sock.close()
        if self._thread.is_alive() or self._thread.ident is not None:
            self._thread.join(timeout)

    def wait_idle(self, timeout: float = 10.0) -> None:
        """Wait until the script of the last connection has finished."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if all(s.seconds for s in self.sessions):
                return
            time.sleep(0.01)

    def _serve(self) -> None:
        self._listener.settimeout(0.1)
        index = 0
        while not self._stop.is_set():
            try:
                sock, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                break
            with self._lock:
                self._socks.append(sock)
            session = Session(index)
            self.sessions.append(session)
            started = time.monotonic()
            channel = Channel(
                sock,
                session,
                self._stop,
                started + self.deadline,
                self.keep_data,
                self.store_seen,
            )
            try:
                self._run_script(channel)
            finally:
                channel.close()
                session.seconds = max(time.monotonic() - started, 1e-9)
            index += 1

    def _run_script(self, channel: Channel) -> None:
        try:
            self.script(channel)
        except PeerGone:
            pass
        except Exception:  # a broken script must fail the test, not hang it
            self.failure = traceback.format_exc()
            return
        if channel.session.ending is None and not channel.closed_by_sender:
            with contextlib.suppress(OSError):
                channel.wait_end(timeout=self.deadline)


# --------------------------------------------------------------------- scenarios


def header(pdu_type: int, length: int) -> bytes:
    """A 6-byte PDU header (PS3.8 9.3.1) with any length, true or not."""
    return struct.pack(">BBL", pdu_type, 0, length)


def command_without(tag: int, store: Store, status: int = 0) -> bytes:
    """A C-STORE-RSP command set with element (0000,tag) left out."""
    full = dimse.decode_command(
        dimse.encode_c_store_rsp(
            store.message_id, store.sop_class_uid, store.sop_instance_uid, status
        )
    )
    return _encode_command({t: v for t, v in full.elements.items() if t not in (tag, 0)})


def command_with(tag: int, value: int, store: Store, status: int = 0) -> bytes:
    """A C-STORE-RSP command set with element (0000,tag) set to the US ``value``."""
    full = dimse.decode_command(
        dimse.encode_c_store_rsp(
            store.message_id, store.sop_class_uid, store.sop_instance_uid, status
        )
    )
    elements = {t: v for t, v in full.elements.items() if t != 0}
    elements[tag] = value
    return _encode_command(elements)


def _encode_command(elements: dict[int, dimse.CommandValue]) -> bytes:
    parts: list[tuple[int, bytes]] = []
    for tag, value in sorted(elements.items()):
        if isinstance(value, int):
            parts.append((tag, struct.pack("<H", value)))
        elif isinstance(value, bytes):
            parts.append((tag, value))
    return dimse._command(parts)


class scenarios:
    """One script factory per hostile behaviour (see RELIABILITY.md rows)."""

    @staticmethod
    def good(
        status: int = 0x0000, comment: str | None = None, max_pdu: int = DEFAULT_MAX_PDU
    ) -> Script:
        """A well-behaved SCP answering every store with ``status``."""

        def script(ch: Channel) -> None:
            ch.accept(max_pdu=max_pdu)
            ch.serve(status, comment)

        return script

    @staticmethod
    def status(code: int, comment: str | None = "hostile peer says no") -> Script:
        """Row 34/35: every store answered with ``code`` (and an Error Comment)."""
        return scenarios.good(code, comment if code & 0xF000 != 0xB000 or comment else None)

    @staticmethod
    def reject(result: int, source: int, reason: int) -> Script:
        """Row 16: A-ASSOCIATE-RJ with these values (any, in range or not)."""

        def script(ch: Channel) -> None:
            ch.reject(result, source, reason)

        return script

    @staticmethod
    def silent_after_rq() -> Script:
        """Row 20: read the A-ASSOCIATE-RQ, never answer it."""

        def script(ch: Channel) -> None:
            ch.read_rq()
            ch.silence()

        return script

    @staticmethod
    def ac_length_lie(extra: int, then_close: bool) -> Script:
        """Row 24: an A-ASSOCIATE-AC whose length claims ``extra`` more bytes than follow."""

        def script(ch: Channel) -> None:
            raw = ch.build_ac(ch.read_rq()).encode()
            body = raw[6:]
            ch.send(header(P.A_ASSOCIATE_AC, len(body) + extra) + body)
            if then_close:
                ch.close()
            else:
                ch.silence()

        return script

    @staticmethod
    def ac_claims(length: int) -> Script:
        """Row 25: an A-ASSOCIATE-AC header claiming ``length`` (4 GiB) bytes."""

        def script(ch: Channel) -> None:
            ch.read_rq()
            ch.send(header(P.A_ASSOCIATE_AC, length) + bytes(64))
            ch.silence()

        return script

    @staticmethod
    def accept_with(
        answer: Callable[[P.PresentationContextRQ], P.PresentationContextAC | None] | None = None,
        extra: tuple[P.PresentationContextAC, ...] = (),
        max_pdu: int = DEFAULT_MAX_PDU,
    ) -> Script:
        """Rows 27/28: a doctored A-ASSOCIATE-AC, then a well-behaved SCP."""

        def script(ch: Channel) -> None:
            ch.accept(answer=answer, extra=extra, max_pdu=max_pdu)
            ch.serve()

        return script

    @staticmethod
    def after_store(action: Callable[[Channel, Store], None], stores_before: int = 0) -> Script:
        """Accept, answer ``stores_before`` stores, read one more, then ``action``."""

        def script(ch: Channel) -> None:
            ch.accept()
            for _ in range(stores_before):
                store = ch.read_store()
                if store is None:
                    return
                ch.respond(store)
            store = ch.read_store()
            if store is None:
                return
            action(ch, store)

        return script

    # actions for after_store -------------------------------------------------

    @staticmethod
    def do_silence(ch: Channel, store: Store) -> None:
        """Row 21: never answer the C-STORE."""
        ch.silence()

    @staticmethod
    def do_close_mid_pdu(ch: Channel, store: Store) -> None:
        """Row 23: half a C-STORE-RSP P-DATA-TF, then close the TCP connection."""
        command = dimse.encode_c_store_rsp(
            store.message_id, store.sop_class_uid, store.sop_instance_uid, 0
        )
        raw = P.PDataTF((P.PDV(store.context_id, True, True, command),)).encode()
        ch.send(raw[: len(raw) // 2])
        ch.close()

    @staticmethod
    def do_unknown_pdu(ch: Channel, store: Store) -> None:
        """Row 26: a PDU of type 0x09 (PS3.8 knows 0x01..0x07)."""
        ch.send(header(0x09, 4) + bytes(4))
        ch.wait_end(timeout=10)

    @staticmethod
    def do_bad_pdu(ch: Channel, store: Store) -> None:
        """A known PDU type with a malformed body (A-RELEASE-RP of 2 bytes)."""
        ch.send(header(P.A_RELEASE_RP, 2) + bytes(2))
        ch.wait_end(timeout=10)

    @staticmethod
    def do_oversized_pdata(ch: Channel, store: Store) -> None:
        """Row 29: a P-DATA-TF longer than the sender's advertised maximum."""
        assert ch.session.rq is not None
        limit = ch.session.rq.user_information.max_length
        ch.send(header(P.P_DATA_TF, limit + 1) + bytes(64))
        ch.wait_end(timeout=10)

    @staticmethod
    def do_pdv_beyond_pdu(ch: Channel, store: Store) -> None:
        """Row 29: a PDV whose length runs past the end of its P-DATA-TF."""
        body = struct.pack(">LBB", 1000, store.context_id, 3) + bytes(14)
        ch.send(header(P.P_DATA_TF, len(body)) + body)
        ch.wait_end(timeout=10)

    @staticmethod
    def do_abort(source: int, reason: int) -> Callable[[Channel, Store], None]:
        """Row 19: an A-ABORT with this source and reason, then close."""

        def action(ch: Channel, store: Store) -> None:
            ch.send(P.AAbort(source, reason).encode())
            ch.session.ending = "peer-aborted"
            ch.close()

        return action

    @staticmethod
    def do_release_rq(ch: Channel, store: Store) -> None:
        """Row 33: A-RELEASE-RQ instead of the C-STORE-RSP."""
        ch.send(P.AReleaseRQ().encode())
        ch.wait_end(timeout=10, answer_release=False)

    @staticmethod
    def do_respond(**doctored: object) -> Callable[[Channel, Store], None]:
        """Rows 30-32: a doctored response, then serve the rest normally."""

        def action(ch: Channel, store: Store) -> None:
            ch.respond(store, **doctored)  # type: ignore[arg-type]
            ch.serve()

        return action

    @staticmethod
    def do_respond_command(build: Callable[[Store], bytes]) -> Callable[[Channel, Store], None]:
        """Row 31: answer with the command set ``build(store)`` returns."""

        def action(ch: Channel, store: Store) -> None:
            ch.respond(store, command=build(store))
            ch.serve()

        return action


def full_backlog_listener() -> Iterator[tuple[str, int]]:
    """A port whose accept queue is full: a connect to it hangs (row 15, ``-to``).

    Linux drops SYNs to a listener whose queue is full, so the client's connect
    waits for its own timeout. Used as a context manager via
    :func:`contextlib.contextmanager`.
    """
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    fillers: list[socket.socket] = []
    try:
        listener.bind((LOOPBACK, 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        for _ in range(8):  # fill the queue; the rest of these connects time out
            filler = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            filler.setblocking(False)
            with contextlib.suppress(BlockingIOError, OSError):
                filler.connect((LOOPBACK, port))
            fillers.append(filler)
        time.sleep(0.2)
        yield LOOPBACK, port
    finally:
        for filler in fillers:
            filler.close()
        listener.close()


full_backlog = contextlib.contextmanager(full_backlog_listener)
