"""`pulumi install` / `pulumi up` on a fresh clone, as Pulumi's Python language host does them (toolchain pip).

Emulated step by step from pulumi/pulumi at 1b5949891b3c (2026-08-21):
- sdk/python/toolchain/pip.go `InstallDependencies`: `python3 -m venv <root>/<virtualenv>`, then
  `<venv>/bin/python -m pip install --upgrade pip setuptools wheel` and, only if `requirements.txt` exists,
  `<venv>/bin/python -m pip install -r requirements.txt`, both run in the project folder;
- sdk/python/cmd/pulumi-language-python-exec: `os.chdir(pwd)`, then `runpy.run_path(PROGRAM, run_name="__main__")`
  where PROGRAM is the entry point `.`, so the project folder is first on `sys.path`.
The deployment engine is the offline engine's mock monitor; everything else is the real thing. A fresh install
takes minutes, so these tests are marked `install` and run by `make test-install` (and CI), not `make test`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.install

RUN_AS_THE_EXEC_SHIM_DOES = """
import json, os, runpy, sys
from serverless_patterns.offline.engine import read_project, read_stack_config, run_callable
from pathlib import Path
os.chdir(sys.argv[1])
project = read_project(Path("."))
config, secrets = read_stack_config(Path("."), project, "dev")
stack = run_callable(lambda: runpy.run_path(".", run_name="__main__"), project=project, stack="dev",
                     config=config, secret_keys=secrets)
import serverless_patterns, pulumi_aws
print(json.dumps({"types": sorted({r.type for r in stack.resources}), "outputs": sorted(stack.outputs),
                  "library": serverless_patterns.__file__, "aws": pulumi_aws.__file__}))
"""


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The checkout's files as a fresh clone has them (tracked and new, never ignored ones such as .venv)."""
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                           capture_output=True, check=True).stdout.decode().split("\0")
    target = tmp_path_factory.mktemp("clone")
    for name in filter(None, files):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            (target / name).write_bytes(source.read_bytes())
    return target


@pytest.fixture(scope="module")
def installed(clone: Path) -> Path:
    """`pulumi install`: the venv Pulumi.yaml names, then pip exactly as the language host runs it."""
    options = yaml.safe_load((clone / "Pulumi.yaml").read_text())["runtime"]["options"]
    assert options["toolchain"] == "pip"
    venv = clone / options["virtualenv"]
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python = venv / "bin" / "python"
    # Byte-compiling every pulumi_aws module is most of a fresh install's time and changes nothing installed.
    env = {**os.environ, "VIRTUAL_ENV": str(venv), "PIP_NO_COMPILE": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    for args in (["--upgrade", "pip", "setuptools", "wheel"], ["-r", "requirements.txt"]):
        result = subprocess.run([str(python), "-m", "pip", "install", "--quiet", *args], cwd=clone, env=env,
                                capture_output=True, text=True, check=False, timeout=900)
        assert result.returncode == 0, result.stderr[-4000:]
    return python


def test_a_fresh_clone_has_the_requirements_the_language_host_installs(clone: Path) -> None:
    lines = [line.split("#")[0].strip() for line in (clone / "requirements.txt").read_text().splitlines()]
    assert "-c constraints.txt" in lines
    assert any(line.startswith("-e .") for line in lines)


def test_the_program_runs_from_the_installed_venv_as_the_exec_shim_runs_it(installed: Path, clone: Path) -> None:
    # The shim is a script file, so the current folder is not on sys.path until run_path('.') puts the
    # project folder first; PYTHONSAFEPATH keeps `-c` from adding it earlier.
    env = {**os.environ, "PYTHONSAFEPATH": "1", "VIRTUAL_ENV": str(installed.parent.parent)}
    result = subprocess.run([str(installed), "-c", RUN_AS_THE_EXEC_SHIM_DOES, str(clone)], cwd=clone, env=env,
                            capture_output=True, text=True, check=False, timeout=600)
    assert result.returncode == 0, result.stderr[-4000:]
    ran = json.loads(result.stdout.splitlines()[-1])
    # The library is the clone's own editable install; its dependencies are in the venv pip made.
    assert Path(ran["library"]).is_relative_to(clone)
    assert Path(ran["aws"]).is_relative_to(installed.parent.parent)
    assert {t for t in ran["types"] if t.startswith("serverless-patterns:index:")} >= {
        "serverless-patterns:index:GlacierRestore", "serverless-patterns:index:ProgressTracker",
        "serverless-patterns:index:MultiTenantApi", "serverless-patterns:index:CrossAccountEcr"}
    assert ran["outputs"] == sorted(["glacierRestore", "progressTracker", "multiTenantApi", "crossAccountEcr"])
