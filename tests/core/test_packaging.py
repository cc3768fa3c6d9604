import sys
import zipfile
from io import BytesIO
from pathlib import Path

import pulumi
import pytest

from serverless_patterns.core import packaging
from serverless_patterns.core.packaging import (
    PackagingError,
    build_dependencies,
    collect_files,
    content_digest,
    dependency_cache_key,
    powertools_layer_arn,
    zip_bytes,
)
from serverless_patterns.offline import run_callable


def make_function(root: Path) -> Path:
    (root / "pkg").mkdir(parents=True)
    (root / "app.py").write_text("def handler(e, c):\n    return e\n")
    (root / "pkg" / "util.py").write_text("X = 1\n")
    return root


def test_caches_and_requirements_are_excluded(tmp_path: Path) -> None:
    folder = make_function(tmp_path / "fn")
    (folder / "__pycache__").mkdir()
    (folder / "__pycache__" / "app.cpython-311.pyc").write_bytes(b"\0")
    (folder / "pkg" / "util.pyc").write_bytes(b"\0")
    (folder / "requirements.txt").write_text("six==1.17.0\n")
    (folder / ".DS_Store").write_bytes(b"\0")
    assert list(collect_files(folder)) == ["app.py", "pkg/util.py"]


def test_same_content_same_digest_and_zip(tmp_path: Path) -> None:
    first = make_function(tmp_path / "a")
    second = make_function(tmp_path / "b")
    (second / "__pycache__").mkdir()
    (second / "__pycache__" / "app.cpython-311.pyc").write_bytes(b"cache")
    assert content_digest(collect_files(first)) == content_digest(collect_files(second))
    assert zip_bytes(collect_files(first)) == zip_bytes(collect_files(second))
    (second / "app.py").write_text("def handler(e, c):\n    return None\n")
    assert content_digest(collect_files(first)) != content_digest(collect_files(second))


def test_zip_has_fixed_timestamps(tmp_path: Path) -> None:
    folder = make_function(tmp_path / "fn")
    with zipfile.ZipFile(BytesIO(zip_bytes(collect_files(folder)))) as archive:
        assert {info.date_time for info in archive.infolist()} == {(1990, 1, 1, 0, 0, 0)}
        assert archive.namelist() == ["app.py", "pkg/util.py"]


def test_unknown_function_folder_is_a_clear_error() -> None:
    with pytest.raises(PackagingError, match="no Lambda code folder 'lambdas/nope'"):
        packaging.function_dir("nope")
    with pytest.raises(PackagingError, match="no Lambda code folder"):
        packaging.function_dir("../components")


def test_powertools_layer_by_partition_region_runtime_architecture() -> None:
    def program() -> None:
        pulumi.export("arm", powertools_layer_arn("aws", "eu-west-1", "python3.14", "arm64", 27))
        pulumi.export("cn", powertools_layer_arn("aws-cn", "cn-north-1", "python3.13", "x86_64", 3))

    outputs = run_callable(program).outputs
    assert outputs["arm"] == ("arn:aws:lambda:eu-west-1:017000801446:layer:"
                              "AWSLambdaPowertoolsPythonV3-python314-arm64:27")
    assert outputs["cn"] == ("arn:aws-cn:lambda:cn-north-1:498634801083:layer:"
                             "AWSLambdaPowertoolsPythonV3-python313-x86_64:3")


def test_unpinned_requirements_are_refused(tmp_path: Path) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("requests>=2\n")
    with pytest.raises(PackagingError, match="pin every requirement"):
        build_dependencies(requirements, "python3.14", "arm64")


