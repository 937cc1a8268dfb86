"""The run: files in, one association (or more), a result for every input.

This is DCMTK storescu's main loop, with its halt / no-halt rules, made
accountable: every input ends with exactly one :class:`FileResult` per
attempted send (``--repeat`` sends a file several times), whatever happened.
"""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING

from storescu import sources
from storescu.client import AssociationSettings, StoreAssociation
from storescu.constants import (
    modality_of,
    sop_class_name,
    transfer_syntax_name,
)
from storescu.errors import (
    AssociationAborted,
    AssociationError,
    AssociationRejected,
    ConversionError,
    NegotiationError,
    SourceError,
    StorescuError,
    TimeoutError_,
    TransportError,
)
from storescu.negotiation import build_proposal, sop_classes_to_propose, transfer_syntax_lists
from storescu.pdu import PresentationContextRQ

if TYPE_CHECKING:
    from pydicom import Dataset

log = logging.getLogger("storescu")


class Outcome(Enum):
    """What happened to one input (the categories of RELIABILITY.md)."""

    SENT = "sent"
    SENT_WITH_WARNING = "sent-with-warning"
    FAILED_STATUS = "failed-status"
    FAILED_OUTCOME_UNKNOWN = "failed-outcome-unknown"
    NOT_SENT = "not-sent"
    SKIPPED_INVALID = "skipped-invalid-file"

    @property
    def stored(self) -> bool:
        """True when the peer confirmed it stored the instance."""
        return self in (Outcome.SENT, Outcome.SENT_WITH_WARNING)


@dataclass(slots=True)
class FileResult:
    """The outcome of one input (one row of the per-file report)."""

    path: str
    outcome: Outcome
    sop_class_uid: str | None = None
    sop_instance_uid: str | None = None
    file_transfer_syntax: str | None = None
    network_transfer_syntax: str | None = None
    bytes: int = 0
    association: int | None = None
    message_id: int | None = None
    status: int | None = None
    status_text: str | None = None
    error: str | None = None
    seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class SendOptions:
    """How a run behaves (DCMTK's proposal and flow options).

    Parameters
    ----------
    propose : str
        ``"uncompr"`` (-x=), ``"little"`` (-xe), ``"big"`` (-xb), ``"implicit"`` (-xi).
    required_only : bool
        ``-R``: propose only the SOP classes of the inputs.
    combine : bool
        ``+C``: one context per SOP class with all syntaxes.
    repeat : int
        ``--repeat``: send each file this many times.
    halt : bool
        Stop at the first unsuccessful store (DCMTK default); ``--no-halt`` goes on.
    abort_at_end : bool
        ``--abort``: end with A-ABORT instead of A-RELEASE.
    read_mode : str
        ``"auto"`` (+f), ``"fileformat"`` (+fo), ``"dataset"`` (-f).
    show_contexts : bool
        ``+v``: log the proposed and accepted presentation contexts.
    """

    propose: str = "uncompr"
    required_only: bool = False
    combine: bool = False
    repeat: int = 1
    halt: bool = True
    abort_at_end: bool = False
    read_mode: str = "auto"
    show_contexts: bool = False


@dataclass(slots=True)
class RunResult:
    """Everything a caller needs to report a run and choose an exit code."""

    results: list[FileResult] = field(default_factory=list)
    #: Set when the run could not start or the association failed before any
    #: store (rejected, refused, no acceptable context...).
    fatal: str | None = None
    #: The failure status that halted the run (halt mode), if any.
    halted_on_status: int | None = None
    #: True when an association was lost (abort, timeout) while storing.
    network_failure: bool = False
    halted: bool = False
    seconds: float = 0.0
    associations: int = 0

    @property
    def all_stored(self) -> bool:
        """True when every result is sent or sent-with-warning."""
        return self.fatal is None and all(r.outcome.stored for r in self.results)

    def count(self, outcome: Outcome) -> int:
        """How many results have ``outcome``."""
        return sum(1 for r in self.results if r.outcome is outcome)


class _Step(Enum):
    CONTINUE = 1
    HALT = 2
    NO_ASSOCIATION_RECORDED = 3


class _Item:
    """One input: a file (inspected lazily once) or an in-memory dataset."""

    __slots__ = ("dataset", "error", "info", "path")

    def __init__(
        self,
        path: str,
        info: sources.FileInfo | None = None,
        dataset: Dataset | None = None,
        error: str | None = None,
    ) -> None:
        self.path = path
        self.info = info
        self.dataset = dataset
        self.error = error

    @property
    def sop_class_uid(self) -> str:
        assert self.info is not None
        return self.info.sop_class_uid

    def open(self, target_ts: str) -> sources.DatasetReader | _BytesSource:
        assert self.info is not None
        if self.dataset is not None:
            return _BytesSource(sources.encode_dataset(self.dataset, target_ts))
        return sources.open_dataset(self.info, target_ts)


