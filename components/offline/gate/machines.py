"""State machines: each definition's structure (`asl`) and its tasks (`tasks`)."""

import json

from serverless_patterns.offline.engine import CapturedStack
from serverless_patterns.offline.gate.asl import SPEC, check_structure, each_task
from serverless_patterns.offline.gate.report import Finding, GateReport, Unchecked
from serverless_patterns.offline.gate.tasks import check_task
from serverless_patterns.offline.gate.values import is_unknown, secret_value, unknown_paths

STATE_MACHINE = "aws:sfn/stateMachine:StateMachine"


def check(stack: CapturedStack, report: GateReport) -> None:
    for machine in stack.of_type(STATE_MACHINE):
        report.counts["state machines"] += 1
        raw = secret_value(machine.inputs.get("definition"))
        if is_unknown(raw) or unknown_paths(raw):
            report.unchecked.append(Unchecked(machine.type, machine.name, "definition",
                                              "the definition is only known at deploy time"))
            continue
        try:
            definition = json.loads(raw) if isinstance(raw, str) else raw
        except ValueError as error:
            report.findings.append(Finding(machine.type, machine.name, "definition", str(raw)[:80],
                                           f"the definition is not JSON: {error}", SPEC))
            continue
        if not isinstance(definition, dict):
            report.findings.append(Finding(machine.type, machine.name, "definition", definition,
                                           "the definition must be a JSON object", SPEC))
            continue
        issues, states = check_structure(definition)
        report.counts["states"] += states
        for path, state in each_task(definition):
            found, checked = check_task(path, state)
            issues += found
            report.counts["tasks"] += checked
        for path, value, rule, source in issues:
            report.findings.append(Finding(machine.type, machine.name, f"definition.{path}", value, rule, source))
