"""Fuzz targets: every decoder that reads peer bytes, as ``target(data: bytes) -> None``.

A target feeds ``data`` to one decoder (or a whole receive path) and checks the
property of DESIGN.md and RELIABILITY.md: any bytes give an event or a protocol
error (:class:`~storescu.kernel.errors.RemoteProtocolError`, or the association-level
:class:`~storescu.kernel.errors.StorescuError` a driver turns it into) -- never another
exception, never an allocation beyond the bounds. A finding is any other
exception, or an ``AssertionError`` from a broken property.

Used by the hypothesis tests (tests/unit/protocol/test_peer_input_properties.py, CI size)
and the long run (``python -m tests.fuzz``, hypothesis or atheris). The
``seeds`` give each target valid inputs to start from (and mutate).
"""

from __future__ import annotations

import contextlib
import struct
from collections.abc import Callable
from dataclasses import dataclass

from storescu.kernel.constants import MAX_COMMAND_SET
from storescu.kernel.errors import RemoteProtocolError, StorescuError, TimeoutError_
from storescu.net.client import AssociationSettings, StoreAssociation, _validate_store_response
from storescu.protocol import dimse
from storescu.protocol import pdu as P
from storescu.protocol.association import (
    Aborted,
    AssociationAccepted,
    Connection,
    NeedData,
    Role,
)
from storescu.protocol.negotiation import AcceptedContext, AcceptedContexts, accepted_contexts

CT = "1.2.840.10008.5.1.4.1.1.2"
MR = "1.2.840.10008.5.1.4.1.1.4"
EXPLICIT_LE = "1.2.840.10008.1.2.1"
IMPLICIT_LE = "1.2.840.10008.1.2"
INSTANCE = "1.2.826.0.1.3680043.8.498.1.2.3"

#: The bound on anything a decoder may hold: association PDUs are at most 1 MiB.
MAX_HELD = 1024 * 1024


# ----------------------------------------------------------------------- seeds

PROPOSED = (
    P.PresentationContextRQ(1, CT, (EXPLICIT_LE,)),
    P.PresentationContextRQ(3, CT, (IMPLICIT_LE, "1.2.840.10008.1.2.2")),
    P.PresentationContextRQ(5, MR, (EXPLICIT_LE, IMPLICIT_LE)),
)
RQ = P.AAssociateRQ(
    "ANY-SCP",
    "STORESCU",
    PROPOSED,
    P.UserInformation(
        16384,
        "1.2.3.4",
        "FUZZ",
        role_selections=(P.RoleSelection(CT, 1, 0),),
        user_identity=P.UserIdentity(2, True, b"user", b"pw"),
    ),
)
AC = P.AAssociateAC(
    "ANY-SCP",
    "STORESCU",
    (
        P.PresentationContextAC(1, 0, EXPLICIT_LE),
        P.PresentationContextAC(3, 4, IMPLICIT_LE),
        P.PresentationContextAC(5, 0, IMPLICIT_LE),
    ),
    P.UserInformation(16384, "1.2.3.4.5", "PEER", async_ops=(1, 1), user_identity_response=b"ok"),
)
STORE_RSP = dimse.encode_c_store_rsp(1, CT, INSTANCE, 0x0000, None)
STORE_RSP_FAIL = dimse.encode_c_store_rsp(1, CT, INSTANCE, 0xA700, "disk full")
STORE_RQ = dimse.encode_c_store_rq(1, CT, INSTANCE)


def pdata(context_id: int, command: bool, last: bool, data: bytes) -> bytes:
    return P.PDataTF((P.PDV(context_id, command, last, data),)).encode()


SEEDS: dict[str, list[bytes]] = {}


def _seed(name: str, *values: bytes) -> None:
    SEEDS[name] = list(values)


