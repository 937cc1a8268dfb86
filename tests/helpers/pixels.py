"""Comparing a received file with a sent one whose pixel data may have been decompressed.

When the sender decompressed a file for a peer that accepted no compressed syntax,
the received dataset differs from the sent one in three places by design: Pixel
Data (native instead of encapsulated), Photometric Interpretation (YCbCr decoded to
RGB, as pydicom and DCMTK's dcmdjpeg do) and Planar Configuration. Everything else
must be equal element by element (:func:`~tests.helpers.compare.assert_same_dataset`),
and the pixels must equal the sent file's pixels as pydicom decodes them
(``pixel_array``, an independent path from the sender's ``decompress()``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from pydicom import dcmread

from tests.helpers.compare import DatasetMismatch, assert_same_dataset, lenient_reading
from tests.helpers.matching import sop_instance_uid, transfer_syntax

CONVERTIBLE = frozenset(
    {"1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.2", "1.2.840.10008.1.2.1.99"}
)
_PIXEL_DATA = 0x7FE00010
_DECODING_CHANGES = frozenset({_PIXEL_DATA, 0x00280004, 0x00280006})


def is_compressed(ts: str) -> bool:
    return ts not in CONVERTIBLE


def assert_same_pixels(sent: Path, received: Path) -> None:
    """The decoded pixels of both files are equal (pydicom's ``pixel_array``)."""
    with lenient_reading():
        a = dcmread(sent).pixel_array
        b = dcmread(received).pixel_array
    if a.shape != b.shape or a.dtype.itemsize != b.dtype.itemsize:
        raise DatasetMismatch(f"{sent.name}: pixels {a.shape} {a.dtype} != {b.shape} {b.dtype}")
    if not np.array_equal(a, b.astype(a.dtype, copy=False)):
        diff = int(np.count_nonzero(a != b))
        raise DatasetMismatch(f"{sent.name}: {diff} decoded pixel values differ")


def assert_same_or_decoded(sent: Path, received: Path) -> None:
    """Equal datasets; for a decompressed file, equal but for pixel encoding and equal pixels."""
    sent_ts, received_ts = transfer_syntax(sent), transfer_syntax(received)
    if is_compressed(sent_ts) and sent_ts != received_ts:
        assert not is_compressed(received_ts), f"{sent.name} arrived as {received_ts}"
        assert_same_dataset(sent, received, ignore=_DECODING_CHANGES)
        assert_same_pixels(sent, received)
        return
    assert_same_dataset(sent, received)


def assert_received_all_decoded(
    sent: Sequence[Path], received: Sequence[Path], context: str = ""
) -> list[tuple[Path, Path]]:
    """Like :func:`tests.helpers.matching.assert_received_all`, with
    :func:`assert_same_or_decoded` as the equality. Returns the pairs."""
    suffix = f"\n{context}" if context else ""
    groups_s: dict[str, list[Path]] = defaultdict(list)
    groups_r: dict[str, list[Path]] = defaultdict(list)
    for path in sent:
        groups_s[sop_instance_uid(path)].append(path)
    for path in received:
        groups_r[sop_instance_uid(path)].append(path)
    problems: list[str] = []
    if len(sent) != len(received):
        problems.append(f"{len(sent)} file(s) sent but {len(received)} received")
    pairs: list[tuple[Path, Path]] = []
    for uid in sorted(set(groups_s) | set(groups_r)):
        s, r = groups_s.get(uid, []), list(groups_r.get(uid, []))
        if len(s) != len(r):
            names = ", ".join(p.name for p in s)
            problems.append(f"SOP Instance {uid}: sent {len(s)} ({names}), received {len(r)}")
            continue
        for path in s:
            errors = []
            for candidate in r:
                try:
                    assert_same_or_decoded(path, candidate)
                except (DatasetMismatch, AssertionError) as exc:
                    errors.append(str(exc))
                    continue
                r.remove(candidate)
                pairs.append((path, candidate))
                break
            else:
                problems.append(f"no received file equals {path.name}: {errors[:1]}")
        if len(problems) >= 5:
            break
    if problems:
        raise AssertionError("\n".join(problems) + suffix)
    return pairs
