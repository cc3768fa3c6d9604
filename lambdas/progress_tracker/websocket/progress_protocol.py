"""The message protocol of the progress WebSocket, shared by every route handler and ReportProgress.

Client -> server (route selection `$request.body.action`):
  {"action": "start", "requestId": "<8-64 chars>", "order": {...}}
  {"action": "resume", "executionId": "<id>"}  or  {"action": "resume", "requestId": "<id>"}
Server -> client:
  {"type": "started", "executionId", "requestId", "alreadyStarted"}
  {"type": "progress", "executionId", "percent", "message", "step", "status", "updatedAt"}
  {"type": "error", "error": "<code>", "message": "<what is wrong>", "validActions": [...]}
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any, Literal, cast

#: API Gateway's limit for one WebSocket message (also for @connections posts).
MAX_MESSAGE_BYTES = 128 * 1024
#: The largest `order` a client may submit: Step Functions inputs are capped at 256 KiB.
MAX_ORDER_BYTES = 32 * 1024
VALID_ACTIONS = ("start", "resume")
STATUSES = ("PENDING", "RUNNING", "SUCCEEDED", "FAILED")
SESSION_RE = re.compile(r"^[A-Za-z0-9_-]{8,128}$")
ID_PATTERN = r"^[A-Za-z0-9_-]{8,80}$"
ID_RE = re.compile(ID_PATTERN)
MAX_EXECUTION_ID = 80

# The three message shapes are flat and small, so they are checked here by hand rather than with pydantic:
# importing pydantic and building its schemas was most of these handlers' cold start (README, Benchmarks).
# Every problem of a message is reported at once, as `field: reason`.


class ProtocolError(ValueError):
    """A request the server answers with an error message instead of acting on it."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


class Fields:
    """Collects the problems of one message while its fields are read."""

    def __init__(self, data: dict[str, Any], allowed: tuple[str, ...], forbid_extra: bool) -> None:
        self.data = data
        self.problems: list[str] = []
        if forbid_extra:
            self.problems += [f"{key}: extra fields are not permitted" for key in data if key not in allowed]

    def fail(self, field: str, reason: str) -> None:
        self.problems.append(f"{field}: {reason}")

    def string(self, field: str, *, required: bool, pattern: re.Pattern[str] | None = None,
               max_length: int | None = None, min_length: int = 0, default: str | None = None) -> str | None:
        if field not in self.data:
            if required:
                self.fail(field, "field required")
            return default
        value = self.data[field]
        if value is None and not required and default is None:
            return None
        if not isinstance(value, str):
            self.fail(field, "must be a string")
        elif pattern is not None and not pattern.fullmatch(value):
            self.fail(field, f"must match pattern {pattern.pattern!r}")
        elif len(value) < min_length or (max_length is not None and len(value) > max_length):
            self.fail(field, f"must be {min_length} to {max_length} characters long")
        else:
            return value
        return default

    def literal(self, field: str, allowed: tuple[str, ...], default: str | None = None) -> str:
        value = self.data.get(field, default)
        if value not in allowed:
            self.fail(field, "field required" if value is None else f"must be one of {', '.join(allowed)}")
            return allowed[0]
        return str(value)

    def check(self) -> None:
        if self.problems:
            raise ProtocolError("invalid_request", "; ".join(self.problems))


@dataclass(frozen=True)
class StartRequest:
    action: Literal["start"]
    requestId: str
    order: dict[str, Any]

    @classmethod
    def model_validate(cls, data: dict[str, Any]) -> StartRequest:
        fields = Fields(data, ("action", "requestId", "order"), forbid_extra=True)
        fields.literal("action", ("start",))
        request_id = fields.string("requestId", required=True, pattern=ID_RE)
        order = data.get("order", {})
        if not isinstance(order, dict):
            fields.fail("order", "must be a JSON object")
        elif len(json.dumps(order).encode()) > MAX_ORDER_BYTES:
            fields.fail("order", f"order is larger than {MAX_ORDER_BYTES} bytes")
        fields.check()
        return cls("start", str(request_id), order)


@dataclass(frozen=True)
class ResumeRequest:
    action: Literal["resume"]
    executionId: str | None
    requestId: str | None

    @classmethod
    def model_validate(cls, data: dict[str, Any]) -> ResumeRequest:
        fields = Fields(data, ("action", "executionId", "requestId"), forbid_extra=True)
        fields.literal("action", ("resume",))
        execution_id = fields.string("executionId", required=False, pattern=ID_RE)
        request_id = fields.string("requestId", required=False, pattern=ID_RE)
        if not fields.problems and (execution_id is None) == (request_id is None):
            fields.fail("message", "give exactly one of executionId or requestId")
        fields.check()
        return cls("resume", execution_id, request_id)


@dataclass(frozen=True)
class ProgressUpdate:
    """What a workflow reports (ReportProgress payload or the EventBridge event's detail); extra keys ignored."""

    executionId: str
    percent: int
    message: str = ""
    step: str = ""
    status: Literal["PENDING", "RUNNING", "SUCCEEDED", "FAILED"] = "RUNNING"

    @classmethod
    def model_validate(cls, data: dict[str, Any]) -> ProgressUpdate:
        fields = Fields(data, (), forbid_extra=False)
        execution_id = fields.string("executionId", required=True, min_length=1, max_length=MAX_EXECUTION_ID)
        percent = data.get("percent")
        if isinstance(percent, str) and percent.strip().lstrip("-").isdigit():
            percent = int(percent)  # a JSON path in a workflow may deliver numbers as strings
        elif isinstance(percent, float) and percent.is_integer():
            percent = int(percent)
        if "percent" not in data:
            fields.fail("percent", "field required")
        elif isinstance(percent, bool) or not isinstance(percent, int):
            fields.fail("percent", "must be a whole number")
        elif not 0 <= percent <= 100:
            fields.fail("percent", "must be from 0 to 100")
        message = fields.string("message", required=False, default="")
        step = fields.string("step", required=False, default="")
        status = fields.literal("status", STATUSES, default="RUNNING")
        fields.check()
        return cls(str(execution_id), cast(int, percent), str(message), str(step),
                   cast(Literal["PENDING", "RUNNING", "SUCCEEDED", "FAILED"], status))


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


def validate(model: type[StartRequest] | type[ResumeRequest] | type[ProgressUpdate], data: dict[str, Any]) -> Any:
    """`model` built from `data`, or a ProtocolError (`invalid_request`) listing each invalid or missing field."""
    return model.model_validate(data)


def body_of(event: dict[str, Any]) -> str | None:
    """The message text of a WebSocket route event (API Gateway base64-encodes binary frames)."""
    body = event.get("body")
    if body is None or not event.get("isBase64Encoded"):
        return cast(str | None, body)
    try:
        return base64.b64decode(body, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise ProtocolError("malformed_message", "the message is not valid base64-encoded UTF-8 text") from None


def connection_of(event: dict[str, Any]) -> str:
    """The id API Gateway gave the calling connection."""
    return str(event["requestContext"]["connectionId"])


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
