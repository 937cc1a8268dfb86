"""Invented identities (``+II``/``+IR``/``+IS``/``+IP``): DCMTK's counters and new UIDs.

Theory of operation
-------------------
:class:`Inventor` holds the counters of one run (they go on across files and
across ``--repeat``) and makes an :class:`Identity` for each C-STORE;
:class:`storescu.dataset.rewrite.Rewriter` writes its elements into the
dataset. No pydicom here.

Invented identities (``+II``) follow DCMTK storescu's
``replaceSOPInstanceInformation`` (dcmnet/apps/storescu.cc; unchanged from
the 2010 sources to the 2024 ones):
four counters (patient, study, series, image) start at 0; before each send,
an image counter that reached the ``+IR`` count starts a new series, a series
counter that reached ``+IS`` a new study, a study counter that reached ``+IP``
a new patient. ``+II`` alone therefore also replaces PatientName, PatientID,
the Study and Series Instance UIDs, StudyID and SeriesNumber, with the default
counts 100 / 50 / 25. Values: PatientName ``OFFIS^TEST_PN_<seconds><patient>``,
PatientID ``PID_<seconds><patient>``, StudyID ``SID_<seconds><study>``,
SeriesNumber the series counter, InstanceNumber the image counter (both from
0, as DCMTK), where ``<seconds>`` is the time (seconds since 1970) when the
value was made. Deliberate differences, each for a reason:

* Invented UIDs are the UID root (``--uid-root``, default pydicom's
  ``1.2.826.0.1.3680043.8.498.``) followed by random decimal digits (a UUID4,
  PS3.5 B.2 style), at most 64 characters with room left for ``--uid-suffix``.
  DCMTK uses its own site root, the counter, host id, process id and time.
* AccessionNumber is written too (``<seconds><study>``). DCMTK computes it
  and never stores it, so every invented study kept the original accession
  number, which PACS use to merge studies.
* StudyID and AccessionNumber count the studies of the whole run. DCMTK uses
  the study counter, which restarts with each patient, so two patients could
  get the same accession number within one second.
* SeriesNumber restarts at 0 in each study. DCMTK leaves the first series of
  every study after the first with the number the counter had before it was
  reset (the ``+IS`` count).
* StudyID and AccessionNumber are SH, at most 16 characters (PS3.5 6.2): the
  leading digits of ``<seconds>`` are dropped when needed. DCMTK writes 17
  characters and more from the 100th study on.
* Missing attributes are added. DCMTK only replaces attributes the dataset
  already has, and logs an error for each missing one.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from storescu.dataset.rewriteopts import RewriteOptions

__all__ = ["Identity", "Inventor"]

log = logging.getLogger("storescu")

# DCMTK storescu's prefixes (storescu.cc: patientNamePrefix, patientIDPrefix,
# studyIDPrefix; accessionNumberPrefix is empty).
PATIENT_NAME_PREFIX: Final = "OFFIS^TEST_PN_"
PATIENT_ID_PREFIX: Final = "PID_"
STUDY_ID_PREFIX: Final = "SID_"
ACCESSION_NUMBER_PREFIX: Final = ""

_SOP_INSTANCE_UID: Final = 0x00080018
_ACCESSION_NUMBER: Final = 0x00080050
_PATIENT_NAME: Final = 0x00100010
_PATIENT_ID: Final = 0x00100020
_STUDY_INSTANCE_UID: Final = 0x0020000D
_SERIES_INSTANCE_UID: Final = 0x0020000E
_STUDY_ID: Final = 0x00200010
_SERIES_NUMBER: Final = 0x00200011
_INSTANCE_NUMBER: Final = 0x00200013


# ----------------------------------------------------------------- invented identity


@dataclass(frozen=True, slots=True)
class Identity:
    """The identifying information invented for one C-STORE (``+II``).

    The counters are DCMTK's (``pa``, ``st``, ``se``, ``im`` in its log line);
    `study_ordinal` counts the studies of the whole run.
    """

    patient: int
    study: int
    series: int
    image: int
    study_ordinal: int
    patient_name: str
    patient_id: str
    study_instance_uid: str
    study_id: str
    accession_number: str
    series_instance_uid: str
    series_number: str
    sop_instance_uid: str
    instance_number: str

    def elements(self) -> tuple[tuple[int, str, str], ...]:
        """(tag, VR, value) of each attribute to write."""
        return (
            (_PATIENT_NAME, "PN", self.patient_name),
            (_PATIENT_ID, "LO", self.patient_id),
            (_STUDY_INSTANCE_UID, "UI", self.study_instance_uid),
            (_STUDY_ID, "SH", self.study_id),
            (_ACCESSION_NUMBER, "SH", self.accession_number),
            (_SERIES_INSTANCE_UID, "UI", self.series_instance_uid),
            (_SERIES_NUMBER, "IS", self.series_number),
            (_SOP_INSTANCE_UID, "UI", self.sop_instance_uid),
            (_INSTANCE_NUMBER, "IS", self.instance_number),
        )

    def log(self) -> None:
        """Log it at INFO (``-v``) in DCMTK's words, plus AccessionNumber."""
        log.info(
            "Inventing Identifying Information (pa%d, st%d, se%d, im%d):",
            self.patient,
            self.study,
            self.series,
            self.image,
        )
        log.info("  PatientName=%s", self.patient_name)
        log.info("  PatientID=%s", self.patient_id)
        log.info("  StudyInstanceUID=%s", self.study_instance_uid)
        log.info("  StudyID=%s", self.study_id)
        log.info("  AccessionNumber=%s", self.accession_number)
        log.info("  SeriesInstanceUID=%s", self.series_instance_uid)
        log.info("  SeriesNumber=%s", self.series_number)
        log.info("  SOPInstanceUID=%s", self.sop_instance_uid)
        log.info("  ImageNumber=%s", self.instance_number)


