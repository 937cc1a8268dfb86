"""One partition of a cluster run (``--dask``), as a Dask task on a worker.

The coordinator (:mod:`storescu.run.cluster`) submits :func:`send_partition`
once per partition. The task sends its files with the ordinary sender
(``storescu.run.factory.make_sender``: one association, or ``-P``
associations) and tells the coordinator what happens through one Dask
``Queue`` per run, which lives on the scheduler, so what a task put there
survives the task's worker:

``("begin", k, token)``
    first thing; the task then waits for the coordinator's answer (a Dask
    ``Variable`` named after the attempt): which inputs to leave out (the
    ones an earlier attempt of this partition confirmed, or that the
    coordinator recorded as of unknown outcome) and which to resend.
``("started", k, token, n)``
    put (synchronously) *before* the first request of input ``n - 1`` may go
    out (the sender's ``on_send_start``): on a re-run, every input below the
    last mark that has no row was under way or its row was not yet out
    (``--resend-unknown`` decides).
``("rows", k, token, [(index, FileResult), ...])``
    results, batched every 0.1 s by a background thread.
``("done", k, token, facts)``
    the run-level facts (halted, fatal...), after the last rows.

Halts and Ctrl-C reach the task through a Dask ``Variable`` (``run``,
``halt``, ``stop``) that a watcher thread polls (twice a second): on ``halt``
the task's sender halts before its next input, as after a failure of its
own (the sends under way finish, the rest is not-sent); on ``stop`` it raises
KeyboardInterrupt in the task's thread and wakes a blocked read, so the
sender aborts its associations and accounts for its inputs as on Ctrl-C.
"""

from __future__ import annotations

import ctypes
import logging
import threading
from collections import deque
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Final

from distributed import Queue, Variable, get_client

from storescu.kernel.records import dataclass
from storescu.run.factory import make_sender
from storescu.run.inputs import InputOptions, open_inputs

if TYPE_CHECKING:
    from storescu.net.client import AssociationSettings
    from storescu.net.tls import TlsOptions
    from storescu.run.options import SendOptions
    from storescu.run.results import FileResult
    from storescu.run.sender import Sender

__all__ = ["Job", "send_partition"]

log = logging.getLogger("storescu")

#: A re-run may count this many inputs past the last one taken as under way.
WATERMARK_STEP: Final = 16
#: Seconds between the batches of rows a task puts on the queue.
_FLUSH_SECONDS: Final = 0.1
#: Seconds between two looks at the run's state (run / halt / stop).
_WATCH_SECONDS: Final = 0.5
#: Seconds a task waits for the coordinator's answer to ``begin``.
_BEGIN_TIMEOUT: Final = 300.0


@dataclass(frozen=True, slots=True)
class Job:
    """What every task of a run gets: the peer, the options and the run's name."""

    run: str
    host: str
    port: int
    settings: AssociationSettings
    options: SendOptions
    read_mode: str = "auto"
    #: The TLS options; each task builds its own SSL context (a context cannot be pickled).
    tls: TlsOptions | None = None


class _Rows:
    """Rows waiting to be put on the queue; a thread puts them in batches."""

    def __init__(self, queue: Queue, number: int, token: str) -> None:
        self._queue = queue
        self._head = ("rows", number, token)
        self._buffer: list[tuple[int, FileResult]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="storescu-rows", daemon=True)
        self._thread.start()

    def add(self, index: int, result: FileResult) -> None:
        with self._lock:
            self._buffer.append((index, result))

    def _loop(self) -> None:
        while not self._stop.wait(_FLUSH_SECONDS):
            self.flush()

    def flush(self) -> None:
        with self._lock:
            batch, self._buffer = self._buffer, []
        if batch:
            self._queue.put((*self._head, batch))

    def close(self) -> None:
        """Stop the thread and put what is left (from the task's thread: before ``done``)."""
        self._stop.set()
        self._thread.join()
        self.flush()


class _Paths:
    """The partition's paths to send, in order; none after a halt."""

    def __init__(self, paths: list[str], order: list[int], halt: threading.Event) -> None:
        self.paths = paths
        self.order = order
        self.position = 0
        self.taken = 0  # one past the highest index handed out
        self._halt = halt

    def __iter__(self) -> _Paths:
        return self

    def __next__(self) -> str:
        if self.position >= len(self.order) or self._halt.is_set():
            raise StopIteration
        index = self.order[self.position]
        self.position += 1
        self.taken = index + 1
        return self.paths[index]


class _Marks:
    """Marks inputs as under way on the scheduler before their first request goes out.

    The sender calls it (``on_send_start``) from the thread about to send; a
    mark covers :data:`WATERMARK_STEP` inputs, so one synchronous put in 16.
    """

    def __init__(
        self,
        paths: list[str],
        order: list[int],
        queue: Queue,
        head: tuple[Any, ...],
        rows: _Rows,
        halt: threading.Event,
    ) -> None:
        self._rows = rows
        self._halt = halt
        self._indices: dict[str, deque[int]] = {}
        for index in order:
            self._indices.setdefault(paths[index], deque()).append(index)
        self._count = len(paths)
        self._queue = queue
        self._head = head
        self._marked = 0
        self._lock = threading.Lock()

    def __call__(self, path: str) -> bool:
        if self._halt.is_set():
            return False  # halted: the sender stops here, as after a failure of its own
        with self._lock:
            waiting = self._indices.get(path)
            if not waiting:
                return True  # a file a DICOMDIR of this partition references
            index = waiting.popleft()
            if index >= self._marked:
                self._marked = min(index + WATERMARK_STEP, self._count)
                self._rows.flush()  # what is confirmed so far need not count as under way
                self._queue.put((*self._head, self._marked))
        return True


