"""Admin API of the multi-tenant API: run-time tenants' lifecycle and every tenant's usage.

Reachable only by administrators: with `auth: cognito` an authorizer admits tokens whose `cognito:groups`
holds the admin group (and says so in the context checked here), with `auth: iam` API Gateway admits
SigV4-signed callers allowed `execute-api:Invoke` (their ARN is checked here). Either way this function
refuses a request without that proof (403).

Each mutation is validated here (4xx with the reason: malformed id, unknown tier, duplicate tenant, a
tenant Pulumi manages, over the API key ceiling, a state that does not allow it), then runs as an
execution of the lifecycle state machine (202 with the execution ARN). The key table row is created here
(`managedBy = runtime`, `status = onboarding`, condition: no row with that id), so two requests cannot
claim one id. API key values never appear in answers or logs.

Bodies are checked against JSON Schemas (validators generated on first use) and query parameters parsed here
(`rest_requests`, shared with the tenant backend), not by the resolver's `enable_validation`, which imports
pydantic on every cold start (README, Benchmarks).
"""


import base64
import binascii
import json
import os
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import ServiceError
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

TENANT_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}[a-z0-9]$")
MANAGED_BY_RUNTIME = "runtime"
#: API Gateway's hard limit ("API keys per account per Region | 10000 | No",
#: https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-execution-service-limits-table.html).
MAX_API_KEYS = 10_000
QUOTAS_PAGE = "https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-execution-service-limits-table.html"
#: Row attributes an admin may see (never apiKey, keyHash or the pending key's value).
PUBLIC_ATTRIBUTES = ("tenantId", "tier", "status", "managedBy", "usagePlanId", "apiKeyId", "previousApiKeyId",
                     "pendingApiKeyId", "steps", "lastError", "failedOperation", "firstUser", "requestedFirstUser",
                     "createdAt", "purge", "machineScopes", "machineClientIds",
                     "operation", "operationExecution", "operationStartedAt")
#: A lock whose execution never started (the admin function stopped between locking and starting) is stale after
#: this long (the function's timeout is 29 s).
UNSTARTED_LOCK_SECONDS = 60
MAX_USAGE_DAYS = 90
MAX_PAGE = 50
DEFAULT_PAGE = 25
BOTO_CONFIG = Config(retries={"mode": "standard"})


class Problem(ServiceError):
    """A refused request: its status and the reason the caller reads."""


@dataclass(frozen=True)
class Settings:
    keys_table: str
    machine_arn: str
    tier_plans: Mapping[str, str]
    runtime_prefix: str
    key_ceiling: int
    auth: str
    overlap_seconds: int
    #: Scope names a run-time machine client may hold (empty: no access tokens, no machine clients).
    machine_scopes: frozenset[str] = frozenset()
    user_pool_id: str = ""

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> "Settings":
        return cls(keys_table=env["TENANT_KEYS_TABLE"], machine_arn=env["LIFECYCLE_MACHINE_ARN"],
                   tier_plans=json.loads(env["TIER_PLANS"]),
                   runtime_prefix=env["RUNTIME_ID_PREFIX"], key_ceiling=int(env["API_KEY_CEILING"]),
                   auth=env["ADMIN_AUTH"], overlap_seconds=int(env["ROTATION_OVERLAP_SECONDS"]),
                   machine_scopes=frozenset(json.loads(env.get("MACHINE_SCOPES") or "[]")),
                   user_pool_id=env.get("USER_POOL_ID", ""))


class Clients:
    def __init__(self) -> None:
        self.dynamodb = boto3.client("dynamodb", config=BOTO_CONFIG)
        self.apigateway = boto3.client("apigateway", config=BOTO_CONFIG)
        self.sfn = boto3.client("stepfunctions", config=BOTO_CONFIG)
        self.cognito = boto3.client("cognito-idp", config=BOTO_CONFIG)


_settings: Settings | None = None
_clients: Clients | None = None


def settings() -> Settings:
    global _settings
    if _settings is None:
        _settings = Settings.from_env()
    return _settings


def clients() -> Clients:
    global _clients
    if _clients is None:
        _clients = Clients()
    return _clients


