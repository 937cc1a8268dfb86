"""The Asynchronous Operations Window (PS3.7 D.3.3.3) in the run: C-STOREs under way.

Theory of operation
-------------------
With a window proposed (``--max-ops-invoked``) a send does not wait for its
response: ``WindowedSender._start_one`` starts the C-STORE and leaves it
in ``_under_way`` by Message ID (a ``_Pending``: what its result is made
of); a response, in any order, is judged and recorded when the window must
make room, when the association ends, or when the run halts (the requests
already under way then finish and are recorded first). An association lost
with requests under way records each of them once: failed-outcome-unknown
when its request went out whole, else not-sent. A peer that grants no window
gets one request at a time through the same path (a window of 1).

``--retry`` works with the window: a result that one association would retry
(A7xx out of resources; a request that never went out whole; an unknown
outcome with ``resend_unknown``, PS3.4 B.2.3 and PS3.7 8.1) is not recorded
but queued with its back-off (``retry_delay``, doubled per attempt); it is
sent again once due -- before the next input, or while the window drains --
on the association (opened again if it was lost), and only its last attempt
is recorded. So each input still gets exactly one row per send. A queued
retry counts as under way: Ctrl-C records its last attempt's result.
Invented identities (``+II``...) are kept per send only for the last send
(the dataset rewriter), so with them ``--retry`` keeps
to one request at a time.

Every result of the window goes through ``WindowedSender._deliver_pending``
(the parallel sender's workers number it by its input there).
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from storescu.kernel.errors import StorescuError
from storescu.kernel.records import dataclass
from storescu.run.filesender import _MAX_RETRY_DELAY, FileSender, _Step
from storescu.run.results import FileResult, Outcome

if TYPE_CHECKING:
    from storescu.net.client import AssociationSettings, StoreAssociation
    from storescu.protocol.negotiation import AcceptedContext
    from storescu.run.items import Reader, _Item
    from storescu.run.options import SendOptions
    from storescu.run.results import ResultCallback

__all__ = ["WindowedSender"]

log = logging.getLogger("storescu")

#: Why an input is not sent when an earlier result in the window halted the run.
_HALTED = "not sent: the run halted after an unsuccessful store"


@dataclass(slots=True)
class _Pending:
    """A C-STORE under way in the window (or queued for a retry): its result's parts."""

    item: _Item
    started: float
    verbose: bool
    base: dict[str, object]
    #: The send number (``+II`` and the rewriter key on it) and who sent it
    #: (a parallel worker's job; None on one association).
    send: int
    tag: object
    #: True once the request and its dataset went out whole.
    complete: bool = False
    attempts: int = 1
    delay: float = 0.0
    due: float = 0.0
    resent_unknown: bool = False
    #: The last attempt's result while a retry is queued.
    last: FileResult | None = None


