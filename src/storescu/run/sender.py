"""The run: files in, one association (or more), a result for every input.

This is DCMTK storescu's main loop, with its halt / no-halt rules, made
accountable: every input ends with exactly one :class:`FileResult` per
attempted send (``--repeat`` sends a file several times), whatever happened.

Theory of operation
-------------------
The inputs are read as the run goes, by a bounded window when the proposal
depends on them (``+fs``, ``-R``, ``+fc``: :mod:`storescu.protocol.planning`
makes batches of at most 128 presentation contexts), else one at a time as
DCMTK does. Each input of a batch is sent by the per-file step
(:class:`~storescu.run.filesender.FileSender`, with the window of
:class:`~storescu.run.windowed.WindowedSender`) over an association whose
proposal covers the batch; a halt, a failed association or an interrupt ends
the run with every input not sent still accounted for.

The results and options live in :mod:`storescu.run.results` and
:mod:`storescu.run.options` and are re-exported here (the old import path
``storescu.sender`` names them); the inputs are :mod:`storescu.run.items`.
Whether one association or several are used is chosen above this module
(:func:`storescu.run.factory.make_sender`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator
from itertools import chain

from storescu.kernel.constants import MAX_PRESENTATION_CONTEXTS
from storescu.kernel.errors import NegotiationError
from storescu.net.client import AssociationSettings
from storescu.protocol.negotiation import sop_classes_to_propose, transfer_syntax_lists
from storescu.protocol.pdu import PresentationContextRQ
from storescu.protocol.planning import WINDOW, ProposalSpec, covers, plan
from storescu.run.compressing import compress_contexts
from storescu.run.filesender import TRACE, _Step
from storescu.run.items import _Item, dataset_items, inspect_inputs, preset_item
from storescu.run.options import SendOptions
from storescu.run.results import FileResult, Outcome, ResultCallback, RunResult
from storescu.run.windowed import WindowedSender

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

#: Bytes of small files a window of inputs may keep from inspection to sending
#: (16 MiB: a whole window of 1,024 files of 9 KB; larger files are read again).
_KEEP_BUDGET = 16 * 1024 * 1024

#: A halted run lists this many of the files it did not send (the report has all).
_HALT_LIST_MAX = 50

#: A planned batch: its proposal and its inputs in sending order.
_Batch = tuple[tuple[PresentationContextRQ, ...], list[_Item]]


class Sender(WindowedSender):
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
        super().__init__(host, port, settings, options, on_result, keep_results)
        self._static: tuple[PresentationContextRQ, ...] | None = None  # see _plan
        # The inputs as given, the ones not processed yet and the one being
        # sent: what an interrupted run must still account for (with
        # FileSender's count of its recorded rows).
        self._source: Iterable[_Item] = ()
        self._rest: Iterator[_Item] = iter(())
        self._current: _Item | None = None
        # The last batch found covered by the open association's proposal (_use).
        self._covered: tuple[tuple[PresentationContextRQ, ...], list[_Item]] | None = None

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
        if hasattr(items, "keep_budget"):
            # Small inputs are read once, at inspection (see ItemStream.keep_budget).
            items.keep_budget = _KEEP_BUDGET
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
        if self._under_way or self._retry:  # the window's requests under way: each ends once
            self._abandon_pending(
                "interrupted after the request went out: the peer may have stored it"
            )
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

    def _spec(self) -> ProposalSpec:
        """What the run proposes (see :mod:`storescu.protocol.planning`)."""
        opts = self.options
        compress = compress_contexts(opts.compress)  # --compress: contexts of their own
        if opts.profile is not None:  # -xf: the profile's contexts, as they are
            by_class = opts.profile.by_class()
            return ProposalSpec(
                classes=tuple(by_class),
                profile=by_class,
                input_syntaxes=opts.propose_file_syntaxes,
                compress=compress,
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
            compress=compress,
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
            opts.compress is not None
            or opts.propose_file_syntaxes
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
            if hasattr(self._source, "kept"):
                self._source.kept = 0  # the last window's kept bytes were sent or dropped
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
            elif item.preset.outcome.stored or item.preset.outcome.neutral:
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
