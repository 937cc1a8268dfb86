"""storescu.run.report, storescu.run.summary and storescu.run.rename: no network."""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

import pytest

from storescu.run.rename import Renamer, verdict
from storescu.run.report import COLUMNS, ReportError, ReportWriter, SentIndex, read_report
from storescu.run.results import FileResult, Outcome
from storescu.run.summary import ProgressBar, Tally, format_size, summary_line

CT = "1.2.840.10008.5.1.4.1.1.2"
ELE = "1.2.840.10008.1.2.1"


def _sent(path: str, n: int = 1, size: int = 1000) -> FileResult:
    return FileResult(
        path,
        Outcome.SENT,
        sop_class_uid=CT,
        sop_instance_uid=f"1.2.3.{n}",
        file_transfer_syntax=ELE,
        network_transfer_syntax=ELE,
        bytes=size,
        association=1,
        message_id=n,
        status=0,
        status_text="Success",
        seconds=0.0012345678,
    )


FAILED = FileResult(
    "b.dcm",
    Outcome.FAILED_STATUS,
    sop_class_uid=CT,
    sop_instance_uid="1.2.3.9",
    bytes=10,
    association=1,
    message_id=3,
    status=0xA700,
    status_text="Refused: OutOfResources",
    error="status 0xA700 (Refused: OutOfResources), Error Comment: disk full",
)


# --- writing -----------------------------------------------------------------------------


