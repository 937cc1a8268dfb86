"""The run: files in, one association (or more), a result for every input.

This is DCMTK storescu's main loop, with its halt / no-halt rules, made
accountable: every input ends with exactly one :class:`FileResult` per
attempted send (``--repeat`` sends a file several times), whatever happened.

The results and options live in :mod:`storescu.run.results` and
:mod:`storescu.run.options` and are re-exported here (the old import path
``storescu.sender`` names them).
"""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Iterable, Iterator, Sequence
from enum import Enum
from itertools import chain
from typing import TYPE_CHECKING

from storescu.dataset import sources
from storescu.dataset.conversion import Conversion
from storescu.kernel.constants import (
    MAX_PRESENTATION_CONTEXTS,
    modality_of,
    sop_class_name,
    transfer_syntax_name,
)
from storescu.kernel.errors import (
    AssociationError,
    AssociationRejected,
    ConversionError,
    NegotiationError,
    RewriteError,
    SourceError,
    StorescuError,
    TimeoutError_,
    TransportError,
)
from storescu.net.client import AssociationSettings, StoreAssociation
from storescu.protocol.negotiation import sop_classes_to_propose, transfer_syntax_lists
from storescu.protocol.pdu import PresentationContextRQ
from storescu.protocol.planning import WINDOW, ProposalSpec, covers, plan
from storescu.run.interrupts import InterruptGuard
from storescu.run.options import SendOptions
from storescu.run.results import FileResult, Outcome, ResultCallback, RunResult

if TYPE_CHECKING:
    from pydicom import Dataset

    from storescu.dataset.rewrite import Rewriter

__all__ = [
    "TRACE",
    "FileResult",
    "Outcome",
    "ResultCallback",
    "RunResult",
    "SendOptions",
    "Sender",
    "dataset_items",
    "inspect_inputs",
    "preset_item",
]

log = logging.getLogger("storescu")


_MAX_RETRY_DELAY = 30.0
#: A halted run lists this many of the files it did not send (the report has all).
_HALT_LIST_MAX = 50
#: Log level below DEBUG for dataset dumps (DCMTK's "trace", ``-ll trace``).
TRACE = 5


class _Step(Enum):
    CONTINUE = 1
    HALT = 2
    NO_ASSOCIATION_RECORDED = 3


class _Item:
    """One input: a file (inspected lazily once) or an in-memory dataset.

    ``preset`` is a result decided before the run (a directory ignored, a file
    a previous report records as sent): it is recorded as is, never sent, and
    never halts the run. An item with neither ``info``, ``error`` nor
    ``preset`` was not inspected (an interrupted run's rest).
    """

    __slots__ = ("data", "dataset", "error", "info", "path", "preset", "verified")

    def __init__(
        self,
        path: str,
        info: sources.FileInfo | None = None,
        dataset: Dataset | None = None,
        error: str | None = None,
        preset: FileResult | None = None,
    ) -> None:
        self.path = path
        self.info = info
        self.dataset = dataset
        self.error = error
        self.preset = preset
        #: The whole file when :meth:`Sender._prepare` read it (small files):
        #: sent from memory, so the file is read once.
        self.data: bytes | None = None
        self.verified = False

    @property
    def sop_class_uid(self) -> str:
        assert self.info is not None
        return self.info.sop_class_uid

    def open(
        self,
        target_ts: str,
        rewriter: Rewriter | None = None,
        send: int = 0,
        conversion: Conversion | None = None,
    ) -> tuple[sources.DatasetReader | _BytesSource, str]:
        """The dataset encoded in `target_ts`, and the SOP Instance UID to send.

        With a `rewriter` (dataset rewriting options) the dataset is rewritten
        first; `send` numbers the send, so retries of one send keep its UIDs.
        A `conversion` that applies (decompression, deflate level, ``-u``)
        takes over from the plain path.
        """
        assert self.info is not None
        # The file read by Sender._prepare serves the plain path once; dropped
        # in every case (a repeat, or rewriting, reads the file again).
        whole, self.data = self.data, None
        if conversion is not None and conversion.special(self.info.transfer_syntax, target_ts):
            return conversion.open(self.info, self.dataset, target_ts, rewriter, send)
        if rewriter is not None:
            return rewriter.open(self.info, self.dataset, target_ts, send)
        if self.dataset is not None:
            reader = _BytesSource(sources.encode_dataset(self.dataset, target_ts))
            return reader, self.info.sop_instance_uid
        return sources.open_dataset(self.info, target_ts, whole), self.info.sop_instance_uid


