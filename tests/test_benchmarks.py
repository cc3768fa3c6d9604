"""`make bench`'s pattern scenarios still run: each executes real workflows and handlers and raises when a
scenario no longer ends as it describes (a changed outcome, a stack lookup that no longer finds one resource).

Marked `bench` (tens of seconds): `make test-bench` and CI, not the two-minute suite.
"""

import logging
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `make bench` runs `python -m benchmarks.bench` from the repository's root
    sys.path.insert(0, str(ROOT))

from benchmarks.bench import pattern_benchmarks  # noqa: E402

pytestmark = pytest.mark.bench

SCENARIOS = dict(pattern_benchmarks())


@pytest.fixture(autouse=True)
def _quiet_handlers() -> Iterator[None]:
    """As `make bench` runs them: the handlers' INFO logs stay out of the output."""
    logging.disable(logging.INFO)
    try:
        yield
    finally:
        logging.disable(logging.NOTSET)


def test_every_pattern_has_its_benchmark() -> None:
    assert set(SCENARIOS) >= {"cross_account_ecr", "gate", "glacier_restore", "multi_tenant_api", "policies",
                              "progress_tracker"}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_the_pattern_benchmark_runs_and_prints_figures(name: str) -> None:
    figures: Callable[[], list[tuple[str, str]]] = SCENARIOS[name]
    printed = figures()
    assert printed
    for label, value in printed:
        assert label.strip() and str(value).strip(), (label, value)