def test_no_requirements_means_nothing_to_build(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("# nothing beyond the layer\n")
    assert build_dependencies(tmp_path / "requirements.txt", "python3.14", "arm64") is None
    assert build_dependencies(tmp_path / "missing.txt", "python3.14", "arm64") is None


def test_cache_key_depends_on_requirements_runtime_and_architecture() -> None:
    base = dependency_cache_key(["six==1.17.0"], "python3.14", "arm64")
    assert base == dependency_cache_key(["six==1.17.0"], "python3.14", "arm64")
    assert base != dependency_cache_key(["six==1.17.0"], "python3.14", "x86_64")
    assert base != dependency_cache_key(["six==1.17.0"], "python3.13", "arm64")
    assert base != dependency_cache_key(["six==1.16.0"], "python3.14", "arm64")


def test_dependencies_are_built_for_the_platform_and_cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SERVERLESS_PATTERNS_BUILD_DIR", str(tmp_path / "build"))
    requirements = tmp_path / "requirements.txt"
    # cffi ships platform wheels: the aarch64 build proves pip's --platform was honoured.
    requirements.write_text("cffi==2.0.0\n")
    built = build_dependencies(requirements, "python3.14", "arm64")
    assert built is not None
    binaries = [p.name for p in built.rglob("*.so")]
    assert binaries and all("aarch64" in name for name in binaries), binaries
    assert not list(built.rglob("__pycache__"))
    # A second build with the same pins is the cached folder, untouched.
    marker = built / "cached-marker"
    marker.write_text("x")
    assert build_dependencies(requirements, "python3.14", "arm64") == built
    assert marker.exists()


def test_builds_do_not_depend_on_the_building_interpreter(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("cffi==2.0.0\n")  # ships a console script, whose shebang names the interpreter
    monkeypatch.setenv("SERVERLESS_PATTERNS_BUILD_DIR", str(tmp_path / "build"))
    built = build_dependencies(requirements, "python3.14", "arm64")
    assert built is not None
    assert not (built / "bin").exists()
    assert not list(built.glob("*.dist-info/RECORD"))


def _without_pip(monkeypatch: pytest.MonkeyPatch) -> None:
    """This environment as `uv venv` (or Pulumi's `toolchain: uv`) makes it: no pip module."""
    real = packaging.importlib.util.find_spec
    monkeypatch.setattr(packaging.importlib.util, "find_spec",
                        lambda name, *args: None if name == "pip" else real(name, *args))


def test_without_pip_dependencies_are_built_with_uv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("cffi==2.0.0\n")
    monkeypatch.setenv("SERVERLESS_PATTERNS_BUILD_DIR", str(tmp_path / "pip"))
    with_pip = build_dependencies(requirements, "python3.14", "arm64")
    _without_pip(monkeypatch)
    command = packaging.installer_command(requirements, tmp_path / "t", "3.14", "arm64")
    assert command[1:3] == ["pip", "install"] and "aarch64-manylinux_2_34" in command, command
    monkeypatch.setenv("SERVERLESS_PATTERNS_BUILD_DIR", str(tmp_path / "uv"))
    with_uv = build_dependencies(requirements, "python3.14", "arm64")
    assert with_pip is not None and with_uv is not None
    # The same pins give the same archive content whichever installer built them.
    assert content_digest(collect_files(with_uv)) == content_digest(collect_files(with_pip))
    assert any("aarch64" in p.name for p in with_uv.rglob("*.so"))


def test_uv_on_path_is_used_when_the_environment_has_no_uv_package(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    _without_pip(monkeypatch)
    monkeypatch.setitem(sys.modules, "uv", None)  # `import uv` fails
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "uv").write_text("#!/bin/sh\nexit 0\n")
    (bin_dir / "uv").chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    command = packaging.installer_command(tmp_path / "requirements.txt", tmp_path / "t", "3.14", "x86_64")
    assert command[0] == str(bin_dir / "uv")
    assert command[command.index("--python-platform") + 1] == "x86_64-manylinux_2_34"
    assert command[command.index("--python") + 1] == sys.executable


def test_without_pip_or_uv_the_error_is_one_line_that_says_what_to_install(tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    _without_pip(monkeypatch)
    monkeypatch.setitem(sys.modules, "uv", None)
    monkeypatch.setenv("PATH", str(tmp_path))  # no uv on PATH either
    monkeypatch.setenv("SERVERLESS_PATTERNS_BUILD_DIR", str(tmp_path / "build"))
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("six==1.17.0\n")
    with pytest.raises(PackagingError) as raised:
        build_dependencies(requirements, "python3.14", "arm64")
    message = str(raised.value)
    assert "\n" not in message
    assert f"uv pip install --python {sys.executable} pip" in message
    assert "ensurepip" in message
    assert not list((tmp_path / "build" / "deps").iterdir()), "nothing half-built is left behind"
