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


MAPPING = "an object (a mapping of keys to values)"


@pytest.mark.parametrize(("section", "path", "value", "allowed"), [
    ({**API, "tiers": {"standard": {"rateLimt": 1}}}, "p.tiers.standard.rateLimt", 1,
     "no such key; known keys are burstLimit, description, methodThrottles, quota, rateLimit"),
    ({**API, "tiers": {"standard": {"burstLimit": "20"}}}, "p.tiers.standard.burstLimit", "20", "a whole number"),
    ({**API, "tiers": {"standard": {"rateLimit": "fast"}}}, "p.tiers.standard.rateLimit", "fast", "a number"),
    ({**API, "tiers": ["standard"]}, "p.tiers", ["standard"], MAPPING),
    ({**API, "tenants": [{"id": "a", "tier": "standard"}, {"id": 7}]}, "p.tenants[1].id", 7, "a string"),
    ({**API, "tenants": {"id": "a"}}, "p.tenants", {"id": "a"}, "a list"),
    ({k: v for k, v in API.items() if k != "domainPrefix"}, "p.domainPrefix", None, "a value is required"),
    ({**API, "queryStringKeys": "yes"}, "p.queryStringKeys", "yes", "true or false"),
])
def test_errors_name_the_config_path_the_value_and_what_is_allowed(section: dict, path: str, value: object,
                                                                   allowed: str) -> None:
    with pytest.raises(ConfigError) as error:
        load_args("p", section, MultiTenantApiArgs)
    assert (error.value.field, error.value.value, error.value.allowed) == (path, value, allowed)


@pytest.mark.parametrize(("section", "path", "value", "allowed"), [
    # pulumi.Input[str] (a Union with Awaitable and Output): config gives the plain string, checked as one.
    ({"workflowArn": 7}, "p.workflowArn", 7, "a string"),
    ({"throttlingRateLimit": "x"}, "p.throttlingRateLimit", "x", "a number"),
    ({"requireToken": "yes"}, "p.requireToken", "yes", "true or false"),
])
def test_input_typed_and_scalar_fields_are_checked_as_their_plain_type(section: dict, path: str, value: object,
                                                                       allowed: str) -> None:
    with pytest.raises(ConfigError) as error:
        load_args("p", section, ProgressTrackerArgs)
    assert (error.value.field, error.value.value, error.value.allowed) == (path, value, allowed)


def test_an_absent_section_is_empty_args_and_a_non_mapping_section_is_refused_at_its_path() -> None:
    assert load_args("p", None, ProgressTrackerArgs) == {}
    assert load_args("p", {"workflowArn": "arn:aws:states:eu-west-1:111111111111:stateMachine:w"},
                     ProgressTrackerArgs) == {"workflow_arn": "arn:aws:states:eu-west-1:111111111111:stateMachine:w"}
    with pytest.raises(ConfigError) as error:
        load_args("p", ["workflowArn"], ProgressTrackerArgs)
    assert (error.value.field, error.value.value, error.value.allowed) == ("p", ["workflowArn"], MAPPING)
