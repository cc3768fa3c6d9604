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


#: Service principals that send no aws:SourceAccount / aws:SourceArn when they assume a role, so a trust
#: policy conditioned on them can never be assumed.
#:
#: Decision (issue 17, item 2): API Gateway's roles carry no source condition.
#: - The API Gateway Developer Guide gives the trust policy of an AWS-service integration role without a
#:   condition ("Control access to a REST API with IAM permissions":
#:   https://docs.aws.amazon.com/apigateway/latest/developerguide/permissions.html: "the resulting role
#:   contains the following IAM trust policy that declares API Gateway as a trusted entity permitted to
#:   assume the role": Principal apigateway.amazonaws.com, Action sts:AssumeRole, nothing else), and so for
#:   the account's CloudWatch role ("Set up CloudWatch logging for REST APIs":
#:   https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-logging.html).
#:   No API Gateway page says it puts aws:SourceAccount or aws:SourceArn in the AssumeRole request.
#: - IAM: "the aws:SourceAccount condition key is only available when the call to your resource is made
#:   directly by an AWS service principal ... see the Availability information for each key"
#:   (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html); a key that
#:   is absent makes a StringEquals condition false.
#: - A public fix with live evidence: aws-solutions-library-samples/accelerated-intelligent-document-
#:   processing-on-aws pull request 479 (test-invoke-method: "API Gateway does not have permission to
#:   assume the provided role"; "it does not populate aws:SourceAccount in the STS request context").
#: What still bounds these roles: only principals of this account with iam:PassRole on the role can attach
#: it to an API or to the account's settings (roles cannot be passed across accounts), and each role can
#: do one thing (start one state machine; write API Gateway logs).
NO_SOURCE_CONTEXT: dict[str, str] = {
    "apigateway.amazonaws.com": "API Gateway sends neither aws:SourceAccount nor aws:SourceArn when it assumes "
                                "an integration or CloudWatch role (see iam.NO_SOURCE_CONTEXT for the evidence)",
}


def service_trust(service: str, *, source_account: pulumi.Input[str] | None = None,
                  source_arn: pulumi.Input[str] | None = None) -> pulumi.Output[str]:
    """A role trust policy for one AWS service principal, with confused-deputy conditions where it sends them."""
    if service in NO_SOURCE_CONTEXT and (source_account is not None or source_arn is not None):
        raise PolicyError(f"a trust policy for {service} cannot require aws:SourceAccount or aws:SourceArn: "
                          f"{NO_SOURCE_CONTEXT[service]}, so the role could never be assumed")
    conditions: dict[str, dict[str, Any]] = {}
    if source_account is not None:
        conditions["StringEquals"] = {"aws:SourceAccount": source_account}
    if source_arn is not None:
        conditions["ArnLike"] = {"aws:SourceArn": source_arn}
    statement = Statement(("sts:AssumeRole",), (), "Allow", None, conditions or None, {"Service": service})
    return document(statement)

