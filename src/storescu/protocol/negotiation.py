"""Presentation context proposal and per-file selection, as DCMTK storescu does.

Proposal (PS3.8 9.3.2.2, PS3.7 D.3.2): for each SOP class, one context with
the preferred transfer syntax and one with the other uncompressed syntaxes, or
(``combine``) one context with all of them. Context IDs are odd, 1..255, so an
association carries at most 128 contexts.

Selection, per file, in DCMTK's order: with ``-xd`` deflated first for an
unencapsulated file; a context whose syntax is the file's own; otherwise
explicit VR (little, then big endian); then implicit VR little endian; then
(beyond DCMTK) deflated; then any accepted context for the SOP class. Whether
the dataset can actually be converted to the chosen syntax (decompressed, for
a compressed file) is the sender's decision, made before any byte of the file
goes out. Which contexts to propose for a set of files, over how many
associations, is :mod:`storescu.protocol.planning`'s.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Final

from storescu.kernel.constants import (
    DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN,
    EXPLICIT_VR_BIG_ENDIAN,
    EXPLICIT_VR_LITTLE_ENDIAN,
    IMPLICIT_VR_LITTLE_ENDIAN,
    MAX_PRESENTATION_CONTEXTS,
    STORAGE_SOP_CLASSES,
)
from storescu.kernel.errors import NegotiationError, UsageError
from storescu.kernel.records import dataclass
from storescu.kernel.syntaxes import CONVERTIBLE, fallback_for, preferred_for
from storescu.protocol.pdu import PresentationContextAC, PresentationContextRQ

_DEFLATED: Final = DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN
_ALL_UNCOMPRESSED: Final = (
    EXPLICIT_VR_LITTLE_ENDIAN,
    EXPLICIT_VR_BIG_ENDIAN,
    IMPLICIT_VR_LITTLE_ENDIAN,
)


def transfer_syntax_lists(propose: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Return ``(preferred, fallback)`` syntax lists for a proposal mode.

    As DCMTK: the mode's preferred syntax, and the other uncompressed ones as
    fallback -- none for ``-xi`` (implicit) and the video options
    (:mod:`storescu.kernel.syntaxes`).
    """
    try:
        preferred = preferred_for(propose)
    except KeyError:
        raise UsageError(f"unknown proposal mode {propose!r}") from None
    return (preferred,), fallback_for(propose)


def sop_classes_to_propose(required_only: bool, file_sop_classes: Iterable[str]) -> list[str]:
    """The SOP classes to propose: the built-in list, or with ``-R`` the files' own.

    Order is kept and duplicates removed.
    """
    source: Iterable[str]
    source = file_sop_classes if required_only else (uid for uid, _ in STORAGE_SOP_CLASSES)
    return list(dict.fromkeys(source))


def build_proposal(
    sop_classes: Sequence[str],
    preferred: Sequence[str],
    fallback: Sequence[str],
    combine: bool = False,
) -> tuple[PresentationContextRQ, ...]:
    """Build the presentation contexts for an A-ASSOCIATE-RQ.

    Raises
    ------
    NegotiationError
        When more than 128 contexts would be needed (PS3.8 9.3.2.2).
    """
    groups: list[tuple[str, ...]]
    if combine:
        groups = [tuple(dict.fromkeys((*preferred, *fallback)))]
    else:
        groups = [tuple(preferred)] + ([tuple(fallback)] if fallback else [])
    needed = len(sop_classes) * len(groups)
    if needed > MAX_PRESENTATION_CONTEXTS:
        raise NegotiationError(
            f"Too many presentation contexts: {needed} needed, at most "
            f"{MAX_PRESENTATION_CONTEXTS} fit in one association"
        )
    contexts: list[PresentationContextRQ] = []
    context_id = 1
    for sop_class in sop_classes:
        for syntaxes in groups:
            contexts.append(PresentationContextRQ(context_id, sop_class, syntaxes))
            context_id += 2
    return tuple(contexts)


@dataclass(frozen=True, slots=True)
class AcceptedContext:
    """A presentation context the peer accepted, with what we proposed in it."""

    context_id: int
    abstract_syntax: str
    transfer_syntax: str


