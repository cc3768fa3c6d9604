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


def counted(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """The schemas fastjsonschema generates code for from now on, in order."""
    generated: list[dict[str, Any]] = []
    real = fastjsonschema.compile

    def counting(schema: dict[str, Any], **kwargs: Any) -> Any:
        generated.append(schema)
        return real(schema, **kwargs)

    monkeypatch.setattr(fastjsonschema, "compile", counting)
    return generated


def test_a_validator_is_generated_when_it_is_made_and_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    checks = load()
    generated = counted(monkeypatch)
    validate = checks.compiled(SCHEMA)
    assert generated == [SCHEMA]
    assert validate({"name": "a"}) == {"name": "a", "tier": "basic"}
    with pytest.raises(checks.Invalid):
        validate({"name": ""})
    assert generated == [SCHEMA]


def test_on_first_use_it_is_generated_on_the_first_check_and_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    checks = load()
    generated = counted(monkeypatch)
    validate = checks.compiled(SCHEMA, on_first_use=True)
    assert generated == []
    assert validate({"name": "a"}) == {"name": "a", "tier": "basic"}
    assert validate({"name": "b", "tier": "gold"}) == {"name": "b", "tier": "gold"}
    with pytest.raises(checks.Invalid):
        validate({"name": ""})
    assert generated == [SCHEMA]


@pytest.mark.parametrize("on_first_use", [False, True])
def test_a_broken_schema_is_never_the_clients_bad_request(on_first_use: bool) -> None:
    """A schema fastjsonschema cannot compile is a defect of the handler: not `Invalid`, not any `ValueError`
    (`rest_requests.json_body` answers those with 400), whether it is found at import or on first use."""
    checks = load()
    broken = {"type": "object", "properties": {"name": {"type": "text"}}}  # no such JSON Schema type
    with pytest.raises(RuntimeError, match="the schema cannot be compiled") as raised:
        checks.compiled(broken, on_first_use=on_first_use)({"name": "a"})
    assert not isinstance(raised.value, ValueError)


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


def test_a_validator_made_for_first_use_imports_nothing_until_then() -> None:
    """Neither the module nor a validator made `on_first_use` imports fastjsonschema: a cold start that checks
    no body never pays for it."""
    import subprocess

    code = (f"import sys; sys.path.insert(0, {str(SHARED_DIR)!r}); import schema_checks; "
            "validate = schema_checks.compiled({'type': 'object'}, on_first_use=True); "
            "before = 'fastjsonschema' in sys.modules; validate({}); "
            "print(before, 'fastjsonschema' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.split() == ["False", "True"]


def test_every_handler_schema_compiles(tmp_path: Path) -> None:
    """Every validator a handler module makes can be generated, including those made `on_first_use`, whose
    schema a request may never have reached in the other tests. Each folder that packages `schema_checks` is
    staged as its archive holds it and each of its modules imported in a fresh interpreter."""
    import json
    import shutil
    import subprocess

    from serverless_patterns.core.packaging import LAMBDAS_DIR, function_files

    folders = sorted({path.parent for path in LAMBDAS_DIR.glob("*/*/*.py")
                      if "schema_checks.py" in function_files(path.parent)})
    assert folders
    script = """
import importlib, json, pathlib, sys
sys.path.insert(0, sys.argv[1])
made = {}
for path in sorted(pathlib.Path(sys.argv[1]).glob("*.py")):
    module = importlib.import_module(path.stem)
    for name, value in vars(module).items():
        if type(value).__name__ == "Validator" and type(value).__module__ == "schema_checks":
            try:
                value({})
            except ValueError:
                pass
            made[f"{path.stem}.{name}"] = value._check is not None
print(json.dumps(made))
"""
    env = {"PATH": "/usr/bin:/bin", "AWS_DEFAULT_REGION": "eu-west-1", "POWERTOOLS_TRACE_DISABLED": "1",
           "POWERTOOLS_SERVICE_NAME": "schema-check", "POWERTOOLS_METRICS_NAMESPACE": "SchemaCheck"}
    for folder in folders:
        staged = tmp_path / folder.name
        for name, source in function_files(folder).items():
            (staged / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, staged / name)
        done = subprocess.run([sys.executable, "-c", script, str(staged)], capture_output=True, text=True,
                              env=env, timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]
        made = json.loads(done.stdout.strip().splitlines()[-1])
        assert made and all(made.values()), (folder, made)
