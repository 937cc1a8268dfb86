"""Frames encoded ahead on workers, and the reader that streams the encoded dataset.

Threads or processes, by codec, as measured on this machine (2 cores; a
512x512 16-bit CT frame; a worker encodes in a loop while the main thread
sleeps 0.5 ms at a time and notes how late it wakes, median):

* jpeg-ls (pyjpegls): a call takes 15 ms; the main thread wakes 14 ms late
  (decoding: 9 ms late for a 10 ms call): the GIL is held.
* j2k (imagecodecs, OpenJPEG): 92 ms a call; 0.07 ms late: released.
* htj2k (imagecodecs, OpenJPH): 7.7 ms a call; 0.09 ms late: released.
* rle (pylibjpeg-rle): 14 ms a call; 13 ms late (decoding: 1.8 ms late for
  2.8 ms): held.

pyjpegls (CharLS) and pylibjpeg-rle hold the GIL for a whole call, so two
threads of them run no faster than one (measured 0.8-1.1x) and stall the
sending thread for a call's length: while a 64-frame CT is encoded on
threads the sending thread wakes 9 ms late (median; p90 23 ms), on worker
processes 0.07 ms. Their frames go to a pool of worker processes, shared by
every reader of the run and started on first use (the throughput on this
loaded 2-core machine was the same either way: JPEG-LS 17-22 MB/s, RLE
27-33 MB/s, encode + verify).
imagecodecs (OpenJPEG, OpenJPH) releases it: threads, with no pickling
(HTJ2K calls one at a time: see the codecs module). Where
processes cannot be started (a daemonic process, e.g. a Dask worker, or a
main script that would run again in them) threads are used.

The queue is bounded: at most :data:`AHEAD` frames are encoded or waiting
while the socket takes earlier ones, so memory is a few frames, whatever
the object's size (issue 18 item 3).
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import sys
import threading
import time
from collections import deque
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Final

from storescu.dataset.compress.codecs import Codec
from storescu.dataset.compress.errors import VerificationFailed
from storescu.dataset.compress.frames import DELIMITER, EncodedFrame, FrameRefused, encode_frame
from storescu.dataset.compress.pixels import FrameSource
from storescu.dataset.readers import DatasetReader

__all__ = ["AHEAD", "USE_PROCESSES", "CompressedReader", "FrameQueue"]

#: Frames encoded ahead of the socket (in flight on the workers or done, not yet sent).
AHEAD: Final = 4
#: False keeps every codec on threads (tests that inject an unpicklable decoder).
USE_PROCESSES = True

_pool_lock = threading.Lock()
_process_pool: ProcessPoolExecutor | None = None


def _workers() -> int:
    return max(1, min(2, os.cpu_count() or 1))


def _main_reimport_is_safe() -> bool:
    """Whether worker processes may import the main script again.

    spawned children import the parent's main module as
    ``__mp_main__`` (``python -m pkg.__main__`` excepted); a script without an
    ``if __name__ == "__main__"`` guard would run again in each of them. The
    ``storescu`` command and ``python -m storescu`` are safe; a user's script
    calling the API without the guard gets threads instead.
    """
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    spec_name = getattr(getattr(main, "__spec__", None), "name", None) or ""
    if path is None or spec_name == "__main__" or spec_name.endswith(".__main__"):
        return True
    try:
        with open(path, encoding="utf-8", errors="replace") as fp:
            text = fp.read(1 << 20)
    except OSError:
        return False
    return "__main__" in text


def _shared_processes() -> ProcessPoolExecutor | None:
    """The run's worker processes (created once); None where none can be started."""
    global _process_pool
    with _pool_lock:
        if _process_pool is None:
            if multiprocessing.current_process().daemon or not _main_reimport_is_safe():
                return None  # daemonic processes may not have children
            # spawn: no fork of this (threaded) process, and the workers are its
            # own children (a forkserver outlived a killed sender, with a worker).
            _process_pool = ProcessPoolExecutor(
                max_workers=_workers(),
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_watch_parent,
                initargs=(os.getpid(),),
            )
        return _process_pool


