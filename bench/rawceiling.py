#!/usr/bin/env python3
"""The receiver's ceiling: how fast a Storage SCP takes C-STOREs from a sender that
does nothing else (issue 15, item 3).

    python bench/rawceiling.py HOST PORT FILE... [--pdu N] [--runs N]

Each file's dataset is read into memory and cut into P-DATA-TF PDUs (the peer's
maximum PDU, or ``--pdu``) *before* the clock starts; then, per file, the command
PDU and the prepared PDUs go out with ``socket.sendall`` (one system call per
64 MiB) and the C-STORE-RSP is awaited. The association is negotiated with the
project's own driver. The figure is bytes of files / seconds of sending: what no
sender that reads files can beat with that receiver.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
if str(BENCH.parent / "src") not in sys.path:
    sys.path.insert(0, str(BENCH.parent / "src"))

from storescu.dataset.inspection import inspect_file  # noqa: E402
from storescu.net.client import AssociationSettings, StoreAssociation  # noqa: E402
from storescu.protocol import dimse  # noqa: E402
from storescu.protocol import pdu as P  # noqa: E402


def prepare(path: str, context_id: int, fragment: int) -> tuple[str, str, bytearray, int]:
    info = inspect_file(path)
    with open(path, "rb") as handle:
        handle.seek(info.dataset_offset)
        data = handle.read()
    out = bytearray()
    view = memoryview(data)
    for offset in range(0, len(data), fragment):
        chunk = view[offset : offset + fragment]
        out += P.pdata_pdv_header(context_id, len(chunk), False, offset + fragment >= len(data))
        out += chunk
    return info.sop_class_uid, info.sop_instance_uid, out, info.file_size


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("files", nargs="+")
    parser.add_argument("--pdu", type=int, default=0, help="cap on the PDUs sent")
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    first = inspect_file(args.files[0])
    contexts = (P.PresentationContextRQ(1, first.sop_class_uid, (first.transfer_syntax,)),)
    rates = []
    for _ in range(args.runs):
        assoc = StoreAssociation.open(args.host, args.port, contexts, AssociationSettings())
        context = assoc.accepted.contexts[0]
        fragment = assoc.max_fragment if not args.pdu else min(assoc.max_fragment, args.pdu - 6)
        prepared = [prepare(f, context.context_id, fragment) for f in args.files]
        sock = assoc.transport.sock
        total = 0
        started = time.perf_counter()
        for sop_class, instance, pdus, size in prepared:
            message_id = assoc.next_message_id()
            command = dimse.encode_c_store_rq(message_id, sop_class, instance)
            sock.sendall(P.PDataTF((P.PDV(context.context_id, True, True, command),)).encode())
            view = memoryview(pdus)
            for offset in range(0, len(view), 64 << 20):
                sock.sendall(view[offset : offset + (64 << 20)])
            assoc._wait_response(context.context_id, message_id)
            total += size
        seconds = time.perf_counter() - started
        assoc.release()
        rates.append(total / seconds / 1e6)
        rate = total / seconds / 1e6
        print(f"{total / 1e6:.1f} MB in {seconds:.3f} s: {rate:.1f} MB/s", flush=True)
    print(f"median {statistics.median(rates):.1f} MB/s over {len(rates)} run(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
