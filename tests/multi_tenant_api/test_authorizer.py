"""The TOKEN and query-string authorizers with real RS256 tokens, a served JWKS and moto DynamoDB."""

from __future__ import annotations

import contextlib
import json
import re
import socket
import threading
import time
import urllib.request
from collections.abc import Iterator
from datetime import datetime
from http.server import BaseHTTPRequestHandler
from typing import Any

import boto3
import jwt
import pytest

from serverless_patterns.lambdas.multi_tenant_api.authorizer import app
from serverless_patterns.lambdas.multi_tenant_api.authorizer.app import (
    ANSWER_RESERVE_SECONDS,
    JWKS_TIMEOUT_SECONDS,
    MAX_JWKS_BYTES,
    Authorizer,
    Deadline,
    DeadlineExceeded,
    JwksCache,
    Settings,
    TenantKey,
    TenantKeyStore,
    TokenVerifier,
    Unauthorized,
    fetch_json,
    key_hash,
)
from serverless_patterns.multi_tenant_api.args import RESOURCE_SERVER_IDENTIFIER

from .conftest import KEYS_TABLE, TENANTS
from .tokens import (
    ACCOUNT,
    CLIENT_ID,
    EXECUTION_ARN,
    ISSUER,
    REGION,
    STAGE,
    JwksServer,
    LambdaContext,
    LoopbackServer,
    SigningKey,
    access_claims,
    hs256_with_public_key,
    id_claims,
    query_event,
    tampered,
    token_event,
    unsigned,
)

STAGE_RESOURCE = f"{EXECUTION_ARN}/{STAGE}/*/*"
ACME_TIER, ACME_KEY = TENANTS["acme-corp"]


def call(token: str | None, **kwargs: Any) -> dict[str, Any]:
    return app.handler(token_event(token, **kwargs), LambdaContext())


def assert_unauthorized(token: str | None, **kwargs: Any) -> None:
    with pytest.raises(Exception) as raised:
        call(token, **kwargs)
    # Exactly the message API Gateway turns into a 401; nothing about which check failed.
    assert type(raised.value) is Exception
    assert raised.value.args == ("Unauthorized",)


def assert_denied(response: dict[str, Any]) -> None:
    statement = response["policyDocument"]["Statement"]
    assert statement == [{"Action": "execute-api:Invoke", "Effect": "Deny", "Resource": STAGE_RESOURCE}]
    assert "usageIdentifierKey" not in response
    assert "context" not in response


