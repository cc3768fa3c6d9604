"""Run a Pulumi program under the offline engine and return what it registered.

`run_program(project_dir, stack)` reads `Pulumi.yaml` and `Pulumi.<stack>.yaml` as the
CLI would, installs `AwsMocks` with a `CapturingMonitor`, runs the real `__main__.py`
and returns a `CapturedStack`: every resource (type, name, parent, inputs, outputs,
dependencies) and the stack outputs. Other programs' tests can use it as it is.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import inspect
import json
import os
import runpy
import sys
import threading
import typing
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import yaml
from pulumi.runtime import settings as runtime_settings
from pulumi.runtime.mocks import set_mocks
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from serverless_patterns.offline.mocks import (
    DEFAULT_ACCOUNT,
    DEFAULT_REGION,
    AwsMocks,
    CapturedResource,
    CapturingMonitor,
)

SECRET_PLACEHOLDER = "[secret]"

#: libyaml's loader when PyYAML was built with it (tens of times faster on a large stack file), else the
#: pure-Python one; both are the safe loader and read the same documents.
_YAML_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _load_yaml(text: str) -> Any:
    return yaml.load(text, Loader=_YAML_LOADER)  # a safe loader (see above)

#: Called with every stack `run_callable` (and so `run_program`) captures; see `on_capture`.
_CAPTURE_HOOKS: list[Callable[[CapturedStack], None]] = []


class StackConfigFileError(ValueError):
    """`Pulumi.yaml` or `Pulumi.<stack>.yaml` is missing or malformed."""


@dataclass
class CapturedStack:
    """Everything a program registered, ordered by URN (registration order varies between runs)."""

    project: str
    stack: str
    config: dict[str, str]
    resources: list[CapturedResource]
    outputs: dict[str, Any] = field(default_factory=dict)

    @property
    def stack_urn(self) -> str:
        return f"urn:pulumi:{self.stack}::{self.project}::pulumi:pulumi:Stack::{self.project}-{self.stack}"

    _index: tuple[int, int, dict[str, list[CapturedResource]], dict[str, list[CapturedResource]],
                  dict[str, CapturedResource]] | None = field(default=None, init=False, repr=False, compare=False)

    def _indexed(self) -> tuple[dict[str, list[CapturedResource]], dict[str, list[CapturedResource]],
                                dict[str, CapturedResource]]:
        """Resources by type, by parent and by URN, built once (rebuilt if `resources` is replaced or grows),
        so walking the tree and looking resources up stay linear in the stack's size."""
        key = (id(self.resources), len(self.resources))
        if self._index is None or self._index[:2] != key:
            by_type: dict[str, list[CapturedResource]] = {}
            by_parent: dict[str, list[CapturedResource]] = {}
            by_urn: dict[str, CapturedResource] = {}
            for resource in self.resources:
                by_type.setdefault(resource.type, []).append(resource)
                by_parent.setdefault(resource.parent, []).append(resource)
                by_urn.setdefault(resource.urn, resource)
            self._index = (*key, by_type, by_parent, by_urn)
        return self._index[2], self._index[3], self._index[4]

    def of_type(self, typ: str) -> list[CapturedResource]:
        return list(self._indexed()[0].get(typ, ()))

    def one(self, typ: str, name: str | None = None) -> CapturedResource:
        """The single resource of `typ` named `name` (exactly, or else containing it), if given."""
        candidates = self.of_type(typ)
        exact = [r for r in candidates if r.name == name]
        found = exact or [r for r in candidates if name is None or name in r.name]
        if len(found) != 1:
            raise LookupError(f"expected one {typ}{f' named *{name}*' if name else ''}, found {len(found)}: "
                              f"{[r.name for r in found]}")
        return found[0]

    def by_urn(self, urn: str) -> CapturedResource | None:
        return self._indexed()[2].get(urn)

    def children(self, urn: str) -> list[CapturedResource]:
        return list(self._indexed()[1].get(urn, ()))

    def descendants(self, urn: str) -> list[CapturedResource]:
        out = []
        for child in self.children(urn):
            out.append(child)
            out.extend(self.descendants(child.urn))
        return out

    def roots(self) -> list[CapturedResource]:
        return [r for r in self.resources if r.parent in ("", self.stack_urn)]

    def components(self) -> list[CapturedResource]:
        return [r for r in self.resources if not r.custom and not r.type.startswith("pulumi:providers:")]

    def counts_by_type(self) -> dict[str, int]:
        return dict(sorted(Counter(r.type for r in self.resources).items()))


