"""Input and output options: how files are read and found, the per-file report, progress.

``+f``/``+fo``/``-f`` and DCMTK's directory scanning (``+sd``, ``+sp``, ``+r``,
``+rn``) are storescu's own input options; ``--file-list``, ``--skip-sent``,
``--report`` and the progress line are ours (:mod:`storescu.run.inputs`,
:mod:`storescu.run.report`).
"""

from __future__ import annotations

from typing import Final

from storescu.cli.spec import INPUT_GROUP, OUTPUT_GROUP, OptionSpec, in_group

_O = OptionSpec

ROWS: Final[tuple[OptionSpec, ...]] = (
    *in_group(
        INPUT_GROUP,
        "input file format",
        _O("+f", "--read-file", "file with or without meta header (default)", "read_mode", "auto"),
        _O("+fo", "--read-file-only", "require a file meta header", "read_mode", "fileformat"),
        _O("-f", "--read-dataset", "bare data set, no file meta header", "read_mode", "dataset"),
    ),
    *in_group(
        INPUT_GROUP,
        "input files",
        _O(
            "+sd",
            "--scan-directories",
            "send the files inside directory arguments\n(names sorted; without +sd a directory\n"
            "is skipped with a warning)",
            "scan_directories",
        ),
        _O(
            "+sp",
            "--scan-pattern",
            "send only file names matching PATTERN",
            "scan_pattern",
            args=("PATTERN",),
            arg_help="PATTERN: wildcards * ? [...] (only with +sd)",
        ),
        _O("-r", "--no-recurse", "stay out of subdirectories (default)", "recurse", False),
        _O("+r", "--recurse", "descend into subdirectories (only with +sd)", "recurse"),
        _O("-rn", "--no-rename", "leave processed files alone (default)", "rename", False),
        _O("+rn", "--rename", "rename processed files to NAME.done/.bad", "rename"),
        _O(
            None,
            "--file-list",
            "also send the files listed in FILE, one path\nper line (DICOMDIRs and, "
            "with +sd,\ndirectories too)",
            "file_list",
            args=("FILE",),
            arg_help="FILE: file name, - for stdin",
        ),
        _O(
            None,
            "--skip-sent",
            "skip files that REPORT records as stored\n(resume; may be given more than once)",
            "skip_sent",
            args=("REPORT",),
            arg_help="REPORT: a --report file",
            multiple=True,
        ),
    ),
    *in_group(
        OUTPUT_GROUP,
        "per-file report and progress",
        _O(
            None,
            "--report",
            "write one line per file and send to FILE:\nJSON Lines, or CSV if FILE ends in .csv",
            "report",
            args=("FILE",),
            arg_help="FILE: file name",
        ),
        _O(
            None,
            "--progress",
            "show a progress line on stderr even if it\nis not a terminal",
            "progress",
            "on",
        ),
        _O(
            None,
            "--no-progress",
            "no progress line (default: one when stderr\nis a terminal, not with -q)",
            "progress",
            "off",
        ),
    ),
)
