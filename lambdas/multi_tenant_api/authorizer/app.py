"""Lambda authorizers of the multi-tenant API: a Cognito JWT (or a legacy query-string key) -> the tenant's API key.

`handler` is the TOKEN authorizer: it verifies the bearer token (RS256 against the pool's JWKS, issuer,
audience/client id, `token_use`, expiry) and returns an IAM policy for the whole stage, the tenant context
and `usageIdentifierKey` (the tenant's API key, read from the key table), so API Gateway meters the request
on the tenant's usage plan. `query_string_handler` is the REQUEST variant for clients that still send
`?api_key=`: it accepts a key only if it belongs to a known tenant.

What a caller learns is deliberately minimal: any bad or missing credential is API Gateway's 401
(`raise Exception("Unauthorized")`), a valid identity without a known tenant is a Deny policy (403). The
reason is logged, never returned.

Every invocation answers before its own timeout: an authorizer that times out is API Gateway's
`AUTHORIZER_FAILURE` (500). A `Deadline` from `context.get_remaining_time_in_millis()` bounds the work:
the JWKS fetch gets at most what is left (socket timeout, and reads stop at the deadline), and the key
table is read only when its worst case (botocore connect/read timeouts x attempts + backoff) still fits.
What does not fit is answered 401 at once, leaving `ANSWER_RESERVE_SECONDS` to answer.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import boto3
import jwt
from aws_lambda_powertools import Logger
from botocore.config import Config

logger = Logger()

#: Tenant ids as the component defines them (3-64 lowercase letters, digits and inner hyphens).
TENANT_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}[a-z0-9]$")
#: API key values API Gateway accepts (20-128 characters); generated ones are alphanumeric.
API_KEY_RE = re.compile(r"^[A-Za-z0-9_\-]{20,128}$")
ALLOWED_ALGORITHMS = ("RS256",)
MAX_TOKEN_BYTES = 8192
MAX_JWKS_BYTES = 65536
KEY_HASH_INDEX = "by-key-hash"
#: Time kept back, after the last I/O gives up, to log and answer API Gateway.
ANSWER_RESERVE_SECONDS = 0.5
#: Socket timeout of the JWKS fetch (each operation), never more than the time left.
JWKS_TIMEOUT_SECONDS = 2.0
#: The key table client: botocore's standard retries with short timeouts (worst case 2 x 1.5 s + 1 s backoff).
KEY_TABLE_CONNECT_TIMEOUT = 0.5
KEY_TABLE_READ_TIMEOUT = 1.0
KEY_TABLE_ATTEMPTS = 2
#: Without a Lambda context (local calls), assume the function's timeout as the component sets it.
DEFAULT_REMAINING_SECONDS = 10.0


class Unauthorized(Exception):
    """Why a credential was refused (logged only; the caller always sees a bare 401)."""


class DeadlineExceeded(Unauthorized):
    """The work left cannot finish before the invocation's own timeout: answer 401 now."""


