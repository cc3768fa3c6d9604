"""The sample image's handler, run in-process with Powertools (tracing disabled)."""

from __future__ import annotations

import importlib.util
import json
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

APP = Path(__file__).resolve().parents[2] / "lambdas" / "cross_account_ecr" / "hello" / "app.py"


@dataclass
class Context:
    function_name: str = "img-222222222222-fn-fed2e8f"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:eu-west-1:222222222222:function:img-222222222222-fn-fed2e8f"
    aws_request_id: str = "8f5e2c1a-0000-4000-8000-000000000001"


@pytest.fixture()
def app(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "1")
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "shared-images")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "ServerlessPatterns")
    monkeypatch.setenv("IMAGE_VERSION", "release-1.0.0")
    spec = importlib.util.spec_from_file_location("cross_account_ecr_hello_app", APP)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def call(app: ModuleType, event: Any) -> tuple[int, dict[str, Any]]:
    result = app.handler(event, Context())
    return result["statusCode"], json.loads(result["body"])


def test_greets_and_reports_account_region_and_image(app: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    status, body = call(app, {"name": "Ada"})
    assert status == 200
    assert body == {
        "message": "hello Ada!",
        "account": "222222222222",
        "region": "eu-west-1",
        "function": "img-222222222222-fn-fed2e8f",
        "imageVersion": "release-1.0.0",
    }
    emitted = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    metrics = [m for m in emitted if "_aws" in m]
    assert any(m.get("Greetings") == [1.0] or m.get("Greetings") == 1.0 for m in metrics)


def test_name_defaults_to_world(app: ModuleType) -> None:
    status, body = call(app, {})
    assert status == 200 and body["message"] == "hello world!"


@pytest.mark.parametrize(
    "event, reason",
    [
        ({"name": ""}, "name:"),
        ({"name": "x" * 65}, "name:"),
        ({"name": "<script>"}, "name:"),
        ({"name": 42}, "name:"),
    ],
)
def test_invalid_requests_get_400_with_reasons(app: ModuleType, event: dict[str, Any], reason: str) -> None:
    status, body = call(app, event)
    assert status == 400
    assert body["message"] == "invalid request"
    assert body["errors"] and body["errors"][0].startswith(reason)


@pytest.mark.parametrize("event", [None, "hello", ["name"], 7])
def test_non_object_events_get_400(app: ModuleType, event: Any) -> None:
    status, body = call(app, event)
    assert status == 400
    assert "JSON object" in body["message"]
