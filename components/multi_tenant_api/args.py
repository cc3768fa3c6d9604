"""Arguments and limits of MultiTenantApi."""

import json
from collections.abc import Mapping, Sequence
from typing import Required, TypedDict

import pulumi

from serverless_patterns.core.function import FunctionSettings

#: Tenant ids: 3-64 lowercase letters, digits and inner hyphens (lowercase only, so `Acme` and `acme`
#: cannot become two tenants). They appear in logical names, the key table and the Cognito attribute.
TENANT_ID_PATTERN = r"^[a-z0-9][a-z0-9-]{1,62}[a-z0-9]$"
TIER_NAME_PATTERN = r"^[a-z][a-z0-9-]{0,31}$"
STAGE_NAME_PATTERN = r"^[A-Za-z0-9_-]{1,128}$"
#: Cognito domain prefixes: lowercase letters, digits, inner hyphens; no reserved words.
DOMAIN_PREFIX_PATTERN = r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$"
DOMAIN_RESERVED_WORDS = ("aws", "amazon", "cognito")
CALLBACK_URL_PATTERN = r"^(https://[^\s#]+|http://localhost(:\d{1,5})?(/[^\s#]*)?)$"
QUERY_PARAMETER_PATTERN = r"^[A-Za-z0-9_.-]{1,64}$"
QUOTA_PERIODS = ("DAY", "WEEK", "MONTH")
TOKEN_USES = ("id", "access")
#: API keys per account and Region: a hard limit, not adjustable ("API keys per account per Region | 10000 | No",
#: https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-execution-service-limits-table.html).
MAX_API_KEYS = 10_000
#: Usage plans per account and Region by default (adjustable through Service Quotas).
DEFAULT_USAGE_PLAN_LIMIT = 300

TENANT_ATTRIBUTE = "tenant_id"
TENANT_CLAIM = f"custom:{TENANT_ATTRIBUTE}"
KEY_HASH_INDEX = "by-key-hash"
AUTHORIZER_CODE = "multi_tenant_api/authorizer"
PRE_TOKEN_CODE = "multi_tenant_api/pre_token"
BACKEND_CODE = "multi_tenant_api/backend"
ADMIN_CODE = "multi_tenant_api/admin"
TENANT_STEPS_CODE = "multi_tenant_api/tenant_steps"

#: Who manages a key-table row: `pulumi` (stack config) or `runtime` (the admin API). Every admin-path write is
#: conditioned on `managedBy = runtime`; Pulumi never sees run-time rows (they are not in its state).
MANAGED_BY_PULUMI = "pulumi"
MANAGED_BY_RUNTIME = "runtime"
ADMIN_AUTH_MODES = ("cognito", "iam")
DEFAULT_ADMIN_GROUP = "tenant-admins"
#: Cognito group names: 1-128 characters of \p{L}\p{M}\p{S}\p{N}\p{P} (ASCII subset here).
ADMIN_GROUP_PATTERN = r"^[A-Za-z0-9_.@+=,-]{1,128}$"
#: Run-time tenant ids start with this prefix; config tenant ids may not, so neither path can claim the other's id.
DEFAULT_RUNTIME_ID_PREFIX = "rt-"
RUNTIME_ID_PREFIX_PATTERN = r"^[a-z0-9][a-z0-9-]{0,15}$"
#: Rotation overlap: at least the caches that may still hand out the old key, at most 30 days.
MAX_ROTATION_OVERLAP_SECONDS = 30 * 86400
DEFAULT_ROTATION_OVERLAP_SECONDS = 86400
#: The admin API's routes (method, path): run-time tenant lifecycle and every tenant's usage.
ADMIN_ROUTES: tuple[tuple[str, str], ...] = (
    ("POST", "/admin/tenants"),
    ("GET", "/admin/tenants/{tenantId}"),
    ("GET", "/admin/tenants/{tenantId}/machine-client"),
    ("DELETE", "/admin/tenants/{tenantId}"),
    ("PUT", "/admin/tenants/{tenantId}/tier"),
    ("POST", "/admin/tenants/{tenantId}/suspend"),
    ("POST", "/admin/tenants/{tenantId}/resume"),
    ("POST", "/admin/tenants/{tenantId}/rotate-key"),
    ("POST", "/admin/tenants/{tenantId}/onboarding/resume"),
    ("POST", "/admin/tenants/{tenantId}/onboarding/rollback"),
    ("GET", "/admin/usage"),
)
THROTTLE_METRIC_NAMESPACE = "ServerlessPatterns/MultiTenantApi"
THROTTLE_METRIC_NAME = "ThrottledRequests"

#: The example backend's routes (method, path); every one requires the authorizer and an API key.
ROUTES: tuple[tuple[str, str], ...] = (
    ("GET", "/"),
    ("GET", "/items"),
    ("POST", "/items"),
    ("GET", "/items/{itemId}"),
    ("DELETE", "/items/{itemId}"),
    ("GET", "/usage"),
)

