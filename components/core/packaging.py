"""Deterministic Lambda packaging from the folders under `lambdas/`.

- Code: an `AssetArchive` of the folder's files (sorted, caches excluded), plus each module of `lambdas/shared/`
  the folder's code imports (`shared_files`), at the archive's top level next to the handler. Pulumi hashes
  an asset map from names and contents only, so the same content gives the same archive
  hash and a second preview shows no diff.
- Powertools: the public Powertools for AWS Lambda (Python) v3 layer that carries the release the tests
  run against (`POWERTOOLS_VERSION`), resolved at deploy time from the public SSM parameter Powertools
  publishes per release, architecture and runtime.
- Other third-party dependencies (a `requirements.txt` next to the handler, fully pinned)
  are built for the function's architecture with pip's `--platform`/`--only-binary` (or, in
  an environment without pip, such as one `uv` made, with `uv pip install --python-platform`)
  and cached under `.build/deps/<hash of requirements, runtime, architecture>`.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.resources
import importlib.util
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tokenize
import zipfile
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path

import pulumi

from serverless_patterns.core import build_cache

#: Where the function folders live (inside the installed package, so the code ships with it).
LAMBDAS_DIR = Path(str(importlib.resources.files("serverless_patterns.lambdas"))).resolve()

#: Modules several function folders import (`schema_checks`, `rest_requests`): kept once here, each packaged into
#: the archive of every function whose code imports it (`shared_files`); never a function of its own.
SHARED_DIR = LAMBDAS_DIR / "shared"

#: Files and folders never packaged: caches, editor litter, the pinned requirements themselves and the
#: declared AWS calls (`aws_calls.json`, read by the validation gate, not by the function).
EXCLUDED_DIRS = frozenset({"__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", "tests"})
EXCLUDED_SUFFIXES = (".pyc", ".pyo")
EXCLUDED_NAMES = frozenset({".DS_Store", "requirements.txt", "Dockerfile", ".dockerignore", "aws_calls.json"})

#: The Powertools for AWS Lambda (Python) release every zip function runs: the one `constraints.txt` pins for
#: the tests and the sample image's requirements pin (tests/core/test_packaging.py fails if they diverge).
POWERTOOLS_VERSION = "3.37.0"
#: Accounts that publish the Powertools layer, by partition (Powertools install page, "Lambda Layer" and
#: "AWS China regions": https://docs.aws.amazon.com/powertools/python/latest/getting-started/install/).
POWERTOOLS_LAYER_ACCOUNTS = {"aws": "017000801446", "aws-cn": "498634801083"}
#: GovCloud publishes from one account per Region (same page, "AWS GovCloud regions"), with layer version
#: numbers of its own (27 there while commercial Regions were at 37), and no page maps them to releases.
GOVCLOUD_LAYER_ACCOUNTS = {"us-gov-east-1": "165087284144", "us-gov-west-1": "165093116878"}
#: Public SSM parameter whose value is the ARN of the layer version that carries one Powertools release:
#: `/aws/service/powertools/python/<arch>/<python runtime with its dot>/<release>` (feat(ssm): "Parameters for
#: resolving to versioned layers", aws-powertools/powertools-lambda-python pull request 5754, since 3.4.0; the
#: runtime keeps its dot, e.g. python3.13: issue 6213; a release's parameter names e.g.
#: `arn:aws:lambda:us-east-1:017000801446:layer:AWSLambdaPowertoolsPythonV3-python313-x86_64:27`: issue 7689).
POWERTOOLS_PARAMETER = "/aws/service/powertools/python/{architecture}/{runtime}/{release}"
#: Layer versions whose release is documented (commercial Regions): layer version -> Powertools release.
#: 27 carries 3.23.0 (aws-powertools/powertools-lambda-python issue 7689: "Lambda layer exists: ...
#: AWSLambdaPowertoolsPythonV3-python313-x86_64:27 (created Nov 13 ...)" for the 3.23.0 release).
KNOWN_LAYER_RELEASES: dict[int, str] = {27: "3.23.0"}

#: pip platform tags per Lambda architecture (newest glibc first; Lambda's Python runtimes run on AL2023).
PIP_PLATFORMS = {
    "arm64": ("manylinux_2_34_aarch64", "manylinux_2_28_aarch64", "manylinux2014_aarch64"),
    "x86_64": ("manylinux_2_34_x86_64", "manylinux_2_28_x86_64", "manylinux2014_x86_64"),
}
#: The same platform for uv, whose `--python-platform` accepts every older manylinux tag too.
UV_PLATFORMS = {"arm64": "aarch64-manylinux_2_34", "x86_64": "x86_64-manylinux_2_34"}
#: What pip and uv write that names the tool or this machine: dropped, so both build the same bytes.
INSTALLER_FILES = ("*.dist-info/RECORD", "*.dist-info/INSTALLER", "*.dist-info/REQUESTED",
                   "*.dist-info/direct_url.json", ".lock")


class PackagingError(RuntimeError):
    """A function folder or its dependencies could not be packaged."""


def function_dir(code: str | Path) -> Path:
    """The folder of a function: a path under `lambdas/` (e.g. `glacier_restore/cost_estimate`),
    or an absolute path to a folder of the calling program's own."""
    if isinstance(code, Path) or Path(code).is_absolute():
        path = Path(code).resolve()
        if not path.is_dir():
            raise PackagingError(f"no Lambda code folder {path}")
        return path
    path = (LAMBDAS_DIR / code).resolve()
    if not path.is_dir() or LAMBDAS_DIR not in path.parents:
        raise PackagingError(f"no Lambda code folder 'lambdas/{code}' (looked in {LAMBDAS_DIR})")
    return path


