"""The component package: every pattern, plus the shared components a program reaches for, served to
Pulumi programs in any language (`pulumi package add`, see the README's "From other languages").

Pulumi's Python SDK infers the package schema from the components' type annotations (Args TypedDicts,
typed output attributes, docstrings); `PulumiPlugin.yaml` at the repo root makes the engine run this
folder's `__main__.py`, which calls `serve()` when it is started as a plugin. The package name and
version are the installed distribution's (pyproject.toml): `pulumi-serverless-patterns` 0.1.0 serves
`serverless-patterns` 0.1.0, the package part of every component's type token.
"""

import importlib.metadata
import json
import sys
from typing import Any

import pulumi
from pulumi.provider import main as provider_main
from pulumi.provider.experimental.analyzer import PropertyDefinition, PropertyType
from pulumi.provider.experimental.component import ComponentProvider

from serverless_patterns.core.apigateway_account import ApiGatewayAccountLogging
from serverless_patterns.core.function import PythonFunction
from serverless_patterns.cross_account_ecr import CrossAccountEcr
from serverless_patterns.glacier_restore import GlacierRestore
from serverless_patterns.multi_tenant_api import MultiTenantApi
from serverless_patterns.progress_tracker import ProgressTracker

#: The distribution in pyproject.toml; Pulumi packages drop its `pulumi-` prefix.
DISTRIBUTION = "pulumi-serverless-patterns"

#: What the package serves: the four patterns, the account logging singleton and the Python function.
COMPONENTS: tuple[type[pulumi.ComponentResource], ...] = (
    GlacierRestore, ProgressTracker, MultiTenantApi, CrossAccountEcr, ApiGatewayAccountLogging, PythonFunction)


def package_name() -> str:
    """`serverless-patterns`: the distribution's name without the `pulumi-` prefix."""
    return importlib.metadata.metadata(DISTRIBUTION)["Name"].removeprefix("pulumi-")


def package_version() -> str:
    """The installed distribution's version (from pyproject.toml)."""
    return importlib.metadata.version(DISTRIBUTION)


class PatternsProvider(ComponentProvider):
    """Pulumi's component provider, with whole numbers arriving as `int`.

    Other languages send every number as a float. The SDK means to turn integer properties back into
    `int` (`map_input_properties`, "Integers are sent as floats over the wire"), but the plain
    assignment after that branch overwrites the converted value (pulumi 3.272.0), so `3` arrived as
    `3.0` and failed the components' whole-number checks. This converts them, nested ones included.
    """

    def map_input_properties(self, inputs: Any, properties: dict[str, PropertyDefinition],
                             mapping: dict[str, str], component_name: str, property_path: str) -> Any:
        mapped = dict(super().map_input_properties(inputs, properties, mapping, component_name, property_path))
        for schema_name, prop in properties.items():
            name = mapping[schema_name]
            if name in mapped:
                mapped[name] = _whole_numbers(mapped[name], prop)
        return mapped


def _whole_numbers(value: Any, prop: PropertyDefinition) -> Any:
    if prop.type == PropertyType.INTEGER and isinstance(value, float) and value.is_integer():
        return int(value)
    if prop.items is not None and isinstance(value, list):
        return [_whole_numbers(item, prop.items) for item in value]
    if prop.additional_properties is not None and isinstance(value, dict):
        return {key: _whole_numbers(item, prop.additional_properties) for key, item in value.items()}
    return value


def component_provider() -> PatternsProvider:
    """The provider the plugin serves (it analyzes the components and infers the schema on creation)."""
    return PatternsProvider(list(COMPONENTS), package_name(), None, package_version())


def schema() -> dict[str, Any]:
    """The package schema, as `pulumi package get-schema` prints it."""
    loaded: dict[str, Any] = json.loads(component_provider().schema or "{}")
    return loaded


def running_as_plugin() -> bool:
    """True when the engine started this process as the package's plugin rather than as a program.

    The language host runs a program with the runtime already configured (a resource monitor to talk
    to); a plugin starts bare and gets the monitor's address with each `Construct` request.
    """
    return pulumi.runtime.settings.get_monitor() is None


def serve() -> None:
    """Serve the components over gRPC until the engine stops the plugin (what `component_provider_host`
    does, with `PatternsProvider`)."""
    provider_main(component_provider(), sys.argv[1:])


def main() -> None:
    """`python -m serverless_patterns.provider > schema.json`: print the schema (what tests compare)."""
    print(json.dumps(schema(), indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