#: Session tag of the tenant when the backend assumes the tenant-data role (`aws:PrincipalTag/tenant`).
TENANT_TAG = "tenant"
#: The partition-key condition of the tenant-data role: IAM substitutes the session's tenant tag.
LEADING_KEY_VARIABLE = "${aws:PrincipalTag/" + TENANT_TAG + "}"
#: Item operations of the tenant-data role: each names its partition key (so dynamodb:LeadingKeys is in
#: the request). No Scan: with ForAllValues, a request without the key would pass the condition.
TENANT_DATA_ACTIONS = ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:DeleteItem")

#: The resource server of the API's OAuth scopes (access tokens carry `<identifier>/<scope>`).
RESOURCE_SERVER_IDENTIFIER = "multi-tenant-api"
#: Scope name -> description; names match Cognito's ResourceServerScopeNameType (no `/`).
SCOPES: dict[str, str] = {"items.read": "Read the tenant's items",
                          "items.write": "Create and delete the tenant's items",
                          "usage.read": "Read the tenant's own usage against its quota"}
#: The scope an access token needs per route (ID tokens carry no scopes and reach every route).
ROUTE_SCOPES: dict[str, str] = {"GET /": "items.read", "GET /items": "items.read", "POST /items": "items.write",
                                "GET /items/{itemId}": "items.read", "DELETE /items/{itemId}": "items.write",
                                "GET /usage": "usage.read"}
#: Pre-token-generation event version: V3_0 is V2_0's event (ID and access token customization for user
#: sign-in) that Cognito also sends for client-credentials grants, so machine tokens get the tenant claim too.
#: Both need the Essentials or Plus feature plan.
#: https://docs.aws.amazon.com/cognito/latest/developerguide/user-pool-lambda-pre-token-generation.html
PRE_TOKEN_LAMBDA_VERSION = "V3_0"
#: The pool's feature plan when access tokens are used (the cheapest one with access token customization).
ACCESS_TOKEN_POOL_TIER = "ESSENTIALS"

#: Stage access log format: JSON with the tenant (authorizer context) and the API key id per request.
ACCESS_LOG_FORMAT = json.dumps({
    "requestId": "$context.requestId",
    "extendedRequestId": "$context.extendedRequestId",
    "requestTime": "$context.requestTime",
    "sourceIp": "$context.identity.sourceIp",
    "httpMethod": "$context.httpMethod",
    "resourcePath": "$context.resourcePath",
    "status": "$context.status",
    "responseLength": "$context.responseLength",
    "apiId": "$context.apiId",
    "stage": "$context.stage",
    "tenantId": "$context.authorizer.tenantId",
    "tier": "$context.authorizer.tier",
    "principalId": "$context.authorizer.principalId",
    "apiKeyId": "$context.identity.apiKeyId",
    "errorType": "$context.error.responseType",
    "errorMessage": "$context.error.message",
    "authorizerStatus": "$context.authorizer.status",
    "authorizerLatency": "$context.authorizer.latency",
    "integrationLatency": "$context.integration.latency",
    "xrayTraceId": "$context.xrayTraceId",
}, separators=(",", ":"))

#: The authorizers' Lambda timeout; their I/O budget (JWKS fetch, key table worst case, answer) fits in it.
AUTHORIZER_TIMEOUT_SECONDS = 10

#: Metric filter that counts throttled requests (429: usage-plan throttle, quota, stage or account limit).
THROTTLED_FILTER_PATTERN = '{ $.status = "429" }'
#: The same 429s per tenant: lines with a tenant (API Gateway writes "-" for a missing context value, e.g.
#: a stage throttle before the authorizer ran), counted into a metric with the TenantId dimension.
THROTTLED_BY_TENANT_FILTER_PATTERN = '{ ($.status = "429") && ($.tenantId != "-") }'
THROTTLE_BY_TENANT_METRIC_NAME = "ThrottledRequestsByTenant"


class ThrottleArgs(TypedDict, total=False):
    """A token bucket: steady requests per second and burst size."""

    rate_limit: float
    """Steady-state requests per second (> 0)."""
    burst_limit: int
    """Bucket size: requests allowed at once (>= 1)."""


class QuotaArgs(TypedDict, total=False):
    """Requests allowed per period."""

    limit: int
    """Requests per period (>= 1)."""
    period: str
    """DAY, WEEK or MONTH."""


class TierArgs(TypedDict, total=False):
    """A product tier: becomes one usage plan shared by the keys of its tenants."""

    rate_limit: float
    """Requests per second per tenant key (> 0)."""
    burst_limit: int
    """Burst per tenant key (>= 1)."""
    quota: QuotaArgs
    """Optional quota per tenant key."""
    method_throttles: Mapping[str, ThrottleArgs]
    """Optional per-route throttles, keyed by route, e.g. `"POST /items"`."""
    description: str
    """Shown on the usage plan."""


