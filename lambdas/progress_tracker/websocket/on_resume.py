"""`resume`: after a reconnect, follow an execution again and get its latest progress at once.

Only connections of the session (and principal) that started the execution may follow it.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.data_classes import APIGatewayWebSocketEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext
from progress_messages import RESUME_SCHEMA, ResumeRequest, compiled, validate
from progress_protocol import ProtocolError, error_reply, execution_name, parse_body, reply
from progress_store import progress_message, shared_store

logger = Logger()
# Only botocore makes outbound calls here: patching every module X-Ray supports would import requests,
# httpx & co. on each cold start (https://docs.powertools.aws.dev/lambda/python/latest/core/tracer/).
tracer = Tracer(patch_modules=("botocore",))
valid_resume = compiled(RESUME_SCHEMA)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@event_source(data_class=APIGatewayWebSocketEvent)
def handler(event: APIGatewayWebSocketEvent, context: LambdaContext) -> dict[str, Any]:
    connection_id = event.request_context.connection_id
    try:
        request: ResumeRequest = validate(valid_resume, parse_body(event.decoded_body))
        return resume(connection_id, request)
    except ProtocolError as error:
        logger.info("resume refused", extra={"reason": error.code, "detail": error.message})
        return error_reply(error)


def resume(connection_id: str, request: ResumeRequest) -> dict[str, Any]:
    db = shared_store()
    connection = db.get_connection(connection_id)
    if connection is None:
        raise ProtocolError("unknown_connection", "this connection is not registered; reconnect", 409)
    name = request.get("executionId") or execution_name(connection.principal, connection.session_id,
                                                        str(request.get("requestId")))
    state = db.get_state(name)
    if state is None:
        raise ProtocolError("unknown_execution", f"no execution {name!r} is known (finished more than the "
                            "retention period ago, or never started)", 404)
    if state.get("owner") != connection.session_id or state.get("principal") != connection.principal:
        raise ProtocolError("forbidden_execution", f"execution {name!r} was started by another session", 403)
    db.follow(name, connection_id)
    logger.info("resumed", extra={"execution": name, "percent": state.get("percent")})
    return reply(200, progress_message(state, resumed=True))
