"""Typed loaders for the stack configuration (`Pulumi.<stack>.yaml`).

Stack config is structured (`pulumi config set --path`), camelCase as Pulumi's own keys
are; loaders turn each section into the snake_case TypedDict args of a component and
reject unknown keys, so a typo fails with the key's path and the keys that exist.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi

from serverless_patterns.core.args import ComponentArgsError, Validator
from serverless_patterns.core.function import FunctionSettings, validate_settings

#: Where errors about stack config say they come from.
CONFIG_COMPONENT = "stack config"


class ConfigError(ComponentArgsError):
    """Invalid stack configuration: names the key path, the value and what is allowed."""

    def __init__(self, field: str, value: Any, allowed: str) -> None:
        super().__init__(CONFIG_COMPONENT, field, value, allowed)


def snake(name: str) -> str:
    """`logRetentionDays` -> `log_retention_days`."""
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def camel(name: str) -> str:
    """`log_retention_days` -> `logRetentionDays`."""
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


class ConfigReader(Validator):
    """A `Validator` whose errors are `ConfigError`s naming config key paths."""

    def __init__(self) -> None:
        super().__init__(CONFIG_COMPONENT)

    def fail(self, field: str, value: Any, allowed: str) -> Any:
        raise ConfigError(field, value, allowed)

    def section(self, path: str, raw: Any, keys: Mapping[str, str] | list[str], required: tuple[str, ...] = ()
                ) -> dict[str, Any]:
        """Check a config object's keys (camelCase) and return it with snake_case keys.

        `keys` lists the snake_case names the section accepts (or maps camelCase to snake_case).
        """
        mapping = dict(keys) if isinstance(keys, Mapping) else {camel(k): k for k in keys}
        self.mapping(path, raw if raw is not None else {}, known=mapping)
        data = raw or {}
        for key in required:
            if data.get(key) is None:
                self.fail(f"{path}.{key}", None, "a value is required")
        return {mapping[k]: v for k, v in data.items()}


@dataclass
class StackConfig:
    """The program-wide settings every pattern section can use."""

    project: str
    stack: str
    tags: dict[str, str] = field(default_factory=dict)
    function_settings: FunctionSettings = field(default_factory=dict)  # type: ignore[assignment]
    api_gateway_account_logging: bool = True
    patterns: dict[str, Any] = field(default_factory=dict)


FUNCTION_KEYS = {camel(k): k for k in FunctionSettings.__annotations__}


def load_stack_config(config: pulumi.Config | None = None, known_patterns: list[str] | None = None) -> StackConfig:
    """Read and check the program-wide keys; pattern sections are checked by their own loaders."""
    cfg = config or pulumi.Config()
    reader = ConfigReader()

    def obj(key: str) -> Any:
        try:
            return cfg.get_object(key)
        except Exception as error:  # pulumi raises a bare Exception for malformed JSON
            reader.fail(key, cfg.get(key), f"a YAML/JSON object ({error})")

    tags = obj("tags") or {}
    reader.mapping("tags", tags)
    function_raw = reader.section("lambda", obj("lambda"), FUNCTION_KEYS)
    try:
        function_settings = validate_settings(CONFIG_COMPONENT, function_raw, "lambda")  # type: ignore[arg-type]
    except ComponentArgsError as error:
        raise ConfigError(camel_path(error.field), error.value, error.allowed) from None
    logging_flag = obj("apiGatewayAccountLogging")
    if logging_flag is None:
        logging_flag = True
    reader.boolean("apiGatewayAccountLogging", logging_flag)
    patterns = obj("patterns")
    if patterns is None:
        reader.fail("patterns", None, "an object with one section per pattern to deploy: "
                    + ", ".join(known_patterns or []))
    reader.mapping("patterns", patterns, known=known_patterns)
    return StackConfig(project=pulumi.get_project(), stack=pulumi.get_stack(), tags=dict(tags),
                       function_settings=function_settings, api_gateway_account_logging=logging_flag,
                       patterns=dict(patterns))


def camel_path(path: str) -> str:
    """`lambda.log_retention_days` -> `lambda.logRetentionDays` (errors speak the config's language)."""
    return ".".join(camel(part) for part in path.split("."))


def enabled(section: Any, path: str) -> bool:
    """A pattern section is on unless it says `enabled: false`."""
    if section is None:
        return False
    ConfigReader().mapping(path, section)
    flag = section.get("enabled", True)
    ConfigReader().boolean(f"{path}.enabled", flag)
    return bool(flag)
