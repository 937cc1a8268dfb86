"""Blocking TCP (or TLS) transport for the Upper Layer: connect, send, receive.

The driver owns the clock (the sans-IO core has none): every wait here takes a
timeout in seconds, ``None`` meaning "wait forever".

TLS (PS3.15 Annex B) wraps the socket right after the TCP connect; the handshake
happens in :meth:`Transport.connect`, bounded by the handshake timeout. What OpenSSL
reports then, or at the first read (TLS 1.3 servers refuse a missing client
certificate only after the handshake), becomes a :class:`~storescu.kernel.errors.TlsError`
that says what happened (see :func:`storescu.net.tls.describe_ssl_error`).
"""

from __future__ import annotations

import errno
import os
import socket
import struct
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Final

from storescu.kernel.errors import TimeoutError_, TlsError, TransportError

if TYPE_CHECKING:
    # Imported at run time only for TLS: ssl costs a few milliseconds of a
    # one-file run's start-up.
    import ssl

Buffer = bytes | bytearray | memoryview

# sendmsg() accepts at most IOV_MAX buffers (1024 on Linux).
_IOV_MAX: Final = min(os.sysconf("SC_IOV_MAX") if hasattr(os, "sysconf") else 1024, 1024)
_RECV_SIZE: Final = 256 * 1024
#: A sender receives small PDUs (responses, association replies): a small
#: buffer is zeroed faster; bigger PDUs take more reads.
_RECV_BUFFER: Final = 64 * 1024
#: Linux's TCP_QUICKACK (12); None where the platform has no such option.
_QUICKACK: Final = getattr(socket, "TCP_QUICKACK", None)
#: Over TLS small buffers (PDU headers) are joined up to this size before a write:
#: each write is a TLS record, and SSLSocket has no sendmsg().
_TLS_BATCH: Final = 64 * 1024
#: Plain TCP on Linux: timeouts are the kernel's (SO_RCVTIMEO/SO_SNDTIMEO) on a
#: blocking socket. A Python socket timeout costs a poll() before every send and
#: receive -- two system calls per C-STORE for nothing.
_KERNEL_TIMEOUTS: Final = sys.platform.startswith("linux") and hasattr(socket, "SO_RCVTIMEO")
_TIMEVAL: Final = struct.Struct("@ll")