def read_project(project_dir: Path) -> str:
    path = project_dir / "Pulumi.yaml"
    try:
        data = _load_yaml(path.read_text())
    except FileNotFoundError:
        raise StackConfigFileError(f"{path}: not found (is this a Pulumi project folder?)") from None
    except yaml.YAMLError as error:
        raise StackConfigFileError(f"{path}: not valid YAML: {error}") from None
    if not isinstance(data, dict) or not isinstance(data.get("name"), str):
        raise StackConfigFileError(f"{path}: needs a 'name' (the project name)")
    return str(data["name"])


def read_stack_config(project_dir: Path, project: str, stack: str) -> tuple[dict[str, str], list[str]]:
    """The config as the CLI hands it to a program: `ns:key` -> string (objects as JSON)."""
    path = project_dir / f"Pulumi.{stack}.yaml"
    try:
        data = _load_yaml(path.read_text()) or {}
    except FileNotFoundError:
        stacks = sorted(p.name[len("Pulumi."):-len(".yaml")] for p in project_dir.glob("Pulumi.*.yaml"))
        raise StackConfigFileError(f"{path}: no such stack config; stacks here: {', '.join(stacks) or 'none'}"
                                   ) from None
    except yaml.YAMLError as error:
        raise StackConfigFileError(f"{path}: not valid YAML: {error}") from None
    if not isinstance(data, dict) or not isinstance(data.get("config", {}), dict):
        raise StackConfigFileError(f"{path}: expected a top-level 'config:' mapping")
    config: dict[str, str] = {}
    secrets: list[str] = []
    for key, value in (data.get("config") or {}).items():
        full = key if ":" in key else f"{project}:{key}"
        if isinstance(value, dict) and set(value) == {"secure"}:
            # Encrypted values cannot be decrypted offline; the program sees a placeholder.
            config[full] = SECRET_PLACEHOLDER
            secrets.append(full)
        elif isinstance(value, str):
            config[full] = value
        else:
            config[full] = json.dumps(value)
    return config, secrets


@contextmanager
def _without_stack_traces() -> Iterator[None]:
    """Skip the SDK's per-resource stack-trace capture while a program runs offline.

    The SDK walks the whole Python stack for every resource (`traceback.extract_stack`) so that the CLI
    can show where in the program it was declared; offline nobody reads it, and it is about a tenth of the
    plan. The SDK itself sends an empty `StackTrace` when it cannot find the frame, so that is what the
    engine sends. Guarded: if the SDK no longer has the hook or the message, nothing is changed.
    """
    from pulumi.runtime import resource as sdk_resource

    original = getattr(sdk_resource, "_get_stack_trace", None)
    empty = getattr(getattr(sdk_resource, "source_pb2", None), "StackTrace", None)
    if not callable(original) or empty is None or not _SDK_SHORTCUTS["enabled"]:
        yield
        return
    sdk_resource._get_stack_trace = empty
    try:
        yield
    finally:
        sdk_resource._get_stack_trace = original


