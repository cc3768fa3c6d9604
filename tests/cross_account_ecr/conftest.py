"""Fixtures of the CrossAccountEcr tests (helpers live in `cross_account_ecr_helpers`)."""

from __future__ import annotations

import pytest
from cross_account_ecr_helpers import run, two_consumers

from serverless_patterns.offline.engine import CapturedStack


@pytest.fixture(scope="module")
def account_stack() -> CapturedStack:
    return run(two_consumers)


@pytest.fixture(scope="module")
def org_stack() -> CapturedStack:
    return run(
        lambda p: two_consumers(
            p, organization_id="o-a1b2c3d4e5", organization_paths=["o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/"]
        )
    )
