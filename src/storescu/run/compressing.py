"""``--compress``: lossless compression while sending, wired into the run.

Theory of operation
-------------------
*Proposal.* :func:`compress_contexts` gives the syntax lists the planner
(:mod:`storescu.protocol.planning`, ``ProposalSpec.compress``) proposes for
every SOP class that has an input in a native (not encapsulated) syntax, in
contexts of their own after the class's usual ones: one context for the
chosen codec; for ``auto`` one context per pixel codec this machine has
(an acceptor answers each context with one syntax of its choice, PS3.8
9.3.2.2, so one context listing them all would let the peer pick the codec;
separate contexts let ``auto`` pick per file among all the peer accepts, at
the price of more contexts, which the planner spreads over associations when
they pass 128). The uncompressed contexts stay, so a peer that refuses the
compressed ones still gets every file. ``deflate`` proposes Deflated Explicit
VR Little Endian (PS3.5 A.5), for objects without pixel data too, and is
chosen as ``-xd`` is (``storescu.protocol.negotiation.AcceptedContexts.select``).

*Selection.* :meth:`Compressing.open` runs for each send of an input before
the ordinary context choice: a native input whose class the peer accepted in
one of the run's pixel codecs is encoded by
``storescu.dataset.compress.open_compressed`` (verified frame by frame
unless ``--no-verify-compression``); rewriting is applied to the pydicom
dataset first. When it cannot be carried exactly (``NotCompressed``, raised
before any byte is produced), when the peer refused the compressed context
or ``auto`` finds that compressing would not make it arrive sooner, the same
input goes through the ordinary uncompressed context, and the reason is
logged at ``-v`` and kept for the report's ``compression`` column. Files
already compressed go as they are (never decompressed and compressed again).

*A failure mid-message.* A large multi-frame object is streamed (length
unknown) and a later frame may fail verification after earlier bytes went
out (``VerificationFailed``): the client aborts the association (PS3.8 7.3:
the message cannot be completed, so the peer cannot have stored it), and
the sender sends that input again, uncompressed, on a new association
(:meth:`Compressing.midway`). It is never an error and never counted twice.
"""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

from storescu.kernel.constants import sop_class_name, transfer_syntax_name
from storescu.kernel.errors import (
    ConversionError,
    RewriteError,
    SourceError,
    StorescuError,
    UsageError,
)
from storescu.kernel.syntaxes import (
    HTJ2K_LOSSLESS,
    JPEG2000_LOSSLESS,
    JPEG_LS_LOSSLESS,
    RLE_LOSSLESS,
    is_encapsulated,
)

if TYPE_CHECKING:
    from pydicom import Dataset

    from storescu.dataset.rewrite import Rewriter
    from storescu.protocol.negotiation import AcceptedContext, AcceptedContexts
    from storescu.run.items import Reader, _Item
    from storescu.run.options import SendOptions
    from storescu.run.results import FileResult

__all__ = [
    "CHOICES",
    "PIXEL_SYNTAXES",
    "Compressing",
    "check_encoders",
    "compress_contexts",
    "compressing_for",
]

log = logging.getLogger("storescu")

#: The pixel codecs and their lossless transfer syntaxes (PS3.5 A.4.3, A.4.4,
#: A.4.2, A.4.11); the same table as :data:`storescu.dataset.compress.CODEC_SYNTAXES`.
PIXEL_SYNTAXES: Final[Mapping[str, str]] = {
    "jpeg-ls": JPEG_LS_LOSSLESS,
    "j2k": JPEG2000_LOSSLESS,
    "htj2k": HTJ2K_LOSSLESS,
    "rle": RLE_LOSSLESS,
}
#: ``--compress`` values, in the order ``--help`` lists them.
CHOICES: Final = (*PIXEL_SYNTAXES, "deflate", "auto")


def check_encoders(codec: str) -> None:
    """Stop before any association when `codec` cannot be used here.

    Raises
    ------
    UsageError
        Not a known codec, or its encoder (or verifying decoder) is missing:
        the message names the extra to install.
    """
    if codec not in CHOICES:
        raise UsageError(f"--compress {codec}: expected one of {', '.join(CHOICES)}")
    if codec == "deflate":
        return  # zlib: always here
    import storescu.dataset.compress as compress

    missing = compress.missing_encoders(codec)
    if missing is not None:
        raise UsageError(missing)


