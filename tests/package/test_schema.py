"""The component package's schema, produced offline by Pulumi's own analyzer (no CLI, no plugin run).

Every component the package serves is checked field by field against its Python types: each Args field
and each output appears with its type, its Input-ness (`plain` unless annotated `pulumi.Input[...]`),
its requiredness and its docstring as description. The expectations are derived here from the
annotations with `typing`, independently of the analyzer. The committed `schema.json` must equal the
produced one, so a change to the public surface shows in review.
"""

import ast
import collections.abc
import inspect
import itertools
import json
import os
import re
import textwrap
import tomllib
import types
import typing
from pathlib import Path
from typing import Any, get_args, get_origin

import pulumi
import pulumi_aws as aws
import pytest

from serverless_patterns import provider
from serverless_patterns.core.base import declared_outputs
from serverless_patterns.core.naming import PACKAGE

ROOT = Path(__file__).resolve().parents[2]
#: Pulumi's package metaschema (pulumi/pulumi pkg/codegen/schema/pulumi.json); see test_metaschema.
METASCHEMA_ENV = "PULUMI_PACKAGE_METASCHEMA"


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return provider.schema()


def docstrings(cls: type) -> dict[str, str]:
    """Attribute -> the string literal right after its annotation in the class body."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    body = tree.body[0].body  # type: ignore[attr-defined]
    found: dict[str, str] = {}
    for node, after in itertools.pairwise(body):
        if (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and isinstance(after, ast.Expr)
                and isinstance(after.value, ast.Constant) and isinstance(after.value.value, str)):
            found[node.target.id] = after.value.value
    return found


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def is_input(annotation: Any) -> bool:
    """`pulumi.Input[T]`: a Union of T, Awaitable[T] and (a forward reference to) Output[T]."""
    return get_origin(annotation) is typing.Union and any(
        get_origin(a) is collections.abc.Awaitable for a in get_args(annotation))


def unwrap(annotation: Any) -> tuple[Any, bool, bool]:
    """(the type inside Required/Input/Output/Optional, accepts outputs, optional)."""
    optional = False
    outputs = False
    while True:
        origin = get_origin(annotation)
        if origin in (typing.Required, typing.NotRequired):
            annotation = get_args(annotation)[0]
        elif is_input(annotation):
            outputs = True
            annotation = next(a for a in get_args(annotation) if not isinstance(a, typing.ForwardRef)
                              and get_origin(a) not in (pulumi.Output, collections.abc.Awaitable))
        elif origin is pulumi.Output:
            outputs = True
            annotation = get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType) and type(None) in get_args(annotation):
            optional = True
            annotation = next(a for a in get_args(annotation) if a is not type(None))
        else:
            return annotation, outputs, optional


PRIMITIVES = {str: "string", int: "integer", float: "number", bool: "boolean"}


def expected_shape(annotation: Any, *, as_input: bool) -> dict[str, Any]:
    """The schema type a Python annotation must become; `plain` marks inputs that take no outputs."""
    inner, takes_outputs, _ = unwrap(annotation)
    origin = get_origin(inner)
    shape: dict[str, Any]
    if inner in PRIMITIVES:
        shape = {"type": PRIMITIVES[inner]}
    elif inner is Any:
        shape = {"$ref": "pulumi.json#/Any"}
    elif origin in (list, collections.abc.Sequence):
        shape = {"type": "array", "items": expected_shape(get_args(inner)[0], as_input=as_input)}
    elif origin in (dict, collections.abc.Mapping):
        assert get_args(inner)[0] is str
        shape = {"type": "object", "additionalProperties": expected_shape(get_args(inner)[1], as_input=as_input)}
    elif typing.is_typeddict(inner):
        shape = {"$ref": f"#/types/{PACKAGE}:index:{inner.__name__}"}
    elif isinstance(inner, type) and issubclass(inner, pulumi.ProviderResource):
        version = json.loads((Path(aws.__file__).parent / "pulumi-plugin.json").read_text())["version"]
        return {"$ref": f"/aws/v{version}/schema.json#/resources/pulumi:providers:aws"}
    else:
        raise AssertionError(f"no schema type expected for {annotation!r}")
    if as_input and not takes_outputs:
        shape["plain"] = True
    return shape


def actual_shape(prop: dict[str, Any]) -> dict[str, Any]:
    shape = {k: v for k, v in prop.items() if k in ("type", "$ref", "plain")}
    if "items" in prop:
        shape["items"] = actual_shape(prop["items"])
    if "additionalProperties" in prop:
        shape["additionalProperties"] = actual_shape(prop["additionalProperties"])
    return shape


def check_properties(cls: type, props: dict[str, Any], required: list[str], *, as_input: bool,
                     hints: dict[str, Any] | None = None) -> list[type]:
    """Compare every annotated field of `cls` with its schema properties; return nested TypedDicts."""
    hints = hints if hints is not None else dict(cls.__annotations__)
    docs = docstrings(cls)
    assert set(props) == {camel(k) for k in hints}, cls.__name__
    nested: list[type] = []
    for field, annotation in hints.items():
        prop = props[camel(field)]
        where = f"{cls.__name__}.{field}"
        assert actual_shape(prop) == expected_shape(annotation, as_input=as_input), where
        assert prop.get("description") == docs[field], where
        inner, _, optional = unwrap(annotation)
        is_required = field in getattr(cls, "__required_keys__", ()) if as_input else not optional
        assert (camel(field) in required) == is_required, where
        for arg in (inner, *get_args(inner)):
            if typing.is_typeddict(arg):
                nested.append(arg)
    return nested


def args_type(component: type) -> type:
    return inspect.get_annotations(component.__init__)["args"]


def test_name_and_version_come_from_pyproject(schema: dict[str, Any]) -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert schema["name"] == project["name"].removeprefix("pulumi-") == PACKAGE
    assert schema["version"] == project["version"]


@pytest.mark.parametrize("component", provider.COMPONENTS, ids=lambda c: c.__name__)
def test_every_input_and_output_is_in_the_schema(schema: dict[str, Any], component: type) -> None:
    resource = schema["resources"][f"{PACKAGE}:index:{component.__name__}"]
    assert resource["isComponent"] is True
    assert resource["description"] == inspect.getdoc(component)
    args = args_type(component)
    pending = check_properties(args, resource["inputProperties"], resource.get("requiredInputs", []),
                               as_input=True)
    seen: set[type] = set()
    while pending:
        typ = pending.pop()
        if typ in seen:
            continue
        seen.add(typ)
        spec = schema["types"][f"{PACKAGE}:index:{typ.__name__}"]
        assert spec["description"] == inspect.getdoc(typ)
        pending += check_properties(typ, spec["properties"], spec.get("required", []), as_input=True)

    outputs = declared_outputs(component)
    assert outputs, f"{component.__name__} declares no outputs"
    owners = {attr: next(k for k in component.__mro__ if attr in inspect.get_annotations(k))
              for attr, _ in outputs.values()}
    hints = {attr: inspect.get_annotations(owner)[attr] for attr, owner in owners.items()}
    for owner in set(owners.values()):
        check_properties(owner, {k: v for k, v in resource["properties"].items()
                                 if owners.get(outputs[k][0]) is owner},
                         resource.get("required", []), as_input=False,
                         hints={a: h for a, h in hints.items() if owners[a] is owner})
    assert set(resource["properties"]) == set(outputs)
    for typ in {unwrap(h)[0] for h in hints.values()} | {get_args(unwrap(h)[0])[-1] for h in hints.values()
                                                            if get_args(unwrap(h)[0])}:
        if typing.is_typeddict(typ):
            spec = schema["types"][f"{PACKAGE}:index:{typ.__name__}"]
            check_properties(typ, spec["properties"], spec.get("required", []), as_input=False)


def test_the_package_serves_every_pattern() -> None:
    from serverless_patterns.registry import PATTERNS, loader

    served = {c.__module__.rsplit(".", 2)[-2] for c in provider.COMPONENTS}
    assert set(m for m, _ in PATTERNS.values()) <= served
    for key in PATTERNS:
        built = inspect.signature(loader(key)).return_annotation
        assert built in provider.COMPONENTS or built in {c.__name__ for c in provider.COMPONENTS}


def _aws_version_elided(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema with the pulumi-aws release it was generated against (its dependency and `$ref`s) elided."""
    [aws] = [d for d in schema["dependencies"] if d["name"] == "aws"]
    elided: dict[str, Any] = json.loads(json.dumps(schema).replace(f"/aws/v{aws['version']}/", "/aws/v*/"))
    elided["dependencies"] = [{**d, "version": "*"} if d["name"] == "aws" else d for d in elided["dependencies"]]
    return elided


