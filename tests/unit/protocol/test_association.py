"""The sans-IO Upper Layer connection (storescu.protocol.association), PS3.8 section 9.2.

Every test drives a :class:`Connection` with primitives and raw PDU bytes and
checks the indications, the bytes it wants written and its Table 9-10 state.
No sockets: the test is the transport.
"""

from __future__ import annotations

import dataclasses
import itertools
import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storescu.kernel.errors import LocalProtocolError
from storescu.protocol import pdu as P
from storescu.protocol.association import (
    NEED_DATA,
    Aborted,
    AssociationAccepted,
    AssociationRejected,
    AssociationRequested,
    Connection,
    ConnectionClosed,
    DataReceived,
    IndicationEvent,
    ReleaseConfirmed,
    ReleaseRequested,
    Role,
    describe_abort,
    describe_reject,
)
from storescu.protocol.state import State

CT = "1.2.840.10008.5.1.4.1.1.2"
EXPLICIT_LE = "1.2.840.10008.1.2.1"

RQ = P.AAssociateRQ(
    "ANY-SCP",
    "STORESCU",
    (P.PresentationContextRQ(1, CT, (EXPLICIT_LE,)),),
    P.UserInformation(max_length=16384, implementation_class_uid="1.2.3.4"),
)
AC = P.AAssociateAC(
    "ANY-SCP",
    "STORESCU",
    (P.PresentationContextAC(1, P.PC_ACCEPTANCE, EXPLICIT_LE),),
    P.UserInformation(max_length=32768, implementation_class_uid="1.2.3.5"),
)
RELEASE_RQ = P.AReleaseRQ().encode()
RELEASE_RP = P.AReleaseRP().encode()
PDATA = P.PDataTF((P.PDV(1, True, True, b"\x01\x02"), P.PDV(1, False, False, b"abc"))).encode()


def drain(conn: Connection) -> list[IndicationEvent]:
    """All indications until NEED_DATA."""
    out: list[IndicationEvent] = []
    while (event := conn.next_event()) is not NEED_DATA:
        assert not isinstance(event, type(NEED_DATA))
        out.append(event)
    return out


def requestor_sta5(**kwargs: int) -> Connection:
    conn = Connection(Role.REQUESTOR, **kwargs)
    conn.request(RQ)
    assert conn.state is State.Sta4  # AE-1: the driver connects now
    conn.transport_connected()
    assert conn.state is State.Sta5
    return conn


def requestor_sta6(**kwargs: int) -> Connection:
    conn = requestor_sta5(**kwargs)
    conn.receive_data(AC.encode())
    assert drain(conn) == [AssociationAccepted(AC)]
    assert conn.state is State.Sta6
    return conn


def acceptor_sta2(**kwargs: int) -> Connection:
    conn = Connection(Role.ACCEPTOR, **kwargs)
    conn.transport_indication()
    assert conn.state is State.Sta2
    return conn


def acceptor_sta6(**kwargs: int) -> Connection:
    conn = acceptor_sta2(**kwargs)
    conn.receive_data(RQ.encode())
    assert drain(conn) == [AssociationRequested(RQ)]
    conn.accept(AC)
    assert conn.state is State.Sta6
    return conn


def joined(buffers: list[bytes | bytearray | memoryview]) -> bytes:
    return b"".join(bytes(b) for b in buffers)


def decode_stream(raw: bytes) -> list[P.PDU]:
    reader = P.PDUReader(0)
    reader.feed(raw)
    pdus = []
    while (frame := reader.next_frame()) is not None:
        pdus.append(P.decode_pdu(*frame))
    assert reader.buffered == 0
    return pdus


# -------------------------------------------------------------- requestor


