"""Threads for codecs that release the GIL, worker processes for those that hold it."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import time
from concurrent.futures import Future
from typing import Any

import numpy as np
import pytest

from storescu.dataset.compress import PIXEL_CODECS, NotCompressed, available_codecs
from storescu.dataset.compress import codecs as codecs_module
from storescu.dataset.compress import stream as stream_module
from tests.unit.dataset.compress.helpers import compress, corrupt_decode, sample


@pytest.fixture(autouse=True)
def _codecs_here() -> None:
    if set(available_codecs()) != set(PIXEL_CODECS):
        pytest.skip("the codecs extra is not installed")


def test_gil_holders_go_to_processes_and_the_others_to_threads() -> None:
    held = {name for name, codec in codecs_module.CODECS.items() if not codec.releases_gil}
    assert held == {"jpeg-ls", "rle"}  # measured: see the stream module's docstring
    data, _ = compress(sample("CT_small.dcm"), "rle")
    assert data
    assert stream_module._process_pool is not None  # started for it, kept for the run


def test_a_mismatch_in_a_worker_process_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    """The decoder runs in the worker: its FrameRefused comes back as NotCompressed."""
    real = codecs_module.CODECS["rle"]
    monkeypatch.setitem(
        codecs_module.CODECS, "rle", dataclasses.replace(real, decode=corrupt_decode)
    )
    with pytest.raises(NotCompressed, match="frame 1: verification: 1 samples differ"):
        compress(sample("MR_small.dcm"), "rle")


class _NoProcesses:
    """A pool that cannot start processes (as in a daemonic process)."""

    def submit(self, *args: Any) -> Future[Any]:
        raise RuntimeError("cannot start processes here")

    def shutdown(self, wait: bool = True, cancel_futures: bool = False) -> None:
        pass


def test_threads_when_processes_cannot_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stream_module, "_shared_processes", lambda: _NoProcesses())
    data, reader = compress(sample("MR_small.dcm"), "jpeg-ls")
    assert reader.pixel_bytes_in == 64 * 64 * 2 and data


def test_frames_from_memory_travel_alone() -> None:
    """A worker process gets one frame's bytes, not the object's."""
    from storescu.dataset.compress.pixels import FrameSource, PixelLayout

    layout = PixelLayout(2, 2, 1, 3, 8, 8, 7, False, "MONOCHROME2", 0)
    source = FrameSource(layout, 0, data=bytes(range(12)))
    one = source.for_frame(2)
    assert one.data == bytes(range(8, 12)) and one.raw(2) == source.raw(2)
    assert np.frombuffer(one.raw(2), "u1").tolist() == [8, 9, 10, 11]


def test_no_processes_for_an_unguarded_main_script(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    """Worker processes would import such a script again and run it: threads instead."""
    import sys
    import types

    script = tmp_path / "send.py"
    script.write_text("import storescu\nstoresc.api.send_files([...])\n")
    main = types.ModuleType("__main__")
    main.__file__ = str(script)
    main.__spec__ = None
    monkeypatch.setitem(sys.modules, "__main__", main)
    assert not stream_module._main_reimport_is_safe()
    script.write_text('if __name__ == "__main__":\n    pass\n')
    assert stream_module._main_reimport_is_safe()


_KILLED_SENDER = """
import os, signal, sys
from storescu.dataset.compress import CODEC_SYNTAXES, open_compressed, stream
from storescu.dataset.inspection import inspect_file

if __name__ == "__main__":
    with open_compressed(inspect_file(sys.argv[1]), None, CODEC_SYNTAXES["rle"]) as reader:
        reader.read()
    print(*stream._process_pool._processes, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)
"""


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fp:
            return "\\tZ" not in fp.read()  # a zombie has exited
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads /proc")
def test_workers_exit_when_the_sender_is_killed(tmp_path: Any) -> None:
    """SIGKILL leaves no one to shut the pool down: the workers notice and exit."""
    script = tmp_path / "sender.py"
    script.write_text(_KILLED_SENDER)
    done = subprocess.run(
        [sys.executable, str(script), sample("CT_small.dcm")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == -9, done.stderr
    workers = [int(pid) for pid in done.stdout.split()]
    assert workers
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(_alive(pid) for pid in workers)
