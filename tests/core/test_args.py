from collections.abc import Callable
from typing import Any

import pulumi
import pytest

from serverless_patterns.core.args import ComponentArgsError, Validator


@pytest.fixture
def v() -> Validator:
    return Validator("Thing")


def refusal(check: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[str, str, Any, str]:
    """(component, field, value, allowed) of the error a check raises."""
    with pytest.raises(ComponentArgsError) as raised:
        check(*args, **kwargs)
    error = raised.value
    assert str(error) == f"{error.component}: invalid value for '{error.field}': {error.value!r}. " \
                         f"Allowed: {error.allowed}."
    return error.component, error.field, error.value, error.allowed


def test_error_names_component_field_value_and_allowed(v: Validator) -> None:
    assert refusal(v.integer, "days", 0, minimum=1, maximum=30) == ("Thing", "days", 0, "a whole number from 1 to 30")


@pytest.mark.parametrize(("method", "value", "kwargs"), [
    ("integer", True, {}), ("integer", "3", {}), ("number", -1, {"minimum": 0}),
    ("number", 0, {"exclusive_minimum": 0}), ("number", True, {}), ("number", "1.5", {}), ("boolean", "yes", {}),
    ("email", "not-an-email", {}), ("email", "a@b", {}), ("email", 7, {}), ("account_id", "12345", {}),
    ("account_id", 111111111111, {}), ("region", "europe", {}), ("region", 1, {}), ("string", "", {}),
    ("string", "ab", {"pattern": r"\d+"}), ("string", 12, {}),
])
def test_bad_values_are_refused_naming_field_and_value(v: Validator, method: str, value: object, kwargs: dict) -> None:
    component, field, refused, _ = refusal(getattr(v, method), "f", value, **kwargs)
    assert (component, field, refused) == ("Thing", "f", value)


@pytest.mark.parametrize(("method", "value", "allowed"), [
    ("boolean", 1, "true or false"),
    ("email", "x", "an email address such as 'team@example.org'"),
    ("account_id", "1", "a 12-digit AWS account id as a string, e.g. '111111111111'"),
    ("region", "eu", "an AWS Region code such as 'eu-west-1'"),
    ("string", "", "a string of 1 to 1024 characters"),
    ("integer", 1.5, "a whole number"),
    ("number", "x", "a number"),
])
def test_each_check_says_what_is_allowed(v: Validator, method: str, value: object, allowed: str) -> None:
    assert refusal(getattr(v, method), "f", value)[3] == allowed


@pytest.mark.parametrize(("method", "value"), [
    ("email", "restores@research.example.org"), ("account_id", "111111111111"), ("region", "eu-west-1"),
    ("region", "us-gov-west-1"), ("integer", 7), ("boolean", False), ("number", 0.5), ("string", "a"),
    ("string", "x" * 1024), ("choice", "Bulk"),
])
def test_good_values_pass_through(v: Validator, method: str, value: object) -> None:
    extra = {"choices": ["Standard", "Bulk"]} if method == "choice" else {}
    assert getattr(v, method)("f", value, **extra) == value


def test_integer_bounds_are_inclusive_and_named(v: Validator) -> None:
    assert v.integer("days", 1, minimum=1, maximum=30) == 1
    assert v.integer("days", 30, minimum=1, maximum=30) == 30
    assert refusal(v.integer, "days", 31, minimum=1, maximum=30)[3] == "a whole number from 1 to 30"
    assert refusal(v.integer, "days", 0, minimum=1)[3] == "a whole number of at least 1"
    assert refusal(v.integer, "days", 6, maximum=5)[3] == "a whole number"


def test_number_bounds_and_their_description(v: Validator) -> None:
    assert v.number("rate", 0, minimum=0) == 0
    assert v.number("rate", 5, maximum=5) == 5
    assert v.number("rate", 0.001, exclusive_minimum=0) == 0.001
    assert refusal(v.number, "rate", 5.5, maximum=5)[3] == "a number <= 5"
    assert refusal(v.number, "rate", -1, minimum=0, exclusive_minimum=0, maximum=5)[3] == \
        "a number >= 0 and > 0 and <= 5"


def test_string_length_is_inclusive_and_the_pattern_is_named(v: Validator) -> None:
    assert v.string("name", "ab", min_len=2, max_len=3) == "ab"
    assert v.string("name", "abc", min_len=2, max_len=3) == "abc"
    assert refusal(v.string, "name", "a", min_len=2, max_len=3)[3] == "a string of 2 to 3 characters"
    assert refusal(v.string, "name", "abcd", min_len=2, max_len=3)[3] == "a string of 2 to 3 characters"
    assert refusal(v.string, "name", "x" * 1025)[3] == "a string of 1 to 1024 characters"
    assert refusal(v.string, "id", "ab", pattern=r"\d+")[3] == r"a string of 1 to 1024 characters matching \d+"
    assert refusal(v.string, "id", "ab", pattern=r"\d+", allowed="digits")[3] == "digits"
    assert v.string("id", "12", pattern=r"\d+") == "12"


def test_choice_lists_the_options(v: Validator) -> None:
    assert refusal(v.choice, "tier", "Expedited", ["Standard", "Bulk"]) == (
        "Thing", "tier", "Expedited", "one of 'Standard', 'Bulk'")


def test_list_type_bounds_and_uniqueness(v: Validator) -> None:
    assert refusal(v.list_of, "tenants", "a") == ("Thing", "tenants", "a", "a list")
    assert v.list_of("tenants", []) == []
    assert v.list_of("tenants", ["a", "a"]) == ["a", "a"]
    assert v.list_of("tenants", ["a", "b"], min_items=2, max_items=2) == ["a", "b"]
    assert refusal(v.list_of, "tenants", ["a"], min_items=2) == (
        "Thing", "tenants", ["a"], "a list of at least 2 and any number of items")
    assert refusal(v.list_of, "tenants", ["a", "b", "c"], max_items=2) == (
        "Thing", "tenants", ["a", "b", "c"], "a list of at least 0 and at most 2 items")
    assert refusal(v.list_of, "tenants", ["a", "b", "a"], unique=True) == (
        "Thing", "tenants", "a", "unique items (this one appears more than once)")
    assert v.list_of("tenants", ("a", "b"), unique=True) == ["a", "b"]


def test_mapping_type_and_unknown_keys(v: Validator) -> None:
    assert refusal(v.mapping, "settings", ["size"]) == (
        "Thing", "settings", ["size"], "an object (a mapping of keys to values)")
    assert refusal(v.mapping, "settings", {"colour": 1}, known=["size", "shape"]) == (
        "Thing", "settings.colour", 1, "no such key; known keys are shape, size")
    assert refusal(v.mapping, "", {"colour": 2}, known=["size"])[1:3] == ("colour", 2)
    assert v.mapping("settings", {"size": 1}, known=["size"]) == {"size": 1}


def test_required_names_the_full_path(v: Validator) -> None:
    assert refusal(v.required, {"limit": None}, "limit", "tiers.trial.quota.") == (
        "Thing", "tiers.trial.quota.limit", None, "a value is required")
    assert refusal(v.required, {}, "tiers")[1] == "tiers"
    assert v.required({"limit": 0}, "limit") == 0


def test_outputs_are_not_inspected(v: Validator) -> None:
    unknown = pulumi.Output.from_input(0)
    assert v.integer("days", unknown, minimum=1) is unknown
    assert v.list_of("tenants", unknown, min_items=1) is unknown
    assert v.list_of("tenants", [unknown, unknown], unique=True) == [unknown, unknown]


def test_integer_for_is_the_intersection_of_the_apis_it_reaches(v: Validator) -> None:
    """An event age reaching EventBridge (60-86400 s) and Lambda async invocation (60-21600 s): both ranges,
    as botocore's service models give them (components/core/limits.py), and the error names each API."""
    from serverless_patterns.core.limits import EVENTS_TARGET_MAX_EVENT_AGE, LAMBDA_ASYNC_MAX_EVENT_AGE

    limits = (EVENTS_TARGET_MAX_EVENT_AGE, LAMBDA_ASYNC_MAX_EVENT_AGE)
    assert v.integer_for("age", 60, *limits) == 60
    assert v.integer_for("age", 21600, *limits) == 21600
    for bad in (59, 21601, True, 600.0):
        assert refusal(v.integer_for, "age", bad, *limits) == (
            "Thing", "age", bad, "a whole number from 60 to 21600; it reaches events PutTargets "
            "Targets.RetryPolicy.MaximumEventAgeInSeconds (60-86400) and lambda PutFunctionEventInvokeConfig "
            "MaximumEventAgeInSeconds (60-21600)")
