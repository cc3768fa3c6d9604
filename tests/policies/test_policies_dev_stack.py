"""The pack over the real `dev` stack: it runs cleanly, and our components' IAM passes the least-privilege rules."""

from __future__ import annotations

from pathlib import Path

from serverless_patterns.offline import CapturedStack
from serverless_patterns.policies.runner import run

ROOT = Path(__file__).resolve().parents[2]
LEAST_PRIVILEGE = ("iam-policy-document-valid", "iam-no-wildcard-actions", "iam-no-partial-wildcard-actions",
                   "iam-no-wildcard-resources", "iam-no-admin-managed-policies",
                   "iam-service-principal-source-condition", "iam-resource-policy-public-principal",
                   "iam-trust-policy-principal",
                   "execute-api-manage-connections-scoped", "ecr-repository-policy-pull-only",
                   "sfn-role-least-privilege")


def test_components_pass_every_least_privilege_rule(dev: CapturedStack) -> None:
    analysis = run(dev)
    assert [str(v) for v in analysis.violations if v.policy_name in LEAST_PRIVILEGE] == []
    assert [str(v) for v in analysis.violations] == []  # the whole pack: 0 violations, 0 suppressions
    assert analysis.suppressed == []
    assert not [v for v in analysis.violations if "during preview" in v.message]


def test_a_wrong_role_in_the_dev_stack_is_caught(dev: CapturedStack) -> None:
    """Drop one task statement from, and add an unneeded one to, each state machine role: both are reported."""
    import copy
    import json

    from serverless_patterns.policies.state_machines import ROLE_POLICY, STATE_MACHINE

    broken = copy.deepcopy(dev)
    machines = broken.of_type(STATE_MACHINE)
    assert machines
    dropped: dict[str, str] = {}
    for machine in machines:
        [role_urn] = machine.property_dependencies["roleArn"]
        policy = next(p for p in broken.of_type(ROLE_POLICY) if role_urn in p.property_dependencies.get("role", []))
        document = json.loads(policy.outputs["policy"])
        task = next(s for s in document["Statement"] if not str(s["Action"] if isinstance(s["Action"], str)
                                                                 else s["Action"][0]).startswith(("logs:", "xray:")))
        document["Statement"].remove(task)
        document["Statement"].append({"Effect": "Allow", "Action": "sqs:DeleteQueue",
                                      "Resource": "arn:aws:sqs:eu-west-1:111111111111:unrelated"})
        policy.outputs["policy"] = json.dumps(document)
        dropped[machine.name] = task["Action"] if isinstance(task["Action"], str) else task["Action"][0]
    found = [v for v in run(broken).violations if v.policy_name == "sfn-role-least-privilege"]
    for machine, action in dropped.items():
        messages = [v.message for v in found if v.resource_name == machine]
        assert any("lacks" in m and action in m for m in messages), (machine, action, messages)
        assert any("sqs:DeleteQueue" in m for m in messages), (machine, messages)
