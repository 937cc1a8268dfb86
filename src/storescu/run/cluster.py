"""A run fanned out over a Dask cluster (``--dask``): the coordinator.

The only module, with :mod:`storescu.run.clustertask` (the task side), that
imports :mod:`dask.distributed`; nothing imports either unless a run asks for
a cluster (``storescu[dask]``).

Theory of operation
-------------------
The coordinator (the ``storescu`` process, or the caller of
:func:`storescu.send_files` with a ``client``) reads the inputs exactly as a
run on one machine does -- operands, ``+sd`` scans, ``--file-list``,
DICOMDIRs, ``--skip-sent`` -- without opening the files, and cuts them into
*partitions* of at most ``partition_size`` inputs. Each partition is a Dask
task (:func:`storescu.run.clustertask.send_partition`) that sends its files
with the ordinary sender, so every option works as it does on one machine
(``-P N`` gives each task N associations). Inputs a previous report records
as stored (``--skip-sent``) and directories ignored without ``+sd`` are
decided here and never reach a worker.

* **Bounded associations.** At most ``max_associations // parallel`` tasks
  run at a time (default: one per worker thread of the cluster), so the
  associations the peers see are bounded across the whole cluster.
* **Report order.** Rows stream back as the tasks go (a Dask ``Queue`` on
  the scheduler) and are delivered -- to the report, the counts, the
  progress bar, ``on_result`` -- in *input order*, the order a run on one
  machine reports: the rows of the oldest unfinished partition are written
  as they arrive, those of later partitions are held until it is finished.
* **A worker that dies.** Dask runs the task again elsewhere (the scheduler
  does this itself; ``allowed_failures`` bounds how often). The new attempt
  first asks the coordinator what is settled: inputs with a row are left out
  (never sent twice); inputs the lost attempt had taken but not confirmed
  (marked before it could send them, :data:`~storescu.run.clustertask.WATERMARK_STEP`)
  are failed-outcome-unknown -- or, with ``--resend-unknown``, sent again and
  marked resent; the rest is sent. A task that fails for good (killed more
  often than ``allowed_failures``) leaves its unsettled inputs unknown or
  not-sent and the run goes on (an incomplete run, network failure).
* **Halting.** After an unsuccessful store (DCMTK's default) no partition is
  started any more and the running tasks halt before their next input (they
  look twice a second), as after a failure of their own: the stores under
  way finish; everything else is not-sent.
* **Ctrl-C.** The tasks are told to stop: each aborts its associations and
  accounts for its inputs as a run on one machine does. The coordinator
  waits a little for their rows, cancels the tasks and records the rest as
  not-sent (or unknown, for inputs a task that did not answer had taken), so
  the report is complete.
"""

from __future__ import annotations

import logging
import signal
import time
import uuid
from collections import deque
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, Final

from distributed import Client, Future, Queue, Variable

from storescu.kernel.records import dataclass, field
from storescu.run.clustertask import Job, send_partition
from storescu.run.interrupts import InterruptGuard
from storescu.run.results import FileResult, Outcome, RunResult

if TYPE_CHECKING:
    from storescu.net.client import AssociationSettings
    from storescu.net.tls import TlsOptions
    from storescu.run.items import _Item
    from storescu.run.options import SendOptions
    from storescu.run.results import ResultCallback

__all__ = ["DEFAULT_PARTITION_SIZE", "ClusterOptions", "ClusterSender", "open_client"]

log = logging.getLogger("storescu")

#: Inputs per task unless told otherwise.
DEFAULT_PARTITION_SIZE: Final = 1000
#: Seconds the coordinator waits for a message before it looks at the tasks
#: (much less while a task waits for its answer to ``begin``).
_POLL_SECONDS: Final = 0.05
_BEGIN_POLL_SECONDS: Final = 0.005
#: Seconds the tasks get to account for their inputs after Ctrl-C.
_STOP_GRACE: Final = 15.0
_UNKNOWN = "outcome unknown: the worker sending it was lost; the peer may have stored it"