_seed(
    "pdu_stream",
    RQ.encode() + AC.encode(),
    pdata(1, True, True, STORE_RSP) + P.AReleaseRP().encode(),
    P.AAssociateRJ(1, 1, 1).encode() + P.AAbort(2, 6).encode(),
)
_seed("user_information", RQ.encode()[6 + 68 :], AC.user_information.encode()[4:])
_seed("presentation_context", PROPOSED[1].encode()[4:], AC.presentation_contexts[0].encode()[4:])
_seed("command_set", STORE_RSP, STORE_RSP_FAIL, STORE_RQ, dimse.encode_c_echo_rsp(3))
_seed(
    "message_assembler",
    struct.pack("<BBH", 1, 3, len(STORE_RQ)) + STORE_RQ + struct.pack("<BBH", 1, 2, 4) + b"data",
)
_seed("accepted_contexts", bytes([1, 0, 0, 3, 0, 1, 5, 0, 2, 251, 0, 0]))
_seed("store_response", pdata(1, True, True, STORE_RSP), pdata(5, True, True, STORE_RSP_FAIL))
_seed(
    "association_open",
    AC.encode(),
    P.AAssociateRJ(2, 3, 1).encode(),
    # The atheris finding: an AC announcing a 2 GiB maximum PDU (0x80004000).
    P.AAssociateAC("A", "B", AC.presentation_contexts, P.UserInformation(0x80004000)).encode(),
)
_seed(
    "scp_request",
    RQ.encode() + pdata(1, True, True, STORE_RQ) + pdata(1, False, True, b"\x08\x00" * 8),
    RQ.encode() + pdata(1, True, True, dimse.encode_c_echo_rq(1)) + P.AReleaseRQ().encode(),
)


# --------------------------------------------------------------------- targets


def _chunks(data: bytes) -> list[bytes]:
    """Cut ``data`` at positions its own bytes choose (framing must not care)."""
    if not data:
        return []
    step = (data[0] % 37) + 1
    return [data[i : i + step] for i in range(0, len(data), step)]


def pdu_stream(data: bytes) -> None:
    """PDU framing (PDUReader) and every PDU decoder, fed in arbitrary chunks."""
    reader = P.PDUReader(4096, max_association_length=16384)
    fed = 0
    for chunk in _chunks(data):
        reader.feed(chunk)
        fed += len(chunk)
        while True:
            try:
                frame = reader.next_frame()
            except RemoteProtocolError as exc:
                assert exc.abort_source == 2 and exc.abort_reason in (1, 6), exc
                return
            if frame is None:
                break
            pdu_type, body = frame
            bound = 4096 if pdu_type == P.P_DATA_TF else 16384
            assert len(body) <= bound, (pdu_type, len(body))
            with contextlib.suppress(RemoteProtocolError):
                P.decode_pdu(pdu_type, body)
        assert reader.buffered <= fed


def user_information(data: bytes) -> None:
    """The user information item and its sub-items (PS3.7 Annex D.3.3)."""
    try:
        user = P.UserInformation.decode(data)
    except RemoteProtocolError as exc:
        assert exc.abort_reason in (4, 6), exc
        return
    assert 0 <= user.max_length <= 0xFFFFFFFF
    assert all(len(raw) <= len(data) for _, raw in user.other)


def presentation_context(data: bytes) -> None:
    """Presentation context items, as proposed (0x20) and as answered (0x21)."""
    for decode in (P.PresentationContextRQ.decode, P.PresentationContextAC.decode):
        try:
            item = decode(data)
        except RemoteProtocolError as exc:
            assert exc.abort_reason in (4, 6), exc
            continue
        assert 0 <= item.context_id <= 255


def command_set(data: bytes) -> None:
    """DIMSE command sets (PS3.7 E), and every accessor of the result."""
    try:
        command = dimse.decode_command(data)
    except RemoteProtocolError as exc:
        assert exc.abort_source == 0, exc
        return
    assert len(data) <= MAX_COMMAND_SET
    command.command_field  # noqa: B018 - accessors must not raise
    command.has_dataset  # noqa: B018
    for tag in command.elements:
        command.get_int(tag)
        command.get_str(tag)


def message_assembler(data: bytes) -> None:
    """PDV reassembly: ``data`` is a list of (context ID, control, length, bytes)."""
    assembler = dimse.MessageAssembler(frozenset({1, 3, 5}))
    offset = 0
    while offset + 4 <= len(data):
        context_id, control, length = struct.unpack_from("<BBH", data, offset)
        offset += 4
        value = data[offset : offset + length]
        offset += length
        try:
            event = assembler.feed(context_id, bool(control & 1), bool(control & 2), value)
        except RemoteProtocolError as exc:
            assert exc.abort_source == 0, exc
            return
        assert len(assembler._command) <= MAX_COMMAND_SET
        if isinstance(event, dimse.CommandReceived):
            assert event.context_id in (1, 3, 5)