class _BytesSource:
    """An encoded in-memory dataset exposed like a file reader."""

    def __init__(self, data: bytes) -> None:
        self.length = len(data)
        self._stream = io.BytesIO(data)

    def readinto(self, buf: memoryview) -> int:
        return self._stream.readinto(buf)

    def close(self) -> None:
        self._stream.close()


#: A planned batch: its proposal and its inputs in sending order.
_Batch = tuple[tuple[PresentationContextRQ, ...], list[_Item]]


def inspect_inputs(paths: Iterable[str], read_mode: str) -> list[_Item]:
    """Inspect every path once (cheaply: the meta header, not the dataset)."""
    items: list[_Item] = []
    for path in paths:
        try:
            items.append(_Item(path, sources.inspect_file(path, read_mode=read_mode)))
        except SourceError as exc:
            items.append(_Item(path, error=exc.reason))
    return items


def dataset_items(datasets: Iterable[Dataset]) -> list[_Item]:
    """Wrap in-memory pydicom datasets as inputs."""
    items: list[_Item] = []
    for index, ds in enumerate(datasets):
        name = f"<dataset {index}>"
        try:
            sop_class, sop_instance, ts = sources.dataset_identity(ds)
        except SourceError as exc:
            items.append(_Item(name, error=exc.reason))
            continue
        syntax = ts or "1.2.840.10008.1.2.1"
        info = sources.FileInfo(name, sop_class, sop_instance, syntax, 0, 0, False)
        items.append(_Item(name, info, dataset=ds))
    return items