@dataclass(frozen=True, slots=True)
class ClusterOptions:
    """How a run uses the cluster.

    Parameters
    ----------
    partition_size : int
        At most this many inputs per task.
    max_associations : int or None
        At most this many associations at once across the cluster (each
        task opens ``SendOptions.parallel``); None: one task per worker thread.
    retries : int
        Dask's ``retries`` for a task that raises (a worker that dies is
        handled by the scheduler's ``allowed_failures`` instead).
    tls : storescu.net.tls.TlsOptions, optional
        TLS for the tasks' associations: each task builds its SSL context
        from these settings (an SSL context cannot travel to a worker). Key,
        certificate and CA files must be at these paths on every worker, and
        an encrypted key needs its ``password`` (a worker cannot ask).
    """

    partition_size: int = DEFAULT_PARTITION_SIZE
    max_associations: int | None = None
    retries: int = 2
    tls: TlsOptions | None = None


def open_client(address: str) -> tuple[Client, Any]:
    """A client for ``--dask ADDRESS``, and the local cluster to close (or None).

    ``local:N`` starts a :class:`~distributed.LocalCluster` of N worker
    processes (one thread each) on this machine; anything else is the
    address of a running scheduler (``tcp://host:8786``).
    """
    if address.startswith("local:"):
        import dask
        from distributed import LocalCluster

        workers = int(address.partition(":")[2])
        # Dask's statistical profiler samples every worker thread 100 times a
        # second; on a cluster that only runs this send it costs CPU the
        # sender needs (a cluster of your own keeps your configuration).
        dask.config.set({"distributed.worker.profile.enabled": False})
        # The workers ignore SIGINT (inherited when they are spawned): Ctrl-C in a
        # terminal reaches the whole process group, and it is the coordinator's
        # to handle -- it stops the tasks, which abort their associations.
        previous = _ignore_sigint()
        try:
            cluster = LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                scheduler_port=0,
            )
        finally:
            if previous is not None:
                signal.signal(signal.SIGINT, previous)
        return Client(cluster), cluster
    return Client(address), None


def _ignore_sigint() -> Any:
    """Ignore SIGINT; return the handler to restore (None outside the main thread)."""
    try:
        return signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:
        return None


@dataclass(slots=True)
class _Partition:
    """One task's inputs and what is known of them."""

    number: int
    #: In input order: an index into ``paths`` (sent by the task) or a result decided here.
    slots: list[int | FileResult] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    rows: dict[int, list[FileResult]] = field(default_factory=dict)
    #: Every index that has its rows (kept after they are delivered and dropped).
    settled: set[int] = field(default_factory=set)
    highest: int = -1  # the highest index with a row
    started: int = 0  # inputs below this may have been taken by an attempt
    attempt: str | None = None
    attempts: int = 0
    done: bool = False
    future: Future | None = None
    emitted: int = 0  # slots delivered so far


