"""The Asynchronous Operations Window (PS3.7 D.3.3.3) with ``-P`` and with ``--retry``,
against the project's SCP in process (it grants a window of up to 16).

With ``-P N`` each of the N associations keeps up to a window of requests under way; the
results still come once per input, in input order, and halting and Ctrl-C account for
every request in flight exactly once. With ``--retry`` a request whose outcome is
retryable (A7xx) is sent again and only its last attempt is recorded.
"""

from __future__ import annotations

import _thread
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import pydicom
import pytest

import storescu
from storescu.net.client import AssociationSettings, StoreAssociation
from storescu.run.inputs import open_inputs
from storescu.run.options import SendOptions
from storescu.run.parallel import ParallelSender
from storescu.run.results import Outcome, RunResult
from storescu.scp import StoreSCP
from tests.helpers.tree import write_instance
from tests.integration.test_parallel import RT_PLAN_STORAGE, RTPLAN, _RefusingSCP

WINDOW = AssociationSettings(max_ops_invoked=16)


def _files(tmp_path: Path, count: int) -> list[str]:
    return [str(write_instance(tmp_path / "in" / f"{n:03d}.dcm", n)) for n in range(count)]


@pytest.fixture
def most_outstanding(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """The largest number of requests under way on one association, as seen by start_store."""
    seen = [0]
    start = StoreAssociation.start_store

    def counting(self: StoreAssociation, *args: Any, **kwargs: Any) -> None:
        seen[0] = max(seen[0], len(self.outstanding) + 1)
        start(self, *args, **kwargs)

    monkeypatch.setattr(StoreAssociation, "start_store", counting)
    yield seen


def _each_once_in_order(result: RunResult, paths: list[str]) -> list[Outcome]:
    assert [r.path for r in result.results] == paths  # every input once, in input order
    return [r.outcome for r in result.results]


def _each_once(result: RunResult, paths: list[str], parallel: int) -> list[Outcome]:
    """Each input's outcome, in input order. One association records results as their
    responses come (any order, PS3.7 D.3.3.3); -P delivers them in input order."""
    if parallel > 1:
        return _each_once_in_order(result, paths)
    assert sorted(r.path for r in result.results) == sorted(paths)
    by_path = {r.path: r.outcome for r in result.results}
    return [by_path[p] for p in paths]


@pytest.mark.parametrize("parallel", [2, 4])
def test_every_file_arrives_identical_over_n_associations_x_window(
    tmp_path: Path, parallel: int, most_outstanding: list[int]
) -> None:
    paths = _files(tmp_path, 120)
    with StoreSCP(output_dir=str(tmp_path / "out")) as scp:
        result = storescu.send_files(
            "127.0.0.1", scp.port, paths, settings=WINDOW, options=SendOptions(parallel=parallel)
        )
    assert _each_once_in_order(result, paths) == [Outcome.SENT] * len(paths)
    assert result.associations == parallel
    assert 1 < most_outstanding[0] <= 16  # a window was used, never more than granted
    # Message IDs are per association: each association numbers its own from 1.
    for association in range(1, parallel + 1):
        ids = sorted(r.message_id or 0 for r in result.results if r.association == association)
        assert ids == list(range(1, len(ids) + 1))
    assert len(scp.received) == len(paths)
    sent = {pydicom.dcmread(p).SOPInstanceUID: p for p in paths}
    assert sorted(sent) == sorted(got.sop_instance_uid for got in scp.received)
    for got in scp.received:
        assert got.path is not None
        a, b = pydicom.dcmread(sent[got.sop_instance_uid]), pydicom.dcmread(got.path)
        assert [(e.tag, e.value) for e in a] == [(e.tag, e.value) for e in b]


def test_repeat_over_n_associations_x_window(tmp_path: Path) -> None:
    paths = _files(tmp_path, 10)
    with StoreSCP() as scp:
        result = storescu.send_files(
            "127.0.0.1",
            scp.port,
            paths,
            settings=WINDOW,
            options=SendOptions(parallel=3, repeat=3),
        )
    assert [r.path for r in result.results] == [p for p in paths for _ in range(3)]
    assert {r.outcome for r in result.results} == {Outcome.SENT}
    assert len(scp.received) == 30


def test_failure_status_halts_n_associations_x_window(tmp_path: Path) -> None:
    good = _files(tmp_path, 200)
    paths = [*good[:10], RTPLAN, *good[10:]]
    with _RefusingSCP(frozenset({RT_PLAN_STORAGE})) as server:
        result = storescu.send_files(
            "127.0.0.1", server.port, paths, settings=WINDOW, options=SendOptions(parallel=3)
        )
    outcomes = _each_once_in_order(result, paths)
    assert outcomes[:10] == [Outcome.SENT] * 10
    assert outcomes[10] is Outcome.FAILED_STATUS
    after = outcomes[11:]
    # The requests under way when the failure came finish and are what they are;
    # nothing is handed out after it.
    assert set(after) <= {Outcome.SENT, Outcome.NOT_SENT}
    assert Outcome.NOT_SENT in after
    # At most what the three windows held, each worker's input and the jobs waiting.
    assert after.count(Outcome.SENT) <= 3 * (16 + 1) + 3
    assert all(
        r.error == "not sent: the run halted after an unsuccessful store"
        for r in result.results[11:]
        if r.outcome is Outcome.NOT_SENT
    )
    assert result.halted and result.halted_on_status == 0xA700
    assert len([r for r in server.received if r.status == 0]) == outcomes.count(Outcome.SENT)


def test_failure_status_without_halt_n_associations_x_window(tmp_path: Path) -> None:
    good = _files(tmp_path, 40)
    paths = [RTPLAN if n % 5 == 0 else p for n, p in enumerate(good)]
    with _RefusingSCP(frozenset({RT_PLAN_STORAGE})) as server:
        result = storescu.send_files(
            "127.0.0.1",
            server.port,
            paths,
            settings=WINDOW,
            options=SendOptions(parallel=4, halt=False),
        )
    assert _each_once_in_order(result, paths) == [
        Outcome.FAILED_STATUS if p == RTPLAN else Outcome.SENT for p in paths
    ]
    assert not result.halted


def test_interrupt_accounts_for_every_request_in_flight(tmp_path: Path) -> None:
    src = write_instance(tmp_path / "a.dcm", 1)
    paths = [str(src)] * 20_000
    with StoreSCP() as scp:
        sender = ParallelSender("127.0.0.1", scp.port, WINDOW, SendOptions(parallel=4))
        timer = threading.Timer(0.5, _thread.interrupt_main)
        timer.start()
        try:
            with pytest.raises(KeyboardInterrupt):
                sender.run(open_inputs(paths))
        finally:
            timer.cancel()
        result = sender.run_result
        outcomes = _each_once_in_order(result, paths)
        assert result.interrupted and not result.all_stored
        assert set(outcomes) <= {Outcome.SENT, Outcome.NOT_SENT, Outcome.FAILED_OUTCOME_UNKNOWN}
        stored = outcomes.count(Outcome.SENT)
        unknown = outcomes.count(Outcome.FAILED_OUTCOME_UNKNOWN)
        assert stored > 0 and unknown <= 4 * 16  # at most a window per association
        assert not any(w.thread.is_alive() for w in sender._workers)
    assert stored <= len(scp.received) <= stored + unknown


class _FlakySCP(StoreSCP):
    """Answers A700 (out of resources, PS3.4 B.2.3) to the first attempt of each instance."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.seen: set[str] = set()
        self.attempts = 0

    def _store(
        self, sop_class: str, instance: str, syntax: str, calling: str
    ) -> tuple[BinaryIO | None, str | None]:
        with self._lock:
            self.attempts += 1
            first = instance not in self.seen
            self.seen.add(instance)
        if first:
            raise OSError("busy: try again")  # the SCP answers A700
        return super()._store(sop_class, instance, syntax, calling)


@pytest.mark.parametrize("parallel", [1, 3])
def test_retry_resends_a_transient_failure_through_the_window(
    tmp_path: Path, parallel: int, most_outstanding: list[int]
) -> None:
    paths = _files(tmp_path, 30)
    options = SendOptions(parallel=parallel, retries=2, retry_delay=0.05)
    with _FlakySCP(output_dir=str(tmp_path / "out")) as scp:
        result = storescu.send_files("127.0.0.1", scp.port, paths, settings=WINDOW, options=options)
    assert _each_once(result, paths, parallel) == [Outcome.SENT] * 30
    assert [r.attempts for r in result.results] == [2] * 30
    assert scp.attempts == 60
    assert len(scp.received) == 60  # each instance refused once, then stored
    scp.received = [got for got in scp.received if got.status == 0]
    assert len(scp.received) == 30
    assert 1 < most_outstanding[0] <= 16
    sent = {pydicom.dcmread(p).SOPInstanceUID: p for p in paths}
    for got in scp.received:
        assert got.path is not None
        a, b = pydicom.dcmread(sent[got.sop_instance_uid]), pydicom.dcmread(got.path)
        assert [(e.tag, e.value) for e in a] == [(e.tag, e.value) for e in b]


@pytest.mark.parametrize("parallel", [1, 2])
def test_retries_exhausted_in_the_window_record_the_last_attempt(
    tmp_path: Path, parallel: int
) -> None:
    good = _files(tmp_path, 12)
    paths = [*good[:6], RTPLAN, *good[6:]]
    options = SendOptions(parallel=parallel, retries=2, retry_delay=0.02, halt=False)
    with _RefusingSCP(frozenset({RT_PLAN_STORAGE})) as server:
        result = storescu.send_files(
            "127.0.0.1", server.port, paths, settings=WINDOW, options=options
        )
    outcomes = _each_once(result, paths, parallel)
    assert outcomes == [Outcome.FAILED_STATUS if p == RTPLAN else Outcome.SENT for p in paths]
    (failed,) = (r for r in result.results if r.path == RTPLAN)
    assert failed.attempts == 3 and failed.status == 0xA700
    assert {r.attempts for r in result.results if r.path != RTPLAN} == {1}
