"""The tenant-scoped backend against moto DynamoDB: isolation by the authorizer's tenant, 400 on bad input."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID

from serverless_patterns.lambdas.multi_tenant_api.backend import app
from serverless_patterns.multi_tenant_api.args import ROUTES

from .tokens import ACCOUNT, API_ID, REGION, STAGE, LambdaContext

ITEMS_TABLE = "tenant-items"
# In the account of the table (moto maps assumed-role credentials to the role ARN's account).
TENANT_ROLE_ARN = f"arn:aws:iam::{DEFAULT_ACCOUNT_ID}:role/tenant-data-0123456789abcdef"


@pytest.fixture(autouse=True)
def items_table(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("ITEMS_TABLE", ITEMS_TABLE)
    monkeypatch.setenv("TENANT_ROLE_ARN", TENANT_ROLE_ARN)
    monkeypatch.setattr(app, "_scoped", None)
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        client.create_table(
            TableName=ITEMS_TABLE, BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "tenantId", "AttributeType": "S"},
                                  {"AttributeName": "itemId", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "tenantId", "KeyType": "HASH"},
                       {"AttributeName": "itemId", "KeyType": "RANGE"}])
        yield client


def request(method: str, path: str, tenant: str | None = "acme-corp", body: Any = None,
            query: dict[str, str] | None = None, resource: str | None = None,
            path_parameters: dict[str, str] | None = None, tier: str = "trial", api_key_id: str = "key-id",
            usage_plan_id: str | None = None) -> dict[str, Any]:
    """A REST API proxy event as API Gateway sends it after the Lambda authorizer allowed the call."""
    authorizer: dict[str, Any] = {"principalId": "user-sub", "integrationLatency": 12}
    if tenant is not None:
        authorizer.update({"tenantId": tenant, "tier": tier})
    if usage_plan_id is not None:
        authorizer["usagePlanId"] = usage_plan_id
    event = {
        "resource": resource or path, "path": path, "httpMethod": method,
        "headers": {"Content-Type": "application/json", "Authorization": "Bearer x.y.z"},
        "multiValueHeaders": {}, "queryStringParameters": query, "multiValueQueryStringParameters":
            {k: [v] for k, v in (query or {}).items()} or None,
        "pathParameters": path_parameters, "stageVariables": None,
        "requestContext": {"accountId": ACCOUNT, "apiId": API_ID, "stage": STAGE, "httpMethod": method,
                           "path": f"/{STAGE}{path}", "resourcePath": resource or path, "requestId": "req-1",
                           "identity": {"sourceIp": "192.0.2.1", "apiKeyId": api_key_id or None},
                           "authorizer": authorizer},
        "body": body if body is None or isinstance(body, str) else json.dumps(body),
        "isBase64Encoded": False,
    }
    response = app.handler(event, LambdaContext())
    return {"status": response["statusCode"], "body": json.loads(response["body"]) if response.get("body") else None}


def create(tenant: str, name: str) -> dict[str, Any]:
    response = request("POST", "/items", tenant=tenant, body={"name": name, "quantity": 3})
    assert response["status"] == 201, response
    return response["body"]


def get(tenant: str, item_id: str) -> dict[str, Any]:
    return request("GET", f"/items/{item_id}", tenant=tenant, resource="/items/{itemId}",
                   path_parameters={"itemId": item_id})


def test_root_reports_the_authorizers_tenant() -> None:
    assert request("GET", "/", tenant="globex", tier="business") == {
        "status": 200, "body": {"tenantId": "globex", "tier": "business"}}


def test_create_and_read_back() -> None:
    item = create("acme-corp", "anvil")
    assert item["name"] == "anvil" and item["quantity"] == 3
    assert get("acme-corp", item["itemId"]) == {"status": 200, "body": item}


def test_a_tenant_cannot_read_or_delete_another_tenants_items(items_table: Any) -> None:
    acme = create("acme-corp", "anvil")
    create("globex", "gadget")
    assert get("globex", acme["itemId"])["status"] == 404
    deleted = request("DELETE", f"/items/{acme['itemId']}", tenant="globex", resource="/items/{itemId}",
                      path_parameters={"itemId": acme["itemId"]})
    assert deleted["status"] == 404
    assert get("acme-corp", acme["itemId"])["status"] == 200
    listed = {t: [i["name"] for i in request("GET", "/items", tenant=t)["body"]["items"]]
              for t in ("acme-corp", "globex", "initech")}
    assert listed == {"acme-corp": ["anvil"], "globex": ["gadget"], "initech": []}
    # Stored under the tenant partition key.
    rows = items_table.scan(TableName=ITEMS_TABLE)["Items"]
    assert sorted(r["tenantId"]["S"] for r in rows) == ["acme-corp", "globex"]


def test_the_tenant_comes_only_from_the_authorizer_context() -> None:
    response = request("POST", "/items", tenant="acme-corp", body={"name": "x", "tenantId": "globex"})
    assert response["status"] == 400  # unknown body fields are refused, not used
    response = request("GET", "/items", tenant="acme-corp", query={"tenantId": "globex"})
    assert response["status"] == 200
    create("globex", "secret-plan")
    assert response["body"]["items"] == []


def test_owner_can_delete() -> None:
    item = create("acme-corp", "anvil")
    response = request("DELETE", f"/items/{item['itemId']}", resource="/items/{itemId}",
                       path_parameters={"itemId": item["itemId"]})
    assert response["status"] == 204
    assert get("acme-corp", item["itemId"])["status"] == 404


@pytest.mark.parametrize("body", [
    pytest.param("{not json", id="malformed-json"),
    pytest.param("", id="empty-body"),
    pytest.param(None, id="no-body"),
    pytest.param([1, 2], id="array"),
    pytest.param({"quantity": 1}, id="missing-name"),
    pytest.param({"name": ""}, id="empty-name"),
    pytest.param({"name": "x" * 201}, id="long-name"),
    pytest.param({"name": "anvil", "quantity": -1}, id="negative-quantity"),
    pytest.param({"name": "anvil", "quantity": "many"}, id="non-numeric-quantity"),
    pytest.param({"name": "anvil", "owner": "someone"}, id="unknown-field"),
])
def test_malformed_bodies_are_400_with_a_reason(body: Any) -> None:
    response = request("POST", "/items", body=body)
    assert response["status"] == 400, response
    assert response["body"]["message"] == "Bad request"
    assert response["body"]["errors"]


def test_bad_query_parameters_are_400() -> None:
    assert request("GET", "/items", query={"limit": "0"})["status"] == 400
    assert request("GET", "/items", query={"limit": "lots"})["status"] == 400


def test_a_request_without_tenant_context_is_refused_not_500() -> None:
    assert request("GET", "/items", tenant=None)["status"] == 403


@pytest.mark.parametrize(("method", "resource"), ROUTES)
def test_every_api_route_has_a_backend_handler(method: str, resource: str) -> None:
    path = resource.replace("{itemId}", "missing-item")
    body = {"name": "anvil"} if method == "POST" else None
    parameters = {"itemId": "missing-item"} if "{itemId}" in resource else None
    response = request(method, path, body=body, resource=resource, path_parameters=parameters)
    # Powertools answers unknown routes with 404 "Not found"; a routed request never does.
    assert not (response["status"] == 404 and response["body"]["message"] == "Not found"), (method, resource)
    assert response["status"] < 500


# -- GET /usage ----------------------------------------------------------------------------------------------
# moto has no GetUsage, so API Gateway is a botocore Stubber here: it checks our parameters and the canned
# response against API Gateway's model. Response shape: items = keyId -> [[used, remaining], ...] per day
# from startDate (https://docs.aws.amazon.com/apigateway/latest/api/API_GetUsage.html).

@pytest.fixture
def usage_api(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    from botocore.stub import Stubber
    client = boto3.client("apigateway", region_name=REGION)
    monkeypatch.setattr(app, "_apigateway", client)
    with Stubber(client) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


def usage_request(tenant: str, key_id: str, plan_id: str, query: dict[str, str] | None = None) -> dict[str, Any]:
    return request("GET", "/usage", tenant=tenant, query=query, api_key_id=key_id, usage_plan_id=plan_id)


def test_usage_returns_the_callers_own_key_on_its_plan(usage_api: Any) -> None:
    usage_api.add_response(
        "get_usage",
        {"usagePlanId": "plan-trial", "startDate": "2026-11-01", "endDate": "2026-11-03",
         "items": {"key-acme": [[5, 0], [2, 3], [0, 5]]}},
        {"usagePlanId": "plan-trial", "keyId": "key-acme", "startDate": "2026-11-01", "endDate": "2026-11-03"})
    response = usage_request("acme-corp", "key-acme", "plan-trial", {"start": "2026-11-01", "end": "2026-11-03"})
    assert response == {"status": 200, "body": {
        "tenantId": "acme-corp", "tier": "trial", "startDate": "2026-11-01", "endDate": "2026-11-03",
        "days": [{"date": "2026-11-01", "used": 5, "remaining": 0}, {"date": "2026-11-02", "used": 2, "remaining": 3},
                 {"date": "2026-11-03", "used": 0, "remaining": 5}]}}


def test_usage_ignores_other_keys_in_the_plans_answer(usage_api: Any) -> None:
    usage_api.add_response(
        "get_usage", {"items": {"key-globex": [[40, 60]], "key-acme": [[1, 4]]}},
        {"usagePlanId": "plan-trial", "keyId": "key-acme", "startDate": "2026-11-02", "endDate": "2026-11-02"})
    body = usage_request("acme-corp", "key-acme", "plan-trial", {"start": "2026-11-02", "end": "2026-11-02"})["body"]
    assert body["days"] == [{"date": "2026-11-02", "used": 1, "remaining": 4}]


@pytest.mark.parametrize("query", [
    {"start": "2026-11-31"}, {"start": "yesterday"}, {"end": "20261101"},
    {"start": "2026-11-05", "end": "2026-11-01"}, {"start": "2026-01-01", "end": "2026-11-01"},
])
def test_usage_bad_windows_are_400_without_calling_api_gateway(usage_api: Any, query: dict[str, str]) -> None:
    response = usage_request("acme-corp", "key-acme", "plan-trial", query)
    assert response["status"] == 400 and response["body"]["message"]


def test_usage_without_a_metered_key_is_403(usage_api: Any) -> None:
    assert usage_request("acme-corp", "", "plan-trial")["status"] == 403
