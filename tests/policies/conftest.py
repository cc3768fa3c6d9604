"""Every policy test starts with no suppressions loaded (the pack shares them within one process)."""

import pytest

from serverless_patterns.policies.core import STATE


@pytest.fixture(autouse=True)
def _fresh_suppression_state() -> None:
    STATE.reset()
