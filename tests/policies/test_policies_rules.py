"""Every rule of the pack, proven by real cases: a violating and a passing case by hand and through the offline
engine, and a near miss (`test_policies_near_miss.py`).

The per-area tables (`test_policies_iam.py`, `test_policies_baseline.py`) hold the resource rules. This module
adds the same two styles for the rules those tables cannot express: stack rules over hand-built resources, and
the pack's own rules (suppressions, config), which need a config. The bookkeeping test derives each rule's
coverage from the rows of these tables only (each row is run by a parametrized test that asserts the rule's
verdict on both sides), never from a list of rule ids written by hand.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

import pulumi_aws as aws
import pytest
import test_policies_baseline as baseline
import test_policies_iam as iam_tests
import test_policies_near_miss as near_miss
import test_policies_state_machines as machines
from policy_test_helpers import by_hand, doc, offline, resource, rule_hits, stack_by_hand

from serverless_patterns.policies.core import STATE
from serverless_patterns.policies.pack import RULE_IDS

REASON = "Reads object versions and tags for the audit export, reviewed in SEC-311"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
BUCKET_ARN = "arn:aws:s3:::audit-bucket"
#: A pattern the partial-wildcard rule reports and the validation gate accepts (the action family exists).
PATTERN = doc({"Effect": "Allow", "Action": "s3:GetObject*", "Resource": BUCKET_ARN + "/*"})
STRONG = {"minimumLength": 12, "requireLowercase": True, "requireUppercase": True, "requireNumbers": True,
          "requireSymbols": True}

Names = Callable[[], list[str]]


def _stack(rule: str, resources: Callable[[], list[Any]]) -> Names:
    """Names of the resources a stack rule reports over hand-built resources."""
    return lambda: [name for name, _ in stack_by_hand(rule, resources())]


def _suppressed(reason: str, *, target: str = "offender") -> dict[str, Any]:
    return {"suppressions": [{"ruleId": "iam-no-partial-wildcard-actions", "resource": target, "reason": reason}]}


def _requires_reason(reason: str) -> Names:
    """The suppression rule on the resource its suppression targets (it loads the suppressions first)."""
    def names() -> list[str]:
        STATE.reset()
        found = by_hand("policy-suppression-requires-reason", ROLE_POLICY, {"role": "r", "policy": PATTERN},
                        name="offender", config=_suppressed(reason))
        return ["offender"] * len(found)
    return names


def _unused(target: str) -> Names:
    """A reasoned suppression of the partial-wildcard finding on `target`, in a stack holding 'offender' with
    that finding: used when it targets 'offender', stale when it names a resource the stack lacks."""
    def names() -> list[str]:
        STATE.reset()
        props = {"role": "r", "policy": PATTERN}
        by_hand("policy-suppression-requires-reason", ROLE_POLICY, props, name="offender",
                config=_suppressed(REASON, target=target))
        by_hand("iam-no-partial-wildcard-actions", ROLE_POLICY, props, name="offender")
        return [name for name, _ in stack_by_hand("policy-suppression-unused",
                                                  [resource(ROLE_POLICY, "offender", props)])]
    return names


def _config_valid(rule_config: dict[str, Any]) -> Names:
    """The password rule reads its config (noting problems), then the config rule reports what it noted."""
    def names() -> list[str]:
        STATE.reset()
        by_hand("cognito-password-policy", "aws:cognito/userPool:UserPool", {"passwordPolicy": STRONG},
                config=rule_config)
        return ["pool"] * len(stack_by_hand("policy-config-valid",
                                            [resource("aws:cognito/userPool:UserPool", "pool", {})]))
    return names


def _bucket_without(flag: str) -> Callable[[], list[Any]]:
    return lambda: [r for r in baseline._bucket_stack() if not r.name.endswith(flag)]


def _ws_routes(connect: str) -> Callable[[], list[Any]]:
    return lambda: baseline._api_and_routes("WEBSOCKET", ("$connect", connect), ("$disconnect", "NONE"))


def _repo(*actions: str) -> Callable[[], list[Any]]:
    return lambda: baseline._repo_policy({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::222222222222:root"},
                                          "Action": list(actions)})


def _machine(drop: str | None) -> Callable[[], list[Any]]:
    return lambda: machines._stack([s for s in machines.exact_statements() if s.get("Sid") != drop])


PULL = ("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer")
# (rule id, violating, passing, offender): rules a (type, props) row cannot express, by hand.
HAND_CASES: list[tuple[str, Names, Names, str]] = [
    ("apigateway-route-authorized", _stack("apigateway-route-authorized", _ws_routes("NONE")),
     _stack("apigateway-route-authorized", _ws_routes("CUSTOM")), "route-$connect"),
    ("apigateway-stage-throttling", _stack("apigateway-stage-throttling", lambda: baseline._rest_stage(None)),
     _stack("apigateway-stage-throttling", lambda: baseline._rest_stage(
         {"throttlingBurstLimit": 50, "throttlingRateLimit": 20})), "stage"),
    ("s3-bucket-public-access-block", _stack("s3-bucket-public-access-block", _bucket_without("-pab")),
     _stack("s3-bucket-public-access-block", baseline._bucket_stack), "data"),
    ("s3-bucket-encryption", _stack("s3-bucket-encryption", _bucket_without("-sse")),
     _stack("s3-bucket-encryption", baseline._bucket_stack), "data"),
    ("s3-bucket-tls-only", _stack("s3-bucket-tls-only", _bucket_without("-policy")),
     _stack("s3-bucket-tls-only", baseline._bucket_stack), "data"),
    ("ecr-scan-on-push",
     _stack("ecr-scan-on-push", lambda: [resource("aws:ecr/repository:Repository", "repo", {"name": "shared/app"})]),
     _stack("ecr-scan-on-push", lambda: [resource("aws:ecr/repository:Repository", "repo", {
         "name": "shared/app", "imageScanningConfiguration": {"scanOnPush": True}})]), "repo"),
    ("ecr-repository-policy-pull-only", _stack("ecr-repository-policy-pull-only", _repo(*PULL, "ecr:PutImage")),
     _stack("ecr-repository-policy-pull-only", _repo(*PULL)), "repo-policy"),
    ("sfn-role-least-privilege", _stack("sfn-role-least-privilege", _machine("Save")),
     _stack("sfn-role-least-privilege", _machine(None)), "orders-sm"),
    ("policy-suppression-requires-reason", _requires_reason("n/a"), _requires_reason(REASON), "offender"),
    # A stale suppression is a finding on the stack, not on a resource ("" by hand, the stack's name in the engine).
    ("policy-suppression-unused", _unused("ghost"), _unused("offender"), ""),
    ("policy-config-valid", _config_valid({"minimumLenght": 14}), _config_valid({"minimumLength": 14}), "pool"),
]


@pytest.mark.parametrize(("rule_id", "bad", "good", "offender"), HAND_CASES,
                         ids=[c[0] for c in HAND_CASES])
def test_rule_by_hand(rule_id: str, bad: Names, good: Names, offender: str) -> None:
    assert bad() == [offender]
    assert good() == []


# ------------------------------------------------------------------ through the offline engine, with a config


def _pattern_policy() -> None:
    role = aws.iam.Role("app-role", assume_role_policy=doc({"Effect": "Allow", "Principal": {
        "Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}))
    aws.iam.RolePolicy("app-policy", role=role.id, policy=PATTERN)


def _user_pool() -> None:
    aws.cognito.UserPool("pool", password_policy={"minimum_length": 14, "require_lowercase": True,
                                                  "require_uppercase": True, "require_numbers": True,
                                                  "require_symbols": True})


def _engine(rule: str, program: Callable[[], None], config: dict[str, Any] | None = None) -> Names:
    return lambda: rule_hits(offline(program, config), rule)


def _pack_suppressing(reason: str, target: str = "app-policy") -> dict[str, Any]:
    return {"policy-suppression-requires-reason": _suppressed(reason, target=target)}


ENGINE_CASES: list[tuple[str, Names, Names, str]] = [
    ("sfn-role-least-privilege", _engine("sfn-role-least-privilege", machines._program([], "Save")),
     _engine("sfn-role-least-privilege", machines._program([], None)), "orders-sm"),
    ("policy-suppression-requires-reason",
     _engine("policy-suppression-requires-reason", _pattern_policy, _pack_suppressing("needed")),
     _engine("policy-suppression-requires-reason", _pattern_policy, _pack_suppressing(REASON)), "app-policy"),
    ("policy-suppression-unused",
     _engine("policy-suppression-unused", _pattern_policy, _pack_suppressing(REASON, "app-role")),
     _engine("policy-suppression-unused", _pattern_policy, _pack_suppressing(REASON)), "test-test"),
    ("policy-config-valid",
     _engine("policy-config-valid", _user_pool, {"cognito-password-policy": {"minimumLenght": 14}}),
     _engine("policy-config-valid", _user_pool, {"cognito-password-policy": {"minimumLength": 14}}), "test-test"),
]


@pytest.mark.parametrize(("rule_id", "bad", "good", "offender"), ENGINE_CASES,
                         ids=[c[0] for c in ENGINE_CASES])
def test_rule_through_offline_engine(rule_id: str, bad: Names, good: Names, offender: str) -> None:
    assert bad() == [offender]
    assert good() == []


# ------------------------------------------------------------------ bookkeeping


def _coverage() -> dict[str, set[str]]:
    """rule id -> the kinds of case that exist for it, read off the rows of the case tables."""
    kinds: dict[str, set[str]] = defaultdict(set)
    for rule, *_ in [*iam_tests.HAND_CASES, *baseline.HAND_CASES, *HAND_CASES]:
        kinds[rule] |= {"violating by hand", "passing by hand"}
    for rule, *_ in [*iam_tests.OFFLINE_CASES, *baseline.OFFLINE_CASES, *ENGINE_CASES]:
        kinds[rule] |= {"violating through the engine", "passing through the engine"}
    for rule, *_ in near_miss.NEAR_MISSES:
        kinds[rule].add("near miss")
    return kinds


def test_every_rule_has_a_violating_and_a_passing_case_in_both_styles() -> None:
    """Every registered rule has a row in each table (a violating and a passing case by hand and through the
    engine, and a near miss); no row names a rule the pack does not have."""
    coverage = _coverage()
    wanted = {"violating by hand", "passing by hand", "violating through the engine", "passing through the engine",
              "near miss"}
    missing = {rule: sorted(wanted - coverage.get(rule, set())) for rule in RULE_IDS}
    assert {rule: kinds for rule, kinds in missing.items() if kinds} == {}
    assert set(coverage) <= set(RULE_IDS), sorted(set(coverage) - set(RULE_IDS))


def test_the_unused_and_config_findings_name_what_is_wrong() -> None:
    """The engine rows of the pack's own rules report the right problem, not just some finding."""
    stale = [v for v in offline(_pattern_policy, _pack_suppressing(REASON, "app-role"))
             if v.policy_name == "policy-suppression-unused"]
    assert len(stale) == 1 and "'app-role'" in stale[0].message and "suppresses nothing" in stale[0].message
    typo = [v.message for v in offline(_user_pool, {"cognito-password-policy": {"minimumLenght": 14}})
            if v.policy_name == "policy-config-valid"]
    assert len(typo) == 1 and "minimumLenght" in typo[0]
