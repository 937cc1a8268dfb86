"""A pynetdicom Storage SCP that is also a Storage Commitment SCP (test-only peer).

It stores nothing on disk: it remembers the SOP Instance UIDs it received and,
on an N-ACTION-RQ, answers N-ACTION-RSP and sends the N-EVENT-REPORT-RQ on the
same association (PS3.4 J.3.3.1.2), committing what it received and failing
the rest with 0x0112 (no such object instance), or the instances in ``fail``
with 0x0110.
"""

from __future__ import annotations

import threading
from typing import Any

from pydicom.dataset import Dataset
from pynetdicom import AE, AllStoragePresentationContexts, evt
from pynetdicom.sop_class import StorageCommitmentPushModel  # type: ignore[attr-defined]

COMMIT_CLASS = "1.2.840.10008.1.20.1"
COMMIT_INSTANCE = "1.2.840.10008.1.20.1.1"


class PynetdicomCommitSCP:
    """pynetdicom SCP answering Storage Commitment on the same association."""

    def __init__(self, fail: frozenset[str] = frozenset(), report: bool = True) -> None:
        self.fail = fail
        self.report = report
        self.stored: set[str] = set()
        self.actions: list[Dataset] = []
        self.report_statuses: list[int] = []
        self._lock = threading.Lock()
        ae = AE(ae_title="COMMITSCP")
        for context in AllStoragePresentationContexts:
            ae.add_supported_context(context.abstract_syntax)
        ae.add_supported_context(StorageCommitmentPushModel)
        handlers = [(evt.EVT_C_STORE, self._on_store), (evt.EVT_N_ACTION, self._on_action)]
        self.server = ae.start_server(("127.0.0.1", 0), block=False, evt_handlers=handlers)
        self.port: int = self.server.server_address[1]

    def _on_store(self, event: Any) -> int:
        with self._lock:
            self.stored.add(str(event.request.AffectedSOPInstanceUID))
        return 0x0000

    def _on_action(self, event: Any) -> tuple[int, None]:
        request = event.action_information
        self.actions.append(request)
        if self.report:
            # The report goes out before the N-ACTION-RSP (the handler has not
            # returned yet): the SCU must answer it while awaiting the RSP.
            result = Dataset()
            result.TransactionUID = request.TransactionUID
            committed, failed = [], []
            for item in request.ReferencedSOPSequence:
                ref = Dataset()
                ref.ReferencedSOPClassUID = item.ReferencedSOPClassUID
                ref.ReferencedSOPInstanceUID = item.ReferencedSOPInstanceUID
                uid = str(item.ReferencedSOPInstanceUID)
                if uid in self.fail:
                    ref.FailureReason = 0x0110
                    failed.append(ref)
                elif uid not in self.stored:
                    ref.FailureReason = 0x0112
                    failed.append(ref)
                else:
                    committed.append(ref)
            if committed:
                result.ReferencedSOPSequence = committed
            if failed:
                result.FailedSOPSequence = failed
            status, _ = event.assoc.send_n_event_report(
                result, 2 if failed else 1, COMMIT_CLASS, COMMIT_INSTANCE
            )
            self.report_statuses.append(int(getattr(status, "Status", -1)))
        return 0x0000, None

    def stop(self) -> None:
        self.server.shutdown()
