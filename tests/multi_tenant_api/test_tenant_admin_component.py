"""MultiTenantApi with `tenant_admin`: the admin API, the lifecycle workflow and its functions, as planned."""

from __future__ import annotations

import json
from typing import Any

import pytest

from serverless_patterns.core.args import ComponentArgsError
from serverless_patterns.multi_tenant_api.args import ADMIN_ROUTES, MAX_API_KEYS
from serverless_patterns.offline import CapturedStack

from .test_component import build


@pytest.fixture(scope="module")
def admin_stack() -> CapturedStack:
    return build(tenant_admin={"auth": "cognito", "api_key_ceiling": 9000})


@pytest.fixture(scope="module")
def iam_stack() -> CapturedStack:
    return build(tenant_admin={"auth": "iam"})


def statements(stack: CapturedStack, name: str) -> list[dict[str, Any]]:
    policy = stack.one("aws:iam/rolePolicy:RolePolicy", name).inputs["policy"]
    document = json.loads(policy) if isinstance(policy, str) else policy
    return list(document["Statement"])


def test_admin_routes_are_on_their_own_api_behind_the_admin_group(admin_stack: CapturedStack) -> None:
    admin_api = admin_stack.one("aws:apigateway/restApi:RestApi", "admin-api")
    methods = [m for m in admin_stack.of_type("aws:apigateway/method:Method") if m.name.startswith("mta-admin-api-")]
    assert len(methods) == len(ADMIN_ROUTES)
    authorizer = admin_stack.one("aws:apigateway/authorizer:Authorizer", "admin-api-authorizer")
    assert all(m.inputs["authorization"] == "CUSTOM" and m.inputs["authorizerId"] == authorizer.id
               and m.inputs["restApi"] == admin_api.id and not m.inputs.get("apiKeyRequired") for m in methods)
    group = admin_stack.one("aws:cognito/userGroup:UserGroup").inputs
    assert group["name"] == "tenant-admins"
    function = admin_stack.one("aws:lambda/function:Function", "admin-authorizer").inputs
    assert function["handler"] == "app.admin_handler"
    assert function["environment"]["variables"]["ADMIN_GROUP"] == "tenant-admins"
    # admin calls are not metered: the usage plans name only the tenant API's stage
    for plan in admin_stack.of_type("aws:apigateway/usagePlan:UsagePlan"):
        assert [s["apiId"] for s in plan.inputs["apiStages"]] != [admin_api.id]


def test_iam_mode_signs_requests_and_has_no_admin_authorizer(iam_stack: CapturedStack) -> None:
    methods = [m for m in iam_stack.of_type("aws:apigateway/method:Method") if m.name.startswith("mta-admin-api-")]
    assert {m.inputs["authorization"] for m in methods} == {"AWS_IAM"}
    assert not iam_stack.of_type("aws:cognito/userGroup:UserGroup")

def test_the_admin_functions_environment_does_not_grow_with_the_config_tenants() -> None:
    """Lambda allows 4 KB of environment variables in aggregate (Lambda quotas,
    https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html): a list of the config tenants there
    failed CreateFunction from about 300 tenants on. Ten times the tenants, the same environment size."""
    def admin_environment(count: int) -> int:
        tenants = [{"id": f"tenant-{i:04d}", "tier": "trial"} for i in range(count)]
        variables = build(tenants=tenants, tenant_admin={"auth": "iam"}).one(
            "aws:lambda/function:Function", "mta-admin").inputs["environment"]["variables"]
        return len(json.dumps(variables))

    assert admin_environment(3) == admin_environment(30)


def test_lifecycle_role_is_scoped_to_the_plans_pool_table_and_steps(admin_stack: CapturedStack) -> None:
    found = statements(admin_stack, "lifecycle-policy")
    by_sid_steps = {s["Sid"]: s for s in statements(admin_stack, "tenant-steps-policy")}
    by_sid = {s["Sid"]: s for s in found}
    plans = [p.id for p in admin_stack.of_type("aws:apigateway/usagePlan:UsagePlan")]
    assert sorted(by_sid_steps["JoinPlans"]["Resource"]) == sorted(
        f"arn:aws:apigateway:eu-west-1::/usageplans/{p}/keys" for p in plans)
    assert by_sid["FirstUsers"]["Resource"] == admin_stack.one("aws:cognito/userPool:UserPool").outputs["arn"]
    assert all("*" not in str(s["Action"]) for s in found)
    wildcard = [s["Sid"] for s in found if s.get("Resource") == "*"]
    assert sorted(wildcard) == ["LogDelivery", "XRayTracing"]
    machine = admin_stack.one("aws:sfn/stateMachine:StateMachine").inputs
    assert machine["loggingConfiguration"]["level"] == "ALL"
    assert machine["tracingConfiguration"]["enabled"] is True
    alarm = admin_stack.one("aws:cloudwatch/metricAlarm:MetricAlarm", "lifecycle-failed-alarm").inputs
    assert alarm["dimensions"] == {"StateMachineArn": admin_stack.one("aws:sfn/stateMachine:StateMachine").outputs[
        "arn"]} and alarm["metricName"] == "ExecutionsFailed"


