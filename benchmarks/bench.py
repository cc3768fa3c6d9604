"""`make bench`: the figures the issues ask for, each measured as paired whole-process runs.

- The offline plan of `dev` (pack and gate on) against its real floor: a process that imports `pulumi`
  and loads every `pulumi_aws` resource module the stack uses (they load lazily, so each is touched), with
  the plan's phases (program, gate, pack, render; import is the rest of the wall time).
- A scale table: tenants x consumer accounts, with resources, wall time, cost per resource and peak memory.
- Every zip function's cold import in a Lambda-like environment against a bare `import boto3` there, and the
  floors the handlers' libraries set (processes that import only those libraries).
- The whole test suite's wall time against its two-minute budget (`BENCH_SUITE=0` skips it).
Then every `benchmarks/<pattern>.py` that defines `figures()` adds its own.

`BENCH_RUNS` (default 7) sets the counted pairs; ratios are taken pair by pair, so the machine's drift
cancels out, and each is printed as median (min-max, ±half-range), for wall time and for CPU time (user +
sys of the process itself, which a loaded machine disturbs much less). The machine's load is printed with
the figures. Every process runs with bytecode caching on (a warm-up run writes what is missing), as a
developer's and Lambda's own interpreter would, so no figure includes compiling the project's sources, except
a handler's own modules: Lambda compiles those on every cold start (the archive holds no bytecode), so each
handler is imported from a copy of its folder without caches, whatever the checkout's `__pycache__` holds.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import pkgutil
import shutil
import statistics
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import yaml

import benchmarks
from benchmarks.timing import RUNS, Paired, Run, Spread, instructions, load, paired, repeated, run
from serverless_patterns.core.packaging import LAMBDAS_DIR, function_files, zip_bytes
from serverless_patterns.offline import CapturedStack, run_program

ROOT = Path(__file__).resolve().parents[1]
PLAN = [sys.executable, "-m", "serverless_patterns.offline.plan", "--stack", "dev", "--json"]
#: (tenants, consumer accounts) of the scale table.
SCALE = [(t, c) for t in (10, 100, 1000) for c in (2, 20, 100)]
#: How `make test` spreads the suite over the cores (the Makefile's `test` target passes the same options).
SUITE_WORKERS = ["-n", "auto", "--dist", "loadfile", "--no-loadscope-reorder"]
#: The suite's budget on a 2-core machine.
SUITE_BUDGET_SECONDS = 120.0

Figures = list[tuple[str, str]]


def resource_classes(stack: CapturedStack) -> list[str]:
    """`pulumi_aws.<module>.<Class>` for every AWS resource type in the stack (aws:s3/bucketV2:BucketV2 ->
    s3.BucketV2), so the floor loads exactly the resource modules the plan loads."""
    classes = set()
    for resource in stack.resources:
        if resource.type.startswith("aws:"):
            module, cls = resource.type.split(":")[1].split("/")[0], resource.type.rsplit(":", 1)[1]
            classes.add(f"{'lambda_' if module == 'lambda' else module}.{cls}")
    return sorted(classes)


def floor_command(stack: CapturedStack) -> list[str]:
    touches = "; ".join(f"pulumi_aws.{c}" for c in resource_classes(stack))
    return [sys.executable, "-c", f"import pulumi, pulumi.runtime, pulumi_aws; {touches}"]


def measured_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """This environment with bytecode caching on (PYTHONDONTWRITEBYTECODE would make every run of the plan
    compile the project's modules again, while the floor's site-packages come compiled)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(extra or {})
    return env


def ratio_figures(label: str, result: Paired) -> Figures:
    return [(f"{label} (wall)", result.fmt_ratio()), (f"{label} (CPU user+sys)", result.fmt_ratio(cpu=True))]


#: Pairs of the headline figure, plan / floor: more than the others, so two runs of `make bench` agree on its
#: median (with 7, consecutive runs differed by up to 12% on the shared machine).
PLAN_RUNS = int(os.environ.get("BENCH_PLAN_RUNS", str(max(15, RUNS))))


