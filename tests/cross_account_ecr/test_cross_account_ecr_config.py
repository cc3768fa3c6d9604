"""`from_config`: the dev stack's section, one provider per consumer account, and config errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from cross_account_ecr_helpers import CONSUMER_B, CONSUMER_C, REGION, REGISTRY

from serverless_patterns.core.args import ComponentArgsError
from serverless_patterns.offline import run_program
from serverless_patterns.offline.engine import CapturedStack

ROOT = Path(__file__).resolve().parents[2]


def dev_section() -> dict[str, Any]:
    config = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())["config"]
    return config["serverless-patterns:patterns"]["crossAccountEcr"]


def plan(section: dict[str, Any]) -> CapturedStack:
    """The dev stack with only this pattern switched on."""
    return run_program(
        ROOT, "dev", config_overrides={"serverless-patterns:patterns": json.dumps({"crossAccountEcr": section})}
    )


@pytest.fixture(scope="module")
def dev() -> CapturedStack:
    return plan(dev_section())


def test_dev_section_builds_registry_in_the_stack_account(dev: CapturedStack) -> None:
    out = dev.outputs["crossAccountEcr"]
    assert out["repositoryUrl"] == f"{REGISTRY}.dkr.ecr.{REGION}.amazonaws.com/shared/hello"
    assert out["mode"] == "accounts"
    assert out["imageUri"].startswith(out["repositoryUrl"] + "@sha256:")
    assert dev.one("aws:ecr/repository:Repository").provider == ""


@pytest.mark.parametrize("account", [CONSUMER_B, CONSUMER_C])
def test_one_provider_per_consumer_assuming_the_configured_role(dev: CapturedStack, account: str) -> None:
    provider = dev.one("pulumi:providers:aws", account)
    inputs = {k: json.loads(v) if isinstance(v, str) and v[:1] in "[{" else v for k, v in provider.inputs.items()}
    assert inputs["region"] == REGION
    assert inputs["allowedAccountIds"] == [account]
    assert inputs["assumeRoles"][0]["roleArn"] == f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole"
    fn = dev.one("aws:lambda/function:Function", account)
    assert fn.provider.startswith(provider.urn + "::")
    assert dev.outputs["crossAccountEcr"]["functions"][account]["arn"].startswith(
        f"arn:aws:lambda:{REGION}:{account}:function:"
    )


def test_deployer_role_from_config(dev: CapturedStack) -> None:
    grant = dev.one("aws:iam/rolePolicy:RolePolicy", "deployer-pull")
    assert grant.inputs["role"] == "ci-deployer"
    assert grant.provider.startswith(dev.one("pulumi:providers:aws", CONSUMER_B).urn + "::")


def test_first_deploy_without_an_image_grants_only() -> None:
    section = {k: v for k, v in dev_section().items() if k != "imageTag"}
    section["consumers"] = {}
    section["consumerAccountIds"] = [CONSUMER_B, CONSUMER_C]
    stack = plan(section)
    assert stack.of_type("aws:lambda/function:Function") == []
    assert (
        len(
            json.loads(stack.one("aws:ecr/repositoryPolicy:RepositoryPolicy").inputs["policy"])["Statement"][0][
                "Principal"
            ]["AWS"]
        )
        == 2
    )


@pytest.mark.parametrize(
    "change, field",
    [
        ({"imageTags": "x"}, "patterns.crossAccountEcr.imageTags"),
        ({"consumers": {CONSUMER_B: {"rolename": "x"}}}, f"patterns.crossAccountEcr.consumers.{CONSUMER_B}.rolename"),
        ({"consumers": {CONSUMER_B: {"region": "us-east-1"}}}, f"consumers.{CONSUMER_B}.region"),
        ({"consumers": {REGISTRY: {}}}, "consumer_account_ids"),
        (
            {"consumerRoleName": None, "consumers": {CONSUMER_B: {}}},
            f"patterns.crossAccountEcr.consumers.{CONSUMER_B}.roleName",
        ),
        ({"function": {"memory": 512}}, "patterns.crossAccountEcr.function.memory"),
        ({"organizationId": "o-BAD"}, "organization_id"),
        ({"resolveImageTag": False}, "resolve_image_tag"),
    ],
)
def test_config_errors_name_the_key(change: dict[str, Any], field: str) -> None:
    section = {**dev_section(), **change}
    section = {k: v for k, v in section.items() if v is not None}
    with pytest.raises(ComponentArgsError) as caught:
        plan(section)
    assert caught.value.field == field
