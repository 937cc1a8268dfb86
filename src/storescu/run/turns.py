"""Invented identities (``+II``...) in send order across the workers of ``-P``.

With several associations the sends of a run are made side by side, but
DCMTK's counters must advance in input order, as on one association:
:class:`IdentityTurns` lets each send take its identity only when every
earlier send took one or turned out to need none.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from storescu.dataset.identity import Identity, Inventor

__all__ = ["IdentityTurns", "Stopped", "TurnTaker", "turn_inventor"]


class Stopped(BaseException):
    """Raised in a worker when the run stops: unwind without recording anything.

    A BaseException, like KeyboardInterrupt, so that no ``except Exception``
    on the way (the rewriter wraps pydicom's errors) swallows it.
    """


class TurnTaker(Protocol):
    """A worker: its send number counts each send before it is made."""

    _sends: int


class IdentityTurns:
    """Hands out invented identities (``+II``) in send order across the workers.

    Every send number of every input handed out is *resolved* exactly once:
    by taking an identity (:meth:`take`) or by :meth:`resolve` (the send
    needed none, never happened, or was taken back). A send takes its
    identity only when all lower numbers are resolved, so the inventor's
    counters see the sends in the order one association would make them.
    """

    def __init__(self, inventor: Inventor, stop: threading.Event) -> None:
        self._inventor = inventor
        self._stop = stop
        self._cond = threading.Condition()
        self._next = 1  # the lowest send number not resolved yet
        self._resolved: set[int] = set()  # resolved numbers above _next

    def take(self, send: int) -> Identity:
        with self._cond:
            while self._next != send:
                if self._stop.is_set():
                    raise Stopped
                if send < self._next or send in self._resolved:
                    raise RuntimeError(f"identity of send {send} taken twice")
                self._cond.wait()
            identity = self._inventor.next()
            self._mark(send)
            return identity

    def resolve(self, sends: range) -> None:
        with self._cond:
            for send in sends:
                if send >= self._next and send not in self._resolved:
                    self._mark(send)

    def wake(self) -> None:
        with self._cond:
            self._cond.notify_all()

    def _mark(self, send: int) -> None:
        if send != self._next:
            self._resolved.add(send)
            return
        self._next += 1
        while self._next in self._resolved:
            self._resolved.remove(self._next)
            self._next += 1
        self._cond.notify_all()


def turn_inventor(turns: IdentityTurns, worker: TurnTaker) -> Inventor:
    """An Inventor for `worker`'s rewriter that takes its turn before each identity."""
    from storescu.dataset.identity import Inventor

    class _TurnInventor(Inventor):
        def __init__(self) -> None:  # the counters live in the shared inventor
            pass

        def next(self) -> Identity:
            # FileSender._send_item numbers each send before making it.
            return turns.take(worker._sends)

    return _TurnInventor()
