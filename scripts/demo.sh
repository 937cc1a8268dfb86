#!/usr/bin/env bash
# The README's demo: start the project's own Storage SCP on loopback, send it a few
# sample files shipped with pydicom (explicit LE, big endian, implicit VR), and show
# what happened. Needs only Python (no DCMTK, no Orthanc, no root).
#
#   scripts/demo.sh            output in demo-out/ (received files, logs)
#
# Exits with the sender's exit code.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
PYTHON=${PYTHON:-python3}
OUT=demo-out

if [ ! -x .venv/bin/python ]; then
    echo "== creating .venv with $PYTHON"
    "$PYTHON" -m venv .venv
fi
echo "== installing storescu into .venv"
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e .
PY=.venv/bin/python

rm -rf "$OUT"
mkdir -p "$OUT/received"
port_file="$OUT/scp.port"

# The receiver: the project's SCP, on 127.0.0.1, any free port.
"$PY" -m storescu.scp -v --port-file "$port_file" -od "$OUT/received" 0 >"$OUT/scp.log" 2>&1 &
scp_pid=$!
stop_scp() {
    if kill -0 "$scp_pid" 2>/dev/null; then
        kill "$scp_pid" 2>/dev/null || true
        wait "$scp_pid" 2>/dev/null || true
    fi
}
trap stop_scp EXIT

# Wait (at most 15 s) until the SCP has written its port.
port=""
for _ in $(seq 1 300); do
    if [ -s "$port_file" ]; then
        port=$(cat "$port_file")
        [ -n "$port" ] && break
    fi
    if ! kill -0 "$scp_pid" 2>/dev/null; then
        echo "the SCP exited at start-up:" >&2
        cat "$OUT/scp.log" >&2
        exit 1
    fi
    sleep 0.05
done
if [ -z "$port" ]; then
    echo "the SCP did not start within 15 s:" >&2
    cat "$OUT/scp.log" >&2
    exit 1
fi
echo "== storescu.scp listening on 127.0.0.1:$port (log: $OUT/scp.log)"

mapfile -t files < <("$PY" - <<'PYEOF'
from pydicom.data import get_testdata_file

for name in ("CT_small.dcm", "MR_small.dcm", "MR_small_bigendian.dcm", "rtplan.dcm",
             "waveform_ecg.dcm"):
    print(get_testdata_file(name))
PYEOF
)

echo "== sending ${#files[@]} files: $PY -m storescu -v 127.0.0.1 $port ..."
set +e
"$PY" -m storescu -v 127.0.0.1 "$port" "${files[@]}" 2>&1 | tee "$OUT/sender.log"
rc=${PIPESTATUS[0]}
set -e
echo "== sender exit code: $rc"

stop_scp
echo "== received (from $OUT/received/received.jsonl):"
"$PY" - "$OUT/received" <<'PYEOF'
import json
import sys
from pathlib import Path

from pydicom.uid import UID

folder = Path(sys.argv[1])
index = folder / "received.jsonl"
lines = index.read_text().splitlines() if index.exists() else []
for line in lines:
    rec = json.loads(line)
    path = Path(rec["file"])
    path = path if path.is_absolute() else folder / path
    size = path.stat().st_size if path.exists() else 0
    print(f"  {path}  {size:>8} bytes  {UID(rec['sop_class_uid']).name}"
          f"  ({UID(rec['transfer_syntax']).name}, from {rec['calling_aet']})")
print(f"  {len(lines)} file(s)")
PYEOF
exit "$rc"
