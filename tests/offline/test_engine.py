from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws
import pytest

from serverless_patterns.offline import UnmockedInvokeError, run_callable, run_program
from serverless_patterns.offline.engine import SECRET_PLACEHOLDER, StackConfigFileError

FIXTURE = Path(__file__).parent / "fixtures" / "program"


def test_program_is_captured_with_types_names_parents_and_inputs() -> None:
    stack = run_program(FIXTURE, "dev")
    assert stack.counts_by_type()["aws:lambda/function:Function"] == 2
    home = stack.one("serverless-patterns:index:PythonFunction", "echo-remote")
    assert {r.name for r in stack.children(home.urn)} == {
        "echo-remote-logs", "echo-remote-role", "echo-remote-policy", "echo-remote-fn"}
    fn = stack.one("aws:lambda/function:Function", "echo-fn")
    assert fn.inputs["memorySize"] == 512  # from the stack's structured config
    assert fn.parent == stack.one("serverless-patterns:index:PythonFunction", "echo").urn


def test_dependencies_are_captured() -> None:
    stack = run_program(FIXTURE, "dev")
    fn = stack.one("aws:lambda/function:Function", "echo-fn")
    role = stack.one("aws:iam/role:Role", "echo-role")
    table = stack.one("aws:dynamodb/table:Table")
    assert role.urn in fn.property_dependencies["role"]
    assert table.urn in fn.property_dependencies["environment"]
    assert stack.one("aws:iam/rolePolicy:RolePolicy", "echo-policy").urn in fn.dependencies


def test_outputs_are_realistic_and_follow_the_provider_account() -> None:
    stack = run_program(FIXTURE, "dev")
    assert stack.outputs["homeArn"].startswith("arn:aws:lambda:eu-central-1:444444444444:function:echo-fn-")
    assert stack.outputs["remoteArn"].startswith("arn:aws:lambda:eu-central-1:555555555555:function:")
    fn = stack.one("aws:lambda/function:Function", "echo-fn").outputs
    assert fn["invokeArn"] == (f"arn:aws:apigateway:eu-central-1:lambda:path/2015-03-31/functions/"
                               f"{fn['arn']}/invocations")
    assert stack.one("aws:dynamodb/table:Table").outputs["arn"].startswith(
        "arn:aws:dynamodb:eu-central-1:444444444444:table/items-")


def comparable(outputs: dict) -> dict:
    """Archives compare by identity; compare what they contain instead."""
    return {k: ({n: a.path for n, a in v.assets.items()} if isinstance(v, pulumi.AssetArchive) else v)
            for k, v in outputs.items()}


def test_runs_are_deterministic() -> None:
    first, second = run_program(FIXTURE, "dev"), run_program(FIXTURE, "dev")
    assert first.outputs == second.outputs
    assert [(r.urn, comparable(r.outputs)) for r in first.resources] == \
           [(r.urn, comparable(r.outputs)) for r in second.resources]


def test_secrets_are_placeholders_offline() -> None:
    assert run_program(FIXTURE, "dev").outputs["secret"] == SECRET_PLACEHOLDER


def test_api_outputs() -> None:
    def program() -> None:
        api = aws.apigatewayv2.Api("ws", protocol_type="WEBSOCKET", route_selection_expression="$request.body.action")
        stage = aws.apigatewayv2.Stage("ws-stage", api_id=api.id, name="live")
        rest = aws.apigateway.RestApi("rest")
        repo = aws.ecr.Repository("images")
        pulumi.export("ws", api.api_endpoint)
        pulumi.export("wsExec", api.execution_arn)
        pulumi.export("stage", stage.invoke_url)
        pulumi.export("root", rest.root_resource_id)
        pulumi.export("restExec", rest.execution_arn)
        pulumi.export("repo", repo.repository_url)

    out = run_callable(program, region="eu-west-1", account="111111111111").outputs
    api_id = out["ws"].split("//")[1].split(".")[0]
    assert out["ws"] == f"wss://{api_id}.execute-api.eu-west-1.amazonaws.com"
    assert out["wsExec"] == f"arn:aws:execute-api:eu-west-1:111111111111:{api_id}"
    assert out["stage"] == f"wss://{api_id}.execute-api.eu-west-1.amazonaws.com/live"
    assert len(out["root"]) == 10
    assert out["restExec"].startswith("arn:aws:execute-api:eu-west-1:111111111111:")
    assert out["repo"].startswith("111111111111.dkr.ecr.eu-west-1.amazonaws.com/images-")


