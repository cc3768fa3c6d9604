"""IAM policy documents built as data, scoped to concrete ARNs.

Every statement is checked when it is built: no wildcard actions, and `Resource: "*"`
only for actions AWS cannot scope (`policies.knowledge.UNSCOPABLE_ACTIONS`). Documents
are serialised with `Output.json_dumps`, so ARNs that are still outputs stay typed data
until deploy time instead of being pasted into JSON strings.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi

from serverless_patterns.policies.knowledge import UNSCOPABLE_ACTIONS, is_unscopable

_ACTION_RE = re.compile(r"^[a-z0-9-]+:[A-Za-z0-9]+$")
_DENY_ACTION_RE = re.compile(r"^[a-z0-9-]+:[A-Za-z0-9*]+$")

Conditions = Mapping[str, Mapping[str, Any]]


class PolicyError(ValueError):
    """A statement that would grant more than least privilege allows."""


@dataclass(frozen=True)
class Statement:
    """One IAM statement. Use `allow()` / `deny()` to build it."""

    actions: tuple[str, ...]
    resources: tuple[pulumi.Input[str], ...] = ()
    effect: str = "Allow"
    sid: str | None = None
    conditions: Conditions | None = None
    principals: Mapping[str, Any] | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.actions:
            raise PolicyError("a statement needs at least one action")
        for action in self.actions:
            # A Deny only restricts, so `s3:*` is fine there (e.g. TLS-only bucket policies).
            pattern = _DENY_ACTION_RE if self.effect == "Deny" else _ACTION_RE
            if not pattern.fullmatch(action):
                raise PolicyError(
                    f"action {action!r} is not an exact 'service:Action' name (wildcards are not allowed)")
        if "*" in self.resources and self.effect == "Allow":
            scoped = [a for a in self.actions if not is_unscopable(a)]
            if scoped:
                raise PolicyError(
                    "Resource '*' is only allowed for actions AWS cannot scope "
                    f"({', '.join(sorted(UNSCOPABLE_ACTIONS))});"
                    f" scope {', '.join(scoped)} to ARNs")

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.sid:
            out["Sid"] = self.sid
        out["Effect"] = self.effect
        if self.principals is not None:
            out["Principal"] = dict(self.principals)
        out["Action"] = list(self.actions) if len(self.actions) > 1 else self.actions[0]
        if self.resources:
            out["Resource"] = list(self.resources) if len(self.resources) > 1 else self.resources[0]
        if self.conditions:
            out["Condition"] = {op: dict(values) for op, values in self.conditions.items()}
        out.update(self.extra)
        return out


def allow(actions: Sequence[str], resources: Sequence[pulumi.Input[str]] = (), *, sid: str | None = None,
          conditions: Conditions | None = None, principals: Mapping[str, Any] | None = None) -> Statement:
    """An Allow statement for exact actions on exact resources."""
    return Statement(tuple(actions), tuple(resources), "Allow", sid, conditions, principals)


def deny(actions: Sequence[str], resources: Sequence[pulumi.Input[str]] = (), *, sid: str | None = None,
         conditions: Conditions | None = None, principals: Mapping[str, Any] | None = None) -> Statement:
    """A Deny statement (e.g. TLS-only bucket policies); service wildcards such as `s3:*` are allowed."""
    return Statement(tuple(actions), tuple(resources), "Deny", sid, conditions, principals)


def document(*statements: Statement) -> pulumi.Output[str]:
    """A policy document as a JSON string output."""
    return pulumi.Output.json_dumps(document_data(*statements))


def document_data(*statements: Statement) -> dict[str, Any]:
    """The document as a dict (may contain outputs); useful where a provider wants an object."""
    if not statements:
        raise PolicyError("a policy document needs at least one statement")
    return {"Version": "2012-10-17", "Statement": [s.to_dict() for s in statements]}


def service_trust(service: str, *, source_account: pulumi.Input[str] | None = None,
                  source_arn: pulumi.Input[str] | None = None) -> pulumi.Output[str]:
    """A role trust policy for one AWS service principal, with confused-deputy conditions."""
    conditions: dict[str, dict[str, Any]] = {}
    if source_account is not None:
        conditions["StringEquals"] = {"aws:SourceAccount": source_account}
    if source_arn is not None:
        conditions["ArnLike"] = {"aws:SourceArn": source_arn}
    statement = Statement(("sts:AssumeRole",), (), "Allow", None, conditions or None, {"Service": service})
    return document(statement)

