"""ProgressTracker from stack config (`serverless-patterns:patterns.progressTracker`)."""


from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi

from serverless_patterns.core.config import ConfigReader, StackConfig
from serverless_patterns.progress_tracker.args import ProgressTrackerArgs
from serverless_patterns.progress_tracker.component import ProgressTracker

CONFIG_KEYS = ["enabled", "stage_name", "demo_reporting_mode", "demo_wait_seconds", "workflow_arn",
               "require_token", "token_issuer", "token_audience", "token_jwks_url", "connection_ttl_hours",
               "progress_ttl_hours", "throttling_rate_limit", "throttling_burst_limit", "event_retry_attempts",
               "event_max_age_seconds"]


def from_config(name: str, section: Mapping[str, Any], stack: StackConfig,
                opts: pulumi.ResourceOptions | None = None) -> ProgressTracker:
    """Build the tracker from `serverless-patterns:patterns.progressTracker`."""
    raw = ConfigReader().section("patterns.progressTracker", section, CONFIG_KEYS)
    raw.pop("enabled", None)
    args: ProgressTrackerArgs = {**raw, "tags": stack.tags,  # type: ignore[typeddict-item]
                                 "function_settings": stack.function_settings}
    return ProgressTracker(name, args, opts)
