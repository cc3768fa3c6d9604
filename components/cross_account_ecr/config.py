"""CrossAccountEcr from stack config (`serverless-patterns:patterns.crossAccountEcr`)."""


from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi_aws as aws

from serverless_patterns.core.config import ConfigReader, StackConfig
from serverless_patterns.cross_account_ecr.args import ROLE_NAME_RE, ConsumerArgs, CrossAccountEcrArgs
from serverless_patterns.cross_account_ecr.component import CrossAccountEcr

CONFIG_KEYS = [
    "enabled",
    "repository_name",
    "consumer_role_name",
    "consumers",
    "consumer_account_ids",
    "organization_id",
    "organization_paths",
    "image_tag",
    "image_digest",
    "resolve_image_tag",
    "function",
    "lifecycle",
    "kms_key_arn",
    "replication_regions",
    "force_delete",
]
CONSUMER_KEYS = ["region", "role_name", "deployer_role_name"]
FUNCTION_KEYS = ["memory_mb", "timeout_seconds", "architecture", "environment", "description"]
LIFECYCLE_KEYS = ["untagged_expire_days", "build_tag_prefixes", "keep_builds", "release_tag_prefixes"]


def from_config(name: str, section: Mapping[str, Any], stack: StackConfig,
                opts: pulumi.ResourceOptions | None = None) -> CrossAccountEcr:
    """Build the component from `serverless-patterns:patterns.crossAccountEcr`.

    The registry is the stack's own account (`aws:allowedAccountIds[0]`) and Region (`aws:region`);
    every consumer account gets a provider that assumes `consumerRoleName` (or the consumer's own
    `roleName`) in that account, allowed for that account only.
    """
    path = "patterns.crossAccountEcr"
    reader = ConfigReader()
    cfg = reader.section(path, section, CONFIG_KEYS)
    aws_cfg = pulumi.Config("aws")
    region = aws_cfg.get("region")
    allowed = aws_cfg.get_object("allowedAccountIds") or []
    registry_account = str(allowed[0]) if isinstance(allowed, list) and allowed else None
    consumers_raw = reader.mapping(f"{path}.consumers", cfg.get("consumers") or {})
    default_role = cfg.get("consumer_role_name")
    if default_role is not None:
        reader.string(f"{path}.consumerRoleName", default_role, pattern=ROLE_NAME_RE, allowed="an IAM role name")
    consumers: dict[str, ConsumerArgs] = {}
    for account, raw in consumers_raw.items():
        account = str(account)
        where = f"{path}.consumers.{account}"
        reader.account_id(f"{path}.consumers", account)
        c = reader.section(where, raw, CONSUMER_KEYS)
        role = c.get("role_name", default_role)
        if role is None:
            reader.fail(f"{where}.roleName", None, f"a role to assume in {account} (or {path}.consumerRoleName)")
        reader.string(f"{where}.roleName", role, pattern=ROLE_NAME_RE, allowed="an IAM role name")
        consumer_region = c.get("region", region)
        reader.region(f"{where}.region", consumer_region)
        partition = (
            "aws-cn"
            if consumer_region.startswith("cn-")
            else ("aws-us-gov" if consumer_region.startswith("us-gov-") else "aws")
        )
        provider = aws.Provider(
            f"{name}-{account}",
            region=consumer_region,
            allowed_account_ids=[account],
            assume_roles=[
                aws.ProviderAssumeRoleArgs(
                    role_arn=f"arn:{partition}:iam::{account}:role/{role}", session_name=f"{name}-deploy"
                )
            ],
        )
        consumer: ConsumerArgs = {"provider": provider, "region": consumer_region}
        if c.get("deployer_role_name") is not None:
            consumer["deployer_role_name"] = c["deployer_role_name"]
        consumers[account] = consumer
    function = reader.section(f"{path}.function", cfg.get("function"), FUNCTION_KEYS)
    lifecycle = reader.section(f"{path}.lifecycle", cfg.get("lifecycle"), LIFECYCLE_KEYS)
    args: CrossAccountEcrArgs = {
        "repository_name": cfg.get("repository_name"),  # type: ignore[typeddict-item]
        "consumers": consumers,
        "function": function,  # type: ignore[typeddict-item]
        "lifecycle": lifecycle,  # type: ignore[typeddict-item]
        "function_settings": stack.function_settings,
        "tags": stack.tags,
    }
    if registry_account is not None:
        args["registry_account_id"] = registry_account
    if region is not None:
        args["region"] = region
    for key in (
        "consumer_account_ids",
        "organization_id",
        "organization_paths",
        "image_tag",
        "image_digest",
        "resolve_image_tag",
        "kms_key_arn",
        "replication_regions",
        "force_delete",
    ):
        if cfg.get(key) is not None:
            args[key] = cfg[key]  # type: ignore[literal-required]
    return CrossAccountEcr(name, args, opts)


