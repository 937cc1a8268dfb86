"""Run the CLI as a subprocess and check RELIABILITY.md's six invariants.

:func:`run_cli` starts ``python -m storescu`` (or ``STORESCU_CMD``) in its own
session, waits for it with :func:`os.wait4` -- which gives the resource usage of
*that* child, so its peak RSS (``ru_maxrss``) is known exactly -- optionally
samples its RSS from ``/proc`` while it runs and sends it a signal when asked,
and kills its process group if it outlives the hard timeout.

:func:`check` asserts, for one run:

1. no ``Traceback`` (nor an "internal error") in stdout/stderr, and the message
   names the file or the peer and the cause;
2. it ended within its budget (the configured timeouts that should fire, plus
   :data:`SLACK`), and left no process behind in its session;
3. its peak RSS stayed under a bound (tight for the length-lie rows);
4. the report accounts for every input exactly once per send, with the
   expected outcome, and every failure row carries an error text;
5. the association ended cleanly (the hostile peer's record: release after a
   normal end, A-ABORT after a protocol error) and the sender broke no rule
   the peer could see;
6. the exit code is the documented one.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.helpers.hostile import Session
from tests.helpers.peers import StorescpPeer
from tests.helpers.proc import child_env, tail
from tests.helpers.sender import sender_command

#: Start-up, imports and teardown of one CLI run on a loaded CI machine.
SLACK = 8.0
#: Peak RSS bound for every run (Python + pydicom's fast path is ~30-50 MB).
DEFAULT_MAX_RSS_MB = 160.0
#: Tight bound for the rows where a peer or a file claims a huge length.
TIGHT_MAX_RSS_MB = 100.0

#: Short timeouts that bound every fault run: -to, -ts, -ta, -td in seconds.
TIMEOUTS = ("-to", "5", "-ts", "5", "-ta", "5", "-td", "5")

EXIT_SUCCESS = 0
EXIT_FAILURE = 1
EXIT_INCOMPLETE = 3
EXIT_NETWORK = 10
EXIT_SIGINT = 130
EXIT_SIGTERM = 143


@dataclass
class CliRun:
    """One finished CLI run."""

    argv: list[str]
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    maxrss_mb: float
    report: Path | None
    rss_samples: list[tuple[float, float, int]] = field(default_factory=list)
    leftover: bool = False

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def rows(self) -> list[dict[str, object]]:
        """The report's rows (JSON Lines)."""
        if self.report is None or not self.report.exists():
            return []
        return [json.loads(line) for line in self.report.read_text().splitlines() if line.strip()]

    def describe(self, limit: int = 6000) -> str:
        def cut(text: str) -> str:
            return text if len(text) <= limit else "[...]\n" + text[-limit:]

        return (
            f"$ {' '.join(self.argv)}\n"
            f"exit {self.returncode} after {self.seconds:.2f} s, peak RSS {self.maxrss_mb:.1f} MB\n"
            f"--- stdout ---\n{cut(self.stdout)}\n--- stderr ---\n{cut(self.stderr)}"
        )


def _memory_mb(pid: int) -> tuple[float, float] | None:
    """(VmRSS, VmHWM) of a running process in MB, from /proc (None once it is gone)."""
    found: dict[str, float] = {}
    with contextlib.suppress(OSError, ValueError), open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(("VmRSS:", "VmHWM:")):
                found[line[:5]] = int(line.split()[1]) / 1024
    if len(found) < 2:
        return None
    return found["VmRSS"], found["VmHWM"]


def _count_lines(path: Path | None) -> int:
    if path is None:
        return 0
    try:
        with open(path, "rb") as handle:
            return sum(1 for _ in handle)
    except OSError:
        return 0


def run_cli(
    args: Sequence[str | os.PathLike[str]],
    *,
    report: Path | None,
    timeout: float = 120.0,
    cwd: Path | None = None,
    sample_every: float | None = None,
    signal_when: tuple[Callable[[], bool], int] | None = None,
) -> CliRun:
    """Run the CLI with ``args`` (``--report`` is added when ``report`` is given).

    The peak RSS is the child's VmHWM as last seen in /proc (polled every few
    ms; it only grows), not ``ru_maxrss``: a child spawned by a big test process
    inherits that process's high-water mark in ``ru_maxrss`` (Linux records the
    old mm's peak at exec, and vfork lends the parent's mm).

    ``timeout`` is the hard limit (the process group is killed and the test
    fails); invariant 2's budget is checked separately by :func:`check`.
    ``signal_when=(predicate, signum)`` sends ``signum`` once ``predicate()``.
    """
    argv = sender_command()
    if report is not None:
        argv += ["--report", str(report)]
    argv += [os.fspath(a) for a in args]
    work = Path(report).parent if report is not None else Path(cwd or ".")
    out_path = work / f".stdout-{time.monotonic_ns()}"
    err_path = work / f".stderr-{time.monotonic_ns()}"
    samples: list[tuple[float, float, int]] = []
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        start = time.monotonic()
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            cwd=cwd,
            env=child_env(),
            start_new_session=True,
        )
        signalled = False
        next_sample = start
        killed = False
        peak: float | None = None
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            now = time.monotonic()
            memory = _memory_mb(proc.pid)
            if memory is not None:
                peak = memory[1]
                if sample_every is not None and now >= next_sample:
                    samples.append((now - start, memory[0], _count_lines(report)))
                    next_sample = now + sample_every
            if signal_when is not None and not signalled and signal_when[0]():
                os.kill(proc.pid, signal_when[1])
                signalled = True
            if now - start > timeout and not killed:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                killed = True
            time.sleep(0.005)
        seconds = time.monotonic() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    leftover = True
    try:
        os.killpg(proc.pid, 0)
    except ProcessLookupError:
        leftover = False
    if leftover:  # never let a stray child outlive the test
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    run = CliRun(
        argv,
        proc.returncode,
        out_path.read_bytes().decode("utf-8", "replace"),
        err_path.read_bytes().decode("utf-8", "replace"),
        seconds,
        peak if peak is not None else usage.ru_maxrss / 1024,  # ru_maxrss: kilobytes
        report,
        samples,
        leftover,
    )
    out_path.unlink()
    err_path.unlink()
    if killed:
        pytest.fail(f"the sender hung: killed after {timeout} s\n{run.describe()}", pytrace=False)
    return run


