"""The generated repository and lifecycle policies, as ECR (moto) accepts them, and what the lifecycle keeps.

moto validates both documents but evaluates neither, so the lifecycle semantics are checked with a
model of ECR's documented evaluation (`ecr_lifecycle.expired_by`, itself checked against the User Guide's
worked examples in test_ecr_lifecycle_model.py), applied to the generated policy.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from cross_account_ecr_helpers import REGION, policy_of, run, two_consumers
from ecr_lifecycle import Image, expired_by
from moto import mock_aws

from serverless_patterns.cross_account_ecr import lifecycle_rules
from serverless_patterns.offline.engine import CapturedStack


@pytest.fixture()
def ecr() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("ecr", region_name=REGION)
        client.create_repository(
            repositoryName="shared/hello",
            imageTagMutability="IMMUTABLE",
            imageScanningConfiguration={"scanOnPush": True},
            encryptionConfiguration={"encryptionType": "AES256"},
        )
        yield client


@pytest.mark.parametrize("stack_name", ["account_stack", "org_stack"])
def test_ecr_accepts_the_repository_policy_as_generated(
    ecr: Any, stack_name: str, request: pytest.FixtureRequest
) -> None:
    stack: CapturedStack = request.getfixturevalue(stack_name)
    text = stack.one("aws:ecr/repositoryPolicy:RepositoryPolicy").inputs["policy"]
    ecr.set_repository_policy(repositoryName="shared/hello", policyText=text)
    stored = ecr.get_repository_policy(repositoryName="shared/hello")["policyText"]
    assert json.loads(stored) == policy_of(stack)


def test_ecr_accepts_the_lifecycle_policy_as_generated(ecr: Any, account_stack: CapturedStack) -> None:
    text = account_stack.one("aws:ecr/lifecyclePolicy:LifecyclePolicy").inputs["policy"]
    ecr.put_lifecycle_policy(repositoryName="shared/hello", lifecyclePolicyText=text)
    assert json.loads(ecr.get_lifecycle_policy(repositoryName="shared/hello")["lifecyclePolicyText"]) == json.loads(
        text
    )


def test_ecr_rejects_a_broken_lifecycle_rule(ecr: Any) -> None:
    """The acceptance above means something: moto does check the rule schema."""
    rules = lifecycle_rules(
        {"untagged_expire_days": 7, "build_tag_prefixes": ["build-"], "keep_builds": 1, "release_tag_prefixes": ["v"]}
    )
    rules[0]["selection"]["countNumber"] = 0
    with pytest.raises(ClientError, match="InvalidParameterException"):
        ecr.put_lifecycle_policy(repositoryName="shared/hello", lifecyclePolicyText=json.dumps({"rules": rules}))


def test_replica_template_policies_are_accepted_and_scoped_to_the_replica_region(ecr: Any) -> None:
    """Replicas get the source's lifecycle and the same grants, with Lambda source ARNs in the replica's Region."""
    stack = run(lambda p: two_consumers(p, replication_regions=["eu-central-1"]))
    template = stack.one("aws:ecr/repositoryCreationTemplate:RepositoryCreationTemplate")
    ecr.set_repository_policy(repositoryName="shared/hello", policyText=template.inputs["repositoryPolicy"])
    ecr.put_lifecycle_policy(repositoryName="shared/hello", lifecyclePolicyText=template.inputs["lifecyclePolicy"])
    stored_lifecycle = ecr.get_lifecycle_policy(repositoryName="shared/hello")["lifecyclePolicyText"]
    source_lifecycle = stack.one("aws:ecr/lifecyclePolicy:LifecyclePolicy").inputs["policy"]
    assert json.loads(stored_lifecycle) == json.loads(source_lifecycle)
    replica = json.loads(ecr.get_repository_policy(repositoryName="shared/hello")["policyText"])
    assert replica == json.loads(template.inputs["repositoryPolicy"])
    source = policy_of(stack)
    assert [s["Principal"] for s in replica["Statement"]] == [s["Principal"] for s in source["Statement"]]
    replica_arns = [c["StringLike"]["aws:sourceArn"] for c in (s.get("Condition") for s in replica["Statement"]) if c]
    assert replica_arns == [[f"arn:aws:lambda:eu-central-1:{a}:function:*" for a in ("222222222222", "333333333333")]]


# ---- ECR lifecycle semantics (the documented model in ecr_lifecycle.py), applied to the generated policy ----


def test_lifecycle_keeps_releases_and_recent_builds_and_expires_the_rest(account_stack: CapturedStack) -> None:
    rules = json.loads(account_stack.one("aws:ecr/lifecyclePolicy:LifecyclePolicy").inputs["policy"])["rules"]
    images = [Image(f"build-{n}", (f"build-{n}",), 200 - n) for n in range(1, 61)]  # build-60 newest
    # Builds promoted to releases keep their build tag as well.
    images[0] = Image("build-1", ("build-1", "release-1.0.0"), 199)
    images[9] = Image("build-10", ("build-10", "v1.1.0"), 190)
    images += [
        Image("release-only", ("release-0.9.0",), 400),
        Image("v-only", ("v0.1.0",), 500),
        Image("untagged-old", (), 30),
        Image("untagged-new", (), 2),
        Image("other-tag", ("latest-dev",), 300),
    ]
    expired = expired_by(rules, images)

    kept = {i.digest for i in images} - set(expired)
    assert {"build-1", "build-10", "release-only", "v-only"} <= kept, "release tags are never expired"
    assert {f"build-{n}" for n in range(41, 61)} <= kept, "the newest 20 builds are kept"
    assert {"untagged-new", "other-tag"} <= kept
    assert expired["untagged-old"] == 3
    assert {d for d, priority in expired.items() if priority == 4} == {f"build-{n}" for n in range(2, 41) if n != 10}


def test_one_rule_per_release_prefix_is_needed() -> None:
    """Why the release prefixes get a rule each: a tagPrefixList selects images carrying ALL its prefixes."""
    combined = [
        {
            "rulePriority": 1,
            "selection": {
                "tagStatus": "tagged",
                "tagPrefixList": ["release-", "v"],
                "countType": "imageCountMoreThan",
                "countNumber": 100_000,
            },
            "action": {"type": "expire"},
        },
        {
            "rulePriority": 2,
            "selection": {
                "tagStatus": "tagged",
                "tagPrefixList": ["build-"],
                "countType": "imageCountMoreThan",
                "countNumber": 1,
            },
            "action": {"type": "expire"},
        },
    ]
    images = [Image("new", ("build-2",), 1), Image("promoted", ("build-1", "release-1.0.0"), 5)]
    assert expired_by(combined, images) == {"promoted": 2}
    ours = lifecycle_rules(
        {
            "untagged_expire_days": 7,
            "build_tag_prefixes": ["build-"],
            "keep_builds": 1,
            "release_tag_prefixes": ["release-", "v"],
        }
    )
    assert expired_by(ours, images) == {}
