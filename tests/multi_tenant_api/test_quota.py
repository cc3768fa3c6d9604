"""Usage plans as API Gateway receives them.

API Gateway meters throttling and quotas per API key of a usage plan ("Usage plans and API keys for REST
APIs in API Gateway", https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-api-usage-plans.html):
so each tenant needs its own key, on exactly one plan of the stage, and each plan must be a CreateUsagePlan
request API Gateway accepts (botocore's service model: `ThrottleSettings`, `QuotaSettings`, the
`QuotaPeriodType` enum). moto stores plans and keys but enforces neither, so these tests check what the
component emits against that contract and round-trip it through moto's API; they do not simulate traffic.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.validate import ParamValidator
from moto import mock_aws

from serverless_patterns.offline import CapturedStack

from .test_config import SECTION, build

APIGATEWAY = botocore.session.get_session().get_service_model("apigateway")


@pytest.fixture(scope="module")
def dev() -> CapturedStack:
    section = copy.deepcopy(SECTION)
    section["tenants"] = [*section["tenants"], {"id": "hooli", "tier": "trial"}]
    return build(section)


@pytest.fixture
def apigateway() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("apigateway", region_name="eu-west-1")


def _whole(value: Any) -> Any:
    """Numbers reach the engine as floats (protobuf); the provider sends integral ones as integers."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _whole(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_whole(v) for v in value]
    return value


def create_usage_plan_request(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    """The CreateUsagePlan call the provider makes for a `UsagePlan`'s inputs (the registry's documented mapping:
    throttleSettings -> throttle, quotaSettings -> quota, apiStages[].throttles -> throttle by path)."""
    inputs = _whole(inputs)
    request: dict[str, Any] = {"name": inputs.get("name", name), "description": inputs["description"],
                               "tags": inputs["tags"]}
    if "throttleSettings" in inputs:
        request["throttle"] = inputs["throttleSettings"]
    if "quotaSettings" in inputs:
        request["quota"] = inputs["quotaSettings"]
    request["apiStages"] = [
        {"apiId": s["apiId"], "stage": s["stage"],
         **({"throttle": {t["path"]: {"burstLimit": t["burstLimit"], "rateLimit": t["rateLimit"]}
                          for t in s["throttles"]}} if s.get("throttles") else {})}
        for s in inputs["apiStages"]]
    return request


def plans(stack: CapturedStack) -> dict[str, dict[str, Any]]:
    return {p.id: create_usage_plan_request(p.name, p.inputs)
            for p in stack.of_type("aws:apigateway/usagePlan:UsagePlan")}


def test_the_seed_plan_is_the_dev_trial_tier(dev: CapturedStack) -> None:
    plan = dev.one("aws:apigateway/usagePlan:UsagePlan", "tier-trial").inputs
    assert plan["quotaSettings"] == {"limit": 5, "period": "DAY"}
    assert plan["throttleSettings"] == {"rateLimit": 10, "burstLimit": 2}


def test_every_plan_is_a_create_usage_plan_request_api_gateway_accepts(dev: CapturedStack, apigateway: Any) -> None:
    operation = APIGATEWAY.operation_model("CreateUsagePlan")
    periods = operation.input_shape.members["quota"].members["period"].enum
    api = dev.one("aws:apigateway/restApi:RestApi", "tenant-api-api").id
    for request in plans(dev).values():
        report = ParamValidator().validate(request, operation.input_shape)
        assert not report.has_errors(), report.generate_report()
        assert request["quota"]["period"] in periods and request["quota"]["limit"] >= 1
        assert "offset" not in request["quota"]  # the first period gets the whole quota
        assert request["throttle"]["rateLimit"] > 0 and request["throttle"]["burstLimit"] >= 1
        assert [(s["apiId"], s["stage"]) for s in request["apiStages"]] == [(api, "v1")]
        created = apigateway.create_usage_plan(**request)
        stored = apigateway.get_usage_plan(usagePlanId=created["id"])
        assert (stored["throttle"], stored["quota"]) == (request["throttle"], request["quota"])


def test_each_tenant_key_is_metered_on_exactly_one_plan_of_its_tier(dev: CapturedStack, apigateway: Any) -> None:
    """Two trial tenants: two keys, each on the trial plan, so each has its own 5-a-day quota."""
    plan_ids = {stack_id: apigateway.create_usage_plan(**request)["id"] for stack_id, request in plans(dev).items()}
    keys = {k.id: k for k in dev.of_type("aws:apigateway/apiKey:ApiKey")}
    key_ids = {stack_id: apigateway.create_api_key(name=k.inputs["name"], enabled=k.inputs["enabled"])["id"]
               for stack_id, k in keys.items()}
    for link in dev.of_type("aws:apigateway/usagePlanKey:UsagePlanKey"):
        apigateway.create_usage_plan_key(usagePlanId=plan_ids[link.inputs["usagePlanId"]],
                                         keyId=key_ids[link.inputs["keyId"]], keyType=link.inputs["keyType"])
    tier_of_plan = {plan_ids[p.id]: p.inputs["tags"]["tier"] for p in dev.of_type("aws:apigateway/usagePlan:UsagePlan")}
    plans_of_key: dict[str, list[str]] = {}
    for plan_id, tier in tier_of_plan.items():
        for item in apigateway.get_usage_plan_keys(usagePlanId=plan_id)["items"]:
            plans_of_key.setdefault(item["name"], []).append(tier)
    expected = {k.inputs["name"]: [k.inputs["tags"]["tier"]] for k in keys.values()}
    assert plans_of_key == expected
    assert expected["tenant-api-acme-corp"] == expected["tenant-api-hooli"] == ["trial"]
    assert all(k.inputs["enabled"] is True for k in keys.values())
