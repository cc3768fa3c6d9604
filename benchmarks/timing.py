"""Whole-process timing for the benchmarks: paired, interleaved runs with median and spread.

A figure measured alone drifts with the machine (a shared 2-core box can be twice as slow a minute
later), so every comparison is paired: the two commands run in turn, A B A B …, after a warm-up, and the
ratio is taken pair by pair. The median of those ratios is stable where the absolute times are not.
Each run's CPU time (user + sys) and peak memory are the child's own (`os.wait4`), not the benchmark's:
on a loaded machine CPU time moves much less than wall time, so both are reported. Where even CPU time spreads
too widely to settle a goal, `instructions` counts the work itself (valgrind).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

#: Counted runs of each command (pairs, for a paired figure) and uncounted warm-up runs.
RUNS = int(os.environ.get("BENCH_RUNS", "7"))
WARMUP = int(os.environ.get("BENCH_WARMUP", "1"))


class BenchCommandError(RuntimeError):
    """A benchmarked command exited with a code that does not count as a complete run."""


@dataclass(frozen=True)
class Run:
    wall: float
    """Seconds from start to exit."""
    cpu: float
    """The process's own user + system CPU seconds."""
    peak_rss_mb: float
    """The process's own peak resident set size."""
    stdout: str
    stderr: str


@dataclass(frozen=True)
class Spread:
    """Median and range of a series of measurements."""

    median: float
    low: float
    high: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Spread:
        return cls(statistics.median(values), min(values), max(values))

    def relative(self) -> float:
        """Half the range over the median: ±x as a fraction."""
        return (self.high - self.low) / 2 / self.median if self.median else 0.0

    def fmt(self, unit: str = "s", scale: float = 1.0, digits: int = 2) -> str:
        m, lo, hi = self.median * scale, self.low * scale, self.high * scale
        return f"{m:.{digits}f} {unit} ({lo:.{digits}f}-{hi:.{digits}f})"


@dataclass(frozen=True)
class Paired:
    a: Spread
    b: Spread
    ratio: Spread
    """A/B of wall time, pair by pair."""
    peak_rss_mb: Spread
    """A's peak memory."""
    cpu_a: Spread
    cpu_b: Spread
    cpu_ratio: Spread
    """A/B of CPU time (user + sys), pair by pair."""
    runs_a: tuple[Run, ...] = ()
    """A's counted runs (with what each printed)."""

    def fmt_ratio(self, cpu: bool = False) -> str:
        r = self.cpu_ratio if cpu else self.ratio
        return f"{r.median:.2f}x ({r.low:.2f}-{r.high:.2f}, ±{r.relative() * 100:.0f}%)"


def run(command: Sequence[str], *, cwd: Path | None = None, env: Mapping[str, str] | None = None,
              ok: tuple[int, ...] = (0,)) -> Run:
    """Run `command` once as its own process: its wall time, its own peak memory (`os.wait4`), its output."""
    import tempfile

    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        process = subprocess.Popen(list(command), cwd=cwd, env=dict(env) if env is not None else None,
                                   stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if process.returncode not in ok:
            raise BenchCommandError(f"{' '.join(command)[:200]} exited {process.returncode}: {err.read()[-2000:]}")
        return Run(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, out.read(), err.read())


def paired(a: Sequence[str], b: Sequence[str], *, runs: int = RUNS, warmup: int = WARMUP, cwd: Path | None = None,
           env_a: Mapping[str, str] | None = None, env_b: Mapping[str, str] | None = None,
           ok_a: tuple[int, ...] = (0,)) -> Paired:
    """A and B in turn after `warmup` uncounted pairs; A/B pair by pair."""
    runs_a: list[Run] = []
    runs_b: list[Run] = []
    for i in range(warmup + runs):
        run_a = run(a, cwd=cwd, env=env_a, ok=ok_a)
        run_b = run(b, cwd=cwd, env=env_b)
        if i >= warmup:
            runs_a.append(run_a)
            runs_b.append(run_b)

    def spreads(field: str) -> tuple[Spread, Spread, Spread]:
        xs = [getattr(r, field) for r in runs_a]
        ys = [getattr(r, field) for r in runs_b]
        return Spread.of(xs), Spread.of(ys), Spread.of([x / y for x, y in zip(xs, ys, strict=True)])

    wall_a, wall_b, wall_ratio = spreads("wall")
    cpu_a, cpu_b, cpu_ratio = spreads("cpu")
    return Paired(wall_a, wall_b, wall_ratio, Spread.of([r.peak_rss_mb for r in runs_a]), cpu_a, cpu_b, cpu_ratio,
                  tuple(runs_a))


def repeated(command: Sequence[str], *, runs: int = RUNS, warmup: int = WARMUP, cwd: Path | None = None,
             env: Mapping[str, str] | None = None, ok: tuple[int, ...] = (0,)) -> tuple[Spread, Spread, list[Run]]:
    """Wall time and peak memory of `command` over `runs` counted runs (and the runs, for their CPU time)."""
    done = [run(command, cwd=cwd, env=env, ok=ok) for _ in range(warmup + runs)][warmup:]
    return Spread.of([r.wall for r in done]), Spread.of([r.peak_rss_mb for r in done]), done


#: Whether `instructions` counts (`BENCH_INSTRUCTIONS=0` turns it off; it needs valgrind on the PATH).
COUNT_INSTRUCTIONS = os.environ.get("BENCH_INSTRUCTIONS", "1") != "0"


def instructions(commands: Mapping[str, tuple[Sequence[str], Mapping[str, str]]], *,
                 cwd: Path | None = None) -> dict[str, int] | None:
    """The instructions each command executes, counted by valgrind's callgrind (about 40x slower than the
    command itself, so the commands run in parallel, one per core), or None without valgrind.

    Unlike time, the count does not move with the machine's load: on a shared machine whose paired ratios
    spread ±30%, two commands' counts compare to within about 1% run to run. It is a proxy (it ignores cache
    misses, page faults and system time), faithful only between commands doing the same kind of work: two cold
    imports, as the handler figures compare, agree with their timed ratio; the plan against its import floor
    would not (the floor's imports run at a lower rate of instructions per second). So it is printed beside the
    timed figures, not instead of them. The hash seed is fixed so that two runs of one command execute the same
    instructions."""
    import re
    import shutil
    from concurrent.futures import ThreadPoolExecutor

    valgrind = shutil.which("valgrind")
    if valgrind is None or not COUNT_INSTRUCTIONS:
        return None

    def count(command: Sequence[str], env: Mapping[str, str]) -> int:
        done = subprocess.run([valgrind, "--tool=callgrind", "--callgrind-out-file=/dev/null", *command],
                              cwd=cwd, env={**env, "PYTHONHASHSEED": "0"}, capture_output=True, text=True,
                              check=False)
        found = re.search(r"Collected : (\d+)", done.stderr)
        if done.returncode != 0 or found is None:
            raise BenchCommandError(f"{' '.join(command)[:200]} under callgrind exited {done.returncode}: "
                                    f"{done.stderr[-2000:]}")
        return int(found.group(1))

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        futures = {name: pool.submit(count, command, env) for name, (command, env) in commands.items()}
        return {name: future.result() for name, future in futures.items()}


def load() -> str:
    """The machine's load averages and core count, printed with the figures."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f} on {os.cpu_count()} cores"
