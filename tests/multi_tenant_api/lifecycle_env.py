"""A moto account with what the lifecycle workflow works on, the admin function and the lifecycle executions.

The state machine is the component's definition (`lifecycle_definition`), run by moto's Step Functions
engine through `SfnHarness`; the tenant-steps function runs in-process; the admin function is called with
REST proxy events as API Gateway sends them after the admin authorizer (or SigV4) admitted the caller.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import pytest
import requests

from serverless_patterns.lambdas.multi_tenant_api.admin import app as admin_app
from serverless_patterns.lambdas.multi_tenant_api.authorizer.app import (
    KEY_HASH_INDEX,
    Authorizer,
    JwksCache,
    Settings,
    key_hash,
)
from serverless_patterns.lambdas.multi_tenant_api.tenant_steps import app as steps_app
from serverless_patterns.multi_tenant_api.args import RESOURCE_SERVER_IDENTIFIER, SCOPES
from serverless_patterns.multi_tenant_api.lifecycle import LifecycleSettings, lifecycle_definition
from serverless_patterns.offline.sfn import Execution, SfnHarness

from .test_cognito_interop import PASSWORD, fetch_with_requests
from .tokens import ACCOUNT, EXECUTION_ARN, REGION, STAGE

KEYS_TABLE = "tenant-keys"
CLIENTS_TABLE = "machine-clients"
ITEMS_TABLE = "tenant-items"
KEY_PREFIX = "mta-"
COMPONENT = "mta"
STEPS_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:mta-tenant-steps"
CONFIG_TENANT = "acme-corp"
CONFIG_KEY = "Ak3yV4lue0f4cme0000000000000000000000001"
OVERLAP_SECONDS = 600


class LambdaContext:
    """The attributes Powertools reads from a Lambda context."""

    function_name = "mta-admin"
    memory_limit_in_mb = 256
    invoked_function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:mta-admin"
    aws_request_id = "c0ffee00-0000-4000-8000-000000000002"


def admin_event(method: str, path: str, body: Any = None, query: dict[str, str] | None = None, *,
                admin: bool = True, user_arn: str | None = None) -> dict[str, Any]:
    """A request to the admin function as API Gateway proxies it (the admin authorizer's context when `admin`)."""
    resource, parameters = path, None
    parts = path.strip("/").split("/")
    if len(parts) >= 3 and parts[:2] == ["admin", "tenants"]:
        parameters = {"tenantId": parts[2]}
        resource = "/" + "/".join(["admin", "tenants", "{tenantId}", *parts[3:]])
    authorizer: dict[str, Any] = {"principalId": "admin-sub"}
    if admin:
        authorizer["admin"] = "true"
    return {
        "resource": resource, "path": path, "httpMethod": method,
        "headers": {"Content-Type": "application/json"}, "multiValueHeaders": {},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in (query or {}).items()} or None,
        "pathParameters": parameters, "stageVariables": None,
        "requestContext": {"accountId": ACCOUNT, "apiId": "adminapi01", "stage": STAGE, "httpMethod": method,
                           "path": f"/{STAGE}{path}", "resourcePath": resource, "requestId": "req-admin",
                           "identity": {"sourceIp": "192.0.2.10", "userArn": user_arn},
                           "authorizer": authorizer},
        "body": body if body is None or isinstance(body, str) else json.dumps(body),
        "isBase64Encoded": False}


