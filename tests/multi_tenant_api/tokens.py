"""Real RS256 tokens for the authorizer tests: a key pair made here, its JWKS served over HTTP."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

REGION = "eu-west-1"
POOL_ID = "eu-west-1_TestPool1"
ISSUER = f"https://cognito-idp.{REGION}.amazonaws.com/{POOL_ID}"
CLIENT_ID = "4example0client0id0000000a"
ACCOUNT = "111111111111"
API_ID = "a1b2c3d4e5"
STAGE = "v1"
EXECUTION_ARN = f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{API_ID}"
METHOD_ARN = f"{EXECUTION_ARN}/{STAGE}/GET/items"


class SigningKey:
    """An RSA key pair with a `kid`, as a Cognito pool has."""

    def __init__(self, kid: str | None = None) -> None:
        self.kid = kid or uuid.uuid4().hex
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    @property
    def public_pem(self) -> bytes:
        return self.private.public_key().public_bytes(serialization.Encoding.PEM,
                                                      serialization.PublicFormat.SubjectPublicKeyInfo)

    def jwk(self) -> dict[str, Any]:
        data = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.private.public_key()))
        return {**data, "kid": self.kid, "alg": "RS256", "use": "sig"}

    def sign(self, claims: dict[str, Any], headers: dict[str, Any] | None = None) -> str:
        return jwt.encode(claims, self.private, algorithm="RS256", headers={"kid": self.kid, **(headers or {})})


def id_claims(tenant: str | None = "acme-corp", **overrides: Any) -> dict[str, Any]:
    """Claims of a Cognito ID token for a user of `tenant`."""
    now = int(time.time())
    claims: dict[str, Any] = {"sub": str(uuid.uuid4()), "aud": CLIENT_ID, "iss": ISSUER, "token_use": "id",
                              "auth_time": now, "iat": now, "exp": now + 3600, "email": "user@example.org",
                              "cognito:username": "user"}
    if tenant is not None:
        claims["custom:tenant_id"] = tenant
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def access_claims(tenant: str | None = "acme-corp", **overrides: Any) -> dict[str, Any]:
    """Claims of a Cognito access token (tenant claim as a pre-token-generation trigger would add it)."""
    claims = id_claims(tenant, token_use="access", client_id=CLIENT_ID, scope="openid email")
    claims.pop("aud")
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned(claims: dict[str, Any], kid: str) -> str:
    """`alg: none`."""
    header = b64(json.dumps({"alg": "none", "typ": "JWT", "kid": kid}).encode())
    return f"{header}.{b64(json.dumps(claims).encode())}."


def hs256_with_public_key(claims: dict[str, Any], key: SigningKey) -> str:
    """The classic key-confusion forgery: HMAC-signed with the RSA public key as the secret."""
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": key.kid}).encode())
    payload = b64(json.dumps(claims).encode())
    signature = hmac.new(key.public_pem, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{b64(signature)}"


def tampered(token: str, **changes: Any) -> str:
    """The same signature over a changed payload."""
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims.update(changes)
    return f"{header}.{b64(json.dumps(claims).encode())}.{signature}"


class LoopbackServer:
    """An HTTP server on 127.0.0.1 serving `handler` from a thread while the `with` block runs."""

    path = "/"

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        # `shutdown()` waits for the serving loop to look at its flag: every 10 ms instead of the default 0.5 s.
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{self.path}"

    def __enter__(self) -> Self:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class JwksServer(LoopbackServer):
    """Serves a JWKS document over HTTP on localhost and counts the fetches."""

    path = f"/{POOL_ID}/.well-known/jwks.json"

    def __init__(self, keys: list[SigningKey]) -> None:
        self.keys = list(keys)
        self.hits = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.hits += 1
                body = json.dumps({"keys": [k.jwk() for k in server.keys]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                return

        super().__init__(Handler)


def token_event(token: str | None, method_arn: str = METHOD_ARN, scheme: str = "Bearer ") -> dict[str, Any]:
    event: dict[str, Any] = {"type": "TOKEN", "methodArn": method_arn}
    if token is not None:
        event["authorizationToken"] = scheme + token
    return event


def query_event(api_key: str | None, method_arn: str = METHOD_ARN, parameter: str = "api_key") -> dict[str, Any]:
    return {"type": "REQUEST", "methodArn": method_arn, "resource": "/items", "path": "/items",
            "httpMethod": "GET", "headers": {}, "queryStringParameters": {parameter: api_key} if api_key else None,
            "requestContext": {"accountId": ACCOUNT, "apiId": API_ID, "stage": STAGE}}


class LambdaContext:
    function_name = "authorizer"
    memory_limit_in_mb = 256
    invoked_function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:authorizer"
    aws_request_id = "00000000-0000-0000-0000-000000000000"
