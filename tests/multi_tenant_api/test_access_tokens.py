"""Access tokens (issue 15, item 2): the pre-token-generation trigger, machine clients, route scopes.

The trigger is exercised with the V2_0/V3_0 event shape of the Cognito Developer Guide
(https://docs.aws.amazon.com/cognito/latest/developerguide/user-pool-lambda-pre-token-generation.html,
"Pre token generation Lambda trigger sources" and the V2_0/V3_0 request and response parameters):
`triggerSource`, `callerContext.clientId`, `request.userAttributes`, `request.scopes`, and a response of
`claimsAndScopeOverrideDetails.accessTokenGeneration.claimsToAddOrOverride` / `claimsToSuppress`.
Its output becomes the claims of tokens signed here, which the authorizer then judges.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import boto3
import botocore.session
import pytest
from moto import mock_aws

from serverless_patterns.lambdas.multi_tenant_api.authorizer.app import Authorizer, JwksCache, Settings, Unauthorized
from serverless_patterns.lambdas.multi_tenant_api.pre_token import app as pre_token
from serverless_patterns.multi_tenant_api import MultiTenantApi
from serverless_patterns.multi_tenant_api.args import (
    PRE_TOKEN_LAMBDA_VERSION,
    RESOURCE_SERVER_IDENTIFIER,
    ROUTE_SCOPES,
    ROUTES,
    SCOPES,
)
from serverless_patterns.offline import CapturedStack, run_callable

from .conftest import KEYS_TABLE, create_key_table
from .test_component import BASE, CONFIG, secret
from .tokens import CLIENT_ID, EXECUTION_ARN, ISSUER, REGION, STAGE, JwksServer, SigningKey, access_claims, token_event

CLIENTS_TABLE = "machine-clients"
MACHINE_CLIENT = "7machine0client0acme000000"
READ = f"{RESOURCE_SERVER_IDENTIFIER}/items.read"
WRITE = f"{RESOURCE_SERVER_IDENTIFIER}/items.write"
USAGE = f"{RESOURCE_SERVER_IDENTIFIER}/usage.read"
FULL_ROUTE_SCOPES = {route: f"{RESOURCE_SERVER_IDENTIFIER}/{scope}" for route, scope in ROUTE_SCOPES.items()}


def v3_event(trigger: str, *, client_id: str = CLIENT_ID, attributes: dict[str, str] | None = None,
             scopes: list[str] | None = None, metadata: dict[str, str] | None = None) -> dict[str, Any]:
    """A pre-token-generation event as the Developer Guide documents it (version 3 = V3_0)."""
    return {
        "version": "3", "triggerSource": trigger, "region": REGION, "userPoolId": "eu-west-1_TestPool1",
        "userName": None if trigger == pre_token.CLIENT_CREDENTIALS else "user",
        "callerContext": {"awsSdkVersion": "aws-sdk-unknown-unknown", "clientId": client_id},
        "request": {"userAttributes": attributes or {}, "groupConfiguration": {
            "groupsToOverride": [], "iamRolesToOverride": [], "preferredRole": None},
            "scopes": scopes or [], "clientMetadata": metadata or {}},
        "response": {"claimsAndScopeOverrideDetails": None},
    }


@pytest.fixture
def clients_table() -> Any:
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        client.create_table(TableName=CLIENTS_TABLE, BillingMode="PAY_PER_REQUEST",
                            AttributeDefinitions=[{"AttributeName": "clientId", "AttributeType": "S"}],
                            KeySchema=[{"AttributeName": "clientId", "KeyType": "HASH"}])
        client.put_item(TableName=CLIENTS_TABLE, Item={"clientId": {"S": MACHINE_CLIENT},
                                                       "tenantId": {"S": "acme-corp"}, "status": {"S": "active"}})
        client.put_item(TableName=CLIENTS_TABLE, Item={"clientId": {"S": "suspendedclient"},
                                                       "tenantId": {"S": "globex"}, "status": {"S": "suspended"}})
        yield client


def access_overrides(event: dict[str, Any]) -> dict[str, Any]:
    return event["response"]["claimsAndScopeOverrideDetails"]["accessTokenGeneration"]


class TestPreTokenTrigger:
    def test_a_users_tenant_attribute_goes_into_the_access_token(self, clients_table: Any) -> None:
        event = pre_token.customize(v3_event("TokenGeneration_HostedAuth",
                                             attributes={"sub": "u1", "custom:tenant_id": "acme-corp"}),
                                    CLIENTS_TABLE, clients_table)
        assert access_overrides(event) == {"claimsToAddOrOverride": {"custom:tenant_id": "acme-corp"}}

    def test_a_registered_machine_client_gets_its_tenant_from_the_table_only(self, clients_table: Any) -> None:
        event = pre_token.customize(v3_event(pre_token.CLIENT_CREDENTIALS, client_id=MACHINE_CLIENT,
                                             scopes=[READ], metadata={"tenant": "globex"}),
                                    CLIENTS_TABLE, clients_table)
        assert access_overrides(event) == {"claimsToAddOrOverride": {"custom:tenant_id": "acme-corp"}}

    @pytest.mark.parametrize(("trigger", "client_id", "attributes"), [
        pytest.param(pre_token.CLIENT_CREDENTIALS, "unregisteredclient", {}, id="unknown-client"),
        pytest.param(pre_token.CLIENT_CREDENTIALS, "suspendedclient", {}, id="suspended-client"),
        pytest.param("TokenGeneration_Authentication", CLIENT_ID, {"sub": "u2"}, id="user-without-tenant"),
        pytest.param("TokenGeneration_RefreshTokens", CLIENT_ID, {"custom:tenant_id": "Acme Corp"},
                     id="malformed-tenant"),
    ])
    def test_no_trusted_tenant_suppresses_the_claim(self, clients_table: Any, trigger: str, client_id: str,
                                                    attributes: dict[str, str]) -> None:
        event = pre_token.customize(v3_event(trigger, client_id=client_id, attributes=attributes),
                                    CLIENTS_TABLE, clients_table)
        assert access_overrides(event) == {"claimsToSuppress": ["custom:tenant_id"]}


def signed_access_token(key: SigningKey, event: dict[str, Any], client_id: str, scope: str) -> str:
    """An access token as Cognito would issue it after the trigger's response."""
    claims = access_claims(None, client_id=client_id, scope=scope)
    claims.update(access_overrides(event).get("claimsToAddOrOverride", {}))
    for name in access_overrides(event).get("claimsToSuppress", []):
        claims.pop(name, None)
    return key.sign(claims)


