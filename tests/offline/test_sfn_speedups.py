"""The harness's speedups change no answer: one workflow that exercises what they touch (a Distributed Map of
batches from an S3 CSV, inline Maps, DynamoDB and AWS SDK tasks with Catch and Retry, a timed Task, a Parallel, a
Lambda task, a Wait, an escaped string literal and an intrinsic function read for every item) gives the same
history, output and side effects with none of them, with each alone, and with all of them."""

from __future__ import annotations

import copy
import json
import re
from collections import OrderedDict
from typing import Any

import pytest

from serverless_patterns.offline.sfn import SPEEDUPS, FunctionNames, SfnHarness, json_deepcopy

BUCKET = "speedup-archive"
RECORDS = "speedup-records"
COUNTS = "speedup-counts"
FN = "arn:aws:lambda:us-east-1:123456789012:function:speedup-double"
#: Archived objects, one twice (its second claim joins the first), one missing, one not archived (S3 refuses it).
KEYS = ["a.dat", "b.dat", "a.dat", "missing.dat", "plain.dat", "c.dat", "d.dat"]


def _ddb(action: str) -> str:
    return f"arn:aws:states:::dynamodb:{action}"


def per_object_states() -> dict[str, Any]:
    return {
        "Claim": {"Type": "Task", "Resource": _ddb("putItem"),
                  "Parameters": {"TableName": RECORDS,
                                 "Item": {"objectKey": {"S.$": "$.key"}, "run": {"S.$": "$.run"},
                                          "enteredAt": {"S.$": "$$.State.EnteredTime"}},
                                 "ConditionExpression": "attribute_not_exists(objectKey)"},
                  "ResultPath": None,
                  "Catch": [{"ErrorEquals": ["DynamoDB.ConditionalCheckFailedException"], "ResultPath": "$.claim",
                             "Next": "Join"}],
                  "Next": "RestoreObject"},
        "Join": {"Type": "Task", "Resource": _ddb("updateItem"),
                 "Parameters": {"TableName": RECORDS, "Key": {"objectKey": {"S.$": "$.key"}},
                                "UpdateExpression": "ADD joined :one",
                                "ExpressionAttributeValues": {":one": {"N": "1"}}, "ReturnValues": "ALL_NEW"},
                 "ResultSelector": {"joined.$": "$.Attributes.joined.N"}, "ResultPath": "$.join",
                 "Next": "RestoreObject"},
        "RestoreObject": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:s3:restoreObject",
                          "TimeoutSeconds": 60,  # keeps moto's thread and timeout (inline_untimed_states)
                          "Parameters": {"Bucket": BUCKET, "Key.$": "$.key",
                                         "RestoreRequest": {"Days": 1, "GlacierJobParameters": {"Tier": "Bulk"}}},
                          "ResultPath": "$.restore",
                          "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.failure", "Next": "Failed"}],
                          "Next": "Count"},
        "Count": {"Type": "Task", "Resource": _ddb("updateItem"),
                  "Parameters": {"TableName": COUNTS, "Key": {"id": {"S": "total"}},
                                 "UpdateExpression": "ADD requested :one",
                                 "ExpressionAttributeValues": {":one": {"N": "1"}}, "ReturnValues": "UPDATED_NEW"},
                  "ResultSelector": {"n.$": "$.Attributes.requested.N"}, "ResultPath": "$.count", "Next": "Done"},
        # A string literal with escapes and an intrinsic function, read again for every item (asl_trees).
        "Done": {"Type": "Pass", "Parameters": {"label": "tab\there, quote \" and \u00e9",
                                                "note.$": "States.Format('{} of run {}', $.key, $.run)"},
                 "ResultPath": "$.done", "End": True},
        "Failed": {"Type": "Pass", "Parameters": {"key.$": "$.key", "error.$": "$.failure.Error"}, "End": True},
    }


