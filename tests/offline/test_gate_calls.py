"""Each function folder's `aws_calls.json` says exactly what its code calls.

The gate checks every function's role against these declarations; this test keeps them honest: the
AWS API calls found in a folder's code (methods of the boto3 clients and resources it creates, and the
operation a presigned URL signs) are exactly the calls its handlers declare, and each declared call
exists in botocore's model.
"""

import ast
import json
from pathlib import Path

import botocore.session
import pytest
from botocore import xform_name

from serverless_patterns.core.packaging import LAMBDAS_DIR
from serverless_patterns.offline.gate.permissions import MANIFEST, iam_actions
from serverless_patterns.offline.gate.sources import iam_service

SESSION = botocore.session.get_session()


def _folders() -> list[Path]:
    return sorted({p.parent for p in LAMBDAS_DIR.rglob("*.py") if "__pycache__" not in p.parts
                   and p.name != "__init__.py"})


def calls_in_code(folder: Path) -> set[str]:
    """`service:Operation` of every AWS call the folder's modules make."""
    trees = [ast.parse(p.read_text()) for p in sorted(folder.glob("*.py"))]
    services: set[str] = set()
    for tree in trees:
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and
                    isinstance(node.func.value, ast.Name) and node.func.value.id == "boto3" and
                    node.func.attr in ("client", "resource") and node.args and isinstance(node.args[0], ast.Constant)):
                services.add(str(node.args[0].value))
    operations = {service: {xform_name(op): op for op in SESSION.get_service_model(service).operation_names}
                  for service in services}
    # A method call of a name the folder's own classes define (a Store's `get_connection`) is its own code.
    own = {item.name for tree in trees for node in ast.walk(tree) if isinstance(node, ast.ClassDef)
           for item in node.body if isinstance(item, ast.FunctionDef)}
    found: set[str] = set()
    for tree in trees:
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            name = node.func.attr
            if name == "generate_presigned_url" and node.args and isinstance(node.args[0], ast.Constant):
                name = str(node.args[0].value)  # the URL is signed for this operation
            for service, ops in operations.items():
                if name in ops and name not in own:
                    found.add(f"{service}:{ops[name]}")
    return found


FOLDERS = _folders()


@pytest.mark.parametrize("folder", FOLDERS, ids=[f.relative_to(LAMBDAS_DIR).as_posix() for f in FOLDERS])
def test_declared_calls_are_the_calls_in_the_code(folder: Path) -> None:
    in_code = calls_in_code(folder)
    path = folder / MANIFEST
    if not path.exists():
        assert not in_code, f"{folder.name} calls {sorted(in_code)} but has no {MANIFEST}"
        return
    declared = json.loads(path.read_text())
    handlers = {k: v for k, v in declared.items() if not k.startswith("_")}
    for module in handlers:
        assert (folder / f"{module}.py").exists(), f"{MANIFEST} names {module}, which is not a module here"
    with_handler = {p.stem for p in folder.glob("*.py") if "def handler" in p.read_text()}
    assert with_handler <= set(handlers), f"handlers without declared calls: {with_handler - set(handlers)}"
    union = {call["call"] for calls in handlers.values() for call in calls}
    assert union == in_code, f"declared {sorted(union)}, code calls {sorted(in_code)}"
    for entry in (call for calls in handlers.values() for call in calls):
        service, operation = entry["call"].split(":")
        assert operation in SESSION.get_service_model(service).operation_names
        for action in entry.get("actions") or iam_actions(entry["call"]):
            prefix, name = action.split(":")
            reference = iam_service(prefix)
            assert reference is not None and name in reference["privileges"], action


def test_every_folder_that_calls_aws_is_covered() -> None:
    assert any((folder / MANIFEST).exists() for folder in FOLDERS)
    assert {f.name for f in FOLDERS if calls_in_code(f)} == {
        "download", "cost_estimate", "backend", "authorizer", "websocket", "pre_token", "admin", "tenant_steps"}
