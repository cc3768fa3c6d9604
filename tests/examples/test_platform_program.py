"""The built wheel, as a platform team installs it: one top-level package, resolvable next to other pulumi-aws 7.x
releases, and planning examples/platform-program (own `components/`, `lambdas/`, `policies/`) offline from a fresh
virtual environment. uv builds and installs (its cache makes a fresh venv take seconds), pip checks the resolution;
PyPI is reached only for what their caches lack."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from uv import find_uv_bin

pytestmark = pytest.mark.heavy  # pip and uv resolve and install from the indexes

ROOT = Path(__file__).resolve().parents[2]
PROGRAM = ROOT / "examples" / "platform-program"
UV = str(find_uv_bin())
#: What a wheel build reads: the package's folders and its metadata (tests, venvs and caches stay out).
SOURCES = ["pyproject.toml", "setup.py", "README.md", "components", "lambdas", "policies"]


def run(*command: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False, timeout=600)
    assert result.returncode == 0, f"{' '.join(command)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built from a copy of the sources so the checkout gets no build/ folder."""
    source = tmp_path_factory.mktemp("source")
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            shutil.copy2(path, source / name)
    out = tmp_path_factory.mktemp("dist")
    run(UV, "build", "--quiet", "--wheel", "--out-dir", str(out), str(source))
    [built] = out.glob("*.whl")
    return built


@pytest.fixture(scope="session")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv (no system site-packages) with the wheel installed by the example's requirements.txt."""
    path = tmp_path_factory.mktemp("platform") / "venv"
    run(UV, "venv", "--quiet", "--python", sys.executable, str(path))
    python = path / "bin" / "python"
    # The example's requirements, without its `--find-links ../../dist` (pip reads that relative to the file, uv
    # does not): the freshly built wheel's folder stands in for it.
    lines = [line.split("#")[0].strip() for line in (PROGRAM / "requirements.txt").read_text().splitlines()]
    requirements = [line for line in lines if line and not line.startswith("-")]
    assert requirements
    run(UV, "pip", "install", "--quiet", "--python", str(python), "--find-links", str(wheel.parent),
        "--constraint", str(ROOT / "constraints.txt"), *requirements)
    return python


def test_the_wheel_installs_exactly_one_top_level_package(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    top = {name.split("/", 1)[0] for name in names}
    assert top == {"serverless_patterns", f"{wheel.name.split('-py3')[0]}.dist-info"}
    # The Lambda code, the pack's files and the typing marker ship inside it.
    assert "serverless_patterns/py.typed" in names
    assert "serverless_patterns/policies/PulumiPolicy.yaml" in names
    assert "serverless_patterns/lambdas/cross_account_ecr/hello/Dockerfile" in names


def _range(requirement: str) -> tuple[str, str]:
    """(lowest allowed, exclusive upper bound) of a `name>=low,<high` requirement."""
    match = re.fullmatch(r"[\w\-\[\],]+>=([\w.]+),<([\w.]+)", requirement)
    assert match, requirement
    return match.group(1), match.group(2)


def _pinned(name: str) -> str:
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if re.fullmatch(rf"{name}==[\w.]+", line.replace("_", "-"), re.IGNORECASE):
            return line.split("==")[1]
    raise LookupError(name)


def _resolve(wheel: Path, *requirements: str) -> subprocess.CompletedProcess[str]:
    """`pip install --dry-run` of the wheel (with its offline extra) next to `requirements`, as into a new venv."""
    return subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet",
                           "--disable-pip-version-check", "--report", "-", f"{wheel}[offline]", *requirements],
                          capture_output=True, text=True, check=False, timeout=600)


def test_pip_installs_the_wheel_next_to_another_pulumi_aws_7(wheel: Path) -> None:
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    low, high = _range(next(d for d in dependencies if d.startswith("pulumi-aws")))
    assert low != _pinned("pulumi-aws"), "the range's lower bound is another release than the one this repo pins"
    # The two resolutions are independent and wait on the indexes as much as they compute: run them side by side.
    with ThreadPoolExecutor(max_workers=2) as pool:
        resolving = pool.submit(_resolve, wheel, f"pulumi-aws=={low}")
        refusing = pool.submit(_resolve, wheel, f"pulumi-aws=={int(high.split('.')[0]) - 2}.*")
        resolved, refused = resolving.result(), refusing.result()
    assert resolved.returncode == 0, resolved.stderr[-3000:]
    versions = {re.sub(r"[-_.]+", "-", item["metadata"]["name"]).lower(): item["metadata"]["version"]
                for item in json.loads(resolved.stdout)["install"]}
    assert versions["pulumi-aws"] == low
    assert versions["pulumi-serverless-patterns"] == wheel.name.split("-")[1]
    # Outside the range, pip refuses: the check can fail.
    assert refused.returncode != 0 and "pulumi-aws" in refused.stderr


PROBE = """
import importlib.resources, json, sys
from serverless_patterns.offline.plan import plan, to_json
result = plan(sys.argv[1], "dev")
print(json.dumps({
    "plan": to_json(result),
    "modules": {m: sys.modules[m].__file__ for m in ("components", "lambdas", "policies", "serverless_patterns")},
    "bundled_lambdas": str(importlib.resources.files("serverless_patterns.lambdas")),
}, default=str))
"""


@pytest.fixture(scope="session")
def planned(venv: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The example planned by the installed wheel, run from a folder outside the checkout.

    uv made the venv, so it has no pip: the authorizer's pinned dependencies are built with uv from PATH,
    as on a machine where uv is installed (the packaging fallback, for real)."""
    assert not (venv.parent / "pip").exists()
    env = {**os.environ, "PYTHONSAFEPATH": "1", "PATH": f"{Path(UV).parent}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run([str(venv), "-c", PROBE, str(PROGRAM)], cwd=tmp_path_factory.mktemp("run"), env=env,
                            capture_output=True, text=True, check=False, timeout=600)
    assert result.returncode == 0, result.stderr[-4000:]
    return json.loads(result.stdout.splitlines()[-1])


def test_the_example_plans_clean_from_the_installed_wheel(planned: dict) -> None:
    plan = planned["plan"]
    assert plan["ok"] and plan["policy"]["ran"] and plan["policy"]["violations"] == []
    types = {node["type"] for node in plan["tree"]}
    assert {"serverless-patterns:index:GlacierRestore", "serverless-patterns:index:MultiTenantApi",
            "serverless-patterns:index:ApiGatewayAccountLogging", "platform:index:StatusFunction"} <= types
    assert set(plan["outputs"]) == {"archive", "tenants", "statusFunctionArn", "apiGatewayLoggingRoleArn"}


def test_the_programs_own_packages_and_the_library_do_not_shadow_each_other(planned: dict, venv: Path) -> None:
    modules = {name: Path(path) for name, path in planned["modules"].items()}
    for own in ("components", "lambdas", "policies"):
        assert modules[own].parent == PROGRAM / own, modules[own]
    site = venv.parent.parent / "lib"
    assert site in modules["serverless_patterns"].parents, "the library comes from the wheel, not the checkout"
    assert site in Path(planned["bundled_lambdas"]).parents
