"""Ctrl-C at a safe point: keep KeyboardInterrupt out of short bookkeeping steps.

Python raises KeyboardInterrupt between almost any two bytecodes, also between
taking the next input from an iterator and remembering it, or between writing
a report row and counting it: an input could be lost or counted twice. While
a run goes on in the main thread with Python's default SIGINT handler,
:class:`InterruptGuard` installs its own: inside a guarded step a first
Ctrl-C is held until the step ends, then raised; a second one is raised at
once (so a step stuck on a hung file system can still be left). Outside
guarded steps — sending, waiting for the peer — Ctrl-C acts at once, as usual.

SIGTERM (``kill``, a service manager stopping the job) gets the same treatment
when its handler is the default one: it raises :class:`Terminated`, a
KeyboardInterrupt, so the run aborts the association and records every input
just as for Ctrl-C; the command line tells the two apart by the exit code
(130 for SIGINT, 143 for SIGTERM, the shell's 128 + signal number).
"""

from __future__ import annotations

import signal
import threading
from types import FrameType, TracebackType
from typing import Any

__all__ = ["InterruptGuard", "Terminated"]


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived during a run (handled like Ctrl-C, see the module docstring)."""


def _interrupt(signum: int) -> KeyboardInterrupt:
    return Terminated() if signum == signal.SIGTERM else KeyboardInterrupt()


class InterruptGuard:
    """A context manager for guarded steps; :meth:`install` makes it effective.

    Without :meth:`install` (another thread, or a program with its own SIGINT
    handler) entering and leaving it does nothing else.
    """

    def __init__(self) -> None:
        self._depth = 0
        self._pending = 0  # the signal held inside a guarded step (0: none)
        self._previous: Any = None
        self._previous_term: Any = None
        self.installed = False
        self.installed_term = False

    def install(self) -> None:
        """Take over SIGINT (and SIGTERM) where the default handlers are in place.

        Only in the main thread; SIGINT when its handler is Python's default,
        SIGTERM when it is the system default (a program's own handler is kept).
        """
        if threading.current_thread() is not threading.main_thread():
            return
        if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            self._previous = signal.signal(signal.SIGINT, self._handle)
            self.installed = True
        if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
            self._previous_term = signal.signal(signal.SIGTERM, self._handle)
            self.installed_term = True

    def uninstall(self) -> None:
        """Give SIGINT and SIGTERM back; raise an interrupt that is still held."""
        if self.installed:
            signal.signal(signal.SIGINT, self._previous)
            self.installed = False
        if self.installed_term:
            signal.signal(signal.SIGTERM, self._previous_term)
            self.installed_term = False
        if self._pending:
            signum, self._pending = self._pending, 0
            raise _interrupt(signum)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self._depth and not self._pending:
            self._pending = signum
            return
        raise _interrupt(signum)

    def __enter__(self) -> InterruptGuard:
        self._depth += 1
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._depth -= 1
        if self._depth == 0 and self._pending and kind is None:
            signum, self._pending = self._pending, 0
            raise _interrupt(signum)
