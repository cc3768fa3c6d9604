import ast
import importlib.metadata
import json
import re
import sys
import zipfile
from io import BytesIO
from pathlib import Path
from typing import Any

import pulumi
import pytest

from serverless_patterns.core import packaging
from serverless_patterns.core.args import ComponentArgsError
from serverless_patterns.core.function import validate_settings
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
from serverless_patterns.offline.mocks import AwsMocks


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


ROOT = Path(__file__).resolve().parents[2]


def _pin(path: Path, package: str) -> str:
    """The exact version `path` pins for `package` (a `name==x.y.z` line, extras allowed)."""
    pattern = rf"^{package.replace('-', '[-_]')}(\[[^\]]*\])?==(\S+)"
    match = re.search(pattern, path.read_text(), re.MULTILINE | re.IGNORECASE)
    assert match, f"{path} does not pin {package}"
    return match.group(2)


#: The Powertools release the tests run against: constraints.txt is the single source of truth.
TESTED_POWERTOOLS = _pin(ROOT / "constraints.txt", "aws_lambda_powertools")


@pytest.fixture
def invokes(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict[str, Any], Any]]:
    """Every invoke the offline engine answers: (token, arguments, answer)."""
    seen: list[tuple[str, dict[str, Any], Any]] = []
    original = AwsMocks.call

    def recording(self: AwsMocks, args: Any) -> Any:
        answer = original(self, args)
        seen.append((args.token, dict(args.args), answer))
        return answer

    monkeypatch.setattr(AwsMocks, "call", recording)
    return seen


def test_the_layer_carries_the_powertools_release_the_tests_run_against() -> None:
    """Issue 17 item 23: the layer, the tests (constraints.txt), the installed package and the sample image agree."""
    assert packaging.POWERTOOLS_VERSION == TESTED_POWERTOOLS
    assert importlib.metadata.version("aws-lambda-powertools") == TESTED_POWERTOOLS
    assert _pin(ROOT / "lambdas" / "cross_account_ecr" / "hello" / "requirements.txt",
                "aws-lambda-powertools") == TESTED_POWERTOOLS


#: The function folders that validate with JSON Schema and have no requirements.txt of their own.
JSON_SCHEMA_FOLDERS = ("progress_tracker/websocket", "multi_tenant_api/backend", "multi_tenant_api/admin")


def test_the_layer_carries_the_json_schema_validator_the_handlers_import() -> None:
    """The progress WebSocket, tenant backend and admin folders have no requirements.txt, and their archives carry
    the shared `schema_checks`, which imports fastjsonschema: it must come from the Powertools layer.
    Powertools builds its public layer with every extra (`aws-lambda-powertools[all]==<release>`:
    https://github.com/aws-powertools/powertools-lambda-python/blob/develop/layer_v3/layer_constructors/helpers.py,
    `construct_build_args`, extras included by default), so the tested release's `all` extra must require it, and
    the version installed for the tests must satisfy that range."""
    from packaging.requirements import Requirement

    for name in JSON_SCHEMA_FOLDERS:
        folder = packaging.function_dir(name)
        assert not (folder / "requirements.txt").exists()
        assert packaging.function_files(folder)["schema_checks.py"] == packaging.SHARED_DIR / "schema_checks.py"
    assert "import fastjsonschema" in (packaging.SHARED_DIR / "schema_checks.py").read_text()
    extras = [Requirement(raw) for raw in importlib.metadata.requires("aws-lambda-powertools") or []]
    [needed] = [r for r in extras if r.name == "fastjsonschema" and r.marker and r.marker.evaluate({"extra": "all"})]
    assert needed.specifier.contains(importlib.metadata.version("fastjsonschema"))


def test_each_archive_carries_the_shared_modules_its_code_imports() -> None:
    """A shared module lives once in `lambdas/shared/` and is packaged at the top level of every archive whose code
    imports it, directly (`rest_requests`) or through another shared module (`schema_checks`); no other archive
    holds one."""
    from serverless_patterns.core.function import DEFAULT_RUNTIME

    shared = {"rest_requests.py", "schema_checks.py"}
    expected = {"multi_tenant_api/backend": shared, "multi_tenant_api/admin": shared,
                "progress_tracker/websocket": {"schema_checks.py"}, "glacier_restore/download": set(),
                "multi_tenant_api/authorizer": set()}
    for name, modules in expected.items():
        folder = packaging.function_dir(name)
        files = packaging.package_files(name, runtime=DEFAULT_RUNTIME, architecture="arm64",
                                        builder=lambda *_: None)
        assert {n for n, path in files.items() if path.parent == packaging.SHARED_DIR} == modules, name
        assert {n: p for n, p in files.items() if n not in modules} == collect_files(folder), name


