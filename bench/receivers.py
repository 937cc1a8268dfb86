"""The receiving peers of the benchmark, on 127.0.0.1 with free ports.

* :class:`Storescp` -- DCMTK ``storescp -v --ignore --fork`` with ``TCP_NODELAY=1``.
  ``--ignore`` still receives (and parses) every dataset completely and answers
  each C-STORE with Success; it only skips writing the file. ``--fork`` serves each
  association in a child process, so parallel associations are served in
  parallel (on one association it costs nothing measurable). Stores are counted
  from its ``-v`` log: one ``I: Received Store Request`` line per C-STORE-RQ.
* :class:`Orthanc` -- ``/usr/sbin/Orthanc`` with a private configuration (any called
  AE title, every transfer syntax, no authentication, REST on loopback), its
  storage and SQLite index in a directory on disk (like a real archive: the
  index is what makes it slow per instance). Stores are counted with REST
  ``/statistics`` (``CountInstances``); :meth:`Orthanc.reset` deletes everything
  between runs so every run stores every file anew.

  Orthanc's DICOM server is DCMTK's dcmnet, which turns Nagle's algorithm off only
  when the environment variable ``TCP_NODELAY`` is set. As Debian starts it (no
  such variable) each C-STORE-RSP waits for the sender's delayed ACK, about 40 ms:
  that is the "~20 instances/s per association" of a default Orthanc. With
  ``nodelay=True`` it gets ``TCP_NODELAY=1`` and ingests an order of magnitude
  faster; the benchmark runs both (sets ``orthanc`` and ``orthanc-nodelay``).
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any

LOOPBACK = "127.0.0.1"
STORESCP = "/usr/bin/storescp"
ORTHANC = "/usr/sbin/Orthanc"
START_TIMEOUT = 30.0


def free_port() -> int:
    """A TCP port that was free a moment ago (callers retry if they lose a race)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((LOOPBACK, 0))
        return int(s.getsockname()[1])


def wait_until(predicate: Any, timeout: float, what: str, alive: Any = None) -> None:
    """Poll ``predicate`` with a short growing back-off (1..50 ms) until true."""
    deadline = time.monotonic() + timeout
    delay = 0.001
    while not predicate():
        if alive is not None and not alive():
            raise RuntimeError(f"process exited while waiting for {what}")
        if time.monotonic() >= deadline:
            raise TimeoutError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(delay)
        delay = min(delay * 2, 0.05)


def port_open(port: int) -> bool:
    try:
        with socket.create_connection((LOOPBACK, port), timeout=0.5):
            return True
    except OSError:
        return False


_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat_fields(pid: int) -> list[str] | None:
    """Fields 3.. of /proc/PID/stat (after the command name), or None if gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rsplit(")", 1)[1].split()


def _children(pid: int) -> list[list[str]]:
    """/proc stat fields of the processes whose parent is ``pid`` (zombies included)."""
    out = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit() or int(entry.name) == pid:
            continue
        fields = _stat_fields(int(entry.name))
        if fields is not None and fields[1] == str(pid):  # ppid
            out.append(fields)
    return out


def tree_cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of ``pid``, its reaped children and its live children.

    Field n of proc(5) is index n - 3 of :func:`_stat_fields`: utime 14, stime 15,
    cutime 16, cstime 17. A child's time is in its own stat while it runs and in
    the parent's cutime/cstime once reaped; for a moment while it exits it is in
    neither, so callers that need exact figures wait until there are no children
    (:meth:`Storescp.cpu_seconds`).
    """
    own = _stat_fields(pid)
    if own is None:
        return 0.0
    ticks = sum(int(x) for x in own[11:15])
    for child in _children(pid):
        ticks += sum(int(x) for x in child[11:15])
    return ticks / _TICK


class _Process:
    """A started server process with its log file; stopped by its own pid only."""

    name = "server"

    def __init__(self, argv: list[str], log: Path, env: dict[str, str] | None = None) -> None:
        self.argv = argv
        self.log = log
        self._log_file = open(log, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )

    def alive(self) -> bool:
        return self.proc.poll() is None

    def cpu_seconds(self) -> float:
        """CPU time the receiver (and its --fork children) used so far (10 ms ticks)."""
        return tree_cpu_seconds(self.proc.pid)

    def stop(self) -> None:
        if self.alive():
            # The whole session: storescp --fork children belong to it.
            try:
                os.killpg(self.proc.pid, 15)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, 9)
                self.proc.wait()
        self._log_file.close()

    def tail(self, lines: int = 20) -> str:
        try:
            text = self.log.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(text[-lines:])