def test_invokes_answer_identity_region_partition() -> None:
    def program() -> None:
        pulumi.export("account", aws.get_caller_identity_output().account_id)
        pulumi.export("region", aws.get_region_output().region)
        pulumi.export("partition", aws.get_partition_output().partition)

    out = run_callable(program, region="cn-north-1", account="999999999999").outputs
    assert out == {"account": "999999999999", "region": "cn-north-1", "partition": "aws-cn"}


def test_unmocked_invokes_fail_loudly() -> None:
    def program() -> None:
        aws.ec2.get_vpc(default=True)

    with pytest.raises(UnmockedInvokeError, match="does not emulate the invoke 'aws:ec2/getVpc:getVpc'"):
        run_callable(program)


def test_missing_stack_config_names_the_stacks_there() -> None:
    with pytest.raises(StackConfigFileError, match="stacks here: dev, other"):
        run_program(FIXTURE, "prod")


def test_malformed_stack_file(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: x\nruntime: python\n")
    (tmp_path / "Pulumi.dev.yaml").write_text("config: [1, 2\n")
    with pytest.raises(StackConfigFileError, match="not valid YAML"):
        run_program(tmp_path, "dev")
    (tmp_path / "Pulumi.dev.yaml").write_text("config: [1, 2]\n")
    with pytest.raises(StackConfigFileError, match="top-level 'config:' mapping"):
        run_program(tmp_path, "dev")


def test_missing_project_file(tmp_path: Path) -> None:
    with pytest.raises(StackConfigFileError, match=r"Pulumi\.yaml: not found"):
        run_program(tmp_path, "dev")


def test_resource_options_are_captured() -> None:
    def program() -> None:
        aws.s3.Bucket("kept", opts=pulumi.ResourceOptions(retain_on_delete=True, protect=True))
        aws.apigateway.UsagePlanKey("plan-key", key_id="k", key_type="API_KEY", usage_plan_id="p",
                                    opts=pulumi.ResourceOptions(delete_before_replace=True, ignore_changes=["keyId"]))

    stack = run_callable(program)
    assert stack.one("aws:s3/bucket:Bucket").options == {
        "protect": True, "retainOnDelete": True, "deleteBeforeReplace": False, "ignoreChanges": []}
    key = stack.one("aws:apigateway/usagePlanKey:UsagePlanKey").options
    assert key["deleteBeforeReplace"] is True and key["ignoreChanges"] == ["keyId"]


ROOT = Path(__file__).resolve().parents[2]
GATE_FIXTURE = Path(__file__).parent / "fixtures" / "gate"


def _canonical(value: object) -> object:
    """A captured value with archives and assets by what they contain (their identity differs per run)."""
    if isinstance(value, pulumi.AssetArchive):
        return {"archive": {name: _canonical(asset) for name, asset in value.assets.items()}}
    if isinstance(value, (pulumi.FileAsset, pulumi.FileArchive)):
        return {"file": value.path}
    if isinstance(value, pulumi.StringAsset):
        return {"text": value.text}
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    return value


def _everything(stack: object) -> list[object]:
    from serverless_patterns.offline import CapturedStack

    assert isinstance(stack, CapturedStack)
    # Dependencies come from sets of resources: their order varies from run to run even in the SDK alone.
    return [_canonical({**vars(r), "dependencies": sorted(r.dependencies),
                        "property_dependencies": {k: sorted(v) for k, v in r.property_dependencies.items()}})
            for r in stack.resources] + [_canonical(stack.outputs)]


@pytest.mark.gate_findings  # the gate fixture's `defects` stack is refused on purpose
@pytest.mark.parametrize(("project", "stack"), [
    (ROOT, "dev"), (ROOT, "example"), (FIXTURE, "dev"), (GATE_FIXTURE, "defects"),
    (GATE_FIXTURE, "fixed")])
def test_sdk_shortcuts_change_nothing_captured(project: Path, stack: str) -> None:
    """The engine's shortcuts around the SDK (no stack traces, one future per output property) capture the
    same resources, inputs, outputs, dependencies, options and stack outputs as the SDK as it ships."""
    from serverless_patterns.offline.engine import sdk_shortcuts

    with sdk_shortcuts(False):
        as_shipped = run_program(project, stack)
    assert _everything(run_program(project, stack)) == _everything(as_shipped)


def test_stack_lookups_are_indexed_and_follow_changes() -> None:
    """Type, parent and URN lookups agree with a scan of the resources, also after the list changes."""
    import copy

    stack = copy.deepcopy(run_program(FIXTURE, "dev"))
    for resource in stack.resources:
        assert stack.children(resource.urn) == [r for r in stack.resources if r.parent == resource.urn]
        assert stack.by_urn(resource.urn) is resource
        assert stack.of_type(resource.type) == [r for r in stack.resources if r.type == resource.type]
    home = stack.one("serverless-patterns:index:PythonFunction", "echo")
    extra = copy.deepcopy(stack.one("aws:lambda/function:Function", "echo-fn"))
    extra.urn, extra.name = extra.urn + "-extra", "echo-extra"
    stack.resources.append(extra)
    assert extra in stack.children(home.urn) and stack.by_urn(extra.urn) is extra
    stack.resources = stack.resources[:-1]
    assert extra not in stack.children(home.urn) and stack.by_urn(extra.urn) is None


def test_sdk_shortcuts_are_in_place_with_this_sdk() -> None:
    """With the SDK this library pins, every guarded shortcut recognises the SDK and is used while a program
    runs, and the SDK is as it shipped afterwards."""
    from pulumi import _types as sdk_types
    from pulumi import log as sdk_log
    from pulumi.runtime import resource as sdk_resource
    from pulumi.runtime import rpc

    from serverless_patterns.offline import engine

    def current() -> list[object]:
        return [sdk_resource._get_stack_trace, rpc.transfer_properties, sdk_resource.create_urn, sdk_log.debug,
                sdk_types.resource_types, sdk_types.unwrap_type, sdk_types.unwrap_optional_type,
                sdk_types.get_type_hints]

    shipped = current()
    during: list[object] = []
    run_callable(lambda: during.extend(current()))
    assert [a is b for a, b in zip(during, shipped, strict=True)] == [False] * len(shipped)
    assert during[1] is engine._one_future_per_property
    assert current() == shipped


def test_sdk_shortcuts_fall_back_when_the_sdk_changes(monkeypatch: pytest.MonkeyPatch) -> None:
    """An SDK whose internals no longer look as the shortcuts expect runs as it is, and the stack is the same."""
    from pulumi import _types as sdk_types
    from pulumi import log as sdk_log
    from pulumi.runtime import resource as sdk_resource
    from pulumi.runtime import rpc

    from serverless_patterns.offline import engine

    with engine.sdk_shortcuts(False):
        as_shipped = run_program(FIXTURE, "dev")
    register, transfer, types = sdk_resource.register_resource, rpc.transfer_properties, sdk_types.resource_types
    debug = sdk_log.debug
    calls = {"create_urn": 0}
    create_urn = sdk_resource.create_urn

    def counted_create_urn(name: object, type_: object, parent: object = None, project: object = None,
                           stack: object = None) -> object:
        calls["create_urn"] += 1
        return create_urn(name, type_, parent, project, stack)  # type: ignore[arg-type]

    # A register_resource without a nested do_register, a transfer_properties, a resource_types, a log.debug and
    # type unwrappers with other parameters, and no _get_stack_trace: what a changed SDK could look like to the guards.
    monkeypatch.setattr(sdk_resource, "register_resource", lambda *args, **kwargs: register(*args, **kwargs))
    monkeypatch.setattr(sdk_resource, "create_urn", counted_create_urn)
    monkeypatch.setattr(rpc, "transfer_properties", lambda *args: transfer(*args))
    monkeypatch.setattr(sdk_types, "resource_types", lambda cls, *rest: types(cls))
    monkeypatch.setattr(sdk_log, "debug", lambda *args: debug(*args))
    unwrap, unwrap_optional = sdk_types.unwrap_type, sdk_types.unwrap_optional_type
    monkeypatch.setattr(sdk_types, "unwrap_type", lambda typ: unwrap(typ))
    monkeypatch.setattr(sdk_types, "unwrap_optional_type", lambda val, default=None: unwrap_optional(val))
    hints = sdk_types.get_type_hints  # an SDK that resolves annotations through a function of its own
    monkeypatch.setattr(sdk_types, "get_type_hints", lambda *args, **kwargs: hints(*args, **kwargs))

    def current() -> tuple[object, ...]:
        return (sdk_resource.register_resource, rpc.transfer_properties, sdk_types.resource_types,
                sdk_types.unwrap_type, sdk_types.unwrap_optional_type, sdk_types.get_type_hints)

    changed = current()
    with engine._one_future_outputs(), engine._fewer_sdk_steps() as swapped:
        assert swapped == []
        assert current() == changed
    with monkeypatch.context() as renamed:
        renamed.delattr(sdk_resource, "_get_stack_trace")
        with engine._without_stack_traces():
            assert not hasattr(sdk_resource, "_get_stack_trace")
    captured = run_program(FIXTURE, "dev")
    assert _everything(captured) == _everything(as_shipped)
    # Every registration computed its mock URN through the SDK's own create_urn.
    assert calls["create_urn"] >= len(captured.resources)


def test_getter_hints_resolve_as_the_sdk_resolves_them() -> None:
    """Every class of the pulumi-aws modules the plan of `dev` loads (resources, their argument types and their
    nested input and output types: about 2,400 classes, the few hundred it reads among them) gets the same
    return types from the SDK's getter-hint function with the engine's reuse of evaluated annotations as without
    it, member order included (`repr`: unions that compare equal may list their members in another order), in
    an order that evaluates each module's classes both before and after other modules'."""
    import sys

    from pulumi import _types as sdk_types

    from serverless_patterns.offline import engine

    run_program(ROOT, "dev")
    getter_hints = next(function.__wrapped__ for function in (getattr(sdk_types, "_raw_return_hints", None),
                                                              sdk_types._types_from_py_properties)
                        if function is not None and "get_type_hints" in engine._names_used_by(function))
    classes = sorted({value for name, module in list(sys.modules.items()) if name.startswith("pulumi_aws.")
                      for value in list(vars(module).values())
                      if isinstance(value, type) and value.__module__ == name and sdk_types._py_properties(value)},
                     key=lambda cls: (cls.__module__, cls.__qualname__))
    assert len(classes) > 1000
    shipped = {cls: repr(getter_hints(cls)) for cls in classes}
    with engine._fewer_sdk_steps() as swapped:
        assert "get_type_hints" in swapped
        reused = {cls: repr(getter_hints(cls)) for cls in [*classes[::2], *reversed(classes[1::2])]}
    assert reused == shipped


def test_only_names_the_locals_hold_make_an_annotation_shared_between_classes() -> None:
    """The names read by an annotation's forward references decide whether its evaluation is shared between
    classes: every name, through nested arguments, lists of them and attribute access."""
    from collections.abc import Callable
    from typing import ForwardRef, Union

    from serverless_patterns.offline.engine import _forward_names

    def names(annotation: object) -> set[str] | None:
        found: set[str] = set()
        return found if _forward_names(annotation, found) else None

    assert names(pulumi.Output[str]) == set()
    assert names(pulumi.Input[str] | None) == {"Output", "T"}
    assert names(list[ForwardRef("outputs.BucketGrant")] | None) == {"outputs", "BucketGrant"}
    assert names(Callable[[ForwardRef("Thing")], Union[int, ForwardRef("Other")]]) == {"Thing", "Other"}  # noqa: UP007

    unreadable = ForwardRef("Thing")
    del unreadable.__forward_code__  # a reference that does not show its compiled expression
    assert names(pulumi.Output[unreadable]) is None


def _monitor_threads(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, bool]]:
    """(call, on the loop's thread) for every mock monitor call from now on."""
    import threading

    from serverless_patterns.offline.mocks import CapturingMonitor

    calls: list[tuple[str, bool]] = []

    def recording(name: str, original: Any) -> Any:
        def recorded(self: CapturingMonitor, request: object) -> object:
            calls.append((name, threading.current_thread() is threading.main_thread()))
            return original(self, request)
        return recorded

    for name in ("RegisterResource", "Invoke", "RegisterResourceOutputs"):
        monkeypatch.setattr(CapturingMonitor, name, recording(name, getattr(CapturingMonitor, name)))
    return calls