def test_shared_modules_are_found_through_every_kind_of_import(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                                 ) -> None:
    """`import x`, `from x import y` and an import inside a function all count; a module of the same name in the
    folder itself is refused; a folder outside `lambdas/` (a program's own) gets no shared module."""
    lambdas, shared = tmp_path / "lambdas", tmp_path / "lambdas" / "shared"
    shared.mkdir(parents=True)
    (shared / "first.py").write_text("import second\n")
    (shared / "second.py").write_text("X = 1\n")
    (shared / "third.py").write_text("from second import X\n")
    (shared / "unused.py").write_text("Y = 2\n")
    monkeypatch.setattr(packaging, "LAMBDAS_DIR", lambdas)
    monkeypatch.setattr(packaging, "SHARED_DIR", shared)
    fn = lambdas / "pattern" / "fn"
    (fn / "pkg").mkdir(parents=True)
    (fn / "app.py").write_text("def handler(e, c):\n    import first\n    return first\n")
    (fn / "pkg" / "util.py").write_text("from third import X\n")
    assert packaging.shared_files(fn) == {name: shared / name for name in ("first.py", "second.py", "third.py")}
    assert list(packaging.function_files(fn)) == ["app.py", "first.py", "pkg/util.py", "second.py", "third.py"]
    (fn / "pkg" / "util.py").write_text("import os.path\nfrom . import sibling\n")
    assert list(packaging.shared_files(fn)) == ["first.py", "second.py"]
    (fn / "second.py").write_text("X = 3\n")
    with pytest.raises(PackagingError, match=r"has a module second\.py of its own"):
        packaging.shared_files(fn)
    outside = tmp_path / "program" / "fn"
    outside.mkdir(parents=True)
    (outside / "app.py").write_text("import first\n")
    assert packaging.shared_files(outside) == {}
    assert packaging.shared_files(shared) == {}


@pytest.mark.parametrize(("partition_region", "account"), [
    (("aws", "eu-west-1"), "017000801446"), (("aws-cn", "cn-north-1"), "498634801083")])
def test_the_layer_is_the_one_powertools_publishes_for_the_tested_release(
        invokes: list[tuple[str, dict[str, Any], Any]], partition_region: tuple[str, str], account: str) -> None:
    """Resolved at deploy time from the public SSM parameter of the release (Powertools pull request 5754:
    `/aws/service/powertools/python/<arch>/<runtime>/<version>`; the runtime keeps its dot, issue 6213)."""
    partition, region = partition_region
    outputs = run_callable(lambda: pulumi.export("layer", powertools_layer_arn(
        partition, region, "python3.14", "arm64")), region=region).outputs
    [(_, args, answer)] = [i for i in invokes if i[0] == "aws:ssm/getParameter:getParameter"]
    assert args["name"] == f"/aws/service/powertools/python/arm64/python3.14/{TESTED_POWERTOOLS}"
    assert outputs["layer"] == answer["insecureValue"]
    assert re.fullmatch(rf"arn:{partition}:lambda:{region}:{account}:layer:"
                        r"AWSLambdaPowertoolsPythonV3-python314-arm64:[1-9][0-9]*", outputs["layer"])


def test_a_parameter_value_that_is_not_that_layer_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    original = AwsMocks.call

    def other_layer(self: AwsMocks, args: Any) -> Any:
        answer = original(self, args)
        if args.token == "aws:ssm/getParameter:getParameter":
            wrong = answer["insecureValue"].replace("-arm64:", "-x86_64:")
            answer = {**answer, "value": wrong, "insecureValue": wrong}
        return answer

    monkeypatch.setattr(AwsMocks, "call", other_layer)
    with pytest.raises(Exception, match="not a layer version of AWSLambdaPowertoolsPythonV3-python314-arm64"):
        run_callable(lambda: pulumi.export("layer", powertools_layer_arn("aws", "eu-west-1", "python3.14", "arm64")))


def test_a_layer_version_known_to_carry_the_tested_release_is_used_as_given(
        monkeypatch: pytest.MonkeyPatch, invokes: list[tuple[str, dict[str, Any], Any]]) -> None:
    monkeypatch.setitem(packaging.KNOWN_LAYER_RELEASES, 41, TESTED_POWERTOOLS)
    outputs = run_callable(lambda: pulumi.export("layer", powertools_layer_arn(
        "aws", "eu-west-1", "python3.13", "x86_64", 41))).outputs
    assert outputs["layer"] == ("arn:aws:lambda:eu-west-1:017000801446:layer:"
                                "AWSLambdaPowertoolsPythonV3-python313-x86_64:41")
    assert not [i for i in invokes if i[0] == "aws:ssm/getParameter:getParameter"]


