"""Hostile inputs of issue 14 (rows 44-47 of tests/faults/README.md): FIFOs,
``--file-list`` lines that never end or are not text, symbolic link loops.

Each test runs the CLI against the well-behaved scripted peer with ``--report``
and checks the six invariants (:func:`tests.faults.invariants.check`), with a
hard timeout so that a regression that blocks fails instead of hanging.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.faults.invariants import (
    EXIT_FAILURE,
    EXIT_INCOMPLETE,
    TIMEOUTS,
    CliRun,
    check,
    run_cli,
)
from tests.helpers.hostile import HostilePeer, scenarios

Hostile = Callable[..., HostilePeer]
#: Hard limit per run: a blocked sender is killed and the test fails.
HARD_TIMEOUT = 20.0


def send(
    hostile: Hostile, report: Path, inputs: list[str | Path], *options: str
) -> tuple[CliRun, HostilePeer]:
    peer = hostile(scenarios.good())
    run = run_cli(
        [*TIMEOUTS, *options, peer.host, str(peer.port), *inputs],
        report=report,
        timeout=HARD_TIMEOUT,
    )
    peer.wait_idle()
    return run, peer


# --- row 44: a FIFO as an operand or in --file-list (issue 14.7) ----------------------


@pytest.mark.parametrize("how", ["operand", "file-list", "dicomdir-name"])
def test_row44_fifo_is_reported_not_opened_for_reading(
    hostile: Hostile, report: Path, tmp_path: Path, ct: Path, how: str
) -> None:
    """Before: blocked forever in open() before any association, whatever -ts said."""
    fifo = tmp_path / ("DICOMDIR" if how == "dicomdir-name" else "f")
    os.mkfifo(fifo)
    if how != "file-list":
        run, peer = send(hostile, report, [fifo, ct], "--no-halt", "-ts", "2")
    else:
        listing = tmp_path / "list.txt"
        listing.write_text(f"{fifo}\n{ct}\n")
        run, peer = send(hostile, report, [], "--no-halt", "-ts", "2", "--file-list", str(listing))
    check(
        run,
        exit_code=EXIT_INCOMPLETE,
        outcomes={str(fifo): "skipped-invalid-file", str(ct): "sent"},
        causes=["not a regular file"],
        names=[str(fifo)],
        sessions=peer.sessions,
        endings=["release"],
    )
    assert run.seconds < 8, run.seconds


# --- row 45: --file-list that is not text, or whose line never ends (issue 14.6) -------


@pytest.mark.parametrize("kind", ["dev-zero", "endless-line", "binary"])
def test_row45_file_list_lines_are_bounded(
    hostile: Hostile, report: Path, tmp_path: Path, ct: Path, kind: str
) -> None:
    """Before: ``--file-list /dev/zero`` grew to 6.3 GB in 6 s with no output.
    Now one line of at most 4096 bytes is held; the list's earlier paths are sent."""
    if kind == "dev-zero":
        listing, line, why = Path("/dev/zero"), 1, "not text: NUL byte at column 1"
        inputs: list[str | Path] = [ct]
    elif kind == "endless-line":
        listing = tmp_path / "list.txt"
        listing.write_bytes(f"{ct}\n".encode() + b"x" * 10_000_000)
        line, why, inputs = 2, "line longer than 4096 bytes", []
    else:
        listing = tmp_path / "list.bin"
        listing.write_bytes(f"{ct}\n\n".encode() + b"\x7fELF\x02\x01\x01\x00\x00" + b"\n" * 3)
        line, why, inputs = 3, "not text: NUL byte at column 8", []
    run, peer = send(hostile, report, inputs, "--file-list", str(listing))
    check(
        run,
        exit_code=EXIT_FAILURE,
        outcomes={str(ct): "sent"},
        causes=[f"file list '{listing}': line {line}: {why}; the rest of it is not read"],
        names=[str(listing)],
        max_rss_mb=100,
        sessions=peer.sessions,
        endings=["release"],
    )
    assert run.seconds < 8, run.seconds


def test_row45_file_list_of_nothing_but_a_bad_line(
    hostile: Hostile, report: Path, tmp_path: Path
) -> None:
    peer = hostile(scenarios.good())
    run = run_cli(
        [*TIMEOUTS, "--file-list", "/dev/zero", peer.host, str(peer.port)],
        report=report,
        timeout=HARD_TIMEOUT,
    )
    check(
        run,
        exit_code=EXIT_FAILURE,
        outcomes={},
        causes=["file list '/dev/zero': line 1: not text"],
        names=["/dev/zero"],
        max_rss_mb=100,
    )
    assert peer.sessions == []


# --- row 47: one file under several names in a +sd +r scan (issue 14.11) ---------------


def test_row47_each_real_file_is_sent_once(hostile: Hostile, report: Path, tmp_path: Path) -> None:
    """A symlink loop (a/b -> ../c, c/e -> ../a), a link to a file inside the tree,
    two links to one file outside it and a hard link: each real file is sent once;
    every other name is skipped-duplicate naming the first. Exit 0."""
    from tests.helpers.tree import write_instance

    d = tmp_path / "d"
    write_instance(d / "a" / "x.dcm", 1)
    write_instance(d / "c" / "y.dcm", 2)
    outside = write_instance(tmp_path / "outside" / "o.dcm", 3)
    write_instance(d / "h1.dcm", 4)
    os.link(d / "h1.dcm", d / "h2.dcm")
    (d / "a" / "b").symlink_to("../c")
    (d / "c" / "e").symlink_to("../a")
    (d / "o1.dcm").symlink_to(outside)
    (d / "o2.dcm").symlink_to(outside)
    (d / "z.dcm").symlink_to("a/x.dcm")
    run, peer = send(hostile, report, [d], "+sd", "+r")
    dup = "skipped-duplicate"
    check(
        run,
        exit_code=0,
        outcomes=[
            (f"{d}/a/b/y.dcm", dup),
            (f"{d}/a/x.dcm", "sent"),
            (f"{d}/c/e/x.dcm", dup),
            (f"{d}/c/y.dcm", "sent"),
            (f"{d}/h1.dcm", "sent"),
            (f"{d}/h2.dcm", dup),
            (f"{d}/o1.dcm", "sent"),
            (f"{d}/o2.dcm", dup),
            (f"{d}/z.dcm", dup),
        ],
        causes=[
            f"skipping {d}/a/b/y.dcm: the same file as {d}/c/y.dcm (a link): not sent twice",
            f"skipping {d}/o2.dcm: the same file as {d}/o1.dcm",
            f"skipping {d}/h2.dcm: the same file as {d}/h1.dcm",
            f"skipping {d}/z.dcm: the same file as {d}/a/x.dcm",
        ],
        names=[str(d)],
        sessions=peer.sessions,
        endings=["release"],
    )
    assert len(peer.sessions[0].stores) == 4
    assert "4 sent, 5 skipped-duplicate" in run.stderr, run.stderr
