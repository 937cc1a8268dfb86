"""CommitmentTracker: what a report may and may not change (PS3.4 J.3.3, RELIABILITY)."""

from __future__ import annotations

import logging
import time

import pytest

from storescu.net.commitment import (
    COMMITTED,
    FAILED,
    Commitment,
    CommitmentTracker,
    answer_report,
)
from storescu.protocol import commitment as sc
from storescu.protocol import dimse

CT = "1.2.840.10008.5.1.4.1.1.2"
A, B, C = (CT, "1.2.3.1"), (CT, "1.2.3.2"), (CT, "1.2.3.3")


def _tracker() -> CommitmentTracker:
    tracker = CommitmentTracker("STORESCU")
    tracker.add(sc.CommitmentRequest("2.25.1", (A, B)))
    return tracker


def test_committed_and_failed() -> None:
    tracker = _tracker()
    status = tracker.on_report(sc.CommitmentReport("2.25.1", (A,), ((*B, 0x0112),)), "peer")
    assert status == 0
    assert tracker.results == {A: Commitment(COMMITTED), B: Commitment(FAILED, 0x0112)}
    assert tracker.results[B].text == "failed 0x0112 no such object instance"
    assert tracker.outstanding == 0
    assert tracker.wait(time.monotonic())


def test_unknown_transaction_changes_nothing(caplog: pytest.LogCaptureFixture) -> None:
    tracker = _tracker()
    with caplog.at_level(logging.WARNING, "storescu"):
        assert tracker.on_report(sc.CommitmentReport("2.25.9", (A, B), ()), "peer") == 0x0110
    assert tracker.results == {}
    assert tracker.outstanding == 1
    assert "unknown Transaction UID 2.25.9" in caplog.text


def test_second_report_is_ignored(caplog: pytest.LogCaptureFixture) -> None:
    tracker = _tracker()
    tracker.on_report(sc.CommitmentReport("2.25.1", (), ((*A, 0x0110), (*B, 0x0110))), "peer")
    with caplog.at_level(logging.WARNING, "storescu"):
        assert tracker.on_report(sc.CommitmentReport("2.25.1", (A, B), ()), "peer") == 0
    assert tracker.results[A].state == FAILED  # the first answer stands
    assert "second report" in caplog.text


def test_strangers_and_missing(caplog: pytest.LogCaptureFixture) -> None:
    tracker = _tracker()
    with caplog.at_level(logging.WARNING, "storescu"):
        tracker.on_report(sc.CommitmentReport("2.25.1", (A, C), ()), "peer")
    assert C not in tracker.results  # never asked about
    assert B not in tracker.results  # left unanswered: stays unconfirmed
    assert "1 instance(s) that were not requested" in caplog.text
    assert "leaves 1 instance(s) unanswered" in caplog.text


def test_listed_as_both_is_failed() -> None:
    tracker = _tracker()
    tracker.on_report(sc.CommitmentReport("2.25.1", (A, B), ((*A, 0x0213),)), "peer")
    assert tracker.results[A] == Commitment(FAILED, 0x0213)
    assert tracker.results[B] == Commitment(COMMITTED)


def test_wrong_class_is_not_committed() -> None:
    tracker = _tracker()
    tracker.on_report(sc.CommitmentReport("2.25.1", (("1.2.3", A[1]),), ()), "peer")
    assert A not in tracker.results


def test_malformed_report_is_answered_and_ignored(caplog: pytest.LogCaptureFixture) -> None:
    tracker = _tracker()
    command = dimse.decode_command(sc.encode_n_event_report_rq(5, 1))
    with caplog.at_level(logging.ERROR, "storescu"):
        rsp = answer_report(command, b"\x08\x00\x99\x11\xff\x00\x00\x00", False, tracker, "peer")
    decoded = dimse.decode_command(rsp)
    assert decoded.get_int(dimse.STATUS) == 0x0110
    assert decoded.get_int(dimse.MESSAGE_ID_BEING_RESPONDED_TO) == 5
    assert tracker.results == {} and tracker.outstanding == 1
    assert "malformed report" in caplog.text


def test_report_without_dataset_or_bad_event_type() -> None:
    tracker = _tracker()
    command = dimse.decode_command(sc.encode_n_event_report_rq(5, 7))
    data = sc.encode_report(sc.CommitmentReport("2.25.1", (A, B), ()))
    rsp = dimse.decode_command(answer_report(command, data, False, tracker, "peer"))
    assert rsp.get_int(dimse.STATUS) == 0x0113  # no such event type
    assert tracker.results == {}


def test_wait_is_bounded() -> None:
    tracker = _tracker()
    start = time.monotonic()
    assert not tracker.wait(start + 0.2)
    assert time.monotonic() - start < 2
