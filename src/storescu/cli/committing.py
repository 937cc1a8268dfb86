"""``--commit`` and ``--commit-check`` on the command line (PS3.4 Annex J).

After the sending run (:mod:`storescu.cli.sending`) has closed its report and
printed its summary, :func:`commit_after_send` requests Storage Commitment for
what was stored, fills the report's ``commitment`` field, prints the
commitment summary and decides the exit code. :func:`run_commit_check` does
the same for the instances an earlier report lists as sent, without sending.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, TextIO

from storescu.cli.exitcodes import ExitCode
from storescu.kernel.errors import ReportError, TransportError, UsageError

if TYPE_CHECKING:
    from collections.abc import Iterable

    from storescu.cli.options import Options
    from storescu.net.client import AssociationSettings
    from storescu.protocol.commitment import Reference
    from storescu.run.commitment import CommitmentRun

log = logging.getLogger("storescu")


def commit_after_send(
    options: Options,
    settings: AssociationSettings,
    references: Iterable[Reference],
    send_code: int,
    err: TextIO,
) -> int:
    """Request commitment for `references` (the stored instances); return the exit code.

    `send_code` is the sending run's exit code: a failed run keeps it.
    """
    refs = list(references)
    if not refs:
        log.warning("--commit: no instance was stored, no commitment requested")
        return send_code
    run = _request(options, settings, refs, options.report, err)
    return _exit_code(run, send_code)


def run_commit_check(options: Options, settings: AssociationSettings, err: TextIO) -> int:
    """``--commit-check REPORT``: request commitment for what REPORT lists as sent."""
    from storescu.run.commitment import references_from_report

    assert options.commit_check is not None
    try:
        refs = references_from_report(options.commit_check)
    except ReportError as exc:
        raise UsageError(str(exc)) from exc
    if not refs:
        log.critical("--commit-check: '%s' lists no instance as sent", options.commit_check)
        return int(ExitCode.FAILURE)
    log.info("--commit-check: %d instance(s) listed as sent", len(refs))
    run = _request(options, settings, refs, options.commit_check, err)
    return _exit_code(run, int(ExitCode.SUCCESS))


def _request(
    options: Options,
    settings: AssociationSettings,
    refs: list[Reference],
    report: str | None,
    err: TextIO,
) -> CommitmentRun:
    from storescu.cli.verify import address_family
    from storescu.run.commitment import CommitmentOptions, annotate_report, request_commitment

    commit_options = CommitmentOptions(
        batch_size=options.commit_batch,
        timeout=options.commit_timeout,
        listen_port=options.commit_port,
    )
    try:
        run = request_commitment(
            options.peer, options.port, refs, settings, commit_options, address_family(options)
        )
    except TransportError as exc:  # the listen port cannot be opened
        from storescu.run.commitment import UNCONFIRMED, Commitment, CommitmentRun

        log.critical("%s", exc)
        run = CommitmentRun({ref: Commitment(UNCONFIRMED) for ref in refs}, error=str(exc))
    if report is not None:
        try:
            annotate_report(report, run)
        except ReportError as exc:
            log.critical("%s", exc)
            run.error = run.error or str(exc)
    if options.log_level != "fatal":
        print(run.summary(), file=err, flush=True)
    return run


def _exit_code(run: CommitmentRun, send_code: int) -> int:
    if run.interrupted:
        # The report and the summary are complete: main() says "interrupted", exits 130.
        raise KeyboardInterrupt
    if send_code != ExitCode.SUCCESS:
        return send_code
    return int(ExitCode.SUCCESS if run.all_committed else ExitCode.NOT_COMMITTED)
