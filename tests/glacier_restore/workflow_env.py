"""The GlacierRestore workflows as the component generates them, wired to moto resources of the same names.

`Deployed` runs the component under the offline engine in the harness's account and Region, then
creates in moto the bucket, table and SES sender the definitions name, so the executions below run the
exact definitions `pulumi up` would deploy.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from unittest import mock
from urllib.parse import quote_plus

import xmltodict
from moto.core import DEFAULT_ACCOUNT_ID
from moto.dynamodb.models import DynamoDBBackend
from moto.events.models import EventPattern
from moto.moto_api import state_manager
from moto.s3.models import FakeKey, s3_backends
from moto.ses.models import ses_backends

from serverless_patterns.glacier_restore import GlacierRestore, GlacierRestoreArgs
from serverless_patterns.lambdas.glacier_restore.cost_estimate import app as cost_app
from serverless_patterns.lambdas.glacier_restore.restore_state import app as state_app
from serverless_patterns.offline import CapturedStack, run_callable
from serverless_patterns.offline.sfn import REGION, Execution, SfnHarness

from .conftest import policy_of_role


@contextmanager
def restores_held_in_progress() -> Iterator[None]:
    """S3 takes hours over a restore: hold each one in progress until the test finishes it
    (`Archive.finish_restore`), instead of moto advancing it on reads."""
    state_manager.set_transition(model_name="s3::keyrestore", transition={"progression": "manual", "times": 10**6})
    started = FakeKey.restore

    def restore(key: FakeKey, days: int) -> None:
        started(key, days)
        key.status = "IN_PROGRESS"

    try:
        with mock.patch.object(FakeKey, "restore", restore):
            yield
    finally:
        state_manager.unset_transition("s3::keyrestore")

SENDER = "restores@research.example.org"
ALICE = f"arn:aws:sts::{DEFAULT_ACCOUNT_ID}:assumed-role/Researchers/alice"
BOB = f"arn:aws:iam::{DEFAULT_ACCOUNT_ID}:user/bob"
DEEP = "projects/genome-2019/run-42.tar"
FLEX = "projects/genome-2019/run-17.tar"
STANDARD = "projects/genome-2019/README.txt"
SIZES = {DEEP: 3 * 1024 * 1024, FLEX: 1024 * 1024, STANDARD: 2048}
ARGS: GlacierRestoreArgs = {"sender_email": SENDER, "storage_classes": ["GLACIER", "DEEP_ARCHIVE"],
                            "allowed_tiers": ["Standard", "Bulk"], "default_days": 7, "max_days": 30}


def matches(pattern: str, event: dict[str, Any]) -> bool:
    """EventBridge's pattern matching, as moto emulates it for rules."""
    return EventPattern.load(pattern).matches_event(event)


class LambdaContext:
    """The attributes Powertools reads from a Lambda context."""

    function_name = "glacier-restore-cost"
    memory_limit_in_mb = 256
    invoked_function_arn = f"arn:aws:lambda:{REGION}:{DEFAULT_ACCOUNT_ID}:function:glacier-restore-cost"
    aws_request_id = "c0ffee00-0000-4000-8000-000000000001"


@dataclass
class Deployed:
    """What the component registered, reduced to what the executions need."""

    stack: CapturedStack
    bucket: str
    table: str
    request_definition: str
    events_definition: str
    cost_arn: str
    state_arn: str
    cost_environment: dict[str, str]
    rule_patterns: dict[str, str]
    request_policy: str
    download_policy: str

    @classmethod
    def build(cls, args: GlacierRestoreArgs = ARGS) -> Deployed:
        stack = run_callable(lambda: GlacierRestore("gr", args), config={"aws:region": REGION},
                             account=DEFAULT_ACCOUNT_ID)
        cost = stack.one("aws:lambda/function:Function", "cost")
        return cls(
            stack=stack,
            bucket=stack.one("aws:s3/bucket:Bucket", "gr-archive").outputs["bucket"],
            table=stack.one("aws:dynamodb/table:Table", "gr-requests").outputs["name"],
            request_definition=stack.one("aws:sfn/stateMachine:StateMachine", "gr-request").inputs["definition"],
            events_definition=stack.one("aws:sfn/stateMachine:StateMachine", "gr-events").inputs["definition"],
            cost_arn=cost.outputs["arn"],
            state_arn=stack.one("aws:lambda/function:Function", "gr-state").outputs["arn"],
            cost_environment=dict(cost.inputs["environment"]["variables"]),
            rule_patterns={r.name: r.inputs["eventPattern"]
                           for r in stack.of_type("aws:cloudwatch/eventRule:EventRule")},
            request_policy=json.dumps(policy_of_role(stack, "gr-request-role")),
            download_policy=json.dumps(policy_of_role(stack, "gr-download-role")),
        )

    def harness(self, **kwargs: Any) -> SfnHarness:
        """A harness whose executions have the request workflow role's permissions (for S3's answers)."""
        return SfnHarness(role_policies=[self.request_policy], **kwargs)


