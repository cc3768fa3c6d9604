"""`make mutate`: mutation testing of the security-critical modules, each against its own tests only.

For every target below, mutmut (pinned in constraints.txt) mutates one module and runs only the tests
that module is meant to be guarded by, so a whole run fits a 2-core machine. mutmut names mutants after
the import path of the file it mutates, and this repo maps `components/`, `lambdas/` and `policies/` onto
one package, so each target runs in a scratch copy (`.build/mutate/<target>/`) laid out as that package:
`serverless_patterns/` (components), `serverless_patterns/lambdas/`, `serverless_patterns/policies/`, and
`tests/`. mutmut puts its mutated copy first on `sys.path`, ahead of the editable install.

Survivors that cannot change behaviour are recorded in `benchmarks/mutation-equivalents.json` with a
one-line reason, keyed by target, function and the mutated line, so renumbered mutants still match.
The score is killed / (mutants - equivalent); the goal is at least 90% for every target.

    python -m benchmarks.mutate                 # every target
    python -m benchmarks.mutate core-iam        # some targets
    python -m benchmarks.mutate --report FILE   # also write the Markdown report
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRATCH = ROOT / ".build" / "mutate"
EQUIVALENTS = ROOT / "benchmarks" / "mutation-equivalents.json"
#: Hand-written notes appended to the report: how the figures were measured, which tests kill named mutants.
NOTES = ROOT / "benchmarks" / "mutation-notes.md"
MUTMUT = Path(sys.executable).with_name("mutmut")
GOAL = 0.90

#: repo folder -> where it sits in the installed package (setup.py's ROOTS)
PACKAGE_DIRS = {"components": "serverless_patterns", "lambdas": "serverless_patterns/lambdas",
                "policies": "serverless_patterns/policies"}
#: Files outside the package some tests read (the program and its stack config).
ROOT_FILES = ("__main__.py", "Pulumi.yaml", "Pulumi.dev.yaml")
#: The pack folder as the Pulumi CLI runs it (`policies/__main__.py`), which one pack test starts.
ROOT_DIRS = ("policies",)
IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache")


@dataclass(frozen=True)
class Target:
    """One module, the tests that guard it, and (optionally) the only functions to mutate."""

    name: str
    source: str
    tests: tuple[str, ...]
    functions: tuple[str, ...] = ()

    @property
    def package_path(self) -> str:
        top, _, rest = self.source.partition("/")
        return f"{PACKAGE_DIRS[top]}/{rest}"

    @property
    def module(self) -> str:
        return self.package_path[: -len(".py")].replace("/", ".")

    def mutant_patterns(self) -> list[str]:
        """mutmut's name patterns for the chosen functions (mutmut prefixes plain functions with `x_`)."""
        return [f"{self.module}.x_{function}__mutmut_*" for function in self.functions]


def _policy_tests(*names: str) -> tuple[str, ...]:
    """The policy-pack test modules a rule module is guarded by (the dev-stack and coverage-scan tests build
    whole stacks and prove nothing rule-specific, so they stay out of the per-mutant runs)."""
    return tuple(f"tests/policies/test_policies_{name}.py" for name in names)


TARGETS: tuple[Target, ...] = (
    Target("core-iam", "components/core/iam.py", ("tests/core/test_iam.py",)),
    Target("core-args", "components/core/args.py", ("tests/core/test_args.py",)),
    Target("core-config", "components/core/config.py",
           ("tests/core/test_stack_config.py", "tests/core/test_config_loader.py", "tests/offline/test_config.py")),
    Target("multi-tenant-authorizer", "lambdas/multi_tenant_api/authorizer/app.py",
           ("tests/multi_tenant_api/test_authorizer.py", "tests/multi_tenant_api/test_admin_authorizer.py")),
    Target("progress-authorizer", "lambdas/progress_tracker/authorizer/app.py",
           ("tests/progress_tracker/test_progress_authorizer.py",)),
    Target("glacier-validation", "components/glacier_restore/definitions.py",
           ("tests/glacier_restore/test_glacier_validation.py",),
           functions=("_fail", "_email_is_malformed", "_validation_rules", "_storage_class_rules")),
    # The policy rules: each rule module against the tests of its rules (case tables, near misses, bypasses).
    Target("policy-iam", "policies/iam.py", _policy_tests("iam", "conditions", "near_miss", "rules")),
    Target("policy-conditions", "policies/conditions.py", _policy_tests("conditions", "iam", "near_miss")),
    Target("policy-execute-api", "policies/execute_api.py", _policy_tests("iam", "near_miss", "rules")),
    Target("policy-api-gateway", "policies/api_gateway.py", _policy_tests("baseline", "near_miss", "rules")),
    Target("policy-lambda", "policies/lambda_.py", _policy_tests("baseline", "near_miss", "rules")),
    Target("policy-state-machines", "policies/state_machines.py",
           _policy_tests("state_machines", "near_miss", "rules")),
    Target("policy-storage", "policies/storage.py", _policy_tests("baseline", "near_miss", "rules")),
    Target("policy-ecr", "policies/ecr.py", _policy_tests("baseline", "conditions", "near_miss", "rules")),
    Target("policy-cognito", "policies/cognito.py", _policy_tests("baseline", "near_miss", "rules")),
    Target("policy-suppressions", "policies/suppressions.py", _policy_tests("pack", "near_miss", "rules")),
)


