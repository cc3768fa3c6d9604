"""`$disconnect`: forget the connection and stop fanning progress out to it."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.data_classes import APIGatewayWebSocketEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext
from progress_store import shared_store

logger = Logger()
# Only botocore makes outbound calls here: patching every module X-Ray supports would import requests,
# httpx & co. on each cold start (https://docs.powertools.aws.dev/lambda/python/latest/core/tracer/).
tracer = Tracer(patch_modules=("botocore",))


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@event_source(data_class=APIGatewayWebSocketEvent)
def handler(event: APIGatewayWebSocketEvent, context: LambdaContext) -> dict[str, Any]:
    connection_id = event.request_context.connection_id
    followed = shared_store().remove_connection(connection_id)
    logger.info("disconnected", extra={"connection_id": connection_id, "followed": followed,
                                       "reason": event.request_context.get("disconnectReason")})
    return {"statusCode": 200}
