"""`$disconnect`: forget the connection and stop fanning progress out to it."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext
from progress_protocol import connection_of
from progress_store import shared_store

logger = Logger()
# Only botocore makes outbound calls here: patching every module X-Ray supports would import requests,
# httpx & co. on each cold start (https://docs.powertools.aws.dev/lambda/python/latest/core/tracer/).
tracer = Tracer(patch_modules=("botocore",))


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    connection_id = connection_of(event)
    followed = shared_store().remove_connection(connection_id)
    logger.info("disconnected", extra={"connection_id": connection_id, "followed": followed,
                                       "reason": event["requestContext"].get("disconnectReason")})
    return {"statusCode": 200}