def _one_future_per_property(res: Any, props: Any, custom: bool) -> dict[str, Callable[..., None]]:
    """`pulumi.runtime.rpc.transfer_properties` with one future per output property instead of a task.

    The SDK gives every output property of every resource four futures and a task that awaits them one
    after another to build the `Output`'s single `_OutputData` future (a 30-property resource costs 30
    tasks and 120 wake-ups). Here the resolver builds that `_OutputData` itself and sets it on the
    `Output`'s future directly: the same value, known and secret flags and dependencies (the resource
    itself included), and the same exception when the registration fails.

    Each `Output` is tracked as `Output._track` tracks it (its future in the runtime's set of outputs to await
    at the end of the program, until it succeeds); where `_track` is the one this follows
    (`_TRACKING["direct"]`), the resolver takes the future out of that set itself when it succeeds, which is
    what `_track`'s done-callback does a loop turn later (a failed one stays, as there).
    """
    from pulumi.output import Output, _OutputData
    from pulumi.runtime.settings import SETTINGS

    loop = asyncio.get_event_loop()
    resolvers: dict[str, Callable[..., None]] = {}
    direct = _TRACKING["direct"]
    # Read where `_track` reads them (the context the resource's outputs are made in), once per resource.
    tracked, lock = (SETTINGS.outputs, SETTINGS.lock) if direct else (set(), None)

    def resolve(r: Any, data: asyncio.Future[Any], value: Any, is_known: bool, is_secret: bool,
                deps: set[Any] | None, failed: Exception | None) -> None:
        if failed is not None:
            data.set_exception(failed)
            return
        deps_union = set(deps) if deps else set()
        deps_union.add(r)
        data.set_result(_OutputData(resources=deps_union, value=value, is_known=is_known, is_secret=is_secret))
        if lock is not None:
            with lock:
                tracked.discard(data)

    for name in props:
        if name == "urn" or (name == "id" and custom):
            continue  # set by the SDK itself, as in the original
        data: asyncio.Future[Any] = loop.create_future()
        resolvers[name] = functools.partial(resolve, res, data)
        if lock is None:
            res.__dict__[name] = Output._from_data(data)
            continue
        output = object.__new__(Output)  # what `_from_data` makes of a future, tracked as `_track` tracks it
        output._data = data
        with lock:
            tracked.add(data)
        res.__dict__[name] = output
    return resolvers


#: Whether `Output._track` is the one `_one_future_per_property` follows: it adds the output's future to
#: `SETTINGS.outputs` under `SETTINGS.lock` and removes it from there when it succeeds.
_TRACKING = {"direct": False}


def _tracks_as_expected() -> bool:
    from pulumi import output as sdk_output
    from pulumi.runtime.settings import SETTINGS

    track = getattr(getattr(sdk_output.Output, "_track", None), "__code__", None)
    from_data = getattr(getattr(sdk_output.Output, "_from_data", None), "__func__", None)
    cleanup = _code_of_nested(sdk_output.Output._track, "cleanup") if track is not None else None
    return (track is not None and cleanup is not None and from_data is not None
            and set(track.co_names) == {"SETTINGS", "lock", "outputs", "add", "_data", "add_done_callback"}
            and set(cleanup.co_names) == {"cancelled", "exception", "SETTINGS", "lock", "outputs", "remove",
                                          "KeyError"}
            and set(from_data.__code__.co_names) == {"object", "__new__", "asyncio", "ensure_future", "_data",
                                                     "_track"}
            and isinstance(getattr(SETTINGS, "outputs", None), set) and hasattr(SETTINGS, "lock"))


@contextmanager
def _one_future_outputs() -> Iterator[None]:
    """Swap in `_one_future_per_property` while a program runs offline.

    Guarded: the swap happens only when the SDK still has `transfer_properties(res, props, custom)`, an
    `Output._from_data` factory and `_OutputData(resources, value, is_known, is_secret)`; otherwise the SDK
    runs as it is. tests/offline/test_engine.py checks that every stack it builds is identical either way.
    """
    from pulumi import output as sdk_output
    from pulumi.runtime import rpc

    original = getattr(rpc, "transfer_properties", None)
    data_type = getattr(sdk_output, "_OutputData", None)
    usable = (
        callable(original) and callable(getattr(sdk_output.Output, "_from_data", None)) and data_type is not None
        and list(inspect.signature(original).parameters) == ["res", "props", "custom"]
        and {"resources", "value", "is_known", "is_secret"} <= set(getattr(data_type, "__dataclass_fields__", {}))
    )
    if not usable or not _SDK_SHORTCUTS["enabled"]:
        yield
        return
    setattr(rpc, "transfer_properties", _one_future_per_property)  # noqa: B010 (the SDK's own name)
    _TRACKING["direct"] = _tracks_as_expected()
    try:
        yield
    finally:
        setattr(rpc, "transfer_properties", original)  # noqa: B010
        _TRACKING["direct"] = False


