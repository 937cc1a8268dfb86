"""``--compress auto``: compress a file only when that makes it arrive sooner.

The rule
--------
For each file with native Pixel Data, ``auto`` compares the expected time of
sending it as it is with the expected time of encoding it losslessly and sending
the smaller stream, for every pixel codec that is available here *and* that the
peer accepted, and takes the shortest; it compresses only when the best codec is
expected to save at least :data:`MARGIN` (10 %) of the uncompressed time, so
noise in the estimates never costs time on a fast link. Every decision comes with
a one-line reason (``-v``), for example::

    jpeg-ls: link 1.2 MB/s (measured), rtt 50 ms; jpeg-ls 31 MB/s x2.6: 0.27 s instead of 0.47 s

The model, for a file of ``P`` native pixel bytes:

- link: one C-STORE takes ``rtt + bytes / rate``. Both are estimated from the
  association's own requests (:meth:`AutoCompress.observe_send`: the bytes written
  and the time from the request's start to its response, so the rate is what the
  peer *acknowledged*, not what the socket buffer swallowed):
  ``rtt`` is the smallest time of the recent small requests (under
  :data:`SMALL_REQUEST` bytes, each less its own transfer time) and of half the
  association's negotiation (:meth:`AutoCompress.observe_association`: TCP's
  handshake, then A-ASSOCIATE-RQ/AC, PS3.8 9.3.2-9.3.3: two round trips), and never
  more than the fastest recent request of any size;
  ``1 / rate`` is the size-weighted mean of ``(time - rtt) / bytes`` over recent
  requests (each older request counts :data:`LINK_DECAY` times less than the one
  after it, so a link that changes speed mid-run changes the decision within a
  few files). Tiny files, where the round trip dominates, thus weigh little in
  the rate, and large ones do not pollute the round trip.
- codec: it encodes (and verifies) ``rate_c`` native bytes a second and shrinks
  them ``ratio_c`` times, measured on this machine as the run goes
  (:meth:`AutoCompress.observe_encode`), starting from conservative priors
  (:data:`PRIORS`, below this machine's measured rates and below the ratios that
  CT and MR images reach; ``bench/encode_rates.py`` measures them).
- uncompressed: ``T_u = rtt + P / rate``.
- compressed, object encoded whole before it is sent (``P`` up to
  :data:`WHOLE_ENCODE_LIMIT`): ``T_c = rtt + P / rate_c + P / (ratio_c * rate)``;
  a larger object is streamed frame by frame with encoding running ahead of the
  socket, so the slower of the two sets the pace:
  ``T_c = rtt + max(P / rate_c, P / (ratio_c * rate))``.

The first estimate, before any file has been sent, comes from the association's
negotiation: half of it is a round trip. When that round trip is at least
:data:`GUESS_MIN_RTT` (10 ms: a WAN; loopback and LAN round trips are well under
a millisecond, and a few ms there are the peer's own work, which says nothing
about the link), the rate is guessed as ``PRIOR_WINDOW / rtt``: a fresh TCP
connection carries about a window of :data:`PRIOR_WINDOW` bytes per round trip
before its congestion window has grown (RFC 5681 slow start), so a WAN link's
first large file goes no faster than that whatever its bandwidth. Over a 50 ms
round trip that is about 1.3 MB/s and the first large file is compressed. Below
the threshold, or with no timing at all, the gain is unknown and the file goes
uncompressed: on loopback and a LAN nothing is ever compressed for a guess. The
first request measured replaces the guess. (A peer that takes 20 ms or more to
accept an association on a LAN gets its first large file compressed: one file's
encoding time, then the measurement decides.)

This module is pure: no I/O, no clock, no threads. The sender calls
:meth:`~AutoCompress.observe_association` once per association,
:meth:`~AutoCompress.choose` before each file, and
:meth:`~AutoCompress.observe_send` / :meth:`~AutoCompress.observe_encode` after it.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping, Sequence
from typing import Final, NamedTuple

__all__ = [
    "DEFAULT_PRIOR",
    "GUESS_MIN_RTT",
    "LINK_DECAY",
    "MARGIN",
    "PRIORS",
    "PRIOR_WINDOW",
    "SMALL_REQUEST",
    "WHOLE_ENCODE_LIMIT",
    "AutoCompress",
    "CodecPrior",
]

#: A request of fewer wire bytes than this is timed mostly by the round trip: it
#: estimates the round trip (less its own transfer time at the current rate).
SMALL_REQUEST: Final = 64 * 1024
#: The round trip is the smallest of this many recent small requests / negotiations.
RTT_SAMPLES: Final = 16
#: Weight of the request before the last relative to the last (recent sends matter most).
LINK_DECAY: Final = 0.8
#: Bytes a fresh TCP connection carries per round trip for the first guess of the rate
#: (RFC 6928's initial window of 10 segments, grown a few times by slow start).
PRIOR_WINDOW: Final = 64 * 1024
#: The smallest negotiation round trip taken as a WAN's for the first guess.
GUESS_MIN_RTT: Final = 0.010
#: Compress only when the best codec saves at least this share of the uncompressed time.
MARGIN: Final = 0.10
#: Native pixel bytes up to which an object is encoded whole before it is sent
#: (storescu.dataset.compress.open_compressed); above it, frames are streamed.
WHOLE_ENCODE_LIMIT: Final = 64 * 1024 * 1024
#: How much of the past the encoding figures keep: older encodings fade with e^(-bytes/this).
ENCODE_MEMORY: Final = 32 * 1024 * 1024
#: The prior counts as this many native bytes encoded, so a few real files outweigh it.
PRIOR_BYTES: Final = 2 * 1024 * 1024
#: Passes of the round-trip / rate fixed point (each pass shrinks the error several times).
_PASSES: Final = 6


class CodecPrior(NamedTuple):
    """What a codec is assumed to do before it has encoded anything here.

    A named tuple, not a dataclass: ``--compress auto`` imports this module at
    start-up, and on loopback every millisecond of it shows.

    Parameters
    ----------
    rate : float
        Native pixel bytes encoded and verified per second.
    ratio : float
        Native bytes / encoded bytes.
    """

    rate: float
    ratio: float


#: Conservative starting figures: encode + verify rates about half of what
#: bench/encode_rates.py measured on the bench machine (jpeg-ls 25, htj2k 94, j2k 6.4,
#: rle 37 MB/s: bench/results/compression.md), ratios below the 2.5-4x of CT and MR
#: (Clunie, SPIE Medical Imaging 2000) and the 2.7-2.8x (RLE 1.6x) of the bench set.
PRIORS: Final[Mapping[str, CodecPrior]] = {
    "jpeg-ls": CodecPrior(rate=12e6, ratio=2.0),
    "htj2k": CodecPrior(rate=40e6, ratio=1.9),
    "j2k": CodecPrior(rate=3e6, ratio=2.0),
    "rle": CodecPrior(rate=18e6, ratio=1.3),
}
#: For a codec without a prior of its own: slow and barely compressing.
DEFAULT_PRIOR: Final = CodecPrior(rate=4e6, ratio=1.3)


class _Encoding:
    """Decaying sums of one codec's encodings (the prior counts as PRIOR_BYTES)."""

    __slots__ = ("encoded", "measured", "native", "seconds")

    def __init__(self, prior: CodecPrior) -> None:
        self.native = float(PRIOR_BYTES)
        self.encoded = PRIOR_BYTES / prior.ratio
        self.seconds = PRIOR_BYTES / prior.rate
        self.measured = False

    def add(self, native: int, encoded: int, seconds: float) -> None:
        keep = math.exp(-native / ENCODE_MEMORY)
        self.native = self.native * keep + native
        self.encoded = self.encoded * keep + encoded
        self.seconds = self.seconds * keep + seconds
        self.measured = True

    @property
    def rate(self) -> float:
        return self.native / self.seconds if self.seconds > 0 else math.inf

    @property
    def ratio(self) -> float:
        return self.native / self.encoded if self.encoded > 0 else 1.0


