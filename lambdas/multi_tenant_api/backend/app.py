"""Tenant-scoped example backend of the multi-tenant API (REST API Lambda proxy integration).

The tenant comes only from the authorizer context (`requestContext.authorizer.tenantId`), never from the
path, query or body, and is the partition key of every read and write, so one tenant cannot reach
another tenant's items. Malformed requests are 400s with a reason.

Isolation does not rest on that code alone: the function's own role cannot touch the items table. It
works on a tenant's items only with credentials of the tenant-data role assumed with the tenant as the
session tag `tenant` (`ScopedCredentials`); that role may touch only items whose partition key
(`dynamodb:LeadingKeys`) equals `${aws:PrincipalTag/tenant}`, so a query for another tenant's key is
refused by IAM (AccessDeniedException), whatever this code does.

Bodies are checked against JSON Schemas (validators generated on first use) and query parameters parsed here
(`rest_requests`, shared with the admin function), not by the resolver's `enable_validation`, which imports pydantic
on every cold start (README, Benchmarks).
"""

import os
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import BadRequestError, ForbiddenError, NotFoundError
from aws_lambda_powertools.logging import correlation_paths
from botocore.config import Config
from rest_requests import BadRequest, json_body, query_int, usage_window
from schema_checks import DRAFT, compiled

logger = Logger()
# Only botocore makes outbound calls here: patching every module X-Ray supports would import requests,
# httpx & co. on each cold start (https://docs.powertools.aws.dev/lambda/python/latest/core/tracer/).
tracer = Tracer(patch_modules=("botocore",))
app = APIGatewayRestResolver()
app.exception_handler(BadRequest)(BadRequest.response)

#: Tag key of the tenant on the assumed session; the role policy reads it as `aws:PrincipalTag/tenant`.
TENANT_TAG = "tenant"
#: Session length asked of STS (its minimum, 900 s) and how long before expiry a session is renewed.
SESSION_SECONDS = 900
RENEW_BEFORE_SECONDS = 60
MAX_CACHED_TENANTS = 1000
BOTO_CONFIG = Config(retries={"mode": "standard"})


class ScopedCredentials:
    """Per-tenant sessions of the tenant-data role (session tag `tenant=<id>`), cached within their lifetime.

    Each execution environment keeps at most `MAX_CACHED_TENANTS` sessions and renews one
    `RENEW_BEFORE_SECONDS` before STS's `Expiration`, so a request never uses credentials about to expire.
    """

    def __init__(self, role_arn: str, sts: Any = None, clock: Callable[[], float] = time.time) -> None:
        self.role_arn = role_arn
        self._sts = sts
        self.clock = clock
        self._sessions: dict[str, tuple[Any, float]] = {}
        self._lock = threading.Lock()
        self.assumed = 0

    @property
    def sts(self) -> Any:
        if self._sts is None:
            self._sts = boto3.client("sts", config=BOTO_CONFIG)
        return self._sts

    def session(self, tenant_id: str) -> Any:
        """A boto3 session whose credentials can reach only `tenant_id`'s items."""
        with self._lock:
            hit = self._sessions.get(tenant_id)
            if hit is not None and hit[1] - RENEW_BEFORE_SECONDS > self.clock():
                return hit[0]
            response = self.sts.assume_role(
                RoleArn=self.role_arn, RoleSessionName=tenant_id, DurationSeconds=SESSION_SECONDS,
                Tags=[{"Key": TENANT_TAG, "Value": tenant_id}])
            self.assumed += 1
            credentials = response["Credentials"]
            session = boto3.session.Session(aws_access_key_id=credentials["AccessKeyId"],
                                            aws_secret_access_key=credentials["SecretAccessKey"],
                                            aws_session_token=credentials["SessionToken"])
            if len(self._sessions) >= MAX_CACHED_TENANTS:
                self._sessions.clear()
            self._sessions[tenant_id] = (session, credentials["Expiration"].timestamp())
            return session

    def table(self, tenant_id: str, table_name: str) -> Any:
        """The items table through `tenant_id`'s scoped credentials."""
        return self.session(tenant_id).resource("dynamodb", config=BOTO_CONFIG).Table(table_name)


_scoped: ScopedCredentials | None = None


def scoped() -> ScopedCredentials:
    """One cache per execution environment (created on first use, so tests can set the environment first)."""
    global _scoped
    if _scoped is None:
        _scoped = ScopedCredentials(os.environ["TENANT_ROLE_ARN"])
    return _scoped


def table(tenant_id: str) -> Any:
    """The items table as `tenant_id` may see it (IAM refuses any other tenant's partition)."""
    return scoped().table(tenant_id, os.environ["ITEMS_TABLE"])


#: The body of `POST /items` (strings are trimmed before it is checked; no other field).
NEW_ITEM_SCHEMA: dict[str, Any] = {
    "$schema": DRAFT,
    "type": "object",
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 200},
        "description": {"type": "string", "maxLength": 2000, "default": ""},
        "quantity": {"type": "integer", "minimum": 0, "maximum": 1_000_000, "default": 0},
    },
    "required": ["name"],
    "additionalProperties": False,
}
# Generated on first use: only POST /items checks a body.
valid_new_item = compiled(NEW_ITEM_SCHEMA, on_first_use=True)
#: `GET /items?limit=`: items per answer, 1 to `MAX_LIMIT`.
MAX_LIMIT, DEFAULT_LIMIT = 100, 50


