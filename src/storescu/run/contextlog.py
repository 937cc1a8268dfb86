"""What ``+v`` and ``-ll trace`` log about an association and a dataset.

Kept apart from :mod:`storescu.run.filesender`, which calls them: the
proposed and accepted presentation contexts as DCMTK prints them, and the
dump of a dataset before it is sent.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from storescu.kernel.constants import sop_class_name, transfer_syntax_name

if TYPE_CHECKING:
    from storescu.net.client import StoreAssociation
    from storescu.protocol.pdu import PresentationContextRQ
    from storescu.run.items import _Item

__all__ = ["TRACE", "log_accepted", "log_proposal", "trace_dataset"]

log = logging.getLogger("storescu")

#: Log level below DEBUG for dataset dumps (DCMTK's "trace", ``-ll trace``).
TRACE = 5


def log_proposal(contexts: Sequence[PresentationContextRQ]) -> None:
    """+v: the proposed presentation contexts, one block per context."""
    log.info("Proposed Presentation Contexts:")
    for ctx in contexts:
        log.info("  Context ID:        %d (Proposed)", ctx.context_id)
        log.info("    Abstract Syntax: =%s", sop_class_name(ctx.abstract_syntax))
        log.info("    Proposed Transfer Syntax(es):")
        for ts in ctx.transfer_syntaxes:
            log.info("      =%s", transfer_syntax_name(ts))


def log_accepted(assoc: StoreAssociation) -> None:
    """+v: what the peer accepted, and its implementation."""
    uid, version = assoc.peer_implementation
    log.info("Their Implementation Class UID:    %s", uid)
    log.info("Their Implementation Version Name: %s", version)
    log.info("Their Max PDU Receive Size:  %d", assoc.peer_max_pdu)
    log.info("Accepted Presentation Contexts:")
    for ctx in assoc.accepted.contexts:
        log.info("  Context ID:        %d (Accepted)", ctx.context_id)
        log.info("    Abstract Syntax: =%s", sop_class_name(ctx.abstract_syntax))
        log.info("    Accepted Transfer Syntax: =%s", transfer_syntax_name(ctx.transfer_syntax))


def trace_dataset(item: _Item) -> None:
    """``-ll trace``: dump the dataset (without pixel data) with tag names.

    Names come from pydicom's dictionary plus the ``DCMDICTPATH`` files.
    """
    from storescu.dataset.dictionary import ensure_loaded

    ensure_loaded()
    try:
        if item.dataset is not None:
            dataset: object = item.dataset
        else:
            import pydicom

            dataset = pydicom.dcmread(item.path, stop_before_pixels=True, force=True)
    except Exception as exc:  # a dump is best effort; sending goes on
        log.log(TRACE, "cannot dump %s: %s", item.path, exc)
        return
    log.log(TRACE, "Dataset of %s:\n%s", item.path, dataset)
