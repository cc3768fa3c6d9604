"""The pack as the analyzer runs it: suppressions, config, enforcement levels, unknowns, malformed input."""

from __future__ import annotations

import json
import types
from typing import Any

import pulumi
import pulumi_aws as aws
import pytest
from policy_test_helpers import (
    ACCOUNT,
    CONFIG,
    REGION,
    analyze_request,
    diagnostics,
    doc,
    offline,
    rule_hits,
    servicer,
)
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

from serverless_patterns.offline import run_callable
from serverless_patterns.policies.core import RULES
from serverless_patterns.policies.pack import POLICIES, RULE_IDS
from serverless_patterns.policies.runner import run

WILDCARD = doc({"Effect": "Allow", "Action": "s3:*", "Resource": "*"})
REASON = "Break-glass role for the incident runbook, reviewed in SEC-142"


def broken_program() -> None:
    """A deliberately broken stack: a wildcard statement and an unauthorized method."""
    role = aws.iam.Role("app-role", assume_role_policy=doc({"Effect": "Allow", "Principal": {
        "Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}))
    aws.iam.RolePolicy("app-policy", role=role.id, policy=WILDCARD)
    api = aws.apigateway.RestApi("api")
    aws.apigateway.Method("open", rest_api=api.id, resource_id=api.root_resource_id, http_method="GET",
                          authorization="NONE")


def _stack() -> object:
    return run_callable(broken_program, config=CONFIG, account=ACCOUNT, region=REGION)


def test_broken_stack_fails_with_the_expected_rule_ids() -> None:
    violations = offline(broken_program)
    mandatory = {(v.policy_name, v.resource_name) for v in violations if v.enforcement_level == "mandatory"}
    assert mandatory == {("iam-no-wildcard-actions", "app-policy"), ("iam-no-wildcard-resources", "app-policy"),
                         ("apigateway-method-authorized", "open")}
    assert all(v.urn and v.resource_type and v.message and v.description for v in violations)


def test_every_rule_is_in_the_pack_once_with_metadata() -> None:
    assert len(RULE_IDS) == len(set(RULE_IDS)) == len(RULES)
    assert RULE_IDS[0] == "policy-suppression-requires-reason" and RULE_IDS[-1] == "policy-config-valid"
    for p in POLICIES:
        assert p.description and p.enforcement_level is not None


def test_suppression_with_reason_silences_one_rule_on_one_resource() -> None:
    config = {"suppressions": [{"ruleId": "iam-no-wildcard-resources", "resource": "app-policy", "reason": REASON}]}
    analysis = run(_stack(), config)
    names = {v.policy_name for v in analysis.violations}
    assert "iam-no-wildcard-resources" not in names
    assert "iam-no-wildcard-actions" in names  # other rules on the same resource still fire
    assert "policy-suppression-unused" not in names
    [suppressed] = analysis.suppressed
    assert (suppressed.rule_id, suppressed.name, suppressed.reason) == ("iam-no-wildcard-resources", "app-policy",
                                                                        REASON)


def test_suppression_that_no_longer_silences_anything_is_an_advisory() -> None:
    config = {"suppressions": [{"ruleId": "iam-trust-policy-principal", "resource": "app-role", "reason": REASON}]}
    [stale] = [v for v in run(_stack(), config).violations if v.policy_name == "policy-suppression-unused"]
    assert stale.enforcement_level == "advisory" and "suppresses nothing" in stale.message


def test_suppression_by_urn_in_the_cli_config_format() -> None:
    stack = _stack()
    urn = next(r.urn for r in stack.resources if r.name == "open")
    config = {"policy-suppression-requires-reason": {"suppressions": [
        {"ruleId": "apigateway-method-authorized", "resource": urn, "reason": "Public health check, returns no data"}]}}
    assert rule_hits(run(stack, config).violations, "apigateway-method-authorized") == []


@pytest.mark.parametrize("reason", [None, "", "todo", "TODO: remove wildcards", "ok", "because"])
def test_suppression_without_a_real_reason_is_a_violation_and_not_applied(reason: str | None) -> None:
    entry = {"ruleId": "iam-no-wildcard-actions", "resource": "app-policy"}
    if reason is not None:
        entry["reason"] = reason
    violations = run(_stack(), {"suppressions": [entry]}).violations
    [problem] = [v for v in violations if v.policy_name == "policy-suppression-requires-reason"]
    assert problem.resource_name == "app-policy" and problem.enforcement_level == "mandatory"
    assert "NOT applied" in problem.message
    assert "app-policy" in rule_hits(violations, "iam-no-wildcard-actions")


def test_config_problems_are_violations_not_crashes() -> None:
    config = {
        "iam-no-wildcard-actions": {"enforcementLevel": "mandatory", "allowActions": ["s3:*"]},
        "no-such-rule": "advisory",
        "suppressions": [
            {"ruleId": "no-such-rule", "resource": "app-policy", "reason": REASON},
            {"ruleId": "iam-no-wildcard-actions", "resource": "not-in-stack", "reason": REASON},
            {"ruleId": "policy-config-valid", "resource": "app-policy", "reason": REASON},
            {"ruleId": "iam-no-wildcard-actions", "resource": "app-policy", "reason": REASON, "expires": "2027"},
            "app-policy",
        ],
    }
    violations = run(_stack(), config).violations
    problems = [v.message for v in violations if v.policy_name == "policy-config-valid"]
    assert all(v.enforcement_level == "mandatory" for v in violations if v.policy_name == "policy-config-valid")
    for expected in ("unknown policy 'no-such-rule'", "unknown key 'allowActions'", "unknown rule id 'no-such-rule'",
                     "cannot be suppressed", "unknown key(s) expires", "must be an object"):
        assert any(expected in p for p in problems), (expected, problems)
    [stale] = [v for v in violations if v.policy_name == "policy-suppression-unused"]
    assert stale.enforcement_level == "advisory" and "'not-in-stack'" in stale.message
    assert "matches no resource" in stale.message
    # The malformed suppression for app-policy was not applied.
    assert "app-policy" in rule_hits(violations, "iam-no-wildcard-actions")


def test_enforcement_levels_from_config_as_the_cli_reconciles_them() -> None:
    config = {"all": "advisory", "apigateway-method-authorized": {"enforcementLevel": "mandatory"},
              "iam-no-wildcard-resources": "disabled"}
    violations = run(_stack(), config).violations
    levels = {v.policy_name: v.enforcement_level for v in violations}
    assert levels["iam-no-wildcard-actions"] == "advisory"
    assert levels["apigateway-method-authorized"] == "mandatory"
    assert "iam-no-wildcard-resources" not in levels


def test_invalid_enforcement_level_is_reported() -> None:
    violations = run(_stack(), {"iam-no-wildcard-actions": "strict"}).violations
    assert any(v.policy_name == "policy-config-valid" and "'strict' is not an enforcement level" in v.message
               for v in violations)


def test_malformed_json_through_the_servicer_names_the_resource() -> None:
    response = servicer().Analyze(analyze_request("aws:iam/policy:Policy", "broken-doc", {
        "policy": '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject"'}), None)
    found = diagnostics(response)
    assert [(p, level) for p, level, _ in found] == [("iam-policy-document-valid", "mandatory")]
    assert "'broken-doc'" in found[0][2] and "not valid JSON" in found[0][2]


def test_unknown_values_during_preview_are_advisories() -> None:
    response = servicer().Analyze(analyze_request("aws:iam/rolePolicy:RolePolicy", "later", {
        "role": "r", "policy": UNKNOWN_STRING_VALUE}), None)
    found = diagnostics(response)
    assert found and all(level == "advisory" and "during preview" in message for _, level, message in found)
    assert {p for p, _, _ in found} >= {"iam-no-wildcard-actions", "iam-no-wildcard-resources"}


def test_stack_rule_reports_known_resources_and_an_advisory_for_unknown_ones() -> None:
    from google.protobuf import json_format, struct_pb2
    from pulumi.runtime.proto import analyzer_pb2 as proto

    def message(name: str, props: dict[str, object]) -> proto.AnalyzerResource:
        return proto.AnalyzerResource(type="aws:apigatewayv2/stage:Stage", name=name,
                                      urn=f"urn:pulumi:t::t::aws:apigatewayv2/stage:Stage::{name}",
                                      properties=json_format.ParseDict(props, struct_pb2.Struct()))

    request = proto.AnalyzeStackRequest(resources=[
        message("known", {"name": "prod"}),
        message("unknown", {"name": "prod", "defaultRouteSettings": UNKNOWN_STRING_VALUE})])
    found = [(d.policyName, d.urn, d.enforcementLevel, d.message) for d in servicer().AnalyzeStack(request, None)
             .diagnostics if d.policyName == "apigateway-stage-throttling"]
    assert [f[1].rsplit("::", 1)[-1] for f in found if f[1]] == ["known"]
    assert any(not f[1] and f[2] == proto.ADVISORY and "during preview" in f[3] for f in found)


def test_secret_inputs_are_seen_unwrapped() -> None:
    def program() -> None:
        role = aws.iam.Role("app-role", assume_role_policy=doc({"Effect": "Allow", "Principal": {
            "Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}))
        aws.iam.RolePolicy("secret-policy", role=role.id, policy=pulumi.Output.secret(WILDCARD))

    assert "secret-policy" in rule_hits(offline(program), "iam-no-wildcard-actions")


def test_dev_style_pack_run_is_deterministic() -> None:
    first = [str(v) for v in offline(broken_program)]
    second = [str(v) for v in offline(broken_program)]
    assert first == second and json.dumps(first)


def test_analyzer_info_describes_every_policy_as_the_cli_reads_it() -> None:
    from pulumi.runtime.proto import analyzer_pb2 as proto

    info = servicer().GetAnalyzerInfo(None, None)
    assert [p.name for p in info.policies] == RULE_IDS
    kinds = {p.name: p.policy_type for p in info.policies}
    assert kinds["iam-no-wildcard-actions"] == proto.PolicyType.POLICY_TYPE_RESOURCE
    assert kinds["sfn-role-least-privilege"] == proto.PolicyType.POLICY_TYPE_STACK
    schema = next(p for p in info.policies if p.name == "policy-suppression-requires-reason").configSchema
    assert "suppressions" in schema.properties
    levels = {p.name: p.enforcementLevel for p in info.policies}
    assert levels.pop("policy-suppression-unused") == proto.ADVISORY
    assert set(levels.values()) == {proto.MANDATORY}


def test_pack_entry_point_starts_the_analyzer_as_the_cli_expects() -> None:
    """`policies/__main__.py`, run from inside `policies/` as the CLI does, serves the pack and prints its port."""
    import subprocess
    import sys
    from pathlib import Path

    pack_dir = Path(__file__).resolve().parents[2] / "policies"
    process = subprocess.Popen([sys.executable, "__main__.py"], cwd=pack_dir, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        port = process.stdout.readline().strip()
        assert port.isdigit() and int(port) > 0, process.stderr.read() if process.poll() is not None else port
    finally:
        process.kill()
        process.wait(timeout=10)


def test_rule_settings_of_the_wrong_type_fall_back_and_are_reported() -> None:
    def program() -> None:
        aws.cognito.UserPool("pool", password_policy={"minimum_length": 12, "require_lowercase": True,
                                                      "require_uppercase": True, "require_numbers": True,
                                                      "require_symbols": True})

    stack = run_callable(program, config=CONFIG, account=ACCOUNT, region=REGION)
    violations = run(stack, {"cognito-password-policy": {"minimumLength": "twelve"}}).violations
    assert rule_hits(violations, "cognito-password-policy") == []
    assert any(v.policy_name == "policy-config-valid" and "minimumLength = 'twelve'" in v.message
               for v in violations)


def test_suppression_rules_by_hand() -> None:
    from policy_test_helpers import by_hand, resource, stack_by_hand

    from serverless_patterns.policies.core import STATE

    config = {"suppressions": [{"ruleId": "iam-no-wildcard-actions", "resource": "offender", "reason": "n/a"},
                               {"ruleId": "iam-no-wildcard-actions", "resource": "ghost", "reason": REASON}]}
    [message] = by_hand("policy-suppression-requires-reason", "aws:iam/policy:Policy", {"policy": WILDCARD},
                        name="offender", config=config)
    assert "suppression #1" in message and "NOT applied" in message
    assert by_hand("policy-suppression-requires-reason", "aws:iam/policy:Policy", {"policy": WILDCARD},
                   name="bystander", config=config) == []
    assert STATE.loaded and len(STATE.suppressions) == 2
    found = stack_by_hand("policy-suppression-unused", [resource("aws:iam/policy:Policy", "offender", {})])
    assert [m for _, m in found if "suppression #2" in m and "matches no resource" in m]
    STATE.used.add(1)  # the wildcard rule silenced a finding on 'ghost'
    assert stack_by_hand("policy-suppression-unused", [resource("aws:iam/policy:Policy", "offender", {}),
                                                       resource("aws:iam/policy:Policy", "ghost", {})]) == []
    assert stack_by_hand("policy-config-valid", [resource("aws:iam/policy:Policy", "offender", {})]) == []
    STATE.problem("x", "policy config for 'x' has an unknown key 'y'")
    [(_, message)] = stack_by_hand("policy-config-valid", [resource("aws:iam/policy:Policy", "offender", {})])
    assert "unknown key 'y'" in message


def test_an_unknown_log_destination_still_counts_as_set_during_preview() -> None:
    """Presence checks pass on a value known only at deploy (a log group ARN not created yet)."""
    props = {"loggingConfiguration": {"level": "ALL", "includeExecutionData": True,
                                      "logDestination": UNKNOWN_STRING_VALUE},
             "tracingConfiguration": {"enabled": True}}
    response = servicer().Analyze(analyze_request("aws:sfn/stateMachine:StateMachine", "sm", props), None)
    assert diagnostics(response) == []
    props["loggingConfiguration"]["level"] = UNKNOWN_STRING_VALUE  # a value the rule compares: advisory
    [(name, level, message)] = diagnostics(servicer().Analyze(
        analyze_request("aws:sfn/stateMachine:StateMachine", "sm", props), None))
    assert (name, level) == ("sfn-logging", "advisory") and "loggingConfiguration.level" in message
    stage = {"apiId": "a", "name": "prod", "accessLogSettings": {"destinationArn": UNKNOWN_STRING_VALUE,
                                                                  "format": "{}"}}
    assert diagnostics(servicer().Analyze(analyze_request("aws:apigatewayv2/stage:Stage", "st", stage), None)) == []


def test_the_documented_example_config_is_valid() -> None:
    from pathlib import Path

    from serverless_patterns.policies.runner import load_config

    config = load_config(Path(__file__).resolve().parents[2] / "policies" / "policy-config.example.json")
    violations = run(_stack(), config).violations
    assert not [v for v in violations if v.policy_name == "policy-config-valid"], violations
    levels = {v.policy_name: v.enforcement_level for v in violations}
    assert levels["iam-no-wildcard-actions"] == "mandatory"
    # The example's suppression names a resource this stack does not have: reported as stale, not an error.
    assert levels["policy-suppression-unused"] == "advisory"


def test_every_malformed_suppression_is_named_and_a_valid_one_after_them_still_applies() -> None:
    """Each entry is read on its own: a broken one is reported and skipped, never the end of the list."""
    from serverless_patterns.policies.suppressions import read_suppressions

    valid = {"ruleId": "iam-no-wildcard-resources", "resource": "app-policy", "reason": REASON}
    entries: list[object] = ["app-policy", {**valid, "expires": "2027"}, {"ruleId": "", "resource": "app-policy"},
                             {**valid, "ruleId": "policy-config-valid"}, {**valid, "ruleId": "no-such-rule"},
                             {**valid, "reason": 42}, valid]
    suppressions, problems = read_suppressions({"suppressions": entries, "extra": 1})
    assert [(s.index, s.rule_id, s.resource, s.reason) for s in suppressions] == [
        (5, "iam-no-wildcard-resources", "app-policy", None), (6, "iam-no-wildcard-resources", "app-policy", REASON)]
    assert problems["policy-suppression-requires-reason.extra"] == (
        "policy config for 'policy-suppression-requires-reason' has an unknown key 'extra' (known: suppressions); "
        "it is ignored")
    assert problems["suppression #1"] == "suppression #1 must be an object {ruleId, resource, reason}, got 'app-policy'"
    assert problems["suppression #2.keys"] == ("suppression #2 has unknown key(s) expires (known: ruleId, resource, "
                                               "reason); it is not applied")
    assert problems["suppression #3"].startswith("suppression #3 needs a 'ruleId' and a 'resource' (URN or logical "
                                                 "name): ")
    assert problems["suppression #4"] == "suppression #4 targets 'policy-config-valid', which cannot be suppressed"
    assert problems["suppression #5"].startswith("suppression #5 names the unknown rule id 'no-such-rule'; known rule "
                                                 "ids: apigateway-method-authorized, apigateway-route-authorized, ")
    assert "policy-config-valid" not in problems["suppression #5"]
    assert read_suppressions({"suppressions": "app-policy"}) == ([], {
        "suppressions": "'suppressions' must be a list of {ruleId, resource, reason}, got 'app-policy'"})
    analysis = run(_stack(), {"suppressions": entries})
    assert "app-policy" not in rule_hits(analysis.violations, "iam-no-wildcard-resources")


@pytest.mark.parametrize("target", ["app-policy", "pulumi:pulumi:Stack$aws:iam/rolePolicy:RolePolicy::app-policy"])
def test_a_suppression_names_its_resource_by_logical_name_or_urn_tail(target: str) -> None:
    config = {"suppressions": [{"ruleId": "iam-no-wildcard-resources", "resource": target, "reason": REASON}]}
    analysis = run(_stack(), config)
    assert "app-policy" not in rule_hits(analysis.violations, "iam-no-wildcard-resources")
    assert not [v for v in analysis.violations if v.policy_name == "policy-suppression-unused"]
    placeholder = {"suppressions": [{**config["suppressions"][0], "reason": "todo"}]}
    [refused] = [v for v in run(_stack(), placeholder).violations
                 if v.policy_name == "policy-suppression-requires-reason"]
    assert refused.resource_name == "app-policy" and "targets 'app-policy' but its reason 'todo' is a placeholder" \
        in refused.message and refused.message.endswith("Fix: write why the finding is acceptable in 'reason', or "
                                                        "fix the resource.")


def test_the_pack_rules_own_configs_take_no_keys() -> None:
    config = {"policy-config-valid": {"strict": True}, "policy-suppression-unused": {"quiet": True}}
    problems = [v.message for v in run(_stack(), config).violations if v.policy_name == "policy-config-valid"]
    assert any(m.startswith("policy config for 'policy-config-valid' has an unknown key 'strict' (it takes none "
                            "besides enforcementLevel); it is ignored. Fix: ") for m in problems), problems
    assert any(m.startswith("policy config for 'policy-suppression-unused' has an unknown key 'quiet'")
               for m in problems), problems


def test_every_unknown_key_and_every_non_text_id_is_reported() -> None:
    from serverless_patterns.policies.suppressions import read_suppressions

    _, problems = read_suppressions({"suppressions": [
        {"ruleId": "iam-no-wildcard-resources", "resource": "app-policy", "reason": REASON, "expires": 1, "owner": 2},
        {"ruleId": 5, "resource": "app-policy"}]})
    assert problems["suppression #1.keys"].startswith("suppression #1 has unknown key(s) expires, owner (known: ")
    assert problems["suppression #2"].startswith("suppression #2 needs a 'ruleId' and a 'resource'")
    config = {"policy-config-valid": {"strict": True, "quiet": True},
              "policy-suppression-unused": {"verbose": True, "silent": True}}
    problems_found = [v.message for v in run(_stack(), config).violations if v.policy_name == "policy-config-valid"]
    for key in ("strict", "quiet", "verbose", "silent"):
        assert any(f"has an unknown key {key!r}" in m for m in problems_found), (key, problems_found)


def test_shared_conversions_fall_back_when_pulumi_policy_changes(monkeypatch: pytest.MonkeyPatch) -> None:
    """If pulumi-policy's servicer module no longer has the names `converted_once` replaces, the servicer runs
    as it ships: nothing is patched, the stack request is handed over as it is, and the findings are the same."""
    from pulumi.runtime.proto import analyzer_pb2
    from pulumi_policy import policy as servicer_module
    from pulumi_policy.policy import _PolicyAnalyzerServicer

    from serverless_patterns.policies import runner
    from serverless_patterns.policies.pack import PACK_ENFORCEMENT_LEVEL, PACK_NAME, PACK_VERSION, POLICIES

    servicer = _PolicyAnalyzerServicer(PACK_NAME, PACK_VERSION, POLICIES, PACK_ENFORCEMENT_LEVEL)
    with runner.converted_once(True, servicer) as shared:
        assert "_get_resource_options" in vars(servicer) and shared.enabled
    assert "_get_resource_options" not in vars(servicer)
    monkeypatch.delattr(servicer_module, "unknown_checking_proxy")
    request = analyzer_pb2.AnalyzeStackRequest()
    with runner.converted_once(True, servicer) as shared:
        assert not shared.enabled and shared.stack_request(request) is request
        assert "_get_resource_options" not in vars(servicer)


@pytest.mark.parametrize("stack_name", ["dev", "example"])
def test_structs_are_built_as_parse_dict_builds_them(stack_name: str) -> None:
    """The runner's wire values are pulumi-policy's `serialize_properties`, and its `Struct`s (inputs for Analyze,
    outputs for AnalyzeStack, provider inputs) are byte for byte what `json_format.ParseDict` makes of them."""
    from pathlib import Path

    from google.protobuf import json_format, struct_pb2
    from pulumi_policy.deserialize import serialize_properties

    from serverless_patterns.offline import run_program
    from serverless_patterns.policies import runner

    stack = run_program(Path(__file__).resolve().parents[2], stack_name)
    for resource in stack.resources:
        for values in (resource.inputs, resource.outputs, resource.component_outputs):
            wire = serialize_properties(dict(values))
            assert runner._wire(dict(values)) == wire, resource.urn
            updated = struct_pb2.Struct()
            updated.update(wire)  # the runner's way, which must not have to fall back here
            parsed = json_format.ParseDict(wire, struct_pb2.Struct()).SerializeToString(deterministic=True)
            assert updated.SerializeToString(deterministic=True) == parsed, resource.urn
            assert runner._struct(values).SerializeToString(deterministic=True) == parsed, resource.urn


def test_typed_rules_run_on_every_type_once_then_only_on_their_own(dev: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The runner's first Analyze call runs every rule (each checks its config there); after it, a rule with
    resource types runs only on resources of those types. Unknown config keys of rules whose types are not in
    the stack's first resource are still reported (the conftest compares every finding with the servicer run
    as it ships)."""
    from collections import Counter

    from pulumi_policy import ResourceValidationPolicy

    from serverless_patterns.policies import runner
    from serverless_patterns.policies.core import TypedResourcePolicy
    from serverless_patterns.policies.pack import POLICIES

    calls: Counter[tuple[str, str]] = Counter()
    real = ResourceValidationPolicy.validate

    def counted(self: ResourceValidationPolicy, args: Any, report: Any) -> Any:
        calls[(self.name, args.urn)] += 1
        return real(self, args, report)

    monkeypatch.setattr(TypedResourcePolicy, "validate", counted)
    typed = [p for p in POLICIES if isinstance(p, TypedResourcePolicy) and p.resource_types is not None]
    rule = next(p for p in typed if dev.resources[0].type not in (p.resource_types or ()))
    violations = runner.analyze(dev, {rule.name: {"noSuchSetting": 1}})
    assert any(v.policy_name == "policy-config-valid" and "noSuchSetting" in v.message for v in violations)
    # The conftest analyzes twice: once through the servicer as it ships (every rule on every resource), then as
    # the plan does; what the plan's run added is the count less one.
    first = dev.resources[0].urn
    for policy in typed:
        assert calls[(policy.name, first)] - 1 == 1
        expected = {r.urn for r in dev.resources[1:] if r.type in (policy.resource_types or ())}
        ran = {urn for (name, urn), count in calls.items() if name == policy.name and urn != first and count - 1}
        assert ran == expected, policy.name
        assert all(calls[(policy.name, r.urn)] == 1 for r in dev.resources[1:] if r.urn not in expected)


def _stack_response(stack: Any, config: dict[str, Any] | None, *, shared: bool) -> Any:
    """pulumi-policy's AnalyzeStack response over `stack`: as it ships, or with the runner's shared resources."""
    from serverless_patterns.policies import runner
    from serverless_patterns.policies.core import STATE
    from serverless_patterns.policies.pack import PACK_ENFORCEMENT_LEVEL, PACK_NAME, PACK_VERSION, POLICIES

    STATE.reset()
    servicer = runner._PolicyAnalyzerServicer(PACK_NAME, PACK_VERSION, POLICIES, PACK_ENFORCEMENT_LEVEL)
    servicer.Configure(runner.configure_request(POLICIES, config)[0], None)
    by_urn = {r.urn: r for r in stack.resources}
    request = runner.proto.AnalyzeStackRequest(
        resources=[runner.stack_resource_message(r, by_urn) for r in stack.resources])
    if not shared:
        return servicer.AnalyzeStack(request, None)
    with runner.converted_once(True, servicer) as sharing:
        return sharing.analyze_stack(servicer, sharing.stack_request(request))


@pytest.mark.parametrize("config", [
    None, {"all": "remediate"}, {"all": "disabled"}, {"s3-bucket-encryption": "disabled", "all": "advisory"},
    {"policy-config-valid": {"noSuchKey": 1}}])
@pytest.mark.parametrize("which", ["dev", "broken", "unknown"])
def test_stack_policies_sharing_resources_answer_as_pulumi_policy(dev: Any, config: dict[str, Any] | None,
                                                                  which: str) -> None:
    """Stack policies given one set of resources built once answer exactly as pulumi-policy's AnalyzeStack,
    which builds them for each policy: the same diagnostics (message, URN, level, order) and the same
    not-applicable entries, at every enforcement level, on the dev stack, a broken one and one with unknowns."""
    def unknown_program() -> None:
        api = aws.apigatewayv2.Api("http", protocol_type="HTTP")
        aws.apigatewayv2.Stage("known", api_id=api.id, name="prod")
        aws.apigatewayv2.Stage("later", api_id=api.id, name="prod")

    def bare_bucket_program() -> None:
        broken_program()
        aws.s3.Bucket("bare")  # no public access block, no encryption, no TLS-only policy: stack rules report it

    programs = {"broken": bare_bucket_program, "unknown": unknown_program}
    stack = dev if which == "dev" else run_callable(programs[which], config=CONFIG, account=ACCOUNT, region=REGION)
    if which == "unknown":  # a value only known at deploy time, as the engine sends it during preview
        stack.one("aws:apigatewayv2/stage:Stage", "later").outputs["defaultRouteSettings"] = UNKNOWN_STRING_VALUE
    shipped = _stack_response(stack, config, shared=False)
    shared = _stack_response(stack, config, shared=True)
    assert shared.SerializeToString(deterministic=True) == shipped.SerializeToString(deterministic=True)
    if which != "dev" and config is None:  # the comparison covers findings, not only empty answers
        assert shipped.diagnostics
        assert which == "broken" or any("during preview" in d.message for d in shipped.diagnostics)


def test_stack_policies_share_resources_only_with_the_analyze_stack_they_follow(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """With the pulumi-policy this library pins, stack policies share one set of resources; a servicer whose
    AnalyzeStack is any other code runs its own (and so does a run with sharing off)."""
    from serverless_patterns.policies import runner
    from serverless_patterns.policies.pack import PACK_ENFORCEMENT_LEVEL, PACK_NAME, PACK_VERSION, POLICIES

    servicer = runner._PolicyAnalyzerServicer(PACK_NAME, PACK_VERSION, POLICIES, PACK_ENFORCEMENT_LEVEL)
    assert runner._stack_analysis_shareable(servicer)
    own: list[object] = []
    shipped = runner._PolicyAnalyzerServicer.AnalyzeStack
    # The same names and locals, one message changed: not the code the runner follows either.
    consts = tuple(c.replace("during preview", "in preview") if isinstance(c, str) else c
                   for c in shipped.__code__.co_consts)
    assert consts != shipped.__code__.co_consts
    with monkeypatch.context() as reworded:
        reworded.setattr(runner._PolicyAnalyzerServicer, "AnalyzeStack",
                         types.FunctionType(shipped.__code__.replace(co_consts=consts), shipped.__globals__))
        assert not runner._stack_analysis_shareable(servicer)

    def changed(self: Any, request: Any, context: Any) -> Any:
        own.append(request)
        return shipped(self, request, context)

    monkeypatch.setattr(runner._PolicyAnalyzerServicer, "AnalyzeStack", changed)
    assert not runner._stack_analysis_shareable(servicer)
    run(_stack())  # type: ignore[arg-type]  # the plan's run (sharing on)
    assert len(own) == 1
