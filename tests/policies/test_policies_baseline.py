"""Security-baseline rules: each with a violating and a passing resource, by hand and through the offline engine."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pulumi
import pulumi_aws as aws
import pytest
from policy_test_helpers import ACCOUNT, REGION, by_hand, doc, offline, resource, rule_hits, stack_by_hand

LOG_ARN = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/api/access"
ACCESS_LOGS = {"destinationArn": LOG_ARN, "format": '{"requestId":"$context.requestId"}'}
SFN_LOGGING = {"level": "ALL", "includeExecutionData": True, "logDestination": LOG_ARN + ":*"}
STRONG_PASSWORDS = {"minimumLength": 12, "requireLowercase": True, "requireUppercase": True, "requireNumbers": True,
                    "requireSymbols": True}

# (rule id, type, violating props, passing props)
HAND_CASES: list[tuple[str, str, dict[str, Any], dict[str, Any]]] = [
    ("apigateway-method-authorized", "aws:apigateway/method:Method",
     {"httpMethod": "POST", "authorization": "NONE", "apiKeyRequired": True},
     {"httpMethod": "POST", "authorization": "CUSTOM", "authorizerId": "abc"}),
    ("apigateway-method-authorized", "aws:apigateway/method:Method",
     {"httpMethod": "GET", "authorization": "NONE"}, {"httpMethod": "OPTIONS", "authorization": "NONE"}),
    ("apigateway-stage-access-logging", "aws:apigateway/stage:Stage",
     {"restApi": "a", "stageName": "prod"}, {"restApi": "a", "stageName": "prod", "accessLogSettings": ACCESS_LOGS}),
    ("apigateway-stage-access-logging", "aws:apigatewayv2/stage:Stage",
     {"apiId": "a", "name": "prod", "accessLogSettings": {"format": "x"}},
     {"apiId": "a", "name": "prod", "accessLogSettings": ACCESS_LOGS}),
    ("apigateway-stage-access-logging", "aws:apigateway/deployment:Deployment", {"restApi": "a", "stageName": "v1"},
     {"restApi": "a", "description": "deployment only; the Stage resource carries logs"}),
    ("lambda-supported-runtime", "aws:lambda/function:Function", {"runtime": "python3.8", "role": "r"},
     {"runtime": "python3.14", "role": "r"}),
    ("lambda-supported-runtime", "aws:lambda/function:Function", {"runtime": "nodejs16.x", "role": "r"},
     {"packageType": "Image", "imageUri": "x", "role": "r"}),
    ("lambda-tracing-active", "aws:lambda/function:Function", {"runtime": "python3.14"},
     {"runtime": "python3.14", "tracingConfig": {"mode": "Active"}}),
    ("log-group-retention", "aws:cloudwatch/logGroup:LogGroup", {"name": "/x"}, {"name": "/x", "retentionInDays": 30}),
    ("sfn-logging", "aws:sfn/stateMachine:StateMachine",
     {"loggingConfiguration": {"level": "FATAL", "includeExecutionData": True, "logDestination": LOG_ARN}},
     {"loggingConfiguration": SFN_LOGGING}),
    ("sfn-logging", "aws:sfn/stateMachine:StateMachine", {"roleArn": "r"},
     {"loggingConfiguration": {**SFN_LOGGING, "level": "ERROR"}}),
    ("sfn-tracing", "aws:sfn/stateMachine:StateMachine", {"tracingConfiguration": {"enabled": False}},
     {"tracingConfiguration": {"enabled": True}}),
    ("dynamodb-point-in-time-recovery", "aws:dynamodb/table:Table", {"hashKey": "pk"},
     {"hashKey": "pk", "pointInTimeRecovery": {"enabled": True}}),
    ("dynamodb-kms-encryption", "aws:dynamodb/table:Table", {"serverSideEncryption": {"enabled": False}},
     {"serverSideEncryption": {"enabled": True}}),
    ("ecr-immutable-tags", "aws:ecr/repository:Repository", {"name": "x"},
     {"name": "x", "imageTagMutability": "IMMUTABLE"}),
    ("cognito-password-policy", "aws:cognito/userPool:UserPool", {"name": "pool"},
     {"name": "pool", "passwordPolicy": STRONG_PASSWORDS}),
    ("cognito-password-policy", "aws:cognito/userPool:UserPool",
     {"passwordPolicy": {**STRONG_PASSWORDS, "minimumLength": 6, "requireSymbols": False}},
     {"passwordPolicy": {**STRONG_PASSWORDS, "minimumLength": 8}}),
]


@pytest.mark.parametrize(("rule_id", "typ", "bad", "good"), HAND_CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(HAND_CASES)])
def test_rule_by_hand(rule_id: str, typ: str, bad: dict[str, Any], good: dict[str, Any]) -> None:
    messages = by_hand(rule_id, typ, bad, name="offender")
    assert messages and all("'offender'" in m and "Fix:" in m for m in messages), messages
    assert by_hand(rule_id, typ, good) == []


def test_rule_config_is_honoured() -> None:
    """Per-rule config (as set with --policy-pack-config) changes what passes."""
    strict = {"minimumLength": 14}
    assert by_hand("cognito-password-policy", "aws:cognito/userPool:UserPool",
                   {"passwordPolicy": STRONG_PASSWORDS}, config=strict)
    assert by_hand("sfn-logging", "aws:sfn/stateMachine:StateMachine",
                   {"loggingConfiguration": {**SFN_LOGGING, "level": "ERROR"}}, config={"levels": ["ALL"]})


# ------------------------------------------------------------------ stack rules by hand


def _api_and_routes(protocol: str, *routes: tuple[str, str]) -> list[Any]:
    api = resource("aws:apigatewayv2/api:Api", "api", {"id": "a1", "protocolType": protocol})
    out = [api]
    for key, auth in routes:
        out.append(resource("aws:apigatewayv2/route:Route", f"route-{key}",
                            {"apiId": "a1", "routeKey": key, "authorizationType": auth}, {"apiId": [api]}))
    return out


def test_websocket_routes_only_connect_takes_an_authorizer() -> None:
    ok = _api_and_routes("WEBSOCKET", ("$connect", "CUSTOM"), ("$disconnect", "NONE"), ("$default", "NONE"),
                         ("report", "NONE"))
    assert stack_by_hand("apigateway-route-authorized", ok) == []
    bad = _api_and_routes("WEBSOCKET", ("$connect", "NONE"), ("$disconnect", "NONE"))
    assert [name for name, _ in stack_by_hand("apigateway-route-authorized", bad)] == ["route-$connect"]


def test_http_api_routes_including_default_need_an_authorizer() -> None:
    bad = _api_and_routes("HTTP", ("$default", "NONE"), ("GET /items", "JWT"), ("OPTIONS /items", "NONE"))
    assert [name for name, _ in stack_by_hand("apigateway-route-authorized", bad)] == ["route-$default"]


def _rest_stage(settings: dict[str, Any] | None, method_path: str = "*/*") -> list[Any]:
    stage = resource("aws:apigateway/stage:Stage", "stage", {"restApi": "a1", "stageName": "prod"})
    if settings is None:
        return [stage]
    return [stage, resource("aws:apigateway/methodSettings:MethodSettings", "throttle",
                            {"restApi": "a1", "stageName": "prod", "methodPath": method_path, "settings": settings})]


def test_rest_stage_throttling_needs_stage_wide_method_settings() -> None:
    limits = {"throttlingBurstLimit": 50, "throttlingRateLimit": 20}
    assert stack_by_hand("apigateway-stage-throttling", _rest_stage(limits)) == []
    for bad in (_rest_stage(None), _rest_stage(limits, "items/GET"),
                _rest_stage({"throttlingBurstLimit": -1, "throttlingRateLimit": -1})):
        assert [n for n, _ in stack_by_hand("apigateway-stage-throttling", bad)] == ["stage"]


def test_v2_stage_throttling_uses_default_route_settings() -> None:
    good = resource("aws:apigatewayv2/stage:Stage", "ws-stage",
                    {"defaultRouteSettings": {"throttlingBurstLimit": 10, "throttlingRateLimit": 5}})
    bad = resource("aws:apigatewayv2/stage:Stage", "ws-stage", {"defaultRouteSettings": {"throttlingBurstLimit": 10}})
    assert stack_by_hand("apigateway-stage-throttling", [good]) == []
    assert [n for n, _ in stack_by_hand("apigateway-stage-throttling", [bad])] == ["ws-stage"]


BUCKET_ARN = "arn:aws:s3:::data-bucket"
TLS_ONLY = doc({"Sid": "TlsOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                "Resource": [BUCKET_ARN, BUCKET_ARN + "/*"], "Condition": {"Bool": {"aws:SecureTransport": "false"}}})


def _bucket_stack(*, pab: bool = True, sse: bool = True, policy: str | None = TLS_ONLY,
                  by_value: bool = False) -> list[Any]:
    bucket = resource("aws:s3/bucket:Bucket", "data", {"bucket": "data-bucket", "id": "data-bucket",
                                                        "arn": BUCKET_ARN})
    deps = {} if by_value else {"bucket": [bucket]}
    out = [bucket]
    if pab:
        out.append(resource("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "data-pab", {
            "bucket": "data-bucket", "blockPublicAcls": True, "blockPublicPolicy": True, "ignorePublicAcls": True,
            "restrictPublicBuckets": True}, deps))
    if sse:
        out.append(resource("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
                            "data-sse", {"bucket": "data-bucket", "rules": [
                                {"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms"}}]}, deps))
    if policy:
        out.append(resource("aws:s3/bucketPolicy:BucketPolicy", "data-policy",
                            {"bucket": "data-bucket", "policy": policy}, deps))
    return out


@pytest.mark.parametrize("by_value", [False, True], ids=["property-dependency", "bucket-name"])
def test_s3_bucket_rules_follow_the_separate_v7_resources(by_value: bool) -> None:
    for rule in ("s3-bucket-public-access-block", "s3-bucket-encryption", "s3-bucket-tls-only"):
        assert stack_by_hand(rule, _bucket_stack(by_value=by_value)) == [], rule
    assert [n for n, _ in stack_by_hand("s3-bucket-public-access-block", _bucket_stack(pab=False))] == ["data"]
    assert [n for n, _ in stack_by_hand("s3-bucket-encryption", _bucket_stack(sse=False))] == ["data"]
    assert [n for n, _ in stack_by_hand("s3-bucket-tls-only", _bucket_stack(policy=None))] == ["data"]
    objects_only = doc({"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": BUCKET_ARN + "/*",
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}}})
    assert [n for n, _ in stack_by_hand("s3-bucket-tls-only", _bucket_stack(policy=objects_only))] == ["data"]


def test_s3_partial_public_access_block_names_the_missing_flags() -> None:
    stack = _bucket_stack()
    stack[1].props["restrictPublicBuckets"] = False
    [(name, message)] = stack_by_hand("s3-bucket-public-access-block", stack)
    assert name == "data" and "restrictPublicBuckets" in message


def test_ecr_scan_on_push_by_repository_or_registry_configuration() -> None:
    repo = resource("aws:ecr/repository:Repository", "repo", {"name": "shared/app"})
    scanned = resource("aws:ecr/repository:Repository", "repo", {"name": "shared/app",
                                                                 "imageScanningConfiguration": {"scanOnPush": True}})
    registry = resource("aws:ecr/registryScanningConfiguration:RegistryScanningConfiguration", "scan", {
        "scanType": "ENHANCED", "rules": [{"scanFrequency": "CONTINUOUS_SCAN",
                                           "repositoryFilters": [{"filter": "shared/*", "filterType": "WILDCARD"}]}]})
    assert [n for n, _ in stack_by_hand("ecr-scan-on-push", [repo])] == ["repo"]
    assert stack_by_hand("ecr-scan-on-push", [scanned]) == []
    assert stack_by_hand("ecr-scan-on-push", [repo, registry]) == []


def _repo_policy(*statements: dict[str, Any]) -> list[Any]:
    repo = resource("aws:ecr/repository:Repository", "repo", {
        "name": "shared/app", "registryId": ACCOUNT, "arn": f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/shared/app"})
    return [repo, resource("aws:ecr/repositoryPolicy:RepositoryPolicy", "repo-policy",
                           {"repository": "shared/app", "policy": doc(*statements)}, {"repository": [repo]})]


def test_ecr_repository_policy_gives_others_pull_only() -> None:
    pull = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
    good = _repo_policy({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::222222222222:root"}, "Action": pull},
                        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/ci"},
                         "Action": [*pull, "ecr:PutImage", "ecr:InitiateLayerUpload"]},
                        {"Effect": "Allow", "Principal": "*", "Action": pull,
                         "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}})
    assert stack_by_hand("ecr-repository-policy-pull-only", good) == []
    push = _repo_policy({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::222222222222:root"},
                         "Action": [*pull, "ecr:PutImage"]})
    [(name, message)] = stack_by_hand("ecr-repository-policy-pull-only", push)
    assert name == "repo-policy" and "ecr:PutImage" in message
    public = _repo_policy({"Effect": "Allow", "Principal": "*", "Action": pull})
    [(_, message)] = stack_by_hand("ecr-repository-policy-pull-only", public)
    assert "without a condition that limits it to an organization" in message and "it has no condition" in message


# ------------------------------------------------------------------ the same rules through the offline engine


def _rest_api(authorization: str, with_logs: bool, with_throttle: bool) -> Callable[[], None]:
    def program() -> None:
        api = aws.apigateway.RestApi("api")
        res = aws.apigateway.Resource("items", rest_api=api.id, parent_id=api.root_resource_id, path_part="items")
        method = aws.apigateway.Method("get-items", rest_api=api.id, resource_id=res.id, http_method="GET",
                                       authorization=authorization,
                                       authorizer_id="abc123" if authorization == "CUSTOM" else None)
        integration = aws.apigateway.Integration("get-items-mock", rest_api=api.id, resource_id=res.id,
                                                 http_method=method.http_method, type="MOCK")
        deployment = aws.apigateway.Deployment("deploy", rest_api=api.id,
                                               opts=pulumi.ResourceOptions(depends_on=[integration]))
        logs = aws.cloudwatch.LogGroup("access", retention_in_days=30)
        stage = aws.apigateway.Stage("prod", rest_api=api.id, deployment=deployment.id, stage_name="prod",
                                     access_log_settings={"destination_arn": logs.arn, "format": '{"id":"x"}'}
                                     if with_logs else None)
        if with_throttle:
            aws.apigateway.MethodSettings("throttle", rest_api=api.id, stage_name=stage.stage_name, method_path="*/*",
                                          settings={"throttling_burst_limit": 50, "throttling_rate_limit": 20})
    return program


def _websocket(connect_auth: str) -> Callable[[], None]:
    def program() -> None:
        api = aws.apigatewayv2.Api("ws", protocol_type="WEBSOCKET", route_selection_expression="$request.body.action")
        aws.apigatewayv2.Route("connect", api_id=api.id, route_key="$connect", authorization_type=connect_auth,
                               authorizer_id="abc123" if connect_auth == "CUSTOM" else None)
        aws.apigatewayv2.Route("disconnect", api_id=api.id, route_key="$disconnect")
    return program


def _v2_stage(throttled: bool) -> Callable[[], None]:
    def program() -> None:
        api = aws.apigatewayv2.Api("ws", protocol_type="WEBSOCKET", route_selection_expression="$request.body.action")
        aws.apigatewayv2.Stage("ws-stage", api_id=api.id, name="prod",
                               default_route_settings={"throttling_burst_limit": 10, "throttling_rate_limit": 5}
                               if throttled else None)
    return program


def _function(runtime: str, tracing: str) -> Callable[[], None]:
    def program() -> None:
        role = aws.iam.Role("fn-role", assume_role_policy=doc({"Effect": "Allow", "Principal": {
            "Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}))
        aws.lambda_.Function("fn", runtime=runtime, handler="app.handler", role=role.arn,
                             code=pulumi.AssetArchive({"app.py": pulumi.StringAsset("def handler(e, c): return e")}),
                             tracing_config={"mode": tracing})
    return program


def _log_group(days: int | None) -> Callable[[], None]:
    return lambda: aws.cloudwatch.LogGroup("logs", retention_in_days=days)


def _state_machine(logging: dict[str, Any] | None, tracing: bool) -> Callable[[], None]:
    def program() -> None:
        role = aws.iam.Role("sm-role", assume_role_policy=doc({"Effect": "Allow", "Principal": {
            "Service": "states.amazonaws.com"}, "Action": "sts:AssumeRole"}))
        aws.sfn.StateMachine("sm", role_arn=role.arn, definition=json.dumps(
            {"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}), logging_configuration=logging,
            tracing_configuration={"enabled": tracing})
    return program


def _table(pitr: bool, sse: bool) -> Callable[[], None]:
    return lambda: aws.dynamodb.Table("table", hash_key="pk", attributes=[{"name": "pk", "type": "S"}],
                                      billing_mode="PAY_PER_REQUEST", point_in_time_recovery={"enabled": pitr},
                                      server_side_encryption={"enabled": sse})


def _bucket(pab: bool, sse: bool, tls: bool) -> Callable[[], None]:
    def program() -> None:
        bucket = aws.s3.Bucket("data")
        if pab:
            aws.s3.BucketPublicAccessBlock("data-pab", bucket=bucket.id, block_public_acls=True,
                                           block_public_policy=True, ignore_public_acls=True,
                                           restrict_public_buckets=True)
        if sse:
            aws.s3.BucketServerSideEncryptionConfiguration("data-sse", bucket=bucket.id, rules=[
                {"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}}])
        if tls:
            aws.s3.BucketPolicy("data-policy", bucket=bucket.id, policy=bucket.arn.apply(lambda arn: doc(
                {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": [arn, arn + "/*"],
                 "Condition": {"Bool": {"aws:SecureTransport": "false"}}})))
    return program


def _repository(immutable: bool, scan: bool) -> Callable[[], None]:
    return lambda: aws.ecr.Repository("repo", image_tag_mutability="IMMUTABLE" if immutable else "MUTABLE",
                                      image_scanning_configuration={"scan_on_push": scan})


def _repository_policy(actions: list[str]) -> Callable[[], None]:
    def program() -> None:
        repo = aws.ecr.Repository("repo", image_tag_mutability="IMMUTABLE",
                                  image_scanning_configuration={"scan_on_push": True})
        aws.ecr.RepositoryPolicy("repo-policy", repository=repo.name, policy=doc(
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::222222222222:root"}, "Action": actions}))
    return program


def _user_pool(policy: dict[str, Any] | None) -> Callable[[], None]:
    return lambda: aws.cognito.UserPool("pool", password_policy=policy)


STRONG = {"minimum_length": 12, "require_lowercase": True, "require_uppercase": True, "require_numbers": True,
          "require_symbols": True}
OFFLINE_CASES: list[tuple[str, Callable[[], None], Callable[[], None], str]] = [
    ("apigateway-method-authorized", _rest_api("NONE", True, True), _rest_api("CUSTOM", True, True), "get-items"),
    ("apigateway-route-authorized", _websocket("NONE"), _websocket("CUSTOM"), "connect"),
    ("apigateway-stage-access-logging", _rest_api("CUSTOM", False, True), _rest_api("CUSTOM", True, True), "prod"),
    ("apigateway-stage-throttling", _rest_api("CUSTOM", True, False), _rest_api("CUSTOM", True, True), "prod"),
    ("apigateway-stage-throttling", _v2_stage(False), _v2_stage(True), "ws-stage"),
    ("lambda-supported-runtime", _function("python3.9", "Active"), _function("python3.14", "Active"), "fn"),
    ("lambda-tracing-active", _function("python3.14", "PassThrough"), _function("python3.14", "Active"), "fn"),
    ("log-group-retention", _log_group(None), _log_group(30), "logs"),
    ("sfn-logging", _state_machine(None, True), _state_machine({"level": "ALL", "include_execution_data": True,
                                                                "log_destination": "arn:aws:logs:eu-west-1:"
                                                                "111111111111:log-group:sm:*"}, True), "sm"),
    ("sfn-tracing", _state_machine(None, False), _state_machine(None, True), "sm"),
    ("dynamodb-point-in-time-recovery", _table(False, True), _table(True, True), "table"),
    ("dynamodb-kms-encryption", _table(True, False), _table(True, True), "table"),
    ("s3-bucket-public-access-block", _bucket(False, True, True), _bucket(True, True, True), "data"),
    ("s3-bucket-encryption", _bucket(True, False, True), _bucket(True, True, True), "data"),
    ("s3-bucket-tls-only", _bucket(True, True, False), _bucket(True, True, True), "data"),
    ("ecr-immutable-tags", _repository(False, True), _repository(True, True), "repo"),
    ("ecr-scan-on-push", _repository(True, False), _repository(True, True), "repo"),
    ("ecr-repository-policy-pull-only", _repository_policy(["ecr:BatchGetImage", "ecr:PutImage"]),
     _repository_policy(["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]), "repo-policy"),
    ("cognito-password-policy", _user_pool({**STRONG, "require_symbols": False}), _user_pool(STRONG), "pool"),
]


@pytest.mark.parametrize(("rule_id", "bad", "good", "offender"), OFFLINE_CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(OFFLINE_CASES)])
def test_rule_through_offline_engine(rule_id: str, bad: Callable[[], None], good: Callable[[], None],
                                     offender: str) -> None:
    violations = offline(bad)
    assert rule_hits(violations, rule_id) == [offender], violations
    assert rule_hits(offline(good), rule_id) == []


# ------------------------------------------------------------------ S3: each way of meeting a rule, and near it

DENY_TLS = {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": [BUCKET_ARN, BUCKET_ARN + "/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}}


@pytest.mark.parametrize("first", [
    {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/app"}, "Action": "s3:GetObject",
     "Resource": BUCKET_ARN + "/*"},
    {**DENY_TLS, "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/app"}},
    {**DENY_TLS, "Action": "s3:PutObject"},
    {**DENY_TLS, "Condition": {"Bool": {"aws:SecureTransport": "true"}}},
], ids=["allow", "one-role", "one-action", "secure-true"])
def test_tls_only_is_found_after_statements_that_do_not_make_it(first: dict[str, Any]) -> None:
    """The deny may come after statements that look like it but deny less; each of them alone is not enough."""
    assert [n for n, _ in stack_by_hand("s3-bucket-tls-only", _bucket_stack(policy=doc(first)))] == ["data"]
    assert stack_by_hand("s3-bucket-tls-only", _bucket_stack(policy=doc(first, DENY_TLS))) == []


def test_tls_only_accepts_star_action_the_inline_policy_and_names_the_arn() -> None:
    star = doc({**DENY_TLS, "Action": "*", "Condition": {"Bool": {"AWS:SecureTransport": False}}})
    assert stack_by_hand("s3-bucket-tls-only", _bucket_stack(policy=star)) == []
    stack = _bucket_stack(policy=None)
    stack[0].props["policy"] = doc(DENY_TLS)  # the bucket's own (legacy) policy property
    assert stack_by_hand("s3-bucket-tls-only", stack) == []
    [(_, message)] = stack_by_hand("s3-bucket-tls-only", _bucket_stack(policy='{"Statement": ['))
    assert f"when aws:SecureTransport is false on {BUCKET_ARN} and its objects" in message
    nameless = _bucket_stack(policy=None)
    del nameless[0].props["arn"]
    [(_, message)] = stack_by_hand("s3-bucket-tls-only", nameless)
    assert "is false on <bucket arn> and its objects" in message


def test_an_account_public_access_block_covers_every_bucket_only_with_all_four_flags() -> None:
    flags = {"blockPublicAcls": True, "blockPublicPolicy": True, "ignorePublicAcls": True,
             "restrictPublicBuckets": True}
    account = resource("aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock", "account", flags)
    assert stack_by_hand("s3-bucket-public-access-block", [*_bucket_stack(pab=False), account]) == []
    partial = resource("aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock", "account",
                       {**flags, "restrictPublicBuckets": False})
    assert [n for n, _ in stack_by_hand("s3-bucket-public-access-block", [*_bucket_stack(pab=False), partial])] == [
        "data"]


def test_a_partial_public_access_block_names_every_flag_left_off() -> None:
    stack = _bucket_stack()
    stack[1].props["blockPublicAcls"] = False
    stack[1].props["restrictPublicBuckets"] = "true"  # a string is not the boolean true
    [(_, message)] = stack_by_hand("s3-bucket-public-access-block", stack)
    assert message.startswith("Bucket 'data': public access block 'data-pab' leaves blockPublicAcls, "
                              "restrictPublicBuckets off.")
    [(_, missing)] = stack_by_hand("s3-bucket-public-access-block", _bucket_stack(pab=False))
    assert missing.startswith("Bucket 'data' has no BucketPublicAccessBlock.")


def test_default_encryption_by_the_legacy_inline_block_or_any_of_several_configurations() -> None:
    stack = _bucket_stack(sse=False)
    stack[0].props["serverSideEncryptionConfiguration"] = {"rule": {"applyServerSideEncryptionByDefault": {
        "sseAlgorithm": "AES256"}}}
    assert stack_by_hand("s3-bucket-encryption", stack) == []
    stack[0].props["serverSideEncryptionConfiguration"] = {"rule": {"applyServerSideEncryptionByDefault": {
        "sseAlgorithm": "AES-256"}}}
    assert [n for n, _ in stack_by_hand("s3-bucket-encryption", stack)] == ["data"]
    bad = resource("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
                   "data-sse-old", {"bucket": "data-bucket", "rules": [
                       "not a rule", {"applyServerSideEncryptionByDefault": {"sseAlgorithm": "none"}}]},
                   {"bucket": [stack[0]]})
    assert [n for n, _ in stack_by_hand("s3-bucket-encryption", [*_bucket_stack(sse=False), bad])] == ["data"]
    assert stack_by_hand("s3-bucket-encryption", [*_bucket_stack(), bad]) == []
    [(_, message)] = stack_by_hand("s3-bucket-encryption", _bucket_stack(sse=False))
    assert message.startswith("Bucket 'data' has no default encryption configuration.")


# ------------------------------------------------------------------ Lambda runtimes, tracing and log retention

FUNCTION = "aws:lambda/function:Function"


@pytest.mark.parametrize(("runtime", "suggested"), [
    ("python3.8", "python3.14"),  # 3.13 and 3.14 share a deprecation date: the higher version wins
    ("java8", "java25"), ("nodejs12.x", "nodejs24.x"), ("nodejs", "nodejs24.x")])
def test_a_deprecated_runtime_is_reported_with_the_newest_of_its_family(runtime: str, suggested: str) -> None:
    [message] = by_hand("lambda-supported-runtime", FUNCTION, {"runtime": runtime}, name="fn")
    assert message.startswith(f"Function 'fn' uses runtime {runtime!r}, deprecated by AWS since ")
    assert message.endswith(f"Fix: move to a supported runtime such as {suggested!r}.")


def test_a_runtime_is_unsupported_from_its_deprecation_day_on(monkeypatch: pytest.MonkeyPatch) -> None:
    """The Lambda developer guide's deprecation date is the first day without support."""
    import datetime

    from serverless_patterns.policies import lambda_

    class Day(datetime.date):
        today_is = datetime.date(2029, 6, 29)

        @classmethod
        def today(cls) -> datetime.date:
            return cls.today_is

    monkeypatch.setattr(lambda_.datetime, "date", Day)
    assert by_hand("lambda-supported-runtime", FUNCTION, {"runtime": "python3.14"}) == []
    Day.today_is = datetime.date(2029, 6, 30)
    assert by_hand("lambda-supported-runtime", FUNCTION, {"runtime": "python3.14"})


