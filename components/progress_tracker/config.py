"""ProgressTracker from stack config (`serverless-patterns:patterns.progressTracker`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi

from serverless_patterns.core.config import StackConfig, load_args
from serverless_patterns.progress_tracker.args import ProgressTrackerArgs
from serverless_patterns.progress_tracker.component import ProgressTracker


def from_config(name: str, section: Mapping[str, Any], stack: StackConfig,
                opts: pulumi.ResourceOptions | None = None) -> ProgressTracker:
    """Build the tracker from `serverless-patterns:patterns.progressTracker` (keys: `ProgressTrackerArgs`)."""
    args = load_args("patterns.progressTracker", section, ProgressTrackerArgs)
    args["tags"] = stack.tags
    args["function_settings"] = stack.function_settings
    return ProgressTracker(name, args, opts)