def test_requestor_full_flow() -> None:
    """PS3.8 9.2: Sta1 -AE-1-> Sta4 -AE-2-> Sta5 -AE-3-> Sta6 -AR-1-> Sta7 -AR-3-> Sta1.

    With DT-1 (P-DATA request) and DT-2 (P-DATA-TF received) in Sta6.
    """
    conn = Connection(Role.REQUESTOR)
    assert conn.state is State.Sta1
    conn.request(RQ)
    assert conn.state is State.Sta4
    assert joined(conn.transport_connected()) == RQ.encode()  # AE-2
    assert conn.state is State.Sta5

    # The A-ASSOCIATE-AC arrives in two pieces.
    raw_ac = AC.encode()
    conn.receive_data(raw_ac[:10])
    assert conn.next_event() is NEED_DATA
    conn.receive_data(raw_ac[10:])
    assert conn.next_event() == AssociationAccepted(AC)  # AE-3
    assert conn.state is State.Sta6
    assert conn.next_event() is NEED_DATA

    # DT-1: a command then a dataset.
    out = conn.send_data(1, b"CMD!", is_command=True, last=True, max_fragment=100)
    assert joined(out) == P.PDataTF((P.PDV(1, True, True, b"CMD!"),)).encode()
    out = conn.send_data(1, b"0123456789", is_command=False, last=True, max_fragment=4)
    assert [pdu for pdu in decode_stream(joined(out))] == [
        P.PDataTF((P.PDV(1, False, False, b"0123"),)),
        P.PDataTF((P.PDV(1, False, False, b"4567"),)),
        P.PDataTF((P.PDV(1, False, True, b"89"),)),
    ]
    assert conn.state is State.Sta6

    # DT-2: a P-DATA-TF from the peer.
    conn.receive_data(PDATA)
    assert drain(conn) == [DataReceived(P.decode_pdu(4, PDATA[6:]).pdvs)]  # type: ignore[union-attr]

    # AR-1, then AR-3 on the A-RELEASE-RP.
    assert joined(conn.release()) == RELEASE_RQ
    assert conn.state is State.Sta7
    assert not conn.close_requested
    conn.receive_data(RELEASE_RP)
    assert drain(conn) == [ReleaseConfirmed()]
    assert conn.state is State.Sta1
    assert conn.close_requested
    assert conn.data_to_send() == []
    # Sta1: anything more is ignored.
    conn.receive_data(PDATA)
    assert conn.next_event() is NEED_DATA


def test_send_data_fragment_headers() -> None:
    """PS3.8 9.3.5.1 and Annex E.2: PDU/PDV headers, sizes, last bit on the final PDV only."""
    conn = requestor_sta6()
    data = bytes(range(10))
    out = conn.send_data(3, data, is_command=False, last=True, max_fragment=4)
    assert len(out) == 6
    headers, slices = out[::2], out[1::2]
    assert [bytes(h) for h in headers] == [
        bytes.fromhex("04 00 0000000a 00000006 03 00".replace(" ", "")),  # 4 data bytes
        bytes.fromhex("04 00 0000000a 00000006 03 00".replace(" ", "")),
        bytes.fromhex("04 00 00000008 00000004 03 02".replace(" ", "")),  # 2 bytes, last
    ]
    assert [bytes(s) for s in slices] == [data[0:4], data[4:8], data[8:10]]
    # Zero copy: the slices are views on the caller's buffer.
    assert all(isinstance(s, memoryview) and s.obj is data for s in slices)

    out = conn.send_data(3, b"12345678", is_command=True, last=True, max_fragment=4)
    assert len(out) == 4  # exactly divisible: no empty trailing PDV
    assert bytes(out[0])[-1] == 0x01  # command, not last
    assert bytes(out[2])[-1] == 0x03  # command, last

    out = conn.send_data(3, b"12345", is_command=False, last=False, max_fragment=2)
    assert [bytes(h)[-1] for h in out[::2]] == [0, 0, 0]  # more fragments follow later
    assert [len(s) for s in out[1::2]] == [2, 2, 1]


def test_send_data_zero_length_dataset_gives_one_empty_last_pdv() -> None:
    """Annex E.2: an empty dataset still needs a PDV with the last bit set."""
    conn = requestor_sta6()
    out = conn.send_data(1, b"", is_command=False, last=True, max_fragment=16378)
    assert len(out) == 2
    assert bytes(out[0]) == bytes.fromhex("040000000006000000020102")
    assert bytes(out[1]) == b""
    assert decode_stream(joined(out)) == [P.PDataTF((P.PDV(1, False, True, b""),))]