@pytest.mark.parametrize("props", [{"packageType": "Image", "imageUri": "1.dkr.ecr/x@sha256:0", "runtime": "python3.8"},
                                   {"runtime": "python3.99"}, {"packageType": "Zip", "runtime": None}],
                         ids=["image", "newer-than-the-table", "no-runtime-known"])
def test_runtimes_the_rule_cannot_judge_are_not_reported(props: dict[str, Any]) -> None:
    assert by_hand("lambda-supported-runtime", FUNCTION, props) == []
    assert by_hand("lambda-supported-runtime", FUNCTION, {"packageType": "Zip", "runtime": "python3.8"})


def test_tracing_and_retention_messages_say_what_is_set() -> None:
    [unset] = by_hand("lambda-tracing-active", FUNCTION, {"runtime": "python3.14"}, name="fn")
    assert unset.startswith("Function 'fn' has X-Ray tracing mode 'PassThrough'.")
    [forever] = by_hand("log-group-retention", "aws:cloudwatch/logGroup:LogGroup", {"name": "/x"}, name="logs")
    assert forever.startswith("Log group 'logs' keeps logs forever (no retentionInDays).")


# ------------------------------------------------------------------ API Gateway: how each rule finds what it needs


def _route(key: str, auth: str | None, api_id: str = "a1") -> Any:
    props = {"apiId": api_id, "routeKey": key, **({"authorizationType": auth} if auth else {})}
    return resource("aws:apigatewayv2/route:Route", f"route-{key}", props)


