"""The project's SCP for the benchmark: discards data, writes its store count to a file.

python -m bench.ourscp PORT COUNT_FILE
"""

from __future__ import annotations

import os
import sys
import threading

from storescu.scp import StoreSCP


def main() -> None:
    port, count_file = int(sys.argv[1]), sys.argv[2]
    scp = StoreSCP(port=port, output_dir=None)
    original = scp._record
    lock = threading.Lock()

    def record(instance: object) -> None:
        original(instance)  # type: ignore[arg-type]
        with lock:
            tmp = count_file + ".tmp"
            with open(tmp, "w") as handle:
                handle.write(str(len(scp.received)))
            os.replace(tmp, count_file)

    scp._record = record  # type: ignore[method-assign]
    try:
        scp.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
