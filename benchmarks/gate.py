"""Validation gate figures: its own cost over the `dev` stack, apart from running the program.

- cold: a fresh process that has run the program and then runs the gate once, with the IAM reference's
  per-service cache already built (what every plan after the first one pays), and with no cache at all
  (the first plan on a machine: the 13 MB dataset is read whole and split);
- warm: the gate again in the same process (sources already loaded), median of BENCH_RUNS runs;
- what it checked, from its summary.
"""

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from serverless_patterns.offline import run_program
from serverless_patterns.offline.gate import run_gate

ROOT = Path(__file__).resolve().parents[1]
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
PROBE = ("from serverless_patterns.offline import run_program; from serverless_patterns.offline.gate import "
         "run_gate; s = run_program('.', 'dev'); print(run_gate(s).seconds)")


def _cold(build_dir: str) -> float:
    env = {**os.environ, "SERVERLESS_PATTERNS_BUILD_DIR": build_dir}
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, check=True, capture_output=True,
                          text=True)
    return float(done.stdout.strip().splitlines()[-1])


def figures() -> list[tuple[str, str]]:
    with tempfile.TemporaryDirectory() as empty:
        first = _cold(empty)  # builds the per-service cache in `empty`
        cold = statistics.median(_cold(empty) for _ in range(RUNS))
    stack = run_program(ROOT, "dev")
    report = run_gate(stack)
    warm = []
    for _ in range(RUNS):
        started = time.perf_counter()
        run_gate(stack)
        warm.append(time.perf_counter() - started)
    return [
        ("gate over dev, first run on a machine (no IAM cache)", f"{first * 1000:.0f} ms"),
        ("gate over dev, fresh process (median)", f"{cold * 1000:.0f} ms"),
        ("gate over dev, sources loaded (median)", f"{statistics.median(warm) * 1000:.0f} ms"),
        ("gate: what it checked", report.summary().removeprefix("gate: ")),
    ]