class _Matcher:
    """Which input a result belongs to: results come in sending (input) order."""

    def __init__(self, paths: list[str], order: list[int]) -> None:
        self._paths = paths
        self._order = order
        self._position = 0

    def index(self, path: str) -> int:
        end = min(len(self._order), self._position + 1024)
        for ahead in range(self._position, end):
            if self._paths[self._order[ahead]] == path:
                self._position = ahead
                return self._order[ahead]
        # A file a DICOMDIR of this partition references: counted with the DICOMDIR.
        return self._order[min(self._position, len(self._order) - 1)]


class _Watch:
    """Polls the run's state; halts the paths or interrupts the sender when told."""

    def __init__(self, state: Variable, halt: threading.Event) -> None:
        self._state = state
        self._halt = halt
        self._ident = threading.get_ident()
        self._lock = threading.Lock()
        self._finished = threading.Event()
        self._fired = False
        self.sender: Sender | None = None
        self._thread = threading.Thread(target=self._loop, name="storescu-watch", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._finished.wait(_WATCH_SECONDS):
            try:
                value = self._state.get(timeout=5)
            except Exception:  # the scheduler is busy or gone: look again later
                continue
            if value in ("halt", "stop"):
                self._halt.set()
            if value == "stop":
                self._interrupt()
                return

    def _interrupt(self) -> None:
        """Ctrl-C on the coordinator: a KeyboardInterrupt in the task's thread."""
        with self._lock:
            if self._finished.is_set():
                return
            self._fired = True
            _async_raise(self._ident, KeyboardInterrupt)
        sender = self.sender
        bell = getattr(sender, "_bell", None)  # -P: the coordinator thread's wait
        if isinstance(bell, threading.Event):
            bell.set()
        assoc = getattr(sender, "_assoc", None)  # one association: a blocked read
        if assoc is not None:
            assoc.transport.interrupt()

    def finish(self) -> None:
        """The sender is done: no interrupt from now on (one on its way is withdrawn)."""
        with self._lock:
            self._finished.set()
            if self._fired:
                _async_raise(self._ident, None)


def _async_raise(ident: int, exception: type[BaseException] | None) -> None:
    """Raise `exception` in thread `ident` at its next bytecode (None: withdraw it)."""
    ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(ident), ctypes.py_object(exception) if exception else None
    )


def send_partition(job: Job, number: int, paths: list[str]) -> dict[str, Any]:
    """Send partition `number` (`paths`); return its run-level facts (also put as ``done``).

    Parameters
    ----------
    job : Job
        The run's peer, options and name.
    number : int
        The partition's number (0, 1, ...).
    paths : list of str
        Its inputs, as the workers see them.
    """
    import uuid

    client = get_client()
    attempt = uuid.uuid4().hex
    queue = Queue(job.run, client=client)
    queue.put(("begin", number, attempt))
    answer_var = Variable(f"{job.run}-resume-{number}-{attempt}", client=client)
    answer = answer_var.get(timeout=_BEGIN_TIMEOUT)
    answer_var.delete()
    skip = set(answer["skip"])
    resent = set(answer["resent"])
    order = [index for index in range(len(paths)) if index not in skip]
    halt = threading.Event()
    source = _Paths(paths, order, halt)
    matcher = _Matcher(paths, order) if order else None
    rows = _Rows(queue, number, attempt)
    marks = _Marks(paths, order, queue, ("started", number, attempt), rows, halt)

    def on_result(result: FileResult) -> None:
        assert matcher is not None
        index = matcher.index(result.path)
        if index in resent:
            result.resent_after_unknown = True
        rows.add(index, result)

    facts: dict[str, Any] = {"interrupted": False}
    watch = _Watch(Variable(f"{job.run}-state", client=client), halt)
    try:
        if order:
            facts.update(_run_sender(job, source, on_result, marks, watch))
    except KeyboardInterrupt:
        facts["interrupted"] = True
    finally:
        try:
            watch.finish()
        except KeyboardInterrupt:
            facts["interrupted"] = True
        rows.close()
    facts["taken"] = source.taken
    queue.put(("done", number, attempt, facts))
    return facts


def _run_sender(
    job: Job, source: Iterator[str], on_result: Any, marks: _Marks, watch: _Watch
) -> dict[str, Any]:
    """Run the ordinary sender over `source`; the facts the coordinator merges."""
    settings = job.settings
    if job.tls is not None:
        from storescu.kernel.errors import TlsError
        from storescu.kernel.records import replace
        from storescu.net.tls import client_context

        try:
            context = client_context(job.tls)
        except TlsError as exc:  # a key, certificate or profile problem on this worker
            log.critical("TLS: %s", exc)
            return {
                "fatal": f"TLS: {exc}",
                "halted": False,
                "halted_on_status": None,
                "network_failure": False,
                "interrupted": False,
                "associations": 0,
            }
        settings = replace(settings, tls=context, tls_server_name=job.tls.sni)
    sender = make_sender(job.host, job.port, settings, job.options, on_result, False)
    sender.on_send_start = marks
    watch.sender = sender
    items = open_inputs(source, read_mode=job.read_mode, options=InputOptions())
    try:
        result = sender.run(items)
    except KeyboardInterrupt:
        result = sender.run_result
    finally:
        watch.finish()
    return {
        "fatal": result.fatal,
        "halted": result.halted,
        "halted_on_status": result.halted_on_status,
        "network_failure": result.network_failure,
        "interrupted": result.interrupted,
        "associations": result.associations,
    }
