"""Shared test setup: no test talks to AWS, whatever credentials the machine has."""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

OFFLINE_ENV = {
    "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": "us-east-1", "POWERTOOLS_TRACE_DISABLED": "1",
    "POWERTOOLS_METRICS_NAMESPACE": "Tests",
}


@pytest.fixture(scope="session", autouse=True)
def _offline_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Fake credentials and a default Region for boto3 (moto intercepts every call), and the repo's own
    dependency-build cache (`.build/`, keyed by the hash of the pins, so it is reused across sessions and a
    warm suite makes no pip calls). Session-scoped, so module-scoped fixtures see it too."""
    saved = dict(os.environ)
    os.environ.update(OFFLINE_ENV)
    os.environ.pop("AWS_PROFILE", None)
    os.environ.setdefault("SERVERLESS_PATTERNS_BUILD_DIR", str(Path(__file__).resolve().parents[1] / ".build"))
    yield
    os.environ.clear()
    os.environ.update(saved)