#: A tier's name in a request body.
TIER_FIELD = {"type": "string", "minLength": 1, "maxLength": 32}

#: The body of `POST /admin/tenants` (strings are trimmed before it is checked; no other field).
NEW_TENANT_SCHEMA: dict[str, Any] = {
    "$schema": DRAFT,
    "type": "object",
    "properties": {
        "tenantId": {"type": "string", "minLength": 1, "maxLength": 64},
        "tier": TIER_FIELD,
        # The first user's address: invited by Cognito with the tenant attribute set (optional).
        "firstUserEmail": {"type": ["string", "null"], "maxLength": 254,
                           "pattern": r"^[^@\s]{1,64}@[A-Za-z0-9.-]{1,252}\.[A-Za-z]{2,63}$"},
        # Scopes of a client-credentials app client for the tenant's machine callers (optional).
        "machineScopes": {"type": ["array", "null"], "minItems": 1, "maxItems": 10,
                          "items": {"type": "string", "minLength": 1, "maxLength": 256}},
    },
    "required": ["tenantId", "tier"],
    "additionalProperties": False,
}
#: The body of `PUT /admin/tenants/{tenantId}/tier`.
TIER_CHANGE_SCHEMA: dict[str, Any] = {
    "$schema": DRAFT,
    "type": "object",
    "properties": {"tier": TIER_FIELD},
    "required": ["tier"],
    "additionalProperties": False,
}
# Generated on first use: most cold starts serve reads (a tenant, the usage) and check no body.
valid_new_tenant = compiled(NEW_TENANT_SCHEMA, on_first_use=True)
valid_tier_change = compiled(TIER_CHANGE_SCHEMA, on_first_use=True)


def problem(status: int, message: str) -> Problem:
    return Problem(status, message)


def require_admin() -> str:
    """The admin's identity, or 403: the authorizer's admin context (cognito) or a SigV4 caller (iam)."""
    event = app.current_event
    if settings().auth == "iam":
        caller = event.request_context.identity.user_arn
        if not caller:
            raise problem(403, "the admin API needs a SigV4-signed request")
        return str(caller)
    context = event.request_context.authorizer.get_context() or {}
    if context.get("admin") != "true" or not context.get("principalId"):
        raise problem(403, "the admin API is for members of the admin group only")
    return str(context["principalId"])


def valid_tenant_id(tenant_id: str) -> str:
    if not TENANT_ID_RE.fullmatch(tenant_id):
        raise problem(400, f"tenantId {tenant_id!r} is malformed: 3-64 lowercase letters, digits and hyphens, "
                           "starting and ending with a letter or digit")
    return tenant_id


def runtime_row(tenant_id: str) -> dict[str, Any]:
    """The tenant's row if the admin path manages it: 404 if absent, 409 if Pulumi manages it."""
    valid_tenant_id(tenant_id)
    item = clients().dynamodb.get_item(TableName=settings().keys_table, Key={"tenantId": {"S": tenant_id}},
                                       ConsistentRead=True, ProjectionExpression=", ".join(f"#{a}" for a in
                                                                                             PUBLIC_ATTRIBUTES),
                                       ExpressionAttributeNames={f"#{a}": a for a in PUBLIC_ATTRIBUTES}).get("Item")
    if not item:
        raise problem(404, f"no tenant {tenant_id}")
    if item.get("managedBy", {}).get("S") != MANAGED_BY_RUNTIME:
        raise problem(409, f"tenant {tenant_id} is managed by Pulumi (stack config): change it there")
    return item


def plain(value: Mapping[str, Any]) -> Any:
    """A DynamoDB attribute value as JSON."""
    kind, inner = next(iter(value.items()))
    if kind == "M":
        return {k: plain(v) for k, v in inner.items()}
    if kind == "L":
        return [plain(v) for v in inner]
    if kind == "N":
        return int(inner) if re.fullmatch(r"-?\d+", inner) else float(inner)
    if kind == "NULL":
        return None
    return inner


def public(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: plain(v) for k, v in item.items() if k in PUBLIC_ATTRIBUTES}