def test_steps_function_may_create_only_runtime_tagged_keys(admin_stack: CapturedStack) -> None:
    by_sid = {s["Sid"]: s for s in statements(admin_stack, "tenant-steps-policy")}
    assert by_sid["CreateRuntimeKeys"]["Condition"] == {"StringEquals": {"aws:RequestTag/managed_by": "runtime",
                                                                         "aws:RequestTag/component": "mta"}}
    # CreateApiKey with tags is also authorized as tagging: apigateway:PUT on /tags/<URL-encoded ARN of the new key,
    # id *> (API Gateway developer guide, "Using tags to control access to API Gateway REST API resources"; an
    # AccessDenied on `/tags/arn%3Aaws%3Aapigateway%3Aus-east-1%3A%3A%2Frestapis%2F*` is what creating a tagged
    # REST API without it answers: mattclay/aws-terminator pull request 284). Nothing else may be tagged.
    tagging = by_sid["TagRuntimeKeysOnCreate"]
    region = admin_stack.one("aws:apigateway/restApi:RestApi", "admin-api").outputs["executionArn"].split(":")[3]
    assert (tagging["Action"], tagging["Resource"]) == (
        "apigateway:PUT", f"arn:aws:apigateway:{region}::/tags/arn%3Aaws%3Aapigateway%3A{region}%3A%3A%2Fapikeys%2F*")
    assert tagging["Condition"] == by_sid["CreateRuntimeKeys"]["Condition"]


def test_lifecycle_role_disables_and_deletes_only_this_components_runtime_keys(admin_stack: CapturedStack) -> None:
    """PATCH/DELETE on /apikeys/* carry the resource-tag condition; the tags are the ones tenant-steps sets."""
    from serverless_patterns.lambdas.multi_tenant_api.tenant_steps import app as steps_app

    by_sid = {s["Sid"]: s for s in statements(admin_stack, "lifecycle-policy")}
    destructive = [s for s in by_sid.values() if {"apigateway:PATCH", "apigateway:DELETE"} & set(
        [s["Action"]] if isinstance(s["Action"], str) else s["Action"]) and "/apikeys/" in str(s["Resource"])]
    assert [s["Sid"] for s in destructive] == ["EnableDisableDeleteKeys"]
    assert destructive[0]["Condition"] == {"StringEquals": {"aws:ResourceTag/managed_by": "runtime",
                                                            "aws:ResourceTag/component": "mta"}}
    # The key tenant-steps creates (as the function is configured) carries exactly the tags the role requires.
    env = admin_stack.one("aws:lambda/function:Function", "tenant-steps").inputs["environment"]["variables"]
    created: dict[str, Any] = {}

    class Gateway:
        def get_api_keys(self, **_: Any) -> dict[str, Any]:
            return {"items": []}

        def create_api_key(self, **kwargs: Any) -> dict[str, Any]:
            created.update(kwargs)
            return {"id": "k1", "value": "v" * 40}

    steps = steps_app.Steps("keys", "items", env["KEY_NAME_PREFIX"], apigateway=Gateway(), dynamodb=object(),
                            component=env["COMPONENT_NAME"])
    steps._new_key("rt-acme", set())
    required = {k.split("/", 1)[1]: v for k, v in destructive[0]["Condition"]["StringEquals"].items()}
    assert required.items() <= created["tags"].items()


def test_machine_clients_steps_are_granted_on_the_pool_and_clients_table_only() -> None:
    stack = build(token_use="access", tenant_admin={"auth": "cognito"})
    by_sid = {s["Sid"]: s for s in statements(stack, "tenant-steps-policy")}
    pool = stack.one("aws:cognito/userPool:UserPool").outputs["arn"]
    assert by_sid["RuntimeMachineClients"]["Resource"] == pool
    table = stack.one("aws:dynamodb/table:Table", "machine-clients").outputs["arn"]
    assert by_sid["RegisterMachineClients"]["Resource"] == table
    admin = {s["Sid"]: s for s in statements(stack, "admin-policy")}
    assert admin["ReadMachineClient"]["Action"] == "cognito-idp:DescribeUserPoolClient"
    definition = json.loads(stack.one("aws:sfn/stateMachine:StateMachine").inputs["definition"])
    assert {"OnboardMachineClient", "RollbackMachineClient", "DeleteMachineClient"} <= set(definition["States"])


@pytest.mark.parametrize(("admin", "field", "fragment"), [
    ({"auth": "saml"}, "tenant_admin.auth", "cognito"),
    ({"runtime_id_prefix": "Acme_"}, "tenant_admin.runtime_id_prefix", "lowercase"),
    ({"runtime_id_prefix": "acme"}, "tenants[0].id", "run-time prefix"),
    ({"api_key_ceiling": MAX_API_KEYS + 1}, "tenant_admin.api_key_ceiling", "10000"),
    ({"api_key_ceiling": 3}, "tenant_admin.api_key_ceiling", "3 config tenants"),
    ({"rotation_overlap_seconds": 30}, "tenant_admin.rotation_overlap_seconds", "420"),
    ({"admin_group": "bad group"}, "tenant_admin.admin_group", "group"),
])
def test_bad_admin_settings_are_refused_with_the_field(admin: dict[str, Any], field: str, fragment: str) -> None:
    with pytest.raises(ComponentArgsError) as error:
        build(tenant_admin=admin)
    assert field in str(error.value) and fragment in str(error.value)