@pytest.mark.parametrize(("version", "reason"), [
    (27, "27: it carries Powertools 3.23.0"),  # issue 7689: layer 27 is the 3.23.0 release
    (99, "99: no published source says which Powertools release it carries")])
def test_a_configured_layer_version_that_cannot_be_mapped_to_the_tested_release_is_refused(
        version: int, reason: str) -> None:
    with pytest.raises(ComponentArgsError) as error:
        validate_settings("GlacierRestore", {"powertools_layer_version": version})
    assert error.value.component == "GlacierRestore"
    assert error.value.field == "function_settings.powertools_layer_version" and error.value.value == version
    assert reason in error.value.allowed and TESTED_POWERTOOLS in error.value.allowed
    assert "/aws/service/powertools/python/" in error.value.allowed
    assert "powertools_layer_version" not in validate_settings("GlacierRestore", {})


def test_govcloud_layers_are_refused_with_the_reason() -> None:
    # Powertools publishes GovCloud layers (install page, "AWS GovCloud regions") from per-Region accounts
    # whose version numbers differ from the commercial ones, and documents no SSM parameter or mapping there.
    with pytest.raises(Exception, match=r"165093116878.*of its own.*neither a public SSM parameter nor a published"):
        run_callable(lambda: pulumi.export(
            "gov", powertools_layer_arn("aws-us-gov", "us-gov-west-1", "python3.13", "arm64")))


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


def _captured_archive_digest(archive: pulumi.AssetArchive) -> str:
    """What Pulumi's engine hashes for an asset archive: each entry's name and bytes, in name order (the
    FileAsset's path on the building machine is not part of it). Read from the captured inputs."""
    import hashlib

    digest = hashlib.sha256()
    for name in sorted(archive.assets):
        asset = archive.assets[name]
        assert isinstance(asset, pulumi.FileAsset), f"{name}: {type(asset).__name__} depends on the build"
        digest.update(name.encode() + b"\0" + Path(asset.path).read_bytes() + b"\0")
    return digest.hexdigest()


