"""The offline engine: Pulumi mocks with realistic AWS answers, a capturing monitor, and a runner.

Use it from any program's tests::

    from serverless_patterns.offline import run_program
    stack = run_program(".", "dev")
    assert stack.one("aws:sfn/stateMachine:StateMachine", "restore").inputs["type"] == "EXPRESS"

The names below load with their modules on first use, so `python -m serverless_patterns.offline.plan` can
set its process up (`plan.py`) before the Pulumi SDK is imported.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from serverless_patterns.offline.engine import CapturedStack, StackConfigFileError, run_callable, run_program
    from serverless_patterns.offline.mocks import (
        AwsMocks,
        CapturedResource,
        CapturingMonitor,
        Place,
        UnmockedInvokeError,
    )

_MODULE_OF = {"CapturedStack": "engine", "StackConfigFileError": "engine", "run_callable": "engine",
              "run_program": "engine", "AwsMocks": "mocks", "CapturedResource": "mocks",
              "CapturingMonitor": "mocks", "Place": "mocks", "UnmockedInvokeError": "mocks"}

__all__ = ["AwsMocks", "CapturedResource", "CapturedStack", "CapturingMonitor", "Place", "StackConfigFileError",
           "UnmockedInvokeError", "run_callable", "run_program"]


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