class ClusterSender:
    """Sends a run's inputs as Dask tasks; the coordinator's side.

    Parameters
    ----------
    client : distributed.Client
        The cluster (its workers must import storescu and read the input paths).
    host, port, settings, options, on_result, keep_results
        As for :class:`~storescu.run.sender.Sender`.
    cluster : ClusterOptions
        Partition size, association bound, retries.

    Raises
    ------
    ValueError
        ``max_associations`` is less than ``options.parallel``, or `settings`
        holds an SSL context (use ``ClusterOptions.tls``).
    """

    def __init__(
        self,
        client: Client,
        host: str,
        port: int,
        settings: AssociationSettings,
        options: SendOptions,
        on_result: ResultCallback | None = None,
        keep_results: bool = True,
        cluster: ClusterOptions | None = None,
    ) -> None:
        self.client = client
        self.options = options
        self.cluster = cluster or ClusterOptions()
        self.on_result = on_result
        self.keep_results = keep_results
        if settings.tls is not None:
            raise ValueError(
                "an SSL context cannot be sent to the workers: give the TLS settings as "
                "ClusterOptions(tls=TlsOptions(...)) and AssociationSettings(tls=None)"
            )
        bound = self.cluster.max_associations
        if bound is not None and bound < max(1, options.parallel):
            raise ValueError(f"max_associations {bound} is less than parallel {options.parallel}")
        self.run_result = RunResult()
        self._submitted = 0
        self._name = f"storescu-{uuid.uuid4().hex}"
        self._job = Job(
            self._name, host, port, settings, options, options.read_mode, self.cluster.tls
        )
        self._open: deque[_Partition] = deque()  # not completely delivered, in order
        self._running: dict[int, _Partition] = {}
        self._items: Iterator[_Item] = iter(())
        self._exhausted = False
        self._halting = False
        self._numbers = 0
        self._fatal: str | None = None
        self._queue: Queue | None = None
        self._state: Variable | None = None
        # Ctrl-C waits while a message is handled or rows are delivered, so
        # that no row is lost or delivered twice (run.interrupts).
        self._guard = InterruptGuard()

    # ------------------------------------------------------------------ run

    def run(self, items: Iterable[_Item]) -> RunResult:
        """Send every input on the cluster; return the run's result.

        On KeyboardInterrupt every input is still accounted for (see the
        module docstring), then the KeyboardInterrupt propagates.
        """
        started = time.perf_counter()
        stop_inspecting = getattr(items, "stop_inspecting", None)
        if callable(stop_inspecting):
            stop_inspecting()  # the workers open the files, not the coordinator
        self._items = iter(items)
        self._queue = Queue(self._name, client=self.client)
        self._state = Variable(f"{self._name}-state", client=self.client)
        self._state.set("run")
        self._guard.install()
        try:
            try:
                self._loop()
            except KeyboardInterrupt:
                self._interrupted()
                raise
            except Exception as exc:  # the scheduler is gone, the connection lost...
                self._cluster_lost(exc)
            finally:
                self._finish()
                self.run_result.seconds = time.perf_counter() - started
        finally:
            self._guard.uninstall()
        return self.run_result

    def _slots(self) -> int:
        parallel = max(1, self.options.parallel)
        bound = self.cluster.max_associations
        if bound is not None:
            return max(1, bound // parallel)
        return max(1, int(sum(self.client.nthreads().values())))

    def _loop(self) -> None:
        slots = self._slots()
        log.info("sending on the cluster: %d task(s) at a time", slots)
        while True:
            while (
                not self._halting
                and not self._exhausted
                and len(self._running) < slots
                and len(self._open) < 4 * slots
            ):
                with self._guard:
                    self._start_next()
            with self._guard:
                self._deliver()
            if not self._open:
                if self._halting and not self._exhausted:
                    self._skip_rest("not sent: the run halted after an unsuccessful store")
                return
            waiting = any(part.attempt is None for part in self._running.values())
            self._poll(_BEGIN_POLL_SECONDS if waiting else _POLL_SECONDS)
            self._check_tasks()

    def _start_next(self) -> None:
        part = _Partition(self._numbers)
        size = self.cluster.partition_size
        while len(part.slots) < size:
            item = next(self._items, None)
            if item is None:
                self._exhausted = True
                break
            if item.preset is not None:
                part.slots.append(item.preset)
            else:
                part.slots.append(len(part.paths))
                part.paths.append(item.path)
        if not part.slots:
            return
        self._numbers += 1
        self._open.append(part)
        if not part.paths:
            part.done = True
            return
        self._submitted += 1
        part.future = self.client.submit(
            send_partition,
            self._job,
            part.number,
            part.paths,
            key=f"{self._name}-{part.number}",
            pure=False,
            retries=self.cluster.retries,
        )
        self._running[part.number] = part

    # ------------------------------------------------------------ messages

    def _poll(self, timeout: float) -> None:
        """Handle what the tasks put on the queue; with nothing there, wait `timeout`.

        The queue is read in batches (``batch=True`` answers at once); a
        blocking ``get`` with a timeout would log an error on the scheduler
        at every timeout.
        """
        if not self._receive() and timeout > 0:
            time.sleep(timeout)
            self._receive()

    def _receive(self) -> int:
        """Take and handle what is on the queue, as one guarded step; how many messages."""
        assert self._queue is not None
        with self._guard:  # taken from the queue means handled
            messages = self._queue.get(batch=True)
            for message in messages:
                self._handle(message)
        return len(messages)

    def _handle(self, message: tuple[Any, ...]) -> None:
        kind, number, attempt = message[0], message[1], message[2]
        part = self._running.get(number)
        if kind == "begin":
            self._begin(part, number, attempt)
            return
        if part is None or attempt != part.attempt:
            return  # a partition finished already, or an attempt given up on
        if kind == "started":
            part.started = max(part.started, message[3])
        elif kind == "rows":
            for index, result in message[3]:
                part.rows.setdefault(index, []).append(result)
                part.settled.add(index)
                part.highest = max(part.highest, index)
        elif kind == "done":
            self._done(part, message[3])

    def _begin(self, part: _Partition | None, number: int, attempt: str) -> None:
        """Answer an attempt of partition `number`: what to leave out, what to resend."""
        skip: list[int] = []
        resent: list[int] = []
        if part is None:  # finished already (the worker died as it ended): nothing to do
            skip = list(range(self.cluster.partition_size))
        elif part.attempt is not None:
            skip, resent = self._settled(part)
            log.warning(
                "partition %d: its worker was lost; running it again (%d input(s) settled, "
                "%d to resend)",
                number,
                len(skip),
                len(resent),
            )
        if part is not None:
            part.attempt = attempt
            part.attempts += 1
        Variable(f"{self._name}-resume-{number}-{attempt}", client=self.client).set(
            {"skip": skip, "resent": resent}
        )

    def _settled(self, part: _Partition) -> tuple[list[int], list[int]]:
        """After a lost attempt: the inputs to leave out, and those to send again."""
        skip: list[int] = []
        resent: list[int] = []
        for index, path in enumerate(part.paths):
            if index in part.settled:
                skip.append(index)
            elif index < part.started:
                if self.options.resend_unknown:
                    resent.append(index)
                else:
                    part.rows[index] = self._unknown(path)
                    part.settled.add(index)
                    skip.append(index)
        part.highest = max(part.settled, default=-1)
        return skip, resent

    def _unknown(self, path: str) -> list[FileResult]:
        # An input lost with its worker counts as a lost association does.
        self.run_result.network_failure = True
        rows = [FileResult(path, Outcome.FAILED_OUTCOME_UNKNOWN, error=_UNKNOWN)]
        rows.extend(
            FileResult(path, Outcome.NOT_SENT, error="not sent: the worker was lost")
            for _ in range(self.options.repeat - 1)
        )
        return rows

    def _done(self, part: _Partition, facts: dict[str, Any]) -> None:
        """A task ended: merge its facts; inputs it did not take are not-sent."""
        run = self.run_result
        run.associations += facts.get("associations", 0)
        run.network_failure = run.network_failure or bool(facts.get("network_failure"))
        if facts.get("halted"):
            run.halted = True
            if run.halted_on_status is None:
                run.halted_on_status = facts.get("halted_on_status")
            self._halt()
        fatal = facts.get("fatal")
        if fatal:
            self._fatal = self._fatal or fatal
            if self.options.halt:
                run.halted = True
                self._halt()
        if facts.get("interrupted"):
            reason = "not sent: interrupted"
        elif fatal and not facts.get("taken"):
            reason = f"not sent: {fatal}"  # e.g. the task's TLS settings did not load
        else:
            reason = "not sent: the run halted after an unsuccessful store"
        self._close(part, reason, unknown_below=0)

    def _close(self, part: _Partition, reason: str, unknown_below: int) -> None:
        """Partition finished: every input without a row gets one now."""
        for index, path in enumerate(part.paths):
            if index not in part.settled:
                part.settled.add(index)
                if index < unknown_below:
                    part.rows[index] = self._unknown(path)
                else:
                    part.rows[index] = [
                        FileResult(path, Outcome.NOT_SENT, error=reason)
                        for _ in range(self.options.repeat)
                    ]
        part.done = True
        self._running.pop(part.number, None)

    def _check_tasks(self) -> None:
        """Tasks that failed for good (killed too often, an error after retries)."""
        for part in list(self._running.values()):
            future = part.future
            if future is None or future.status not in ("error", "cancelled", "lost"):
                continue
            self._poll(0)  # what it put on the queue before it failed
            if part.done:
                continue
            try:
                problem: object = future.exception(timeout=1)
            except Exception as exc:
                problem = exc
            log.error("partition %d failed for good: %s", part.number, problem)
            self.run_result.network_failure = True
            self._close(part, f"not sent: the task failed: {problem}", part.started)
            if self.options.halt:
                self.run_result.halted = True
                self._halt()

    def _halt(self) -> None:
        if not self._halting:
            self._halting = True
            assert self._state is not None
            self._state.set("halt")

    # ------------------------------------------------------------- results

    def _deliver(self) -> None:
        """Deliver the rows that are final, in input order."""
        while self._open:
            part = self._open[0]
            while part.emitted < len(part.slots):
                slot = part.slots[part.emitted]
                if isinstance(slot, FileResult):
                    self._emit(slot)
                else:
                    rows = part.rows.get(slot)
                    if rows is None or not (part.done or part.highest > slot):
                        return
                    for row in rows:
                        self._emit(row)
                    del part.rows[slot]
                part.emitted += 1
            if not part.done:
                return
            self._open.popleft()

    def _emit(self, result: FileResult) -> None:
        run = self.run_result
        run.counts[result.outcome] = run.counts.get(result.outcome, 0) + 1
        if self.keep_results:
            run.results.append(result)
        if self.on_result is not None:
            self.on_result(result)

    def _skip_rest(self, reason: str) -> None:
        """Inputs never handed to a task: their preset, or not-sent."""
        for item in self._items:
            if item.preset is not None:
                self._emit(item.preset)
            else:
                for _ in range(self.options.repeat):
                    self._emit(FileResult(item.path, Outcome.NOT_SENT, error=reason))
        self._exhausted = True

    # ------------------------------------------------------------- endings

    def _interrupted(self) -> None:
        """Ctrl-C: stop the tasks, wait a little for their rows, account for the rest."""
        self.run_result.interrupted = True
        self._halting = True
        assert self._state is not None
        try:
            self._state.set("stop")
            deadline = time.monotonic() + _STOP_GRACE
            while self._running and time.monotonic() < deadline:
                self._poll(_POLL_SECONDS)
                self._check_tasks()
        except KeyboardInterrupt:
            pass  # a second Ctrl-C: account without waiting
        for part in list(self._running.values()):
            if part.future is not None:
                part.future.cancel()
            self._close(part, "not sent: interrupted", part.started)
        self._deliver()
        self._skip_rest("not sent: interrupted")

    def _cluster_lost(self, exc: Exception) -> None:
        """The cluster failed under the run: account for every input without it.

        Inputs a task had marked under way are failed-outcome-unknown, the
        rest not-sent; the run ends as after a lost association.
        """
        problem = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        log.error("the Dask cluster failed: %s", problem)
        log.debug("the Dask cluster failed", exc_info=True)
        self._halting = True
        self.run_result.network_failure = True
        reason = f"not sent: the Dask cluster failed: {problem}"
        for part in list(self._running.values()):
            self._close(part, reason, part.started)
        self._deliver()
        self._skip_rest(reason)

    def _finish(self) -> None:
        """The run-level verdict, and the scheduler's state of this run removed."""
        run = self.run_result
        stored = sum(n for outcome, n in run.counts.items() if outcome.stored)
        if self._fatal is not None and stored == 0:
            run.fatal = self._fatal
        elif self._fatal is not None:
            run.network_failure = True
        elif self._submitted == 0 and not run.interrupted:
            # Nothing reached a worker: as a run on one machine, DCMTK's fatal error
            # unless every input was stored by an earlier run (--skip-sent).
            if stored == 0 or stored < sum(run.counts.values()):
                log.critical("no input files to be sent")
                run.fatal = "no input files to be sent"
            else:
                log.info("nothing to send: every input was sent before")
        for name in (self._state,):
            if name is not None:
                try:
                    name.delete()
                except Exception:  # the cluster is gone: nothing to clean up
                    pass
        if self._queue is not None:
            try:
                self._queue.close()
            except Exception:
                pass
