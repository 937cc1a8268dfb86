"""General options: help, version, ``@file`` echo, logging.

``-q``, ``-v``, ``-d`` and ``-ll`` share the destination ``log_level``, so the
last one given wins, as in DCMTK. ``+v`` is the seed manual's "verbose and
show the presentation contexts" (see :func:`storescu.cli.parser.parse_args`).
"""

from __future__ import annotations

from typing import Final

from storescu.cli.spec import GENERAL_GROUP, OptionSpec, in_group

_O = OptionSpec

ROWS: Final[tuple[OptionSpec, ...]] = (
    *in_group(
        GENERAL_GROUP,
        "",
        _O("-h", "--help", "show this help and exit"),
        _O(None, "--version", "show version information and exit"),
        _O(
            None,
            "--completion",
            "print the shell completion script and exit",
            args=("SHELL",),
            arg_help="SHELL: bash, zsh",
        ),
        _O(None, "--arguments", "print the arguments after @file expansion", "print_arguments"),
        _O("-q", "--quiet", "report fatal errors only", "log_level", "fatal"),
        _O("-v", "--verbose", "report what is being done", "log_level", "info"),
        _O("-d", "--debug", "also show PDUs and DIMSE commands", "log_level", "debug"),
        _O(
            "-ll",
            "--log-level",
            "log at this level",
            "log_level",
            args=("LEVEL",),
            arg_help="LEVEL: fatal, error, warn, info, debug, trace",
            kind="level",
            conflicts=("--quiet", "--verbose", "--debug"),
        ),
        _O(
            "-lc",
            "--log-config",
            "configure logging from FILE",
            "log_config",
            args=("FILE",),
            arg_help="FILE: logging configuration file",
            conflicts=("--quiet", "--verbose", "--debug", "--log-level"),
        ),
        _O("+v", "--verbose-pc", "verbose, and list presentation contexts", "show_contexts"),
    ),
)
