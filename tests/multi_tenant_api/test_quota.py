"""The seed post's plan (quota 5/day, rate 10, burst 2) as a tier: the sixth call in a day is refused."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime

import pytest

from serverless_patterns.multi_tenant_api import MultiTenantApi
from serverless_patterns.offline import CapturedStack, run_callable

from .test_config import SECTION, build
from .usage_model import UsagePlanModel

DAY_START = datetime(2026, 11, 23, 8, 0, tzinfo=UTC).timestamp()


@pytest.fixture(scope="module")
def dev() -> CapturedStack:
    return build(SECTION)


def key_id(stack: CapturedStack, tenant: str) -> str:
    return stack.one("aws:apigateway/apiKey:ApiKey", f"tenant-{tenant}").id


def test_the_seed_plan_is_the_dev_trial_tier(dev: CapturedStack) -> None:
    plan = dev.one("aws:apigateway/usagePlan:UsagePlan", "tier-trial").inputs
    assert plan["quotaSettings"] == {"limit": 5, "period": "DAY"}
    assert plan["throttleSettings"] == {"rateLimit": 10, "burstLimit": 2}


def test_the_sixth_call_in_a_day_exceeds_the_quota(dev: CapturedStack) -> None:
    model = UsagePlanModel.from_stack(dev)
    acme = key_id(dev, "acme-corp")  # on the trial tier in the dev config
    answers = [model.request(acme, DAY_START + 60 * i) for i in range(6)]
    assert answers == [(200, "OK")] * 5 + [(429, "Limit Exceeded")]
    # The quota is per UTC day: the next day starts afresh.
    assert model.request(acme, DAY_START + 86400) == (200, "OK")


def test_a_burst_above_two_is_throttled_then_refills_at_ten_per_second(dev: CapturedStack) -> None:
    model = UsagePlanModel.from_stack(dev)
    acme = key_id(dev, "acme-corp")
    assert [model.request(acme, DAY_START) for _ in range(3)] == [(200, "OK"), (200, "OK"),
                                                                 (429, "Too Many Requests")]
    assert model.request(acme, DAY_START + 0.15) == (200, "OK")  # a token is back after 1/10 s


def test_quota_is_per_tenant_key_not_shared_by_the_tier() -> None:
    section = copy.deepcopy(SECTION)
    section["tenants"] = [{"id": "acme-corp", "tier": "trial"}, {"id": "hooli", "tier": "trial"}]
    stack = build(section)
    model = UsagePlanModel.from_stack(stack)
    acme, hooli = key_id(stack, "acme-corp"), key_id(stack, "hooli")
    for i in range(6):
        model.request(acme, DAY_START + i)
    assert model.request(acme, DAY_START + 10) == (429, "Limit Exceeded")
    assert model.request(hooli, DAY_START + 10) == (200, "OK")


def test_a_bigger_tier_allows_more(dev: CapturedStack) -> None:
    model = UsagePlanModel.from_stack(dev)
    globex = key_id(dev, "globex")  # standard tier
    assert all(model.request(globex, DAY_START + i)[0] == 200 for i in range(50))


def test_a_key_on_no_plan_is_refused() -> None:
    args = {"tiers": {"trial": {"rate_limit": 10, "burst_limit": 2, "quota": {"limit": 5, "period": "DAY"}}},
            "tenants": [], "domain_prefix": "tenant-api-quota", "callback_urls": ["https://app.example.org/cb"]}
    stack = run_callable(lambda: MultiTenantApi("mta", args),
                         config={"aws:region": "eu-west-1", "aws:allowedAccountIds": json.dumps(["111111111111"])})
    assert UsagePlanModel.from_stack(stack).request("unknown-key-id", DAY_START) == (403, "Forbidden")