def tenant() -> tuple[str, str]:
    """Tenant id and tier as the authorizer put them in the request context."""
    context = app.current_event.request_context.authorizer.get_context()
    tenant_id, tier = context.get("tenantId"), context.get("tier")
    if not isinstance(tenant_id, str) or not tenant_id:
        # Only reachable if the method were wired without the authorizer: refuse, never guess.
        raise ForbiddenError("no tenant in the request context")
    logger.append_keys(tenant_id=tenant_id)
    return tenant_id, tier or ""


def public(item: dict[str, Any]) -> dict[str, Any]:
    """An item as clients see it (DynamoDB numbers as ints, no partition key)."""
    return {"itemId": item["itemId"], "name": item["name"], "description": item.get("description", ""),
            "quantity": int(item.get("quantity", 0)), "createdAt": item["createdAt"]}


@app.get("/")
@tracer.capture_method
def whoami() -> dict[str, str]:
    tenant_id, tier = tenant()
    return {"tenantId": tenant_id, "tier": tier}


@app.get("/items")
@tracer.capture_method
def list_items() -> dict[str, Any]:
    tenant_id, _ = tenant()
    limit = query_int(app.current_event.query_string_parameters, "limit", default=DEFAULT_LIMIT, low=1, high=MAX_LIMIT)
    # A plain expression: the condition builder (boto3.dynamodb.conditions) would be one more module per cold start.
    response = table(tenant_id).query(KeyConditionExpression="tenantId = :tenant",
                                      ExpressionAttributeValues={":tenant": tenant_id}, Limit=limit)
    return {"items": [public(i) for i in response.get("Items", [])]}


@app.post("/items")
@tracer.capture_method
def create_item() -> Response[dict[str, Any]]:
    tenant_id, _ = tenant()
    item = json_body(app.current_event, valid_new_item)
    # A whole float (3.0) is a JSON Schema integer: stored as the integer (DynamoDB's serializer refuses floats).
    record = {"tenantId": tenant_id, "itemId": str(uuid.uuid4()), "name": item["name"],
              "description": item["description"], "quantity": int(item["quantity"]),
              "createdAt": datetime.now(UTC).isoformat(timespec="seconds")}
    table(tenant_id).put_item(Item=record, ConditionExpression="attribute_not_exists(itemId)")
    return Response(status_code=201, content_type=content_types.APPLICATION_JSON, body=public(record))


@app.get("/items/<item_id>")
@tracer.capture_method
def get_item(item_id: str) -> dict[str, Any]:
    tenant_id, _ = tenant()
    found = table(tenant_id).get_item(Key={"tenantId": tenant_id, "itemId": item_id}).get("Item")
    if found is None:
        raise NotFoundError("no such item")
    return public(found)


@app.delete("/items/<item_id>")
@tracer.capture_method
def delete_item(item_id: str) -> Response[None]:
    tenant_id, _ = tenant()
    old = table(tenant_id).delete_item(Key={"tenantId": tenant_id, "itemId": item_id}, ReturnValues="ALL_OLD")
    if "Attributes" not in old:
        raise NotFoundError("no such item")
    return Response(status_code=204)


#: The longest window GET /usage answers (days, both ends included).
MAX_USAGE_DAYS = 90
_apigateway: Any = None


def apigateway() -> Any:
    global _apigateway
    if _apigateway is None:
        _apigateway = boto3.client("apigateway", config=BOTO_CONFIG)
    return _apigateway


@app.get("/usage")
@tracer.capture_method
def usage() -> dict[str, Any]:
    """The caller's tenant's requests per day on its tier's usage plan, and what its quota leaves.

    The key and plan come from API Gateway (the key it metered this request on) and the authorizer
    context, never from the request, so a tenant sees only its own usage.
    """
    tenant_id, tier = tenant()
    context = app.current_event.request_context.authorizer.get_context()
    plan_id = context.get("usagePlanId")
    key_id = app.current_event.request_context.identity.api_key_id
    if not plan_id or not key_id:
        raise ForbiddenError("no usage plan or API key for this request")
    start_day, end_day = usage_window(app.current_event.query_string_parameters, max_days=MAX_USAGE_DAYS,
                                      refuse=BadRequestError)
    response = apigateway().get_usage(usagePlanId=plan_id, keyId=key_id, startDate=start_day.isoformat(),
                                      endDate=end_day.isoformat())
    # items: keyId -> [[used, remaining], ...], one pair per day from startDate.
    rows = response.get("items", {}).get(key_id, [])
    days = [{"date": (start_day + timedelta(days=i)).isoformat(), "used": used, "remaining": remaining}
            for i, (used, remaining) in enumerate(rows)]
    return {"tenantId": tenant_id, "tier": tier, "startDate": start_day.isoformat(), "endDate": end_day.isoformat(),
            "days": days}


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
