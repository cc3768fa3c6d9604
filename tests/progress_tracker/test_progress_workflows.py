"""The generated workflows EXECUTED in moto's Step Functions engine (components/offline/sfn.py).

Connections register and start executions through the real route handlers; progress travels
through the real definitions. moto's `apigateway:invoke` and EventBridge->Lambda delivery are
adapted in `progress_emulator.py` (the emulator, never the definitions).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from progress_support import ACCOUNT, CALLBACK_URL, REGION, TABLE, Context, create_table, ws_event

from serverless_patterns.offline.sfn import (
    ConnectionsApi,
    Execution,
    SfnHarness,
    deliver_eventbridge_to_lambda,
    emulate_apigateway_invoke,
)
from serverless_patterns.progress_tracker import event_pattern
from serverless_patterns.progress_tracker.reporting import (
    DEMO_POINTS,
    ReportingTarget,
    demo_order_definition,
    demo_order_workflow,
    with_progress,
)

API_HOST = CALLBACK_URL.removeprefix("https://").split("/")[0]
STAGE = "live"
REPORT_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:progress-report"
BUS = "progress-events"
SESSION = "session-aaaa-1111"
PERCENTS = [p.percent for p in DEMO_POINTS]


@pytest.fixture
def harness(aws_env: None, handlers_reset: None) -> Iterator[SfnHarness]:
    with SfnHarness(region=REGION) as h:
        create_table(h.dynamodb)
        yield h


@pytest.fixture
def handlers_reset() -> None:
    import on_connect
    import on_disconnect
    import on_resume
    import on_start
    import report_progress

    for module in (on_connect, on_disconnect, on_start, on_resume, report_progress):
        __import__("progress_store").reset_shared_store()
        for attr in ("store", "sfn", "management"):
            if hasattr(module, attr):
                setattr(module, attr, None)


def report_handler(payload: Any) -> Any:
    import report_progress

    return report_progress.handler(payload, Context())


def connect_and_start(machine_arn: str, connection_ids: list[str], session: str = SESSION,
                      monkeypatch: pytest.MonkeyPatch | None = None) -> str:
    """Connect each connection and send `start` with one request id; returns the execution ARN."""
    import on_connect
    import on_start

    execution = ""
    for connection_id in connection_ids:
        on_connect.handler(ws_event("$connect", connection_id, headers={"Sec-WebSocket-Protocol": session}),
                           Context())
        reply = json.loads(on_start.handler(ws_event("start", connection_id, {
            "action": "start", "requestId": "req-00000001", "order": {"sku": "book-1"}}), Context())["body"])
        assert reply["type"] == "started", reply
        execution = reply["executionId"]
    return machine_arn.replace(":stateMachine:", ":execution:") + ":" + execution


def received(connection_id: str) -> list[dict[str, Any]]:
    """What moto's @connections backend holds for a connection (messages are concatenated JSON)."""
    from moto.apigatewaymanagementapi.models import apigatewaymanagementapi_backends

    connection = apigatewaymanagementapi_backends[ACCOUNT][REGION].connections.get(connection_id)
    if connection is None:
        return []
    decoder, text, out, index = json.JSONDecoder(), connection.data.decode(), [], 0
    while index < len(text):
        message, index = decoder.raw_decode(text, index)
        out.append(message)
    return out


def item(pk: str, sk: str) -> dict[str, Any] | None:
    return boto3.resource("dynamodb", region_name=REGION).Table(TABLE).get_item(Key={"pk": pk, "sk": sk}).get("Item")


def run_demo(h: SfnHarness, target: ReportingTarget, connections: list[str], monkeypatch: pytest.MonkeyPatch,
             **kwargs: Any) -> Execution:
    arn = h.create(demo_order_workflow(target, wait_seconds=5))
    monkeypatch.setenv("STATE_MACHINE_ARN", arn)
    # The execution runs on moto's thread and may reach its first Lambda task at once, before the later
    # connections have joined as followers: the handlers are registered before the start, and each waits until
    # every connection has joined (a browser that joins late rightly misses the reports sent before it joined).
    joined = threading.Event()

    def after_joining(handler: Any) -> Any:
        def handle(payload: Any) -> Any:
            assert joined.wait(30), "the connections never joined"
            return handler(payload)
        return handle

    h.lambda_handlers.update({arn_: after_joining(handler)
                              for arn_, handler in kwargs.get("lambda_results", {}).items()})
    try:
        execution_arn = connect_and_start(arn, connections)
    finally:
        joined.set()
    return h.wait(execution_arn)


