"""The truncation check's fast lane: skip plain top-level elements already in memory.

:func:`storescu.dataset.inspection._walk` visits every top-level element of a
dataset to tell a whole file from a truncated one (PS3.5 7.1: each element's
length says where the next starts; the last must end at the end of the file).
Most elements are plain -- a known VR and a defined length -- and the file
is usually in memory whole. :func:`skip_plain` runs over those with the least
work per element and stops, without judging, at the first one that is not
plain (an undefined length, an unknown VR, an item tag, a header or value
running past the end, or a SOP Class/Instance UID the caller records): the
caller's general loop then takes that element, with its own messages. So the
result is the same as the general loop's, only sooner.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

__all__ = ["Lane", "skip_plain"]

_UNDEFINED = 0xFFFFFFFF


#: What the caller's loop knows of the dataset: ``unpack`` reads one element header
#: as its loop does (the tag as one 32-bit number, then VR, length and long length
#: when explicit; tag and length when implicit), whether the VR is implicit, the
#: short and long explicit VRs, and the tags to stop at (SOP Class/Instance UID).
Lane = tuple[
    Callable[[bytes, int], tuple[Any, ...]],
    bool,
    Collection[bytes],
    Collection[bytes],
    Collection[int],
]


def skip_plain(lane: Lane, buf: bytes, base: int, pos: int, end: int) -> int:
    """Skip plain elements of `buf` (file offset `base`) from `pos`; return where it stopped.

    `end` must lie within the buffer. Stops at `end` or at the first element
    that is not plain (see the module notes).
    """
    unpack, implicit, short_vrs, long_vrs, stop_tags = lane
    limit = end - (8 if implicit else 12)  # a whole header must be in the buffer
    if implicit:
        while pos <= limit:
            tag, length = unpack(buf, pos - base)
            nxt = pos + 8 + length
            if length == _UNDEFINED or nxt > end or tag in stop_tags:
                return pos
            pos = nxt
        return pos
    while pos <= limit:
        tag, vr, length, long_length = unpack(buf, pos - base)
        if vr in short_vrs:
            nxt = pos + 8 + length
        elif vr in long_vrs and long_length != _UNDEFINED:
            nxt = pos + 12 + long_length
        else:
            return pos
        if nxt > end or tag in stop_tags:
            return pos
        pos = nxt
    return pos
