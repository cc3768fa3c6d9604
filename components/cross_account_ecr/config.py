"""CrossAccountEcr from stack config (`serverless-patterns:patterns.crossAccountEcr`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypedDict

import pulumi
import pulumi_aws as aws

from serverless_patterns.core.config import STACK_WIDE, ConfigReader, StackConfig, load_args
from serverless_patterns.cross_account_ecr.args import ROLE_NAME_RE, ConsumerArgs, CrossAccountEcrArgs
from serverless_patterns.cross_account_ecr.component import CrossAccountEcr


class ConsumerConfig(TypedDict, total=False):
    """One consumer account in config: the program builds its provider from these."""

    role_name: str
    """Role to assume in that account (default: `consumerRoleName`)."""
    region: str
    """The account's Region (default `aws:region`)."""
    deployer_role_name: str
    """A role there that gets the two pull actions."""


#: Args the program fills itself: the registry from `aws:` config, consumers with a provider each.
NOT_CONFIG = (*STACK_WIDE, "consumers", "registry_provider", "registry_account_id", "region")


def from_config(name: str, section: Mapping[str, Any], stack: StackConfig,
                opts: pulumi.ResourceOptions | None = None) -> CrossAccountEcr:
    """Build the component from `serverless-patterns:patterns.crossAccountEcr`.

    The registry is the stack's own account (`aws:allowedAccountIds[0]`) and Region (`aws:region`);
    every consumer account gets a provider that assumes `consumerRoleName` (or the consumer's own
    `roleName`) in that account, allowed for that account only.
    """
    path = "patterns.crossAccountEcr"
    reader = ConfigReader()
    args = load_args(path, section, CrossAccountEcrArgs, omit=NOT_CONFIG,
                     extra=("enabled", "consumers", "consumerRoleName"))
    cfg = dict(reader.mapping(path, section))
    aws_cfg = pulumi.Config("aws")
    region = aws_cfg.get("region")
    allowed = aws_cfg.get_object("allowedAccountIds") or []
    registry_account = str(allowed[0]) if isinstance(allowed, list) and allowed else None
    consumers_raw = reader.mapping(f"{path}.consumers", cfg.get("consumers") or {})
    default_role = cfg.get("consumerRoleName")
    if default_role is not None:
        reader.string(f"{path}.consumerRoleName", default_role, pattern=ROLE_NAME_RE, allowed="an IAM role name")
    consumers: dict[str, ConsumerArgs] = {}
    for account, raw in consumers_raw.items():
        account = str(account)
        where = f"{path}.consumers.{account}"
        reader.account_id(f"{path}.consumers", account)
        c = load_args(where, raw, ConsumerConfig, omit=(), extra=())
        role = c.get("role_name", default_role)
        if role is None:
            reader.fail(f"{where}.roleName", None, f"a role to assume in {account} (or {path}.consumerRoleName)")
        reader.string(f"{where}.roleName", role, pattern=ROLE_NAME_RE, allowed="an IAM role name")
        consumer_region: str = reader.region(f"{where}.region", c.get("region", region))
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
    args["consumers"] = consumers
    args["function_settings"] = stack.function_settings
    args["tags"] = stack.tags
    if registry_account is not None:
        args["registry_account_id"] = registry_account
    if region is not None:
        args["region"] = region
    return CrossAccountEcr(name, args, opts)