def definition() -> dict[str, Any]:
    return {"StartAt": "Restore", "States": {
        "Restore": {
            "Type": "Map",
            "ItemReader": {"Resource": "arn:aws:states:::s3:getObject",
                           "ReaderConfig": {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW"},
                           "Parameters": {"Bucket": BUCKET, "Key.$": "$.itemsKey"}},
            "ItemBatcher": {"MaxItemsPerBatch": 3, "BatchInput": {"run.$": "$.run"}},
            "MaxConcurrency": 2, "ToleratedFailurePercentage": 100,
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"}, "StartAt": "Each",
                "States": {
                    "Each": {"Type": "Map", "ItemsPath": "$.Items", "MaxConcurrency": 3,
                             "ItemSelector": {"key.$": "$$.Map.Item.Value.Key", "index.$": "$$.Map.Item.Index",
                                              "run.$": "$.BatchInput.run"},
                             "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "Claim",
                                               "States": per_object_states()},
                             "ResultPath": "$.results", "Next": "Pace"},
                    "Pace": {"Type": "Wait", "Seconds": 5, "Next": "Out"},
                    "Out": {"Type": "Pass", "Parameters": {"results.$": "$.results"}, "End": True}}},
            "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject",
                             "Parameters": {"Bucket": BUCKET, "Prefix": "results"}},
            "ResultPath": "$.mapRun", "Next": "Both"},
        # One branch: branches run on threads of their own, so two would interleave their events at random.
        "Both": {"Type": "Parallel", "ResultPath": "$.after", "Next": "Double", "Branches": [
            {"StartAt": "Total", "States": {
                "Total": {"Type": "Task", "Resource": _ddb("getItem"),
                          "Parameters": {"TableName": COUNTS, "Key": {"id": {"S": "total"}}, "ConsistentRead": True},
                          "ResultSelector": {"requested.$": "$.Item.requested.N"}, "Next": "Enough"},
                "Enough": {"Type": "Choice", "Default": "TooFew",
                           "Choices": [{"Variable": "$.requested", "StringEquals": "5", "Next": "Finished"}]},
                "TooFew": {"Type": "Fail", "Error": "TooFew", "Cause": "not every archived object was requested"},
                "Finished": {"Type": "Succeed"}}}]},
        "Double": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                   "Parameters": {"FunctionName": FN, "Payload": {"n.$": "States.StringToJson($$.Execution.Input.n)"}},
                   "ResultSelector": {"value.$": "$.Payload.value"}, "ResultPath": "$.doubled",
                   "Retry": [{"ErrorEquals": ["Flaky"], "IntervalSeconds": 30, "MaxAttempts": 2}], "End": True}}}


_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_REQUEST_ID = re.compile(r"Request ID: [^;)]+")
_TIME = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?")


def normalised(value: Any) -> Any:
    """Generated ids numbered by first appearance, times and request ids blanked: the rest must match."""
    text = json.dumps(value, default=str, sort_keys=True)
    ids: dict[str, str] = {}
    text = _UUID.sub(lambda m: ids.setdefault(m.group(), f"<id{len(ids)}>"), text)
    return json.loads(_REQUEST_ID.sub("Request ID: <id>", _TIME.sub("<time>", text)))


def run_workflow(speedups: tuple[str, ...]) -> dict[str, Any]:
    """Everything an execution leaves behind, with the given speedups."""
    calls: list[Any] = []

    def double(payload: dict[str, Any]) -> dict[str, Any]:
        calls.append(payload)
        if len(calls) == 1:
            raise type("Flaky", (Exception,), {})("once")
        return {"value": payload["n"] * 2}

    with SfnHarness(speedups=speedups) as h:
        h.s3.create_bucket(Bucket=BUCKET)
        for key in ("a.dat", "b.dat", "c.dat", "d.dat"):
            h.s3.put_object(Bucket=BUCKET, Key=key, Body=b"x" * len(key), StorageClass="DEEP_ARCHIVE")
        h.s3.put_object(Bucket=BUCKET, Key="plain.dat", Body=b"x")
        h.s3.put_object(Bucket=BUCKET, Key="items.csv", Body=("Key\n" + "\n".join(KEYS) + "\n").encode())
        for table, key in ((RECORDS, "objectKey"), (COUNTS, "id")):
            h.dynamodb.create_table(TableName=table, BillingMode="PAY_PER_REQUEST",
                                    KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
                                    AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}])
        run = h.run(definition(), {"itemsKey": "items.csv", "run": "r-1", "n": "21"}, lambda_results={FN: double})
        objects = sorted(o["Key"] for o in h.s3.list_objects_v2(Bucket=BUCKET)["Contents"])
        return normalised({
            "status": run.status, "error": run.error, "cause": run.cause, "output": run.output,
            "history": run.history, "batches": h.map_batches,
            "records": sorted(h.dynamodb.scan(TableName=RECORDS)["Items"], key=lambda i: i["objectKey"]["S"]),
            "counts": h.dynamodb.scan(TableName=COUNTS)["Items"], "lambda": calls,
            "restores": {k: h.s3.head_object(Bucket=BUCKET, Key=k).get("Restore") for k in objects
                         if not k.startswith("results/")},
            "results": {k: h.s3.get_object(Bucket=BUCKET, Key=k)["Body"].read().decode() for k in objects
                        if k.startswith("results/")},
        })


@pytest.fixture(scope="module")
def without_speedups() -> dict[str, Any]:
    return run_workflow(())