@pytest.fixture
def access_authorizer(signing_key: SigningKey, clients_table: Any) -> Any:
    with JwksServer([signing_key]) as server:
        keys = create_key_table()
        keys.update_item(TableName=KEYS_TABLE, Key={"tenantId": {"S": "acme-corp"}},
                         UpdateExpression="SET machineClientIds = :c",
                         ExpressionAttributeValues={":c": {"SS": [MACHINE_CLIENT]}})
        settings = Settings(api_execution_arn=EXECUTION_ARN, stage=STAGE, table_name=KEYS_TABLE, issuer=ISSUER,
                            jwks_url=server.url, client_id=CLIENT_ID, token_use="access",
                            route_scopes=FULL_ROUTE_SCOPES)
        yield Authorizer(settings, jwks=JwksCache(server.url))


def resources(response: dict[str, Any]) -> list[str]:
    (statement,) = response["policyDocument"]["Statement"]
    assert statement["Effect"] == "Allow"
    return statement["Resource"]


class TestAccessTokensAtTheAuthorizer:
    def test_a_machine_clients_token_is_accepted_with_its_scopes_only(self, access_authorizer: Authorizer,
                                                                      signing_key: SigningKey,
                                                                      clients_table: Any) -> None:
        event = pre_token.customize(v3_event(pre_token.CLIENT_CREDENTIALS, client_id=MACHINE_CLIENT,
                                             scopes=[READ]), CLIENTS_TABLE, clients_table)
        token = signed_access_token(signing_key, event, MACHINE_CLIENT, READ)
        response = access_authorizer.token(token_event(token))
        assert response["context"] == {"tenantId": "acme-corp", "tier": "trial", "scopes": READ}
        assert response["usageIdentifierKey"] == "Ak3yV4lue0f4cme0000000000000000000000001"
        prefix = f"{EXECUTION_ARN}/{STAGE}"
        assert resources(response) == [f"{prefix}/GET/", f"{prefix}/GET/items", f"{prefix}/GET/items/*"]

    def test_a_user_token_with_every_scope_reaches_every_route(self, access_authorizer: Authorizer,
                                                                signing_key: SigningKey, clients_table: Any) -> None:
        event = pre_token.customize(v3_event("TokenGeneration_HostedAuth", attributes={"custom:tenant_id": "globex"}),
                                    CLIENTS_TABLE, clients_table)
        response = access_authorizer.token(token_event(
            signed_access_token(signing_key, event, CLIENT_ID, f"openid {READ} {WRITE} {USAGE}")))
        assert response["context"]["tenantId"] == "globex"
        assert len(resources(response)) == len(ROUTES)

    def test_an_access_token_without_a_tenant_claim_is_refused(self, access_authorizer: Authorizer,
                                                               signing_key: SigningKey, clients_table: Any) -> None:
        event = pre_token.customize(v3_event(pre_token.CLIENT_CREDENTIALS, client_id="unregisteredclient"),
                                    CLIENTS_TABLE, clients_table)
        response = access_authorizer.token(token_event(
            signed_access_token(signing_key, event, "unregisteredclient", READ)))
        assert response["policyDocument"]["Statement"][0]["Effect"] == "Deny"
        assert "usageIdentifierKey" not in response

    def test_another_tenants_machine_client_is_401(self, access_authorizer: Authorizer,
                                                    signing_key: SigningKey) -> None:
        # A token claiming globex from acme's machine client (the trigger never issues one): not globex's client.
        token = signing_key.sign(access_claims("globex", client_id=MACHINE_CLIENT, scope=READ))
        with pytest.raises(Unauthorized, match="machine client"):
            access_authorizer.token(token_event(token))

    def test_a_token_without_any_route_scope_is_denied(self, access_authorizer: Authorizer,
                                                        signing_key: SigningKey) -> None:
        response = access_authorizer.token(token_event(signing_key.sign(access_claims(scope="openid email"))))
        assert response["policyDocument"]["Statement"][0]["Effect"] == "Deny"


