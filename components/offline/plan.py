"""The offline plan: `pulumi preview` for machines without cloud credentials or the Pulumi CLI.

Runs the program for a stack through the offline engine, then prints a preview-like
report: the component tree, counts by resource type, the stack outputs, every finding of the
validation gate (AWS's published contracts, `serverless_patterns.offline.gate`) and every
policy-pack violation. Exit codes: 0 clean, 1 gate findings or mandatory policy violations,
2 invalid configuration or component arguments, 3 the program failed for another reason.

    python -m serverless_patterns.offline.plan [--stack dev] [--json] [--project-dir .] [--policy-pack-config F]
                                               [--config KEY=VALUE ...]
"""

from __future__ import annotations

import gc

if __name__ == "__main__":
    # A one-shot process (see `main`): the cyclic collector stays off from its first import of the SDK on.
    gc.disable()

import argparse
import json
import os
import sys
import time
import traceback
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, is_dataclass
from pathlib import Path
from typing import Any, NoReturn

from serverless_patterns.core.args import ComponentArgsError
from serverless_patterns.offline.engine import CapturedStack, StackConfigFileError, run_program
from serverless_patterns.offline.gate import GateReport, run_gate
from serverless_patterns.offline.gate.sources import SourceUnavailable
from serverless_patterns.offline.mocks import CapturedResource

EXIT_OK, EXIT_VIOLATIONS, EXIT_INVALID, EXIT_FAILED = 0, 1, 2, 3


@dataclass
class PlanResult:
    stack: CapturedStack
    violations: list[Any]
    policy_ran: bool
    seconds: float
    phases: dict[str, float] = field(default_factory=dict)
    """Seconds per phase of the plan (program, gate, pack, render), for `make bench`."""
    gate: GateReport | None = None
    gate_skipped: str = ""
    """Why the gate did not run (switched off, or its sources are not installed)."""
    cpu_phases: dict[str, float] = field(default_factory=dict)
    """CPU seconds (user + sys, all threads) per phase."""

    @property
    def mandatory(self) -> list[Any]:
        return [v for v in self.violations if v.enforcement_level == "mandatory"]

    @property
    def failed(self) -> bool:
        """A gate finding fails the plan exactly like a mandatory policy violation."""
        return bool(self.mandatory) or bool(self.gate and self.gate.findings)


def run_policies(stack: CapturedStack, config: dict[str, Any] | None = None) -> tuple[bool, list[Any]]:
    """Run the policy pack over the captured stack (when the pack is installed with the library)."""
    try:
        from serverless_patterns.policies.runner import analyze
    except ImportError:
        return False, []
    return True, list(analyze(stack, config))


def load_policy_config(path: str | None) -> dict[str, Any] | None:
    """The `--policy-pack-config` JSON, read as the CLI reads it."""
    if path is None:
        return None
    from serverless_patterns.policies.runner import load_config

    try:
        return load_config(path)
    except (OSError, ValueError) as error:
        raise StackConfigFileError(f"{path}: not a usable policy pack config: {error}") from None


def plan(project_dir: str | Path = ".", stack: str = "dev", *, policies: bool = True,
         policy_config: dict[str, Any] | None = None, config_overrides: dict[str, str] | None = None,
         gate: bool = True) -> PlanResult:
    marks = [(time.perf_counter(), time.process_time())]
    captured = run_program(project_dir, stack, config_overrides=config_overrides)
    marks.append((time.perf_counter(), time.process_time()))
    report, skipped = None, "switched off (--no-gate)"
    if gate:
        try:
            report, skipped = run_gate(captured), ""
        except SourceUnavailable as error:
            skipped = str(error)
    marks.append((time.perf_counter(), time.process_time()))
    ran, violations = run_policies(captured, policy_config) if policies else (False, [])
    marks.append((time.perf_counter(), time.process_time()))
    names = ("program", "gate", "pack")
    return PlanResult(captured, violations, ran, marks[-1][0] - marks[0][0],
                      {name: marks[i + 1][0] - marks[i][0] for i, name in enumerate(names)}, report, skipped,
                      {name: marks[i + 1][1] - marks[i][1] for i, name in enumerate(names)})


