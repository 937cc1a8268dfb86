"""Loopback port helpers: pick a free port, wait until something listens on one."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

LOOPBACK = "127.0.0.1"


def free_port(host: str = LOOPBACK) -> int:
    """Return a TCP port that was free a moment ago.

    The port is only *probably* free when the caller binds it (another process may
    take it in between); peers that cannot be told to bind port 0 retry with a new
    port when their start fails (see :mod:`tests.helpers.peers`).
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def wait_for_port(
    host: str,
    port: int,
    deadline: float,
    *,
    alive: Callable[[], bool] | None = None,
) -> None:
    """Block until a TCP connect to ``host:port`` succeeds.

    ``deadline`` is an absolute :func:`time.monotonic` value. Connection attempts are
    repeated with a short, growing back-off (1 ms .. 50 ms), never a blind sleep.
    ``alive`` (e.g. "the server process has not exited") is checked between attempts
    so a peer that died at start-up fails fast instead of running into the deadline.

    Raises :class:`TimeoutError` when the deadline passes and :class:`RuntimeError`
    when ``alive()`` turns false.
    """
    delay = 0.001
    last_error: OSError | None = None
    while True:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError as exc:
            last_error = exc
        if alive is not None and not alive():
            raise RuntimeError(f"server for {host}:{port} exited before it listened")
        now = time.monotonic()
        if now >= deadline:
            raise TimeoutError(f"nothing listening on {host}:{port}: {last_error}")
        time.sleep(min(delay, max(0.0, deadline - now)))
        delay = min(delay * 2, 0.05)


def wait_until(
    predicate: Callable[[], bool],
    deadline: float,
    what: str,
    *,
    alive: Callable[[], bool] | None = None,
) -> None:
    """Poll ``predicate`` with the same short back-off until true or the deadline."""
    delay = 0.001
    while not predicate():
        if alive is not None and not alive():
            raise RuntimeError(f"process exited while waiting for {what}")
        now = time.monotonic()
        if now >= deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(min(delay, max(0.0, deadline - now)))
        delay = min(delay * 2, 0.05)
