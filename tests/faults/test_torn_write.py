"""A write cut short inside a PDU must not be followed by an A-ABORT (found by the fault suite).

When a send stops after part of its bytes went out (socket timeout, Ctrl-C or
SIGTERM while the peer reads slowly), the byte stream ends inside a P-DATA-TF:
an A-ABORT written then would be read by the peer as the rest of that PDU. The
transport records the torn write and the association just closes (the peer sees
an A-P-ABORT). Hermetic: a socket pair, no peer process.
"""

from __future__ import annotations

import socket

import pytest

from storescu.kernel.errors import TimeoutError_
from storescu.net.client import AssociationSettings, StoreAssociation
from storescu.net.transport import Transport
from storescu.protocol import pdu as P
from storescu.protocol.association import AssociationAccepted, Connection, Role
from storescu.protocol.negotiation import AcceptedContext, AcceptedContexts

CT = "1.2.840.10008.5.1.4.1.1.2"
EXPLICIT_LE = "1.2.840.10008.1.2.1"


def established() -> tuple[StoreAssociation, socket.socket]:
    ours, theirs = socket.socketpair()
    ours.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 16 * 1024)
    theirs.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 * 1024)
    conn = Connection(Role.REQUESTOR)
    rq = P.AAssociateRQ("SCP", "SCU", (P.PresentationContextRQ(1, CT, (EXPLICIT_LE,)),))
    conn.request(rq)
    conn.transport_connected()
    conn.receive_data(
        P.AAssociateAC("SCP", "SCU", (P.PresentationContextAC(1, 0, EXPLICIT_LE),)).encode()
    )
    assert isinstance(conn.next_event(), AssociationAccepted)
    accepted = AcceptedContexts([AcceptedContext(1, CT, EXPLICIT_LE)])
    assoc = StoreAssociation(
        Transport(ours, "pair"), conn, AssociationSettings(), accepted, 16384, ("", "")
    )
    return assoc, theirs


def drain(sock: socket.socket) -> bytes:
    sock.settimeout(0.5)
    data = bytearray()
    while True:
        try:
            chunk = sock.recv(1 << 20)
        except TimeoutError:
            break
        if not chunk:
            break
        data += chunk
    return bytes(data)


def test_abort_after_a_torn_write_only_closes() -> None:
    assoc, theirs = established()
    pdus = assoc.connection.send_data(
        1, bytes(4 << 20), is_command=False, last=True, max_fragment=16378
    )
    with pytest.raises(TimeoutError_):
        assoc.transport.send(pdus, 0.2)  # nobody reads: it stops part-way
    assert assoc.transport.torn
    assoc.abort()
    data = drain(theirs)
    theirs.close()
    expected = b"".join(bytes(b) for b in pdus)
    assert 0 < len(data) < len(expected)
    assert data == expected[: len(data)], "something was written after the torn PDU"


def test_abort_after_whole_writes_sends_an_a_abort() -> None:
    assoc, theirs = established()
    assoc.transport.send(assoc.connection.send_data(
        1, b"\x00" * 100, is_command=False, last=True, max_fragment=16378
    ), 1.0)  # fmt: skip
    assert not assoc.transport.torn
    assoc.abort()
    data = drain(theirs)
    theirs.close()
    assert data.endswith(P.AAbort(0, 0).encode())
