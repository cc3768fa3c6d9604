"""Construct, as a program in another language reaches it: through the provider host's own code.

Each case builds a component twice under the offline engine: once through the Python API (snake_case
args), once the way the engine hands a remote component to the plugin: camelCase inputs serialized
by the SDK's own `rpc.serialize_properties` (numbers as floats, Outputs as output values with their
dependencies) in a `ConstructRequest`, passed to `ProviderServicer.Construct` of the package's own
`ComponentProvider` (the code `component_provider_host` serves). The two must register the same
children with the same inputs, and the construct response must carry the component's outputs.

One part of the host cannot run offline: `ProviderServicer._construct` starts by pointing the runtime
at the engine's resource monitor over gRPC (`settings.reset_options(monitor_address=...)` and
`_load_monitor_feature_support()`). Those two calls are replaced by no-ops, so the offline engine's
mock monitor stays in place; everything after them (config, input deserialization, option mapping,
`ComponentProvider.construct` with its name mapping and integer conversion, the component itself, and
serializing the response) runs as shipped.
"""

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws
import pytest
from pulumi.provider.server import ProviderServicer
from pulumi.runtime import rpc
from pulumi.runtime import settings as runtime_settings
from pulumi.runtime.proto import provider_pb2, resource_pb2

from serverless_patterns import provider
from serverless_patterns.core.apigateway_account import ApiGatewayAccountLogging
from serverless_patterns.core.function import PythonFunction
from serverless_patterns.core.naming import PACKAGE
from serverless_patterns.cross_account_ecr import CrossAccountEcr
from serverless_patterns.glacier_restore import GlacierRestore
from serverless_patterns.multi_tenant_api import MultiTenantApi
from serverless_patterns.offline import run_callable
from serverless_patterns.offline.mocks import CapturedResource
from serverless_patterns.progress_tracker import ProgressTracker

CODE = str(Path(__file__).resolve().parents[1] / "offline" / "fixtures" / "program" / "functions" / "echo")
ACCOUNT, REGION = "111111111111", "eu-west-1"
OUTPUT_VALUES = resource_pb2.RESOURCE_MONITOR_FEATURE_OUTPUT_VALUES

#: Built fresh in each run (so it is a real dependency of the component): what the caller's program owns.
Caller = Callable[[], dict[str, pulumi.Output[Any]]]