def plan_figures(stack: CapturedStack) -> tuple[Figures, Paired]:
    env = measured_env({"SERVERLESS_PATTERNS_PLAN_PHASES": "1"})
    result = paired(PLAN, floor_command(stack), runs=PLAN_RUNS, cwd=ROOT, env_a=env, env_b=measured_env(),
                    ok_a=(0, 1))
    figures = [("offline plan of dev, pack and gate on: wall", result.a.fmt()),
               ("offline plan of dev, pack and gate on: CPU", result.cpu_a.fmt()),
               ("floor (import pulumi + every pulumi_aws resource module used): wall", result.b.fmt()),
               ("floor: CPU", result.cpu_b.fmt()),
               *ratio_figures(f"plan / floor, {PLAN_RUNS} pairs (goal <= 1.5x)", result),
               ("plan peak memory", result.peak_rss_mb.fmt("MB", 1, 0)),
               ("resources in the dev stack", str(len(stack.resources)))]
    wall, cpu = phases(result.runs_a)
    figures += [(f"phase: {name}", f"{spread.fmt('ms', 1000, 0)} wall, {cpu[name].fmt('ms', 1000, 0)} CPU")
                for name, spread in wall.items()]
    return figures, result


def phases(runs: Sequence[Run]) -> tuple[dict[str, Spread], dict[str, Spread]]:
    """Each phase the plan reported on stderr in these runs (wall and CPU); "import and start-up" is each run's
    total less its reported phases."""
    samples: dict[str, dict[str, list[float]]] = {"phases": {}, "cpu-phases": {}}
    for done in runs:
        for kind, total in (("phases", done.wall), ("cpu-phases", done.cpu)):
            line = next((x for x in done.stderr.splitlines() if x.startswith(kind + " ")), None)
            if line is None:
                raise RuntimeError(f"the plan printed no {kind}: {done.stderr[-2000:]}")
            reported = json.loads(line[len(kind) + 1:])
            samples[kind].setdefault("import and start-up", []).append(total - sum(reported.values()))
            for name, seconds in reported.items():
                samples[kind].setdefault(name, []).append(seconds)
    wall, cpu = ({name: Spread.of(values) for name, values in samples[kind].items()}
                 for kind in ("phases", "cpu-phases"))
    return wall, cpu


def scaled_patterns(tenants: int, consumers: int) -> str:
    """The dev stack's patterns with `tenants` tenants and `consumers` consumer accounts."""
    config = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())["config"]
    patterns = config["serverless-patterns:patterns"]
    api = patterns["multiTenantApi"]
    tiers = sorted(api["tiers"])
    api["tenants"] = [{"id": f"tenant-{i:05d}", "tier": tiers[i % len(tiers)]} for i in range(tenants)]
    patterns["crossAccountEcr"]["consumers"] = {f"{400000000000 + i:012d}": {} for i in range(consumers)}
    return json.dumps(patterns)