def _names_used_by(function: Any) -> tuple[str, ...]:
    """The global names the code of `function` (or of the function a `functools.cache` wraps) reads."""
    return tuple(getattr(getattr(getattr(function, "__wrapped__", function), "__code__", None), "co_names", ()))


def _code_of_nested(function: Any, name: str) -> Any:
    """The code object of the function `name` defined inside `function`, or None."""
    for const in getattr(getattr(function, "__code__", None), "co_consts", ()):
        if getattr(const, "co_name", None) == name:
            return const
    return None


def _unused_mock_urn(original: Callable[..., Any], do_register: Any) -> Callable[..., Any]:
    """`create_urn` that skips the URN `register_resource` computes only for when there is no monitor.

    After preparing a resource, the SDK's `do_register` computes `mock_urn = await create_urn(name, ty,
    parent_urn).future()` (an `Output.all(...).apply(...)` chain: three `Output`s, their tasks and loop
    turns) and reads it only when no monitor is attached; the engine always attaches one. Called from
    `do_register` while a monitor is set, with plain strings (as `do_register` passes them), this returns the
    same URN string at once, wrapped so `.future()` still awaits. Every other caller (aliases, programs) gets
    the SDK's own function.
    """
    import sys

    from pulumi.runtime import settings as sdk_settings

    class _Ready:
        __slots__ = ("urn",)

        def __init__(self, urn: str) -> None:
            self.urn = urn

        async def future(self) -> str:
            return self.urn

    def create_urn(name: Any, type_: Any, parent: Any = None, project: Any = None, stack: Any = None) -> Any:
        if (sys._getframe(1).f_code is do_register and sdk_settings.get_monitor() is not None
                and isinstance(name, str) and isinstance(type_, str) and project is None and stack is None
                and (parent is None or isinstance(parent, str))):
            prefix = (parent[:parent.rfind("::")] + "$" if parent is not None
                      else f"urn:pulumi:{sdk_settings.get_stack()}::{sdk_settings.get_project()}::")
            return _Ready(f"{prefix}{type_}::{name}")
        return original(name, type_, parent, project, stack)

    return create_urn


def _cached_by_class(original: Callable[[type], Any]) -> Callable[[type], Any]:
    """`pulumi._types.resource_types`, once per resource class instead of once per resource.

    The SDK caches the types it reads from a class's property getters, but not those from its annotations
    (`_types_from_annotations`, a `get_type_hints` over a class built for the purpose), and it asks for them
    again for every resource it registers. Classes do not change during a run; callers only read the dict.
    """
    cache: dict[type, Any] = {}

    def resource_types(resource_cls: type) -> Any:
        found = cache.get(resource_cls)
        if found is None:
            found = cache[resource_cls] = original(resource_cls)
        return found

    return resource_types


def cached_by_identity(original: Callable[..., Any]) -> Callable[..., Any]:
    """`original`, a function of one argument, called once per argument object instead of once per call.

    Keyed by the object's identity (kept alive, so its id stays its own), never by equality: unions that compare
    equal can list their members in another order, and equal protobuf messages are still different messages.
    Calls with more arguments run as they are. Used for the SDK's `unwrap_type` / `unwrap_optional_type` (the
    declared type of every property of every resource: thousands of calls over a few hundred type objects) and
    for pulumi-policy's per-message conversions (`policies/runner.py`).
    """
    cache: dict[int, tuple[Any, Any]] = {}

    def call(value: Any, *args: Any, **kwargs: Any) -> Any:
        if args or kwargs:
            return original(value, *args, **kwargs)
        hit = cache.get(id(value))
        if hit is None or hit[0] is not value:
            hit = cache[id(value)] = (value, original(value))
        return hit[1]

    return call


