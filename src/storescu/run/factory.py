"""The choice of sender: one association (DCMTK's) or several at once (``-P N``).

Made here, above both senders, so that neither knows the other's kind:
:class:`~storescu.run.parallel.ParallelSender` is built on
:class:`~storescu.run.sender.Sender`, and the plain sender does not know it
has a subclass. The parallel sender (threads) is imported only when asked for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from storescu.run.sender import Sender

if TYPE_CHECKING:
    from storescu.net.client import AssociationSettings
    from storescu.run.sender import ResultCallback, SendOptions

__all__ = ["make_sender"]


def make_sender(
    host: str,
    port: int,
    settings: AssociationSettings,
    options: SendOptions,
    on_result: ResultCallback | None = None,
    keep_results: bool = True,
) -> Sender:
    """The sender for `options`: a :class:`Sender`, or a parallel one for ``parallel`` > 1.

    Parameters
    ----------
    host, port, settings, options, on_result, keep_results
        Those of :class:`~storescu.run.sender.Sender`; see
        :mod:`storescu.run.parallel` for what running several associations at
        once keeps and changes.

    Returns
    -------
    Sender
        Not started: call its ``run`` with the inputs.
    """
    if options.parallel > 1:
        from storescu.run.parallel import ParallelSender  # threads: only when asked

        return ParallelSender(host, port, settings, options, on_result, keep_results)
    return Sender(host, port, settings, options, on_result, keep_results)
