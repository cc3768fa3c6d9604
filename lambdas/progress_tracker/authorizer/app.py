"""`$connect` REQUEST authorizer: a connection needs a valid JWT in the `token` query parameter.

Browsers cannot set headers on a WebSocket handshake, so the token travels in the query
string. The token is verified with PyJWT against the issuer's JWKS (signature, `exp`, `iss`,
`aud`); its `sub` becomes the connection's principal, which owns the executions it starts.
"""

from __future__ import annotations

import os
from typing import Any

import jwt
from aws_lambda_powertools import Logger

logger = Logger()
ALGORITHMS = ["RS256", "RS384", "RS512", "ES256", "ES384"]
_jwks: jwt.PyJWKClient | None = None


def jwks_client() -> jwt.PyJWKClient:
    """One client per execution environment. The key set is cached for an hour and then fetched again, so a
    key the issuer removes stops being trusted within the hour; PyJWT's per-key cache (`cache_keys`) is left
    off because it never expires. The fetch gives up after 5 s, well inside the function's timeout."""
    global _jwks
    if _jwks is None:
        _jwks = jwt.PyJWKClient(os.environ["JWKS_URL"], lifespan=3600, timeout=5)
    return _jwks


def verify(token: str) -> dict[str, Any]:
    """The token's claims, or `jwt.PyJWTError` when it is not valid for this API."""
    key = jwks_client().get_signing_key_from_jwt(token)
    return jwt.decode(token, key.key, algorithms=ALGORITHMS, audience=os.environ["TOKEN_AUDIENCE"],
                      issuer=os.environ["TOKEN_ISSUER"], options={"require": ["exp", "iss", "sub"]})


def policy(principal: str, effect: str, resource: str, context: dict[str, str] | None = None) -> dict[str, Any]:
    return {"principalId": principal,
            "policyDocument": {"Version": "2012-10-17", "Statement": [
                {"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource}]},
            "context": context or {}}


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    token = (event.get("queryStringParameters") or {}).get("token", "")
    try:
        claims = verify(token)
    except (jwt.PyJWTError, jwt.PyJWKClientError) as error:
        logger.info("token rejected", extra={"reason": type(error).__name__})
        return policy("anonymous", "Deny", event["methodArn"])
    principal = str(claims["sub"])
    return policy(principal, "Allow", event["methodArn"], {"principal": principal})
