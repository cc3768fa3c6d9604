"""The team's policy pack finds nothing to object to in what the component creates, in every mode."""

from __future__ import annotations

import pytest
from cross_account_ecr_helpers import REGION, REGISTRY, run, two_consumers

from serverless_patterns.offline.engine import CapturedStack
from serverless_patterns.policies.runner import analyze


@pytest.mark.parametrize("stack_name", ["account_stack", "org_stack"])
def test_no_violations(stack_name: str, request: pytest.FixtureRequest) -> None:
    stack: CapturedStack = request.getfixturevalue(stack_name)
    assert [str(v) for v in analyze(stack)] == []


def test_no_violations_with_kms_replication_and_deployer_roles() -> None:
    key = f"arn:aws:kms:{REGION}:{REGISTRY}:key/0a1b2c3d-1111-2222-3333-444455556666"
    stack = run(
        lambda p: two_consumers(
            p,
            kms_key_arn=key,
            replication_regions=["eu-central-1"],
            consumers={a: {"provider": prov, "deployer_role_name": "ci-deployer"} for a, prov in p.items()},
        )
    )
    assert [str(v) for v in analyze(stack)] == []
