"""The Step Functions harness: moto executes definitions, adapted where moto differs from AWS."""

import json

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from serverless_patterns.offline.sfn import (
    HEAD_404_ERRORS,
    ConnectionsApi,
    SfnHarness,
    aws_error_names,
    deliver_eventbridge_to_lambda,
    dynamodb_error_name,
    emulate_apigateway_invoke,
    emulate_missing_key_access,
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


def _policy(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


READ_OBJECTS = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{BUCKET}/*"}
LIST_BUCKET = {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{BUCKET}"}
LIST_OBJECTS_ONLY = {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{BUCKET}/*"}


def head(key: str) -> dict:
    return {"StartAt": "Head", "States": {"Head": {
        "Type": "Task", "Resource": "arn:aws:states:::aws-sdk:s3:headObject",
        "Parameters": {"Bucket": BUCKET, "Key": key}, "End": True}}}


@pytest.mark.parametrize("shape", HEAD_404_ERRORS)
def test_a_head_on_a_missing_key_surfaces_in_either_shape_the_sdk_gives_it(shape: str) -> None:
    with SfnHarness(head_404_error=shape) as h:
        h.s3.create_bucket(Bucket=BUCKET)
        run = h.run(head("missing.tar"))
    [failure] = run.task_failures()
    assert failure["taskFailedEventDetails"]["error"] == shape
    assert "Status Code: 404" in failure["taskFailedEventDetails"]["cause"]


@pytest.mark.parametrize(("statements", "status"), [
    ([READ_OBJECTS], "403"), ([READ_OBJECTS, LIST_OBJECTS_ONLY], "403"), ([READ_OBJECTS, LIST_BUCKET], "404")])
def test_a_missing_key_is_a_403_without_list_bucket_on_the_bucket(statements: list, status: str) -> None:
    """S3 API reference, HeadObject "Permissions": https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html"""
    with SfnHarness(role_policies=[_policy(*statements)]) as h:
        h.s3.create_bucket(Bucket=BUCKET)
        h.s3.put_object(Bucket=BUCKET, Key="there.tar", Body=b"1")
        run = h.run(head("missing.tar"))
        assert h.run(head("there.tar")).status == "SUCCEEDED"  # existing keys answer as before
    [failure] = run.task_failures()
    expected = "S3.S3Exception" if status == "403" else "S3.NoSuchKeyException"
    assert failure["taskFailedEventDetails"]["error"] == expected
    assert f"Status Code: {status}" in failure["taskFailedEventDetails"]["cause"]


def test_missing_key_access_applies_to_clients_outside_the_harness_too() -> None:
    with mock_aws(), emulate_missing_key_access([_policy(READ_OBJECTS)]):
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        for call in (lambda: s3.head_object(Bucket=BUCKET, Key="missing.tar"),
                     lambda: s3.get_object(Bucket=BUCKET, Key="missing.tar")):
            with pytest.raises(ClientError) as raised:
                call()
            assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


@pytest.mark.parametrize(("code", "name"), [
    ("ConditionalCheckFailedException", "DynamoDB.ConditionalCheckFailedException"),
    ("RequestLimitExceeded", "DynamoDB.RequestLimitExceededException"),
    ("InternalServerError", "DynamoDB.InternalServerErrorException"),
    ("ValidationException", "DynamoDB.AmazonDynamoDBException"),
])
def test_dynamodb_errors_carry_the_sdk_class_names(code: str, name: str) -> None:
    assert dynamodb_error_name(code) == name
    assert name in aws_error_names("arn:aws:states:::dynamodb:updateItem")


def test_error_names_aws_cannot_raise_are_known_as_such() -> None:
    s3 = aws_error_names("arn:aws:states:::aws-sdk:s3:headObject")
    assert {"S3.NoSuchKeyException", "S3.S3Exception", "S3.SdkClientException"} <= s3
    assert "S3.InternalErrorException" not in s3
    assert "DynamoDB.RequestLimitExceeded" not in aws_error_names("arn:aws:states:::dynamodb:putItem")
    assert "Lambda.TooManyRequestsException" in aws_error_names("arn:aws:states:::lambda:invoke")
    assert aws_error_names("arn:aws:states:::events:putEvents") is None