#: Rounds of the scale table: each round plans every stack once, in turn.
SCALE_ROUNDS = max(3, RUNS // 2)
#: Rounds of the four corner stacks, which the marginal costs compare (the table's rounds included): a marginal
#: cost is the difference of two plans, so one noisy plan moves it most; with 3 rounds, two runs of `make bench`
#: on the shared machine printed -29% and +27% for the same code.
MARGINAL_ROUNDS = max(9, RUNS)


def scale_figures() -> Figures:
    """Every stack's plan, `SCALE_ROUNDS` rounds of all stacks in turn: resources, wall, CPU and peak memory;
    then CPU time fitted as fixed + per-resource cost, and what the same added resources cost on a small and on
    a large stack.

    Tenants and consumer accounts add different resources (API keys and usage plan keys; repository policies
    under a provider per account), which cost differently, so the marginal cost is taken along each axis with
    the other fixed: adding tenants at the fewest and at the most consumers, adding consumers at the fewest and
    at the most tenants. A plan that grows faster than linearly costs more per added resource on the larger
    stack; the goal is the same cost within ±20%. The marginal costs are differences of two plans, so each is
    taken within one round (the stacks of a round ran minutes apart at most, on the same machine load) and
    reported as the median over the rounds, with its range; the four corner stacks they compare run
    `MARGINAL_ROUNDS` rounds."""
    figures: Figures = []
    commands = {key: [*PLAN, "--config", f"serverless-patterns:patterns={scaled_patterns(*key)}"] for key in SCALE}
    rounds: list[dict[tuple[int, int], Run]] = [
        {key: run(command, cwd=ROOT, env=measured_env(), ok=(0, 1)) for key, command in commands.items()}
        for _ in range(SCALE_ROUNDS)]
    tenants, consumers = sorted({t for t, _ in SCALE}), sorted({c for _, c in SCALE})
    corners = [(t, c) for t in (tenants[0], tenants[-1]) for c in (consumers[0], consumers[-1])]
    # The table's rounds plan small stacks before large ones: the extra rounds alternate the order, so a machine
    # that speeds up or slows down within a round does not favour one end.
    corner_rounds = [{key: r[key] for key in corners} for r in rounds] + [
        {key: run(commands[key], cwd=ROOT, env=measured_env(), ok=(0, 1))
         for key in (corners if extra % 2 else corners[::-1])}
        for extra in range(MARGINAL_ROUNDS - SCALE_ROUNDS)]
    resources = {key: json.loads(rounds[0][key].stdout)["summary"]["resources"] for key in SCALE}
    cpu = {key: Spread.of([r[key].cpu for r in rounds]) for key in SCALE}
    for key in SCALE:
        wall = Spread.of([r[key].wall for r in rounds])
        peak = Spread.of([r[key].peak_rss_mb for r in rounds])
        figures.append((f"{key[0]:>5} tenants x {key[1]:>3} consumers",
                        f"{resources[key]:>5} resources  wall {wall.fmt()}  CPU {cpu[key].fmt()}  "
                        f"{cpu[key].median / resources[key] * 1000:.2f} ms CPU/resource  peak {peak.median:.0f} MB"))
    slope, fixed = statistics.linear_regression([float(resources[k]) for k in SCALE], [cpu[k].median for k in SCALE])
    figures.append(("CPU = fixed + per resource (least squares)", f"{fixed:.2f} s + {slope * 1000:.2f} ms x resources"))

    def marginal(small: tuple[int, int], large: tuple[int, int]) -> Spread:
        added = resources[large] - resources[small]
        return Spread.of([(r[large].cpu - r[small].cpu) / added for r in corner_rounds])

    axes = [("tenants", [((tenants[0], c), (tenants[-1], c)) for c in (consumers[0], consumers[-1])]),
            ("consumers", [((t, consumers[0]), (t, consumers[-1])) for t in (tenants[0], tenants[-1])])]
    for axis, (at_small, at_large) in axes:
        cost_small, cost_large = marginal(*at_small), marginal(*at_large)
        change = (cost_large.median - cost_small.median) / cost_small.median
        figures.append((f"CPU per resource added with {axis}",
                        f"{cost_small.fmt('ms', 1000)} from {resources[at_small[0]]} to {resources[at_small[1]]} "
                        f"resources, {cost_large.fmt('ms', 1000)} from {resources[at_large[0]]} to "
                        f"{resources[at_large[1]]}: {change * 100:+.0f}% on the larger stack (goal ±20%)"))
    return figures


def lambda_environment(fn_environment: dict[str, str]) -> dict[str, str]:
    """What the Lambda runtime sets before the init phase (tracing active), plus the function's variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("POWERTOOLS_", "AWS_"))}
    env.update({
        "AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "eu-west-1", "AWS_LAMBDA_FUNCTION_NAME": "bench",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512", "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.14", "LAMBDA_TASK_ROOT": "/var/task",
        "_X_AMZN_TRACE_ID": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
        "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR", "AWS_XRAY_DAEMON_ADDRESS": "169.254.79.129:2000",
        "PYTHONDONTWRITEBYTECODE": "1",
    })
    env.update(fn_environment)
    return env


def staged_code(folder: Path, into: Path) -> Path:
    """A copy of the function's own files and the shared modules it imports, as its archive holds them: no
    bytecode, so each import compiles the handler's modules as Lambda does (the archive has no .pyc and /var/task
    is read-only), whatever caches the checkout holds. Third-party modules come from this environment, compiled,
    as the Powertools layer's do."""
    target = into / folder.relative_to(LAMBDAS_DIR).as_posix().replace("/", "-")
    for name, path in function_files(folder).items():
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target / name)
    return target


