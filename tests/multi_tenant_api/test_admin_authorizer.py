"""The admin authorizer: a valid pool token whose `cognito:groups` holds the admin group, for admin routes only."""

from __future__ import annotations

from typing import Any

import pytest

from serverless_patterns.lambdas.multi_tenant_api.authorizer import app
from serverless_patterns.lambdas.multi_tenant_api.authorizer.app import (
    Authorizer,
    Deadline,
    DeadlineExceeded,
    JwksCache,
    Settings,
    Unauthorized,
)

from .conftest import KEYS_TABLE
from .tokens import (
    CLIENT_ID,
    EXECUTION_ARN,
    ISSUER,
    STAGE,
    JwksServer,
    SigningKey,
    access_claims,
    id_claims,
    tampered,
    token_event,
)

ADMIN_ROUTE = f"{EXECUTION_ARN}/{STAGE}/POST/admin/tenants"


def admin_authorizer(jwks_server: JwksServer, group: str = "tenant-admins") -> Authorizer:
    settings = Settings(api_execution_arn=EXECUTION_ARN, stage=STAGE, table_name=KEYS_TABLE, issuer=ISSUER,
                        jwks_url=jwks_server.url, client_id=CLIENT_ID, admin_group=group)
    return Authorizer(settings, jwks=JwksCache(settings.jwks_url))


def statement(response: dict[str, Any]) -> dict[str, Any]:
    return dict(response["policyDocument"]["Statement"][0])


def test_a_member_of_the_admin_group_may_call_the_admin_routes_only(jwks_server: JwksServer,
                                                                   signing_key: SigningKey) -> None:
    token = signing_key.sign(id_claims(tenant=None, **{"cognito:groups": ["readers", "tenant-admins"]}))
    response = admin_authorizer(jwks_server).admin(token_event(token, ADMIN_ROUTE))
    assert statement(response)["Effect"] == "Allow"
    assert statement(response)["Resource"] == f"{EXECUTION_ARN}/{STAGE}/*/admin/*"
    assert response["context"] == {"admin": "true", "principalId": response["principalId"]}
    assert "usageIdentifierKey" not in response


@pytest.mark.parametrize("groups", [None, [], ["readers"], "tenant-admins", ["Tenant-Admins"]])
def test_anyone_else_is_denied(jwks_server: JwksServer, signing_key: SigningKey, groups: Any) -> None:
    claims = id_claims(tenant="acme-corp")
    if groups is not None:
        claims["cognito:groups"] = groups
    response = admin_authorizer(jwks_server).admin(token_event(signing_key.sign(claims), ADMIN_ROUTE))
    # The whole statement: API Gateway matches the request's method ARN against the statement's Resource (an
    # explicit Deny there is the 403), so the Deny names the admin routes (Lambda authorizer output,
    # https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-lambda-authorizer-output.html).
    assert statement(response) == {"Action": "execute-api:Invoke", "Effect": "Deny",
                                   "Resource": f"{EXECUTION_ARN}/{STAGE}/*/admin/*"}
    assert "context" not in response and "usageIdentifierKey" not in response


def test_a_forged_group_claim_is_refused(jwks_server: JwksServer, signing_key: SigningKey) -> None:
    token = signing_key.sign(id_claims(tenant=None, **{"cognito:groups": ["readers"]}))
    with pytest.raises(Unauthorized):
        admin_authorizer(jwks_server).admin(token_event(tampered(token, **{"cognito:groups": ["tenant-admins"]}),
                                                        ADMIN_ROUTE))


def test_without_an_admin_group_setting_nothing_is_admitted(jwks_server: JwksServer,
                                                            signing_key: SigningKey) -> None:
    token = signing_key.sign(id_claims(tenant=None, **{"cognito:groups": ["tenant-admins"]}))
    with pytest.raises(Unauthorized):
        admin_authorizer(jwks_server, group="").admin(token_event(token, ADMIN_ROUTE))


