"""`sfn-role-least-privilege`: permissions derived from the definition vs. the role's policies."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pulumi
import pulumi_aws as aws
import pytest
from policy_test_helpers import ACCOUNT, REGION, doc, offline, resource, rule_hits, stack_by_hand

from serverless_patterns.policies.state_machines import Context, definition_needs

RULE = "sfn-role-least-privilege"
FN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:label"
TABLE = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/orders"
BUS = f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/orders"
QUEUE_URL = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/notify"
QUEUE = f"arn:aws:sqs:{REGION}:{ACCOUNT}:notify"
TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:done"
CONNECTIONS = f"arn:aws:execute-api:{REGION}:{ACCOUNT}:ws12345678/prod/POST/@connections/*"
OWN = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:orders"
LOG_DELIVERY = {"Sid": "Logs", "Effect": "Allow", "Resource": "*", "Action": [
    "logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies", "logs:DescribeLogGroups"]}
XRAY = {"Sid": "XRay", "Effect": "Allow", "Resource": "*", "Action": [
    "xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets"]}


def definition() -> dict[str, Any]:
    """Every integration family the check maps, nested in Parallel and Map."""
    return {"StartAt": "Label", "States": {
        "Label": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Next": "Save",
                  "Parameters": {"FunctionName": FN, "Payload.$": "$"}},
        "Save": {"Type": "Task", "Resource": "arn:aws:states:::dynamodb:putItem", "Next": "Fan",
                 "Parameters": {"TableName": "orders", "Item": {"pk": {"S.$": "$.id"}}}},
        "Fan": {"Type": "Parallel", "Next": "Each", "Branches": [
            {"StartAt": "Head", "States": {"Head": {
                "Type": "Task", "Resource": "arn:aws:states:::aws-sdk:s3:headObject", "End": True,
                "Parameters": {"Bucket.$": "$.bucket", "Key.$": "$.key"}}}},
            {"StartAt": "Mail", "States": {"Mail": {
                "Type": "Task", "Resource": "arn:aws:states:::aws-sdk:sesv2:sendEmail", "End": True,
                "Parameters": {"FromEmailAddress": "noreply@example.com", "Content": {}}}}},
            {"StartAt": "Notify", "States": {"Notify": {
                "Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage", "End": True,
                "Parameters": {"QueueUrl": QUEUE_URL, "MessageBody.$": "$"}}}},
        ]},
        "Each": {"Type": "Map", "Next": "Progress", "ItemsPath": "$.items", "ItemProcessor": {
            "ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "Publish", "States": {"Publish": {
                "Type": "Task", "Resource": "arn:aws:states:::sns:publish", "End": True,
                "Parameters": {"TopicArn": TOPIC, "Message.$": "$"}}}}},
        "Progress": {"Type": "Task", "Resource": "arn:aws:states:::apigateway:invoke", "Next": "Emit",
                     "Parameters": {"ApiEndpoint": f"ws12345678.execute-api.{REGION}.amazonaws.com", "Method": "POST",
                                    "Stage": "prod", "Path.$": "States.Format('/@connections/{}', $.connectionId)",
                                    "AuthType": "IAM_ROLE", "RequestBody": {"progress": 50}}},
        "Emit": {"Type": "Task", "Resource": "arn:aws:states:::events:putEvents", "End": True,
                 "Parameters": {"Entries": [{"EventBusName": "orders", "Source": "orders", "DetailType": "done",
                                             "Detail.$": "$"}]}},
    }}


def exact_statements() -> list[dict[str, Any]]:
    return [
        {"Sid": "Invoke", "Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": [FN, FN + ":*"]},
        {"Sid": "Save", "Effect": "Allow", "Action": "dynamodb:PutItem", "Resource": TABLE},
        {"Sid": "Head", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::archive/*"},
        {"Sid": "Mail", "Effect": "Allow", "Action": "ses:SendEmail",
         "Resource": f"arn:aws:ses:{REGION}:{ACCOUNT}:identity/example.com"},
        {"Sid": "Notify", "Effect": "Allow", "Action": "sqs:SendMessage", "Resource": QUEUE},
        {"Sid": "Publish", "Effect": "Allow", "Action": "sns:Publish", "Resource": TOPIC},
        {"Sid": "Progress", "Effect": "Allow", "Action": "execute-api:ManageConnections", "Resource": CONNECTIONS},
        {"Sid": "Emit", "Effect": "Allow", "Action": "events:PutEvents", "Resource": BUS},
        LOG_DELIVERY, XRAY,
        {"Sid": "TellMissingKeysApart", "Effect": "Allow", "Action": "s3:ListBucket",
         "Resource": "arn:aws:s3:::archive"},
    ]


def _stack(statements: list[dict[str, Any]], definition_text: str | None = None) -> list[Any]:
    role = resource("aws:iam/role:Role", "sm-role", {"id": "sm-role-1", "name": "sm-role-1",
                                                     "arn": f"arn:aws:iam::{ACCOUNT}:role/sm-role-1"})
    policy = resource("aws:iam/rolePolicy:RolePolicy", "sm-policy", {"role": "sm-role-1", "policy": doc(*statements)},
                      {"role": [role]})
    table = resource("aws:dynamodb/table:Table", "orders", {"name": "orders", "arn": TABLE})
    bus = resource("aws:cloudwatch/eventBus:EventBus", "bus", {"name": "orders", "arn": BUS})
    machine = resource("aws:sfn/stateMachine:StateMachine", "orders-sm", {
        "arn": OWN, "roleArn": role.props["arn"], "definition": definition_text or json.dumps(definition())},
        {"roleArn": [role]})
    return [role, policy, table, bus, machine]


def test_exact_role_passes() -> None:
    assert stack_by_hand(RULE, _stack(exact_statements())) == []


def test_missing_and_excess_permissions_are_reported() -> None:
    statements = [s for s in exact_statements() if s.get("Sid") != "Save"]
    statements.append({"Sid": "Extra", "Effect": "Allow", "Action": ["s3:PutObject", "lambda:InvokeFunction"],
                       "Resource": ["arn:aws:s3:::archive/*", f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:other"]})
    found = stack_by_hand(RULE, _stack(statements))
    assert [name for name, _ in found] == ["orders-sm", "orders-sm"]
    missing, excess = (m for _, m in found)
    assert "lacks dynamodb:PutItem on " + TABLE + " (state 'Save')" in missing
    assert "s3:PutObject on arn:aws:s3:::archive/*" in excess
    assert "lambda:InvokeFunction on arn:aws:lambda:eu-west-1:111111111111:function:other" in excess
    assert "ses:SendEmail" not in excess and "logs:" not in excess and "xray:" not in excess
    assert "ses:SendEmail" not in missing  # granted on the sender's domain identity


def test_wrong_resource_counts_as_missing() -> None:
    statements = exact_statements()
    statements[0] = {"Sid": "Invoke", "Effect": "Allow", "Action": "lambda:InvokeFunction",
                     "Resource": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:someone-else"}
    missing = [m for _, m in stack_by_hand(RULE, _stack(statements)) if "lacks" in m]
    assert missing and f"lambda:InvokeFunction on {FN} (state 'Label')" in missing[0]


def test_sdk_names_map_to_iam_actions() -> None:
    ctx = Context("aws", REGION, ACCOUNT, {"orders": TABLE}, {}, {}, {}, OWN)
    needs = {(n.action, n.resource) for n in definition_needs(ctx, definition())}
    assert ("s3:GetObject", None) in needs  # headObject, bucket/key from JSONPath
    assert ("s3:ListBucket", None) in needs  # ... and a missing key is a 404, not a 403 (HeadObject "Permissions")
    assert ("ses:SendEmail", f"arn:aws:ses:{REGION}:{ACCOUNT}:identity/noreply@example.com") in needs  # sesv2 -> ses
    assert ("execute-api:ManageConnections",
            f"arn:aws:execute-api:{REGION}:{ACCOUNT}:ws12345678/prod/POST/@connections/connection") in needs
    assert ("events:PutEvents", BUS) in needs and ("sqs:SendMessage", QUEUE) in needs
    assert ("dynamodb:PutItem", TABLE) in needs and ("lambda:InvokeFunction", FN) in needs


@pytest.mark.parametrize(("resource_arn", "params", "expected"), [
    ("arn:aws:states:::aws-sdk:s3:restoreObject", {"Bucket": "archive", "Key": "a/b"},
     ("s3:RestoreObject", "arn:aws:s3:::archive/a/b")),
    ("arn:aws:states:::aws-sdk:s3:listObjectsV2", {"Bucket": "archive"}, ("s3:ListBucket", "arn:aws:s3:::archive")),
    ("arn:aws:states:::aws-sdk:dynamodb:query", {"TableName": "orders", "IndexName": "by-date"},
     ("dynamodb:Query", TABLE + "/index/by-date")),
    ("arn:aws:states:::aws-sdk:apigatewaymanagementapi:postToConnection", {"ConnectionId.$": "$.id"},
     ("execute-api:ManageConnections", None)),
    ("arn:aws:states:::aws-sdk:sfn:startExecution", {"StateMachineArn": OWN}, ("states:StartExecution", OWN)),
    ("arn:aws:states:::aws-sdk:eventbridge:putEvents", {"Entries": []}, ("events:PutEvents", None)),
    ("arn:aws:states:::apigateway:invoke", {"ApiEndpoint": f"rest123456.execute-api.{REGION}.amazonaws.com",
                                            "Method": "GET", "Stage": "prod", "Path": "/items"},
     ("execute-api:Invoke", f"arn:aws:execute-api:{REGION}:{ACCOUNT}:rest123456/prod/GET/items")),
    ("arn:aws:states:::aws-sdk:sesv2:sendEmail", {"FromEmailAddress": "Restores <restores@example.org>"},
     ("ses:SendEmail", f"arn:aws:ses:{REGION}:{ACCOUNT}:identity/restores@example.org")),
    ("arn:aws:states:::aws-sdk:sesv2:sendEmail", {"FromEmailAddress.$": "$.from"}, ("ses:SendEmail", None)),
    ("arn:aws:states:::apigateway:invoke", {"ApiEndpoint": f"rest123456.execute-api.{REGION}.amazonaws.com",
                                            "Method": "GET", "Stage.$": "$.stage", "Path": "/items"},
     ("execute-api:Invoke", None)),
    # API Gateway management: HTTP verbs on resource paths (Service Authorization Reference, API Gateway Management)
    ("arn:aws:states:::aws-sdk:apigateway:getApiKeys", {"NameQuery": "x"},
     ("apigateway:GET", f"arn:aws:apigateway:{REGION}::/apikeys")),
    ("arn:aws:states:::aws-sdk:apigateway:updateApiKey", {"ApiKey": "abc123", "PatchOperations": []},
     ("apigateway:PATCH", f"arn:aws:apigateway:{REGION}::/apikeys/abc123")),
    ("arn:aws:states:::aws-sdk:apigateway:deleteUsagePlanKey", {"UsagePlanId": "plan1", "KeyId.$": "$.key"},
     ("apigateway:DELETE", None)),
    ("arn:aws:states:::aws-sdk:cognitoidentityprovider:adminCreateUser",
     {"UserPoolId": "eu-west-1_Pool", "Username.$": "$.email"},
     ("cognito-idp:AdminCreateUser", f"arn:aws:cognito-idp:{REGION}:{ACCOUNT}:userpool/eu-west-1_Pool")),
    (FN, {}, ("lambda:InvokeFunction", FN)),
    ("arn:aws:states:::lambda:invoke.waitForTaskToken", {"FunctionName": "label:live"},
     ("lambda:InvokeFunction", FN + ":live")),
])
def test_task_mapping(resource_arn: str, params: dict[str, Any], expected: tuple[str, str | None]) -> None:
    ctx = Context("aws", REGION, ACCOUNT, {"orders": TABLE}, {}, {}, {}, OWN)
    needs = definition_needs(ctx, {"StartAt": "T", "States": {"T": {
        "Type": "Task", "Resource": resource_arn, "Parameters": params, "End": True}}})
    assert (needs[0].action, needs[0].resource) == expected


def test_ses_sender_identity_is_checked() -> None:
    statements = exact_statements()
    statements[3] = {"Sid": "Mail", "Effect": "Allow", "Action": "ses:SendEmail",
                     "Resource": f"arn:aws:ses:{REGION}:{ACCOUNT}:identity/other.example.net"}
    found = [m for _, m in stack_by_hand(RULE, _stack(statements))]
    assert any("lacks ses:SendEmail on" in m and "identity/noreply@example.com or" in m for m in found)
    assert any("ses:SendEmail on arn:aws:ses:eu-west-1:111111111111:identity/other.example.net" in m for m in found)


def test_jsonpath_resources_are_satisfied_by_a_scoped_statement_of_the_right_action() -> None:
    statements = exact_statements()
    assert any(s.get("Sid") == "Head" for s in statements)  # s3:GetObject on one bucket satisfies headObject '.$'
    without = [s for s in statements if s.get("Sid") != "Head"]
    missing = [m for _, m in stack_by_hand(RULE, _stack(without)) if "lacks" in m]
    assert missing and "s3:GetObject on <runtime value> (state 'Head')" in missing[0]


def test_unreadable_definition_is_a_clear_violation() -> None:
    [(name, message)] = stack_by_hand(RULE, _stack(exact_statements(), definition_text="{not json"))
    assert name == "orders-sm" and "definition cannot be read" in message


# ------------------------------------------------------------------ through the offline engine


def _program(extra: list[dict[str, Any]], drop: str | None) -> Callable[[], None]:
    def program() -> None:
        table = aws.dynamodb.Table("orders", name="orders", hash_key="pk", attributes=[{"name": "pk", "type": "S"}],
                                   billing_mode="PAY_PER_REQUEST")
        role = aws.iam.Role("sm-role", assume_role_policy=doc({"Effect": "Allow", "Principal": {
            "Service": "states.amazonaws.com"}, "Action": "sts:AssumeRole"}))
        statements: list[Any] = [{"Sid": "Save", "Effect": "Allow", "Action": "dynamodb:PutItem",
                                  "Resource": table.arn}, LOG_DELIVERY, XRAY, *extra]
        aws.iam.RolePolicy("sm-policy", role=role.id, policy=pulumi.Output.json_dumps(
            {"Version": "2012-10-17", "Statement": [s for s in statements if s.get("Sid") != drop]}))
        aws.sfn.StateMachine("orders-sm", role_arn=role.arn, definition=table.name.apply(lambda name: json.dumps(
            {"StartAt": "Save", "States": {"Save": {"Type": "Task", "Resource": "arn:aws:states:::dynamodb:putItem",
                                                    "Parameters": {"TableName": name, "Item.$": "$"}, "End": True}}})))
    return program


def test_offline_engine_finds_missing_and_excess() -> None:
    assert rule_hits(offline(_program([], None)), RULE) == []
    missing = [v for v in offline(_program([], "Save")) if v.policy_name == RULE]
    assert len(missing) == 1 and "lacks dynamodb:PutItem" in missing[0].message
    excess = [v for v in offline(_program([{"Sid": "More", "Effect": "Allow", "Action": "dynamodb:DeleteItem",
                                            "Resource": TABLE}], None)) if v.policy_name == RULE]
    assert len(excess) == 1 and "dynamodb:DeleteItem" in excess[0].message
    assert excess[0].resource_name == "orders-sm" and excess[0].enforcement_level == "mandatory"


def test_role_shared_by_two_state_machines_may_hold_what_either_needs() -> None:
    stack = _stack([{"Sid": "Save", "Effect": "Allow", "Action": "dynamodb:PutItem", "Resource": TABLE},
                    {"Sid": "Invoke", "Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": FN}])
    role = stack[0]
    one = {"StartAt": "Save", "States": {"Save": {"Type": "Task", "Resource": "arn:aws:states:::dynamodb:putItem",
                                                  "Parameters": {"TableName": "orders"}, "End": True}}}
    two = {"StartAt": "Label", "States": {"Label": {"Type": "Task", "Resource": FN, "End": True}}}
    stack[-1].props["definition"] = json.dumps(one)
    stack.append(resource("aws:sfn/stateMachine:StateMachine", "labels-sm", {
        "arn": OWN + "-labels", "roleArn": role.props["arn"], "definition": json.dumps(two)}, {"roleArn": [role]}))
    assert stack_by_hand(RULE, stack) == []
    stack[-1].props["definition"] = json.dumps(one)  # now nobody invokes the function
    found = stack_by_hand(RULE, stack)
    assert found and all("lambda:InvokeFunction" in m and "shared with 1 other" in m for _, m in found)


def test_state_machine_whose_role_is_not_in_the_stack_is_reported() -> None:
    machine = resource("aws:sfn/stateMachine:StateMachine", "orphan", {
        "arn": OWN, "roleArn": f"arn:aws:iam::{ACCOUNT}:role/elsewhere", "definition": json.dumps(definition())})
    [(name, message)] = stack_by_hand(RULE, [machine])
    assert name == "orphan" and "not in this stack" in message


# ------------------------------------------------------------------ sfn-logging and sfn-tracing

SFN = "aws:sfn/stateMachine:StateMachine"
DESTINATION = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/states/orders:*"


def _logging(**settings: Any) -> list[str]:
    from policy_test_helpers import by_hand

    config = settings.pop("config", None)
    return by_hand("sfn-logging", SFN, {"loggingConfiguration": settings} if settings else {}, name="sm",
                   config=config)


def test_logging_names_every_missing_part() -> None:
    [message] = _logging()
    assert message.startswith("State machine 'sm' logging: level is 'OFF' (accepted: ALL, ERROR); "
                              "includeExecutionData is off; there is no logDestination. Fix: ")


@pytest.mark.parametrize(("level", "levels", "accepted"), [
    ("ALL", None, True), ("ERROR", None, True), ("FATAL", None, False), ("ERROR", ["ALL"], False)])
def test_logging_levels_are_the_accepted_ones(level: str, levels: list[str] | None, accepted: bool) -> None:
    found = _logging(level=level, includeExecutionData=True, logDestination=DESTINATION,
                     config={"levels": levels} if levels else None)
    assert (found == []) is accepted
    if not accepted:
        assert f"level is {level!r} (accepted: {', '.join(levels or ['ALL', 'ERROR'])})" in found[0]


def test_values_known_only_at_deploy() -> None:
    """A log destination not created yet counts as set; a compared value not known yet is an advisory."""
    from policy_test_helpers import analyze_request, diagnostics, servicer
    from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

    props: dict[str, Any] = {"loggingConfiguration": {"level": "ALL", "includeExecutionData": True,
                                                      "logDestination": UNKNOWN_STRING_VALUE},
                             "tracingConfiguration": {"enabled": True}}
    assert diagnostics(servicer().Analyze(analyze_request(SFN, "sm", props), None)) == []
    props["loggingConfiguration"]["includeExecutionData"] = UNKNOWN_STRING_VALUE
    [(rule, level, message)] = diagnostics(servicer().Analyze(analyze_request(SFN, "sm", props), None))
    assert (rule, level) == ("sfn-logging", "advisory") and ".loggingConfiguration.includeExecutionData" in message


def test_tracing_names_the_machine() -> None:
    from policy_test_helpers import by_hand

    [message] = by_hand("sfn-tracing", SFN, {"tracingConfiguration": {"enabled": False}}, name="sm")
    assert message.startswith("State machine 'sm' has no X-Ray tracing. Fix: ")


# ------------------------------------------------------------------ every need in full (action, ARN, state, others)

SES = f"arn:aws:ses:{REGION}:{ACCOUNT}"
API = f"arn:aws:execute-api:{REGION}:{ACCOUNT}:rest123456"
ENDPOINT = f"rest123456.execute-api.{REGION}.amazonaws.com"
OTHER_QUEUE = f"arn:aws:sqs:{REGION}:{ACCOUNT}:renamed"


@pytest.mark.parametrize(("resource_arn", "params", "expected"), [
    ("arn:aws:states:::aws-sdk:sesv2:sendEmail",
     {"FromEmailAddressIdentityArn": f"{SES}:identity/example.org", "FromEmailAddress": "a@example.org",
      "ConfigurationSetName": "restores"},
     [("ses:SendEmail", f"{SES}:identity/example.org", ()),
      ("ses:SendEmail", f"{SES}:configuration-set/restores", ())]),
    ("arn:aws:states:::aws-sdk:sesv2:sendEmail", {"FromEmailAddress": "Restores <restores@mail.example.org>"},
     [("ses:SendEmail", f"{SES}:identity/restores@mail.example.org", (f"{SES}:identity/mail.example.org",))]),
    ("arn:aws:states:::aws-sdk:sesv2:sendEmail", {"FromEmailAddress": "no-address"}, [("ses:SendEmail", None, ())]),
    # RFC 5322 3.4: a quoted display name may hold "<"; the address is the last angle-bracketed part.
    ("arn:aws:states:::aws-sdk:sesv2:sendEmail", {"FromEmailAddress": '"Ops <night>" <ops@example.org>'},
     [("ses:SendEmail", f"{SES}:identity/ops@example.org", (f"{SES}:identity/example.org",))]),
    # RFC 5321 4.1.2: a quoted local part may hold "@"; the domain follows the last "@".
    ("arn:aws:states:::aws-sdk:sesv2:sendEmail", {"FromEmailAddress": '"ops@night"@example.org'},
     [("ses:SendEmail", f'{SES}:identity/"ops@night"@example.org', (f"{SES}:identity/example.org",))]),
    ("arn:aws:states:::aws-sdk:sesv2:sendEmail", {"FromEmailAddress": "Box Office <tickets@EXAMPLE.BOX>"},
     [("ses:SendEmail", f"{SES}:identity/tickets@EXAMPLE.BOX", (f"{SES}:identity/EXAMPLE.BOX",))]),
    # API Gateway management calls: an HTTP verb on the resource path, no account in the ARN (IAM Service
    # Authorization Reference, Amazon API Gateway Management: resource types are paths like /apikeys/{ApiKeyId}).
    ("arn:aws:states:::aws-sdk:apigateway:updateApiKey", {"ApiKey": "abc123", "PatchOperations": []},
     [("apigateway:PATCH", f"arn:aws:apigateway:{REGION}::/apikeys/abc123", ())]),
    # Not a Step Functions integration nor a Lambda function: an unknown integration of this state, never granted.
    ("arn:aws:glue:eu-west-1:111111111111:job/nightly", {},
     [("unknown-integration:arn:aws:glue:eu-west-1:111111111111:job/nightly", None, ())]),
    # ListUserPools has no resource type (Service Authorization Reference, Amazon Cognito User Pools): no pool ARN.
    ("arn:aws:states:::aws-sdk:cognitoidentityprovider:listUserPools", {"MaxResults": 10},
     [("cognito-idp:ListUserPools", None, ())]),
    ("arn:aws:states:::aws-sdk:lambda:invoke", {"FunctionName": "label"}, [("lambda:InvokeFunction", FN, ())]),
    ("arn:aws:states:::aws-sdk:lambda:invoke", {"FunctionName": "label:3"},
     [("lambda:InvokeFunction", FN + ":3", ())]),
    ("arn:aws:states:::lambda:invoke", {"FunctionName": "resized"},
     [("lambda:InvokeFunction", f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:resizer", ())]),
    ("arn:aws:states:::aws-sdk:lambda:invoke", {"FunctionName.$": "$.fn"}, [("lambda:InvokeFunction", None, ())]),
    ("arn:aws:states:::lambda:invoke", {"FunctionName": "resized:live"},
     [("lambda:InvokeFunction", f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:resizer:live", ())]),
    ("arn:aws:states:::aws-sdk:dynamodb:query", {"TableName.$": "$.table", "IndexName": "by-date"},
     [("dynamodb:Query", None, ())]),
    ("arn:aws:states:::aws-sdk:sqs:sendMessage", {"QueueUrl": QUEUE_URL}, [("sqs:SendMessage", QUEUE, ())]),
    ("arn:aws:states:::sqs:sendMessage", {"QueueUrl": "https://example.com/queue"}, [("sqs:SendMessage", None, ())]),
    ("arn:aws:states:::sqs:sendMessage", {"QueueUrl": "https://queue.local/renamed"},
     [("sqs:SendMessage", OTHER_QUEUE, ())]),
    ("arn:aws:states:::aws-sdk:sns:publish", {"TopicArn": TOPIC}, [("sns:Publish", TOPIC, ())]),
    ("arn:aws:states:::events:putEvents", {"Entries": [{"EventBusName": BUS}, {"Source": "x"}]},
     [("events:PutEvents", f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/default", ()), ("events:PutEvents", BUS, ())]),
    ("arn:aws:states:::events:putEvents", {"Entries": [{"EventBusName": "audit"}]},
     [("events:PutEvents", f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/audit-renamed", ())]),
    ("arn:aws:states:::apigateway:invoke", {"ApiEndpoint": "https://" + ENDPOINT, "Method": "get", "Stage": "prod",
                                            "Path": "/Xrays/1"},
     [("execute-api:Invoke", f"{API}/prod/GET/Xrays/1", ())]),
    ("arn:aws:states:::apigateway:invoke", {"ApiEndpoint": ENDPOINT, "Method": "POST", "Stage": "prod",
                                            "Path.$": "States.Format('/@connections/{}', $.id)"},
     [("execute-api:ManageConnections", f"{API}/prod/POST/@connections/connection", ())]),
    ("arn:aws:states:::apigateway:invoke", {"ApiEndpoint": ENDPOINT, "Method": "GET", "Stage": "prod",
                                            "Path.$": "$.path"}, [("execute-api:Invoke", None, ())]),
    ("arn:aws:states:::apigateway:invoke", {"ApiEndpoint": ENDPOINT, "Stage": "prod", "Path": "/items"},
     [("execute-api:Invoke", None, ())]),
    ("arn:aws:states:::aws-sdk:s3:getObject", {"Bucket": "archive"},
     [("s3:GetObject", None, ()), ("s3:ListBucket", "arn:aws:s3:::archive", ())]),
])
def test_each_task_needs_exactly_these_permissions(resource_arn: str, params: dict[str, Any],
                                                   expected: list[tuple[str, str | None, tuple[str, ...]]]) -> None:
    """Written from the IAM Service Authorization Reference's resource types for each action (SES identities and
    configuration sets, Lambda functions with qualifiers, SQS queues, EventBridge buses, execute-api paths)."""
    ctx = Context("aws", REGION, ACCOUNT, {"orders": TABLE},
                  {"resized": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:resizer"},
                  {"https://queue.local/renamed": OTHER_QUEUE},
                  {"audit": f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/audit-renamed"}, OWN)
    needs = definition_needs(ctx, {"StartAt": "T", "States": {"T": {
        "Type": "Task", "Resource": resource_arn, "Parameters": params, "End": True}}})
    assert [(n.action, n.resource, n.alternatives) for n in needs] == expected
    assert {n.state for n in needs} == {"T"}


def test_a_logging_setting_of_the_wrong_type_is_reported_under_its_rule() -> None:
    from serverless_patterns.policies.core import STATE

    assert _logging(level="ERROR", includeExecutionData=True, logDestination=DESTINATION,
                    config={"levels": "ALL"}) == []  # the default levels apply
    assert STATE.config_problems == {"sfn-logging.levels": "policy config for 'sfn-logging': levels = 'ALL' is not a "
                                                           "valid list of strings; using ['ALL', 'ERROR']"}


# ------------------------------------------------------------------ where the role's permissions come from

MANAGED_ARN = f"arn:aws:iam::{ACCOUNT}:policy/orders-sm"


def _without_role_policy(statements: list[dict[str, Any]]) -> list[Any]:
    return [r for r in _stack(statements) if r.name != "sm-policy"]


def _extra(sid: str = "Extra") -> dict[str, Any]:
    return {"Sid": sid, "Effect": "Allow", "Action": "dynamodb:DeleteItem", "Resource": TABLE}


def _excess(stack: list[Any]) -> str:
    [message] = [m for _, m in stack_by_hand(RULE, stack) if "holds permissions no task" in m]
    return message


def test_the_roles_inline_policies_are_its_permissions() -> None:
    stack = _without_role_policy([])
    stack[0].props["inlinePolicies"] = [{"name": "remove-all"}, {"name": "tasks", "policy": doc(*exact_statements())}]
    assert stack_by_hand(RULE, stack) == []
    stack[0].props["inlinePolicies"][1]["policy"] = doc(*exact_statements(), _extra())
    assert "dynamodb:DeleteItem on " + TABLE + " (inline policy #2 statement 'Extra')" in _excess(stack)


@pytest.mark.parametrize("attach", ["attachment", "attachment-by-value", "managed-policy-arns"])
def test_a_customer_managed_policy_in_the_stack_is_read(attach: str) -> None:
    stack = _without_role_policy([])
    role = stack[0]
    managed = resource("aws:iam/policy:Policy", "orders-sm", {"arn": MANAGED_ARN,
                                                              "policy": doc(*exact_statements(), _extra())})
    stack.append(managed)
    if attach == "managed-policy-arns":
        role.props["managedPolicyArns"] = [MANAGED_ARN]
    else:
        stack.append(resource("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "attach",
                              {"role": "sm-role-1", "policyArn": MANAGED_ARN},
                              {} if attach == "attachment-by-value" else {"role": [role]}))
    assert "dynamodb:DeleteItem on " + TABLE + " (Policy 'orders-sm' statement 'Extra')" in _excess(stack)
    managed.props["policy"] = doc(*exact_statements())
    assert stack_by_hand(RULE, stack) == []


def test_a_policy_attached_from_outside_the_stack_cannot_be_checked() -> None:
    stack = _stack(exact_statements())
    stack[0].props["managedPolicyArns"] = ["arn:aws:iam::aws:policy/AWSStepFunctionsReadOnlyAccess"]
    other_role = resource("aws:iam/role:Role", "other-role", {"id": "other", "name": "other"})
    stack += [other_role, resource("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "other-attach",
                                   {"role": "other", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"},
                                   {"role": [other_role]})]
    message = _excess(stack)
    assert ("managed policy arn:aws:iam::aws:policy/AWSStepFunctionsReadOnlyAccess is attached: its permissions "
            "cannot be checked against the definition") in message
    assert "AdministratorAccess" not in message  # attached to another role


def test_an_unreadable_policy_is_named_and_grants_nothing() -> None:
    stack = _stack(exact_statements())
    stack[1].props["policy"] = '{"Statement": ['
    found = [m for _, m in stack_by_hand(RULE, stack)]
    assert any("lacks lambda:InvokeFunction" in m for m in found)
    assert any("RolePolicy 'sm-policy' cannot be read: the policy is not valid JSON" in m for m in found)
    # Inline policies are read first: an unreadable one there must not hide the readable RolePolicy after it.
    stack[0].props["inlinePolicies"] = [{"name": "tasks", "policy": '{"Statement": ['}]
    stack[1].props["policy"] = doc(*exact_statements())
    found = [m for _, m in stack_by_hand(RULE, stack)]
    assert not any("lacks" in m for m in found)
    assert any("inline policy #1 cannot be read: the policy is not valid JSON" in m for m in found)


@pytest.mark.parametrize("known", ["id", "name"])
def test_an_attachment_finds_its_role_by_value_through_its_id_or_name(known: str) -> None:
    stack = _without_role_policy([])
    del stack[0].props["name" if known == "id" else "id"]
    stack += [resource("aws:iam/policy:Policy", "orders-sm", {"arn": MANAGED_ARN, "policy": doc(*exact_statements())}),
              resource("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "attach",
                       {"role": "sm-role-1", "policyArn": MANAGED_ARN})]
    assert stack_by_hand(RULE, stack) == []


def test_deny_and_notaction_statements_grant_nothing() -> None:
    deny = {**_extra("NoDelete"), "Effect": "Deny"}
    assert stack_by_hand(RULE, _stack([deny, *exact_statements()])) == []  # statements after a Deny still grant
    statements = [s for s in exact_statements() if s.get("Sid") != "Save"]
    not_action = {"Sid": "AllButDelete", "Effect": "Allow", "NotAction": "dynamodb:DeleteItem", "Resource": TABLE}
    missing = [m for _, m in stack_by_hand(RULE, _stack([*statements, not_action])) if "lacks" in m]
    assert missing and "dynamodb:PutItem on " + TABLE in missing[0]


@pytest.mark.parametrize("known", ["id", "name"])
def test_a_role_policy_finds_its_role_by_value_through_its_id_or_name(known: str) -> None:
    stack = _stack(exact_statements())
    role, policy = stack[0], stack[1]
    del role.props["name" if known == "id" else "id"]
    stack[1] = resource("aws:iam/rolePolicy:RolePolicy", "sm-policy", {"role": "sm-role-1",
                                                                       "policy": policy.props["policy"]})
    assert stack_by_hand(RULE, stack) == []


# ------------------------------------------------------------------ names resolved through the stack's resources

ELSEWHERE = "us-east-1"


def _one_task(resource_arn: str, params: dict[str, Any]) -> str:
    return json.dumps({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": resource_arn,
                                                         "Parameters": params, "End": True}}})


def _machine_with(definition_text: str, statements: list[dict[str, Any]], *others: Any,
                  own: str | None = OWN) -> list[Any]:
    role = resource("aws:iam/role:Role", "sm-role", {"id": "sm-role-1", "name": "sm-role-1",
                                                     "arn": f"arn:aws:iam::{ACCOUNT}:role/sm-role-1"})
    policy = resource("aws:iam/rolePolicy:RolePolicy", "sm-policy",
                      {"role": "sm-role-1", "policy": doc(LOG_DELIVERY, XRAY, *statements)}, {"role": [role]})
    machine = resource("aws:sfn/stateMachine:StateMachine", "orders-sm", {
        **({"arn": own} if own else {}), "roleArn": role.props["arn"], "definition": definition_text},
        {"roleArn": [role]})
    return [role, policy, *others, machine]


@pytest.mark.parametrize(("typ", "key", "name", "arn", "task", "params", "action"), [
    ("aws:dynamodb/table:Table", "name", "orders", f"arn:aws:dynamodb:{ELSEWHERE}:{ACCOUNT}:table/orders",
     "arn:aws:states:::dynamodb:putItem", {"TableName": "orders"}, "dynamodb:PutItem"),
    ("aws:lambda/function:Function", "name", "label", f"arn:aws:lambda:{ELSEWHERE}:{ACCOUNT}:function:label",
     "arn:aws:states:::lambda:invoke", {"FunctionName": "label"}, "lambda:InvokeFunction"),
    ("aws:sqs/queue:Queue", "url", QUEUE_URL, f"arn:aws:sqs:{ELSEWHERE}:{ACCOUNT}:notify",
     "arn:aws:states:::sqs:sendMessage", {"QueueUrl": QUEUE_URL}, "sqs:SendMessage"),
    ("aws:cloudwatch/eventBus:EventBus", "name", "orders", f"arn:aws:events:{ELSEWHERE}:{ACCOUNT}:event-bus/orders",
     "arn:aws:states:::events:putEvents", {"Entries": [{"EventBusName": "orders"}]}, "events:PutEvents"),
], ids=["table", "function", "queue", "bus"])
def test_a_name_in_the_definition_resolves_to_the_stack_resources_arn(typ: str, key: str, name: str, arn: str,
                                                                      task: str, params: dict[str, Any],
                                                                      action: str) -> None:
    target = resource(typ, "target", {key: name, "arn": arn})
    grant = {"Sid": "Task", "Effect": "Allow", "Action": action, "Resource": arn}
    assert stack_by_hand(RULE, _machine_with(_one_task(task, params), [grant], target)) == []
    unknown_arn = resource(typ, "target", {key: name})  # ARN not known yet: the name is resolved in place
    missing = [m for _, m in stack_by_hand(RULE, _machine_with(_one_task(task, params), [grant], unknown_arn))
               if "lacks" in m]
    assert missing and f"{action} on arn:aws:" in missing[0] and f":{REGION}:{ACCOUNT}:" in missing[0]


def test_without_the_machines_arn_names_resolve_in_any_region_and_account() -> None:
    definition = _one_task("arn:aws:states:::dynamodb:putItem", {"TableName": "audit"})
    [(_, message)] = stack_by_hand(RULE, _machine_with(definition, [], own=None))
    assert "lacks dynamodb:PutItem on arn:aws:dynamodb:*:*:table/audit (state 'T')" in message


@pytest.mark.parametrize(("params", "resource_arn"), [
    ({"TableName": "{% $states.input.table %}"}, None),
    ({"TableName": f"arn:aws:dynamodb:{ELSEWHERE}:{ACCOUNT}:table/audit"},
     f"arn:aws:dynamodb:{ELSEWHERE}:{ACCOUNT}:table/audit"),
    ({"TableName": "audit"}, f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/audit"),
], ids=["jsonata", "arn", "name-not-in-stack"])
def test_table_names_and_arns_and_jsonata(params: dict[str, Any], resource_arn: str | None) -> None:
    ctx = Context("aws", REGION, ACCOUNT, {}, {}, {}, {}, OWN)
    [need] = definition_needs(ctx, json.loads(_one_task("arn:aws:states:::dynamodb:getItem", params)))
    assert (need.action, need.resource) == ("dynamodb:GetItem", resource_arn)


def test_activities_need_nothing_and_unknown_integrations_are_named() -> None:
    ctx = Context("aws", REGION, ACCOUNT, {}, {}, {}, {}, OWN)
    activity = f"arn:aws:states:{REGION}:{ACCOUNT}:activity:review"
    assert definition_needs(ctx, json.loads(_one_task(activity, {}))) == []
    definition = {"StartAt": "A", "States": {
        "A": {"Type": "Task", "Resource": "arn:aws:states:::glue:startJobRun.sync2", "Next": "B"},
        "B": {"Type": "Task", "Resource": "arn:aws:states:::batch:submitJob.syncx", "End": True}}}
    [(_, message)] = stack_by_hand(RULE, _machine_with(json.dumps(definition), []))
    assert message == ("State machine 'orders-sm' uses task resource(s) this pack cannot map to IAM actions: "
                       "arn:aws:states:::batch:submitJob.syncx, arn:aws:states:::glue:startJobRun.sync2. Fix: use an "
                       "optimised or aws-sdk integration ARN.")


@pytest.mark.parametrize(("definition", "readable"), [
    ({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}, True), ("[]", False)],
    ids=["object", "json-list"])
def test_a_definition_is_read_as_text_or_as_an_object(definition: Any, readable: bool) -> None:
    stack = _machine_with("{}", [])
    stack[-1].props["definition"] = definition
    found = [m for _, m in stack_by_hand(RULE, stack)]
    if readable:
        assert found == []
    else:
        assert found == ["State machine 'orders-sm': the definition cannot be read (the definition is not a JSON "
                         "object), so its role cannot be checked. Fix: build the definition as data and serialise "
                         "it with json.dumps."]


def test_a_grant_on_the_tables_sub_resources_is_excess() -> None:
    """`table/orders/*` (indexes, streams) is not the table: PutItem there is more than the task needs."""
    message = _excess(_stack([*exact_statements(), {"Sid": "Sub", "Effect": "Allow", "Action": "dynamodb:PutItem",
                                                    "Resource": TABLE + "/*"}]))
    assert f"dynamodb:PutItem on {TABLE}/* (RolePolicy 'sm-policy' statement 'Sub')" in message


def test_every_state_kind_contributes_its_needs() -> None:
    """Map (inline with the legacy Iterator, distributed with an ItemReader and a ResultWriter), JSONata Arguments,
    Credentials (the task assumes a role), and putEvents shapes, from the Step Functions developer guide's state
    and integration pages."""
    execution = OWN.replace(":stateMachine:", ":execution:") + "/*"
    other_role = f"arn:aws:iam::{ACCOUNT}:role/cross-account"
    definition = {"StartAt": "Legacy", "States": {
        "Legacy": {"Type": "Map", "Next": "Big", "Iterator": {"StartAt": "L", "States": {"L": {
            "Type": "Task", "Resource": "arn:aws:states:::sns:publish", "Parameters": {"TopicArn": TOPIC},
            "End": True}}}},
        "Big": {"Type": "Map", "Next": "Jsonata", "ItemProcessor": {
            "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}, "StartAt": "P", "States": {
                "P": {"Type": "Pass", "Resource": "arn:aws:states:::sns:publish", "End": True}}},
            "ItemReader": {"Resource": "arn:aws:states:::s3:listObjectsV2", "Parameters": {"Bucket": "archive"}},
            "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject",
                             "Arguments": {"Bucket": "results", "Key": "run/out.json"}}},
        "Jsonata": {"Type": "Task", "Resource": "arn:aws:states:::dynamodb:getItem", "Next": "Assume",
                    "Arguments": {"TableName": "orders"}},
        "Assume": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage", "Next": "Events",
                   "Credentials": {"RoleArn": other_role}, "Parameters": {"QueueUrl": QUEUE_URL}},
        "Events": {"Type": "Task", "Resource": "arn:aws:states:::events:putEvents", "Next": "Dynamic",
                   "Parameters": {"Entries.$": "$.entries"}},
        "Dynamic": {"Type": "Task", "Resource": "arn:aws:states:::events:putEvents", "End": True,
                    "Parameters": {"Entries": [{"EventBusName.$": "$.bus"}]}},
    }}
    ctx = Context("aws", REGION, ACCOUNT, {"orders": TABLE}, {}, {}, {}, OWN)
    assert [(n.action, n.resource, n.state) for n in definition_needs(ctx, definition)] == [
        ("sns:Publish", TOPIC, "L"),
        ("states:StartExecution", OWN, "Big"), ("states:DescribeExecution", execution, "Big"),
        ("states:StopExecution", execution, "Big"),
        ("s3:ListBucket", "arn:aws:s3:::archive", "Big.ItemReader"),
        ("s3:PutObject", "arn:aws:s3:::results/run/out.json", "Big.ResultWriter"),
        ("dynamodb:GetItem", TABLE, "Jsonata"),
        ("sqs:SendMessage", QUEUE, "Assume"), ("sts:AssumeRole", other_role, "Assume"),
        ("events:PutEvents", None, "Events"), ("events:PutEvents", None, "Dynamic")]
    with pytest.raises(Exception, match=r"^the definition has no 'States' object$"):
        definition_needs(ctx, {"StartAt": "X"})


def test_messages_list_every_missing_and_excess_permission_and_who_shares_the_role() -> None:
    statements = [s for s in exact_statements() if s.get("Sid") not in ("Save", "Notify")]
    [missing] = [m for _, m in stack_by_hand(RULE, _stack(statements)) if "lacks" in m]
    assert (f"role 'sm-role' lacks dynamodb:PutItem on {TABLE} (state 'Save'); sqs:SendMessage on {QUEUE} "
            f"(state 'Notify'). The execution fails") in missing
    excess = _excess(_stack([*exact_statements(), _extra(), {**_extra("Purge"), "Action": "sqs:PurgeQueue",
                                                              "Resource": QUEUE}]))
    assert excess.startswith("State machine 'orders-sm': role 'sm-role' holds permissions no task in the definition "
                             f"needs: dynamodb:DeleteItem on {TABLE} (RolePolicy 'sm-policy' statement 'Extra'); "
                             f"sqs:PurgeQueue on {QUEUE} (RolePolicy 'sm-policy' statement 'Purge'). Fix: ")


def test_a_machine_finds_its_role_by_arn_and_names_a_role_it_cannot_find() -> None:
    stack = _stack(exact_statements())
    machine = stack[-1]
    stack[-1] = resource("aws:sfn/stateMachine:StateMachine", "orders-sm", dict(machine.props))  # no dependency
    assert stack_by_hand(RULE, stack) == []
    elsewhere = f"arn:aws:iam::{ACCOUNT}:role/elsewhere"
    stack[-1].props["roleArn"] = elsewhere
    [(_, message)] = stack_by_hand(RULE, stack)
    assert message.startswith(f"State machine 'orders-sm': its role ({elsewhere}) is not in this stack, so its "
                              f"permissions cannot be checked against the ")


RULE_ARN = f"arn:aws:events:{REGION}:{ACCOUNT}:rule/StepFunctionsGetEventsForStepFunctionsExecutionRule"
CHILD = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:child"
CHILD_RUNS = f"arn:aws:states:{REGION}:{ACCOUNT}:execution:child:*"


@pytest.mark.parametrize(("resource_arn", "params", "expected"), [
    ("arn:aws:states:::states:startExecution.sync:2", {"StateMachineArn": CHILD, "Input.$": "$"},
     [("states:StartExecution", CHILD), ("states:DescribeExecution", CHILD_RUNS), ("states:StopExecution", CHILD_RUNS),
      ("events:PutTargets", RULE_ARN), ("events:PutRule", RULE_ARN), ("events:DescribeRule", RULE_ARN)]),
    ("arn:aws:states:::states:startExecution.sync", {"StateMachineArn.$": "$.child"},
     [("states:StartExecution", None), ("states:DescribeExecution", None), ("states:StopExecution", None),
      ("events:PutTargets", RULE_ARN), ("events:PutRule", RULE_ARN), ("events:DescribeRule", RULE_ARN)]),
    ("arn:aws:states:::states:startExecution", {"StateMachineArn": CHILD}, [("states:StartExecution", CHILD)]),
    ("arn:aws:states:::states:startExecution.waitForTaskToken", {"StateMachineArn": CHILD},
     [("states:StartExecution", CHILD)]),
    (FN, {}, [("lambda:InvokeFunction", FN)]),
    ("arn:aws:states:::states:startSyncExecution", {"StateMachineArn": CHILD}, [("states:StartSyncExecution", CHILD)]),
    ("arn:aws:states:::events:putEvents", {"Entries": [{"EventBusName.$": "$.bus"}, {"EventBusName": "audit"}]},
     [("events:PutEvents", None), ("events:PutEvents", f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/audit")]),
])
def test_optimised_integrations_need_exactly_these_permissions(resource_arn: str, params: dict[str, Any],
                                                               expected: list[tuple[str, str | None]]) -> None:
    """From the Step Functions developer guide's IAM policies for the optimised integrations (Step Functions
    StartExecution .sync needs DescribeExecution/StopExecution and the managed EventBridge rule)."""
    ctx = Context("aws", REGION, ACCOUNT, {}, {}, {}, {}, OWN)
    needs = definition_needs(ctx, {"StartAt": "T", "States": {"T": {
        "Type": "Task", "Resource": resource_arn, "Parameters": params, "End": True}}})
    assert [(n.action, n.resource) for n in needs] == expected
    assert {n.state for n in needs} == {"T"}


def _one_machine(definition_text: str, statements: list[dict[str, Any]], *extra: Any) -> list[Any]:
    """Role, its inline policy, the given resources and one state machine (ARN `OWN`) running `definition_text`."""
    role = resource("aws:iam/role:Role", "sm-role", {"id": "sm-role-1", "name": "sm-role-1",
                                                     "arn": f"arn:aws:iam::{ACCOUNT}:role/sm-role-1"})
    policy = resource("aws:iam/rolePolicy:RolePolicy", "sm-policy", {"role": "sm-role-1", "policy": doc(*statements)},
                      {"role": [role]})
    machine = resource("aws:sfn/stateMachine:StateMachine", "orders-sm", {
        "arn": OWN, "roleArn": role.props["arn"], "definition": definition_text}, {"roleArn": [role]})
    return [role, policy, *extra, machine]


def test_a_distributed_map_needs_to_start_its_own_state_machine_from_the_stack() -> None:
    """A Distributed Map runs child executions of its own state machine: states:StartExecution on the state
    machine, DescribeExecution/StopExecution on its executions (Step Functions Developer Guide, "IAM policies
    for using Distributed Map states": https://docs.aws.amazon.com/step-functions/latest/dg/iam-policies-eg-dist-map.html)."""
    definition_text = json.dumps({"StartAt": "Big", "States": {"Big": {
        "Type": "Map", "End": True, "ItemProcessor": {
            "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}, "StartAt": "P",
            "States": {"P": {"Type": "Pass", "End": True}}}}}})
    runs = OWN.replace(":stateMachine:", ":execution:") + "/*"
    exact = [{"Sid": "Self", "Effect": "Allow", "Action": "states:StartExecution", "Resource": OWN},
             {"Sid": "Runs", "Effect": "Allow", "Action": ["states:DescribeExecution", "states:StopExecution"],
              "Resource": runs}, LOG_DELIVERY, XRAY]
    assert stack_by_hand(RULE, _one_machine(definition_text, exact)) == []
    [(name, message)] = stack_by_hand(RULE, _one_machine(definition_text, exact[1:]))
    assert name == "orders-sm" and f"lacks states:StartExecution on {OWN} (state 'Big')" in message


def test_a_queue_whose_url_is_not_known_yet_leaves_the_other_queues_resolvable() -> None:
    """An unknown output only hides that one resource's name; later resources of the same type still resolve."""
    from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

    definition_text = json.dumps({"StartAt": "T", "States": {"T": {
        "Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage", "End": True,
        "Parameters": {"QueueUrl": "https://queue.local/renamed", "MessageBody": "x"}}}})
    pending = resource("aws:sqs/queue:Queue", "pending", {"url": UNKNOWN_STRING_VALUE, "arn": QUEUE})
    renamed = resource("aws:sqs/queue:Queue", "renamed", {"url": "https://queue.local/renamed", "arn": OTHER_QUEUE})
    wrong = [{"Sid": "Send", "Effect": "Allow", "Action": "sqs:SendMessage", "Resource": QUEUE}, LOG_DELIVERY, XRAY]
    found = stack_by_hand(RULE, _one_machine(definition_text, wrong, pending, renamed))
    assert any(f"lacks sqs:SendMessage on {OTHER_QUEUE} (state 'T')" in m for _, m in found), found


def test_an_integration_without_a_resource_mapping_needs_its_action_on_any_resource() -> None:
    """Optimised integrations the rule has no ARN mapping for (here AWS Batch SubmitJob) still need their IAM action
    (service prefix + PascalCase action); the resource is left open, so any grant of that action satisfies it."""
    ctx = Context("aws", REGION, ACCOUNT, {}, {}, {}, {}, OWN)
    needs = definition_needs(ctx, {"StartAt": "T", "States": {"T": {
        "Type": "Task", "Resource": "arn:aws:states:::batch:submitJob.sync", "End": True,
        "Parameters": {"JobName": "n", "JobQueue": "q", "JobDefinition": "d"}}}})
    assert [(n.action, n.resource, n.state) for n in needs] == [("batch:SubmitJob", None, "T")]


def test_tasks_inside_maps_resolve_names_and_odd_states_or_arguments_do_not_stop_the_scan() -> None:
    """A Map's tasks resolve table names through the stack like top-level ones; a state that is not an object is
    skipped without hiding the states after it; JSONata `Arguments` may be one expression string (Step Functions
    developer guide, "Transforming data with JSONata"), whose values are then known only at run time."""
    renamed = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/orders-1a2b"
    ctx = Context("aws", REGION, ACCOUNT, {"orders": renamed}, {}, {}, {}, OWN)
    needs = definition_needs(ctx, {"StartAt": "Odd", "States": {
        "Odd": "not a state",
        "Each": {"Type": "Map", "Next": "Whole", "ItemProcessor": {"StartAt": "Get", "States": {"Get": {
            "Type": "Task", "Resource": "arn:aws:states:::dynamodb:getItem", "End": True,
            "Parameters": {"TableName": "orders", "Key": {}}}}}},
        "Whole": {"Type": "Task", "Resource": "arn:aws:states:::dynamodb:putItem", "End": True,
                  "QueryLanguage": "JSONata", "Arguments": "{% $states.input.request %}"}}})
    assert [(n.action, n.resource, n.state) for n in needs] == [
        ("dynamodb:GetItem", renamed, "Get"), ("dynamodb:PutItem", None, "Whole")]
    reader = definition_needs(ctx, {"StartAt": "Big", "States": {"Big": {
        "Type": "Map", "End": True, "QueryLanguage": "JSONata",
        "ItemReader": {"Resource": "arn:aws:states:::s3:getObject", "Arguments": "{% $states.input.reader %}"},
        "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}}}})
    assert [(n.action, n.resource, n.state) for n in reader] == [
        ("s3:GetObject", None, "Big.ItemReader"), ("s3:ListBucket", None, "Big.ItemReader")]
