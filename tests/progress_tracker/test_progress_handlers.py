"""Route handlers and ReportProgress against moto (DynamoDB, Step Functions) and botocore Stubber."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber
from progress_support import ACCOUNT, REGION, TABLE, ws_event

SESSION = "session-aaaa-1111"
OTHER_SESSION = "session-bbbb-2222"


def body(response: dict[str, Any]) -> dict[str, Any]:
    return json.loads(response["body"])


@pytest.fixture
def state_machine(moto_aws: None, monkeypatch: pytest.MonkeyPatch) -> str:
    sfn = boto3.client("stepfunctions", region_name=REGION)
    arn = sfn.create_state_machine(
        name="orders", roleArn=f"arn:aws:iam::{ACCOUNT}:role/sfn",
        definition=json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}))["stateMachineArn"]
    monkeypatch.setenv("STATE_MACHINE_ARN", arn)
    return arn


def connect(handlers: Any, context: Any, connection_id: str, session: str = SESSION,
            authorizer: dict[str, Any] | None = None) -> dict[str, Any]:
    return handlers.on_connect.handler(
        ws_event("$connect", connection_id, headers={"Sec-WebSocket-Protocol": session}, authorizer=authorizer),
        context)


def table() -> Any:
    return boto3.resource("dynamodb", region_name=REGION).Table(TABLE)


# --- $connect / $disconnect --------------------------------------------------------------

def test_connect_stores_session_and_echoes_subprotocol(handlers: Any, context: Any) -> None:
    response = connect(handlers, context, "conn-1")
    assert response["statusCode"] == 200
    assert response["headers"] == {"Sec-WebSocket-Protocol": SESSION}
    item = table().get_item(Key={"pk": "CONN#conn-1", "sk": "CONN"})["Item"]
    assert item["sessionId"] == SESSION and item["principal"] == "anonymous"
    # TTL beyond API Gateway's 2-hour connection limit
    assert item["expiresAt"] - item["connectedAt"] == 3 * 3600


def test_connect_with_authorizer_principal(handlers: Any, context: Any) -> None:
    connect(handlers, context, "conn-1", authorizer={"principal": "user-42", "principalId": "user-42"})
    assert table().get_item(Key={"pk": "CONN#conn-1", "sk": "CONN"})["Item"]["principal"] == "user-42"


@pytest.mark.parametrize("headers,code", [({}, "missing_session"),
                                          ({"Sec-WebSocket-Protocol": "bad id!"}, "invalid_session")])
def test_connect_without_valid_session_is_refused(handlers: Any, context: Any, headers: dict[str, str],
                                                  code: str) -> None:
    response = handlers.on_connect.handler(ws_event("$connect", "conn-1", headers=headers), context)
    assert response["statusCode"] == 400
    assert body(response)["error"] == code
    assert "Item" not in table().get_item(Key={"pk": "CONN#conn-1", "sk": "CONN"})


def test_disconnect_removes_connection_and_follower_items(handlers: Any, context: Any,
                                                          state_machine: str) -> None:
    connect(handlers, context, "conn-1")
    started = body(handlers.on_start.handler(ws_event("start", "conn-1", {"action": "start",
                                                                          "requestId": "req-00000001"}), context))
    execution = started["executionId"]
    assert handlers.progress_store.Store().followers(execution) == ["conn-1"]
    assert handlers.on_disconnect.handler(ws_event("$disconnect", "conn-1"), context)["statusCode"] == 200
    assert "Item" not in table().get_item(Key={"pk": "CONN#conn-1", "sk": "CONN"})
    assert handlers.progress_store.Store().followers(execution) == []
    # the progress record survives the disconnect, so the client can resume
    assert table().get_item(Key={"pk": f"EXEC#{execution}", "sk": "STATE"})["Item"]["owner"] == SESSION


# --- start ---------------------------------------------------------------------------------

def test_start_is_idempotent_per_request_id(handlers: Any, context: Any, state_machine: str) -> None:
    connect(handlers, context, "conn-1")
    message = {"action": "start", "requestId": "req-00000001", "order": {"item": "book"}}
    first = body(handlers.on_start.handler(ws_event("start", "conn-1", message), context))
    second = body(handlers.on_start.handler(ws_event("start", "conn-1", message), context))
    assert first["type"] == "started" and first["alreadyStarted"] is False
    assert second["executionId"] == first["executionId"] and second["alreadyStarted"] is True
    executions = boto3.client("stepfunctions", region_name=REGION).list_executions(
        stateMachineArn=state_machine)["executions"]
    assert [e["name"] for e in executions] == [first["executionId"]]
    described = boto3.client("stepfunctions", region_name=REGION).describe_execution(
        executionArn=executions[0]["executionArn"])
    assert json.loads(described["input"]) == {"order": {"item": "book"}, "requestId": "req-00000001"}


def test_start_after_reconnect_with_same_request_id_does_not_start_twice(handlers: Any, context: Any,
                                                                         state_machine: str) -> None:
    connect(handlers, context, "conn-1")
    message = {"action": "start", "requestId": "req-00000001"}
    first = body(handlers.on_start.handler(ws_event("start", "conn-1", message), context))
    connect(handlers, context, "conn-2")  # same session, new connection
    second = body(handlers.on_start.handler(ws_event("start", "conn-2", message), context))
    assert second["executionId"] == first["executionId"] and second["alreadyStarted"] is True
    assert sorted(handlers.progress_store.Store().followers(first["executionId"])) == ["conn-1", "conn-2"]


def test_same_request_id_from_other_session_is_another_execution(handlers: Any, context: Any,
                                                                 state_machine: str) -> None:
    connect(handlers, context, "conn-1")
    connect(handlers, context, "conn-2", session=OTHER_SESSION)
    message = {"action": "start", "requestId": "req-00000001"}
    a = body(handlers.on_start.handler(ws_event("start", "conn-1", message), context))
    b = body(handlers.on_start.handler(ws_event("start", "conn-2", message), context))
    assert a["executionId"] != b["executionId"]


def test_execution_already_exists_counts_as_started(handlers: Any, context: Any, state_machine: str) -> None:
    connect(handlers, context, "conn-1")
    module = handlers.on_start
    _, sfn = module.clients()
    with Stubber(sfn) as stub:
        stub.add_client_error("start_execution", "ExecutionAlreadyExists", "exists", 400)
        reply = body(module.handler(ws_event("start", "conn-1", {"action": "start", "requestId": "req-00000001"}),
                                    context))
    assert reply["type"] == "started" and reply["alreadyStarted"] is True


def test_start_failure_is_reported_and_retryable(handlers: Any, context: Any, state_machine: str) -> None:
    connect(handlers, context, "conn-1")
    module = handlers.on_start
    _, sfn = module.clients()
    message = {"action": "start", "requestId": "req-00000001"}
    with Stubber(sfn) as stub:
        stub.add_client_error("start_execution", "ExecutionLimitExceeded", "too many", 400)
        failed = module.handler(ws_event("start", "conn-1", message), context)
    assert failed["statusCode"] == 503 and body(failed)["error"] == "start_failed"
    retried = body(module.handler(ws_event("start", "conn-1", message), context))
    assert retried["type"] == "started"
    assert len(boto3.client("stepfunctions", region_name=REGION).list_executions(
        stateMachineArn=state_machine)["executions"]) == 1


@pytest.mark.parametrize("raw,code,words", [
    ("{not json", "malformed_json", "not valid JSON"),
    ("[1, 2]", "malformed_message", "JSON object"),
    # One case per rule of START_SCHEMA (the reason names the field), and the size check JSON Schema cannot express.
    ({"action": "start"}, "invalid_request", "message: must contain ['requestId']"),
    ({"action": "start", "requestId": "x"}, "invalid_request", "requestId: must match pattern"),
    ({"action": "start", "requestId": "req-00000001\n"}, "invalid_request", "requestId: must match pattern"),
    ({"action": "start", "requestId": 12345678}, "invalid_request", "requestId: must be string"),
    ({"action": "start", "requestId": "req-00000001", "color": "red"}, "invalid_request", "{'color'}"),
    ({"action": "start", "requestId": "req-00000001", "order": [1]}, "invalid_request", "order: must be object"),
    ({"action": "start", "requestId": "req-00000001", "order": {"blob": "x" * 40000}}, "invalid_request",
     "order: is larger than 32768 bytes"),
])
def test_start_bad_input_gets_error_message(handlers: Any, context: Any, state_machine: str, raw: Any,
                                            code: str, words: str) -> None:
    connect(handlers, context, "conn-1")
    response = handlers.on_start.handler(ws_event("start", "conn-1", raw), context)
    assert response["statusCode"] == 400
    message = body(response)
    assert message["type"] == "error" and message["error"] == code and words in message["message"]
    assert boto3.client("stepfunctions", region_name=REGION).list_executions(
        stateMachineArn=state_machine)["executions"] == []


def test_start_from_unknown_connection(handlers: Any, context: Any, state_machine: str) -> None:
    response = handlers.on_start.handler(ws_event("start", "ghost", {"action": "start",
                                                                      "requestId": "req-00000001"}), context)
    assert response["statusCode"] == 409 and body(response)["error"] == "unknown_connection"


# --- $default ------------------------------------------------------------------------------

@pytest.mark.parametrize("raw,code", [({"action": "fly"}, "unknown_action"), ({"hello": 1}, "missing_action"),
                                      ("oops", "malformed_json"), ("", "empty_message")])
def test_default_route_names_valid_actions(handlers: Any, context: Any, raw: Any, code: str) -> None:
    event = ws_event("$default", "conn-1", raw)
    if raw == "":
        event["body"] = ""
    response = handlers.on_default.handler(event, context)
    message = body(response)
    assert response["statusCode"] == 400 and message["error"] == code
    assert message["validActions"] == ["start", "resume"]


# --- resume --------------------------------------------------------------------------------

def start_and_report(handlers: Any, context: Any, percent: int = 60) -> str:
    connect(handlers, context, "conn-1")
    started = body(handlers.on_start.handler(ws_event("start", "conn-1", {"action": "start",
                                                                          "requestId": "req-00000001"}), context))
    handlers.on_disconnect.handler(ws_event("$disconnect", "conn-1"), context)
    handlers.progress_store.Store().save_progress(started["executionId"], percent, "payment captured",
                                                  "ChargeCard", "RUNNING")
    return started["executionId"]


def test_resume_returns_latest_state_and_follows_again(handlers: Any, context: Any, state_machine: str) -> None:
    execution = start_and_report(handlers, context)
    connect(handlers, context, "conn-2")
    reply = body(handlers.on_resume.handler(ws_event("resume", "conn-2", {"action": "resume",
                                                                          "executionId": execution}), context))
    assert reply["type"] == "progress" and reply["resumed"] is True
    assert (reply["percent"], reply["message"], reply["step"]) == (60, "payment captured", "ChargeCard")
    assert handlers.progress_store.Store().followers(execution) == ["conn-2"]


def test_resume_by_request_id(handlers: Any, context: Any, state_machine: str) -> None:
    execution = start_and_report(handlers, context)
    connect(handlers, context, "conn-2")
    reply = body(handlers.on_resume.handler(ws_event("resume", "conn-2", {"action": "resume",
                                                                          "requestId": "req-00000001"}), context))
    assert reply["executionId"] == execution and reply["percent"] == 60


def test_resume_of_foreign_execution_is_refused(handlers: Any, context: Any, state_machine: str) -> None:
    execution = start_and_report(handlers, context)
    connect(handlers, context, "conn-3", session=OTHER_SESSION)
    response = handlers.on_resume.handler(ws_event("resume", "conn-3", {"action": "resume",
                                                                        "executionId": execution}), context)
    assert response["statusCode"] == 403 and body(response)["error"] == "forbidden_execution"
    assert handlers.progress_store.Store().followers(execution) == []


def test_resume_of_same_session_other_principal_is_refused(handlers: Any, context: Any,
                                                           state_machine: str) -> None:
    execution = start_and_report(handlers, context)
    connect(handlers, context, "conn-3", authorizer={"principal": "mallory"})
    response = handlers.on_resume.handler(ws_event("resume", "conn-3", {"action": "resume",
                                                                        "executionId": execution}), context)
    assert body(response)["error"] == "forbidden_execution"


@pytest.mark.parametrize("message,status,code,words", [
    ({"action": "resume", "executionId": "order-unknown-000"}, 404, "unknown_execution", "order-unknown-000"),
    # One case per rule of RESUME_SCHEMA: neither id, both ids, an id's pattern, an extra field.
    ({"action": "resume"}, 400, "invalid_request", "executionId or requestId: give exactly one"),
    ({"action": "resume", "executionId": "order-aaaaaaaa", "requestId": "req-00000001"}, 400, "invalid_request",
     "executionId or requestId: give exactly one"),
    ({"action": "resume", "executionId": "order aaaaaaaa"}, 400, "invalid_request",
     "executionId: must match pattern"),
    ({"action": "resume", "requestId": "req-1"}, 400, "invalid_request", "requestId: must match pattern"),
    ({"action": "resume", "requestId": "req-00000001", "since": 3}, 400, "invalid_request", "{'since'}"),
])
def test_resume_bad_input(handlers: Any, context: Any, message: dict[str, Any], status: int, code: str,
                          words: str) -> None:
    connect(handlers, context, "conn-1")
    response = handlers.on_resume.handler(ws_event("resume", "conn-1", message), context)
    assert response["statusCode"] == status and body(response)["error"] == code
    assert words in body(response)["message"]


# --- ReportProgress ------------------------------------------------------------------------

def follow_from(handlers: Any, context: Any, connection_ids: list[str]) -> str:
    execution = ""
    for connection_id in connection_ids:
        connect(handlers, context, connection_id)
        reply = body(handlers.on_start.handler(ws_event("start", connection_id, {
            "action": "start", "requestId": "req-00000001"}), context))
        execution = reply["executionId"]
    return execution


def posted(connection_id: str) -> list[dict[str, Any]]:
    from moto.apigatewaymanagementapi.models import apigatewaymanagementapi_backends

    connection = apigatewaymanagementapi_backends[ACCOUNT][REGION].connections.get(connection_id)
    if connection is None:
        return []
    raw = connection.data.decode()
    return [json.loads(part) for part in raw.replace("}{", "}\n{").splitlines()]


def test_report_fans_out_to_every_follower_and_stores_state(handlers: Any, context: Any,
                                                            state_machine: str) -> None:
    execution = follow_from(handlers, context, ["conn-1", "conn-2", "conn-3"])
    result = handlers.report_progress.handler({"executionId": execution, "percent": 40,
                                               "message": "payment captured", "step": "ChargeCard"}, context)
    assert result == {"delivered": 3, "gone": 0, "failed": 0, "stored": True}
    for connection_id in ("conn-1", "conn-2", "conn-3"):
        [message] = posted(connection_id)
        assert message["percent"] == 40 and message["message"] == "payment captured"
        assert message["executionId"] == execution
    state = table().get_item(Key={"pk": f"EXEC#{execution}", "sk": "STATE"})["Item"]
    assert (state["percent"], state["step"]) == (40, "ChargeCard")


def test_report_does_not_reach_other_sessions(handlers: Any, context: Any, state_machine: str) -> None:
    execution = follow_from(handlers, context, ["conn-1"])
    connect(handlers, context, "conn-9", session=OTHER_SESSION)
    handlers.report_progress.handler({"executionId": execution, "percent": 10}, context)
    assert len(posted("conn-1")) == 1 and posted("conn-9") == []


def test_report_from_eventbridge_event(handlers: Any, context: Any, state_machine: str) -> None:
    execution = follow_from(handlers, context, ["conn-1"])
    event = {"version": "0", "id": "e1", "detail-type": "Progress reported", "source": "progress",
             "account": ACCOUNT, "region": REGION, "time": "2026-11-22T10:00:00Z", "resources": [],
             "detail": {"executionId": execution, "percent": 90, "message": "shipped"}}
    assert handlers.report_progress.handler(event, context)["delivered"] == 1
    assert posted("conn-1")[0]["message"] == "shipped"


def test_report_removes_gone_connection_and_keeps_others(handlers: Any, context: Any,
                                                         state_machine: str) -> None:
    execution = follow_from(handlers, context, ["conn-1", "conn-2"])
    module = handlers.report_progress
    _, api = module.clients()
    with Stubber(api) as stub:
        stub.add_client_error("post_to_connection", "GoneException", "gone", 410,
                              expected_params={"ConnectionId": "conn-1", "Data": ANY})
        stub.add_response("post_to_connection", {}, {"ConnectionId": "conn-2", "Data": ANY})
        result = module.handler({"executionId": execution, "percent": 50, "message": "half"}, context)
    assert result == {"delivered": 1, "gone": 1, "failed": 0, "stored": True}
    assert handlers.progress_store.Store().followers(execution) == ["conn-2"]
    assert "Item" not in table().get_item(Key={"pk": "CONN#conn-1", "sk": "CONN"})
    assert "Item" in table().get_item(Key={"pk": "CONN#conn-2", "sk": "CONN"})


def test_report_other_errors_are_counted_not_raised(handlers: Any, context: Any, state_machine: str) -> None:
    execution = follow_from(handlers, context, ["conn-1"])
    module = handlers.report_progress
    _, api = module.clients()
    with Stubber(api) as stub:
        stub.add_client_error("post_to_connection", "ForbiddenException", "no", 403)
        result = module.handler({"executionId": execution, "percent": 50}, context)
    assert result == {"delivered": 0, "gone": 0, "failed": 1, "stored": True}
    # a failed push does not lose the record, and the connection is kept
    assert table().get_item(Key={"pk": f"EXEC#{execution}", "sk": "STATE"})["Item"]["percent"] == 50
    assert handlers.progress_store.Store().followers(execution) == ["conn-1"]


def test_report_from_eventbridge_fails_for_retry_when_a_follower_is_unreachable(
        handlers: Any, context: Any, state_machine: str) -> None:
    execution = follow_from(handlers, context, ["conn-1", "conn-2"])
    module = handlers.report_progress
    _, api = module.clients()
    event = {"detail-type": "Workflow progress reported", "source": "s", "detail": {
        "executionId": execution, "percent": 70, "message": "m"}}
    with Stubber(api) as stub:
        stub.add_response("post_to_connection", {}, {"ConnectionId": "conn-1", "Data": ANY})
        stub.add_client_error("post_to_connection", "InternalServerError", "boom", 500)
        with pytest.raises(module.DeliveryFailed, match="1 of 2 followers"):
            module.handler(event, context)
    # the record was stored before the fan-out: a retry (or a resume) has it
    assert table().get_item(Key={"pk": f"EXEC#{execution}", "sk": "STATE"})["Item"]["percent"] == 70


def test_report_refuses_messages_over_128_kb_before_sending(handlers: Any, context: Any,
                                                            state_machine: str) -> None:
    execution = follow_from(handlers, context, ["conn-1"])
    module = handlers.report_progress
    _, api = module.clients()
    with Stubber(api):  # any post would fail the test: the stubber has no responses queued
        result = module.handler({"executionId": execution, "percent": 50, "message": "x" * (128 * 1024)},
                                context)
    assert result["delivered"] == 0 and "exceeds 131072 bytes" in result["refused"]
    assert table().get_item(Key={"pk": f"EXEC#{execution}", "sk": "STATE"})["Item"]["percent"] == 0


def test_report_just_under_the_limit_is_sent(handlers: Any, context: Any, state_machine: str) -> None:
    execution = follow_from(handlers, context, ["conn-1"])
    envelope = len(json.dumps({"type": "progress", "executionId": execution, "percent": 50, "message": "",
                               "step": "", "status": "RUNNING", "updatedAt": "2026-11-22T10:00:00Z"},
                              separators=(",", ":")))
    message = "y" * (128 * 1024 - envelope)
    assert handlers.report_progress.handler({"executionId": execution, "percent": 50, "message": message},
                                            context)["delivered"] == 1


def test_stale_report_does_not_overwrite_newer_progress(handlers: Any, context: Any,
                                                        state_machine: str) -> None:
    execution = follow_from(handlers, context, ["conn-1"])
    handlers.report_progress.handler({"executionId": execution, "percent": 90}, context)
    result = handlers.report_progress.handler({"executionId": execution, "percent": 30}, context)
    assert result["stored"] is False
    assert table().get_item(Key={"pk": f"EXEC#{execution}", "sk": "STATE"})["Item"]["percent"] == 90


@pytest.mark.parametrize("event,words", [
    # One case per rule of PROGRESS_SCHEMA; "50" is refused: the protocol's percent is a JSON number.
    ({}, "message: must contain ['executionId', 'percent']"),
    ({"percent": 10}, "message: must contain ['executionId']"),
    ({"executionId": "", "percent": 10}, "executionId: must be longer than or equal to 1"),
    ({"executionId": "x" * 81, "percent": 10}, "executionId: must be shorter than or equal to 80"),
    ({"executionId": "x", "percent": 140}, "percent: must be smaller than or equal to 100"),
    ({"executionId": "x", "percent": -1}, "percent: must be bigger than or equal to 0"),
    ({"executionId": "x", "percent": "lots"}, "percent: must be integer"),
    ({"executionId": "x", "percent": "50"}, "percent: must be integer"),
    ({"executionId": "x", "percent": 50.5}, "percent: must be integer"),
    ({"executionId": "x", "percent": 50, "message": 7}, "message: must be string"),
    ({"executionId": "x", "percent": 50, "status": "DONE"}, "status: must be one of"),
    ({"detail-type": "Progress", "detail": {"executionId": "x"}}, "message: must contain ['percent']"),
])
def test_report_bad_input_is_answered_not_raised(handlers: Any, context: Any, event: dict[str, Any],
                                                 words: str) -> None:
    result = handlers.report_progress.handler(event, context)
    assert result["delivered"] == 0 and words in result["refused"]


def test_report_takes_a_whole_float_percent_as_the_integer_it_is(handlers: Any, context: Any,
                                                                 state_machine: str) -> None:
    """JSON Schema's integer includes 50.0; it is stored as 50 (DynamoDB's serializer refuses floats), and the
    fields left out get their schema defaults; fields the schema does not name are ignored."""
    execution = follow_from(handlers, context, ["conn-1"])
    result = handlers.report_progress.handler({"executionId": execution, "percent": 50.0, "extra": 1}, context)
    assert result["stored"] is True and result["delivered"] == 1
    item = table().get_item(Key={"pk": f"EXEC#{execution}", "sk": "STATE"})["Item"]
    assert (item["percent"], item["message"], item["step"], item["status"]) == (50, "", "", "RUNNING")
    assert posted("conn-1")[-1]["percent"] == 50


def test_no_handler_imports_pydantic_and_only_the_validating_ones_load_fastjsonschema() -> None:
    """pydantic's import alone put start, resume and ReportProgress over their cold-start goal (README, Benchmarks):
    none of the progress handlers may load it. `$connect`, `$disconnect` and `$default` validate no message, so
    they must not load fastjsonschema either. Each is imported in a fresh interpreter; `$connect` and `$default`
    also answer a malformed request there, and start, resume and ReportProgress refuse one."""
    import subprocess
    import sys

    from progress_support import SHARED_DIR, WEBSOCKET_DIR

    script = f"""
