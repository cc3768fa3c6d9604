"""The Step Functions harness: moto executes definitions, adapted where moto differs from AWS."""

import pytest

from serverless_patterns.offline.sfn import (
    ConnectionsApi,
    SfnHarness,
    deliver_eventbridge_to_lambda,
    emulate_apigateway_invoke,
)

FN = "arn:aws:lambda:us-east-1:123456789012:function:double"
BUCKET = "archive-bucket"


def head_then_wait_then_lambda() -> dict:
    return {"StartAt": "Head", "States": {
        "Head": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:s3:headObject",
                 "Parameters": {"Bucket": BUCKET, "Key.$": "$.key"}, "ResultPath": "$.head",
                 "Catch": [{"ErrorEquals": ["S3.NoSuchKeyException"], "Next": "Missing", "ResultPath": "$.error"}],
                 "Next": "Hold"},
        "Hold": {"Type": "Wait", "Seconds": 86400, "Next": "Double"},
        "Double": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                   "Parameters": {"FunctionName": FN, "Payload": {"n.$": "$.head.ContentLength"}},
                   "ResultSelector": {"value.$": "$.Payload.value"}, "ResultPath": "$.doubled",
                   "Retry": [{"ErrorEquals": ["Flaky"], "IntervalSeconds": 600, "MaxAttempts": 2}],
                   "End": True},
        "Missing": {"Type": "Fail", "Error": "NoSuchKey", "Cause": "no such object"}}}


@pytest.fixture
def harness():
    with SfnHarness() as h:
        h.s3.create_bucket(Bucket=BUCKET)
        h.s3.put_object(Bucket=BUCKET, Key="photos.tar", Body=b"12345", StorageClass="DEEP_ARCHIVE")
        yield h


def test_waits_do_not_sleep_and_lambda_runs_in_process(harness: SfnHarness) -> None:
    run = harness.run(head_then_wait_then_lambda(), {"key": "photos.tar"},
                      lambda_results={FN: lambda payload: {"value": payload["n"] * 2}})
    assert run.status == "SUCCEEDED", run.describe()
    assert run.output["doubled"] == {"value": 10}
    assert run.output["head"]["StorageClass"] == "DEEP_ARCHIVE"
    assert isinstance(run.output["head"]["LastModified"], str)  # as Step Functions passes timestamps on
    assert run.states == ["Head", "Hold", "Double"]
    assert run.transitions == 3
    assert run.lambda_invocations == 1
    assert harness.lambda_calls == [(FN, {"n": 5})]


def test_sdk_errors_carry_aws_names(harness: SfnHarness) -> None:
    run = harness.run(head_then_wait_then_lambda(), {"key": "missing.tar"})
    assert run.status == "FAILED"
    assert (run.error, run.cause) == ("NoSuchKey", "no such object")
    assert run.task_failures()[0]["taskFailedEventDetails"]["error"] == "S3.NoSuchKeyException"


def test_function_errors_are_retried_without_sleeping(harness: SfnHarness) -> None:
    calls = []

    def flaky(payload: dict) -> dict:
        calls.append(payload)
        if len(calls) < 3:
            raise type("Flaky", (Exception,), {})("try again")
        return {"value": 0}

    run = harness.run(head_then_wait_then_lambda(), {"key": "photos.tar"}, lambda_results={FN: flaky})
    assert run.status == "SUCCEEDED", run.describe()
    assert len(calls) == 3
    assert run.lambda_invocations == 3


def test_unknown_lambda_is_a_task_failure(harness: SfnHarness) -> None:
    run = harness.run(head_then_wait_then_lambda(), {"key": "photos.tar"})
    assert (run.status, run.error) == ("FAILED", "States.Runtime")
    assert "no in-process handler for Lambda function" in run.cause


def post_progress(connection: str) -> dict:
    return {"StartAt": "Post", "States": {
        "Post": {"Type": "Task", "Resource": "arn:aws:states:::apigateway:invoke",
                 "Parameters": {"ApiEndpoint": "abc123defg.execute-api.us-east-1.amazonaws.com", "Method": "POST",
                                "Stage": "live", "Path": f"/@connections/{connection}",
                                "RequestBody": {"percent": 40}, "AuthType": "IAM_ROLE"},
                 "Catch": [{"ErrorEquals": ["ApiGateway.410"], "Next": "Gone"}], "End": True},
        "Gone": {"Type": "Succeed"}}}


def test_apigateway_invoke_posts_to_connections_and_answers_410_for_gone_ones(harness: SfnHarness) -> None:
    api = ConnectionsApi(gone={"c-gone"})
    with emulate_apigateway_invoke(api):
        delivered = harness.run(post_progress("c-1"))
        gone = harness.run(post_progress("c-gone"))
    assert delivered.states == ["Post"] and delivered.status == "SUCCEEDED"
    assert api.messages("c-1") == [{"percent": 40}]
    assert api.posts[0]["stage"] == "live" and api.posts[0]["auth"] == "IAM_ROLE"
    assert gone.states == ["Post", "Gone"]
    assert gone.task_failures()[0]["taskFailedEventDetails"]["error"] == "ApiGateway.410"


def test_eventbridge_rules_deliver_to_lambda_targets(harness: SfnHarness) -> None:
    import json

    target = "arn:aws:lambda:us-east-1:123456789012:function:report"
    events = harness.events
    events.put_rule(Name="progress", EventPattern=json.dumps({"source": ["orders"]}))
    events.put_targets(Rule="progress", Targets=[{"Id": "report", "Arn": target}])
    received = []
    with deliver_eventbridge_to_lambda({target: received.append}) as delivered:
        events.put_events(Entries=[{"Source": "orders", "DetailType": "Progress", "Detail": '{"percent": 40}'},
                                   {"Source": "other", "DetailType": "Progress", "Detail": "{}"}])
    assert [e["detail"] for e in received] == [{"percent": 40}]
    assert len(delivered) == 1
