"""Inputs, reports, renaming, resuming, interrupts and progress, in process (our SCP).

The same features against DCMTK storescp (500-file tree, dcmmkdir, SIGINT of the
real process) are in tests/interop/test_inputs_interop.py.
"""

from __future__ import annotations

import _thread
import io
import json
import os
import select
import shutil
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydicom.data import get_testdata_file

from storescu.cli.main import main
from storescu.net.client import AssociationSettings
from storescu.run.inputs import open_inputs
from storescu.run.options import SendOptions
from storescu.run.results import Outcome
from storescu.run.sender import Sender
from storescu.scp import StoreSCP
from tests.helpers.tree import instance_uid, make_tree, write_instance

CT = str(get_testdata_file("CT_small.dcm"))
MR = str(get_testdata_file("MR_small.dcm"))


@pytest.fixture
def scp() -> Iterator[StoreSCP]:
    with StoreSCP() as server:
        yield server


def _cli(*argv: str, stderr: io.TextIOBase | None = None) -> tuple[int, str]:
    err = io.StringIO() if stderr is None else stderr
    code = main(list(argv), stdout=io.StringIO(), stderr=err)  # type: ignore[arg-type]
    return code, err.getvalue() if isinstance(err, io.StringIO) else ""


def _rows(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _numbered(folder: Path, names: str) -> list[Path]:
    """Valid files named after each letter; ``!`` marks a broken one."""
    files = []
    for n, name in enumerate(names.split(), 1):
        if name.startswith("!"):
            files.append(folder / name[1:])
            files[-1].write_bytes(b"broken" * 30)
        else:
            files.append(write_instance(folder / name, n))
    return files


# --- the report --------------------------------------------------------------------------


def test_report_accounts_for_a_scanned_tree(tmp_path: Path, scp: StoreSCP) -> None:
    tree = make_tree(tmp_path / "tree", studies=2, series=3, images=4)
    report = tmp_path / "r.jsonl"
    code, err = _cli(
        "+sd", "+r", "+sp", "*.dcm", "--no-halt", "--report", str(report),
        "127.0.0.1", str(scp.port), str(tree.root),
    )  # fmt: skip
    assert code == 3, err  # two invalid inputs
    rows = _rows(report)
    assert [r["path"] for r in rows] == [str(p) for p in tree.matching]  # sorted, each once
    outcome = {r["path"]: r["outcome"] for r in rows}
    assert {outcome[str(p)] for p in tree.dicom} == {"sent"}
    assert {outcome[str(p)] for p in tree.invalid} == {"skipped-invalid-file"}
    assert sorted(r.sop_instance_uid for r in scp.received) == sorted(
        instance_uid(n) for n in range(1, len(tree.dicom) + 1)
    )
    summary = err.strip().splitlines()[-1]
    assert summary.startswith("storescu: 26 files: 24 sent, 2 skipped-invalid-file | ")


def test_csv_and_jsonl_reports_hold_the_same_rows(tmp_path: Path, scp: StoreSCP) -> None:
    files = [CT, MR, str(tmp_path / "missing.dcm")]
    for name in ("r.jsonl", "r.csv"):
        _cli("--no-halt", "--repeat", "2", "--report", str(tmp_path / name),
             "127.0.0.1", str(scp.port), *files)  # fmt: skip
    import csv

    with (tmp_path / "r.csv").open(newline="") as stream:
        from_csv = list(csv.DictReader(stream))
    from_json = _rows(tmp_path / "r.jsonl")
    assert len(from_csv) == len(from_json) == 5  # 2 + 2 + the missing file once
    for a, b in zip(from_json, from_csv, strict=True):
        for key in ("path", "outcome", "sop_instance_uid", "status", "message_id", "repeat"):
            assert ("" if a[key] is None else str(a[key])) == b[key], key
    assert [r["repeat"] for r in from_json] == [1, 2, 1, 2, 1]


def test_ignored_directory_is_reported(tmp_path: Path, scp: StoreSCP) -> None:
    (tmp_path / "dir").mkdir()
    report = tmp_path / "r.jsonl"
    code, err = _cli("--report", str(report), "127.0.0.1", str(scp.port),
                     str(tmp_path / "dir"), CT)  # fmt: skip
    # DCMTK's warning; the run goes on, but something named was not sent.
    assert f"W: ignoring directory because option --scan-directories is not set: {tmp_path}" in err
    assert [r["outcome"] for r in _rows(report)] == ["ignored-directory", "sent"]
    assert code == 1 and len(scp.received) == 1
    # Issue 14.5: a directory is not counted as a file.
    assert "storescu: 1 file: 1 sent; 1 directory ignored (no +sd) |" in err, err


def test_report_and_skip_sent_must_differ(tmp_path: Path, scp: StoreSCP) -> None:
    code, err = _cli("--report", "r.jsonl", "--skip-sent", "./r.jsonl",
                     "127.0.0.1", str(scp.port), CT)  # fmt: skip
    assert code == 1 and "would overwrite the --skip-sent report" in err
    code, err = _cli("--report", str(tmp_path), "127.0.0.1", str(scp.port), CT)
    assert code == 1 and "cannot open report file" in err
    assert scp.received == []


# --- resuming -------------------------------------------------------------------------------


def test_halted_run_then_resume_sends_only_the_rest(tmp_path: Path, scp: StoreSCP) -> None:
    _numbered(tmp_path / "in", "a.dcm b.dcm !c.dcm d.dcm e.dcm")
    first, second = tmp_path / "run1.jsonl", tmp_path / "run2.jsonl"
    code, _ = _cli("+sd", "--report", str(first), "127.0.0.1", str(scp.port),
                   str(tmp_path / "in"))  # fmt: skip
    assert code == 1  # halted on the broken file
    assert [r["outcome"] for r in _rows(first)] == [
        "sent", "sent", "skipped-invalid-file", "not-sent", "not-sent",
    ]  # fmt: skip
    code, err = _cli("+sd", "--no-halt", "--skip-sent", str(first), "--report", str(second),
                     "127.0.0.1", str(scp.port), str(tmp_path / "in"))  # fmt: skip
    assert code == 3, err  # c.dcm is still broken
    assert [r["outcome"] for r in _rows(second)] == [
        "skipped-already-sent", "skipped-already-sent", "skipped-invalid-file", "sent", "sent",
    ]  # fmt: skip
    assert [r.sop_instance_uid for r in scp.received] == [instance_uid(n) for n in (1, 2, 4, 5)]
    # A chain: the second report carries the first run's files as stored.
    code, err = _cli("-v", "+sd", "+sp", "[abde].dcm", "--skip-sent", str(second),
                     "127.0.0.1", str(scp.port), str(tmp_path / "in"))  # fmt: skip
    assert code == 0 and "nothing to send: every input was sent before" in err
    assert len(scp.received) == 4


# --- +rn ---------------------------------------------------------------------------------------


def test_rename_done_bad_and_untouched(tmp_path: Path, scp: StoreSCP) -> None:
    a, b, c, d = _numbered(tmp_path, "a.dcm !b.dcm c.dcm d.dcm")
    code, _ = _cli("+rn", "127.0.0.1", str(scp.port), str(a), str(b), str(c))
    assert code == 1
    # DCMTK: .done after success, .bad for a bad file; not reached after the halt.
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "a.dcm.done",
        "b.dcm.bad",
        "c.dcm",
        "d.dcm",
    ]
    code, _ = _cli("+rn", "--no-halt", "--repeat", "2", "127.0.0.1", str(scp.port), str(c), str(d))
    assert code == 0
    assert {p.name for p in tmp_path.iterdir()} >= {"c.dcm.done", "d.dcm.done"}