@pytest.mark.parametrize("max_fragment", [0, -1])
def test_send_data_refuses_non_positive_fragment_size(
    max_fragment: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fragment size below 1 would never advance (an endless loop growing a list)."""
    calls = 0
    real = P.pdata_pdv_header

    def bounded(*args: int | bool) -> bytes:
        # Turn a regression into a failure instead of a hang that eats all memory.
        nonlocal calls
        calls += 1
        if calls > 1000:
            raise RuntimeError("send_data does not advance")
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(P, "pdata_pdv_header", bounded)
    conn = requestor_sta6()
    with pytest.raises(ValueError):
        conn.send_data(1, b"abc", is_command=False, last=True, max_fragment=max_fragment)
    assert conn.state is State.Sta6


def test_send_pdata_ready_made() -> None:
    conn = requestor_sta6()
    pdata = P.PDataTF((P.PDV(1, True, True, b"xy"),))
    assert conn.send_pdata(pdata) == [pdata.encode()]
    assert conn.state is State.Sta6


def test_pdata_in_sta7_is_delivered() -> None:
    """AR-6: P-DATA-TF received while awaiting A-RELEASE-RP is still indicated."""
    conn = requestor_sta6()
    conn.release()
    conn.receive_data(PDATA)
    events = drain(conn)
    assert len(events) == 1
    assert isinstance(events[0], DataReceived)
    assert conn.state is State.Sta7


def test_reject() -> None:
    """AE-4: A-ASSOCIATE-RJ in Sta5 -> reject confirmation, close transport, Sta1."""
    conn = requestor_sta5()
    rj = P.AAssociateRJ(1, 1, 7)
    conn.receive_data(rj.encode())
    assert drain(conn) == [AssociationRejected(rj)]
    assert conn.state is State.Sta1
    assert conn.close_requested
    assert conn.data_to_send() == []


def test_peer_abort_in_sta6() -> None:
    """AA-3: A-ABORT PDU -> A-ABORT indication with the PDU's source/reason, Sta1."""
    conn = requestor_sta6()
    conn.receive_data(P.AAbort(2, 6).encode())
    events = drain(conn)
    assert events == [Aborted(2, 6, True, describe_abort(2, 6))]
    assert conn.state is State.Sta1
    assert conn.close_requested
    assert conn.data_to_send() == []


def test_peer_abort_in_sta5() -> None:
    """AA-3 also applies while awaiting the A-ASSOCIATE-AC."""
    conn = requestor_sta5()
    conn.receive_data(P.AAbort(0, 0).encode())
    events = drain(conn)
    assert len(events) == 1
    assert isinstance(events[0], Aborted)
    assert events[0].by_peer
    assert (events[0].source, events[0].reason) == (0, 0)


def test_transport_closed_in_sta6() -> None:
    """AA-4: transport closed -> A-P-ABORT indication, Sta1."""
    conn = requestor_sta6()
    conn.transport_closed()
    events = drain(conn)
    assert len(events) == 1
    event = events[0]
    assert isinstance(event, Aborted)
    assert (event.source, event.reason, event.by_peer) == (None, None, True)
    assert "A-P-ABORT" in event.message
    assert conn.state is State.Sta1
    conn.transport_closed()  # a second close in Sta1 is harmless
    assert conn.next_event() is NEED_DATA


def test_transport_closed_mid_pdu() -> None:
    """RELIABILITY #23: the peer closes mid-PDU; the partial bytes are dropped, A-P-ABORT."""
    conn = requestor_sta6()
    conn.receive_data(PDATA[:-3])
    assert conn.next_event() is NEED_DATA
    conn.transport_closed()
    events = drain(conn)
    assert len(events) == 1
    assert isinstance(events[0], Aborted)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"\x07\x00\x00\x00\x00\x05" + bytes(5), 6),  # A-ABORT with a 5-byte body
        (b"\x08\x00\x00\x00\x00\x04" + bytes(4), 1),  # unknown PDU type
        (b"\x04\x00\x00\x00\x00\x06\x00\x00\x00\x09\x01\x03", 6),  # PDV beyond its PDU
        (b"\x04\x00\x00\x00\x00\x00", 6),  # P-DATA-TF without PDV
    ],
    ids=["abort-body-5", "unknown-type", "pdv-beyond-pdu", "pdata-empty"],
)
def test_invalid_pdu_in_sta6(raw: bytes, reason: int) -> None:
    """AA-8 on Evt19: A-ABORT (source 2, the decoder's reason), A-P-ABORT indication, Sta13."""
    conn = requestor_sta6()
    conn.receive_data(raw)
    events = drain(conn)
    assert len(events) == 1
    event = events[0]
    assert isinstance(event, Aborted)
    assert (event.source, event.reason, event.by_peer) == (2, reason, False)
    assert joined(conn.data_to_send()) == P.AAbort(2, reason).encode()
    assert conn.data_to_send() == []
    assert conn.state is State.Sta13
    assert conn.artim_running
    # The byte stream has no usable boundaries left: even a valid PDU is ignored.
    conn.receive_data(P.AAbort(0, 0).encode())
    assert conn.next_event() is NEED_DATA
    assert conn.state is State.Sta13
    # The peer closes (AR-5), or ARTIM expires first (AA-2).
    conn.transport_closed()
    assert drain(conn) == [ConnectionClosed()]
    assert conn.state is State.Sta1
    assert not conn.artim_running


