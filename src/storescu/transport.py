"""Blocking TCP transport for the Upper Layer: connect, scatter-gather send, receive.

The driver owns the clock (the sans-IO core has none): every wait here takes a
timeout in seconds, ``None`` meaning "wait forever".
"""

from __future__ import annotations

import errno
import os
import socket
from collections.abc import Sequence
from typing import Final

from storescu.errors import TimeoutError_, TransportError

Buffer = bytes | bytearray | memoryview

# sendmsg() accepts at most IOV_MAX buffers (1024 on Linux).
_IOV_MAX: Final = min(os.sysconf("SC_IOV_MAX") if hasattr(os, "sysconf") else 1024, 1024)
_RECV_SIZE: Final = 256 * 1024


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

    def __init__(self, sock: socket.socket, peer: str) -> None:
        self.sock = sock
        self.peer = peer
        self._closed = False
        self._has_sendmsg = hasattr(sock, "sendmsg")

    @classmethod
    def connect(
        cls,
        host: str,
        port: int,
        connect_timeout: float | None,
        family: int = socket.AF_UNSPEC,
    ) -> Transport:
        """Open a TCP connection with TCP_NODELAY set.

        Raises
        ------
        TimeoutError_
            ``connect_timeout`` expired (kind ``"connect"``).
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
            return cls(sock, peer)
        assert last is not None
        raise TransportError(f"cannot connect to {peer}: {_describe(last)}") from last

    def send(self, buffers: Sequence[Buffer], timeout: float | None) -> None:
        """Write every buffer, in order, with as few system calls as possible.

        ``timeout`` bounds each wait for the socket to accept more data, not the
        whole transfer: a slow but alive peer never causes a false timeout.
        """
        sock = self.sock
        try:
            sock.settimeout(timeout)
            if not self._has_sendmsg:
                for buf in buffers:
                    sock.sendall(buf)
                return
            pending = [memoryview(b).cast("B") for b in buffers]
            start = 0
            while start < len(pending):
                batch = pending[start : start + _IOV_MAX]
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
        except TimeoutError as exc:
            raise TimeoutError_(
                f"socket timeout: {self.peer} accepted no data for {timeout:g} s", "socket"
            ) from exc
        except OSError as exc:
            raise TransportError(f"sending to {self.peer} failed: {_describe(exc)}") from exc

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
            self.sock.settimeout(timeout)
            return self.sock.recv(_RECV_SIZE)
        except TimeoutError as exc:
            raise TimeoutError_(
                f"{kind} timeout: no answer from {self.peer} within {timeout:g} s", kind
            ) from exc
        except OSError as exc:
            if exc.errno in (errno.ECONNRESET, errno.EPIPE):
                return b""
            raise TransportError(f"receiving from {self.peer} failed: {_describe(exc)}") from exc

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