def test_a_route_finds_its_api_by_id_without_a_dependency() -> None:
    """The API's protocol decides: an HTTP API's $default route needs an authorizer, a WebSocket's does not."""
    http = resource("aws:apigatewayv2/api:Api", "api", {"id": "a1", "protocolType": "HTTP"})
    assert [n for n, _ in stack_by_hand("apigateway-route-authorized", [http, _route("$default", "NONE")])] == [
        "route-$default"]


def test_a_route_without_authorization_type_is_unauthorized() -> None:
    """AuthorizationType defaults to NONE (API Gateway V2 API reference, CreateRoute)."""
    ws = resource("aws:apigatewayv2/api:Api", "api", {"id": "a1", "protocolType": "WEBSOCKET"})
    [(name, message)] = stack_by_hand("apigateway-route-authorized", [ws, _route("$connect", None)])
    assert name == "route-$connect" and message.startswith("WebSocket route 'route-$connect' ($connect) has ")


@pytest.mark.parametrize(("key", "reported"), [
    ("GET /items", "HTTP API route 'route-GET /items' (GET /items) has authorizationType NONE."),
    ("$connect", "WebSocket route 'route-$connect' ($connect) has authorizationType NONE"),
    ("$disconnect", None), ("sendmessage", None)])
def test_without_its_api_a_route_key_tells_the_protocol(key: str, reported: str | None) -> None:
    """Route keys are 'METHOD /path' on HTTP APIs and '$connect', '$default' or a message value on WebSocket
    APIs (API Gateway V2 API reference, Route: routeKey)."""
    unknown = resource("aws:apigatewayv2/api:Api", "api", {"id": "a1"})  # protocol not known (yet)
    for apis in ([], [unknown]):
        found = [m for _, m in stack_by_hand("apigateway-route-authorized", [*apis, _route(key, "NONE", "a1")])]
        assert [m.startswith(reported) for m in found] == ([True] if reported else []), found


