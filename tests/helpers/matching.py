"""Check that a peer received exactly what was sent: count and content.

Several test files share a SOP Instance UID (pydicom ships the same MR image as
explicit LE, big endian, implicit...), and ``--repeat`` sends one file several
times, so received files are matched to sent ones as a multiset: grouped by SOP
Instance UID, then paired one-to-one so that every pair passes
:func:`~tests.helpers.compare.assert_same_dataset`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from pydicom import dcmread

from tests.helpers.compare import DatasetMismatch, assert_same_dataset


def sop_instance_uid(path: Path) -> str:
    ds = dcmread(path, stop_before_pixels=True, force=True, specific_tags=["SOPInstanceUID"])
    return str(ds.get("SOPInstanceUID", ""))


def assert_received_all(
    sent: Sequence[Path], received: Sequence[Path], context: str = ""
) -> list[tuple[Path, Path]]:
    """Fail unless ``received`` is ``sent`` (as a multiset of datasets).

    Returns the (sent, received) pairs. ``context`` (e.g. the sender's output) is
    appended to the failure message.
    """
    suffix = f"\n{context}" if context else ""
    sent_groups: dict[str, list[Path]] = defaultdict(list)
    received_groups: dict[str, list[Path]] = defaultdict(list)
    for path in sent:
        sent_groups[sop_instance_uid(path)].append(path)
    for path in received:
        received_groups[sop_instance_uid(path)].append(path)

    problems = []
    pairs: list[tuple[Path, Path]] = []
    if len(received) != len(sent):
        problems.append(f"{len(sent)} file(s) sent but {len(received)} received")
    for uid in sorted(set(sent_groups) | set(received_groups)):
        s, r = sent_groups.get(uid, []), received_groups.get(uid, [])
        if len(s) != len(r):
            problems.append(
                f"SOP Instance {uid}: sent {len(s)} ({', '.join(p.name for p in s)}), "
                f"received {len(r)} ({', '.join(p.name for p in r)})"
            )
            continue
        error = _match_group(s, r, pairs)
        if error:
            problems.append(f"SOP Instance {uid}: {error}")
        if len(problems) >= 5:
            problems.append("...")
            break
    if problems:
        raise AssertionError("\n".join(problems) + suffix)
    return pairs


def _match_group(
    sent: list[Path], received: list[Path], pairs: list[tuple[Path, Path]]
) -> str | None:
    """Pair ``sent`` with ``received`` one-to-one by equality; describe a failure."""
    cache: dict[tuple[int, int], str | None] = {}

    def compare(i: int, j: int) -> str | None:
        if (i, j) not in cache:
            try:
                assert_same_dataset(sent[i], received[j])
                cache[i, j] = None
            except DatasetMismatch as exc:
                cache[i, j] = str(exc)
        return cache[i, j]

    used = [False] * len(received)
    chosen = [-1] * len(sent)

    def assign(i: int) -> bool:
        if i == len(sent):
            return True
        for j in range(len(received)):
            if not used[j] and compare(i, j) is None:
                used[j] = True
                chosen[i] = j
                if assign(i + 1):
                    return True
                used[j] = False
        return False

    if assign(0):
        pairs.extend((sent[i], received[chosen[i]]) for i in range(len(sent)))
        return None
    # Describe the first sent file that has no equal received file.
    for i in range(len(sent)):
        errors = [compare(i, j) for j in range(len(received))]
        if all(e is not None for e in errors):
            return f"no received file equals {sent[i].name}:\n" + "\n".join(
                str(e) for e in errors[:2]
            )
    return "no one-to-one pairing of equal datasets exists"


def unique_uid_batches(files: Sequence[Path]) -> list[list[Path]]:
    """Split ``files`` into batches in which no SOP Instance UID repeats.

    For peers that keep one instance per UID (Orthanc), each batch is sent and
    checked on its own.
    """
    batches: list[list[Path]] = []
    seen: dict[str, int] = defaultdict(int)
    for path in files:
        uid = sop_instance_uid(path)
        index = seen[uid]
        seen[uid] += 1
        if index == len(batches):
            batches.append([])
        batches[index].append(path)
    return batches


def transfer_syntax(path: Path) -> str:
    ds = dcmread(path, stop_before_pixels=True, force=True, specific_tags=["SOPInstanceUID"])
    return str(ds.file_meta.TransferSyntaxUID)
