"""The stack config loaders, one key at a time, without building any pattern."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pytest

from serverless_patterns.core.config import (
    CONFIG_COMPONENT,
    ConfigError,
    ConfigReader,
    StackConfig,
    camel_path,
    enabled,
    load_stack_config,
)
from serverless_patterns.offline import run_callable

KNOWN = ["crossAccountEcr", "glacierRestore"]


def load(project: str = "proj", stack: str = "stg", **keys: Any) -> StackConfig:
    """`load_stack_config` inside a program run with these `serverless-patterns:` keys (JSON-encoded)."""
    loaded: list[StackConfig] = []
    config = {f"serverless-patterns:{k}": v if isinstance(v, str) else json.dumps(v) for k, v in keys.items()}
    run_callable(lambda: loaded.append(load_stack_config(pulumi.Config("serverless-patterns"), KNOWN)),
                 project=project, stack=stack, config=config)
    return loaded[0]


def refused(**keys: Any) -> ConfigError:
    with pytest.raises(ConfigError) as raised:
        load(**keys)
    assert raised.value.component == CONFIG_COMPONENT == "stack config"
    return raised.value


def test_the_program_wide_keys_and_their_defaults() -> None:
    loaded = load(patterns={"glacierRestore": {"senderEmail": "a@b.org"}})
    assert (loaded.project, loaded.stack) == ("proj", "stg")
    assert loaded.tags == {} and loaded.api_gateway_account_logging is True
    assert loaded.function_settings["architecture"] == "arm64"
    assert loaded.patterns == {"glacierRestore": {"senderEmail": "a@b.org"}}


def test_set_keys_are_read() -> None:
    loaded = load(tags={"team": "research-it"}, apiGatewayAccountLogging=False,
                  **{"lambda": {"logRetentionDays": 14, "architecture": "x86_64"}}, patterns={})
    assert loaded.tags == {"team": "research-it"}
    assert loaded.api_gateway_account_logging is False
    assert (loaded.function_settings["log_retention_days"], loaded.function_settings["architecture"]) == (14, "x86_64")


def test_errors_name_the_key_path_in_the_configs_own_spelling() -> None:
    error = refused(**{"lambda": {"logRetentionDays": 10}}, patterns={})
    assert (error.field, error.value) == ("lambda.logRetentionDays", 10)
    error = refused(apiGatewayAccountLogging=3, patterns={})
    assert (error.field, error.value, error.allowed) == ("apiGatewayAccountLogging", 3, "true or false")


def test_missing_patterns_lists_the_known_ones() -> None:
    error = refused()
    assert (error.field, error.value) == ("patterns", None)
    assert error.allowed == "an object with one section per pattern to deploy: crossAccountEcr, glacierRestore"


def test_malformed_json_keeps_the_raw_text() -> None:
    error = refused(tags="{not json", patterns={})
    assert (error.field, error.value) == ("tags", "{not json")
    assert error.allowed.startswith("a YAML/JSON object (")


def test_camel_path_converts_every_segment() -> None:
    assert camel_path("patterns.glacier_restore.max_days") == "patterns.glacierRestore.maxDays"
    assert camel_path("log_level") == "logLevel"


def test_section_requires_keys_and_treats_null_as_empty() -> None:
    reader = ConfigReader()
    assert reader.section("p.x", None, ["sender_email"]) == {}
    assert reader.section("p.x", {"senderEmail": "a@b.org"}, ["sender_email"], required=("senderEmail",)) == {
        "sender_email": "a@b.org"}
    assert reader.section("p.x", {"mail": "a@b.org"}, {"mail": "sender_email"}) == {"sender_email": "a@b.org"}
    with pytest.raises(ConfigError) as raised:
        reader.section("p.x", {"senderEmail": "a@b.org"}, ["sender_email", "days"], required=("days",))
    assert (raised.value.component, raised.value.field, raised.value.value, raised.value.allowed) == (
        "stack config", "p.x.days", None, "a value is required")
    with pytest.raises(ConfigError) as raised:
        reader.section("p.x", ["a"], ["days"])
    assert (raised.value.field, raised.value.value) == ("p.x", ["a"])


@pytest.mark.parametrize(("section", "on"), [(None, False), ({}, True), ({"enabled": True}, True),
                                              ({"enabled": False}, False)])
def test_a_pattern_is_on_unless_it_says_enabled_false(section: Any, on: bool) -> None:
    assert enabled(section, "patterns.glacierRestore") is on


def test_enabled_checks_the_section_and_the_flag() -> None:
    with pytest.raises(ConfigError) as raised:
        enabled({"enabled": "no"}, "patterns.glacierRestore")
    assert (raised.value.field, raised.value.value) == ("patterns.glacierRestore.enabled", "no")
    with pytest.raises(ConfigError) as raised:
        enabled(["x"], "patterns.glacierRestore")
    assert raised.value.field == "patterns.glacierRestore"
