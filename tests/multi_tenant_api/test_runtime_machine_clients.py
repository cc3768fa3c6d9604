"""Machine clients of run-time tenants (issue 15, item 2) in moto: onboarding with `machineScopes` gives the
tenant a client-credentials app client, registered for the pre-token trigger and the authorizer; its secret
stays in Cognito (read once through the admin API, never in the workflow's history); rollback and deletion
remove it.

moto has no OAuth2 token endpoint, so the access token is signed here, as in test_access_tokens.py: its
`client_id` is the client moto created, its `scope` the scopes Cognito holds for that client (a
client-credentials request without `scope` gets all of them: https://docs.aws.amazon.com/cognito/latest/developerguide/token-endpoint.html),
and its tenant claim is what the pre-token trigger answers for it, reading the registration the workflow wrote.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from serverless_patterns.lambdas.multi_tenant_api.authorizer.app import Authorizer, JwksCache, Settings
from serverless_patterns.lambdas.multi_tenant_api.pre_token import app as pre_token
from serverless_patterns.multi_tenant_api.args import RESOURCE_SERVER_IDENTIFIER, ROUTE_SCOPES

from .lifecycle_env import CLIENTS_TABLE, KEY_PREFIX, KEYS_TABLE, Lifecycle, lifecycle
from .test_access_tokens import v3_event
from .tokens import EXECUTION_ARN, ISSUER, STAGE, JwksServer, SigningKey, access_claims, token_event

TENANT = "rt-initech"
READ = f"{RESOURCE_SERVER_IDENTIFIER}/items.read"
FULL_ROUTE_SCOPES = {route: f"{RESOURCE_SERVER_IDENTIFIER}/{scope}" for route, scope in ROUTE_SCOPES.items()}


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> Iterator[Lifecycle]:
    with lifecycle(monkeypatch) as e:
        yield e


@pytest.fixture
def signing_key() -> SigningKey:
    return SigningKey()


def machine_token(env: Lifecycle, key: SigningKey, client_id: str, scopes: list[str]) -> str:
    """The access token Cognito would issue to the client: the trigger's answer decides the tenant claim."""
    event = pre_token.customize(v3_event(pre_token.CLIENT_CREDENTIALS, client_id=client_id, scopes=scopes),
                                CLIENTS_TABLE, env.ddb)
    claims = access_claims(None, client_id=client_id, scope=" ".join(scopes))
    overrides = event["response"]["claimsAndScopeOverrideDetails"]["accessTokenGeneration"]
    claims.update(overrides.get("claimsToAddOrOverride", {}))
    for name in overrides.get("claimsToSuppress", []):
        claims.pop(name, None)
    return key.sign(claims)


def access_authorizer(env: Lifecycle, server: JwksServer) -> Authorizer:
    settings = Settings(api_execution_arn=EXECUTION_ARN, stage=STAGE, table_name=KEYS_TABLE, issuer=ISSUER,
                        jwks_url=server.url, client_id=env.client_id, token_use="access",
                        route_scopes=FULL_ROUTE_SCOPES)
    return Authorizer(settings, jwks=JwksCache(server.url))


def clients_named(env: Lifecycle, tenant_id: str) -> list[dict[str, Any]]:
    listed = env.idp.list_user_pool_clients(UserPoolId=env.pool_id, MaxResults=60)["UserPoolClients"]
    return [c for c in listed if c["ClientName"] == f"{KEY_PREFIX}{tenant_id}-machine"]


def test_a_runtime_tenants_machine_client_is_accepted_with_its_scopes_then_removed_with_it(
        env: Lifecycle, signing_key: SigningKey) -> None:
    run = env.run("POST", "/admin/tenants", {"tenantId": TENANT, "tier": "trial", "machineScopes": ["items.read"]})
    assert run.status == "SUCCEEDED", run.describe()
    row = env.row(TENANT)
    assert row is not None and row["status"] == "active" and "machineClient" in row["steps"]
    [listed] = clients_named(env, TENANT)
    client_id = listed["ClientId"]
    assert row["machineClientIds"] == [client_id]
    client = env.idp.describe_user_pool_client(UserPoolId=env.pool_id, ClientId=client_id)["UserPoolClient"]
    assert client["AllowedOAuthFlows"] == ["client_credentials"] and client["AllowedOAuthScopes"] == [READ]
    assert client["ClientSecret"]
    registration = env.ddb.get_item(TableName=CLIENTS_TABLE, Key={"clientId": {"S": client_id}})["Item"]
    assert registration["tenantId"] == {"S": TENANT} and registration["managedBy"] == {"S": "runtime"}
    # The secret is nowhere in the execution; the admin reads it once, from Cognito, marked not to be cached.
    assert client["ClientSecret"] not in json.dumps(run.history, default=str)
    status, shown = env.call("GET", f"/admin/tenants/{TENANT}")
    assert status == 200 and client["ClientSecret"] not in json.dumps(shown)
    status, delivered = env.call("GET", f"/admin/tenants/{TENANT}/machine-client")
    assert status == 200, delivered
    assert (delivered["clientId"], delivered["clientSecret"], delivered["scopes"]) == (
        client_id, client["ClientSecret"], [READ])

    with JwksServer([signing_key]) as server:
        token = machine_token(env, signing_key, client_id, client["AllowedOAuthScopes"])
        response = access_authorizer(env, server).token(token_event(token))
        assert response["policyDocument"]["Statement"][0]["Effect"] == "Allow"
        assert response["context"] == {"tenantId": TENANT, "tier": "trial", "usagePlanId": env.plans["trial"],
                                       "scopes": READ}
        assert response["usageIdentifierKey"] == row["apiKey"]
        prefix = f"{EXECUTION_ARN}/{STAGE}"
        assert response["policyDocument"]["Statement"][0]["Resource"] == [
            f"{prefix}/GET/", f"{prefix}/GET/items", f"{prefix}/GET/items/*"]  # items.read routes only

        run = env.run("DELETE", f"/admin/tenants/{TENANT}", query={"data": "purge"})
        assert run.status == "SUCCEEDED", run.describe()
        with pytest.raises(env.idp.exceptions.ResourceNotFoundException):
            env.idp.describe_user_pool_client(UserPoolId=env.pool_id, ClientId=client_id)
        assert "Item" not in env.ddb.get_item(TableName=CLIENTS_TABLE, Key={"clientId": {"S": client_id}})
        # A token the client got before: no tenant claim from the trigger any more, refused.
        late = machine_token(env, signing_key, client_id, [READ])
        denied = access_authorizer(env, server).token(token_event(late))
        assert denied["policyDocument"]["Statement"][0]["Effect"] == "Deny" and "usageIdentifierKey" not in denied