def test_unexpected_pdu_in_sta6() -> None:
    """AA-8 on Evt3: an A-ASSOCIATE-AC in Sta6 -> A-ABORT source 2 reason 2 (unexpected PDU)."""
    conn = requestor_sta6()
    conn.receive_data(AC.encode())
    events = drain(conn)
    assert len(events) == 1
    event = events[0]
    assert isinstance(event, Aborted)
    assert (event.source, event.reason, event.by_peer) == (2, 2, False)
    assert "unexpected" in event.message
    assert joined(conn.data_to_send()) == P.AAbort(2, 2).encode()
    assert conn.state is State.Sta13


@pytest.mark.parametrize(
    "raw",
    [P.AAssociateRJ(1, 1, 1).encode(), RELEASE_RP, RQ.encode()],
    ids=["RJ", "RELEASE-RP", "ASSOCIATE-RQ"],
)
def test_other_unexpected_pdus_in_sta6(raw: bytes) -> None:
    """Table 9-10: Evt4, Evt13, Evt6 in Sta6 are all AA-8."""
    conn = requestor_sta6()
    conn.receive_data(raw)
    events = drain(conn)
    assert [(type(e), getattr(e, "reason", None)) for e in events] == [(Aborted, 2)]
    assert joined(conn.data_to_send()) == P.AAbort(2, 2).encode()


def test_pdus_after_abort_are_ignored() -> None:
    """Sta13: P-DATA (Evt10) -> AA-6 ignore; A-ABORT (Evt16) -> AA-2 close, Sta1."""
    conn = requestor_sta6()
    assert joined(conn.abort()) == P.AAbort(0, 0).encode()  # AA-1
    assert conn.state is State.Sta13
    assert conn.artim_running
    conn.receive_data(PDATA + RELEASE_RQ + RELEASE_RP + AC.encode())
    assert conn.next_event() is NEED_DATA  # AA-6 x4
    assert conn.data_to_send() == []
    assert conn.state is State.Sta13
    conn.receive_data(P.AAbort(2, 0).encode())
    assert drain(conn) == [ConnectionClosed()]  # AA-2
    assert conn.state is State.Sta1
    assert conn.close_requested


def test_rq_or_invalid_pdu_in_sta13_answers_abort() -> None:
    """AA-7 in Sta13: Evt6 (A-ASSOCIATE-RQ) or Evt19 (invalid PDU) -> send A-ABORT, stay."""
    conn = requestor_sta6()
    conn.abort()
    conn.receive_data(RQ.encode())
    assert conn.next_event() is NEED_DATA
    assert joined(conn.data_to_send()) == P.AAbort(2, 2).encode()
    assert conn.state is State.Sta13
    conn.receive_data(b"\x09\x00\x00\x00\x00\x00")
    assert conn.next_event() is NEED_DATA
    assert joined(conn.data_to_send()) == P.AAbort(2, 1).encode()
    assert conn.state is State.Sta13


def test_local_abort_in_sta4_closes_without_pdu() -> None:
    """AA-2 on Evt15 in Sta4: nothing to send, just close."""
    conn = Connection(Role.REQUESTOR)
    conn.request(RQ)
    assert conn.abort() == []
    assert conn.close_requested
    assert conn.state is State.Sta1


def test_abort_with_source_and_reason() -> None:
    conn = requestor_sta5()
    assert joined(conn.abort(2, 6)) == P.AAbort(2, 6).encode()
    assert conn.state is State.Sta13


def test_transport_closed_in_sta4_and_sta5() -> None:
    """AA-4: connection refused or lost before the AC -> A-P-ABORT."""
    conn = Connection(Role.REQUESTOR)
    conn.request(RQ)
    conn.transport_closed()
    assert [type(e) for e in drain(conn)] == [Aborted]
    conn = requestor_sta5()
    conn.transport_closed()
    assert [type(e) for e in drain(conn)] == [Aborted]
    assert conn.state is State.Sta1


