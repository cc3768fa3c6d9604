"""The shared JSON Schema checks (`lambdas/shared/schema_checks.py`): a validator's code is generated on its first
check, once, and its errors name the field."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import fastjsonschema
import pytest

SHARED_DIR = Path(__file__).resolve().parents[2] / "lambdas" / "shared"


def load() -> ModuleType:
    """A fresh copy of the module, as a function's archive imports it (top level, its own name)."""
    spec = importlib.util.spec_from_file_location("schema_checks_under_test", SHARED_DIR / "schema_checks.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"name": {"type": "string", "minLength": 1}, "tier": {"type": "string", "default": "basic"}},
    "required": ["name"],
    "additionalProperties": False,
}


def test_the_validator_is_generated_on_the_first_check_and_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    checks = load()
    generated: list[dict[str, Any]] = []
    real = fastjsonschema.compile

    def counting(schema: dict[str, Any], **kwargs: Any) -> Any:
        generated.append(schema)
        return real(schema, **kwargs)

    monkeypatch.setattr(fastjsonschema, "compile", counting)
    validate = checks.compiled(SCHEMA)
    assert generated == []
    assert validate({"name": "a"}) == {"name": "a", "tier": "basic"}
    assert validate({"name": "b", "tier": "gold"}) == {"name": "b", "tier": "gold"}
    with pytest.raises(checks.Invalid):
        validate({"name": ""})
    assert generated == [SCHEMA]


@pytest.mark.parametrize(("data", "path", "text"), [
    ({"name": ""}, ["name"], "must be longer than or equal to 1 characters"),
    ({"name": "a", "extra": 1}, [], "must not contain {'extra'} properties"),
    ({}, [], "must contain ['name'] properties"),
    ({"name": 3}, ["name"], "must be string"),
])
def test_a_refusal_names_the_field_and_what_is_wrong(data: dict[str, Any], path: list[str], text: str) -> None:
    checks = load()
    with pytest.raises(checks.Invalid) as refused:
        checks.compiled(SCHEMA)(data)
    assert (refused.value.path, refused.value.text) == (path, text)
    assert isinstance(refused.value, ValueError)


def test_one_of_names_the_fields_its_branches_require() -> None:
    checks = load()
    schema = {"type": "object", "oneOf": [{"required": ["executionId"]}, {"required": ["requestId"]}]}
    with pytest.raises(checks.Invalid) as refused:
        checks.compiled(schema)({"executionId": "a", "requestId": "b"})
    assert (refused.value.path, refused.value.text) == (["executionId or requestId"], "give exactly one")


def test_loading_the_module_does_not_import_fastjsonschema() -> None:
    """Its import is on the first check: a cold start that validates nothing never pays for it."""
    import subprocess

    code = (f"import sys; sys.path.insert(0, {str(SHARED_DIR)!r}); import schema_checks; "
            "print('fastjsonschema' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "False"
