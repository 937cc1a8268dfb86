"""Blocking TCP (or TLS) transport for the Upper Layer: connect, send, receive.

The driver owns the clock (the sans-IO core has none): every wait here takes a
timeout in seconds, ``None`` meaning "wait forever".

TLS (PS3.15 Annex B) wraps the socket right after the TCP connect; the handshake
happens in :meth:`Transport.connect`, bounded by the handshake timeout. What OpenSSL
reports then, or at the first read (TLS 1.3 servers refuse a missing client
certificate only after the handshake), becomes a :class:`~storescu.errors.TlsError`
that says what happened (see :func:`storescu.tls.describe_ssl_error`).
"""

from __future__ import annotations

import errno
import os
import socket
import ssl
import sys
from collections.abc import Sequence
from typing import Final

from storescu.errors import TimeoutError_, TlsError, TransportError

Buffer = bytes | bytearray | memoryview

# sendmsg() accepts at most IOV_MAX buffers (1024 on Linux).
_IOV_MAX: Final = min(os.sysconf("SC_IOV_MAX") if hasattr(os, "sysconf") else 1024, 1024)
_RECV_SIZE: Final = 256 * 1024
#: Linux's TCP_QUICKACK (12); None where the platform has no such option.
_QUICKACK: Final = getattr(socket, "TCP_QUICKACK", None)
#: Over TLS small buffers (PDU headers) are joined up to this size before a write:
#: each write is a TLS record, and SSLSocket has no sendmsg().
_TLS_BATCH: Final = 64 * 1024


def _describe(exc: OSError) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, ConnectionResetError):
        return "connection reset by peer"
    if isinstance(exc, BrokenPipeError):
        return "connection closed by peer (broken pipe)"
    if exc.errno is not None and exc.strerror:
        return exc.strerror.lower()
    return str(exc) or type(exc).__name__