def collect_files(root: Path) -> dict[str, Path]:
    """Every file to package under `root`, keyed by its POSIX path in the archive, sorted."""
    files: dict[str, Path] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in EXCLUDED_DIRS and not d.endswith(".egg-info"))
        for filename in sorted(filenames):
            if filename in EXCLUDED_NAMES or filename.endswith(EXCLUDED_SUFFIXES):
                continue
            path = Path(dirpath) / filename
            files[path.relative_to(root).as_posix()] = path
    return dict(sorted(files.items()))


#: Bump when `scan_imports` changes, so answers kept in the build cache the old way are not reused.
IMPORTS_FORMAT = "1"


@cache
def imported_modules(source: str) -> frozenset[str]:
    """The top-level names of the modules `source` imports (absolute imports, anywhere in the module).

    Kept per source text: in this process (functions that share a folder, like the WebSocket handlers, read the
    same modules) and across processes under the build cache (`.build/imports/<digest of the text>.json`):
    reading tokens in Python is the slowest step of packaging a function, paid again by every preview."""
    digest = hashlib.sha256(f"{IMPORTS_FORMAT}\n{source}".encode()).hexdigest()[:32]
    kept = build_cache.root() / "imports" / f"{digest}.json"
    try:
        names = json.loads(kept.read_text())
        if isinstance(names, list) and all(isinstance(name, str) for name in names):
            return frozenset(names)
    except (OSError, ValueError):
        pass
    found = scan_imports(source)
    build_cache.write_atomic(kept, json.dumps(sorted(found)).encode())
    return found


def scan_imports(source: str) -> frozenset[str]:
    """`imported_modules` without its caches.

    Read from the token stream, not `ast.parse`: on CPython 3.11 a parse can fail with a spurious "AST
    constructor recursion depth mismatch" SystemError while another thread builds an AST (the depth is kept per
    interpreter, not per thread: https://github.com/python/cpython/issues/106905), and Pulumi runs programs
    beside its own threads."""
    names: set[str] = set()
    statement: list[tokenize.TokenInfo] = []
    lines = io.StringIO(source).readline
    for token in tokenize.generate_tokens(lines):
        if token.type in (tokenize.NEWLINE, tokenize.ENDMARKER) or (token.type == tokenize.OP and token.string == ";"):
            names.update(_statement_imports(statement))
            statement = []
        elif token.type not in (tokenize.NL, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT):
            statement.append(token)
    return frozenset(names)