@dataclass
class Archive:
    """The moto side: bucket with DEEP_ARCHIVE, GLACIER and STANDARD objects, table, SES, both machines."""

    h: SfnHarness
    deployed: Deployed
    restore_requests: list[dict[str, Any]] = field(default_factory=list)
    request_arn: str = ""
    events_arn: str = ""

    def setup(self, *, verify_sender: bool = True) -> Archive:
        d = self.deployed
        self.h.s3.create_bucket(Bucket=d.bucket)
        for key, storage_class in ((DEEP, "DEEP_ARCHIVE"), (FLEX, "GLACIER"), (STANDARD, "STANDARD")):
            self.h.s3.put_object(Bucket=d.bucket, Key=key, Body=b"\0" * SIZES[key], StorageClass=storage_class)
        self.h.dynamodb.create_table(
            TableName=d.table, BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "objectKey", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "objectKey", "AttributeType": "S"}])
        if verify_sender:
            self.h.sesv2.create_email_identity(EmailIdentity=SENDER)
        self.h.lambda_handlers[d.state_arn] = lambda payload: state_app.handler(payload, LambdaContext())
        self.request_arn = self.h.create(d.request_definition, name="gr-request", type_="EXPRESS")
        self.events_arn = self.h.create(d.events_definition, name="gr-events", type_="STANDARD")
        return self

    def spy_on_restores(self, monkeypatch: Any) -> None:
        """Record every RestoreRequest body S3 receives (moto accepts the tier but drops it)."""
        import moto.s3.responses as s3_responses

        recorded = self.restore_requests

        class RecordingXml:
            @staticmethod
            def parse(body: Any, *args: Any, **kwargs: Any) -> Any:
                parsed = xmltodict.parse(body, *args, **kwargs)
                if isinstance(parsed, dict) and "RestoreRequest" in parsed:
                    recorded.append({k: v for k, v in parsed["RestoreRequest"].items() if not k.startswith("@")})
                return parsed

            def __getattr__(self, name: str) -> Any:
                return getattr(xmltodict, name)

        monkeypatch.setattr(s3_responses, "xmltodict", RecordingXml())

    def request(self, body: dict[str, Any], principal: str = ALICE) -> Execution:
        """What API Gateway's request template sends: the body and the authenticated caller."""
        return self.h.run(self.deployed.request_definition, {
            "body": body, "caller": {"principal": principal, "sourceIp": "203.0.113.7"}},
            state_machine_arn=self.request_arn)

    def restore_event(self, kind: str, key: str, *, bucket: str | None = None) -> dict[str, Any]:
        """An S3 restore event as EventBridge delivers it: S3 URL-encodes the key ("red flower.jpg" arrives as
        "red+flower.jpg": https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html)."""
        detail: dict[str, Any] = {"version": "0", "bucket": {"name": bucket or self.deployed.bucket},
                                  "object": {"key": quote_plus(key, safe="/"), "size": SIZES.get(key, 1),
                                             "etag": "d41d8cd98f00b204"},
                                  "request-id": "N4N7GDK58NMKJ12R", "requester": "s3.amazonaws.com",
                                  "source-storage-class": "DEEP_ARCHIVE"}
        if kind == "Object Restore Completed":
            detail["restore-expiry-time"] = "2026-11-30T00:00:00Z"
        return {"version": "0", "id": "17793124-05d4-b198-2fde-7ededc63b103", "detail-type": kind,
                "source": "aws.s3", "account": DEFAULT_ACCOUNT_ID, "time": "2026-11-23T08:00:00Z",
                "region": REGION, "resources": [f"arn:aws:s3:::{bucket or self.deployed.bucket}"], "detail": detail}

    def complete(self, key: str, *, cost_handler: Any = None, kind: str = "Object Restore Completed") -> Execution:
        """Deliver a restore event to the events workflow (after checking a component rule matches it)."""
        event = self.restore_event(kind, key)
        matched = [name for name, pattern in self.deployed.rule_patterns.items() if matches(pattern, event)]
        assert len(matched) == 1, f"{kind} should match exactly one rule, matched {matched}"
        handler = cost_handler or (lambda payload: cost_app.handler(payload, LambdaContext()))
        return self.h.run(self.deployed.events_definition, event, state_machine_arn=self.events_arn,
                          lambda_results={self.deployed.cost_arn: handler})

    def complete_at_once(self, key: str, copies: int = 2) -> list[Execution]:
        """Deliver the same "Object Restore Completed" event `copies` times at once, as EventBridge may (at
        least once: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html, "EventBridge
        ... delivers an event to a target at least once"). Every execution reads the restore record before any
        of them writes it (a barrier in the table's GetItem for this key), the interleaving that makes two
        workflows see the same restore in progress."""
        event = self.restore_event("Object Restore Completed", key)
        self.h.lambda_handlers[self.deployed.cost_arn] = lambda payload: cost_app.handler(payload, LambdaContext())
        barrier = threading.Barrier(copies, timeout=60)
        original = DynamoDBBackend.get_item
        table = self.deployed.table

        waiting = [copies]  # the first read of each execution waits (moto's UpdateItem reads through here too)

        def get_item(backend: Any, table_name: str, keys: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
            if table_name == table and keys.get("objectKey") == {"S": key} and waiting[0] > 0:
                waiting[0] -= 1
                barrier.wait()
            return original(backend, table_name, keys, *args, **kwargs)

        with mock.patch.object(DynamoDBBackend, "get_item", get_item):
            started = [self.h.stepfunctions.start_execution(
                stateMachineArn=self.events_arn, name=f"duplicate-{n}-{uuid.uuid4().hex[:8]}",
                input=json.dumps(event))["executionArn"] for n in range(copies)]
            return [self.h.wait(arn) for arn in started]

    def finish_restore(self, key: str) -> None:
        """S3 finishes the restore: the object's x-amz-restore turns to ongoing-request="false"."""
        s3_backends[DEFAULT_ACCOUNT_ID]["aws"].get_object(self.deployed.bucket, key).status = "RESTORED"

    def record(self, key: str) -> dict[str, Any] | None:
        return self.h.dynamodb.get_item(TableName=self.deployed.table, Key={"objectKey": {"S": key}},
                                        ConsistentRead=True).get("Item")

    def sent(self) -> list[Any]:
        return list(ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages)
