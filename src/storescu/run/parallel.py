"""Parallel associations (``-P N``): one run's inputs sent over N associations at once.

Theory of operation
-------------------
Without an Asynchronous Operations Window (PS3.7 D.3.3.3) one association is
strictly request/response: each C-STORE waits for the peer to store the
instance and answer. A peer that ingests slowly per instance (a PACS writing
to a database) or a link with a long round trip keeps one association idle
most of the time; N associations keep N stores under way -- and with a
window (:mod:`storescu.run.windowed`) N x window: a worker takes its next
input while its requests are under way, collects their responses while no
input waits, and numbers each result by the input it belongs to
(``_Pending.tag``); an input is finished for the coordinator once its last
request's result is in.

:class:`ParallelSender` is a :class:`~storescu.run.sender.Sender` whose run loop
is the same -- reading the inputs, planning batches of at most 128 contexts,
halting, accounting on Ctrl-C -- except for the one step that sends an input
(``_process``): it hands the input to a pool of N worker threads instead.
Each worker is a Sender too, with its own
:class:`~storescu.net.client.StoreAssociation` (the sans-IO core is per
association), opened for its first input, renewed when the batch's proposal
changes, released (or aborted, ``--abort``) at the end; ``--retry`` works per
association. The calling thread (the coordinator) never sends.

What stays exactly as with one association:

* Accounting: every input gets exactly the rows it would get (one per
  ``--repeat``), by the same rules. Rows are numbered when their input is
  taken and delivered -- to ``RunResult.results``, the counts and
  ``on_result`` -- in *sending order* (input order; batch by batch past 128
  contexts), always from the calling thread, whatever order the stores
  complete in. Only ``association``, ``message_id``, ``seconds`` and the
  report's ``time`` differ.
* Invented identities (``+II`` ...): DCMTK's counters advance in input order.
  A send takes its identity only after every earlier send took one or turned
  out to need none (no presentation context, cannot be converted), so each
  input gets the counters it gets on one association. (Such sends wait for
  each other at that point; their transfers still overlap.)
* The repeats of an input go one after the other on one association.

What differs, by necessity:

* Halting (DCMTK's default): after an unsuccessful store no input is handed
  out any more; the stores already under way on the other associations
  finish and are reported as what they are; every input not handed out is
  not-sent. So up to N - 1 inputs after the failed one may have been sent,
  where one association sends none. An invalid input halts exactly: the
  inputs before it finish first and none after it is handed out.
* A peer that refuses some associations (a limit on concurrent ones): a
  worker whose first association fails while another worker can go on gives
  its input back and retires (a warning, not a fatal error); the run goes on
  with fewer associations. When none can associate, the run fails as with
  one association.
* Ctrl-C / SIGTERM: each worker stops at once -- a blocked read is woken by
  shutting down the socket's reading side, a transfer stops at its next PDU
  boundary -- and its association is aborted. Each input being sent is then
  accounted as one association accounts its input (failed-outcome-unknown
  once its request went out, else not-sent), everything else as not-sent.
* Messages (``-v``) of the associations interleave; the report is the
  ordered record.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections import deque
from collections.abc import Iterator
from itertools import chain
from typing import TYPE_CHECKING, Final

from storescu.net.transport import TransportInterrupted
from storescu.protocol.window import UNLIMITED_WINDOW_CAP
from storescu.run.filesender import _Step
from storescu.run.sender import Sender
from storescu.run.turns import IdentityTurns, turn_inventor
from storescu.run.turns import Stopped as _Stopped

if TYPE_CHECKING:
    from storescu.net.client import AssociationSettings
    from storescu.protocol.pdu import PresentationContextRQ
    from storescu.run.items import _Item
    from storescu.run.options import SendOptions
    from storescu.run.results import FileResult, ResultCallback
    from storescu.run.windowed import _Pending

__all__ = ["ParallelSender"]

log = logging.getLogger("storescu")

#: Seconds the workers get to stop by themselves on Ctrl-C before their
#: sockets are shut down completely (a write blocked on a peer that stopped
#: reading), then the seconds after which one that still runs is left behind.
_STOP_GRACE: Final = 0.5
_STOP_LIMIT: Final = 2.0
#: How many inputs may be numbered but not yet delivered, per association:
#: bounds what waits behind a slow store (results are small).
_SPAN_PER_WORKER: Final = 16
_MIN_SPAN: Final = 64


class _HandBack(BaseException):
    """A worker's first association failed while others can go on: give the input back."""