_SYNTAXES = (EXPLICIT_LE, IMPLICIT_LE, "1.2.840.10008.1.2.2", "1.2.840.10008.1.2.4.50", "", "x")


def accepted_contexts_target(data: bytes) -> None:
    """negotiation.accepted_contexts: what the AC says against what was proposed.

    ``data`` is a list of 3-byte answers (context ID, result, syntax index).
    """
    answers = [
        P.PresentationContextAC(data[i], data[i + 1] % 6, _SYNTAXES[data[i + 2] % len(_SYNTAXES)])
        for i in range(0, len(data) - 2, 3)
    ]
    usable, warnings = accepted_contexts(PROPOSED, answers)
    proposed = {ctx.context_id: ctx for ctx in PROPOSED}
    for ctx in usable.contexts:
        rq = proposed[ctx.context_id]  # never an ID we did not propose
        assert ctx.abstract_syntax == rq.abstract_syntax
        assert ctx.transfer_syntax in rq.transfer_syntaxes
    assert len({c.context_id for c in usable.contexts}) == len(usable.contexts)
    for sop_class in (CT, MR, "1.2.3"):
        for syntax in _SYNTAXES:
            chosen = usable.select(sop_class, syntax)
            assert chosen is None or chosen.abstract_syntax == sop_class
    assert all(isinstance(w, str) for w in warnings)


@dataclass
class FakeTransport:
    """The transport interface of :mod:`storescu.net.client`, over a list of chunks."""

    chunks: list[bytes]
    peer: str = "fuzz:104"
    is_tls: bool = False
    received_any: bool = False
    torn: bool = False
    interrupted: bool = False
    written: int = 0

    def send(self, buffers: object, timeout: float | None) -> None:
        for buf in buffers:  # type: ignore[attr-defined]
            self.written += len(memoryview(buf))

    def receive(self, timeout: float | None, kind: str = "socket") -> bytes:
        if not self.chunks:
            if kind == "ACSE":  # a peer that says nothing more: the timeout fires
                raise TimeoutError_(f"{kind} timeout: no answer from {self.peer}", kind)
            return b""
        self.received_any = True
        return self.chunks.pop(0)

    def unsent(self) -> int | None:
        return None

    def close(self) -> None:
        self.chunks = []

    def describe_tls(self) -> None:
        return None


class _Dataset:
    length = 64

    def __init__(self) -> None:
        self._left = self.length

    def readinto(self, buf: memoryview) -> int:
        n = min(len(buf), self._left)
        buf[:n] = bytes(n)
        self._left -= n
        return n


def _established(transport: FakeTransport) -> StoreAssociation:
    conn = Connection(Role.REQUESTOR, 16384)
    conn.request(RQ)
    conn.transport_connected()
    conn.receive_data(AC.encode())
    assert isinstance(conn.next_event(), AssociationAccepted)
    accepted = AcceptedContexts(
        [AcceptedContext(1, CT, EXPLICIT_LE), AcceptedContext(5, MR, IMPLICIT_LE)]
    )
    settings = AssociationSettings(acse_timeout=1, dimse_timeout=1, socket_timeout=1)
    return StoreAssociation(transport, conn, settings, accepted, 16384, ("", ""))  # type: ignore[arg-type]


def store_response(data: bytes) -> None:
    """The whole receive path of a C-STORE: P-DATA framing, reassembly, the response
    command set and its validation (client.StoreAssociation.send_store)."""
    transport = FakeTransport(_chunks(data))
    assoc = _established(transport)
    context = assoc.accepted.by_id[1]
    try:
        response = assoc.send_store(context, CT, INSTANCE, _Dataset(), 1)
    except StorescuError:
        assert not assoc.is_open  # after any failure the association is gone
        return
    assert isinstance(response.status.code, int)
    with contextlib.suppress(StorescuError):
        assoc.release()
    assert not assoc.is_open


def response_validation(data: bytes) -> None:
    """A decoded response command set against the request it should answer."""
    try:
        command = dimse.decode_command(data)
    except RemoteProtocolError:
        return
    context = AcceptedContext(1, CT, EXPLICIT_LE)
    with contextlib.suppress(RemoteProtocolError):
        _validate_store_response(command, 1, INSTANCE, context)