def _forward_names(annotation: Any, into: set[str]) -> bool:
    """Add to `into` every name the forward references inside `annotation` read (through `__args__`, as typing
    evaluates them); False if a reference does not show its compiled expression (another typing)."""
    if isinstance(annotation, typing.ForwardRef):
        code = getattr(annotation, "__forward_code__", None)
        if code is None:
            return False
        into.update(code.co_names)
        return True
    if isinstance(annotation, (list, tuple)):
        return all(_forward_names(item, into) for item in annotation)
    args = getattr(annotation, "__args__", None)
    return not isinstance(args, tuple) or all(_forward_names(item, into) for item in args)


def _getter_hints_reused(original: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    """`typing.get_type_hints` as the SDK's `_types` module calls it for property getters, each return
    annotation object evaluated once instead of once per getter.

    For each class it reads types from (247 in the plan of `dev`), the SDK builds a globals namespace (the
    class's modules) and a locals one (`Output` and `T`) and resolves every property getter's return annotation
    in them: about 1,900 evaluations, a tenth of the program's own time. Typing caches its subscriptions, so an
    annotation such as `Optional[pulumi.Input[str]]` is one object on getters of every class (about 60 distinct
    objects on 1,550 getters there). One object evaluated in the same namespaces resolves to the same type, so:

    - an annotation whose forward references read only names of the locals (`'Output[T]'`) is evaluated once
      per locals content, for every class (eval reads locals before globals);
    - any other (`'outputs.BucketGrant'`) once per class: per globals and locals objects the SDK passes.

    The memo holds each annotation and namespace it keys by identity, so no identity is reused. Classes,
    string or absent annotations and other arguments go to `typing.get_type_hints` as it is.
    """
    names: dict[int, tuple[Any, frozenset[str] | None]] = {}
    shared: dict[tuple[int, tuple[tuple[str, int], ...]], tuple[Any, Any, dict[str, Any]]] = {}
    per_class: dict[int, tuple[Any, dict[str, Any]]] = {}
    namespaces: list[Any] = [None, None, ()]

    def get_type_hints(obj: Any, globalns: Any = None, localns: Any = None, include_extras: bool = False
                       ) -> dict[str, Any]:
        annotations = getattr(obj, "__annotations__", None)
        if (include_extras or not isinstance(globalns, dict) or not isinstance(localns, dict)
                or not inspect.isfunction(obj) or not isinstance(annotations, dict) or list(annotations) != ["return"]
                or isinstance(annotations["return"], str)):
            return original(obj, globalns=globalns, localns=localns, include_extras=include_extras)
        if namespaces[0] is not globalns or namespaces[1] is not localns:
            namespaces[:] = [globalns, localns, tuple(sorted((k, id(v)) for k, v in localns.items()))]
            per_class.clear()
        annotation = annotations["return"]
        known = names.get(id(annotation))
        if known is None or known[0] is not annotation:
            found: set[str] = set()
            known = names[id(annotation)] = (annotation, frozenset(found) if _forward_names(annotation, found)
                                             else None)
        needed = known[1]
        if needed is not None and needed <= localns.keys():
            key = (id(annotation), namespaces[2])
            hit = shared.get(key)
            if hit is None or hit[0] is not annotation:
                # The locals' values, kept so the ids in the key stay theirs.
                hit = shared[key] = (annotation, dict(localns), original(obj, globalns=globalns, localns=localns))
            return dict(hit[2])
        own = per_class.get(id(annotation))
        if own is None or own[0] is not annotation:
            own = per_class[id(annotation)] = (annotation, original(obj, globalns=globalns, localns=localns))
        return dict(own[1])

    return get_type_hints


def _debug_when_logged(original: Callable[..., None], logger: Any) -> Callable[..., None]:
    """`pulumi.log.debug` that does nothing while the mock engine's logger drops debug messages.

    The SDK sends several debug messages per resource; under mocks each becomes an `engine_pb2.LogRequest`
    (and, for messages about a resource, a task awaiting its URN) handed to the mock engine, whose logger
    then drops it below its level. Checked per call, so a program that turns debug logging on gets them all.
    """
    import logging

    def debug(msg: str, resource: Any = None, stream_id: Any = None, ephemeral: Any = None) -> None:
        if logger.isEnabledFor(logging.DEBUG):
            original(msg, resource, stream_id, ephemeral)

    return debug


@contextmanager
def _fewer_sdk_steps() -> Iterator[list[str]]:
    """Swap in `_unused_mock_urn`, `_debug_when_logged`, `cached_by_identity`, `_cached_by_class` and
    `_getter_hints_reused` while a program runs offline.

    Guarded: each swap happens only when the SDK still has the function with the same parameters and, for
    the URN, a `do_register` inside `register_resource` that names `create_urn` and keeps a `mock_urn`;
    otherwise that part of the SDK runs as it is. Yields the names it swapped. tests/offline/test_engine.py
    checks every stack it builds is identical either way, and that a changed SDK falls back.
    """
    from pulumi import _types as sdk_types
    from pulumi import log as sdk_log
    from pulumi.runtime import resource as sdk_resource
    from pulumi.runtime import rpc
    from pulumi.runtime.mocks import MockEngine

    swaps: list[tuple[Any, str, Any]] = []
    if _SDK_SHORTCUTS["enabled"]:
        create_urn = getattr(sdk_resource, "create_urn", None)
        do_register = _code_of_nested(getattr(sdk_resource, "register_resource", None), "do_register")
        if (callable(create_urn) and do_register is not None and "create_urn" in do_register.co_names
                and "mock_urn" in (*do_register.co_varnames, *do_register.co_cellvars)
                and list(inspect.signature(create_urn).parameters) == ["name", "type_", "parent", "project",
                                                                        "stack"]):
            swaps.append((sdk_resource, "create_urn", _unused_mock_urn(create_urn, do_register)))
        debug = getattr(sdk_log, "debug", None)
        logger = getattr(runtime_settings.get_engine(), "logger", None)
        if (callable(debug) and callable(getattr(logger, "isEnabledFor", None))
                and isinstance(runtime_settings.get_engine(), MockEngine)
                and list(inspect.signature(debug).parameters) == ["msg", "resource", "stream_id", "ephemeral"]):
            swaps.append((sdk_log, "debug", _debug_when_logged(debug, logger)))
        for name in ("unwrap_type", "unwrap_optional_type"):
            unwrap = getattr(sdk_types, name, None)
            if callable(unwrap) and list(inspect.signature(unwrap).parameters) == ["val"]:
                swaps.append((sdk_types, name, cached_by_identity(unwrap)))
        getter_hints = [getattr(sdk_types, name, None) for name in ("_raw_return_hints", "_types_from_py_properties")]
        if (getattr(sdk_types, "get_type_hints", None) is typing.get_type_hints
                and any("get_type_hints" in _names_used_by(caller) for caller in getter_hints)):
            swaps.append((sdk_types, "get_type_hints", _getter_hints_reused(typing.get_type_hints)))
        resource_types = getattr(sdk_types, "resource_types", None)
        if (callable(resource_types) and getattr(rpc, "_types", None) is sdk_types
                and list(inspect.signature(resource_types).parameters) == ["resource_cls"]):
            swaps.append((sdk_types, "resource_types", _cached_by_class(resource_types)))
    saved = [(module, name, getattr(module, name)) for module, name, _ in swaps]
    for module, name, value in swaps:
        setattr(module, name, value)
    try:
        yield [name for _, name, _ in swaps]
    finally:
        for module, name, value in saved:
            setattr(module, name, value)


#: How the SDK hands a monitor call to the executor (every `run_in_executor` of pulumi 3.260 to 3.272):
#: wrapped by `pulumi.runtime._context.wrap_with_context`.
_MONITOR_CALL = ("pulumi.runtime._context", "wrap_with_context.<locals>.wrapper")


class _InlineExecutor(concurrent.futures.ThreadPoolExecutor):
    """The event loop's default executor while a program runs offline: the SDK's monitor calls run at once, on
    the loop's thread; everything else (the program's own `asyncio.to_thread`, `run_in_executor`, DNS lookups)
    runs on the pool's threads as before.

    The SDK hands every monitor call to a thread pool because the real monitor is a blocking gRPC stub. The mock
    monitor answers in-process, so each hop only costs a thread switch and wake-ups of the loop (about 6% of the
    plan of `dev`). The answer is the same future, already set when the SDK awaits it. A monitor call that
    arrives while another runs inline on this thread (the SDK's mock monitor pumps the loop with `_sync_await` to
    serialize a non-plain answer) goes to a pool thread, so inline calls never nest.
    """

    def __init__(self) -> None:
        super().__init__(thread_name_prefix="offline-monitor")
        self._inline = threading.local()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> concurrent.futures.Future[Any]:
        monitor_call = (getattr(fn, "__module__", None), getattr(fn, "__qualname__", None)) == _MONITOR_CALL
        if not monitor_call or getattr(self._inline, "running", False) or self._shutdown:
            return super().submit(fn, *args, **kwargs)  # refuses after shutdown, as the pool does
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        self._inline.running = True
        try:
            result = fn(*args, **kwargs)
        except Exception as error:  # as the pool's worker does: the awaiting coroutine re-raises it
            future.set_exception(error)
        else:
            future.set_result(result)
        finally:
            self._inline.running = False
        return future


#: The engine's shortcuts around the SDK's own bookkeeping (stack traces, per-property tasks, the unused mock
#: URN, per-resource type lookups, monitor calls on the loop's thread); tests switch them off to prove a stack
#: is the same without them.
_SDK_SHORTCUTS = {"enabled": True}


@contextmanager
def sdk_shortcuts(enabled: bool) -> Iterator[None]:
    """Run with the engine's SDK shortcuts on or off (off: the SDK exactly as it ships)."""
    saved = _SDK_SHORTCUTS["enabled"]
    _SDK_SHORTCUTS["enabled"] = enabled
    try:
        yield
    finally:
        _SDK_SHORTCUTS["enabled"] = saved


@contextmanager
def _program_context(project_dir: Path) -> Iterator[None]:
    """Run with the project folder as cwd and first on sys.path, as the language host does."""
    old_cwd, old_path = os.getcwd(), list(sys.path)
    os.chdir(project_dir)
    sys.path.insert(0, str(project_dir))
    try:
        yield
    finally:
        os.chdir(old_cwd)
        sys.path[:] = old_path


def on_capture(hook: Callable[[CapturedStack], None]) -> Callable[[], None]:
    """Call `hook` with every stack captured from now on (e.g. a test suite asserting the validation
    gate is clean on every configuration it builds); returns a function that removes the hook."""
    _CAPTURE_HOOKS.append(hook)
    return lambda: _CAPTURE_HOOKS.remove(hook) if hook in _CAPTURE_HOOKS else None


def run_program(project_dir: str | Path = ".", stack: str = "dev", *, preview: bool = True,
                config_overrides: dict[str, str] | None = None) -> CapturedStack:
    """Run `project_dir/__main__.py` for `stack` under the offline engine."""
    project_dir = Path(project_dir).resolve()
    project = read_project(project_dir)
    config, secrets = read_stack_config(project_dir, project, stack)
    config.update({k if ":" in k else f"{project}:{k}": v for k, v in (config_overrides or {}).items()})

    def program() -> None:
        with _program_context(project_dir):
            runpy.run_path(str(project_dir / "__main__.py"), run_name="__main__")

    return run_callable(program, project=project, stack=stack, config=config, secret_keys=secrets,
                        preview=preview)


#: What asyncio reports of a future or task collected unfinished or with an exception nobody retrieved.
_LEFT_BEHIND = ("Future exception was never retrieved", "Task exception was never retrieved",
                "Task was destroyed but it is pending!")


def _settle(loop: asyncio.AbstractEventLoop, failed: bool) -> None:
    """Leave nothing of a run that asyncio reports when it is collected: cancel the tasks still pending (as
    `asyncio.run` does before it closes its loop) and, after a failure, have the loop drop its reports of the
    failed futures the run leaves (every future of each output of a resource whose registration failed).

    Collected later, during another run or in the middle of any `ast.parse` (pytest's assertion rewriting, a
    test's own), each would be logged with its traceback, and on CPython 3.11 formatting a traceback parses
    source with `ast`: nested inside another parse, that fails it with "AST constructor recursion depth mismatch"
    (https://github.com/python/cpython/issues/106905). The run's own error has already reached the caller; any
    other report of the loop still goes to asyncio's own handler.
    """
    pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
    for task in pending:
        task.cancel()
    if pending:
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
    if failed:
        def report(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
            if context.get("message") not in _LEFT_BEHIND:
                loop.default_exception_handler(context)

        loop.set_exception_handler(report)


def run_callable(program: Callable[[], Any], *, project: str = "test", stack: str = "test",
                 config: dict[str, str] | None = None, secret_keys: list[str] | None = None,
                 account: str | None = None, region: str | None = None, preview: bool = True) -> CapturedStack:
    """Run any callable as a Pulumi program (e.g. `lambda: GlacierRestore("gr", args)`) and capture it.

    Account and Region default to `aws:allowedAccountIds[0]` and `aws:region` in `config`.
    """
    config = dict(config or {})
    region = region or config.get("aws:region", DEFAULT_REGION)
    if account is None:
        account = DEFAULT_ACCOUNT
        allowed = config.get("aws:allowedAccountIds")
        if allowed:
            try:
                account = str(json.loads(allowed)[0])
            except (ValueError, IndexError, TypeError):
                raise StackConfigFileError(f"aws:allowedAccountIds must be a list of account ids, got {allowed!r}"
                                           ) from None

    # A fresh event loop per run, closed afterwards, so runs and tests never share loop state.
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    if _SDK_SHORTCUTS["enabled"]:
        loop.set_default_executor(_InlineExecutor())
    mocks = AwsMocks(account=account, region=region)
    monitor = CapturingMonitor(mocks, shortcuts=_SDK_SHORTCUTS["enabled"])
    runtime_settings.ROOT.set(None)
    pulumi.runtime.set_all_config(config, secret_keys or [])
    set_mocks(mocks, project=project, stack=stack, preview=preview, monitor=monitor)
    runtime_settings.SETTINGS.rpc_manager.clear()
    runtime_settings.SETTINGS.outputs.clear()

    outputs: dict[str, Any] = {}

    async def main() -> None:
        program()
        root = runtime_settings.get_root_resource()
        exported = getattr(root, "outputs", {}) or {}
        outputs.update(await pulumi.Output.from_input(exported).future() or {})

    try:
        with _without_stack_traces(), _one_future_outputs(), _fewer_sdk_steps():
            _sync_await(run_pulumi_func(main))
    except BaseException:
        _settle(loop, failed=True)
        raise
    else:
        _settle(loop, failed=False)
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
        monitor.close_thread_loops()
        asyncio.set_event_loop(asyncio.new_event_loop())
    # Registrations arrive from several threads; order them by URN so every run reads the same.
    resources = sorted(monitor.captured, key=lambda r: r.urn)
    captured = CapturedStack(project=project, stack=stack, config=config, resources=resources, outputs=outputs)
    for hook in list(_CAPTURE_HOOKS):
        hook(captured)
    return captured
