"""Helpers of the policy pack tests: run one rule by hand, or the whole pack through the servicer."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from google.protobuf import json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2 as proto
from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    StackValidationArgs,
)
from pulumi_policy.policy import _PolicyAnalyzerServicer

from serverless_patterns.offline import run_callable
from serverless_patterns.policies.pack import PACK_ENFORCEMENT_LEVEL, PACK_NAME, PACK_VERSION, POLICIES
from serverless_patterns.policies.runner import Violation, analyze, configure_request

ACCOUNT = "111111111111"
REGION = "eu-west-1"
CONFIG = {"aws:region": REGION, "aws:allowedAccountIds": json.dumps([ACCOUNT])}


def policy(rule_id: str) -> Policy:
    return next(p for p in POLICIES if p.name == rule_id)


def doc(*statements: Mapping[str, Any]) -> str:
    """A policy document as JSON text."""
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def urn(typ: str, name: str) -> str:
    return f"urn:pulumi:test::test::{typ}::{name}"


def _options() -> PolicyResourceOptions:
    return PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], None)


def by_hand(rule_id: str, typ: str, props: Mapping[str, Any], name: str = "res",
            config: Mapping[str, Any] | None = None) -> list[str]:
    """Messages of one resource rule for hand-built `ResourceValidationArgs`."""
    messages: list[str] = []
    args = ResourceValidationArgs(typ, dict(props), urn(typ, name), name, _options(), None,
                                  dict(config) if config else None)
    policy(rule_id).validate(args, lambda message, urn=None: messages.append(message))
    return messages


def resource(typ: str, name: str, props: Mapping[str, Any],
             deps: Mapping[str, list[PolicyResource]] | None = None) -> PolicyResource:
    """A hand-built stack resource (its props are outputs)."""
    return PolicyResource(typ, dict(props), urn(typ, name), name, _options(), None, None, [], dict(deps or {}))


def stack_by_hand(rule_id: str, resources: list[PolicyResource],
                  config: Mapping[str, Any] | None = None) -> list[tuple[str, str]]:
    """(resource name, message) of one stack rule over hand-built resources."""
    names = {r.urn: r.name for r in resources}
    found: list[tuple[str, str]] = []
    args = StackValidationArgs(resources, dict(config) if config else None)
    policy(rule_id).validate(args, lambda message, urn=None: found.append((names.get(urn or "", ""), message)))
    return found


def servicer(config: Mapping[str, Any] | None = None) -> _PolicyAnalyzerServicer:
    """The pack's analyzer servicer, configured as the CLI would."""
    service = _PolicyAnalyzerServicer(PACK_NAME, PACK_VERSION, POLICIES, PACK_ENFORCEMENT_LEVEL)
    request, problems = configure_request(POLICIES, config)
    assert not problems, problems
    service.Configure(request, None)
    return service


def analyze_request(typ: str, name: str, props: Mapping[str, Any]) -> proto.AnalyzeRequest:
    """An AnalyzeRequest as the engine sends it (props may hold pulumi-policy's unknown sentinels)."""
    return proto.AnalyzeRequest(type=typ, name=name, urn=urn(typ, name),
                                properties=json_format.ParseDict(dict(props), struct_pb2.Struct()))


def diagnostics(response: Any) -> list[tuple[str, str, str]]:
    """(policy, enforcement level, message) of an AnalyzeResponse."""
    levels = {proto.ADVISORY: "advisory", proto.MANDATORY: "mandatory"}
    return [(d.policyName, levels.get(d.enforcementLevel, str(d.enforcementLevel)), d.message)
            for d in response.diagnostics]


def offline(program: Callable[[], Any], config: Mapping[str, Any] | None = None) -> list[Violation]:
    """Run raw resources through the offline engine, then the whole pack."""
    return analyze(run_callable(program, config=CONFIG, account=ACCOUNT, region=REGION), config)


def rule_hits(violations: list[Violation], rule_id: str) -> list[str]:
    """Logical names of the resources `rule_id` reported."""
    return [v.resource_name for v in violations if v.policy_name == rule_id]


__all__ = ["ACCOUNT", "REGION", "EnforcementLevel", "analyze_request", "by_hand", "diagnostics", "doc", "offline",
           "policy", "resource", "rule_hits", "servicer", "stack_by_hand"]
