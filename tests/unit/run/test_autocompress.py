"""storescu.run.autocompress: the ``--compress auto`` rule, one test per rule of its docstring."""

from __future__ import annotations

import math

import pytest

from storescu.run import autocompress
from storescu.run.autocompress import (
    DEFAULT_PRIOR,
    GUESS_MIN_RTT,
    PRIOR_WINDOW,
    WHOLE_ENCODE_LIMIT,
    AutoCompress,
    CodecPrior,
)

ALL = ("jpeg-ls", "htj2k", "j2k", "rle")
CT = 512 * 512 * 2  # one CT slice of native pixel data
MBIT10 = 10e6 / 8  # 10 Mbit/s in bytes per second


def link(auto: AutoCompress, rtt: float, rate: float, sizes: list[int]) -> None:
    """Sends over a link of this round trip and rate: time = rtt + bytes / rate."""
    for size in sizes:
        auto.observe_send(size, rtt + size / rate)


# --- the first estimate ------------------------------------------------------------------


def test_nothing_timed_sends_uncompressed() -> None:
    auto = AutoCompress(ALL)
    codec, reason = auto.choose(CT, ALL)
    assert codec is None
    assert "unknown" in reason


def test_slow_link_compresses_the_first_large_file_from_the_negotiation_time() -> None:
    auto = AutoCompress(ALL)
    auto.observe_association(0.100)  # TCP + A-ASSOCIATE: two 50 ms round trips, nothing sent yet
    codec, reason = auto.choose(CT, ALL)
    assert codec in ALL
    assert "guessed from the round trip" in reason
    rtt, per_byte, _ = auto.link()
    assert rtt == pytest.approx(0.050)
    assert per_byte is not None
    assert 1 / per_byte == pytest.approx(PRIOR_WINDOW / 0.050)


@pytest.mark.parametrize("seconds", [0.0008, 0.007, 2 * GUESS_MIN_RTT - 0.001])
def test_a_lan_or_loopback_negotiation_guesses_nothing(seconds: float) -> None:
    # 7 ms: a Python SCP on loopback starting its thread; a LAN peer checking AE titles.
    auto = AutoCompress(ALL)
    auto.observe_association(seconds)
    codec, reason = auto.choose(100 * CT, ALL)
    assert codec is None
    assert "unknown" in reason


def test_slow_link_compresses_the_first_large_file_after_small_requests() -> None:
    auto = AutoCompress(ALL)
    auto.observe_association(0.102)
    link(auto, 0.050, MBIT10, [9_000, 12_000, 9_000])  # a few tiny objects first
    codec, _ = auto.choose(CT, ALL)
    assert codec in ALL
    rtt, per_byte, source = auto.link()
    assert source == "measured"
    assert rtt == pytest.approx(0.050, abs=0.002)
    assert per_byte is not None
    assert 1 / per_byte == pytest.approx(MBIT10, rel=0.1)


def test_the_round_trip_is_no_longer_than_the_fastest_request() -> None:
    # A slow-to-accept peer on loopback: 30 ms to negotiate, then 3 ms per 512 KB.
    auto = AutoCompress(ALL)
    auto.observe_association(0.030)
    assert auto.choose(CT, ALL)[0] is not None  # a WAN, as far as anyone can tell
    link(auto, 0.0001, 200e6, [CT])
    rtt = auto.link()[0]
    assert rtt is not None and rtt <= 0.0001 + CT / 200e6
    assert auto.choose(CT, ALL)[0] is None


def test_tiny_objects_are_never_worth_compressing_on_a_slow_link() -> None:
    auto = AutoCompress(ALL)
    auto.observe_association(0.100)
    link(auto, 0.050, MBIT10, [CT] * 5)
    # 4 KB of pixels: 3 ms of a 53 ms request; a saving under the margin.
    assert auto.choose(4096, ALL)[0] is None


# --- fast links --------------------------------------------------------------------------