#: Pairs of each handler's figure: as many as the plan's, so consecutive runs agree on the medians (with 7, one
#: handler's median moved by up to 0.2x between runs on the shared machine).
HANDLER_RUNS = int(os.environ.get("BENCH_HANDLER_RUNS", str(max(15, RUNS))))

#: What the handlers' libraries cost alone, before any of their code runs: processes that import only those (and
#: build what a handler builds at import with them), each a floor of some handlers.
LIBRARY_FLOORS = {
    "boto3, Powertools Logger and Tracer (botocore patched)":
        "import boto3; from aws_lambda_powertools import Logger, Tracer; "
        "Logger(); Tracer(patch_modules=('botocore',))",
    "the same + the event-source data classes (the WebSocket handlers)":
        "import boto3; from aws_lambda_powertools import Logger, Tracer; "
        "from aws_lambda_powertools.utilities.data_classes import APIGatewayWebSocketEvent, event_source; "
        "Logger(); Tracer(patch_modules=('botocore',))",
    "the same + Metrics and the REST resolver (the REST handlers)":
        "import boto3; from aws_lambda_powertools import Logger, Metrics, Tracer; "
        "from aws_lambda_powertools.event_handler import APIGatewayRestResolver; "
        "Logger(); Tracer(patch_modules=('botocore',)); Metrics(); APIGatewayRestResolver()",
}


def handler_figures(stack: CapturedStack) -> Figures:
    """Cold import of each handler module vs `import boto3`, both in the function's Lambda-like environment, and
    the floors its libraries set; with valgrind, each one's instructions over `import boto3`'s too."""
    with tempfile.TemporaryDirectory(prefix="bench-handlers-") as staging:
        measured = library_floors() + handler_imports(stack, Path(staging))
        figures: Figures = []
        for label, result, _ in measured:
            figures.append((label, f"wall {result.fmt_ratio()}  CPU {result.fmt_ratio(cpu=True)}  "
                                   f"[{result.a.fmt('ms', 1000, 0)} vs {result.b.fmt('ms', 1000, 0)}]"))
        env = lambda_environment({})
        counted = instructions({"boto3": ([sys.executable, "-c", "import boto3"], env),
                                **{label: (command, env) for label, _, (command, env) in measured}}, cwd=ROOT)
        if counted is None:
            return [*figures, ("instructions (callgrind)", "not counted (no valgrind, or BENCH_INSTRUCTIONS=0)")]
        return figures + [(f"{label.split(' / ')[0]}: instructions / import boto3's (one count each)",
                           f"{counted[label] / counted['boto3']:.2f}x ({counted[label] / 1e6:,.0f} M vs "
                           f"{counted['boto3'] / 1e6:,.0f} M)") for label, _, _ in measured]


#: A measured import: its label, the paired timing against `import boto3`, and its command and environment.
Measured = tuple[str, Paired, tuple[list[str], dict[str, str]]]