class Storescp(_Process):
    name = "storescp"
    ae_title = "STORESCP"
    host = LOOPBACK
    _PATTERN = re.compile(rb"Received Store Request")

    def __init__(
        self, workdir: Path, extra_args: tuple[str, ...] = (), *, fork: bool = True
    ) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ, TCP_NODELAY="1")
        last = ""
        for attempt in range(3):
            self.port = free_port()
            argv = [
                STORESCP,
                "-v",
                "--ignore",
                *(["--fork"] if fork else []),
                "-aet",
                self.ae_title,
                *extra_args,
                str(self.port),
            ]
            super().__init__(argv, workdir / f"storescp-{self.port}-{attempt}.log", env)
            try:
                wait_until(lambda: port_open(self.port), START_TIMEOUT, "storescp port", self.alive)
                if self.alive():
                    return
            except (RuntimeError, TimeoutError) as exc:
                last = f"{exc}\n{self.tail()}"
            self.stop()
        raise RuntimeError(f"storescp did not start: {last}")

    def count(self) -> int:
        """C-STORE requests received so far (all runs)."""
        try:
            return len(self._PATTERN.findall(self.log.read_bytes()))
        except OSError:
            return 0

    def reset(self) -> None:
        pass  # --ignore keeps nothing; counts are taken as differences

    def cpu_seconds(self) -> float:
        """CPU time so far, once every --fork child has exited and been reaped.

        storescp reaps a child right after it exits; waiting for that (at most 5 s)
        makes the figure exact instead of racing with the child's exit.
        """
        try:
            wait_until(lambda: not _children(self.proc.pid), 5.0, "storescp children to exit")
        except TimeoutError:
            pass  # a stuck association: count the live child's time as it is
        return tree_cpu_seconds(self.proc.pid)


class Orthanc(_Process):
    name = "Orthanc"
    ae_title = "ORTHANC"
    host = LOOPBACK

    def __init__(self, workdir: Path, *, nodelay: bool = False) -> None:
        env = {k: v for k, v in os.environ.items() if k != "TCP_NODELAY"}
        if nodelay:
            env["TCP_NODELAY"] = "1"
        storage = workdir / "storage"
        storage.mkdir(parents=True, exist_ok=True)
        (workdir / "tmp").mkdir(exist_ok=True)
        last = ""
        for attempt in range(3):
            self.port = free_port()
            self.http_port = free_port()
            config = {
                "Name": "storescu-bench",
                "StorageDirectory": str(storage),
                "IndexDirectory": str(storage),
                "TemporaryDirectory": str(workdir / "tmp"),
                "StorageCompression": False,
                "MaximumStorageSize": 0,
                "MaximumPatientCount": 0,
                "Plugins": [],
                "LuaScripts": [],
                "HttpServerEnabled": True,
                "HttpPort": self.http_port,
                "RemoteAccessAllowed": False,
                "AuthenticationEnabled": False,
                "HttpCompressionEnabled": False,
                "WebDavEnabled": False,
                "DicomServerEnabled": True,
                "DicomAet": self.ae_title,
                "DicomCheckCalledAet": False,
                "DicomPort": self.port,
                "AcceptedTransferSyntaxes": ["1.2.840.10008.1.*"],
                "UnknownSopClassAccepted": True,
                "DicomAlwaysAllowEcho": True,
                "DicomAlwaysAllowStore": True,
                "DicomModalities": {},
                "OrthancPeers": {},
                "DicomScpTimeout": 30,
                "SaveJobs": False,
                "OverwriteInstances": False,
                "StableAge": 3600,
                "ConcurrentJobs": 1,
                "MetricsEnabled": False,
            }
            config_path = workdir / "orthanc.json"
            config_path.write_text(json.dumps(config, indent=2))
            super().__init__(
                [ORTHANC, "--no-jobs", str(config_path)], workdir / f"orthanc-{attempt}.log", env
            )
            try:
                wait_until(self._ready, START_TIMEOUT, "Orthanc REST /system", self.alive)
                wait_until(
                    lambda: port_open(self.port), START_TIMEOUT, "Orthanc DICOM port", self.alive
                )
                return
            except (RuntimeError, TimeoutError) as exc:
                last = f"{exc}\n{self.tail()}"
            self.stop()
        raise RuntimeError(f"Orthanc did not start: {last}")

    def _request(self, method: str, path: str) -> Any:
        req = urllib.request.Request(f"http://{LOOPBACK}:{self.http_port}{path}", method=method)
        with urllib.request.urlopen(req, timeout=60) as resp:
            body = resp.read()
        return json.loads(body) if body else None

    def _ready(self) -> bool:
        try:
            self._request("GET", "/system")
        except (OSError, ValueError):
            return False
        return True

    def count(self) -> int:
        return int(self._request("GET", "/statistics")["CountInstances"])

    def version(self) -> str:
        return str(self._request("GET", "/system").get("Version", "?"))

    def reset(self) -> None:
        for patient in self._request("GET", "/patients"):
            self._request("DELETE", f"/patients/{patient}")
        if self.count():
            raise RuntimeError("Orthanc still holds instances after deleting every patient")


class OurScp(_Process):
    """The project's SCP (bench/ourscp.py): discards data, grants a window of up to 16.

    It writes how many C-STOREs it received so far to a file, read by :meth:`count`.
    """

    name = "storescu-scp"
    ae_title = "STORESCP"
    host = LOOPBACK

    def __init__(self, workdir: Path, python: str) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.count_file = workdir / f"count-{self.port}"
        argv = [python, "-m", "bench.ourscp", str(self.port), str(self.count_file)]
        env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parent.parent))
        super().__init__(argv, workdir / f"ourscp-{self.port}.log", env)
        wait_until(lambda: port_open(self.port), START_TIMEOUT, "our SCP port", self.alive)

    def count(self) -> int:
        try:
            return int(self.count_file.read_text() or 0)
        except (OSError, ValueError):
            return 0

    def reset(self) -> None:
        pass  # counts are taken as differences
