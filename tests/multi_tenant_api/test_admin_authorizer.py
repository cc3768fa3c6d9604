"""The admin authorizer: a valid pool token whose `cognito:groups` holds the admin group, for admin routes only."""

from __future__ import annotations

from typing import Any

import pytest

from serverless_patterns.lambdas.multi_tenant_api.authorizer.app import Authorizer, JwksCache, Settings, Unauthorized

from .conftest import KEYS_TABLE
from .tokens import CLIENT_ID, EXECUTION_ARN, ISSUER, STAGE, JwksServer, SigningKey, id_claims, tampered, token_event

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
    assert statement(response)["Effect"] == "Deny" and "context" not in response


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
