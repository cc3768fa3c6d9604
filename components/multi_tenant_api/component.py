"""The MultiTenantApi component: tiered usage plans and per-tenant API keys (see the package docstring)."""

import hashlib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import pulumi
import pulumi_aws as aws

from serverless_patterns.core import iam
from serverless_patterns.core.base import PatternComponent
from serverless_patterns.core.function import PythonFunction, validate_settings
from serverless_patterns.multi_tenant_api.args import (
    ACCESS_LOG_FORMAT,
    ACCESS_TOKEN_POOL_TIER,
    ADMIN_AUTH_MODES,
    ADMIN_CODE,
    ADMIN_GROUP_PATTERN,
    ADMIN_ROUTES,
    AUTHORIZER_CODE,
    AUTHORIZER_TIMEOUT_SECONDS,
    BACKEND_CODE,
    CALLBACK_URL_PATTERN,
    DEFAULT_ADMIN_GROUP,
    DEFAULT_ROTATION_OVERLAP_SECONDS,
    DEFAULT_RUNTIME_ID_PREFIX,
    DEFAULT_USAGE_PLAN_LIMIT,
    DOMAIN_PREFIX_PATTERN,
    DOMAIN_RESERVED_WORDS,
    KEY_HASH_INDEX,
    LEADING_KEY_VARIABLE,
    MANAGED_BY_PULUMI,
    MANAGED_BY_RUNTIME,
    MAX_API_KEYS,
    MAX_ROTATION_OVERLAP_SECONDS,
    PRE_TOKEN_CODE,
    PRE_TOKEN_LAMBDA_VERSION,
    QUERY_PARAMETER_PATTERN,
    QUOTA_PERIODS,
    RESOURCE_SERVER_IDENTIFIER,
    ROUTE_SCOPES,
    ROUTES,
    RUNTIME_ID_PREFIX_PATTERN,
    SCOPES,
    STAGE_NAME_PATTERN,
    TENANT_ATTRIBUTE,
    TENANT_CLAIM,
    TENANT_DATA_ACTIONS,
    TENANT_ID_PATTERN,
    TENANT_STEPS_CODE,
    TENANT_TAG,
    THROTTLE_BY_TENANT_METRIC_NAME,
    THROTTLE_METRIC_NAME,
    THROTTLE_METRIC_NAMESPACE,
    THROTTLED_BY_TENANT_FILTER_PATTERN,
    THROTTLED_FILTER_PATTERN,
    TIER_NAME_PATTERN,
    TOKEN_USES,
    AlarmArgs,
    MultiTenantApiArgs,
    QuotaArgs,
    TenantAdminArgs,
    TenantArgs,
    ThrottleArgs,
    TierArgs,
)
from serverless_patterns.multi_tenant_api.lifecycle import (
    KEY_TAG_COMPONENT,
    KEY_TAG_MANAGED_BY,
    LifecycleSettings,
    lifecycle_definition,
)

#: Step Functions' log delivery and X-Ray calls (AWS cannot scope them to a resource).
SFN_LOG_DELIVERY_ACTIONS = ["logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery",
                            "logs:DeleteLogDelivery", "logs:ListLogDeliveries", "logs:PutResourcePolicy",
                            "logs:DescribeResourcePolicies", "logs:DescribeLogGroups"]
XRAY_ACTIONS = ["xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules",
                "xray:GetSamplingTargets"]


@dataclass(frozen=True)
class TenantAdmin:
    """Validated `tenant_admin` settings."""

    auth: str
    admin_group: str
    runtime_id_prefix: str
    api_key_ceiling: int
    rotation_overlap_seconds: int


@dataclass(frozen=True)
class Tier:
    name: str
    rate_limit: float
    burst_limit: int
    quota: dict[str, Any] | None
    method_throttles: dict[str, tuple[float, int]]
    description: str


@dataclass(frozen=True)
class ApiSurface:
    """One deployed REST API of the component (the JWT API, or the legacy query-string API)."""

    kind: str
    api: aws.apigateway.RestApi
    stage: aws.apigateway.Stage
    authorizer_function: PythonFunction
    access_logs: aws.cloudwatch.LogGroup


def throttle_path(route: str) -> str:
    """`"POST /items"` -> `"/items/POST"`, the key usage plans use for a method (`//GET` for the root)."""
    method, path = route.split(" ", 1)
    return f"{path}/{method}"


