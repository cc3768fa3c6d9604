"""Sample handler of the shared container image: greets, and says where it runs.

Invoked directly (`aws lambda invoke`) in each consumer account after a deploy, its answer
proves the cross-account set-up end to end: the account and Region it runs in, and the image
version baked in at build time. Malformed requests get a 400 with the reasons, never a 500.
"""

from __future__ import annotations

import json
import os
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import BaseModel, Field, ValidationError, parse
from aws_lambda_powertools.utilities.typing import LambdaContext

logger = Logger()
# Only botocore makes outbound calls here: patching every module X-Ray supports would import requests,
# httpx & co. on each cold start (https://docs.powertools.aws.dev/lambda/python/latest/core/tracer/).
tracer = Tracer(patch_modules=("botocore",))
metrics = Metrics()


class GreetingRequest(BaseModel):
    """The event: `{"name": "..."}` (optional)."""

    name: str = Field(default="world", min_length=1, max_length=64, pattern=r"^[\w .'-]+$")


def response(status: int, body: dict[str, Any]) -> dict[str, Any]:
    return {"statusCode": status, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body)}


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: Any, context: LambdaContext) -> dict[str, Any]:
    if not isinstance(event, dict):
        logger.warning("Rejected a non-object event", extra={"event_type": type(event).__name__})
        metrics.add_metric(name="RejectedRequests", unit=MetricUnit.Count, value=1)
        return response(400, {"message": 'the event must be a JSON object such as {"name": "Ada"}'})
    try:
        request = parse(event=event, model=GreetingRequest)
    except ValidationError as error:
        reasons = [f"{'.'.join(str(p) for p in e['loc']) or 'event'}: {e['msg']}" for e in error.errors()]
        logger.warning("Rejected an invalid request", extra={"reasons": reasons})
        metrics.add_metric(name="RejectedRequests", unit=MetricUnit.Count, value=1)
        return response(400, {"message": "invalid request", "errors": reasons})

    arn_parts = context.invoked_function_arn.split(":")
    where = {
        "account": arn_parts[4],
        "region": arn_parts[3],
        "function": context.function_name,
        "imageVersion": os.environ.get("IMAGE_VERSION", "unversioned"),
    }
    tracer.put_annotation("image_version", where["imageVersion"])
    metrics.add_metric(name="Greetings", unit=MetricUnit.Count, value=1)
    logger.info("Greeted", extra=where)
    return response(200, {"message": f"hello {request.name}!", **where})