def test_the_deployed_archive_is_the_same_from_two_builds_on_different_checkouts(tmp_path: Path) -> None:
    """Two builds of the same function code from two checkouts (other paths, other mtimes, caches and
    editor litter in one): the `code` AssetArchive the function is registered with has the same entries
    and the same content hash, so a second `pulumi up` from another machine shows no code change."""
    import os
    import shutil

    from serverless_patterns.core import iam
    from serverless_patterns.core.function import PythonFunction

    source = packaging.function_dir("glacier_restore/cost_estimate")
    first, second = tmp_path / "checkout-a" / "fn", tmp_path / "checkout-b" / "fn"
    shutil.copytree(source, first, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    shutil.copytree(source, second, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for path in second.rglob("*"):
        os.utime(path, (1_000_000_000, 1_000_000_000))
    (second / "__pycache__").mkdir()
    (second / "__pycache__" / "app.cpython-311.pyc").write_bytes(b"\x00stale")
    (second / ".DS_Store").write_bytes(b"\x00")

    def deployed(folder: Path) -> pulumi.AssetArchive:
        # The grant the code's declared calls need (aws_calls.json), so the validation gate passes too.
        grant = [iam.allow(["pricing:GetProducts"], ["*"])]
        stack = run_callable(lambda: PythonFunction("cost", code=folder, service="cost", statements=grant),
                             region="eu-west-1", account="111111111111")
        return stack.one("aws:lambda/function:Function").inputs["code"]

    a, b = deployed(first), deployed(second)
    assert sorted(a.assets) == sorted(b.assets) == sorted(collect_files(first))
    assert {x.path for x in a.assets.values()}.isdisjoint(x.path for x in b.assets.values())
    assert _captured_archive_digest(a) == _captured_archive_digest(b)
    (second / "app.py").write_text((second / "app.py").read_text() + "\n# changed\n")
    assert _captured_archive_digest(deployed(second)) != _captured_archive_digest(a)


def test_functions_with_the_same_pins_share_one_dependency_build(monkeypatch: pytest.MonkeyPatch) -> None:
    """The two authorizers pin the same dependency tree: it is built (or found in the cache) once, and both
    archives take their third-party files from that one folder."""
    from serverless_patterns.core.function import DEFAULT_RUNTIME

    built: list[Path | None] = []
    real = packaging.build_dependencies

    def counting(requirements: Path, runtime: str, architecture: str) -> Path | None:
        built.append(real(requirements, runtime, architecture))
        return built[-1]

    monkeypatch.setattr(packaging, "build_dependencies", counting)
    first = packaging.package_files("multi_tenant_api/authorizer", runtime=DEFAULT_RUNTIME, architecture="arm64")
    second = packaging.package_files("progress_tracker/authorizer", runtime=DEFAULT_RUNTIME, architecture="arm64")
    assert len(built) == 2 and built[0] is not None and built[0] == built[1]
    shared = {name for name, path in first.items() if built[0] in path.parents}
    assert "jwt/__init__.py" in shared
    assert {name: first[name] for name in shared} == {name: second[name] for name in shared}


def test_each_distinct_pin_set_is_built_once_on_a_cold_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """On an empty build cache, the two authorizers (the same pins in files of their own) run the installer once
    between them and share its folder; a function with other pins gets a build of its own. The installer is
    replaced by one that records each call, so the count is of builds, not of cache hits."""
    from serverless_patterns.core.function import DEFAULT_RUNTIME

    monkeypatch.setenv("SERVERLESS_PATTERNS_BUILD_DIR", str(tmp_path / "build"))
    installs: list[list[str]] = []

    def recording(requirements: Path, target: Path, python_version: str, architecture: str) -> list[str]:
        installs.append(packaging.requirement_lines(requirements))
        return [sys.executable, "-c", "import pathlib, sys; pathlib.Path(sys.argv[1], 'dep.py').write_text('X = 1')",
                str(target)]

    monkeypatch.setattr(packaging, "installer_command", recording)
    authorizers = ("multi_tenant_api/authorizer", "progress_tracker/authorizer")
    pins = [sorted(packaging.requirement_lines(packaging.LAMBDAS_DIR / name / "requirements.txt"))
            for name in authorizers]
    assert pins[0] == pins[1] and pins[0]
    archives = [packaging.package_files(name, runtime=DEFAULT_RUNTIME, architecture="arm64") for name in authorizers]
    assert len(installs) == 1
    assert archives[0]["dep.py"] == archives[1]["dep.py"]

    other = make_function(tmp_path / "other")
    (other / "requirements.txt").write_text("six==1.17.0\n")
    third = packaging.package_files(other, runtime=DEFAULT_RUNTIME, architecture="arm64")
    assert installs == [installs[0], ["six==1.17.0"]]
    assert third["dep.py"] != archives[0]["dep.py"]
    # Every later build of any of the three is a cache hit.
    for name in (*authorizers, other):
        packaging.package_files(name, runtime=DEFAULT_RUNTIME, architecture="arm64")
    assert len(installs) == 2


def _imports_by_ast(source: str) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("source", [
    "import a.b as c, d\n", "from . import x\nfrom .y import z\n", "try: import q\nexcept ImportError: pass\n",
    "from e.f import (g,\n    h)\n", "x = 1; import w\n", "s = 'import nope'  # import nor\n",
    "if True:\n    from k import m\n", "def f():\n    import n.o\n    return n\n"])
def test_imports_are_read_from_tokens_as_the_syntax_tree_has_them(source: str) -> None:
    """The token scan finds exactly the absolute imports Python's own parser finds (it avoids `ast.parse`,
    which CPython 3.11 can fail beside other threads: gh-106905)."""
    assert packaging.scan_imports(source) == _imports_by_ast(source)


def test_every_lambda_module_s_imports_are_read_as_the_syntax_tree_has_them() -> None:
    for path in sorted(packaging.LAMBDAS_DIR.rglob("*.py")):
        text = path.read_text()
        assert packaging.scan_imports(text) == _imports_by_ast(text), path
        assert packaging.imported_modules(text) == _imports_by_ast(text), path


def test_imports_read_once_are_kept_for_later_processes_and_a_damaged_answer_is_read_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SERVERLESS_PATTERNS_BUILD_DIR", str(tmp_path / "build"))
    source = "import boto3\nfrom rest_requests import route\n"
    packaging.imported_modules.cache_clear()
    assert packaging.imported_modules(source) == {"boto3", "rest_requests"}
    [kept] = (tmp_path / "build" / "imports").iterdir()

    def unread(text: str) -> frozenset[str]:
        raise AssertionError("read again although the build cache has the answer")

    packaging.imported_modules.cache_clear()  # a later process: only the build cache remembers
    with monkeypatch.context() as later:
        later.setattr(packaging, "scan_imports", unread)
        assert packaging.imported_modules(source) == {"boto3", "rest_requests"}
    for damaged in ("[\"boto3\"", '{"names": 1}', "[1]"):
        kept.write_text(damaged)
        packaging.imported_modules.cache_clear()
        assert packaging.imported_modules(source) == {"boto3", "rest_requests"}
        assert json.loads(kept.read_text()) == ["boto3", "rest_requests"]
    packaging.imported_modules.cache_clear()
    assert packaging.imported_modules(source + "import json\n") == {"boto3", "rest_requests", "json"}