class _Job:
    """One input handed out: its number in sending order, its batch, its send numbers."""

    __slots__ = ("contexts", "halted", "item", "items", "repeat", "send_base", "seq", "step")

    def __init__(
        self,
        seq: int,
        item: _Item,
        contexts: tuple[PresentationContextRQ, ...],
        items: list[_Item],
        send_base: int,
        repeat: int,
    ) -> None:
        self.seq = seq
        self.item = item
        self.contexts = contexts
        self.items = items
        self.send_base = send_base
        self.repeat = repeat
        #: How its sending ended (None while it goes on), and whether a result
        #: from the window halts the run (see _Worker._deliver_pending).
        self.step: _Step | None = None
        self.halted = False

    @property
    def sends(self) -> range:
        """The send numbers of the input's repeats (FileSender._send_item counts from send_base)."""
        return range(self.send_base + 1, self.send_base + 1 + self.repeat)


class _JobBox:
    """Inputs handed out and not yet taken by a worker: FIFO, hand-backs in front.

    A worker takes a job and becomes its owner in one locked step, so the
    coordinator always finds a job either here or with a worker.
    """

    def __init__(self) -> None:
        self._jobs: deque[_Job] = deque()
        self._cond = threading.Condition()
        self._closed = False  # the run ended: workers leave
        self._frozen = False  # a worker stopped the run: nothing more is taken

    def __len__(self) -> int:
        return len(self._jobs)

    def waiting(self) -> bool:
        """Whether a worker with requests under way should stop collecting their
        responses and take the next job: there is one, or none will come."""
        with self._cond:
            return bool(self._jobs) or self._closed or self._frozen

    def put(self, job: _Job, *, front: bool = False) -> None:
        with self._cond:
            if front:
                self._jobs.appendleft(job)
            else:
                self._jobs.append(job)
            self._cond.notify()

    def take(self, worker: _Worker, stop: threading.Event) -> _Job | None:
        """The next job for `worker` (recorded as its job), or None when it should leave."""
        with self._cond:
            while not self._jobs or self._frozen:
                if self._closed or self._frozen or stop.is_set():
                    return None
                self._cond.wait()
            if stop.is_set():
                return None
            job = self._jobs.popleft()
            worker.job = job
            return job

    def drain(self) -> list[_Job]:
        """Take back every job not taken yet, in sending order."""
        with self._cond:
            jobs = sorted(self._jobs, key=lambda job: job.seq)
            self._jobs.clear()
            return jobs

    def freeze(self) -> None:
        with self._cond:
            self._frozen = True
            self._cond.notify_all()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()


# What a worker tells the coordinator (see ParallelSender._handle).


class _Row:
    __slots__ = ("result", "seq")

    def __init__(self, seq: int, result: FileResult) -> None:
        self.seq, self.result = seq, result


class _Done:
    __slots__ = ("job", "step", "worker")

    def __init__(self, worker: _Worker, job: _Job, step: _Step) -> None:
        self.worker, self.job, self.step = worker, job, step


class _HandedBack:
    __slots__ = ("job", "worker")

    def __init__(self, worker: _Worker, job: _Job) -> None:
        self.worker, self.job = worker, job


class _Crashed:
    __slots__ = ("error", "worker")

    def __init__(self, worker: _Worker, error: BaseException) -> None:
        self.worker, self.error = worker, error


class _Left:
    """The worker stopped (Ctrl-C); its job stays for the coordinator to account."""

    __slots__ = ("worker",)

    def __init__(self, worker: _Worker) -> None:
        self.worker = worker


_Event = _Row | _Done | _HandedBack | _Crashed | _Left