def test_rename_never_touches_what_was_not_processed(tmp_path: Path) -> None:
    a = write_instance(tmp_path / "a.dcm", 1)
    with StoreSCP() as stopped:
        port = stopped.port
    code, err = _cli("+rn", "127.0.0.1", str(port), str(a))  # nobody listening
    assert code == 1 and a.exists(), err


# --- interrupts ------------------------------------------------------------------------------


def _interrupt_after(seconds: float) -> threading.Timer:
    timer = threading.Timer(seconds, _thread.interrupt_main)
    timer.start()
    return timer


def test_interrupted_run_accounts_for_every_input(tmp_path: Path, scp: StoreSCP) -> None:
    src = write_instance(tmp_path / "a.dcm", 1)
    paths = [str(src)] * 20_000  # far more than can go in the time before the interrupt
    sender = Sender("127.0.0.1", scp.port, AssociationSettings(), SendOptions())
    timer = _interrupt_after(0.3)
    try:
        with pytest.raises(KeyboardInterrupt):
            sender.run(open_inputs(paths))
    finally:
        timer.cancel()
    result = sender.run_result
    assert result.interrupted and not result.all_stored
    assert [r.path for r in result.results] == paths  # each input exactly once, in order
    outcomes = [r.outcome for r in result.results]
    stored = outcomes.count(Outcome.SENT)
    assert 0 < stored < len(paths)
    assert set(outcomes[:stored]) == {Outcome.SENT}
    tail = outcomes[stored:]
    assert set(tail[1:]) == {Outcome.NOT_SENT}
    assert tail[0] in (Outcome.NOT_SENT, Outcome.FAILED_OUTCOME_UNKNOWN)
    unknown = tail[0] is Outcome.FAILED_OUTCOME_UNKNOWN
    assert stored <= len(scp.received) <= stored + unknown


