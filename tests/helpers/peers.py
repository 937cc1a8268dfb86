"""The four receiving peers of the interop suite, all on 127.0.0.1.

* :class:`StorescpPeer` -- DCMTK ``/usr/bin/storescp -od DIR``;
* :class:`OrthancPeer` -- ``/usr/sbin/Orthanc`` with a private config and REST helpers;
* :class:`PynetdicomPeer` -- an in-process pynetdicom AE serving in a thread;
* :class:`OurScpPeer` -- the project's own SCP, ``python -m storescu.scp``.

Each exposes ``host``, ``port``, ``ae_title``, ``received_files()`` (complete DICOM
files, in arrival order where the peer tells it), ``describe()`` (state and log, for
failure reports) and ``stop()``. Binaries are called by absolute path: the Debian
``dcmtk`` package and pynetdicom both install a ``storescp``/``storescu`` on PATH.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.net import LOOPBACK, free_port, wait_for_port, wait_until
from tests.helpers.proc import ManagedProcess

DCMTK_STORESCP = "/usr/bin/storescp"
ORTHANC = "/usr/sbin/Orthanc"
STARTUP_TIMEOUT = 30.0
#: Tries with a fresh port when a peer that cannot bind port 0 loses a port race.
PORT_TRIES = 3


def require_executable(path: str, hint: str) -> None:
    """Fail (never skip: DESIGN.md section 4) when a peer binary is missing."""
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.fail(f"{Path(path).name} not installed ({path} missing): {hint}", pytrace=False)


# --- DCMTK storescp ------------------------------------------------------------------


class StorescpPeer:
    """DCMTK storescp writing every received object as a file into ``outdir``.

    ``+uf`` (unique file names) is added unless ``unique_names=False``: with DCMTK's
    default names (modality + SOP Instance UID) a second copy of an instance, e.g.
    with ``--repeat``, would overwrite the first and hide it from the count.
    """

    ae_title = "STORESCP"
    host = LOOPBACK

    def __init__(
        self, workdir: Path, args: Sequence[str] = (), *, unique_names: bool = True
    ) -> None:
        require_executable(DCMTK_STORESCP, "apt-get install dcmtk")
        self.outdir = workdir / "received"
        self.outdir.mkdir(parents=True, exist_ok=True)
        self.args = list(args)
        naming = ["+uf"] if unique_names else []
        last_error = ""
        for attempt in range(PORT_TRIES):
            self.port = free_port()
            argv = [
                DCMTK_STORESCP,
                "-v",
                "-od",
                str(self.outdir),
                *naming,
                *self.args,
                str(self.port),
            ]
            self.process = ManagedProcess(
                argv, workdir / f"storescp-{attempt}.log", name="storescp"
            )
            try:
                wait_for_port(
                    self.host,
                    self.port,
                    time.monotonic() + STARTUP_TIMEOUT,
                    alive=self.process.alive,
                )
                if self.process.alive():  # not another program on a port we lost
                    return
                raise RuntimeError("storescp exited although its port answered")
            except (RuntimeError, TimeoutError) as exc:
                last_error = f"{exc}\n{self.process.describe()}"
                self.process.stop()
        raise RuntimeError(f"storescp did not start:\n{last_error}")

    def received_files(self) -> list[Path]:
        """Files in ``outdir``; with ``+uf`` names end in a running counter."""

        def key(p: Path) -> tuple[int, str]:
            parts = re.findall(r"\d+", p.name)
            return (int(parts[-1]) if parts else 0, p.name)

        files = [p for p in self.outdir.iterdir() if p.is_file()]
        return sorted(files, key=key)

    def describe(self) -> str:
        return self.process.describe()

    def stop(self) -> None:
        self.process.stop()


# --- Orthanc -------------------------------------------------------------------------


class OrthancPeer:
    """Orthanc with its own config, storage and index under ``workdir``.

    Everything that could make it refuse or alter a C-STORE is turned off: any
    called AE title, every transfer syntax, unknown SOP classes, no plugins, no
    compression, no ingest transcoding; the REST API is on loopback without
    authentication.
    """

    ae_title = "ORTHANC"
    host = LOOPBACK

    def __init__(self, workdir: Path, extra_config: dict[str, Any] | None = None) -> None:
        require_executable(ORTHANC, "apt-get install orthanc")
        self.workdir = workdir
        storage = workdir / "storage"
        storage.mkdir(parents=True, exist_ok=True)
        (workdir / "tmp").mkdir(exist_ok=True)
        last_error = ""
        for attempt in range(PORT_TRIES):
            self.port = free_port()
            self.http_port = free_port()
            config = {
                "Name": "storescu-tests",
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
                "HttpDescribeErrors": True,
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
                "SyncStorageArea": False,
                "StableAge": 3600,
                "ConcurrentJobs": 1,
                "MetricsEnabled": False,
            }
            config.update(extra_config or {})  # e.g. DICOM TLS (tests/interop/test_tls.py)
            config_path = workdir / "orthanc.json"
            config_path.write_text(json.dumps(config, indent=2))
            self.process = ManagedProcess(
                [ORTHANC, "--no-jobs", str(config_path)],
                workdir / f"orthanc-{attempt}.log",
                name="Orthanc",
            )
            try:
                deadline = time.monotonic() + STARTUP_TIMEOUT
                wait_until(
                    self._rest_ready, deadline, "Orthanc REST /system", alive=self.process.alive
                )
                wait_for_port(self.host, self.port, deadline, alive=self.process.alive)
                return
            except (RuntimeError, TimeoutError) as exc:
                last_error = f"{exc}\n{self.process.describe()}"
                self.process.stop()
        raise RuntimeError(f"Orthanc did not start:\n{last_error}")

    # REST

    @property
    def base_url(self) -> str:
        return f"http://{LOOPBACK}:{self.http_port}"

    def _request(self, method: str, path: str, timeout: float = 60.0) -> bytes:
        req = urllib.request.Request(self.base_url + path, method=method)
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return bytes(resp.read())

    def get_json(self, path: str) -> Any:
        return json.loads(self._request("GET", path))

    def _rest_ready(self) -> bool:
        try:
            self.get_json("/system")
        except (OSError, urllib.error.URLError, ValueError):
            return False
        return True

    def instances(self) -> list[str]:
        """Orthanc IDs of every stored instance."""
        return list(self.get_json("/instances"))

    def instance_tags(self, orthanc_id: str) -> dict[str, Any]:
        return dict(self.get_json(f"/instances/{orthanc_id}/simplified-tags"))

    def download(self, orthanc_id: str, dest: Path) -> Path:
        """Fetch ``/instances/{id}/file`` (the stored DICOM file) to ``dest``."""
        dest.write_bytes(self._request("GET", f"/instances/{orthanc_id}/file"))
        return dest

    def received_files(self) -> list[Path]:
        """Download every stored instance into a fresh folder (order: Orthanc's)."""
        dest = self.workdir / f"download-{time.monotonic_ns()}"
        dest.mkdir()
        return [self.download(i, dest / f"{i}.dcm") for i in self.instances()]

    def clear(self) -> None:
        """Delete everything stored, so the next test starts empty."""
        for patient in self.get_json("/patients"):
            self._request("DELETE", f"/patients/{patient}")
        leftover = self.instances()
        if leftover:
            raise RuntimeError(f"Orthanc still holds {len(leftover)} instances after clear")

    def describe(self) -> str:
        return self.process.describe()

    def stop(self) -> None:
        self.process.stop()


# --- pynetdicom SCP (in-process) -----------------------------------------------------


@dataclass
class StoreRequest:
    """One C-STORE-RQ as the pynetdicom SCP saw it."""

    sop_class_uid: str
    sop_instance_uid: str
    transfer_syntax: str
    context_id: int
    message_id: int
    status: int
    path: Path


@dataclass
class AssociationRecord:
    """What the requestor proposed and how the association ended."""

    calling_ae: str
    called_ae: str
    max_pdu: int
    implementation_class_uid: str
    contexts: list[tuple[int, str, list[str]]]  # (id, abstract syntax, transfer syntaxes)
    outcome: str = "open"  # released | aborted | rejected
    p_data_lengths: list[int] = field(default_factory=list)


class PynetdicomPeer:
    """A pynetdicom Storage SCP in a background thread of the test process.

    Accepts ``AllStoragePresentationContexts`` plus every seed class, with the given
    transfer syntaxes (the three uncompressed ones by default), and Verification.
    Every C-STORE is written byte for byte as received (``encoded_dataset()``), and
    answered with ``status`` (plus ``error_comment`` if given).
    """

    host = LOOPBACK

    def __init__(
        self,
        workdir: Path,
        *,
        status: int = 0x0000,
        error_comment: str | None = None,
        ae_title: str = "PYNETDICOM",
        require_called_aet: bool = False,
        transfer_syntaxes: Sequence[str] | None = None,
        max_pdu: int = 16382,
        sop_classes: Sequence[str] | None = None,
    ) -> None:
        from pynetdicom import AE, AllStoragePresentationContexts, evt
        from pynetdicom.sop_class import Verification  # type: ignore[attr-defined]

        from tests.helpers.data import SEED_SOP_CLASSES, UNCOMPRESSED_SYNTAXES

        self.outdir = workdir / "received"
        self.outdir.mkdir(parents=True, exist_ok=True)
        self.status = status
        self.error_comment = error_comment
        self.ae_title = ae_title
        self.requests: list[StoreRequest] = []
        self.associations: list[AssociationRecord] = []
        self._lock = threading.Lock()
        self._assoc_by_id: dict[int, AssociationRecord] = {}
        syntaxes = list(transfer_syntaxes or sorted(UNCOMPRESSED_SYNTAXES))
        ae = AE(ae_title=ae_title)
        ae.require_called_aet = require_called_aet
        ae.maximum_pdu_size = max_pdu
        classes: list[str]
        if sop_classes is None:
            classes = [str(cx.abstract_syntax) for cx in AllStoragePresentationContexts]
            classes += [uid for uid in SEED_SOP_CLASSES if uid not in classes]
        else:
            classes = list(sop_classes)
        for uid in classes:
            ae.add_supported_context(uid, syntaxes)
        ae.add_supported_context(Verification, syntaxes)
        handlers: list[Any] = [
            (evt.EVT_C_STORE, self._on_store),
            (evt.EVT_REQUESTED, self._on_requested),
            (evt.EVT_REJECTED, self._on_end("rejected")),
            (evt.EVT_RELEASED, self._on_end("released")),
            (evt.EVT_ABORTED, self._on_end("aborted")),
            (evt.EVT_PDU_RECV, self._on_pdu),
        ]
        self._ae = ae
        server = ae.start_server((LOOPBACK, 0), block=False, evt_handlers=handlers)
        assert server is not None
        self._server = server
        self.port = int(self._server.server_address[1])

    # event handlers (run in pynetdicom's threads)

    def _on_requested(self, event: Any) -> None:
        rq = event.assoc.requestor
        primitive = rq.primitive  # the A-ASSOCIATE-RQ as received
        record = AssociationRecord(
            calling_ae=str(primitive.calling_ae_title).strip(),
            called_ae=str(primitive.called_ae_title).strip(),
            max_pdu=int(rq.maximum_length),
            implementation_class_uid=str(rq.implementation_class_uid),
            contexts=[
                (int(cx.context_id), str(cx.abstract_syntax), [str(t) for t in cx.transfer_syntax])
                for cx in rq.requested_contexts
            ],
        )
        with self._lock:
            self.associations.append(record)
            self._assoc_by_id[id(event.assoc)] = record

    def _on_end(self, outcome: str) -> Any:
        def handler(event: Any) -> None:
            with self._lock:
                record = self._assoc_by_id.get(id(event.assoc))
                if record is not None and record.outcome == "open":
                    record.outcome = outcome

        return handler

    def _on_pdu(self, event: Any) -> None:
        if getattr(event.pdu, "pdu_type", None) == 0x04:  # P-DATA-TF
            with self._lock:
                record = self._assoc_by_id.get(id(event.assoc))
                if record is not None:
                    record.p_data_lengths.append(int(event.pdu.pdu_length))

    def _on_store(self, event: Any) -> Any:
        from pydicom.dataset import Dataset

        data = event.encoded_dataset()
        cx = event.context
        with self._lock:
            index = len(self.requests) + 1
            path = self.outdir / f"{index:06d}.dcm"
            path.write_bytes(data)
            self.requests.append(
                StoreRequest(
                    sop_class_uid=str(event.request.AffectedSOPClassUID),
                    sop_instance_uid=str(event.request.AffectedSOPInstanceUID),
                    transfer_syntax=str(cx.transfer_syntax),
                    context_id=int(cx.context_id),
                    message_id=int(event.request.MessageID),
                    status=self.status,
                    path=path,
                )
            )
        if self.error_comment is None:
            return self.status
        rsp = Dataset()
        rsp.Status = self.status
        rsp.ErrorComment = self.error_comment
        return rsp

    # peer interface

    def received_files(self) -> list[Path]:
        with self._lock:
            return [r.path for r in self.requests]

    def wait_for_associations_closed(self, timeout: float = 10.0) -> None:
        """The sender may exit before pynetdicom has handled release/abort."""

        def closed() -> bool:
            with self._lock:
                return all(a.outcome != "open" for a in self.associations)

        wait_until(closed, time.monotonic() + timeout, "pynetdicom associations to end")

    def describe(self) -> str:
        with self._lock:
            assocs = [
                f"  {a.calling_ae}->{a.called_ae} contexts={len(a.contexts)} "
                f"max_pdu={a.max_pdu} outcome={a.outcome}"
                for a in self.associations
            ]
            return (
                f"pynetdicom SCP {self.ae_title} on {self.port}: "
                f"{len(self.requests)} C-STORE(s), status 0x{self.status:04X}\n" + "\n".join(assocs)
            )

    def stop(self) -> None:
        self._server.shutdown()


# --- the project's SCP ---------------------------------------------------------------


class OurScpPeer:
    """``python -m storescu.scp --port-file F -od DIR [args] 0`` as a subprocess."""

    host = LOOPBACK

    def __init__(
        self,
        workdir: Path,
        args: Sequence[str] = (),
        *,
        ae_title: str = "STORESCP",
        store: bool = True,
    ) -> None:
        self.workdir = workdir
        self.outdir = workdir / "received"
        self.outdir.mkdir(parents=True, exist_ok=True)
        self.ae_title = ae_title
        port_file = workdir / "port"
        port_file.unlink(missing_ok=True)
        output = ["-od", str(self.outdir)] if store else ["--ignore"]
        argv = [
            sys.executable,
            "-m",
            "storescu.scp",
            "-v",
            "-aet",
            ae_title,
            "--port-file",
            str(port_file),
            *output,
            *args,
            "0",
        ]
        self.process = ManagedProcess(argv, workdir / "our-scp.log", name="storescu.scp")

        def port_written() -> bool:
            with contextlib.suppress(OSError):
                return port_file.read_text().strip().isdigit()
            return False

        try:
            deadline = time.monotonic() + STARTUP_TIMEOUT
            wait_until(port_written, deadline, "the SCP's --port-file", alive=self.process.alive)
            self.port = int(port_file.read_text().strip())
        except (RuntimeError, TimeoutError) as exc:
            description = self.process.describe()
            self.process.stop()
            raise RuntimeError(f"storescu.scp did not start: {exc}\n{description}") from exc

    def records(self) -> list[dict[str, Any]]:
        """The lines of ``received.jsonl`` (one per stored instance)."""
        path = self.outdir / "received.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    def received_files(self) -> list[Path]:
        files = []
        for record in self.records():
            path = Path(record["file"])
            files.append(path if path.is_absolute() else self.outdir / path)
        return files

    def describe(self) -> str:
        return self.process.describe()

    def stop(self) -> None:
        self.process.stop()