@pytest.mark.parametrize("rate", [120e6, 1e9])  # a gigabit LAN, loopback
def test_fast_link_never_compresses(rate: float) -> None:
    auto = AutoCompress(ALL)
    auto.observe_association(0.0006)
    for size in [9_000, CT, 4 * CT, CT]:
        link(auto, 0.0002, rate, [size])
        for pixels in (4096, CT, 100 * CT, 2 * WHOLE_ENCODE_LIMIT):
            codec, reason = auto.choose(pixels, ALL)
            assert codec is None, reason


def test_fast_link_with_a_measured_fast_codec_still_sends_uncompressed() -> None:
    auto = AutoCompress(ALL)
    link(auto, 0.0002, 1e9, [CT] * 10)
    auto.observe_encode("rle", CT, CT // 2, CT / 200e6)  # even at 200 MB/s x2
    assert auto.choose(CT, ALL)[0] is None


# --- re-estimating -------------------------------------------------------------------------


def test_rate_drop_mid_run_turns_compression_on_and_back_off() -> None:
    auto = AutoCompress(ALL)
    auto.observe_association(0.002)
    link(auto, 0.001, 100e6, [CT] * 50)
    assert auto.choose(CT, ALL)[0] is None
    link(auto, 0.001, MBIT10, [CT] * 5)  # the link slows down: within a few files
    assert auto.choose(CT, ALL)[0] in ALL
    # It recovers: the slow files' long times fade by LINK_DECAY per file (about 20 files).
    link(auto, 0.001, 100e6, [CT] * 20)
    assert auto.choose(CT, ALL)[0] is None


def test_measured_encoding_replaces_the_prior() -> None:
    auto = AutoCompress(ALL)
    link(auto, 0.050, MBIT10, [CT] * 3)
    assert auto.choose(CT, ALL)[0] == "htj2k"  # the priors' pick
    # On this machine htj2k turns out slow and barely compressing, jpeg-ls good.
    for _ in range(8):
        auto.observe_encode("htj2k", CT, int(CT / 1.05), CT / 2e6)
        auto.observe_encode("jpeg-ls", CT, CT // 3, CT / 40e6)
    codec, reason = auto.choose(CT, ALL)
    assert codec == "jpeg-ls"
    assert "(prior)" not in reason


def test_a_codec_that_does_not_shrink_is_not_chosen() -> None:
    auto = AutoCompress(["rle"])
    link(auto, 0.050, MBIT10, [CT] * 3)
    for _ in range(10):
        auto.observe_encode("rle", CT, CT + 100, CT / 100e6)  # noise: RLE grows it
    codec, reason = auto.choose(CT, ["rle"])
    assert codec is None
    assert reason.startswith("uncompressed: ")


# --- what the peer accepted ----------------------------------------------------------------


def test_a_codec_the_peer_did_not_accept_is_not_chosen() -> None:
    auto = AutoCompress(ALL)
    link(auto, 0.050, MBIT10, [CT] * 3)
    assert auto.choose(CT, ALL)[0] == "htj2k"
    assert auto.choose(CT, ["jpeg-ls", "rle", "j2k"])[0] == "jpeg-ls"
    assert auto.choose(CT, ["rle", "j2k"])[0] in ("rle", "j2k")
    assert auto.choose(CT, ["deflate", "something"])[0] is None
    codec, reason = auto.choose(CT, [])
    assert codec is None
    assert "accepted none" in reason


def test_a_codec_not_available_here_is_not_chosen_even_if_accepted() -> None:
    auto = AutoCompress(["rle"])
    link(auto, 0.050, MBIT10, [CT] * 3)
    assert auto.choose(CT, ALL)[0] == "rle"


def test_equal_codecs_go_by_preference_order() -> None:
    same = {c: CodecPrior(rate=20e6, ratio=2.5) for c in ALL}
    auto = AutoCompress(["htj2k", "jpeg-ls"], priors=same)
    link(auto, 0.050, MBIT10, [CT] * 3)
    assert auto.choose(CT, ALL)[0] == "htj2k"


# --- priors --------------------------------------------------------------------------------


def test_a_codec_without_a_prior_gets_the_cautious_default_until_measured() -> None:
    auto = AutoCompress(["newcodec"], priors={})
    auto.observe_association(0.100)
    link(auto, 0.050, MBIT10, [CT] * 3)
    codec, reason = auto.choose(CT, ["newcodec"])
    # 1.3x at 4 MB/s is not worth it even on a 10 Mbit/s link, and says it is a prior.
    assert codec is None
    assert f"x{DEFAULT_PRIOR.ratio:.1f} (prior)" in reason
    for _ in range(3):
        auto.observe_encode("newcodec", CT, CT // 3, CT / 30e6)
    codec, reason = auto.choose(CT, ["newcodec"])
    assert codec == "newcodec"
    assert "(prior)" not in reason
    # Over a 2 Mbit/s link even the default prior is worth it.
    slow = AutoCompress(["newcodec"], priors={})
    link(slow, 0.050, 0.25e6, [CT] * 3)
    assert slow.choose(CT, ["newcodec"])[0] == "newcodec"


def test_the_priors_are_conservative() -> None:
    for prior in autocompress.PRIORS.values():
        assert 1.0 < prior.ratio <= 2.5  # below CT/MR's 2.5-4x
        assert prior.rate <= 40e6


# --- the model -----------------------------------------------------------------------------


def test_whole_objects_add_encoding_and_streamed_ones_overlap_it() -> None:
    prior = CodecPrior(rate=10e6, ratio=2.0)
    auto = AutoCompress(["jpeg-ls"], priors={"jpeg-ls": prior})
    link(auto, 0.0, 5e6, [CT] * 5)
    rtt, per_byte, _ = auto.link()
    assert rtt == pytest.approx(0.0, abs=1e-9)
    assert per_byte == pytest.approx(1 / 5e6)
    small = 10_000_000
    assert auto.expected("jpeg-ls", small) == pytest.approx(small / 10e6 + small / 2 / 5e6)
    big = 2 * WHOLE_ENCODE_LIMIT
    assert auto.expected("jpeg-ls", big) == pytest.approx(max(big / 10e6, big / 2 / 5e6))
    assert auto.expected(None, big) == pytest.approx(big / 5e6)


def test_the_margin_keeps_a_marginal_gain_uncompressed() -> None:
    # Compressed 0.95x of the uncompressed time: under the 10 % margin.
    prior = CodecPrior(rate=1e12, ratio=1.0 / 0.95)
    auto = AutoCompress(["rle"], priors={"rle": prior})
    link(auto, 0.0, 1e6, [CT] * 5)
    assert auto.choose(CT, ["rle"])[0] is None


def test_no_pixel_data_is_never_compressed() -> None:
    auto = AutoCompress(ALL)
    link(auto, 0.050, MBIT10, [CT] * 3)
    assert auto.choose(0, ALL) == (None, "no native pixel data")


@pytest.mark.parametrize("seconds", [-1.0, math.nan, math.inf])
def test_invalid_timings_are_ignored(seconds: float) -> None:
    auto = AutoCompress(ALL)
    auto.observe_association(seconds)
    auto.observe_send(CT, seconds)
    auto.observe_encode("jpeg-ls", CT, CT // 2, seconds)
    auto.observe_encode("unknown", CT, CT // 2, 0.01)
    assert auto.link() == (None, None, "unknown")


def test_the_reason_is_one_line_with_the_figures() -> None:
    auto = AutoCompress(ALL)
    auto.observe_association(0.100)
    link(auto, 0.050, MBIT10, [CT] * 3)
    codec, reason = auto.choose(CT, ALL)
    assert "\n" not in reason
    assert reason.startswith(f"{codec}: link 1.25 MB/s (measured), rtt 50 ms; {codec} ")
    assert "instead of" in reason
