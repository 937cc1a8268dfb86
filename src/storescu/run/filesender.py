"""One input at a time over one association: the per-file step of the run.

Theory of operation
-------------------
:class:`FileSender` holds what a store needs: the association (opened for
the first input that needs one, renewed after it is lost, with ``--retry``'s
back-off for transient failures), the run's counters (association and send
numbers, which ``+II``'s invented identities follow) and the accounting of
results. :meth:`FileSender._send_item` sends one input ``--repeat`` times and
says how the run goes on (halt or not); each send is retried per
``--retry`` (A7xx, a request that never got out completely; an unknown
outcome only with ``resend_unknown``), and each try is one C-STORE
(:meth:`FileSender._attempt`): select the accepted presentation context
(PS3.8 9.3.3.2), encode the dataset for it, send the request and its
dataset, judge the response (PS3.4 B.2.3).

With an Asynchronous Operations Window (PS3.7 D.3.3.3; ``--max-ops-invoked``)
a send does not wait for its response: see :mod:`storescu.run.windowed`.

:class:`~storescu.run.sender.Sender` adds the run loop on top: reading and
planning the inputs, halting, accounting for an interrupted run.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from enum import Enum
from typing import TYPE_CHECKING

from storescu.dataset import inspection
from storescu.kernel.constants import modality_of, sop_class_name, transfer_syntax_name
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
from storescu.protocol.dimse import PRIORITIES
from storescu.run.compressing import compressing_for
from storescu.run.contextlog import TRACE, log_accepted, log_proposal, trace_dataset
from storescu.run.interrupts import InterruptGuard
from storescu.run.results import FileResult, Outcome, ResultCallback, RunResult

if TYPE_CHECKING:
    from storescu.dataset.rewrite import Rewriter
    from storescu.net.responses import StoreResponse
    from storescu.protocol.negotiation import AcceptedContext
    from storescu.protocol.pdu import PresentationContextRQ
    from storescu.run.items import Reader, _Item
    from storescu.run.options import SendOptions

__all__ = ["TRACE", "FileSender"]

log = logging.getLogger("storescu")

_MAX_RETRY_DELAY = 30.0


#: Why an input is not sent when the run was halted by another part of it.
HALTED_ELSEWHERE = "not sent: the run halted after an unsuccessful store"


class _Step(Enum):
    """How the run goes on after an input."""

    CONTINUE = 1
    HALT = 2
    NO_ASSOCIATION_RECORDED = 3


class FileSender:
    """Sends inputs one at a time over an association it opens as needed.

    Parameters are those of :class:`~storescu.run.sender.Sender`, which adds
    the run loop; results are recorded in ``run_result`` and given to
    ``on_result`` as soon as they are known.
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
        if options.priority not in PRIORITIES:
            raise ValueError(f"priority must be one of low, medium, high, not {options.priority!r}")
        self._priority = PRIORITIES[options.priority]
        self.on_result = on_result
        self.keep_results = keep_results
        self.run_result = RunResult()
        self._assoc: StoreAssociation | None = None
        # The proposal of the next association (see Sender._use).
        self._contexts: tuple[PresentationContextRQ, ...] = ()
        # How many results of the input being sent are recorded, and the
        # message ID of a request whose result is not: what an interrupted
        # run must still account for.
        self._current_rows = 0
        self._in_flight: int | None = None
        self._guard = InterruptGuard()
        self._rewriter = _rewriter_for(options)
        self._compressing = compressing_for(options)  # --compress: run/compressing.py
        self._sends = 0  # numbers each send (a file x --repeat); retries share it
        #: Called with an input's path just before its first request may go out
        #: (from the thread that sends it): a cluster task marks it under way
        #: there. False halts the run (the input is not-sent), as a failure would.
        self.on_send_start: Callable[[str], bool] | None = None
        self._association = 0  # the number of the association requested last
        self._next_up: _Item | None = None  # prepared while a response is awaited
        #: How a failed association request is logged (a parallel worker that
        #: can leave its input to the others only warns).
        self._failure_level = logging.CRITICAL

    # ------------------------------------------------------------ results

    def _record(self, result: FileResult) -> None:
        """Deliver `result`: the report row, the count, ``on_result``."""
        with self._guard:  # the report row and the count go together
            run = self.run_result
            if self.keep_results:
                run.results.append(result)
            run.counts[result.outcome] = run.counts.get(result.outcome, 0) + 1
            if self.on_result is not None:
                self.on_result(result)
            self._current_rows += 1
            self._in_flight = None

    def _result(self, item: _Item, outcome: Outcome, **fields: object) -> FileResult:
        """A result for ``item`` (its identity as inspected) with `fields` set."""
        result = FileResult(item.path, outcome)
        if item.info is not None:
            result.sop_class_uid = item.info.sop_class_uid
            result.sop_instance_uid = item.info.sop_instance_uid
            result.file_transfer_syntax = item.info.transfer_syntax
            result.compression = item.compression  # --compress: why it went uncompressed
        for key, value in fields.items():
            setattr(result, key, value)
        return result

    # ------------------------------------------------------- associations

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
            log_proposal(contexts)
        began = time.perf_counter()
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
        if self._compressing is not None:  # --compress auto: a round trip measured
            self._compressing.associated(time.perf_counter() - began)
        log.info("Association Accepted (Max Send PDV: %d)", assoc.max_fragment)
        if self.options.show_contexts:
            log_accepted(assoc)
        return None

    def _number_association(self) -> int:
        """Count an association request; return its number (1, 2... in the run)."""
        self.run_result.associations += 1
        return self.run_result.associations

    # ---------------------------------------------------------- one input

    def _prepare(self, item: _Item) -> None:
        """Finish inspecting `item` just before it is sent (see :func:`.inspection.verify_file`).

        The truncation check left out when the input was read ahead for
        planning; a small file is read whole here and sent from memory.
        Called for the next input while the peer stores the current one.
        """
        info = item.info
        if info is None or item.verified or item.dataset is not None:
            return
        item.verified = True
        try:
            item.info, item.data = inspection.verify_file(info, read_mode=self.options.read_mode)
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
        if self.on_send_start is not None and not self.on_send_start(item.path):
            # The run was halted elsewhere (another task of a cluster run).
            for _ in range(self.options.repeat):
                self._record(self._result(item, Outcome.NOT_SENT, error=HALTED_ELSEWHERE))
            return _Step.HALT
        for repeat in range(self.options.repeat):
            self._sends += 1
            step = self._send_one(item, repeat)
            if step is not None:
                return step
        return _Step.CONTINUE

    def _send_one(self, item: _Item, repeat: int) -> _Step | None:
        """Send `item` once (its repeat number `repeat`); a step when the run cannot go on.

        One request at a time: the response is awaited and the result
        recorded (:class:`~storescu.run.windowed.WindowedSender` overrides this
        with the window's way).
        """
        result = self._send_with_retries(item)
        if result is None:
            # Account for the repeats of this item that will not happen.
            for _ in range(repeat, self.options.repeat):
                self._record(self._result(item, Outcome.NOT_SENT, error="association failed"))
            return _Step.NO_ASSOCIATION_RECORDED
        self._record(result)
        if not (result.outcome.stored or result.outcome.neutral) and self.options.halt:
            return _Step.HALT
        return None

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
        """One C-STORE of ``item``; returns its result and whether a retry may help.

        The steps: the accepted presentation context for the input's SOP class
        and syntax (:meth:`_no_context` when there is none), its dataset in
        that context's transfer syntax (:meth:`_open_encoded`), the C-STORE
        itself (:meth:`_store`).
        """
        assoc = self._assoc
        assert assoc is not None
        opened = self._open_for_store(item, assoc)
        if isinstance(opened, FileResult):
            return opened, False
        context, reader, instance, started, verbose = opened
        return self._store(item, assoc, context, reader, instance, started, verbose)

    def _open_for_store(
        self, item: _Item, assoc: StoreAssociation
    ) -> tuple[AcceptedContext, Reader, str, float, bool] | FileResult:
        """The context, reader and instance UID for a C-STORE of `item`, or its result.

        The result (not sent, skipped) when no presentation context fits or
        the dataset cannot be encoded for it; else also when the send started
        and whether INFO messages are logged.
        """
        assert item.info is not None
        info = item.info
        started = time.perf_counter()
        # Checked once: the arguments of the messages below (names looked up in
        # tables) would otherwise be computed for every file at any log level.
        verbose = log.isEnabledFor(logging.INFO)
        if verbose:
            log.info("Sending file: %s", item.path)
        if log.isEnabledFor(TRACE):
            trace_dataset(item)
        if self._compressing is not None:  # --compress: a lossless syntax when accepted
            packed = self._compressing.open(item, assoc.accepted, self._rewriter, self._sends)
            if packed is not None:
                return (*packed, started, verbose)
        deflate = self.options.propose == "deflated" or self.options.compress == "deflate"
        context = assoc.accepted.select(info.sop_class_uid, info.transfer_syntax, deflate)
        if context is None:
            return self._no_context(item)
        opened = self._open_encoded(item, assoc, context.transfer_syntax)
        if isinstance(opened, FileResult):
            return opened
        reader, instance = opened
        return context, reader, instance, started, verbose

    def _no_context(self, item: _Item) -> FileResult:
        """The peer accepted no presentation context for ``item``: not sent."""
        assert item.info is not None
        info = item.info
        item.data = None  # not sent: its file's bytes need not wait for the window's end
        modality = modality_of(info.sop_class_uid)
        message = f"No presentation context for: ({modality}) {info.sop_class_uid}"
        log.error("%s (file %s)", message, item.path)  # name the file (RELIABILITY)
        if not any(c.abstract_syntax == info.sop_class_uid for c in self._contexts):
            log.info("  (its SOP class was not proposed: -R or +fc propose the inputs' classes)")
        return self._result(item, Outcome.NOT_SENT, error=message, association=self._association)

    def _open_encoded(
        self, item: _Item, assoc: StoreAssociation, target: str
    ) -> tuple[Reader, str] | FileResult:
        """The dataset of ``item`` encoded in `target` and the SOP Instance UID to send.

        Rewritten or converted as the options say (:meth:`_Item.open`); when
        that cannot be done, the input's result instead: not sent (cannot be
        converted or rewritten), or skipped as invalid (a bad file).
        """
        assert item.info is not None
        info = item.info
        association = self._association
        try:
            return item.open(target, self._rewriter, self._sends, self.options.conversion)
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
            )
        except RewriteError as exc:
            message = f"cannot send {item.path}: {exc}"
            log.error("%s", message)
            return self._result(item, Outcome.NOT_SENT, error=message, association=association)
        except SourceError as exc:
            log.error("Bad DICOM file: %s: %s", item.path, exc.reason)
            return self._result(item, Outcome.SKIPPED_INVALID, error=exc.reason)

    def _store(
        self,
        item: _Item,
        assoc: StoreAssociation,
        context: AcceptedContext,
        reader: Reader,
        instance: str,
        started: float,
        verbose: bool,
    ) -> tuple[FileResult, bool]:
        """Send the C-STORE-RQ and its dataset from `reader`; judge the response.

        `instance` is the SOP Instance UID sent (rewriting may change it);
        the reader is closed whatever happens.
        """
        assert item.info is not None
        message_id = assoc.next_message_id()
        self._in_flight = message_id  # until its result is recorded (see _interrupted)
        base = self._request_fields(item, context, reader, instance, message_id, verbose)
        try:
            response = assoc.send_store(
                context,
                item.info.sop_class_uid,
                instance,
                reader,
                message_id,
                self._prepare_next,
                self._priority,
            )
        except StorescuError as exc:
            if self._compressing is not None and self._compressing.midway(item):
                self._assoc = None  # aborted by the client: sent again, uncompressed
                return self._attempt_again(item)
            return self._store_failed(item, assoc, exc, started, base), True
        finally:
            reader.close()
        base["bytes"] = assoc.dataset_bytes_sent  # written (unknown beforehand when streamed)
        judged = self._judge_response(item, response, started, verbose, base)
        if self._compressing is not None:  # --compress auto: the link's rate
            self._compressing.observe(judged[0])
        return judged

    def _attempt_again(self, item: _Item) -> tuple[FileResult, bool]:
        """`item`'s compressed message was aborted midway: again, uncompressed, newly associated."""
        if not self._associate(self._contexts):
            error = f"association failed (sending it again uncompressed: {item.compression})"
            return self._result(item, Outcome.NOT_SENT, error=error), False
        return self._attempt(item)

    def _request_fields(
        self,
        item: _Item,
        context: AcceptedContext,
        reader: Reader,
        instance: str,
        message_id: int,
        verbose: bool,
    ) -> dict[str, object]:
        """Log the request being sent; the fields its result carries whatever the outcome."""
        assert item.info is not None
        info = item.info
        target = context.transfer_syntax
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
            "bytes": reader.length or 0,
            "association": self._association,
            "message_id": message_id,
            "source_bytes": info.dataset_length or reader.length or 0,
        }
        if instance != info.sop_instance_uid:
            base["sop_instance_uid"] = instance
            base["original_sop_instance_uid"] = info.sop_instance_uid
        return base

    def _store_failed(
        self,
        item: _Item,
        assoc: StoreAssociation,
        exc: StorescuError,
        started: float,
        base: dict[str, object],
    ) -> FileResult:
        """The association is gone in the middle of a store: is the outcome known?"""
        self._assoc = None
        seconds = time.perf_counter() - started
        # The dataset bytes that went out, not the file's: the summary's
        # throughput must not count what a stalled peer never received.
        base = {**base, "bytes": assoc.dataset_bytes_sent}
        if assoc.request_complete:
            # The whole request went out: the peer may have stored it.
            log.error("Store SCU Failed: %s: %s", item.path, exc)
            outcome = Outcome.FAILED_OUTCOME_UNKNOWN
        else:
            # The message never completed (PS3.7 8.1: a dataset ends with
            # its last fragment), so the peer cannot have stored it.
            log.error("Store SCU Failed before the request was complete: %s: %s", item.path, exc)
            outcome = Outcome.NOT_SENT
        return self._result(
            item, outcome, error=str(exc), seconds=seconds, network_failure=True, **base
        )

    def _judge_response(
        self,
        item: _Item,
        response: StoreResponse,
        started: float,
        verbose: bool,
        base: dict[str, object],
    ) -> tuple[FileResult, bool]:
        """The result a C-STORE-RSP gives (PS3.4 B.2.3), and whether a retry may help."""
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


def _rewriter_for(options: SendOptions) -> Rewriter | None:
    """The run's dataset rewriter, or None (then the rewriting code is never imported)."""
    if options.rewrite is None or not options.rewrite.active:
        return None
    from storescu.dataset.rewrite import Rewriter

    return Rewriter(options.rewrite)