def test_an_interrupted_onboarding_with_a_machine_client_rolls_back_without_it(env: Lifecycle) -> None:
    # The first user's address belongs to another tenant: onboarding stops after the client was created.
    env.idp.admin_create_user(UserPoolId=env.pool_id, Username="taken@other.example",
                              UserAttributes=[{"Name": "custom:tenant_id", "Value": "rt-other"}])
    run = env.run("POST", "/admin/tenants", {"tenantId": TENANT, "tier": "trial", "machineScopes": ["items.read"],
                                             "firstUserEmail": "taken@other.example"})
    assert run.status == "FAILED"
    row = env.row(TENANT)
    assert row is not None and row["status"] == "onboarding" and row["lastError"] == "FirstUserExists"
    [client] = clients_named(env, TENANT)
    status, answer = env.call("GET", f"/admin/tenants/{TENANT}/machine-client")
    assert status == 409 and "onboarding" in answer["message"]

    run = env.run("POST", f"/admin/tenants/{TENANT}/onboarding/rollback")
    assert run.status == "SUCCEEDED", run.describe()
    assert env.row(TENANT) is None and clients_named(env, TENANT) == []
    assert "Item" not in env.ddb.get_item(TableName=CLIENTS_TABLE, Key={"clientId": {"S": client["ClientId"]}})


def test_a_resumed_onboarding_reuses_the_client_an_attempt_left_unrecorded(env: Lifecycle,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    steps = env.steps
    real_update = steps.dynamodb.update_item
    calls = {"n": 0}

    def fail_recording_once(**kwargs: Any) -> Any:
        if "machineClientIds" in kwargs.get("UpdateExpression", "") and calls["n"] == 0:
            calls["n"] += 1
            raise steps.dynamodb.exceptions.InternalServerError(
                {"Error": {"Code": "InternalServerError", "Message": "injected"}}, "UpdateItem")
        return real_update(**kwargs)

    class Recording:
        """The moto client, with the machine-client recording failing once."""

        def __getattr__(self, name: str) -> Any:
            return fail_recording_once if name == "update_item" else getattr(env.ddb, name)

    monkeypatch.setattr(steps, "dynamodb", Recording())
    run = env.run("POST", "/admin/tenants", {"tenantId": TENANT, "tier": "trial", "machineScopes": ["items.read"]})
    assert run.status == "FAILED"
    [created] = clients_named(env, TENANT)
    run = env.run("POST", f"/admin/tenants/{TENANT}/onboarding/resume")
    assert run.status == "SUCCEEDED", run.describe()
    row = env.row(TENANT)
    assert row is not None and row["machineClientIds"] == [created["ClientId"]]
    assert clients_named(env, TENANT) == [created]


@pytest.mark.parametrize("body, reason", [
    ({"tenantId": TENANT, "tier": "trial", "machineScopes": ["items.admin"]}, "unknown machineScopes"),
    ({"tenantId": TENANT, "tier": "trial", "machineScopes": []}, "machineScopes"),
])
def test_bad_machine_scopes_are_400_with_the_reason(env: Lifecycle, body: dict[str, Any], reason: str) -> None:
    status, answer = env.call("POST", "/admin/tenants", body)
    assert status == 400 and reason in json.dumps(answer), answer
    assert env.row(TENANT) is None


def test_a_tenant_without_a_machine_client_has_none_to_read(env: Lifecycle) -> None:
    assert env.run("POST", "/admin/tenants", {"tenantId": TENANT, "tier": "trial"}).status == "SUCCEEDED"
    status, answer = env.call("GET", f"/admin/tenants/{TENANT}/machine-client")
    assert status == 404 and "machineScopes" in answer["message"]
    assert clients_named(env, TENANT) == []
