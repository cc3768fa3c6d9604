"""Every policy test starts with no suppressions loaded (the pack shares them within one process), and
every analysis is checked against pulumi-policy's servicer run exactly as it is; the captured `dev`
stack is built once per session."""

from pathlib import Path
from typing import Any

import pytest

from serverless_patterns.offline import CapturedStack, run_program
from serverless_patterns.policies.core import STATE


@pytest.fixture(scope="session")
def dev() -> CapturedStack:
    """The `dev` stack as the offline engine captures it (tests that change it work on a deep copy)."""
    return run_program(Path(__file__).resolve().parents[2], "dev")


@pytest.fixture(autouse=True)
def _fresh_suppression_state() -> None:
    STATE.reset()


@pytest.fixture(autouse=True)
def _conversions_shared_faithfully(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every stack a policy test analyzes is analyzed twice: as the plan does (each resource's properties
    converted once and shared by the policies) and exactly as pulumi-policy's servicer does (converted
    once per policy). The findings must be identical, so the shortcut can never change a verdict."""
    from serverless_patterns.policies import runner

    real_run = runner.run

    def both(*args: Any, **kwargs: Any) -> runner.Analysis:
        kwargs.pop("share_conversions", None)
        STATE.reset()
        faithful = real_run(*args, share_conversions=False, **kwargs)
        STATE.reset()
        shared = real_run(*args, share_conversions=True, **kwargs)
        assert _findings(shared) == _findings(faithful)
        return shared

    monkeypatch.setattr(runner, "run", both)


def _findings(analysis: Any) -> list[tuple[Any, ...]]:
    return sorted((repr(v), ) for v in analysis.violations) + sorted((repr(s), ) for s in analysis.suppressed)
