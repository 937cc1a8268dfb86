"""``storescu`` command line: argv -> Options -> a Sender run -> exit code.

The only module that prints or chooses an exit code. Messages go to stderr
in DCMTK's ``X: text`` form (F fatal, E error, W warning, I info, D debug,
T trace); ``--help``/``--version`` text goes to stdout.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TextIO

from storescu.cli.exitcodes import ExitCode, exit_code_for_status
from storescu.cli.options import InfoRequest, Options
from storescu.cli.parser import parse_args
from storescu.kernel.errors import UsageError

if TYPE_CHECKING:
    from storescu.dataset.rewriteopts import RewriteOptions

TRACE = 5
_LEVELS = {
    "fatal": logging.CRITICAL,
    "error": logging.ERROR,
    "warn": logging.WARNING,
    "info": logging.INFO,
    "debug": logging.DEBUG,
    "trace": TRACE,
}
_LETTERS = {
    logging.CRITICAL: "F",
    logging.ERROR: "E",
    logging.WARNING: "W",
    logging.INFO: "I",
    logging.DEBUG: "D",
    TRACE: "T",
}


class _DcmtkFormatter(logging.Formatter):
    """``I: text``, with every line of a multi-line message prefixed (as DCMTK)."""

    def format(self, record: logging.LogRecord) -> str:
        letter = _LETTERS.get(record.levelno, "I")
        text = record.getMessage()
        if record.exc_info and record.levelno <= logging.DEBUG:
            text += "\n" + self.formatException(record.exc_info)
        return "\n".join(f"{letter}: {line}" for line in text.splitlines() or [""])


def _configure_logging(options: Options, stderr: TextIO) -> logging.Handler | None:
    logger = logging.getLogger("storescu")
    if options.log_config:
        # -lc: a Python logging configuration file (fileConfig format), the
        # counterpart of DCMTK's log4cplus configuration file.
        from logging.config import fileConfig

        fileConfig(options.log_config, disable_existing_loggers=False)
        return None
    handler = logging.StreamHandler(stderr)
    handler.setFormatter(_DcmtkFormatter())
    logger.addHandler(handler)
    logger.setLevel(_LEVELS.get(options.log_level, logging.WARNING))
    logger.propagate = False
    return handler


def exit_code(result: object, halt: bool) -> int:
    """Map a run's result onto the documented exit codes (``--help`` lists them)."""
    from storescu.run.results import RunResult

    assert isinstance(result, RunResult)
    if result.fatal is not None:
        return int(ExitCode.FAILURE)
    if result.all_stored:
        return int(ExitCode.SUCCESS)
    if not halt:
        return int(ExitCode.INCOMPLETE)
    if result.halted_on_status is not None:
        return exit_code_for_status(result.halted_on_status)
    if result.network_failure:
        return int(ExitCode.NETWORK)
    return int(ExitCode.FAILURE)


def rewrite_options(options: Options) -> RewriteOptions | None:
    """The dataset rewriting asked for (+II/+IR/+IS/+IP, -up, -s, --uid-suffix), or None.

    Raises
    ------
    UsageError
        The options do not go together (a UID root and suffix too long).
    """
    counts = {
        "images_per_series": options.invent_series,
        "series_per_study": options.invent_study,
        "studies_per_patient": options.invent_patient,
    }
    given = {name: count for name, count in counts.items() if count is not None}
    invent = options.invent_instance or bool(given)  # +IR, +IS and +IP imply +II (DCMTK)
    if not (invent or options.uid_padding or options.overrides or options.uid_suffix is not None):
        if options.uid_root is not None:
            logging.getLogger("storescu").warning("--uid-root has no effect without +II")
        return None
    from storescu.dataset.rewriteopts import RewriteOptions

    extra: dict[str, Any] = dict(given)
    if options.uid_root is not None:
        extra["uid_root"] = options.uid_root
    return RewriteOptions(
        invent=invent,
        fix_uid_padding=options.uid_padding,
        overrides=options.overrides,
        uid_suffix=options.uid_suffix,
        **extra,
    )


