"""The offline engine: Pulumi mocks with realistic AWS answers, a capturing monitor, and a runner.

Use it from any program's tests::

    from serverless_patterns.offline import run_program
    stack = run_program(".", "dev")
    assert stack.one("aws:sfn/stateMachine:StateMachine", "restore").inputs["type"] == "EXPRESS"
"""

from serverless_patterns.offline.engine import CapturedStack, StackConfigFileError, run_callable, run_program
from serverless_patterns.offline.mocks import AwsMocks, CapturedResource, CapturingMonitor, Place, UnmockedInvokeError

__all__ = ["AwsMocks", "CapturedResource", "CapturedStack", "CapturingMonitor", "Place", "StackConfigFileError",
           "UnmockedInvokeError", "run_callable", "run_program"]
