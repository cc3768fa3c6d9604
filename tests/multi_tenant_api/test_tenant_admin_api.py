"""The admin API's refusals, interrupted onboardings resumed and rolled back, and GET /admin/usage."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.stub import Stubber

from serverless_patterns.lambdas.multi_tenant_api.admin import app as admin_app

from .lifecycle_env import CONFIG_TENANT, KEY_PREFIX, Lifecycle, lifecycle
from .tokens import METHOD_ARN, token_event

pytestmark = pytest.mark.heavy  # each test onboards tenants through the lifecycle workflow

EMAIL = "ada@umbrella.example"


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> Iterator[Lifecycle]:
    with lifecycle(monkeypatch) as e:
        yield e


# -- who may call, and bad input ------------------------------------------------------------------------------

def test_non_admins_are_refused_on_every_route(env: Lifecycle) -> None:
    for method, path, body in (("POST", "/admin/tenants", {"tenantId": "rt-x1", "tier": "trial"}),
                               ("GET", "/admin/tenants/rt-x1", None), ("GET", "/admin/usage", None),
                               ("POST", "/admin/tenants/rt-x1/suspend", None)):
        status, answer = env.call(method, path, body, admin=False)
        assert status == 403 and "admin group" in answer["message"], (method, path, answer)
    assert env.row("rt-x1") is None


def test_iam_mode_needs_a_signed_caller(monkeypatch: pytest.MonkeyPatch) -> None:
    with lifecycle(monkeypatch, auth="iam") as env:
        status, answer = env.call("GET", "/admin/usage", admin=True)
        assert status == 403 and "SigV4" in answer["message"]
        status, _ = env.call("GET", f"/admin/tenants/{CONFIG_TENANT}",
                             user_arn="arn:aws:iam::111111111111:role/platform-admin")
        assert status == 409  # admitted; the tenant is Pulumi's


@pytest.mark.parametrize(("body", "status", "reason"), [
    ({"tenantId": "rt-umbrella", "tier": "platinum"}, 400, "unknown tier 'platinum'; tiers: business, trial"),
    ({"tenantId": "RT_Umbrella", "tier": "trial"}, 400, "is malformed"),
    ({"tenantId": "umbrella", "tier": "trial"}, 400, "start with 'rt-'"),
    ({"tenantId": CONFIG_TENANT, "tier": "trial"}, 400, "ids without it belong to stack config"),
    ({"tenantId": "rt-umbrella"}, 400, "Bad request"),
    ({"tenantId": "rt-umbrella", "tier": "trial", "firstUserEmail": "not-an-address"}, 400, "Bad request"),
    ({"tenantId": "rt-umbrella", "tier": "trial", "apiKey": "chosen-by-me-000000000"}, 400, "Bad request"),
    ({"tenantId": "rt-umbrella", "tier": "   "}, 400, '"location": "body.tier"'),
    ({"tenantId": "rt-umbrella", "tier": "trial", "firstUserEmail": "a@b"}, 400, '"location": "body.firstUserEmail"'),
    ({"tenantId": "rt-umbrella", "tier": "trial", "machineScopes": []}, 400, '"location": "body.machineScopes"'),
    ({"tenantId": "rt-umbrella", "tier": "trial", "machineScopes": ["items.read", " "]}, 400,
     '"location": "body.machineScopes.1"'),
    ({"tenantId": "rt-umbrella", "tier": "trial", "machineScopes": ["s"] * 11}, 400, "body.machineScopes"),
    ({"tenantId": "x" * 65, "tier": "trial"}, 400, '"location": "body.tenantId"'),
])
def test_bad_onboarding_requests_get_a_4xx_with_the_reason(env: Lifecycle, body: dict[str, Any], status: int,
                                                          reason: str) -> None:
    got, answer = env.call("POST", "/admin/tenants", body)
    assert got == status and reason in json.dumps(answer), answer
    assert env.row(str(body.get("tenantId"))) is None or body["tenantId"] == CONFIG_TENANT


def test_onboarding_trims_the_strings_of_the_body(env: Lifecycle) -> None:
    """Surrounding whitespace is not part of an id, a tier or an address (as with pydantic's str_strip_whitespace)."""
    run = env.run("POST", "/admin/tenants", {"tenantId": " rt-umbrella ", "tier": "trial\n", "firstUserEmail": None})
    assert run.status == "SUCCEEDED", run.describe()
    row = env.row("rt-umbrella")
    assert row is not None and row["tier"] == "trial" and "requestedFirstUser" not in row


def test_a_duplicate_tenant_is_refused(env: Lifecycle) -> None:
    assert env.run("POST", "/admin/tenants", {"tenantId": "rt-umbrella", "tier": "trial"}).status == "SUCCEEDED"
    status, answer = env.call("POST", "/admin/tenants", {"tenantId": "rt-umbrella", "tier": "business"})
    assert status == 409 and answer["message"] == "tenant rt-umbrella already exists"
    row = env.row("rt-umbrella")
    assert row is not None and row["tier"] == "trial"


def test_onboarding_past_the_key_ceiling_is_refused_before_api_gateway(monkeypatch: pytest.MonkeyPatch) -> None:
    # The account holds the config tenant's key; a ceiling of 2 leaves room for exactly one run-time tenant.
    with lifecycle(monkeypatch, ceiling=2) as env:
        assert env.run("POST", "/admin/tenants", {"tenantId": "rt-one", "tier": "trial"}).status == "SUCCEEDED"
        status, answer = env.call("POST", "/admin/tenants", {"tenantId": "rt-two", "tier": "trial"})
        assert status == 409
        assert "holds 2 API keys" in answer["message"] and "ceiling of 2" in answer["message"]
        assert "10000 per account and Region" in answer["message"]
        assert env.row("rt-two") is None and len(env.apigw.get_api_keys()["items"]) == 2
        # a rotation needs a second key for the overlap: refused the same way
        status, answer = env.call("POST", "/admin/tenants/rt-one/rotate-key")
        assert status == 409 and "ceiling of 2" in answer["message"]


def test_mutations_of_unknown_tenants_and_bad_ids_are_4xx(env: Lifecycle) -> None:
    assert env.call("POST", "/admin/tenants/rt-nobody/suspend")[0] == 404
    status, answer = env.call("POST", "/admin/tenants/Bad_Id/suspend")
    assert status == 400 and "malformed" in answer["message"]
    status, answer = env.call("PUT", "/admin/tenants/rt-nobody/tier", {"tier": "gold", "extra": 1})
    assert status == 400


# -- interrupted onboardings ------------------------------------------------------------------------------------

def interrupted(env: Lifecycle, tenant_id: str) -> dict[str, Any]:
    """An onboarding stopped half-way: the first user's address belongs to a user of another tenant."""
    env.idp.admin_create_user(UserPoolId=env.pool_id, Username=EMAIL, MessageAction="SUPPRESS",
                              UserAttributes=[{"Name": "email", "Value": EMAIL},
                                              {"Name": "custom:tenant_id", "Value": "rt-other"}])
    run = env.run("POST", "/admin/tenants", {"tenantId": tenant_id, "tier": "trial", "firstUserEmail": EMAIL})
    assert run.status == "FAILED" and run.error == "TenantLifecycleFailed", run.describe()
    row = env.row(tenant_id)
    assert row is not None
    assert (row["status"], row["lastError"], row["failedOperation"]) == ("onboarding", "FirstUserExists", "onboard")
    assert set(row["steps"]) == {"apiKey", "usagePlan"}
    return row


def test_an_interrupted_onboarding_resumes_without_a_second_key(env: Lifecycle) -> None:
    row = interrupted(env, "rt-umbrella")
    # the operator frees the address; resuming repeats every step, each finding its own work done
    env.idp.admin_delete_user(UserPoolId=env.pool_id, Username=EMAIL)
    run = env.run("POST", "/admin/tenants/rt-umbrella/onboarding/resume")
    assert run.status == "SUCCEEDED", run.describe()
    after = env.row("rt-umbrella")
    assert after is not None and after["status"] == "active" and "lastError" not in after
    assert after["apiKeyId"] == row["apiKeyId"] and [k["id"] for k in env.keys_named("rt-umbrella")] == [
        row["apiKeyId"]]
    assert row["apiKeyId"] in env.plan_keys("trial")
    token = env.sign_in(EMAIL)
    assert env.authorizer().token(token_event(token, METHOD_ARN))["context"]["tenantId"] == "rt-umbrella"
    assert env.call("POST", "/admin/tenants/rt-umbrella/onboarding/resume")[0] == 409  # nothing left to resume


def test_a_key_created_but_not_recorded_is_found_again_on_resume(env: Lifecycle,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The steps function stops between CreateApiKey and recording it: the repeat reuses that key."""
    original = env.steps.dynamodb.update_item
    calls = {"n": 0}

    def lost_write(**kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise TimeoutError("the function timed out before recording the key")
        return original(**kwargs)

    monkeypatch.setattr(env.steps.dynamodb, "update_item", lost_write)
    run = env.run("POST", "/admin/tenants", {"tenantId": "rt-umbrella", "tier": "trial"})
    assert run.status == "FAILED"
    row = env.row("rt-umbrella")
    assert row is not None and "apiKeyId" not in row and len(env.keys_named("rt-umbrella")) == 1
    assert env.run("POST", "/admin/tenants/rt-umbrella/onboarding/resume").status == "SUCCEEDED"
    [key] = env.keys_named("rt-umbrella")
    after = env.row("rt-umbrella")
    assert after is not None and after["apiKeyId"] == key["id"] and after["status"] == "active"


def test_an_interrupted_onboarding_rolls_back_everything_it_made_and_nothing_else(env: Lifecycle) -> None:
    interrupted(env, "rt-umbrella")
    run = env.run("POST", "/admin/tenants/rt-umbrella/onboarding/rollback")
    assert run.status == "SUCCEEDED", run.describe()
    assert env.row("rt-umbrella") is None and env.keys_named("rt-umbrella") == []
    # the other tenant's user was never this onboarding's: it stays
    user = env.idp.admin_get_user(UserPoolId=env.pool_id, Username=EMAIL)
    assert {"Name": "custom:tenant_id", "Value": "rt-other"} in user["UserAttributes"]
    # the id is free again
    assert env.run("POST", "/admin/tenants", {"tenantId": "rt-umbrella", "tier": "trial"}).status == "SUCCEEDED"


def test_rollback_of_an_active_tenant_is_refused(env: Lifecycle) -> None:
    assert env.run("POST", "/admin/tenants", {"tenantId": "rt-umbrella", "tier": "trial"}).status == "SUCCEEDED"
    status, answer = env.call("POST", "/admin/tenants/rt-umbrella/onboarding/rollback")
    assert status == 409 and "while it is active" in answer["message"]


# -- GET /admin/usage -------------------------------------------------------------------------------------------
# moto has no GetUsage: API Gateway is a botocore Stubber for that call, which checks our parameters and the
# canned answers against API Gateway's model (items = keyId -> [[used, remaining], ...] per day from startDate,
# https://docs.aws.amazon.com/apigateway/latest/api/API_GetUsage.html).

def test_admin_usage_pages_through_every_tenant_with_its_own_usage(env: Lifecycle) -> None:
    for tenant_id in ("rt-b", "rt-c"):
        assert env.run("POST", "/admin/tenants", {"tenantId": tenant_id, "tier": "business"}).status == "SUCCEEDED"
    rows = {t: env.row(t) for t in (CONFIG_TENANT, "rt-b", "rt-c")}
    keys = {t: r["apiKeyId"] for t, r in rows.items() if r}
    used = {CONFIG_TENANT: 5, "rt-b": 7, "rt-c": 9}
    client = admin_app.clients().apigateway
    pages: list[dict[str, Any]] = []
    with Stubber(client) as stub:
        token = None
        seen: list[str] = []
        while True:
            query = {"start": "2026-11-01", "end": "2026-11-02", "limit": "2", **({"next": token} if token else {})}
            # what this page will ask for: its tenants in scan order
            page = env.ddb.scan(TableName="tenant-keys", Limit=2, ProjectionExpression="tenantId",
                                **({"ExclusiveStartKey": admin_app.decode_next(token)} if token else {}))
            for tenant_id in sorted(i["tenantId"]["S"] for i in page["Items"]):
                stub.add_response(
                    "get_usage",
                    {"usagePlanId": rows[tenant_id]["usagePlanId"], "startDate": "2026-11-01",  # type: ignore[index]
                     "endDate": "2026-11-02",
                     "items": {keys[tenant_id]: [[used[tenant_id], 100 - used[tenant_id]], [0, 100]],
                               "someone-elses-key": [[999, 0], [999, 0]]}},
                    {"usagePlanId": rows[tenant_id]["usagePlanId"], "keyId": keys[tenant_id],  # type: ignore[index]
                     "startDate": "2026-11-01", "endDate": "2026-11-02"})
            status, answer = env.call("GET", "/admin/usage", query=query)
            assert status == 200, answer
            pages.append(answer)
            seen += [t["tenantId"] for t in answer["tenants"]]
            token = answer["next"]
            if not token:
                break
        stub.assert_no_pending_responses()
    assert sorted(seen) == sorted(used) and len(pages) >= 2
    for tenant in (t for page in pages for t in page["tenants"]):
        assert tenant["days"] == [{"date": "2026-11-01", "used": used[tenant["tenantId"]],
                                   "remaining": 100 - used[tenant["tenantId"]]},
                                  {"date": "2026-11-02", "used": 0, "remaining": 100}]
    by_id = {t["tenantId"]: t for page in pages for t in page["tenants"]}
    assert by_id[CONFIG_TENANT]["managedBy"] == "pulumi" and by_id["rt-b"]["managedBy"] == "runtime"
    assert "apiKey" not in json.dumps(pages)


@pytest.mark.parametrize(("query", "reason"), [
    ({"next": "not-a-token"}, "next is not a token"),
    ({"start": "2026-13-01"}, "start must be a date"),
    ({"start": "2026-01-01", "end": "2026-12-31"}, "at most 90 days"),
    ({"limit": "500"}, "Bad request"),
    ({"limit": "0"}, '"location": "query.limit"'),
    ({"limit": "ten"}, "must be an integer from 1 to 50"),
])
def test_admin_usage_refuses_bad_queries(env: Lifecycle, query: dict[str, str], reason: str) -> None:
    status, answer = env.call("GET", "/admin/usage", query=query)
    assert status == 400 and reason in json.dumps(answer)


def test_key_names_are_the_tenant_with_the_component_prefix(env: Lifecycle) -> None:
    assert env.run("POST", "/admin/tenants", {"tenantId": "rt-umbrella", "tier": "trial"}).status == "SUCCEEDED"
    assert [k["name"] for k in env.keys_named("rt-umbrella")] == [f"{KEY_PREFIX}rt-umbrella"]
