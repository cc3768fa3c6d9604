"""Nested settings of pulumi_aws resources are built with the SDK's typed `...Args` classes.

A dict literal is sent to the provider unchecked, so a misspelled key (issue 17, item 14:
`attributes_require_verification_before_update` for `..._updates`) is silently dropped; a typed
class refuses it at construction. This test reads each listed component's source and refuses a
dict literal passed to a pulumi_aws resource where the SDK expects a typed object (maps such as
`tags` stay dicts: their type is `Mapping[str, ...]`).
"""

from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path

import pulumi_aws as aws
import pytest

ROOT = Path(__file__).resolve().parents[2]
#: Components whose pulumi_aws calls use typed args throughout.
TYPED = ["components/multi_tenant_api/component.py"]


def dotted(node: ast.expr) -> str:
    if isinstance(node, ast.Attribute):
        return f"{dotted(node.value)}.{node.attr}"
    return node.id if isinstance(node, ast.Name) else ""


def is_literal_object(node: ast.expr) -> bool:
    """A dict literal, or a list/tuple/comprehension of dict literals."""
    if isinstance(node, (ast.Dict, ast.DictComp)):
        return True
    if isinstance(node, (ast.List, ast.Tuple)):
        return any(is_literal_object(item) for item in node.elts)
    if isinstance(node, ast.ListComp):
        return is_literal_object(node.elt)
    if isinstance(node, ast.IfExp):
        return is_literal_object(node.body) or is_literal_object(node.orelse)
    if isinstance(node, ast.BoolOp):
        return any(is_literal_object(value) for value in node.values)
    return False


def untyped_arguments(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.Call):
            continue
        name = dotted(node.func)
        if not name.startswith("aws.") or name.count(".") != 2:
            continue
        _, module, cls = name.split(".")
        args_class = getattr(importlib.import_module(f"pulumi_aws.{module}"), f"{cls}Args", None)
        if args_class is None:  # already a typed ...Args class, or a function
            continue
        annotations = {p.name: str(p.annotation) for p in inspect.signature(args_class.__init__).parameters.values()}
        for keyword in node.keywords:
            if keyword.arg is None or not is_literal_object(keyword.value):
                continue
            annotation = annotations.get(keyword.arg, "")
            if "Mapping[" not in annotation:
                found.append(f"{path.name}:{keyword.value.lineno} {name}({keyword.arg}=...) expects {annotation}")
    return found


@pytest.mark.parametrize("relative", TYPED)
def test_pulumi_aws_settings_use_typed_args(relative: str) -> None:
    assert untyped_arguments(ROOT / relative) == []


def test_the_check_finds_a_dict_literal(tmp_path: Path) -> None:
    source = tmp_path / "c.py"
    source.write_text("aws.cognito.UserPool('p', user_attribute_update_settings="
                      "{'attributes_require_verification_before_update': ['email']}, tags={'a': 'b'})\n")
    [finding] = untyped_arguments(source)
    assert "user_attribute_update_settings" in finding


def test_a_misspelled_setting_fails_at_construction() -> None:
    with pytest.raises(TypeError, match="attributes_require_verification_before_update"):
        aws.cognito.UserPoolUserAttributeUpdateSettingsArgs(  # type: ignore[call-arg]
            attributes_require_verification_before_update=["email"])
