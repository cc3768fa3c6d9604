"""Stack config validation, through the real program with one key changed at a time."""

import json
from pathlib import Path

import pytest

from serverless_patterns.core.args import ComponentArgsError
from serverless_patterns.core.config import ConfigReader, camel, snake
from serverless_patterns.offline import run_program

ROOT = Path(__file__).resolve().parents[2]
NO_PATTERNS = {"serverless-patterns:patterns": "{}"}


def run_with(**overrides: object) -> None:
    config = dict(NO_PATTERNS)
    config.update({f"serverless-patterns:{k}": v if isinstance(v, str) else json.dumps(v)
                   for k, v in overrides.items()})
    run_program(ROOT, "dev", config_overrides=config)


def test_program_wide_keys_build_only_the_logging_role() -> None:
    stack = run_program(ROOT, "dev", config_overrides=NO_PATTERNS)
    assert [r.type for r in stack.roots()] == ["serverless-patterns:index:ApiGatewayAccountLogging"]
    assert stack.outputs == {}


@pytest.mark.parametrize(("overrides", "field", "allowed"), [
    ({"patterns": {"bogus": {}}}, "patterns.bogus",
     "no such key; known keys are crossAccountEcr, glacierRestore, multiTenantApi, progressTracker"),
    ({"patterns": {"glacierRestore": {"enabled": "yes"}}}, "patterns.glacierRestore.enabled", "true or false"),
    ({"lambda": {"architecture": "sparc"}}, "lambda.architecture", "one of 'arm64', 'x86_64'"),
    ({"lambda": {"logRetentionDays": 10}}, "lambda.logRetentionDays", "one of 1, 3, 5, 7"),
    ({"lambda": {"memory": 10}}, "lambda.memory", "no such key"),
    ({"tags": ["a"]}, "tags", "an object"),
    ({"apiGatewayAccountLogging": "maybe"}, "apiGatewayAccountLogging", "a YAML/JSON object"),
    ({"tags": {"pattern": "x"}}, "tags", "a key other than managed-by, pattern, component"),
])
def test_each_bad_value_names_the_field(overrides: dict, field: str, allowed: str) -> None:
    with pytest.raises(ComponentArgsError) as raised:
        run_with(**overrides)
    assert raised.value.field == field
    assert raised.value.allowed.startswith(allowed)


def test_missing_patterns_section() -> None:
    with pytest.raises(ComponentArgsError) as raised:
        run_program(ROOT, "dev", config_overrides={"serverless-patterns:patterns": "null"})
    assert raised.value.field == "patterns"


def test_malformed_json_object() -> None:
    with pytest.raises(ComponentArgsError) as raised:
        run_with(**{"lambda": "{not json"})
    assert raised.value.field == "lambda"


def test_section_maps_camel_to_snake_and_requires_keys() -> None:
    reader = ConfigReader()
    assert reader.section("p.x", {"senderEmail": "a@b.org"}, ["sender_email", "days"]) == {"sender_email": "a@b.org"}
    with pytest.raises(ComponentArgsError, match=r"'p\.x\.days'"):
        reader.section("p.x", {"senderEmail": "a@b.org"}, ["sender_email", "days"], required=("days",))
    assert snake("logRetentionDays") == "log_retention_days" and camel("log_retention_days") == "logRetentionDays"
