"""The Python API: send files or in-memory datasets, verify a peer.

Examples
--------
Send files and look at each result::

    import storescu

    result = storescu.send_files("127.0.0.1", 11112, ["ct1.dcm", "ct2.dcm"])
    for r in result.results:
        print(r.path, r.outcome.value, r.status_text)

Send pydicom datasets held in memory (they need SOP Class/Instance UIDs;
``ds.file_meta.TransferSyntaxUID`` says how the pixel data is encoded, explicit
VR little endian is assumed without it)::

    from pydicom import dcmread
    ds = dcmread("ct1.dcm")
    ds.PatientName = "ANON"
    storescu.send_datasets("127.0.0.1", 11112, [ds])

Check that a peer answers (C-ECHO)::

    status = storescu.echo("127.0.0.1", 11112)
    assert status.is_success
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from storescu.client import AssociationSettings, StoreAssociation
from storescu.constants import (
    EXPLICIT_VR_LITTLE_ENDIAN,
    IMPLICIT_VR_LITTLE_ENDIAN,
    VERIFICATION_SOP_CLASS,
)
from storescu.pdu import PresentationContextRQ
from storescu.sender import (
    ResultCallback,
    RunResult,
    Sender,
    SendOptions,
    dataset_items,
    inspect_inputs,
)
from storescu.status import Status

if TYPE_CHECKING:
    from pydicom import Dataset


def send_files(
    host: str,
    port: int,
    paths: Iterable[str],
    settings: AssociationSettings | None = None,
    options: SendOptions | None = None,
    on_result: ResultCallback | None = None,
) -> RunResult:
    """Send DICOM files with C-STORE, exactly as the ``storescu`` command does.

    Parameters
    ----------
    host, port : str, int
        The Storage SCP.
    paths : iterable of str
        The files, sent in order.
    settings : AssociationSettings, optional
        AE titles, PDU sizes and timeouts (DCMTK's defaults when omitted).
    options : SendOptions, optional
        Proposal, repeat, halt and ending options.
    on_result : callable, optional
        Called with each :class:`~storescu.sender.FileResult` as it is known.

    Returns
    -------
    RunResult
        One :class:`~storescu.sender.FileResult` per attempted send, plus the
        run-level facts (``fatal``, ``halted``...). Failures are data: this
        function does not raise for network, protocol or status failures.
    """
    opts = options or SendOptions()
    items = inspect_inputs(paths, opts.read_mode)
    sender = Sender(host, port, settings or AssociationSettings(), opts, on_result)
    return sender.run(items)


def send_datasets(
    host: str,
    port: int,
    datasets: Iterable[Dataset],
    settings: AssociationSettings | None = None,
    options: SendOptions | None = None,
    on_result: ResultCallback | None = None,
) -> RunResult:
    """Send in-memory pydicom datasets with C-STORE.

    Each dataset is encoded when it is sent, in the transfer syntax the peer
    accepted. Results name the datasets ``<dataset N>`` in input order.
    See :func:`send_files` for the parameters and the result.
    """
    sender = Sender(
        host, port, settings or AssociationSettings(), options or SendOptions(), on_result
    )
    return sender.run(dataset_items(datasets))


def echo(host: str, port: int, settings: AssociationSettings | None = None) -> Status:
    """Verify a peer with C-ECHO (PS3.7 9.1.5) and return its status.

    Raises
    ------
    storescu.errors.StorescuError
        The association failed (rejected, refused, timed out...).
    """
    context = PresentationContextRQ(
        1, VERIFICATION_SOP_CLASS, (EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN)
    )
    assoc = StoreAssociation.open(host, port, (context,), settings or AssociationSettings())
    try:
        status = assoc.echo()
    except BaseException:
        assoc.abort()
        raise
    assoc.release()
    return status