class TransportInterrupted(BaseException):
    """Another thread called :meth:`Transport.interrupt`: stop, as on Ctrl-C.

    Not a :class:`~storescu.kernel.errors.StorescuError` (nothing failed): like
    KeyboardInterrupt it passes every ``except StorescuError``, so the owner
    of the association accounts for the store under way as for Ctrl-C and
    aborts the association itself.
    """


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
        ssl_module = sys.modules.get("ssl")  # not imported: cannot be a TLS socket
        self.is_tls = ssl_module is not None and isinstance(sock, ssl_module.SSLSocket)
        self._closed = False
        self._timeout: float | str | None = "unset"
        self._kernel_timeouts = _KERNEL_TIMEOUTS and not self.is_tls
        if self._kernel_timeouts:
            sock.settimeout(None)  # blocking: no poll() before each call
        # Received bytes land here (recv_into): recv(n) would allocate n bytes
        # each time -- mmap, mremap and munmap per response for 256 KiB.
        self._recv_buffer = bytearray(_RECV_BUFFER)
        self._received_any = False
        self._has_sendmsg = hasattr(sock, "sendmsg") and not self.is_tls
        #: True when a send() was cut short after part of its bytes went out
        #: (timeout, Ctrl-C): the stream stops inside a PDU, so an A-ABORT
        #: written now would be read as part of it -- only closing is clean.
        self.torn = False
        #: Set by :meth:`interrupt` (from another thread): the driver stops at
        #: the next PDU boundary.
        self.interrupted = False

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
            A client context (see :func:`storescu.net.tls.client_context`).
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
            # An ASCII name goes as bytes: a str is IDNA-encoded first, and
            # importing that codec is a millisecond of every start.
            name: str | bytes = host.encode("ascii") if host.isascii() else host
            infos = socket.getaddrinfo(name, port, family, socket.SOCK_STREAM)
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
        if not self.is_tls:
            return None
        import ssl

        assert isinstance(self.sock, ssl.SSLSocket)
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
        import ssl

        from storescu.net.tls import describe_ssl_error

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
        import ssl

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
                # Torn until the last buffer is out; set before the call: a blocking
                # sendmsg cut short by a signal returns part of it, and the
                # KeyboardInterrupt may come before the next line.
                self.torn = True
                sent = sock.sendmsg(batch)
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
        except (TimeoutError, BlockingIOError) as exc:  # BlockingIOError: SO_SNDTIMEO
            raise TimeoutError_(
                f"socket timeout: {self.peer} accepted no data for {timeout:g} s", "socket"
            ) from exc
        except OSError as exc:
            if self.interrupted:  # interrupt() shut the socket down under a blocked write
                raise TransportInterrupted from exc
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
            buffer = self._recv_buffer
            size = self.sock.recv_into(buffer)
            data = bytes(memoryview(buffer)[:size])
            if _QUICKACK is not None and data:
                # Acknowledge at once instead of after the delayed-ACK timer
                # (about 40 ms): peers that keep Nagle on (Orthanc as Debian
                # starts it) hold back the rest of a response until our ACK.
                # Linux resets the flag after every ACK, so it is set per read.
                self.sock.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)
        except (TimeoutError, BlockingIOError) as exc:  # BlockingIOError: SO_RCVTIMEO
            raise TimeoutError_(
                f"{kind} timeout: no answer from {self.peer} within {timeout:g} s", kind
            ) from exc
        except OSError as exc:
            if self.is_tls:
                import ssl

                if isinstance(exc, (ssl.SSLEOFError, ssl.SSLZeroReturnError)):
                    return b""  # closed without (or with) close_notify: an A-P-ABORT either way
                if isinstance(exc, ssl.SSLError):
                    # An alert, e.g. TLS 1.3 "certificate required" at the first read.
                    raise self._tls_error(exc) from exc
            if self.interrupted:
                raise TransportInterrupted from exc
            if exc.errno in (errno.ECONNRESET, errno.EPIPE):
                return b""
            raise TransportError(f"receiving from {self.peer} failed: {_describe(exc)}") from exc
        if not data and self.interrupted:
            # Our own shutdown (interrupt()), not the peer closing: the
            # association ends with an A-ABORT from us, not an A-P-ABORT.
            raise TransportInterrupted
        if not self._received_any and data:
            self._received_any = True
            # PDU types are 01..07; 0x15/0x16 0x03 starts a TLS alert/handshake record.
            if not self.is_tls and data[0] in (0x15, 0x16) and data[1:2] == b"\x03":
                raise TlsError(
                    f"{self.peer} answered with TLS: it expects a secure connection "
                    "(use +tls KEY CERT or +tla)"
                )
        return data

    def interrupt(self) -> None:
        """Make a blocked or later :meth:`receive` raise :class:`TransportInterrupted`.

        Callable from any thread.

        Only the reading side is shut down (Linux wakes a thread blocked in
        recv), so the thread that owns the association can still write an
        A-ABORT at a PDU boundary. Used to stop the workers of a parallel run
        on Ctrl-C: signals reach only the main thread.
        """
        self.interrupted = True
        try:
            self.sock.shutdown(socket.SHUT_RD)
        except OSError:
            pass

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
            if self._kernel_timeouts:
                # 0 means "no timeout" to the kernel; tiny positive values must not round to it.
                seconds = 0.0 if timeout is None else max(timeout, 1e-6)
                value = _TIMEVAL.pack(int(seconds), int((seconds % 1) * 1_000_000))
                self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, value)
                self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, value)
            else:
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
    from storescu.net.tls import describe_ssl_error

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