def test_monitor_calls_run_on_the_loop_unless_one_is_already_running(monkeypatch: pytest.MonkeyPatch) -> None:
    """With the shortcuts, the mock monitor answers on the loop's thread; a call that arrives while the SDK's
    mock `Invoke` pumps the loop (`_sync_await`) goes to a pool thread. As shipped, every call is on a pool
    thread. The stacks are the same (test_sdk_shortcuts_change_nothing_captured)."""
    from serverless_patterns.offline.engine import sdk_shortcuts

    calls = _monitor_threads(monkeypatch)
    with sdk_shortcuts(False):
        run_program(FIXTURE, "dev")
    assert calls and not any(on_loop for _, on_loop in calls)
    calls.clear()
    run_program(FIXTURE, "dev")
    on_loop = [on for _, on in calls]
    assert {name for name, _ in calls} == {"RegisterResource", "Invoke", "RegisterResourceOutputs"}
    assert sum(on_loop) > len(on_loop) // 2 and not all(on_loop)


def test_inline_executor_runs_only_monitor_calls_inline_hands_back_errors_and_never_nests() -> None:
    """Monitor calls (as the SDK wraps them) run on the calling thread, errors come back on the future, a monitor
    call made inside one goes to a pool thread; anything else (a program's own blocking work) always runs on
    pool threads, so two of them can wait for each other."""
    import threading

    from pulumi.runtime._context import wrap_with_context

    from serverless_patterns.offline.engine import _InlineExecutor

    here = threading.current_thread()
    executor = _InlineExecutor()
    try:
        failed = executor.submit(wrap_with_context(lambda: {}["missing"]))
        assert failed.done() and isinstance(failed.exception(), KeyError)

        def outer() -> threading.Thread:
            inner = executor.submit(wrap_with_context(threading.current_thread))
            return inner.result(timeout=10)  # type: ignore[no-any-return]

        outer_call = executor.submit(wrap_with_context(lambda: (threading.current_thread(), outer())))
        assert outer_call.done()
        where, nested = outer_call.result()
        assert where is here and nested is not here and nested.name.startswith("offline-monitor")

        barrier = threading.Barrier(2, timeout=10)
        waiting = [executor.submit(barrier.wait) for _ in range(2)]
        assert sorted(f.result(timeout=20) for f in waiting) == [0, 1]
        assert executor.submit(threading.current_thread).result(timeout=10) is not here
    finally:
        executor.shutdown(wait=True)
    with pytest.raises(RuntimeError, match="shutdown"):
        executor.submit(wrap_with_context(threading.current_thread))


