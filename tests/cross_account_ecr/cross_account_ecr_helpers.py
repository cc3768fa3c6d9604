"""Helpers of the CrossAccountEcr tests: run the component offline with two consumer accounts."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pulumi
import pulumi_aws as aws

from serverless_patterns.cross_account_ecr import CrossAccountEcr, CrossAccountEcrArgs
from serverless_patterns.offline import run_callable
from serverless_patterns.offline.engine import CapturedStack

REGISTRY = "111111111111"
CONSUMER_B = "222222222222"
CONSUMER_C = "333333333333"
REGION = "eu-west-1"
CONFIG = {"aws:region": REGION, "aws:allowedAccountIds": json.dumps([REGISTRY])}


def consumer_providers(region_b: str = REGION, region_c: str = REGION) -> dict[str, aws.Provider]:
    """Two consumer accounts, one identified by allowedAccountIds, one by the role it assumes."""
    return {
        CONSUMER_B: aws.Provider(
            "acct-b",
            region=region_b,
            allowed_account_ids=[CONSUMER_B],
            assume_roles=[{"role_arn": f"arn:aws:iam::{CONSUMER_B}:role/Deployer"}],
        ),
        CONSUMER_C: aws.Provider(
            "acct-c", region=region_c, assume_roles=[{"role_arn": f"arn:aws:iam::{CONSUMER_C}:role/Deployer"}]
        ),
    }


def run(build: Callable[[dict[str, aws.Provider]], CrossAccountEcrArgs], **providers: str) -> CapturedStack:
    """Run the component with args built from the two consumer providers; exports its outputs as `ecr`."""

    def program() -> None:
        component = CrossAccountEcr("img", build(consumer_providers(**providers)))
        pulumi.export("ecr", component.outputs)

    return run_callable(program, config=CONFIG)


def two_consumers(providers: dict[str, aws.Provider], **extra: Any) -> CrossAccountEcrArgs:
    args: dict[str, Any] = {
        "repository_name": "shared/hello",
        "consumers": {account: {"provider": p} for account, p in providers.items()},
        "image_tag": "release-1.0.0",
        **extra,
    }
    return args  # type: ignore[return-value]


def policy_of(stack: CapturedStack) -> dict[str, Any]:
    return json.loads(stack.one("aws:ecr/repositoryPolicy:RepositoryPolicy").inputs["policy"])