def access_stack() -> CapturedStack:
    args = copy.deepcopy(BASE)
    args["token_use"] = "access"
    args["tenants"] = [{"id": "acme-corp", "tier": "trial", "machine_scopes": ["items.read"]},
                       {"id": "globex", "tier": "business"}]
    return run_callable(lambda: MultiTenantApi("mta", args), config=CONFIG)


class TestComponentWithAccessTokens:
    @pytest.fixture(scope="class")
    def stack(self) -> CapturedStack:
        return access_stack()

    def test_the_pool_has_the_essentials_plan_and_the_v3_trigger(self, stack: CapturedStack) -> None:
        pool = stack.one("aws:cognito/userPool:UserPool").inputs
        trigger = stack.one("aws:lambda/function:Function", "pre-token")
        assert pool["userPoolTier"] == "ESSENTIALS"
        assert pool["lambdaConfig"]["preTokenGenerationConfig"] == {"lambdaArn": trigger.outputs["arn"],
                                                                    "lambdaVersion": PRE_TOKEN_LAMBDA_VERSION}
        # Values checked against Cognito's own model (the enums botocore ships), not the emulator.
        model = botocore.session.get_session().get_service_model("cognito-idp")
        assert pool["userPoolTier"] in model.shape_for("UserPoolTierType").enum
        assert PRE_TOKEN_LAMBDA_VERSION in model.shape_for("PreTokenGenerationLambdaVersionType").enum
        permission = stack.one("aws:lambda/permission:Permission", "pre-token-cognito").inputs
        assert permission["principal"] == "cognito-idp.amazonaws.com"
        assert permission["sourceArn"] == stack.one("aws:cognito/userPool:UserPool").outputs["arn"]

    def test_the_resource_server_scopes_match_cognitos_model(self, stack: CapturedStack) -> None:
        server = stack.one("aws:cognito/resourceServer:ResourceServer").inputs
        model = botocore.session.get_session().get_service_model("cognito-idp")
        identifier = model.shape_for("ResourceServerIdentifierType").metadata
        scope_name = model.shape_for("ResourceServerScopeNameType").metadata
        assert re.fullmatch(identifier["pattern"], server["identifier"])
        assert {s["scopeName"] for s in server["scopes"]} == set(SCOPES)
        for scope in server["scopes"]:
            assert re.fullmatch(scope_name["pattern"], scope["scopeName"])
            assert len(scope["scopeName"]) <= scope_name["max"]

    def test_each_machine_client_is_a_confidential_client_credentials_client(self, stack: CapturedStack) -> None:
        client = stack.one("aws:cognito/userPoolClient:UserPoolClient", "acme-corp-machine").inputs
        assert client["generateSecret"] is True
        assert client["allowedOauthFlows"] == ["client_credentials"]
        assert client["allowedOauthScopes"] == [READ]
        client_id = stack.one("aws:cognito/userPoolClient:UserPoolClient", "acme-corp-machine").id
        row = json.loads(stack.one("aws:dynamodb/tableItem:TableItem", "acme-corp-machine-client").inputs["item"])
        assert row == {"clientId": {"S": client_id}, "tenantId": {"S": "acme-corp"}, "status": {"S": "active"},
                       "managedBy": {"S": "pulumi"}}
        outputs = stack.one("serverless-patterns:index:MultiTenantApi").component_outputs
        assert outputs["machineClientIds"] == {"acme-corp": client_id}
        assert "clientSecret" not in json.dumps(outputs)
        # The authorizer accepts acme's machine client for acme only: its id is in acme's key row.
        acme_row = stack.one("aws:dynamodb/tableItem:TableItem", "tenant-acme-corp-key").inputs["item"]
        assert json.loads(secret(acme_row))["machineClientIds"] == {"SS": [client_id]}
        clients = stack.of_type("aws:cognito/userPoolClient:UserPoolClient")
        assert [c.name for c in clients if "globex" in c.name] == []

    def test_the_authorizer_gets_the_route_scopes(self, stack: CapturedStack) -> None:
        env = stack.one("aws:lambda/function:Function", "mta-authorizer").inputs["environment"]["variables"]
        assert env["TOKEN_USE"] == "access"
        assert json.loads(env["ROUTE_SCOPES"]) == FULL_ROUTE_SCOPES
        assert set(json.loads(env["ROUTE_SCOPES"])) == {f"{m} {p}" for m, p in ROUTES}

    def test_the_policy_pack_finds_nothing(self, stack: CapturedStack) -> None:
        from serverless_patterns.policies.runner import run

        analysis = run(stack)
        assert [str(v) for v in analysis.violations] == []