# ---------------------------------------------------------- release collision


def test_release_collision_requestor() -> None:
    """PS3.8 9.2.2: Sta7 -AR-8-> Sta9 -AR-9-> Sta11 -AR-3-> Sta1."""
    conn = requestor_sta6()
    conn.release()
    conn.receive_data(RELEASE_RQ)
    assert drain(conn) == [ReleaseRequested(collision=True)]
    assert conn.state is State.Sta9
    assert joined(conn.release_response()) == RELEASE_RP  # AR-9
    assert conn.state is State.Sta11
    assert not conn.artim_running
    conn.receive_data(RELEASE_RP)
    assert drain(conn) == [ReleaseConfirmed()]  # AR-3
    assert conn.state is State.Sta1
    assert conn.close_requested


def test_release_collision_acceptor() -> None:
    """PS3.8 9.2.2: Sta7 -AR-8-> Sta10 -AR-10-> Sta12 -AR-4-> Sta13 -AR-5-> Sta1."""
    conn = acceptor_sta6()
    assert joined(conn.release()) == RELEASE_RQ
    conn.receive_data(RELEASE_RQ)
    assert drain(conn) == [ReleaseRequested(collision=True)]
    assert conn.state is State.Sta10
    with pytest.raises(LocalProtocolError):
        conn.release_response()  # the acceptor waits for the requestor's RP first
    conn.receive_data(RELEASE_RP)
    assert drain(conn) == [ReleaseConfirmed()]  # AR-10
    assert conn.state is State.Sta12
    assert not conn.close_requested
    assert joined(conn.release_response()) == RELEASE_RP  # AR-4
    assert conn.state is State.Sta13
    assert conn.artim_running
    conn.transport_closed()
    assert drain(conn) == [ConnectionClosed()]  # AR-5
    assert conn.state is State.Sta1


# ----------------------------------------------------------------- acceptor


def test_acceptor_accept_flow() -> None:
    """AE-5, AE-6, AE-7, DT-2, AR-2, AR-4, AR-5."""
    conn = Connection(Role.ACCEPTOR)
    conn.transport_indication()
    assert conn.state is State.Sta2
    assert conn.artim_running  # AE-5 starts ARTIM
    raw = RQ.encode()
    for i in range(len(raw)):  # one byte at a time
        conn.receive_data(raw[i : i + 1])
    assert drain(conn) == [AssociationRequested(RQ)]
    assert conn.state is State.Sta3
    assert not conn.artim_running  # AE-6 stops it
    assert joined(conn.accept(AC)) == AC.encode()
    assert conn.state is State.Sta6
    conn.receive_data(PDATA)
    assert [type(e) for e in drain(conn)] == [DataReceived]
    conn.receive_data(RELEASE_RQ)
    assert drain(conn) == [ReleaseRequested(collision=False)]  # AR-2
    assert conn.state is State.Sta8
    # AR-7: P-DATA may still be sent while the release response is pending.
    conn.send_data(1, b"rsp", is_command=True, last=True, max_fragment=100)
    assert conn.state is State.Sta8
    assert joined(conn.release_response()) == RELEASE_RP  # AR-4
    assert conn.state is State.Sta13
    assert conn.artim_running
    conn.transport_closed()
    assert drain(conn) == [ConnectionClosed()]
    assert conn.state is State.Sta1


def test_acceptor_reject_flow() -> None:
    """AE-8: send A-ASSOCIATE-RJ, start ARTIM, Sta13; the requestor then closes (AR-5)."""
    conn = acceptor_sta2()
    conn.receive_data(RQ.encode())
    drain(conn)
    rj = P.AAssociateRJ(2, 3, 1)
    assert joined(conn.reject(rj)) == rj.encode()
    assert conn.state is State.Sta13
    assert conn.artim_running
    conn.transport_closed()
    assert drain(conn) == [ConnectionClosed()]


def test_acceptor_protocol_version_without_bit_0() -> None:
    """PS3.8 9.3.2 / AE-6: version bit 0 clear -> RJ permanent, source 2, reason 2; Sta13."""
    conn = acceptor_sta2()
    rq = dataclasses.replace(RQ, protocol_version=2)
    conn.receive_data(rq.encode())
    assert drain(conn) == []
    assert joined(conn.data_to_send()) == P.AAssociateRJ(1, 2, 2).encode()
    assert conn.state is State.Sta13
    assert conn.artim_running


