"""Group lengths (gggg,0000) of an encoded dataset, checked against the bytes (PS3.5 7.2).

:func:`group_lengths` walks a dataset's bytes with pydicom's raw element
generator (into defined-length sequence items too), checks that each group
length's value is the number of bytes of its group after it, and returns
them; :func:`file_group_lengths` does the same for a file's dataset.
Independent of the project's encoder, so the tests can trust it.
"""

from __future__ import annotations

import io
from os import PathLike

from pydicom.datadict import dictionary_VR
from pydicom.filereader import data_element_generator
from pydicom.uid import ExplicitVRBigEndian, ImplicitVRLittleEndian

from storescu.dataset.inspection import inspect_file


def file_group_lengths(path: str | PathLike[str]) -> dict[tuple[int, ...], int]:
    """The checked group lengths of a DICOM file's dataset (meta header aside)."""
    info = inspect_file(str(path))
    with open(path, "rb") as fp:
        fp.seek(info.dataset_offset)
        data = fp.read()
    ts = info.transfer_syntax
    return group_lengths(data, ts == ImplicitVRLittleEndian, ts != ExplicitVRBigEndian)


def group_lengths(data: bytes, implicit: bool, little: bool) -> dict[tuple[int, ...], int]:
    """Every group length in `data` by (item path..., group), checked against the
    bytes its group really takes; raises AssertionError on a wrong value."""
    found: dict[tuple[int, ...], int] = {}
    _walk(data, implicit, little, (), found)
    return found


def _walk(
    data: bytes,
    implicit: bool,
    little: bool,
    where: tuple[int, ...],
    found: dict[tuple[int, ...], int],
) -> None:
    fp = io.BytesIO(data)
    starts: dict[int, int] = {}
    ends: dict[int, int] = {}
    claimed: dict[int, int] = {}
    for elem in data_element_generator(fp, implicit, little):
        group = elem.tag.group
        end = elem.value_tell + elem.length
        ends[group] = end
        if elem.tag.element == 0:
            starts[group] = end
            claimed[group] = int.from_bytes(elem.value, "little" if little else "big")
        if (elem.VR or _dictionary_vr(elem.tag)) == "SQ" and elem.value:
            _items(elem.value, implicit, little, (*where, int(elem.tag)), found)
    for group, start in starts.items():
        assert claimed[group] == ends[group] - start, (where, hex(group))
        found[(*where, group)] = claimed[group]


def _dictionary_vr(tag: int) -> str:
    try:
        return dictionary_VR(tag)
    except KeyError:  # group lengths, private tags
        return "UN"


def _items(
    data: bytes,
    implicit: bool,
    little: bool,
    where: tuple[int, ...],
    found: dict[tuple[int, ...], int],
) -> None:
    pos, n = 0, 0
    order = "little" if little else "big"
    while pos < len(data):
        length = int.from_bytes(data[pos + 4 : pos + 8], order)
        _walk(data[pos + 8 : pos + 8 + length], implicit, little, (*where, n), found)
        pos += 8 + length
        n += 1
