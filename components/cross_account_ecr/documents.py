"""The repository's policy and lifecycle documents, as data (pure functions the tests read)."""


from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pulumi

from serverless_patterns.core import iam
from serverless_patterns.core.args import Validator
from serverless_patterns.cross_account_ecr.args import (
    ACCOUNT_SID,
    LAMBDA_SID,
    PULL_ACTIONS,
    RELEASE_PROTECT_COUNT,
    LifecycleArgs,
)


def _validate_release_build_prefixes(v: Validator, release: list[str], builds: list[str]) -> None:
    for build in builds:
        for release_prefix in release:
            if build.startswith(release_prefix) or release_prefix.startswith(build):
                v.fail(
                    "lifecycle.build_tag_prefixes",
                    build,
                    f"a prefix that neither starts with nor is the start of the release prefix "
                    f"{release_prefix!r} (ECR would protect or expire both sets together)",
                )


def lifecycle_rules(lifecycle: LifecycleArgs) -> list[dict[str, Any]]:
    """The ECR lifecycle rules, highest priority first.

    ECR evaluates rules by `rulePriority` (lowest first); an image that matches the tag selection
    of a higher-priority rule can never be expired by a lower-priority one. So every release
    prefix gets the first rules (one rule per prefix: a `tagPrefixList` selects only images that
    carry *all* its prefixes), each keeping up to ECR's images-per-repository quota, i.e.
    never expiring anything; then untagged images expire after N days; then each build prefix
    keeps its newest N images. Images with other tags are never expired.
    """
    rules: list[dict[str, Any]] = []
    for prefix in lifecycle["release_tag_prefixes"]:
        rules.append(
            {
                "description": f"Protect release tags {prefix}* (consumers pin them)",
                "selection": {
                    "tagStatus": "tagged",
                    "tagPrefixList": [prefix],
                    "countType": "imageCountMoreThan",
                    "countNumber": RELEASE_PROTECT_COUNT,
                },
            }
        )
    days = lifecycle["untagged_expire_days"]
    rules.append(
        {
            "description": f"Expire untagged images after {days} days",
            "selection": {
                "tagStatus": "untagged",
                "countType": "sinceImagePushed",
                "countUnit": "days",
                "countNumber": days,
            },
        }
    )
    for prefix in lifecycle["build_tag_prefixes"]:
        keep = lifecycle["keep_builds"]
        rules.append(
            {
                "description": f"Keep the newest {keep} builds tagged {prefix}*",
                "selection": {
                    "tagStatus": "tagged",
                    "tagPrefixList": [prefix],
                    "countType": "imageCountMoreThan",
                    "countNumber": keep,
                },
            }
        )
    return [{"rulePriority": i, **rule, "action": {"type": "expire"}} for i, rule in enumerate(rules, start=1)]


def lifecycle_policy(lifecycle: LifecycleArgs) -> str:
    """The lifecycle policy JSON ECR accepts."""
    return json.dumps({"rules": lifecycle_rules(lifecycle)})


def repository_policy_statements(
    *,
    partition: pulumi.Input[str],
    region: pulumi.Input[str],
    account_ids: Sequence[str] = (),
    organization_id: str | None = None,
    organization_paths: Sequence[str] = (),
) -> list[iam.Statement]:
    """The two statements of the repository policy (account mode or organization mode)."""
    if organization_id:
        account_conditions: dict[str, dict[str, Any]] = {"StringEquals": {"aws:PrincipalOrgID": organization_id}}
        service_conditions: dict[str, dict[str, Any]] = {
            "StringEquals": {"aws:SourceOrgID": organization_id},
            "StringLike": {
                "aws:sourceArn": pulumi.Output.concat("arn:", partition, ":lambda:", region, ":*:function:*")
            },
        }
        if organization_paths:
            account_conditions["ForAnyValue:StringLike"] = {"aws:PrincipalOrgPaths": list(organization_paths)}
            service_conditions["ForAnyValue:StringLike"] = {"aws:SourceOrgPaths": list(organization_paths)}
        return [
            iam.allow(PULL_ACTIONS, sid=ACCOUNT_SID, principals={"AWS": "*"}, conditions=account_conditions),
            iam.allow(
                PULL_ACTIONS,
                sid=LAMBDA_SID,
                principals={"Service": "lambda.amazonaws.com"},
                conditions=service_conditions,
            ),
        ]
    if not account_ids:
        raise ValueError("account mode needs at least one account id")
    roots = [pulumi.Output.concat("arn:", partition, ":iam::", a, ":root") for a in account_ids]
    functions = [
        pulumi.Output.concat("arn:", partition, ":lambda:", region, ":", a, ":function:*") for a in account_ids
    ]
    return [
        iam.allow(PULL_ACTIONS, sid=ACCOUNT_SID, principals={"AWS": roots}),
        iam.allow(
            PULL_ACTIONS,
            sid=LAMBDA_SID,
            principals={"Service": "lambda.amazonaws.com"},
            conditions={"StringLike": {"aws:sourceArn": functions}},
        ),
    ]


