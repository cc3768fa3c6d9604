"""Policy pack figures: the pack's own time over the `dev` stack, apart from running the program.

The program is run once under the offline engine (timed on its own); then `policies.runner.run`
(the whole pack through pulumi-policy's analyzer servicer: Configure, Analyze per resource,
AnalyzeStack) is timed over that captured stack, median of BENCH_RUNS runs.
"""

from __future__ import annotations

import os
import statistics
import time
from pathlib import Path

from serverless_patterns.offline import run_program
from serverless_patterns.policies.pack import POLICIES
from serverless_patterns.policies.runner import run

ROOT = Path(__file__).resolve().parents[1]
RUNS = int(os.environ.get("BENCH_RUNS", "3"))


def figures() -> list[tuple[str, str]]:
    started = time.perf_counter()
    stack = run_program(ROOT, "dev")
    program_seconds = time.perf_counter() - started

    times, resource_times, stack_times = [], [], []
    analysis = None
    for _ in range(RUNS):
        started = time.perf_counter()
        analysis = run(stack)
        times.append(time.perf_counter() - started)
        resource_times.append(analysis.timings["resource policies"])
        stack_times.append(analysis.timings["stack policies"])
    assert analysis is not None
    median = statistics.median(times)
    resource_policies = sum(1 for p in POLICIES if type(p).__name__ == "ResourceValidationPolicy")
    return [
        ("dev stack: program run under the offline engine (not the pack)", f"{program_seconds * 1000:.0f} ms"),
        ("dev stack: resources analyzed", str(len(stack.resources))),
        ("pack: policies (resource / stack)", f"{len(POLICIES)} ({resource_policies} / "
                                              f"{len(POLICIES) - resource_policies})"),
        (f"pack: time over the dev stack (median of {RUNS})", f"{median * 1000:.0f} ms"),
        ("pack: of which Analyze (resource policies, per resource)",
         f"{statistics.median(resource_times) * 1000:.0f} ms ("
         f"{statistics.median(resource_times) / max(len(stack.resources), 1) * 1000:.2f} ms per resource)"),
        ("pack: of which AnalyzeStack (stack policies)", f"{statistics.median(stack_times) * 1000:.0f} ms"),
        ("pack: violations on dev (mandatory / advisory)",
         f"{len(analysis.mandatory)} / {len(analysis.violations) - len(analysis.mandatory)}"),
        ("pack: suppressed findings on dev", str(len(analysis.suppressed))),
    ]


if __name__ == "__main__":
    for label, value in figures():
        print(f"{label}: {value}")
