"""`make bench`: the figures the issues ask for, measured in one run.

Core figures: the offline plan's wall time for the `dev` stack next to the floor (a bare
interpreter that only imports `pulumi` and the `pulumi_aws` modules the stack uses), and
for every Lambda handler its cold import time in a fresh interpreter and its archive size.
Then every `benchmarks/<pattern>.py` that defines `figures()` adds its own.
"""

from __future__ import annotations

import importlib
import logging
import os
import pkgutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import benchmarks
from serverless_patterns.core.packaging import LAMBDAS_DIR, zip_bytes
from serverless_patterns.offline import CapturedStack, run_program

ROOT = Path(__file__).resolve().parents[1]
RUNS = int(os.environ.get("BENCH_RUNS", "3"))

Figures = list[tuple[str, str]]


def wall(command: list[str], ok: tuple[int, ...] = (0,)) -> float:
    """Median wall time of a command over RUNS fresh processes (`ok`: the exit codes that count as a run)."""
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        done = subprocess.run(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                              check=False)
        times.append(time.perf_counter() - started)
        if done.returncode not in ok:
            raise RuntimeError(f"{' '.join(command)} exited {done.returncode}: {done.stderr.strip()}")
    return statistics.median(times)


def aws_modules(stack: CapturedStack) -> list[str]:
    """`pulumi_aws.<module>` for every AWS resource type in the stack (e.g. aws:s3/bucket:Bucket -> s3)."""
    modules = set()
    for resource in stack.resources:
        if resource.type.startswith("aws:"):
            module = resource.type.split(":")[1].split("/")[0]
            modules.add("lambda_" if module == "lambda" else module)
    return sorted(modules)


def plan_figures(stack: CapturedStack) -> Figures:
    python = sys.executable
    # Exit 1 (mandatory violations) is still a complete plan: time it all the same.
    plan = wall([python, "-m", "serverless_patterns.offline.plan", "--stack", "dev", "--json"], ok=(0, 1))
    imports = "; ".join(["import pulumi", "import pulumi_aws"]
                        + [f"import pulumi_aws.{m}" for m in aws_modules(stack)])
    floor = wall([python, "-c", imports])
    return [("offline plan, dev stack (wall, median)", f"{plan:.2f} s"),
            ("floor: import pulumi + the pulumi_aws modules used", f"{floor:.2f} s"),
            ("plan / floor", f"{plan / floor:.1f}x"),
            ("resources in the dev stack", str(len(stack.resources)))]


def handler_figures(stack: CapturedStack) -> Figures:
    """Cold import of each function's handler module, with the environment the stack gives it."""
    figures: Figures = []
    for fn in stack.of_type("aws:lambda/function:Function"):
        code = fn.inputs.get("code")
        assets = getattr(code, "assets", None)
        if not assets:
            continue  # image functions: measured by their own pattern's benchmark
        handler_module = str(fn.inputs.get("handler", "app.handler")).rsplit(".", 1)[0]
        source = next((Path(a.path) for name, a in assets.items() if name == f"{handler_module}.py"), None)
        if source is None:
            continue
        folder = source.parent
        label = folder.relative_to(LAMBDAS_DIR).as_posix()
        if handler_module != "app":  # several functions share a folder: name the handler module
            label += f" ({handler_module})"
        env = {**os.environ, "AWS_DEFAULT_REGION": "eu-west-1", "AWS_REGION": "eu-west-1",
               "POWERTOOLS_TRACE_DISABLED": "1", "PYTHONDONTWRITEBYTECODE": "1",
               **{k: str(v) for k, v in (fn.inputs.get("environment") or {}).get("variables", {}).items()}}
        probe = (f"import sys, time; sys.path.insert(0, {str(folder)!r}); t = time.perf_counter(); "
                 f"import {handler_module}; print(time.perf_counter() - t)")
        times = []
        for _ in range(RUNS):
            out = subprocess.run([sys.executable, "-c", probe], env=env, check=True, capture_output=True, text=True)
            times.append(float(out.stdout.strip().splitlines()[-1]))
        size = len(zip_bytes({name: Path(a.path) for name, a in assets.items()}))
        figures.append((f"{label}: cold import (median)", f"{statistics.median(times) * 1000:.0f} ms"))
        figures.append((f"{label}: archive size", f"{size / 1024:.1f} KiB"))
    return figures


def pattern_benchmarks() -> list[tuple[str, Callable[[], Figures]]]:
    found = []
    for module in pkgutil.iter_modules(benchmarks.__path__):
        if module.name == "bench":
            continue
        loaded = importlib.import_module(f"benchmarks.{module.name}")
        if hasattr(loaded, "figures"):
            found.append((module.name, loaded.figures))
    return found


def print_section(title: str, figures: Figures) -> None:
    print(f"\n## {title}")
    width = max((len(label) for label, _ in figures), default=0)
    for label, value in figures:
        print(f"  {label:<{width}}  {value}")


def main() -> int:
    os.chdir(ROOT)
    stack = run_program(ROOT, "dev")
    print(f"# Benchmarks ({RUNS} runs each where repeated; python {sys.version.split()[0]})")
    print_section("Offline plan", plan_figures(stack))
    print_section("Lambda handlers", handler_figures(stack))
    # Pattern benchmarks run real handler code in-process: keep their INFO logs out of the report.
    logging.disable(logging.INFO)
    for name, figures in pattern_benchmarks():
        print_section(name, figures())
    return 0


if __name__ == "__main__":
    sys.exit(main())
