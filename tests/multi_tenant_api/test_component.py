"""MultiTenantApi under the offline engine: identity, tiers, keys, routes, stage, IAM, alarms, bad input."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pytest

from serverless_patterns.core.args import ComponentArgsError
from serverless_patterns.lambdas.multi_tenant_api.authorizer import app as authorizer_app
from serverless_patterns.multi_tenant_api import MultiTenantApi, MultiTenantApiArgs
from serverless_patterns.multi_tenant_api.args import (
    ACCESS_LOG_FORMAT,
    KEY_HASH_INDEX,
    MAX_API_KEYS,
    ROUTES,
    TENANT_ID_PATTERN,
)
from serverless_patterns.offline import CapturedStack, run_callable

ACCOUNT = "111111111111"
REGION = "eu-west-1"
CONFIG = {"aws:region": REGION, "aws:allowedAccountIds": json.dumps([ACCOUNT])}

BASE: MultiTenantApiArgs = {
    "tiers": {
        "trial": {"rate_limit": 10, "burst_limit": 2, "quota": {"limit": 5, "period": "DAY"}},
        "business": {"rate_limit": 100, "burst_limit": 200, "quota": {"limit": 100000, "period": "MONTH"},
                     "method_throttles": {"POST /items": {"rate_limit": 20, "burst_limit": 40}}},
    },
    "tenants": [{"id": "acme-corp", "tier": "trial"}, {"id": "globex", "tier": "business"},
                {"id": "initech", "tier": "business"}],
    "domain_prefix": "tenant-api-test",
    "callback_urls": ["https://app.example.org/callback", "http://localhost:3000/callback"],
    "authorizer_ttl_seconds": 120,
    "tags": {"team": "research-it"},
}


def build(**overrides: Any) -> CapturedStack:
    args = {**copy.deepcopy(BASE), **overrides}
    return run_callable(lambda: MultiTenantApi("mta", args), config=CONFIG)


@pytest.fixture(scope="module")
def stack() -> CapturedStack:
    return build()


@pytest.fixture(scope="module")
def legacy_stack() -> CapturedStack:
    return build(query_string_keys=True)


def policy_of(stack: CapturedStack, function: str) -> dict[str, Any]:
    policy = stack.one("aws:iam/rolePolicy:RolePolicy", f"{function}-policy").inputs["policy"]
    return json.loads(policy) if isinstance(policy, str) else policy


def statement(policy: dict[str, Any], sid: str) -> dict[str, Any]:
    return next(s for s in policy["Statement"] if s.get("Sid") == sid)


class TestIdentity:
    def test_tenant_attribute_is_admin_only(self, stack: CapturedStack) -> None:
        pool = stack.one("aws:cognito/userPool:UserPool").inputs
        schema = next(s for s in pool["schemas"] if s["name"] == "tenant_id")
        assert schema["mutable"] is False
        assert schema["developerOnlyAttribute"] is False
        client = stack.one("aws:cognito/userPoolClient:UserPoolClient").inputs
        # An explicit write list without the tenant (no list would mean "all attributes writable").
        assert client["writeAttributes"] == ["email"]
        assert "custom:tenant_id" in client["readAttributes"]

    def test_no_self_sign_up_and_a_strong_password_policy(self, stack: CapturedStack) -> None:
        pool = stack.one("aws:cognito/userPool:UserPool").inputs
        assert pool["adminCreateUserConfig"]["allowAdminCreateUserOnly"] is True
        policy = pool["passwordPolicy"]
        assert policy["minimumLength"] >= 12
        assert all(policy[k] for k in ("requireLowercase", "requireUppercase", "requireNumbers", "requireSymbols"))
        assert pool["deletionProtection"] == "ACTIVE"

    def test_app_client_uses_the_code_flow_and_bounded_tokens(self, stack: CapturedStack) -> None:
        client = stack.one("aws:cognito/userPoolClient:UserPoolClient").inputs
        assert client["allowedOauthFlows"] == ["code"]
        assert client["allowedOauthFlowsUserPoolClient"] is True
        assert client["callbackUrls"] == BASE["callback_urls"]
        assert client["generateSecret"] is False
        assert client["preventUserExistenceErrors"] == "ENABLED"
        assert client["idTokenValidity"] == 60 and client["accessTokenValidity"] == 60
        assert client["tokenValidityUnits"] == {"idToken": "minutes", "accessToken": "minutes", "refreshToken": "days"}
        assert "ALLOW_USER_PASSWORD_AUTH" not in client["explicitAuthFlows"]

    def test_email_changes_need_verification(self, stack: CapturedStack) -> None:
        # pulumi-aws UserPool: userAttributeUpdateSettings.attributesRequireVerificationBeforeUpdates
        # (https://www.pulumi.com/registry/packages/aws/api-docs/cognito/userpool/); a misspelled key
        # in a dict literal reaches the provider under the wrong name and is dropped.
        pool = stack.one("aws:cognito/userPool:UserPool").inputs
        assert pool["userAttributeUpdateSettings"] == {"attributesRequireVerificationBeforeUpdates": ["email"]}

    def test_hosted_ui_domain_comes_from_config(self, stack: CapturedStack) -> None:
        assert stack.one("aws:cognito/userPoolDomain:UserPoolDomain").inputs["domain"] == "tenant-api-test"

    def test_mutable_tenant_and_self_sign_up_are_opt_in(self) -> None:
        stack = build(tenant_attribute_mutable=True, allow_self_sign_up=True)
        pool = stack.one("aws:cognito/userPool:UserPool").inputs
        assert pool["schemas"][0]["mutable"] is True
        assert pool["adminCreateUserConfig"]["allowAdminCreateUserOnly"] is False
        assert stack.one("aws:cognito/userPoolClient:UserPoolClient").inputs["writeAttributes"] == ["email"]


class TestTiersAndTenants:
    def test_one_usage_plan_per_tier(self, stack: CapturedStack) -> None:
        plans = {p.name: p.inputs for p in stack.of_type("aws:apigateway/usagePlan:UsagePlan")}
        assert set(plans) == {"mta-tier-trial", "mta-tier-business"}
        trial = plans["mta-tier-trial"]
        assert trial["throttleSettings"] == {"rateLimit": 10, "burstLimit": 2}
        assert trial["quotaSettings"] == {"limit": 5, "period": "DAY"}
        api_id = stack.one("aws:apigateway/restApi:RestApi").id
        assert trial["apiStages"] == [{"apiId": api_id, "stage": "v1"}]

    def test_method_throttles_use_api_gateways_path_format(self, stack: CapturedStack) -> None:
        business = stack.one("aws:apigateway/usagePlan:UsagePlan", "tier-business").inputs
        assert business["apiStages"][0]["throttles"] == [{"path": "/items/POST", "rateLimit": 20, "burstLimit": 40}]

    def test_one_key_per_tenant_on_its_tiers_plan(self, stack: CapturedStack) -> None:
        keys = {k.name: k for k in stack.of_type("aws:apigateway/apiKey:ApiKey")}
        assert set(keys) == {"mta-tenant-acme-corp", "mta-tenant-globex", "mta-tenant-initech"}
        plans = {p.name.removeprefix("mta-tier-"): p.id for p in stack.of_type("aws:apigateway/usagePlan:UsagePlan")}
        links = {pk.name: pk.inputs for pk in stack.of_type("aws:apigateway/usagePlanKey:UsagePlanKey")}
        expected = {"acme-corp": "trial", "globex": "business", "initech": "business"}
        assert len(links) == len(expected)
        for tenant, tier in expected.items():
            link = links[f"mta-tenant-{tenant}-plan"]
            assert link["keyId"] == keys[f"mta-tenant-{tenant}"].id
            assert link["usagePlanId"] == plans[tier]
            assert link["keyType"] == "API_KEY"

    def test_key_values_are_generated_never_the_tenant_id(self, stack: CapturedStack) -> None:
        for key in stack.of_type("aws:apigateway/apiKey:ApiKey"):
            assert "value" not in key.inputs  # API Gateway generates a random value
            assert key.inputs["tags"]["tenant"] in key.name

    def test_key_table_rows_map_each_tenant_to_its_own_key(self, stack: CapturedStack) -> None:
        keys = {k.name.removeprefix("mta-tenant-"): k for k in stack.of_type("aws:apigateway/apiKey:ApiKey")}
        rows = stack.of_type("aws:dynamodb/tableItem:TableItem")
        assert len(rows) == 3
        table = stack.one("aws:dynamodb/table:Table", "tenant-keys")
        for row in rows:
            item = json.loads(secret(row.inputs["item"]))
            tenant = item["tenantId"]["S"]
            key = keys[tenant]
            assert row.inputs["tableName"] == table.outputs["name"]
            assert item["apiKey"]["S"] == key.outputs["value"] != tenant
            assert item["apiKeyId"]["S"] == key.id
            assert item["keyHash"]["S"] == authorizer_app.key_hash(key.outputs["value"])

    def test_plan_associations_are_deleted_before_they_are_replaced(self, monkeypatch: pytest.MonkeyPatch) -> None:
        # A key can be on only one plan per stage: a tier change must drop the old link before adding the new.
        import serverless_patterns.multi_tenant_api.component as module

        seen: list[Any] = []
        original = module.aws.apigateway.UsagePlanKey

        def recording(name: str, **kwargs: Any) -> Any:
            seen.append(kwargs["opts"])
            return original(name, **kwargs)

        monkeypatch.setattr(module.aws.apigateway, "UsagePlanKey", recording)
        build()
        assert len(seen) == len(BASE["tenants"])
        assert all(opts.delete_before_replace is True for opts in seen)

    def test_a_tenant_moved_to_another_tier_is_linked_to_that_tiers_plan(self) -> None:
        moved = build(tenants=[{"id": "acme-corp", "tier": "business"}])
        link = moved.one("aws:apigateway/usagePlanKey:UsagePlanKey").inputs
        assert link["usagePlanId"] == moved.one("aws:apigateway/usagePlan:UsagePlan", "business").id

    def test_key_table_is_indexed_by_key_hash_and_protected(self, stack: CapturedStack) -> None:
        table = stack.one("aws:dynamodb/table:Table", "tenant-keys").inputs
        assert table["hashKey"] == "tenantId"
        assert table["globalSecondaryIndexes"][0]["name"] == KEY_HASH_INDEX == authorizer_app.KEY_HASH_INDEX
        assert table["pointInTimeRecovery"] == {"enabled": True}
        assert table["serverSideEncryption"] == {"enabled": True}

    def test_no_tenants_is_a_valid_starting_point(self) -> None:
        stack = build(tenants=[])
        assert stack.of_type("aws:apigateway/apiKey:ApiKey") == []
        assert len(stack.of_type("aws:apigateway/usagePlan:UsagePlan")) == 2

    def test_the_authorizer_accepts_exactly_the_components_tenant_ids(self) -> None:
        assert authorizer_app.TENANT_ID_RE.pattern == TENANT_ID_PATTERN


def secret(value: Any) -> Any:
    if isinstance(value, dict) and "value" in value:
        return value["value"]
    return value


class TestRestApi:
    def test_api_keys_come_from_the_authorizer(self, stack: CapturedStack) -> None:
        assert stack.one("aws:apigateway/restApi:RestApi").inputs["apiKeySource"] == "AUTHORIZER"

    def test_every_method_including_the_root_is_authorized_and_key_required(self, stack: CapturedStack) -> None:
        authorizer = stack.one("aws:apigateway/authorizer:Authorizer")
        api = stack.one("aws:apigateway/restApi:RestApi")
        methods = stack.of_type("aws:apigateway/method:Method")
        assert len(methods) == len(ROUTES)
        root_methods = [m for m in methods if m.inputs["resourceId"] == api.outputs["rootResourceId"]]
        assert [m.inputs["httpMethod"] for m in root_methods] == ["GET"]
        for method in methods:
            assert method.inputs["authorization"] == "CUSTOM", method.name
            assert method.inputs["authorizerId"] == authorizer.id, method.name
            assert method.inputs["apiKeyRequired"] is True, method.name

    def test_token_authorizer_settings(self, stack: CapturedStack) -> None:
        authorizer = stack.one("aws:apigateway/authorizer:Authorizer").inputs
        function = stack.one("aws:lambda/function:Function", "mta-authorizer-fn")
        assert authorizer["type"] == "TOKEN"
        assert authorizer["identitySource"] == "method.request.header.Authorization"
        assert authorizer["authorizerResultTtlInSeconds"] == 120
        assert authorizer["authorizerUri"] == function.outputs["invokeArn"]
        assert re.fullmatch(authorizer["identityValidationExpression"], "Bearer aa.bb.cc")
        assert not re.fullmatch(authorizer["identityValidationExpression"], "Basic dXNlcjpwYXNz")

    def test_authorizer_environment(self, stack: CapturedStack) -> None:
        env = stack.one("aws:lambda/function:Function", "mta-authorizer-fn").inputs["environment"]["variables"]
        pool = stack.one("aws:cognito/userPool:UserPool")
        client = stack.one("aws:cognito/userPoolClient:UserPoolClient")
        issuer = f"https://cognito-idp.{REGION}.amazonaws.com/{pool.id}"
        assert env["ISSUER"] == issuer
        assert env["JWKS_URL"] == issuer + "/.well-known/jwks.json"
        assert env["CLIENT_ID"] == client.id
        assert env["TOKEN_USE"] == "id"
        assert env["TENANT_CLAIM"] == "custom:tenant_id"
        assert env["STAGE_NAME"] == "v1"
        assert env["API_EXECUTION_ARN"] == stack.one("aws:apigateway/restApi:RestApi").outputs["executionArn"]

    def test_every_integration_is_the_backend(self, stack: CapturedStack) -> None:
        backend = stack.one("aws:lambda/function:Function", "mta-backend-fn")
        integrations = stack.of_type("aws:apigateway/integration:Integration")
        assert len(integrations) == len(ROUTES)
        assert {i.inputs["type"] for i in integrations} == {"AWS_PROXY"}
        assert {i.inputs["uri"] for i in integrations} == {backend.outputs["invokeArn"]}

    def test_stage_throttling_logging_and_tracing(self, stack: CapturedStack) -> None:
        stage = stack.one("aws:apigateway/stage:Stage").inputs
        assert stage["xrayTracingEnabled"] is True
        logs = stack.one("aws:cloudwatch/logGroup:LogGroup", "api-access-logs")
        assert stage["accessLogSettings"]["destinationArn"] == logs.outputs["arn"]
        assert logs.inputs["retentionInDays"] == 30
        log_format = json.loads(stage["accessLogSettings"]["format"])
        assert log_format["tenantId"] == "$context.authorizer.tenantId"
        assert log_format["apiKeyId"] == "$context.identity.apiKeyId"
        assert log_format["status"] == "$context.status"
        settings = stack.one("aws:apigateway/methodSettings:MethodSettings").inputs
        assert settings["methodPath"] == "*/*"
        assert settings["settings"]["throttlingRateLimit"] == 100
        assert settings["settings"]["throttlingBurstLimit"] == 200
        assert settings["settings"]["metricsEnabled"] is True

    def test_id_token_stacks_have_no_trigger_and_no_machine_clients(self, stack: CapturedStack) -> None:
        pool = stack.one("aws:cognito/userPool:UserPool").inputs
        assert "lambdaConfig" not in pool and "userPoolTier" not in pool
        assert stack.of_type("aws:cognito/resourceServer:ResourceServer") == []
        assert stack.one("serverless-patterns:index:MultiTenantApi").component_outputs["machineClientIds"] == {}

    def test_tier_limits_up_to_the_stage_throttle_are_accepted(self) -> None:
        stack = build(stage_throttle={"rate_limit": 300, "burst_limit": 600},
                      tiers={"trial": {"rate_limit": 300, "burst_limit": 600}}, tenants=[])
        plan = stack.one("aws:apigateway/usagePlan:UsagePlan").inputs
        assert plan["throttleSettings"] == {"rateLimit": 300, "burstLimit": 600}

    def test_deployment_changes_with_integration_uris_and_authorizer_targets(self, stack: CapturedStack) -> None:
        # Another component name means other backend and authorizer functions, so other integration
        # URIs and authorizer URIs: the stage must get a new deployment.
        other = run_callable(lambda: MultiTenantApi("mtb", copy.deepcopy(BASE)), config=CONFIG)
        uris = {i.inputs["uri"] for i in stack.of_type("aws:apigateway/integration:Integration")}
        other_uris = {i.inputs["uri"] for i in other.of_type("aws:apigateway/integration:Integration")}
        assert uris.isdisjoint(other_uris)
        trigger = stack.one("aws:apigateway/deployment:Deployment").inputs["triggers"]
        assert trigger != other.one("aws:apigateway/deployment:Deployment").inputs["triggers"]

    def test_deployment_changes_with_method_flags(self, stack: CapturedStack,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
        route_args = MultiTenantApi._route_args

        def keyless(self: MultiTenantApi, *args: Any) -> tuple[dict[str, Any], dict[str, Any]]:
            method_args, integration_args = route_args(self, *args)
            return {**method_args, "api_key_required": False}, integration_args

        monkeypatch.setattr(MultiTenantApi, "_route_args", keyless)
        keyless = build()
        assert all(m.inputs["apiKeyRequired"] is False for m in keyless.of_type("aws:apigateway/method:Method"))
        assert (keyless.one("aws:apigateway/deployment:Deployment").inputs["triggers"]
                != stack.one("aws:apigateway/deployment:Deployment").inputs["triggers"])

    def test_deployment_waits_for_every_method_and_integration(self, stack: CapturedStack) -> None:
        deployment = stack.one("aws:apigateway/deployment:Deployment")
        wanted = {r.urn for r in stack.of_type("aws:apigateway/method:Method")
                  + stack.of_type("aws:apigateway/integration:Integration")}
        assert wanted <= set(deployment.dependencies)


class TestLeastPrivilege:
    def test_authorizer_reads_only_the_key_table(self, stack: CapturedStack) -> None:
        policy = policy_of(stack, "mta-authorizer")
        table = stack.one("aws:dynamodb/table:Table", "tenant-keys").outputs["arn"]
        assert statement(policy, "ReadTenantKeys") == {"Sid": "ReadTenantKeys", "Effect": "Allow",
                                                       "Action": "dynamodb:GetItem", "Resource": table}
        actions = [a for s in policy["Statement"] for a in ([s["Action"]] if isinstance(s["Action"], str)
                                                           else s["Action"])]
        assert not [a for a in actions if a.startswith("dynamodb:") and a != "dynamodb:GetItem"]

    def test_backend_touches_only_the_items_table(self, stack: CapturedStack) -> None:
        # Only through the tenant-data role (tests/multi_tenant_api/test_isolation.py has the rest).
        policy = json.loads(stack.one("aws:iam/rolePolicy:RolePolicy", "tenant-data-policy").inputs["policy"])
        items = stack.one("aws:dynamodb/table:Table", "items").outputs["arn"]
        assert statement(policy, "OwnTenantItemsOnly")["Resource"] == items
        assert "*" not in json.dumps(statement(policy, "OwnTenantItemsOnly"))

    def test_backend_reads_usage_of_its_tiers_plans_only(self, stack: CapturedStack) -> None:
        policy = json.loads(stack.one("aws:iam/rolePolicy:RolePolicy", "backend-usage-policy").inputs["policy"])
        (grant,) = policy["Statement"]
        assert grant["Action"] == "apigateway:GET"
        # API Gateway management ARNs are arn:aws:apigateway:<region>::<request path>
        # (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-control-access-using-iam-policies-to-create-and-manage-api.html);
        # GetUsage's path comes from API Gateway's own model.
        import botocore.session
        uri = botocore.session.get_session().get_service_model("apigateway").operation_model("GetUsage").http[
            "requestUri"]
        plans = sorted(p.id for p in stack.of_type("aws:apigateway/usagePlan:UsagePlan"))
        expected = sorted(f"arn:aws:apigateway:{REGION}::" + uri.replace("{usageplanId}", plan) for plan in plans)
        assert sorted(grant["Resource"]) == expected
        rows = [json.loads(secret(r.inputs["item"])) for r in stack.of_type("aws:dynamodb/tableItem:TableItem")]
        tier_plan = {p.inputs["tags"]["tier"]: p.id for p in stack.of_type("aws:apigateway/usagePlan:UsagePlan")}
        assert all(row["usagePlanId"]["S"] == tier_plan[row["tier"]["S"]] for row in rows)

    def test_invoke_permissions_are_scoped_to_this_api(self, stack: CapturedStack) -> None:
        execution_arn = stack.one("aws:apigateway/restApi:RestApi").outputs["executionArn"]
        authorizer_id = stack.one("aws:apigateway/authorizer:Authorizer").id
        permissions = {p.name: p.inputs for p in stack.of_type("aws:lambda/permission:Permission")}
        assert permissions["mta-authorizer-apigateway"]["sourceArn"] == f"{execution_arn}/authorizers/{authorizer_id}"
        assert permissions["mta-backend-api-invoke"]["sourceArn"] == f"{execution_arn}/v1/*/*"
        for permission in permissions.values():
            assert permission["principal"] == "apigateway.amazonaws.com"
            assert permission["sourceAccount"] == ACCOUNT


class TestAlarms:
    def test_4xx_5xx_and_throttled_alarms(self, stack: CapturedStack) -> None:
        alarms = {a.name: a.inputs for a in stack.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")}
        assert set(alarms) == {"mta-api-4xx-alarm", "mta-api-5xx-alarm", "mta-api-throttled-alarm"}
        api = stack.one("aws:apigateway/restApi:RestApi")
        assert alarms["mta-api-5xx-alarm"]["metricName"] == "5XXError"
        assert alarms["mta-api-5xx-alarm"]["dimensions"] == {"ApiName": api.outputs["name"], "Stage": "v1"}
        throttled = alarms["mta-api-throttled-alarm"]
        metric_filter = stack.one("aws:cloudwatch/logMetricFilter:LogMetricFilter", "mta-api-throttled-filter").inputs
        transformation = metric_filter["metricTransformation"]
        assert (throttled["namespace"], throttled["metricName"]) == (transformation["namespace"],
                                                                     transformation["name"])
        assert throttled["dimensions"] == {"ApiId": api.id, "Stage": "v1"}
        assert metric_filter["logGroupName"] == stack.one("aws:cloudwatch/logGroup:LogGroup",
                                                          "api-access-logs").outputs["name"]

    def test_the_throttle_filter_matches_429_access_log_lines_only(self) -> None:
        # The filter reads the access-log field the stage writes; render lines as API Gateway would.
        def line(status: int) -> dict[str, Any]:
            return json.loads(ACCESS_LOG_FORMAT.replace("$context.status", str(status)))
        from serverless_patterns.multi_tenant_api.args import THROTTLED_FILTER_PATTERN
        field, value = re.fullmatch(r'\{ \$\.(\w+) = "(\d+)" \}', THROTTLED_FILTER_PATTERN).groups()
        assert [s for s in (200, 401, 403, 429, 500) if line(s)[field] == value] == [429]


    def test_throttled_requests_are_counted_per_tenant(self, stack: CapturedStack) -> None:
        from serverless_patterns.multi_tenant_api.args import THROTTLED_BY_TENANT_FILTER_PATTERN
        metric_filter = stack.one("aws:cloudwatch/logMetricFilter:LogMetricFilter", "by-tenant").inputs
        transformation = metric_filter["metricTransformation"]
        assert transformation["name"] == "ThrottledRequestsByTenant"
        # CloudWatch Logs allows at most three dimensions per metric filter (PutMetricFilter).
        assert transformation["dimensions"] == {"ApiId": "$.apiId", "Stage": "$.stage", "TenantId": "$.tenantId"}
        log_format = json.loads(ACCESS_LOG_FORMAT)
        for value in transformation["dimensions"].values():
            assert value.removeprefix("$.") in log_format
        # The pattern: every `($.field op "value")` term joined by &&, evaluated on rendered log lines.
        terms = re.findall(r'\(\$\.(\w+) (=|!=) "([^"]*)"\)', THROTTLED_BY_TENANT_FILTER_PATTERN)
        assert len(terms) == THROTTLED_BY_TENANT_FILTER_PATTERN.count("&&") + 1

        def matches(line: dict[str, Any]) -> bool:
            return all((line[f] == v) == (op == "=") for f, op, v in terms)

        def line(status: int, tenant: str) -> dict[str, Any]:
            return json.loads(ACCESS_LOG_FORMAT.replace("$context.status", str(status))
                              .replace("$context.authorizer.tenantId", tenant))
        assert matches(line(429, "acme-corp"))
        assert not matches(line(429, "-")) and not matches(line(200, "acme-corp"))
        assert not matches(line(403, "globex"))


class TestQueryStringMode:
    def test_off_by_default(self, stack: CapturedStack) -> None:
        assert len(stack.of_type("aws:apigateway/restApi:RestApi")) == 1
        assert "legacyApiUrl" not in stack.one("serverless-patterns:index:MultiTenantApi").component_outputs

    def test_legacy_api_uses_a_request_authorizer_on_the_query_string(self, legacy_stack: CapturedStack) -> None:
        legacy = legacy_stack.one("aws:apigateway/restApi:RestApi", "legacy")
        assert legacy.inputs["apiKeySource"] == "AUTHORIZER"
        authorizer = legacy_stack.one("aws:apigateway/authorizer:Authorizer", "legacy")
        assert authorizer.inputs["type"] == "REQUEST"
        assert authorizer.inputs["identitySource"] == "method.request.querystring.api_key"
        methods = [m for m in legacy_stack.of_type("aws:apigateway/method:Method") if "legacy" in m.name]
        assert len(methods) == len(ROUTES)
        assert all(m.inputs["authorizerId"] == authorizer.id and m.inputs["apiKeyRequired"] for m in methods)
        function = legacy_stack.one("aws:lambda/function:Function", "legacy-authorizer-fn").inputs
        assert function["handler"] == "app.query_string_handler"

    def test_legacy_stage_is_metered_on_the_same_plans(self, legacy_stack: CapturedStack) -> None:
        api_ids = {a.id for a in legacy_stack.of_type("aws:apigateway/restApi:RestApi")}
        for plan in legacy_stack.of_type("aws:apigateway/usagePlan:UsagePlan"):
            assert {s["apiId"] for s in plan.inputs["apiStages"]} == api_ids

    def test_legacy_authorizer_may_only_query_the_key_hash_index(self, legacy_stack: CapturedStack) -> None:
        policy = policy_of(legacy_stack, "legacy-authorizer")
        table = legacy_stack.one("aws:dynamodb/table:Table", "tenant-keys").outputs["arn"]
        assert statement(policy, "FindKeyOwner")["Action"] == "dynamodb:Query"
        assert statement(policy, "FindKeyOwner")["Resource"] == f"{table}/index/{KEY_HASH_INDEX}"

    def test_legacy_api_has_its_own_logs_and_alarms(self, legacy_stack: CapturedStack) -> None:
        outputs = legacy_stack.one("serverless-patterns:index:MultiTenantApi").component_outputs
        assert outputs["legacyApiUrl"].endswith("/v1")
        assert len(legacy_stack.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")) == 6


class TestOutputs:
    def test_outputs_never_contain_key_values(self, stack: CapturedStack) -> None:
        outputs = stack.one("serverless-patterns:index:MultiTenantApi").component_outputs
        values = {k.outputs["value"] for k in stack.of_type("aws:apigateway/apiKey:ApiKey")}
        assert not any(v in json.dumps(outputs, default=str) for v in values)
        assert outputs["hostedUiUrl"] == f"https://tenant-api-test.auth.{REGION}.amazoncognito.com"
        assert set(outputs["apiKeyIds"]) == {"acme-corp", "globex", "initech"}
        assert set(outputs["usagePlanIds"]) == {"trial", "business"}


def tier(**overrides: Any) -> dict[str, Any]:
    return {"trial": {"rate_limit": 10, "burst_limit": 2, **overrides}}


BAD_INPUTS = [
    pytest.param({"tenants": [{"id": "", "tier": "trial"}]}, "tenants[0].id", id="empty-tenant-id"),
    pytest.param({"tenants": [{"tier": "trial"}]}, "tenants[0].id", id="missing-tenant-id"),
    pytest.param({"tenants": [{"id": "Acme", "tier": "trial"}]}, "tenants[0].id", id="uppercase-tenant-id"),
    pytest.param({"tenants": [{"id": "acme corp", "tier": "trial"}]}, "tenants[0].id", id="space-in-tenant-id"),
    pytest.param({"tenants": [{"id": "-acme", "tier": "trial"}]}, "tenants[0].id", id="leading-hyphen"),
    pytest.param({"tenants": [{"id": "ab", "tier": "trial"}]}, "tenants[0].id", id="too-short"),
    pytest.param({"tenants": [{"id": "a" * 65, "tier": "trial"}]}, "tenants[0].id", id="too-long"),
    pytest.param({"tenants": [{"id": "acme", "tier": "trial"}, {"id": "acme", "tier": "business"}]},
                 "tenants[1].id", id="duplicate-tenant"),
    pytest.param({"tenants": [{"id": "acme", "tier": "gold"}]}, "tenants[0].tier", id="undefined-tier"),
    pytest.param({"tenants": [{"id": "acme", "tier": "trial", "plan": "x"}]}, "tenants[0].plan", id="unknown-key"),
    pytest.param({"tenants": [{"id": f"t{i:05d}", "tier": "trial"} for i in range(MAX_API_KEYS + 1)]}, "tenants",
                 id="over-the-key-limit"),
    pytest.param({"tiers": {}}, "tiers", id="no-tiers"),
    pytest.param({"tiers": tier(rate_limit=0)}, "tiers.trial.rate_limit", id="zero-rate"),
    pytest.param({"tiers": tier(rate_limit=-1)}, "tiers.trial.rate_limit", id="negative-rate"),
    pytest.param({"tiers": tier(burst_limit=0)}, "tiers.trial.burst_limit", id="zero-burst"),
    pytest.param({"tiers": tier(burst_limit=2.5)}, "tiers.trial.burst_limit", id="fractional-burst"),
    pytest.param({"tiers": {"trial": {"burst_limit": 2}}}, "tiers.trial.rate_limit", id="missing-rate"),
    pytest.param({"tiers": tier(quota={"limit": 0, "period": "DAY"})}, "tiers.trial.quota.limit", id="zero-quota"),
    pytest.param({"tiers": tier(quota={"limit": -5, "period": "DAY"})}, "tiers.trial.quota.limit",
                 id="negative-quota"),
    pytest.param({"tiers": tier(quota={"limit": 5, "period": "HOUR"})}, "tiers.trial.quota.period",
                 id="bad-period"),
    pytest.param({"tiers": tier(quota={"limit": 5, "period": "DAY", "offset": 1})}, "tiers.trial.quota.offset",
                 id="quota-offset-is-not-supported"),
    pytest.param({"tiers": tier(method_throttles={"GET /nope": {"rate_limit": 1, "burst_limit": 1}})},
                 "tiers.trial.method_throttles", id="unknown-route"),
    pytest.param({"tiers": tier(method_throttles={"GET /items": {"rate_limit": 0, "burst_limit": 1}})},
                 "tiers.trial.method_throttles.GET /items.rate_limit", id="zero-method-rate"),
    pytest.param({"tiers": {"Gold Tier": {"rate_limit": 1, "burst_limit": 1}}}, "tiers", id="bad-tier-name"),
    pytest.param({"tiers": {f"t{i}": {"rate_limit": 1, "burst_limit": 1} for i in range(301)}}, "tiers",
                 id="over-the-usage-plan-limit"),
    pytest.param({"domain_prefix": None}, "domain_prefix", id="missing-domain"),
    pytest.param({"domain_prefix": "Tenant_API"}, "domain_prefix", id="bad-domain"),
    pytest.param({"domain_prefix": "my-cognito-login"}, "domain_prefix", id="reserved-domain-word"),
    pytest.param({"callback_urls": []}, "callback_urls", id="no-callbacks"),
    pytest.param({"callback_urls": ["http://app.example.org/cb"]}, "callback_urls", id="plain-http-callback"),
    pytest.param({"stage_name": "v 1"}, "stage_name", id="bad-stage"),
    pytest.param({"stage_throttle": {"rate_limit": 0, "burst_limit": 1}}, "stage_throttle.rate_limit",
                 id="zero-stage-rate"),
    pytest.param({"authorizer_ttl_seconds": 3601}, "authorizer_ttl_seconds", id="ttl-too-long"),
    pytest.param({"token_use": "refresh"}, "token_use", id="bad-token-use"),
    # Client-credentials grants issue access tokens only: machine clients need token_use access.
    pytest.param({"tenants": [{"id": "acme-corp", "tier": "trial", "machine_scopes": ["items.read"]}]},
                 "tenants[0].machine_scopes", id="machine-client-with-id-tokens"),
    pytest.param({"token_use": "access", "tenants": [{"id": "acme-corp", "tier": "trial",
                                                      "machine_scopes": ["items.admin"]}]},
                 "tenants[0].machine_scopes", id="unknown-scope"),
    # The stage throttle caps every method for all tenants together: a tier above it is unreachable.
    pytest.param({"tiers": tier(rate_limit=200), "tenants": []}, "tiers.trial.rate_limit",
                 id="tier-rate-above-stage"),
    pytest.param({"tiers": tier(burst_limit=201), "tenants": []}, "tiers.trial.burst_limit",
                 id="tier-burst-above-stage"),
    pytest.param({"tiers": tier(method_throttles={"POST /items": {"rate_limit": 150, "burst_limit": 1}}),
                  "tenants": []}, "tiers.trial.method_throttles.POST /items.rate_limit",
                 id="method-rate-above-stage"),
    pytest.param({"token_validity_minutes": 2}, "token_validity_minutes", id="short-tokens"),
    pytest.param({"query_string_parameter": "api key"}, "query_string_parameter", id="bad-query-parameter"),
    pytest.param({"alarms": {"period_seconds": 90}}, "alarms.period_seconds", id="alarm-period"),
    pytest.param({"alarms": {"actions": ["topic"]}}, "alarms.actions", id="alarm-action-not-an-arn"),
    pytest.param({"tiers_typo": {}}, "tiers_typo", id="unknown-arg"),
]


@pytest.mark.parametrize(("overrides", "field"), BAD_INPUTS)
def test_bad_input_is_a_clear_construction_error(overrides: dict[str, Any], field: str) -> None:
    args = {**copy.deepcopy(BASE), **overrides}
    if overrides.get("tenants") is not None and "tiers" not in overrides:
        args["tiers"] = {**args["tiers"]}
    with pytest.raises(ComponentArgsError) as raised:
        run_callable(lambda: MultiTenantApi("mta", args), config=CONFIG)
    assert raised.value.component == "MultiTenantApi"
    assert raised.value.field == field
    assert str(raised.value).startswith(f"MultiTenantApi: invalid value for '{field}'")


def test_the_policy_pack_finds_nothing(stack: CapturedStack, legacy_stack: CapturedStack) -> None:
    from serverless_patterns.policies.runner import run

    for planned in (stack, legacy_stack):
        analysis = run(planned)
        assert [str(v) for v in analysis.violations] == []
        assert analysis.suppressed == []
