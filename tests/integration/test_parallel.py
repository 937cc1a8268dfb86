"""Parallel associations (``-P``, SendOptions.parallel) against the project's SCP, in process.

The guarantee under test: a run over N associations gives the same results as
one association -- the same rows, in the same (sending) order, with the same
outcomes, statuses, errors and invented-identity counters -- except for the
association and message numbers; halting stops handing out inputs and lets the
stores under way finish; Ctrl-C accounts for every input exactly once.
tests/interop/test_parallel_interop.py does the same against DCMTK storescp
(``--fork``), Orthanc and our SCP as a process.
"""

from __future__ import annotations

import _thread
import io
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import pydicom
import pytest
from pydicom.data import get_testdata_file

import storescu
from storescu.cli.main import main
from storescu.dataset.rewrite import RewriteOptions
from storescu.net.client import AssociationSettings
from storescu.run.factory import make_sender
from storescu.run.inputs import open_inputs
from storescu.run.options import SendOptions
from storescu.run.parallel import ParallelSender
from storescu.run.results import FileResult, Outcome
from storescu.run.sender import Sender
from storescu.scp import StoreSCP
from tests.helpers.tree import write_instance

CT = str(get_testdata_file("CT_small.dcm"))
MR_BE = str(get_testdata_file("MR_small_bigendian.dcm"))
RTPLAN = str(get_testdata_file("rtplan.dcm"))
JPEG2000 = str(get_testdata_file("JPEG2000.dcm"))
RT_PLAN_STORAGE = "1.2.840.10008.5.1.4.1.1.481.5"

#: Report columns that legitimately differ between runs over 1 and N associations.
_VARYING = {"association", "message_id", "seconds", "time", "sop_instance_uid"}


