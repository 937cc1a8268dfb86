"""``--dask``: a run fanned out over a Dask LocalCluster of 2 worker processes.

One cluster for the module (starting one takes seconds); the command line
reaches it by its scheduler address, as it would a real cluster. Peers: DCMTK
storescp and the project's SCP (in-process, optionally slowed down so that a
worker can be killed, or the run interrupted, in the middle of a partition).
"""

from __future__ import annotations

import io
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# The storescu[dask] extra: scripts/test.sh installs it, and a missing Dask fails here.
from distributed import Client, LocalCluster
from pydicom import Dataset
from pydicom.dataset import FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian

from storescu import SendOptions, StoreSCP, send_files
from storescu.cli.exitcodes import ExitCode
from storescu.cli.main import exit_code, main
from storescu.run.cluster import ClusterOptions
from storescu.run.clustertask import WATERMARK_STEP
from storescu.run.results import Outcome
from tests.helpers.certs import PASSWORD
from tests.helpers.matching import assert_received_all

pytestmark = pytest.mark.interop

CT = "1.2.840.10008.5.1.4.1.1.2"


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    cluster = LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        scheduler_port=0,
    )
    with cluster, Client(cluster) as dask_client:
        yield dask_client


@pytest.fixture
def full_client(client: Client) -> Client:
    """The module's cluster with both workers up (a killed one is restarted by its nanny)."""
    client.wait_for_workers(2, timeout=60)
    return client


def make_files(folder: Path, count: int) -> list[str]:
    """`count` small CT instances (16x16 pixels), each with its own SOP Instance UID."""
    folder.mkdir(parents=True, exist_ok=True)
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = CT
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = CT
    ds.PatientName = "CLUSTER^TEST"
    ds.PatientID = "C1"
    ds.StudyInstanceUID = "1.2.826.0.1.3680043.10.1234.1"
    ds.SeriesInstanceUID = "1.2.826.0.1.3680043.10.1234.2"
    ds.Modality = "CT"
    ds.Rows = ds.Columns = 16
    ds.BitsAllocated = ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 0
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    paths = []
    for index in range(count):
        uid = f"1.2.826.0.1.3680043.10.1234.3.{index + 1}"
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = uid
        ds.InstanceNumber = index + 1
        ds.PixelData = (index % 65536).to_bytes(2, "little") * 256
        path = folder / f"ct{index:05d}.dcm"
        ds.save_as(path, enforce_file_format=True)
        paths.append(str(path))
    return paths


def read_rows(report: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in report.read_text().splitlines() if line.strip()]


