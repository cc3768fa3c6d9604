"""Stack config read from the Args types: keys, camelCase names, requiredness and kinds come from the TypedDicts."""

import pytest

from serverless_patterns.core.config import STACK_WIDE, ConfigError, camel, load_args
from serverless_patterns.glacier_restore.args import GlacierRestoreArgs
from serverless_patterns.multi_tenant_api.args import MultiTenantApiArgs
from serverless_patterns.progress_tracker.args import ProgressTrackerArgs

TIERS = {"standard": {"rateLimit": 10, "burstLimit": 20, "quota": {"limit": 1000, "period": "DAY"},
                      "methodThrottles": {"POST /items": {"rateLimit": 2.5, "burstLimit": 4}}}}
API = {"tiers": TIERS, "domainPrefix": "acme", "callbackUrls": ["https://app.example.org/cb"],
       "tenants": [{"id": "acme-corp", "tier": "standard"}], "alarms": {"actions": ["arn:aws:sns:eu-west-1:1:t"]}}


def test_nested_sections_become_snake_case_args() -> None:
    args = load_args("patterns.multiTenantApi", {"enabled": True, **API}, MultiTenantApiArgs)
    assert args == {
        "tiers": {"standard": {"rate_limit": 10, "burst_limit": 20, "quota": {"limit": 1000, "period": "DAY"},
                               "method_throttles": {"POST /items": {"rate_limit": 2.5, "burst_limit": 4}}}},
        "domain_prefix": "acme", "callback_urls": ["https://app.example.org/cb"],
        "tenants": [{"id": "acme-corp", "tier": "standard"}], "alarms": {"actions": ["arn:aws:sns:eu-west-1:1:t"]}}


def test_every_args_field_is_a_config_key_except_the_stack_wide_ones() -> None:
    for args_type in (GlacierRestoreArgs, ProgressTrackerArgs, MultiTenantApiArgs):
        for field in args_type.__annotations__:
            if field in STACK_WIDE:
                with pytest.raises(ConfigError, match="no such key"):
                    load_args("p", {camel(field): {}}, args_type)


@pytest.mark.parametrize(("section", "path", "allowed"), [
    ({**API, "tiers": {"standard": {"rateLimt": 1}}}, "p.tiers.standard.rateLimt", "no such key"),
    ({**API, "tiers": {"standard": {"burstLimit": "20"}}}, "p.tiers.standard.burstLimit", "a whole number"),
    ({**API, "tenants": [{"id": "a", "tier": "standard"}, {"id": 7}]}, "p.tenants[1].id", "a string"),
    ({**API, "tenants": {"id": "a"}}, "p.tenants", "a list"),
    ({k: v for k, v in API.items() if k != "domainPrefix"}, "p.domainPrefix", "a value is required"),
    ({**API, "queryStringKeys": "yes"}, "p.queryStringKeys", "true or false"),
])
def test_errors_name_the_config_path(section: dict, path: str, allowed: str) -> None:
    with pytest.raises(ConfigError) as error:
        load_args("p", section, MultiTenantApiArgs)
    assert error.value.field == path
    assert allowed in error.value.allowed
