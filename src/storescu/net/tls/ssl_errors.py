"""What OpenSSL reports during (or right after) a handshake, as a message for the user.

Theory of operation
-------------------
:func:`describe_ssl_error` turns an :class:`ssl.SSLError` (or the connection
closing during the handshake) into a sentence that says what happened and which
option to change; the transport and the SCP put it into a
:class:`~storescu.kernel.errors.TlsError`. OpenSSL's certificate verification
codes (``X509_V_ERR_*``) and reasons (alerts, ``WRONG_VERSION_NUMBER``, ...) are
grouped below by what the user can do about them.
"""

from __future__ import annotations

import ssl
from typing import Final

from storescu.net.tls.profiles import DEFAULT_PROFILE, PROFILES

__all__ = ["describe_ssl_error"]

#: OpenSSL certificate verification codes (X509_V_ERR_*) grouped by what to do.
_UNTRUSTED: Final = frozenset({2, 18, 19, 20, 21})
_EXPIRED: Final = 10
_NOT_YET_VALID: Final = 9
_REVOKED: Final = 23
_NO_CRL: Final = 3
_CRL_EXPIRED: Final = 12
_HOST_MISMATCH: Final = frozenset({62, 64})

_NOT_TLS: Final = frozenset(
    {"WRONG_VERSION_NUMBER", "PACKET_LENGTH_TOO_LONG", "RECORD_LAYER_FAILURE", "HTTP_REQUEST"}
)
_PROTOCOL_MISMATCH: Final = frozenset(
    {
        "TLSV1_ALERT_PROTOCOL_VERSION",
        "UNSUPPORTED_PROTOCOL",
        "NO_PROTOCOLS_AVAILABLE",
        "VERSION_TOO_LOW",
        "VERSION_TOO_HIGH",
    }
)
_CIPHER_MISMATCH: Final = frozenset(
    {
        "NO_SHARED_CIPHER",
        "NO_CIPHERS_AVAILABLE",
        "NO_SUITABLE_SIGNATURE_ALGORITHM",
        "TLSV1_ALERT_INSUFFICIENT_SECURITY",
        "SSLV3_ALERT_INSUFFICIENT_SECURITY",
    }
)
_OUR_CERT_REJECTED: Final = {
    "TLSV1_ALERT_UNKNOWN_CA": "it does not trust the CA that issued our certificate",
    "SSLV3_ALERT_BAD_CERTIFICATE": "bad certificate",
    "SSLV3_ALERT_CERTIFICATE_UNKNOWN": "certificate unknown",
    "SSLV3_ALERT_CERTIFICATE_EXPIRED": "our certificate has expired",
    "SSLV3_ALERT_CERTIFICATE_REVOKED": "our certificate has been revoked",
    "SSLV3_ALERT_UNSUPPORTED_CERTIFICATE": "unsupported certificate",
    "TLSV1_ALERT_ACCESS_DENIED": "access denied",
}


def describe_ssl_error(
    exc: BaseException,
    *,
    peer: str,
    server: bool = False,
    has_certificate: bool = False,
    profile: str = DEFAULT_PROFILE,
    server_name: str | None = None,
) -> str:
    """A message for a failed TLS handshake (or an alert at the first read).

    ``server`` is True on the SCP side (the peer is then a client);
    ``has_certificate`` whether we presented one; ``profile`` our profile name;
    ``server_name`` the name the certificate was checked against, if any.
    """
    them = "client" if server else "server"
    option = PROFILES[profile].option if profile in PROFILES else profile
    if isinstance(exc, ssl.SSLCertVerificationError):
        code = exc.verify_code
        detail = exc.verify_message or "certificate verify failed"
        if code in _UNTRUSTED:
            return (
                f"{them} certificate not trusted ({detail}): add the CA that issued it with "
                "+cf FILE or +cd DIR" + ("" if server else ", or skip the check with -ic")
            )
        if code == _EXPIRED:
            return f"{them} certificate has expired ({detail}): {peer} must renew it"
        if code == _NOT_YET_VALID:
            return f"{them} certificate is not yet valid ({detail}): check both clocks"
        if code in _HOST_MISMATCH:
            name = f" '{server_name}'" if server_name else ""
            return (
                f"server certificate does not match the host name{name} ({detail}); "
                "checked because of --check-hostname"
            )
        if code == _REVOKED:
            return f"{them} certificate has been revoked (CRL)"
        if code in (_NO_CRL, _CRL_EXPIRED):
            return (
                f"cannot check the {them} certificate for revocation ({detail}): give the "
                "issuer's current CRL with +crl FILE, or drop +crv/+cra"
            )
        return f"{them} certificate rejected: {detail}"
    if isinstance(exc, ssl.SSLError):
        reason = exc.reason or ""
        if reason in _NOT_TLS:
            if server:
                return f"the client {peer} did not start TLS (a plain DICOM client?)"
            return (
                f"{peer} does not answer with TLS (a plain DICOM port?): "
                "send without +tls/+tla, or use the peer's TLS port"
            )
        if reason == "TLSV13_ALERT_CERTIFICATE_REQUIRED" or reason in (
            "PEER_DID_NOT_RETURN_A_CERTIFICATE",
        ):
            if server:
                return "the client sent no certificate (accept that with -vc or -ic)"
            return "the server requires a client certificate: use +tls KEY CERT instead of +tla"
        if reason in _OUR_CERT_REJECTED:
            return f"the {them} rejected our certificate ({_OUR_CERT_REJECTED[reason]})"
        if reason in _PROTOCOL_MISMATCH:
            return (
                f"no TLS version in common with the {them} ({reason.lower()}): "
                f"profile {option} allows {_versions(profile)}"
            )
        if reason in _CIPHER_MISMATCH:
            return (
                f"no cipher suite in common with the {them} ({reason.lower()}): "
                f"try another profile than {option} (+ph lists them) or add one with +cs"
            )
        if reason == "SSLV3_ALERT_HANDSHAKE_FAILURE" and not server:
            if not has_certificate:
                return (
                    "the server refused the TLS handshake (handshake failure): it probably "
                    "requires a client certificate (use +tls KEY CERT instead of +tla), or "
                    f"has no cipher suite in common with profile {option}"
                )
            return (
                "the server refused the TLS handshake (handshake failure): no cipher suite "
                f"in common with profile {option}? (+ph lists the profiles)"
            )
        if isinstance(exc, ssl.SSLEOFError) or reason == "UNEXPECTED_EOF_WHILE_READING":
            return _closed_during_handshake(them)
        return reason.lower() or str(exc)
    if isinstance(exc, (ConnectionResetError, BrokenPipeError, EOFError)):
        return _closed_during_handshake(them)
    return str(exc) or type(exc).__name__


def _closed_during_handshake(them: str) -> str:
    return (
        f"the {them} closed the connection during the handshake: it may not use TLS on this "
        "port (a plain DICOM port?), or refused our TLS version, cipher suites or certificate "
        "(see its log)"
    )


def _versions(profile: str) -> str:
    p = PROFILES.get(profile)
    return "TLS 1.2 and 1.3" if p is None or p.tls13 else "TLS 1.2 only"
