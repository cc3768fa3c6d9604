"""What the gate found: findings (fail the plan), deprecated inputs (listed, never fail it), unchecked values
(unknown at preview) and counts."""

import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Finding:
    """A value AWS would refuse (or, in `GateReport.deprecated`, an input the SDK deprecates): where it is, what it
    is, which rule it breaks and where the rule comes from."""

    resource_type: str
    resource_name: str
    path: str
    value: Any
    rule: str
    source: str

    def __str__(self) -> str:
        return (f"{self.resource_type} {self.resource_name!r} at {self.path or '(resource)'}: {self.rule} "
                f"(value {show(self.value)}; source: {self.source})")


@dataclass(frozen=True)
class Unchecked:
    """A value the gate could not judge because it is only known at deploy time."""

    resource_type: str
    resource_name: str
    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.resource_type} {self.resource_name!r} at {self.path}: unchecked ({self.reason})"


@dataclass
class GateReport:
    """Everything one gate run found, with counts of what was checked and the seconds it took."""

    findings: list[Finding] = field(default_factory=list)
    unchecked: list[Unchecked] = field(default_factory=list)
    deprecated: list[Finding] = field(default_factory=list)
    """Inputs the SDK marks deprecated: AWS accepts them and the SDK only warns, so they never fail the plan."""
    counts: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    sources: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.findings

    def summary(self) -> str:
        """One line of what was checked, for the plan's summary."""
        c = self.counts
        return (f"gate: {c['state machines']} state machines ({c['states']} states), {c['tasks']} tasks checked "
                f"against service models, {c['resources']} resources and {c['properties']} properties checked "
                f"against types, {c['limits']} values against API limits, {c['statements']} IAM statements "
                f"checked against the reference, {c['functions']} functions' calls and {c['workflows']} workflows' "
                f"answer-changing permissions against their roles, "
                f"{c['orderings']} orderings; {len(self.findings)} findings, {len(self.unchecked)} unchecked, "
                f"{len(self.deprecated)} deprecated, "
                f"{self.seconds * 1000:.0f} ms")

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "counts": dict(sorted(self.counts.items())), "seconds": round(self.seconds, 3),
                "sources": self.sources,
                "findings": [_finding_json(f) for f in self.findings],
                "deprecated": [_finding_json(f) for f in self.deprecated],
                "unchecked": [asdict(u) for u in self.unchecked]}


def _finding_json(finding: Finding) -> dict[str, Any]:
    return {"resource_type": finding.resource_type, "resource_name": finding.resource_name, "path": finding.path,
            "value": _jsonable(finding.value), "rule": finding.rule, "source": finding.source}


def show(value: Any, limit: int = 120) -> str:
    """A value as a short JSON-ish string for a message."""
    try:
        text = json.dumps(value, sort_keys=True, default=str)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _jsonable(value: Any) -> Any:
    try:
        json.dumps(value)
        return value
    except (TypeError, ValueError):
        return repr(value)
