"""Fixtures of the multi-tenant API tests: AWS credentials for moto, the tenant key table, a JWKS server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from serverless_patterns.lambdas.multi_tenant_api.authorizer import app as authorizer_app
from serverless_patterns.lambdas.multi_tenant_api.authorizer.app import KEY_HASH_INDEX, key_hash

from .tokens import (
    CLIENT_ID,
    EXECUTION_ARN,
    ISSUER,
    REGION,
    STAGE,
    JwksServer,
    SigningKey,
)

KEYS_TABLE = "tenant-keys"
#: Tenants in the key table: id -> (tier, API key value as API Gateway would generate it).
TENANTS = {
    "acme-corp": ("trial", "Ak3yV4lue0f4cme0000000000000000000000001"),
    "globex": ("business", "Gl0bexK3yV4lue00000000000000000000000002"),
}


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": REGION,
                        "POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_SERVICE_NAME": "test",
                        "POWERTOOLS_METRICS_NAMESPACE": "Test"}.items():
        monkeypatch.setenv(name, value)


def create_key_table(tenants: dict[str, tuple[str, str]] = TENANTS) -> Any:
    """The key table as the component defines it (hash key tenantId, GSI on keyHash), filled with tenants."""
    client = boto3.client("dynamodb", region_name=REGION)
    client.create_table(
        TableName=KEYS_TABLE, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "tenantId", "AttributeType": "S"},
                              {"AttributeName": "keyHash", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "tenantId", "KeyType": "HASH"}],
        GlobalSecondaryIndexes=[{"IndexName": KEY_HASH_INDEX,
                                 "KeySchema": [{"AttributeName": "keyHash", "KeyType": "HASH"}],
                                 "Projection": {"ProjectionType": "ALL"}}])
    for tenant, (tier, value) in tenants.items():
        client.put_item(TableName=KEYS_TABLE, Item={
            "tenantId": {"S": tenant}, "tier": {"S": tier}, "apiKey": {"S": value}, "apiKeyId": {"S": "id-" + tenant},
            "keyHash": {"S": key_hash(value)}})
    return client


@pytest.fixture(scope="session")
def signing_key() -> SigningKey:
    return SigningKey()


@pytest.fixture
def jwks_server(signing_key: SigningKey) -> Iterator[JwksServer]:
    with JwksServer([signing_key]) as server:
        yield server


@pytest.fixture
def authorizer_env(monkeypatch: pytest.MonkeyPatch, jwks_server: JwksServer) -> Iterator[JwksServer]:
    """The environment the component gives the authorizer, a fresh module instance, moto DynamoDB."""
    for name, value in {"API_EXECUTION_ARN": EXECUTION_ARN, "STAGE_NAME": STAGE, "TENANT_KEYS_TABLE": KEYS_TABLE,
                        "ISSUER": ISSUER, "JWKS_URL": jwks_server.url, "CLIENT_ID": CLIENT_ID,
                        "TOKEN_USE": "id", "TENANT_CLAIM": "custom:tenant_id", "QUERY_PARAMETER": "api_key",
                        "KEY_CACHE_SECONDS": "300"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(authorizer_app, "_authorizer", None)
    with mock_aws():
        create_key_table()
        yield jwks_server
