"""The built docs site: every option documented, the conformance tables equal to the code."""

from __future__ import annotations

import html
import re
from pathlib import Path

from storescu.cli.docgen import scp_parser
from storescu.cli.table import OPTION_TABLE
from storescu.kernel.constants import STORAGE_SOP_CLASSES, VERIFICATION_SOP_CLASS
from storescu.kernel.syntaxes import PROPOSAL_MODES
from storescu.net.tls import PROFILES
from storescu.protocol.commitment import STORAGE_COMMITMENT_SOP_CLASS
from storescu.scp.server import ACCEPTED_SYNTAXES

_UID = re.compile(r"\b1\.2\.840\.10008\.[0-9.]*[0-9]\b")


def _text(page: Path) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", page.read_text(encoding="utf-8")))


def _documented_options(page: Path) -> set[str]:
    """The option names of the page's ``.. option::`` entries."""
    source = page.read_text(encoding="utf-8")
    # Sphinx splits "-x=" into the name "-x" and the argument "=".
    names = re.findall(
        r'<span class="sig-name descname"><span class="pre">([^<]+)</span></span>'
        r'(?:<span class="sig-prename descclassname"><span class="pre">(=)</span>)?',
        source,
    )
    return {html.unescape(name + equals) for name, equals in names}


def test_pages_exist(docs_html: Path) -> None:
    for page in (
        "index", "getting-started/install", "getting-started/first-send", "getting-started/scp",
        "howto/send-study", "howto/migrate-archive", "howto/tls", "howto/test-pacs",
        "howto/slow-link", "reference/cli", "reference/exit-codes", "reference/api",
        "reference/scp", "reference/conformance", "explanation/architecture",
        "explanation/comparison", "explanation/performance",
    ):  # fmt: skip
        assert (docs_html / f"{page}.html").exists(), page


def test_command_line_reference_lists_every_option(docs_html: Path) -> None:
    documented = _documented_options(docs_html / "reference/cli.html")
    assert documented == {s for row in OPTION_TABLE for s in row.spellings}


def test_scp_reference_lists_every_option(docs_html: Path) -> None:
    documented = _documented_options(docs_html / "reference/scp.html")
    assert documented == {s for a in scp_parser()._actions for s in a.option_strings}


def test_conformance_tables_equal_the_code(docs_html: Path) -> None:
    text = _text(docs_html / "reference/conformance.html")
    sop_section = text.split("SOP classes", 2)[2].split("Association policies", 1)[0]
    listed = set(_UID.findall(sop_section))
    expected = {uid for uid, _ in STORAGE_SOP_CLASSES} | {VERIFICATION_SOP_CLASS}
    assert listed == expected | {STORAGE_COMMITMENT_SOP_CLASS}
    scu = text.split("Association initiation", 1)[1].split("Association acceptance", 1)[0]
    for mode, (short, uid) in PROPOSAL_MODES.items():
        assert re.search(rf"{re.escape(short)}\s+{re.escape(uid)}\b", scu), (mode, short)
    scp = text.split("Association acceptance: receiving instances", 1)[1].split("SOP-specific", 1)
    assert set(_UID.findall(scp[0])) == set(ACCEPTED_SYNTAXES)
    security = text.split("6.1 Secure transport", 1)[1]
    for profile in PROFILES.values():
        assert profile.option in security and profile.title in security, profile.name


def test_exit_codes_page_matches_help(docs_html: Path) -> None:
    from storescu.cli.exitcodes import ExitCode

    text = _text(docs_html / "reference/exit-codes.html")
    for code in ExitCode:
        assert re.search(rf"^{int(code)}$", text, re.MULTILINE), code