def parse_config_overrides(pairs: Sequence[str]) -> dict[str, str]:
    """`--config ns:key=value` pairs, as `pulumi preview --config` takes them (a key without a namespace
    is in the project's)."""
    overrides: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise StackConfigFileError(f"--config {pair!r}: expected KEY=VALUE")
        overrides[key] = value
    return overrides


def _tree(stack: CapturedStack, resource: CapturedResource) -> dict[str, Any]:
    return {"type": resource.type, "name": resource.name, "urn": resource.urn,
            "children": [_tree(stack, child) for child in stack.children(resource.urn)]}


def _violation_dict(violation: Any) -> dict[str, Any]:
    if is_dataclass(violation) and not isinstance(violation, type):
        return asdict(violation)
    return dict(vars(violation))


def to_json(result: PlanResult) -> dict[str, Any]:
    stack = result.stack
    return {
        "project": stack.project,
        "stack": stack.stack,
        "ok": not result.failed,
        "summary": {"resources": len(stack.resources), "components": len(stack.components()),
                    "custom": sum(1 for r in stack.resources if r.custom), "seconds": round(result.seconds, 3)},
        "tree": [_tree(stack, r) for r in stack.roots()],
        "counts": stack.counts_by_type(),
        "outputs": stack.outputs,
        "policy": {"ran": result.policy_ran, "mandatory": len(result.mandatory),
                   "advisory": len(result.violations) - len(result.mandatory),
                   "violations": [_violation_dict(v) for v in result.violations]},
        "gate": result.gate.to_json() if result.gate else {"ran": False, "reason": result.gate_skipped},
    }


def render(result: PlanResult) -> str:
    stack = result.stack
    lines = [f"Offline plan of stack '{stack.stack}' (project {stack.project}, "
             f"region {stack.config.get('aws:region', 'default')}) — no cloud calls were made", ""]

    def walk(resource: CapturedResource, depth: int) -> None:
        marker = "+" if resource.custom else "≡"
        # An explicit provider is where another account or Region comes in: name it.
        provider = resource.provider.rsplit("::", 1)[0].rsplit("::", 1)[-1] if resource.provider else ""
        via = f"  (provider {provider})" if provider else ""
        lines.append(f"{'    ' * depth}{marker} {resource.type}  {resource.name}{via}")
        for child in stack.children(resource.urn):
            walk(child, depth + 1)

    lines.append("Resources (≡ component, + resource to create):")
    for root in stack.roots():
        walk(root, 1)
    lines += ["", "Counts by type:"]
    lines += [f"    {count:4d}  {typ}" for typ, count in stack.counts_by_type().items()]
    lines += ["", "Outputs:"]
    if stack.outputs:
        for key, value in stack.outputs.items():
            rendered = json.dumps(value, indent=2, sort_keys=True, default=str).replace("\n", "\n        ")
            lines.append(f"    {key}: {rendered}")
    else:
        lines.append("    (none)")
    lines += ["", "Validation gate (AWS's published contracts):"]
    if result.gate is None:
        lines.append(f"    not run: {result.gate_skipped}")
    else:
        sources = ", ".join(f"{name} {version}" for name, version in result.gate.sources.items())
        lines.append(f"    sources: {sources}")
        lines += [f"    [finding] {finding}" for finding in result.gate.findings]
        lines += [f"    [deprecated] {item}" for item in result.gate.deprecated]
        lines += [f"    [unchecked] {item}" for item in result.gate.unchecked]
        if not result.gate.findings:
            lines.append("    no findings")
    lines += ["", "Policy pack:"]
    if not result.policy_ran:
        lines.append("    not run (policy pack not installed)")
    elif not result.violations:
        lines.append("    no violations")
    for v in result.violations:
        lines.append(f"    [{v.enforcement_level}] {v.policy_name}: {v.resource_type} {v.resource_name}")
        lines.append("        " + str(v.message).replace("\n", "\n        "))
    findings = len(result.gate.findings) if result.gate else 0
    lines += ["", f"{len(stack.resources)} resources ({len(stack.components())} components), {findings} gate "
              f"findings, {len(result.mandatory)} mandatory and {len(result.violations) - len(result.mandatory)} "
              f"advisory violations, {result.seconds:.2f}s"]
    if result.gate is not None:
        lines.append(result.gate.summary())
    return "\n".join(lines)