def test_a_method_with_only_an_api_key_says_the_key_is_not_authorization() -> None:
    [keyed] = by_hand("apigateway-method-authorized", "aws:apigateway/method:Method",
                      {"httpMethod": "GET", "authorization": "NONE", "apiKeyRequired": True}, name="m")
    assert keyed.startswith("Method 'm' (GET) has authorization 'NONE' (an API key is not authorization). Fix:")
    [bare] = by_hand("apigateway-method-authorized", "aws:apigateway/method:Method",
                     {"httpMethod": "GET", "authorization": "NONE"}, name="m")
    assert bare.startswith("Method 'm' (GET) has authorization 'NONE'. Fix:")


def test_an_access_log_destination_known_only_at_deploy_counts_as_set() -> None:
    from policy_test_helpers import analyze_request, diagnostics, servicer
    from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

    stage = {"apiId": "a", "name": "prod", "accessLogSettings": {"destinationArn": UNKNOWN_STRING_VALUE,
                                                                  "format": "{}"}}
    assert diagnostics(servicer().Analyze(analyze_request("aws:apigatewayv2/stage:Stage", "st", stage), None)) == []


def _settings(stage: str, path: str, burst: int = 1, rate: int = 1) -> Any:
    return resource("aws:apigateway/methodSettings:MethodSettings", f"settings-{stage}-{path}", {
        "restApi": "a1", "stageName": stage, "methodPath": path,
        "settings": {"throttlingBurstLimit": burst, "throttlingRateLimit": rate}})


