"""The validated messages of the progress protocol: JSON Schema documents, and `compiled`/`validate`.

The schemas are data (JSON Schema draft 7); each handler that uses one gets its validator from `compiled` (the
shared `schema_checks`, which the archive carries next to the handler, says why fastjsonschema rather than
pydantic). Each handler checks every message it gets, so its validator is generated at import. Kept apart from
`progress_protocol` so `$connect`, `$disconnect` and `$default` load none of it.

Behaviour the schemas fix: the first invalid field is reported (`field: what is wrong`); nothing is coerced, so
`"50"` is not a percent (the protocol says a number); 50.0 is an integer in JSON Schema and is stored as 50.
"""

from __future__ import annotations

import json
from typing import Any, Literal, NotRequired, TypedDict

from progress_protocol import MAX_ORDER_BYTES, ProtocolError
from schema_checks import DRAFT, Invalid, Validator, compiled

__all__ = ["PROGRESS_SCHEMA", "RESUME_SCHEMA", "START_SCHEMA", "ProgressUpdate", "ResumeRequest", "StartRequest",
           "Validator", "compiled", "progress_update", "reason", "start_request", "validate"]

ID_PATTERN = r"^[A-Za-z0-9_-]{8,80}$"

#: {"action": "start", "requestId": "<id>", "order": {...}}; no other field.
START_SCHEMA: dict[str, Any] = {
    "$schema": DRAFT,
    "type": "object",
    "properties": {
        "action": {"const": "start"},
        "requestId": {"type": "string", "pattern": ID_PATTERN},
        "order": {"type": "object", "default": {}},
    },
    "required": ["action", "requestId"],
    "additionalProperties": False,
}

#: {"action": "resume"} with exactly one of executionId or requestId; no other field.
RESUME_SCHEMA: dict[str, Any] = {
    "$schema": DRAFT,
    "type": "object",
    "properties": {
        "action": {"const": "resume"},
        "executionId": {"type": "string", "pattern": ID_PATTERN},
        "requestId": {"type": "string", "pattern": ID_PATTERN},
    },
    "required": ["action"],
    "additionalProperties": False,
    "oneOf": [{"required": ["executionId"]}, {"required": ["requestId"]}],
}

#: What a workflow reports (ReportProgress payload or the EventBridge event's detail); other fields are ignored.
PROGRESS_SCHEMA: dict[str, Any] = {
    "$schema": DRAFT,
    "type": "object",
    "properties": {
        "executionId": {"type": "string", "minLength": 1, "maxLength": 80},
        "percent": {"type": "integer", "minimum": 0, "maximum": 100},
        "message": {"type": "string", "default": ""},
        "step": {"type": "string", "default": ""},
        "status": {"enum": ["PENDING", "RUNNING", "SUCCEEDED", "FAILED"], "default": "RUNNING"},
    },
    "required": ["executionId", "percent"],
}


class StartRequest(TypedDict):
    action: Literal["start"]
    requestId: str
    order: dict[str, Any]


class ResumeRequest(TypedDict):
    action: Literal["resume"]
    executionId: NotRequired[str]
    requestId: NotRequired[str]


class ProgressUpdate(TypedDict):
    executionId: str
    percent: int
    message: str
    step: str
    status: Literal["PENDING", "RUNNING", "SUCCEEDED", "FAILED"]


def reason(error: Invalid) -> str:
    """`field: what is wrong` for the first error (`message:` when it is the whole message)."""
    return f"{'.'.join(error.path) or 'message'}: {error.text}"


def validate(validator: Validator, data: dict[str, Any]) -> Any:
    """A copy of `data` checked by `validator` (defaults filled), or a ProtocolError naming the invalid field."""
    try:
        return validator(dict(data))
    except Invalid as error:
        raise ProtocolError("invalid_request", reason(error)) from None


def start_request(validator: Validator, data: dict[str, Any]) -> StartRequest:
    """A valid `start` whose order also fits in a Step Functions input (a size JSON Schema cannot express)."""
    request: StartRequest = validate(validator, data)
    if len(json.dumps(request["order"]).encode()) > MAX_ORDER_BYTES:
        raise ProtocolError("invalid_request", f"order: is larger than {MAX_ORDER_BYTES} bytes")
    return request


def progress_update(validator: Validator, data: dict[str, Any]) -> ProgressUpdate:
    """A valid progress update; a whole-number float percent (50.0) is stored as the integer it is."""
    update: ProgressUpdate = validate(validator, data)
    update["percent"] = int(update["percent"])
    return update
