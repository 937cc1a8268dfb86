#!/usr/bin/env python3
"""Benchmark: our storescu against DCMTK's storescu and pynetdicom (issue 6).

    python bench/run.py [--quick] [--runs N] [--sets tiny,small,...] [--out DIR]

See bench/README.md. Each set starts its own receiver (DCMTK ``storescp --ignore``
or Orthanc; through the delay proxy for ``latency``), then runs every sender in
turns on the same files, ``--runs`` times (the order rotates each round), timing
the whole sender process from outside, with its CPU time, its peak RSS (GNU time)
and the receiver's CPU time. A run counts only when the sender exits 0 *and* the
receiver counted every store.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench import corpus as corpora  # noqa: E402
from bench import report  # noqa: E402
from bench.receivers import Orthanc, OurScp, Storescp, wait_until  # noqa: E402

DCMTK_STORESCU = "/usr/bin/storescu"
#: Output of a sender that refused an option it does not have (yet): skip it.
REJECTED = re.compile(r"unknown option|not supported yet|unrecognized argument", re.IGNORECASE)


# --- senders ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Sender:
    """A sending command; ``host port files...`` are appended."""

    name: str
    argv: tuple[str, ...]
    only_sets: frozenset[str] | None = None  # None: every set


def default_senders(python: str) -> list[Sender]:
    ours = (python, "-m", "storescu")
    return [
        Sender("ours", ours),
        Sender("dcmtk", (DCMTK_STORESCU,)),
        Sender("pynetdicom", (python, str(BENCH / "pynetdicom_send.py"))),
        # Variants of ours take one line each; one whose option is refused ("unknown
        # option", "not supported yet") is skipped and reported.
        # Parallel associations (-P, issue 6) where one association waits on the
        # peer: a real archive's ingest and a WAN round trip. (On loopback to
        # storescp both sides are CPU-bound on 2 CPUs: -P does not help there.)
        Sender("ours -P 8", (*ours, "-P", "8"), only_sets=_WAITING_SETS),
        Sender("ours -P 16", (*ours, "-P", "16"), only_sets=_WAITING_SETS),
        # Issue 13: the same 8 associations from a local Dask cluster of 2 worker
        # processes x -P 4 (the cluster's start-up is part of the time).
        Sender(
            "ours dask 2x-P 4",
            (*ours, "--dask", "local:2", "-P", "4"),
            only_sets=frozenset({"cluster"}),
        ),
        # One association with an Asynchronous Operations Window of 16 (PS3.7
        # D.3.3.3, issue 15): only a peer that grants it (our SCP) lets it work.
        Sender(
            "ours window 16",
            (*ours, "--max-ops-invoked", "16"),
            only_sets=frozenset({"latency-scp"}),
        ),
        # N associations x a window each (issue 15: -P with the window).
        Sender(
            "ours -P 4 window 16",
            (*ours, "-P", "4", "--max-ops-invoked", "16"),
            only_sets=frozenset({"latency-scp"}),
        ),
    ]


#: Sets where one association mostly waits for the peer (see default_senders).
_WAITING_SETS = frozenset({"latency", "latency-scp", "orthanc", "orthanc-nodelay", "cluster"})


def parse_variant(text: str, python: str) -> Sender:
    """``NAME=ARGS``: our storescu with extra ARGS, e.g. ``ours-P4=-P 4``."""
    name, sep, extra = text.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"--variant wants NAME=ARGS, got {text!r}")
    return Sender(name.strip(), (python, "-m", "storescu", *shlex.split(extra)))


# --- sets ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SetDef:
    name: str
    corpus: str  # key of corpora.SPECS
    count: int | None  # first N files of the corpus (None: all)
    receiver: str  # storescp | orthanc | orthanc-nodelay
    description: str
    delay_ms: float = 0.0  # > 0: through the delay proxy, each way
    one_file: bool = False  # runs = --onefile-runs processes sending one file each
    runs: int | None = None  # fixed number of runs (instead of --runs)
    senders: frozenset[str] | None = None  # only these senders (None: every one that applies)
    fork: bool = True  # storescp --fork (a child per association) or not


SETS: dict[str, SetDef] = {
    s.name: s
    for s in [
        SetDef("tiny", "tiny", None, "storescp", "~9 KB MR files, one association"),
        SetDef("small", "small", None, "storescp", "~525 KB CT files, one association"),
        SetDef("large", "large", None, "storescp", "~105 MB multi-frame files, one association"),
        SetDef(
            "tiny-nofork", "tiny", None, "storescp", "tiny, storescp without --fork", fork=False
        ),
        SetDef(
            "small-nofork", "small", None, "storescp", "small, storescp without --fork", fork=False
        ),
        SetDef(
            "large-nofork", "large", None, "storescp", "large, storescp without --fork", fork=False
        ),
        SetDef(
            "many",
            "many",
            None,
            "storescp",
            "10,000 ~9 KB files: peak RSS with many inputs",
            runs=1,
        ),
        SetDef(
            "onefile", "tiny", 1, "storescp", "one tiny file per process (start-up)", one_file=True
        ),
        SetDef(
            "latency", "tiny", 300, "storescp", "tiny files through a delay proxy", delay_ms=10.0
        ),
        SetDef(
            "latency-scp",
            "tiny",
            300,
            "ourscp",
            "tiny files through the delay proxy to our SCP (grants a window of 16)",
            delay_ms=10.0,
        ),
        SetDef(
            "orthanc", "tiny", 200, "orthanc", "tiny files to Orthanc as Debian runs it (Nagle on)"
        ),
        SetDef(
            "orthanc-nodelay",
            "tiny",
            200,
            "orthanc-nodelay",
            "tiny files to Orthanc started with TCP_NODELAY=1",
        ),
        SetDef(
            "cluster",
            "many",
            None,
            "orthanc-nodelay",
            "10,000 tiny files to Orthanc: one process -P 8 vs a local Dask cluster "
            "of 2 workers x -P 4",
            runs=1,
            senders=frozenset({"ours -P 8", "ours dask 2x-P 4"}),
        ),
    ]
}
DEFAULT_SETS = ",".join(SETS)

#: --quick: few files, one run; the whole smoke run takes well under a minute.
QUICK_SPECS = {
    "tiny": corpora.SPECS["tiny"].scaled(count=60),
    "small": corpora.SPECS["small"].scaled(count=20),
    "large": corpora.SPECS["large"].scaled(count=1, frames=20),
    "many": corpora.SPECS["many"].scaled(count=200),
}
QUICK_COUNTS = {"latency": 20, "latency-scp": 20, "orthanc": 20, "orthanc-nodelay": 20}


# --- measuring -------------------------------------------------------------------------


@dataclass
class Measured:
    wall: float
    rss_kb: int
    cpu: float  # user + system seconds of the sender
    rc: int
    output: str


#: GNU time reports the sender's own peak RSS. ``ru_maxrss`` from wait4 on a child
#: of this (larger) Python process would not: Linux carries the RSS high-water mark
#: of the forking process across exec, so every sender would show at least the
#: benchmark's own RSS.
GNU_TIME = "/usr/bin/time"


def measure(argv: Sequence[str], env: dict[str, str], log: Path, timeout: float) -> Measured:
    """Run ``argv`` to completion: wall time from outside, peak RSS via GNU time.

    The timed process is ``/usr/bin/time -f '%M %U %S' -o FILE argv...`` (about
    1 ms more than ``argv`` alone, the same for every sender). Without GNU time the
    RSS is wait4's ``ru_maxrss``, an upper bound (see :data:`GNU_TIME`). CPU time
    (user + system, from wait4) is less sensitive than wall time to other load on
    the machine.
    """
    rss_file = log.with_suffix(".rss")
    use_time = os.access(GNU_TIME, os.X_OK)
    full = [GNU_TIME, "-f", "%M", "-o", str(rss_file), *argv] if use_time else list(argv)
    with open(log, "wb") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(
            full, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, env=env
        )
        killer = threading.Timer(timeout, _kill, (proc.pid,))
        killer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            killer.cancel()
        wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    rss_kb = int(usage.ru_maxrss)
    cpu = usage.ru_utime + usage.ru_stime  # GNU time's own share is negligible
    if use_time:
        try:
            rss_kb = int(rss_file.read_text().split()[-1])
        except (OSError, ValueError, IndexError):
            pass  # killed, or time could not write: keep the upper bound
    text = log.read_bytes()[-8192:].decode("utf-8", "replace")
    return Measured(wall, rss_kb, cpu, proc.returncode, text)


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def warm_page_cache(files: Sequence[Path]) -> None:
    """Read the files once so every sender starts from the page cache."""
    buf = bytearray(1 << 20)
    for path in files:
        with open(path, "rb", buffering=0) as f:
            while f.readinto(buf):
                pass


class LinkProxy:
    """bench/linkproxy.py in a process of its own (stopped by its pid).

    ``delay_ms`` each way, ``rate_mbit`` each way (0: no cap); with ``stats`` the
    proxy keeps the bytes carried each way in that JSON file (:meth:`carried`).
    """

    def __init__(
        self,
        python: str,
        target_port: int,
        delay_ms: float,
        log: Path,
        rate_mbit: float = 0.0,
        stats: Path | None = None,
    ) -> None:
        self._log = open(log, "wb")  # noqa: SIM115 - closed in stop()
        self.stats = stats
        argv = [
            python,
            str(BENCH / "linkproxy.py"),
            "--target",
            f"127.0.0.1:{target_port}",
            "--delay-ms",
            str(delay_ms),
            "--rate-mbit",
            str(rate_mbit),
        ]
        if stats is not None:
            argv += ["--stats", str(stats)]
        self.proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._log,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().strip()
        if not line.isdigit():
            self.stop()
            raise RuntimeError(f"link proxy did not start (said {line!r}, see {log})")
        self.port = int(line)

    def carried(self) -> dict[str, int]:
        """``up``/``down`` bytes and ``connections``/``finished`` so far (needs ``stats``)."""
        if self.stats is None:
            raise ValueError("the proxy was started without a stats file")
        try:
            return {k: int(v) for k, v in json.loads(self.stats.read_text()).items()}
        except (OSError, ValueError):
            return {"up": 0, "down": 0, "connections": 0, "finished": 0}

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout:
            self.proc.stdout.close()
        self._log.close()


def start_receiver(
    kind: str, workdir: Path, storescp_args: Sequence[str], python: str, fork: bool = True
) -> Any:
    if kind == "storescp":
        return Storescp(workdir, tuple(storescp_args), fork=fork)
    if kind == "ourscp":
        return OurScp(workdir, python)
    if kind in ("orthanc", "orthanc-nodelay"):
        return Orthanc(workdir, nodelay=kind == "orthanc-nodelay")
    raise ValueError(kind)


# --- the run ---------------------------------------------------------------------------


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.python: str = args.python
        self.out: Path = args.out
        self.logs = self.out / "logs"
        self.env = dict(os.environ)
        # Bytecode on for our sender and pynetdicom (this environment sets
        # PYTHONDONTWRITEBYTECODE=1, which makes every process recompile); the
        # modules are compiled once before the runs.
        self.env.pop("PYTHONDONTWRITEBYTECODE", None)
        self.env["TCP_NODELAY"] = "1"  # DCMTK reads it; harmless for the others
        self.ours_label: str | None = None
        if args.ours_src:
            src = str(args.ours_src.resolve())
            self.env["PYTHONPATH"] = os.pathsep.join(
                p for p in (src, self.env.get("PYTHONPATH", "")) if p
            )
            self.ours_label = f"from --ours-src {src}"
        self.senders = [
            s
            for s in default_senders(self.python) + list(args.variant)
            if not args.senders or s.name in args.senders
        ]
        self.refused: dict[str, str] = {}
        self.rows: list[report.Row] = []
        self.notes: list[str] = []

    def say(self, text: str) -> None:
        print(text, flush=True)

    def prepare_python(self) -> None:
        probe = subprocess.run(
            [
                self.python,
                "-c",
                "import os, storescu, pydicom\n"
                "try:\n import pynetdicom; pn = os.path.dirname(pynetdicom.__file__)\n"
                "except ImportError:\n pn = ''\n"
                "print(os.path.dirname(storescu.__file__)); "
                "print(os.path.dirname(pydicom.__file__)); print(pn)",
            ],
            capture_output=True,
            text=True,
            env=self.env,
        )
        if probe.returncode:
            raise SystemExit(f"{self.python} cannot import storescu/pydicom:\n{probe.stderr}")
        ours, pydicom_dir, pynetdicom_dir = [*probe.stdout.splitlines(), "", "", ""][:3]
        if self.args.ours_src:
            if not Path(ours).resolve().is_relative_to(self.args.ours_src.resolve()):
                raise SystemExit(f"--ours-src {self.args.ours_src}: storescu comes from {ours}")
        elif not Path(ours).resolve().is_relative_to(REPO):
            self.ours_label = f"from {ours} (not this checkout)"
        if not pynetdicom_dir:
            self.refused["pynetdicom"] = "pynetdicom is not installed (pip install -e '.[bench]')"
        dirs = [ours, pydicom_dir, str(BENCH)] + ([pynetdicom_dir] if pynetdicom_dir else [])
        subprocess.run(
            [self.python, "-m", "compileall", "-q", *dirs],
            env=self.env,
            stdout=subprocess.DEVNULL,
            check=False,
        )

    def corpus_for(self, setdef: SetDef) -> corpora.Corpus:
        spec = (QUICK_SPECS if self.args.quick else corpora.SPECS)[setdef.corpus]
        t0 = time.perf_counter()
        corpus = corpora.generate(spec, self.args.corpus_dir)
        took = time.perf_counter() - t0
        if took > 1:
            self.say(f"  corpus {spec.key}: {len(corpus.files)} files in {took:.1f} s")
        count = setdef.count
        if self.args.quick and setdef.name in QUICK_COUNTS:
            count = QUICK_COUNTS[setdef.name]
        return corpus.head(count) if count else corpus

    def run_set(self, setdef: SetDef) -> None:
        corpus = self.corpus_for(setdef)
        files = [str(p) for p in corpus.files]
        arg_bytes = sum(len(f) + 1 for f in files)
        if arg_bytes > os.sysconf("SC_ARG_MAX") // 2:
            raise SystemExit(f"{setdef.name}: {arg_bytes} bytes of file names exceed ARG_MAX")
        runs = self.args.onefile_runs if setdef.one_file else self.args.runs
        if setdef.runs is not None and not self.args.quick:
            runs = setdef.runs
        senders = [
            s
            for s in self.senders
            if (s.only_sets is None or setdef.name in s.only_sets)
            and (setdef.senders is None or s.name in setdef.senders)
        ]
        logdir = self.logs / setdef.name
        logdir.mkdir(parents=True, exist_ok=True)
        rows = {
            s.name: report.Row(setdef.name, s.name, len(files), corpus.total_bytes) for s in senders
        }
        self.rows.extend(rows.values())
        self.say(
            f"== {setdef.name}: {len(files)} files, {corpus.total_bytes / 1e6:.1f} MB, "
            f"{runs} run(s); {setdef.description}"
        )
        warm_page_cache(corpus.files)
        receiver = start_receiver(
            setdef.receiver, logdir / "receiver", self.args.storescp_args, self.python, setdef.fork
        )
        proxy = None
        try:
            port = receiver.port
            if setdef.delay_ms:
                proxy = LinkProxy(self.python, receiver.port, setdef.delay_ms, logdir / "proxy.log")
                port = proxy.port
            for run in range(runs):
                k = run % len(senders) if senders else 0
                for sender in senders[k:] + senders[:k]:
                    self._one_run(
                        setdef,
                        sender,
                        rows[sender.name],
                        receiver,
                        port,
                        files,
                        logdir / f"{sender.name.replace(' ', '_')}-{run + 1}.log",
                    )
        finally:
            if proxy:
                proxy.stop()
            receiver.stop()

    def _one_run(
        self,
        setdef: SetDef,
        sender: Sender,
        row: report.Row,
        receiver: Any,
        port: int,
        files: list[str],
        log: Path,
    ) -> None:
        if sender.name in self.refused:
            row.skipped = self.refused[sender.name]
            return
        receiver.reset()
        before = receiver.count()
        cpu_before = receiver.cpu_seconds()
        argv = [*sender.argv, "127.0.0.1", str(port), *files]
        m = measure(argv, self.env, log, self.args.run_timeout)
        expected = len(files)
        if m.rc == 1 and (match := REJECTED.search(m.output)):
            line = next((ln for ln in m.output.splitlines() if match.group(0) in ln), "")
            self.refused[sender.name] = line.strip() or match.group(0)
            row.skipped = self.refused[sender.name]
            self.say(f"   {sender.name:<12} skipped: {row.skipped}")
            return
        try:
            wait_until(lambda: receiver.count() - before >= expected, 10.0, "receiver count")
        except TimeoutError:
            pass
        received = receiver.count() - before
        receiver_cpu = receiver.cpu_seconds() - cpu_before
        note = ""
        if m.rc != 0 or received != expected:
            note = f"see {log.relative_to(self.out)}"
        run = report.Run(
            m.wall, m.rss_kb, m.rc, received, expected, note, cpu=m.cpu, receiver_cpu=receiver_cpu
        )
        row.runs.append(run)
        if not setdef.one_file or len(row.runs) == 1 or not run.ok:
            state = "ok" if run.ok else f"FAILED rc={m.rc} received {received}/{expected}"
            self.say(
                f"   {sender.name:<12} {m.wall:8.3f} s  cpu {m.cpu:7.3f} s  "
                f"receiver cpu {receiver_cpu:6.2f} s  {m.rss_kb / 1024:7.1f} MB  {state}"
            )

    def run(self) -> int:
        self.out.mkdir(parents=True, exist_ok=True)
        started = datetime.datetime.now().astimezone()
        self.load_start = os.getloadavg()[0]
        self.prepare_python()
        t0 = time.perf_counter()
        for name in self.args.sets:
            self.run_set(SETS[name])
        elapsed = time.perf_counter() - t0
        return self.write_results(started, elapsed)

    def write_results(self, started: datetime.datetime, elapsed: float) -> int:
        info = report.machine_info(self.python, REPO, self.ours_label, self.env)
        load_end = os.getloadavg()[0]
        info["Load average (1 min)"] = f"{self.load_start:.2f} at start, {load_end:.2f} at end"
        if max(self.load_start, load_end) > 1.0:
            self.notes.append(
                "the machine was busy with other work (load average above 1 on 2 CPUs): wall "
                "times are noisy, the CPU s column is steadier"
            )
        table = report.format_table(self.rows)
        command = "python bench/run.py " + " ".join(shlex.quote(a) for a in sys.argv[1:])
        delay = SETS["latency"].delay_ms
        method = [
            f"Command: `{command.strip()}` ({'quick smoke run' if self.args.quick else 'full run'}"
            f", {elapsed:.0f} s), {started:%Y-%m-%d %H:%M %Z}.",
            f"Senders run in turns on the same files, {self.args.runs} run(s) per set "
            f"({self.args.onefile_runs} for onefile), order rotated each round; "
            "wall = whole sender process, timed from outside (median of the runs); "
            "CPU = user + system time of the sender (median); receiver CPU = what storescp "
            "(with its --fork child) or Orthanc used during the run (median, 10 ms ticks); "
            "peak RSS from GNU time %M (largest of the runs); MB = 10^6 bytes of file size. "
            "A run counts only if the sender exited 0 and the receiver counted every store.",
            "Receivers: DCMTK `storescp -v --ignore --fork` with TCP_NODELAY=1 (receives and "
            "parses every dataset, writes nothing), and without `--fork` for the `-nofork` "
            "sets (one process receives every association); the project's SCP "
            "(bench/ourscp.py, discards the data, grants an Asynchronous Operations Window "
            "of up to 16) for `latency-scp`; Orthanc 1.10.1 with storage and SQLite "
            "index on disk, emptied before each run: `orthanc` as Debian starts it (no "
            "TCP_NODELAY: each C-STORE-RSP waits ~40 ms for the sender's delayed ACK), "
            "`orthanc-nodelay` started with TCP_NODELAY=1.",
            f"latency: through bench/linkproxy.py (no rate cap) adding {delay:g} ms each way "
            f"({2 * delay:g} ms round trip) on loopback (latency-scp likewise).",
            "CPU us/file = the sender's CPU seconds (median) / files, in microseconds "
            "(start-up included).",
            "Senders: `ours` = `python -m storescu` with bytecode enabled "
            "(PYTHONDONTWRITEBYTECODE unset, modules pre-compiled with compileall); `dcmtk` = "
            "`/usr/bin/storescu` with TCP_NODELAY=1; `pynetdicom` = bench/pynetdicom_send.py "
            "(one association, chunked streaming from the file, TCP_NODELAY).",
        ]
        skipped = sorted({f"`{r.sender}`: {r.skipped}" for r in self.rows if r.skipped})
        md = [
            "# storescu benchmark",
            "",
            "## Machine",
            "",
            report.format_machine(info),
            "## Method",
            "",
            *[f"- {m}" for m in method],
            "",
            "## Results",
            "",
            table,
        ]
        if skipped:
            md += ["Skipped senders: " + "; ".join(skipped), ""]
        if self.notes:
            md += ["Notes: " + "; ".join(self.notes), ""]
        md += ["Issue 6 targets (throughput vs DCMTK):", ""]
        md += [f"- {k}: {v[1]} (>= {v[0]:.2f}x)" for k, v in report.TARGETS.items()]
        md += ["- large, many: peak RSS <= 100 MB"]
        md += [
            "",
            "Issue 15 targets (ratios within this run):",
            "",
            "- latency-scp: `ours window 16` >= 10x DCMTK's throughput (one association)",
            "- tiny: CPU us/file <= 0.8x DCMTK's; wall <= 0.8x",
            "- large and large-nofork: wall <= 0.9x DCMTK's; >= 70% of the raw ceiling "
            "(bench/rawceiling.py, run by hand: not part of this table)",
            "- no regression: small <= 0.9x; onefile no slower; peak RSS <= 100 MB",
        ]
        md.append("")
        (self.out / "results.md").write_text("\n".join(md))
        meta = {
            "started": started.isoformat(),
            "elapsed_s": elapsed,
            "command": command,
            "machine": info,
            "quick": self.args.quick,
            "runs": self.args.runs,
            "onefile_runs": self.args.onefile_runs,
            "notes": self.notes,
        }
        (self.out / "results.json").write_text(report.to_json(self.rows, meta))
        why = None
        if not self.args.no_plot:
            title = f"storescu vs DCMTK storescu — {info['CPU']}"
            why = report.write_plot(self.rows, self.out / "results.png", title)
        self.say("")
        self.say(table)
        if skipped:
            self.say("Skipped: " + "; ".join(skipped))
        self.say(
            f"written: {self.out / 'results.md'}, {self.out / 'results.json'}"
            + ("" if self.args.no_plot or why else f", {self.out / 'results.png'}")
        )
        if why:
            self.say(f"no plot: {why}")
        if self.args.publish:
            dest = BENCH / "results"
            dest.mkdir(exist_ok=True)
            for name in ("results.md", "results.json", "results.png"):
                if (self.out / name).exists():
                    shutil.copy2(self.out / name, dest / name)
            self.say(f"published to {dest}")
        failed = [r for r in self.rows if not r.skipped and any(not x.ok for x in r.runs)]
        return 1 if failed else 0


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--quick", action="store_true", help="smoke run: few files, 1 run (well under a minute)"
    )
    p.add_argument("--runs", type=int, default=None, help="runs per set (default 3; quick 1)")
    p.add_argument(
        "--onefile-runs",
        type=int,
        default=None,
        help="processes for the onefile set (default 20; quick 3)",
    )
    p.add_argument(
        "--sets", default=DEFAULT_SETS, help=f"comma-separated, from {DEFAULT_SETS} (default: all)"
    )
    p.add_argument(
        "--senders", default="", help="comma-separated sender names to run (default: all)"
    )
    p.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="NAME=ARGS",
        help="also run our storescu with extra ARGS, e.g. 'ours-P4=-P 4'",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        help="output directory (default bench/out; quick: bench/out/quick)",
    )
    p.add_argument(
        "--corpus-dir",
        type=Path,
        default=BENCH / "out" / "corpus",
        help="where generated corpora are cached (default bench/out/corpus)",
    )
    p.add_argument(
        "--python",
        default=sys.executable,
        help="interpreter for ours and pynetdicom (default: this one)",
    )
    p.add_argument(
        "--ours-src",
        type=Path,
        default=None,
        metavar="DIR",
        help="benchmark the storescu package in DIR (e.g. another checkout's src/, "
        "or `git archive HEAD | tar -x -C /tmp/head` then /tmp/head/src)",
    )
    p.add_argument(
        "--storescp-args", default="", help="extra storescp arguments, e.g. '-pdu 131072' or '+B'"
    )
    p.add_argument(
        "--run-timeout",
        type=float,
        default=600.0,
        help="kill a sender after this many seconds (default 600)",
    )
    p.add_argument("--no-plot", action="store_true", help="skip the PNG")
    p.add_argument(
        "--publish", action="store_true", help="also copy results.{md,json,png} to bench/results/"
    )
    args = p.parse_args(argv)
    args.sets = [s.strip() for s in args.sets.split(",") if s.strip()]
    unknown = [s for s in args.sets if s not in SETS]
    if unknown:
        p.error(f"unknown set(s) {', '.join(unknown)}; choose from {DEFAULT_SETS}")
    args.senders = [s.strip() for s in args.senders.split(",") if s.strip()]
    try:
        args.variant = [parse_variant(v, args.python) for v in args.variant]
    except argparse.ArgumentTypeError as exc:
        p.error(str(exc))
    if args.runs is None:
        args.runs = 1 if args.quick else 3
    if args.onefile_runs is None:
        args.onefile_runs = 3 if args.quick else 20
    if args.runs < 1 or args.onefile_runs < 1:
        p.error("--runs and --onefile-runs must be >= 1")
    if args.out is None:
        args.out = BENCH / "out" / ("quick" if args.quick else "")
    args.storescp_args = shlex.split(args.storescp_args)
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    for exe in (DCMTK_STORESCU, "/usr/bin/storescp", "/usr/sbin/Orthanc"):
        if not os.access(exe, os.X_OK):
            raise SystemExit(f"{exe} missing: run bench/run.sh (installs dcmtk and orthanc)")
    return Bench(args).run()


if __name__ == "__main__":
    sys.exit(main())
