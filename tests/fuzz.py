"""The long fuzzing run over every decoder that reads peer bytes.

    python -m tests.fuzz --seconds 600                  # hypothesis, all targets
    python -m tests.fuzz --seconds 600 --engine atheris # coverage-guided (pip install atheris)
    python -m tests.fuzz --target scp_request --seconds 60

The targets and their seeds are in tests/faults/targets.py (the CI runs the same
targets briefly in tests/unit/protocol/test_peer_input_properties.py). The time is shared
between the targets, round robin. At the end it prints how many inputs each
target ran and every finding (an exception other than the protocol errors a
target allows, or a broken property); failing inputs are written to
``fuzz-findings/`` (hex), and the exit code is 1 when there is any.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path

_REPO = Path(__file__).resolve().parents[1]
if str(_REPO) not in sys.path:
    sys.path.insert(0, str(_REPO))

from tests.faults.targets import SEEDS, TARGETS, mutate  # noqa: E402


class Counted:
    """Wraps a target: counts inputs, keeps the first input of each new finding."""

    def __init__(self, name: str, target: Callable[[bytes], None]) -> None:
        self.name = name
        self.target = target
        self.runs = 0
        self.findings: dict[str, tuple[bytes, str]] = {}

    def __call__(self, data: bytes) -> None:
        self.runs += 1
        try:
            self.target(data)
        except Exception as exc:
            where = traceback.extract_tb(exc.__traceback__)[-1]
            key = f"{type(exc).__name__} at {Path(where.filename).name}:{where.lineno}"
            if key not in self.findings:
                self.findings[key] = (data, traceback.format_exc())
            raise


def run_hypothesis(counted: Counted, seconds: float, seed: int) -> None:
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import strategies as st

    edits = st.lists(
        st.tuples(st.integers(0, 4), st.integers(0, 1 << 16), st.integers(0, 255)),
        min_size=1,
        max_size=8,
    )
    mutated = st.builds(mutate, st.sampled_from(SEEDS[counted.name]), edits)
    stacked = st.builds(mutate, mutated, edits)
    strategy = st.one_of(st.binary(max_size=2000), mutated, stacked)
    deadline = time.monotonic() + seconds
    batch = 0
    while time.monotonic() < deadline:
        batch += 1

        @settings(
            max_examples=200,
            deadline=None,
            database=None,
            derandomize=False,
            phases=[Phase.generate],  # no shrinking: the runner keeps the raw input
            suppress_health_check=list(HealthCheck),
        )
        @given(strategy)
        def test(data: bytes) -> None:
            if time.monotonic() > deadline:
                return
            try:
                counted(data)
            except Exception:
                pass  # recorded by Counted; keep exploring

        test()


def run_atheris(counted: Counted, seconds: float, corpus: Path, artifacts: str = "") -> None:
    """One target per process (libFuzzer cannot be restarted in-process)."""
    import atheris

    corpus.mkdir(parents=True, exist_ok=True)
    for index, seed in enumerate(SEEDS[counted.name]):
        (corpus / f"seed{index}").write_bytes(seed)

    def one(data: bytes) -> None:
        try:
            counted(data)
        except Exception:
            pass
        if counted.runs % 1000 == 0:
            _write_state(counted)

    atheris.Setup(
        [
            sys.argv[0],
            f"-max_total_time={int(seconds)}",
            "-rss_limit_mb=2048",  # an input that makes a target allocate more is a finding
            f"-artifact_prefix={artifacts}",
            str(corpus),
        ],
        one,
    )
    try:
        atheris.Fuzz()
    except SystemExit:
        pass
    finally:
        _write_state(counted)


def _write_state(counted: Counted) -> None:
    state = os.environ.get("STORESCU_FUZZ_STATE")
    if state:
        lines = [str(counted.runs)] + [
            f"{key}\t{data.hex()}" for key, (data, _) in counted.findings.items()
        ]
        Path(state).write_text("\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.fuzz", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--seconds", type=float, default=600.0, help="total time (default 600)")
    parser.add_argument("--target", action="append", choices=sorted(TARGETS), help="repeatable")
    parser.add_argument("--engine", choices=["hypothesis", "atheris"], default="hypothesis")
    parser.add_argument("--out", default="fuzz-findings", help="where failing inputs go")
    args = parser.parse_args(argv)
    import logging

    # The SCP and the client log what the fuzz makes them refuse: keep it quiet.
    logging.getLogger("storescu").addHandler(logging.NullHandler())
    logging.getLogger("storescu").propagate = False
    names = args.target or sorted(TARGETS)
    per_target = args.seconds / len(names)
    out = Path(args.out)
    results: list[Counted] = []
    started = time.monotonic()
    for name in names:
        counted = Counted(name, TARGETS[name])
        if args.engine == "atheris":
            counted = _atheris_in_child(name, per_target, out)
        else:
            run_hypothesis(counted, per_target, seed=len(results))
        results.append(counted)
        print(
            f"{name:22} {counted.runs:>10,} inputs  {len(counted.findings)} finding(s)", flush=True
        )
    total = sum(c.runs for c in results)
    findings = [
        (c.name, key, data, trace) for c in results for key, (data, trace) in c.findings.items()
    ]
    print(
        f"{'total':22} {total:>10,} inputs in {time.monotonic() - started:.0f} s, "
        f"{len(findings)} finding(s)"
    )
    for name, key, data, trace in findings:
        out.mkdir(exist_ok=True)
        path = out / f"{name}-{abs(hash(key)) % 10**8}.hex"
        path.write_text(data.hex() + "\n")
        print(f"\n--- {name}: {key} (input in {path})\n{trace}")
    return 1 if findings else 0


def _atheris_in_child(name: str, seconds: float, out: Path) -> Counted:
    import subprocess
    import tempfile

    out.mkdir(parents=True, exist_ok=True)
    prefix = f"{out.resolve()}/{name}-"
    with tempfile.TemporaryDirectory() as tmp:
        state = Path(tmp) / "state"
        code = (
            "import sys; sys.path.insert(0, {!r})\n"
            "import logging; logging.getLogger('storescu').propagate = False\n"
            "logging.getLogger('storescu').addHandler(logging.NullHandler())\n"
            "import atheris\n"
            "with atheris.instrument_imports(include=['storescu']):\n"  # coverage guidance
            "    import storescu.net.client, storescu.scp, storescu.protocol.negotiation\n"
            "from tests.fuzz import Counted, run_atheris\n"
            "from tests.faults.targets import TARGETS\n"
            "from pathlib import Path\n"
            "run_atheris(Counted({!r}, TARGETS[{!r}]), {!r}, Path({!r}), {!r})\n"
        ).format(str(_REPO), name, name, seconds, str(Path(tmp) / "corpus"), prefix)
        env = dict(os.environ, STORESCU_FUZZ_STATE=str(state))
        subprocess.run(
            [sys.executable, "-c", code],
            env=env,
            check=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        counted = Counted(name, TARGETS[name])
        if state.exists():
            lines = state.read_text().splitlines()
            counted.runs = int(lines[0])
            for line in lines[1:]:
                key, hexdata = line.split("\t")
                data = bytes.fromhex(hexdata)
                try:
                    TARGETS[name](data)
                    trace = "(did not reproduce in a fresh process)"
                except Exception:
                    trace = traceback.format_exc()
                counted.findings[key] = (data, trace)
    # libFuzzer's own findings: an input over the RSS limit (oom-), a crash or a hang.
    for artifact in sorted(out.glob(f"{name}-*")):
        kind = artifact.name[len(name) + 1 :].split("-")[0]
        if kind in ("oom", "crash", "timeout", "leak"):
            counted.findings[f"libFuzzer {kind} ({artifact.name})"] = (
                artifact.read_bytes(),
                f"libFuzzer {kind}: input in {artifact}",
            )
    return counted


if __name__ == "__main__":
    sys.exit(main())