def test_acceptor_peer_closes_in_sta2() -> None:
    """AA-5: transport closed while awaiting the A-ASSOCIATE-RQ."""
    conn = acceptor_sta2()
    conn.transport_closed()
    assert drain(conn) == [ConnectionClosed()]
    assert conn.state is State.Sta1
    assert not conn.artim_running


def test_acceptor_invalid_pdu_in_sta2() -> None:
    """AA-1 on Evt19 in Sta2: A-ABORT (service-user source, PS3.8 Table 9-9), ARTIM, Sta13.

    No indication: no association was ever indicated to the local user.
    """
    conn = acceptor_sta2()
    conn.receive_data(b"\x01\x00\x00\x00\x00\x02\x00\x01")  # RQ far too short
    assert drain(conn) == []
    assert joined(conn.data_to_send()) == P.AAbort(0, 0).encode()
    assert conn.state is State.Sta13
    assert conn.artim_running


@pytest.mark.parametrize(
    "raw", [AC.encode(), PDATA, RELEASE_RQ, RELEASE_RP], ids=["AC", "P-DATA", "REL-RQ", "REL-RP"]
)
def test_acceptor_unexpected_pdu_in_sta2(raw: bytes) -> None:
    """AA-1 on Evt3/10/12/13 in Sta2."""
    conn = acceptor_sta2()
    conn.receive_data(raw)
    assert drain(conn) == []
    assert joined(conn.data_to_send()) == P.AAbort(0, 0).encode()
    assert conn.state is State.Sta13


def test_acceptor_abort_in_sta2() -> None:
    """AA-2 on Evt16 in Sta2: close, no indication of an association."""
    conn = acceptor_sta2()
    conn.receive_data(P.AAbort().encode())
    assert drain(conn) == [ConnectionClosed()]
    assert conn.state is State.Sta1
    assert conn.close_requested


# --------------------------------------------------------------------- ARTIM


def test_artim_expiry_in_sta2() -> None:
    """Evt18 in Sta2 -> AA-2: close the transport."""
    conn = acceptor_sta2()
    conn.artim_expired()
    assert drain(conn) == [ConnectionClosed()]
    assert conn.state is State.Sta1
    assert conn.close_requested
    assert not conn.artim_running


def test_artim_expiry_in_sta13() -> None:
    conn = requestor_sta6()
    conn.abort()
    conn.artim_expired()
    assert drain(conn) == [ConnectionClosed()]
    assert conn.state is State.Sta1
    assert conn.close_requested


def test_artim_expiry_elsewhere_is_a_stale_timer() -> None:
    """Table 9-10 has Evt18 only in Sta2 and Sta13; a late timer elsewhere just stops."""
    conn = requestor_sta6()
    conn.artim_running = True
    conn.artim_expired()
    assert conn.state is State.Sta6
    assert not conn.artim_running
    assert conn.next_event() is NEED_DATA


# ------------------------------------------------------------ length bounds


def test_pdata_longer_than_max_receive_pdu_aborts_with_reason_6() -> None:
    """RELIABILITY #29, PS3.8 D.1: P-DATA over our maximum -> A-ABORT source 2 reason 6."""
    conn = requestor_sta6(max_receive_pdu=4096)
    conn.receive_data(P.pdata_header(4097))  # the header alone is enough to decide
    events = drain(conn)
    assert [(type(e), getattr(e, "reason", None)) for e in events] == [(Aborted, 6)]
    assert joined(conn.data_to_send()) == P.AAbort(2, 6).encode()


def test_pdata_at_max_receive_pdu_is_fine() -> None:
    conn = requestor_sta6(max_receive_pdu=4096)
    raw = P.PDataTF((P.PDV(1, False, True, bytes(4090)),)).encode()
    assert len(raw) == 6 + 4096
    conn.receive_data(raw)
    assert [type(e) for e in drain(conn)] == [DataReceived]


def test_ac_claiming_4_gib_is_refused_at_once() -> None:
    """RELIABILITY #25: bound 1 MiB on association PDUs; the header is enough."""
    conn = requestor_sta5()
    conn.receive_data(b"\x02\x00\xff\xff\xff\xff")
    events = drain(conn)
    assert [(type(e), getattr(e, "reason", None)) for e in events] == [(Aborted, 6)]
    assert conn.buffered == 6


