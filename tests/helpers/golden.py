"""Golden-byte fixtures written as annotated hex (PDU and command-set tests)."""

from __future__ import annotations

import re

_TOKEN = re.compile(r'\s*(?:"(?P<text>[^"]*)"|(?P<hex>[0-9A-Fa-f]{2})(?![0-9A-Fa-f])|\|)')


def golden(text: str) -> bytes:
    """Turn an annotated fixture into bytes: hex pairs, "ASCII", '|' separators, # comments."""
    out = bytearray()
    for line in text.splitlines():
        line = line.split("#", 1)[0].rstrip()
        pos = 0
        while pos < len(line):
            match = _TOKEN.match(line, pos)
            if match is None or match.end() == pos:
                raise ValueError(f"bad fixture token at {line[pos:]!r}")
            if match.group("text") is not None:
                out += match.group("text").encode("ascii")
            elif match.group("hex") is not None:
                out += bytes.fromhex(match.group("hex"))
            pos = match.end()
    return bytes(out)
