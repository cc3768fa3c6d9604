"""Shared test setup: no test talks to AWS, whatever credentials the machine has."""

import os

import pytest


@pytest.fixture(autouse=True)
def _offline_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials and a default Region for boto3; moto intercepts every call."""
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_SECURITY_TOKEN": "testing", "AWS_SESSION_TOKEN": "testing",
                       "AWS_DEFAULT_REGION": "us-east-1", "POWERTOOLS_TRACE_DISABLED": "1",
                       "POWERTOOLS_METRICS_NAMESPACE": "Tests"}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@pytest.fixture(autouse=True)
def _isolated_build_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Dependency builds go to one cache per test session, never into the checkout."""
    if "SERVERLESS_PATTERNS_BUILD_DIR" not in os.environ:
        monkeypatch.setenv("SERVERLESS_PATTERNS_BUILD_DIR", str(tmp_path_factory.getbasetemp() / "build"))
