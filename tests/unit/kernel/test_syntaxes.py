"""The proposal options' syntaxes (storescu.kernel.syntaxes) against DCMTK storescu.cc and PS3.5.

The expected UIDs are written out here (PS3.5 Annex A; DCMTK's
``opt_networkTransferSyntax`` for each ``--propose-*`` option) rather than taken
from the code under test.
"""

from __future__ import annotations

import pytest

from storescu.kernel.syntaxes import (
    PROPOSAL_MODES,
    fallback_for,
    is_encapsulated,
    is_lossless,
    option_for,
    preferred_for,
)
from storescu.protocol.negotiation import transfer_syntax_lists

ELE, EBE, ILE = "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.2", "1.2.840.10008.1.2"

# option -> (preferred UID, proposed with the uncompressed fallback?)
DCMTK = {
    "-x=": (ELE, True), "-xe": (ELE, True), "-xb": (EBE, True), "-xi": (ILE, False),
    "-xs": ("1.2.840.10008.1.2.4.70", True), "-xy": ("1.2.840.10008.1.2.4.50", True),
    "-xx": ("1.2.840.10008.1.2.4.51", True), "-xv": ("1.2.840.10008.1.2.4.90", True),
    "-xw": ("1.2.840.10008.1.2.4.91", True), "-xt": ("1.2.840.10008.1.2.4.80", True),
    "-xu": ("1.2.840.10008.1.2.4.81", True), "-xr": ("1.2.840.10008.1.2.5", True),
    "-xd": ("1.2.840.10008.1.2.1.99", True),
    "-xm": ("1.2.840.10008.1.2.4.100", False), "-xh": ("1.2.840.10008.1.2.4.101", False),
    "-xn": ("1.2.840.10008.1.2.4.102", False), "-xl": ("1.2.840.10008.1.2.4.103", False),
    "-x2": ("1.2.840.10008.1.2.4.104", False), "-x3": ("1.2.840.10008.1.2.4.105", False),
    "-xo": ("1.2.840.10008.1.2.4.106", False), "-x4": ("1.2.840.10008.1.2.4.107", False),
    "-x5": ("1.2.840.10008.1.2.4.108", False),
    # ours: HTJ2K (PS3.5 A.4.11)
    "-xjl": ("1.2.840.10008.1.2.4.201", True), "-xjr": ("1.2.840.10008.1.2.4.202", True),
    "-xjy": ("1.2.840.10008.1.2.4.203", True),
}  # fmt: skip


@pytest.mark.parametrize("mode", sorted(PROPOSAL_MODES))
def test_each_option_proposes_what_dcmtk_does(mode: str) -> None:
    short, _ = PROPOSAL_MODES[mode]
    preferred, with_fallback = DCMTK[short]
    assert preferred_for(mode) == preferred
    fallback = fallback_for(mode)
    if with_fallback:
        # The three uncompressed syntaxes in DCMTK's order, minus the preferred one.
        assert fallback == tuple(ts for ts in (ELE, EBE, ILE) if ts != preferred)
    else:
        assert fallback == ()
    assert transfer_syntax_lists(mode) == ((preferred,), fallback)


def test_every_dcmtk_option_is_in_the_table() -> None:
    assert {short for short, _ in PROPOSAL_MODES.values()} == set(DCMTK)


def test_lossless_and_encapsulated() -> None:
    for ts in (ELE, EBE, ILE, "1.2.840.10008.1.2.1.99"):
        assert not is_encapsulated(ts) and is_lossless(ts)
    lossless = ["1.2.840.10008.1.2.4.57", "1.2.840.10008.1.2.4.70", "1.2.840.10008.1.2.4.80",
                "1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.4.201", "1.2.840.10008.1.2.4.202",
                "1.2.840.10008.1.2.5"]  # fmt: skip
    lossy = ["1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51", "1.2.840.10008.1.2.4.81",
             "1.2.840.10008.1.2.4.91", "1.2.840.10008.1.2.4.203", "1.2.840.10008.1.2.4.100",
             "1.2.3.4.5"]  # fmt: skip
    assert all(is_encapsulated(ts) and is_lossless(ts) for ts in lossless)
    assert all(is_encapsulated(ts) and not is_lossless(ts) for ts in lossy)


def test_option_for_a_syntax() -> None:
    assert option_for("1.2.840.10008.1.2.4.70") == "-xs"
    assert option_for("1.2.840.10008.1.2.4.201") == "-xjl"
    assert option_for(ELE) == "-xe"
    assert option_for("1.2.840.10008.1.2.4.57") is None  # JPEG process 14: no DCMTK option
