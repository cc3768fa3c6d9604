"""Every Lambda requirements.txt pins its whole dependency tree, for the Lambda's own platform.

A file that pins only its direct dependency lets pip pick the transitive ones at build time, so two
builds of the same commit can ship different code (issue 17, item 22: PyJWT pinned, cryptography,
cffi and pycparser floating). The dependency metadata comes from the installed distributions;
markers are evaluated for the functions' runtime (the newest Python runtime, Linux, arm64).
"""

from __future__ import annotations

import importlib.metadata
import re
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from serverless_patterns.core.function import DEFAULT_RUNTIME

ROOT = Path(__file__).resolve().parents[2]
FILES = sorted((ROOT / "lambdas").rglob("requirements.txt"))
#: In every Lambda Python runtime and base image: the AWS SDK for Python and what it needs
#: (https://docs.aws.amazon.com/lambda/latest/dg/lambda-python.html, "Runtime-included SDK versions").
RUNTIME_PROVIDED = {canonicalize_name(n) for n in ("boto3", "botocore", "s3transfer", "jmespath",
                                                     "python-dateutil", "six", "urllib3")}


def lambda_environment(extra: str = "") -> dict[str, str]:
    version = DEFAULT_RUNTIME.removeprefix("python")
    return {**default_environment(), "python_version": version, "python_full_version": f"{version}.0",
            "implementation_name": "cpython", "platform_python_implementation": "CPython",
            "sys_platform": "linux", "platform_system": "Linux", "os_name": "posix",
            "platform_machine": "aarch64", "extra": extra}


def pins(path: Path) -> dict[str, tuple[str, set[str]]]:
    """name -> (version, extras) of every line; a line without `==` fails."""
    found: dict[str, tuple[str, set[str]]] = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        requirement = Requirement(line)
        match = re.fullmatch(r"==([\w.+!-]+)", str(requirement.specifier))
        assert match, f"{path}: {line!r} is not pinned with =="
        found[canonicalize_name(requirement.name)] = (match.group(1), set(requirement.extras))
    return found


def missing(path: Path) -> list[str]:
    pinned = pins(path)
    problems = []
    for name, (version, extras) in pinned.items():
        distribution = importlib.metadata.distribution(name)
        for raw in distribution.requires or []:
            requirement = Requirement(raw)
            if requirement.marker and not any(requirement.marker.evaluate(lambda_environment(extra))
                                              for extra in ("", *extras)):
                continue
            needed = canonicalize_name(requirement.name)
            if needed in RUNTIME_PROVIDED:
                continue
            if needed not in pinned:
                problems.append(f"{name}=={version} needs {requirement} (not pinned)")
            elif (distribution.version == version
                  and not requirement.specifier.contains(pinned[needed][0], prereleases=True)):
                problems.append(f"{name}=={version} needs {requirement}, pinned {pinned[needed][0]}")
    return problems


def test_there_are_requirement_files() -> None:
    assert len(FILES) >= 3


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT / "lambdas").parent))
def test_every_transitive_dependency_is_pinned(path: Path) -> None:
    assert missing(path) == []


def test_the_check_finds_a_floating_dependency(tmp_path: Path) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("PyJWT[crypto]==2.15.1\n")
    assert missing(requirements) == ['pyjwt==2.15.1 needs cryptography>=3.4.0; extra == "crypto" (not pinned)']
    requirements.write_text("PyJWT[crypto]>=2\n")
    with pytest.raises(AssertionError, match="not pinned"):
        missing(requirements)
