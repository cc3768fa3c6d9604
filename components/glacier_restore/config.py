"""GlacierRestore from stack config (`serverless-patterns:patterns.glacierRestore`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi

from serverless_patterns.core.config import StackConfig, load_args
from serverless_patterns.glacier_restore.args import GlacierRestoreArgs
from serverless_patterns.glacier_restore.component import GlacierRestore


def from_config(name: str, section: Mapping[str, Any], stack: StackConfig,
                opts: pulumi.ResourceOptions | None = None) -> GlacierRestore:
    """Build the component from `serverless-patterns:patterns.glacierRestore` (keys: `GlacierRestoreArgs`)."""
    args = load_args("patterns.glacierRestore", section, GlacierRestoreArgs)
    args["tags"] = stack.tags
    args["function_settings"] = stack.function_settings
    return GlacierRestore(name, args, opts)