def _watch_parent(parent: int) -> None:
    """In a worker: exit when the sender is gone (killed: no one would shut the pool down)."""

    def watch() -> None:
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                os._exit(0)

    threading.Thread(target=watch, name="storescu-watch-parent", daemon=True).start()


def _drop_processes(broken: Executor) -> None:
    """Forget a broken pool, so the next object gets a new one."""
    global _process_pool
    with _pool_lock:
        if _process_pool is broken:
            _process_pool = None
    broken.shutdown(wait=False, cancel_futures=True)


@atexit.register
def stop_workers() -> None:
    """Shut the run's worker processes down, if any were started (idempotent).

    Registered with :mod:`atexit`; a caller that ends its process with
    ``os._exit`` (the command line does) calls it first.
    """
    with _pool_lock:
        pool = _process_pool
    if pool is not None:
        # Waited for: the workers are idle by now, and a pool left to the
        # interpreter's teardown leaks its semaphores (multiprocessing's
        # resource tracker then warns the user about them).
        pool.shutdown(wait=True, cancel_futures=True)


class FrameQueue:
    """Frames of one object encoded in order on workers, at most `ahead` at a time.

    Parameters
    ----------
    codec, source, verify
        What :func:`~storescu.dataset.compress.frames.encode_frame` needs.
    ahead : int
        Bound on the frames in flight or waiting.
    """

    def __init__(self, codec: Codec, source: FrameSource, verify: bool, ahead: int = AHEAD) -> None:
        self._codec, self._source, self._verify = codec, source, verify
        self._total = source.layout.frames
        self._next = 0
        self._ahead = max(1, ahead)
        self._pending: deque[Future[EncodedFrame]] = deque()
        self._threads: ThreadPoolExecutor | None = None
        self._processes = None if codec.releases_gil or not USE_PROCESSES else _shared_processes()
        self._open = True
        self._fill()

    def _thread_pool(self) -> ThreadPoolExecutor:
        if self._threads is None:
            self._threads = ThreadPoolExecutor(
                max_workers=min(_workers(), self._ahead), thread_name_prefix="storescu-encode"
            )
        return self._threads

    def _submit(self, index: int) -> Future[EncodedFrame]:
        args = (self._codec, self._source, index, self._verify)
        if self._processes is not None:
            try:
                # Only this frame's bytes travel to the worker, not the object's.
                source = self._source.for_frame(index)
                return self._processes.submit(
                    encode_frame, self._codec, source, index, self._verify
                )
            except (RuntimeError, OSError, BrokenProcessPool):
                # Cannot start processes here (or the pool broke): threads from now on.
                _drop_processes(self._processes)
                self._processes = None
        return self._thread_pool().submit(encode_frame, *args)

    def _fill(self) -> None:
        while self._open and self._next < self._total and len(self._pending) < self._ahead:
            self._pending.append(self._submit(self._next))
            self._next += 1

    def take(self) -> EncodedFrame:
        """The next frame in order (waits for it); FrameRefused when it cannot go."""
        if not self._pending:
            raise IndexError("no frame left")
        future = self._pending.popleft()
        try:
            return future.result()
        except BrokenProcessPool:
            if self._processes is not None:
                _drop_processes(self._processes)
                self._processes = None
            raise FrameRefused("an encoding worker process died") from None
        finally:
            self._fill()

    def close(self) -> None:
        """Stop this object's work: queued frames are dropped, a running one finishes on its own.

        The shared worker processes stay for the next object.
        """
        self._open = False
        for future in self._pending:
            future.cancel()
        self._pending.clear()
        if self._threads is not None:
            self._threads.shutdown(wait=False, cancel_futures=True)


class _Bytes:
    """A bytes segment with a read position."""

    def __init__(self, data: bytes) -> None:
        self.view = memoryview(data)
        self.pos = 0

    def readinto(self, buf: memoryview) -> int:
        n = min(len(buf), len(self.view) - self.pos)
        buf[:n] = self.view[self.pos : self.pos + n]
        self.pos += n
        return n

    @property
    def left(self) -> int:
        return len(self.view) - self.pos


