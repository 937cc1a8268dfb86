"""Conversions beyond the plain path: decompression, deflate level, old VRs.

The sender's plain path (:meth:`storescu.run.items._Item.open`) streams a file
in its own syntax or converts between the uncompressed syntaxes. This module
takes over when the run asks for more (:meth:`Conversion.special`):

* the file is compressed (encapsulated, PS3.5 A.4) and the peer accepted its
  class only in another syntax: decompress it (:mod:`storescu.dataset.decompress`,
  lossless by default, lossy with ``+dly``, never with ``-dn``) -- completely,
  in memory, before any byte of it is sent -- or refuse it with the reason;
* the dataset goes out deflated (PS3.5 A.5) at a ``+cl`` level other than
  zlib's default 6;
* ``-u``: post-1993 VRs are written as OB in explicit VR (as DCMTK's
  ``dcmDisableGenerationOfNewVRs``), which needs re-encoding.

Importing this module is cheap; pydicom and the codecs load only when a
conversion really runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from storescu.kernel.constants import (
    DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN,
    EXPLICIT_VR_LITTLE_ENDIAN,
    IMPLICIT_VR_LITTLE_ENDIAN,
    transfer_syntax_name,
)
from storescu.kernel.errors import ConversionError, UsageError
from storescu.kernel.records import dataclass, replace
from storescu.kernel.syntaxes import is_encapsulated

if TYPE_CHECKING:
    from pydicom.dataset import Dataset

    from storescu.dataset.inspection import FileInfo
    from storescu.dataset.readers import DatasetReader
    from storescu.dataset.rewrite import Rewriter

__all__ = ["DECOMPRESS_MODES", "DEFAULT_DEFLATE_LEVEL", "DEFAULT_MAX_DECODED", "Conversion"]

#: ``-dn`` / ``+dls`` (default) / ``+dly``, as DCMTK's dcmsend.
DECOMPRESS_MODES: Final = ("never", "lossless", "lossy")
#: zlib's default level, which DCMTK uses without ``+cl``.
DEFAULT_DEFLATE_LEVEL: Final = 6
#: Decoded pixel data larger than this is not decompressed (it is held in memory).
DEFAULT_MAX_DECODED: Final = 1024**3


@dataclass(frozen=True, slots=True)
class Conversion:
    """How datasets may be converted for sending.

    Parameters
    ----------
    decompress : {"never", "lossless", "lossy"}
        Which compressed files may be decompressed when the peer did not
        accept their syntax: none (``-dn``), losslessly compressed ones
        (``+dls``, the default) or all (``+dly``).
    deflate_level : int
        zlib level 0..9 for deflated datasets (``+cl``).
    new_vrs : bool
        False (``-u``): write UN, UT, OF, OD, OL, UC, UR, OV, SV and UV as OB
        in explicit VR, for receivers older than those VRs.
    max_decoded : int
        Largest decoded pixel data, in bytes, that decompression may produce.
    """

    decompress: str = "lossless"
    deflate_level: int = DEFAULT_DEFLATE_LEVEL
    new_vrs: bool = True
    max_decoded: int = DEFAULT_MAX_DECODED

    def __post_init__(self) -> None:
        if self.decompress not in DECOMPRESS_MODES:
            raise UsageError(f"unknown decompression mode {self.decompress!r}")
        if not 0 <= self.deflate_level <= 9:
            raise UsageError(f"deflate level {self.deflate_level} is not in 0..9")
        if self.max_decoded < 0:
            raise UsageError("the decompression limit must not be negative")

    def special(self, own_ts: str, target_ts: str) -> bool:
        """True when sending `own_ts` data as `target_ts` needs :meth:`open`.

        Cheap: the sender asks for every file.
        """
        if own_ts != target_ts and is_encapsulated(own_ts):
            return True
        if (
            target_ts == DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN
            and own_ts != target_ts
            and self.deflate_level != DEFAULT_DEFLATE_LEVEL
        ):
            return True
        return not self.new_vrs and target_ts != IMPLICIT_VR_LITTLE_ENDIAN

    def open(
        self,
        info: FileInfo,
        dataset: Dataset | None,
        target_ts: str,
        rewriter: Rewriter | None = None,
        send: int = 0,
    ) -> tuple[DatasetReader, str]:
        """The dataset of an input encoded in `target_ts`, and the SOP Instance UID to send.

        Everything (decoding included) happens here, before the caller sends
        any byte.

        Raises
        ------
        ConversionError
            It cannot be converted (no decoder, lossy not allowed, too large,
            undecodable, compressed to another compressed syntax...).
        RewriteError, FileAccessError, InvalidFileError
            As for the plain path.
        """
        from storescu.dataset import transcode
        from storescu.dataset.readers import MemoryDatasetReader

        own_ts = info.transfer_syntax
        level, old_vrs = self.deflate_level, not self.new_vrs
        if own_ts != target_ts and is_encapsulated(own_ts):
            if is_encapsulated(target_ts):
                raise ConversionError(
                    f"cannot convert from '{transfer_syntax_name(own_ts)}' to "
                    f"'{transfer_syntax_name(target_ts)}' (compressing is not supported)"
                )
            from storescu.dataset import decompress

            dataset = decompress.decompressed(
                info, dataset, self.decompress, self.max_decoded, target_ts
            )
            info = replace(info, transfer_syntax=EXPLICIT_VR_LITTLE_ENDIAN)
        if rewriter is not None:
            return rewriter.open(
                info, dataset, target_ts, send, deflate_level=level, old_vrs=old_vrs
            )
        if dataset is not None:
            data = transcode.encode_dataset(
                dataset, target_ts, deflate_level=level, old_vrs=old_vrs
            )
            return MemoryDatasetReader(data), info.sop_instance_uid
        ds, current = transcode.read_deferred(info)
        parts = transcode.encode_parts(
            ds,
            current.transfer_syntax,
            target_ts,
            current.path,
            deflate_level=level,
            old_vrs=old_vrs,
        )
        return transcode.PartsReader(parts), info.sop_instance_uid
