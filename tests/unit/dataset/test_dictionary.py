"""DCMDICTPATH: DCMTK-format data dictionaries added to pydicom's."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from storescu.dataset import dictionary
from storescu.dataset.dictionary import DictionaryError, Entry, parse_dictionary

SAMPLE = """\
# comment
(0008,0016)\tUI\tSOPClassUID\t1\tDICOM
(6000-60FF,3000)\tox\tOverlayData\t1\tDICOM
(0009-o-FFFF,0000)\tUL\tPrivateGroupLength\t1\tPRIVATE
(0029,"ACME 1.0",10)\tLO\tAcmeWidget\t1\tPrivateTag
(0029,"ACME 1.0",1011)\txs\tAcmeCount\t1\tPrivateTag
(7778,0010)\tox\tBrandNewThing\t1\tDICOM2099
(7778,0012)\tna\tNotAValue\t1\tDICOM
"""


def test_parse_skips_ranges_and_maps_dcmtk_vrs() -> None:
    entries = parse_dictionary(SAMPLE)
    assert entries == [
        Entry(0x00080016, "UI", "SOPClassUID", "1"),
        Entry(0x00290010, "LO", "AcmeWidget", "1", "ACME 1.0"),
        Entry(0x00290011, "US or SS", "AcmeCount", "1", "ACME 1.0"),
        Entry(0x77780010, "OB or OW", "BrandNewThing", "1"),
    ]


def test_too_few_fields_is_an_error() -> None:
    with pytest.raises(DictionaryError, match=r"x\.dic:1"):
        parse_dictionary("(0008,0016)\tUI\n", "x.dic")


def test_ensure_loaded_registers_with_pydicom(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from pydicom.datadict import get_private_entry, keyword_for_tag

    path = tmp_path / "site.dic"
    path.write_text(SAMPLE)
    monkeypatch.setattr(dictionary, "_loaded", None)
    with caplog.at_level(logging.WARNING, logger="storescu"):
        loaded = dictionary.ensure_loaded({"DCMDICTPATH": f"{path}:{tmp_path / 'missing.dic'}"})
    assert loaded == {str(path): 3}
    assert "cannot load data dictionary" in caplog.text
    assert keyword_for_tag(0x77780010) == "BrandNewThing"
    assert get_private_entry(0x00291010, "ACME 1.0")[2] == "AcmeWidget"
    # Idempotent: a second call does not reload.
    assert dictionary.ensure_loaded({"DCMDICTPATH": ""}) == loaded


@pytest.mark.skipif(
    not Path("/usr/share/libdcmtk17/private.dic").exists(), reason="Debian dcmtk not installed"
)
def test_debian_dcmtk_dictionaries_parse() -> None:
    for name in ("dicom.dic", "private.dic", "diconde.dic", "acrnema.dic"):
        text = Path("/usr/share/libdcmtk17", name).read_text(encoding="latin-1")
        assert parse_dictionary(text, name)
