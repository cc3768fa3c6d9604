"""The tenant-scoped backend against moto DynamoDB: isolation by the authorizer's tenant, 400 on bad input."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
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


def proxy_event(method: str, path: str, tenant: str | None = "acme-corp", body: Any = None,
                query: dict[str, str] | None = None, resource: str | None = None,
                path_parameters: dict[str, str] | None = None, tier: str = "trial", api_key_id: str = "key-id",
                usage_plan_id: str | None = None) -> dict[str, Any]:
    """A REST API proxy event as API Gateway sends it after the Lambda authorizer allowed the call."""
    authorizer: dict[str, Any] = {"principalId": "user-sub", "integrationLatency": 12}
    if tenant is not None:
        authorizer.update({"tenantId": tenant, "tier": tier})
    if usage_plan_id is not None:
        authorizer["usagePlanId"] = usage_plan_id
    return {
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


def request(method: str, path: str, tenant: str | None = "acme-corp", body: Any = None, **event: Any
            ) -> dict[str, Any]:
    """The backend's answer to `proxy_event(...)`: status and parsed body."""
    response = app.handler(proxy_event(method, path, tenant, body, **event), LambdaContext())
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
    pytest.param({"name": "   "}, id="blank-name"),
    pytest.param({"name": "anvil", "quantity": "3"}, id="quantity-as-string"),
    pytest.param({"name": "anvil", "quantity": 1_000_001}, id="too-many"),
    pytest.param({"name": "anvil", "description": "x" * 2001}, id="long-description"),
    pytest.param('"anvil"', id="json-string"),
    pytest.param('{"name": ' + "[" * 600 + "]" * 600 + "}", id="nested-past-the-trimming"),
    pytest.param('{"name": ' + "[" * 50_000 + "]" * 50_000 + "}", id="nested-past-the-parser"),
    pytest.param('{"name": "anvil", "quantity": ' + "9" * 5000 + "}", id="integer-past-python-digits"),
])
def test_malformed_bodies_are_400_with_a_reason(body: Any) -> None:
    response = request("POST", "/items", body=body)
    assert response["status"] == 400, response
    assert response["body"]["message"] == "Bad request"
    [error] = response["body"]["errors"]  # the first error the validator meets
    assert error["location"].startswith("body") and error["message"]


@pytest.mark.parametrize(("body", "location", "words"), [
    ({"name": "   "}, "body.name", "longer than or equal to 1"),
    ({"name": "anvil", "quantity": -1}, "body.quantity", "bigger than or equal to 0"),
    ({"name": "anvil", "quantity": "3"}, "body.quantity", "integer"),
    ({"name": "anvil", "owner": "someone"}, "body", "owner"),
    ({"quantity": 1}, "body", "name"),
    ("{not json", "body", "not JSON"),
])
def test_the_reason_names_the_field(body: Any, location: str, words: str) -> None:
    [error] = request("POST", "/items", body=body)["body"]["errors"]
    assert error["location"] == location and words in error["message"], error


def test_strings_are_trimmed_and_a_whole_float_is_an_integer() -> None:
    item = create("acme-corp", "  anvil \n")
    assert item["name"] == "anvil"
    response = request("POST", "/items", body={"name": "anvil", "description": " heavy ", "quantity": 3.0})
    assert response["status"] == 201
    assert (response["body"]["description"], response["body"]["quantity"]) == ("heavy", 3)


@pytest.mark.parametrize("limit", ["0", "101", "lots", "1.5", " 5", "-1", "1e2", ""])
def test_bad_query_parameters_are_400(limit: str) -> None:
    response = request("GET", "/items", query={"limit": limit})
    assert response["status"] == 400
    assert response["body"]["errors"] == [{"location": "query.limit", "message": "must be an integer from 1 to 100"}]