def require_status(item: Mapping[str, Any], allowed: tuple[str, ...], what: str) -> str:
    status = str(item.get("status", {}).get("S", ""))
    if status not in allowed:
        raise problem(409, f"cannot {what} tenant {item['tenantId']['S']} while it is {status or 'unknown'} "
                           f"(allowed: {', '.join(allowed)})")
    return status


def plan_of(tier: str) -> str:
    plans = settings().tier_plans
    if tier not in plans:
        raise problem(400, f"unknown tier {tier!r}; tiers: {', '.join(sorted(plans))}")
    return plans[tier]


def machine_scopes(requested: list[str] | None) -> list[str]:
    """The requested machine-client scopes, each one the resource server has: 400 otherwise."""
    if not requested:
        return []
    allowed = settings().machine_scopes
    if not allowed:
        raise problem(400, "machineScopes need access tokens (token_use 'access'): this API has no machine clients")
    unknown = sorted(set(requested) - allowed)
    if unknown:
        raise problem(400, f"unknown machineScopes {unknown}; scopes: {', '.join(sorted(allowed))}")
    return sorted(set(requested))


def api_keys_in_account() -> int:
    """API keys the account holds in this Region (all stacks): GetApiKeys, 500 a page."""
    count, position = 0, None
    while True:
        page = clients().apigateway.get_api_keys(limit=500, includeValues=False,
                                                 **({"position": position} if position else {}))
        count += len(page.get("items", []))
        position = page.get("position")
        if not position:
            return count


def check_key_ceiling(needed: int, what: str) -> None:
    """Refuse before API Gateway does: the account's keys plus `needed` must stay within the ceiling."""
    ceiling = settings().key_ceiling
    held = api_keys_in_account()
    if held + needed > ceiling:
        raise problem(409, f"cannot {what}: the account holds {held} API keys in this Region and needs {needed} more, "
                           f"over the ceiling of {ceiling} (API Gateway allows {MAX_API_KEYS} per account and "
                           f"Region, a hard limit: {QUOTAS_PAGE}); shard tenants across accounts or Regions")


@dataclass(frozen=True)
class Execution:
    """The name and ARN an operation's execution will have (the ARN is the lock's holder)."""

    name: str
    arn: str

    @classmethod
    def new(cls, operation: str, tenant_id: str) -> "Execution":
        name = f"{tenant_id[:40]}-{operation}-{uuid.uuid4().hex[:12]}"
        machine = settings().machine_arn
        return cls(name, machine.replace(":stateMachine:", ":execution:", 1) + ":" + name)


def lock_values(operation: str, execution: Execution) -> dict[str, Any]:
    return {":op": {"S": operation}, ":exec": {"S": execution.arn},
            ":at": {"S": datetime.now(UTC).isoformat(timespec="seconds")}}


def finished(holder: str, started_at: str) -> bool:
    """The lock's execution is over (or never started and never will): its lock is stale."""
    try:
        return str(clients().sfn.describe_execution(executionArn=holder)["status"]) != "RUNNING"
    except clients().sfn.exceptions.ExecutionDoesNotExist:
        try:
            age = datetime.now(UTC) - datetime.fromisoformat(started_at)
        except ValueError:
            return True
        return age.total_seconds() > UNSTARTED_LOCK_SECONDS