# --- direct: apigateway:invoke ------------------------------------------------------------------

def test_direct_progress_reaches_connection_and_gone_connection_is_removed(
        harness: SfnHarness, monkeypatch: pytest.MonkeyPatch) -> None:
    api = ConnectionsApi(gone={"conn-gone"})
    with emulate_apigateway_invoke(api):
        run = run_demo(harness, ReportingTarget.direct(TABLE, API_HOST, STAGE), ["conn-live", "conn-gone"],
                       monkeypatch)
    assert run.status == "SUCCEEDED", run.describe()
    messages = received("conn-live")
    assert [m["percent"] for m in messages] == PERCENTS
    assert messages[-1]["status"] == "SUCCEEDED" and messages[1]["message"] == "inventory reserved"
    assert {p["stage"] for p in api.posts} == {STAGE} and {p["auth"] for p in api.posts} == {"IAM_ROLE"}
    # the gone connection got one attempt (a 410 is not retried), then was forgotten
    assert api.attempts.count("conn-gone") == 1
    execution_id = run.arn.rsplit(":", 1)[1]
    assert item(f"EXEC#{execution_id}", "FOLLOWER#conn-gone") is None
    assert item("CONN#conn-gone", "CONN") is None
    assert item("CONN#conn-live", "CONN") is not None
    state = item(f"EXEC#{execution_id}", "STATE")
    assert (state["percent"], state["status"], state["owner"]) == (100, "SUCCEEDED", SESSION)
    assert run.lambda_invocations == 0
    assert run.output["shipping"] == {"shipped": True}


def test_direct_saves_keep_the_progress_record_while_the_execution_can_run(
        harness: SfnHarness, monkeypatch: pytest.MonkeyPatch) -> None:
    # The Lambda path refreshes expiresAt to now + TTL on every save; ASL has no clock, so direct saves move it
    # to the start + the longest Standard execution (1 year, Step Functions quotas:
    # https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html) + the TTL. Before, a direct
    # workflow running past progress_ttl_hours lost its record: resume said "unknown execution" and later
    # saves failed their attribute_exists(pk) condition.
    from serverless_patterns.progress_tracker.reporting import MAX_EXECUTION_SECONDS

    with emulate_apigateway_invoke(ConnectionsApi()):
        run = run_demo(harness, ReportingTarget.direct(TABLE, API_HOST, STAGE, progress_ttl_hours=6), ["conn-a"],
                       monkeypatch)
    assert run.status == "SUCCEEDED", run.describe()
    state = item(f"EXEC#{run.arn.rsplit(':', 1)[1]}", "STATE")
    assert state["percent"] == 100
    assert state["expiresAt"] == state["startedAt"] + MAX_EXECUTION_SECONDS + 6 * 3600


