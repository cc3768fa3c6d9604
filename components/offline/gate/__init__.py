"""The validation gate: every captured stack against AWS's published, machine-readable contracts.

`run_gate(stack)` checks state machines against the Amazon States Language and botocore's service
models, resource inputs against the pulumi-aws SDK's input types and botocore's limits, IAM documents
against the IAM Service Authorization Reference, each function's AWS calls against its role, and the
ordering of resources that need a grant first. A finding fails the plan like a mandatory policy
violation. All sources are installed, pinned packages: no network.
"""

import time
from collections.abc import Callable

from serverless_patterns.offline.engine import CapturedStack
from serverless_patterns.offline.gate import iam, inputs, machines, ordering, permissions
from serverless_patterns.offline.gate.report import Finding, GateReport, Unchecked
from serverless_patterns.offline.gate.sources import versions

Check = Callable[[CapturedStack, GateReport], None]

CHECKS: list[Check] = [machines.check, inputs.check, iam.check, permissions.check, ordering.check]


def run_gate(stack: CapturedStack) -> GateReport:
    """Run every check over `stack`."""
    started = time.perf_counter()
    report = GateReport(sources=dict(versions()))
    for check in CHECKS:
        try:
            check(stack, report)
        except Exception as error:  # a document the gate cannot read must fail the plan, not crash it
            report.findings.append(Finding("pulumi:pulumi:Stack", stack.stack, check.__module__, None,
                                           f"the gate could not finish this check: {type(error).__name__}: "
                                           f"{error}", "serverless_patterns.offline.gate"))
    report.seconds = time.perf_counter() - started
    return report


__all__ = ["CHECKS", "Finding", "GateReport", "Unchecked", "run_gate"]