def test_limit_bounds_the_page(items_table: Any) -> None:
    for name in ("a", "b", "c"):
        create("acme-corp", name)
    assert len(request("GET", "/items", query={"limit": "2"})["body"]["items"]) == 2
    assert len(request("GET", "/items", query={"limit": "100"})["body"]["items"]) == 3
    assert len(request("GET", "/items", query={"limit": "1"})["body"]["items"]) == 1


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


def test_neither_rest_handler_imports_pydantic(tmp_path: Path) -> None:
    """pydantic's import alone (the resolver's `enable_validation`) put the tenant backend and the admin function over
    their cold-start goal (README, Benchmarks): neither may load it. Each is imported in a fresh interpreter from a
    copy of its archive's own files (the folder and the shared modules it imports, as `/var/task` holds them) and
    refuses a malformed query, then malformed bodies there; fastjsonschema is what they load instead, when the
    first body is checked."""
    import shutil
    import subprocess
    import sys

    from serverless_patterns.core.packaging import function_dir, function_files

    from .lifecycle_env import admin_event

    cases = {
        "multi_tenant_api/backend": [
            (proxy_event("GET", "/items", query={"limit": "lots"}), "query.limit"),
            (proxy_event("POST", "/items", body={"name": "   "}), "body.name")],
        "multi_tenant_api/admin": [
            (admin_event("GET", "/admin/usage", query={"limit": "500"}), "query.limit"),
            (admin_event("POST", "/admin/tenants", {"tenantId": "rt-x1", "tier": "trial", "apiKey": "mine"}), "body"),
            (admin_event("PUT", "/admin/tenants/rt-x1/tier", {"tier": " "}), "body.tier")],
    }
    env = {"PATH": "/usr/bin:/bin", "AWS_DEFAULT_REGION": REGION, "POWERTOOLS_TRACE_DISABLED": "1",
           "POWERTOOLS_SERVICE_NAME": "multi-tenant-api", "TENANT_KEYS_TABLE": "keys",
           "LIFECYCLE_MACHINE_ARN": f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:lifecycle",
           "TIER_PLANS": json.dumps({"trial": "plan1"}), "RUNTIME_ID_PREFIX": "rt-", "API_KEY_CEILING": "100",
           "ADMIN_AUTH": "cognito", "ROTATION_OVERLAP_SECONDS": "3600"}
    for name, requests in cases.items():
        code = tmp_path / name.replace("/", "-")
        for file, source in function_files(function_dir(name)).items():
            (code / file).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, code / file)
        script = f"""
import json, sys
sys.path.insert(0, {str(code)!r})
def libraries():
    return sorted(name for name in ("pydantic", "fastjsonschema") if name in sys.modules)
class Context:
    function_name, memory_limit_in_mb, aws_request_id = "fn", 256, "00000000-0000-0000-0000-000000000000"
    invoked_function_arn = "arn:aws:lambda:{REGION}:{ACCOUNT}:function:fn"
import app
loaded = {{"import": libraries()}}
answers = []
for number, event in enumerate(json.loads(sys.stdin.read())):
    answers.append(app.handler(event, Context()))
    loaded[f"after request {{number}}"] = libraries()
print(json.dumps({{"loaded": loaded, "answers": [[a["statusCode"], json.loads(a["body"])] for a in answers]}}))
"""
        done = subprocess.run([sys.executable, "-c", script], input=json.dumps([e for e, _ in requests]),
                              capture_output=True, text=True, env=env, timeout=120, cwd=tmp_path)
        assert done.returncode == 0, done.stderr[-2000:]
        result = json.loads(done.stdout.strip().splitlines()[-1])
        # Validators are generated on first use: importing the handler and answering a query load neither
        # library; the first body loads fastjsonschema.
        assert result["loaded"] == {"import": [], "after request 0": [],
                                    **{f"after request {n}": ["fastjsonschema"] for n in range(1, len(requests))}}, name
        for (status, body), (_, location) in zip(result["answers"], requests, strict=True):
            assert status == 400 and body["message"] == "Bad request", (name, body)
            assert [e["location"] for e in body["errors"]] == [location], (name, body)