class WindowedSender(FileSender):
    """A :class:`~storescu.run.filesender.FileSender` that keeps a window of C-STOREs under way."""

    def __init__(
        self,
        host: str,
        port: int,
        settings: AssociationSettings,
        options: SendOptions,
        on_result: ResultCallback | None = None,
        keep_results: bool = True,
    ) -> None:
        super().__init__(host, port, settings, options, on_result, keep_results)
        # The window's requests under way, by Message ID, the retries queued,
        # and whether one of their results halts the run.
        self._under_way: dict[int, _Pending] = {}
        self._retry: list[_Pending] = []
        self._halting = False
        #: What a new request's pending entry carries as its tag (see _Pending).
        self._pending_tag: object = None

    def _use_window(self) -> bool:
        """Whether sends go through the window (one is proposed; see the module notes)."""
        if self.settings.async_ops is None:
            return False
        rewriter = self._rewriter
        return not (self.options.retries and rewriter is not None and rewriter.inventor)

    def _send_one(self, item: _Item, repeat: int) -> _Step | None:
        if self._use_window():
            return self._start_one(item, repeat)
        return super()._send_one(item, repeat)

    def _end_association(self) -> None:
        if self._under_way or self._retry:
            self._drain()
        super()._end_association()

    # ------------------------------------------------------------ starting

    def _start_one(self, item: _Item, repeat: int) -> _Step | None:
        """Start one C-STORE of `item` in the window; a step when the run cannot go on.

        Makes room first (a response judged and recorded per free slot, PS3.7
        D.3.3.3: never more outstanding than the window), sending due retries
        first; a lost association is opened again for the next request. The
        result of this send is recorded when its response comes
        (:meth:`_collect`).
        """
        while True:
            if self._halting:
                return self._halt_in_window(item, repeat)
            if self._assoc is None and not self._associate(self._contexts):
                self._no_association()
                for _ in range(repeat, self.options.repeat):
                    self._record(self._result(item, Outcome.NOT_SENT, error="association failed"))
                return _Step.NO_ASSOCIATION_RECORDED
            assoc = self._assoc
            assert assoc is not None
            if assoc.outstanding.full:
                self._collect(assoc)
            elif not self._resend_due(time.perf_counter()):
                break
        opened = self._open_for_store(item, assoc)
        if isinstance(opened, FileResult):
            self._record(opened)
            self._note_failure(opened)
            if not opened.outcome.stored and self.options.halt:
                self._drain()
                return _Step.HALT
            return None
        if opened[1].length is None and self._under_way:
            # A streamed (compressed) dataset may have to be aborted midway:
            # nothing else may be under way then (run/compressing.py).
            self._drain()
            if self._assoc is not assoc or self._halting:
                opened[1].close()
                return self._start_one(item, repeat)
        if self._launch(item, assoc, opened, self._sends):
            return self._start_one(item, repeat)  # aborted midway: again, uncompressed
        if repeat == self.options.repeat - 1 and item.dataset is None:
            item.data = None  # sent: its bytes need not wait for the response
        return None

    def _launch(
        self,
        item: _Item,
        assoc: StoreAssociation,
        opened: tuple[AcceptedContext, Reader, str, float, bool],
        send: int,
        retried: _Pending | None = None,
    ) -> bool:
        """Send the request of `opened` (from :meth:`_open_for_store`) into the window.

        True when a compressed message was aborted midway and is not recorded:
        the caller sends it again, uncompressed (run/compressing.py).
        """
        context, reader, instance, started, verbose = opened
        assert item.info is not None
        message_id = assoc.next_message_id()
        base = self._request_fields(item, context, reader, instance, message_id, verbose)
        if retried is None:
            pending = _Pending(item, started, verbose, base, send, self._pending_tag)
            pending.delay = self.options.retry_delay
        else:
            pending = retried
            pending.started, pending.verbose, pending.base = started, verbose, base
            pending.complete = False
        with self._guard:  # from here on the pending entry accounts for this send
            self._under_way[message_id] = pending
            if retried is None:
                self._current_rows += 1  # a row of the input being sent
            else:
                self._retry.remove(retried)
        try:
            assoc.start_store(
                context, item.info.sop_class_uid, instance, reader, message_id, self._priority
            )
            pending.complete = True
            pending.base["bytes"] = assoc.dataset_bytes_sent  # unknown beforehand when streamed
        except StorescuError as exc:
            compressing = self._compressing
            if retried is None and compressing is not None and compressing.midway(item):
                with self._guard:  # not recorded: it is sent again, uncompressed
                    del self._under_way[message_id]
                    self._current_rows -= 1
                self._lost(exc)  # nothing else is under way (see _start_one)
                return True
            # Only the dataset bytes that went out count (issue 14.4).
            pending.base["bytes"] = assoc.dataset_bytes_sent
            self._lost(exc)
        finally:
            reader.close()
        return False

    def _halt_in_window(self, item: _Item, repeat: int) -> _Step:
        """A response in the window halted the run: finish what is under way, stop."""
        self._drain()
        for _ in range(repeat, self.options.repeat):
            self._record(self._result(item, Outcome.NOT_SENT, error=_HALTED))
        return _Step.HALT

    # ------------------------------------------------------------ responses

    def _collect(self, assoc: StoreAssociation) -> None:
        """Wait for one response (any outstanding Message ID) and record its result."""
        try:
            message_id, response = assoc.next_store_response()
        except StorescuError as exc:
            self._lost(exc)
            return
        with self._guard:  # taken from the window and recorded in one step
            pending = self._under_way.pop(message_id)
            result, retryable = self._judge_response(
                pending.item, response, pending.started, pending.verbose, pending.base
            )
            if self._compressing is not None:  # --compress auto: the link's rate
                self._compressing.observe(result)
            self._settle(message_id, pending, result, retryable)

    def _drain(self) -> None:
        """Wait for every request under way and every retry (the association ends, or
        the run halts)."""
        while (self._under_way or self._retry) and self._drain_step():
            pass

    def _drain_step(self) -> bool:
        """One step of :meth:`_drain`: a response, or a retry sent when due; False when
        nothing more can be done (what was under way is recorded)."""
        assoc = self._assoc
        if self._under_way and assoc is not None:
            self._collect(assoc)
            return True
        if self._under_way:  # no association to answer them
            self._abandon_pending("the association ended before the response came")
            return False
        # Only retries are left: wait for the first one due and send it.
        wait = min(p.due for p in self._retry) - time.perf_counter()
        if wait > 0:
            self._sleep(wait)
        if self._assoc is None and not self._associate(self._contexts):
            self._no_association()
            return False
        self._resend_due(time.perf_counter())
        return True

    def _lost(self, exc: StorescuError) -> None:
        """The association is gone: every request under way ends once (PS3.7 D.3.3.3)."""
        self._assoc = None
        for message_id in list(self._under_way):
            with self._guard:
                pending = self._under_way.pop(message_id)
                seconds = time.perf_counter() - pending.started
                if pending.complete:
                    log.error("Store SCU Failed: %s: %s", pending.item.path, exc)
                    outcome = Outcome.FAILED_OUTCOME_UNKNOWN
                else:  # PS3.7 8.1: an incomplete message cannot have been stored
                    log.error(
                        "Store SCU Failed before the request was complete: %s: %s",
                        pending.item.path,
                        exc,
                    )
                    outcome = Outcome.NOT_SENT
                result = self._result(
                    pending.item,
                    outcome,
                    error=str(exc),
                    seconds=seconds,
                    network_failure=True,
                    **pending.base,
                )
                self._settle(message_id, pending, result, True)

    def _settle(
        self, message_id: int, pending: _Pending, result: FileResult, retryable: bool
    ) -> None:
        """The outcome of one attempt: queue a retry (``--retry``) or record it."""
        retries = self.options.retries
        if result.outcome is Outcome.FAILED_OUTCOME_UNKNOWN and not self.options.resend_unknown:
            retryable = False
        if not retryable or pending.attempts > retries:
            result.attempts = pending.attempts
            if pending.resent_unknown:
                result.resent_after_unknown = True
            self._deliver_pending(message_id, pending, result)
            return
        log.warning(
            "Retrying %s in %.1f s (retry %d of %d): %s",
            pending.item.path,
            pending.delay,
            pending.attempts,
            retries,
            result.error,
        )
        if result.outcome is Outcome.FAILED_OUTCOME_UNKNOWN:
            pending.resent_unknown = True
        pending.due = time.perf_counter() + pending.delay
        pending.delay = min(pending.delay * 2, _MAX_RETRY_DELAY)
        pending.attempts += 1
        pending.last = result
        self._retry.append(pending)

    def _resend_due(self, now: float) -> bool:
        """Send the first retry that is due into the window; False when none is."""
        due = next((p for p in self._retry if p.due <= now), None)
        if due is None:
            return False
        assoc = self._assoc
        assert assoc is not None
        while assoc.outstanding.full and self._assoc is assoc:
            self._collect(assoc)
        if self._assoc is not assoc:
            return True  # lost while making room: the caller opens another
        # Queued until it is in the window (or recorded): Ctrl-C finds it there.
        sends, self._sends = self._sends, due.send  # a retry keeps its send's identity
        try:
            opened = self._open_for_store(due.item, assoc)
        finally:
            self._sends = sends
        if isinstance(opened, FileResult):
            opened.attempts = due.attempts
            with self._guard:
                self._retry.remove(due)
                self._deliver_pending(None, due, opened)
            return True
        self._launch(due.item, assoc, opened, due.send, retried=due)
        return True

    def _no_association(self) -> None:
        """No association for the retries queued: each is recorded as its last attempt."""
        for pending in list(self._retry):
            with self._guard:
                self._retry.remove(pending)
                assert pending.last is not None
                self._deliver_pending(None, pending, pending.last)

    def _abandon_pending(self, error: str) -> None:
        """Ctrl-C (or no association): each request under way is failed-outcome-unknown,
        each retry queued its last attempt's result."""
        for message_id in list(self._under_way):
            with self._guard:
                pending = self._under_way.pop(message_id)
                self._deliver_pending(
                    message_id,
                    pending,
                    self._result(
                        pending.item, Outcome.FAILED_OUTCOME_UNKNOWN, error=error, **pending.base
                    ),
                )
        self._no_association()

    def _deliver_pending(
        self, message_id: int | None, pending: _Pending, result: FileResult
    ) -> None:
        """Record the final result of a request from the window (counted at its start)."""
        with self._guard:
            rows, in_flight = self._current_rows, self._in_flight
            self._record(result)
            self._current_rows, self._in_flight = rows, in_flight
        self._note_failure(result)
        if not result.outcome.stored and self.options.halt:
            self._halting = True