class _RefusingSCP(StoreSCP):
    """Answers A700 (out of resources) to every instance of ``refuse`` SOP classes."""

    def __init__(self, refuse: frozenset[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.refuse = refuse

    def _store(
        self, sop_class: str, instance: str, syntax: str, calling: str
    ) -> tuple[BinaryIO | None, str | None]:
        if sop_class in self.refuse:
            raise OSError("refused by the test")  # the SCP answers A700
        return super()._store(sop_class, instance, syntax, calling)


@pytest.fixture
def scp(tmp_path: Path) -> Iterator[StoreSCP]:
    with StoreSCP(output_dir=str(tmp_path / "in")) as server:
        yield server


def _cli(*argv: str) -> tuple[int, str]:
    err = io.StringIO()
    code = main(list(argv), stdout=io.StringIO(), stderr=err)
    return code, err.getvalue()


def _mixed_inputs(tmp_path: Path) -> list[str]:
    """Valid files, an invalid one, a missing one, an RT plan (refused), a compressed
    file that cannot go (``-fs``: its syntax is not proposed), repeated in a pattern."""
    junk = tmp_path / "junk.dcm"
    junk.write_bytes(b"not dicom at all" * 10)
    pattern = [CT, MR_BE, str(junk), RTPLAN, CT, JPEG2000, str(tmp_path / "missing.dcm"), MR_BE]
    return pattern * 4


def _rows(report: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in report.read_text().splitlines()]


def _identities(rows: list[dict[str, Any]], received: list[Path]) -> list[tuple[Any, ...]]:
    """Per stored row, in row order: invented counters as seen by the receiver, with
    study/series UIDs replaced by the order of their first appearance (they are random)."""
    by_instance = {}
    for path in received:
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        by_instance[ds.SOPInstanceUID] = ds
    studies: dict[str, int] = {}
    series: dict[str, int] = {}
    out = []
    for row in rows:
        ds = by_instance.get(row["sop_instance_uid"])
        if ds is None:
            continue
        out.append(
            (
                row["path"],
                studies.setdefault(ds.StudyInstanceUID, len(studies)),
                series.setdefault(ds.SeriesInstanceUID, len(series)),
                ds.SeriesNumber,
                ds.InstanceNumber,
                ds.PatientID[-1],
                ds.StudyID[-1],
            )
        )
    return out


def _mixed_run(tmp_path: Path, parallel: int) -> tuple[int, list[dict[str, Any]], list[Any]]:
    inputs = _mixed_inputs(tmp_path)
    out = tmp_path / f"in-{parallel}"
    report = tmp_path / f"report-{parallel}.jsonl"
    with _RefusingSCP(frozenset({RT_PLAN_STORAGE}), output_dir=str(out)) as server:
        code, _ = _cli(
            "--no-halt", "-fs", "--repeat", "2", "+IR", "3", "+IS", "2",
            "-P", str(parallel), "--report", str(report),
            "127.0.0.1", str(server.port), *inputs,
        )  # fmt: skip
    received = sorted(p for p in out.glob("*.dcm"))
    rows = _rows(report)
    return code, rows, _identities(rows, received)


def test_mixed_run_gives_the_same_results_over_1_and_4_associations(tmp_path: Path) -> None:
    code1, rows1, ids1 = _mixed_run(tmp_path, 1)
    code4, rows4, ids4 = _mixed_run(tmp_path, 4)
    assert code1 == code4 == 3  # --no-halt and some files not stored
    # Every row, in the same order, equal but for the association and message numbers,
    # timings and the (random) invented instance UIDs.
    strip = [{k: v for k, v in r.items() if k not in _VARYING} for r in rows1]
    assert [{k: v for k, v in r.items() if k not in _VARYING} for r in rows4] == strip
    outcomes = {r["outcome"] for r in rows1}
    assert outcomes == {"sent", "failed-status", "not-sent", "skipped-invalid-file"}
    assert len(rows1) == 4 * (2 * 6 + 2)  # 6 valid files x --repeat 2, 2 invalid once
    # The invented counters (+IR 3, +IS 2) follow the input order in both runs.
    assert ids1 and ids4 == ids1
    assert {r["association"] for r in rows4 if r["association"]} >= {1, 2}


def test_results_come_in_sending_order_through_on_result(scp: StoreSCP, tmp_path: Path) -> None:
    paths = [str(write_instance(tmp_path / f"{n}.dcm", n)) for n in range(40)]
    seen: list[FileResult] = []
    seen_threads: set[int] = set()

    def on_result(result: FileResult) -> None:
        seen.append(result)
        seen_threads.add(threading.get_ident())

    result = storescu.send_files(
        "127.0.0.1", scp.port, paths, options=SendOptions(parallel=4), on_result=on_result
    )
    assert [r.path for r in result.results] == paths
    assert seen == result.results
    assert seen_threads == {threading.get_ident()}  # never from a worker thread
    assert result.all_stored and result.count(Outcome.SENT) == 40
    assert len({r.association for r in result.results}) > 1
    assert len(scp.received) == 40


def test_make_sender_picks_the_parallel_sender() -> None:
    settings = AssociationSettings()
    assert type(make_sender("h", 1, settings, SendOptions())) is Sender
    assert isinstance(make_sender("h", 1, settings, SendOptions(parallel=3)), ParallelSender)


def test_halt_on_an_invalid_file_is_exact(tmp_path: Path, scp: StoreSCP) -> None:
    good = [str(write_instance(tmp_path / f"{n}.dcm", n)) for n in range(8)]
    junk = tmp_path / "junk.dcm"
    junk.write_bytes(b"junk")
    paths = [*good[:5], str(junk), *good[5:]]
    one = storescu.send_files("127.0.0.1", scp.port, paths)
    many = storescu.send_files("127.0.0.1", scp.port, paths, options=SendOptions(parallel=3))
    expected = [Outcome.SENT] * 5 + [Outcome.SKIPPED_INVALID] + [Outcome.NOT_SENT] * 3
    assert [r.outcome for r in one.results] == expected
    assert [r.outcome for r in many.results] == expected
    assert many.halted and one.halted


def test_halt_on_a_failure_status_stops_handing_out(tmp_path: Path) -> None:
    good = [str(write_instance(tmp_path / f"{n}.dcm", n)) for n in range(30)]
    paths = [*good[:6], RTPLAN, *good[6:]]
    parallel = 3
    with _RefusingSCP(frozenset({RT_PLAN_STORAGE})) as server:
        result = storescu.send_files(
            "127.0.0.1", server.port, paths, options=SendOptions(parallel=parallel)
        )
        code, err = _cli("-P", str(parallel), "127.0.0.1", str(server.port), *paths)
    assert code == 0xA7  # DCMTK's exit code for a halt on A700, as with one association
    assert "Halted: files not sent" in err
    outcomes = [r.outcome for r in result.results]
    assert [r.path for r in result.results] == paths  # every input once, in order
    assert outcomes[:6] == [Outcome.SENT] * 6  # everything before the failure went
    assert outcomes[6] is Outcome.FAILED_STATUS
    after = outcomes[7:]
    assert set(after) <= {Outcome.SENT, Outcome.NOT_SENT}
    # Stores handed out before the failure was seen finish (in this one process the
    # threads of the SCP and the sender share the GIL, so "before" is a few stores);
    # nothing is handed out after it.
    assert Outcome.NOT_SENT in after
    first_not_sent = after.index(Outcome.NOT_SENT)
    assert set(after[first_not_sent:]) == {Outcome.NOT_SENT}
    assert all(
        r.error == "not sent: the run halted after an unsuccessful store"
        for r in result.results[7:]
        if r.outcome is Outcome.NOT_SENT
    )
    assert result.halted and result.halted_on_status == 0xA700


def test_no_halt_keeps_going_on_every_association(tmp_path: Path) -> None:
    good = [str(write_instance(tmp_path / f"{n}.dcm", n)) for n in range(12)]
    paths = [RTPLAN if n % 4 == 0 else p for n, p in enumerate(good)]
    with _RefusingSCP(frozenset({RT_PLAN_STORAGE})) as server:
        result = storescu.send_files(
            "127.0.0.1", server.port, paths, options=SendOptions(parallel=4, halt=False)
        )
    assert [r.outcome for r in result.results] == [
        Outcome.FAILED_STATUS if p == RTPLAN else Outcome.SENT for p in paths
    ]
    assert not result.halted


def test_a_peer_refusing_some_associations_leaves_the_others(tmp_path: Path) -> None:
    """storescp --max-associations: here a listener that accepts only two connections
    at a time; the others' inputs are given back and the run succeeds."""
    paths = [str(write_instance(tmp_path / f"{n}.dcm", n)) for n in range(20)]
    with _LimitedSCP(limit=2, output_dir=str(tmp_path / "in")) as server:
        code, err = _cli("-P", "4", "127.0.0.1", str(server.port), *paths)
        received = len(server.received)
    assert code == 0, err
    assert received == 20
    assert "going on with the others" in err
    assert "F: " not in err  # a refused extra association is no fatal error


class _LimitedSCP(StoreSCP):
    """Rejects (A-ASSOCIATE-RJ transient, local limit exceeded) beyond `limit` associations."""

    def __init__(self, limit: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.limit = limit
        self.active = 0
        self._gate = threading.Lock()

    def _serve_association(self, sock: Any, peer: str) -> None:
        with self._gate:
            full = self.active >= self.limit
            if not full:
                self.active += 1
        if full:
            from storescu.protocol.pdu import AAssociateRJ

            try:
                sock.recv(65536)
                sock.sendall(AAssociateRJ(2, 3, 2).encode())
            finally:
                sock.close()
            return
        try:
            super()._serve_association(sock, peer)
        finally:
            with self._gate:
                self.active -= 1


def test_no_association_at_all_fails_as_with_one(tmp_path: Path) -> None:
    paths = [str(write_instance(tmp_path / f"{n}.dcm", n)) for n in range(5)]
    stopped = StoreSCP()
    port = stopped.port
    stopped.stop()  # nobody listens
    one = storescu.send_files("127.0.0.1", port, paths)
    many = storescu.send_files("127.0.0.1", port, paths, options=SendOptions(parallel=3))
    assert [r.outcome for r in many.results] == [r.outcome for r in one.results]
    assert {r.outcome for r in many.results} == {Outcome.NOT_SENT}
    assert many.fatal is not None and one.fatal is not None


def test_interrupt_accounts_for_every_input(tmp_path: Path, scp: StoreSCP) -> None:
    src = write_instance(tmp_path / "a.dcm", 1)
    paths = [str(src)] * 20_000
    sender = ParallelSender("127.0.0.1", scp.port, AssociationSettings(), SendOptions(parallel=4))
    timer = threading.Timer(0.4, _thread.interrupt_main)
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            sender.run(open_inputs(paths))
    finally:
        timer.cancel()
    result = sender.run_result
    assert result.interrupted and not result.all_stored
    assert [r.path for r in result.results] == paths  # each input exactly once, in order
    outcomes = [r.outcome for r in result.results]
    assert set(outcomes) <= {Outcome.SENT, Outcome.NOT_SENT, Outcome.FAILED_OUTCOME_UNKNOWN}
    stored = outcomes.count(Outcome.SENT)
    unknown = outcomes.count(Outcome.FAILED_OUTCOME_UNKNOWN)
    assert stored > 0 and unknown <= 4  # at most one store under way per association
    assert stored <= len(scp.received) <= stored + unknown
    assert not any(w.thread.is_alive() for w in sender._workers)


def test_rewriting_without_inventing_works_per_association(scp: StoreSCP) -> None:
    options = SendOptions(parallel=3, rewrite=RewriteOptions(uid_suffix=".9"))
    result = storescu.send_files("127.0.0.1", scp.port, [CT, MR_BE, CT], options=options)
    assert [r.outcome for r in result.results] == [Outcome.SENT] * 3
    assert all(r.sop_instance_uid and r.sop_instance_uid.endswith(".9") for r in result.results)


def test_more_than_128_contexts_over_parallel_associations(tmp_path: Path) -> None:
    """-R with 70 SOP classes (140 contexts): planned in two batches as with one
    association; each worker opens the batch's association when it gets one of its
    inputs, and the results stay in sending order."""
    datasets = []
    for index in range(70):
        ds = pydicom.dcmread(CT)
        ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = f"1.2.840.10008.5.1.4.1.1.{index}"
        ds.SOPInstanceUID = f"1.2.3.4.{index + 1}"
        datasets.append(ds)
    # Interleave the classes so that both batches have inputs early and late.
    datasets = datasets[::2] + datasets[1::2]
    with StoreSCP() as scp:  # accepts any class under the storage root
        one = storescu.send_datasets(
            "127.0.0.1", scp.port, datasets, options=SendOptions(required_only=True)
        )
        many = storescu.send_datasets(
            "127.0.0.1", scp.port, datasets, options=SendOptions(required_only=True, parallel=4)
        )
    assert one.associations == 2
    assert [(r.path, r.outcome) for r in many.results] == [(r.path, r.outcome) for r in one.results]
    assert {r.outcome for r in many.results} == {Outcome.SENT}
    assert many.associations >= 2


def test_a_bug_in_a_worker_still_accounts_for_every_input(
    tmp_path: Path, scp: StoreSCP, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As with one association (RELIABILITY invariant 4): every input is recorded, then
    the error surfaces in the caller's thread."""
    from storescu.run import parallel

    paths = [str(write_instance(tmp_path / f"{n}.dcm", n)) for n in range(12)]
    original = parallel._Worker._attempt

    def attempt(self: Any, item: Any) -> Any:
        if item.path == paths[5]:
            raise RuntimeError("a bug")
        return original(self, item)

    monkeypatch.setattr(parallel._Worker, "_attempt", attempt)
    sender = ParallelSender("127.0.0.1", scp.port, AssociationSettings(), SendOptions(parallel=3))
    with pytest.raises(RuntimeError, match="a bug"):
        sender.run(open_inputs(paths))
    result = sender.run_result
    assert [r.path for r in result.results] == paths
    assert result.results[5].outcome in (Outcome.NOT_SENT, Outcome.FAILED_OUTCOME_UNKNOWN)
    assert not any(w.thread.is_alive() for w in sender._workers)