def _stamp(prefix: str, seconds: int, counter: int, limit: int) -> str:
    """``prefix + seconds + counter`` in at most `limit` characters (leading seconds digits go)."""
    count = str(counter)
    stamp = str(seconds)
    room = max(limit - len(prefix) - len(count), 0)
    return prefix + stamp[max(len(stamp) - room, 0) :] + count


class Inventor:
    """DCMTK's identity counters for one run (see the module docstring).

    Parameters
    ----------
    options : RewriteOptions
        The counts, UID root and suffix (room is left for the suffix).
    clock : callable
        Seconds since 1970 (injectable for tests).
    random_digits : callable
        A string of random decimal digits not starting with 0 (injectable).
    """

    def __init__(
        self,
        options: RewriteOptions,
        *,
        clock: Callable[[], float] = time.time,
        random_digits: Callable[[], str] = lambda: str(uuid.uuid4().int),
    ) -> None:
        self.options = options
        self._clock = clock
        self._random = random_digits
        self._patient = self._study = self._series = self._image = 0
        self._studies = 0  # studies started in the run, for StudyID / AccessionNumber
        self._started = False
        self._patient_name = self._patient_id = ""
        self._study_uid = self._study_id = self._accession = self._series_uid = ""

    def new_uid(self) -> str:
        """A fresh UID: the root and random digits, leaving room for the suffix."""
        digits = self._random()
        while len(digits) < self.options.unique_digits:
            digits += self._random()
        return self.options.uid_root + digits[: self.options.unique_digits]

    def _new_patient(self) -> None:
        seconds = int(self._clock())
        # PN and LO: at most 64 characters (PS3.5 6.2).
        self._patient_name = _stamp(PATIENT_NAME_PREFIX, seconds, self._patient, 64)
        self._patient_id = _stamp(PATIENT_ID_PREFIX, seconds, self._patient, 64)

    def _new_study(self) -> None:
        seconds = int(self._clock())
        self._study_uid = self.new_uid()
        # SH: at most 16 characters (PS3.5 6.2).
        self._study_id = _stamp(STUDY_ID_PREFIX, seconds, self._studies, 16)
        self._accession = _stamp(ACCESSION_NUMBER_PREFIX, seconds, self._studies, 16)

    def next(self) -> Identity:
        """Advance the counters for one more image and return its identity."""
        opts = self.options
        if not self._started:
            self._started = True
            self._new_patient()
            self._new_study()
            self._series_uid = self.new_uid()
        if self._image >= opts.images_per_series:
            self._image = 0
            self._series += 1
            self._series_uid = self.new_uid()
        if self._series >= opts.series_per_study:
            self._series = 0
            self._study += 1
            self._studies += 1
            self._new_study()
        if self._study >= opts.studies_per_patient:
            self._study = 0
            self._patient += 1
            self._new_patient()
        identity = Identity(
            patient=self._patient,
            study=self._study,
            series=self._series,
            image=self._image,
            study_ordinal=self._studies,
            patient_name=self._patient_name,
            patient_id=self._patient_id,
            study_instance_uid=self._study_uid,
            study_id=self._study_id,
            accession_number=self._accession,
            series_instance_uid=self._series_uid,
            series_number=str(self._series),
            sop_instance_uid=self.new_uid(),
            instance_number=str(self._image),
        )
        self._image += 1
        return identity
