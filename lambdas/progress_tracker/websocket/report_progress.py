"""ReportProgress: store an execution's latest progress and push it to every connection following it.

Invoked by a workflow's Lambda task (payload = a progress update) or by the EventBridge rule
(the update is the event's `detail`). Notifications never fail the workflow:
- a message over API Gateway's 128 KB limit is refused before anything is sent or stored;
- a connection that is gone (`GoneException`, HTTP 410) is removed from the table;
- other post errors are retried by botocore (standard mode), then counted and skipped; when
  EventBridge delivered the update (an asynchronous invocation), the function then fails so
  Lambda retries it and finally sends it to the dead-letter queue (the decoupled mode's retries).
The progress record is written before the fan-out, so a failed push never loses it.
"""

from __future__ import annotations

import os
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError
from progress_messages import PROGRESS_SCHEMA, ProgressUpdate, compiled, progress_update
from progress_protocol import MAX_MESSAGE_BYTES, ProtocolError, encode
from progress_store import RETRIES, Store, shared_store

logger = Logger()
# Only botocore makes outbound calls here: patching every module X-Ray supports would import requests,
# httpx & co. on each cold start (https://docs.powertools.aws.dev/lambda/python/latest/core/tracer/).
tracer = Tracer(patch_modules=("botocore",))
metrics = Metrics()
valid_update = compiled(PROGRESS_SCHEMA)
management: Any = None


def clients() -> tuple[Store, Any]:
    global management
    if management is None:
        management = boto3.client("apigatewaymanagementapi", endpoint_url=os.environ["CALLBACK_URL"],
                                  config=RETRIES)
    return shared_store(), management


def is_gone(error: ClientError) -> bool:
    """A 410 from @connections: the client disconnected (botocore's Error.Code is 'GoneException')."""
    return (error.response.get("Error", {}).get("Code") == "GoneException"
            or error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 410)


class DeliveryFailed(RuntimeError):
    """Some followers could not be reached; raised only for asynchronous (EventBridge) invocations."""


def from_eventbridge(event: dict[str, Any]) -> bool:
    return "detail-type" in event and isinstance(event.get("detail"), dict)


def update_of(event: dict[str, Any]) -> dict[str, Any]:
    """The progress update: the event itself, or the `detail` of an EventBridge event."""
    if from_eventbridge(event):
        return event["detail"]
    return event


@metrics.log_metrics
@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        update = progress_update(valid_update, update_of(event))
    except ProtocolError as error:
        # Bad input is answered, not raised: a retry (Step Functions or EventBridge) cannot fix it.
        logger.warning("invalid progress update", extra={"detail": error.message})
        metrics.add_metric(name="ProgressRejected", unit=MetricUnit.Count, value=1)
        return {"delivered": 0, "gone": 0, "failed": 0, "refused": error.message}
    result = report(update)
    if result["failed"] and from_eventbridge(event):
        # The workflow is not waiting; let Lambda's async retries (then the DLQ) try again.
        raise DeliveryFailed(f"{result['failed']} of {result['failed'] + result['delivered']} followers of "
                             f"{update['executionId']} could not be reached")
    return result


def report(update: ProgressUpdate) -> dict[str, Any]:
    db, api = clients()
    message = {"type": "progress", "executionId": update["executionId"], "percent": update["percent"],
               "message": update["message"], "step": update["step"], "status": update["status"],
               "updatedAt": db.timestamp()}
    data = encode(message)
    if len(data) > MAX_MESSAGE_BYTES:
        logger.warning("progress message too large", extra={"bytes": len(data), "execution": update["executionId"]})
        metrics.add_metric(name="ProgressRefused", unit=MetricUnit.Count, value=1)
        return {"delivered": 0, "gone": 0, "failed": 0,
                "refused": f"message of {len(data)} bytes exceeds {MAX_MESSAGE_BYTES} bytes"}
    stored = db.save_progress(update["executionId"], update["percent"], update["message"], update["step"],
                              update["status"])
    delivered = gone = failed = 0
    for connection_id in db.followers(update["executionId"]):
        try:
            api.post_to_connection(ConnectionId=connection_id, Data=data)
            delivered += 1
        except ClientError as error:
            if is_gone(error):
                db.forget_follower(update["executionId"], connection_id)
                gone += 1
            else:
                logger.warning("post failed", extra={"connection_id": connection_id,
                                                     "error": error.response.get("Error", {}).get("Code")})
                failed += 1
    metrics.add_metric(name="ProgressDelivered", unit=MetricUnit.Count, value=delivered)
    metrics.add_metric(name="ConnectionsGone", unit=MetricUnit.Count, value=gone)
    metrics.add_metric(name="DeliveryFailed", unit=MetricUnit.Count, value=failed)
    logger.info("progress reported", extra={"execution": update["executionId"], "percent": update["percent"],
                                            "stored": stored, "delivered": delivered, "gone": gone,
                                            "failed": failed})
    return {"delivered": delivered, "gone": gone, "failed": failed, "stored": stored}