class _Worker(Sender):
    """One association of a parallel run, in its own thread.

    Its inputs come from the coordinator's job box; its results go back to
    the coordinator, which numbers and delivers them. Everything else --
    opening, retrying, sending, repeating, converting, rewriting -- is the
    plain Sender's.
    """

    def __init__(self, boss: ParallelSender, number: int) -> None:
        super().__init__(boss.host, boss.port, boss.settings, boss.options, keep_results=False)
        self._boss = boss
        self.on_send_start = boss.on_send_start
        self._stop = boss._stop
        self.number = number
        self.job: _Job | None = None
        self.ever_associated = False
        self.thread = threading.Thread(
            target=self._loop, name=f"storescu-association-{number}", daemon=True
        )
        turns = boss._turns
        if turns is not None and self._rewriter is not None:
            from storescu.dataset.rewrite import Rewriter

            self._rewriter = Rewriter(self._rewriter.options, turn_inventor(turns, self))

    # ---------------------------------------------------------------- thread

    def _loop(self) -> None:
        boss = self._boss
        try:
            while (job := self._next_job()) is not None:
                self._current, self._current_rows, self._in_flight = job.item, 0, None
                self._sends = job.send_base
                self._pending_tag = job  # the window's requests of this job name it
                try:
                    step = self._process(job.item, job.contexts, job.items)
                except _HandBack:
                    self.job = self._current = None
                    boss._box.put(job, front=True)
                    boss._post(_HandedBack(self, job))
                    return
                boss._resolve(job)
                if step is not _Step.CONTINUE:
                    boss._box.freeze()  # hand out nothing more, at once
                self.job = self._current = None
                job.step = step
                if not self._has_pending(job):
                    self._post_done(job)
            if self._stop.is_set():
                raise _Stopped  # the coordinator accounts and aborts (no release)
            self._drain()  # the window's last responses, before the release
        except (_Stopped, TransportInterrupted):
            # Stopped (Ctrl-C): the job stays with this worker, the coordinator
            # accounts for it and aborts the association, as one association does
            # -- unless it gave up waiting for this thread (stuck connecting):
            # then what opened since is aborted here.
            if self in boss._abandoned and self._assoc is not None:
                assoc, self._assoc = self._assoc, None
                assoc.abort()
            boss._post(_Left(self))
            return
        except BaseException as exc:  # a bug: the coordinator accounts and re-raises
            boss._post(_Crashed(self, exc))
            return
        try:
            self._end_association()  # release: the workers do it side by side
        except (_Stopped, TransportInterrupted):
            boss._post(_Left(self))  # stopped while releasing: the coordinator aborts
        except BaseException as exc:
            boss._post(_Crashed(self, exc))

    def _next_job(self) -> _Job | None:
        """The next job; while none is waiting, the window's responses are collected."""
        box = self._boss._box
        while self._under_way or self._retry:
            if self._stop.is_set():
                raise _Stopped
            if box.waiting() or not self._drain_step():
                break
        return box.take(self, self._stop)

    # ------------------------------------------------- the window (D.3.3.3)

    def _deliver_pending(
        self, message_id: int | None, pending: _Pending, result: FileResult
    ) -> None:
        """A result from the window: numbered by its own job (see ``_Pending.tag``)."""
        if self._stop.is_set() and threading.current_thread() is self.thread:
            # Stopping: back where the coordinator accounts for it (as on Ctrl-C).
            if message_id is None:
                self._retry.append(pending)
            else:
                self._under_way[message_id] = pending
            raise _Stopped
        job = pending.tag
        assert isinstance(job, _Job)
        self._boss._post(_Row(job.seq, result))
        self._note_failure(result)
        if not result.outcome.stored and self.options.halt:
            self._halting = job.halted = True
            self._boss._box.freeze()  # hand out nothing more, at once
        if job.step is not None and not self._has_pending(job):
            self._post_done(job)

    def _has_pending(self, job: _Job) -> bool:
        """Whether a request of `job` is under way or queued for a retry."""
        return any(p.tag is job for p in chain(self._under_way.values(), self._retry))

    def _post_done(self, job: _Job) -> None:
        step = job.step
        assert step is not None
        if job.halted and step is _Step.CONTINUE:
            step = _Step.HALT
        self._boss._post(_Done(self, job, step))

    # ------------------------------------------------------ Sender overrides

    def _record(self, result: FileResult) -> None:
        if self._stop.is_set() and threading.current_thread() is self.thread:
            # Stopping: the coordinator accounts for this input (as on Ctrl-C).
            raise _Stopped
        job = self.job
        assert job is not None
        self._boss._post(_Row(job.seq, result))
        self._current_rows += 1
        self._in_flight = None

    def _attempt(self, item: _Item) -> tuple[FileResult, bool]:
        if self._stop.is_set():
            raise _Stopped
        return super()._attempt(item)

    def _sleep(self, seconds: float) -> None:
        if self._stop.wait(seconds):
            raise _Stopped

    def _number_association(self) -> int:
        return self._boss._number_association()

    def _associate(self, contexts: tuple[PresentationContextRQ, ...]) -> bool:
        if self._stop.is_set():
            raise _Stopped
        may_retire = not self.ever_associated and self._boss._others_alive(self)
        self._failure_level = logging.WARNING if may_retire else logging.CRITICAL
        if super()._associate(contexts):
            self.ever_associated = True
            self._boss._associated()
            if self._stop.is_set():
                raise _Stopped
            return True
        if not self.ever_associated and self._boss._retire(self):
            raise _HandBack
        return False

    def _stop_inspecting(self) -> None:
        pass  # the coordinator owns the input stream


