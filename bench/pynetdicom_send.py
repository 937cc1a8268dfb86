"""pynetdicom 3.0.4 as a storescu, in its best configuration for throughput.

    python bench/pynetdicom_send.py [-aec AET] HOST PORT FILE...

* one association for all files;
* the contexts DCMTK's storescu proposes by default: for each of the 62 storage SOP
  classes of the seed list, explicit VR little endian first and the other
  uncompressed syntaxes in a second context (124 contexts; pynetdicom allows 128);
* ``_config.STORE_SEND_CHUNKED_DATASET = True`` and ``send_c_store(path)``: the
  dataset bytes are streamed from the file without being decoded (this needs a
  context with the file's own transfer syntax, which the proposal guarantees for
  uncompressed files);
* the largest PDU pynetdicom receives, and TCP_NODELAY on its socket (set right
  after the association is up: pynetdicom has no socket-options hook).

One work-around is needed for it to work at all with TCP_NODELAY: pynetdicom
3.0.4's association reactor thread can take a C-STORE response off the queue
between two ``send_c_store`` calls when the response comes back quickly (log:
"Received unexpected C-STORE service message", then a 30 s DIMSE timeout; seen
about once per 1,000 tiny files on loopback). Without TCP_NODELAY responses are
slow enough (Nagle plus delayed ACK, ~45 ms a file) that it does not happen. So
the reactor -- which only serves requests *from* the peer, and an SCU gets none
-- is held paused while the files are sent (:class:`_HeldCheckpoint`), and
released for A-RELEASE/A-ABORT. The DUL reactor's polling interval
(``dul._run_loop_delay``, 1 ms) is left at its default: 0 makes it spin.

Exit status: 0 when every file was stored with a success or warning status, 1 if
the association failed, 2 if any store failed.
"""

from __future__ import annotations

import socket
import sys
import threading
import time
from typing import Any

from pynetdicom import AE, _config

from storescu.kernel.constants import STORAGE_SOP_CLASSES

EXPLICIT_LE = "1.2.840.10008.1.2.1"
IMPLICIT_LE = "1.2.840.10008.1.2"
EXPLICIT_BE = "1.2.840.10008.1.2.2"


class _HeldCheckpoint(threading.Event):
    """The association reactor's pause switch, kept off while files are sent."""

    def __init__(self, assoc: Any) -> None:
        super().__init__()
        self.assoc = assoc
        self.hold = True

    def set(self) -> None:
        if self.hold and not self.assoc._sent_abort:  # abort must wake the reactor
            return
        super().set()


def main(argv: list[str]) -> int:
    called = "ANY-SCP"
    if len(argv) >= 2 and argv[0] == "-aec":
        called, argv = argv[1], argv[2:]
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 1
    host, port, files = argv[0], int(argv[1]), argv[2:]

    _config.STORE_SEND_CHUNKED_DATASET = True
    ae = AE(ae_title="PYNETDICOM")
    ae.maximum_pdu_size = 0  # no limit on what we receive
    for uid, _name in STORAGE_SOP_CLASSES:
        ae.add_requested_context(uid, [EXPLICIT_LE])
        ae.add_requested_context(uid, [IMPLICIT_LE, EXPLICIT_BE])
    assoc = ae.associate(host, port, ae_title=called)
    if not assoc.is_established:
        print("pynetdicom: association failed", file=sys.stderr)
        return 1
    sock = getattr(assoc.dul.socket, "socket", None)
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    held = _HeldCheckpoint(assoc)
    assoc._reactor_checkpoint = held
    time.sleep(0.02)  # the reactor (1 ms loop) now blocks on `held`, not the old event
    failed = 0
    try:
        for path in files:
            status = assoc.send_c_store(path)
            code = getattr(status, "Status", None)
            if code is None or not (code == 0 or code in (1, 0x0107, 0x0116) or code >> 12 == 0xB):
                failed += 1
                print(f"pynetdicom: {path}: status {code!r}", file=sys.stderr)
                break
    finally:
        held.hold = False
        if assoc.is_established:
            assoc.release()
    return 2 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
