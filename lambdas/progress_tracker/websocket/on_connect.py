"""`$connect`: register the connection under the client's session id and echo the subprotocol.

API Gateway closes the connection at once unless the response echoes `Sec-WebSocket-Protocol`.
With a token authorizer in front, the authorizer's `principal` is stored with the connection,
so an execution started by one user can never be followed by another.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.data_classes import APIGatewayWebSocketEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext
from progress_protocol import ProtocolError, error_reply, reply, session_of
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
    try:
        session = session_of(event.headers)
    except ProtocolError as error:
        logger.info("connection refused", extra={"reason": error.code})
        return error_reply(error)
    authorizer = event.request_context.get("authorizer") or {}
    principal = str(authorizer.get("principal") or authorizer.get("principalId") or "anonymous")
    shared_store().put_connection(connection_id, session, principal)
    logger.info("connected", extra={"connection_id": connection_id, "principal": principal})
    return reply(200, {"type": "connected"}, headers={"Sec-WebSocket-Protocol": session})
