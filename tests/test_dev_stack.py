"""The committed dev stack, run as `make plan` runs it: every pattern on, realistic, clean."""

import json
from pathlib import Path

import pulumi
import pytest

from serverless_patterns.offline import CapturedStack, run_program
from serverless_patterns.registry import PATTERNS

ROOT = Path(__file__).resolve().parents[1]

COMPONENT_TYPES = {
    "glacierRestore": "serverless-patterns:index:GlacierRestore",
    "progressTracker": "serverless-patterns:index:ProgressTracker",
    "multiTenantApi": "serverless-patterns:index:MultiTenantApi",
    "crossAccountEcr": "serverless-patterns:index:CrossAccountEcr",
}


@pytest.fixture(scope="module")
def dev() -> CapturedStack:
    return run_program(ROOT, "dev")


def test_every_pattern_is_built_and_exported(dev: CapturedStack) -> None:
    assert set(PATTERNS) == set(COMPONENT_TYPES)
    for key, typ in COMPONENT_TYPES.items():
        component = dev.one(typ)
        assert dev.descendants(component.urn), f"{typ} has no children"
        assert dev.outputs[key], f"no outputs exported for {key}"


def test_every_resource_belongs_to_a_component(dev: CapturedStack) -> None:
    loose = [r.name for r in dev.roots() if r.custom and not r.type.startswith("pulumi:providers:")]
    assert loose == []


def test_every_aws_resource_is_tagged_where_taggable(dev: CapturedStack) -> None:
    for resource in dev.resources:
        if resource.custom and "tags" in resource.inputs:
            tags = resource.inputs["tags"]
            assert tags.get("managed-by") == "pulumi", resource.urn
            assert tags.get("team") == "research-it", resource.urn


def test_functions_follow_the_conventions(dev: CapturedStack) -> None:
    zipped = [f for f in dev.of_type("aws:lambda/function:Function") if f.inputs.get("packageType") != "Image"]
    assert zipped
    groups = {g.outputs["name"] for g in dev.of_type("aws:cloudwatch/logGroup:LogGroup")}
    roles = [f.inputs["role"] for f in dev.of_type("aws:lambda/function:Function")]
    assert len(roles) == len(set(roles)), "every function has a role of its own"
    for fn in zipped:
        inputs = fn.inputs
        assert inputs["runtime"] == "python3.14", fn.name
        assert inputs["architectures"] == ["arm64"], fn.name
        assert inputs["tracingConfig"] == {"mode": "Active"}, fn.name
        assert inputs["loggingConfig"]["logGroup"] in groups, fn.name


def test_two_runs_plan_the_same_archives_and_values(dev: CapturedStack) -> None:
    again = run_program(ROOT, "dev")

    def comparable(stack: CapturedStack) -> list:
        def plain(value: object) -> object:
            if isinstance(value, pulumi.AssetArchive):
                return {name: Path(asset.path).read_bytes() for name, asset in value.assets.items()}
            return value
        return [(r.urn, {k: plain(v) for k, v in r.inputs.items()}) for r in stack.resources]

    assert comparable(dev) == comparable(again)
    assert dev.outputs == again.outputs


def test_api_stages_wait_for_the_account_logging_role(dev: CapturedStack) -> None:
    account = dev.one("aws:apigateway/account:Account").urn
    stages = dev.of_type("aws:apigateway/stage:Stage") + dev.of_type("aws:apigatewayv2/stage:Stage")
    assert stages
    for stage in stages:
        assert account in stage.dependencies, stage.name


def resource_class(typ: str) -> type:
    """The pulumi_aws class of a type token, from the SDK's own resource-module registry."""
    import importlib

    from pulumi.runtime import rpc

    module = rpc._RESOURCE_MODULES["aws:" + typ.split(":")[1]][0]
    return getattr(importlib.import_module(module.mod_info["fqn"]), module.mod_info["classes"][typ])


def test_every_resource_gets_an_id_and_every_arn_output_is_realistic(dev: CapturedStack) -> None:
    accounts = {"111111111111", "222222222222", "333333333333", ""}
    for resource in dev.resources:
        if not resource.custom or not resource.type.startswith("aws:"):
            continue
        assert resource.id, resource.urn
        if isinstance(getattr(resource_class(resource.type), "arn", None), property):
            arn = resource.outputs.get("arn")
            assert isinstance(arn, str) and arn.startswith("arn:aws:"), (resource.type, arn)
            assert arn.split(":")[4] in accounts, (resource.type, arn)
            region = arn.split(":")[3]
            assert region in ("", "eu-west-1"), (resource.type, arn)


def test_every_role_api_gateway_assumes_is_assumable(dev: CapturedStack) -> None:
    """API Gateway sends no aws:SourceAccount when it assumes an integration or CloudWatch role (decision and
    evidence: serverless_patterns.core.iam.NO_SOURCE_CONTEXT), so their trust policies carry no condition."""
    trusts = [json.loads(r.inputs["assumeRolePolicy"]) for r in dev.of_type("aws:iam/role:Role")]
    api_gateway = [s for t in trusts for s in t["Statement"]
                   if s.get("Principal", {}).get("Service") == "apigateway.amazonaws.com"]
    assert len(api_gateway) >= 2  # the account's CloudWatch role and the restore API's integration role
    assert all("Condition" not in s for s in api_gateway), api_gateway
