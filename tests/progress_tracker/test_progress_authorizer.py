"""The `$connect` token authorizer: PyJWT verification against a JWKS (served in-process)."""

from __future__ import annotations

import importlib
import json
import time
import urllib.error
import urllib.request
from types import SimpleNamespace
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

ISSUER = "https://id.example.org/pool"
AUDIENCE = "progress-web"
METHOD_ARN = "arn:aws:execute-api:eu-west-1:111111111111:abc123/live/$connect"
APP = "serverless_patterns.lambdas.progress_tracker.authorizer.app"
FETCH = jwt.PyJWKClient.fetch_data  # PyJWT's own fetch, before any test replaces it


@pytest.fixture(scope="module")
def keys() -> dict[str, Any]:
    """Two RSA key pairs for the module (generating them is the slow part of these tests)."""
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


def test_the_allow_policy_is_a_complete_iam_document(authorizer: Any, keys: dict[str, Any]) -> None:
    result = call(authorizer, {"token": token(keys["good"])})
    assert result["policyDocument"] == {"Version": "2012-10-17", "Statement": [
        {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": METHOD_ARN}]}


@pytest.mark.parametrize("algorithm", ["RS256", "RS384", "RS512", "ES256", "ES384"])
def test_every_accepted_algorithm_verifies_with_its_jwks_key(authorizer: Any, monkeypatch: pytest.MonkeyPatch,
                                                             algorithm: str) -> None:
    """Identity providers sign with RSA or EC keys; each algorithm the authorizer accepts must verify."""
    from cryptography.hazmat.primitives.asymmetric import ec

    if algorithm.startswith("ES"):
        curve = ec.SECP256R1() if algorithm == "ES256" else ec.SECP384R1()
        private = ec.generate_private_key(curve)
        jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(private.public_key()))
    else:
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key()))
    jwks = {"keys": [{**jwk, "kid": f"k-{algorithm}", "use": "sig", "alg": algorithm}]}
    monkeypatch.setattr(jwt.PyJWKClient, "fetch_data", lambda self: jwks)
    now = int(time.time())
    signed = jwt.encode({"sub": "user-7", "iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + 300}, private,
                        algorithm=algorithm, headers={"kid": f"k-{algorithm}"})
    result = call(authorizer, {"token": signed})
    assert result["policyDocument"]["Statement"][0]["Effect"] == "Allow" and result["principalId"] == "user-7"


def test_the_jwks_is_fetched_once_per_execution_environment(authorizer: Any, keys: dict[str, Any],
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    fetches: list[str] = []
    jwks = jwt.PyJWKClient.fetch_data(None)  # type: ignore[arg-type]  # the fixture's in-process JWKS
    monkeypatch.setattr(jwt.PyJWKClient, "fetch_data", lambda self: fetches.append(self.uri) or jwks)
    for _ in range(3):
        assert call(authorizer, {"token": token(keys["good"])})["principalId"] == "user-42"
    assert fetches == [f"{ISSUER}/.well-known/jwks.json"]


def test_an_unanswered_jwks_fetch_gives_up_after_five_seconds_and_denies(authorizer: Any, keys: dict[str, Any],
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    timeouts: list[float] = []

    def unanswered(opener: Any, request: Any, data: Any = None, timeout: float | None = None) -> Any:
        timeouts.append(timeout)
        raise urllib.error.URLError("timed out")

    monkeypatch.setattr(jwt.PyJWKClient, "fetch_data", FETCH)
    monkeypatch.setattr(urllib.request.OpenerDirector, "open", unanswered)
    result = call(authorizer, {"token": token(keys["good"])})
    assert result["policyDocument"]["Statement"][0]["Effect"] == "Deny"
    assert timeouts == [5]


def test_a_key_removed_from_the_jwks_is_trusted_for_at_most_an_hour(authorizer: Any, keys: dict[str, Any],
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """After a rotation the issuer's JWKS no longer lists the old key: a warm authorizer keeps the cached set
    for its hour, then fetches again and refuses tokens signed with the removed key."""
    now = [1000.0]
    clock = SimpleNamespace(monotonic=lambda: now[0], time=time.time)
    monkeypatch.setattr(jwt.api_jwk, "time", clock)
    monkeypatch.setattr(jwt.jwk_set_cache, "time", clock)
    served = [jwt.PyJWKClient.fetch_data(None)]  # type: ignore[arg-type]  # the fixture's JWKS
    monkeypatch.setattr(jwt.PyJWKClient, "fetch_data", lambda self: served[-1])
    signed = token(keys["good"], exp=int(time.time()) + 7200)
    assert call(authorizer, {"token": signed})["principalId"] == "user-42"
    served.append({"keys": []})  # rotated out
    now[0] += 3599
    assert call(authorizer, {"token": signed})["principalId"] == "user-42"
    now[0] += 1.5
    assert call(authorizer, {"token": signed})["principalId"] == "anonymous"