def caller() -> dict[str, pulumi.Output[Any]]:
    topic = aws.sns.Topic("alerts")
    table = aws.dynamodb.Table("orders", hash_key="pk", attributes=[{"name": "pk", "type": "S"}],
                               billing_mode="PAY_PER_REQUEST")
    return {"topic": topic.arn, "table_arn": table.arn, "table_name": table.name,
            "bucket": pulumi.Output.from_input("research-archive"),
            "workflow": pulumi.Output.from_input(f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:orders"),
            "key": pulumi.Output.from_input(f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab")}


#: component, its Python args from the caller's values, the same args as another language sends them.
CASES: list[tuple[type, Callable[[dict[str, Any]], dict[str, Any]], Callable[[dict[str, Any]], dict[str, Any]]]] = [
    (GlacierRestore,
     lambda c: {"sender_email": "restores@research.example.org", "bucket_name": c["bucket"],
                "alarm_actions": [c["topic"]], "default_days": 3, "throttling_rate_limit": 5.5,
                "prices": {"currency": "EUR", "restored_storage_per_gb_month": 0.025}},
     lambda c: {"senderEmail": "restores@research.example.org", "bucketName": c["bucket"],
                "alarmActions": [c["topic"]], "defaultDays": 3.0, "throttlingRateLimit": 5.5,
                "prices": {"currency": "EUR", "restoredStoragePerGbMonth": 0.025}}),
    (ProgressTracker,
     lambda c: {"stage_name": "beta", "workflow_arn": c["workflow"], "demo_wait_seconds": 5,
                "connection_ttl_hours": 4},
     lambda c: {"stageName": "beta", "workflowArn": c["workflow"], "demoWaitSeconds": 5.0,
                "connectionTtlHours": 4.0}),
    (MultiTenantApi,
     lambda c: {"tiers": {"standard": {"rate_limit": 10.0, "burst_limit": 20, "quota": {"limit": 1000, "period": "DAY"},
                                       "method_throttles": {"POST /items": {"rate_limit": 2.0, "burst_limit": 4}}}},
                "tenants": [{"id": "acme-corp", "tier": "standard"}], "domain_prefix": "acme-api-test",
                "callback_urls": ["https://app.example.org/callback"], "alarms": {"actions": [c["topic"]]},
                "function_settings": {"log_retention_days": 14}},
     lambda c: {"tiers": {"standard": {"rateLimit": 10.0, "burstLimit": 20.0,
                                       "quota": {"limit": 1000.0, "period": "DAY"},
                                       "methodThrottles": {"POST /items": {"rateLimit": 2.0, "burstLimit": 4.0}}}},
                "tenants": [{"id": "acme-corp", "tier": "standard"}], "domainPrefix": "acme-api-test",
                "callbackUrls": ["https://app.example.org/callback"], "alarms": {"actions": [c["topic"]]},
                "functionSettings": {"logRetentionDays": 14.0}}),
    (CrossAccountEcr,
     lambda c: {"repository_name": "shared/hello", "consumer_account_ids": ["222222222222"],
                "kms_key_arn": c["key"], "lifecycle": {"keep_builds": 5}},
     lambda c: {"repositoryName": "shared/hello", "consumerAccountIds": ["222222222222"],
                "kmsKeyArn": c["key"], "lifecycle": {"keepBuilds": 5.0}}),
    (ApiGatewayAccountLogging,
     lambda c: {"tags": {"team": "platform"}},
     lambda c: {"tags": {"team": "platform"}}),
    (PythonFunction,
     lambda c: {"code": CODE, "service": "orders", "memory_mb": 512, "environment": {"TABLE": c["table_name"]},
                "statements": [{"actions": ["dynamodb:GetItem"], "resources": [c["table_arn"]], "sid": "Read"}]},
     lambda c: {"code": CODE, "service": "orders", "memoryMb": 512.0, "environment": {"TABLE": c["table_name"]},
                "statements": [{"actions": ["dynamodb:GetItem"], "resources": [c["table_arn"]], "sid": "Read"}]}),
]


def through_python(component: type, args: Callable[[dict[str, Any]], dict[str, Any]]) -> Any:
    built: dict[str, Any] = {}

    def program() -> None:
        built["component"] = component("subject", args(caller()))
        pulumi.export("outputs", built["component"].outputs)

    return run_callable(program, account=ACCOUNT, region=REGION), built["component"]


def through_host(component: type, inputs: Callable[[dict[str, Any]], dict[str, Any]],
                 monkeypatch: pytest.MonkeyPatch) -> Any:
    async def no_monitor_dial(*_: Any, **__: Any) -> None:
        return None

    # The only part of ProviderServicer._construct that needs the real engine (see the module docstring).
    monkeypatch.setattr(runtime_settings, "reset_options", lambda **_: None)
    monkeypatch.setattr(runtime_settings, "_load_monitor_feature_support", no_monitor_dial)
    # The engine supports output values, so the caller's SDK sends Outputs as output values (with their
    # dependencies) and the host deserializes them back into Outputs; pulumi's mock monitor answers no
    # to keep `Output`s out of mock inputs, which only matters for remote registrations like this one.
    supports = runtime_settings.monitor_supports_feature
    monkeypatch.setattr(runtime_settings, "monitor_supports_feature",
                        lambda feature: feature == OUTPUT_VALUES or supports(feature))
    servicer = ProviderServicer(provider.component_provider(), [], engine_address="")
    answers: dict[str, Any] = {}

    async def construct() -> None:
        deps: dict[str, list[pulumi.Resource]] = {}
        wire = await rpc.serialize_properties(inputs(caller()), deps, keep_output_values=True)
        request = provider_pb2.ConstructRequest(
            project="test", stack="test", name="subject", type=f"{PACKAGE}:index:{component.__name__}",
            inputs=wire, dryRun=True, config={"aws:region": REGION})
        for key, resources in deps.items():
            urns = [await r.urn.future() for r in resources]
            request.inputDependencies[key].urns.extend(u for u in urns if u)
        answers["response"] = await servicer.Construct(request, None)

    def program() -> None:
        pulumi.export("constructed", pulumi.Output.from_input(asyncio.ensure_future(construct())))

    stack = run_callable(program, account=ACCOUNT, region=REGION)
    return stack, answers["response"]


def comparable(value: Any) -> Any:
    """Assets compare by identity; compare what they hold."""
    if isinstance(value, pulumi.AssetArchive):
        return {name: comparable(asset) for name, asset in value.assets.items()}
    if isinstance(value, pulumi.FileAsset):
        return ("file", value.path)
    if isinstance(value, dict):
        return {k: comparable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [comparable(v) for v in value]
    return value


def registrations(resources: list[CapturedResource]) -> dict[str, tuple[Any, ...]]:
    return {r.urn: (r.type, r.parent, r.custom, r.provider, comparable(r.inputs)) for r in resources}


@pytest.mark.parametrize(("component", "python_args", "wire_inputs"), CASES, ids=[c[0].__name__ for c in CASES])
def test_construct_builds_what_the_python_api_builds(component: type, python_args: Any, wire_inputs: Any,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    direct, built = through_python(component, python_args)
    hosted, response = through_host(component, wire_inputs, monkeypatch)

    subject = f"urn:pulumi:test::test::pulumi:pulumi:Stack${PACKAGE}:index:{component.__name__}::subject"
    assert response.urn == subject
    assert direct.by_urn(subject) is not None and hosted.by_urn(subject) is not None
    assert len(hosted.descendants(subject)) == len(direct.descendants(subject)) > 0
    assert registrations(hosted.resources) == registrations(direct.resources)
    for child in direct.descendants(subject):
        assert sorted(hosted.by_urn(child.urn).dependencies) == sorted(child.dependencies), child.urn

    # The state the host returns: the declared outputs, camelCase, with the values the Python API exports.
    state = rpc.deserialize_properties(response.state)
    exported = direct.outputs["outputs"]
    assert set(state) == {k for k, v in exported.items() if v is not None}
    for key, value in state.items():
        assert value == exported[key], key
    assert set(exported) <= set(built.outputs)


def test_args_with_unknown_keys_are_refused() -> None:
    from serverless_patterns.core.args import ComponentArgsError

    with pytest.raises(ComponentArgsError, match=r"'args\.team'"):
        run_callable(lambda: ApiGatewayAccountLogging("logging", {"team": "platform"}))
    with pytest.raises(ComponentArgsError, match=r"'args\.memory'"):
        run_callable(lambda: PythonFunction("fn", {"code": CODE, "service": "s", "memory": 1}))
