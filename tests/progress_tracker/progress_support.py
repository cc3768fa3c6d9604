"""Shared helpers of the ProgressTracker tests (and its benchmark): constants, events, the table."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
WEBSOCKET_DIR = ROOT / "lambdas" / "progress_tracker" / "websocket"
#: The shared modules the handlers import (their archives hold them next to the handler).
SHARED_DIR = ROOT / "lambdas" / "shared"
ACCOUNT = "123456789012"
REGION = "eu-west-1"
TABLE = "progress-state"
CALLBACK_URL = "https://abcdef1234.execute-api.eu-west-1.amazonaws.com/live"

for _folder in (SHARED_DIR, WEBSOCKET_DIR):
    if str(_folder) not in sys.path:
        sys.path.insert(0, str(_folder))


def create_table(client: Any, name: str = TABLE) -> None:
    client.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                   {"AttributeName": "sk", "KeyType": "RANGE"}],
                        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                              {"AttributeName": "sk", "AttributeType": "S"}])


class Context:
    function_name = "progress-test"
    memory_limit_in_mb = 256
    invoked_function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:progress-test"
    aws_request_id = "req-1"


def ws_event(route: str, connection_id: str, body: Any = None, headers: dict[str, str] | None = None,
             authorizer: dict[str, Any] | None = None) -> dict[str, Any]:
    """An API Gateway WebSocket proxy event."""
    request_context: dict[str, Any] = {
        "routeKey": route, "connectionId": connection_id, "eventType":
        {"$connect": "CONNECT", "$disconnect": "DISCONNECT"}.get(route, "MESSAGE"),
        "apiId": "abcdef1234", "stage": "live", "domainName": "abcdef1234.execute-api.eu-west-1.amazonaws.com",
        "requestId": "r", "extendedRequestId": "r", "requestTime": "22/Nov/2026:10:00:00 +0000",
        "requestTimeEpoch": 1795000000000, "messageDirection": "IN", "connectedAt": 1795000000000,
        "identity": {"sourceIp": "127.0.0.1"}}
    if authorizer is not None:
        request_context["authorizer"] = authorizer
    event: dict[str, Any] = {"requestContext": request_context, "isBase64Encoded": False}
    if headers is not None:
        event["headers"] = headers
    if body is not None:
        event["body"] = body if isinstance(body, str) else json.dumps(body)
    return event