def association_open(data: bytes) -> None:
    """The requestor from the A-ASSOCIATE-RQ to an established association: the
    A-ASSOCIATE-AC parser, AC validation and negotiation (client.StoreAssociation.open)."""
    import storescu.net.client as client

    transport = FakeTransport(_chunks(data))
    original = client.Transport.connect
    client.Transport.connect = classmethod(lambda cls, *a, **k: transport)  # type: ignore[assignment,method-assign]
    try:
        settings = AssociationSettings(acse_timeout=1, socket_timeout=1)
        assoc = StoreAssociation.open("fuzz", 104, PROPOSED, settings)
    except StorescuError:
        return
    finally:
        client.Transport.connect = original  # type: ignore[method-assign]
    for ctx in assoc.accepted.contexts:
        assert ctx.context_id in (1, 3, 5)
    # Nothing sized from the peer's claims (its max PDU may say 4 GiB): found by atheris.
    assert len(assoc._block) <= 2 * MAX_HELD, len(assoc._block)
    assoc.abort()


class _FakeSocket:
    """What the SCP's association handler uses of a socket, over a list of chunks."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks
        self.sent = 0

    def setsockopt(self, *args: object) -> None:
        pass

    def settimeout(self, timeout: float | None) -> None:
        pass

    def recv(self, size: int) -> bytes:
        return self.chunks.pop(0) if self.chunks else b""

    def sendall(self, data: object) -> None:
        self.sent += len(memoryview(data))  # type: ignore[arg-type]

    def close(self) -> None:
        pass


_SCP: list[object] = []


def scp_request(data: bytes) -> None:
    """The project's SCP, acceptor side: A-ASSOCIATE-RQ parsing, negotiation, the
    request command sets and datasets (scp._AssociationHandler)."""
    from storescu.scp.server import StoreSCP, _AssociationHandler

    if not _SCP:
        _SCP.append(StoreSCP(output_dir=None))  # bound on loopback, never started
    scp = _SCP[0]
    handler = _AssociationHandler(scp, _FakeSocket(_chunks(data)), "fuzz")  # type: ignore[arg-type]
    try:
        handler.run()  # must end: the chunks run out, then the connection "closes"
    finally:
        handler.cleanup()


def association_acceptor(data: bytes) -> None:
    """The sans-IO connection as acceptor: every indication or an A-ABORT, nothing else."""
    conn = Connection(Role.ACCEPTOR, 4096)
    conn.transport_indication()
    for chunk in _chunks(data):
        conn.receive_data(chunk)
        while not isinstance(event := conn.next_event(), NeedData):
            if isinstance(event, Aborted):
                break
        conn.data_to_send()
    conn.transport_closed()
    while not isinstance(conn.next_event(), NeedData):
        pass
    assert conn.buffered <= MAX_HELD


TARGETS: dict[str, Callable[[bytes], None]] = {
    "pdu_stream": pdu_stream,
    "user_information": user_information,
    "presentation_context": presentation_context,
    "command_set": command_set,
    "message_assembler": message_assembler,
    "accepted_contexts": accepted_contexts_target,
    "store_response": store_response,
    "response_validation": response_validation,
    "association_open": association_open,
    "scp_request": scp_request,
    "association_acceptor": association_acceptor,
}
SEEDS.setdefault("response_validation", SEEDS["command_set"])
SEEDS.setdefault("association_acceptor", SEEDS["scp_request"])


def mutate(seed: bytes, edits: list[tuple[int, int, int]]) -> bytes:
    """Apply (operation, position, value) edits to ``seed`` (for the strategies)."""
    raw = bytearray(seed)
    for op, pos, value in edits:
        pos = pos % (len(raw) + 1)
        if op == 0 and raw:
            raw[min(pos, len(raw) - 1)] = value
        elif op == 1:
            del raw[pos:]
        elif op == 2:
            raw[pos:pos] = bytes([value]) * (1 + value % 7)
        elif op == 3:
            del raw[pos : pos + 1 + value % 16]
        elif op == 4 and len(raw) >= pos + 4:
            # A length field lie: overwrite 4 bytes with a big or small number.
            raw[pos : pos + 4] = struct.pack(">L", (0xFFFFFFFF, 0, 1, 0x10000)[value % 4])
    return bytes(raw)
