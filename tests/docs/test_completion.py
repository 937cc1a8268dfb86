"""The completion scripts complete what the option tables say, in real bash and zsh."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import pytest

from storescu.cli.completion import SHELLS, script
from storescu.cli.docgen import scp_parser
from storescu.cli.main import main
from storescu.cli.table import OPTION_TABLE
from storescu.cli.values import LOG_LEVELS

ROOT = Path(__file__).resolve().parents[2]
BASH_SCRIPT = ROOT / "share/bash-completion/completions/storescu"
ZSH_DIR = ROOT / "share/zsh/site-functions"


def complete_bash(cwd: Path, *words: str) -> list[str]:
    """COMPREPLY for the command line ``words`` (the last one is being completed)."""
    args = " ".join(f"'{w}'" for w in words)
    program = (
        f"source '{BASH_SCRIPT}'\n"
        f"COMP_WORDS=({args}); COMP_CWORD=$(( ${{#COMP_WORDS[@]}} - 1 ))\n"
        "_storescu_complete; printf '%s\\n' \"${COMPREPLY[@]}\"\n"
    )
    result = subprocess.run(
        ["bash", "--norc", "-c", program], cwd=cwd, capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stderr
    return [line for line in result.stdout.splitlines() if line]


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    (tmp_path / "ct.dcm").write_bytes(b"")
    (tmp_path / "keys").mkdir()
    return tmp_path


def test_bash_completes_every_option_name(workdir: Path) -> None:
    names = set(complete_bash(workdir, "storescu", "-")) | set(
        complete_bash(workdir, "storescu", "+")
    )
    assert names == {s for row in OPTION_TABLE for s in row.spellings}
    scp = set(complete_bash(workdir, "storescu-scp", "-")) | set(
        complete_bash(workdir, "storescu-scp", "+")
    )
    assert scp == {s for action in scp_parser()._actions for s in action.option_strings}


def test_bash_completes_values_files_and_operands(workdir: Path) -> None:
    assert complete_bash(workdir, "storescu", "-ll", "") == list(LOG_LEVELS)
    assert complete_bash(workdir, "storescu", "--log-level", "d") == ["debug"]
    assert complete_bash(workdir, "storescu", "+cl", "") == [str(n) for n in range(10)]
    assert complete_bash(workdir, "storescu", "--completion", "") == list(SHELLS)
    assert sorted(complete_bash(workdir, "storescu", "+tls", "")) == ["ct.dcm", "keys"]
    assert sorted(complete_bash(workdir, "storescu", "+tls", "k.pem", "")) == ["ct.dcm", "keys"]
    assert complete_bash(workdir, "storescu", "+cd", "") == ["keys"]
    assert complete_bash(workdir, "storescu-scp", "-od", "") == ["keys"]
    assert complete_bash(workdir, "storescu", "-aet", "X", "pacs", "") == []  # the port
    files = complete_bash(workdir, "storescu", "-v", "pacs", "104", "c")
    assert files == ["ct.dcm"]


def _zsh_menu(line: str) -> str:
    """What zsh lists for TAB after ``line``, driven through a pseudo-terminal (zpty)."""
    driver = f"""
zmodload zsh/zpty zsh/datetime
zpty z "env -i HOME=$PWD TERM=dumb PATH=/usr/bin:/bin zsh -f -i"
slurp() {{ local out chunk; local -F end=$(( EPOCHREALTIME + $1 )); out=""
  while (( EPOCHREALTIME < end )); do
    if zpty -r -t z chunk; then out+=$chunk; else sleep 0.05; fi
  done; print -r -- "$out" }}
zpty -w z "PS1='%% '; fpath=({ZSH_DIR} \\$fpath); autoload -U compinit; compinit -u -D"
slurp 1.5 >/dev/null
zpty -n -w z $'{line}\\t'
slurp 2
zpty -d z
"""
    zsh = shutil.which("zsh")
    assert zsh, "zsh is missing: scripts/test.sh installs it"
    result = subprocess.run(
        [zsh, "-f", "-c", driver], capture_output=True, text=True, timeout=60, cwd=ZSH_DIR
    )
    return result.stdout.replace("\r", "")


def test_zsh_script_parses() -> None:
    zsh = shutil.which("zsh")
    assert zsh, "zsh is missing: scripts/test.sh installs it"
    result = subprocess.run([zsh, "-n", str(ZSH_DIR / "_storescu")], capture_output=True)
    assert result.returncode == 0, result.stderr


def test_zsh_completes_values_and_options() -> None:
    levels = _zsh_menu("storescu -ll ")
    assert all(level in levels.split() for level in LOG_LEVELS), levels
    proposals = _zsh_menu("storescu --propose-j")
    for name in ("--propose-j2k-lossless", "--propose-jls-lossy", "--propose-jpeg8"):
        assert name in proposals, proposals
    profiles = _zsh_menu("storescu-scp +p")
    for option in ("+pg", "+pz", "+ps", "+pw"):
        assert option in profiles, profiles


@pytest.mark.parametrize("shell", SHELLS)
def test_completion_option_prints_the_script(shell: str) -> None:
    out, err = io.StringIO(), io.StringIO()
    assert main(["--completion", shell], stdout=out, stderr=err) == 0
    assert out.getvalue() == script(shell)
    shipped = BASH_SCRIPT if shell == "bash" else ZSH_DIR / "_storescu"
    assert shipped.read_text() == out.getvalue()


def test_completion_refuses_other_shells() -> None:
    err = io.StringIO()
    assert main(["--completion", "fish"], stdout=io.StringIO(), stderr=err) == 1
    assert "expected one of bash, zsh" in err.getvalue()
