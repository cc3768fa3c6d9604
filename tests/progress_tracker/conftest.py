"""Fixtures for the ProgressTracker tests: moto, the table, and the handler modules."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from progress_support import CALLBACK_URL, REGION, TABLE, Context, create_table


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": REGION,
                       "POWERTOOLS_TRACE_DISABLED": "1", "POWERTOOLS_SERVICE_NAME": "progress-tracker",
                       "POWERTOOLS_METRICS_NAMESPACE": "ServerlessPatternsTest", "TABLE_NAME": TABLE,
                       "CALLBACK_URL": CALLBACK_URL, "CONNECTION_TTL_HOURS": "3",
                       "PROGRESS_TTL_HOURS": "48"}.items():
        monkeypatch.setenv(key, value)


@pytest.fixture
def moto_aws(aws_env: None) -> Iterator[None]:
    with mock_aws():
        create_table(boto3.client("dynamodb", region_name=REGION))
        yield


@pytest.fixture
def handlers(moto_aws: None) -> Any:
    """The handler modules, with their cached clients reset so they are created inside moto."""

    class Modules:
        def __getattr__(self, name: str) -> Any:
            module = importlib.import_module(name)
            __import__("progress_store").reset_shared_store()
            for attr in ("store", "sfn", "management"):
                if hasattr(module, attr):
                    setattr(module, attr, None)
            return module

    return Modules()


@pytest.fixture
def context() -> Context:
    return Context()