def test_committed_schema_is_current(schema: dict[str, Any]) -> None:
    committed = json.loads((ROOT / "schema.json").read_text())
    # Written against the pulumi-aws this repo pins; other releases the range allows (make test-lowest) change
    # only that version.
    pinned = re.search(r"^pulumi_aws==(\S+)$", (ROOT / "constraints.txt").read_text(), re.MULTILINE | re.IGNORECASE)
    assert pinned and {"name": "aws", "version": pinned.group(1)} in committed["dependencies"]
    assert _aws_version_elided(committed) == _aws_version_elided(schema), \
        "the public surface changed: python -m serverless_patterns.provider > schema.json"


def test_schema_is_valid_against_pulumis_metaschema(schema: dict[str, Any]) -> None:
    """Pulumi's package metaschema: pulumi/pulumi `pkg/codegen/schema/pulumi.json` (JSON Schema 2020-12).

    It is not vendored here (third-party material stays out of this repo's commits): point
    PULUMI_PACKAGE_METASCHEMA at a copy, e.g. from
    https://raw.githubusercontent.com/pulumi/pulumi/1b5949891b/pkg/codegen/schema/pulumi.json
    (the version this was validated against; file last changed in bd47908e, 2026-04-29).
    """
    path = os.environ.get(METASCHEMA_ENV)
    if not path:
        pytest.skip(f"set {METASCHEMA_ENV} to Pulumi's package metaschema to validate the schema")
    import jsonschema

    # Its patterns are ECMA-262 regexes; Python spells named groups `(?P<name>...)`, not `(?<name>...)`.
    metaschema = json.loads(re.sub(r"\(\?<(?=[A-Za-z])", "(?P<", Path(path).read_text()))
    assert metaschema["title"] == "Pulumi Package Metaschema"
    validator = jsonschema.Draft202012Validator(metaschema)
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(schema)]
    assert errors == []
