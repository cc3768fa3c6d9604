"""ProgressTracker under the offline engine: routes, integrations, stage, IAM scope, workflow ASL."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from serverless_patterns.core.args import ComponentArgsError
from serverless_patterns.core.config import ConfigError, StackConfig
from serverless_patterns.offline import CapturedStack, run_callable
from serverless_patterns.progress_tracker import ProgressTracker, ProgressTrackerArgs, from_config
from serverless_patterns.progress_tracker.reporting import GONE_ERRORS

ACCOUNT = "111111111111"
REGION = "eu-west-1"
CONFIG = {"aws:region": REGION}


def build(args: ProgressTrackerArgs | None = None) -> CapturedStack:
    return run_callable(lambda: ProgressTracker("progress", {"stage_name": "beta", **(args or {})}),
                        config=CONFIG, account=ACCOUNT)


@pytest.fixture(scope="module")
def stack() -> CapturedStack:
    return build()


def api_id(stack: CapturedStack) -> str:
    return stack.one("aws:apigatewayv2/api:Api").id


def policy_of(stack: CapturedStack, function_suffix: str) -> dict[str, Any]:
    policy = stack.one("aws:iam/rolePolicy:RolePolicy", f"progress-{function_suffix}-policy")
    return json.loads(policy.inputs["policy"])


def own_statements(policy: dict[str, Any]) -> list[dict[str, Any]]:
    """Statements beyond the logging/tracing every PythonFunction gets."""
    return [s for s in policy["Statement"] if s.get("Sid") not in ("WriteOwnLogs", "XRayTracing")]


def definition(stack: CapturedStack) -> dict[str, Any]:
    return json.loads(stack.one("aws:sfn/stateMachine:StateMachine").inputs["definition"])


def tasks(states: dict[str, Any]) -> list[dict[str, Any]]:
    """Every Task state, including those nested in Parallel branches and Map processors."""
    found = []
    for state in states.values():
        if state["Type"] == "Task":
            found.append(state)
        for branch in state.get("Branches", []):
            found.extend(tasks(branch["States"]))
        if "ItemProcessor" in state:
            found.extend(tasks(state["ItemProcessor"]["States"]))
    return found


def test_websocket_api_routes_and_integrations(stack: CapturedStack) -> None:
    api = stack.one("aws:apigatewayv2/api:Api")
    assert api.inputs["protocolType"] == "WEBSOCKET"
    assert api.inputs["routeSelectionExpression"] == "$request.body.action"
    routes = {r.inputs["routeKey"]: r for r in stack.of_type("aws:apigatewayv2/route:Route")}
    assert set(routes) == {"$connect", "$disconnect", "$default", "start", "resume"}
    integrations = {f"integrations/{i.id}": i for i in stack.of_type("aws:apigatewayv2/integration:Integration")}
    functions = {f.name: f for f in stack.of_type("aws:lambda/function:Function")}
    for key, handler in [("$connect", "on_connect.handler"), ("$disconnect", "on_disconnect.handler"),
                         ("$default", "on_default.handler"), ("start", "on_start.handler"),
                         ("resume", "on_resume.handler")]:
        integration = integrations[routes[key].inputs["target"]]
        assert integration.inputs["integrationType"] == "AWS_PROXY"
        [function] = [f for f in functions.values() if f.outputs["invokeArn"] == integration.inputs["integrationUri"]]
        assert function.inputs["handler"] == handler
    # replies of the actions reach the client (two-way routes)
    responses = stack.of_type("aws:apigatewayv2/routeResponse:RouteResponse")
    two_way = {r.inputs["routeKey"] for r in routes.values() if r.inputs.get("routeResponseSelectionExpression")}
    assert two_way == {"$default", "start", "resume"} and len(responses) == 3
    assert all(r.inputs["routeResponseKey"] == "$default" for r in responses)
    assert "authorizationType" not in routes["$connect"].inputs or \
        routes["$connect"].inputs["authorizationType"] == "NONE"


def test_stage_is_named_logged_and_throttled(stack: CapturedStack) -> None:
    stage = stack.one("aws:apigatewayv2/stage:Stage")
    assert stage.inputs["name"] == "beta" and stage.inputs["autoDeploy"] is True
    logs = stack.one("aws:cloudwatch/logGroup:LogGroup", "access-logs")
    assert stage.inputs["accessLogSettings"]["destinationArn"] == logs.outputs["arn"]
    assert json.loads(stage.inputs["accessLogSettings"]["format"])["connectionId"] == "$context.connectionId"
    assert logs.inputs["retentionInDays"] == 30
    assert stage.inputs["defaultRouteSettings"]["throttlingRateLimit"] == 50
    assert stage.inputs["defaultRouteSettings"]["throttlingBurstLimit"] == 100
    outputs = stack.one("serverless-patterns:index:ProgressTracker").component_outputs
    assert outputs["websocketUrl"] == f"wss://{api_id(stack)}.execute-api.{REGION}.amazonaws.com/beta"
    assert outputs["callbackUrl"] == f"https://{api_id(stack)}.execute-api.{REGION}.amazonaws.com/beta"


def test_table_is_on_demand_with_pitr_sse_and_ttl(stack: CapturedStack) -> None:
    table = stack.one("aws:dynamodb/table:Table")
    assert table.inputs["billingMode"] == "PAY_PER_REQUEST"
    assert table.inputs["pointInTimeRecovery"] == {"enabled": True}
    assert table.inputs["serverSideEncryption"]["enabled"] is True
    assert table.inputs["ttl"] == {"attributeName": "expiresAt", "enabled": True}


def test_manage_connections_is_scoped_to_this_api_and_stage(stack: CapturedStack) -> None:
    expected = f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{api_id(stack)}/beta/POST/@connections/*"
    granted = []
    for policy in stack.of_type("aws:iam/rolePolicy:RolePolicy"):
        for statement in json.loads(policy.inputs["policy"])["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            if any(a.startswith("execute-api:") for a in actions):
                assert actions == ["execute-api:ManageConnections"]
                assert statement["Resource"] == expected
                granted.append(policy.name)
    # ReportProgress and the demo workflow (direct mode) post; nothing else may
    assert sorted(granted) == ["progress-demo-policy", "progress-report-policy"]


def test_each_function_gets_exactly_its_table_actions(stack: CapturedStack) -> None:
    table_arn = stack.one("aws:dynamodb/table:Table").outputs["arn"]
    expected = {
        "connect": {"dynamodb:PutItem"},
        "disconnect": {"dynamodb:DeleteItem"},
        "default": set(),
        "start": {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "states:StartExecution"},
        "resume": {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"},
        "report": {"dynamodb:UpdateItem", "dynamodb:Query", "dynamodb:DeleteItem", "execute-api:ManageConnections",
                   "sqs:SendMessage"},
    }
    queue_arn = stack.one("aws:sqs/queue:Queue").outputs["arn"]
    machine_arn = stack.one("aws:sfn/stateMachine:StateMachine").outputs["arn"]
    for suffix, actions in expected.items():
        statements = own_statements(policy_of(stack, suffix))
        seen = set()
        for statement in statements:
            acts = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            seen.update(acts)
            if any(a.startswith("dynamodb:") for a in acts):
                assert statement["Resource"] == table_arn
            if "states:StartExecution" in acts:
                assert statement["Resource"] == machine_arn
            if "sqs:SendMessage" in acts:
                assert statement["Resource"] == queue_arn
        assert seen == actions, suffix


def test_every_lambda_permission_has_source_arn_and_account(stack: CapturedStack) -> None:
    execution_arn = stack.one("aws:apigatewayv2/api:Api").outputs["executionArn"]
    rule_arn = stack.one("aws:cloudwatch/eventRule:EventRule").outputs["arn"]
    permissions = stack.of_type("aws:lambda/permission:Permission")
    assert len(permissions) == 6
    source_arns = set()
    for permission in permissions:
        assert permission.inputs["sourceAccount"] == ACCOUNT
        source_arns.add(permission.inputs["sourceArn"])
    assert source_arns == {f"{execution_arn}/beta/{key}" for key in
                           ("$connect", "$disconnect", "$default", "start", "resume")} | {rule_arn}


def test_eventbridge_path_has_retries_dead_letters_and_scoped_queue_policy(stack: CapturedStack) -> None:
    rule = stack.one("aws:cloudwatch/eventRule:EventRule")
    bus = stack.one("aws:cloudwatch/eventBus:EventBus")
    assert rule.inputs["eventBusName"] == bus.outputs["name"]
    target = stack.one("aws:cloudwatch/eventTarget:EventTarget")
    report = stack.one("aws:lambda/function:Function", "progress-report")
    queue = stack.one("aws:sqs/queue:Queue")
    assert target.inputs["arn"] == report.outputs["arn"]
    assert target.inputs["retryPolicy"] == {"maximumRetryAttempts": 8, "maximumEventAgeInSeconds": 3600}
    assert target.inputs["deadLetterConfig"]["arn"] == queue.outputs["arn"]
    [statement] = json.loads(stack.one("aws:sqs/queuePolicy:QueuePolicy").inputs["policy"])["Statement"]
    assert statement["Principal"] == {"Service": "events.amazonaws.com"}
    assert statement["Resource"] == queue.outputs["arn"]
    assert statement["Condition"]["ArnEquals"]["aws:SourceArn"] == rule.outputs["arn"]
    # what ReportProgress cannot fan out is retried by Lambda, then lands in the same queue
    invoke_config = stack.one("aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig")
    assert invoke_config.inputs["functionName"] == report.outputs["name"]
    assert invoke_config.inputs["maximumRetryAttempts"] == 2
    assert invoke_config.inputs["maximumEventAgeInSeconds"] == 3600
    assert invoke_config.inputs["destinationConfig"] == {"onFailure": {"destination": queue.outputs["arn"]}}


def test_demo_workflow_direct_mode_uses_configured_stage_and_catches_410(stack: CapturedStack) -> None:
    machine = stack.one("aws:sfn/stateMachine:StateMachine")
    assert machine.inputs["loggingConfiguration"]["level"] == "ALL"
    assert machine.inputs["loggingConfiguration"]["includeExecutionData"] is True
    assert machine.inputs["tracingConfiguration"] == {"enabled": True}
    text = machine.inputs["definition"]
    assert "Prod" not in text
    invokes = [t for t in tasks(definition(stack)["States"]) if t["Resource"] == "arn:aws:states:::apigateway:invoke"]
    assert len(invokes) == 5
    for task in invokes:
        parameters = task["Parameters"]
        assert parameters["Stage"] == "beta" and parameters["AuthType"] == "IAM_ROLE"
        assert parameters["Method"] == "POST"
        assert parameters["ApiEndpoint"] == f"{api_id(stack)}.execute-api.{REGION}.amazonaws.com"
        assert parameters["Path.$"] == "States.Format('/@connections/{}', $.connectionId)"
        assert task["Catch"][0]["ErrorEquals"] == GONE_ERRORS
        assert task["Retry"][0] == {"ErrorEquals": GONE_ERRORS, "MaxAttempts": 0}
    table = stack.one("aws:dynamodb/table:Table").outputs["name"]
    assert {t["Parameters"]["TableName"] for t in tasks(definition(stack)["States"])
            if "dynamodb" in t["Resource"]} == {table}


@pytest.mark.parametrize("mode,resource,action", [
    ("lambda", "arn:aws:states:::lambda:invoke", "lambda:InvokeFunction"),
    ("eventbridge", "arn:aws:states:::events:putEvents", "events:PutEvents"),
])
def test_demo_workflow_other_modes_and_their_permissions(mode: str, resource: str, action: str) -> None:
    stack = build({"demo_reporting_mode": mode})
    reports = [t for t in tasks(definition(stack)["States"]) if t["Resource"] == resource]
    assert len(reports) == 5
    statements = [s for s in policy_of(stack, "demo")["Statement"] if s["Sid"] not in ("LogDelivery", "XRayTracing")]
    [statement] = statements
    assert statement["Action"] == action
    if mode == "lambda":
        report_arn = stack.one("aws:lambda/function:Function", "progress-report").outputs["arn"]
        assert statement["Resource"] == report_arn
        assert {t["Parameters"]["FunctionName"] for t in reports} == {report_arn}
    else:
        bus = stack.one("aws:cloudwatch/eventBus:EventBus")
        assert statement["Resource"] == bus.outputs["arn"]
        assert {t["Parameters"]["Entries"][0]["EventBusName"] for t in reports} == {bus.outputs["name"]}


def test_own_workflow_instead_of_demo() -> None:
    arn = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:my-orders"
    stack = build({"workflow_arn": arn})
    assert stack.of_type("aws:sfn/stateMachine:StateMachine") == []
    start = [s for s in own_statements(policy_of(stack, "start")) if s["Action"] == "states:StartExecution"]
    assert start[0]["Resource"] == arn
    env = stack.one("aws:lambda/function:Function", "progress-start").inputs["environment"]["variables"]
    assert env["STATE_MACHINE_ARN"] == arn


def test_token_authorizer_on_connect() -> None:
    stack = build({"require_token": True, "token_issuer": "https://id.example.org/pool",
                   "token_audience": "progress-web"})
    authorizer = stack.one("aws:apigatewayv2/authorizer:Authorizer")
    assert authorizer.inputs["authorizerType"] == "REQUEST"
    assert authorizer.inputs["identitySources"] == ["route.request.querystring.token"]
    connect = next(r for r in stack.of_type("aws:apigatewayv2/route:Route") if r.inputs["routeKey"] == "$connect")
    assert connect.inputs["authorizationType"] == "CUSTOM" and connect.inputs["authorizerId"] == authorizer.id
    function = stack.one("aws:lambda/function:Function", "progress-authorizer")
    assert function.inputs["environment"]["variables"]["JWKS_URL"] == \
        "https://id.example.org/pool/.well-known/jwks.json"
    permission = stack.one("aws:lambda/permission:Permission", "progress-authorizer")
    execution_arn = stack.one("aws:apigatewayv2/api:Api").outputs["executionArn"]
    assert permission.inputs["sourceArn"] == f"{execution_arn}/authorizers/{authorizer.id}"
    assert own_statements(policy_of(stack, "authorizer")) == []


@pytest.mark.parametrize("args,field", [
    ({"stage_name": "bad stage"}, "stage_name"),
    ({"demo_reporting_mode": "carrier-pigeon"}, "demo_reporting_mode"),
    ({"require_token": True}, "token_issuer"),
    ({"require_token": True, "token_issuer": "http://insecure", "token_audience": "a"}, "token_issuer"),
    ({"token_audience": "a"}, "token_audience"),
    ({"connection_ttl_hours": 2}, "connection_ttl_hours"),
    ({"throttling_rate_limit": 0}, "throttling_rate_limit"),
    ({"workflow_arn": "my-orders"}, "workflow_arn"),
    ({"colour": "blue"}, "args.colour"),
    # reaches Lambda PutFunctionEventInvokeConfig too, whose MaximumEventAgeInSeconds is 60-21600 (botocore)
    ({"event_max_age_seconds": 21601}, "event_max_age_seconds"),
    ({"event_retry_attempts": 186}, "event_retry_attempts"),
])
def test_bad_args_are_refused_with_the_field(args: dict[str, Any], field: str) -> None:
    with pytest.raises(ComponentArgsError) as error:
        build(args)  # type: ignore[arg-type]
    assert error.value.component == "ProgressTracker" and error.value.field == field


def test_from_config_maps_camel_case_and_rejects_unknown_keys() -> None:
    stack_config = StackConfig(project="p", stack="dev", tags={"team": "x"})
    captured = run_callable(lambda: from_config("progress", {"enabled": True, "stageName": "ws",
                                                             "demoReportingMode": "eventbridge",
                                                             "connectionTtlHours": 4}, stack_config),
                            config=CONFIG, account=ACCOUNT)
    assert captured.one("aws:apigatewayv2/stage:Stage").inputs["name"] == "ws"
    assert captured.one("aws:dynamodb/table:Table").inputs["tags"]["team"] == "x"
    env = captured.one("aws:lambda/function:Function", "progress-connect").inputs["environment"]["variables"]
    assert env["CONNECTION_TTL_HOURS"] == "4"
    with pytest.raises(ConfigError) as error:
        run_callable(lambda: from_config("progress", {"stage": "ws"}, stack_config), config=CONFIG)
    assert "patterns.progressTracker.stage" in str(error.value)


def test_dev_stack_config_section() -> None:
    """The program builds the tracker from the `progressTracker` section of Pulumi.dev.yaml."""
    import yaml

    from serverless_patterns.offline import run_program

    root = Path(__file__).resolve().parents[2]
    section = yaml.safe_load((root / "Pulumi.dev.yaml").read_text())["config"][
        "serverless-patterns:patterns"]["progressTracker"]
    captured = run_program(root, "dev", config_overrides={
        "serverless-patterns:patterns": json.dumps({"progressTracker": section})})
    [tracker] = captured.of_type("serverless-patterns:index:ProgressTracker")
    outputs = captured.outputs["progressTracker"]
    assert outputs["websocketUrl"].startswith("wss://") and outputs["websocketUrl"].endswith(
        "/" + section.get("stageName", "live"))
    assert tracker.component_outputs["demoReportingMode"] == section.get("demoReportingMode", "direct")


def test_other_programs_add_reporting_to_their_own_state_machine() -> None:
    import pulumi_aws as aws

    from serverless_patterns.core import iam
    from serverless_patterns.progress_tracker.reporting import ProgressPoint

    own = {"StartAt": "ChargeCard", "States": {"ChargeCard": {"Type": "Pass", "Next": "Ship"},
                                               "Ship": {"Type": "Pass", "End": True}}}

    def program() -> None:
        tracker = ProgressTracker("progress", {"stage_name": "beta"})
        role = aws.iam.Role("orders-role", assume_role_policy=iam.service_trust("states.amazonaws.com"))
        aws.iam.RolePolicy("orders-policy", role=role.id,
                           policy=iam.document(*tracker.reporting_statements("eventbridge")))
        aws.sfn.StateMachine("orders", role_arn=role.arn, definition=tracker.definition_with_progress(
            own, "eventbridge", [ProgressPoint(40, "payment captured", after="ChargeCard")]))

    stack = run_callable(program, config=CONFIG, account=ACCOUNT)
    machine = stack.one("aws:sfn/stateMachine:StateMachine", "orders")
    states = json.loads(machine.inputs["definition"])["States"]
    bus = stack.one("aws:cloudwatch/eventBus:EventBus")
    assert states["ChargeCard"]["Next"] == "Report 40%: payment captured"
    assert states["Report 40%: payment captured"]["Parameters"]["Entries"][0]["EventBusName"] == bus.outputs["name"]
    [statement] = json.loads(stack.one("aws:iam/rolePolicy:RolePolicy", "orders-policy").inputs["policy"])[
        "Statement"]
    assert statement == {"Sid": "ProgressEvents", "Effect": "Allow", "Action": "events:PutEvents",
                         "Resource": bus.outputs["arn"]}


def test_failed_progress_posts_raise_alarms() -> None:
    # Every report catches its errors, so a workflow whose posts all fail (say, a 403 from a mis-scoped
    # role) still succeeds: these alarms are the signal.
    topic = f"arn:aws:sns:{REGION}:{ACCOUNT}:ops"
    stack = build({"alarm_actions": [topic]})
    alarms = {a.name: a.inputs for a in stack.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")}
    delivery = alarms["progress-delivery-failed-alarm"]
    report = stack.one("aws:lambda/function:Function", "progress-report")
    # ReportProgress's Powertools metrics: namespace and service dimension as its environment sets them
    variables = report.inputs["environment"]["variables"]
    assert (delivery["namespace"], delivery["metricName"]) == (variables["POWERTOOLS_METRICS_NAMESPACE"],
                                                               "DeliveryFailed")
    assert delivery["dimensions"] == {"service": variables["POWERTOOLS_SERVICE_NAME"]}
    queue = stack.one("aws:sqs/queue:Queue")
    assert alarms["progress-report-dlq-alarm"]["dimensions"] == {"QueueName": queue.outputs["name"]}
    # direct mode: failed apigateway:invoke attempts counted from the demo workflow's execution log
    log_filter = stack.one("aws:cloudwatch/logMetricFilter:LogMetricFilter").inputs
    machine = stack.one("aws:sfn/stateMachine:StateMachine").inputs
    demo_logs = stack.one("aws:cloudwatch/logGroup:LogGroup", "progress-demo-logs").outputs
    assert machine["loggingConfiguration"]["logDestination"] == demo_logs["arn"] + ":*"
    assert log_filter["logGroupName"] == demo_logs["name"]
    posts = alarms["progress-failed-posts-alarm"]
    transform = log_filter["metricTransformation"]
    assert (posts["namespace"], posts["metricName"]) == (transform["namespace"], transform["name"])
    for alarm in (delivery, posts, alarms["progress-report-dlq-alarm"]):
        assert alarm["alarmActions"] == [topic] and alarm["threshold"] == 1


def test_the_failed_posts_filter_reads_step_functions_task_failed_events() -> None:
    # The fields the filter reads exist in Step Functions' event model: HistoryEventType has TaskFailed,
    # TaskFailedEventDetails has resourceType, and the direct post's Resource is apigateway:invoke.
    import re

    import botocore.session

    from serverless_patterns.progress_tracker.args import FAILED_POSTS_FILTER
    from serverless_patterns.progress_tracker.reporting import ReportingTarget, demo_order_workflow

    model = botocore.session.get_session().get_service_model("stepfunctions")
    assert "TaskFailed" in model.shape_for("HistoryEventType").enum
    assert {"resourceType", "resource", "error", "cause"} <= set(model.shape_for("TaskFailedEventDetails").members)
    [(event_type, resource_type)] = re.findall(r'\$\.type = "(\w+)"\) && \(\$\.details\.resourceType = "(\w+)"',
                                               FAILED_POSTS_FILTER)
    assert event_type == "TaskFailed"
    resources = set(re.findall(r'"Resource": "arn:aws:states:::(\w+):invoke"', json.dumps(
        demo_order_workflow(ReportingTarget.direct("t", "a.execute-api.eu-west-1.amazonaws.com", "s")))))
    assert resources == {resource_type}