class Sender:
    """Runs DCMTK storescu's main loop over a list of inputs.

    Parameters
    ----------
    host, port : str, int
        The Storage SCP.
    settings : AssociationSettings
        AE titles, PDU sizes, timeouts.
    options : SendOptions
        Proposal and flow options.
    on_result : callable, optional
        Called with each :class:`FileResult` as soon as it is known (for
        progress and reports written as the run goes).
    keep_results : bool
        Keep every result in ``run_result.results`` (default). Without, only
        the counts by outcome are kept: for runs over millions of files whose
        results go to ``on_result``.
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
        self.host = host
        self.port = port
        self.settings = settings
        self.options = options
        self.on_result = on_result
        self.keep_results = keep_results
        self.run_result = RunResult()
        self._assoc: StoreAssociation | None = None
        self._contexts: tuple[PresentationContextRQ, ...] = ()
        self._static: tuple[PresentationContextRQ, ...] | None = None  # see _plan
        # The inputs as given, the ones not processed yet, the one being sent
        # and how many of its results are recorded: what an interrupted run
        # must still account for.
        self._source: Iterable[_Item] = ()
        self._rest: Iterator[_Item] = iter(())
        self._current: _Item | None = None
        self._current_rows = 0
        self._in_flight: int | None = None
        self._guard = InterruptGuard()
        self._rewriter = _rewriter_for(options)
        self._sends = 0  # numbers each send (a file x --repeat); retries share it
        self._association = 0  # the number of the association requested last
        self._next_up: _Item | None = None  # prepared while a response is awaited
        # The last batch found covered by the open association's proposal (_use).
        self._covered: tuple[tuple[PresentationContextRQ, ...], list[_Item]] | None = None
        #: How a failed association request is logged (a parallel worker that
        #: can leave its input to the others only warns).
        self._failure_level = logging.CRITICAL

    # ---------------------------------------------------------------- run

    def run(self, items: Iterable[_Item]) -> RunResult:
        """Send every item; return the run's results (never raises StorescuError).

        `items` may be a lazy iterator: it is consumed as the run goes (read
        ahead by a bounded window only when the proposal depends on the
        inputs), so a run over millions of files holds few inputs at a time.

        On KeyboardInterrupt the association is aborted, the input being sent
        and every input not reached are recorded (failed-outcome-unknown when
        its request had started, else not-sent), and the KeyboardInterrupt
        propagates. Taking an input and recording a result are guarded steps
        (:class:`~storescu.run.interrupts.InterruptGuard`), so each input is
        recorded exactly once however the interrupt falls.
        """
        started = time.perf_counter()
        self._source = items
        self._guard.install()
        try:
            try:
                self._run(iter(items))
            except KeyboardInterrupt:
                self._interrupted()
                raise
            except Exception as exc:
                # A bug must not lose track of the inputs either (RELIABILITY
                # invariant 4): record every one as for Ctrl-C, then let it surface.
                self._interrupted(f"not sent: internal error: {type(exc).__name__}")
                self.run_result.interrupted = False
                raise
            finally:
                self._end_association()
                self.run_result.seconds = time.perf_counter() - started
        finally:
            self._guard.uninstall()
        return self.run_result

    def _take(self, source: Iterator[_Item], into: list[_Item] | None = None) -> _Item | None:
        """The next input, taken and remembered in one guarded step; None at the end."""
        with self._guard:
            item = next(source, None)
            if item is not None:
                if into is not None:
                    into.append(item)
                else:
                    self._current, self._current_rows = item, 0
            return item

    def _record(self, result: FileResult) -> None:
        with self._guard:  # the report row and the count go together
            run = self.run_result
            if self.keep_results:
                run.results.append(result)
            run.counts[result.outcome] = run.counts.get(result.outcome, 0) + 1
            if self.on_result is not None:
                self.on_result(result)
            self._current_rows += 1
            self._in_flight = None

    def _skip(self, item: _Item, reason: str) -> None:
        """Record an input the run does not send (``repeat`` rows unless invalid)."""
        if item.preset is not None:
            self._record(item.preset)
        elif item.error is not None:
            self._record(self._result(item, Outcome.SKIPPED_INVALID, error=item.error))
        else:
            for _ in range(self.options.repeat):
                self._record(self._result(item, Outcome.NOT_SENT, error=reason))

    def _skip_rest(self, reason: str) -> None:
        while (item := self._take(self._rest)) is not None:
            self._skip(item, reason)

    def _stop_inspecting(self) -> None:
        """The rest will not be sent: ask a lazy input stream not to open the files."""
        stop = getattr(self._source, "stop_inspecting", None)
        if callable(stop):
            stop()

    def _interrupted(self, reason: str = "not sent: interrupted") -> None:
        """Account for the input being sent and every one not reached; abort."""
        run = self.run_result
        run.interrupted = True
        assoc, self._assoc = self._assoc, None
        item, self._current = self._current, None
        if item is not None and item.info is None:
            if self._current_rows == 0:
                self._skip(item, reason)
        elif item is not None:
            # A request was started and its result not recorded: the peer may
            # have stored it (even "request_complete" can lag its last byte).
            unknown = self._in_flight is not None
            for index in range(self.options.repeat - self._current_rows):
                if index == 0 and unknown:
                    error = "interrupted after the request went out: the peer may have stored it"
                    outcome = Outcome.FAILED_OUTCOME_UNKNOWN
                    self._record(
                        self._result(item, outcome, error=error, association=self._association)
                    )
                else:
                    self._record(self._result(item, Outcome.NOT_SENT, error=reason))
        if assoc is not None:
            log.info("Aborting Association")
            assoc.abort()
        self._stop_inspecting()
        for rest in self._rest:  # unguarded: a second Ctrl-C ends this too
            self._skip(rest, reason)

    def _result(self, item: _Item, outcome: Outcome, **fields: object) -> FileResult:
        result = FileResult(item.path, outcome)
        if item.info is not None:
            result.sop_class_uid = item.info.sop_class_uid
            result.sop_instance_uid = item.info.sop_instance_uid
            result.file_transfer_syntax = item.info.transfer_syntax
        for key, value in fields.items():
            setattr(result, key, value)
        return result

    def _spec(self) -> ProposalSpec:
        """What the run proposes (see :mod:`storescu.protocol.planning`)."""
        opts = self.options
        if opts.profile is not None:  # -xf: the profile's contexts, as they are
            by_class = opts.profile.by_class()
            return ProposalSpec(
                classes=tuple(by_class),
                profile=by_class,
                input_syntaxes=opts.propose_file_syntaxes,
            )
        preferred, fallback = transfer_syntax_lists(opts.propose)
        if opts.combine:
            base: tuple[tuple[str, ...], ...] = (tuple(dict.fromkeys((*preferred, *fallback))),)
        else:
            base = (preferred, fallback) if fallback else (preferred,)
        return ProposalSpec(
            classes=tuple(sop_classes_to_propose(opts.required_only, ())),
            base=base,
            input_classes=opts.required_only or opts.propose_file_classes,
            input_syntaxes=opts.propose_file_syntaxes,
        )

    def _plan(self, window: list[_Item]) -> list[_Batch]:
        """The window's batches: (proposal, inputs in sending order)."""
        if self._window_size() == 1:  # the proposal does not depend on the inputs
            if self._static is None:
                self._static = plan(self._spec(), [])[0].contexts
            return [(self._static, list(window))]
        needs = [
            (item.info.sop_class_uid, item.info.transfer_syntax) if item.info is not None else None
            for item in window
        ]
        batches = plan(self._spec(), needs)
        return [(b.contexts, [window[i] for i in b.items]) for b in batches]

    def _window_size(self) -> int:
        """Inputs read ahead and planned together.

        One when the proposal does not depend on the inputs (``-fs``, no
        ``-R``/``+fc``): then the inputs stream one at a time, as DCMTK's do.
        """
        opts = self.options
        depends = (
            opts.propose_file_syntaxes
            or opts.required_only
            or (opts.propose_file_classes and opts.profile is None)
        )
        return WINDOW if depends else 1

    def _use(self, contexts: tuple[PresentationContextRQ, ...], items: list[_Item]) -> None:
        """Make `contexts` the proposal for `items`, keeping an association that covers them.

        Otherwise the open association ends (release, or abort with
        ``--abort``) and the next send opens one with `contexts`.
        """
        if contexts is self._contexts:
            return
        covered = self._covered
        if covered is not None and covered[0] is contexts and covered[1] is items:
            return  # asked for every input of the batch: compare once, not 124 contexts each
        needed = {item.info.sop_class_uid for item in items if item.info is not None}
        if contexts == self._contexts or (
            self._contexts and covers(self._contexts, contexts, needed)
        ):
            self._covered = (contexts, items)
            return
        if self._assoc is not None:
            self._end_association()
        self._contexts = contexts

    def _run(self, stream: Iterator[_Item]) -> None:
        log.info("checking input files ...")
        run = self.run_result
        size = self._window_size()
        first = True
        while True:
            # Read a window: with a fixed proposal just one input -- the first
            # time as far as the first sendable one, to know whether there is
            # anything to send.
            ahead: list[_Item] = []
            self._rest = chain(ahead, stream)
            sendable = exhausted = False
            while len(ahead) < size or (first and not sendable):
                item = self._take(stream, ahead)
                if item is None:
                    exhausted = True
                    break
                if first and not sendable:
                    # Whether there is anything to send at all is known before
                    # any association: the first candidate is checked in full.
                    self._prepare(item)
                sendable = sendable or item.info is not None
            if first and not sendable:
                self._nothing_to_send()
                return
            if not ahead:
                return
            try:
                batches = self._plan(ahead)
            except NegotiationError as exc:
                run.fatal = str(exc)
                self._skip_rest(str(exc))
                return
            if first and not batches[0][0]:
                run.fatal = "no presentation contexts to propose"
                self._skip_rest(run.fatal)
                return
            first = False
            if len(batches) > 1:
                log.info(
                    "%d inputs need %d associations (at most %d presentation contexts each)",
                    len(ahead),
                    len(batches),
                    MAX_PRESENTATION_CONTEXTS,
                )
            batch_of = {id(i): index for index, (_, items) in enumerate(batches) for i in items}
            order = [item for _, items in batches for item in items]
            window = iter(order)
            # What a halt or an interrupt must still account for, in sending order.
            self._rest = chain(window, stream)
            position = 0
            while (item := self._take(window)) is not None:
                position += 1
                self._next_up = order[position] if position < len(order) else None
                contexts, items = batches[batch_of[id(item)]]
                step = self._process(item, contexts, items)
                self._current = None
                if step is _Step.CONTINUE:
                    continue
                self._end_run(step)
                return
            if exhausted:
                return

    def _end_run(self, step: _Step) -> None:
        """The run stops early (halted, or no association): account for the rest."""
        run = self.run_result
        self._stop_inspecting()
        if step is _Step.NO_ASSOCIATION_RECORDED:
            if run.associations > 1:
                # A re-association (after an abort, --no-halt) failed: the
                # run is incomplete, not fatal.
                run.fatal = None
            self._skip_rest("not sent: association failed")
            return
        run.halted = True
        self._halt_rest()

    def _process(
        self, item: _Item, contexts: tuple[PresentationContextRQ, ...], items: list[_Item]
    ) -> _Step:
        """Send one input of a planned batch (`items`, proposed as `contexts`).

        The one place where an input meets an association: the parallel
        sender (:mod:`storescu.run.parallel`) hands it to a worker instead.
        """
        if contexts:
            self._use(contexts, items)
        return self._send_item(item)

    def _nothing_to_send(self) -> None:
        """No input can be sent: DCMTK's fatal "no input files", each still accounted.

        Inputs that a previous run's report records as sent (``--skip-sent``)
        leave nothing to do, which is not a failure.
        """
        files = stored = ignored = 0
        while (item := self._take(self._rest)) is not None:
            if item.preset is None:
                files += 1
                log.error("Bad DICOM file: %s: %s", item.path, item.error)
            elif item.preset.outcome.stored:
                stored += 1
            else:
                ignored += 1  # a directory without +sd
            self._skip(item, "not sent: no valid input")
        if files:
            self.run_result.fatal = "no valid input files"
        elif ignored or not stored:
            log.critical("no input files to be sent")  # DCMTK's words
            self.run_result.fatal = "no input files to be sent"
        else:
            log.info("nothing to send: every input was sent before")

    def _halt_rest(self) -> None:
        """Record the inputs a halted run does not send, and list them (DCMTK is silent)."""
        listed = 0
        while (item := self._take(self._rest)) is not None:
            self._skip(item, "not sent: the run halted after an unsuccessful store")
            if item.preset is not None:
                continue
            if listed == 0:
                log.warning("Halted: files not sent (use --no-halt to go on):")
            if listed < _HALT_LIST_MAX:
                log.warning("  not sent: %s", item.path)
            listed += 1
        if listed > _HALT_LIST_MAX:
            log.warning("  ... and %d more (see --report)", listed - _HALT_LIST_MAX)

    def _associate(self, contexts: tuple[PresentationContextRQ, ...]) -> bool:
        """Open an association, retrying transient failures (``--retry``)."""
        retries = self.options.retries
        delay = self.options.retry_delay
        for attempt in range(retries + 1):
            transient = self._associate_once(contexts)
            if transient is None:
                return True
            if not transient or attempt == retries:
                return False
            log.warning(
                "Retrying the association in %.1f s (retry %d of %d)", delay, attempt + 1, retries
            )
            self._sleep(delay)
            delay = min(delay * 2, _MAX_RETRY_DELAY)
        return False

    def _associate_once(self, contexts: tuple[PresentationContextRQ, ...]) -> bool | None:
        """One association request: None on success, else whether the failure is transient."""
        run = self.run_result
        self._association = self._number_association()
        log.info("Requesting Association")
        if self.options.show_contexts:
            _log_proposal(contexts)
        try:
            self._assoc = StoreAssociation.open(
                self.host, self.port, contexts, self.settings, self.options.family
            )
        except AssociationRejected as exc:
            log.log(self._failure_level, "%s", exc)
            run.fatal = "association rejected"
            return exc.transient
        except NegotiationError as exc:
            log.log(self._failure_level, "%s", exc)
            run.fatal = str(exc)
            return False
        except (AssociationError, TransportError, TimeoutError_) as exc:
            log.log(self._failure_level, "Association Request Failed: %s", exc)
            run.fatal = f"association request failed: {exc}"
            # Refused, reset, timed out or aborted before any store: worth a retry.
            return True
        run.fatal = None
        assoc = self._assoc
        log.info("Association Accepted (Max Send PDV: %d)", assoc.max_fragment)
        if self.options.show_contexts:
            _log_accepted(assoc)
        return None

    def _number_association(self) -> int:
        """Count an association request; return its number (1, 2... in the run)."""
        self.run_result.associations += 1
        return self.run_result.associations

    def _prepare(self, item: _Item) -> None:
        """Finish inspecting `item` just before it is sent (see :func:`sources.verify_file`).

        The truncation check left out when the input was read ahead for
        planning; a small file is read whole here and sent from memory.
        Called for the next input while the peer stores the current one.
        """
        info = item.info
        if info is None or item.verified or item.dataset is not None:
            return
        item.verified = True
        try:
            item.info, item.data = sources.verify_file(info, read_mode=self.options.read_mode)
        except SourceError as exc:
            item.info, item.data, item.error = None, None, exc.reason

    def _prepare_next(self) -> None:
        """While a response is awaited: prepare the input sent next."""
        item = self._next_up
        if item is not None:
            self._prepare(item)

    def _send_item(self, item: _Item) -> _Step:
        """Send one input (``repeat`` times) and say how the run goes on."""
        halt = self.options.halt
        self._prepare(item)
        if item.preset is not None:
            self._record(item.preset)
            return _Step.CONTINUE
        if item.info is None:
            log.error("Bad DICOM file: %s: %s", item.path, item.error)
            self._record(self._result(item, Outcome.SKIPPED_INVALID, error=item.error))
            return _Step.HALT if halt else _Step.CONTINUE
        for repeat in range(self.options.repeat):
            self._sends += 1
            result = self._send_with_retries(item)
            if result is None:
                # Account for the repeats of this item that will not happen.
                for _ in range(repeat, self.options.repeat):
                    self._record(self._result(item, Outcome.NOT_SENT, error="association failed"))
                return _Step.NO_ASSOCIATION_RECORDED
            self._record(result)
            if not result.outcome.stored and halt:
                return _Step.HALT
        return _Step.CONTINUE

    def _send_with_retries(self, item: _Item) -> FileResult | None:
        """One send of ``item``, retried per ``--retry``; None when no association could be had.

        Retried: A7xx (out of resources) and a store whose request never got
        out completely (the peer cannot have stored it). A store whose outcome
        is unknown (the association died while awaiting the response) is
        resent only with ``resend_unknown``, and the result says so.
        """
        retries = self.options.retries
        delay = self.options.retry_delay
        resent_unknown = False
        attempts = 0
        while True:
            if self._assoc is None and not self._associate(self._contexts):
                return None
            attempts += 1
            result, retryable = self._attempt(item)
            result.attempts = attempts
            if resent_unknown:
                result.resent_after_unknown = True
            if not retryable or attempts > retries:
                self._note_failure(result)
                return result
            if result.outcome is Outcome.FAILED_OUTCOME_UNKNOWN:
                if not self.options.resend_unknown:
                    self._note_failure(result)
                    return result
                resent_unknown = True
            log.warning(
                "Retrying %s in %.1f s (retry %d of %d): %s",
                item.path,
                delay,
                attempts,
                retries,
                result.error,
            )
            self._sleep(delay)
            delay = min(delay * 2, _MAX_RETRY_DELAY)

    def _note_failure(self, result: FileResult) -> None:
        if result.outcome is Outcome.FAILED_STATUS and result.status is not None:
            self.run_result.halted_on_status = result.status
        elif result.network_failure:
            self.run_result.network_failure = True

    def _attempt(self, item: _Item) -> tuple[FileResult, bool]:
        """One C-STORE of ``item``; returns its result and whether a retry may help."""
        assoc = self._assoc
        assert assoc is not None and item.info is not None
        info = item.info
        association = self._association
        started = time.perf_counter()
        # Checked once: the arguments of the messages below (names looked up in
        # tables) would otherwise be computed for every file at any log level.
        verbose = log.isEnabledFor(logging.INFO)
        if verbose:
            log.info("Sending file: %s", item.path)
        if log.isEnabledFor(TRACE):
            _trace_dataset(item)
        context = assoc.accepted.select(
            info.sop_class_uid, info.transfer_syntax, self.options.propose == "deflated"
        )
        if context is None:
            item.data = None  # not sent: its file's bytes need not wait for the window's end
            modality = modality_of(info.sop_class_uid)
            message = f"No presentation context for: ({modality}) {info.sop_class_uid}"
            log.error("%s (file %s)", message, item.path)  # name the file (RELIABILITY)
            if not any(c.abstract_syntax == info.sop_class_uid for c in self._contexts):
                log.info(
                    "  (its SOP class was not proposed: -R or +fc propose the inputs' classes)"
                )
            return self._result(
                item, Outcome.NOT_SENT, error=message, association=association
            ), False
        target = context.transfer_syntax
        try:
            reader, instance = item.open(
                target, self._rewriter, self._sends, self.options.conversion
            )
        except ConversionError as exc:
            accepted = assoc.accepted.syntaxes_for(info.sop_class_uid)
            message = (
                f"cannot send {item.path}: "
                f"{exc}; the peer accepted {sop_class_name(info.sop_class_uid)} only as "
                + ", ".join(f"'{transfer_syntax_name(ts)}'" for ts in accepted)
            )
            log.error("%s", message)
            return self._result(
                item,
                Outcome.NOT_SENT,
                error=message,
                network_transfer_syntax=target,
                association=association,
            ), False
        except RewriteError as exc:
            message = f"cannot send {item.path}: {exc}"
            log.error("%s", message)
            return self._result(
                item, Outcome.NOT_SENT, error=message, association=association
            ), False
        except SourceError as exc:
            log.error("Bad DICOM file: %s: %s", item.path, exc.reason)
            return self._result(item, Outcome.SKIPPED_INVALID, error=exc.reason), False
        message_id = assoc.next_message_id()
        self._in_flight = message_id  # until its result is recorded (see _interrupted)
        if verbose:
            log.info(
                "Converting transfer syntax: %s -> %s",
                transfer_syntax_name(info.transfer_syntax),
                transfer_syntax_name(target),
            )
            log.info(
                "Sending Store Request (MsgID %d, %s)", message_id, modality_of(info.sop_class_uid)
            )
        base: dict[str, object] = {
            "network_transfer_syntax": target,
            "bytes": reader.length,
            "association": association,
            "message_id": message_id,
        }
        if instance != info.sop_instance_uid:
            base["sop_instance_uid"] = instance
            base["original_sop_instance_uid"] = info.sop_instance_uid
        try:
            response = assoc.send_store(
                context, info.sop_class_uid, instance, reader, message_id, self._prepare_next
            )
        except StorescuError as exc:
            self._assoc = None
            seconds = time.perf_counter() - started
            if assoc.request_complete:
                # The whole request went out: the peer may have stored it.
                log.error("Store SCU Failed: %s: %s", item.path, exc)
                outcome = Outcome.FAILED_OUTCOME_UNKNOWN
            else:
                # The message never completed (PS3.7 8.1: a dataset ends with
                # its last fragment), so the peer cannot have stored it.
                log.error(
                    "Store SCU Failed before the request was complete: %s: %s", item.path, exc
                )
                outcome = Outcome.NOT_SENT
            result = self._result(
                item, outcome, error=str(exc), seconds=seconds, network_failure=True, **base
            )
            return result, True
        finally:
            reader.close()
        status = response.status
        for warning in response.warnings:
            log.warning("%s: %s", item.path, warning)  # name the file (RELIABILITY row 32)
        if verbose:
            log.info("Received Store Response (%s)", status.text)
        detail = {
            "status": status.code,
            "status_text": status.text,
            "seconds": time.perf_counter() - started,
        }
        comment = f", Error Comment: {response.error_comment}" if response.error_comment else ""
        if status.is_failure:
            error = f"status {status.hex} ({status.text}){comment}"
            log.error("Store Failed, file: %s: %s", item.path, error)
            result = self._result(item, Outcome.FAILED_STATUS, error=error, **base, **detail)
            # PS3.4 B.2.3: A7xx "out of resources" is the transient failure.
            return result, status.code & 0xFF00 == 0xA700
        if status.is_warning:
            log.warning(
                "Store Warning, file: %s: status %s (%s)%s",
                item.path,
                status.hex,
                status.text,
                comment,
            )
            return self._result(item, Outcome.SENT_WITH_WARNING, **base, **detail), False
        return self._result(item, Outcome.SENT, **base, **detail), False

    def _sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    def _end_association(self) -> None:
        assoc = self._assoc
        if assoc is None:
            return
        self._assoc = None
        if self.options.abort_at_end:
            log.info("Aborting Association")
            assoc.abort()
            return
        log.info("Releasing Association")
        try:
            assoc.release()
        except StorescuError as exc:
            log.error("Association Release Failed: %s", exc)


