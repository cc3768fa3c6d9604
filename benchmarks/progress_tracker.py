"""ProgressTracker figures: what one progress update costs in each reporting mode.

Measured by executing the demo order workflow (five progress updates) in moto's Step
Functions engine through `components/offline/sfn.py`, once without reporting and once per
mode, with connections registered and the order started by the real route handlers:

- state transitions per update = (transitions with reporting - without) / updates;
- Lambda invocations per update = ReportProgress runs (from the workflow, or from the
  EventBridge rule) / updates;
- @connections posts per update.

Step Functions bills Standard workflows per state transition, and the direct mode's
transitions grow with the number of connections following the execution (one Map
iteration each), so direct mode is measured with one and with three followers.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

from serverless_patterns.core.packaging import SHARED_DIR

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "tests" / "progress_tracker"
WEBSOCKET = ROOT / "lambdas" / "progress_tracker" / "websocket"
REGION = "eu-west-1"
ACCOUNT = "123456789012"
TABLE = "progress-bench"
API_HOST = f"abcdef1234.execute-api.{REGION}.amazonaws.com"
STAGE = "live"
REPORT_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:progress-report"
BUS = "progress-bench"
ENV = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": REGION,
       "POWERTOOLS_TRACE_DISABLED": "1", "POWERTOOLS_METRICS_DISABLED": "1", "POWERTOOLS_LOG_LEVEL": "ERROR",
       "POWERTOOLS_METRICS_NAMESPACE": "Bench", "TABLE_NAME": TABLE,
       "CALLBACK_URL": f"https://{API_HOST}/{STAGE}", "CONNECTION_TTL_HOURS": "3", "PROGRESS_TTL_HOURS": "48"}

Figures = list[tuple[str, str]]


@contextmanager
def _environment() -> Iterator[None]:
    # The handlers import the shared Lambda modules as their archives hold them, at the top level.
    for path in (str(SHARED_DIR), str(TESTS), str(WEBSOCKET)):
        if path not in sys.path:
            sys.path.insert(0, path)
    with mock.patch.dict(os.environ, ENV):
        yield


def _measure(mode: str, followers: int) -> dict[str, float]:
    """Run the demo once without and once with reporting in `mode`; per-update figures."""
    import on_connect
    import on_start
    import report_progress
    from progress_support import Context, create_table, ws_event

    from serverless_patterns.offline.sfn import (
        ConnectionsApi,
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
    )

    for module in (on_connect, on_start, report_progress):
        __import__("progress_store").reset_shared_store()
        for attr in ("store", "sfn", "management"):
            if hasattr(module, attr):
                setattr(module, attr, None)
    target = {"direct": ReportingTarget.direct(TABLE, API_HOST, STAGE),
              "lambda": ReportingTarget.lambda_function(REPORT_ARN),
              "eventbridge": ReportingTarget.eventbridge(BUS)}[mode]
    reports: list[Any] = []

    def report(payload: Any) -> Any:
        reports.append(payload)
        return report_progress.handler(payload, Context())

    api = ConnectionsApi()
    with SfnHarness(region=REGION) as h, emulate_apigateway_invoke(api), \
            deliver_eventbridge_to_lambda({REPORT_ARN: report}):
        create_table(h.dynamodb, TABLE)
        h.events.create_event_bus(Name=BUS)
        h.events.put_rule(Name="report", EventBusName=BUS, EventPattern=json.dumps(event_pattern()))
        h.events.put_targets(Rule="report", EventBusName=BUS, Targets=[{"Id": "report", "Arn": REPORT_ARN}])
        h.lambda_handlers[REPORT_ARN] = report
        baseline = h.run(demo_order_definition(0), {"order": {}, "requestId": "bench"})
        arn = h.create(demo_order_workflow(target, 0))
        with mock.patch.dict(os.environ, {"STATE_MACHINE_ARN": arn}):
            execution = ""
            for index in range(followers):
                connection = f"conn-{index}"
                on_connect.handler(ws_event("$connect", connection,
                                            headers={"Sec-WebSocket-Protocol": "session-bench"}), Context())
                reply = on_start.handler(ws_event("start", connection, {"action": "start",
                                                                        "requestId": "req-bench-1"}), Context())
                execution = json.loads(reply["body"])["executionId"]
        run = h.wait(arn.replace(":stateMachine:", ":execution:") + ":" + execution)
        if run.status != "SUCCEEDED" or baseline.status != "SUCCEEDED":
            raise RuntimeError(f"benchmark run failed: {run.describe()}")
        posts = _posted_messages()
    updates = len(DEMO_POINTS)
    return {"transitions": (run.transitions - baseline.transitions) / updates,
            "lambdas": len(reports) / updates, "posts": posts / updates}


def _posted_messages() -> int:
    """Messages that reached connections, read back from moto's @connections backend (all modes)."""
    from moto.apigatewaymanagementapi.models import apigatewaymanagementapi_backends

    decoder, count = json.JSONDecoder(), 0
    for connection in apigatewaymanagementapi_backends[ACCOUNT][REGION].connections.values():
        text, index = connection.data.decode(), 0
        while index < len(text):
            _, index = decoder.raw_decode(text, index)
            count += 1
    return count


def figures() -> Figures:
    out: Figures = []
    with _environment():
        for mode, followers in (("direct", 1), ("direct", 3), ("lambda", 1), ("lambda", 3), ("eventbridge", 1)):
            measured = _measure(mode, followers)
            label = f"{mode}, {followers} follower{'s' if followers > 1 else ''}"
            out.append((f"{label}: state transitions per update", f"{measured['transitions']:.1f}"))
            out.append((f"{label}: Lambda invocations per update", f"{measured['lambdas']:.1f}"))
            out.append((f"{label}: @connections posts per update", f"{measured['posts']:.1f}"))
    return out


if __name__ == "__main__":
    for name, value in figures():
        print(f"{name:<55} {value}")