def test_a_program_s_own_threads_can_wait_for_the_loop() -> None:
    """A program's blocking work handed to the loop's default executor runs on a pool thread while the engine's
    executor is in place: it may wait for a coroutine on the loop without hanging the run."""
    import asyncio

    def blocking(loop: asyncio.AbstractEventLoop) -> str:
        async def on_the_loop() -> str:
            return "answered"
        return asyncio.run_coroutine_threadsafe(on_the_loop(), loop).result(timeout=10)

    async def program_step() -> str:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, blocking, loop)

    def program() -> None:
        pulumi.export("answer", pulumi.Output.from_input(asyncio.ensure_future(program_step())))

    assert run_callable(program).outputs["answer"] == "answered"


@pytest.mark.gate_findings  # the gate fixture's `defects` stack is refused on purpose
@pytest.mark.parametrize(("project", "stack"), [(ROOT, "dev"), (ROOT, "example"), (FIXTURE, "dev"),
                                                (GATE_FIXTURE, "defects")])
def test_plain_mock_states_are_serialized_as_the_sdk_serializes_them(project: Path, stack: str) -> None:
    """Every mock state the monitor answers with is, where plain, the same `Struct` byte for byte as the SDK's
    `serialize_properties` makes of it; the others (archives, assets) are left to the SDK."""
    from pulumi.runtime import rpc
    from pulumi.runtime.sync_await import _sync_await

    from serverless_patterns.offline.mocks import plain_struct

    captured = run_program(project, stack)
    plain = 0
    for resource in captured.resources:
        state = dict(resource.outputs)
        fast = plain_struct(state)
        if fast is None:
            continue
        plain += 1
        shipped = _sync_await(rpc.serialize_properties(state, {}))
        assert fast.SerializeToString(deterministic=True) == shipped.SerializeToString(deterministic=True), \
            resource.urn
    assert plain >= len([r for r in captured.resources if r.custom]) // 2