def lock(tenant_id: str, operation: str, execution: Execution) -> None:
    """Take the tenant's operation lock, or 409 with what holds it; a stale lock is taken over."""
    table, key = settings().keys_table, {"tenantId": {"S": tenant_id}}
    ddb = clients().dynamodb
    try:
        ddb.update_item(TableName=table, Key=key,
                        UpdateExpression="SET #lock = :op, operationExecution = :exec, operationStartedAt = :at",
                        ConditionExpression="managedBy = :runtime AND attribute_not_exists(#lock)",
                        ExpressionAttributeNames={"#lock": "operation"},
                        ExpressionAttributeValues={":runtime": {"S": MANAGED_BY_RUNTIME},
                                                   **lock_values(operation, execution)})
        return
    except ddb.exceptions.ConditionalCheckFailedException:
        pass
    item = runtime_row(tenant_id)
    held = item.get("operation", {}).get("S", "")
    holder = item.get("operationExecution", {}).get("S", "")
    if held and finished(holder, item.get("operationStartedAt", {}).get("S", "")):
        try:
            ddb.update_item(TableName=table, Key=key,
                            UpdateExpression="SET #lock = :op, operationExecution = :exec, operationStartedAt = :at",
                            ConditionExpression="managedBy = :runtime AND operationExecution = :holder",
                            ExpressionAttributeNames={"#lock": "operation"},
                            ExpressionAttributeValues={":runtime": {"S": MANAGED_BY_RUNTIME}, ":holder": {"S": holder},
                                                       **lock_values(operation, execution)})
            logger.info("stale lock taken over", extra={"tenant_id": tenant_id, "stale": holder})
            return
        except ddb.exceptions.ConditionalCheckFailedException:
            item = runtime_row(tenant_id)
            held, holder = item.get("operation", {}).get("S", ""), item.get("operationExecution", {}).get("S", "")
    raise problem(409, f"tenant {tenant_id} is busy: operation {held or 'unknown'} is running ({holder}); "
                       "one operation per tenant at a time, try again when it has ended")


def unlock(tenant_id: str, execution: Execution) -> None:
    """Release a lock this request took (its execution did not start)."""
    try:
        clients().dynamodb.update_item(
            TableName=settings().keys_table, Key={"tenantId": {"S": tenant_id}},
            UpdateExpression="REMOVE #lock, operationExecution, operationStartedAt",
            ConditionExpression="operationExecution = :exec", ExpressionAttributeNames={"#lock": "operation"},
            ExpressionAttributeValues={":exec": {"S": execution.arn}})
    except clients().dynamodb.exceptions.ConditionalCheckFailedException:
        pass


def start(operation: str, tenant_id: str, *, locked: Execution | None = None,
          **values: Any) -> Response[dict[str, Any]]:
    """Lock the tenant (unless the row was created locked) and start the operation's execution."""
    execution = locked or Execution.new(operation, tenant_id)
    if locked is None:
        lock(tenant_id, operation, execution)
    try:
        started = clients().sfn.start_execution(
            stateMachineArn=settings().machine_arn, name=execution.name,
            input=json.dumps({"operation": operation, "tenantId": tenant_id, **values}))
    except Exception:
        unlock(tenant_id, execution)
        raise
    logger.info("lifecycle started", extra={"operation": operation, "tenant_id": tenant_id,
                                            "execution": started["executionArn"]})
    return Response(status_code=202, content_type=content_types.APPLICATION_JSON,
                    body={"tenantId": tenant_id, "operation": operation, "executionArn": started["executionArn"]})


@app.post("/admin/tenants")
@tracer.capture_method
def create_tenant() -> Response[dict[str, Any]]:
    admin = require_admin()
    body = json_body(app.current_event, valid_new_tenant)
    s = settings()
    tenant_id = valid_tenant_id(body["tenantId"])
    # Config tenant ids never start with the run-time prefix (checked at construction), so this also keeps every
    # id Pulumi manages out; no list of them is passed (it would outgrow Lambda's 4 KB of environment variables).
    if not tenant_id.startswith(s.runtime_prefix):
        raise problem(400, f"run-time tenant ids start with {s.runtime_prefix!r} (ids without it belong to stack "
                           "config)")
    tier, email = body["tier"], body.get("firstUserEmail")
    plan = plan_of(tier)
    scopes = machine_scopes(body.get("machineScopes"))
    check_key_ceiling(1, f"onboard {tenant_id}")
    item: dict[str, Any] = {"tenantId": {"S": tenant_id}, "tier": {"S": tier}, "status": {"S": "onboarding"},
                            "managedBy": {"S": MANAGED_BY_RUNTIME}, "usagePlanId": {"S": plan}, "steps": {"M": {}},
                            "createdAt": {"S": datetime.now(UTC).isoformat(timespec="seconds")},
                            "createdBy": {"S": admin}}
    if email:
        item["requestedFirstUser"] = {"S": email}
    if scopes:
        item["machineScopes"] = {"SS": scopes}
    execution = Execution.new("onboard", tenant_id)  # the row is created holding the lock
    item.update({k: v for k, v in zip(("operation", "operationExecution", "operationStartedAt"),
                                      lock_values("onboard", execution).values(), strict=True)})
    try:
        clients().dynamodb.put_item(TableName=s.keys_table, Item=item,
                                    ConditionExpression="attribute_not_exists(tenantId)")
    except clients().dynamodb.exceptions.ConditionalCheckFailedException:
        raise problem(409, f"tenant {tenant_id} already exists") from None
    return start("onboard", tenant_id, locked=execution, usagePlanId=plan, email=email,
                 machineClient=bool(scopes))