class TenantArgs(TypedDict, total=False):
    """One tenant: gets its own API key on its tier's plan."""

    id: str
    """Tenant id (3-64 lowercase letters, digits, inner hyphens); the value of `custom:tenant_id`."""
    tier: str
    """Name of a tier in `tiers`."""
    machine_scopes: Sequence[str]
    """Scopes (`items.read`, `items.write`, `usage.read`) of a client-credentials app client for this tenant's machine
    callers; no client without them. Needs `token_use: access`."""


class AlarmArgs(TypedDict, total=False):
    """Thresholds of the stage alarms (counts per period)."""

    period_seconds: int
    """Evaluation period (60-86400, multiple of 60; default 300)."""
    evaluation_periods: int
    """Periods that must breach (default 1)."""
    client_error_threshold: int
    """4XX responses per period (default 100)."""
    server_error_threshold: int
    """5XX responses per period (default 1)."""
    throttled_threshold: int
    """429 responses per period (default 10)."""
    actions: Sequence[pulumi.Input[str]]
    """ARNs (e.g. SNS topics) notified on alarm and OK."""


class TenantAdminArgs(TypedDict, total=False):
    """The admin API and workflows that onboard and manage tenants at run time (outside Pulumi state)."""

    auth: str
    """`cognito` (default: callers' tokens must carry the admin group) or `iam` (SigV4, execute-api:Invoke)."""
    admin_group: str
    """Cognito group whose members may call the admin API (default `tenant-admins`)."""
    runtime_id_prefix: str
    """Prefix every run-time tenant id must have and no config tenant id may have (default `rt-`)."""
    api_key_ceiling: int
    """API keys the account and Region may hold before onboarding refuses (1-10,000, default 10,000; lower it
    when other stacks share the account)."""
    rotation_overlap_seconds: int
    """How long a rotated-out key stays valid (default 86,400; at least authorizer_ttl_seconds +
    key_cache_seconds, at most 30 days)."""


class MultiTenantApiArgs(TypedDict, total=False):
    """Arguments of `MultiTenantApi`."""

    tiers: Required[Mapping[str, TierArgs]]
    """Tier name -> limits; one usage plan each. Required, at least one."""
    tenants: Sequence[TenantArgs]
    """Tenants and their tiers; one API key each (at most 10,000 per account and Region)."""
    domain_prefix: Required[str]
    """Cognito hosted-UI domain prefix, unique in the Region (e.g. `acme-api-dev`). Required."""
    callback_urls: Required[Sequence[str]]
    """OAuth redirect URLs of the app client (https, or http://localhost). Required, at least one."""
    logout_urls: Sequence[str]
    """Sign-out redirect URLs (default: none)."""
    stage_name: str
    """Stage name (default `v1`)."""
    stage_throttle: ThrottleArgs
    """Throttle of every method of the stage for all tenants together (default 100 rps, burst 200): an
    aggregate ceiling; tier and method limits above it are refused (they could never be reached)."""
    authorizer_ttl_seconds: int
    """How long API Gateway caches an authorizer result per token (0-3600, default 300)."""
    token_use: str
    """Token the API accepts: `id` (default) or `access`. With `access` the pool gets the Essentials
    feature plan and a pre-token-generation trigger (V3_0 event) that puts the tenant claim into access
    tokens (user sign-in and machine clients), and routes require scopes."""
    tenant_attribute_mutable: bool
    """Whether administrators may change a user's tenant after creation (default false: set once at
    AdminCreateUser). Changing this later replaces the user pool."""
    allow_self_sign_up: bool
    """Let users sign themselves up (default false). They get no tenant, so the API denies them."""
    token_validity_minutes: int
    """ID and access token lifetime (5-1440, default 60)."""
    refresh_token_validity_days: int
    """Refresh token lifetime (1-3650, default 30)."""
    query_string_keys: bool
    """Also deploy a legacy API that takes the key from `?api_key=` (default false)."""
    query_string_parameter: str
    """Name of the legacy query-string parameter (default `api_key`)."""
    key_cache_seconds: int
    """How long an authorizer instance caches a tenant's key (0-3600, default 300)."""
    usage_plan_limit: int
    """Usage plans allowed in the account and Region (default 300; raise after a quota increase)."""
    alarms: AlarmArgs
    """Alarm thresholds and actions."""
    tenant_admin: TenantAdminArgs
    """Run-time tenant lifecycle (admin API, workflows); none without it."""
    tags: Mapping[str, str]
    """Tags for every taggable child."""
    function_settings: FunctionSettings
    """Lambda settings (architecture, runtime, log retention, log level)."""