def test_plain_struct_takes_only_plain_json() -> None:
    """Nested None values stay (as null), top-level ones go, numbers and booleans keep their kind; anything
    the SDK would have to translate (tuples, assets, resources, non-text keys, dict subclasses) is refused."""
    from collections import OrderedDict

    from pulumi.runtime import rpc
    from pulumi.runtime.sync_await import _sync_await

    from serverless_patterns.offline.mocks import plain_struct

    state = {"a": None, "b": {"c": None, "d": [1, 2.5, True, "x", None, {"e": []}]}, "f": False, "g": 0}
    fast = plain_struct(state)
    assert fast is not None and "a" not in fast and fast["b"]["c"] is None and fast["f"] is False
    assert fast.SerializeToString(deterministic=True) == \
        _sync_await(rpc.serialize_properties(state, {})).SerializeToString(deterministic=True)
    for odd in ({"t": (1, 2)}, {"asset": pulumi.StringAsset("x")}, {"n": {1: "x"}}, {"o": OrderedDict(a=1)}):
        assert plain_struct(odd) is None
    assert plain_struct(OrderedDict(a=1)) is None  # type: ignore[arg-type]


def test_monitor_shortcut_follows_only_the_sdk_code_it_copies(monkeypatch: pytest.MonkeyPatch) -> None:
    """A `MockMonitor.RegisterResource` that differs from the SDK's the monitor copies, even in one constant,
    turns the copy off."""
    import types

    from pulumi.runtime.mocks import MockMonitor

    from serverless_patterns.offline.mocks import AwsMocks, CapturingMonitor

    shipped = MockMonitor.RegisterResource
    assert CapturingMonitor(AwsMocks(), shortcuts=True).shortcuts
    consts = tuple("pulumi:pulumi:Renamed" if c == "pulumi:pulumi:Stack" else c for c in shipped.__code__.co_consts)
    assert consts != shipped.__code__.co_consts
    monkeypatch.setattr(MockMonitor, "RegisterResource",
                        types.FunctionType(shipped.__code__.replace(co_consts=consts), shipped.__globals__))
    assert not CapturingMonitor(AwsMocks(), shortcuts=True).shortcuts


