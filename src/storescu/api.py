"""The Python API: send files or in-memory datasets, verify a peer.

Examples
--------
These examples run as they are (the test suite runs them): they send files
that ship with pydicom to the project's own receiver, :class:`storescu.StoreSCP`,
listening on a free loopback port. Put your PACS's host and port instead.

>>> import storescu
>>> from pydicom.data import get_testdata_file
>>> ct = get_testdata_file("CT_small.dcm")
>>> mr = get_testdata_file("MR_small.dcm")
>>> scp = storescu.StoreSCP().start()

Send files and read the result of each (one per file and ``repeat``):

>>> result = storescu.send_files("127.0.0.1", scp.port, [ct, mr])
>>> for r in result.results:
...     print(r.outcome.value, r.status_text, r.sop_class_uid, r.message_id)
sent Success 1.2.840.10008.5.1.4.1.1.2 1
sent Success 1.2.840.10008.5.1.4.1.1.4 2
>>> result.all_stored, result.count(storescu.Outcome.SENT)
(True, 2)

Failures are results, not exceptions. With ``halt=False`` (DCMTK's
``--no-halt``) the run goes on after a file that cannot be sent:

>>> options = storescu.SendOptions(halt=False)
>>> result = storescu.send_files("127.0.0.1", scp.port, ["no-such.dcm", ct], options=options)
>>> for r in result.results:
...     print(r.outcome.value, "|", r.error)
skipped-invalid-file | cannot access file: No such file or directory
sent | None
>>> result.all_stored
False

Send pydicom datasets held in memory (they need SOP Class and Instance UIDs;
``ds.file_meta.TransferSyntaxUID`` says how the pixel data is encoded, and
explicit VR little endian is assumed without it):

>>> from pydicom import dcmread
>>> ds = dcmread(ct)
>>> ds.PatientName = "ANON^EXAMPLE"
>>> result = storescu.send_datasets("127.0.0.1", scp.port, [ds])
>>> result.results[0].path, result.results[0].outcome.value
('<dataset 0>', 'sent')
>>> scp.received[-1].sop_instance_uid == ds.SOPInstanceUID
True

Write the per-file report as the run goes (JSON Lines; CSV for ``.csv``),
then resume from it: what it records as stored is skipped:

>>> import json, os, tempfile
>>> report_path = os.path.join(tempfile.mkdtemp(), "report.jsonl")
>>> with storescu.ReportWriter(report_path) as report:
...     result = storescu.send_files("127.0.0.1", scp.port, [ct], on_result=report)
>>> with open(report_path) as lines:
...     row = json.loads(lines.readline())
>>> row["outcome"], row["status"], row["sop_instance_uid"] == ds.SOPInstanceUID
('sent', '0x0000', True)
>>> result = storescu.send_files("127.0.0.1", scp.port, [ct, mr], skip_sent=[report_path])
>>> [r.outcome.value for r in result.results]
['skipped-already-sent', 'sent']

Directories are sent with ``inputs`` (DCMTK's ``+sd``, ``+sp``, ``+r``), and a
DICOMDIR stands for the files it references:

>>> inputs = storescu.InputOptions(scan_directories=True, pattern="CT_small*.dcm")
>>> folder = os.path.dirname(ct)
>>> result = storescu.send_files("127.0.0.1", scp.port, [folder], inputs=inputs)
>>> [os.path.basename(r.path) for r in result.results]
['CT_small.dcm']

Ask the archive to commit to what was stored (Storage Commitment, PS3.4
Annex J): the example's receiver is a Storage Commitment SCP too when told so.
Each stored result then says ``committed``, ``failed ...`` or ``unconfirmed``:

>>> archive = storescu.StoreSCP(commitment=storescu.CommitmentConfig()).start()
>>> commit = storescu.CommitmentOptions(timeout=10)
>>> result = storescu.send_files("127.0.0.1", archive.port, [ct, mr], commit=commit)
>>> [r.commitment for r in result.results]
['committed', 'committed']
>>> result.commitment.summary()
'Storage Commitment: 2 committed, 0 failed, 0 unconfirmed'

Check later, without resending, for any (SOP Class UID, SOP Instance UID):

>>> later = storescu.request_commitment(
...     "127.0.0.1", archive.port, [(ds.SOPClassUID, ds.SOPInstanceUID), ("1.2.3", "1.2.3.4")]
... )
>>> [c.text for c in later.results.values()]
['committed', 'failed 0x0112 no such object instance']
>>> archive.stop()

Check that a peer answers (C-ECHO), and stop the example's receiver:

>>> storescu.echo("127.0.0.1", scp.port).is_success
True
>>> scp.stop()
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from storescu.kernel.constants import (
    EXPLICIT_VR_LITTLE_ENDIAN,
    IMPLICIT_VR_LITTLE_ENDIAN,
    VERIFICATION_SOP_CLASS,
)
from storescu.kernel.records import replace
from storescu.net.client import AssociationSettings, StoreAssociation
from storescu.protocol.pdu import PresentationContextRQ
from storescu.protocol.status import Status
from storescu.run.factory import make_sender
from storescu.run.inputs import InputOptions, open_inputs
from storescu.run.items import _Item, dataset_items
from storescu.run.options import SendOptions
from storescu.run.results import CommitmentRun, FileResult, ResultCallback, RunResult

if TYPE_CHECKING:
    from distributed import Client
    from pydicom import Dataset

    from storescu.protocol.commitment import Reference
    from storescu.run.cluster import ClusterOptions
    from storescu.run.commitment import CommitmentOptions


def send_files(
    host: str,
    port: int,
    paths: Iterable[str],
    settings: AssociationSettings | None = None,
    options: SendOptions | None = None,
    on_result: ResultCallback | None = None,
    *,
    inputs: InputOptions | None = None,
    skip_sent: Iterable[str] = (),
    commit: CommitmentOptions | None = None,
    client: Client | None = None,
    cluster: ClusterOptions | None = None,
    compress: str | None = None,
) -> RunResult:
    """Send DICOM files with C-STORE, exactly as the ``storescu`` command does.

    Parameters
    ----------
    host, port : str, int
        The Storage SCP.
    paths : iterable of str
        The files, sent in order; read lazily, so it may be a generator over
        millions of paths. A DICOMDIR stands for the files it references.
    settings : AssociationSettings, optional
        AE titles, PDU sizes and timeouts (DCMTK's defaults when omitted).
    options : SendOptions, optional
        Proposal, repeat, halt and ending options.
    on_result : callable, optional
        Called with each :class:`~storescu.run.results.FileResult` as it is known
        (a :class:`~storescu.run.report.ReportWriter` writes the report).
    inputs : InputOptions, optional
        Directory scanning (``+sd``, ``+sp``, ``+r``); without it a directory
        is reported as skipped, with a warning.
    skip_sent : iterable of str
        Reports of earlier runs: files they record as stored are not sent
        again (results: skipped-already-sent). With `commit`, only files
        they record as committed.
    commit : CommitmentOptions, optional
        After sending, request Storage Commitment for every instance stored
        (PS3.4 Annex J): each stored result's ``commitment`` is then
        ``committed``, ``failed 0x.... reason`` or ``unconfirmed``, and
        ``RunResult.commitment`` holds the whole answer.
    client : distributed.Client, optional
        Send on this Dask cluster instead of from this process (the
        ``storescu[dask]`` extra): the paths are cut into partitions, each
        sent by a task on a worker with the same options (``--dask``; see
        :mod:`storescu.run.cluster`). The workers must see the paths as
        given. Results arrive in input order, as without a cluster.
    cluster : ClusterOptions, optional
        With `client`: partition size and the bound on associations across
        the cluster (:class:`storescu.run.cluster.ClusterOptions`).
    compress : str, optional
        ``--compress`` (``"jpeg-ls"``, ``"j2k"``, ``"htj2k"``, ``"rle"``, ``"deflate"``,
        ``"auto"``), over ``options.compress``: see :mod:`storescu.run.compressing`.

    Returns
    -------
    RunResult
        One :class:`~storescu.run.results.FileResult` per attempted send, plus the
        run-level facts (``fatal``, ``halted``...). Failures are data: this
        function does not raise for network, protocol or status failures.

    Raises
    ------
    storescu.run.report.ReportError
        A `skip_sent` report cannot be read.
    storescu.kernel.errors.UsageError
        `compress`'s encoder is missing (before any association; names the extra).
    """
    opts = _compressing(options or SendOptions(), compress)
    sent = None
    reports = [skip_sent] if isinstance(skip_sent, str) else list(skip_sent)
    if reports:
        from storescu.run.report import SentIndex

        sent = SentIndex(reports, committed_only=commit is not None)
    items = open_inputs(paths, read_mode=opts.read_mode, options=inputs, sent=sent)
    settings = settings or AssociationSettings()
    if commit is None:
        return _run(items, host, port, settings, opts, on_result, client, cluster)
    from storescu.run.commitment import StoredCollector, request_commitment

    collector = StoredCollector()

    def observe(result: FileResult) -> None:
        collector(result)
        if on_result is not None:
            on_result(result)

    run = _run(items, host, port, settings, opts, observe, client, cluster)
    run.commitment = request_commitment(
        host, port, collector.references, settings, commit, opts.family
    )
    found = run.commitment.by_instance()
    for result in run.results:
        if result.sop_instance_uid in found and result.outcome.stored:
            result.commitment = found[result.sop_instance_uid].text
    return run


def _run(
    items: Iterable[_Item],
    host: str,
    port: int,
    settings: AssociationSettings,
    options: SendOptions,
    on_result: ResultCallback | None,
    client: Client | None,
    cluster: ClusterOptions | None,
) -> RunResult:
    """The run from this process, or as tasks on the Dask cluster of `client`."""
    if client is None:
        return make_sender(host, port, settings, options, on_result).run(items)
    from storescu.run.cluster import ClusterSender  # imports dask: only when asked

    sender = ClusterSender(client, host, port, settings, options, on_result, cluster=cluster)
    return sender.run(items)


def _compressing(options: SendOptions, compress: str | None) -> SendOptions:
    """`options` with `compress` set, its encoders checked (UsageError before any association)."""
    if compress is not None:
        options = replace(options, compress=compress)
    if options.compress is not None:
        from storescu.run.compressing import check_encoders

        check_encoders(options.compress)
    return options


def request_commitment(
    host: str,
    port: int,
    references: Iterable[Reference],
    settings: AssociationSettings | None = None,
    options: CommitmentOptions | None = None,
) -> CommitmentRun:
    """Request Storage Commitment for (SOP Class UID, SOP Instance UID) pairs (PS3.4 J).

    One N-ACTION-RQ per ``options.batch_size`` instances; the reports are
    awaited on the association, or on ``options.listen_port`` where the
    archive calls back, until ``options.timeout``.

    Returns
    -------
    CommitmentRun
        ``results[(class, instance)]`` is a commitment whose ``state`` is
        ``committed``, ``failed`` (``reason``: the PS3.3 C.14.1.1 code) or
        ``unconfirmed``. Network failures are data here too (``error``).

    Raises
    ------
    storescu.kernel.errors.TransportError
        ``options.listen_port`` cannot be opened.
    """
    from storescu.run.commitment import request_commitment as request

    return request(host, port, references, settings or AssociationSettings(), options)


def send_datasets(
    host: str,
    port: int,
    datasets: Iterable[Dataset],
    settings: AssociationSettings | None = None,
    options: SendOptions | None = None,
    on_result: ResultCallback | None = None,
    *,
    compress: str | None = None,
) -> RunResult:
    """Send in-memory pydicom datasets with C-STORE.

    Each dataset is encoded when it is sent, in the transfer syntax the peer
    accepted. Results name the datasets ``<dataset N>`` in input order.
    See :func:`send_files` for the parameters (`compress` too) and the result.
    """
    opts = _compressing(options or SendOptions(), compress)
    sender = make_sender(host, port, settings or AssociationSettings(), opts, on_result)
    return sender.run(dataset_items(datasets))


def echo(
    host: str, port: int, settings: AssociationSettings | None = None, family: int = 0
) -> Status:
    """Verify a peer with C-ECHO (PS3.7 9.1.5) and return its status.

    Raises
    ------
    storescu.kernel.errors.StorescuError
        The association failed (rejected, refused, timed out...).
    """
    context = PresentationContextRQ(
        1, VERIFICATION_SOP_CLASS, (EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN)
    )
    assoc = StoreAssociation.open(host, port, (context,), settings or AssociationSettings(), family)
    try:
        status = assoc.echo()
    except BaseException:
        assoc.abort()
        raise
    assoc.release()
    return status