def test_rest_stage_throttling_is_found_among_other_stages_and_paths() -> None:
    stage = _rest_stage(None)
    assert stack_by_hand("apigateway-stage-throttling", [*stage, _settings("prod", "*/*")]) == []  # 1 rps is a limit
    assert [n for n, _ in stack_by_hand("apigateway-stage-throttling", [*stage, _settings("test", "*/*")])] == [
        "stage"]
    assert stack_by_hand("apigateway-stage-throttling", [*stage, _settings("test", "*/*"),
                                                         _settings("prod", "items/GET"),
                                                         _settings("prod", "*/*")]) == []


# ------------------------------------------------------------------ Cognito and ECR: boundaries and what is named

POOL = "aws:cognito/userPool:UserPool"
ALL_CLASSES = {"requireLowercase": True, "requireUppercase": True, "requireNumbers": True, "requireSymbols": True}


def test_a_password_policy_of_exactly_the_minimum_passes_and_the_message_lists_every_weakness() -> None:
    assert by_hand("cognito-password-policy", POOL, {"passwordPolicy": {**ALL_CLASSES, "minimumLength": 8}}) == []
    assert by_hand("cognito-password-policy", POOL, {"passwordPolicy": {**ALL_CLASSES, "minimumLength": 14}},
                   config={"minimumLength": 14}) == []
    [weak] = by_hand("cognito-password-policy", POOL, {"passwordPolicy": {
        **ALL_CLASSES, "minimumLength": 6, "requireSymbols": False, "requireNumbers": False}}, name="pool")
    assert weak == ("User pool 'pool' has a weak password policy: minimumLength 6 < 8; requireNumbers is off; "
                    "requireSymbols is off. Fix: require all four character classes and at least 8 characters.")
    [unset] = by_hand("cognito-password-policy", POOL, {"passwordPolicy": ALL_CLASSES})
    assert "minimumLength None < 8" in unset
    [none] = by_hand("cognito-password-policy", POOL, {}, name="pool", config={"minimumLength": 14})
    assert none.startswith("User pool 'pool' sets no password policy. Fix: password_policy={'minimum_length': 14, ")


