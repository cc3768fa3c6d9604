"""MultiTenantApi from stack config (`serverless-patterns:patterns.multiTenantApi`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi

from serverless_patterns.core.config import StackConfig, load_args
from serverless_patterns.multi_tenant_api.args import MultiTenantApiArgs
from serverless_patterns.multi_tenant_api.component import MultiTenantApi


def from_config(name: str, section: Mapping[str, Any], stack: StackConfig,
                opts: pulumi.ResourceOptions | None = None) -> MultiTenantApi:
    """Build the component from `serverless-patterns:patterns.multiTenantApi` (keys: `MultiTenantApiArgs`)."""
    args = load_args("patterns.multiTenantApi", section, MultiTenantApiArgs)
    args["tags"] = stack.tags
    args["function_settings"] = stack.function_settings
    return MultiTenantApi(name, args, opts)
