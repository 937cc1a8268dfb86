"""RELIABILITY.md rows 14-23: refused, slow, silent, rejecting and aborting peers.

DCMTK storescp's own fault flags (--refuse, --abort-after, --abort-during,
--sleep-after, --sleep-during) play the rows they cover; the scripted hostile
peer plays the rest and records how the sender ended each association.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.faults import files
from tests.faults.invariants import (
    EXIT_FAILURE,
    EXIT_INCOMPLETE,
    EXIT_NETWORK,
    EXIT_SUCCESS,
    TIMEOUTS,
    check,
    run_cli,
    storescp_endings,
)
from tests.helpers.hostile import HostilePeer, full_backlog, scenarios
from tests.helpers.net import LOOPBACK, free_port
from tests.helpers.peers import StorescpPeer

Hostile = Callable[..., HostilePeer]
Storescp = Callable[..., StorescpPeer]


def not_sent(*paths: Path) -> dict[str, str]:
    return {str(p): "not-sent" for p in paths}


# --- row 14: connection refused -------------------------------------------------------


@pytest.mark.parametrize("retries", [0, 2])
def test_row14_connection_refused(report: Path, ct: Path, mr: Path, retries: int) -> None:
    port = free_port()
    retry = ["--retry", str(retries), "--retry-delay", "0.1"] if retries else []
    run = run_cli([*TIMEOUTS, *retry, LOOPBACK, str(port), ct, mr], report=report)
    check(
        run,
        exit_code=EXIT_FAILURE,
        outcomes=not_sent(ct, mr),
        causes=["connection refused"],
        names=[f"{LOOPBACK}:{port}"],
        budget=0.1 + 0.2,
    )
    assert run.stderr.count("Retrying the association") == retries, run.describe()


# --- row 15: connect timeout ----------------------------------------------------------


def test_row15_connect_timeout(report: Path, ct: Path, mr: Path) -> None:
    with full_backlog() as (host, port):
        run = run_cli(["-to", "1", "-ta", "5", host, str(port), ct, mr], report=report)
    check(
        run,
        exit_code=EXIT_FAILURE,
        outcomes=not_sent(ct, mr),
        causes=["connect timeout after 1 s"],
        names=[f"{host}:{port}"],
        budget=1.0,
    )
    assert run.seconds >= 0.9, run.describe()


# --- row 16: A-ASSOCIATE-RJ -----------------------------------------------------------

REJECTIONS = [
    # (result, source, reason), lines expected, transient?
    (
        (1, 1, 7),
        ["Rejected Permanent (1)", "Service User (1)", "Called AE Title Not Recognized (7)"],
    ),
    ((2, 3, 1), ["Rejected Transient (2)", "Presentation related function) (3)", "Congestion (1)"]),
    ((7, 9, 200), ["Unknown Result (7)", "Unknown Source (9)", "Unknown Reason (200)"]),
]


@pytest.mark.parametrize("retry", [False, True], ids=["once", "retry"])
@pytest.mark.parametrize(
    ("values", "lines"), REJECTIONS, ids=["permanent", "transient", "out-of-range"]
)
def test_row16_association_rejected(
    hostile: Hostile,
    report: Path,
    ct: Path,
    mr: Path,
    values: tuple[int, int, int],
    lines: list[str],
    retry: bool,
) -> None:
    """Result, source and reason as text and numbers; only transient is retried, if asked."""
    peer = hostile(scenarios.reject(*values))
    options = ["--retry", "2", "--retry-delay", "0.05"] if retry else []
    run = run_cli([*TIMEOUTS, *options, peer.host, str(peer.port), ct, mr], report=report)
    peer.wait_idle()
    tries = 3 if retry and values[0] == 2 else 1
    check(
        run,
        exit_code=EXIT_FAILURE,
        outcomes=not_sent(ct, mr),
        causes=["Association Rejected", *lines],
        names=["Association Rejected"],
        budget=0.15,
        sessions=peer.sessions,
        endings=["rejected"] * tries,
    )


@pytest.mark.interop
def test_row16_storescp_refuse(dcmtk_storescp: Storescp, report: Path, ct: Path) -> None:
    peer = dcmtk_storescp("--refuse")
    run = run_cli([*TIMEOUTS, "--retry", "2", peer.host, str(peer.port), ct], report=report)
    check(
        run,
        exit_code=EXIT_FAILURE,
        outcomes=not_sent(ct),
        causes=["Rejected Permanent (1)", "No Reason (1)"],
        names=["Association Rejected"],
    )
    assert "Retrying" not in run.stderr


# --- rows 17/18: the peer aborts while a store is outstanding -------------------------


@pytest.mark.interop
@pytest.mark.parametrize("halt", [True, False], ids=["halt", "no-halt"])
@pytest.mark.parametrize("flag", ["--abort-after", "--abort-during"], ids=["row17", "row18"])
def test_row17_18_storescp_aborts(
    dcmtk_storescp: Storescp, report: Path, ct: Path, mr: Path, flag: str, halt: bool
) -> None:
    """That file failed-outcome-unknown; halt: the rest not-sent; --no-halt: a new
    association for each of the rest (storescp aborts every one)."""
    peer = dcmtk_storescp(flag)
    options = [] if halt else ["--no-halt"]
    run = run_cli([*TIMEOUTS, *options, peer.host, str(peer.port), ct, mr], report=report)
    second = "not-sent" if halt else "failed-outcome-unknown"
    check(
        run,
        exit_code=EXIT_NETWORK if halt else EXIT_INCOMPLETE,
        outcomes={str(ct): "failed-outcome-unknown", str(mr): second},
        causes=["aborted Association", "A-ABORT from DICOM UL service-user (source 0)"],
        names=[str(ct)],
    )
    rows = run.rows()
    assert rows[0]["association"] == 1
    if not halt:
        assert rows[1]["association"] == 2
    assert storescp_endings(peer, 1 if halt else 2) == ["peer-aborted"] * (1 if halt else 2)
    assert peer.received_files() == []


# --- row 19: A-ABORT source 2 reason 6 ------------------------------------------------


def test_row19_abort_source_2_reason_6(hostile: Hostile, report: Path, ct: Path, mr: Path) -> None:
    peer = hostile(scenarios.after_store(scenarios.do_abort(2, 6)))
    run = run_cli([*TIMEOUTS, peer.host, str(peer.port), ct, mr], report=report)
    peer.wait_idle()
    check(
        run,
        exit_code=EXIT_NETWORK,
        outcomes={str(ct): "failed-outcome-unknown", str(mr): "not-sent"},
        causes=[
            "DICOM UL service-provider (source 2)",
            "invalid-PDU-parameter-value (reason 6)",
        ],
        names=[str(ct), f"{peer.host}:{peer.port}"],
        sessions=peer.sessions,
        endings=["peer-aborted"],
    )


# --- row 20: no A-ASSOCIATE-AC ------------------------------------------------------------


def test_row20_peer_never_answers_the_request(
    hostile: Hostile, report: Path, ct: Path, mr: Path
) -> None:
    """ACSE timeout; everything not-sent; the sender gives up with an A-ABORT (AA-1)."""
    peer = hostile(scenarios.silent_after_rq())
    run = run_cli(["-ta", "1", "-ts", "5", peer.host, str(peer.port), ct, mr], report=report)
    peer.wait_idle()
    check(
        run,
        exit_code=EXIT_FAILURE,
        outcomes=not_sent(ct, mr),
        causes=["ACSE timeout", "within 1 s"],
        names=[f"{peer.host}:{peer.port}"],
        budget=1.0,
        sessions=peer.sessions,
        endings=["abort"],
        abort=(0, 0),
    )


# --- row 21: no C-STORE-RSP -----------------------------------------------------------


@pytest.mark.interop
def test_row21_storescp_sleeps_beyond_dimse_timeout(
    dcmtk_storescp: Storescp, report: Path, ct: Path, mr: Path
) -> None:
    peer = dcmtk_storescp("--sleep-during", "5")
    run = run_cli(["-td", "1", "-ta", "5", peer.host, str(peer.port), ct, mr], report=report)
    check(
        run,
        exit_code=EXIT_NETWORK,
        outcomes={str(ct): "failed-outcome-unknown", str(mr): "not-sent"},
        causes=["DIMSE timeout", "within 1 s"],
        names=[str(ct)],
        budget=1.0,
    )


def test_row21_silent_peer_gets_an_abort(
    hostile: Hostile, report: Path, ct: Path, mr: Path
) -> None:
    """The same with the scripted peer, which records the A-ABORT."""
    peer = hostile(scenarios.after_store(scenarios.do_silence))
    run = run_cli(
        ["-td", "1", "-ta", "5", "--no-halt", peer.host, str(peer.port), ct, mr], report=report
    )
    peer.wait_idle()
    check(
        run,
        exit_code=EXIT_INCOMPLETE,
        outcomes={str(ct): "failed-outcome-unknown", str(mr): "failed-outcome-unknown"},
        causes=["DIMSE timeout", "within 1 s"],
        names=[str(ct)],
        budget=2.0,
        sessions=peer.sessions,
        endings=["abort", "abort"],
        abort=(0, 0),
    )


# --- row 22: slow but alive -----------------------------------------------------------


@pytest.mark.interop
def test_row22_storescp_sleeps_after_each_store(
    dcmtk_storescp: Storescp, report: Path, ct: Path, mr: Path
) -> None:
    """1 s per store, -td 3: slow is not dead."""
    peer = dcmtk_storescp("--sleep-after", "1")
    run = run_cli(["-td", "3", "-ta", "5", peer.host, str(peer.port), ct, mr], report=report)
    check(
        run,
        exit_code=EXIT_SUCCESS,
        outcomes={str(ct): "sent", str(mr): "sent"},
        causes=[],
        budget=2.0,
    )
    assert storescp_endings(peer) == ["release"]


def test_row22_slow_reader_no_false_timeout(hostile: Hostile, report: Path, tmp_path: Path) -> None:
    """A 1.6 MB dataset read at ~0.6 MB/s (about 2.5 s) with -ts 1 -td 1: each wait is
    short, the whole transfer is not bounded by them, so no timeout fires."""
    big = files.sparse_large(tmp_path / "big.dcm", 1_600_000)

    def slow(ch: object) -> None:
        ch.read_delay = 0.05  # type: ignore[attr-defined]
        ch.read_size = 32 * 1024  # type: ignore[attr-defined]
        scenarios.good()(ch)  # type: ignore[arg-type]

    peer = hostile(slow, rcvbuf=32 * 1024)
    run = run_cli(
        ["-ts", "1", "-td", "1", "-ta", "5", peer.host, str(peer.port), big], report=report
    )
    peer.wait_idle()
    check(
        run,
        exit_code=EXIT_SUCCESS,
        outcomes={str(big): "sent"},
        causes=[],
        budget=8.0,
        sessions=peer.sessions,
        endings=["release"],
    )
    assert run.seconds > 1.5, "the peer was not slow enough to test anything"
    assert peer.sessions[0].stores[0].dataset_bytes == big.stat().st_size - files.dataset_offset(
        big
    )


# --- row 23: close mid-PDU ------------------------------------------------------------


def test_row23_peer_closes_mid_pdu(hostile: Hostile, report: Path, ct: Path, mr: Path) -> None:
    peer = hostile(scenarios.after_store(scenarios.do_close_mid_pdu))
    run = run_cli([*TIMEOUTS, peer.host, str(peer.port), ct, mr], report=report)
    peer.wait_idle()
    check(
        run,
        exit_code=EXIT_NETWORK,
        outcomes={str(ct): "failed-outcome-unknown", str(mr): "not-sent"},
        causes=["A-P-ABORT", "truncated P-DATA-TF"],
        names=[str(ct)],
        sessions=peer.sessions,
        endings=["peer-closed"],
    )


# --- row 43: a peer that reads nothing: the summary counts what went out --------------


def test_row43_summary_counts_bytes_written_not_bytes_read(
    hostile: Hostile, report: Path, tmp_path: Path
) -> None:
    """Issue 14.4: a 20 MB dataset to a peer that never reads ends not-sent after -ts;
    the report's ``bytes`` and the summary count the dataset bytes the socket took
    (at most its buffers), not the file's 20 MB."""
    import time

    from storescu.run.summary import format_size

    big = files.sparse_large(tmp_path / "big.dcm", 20_000_000)

    def deaf(ch: object) -> None:
        ch.accept()  # type: ignore[attr-defined]
        time.sleep(4)  # read nothing more; the sender's -ts 1 fires first

    peer = hostile(deaf, rcvbuf=64 * 1024)
    run = run_cli(["-ts", "1", "-ta", "5", peer.host, str(peer.port), big], report=report)
    peer.wait_idle()
    check(
        run,
        exit_code=EXIT_NETWORK,
        outcomes={str(big): "not-sent"},
        causes=["timeout"],
        names=[str(big)],
        budget=1.0,
    )
    (row,) = run.rows()
    written = row["bytes"]
    assert isinstance(written, int) and 0 < written < 10_000_000, row
    summary = next(line for line in run.stderr.splitlines() if line.startswith("storescu: 1 file"))
    assert f"| {format_size(written)} in " in summary, summary