def test_tag_immutability_and_what_each_resource_kind_is_called() -> None:
    repo, template = "aws:ecr/repository:Repository", "aws:ecr/repositoryCreationTemplate:RepositoryCreationTemplate"
    assert by_hand("ecr-immutable-tags", repo, {"imageTagMutability": "IMMUTABLE_WITH_EXCLUSION"}) == []
    [default] = by_hand("ecr-immutable-tags", repo, {}, name="r")  # ECR's default is MUTABLE (CreateRepository)
    assert default.startswith("Repository 'r' has mutable tags (MUTABLE): ")
    [made] = by_hand("ecr-immutable-tags", template, {"imageTagMutability": "MUTABLE"}, name="t")
    assert made.startswith("Repository creation template 't' creates repositories with mutable tags (MUTABLE): ")


@pytest.mark.parametrize(("frequency", "filters", "covered"), [
    ("CONTINUOUS_SCAN", [{"filter": "shared/*", "filterType": "WILDCARD"}], True),
    ("SCAN_ON_PUSH", ["not a filter", {"filter": "shared/*", "filterType": "WILDCARD"}], True),
    ("MANUAL", [{"filter": "*", "filterType": "WILDCARD"}], False),
    ("SCAN_ON_PUSH", [{"filter": "other/*", "filterType": "WILDCARD"}], False),
])
def test_registry_scanning_rules_cover_repositories_by_frequency_and_filter(frequency: str, filters: list[Any],
                                                                            covered: bool) -> None:
    repo = resource("aws:ecr/repository:Repository", "repo", {"name": "shared/app"})
    registry = resource("aws:ecr/registryScanningConfiguration:RegistryScanningConfiguration", "scan", {
        "scanType": "ENHANCED", "rules": ["not a rule", {"scanFrequency": frequency, "repositoryFilters": filters}]})
    found = stack_by_hand("ecr-scan-on-push", [repo, registry])
    assert (found == []) is covered
    if not covered:
        assert found[0][1].startswith("Repository 'repo' does not scan images on push.")


