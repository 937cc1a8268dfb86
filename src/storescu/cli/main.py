"""``storescu`` command line: argv -> Options -> a Sender run -> exit code.

The only module that prints or chooses an exit code. Messages go to stderr
in DCMTK's ``X: text`` form (F fatal, E error, W warning, I info, D debug,
T trace); ``--help``/``--version`` text goes to stdout.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from typing import TextIO

from storescu.cli.exitcodes import ExitCode, exit_code_for_status
from storescu.cli.options import InfoRequest, Options, parse_args
from storescu.errors import UsageError

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
    from storescu.sender import RunResult

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


def _run(options: Options) -> int:
    # Imported here so that --help and usage errors stay fast.
    from storescu.client import AssociationSettings
    from storescu.sender import Sender, SendOptions, inspect_inputs

    settings = AssociationSettings(
        calling_aet=options.calling_aet,
        called_aet=options.called_aet,
        max_pdu=options.max_pdu,
        max_send_pdu=options.max_send_pdu,
        connect_timeout=options.connect_timeout,
        socket_timeout=options.socket_timeout,
        acse_timeout=options.acse_timeout,
        dimse_timeout=options.dimse_timeout,
    )
    send_options = SendOptions(
        propose=options.propose,
        required_only=options.required_only,
        combine=options.combine,
        repeat=options.repeat,
        halt=options.halt,
        abort_at_end=options.abort,
        read_mode=options.read_mode,
        show_contexts=options.show_contexts,
    )
    items = inspect_inputs(options.files, options.read_mode)
    sender = Sender(options.peer, options.port, settings, send_options)
    result = sender.run(items)
    return exit_code(result, options.halt)


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
        print(parsed.text, file=out, end="" if parsed.text.endswith("\n") else "\n")
        return int(ExitCode.SUCCESS)
    handler: logging.Handler | None = None
    try:
        handler = _configure_logging(parsed, err)
        if parsed.print_arguments:
            print(f"expanded command line to {len(parsed.args_expanded)} arguments:", file=err)
            print(" ".join(parsed.args_expanded), file=err)
        return _run(parsed)
    except KeyboardInterrupt:
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
            logging.getLogger("storescu").removeHandler(handler)


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
