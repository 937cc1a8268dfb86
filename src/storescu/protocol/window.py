"""The Asynchronous Operations Window (PS3.7 D.3.3.3), without any I/O.

Theory of operation
-------------------
The association-requestor proposes, in the A-ASSOCIATE-RQ's user information
(sub-item 0x53, PS3.7 D.3.3.3.1), how many operations it may invoke without
waiting for their responses (*maximum-number-operations-invoked*) and how many
it may perform at a time (*maximum-number-operations-performed*); 0 means
unlimited. The acceptor answers in the A-ASSOCIATE-AC (D.3.3.3.2) with the
numbers that hold on the association, from the requestor's side: its
*invoked* value is what the requestor may invoke (at most what was proposed),
its *performed* value what the requestor may be asked to perform. An
association without the sub-item (in the RQ or the AC) is synchronous: one
outstanding operation each way (D.3.3.3, the default of 1).

A Storage SCU only invokes (C-STORE requests), so its window is
:func:`negotiated_window`: the smaller of what it proposed to invoke and what
the acceptor granted, never more than it proposed (a peer answering more than
was asked is held to the proposal), 0 on both sides capped at
:data:`UNLIMITED_WINDOW_CAP` so that memory stays bounded.

:class:`Outstanding` is the rule on the association itself: a request is
added before its first byte goes out, and adding one more than the window
allows is a :class:`~storescu.kernel.errors.LocalProtocolError` (our bug,
never sent); a response is matched by its Message ID Being Responded To
(PS3.7 9.3.1.2) in any order, and a response for a Message ID that is not
outstanding is a :class:`~storescu.kernel.errors.RemoteProtocolError` (the
driver aborts the association, PS3.7 D.3.3.3 leaves no other answer).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final, Generic, TypeVar

from storescu.kernel.errors import LocalProtocolError, RemoteProtocolError

__all__ = [
    "MAX_WINDOW_VALUE",
    "UNLIMITED_WINDOW_CAP",
    "Outstanding",
    "answer_window",
    "negotiated_window",
]

#: The largest value the sub-item's 16-bit fields can carry (PS3.7 Table D.3-7).
MAX_WINDOW_VALUE: Final = 0xFFFF

#: What "unlimited" (0) becomes on our side: requests in flight each hold a
#: prepared input, so the number stays bounded.
UNLIMITED_WINDOW_CAP: Final = 128

_T = TypeVar("_T")


def _as_limit(value: int) -> int:
    """A window value as a count (0, unlimited, becomes the cap)."""
    return UNLIMITED_WINDOW_CAP if value == 0 else min(value, UNLIMITED_WINDOW_CAP)


def negotiated_window(proposed: tuple[int, int] | None, answered: tuple[int, int] | None) -> int:
    """How many operations the requestor may have outstanding (PS3.7 D.3.3.3).

    Parameters
    ----------
    proposed : (invoked, performed) or None
        Our A-ASSOCIATE-RQ's sub-item; None when it carried none.
    answered : (invoked, performed) or None
        The A-ASSOCIATE-AC's sub-item; None when the acceptor omitted it.

    Returns
    -------
    int
        At least 1: 1 when either side left the item out.
    """
    if proposed is None or answered is None:
        return 1
    return max(1, min(_as_limit(proposed[0]), _as_limit(answered[0])))


def answer_window(proposed: tuple[int, int] | None, limit: int) -> tuple[int, int] | None:
    """The acceptor's answer to a proposed window (PS3.7 D.3.3.3.2).

    `limit` is how many operations the acceptor performs for the requestor
    at a time; it performs them in order and invokes none itself, so the
    answer is (min(proposed invoked, limit), 1). None (no sub-item in the AC)
    when none was proposed: the association stays synchronous.
    """
    if proposed is None:
        return None
    invoked = proposed[0]
    granted = limit if invoked == 0 else min(invoked, limit)
    return (max(1, min(granted, MAX_WINDOW_VALUE)), 1)


class Outstanding(Generic[_T]):
    """The requests under way on one association, by Message ID.

    Parameters
    ----------
    limit : int
        The negotiated window (:func:`negotiated_window`), at least 1.
    """

    __slots__ = ("_entries", "limit", "peak")

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError(f"a window holds at least one request, not {limit}")
        self.limit = limit
        #: The most requests that were outstanding at once.
        self.peak = 0
        self._entries: dict[int, _T] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, message_id: object) -> bool:
        return message_id in self._entries

    def __iter__(self) -> Iterator[int]:
        return iter(list(self._entries))

    @property
    def full(self) -> bool:
        """True when another request would exceed the window."""
        return len(self._entries) >= self.limit

    def add(self, message_id: int, entry: _T) -> None:
        """Record a request about to be sent.

        Raises
        ------
        LocalProtocolError
            The window is full, or `message_id` is already outstanding (PS3.7
            9.1.1.1: a Message ID is unique among the outstanding requests).
        """
        if message_id in self._entries:
            raise LocalProtocolError(f"MsgID {message_id} is already outstanding")
        if len(self._entries) >= self.limit:
            raise LocalProtocolError(
                f"{len(self._entries)} requests outstanding: the window of {self.limit} is full"
            )
        self._entries[message_id] = entry
        self.peak = max(self.peak, len(self._entries))

    def complete(self, message_id: int | None) -> _T:
        """The request a response answers, no longer outstanding.

        Raises
        ------
        RemoteProtocolError
            No request with this Message ID is outstanding (PS3.7 9.3.1.2).
        """
        if message_id is None or message_id not in self._entries:
            outstanding = ", ".join(str(m) for m in self._entries) or "none"
            raise RemoteProtocolError(
                f"response is for MsgID {message_id}, which is not outstanding "
                f"(outstanding: {outstanding})"
            )
        return self._entries.pop(message_id)

    def drain(self) -> list[_T]:
        """Every outstanding entry, oldest first; the window is then empty."""
        entries = list(self._entries.values())
        self._entries.clear()
        return entries