def test_pull_only_reads_every_statement_and_names_grantees_and_extra_actions() -> None:
    other = {"AWS": ["arn:aws:iam::222222222222:root", "333333333333"]}
    stack = _repo_policy({"Effect": "Deny", "Principal": "*", "Action": "ecr:*"},
                         {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/ci"},
                          "Action": ["ecr:PutImage"]},
                         {"Effect": "Allow", "Principal": {**other, "Service": "lambda.amazonaws.com"},
                          "Action": ["ecr:BatchGetImage", "ecr:PutImage", "ecr:DeleteRepository"]})
    [(name, message)] = stack_by_hand("ecr-repository-policy-pull-only", stack)
    assert name == "repo-policy" and message.startswith(
        "Repository policy 'repo-policy' statement #3 grants ecr:PutImage, ecr:DeleteRepository to "
        "arn:aws:iam::222222222222:root, 333333333333, lambda.amazonaws.com: ")
    assert message.endswith("Fix: give other accounts only ecr:BatchGetImage, ecr:GetDownloadUrlForLayer.")


def test_pull_only_without_the_repository_treats_every_account_as_another() -> None:
    policy = resource("aws:ecr/repositoryPolicy:RepositoryPolicy", "repo-policy", {"repository": "elsewhere",
                      "policy": doc({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/ci"},
                                     "Action": ["ecr:PutImage"]})})
    [(_, message)] = stack_by_hand("ecr-repository-policy-pull-only", [policy])
    assert " (treated as other accounts: the repository is not in this stack): " in message
    template = resource("aws:ecr/repositoryCreationTemplate:RepositoryCreationTemplate", "tpl", {
        "prefix": "shared", "repositoryPolicy": doc({"Effect": "Allow", "Principal": {"AWS": "222222222222"},
                                                     "Action": ["ecr:PutImage"]})})
    [(_, made)] = stack_by_hand("ecr-repository-policy-pull-only", [template])
    assert made.startswith("Repository creation template 'tpl' statement #1 grants ecr:PutImage to 222222222222 "
                           "(treated as other accounts): ")
    for empty in ("", '{"Statement": ['):
        blank = resource("aws:ecr/repositoryPolicy:RepositoryPolicy", "p", {"repository": "x", "policy": empty})
        assert stack_by_hand("ecr-repository-policy-pull-only", [blank]) == []