def _statement_imports(tokens: list[tokenize.TokenInfo]) -> set[str]:
    """`import a.b as c, d` -> {a, d}; `from a.b import c` -> {a}; a relative `from . import x` -> nothing.
    An import may also follow a colon on the same line (`try: import x`)."""
    words = [t.string for t in tokens]
    names: set[str] = set()
    for start, word in enumerate(words):
        if start and words[start - 1] != ":":
            continue
        if word == "import":
            expect_name = True
            for following in words[start + 1:]:
                if expect_name and following.isidentifier():
                    names.add(following)
                expect_name = following == ","
        elif word == "from" and start + 1 < len(words) and words[start + 1].isidentifier() \
                and words[start + 1] != "import":
            names.add(words[start + 1])
    return names


def shared_files(folder: Path) -> dict[str, Path]:
    """The modules of `SHARED_DIR` that a function folder under `lambdas/` imports, directly or through another
    shared module, keyed by their name in the archive (its top level, where Lambda's `/var/task` is on the path)."""
    folder = folder.resolve()
    if LAMBDAS_DIR not in folder.parents or folder == SHARED_DIR:
        return {}
    available = {path.stem: path for path in sorted(SHARED_DIR.glob("*.py"))}
    own = collect_files(folder)
    pending = [path for name, path in own.items() if name.endswith(".py")]
    found: dict[str, Path] = {}
    while pending:
        source = pending.pop().read_text()
        if not any(name in source for name in available):  # parse only the modules that may import one
            continue
        for name in sorted((imported_modules(source) & available.keys()) - found.keys()):
            if f"{name}.py" in own:
                raise PackagingError(f"{folder} has a module {name}.py of its own and imports the shared "
                                     f"{SHARED_DIR / (name + '.py')}: rename one")
            found[name] = available[name]
            pending.append(available[name])
    return {f"{name}.py": path for name, path in sorted(found.items())}


def function_files(folder: Path) -> dict[str, Path]:
    """A function's own code as its archive holds it: the folder's files and the shared modules it imports."""
    return dict(sorted({**collect_files(folder), **shared_files(folder)}.items()))


def package_files(code: str | Path, *, runtime: str, architecture: str,
                  builder: Callable[[Path, str, str], Path | None] | None = None) -> dict[str, Path]:
    """The archive content of a function: its dependencies (if any) overlaid by its own code."""
    folder = function_dir(code)
    files: dict[str, Path] = {}
    deps = (builder or build_dependencies)(folder / "requirements.txt", runtime, architecture)
    if deps is not None:
        files.update(collect_files(deps))
    files.update(function_files(folder))
    return dict(sorted(files.items()))


def code_archive(files: Mapping[str, Path]) -> pulumi.AssetArchive:
    """An asset map archive of the files (Pulumi hashes it from names and contents only)."""
    return pulumi.AssetArchive({name: pulumi.FileAsset(str(path)) for name, path in sorted(files.items())})