@pytest.mark.usefixtures("authorizer_env")
class TestTokenAuthorizer:
    def test_valid_id_token_allows_with_the_tenants_key_and_context(self, signing_key: SigningKey) -> None:
        claims = id_claims("acme-corp")
        response = call(signing_key.sign(claims))
        assert response["principalId"] == claims["sub"]
        assert response["policyDocument"] == {"Version": "2012-10-17", "Statement": [
            {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": STAGE_RESOURCE}]}
        assert response["usageIdentifierKey"] == ACME_KEY
        assert response["context"] == {"tenantId": "acme-corp", "tier": ACME_TIER}

    def test_each_tenant_gets_its_own_key(self, signing_key: SigningKey) -> None:
        response = call(signing_key.sign(id_claims("globex")))
        assert response["usageIdentifierKey"] == TENANTS["globex"][1]
        assert response["context"] == {"tenantId": "globex", "tier": "business"}

    def test_the_policy_covers_every_method_of_the_stage_only(self, signing_key: SigningKey) -> None:
        # One cached result serves every method, so the policy must be stage-wide (and no wider).
        response = call(signing_key.sign(id_claims()), method_arn=f"{EXECUTION_ARN}/{STAGE}/POST/items")
        assert response["policyDocument"]["Statement"][0]["Resource"] == STAGE_RESOURCE

    @pytest.mark.parametrize("overrides", [
        pytest.param({"exp": 1_000_000_000, "iat": 999_996_400}, id="expired"),
        pytest.param({"nbf": 4_000_000_000}, id="not-yet-valid-nbf"),
        pytest.param({"iat": 4_000_000_000}, id="issued-in-the-future"),
        pytest.param({"iss": "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_OtherPool"}, id="wrong-issuer"),
        pytest.param({"aud": "another-app-client-id"}, id="wrong-audience"),
        pytest.param({"token_use": "access"}, id="wrong-token-use"),
        pytest.param({"aud": None}, id="no-audience"),
        pytest.param({"exp": None}, id="no-expiry"),
        pytest.param({"token_use": None}, id="no-token-use"),
    ])
    def test_bad_claims_are_401(self, signing_key: SigningKey, overrides: dict[str, Any]) -> None:
        assert_unauthorized(signing_key.sign(id_claims(**overrides)))

    @pytest.mark.parametrize(("expired_ago", "accepted"), [(4, True), (6, False), (60, False)])
    def test_expiry_allows_five_seconds_of_clock_skew_and_no_more(self, signing_key: SigningKey, expired_ago: int,
                                                                  accepted: bool, monkeypatch: pytest.MonkeyPatch
                                                                  ) -> None:
        """`exp` is checked with a 5 s leeway (RFC 7519 4.1.4 allows "some small leeway ... to account for clock
        skew"): a token that expired 4 s ago still passes, 6 s or a minute ago is a 401. PyJWT's clock is held
        still, so the boundary does not depend on how long the test takes."""
        now = int(time.time())

        class Frozen(datetime):
            @classmethod
            def now(cls, tz: Any = None) -> datetime:  # type: ignore[override]
                return datetime.fromtimestamp(now, tz)

        monkeypatch.setattr(jwt.api_jwt, "datetime", Frozen)
        token = signing_key.sign(id_claims(iat=now - 3600, auth_time=now - 3600, exp=now - expired_ago))
        if accepted:
            assert call(token)["usageIdentifierKey"] == ACME_KEY
        else:
            assert_unauthorized(token)

    def test_an_access_token_is_not_accepted_where_id_tokens_are_configured(self, signing_key: SigningKey) -> None:
        assert_unauthorized(signing_key.sign(access_claims()))

    def test_unknown_kid_is_401(self, signing_key: SigningKey) -> None:
        stranger = SigningKey()
        assert_unauthorized(stranger.sign(id_claims()))

    def test_a_token_signed_by_another_key_with_a_known_kid_is_401(self, signing_key: SigningKey) -> None:
        forger = SigningKey(kid=signing_key.kid)
        assert_unauthorized(forger.sign(id_claims()))

    def test_alg_none_is_401(self, signing_key: SigningKey) -> None:
        assert_unauthorized(unsigned(id_claims(), signing_key.kid))

    def test_hs256_signed_with_the_public_key_is_401(self, signing_key: SigningKey) -> None:
        assert_unauthorized(hs256_with_public_key(id_claims(), signing_key))

    def test_tampered_payload_is_401(self, signing_key: SigningKey) -> None:
        token = signing_key.sign(id_claims("acme-corp"))
        assert call(token)["context"]["tenantId"] == "acme-corp"
        assert_unauthorized(tampered(token, **{"custom:tenant_id": "globex"}))

    @pytest.mark.parametrize("header", [None, "", "not-a-jwt", "a.b.c", "Bearer", "x" * 9000])
    def test_missing_or_garbled_tokens_are_401(self, header: str | None) -> None:
        assert_unauthorized(header)

    def test_a_token_without_the_bearer_scheme_is_401(self, signing_key: SigningKey) -> None:
        assert_unauthorized(signing_key.sign(id_claims()), scheme="")

    def test_a_method_of_another_api_is_401(self, signing_key: SigningKey) -> None:
        other = f"arn:aws:execute-api:{REGION}:{ACCOUNT}:zzzzzzzzzz/{STAGE}/GET/items"
        assert_unauthorized(signing_key.sign(id_claims()), method_arn=other)

    def test_a_request_event_is_401_on_the_token_handler(self, signing_key: SigningKey) -> None:
        with pytest.raises(Exception, match=r"^Unauthorized$"):
            app.handler(query_event(ACME_KEY), LambdaContext())

    def test_missing_tenant_claim_is_denied_403(self, signing_key: SigningKey) -> None:
        assert_denied(call(signing_key.sign(id_claims(tenant=None))))

    @pytest.mark.parametrize("status", ["suspended", "onboarding", "deleting"])
    def test_a_user_of_a_tenant_that_is_not_active_is_denied_and_the_denial_logged(
            self, signing_key: SigningKey, status: str, monkeypatch: pytest.MonkeyPatch) -> None:
        """The tenant's `status` is read from its row (a reserved word in DynamoDB expressions, so it is projected
        through an expression attribute name); the operator's log names the user, the tenant and its status."""
        boto3.client("dynamodb", region_name=REGION).update_item(
            TableName=KEYS_TABLE, Key={"tenantId": {"S": "acme-corp"}}, UpdateExpression="SET #s = :s",
            ExpressionAttributeNames={"#s": "status"}, ExpressionAttributeValues={":s": {"S": status}})
        logged: list[dict[str, Any]] = []
        monkeypatch.setattr(app.logger, "info", lambda message, *a, extra=None, **k: logged.append(
            {"message": message, **(extra or {})}))
        claims = id_claims("acme-corp")
        response = call(signing_key.sign(claims))
        assert_denied(response)
        assert response["principalId"] == claims["sub"]
        assert logged == [{"message": "denied: tenant not active", "sub": claims["sub"], "tenant_id": "acme-corp",
                           "status": status}]

    @pytest.mark.parametrize("tenant", ["initech", "ACME-CORP", "acme corp", "-acme", "a" * 65, ""])
    def test_unknown_or_malformed_tenant_is_denied_403(self, signing_key: SigningKey, tenant: str,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
        """The Deny is the user's (principalId = sub) and the operator's log names the user."""
        logged: list[dict[str, Any]] = []
        monkeypatch.setattr(app.logger, "info", lambda message, *a, extra=None, **k: logged.append(
            {"message": message, **(extra or {})}))
        claims = id_claims(tenant)
        response = call(signing_key.sign(claims))
        assert_denied(response)
        assert response["principalId"] == claims["sub"]
        assert logged == [{"message": "denied: no known tenant for this identity", "sub": claims["sub"]}]

    def test_jwks_is_fetched_once_across_many_invocations(self, signing_key: SigningKey,
                                                          authorizer_env: JwksServer) -> None:
        for tenant in ["acme-corp", "globex"] * 25:
            assert call(signing_key.sign(id_claims(tenant)))["context"]["tenantId"] == tenant
        assert authorizer_env.hits == 1
        # ...and the key table was read once per tenant, not per invocation.
        assert app.authorizer().store.lookups == 2

    def test_unknown_kids_do_not_refetch_the_jwks_on_every_call(self, signing_key: SigningKey,
                                                                 authorizer_env: JwksServer) -> None:
        call(signing_key.sign(id_claims()))
        stranger = SigningKey()
        for n in range(20):
            assert_unauthorized(stranger.sign(id_claims(), headers={"kid": f"made-up-{n}"}))
        assert authorizer_env.hits == 1

    def test_key_table_unreachable_is_401_not_500(self, signing_key: SigningKey,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("TENANT_KEYS_TABLE", "no-such-table")
        failures: list[str] = []
        monkeypatch.setattr(app.logger, "exception", lambda message, *a, **k: failures.append(message))
        assert_unauthorized(signing_key.sign(id_claims()))
        assert failures == ["authorizer failure"]  # logged with its traceback for the operator

    def test_missing_configuration_is_401_not_500(self, signing_key: SigningKey,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.delenv("API_EXECUTION_ARN")
        assert_unauthorized(signing_key.sign(id_claims()))


def settings(**overrides: Any) -> Settings:
    base = {"api_execution_arn": EXECUTION_ARN, "stage": STAGE, "table_name": KEYS_TABLE, "issuer": ISSUER,
            "jwks_url": "unused", "client_id": CLIENT_ID}
    return Settings(**{**base, **overrides})


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.usefixtures("authorizer_env")
class TestVerifierUnits:
    def test_rotated_keys_are_picked_up_on_an_unknown_kid(self, signing_key: SigningKey,
                                                          authorizer_env: JwksServer) -> None:
        clock = FakeClock()
        jwks = JwksCache(authorizer_env.url, min_refresh_seconds=60, clock=clock)
        auth = Authorizer(settings(), jwks=jwks)
        event = token_event(signing_key.sign(id_claims()))
        assert auth.token(event)["usageIdentifierKey"] == ACME_KEY
        rotated = SigningKey()
        authorizer_env.keys.append(rotated)
        new_event = token_event(rotated.sign(id_claims()))
        with pytest.raises(Unauthorized):  # within the refresh interval: not refetched
            auth.token(new_event)
        clock.now += 61
        assert auth.token(new_event)["usageIdentifierKey"] == ACME_KEY
        assert authorizer_env.hits == 2

    def test_access_tokens_check_client_id_when_configured(self, signing_key: SigningKey,
                                                           authorizer_env: JwksServer) -> None:
        read = f"{RESOURCE_SERVER_IDENTIFIER}/items.read"
        auth = Authorizer(settings(token_use="access", route_scopes={"GET /items": read}),
                          jwks=JwksCache(authorizer_env.url))
        allowed = auth.token(token_event(signing_key.sign(access_claims(scope=f"openid {read}"))))
        assert allowed["context"]["tenantId"] == "acme-corp"
        for bad in (access_claims(client_id="other-client"), access_claims(client_id=None), id_claims()):
            with pytest.raises(Unauthorized):
                auth.token(token_event(signing_key.sign(bad)))

    def test_the_jwks_fetcher_is_injectable(self, signing_key: SigningKey) -> None:
        fetched: list[str] = []

        def fetch(url: str, **_: Any) -> dict[str, Any]:
            fetched.append(url)
            return {"keys": [signing_key.jwk(), {"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"}]}

        jwks = JwksCache("https://example.invalid/jwks.json", fetch=fetch)
        auth = Authorizer(settings(), jwks=jwks)
        for _ in range(5):
            auth.token(token_event(signing_key.sign(id_claims())))
        assert fetched == ["https://example.invalid/jwks.json"]
        assert set(jwks.keys) == {signing_key.kid}  # the symmetric key was not taken

    def test_a_failed_jwks_fetch_is_retried_after_a_short_pause(self, signing_key: SigningKey) -> None:
        clock = FakeClock()
        answers: list[Any] = [OSError("connection reset"), {"keys": [signing_key.jwk()]}]

        def fetch(url: str, **_: Any) -> dict[str, Any]:
            answer = answers.pop(0)
            if isinstance(answer, Exception):
                raise answer
            return answer

        # The defaults, as the authorizer builds its cache: refresh at most every 60 s, retry a failure after 5 s.
        jwks = JwksCache("https://example.invalid/jwks.json", fetch=fetch, clock=clock)
        auth = Authorizer(settings(), jwks=jwks)
        event = token_event(signing_key.sign(id_claims()))
        with pytest.raises(OSError):
            auth.token(event)
        clock.now += 4
        with pytest.raises(Unauthorized):  # still backing off: no second fetch yet
            auth.token(event)
        assert jwks.fetches == 1
        clock.now += 1
        assert auth.token(event)["usageIdentifierKey"] == ACME_KEY
        assert jwks.fetches == 2

    def test_fetch_json_reads_the_served_document(self, authorizer_env: JwksServer) -> None:
        assert len(fetch_json(authorizer_env.url)["keys"]) == 1

    def test_key_store_negative_cache_expires(self) -> None:
        clock = FakeClock()
        store = TenantKeyStore(KEYS_TABLE, clock=clock)  # the default: an unknown tenant is remembered 60 s
        assert store.by_tenant("initech") is None
        clock.now += 59
        assert store.by_tenant("initech") is None
        assert store.lookups == 1
        clock.now += 1
        store.by_tenant("initech")
        assert store.lookups == 2


    def test_each_key_resolves_to_its_own_tenant_from_one_store(self) -> None:
        store = TenantKeyStore(KEYS_TABLE)
        for tenant, (tier, value) in TENANTS.items():
            assert store.by_key(value) == TenantKey(tenant, tier, value)
        assert store.lookups == len(TENANTS)

    def test_an_index_row_holding_another_value_is_refused(self) -> None:
        """A stale or colliding keyHash row: the stored value must be the presented one."""
        presented = "P" * 40
        boto3.client("dynamodb", region_name=REGION).put_item(TableName=KEYS_TABLE, Item={
            "tenantId": {"S": "stale-co"}, "tier": {"S": "trial"}, "apiKey": {"S": "Q" * 40},
            "keyHash": {"S": key_hash(presented)}})
        assert TenantKeyStore(KEYS_TABLE).by_key(presented) is None

    def test_a_key_hash_on_two_rows_is_refused(self) -> None:
        presented = "R" * 40
        client = boto3.client("dynamodb", region_name=REGION)
        for tenant in ("first-co", "second-co"):
            client.put_item(TableName=KEYS_TABLE, Item={
                "tenantId": {"S": tenant}, "tier": {"S": "trial"}, "apiKey": {"S": presented},
                "keyHash": {"S": key_hash(presented)}})
        assert TenantKeyStore(KEYS_TABLE).by_key(presented) is None

    def test_no_key_table_read_starts_when_the_deadline_cannot_be_met(self) -> None:
        store = TenantKeyStore(KEYS_TABLE)
        with pytest.raises(DeadlineExceeded, match="reading the key table"):
            store.by_key(ACME_KEY, Deadline(0.1))
        with pytest.raises(DeadlineExceeded, match="reading the key table"):
            store.by_tenant("acme-corp", Deadline(0.1))
        assert store.lookups == 0
        assert store.by_key(ACME_KEY, Deadline(60)) is not None


@pytest.mark.usefixtures("authorizer_env")
class TestQueryStringAuthorizer:
    def call(self, event: dict[str, Any]) -> dict[str, Any]:
        return app.query_string_handler(event, LambdaContext())

    def test_a_known_key_is_allowed_as_its_tenant(self) -> None:
        response = self.call(query_event(ACME_KEY))
        assert response["usageIdentifierKey"] == ACME_KEY
        assert response["context"] == {"tenantId": "acme-corp", "tier": ACME_TIER}
        assert response["principalId"] == "tenant:acme-corp"
        assert response["policyDocument"]["Statement"][0] == {
            "Action": "execute-api:Invoke", "Effect": "Allow", "Resource": STAGE_RESOURCE}

    @pytest.mark.parametrize("api_key", [None, "short", "Zz" * 20, ACME_KEY + "x", "a b" * 10])
    def test_missing_malformed_or_unknown_keys_are_401(self, api_key: str | None) -> None:
        with pytest.raises(Exception, match=r"^Unauthorized$"):
            self.call(query_event(api_key))

    @pytest.mark.parametrize("status", ["suspended", "onboarding", "deleting"])
    def test_a_key_of_a_tenant_that_is_not_active_is_denied_for_the_whole_stage(
            self, status: str, monkeypatch: pytest.MonkeyPatch) -> None:
        """A suspended (or half-onboarded, or departing) tenant's legacy key gets an explicit Deny, so API Gateway
        answers 403 rather than metering it; the tenant's row, and so its data, is left as it is."""
        presented = "S" * 40
        boto3.client("dynamodb", region_name=REGION).put_item(TableName=KEYS_TABLE, Item={
            "tenantId": {"S": "rt-paused"}, "tier": {"S": "trial"}, "apiKey": {"S": presented},
            "keyHash": {"S": key_hash(presented)}, "status": {"S": status}})
        logged: list[dict[str, Any]] = []
        monkeypatch.setattr(app.logger, "info", lambda message, *a, extra=None, **k: logged.append(
            {"message": message, **(extra or {})}))
        response = self.call(query_event(presented))
        assert response["principalId"] == "tenant:rt-paused"
        assert response["policyDocument"]["Statement"] == [
            {"Action": "execute-api:Invoke", "Effect": "Deny", "Resource": STAGE_RESOURCE}]
        assert "usageIdentifierKey" not in response
        assert {"message": "denied: tenant not active", "tenant_id": "rt-paused", "status": status} in logged
        row = boto3.client("dynamodb", region_name=REGION).get_item(
            TableName=KEYS_TABLE, Key={"tenantId": {"S": "rt-paused"}})["Item"]
        assert row["apiKey"] == {"S": presented} and row["status"] == {"S": status}

    def test_the_key_must_be_in_the_configured_parameter(self) -> None:
        with pytest.raises(Exception, match=r"^Unauthorized$"):
            self.call(query_event(ACME_KEY, parameter="apiKey"))

    def test_a_token_event_is_401_on_the_query_handler(self, signing_key: SigningKey) -> None:
        with pytest.raises(Exception, match=r"^Unauthorized$"):
            self.call(token_event(signing_key.sign(id_claims())))

    def test_lookups_are_cached(self) -> None:
        for _ in range(10):
            self.call(query_event(ACME_KEY))
        assert app.authorizer().store.lookups == 1

    def test_the_key_cache_lives_as_long_as_the_component_configures(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("KEY_CACHE_SECONDS", "30")
        self.call(query_event(ACME_KEY))
        assert app.authorizer().store.ttl_seconds == 30.0


class TestAccessTokensThroughTheHandler:
    """TOKEN_USE=access as the component configures it (ROUTE_SCOPES: route -> full scope name): the policy lists
    the routes of the token's scopes, the backend gets the scopes in the context, and besides the app client only
    the machine clients in the tenant's key-table row (`machineClientIds`, a string set) may present a token."""

    MACHINE = "7machine0client0id0000000b"

    @pytest.fixture(autouse=True)
    def access_settings(self, authorizer_env: JwksServer, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("TOKEN_USE", "access")
        monkeypatch.setenv("ROUTE_SCOPES", '{"GET /items": "api/items.read", "POST /items": "api/items.write"}')

    def test_the_granted_scopes_reach_the_backend_in_the_context(self, signing_key: SigningKey) -> None:
        claims = access_claims(scope="openid api/items.read")
        response = call(signing_key.sign(claims))
        assert response["principalId"] == claims["sub"]
        assert response["context"] == {"tenantId": "acme-corp", "tier": ACME_TIER, "scopes": "api/items.read"}
        assert response["policyDocument"]["Statement"] == [
            {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": [f"{EXECUTION_ARN}/{STAGE}/GET/items"]}]
        assert response["usageIdentifierKey"] == ACME_KEY
        # Several scopes: space-separated, as the token's own `scope` claim (RFC 6749 3.3).
        both = call(signing_key.sign(access_claims(scope="api/items.write openid api/items.read")))
        assert both["context"]["scopes"] == "api/items.read api/items.write"

    def test_an_access_token_is_checked_by_its_client_id_not_by_an_audience(self, signing_key: SigningKey) -> None:
        """Cognito access tokens name the app client in `client_id`, not `aud` (Understanding the access token,
        https://docs.aws.amazon.com/cognito/latest/developerguide/amazon-cognito-user-pools-using-the-access-token.html);
        an `aud` a token may carry (a bound resource) is not compared with the app client."""
        response = call(signing_key.sign(access_claims(scope="api/items.read", aud="https://api.example.org")))
        assert response["context"]["tenantId"] == "acme-corp"
        assert_unauthorized(signing_key.sign(access_claims(scope="api/items.read", client_id=None,
                                                           aud=CLIENT_ID)))

    def test_an_access_token_whose_client_id_is_not_a_string_is_401(self, signing_key: SigningKey,
                                                                     reasons: list[str]) -> None:
        assert_unauthorized(signing_key.sign(access_claims(scope="api/items.read", client_id=7)))
        assert reasons == ["no client_id"]

    def test_a_token_with_no_scope_of_any_route_is_denied_and_the_denial_logged(
            self, signing_key: SigningKey, monkeypatch: pytest.MonkeyPatch) -> None:
        logged: list[dict[str, Any]] = []
        monkeypatch.setattr(app.logger, "info", lambda message, *a, extra=None, **k: logged.append(
            {"message": message, **(extra or {})}))
        claims = access_claims(scope="openid email api/usage.read")
        response = call(signing_key.sign(claims))
        assert_denied(response)
        assert response["principalId"] == claims["sub"]
        assert logged == [{"message": "denied: no scope of any route", "sub": claims["sub"]}]

    def test_a_machine_client_of_the_tenant_is_accepted_and_any_other_client_is_401(
            self, signing_key: SigningKey, reasons: list[str]) -> None:
        """The row as the component writes it: `machineClientIds` is a DynamoDB string set (SS)."""
        boto3.client("dynamodb", region_name=REGION).update_item(
            TableName=KEYS_TABLE, Key={"tenantId": {"S": "acme-corp"}},
            UpdateExpression="SET machineClientIds = :c", ExpressionAttributeValues={":c": {"SS": [self.MACHINE]}})
        response = call(signing_key.sign(access_claims(client_id=self.MACHINE, scope="api/items.write")))
        assert response["context"] == {"tenantId": "acme-corp", "tier": ACME_TIER, "scopes": "api/items.write"}
        assert_unauthorized(signing_key.sign(access_claims(client_id="8another0client0id000000c",
                                                           scope="api/items.write")))
        assert reasons == ["client_id is neither the app client nor a machine client of the tenant"]


class SilentServer:
    """Accepts TCP connections and never answers: a hanging key table or JWKS endpoint."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.accepted: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)

    def _accept(self) -> None:
        with contextlib.suppress(OSError):
            while True:
                self.accepted.append(self.sock.accept()[0])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def __enter__(self) -> SilentServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.sock.close()
        for conn in self.accepted:
            conn.close()


class ShortContext(LambdaContext):
    """A Lambda context whose invocation has `seconds` left from its creation."""

    def __init__(self, seconds: float) -> None:
        self.ends = time.monotonic() + seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.ends - time.monotonic()) * 1000))


@pytest.fixture
def silent() -> Iterator[SilentServer]:
    with SilentServer() as server:
        yield server


class TestDeadline:
    """The authorizer answers 401 before its own timeout, whatever hangs.

    An authorizer that times out (or raises anything but "Unauthorized") is API Gateway's
    AUTHORIZER_FAILURE, a 500: https://docs.aws.amazon.com/apigateway/latest/developerguide/
    supported-gateway-response-types.html. moto's DynamoDB always answers, so a socket server that
    accepts and never replies stands in for a hanging key table or JWKS endpoint.
    """

    def answer_within(self, context: ShortContext, monkeypatch: pytest.MonkeyPatch, auth: Authorizer) -> None:
        monkeypatch.setattr(app, "_authorizer", auth)
        with pytest.raises(Exception) as raised:
            app.handler(token_event(SigningKey().sign(id_claims())), context)
        assert raised.value.args == ("Unauthorized",)
        assert context.get_remaining_time_in_millis() > 0, "answered after the invocation's timeout"

    def test_a_hanging_key_table_is_401_before_the_timeout(self, signing_key: SigningKey, silent: SilentServer,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
        jwks = JwksCache("unused", fetch=lambda url, **_: {"keys": [signing_key.jwk()]})
        store = TenantKeyStore(KEYS_TABLE, endpoint_url=silent.url, connect_timeout=0.2, read_timeout=0.2)
        auth = Authorizer(settings(), jwks=jwks, store=store)
        context = ShortContext(2.5)
        monkeypatch.setattr(app, "_authorizer", auth)
        with pytest.raises(Exception) as raised:
            app.handler(token_event(signing_key.sign(id_claims())), context)
        assert raised.value.args == ("Unauthorized",)
        assert context.get_remaining_time_in_millis() > 0, "answered after the invocation's timeout"
        assert store.lookups == 1 and silent.accepted  # the table was really tried

    def test_a_key_table_read_that_cannot_fit_is_not_started(self, signing_key: SigningKey, silent: SilentServer,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
        jwks = JwksCache("unused", fetch=lambda url, **_: {"keys": [signing_key.jwk()]})
        store = TenantKeyStore(KEYS_TABLE, endpoint_url=silent.url)  # worst case 4 s
        context = ShortContext(3.0)
        monkeypatch.setattr(app, "_authorizer", Authorizer(settings(), jwks=jwks, store=store))
        with pytest.raises(Exception, match="Unauthorized"):
            app.handler(token_event(signing_key.sign(id_claims())), context)
        assert store.lookups == 0 and context.get_remaining_time_in_millis() > 2000

    def test_a_silent_jwks_endpoint_is_401_before_the_timeout(self, silent: SilentServer,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
        self.answer_within(ShortContext(1.5), monkeypatch,
                           Authorizer(settings(), jwks=JwksCache(f"{silent.url}/jwks.json")))
        assert silent.accepted

    def test_a_slow_jwks_then_a_hanging_table_stays_within_the_function_timeout(
            self, signing_key: SigningKey, monkeypatch: pytest.MonkeyPatch) -> None:
        def slow_fetch(url: str, timeout: float, deadline: Deadline) -> dict[str, Any]:
            assert timeout <= deadline.remaining() + ANSWER_RESERVE_SECONDS
            time.sleep(timeout)  # the JWKS answers at the last moment the socket timeout allows
            return {"keys": [signing_key.jwk()]}

        jwks = JwksCache("unused", fetch=slow_fetch, timeout_seconds=1.0)
        store = TenantKeyStore(KEYS_TABLE)  # worst case 4 s: no longer fits after the slow JWKS
        context = ShortContext(5.0)
        monkeypatch.setattr(app, "_authorizer", Authorizer(settings(), jwks=jwks, store=store))
        with pytest.raises(Exception, match="Unauthorized"):
            app.handler(token_event(signing_key.sign(id_claims())), context)
        assert store.lookups == 0 and context.get_remaining_time_in_millis() > 0

    def test_the_budget_fits_the_functions_timeout(self) -> None:
        from serverless_patterns.multi_tenant_api.args import AUTHORIZER_TIMEOUT_SECONDS

        store = TenantKeyStore(KEYS_TABLE)
        assert JWKS_TIMEOUT_SECONDS + store.worst_case_seconds + ANSWER_RESERVE_SECONDS < AUTHORIZER_TIMEOUT_SECONDS


@pytest.mark.usefixtures("authorizer_env")
def test_the_tenants_usage_plan_reaches_the_backend_in_the_context(signing_key: SigningKey) -> None:
    import boto3
    boto3.client("dynamodb", region_name=REGION).update_item(
        TableName=KEYS_TABLE, Key={"tenantId": {"S": "acme-corp"}}, UpdateExpression="SET usagePlanId = :p",
        ExpressionAttributeValues={":p": {"S": "plan-trial"}})
    response = call(signing_key.sign(id_claims("acme-corp")))
    assert response["context"] == {"tenantId": "acme-corp", "tier": ACME_TIER, "usagePlanId": "plan-trial"}


# --- what the operator's log says, and what is not read for a refused request --------------------------------


@pytest.fixture
def reasons(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The reason each refusal logs (the caller sees only a bare 401; the log tells the operator why)."""
    logged: list[str] = []

    def info(message: str, *args: Any, extra: dict[str, Any] | None = None, **kwargs: Any) -> None:
        if message == "unauthorized":
            logged.append((extra or {})["reason"])

    monkeypatch.setattr(app.logger, "info", info)
    return logged


def _token_events(key: SigningKey) -> list[tuple[dict[str, Any], str]]:
    now = int(time.time())
    return [
        (query_event(ACME_KEY), "not a TOKEN authorizer event"),
        (token_event(key.sign(id_claims()), method_arn=f"{EXECUTION_ARN}/other/GET/items"),
         "method ARN of another API or stage"),
        (token_event(key.sign(id_claims()), scheme="Basic "), "no bearer token"),
        (token_event("x" * 8193), "token too large"),
        (token_event("not.a.jwt"), "malformed token: "),
        (token_event(hs256_with_public_key(id_claims(), key)), "algorithm 'HS256' not allowed"),
        (token_event(jwt.encode(id_claims(), key.private, algorithm="RS256")), "no kid"),
        (token_event(SigningKey().sign(id_claims())), "unknown kid"),
        (token_event(key.sign(id_claims(exp=now - 60, iat=now - 3600))), "invalid token: ExpiredSignatureError"),
        (token_event(key.sign(id_claims(token_use="access"))), "token_use 'access' is not 'id'"),
    ]


@pytest.mark.usefixtures("authorizer_env")
def test_each_refused_token_logs_why(signing_key: SigningKey, reasons: list[str]) -> None:
    for event, reason in _token_events(signing_key):
        with pytest.raises(Exception, match=r"^Unauthorized$"):
            app.handler(event, LambdaContext())
        assert reasons[-1].startswith(reason), (reason, reasons[-1])
    assert len(reasons) == len(_token_events(signing_key))


@pytest.mark.usefixtures("authorizer_env")
def test_each_refused_query_string_logs_why_and_a_malformed_key_reads_no_table(signing_key: SigningKey,
                                                                                 reasons: list[str]) -> None:
    cases = [(token_event(signing_key.sign(id_claims())), "not a REQUEST authorizer event"),
             (query_event(None), "no well-formed key"), (query_event("short"), "no well-formed key"),
             (query_event("Zz" * 20), "unknown key")]
    for event, reason in cases:
        with pytest.raises(Exception, match=r"^Unauthorized$"):
            app.query_string_handler(event, LambdaContext())
        assert reasons[-1] == reason
    assert app.authorizer().store.lookups == 1  # only the well-formed unknown key was looked up


@pytest.mark.usefixtures("authorizer_env")
def test_a_query_string_key_read_that_cannot_fit_is_not_started(reasons: list[str]) -> None:
    """The legacy flavour keeps the same deadline as the token flavour: no key-table read it cannot finish."""
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        app.query_string_handler(query_event(ACME_KEY), ShortContext(2.0))
    assert app.authorizer().store.lookups == 0
    assert reasons[-1].startswith("reading the key table may take 4.00 s; only ")


@pytest.mark.parametrize(("route", "resource"), [
    ("GET /", "GET/"),
    ("GET /items", "GET/items"),
    ("GET /items/{itemId}", "GET/items/*"),
    ("PUT /items/{itemId}/tags/{tag}", "PUT/items/*/tags/*"),
    ("DELETE /Xrays/{id}", "DELETE/Xrays/*"),
])
def test_a_route_becomes_the_method_arn_pattern_api_gateway_matches(route: str, resource: str) -> None:
    """Method ARNs are arn:aws:execute-api:<region>:<account>:<api-id>/<stage>/<METHOD>/<resource path>, and a
    path parameter matches one or more segments with '*' ("Control access to an API with IAM permissions",
    https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-control-access-using-iam-policies-to-invoke-api.html)."""
    assert settings().route_resource(route) == f"{EXECUTION_ARN}/{STAGE}/{resource}"


def test_an_access_token_reaches_exactly_the_routes_of_its_scopes() -> None:
    scoped = settings(route_scopes={"GET /items": "api/items.read", "GET /items/{itemId}": "api/items.read",
                                    "POST /items": "api/items.write"})
    assert scoped.scoped_resources({"api/items.read"}) == [f"{EXECUTION_ARN}/{STAGE}/GET/items",
                                                            f"{EXECUTION_ARN}/{STAGE}/GET/items/*"]
    assert scoped.scoped_resources({"api/usage.read"}) == []


# --- the parts the authorizer is built from, at their boundaries ----------------------------------------------


def test_only_usable_rs256_signing_keys_are_taken_from_the_jwks(signing_key: SigningKey,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """A JWKS may list keys for other uses (RFC 7517 4.2 "use", 4.4 "alg"); only RSA signing keys for RS256
    with a string kid verify tokens, and an entry that cannot be read is skipped, not fatal."""
    good = signing_key.jwk()
    bare = {k: v for k, v in SigningKey("bare").jwk().items() if k not in ("use", "alg")}  # defaults: sig, RS256
    document = {"keys": ["not a key", {**good, "kid": "enc", "use": "enc"}, {**good, "kid": "rs512", "alg": "RS512"},
                         {**good, "kid": 7}, {**good, "kid": "ec", "kty": "EC"}, {**good, "kid": "broken", "n": "!"},
                         bare, good]}
    warnings: list[tuple[str, Any]] = []
    monkeypatch.setattr(app.logger, "warning", lambda message, *a, extra=None, **k: warnings.append((message, extra)))
    jwks = JwksCache("unused", fetch=lambda url, **_: document)
    jwks.refresh()
    assert set(jwks.keys) == {signing_key.kid, "bare"}
    assert warnings == [("skipping an unusable JWKS entry", {"kid": "broken"})]
    for odd in (["keys"], {"no": "keys"}):
        empty = JwksCache("unused", fetch=lambda url, odd=odd, **_: odd)
        empty.refresh()
        assert empty.keys == {} and empty.fetches == 1


class PiecesServer(LoopbackServer):
    """Serves one body over HTTP in pieces, pausing between them (a document arriving in several TCP reads),
    and keeps the request's headers."""

    path = "/jwks.json"

    def __init__(self, pieces: list[bytes], pause: float = 0.05) -> None:
        self.headers: dict[str, str] = {}
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.headers = dict(self.headers.items())
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(sum(len(p) for p in pieces)))
                self.end_headers()
                with contextlib.suppress(ConnectionError):  # a reader that stops early closes the connection
                    for piece in pieces:
                        self.wfile.write(piece)
                        self.wfile.flush()
                        time.sleep(pause)

            def log_message(self, *args: Any) -> None:
                return

        super().__init__(Handler)


def test_the_jwks_is_asked_for_as_json_and_read_whole_when_it_arrives_in_pieces() -> None:
    document = {"keys": [{"kid": f"key-{i}", "kty": "RSA", "use": "sig"} for i in range(40)]}
    body = json.dumps(document).encode()
    with PiecesServer([body[:100], body[100:1000], body[1000:]]) as server:
        assert fetch_json(server.url) == document
    assert server.headers["Accept"].lower() == "application/json"  # media types are case-insensitive (RFC 9110 8.3.1)


def test_a_jwks_of_the_size_cap_is_read_and_one_byte_more_is_refused() -> None:
    """JSON allows whitespace after the value (RFC 8259 2), so padding makes a valid document of any size."""
    exactly = json.dumps({"keys": []}).encode().ljust(MAX_JWKS_BYTES, b" ")
    with PiecesServer([exactly[:1000], exactly[1000:]]) as server:
        assert fetch_json(server.url) == {"keys": []}
    over = exactly + b" "
    # The cap's worth arrives first, the byte beyond it later: the reader must look past the cap to see it.
    with PiecesServer([over[:MAX_JWKS_BYTES], over[MAX_JWKS_BYTES:]]) as server, pytest.raises(
            ValueError, match=rf"^JWKS at {re.escape(server.url)} is larger than {MAX_JWKS_BYTES} bytes$"):
        fetch_json(server.url)


def test_a_huge_jwks_is_refused_having_read_one_byte_past_the_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    """A document far larger than the cap (a wrong URL, a hostile endpoint) is not read into memory: the reader
    stops one byte past the cap. The real response is wrapped only to count the bytes it hands over."""
    received: list[int] = []
    real_urlopen = urllib.request.urlopen

    class Counting:
        def __init__(self, response: Any) -> None:
            self.response = response

        def __enter__(self) -> Counting:
            self.response.__enter__()
            return self

        def __exit__(self, *exc: Any) -> None:
            self.response.__exit__(*exc)

        def read1(self, size: int) -> bytes:
            chunk: bytes = self.response.read1(size)
            received.append(len(chunk))
            return chunk

    monkeypatch.setattr(urllib.request, "urlopen", lambda *a, **k: Counting(real_urlopen(*a, **k)))
    huge = b" " * (4 * MAX_JWKS_BYTES)
    with PiecesServer([huge[:1000], huge[1000:]]) as server, pytest.raises(ValueError, match="is larger than"):
        fetch_json(server.url)
    assert sum(received) == MAX_JWKS_BYTES + 1


def test_the_invocation_deadline_reaches_the_jwks_read(signing_key: SigningKey) -> None:
    """A JWKS trickling in slower than the invocation has left is abandoned, not read to its end."""
    body = json.dumps({"keys": [signing_key.jwk()]}).encode()
    pieces = [body[i:i + 100] for i in range(0, len(body), 100)][:4]
    pieces[-1] += body[400:]
    jwks = JwksCache("unused", timeout_seconds=2.0)
    with PiecesServer(pieces, pause=0.4) as server:
        jwks.url = server.url
        started = time.monotonic()
        with pytest.raises(DeadlineExceeded, match=r"^reading the JWKS may take"):
            jwks.refresh(Deadline(1.0))
    assert time.monotonic() - started < 1.0
    assert jwks.keys == {}


def test_reading_the_jwks_stops_when_the_deadline_cannot_cover_another_read() -> None:
    """The reason names the step (the handler logs it for the operator; the caller gets a bare 401)."""
    with PiecesServer([b'{"keys": []}']) as server, pytest.raises(
            DeadlineExceeded, match=r"^reading the JWKS may take 2\.00 s; only 1\.00 s left$"):
        fetch_json(server.url, timeout=2.0, deadline=Deadline(1.0, FakeClock()))


def test_an_unknown_kid_refetches_the_jwks_once_the_refresh_interval_has_passed_and_not_before(
        signing_key: SigningKey) -> None:
    """A key rotated in by Cognito is picked up 60 s (the default interval) after the last fetch, not before."""
    served = {"keys": [signing_key.jwk()]}
    clock = FakeClock()
    jwks = JwksCache("unused", fetch=lambda url, **_: served, clock=clock)
    jwks.key(signing_key.kid)
    rotated = SigningKey("rotated")
    served = {"keys": [signing_key.jwk(), rotated.jwk()]}
    clock.now += 59.5
    with pytest.raises(Unauthorized, match=r"^unknown kid$"):
        jwks.key("rotated")
    assert jwks.fetches == 1
    clock.now += 0.5
    assert jwks.key("rotated").key_id == "rotated"
    assert jwks.fetches == 2


def test_the_jwks_fetch_gets_at_most_the_time_left_and_none_when_nothing_is() -> None:
    timeouts: list[float] = []

    def fetch(url: str, timeout: float, deadline: Deadline) -> dict[str, Any]:
        timeouts.append(timeout)
        return {"keys": []}

    clock = FakeClock()
    jwks = JwksCache("unused", fetch=fetch, timeout_seconds=2.0)
    jwks.refresh(Deadline(1.25, clock))
    jwks.refresh(Deadline(30.0, clock))
    assert timeouts == [1.25, 2.0]
    with pytest.raises(DeadlineExceeded, match=r"^no time left to fetch the JWKS$"):
        jwks.refresh(Deadline(0.0, clock))
    assert jwks.fetches == 2


def test_a_deadline_is_the_time_left_less_the_answer_reserve() -> None:
    class Remaining:
        def get_remaining_time_in_millis(self) -> int:
            return 3000

    clock = FakeClock()
    assert Deadline.from_context(Remaining(), clock=clock).remaining() == 3.0 - ANSWER_RESERVE_SECONDS
    assert Deadline.from_context(object(), clock=clock).remaining() == 10.0 - ANSWER_RESERVE_SECONDS
    assert Deadline.from_context(Remaining(), reserve=1.0, clock=clock).remaining() == 2.0
    late = Deadline(1.0, clock)
    late.require(1.0, "a step")  # exactly fits
    clock.now += 3
    with pytest.raises(DeadlineExceeded, match=r"^a step may take 0\.50 s; only 0\.00 s left$"):
        late.require(0.5, "a step")


def test_a_token_of_the_largest_accepted_size_is_read() -> None:
    verifier = TokenVerifier(JwksCache("unused", fetch=lambda url, **_: {"keys": []}), ISSUER, CLIENT_ID)
    with pytest.raises(Unauthorized, match=r"^malformed token"):
        verifier.verify("x" * 8192)
    with pytest.raises(Unauthorized, match=r"^token too large$"):
        verifier.verify("x" * 8193)


@pytest.mark.usefixtures("authorizer_env")
def test_the_key_store_caches_answers_for_their_time_and_bounds_its_size() -> None:
    clock = FakeClock()
    store = TenantKeyStore(KEYS_TABLE, negative_ttl_seconds=60, max_entries=2, clock=clock)  # default ttl: 300 s
    assert store.by_tenant("acme-corp") is not None
    clock.now += 299
    store.by_tenant("acme-corp")
    assert store.lookups == 1
    clock.now += 1
    store.by_tenant("acme-corp")
    assert store.lookups == 2  # expired after exactly ttl_seconds
    store.by_tenant("globex")
    store.by_tenant("initech")  # a third entry: the full cache starts over
    store.by_tenant("acme-corp")
    assert store.lookups == 5


@pytest.mark.usefixtures("authorizer_env")
def test_the_key_store_reads_through_the_client_it_is_given() -> None:
    """The key table exists in eu-west-1 only (moto keeps regions apart): a store given a us-east-1 client must
    not find it, rather than quietly building its own client."""
    store = TenantKeyStore(KEYS_TABLE, client=boto3.client("dynamodb", region_name="us-east-1"))
    with pytest.raises(store.client.exceptions.ResourceNotFoundException):
        store.by_tenant("acme-corp")
    assert TenantKeyStore(KEYS_TABLE).by_tenant("acme-corp") is not None


def test_a_key_table_row_without_optional_attributes_reads_as_empty() -> None:
    entry = TenantKeyStore._entry({"tenantId": {"S": "acme-corp"}, "apiKey": {"S": ACME_KEY}})
    assert entry == TenantKey("acme-corp", "", ACME_KEY, frozenset(), "")
    full = TenantKeyStore._entry({"tenantId": {"S": "acme-corp"}, "apiKey": {"S": ACME_KEY}, "tier": {"S": "trial"},
                                  "machineClientIds": {"SS": ["m1", "m2"]}, "usagePlanId": {"S": "plan1"},
                                  "status": {"S": "suspended"}})
    assert full == TenantKey("acme-corp", "trial", ACME_KEY, frozenset({"m1", "m2"}), "plan1", "suspended")
    assert TenantKeyStore._entry({"tenantId": {"S": "acme-corp"}}) is None
    assert TenantKeyStore._entry(None) is None


def test_the_key_table_budget_is_botocores_worst_case() -> None:
    """Standard retry mode: each attempt may take connect + read timeout, and before attempt n botocore waits
    up to 2 ** (n - 2) s ("Retry behavior", AWS SDKs and Tools Reference Guide)."""
    assert TenantKeyStore(KEYS_TABLE).worst_case_seconds == 2 * (0.5 + 1.0) + 1
    assert TenantKeyStore(KEYS_TABLE, attempts=3, connect_timeout=0.2, read_timeout=0.3).worst_case_seconds == (
        3 * 0.5 + 1 + 2)


def test_the_key_table_client_is_configured_as_the_budget_assumes() -> None:
    """The deadline budgets `worst_case_seconds` for a key-table read; that holds only if botocore's client really
    has these timeouts and this retry mode ("Retry behavior", AWS SDKs and Tools Reference Guide)."""
    store = TenantKeyStore(KEYS_TABLE, attempts=3, connect_timeout=0.2, read_timeout=0.3)
    config = store.client.meta.config
    assert (config.connect_timeout, config.read_timeout) == (0.2, 0.3)
    assert config.retries == {"mode": "standard", "total_max_attempts": 3}
    assert store.worst_case_seconds == 3 * (0.2 + 0.3) + 1 + 2


def test_settings_default_to_what_the_component_sets() -> None:
    base = {"API_EXECUTION_ARN": EXECUTION_ARN, "STAGE_NAME": STAGE, "TENANT_KEYS_TABLE": KEYS_TABLE}
    assert Settings.from_env(base) == Settings(EXECUTION_ARN, STAGE, KEYS_TABLE)
    full = Settings.from_env({**base, "ISSUER": ISSUER, "JWKS_URL": "https://x/jwks.json", "CLIENT_ID": CLIENT_ID,
                              "TOKEN_USE": "access", "TENANT_CLAIM": "tenant", "QUERY_PARAMETER": "key",
                              "KEY_CACHE_SECONDS": "30", "ROUTE_SCOPES": '{"GET /items": "api/items.read"}',
                              "ADMIN_GROUP": "tenant-admins"})
    assert full == Settings(EXECUTION_ARN, STAGE, KEYS_TABLE, ISSUER, "https://x/jwks.json", CLIENT_ID, "access",
                            "tenant", "key", 30.0, {"GET /items": "api/items.read"}, "tenant-admins")
