#!/usr/bin/env bash
# The project's test command (README "Run the tests"; .ci/run calls it too).
#
#   scripts/test.sh [pytest args...]     e.g. scripts/test.sh -m "not large"
#
# On a fresh Debian machine it installs what is missing (Debian packages dcmtk and
# orthanc for the interop peers, python3-venv), creates .venv, installs the project
# with its test and docs extras, then runs ruff, mypy, lint-imports (the layering contracts
# in pyproject.toml), the docs build (Sphinx, warnings as errors), a check that the
# generated man pages and completion scripts are current, and the whole pytest suite
# (unit, interop, and tests/docs, which also builds and installs the wheel). Every step runs even if an earlier one failed; the exit status is
# non-zero if any failed (pytest's 5, "no tests collected", counts as a failure).
#
# Environment: PYTHON (interpreter for the venv, default python3);
# STORESCU_CMD (sender under test, default "python -m storescu"; e.g.
# STORESCU_CMD=/usr/bin/storescu runs the interop tests against DCMTK's storescu).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
PYTHON=${PYTHON:-python3}

log() { printf '\n== %s\n' "$*"; }

# --- Debian packages ----------------------------------------------------------------
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

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

missing=()
# zsh and man-db: tests/docs drives zsh's completion and renders the man pages.
for pkg in dcmtk orthanc zsh man-db; do
    installed "$pkg" || missing+=("$pkg")
done
if ! command -v "$PYTHON" >/dev/null 2>&1; then
    missing+=(python3 python3-venv)
elif ! "$PYTHON" -c 'import ensurepip, venv' >/dev/null 2>&1; then
    missing+=(python3-venv)
fi
if [ "${#missing[@]}" -gt 0 ]; then
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "missing ${missing[*]} and no apt-get: install them by hand" >&2
        exit 1
    fi
    log "installing Debian packages: ${missing[*]}"
    as_root apt-get update
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        "${missing[@]}"
fi
for exe in /usr/bin/storescp /usr/bin/storescu /usr/bin/dcmconv /usr/sbin/Orthanc /usr/bin/zsh \
    /usr/bin/man; do
    [ -x "$exe" ] || { echo "$exe missing after installing dcmtk/orthanc" >&2; exit 1; }
done

# --- Python environment -------------------------------------------------------------
if [ ! -x .venv/bin/python ]; then
    log "creating .venv with $PYTHON ($("$PYTHON" --version 2>&1))"
    "$PYTHON" -m venv .venv
fi
log "installing the project and its test, docs and dask dependencies into .venv"
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test,docs,dask]'
# pynetdicom (a test peer) installs a console script named storescu too, and the
# package installed last owns the name: install ours again, last, without deps.
.venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps \
    --no-build-isolation -e .

# --- real test images ----------------------------------------------------------------
# The compression round trips (tests/unit/dataset/compress) use real images of the
# pydicom-data wheel (CR, MR, CT, NM, US, palette, multi-frame, big endian; 34 MB),
# unpacked under build/ and not installed: installed, pydicom would add its files to
# get_testdata_files() and so to every test that walks pydicom's own test files.
pydicom_data=build/pydicom-data
if [ ! -d "$pydicom_data/data_store/data" ]; then
    log "fetching the pydicom-data 1.0.0 wheel (real test images) into $pydicom_data"
    rm -rf "$pydicom_data.tmp" && mkdir -p "$pydicom_data.tmp"
    if .venv/bin/python -m pip download --quiet --disable-pip-version-check --no-deps \
        'pydicom-data==1.0.0' -d "$pydicom_data.tmp" \
        && .venv/bin/python -m zipfile -e "$pydicom_data.tmp"/pydicom_data-1.0.0-*.whl \
            "$pydicom_data.tmp" \
        && rm -f "$pydicom_data.tmp"/*.whl && mv "$pydicom_data.tmp" "$pydicom_data"; then
        echo "-- pydicom-data: ok"
    else
        echo "-- pydicom-data: not fetched; the round trips of its images are skipped" >&2
    fi
fi
export STORESCU_PYDICOM_DATA=$PWD/$pydicom_data/data_store/data

# --- checks -------------------------------------------------------------------------
failed=()
run() {
    local name=$1
    shift
    log "$name: $*"
    if "$@"; then
        echo "-- $name: ok"
    else
        local rc=$?
        echo "-- $name: FAILED (exit $rc)"
        failed+=("$name")
    fi
}

run ruff .venv/bin/ruff check src tests bench docs
run mypy .venv/bin/mypy
run lint-imports .venv/bin/lint-imports
run docs .venv/bin/sphinx-build -W --keep-going -n -E -q -b html docs build/docs/html
if [[ " ${failed[*]-} " != *" docs "* ]]; then
    export STORESCU_DOCS_HTML=$PWD/build/docs/html  # tests/docs reads it instead of rebuilding
fi
run generated .venv/bin/python -m storescu.cli.generated --check
run pytest .venv/bin/python -m pytest "$@"

if [ "${#failed[@]}" -gt 0 ]; then
    log "FAILED: ${failed[*]}"
    exit 1
fi
log "all checks passed"
