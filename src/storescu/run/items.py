"""The run's inputs: files inspected lazily, in-memory datasets, results decided before.

An input is inspected in two steps, both cheap: its meta header when it is
read (:func:`inspect_inputs`, or :mod:`storescu.run.inputs` for a lazy stream
of them), the rest of the check (truncation) and, for a small file, the
whole file just before it is sent. :meth:`_Item.open` then gives the dataset
in the transfer syntax the association accepted: streamed from the file on
the plain path, else rewritten (``+II``...) or converted (decompression,
deflate level, ``-u``) by the dataset layer.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import TYPE_CHECKING, Protocol

from storescu.dataset import inspection, sources
from storescu.kernel.errors import SourceError

if TYPE_CHECKING:
    from pydicom import Dataset

    from storescu.dataset.conversion import Conversion
    from storescu.dataset.rewrite import Rewriter
    from storescu.run.results import FileResult

__all__ = ["Reader", "dataset_items", "inspect_inputs", "preset_item"]


class _Item:
    """One input: a file (inspected lazily once) or an in-memory dataset.

    ``preset`` is a result decided before the run (a directory ignored, a file
    a previous report records as sent): it is recorded as is, never sent, and
    never halts the run. An item with neither ``info``, ``error`` nor
    ``preset`` was not inspected (an interrupted run's rest).
    """

    __slots__ = (
        "compression",
        "data",
        "dataset",
        "error",
        "failed_midway",
        "info",
        "path",
        "plain",
        "preset",
        "verified",
    )

    def __init__(
        self,
        path: str,
        info: inspection.FileInfo | None = None,
        dataset: Dataset | None = None,
        error: str | None = None,
        preset: FileResult | None = None,
    ) -> None:
        self.path = path
        self.info = info
        self.dataset = dataset
        self.error = error
        self.preset = preset
        #: The whole file when :meth:`~storescu.run.filesender.FileSender._prepare`
        #: read it (small files): sent from memory, so the file is read once.
        self.data: bytes | None = None
        self.verified = False
        #: ``--compress``: why its last send went uncompressed (the report's
        #: ``compression`` column), else None (:mod:`storescu.run.compressing`).
        self.compression: str | None = None
        #: ``--compress``: send it uncompressed from now on (a frame failed
        #: verification midway), and whether that aborted a message not yet judged.
        self.plain = False
        self.failed_midway = False

    @property
    def sop_class_uid(self) -> str:
        assert self.info is not None
        return self.info.sop_class_uid

    def open(
        self,
        target_ts: str,
        rewriter: Rewriter | None = None,
        send: int = 0,
        conversion: Conversion | None = None,
    ) -> tuple[Reader, str]:
        """The dataset encoded in `target_ts`, and the SOP Instance UID to send.

        With a `rewriter` (dataset rewriting options) the dataset is rewritten
        first; `send` numbers the send, so retries of one send keep its UIDs.
        A `conversion` that applies (decompression, deflate level, ``-u``)
        takes over from the plain path.
        """
        assert self.info is not None
        # The file read by FileSender._prepare serves the plain path once; dropped
        # in every case (a repeat, or rewriting, reads the file again).
        whole, self.data = self.data, None
        if conversion is not None and conversion.special(self.info.transfer_syntax, target_ts):
            return conversion.open(self.info, self.dataset, target_ts, rewriter, send)
        if rewriter is not None:
            return rewriter.open(self.info, self.dataset, target_ts, send)
        if self.dataset is not None:
            reader = _BytesSource(sources.encode_dataset(self.dataset, target_ts))
            return reader, self.info.sop_instance_uid
        return sources.open_dataset(self.info, target_ts, whole), self.info.sop_instance_uid


class _BytesSource:
    """An encoded in-memory dataset exposed like a file reader."""

    def __init__(self, data: bytes) -> None:
        self.length = len(data)
        self._stream = io.BytesIO(data)

    def readinto(self, buf: memoryview) -> int:
        return self._stream.readinto(buf)

    def close(self) -> None:
        self._stream.close()


class Reader(Protocol):
    """What a C-STORE's dataset is read from: :meth:`_Item.open`'s readers, or a
    compressed one (:mod:`storescu.run.compressing`) whose ``length`` is None
    while it is streamed."""

    @property
    def length(self) -> int | None: ...

    def readinto(self, buf: memoryview) -> int: ...

    def close(self) -> None: ...


def inspect_inputs(paths: Iterable[str], read_mode: str) -> list[_Item]:
    """Inspect every path once (cheaply: the meta header, not the dataset)."""
    items: list[_Item] = []
    for path in paths:
        try:
            items.append(_Item(path, inspection.inspect_file(path, read_mode=read_mode)))
        except SourceError as exc:
            items.append(_Item(path, error=exc.reason))
    return items


def dataset_items(datasets: Iterable[Dataset]) -> list[_Item]:
    """Wrap in-memory pydicom datasets as inputs."""
    items: list[_Item] = []
    for index, ds in enumerate(datasets):
        name = f"<dataset {index}>"
        try:
            sop_class, sop_instance, ts = sources.dataset_identity(ds)
        except SourceError as exc:
            items.append(_Item(name, error=exc.reason))
            continue
        syntax = ts or "1.2.840.10008.1.2.1"
        info = inspection.FileInfo(name, sop_class, sop_instance, syntax, 0, 0, False)
        items.append(_Item(name, info, dataset=ds))
    return items


def preset_item(result: FileResult) -> _Item:
    """An input whose result is decided before the run: recorded as is, never sent.

    For a directory ignored without ``+sd`` or a file a previous report
    records as sent (``--skip-sent``).
    """
    return _Item(result.path, preset=result)
