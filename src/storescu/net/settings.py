"""What shapes one association, as DCMTK's options name it: :class:`AssociationSettings`.

Apart from the driver (:mod:`storescu.net.client`) so that the driver's helpers and
the other drivers of this layer (Storage Commitment) can take it without importing
the driver.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from storescu.kernel.constants import DEFAULT_CALLED_AET, DEFAULT_CALLING_AET, DEFAULT_MAX_PDU
from storescu.kernel.records import dataclass

if TYPE_CHECKING:
    import ssl

    from storescu.protocol.pdu import RoleSelection, UserIdentity

__all__ = ["AssociationSettings"]


@dataclass(frozen=True, slots=True)
class AssociationSettings:
    """Everything that shapes one association, as DCMTK's options name it.

    Parameters
    ----------
    calling_aet, called_aet : str
        Our and the peer's AE titles (``-aet``, ``-aec``).
    max_pdu : int
        Our maximum receive PDU (``-pdu``), advertised to the peer.
    max_send_pdu : int or None
        Cap on the PDUs we send (``--max-send-pdu``), below the peer's maximum.
    connect_timeout, socket_timeout, acse_timeout, dimse_timeout : float or None
        ``-to``, ``-ts``, ``-ta``, ``-td`` in seconds; None waits forever.
    tls : ssl.SSLContext or None
        Secure transport (PS3.15 Annex B): a client context, usually from
        :func:`storescu.net.tls.client_context`. None is plain TCP (``-tls``). The
        handshake is bounded by ``connect_timeout``, else ``socket_timeout``.
    user_identity : UserIdentity or None
        User identity negotiation (PS3.7 D.3.3.7; ``-usr``, ``-kt``, ``--saml``,
        ``--jwt``). When it asks for a positive response (``-rsp``), an
        A-ASSOCIATE-AC without one fails the association.
    max_ops_invoked, max_ops_performed : int
        The Asynchronous Operations Window proposed (PS3.7 D.3.3.3;
        ``--max-ops-invoked``, ``--max-ops-performed``; 0 = unlimited). 1 and 1
        (the default) propose none: one request at a time, as DCMTK does.
    tls_server_name : str or None
        SNI name (``--request-sni``). None sends none, unless the context checks
        host names: then the peer's host name is sent and checked.
    role_selections : tuple of RoleSelection
        SCP/SCU role selection items to propose (PS3.7 D.3.3.4): a Storage
        Commitment SCP calling back proposes the SCP role for its class.
    """

    calling_aet: str = DEFAULT_CALLING_AET
    called_aet: str = DEFAULT_CALLED_AET
    max_pdu: int = DEFAULT_MAX_PDU
    max_send_pdu: int | None = None
    connect_timeout: float | None = None
    socket_timeout: float | None = 60.0
    acse_timeout: float | None = 30.0
    dimse_timeout: float | None = None
    tls: ssl.SSLContext | None = None
    tls_server_name: str | None = None
    user_identity: UserIdentity | None = None
    role_selections: tuple[RoleSelection, ...] = ()
    max_ops_invoked: int = 1
    max_ops_performed: int = 1

    @property
    def async_ops(self) -> tuple[int, int] | None:
        """The window sub-item to propose, or None (synchronous, no sub-item)."""
        ops = (self.max_ops_invoked, self.max_ops_performed)
        return None if ops == (1, 1) else ops
