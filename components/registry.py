"""The patterns a stack can switch on, by their key under `serverless-patterns:patterns`.

Each pattern module exposes `from_config(name, section, stack, opts) -> PatternComponent`,
which reads its own config section (rejecting unknown keys) and builds the component.
Modules are imported only when their pattern is enabled.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any, Protocol, cast

import pulumi

from serverless_patterns.core.base import PatternComponent
from serverless_patterns.core.config import StackConfig


class PatternLoader(Protocol):
    def __call__(self, name: str, section: Mapping[str, Any], stack: StackConfig,
                 opts: pulumi.ResourceOptions | None = None) -> PatternComponent: ...


#: config key -> (module under `components`, logical name of the component in the program)
PATTERNS: dict[str, tuple[str, str]] = {
    "glacierRestore": ("glacier_restore", "glacier-restore"),
    "progressTracker": ("progress_tracker", "progress"),
    "multiTenantApi": ("multi_tenant_api", "tenant-api"),
    "crossAccountEcr": ("cross_account_ecr", "shared-images"),
}


def loader(pattern: str) -> PatternLoader:
    module_name, _ = PATTERNS[pattern]
    module = importlib.import_module(f"serverless_patterns.{module_name}")
    return cast(PatternLoader, module.from_config)