class _Reader:
    """A DatasetReader segment that counts what is left (so the end is known eagerly)."""

    def __init__(self, reader: DatasetReader) -> None:
        self.reader = reader
        self.left = reader.length

    def readinto(self, buf: memoryview) -> int:
        got = self.reader.readinto(buf[: self.left]) if self.left else 0
        self.left -= got
        return got


_Segment = _Bytes | _Reader


class CompressedReader(DatasetReader):
    """The dataset encoded in a lossless syntax, made of segments, frames taken from a queue.

    Built by :func:`storescu.dataset.compress.open_compressed`.

    Attributes
    ----------
    length : int or None
        Total bytes, or None while streamed (known only at the end).
    exhausted : bool
        True once :meth:`readinto` has given out the last byte; set by the
        read that gives it, so the sender can mark the last P-DATA fragment
        without a further read.
    syntax : str
        The transfer syntax produced.
    bytes_out, pixel_bytes_in, encoded_bytes : int
        Bytes given out; native pixel bytes encoded; encapsulated pixel bytes produced.
    encode_seconds : float
        Seconds spent by the workers encoding and verifying, summed over frames.
    """

    length: int | None  # type: ignore[assignment]

    def __init__(self, syntax: str, segments: list[DatasetReader | bytes]) -> None:
        self.syntax = syntax
        self.length = None
        self.exhausted = False
        self.bytes_out = 0
        self.pixel_bytes_in = 0
        self.encoded_bytes = 0
        self.encode_seconds = 0.0
        self._segments: deque[_Segment] = deque()
        self._after: list[_Segment] = []
        self._current: _Segment | None = None
        self._queue: FrameQueue | None = None
        self._frames_left = 0
        self._closers: list[DatasetReader] = []
        self._closed = False
        self._extend(self._segments, segments)

    def _extend(
        self, target: deque[_Segment] | list[_Segment], items: list[DatasetReader | bytes]
    ) -> None:
        for item in items:
            if isinstance(item, bytes):
                target.append(_Bytes(item))
            else:
                self._closers.append(item)
                target.append(_Reader(item))

    def count(self, frame: EncodedFrame) -> None:
        """Add one encoded frame to the counters."""
        self.pixel_bytes_in += frame.pixel_bytes
        self.encoded_bytes += len(frame.item)
        self.encode_seconds += frame.seconds

    def set_length(self) -> None:
        """All segments are in place (no queue): the total is known."""
        self.length = sum(s.left for s in self._segments)
        self.exhausted = self.length == 0

    def stream(
        self, queue: FrameQueue, frames_left: int, after: list[DatasetReader | bytes]
    ) -> None:
        """The remaining frames come from `queue`, then DELIMITER and `after`."""
        self._queue, self._frames_left = queue, frames_left
        self._extend(self._after, [DELIMITER, *after])
        if not frames_left:
            self._segments.extend(self._after)

    def readinto(self, buf: memoryview | bytearray) -> int:
        """Fill `buf` with the next bytes; VerificationFailed when a later frame cannot go."""
        if self._closed:
            return 0
        view = buf if isinstance(buf, memoryview) else memoryview(buf)
        filled = 0
        while filled < len(view):
            if self._current is None or not self._current.left:
                self._current = self._advance()
                if self._current is None:
                    break
            filled += self._current.readinto(view[filled:])
        self.bytes_out += filled
        self.exhausted = self._at_end()
        return filled

    def _at_end(self) -> bool:
        if self._current is not None and self._current.left:
            return False
        return not self._frames_left and not any(s.left for s in self._segments)

    def _advance(self) -> _Segment | None:
        if self._segments:
            return self._segments.popleft()
        if not self._frames_left or self._queue is None:
            return None
        try:
            frame = self._queue.take()
        except FrameRefused as exc:
            self.close()
            raise VerificationFailed(str(exc)) from None
        self.count(frame)
        self._frames_left -= 1
        if not self._frames_left:
            self._segments.extend(self._after)
        return _Bytes(frame.item)

    def close(self) -> None:
        """Stop the workers and close the file; idempotent. Later reads give 0 bytes."""
        self._closed = True
        if self._queue is not None:
            self._queue.close()
        for reader in self._closers:
            reader.close()
