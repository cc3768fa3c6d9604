"""`from_config`: the dev stack's section builds, and config mistakes name their config path."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from serverless_patterns.core.args import ComponentArgsError
from serverless_patterns.core.config import ConfigError, StackConfig
from serverless_patterns.multi_tenant_api import MultiTenantApi, from_config
from serverless_patterns.offline import CapturedStack, run_callable

ROOT = Path(__file__).resolve().parents[2]
DEV = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())["config"]
SECTION: dict[str, Any] = DEV["serverless-patterns:patterns"]["multiTenantApi"]
CONFIG = {"aws:region": DEV["aws:region"], "aws:allowedAccountIds": json.dumps(DEV["aws:allowedAccountIds"])}
STACK = StackConfig(project="serverless-patterns", stack="dev", tags={"team": "research-it"},
                    function_settings={"log_retention_days": 14})


def build(section: dict[str, Any]) -> CapturedStack:
    components: list[MultiTenantApi] = []
    stack = run_callable(lambda: components.append(from_config("tenant-api", section, STACK)), config=CONFIG)
    assert components
    return stack


@pytest.fixture(scope="module")
def dev() -> CapturedStack:
    return build(SECTION)


def test_dev_section_has_the_seed_posts_trial_tier(dev: CapturedStack) -> None:
    trial = dev.one("aws:apigateway/usagePlan:UsagePlan", "tier-trial").inputs
    assert trial["throttleSettings"] == {"rateLimit": 10, "burstLimit": 2}
    assert trial["quotaSettings"] == {"limit": 5, "period": "DAY"}


def test_dev_section_maps_every_key(dev: CapturedStack) -> None:
    assert len(dev.of_type("aws:apigateway/usagePlan:UsagePlan")) == len(SECTION["tiers"])
    assert len(dev.of_type("aws:apigateway/apiKey:ApiKey")) == len(SECTION["tenants"])
    assert dev.one("aws:cognito/userPoolDomain:UserPoolDomain").inputs["domain"] == SECTION["domainPrefix"]
    client = dev.one("aws:cognito/userPoolClient:UserPoolClient").inputs
    assert client["callbackUrls"] == SECTION["callbackUrls"]
    assert client["logoutUrls"] == SECTION["logoutUrls"]
    authorizer = dev.one("aws:apigateway/authorizer:Authorizer", "tenant-api-api-authorizer").inputs
    assert authorizer["authorizerResultTtlInSeconds"] == SECTION["authorizerTtlSeconds"]
    business = dev.one("aws:apigateway/usagePlan:UsagePlan", "tier-business").inputs
    assert business["apiStages"][0]["throttles"] == [{"path": "/items/POST", "rateLimit": 50, "burstLimit": 100}]
    settings = dev.one("aws:apigateway/methodSettings:MethodSettings",
                       "tenant-api-api-method-settings").inputs["settings"]
    stage = SECTION["stageThrottle"]
    assert (settings["throttlingRateLimit"], settings["throttlingBurstLimit"]) == (stage["rateLimit"],
                                                                                 stage["burstLimit"])
    # every tier's limits are reachable: none above the stage's aggregate ceiling
    assert all(t["rateLimit"] <= stage["rateLimit"] and t["burstLimit"] <= stage["burstLimit"]
               for t in SECTION["tiers"].values())
    # Stack-wide settings reach the component: tags and Lambda settings.
    assert dev.one("aws:apigateway/restApi:RestApi", "tenant-api-api").inputs["tags"]["team"] == "research-it"
    assert dev.one("aws:cloudwatch/logGroup:LogGroup", "tenant-api-api-access-logs").inputs["retentionInDays"] == 14


def with_change(path: list[Any], value: Any) -> dict[str, Any]:
    section = copy.deepcopy(SECTION)
    target = section
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return section


@pytest.mark.parametrize(("section", "field"), [
    (with_change(["tierz"], {}), "patterns.multiTenantApi.tierz"),
    (with_change(["tiers", "trial", "rate"], 10), "patterns.multiTenantApi.tiers.trial.rate"),
    (with_change(["tiers", "trial", "quota", "every"], "DAY"), "patterns.multiTenantApi.tiers.trial.quota.every"),
    (with_change(["tiers", "business", "methodThrottles", "POST /items", "rps"], 1),
     "patterns.multiTenantApi.tiers.business.methodThrottles.POST /items.rps"),
    (with_change(["tenants", 0, "plan"], "gold"), "patterns.multiTenantApi.tenants[0].plan"),
    (with_change(["tenants"], {"acme": "trial"}), "patterns.multiTenantApi.tenants"),
    (with_change(["stageThrottle", "rate"], 1), "patterns.multiTenantApi.stageThrottle.rate"),
    (with_change(["alarms", "threshold"], 1), "patterns.multiTenantApi.alarms.threshold"),
    ({k: v for k, v in SECTION.items() if k != "domainPrefix"}, "patterns.multiTenantApi.domainPrefix"),
])
def test_config_mistakes_name_the_config_path(section: dict[str, Any], field: str) -> None:
    with pytest.raises(ConfigError) as raised:
        run_callable(lambda: from_config("tenant-api", section, STACK), config=CONFIG)
    assert raised.value.field == field


def test_value_errors_come_from_the_component() -> None:
    with pytest.raises(ComponentArgsError) as raised:
        run_callable(lambda: from_config("tenant-api", with_change(["tenants", 1, "tier"], "gold"), STACK),
                     config=CONFIG)
    assert (raised.value.component, raised.value.field) == ("MultiTenantApi", "tenants[1].tier")