class Transport:
    """A connected stream socket with the few operations the Upper Layer needs."""

    def __init__(self, sock: socket.socket, peer: str, server_hostname: str | None = None) -> None:
        self.sock = sock
        self.peer = peer
        self.server_hostname = server_hostname
        self.is_tls = isinstance(sock, ssl.SSLSocket)
        self._closed = False
        self._timeout: float | str | None = "unset"
        self._received_any = False
        self._has_sendmsg = hasattr(sock, "sendmsg") and not self.is_tls
        #: True when a send() was cut short after part of its bytes went out
        #: (timeout, Ctrl-C): the stream stops inside a PDU, so an A-ABORT
        #: written now would be read as part of it -- only closing is clean.
        self.torn = False

    @classmethod
    def connect(
        cls,
        host: str,
        port: int,
        connect_timeout: float | None,
        family: int = socket.AF_UNSPEC,
        *,
        tls: ssl.SSLContext | None = None,
        server_hostname: str | None = None,
        handshake_timeout: float | None = None,
    ) -> Transport:
        """Open a TCP connection with TCP_NODELAY set; with ``tls``, do the handshake.

        Parameters
        ----------
        tls : ssl.SSLContext, optional
            A client context (see :func:`storescu.tls.client_context`).
        server_hostname : str, optional
            Sent as SNI (unless it is an IP address) and, when the context checks
            host names, matched against the server certificate.
        handshake_timeout : float, optional
            Bound on the TLS handshake in seconds (None: wait forever).

        Raises
        ------
        TimeoutError_
            ``connect_timeout`` (or the handshake timeout) expired (kind ``"connect"``).
        TlsError
            The TLS handshake failed; the message says why.
        TransportError
            Name resolution failed, or the connection was refused or unreachable.
        """
        peer = f"{host}:{port}"
        try:
            infos = socket.getaddrinfo(host, port, family, socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise TransportError(f"cannot resolve host {host!r}: {exc.strerror}") from exc
        last: OSError | None = None
        for af, kind, proto, _, address in infos:
            sock = socket.socket(af, kind, proto)
            try:
                sock.settimeout(connect_timeout)
                sock.connect(address)
            except TimeoutError as exc:
                sock.close()
                raise TimeoutError_(
                    f"connect timeout after {connect_timeout:g} s to {peer}", "connect"
                ) from exc
            except OSError as exc:
                sock.close()
                last = exc
                continue
            # Small PDUs (command sets, responses) must not wait for Nagle.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if tls is None:
                return cls(sock, peer)
            return cls(
                _handshake(sock, peer, tls, server_hostname, handshake_timeout),
                peer,
                server_hostname,
            )
        assert last is not None
        raise TransportError(f"cannot connect to {peer}: {_describe(last)}") from last

    @property
    def received_any(self) -> bool:
        """True once the peer sent at least one byte."""
        return self._received_any

    def describe_tls(self) -> str | None:
        """``TLSv1.3, TLS_AES_256_GCM_SHA384, peer certificate CN=...`` (None without TLS)."""
        if not isinstance(self.sock, ssl.SSLSocket):
            return None
        cipher = self.sock.cipher()
        text = f"{self.sock.version()}, {cipher[0] if cipher else 'no cipher'}"
        cert = self.sock.getpeercert()
        if cert:
            subject = _name(cert.get("subject", ()))
            issuer = _name(cert.get("issuer", ()))
            until = cert.get("notAfter")
            text += f", peer certificate {subject} (issuer {issuer}, valid until {until})"
        return text

    def _tls_error(self, exc: BaseException) -> TlsError:
        from storescu.tls import describe_ssl_error

        ctx = self.sock.context if isinstance(self.sock, ssl.SSLSocket) else None
        return TlsError(
            f"TLS error from {self.peer}: "
            + describe_ssl_error(
                exc,
                peer=self.peer,
                has_certificate=bool(getattr(ctx, "has_certificate", False)),
                profile=str(getattr(ctx, "profile_name", "")),
                server_name=self.server_hostname,
            )
        )

    def _pending_tls_error(self) -> TlsError | None:
        """After a failed write: an alert the peer sent before closing, if any."""
        try:
            self._set_timeout(0.5)
            self.sock.recv(_RECV_SIZE)
        except ssl.SSLError as exc:
            if not isinstance(exc, (ssl.SSLEOFError, ssl.SSLZeroReturnError)):
                return self._tls_error(exc)
        except OSError:
            pass
        return None

    def send(self, buffers: Sequence[Buffer], timeout: float | None) -> None:
        """Write every buffer, in order, with as few system calls as possible.

        ``timeout`` bounds each wait for the socket to accept more data, not the
        whole transfer: a slow but alive peer never causes a false timeout.
        """
        sock = self.sock
        try:
            self._set_timeout(timeout)
            if self.is_tls or not self._has_sendmsg:
                self.torn = True  # how much of it went out is unknown until it returns
                if self.is_tls:
                    self._send_joined(buffers)
                else:
                    for buf in buffers:
                        sock.sendall(buf)
                self.torn = False
                return
            pending = [memoryview(b).cast("B") for b in buffers]
            start = 0
            while start < len(pending):
                batch = pending[start : start + _IOV_MAX]
                sent = sock.sendmsg(batch)
                self.torn = True  # until the last buffer is out
                # Skip what went out; keep the unsent tail of a partial buffer.
                for view in batch:
                    size = len(view)
                    if sent >= size:
                        sent -= size
                        start += 1
                        continue
                    pending[start] = view[sent:]
                    break
            self.torn = False
        except TimeoutError as exc:
            raise TimeoutError_(
                f"socket timeout: {self.peer} accepted no data for {timeout:g} s", "socket"
            ) from exc
        except OSError as exc:
            if self.is_tls:
                alert = self._pending_tls_error()
                if alert is not None:
                    raise alert from exc
            raise TransportError(f"sending to {self.peer} failed: {_describe(exc)}") from exc

    def _send_joined(self, buffers: Sequence[Buffer]) -> None:
        sock = self.sock
        pending = bytearray()
        for buf in buffers:
            view = memoryview(buf).cast("B")
            if len(pending) + len(view) <= _TLS_BATCH:
                pending += view
                continue
            if pending:
                sock.sendall(pending)
                pending.clear()
            if len(view) >= _TLS_BATCH:
                sock.sendall(view)
            else:
                pending += view
        if pending:
            sock.sendall(pending)

    def receive(self, timeout: float | None, kind: str = "socket") -> bytes:
        """Return the next bytes from the peer; ``b""`` when it closed the connection.

        Raises
        ------
        TimeoutError_
            Nothing arrived within ``timeout`` seconds (``kind`` names which timeout).
        TransportError
            The connection failed (reset...).
        """
        try:
            self._set_timeout(timeout)
            data = self.sock.recv(_RECV_SIZE)
            if _QUICKACK is not None and data:
                # Acknowledge at once instead of after the delayed-ACK timer
                # (about 40 ms): peers that keep Nagle on (Orthanc as Debian
                # starts it) hold back the rest of a response until our ACK.
                # Linux resets the flag after every ACK, so it is set per read.
                self.sock.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)
        except TimeoutError as exc:
            raise TimeoutError_(
                f"{kind} timeout: no answer from {self.peer} within {timeout:g} s", kind
            ) from exc
        except (ssl.SSLEOFError, ssl.SSLZeroReturnError):
            return b""  # closed without (or with) close_notify: an A-P-ABORT either way
        except ssl.SSLError as exc:
            # An alert, e.g. TLS 1.3 "certificate required" at the first read.
            raise self._tls_error(exc) from exc
        except OSError as exc:
            if exc.errno in (errno.ECONNRESET, errno.EPIPE):
                return b""
            raise TransportError(f"receiving from {self.peer} failed: {_describe(exc)}") from exc
        if not self._received_any and data:
            self._received_any = True
            # PDU types are 01..07; 0x15/0x16 0x03 starts a TLS alert/handshake record.
            if not self.is_tls and data[0] in (0x15, 0x16) and data[1:2] == b"\x03":
                raise TlsError(
                    f"{self.peer} answered with TLS: it expects a secure connection "
                    "(use +tls KEY CERT or +tla)"
                )
        return data

    def unsent(self) -> int | None:
        """Bytes written but not yet acknowledged by the peer, or None where unknown.

        Linux's SIOCOUTQ (TIOCOUTQ on a socket). Lets a driver tell a peer that
        is still reading what we sent (slow but alive) from one that stopped.
        """
        try:
            import fcntl
            import termios

            raw = fcntl.ioctl(self.sock.fileno(), termios.TIOCOUTQ, b"\0\0\0\0")
        except (ImportError, OSError, ValueError, AttributeError):
            return None
        return int.from_bytes(raw, sys.byteorder, signed=True)

    def _set_timeout(self, timeout: float | None) -> None:
        # settimeout() is a system call's worth of work; a run sets the same
        # two or three values thousands of times.
        if timeout != self._timeout:
            self.sock.settimeout(timeout)
            self._timeout = timeout

    def close(self) -> None:
        """Close the connection (idempotent)."""
        if self._closed:
            return
        self._closed = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