def args_error_in(error: BaseException) -> ComponentArgsError | None:
    """The `ComponentArgsError` behind `error`, if any.

    One raised inside an `apply` reaches the program wrapped in Pulumi's `ValueError`s ("While processing
    resource ... has risen: ..."); the original is on the exception chain (which may be cyclic).
    """
    seen: set[int] = set()
    pending: list[BaseException] = [error]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, ComponentArgsError):
            return current
        pending += [linked for linked in (current.__cause__, current.__context__) if linked is not None]
    return None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="serverless-patterns-plan",
                                     description="Preview a stack offline: no cloud credentials, no Pulumi CLI.")
    parser.add_argument("--stack", "-s", default="dev", help="stack name: reads Pulumi.<stack>.yaml (default dev)")
    parser.add_argument("--project-dir", "-C", default=".", help="folder with Pulumi.yaml (default .)")
    parser.add_argument("--json", action="store_true", help="print the plan as JSON")
    parser.add_argument("--no-policies", action="store_true", help="skip the policy pack")
    parser.add_argument("--no-gate", action="store_true", help="skip the validation gate (AWS's contracts)")
    parser.add_argument("--policy-pack-config", metavar="FILE",
                        help="the pack's config JSON, as `pulumi preview --policy-pack-config` takes it")
    parser.add_argument("--config", "-c", action="append", default=[], metavar="KEY=VALUE",
                        help="set a config value for this plan only, as `pulumi preview --config` (repeatable)")
    parser.add_argument("--debug", action="store_true", help="print a traceback when the program fails")
    args = parser.parse_args(argv)
    # A one-shot process: almost everything it allocates (modules, resources, outputs) lives until exit, so
    # the cyclic collector's passes over the growing heap find little to free. They cost about a fifth of
    # the plan of `dev` and half of a 4,000-resource plan (`make bench`, scale table); without them peak
    # memory grows by about a fifth. Reference counting still frees everything acyclic. Called as a function
    # (tests), it leaves the collector as it found it.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _run(args)
    finally:
        if collecting:
            gc.enable()


def _run(args: argparse.Namespace) -> int:
    try:
        result = plan(args.project_dir, args.stack, policies=not args.no_policies,
                      policy_config=load_policy_config(args.policy_pack_config),
                      config_overrides=parse_config_overrides(args.config), gate=not args.no_gate)
    except (ComponentArgsError, StackConfigFileError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_INVALID
    except Exception as error:
        args_error = args_error_in(error)
        if args_error is not None:
            print(f"error: {args_error}", file=sys.stderr)
            return EXIT_INVALID
        if args.debug:
            traceback.print_exc()
        print(f"error: the program failed: {type(error).__name__}: {error}"
              + ("" if args.debug else " (run with --debug for a traceback)"), file=sys.stderr)
        return EXIT_FAILED
    render_started, render_cpu = time.perf_counter(), time.process_time()
    text = json.dumps(to_json(result), indent=2, sort_keys=True, default=str) if args.json else render(result)
    result.phases["render"] = time.perf_counter() - render_started
    result.cpu_phases["render"] = time.process_time() - render_cpu
    print(text)
    if os.environ.get("SERVERLESS_PATTERNS_PLAN_PHASES"):
        # For `make bench`: the phase split (wall, then CPU) on stderr, so the plan's own output stays as it is.
        print("phases " + json.dumps({k: round(v, 4) for k, v in result.phases.items()}), file=sys.stderr)
        print("cpu-phases " + json.dumps({k: round(v, 4) for k, v in result.cpu_phases.items()}), file=sys.stderr)
    return EXIT_VIOLATIONS if result.failed else EXIT_OK


def exit_at_once(code: int) -> NoReturn:
    """Leave the process with `code` once the report is written, without tearing the interpreter down.

    The plan is a one-shot process: everything it built dies with it. Tearing down the heap object by
    object (the SDK's modules, every resource, output and future) costs about as much CPU as the gate
    and the pack together; `os._exit` skips only that, after flushing what was printed.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    exit_at_once(main())