import json, sys
sys.path[:0] = [{str(WEBSOCKET_DIR)!r}, {str(SHARED_DIR)!r}]
sys.path.insert(0, {str(WEBSOCKET_DIR.parents[2] / "tests" / "progress_tracker")!r})
from progress_support import Context, ws_event
def libraries():
    return sorted(name for name in ("pydantic", "fastjsonschema") if name in sys.modules)
import on_connect, on_default, on_disconnect
loaded = {{"import": libraries()}}
connect = on_connect.handler(ws_event("$connect", "conn-1", headers={{}}), Context())
default = on_default.handler(ws_event("$default", "conn-1", body={{"action": "dance"}}), Context())
loaded["requests"] = libraries()
import on_resume, on_start, report_progress
start = on_start.handler(ws_event("start", "conn-1", body={{"action": "start"}}), Context())
resume = on_resume.handler(ws_event("resume", "conn-1", body={{"action": "resume"}}), Context())
report = report_progress.handler({{"executionId": "x"}}, Context())
loaded["validating"] = libraries()
print(json.dumps({{"loaded": loaded, "statuses": [r["statusCode"] for r in (connect, default, start, resume)],
                  "errors": [json.loads(r["body"])["error"] for r in (connect, default, start, resume)],
                  "refused": report["refused"]}}))
"""
    env = {"PATH": "/usr/bin:/bin", "AWS_DEFAULT_REGION": REGION, "POWERTOOLS_TRACE_DISABLED": "1",
           "POWERTOOLS_SERVICE_NAME": "progress-tracker", "POWERTOOLS_METRICS_NAMESPACE": "ProgressTracker",
           "TABLE_NAME": TABLE}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["statuses"] == [400] * 4
    assert result["errors"] == ["missing_session", "unknown_action", "invalid_request", "invalid_request"]
    assert "percent" in result["refused"]
    assert result["loaded"] == {"import": [], "requests": [], "validating": ["fastjsonschema"]}
