"""Probing what a peer accepts, without sending any data.

Each (SOP class, transfer syntax) pair is proposed in a presentation context
of its own, so the A-ASSOCIATE-AC answers for exactly that pair (PS3.8
9.3.3.2). More than 128 pairs are spread over several associations, each
released at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from storescu.kernel.constants import MAX_PRESENTATION_CONTEXTS
from storescu.kernel.errors import NegotiationError
from storescu.net.client import AssociationSettings, StoreAssociation
from storescu.protocol.pdu import PC_RESULT_TEXT, PresentationContextAC, PresentationContextRQ


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """The peer's answer for one SOP class in one transfer syntax."""

    sop_class_uid: str
    transfer_syntax: str
    accepted: bool
    reason: str


def probe(
    host: str,
    port: int,
    sop_classes: Iterable[str],
    transfer_syntaxes: Sequence[str],
    settings: AssociationSettings | None = None,
    family: int = 0,
) -> list[ProbeResult]:
    """Ask the peer which SOP classes it accepts in which transfer syntaxes.

    Parameters
    ----------
    host, port : str, int
        The peer.
    sop_classes : iterable of str
        The SOP classes to ask about (duplicates are asked once).
    transfer_syntaxes : sequence of str
        The transfer syntaxes to ask about, for every class.
    settings : AssociationSettings, optional
        AE titles, timeouts, TLS...
    family : int
        Address family (0 = either).

    Returns
    -------
    list of ProbeResult
        One result per (class, syntax) pair, in the order asked.

    Raises
    ------
    storescu.kernel.errors.StorescuError
        An association could not be opened (refused, rejected...).
    """
    pairs = [(uid, ts) for uid in dict.fromkeys(sop_classes) for ts in transfer_syntaxes]
    results: list[ProbeResult] = []
    for start in range(0, len(pairs), MAX_PRESENTATION_CONTEXTS):
        chunk = pairs[start : start + MAX_PRESENTATION_CONTEXTS]
        contexts = tuple(
            PresentationContextRQ(2 * index + 1, uid, (ts,))
            for index, (uid, ts) in enumerate(chunk)
        )
        answers = _negotiate(host, port, contexts, settings or AssociationSettings(), family)
        for context in contexts:
            answer = answers.get(context.context_id)
            if answer is None:
                accepted, reason = False, "no answer from the peer"
            else:
                accepted = (
                    answer.accepted and answer.transfer_syntax == context.transfer_syntaxes[0]
                )
                reason = PC_RESULT_TEXT.get(answer.result, f"result {answer.result}")
            results.append(
                ProbeResult(context.abstract_syntax, context.transfer_syntaxes[0], accepted, reason)
            )
    return results


def _negotiate(
    host: str,
    port: int,
    contexts: tuple[PresentationContextRQ, ...],
    settings: AssociationSettings,
    family: int,
) -> dict[int, PresentationContextAC]:
    try:
        assoc = StoreAssociation.open(host, port, contexts, settings, family)
    except NegotiationError as exc:
        # Nothing accepted in this chunk: keep the peer's reasons if it gave them.
        return {
            key: value
            for key, value in (exc.answers or {}).items()
            if isinstance(value, PresentationContextAC)
        }
    try:
        return dict(assoc.answers)
    finally:
        assoc.release()
