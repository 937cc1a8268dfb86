"""The shipped man pages and completion scripts are what the code generates; origins are true.

The origin labels of :mod:`storescu.cli.docgen` (DCMTK, DCMTK 3.7, dcmsend, ours)
are checked against the ``--help`` of the DCMTK 3.6.7 tools that scripts/test.sh
installs, so a wrong label fails here.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from storescu.cli import docgen, generated
from storescu.cli.table import OPTION_TABLE

ROOT = Path(__file__).resolve().parents[2]

#: Options of the seed manual that DCMTK 3.6.7's storescu no longer lists (3.6.4
#: removed -vc and +dp) or lists only when its OpenSSL has 3DES (+pb).
NOT_IN_DCMTK_367 = {"--verify-peer-cert", "--dhparam", "--profile-basic"}


@pytest.mark.parametrize("relative", generated.SHIPPED)
def test_shipped_file_is_current(relative: str) -> None:
    shipped = (ROOT / relative).read_text(encoding="utf-8")
    assert shipped == generated.generate(relative), (
        f"{relative} is stale: run python -m storescu.cli.generated --write"
    )


def test_check_mode_finds_a_stale_file(tmp_path: Path) -> None:
    assert generated.main(["--write", str(tmp_path)]) == 0
    assert generated.main(["--check", str(tmp_path)]) == 0
    page = tmp_path / "share/man/man1/storescu.1"
    page.write_text(page.read_text().replace("aetitle", "ae-title"))
    assert generated.main(["--check", str(tmp_path)]) == 1


def test_labels_name_existing_options() -> None:
    longs = {row.long for row in OPTION_TABLE}
    assert docgen.labelled_options() <= longs
    assert set(docgen.NOTES) <= longs
    scp_spellings = {s for o in docgen.scp_options() for s in o.spellings}
    assert scp_spellings >= docgen.SCP_OURS


def _help_spellings(command: str) -> dict[str, str | None]:
    """long -> short of a DCMTK tool's --help."""
    exe = shutil.which(command, path="/usr/bin")
    assert exe, f"/usr/bin/{command} is missing: scripts/test.sh installs dcmtk"
    text = subprocess.run(
        [exe, "--help"], capture_output=True, text=True, check=False, timeout=30
    ).stdout
    found: dict[str, str | None] = {}
    for line in text.splitlines():
        match = re.match(r"\s+([-+]\S+)?\s+(--[a-z0-9-]+)", line)
        if match and line.lstrip()[:1] in "-+":
            found[match.group(2)] = match.group(1)
    assert len(found) > 20, text
    return found


def test_sender_origins_match_dcmtk_help() -> None:
    storescu = _help_spellings("storescu")
    dcmsend = _help_spellings("dcmsend")
    for option in docgen.sender_options():
        if option.origin == docgen.DCMTK and option.long not in NOT_IN_DCMTK_367:
            assert option.long in storescu, f"{option.long} is labelled DCMTK"
            assert storescu[option.long] == option.short, option.long
        elif option.origin != docgen.DCMTK:
            assert option.long not in storescu, f"{option.long} is in DCMTK 3.6.7's storescu"
        if option.origin == docgen.DCMSEND:
            assert option.long in dcmsend, f"{option.long} is not dcmsend's"
    assert NOT_IN_DCMTK_367.isdisjoint(storescu)


def test_scp_origins_match_dcmtk_storescp_help() -> None:
    storescp = _help_spellings("storescp")
    newer = {"--profile-8996", "--profile-8996-mod", "--profile-basic"}  # DCMTK 3.7
    for option in docgen.scp_options():
        if option.long == "--help":
            continue
        if option.origin == docgen.OURS:
            assert option.long not in storescp, option.long
        elif option.long not in newer:
            assert option.long in storescp, f"{option.long} is labelled DCMTK storescp"