def test_monitor_answers_through_the_sdk_when_its_register_resource_changes(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """With the SDK this library pins, the capturing monitor answers registrations itself; a MockMonitor whose
    RegisterResource is any other code answers them, and the stack is the same."""
    from pulumi.runtime.mocks import MockMonitor

    from serverless_patterns.offline.engine import sdk_shortcuts
    from serverless_patterns.offline.mocks import AwsMocks, CapturingMonitor

    assert CapturingMonitor(AwsMocks(), shortcuts=True).shortcuts
    assert not CapturingMonitor(AwsMocks()).shortcuts
    with sdk_shortcuts(False):
        as_shipped = run_program(FIXTURE, "dev")
    shipped = MockMonitor.RegisterResource
    calls: list[str] = []

    def changed(self: MockMonitor, request: object) -> object:
        calls.append(request.type)  # type: ignore[attr-defined]
        return shipped(self, request)

    monkeypatch.setattr(MockMonitor, "RegisterResource", changed)
    assert not CapturingMonitor(AwsMocks(), shortcuts=True).shortcuts
    captured = run_program(FIXTURE, "dev")
    assert len(calls) > len(captured.resources) // 2
    assert _everything(captured) == _everything(as_shipped)


def test_type_unwrapping_iscached_by_identity_not_equality() -> None:
    """The cached unwrappers answer as the SDK's for every type the SDK unwraps, and two unions that compare
    equal with their members in another order are unwrapped each as itself."""
    import typing

    from pulumi import _types as sdk_types

    from serverless_patterns.offline import engine

    unwrap = engine.cached_by_identity(sdk_types.unwrap_type)
    optional = engine.cached_by_identity(sdk_types.unwrap_optional_type)
    first, second = typing.Union[int, str, None], typing.Union[str, int, None]  # noqa: UP007 (typing's own)
    assert first == second and first is not second
    for typ in (first, second, first, second, pulumi.Input[str], pulumi.Output[int],
                typing.Optional[pulumi.Input[aws.lambda_.FunctionEnvironmentArgs]],  # noqa: UP045
                aws.lambda_.FunctionEnvironmentArgs):
        for _ in range(2):
            assert unwrap(typ) == sdk_types.unwrap_type(typ)
            assert optional(typ) == sdk_types.unwrap_optional_type(typ)
    assert typing.get_args(unwrap(second)) == typing.get_args(sdk_types.unwrap_type(second))


def test_outputs_are_tracked_as_the_sdk_tracks_them(monkeypatch: pytest.MonkeyPatch) -> None:
    """Resource outputs are awaited at the end of the program until they succeed, as `Output._track` has it:
    with this SDK the engine tracks them itself (and leaves none behind); an SDK whose `_track` is other code
    tracks them its own way, and the stack is the same."""
    from pulumi import output as sdk_output
    from pulumi.runtime.settings import SETTINGS

    from serverless_patterns.offline import engine

    assert engine._tracks_as_expected()
    left: list[int] = []

    def program() -> None:
        aws.s3.Bucket("tracked")
        left.append(len(SETTINGS.outputs))

    run_callable(program)
    assert left[0] > 0  # the bucket's outputs are tracked while it registers...
    assert len(SETTINGS.outputs) == 0  # ...and every one that succeeded is no longer
    with engine.sdk_shortcuts(False):
        as_shipped = run_program(FIXTURE, "dev")
    track = sdk_output.Output._track
    monkeypatch.setattr(sdk_output.Output, "_track", lambda self: track(self))
    assert not engine._tracks_as_expected()
    assert _everything(run_program(FIXTURE, "dev")) == _everything(as_shipped)


def _refusing(answer: Any) -> Any:
    """`AwsMocks.new_resource` that refuses the resource named "refused", as a monitor refuses a registration."""

    def refusing(self: Any, args: object) -> object:
        if getattr(args, "name", "") == "refused":
            raise RuntimeError("the monitor refused this registration")
        return answer(self, args)

    return refusing


@pytest.mark.parametrize("shortcuts", [True, False])
def test_a_failed_registration_still_fails_the_program(monkeypatch: pytest.MonkeyPatch, shortcuts: bool) -> None:
    """Outputs whose registration failed stay tracked, so the program fails with the monitor's error, with the
    engine's shortcuts as without them."""
    from serverless_patterns.offline.engine import sdk_shortcuts
    from serverless_patterns.offline.mocks import AwsMocks

    monkeypatch.setattr(AwsMocks, "new_resource", _refusing(AwsMocks.new_resource))
    with sdk_shortcuts(shortcuts), pytest.raises(Exception, match="refused this registration"):
        run_callable(lambda: (aws.s3.Bucket("kept"), aws.s3.Bucket("refused")))


@pytest.mark.parametrize("shortcuts", [True, False])
def test_a_failed_run_leaves_nothing_for_asyncio_to_report_later(monkeypatch: pytest.MonkeyPatch,
                                                                 caplog: pytest.LogCaptureFixture,
                                                                 shortcuts: bool) -> None:
    """After a failed run, asyncio reports nothing of it when the next run or the collector drops what it left
    (pending tasks, failed futures nobody retrieved): it would log each with a traceback from `__del__`, and on
    CPython 3.11 that formatting parses source with `ast`, which fails a parse it interrupts (gh-106905; the next
    `ast.parse` in this process then raised "AST constructor recursion depth mismatch")."""
    import ast
    import gc
    import logging

    from serverless_patterns.offline.engine import sdk_shortcuts
    from serverless_patterns.offline.mocks import AwsMocks

    caplog.set_level(logging.ERROR, logger="asyncio")
    with sdk_shortcuts(shortcuts):
        with monkeypatch.context() as refusal:
            refusal.setattr(AwsMocks, "new_resource", _refusing(AwsMocks.new_resource))
            with pytest.raises(Exception, match="refused this registration"):
                run_callable(lambda: (aws.s3.Bucket("kept"), aws.s3.Bucket("refused")))
        run_callable(lambda: aws.s3.Bucket("next"))
    gc.collect()
    ast.parse("x = 1")
    assert [r.getMessage().splitlines()[0] for r in caplog.records if r.name == "asyncio"] == []
