"""The Asynchronous Operations Window (PS3.7 D.3.3.3) against a scripted peer: several
C-STOREs in flight when the peer answers out of order, answers a Message ID that is not
outstanding, aborts, closes, or fails a store -- every input accounted for exactly once.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from storescu.protocol import dimse
from storescu.protocol import pdu as P
from tests.faults import files
from tests.faults.invariants import (
    EXIT_NETWORK,
    EXIT_SUCCESS,
    TIMEOUTS,
    CliRun,
    run_cli,
)
from tests.helpers.hostile import Channel, HostilePeer, Script, Store

Hostile = Callable[..., HostilePeer]


def accept_window(ch: Channel, window: int) -> None:
    """Accept the RQ, answering its Asynchronous Operations Window with ``window``."""
    rq = ch.read_rq()
    ac = ch.build_ac(rq)
    user = ac.user_information
    ac = P.AAssociateAC(
        ac.called_ae,
        ac.calling_ae,
        ac.presentation_contexts,
        P.UserInformation(
            user.max_length,
            user.implementation_class_uid,
            user.implementation_version_name,
            async_ops=(window, 1) if rq.user_information.async_ops is not None else None,
        ),
    )
    ch.send(ac.encode())
    ch._assembler = dimse.MessageAssembler(frozenset(ch.session.accepted))


def read_stores(ch: Channel, count: int) -> list[Store]:
    stores = []
    for _ in range(count):
        store = ch.read_store()
        assert store is not None
        stores.append(store)
    return stores


def nothing_more(ch: Channel, seconds: float = 0.5) -> bool:
    """True when the sender sends nothing within `seconds` (the window is full)."""
    try:
        ch.read_pdu(seconds)
    except TimeoutError:
        return True
    ch.session.errors.append("a request beyond the accepted window")
    return False


@pytest.fixture
def inputs(tmp_path: Path) -> list[Path]:
    return [files.copy_ct(tmp_path / f"ct{i}.dcm") for i in range(8)]


def run(
    hostile: Hostile, script: Script, report: Path, inputs: list[Path], *options: str
) -> tuple[CliRun, HostilePeer]:
    peer = hostile(script)
    result = run_cli(
        [*TIMEOUTS, "--max-ops-invoked", "4", *options, peer.host, str(peer.port), *inputs],
        report=report,
    )
    peer.wait_idle()
    return result, peer


def outcomes(result: CliRun, inputs: list[Path]) -> list[str]:
    """The outcome of each input, checking that each has exactly one row."""
    rows = result.rows()
    by_path: dict[str, list[str]] = {}
    for row in rows:
        by_path.setdefault(str(row["path"]), []).append(str(row["outcome"]))
    assert sorted(by_path) == sorted(str(p) for p in inputs), result.describe()
    assert all(len(v) == 1 for v in by_path.values()), (by_path, result.describe())
    assert len(rows) == len(inputs)
    return [by_path[str(p)][0] for p in inputs]


def test_responses_out_of_order_and_never_more_than_the_window(
    hostile: Hostile, report: Path, inputs: list[Path]
) -> None:
    def script(ch: Channel) -> None:
        accept_window(ch, 4)
        stores = read_stores(ch, 4)  # four under way before any response
        nothing_more(ch)
        for store in reversed(stores):
            ch.respond(store)
        ch.serve()

    result, peer = run(hostile, script, report, inputs, "-v")
    assert result.returncode == EXIT_SUCCESS, result.describe()
    assert outcomes(result, inputs) == ["sent"] * 8
    (session,) = peer.sessions
    assert session.errors == []
    assert session.ending == "release"
    ids = [store.message_id for store in session.stores]
    assert ids == list(range(1, 9))
    assert "Asynchronous Operations Window" in result.stderr


@pytest.mark.parametrize("answer", [None, 1])
def test_peer_answering_no_window_gets_one_at_a_time(
    hostile: Hostile, report: Path, inputs: list[Path], answer: int | None
) -> None:
    def script(ch: Channel) -> None:
        if answer is None:
            ch.accept()  # no 0x53 sub-item in the AC: synchronous (PS3.7 D.3.3.3)
        else:
            accept_window(ch, answer)
        while (store := ch.read_store()) is not None:
            if not nothing_more(ch, 0.05):
                return
            ch.respond(store)

    result, peer = run(hostile, script, report, inputs[:3])
    assert result.returncode == EXIT_SUCCESS, result.describe()
    assert outcomes(result, inputs[:3]) == ["sent"] * 3
    assert peer.sessions[0].errors == []


def test_response_for_a_message_id_not_outstanding_aborts(
    hostile: Hostile, report: Path, inputs: list[Path]
) -> None:
    def script(ch: Channel) -> None:
        accept_window(ch, 4)
        stores = read_stores(ch, 3)
        ch.respond(stores[0], message_id=99)
        ch.wait_end(timeout=10)

    result, peer = run(hostile, script, report, inputs)
    assert result.returncode == EXIT_NETWORK, result.describe()
    got = outcomes(result, inputs)
    assert got[:4] == ["failed-outcome-unknown"] * 4  # the window's four were under way
    assert got[4:] == ["not-sent"] * 4
    assert "MsgID 99" in result.stderr and "not outstanding" in result.stderr
    assert peer.sessions[0].ending == "abort"


@pytest.mark.parametrize("how", ["abort", "close"])
@pytest.mark.parametrize("halt", [True, False])
def test_association_lost_with_several_in_flight(
    hostile: Hostile, report: Path, inputs: list[Path], how: str, halt: bool
) -> None:
    connections = []
    lock = threading.Lock()

    def script(ch: Channel) -> None:
        with lock:
            connections.append(ch)
            first = len(connections) == 1
        accept_window(ch, 4)
        if not first:
            ch.serve()
            return
        stores = read_stores(ch, 4)
        ch.respond(stores[1])  # one answered: its slot goes to the fifth
        read_stores(ch, 1)
        if how == "abort":
            ch.send(P.AAbort(2, 0).encode())
            ch.session.ending = "peer-aborted"
        ch.close()

    options = () if halt else ("--no-halt",)
    result, peer = run(hostile, script, report, inputs, *options)
    got = outcomes(result, inputs)
    assert got[1] == "sent"
    unknown = [got[0], *got[2:5]]
    assert unknown == ["failed-outcome-unknown"] * 4, result.describe()  # four in flight
    if halt:
        assert got[5:] == ["not-sent"] * 3
        assert len(peer.sessions) == 1
    else:
        assert got[5:] == ["sent"] * 3  # a new association for the rest
        assert len(peer.sessions) == 2
    assert result.returncode != EXIT_SUCCESS


@pytest.mark.parametrize("halt", [True, False])
def test_failure_status_with_several_in_flight(
    hostile: Hostile, report: Path, inputs: list[Path], halt: bool
) -> None:
    def script(ch: Channel) -> None:
        accept_window(ch, 4)
        stores = read_stores(ch, 4)
        ch.respond(stores[1], 0xC000, comment="no")  # the first response is the failure
        for store in (stores[0], stores[2], stores[3]):
            ch.respond(store)
        ch.serve()

    options = () if halt else ("--no-halt",)
    result, peer = run(hostile, script, report, inputs, *options)
    got = outcomes(result, inputs)
    # Those under way when the failure came finish and are recorded (halt or not).
    assert got[:4] == ["sent", "failed-status", "sent", "sent"], result.describe()
    assert got[4:] == (["not-sent"] * 4 if halt else ["sent"] * 4)
    assert peer.sessions[0].ending == "release"
    assert result.returncode != EXIT_SUCCESS


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_interrupt_with_several_in_flight_accounts_each_once(
    hostile: Hostile, report: Path, inputs: list[Path], signum: int
) -> None:
    """Ctrl-C / SIGTERM while four requests are under way: each is failed-outcome-unknown
    once (its response never came), the rest not-sent; the association is aborted."""
    four = threading.Event()

    def script(ch: Channel) -> None:
        accept_window(ch, 4)
        read_stores(ch, 4)
        four.set()
        ch.wait_end(timeout=20)

    peer = hostile(script)
    result = run_cli(
        [
            "-td",
            "30",
            "-ts",
            "30",
            "-ta",
            "5",
            "--max-ops-invoked",
            "4",
            peer.host,
            str(peer.port),
            *inputs,
        ],
        report=report,
        signal_when=(four.is_set, signum),
    )
    peer.wait_idle()
    got = outcomes(result, inputs)
    assert got[:4] == ["failed-outcome-unknown"] * 4, result.describe()
    assert got[4:] == ["not-sent"] * 4
    assert result.returncode == (130 if signum == signal.SIGINT else 143)
    assert result.seconds < 20  # not the 30 s timeouts
    assert peer.sessions[0].ending == "abort"


@pytest.mark.parametrize("how", ["abort", "close"])
@pytest.mark.parametrize("halt", [True, False])
def test_parallel_association_lost_with_several_in_flight(
    hostile: Hostile, report: Path, tmp_path: Path, how: str, halt: bool
) -> None:
    """-P 2 with a window of 4 on each association: the first association is lost with
    requests in flight. Each of them ends once (failed-outcome-unknown, or not-sent when
    it had not gone out whole); the report has every input once, in input order."""
    many = [files.copy_ct(tmp_path / f"p{i}.dcm") for i in range(24)]
    connections: list[Channel] = []
    in_flight: list[int] = []
    lock = threading.Lock()

    def script(ch: Channel) -> None:
        with lock:
            connections.append(ch)
            first = len(connections) == 1
        accept_window(ch, 4)
        if not first:
            ch.serve()
            return
        stores = []
        try:
            while len(stores) < 4 and (store := ch.read_store(timeout=3)) is not None:
                stores.append(store)
        except TimeoutError:
            pass
        in_flight.append(len(stores))
        if how == "abort":
            ch.send(P.AAbort(2, 0).encode())
            ch.session.ending = "peer-aborted"
        ch.close()

    options = ("-P", "2") if halt else ("-P", "2", "--no-halt")
    result, peer = run(hostile, script, report, many, *options)
    got = outcomes(result, many)
    assert [str(row["path"]) for row in result.rows()] == [str(p) for p in many]  # in order
    (read,) = in_flight
    lost = [o for o in got if o != "sent"]
    assert got.count("failed-outcome-unknown") >= read >= 1, result.describe()
    if halt:
        assert set(lost) <= {"failed-outcome-unknown", "not-sent"}
    else:
        # Only the first association's window was lost; the rest went on the others.
        assert set(lost) <= {"failed-outcome-unknown", "not-sent"}
        assert len(lost) <= 4, result.describe()
    assert result.returncode != EXIT_SUCCESS
    assert peer.sessions[0].errors == []


@pytest.mark.parametrize("resend_unknown", [True, False])
def test_retry_after_an_association_lost_with_several_in_flight(
    hostile: Hostile, report: Path, inputs: list[Path], resend_unknown: bool
) -> None:
    """--retry with a window: the peer aborts with four requests in flight. With
    --resend-unknown each is sent again on a new association and recorded once (sent,
    2 attempts); without, they stay failed-outcome-unknown (PS3.7 D.3.3.3: unknown
    outcome) and the rest go on the new association (--no-halt)."""
    connections = []
    lock = threading.Lock()

    def script(ch: Channel) -> None:
        with lock:
            connections.append(ch)
            first = len(connections) == 1
        accept_window(ch, 4)
        if not first:
            ch.serve()
            return
        read_stores(ch, 4)
        ch.send(P.AAbort(2, 0).encode())
        ch.session.ending = "peer-aborted"
        ch.close()

    options = ["--retry", "1", "--retry-delay", "0.05", "--no-halt"]
    if resend_unknown:
        options.append("--resend-unknown")
    result, peer = run(hostile, script, report, inputs, *options)
    got = outcomes(result, inputs)
    attempts = {str(row["path"]): row.get("attempts") for row in result.rows()}
    if resend_unknown:
        assert got == ["sent"] * 8, result.describe()
        assert [attempts[str(p)] for p in inputs[:4]] == [2] * 4
        assert result.returncode == EXIT_SUCCESS
    else:
        assert got[:4] == ["failed-outcome-unknown"] * 4, result.describe()
        assert got[4:] == ["sent"] * 4
        assert result.returncode != EXIT_SUCCESS
    assert len(peer.sessions) == 2