class SlowSCP(StoreSCP):
    """The project's SCP, taking `delay` seconds per store (a PACS writing to a database)."""

    def __init__(self, delay: float, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.delay = delay

    def _record(self, instance: object) -> None:
        time.sleep(self.delay)
        super()._record(instance)  # type: ignore[arg-type]


class CountingSCP(StoreSCP):
    """The project's SCP, counting the associations open at the same time."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.open_now = self.most_open = 0
        self._count_lock = threading.Lock()

    def _serve_association(self, sock: object, peer: str) -> None:
        with self._count_lock:
            self.open_now += 1
            self.most_open = max(self.most_open, self.open_now)
        try:
            super()._serve_association(sock, peer)  # type: ignore[arg-type]
        finally:
            with self._count_lock:
                self.open_now -= 1


def run_cli(argv: list[str]) -> tuple[int, str]:
    err = io.StringIO()
    code = main(argv, stdout=io.StringIO(), stderr=err)
    return code, err.getvalue()


# --- 2,000 files -------------------------------------------------------------------


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    folder = tmp_path_factory.mktemp("cluster") / "corpus"
    return folder, make_files(folder, 2000)


def _check_run(code: int, err: str, report: Path, paths: list[str], received: list[Path]) -> None:
    assert code == 0, err
    rows = read_rows(report)
    assert [row["path"] for row in rows] == paths  # complete, once each, in input order
    assert {row["outcome"] for row in rows} == {"sent"}
    assert "2000 files: 2000 sent" in err, err
    assert_received_all([Path(p) for p in paths], received, context=err)


def test_2000_files_to_dcmtk_storescp(
    full_client: Client, corpus: tuple[Path, list[str]], dcmtk_storescp, tmp_path: Path
) -> None:
    folder, paths = corpus
    peer = dcmtk_storescp("--fork")  # one process per association (-P 2 x 2 workers)
    report = tmp_path / "report.jsonl"
    code, err = run_cli(
        [
            "--dask", full_client.scheduler.address, "--dask-partition", "250", "-P", "2",
            "+sd", "--report", str(report), "--progress",
            "127.0.0.1", str(peer.port), str(folder),
        ]
    )  # fmt: skip
    _check_run(code, err, report, paths, peer.received_files())


def test_2000_files_to_our_scp(
    full_client: Client, corpus: tuple[Path, list[str]], tmp_path: Path
) -> None:
    _, paths = corpus
    received = tmp_path / "received"
    received.mkdir()
    file_list = tmp_path / "files.txt"
    file_list.write_text("\n".join(paths) + "\n")
    report = tmp_path / "report.jsonl"
    with CountingSCP(output_dir=str(received)) as scp:
        code, err = run_cli(
            [
                "--dask", full_client.scheduler.address, "--dask-associations", "2", "-P", "2",
                "--dask-partition", "250", "--file-list", str(file_list),
                "--report", str(report), "127.0.0.1", str(scp.port),
            ]
        )  # fmt: skip
    # 8 tasks of 250 files, 2 associations each, one task at a time (the bound).
    assert scp.associations == 16
    assert scp.most_open <= 2
    files = sorted(p for p in received.iterdir() if p.name.endswith(".dcm"))
    _check_run(code, err, report, paths, files)


# --- a worker killed -----------------------------------------------------------------

#: Inputs a lost attempt leaves unsettled: those marked under way ahead of the one being
#: sent (WATERMARK_STEP; a mark also puts the rows confirmed so far), plus the rows
#: confirmed after the last put (at most 0.1 s of them, more on a loaded machine).
_UNDER_WAY_BOUND = 3 * WATERMARK_STEP


@pytest.mark.parametrize("resend", [False, True], ids=["default", "resend-unknown"])
def test_worker_killed_mid_partition(
    full_client: Client, tmp_path: Path, caplog: pytest.LogCaptureFixture, resend: bool
) -> None:
    caplog.set_level(logging.WARNING, logger="storescu")
    paths = make_files(tmp_path / "in", 400)
    pids = full_client.run(os.getpid)
    killed: list[int] = []
    delivered: list[object] = []

    def on_result(result: object) -> None:
        delivered.append(result)
        if not killed and len(delivered) >= 20:
            busy = [w for w, keys in full_client.processing().items() if keys]
            victim = busy[-1] if busy else next(iter(pids))
            os.kill(pids[victim], signal.SIGKILL)
            killed.append(pids[victim])

    with SlowSCP(0.01) as scp:
        result = send_files(
            "127.0.0.1", scp.port, paths, options=SendOptions(resend_unknown=resend),
            on_result=on_result,
            client=full_client, cluster=ClusterOptions(partition_size=50),
        )  # fmt: skip
        received = Counter(instance.sop_instance_uid for instance in scp.received)
    assert killed
    assert "its worker was lost; running it again" in caplog.text  # Dask re-ran it
    assert [r.path for r in result.results] == paths  # every input once, in order
    by_uid = {path: f"1.2.826.0.1.3680043.10.1234.3.{i + 1}" for i, path in enumerate(paths)}
    outcomes = Counter(r.outcome for r in result.results)
    if resend:  # the inputs under way were sent again, and say so
        assert set(outcomes) == {Outcome.SENT}, outcomes
        resent = [r for r in result.results if r.resent_after_unknown]
        assert 0 < len(resent) <= _UNDER_WAY_BOUND
    else:
        assert set(outcomes) <= {Outcome.SENT, Outcome.FAILED_OUTCOME_UNKNOWN}, outcomes
        # Under way: at most the inputs marked ahead of the one being sent.
        assert outcomes[Outcome.FAILED_OUTCOME_UNKNOWN] <= _UNDER_WAY_BOUND
    for r in result.results:
        uid = by_uid[r.path]
        if r.outcome is Outcome.SENT and not r.resent_after_unknown:
            assert received[uid] == 1, (r.path, received[uid])  # confirmed: never twice
        else:
            assert received[uid] <= 2 if resend else received[uid] <= 1
    unknown = outcomes[Outcome.FAILED_OUTCOME_UNKNOWN]
    expected = ExitCode.SUCCESS if unknown == 0 else ExitCode.NETWORK
    assert exit_code(result, halt=True) == expected
    assert exit_code(result, halt=False) in (ExitCode.SUCCESS, ExitCode.INCOMPLETE)


# --- Ctrl-C, then --skip-sent --------------------------------------------------------


def test_skip_sent_resumes_an_interrupted_cluster_run(full_client: Client, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    paths = make_files(folder, 300)
    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    with SlowSCP(0.02) as scp:
        process = subprocess.Popen(
            [
                sys.executable, "-m", "storescu", "--dask", full_client.scheduler.address,
                "--dask-partition", "30", "+sd", "--report", str(first),
                "127.0.0.1", str(scp.port), str(folder),
            ],
            stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and (
            not first.exists() or len(first.read_text().splitlines()) < 30
        ):
            time.sleep(0.05)
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=60)
        assert process.returncode == ExitCode.INTERRUPTED, err
        rows = read_rows(first)
        assert [row["path"] for row in rows] == paths, err  # complete despite Ctrl-C
        stored_first = {row["path"] for row in rows if row["outcome"] == "sent"}
        assert 30 <= len(stored_first) < len(paths)
        assert {row["outcome"] for row in rows} <= {"sent", "not-sent", "failed-outcome-unknown"}

        code, err = run_cli(
            [
                "--dask", full_client.scheduler.address, "--dask-partition", "30", "+sd",
                "--skip-sent", str(first), "--report", str(second),
                "127.0.0.1", str(scp.port), str(folder),
            ]
        )  # fmt: skip
        received = Counter(instance.sop_instance_uid for instance in scp.received)
    assert code == 0, err
    rows = read_rows(second)
    assert [row["path"] for row in rows] == paths
    for row in rows:
        expected = "skipped-already-sent" if row["path"] in stored_first else "sent"
        assert row["outcome"] == expected, row
    for index, path in enumerate(paths):
        if path in stored_first:  # stored by the first run: not sent again
            assert received[f"1.2.826.0.1.3680043.10.1234.3.{index + 1}"] == 1


def test_nothing_to_send_is_fatal_unless_all_was_sent_before(
    full_client: Client, tmp_path: Path
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with StoreSCP() as scp:
        code, err = run_cli(["--dask", full_client.scheduler.address, "+sd", "127.0.0.1",
                             str(scp.port), str(empty)])  # fmt: skip
        assert code == ExitCode.FAILURE and "no input files to be sent" in err, err
        paths = make_files(tmp_path / "in", 3)
        first = tmp_path / "first.jsonl"
        code, err = run_cli(["--dask", full_client.scheduler.address, "--report", str(first),
                             "127.0.0.1", str(scp.port), *paths])  # fmt: skip
        assert code == 0, err
        code, err = run_cli(["--dask", full_client.scheduler.address, "--skip-sent", str(first),
                             "127.0.0.1", str(scp.port), *paths])  # fmt: skip
        assert code == 0 and "3 skipped-already-sent" in err, err
        assert len(scp.received) == 3


def test_tls_each_task_builds_its_own_context(
    full_client: Client, tmp_path: Path, pki: Any
) -> None:
    from storescu.net.tls import TlsOptions, server_context

    server_tls = server_context(
        TlsOptions(
            key_file=str(pki.server.key),
            cert_file=str(pki.server.cert),
            ca_files=(str(pki.ca.cert),),
        )
    )
    paths = make_files(tmp_path / "in", 40)
    report = tmp_path / "report.jsonl"
    with StoreSCP(tls=server_tls) as scp:
        code, err = run_cli(
            [
                "--dask", full_client.scheduler.address, "--dask-partition", "10",
                "+tls", str(pki.client_encrypted.key), str(pki.client_encrypted.cert),
                "+pw", PASSWORD, "+cf", str(pki.ca.cert), "--report", str(report),
                "127.0.0.1", str(scp.port), *paths,
            ]
        )  # fmt: skip
        assert len(scp.received) == 40
    assert code == 0, err
    assert [row["outcome"] for row in read_rows(report)] == ["sent"] * 40


def test_tls_settings_that_do_not_load_on_a_worker(
    full_client: Client, tmp_path: Path, pki: Any
) -> None:
    """The coordinator is told, every input is not-sent with the reason (no traceback)."""
    from storescu.net.tls import TlsOptions

    paths = make_files(tmp_path / "in", 4)
    broken = TlsOptions(key_file=str(tmp_path / "missing.key"), cert_file=str(pki.client.cert))
    result = send_files(
        "127.0.0.1", 9, paths, client=full_client,
        cluster=ClusterOptions(partition_size=2, tls=broken),
    )  # fmt: skip
    assert result.fatal is not None and result.fatal.startswith("TLS: "), result.fatal
    assert [r.outcome for r in result.results] == [Outcome.NOT_SENT] * 4
    assert all(r.error and "TLS" in r.error for r in result.results)


class RefuseOneSCP(SlowSCP):
    """Slow, and answers A700 to one SOP instance."""

    def __init__(self, delay: float, refuse: str, **kwargs: object) -> None:
        super().__init__(delay, **kwargs)
        self.refuse = refuse

    def _store(self, sop_class: str, instance: str, syntax: str, calling: str) -> Any:
        if instance == self.refuse:
            raise OSError("refused by the test")  # the SCP answers A700
        return super()._store(sop_class, instance, syntax, calling)


def test_halt_reaches_the_other_tasks(full_client: Client, tmp_path: Path) -> None:
    paths = make_files(tmp_path / "in", 200)
    report = tmp_path / "report.jsonl"
    with RefuseOneSCP(0.02, "1.2.826.0.1.3680043.10.1234.3.53") as scp:  # index 52
        code, err = run_cli(
            [
                "--dask", full_client.scheduler.address, "--dask-partition", "50",
                "--report", str(report), "127.0.0.1", str(scp.port), *paths,
            ]
        )  # fmt: skip
    assert code == 0xA7, err  # as without a cluster: the failure status's high byte
    rows = read_rows(report)
    assert [row["path"] for row in rows] == paths
    outcomes = [row["outcome"] for row in rows]
    assert outcomes[52] == "failed-status"
    assert outcomes.count("failed-status") == 1
    assert set(outcomes[53:100]) == {"not-sent"}  # its own task halted at once
    assert set(outcomes[100:]) == {"not-sent"}  # never started
    # The task of partition 0, running alongside, halted too before its end.
    assert "not-sent" in outcomes[:50], outcomes[:50]
    assert outcomes[:50].count("sent") >= 1


def test_a_cluster_that_fails_under_the_run_leaves_a_complete_report(
    full_client: Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from storescu.run.cluster import ClusterSender

    calls = {"n": 0}
    receive = ClusterSender._receive

    def failing(self: ClusterSender) -> int:
        calls["n"] += 1
        if calls["n"] > 3:
            raise OSError("connection to the scheduler lost")
        return receive(self)

    monkeypatch.setattr(ClusterSender, "_receive", failing)
    paths = make_files(tmp_path / "in", 60)
    with SlowSCP(0.01) as scp:
        result = send_files(
            "127.0.0.1", scp.port, paths, client=full_client,
            cluster=ClusterOptions(partition_size=20),
        )  # fmt: skip
    assert [r.path for r in result.results] == paths
    assert result.network_failure and exit_code(result, halt=True) == ExitCode.NETWORK
    assert any("the Dask cluster failed" in (r.error or "") for r in result.results)
