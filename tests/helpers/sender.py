"""Run the sender under test: ours by default, DCMTK's with ``STORESCU_CMD``.

``STORESCU_CMD`` is split like a shell command line, e.g.
``STORESCU_CMD=/usr/bin/storescu`` runs the interop suite with DCMTK's storescu as
the sender, which validates the harness and the expectations against the reference
implementation. Tests of behaviour where we deliberately differ from DCMTK use
:data:`skip_if_dcmtk_sender`.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers.proc import child_env

DCMTK_STORESCU = "/usr/bin/storescu"


def sender_command() -> list[str]:
    """The argv prefix that starts the sender."""
    raw = os.environ.get("STORESCU_CMD", "").strip()
    if raw:
        return shlex.split(raw)
    return [sys.executable, "-m", "storescu"]


def sender_is_dcmtk() -> bool:
    """True when ``STORESCU_CMD`` points at DCMTK's storescu (reference mode)."""
    if os.environ.get("STORESCU_IS_DCMTK") == "1":
        return True
    cmd = sender_command()
    if len(cmd) != 1:
        return False
    try:
        return Path(cmd[0]).resolve() == Path(DCMTK_STORESCU).resolve()
    except OSError:
        return False


SENDER_IS_DCMTK = sender_is_dcmtk()

#: For tests of behaviour where this project deliberately differs from DCMTK.
skip_if_dcmtk_sender = pytest.mark.skipif(
    SENDER_IS_DCMTK, reason="deliberate difference from DCMTK (reference-sender mode)"
)


@dataclass(frozen=True)
class SendResult:
    """Outcome of one sender run."""

    argv: list[str]
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def output(self) -> str:
        """stdout and stderr together (log lines may go to either)."""
        return self.stdout + self.stderr

    def describe(self, limit: int = 8000) -> str:
        def cut(text: str) -> str:
            return text if len(text) <= limit else "[...]\n" + text[-limit:]

        return (
            f"$ {shlex.join(self.argv)}\n"
            f"exit code {self.returncode} after {self.seconds:.2f}s\n"
            f"--- stdout ---\n{cut(self.stdout)}\n--- stderr ---\n{cut(self.stderr)}"
        )


def run_sender(
    args: Sequence[str | os.PathLike[str]],
    *,
    timeout: float = 120.0,
    cwd: Path | None = None,
) -> SendResult:
    """Run the sender with ``args`` (options, peer, port, files) and wait for it.

    A sender that hangs past ``timeout`` is killed and the test fails with whatever it
    printed so far.
    """
    argv = sender_command() + [os.fspath(a) for a in args]
    start = time.monotonic()
    proc = subprocess.Popen(
        argv,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=cwd,
        env=child_env(),
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # the sender and anything it started
        out, err = proc.communicate()
        result = SendResult(
            argv,
            -9,
            out.decode("utf-8", "replace"),
            err.decode("utf-8", "replace"),
            time.monotonic() - start,
        )
        pytest.fail(f"sender timed out after {timeout}s\n{result.describe()}")
    return SendResult(
        argv,
        proc.returncode,
        out.decode("utf-8", "replace"),
        err.decode("utf-8", "replace"),
        time.monotonic() - start,
    )


def send_to(
    peer: object,
    files: Sequence[str | os.PathLike[str]],
    *options: str,
    expect: int | None = 0,
    timeout: float = 120.0,
) -> SendResult:
    """Send ``files`` to ``peer`` (anything with ``host`` and ``port``) with ``options``.

    Fails the test with the sender's full output unless it exits with ``expect``
    (``None``: any exit code).
    """
    host = getattr(peer, "host")  # noqa: B009 - duck-typed peer
    port = getattr(peer, "port")  # noqa: B009
    result = run_sender([*options, host, str(port), *files], timeout=timeout)
    if expect is not None and result.returncode != expect:
        pytest.fail(
            f"sender exited {result.returncode}, expected {expect}\n{result.describe()}",
            pytrace=False,
        )
    return result