def preset_item(result: FileResult) -> _Item:
    """An input whose result is decided before the run: recorded as is, never sent.

    For a directory ignored without ``+sd`` or a file a previous report
    records as sent (``--skip-sent``).
    """
    return _Item(result.path, preset=result)


def _rewriter_for(options: SendOptions) -> Rewriter | None:
    """The run's dataset rewriter, or None (then the rewriting code is never imported)."""
    if options.rewrite is None or not options.rewrite.active:
        return None
    from storescu.dataset.rewrite import Rewriter

    return Rewriter(options.rewrite)


def _log_proposal(contexts: Sequence[PresentationContextRQ]) -> None:
    """+v: the proposed presentation contexts, one block per context."""
    log.info("Proposed Presentation Contexts:")
    for ctx in contexts:
        log.info("  Context ID:        %d (Proposed)", ctx.context_id)
        log.info("    Abstract Syntax: =%s", sop_class_name(ctx.abstract_syntax))
        log.info("    Proposed Transfer Syntax(es):")
        for ts in ctx.transfer_syntaxes:
            log.info("      =%s", transfer_syntax_name(ts))


def _log_accepted(assoc: StoreAssociation) -> None:
    """+v: what the peer accepted, and its implementation."""
    uid, version = assoc.peer_implementation
    log.info("Their Implementation Class UID:    %s", uid)
    log.info("Their Implementation Version Name: %s", version)
    log.info("Their Max PDU Receive Size:  %d", assoc.peer_max_pdu)
    log.info("Accepted Presentation Contexts:")
    for ctx in assoc.accepted.contexts:
        log.info("  Context ID:        %d (Accepted)", ctx.context_id)
        log.info("    Abstract Syntax: =%s", sop_class_name(ctx.abstract_syntax))
        log.info("    Accepted Transfer Syntax: =%s", transfer_syntax_name(ctx.transfer_syntax))


def _trace_dataset(item: _Item) -> None:
    """``-ll trace``: dump the dataset (without pixel data) with tag names.

    Names come from pydicom's dictionary plus the ``DCMDICTPATH`` files.
    """
    from storescu.dataset.dictionary import ensure_loaded

    ensure_loaded()
    try:
        if item.dataset is not None:
            dataset: object = item.dataset
        else:
            import pydicom

            dataset = pydicom.dcmread(item.path, stop_before_pixels=True, force=True)
    except Exception as exc:  # a dump is best effort; sending goes on
        log.log(TRACE, "cannot dump %s: %s", item.path, exc)
        return
    log.log(TRACE, "Dataset of %s:\n%s", item.path, dataset)
