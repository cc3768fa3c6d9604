"""GlacierRestore figures, measured by executing the generated workflows in moto's Step Functions engine.

- state transitions of the EXPRESS request workflow per outcome (new restore, joining an ongoing one,
  already restored, a malformed request) and its Lambda invocations (the request path needs none);
- state transitions of the STANDARD restore-events workflow per completion (billed per transition),
  for one and for five requesters, and per expiry; its Lambda invocations per completion.
"""

from __future__ import annotations

import importlib
import io
import os
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout
from typing import Any
from unittest import mock

from moto.core import DEFAULT_ACCOUNT_ID
from moto.moto_api import state_manager
from moto.s3.models import FakeKey, s3_backends

from serverless_patterns.glacier_restore import GlacierRestore
from serverless_patterns.offline import run_callable
from serverless_patterns.offline.sfn import REGION, Execution, SfnHarness

SENDER = "restores@research.example.org"
KEY = "projects/genome-2019/run-42.tar"
CALLER = {"principal": f"arn:aws:iam::{DEFAULT_ACCOUNT_ID}:user/bench", "sourceIp": "203.0.113.7"}


class _Context:
    function_name = "bench-cost"
    memory_limit_in_mb = 256
    invoked_function_arn = f"arn:aws:lambda:{REGION}:{DEFAULT_ACCOUNT_ID}:function:bench-cost"
    aws_request_id = "bench"


@contextmanager
def _ongoing_restores() -> Iterator[None]:
    """Restores stay ongoing until finished by hand (moto finishes them at once)."""
    original = FakeKey.restore

    def restore(key: FakeKey, days: int) -> None:
        original(key, days)
        key.status = "IN_PROGRESS"

    state_manager.set_transition(model_name="s3::keyrestore", transition={"progression": "manual", "times": 10**6})
    try:
        with mock.patch.object(FakeKey, "restore", restore):
            yield
    finally:
        state_manager.unset_transition("s3::keyrestore")


