"""The Asynchronous Operations Window through the Python API, against the project's SCP
in process: the run's rules (repeat, halt, invalid inputs, -P) hold with requests in flight.
"""

from __future__ import annotations

from pathlib import Path

import pydicom
from pydicom.data import get_testdata_file

import storescu
from storescu.net.client import AssociationSettings
from storescu.run.options import SendOptions
from storescu.run.results import Outcome
from storescu.scp import StoreSCP
from tests.helpers.tree import write_instance

CT = str(get_testdata_file("CT_small.dcm"))
WINDOW = AssociationSettings(max_ops_invoked=16)


def _files(tmp_path: Path, count: int) -> list[str]:
    return [str(write_instance(tmp_path / "in" / f"{n:03d}.dcm", n)) for n in range(count)]


def test_every_file_arrives_once_and_identical(tmp_path: Path) -> None:
    paths = _files(tmp_path, 40)
    with StoreSCP(output_dir=str(tmp_path / "out")) as scp:
        result = storescu.send_files("127.0.0.1", scp.port, paths, settings=WINDOW)
    assert sorted(r.path for r in result.results) == sorted(paths)
    assert {r.outcome for r in result.results} == {Outcome.SENT}
    assert sorted(r.message_id or 0 for r in result.results) == list(range(1, 41))
    assert result.associations == 1
    sent = {pydicom.dcmread(p).SOPInstanceUID: p for p in paths}
    for got in scp.received:
        assert got.path is not None
        a, b = pydicom.dcmread(sent[got.sop_instance_uid]), pydicom.dcmread(got.path)
        assert [(e.tag, e.value) for e in a] == [(e.tag, e.value) for e in b]


def test_repeat_and_an_invalid_input_in_the_middle(tmp_path: Path) -> None:
    paths = _files(tmp_path, 6)
    bad = tmp_path / "bad.dcm"
    bad.write_bytes(b"not dicom at all" * 10)
    inputs = [*paths[:3], str(bad), *paths[3:]]
    with StoreSCP() as scp:
        result = storescu.send_files(
            "127.0.0.1",
            scp.port,
            inputs,
            settings=WINDOW,
            options=SendOptions(repeat=2, halt=False),
        )
    by_path: dict[str, list[Outcome]] = {}
    for r in result.results:
        by_path.setdefault(r.path, []).append(r.outcome)
    assert by_path[str(bad)] == [Outcome.SKIPPED_INVALID]
    assert all(by_path[p] == [Outcome.SENT, Outcome.SENT] for p in paths)
    assert len(scp.received) == 12


def test_halt_on_an_invalid_input_lets_those_in_flight_finish(tmp_path: Path) -> None:
    paths = _files(tmp_path, 6)
    bad = tmp_path / "bad.dcm"
    bad.write_bytes(b"")
    inputs = [*paths[:3], str(bad), *paths[3:]]
    with StoreSCP() as scp:
        result = storescu.send_files("127.0.0.1", scp.port, inputs, settings=WINDOW)
    outcomes = {r.path: r.outcome for r in result.results}
    assert len(result.results) == len(inputs)
    assert [outcomes[p] for p in paths[:3]] == [Outcome.SENT] * 3  # under way: finished
    assert outcomes[str(bad)] is Outcome.SKIPPED_INVALID
    assert [outcomes[p] for p in paths[3:]] == [Outcome.NOT_SENT] * 3
    assert result.halted


def test_failure_status_halts_after_those_in_flight(tmp_path: Path) -> None:
    paths = _files(tmp_path, 30)
    with StoreSCP(status=0xA700, error_comment="full") as scp:
        result = storescu.send_files("127.0.0.1", scp.port, paths, settings=WINDOW)
    outcomes = [r.outcome for r in result.results]
    assert len(outcomes) == 30 and len({r.path for r in result.results}) == 30
    failed = outcomes.count(Outcome.FAILED_STATUS)
    assert 1 <= failed <= 16  # the window's worth at most went out before the halt
    assert outcomes.count(Outcome.NOT_SENT) == 30 - failed
    assert result.halted


def test_parallel_with_a_window_proposed(tmp_path: Path) -> None:
    paths = _files(tmp_path, 24)
    with StoreSCP() as scp:
        result = storescu.send_files(
            "127.0.0.1", scp.port, paths, settings=WINDOW, options=SendOptions(parallel=3)
        )
    assert [r.path for r in result.results] == paths
    assert {r.outcome for r in result.results} == {Outcome.SENT}
    assert len(scp.received) == 24
