"""The validated messages of the progress protocol (pydantic models), and `validate`.

Kept apart from `progress_protocol` so that only the handlers that validate a message (`start`, `resume`,
ReportProgress) import pydantic on their cold start.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from progress_protocol import MAX_ORDER_BYTES, ProtocolError
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

ID_PATTERN = r"^[A-Za-z0-9_-]{8,80}$"


class StartRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: Literal["start"]
    requestId: str = Field(pattern=ID_PATTERN)
    order: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def order_fits(self) -> StartRequest:
        if len(json.dumps(self.order).encode()) > MAX_ORDER_BYTES:
            raise ValueError(f"order is larger than {MAX_ORDER_BYTES} bytes")
        return self


class ResumeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: Literal["resume"]
    executionId: str | None = Field(default=None, pattern=ID_PATTERN)
    requestId: str | None = Field(default=None, pattern=ID_PATTERN)

    @model_validator(mode="after")
    def one_id(self) -> ResumeRequest:
        if (self.executionId is None) == (self.requestId is None):
            raise ValueError("give exactly one of executionId or requestId")
        return self


class ProgressUpdate(BaseModel):
    """What a workflow reports (ReportProgress payload or the EventBridge event's detail)."""

    model_config = ConfigDict(extra="ignore")

    executionId: str = Field(min_length=1, max_length=80)
    percent: int = Field(ge=0, le=100)
    message: str = ""
    step: str = ""
    status: Literal["PENDING", "RUNNING", "SUCCEEDED", "FAILED"] = "RUNNING"


def validate(model: type[BaseModel], data: dict[str, Any]) -> Any:
    """`model` built from `data`, or a ProtocolError listing each invalid or missing field."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'message'}: {e['msg']}" for e in error.errors())
        raise ProtocolError("invalid_request", problems) from None