class _BytesSource:
    """An encoded in-memory dataset exposed like a file reader."""

    def __init__(self, data: bytes) -> None:
        self.length = len(data)
        self._stream = io.BytesIO(data)

    def readinto(self, buf: memoryview) -> int:
        return self._stream.readinto(buf)

    def close(self) -> None:
        self._stream.close()


ResultCallback = Callable[[FileResult], None]


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
    """

    def __init__(
        self,
        host: str,
        port: int,
        settings: AssociationSettings,
        options: SendOptions,
        on_result: ResultCallback | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.settings = settings
        self.options = options
        self.on_result = on_result
        self.run_result = RunResult()
        self._assoc: StoreAssociation | None = None
        self._contexts: tuple[PresentationContextRQ, ...] = ()

    # ---------------------------------------------------------------- run

    def run(self, items: Sequence[_Item]) -> RunResult:
        """Send every item; return the run's results (never raises StorescuError)."""
        started = time.perf_counter()
        try:
            self._run(items)
        finally:
            self._end_association()
            self.run_result.seconds = time.perf_counter() - started
        return self.run_result

    def _record(self, result: FileResult) -> None:
        self.run_result.results.append(result)
        if self.on_result is not None:
            self.on_result(result)

    def _not_sent(self, items: Sequence[_Item], reason: str) -> None:
        for item in items:
            for _ in range(self._repeats(item)):
                self._record(self._result(item, Outcome.NOT_SENT, error=reason))

    def _repeats(self, item: _Item) -> int:
        return 1 if item.info is None else self.options.repeat

    def _result(self, item: _Item, outcome: Outcome, **fields: object) -> FileResult:
        result = FileResult(item.path, outcome)
        if item.info is not None:
            result.sop_class_uid = item.info.sop_class_uid
            result.sop_instance_uid = item.info.sop_instance_uid
            result.file_transfer_syntax = item.info.transfer_syntax
        for key, value in fields.items():
            setattr(result, key, value)
        return result

    def _proposal(self, items: Sequence[_Item]) -> tuple[PresentationContextRQ, ...]:
        preferred, fallback = transfer_syntax_lists(self.options.propose)
        classes = sop_classes_to_propose(
            self.options.required_only,
            (item.info.sop_class_uid for item in items if item.info is not None),
        )
        return build_proposal(classes, preferred, fallback, self.options.combine)

    def _run(self, items: Sequence[_Item]) -> None:
        log.info("checking input files ...")
        run = self.run_result
        valid = [item for item in items if item.info is not None]
        if not valid:
            # DCMTK: nothing to send is fatal, but each input is still accounted.
            for item in items:
                self._record(self._result(item, Outcome.SKIPPED_INVALID, error=item.error))
                log.error("Bad DICOM file: %s: %s", item.path, item.error)
            run.fatal = "no valid input files"
            return
        try:
            contexts = self._proposal(items)
        except NegotiationError as exc:
            run.fatal = str(exc)
            self._skip_all(items, str(exc))
            return
        if not contexts:
            run.fatal = "no presentation contexts to propose"
            self._skip_all(items, run.fatal)
            return
        self._contexts = contexts
        for position, item in enumerate(items):
            step = self._send_item(item)
            if step is _Step.CONTINUE:
                continue
            rest = items[position + 1 :]
            if step is _Step.NO_ASSOCIATION_RECORDED:
                if run.associations > 1:
                    # A re-association (after an abort, --no-halt) failed: the
                    # run is incomplete, not fatal.
                    run.fatal = None
                self._skip_all(rest, "not sent: association failed")
                return
            run.halted = True
            self._not_sent(rest, "not sent: the run halted after an unsuccessful store")
            if rest:
                # DCMTK stops silently here; say which files did not go.
                log.warning("Halted: %d file(s) not sent (use --no-halt to go on):", len(rest))
                for skipped in rest:
                    log.warning("  not sent: %s", skipped.path)
            return

    def _skip_all(self, items: Sequence[_Item], reason: str) -> None:
        for item in items:
            if item.info is None:
                self._record(self._result(item, Outcome.SKIPPED_INVALID, error=item.error))
            else:
                self._not_sent([item], reason)

    def _associate(self, contexts: tuple[PresentationContextRQ, ...]) -> bool:
        run = self.run_result
        run.associations += 1
        log.info("Requesting Association")
        if self.options.show_contexts:
            _log_proposal(contexts)
        try:
            self._assoc = StoreAssociation.open(self.host, self.port, contexts, self.settings)
        except AssociationRejected as exc:
            log.critical("%s", exc)
            run.fatal = "association rejected"
            return False
        except NegotiationError as exc:
            log.critical("%s", exc)
            run.fatal = str(exc)
            return False
        except (AssociationError, TransportError, TimeoutError_) as exc:
            log.critical("Association Request Failed: %s", exc)
            run.fatal = f"association request failed: {exc}"
            return False
        assoc = self._assoc
        log.info("Association Accepted (Max Send PDV: %d)", assoc.max_fragment)
        if self.options.show_contexts:
            _log_accepted(assoc)
        return True

    def _send_item(self, item: _Item) -> _Step:
        """Send one input (``repeat`` times) and say how the run goes on."""
        halt = self.options.halt
        if item.info is None:
            log.error("Bad DICOM file: %s: %s", item.path, item.error)
            self._record(self._result(item, Outcome.SKIPPED_INVALID, error=item.error))
            return _Step.HALT if halt else _Step.CONTINUE
        for attempt in range(self.options.repeat):
            if self._assoc is None and not self._associate(self._contexts):
                # Account for the repeats of this item that will not happen.
                for _ in range(attempt, self.options.repeat):
                    self._record(self._result(item, Outcome.NOT_SENT, error="association failed"))
                return _Step.NO_ASSOCIATION_RECORDED
            if not self._store_once(item) and halt:
                return _Step.HALT
        return _Step.CONTINUE

    def _store_once(self, item: _Item) -> bool:
        """One C-STORE; return False when it was not stored."""
        assoc = self._assoc
        assert assoc is not None and item.info is not None
        info = item.info
        started = time.perf_counter()
        log.info("Sending file: %s", item.path)
        context = assoc.accepted.select(info.sop_class_uid, info.transfer_syntax)
        if context is None:
            modality = modality_of(info.sop_class_uid)
            message = f"No presentation context for: ({modality}) {info.sop_class_uid}"
            log.error("%s", message)
            self._record(
                self._result(
                    item, Outcome.NOT_SENT, error=message, association=self.run_result.associations
                )
            )
            return False
        target = context.transfer_syntax
        try:
            reader = item.open(target)
        except ConversionError as exc:
            message = (
                f"cannot send {item.path}: {exc}; the peer accepted "
                f"{sop_class_name(info.sop_class_uid)} only as "
                f"'{transfer_syntax_name(target)}'"
            )
            log.error("%s", message)
            self._record(
                self._result(
                    item,
                    Outcome.NOT_SENT,
                    error=message,
                    network_transfer_syntax=target,
                    association=self.run_result.associations,
                )
            )
            return False
        except SourceError as exc:
            log.error("Bad DICOM file: %s: %s", item.path, exc.reason)
            self._record(self._result(item, Outcome.SKIPPED_INVALID, error=exc.reason))
            return False
        log.info(
            "Converting transfer syntax: %s -> %s",
            transfer_syntax_name(info.transfer_syntax),
            transfer_syntax_name(target),
        )
        message_id = assoc.next_message_id()
        log.info(
            "Sending Store Request (MsgID %d, %s)", message_id, modality_of(info.sop_class_uid)
        )
        base = {
            "network_transfer_syntax": target,
            "bytes": reader.length,
            "association": self.run_result.associations,
            "message_id": message_id,
        }
        try:
            response = assoc.send_store(
                context, info.sop_class_uid, info.sop_instance_uid, reader, message_id
            )
        except (AssociationAborted, TransportError, TimeoutError_) as exc:
            self._assoc = None
            self.run_result.network_failure = True
            log.error("Store SCU Failed: %s", exc)
            outcome = Outcome.FAILED_OUTCOME_UNKNOWN
            self._record(
                self._result(
                    item, outcome, error=str(exc), seconds=time.perf_counter() - started, **base
                )
            )
            return False
        except StorescuError as exc:
            # The file could not be read to the end: the message was never
            # complete, so the peer cannot have stored it.
            self._assoc = None
            self.run_result.network_failure = True
            log.error("Store SCU Failed: %s: %s", item.path, exc)
            self._record(self._result(item, Outcome.NOT_SENT, error=str(exc), **base))
            return False
        finally:
            reader.close()
        status = response.status
        for warning in response.warnings:
            log.warning("%s", warning)
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
            self._record(self._result(item, Outcome.FAILED_STATUS, error=error, **base, **detail))
            self.run_result.halted_on_status = status.code
            return False
        if status.is_warning:
            log.warning(
                "Store Warning, file: %s: status %s (%s)%s",
                item.path,
                status.hex,
                status.text,
                comment,
            )
            self._record(self._result(item, Outcome.SENT_WITH_WARNING, **base, **detail))
            return True
        self._record(self._result(item, Outcome.SENT, **base, **detail))
        return True

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
