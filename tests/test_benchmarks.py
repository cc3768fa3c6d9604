"""`make bench`'s pattern scenarios still run: each executes real workflows and handlers and raises when a
scenario no longer ends as it describes (a changed outcome, a stack lookup that no longer finds one resource).

Marked `bench` (tens of seconds): `make test-bench` and CI, not the two-minute suite.
"""

import importlib
import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.bench

ROOT = Path(__file__).resolve().parents[1]
#: The pattern benchmark modules `benchmarks.bench.pattern_benchmarks` finds (checked below); imported only
#: when a test runs, so collecting the suite does not load them.
PATTERNS = ["cross_account_ecr", "gate", "glacier_restore", "multi_tenant_api", "policies", "progress_tracker"]


@pytest.fixture
def bench_root() -> Iterator[None]:
    """As `make bench` runs them (`python -m benchmarks.bench` from the repository's root, handlers' INFO logs
    off)."""
    added = str(ROOT) not in sys.path
    if added:
        sys.path.insert(0, str(ROOT))
    logging.disable(logging.INFO)
    try:
        yield
    finally:
        logging.disable(logging.NOTSET)
        if added:
            sys.path.remove(str(ROOT))


def test_every_pattern_benchmark_is_listed(bench_root: None) -> None:
    from benchmarks.bench import pattern_benchmarks

    assert sorted(name for name, _ in pattern_benchmarks()) == PATTERNS


@pytest.mark.parametrize("name", PATTERNS)
def test_the_pattern_benchmark_runs_and_prints_figures(bench_root: None, name: str) -> None:
    printed = importlib.import_module(f"benchmarks.{name}").figures()
    assert printed
    for label, value in printed:
        assert label.strip() and str(value).strip(), (label, value)