@dataclass
class Outcome:
    target: Target
    statuses: dict[str, str] = field(default_factory=dict)
    equivalent: dict[str, str] = field(default_factory=dict)
    survivors: dict[str, str] = field(default_factory=dict)  # name -> the mutated line
    seconds: float = 0.0

    @property
    def total(self) -> int:
        return len(self.statuses)

    @property
    def unchecked(self) -> int:
        """Mutants a stopped run never got to (they count neither way)."""
        return sum(1 for s in self.statuses.values() if s == "not checked")

    @property
    def killed(self) -> int:
        return sum(1 for s in self.statuses.values() if s in ("killed", "timeout", "segfault"))

    @property
    def score(self) -> float:
        relevant = self.total - self.unchecked - len(self.equivalent)
        return self.killed / relevant if relevant else 1.0


def prepare(target: Target) -> Path:
    """A fresh scratch copy laid out as the installed package, with mutmut's config for this target."""
    work = SCRATCH / target.name
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    for folder, dest in PACKAGE_DIRS.items():
        shutil.copytree(ROOT / folder, work / dest, ignore=IGNORE, dirs_exist_ok=True)
    shutil.copytree(ROOT / "tests", work / "tests", ignore=IGNORE)
    for name in ROOT_FILES:
        shutil.copy2(ROOT / name, work / name)
    for name in ROOT_DIRS:
        shutil.copytree(ROOT / name, work / name, ignore=IGNORE)
    if target.functions:
        only_functions(work / target.package_path, target.functions)
    tests = json.dumps(list(target.tests))
    (work / "pyproject.toml").write_text(f"""\
[tool.pytest.ini_options]
testpaths = ["tests"]
pythonpath = ["serverless_patterns/lambdas/shared"]
filterwarnings = ["ignore::DeprecationWarning"]

[tool.mutmut]
source_paths = ["serverless_patterns"]
only_mutate = ["{target.package_path}"]
also_copy = {json.dumps([*ROOT_FILES, *ROOT_DIRS])}
pytest_add_cli_args = ["-p", "no:cacheprovider", "-q"]
pytest_add_cli_args_test_selection = {tests}
use_git_change_detection = false
""")
    return work


def only_functions(path: Path, functions: Sequence[str]) -> None:
    """In the scratch copy only: mark every other top-level function `# pragma: no mutate block`, so mutmut
    neither mutates nor copies it (a large definition builder would otherwise be copied once per mutant)."""
    import ast

    lines = path.read_text().splitlines()
    for node in ast.parse("\n".join(lines)).body:
        if isinstance(node, ast.FunctionDef) and node.name not in functions:
            header = node.body[0].lineno - 2  # the line ending the signature, just above the body
            if lines[header].rstrip().endswith(":"):
                lines[header] = lines[header].rstrip() + "  # pragma: no mutate block"
    path.write_text("\n".join(lines) + "\n")


def refresh_tests(target: Target) -> Path:
    """The last run's scratch copy with the current tests (the mutated module and mutmut's results are kept)."""
    work = SCRATCH / target.name
    if not (work / "mutants").exists():
        raise SystemExit(f"{target.name} has no earlier run in {work}")
    shutil.rmtree(work / "tests")
    shutil.copytree(ROOT / "tests", work / "tests", ignore=IGNORE)
    return work


