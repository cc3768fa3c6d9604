"""The message protocol of the progress WebSocket, shared by every route handler and ReportProgress.

Client -> server (route selection `$request.body.action`):
  {"action": "start", "requestId": "<8-64 chars>", "order": {...}}
  {"action": "resume", "executionId": "<id>"}  or  {"action": "resume", "requestId": "<id>"}
Server -> client:
  {"type": "started", "executionId", "requestId", "alreadyStarted"}
  {"type": "progress", "executionId", "percent", "message", "step", "status", "updatedAt"}
  {"type": "error", "error": "<code>", "message": "<what is wrong>", "validActions": [...]}

No pydantic here: `$connect` and `$default` use only this module, so their cold start does not import
pydantic; the validated messages are in `progress_messages`.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

#: API Gateway's limit for one WebSocket message (also for @connections posts).
MAX_MESSAGE_BYTES = 128 * 1024
#: The largest `order` a client may submit: Step Functions inputs are capped at 256 KiB.
MAX_ORDER_BYTES = 32 * 1024
VALID_ACTIONS = ("start", "resume")
SESSION_RE = re.compile(r"^[A-Za-z0-9_-]{8,128}$")


class ProtocolError(ValueError):
    """A request the server answers with an error message instead of acting on it."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


def parse_body(body: str | None) -> dict[str, Any]:
    """The JSON object a client sent, or a ProtocolError naming what is wrong."""
    if not body:
        raise ProtocolError("empty_message", "the message is empty; send a JSON object with an 'action'")
    if len(body.encode()) > MAX_MESSAGE_BYTES:
        raise ProtocolError("message_too_large", f"messages may be at most {MAX_MESSAGE_BYTES} bytes")
    try:
        data = json.loads(body)
    except ValueError as error:
        raise ProtocolError("malformed_json", f"the message is not valid JSON: {error}") from None
    if not isinstance(data, dict):
        raise ProtocolError("malformed_message", "the message must be a JSON object with an 'action'")
    return data


def session_of(headers: dict[str, str] | None) -> str:
    """The client's session id: the first `Sec-WebSocket-Protocol` value."""
    for key, value in (headers or {}).items():
        if key.lower() == "sec-websocket-protocol":
            session = value.split(",")[0].strip()
            if SESSION_RE.fullmatch(session):
                return session
            raise ProtocolError("invalid_session", "the session id (Sec-WebSocket-Protocol) must be 8-128 "
                                "letters, digits, '-' or '_'")
    raise ProtocolError("missing_session", "send a session id as the WebSocket subprotocol "
                        "(Sec-WebSocket-Protocol)")


def execution_name(principal: str, session: str, request_id: str) -> str:
    """A Step Functions execution name derived from who asked and their request id.

    The same request from the same session always maps to the same name, so a retried
    `start` cannot start a second execution; different sessions never collide.
    """
    digest = hashlib.sha256(f"{principal}\0{session}\0{request_id}".encode()).hexdigest()
    return f"order-{digest[:40]}"


def error_message(code: str, message: str) -> dict[str, Any]:
    return {"type": "error", "error": code, "message": message, "validActions": list(VALID_ACTIONS)}


def encode(message: dict[str, Any]) -> bytes:
    return json.dumps(message, separators=(",", ":"), default=str).encode()


def reply(status: int, message: dict[str, Any], headers: dict[str, str] | None = None) -> dict[str, Any]:
    """A Lambda proxy response; with a route response configured, API Gateway sends `body` to the client."""
    out: dict[str, Any] = {"statusCode": status, "body": encode(message).decode()}
    if headers:
        out["headers"] = headers
    return out


def error_reply(error: ProtocolError) -> dict[str, Any]:
    return reply(error.status, error_message(error.code, error.message))
