"""Soak and size: many sends over one association, and row 11's 3 GiB sparse file.

CI runs them reduced (2,000 sends, a 300 MB file); ``STORESCU_SOAK=full`` runs
the full size (20,000 sends, 3 GiB):

    STORESCU_SOAK=full python -m pytest tests/faults/test_soak.py -s

Both sample the sender's RSS from /proc while it runs (``-s`` prints the
figures) and check that it stays flat, and that the report accounts for every
send.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.faults import files
from tests.faults.invariants import EXIT_SUCCESS, TIGHT_MAX_RSS_MB, CliRun, check, run_cli
from tests.helpers.hostile import HostilePeer, scenarios

pytestmark = pytest.mark.soak

FULL = os.environ.get("STORESCU_SOAK", "").lower() == "full"
SENDS = 20_000 if FULL else 2_000
LARGE = 3 * 1024**3 if FULL else 300 * 1024**2
#: RSS may grow by this much between the first tenth of the run and its end.
FLAT_MB = 8.0

Hostile = Callable[..., HostilePeer]


def rss_figures(run: CliRun, total: int) -> tuple[float, float, float]:
    """(RSS once a tenth of the rows is written, RSS at the last sample, peak), in MB."""
    samples = run.rss_samples
    assert len(samples) >= 3, f"too few RSS samples: {samples}\n{run.describe()}"
    start = next((rss for _, rss, rows in samples if rows >= total // 10), samples[0][1])
    end = samples[-1][1]
    return start, end, run.maxrss_mb


def test_soak_many_sends_over_one_association(
    hostile: Hostile, report: Path, tmp_path: Path
) -> None:
    small = files.write(files.small_dataset(), tmp_path / "small.dcm")
    peer = hostile(scenarios.good())
    run = run_cli(
        ["-ta", "10", "-td", "10", "--repeat", str(SENDS), peer.host, str(peer.port), small],
        report=report,
        timeout=600,
        sample_every=0.05,
    )
    peer.wait_idle()
    check(
        run,
        exit_code=EXIT_SUCCESS,
        outcomes={str(small): ["sent"] * SENDS},
        causes=[],
        budget=SENDS / 200,  # at least 200 sends/s even on a loaded machine
        max_rss_mb=TIGHT_MAX_RSS_MB,
        sessions=peer.sessions,
        endings=["release"],
    )
    assert len(peer.sessions[0].stores) == SENDS
    rows = run.rows()
    assert [r["repeat"] for r in rows] == list(range(1, SENDS + 1))
    assert [r["message_id"] for r in rows[:3]] == [1, 2, 3]
    start, end, peak = rss_figures(run, SENDS)
    print(
        f"\nsoak: {SENDS} sends in {run.seconds:.1f} s ({SENDS / run.seconds:.0f}/s), "
        f"RSS {start:.1f} MB after 10% -> {end:.1f} MB at the end, peak {peak:.1f} MB"
    )
    assert end - start <= FLAT_MB, f"RSS grew {start:.1f} -> {end:.1f} MB\n{run.describe()}"


def test_row11_large_sparse_file_streamed(hostile: Hostile, report: Path, tmp_path: Path) -> None:
    """Streamed in PDVs (never held whole), flat memory, the 32-bit length intact."""
    big = files.sparse_large(tmp_path / "large.dcm", LARGE)
    offset = files.dataset_offset(big)
    length = big.stat().st_size - offset
    peer = hostile(scenarios.good(max_pdu=131072), keep_data=4096)
    run = run_cli(
        ["-ta", "10", "-td", "60", peer.host, str(peer.port), big],
        report=report,
        timeout=900,
        sample_every=0.02,
    )
    peer.wait_idle()
    check(
        run,
        exit_code=EXIT_SUCCESS,
        outcomes={str(big): "sent"},
        causes=[],
        budget=LARGE / (40 * 1024**2),  # at least 40 MB/s through the Python peer
        max_rss_mb=TIGHT_MAX_RSS_MB,
        sessions=peer.sessions,
        endings=["release"],
    )
    store = peer.sessions[0].stores[0]
    assert store.complete and store.dataset_bytes == length
    with open(big, "rb") as handle:
        handle.seek(offset)
        head = handle.read(4096)
    assert store.data is not None and bytes(store.data[:4096]) == head  # lengths intact
    assert run.rows()[0]["bytes"] == length
    session = peer.sessions[0]
    assert session.max_pdata <= 131072 and session.pdata_count >= length // 131072
    # Flat: from a third of the run on (start-up and imports done) RSS stays put.
    steady = [rss for t, rss, _ in run.rss_samples if t >= run.seconds / 3]
    assert steady, run.rss_samples
    start, end, peak = steady[0], steady[-1], run.maxrss_mb
    print(
        f"\nrow 11: {length / 1024**2:.0f} MB in {run.seconds:.1f} s "
        f"({length / 1024**2 / run.seconds:.0f} MB/s), {session.pdata_count} P-DATA-TF, "
        f"RSS {start:.1f} -> {end:.1f} MB, peak {peak:.1f} MB"
    )
    assert max(steady) - min(steady) <= FLAT_MB, f"RSS not flat: {steady}"