class ParallelSender(Sender):
    """A :class:`~storescu.run.sender.Sender` that sends over ``options.parallel`` associations.

    Parameters are those of :class:`~storescu.run.sender.Sender`; see the module
    docstring for what is kept and what differs. ``on_result`` is called from
    the thread that calls :meth:`run`, in sending order.
    """

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
        self._size = max(1, options.parallel)
        # Each association may have a window of requests under way (numbered, not
        # delivered): room for them too (0, unlimited, is capped; PS3.7 D.3.3.3).
        window = (settings.max_ops_invoked or UNLIMITED_WINDOW_CAP) if settings.async_ops else 1
        self._span = max(_MIN_SPAN, (_SPAN_PER_WORKER + window) * self._size)
        self._stop = threading.Event()
        self._box = _JobBox()
        self._lock = threading.Lock()  # the counters below that workers change
        self._live = 0  # workers not retired
        self._established = 0  # associations opened successfully
        self._workers: list[_Worker] = []
        self._abandoned: set[_Worker] = set()
        self._turns: IdentityTurns | None = None
        if self._rewriter is not None and self._rewriter.inventor is not None:
            self._turns = IdentityTurns(self._rewriter.inventor, self._stop)
        # Worker -> coordinator messages: a deque (atomic append/popleft) and a bell.
        self._inbox: deque[_Event] = deque()
        self._bell = threading.Event()
        # Sending order: every input taken gets a number (seq); rows wait in
        # _pending until every lower number is finished, then are delivered.
        self._next_seq = 0
        self._seqs: dict[int, tuple[_Item, int]] = {}  # id(input) -> (input, seq)
        self._pending: dict[int, deque[FileResult]] = {}
        self._finished: set[int] = set()
        self._next_out = 0
        self._held: _Item | None = None  # the input the coordinator records itself
        self._held_seq = -1
        self._outstanding = 0  # jobs handed out and not finished
        self._pulled: list[_Job] = []  # jobs taken back after a worker stopped the run
        self._stop_step: _Step | None = None  # HALT / NO_ASSOCIATION from a worker
        self._worker_fatal: str | None = None
        self._books_closed = False
        self._ended = False  # _end_run done (halted, or no association)

    # ------------------------------------------------------------- the run

    def _run(self, stream: Iterator[_Item]) -> None:
        super()._run(stream)
        self._release_held()
        self._wait_all()
        step = self._stop_step
        if step is not None and not self._ended:
            # A worker stopped the run after the last input was handed out.
            self._rest = chain([job.item for job in self._take_pulled()], self._rest)
            self._end_run(step)
            self._release_held()

    def _end_run(self, step: _Step) -> None:
        self._ended = True
        super()._end_run(step)
        if step is _Step.NO_ASSOCIATION_RECORDED:
            # As with one association: fatal only when no association ever opened.
            self.run_result.fatal = None if self._established else self._worker_fatal

    def _process(
        self, item: _Item, contexts: tuple[PresentationContextRQ, ...], items: list[_Item]
    ) -> _Step:
        self._pump(block=False)
        # Checked here, not in the worker: a truncated file halts the run exactly
        # where one association would (see the invalid input below).
        self._prepare(item)
        sendable = item.preset is None and item.info is not None
        while sendable and self._stop_step is None and not self._room():
            self._pump(block=True)
        if not sendable and item.preset is None and self.options.halt:
            # An invalid input halts the run exactly where one association
            # would: after everything before it, before anything after it.
            self._wait_all()
        if self._stop_step is not None:
            return self._give_back(item)
        if not sendable:
            step = self._send_item(item)  # recorded here, in its place
            self._release_held()
            return step
        with self._guard:  # handed out and no longer ours, in one step
            repeat = self.options.repeat
            job = _Job(self._held_seq, item, contexts, items, self._sends, repeat)
            self._sends += repeat
            self._held = None
            self._current = None
            self._outstanding += 1
            self._box.put(job)
        self._start_workers()
        return _Step.CONTINUE

    def _room(self) -> bool:
        return len(self._box) < self._size and self._next_seq - self._next_out < self._span

    def _give_back(self, item: _Item) -> _Step:
        """A worker stopped the run: `item` and the jobs not taken go back to the rest."""
        self._wait_all()
        with self._guard:
            pulled = [job.item for job in self._take_pulled()]
            self._rest = chain(pulled, [item], self._rest)
            self._held = None  # taken again (same number) by _halt_rest / _skip_rest
            self._current = None
        step = self._stop_step
        assert step is not None
        return step

    def _take_pulled(self) -> list[_Job]:
        pulled, self._pulled = self._pulled, []
        return pulled

    def _wait_all(self) -> None:
        """Wait until every job handed out is finished (taking back those not started
        once a worker stopped the run)."""
        while True:
            if self._stop_step is not None:
                self._pull_back()
            if not self._outstanding:
                return
            self._pump(block=True)

    def _pull_back(self) -> None:
        jobs = self._box.drain()
        if not jobs:
            return
        with self._guard:
            self._outstanding -= len(jobs)
            self._pulled.extend(jobs)
        for job in jobs:
            self._resolve(job)

    # ------------------------------------------------ numbering and delivery

    def _take(self, source: Iterator[_Item], into: list[_Item] | None = None) -> _Item | None:
        with self._guard:
            item = next(source, None)
            if item is not None:
                if into is not None:
                    into.append(item)
                else:
                    self._current, self._current_rows = item, 0
                    self._hold(item)
            return item

    def _skip(self, item: _Item, reason: str) -> None:
        self._hold(item)
        super()._skip(item, reason)

    def _hold(self, item: _Item) -> None:
        """Make `item` the input whose rows the coordinator records now."""
        if item is self._held:
            return
        self._release_held()
        entry = self._seqs.get(id(item))
        if entry is None:
            entry = self._seqs[id(item)] = (item, self._next_seq)
            self._next_seq += 1
        self._held, self._held_seq = item, entry[1]

    def _release_held(self) -> None:
        item = self._held
        if item is not None:
            self._held = None
            self._finish(self._held_seq, item)

    def _record(self, result: FileResult) -> None:
        with self._guard:
            self._pending.setdefault(self._held_seq, deque()).append(result)
            self._current_rows += 1
            self._in_flight = None
        self._flush()

    def _finish(self, seq: int, item: _Item) -> None:
        self._finished.add(seq)
        self._seqs.pop(id(item), None)
        self._flush()

    def _flush(self) -> None:
        """Deliver every row whose turn has come (each row in one guarded step)."""
        while True:
            seq = self._next_out
            rows = self._pending.get(seq)
            while rows:
                with self._guard:
                    self._deliver(rows.popleft())
            if seq not in self._finished:
                return
            self._finished.discard(seq)
            self._pending.pop(seq, None)
            self._next_out = seq + 1

    def _deliver(self, result: FileResult) -> None:
        run = self.run_result
        if self.keep_results:
            run.results.append(result)
        run.counts[result.outcome] = run.counts.get(result.outcome, 0) + 1
        self._note_failure(result)  # in sending order, as one association notes them
        if self.on_result is not None:
            self.on_result(result)

    # ------------------------------------------------------------- workers

    def _start_workers(self) -> None:
        if self._workers:
            return
        self._workers = [_Worker(self, n + 1) for n in range(self._size)]
        self._live = len(self._workers)
        for worker in self._workers:
            worker.thread.start()

    def _post(self, event: _Event) -> None:
        """From a worker: queue `event` for the coordinator and wake it."""
        self._inbox.append(event)
        self._bell.set()

    def _pump(self, *, block: bool) -> None:
        """Handle what the workers posted; with `block`, wait for something first."""
        if block:
            self._bell.wait()  # interruptible (Ctrl-C) in the main thread
        self._bell.clear()
        while self._inbox:
            with self._guard:
                self._handle(self._inbox.popleft())
            self._flush()

    def _handle(self, event: _Event) -> None:
        if isinstance(event, _Crashed):
            raise event.error  # a bug in a worker: run() accounts for everything, then re-raises
        if self._books_closed:
            return  # a worker left behind on Ctrl-C: its input is accounted already
        if isinstance(event, _Row):
            self._pending.setdefault(event.seq, deque()).append(event.result)
        elif isinstance(event, _Done):
            self._outstanding -= 1
            self._finish(event.job.seq, event.job.item)
            if event.step is not _Step.CONTINUE and self._stop_step is None:
                self._stop_step = event.step
                self._worker_fatal = event.worker.run_result.fatal
        elif isinstance(event, _HandedBack):
            log.warning(
                "Association %d of %d could not be opened; going on with the others",
                event.worker.number,
                self._size,
            )
        # _Left: the worker stopped; _interrupted accounts for its job.

    def _number_association(self) -> int:
        with self._lock:
            self.run_result.associations += 1
            return self.run_result.associations

    def _associated(self) -> None:
        with self._lock:
            self._established += 1

    def _others_alive(self, worker: _Worker) -> bool:
        with self._lock:
            return self._live > 1

    def _retire(self, worker: _Worker) -> bool:
        """Let `worker` leave (True) unless it is the last one able to send."""
        with self._lock:
            if self._live > 1:
                self._live -= 1
                return True
            return False

    def _resolve(self, job: _Job) -> None:
        if self._turns is not None:
            self._turns.resolve(job.sends)

    # ------------------------------------------------------------- endings

    def _interrupted(self, reason: str = "not sent: interrupted") -> None:
        """Stop every worker, then account as one association does, input by input."""
        self._stop_workers()
        self._pull_back()
        while self._inbox:  # what the workers posted before they stopped
            self._handle(self._inbox.popleft())
        for worker in self._workers:
            if worker in self._abandoned:
                continue
            job = worker.job
            if job is None and not (worker._under_way or worker._retry):
                continue
            # Its input and the window's requests (their jobs end with them), an A-ABORT.
            worker._interrupted(reason)
            while self._inbox:
                self._handle(self._inbox.popleft())
            if job is not None:
                worker.job = None
                self._outstanding -= 1
                self._finish(job.seq, job.item)
        for worker in self._workers:
            if worker not in self._abandoned and worker._assoc is not None:
                assoc, worker._assoc = worker._assoc, None
                log.info("Aborting Association")
                assoc.abort()
        for worker in self._abandoned:
            job = worker.job
            if job is not None:  # still busy: account its input as its own would
                worker._current = job.item
                worker._assoc = None
                worker._interrupted(reason)
                while self._inbox:
                    self._handle(self._inbox.popleft())
                self._finish(job.seq, job.item)
        self._books_closed = True
        self._rest = chain((job.item for job in self._take_pulled()), self._rest)
        super()._interrupted(reason)
        self._release_held()
        self._flush()

    def _stop_workers(self) -> None:
        self._stop.set()
        for worker in self._workers:
            assoc = worker._assoc
            if assoc is not None:
                assoc.transport.interrupt()
        self._box.close()
        if self._turns is not None:
            self._turns.wake()
        alive = self._join(_STOP_GRACE)
        for worker in alive:
            # A write blocked on a peer that stopped reading: shut it down for good.
            assoc = worker._assoc
            if assoc is not None:
                try:
                    assoc.transport.sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        for worker in self._join(_STOP_LIMIT):
            log.warning("association %d did not stop in time; left behind", worker.number)
            self._abandoned.add(worker)

    def _join(self, seconds: float) -> list[_Worker]:
        """Join the workers within `seconds`; return those still running."""
        deadline = time.monotonic() + seconds
        for worker in self._workers:
            worker.thread.join(max(0.0, deadline - time.monotonic()))
        return [w for w in self._workers if w.thread.is_alive()]

    def _end_association(self) -> None:
        """Let the workers end their associations (side by side) and wait for them."""
        if not self._workers:
            return
        self._box.close()
        if self._stop.is_set():
            self._join(_STOP_LIMIT)
            return
        for worker in self._workers:
            worker.thread.join()
        while self._inbox:  # a release that crashed
            event = self._inbox.popleft()
            if isinstance(event, _Crashed):
                raise event.error
