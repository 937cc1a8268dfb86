#!/usr/bin/env python3
"""Compression bench (issue 18): a real-image set over a slow link and on loopback.

    python bench/compression.py [--runs N] [--slow-runs N] [--links slow,loopback]
                                [--senders NAMES] [--no-rates] [--publish]

Rows over 10 Mbit/s with 50 ms RTT (bench/linkproxy.py: a 10 Mbit/s cap and
25 ms each way, receiver the project's SCP, which accepts every lossless syntax):
DCMTK ``storescu``, ours uncompressed, ours ``--compress`` with each codec, ours
``--compress auto``. Rows on loopback (no proxy, receiver DCMTK ``storescp +xa``):
ours uncompressed against ours ``--compress auto`` (and DCMTK for reference).
For each: wall time of the sender process, bytes on the wire (client to peer,
counted by the proxy; loopback has none), the sender's CPU seconds (user +
system, its worker processes included). Medians of the runs that succeeded (exit
0 and every store counted by the receiver); senders run in turns, the order
rotating each round. A sender whose option is refused ("unknown option": the
``--compress`` rows before issue 18 lands) is shown as skipped. Also each codec's
encode + verify rate on this machine (bench/encode_rates.py). Output:
bench/out/compression/compression.{md,json}; ``--publish`` copies them to
bench/results/.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import shlex
import shutil
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench import encode_rates, realimages  # noqa: E402
from bench.receivers import OurScp, Storescp, wait_until  # noqa: E402
from bench.report import machine_info, median  # noqa: E402
from bench.run import DCMTK_STORESCU, REJECTED, LinkProxy, measure, warm_page_cache  # noqa: E402

CODECS = ("jpeg-ls", "j2k", "htj2k", "rle", "deflate")
#: The slow link: 10 Mbit/s each way, 25 ms each way (50 ms round trip).
RATE_MBIT = 10.0
DELAY_MS = 25.0


@dataclass(frozen=True)
class Link:
    name: str
    description: str
    senders: tuple[str, ...]
    proxy: bool


LINKS = {
    "slow": Link(
        "slow",
        f"{RATE_MBIT:g} Mbit/s, {2 * DELAY_MS:g} ms RTT (linkproxy), to our SCP",
        ("dcmtk", "ours", *(f"ours {c}" for c in CODECS), "ours auto"),
        proxy=True,
    ),
    "loopback": Link(
        "loopback",
        "loopback, to DCMTK storescp +xa",
        ("dcmtk", "ours", "ours auto"),
        proxy=False,
    ),
}


def sender_argv(name: str, python: str) -> list[str]:
    if name == "dcmtk":
        return [DCMTK_STORESCU]
    ours = [python, "-m", "storescu"]
    if name == "ours":
        return ours
    codec = name.removeprefix("ours ")
    return [*ours, "--compress", codec]


@dataclass
class Sample:
    wall: float
    cpu: float
    wire: int | None  # bytes client -> peer (None: not counted)
    ok: bool
    note: str = ""


@dataclass
class Row:
    link: str
    sender: str
    samples: list[Sample] = field(default_factory=list)
    skipped: str | None = None

    def ok(self) -> list[Sample]:
        return [s for s in self.samples if s.ok]

    def wall(self) -> float | None:
        ok = self.ok()
        return median([s.wall for s in ok]) if ok else None

    def cpu(self) -> float | None:
        ok = self.ok()
        return median([s.cpu for s in ok]) if ok else None

    def wire(self) -> float | None:
        got = [s.wire for s in self.ok() if s.wire is not None]
        return median([float(w) for w in got]) if got else None


class CompressionBench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.out: Path = args.out
        self.logs = self.out / "logs"
        self.env = dict(os.environ, TCP_NODELAY="1")
        self.env.pop("PYTHONDONTWRITEBYTECODE", None)
        self.rows: list[Row] = []
        self.refused: dict[str, str] = {}
        self.explain: list[str] = []

    def say(self, text: str) -> None:
        print(text, flush=True)

    def run(self) -> int:
        self.logs.mkdir(parents=True, exist_ok=True)
        started = datetime.datetime.now().astimezone()
        load_start = os.getloadavg()[0]
        images = realimages.build(self.args.corpus_dir)
        self.files = [str(p) for p in images.files]
        self.say(
            f"real-image set: {len(images.files)} files, {images.total_bytes / 1e6:.1f} MB "
            f"({images.pixel_bytes / 1e6:.1f} MB of pixel data)"
        )
        warm_page_cache(images.files)
        for name in self.args.links:
            self.run_link(LINKS[name])
        rates = None
        if not self.args.no_rates:
            self.say("== encoding rates")
            figures = [
                encode_rates.measure(path, codec, 3)
                for path in realimages.source_files()
                for codec in encode_rates.CODECS
            ]
            rates = encode_rates.format_table(figures)
        load_end = os.getloadavg()[0]
        self.write(started, images, rates, (load_start, load_end))
        return 0 if all(all(s.ok for s in r.samples) for r in self.rows) else 1

    def run_link(self, link: Link) -> None:
        senders = [s for s in link.senders if not self.args.senders or s in self.args.senders]
        runs = self.args.slow_runs if link.proxy else self.args.runs
        rows = {s: Row(link.name, s) for s in senders}
        self.rows.extend(rows.values())
        logdir = self.logs / link.name
        logdir.mkdir(parents=True, exist_ok=True)
        self.say(f"== {link.name}: {link.description}; {runs} run(s)")
        if link.proxy:
            receiver: Any = OurScp(logdir / "receiver", self.args.python)
        else:
            receiver = Storescp(logdir / "receiver", ("+xa",))
        proxy = None
        try:
            port = receiver.port
            if link.proxy:
                proxy = LinkProxy(
                    self.args.python,
                    receiver.port,
                    DELAY_MS,
                    logdir / "proxy.log",
                    rate_mbit=RATE_MBIT,
                    stats=logdir / "proxy-stats.json",
                )
                port = proxy.port
            for run in range(runs):
                k = run % len(senders) if senders else 0
                for sender in senders[k:] + senders[:k]:
                    log = logdir / f"{sender.replace(' ', '_')}-{run + 1}.log"
                    self.one(rows[sender], receiver, proxy, port, log)
            if "ours auto" in senders and self.args.explain:
                self.explain_auto(link, receiver, port, logdir)
        finally:
            if proxy:
                proxy.stop()
            receiver.stop()

    def one(self, row: Row, receiver: Any, proxy: LinkProxy | None, port: int, log: Path) -> None:
        if row.sender in self.refused:
            row.skipped = self.refused[row.sender]
            return
        before = receiver.count()
        carried = proxy.carried() if proxy else None
        argv = [*sender_argv(row.sender, self.args.python), "127.0.0.1", str(port), *self.files]
        m = measure(argv, self.env, log, self.args.run_timeout)
        if m.rc == 1 and (match := REJECTED.search(m.output)):
            line = next((ln for ln in m.output.splitlines() if match.group(0) in ln), "")
            row.skipped = self.refused[row.sender] = line.strip() or match.group(0)
            self.say(f"   {row.sender:<14} skipped: {row.skipped}")
            return
        expected = len(self.files)
        try:
            wait_until(lambda: receiver.count() - before >= expected, 10.0, "receiver count")
        except TimeoutError:
            pass
        received = receiver.count() - before
        wire = None
        if proxy and carried is not None:
            goal = carried["connections"]
            try:  # the proxy saves its counts when the connection has crossed the link
                wait_until(
                    lambda: proxy.carried()["finished"] >= proxy.carried()["connections"] > goal,
                    10.0,
                    "proxy counts",
                )
            except TimeoutError:
                pass
            wire = proxy.carried()["up"] - carried["up"]
        ok = m.rc == 0 and received == expected
        note = "" if ok else f"exit {m.rc}, received {received}/{expected}, see {log.name}"
        row.samples.append(Sample(m.wall, m.cpu, wire, ok, note))
        wire_text = "" if wire is None else f"  {wire / 1e6:7.2f} MB on the wire"
        state = "ok" if ok else f"FAILED {note}"
        self.say(f"   {row.sender:<14} {m.wall:8.3f} s  cpu {m.cpu:7.3f} s{wire_text}  {state}")

    def explain_auto(self, link: Link, receiver: Any, port: int, logdir: Path) -> None:
        """One more run of ``--compress auto -v``: its decisions, for the results."""
        if "ours auto" in self.refused:
            return
        log = logdir / "auto-explained.log"
        argv = [*sender_argv("ours auto", self.args.python), "-v", "127.0.0.1", str(port)]
        measure([*argv, *self.files], self.env, log, self.args.run_timeout)
        lines = [
            ln.strip()
            for ln in log.read_text(errors="replace").splitlines()
            if "auto" in ln and ("instead of" in ln or "unknown" in ln or "accepted" in ln)
        ]
        self.explain.append(f"{link.name}:")
        self.explain += [f"    {_shorten(ln)}" for ln in lines[:4]]
        if len(lines) > 4:
            self.explain.append(f"    ... ({len(lines)} decisions)")

    # --- results -----------------------------------------------------------------------

    def table(self) -> str:
        lines = [
            "| link | sender | runs | wall s | vs DCMTK | MB on the wire | vs DCMTK | "
            "sender CPU s | status |",
            "|---|---|---:|---:|---:|---:|---:|---:|---|",
        ]
        for row in self.rows:
            ref = next(r for r in self.rows if r.link == row.link and r.sender == "dcmtk")
            wall, wire, cpu = row.wall(), row.wire(), row.cpu()
            ref_wall, ref_wire = ref.wall(), ref.wire()
            if row.skipped:
                status = f"skipped: {row.skipped}"
            elif all(s.ok for s in row.samples):
                status = "ok"
            else:
                bad = [s for s in row.samples if not s.ok]
                status = f"{len(bad)}/{len(row.samples)} FAILED ({bad[0].note})"
            lines.append(
                f"| {row.link} | {row.sender} | {len(row.ok())} | {_f(wall, '.2f')} | "
                f"{_ratio(ref_wall, wall)} | {_f(wire and wire / 1e6, '.2f')} | "
                f"{_ratio(wire, ref_wire)} | {_f(cpu, '.2f')} | {status} |"
            )
        return "\n".join(lines)

    def targets(self) -> list[str]:
        def get(link: str, sender: str) -> Row | None:
            return next((r for r in self.rows if r.link == link and r.sender == sender), None)

        out = []
        auto, dcmtk = get("slow", "ours auto"), get("slow", "dcmtk")
        if auto and dcmtk and auto.wall() and dcmtk.wall() and auto.wire() and dcmtk.wire():
            sooner = dcmtk.wall() / auto.wall()  # type: ignore[operator]
            share = auto.wire() / dcmtk.wire()  # type: ignore[operator]
            met = "met" if sooner >= 2 and share <= 0.5 else "NOT met"
            out.append(
                f"- slow link: `ours auto` {sooner:.2f}x sooner than DCMTK with "
                f"{share:.2f}x its bytes (target: >= 2x sooner, <= 0.5x the bytes): {met}"
            )
        else:
            out.append("- slow link: `ours auto` vs DCMTK: not measured in this run")
        auto, plain = get("loopback", "ours auto"), get("loopback", "ours")
        if auto and plain and auto.wall() and plain.wall():
            ratio = auto.wall() / plain.wall()  # type: ignore[operator]
            met = "met" if ratio <= 1.1 else "NOT met"
            out.append(
                f"- loopback: `ours auto` takes {ratio:.2f}x the time of `ours` uncompressed "
                f"(target: <= 1.1x): {met}"
            )
        else:
            out.append("- loopback: `ours auto` vs `ours`: not measured in this run")
        return out

    def write(
        self,
        started: datetime.datetime,
        images: realimages.ImageSet,
        rates: str | None,
        load: tuple[float, float],
    ) -> None:
        info = machine_info(self.args.python, REPO, None, self.env)
        info["Load average (1 min)"] = f"{load[0]:.2f} at start, {load[1]:.2f} at end"
        command = "python bench/compression.py " + " ".join(shlex.quote(a) for a in sys.argv[1:])
        md = [
            "# Compression bench (issue 18)",
            "",
            "## Machine",
            "",
            *[f"- {k}: {v}" for k, v in info.items()],
            "",
            "## Method",
            "",
            f"- Command: `{command.strip()}`, {started:%Y-%m-%d %H:%M %Z}.",
            f"- Set: bench/realimages.py, {len(images.files)} real CT, MR and CR images from "
            f"the `pydicom-data` package, {images.total_bytes / 1e6:.1f} MB "
            f"({images.pixel_bytes / 1e6:.1f} MB of pixel data), copies with new SOP "
            "Instance UIDs.",
            f"- slow: bench/linkproxy.py, {RATE_MBIT:g} Mbit/s each way (token bucket), "
            f"{DELAY_MS:g} ms each way ({2 * DELAY_MS:g} ms RTT), bounded queue; receiver the "
            "project's SCP (bench/ourscp.py; accepts JPEG-LS, JPEG 2000, HTJ2K, RLE, "
            f"Deflate; discards the data); {self.args.slow_runs} run(s) per sender.",
            "- loopback: no proxy; receiver DCMTK `storescp -v --ignore --fork +xa` "
            f"(accepts every syntax it knows); {self.args.runs} run(s) per sender.",
            "- wall = the sender process timed from outside (median of the runs that "
            "succeeded); MB on the wire = bytes from the sender to the peer counted by the "
            "proxy (PDU headers, command and dataset: everything), median; sender CPU = "
            "user + system seconds of the sender and its children (median). A run counts "
            "only if the sender exited 0 and the receiver counted every store. Senders run "
            "in turns, the order rotating each round.",
            "- Senders: `dcmtk` = /usr/bin/storescu (DCMTK 3.6.7, no on-the-fly "
            "compression in Debian's build), `ours` = `python -m storescu`, "
            "`ours CODEC` = `--compress CODEC`, `ours auto` = `--compress auto`.",
            "",
            "## Results",
            "",
            self.table(),
            "",
            "## Targets",
            "",
            *self.targets(),
            "",
        ]
        if self.explain:
            md += ["## `auto`'s decisions (one more run with -v, first lines)", "", "```"]
            md += [*self.explain, "```", ""]
        if rates:
            md += [
                "## Encoding rates on this machine",
                "",
                "bench/encode_rates.py: encode + verify (decode and compare) of the distinct "
                "source images, one thread, best of 3; MB/s of native pixel data (Deflate: of "
                "the whole file).",
                "",
                rates,
                "",
            ]
        (self.out / "compression.md").write_text("\n".join(md))
        payload = {
            "started": started.isoformat(),
            "command": command,
            "machine": info,
            "rows": [asdict(r) for r in self.rows],
        }
        (self.out / "compression.json").write_text(json.dumps(payload, indent=1))
        self.say("")
        self.say(self.table())
        self.say("\n".join(self.targets()))
        if self.args.publish:
            dest = BENCH / "results"
            for name in ("compression.md", "compression.json"):
                shutil.copy2(self.out / name, dest / name)
            self.say(f"published to {dest}")


def _f(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def _ratio(num: float | None, den: float | None) -> str:
    if not num or not den:
        return "-"
    return f"{num / den:.2f}x"


_LOG_PREFIX = re.compile(r"^[A-Z]: ")


def _shorten(line: str) -> str:
    line = _LOG_PREFIX.sub("", line)
    return re.sub(r"^\S*/", "", line)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=5, help="runs per loopback sender (default 5)")
    p.add_argument("--slow-runs", type=int, default=3, help="runs per slow-link sender (3)")
    p.add_argument("--links", default="slow,loopback", help="slow,loopback (default both)")
    p.add_argument("--senders", default="", help="comma-separated sender names (default all)")
    p.add_argument("--no-rates", action="store_true", help="skip the encoding rates")
    p.add_argument(
        "--no-explain", dest="explain", action="store_false", help="skip the extra -v run of auto"
    )
    p.add_argument("--python", default=sys.executable)
    p.add_argument("--out", type=Path, default=BENCH / "out" / "compression")
    p.add_argument("--corpus-dir", type=Path, default=BENCH / "out" / "realimages")
    p.add_argument("--run-timeout", type=float, default=600.0)
    p.add_argument("--publish", action="store_true", help="copy the results to bench/results/")
    args = p.parse_args(argv)
    args.links = [x for x in args.links.split(",") if x]
    if unknown := [x for x in args.links if x not in LINKS]:
        p.error(f"unknown link(s) {unknown}; choose from {', '.join(LINKS)}")
    args.senders = [x.strip() for x in args.senders.split(",") if x.strip()]
    if args.senders and "dcmtk" not in args.senders:
        args.senders.append("dcmtk")  # the reference of every ratio
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    return CompressionBench(args).run()


if __name__ == "__main__":
    sys.exit(main())