def _refusal(authorizer: Authorizer, event: dict[str, Any], deadline: Any = None) -> str:
    with pytest.raises(Unauthorized) as refused:
        authorizer.admin(event, deadline)
    return str(refused.value)


def test_each_refusal_says_why(jwks_server: JwksServer, signing_key: SigningKey) -> None:
    """The reason is what the handler logs for the operator (the caller sees a bare 401)."""
    token = signing_key.sign(id_claims(tenant=None, **{"cognito:groups": ["tenant-admins"]}))
    admins = admin_authorizer(jwks_server)
    assert _refusal(admins, {**token_event(token, ADMIN_ROUTE), "type": "REQUEST"}) == \
        "not a TOKEN authorizer event, or no admin group configured"
    assert _refusal(admin_authorizer(jwks_server, group=""), token_event(token, ADMIN_ROUTE)) == \
        "not a TOKEN authorizer event, or no admin group configured"
    assert _refusal(admins, token_event(token, ADMIN_ROUTE, scheme="Basic ")) == "no bearer token"
    assert _refusal(admins, token_event(None, ADMIN_ROUTE)) == "no bearer token"


def test_admin_access_tokens_come_from_the_app_client_only(jwks_server: JwksServer,
                                                          signing_key: SigningKey) -> None:
    """With access tokens (no `aud`), `client_id` names the app client that got the token (Cognito developer guide,
    "Understanding the access token"); a machine client's token is never an admin's, whatever its groups."""
    settings = Settings(api_execution_arn=EXECUTION_ARN, stage=STAGE, table_name=KEYS_TABLE, issuer=ISSUER,
                        jwks_url=jwks_server.url, client_id=CLIENT_ID, token_use="access",
                        admin_group="tenant-admins")
    admins = Authorizer(settings, jwks=JwksCache(settings.jwks_url))
    own = signing_key.sign(access_claims(tenant=None, **{"cognito:groups": ["tenant-admins"]}))
    assert statement(admins.admin(token_event(own, ADMIN_ROUTE)))["Effect"] == "Allow"
    machine = signing_key.sign(access_claims(tenant=None, client_id="machine-client",
                                             **{"cognito:groups": ["tenant-admins"]}))
    assert _refusal(admins, token_event(machine, ADMIN_ROUTE)) == "admin access tokens come from the app client only"


def test_the_principal_is_the_callers_sub_and_a_denial_is_logged_with_it(
        jwks_server: JwksServer, signing_key: SigningKey, monkeypatch: pytest.MonkeyPatch) -> None:
    logged: list[tuple[str, Any]] = []
    monkeypatch.setattr(app.logger, "info", lambda message, *a, extra=None, **k: logged.append((message, extra)))
    admin_claims = id_claims(tenant=None, **{"cognito:groups": ["tenant-admins"]})
    allowed = admin_authorizer(jwks_server).admin(token_event(signing_key.sign(admin_claims), ADMIN_ROUTE))
    assert allowed["principalId"] == admin_claims["sub"]
    reader = id_claims(tenant=None, **{"cognito:groups": ["readers"]})
    denied = admin_authorizer(jwks_server).admin(token_event(signing_key.sign(reader), ADMIN_ROUTE))
    assert denied["principalId"] == reader["sub"]
    assert logged == [("denied: not an admin", {"sub": reader["sub"]})]


def test_the_invocation_deadline_reaches_the_token_check(jwks_server: JwksServer, signing_key: SigningKey) -> None:
    """With no time left, the JWKS is not fetched: a 401 now beats API Gateway's timeout (a 500)."""
    token = signing_key.sign(id_claims(tenant=None, **{"cognito:groups": ["tenant-admins"]}))
    fetched = jwks_server.hits
    with pytest.raises(DeadlineExceeded):
        admin_authorizer(jwks_server).admin(token_event(token, ADMIN_ROUTE), Deadline(0.0))
    assert jwks_server.hits == fetched
