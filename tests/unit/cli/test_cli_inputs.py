"""Input, report and resume options on the command line; the exit-code tables."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from storescu.cli.exitcodes import EXIT_CODES_TEXT, ExitCode
from storescu.cli.helptext import help_text
from storescu.cli.options import Options
from storescu.cli.parser import parse_args
from storescu.kernel.errors import UsageError

EXIT_CODES_PAGE = Path(__file__).resolve().parents[3] / "docs" / "reference" / "exit-codes.md"
NEW_OPTIONS = ("--file-list", "--report", "--skip-sent", "--progress", "--no-progress")


def _parse(*argv: str) -> Options:
    result = parse_args(list(argv))
    assert isinstance(result, Options)
    return result


def test_scanning_options() -> None:
    options = _parse("+sd", "+sp", "*.dcm", "+r", "+rn", "pacs", "104", "dir")
    assert (options.scan_directories, options.scan_pattern, options.recurse) == (
        True,
        "*.dcm",
        True,
    )
    assert options.rename
    last_wins = _parse("+sd", "+r", "-r", "+rn", "-rn", "pacs", "104", "dir")
    assert not last_wins.recurse and not last_wins.rename
    defaults = _parse("pacs", "104", "a.dcm")
    assert (defaults.scan_directories, defaults.recurse, defaults.rename) == (False,) * 3
    assert (defaults.report, defaults.skip_sent, defaults.progress) == (None, (), "auto")


@pytest.mark.parametrize(
    "argv",
    [("+sp", "*.dcm"), ("+r",), ("-r", "+r"), ("+sp", "x", "-r")],
)
def test_pattern_and_recursion_need_sd(argv: tuple[str, ...]) -> None:
    # DCMTK: "--scan-pattern only allowed with --scan-directories"
    with pytest.raises(UsageError, match=r"only allowed with \+sd"):
        parse_args([*argv, "pacs", "104", "dir"])
    _parse("+r", "-r", "pacs", "104", "a.dcm")  # the last of +r/-r counts


def test_file_list_replaces_operands() -> None:
    options = _parse("--file-list", "-", "pacs", "104")
    assert options.file_list == "-" and options.files == ()
    with pytest.raises(UsageError, match="missing parameter dcmfile-in"):
        parse_args(["pacs", "104"])


def test_report_resume_progress() -> None:
    options = _parse(
        "--report",
        "run2.csv",
        "--skip-sent",
        "run1.jsonl",
        "--skip-sent",
        "run0.csv",
        "--no-progress",
        "pacs",
        "104",
        "a.dcm",
    )
    assert options.report == "run2.csv"
    assert options.skip_sent == ("run1.jsonl", "run0.csv")
    assert options.progress == "off"
    assert _parse("--no-progress", "--progress", "pacs", "104", "a").progress == "on"


def test_help_lists_the_options_as_supported() -> None:
    text = help_text()
    for spelling in ("+sd", "+sp", "+r", "-r", "+rn", "-rn", *NEW_OPTIONS):
        line = next(line for line in text.splitlines() if f" {spelling} " in f"{line} ")
        assert "not supported yet" not in line, line
    assert "input files (not supported yet)" not in text
    assert max(len(line) for line in text.splitlines()) <= 79


def _codes(lines: list[str]) -> set[str]:
    return {m.group(1) for line in lines if (m := re.match(r"^\|? ?(\d+|N) ", line.strip()))}


def test_exit_code_tables_agree() -> None:
    """--help and the docs list the same codes, and every ExitCode is in both."""
    help_codes = _codes(EXIT_CODES_TEXT.splitlines()[1:])
    page = EXIT_CODES_PAGE.read_text(encoding="utf-8")
    section = page.split("## Exit codes", 1)[1].split("\n#", 1)[0]
    readme_codes = _codes([line for line in section.splitlines() if line.startswith("| ")])
    assert help_codes == readme_codes
    assert {str(int(code)) for code in ExitCode} | {"N"} == help_codes