class AcceptedContexts:
    """The accepted contexts of an association, indexed for per-file lookup."""

    def __init__(self, contexts: Iterable[AcceptedContext]) -> None:
        self.contexts = tuple(contexts)
        self.by_id = {ctx.context_id: ctx for ctx in self.contexts}
        self._by_class: dict[str, list[AcceptedContext]] = {}
        for ctx in self.contexts:
            self._by_class.setdefault(ctx.abstract_syntax, []).append(ctx)
        self._cache: dict[tuple[str, str, bool], AcceptedContext | None] = {}

    def __len__(self) -> int:
        return len(self.contexts)

    def select(
        self, sop_class_uid: str, file_syntax: str, prefer_deflated: bool = False
    ) -> AcceptedContext | None:
        """Pick the context for a file of ``sop_class_uid`` in ``file_syntax``.

        DCMTK's order (storescu.cc ``storeSCU``): deflated first when
        `prefer_deflated` (``-xd``) and the file is not encapsulated; the
        file's own syntax; explicit VR little endian, explicit VR big endian,
        implicit VR little endian. Then, beyond DCMTK, deflated (which any
        decodable file can be converted to), then any accepted context for
        the class. None when the class has no accepted context.
        """
        key = (sop_class_uid, file_syntax, prefer_deflated)
        if key in self._cache:
            return self._cache[key]
        candidates = self._by_class.get(sop_class_uid, [])
        chosen: AcceptedContext | None = None
        order: tuple[str, ...] = (file_syntax, *_ALL_UNCOMPRESSED, _DEFLATED)
        if prefer_deflated and file_syntax in CONVERTIBLE:
            order = (_DEFLATED, *order)
        for wanted in order:
            chosen = next((c for c in candidates if c.transfer_syntax == wanted), None)
            if chosen is not None:
                break
        if chosen is None and candidates:
            chosen = candidates[0]
        self._cache[key] = chosen
        return chosen

    def context_for(self, sop_class_uid: str, transfer_syntax: str) -> AcceptedContext | None:
        """The first accepted context for the class in exactly `transfer_syntax`, or None.

        ``--compress`` asks for the context of the lossless syntax it means
        to encode in (:mod:`storescu.run.compressing`).
        """
        candidates = self._by_class.get(sop_class_uid, [])
        return next((c for c in candidates if c.transfer_syntax == transfer_syntax), None)

    def syntaxes_for(self, sop_class_uid: str) -> list[str]:
        """The transfer syntaxes accepted for a SOP class, in context order, once each."""
        found = (c.transfer_syntax for c in self._by_class.get(sop_class_uid, []))
        return list(dict.fromkeys(found))


def accepted_contexts(
    proposed: Sequence[PresentationContextRQ], answers: Iterable[PresentationContextAC]
) -> tuple[AcceptedContexts, list[str]]:
    """Match the A-ASSOCIATE-AC's answers against what was proposed.

    Answers for context IDs never proposed, or accepting a syntax that was not
    proposed in that context, are ignored (PS3.8 9.3.3.2 allows only proposed
    values) and reported as warnings.

    Returns
    -------
    (AcceptedContexts, list of str)
        The usable contexts and warnings about ignored answers.
    """
    by_id = {ctx.context_id: ctx for ctx in proposed}
    warnings: list[str] = []
    usable: list[AcceptedContext] = []
    seen: set[int] = set()
    for answer in answers:
        rq = by_id.get(answer.context_id)
        if rq is None:
            warnings.append(
                f"peer answered presentation context {answer.context_id}, which was not "
                "proposed: ignored"
            )
            continue
        if answer.context_id in seen:
            warnings.append(f"peer answered presentation context {answer.context_id} twice")
            continue
        seen.add(answer.context_id)
        if not answer.accepted:
            continue
        if answer.transfer_syntax not in rq.transfer_syntaxes:
            warnings.append(
                f"peer accepted presentation context {answer.context_id} with transfer syntax "
                f"{answer.transfer_syntax}, which was not proposed in it: ignored"
            )
            continue
        usable.append(
            AcceptedContext(answer.context_id, rq.abstract_syntax, answer.transfer_syntax)
        )
    return AcceptedContexts(usable), warnings