def _codecs(codec: str) -> tuple[str, ...]:
    """The pixel codecs a run with ``--compress codec`` may use, in preference order."""
    if codec == "deflate":
        return ()
    if codec != "auto":
        return (codec,)
    import storescu.dataset.compress as compress

    return tuple(c for c in compress.available_codecs() if c in PIXEL_SYNTAXES)


def compress_contexts(codec: str | None) -> tuple[tuple[str, ...], ...]:
    """The syntax lists proposed, one context each, for a class with native inputs."""
    if codec is None:
        return ()
    if codec == "deflate":
        from storescu.kernel.constants import DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN

        return ((DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN,),)
    return tuple((PIXEL_SYNTAXES[c],) for c in _codecs(codec))


def compressing_for(options: SendOptions) -> Compressing | None:
    """The run's pixel compression, or None (no ``--compress``, or ``deflate``).

    Raises
    ------
    UsageError
        ``options.compress`` is not one of ``CHOICES``.
    """
    codec = options.compress
    if codec is not None and codec not in CHOICES:
        raise UsageError(f"--compress {codec}: expected one of {', '.join(CHOICES)}")
    if codec is None or codec == "deflate":
        return None
    return Compressing(codec, _codecs(codec), options.verify_compression)


class Compressing:
    """Chooses, per send, whether an input goes compressed, and opens it so.

    Parameters
    ----------
    codec : str
        ``--compress``'s value (a pixel codec or ``auto``).
    codecs : tuple of str
        The pixel codecs proposed, in preference order.
    verify : bool
        Decode and compare every frame (``--no-verify-compression``: False).
    """

    def __init__(self, codec: str, codecs: Sequence[str], verify: bool = True) -> None:
        self.codec = codec
        self.codecs = tuple(codecs)
        self.verify = verify
        self.auto: Any = None
        #: Seconds spent encoding before a compressed dataset's first byte, by path.
        self._encoding: dict[str, float] = {}
        if codec == "auto":
            from storescu.run.autocompress import AutoCompress

            self.auto = AutoCompress(self.codecs)

    def open(
        self, item: _Item, accepted: AcceptedContexts, rewriter: Rewriter | None, send: int
    ) -> tuple[AcceptedContext, Reader, str] | None:
        """The compressed context, reader and SOP Instance UID for one send of `item`.

        None when the input goes the ordinary way: already compressed, no
        compressed context accepted, ``auto`` says no, the codec cannot carry
        it exactly (the reason is then in ``item.compression``), or it cannot
        be read or rewritten (the ordinary path reports that as it does).
        """
        info = item.info
        assert info is not None
        if item.plain:
            return None  # failed midway before: uncompressed from now on, the reason kept
        item.compression = None
        if is_encapsulated(info.transfer_syntax):
            return None  # sent as it is: never decompressed and compressed again
        offered = [
            (codec, context)
            for codec in self.codecs
            if (context := accepted.context_for(info.sop_class_uid, PIXEL_SYNTAXES[codec]))
            is not None
        ]
        if not offered:
            self._not_compressed(item, self._refused(info.sop_class_uid))
            return None
        codec, context = offered[0]
        if self.auto is not None:
            choice, why = self.auto.choose(_native_bytes(item), [c for c, _ in offered])
            log.info("%s: --compress auto: %s", item.path, why)
            if choice is None:
                item.compression = f"auto: {why}"
                return None
            codec, context = next(pair for pair in offered if pair[0] == choice)
        try:
            reader, instance = self._encode(item, rewriter, send, context.transfer_syntax)
        except (SourceError, RewriteError) as exc:
            log.debug("%s: not compressed: %s", item.path, exc)
            return None  # the ordinary path reports it (skipped, or not sent)
        except ConversionError as exc:  # NotCompressed: before any byte was produced
            self._not_compressed(item, getattr(exc, "reason", None) or str(exc))
            return None
        return context, _Watched(reader, item, self, codec), instance

    def _refused(self, sop_class_uid: str) -> str:
        names = " or ".join(f"'{transfer_syntax_name(PIXEL_SYNTAXES[c])}'" for c in self.codecs)
        return f"the peer did not accept {sop_class_name(sop_class_uid)} as {names}"

    @staticmethod
    def _not_compressed(item: _Item, reason: str) -> None:
        log.info("%s: sent uncompressed: %s", item.path, reason)
        item.compression = reason

    def _encode(
        self, item: _Item, rewriter: Rewriter | None, send: int, target: str
    ) -> tuple[Any, str]:
        """The compressed reader (rewritten first when asked) and the instance UID."""
        import storescu.dataset.compress as compress

        info = item.info
        assert info is not None
        dataset: Dataset | None = item.dataset
        instance = info.sop_instance_uid
        if rewriter is not None:
            dataset = _rewritten(item, rewriter, send)
            instance = str(dataset.get("SOPInstanceUID", "") or "").strip("\x00 ") or instance
        item.data = None  # the compressed path reads the file itself
        started = time.perf_counter()
        reader = compress.open_compressed(info, dataset, target, verify=self.verify)
        self._encoding[item.path] = time.perf_counter() - started
        return reader, instance

    # ------------------------------------------------------ after the send

    @staticmethod
    def midway(item: _Item) -> bool:
        """True once per failure: `item`'s compressed message was aborted midway.

        The sender then sends it again, uncompressed, on a new association.
        """
        failed, item.failed_midway = item.failed_midway, False
        return failed

    def associated(self, seconds: float) -> None:
        """``auto``: an association was negotiated in `seconds` (about one round trip)."""
        if self.auto is not None:
            self.auto.observe_association(seconds)

    def observe(self, result: FileResult) -> None:
        """``auto``: one C-STORE's bytes written and its time on the wire.

        A result's seconds count from before the dataset was opened: the time
        spent encoding before the first byte went out is taken off.
        """
        encode_seconds = self._encoding.pop(result.path, 0.0)
        if self.auto is None or result.message_id is None or result.status is None:
            return
        seconds = max(result.seconds - encode_seconds, 1e-6)
        self.auto.observe_send(result.bytes, seconds)