def library_floors() -> list[Measured]:
    env = lambda_environment({"POWERTOOLS_SERVICE_NAME": "bench", "POWERTOOLS_METRICS_NAMESPACE": "bench"})
    measured: list[Measured] = []
    for label, statement in LIBRARY_FLOORS.items():
        command = [sys.executable, "-c", statement]
        result = paired(command, [sys.executable, "-c", "import boto3"], env_a=env, env_b=env, cwd=ROOT,
                        runs=HANDLER_RUNS)
        measured.append((f"libraries alone: {label} / import boto3", result, (command, env)))
    return measured


def handler_imports(stack: CapturedStack, staging: Path) -> list[Measured]:
    measured: list[Measured] = []
    seen: set[str] = set()
    for fn in stack.of_type("aws:lambda/function:Function"):
        assets = getattr(fn.inputs.get("code"), "assets", None)
        if not assets:
            continue  # image functions: measured by their own pattern's benchmark
        handler_module = str(fn.inputs.get("handler", "app.handler")).rsplit(".", 1)[0]
        source = next((Path(a.path) for name, a in assets.items() if name == f"{handler_module}.py"), None)
        if source is None:
            continue
        label = source.parent.relative_to(LAMBDAS_DIR).as_posix()
        if handler_module != "app":  # several functions share a folder: name the handler module
            label += f" ({handler_module})"
        if label in seen:
            continue
        seen.add(label)
        variables = {k: str(v) for k, v in (fn.inputs.get("environment") or {}).get("variables", {}).items()}
        env = lambda_environment(variables)
        code = staged_code(source.parent, staging)
        path = f"import sys; sys.path.insert(0, {str(code)!r}); "
        command = [sys.executable, "-c", path + f"import {handler_module}"]
        result = paired(command, [sys.executable, "-c", path + "import boto3"], env_a=env, env_b=env, cwd=ROOT,
                        runs=HANDLER_RUNS)
        size = len(zip_bytes({name: Path(a.path) for name, a in assets.items()}))
        measured.append((f"{label}: cold import / import boto3, {HANDLER_RUNS} pairs (goal <= 1.5x); archive "
                         f"{size / 1024:.1f} KiB", result, (command, env)))
    return measured


def suite_figures() -> Figures:
    if os.environ.get("BENCH_SUITE", "1") == "0":
        return [("whole test suite", "skipped (BENCH_SUITE=0)")]
    wall, _, runs = repeated([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *SUITE_WORKERS],
                             runs=1, warmup=0, cwd=ROOT)
    return [("whole test suite (wall, one run)", wall.fmt()),
            ("whole test suite (CPU of every worker, user+sys)", f"{runs[0].cpu:.0f} s"),
            ("suite / two-minute budget", f"{wall.median / SUITE_BUDGET_SECONDS:.2f}x")]


def pattern_benchmarks() -> list[tuple[str, Callable[[], Figures]]]:
    found = []
    for module in pkgutil.iter_modules(benchmarks.__path__):
        if module.name in ("bench", "timing"):
            continue
        loaded = importlib.import_module(f"benchmarks.{module.name}")
        if hasattr(loaded, "figures"):
            found.append((module.name, loaded.figures))
    return found


def print_section(title: str, figures: Figures) -> None:
    print(f"\n## {title}", flush=True)
    width = max((len(label) for label, _ in figures), default=0)
    for label, value in figures:
        print(f"  {label:<{width}}  {value}", flush=True)


def main() -> int:
    os.chdir(ROOT)
    stack = run_program(ROOT, "dev")
    print(f"# Benchmarks ({RUNS} paired runs where paired; python {sys.version.split()[0]}; {load()})")
    figures, _ = plan_figures(stack)
    print_section("Offline plan", figures)
    print_section("Lambda handlers (Lambda-like environment, tracing on)", handler_figures(stack))
    print_section("Scale (offline plan, pack and gate on)", scale_figures())
    # Pattern benchmarks run real handler code in-process: keep their INFO logs out of the report.
    logging.disable(logging.INFO)
    for name, pattern_figures in pattern_benchmarks():
        print_section(name, pattern_figures())
    print_section("Test suite", suite_figures())
    print(f"\n# done; {load()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