class AutoCompress:
    """The ``auto`` decision for one association's run (see the module docstring).

    Parameters
    ----------
    codecs : sequence of str
        The pixel codecs available here and proposed, in preference order (a tie
        goes to the earlier one).
    priors : mapping, optional
        Starting figures per codec (default :data:`PRIORS`; :data:`DEFAULT_PRIOR`
        for a codec missing from it).
    """

    def __init__(
        self, codecs: Sequence[str], priors: Mapping[str, CodecPrior] | None = None
    ) -> None:
        table = PRIORS if priors is None else priors
        self.codecs: tuple[str, ...] = tuple(dict.fromkeys(codecs))
        self._enc = {c: _Encoding(table.get(c, DEFAULT_PRIOR)) for c in self.codecs}
        # Small requests and half negotiations: (wire bytes, seconds).
        self._small: deque[tuple[int, float]] = deque(maxlen=RTT_SAMPLES)
        # Every recent request's time: the round trip is no longer than the fastest.
        self._recent: deque[float] = deque(maxlen=RTT_SAMPLES)
        # Decaying sums over requests for the rate: seconds, bytes, count.
        self._sum_t = 0.0
        self._sum_x = 0.0
        self._sum_n = 0.0
        self._sends = 0

    # --- observations ------------------------------------------------------------------

    def observe_association(self, seconds: float) -> None:
        """The time from connecting to the A-ASSOCIATE-AC: two round trips (and the peer's work)."""
        if seconds >= 0 and math.isfinite(seconds):
            self._small.append((0, seconds / 2))

    def observe_send(self, wire_bytes: int, seconds: float) -> None:
        """One C-STORE: the bytes written and the time from the request's start to its response."""
        if wire_bytes < 0 or not (seconds >= 0 and math.isfinite(seconds)):
            return
        if wire_bytes < SMALL_REQUEST:
            self._small.append((wire_bytes, seconds))
        self._recent.append(seconds)
        self._sum_t = self._sum_t * LINK_DECAY + seconds
        self._sum_x = self._sum_x * LINK_DECAY + wire_bytes
        self._sum_n = self._sum_n * LINK_DECAY + 1.0
        self._sends += 1

    def observe_encode(
        self, codec: str, pixel_bytes: int, encoded_bytes: int, seconds: float
    ) -> None:
        """One object encoded (and verified): native bytes in, encoded bytes out, seconds."""
        enc = self._enc.get(codec)
        if enc is None or pixel_bytes <= 0 or encoded_bytes <= 0 or not seconds >= 0:
            return
        enc.add(pixel_bytes, encoded_bytes, seconds)

    # --- estimates ---------------------------------------------------------------------

    def link(self) -> tuple[float | None, float | None, str]:
        """The estimated round trip (s), seconds per wire byte and where they come from.

        Returns ``(None, None, "unknown")`` before anything was timed.
        """
        if self._sends == 0:
            rtt = min((t for _, t in self._small), default=0.0)
            if rtt < GUESS_MIN_RTT:
                return None, None, "unknown"
            return rtt, rtt / PRIOR_WINDOW, "guessed from the round trip"
        fastest = min(self._recent)
        # A fixed point, a few passes: a round trip from the raw small times, the rate given
        # it, then the round trip less each small request's own transfer time, and so on.
        per_byte = 0.0
        rtt = 0.0
        for _ in range(_PASSES):
            rtt = min((t - x * per_byte for x, t in self._small), default=0.0)
            rtt = max(min(rtt, fastest), 0.0)
            spent = self._sum_t - rtt * self._sum_n
            per_byte = max(spent, 0.0) / self._sum_x if self._sum_x > 0 else 0.0
        return rtt, per_byte, "measured"

    def expected(self, codec: str | None, native_pixel_bytes: int) -> float | None:
        """Expected seconds to send ``native_pixel_bytes`` with ``codec`` (None: as it is)."""
        rtt, per_byte, _ = self.link()
        if rtt is None or per_byte is None:
            return None
        p = float(native_pixel_bytes)
        if codec is None:
            return rtt + p * per_byte
        enc = self._enc[codec]
        encode = p / enc.rate
        send = p / enc.ratio * per_byte
        if native_pixel_bytes > WHOLE_ENCODE_LIMIT:
            return rtt + max(encode, send)
        return rtt + encode + send

    # --- the decision ------------------------------------------------------------------

    def choose(self, native_pixel_bytes: int, accepted: Sequence[str]) -> tuple[str | None, str]:
        """The codec for the next file (None: send it uncompressed) and the reason.

        Parameters
        ----------
        native_pixel_bytes : int
            The file's native Pixel Data length.
        accepted : sequence of str
            The codecs the peer accepted for this file's SOP class.

        Returns
        -------
        tuple
            ``(codec or None, one line for -v)``.
        """
        candidates = [c for c in self.codecs if c in accepted]
        if native_pixel_bytes <= 0:
            return None, "no native pixel data"
        if not candidates:
            return None, "the peer accepted none of " + (", ".join(self.codecs) or "no codec")
        rtt, per_byte, source = self.link()
        plain = self.expected(None, native_pixel_bytes)
        if rtt is None or per_byte is None or plain is None:
            return None, "link speed unknown yet (no request timed, no WAN round trip seen)"
        link = f"link {_rate(per_byte)} ({source}), rtt {rtt * 1000:.0f} ms"
        best: tuple[float, str] | None = None
        for codec in candidates:
            t = self.expected(codec, native_pixel_bytes)
            if t is not None and (best is None or t < best[0]):
                best = (t, codec)
        assert best is not None  # candidates is not empty and the link is known
        t, codec = best
        enc = self._enc[codec]
        figures = (
            f"{codec} {_rate(1 / enc.rate)} x{enc.ratio:.1f}"
            f"{'' if enc.measured else ' (prior)'}: {t:.3g} s instead of {plain:.3g} s"
        )
        if t <= plain * (1 - MARGIN):
            return codec, f"{codec}: {link}; {figures}"
        return None, f"uncompressed: {link}; best {figures}"


def _rate(seconds_per_byte: float) -> str:
    if seconds_per_byte <= 0:
        return "unlimited"
    return f"{1 / seconds_per_byte / 1e6:.3g} MB/s"