def test_the_workflow_covers_what_the_speedups_touch(without_speedups: dict[str, Any]) -> None:
    """The reference run itself: every path above was taken (else the comparison proves little)."""
    run = without_speedups
    assert run["status"] == "SUCCEEDED", run
    assert [len(b["Items"]) for b in run["batches"][0]] == [3, 3, 1]
    results = [r for batch in run["results"].values() if batch.startswith("[")
               for child in json.loads(batch) for r in json.loads(child["Output"])["results"]]
    assert [r.get("error") for r in results] == [None, None, None, "S3.NoSuchKeyException",
                                                 "S3.InvalidObjectStateException", None, None]
    assert results[2]["join"] == {"joined": "1"} and results[1]["count"] == {"n": "2"}
    assert results[0]["done"] == {"label": "tab\there, quote \" and \u00e9", "note": "a.dat of run r-1"}
    assert run["output"]["after"] == [{"requested": "5"}] and run["output"]["doubled"] == {"value": 42}
    assert len(run["lambda"]) == 2  # the first attempt failed and was retried
    assert {k for k, v in run["restores"].items() if v} == {"a.dat", "b.dat", "c.dat", "d.dat"}
    types = {e["type"] for e in run["history"]}
    assert {"MapRunStarted", "ParallelStateEntered", "TaskFailed", "TaskSucceeded"} <= types


@pytest.mark.parametrize("speedups", [(name,) for name in SPEEDUPS] + [SPEEDUPS], ids=[*SPEEDUPS, "all"])
def test_each_speedup_changes_no_answer(without_speedups: dict[str, Any], speedups: tuple[str, ...]) -> None:
    assert run_workflow(speedups) == without_speedups


def test_unknown_speedups_are_refused() -> None:
    with pytest.raises(ValueError, match="speedups must be among"):
        SfnHarness(speedups=["fast"])


class Slotted:
    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __repr__(self) -> str:
        return f"Slotted({self.value!r})"


def test_json_deepcopy_returns_what_deepcopy_returns() -> None:
    shared = {"k": [1, 2.5, None, True, "s"]}
    ordered = OrderedDict([("b", shared), ("a", [shared])])
    values: list[Any] = [
        "text", 3, 2.5, None, False, {"a": {"b": [1, {"c": "d"}]}}, [[], {}, ""],
        {"one": shared, "two": shared, "list": [shared, shared]}, ordered, (1, [2]), {(1, 2): "tuple key"},
        {"slotted": Slotted([1, 2])}, {"bytes": b"raw", "set": {1, 2}},
    ]
    looped: list[Any] = [1]
    looped.append(looped)
    values.append(looped)
    marked = OrderedDict(x=1)
    marked.note = "instance attribute"  # type: ignore[attr-defined]
    values.append(marked)
    for value in values:
        expected, got = copy.deepcopy(value), json_deepcopy(value)
        assert type(got) is type(expected) and repr(got) == repr(expected)
        if isinstance(value, (dict, list)):
            assert got is not value
    one = json_deepcopy({"one": shared, "two": shared})
    assert one["one"] is one["two"] and one["one"] is not shared  # shared members stay shared, as deepcopy keeps them
    again = json_deepcopy(looped)
    assert again[1] is again
    assert json_deepcopy(marked).note == "instance attribute"
    twice = json_deepcopy(ordered)
    assert twice["a"][0] is twice["b"] and type(twice) is OrderedDict


#: moto's response modules of the services the tests use.
RESPONSE_MODULES = ("s3", "dynamodb", "stepfunctions", "sesv2", "ses", "awslambda", "events", "cognitoidp",
                    "apigateway", "apigatewaymanagementapi", "sts", "iam", "sqs", "sns", "ssm", "kms", "ecr", "logs")


def test_the_action_lookup_answers_as_moto_s_method_list() -> None:
    """`FunctionNames` holds a name exactly when moto's own `method_names_from_class` lists it, for every name of
    every response class (functions, static methods, properties, attributes, inherited or not) and names absent."""
    import importlib

    from moto.core.responses import BaseResponse
    from moto.core.utils import method_names_from_class

    for service in RESPONSE_MODULES:
        importlib.import_module(f"moto.{service}.responses")
    classes, pending = [], [BaseResponse]
    while pending:
        clazz = pending.pop()
        classes.append(clazz)
        pending.extend(clazz.__subclasses__())
    assert len(classes) > len(RESPONSE_MODULES)
    for clazz in classes:
        listed = set(method_names_from_class(clazz))
        names = FunctionNames(clazz)
        assert FunctionNames.answers_for(clazz), clazz
        for name in [*dir(clazz), "no_such_action", "", "list_objects_v3", "__class__", "mro"]:
            assert (name in names) == (name in listed), (clazz, name)


def test_moto_dispatch_uses_the_lookup() -> None:
    from moto.core import responses

    assert responses.method_names_from_class is FunctionNames  # the session fixture (tests/conftest.py) is on