class MultiTenantApi(PatternComponent):
    """Cognito identity, tiered usage plans, per-tenant API keys and a tenant-scoped example backend."""

    api_url: pulumi.Output[str]
    """Invoke URL of the stage (send `Authorization: <ID token>` and `x-api-key`)."""
    rest_api_id: pulumi.Output[str]
    """Id of the REST API."""
    stage_name: str
    """Name of the stage."""
    user_pool_id: pulumi.Output[str]
    """Cognito user pool of the tenants' users."""
    user_pool_arn: pulumi.Output[str]
    """ARN of the user pool."""
    user_pool_client_id: pulumi.Output[str]
    """App client of the hosted UI."""
    hosted_ui_url: pulumi.Output[str]
    """Cognito hosted UI (sign-in) base URL."""
    issuer: pulumi.Output[str]
    """`iss` of the user pool's tokens."""
    jwks_url: pulumi.Output[str]
    """Signing keys of the user pool's tokens."""
    usage_plan_ids: Mapping[str, pulumi.Output[str]]
    """Tier name -> usage plan id."""
    api_key_ids: Mapping[str, pulumi.Output[str]]
    """Tenant id -> API key id (the key values are in the tenant key table, never in outputs)."""
    tenant_keys_table: pulumi.Output[str]
    """DynamoDB table of tenant keys the authorizer reads."""
    items_table: pulumi.Output[str]
    """DynamoDB table of the example backend's tenant-scoped items."""
    access_log_group: pulumi.Output[str]
    """Log group of the stage's access logs."""
    machine_client_ids: Mapping[str, pulumi.Output[str]]
    """Tenant id -> client-credentials app client id (its secret is never an output: read it with
    `aws cognito-idp describe-user-pool-client`)."""
    machine_clients_table: pulumi.Output[str] | None
    """DynamoDB table the pre-token trigger reads (app client id -> tenant), with `token_use: access`."""
    legacy_api_url: pulumi.Output[str] | None
    """Invoke URL of the legacy API that takes the key from the query string (with `query_string_keys`)."""
    admin_api_url: pulumi.Output[str] | None
    """Invoke URL of the admin API (with `tenant_admin`)."""
    lifecycle_state_machine_arn: pulumi.Output[str] | None
    """The run-time tenant lifecycle workflow (with `tenant_admin`)."""

    def __init__(self, name: str, args: MultiTenantApiArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        args = dict(args or {})  # type: ignore[assignment]
        super().__init__(name, args.get("tags"), opts)
        self.user_tags = dict(args.get("tags") or {})
        self._validate(args)
        self.function_settings = validate_settings(type(self).__name__, args.get("function_settings"))
        env = self.env

        self.key_table = self._key_table()
        self.item_table = self._items_table()
        self.access_tokens = self.token_use == "access"
        self.clients_table = self._machine_clients_table() if self.access_tokens else None
        self.pre_token = self._pre_token_function() if self.clients_table is not None else None
        self.user_pool, self.user_pool_client, self.domain = self._identity()
        self.issuer = pulumi.Output.concat("https://", self.user_pool.endpoint)
        self.jwks_url = pulumi.Output.concat(self.issuer, "/.well-known/jwks.json")

        # The backend reaches items only through the tenant-data role, assumed per tenant (see _tenant_data_role).
        self.tenant_role_name = "tenant-data-" + hashlib.sha256(
            f"{pulumi.get_project()}/{pulumi.get_stack()}/{self.component_name}".encode()).hexdigest()[:16]
        tenant_role_arn = self.env.arn("iam", f"role/{self.tenant_role_name}", region=False)
        self.backend = PythonFunction(
            self.child_name("backend"), code=BACKEND_CODE, service="multi-tenant-api",
            description="Tenant-scoped example backend of the multi-tenant API",
            statements=[iam.allow(["sts:AssumeRole", "sts:TagSession"], [tenant_role_arn], sid="AssumeTenantScope")],
            environment={"ITEMS_TABLE": self.item_table.name, "TENANT_ROLE_ARN": tenant_role_arn},
            settings=self.function_settings, tags=self.user_tags, opts=self.child_opts())
        self.tenant_role = self._tenant_data_role()

        self.surfaces = [self._api_surface("token")]
        if self.query_string_keys:
            self.surfaces.append(self._api_surface("query"))
        self.api = self.surfaces[0]

        self.usage_plans = {tier.name: self._usage_plan(tier) for tier in self.tiers.values()}
        self.api_keys: dict[str, aws.apigateway.ApiKey] = {}
        self.machine_clients: dict[str, aws.cognito.UserPoolClient] = {}
        for tenant_id, tier in self.tenants.items():
            if self.machine_scopes.get(tenant_id):
                self.machine_clients[tenant_id] = self._machine_client(tenant_id, self.machine_scopes[tenant_id])
            self.api_keys[tenant_id] = self._tenant(tenant_id, tier, self.machine_clients.get(tenant_id))

        for surface in self.surfaces:
            self._alarms(surface)
        if self.admin is not None:
            self._tenant_admin(self.admin)
        # GET /usage reads the usage of the caller's key on its tier's plan (and nothing else of API Gateway).
        aws.iam.RolePolicy(
            self.child_name("backend-usage-policy"),
            role=self.backend.role.id,
            policy=iam.document(iam.allow(
                ["apigateway:GET"],
                [self.env.arn("apigateway", pulumi.Output.concat("/usageplans/", plan.id, "/usage"), account=False)
                 for plan in self.usage_plans.values()], sid="ReadTierUsage")),
            opts=self.child_opts())

        outputs: dict[str, Any] = {
            "apiUrl": self.api.stage.invoke_url,
            "restApiId": self.api.api.id,
            "stageName": self.stage_name,
            "userPoolId": self.user_pool.id,
            "userPoolArn": self.user_pool.arn,
            "userPoolClientId": self.user_pool_client.id,
            "hostedUiUrl": pulumi.Output.concat("https://", self.domain.domain, ".auth.", env.region,
                                                ".amazoncognito.com"),
            "issuer": self.issuer,
            "jwksUrl": self.jwks_url,
            "usagePlanIds": {tier: plan.id for tier, plan in self.usage_plans.items()},
            "apiKeyIds": {tenant: key.id for tenant, key in self.api_keys.items()},
            "tenantKeysTable": self.key_table.name,
            "itemsTable": self.item_table.name,
            "accessLogGroup": self.api.access_logs.name,
            "machineClientIds": {tenant: client.id for tenant, client in self.machine_clients.items()},
        }
        if self.clients_table is not None:
            outputs["machineClientsTable"] = self.clients_table.name
        if self.query_string_keys:
            outputs["legacyApiUrl"] = self.surfaces[1].stage.invoke_url
        if self.admin is not None:
            outputs["adminApiUrl"] = self.admin_stage.invoke_url
            outputs["lifecycleStateMachineArn"] = self.lifecycle.arn
        self.finish(outputs)

    # -- validation -------------------------------------------------------------------------------------

    def _throttle(self, field: str, raw: Any, *, only_throttle_keys: bool = True) -> tuple[float, int]:
        v = self.validator
        v.mapping(field, raw, known=ThrottleArgs.__annotations__ if only_throttle_keys else None)
        rate = v.number(f"{field}.rate_limit", v.required(raw, "rate_limit", f"{field}."), exclusive_minimum=0)
        burst = v.integer(f"{field}.burst_limit", v.required(raw, "burst_limit", f"{field}."), minimum=1)
        return rate, burst

    def _validate(self, args: Mapping[str, Any]) -> None:
        v = self.validator
        v.mapping("", args, known=MultiTenantApiArgs.__annotations__)

        raw_tiers = v.required(args, "tiers")
        v.mapping("tiers", raw_tiers)
        self.usage_plan_limit = v.integer("usage_plan_limit", args.get("usage_plan_limit", DEFAULT_USAGE_PLAN_LIMIT),
                                          minimum=1)
        if not 1 <= len(raw_tiers) <= self.usage_plan_limit:
            v.fail("tiers", sorted(raw_tiers), f"1 to {self.usage_plan_limit} tiers (one usage plan each; "
                   "API Gateway allows 300 usage plans per account and Region unless raised, see usage_plan_limit)")
        routes = {f"{method} {path}" for method, path in ROUTES}
        self.tiers: dict[str, Tier] = {}
        for tier_name, raw in raw_tiers.items():
            field = f"tiers.{tier_name}"
            v.string("tiers", tier_name, pattern=TIER_NAME_PATTERN,
                     allowed="tier names of 1-32 lowercase letters, digits and hyphens, starting with a letter")
            v.mapping(field, raw, known=TierArgs.__annotations__)
            rate, burst = self._throttle(field, raw, only_throttle_keys=False)
            quota = None
            if raw.get("quota") is not None:
                q = v.mapping(f"{field}.quota", raw["quota"], known=QuotaArgs.__annotations__)
                limit = v.integer(f"{field}.quota.limit", v.required(q, "limit", f"{field}.quota."), minimum=1)
                period = v.choice(f"{field}.quota.period", v.required(q, "period", f"{field}.quota."), QUOTA_PERIODS)
                quota = {"limit": limit, "period": period}
            method_throttles: dict[str, tuple[float, int]] = {}
            for route, throttle in v.mapping(f"{field}.method_throttles", raw.get("method_throttles") or {}).items():
                v.choice(f"{field}.method_throttles", route, sorted(routes))
                method_throttles[route] = self._throttle(f"{field}.method_throttles.{route}", throttle)
            description = v.string(f"{field}.description", raw.get("description", f"Tier {tier_name}"), max_len=200)
            self.tiers[tier_name] = Tier(tier_name, rate, burst, quota, method_throttles, description)

        raw_tenants = v.list_of("tenants", args.get("tenants") or [])
        if len(raw_tenants) > MAX_API_KEYS:
            v.fail("tenants", f"{len(raw_tenants)} tenants",
                   f"at most {MAX_API_KEYS} tenants: each gets an API key, and API Gateway allows {MAX_API_KEYS} "
                   "keys per account and Region (a hard limit; split tenants across accounts or Regions)")
        self.tenants: dict[str, Tier] = {}
        self.machine_scopes: dict[str, list[str]] = {}
        machine_field = ""
        for index, raw in enumerate(raw_tenants):
            field = f"tenants[{index}]"
            v.mapping(field, raw, known=TenantArgs.__annotations__)
            tenant_id = v.string(f"{field}.id", v.required(raw, "id", f"{field}."), pattern=TENANT_ID_PATTERN,
                                 allowed="3-64 lowercase letters, digits and hyphens, starting and ending with a "
                                         "letter or digit")
            if tenant_id in self.tenants:
                v.fail(f"{field}.id", tenant_id, "a tenant id not already used by another tenant")
            tier = v.choice(f"{field}.tier", v.required(raw, "tier", f"{field}."), sorted(self.tiers))
            self.tenants[tenant_id] = self.tiers[tier]
            scopes = v.list_of(f"{field}.machine_scopes", raw.get("machine_scopes") or [], max_items=len(SCOPES),
                               unique=True)
            for scope in scopes:
                v.choice(f"{field}.machine_scopes", scope, sorted(SCOPES))
            if scopes:
                self.machine_scopes[tenant_id] = sorted(scopes)
                machine_field = f"{field}.machine_scopes"

        prefix = v.string("domain_prefix", v.required(args, "domain_prefix"), pattern=DOMAIN_PREFIX_PATTERN,
                          max_len=63, allowed="1-63 lowercase letters, digits and inner hyphens, unique in the "
                                              "Region (e.g. 'acme-api-dev')")
        for word in DOMAIN_RESERVED_WORDS:
            if word in prefix:
                v.fail("domain_prefix", prefix,
                       "a prefix without the reserved words " + ", ".join(DOMAIN_RESERVED_WORDS))
        self.domain_prefix = prefix
        url_help = "https:// URLs (http:// only for localhost) without fragments"
        self.callback_urls = v.list_of("callback_urls", v.required(args, "callback_urls"), min_items=1, max_items=100,
                                       unique=True)
        self.logout_urls = v.list_of("logout_urls", args.get("logout_urls") or [], max_items=100, unique=True)
        for field, urls in (("callback_urls", self.callback_urls), ("logout_urls", self.logout_urls)):
            for url in urls:
                v.string(field, url, pattern=CALLBACK_URL_PATTERN, allowed=url_help)

        self.stage_name = v.string("stage_name", args.get("stage_name", "v1"), pattern=STAGE_NAME_PATTERN,
                                   allowed="1-128 letters, digits, hyphens or underscores")
        self.stage_throttle = self._throttle("stage_throttle", args.get("stage_throttle")
                                             or {"rate_limit": 100, "burst_limit": 200})
        self.authorizer_ttl = v.integer("authorizer_ttl_seconds", args.get("authorizer_ttl_seconds", 300),
                                        minimum=0, maximum=3600)
        self.token_use = v.choice("token_use", args.get("token_use", "id"), TOKEN_USES)
        if self.token_use == "id" and self.machine_scopes:
            # Client-credentials grants issue access tokens only; an API on ID tokens would refuse them all.
            v.fail(machine_field, sorted(self.machine_scopes), "machine clients only with token_use 'access' (a "
                   "client-credentials grant issues access tokens only, and this API accepts ID tokens)")
        self._check_reachable_limits()
        self.tenant_attribute_mutable = v.boolean("tenant_attribute_mutable",
                                                  args.get("tenant_attribute_mutable", False))
        self.allow_self_sign_up = v.boolean("allow_self_sign_up", args.get("allow_self_sign_up", False))
        self.token_minutes = v.integer("token_validity_minutes", args.get("token_validity_minutes", 60),
                                       minimum=5, maximum=1440)
        self.refresh_days = v.integer("refresh_token_validity_days", args.get("refresh_token_validity_days", 30),
                                      minimum=1, maximum=3650)
        if self.refresh_days * 1440 <= self.token_minutes:
            v.fail("refresh_token_validity_days", self.refresh_days, "a refresh token lifetime longer than "
                   "token_validity_minutes")
        self.query_string_keys = v.boolean("query_string_keys", args.get("query_string_keys", False))
        self.query_parameter = v.string("query_string_parameter", args.get("query_string_parameter", "api_key"),
                                        pattern=QUERY_PARAMETER_PATTERN)
        self.key_cache_seconds = v.integer("key_cache_seconds", args.get("key_cache_seconds", 300), minimum=0,
                                           maximum=3600)
        alarms = v.mapping("alarms", args.get("alarms") or {}, known=AlarmArgs.__annotations__)
        period = v.integer("alarms.period_seconds", alarms.get("period_seconds", 300), minimum=60, maximum=86400)
        if period % 60:
            v.fail("alarms.period_seconds", period, "a multiple of 60 seconds")
        self.alarms = {
            "period": period,
            "evaluation_periods": v.integer("alarms.evaluation_periods", alarms.get("evaluation_periods", 1),
                                            minimum=1, maximum=100),
            "client_error_threshold": v.integer("alarms.client_error_threshold",
                                                alarms.get("client_error_threshold", 100), minimum=1),
            "server_error_threshold": v.integer("alarms.server_error_threshold",
                                                alarms.get("server_error_threshold", 1), minimum=1),
            "throttled_threshold": v.integer("alarms.throttled_threshold", alarms.get("throttled_threshold", 10),
                                             minimum=1),
            "actions": v.list_of("alarms.actions", alarms.get("actions") or [], max_items=5, unique=True),
        }
        for arn in self.alarms["actions"]:
            v.string("alarms.actions", arn, pattern=r"^arn:[\w-]+:[\w-]+:[\w-]*:\d{12}:\S+$",
                     allowed="ARNs of alarm actions (e.g. SNS topics)")
        self.admin = self._validate_admin(args.get("tenant_admin"))

    def _validate_admin(self, raw: Any) -> TenantAdmin | None:
        """`tenant_admin`: auth mode, group, the run-time id namespace, the key ceiling, the rotation overlap."""
        if raw is None:
            return None
        v = self.validator
        a = v.mapping("tenant_admin", raw, known=TenantAdminArgs.__annotations__)
        auth = v.choice("tenant_admin.auth", a.get("auth", "cognito"), ADMIN_AUTH_MODES)
        group = v.string("tenant_admin.admin_group", a.get("admin_group", DEFAULT_ADMIN_GROUP),
                         pattern=ADMIN_GROUP_PATTERN, allowed="a Cognito group name (1-128 characters)")
        prefix = v.string("tenant_admin.runtime_id_prefix", a.get("runtime_id_prefix", DEFAULT_RUNTIME_ID_PREFIX),
                          pattern=RUNTIME_ID_PREFIX_PATTERN,
                          allowed="1-16 lowercase letters, digits and hyphens, starting with a letter or digit")
        for index, tenant_id in enumerate(self.tenants):
            if tenant_id.startswith(prefix):
                v.fail(f"tenants[{index}].id", tenant_id, f"a config tenant id without the run-time prefix "
                       f"{prefix!r} (ids with it belong to tenants onboarded through the admin API)")
        ceiling = v.integer("tenant_admin.api_key_ceiling", a.get("api_key_ceiling", MAX_API_KEYS), minimum=1,
                            maximum=MAX_API_KEYS)
        if len(self.tenants) >= ceiling:
            v.fail("tenant_admin.api_key_ceiling", ceiling, f"more than the {len(self.tenants)} config tenants' keys, "
                   "or no run-time tenant could ever be onboarded")
        minimum = max(self.authorizer_ttl + self.key_cache_seconds, 60)
        overlap = v.integer("tenant_admin.rotation_overlap_seconds",
                            a.get("rotation_overlap_seconds", max(DEFAULT_ROTATION_OVERLAP_SECONDS, minimum)),
                            minimum=minimum, maximum=MAX_ROTATION_OVERLAP_SECONDS)
        return TenantAdmin(auth, group, prefix, ceiling, overlap)

    def _check_reachable_limits(self) -> None:
        """Refuse tier and method limits above the stage throttle: they could never be reached.

        The stage throttle applies per method to all clients together, and API Gateway applies it on
        top of each key's usage-plan limits, so a tenant never gets more than the stage allows
        (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-request-throttling.html).
        A limit above it would promise a tier what the stage takes away: raise `stage_throttle` instead.
        """
        stage_rate, stage_burst = self.stage_throttle
        ceiling = f"at most the stage throttle (rate_limit {stage_rate:g}, burst_limit {stage_burst}), an " \
                  "aggregate ceiling per method for all tenants together; raise stage_throttle to allow more"
        for tier in self.tiers.values():
            limits = [(f"tiers.{tier.name}", tier.rate_limit, tier.burst_limit)]
            limits += [(f"tiers.{tier.name}.method_throttles.{route}", rate, burst)
                       for route, (rate, burst) in tier.method_throttles.items()]
            for field, rate, burst in limits:
                if rate > stage_rate:
                    self.validator.fail(f"{field}.rate_limit", rate, ceiling)
                if burst > stage_burst:
                    self.validator.fail(f"{field}.burst_limit", burst, ceiling)

    # -- identity -----------------------------------------------------------------------------------------

    def _identity(self) -> tuple[aws.cognito.UserPool, aws.cognito.UserPoolClient, aws.cognito.UserPoolDomain]:
        pool = aws.cognito.UserPool(
            self.child_name("users"),
            username_attributes=["email"],
            auto_verified_attributes=["email"],
            username_configuration=aws.cognito.UserPoolUsernameConfigurationArgs(case_sensitive=False),
            # Users exist only when an administrator creates them (and sets their tenant), unless asked otherwise.
            admin_create_user_config=aws.cognito.UserPoolAdminCreateUserConfigArgs(
                allow_admin_create_user_only=not self.allow_self_sign_up),
            schemas=[aws.cognito.UserPoolSchemaArgs(
                name=TENANT_ATTRIBUTE,
                attribute_data_type="String",
                mutable=self.tenant_attribute_mutable,
                developer_only_attribute=False,
                required=False,
                string_attribute_constraints=aws.cognito.UserPoolSchemaStringAttributeConstraintsArgs(
                    min_length="3", max_length="64"),
            )],
            password_policy=aws.cognito.UserPoolPasswordPolicyArgs(
                minimum_length=12, require_lowercase=True, require_uppercase=True, require_numbers=True,
                require_symbols=True, temporary_password_validity_days=3, password_history_size=5),
            mfa_configuration="OPTIONAL",
            software_token_mfa_configuration=aws.cognito.UserPoolSoftwareTokenMfaConfigurationArgs(enabled=True),
            account_recovery_setting=aws.cognito.UserPoolAccountRecoverySettingArgs(recovery_mechanisms=[
                aws.cognito.UserPoolAccountRecoverySettingRecoveryMechanismArgs(name="verified_email", priority=1)]),
            # Typed args: a misspelled setting fails here, not silently at the provider.
            user_attribute_update_settings=aws.cognito.UserPoolUserAttributeUpdateSettingsArgs(
                attributes_require_verification_before_updates=["email"]),
            deletion_protection="ACTIVE",
            # Access token customization (the tenant claim) needs Essentials or Plus.
            user_pool_tier=ACCESS_TOKEN_POOL_TIER if self.pre_token is not None else None,
            lambda_config=aws.cognito.UserPoolLambdaConfigArgs(
                pre_token_generation_config=aws.cognito.UserPoolLambdaConfigPreTokenGenerationConfigArgs(
                    lambda_arn=self.pre_token.arn, lambda_version=PRE_TOKEN_LAMBDA_VERSION))
            if self.pre_token is not None else None,
            tags=self.tags,
            opts=self.child_opts())
        api_scopes: list[pulumi.Input[str]] = []
        if self.pre_token is not None:
            self.pre_token.allow_invoke("cognito", "cognito-idp.amazonaws.com", pool.arn)
            self.resource_server = aws.cognito.ResourceServer(
                self.child_name("resource-server"),
                user_pool_id=pool.id,
                identifier=RESOURCE_SERVER_IDENTIFIER,
                name=f"{self.component_name} API",
                scopes=[aws.cognito.ResourceServerScopeArgs(scope_name=name, scope_description=description)
                        for name, description in SCOPES.items()],
                opts=self.child_opts())
            api_scopes = [self.full_scope(name) for name in SCOPES]
        client = aws.cognito.UserPoolClient(
            self.child_name("app-client"),
            user_pool_id=pool.id,
            generate_secret=False,  # a public client (SPA/CLI) using the code flow with PKCE
            allowed_oauth_flows_user_pool_client=True,
            allowed_oauth_flows=["code"],
            allowed_oauth_scopes=["openid", "email", "profile", *api_scopes],
            supported_identity_providers=["COGNITO"],
            callback_urls=list(self.callback_urls),
            logout_urls=list(self.logout_urls) or None,
            explicit_auth_flows=["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
            prevent_user_existence_errors="ENABLED",
            enable_token_revocation=True,
            # Explicit lists: with none, Cognito lets the client read and WRITE every attribute.
            read_attributes=["email", "email_verified", TENANT_CLAIM],
            write_attributes=["email"],
            id_token_validity=self.token_minutes,
            access_token_validity=self.token_minutes,
            refresh_token_validity=self.refresh_days,
            token_validity_units=aws.cognito.UserPoolClientTokenValidityUnitsArgs(
                id_token="minutes", access_token="minutes", refresh_token="days"),
            auth_session_validity=3,
            opts=self.child_opts(depends_on=[self.resource_server] if api_scopes else None))
        domain = aws.cognito.UserPoolDomain(
            self.child_name("domain"),
            domain=self.domain_prefix,
            user_pool_id=pool.id,
            opts=self.child_opts())
        return pool, client, domain

    # -- data -----------------------------------------------------------------------------------------------

    def _key_table(self) -> aws.dynamodb.Table:
        """tenantId -> API key value and tier (read by the authorizer); GSI on the key's hash for ?api_key=."""
        return aws.dynamodb.Table(
            self.child_name("tenant-keys"),
            billing_mode="PAY_PER_REQUEST",
            hash_key="tenantId",
            attributes=[aws.dynamodb.TableAttributeArgs(name="tenantId", type="S"),
                        aws.dynamodb.TableAttributeArgs(name="keyHash", type="S")],
            # `hash_key` is deprecated for `key_schemas`, but switching an existing index recreates it (the key
            # lookup would be down while it rebuilds: https://github.com/cds-snc/forms-terraform/pull/1365); the
            # gate lists it as deprecated without failing the plan.
            global_secondary_indexes=[aws.dynamodb.TableGlobalSecondaryIndexArgs(
                name=KEY_HASH_INDEX, hash_key="keyHash", projection_type="ALL")],
            server_side_encryption=aws.dynamodb.TableServerSideEncryptionArgs(enabled=True),
            point_in_time_recovery=aws.dynamodb.TablePointInTimeRecoveryArgs(enabled=True),
            deletion_protection_enabled=True,
            tags=self.tags,
            opts=self.child_opts())

    def _machine_clients_table(self) -> aws.dynamodb.Table:
        """App client id -> tenant: what the pre-token trigger reads for client-credentials grants."""
        return aws.dynamodb.Table(
            self.child_name("machine-clients"),
            billing_mode="PAY_PER_REQUEST",
            hash_key="clientId",
            attributes=[aws.dynamodb.TableAttributeArgs(name="clientId", type="S")],
            server_side_encryption=aws.dynamodb.TableServerSideEncryptionArgs(enabled=True),
            point_in_time_recovery=aws.dynamodb.TablePointInTimeRecoveryArgs(enabled=True),
            deletion_protection_enabled=True,
            tags=self.tags,
            opts=self.child_opts())

    def _pre_token_function(self) -> PythonFunction:
        """The pre-token-generation trigger that puts the tenant claim into access tokens."""
        assert self.clients_table is not None
        return PythonFunction(
            self.child_name("pre-token"), code=PRE_TOKEN_CODE, service="multi-tenant-api-pre-token",
            description="Cognito pre-token-generation (V3_0): tenant claim in access tokens",
            statements=[iam.allow(["dynamodb:GetItem"], [self.clients_table.arn], sid="ReadMachineClients")],
            environment={"MACHINE_CLIENTS_TABLE": self.clients_table.name},
            # Cognito waits 5 s for a trigger; the function answers well within that or fails the sign-in.
            timeout_seconds=5, settings=self.function_settings, tags=self.user_tags, opts=self.child_opts())

    @staticmethod
    def full_scope(name: str) -> str:
        """A scope as access tokens carry it: `<resource server>/<scope>`."""
        return f"{RESOURCE_SERVER_IDENTIFIER}/{name}"

    def _machine_client(self, tenant_id: str, scopes: list[str]) -> aws.cognito.UserPoolClient:
        """A confidential client-credentials app client of one tenant, registered for the pre-token trigger."""
        assert self.clients_table is not None
        client = aws.cognito.UserPoolClient(
            self.child_name(f"tenant-{tenant_id}-machine"),
            name=f"{self.component_name}-{tenant_id}-machine",
            user_pool_id=self.user_pool.id,
            generate_secret=True,
            allowed_oauth_flows_user_pool_client=True,
            allowed_oauth_flows=["client_credentials"],
            allowed_oauth_scopes=[self.full_scope(s) for s in scopes],
            supported_identity_providers=["COGNITO"],
            explicit_auth_flows=["ALLOW_REFRESH_TOKEN_AUTH"],
            prevent_user_existence_errors="ENABLED",
            enable_token_revocation=True,
            access_token_validity=self.token_minutes,
            token_validity_units=aws.cognito.UserPoolClientTokenValidityUnitsArgs(access_token="minutes"),
            opts=self.child_opts(depends_on=[self.resource_server]))
        aws.dynamodb.TableItem(
            self.child_name(f"tenant-{tenant_id}-machine-client"),
            table_name=self.clients_table.name,
            hash_key="clientId",
            item=client.id.apply(lambda client_id: json.dumps({
                "clientId": {"S": client_id}, "tenantId": {"S": tenant_id}, "status": {"S": "active"},
                "managedBy": {"S": "pulumi"}})),
            opts=self.child_opts())
        return client

    def _tenant_data_role(self) -> aws.iam.Role:
        """The only way to the items: a role the backend assumes with the tenant as session tag `tenant`.

        Its policy allows item operations only where every partition key of the request
        (`dynamodb:LeadingKeys`) equals the session's `${aws:PrincipalTag/tenant}`. No Scan or other
        operation without a partition key is granted: with `ForAllValues`, a request without the key would
        match. Its trust lets only the backend's role assume it, and only with exactly the `tenant` tag.
        """
        trust = iam.document(iam.allow(
            ["sts:AssumeRole", "sts:TagSession"], sid="BackendOnlyWithTenantTag",
            principals={"AWS": self.backend.role.arn},
            conditions={"Null": {f"aws:RequestTag/{TENANT_TAG}": "false"},
                        "ForAllValues:StringEquals": {"aws:TagKeys": [TENANT_TAG]},
                        "StringLike": {f"aws:RequestTag/{TENANT_TAG}": "?*"}}))
        role = aws.iam.Role(
            self.child_name("tenant-data-role"),
            name=self.tenant_role_name,
            description=f"{self.component_name}: one tenant's items, by the session tag {TENANT_TAG}",
            assume_role_policy=trust,
            max_session_duration=3600,
            tags=self.tags,
            opts=self.child_opts())
        aws.iam.RolePolicy(
            self.child_name("tenant-data-policy"),
            role=role.id,
            policy=iam.document(iam.allow(
                list(TENANT_DATA_ACTIONS), [self.item_table.arn], sid="OwnTenantItemsOnly",
                conditions={"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": [LEADING_KEY_VARIABLE]}})),
            opts=self.child_opts())
        return role

    def _items_table(self) -> aws.dynamodb.Table:
        """The example backend's data, partitioned by tenant."""
        return aws.dynamodb.Table(
            self.child_name("items"),
            billing_mode="PAY_PER_REQUEST",
            hash_key="tenantId",
            range_key="itemId",
            attributes=[aws.dynamodb.TableAttributeArgs(name="tenantId", type="S"),
                        aws.dynamodb.TableAttributeArgs(name="itemId", type="S")],
            server_side_encryption=aws.dynamodb.TableServerSideEncryptionArgs(enabled=True),
            point_in_time_recovery=aws.dynamodb.TablePointInTimeRecoveryArgs(enabled=True),
            tags=self.tags,
            opts=self.child_opts())

    # -- API -------------------------------------------------------------------------------------------------

    def _authorizer_function(self, kind: str, api: aws.apigateway.RestApi) -> PythonFunction:
        environment: dict[str, pulumi.Input[str]] = {
            "API_EXECUTION_ARN": api.execution_arn,
            "STAGE_NAME": self.stage_name,
            "TENANT_KEYS_TABLE": self.key_table.name,
            "KEY_CACHE_SECONDS": str(self.key_cache_seconds),
        }
        if kind == "token":
            statements = [iam.allow(["dynamodb:GetItem"], [self.key_table.arn], sid="ReadTenantKeys")]
            environment.update({"ISSUER": self.issuer, "JWKS_URL": self.jwks_url, "CLIENT_ID": self.user_pool_client.id,
                                "TOKEN_USE": self.token_use, "TENANT_CLAIM": TENANT_CLAIM})
            if self.access_tokens:
                environment["ROUTE_SCOPES"] = json.dumps({route: self.full_scope(scope)
                                                          for route, scope in ROUTE_SCOPES.items()}, sort_keys=True)
            handler, description = "app.handler", "Cognito JWT -> tenant API key (TOKEN authorizer)"
        else:
            statements = [iam.allow(["dynamodb:Query"], [pulumi.Output.concat(self.key_table.arn, "/index/",
                                                                              KEY_HASH_INDEX)], sid="FindKeyOwner")]
            environment["QUERY_PARAMETER"] = self.query_parameter
            handler, description = "app.query_string_handler", "?api_key= -> tenant (legacy REQUEST authorizer)"
        return PythonFunction(
            self.child_name("authorizer" if kind == "token" else "legacy-authorizer"), code=AUTHORIZER_CODE,
            handler=handler, service="multi-tenant-api-authorizer", description=description,
            statements=statements, environment=environment, settings=self.function_settings,
            memory_mb=512, timeout_seconds=AUTHORIZER_TIMEOUT_SECONDS, tags=self.user_tags, opts=self.child_opts())

    def _api_surface(self, kind: str) -> ApiSurface:
        """A REST API with the routes, its authorizer, a deployment and a logged, throttled, traced stage."""
        prefix = "api" if kind == "token" else "legacy-api"
        api = aws.apigateway.RestApi(
            self.child_name(prefix),
            # An explicit name, unique per project/stack/component: CloudWatch's ApiName dimension is the name.
            name=f"{pulumi.get_project()}-{pulumi.get_stack()}-{self.component_name}-{prefix}",
            description=("Multi-tenant API (Cognito JWT)" if kind == "token"
                         else f"Multi-tenant API, legacy ?{self.query_parameter}= clients"),
            api_key_source="AUTHORIZER",
            endpoint_configuration=aws.apigateway.RestApiEndpointConfigurationArgs(types="REGIONAL"),
            tags=self.tags,
            opts=self.child_opts())
        function = self._authorizer_function(kind, api)
        authorizer_args = self._authorizer_args(kind, api, function)
        authorizer = aws.apigateway.Authorizer(self.child_name(f"{prefix}-authorizer"), **authorizer_args,
                                               opts=self.child_opts())
        function.allow_invoke("apigateway", "apigateway.amazonaws.com",
                              pulumi.Output.concat(api.execution_arn, "/authorizers/", authorizer.id))
        self.backend.allow_invoke(f"{prefix}-invoke", "apigateway.amazonaws.com",
                                  pulumi.Output.concat(api.execution_arn, "/", self.stage_name, "/*/*"))

        # Everything a deployment snapshots, as passed to the resources: any change must redeploy the stage.
        snapshot: dict[str, Any] = {"authorizer": authorizer_args, "routes": []}
        route_resources = self._rest_routes(api, prefix, ROUTES, lambda method, path: self._route_args(
            method, path, authorizer), snapshot)

        fingerprint = pulumi.Output.from_input(snapshot).apply(
            lambda values: hashlib.sha256(json.dumps(values, sort_keys=True).encode()).hexdigest())
        deployment = aws.apigateway.Deployment(
            self.child_name(f"{prefix}-deployment"),
            rest_api=api.id,
            description="Routes of the multi-tenant API",
            triggers={"routes": fingerprint},
            opts=self.child_opts(depends_on=[authorizer, *route_resources]))
        access_logs = aws.cloudwatch.LogGroup(
            self.child_name(f"{prefix}-access-logs"),
            name_prefix=f"/aws/apigateway/{self.component_name}-{prefix}-",
            retention_in_days=self.function_settings["log_retention_days"],
            tags=self.tags,
            opts=self.child_opts())
        stage = aws.apigateway.Stage(
            self.child_name(f"{prefix}-stage"),
            rest_api=api.id,
            deployment=deployment.id,
            stage_name=self.stage_name,
            xray_tracing_enabled=True,
            access_log_settings=aws.apigateway.StageAccessLogSettingsArgs(destination_arn=access_logs.arn,
                                                                          format=ACCESS_LOG_FORMAT),
            tags=self.tags,
            opts=self.child_opts())
        rate, burst = self.stage_throttle
        aws.apigateway.MethodSettings(
            self.child_name(f"{prefix}-method-settings"),
            rest_api=api.id,
            stage_name=stage.stage_name,
            method_path="*/*",
            settings=aws.apigateway.MethodSettingsSettingsArgs(
                throttling_rate_limit=rate, throttling_burst_limit=burst, metrics_enabled=True,
                logging_level="ERROR", data_trace_enabled=False),
            opts=self.child_opts())
        return ApiSurface(kind, api, stage, function, access_logs)

    def _authorizer_args(self, kind: str, api: aws.apigateway.RestApi, function: PythonFunction) -> dict[str, Any]:
        """The authorizer's settings (also fingerprinted into the deployment)."""
        common = {"rest_api": api.id, "authorizer_uri": function.invoke_arn,
                  "authorizer_result_ttl_in_seconds": self.authorizer_ttl}
        if kind == "token":
            return {**common, "type": "TOKEN", "identity_source": "method.request.header.Authorization",
                    # Requests without a well-formed bearer token get a 401 without invoking (or billing) Lambda.
                    "identity_validation_expression": r"^Bearer [-0-9A-Za-z_]+\.[-0-9A-Za-z_]+\.[-0-9A-Za-z_]+$"}
        return {**common, "type": "REQUEST", "identity_source": f"method.request.querystring.{self.query_parameter}"}

    def _rest_routes(self, api: aws.apigateway.RestApi, prefix: str, routes: Sequence[tuple[str, str]],
                     args_for: Callable[[str, str], tuple[dict[str, Any], dict[str, Any]]],
                     snapshot: dict[str, Any]) -> list[pulumi.Resource]:
        """The path resources, methods and integrations of `routes` on `api`, each route's arguments recorded in
        `snapshot["routes"]` (what the deployment's fingerprint covers); returns what the deployment depends on."""
        resources: dict[str, pulumi.Input[str]] = {"/": api.root_resource_id}
        route_resources: list[pulumi.Resource] = []
        for method, path in routes:
            parent_path = "/"
            for part in [p for p in path.split("/") if p]:
                current = parent_path.rstrip("/") + "/" + part
                if current not in resources:
                    resource = aws.apigateway.Resource(
                        self.child_name(f"{prefix}-res-{self._slug(current)}"),
                        rest_api=api.id, parent_id=resources[parent_path], path_part=part,
                        opts=self.child_opts())
                    resources[current] = resource.id
                    route_resources.append(resource)
                parent_path = current
            slug = f"{method.lower()}-{self._slug(path)}"
            method_args, integration_args = args_for(method, path)
            method_resource = aws.apigateway.Method(
                self.child_name(f"{prefix}-{slug}"), rest_api=api.id, resource_id=resources[path],
                http_method=method, **method_args, opts=self.child_opts())
            integration = aws.apigateway.Integration(
                self.child_name(f"{prefix}-{slug}-integration"), rest_api=api.id, resource_id=resources[path],
                http_method=method_resource.http_method, **integration_args, opts=self.child_opts())
            route_resources += [method_resource, integration]
            snapshot["routes"].append({"route": f"{method} {path}", "resource": resources[path],
                                       "method": method_args, "integration": integration_args})
        return route_resources

    def _route_args(self, method: str, path: str, authorizer: aws.apigateway.Authorizer
                    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """A route's method flags and integration (also fingerprinted into the deployment)."""
        parameters = {f"method.request.path.{p}": True for p in re.findall(r"\{(\w+)\}", path)}
        method_args = {"authorization": "CUSTOM", "authorizer_id": authorizer.id, "api_key_required": True,
                       "request_parameters": parameters or None}
        integration_args = {"type": "AWS_PROXY", "integration_http_method": "POST", "uri": self.backend.invoke_arn,
                            "timeout_milliseconds": 29000}
        return method_args, integration_args

    @staticmethod
    def _slug(path: str) -> str:
        slug = re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-")
        return slug or "root"

    # -- tiers and tenants --------------------------------------------------------------------------------

    def _usage_plan(self, tier: Tier) -> aws.apigateway.UsagePlan:
        throttles = [aws.apigateway.UsagePlanApiStageThrottleArgs(path=throttle_path(route), rate_limit=rate,
                                                                  burst_limit=burst)
                     for route, (rate, burst) in sorted(tier.method_throttles.items())]
        return aws.apigateway.UsagePlan(
            self.child_name(f"tier-{tier.name}"),
            description=tier.description,
            throttle_settings=aws.apigateway.UsagePlanThrottleSettingsArgs(rate_limit=tier.rate_limit,
                                                                           burst_limit=tier.burst_limit),
            quota_settings=aws.apigateway.UsagePlanQuotaSettingsArgs(**tier.quota) if tier.quota else None,
            api_stages=[aws.apigateway.UsagePlanApiStageArgs(api_id=s.api.id, stage=s.stage.stage_name,
                                                             throttles=throttles or None)
                        for s in self.surfaces],
            tags={**self.tags, "tier": tier.name},
            opts=self.child_opts())

    def _tenant(self, tenant_id: str, tier: Tier,
                machine_client: aws.cognito.UserPoolClient | None = None) -> aws.apigateway.ApiKey:
        """The tenant's key (value generated by API Gateway), its plan association and its key-table row."""
        key = aws.apigateway.ApiKey(
            self.child_name(f"tenant-{tenant_id}"),
            name=f"{self.component_name}-{tenant_id}",
            description=f"API key of tenant {tenant_id} ({tier.name})",
            enabled=True,
            tags={**self.tags, "tenant": tenant_id, "tier": tier.name},
            opts=self.child_opts())
        aws.apigateway.UsagePlanKey(
            self.child_name(f"tenant-{tenant_id}-plan"),
            key_id=key.id,
            key_type="API_KEY",
            usage_plan_id=self.usage_plans[tier.name].id,
            # A key may be on only one plan per stage: a tier change must drop the old association first.
            opts=self.child_opts(delete_before_replace=True))
        client_id: pulumi.Input[str] = machine_client.id if machine_client is not None else ""

        def row(values: list[str]) -> str:
            key_id, value, machine_client_id, plan_id = values
            return json.dumps({
                "tenantId": {"S": tenant_id},
                "tier": {"S": tier.name},
                "usagePlanId": {"S": plan_id},
                "apiKeyId": {"S": key_id},
                "apiKey": {"S": value},
                "keyHash": {"S": hashlib.sha256(value.encode()).hexdigest()},
                "managedBy": {"S": MANAGED_BY_PULUMI},
                # The authorizer accepts access tokens of these app clients for this tenant only.
                **({"machineClientIds": {"SS": [machine_client_id]}} if machine_client_id else {}),
            })
        item = pulumi.Output.all(key.id, key.value, client_id, self.usage_plans[tier.name].id).apply(row)
        aws.dynamodb.TableItem(
            self.child_name(f"tenant-{tenant_id}-key"),
            table_name=self.key_table.name,
            hash_key="tenantId",
            item=pulumi.Output.secret(cast(str, item)),
            opts=self.child_opts())
        return key

    # -- run-time tenants ------------------------------------------------------------------------------------

    def _tenant_admin(self, a: TenantAdmin) -> None:
        """Admin API (its own REST API, not metered), the lifecycle workflow and its two functions.

        A separate REST API keeps admin calls off the tenants' usage plans and breaks what would be a cycle
        (the admin function needs the plans' ids; the plans need the tenant API's stage).
        """
        key_name_prefix = f"{self.component_name}-"

        def runtime_key_tags(kind: str) -> dict[str, str]:
            """The tags every run-time key of this component carries (set at CreateApiKey by tenant-steps)."""
            return {f"aws:{kind}/{KEY_TAG_MANAGED_BY}": MANAGED_BY_RUNTIME,
                    f"aws:{kind}/{KEY_TAG_COMPONENT}": self.component_name}
        apikeys = self.env.arn("apigateway", "/apikeys", account=False)
        one_key = self.env.arn("apigateway", "/apikeys/*", account=False)
        # With access tokens, onboarding can give a tenant a client-credentials app client (secret kept by Cognito).
        machine_statements: list[Any] = []
        machine_env: dict[str, pulumi.Input[str]] = {}
        if self.clients_table is not None:
            machine_statements = [
                iam.allow(["cognito-idp:CreateUserPoolClient", "cognito-idp:DescribeUserPoolClient",
                           "cognito-idp:ListUserPoolClients", "cognito-idp:DeleteUserPoolClient"],
                          [self.user_pool.arn], sid="RuntimeMachineClients"),
                iam.allow(["dynamodb:PutItem", "dynamodb:DeleteItem"], [self.clients_table.arn],
                          sid="RegisterMachineClients")]
            machine_env = {"USER_POOL_ID": self.user_pool.id, "MACHINE_CLIENTS_TABLE": self.clients_table.name,
                           "MACHINE_SCOPES": json.dumps(sorted(SCOPES)), "RESOURCE_SERVER": RESOURCE_SERVER_IDENTIFIER,
                           "ACCESS_TOKEN_MINUTES": str(self.token_minutes)}
        self.tenant_steps = PythonFunction(
            self.child_name("tenant-steps"), code=TENANT_STEPS_CODE, service="multi-tenant-api-tenant-steps",
            description="Lifecycle steps that handle API key values (never returned) and purge items",
            statements=[*machine_statements,
                iam.allow(["dynamodb:GetItem", "dynamodb:UpdateItem"], [self.key_table.arn], sid="RecordTenantKeys"),
                iam.allow(["dynamodb:Query", "dynamodb:BatchWriteItem"], [self.item_table.arn], sid="PurgeItems"),
                iam.allow(["apigateway:POST"], [apikeys], sid="CreateRuntimeKeys",
                          conditions={"StringEquals": runtime_key_tags("RequestTag")}),
                # Tag-on-create: API Gateway authorizes a new resource's tags as apigateway:PUT on
                # /tags/<the resource's URL-encoded ARN, id *> ("Using tags to control access to API Gateway REST
                # API resources": https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-tagging-iam-policy.html);
                # without it CreateApiKey with tags is AccessDenied. Same request-tag conditions.
                iam.allow(["apigateway:PUT"], [self.env.arn("apigateway", pulumi.Output.concat(
                    "/tags/arn%3A", self.env.partition, "%3Aapigateway%3A", self.env.region, "%3A%3A%2Fapikeys%2F*"),
                    account=False)], sid="TagRuntimeKeysOnCreate",
                    conditions={"StringEquals": runtime_key_tags("RequestTag")}),
                iam.allow(["apigateway:GET"], [apikeys, one_key], sid="FindKeys"),
                iam.allow(["apigateway:POST"], [self.env.arn("apigateway", pulumi.Output.concat(
                    "/usageplans/", plan.id, "/keys"), account=False) for plan in self.usage_plans.values()],
                    sid="JoinPlans")],
            environment={"TENANT_KEYS_TABLE": self.key_table.name, "ITEMS_TABLE": self.item_table.name,
                         "KEY_NAME_PREFIX": key_name_prefix, "COMPONENT_NAME": self.component_name, **machine_env},
            settings=self.function_settings, timeout_seconds=120, tags=self.user_tags, opts=self.child_opts())

        plans = [plan.id for plan in self.usage_plans.values()]
        role = aws.iam.Role(
            self.child_name("lifecycle-role"), description="Runs the run-time tenant lifecycle workflow",
            assume_role_policy=iam.service_trust("states.amazonaws.com", source_account=self.env.account_id),
            tags=self.tags, opts=self.child_opts())
        # The state machine waits for this policy: CreateStateMachine checks that the role may deliver logs
        # (AccessDeniedException otherwise; https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html).
        policy = aws.iam.RolePolicy(
            self.child_name("lifecycle-policy"), role=role.id,
            policy=iam.document(
                iam.allow(["dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"], [self.key_table.arn],
                          sid="TenantRows"),
                iam.allow(["lambda:InvokeFunction"], [self.tenant_steps.arn], sid="TenantSteps"),
                iam.allow(["apigateway:GET"], [apikeys], sid="FindTenantKeys"),
                # Only run-time keys of this component: the ApiKey resource type supports aws:ResourceTag/${TagKey}
                # (Service Authorization Reference, "Resource types defined by Amazon API Gateway Management",
                # https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonapigatewaymanagement.html;
                # ApiKey is taggable for ABAC: https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-tagging-supported-resources.html).
                iam.allow(["apigateway:PATCH", "apigateway:DELETE"], [one_key], sid="EnableDisableDeleteKeys",
                          conditions={"StringEquals": runtime_key_tags("ResourceTag")}),
                iam.allow(["apigateway:DELETE"], [self.env.arn("apigateway", pulumi.Output.concat("/usageplans/", p,
                                                                                                  "/keys/*"),
                                                               account=False) for p in plans], sid="LeavePlans"),
                iam.allow(["cognito-idp:AdminCreateUser", "cognito-idp:AdminGetUser", "cognito-idp:AdminDeleteUser",
                           "cognito-idp:AdminDisableUser"], [self.user_pool.arn], sid="FirstUsers"),
                iam.allow(XRAY_ACTIONS, ["*"], sid="XRayTracing"),
                iam.allow(SFN_LOG_DELIVERY_ACTIONS, ["*"], sid="LogDelivery")),
            opts=self.child_opts())
        definition = pulumi.Output.all(self.key_table.name, self.user_pool.id, self.tenant_steps.arn).apply(
            lambda v: json.dumps(lifecycle_definition(LifecycleSettings(
                keys_table=v[0], user_pool_id=v[1], steps_function_arn=v[2], key_name_prefix=key_name_prefix,
                machine_clients=self.clients_table is not None)),
                separators=(",", ":"), sort_keys=True))
        logs = aws.cloudwatch.LogGroup(
            self.child_name("lifecycle-logs"), name_prefix=f"/aws/vendedlogs/states/{self.component_name}-lifecycle-",
            retention_in_days=self.function_settings["log_retention_days"], tags=self.tags, opts=self.child_opts())
        self.lifecycle = aws.sfn.StateMachine(
            self.child_name("lifecycle"), type="STANDARD", role_arn=role.arn, definition=definition,
            # Key values never enter the state data (the tenant-steps function keeps them), so logging it is safe.
            logging_configuration=aws.sfn.StateMachineLoggingConfigurationArgs(
                level="ALL", include_execution_data=True, log_destination=pulumi.Output.concat(logs.arn, ":*")),
            tracing_configuration=aws.sfn.StateMachineTracingConfigurationArgs(enabled=True),
            tags=self.tags, opts=self.child_opts(depends_on=[logs, policy]))
        # A failed lifecycle execution leaves a tenant half-done (its lastError says where): someone must act.
        aws.cloudwatch.MetricAlarm(
            self.child_name("lifecycle-failed-alarm"),
            alarm_description=f"{self.component_name}: a tenant lifecycle operation failed (resume or roll back)",
            namespace="AWS/States", metric_name="ExecutionsFailed", dimensions={"StateMachineArn": self.lifecycle.arn},
            statistic="Sum", period=300, evaluation_periods=1, threshold=1,
            comparison_operator="GreaterThanOrEqualToThreshold", treat_missing_data="notBreaching",
            alarm_actions=self.alarms["actions"], ok_actions=self.alarms["actions"], tags=self.tags,
            opts=self.child_opts())

        self.admin_function = PythonFunction(
            self.child_name("admin"), code=ADMIN_CODE, service="multi-tenant-api-admin",
            description="Admin API: run-time tenants and every tenant's usage",
            statements=[
                iam.allow(["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Scan"],
                          [self.key_table.arn], sid="TenantRows"),
                iam.allow(["states:StartExecution"], [self.lifecycle.arn], sid="StartLifecycle"),
                # Whether the execution holding a tenant's operation lock is still running (else the lock is stale).
                iam.allow(["states:DescribeExecution"], [self.env.arn(
                    "states", pulumi.Output.concat("execution:", self.lifecycle.name, ":*"))], sid="LockHolders"),
                iam.allow(["apigateway:GET"], [apikeys, *[self.env.arn(
                    "apigateway", pulumi.Output.concat("/usageplans/", p, "/usage"), account=False) for p in plans]],
                    sid="CountKeysReadUsage"),
                *([iam.allow(["cognito-idp:DescribeUserPoolClient"], [self.user_pool.arn], sid="ReadMachineClient")]
                  if self.clients_table is not None else [])],
            environment={
                "TENANT_KEYS_TABLE": self.key_table.name, "LIFECYCLE_MACHINE_ARN": self.lifecycle.arn,
                "LIFECYCLE_MACHINE_NAME": self.lifecycle.name,
                "TIER_PLANS": pulumi.Output.json_dumps({tier: plan.id for tier, plan in self.usage_plans.items()}),
                # No list of the config tenants: their ids lack the run-time prefix (validated above), and a list
                # of thousands would outgrow Lambda's 4 KB of environment variables
                # (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html).
                "RUNTIME_ID_PREFIX": a.runtime_id_prefix,
                "API_KEY_CEILING": str(a.api_key_ceiling), "ADMIN_AUTH": a.auth,
                "ROTATION_OVERLAP_SECONDS": str(a.rotation_overlap_seconds),
                **({"MACHINE_SCOPES": json.dumps(sorted(SCOPES)), "USER_POOL_ID": self.user_pool.id}
                   if self.clients_table is not None else {})},
            settings=self.function_settings, timeout_seconds=29, tags=self.user_tags, opts=self.child_opts())
        self._admin_api(a)

    def _admin_api(self, a: TenantAdmin) -> None:
        api = aws.apigateway.RestApi(
            self.child_name("admin-api"),
            name=f"{pulumi.get_project()}-{pulumi.get_stack()}-{self.component_name}-admin-api",
            description="Multi-tenant API: tenant administration",
            endpoint_configuration=aws.apigateway.RestApiEndpointConfigurationArgs(types="REGIONAL"),
            tags=self.tags, opts=self.child_opts())
        method_auth: dict[str, Any] = {"authorization": "AWS_IAM"}
        snapshot: dict[str, Any] = {"auth": a.auth, "routes": []}
        if a.auth == "cognito":
            self.admin_group = aws.cognito.UserGroup(
                self.child_name("admin-group"), name=a.admin_group, user_pool_id=self.user_pool.id,
                description="Administrators of run-time tenants (admin API)", opts=self.child_opts())
            function = PythonFunction(
                self.child_name("admin-authorizer"), code=AUTHORIZER_CODE, handler="app.admin_handler",
                service="multi-tenant-api-admin-authorizer", description="Cognito JWT in the admin group -> admin",
                environment={"API_EXECUTION_ARN": api.execution_arn, "STAGE_NAME": self.stage_name,
                             "ISSUER": self.issuer, "JWKS_URL": self.jwks_url, "CLIENT_ID": self.user_pool_client.id,
                             "TOKEN_USE": self.token_use, "TENANT_CLAIM": TENANT_CLAIM,
                             "ADMIN_GROUP": a.admin_group},
                settings=self.function_settings, memory_mb=512, timeout_seconds=AUTHORIZER_TIMEOUT_SECONDS,
                tags=self.user_tags, opts=self.child_opts())
            authorizer_args: dict[str, Any] = {
                               "rest_api": api.id, "authorizer_uri": function.invoke_arn, "type": "TOKEN",
                               "identity_source": "method.request.header.Authorization",
                               "authorizer_result_ttl_in_seconds": 0,
                               "identity_validation_expression":
                                   r"^Bearer [-0-9A-Za-z_]+\.[-0-9A-Za-z_]+\.[-0-9A-Za-z_]+$"}
            authorizer = aws.apigateway.Authorizer(self.child_name("admin-api-authorizer"), **authorizer_args,
                                                   opts=self.child_opts())
            function.allow_invoke("apigateway", "apigateway.amazonaws.com",
                                  pulumi.Output.concat(api.execution_arn, "/authorizers/", authorizer.id))
            method_auth = {"authorization": "CUSTOM", "authorizer_id": authorizer.id}
            snapshot["authorizer"] = authorizer_args
        self.admin_function.allow_invoke("admin-api-invoke", "apigateway.amazonaws.com",
                                         pulumi.Output.concat(api.execution_arn, "/", self.stage_name, "/*/admin/*"))
        integration_args: dict[str, Any] = {"type": "AWS_PROXY", "integration_http_method": "POST",
                                            "uri": self.admin_function.invoke_arn, "timeout_milliseconds": 29000}

        def admin_route_args(method: str, path: str) -> tuple[dict[str, Any], dict[str, Any]]:
            parameters = {f"method.request.path.{p}": True for p in re.findall(r"\{(\w+)\}", path)}
            return {**method_auth, "api_key_required": False, "request_parameters": parameters or None}, \
                integration_args

        route_resources = self._rest_routes(api, "admin-api", ADMIN_ROUTES, admin_route_args, snapshot)
        fingerprint = pulumi.Output.from_input(snapshot).apply(
            lambda values: hashlib.sha256(json.dumps(values, sort_keys=True).encode()).hexdigest())
        deployment = aws.apigateway.Deployment(
            self.child_name("admin-api-deployment"), rest_api=api.id, description="Admin routes",
            triggers={"routes": fingerprint}, opts=self.child_opts(depends_on=route_resources))
        access_logs = aws.cloudwatch.LogGroup(
            self.child_name("admin-api-access-logs"), name_prefix=f"/aws/apigateway/{self.component_name}-admin-api-",
            retention_in_days=self.function_settings["log_retention_days"], tags=self.tags, opts=self.child_opts())
        self.admin_stage = aws.apigateway.Stage(
            self.child_name("admin-api-stage"), rest_api=api.id, deployment=deployment.id,
            stage_name=self.stage_name, xray_tracing_enabled=True,
            access_log_settings=aws.apigateway.StageAccessLogSettingsArgs(destination_arn=access_logs.arn,
                                                                          format=ACCESS_LOG_FORMAT),
            tags=self.tags, opts=self.child_opts())
        aws.apigateway.MethodSettings(
            self.child_name("admin-api-method-settings"), rest_api=api.id, stage_name=self.admin_stage.stage_name,
            method_path="*/*",
            settings=aws.apigateway.MethodSettingsSettingsArgs(
                throttling_rate_limit=10, throttling_burst_limit=20, metrics_enabled=True, logging_level="ERROR",
                data_trace_enabled=False),
            opts=self.child_opts())
        self.admin_api = api

    # -- alarms ----------------------------------------------------------------------------------------------

    def _alarms(self, surface: ApiSurface) -> None:
        prefix = "api" if surface.kind == "token" else "legacy-api"
        a = self.alarms
        dimensions = {"ApiName": surface.api.name, "Stage": surface.stage.stage_name}
        common: dict[str, Any] = {
            "comparison_operator": "GreaterThanOrEqualToThreshold", "statistic": "Sum",
            "period": a["period"], "evaluation_periods": a["evaluation_periods"],
            "treat_missing_data": "notBreaching", "alarm_actions": a["actions"], "ok_actions": a["actions"],
            "tags": self.tags}
        for suffix, metric, threshold, what in (
                ("4xx", "4XXError", a["client_error_threshold"], "client errors (4XX, incl. 401/403/429)"),
                ("5xx", "5XXError", a["server_error_threshold"], "server errors (5XX)")):
            aws.cloudwatch.MetricAlarm(
                self.child_name(f"{prefix}-{suffix}-alarm"),
                alarm_description=f"{self.component_name} {prefix}: {what}",
                namespace="AWS/ApiGateway", metric_name=metric, dimensions=dimensions, threshold=threshold,
                **common, opts=self.child_opts())
        # API Gateway has no 429 metric (4XXError mixes 429 with 401/403/404), so count 429s in the access logs.
        aws.cloudwatch.LogMetricFilter(
            self.child_name(f"{prefix}-throttled-filter"),
            log_group_name=surface.access_logs.name,
            pattern=THROTTLED_FILTER_PATTERN,
            metric_transformation=aws.cloudwatch.LogMetricFilterMetricTransformationArgs(
                name=THROTTLE_METRIC_NAME, namespace=THROTTLE_METRIC_NAMESPACE, value="1", unit="Count",
                dimensions={"ApiId": "$.apiId", "Stage": "$.stage"}),
            opts=self.child_opts())
        # Which tenant is throttled: one metric per tenant (each is a custom metric, billed as such).
        aws.cloudwatch.LogMetricFilter(
            self.child_name(f"{prefix}-throttled-by-tenant-filter"),
            log_group_name=surface.access_logs.name,
            pattern=THROTTLED_BY_TENANT_FILTER_PATTERN,
            metric_transformation=aws.cloudwatch.LogMetricFilterMetricTransformationArgs(
                name=THROTTLE_BY_TENANT_METRIC_NAME, namespace=THROTTLE_METRIC_NAMESPACE, value="1", unit="Count",
                dimensions={"ApiId": "$.apiId", "Stage": "$.stage", "TenantId": "$.tenantId"}),
            opts=self.child_opts())
        aws.cloudwatch.MetricAlarm(
            self.child_name(f"{prefix}-throttled-alarm"),
            alarm_description=f"{self.component_name} {prefix}: throttled requests (429, usage plan or stage limit)",
            namespace=THROTTLE_METRIC_NAMESPACE, metric_name=THROTTLE_METRIC_NAME,
            dimensions={"ApiId": surface.api.id, "Stage": surface.stage.stage_name},
            threshold=a["throttled_threshold"], **common, opts=self.child_opts())