def test_direct_other_post_errors_are_retried_then_skipped(harness: SfnHarness,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    api = ConnectionsApi(failing={"conn-flaky": 500})
    with emulate_apigateway_invoke(api):
        run = run_demo(harness, ReportingTarget.direct(TABLE, API_HOST, STAGE), ["conn-ok", "conn-flaky"],
                       monkeypatch)
    assert run.status == "SUCCEEDED", run.describe()
    assert api.attempts.count("conn-flaky") == 3 * len(PERCENTS)  # 1 try + 2 retries per report
    assert [m["percent"] for m in received("conn-ok")] == PERCENTS
    assert item("CONN#conn-flaky", "CONN") is not None  # not gone: kept
    assert any(s.endswith(" / Skip failed post") for s in run.states)


def test_direct_reporting_outage_never_fails_the_business_workflow(harness: SfnHarness,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    with emulate_apigateway_invoke(ConnectionsApi()):
        target = ReportingTarget.direct("no-such-table", API_HOST, STAGE)
        run = harness.run(demo_order_workflow(target, wait_seconds=5), {"order": {}, "requestId": "r-1"})
    assert run.status == "SUCCEEDED", run.describe()
    business = list(demo_order_definition()["States"])
    assert [s for s in run.states if s in business] == business
    # every report stopped at its failed save, then moved on
    assert any(s.endswith(" / Save progress") for s in run.states)
    assert not any(s.endswith(" / Find followers") for s in run.states)
    assert run.output == {"order": {}, "requestId": "r-1", "inventory": {"reserved": True, "order": {}},
                          "payment": {"captured": True, "requestId": "r-1"}, "shipping": {"shipped": True}}


def test_direct_workflow_not_started_by_the_tracker_reports_to_nobody(harness: SfnHarness) -> None:
    api = ConnectionsApi()
    with emulate_apigateway_invoke(api):
        run = harness.run(demo_order_workflow(ReportingTarget.direct(TABLE, API_HOST, STAGE), 0),
                          {"order": {}, "requestId": "r-1"})
    assert run.status == "SUCCEEDED", run.describe()
    assert api.attempts == []
    assert harness.dynamodb.scan(TableName=TABLE)["Items"] == []  # no orphan state items


# --- lambda: ReportProgress -------------------------------------------------------------------------

def test_lambda_mode_progress_reaches_every_follower(harness: SfnHarness, monkeypatch: pytest.MonkeyPatch) -> None:
    run = run_demo(harness, ReportingTarget.lambda_function(REPORT_ARN), ["conn-a", "conn-b"], monkeypatch,
                   lambda_results={REPORT_ARN: report_handler})
    assert run.status == "SUCCEEDED", run.describe()
    assert run.lambda_invocations == len(PERCENTS)
    for connection_id in ("conn-a", "conn-b"):
        assert [m["percent"] for m in received(connection_id)] == PERCENTS
    execution_id = run.arn.rsplit(":", 1)[1]
    assert item(f"EXEC#{execution_id}", "STATE")["status"] == "SUCCEEDED"


def test_lambda_mode_failing_reporter_never_fails_the_workflow(harness: SfnHarness,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(payload: Any) -> Any:
        raise RuntimeError("reporter down")

    run = run_demo(harness, ReportingTarget.lambda_function(REPORT_ARN), ["conn-a"], monkeypatch,
                   lambda_results={REPORT_ARN: broken})
    assert run.status == "SUCCEEDED", run.describe()
    assert received("conn-a") == [] and run.output["shipping"] == {"shipped": True}


# --- eventbridge: putEvents -> rule -> ReportProgress -------------------------------------------------

def test_eventbridge_path_delivers_to_report_progress(harness: SfnHarness, monkeypatch: pytest.MonkeyPatch) -> None:
    events = harness.events
    events.create_event_bus(Name=BUS)
    events.put_rule(Name="progress-report", EventBusName=BUS, EventPattern=json.dumps(event_pattern()))
    events.put_targets(Rule="progress-report", EventBusName=BUS, Targets=[{"Id": "report", "Arn": REPORT_ARN}])
    with deliver_eventbridge_to_lambda({REPORT_ARN: report_handler}) as delivered:
        run = run_demo(harness, ReportingTarget.eventbridge(BUS), ["conn-a"], monkeypatch)
    assert run.status == "SUCCEEDED", run.describe()
    assert run.lambda_invocations == 0  # the workflow only puts events
    assert [e["detail"]["percent"] for e in delivered] == PERCENTS
    assert [m["percent"] for m in received("conn-a")] == PERCENTS


# --- resume after a dropped connection ------------------------------------------------------------------

def test_resume_after_reconnect_gets_latest_state_and_further_updates(
        harness: SfnHarness, monkeypatch: pytest.MonkeyPatch) -> None:
    import on_connect
    import on_disconnect
    import on_resume

    # A workflow that pauses between reports: the client drops and comes back in between.
    definition = demo_order_definition(0)
    definition["States"]["Reserve inventory"]["Next"] = "Approve"
    definition["States"]["Approve"] = {
        "Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
        "Parameters": {"QueueUrl": "https://sqs.eu-west-1.amazonaws.com/123456789012/approvals",
                       "MessageBody": {"token.$": "$$.Task.Token"}},
        "ResultPath": None, "Next": "Wait for warehouse"}
    target = ReportingTarget.lambda_function(REPORT_ARN)
    definition = with_progress(definition, target, after="Reserve inventory", percent=30,
                               message="inventory reserved")
    definition = with_progress(definition, target, after="Ship order", percent=90, message="shipped")
    queue = harness.sqs.create_queue(QueueName="approvals")["QueueUrl"]
    arn = harness.create(definition)
    monkeypatch.setenv("STATE_MACHINE_ARN", arn)
    harness.lambda_handlers[REPORT_ARN] = report_handler
    execution_arn = connect_and_start(arn, ["conn-old"])
    token = None
    for _ in range(200):
        messages = harness.sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=0).get("Messages", [])
        if messages:
            token = json.loads(messages[0]["Body"])["token"]
            break
        __import__("time").sleep(0.02)
    assert token is not None
    assert [m["percent"] for m in received("conn-old")] == [30]
    on_disconnect.handler(ws_event("$disconnect", "conn-old"), Context())
    on_connect.handler(ws_event("$connect", "conn-new", headers={"Sec-WebSocket-Protocol": SESSION}), Context())
    reply = json.loads(on_resume.handler(ws_event("resume", "conn-new", {
        "action": "resume", "requestId": "req-00000001"}), Context())["body"])
    assert (reply["type"], reply["percent"], reply["message"]) == ("progress", 30, "inventory reserved")
    harness.stepfunctions.send_task_success(taskToken=token, output="{}")
    run = harness.wait(execution_arn)
    assert run.status == "SUCCEEDED", run.describe()
    assert [m["percent"] for m in received("conn-new")] == [90]
    assert [m["percent"] for m in received("conn-old")] == [30]


# --- a stale report after a newer one, in every reporting mode ---------------------------------------------

@pytest.mark.parametrize("mode", ["direct", "lambda", "eventbridge"])
def test_a_stale_report_after_a_newer_one_never_overwrites_it(harness: SfnHarness, monkeypatch: pytest.MonkeyPatch,
                                                              mode: str) -> None:
    """Reports can arrive out of order (EventBridge and Lambda retries do not keep it): the stored state, which
    `resume` answers with, keeps the highest percentage in every mode."""
    target = {"direct": ReportingTarget.direct(TABLE, API_HOST, STAGE),
              "lambda": ReportingTarget.lambda_function(REPORT_ARN),
              "eventbridge": ReportingTarget.eventbridge(BUS)}[mode]
    definition = with_progress(demo_order_definition(0), target, after="Reserve inventory", percent=90,
                               message="nearly there")
    definition = with_progress(definition, target, after="Ship order", percent=30, message="late news")
    arn = harness.create(definition)
    monkeypatch.setenv("STATE_MACHINE_ARN", arn)
    harness.lambda_handlers[REPORT_ARN] = report_handler
    if mode == "eventbridge":
        harness.events.create_event_bus(Name=BUS)
        harness.events.put_rule(Name="progress-report", EventBusName=BUS, EventPattern=json.dumps(event_pattern()))
        harness.events.put_targets(Rule="progress-report", EventBusName=BUS, Targets=[{"Id": "r", "Arn": REPORT_ARN}])
    with emulate_apigateway_invoke(ConnectionsApi()), deliver_eventbridge_to_lambda({REPORT_ARN: report_handler}):
        run = harness.wait(connect_and_start(arn, ["conn-a"]))
    assert run.status == "SUCCEEDED", run.describe()
    assert [m["percent"] for m in received("conn-a")][:1] == [90]
    state = item(f"EXEC#{run.arn.rsplit(':', 1)[1]}", "STATE")
    assert (state["percent"], state["message"]) == (90, "nearly there")
