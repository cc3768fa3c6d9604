"""API Gateway's mapping-template runtime for tests: Velocity (airspeed-ext) with `$input`, `$util`, `$context`.

Enough of API Gateway's variables to render the GlacierRestore templates as API Gateway would:
`$input.path/json/body`, `$util.escapeJavaScript/parseJson`, `$context` (including
`responseOverride.status`, which sets the HTTP status of the method response).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import airspeed


class _Input:
    def __init__(self, body: str) -> None:
        self.body = body
        self._data = json.loads(body) if body else None

    def path(self, expression: str) -> Any:
        value = self._data
        for part in expression.lstrip("$").split("."):
            if part:
                value = value.get(part) if isinstance(value, dict) else None
        return value

    def json(self, expression: str) -> str:
        return json.dumps(self.path(expression))


class _Util:
    @staticmethod
    def escapeJavaScript(value: Any) -> str:  # API Gateway's names
        # JavaScript string escaping: like JSON's, plus single quotes (API Gateway escapes them too).
        return json.dumps(str(value))[1:-1].replace("'", "\\'")

    @staticmethod
    def parseJson(value: str) -> Any:
        return json.loads(value)


@dataclass
class Rendered:
    """A rendered template and the HTTP status it leaves (`responseOverride`, or the integration response's)."""

    body: str
    status: int
    context: dict[str, Any] = field(default_factory=dict)

    def json(self) -> Any:
        return json.loads(self.body)


def render(template: str, body: str, *, status: int = 200, user_arn: str | None = None,
           claims: dict[str, str] | None = None, request_id: str = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
           validation_error: str = "") -> Rendered:
    context: dict[str, Any] = {
        "requestId": request_id, "xrayTraceId": "Root=1-5759e988-bd862e3fe1be46a994272793",
        "identity": {"userArn": user_arn or "", "sourceIp": "203.0.113.7"},
        "authorizer": {"claims": claims or {}}, "responseOverride": {},
        "error": {"validationErrorString": validation_error},
    }
    out = airspeed.Template(template).merge({"input": _Input(body), "util": _Util(), "context": context})
    return Rendered(out.strip(), int(context["responseOverride"].get("status", status)), context)
