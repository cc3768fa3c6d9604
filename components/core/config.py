"""Typed loaders for the stack configuration (`Pulumi.<stack>.yaml`).

Stack config is structured (`pulumi config set --path`), camelCase as Pulumi's own keys
are; loaders turn each section into the snake_case TypedDict args of a component and
reject unknown keys, so a typo fails with the key's path and the keys that exist.
"""

from __future__ import annotations

import re
import typing
from collections import abc
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pulumi

from serverless_patterns.core.args import ComponentArgsError, Validator
from serverless_patterns.core.function import FunctionSettings, validate_settings

T = TypeVar("T")

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


#: Args every pattern takes from the program-wide settings, never from its own section.
STACK_WIDE = ("tags", "function_settings")


def load_args(path: str, raw: Any, args_type: type[T], *, omit: Iterable[str] = STACK_WIDE,
              extra: Iterable[str] = ("enabled",)) -> T:
    """A pattern's config section (camelCase) as its Args TypedDict (snake_case), read from the type itself.

    The keys, their camelCase names, which are required, the nested objects, lists and maps, and the
    kind of every value come from `args_type`'s annotations: one source of truth with the component
    and its schema. Fields in `omit` are not config keys; keys in `extra` are accepted and dropped.
    Errors are `ConfigError`s naming the key path, e.g. `patterns.multiTenantApi.tiers.pro.rateLimit`.
    """
    reader = ConfigReader()
    data = dict(reader.mapping(path, raw if raw is not None else {}))
    for key in extra:
        data.pop(key, None)
    return _typed_dict(reader, path, data, args_type, omit=set(omit))  # type: ignore[return-value]


def _typed_dict(reader: ConfigReader, path: str, raw: Any, typ: type, *, omit: Iterable[str] = ()
                ) -> dict[str, Any]:
    # `__annotations__`, not get_type_hints: pulumi.Input holds a forward reference that cannot be evaluated.
    hints = {k: v for k, v in typ.__annotations__.items() if k not in set(omit)}
    names = {camel(k): k for k in hints}
    reader.mapping(path, raw, known=names)
    for key in getattr(typ, "__required_keys__", ()):
        if key in hints and raw.get(camel(key)) is None:
            reader.fail(f"{path}.{camel(key)}", None, "a value is required")
    return {names[k]: _value(reader, f"{path}.{k}", v, hints[names[k]]) for k, v in raw.items() if v is not None}


def _value(reader: ConfigReader, path: str, value: Any, annotation: Any) -> Any:
    origin = typing.get_origin(annotation)
    if origin in (typing.Required, typing.NotRequired):
        return _value(reader, path, value, typing.get_args(annotation)[0])
    if origin is typing.Union:  # pulumi.Input[T]: config gives the plain T
        plain = [a for a in typing.get_args(annotation) if typing.get_origin(a) is None and isinstance(a, type)]
        return _value(reader, path, value, plain[0]) if plain else value
    if typing.is_typeddict(annotation):
        return _typed_dict(reader, path, value, annotation)
    if origin in (list, abc.Sequence):
        if not isinstance(value, list):
            reader.fail(path, value, "a list")
        (item,) = typing.get_args(annotation)
        return [_value(reader, f"{path}[{i}]", v, item) for i, v in enumerate(value)]
    if origin in (dict, abc.Mapping):
        _, item = typing.get_args(annotation)
        return {str(k): _value(reader, f"{path}.{k}", v, item) for k, v in reader.mapping(path, value).items()}
    if annotation is bool:
        reader.boolean(path, value)
    elif annotation is int:
        reader.integer(path, value)
    elif annotation is float:
        reader.number(path, value)
    elif annotation is str:
        reader.check(path, value, lambda v: isinstance(v, str), "a string")
    return value


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