def test_truncated_ac_waits_then_a_p_abort() -> None:
    """RELIABILITY #24: an AC whose length exceeds the bytes that follow never completes."""
    conn = requestor_sta5()
    raw = AC.encode()
    conn.receive_data(raw[:6] + raw[6:20])
    assert conn.next_event() is NEED_DATA
    conn.transport_closed()
    assert [type(e) for e in drain(conn)] == [Aborted]


# ------------------------------------------------------- local primitive misuse


def _fresh_requestor() -> Connection:
    return Connection(Role.REQUESTOR)


def _send(conn: Connection) -> object:
    return conn.send_data(1, b"x", is_command=True, last=True, max_fragment=10)


MISUSE = [
    ("release in Sta1", _fresh_requestor, lambda c: c.release()),
    ("send_data in Sta1", _fresh_requestor, _send),
    ("accept in Sta1", _fresh_requestor, lambda c: c.accept(AC)),
    ("reject in Sta1", _fresh_requestor, lambda c: c.reject(P.AAssociateRJ(1, 1, 1))),
    ("abort in Sta1", _fresh_requestor, lambda c: c.abort()),
    ("transport_connected in Sta1", _fresh_requestor, lambda c: c.transport_connected()),
    ("release_response in Sta1", _fresh_requestor, lambda c: c.release_response()),
    ("send_data in Sta5", requestor_sta5, _send),
    ("release in Sta5", requestor_sta5, lambda c: c.release()),
    ("request in Sta6", requestor_sta6, lambda c: c.request(RQ)),
    ("accept in Sta6", requestor_sta6, lambda c: c.accept(AC)),
    ("transport_indication in Sta6", requestor_sta6, lambda c: c.transport_indication()),
    ("release_response in Sta6", requestor_sta6, lambda c: c.release_response()),
    ("accept in Sta2", acceptor_sta2, lambda c: c.accept(AC)),
    ("send_data in Sta2", acceptor_sta2, _send),
    ("release twice (Sta7)", lambda: _released(requestor_sta6()), lambda c: c.release()),
    ("send_data in Sta7", lambda: _released(requestor_sta6()), _send),
    ("abort in Sta13", lambda: _aborted(requestor_sta6()), lambda c: c.abort()),
]


def _released(conn: Connection) -> Connection:
    conn.release()
    return conn


def _aborted(conn: Connection) -> Connection:
    conn.abort()
    return conn


@pytest.mark.parametrize(("make", "call"), [m[1:] for m in MISUSE], ids=[m[0] for m in MISUSE])
def test_local_primitive_in_wrong_state(make, call) -> None:  # type: ignore[no-untyped-def]
    """A blank cell of Table 9-10 for a local primitive is the caller's bug."""
    conn = make()
    before = conn.state
    with pytest.raises(LocalProtocolError):
        call(conn)
    assert conn.state is before


# ------------------------------------------------------------------- texts


def test_describe_abort() -> None:
    """PS3.8 Table 9-26."""
    assert describe_abort(2, 6) == (
        "A-ABORT from DICOM UL service-provider (source 2), invalid-PDU-parameter-value (reason 6)"
    )
    assert describe_abort(2, 1) == (
        "A-ABORT from DICOM UL service-provider (source 2), unrecognized-PDU (reason 1)"
    )
    assert describe_abort(0, 0) == (
        "A-ABORT from DICOM UL service-user (source 0), reason not significant (reason 0)"
    )
    assert "unknown source" in describe_abort(9, 0)
    assert "unknown reason (reason 77)" in describe_abort(2, 77)


def test_describe_reject() -> None:
    """PS3.8 Table 9-21, DCMTK-style lines."""
    assert describe_reject(1, 1, 7) == [
        "Result: Rejected Permanent (1)",
        "Source: Service User (1)",
        "Reason: Called AE Title Not Recognized (7)",
    ]
    assert describe_reject(2, 3, 1) == [
        "Result: Rejected Transient (2)",
        "Source: Service Provider (Presentation related function) (3)",
        "Reason: Temporary Congestion (1)",
    ]
    assert describe_reject(1, 2, 2)[2] == "Reason: Protocol Version Not Supported (2)"
    assert describe_reject(1, 1, 3)[2] == "Reason: Calling AE Title Not Recognized (3)"
    # RELIABILITY #16: out-of-range values print as text and numbers, never crash.
    assert describe_reject(9, 9, 9) == [
        "Result: Unknown Result (9)",
        "Source: Unknown Source (9)",
        "Reason: Unknown Reason (9)",
    ]


