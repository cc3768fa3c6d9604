"""CrossAccountEcr figures, measured from what the component generates.

- how many consumer accounts fit in one repository policy (account mode) before ECR's
  10,240-character limit, found by bisection over generated policies;
- the sizes of the generated repository policies (both modes) and lifecycle policy;
- the cold import of the image's handler (fresh interpreter, as in the function's init phase);
- the offline plan time of the component with two consumer accounts.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time

import pulumi
import pulumi_aws as aws

from serverless_patterns.core import iam
from serverless_patterns.core.packaging import LAMBDAS_DIR
from serverless_patterns.cross_account_ecr import CrossAccountEcr, CrossAccountEcrArgs, repository_policy_statements
from serverless_patterns.cross_account_ecr.args import MAX_REPOSITORY_POLICY_CHARS
from serverless_patterns.offline import CapturedStack, run_callable

HANDLER_DIR = LAMBDAS_DIR / "cross_account_ecr" / "hello"
REGION = "eu-west-1"
CONFIG = {"aws:region": REGION, "aws:allowedAccountIds": json.dumps(["111111111111"])}


def _plan(args: CrossAccountEcrArgs) -> CapturedStack:
    return run_callable(lambda: CrossAccountEcr("bench", args), config=CONFIG)


def _accounts(n: int) -> list[str]:
    return [f"{200000000000 + i:012d}" for i in range(n)]


def policy_chars(accounts: int) -> int:
    """Length of the account-mode repository policy the component generates for `accounts` accounts."""

    def program() -> None:
        statements = repository_policy_statements(partition="aws", region=REGION, account_ids=_accounts(accounts))
        pulumi.export("policy", iam.document(*statements))

    return len(run_callable(program, config=CONFIG).outputs["policy"])


def max_accounts() -> int:
    """The most accounts whose policy fits ECR's limit (bisection over generated policies)."""
    low, high = 1, 2
    while policy_chars(high) <= MAX_REPOSITORY_POLICY_CHARS:
        low, high = high, high * 2
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if policy_chars(middle) <= MAX_REPOSITORY_POLICY_CHARS else (low, middle)
    return low


def _policy_chars(stack: CapturedStack, typ: str) -> int:
    return len(stack.one(typ).inputs["policy"])


def _two_consumers() -> CapturedStack:
    def program() -> None:
        providers = {
            a: aws.Provider(f"p{a}", region=REGION, allowed_account_ids=[a]) for a in ("222222222222", "333333333333")
        }
        CrossAccountEcr(
            "bench",
            {
                "repository_name": "shared/hello",
                "image_tag": "release-1.0.0",
                "consumers": {a: {"provider": p} for a, p in providers.items()},
            },
        )

    return run_callable(program, config=CONFIG)


def handler_cold_import_ms(runs: int = 5) -> float:
    """Median import time of the image's handler module in a fresh interpreter (the init phase's share)."""
    env = {
        **os.environ,
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "POWERTOOLS_TRACE_DISABLED": "1",
        "POWERTOOLS_SERVICE_NAME": "bench",
        "POWERTOOLS_METRICS_NAMESPACE": "ServerlessPatterns",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    probe = (
        f"import sys, time; sys.path.insert(0, {str(HANDLER_DIR)!r}); t = time.perf_counter(); "
        "import app; print(time.perf_counter() - t)"
    )
    times = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", probe], env=env, check=True, capture_output=True, text=True)
        times.append(float(out.stdout.strip().splitlines()[-1]))
    return statistics.median(times) * 1000


def figures() -> list[tuple[str, str]]:
    fitting = max_accounts()
    two = _plan({"repository_name": "shared/hello", "consumer_account_ids": _accounts(2)})
    org = _plan(
        {
            "repository_name": "shared/hello",
            "organization_id": "o-a1b2c3d4e5",
            "organization_paths": ["o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/"],
        }
    )
    timings = []
    for _ in range(5):
        start = time.perf_counter()
        stack = _two_consumers()
        timings.append(time.perf_counter() - start)
    return [
        (
            "crossAccountEcr: consumer accounts per repository policy (account mode, max)",
            f"{fitting} (limit {MAX_REPOSITORY_POLICY_CHARS} chars; organization mode has no such limit)",
        ),
        (
            "crossAccountEcr: repository policy, 2 accounts",
            f"{_policy_chars(two, 'aws:ecr/repositoryPolicy:RepositoryPolicy')} chars",
        ),
        (
            "crossAccountEcr: repository policy, organization + 1 path",
            f"{_policy_chars(org, 'aws:ecr/repositoryPolicy:RepositoryPolicy')} chars",
        ),
        (
            "crossAccountEcr: lifecycle policy (defaults)",
            f"{_policy_chars(two, 'aws:ecr/lifecyclePolicy:LifecyclePolicy')} of 30720 chars",
        ),
        ("crossAccountEcr: image handler cold import (median of 5)", f"{handler_cold_import_ms():.0f} ms"),
        (
            "crossAccountEcr: offline plan, 2 consumer accounts (median of 5)",
            f"{statistics.median(timings) * 1000:.0f} ms, {len(stack.resources)} resources",
        ),
    ]


if __name__ == "__main__":
    for label, value in figures():
        print(f"{label}: {value}")