class Deadline:
    """When this invocation must have answered: its remaining time less `ANSWER_RESERVE_SECONDS`."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.at = clock() + seconds

    @classmethod
    def from_context(cls, context: Any, reserve: float = ANSWER_RESERVE_SECONDS,
                     clock: Callable[[], float] = time.monotonic) -> Deadline:
        remaining = getattr(context, "get_remaining_time_in_millis", None)
        seconds = remaining() / 1000 if callable(remaining) else DEFAULT_REMAINING_SECONDS
        return cls(seconds - reserve, clock)

    @classmethod
    def unbounded(cls) -> Deadline:
        return cls(float("inf"))

    def remaining(self) -> float:
        return self.at - self.clock()

    def require(self, seconds: float, what: str) -> None:
        """Refuse to start `what`, which may take `seconds`, when it would end past the deadline."""
        left = self.remaining()
        if left < seconds:
            raise DeadlineExceeded(f"{what} may take {seconds:.2f} s; only {max(left, 0):.2f} s left")


def key_hash(value: str) -> str:
    """How the key table indexes API key values (so the value itself is never a lookup key)."""
    return hashlib.sha256(value.encode()).hexdigest()


def fetch_json(url: str, timeout: float = JWKS_TIMEOUT_SECONDS, deadline: Deadline | None = None) -> Any:
    """GET a small JSON document over HTTPS (the JWKS), within `timeout` per socket operation.

    With a `deadline`, reading stops once it has passed, so a server that trickles bytes cannot keep
    the invocation past it (a socket timeout alone bounds each read, not the whole body).
    """
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    body = b""
    with urllib.request.urlopen(request, timeout=timeout) as response:  # the URL is set by the component
        while len(body) <= MAX_JWKS_BYTES:
            if deadline is not None:
                deadline.require(timeout, "reading the JWKS")
            chunk = response.read1(MAX_JWKS_BYTES + 1 - len(body))
            if not chunk:
                break
            body += chunk
    if len(body) > MAX_JWKS_BYTES:
        raise ValueError(f"JWKS at {url} is larger than {MAX_JWKS_BYTES} bytes")
    return json.loads(body)


class JwksCache:
    """The user pool's signing keys by `kid`, fetched once and refreshed when an unknown `kid` shows up.

    Refreshes are at most one per `min_refresh_seconds` (`retry_seconds` after a failed fetch), so tokens
    with made-up `kid`s cannot make every invocation call Cognito.
    """

    def __init__(self, url: str, fetch: Callable[..., Any] = fetch_json, min_refresh_seconds: float = 60.0,
                 retry_seconds: float = 5.0, clock: Callable[[], float] = time.monotonic,
                 timeout_seconds: float = JWKS_TIMEOUT_SECONDS) -> None:
        """`fetch(url, timeout=, deadline=)` returns the JWKS document."""
        self.url = url
        self.timeout_seconds = timeout_seconds
        self.fetch = fetch
        self.min_refresh_seconds = min_refresh_seconds
        self.retry_seconds = retry_seconds
        self.clock = clock
        self.keys: dict[str, jwt.PyJWK] = {}
        self.fetched_at: float | None = None
        self.fetches = 0

    def refresh(self, deadline: Deadline | None = None) -> None:
        deadline = deadline or Deadline.unbounded()
        timeout = min(self.timeout_seconds, deadline.remaining())
        if timeout <= 0:
            raise DeadlineExceeded("no time left to fetch the JWKS")
        now = self.clock()
        self.fetches += 1
        try:
            document = self.fetch(self.url, timeout=timeout, deadline=deadline)
        except Exception:
            # A failed fetch may be retried after `retry_seconds`, not after the full refresh interval.
            self.fetched_at = now - self.min_refresh_seconds + self.retry_seconds
            raise
        self.fetched_at = now
        keys: dict[str, jwt.PyJWK] = {}
        for entry in document.get("keys", []) if isinstance(document, Mapping) else []:
            if (not isinstance(entry, Mapping) or entry.get("kty") != "RSA" or entry.get("use", "sig") != "sig"
                    or entry.get("alg", "RS256") not in ALLOWED_ALGORITHMS or not isinstance(entry.get("kid"), str)):
                continue
            try:
                keys[entry["kid"]] = jwt.PyJWK(dict(entry), algorithm="RS256")
            except jwt.PyJWTError:
                logger.warning("skipping an unusable JWKS entry", extra={"kid": entry.get("kid")})
        self.keys = keys

    def key(self, kid: str, deadline: Deadline | None = None) -> jwt.PyJWK:
        if kid not in self.keys and (self.fetched_at is None
                                     or self.clock() - self.fetched_at >= self.min_refresh_seconds):
            self.refresh(deadline)
        try:
            return self.keys[kid]
        except KeyError:
            raise Unauthorized("unknown kid") from None


@dataclass(frozen=True)
class TokenVerifier:
    """Checks a Cognito token the way the API needs it: signature, issuer, client, token use, times."""

    jwks: JwksCache
    issuer: str
    client_id: str
    token_use: str = "id"
    leeway_seconds: int = 5

    def verify(self, token: str, deadline: Deadline | None = None) -> dict[str, Any]:
        if len(token) > MAX_TOKEN_BYTES:
            raise Unauthorized("token too large")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as error:
            raise Unauthorized(f"malformed token: {error}") from None
        if header.get("alg") not in ALLOWED_ALGORITHMS:
            raise Unauthorized(f"algorithm {header.get('alg')!r} not allowed")
        kid = header.get("kid")
        if not isinstance(kid, str):
            raise Unauthorized("no kid")
        key = self.jwks.key(kid, deadline)
        id_token = self.token_use == "id"
        required = ["exp", "iat", "iss", "sub", "token_use"] + (["aud"] if id_token else ["client_id"])
        try:
            claims = jwt.decode(token, key, algorithms=list(ALLOWED_ALGORITHMS), issuer=self.issuer,
                                audience=self.client_id if id_token else None, leeway=self.leeway_seconds,
                                options={"require": required, "verify_aud": id_token})
        except jwt.PyJWTError as error:
            raise Unauthorized(f"invalid token: {type(error).__name__}") from None
        if claims.get("token_use") != self.token_use:
            raise Unauthorized(f"token_use {claims.get('token_use')!r} is not {self.token_use!r}")
        if not id_token and not isinstance(claims.get("client_id"), str):
            raise Unauthorized("no client_id")
        return claims


@dataclass(frozen=True)
class TenantKey:
    tenant_id: str
    tier: str
    api_key: str
    #: App clients registered for this tenant's machine callers (their access tokens are accepted).
    machine_clients: frozenset[str] = frozenset()
    #: The usage plan of the tenant's tier (the backend's GET /usage reads that plan's usage of the key).
    usage_plan_id: str = ""
    #: Lifecycle status: only `active` tenants are allowed (Pulumi's rows have none: always active).
    status: str = "active"


class TenantKeyStore:
    """Read-only view of the key table (tenant -> API key value, tier), cached per execution environment."""

    def __init__(self, table_name: str, client: Any = None, ttl_seconds: float = 300.0,
                 negative_ttl_seconds: float = 60.0, max_entries: int = 20000,
                 clock: Callable[[], float] = time.monotonic, connect_timeout: float = KEY_TABLE_CONNECT_TIMEOUT,
                 read_timeout: float = KEY_TABLE_READ_TIMEOUT, attempts: int = KEY_TABLE_ATTEMPTS,
                 endpoint_url: str | None = None) -> None:
        self.table_name = table_name
        self.config = Config(retries={"mode": "standard", "total_max_attempts": attempts},
                             connect_timeout=connect_timeout, read_timeout=read_timeout)
        self.endpoint_url = endpoint_url
        # botocore's standard mode waits random(0, 1) * 2 ** (attempt - 1) seconds before each retry.
        self.worst_case_seconds = attempts * (connect_timeout + read_timeout) + sum(
            2 ** i for i in range(attempts - 1))
        self._client = client
        self.ttl_seconds = ttl_seconds
        self.negative_ttl_seconds = negative_ttl_seconds
        self.max_entries = max_entries
        self.clock = clock
        self._cache: dict[str, tuple[TenantKey | None, float]] = {}
        self.lookups = 0

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = boto3.client("dynamodb", config=self.config, endpoint_url=self.endpoint_url)
        return self._client

    def _cached(self, cache_key: str, load: Callable[[], TenantKey | None],
                deadline: Deadline | None = None) -> TenantKey | None:
        now = self.clock()
        hit = self._cache.get(cache_key)
        if hit is not None and hit[1] > now:
            return hit[0]
        if deadline is not None:
            deadline.require(self.worst_case_seconds, "reading the key table")
        self.lookups += 1
        value = load()
        if len(self._cache) >= self.max_entries:
            self._cache.clear()
        self._cache[cache_key] = (value, now + (self.ttl_seconds if value else self.negative_ttl_seconds))
        return value

    @staticmethod
    def _entry(item: Mapping[str, Any] | None) -> TenantKey | None:
        if not item or "apiKey" not in item:
            return None
        return TenantKey(item["tenantId"]["S"], item.get("tier", {}).get("S", ""), item["apiKey"]["S"],
                         frozenset(item.get("machineClientIds", {}).get("SS", [])),
                         item.get("usagePlanId", {}).get("S", ""), item.get("status", {}).get("S", "active"))

    def by_tenant(self, tenant_id: str, deadline: Deadline | None = None) -> TenantKey | None:
        def load() -> TenantKey | None:
            response = self.client.get_item(
                TableName=self.table_name, Key={"tenantId": {"S": tenant_id}},
                ProjectionExpression="tenantId, apiKey, tier, machineClientIds, usagePlanId, #status",
                ExpressionAttributeNames={"#status": "status"})
            return self._entry(response.get("Item"))
        return self._cached("t#" + tenant_id, load, deadline)

    def by_key(self, api_key: str, deadline: Deadline | None = None) -> TenantKey | None:
        digest = key_hash(api_key)

        def load() -> TenantKey | None:
            response = self.client.query(TableName=self.table_name, IndexName=KEY_HASH_INDEX, Limit=2,
                                         KeyConditionExpression="keyHash = :h",
                                         ExpressionAttributeValues={":h": {"S": digest}})
            items = response.get("Items", [])
            return self._entry(items[0]) if len(items) == 1 else None
        entry = self._cached("k#" + digest, load, deadline)
        # Guard against a hash collision or a stale index row: the stored value must be the presented one.
        return entry if entry is not None and entry.api_key == api_key else None


@dataclass(frozen=True)
class Settings:
    """What the component configures through the environment."""

    api_execution_arn: str
    stage: str
    table_name: str
    issuer: str = ""
    jwks_url: str = ""
    client_id: str = ""
    token_use: str = "id"
    tenant_claim: str = "custom:tenant_id"
    query_parameter: str = "api_key"
    key_cache_seconds: float = 300.0
    #: Access tokens only: route (`"GET /items/{itemId}"`) -> the scope it requires (full name).
    route_scopes: Mapping[str, str] = field(default_factory=dict)
    #: The admin authorizer: the Cognito group whose members may call the admin routes.
    admin_group: str = ""

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Settings:
        return cls(api_execution_arn=env["API_EXECUTION_ARN"], stage=env["STAGE_NAME"],
                   table_name=env.get("TENANT_KEYS_TABLE", ""), issuer=env.get("ISSUER", ""),
                   jwks_url=env.get("JWKS_URL", ""), client_id=env.get("CLIENT_ID", ""),
                   token_use=env.get("TOKEN_USE", "id"), tenant_claim=env.get("TENANT_CLAIM", "custom:tenant_id"),
                   query_parameter=env.get("QUERY_PARAMETER", "api_key"),
                   key_cache_seconds=float(env.get("KEY_CACHE_SECONDS", "300")),
                   route_scopes=json.loads(env.get("ROUTE_SCOPES") or "{}"), admin_group=env.get("ADMIN_GROUP", ""))

    @property
    def stage_resource(self) -> str:
        """Every method of this API's stage: API Gateway caches one result per identity for all methods."""
        return f"{self.api_execution_arn}/{self.stage}/*/*"

    def route_resource(self, route: str) -> str:
        """`"GET /items/{itemId}"` -> the method ARN pattern `.../<stage>/GET/items/*` (root: `.../GET/`)."""
        method, path = route.split(" ", 1)
        return f"{self.api_execution_arn}/{self.stage}/{method}/" + re.sub(r"\{[^}]+\}", "*", path.lstrip("/"))

    def scoped_resources(self, scopes: set[str]) -> list[str]:
        """The routes an access token with `scopes` may call (one cached policy covers all of them)."""
        return sorted(self.route_resource(route) for route, scope in self.route_scopes.items() if scope in scopes)