@app.get("/admin/tenants/<tenant_id>")
@tracer.capture_method
def get_tenant(tenant_id: str) -> dict[str, Any]:
    require_admin()
    return public(runtime_row(tenant_id))


@app.post("/admin/tenants/<tenant_id>/onboarding/resume")
@tracer.capture_method
def resume_onboarding(tenant_id: str) -> Response[dict[str, Any]]:
    require_admin()
    item = runtime_row(tenant_id)
    require_status(item, ("onboarding",), "resume the onboarding of")
    email = item.get("requestedFirstUser", {}).get("S")
    return start("onboard", tenant_id, usagePlanId=plan_of(item["tier"]["S"]), email=email,
                 machineClient="machineScopes" in item)


@app.get("/admin/tenants/<tenant_id>/machine-client")
@tracer.capture_method(capture_response=False)  # the answer carries the secret: not into X-Ray
def machine_client(tenant_id: str) -> Response[dict[str, Any]]:
    """The tenant's machine client id and secret, read from Cognito (the only place the secret is kept)."""
    require_admin()
    item = runtime_row(tenant_id)
    require_status(item, ("active", "suspended"), "read the machine client of")
    ids = sorted(plain(item["machineClientIds"])) if "machineClientIds" in item else []
    if not ids:
        raise problem(404, f"tenant {tenant_id} has no machine client (onboard it with machineScopes)")
    client = clients().cognito.describe_user_pool_client(UserPoolId=settings().user_pool_id,
                                                         ClientId=ids[0])["UserPoolClient"]
    logger.info("machine client read", extra={"tenant_id": tenant_id, "machine_client_id": ids[0]})
    return Response(status_code=200, content_type=content_types.APPLICATION_JSON,
                    headers={"Cache-Control": "no-store"},
                    body={"tenantId": tenant_id, "clientId": client["ClientId"],
                          "clientSecret": client["ClientSecret"], "scopes": client.get("AllowedOAuthScopes", []),
                          "grantType": "client_credentials"})


@app.post("/admin/tenants/<tenant_id>/onboarding/rollback")
@tracer.capture_method
def roll_back_onboarding(tenant_id: str) -> Response[dict[str, Any]]:
    require_admin()
    require_status(runtime_row(tenant_id), ("onboarding", "rolling-back"), "roll back the onboarding of")
    return start("rollback", tenant_id)


@app.put("/admin/tenants/<tenant_id>/tier")
@tracer.capture_method
def change_tier(tenant_id: str) -> Response[dict[str, Any]]:
    require_admin()
    tier = json_body(app.current_event, valid_tier_change)["tier"]
    item = runtime_row(tenant_id)
    require_status(item, ("active", "suspended"), "change the tier of")
    plan = plan_of(tier)
    if tier == item["tier"]["S"]:
        raise problem(409, f"tenant {tenant_id} is already on tier {tier}")
    return start("change_tier", tenant_id, apiKeyId=item["apiKeyId"]["S"], fromPlanId=item["usagePlanId"]["S"],
                 toPlanId=plan, tier=tier)


@app.post("/admin/tenants/<tenant_id>/suspend")
@tracer.capture_method
def suspend(tenant_id: str) -> Response[dict[str, Any]]:
    require_admin()
    item = runtime_row(tenant_id)
    require_status(item, ("active",), "suspend")
    return start("suspend", tenant_id, apiKeyId=item["apiKeyId"]["S"])


@app.post("/admin/tenants/<tenant_id>/resume")
@tracer.capture_method
def resume(tenant_id: str) -> Response[dict[str, Any]]:
    require_admin()
    item = runtime_row(tenant_id)
    require_status(item, ("suspended",), "resume")
    return start("resume", tenant_id, apiKeyId=item["apiKeyId"]["S"])


