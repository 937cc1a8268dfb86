"""The per-file report (``--report FILE``) and reading it back (``--skip-sent``).

One row per result: every input once per attempted send (``--repeat N``: N
rows), whatever happened to it. The format is JSON Lines, or CSV when the file
name ends in ``.csv`` (with a header row). Each row is written and flushed
when the sender knows it (:class:`ReportWriter` is an ``on_result``
callback), so a report survives a crash of the peer, of this process or a
Ctrl-C up to the last file handled; :meth:`ReportWriter.close` also syncs it
to disk.

Columns (:data:`COLUMNS`): ``path`` as given (for a DICOMDIR, the referenced
file), ``outcome`` (:class:`~storescu.run.results.Outcome` values), the SOP class
and instance sent (``original_sop_instance_uid`` when rewriting changed it),
the file's and the network transfer syntax, ``bytes`` of the dataset sent,
``association`` (1, 2... per run) and ``message_id``, ``status`` as
``0x`` + 4 hex digits with ``status_text``, ``error``, ``seconds`` for the
store, ``repeat`` (1..N, the n-th consecutive row of that path), ``attempts``
(``--retry``), ``resent_after_unknown``, ``time`` (UTC, ISO 8601) and
``commitment`` (``--commit``: ``committed``, ``failed 0x0112 no such object
instance``, ``unconfirmed``; empty without ``--commit`` and for rows not
stored), ``source_bytes`` (the input's dataset bytes as read: with
``--compress`` against ``bytes``, what went on the wire) and ``compression``
(``--compress``: why the file went uncompressed). Empty
values are ``null`` in JSON and empty in CSV. Paths that are not valid UTF-8
survive a round trip (JSON ``\\udcXX`` escapes; raw bytes in CSV).
"""

from __future__ import annotations

import csv
import json
import os
import sys
from collections.abc import Iterable, Iterator
from datetime import datetime, timezone
from typing import IO, Any, Final

from storescu.kernel.errors import ReportError
from storescu.run.results import FileResult, Outcome

__all__ = ["COLUMNS", "ReportError", "ReportWriter", "SentIndex", "read_report"]

COLUMNS: Final = (
    "path",
    "outcome",
    "sop_class_uid",
    "sop_instance_uid",
    "original_sop_instance_uid",
    "file_transfer_syntax",
    "network_transfer_syntax",
    "bytes",
    "association",
    "message_id",
    "status",
    "status_text",
    "error",
    "seconds",
    "repeat",
    "attempts",
    "resent_after_unknown",
    "time",
    "commitment",
    "source_bytes",
    "compression",
)


def _is_csv(path: str) -> bool:
    return path.lower().endswith(".csv")


class ReportWriter:
    """Writes one row per :class:`~storescu.run.results.FileResult`, flushed as it goes.

    Use it as the sender's ``on_result`` callback, and close it at the end
    (or use it as a context manager).

    Parameters
    ----------
    path : str
        The report file (truncated). ``.csv`` selects CSV, anything else JSON Lines.
    stream : text stream, optional
        Write there instead of opening `path` (`path` still picks the format).

    Raises
    ------
    ReportError
        The file cannot be opened, or later written (disk full...).
    """

    def __init__(self, path: str, stream: IO[str] | None = None) -> None:
        self.path = path
        self.csv = _is_csv(path)
        self.rows = 0
        self._last_path: str | None = None
        self._repeat = 0
        self._owned = stream is None
        if stream is None:
            try:
                # surrogateescape: file names that are not UTF-8 go out as their bytes.
                stream = open(  # noqa: SIM115 - closed by close()
                    path, "w", encoding="utf-8", errors="surrogateescape", newline=""
                )
            except OSError as exc:
                raise ReportError(f"cannot open report file '{path}': {exc.strerror}") from exc
        self._stream = stream
        if self.csv:
            self._write(self._csv_line(COLUMNS))

    def __call__(self, result: FileResult) -> None:
        """Write the row for `result` and flush it."""
        if result.path == self._last_path:
            self._repeat += 1
        else:
            self._last_path, self._repeat = result.path, 1
        row = self.row(result, self._repeat)
        if self.csv:
            self._write(self._csv_line(_csv_value(v) for v in row.values()))
        else:
            self._write(json.dumps(row) + "\n")
        self.rows += 1

    @staticmethod
    def _csv_line(values: Iterable[object]) -> str:
        # RFC 4180 2.6-2.7: a field holding a comma, a quote, CR or LF is
        # quoted, quotes doubled. Python's csv writer with a "\n" line end
        # leaves a lone CR unquoted (issue 14.8), which splits the row when
        # read back; so the quoting is done here.
        return ",".join(_csv_field(str(value)) for value in values) + "\n"

    @staticmethod
    def row(result: FileResult, repeat: int = 1) -> dict[str, Any]:
        """The report row of `result`, as a dict in :data:`COLUMNS` order."""
        status = None if result.status is None else f"0x{result.status:04X}"
        values: dict[str, Any] = {
            "path": result.path,
            "outcome": result.outcome.value,
            "sop_class_uid": result.sop_class_uid,
            "sop_instance_uid": result.sop_instance_uid,
            "original_sop_instance_uid": result.original_sop_instance_uid,
            "file_transfer_syntax": result.file_transfer_syntax,
            "network_transfer_syntax": result.network_transfer_syntax,
            "bytes": result.bytes,
            "association": result.association,
            "message_id": result.message_id,
            "status": status,
            "status_text": result.status_text,
            "error": result.error,
            "seconds": round(result.seconds, 6),
            "repeat": repeat,
            "attempts": result.attempts,
            "resent_after_unknown": result.resent_after_unknown,
            "time": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
            # Filled in after the run by --commit (storescu.run.commitment).
            "commitment": result.commitment,
            "source_bytes": result.source_bytes,
            "compression": result.compression,
        }
        return values

    def _write(self, text: str) -> None:
        try:
            self._stream.write(text)
            self._stream.flush()
        except (OSError, ValueError) as exc:
            reason = getattr(exc, "strerror", None) or exc
            raise ReportError(f"cannot write report file '{self.path}': {reason}") from exc

    def close(self) -> None:
        """Flush, sync to disk and close (only a stream this writer opened)."""
        if self._stream.closed:
            return
        try:
            self._stream.flush()
            if self._owned:
                os.fsync(self._stream.fileno())
        except (OSError, ValueError) as exc:
            raise ReportError(f"cannot write report file '{self.path}': {exc}") from exc
        finally:
            if self._owned:
                self._stream.close()

    def __enter__(self) -> ReportWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_NEEDS_QUOTES: Final = frozenset(',"\r\n')