def test_cli_interrupt_writes_the_whole_report(tmp_path: Path, scp: StoreSCP) -> None:
    src = write_instance(tmp_path / "a.dcm", 1)
    listing = tmp_path / "list.txt"
    listing.write_text(f"{src}\n" * 20_000)
    report = tmp_path / "r.csv"
    timer = _interrupt_after(0.3)
    try:
        code, err = _cli("--file-list", str(listing), "--report", str(report),
                         "127.0.0.1", str(scp.port))  # fmt: skip
    finally:
        timer.cancel()
    assert code == 130
    assert "storescu: interrupted: 20000 files:" in err and err.endswith("F: interrupted\n")
    lines = report.read_text().splitlines()
    assert len(lines) == 1 + 20_000
    counts = Counter(line.split(",")[1] for line in lines[1:])
    assert counts["sent"] > 0 and counts["not-sent"] > 0


# --- inputs -----------------------------------------------------------------------------------


def test_file_list_from_stdin(
    tmp_path: Path, scp: StoreSCP, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = _numbered(tmp_path, "a.dcm b.dcm")
    stdin = io.TextIOWrapper(io.BytesIO(f"{a}\n\n{b}\r\n".encode()))
    monkeypatch.setattr("sys.stdin", stdin)
    code, err = _cli("--file-list", "-", "127.0.0.1", str(scp.port), CT)
    assert code == 0, err
    assert [r.sop_instance_uid for r in scp.received][1:] == [instance_uid(1), instance_uid(2)]


def test_dicomdir_with_unsafe_references(tmp_path: Path, scp: StoreSCP) -> None:
    from tests.unit.run.test_inputs import _dicomdir

    media = tmp_path / "media"
    write_instance(media / "DIR" / "IMG1", 1)
    write_instance(tmp_path / "outside.dcm", 2)
    dicomdir = _dicomdir(media, [["DIR", "IMG1"], ["..", "OUTSIDE.DCM"], ["DIR", "GONE"]])
    report = tmp_path / "r.jsonl"
    code, err = _cli("--no-halt", "--report", str(report), "127.0.0.1", str(scp.port),
                     str(dicomdir))  # fmt: skip
    assert code == 3, err
    rows = _rows(report)
    assert [(r["path"], r["outcome"]) for r in rows] == [
        (str(media / "DIR" / "IMG1"), "sent"),
        (f"{dicomdir}:..\\OUTSIDE.DCM", "skipped-invalid-file"),
        (str(media / "DIR" / "GONE"), "skipped-invalid-file"),
    ]
    assert [r.sop_instance_uid for r in scp.received] == [instance_uid(1)]  # never outside.dcm


# --- progress ----------------------------------------------------------------------------------


def test_progress_only_on_a_terminal(tmp_path: Path, scp: StoreSCP) -> None:
    code, err = _cli("127.0.0.1", str(scp.port), CT, MR)
    assert code == 0 and "\r" not in err  # not a terminal: no progress line
    assert err.startswith("storescu: 2 files: 2 sent | ")
    code, err = _cli("-q", "127.0.0.1", str(scp.port), CT)
    assert code == 0 and err == ""  # -q: no summary either
    code, err = _cli("--progress", "127.0.0.1", str(scp.port), CT)
    assert err.startswith("\r[#") and "1/1 files" in err and "\r\x1b[K" in err  # then erased


def test_progress_drawn_on_a_terminal(tmp_path: Path, scp: StoreSCP) -> None:
    master, slave = os.openpty()
    terminal = os.fdopen(slave, "w")
    try:
        assert terminal.isatty()
        code, _ = _cli("127.0.0.1", str(scp.port), CT, MR, stderr=terminal)  # type: ignore[arg-type]
        terminal.flush()
        output = b""
        while select.select([master], [], [], 0.2)[0]:
            output += os.read(master, 65536)
        code_q, _ = _cli("-q", "127.0.0.1", str(scp.port), CT, stderr=terminal)  # type: ignore[arg-type]
        terminal.flush()
        quiet = os.read(master, 65536) if select.select([master], [], [], 0.2)[0] else b""
    finally:
        terminal.close()
        os.close(master)
    assert code == 0 and code_q == 0
    text = output.decode()
    assert "files" in text and "\r\x1b[K" in text and "storescu: 2 files: 2 sent" in text
    assert quiet == b""


def test_scan_of_a_copied_tree_with_a_pattern(tmp_path: Path, scp: StoreSCP) -> None:
    shutil.copy(CT, tmp_path / "ct.dcm")
    shutil.copy(MR, tmp_path / "mr.DCM")
    code, err = _cli("+sd", "+sp", "*.dcm", "127.0.0.1", str(scp.port), str(tmp_path))
    assert code == 0, err
    assert len(scp.received) == 1  # the pattern is case-sensitive, as DCMTK's fnmatch


def test_csv_report_with_hostile_names_resumes_exactly(tmp_path: Path, scp: StoreSCP) -> None:
    """Issue 14.8: before, a CR in a file name broke the CSV row and --skip-sent sent
    that already-confirmed file again. Names with CR, LF, quotes, commas, non-UTF-8
    bytes and a leading = + - @ are all found again."""
    names = ["cr\rx.dcm", "lf\nx.dcm", 'q"x.dcm', "c,x.dcm", "=x.dcm", "+x.dcm", "-x.dcm",
             "@x.dcm", os.fsdecode(b"b\xffx.dcm")]  # fmt: skip
    paths = [str(write_instance(tmp_path / "in" / n, i)) for i, n in enumerate(names, 1)]
    report = tmp_path / "r.csv"
    code, err = _cli("--report", str(report), "127.0.0.1", str(scp.port), *paths)
    assert code == 0 and len(scp.received) == len(paths), err
    again = tmp_path / "again.jsonl"
    code, err = _cli("--skip-sent", str(report), "--report", str(again),
                     "127.0.0.1", str(scp.port), *paths)  # fmt: skip
    assert code == 0, err
    assert len(scp.received) == len(paths), "an already-confirmed file was sent again"
    assert [r["outcome"] for r in _rows(again)] == ["skipped-already-sent"] * len(paths)
