"""GlacierRestore from stack config (`serverless-patterns:patterns.glacierRestore`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi

from serverless_patterns.core.config import ConfigReader, StackConfig
from serverless_patterns.glacier_restore.args import GlacierRestoreArgs, PriceSettings
from serverless_patterns.glacier_restore.component import GlacierRestore

#: Config keys (camelCase in YAML) → args.
CONFIG_KEYS = [k for k in GlacierRestoreArgs.__annotations__ if k not in ("tags", "function_settings")]
PRICE_KEYS = list(PriceSettings.__annotations__)


def from_config(name: str, section: Mapping[str, Any], stack: StackConfig,
                opts: pulumi.ResourceOptions | None = None) -> GlacierRestore:
    """Build the component from `serverless-patterns:patterns.glacierRestore`."""
    path = "patterns.glacierRestore"
    reader = ConfigReader()
    raw = {k: v for k, v in dict(section).items() if k != "enabled"}
    args: dict[str, Any] = reader.section(path, raw, CONFIG_KEYS, required=("senderEmail",))
    if "prices" in args:
        args["prices"] = reader.section(f"{path}.prices", args["prices"], PRICE_KEYS)
    args["tags"] = stack.tags
    args["function_settings"] = stack.function_settings
    return GlacierRestore(name, GlacierRestoreArgs(**args), opts)  # type: ignore[typeddict-item]
