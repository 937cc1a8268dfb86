"""Interrupts: SIGINT (Ctrl-C) and SIGTERM in the middle of a send.

Both abort the association (the peer records an A-ABORT -- or, when the signal
cut a write inside a PDU, just the close: never a half-written PDU followed by
garbage), write every input to the report -- the store in
flight as failed-outcome-unknown, the rest not-sent -- and exit with the
documented code: 130 for SIGINT, 143 for SIGTERM (the shell's 128 + signal).
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.faults import files
from tests.faults.invariants import EXIT_SIGINT, EXIT_SIGTERM, check, run_cli
from tests.helpers.hostile import Channel, HostilePeer, scenarios

Hostile = Callable[..., HostilePeer]
SIGNALS = [(signal.SIGINT, EXIT_SIGINT), (signal.SIGTERM, EXIT_SIGTERM)]


def slow_reader(ch: Channel) -> None:
    """Accept, then read the first store so slowly that the sender is still writing
    when the signal comes (a second after its command arrived); then drain fast."""
    ch.accept()
    ch.read_delay = 0.05
    ch.read_size = 16 * 1024

    def speed_up() -> None:
        ch.store_seen.wait(10)
        time.sleep(1.0)
        ch.read_delay = 0.0
        ch.read_size = 256 * 1024

    threading.Thread(target=speed_up, daemon=True).start()
    ch.read_store()
    ch.wait_end(timeout=20)


@pytest.mark.parametrize(("signum", "code"), SIGNALS, ids=["SIGINT", "SIGTERM"])
@pytest.mark.parametrize("when", ["awaiting-response", "sending-dataset"])
def test_signal_mid_send(
    hostile: Hostile,
    report: Path,
    tmp_path: Path,
    mr: Path,
    signum: int,
    code: int,
    when: str,
) -> None:
    if when == "awaiting-response":
        first = files.copy_ct(tmp_path / "first.dcm")
        peer = hostile(scenarios.after_store(scenarios.do_silence))
    else:
        first = files.sparse_large(tmp_path / "first.dcm", 40_000_000)
        peer = hostile(slow_reader, rcvbuf=16 * 1024)
    last = files.copy_ct(tmp_path / "last.dcm")
    run = run_cli(
        ["-td", "30", "-ts", "30", "-ta", "5", peer.host, str(peer.port), first, mr, last],
        report=report,
        signal_when=(peer.store_seen.is_set, signum),
    )
    peer.wait_idle()
    mid_pdu = when == "sending-dataset"
    check(
        run,
        exit_code=code,
        outcomes={str(first): "failed-outcome-unknown", str(mr): "not-sent", str(last): "not-sent"},
        causes=["interrupted" if signum == signal.SIGINT else "terminated (SIGTERM)"],
        budget=0.0,  # not the 30 s timeouts
        sessions=None if mid_pdu else peer.sessions,
        endings=None if mid_pdu else ["abort"],
        abort=(0, 0),
    )
    session = peer.sessions[0]
    if mid_pdu and session.ending != "abort":
        # The write was cut inside a PDU: an A-ABORT would be read as PDU data, so
        # the sender only closes (tests/faults/test_torn_write.py); the peer sees
        # the connection end with part of a PDU pending, never garbage.
        assert session.ending == "closed", session
        assert all("PDU pending" in e for e in session.errors), session.errors
    else:
        assert session.ending == "abort" and session.abort == (0, 0), session
        assert not session.errors, session.errors
    assert "storescu: interrupted:" in run.stderr, run.describe()
    if when == "sending-dataset":
        store = peer.sessions[0].stores[0]
        assert not store.complete and store.dataset_bytes < 40_000_000