def _native_bytes(item: _Item) -> int:
    """The input's size before compression, for ``auto``'s estimate."""
    if item.dataset is not None:
        pixels = item.dataset.get("PixelData")
        return len(pixels) if isinstance(pixels, bytes) else 0
    assert item.info is not None
    return item.info.dataset_length


def _rewritten(item: _Item, rewriter: Rewriter, send: int) -> Dataset:
    """The input as a pydicom dataset, rewritten (``+II``, ``-s``...) for this send."""
    if item.dataset is not None:
        ds = copy.deepcopy(item.dataset)
    else:
        import pydicom

        assert item.info is not None
        try:
            ds = pydicom.dcmread(item.info.path, force=True)
        except Exception as exc:  # pydicom raises many types on broken data
            raise RewriteError(f"cannot read the dataset: {exc}") from exc
    rewriter.apply(ds, send)
    meta = getattr(ds, "file_meta", None)
    instance = str(ds.get("SOPInstanceUID", "") or "")
    if meta is not None and "MediaStorageSOPInstanceUID" in meta and instance:
        meta.MediaStorageSOPInstanceUID = instance  # PS3.10 7.1: follows the dataset
    return ds


class _Watched:
    """A compressed reader that notes a verification failure midway and feeds ``auto``."""

    def __init__(self, reader: Any, item: _Item, owner: Compressing, codec: str) -> None:
        self._reader = reader
        self._item = item
        self._owner = owner
        self._codec = codec
        self.syntax: str = reader.syntax
        self._closed = False

    @property
    def length(self) -> int | None:
        return self._reader.length  # type: ignore[no-any-return]

    @property
    def exhausted(self) -> bool:
        return bool(self._reader.exhausted)

    @property
    def encode_seconds(self) -> float:
        return float(self._reader.encode_seconds)

    def readinto(self, buf: Any) -> int:
        try:
            return int(self._reader.readinto(buf))
        except Exception as exc:
            # VerificationFailed (or an encoder that broke) after earlier bytes
            # went out: the client aborts, the sender sends the file again.
            reason = getattr(exc, "reason", None) or f"{type(exc).__name__}: {exc}"
            item = self._item
            log.info(
                "%s: compressing failed after %d bytes went out: the association is "
                "aborted and the file sent again uncompressed (%s)",
                item.path,
                self._reader.bytes_out,
                reason,
            )
            item.compression = f"compression failed while sending: {reason}"
            item.plain = True
            item.failed_midway = True
            if isinstance(exc, StorescuError):
                raise
            raise ConversionError(reason) from exc

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        reader = self._reader
        reader.close()
        auto = self._owner.auto
        if auto is not None and reader.pixel_bytes_in:
            auto.observe_encode(
                self._codec, reader.pixel_bytes_in, reader.encoded_bytes, reader.encode_seconds
            )