Expected = str | Sequence[str]


def check(
    run: CliRun,
    *,
    exit_code: int,
    outcomes: dict[str, Expected] | Sequence[tuple[str, Expected]],
    causes: Sequence[str],
    names: Sequence[str] = (),
    budget: float = 0.0,
    max_rss_mb: float = DEFAULT_MAX_RSS_MB,
    sessions: Sequence[Session] | None = None,
    endings: Sequence[str] | None = None,
    abort: tuple[int, int] | None = None,
) -> None:
    """Assert the six invariants (see the module docstring).

    ``outcomes`` maps each input path to its outcome, or to the list of its
    outcomes (``--repeat``), in report order. ``causes`` are substrings the
    messages must contain (case-insensitive); at least one of ``names`` (the
    file or the peer) must appear too. ``budget`` is the sum of the timeouts
    expected to fire (:data:`SLACK` is added). ``endings`` are the hostile
    peer's records per session (``release``, ``abort``, ``closed``); with
    ``abort`` the A-ABORT's (source, reason) is checked as well.
    """
    info = run.describe()
    text = run.output
    lowered = text.lower()
    # 1. no traceback; the message says who and why
    assert "Traceback" not in text, info
    assert "internal error" not in lowered, info
    for cause in causes:
        assert cause.lower() in lowered, f"cause {cause!r} not in the messages\n{info}"
    if names:
        assert any(name.lower() in lowered for name in names), (
            f"none of {list(names)} named in the messages\n{info}"
        )
    # 2. bounded in time, nothing left behind
    limit = budget + SLACK
    assert run.seconds <= limit, f"took {run.seconds:.1f} s, budget {limit:.1f} s\n{info}"
    assert not run.leftover, f"processes left behind in the sender's session\n{info}"
    # 3. bounded memory
    assert run.maxrss_mb <= max_rss_mb, f"peak RSS {run.maxrss_mb:.1f} MB > {max_rss_mb} MB\n{info}"
    # 4. every input accounted for exactly once per send
    expected = list(outcomes.items()) if isinstance(outcomes, dict) else list(outcomes)
    rows = run.rows()
    seen: dict[str, list[str]] = {}
    for row in rows:
        seen.setdefault(str(row["path"]), []).append(str(row["outcome"]))
        if row["outcome"] not in ("sent", "sent-with-warning", "skipped-already-sent"):
            assert row["error"], f"row without an error text: {row}\n{info}"
    want = {path: [value] if isinstance(value, str) else list(value) for path, value in expected}
    assert seen == want, f"report {seen} != expected {want}\n{info}"
    assert [str(r["path"]) for r in rows] == [
        path for path, value in expected for _ in ([value] if isinstance(value, str) else value)
    ], f"report order differs\n{info}"
    # 5. clean association end, no protocol violation by the sender
    if sessions is not None and endings is not None:
        got = [s.ending for s in sessions]
        assert got == list(endings), f"association endings {got} != {list(endings)}\n{info}"
        for session in sessions:
            assert not session.errors, f"the sender broke the protocol: {session.errors}\n{info}"
        if abort is not None:
            aborted = [s.abort for s in sessions if s.ending == "abort"]
            assert aborted and all(a == abort for a in aborted), (
                f"A-ABORT {aborted} != {abort}\n{info}"
            )
    # 6. the documented exit code
    assert run.returncode == exit_code, f"exit {run.returncode} != {exit_code}\n{info}"


def storescp_endings(peer: StorescpPeer, count: int = 1, timeout: float = 5.0) -> list[str]:
    """How DCMTK storescp (``-v``) saw its associations end: ``release``, ``abort``
    (ours), or ``peer-aborted`` (its own, with ``--abort-after``/``--abort-during``).

    Waits (bounded) until its log shows ``count`` endings.
    """
    deadline = time.monotonic() + timeout
    while True:
        log = tail(peer.process.log_path, 200_000)
        endings = []
        for block in log.split("I: Association Received")[1:]:  # one per association
            for line in block.splitlines():
                if line.startswith("I: Association Release"):
                    endings.append("release")
                elif "Association Aborted" in line:
                    endings.append("abort")
                elif "ABORT initiated" in line:  # --abort-after / --abort-during
                    endings.append("peer-aborted")
                else:
                    continue
                break
        if len(endings) >= count or time.monotonic() > deadline:
            return endings
        time.sleep(0.02)
