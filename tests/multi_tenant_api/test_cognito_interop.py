"""Tokens issued by a (moto) Cognito pool built like the planned one, verified by the real authorizer.

moto signs with one shared RSA key and serves the pool's JWKS to `requests` (not urllib), so the JWKS
fetcher is injected with `requests`. moto does not enforce attribute write permissions, immutability or
admin-only sign-up; those are asserted on the planned resources in test_component.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import requests
from moto import mock_aws

from serverless_patterns.lambdas.multi_tenant_api.authorizer.app import Authorizer, JwksCache, Settings, Unauthorized

from .conftest import KEYS_TABLE, TENANTS, create_key_table
from .test_component import build
from .tokens import EXECUTION_ARN, REGION, STAGE, token_event

PASSWORD = "Corr3ct-Horse-Battery!"


def pool_args(stack: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """CreateUserPool / CreateUserPoolClient arguments from the planned Cognito resources."""
    pool = stack.one("aws:cognito/userPool:UserPool").inputs
    client = stack.one("aws:cognito/userPoolClient:UserPoolClient").inputs
    schema = [{"Name": s["name"], "AttributeDataType": s["attributeDataType"], "Mutable": s["mutable"],
               "StringAttributeConstraints": {"MinLength": s["stringAttributeConstraints"]["minLength"],
                                              "MaxLength": s["stringAttributeConstraints"]["maxLength"]}}
              for s in pool["schemas"]]
    return ({"Schema": schema, "UsernameAttributes": pool["usernameAttributes"],
             "AdminCreateUserConfig": {"AllowAdminCreateUserOnly":
                                       pool["adminCreateUserConfig"]["allowAdminCreateUserOnly"]}},
            {"ReadAttributes": client["readAttributes"], "WriteAttributes": client["writeAttributes"],
             "ExplicitAuthFlows": ["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]})


class Cognito:
    def __init__(self, pool: dict[str, Any], client: dict[str, Any], name: str = "tenants") -> None:
        self.idp = boto3.client("cognito-idp", region_name=REGION)
        self.pool_id = self.idp.create_user_pool(PoolName=name, **pool)["UserPool"]["Id"]
        self.client_id = self.idp.create_user_pool_client(UserPoolId=self.pool_id, ClientName="app",
                                                          **client)["UserPoolClient"]["ClientId"]

    @property
    def issuer(self) -> str:
        return f"https://cognito-idp.{REGION}.amazonaws.com/{self.pool_id}"

    def user(self, email: str, tenant: str | None) -> dict[str, str]:
        """An administrator creates the user (with the tenant); the user signs in."""
        attributes = [{"Name": "email", "Value": email}]
        if tenant is not None:
            attributes.append({"Name": "custom:tenant_id", "Value": tenant})
        self.idp.admin_create_user(UserPoolId=self.pool_id, Username=email, UserAttributes=attributes,
                                   MessageAction="SUPPRESS")
        self.idp.admin_set_user_password(UserPoolId=self.pool_id, Username=email, Password=PASSWORD, Permanent=True)
        result = self.idp.admin_initiate_auth(UserPoolId=self.pool_id, ClientId=self.client_id,
                                              AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                                              AuthParameters={"USERNAME": email, "PASSWORD": PASSWORD})
        return result["AuthenticationResult"]


def fetch_with_requests(url: str, timeout: float, **_: Any) -> Any:
    response = requests.get(url, timeout=timeout)
    response.raise_for_status()
    return response.json()


@pytest.fixture(scope="module")
def planned() -> tuple[dict[str, Any], dict[str, Any]]:
    return pool_args(build())


@pytest.fixture
def cognito(planned: tuple[dict[str, Any], dict[str, Any]]) -> Iterator[Cognito]:
    with mock_aws():
        create_key_table()
        yield Cognito(*planned)


def authorizer_for(cognito: Cognito, token_use: str = "id") -> Authorizer:
    settings = Settings(api_execution_arn=EXECUTION_ARN, stage=STAGE, table_name=KEYS_TABLE, issuer=cognito.issuer,
                        jwks_url=cognito.issuer + "/.well-known/jwks.json", client_id=cognito.client_id,
                        token_use=token_use)
    return Authorizer(settings, jwks=JwksCache(settings.jwks_url, fetch=fetch_with_requests))


def test_an_id_token_of_the_pool_is_allowed_as_its_tenant(cognito: Cognito) -> None:
    tokens = cognito.user("alice@acme.example", "acme-corp")
    response = authorizer_for(cognito).token(token_event(tokens["IdToken"]))
    assert response["context"] == {"tenantId": "acme-corp", "tier": TENANTS["acme-corp"][0]}
    assert response["usageIdentifierKey"] == TENANTS["acme-corp"][1]
    assert response["policyDocument"]["Statement"][0]["Effect"] == "Allow"


def test_the_access_token_is_refused_where_id_tokens_are_expected(cognito: Cognito) -> None:
    tokens = cognito.user("alice@acme.example", "acme-corp")
    with pytest.raises(Unauthorized):
        authorizer_for(cognito).token(token_event(tokens["AccessToken"]))


def test_a_user_without_a_tenant_is_denied(cognito: Cognito) -> None:
    tokens = cognito.user("bob@nowhere.example", None)
    response = authorizer_for(cognito).token(token_event(tokens["IdToken"]))
    assert response["policyDocument"]["Statement"][0]["Effect"] == "Deny"
    assert "usageIdentifierKey" not in response


def test_a_token_of_another_pool_signed_by_the_same_key_is_refused(cognito: Cognito,
                                                                  planned: tuple[dict[str, Any], dict[str, Any]]
                                                                  ) -> None:
    # moto signs every pool's tokens with the same key: only the issuer and audience checks stop this one.
    other = Cognito(*planned, name="someone-elses-pool")
    tokens = other.user("mallory@evil.example", "acme-corp")
    with pytest.raises(Unauthorized):
        authorizer_for(cognito).token(token_event(tokens["IdToken"]))


def test_a_token_of_another_app_client_is_refused(cognito: Cognito,
                                                  planned: tuple[dict[str, Any], dict[str, Any]]) -> None:
    other_client = cognito.idp.create_user_pool_client(UserPoolId=cognito.pool_id, ClientName="other",
                                                       **planned[1])["UserPoolClient"]["ClientId"]
    cognito.user("carol@acme.example", "acme-corp")
    result = cognito.idp.admin_initiate_auth(UserPoolId=cognito.pool_id, ClientId=other_client,
                                             AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                                             AuthParameters={"USERNAME": "carol@acme.example", "PASSWORD": PASSWORD})
    with pytest.raises(Unauthorized):
        authorizer_for(cognito).token(token_event(result["AuthenticationResult"]["IdToken"]))
