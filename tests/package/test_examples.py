"""The consumer examples in other languages, checked offline against the package schema."""

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from serverless_patterns import provider

ROOT = Path(__file__).resolve().parents[2]
YAML_PROGRAM = ROOT / "examples" / "yaml" / "Pulumi.yaml"
PACKAGE_PREFIX = f"{provider.package_name()}:index:"
INTERPOLATION = re.compile(r"^\$\{([^}]+)\}$")


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return provider.schema()


@pytest.fixture(scope="module")
def program() -> dict[str, Any]:
    """The program with its config references resolved (config values are plain, known at preview)."""
    text = YAML_PROGRAM.read_text()
    for key, spec in (yaml.safe_load(text).get("config") or {}).items():
        text = text.replace("${" + key + "}", str(spec["default"]))
    return yaml.safe_load(text)


def check_value(value: Any, spec: dict[str, Any], schema: dict[str, Any], path: str, problems: list[str]) -> None:
    """Check a YAML value against a schema property: names, required fields, primitive kinds."""
    if isinstance(value, str) and INTERPOLATION.match(value):
        if spec.get("plain"):
            problems.append(f"{path}: takes a plain value, not an output reference {value}")
        return
    ref = spec.get("$ref", "")
    if ref.startswith("#/types/"):
        typ = schema["types"][ref.removeprefix("#/types/")]
        check_object(value, typ.get("properties", {}), typ.get("required", []), schema, path, problems)
        return
    kind = spec.get("type")
    if kind == "array":
        if not isinstance(value, list):
            problems.append(f"{path}: expected a list")
            return
        for i, item in enumerate(value):
            check_value(item, spec["items"], schema, f"{path}[{i}]", problems)
    elif kind == "object":
        if not isinstance(value, dict):
            problems.append(f"{path}: expected an object")
            return
        for key, item in value.items():
            check_value(item, spec.get("additionalProperties", {"type": "string"}), schema, f"{path}.{key}", problems)
    elif kind == "string" and not isinstance(value, str):
        problems.append(f"{path}: expected a string, got {value!r}")
    elif kind in ("integer", "number") and (isinstance(value, bool) or not isinstance(value, (int, float))):
        problems.append(f"{path}: expected a number, got {value!r}")
    elif kind == "integer" and isinstance(value, float) and not value.is_integer():
        problems.append(f"{path}: expected a whole number, got {value!r}")
    elif kind == "boolean" and not isinstance(value, bool):
        problems.append(f"{path}: expected true or false, got {value!r}")


def check_object(value: Any, properties: dict[str, Any], required: list[str], schema: dict[str, Any], path: str,
                 problems: list[str]) -> None:
    if not isinstance(value, dict):
        problems.append(f"{path}: expected an object")
        return
    for key in required:
        if key not in value:
            problems.append(f"{path}: missing required {key}")
    for key, item in value.items():
        if key not in properties:
            problems.append(f"{path}.{key}: no such property (known: {', '.join(sorted(properties))})")
        else:
            check_value(item, properties[key], schema, f"{path}.{key}", problems)


def test_yaml_program_uses_the_package_by_path(program: dict[str, Any]) -> None:
    source = program["packages"][provider.package_name()]
    assert (YAML_PROGRAM.parent / source / "PulumiPlugin.yaml").is_file()


def test_yaml_program_matches_the_schema(program: dict[str, Any], schema: dict[str, Any]) -> None:
    resources = program["resources"]
    ours = {name: r for name, r in resources.items() if r["type"].startswith(PACKAGE_PREFIX)}
    assert {r["type"].removeprefix(PACKAGE_PREFIX) for r in ours.values()} >= {"GlacierRestore", "MultiTenantApi"}
    problems: list[str] = []
    for name, resource in ours.items():
        spec = schema["resources"].get(resource["type"])
        if spec is None:
            problems.append(f"{name}: no resource {resource['type']} in the schema")
            continue
        check_object(resource.get("properties", {}), spec["inputProperties"], spec.get("requiredInputs", []),
                     schema, name, problems)
    # Every reference to a package component's output names an output the schema declares.
    text = YAML_PROGRAM.read_text()
    for name, attribute in re.findall(r"\$\{(\w+)\.(\w+)\}", text):
        if name in ours and attribute not in schema["resources"][ours[name]["type"]]["properties"]:
            problems.append(f"${{{name}.{attribute}}}: no such output")
        elif name not in ours and name not in resources:
            problems.append(f"${{{name}.{attribute}}}: no such resource")
    assert problems == []


def test_the_check_catches_what_a_schema_would_reject(schema: dict[str, Any]) -> None:
    problems: list[str] = []
    spec = schema["resources"][f"{PACKAGE_PREFIX}MultiTenantApi"]
    check_object({"domainPrefix": "x", "tiers": {"a": {"rateLimit": "fast", "burst": 1}}, "stageName": "${a.b}"},
                 spec["inputProperties"], spec["requiredInputs"], schema, "api", problems)
    assert problems == [
        "api: missing required callbackUrls",
        "api.tiers.a.rateLimit: expected a number, got 'fast'",
        "api.tiers.a.burst: no such property (known: burstLimit, description, methodThrottles, quota, rateLimit)",
        "api.stageName: takes a plain value, not an output reference ${a.b}",
    ]


def test_typescript_example_uses_served_components_and_their_property_names(schema: dict[str, Any]) -> None:
    source = (ROOT / "examples" / "typescript" / "index.ts").read_text()
    used = dict(re.findall(r"new patterns\.(\w+)\(\"[^\"]+\", \{(.*?)\n?\}", source, flags=re.S))
    assert {"ProgressTracker", "CrossAccountEcr"} <= set(used)
    for component, body in used.items():
        inputs = schema["resources"][f"{PACKAGE_PREFIX}{component}"]["inputProperties"]
        top_level = re.findall(r"^\s{4}(\w+):", body, flags=re.M)
        assert set(top_level) <= set(inputs), component
        assert top_level or component == "ApiGatewayAccountLogging", component
    outputs = re.findall(r"export const \w+ = (\w+)\.(\w+);", source)
    names = {"progress": "ProgressTracker", "images": "CrossAccountEcr"}
    for variable, output in outputs:
        assert output in schema["resources"][f"{PACKAGE_PREFIX}{names[variable]}"]["properties"], output
