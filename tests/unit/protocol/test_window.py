"""The Asynchronous Operations Window (PS3.7 D.3.3.3), without sockets."""

from __future__ import annotations

import pytest

from storescu.kernel.errors import LocalProtocolError, RemoteProtocolError
from storescu.net.client import AssociationSettings, _associate_request
from storescu.protocol import pdu as P
from storescu.protocol.window import (
    UNLIMITED_WINDOW_CAP,
    Outstanding,
    answer_window,
    negotiated_window,
)

# Sub-item 0x53 (PS3.7 Table D.3-7): type 53, reserved 00, length 0004,
# max-ops-invoked 0010 (16), max-ops-performed 0001 (1).
GOLDEN_WINDOW_16_1 = bytes.fromhex("53 00 0004 0010 0001")


def test_sub_item_golden_bytes() -> None:
    user = P.UserInformation(16384, "1.2.3", async_ops=(16, 1))
    body = user.encode()[4:]  # the 0x50 item's value
    assert GOLDEN_WINDOW_16_1 in body
    assert P.UserInformation.decode(body).async_ops == (16, 1)


def test_sub_item_of_wrong_length_is_refused() -> None:
    # 0x51 max length 16384, then a 0x53 item 2 bytes long.
    body = bytes.fromhex("51 00 0004 00004000") + bytes.fromhex("53 00 0002 0010")
    with pytest.raises(RemoteProtocolError):
        P.UserInformation.decode(body)


def test_default_settings_propose_no_window() -> None:
    rq = _associate_request((), AssociationSettings())
    assert rq.user_information.async_ops is None
    assert GOLDEN_WINDOW_16_1 not in rq.encode()


def test_window_settings_go_into_the_request() -> None:
    rq = _associate_request((), AssociationSettings(max_ops_invoked=16))
    assert rq.user_information.async_ops == (16, 1)
    assert GOLDEN_WINDOW_16_1 in rq.encode()
    decoded = P.AAssociateRQ.decode(rq.encode()[6:])
    assert decoded.user_information.async_ops == (16, 1)


@pytest.mark.parametrize(
    ("proposed", "answered", "window"),
    [
        (None, None, 1),  # synchronous, as DCMTK
        ((16, 1), None, 1),  # the acceptor omitted the item: 1 (D.3.3.3)
        (None, (16, 1), 1),  # an answer to nothing proposed is not believed
        ((16, 1), (1, 1), 1),  # the acceptor answered 1
        ((16, 1), (8, 1), 8),  # the acceptor granted fewer
        ((16, 1), (16, 1), 16),
        ((16, 1), (64, 1), 16),  # more than proposed: held to the proposal
        ((16, 1), (0, 1), 16),  # unlimited granted: ours
        ((0, 0), (0, 0), UNLIMITED_WINDOW_CAP),  # unlimited both ways: bounded
        ((0, 0), (5, 1), 5),
    ],
)
def test_negotiated_window(
    proposed: tuple[int, int] | None, answered: tuple[int, int] | None, window: int
) -> None:
    assert negotiated_window(proposed, answered) == window


@pytest.mark.parametrize(
    ("proposed", "limit", "answer"),
    [
        (None, 16, None),  # no item proposed: none answered
        ((1, 1), 16, (1, 1)),
        ((16, 1), 16, (16, 1)),
        ((64, 4), 16, (16, 1)),  # capped by what we perform; we invoke none
        ((0, 0), 16, (16, 1)),  # unlimited asked: our limit
        ((8, 1), 1, (1, 1)),
    ],
)
def test_acceptor_answer(
    proposed: tuple[int, int] | None, limit: int, answer: tuple[int, int] | None
) -> None:
    assert answer_window(proposed, limit) == answer


def test_both_ways_through_the_pdus() -> None:
    """Requestor proposes 16, our acceptor answers with its limit, the requestor uses it."""
    rq = _associate_request((), AssociationSettings(max_ops_invoked=16))
    answer = answer_window(P.AAssociateRQ.decode(rq.encode()[6:]).user_information.async_ops, 4)
    ac = P.AAssociateAC("A", "B", (), P.UserInformation(16384, "1.2.3", async_ops=answer))
    got = P.AAssociateAC.decode(ac.encode()[6:]).user_information.async_ops
    assert negotiated_window(rq.user_information.async_ops, got) == 4


def test_out_of_order_responses_are_matched_by_message_id() -> None:
    window: Outstanding[str] = Outstanding(3)
    for message_id, name in ((1, "a"), (2, "b"), (3, "c")):
        window.add(message_id, name)
    assert window.full
    assert window.complete(3) == "c"
    assert window.complete(1) == "a"
    assert not window.full
    window.add(4, "d")
    assert window.complete(2) == "b"
    assert window.complete(4) == "d"
    assert len(window) == 0
    assert window.peak == 3


@pytest.mark.parametrize("message_id", [None, 0, 2, 7])
def test_response_for_a_message_id_not_outstanding_is_a_protocol_error(
    message_id: int | None,
) -> None:
    window: Outstanding[str] = Outstanding(2)
    window.add(1, "a")
    window.add(3, "c")
    window.complete(3)
    with pytest.raises(RemoteProtocolError, match="not outstanding"):
        window.complete(message_id)
    # The one outstanding is still there: the driver aborts, then accounts for it.
    assert window.drain() == ["a"]


def test_a_response_twice_is_a_protocol_error() -> None:
    window: Outstanding[str] = Outstanding(2)
    window.add(1, "a")
    window.complete(1)
    with pytest.raises(RemoteProtocolError):
        window.complete(1)


def test_more_outstanding_than_accepted_never_happens() -> None:
    window: Outstanding[int] = Outstanding(2)
    window.add(1, 1)
    window.add(2, 2)
    with pytest.raises(LocalProtocolError, match="window of 2 is full"):
        window.add(3, 3)
    assert len(window) == 2 and window.peak == 2
    duplicate: Outstanding[int] = Outstanding(4)
    duplicate.add(5, 5)
    with pytest.raises(LocalProtocolError, match="already outstanding"):
        duplicate.add(5, 6)


def test_a_window_of_one_is_synchronous() -> None:
    window: Outstanding[str] = Outstanding(1)
    window.add(1, "a")
    assert window.full
    with pytest.raises(LocalProtocolError):
        window.add(2, "b")
    with pytest.raises(ValueError):
        Outstanding(0)


def test_drain_returns_oldest_first() -> None:
    window: Outstanding[str] = Outstanding(4)
    for message_id, name in ((9, "x"), (2, "y"), (5, "z")):
        window.add(message_id, name)
    assert list(window) == [9, 2, 5]
    assert window.drain() == ["x", "y", "z"]
    assert len(window) == 0
