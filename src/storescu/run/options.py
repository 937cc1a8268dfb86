"""How a run behaves: DCMTK storescu's proposal and flow options, as one record.

:class:`SendOptions` is what :class:`~storescu.run.sender.Sender` (and the
parallel sender, ``-P``) is told; the command line builds it from its
options (:mod:`storescu.cli.options`), the API takes it as it is.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from storescu.dataset.conversion import Conversion
from storescu.kernel.records import dataclass, field

if TYPE_CHECKING:
    from storescu.dataset.rewriteopts import RewriteOptions
    from storescu.run.asconfig import Profile

__all__ = ["SendOptions"]


@dataclass(frozen=True, slots=True)
class SendOptions:
    """How a run behaves (DCMTK's proposal and flow options).

    Parameters
    ----------
    propose : str
        ``"uncompr"`` (-x=), ``"little"`` (-xe), ``"big"`` (-xb), ``"implicit"`` (-xi).
    required_only : bool
        ``-R``: propose only the SOP classes of the inputs.
    combine : bool
        ``+C``: one context per SOP class with all syntaxes.
    repeat : int
        ``--repeat``: send each file this many times.
    halt : bool
        Stop at the first unsuccessful store (DCMTK default); ``--no-halt`` goes on.
    abort_at_end : bool
        ``--abort``: end with A-ABORT instead of A-RELEASE.
    read_mode : str
        ``"auto"`` (+f), ``"fileformat"`` (+fo), ``"dataset"`` (-f).
    show_contexts : bool
        ``+v``: log the proposed and accepted presentation contexts.
    retries : int
        ``--retry``: how often to retry transient failures (connection
        refused or reset, rejected-transient, A7xx, a request that never got
        out completely), with exponential back-off from ``retry_delay``.
    retry_delay : float
        First back-off delay in seconds (doubles, at most 30 s).
    resend_unknown : bool
        Also resend a file whose outcome is unknown (association lost while
        awaiting its response); the result records that it was resent.
    family : int
        Address family for the connection (``socket.AF_INET`` for ``-i4``,
        ``AF_INET6`` for ``-i6``, 0 for either).
    conversion : Conversion
        Decompression (``+dls``/``+dly``/``-dn``), deflate level (``+cl``)
        and old VRs (``-u``); see :class:`storescu.dataset.conversion.Conversion`.
    profile : storescu.run.asconfig.Profile, optional
        ``-xf``: propose this profile's contexts instead of ``propose``.
    propose_file_syntaxes : bool
        ``+fs`` (default): also propose each input's own compressed syntax
        for its SOP class when it is not proposed (:mod:`storescu.protocol.planning`).
    propose_file_classes : bool
        ``+fc`` (default): also propose the inputs' SOP classes missing
        from the built-in list, as dcmsend does; ``-fc`` (False) proposes
        DCMTK's list only (``-R`` proposes only the inputs' classes).
    parallel : int
        ``-P``: send over this many associations at once (see
        :mod:`storescu.run.parallel`); 1 is DCMTK's single association.
    priority : str
        ``--priority``: the C-STORE-RQ's Priority, ``"low"``, ``"medium"``
        (default, DCMTK's only one) or ``"high"`` (PS3.7 9.1.1.1.9); a peer
        may ignore it.
    compress : str, optional
        ``--compress``: ``"jpeg-ls"``, ``"j2k"``, ``"htj2k"``, ``"rle"``,
        ``"deflate"`` or ``"auto"``; inputs with native pixel data are sent
        in that lossless syntax when the peer accepts it (see
        :mod:`storescu.run.compressing`). None (default): as they are.
    verify_compression : bool
        Decode every encoded frame again and compare it with the stored bytes
        before it goes out (default); ``--no-verify-compression`` skips that.
    """

    propose: str = "uncompr"
    required_only: bool = False
    combine: bool = False
    repeat: int = 1
    halt: bool = True
    abort_at_end: bool = False
    read_mode: str = "auto"
    show_contexts: bool = False
    retries: int = 0
    retry_delay: float = 1.0
    resend_unknown: bool = False
    family: int = 0
    rewrite: RewriteOptions | None = None
    conversion: Conversion = field(default_factory=Conversion)
    profile: Profile | None = None
    propose_file_syntaxes: bool = True
    propose_file_classes: bool = True
    parallel: int = 1
    priority: str = "medium"
    compress: str | None = None
    verify_compression: bool = True
