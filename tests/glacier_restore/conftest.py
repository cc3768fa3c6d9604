"""Shared fixtures of the GlacierRestore tests: the component under the offline engine, and helpers."""

from __future__ import annotations

import json
from typing import Any

import pytest

from serverless_patterns.glacier_restore import GlacierRestore, GlacierRestoreArgs
from serverless_patterns.offline import CapturedResource, CapturedStack, run_callable

ACCOUNT = "111111111111"
REGION = "eu-west-1"
SENDER = "restores@research.example.org"
ARGS: GlacierRestoreArgs = {
    "sender_email": SENDER,
    "allowed_tiers": ["Standard", "Bulk"],
    "default_days": 7,
    "max_days": 30,
    "tags": {"team": "research-it"},
}


def build(args: GlacierRestoreArgs, name: str = "gr") -> CapturedStack:
    """Run the component alone under the offline engine (eu-west-1, account 111111111111)."""
    return run_callable(lambda: GlacierRestore(name, args), config={"aws:region": REGION}, account=ACCOUNT)


@pytest.fixture(scope="module")
def stack() -> CapturedStack:
    return build(ARGS)


def policy_of_role(stack: CapturedStack, role_name_part: str) -> dict[str, Any]:
    """The inline policy document of the one role whose logical name contains `role_name_part`."""
    role = stack.one("aws:iam/role:Role", role_name_part)
    policies = [p for p in stack.of_type("aws:iam/rolePolicy:RolePolicy") if p.inputs["role"] == role.id]
    assert len(policies) == 1, f"{role.name} has {len(policies)} inline policies"
    return json.loads(policies[0].inputs["policy"])


def statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [{**s, "Action": _list(s["Action"]), "Resource": _list(s.get("Resource", []))}
            for s in document["Statement"]]


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def definition_of(stack: CapturedStack, name_part: str) -> dict[str, Any]:
    """The state machine definition exactly as the component registered it."""
    machine: CapturedResource = stack.one("aws:sfn/stateMachine:StateMachine", name_part)
    return json.loads(machine.inputs["definition"])