def run_mutmut(target: Target, work: Path, children: int, budget: float | None = None,
               names: Sequence[str] = ()) -> None:
    """Run mutmut (on `names` only, if given); with a `budget` (seconds) stop it then, keeping the mutants it
    checked (the rest count as 'not checked' in the report, never as killed)."""
    command = ["nice", "-n", "10", str(MUTMUT), "run", "--max-children", str(children),
               *(names or target.mutant_patterns())]
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    with open(work / "mutmut.log", "w") as log:
        process = subprocess.Popen(command, cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        try:
            returncode = process.wait(timeout=budget)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait()
            return
    if returncode != 0:
        tail = (work / "mutmut.log").read_text(errors="replace")[-3000:]
        raise RuntimeError(f"mutmut failed for {target.name} (exit {returncode}):\n{tail}")


#: Run inside the scratch copy: the line each named mutant changed, as it reads after the change.
_DIFFS = """
import json, sys
from mutmut.mutation.diff_apply import get_diff_for_mutant
path = sys.argv[1]
out = {}
for name in json.load(sys.stdin):
    diff = get_diff_for_mutant(name, path=path)
    added = [l[1:].strip() for l in diff.splitlines() if l.startswith("+") and not l.startswith("+++")]
    out[name] = " | ".join(added) or "(line removed)"
print(json.dumps(out))
"""


def mutated_lines(work: Path, target: Target, names: list[str]) -> dict[str, str]:
    """The line each mutant changed, as it reads after the change (how equivalents are recorded)."""
    if not names:
        return {}
    done = subprocess.run([sys.executable, "-c", _DIFFS, target.package_path], cwd=work, input=json.dumps(names),
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def function_of(name: str) -> str:
    """`pkg.mod.x_allow__mutmut_3` -> `allow`; methods read `Class.method`."""
    mangled = name.rpartition(".")[2].partition("__mutmut_")[0]
    if mangled.startswith("xǁ"):
        cls, _, method = mangled[2:].partition("ǁ")
        return f"{cls}.{method}"
    return mangled[2:] if mangled.startswith("x_") else mangled


def collect(target: Target, work: Path, equivalents: dict[str, dict[str, str]]) -> Outcome:
    from mutmut.stats import status_by_exit_code  # only where mutmut is installed

    meta = json.loads((work / "mutants" / f"{target.package_path}.meta").read_text())
    outcome = Outcome(target)
    patterns = [p[: -len("*")] for p in target.mutant_patterns()]
    known = equivalents.get(target.name, {})
    for name, code in meta["exit_code_by_key"].items():
        if patterns and not any(name.startswith(p) for p in patterns):
            continue
        outcome.statuses[name] = status_by_exit_code[code]
    alive = [n for n, s in outcome.statuses.items() if s not in ("killed", "timeout", "segfault", "not checked")]
    for name, line in mutated_lines(work, target, alive).items():
        key = f"{function_of(name)}: {line}"
        if key in known:
            outcome.equivalent[name] = known[key]
        else:
            outcome.survivors[name] = f"[{outcome.statuses[name]}] {key}"
    return outcome


def save(outcome: Outcome) -> None:
    """Keep a target's result beside its scratch copy, so one report can combine separate runs."""
    (SCRATCH / outcome.target.name / "outcome.json").write_text(json.dumps({
        "statuses": outcome.statuses, "equivalent": outcome.equivalent, "survivors": outcome.survivors,
        "seconds": outcome.seconds}))


def load(target: Target) -> Outcome | None:
    path = SCRATCH / target.name / "outcome.json"
    if not path.exists():
        return None
    data = json.loads(path.read_text())
    return Outcome(target, data["statuses"], data["equivalent"], data["survivors"], data["seconds"])


def table(outcomes: Iterable[Outcome]) -> list[str]:
    rows = ["| target | module | mutants | killed | equivalent | survived | not checked | score | time |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for o in outcomes:
        rows.append(f"| {o.target.name} | `{o.target.source}` | {o.total} | {o.killed} | {len(o.equivalent)} | "
                    f"{len(o.survivors)} | {o.unchecked} | {o.score:.1%} | "
                    + ("stopped |" if o.unchecked or o.seconds != o.seconds else f"{o.seconds:.0f} s |"))
    return rows


def report(outcomes: Sequence[Outcome], equivalents: dict[str, dict[str, str]]) -> str:
    lines = ["# Mutation report", "",
             "Written by `make mutate` (`python -m benchmarks.mutate --report benchmarks/mutation-report.md`).",
             "Each module is mutated by mutmut and run against its own tests only; score = killed / (mutants checked",
             "- equivalent). Equivalent mutants and their reasons live in `benchmarks/mutation-equivalents.json`.",
             "", *table(outcomes), ""]
    for o in outcomes:
        t = o.target
        lines.append(f"## {t.name}")
        lines.append("")
        lines.append(f"`{t.source}` against {', '.join(f'`{x}`' for x in t.tests)}"
                     + (f"; functions {', '.join(f'`{f}`' for f in t.functions)}" if t.functions else "") + ".")
        lines.append("")
        for key, reason in sorted(equivalents.get(t.name, {}).items()):
            lines.append(f"- equivalent: `{key}` - {reason}")
        for name, what in sorted(o.survivors.items()):
            lines.append(f"- SURVIVED `{name}`: `{what}`")
        lines.append("")
    if NOTES.exists():
        lines += ["", NOTES.read_text().rstrip()]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("targets", nargs="*", help="target names (default: all)")
    parser.add_argument("--children", type=int, default=int(os.environ.get("MUTATE_CHILDREN", "1")),
                        help="parallel mutant runs (default 1, or $MUTATE_CHILDREN)")
    parser.add_argument("--report", type=Path, help="write the Markdown report here")
    parser.add_argument("--budget", type=float, help="stop each target after this many seconds (partial result)")
    parser.add_argument("--again", action="store_true",
                        help="re-run only the last run's survivors and unchecked mutants, against the current tests "
                             "(after adding tests; the module itself must be unchanged)")
    parser.add_argument("--survivors-only", action="store_true",
                        help="with --again: leave the unchecked mutants of a stopped run unchecked")
    parser.add_argument("--collect", action="store_true",
                        help="run nothing: read the last results of the targets again (after editing the equivalents)")
    parser.add_argument("--resume", action="store_true",
                        help="continue a stopped run in its scratch copy (mutmut keeps each mutant's result), with "
                             "the current tests")
    args = parser.parse_args(argv)
    chosen = [t for t in TARGETS if not args.targets or t.name in args.targets]
    unknown = set(args.targets) - {t.name for t in TARGETS}
    if unknown:
        parser.error(f"unknown targets {sorted(unknown)}; known: {', '.join(t.name for t in TARGETS)}")
    equivalents = json.loads(EQUIVALENTS.read_text()) if EQUIVALENTS.exists() else {}
    outcomes = []
    for target in chosen:
        started, last = time.perf_counter(), None
        if args.again:
            work, last = refresh_tests(target), load(target)
            unchecked = [] if args.survivors_only else [n for n, s in last.statuses.items() if s == "not checked"]
            names = [*unchecked, *(n for n, w in last.survivors.items() if "[not checked]" not in w)] if last else []
            if names:
                run_mutmut(target, work, args.children, args.budget, names)
        elif args.collect:
            work, last = SCRATCH / target.name, load(target)
            if last is None:
                raise SystemExit(f"{target.name} has no earlier run in {work}")
        elif args.resume:
            last = load(target)
            run_mutmut(target, refresh_tests(target), args.children, args.budget)
            work = SCRATCH / target.name
        else:
            work = prepare(target)
            run_mutmut(target, work, args.children, args.budget)
        outcome = collect(target, work, equivalents)
        outcome.seconds = (0.0 if args.collect else time.perf_counter() - started) + (
            last.seconds if last else 0.0)
        save(outcome)
        outcomes.append(outcome)
        print("\n".join(table([outcome])[2:]), flush=True)
        for name, what in sorted(outcome.survivors.items()):
            print(f"    survived {name}: {what}")
        for name, reason in sorted(outcome.equivalent.items()):
            print(f"    equivalent {name}: {reason}")
    print()
    print("\n".join(table(outcomes)))
    if args.report:
        # Targets not run this time keep their last result (`.build/mutate/<target>/outcome.json`).
        fresh = {o.target.name: o for o in outcomes}
        combined = [fresh.get(t.name) or load(t) for t in TARGETS]
        missing = [t.name for t, o in zip(TARGETS, combined, strict=True) if o is None]
        args.report.write_text(report([o for o in combined if o is not None], equivalents)
                               + (f"\nNot run yet: {', '.join(missing)}.\n" if missing else ""))
    below = [o.target.name for o in outcomes if o.score < GOAL]
    if below:
        print(f"below {GOAL:.0%}: {', '.join(below)}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
