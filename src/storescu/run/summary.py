"""Counting a run as it goes: the end-of-run summary line and a terminal progress bar.

:class:`Tally` is an ``on_result`` callback that keeps counts by outcome, the
number of stores (results whose C-STORE request went out) and their bytes.
:func:`summary_line` formats it for stderr, for example::

    storescu: 1000 files: 998 sent, 2 failed-status | 38.9 MB in 4.51 s, 8.6 MB/s, 221.7 files/s

"files" counts results (one per input and ``--repeat``); the rates count
the stores. When a store went out compressed by ``--compress`` (in one of
:data:`COMPRESSED`, its file not), the line also gives the
bytes read against the bytes sent: ``| 38.9 MB sent (121.4 MB read, 3.12x) in
4.51 s``. :class:`ProgressBar` redraws one line on a terminal at most ten
times a second; nothing in here imports more than the standard library.
"""

from __future__ import annotations

import io
import logging
import os
import time
from collections.abc import Callable
from typing import Final, TextIO

from storescu.run.results import FileResult, Outcome

__all__ = ["COMPRESSED", "ProgressBar", "Tally", "format_size", "summary_line"]

#: The syntaxes ``--compress`` produces (JPEG-LS, JPEG 2000 and HTJ2K lossless,
#: RLE, deflated): :mod:`storescu.run.compressing`.
COMPRESSED: Final = frozenset(
    {
        "1.2.840.10008.1.2.4.80",
        "1.2.840.10008.1.2.4.90",
        "1.2.840.10008.1.2.4.201",
        "1.2.840.10008.1.2.5",
        "1.2.840.10008.1.2.1.99",
    }
)


class Tally:
    """Counts of a run, updated with each result (use it as ``on_result``).

    Parameters
    ----------
    clock : callable
        Monotonic seconds (injectable for tests).
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.started = clock()
        self.counts: dict[Outcome, int] = {}
        self.results = 0
        self.stores = 0
        self.bytes = 0
        #: The stores' input bytes as read, and how many went out compressed.
        self.source_bytes = 0
        self.converted = 0

    def __call__(self, result: FileResult) -> None:
        self.results += 1
        self.counts[result.outcome] = self.counts.get(result.outcome, 0) + 1
        if result.message_id is not None:
            self.stores += 1
            self.bytes += result.bytes
            self.source_bytes += result.source_bytes
            network = result.network_transfer_syntax
            if network != result.file_transfer_syntax and network in COMPRESSED:
                self.converted += 1

    @property
    def elapsed(self) -> float:
        """Seconds since the tally started."""
        return self._clock() - self.started

    @property
    def not_stored(self) -> int:
        """Results that are neither stored now nor stored before."""
        return sum(
            n for outcome, n in self.counts.items() if not (outcome.stored or outcome.neutral)
        )


def format_size(n: float) -> str:
    """Decimal units, one decimal: ``512 B``, ``38.9 MB``, ``1.2 GB``."""
    if n < 1000:
        return f"{n:.0f} B"
    for unit in ("kB", "MB", "GB"):
        n /= 1000
        if n < 1000:
            return f"{n:.1f} {unit}"
    return f"{n / 1000:.1f} TB"


def summary_line(tally: Tally, seconds: float | None = None, interrupted: bool = False) -> str:
    """The one-line summary of a run (see the module docstring)."""
    seconds = tally.elapsed if seconds is None else seconds
    directory = Outcome.IGNORED_DIRECTORY
    counts = ", ".join(
        f"{tally.counts[o]} {o.value}"
        for o in Outcome
        if tally.counts.get(o) and o is not directory
    )
    files = tally.results - tally.counts.get(directory, 0)
    head = "storescu: interrupted: " if interrupted else "storescu: "
    head += f"{files} file{'' if files == 1 else 's'}"
    if counts:
        head += f": {counts}"
    directories = tally.counts.get(directory, 0)
    if directories:  # not files (issue 14.5): DCMTK ignores them without +sd
        head += f"; {directories} director{'y' if directories == 1 else 'ies'} ignored (no +sd)"
    rate = tally.bytes / seconds if seconds > 0 else 0.0
    files_per_second = tally.stores / seconds if seconds > 0 else 0.0
    sent = format_size(tally.bytes)
    if tally.converted and tally.source_bytes != tally.bytes and tally.bytes:
        ratio = tally.source_bytes / tally.bytes
        sent += f" sent ({format_size(tally.source_bytes)} read, {ratio:.2f}x)"
    return (
        f"{head} | {sent} in {seconds:.2f} s, {format_size(rate)}/s, {files_per_second:.1f} files/s"
    )


_INTERVAL: Final = 0.1  # seconds between redraws
_BAR: Final = 16


class ProgressBar:
    """A one-line progress display on a terminal (use it as ``on_result``).

    Parameters
    ----------
    stream : text stream
        Where to draw (stderr); the caller decides that it is a terminal.
    tally : Tally
        Counts, updated before this is called.
    total : int, optional
        Expected number of results, when known: then a bar, percent and ETA.
    """

    def __init__(
        self,
        stream: TextIO,
        tally: Tally,
        total: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream
        self.tally = tally
        self.total = total
        self._clock = clock
        self._last = float("-inf")
        self._shown = False

    def __call__(self, result: FileResult) -> None:
        now = self._clock()
        if now - self._last >= _INTERVAL:
            self._last = now
            self.draw()

    def text(self) -> str:
        """The line as it would be drawn now."""
        tally = self.tally
        elapsed = max(tally.elapsed, 1e-9)
        parts = []
        if self.total:
            done = min(tally.results / self.total, 1.0)
            filled = int(done * _BAR)
            parts.append(f"[{'#' * filled}{'.' * (_BAR - filled)}] {done:4.0%}")
            parts.append(f"{tally.results}/{self.total} files")
        else:
            parts.append(f"{tally.results} files")
        parts.append(format_size(tally.bytes))
        parts.append(f"{format_size(tally.bytes / elapsed)}/s")
        if self.total and tally.results:
            left = elapsed * (self.total - tally.results) / tally.results
            parts.append(f"ETA {_clock_text(left)}")
        else:
            parts.append(_clock_text(elapsed))
        if tally.not_stored:
            parts.append(f"{tally.not_stored} not stored")
        return "  ".join(parts)

    def draw(self) -> None:
        """Redraw the line now."""
        width = self._width()
        self.stream.write("\r" + self.text()[: max(width - 1, 10)] + "\x1b[K")
        self.stream.flush()
        self._shown = True

    def _width(self) -> int:
        """The terminal's width: of this stream (stdout may be redirected), else $COLUMNS."""
        try:
            return os.get_terminal_size(self.stream.fileno()).columns
        except (AttributeError, ValueError, OSError, io.UnsupportedOperation):
            import shutil  # rarely needed, and slow to import: not at every start

            return shutil.get_terminal_size().columns

    def clear(self) -> None:
        """Erase the line (before a log message or the summary)."""
        if self._shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self._shown = False

    def log_filter(self) -> logging.Filter:
        """A filter for log handlers that erases the line before each message."""
        bar = self

        class _Clear(logging.Filter):
            def filter(self, record: logging.LogRecord) -> bool:
                bar.clear()
                return True

        return _Clear()


def _clock_text(seconds: float) -> str:
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"
