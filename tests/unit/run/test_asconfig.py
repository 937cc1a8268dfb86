"""DCMTK association configuration files (storescu.run.asconfig), as dcmnet/docs/asconfig.txt
describes them; errors are usage errors naming file:line."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from storescu.kernel.errors import UsageError
from storescu.run.asconfig import load_profile, parse_profile

ELE, EBE, ILE = "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.2", "1.2.840.10008.1.2"
CT, MR = "1.2.840.10008.5.1.4.1.1.2", "1.2.840.10008.5.1.4.1.1.4"
US_MF = "1.2.840.10008.5.1.4.1.1.3.1"

GOOD = """\
# a comment
[[TransferSyntaxes]]
[Uncompressed]
TransferSyntax1 = LocalEndianExplicit
TransferSyntax2 = OppositeEndianExplicit
TransferSyntax3 = 1.2.840.10008.1.2

[ JPEG Lossless ]
transfersyntax1  =  JPEGLossless:Non-hierarchical-1stOrderPrediction

[[PresentationContexts]]
[Mixed]
PresentationContext2 = MRImageStorage\\Uncompressed
PresentationContext1 = CTImageStorage\\jpeglossless
PresentationContext3 = 1.2.840.10008.5.1.4.1.1.2\\Uncompressed
PresentationContext4 = UltrasoundMultiframeImageStorage\\Uncompressed

[[Profiles]]
[MyProfile]
PresentationContexts = Mixed
"""


def test_a_profile_with_names_uids_and_dcmtk_spellings() -> None:
    profile = parse_profile(GOOD, "myprofile")
    assert profile.contexts == (
        (CT, ("1.2.840.10008.1.2.4.70",)),
        (MR, (ELE, EBE, ILE)),
        (CT, (ELE, EBE, ILE)),
        (US_MF, (ELE, EBE, ILE)),  # DCMTK's "Multiframe", DICOM's "MultiFrame"
    )
    assert profile.by_class()[CT] == (("1.2.840.10008.1.2.4.70",), (ELE, EBE, ILE))


@pytest.mark.skipif(not os.path.exists("/etc/dcmtk/storescu.cfg"), reason="dcmtk not installed")
def test_debians_storescu_cfg() -> None:
    profile = load_profile("/etc/dcmtk/storescu.cfg", "Default")
    assert len(profile.contexts) == 128
    assert profile.contexts[0] == ("1.2.840.10008.5.1.4.1.1.1", ("1.2.840.10008.1.2.4.50",))
    assert profile.contexts[-1][1] == ("1.2.840.10008.1.2.4.100",)  # MPEG2 MP@ML


@pytest.mark.skipif(not os.path.exists("/etc/dcmtk/storescp.cfg"), reason="dcmtk not installed")
@pytest.mark.parametrize("name", ["Default", "AllDICOM"])
def test_debians_storescp_cfg_names_resolve(name: str) -> None:
    assert load_profile("/etc/dcmtk/storescp.cfg", name).contexts


def _error(text: str, profile: str = "P") -> str:
    with pytest.raises(UsageError) as info:
        parse_profile(text, profile, "site.cfg")
    return str(info.value)


BASE = "[[TransferSyntaxes]]\n[U]\nTransferSyntax1 = LittleEndianExplicit\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (BASE + "[[PresentationContexts]]\n[C]\nPresentationContext1 = CTImageStorage\\U\n",
         "site.cfg: no [[profiles]] supersection (it is mandatory)"),
        (BASE + "[[PresentationContexts]]\n[C]\nPresentationContext1 = NoSuchStorage\\U\n"
         "[[Profiles]]\n[P]\nPresentationContexts = C\n",
         "site.cfg:6: unknown SOP class 'NoSuchStorage'"),
        (BASE + "[[PresentationContexts]]\n[C]\nPresentationContext1 = CTImageStorage\\V\n"
         "[[Profiles]]\n[P]\nPresentationContexts = C\n",
         "site.cfg:6: no transfer syntax list [V]"),
        (BASE + "[[PresentationContexts]]\n[C]\nPresentationContext2 = CTImageStorage\\U\n"
         "[[Profiles]]\n[P]\nPresentationContexts = C\n",
         "site.cfg:6: PresentationContext2 where PresentationContext1 was expected"),
        (BASE + "[[PresentationContexts]]\n[C]\nPresentationContext1 = CTImageStorage\n"
         "[[Profiles]]\n[P]\nPresentationContexts = C\n",
         "site.cfg:6: expected 'SOPClass\\TransferSyntaxList'"),
        (BASE + "[[PresentationContexts]]\n[C]\nPresentationContext1 = CTImageStorage\\U\n"
         "[[Profiles]]\n[P]\nPresentationContexts = D\n",
         "site.cfg:9: no presentation context list [D]"),
        (BASE + "  TransferSyntax2 = BigEndianExplicit\n", "site.cfg:4: a key must start"),
        ("Key = Value\n", "site.cfg:1: 'Key' outside a [section]"),
        ("[Section]\n", "site.cfg:1: section [Section] outside a [[supersection]]"),
        (BASE.replace("LittleEndianExplicit", "NoSuchSyntax")
         + "[[PresentationContexts]]\n[C]\nPresentationContext1 = CTImageStorage\\U\n"
         "[[Profiles]]\n[P]\nPresentationContexts = C\n",
         "site.cfg:3: unknown transfer syntax 'NoSuchSyntax'"),
        (BASE + "[u]\n", "site.cfg:4: section [u] repeated (see line 2)"),
        ("just words\n", "site.cfg:1: expected 'Key = Value'"),
    ],
)  # fmt: skip
def test_errors_name_file_and_line(text: str, message: str) -> None:
    assert _error(text).startswith(message), _error(text)


def test_unknown_profile_lists_the_known_ones() -> None:
    assert _error(GOOD, "Nope").startswith("site.cfg: no profile 'Nope' in [[Profiles]]")


def test_more_than_128_contexts_in_a_list() -> None:
    contexts = "".join(f"PresentationContext{i} = CTImageStorage\\U\n" for i in range(1, 130))
    text = BASE + "[[PresentationContexts]]\n[C]\n" + contexts
    text += "[[Profiles]]\n[P]\nPresentationContexts = C\n"
    assert "has 129 entries; an association carries at most 128" in _error(text)


def test_role_selection_is_ignored_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    text = GOOD + "SCPSCURoleSelection = Roles\n"
    with caplog.at_level(logging.WARNING, logger="storescu"):
        assert parse_profile(text, "MyProfile").contexts
    assert "scpscuroleselection is not negotiated by storescu: ignored" in caplog.text


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="cannot read config file"):
        load_profile(str(tmp_path / "missing.cfg"), "P")