@app.post("/admin/tenants/<tenant_id>/rotate-key")
@tracer.capture_method
def rotate_key(tenant_id: str) -> Response[dict[str, Any]]:
    require_admin()
    item = runtime_row(tenant_id)
    require_status(item, ("active", "suspended"), "rotate the key of")
    if "pendingApiKeyId" in item or "previousApiKeyId" in item:
        raise problem(409, f"tenant {tenant_id} is in a key rotation already (the old key is removed after the "
                           f"overlap of {settings().overlap_seconds} s)")
    check_key_ceiling(1, f"rotate the key of {tenant_id}")
    return start("rotate", tenant_id, usagePlanId=item["usagePlanId"]["S"],
                 overlapSeconds=settings().overlap_seconds)


@app.delete("/admin/tenants/<tenant_id>")
@tracer.capture_method
def delete_tenant(tenant_id: str) -> Response[dict[str, Any]]:
    require_admin()
    data = app.current_event.get_query_string_value("data")
    if data not in ("keep", "purge"):
        raise problem(400, "say what happens to the tenant's data: ?data=keep (items and a tombstone row stay, "
                           "users are disabled) or ?data=purge (items, first user and row are deleted)")
    item = runtime_row(tenant_id)
    require_status(item, ("active", "suspended", "deleting"), "delete")
    return start("delete", tenant_id, purge=data == "purge")


def decode_next(token: str | None) -> dict[str, Any] | None:
    if token is None:
        return None
    try:
        decoded = json.loads(base64.urlsafe_b64decode(token.encode() + b"=" * (-len(token) % 4)))
        tenant_id = decoded["tenantId"]
        if not isinstance(tenant_id, str) or len(decoded) != 1 or len(token) > 200:
            raise ValueError
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError):
        raise problem(400, "next is not a token this API issued") from None
    return {"tenantId": {"S": tenant_id}}


def encode_next(key: Mapping[str, Any] | None) -> str | None:
    if not key:
        return None
    return base64.urlsafe_b64encode(json.dumps({"tenantId": key["tenantId"]["S"]}).encode()).decode().rstrip("=")


@app.get("/admin/usage")
@tracer.capture_method
def all_usage() -> dict[str, Any]:
    """Every tenant's requests per day on its plan (config and run-time tenants), a page at a time."""
    require_admin()
    event = app.current_event
    limit = query_int(event.query_string_parameters, "limit", default=DEFAULT_PAGE, low=1, high=MAX_PAGE)
    start_day, end_day = usage_window(event.query_string_parameters, max_days=MAX_USAGE_DAYS,
                                      refuse=lambda reason: problem(400, reason))
    exclusive = decode_next(event.get_query_string_value("next"))
    page = clients().dynamodb.scan(
        TableName=settings().keys_table, Limit=limit,
        ProjectionExpression="tenantId, tier, #status, managedBy, usagePlanId, apiKeyId",
        ExpressionAttributeNames={"#status": "status"}, **({"ExclusiveStartKey": exclusive} if exclusive else {}))
    tenants = []
    for item in sorted(page.get("Items", []), key=lambda i: str(i["tenantId"]["S"])):
        row = public(item)
        key_id, plan_id = row.get("apiKeyId"), row.get("usagePlanId")
        days: list[dict[str, Any]] = []
        if key_id and plan_id:
            usage = clients().apigateway.get_usage(usagePlanId=plan_id, keyId=key_id,
                                                   startDate=start_day.isoformat(), endDate=end_day.isoformat())
            days = [{"date": (start_day + timedelta(days=i)).isoformat(), "used": used, "remaining": remaining}
                    for i, (used, remaining) in enumerate(usage.get("items", {}).get(key_id, []))]
        tenants.append({"tenantId": row["tenantId"], "tier": row.get("tier", ""),
                        "status": row.get("status", "active"), "managedBy": row.get("managedBy", "pulumi"),
                        "days": days})
    return {"startDate": start_day.isoformat(), "endDate": end_day.isoformat(), "tenants": tenants,
            "next": encode_next(page.get("LastEvaluatedKey"))}


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
