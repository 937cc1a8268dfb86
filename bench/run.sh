#!/usr/bin/env bash
# Set up what the benchmark needs, then run it:
#
#   bench/run.sh [bench/run.py options...]      e.g. bench/run.sh --quick
#
# - installs the Debian packages dcmtk and orthanc if missing (as root or with sudo;
#   scripts/test.sh installs them too) and GNU time (for peak RSS);
# - installs the project with its bench extras (matplotlib, pynetdicom) into the
#   project's .venv if there is one, else into the interpreter $PYTHON (default
#   python3) -- set PYTHON to choose;
# - runs bench/run.py with that interpreter and PYTHONDONTWRITEBYTECODE unset.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [ -n "${PYTHON:-}" ]; then
    PY=$PYTHON
elif [ -x .venv/bin/python ]; then
    PY=.venv/bin/python
else
    PY=python3
fi

as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        echo "need root (or sudo) to run: $*" >&2
        return 1
    fi
}

missing=()
[ -x /usr/bin/storescp ] && [ -x /usr/bin/storescu ] || missing+=(dcmtk)
[ -x /usr/sbin/Orthanc ] || missing+=(orthanc)
[ -x /usr/bin/time ] || missing+=(time)
if [ "${#missing[@]}" -gt 0 ]; then
    echo "== installing Debian packages: ${missing[*]}"
    as_root apt-get update
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        "${missing[@]}"
fi

echo "== installing the project with its bench extras into $("$PY" -c 'import sys; print(sys.prefix)')"
"$PY" -m pip install --quiet --disable-pip-version-check -e '.[bench]'

exec env -u PYTHONDONTWRITEBYTECODE "$PY" bench/run.py "$@"
