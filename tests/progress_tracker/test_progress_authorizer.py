"""The `$connect` token authorizer: PyJWT verification against a JWKS (served in-process)."""

from __future__ import annotations

import importlib
import json
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

ISSUER = "https://id.example.org/pool"
AUDIENCE = "progress-web"
METHOD_ARN = "arn:aws:execute-api:eu-west-1:111111111111:abc123/live/$connect"
APP = "serverless_patterns.lambdas.progress_tracker.authorizer.app"


@pytest.fixture
def keys() -> dict[str, Any]:
    return {"good": rsa.generate_private_key(public_exponent=65537, key_size=2048),
            "other": rsa.generate_private_key(public_exponent=65537, key_size=2048)}


@pytest.fixture
def authorizer(monkeypatch: pytest.MonkeyPatch, keys: dict[str, Any]) -> Any:
    monkeypatch.setenv("JWKS_URL", f"{ISSUER}/.well-known/jwks.json")
    monkeypatch.setenv("TOKEN_ISSUER", ISSUER)
    monkeypatch.setenv("TOKEN_AUDIENCE", AUDIENCE)
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "progress-authorizer")
    module = importlib.import_module(APP)
    monkeypatch.setattr(module, "_jwks", None)  # a new execution environment: no cached JWKS client
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(keys["good"].public_key()))
    jwks = {"keys": [{**jwk, "kid": "k1", "use": "sig", "alg": "RS256"}]}
    # The JWKS endpoint, answered in-process instead of over the network.
    monkeypatch.setattr(jwt.PyJWKClient, "fetch_data", lambda self: jwks)
    return module


def token(key: Any, kid: str = "k1", **claims: Any) -> str:
    now = int(time.time())
    body = {"sub": "user-42", "iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + 300, **claims}
    return jwt.encode(body, key, algorithm="RS256", headers={"kid": kid})


class Context:
    function_name = "authorizer"
    memory_limit_in_mb = 128
    invoked_function_arn = "arn:aws:lambda:eu-west-1:111111111111:function:authorizer"
    aws_request_id = "r"


def call(authorizer: Any, query: dict[str, str] | None) -> dict[str, Any]:
    return authorizer.handler({"type": "REQUEST", "methodArn": METHOD_ARN, "queryStringParameters": query,
                               "headers": {}}, Context())


def test_valid_token_is_allowed_with_principal(authorizer: Any, keys: dict[str, Any]) -> None:
    result = call(authorizer, {"token": token(keys["good"])})
    [statement] = result["policyDocument"]["Statement"]
    assert statement == {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": METHOD_ARN}
    assert result["principalId"] == "user-42" and result["context"] == {"principal": "user-42"}


@pytest.mark.parametrize("make", [
    lambda k: None,
    lambda k: {"token": "not-a-jwt"},
    lambda k: {"token": token(k["other"])},
    lambda k: {"token": token(k["good"], exp=int(time.time()) - 10)},
    lambda k: {"token": token(k["good"], aud="someone-else")},
    lambda k: {"token": token(k["good"], iss="https://evil.example.org")},
    lambda k: {"token": token(k["good"], kid="unknown")},
], ids=["missing", "garbage", "wrong-key", "expired", "audience", "issuer", "unknown-kid"])
def test_invalid_tokens_are_denied(authorizer: Any, keys: dict[str, Any], make: Any) -> None:
    result = call(authorizer, make(keys))
    assert result["policyDocument"]["Statement"][0]["Effect"] == "Deny"
    assert result["context"] == {}


@pytest.mark.parametrize("expired_ago", [4, 6, 60])
def test_expired_tokens_are_denied_without_leeway(authorizer: Any, keys: dict[str, Any], expired_ago: int) -> None:
    """This authorizer allows no clock skew: a token is refused from its `exp` second on (RFC 7519, 4.1.4)."""
    now = int(time.time())
    result = call(authorizer, {"token": token(keys["good"], iat=now - 300, exp=now - expired_ago)})
    assert result["policyDocument"]["Statement"][0]["Effect"] == "Deny"
    assert result["principalId"] == "anonymous"


@pytest.mark.parametrize("claims", [{"sub": None}, {"exp": None}, {"iss": None}],
                         ids=["no-sub", "no-exp", "no-iss"])
def test_tokens_missing_a_required_claim_are_denied(authorizer: Any, keys: dict[str, Any],
                                                    claims: dict[str, Any]) -> None:
    now = int(time.time())
    body = {"sub": "user-42", "iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + 300, **claims}
    body = {k: v for k, v in body.items() if v is not None}
    signed = jwt.encode(body, keys["good"], algorithm="RS256", headers={"kid": "k1"})
    assert call(authorizer, {"token": signed})["policyDocument"]["Statement"][0]["Effect"] == "Deny"


def test_an_hmac_token_is_denied(authorizer: Any) -> None:
    """Only the asymmetric algorithms are accepted: an HS256 token (a shared secret anyone could hold) is not."""
    now = int(time.time())
    body = {"sub": "mallory", "iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + 300}
    forged = jwt.encode(body, "s" * 32, algorithm="HS256", headers={"kid": "k1"})
    result = call(authorizer, {"token": forged})
    assert result["policyDocument"]["Statement"][0]["Effect"] == "Deny" and result["principalId"] == "anonymous"