# ------------------------------------------------------- property tests (fuzz)

VALID_PDUS = [
    AC.encode(),
    P.AAssociateRJ(1, 1, 1).encode(),
    RQ.encode(),
    PDATA,
    RELEASE_RQ,
    RELEASE_RP,
    P.AAbort(2, 1).encode(),
]


@st.composite
def peer_bytes(draw: st.DrawFn) -> list[bytes]:
    """A stream of valid PDUs, mutated PDUs and noise, cut into arbitrary chunks."""
    parts = []
    for _ in range(draw(st.integers(min_value=1, max_value=5))):
        kind = draw(st.sampled_from(["valid", "mutated", "noise", "header"]))
        if kind == "noise":
            parts.append(draw(st.binary(min_size=1, max_size=60)))
            continue
        if kind == "header":
            pdu_type = draw(st.integers(min_value=0, max_value=9))
            length = draw(st.sampled_from([0, 1, 4, 5, 0xFFFFFFFF, 1 << 20, (1 << 20) + 1]))
            parts.append(struct.pack(">BBL", pdu_type, 0, length))
            continue
        raw = bytearray(draw(st.sampled_from(VALID_PDUS)))
        if kind == "mutated":
            pos = draw(st.integers(min_value=0, max_value=len(raw) - 1))
            raw[pos] = draw(st.integers(min_value=0, max_value=255))
            if draw(st.booleans()):
                del raw[draw(st.integers(min_value=0, max_value=len(raw))) :]
        parts.append(bytes(raw))
    stream = b"".join(parts)
    cuts = sorted(draw(st.lists(st.integers(min_value=0, max_value=len(stream)), max_size=6)))
    bounds = [0, *cuts, len(stream)]
    return [stream[a:b] for a, b in itertools.pairwise(bounds)]


def check_connection_survives(conn: Connection, chunks: list[bytes]) -> None:
    """Feed the chunks; only indications come out, and a violation answers an A-ABORT."""
    events: list[IndicationEvent] = []
    for chunk in chunks:
        conn.receive_data(chunk)
        events += drain(conn)
    conn.transport_closed()
    events += drain(conn)
    sent = decode_stream(joined(conn.data_to_send()))
    for event in events:
        assert isinstance(
            event,
            AssociationRequested
            | AssociationAccepted
            | AssociationRejected
            | DataReceived
            | ReleaseRequested
            | ReleaseConfirmed
            | Aborted
            | ConnectionClosed,
        )
        if isinstance(event, Aborted) and not event.by_peer:
            # AA-8: we told the peer why, with the same source and reason.
            assert P.AAbort(2, event.reason or 0) in sent
    for pdu in sent:
        assert isinstance(pdu, P.AAbort | P.AAssociateRJ)
    assert conn.state is State.Sta1  # every path ends once the transport is closed


FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(peer_bytes())
def test_requestor_sta5_survives_any_bytes(chunks: list[bytes]) -> None:
    check_connection_survives(requestor_sta5(max_receive_pdu=4096), chunks)


@FUZZ
@given(peer_bytes())
def test_requestor_sta6_survives_any_bytes(chunks: list[bytes]) -> None:
    check_connection_survives(requestor_sta6(max_receive_pdu=4096), chunks)


@FUZZ
@given(peer_bytes())
def test_acceptor_sta2_survives_any_bytes(chunks: list[bytes]) -> None:
    check_connection_survives(acceptor_sta2(max_receive_pdu=4096), chunks)


@FUZZ
@given(st.binary(max_size=300))
def test_requestor_sta6_random_bytes_abort_or_events(raw: bytes) -> None:
    """Pure noise: either valid indications or an Aborted + an A-ABORT to send."""
    conn = requestor_sta6()
    conn.receive_data(raw)
    events = drain(conn)
    violations = [e for e in events if isinstance(e, Aborted) and not e.by_peer]
    if violations:
        assert conn.state is State.Sta13
        sent = decode_stream(joined(conn.data_to_send()))
        assert sent == [P.AAbort(2, violations[0].reason or 0)]