def _csv_field(text: str) -> str:
    if _NEEDS_QUOTES.isdisjoint(text):
        return text
    return '"' + text.replace('"', '""') + '"'


def _csv_value(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"  # as in the JSON form
    return value


def write_rows(path: str, rows: Iterable[dict[str, Any]], as_csv: bool | None = None) -> None:
    """Write whole `rows` (dicts in :data:`COLUMNS` order) as a new report at `path`.

    `as_csv` picks the format (None: by `path`'s name, as :class:`ReportWriter`).

    Raises
    ------
    OSError
        The file cannot be written.
    """
    with open(path, "w", encoding="utf-8", errors="surrogateescape", newline="") as stream:
        if _is_csv(path) if as_csv is None else as_csv:
            writer = csv.writer(stream, lineterminator="\n")
            writer.writerow(COLUMNS)
            for row in rows:
                writer.writerow(_csv_value(v) for v in row.values())
        else:
            for row in rows:
                stream.write(json.dumps(row) + "\n")
        stream.flush()
        os.fsync(stream.fileno())


def read_report(path: str) -> Iterator[dict[str, Any]]:
    """The rows of a report written by :class:`ReportWriter` (JSON Lines or CSV).

    A line that cannot be parsed (the last one, after a crash) is skipped.

    Raises
    ------
    ReportError
        The file cannot be opened.
    """
    try:
        stream = open(path, encoding="utf-8", errors="surrogateescape", newline="")  # noqa: SIM115
    except OSError as exc:
        raise ReportError(f"cannot read report file '{path}': {exc.strerror}") from exc
    with stream:
        if _is_csv(path):
            yield from csv.DictReader(stream)
            return
        for line in stream:
            try:
                row = json.loads(line)
            except ValueError:
                continue
            if isinstance(row, dict):
                yield row


_STORED: Final = frozenset(o.value for o in Outcome if o.stored)


class SentIndex:
    """What previous reports record as stored, by path, for ``--skip-sent``.

    A path counts as stored when one of its rows is sent, sent-with-warning
    or skipped-already-sent (a resumed run's report carries the rows of the
    run it resumed, so resuming works in a chain). Paths are compared as
    absolute paths against the current directory: resume from the directory
    the first run was started in, or use absolute paths.

    Parameters
    ----------
    reports : iterable of str
        Report files (JSON Lines or CSV).
    committed_only : bool
        ``--commit``: a stored row counts only when its ``commitment`` is
        ``committed`` (the archive confirmed it), so the rest is sent again.
    """

    def __init__(self, reports: Iterable[str] = (), committed_only: bool = False) -> None:
        self.committed_only = committed_only
        self._stored: dict[str, tuple[str | None, str | None, str | None]] = {}
        self.reports: list[str] = []
        for report in reports:
            self.add(report)

    def add(self, report: str) -> None:
        """Read one more report.

        Raises
        ------
        ReportError
            It cannot be read, or has no ``path``/``outcome`` columns.
        """
        intern = sys.intern  # SOP classes and syntaxes repeat: keep one copy of each
        rows = 0
        for row in read_report(report):
            rows += 1
            path, outcome = row.get("path"), row.get("outcome")
            if not isinstance(path, str) or outcome not in _STORED:
                continue
            if self.committed_only and row.get("commitment") != "committed":
                continue
            identity = tuple(
                intern(v) if isinstance(v, str) and v else None
                for v in (
                    row.get("sop_class_uid"),
                    row.get("sop_instance_uid"),
                    row.get("file_transfer_syntax"),
                )
            )
            self._stored[_key(path)] = (identity[0], identity[1], identity[2])
        if rows == 0 and os.path.getsize(report) > 0:
            raise ReportError(f"'{report}' is not a storescu report (no rows could be read)")
        self.reports.append(report)

    def __len__(self) -> int:
        return len(self._stored)

    def __contains__(self, path: object) -> bool:
        return isinstance(path, str) and _key(path) in self._stored

    def lookup(self, path: str) -> FileResult | None:
        """The skipped-already-sent result for `path`, or None when it was not stored."""
        found = self._stored.get(_key(path))
        if found is None:
            return None
        sop_class, sop_instance, syntax = found
        return FileResult(
            path,
            Outcome.SKIPPED_ALREADY_SENT,
            sop_class_uid=sop_class,
            sop_instance_uid=sop_instance,
            file_transfer_syntax=syntax,
            commitment="committed" if self.committed_only else None,
        )


def _key(path: str) -> str:
    return os.path.abspath(path)