def policy(principal_id: str, effect: str, resource: str | list[str]) -> dict[str, Any]:
    return {"principalId": principal_id,
            "policyDocument": {"Version": "2012-10-17", "Statement": [
                {"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource}]}}


class Authorizer:
    """Both authorizer flavours over one settings object, JWKS cache and key store."""

    def __init__(self, settings: Settings, jwks: JwksCache | None = None, store: TenantKeyStore | None = None
                 ) -> None:
        self.settings = settings
        self.jwks = jwks or JwksCache(settings.jwks_url)
        self.verifier = TokenVerifier(self.jwks, settings.issuer, settings.client_id, settings.token_use)
        self.store = store or TenantKeyStore(settings.table_name, ttl_seconds=settings.key_cache_seconds)

    def _check_method_arn(self, event: Mapping[str, Any]) -> None:
        method_arn = event.get("methodArn")
        if not isinstance(method_arn, str) or not method_arn.startswith(
                f"{self.settings.api_execution_arn}/{self.settings.stage}/"):
            raise Unauthorized("method ARN of another API or stage")

    def allow(self, principal_id: str, tenant: TenantKey, resources: list[str] | None = None,
              scopes: str | None = None) -> dict[str, Any]:
        response = policy(principal_id, "Allow", resources or self.settings.stage_resource)
        response["context"] = {"tenantId": tenant.tenant_id, "tier": tenant.tier}
        if tenant.usage_plan_id:
            response["context"]["usagePlanId"] = tenant.usage_plan_id
        if scopes is not None:
            response["context"]["scopes"] = scopes
        response["usageIdentifierKey"] = tenant.api_key
        return response

    def token(self, event: Mapping[str, Any], deadline: Deadline | None = None) -> dict[str, Any]:
        """TOKEN authorizer: `Authorization: Bearer <Cognito JWT>`."""
        if event.get("type") != "TOKEN":
            raise Unauthorized("not a TOKEN authorizer event")
        self._check_method_arn(event)
        header = event.get("authorizationToken")
        if not isinstance(header, str) or not header.startswith("Bearer "):
            raise Unauthorized("no bearer token")
        claims = self.verifier.verify(header[len("Bearer "):].strip(), deadline)
        principal = str(claims["sub"])
        tenant_id = claims.get(self.settings.tenant_claim)
        tenant = (self.store.by_tenant(tenant_id, deadline)
                  if isinstance(tenant_id, str) and TENANT_ID_RE.fullmatch(tenant_id) else None)
        if tenant is None:
            logger.info("denied: no known tenant for this identity", extra={"sub": principal})
            return policy(principal, "Deny", self.settings.stage_resource)
        if tenant.status != "active":
            logger.info("denied: tenant not active", extra={"sub": principal, "tenant_id": tenant.tenant_id,
                                                            "status": tenant.status})
            return policy(principal, "Deny", self.settings.stage_resource)
        if self.settings.token_use == "id":
            return self.allow(principal, tenant)
        # Access tokens: from the hosted-UI client (users) or one of this tenant's machine clients only.
        client_id = claims["client_id"]
        if client_id != self.settings.client_id and client_id not in tenant.machine_clients:
            raise Unauthorized("client_id is neither the app client nor a machine client of the tenant")
        granted = {s for s in str(claims.get("scope", "")).split() if s in set(self.settings.route_scopes.values())}
        resources = self.settings.scoped_resources(granted)
        if not resources:
            logger.info("denied: no scope of any route", extra={"sub": principal})
            return policy(principal, "Deny", self.settings.stage_resource)
        return self.allow(principal, tenant, resources, " ".join(sorted(granted)))

    def query_string(self, event: Mapping[str, Any], deadline: Deadline | None = None) -> dict[str, Any]:
        """REQUEST authorizer for legacy clients: `?api_key=<tenant key>`."""
        if event.get("type") != "REQUEST":
            raise Unauthorized("not a REQUEST authorizer event")
        self._check_method_arn(event)
        api_key = (event.get("queryStringParameters") or {}).get(self.settings.query_parameter)
        if not isinstance(api_key, str) or not API_KEY_RE.fullmatch(api_key):
            raise Unauthorized("no well-formed key")
        tenant = self.store.by_key(api_key, deadline)
        if tenant is None:
            raise Unauthorized("unknown key")
        if tenant.status != "active":
            logger.info("denied: tenant not active", extra={"tenant_id": tenant.tenant_id, "status": tenant.status})
            return policy(f"tenant:{tenant.tenant_id}", "Deny", self.settings.stage_resource)
        return self.allow(f"tenant:{tenant.tenant_id}", tenant)

    def admin(self, event: Mapping[str, Any], deadline: Deadline | None = None) -> dict[str, Any]:
        """TOKEN authorizer of the admin routes: a valid token whose `cognito:groups` holds the admin group.

        No tenant and no API key (admin routes are not metered); the policy covers the admin routes only.
        """
        if event.get("type") != "TOKEN" or not self.settings.admin_group:
            raise Unauthorized("not a TOKEN authorizer event, or no admin group configured")
        self._check_method_arn(event)
        header = event.get("authorizationToken")
        if not isinstance(header, str) or not header.startswith("Bearer "):
            raise Unauthorized("no bearer token")
        claims = self.verifier.verify(header[len("Bearer "):].strip(), deadline)
        principal = str(claims["sub"])
        if self.settings.token_use == "access" and claims.get("client_id") != self.settings.client_id:
            raise Unauthorized("admin access tokens come from the app client only")
        groups = claims.get("cognito:groups")
        admin_routes = f"{self.settings.api_execution_arn}/{self.settings.stage}/*/admin/*"
        if not isinstance(groups, list) or self.settings.admin_group not in groups:
            logger.info("denied: not an admin", extra={"sub": principal})
            return policy(principal, "Deny", admin_routes)
        response = policy(principal, "Allow", admin_routes)
        response["context"] = {"admin": "true", "principalId": principal}
        return response


_authorizer: Authorizer | None = None


def authorizer() -> Authorizer:
    """One instance per execution environment, so the JWKS and key caches survive across invocations."""
    global _authorizer
    if _authorizer is None:
        _authorizer = Authorizer(Settings.from_env())
    return _authorizer


def _run(flavour: str, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    deadline = Deadline.from_context(context)
    try:
        return getattr(authorizer(), flavour)(event, deadline)
    except Unauthorized as error:
        logger.info("unauthorized", extra={"reason": str(error)})
    except Exception:
        # Anything else (JWKS or DynamoDB unreachable, a bug) must still be a 401, never API Gateway's 500.
        logger.exception("authorizer failure")
    # API Gateway maps exactly this message to a 401.
    raise Exception("Unauthorized")


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return _run("token", event, context)


@logger.inject_lambda_context(clear_state=True)
def admin_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return _run("admin", event, context)


@logger.inject_lambda_context(clear_state=True)
def query_string_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return _run("query_string", event, context)