class Lifecycle:
    """The moto account: key and items tables, usage plans, the pool, the lifecycle machine, the admin API."""

    def __init__(self, h: SfnHarness, monkeypatch: pytest.MonkeyPatch, *, ceiling: int = 10_000,
                 auth: str = "cognito") -> None:
        self.h = h
        self.ddb = boto3.client("dynamodb", region_name=REGION)
        self.apigw = boto3.client("apigateway", region_name=REGION)
        self.idp = boto3.client("cognito-idp", region_name=REGION)
        self.ddb.create_table(
            TableName=KEYS_TABLE, BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "tenantId", "AttributeType": "S"},
                                  {"AttributeName": "keyHash", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "tenantId", "KeyType": "HASH"}],
            GlobalSecondaryIndexes=[{"IndexName": KEY_HASH_INDEX,
                                     "KeySchema": [{"AttributeName": "keyHash", "KeyType": "HASH"}],
                                     "Projection": {"ProjectionType": "ALL"}}])
        self.ddb.create_table(
            TableName=ITEMS_TABLE, BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "tenantId", "AttributeType": "S"},
                                  {"AttributeName": "itemId", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "tenantId", "KeyType": "HASH"},
                       {"AttributeName": "itemId", "KeyType": "RANGE"}])
        self.plans = {tier: self.apigw.create_usage_plan(name=f"tier-{tier}", tags={"tier": tier})["id"]
                      for tier in ("trial", "business")}
        # A config tenant, as Pulumi writes it (its key and row).
        config_key = self.apigw.create_api_key(name=f"{KEY_PREFIX}{CONFIG_TENANT}", value=CONFIG_KEY, enabled=True,
                                               tags={"tenant": CONFIG_TENANT})
        self.apigw.create_usage_plan_key(usagePlanId=self.plans["trial"], keyId=config_key["id"], keyType="API_KEY")
        self.ddb.put_item(TableName=KEYS_TABLE, Item={
            "tenantId": {"S": CONFIG_TENANT}, "tier": {"S": "trial"}, "apiKey": {"S": CONFIG_KEY},
            "apiKeyId": {"S": config_key["id"]}, "keyHash": {"S": key_hash(CONFIG_KEY)},
            "usagePlanId": {"S": self.plans["trial"]}, "managedBy": {"S": "pulumi"}})
        self.pool_id = self.idp.create_user_pool(
            PoolName="tenants", UsernameAttributes=["email"],
            Schema=[{"Name": "tenant_id", "AttributeDataType": "String", "Mutable": False}])["UserPool"]["Id"]
        self.client_id = self.idp.create_user_pool_client(
            UserPoolId=self.pool_id, ClientName="app",
            ExplicitAuthFlows=["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])["UserPoolClient"][
            "ClientId"]
        # Access tokens: the resource server, the machine-clients table the pre-token trigger reads.
        self.idp.create_resource_server(UserPoolId=self.pool_id, Identifier=RESOURCE_SERVER_IDENTIFIER, Name="api",
                                        Scopes=[{"ScopeName": n, "ScopeDescription": d} for n, d in SCOPES.items()])
        self.ddb.create_table(TableName=CLIENTS_TABLE, BillingMode="PAY_PER_REQUEST",
                              AttributeDefinitions=[{"AttributeName": "clientId", "AttributeType": "S"}],
                              KeySchema=[{"AttributeName": "clientId", "KeyType": "HASH"}])
        self.definition = lifecycle_definition(LifecycleSettings(
            keys_table=KEYS_TABLE, user_pool_id=self.pool_id, steps_function_arn=STEPS_ARN,
            key_name_prefix=KEY_PREFIX, machine_clients=True))
        self.machine_arn = h.create(self.definition, name="lifecycle")
        self.steps = steps_app.Steps(
            KEYS_TABLE, ITEMS_TABLE, KEY_PREFIX, apigateway=self.apigw, dynamodb=self.ddb, cognito=self.idp,
            component=COMPONENT,
            machine=steps_app.MachineClients(
                user_pool_id=self.pool_id, table=CLIENTS_TABLE, allowed_scopes=frozenset(SCOPES),
                resource_server=RESOURCE_SERVER_IDENTIFIER, access_token_minutes=60))
        monkeypatch.setattr(steps_app, "_steps", self.steps)
        h.lambda_handlers[STEPS_ARN] = lambda payload: steps_app.handler(payload, LambdaContext())
        for name, value in {"TENANT_KEYS_TABLE": KEYS_TABLE, "LIFECYCLE_MACHINE_ARN": self.machine_arn,
                            "TIER_PLANS": json.dumps(self.plans),
                            "RUNTIME_ID_PREFIX": "rt-", "API_KEY_CEILING": str(ceiling), "ADMIN_AUTH": auth,
                            "ROTATION_OVERLAP_SECONDS": str(OVERLAP_SECONDS),
                            "MACHINE_SCOPES": json.dumps(sorted(SCOPES)), "USER_POOL_ID": self.pool_id,
                            "LIFECYCLE_MACHINE_NAME": "lifecycle"}.items():
            monkeypatch.setenv(name, value)
        monkeypatch.setattr(admin_app, "_settings", None)
        monkeypatch.setattr(admin_app, "_clients", None)

    # -- the admin API ---------------------------------------------------------------------------------------

    def call(self, method: str, path: str, body: Any = None, query: dict[str, str] | None = None, *,
             admin: bool = True, user_arn: str | None = None) -> tuple[int, Any]:
        """A request to the admin function as API Gateway proxies it; (status, parsed body)."""
        event = admin_event(method, path, body, query, admin=admin, user_arn=user_arn)
        response = admin_app.handler(event, LambdaContext())
        return response["statusCode"], json.loads(response["body"]) if response.get("body") else None

    def run(self, method: str, path: str, body: Any = None, query: dict[str, str] | None = None) -> Execution:
        """An admin mutation and its lifecycle execution, run to its end."""
        status, answer = self.call(method, path, body, query)
        assert status == 202, answer
        return self.h.wait(answer["executionArn"])

    # -- what the account holds ------------------------------------------------------------------------------

    def row(self, tenant_id: str) -> dict[str, Any] | None:
        item = self.ddb.get_item(TableName=KEYS_TABLE, Key={"tenantId": {"S": tenant_id}},
                                 ConsistentRead=True).get("Item")
        return None if item is None else {k: admin_app.plain(v) for k, v in item.items()}

    def keys_named(self, tenant_id: str) -> list[dict[str, Any]]:
        items = self.apigw.get_api_keys(nameQuery=f"{KEY_PREFIX}{tenant_id}", includeValues=True)["items"]
        return [k for k in items if k["name"] == f"{KEY_PREFIX}{tenant_id}"]

    def plan_keys(self, tier: str) -> set[str]:
        return {k["id"] for k in self.apigw.get_usage_plan_keys(usagePlanId=self.plans[tier])["items"]}

    # -- a tenant's user signs in and calls the API ------------------------------------------------------------

    def sign_in(self, email: str) -> str:
        """The invited user sets a password and signs in: their ID token."""
        self.idp.admin_set_user_password(UserPoolId=self.pool_id, Username=email, Password=PASSWORD,
                                         Permanent=True)
        result = self.idp.admin_initiate_auth(UserPoolId=self.pool_id, ClientId=self.client_id,
                                              AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                                              AuthParameters={"USERNAME": email, "PASSWORD": PASSWORD})
        return str(result["AuthenticationResult"]["IdToken"])

    def authorizer(self) -> Authorizer:
        """A fresh authorizer (no cached keys) as the component configures it for this pool."""
        issuer = f"https://cognito-idp.{REGION}.amazonaws.com/{self.pool_id}"
        settings = Settings(api_execution_arn=EXECUTION_ARN, stage=STAGE, table_name=KEYS_TABLE, issuer=issuer,
                            jwks_url=issuer + "/.well-known/jwks.json", client_id=self.client_id)
        return Authorizer(settings, jwks=JwksCache(settings.jwks_url, fetch=fetch_with_requests))


@contextmanager
def lifecycle(monkeypatch: pytest.MonkeyPatch, **kwargs: Any) -> Iterator[Lifecycle]:
    with SfnHarness(region=REGION) as h:
        # moto's seed endpoint (`/moto-api/seed?a=`, moto_api/_internal/responses.py) makes the pool id, and so
        # the lifecycle definition that names it, the same in every test: the harness parses it once per session.
        requests.post("http://motoapi.amazonaws.com/moto-api/seed?a=42", timeout=5)
        yield Lifecycle(h, monkeypatch, **kwargs)