def _run(options: Options, out: TextIO, err: TextIO) -> int:
    # Imported here so that --help and usage errors stay fast.
    from storescu.cli.sending import send
    from storescu.cli.tlsopts import client_tls, finish_tls
    from storescu.cli.verify import address_family, run_echo, run_probe, user_identity
    from storescu.kernel.errors import TlsError
    from storescu.net.client import AssociationSettings
    from storescu.run.options import SendOptions

    rewrite = rewrite_options(options)  # may raise UsageError: before anything is sent
    from storescu.cli.syntaxopts import transfer_options

    conversion, profile = transfer_options(options)  # -xf errors: UsageError, likewise
    try:
        tls_context, tls_settings = client_tls(options)
    except TlsError as exc:  # a key, certificate or profile problem: nothing was sent
        logging.getLogger("storescu").critical("TLS: %s", exc)
        return int(ExitCode.FAILURE)
    settings = AssociationSettings(
        calling_aet=options.calling_aet,
        called_aet=options.called_aet,
        max_pdu=options.max_pdu,
        max_send_pdu=options.max_send_pdu,
        max_ops_invoked=options.max_ops_invoked,
        max_ops_performed=options.max_ops_performed,
        connect_timeout=options.connect_timeout,
        socket_timeout=options.socket_timeout,
        acse_timeout=options.acse_timeout,
        dimse_timeout=options.dimse_timeout,
        tls=tls_context,
        tls_server_name=options.tls_sni,
        user_identity=user_identity(options),
    )
    if options.echo:
        return run_echo(options, settings, out)
    if options.probe:
        return run_probe(options, settings, out)
    if options.commit_check is not None:
        from storescu.cli.committing import run_commit_check

        return run_commit_check(options, settings, err)
    send_options = SendOptions(
        propose=options.propose,
        required_only=options.required_only,
        combine=options.combine,
        repeat=options.repeat,
        halt=options.halt,
        abort_at_end=options.abort,
        read_mode=options.read_mode,
        show_contexts=options.show_contexts,
        retries=options.retries,
        retry_delay=options.retry_delay,
        resend_unknown=options.resend_unknown,
        family=address_family(options),
        rewrite=rewrite,
        conversion=conversion,
        profile=profile,
        propose_file_syntaxes=options.propose_file_syntaxes,
        propose_file_classes=options.propose_file_classes,
        parallel=options.parallel,
        priority=options.priority,
        compress=options.compress,
        verify_compression=options.verify_compression,
    )
    if options.compress is not None:  # the encoders are here, or stop before any association
        from storescu.run.compressing import check_encoders

        check_encoders(options.compress)
    collector = None
    if options.commit:
        from storescu.run.commitment import StoredCollector

        collector = StoredCollector()
    result = send(options, settings, send_options, err, collector)  # inputs, report, summary
    code = exit_code(result, options.halt)
    if collector is not None and result.fatal is None:
        from storescu.cli.committing import commit_after_send

        code = commit_after_send(options, settings, collector.references, code, err)
    finish_tls(tls_settings)
    return code


def main(
    argv: Sequence[str] | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Run ``storescu`` with ``argv`` (without the program name); return the exit code."""
    out = sys.stdout if stdout is None else stdout
    err = sys.stderr if stderr is None else stderr
    args = sys.argv[1:] if argv is None else list(argv)
    try:
        parsed = parse_args(args)
    except UsageError as exc:
        print(f"storescu: {exc}", file=err)
        print("Try 'storescu --help' for more information.", file=err)
        return int(ExitCode.FAILURE)
    if isinstance(parsed, InfoRequest):
        text = parsed.text
        if parsed.kind == "completion":
            from storescu.cli.completion import script

            text = script(parsed.text)
        print(text, file=out, end="" if text.endswith("\n") else "\n")
        return int(ExitCode.SUCCESS)
    handler: logging.Handler | None = None
    try:
        handler = _configure_logging(parsed, err)
        if parsed.print_arguments:
            print(f"expanded command line to {len(parsed.args_expanded)} arguments:", file=err)
            print(" ".join(parsed.args_expanded), file=err)
        return _run(parsed, out, err)
    except KeyboardInterrupt as exc:
        from storescu.run.interrupts import Terminated

        if isinstance(exc, Terminated):  # SIGTERM, handled like Ctrl-C (interrupts.py)
            print("F: terminated (SIGTERM)", file=err)
            return int(ExitCode.TERMINATED)
        print("F: interrupted", file=err)
        return int(ExitCode.INTERRUPTED)
    except UsageError as exc:
        print(f"storescu: {exc}", file=err)
        return int(ExitCode.FAILURE)
    except Exception as exc:  # no traceback reaches a user (DESIGN.md)
        logging.getLogger("storescu").debug("internal error", exc_info=True)
        print(f"F: internal error: {type(exc).__name__}: {exc} (run with -d for details)", file=err)
        return int(ExitCode.FAILURE)
    finally:
        if handler is not None:
            # Leave the library logger as we found it: main() may run in-process
            # (tests, embedding applications) more than once.
            logger = logging.getLogger("storescu")
            logger.removeHandler(handler)
            logger.setLevel(logging.NOTSET)
            logger.propagate = True


def run() -> None:
    """Console-script entry point (and ``python -m storescu``)."""
    code = main()
    if sys.getprofile() is not None or sys.gettrace() is not None:
        sys.exit(code)  # a profiler or coverage writes its results at exit
    # Everything is written and closed by now (report, renames, summary): skip
    # the interpreter's teardown of ~150 modules, some milliseconds of every
    # one-file run. Buffered output is flushed first; if that fails (a closed
    # pipe), the normal exit reports it.
    from storescu.kernel.records import save_cache

    save_cache()  # what atexit would have done (see storescu.kernel.records)
    workers = sys.modules.get("storescu.dataset.compress.stream")
    if workers is not None:  # --compress started encoding processes: stop them cleanly
        workers.stop_workers()
    try:
        logging.shutdown()  # flushes and closes handlers (-lc file handlers too)
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        sys.exit(code)
    os._exit(code)