def _measure() -> dict[str, Execution | list[Execution]]:
    stack = run_callable(lambda: GlacierRestore("bench", {"sender_email": SENDER}), config={"aws:region": REGION},
                         account=DEFAULT_ACCOUNT_ID)
    bucket = stack.one("aws:s3/bucket:Bucket", "bench-archive").outputs["bucket"]
    table = stack.one("aws:dynamodb/table:Table", "bench-requests").outputs["name"]
    request_def = stack.one("aws:sfn/stateMachine:StateMachine", "bench-request").inputs["definition"]
    events_def = stack.one("aws:sfn/stateMachine:StateMachine", "bench-events").inputs["definition"]
    cost = stack.one("aws:lambda/function:Function", "cost")
    # The function's own environment; its logs and metrics stay out of the figures' output.
    env = {**cost.inputs["environment"]["variables"], "USE_PRICE_LIST": "false", "POWERTOOLS_TRACE_DISABLED": "1",
           "POWERTOOLS_LOG_LEVEL": "WARNING"}
    runs: dict[str, Any] = {}
    with (mock.patch.dict(os.environ, env), redirect_stdout(io.StringIO()), SfnHarness() as h,
          _ongoing_restores()):
        from serverless_patterns.lambdas.glacier_restore.cost_estimate import app as cost_app

        cost_app = importlib.reload(cost_app)

        h.s3.create_bucket(Bucket=bucket)
        h.s3.put_object(Bucket=bucket, Key=KEY, Body=b"\0" * 4096, StorageClass="DEEP_ARCHIVE")
        h.dynamodb.create_table(TableName=table, BillingMode="PAY_PER_REQUEST",
                                KeySchema=[{"AttributeName": "objectKey", "KeyType": "HASH"}],
                                AttributeDefinitions=[{"AttributeName": "objectKey", "AttributeType": "S"}])
        h.sesv2.create_email_identity(EmailIdentity=SENDER)
        request_arn = h.create(request_def, name="bench-request", type_="EXPRESS")
        events_arn = h.create(events_def, name="bench-events")
        from serverless_patterns.lambdas.glacier_restore.restore_state import app as state_app

        state = stack.one("aws:lambda/function:Function", "bench-state")
        lambdas = {cost.outputs["arn"]: lambda payload: cost_app.handler(payload, _Context()),
                   state.outputs["arn"]: lambda payload: state_app.handler(payload, _Context())}
        h.lambda_handlers.update(lambdas)

        def request(email: str, **body: Any) -> Execution:
            return h.run(request_def, {"body": {"key": KEY, "email": email, **body}, "caller": CALLER},
                         state_machine_arn=request_arn)

        def event(kind: str) -> Execution:
            detail = {"bucket": {"name": bucket}, "object": {"key": KEY, "size": 4096},
                      "restore-expiry-time": "2026-11-30T00:00:00Z", "source-storage-class": "DEEP_ARCHIVE"}
            return h.run(events_def, {"detail-type": kind, "source": "aws.s3", "time": "2026-11-23T08:00:00Z",
                                      "region": REGION, "detail": detail},
                         state_machine_arn=events_arn, lambda_results=lambdas)

        runs["malformed"] = request("not-an-email")
        runs["new"] = request("r0@research.example.org", tier="Bulk", days=3)
        runs["joined"] = [request(f"r{i}@research.example.org") for i in range(1, 5)]
        s3_backends[DEFAULT_ACCOUNT_ID]["aws"].get_object(bucket, KEY).status = "RESTORED"
        runs["completed-5"] = event("Object Restore Completed")
        runs["restored"] = request("late@research.example.org", days=1)  # within the copy's remaining days
        runs["expired"] = event("Object Restore Expired")
        s3_backends[DEFAULT_ACCOUNT_ID]["aws"].get_object(bucket, KEY).set_expiry(None)  # the copy is gone
        runs["new-2"] = request("solo@research.example.org", tier="Standard")
        s3_backends[DEFAULT_ACCOUNT_ID]["aws"].get_object(bucket, KEY).status = "RESTORED"
        runs["completed-1"] = event("Object Restore Completed")
    expected = {"malformed": None, "new": "restore-started", "joined": "joined-restore",
                "completed-5": "requesters-notified", "restored": "already-restored", "expired": "expired",
                "new-2": "restore-started", "completed-1": "requesters-notified"}
    for name, run in runs.items():
        for one in run if isinstance(run, list) else [run]:
            outcome = (one.output or {}).get("outcome")
            if (one.status, outcome) != (("FAILED", None) if name == "malformed" else ("SUCCEEDED", expected[name])):
                raise RuntimeError(f"benchmark scenario {name} ended {outcome}: {one.describe()}")
    return runs


def figures() -> list[tuple[str, str]]:
    runs = _measure()
    new, joined, restored = runs["new"], runs["joined"][0], runs["restored"]
    one, five = runs["completed-1"], runs["completed-5"]
    request_lambdas = sum(r.lambda_invocations for r in (new, restored, runs["malformed"], *runs["joined"]))
    per_requester = (five.transitions - one.transitions) / 4
    notified = len(five.output["notifications"])
    return [
        ("glacier restore: request transitions, new restore (EXPRESS)", str(new.transitions)),
        ("glacier restore: request transitions, joining an ongoing restore", str(joined.transitions)),
        ("glacier restore: request transitions, already restored", str(restored.transitions)),
        ("glacier restore: request transitions, malformed request", str(runs["malformed"].transitions)),
        ("glacier restore: Lambda invocations on the request path (7 requests)", str(request_lambdas)),
        ("glacier restore: completion transitions, 1 requester (STANDARD)", str(one.transitions)),
        (f"glacier restore: completion transitions, {notified} requesters", str(five.transitions)),
        ("glacier restore: completion transitions per extra requester", f"{per_requester:g}"),
        ("glacier restore: Lambda invocations per completion", str(one.lambda_invocations)),
        ("glacier restore: expiry transitions", str(runs["expired"].transitions)),
    ]


if __name__ == "__main__":
    for label, value in figures():
        print(f"{label:<72} {value}")
