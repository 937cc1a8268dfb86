"""The command line's sending run: inputs, report, renaming, progress and summary.

Everything here hangs off the sender's ``on_result`` callback, so each
result reaches the report (written and flushed), the ``+rn`` renamer, the
counts and the progress line as soon as it is known. The inputs stream in
(:mod:`storescu.run.inputs`) and the sender keeps counts, not results, so memory
does not grow with the number of files. On Ctrl-C the sender records the
rest as not-sent before the KeyboardInterrupt reaches :func:`send`'s
``finally``, which closes the report and prints the summary.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import IO, TYPE_CHECKING, TextIO

from storescu.kernel.errors import UsageError

if TYPE_CHECKING:
    from collections.abc import Callable

    from storescu.cli.options import Options
    from storescu.net.client import AssociationSettings
    from storescu.run.cluster import ClusterSender
    from storescu.run.options import SendOptions
    from storescu.run.report import ReportWriter, SentIndex
    from storescu.run.results import FileResult, RunResult
    from storescu.run.sender import Sender

log = logging.getLogger("storescu")


def send(
    options: Options,
    settings: AssociationSettings,
    send_options: SendOptions,
    err: TextIO,
    extra: Callable[[FileResult], None] | None = None,
) -> RunResult:
    """Send what the command line names; return the run's result.

    `extra`, when given, sees every result too (``--commit`` collects the
    stored instances with it).

    Raises
    ------
    UsageError
        A ``--file-list``, ``--skip-sent`` or ``--report`` file cannot be used
        (nothing was sent).
    KeyboardInterrupt
        After the report, renames and summary are complete.
    """
    from storescu.kernel.errors import ReportError
    from storescu.run.factory import make_sender
    from storescu.run.inputs import FileListReader, InputOptions, open_inputs
    from storescu.run.summary import ProgressBar, Tally, summary_line

    sent = _skip_sent(options)
    report = _open_report(options)
    file_list = _open_file_list(options)
    listing = FileListReader(file_list, options.file_list or "-") if file_list is not None else None
    tally = Tally()
    observers: list[Callable[[FileResult], None]] = [tally]
    if extra is not None:
        observers.append(extra)
    if report is not None:
        observers.append(report)
    renamer = None
    if options.rename:
        from storescu.run.rename import Renamer

        renamer = Renamer()
        observers.append(renamer)
    bar = ProgressBar(err, tally, _total(options)) if _progress_wanted(options, err) else None
    log_filter = bar.log_filter() if bar is not None else logging.Filter()
    if bar is not None:
        observers.append(bar)
        for handler in log.handlers:  # erase the progress line before each message
            handler.addFilter(log_filter)

    def on_result(result: FileResult) -> None:
        for observer in observers:
            observer(result)

    stream = open_inputs(
        options.files,
        read_mode=options.read_mode,
        options=InputOptions(options.scan_directories, options.scan_pattern, options.recurse),
        file_list=listing,
        sent=sent,
    )
    if options.dask is None:
        sender: Sender | ClusterSender = make_sender(
            options.peer, options.port, settings, send_options, on_result, keep_results=False
        )
        close: Callable[[], None] = _nothing
    else:
        sender, close = _cluster_sender(options, settings, send_options, on_result)
    result = sender.run_result
    problem = None
    try:
        sender.run(stream)
    except ReportError as exc:
        problem = str(exc)
    finally:
        close()
        if bar is not None:
            bar.clear()
            for handler in log.handlers:
                handler.removeFilter(log_filter)
        if renamer is not None:
            renamer.finish()
        if report is not None:
            try:
                report.close()
            except ReportError as exc:
                problem = problem or str(exc)
        if file_list is not None and file_list is not sys.stdin.buffer:
            file_list.close()
        if problem is not None:
            log.critical("%s", problem)
        if options.log_level != "fatal":
            print(summary_line(tally, interrupted=result.interrupted), file=err, flush=True)
    if problem is not None:
        result.fatal = problem
    elif listing is not None and listing.error is not None and result.fatal is None:
        result.fatal = listing.error  # logged when found; the run is incomplete: exit 1
    return result


def _nothing() -> None:
    pass


def _cluster_sender(
    options: Options,
    settings: AssociationSettings,
    send_options: SendOptions,
    on_result: Callable[[FileResult], None],
) -> tuple[ClusterSender, Callable[[], None]]:
    """``--dask``: the cluster's sender, and what closes the client (and a local cluster).

    Raises
    ------
    UsageError
        Dask is not installed, or the scheduler cannot be reached.
    """
    assert options.dask is not None
    from storescu.cli.tlsopts import tls_options
    from storescu.kernel.records import replace

    try:
        from storescu.run import cluster
    except ImportError as exc:
        raise UsageError(f"--dask needs Dask: pip install 'storescu[dask]' ({exc})") from exc
    try:
        client, local = cluster.open_client(options.dask)
    except (OSError, TimeoutError, ValueError) as exc:
        raise UsageError(f"cannot reach the Dask scheduler '{options.dask}': {exc}") from exc
    log.info("Dask cluster: %s (dashboard: %s)", options.dask, client.dashboard_link)

    def close() -> None:
        client.close()
        if local is not None:
            local.close()

    sender = cluster.ClusterSender(
        client,
        options.peer,
        options.port,
        replace(settings, tls=None),  # each task builds its own context
        send_options,
        on_result,
        keep_results=False,
        cluster=cluster.ClusterOptions(
            options.dask_partition, options.dask_associations, tls=tls_options(options)
        ),
    )
    return sender, close


def _skip_sent(options: Options) -> SentIndex | None:
    if not options.skip_sent:
        return None
    from storescu.run.report import ReportError, SentIndex

    if options.report is not None:
        for previous in options.skip_sent:
            if os.path.abspath(previous) == os.path.abspath(options.report):
                raise UsageError(
                    f"--report {options.report} would overwrite the --skip-sent report "
                    "(still needed if this run stops early): write to another file"
                )
    try:
        sent = SentIndex(options.skip_sent, committed_only=options.commit)
    except ReportError as exc:
        raise UsageError(str(exc)) from exc
    log.info(
        "--skip-sent: %d file(s) recorded as %s",
        len(sent),
        "committed" if options.commit else "stored",
    )
    return sent


def _open_report(options: Options) -> ReportWriter | None:
    if options.report is None:
        return None
    from storescu.run.report import ReportError, ReportWriter

    try:
        return ReportWriter(options.report)
    except ReportError as exc:
        raise UsageError(str(exc)) from exc


def _open_file_list(options: Options) -> IO[bytes] | None:
    if options.file_list is None:
        return None
    if options.file_list == "-":
        return sys.stdin.buffer
    try:
        return open(options.file_list, "rb")
    except OSError as exc:
        raise UsageError(f"cannot open file list '{options.file_list}': {exc.strerror}") from exc


def _progress_wanted(options: Options, err: TextIO) -> bool:
    if options.progress != "auto":
        return options.progress == "on"
    return options.log_level != "fatal" and _is_terminal(err)


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _total(options: Options) -> int | None:
    """The number of results when the operands tell it (plain files), else None."""
    from storescu.dataset.dicomdir import is_dicomdir_name

    if options.file_list is not None or options.scan_directories:
        return None
    if any(is_dicomdir_name(path) for path in options.files):
        return None
    return len(options.files) * options.repeat
