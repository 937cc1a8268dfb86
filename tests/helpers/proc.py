"""Start and stop peer processes so that nothing outlives a test.

Every process is started in its own session (process group); stopping it signals
the whole group (SIGTERM, then SIGKILL after a grace period), so children such as
``storescp --fork`` workers or shell wrappers die with it. Output goes to a log
file next to the peer's data, which tests show when something fails.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Sequence
from pathlib import Path

#: How much of a log to show in failure messages.
LOG_TAIL_CHARS = 6000


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """Environment for peers and senders.

    ``TCP_NODELAY=1``: DCMTK 3.6.7 as packaged by Debian leaves Nagle's algorithm on
    unless this is set, which costs ~40-80 ms per C-STORE on loopback (delayed ACKs)
    and would make every DCMTK peer look slow.
    """
    env = dict(os.environ)
    env.setdefault("TCP_NODELAY", "1")
    env.update(extra or {})
    return env


def tail(path: Path, limit: int = LOG_TAIL_CHARS) -> str:
    """The last ``limit`` characters of a text log, or a note when there is none."""
    try:
        data = path.read_bytes()
    except OSError:
        return f"<no log at {path}>"
    text = data[-limit:].decode("utf-8", "replace")
    return ("[...]\n" + text) if len(data) > limit else text


class ManagedProcess:
    """A background process with its stdout+stderr in ``log_path``."""

    def __init__(
        self,
        argv: Sequence[str],
        log_path: Path,
        *,
        cwd: Path | None = None,
        env: dict[str, str] | None = None,
        name: str | None = None,
    ) -> None:
        self.argv = [str(a) for a in argv]
        self.log_path = log_path
        self.name = name or Path(self.argv[0]).name
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(log_path, "ab")  # noqa: SIM115 - closed in stop()
        try:
            self.popen = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=subprocess.STDOUT,
                cwd=cwd,
                env=child_env() if env is None else env,
                start_new_session=True,
            )
        except BaseException:
            self._log.close()
            raise

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def log(self) -> str:
        self._log.flush()
        return tail(self.log_path)

    def describe(self) -> str:
        rc = self.popen.poll()
        state = "running" if rc is None else f"exited with {rc}"
        return f"{self.name} (pid {self.pid}, {state})\n$ {' '.join(self.argv)}\n{self.log()}"

    def stop(self, grace: float = 5.0) -> int | None:
        """Terminate the process group; return the exit code (None if it was killed)."""
        if self.popen.poll() is None:
            self._signal_group(signal.SIGTERM)
            try:
                self.popen.wait(grace)
            except subprocess.TimeoutExpired:
                self._signal_group(signal.SIGKILL)
                self.popen.wait(grace)
        # Children that ignored SIGTERM or outlived the leader die too.
        self._signal_group(signal.SIGKILL)
        self._log.close()
        return self.popen.returncode

    def _signal_group(self, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, sig)

    def __enter__(self) -> ManagedProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
