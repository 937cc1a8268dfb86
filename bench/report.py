"""Results of the benchmark: medians, ratios to DCMTK, the markdown table, JSON, the plot.

Everything here is pure (no processes, no sockets) except :func:`machine_info`,
which reads /proc and asks the tools for their versions, and :func:`write_plot`,
which needs matplotlib (optional: without it the plot is skipped with a note).
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

#: The sender every ratio is taken against.
REFERENCE = "dcmtk"
MB = 1_000_000  # MB/s and file sizes are decimal megabytes

#: Issue 6 targets, as the ratio of DCMTK's wall time to the sender's (throughput
#: ratio): ">= value" is met. Parallel-association targets apply to those variants.
TARGETS: dict[str, tuple[float, str]] = {
    "tiny": (1 / 0.8, "wall <= 0.8x DCMTK"),
    "small": (1 / 0.9, "wall <= 0.9x DCMTK"),
    "large": (1.0, "wall <= 1.0x DCMTK"),
    "onefile": (0.5, "wall <= 2x DCMTK"),
    "latency": (6.0, ">= 6x DCMTK throughput (parallel associations)"),
    "latency-scp": (10.0, ">= 10x DCMTK throughput (one association, window 16)"),
    "orthanc": (3.0, ">= 3x DCMTK throughput (parallel associations)"),
}


@dataclass
class Run:
    """One timed sender process."""

    wall: float  # seconds, whole process, measured from outside
    rss_kb: int  # peak resident set size (ru_maxrss of the reaped child)
    rc: int
    received: int  # stores the receiver counted during this run
    expected: int
    note: str = ""
    cpu: float = 0.0  # user + system seconds of the sender process
    receiver_cpu: float = 0.0  # user + system seconds the receiver used during the run

    @property
    def ok(self) -> bool:
        return self.rc == 0 and self.received == self.expected


@dataclass
class Row:
    """All runs of one sender on one set."""

    set_name: str
    sender: str
    files: int
    total_bytes: int
    runs: list[Run] = field(default_factory=list)
    skipped: str | None = None  # why the sender did not run (e.g. unknown option)

    @property
    def ok_runs(self) -> list[Run]:
        return [r for r in self.runs if r.ok]

    @property
    def median_wall(self) -> float | None:
        ok = self.ok_runs
        return median([r.wall for r in ok]) if ok else None

    @property
    def median_cpu(self) -> float | None:
        ok = self.ok_runs
        return median([r.cpu for r in ok]) if ok else None

    @property
    def median_receiver_cpu(self) -> float | None:
        ok = self.ok_runs
        return median([r.receiver_cpu for r in ok]) if ok else None

    @property
    def peak_rss_mb(self) -> float | None:
        ok = self.ok_runs
        return max(r.rss_kb for r in ok) * 1024 / MB if ok else None

    @property
    def status(self) -> str:
        if self.skipped:
            return f"skipped: {self.skipped}"
        bad = [r for r in self.runs if not r.ok]
        if not self.runs:
            return "no runs"
        if not bad:
            return "ok"
        first = bad[0]
        why = f"exit {first.rc}" if first.rc else f"received {first.received}/{first.expected}"
        note = f"; {first.note}" if first.note else ""
        return f"{len(bad)}/{len(self.runs)} runs FAILED ({why}{note})"


def median(values: Sequence[float]) -> float:
    """The median (mean of the middle two for an even count)."""
    if not values:
        raise ValueError("median of no values")
    return float(statistics.median(values))


def reference_wall(rows: Iterable[Row], set_name: str) -> float | None:
    for row in rows:
        if row.set_name == set_name and row.sender == REFERENCE:
            return row.median_wall
    return None


def summarize(row: Row, ref_wall: float | None) -> dict[str, Any]:
    """The numbers of one table line (None where there is nothing to show)."""
    wall = row.median_wall
    ok = row.ok_runs
    out: dict[str, Any] = {
        "set": row.set_name,
        "sender": row.sender,
        "files": row.files,
        "mb": row.total_bytes / MB,
        "runs": len(row.runs),
        "median_wall_s": wall,
        "min_wall_s": min((r.wall for r in ok), default=None),
        "max_wall_s": max((r.wall for r in ok), default=None),
        "median_cpu_s": row.median_cpu,
        "cpu_us_per_file": (
            row.median_cpu / row.files * 1e6 if row.median_cpu is not None and row.files else None
        ),
        "median_receiver_cpu_s": row.median_receiver_cpu,
        "files_per_s": row.files / wall if wall else None,
        "mb_per_s": row.total_bytes / MB / wall if wall else None,
        "peak_rss_mb": row.peak_rss_mb,
        "wall_vs_dcmtk": wall / ref_wall if wall and ref_wall else None,
        "throughput_vs_dcmtk": ref_wall / wall if wall and ref_wall else None,
        "status": row.status,
    }
    return out


def _fmt(value: float | None, spec: str, suffix: str = "") -> str:
    return "-" if value is None else f"{value:{spec}}{suffix}"


def format_table(rows: Sequence[Row]) -> str:
    """Markdown table, one line per (set, sender), in the order given."""
    head = (
        "| set | sender | files | MB | wall s (median) | min-max s | CPU s | CPU us/file "
        "| receiver CPU s "
        "| files/s | MB/s | peak RSS MB | wall vs DCMTK | throughput vs DCMTK | status |"
    )
    lines = [head, "|" + "---|" * 15]
    refs = {r.set_name: reference_wall(rows, r.set_name) for r in rows}
    for row in rows:
        s = summarize(row, refs[row.set_name])
        spread = "-" if s["min_wall_s"] is None else f"{s['min_wall_s']:.3f}-{s['max_wall_s']:.3f}"
        lines.append(
            "| "
            + " | ".join(
                [
                    s["set"],
                    s["sender"],
                    str(s["files"]),
                    f"{s['mb']:.1f}",
                    _fmt(s["median_wall_s"], ".3f"),
                    spread,
                    _fmt(s["median_cpu_s"], ".3f"),
                    _fmt(s["cpu_us_per_file"], ",.0f"),
                    _fmt(s["median_receiver_cpu_s"], ".2f"),
                    _fmt(s["files_per_s"], ",.1f"),
                    _fmt(s["mb_per_s"], ",.1f"),
                    _fmt(s["peak_rss_mb"], ".1f"),
                    _fmt(s["wall_vs_dcmtk"], ".2f", "x"),
                    _fmt(s["throughput_vs_dcmtk"], ".2f", "x"),
                    s["status"],
                ]
            )
            + " |"
        )
    return "\n".join(lines) + "\n"


def format_machine(info: dict[str, str]) -> str:
    return "\n".join(f"- **{key}**: {value}" for key, value in info.items()) + "\n"


def _first_line(argv: list[str], env: dict[str, str] | None = None) -> str:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=30, env=env)
    except (OSError, subprocess.TimeoutExpired):
        return "not available"
    text = (out.stdout or out.stderr).strip().splitlines()
    return text[0].strip() if text else "?"


def machine_info(
    python: str, repo: Path, ours_label: str | None = None, env: dict[str, str] | None = None
) -> dict[str, str]:
    """What the numbers were measured on (shown above the table).

    ``ours_label`` describes where our storescu came from when it is not this
    checkout (``--ours-src``); ``env`` is the senders' environment.
    """
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = "?"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    versions = _first_line(
        [
            python,
            "-c",
            "import sys, pydicom, storescu\n"
            "try:\n import pynetdicom; pn = pynetdicom.__version__\n"
            "except ImportError:\n pn = 'not installed'\n"
            "print(sys.version.split()[0], pydicom.__version__, pn, storescu.__version__)",
        ],
        env,
    ).split()
    while len(versions) < 4:
        versions.append("?")
    commit = _first_line(["git", "-C", str(repo), "describe", "--always", "--dirty"])
    return {
        "CPU": f"{cpu}, {os.cpu_count()} logical CPUs (nproc)",
        "RAM": ram,
        "OS": f"{platform.system()} {platform.release()}",
        "Python": f"{versions[0]} ({python})",
        "pydicom": versions[1],
        "pynetdicom": versions[2],
        "storescu (ours)": f"{versions[3]}, {ours_label or f'this checkout, git {commit}'}",
        "DCMTK": _first_line(["/usr/bin/storescu", "--version"]).strip("$ "),
        "Orthanc": _first_line(["/usr/sbin/Orthanc", "--version"]),
    }


def to_json(rows: Sequence[Row], meta: dict[str, Any]) -> str:
    refs = {r.set_name: reference_wall(rows, r.set_name) for r in rows}
    payload = {
        **meta,
        "rows": [
            {**summarize(r, refs[r.set_name]), "raw_runs": [asdict(x) for x in r.runs]}
            for r in rows
        ],
    }
    return json.dumps(payload, indent=2) + "\n"


def write_plot(rows: Sequence[Row], path: Path, title: str) -> str | None:
    """Bar chart of throughput vs DCMTK per set and sender; returns why not, or None."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "matplotlib is not installed (pip install -e '.[bench]')"
    refs = {r.set_name: reference_wall(rows, r.set_name) for r in rows}
    sets = list(dict.fromkeys(r.set_name for r in rows))
    senders = [s for s in dict.fromkeys(r.sender for r in rows) if s != REFERENCE]
    values: dict[str, list[float]] = {s: [] for s in senders}
    for sender in senders:
        for set_name in sets:
            row = next((r for r in rows if r.set_name == set_name and r.sender == sender), None)
            ratio = None if row is None else summarize(row, refs[set_name])["throughput_vs_dcmtk"]
            values[sender].append(ratio or 0.0)
    fig, ax = plt.subplots(figsize=(max(6.0, 1.4 * len(sets) + 2), 4.5))
    width = 0.8 / max(1, len(senders))
    for i, sender in enumerate(senders):
        xs = [k + (i - (len(senders) - 1) / 2) * width for k in range(len(sets))]
        bars = ax.bar(xs, values[sender], width, label=sender)
        ax.bar_label(
            bars, labels=[f"{v:.2f}" if v else "" for v in values[sender]], fontsize=7, padding=1
        )
    ax.axhline(1.0, color="black", linewidth=1, linestyle="--", label="DCMTK storescu = 1")
    labelled = False
    for k, set_name in enumerate(sets):
        base = set_name.split("-")[0]
        if base in TARGETS:
            extra: dict[str, Any] = {} if labelled else {"label": "issue 6 target"}
            ax.hlines(TARGETS[base][0], k - 0.45, k + 0.45, colors="red", linewidth=1.5, **extra)
            labelled = True
    ax.set_xticks(range(len(sets)), sets)
    ratios = [v for vs in values.values() for v in vs if v > 0]
    if ratios and max(ratios) / min(ratios) > 30:
        # Parallel associations to a slow peer reach 10-20x, pynetdicom 0.1x:
        # a linear axis would flatten everything near DCMTK's 1.
        ax.set_yscale("log")
    ax.set_ylabel("throughput vs DCMTK (DCMTK wall / sender wall)")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return None