def _handshake(
    sock: socket.socket,
    peer: str,
    context: ssl.SSLContext,
    server_hostname: str | None,
    timeout: float | None,
) -> ssl.SSLSocket:
    """Wrap ``sock`` and complete the TLS handshake as a client (closes ``sock`` on failure)."""
    from storescu.tls import describe_ssl_error

    try:
        sock.settimeout(timeout)
        tls_sock = context.wrap_socket(
            sock, server_hostname=server_hostname, do_handshake_on_connect=False
        )
    except (ValueError, OSError) as exc:
        sock.close()
        raise TlsError(f"cannot start TLS with {peer}: {exc}") from exc
    try:
        tls_sock.do_handshake()
    except TimeoutError as exc:
        tls_sock.close()
        raise TimeoutError_(
            f"TLS handshake timeout after {timeout:g} s with {peer}", "connect"
        ) from exc
    except OSError as exc:  # ssl.SSLError included
        tls_sock.close()
        message = describe_ssl_error(
            exc,
            peer=peer,
            has_certificate=bool(getattr(context, "has_certificate", False)),
            profile=str(getattr(context, "profile_name", "")),
            server_name=server_hostname,
        )
        raise TlsError(f"TLS handshake with {peer} failed: {message}") from exc
    return tls_sock


def _name(rdns: object) -> str:
    """``CN=x,O=y`` from the tuple form of :meth:`ssl.SSLSocket.getpeercert`."""
    parts: list[str] = []
    if isinstance(rdns, tuple):
        for rdn in rdns:
            for key, value in rdn:
                short = {"commonName": "CN", "organizationName": "O", "countryName": "C"}
                parts.append(f"{short.get(key, key)}={value}")
    return ",".join(parts) or "(empty)"
