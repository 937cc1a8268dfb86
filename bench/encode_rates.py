#!/usr/bin/env python3
"""Each lossless codec's encoding rate (MB/s of native pixel data) and ratio on this machine.

    python bench/encode_rates.py [--repeat N] [--json FILE] [FILES...]

Default files: the distinct source images of the compression bench's real-image
set (bench/realimages.py). For every file and codec it times encoding *and*
verification (decoding again and comparing with the stored bytes, as the sender
does unless --no-verify-compression), best of ``--repeat`` (default 3), one
thread. When the project's own encoder is there (``storescu.dataset.compress``,
issue 18) it is what is timed: ``open_compressed`` read to its end. Otherwise the
libraries are called directly: pyjpegls (CharLS) for JPEG-LS, pylibjpeg-openjpeg
for JPEG 2000, imagecodecs (OpenJPH) for HTJ2K, pylibjpeg-rle for RLE, zlib
(level 6, raw deflate as PS3.5 A.5) for Deflate over the whole dataset. The
``source`` column says which. The priors of storescu.run.autocompress are set
below these figures.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

CODECS = ("jpeg-ls", "j2k", "htj2k", "rle", "deflate")
SYNTAXES = {
    "jpeg-ls": "1.2.840.10008.1.2.4.80",
    "j2k": "1.2.840.10008.1.2.4.90",
    "htj2k": "1.2.840.10008.1.2.4.201",
    "rle": "1.2.840.10008.1.2.5",
    "deflate": "1.2.840.10008.1.2.1.99",
}


@dataclass
class Figure:
    codec: str
    file: str
    native: int  # bytes in (pixel data; the whole dataset for deflate)
    encoded: int  # bytes out
    seconds: float  # encode + verify, best of the repeats
    source: str

    @property
    def rate(self) -> float:
        return self.native / self.seconds / 1e6

    @property
    def ratio(self) -> float:
        return self.native / self.encoded


def _frames(ds: Any) -> list[Any]:
    arr = ds.pixel_array
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    return list(arr) if frames > 1 else [arr]


def _library_codec(codec: str, ds: Any) -> Callable[[], tuple[int, int]]:
    """A function that encodes and verifies ``ds`` once: (native bytes, encoded bytes)."""
    import numpy as np

    frames = _frames(ds)
    native = sum(f.nbytes for f in frames)
    bits_stored = int(ds.BitsStored)

    def check(a: Any, b: Any) -> None:
        if not np.array_equal(np.asarray(a).reshape(-1), np.asarray(b).reshape(-1)):
            raise SystemExit(f"{codec}: decoded pixels differ from the source")

    if codec == "jpeg-ls":
        import jpeg_ls

        # CharLS takes unsigned samples: signed pixels go as their Bits Stored bits
        # (two's complement, as PS3.5 A.4.3's JPEG-LS streams of signed data carry them).
        mask = (1 << bits_stored) - 1
        unsigned = [
            (f.view(f.dtype.str.replace("i", "u")) & mask) if f.dtype.kind == "i" else f
            for f in frames
        ]

        def run() -> tuple[int, int]:
            out = 0
            for f in unsigned:
                data = jpeg_ls.encode_array(f)
                out += len(data)
                check(np.frombuffer(jpeg_ls.decode_buffer(bytes(data))[0], f.dtype), f)
            return native, out

    elif codec == "j2k":
        import openjpeg

        def run() -> tuple[int, int]:
            out = 0
            for f in frames:
                data = openjpeg.encode(f, bits_stored=bits_stored)
                out += len(data)
                check(openjpeg.decode(data), f)
            return native, out

    elif codec == "htj2k":
        import imagecodecs

        def run() -> tuple[int, int]:
            out = 0
            for f in frames:
                data = imagecodecs.htj2k_encode(f, reversible=True)
                out += len(data)
                check(imagecodecs.htj2k_decode(data), f)
            return native, out

    elif codec == "rle":
        from rle.utils import decode_frame, encode_array

        def run() -> tuple[int, int]:
            out = 0
            for f, data in zip(frames, encode_array(np.stack(frames), ds), strict=True):
                out += len(data)
                little = f.astype(f.dtype.newbyteorder("<"))
                got = decode_frame(data, f.size, f.dtype.itemsize * 8, "<")
                check(np.frombuffer(got, little.dtype), little)
            return native, out

    else:
        raise ValueError(codec)
    return run


def _deflate(path: Path) -> Callable[[], tuple[int, int]]:
    raw = path.read_bytes()

    def run() -> tuple[int, int]:
        packer = zlib.compressobj(6, zlib.DEFLATED, -15)
        data = packer.compress(raw) + packer.flush()
        if zlib.decompress(data, -15) != raw:
            raise SystemExit("deflate: round trip differs")
        return len(raw), len(data)

    return run


def _project_codec(codec: str, path: Path) -> Callable[[], tuple[int, int]] | None:
    """``storescu.dataset.compress.open_compressed`` read to its end, when it exists."""
    try:
        from storescu.dataset import compress  # type: ignore[attr-defined]
        from storescu.dataset.inspection import inspect_file
    except ImportError:
        return None
    if codec == "deflate" or compress.missing_encoders(codec) is not None:
        return None
    info = inspect_file(str(path))

    def run() -> tuple[int, int]:
        reader = compress.open_compressed(info, None, SYNTAXES[codec], verify=True)
        buf = bytearray(1 << 20)
        try:
            while reader.readinto(buf):
                pass
            return reader.pixel_bytes_in, reader.encoded_bytes
        finally:
            reader.close()

    return run


def measure(path: Path, codec: str, repeat: int) -> Figure:
    import pydicom

    if codec == "deflate":
        run, source = _deflate(path), "zlib"
    elif (project := _project_codec(codec, path)) is not None:
        run, source = project, "storescu.dataset.compress"
    else:
        run, source = _library_codec(codec, pydicom.dcmread(path)), "library"
    best = float("inf")
    native = encoded = 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        native, encoded = run()
        best = min(best, time.perf_counter() - t0)
    return Figure(codec, path.name, native, encoded, best, source)


def totals(figures: list[Figure]) -> dict[str, dict[str, Any]]:
    """Per codec over every file: MB/s = all native bytes / all seconds; ratio likewise."""
    out: dict[str, dict[str, Any]] = {}
    for codec in CODECS:
        rows = [f for f in figures if f.codec == codec]
        if rows:
            native = sum(f.native for f in rows)
            out[codec] = {
                "mb_per_s": native / sum(f.seconds for f in rows) / 1e6,
                "ratio": native / sum(f.encoded for f in rows),
                "source": rows[0].source,
            }
    return out


def format_table(figures: list[Figure]) -> str:
    lines = [
        "| codec | MB/s (encode + verify) | ratio | timed |",
        "|---|---:|---:|---|",
    ]
    for codec, t in totals(figures).items():
        lines.append(f"| {codec} | {t['mb_per_s']:.1f} | {t['ratio']:.2f} | {t['source']} |")
    lines += ["", "| file | " + " | ".join(CODECS) + " |", "|---|" + "---:|" * len(CODECS)]
    for name in dict.fromkeys(f.file for f in figures):
        cells = []
        for codec in CODECS:
            f = next((x for x in figures if x.file == name and x.codec == codec), None)
            cells.append("-" if f is None else f"{f.rate:.1f} MB/s x{f.ratio:.2f}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("files", nargs="*", type=Path)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--codecs", default=",".join(CODECS))
    p.add_argument("--json", type=Path, default=None, help="also write the figures as JSON")
    args = p.parse_args(argv)
    files = args.files
    if not files:
        from bench import realimages

        files = realimages.source_files()
    figures = []
    for path in files:
        for codec in args.codecs.split(","):
            fig = measure(path, codec, args.repeat)
            figures.append(fig)
            print(
                f"{path.name:36s} {codec:8s} {fig.rate:7.1f} MB/s x{fig.ratio:5.2f} ({fig.source})",
                flush=True,
            )
    table = format_table(figures)
    print(table)
    if args.json:
        args.json.write_text(
            json.dumps(
                {"totals": totals(figures), "files": [f.__dict__ for f in figures]}, indent=1
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