def test_jsonl_rows(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    with ReportWriter(str(path)) as report:
        report(_sent("a.dcm", 1))
        report(_sent("a.dcm", 2))  # --repeat: the second consecutive row of a.dcm
        report(FAILED)
        report(FileResult("gone.dcm", Outcome.SKIPPED_INVALID, error="cannot access file"))
        assert report.rows == 4
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert [list(r) for r in rows] == [list(COLUMNS)] * 4
    first = rows[0]
    assert first["outcome"] == "sent" and first["status"] == "0x0000"
    assert first["seconds"] == 0.001235 and first["bytes"] == 1000
    assert first["time"].endswith("+00:00")
    assert [r["repeat"] for r in rows] == [1, 2, 1, 1]
    assert rows[2]["status"] == "0xA700" and "disk full" in rows[2]["error"]
    assert rows[3]["status"] is None and rows[3]["association"] is None


def test_csv_rows(tmp_path: Path) -> None:
    path = tmp_path / "r.CSV"  # any case
    with ReportWriter(str(path)) as report:
        report(_sent('with, comma "quoted".dcm'))
        report(FAILED)
    with path.open(newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert list(rows[0]) == list(COLUMNS)
    assert rows[0]["path"] == 'with, comma "quoted".dcm'
    assert rows[0]["resent_after_unknown"] == "false"
    assert rows[1]["status"] == "0xA700" and rows[1]["original_sop_instance_uid"] == ""
    assert list(read_report(str(path)))[1]["outcome"] == "failed-status"


@pytest.mark.parametrize("name", ["r.jsonl", "r.csv"])
def test_undecodable_paths_round_trip(tmp_path: Path, name: str) -> None:
    odd = os.fsdecode(b"/data/caf\xe9.dcm")
    path = tmp_path / name
    with ReportWriter(str(path)) as report:
        report(_sent(odd))
    assert odd in SentIndex([str(path)])
    if name.endswith(".csv"):
        assert b"caf\xe9.dcm" in path.read_bytes()  # the file name's own bytes


def test_rows_are_flushed_as_they_go(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    report = ReportWriter(str(path))
    report(_sent("a.dcm"))
    assert json.loads(path.read_text())["path"] == "a.dcm"  # before close
    report.close()
    report.close()  # idempotent


def test_write_errors_are_report_errors(tmp_path: Path) -> None:
    with pytest.raises(ReportError, match="cannot open report file"):
        ReportWriter(str(tmp_path / "no" / "such" / "dir.jsonl"))
    stream = io.StringIO()
    report = ReportWriter("r.jsonl", stream)
    stream.close()
    with pytest.raises(ReportError, match="cannot write report file"):
        report(_sent("a.dcm"))
    full = Path("/dev/full")
    if full.exists():
        with pytest.raises(ReportError, match="No space left"):
            ReportWriter(str(full))(_sent("a.dcm"))


# --- reading back (--skip-sent) --------------------------------------------------------------


def test_sent_index_counts_stored_outcomes_only(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    with ReportWriter(str(path)) as report:
        for outcome in Outcome:
            report(FileResult(f"{outcome.value}.dcm", outcome, sop_instance_uid="1.2"))
        report(FileResult("retried.dcm", Outcome.FAILED_STATUS))
        report(FileResult("retried.dcm", Outcome.SENT))  # a later row stored it
    index = SentIndex([str(path)])
    stored = {"sent.dcm", "sent-with-warning.dcm", "skipped-already-sent.dcm", "retried.dcm"}
    named = {f"{o.value}.dcm" for o in Outcome} | {"retried.dcm"}
    assert {name for name in named if name in index} == stored
    assert len(index) == 4
    found = index.lookup("sent.dcm")
    assert found is not None and found.outcome is Outcome.SKIPPED_ALREADY_SENT
    assert found.sop_instance_uid == "1.2" and found.sop_class_uid is None
    assert index.lookup("failed-status.dcm") is None


def test_sent_index_paths_are_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with ReportWriter("r.csv") as report:
        report(_sent("sub/../a.dcm"))
    index = SentIndex(["r.csv"])
    assert "a.dcm" in index and str(tmp_path / "a.dcm") in index and "b.dcm" not in index


def test_sent_index_tolerates_a_torn_last_line(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    with ReportWriter(str(path)) as report:
        report(_sent("a.dcm"))
    with path.open("a") as stream:
        stream.write('{"path": "b.dcm", "outc')  # the run was killed mid-write
    assert "a.dcm" in SentIndex([str(path)]) and "b.dcm" not in SentIndex([str(path)])


def test_sent_index_refuses_what_is_not_a_report(tmp_path: Path) -> None:
    other = tmp_path / "notes.txt"
    other.write_text("hello\nworld\n")
    with pytest.raises(ReportError, match="not a storescu report"):
        SentIndex([str(other)])
    with pytest.raises(ReportError, match="cannot read report file"):
        SentIndex([str(tmp_path / "missing.jsonl")])
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    assert len(SentIndex([str(empty)])) == 0  # a run that recorded nothing


# --- summary and progress ------------------------------------------------------------------


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_summary_line() -> None:
    clock = _Clock()
    tally = Tally(clock)
    for n in range(998):
        tally(_sent(f"{n}.dcm", n, 38_978))
    tally(FAILED)
    tally(FileResult("x", Outcome.SKIPPED_INVALID))
    clock.now += 4.51
    assert summary_line(tally) == (
        "storescu: 1000 files: 998 sent, 1 failed-status, 1 skipped-invalid-file"
        " | 38.9 MB in 4.51 s, 8.6 MB/s, 221.5 files/s"
    )
    assert summary_line(Tally(clock), seconds=0.0, interrupted=True) == (
        "storescu: interrupted: 0 files | 0 B in 0.00 s, 0 B/s, 0.0 files/s"
    )
    # Issue 14.5: a directory without +sd is not a file.
    tally = Tally(clock)
    tally(FileResult("dir", Outcome.IGNORED_DIRECTORY))
    assert summary_line(tally, seconds=1.0) == (
        "storescu: 0 files; 1 directory ignored (no +sd) | 0 B in 1.00 s, 0 B/s, 0.0 files/s"
    )
    tally(_sent("a.dcm", 1, 1000))
    tally(FileResult("dir2", Outcome.IGNORED_DIRECTORY))
    assert summary_line(tally, seconds=1.0).startswith(
        "storescu: 1 file: 1 sent; 2 directories ignored (no +sd) | "
    )
    assert [format_size(n) for n in (999, 1000, 1_234_567, 3e9, 4e12)] == [
        "999 B",
        "1.0 kB",
        "1.2 MB",
        "3.0 GB",
        "4.0 TB",
    ]


def test_progress_line_throttled_and_cleared(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    clock = _Clock()
    tally = Tally(clock)
    out = io.StringIO()
    bar = ProgressBar(out, tally, total=4, clock=clock)
    for n in range(3):
        tally(_sent(f"{n}.dcm", n, 1_000_000))
        bar(_sent(f"{n}.dcm"))  # drawn once: the redraws come at most every 0.1 s
        clock.now += 0.01
    assert out.getvalue().count("\r") == 1
    clock.now += 1
    tally(FAILED)
    bar(FAILED)
    line = out.getvalue().rsplit("\r", 1)[1]
    expected = "[################] 100%  4/4 files  3.0 MB  2.9 MB/s  ETA 0:00  1 not stored"
    assert line == expected + "\x1b[K"
    bar.total = 8
    assert bar.text().startswith("[########........]  50%  4/8 files")
    bar.clear()
    assert out.getvalue().endswith("\r\x1b[K")
    unknown = ProgressBar(io.StringIO(), tally, clock=clock).text()
    assert unknown.startswith("4 files  3.0 MB") and "0:01" in unknown


# --- +rn --------------------------------------------------------------------------------------


def test_rename_verdicts(tmp_path: Path) -> None:
    existing = tmp_path / "bad.dcm"
    existing.write_bytes(b"x")
    assert verdict(_sent("a")) == ".done"
    assert verdict(FAILED) == ".bad"
    assert verdict(FileResult("a", Outcome.FAILED_OUTCOME_UNKNOWN)) == ".bad"
    assert verdict(FileResult("a", Outcome.NOT_SENT, association=1)) == ".bad"  # no context
    assert verdict(FileResult("a", Outcome.NOT_SENT)) is None  # never reached
    assert verdict(FileResult(str(existing), Outcome.SKIPPED_INVALID)) == ".bad"
    assert verdict(FileResult(str(tmp_path), Outcome.SKIPPED_INVALID)) is None  # a directory
    assert verdict(FileResult("missing", Outcome.SKIPPED_INVALID)) is None
    assert verdict(FileResult(str(existing), Outcome.SKIPPED_ALREADY_SENT)) is None


def test_renamer_decides_after_the_last_repeat(tmp_path: Path) -> None:
    a, b, c = (tmp_path / n for n in ("a.dcm", "b.dcm", "c.dcm"))
    for path in (a, b, c):
        path.write_bytes(b"x")
    renamer = Renamer()
    renamer(_sent(str(a)))
    renamer(_sent(str(a)))
    assert a.exists()  # not before its last result
    renamer(_sent(str(b)))
    renamer(FileResult(str(b), Outcome.FAILED_STATUS, association=1))
    renamer(FileResult(str(c), Outcome.NOT_SENT))
    renamer.finish()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.dcm.done", "b.dcm.bad", "c.dcm"]
    assert renamer.renamed == 2


HOSTILE_NAMES = [
    "cr\rname.dcm",
    "lf\nname.dcm",
    "crlf\r\nname.dcm",
    'quote"d.dcm',
    "com,ma.dcm",
    '",\r\n"',
    "=HYPERLINK(x).dcm",
    "+1.dcm",
    "-1.dcm",
    "@SUM(A1).dcm",
    " leading and trailing space ",
    os.fsdecode(b"bytes\xff\xfe.dcm"),
]


@pytest.mark.parametrize("name", ["r.jsonl", "r.csv"])
def test_hostile_names_round_trip(tmp_path: Path, name: str) -> None:
    """Issue 14.8: CR, LF, quotes, commas, non-UTF-8 bytes and formula-like names
    survive the report (RFC 4180 quoting in CSV) and --skip-sent finds each again."""
    path = tmp_path / name
    paths = [f"/data/{n}" for n in HOSTILE_NAMES]
    with ReportWriter(str(path)) as report:
        for p in paths:
            report(_sent(p))
    rows = list(read_report(str(path)))
    assert [r["path"] for r in rows] == paths
    assert all(r["outcome"] == "sent" for r in rows)
    index = SentIndex([str(path)])
    assert all(p in index for p in paths) and len(index) == len(paths)
    if name.endswith(".csv"):
        raw = path.read_bytes()
        assert b'"/data/cr\rname.dcm"' in raw  # a lone CR is quoted
        assert b'"/data/quote""d.dcm"' in raw
        assert b"/data/=HYPERLINK(x).dcm" in raw  # as it is: see the README
