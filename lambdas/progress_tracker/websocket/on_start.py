"""`start`: start the tracked workflow once per client request id, and follow it.

The execution name is derived from (principal, session, requestId), so a retried `start`
(lost reply, reconnect) finds the execution it already started: the state item's
conditional put and `ExecutionAlreadyExists` both count as success.
"""

from __future__ import annotations

import json
import os
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.data_classes import APIGatewayWebSocketEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError
from progress_messages import START_SCHEMA, StartRequest, compiled, start_request
from progress_protocol import ProtocolError, error_reply, execution_name, parse_body, reply
from progress_store import RETRIES, Store, shared_store

logger = Logger()
# Only botocore makes outbound calls here: patching every module X-Ray supports would import requests,
# httpx & co. on each cold start (https://docs.powertools.aws.dev/lambda/python/latest/core/tracer/).
tracer = Tracer(patch_modules=("botocore",))
valid_start = compiled(START_SCHEMA)
sfn: Any = None


def clients() -> tuple[Store, Any]:
    global sfn
    if sfn is None:
        sfn = boto3.client("stepfunctions", config=RETRIES)
    return shared_store(), sfn


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@event_source(data_class=APIGatewayWebSocketEvent)
def handler(event: APIGatewayWebSocketEvent, context: LambdaContext) -> dict[str, Any]:
    connection_id = event.request_context.connection_id
    try:
        request = start_request(valid_start, parse_body(event.decoded_body))
        return start(connection_id, request)
    except ProtocolError as error:
        logger.info("start refused", extra={"reason": error.code, "detail": error.message})
        return error_reply(error)


def start(connection_id: str, request: StartRequest) -> dict[str, Any]:
    db, states = clients()
    connection = db.get_connection(connection_id)
    if connection is None:
        raise ProtocolError("unknown_connection", "this connection is not registered; reconnect", 409)
    name = execution_name(connection.principal, connection.session_id, request["requestId"])
    new = db.claim_execution(name, connection.session_id, connection.principal)
    if not new:
        state = db.get_state(name) or {}
        if state.get("owner") != connection.session_id or state.get("principal") != connection.principal:
            raise ProtocolError("execution_conflict", "this request id belongs to another session", 409)
    # Follow before starting, so even the first progress report reaches this connection.
    db.follow(name, connection_id)
    already = False
    state_machine = os.environ["STATE_MACHINE_ARN"]
    try:
        states.start_execution(stateMachineArn=state_machine, name=name,
                               input=json.dumps({"order": request["order"], "requestId": request["requestId"]}))
    except states.exceptions.ExecutionAlreadyExists:
        already = True
    except ClientError as error:
        logger.exception("StartExecution failed")
        raise ProtocolError("start_failed", "the workflow could not be started "
                            f"({error.response['Error']['Code']}); retry with the same requestId", 503) from None
    already = already or not new
    logger.info("started", extra={"execution": name, "already_started": already})
    return reply(200, {"type": "started", "executionId": name, "requestId": request["requestId"],
                       "alreadyStarted": already})