def test_tls_deny_may_name_everyone_as_aws_star() -> None:
    aws_star = doc({**DENY_TLS, "Principal": {"AWS": "*"}})
    assert stack_by_hand("s3-bucket-tls-only", _bucket_stack(policy=aws_star)) == []


@pytest.mark.parametrize("known", ["bucket", "id"])
def test_bucket_resources_are_related_by_name_or_id_whichever_is_known(known: str) -> None:
    """During preview a new bucket's id is unknown while an explicit name is known, and an auto-named bucket's name
    may be known only through its id: the separate S3 resources are matched by either."""
    stack = _bucket_stack(by_value=True)
    unknown = {"bucket": "id", "id": "bucket"}[known]
    del stack[0].props[unknown]
    for rule in ("s3-bucket-public-access-block", "s3-bucket-encryption", "s3-bucket-tls-only"):
        assert stack_by_hand(rule, stack) == [], rule


def test_odd_shapes_of_encryption_settings_are_no_encryption_and_no_crash() -> None:
    stack = _bucket_stack(sse=False)
    stack[0].props["serverSideEncryptionConfiguration"] = ["aws:kms"]
    odd = resource("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "odd",
                   {"bucket": "data-bucket", "rules": [{"applyServerSideEncryptionByDefault": "aws:kms"}]},
                   {"bucket": [stack[0]]})
    assert [n for n, _ in stack_by_hand("s3-bucket-encryption", [*stack, odd])] == ["data"]


REPO_ARN = f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/shared/app"


@pytest.mark.parametrize(("outputs", "by_value"), [
    ({"name": "shared/app", "registryId": ACCOUNT}, False), ({"name": "shared/app", "arn": REPO_ARN}, False),
    ({"name": "shared/app", "registryId": ACCOUNT}, True), ({"id": "shared/app", "registryId": ACCOUNT}, True)],
    ids=["registry-id", "arn", "by-name", "by-id"])
def test_the_registry_owner_is_known_from_whichever_repository_output_is_there(outputs: dict[str, str],
                                                                                 by_value: bool) -> None:
    """The owner's own roles may push; the owner is read from the repository's registryId or its ARN, and the
    policy finds its repository by dependency, or by value through the repository's name or id."""
    repo = resource("aws:ecr/repository:Repository", "repo", outputs)
    policy = resource("aws:ecr/repositoryPolicy:RepositoryPolicy", "repo-policy", {
        "repository": "shared/app", "policy": doc({"Effect": "Allow", "Principal": {
            "AWS": f"arn:aws:iam::{ACCOUNT}:role/ci"}, "Action": ["ecr:PutImage"]})},
        {} if by_value else {"repository": [repo]})
    assert stack_by_hand("ecr-repository-policy-pull-only", [repo, policy]) == []


def test_a_public_grant_of_more_than_pull_names_everyone_once() -> None:
    stack = _repo_policy({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": ["ecr:PutImage"],
                          "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}})
    [(_, message)] = stack_by_hand("ecr-repository-policy-pull-only", stack)
    assert message.startswith("Repository policy 'repo-policy' statement #1 grants ecr:PutImage to *: ")


def test_a_setting_of_the_wrong_type_is_reported_under_its_rule() -> None:
    from serverless_patterns.policies.core import STATE

    assert by_hand("cognito-password-policy", POOL, {"passwordPolicy": {**ALL_CLASSES, "minimumLength": 8}},
                   config={"minimumLength": "twelve"}) == []  # the default minimum (8) applies
    by_hand("sfn-logging", "aws:sfn/stateMachine:StateMachine", {"loggingConfiguration": SFN_LOGGING},
            config={"levels": "ALL"})
    assert STATE.config_problems == {
        "cognito-password-policy.minimumLength": "policy config for 'cognito-password-policy': minimumLength = "
                                                 "'twelve' is not a valid int; using 8",
        "sfn-logging.levels": "policy config for 'sfn-logging': levels = 'ALL' is not a valid list of strings; "
                              "using ['ALL', 'ERROR']"}