def content_digest(files: Mapping[str, Path]) -> str:
    """sha256 over names and contents, in archive order: equal digests mean an equal archive hash."""
    digest = hashlib.sha256()
    for name, path in sorted(files.items()):
        data = path.read_bytes()
        digest.update(f"{name}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()


def zip_bytes(files: Mapping[str, Path]) -> bytes:
    """The zip Lambda receives, with fixed timestamps (as Pulumi writes it); used to measure its size."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, path in sorted(files.items()):
            info = zipfile.ZipInfo(name, date_time=(1990, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
    return buffer.getvalue()


def powertools_parameter(runtime: str, architecture: str, release: str = POWERTOOLS_VERSION) -> str:
    """Name of the public SSM parameter holding the ARN of the layer that carries `release`."""
    return POWERTOOLS_PARAMETER.format(architecture=architecture, runtime=runtime, release=release)


def layer_version_allowed(version: int) -> str | None:
    """Why a configured layer version cannot be used, or None if it carries `POWERTOOLS_VERSION`."""
    release = KNOWN_LAYER_RELEASES.get(version)
    if release == POWERTOOLS_VERSION:
        return None
    carries = (f"it carries Powertools {release}" if release
               else "no published source says which Powertools release it carries")
    return (f"leave it unset (the layer is resolved from the public SSM parameter "
            f"{powertools_parameter('<runtime>', '<architecture>')}), or a layer version known to carry "
            f"Powertools {POWERTOOLS_VERSION}, the release the tests run against ({version}: {carries})")


def _layer_arn(partition: str, region: str, runtime: str, architecture: str, version: str) -> str:
    account = POWERTOOLS_LAYER_ACCOUNTS[partition]
    python = runtime.replace(".", "")
    return (f"arn:{partition}:lambda:{region}:{account}:layer:"
            f"AWSLambdaPowertoolsPythonV3-{python}-{architecture}:{version}")


def _check_partition(partition: str, region: str) -> None:
    if partition == "aws-us-gov":
        raise PackagingError(
            f"the Powertools layer in {region} is published from a GovCloud account "
            f"({GOVCLOUD_LAYER_ACCOUNTS.get(region, 'one per Region')}) with layer version numbers of its own, and "
            f"neither a public SSM parameter nor a published mapping names the one that carries Powertools "
            f"{POWERTOOLS_VERSION}, the release the tests run against; package Powertools with the function "
            "instead (a container image, as CrossAccountEcr's sample does)")
    if partition not in POWERTOOLS_LAYER_ACCOUNTS:
        raise PackagingError(f"the Powertools layer is not published in partition {partition!r}; "
                             f"known partitions: {', '.join(POWERTOOLS_LAYER_ACCOUNTS)}")


def powertools_layer_arn(partition: pulumi.Input[str], region: pulumi.Input[str], runtime: str, architecture: str,
                         version: int | None = None, *, opts: pulumi.InvokeOutputOptions | None = None
                         ) -> pulumi.Output[str]:
    """ARN of the public Powertools v3 layer that carries `POWERTOOLS_VERSION`, for this runtime and architecture.

    Without `version`, the ARN is the value of the public SSM parameter Powertools publishes for that
    release (`powertools_parameter`), read at deploy time: what runs is what the tests ran. A `version`
    is used only if `KNOWN_LAYER_RELEASES` says it carries that release; validate it with
    `layer_version_allowed` at construction.
    """
    if version is not None and (reason := layer_version_allowed(version)) is not None:
        raise PackagingError(f"Powertools layer version {version}: {reason}")

    def resolve(parts: list[str]) -> pulumi.Output[str]:
        part, reg = parts
        _check_partition(part, reg)
        if version is not None:
            return pulumi.Output.from_input(_layer_arn(part, reg, runtime, architecture, str(version)))
        name = powertools_parameter(runtime, architecture)

        def checked(value: str | None) -> str:
            pattern = re.escape(_layer_arn(part, reg, runtime, architecture, "")) + r"[1-9][0-9]*"
            if not value or not re.fullmatch(pattern, value):
                raise PackagingError(f"the public SSM parameter {name} holds {value!r}, not a layer version of "
                                     f"AWSLambdaPowertoolsPythonV3-{runtime.replace('.', '')}-{architecture} in "
                                     f"{reg} from account {POWERTOOLS_LAYER_ACCOUNTS[part]}")
            return value

        # `insecure_value`: a String parameter's value, not marked secret as `value` always is. The data
        # source's own module: `aws.ssm.<name>` would load all of pulumi_aws.ssm's modules (about 0.1 s of
        # CPU at every `pulumi preview` and `up`) for this one function.
        get_parameter = importlib.import_module("pulumi_aws.ssm.get_parameter")
        value: pulumi.Output[str] = get_parameter.get_parameter_output(name=name, opts=opts).insecure_value
        return value.apply(checked)

    return pulumi.Output.all(partition, region).apply(resolve)


def requirement_lines(requirements: Path) -> list[str]:
    """The meaningful lines of a requirements file (comments and blanks dropped)."""
    if not requirements.is_file():
        return []
    lines = []
    for raw in requirements.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if line:
            lines.append(line)
    return lines


def build_cache_root() -> Path:
    """Where built dependencies are kept: `deps/` in the build cache."""
    return build_cache.root() / "deps"


#: Bump when the build itself changes, so caches built the old way are not reused.
BUILD_FORMAT = "3"


def dependency_cache_key(lines: list[str], runtime: str, architecture: str) -> str:
    payload = "\n".join([BUILD_FORMAT, runtime, architecture, *sorted(lines)])
    return hashlib.sha256(payload.encode()).hexdigest()[:24]


def build_dependencies(requirements: Path, runtime: str, architecture: str) -> Path | None:
    """Install pinned third-party dependencies for Lambda's platform; cached by their hash.

    Returns the folder to overlay into the archive, or None when there is nothing to build.
    """
    lines = requirement_lines(requirements)
    if not lines:
        return None
    unpinned = [line for line in lines if "==" not in line]
    if unpinned:
        raise PackagingError(f"{requirements}: pin every requirement with '==' (deterministic builds): {unpinned}")
    if architecture not in PIP_PLATFORMS:
        raise PackagingError(f"unknown architecture {architecture!r}; expected one of {', '.join(PIP_PLATFORMS)}")
    target = build_cache_root() / dependency_cache_key(lines, runtime, architecture)
    if target.is_dir():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="deps-", dir=target.parent))
    try:
        command = installer_command(requirements, staging, runtime.removeprefix("python"), architecture)
    except PackagingError:
        staging.rmdir()
        raise
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        raise PackagingError(f"building {requirements} for {runtime}/{architecture} failed:\n{result.stderr.strip()}")
    # Console scripts and the RECORD files that hash them embed this machine's interpreter path, and
    # INSTALLER/REQUESTED name the tool; Lambda needs none of them, and without them the same pins give
    # the same bytes everywhere, whether pip or uv built them.
    shutil.rmtree(staging / "bin", ignore_errors=True)
    for pattern in INSTALLER_FILES:
        for path in staging.glob(pattern):
            path.unlink()
    try:
        staging.rename(target)
    except OSError:  # another process built the same key first
        shutil.rmtree(staging, ignore_errors=True)
    return target


def find_uv() -> str | None:
    """The uv binary: from the `uv` package in this environment, else on PATH."""
    try:
        from uv import find_uv_bin

        return str(find_uv_bin())
    except (ImportError, FileNotFoundError):
        return shutil.which("uv")


def installer_command(requirements: Path, target: Path, python_version: str, architecture: str) -> list[str]:
    """The command that installs `requirements` into `target` for Lambda's platform.

    pip from this interpreter's environment when it has pip; else uv (environments made by
    `uv venv` or Pulumi's `toolchain: uv` have no pip); else one line saying what to install.
    """
    if importlib.util.find_spec("pip") is not None:
        command = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile",
                   "--target", str(target), "--implementation", "cp", "--python-version", python_version,
                   "--only-binary=:all:", "--requirement", str(requirements)]
        for platform in PIP_PLATFORMS[architecture]:
            command += ["--platform", platform]
        return command
    uv = find_uv()
    if uv is not None:
        return [uv, "pip", "install", "--quiet", "--python", sys.executable, "--target", str(target),
                "--python-version", python_version, "--python-platform", UV_PLATFORMS[architecture],
                "--only-binary", ":all:", "--requirement", str(requirements)]
    raise PackagingError(f"building {requirements} needs pip or uv, and {sys.prefix} has neither (nor is uv on PATH): "
                         f"run `uv pip install --python {sys.executable} pip` or `{sys.executable} -m ensurepip`")
