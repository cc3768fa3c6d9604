"""MultiTenantApi figures: the TOKEN authorizer's cost, measured.

- cold import of the authorizer module in a fresh interpreter (the function's init phase, as far as
  Python is concerned), median over several processes;
- warm per-invocation time of `handler` for a valid RS256 token with the JWKS and the tenant's key
  already cached (what every request whose result API Gateway has not cached pays), median and p99,
  with the JWKS fetches and key-table reads counted over the run;
- the offline plan time of the component with the dev config's tiers and tenants.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from serverless_patterns.core.packaging import LAMBDAS_DIR

AUTHORIZER_DIR = LAMBDAS_DIR / "multi_tenant_api" / "authorizer"
REGION = "eu-west-1"
ACCOUNT = "111111111111"
POOL = f"{REGION}_BenchPool1"
ISSUER = f"https://cognito-idp.{REGION}.amazonaws.com/{POOL}"
CLIENT_ID = "benchclient0000000000000a"
EXECUTION_ARN = f"arn:aws:execute-api:{REGION}:{ACCOUNT}:benchapi01"
COLD_RUNS = int(os.environ.get("BENCH_RUNS", "5"))
WARM_CALLS = 2000


def cold_import_seconds() -> float:
    """Median wall time of `import app` in a fresh interpreter with the function folder first on sys.path."""
    env = {**os.environ, "AWS_DEFAULT_REGION": REGION, "POWERTOOLS_TRACE_DISABLED": "1",
           "PYTHONDONTWRITEBYTECODE": "1", "POWERTOOLS_SERVICE_NAME": "multi-tenant-api-authorizer"}
    probe = (f"import sys, time; sys.path.insert(0, {str(AUTHORIZER_DIR)!r}); t = time.perf_counter(); "
             "import app; print(time.perf_counter() - t)")
    times = []
    for _ in range(COLD_RUNS):
        result = subprocess.run([sys.executable, "-c", probe], env=env, check=True, capture_output=True, text=True)
        times.append(float(result.stdout.strip().splitlines()[-1]))
    return statistics.median(times)


class _Context:
    function_name = "authorizer"
    memory_limit_in_mb = 512
    invoked_function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:authorizer"
    aws_request_id = "bench"


def warm_invocations() -> dict[str, Any]:
    """Time `handler` on a valid token, JWKS and key cached; count JWKS fetches and key-table reads."""
    import boto3
    from moto import mock_aws

    from serverless_patterns.lambdas.multi_tenant_api.authorizer import app

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    kid = uuid.uuid4().hex
    jwk = {**json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key())), "kid": kid, "alg": "RS256",
           "use": "sig"}
    now = int(time.time())
    token = jwt.encode({"sub": str(uuid.uuid4()), "aud": CLIENT_ID, "iss": ISSUER, "token_use": "id", "iat": now,
                        "exp": now + 3600, "auth_time": now, "custom:tenant_id": "acme-corp"},
                       key, algorithm="RS256", headers={"kid": kid})
    fetches = 0

    def fetch(url: str, **_: Any) -> dict[str, Any]:
        nonlocal fetches
        fetches += 1
        return {"keys": [jwk]}

    saved = {k: os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION")}
    os.environ.update({"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": REGION})
    try:
        with mock_aws():
            client = boto3.client("dynamodb", region_name=REGION)
            client.create_table(TableName="keys", BillingMode="PAY_PER_REQUEST",
                                AttributeDefinitions=[{"AttributeName": "tenantId", "AttributeType": "S"}],
                                KeySchema=[{"AttributeName": "tenantId", "KeyType": "HASH"}])
            client.put_item(TableName="keys", Item={"tenantId": {"S": "acme-corp"}, "tier": {"S": "trial"},
                                                    "apiKey": {"S": "K" * 40}})
            settings = app.Settings(api_execution_arn=EXECUTION_ARN, stage="v1", table_name="keys", issuer=ISSUER,
                                    jwks_url="https://bench.invalid/jwks.json", client_id=CLIENT_ID)
            app._authorizer = app.Authorizer(settings, jwks=app.JwksCache(settings.jwks_url, fetch=fetch))
            event = {"type": "TOKEN", "methodArn": f"{EXECUTION_ARN}/v1/GET/items",
                     "authorizationToken": f"Bearer {token}"}
            context = _Context()
            first = app.handler(event, context)  # fills the JWKS and key caches
            assert first["usageIdentifierKey"] == "K" * 40
            timings = []
            for _ in range(WARM_CALLS):
                started = time.perf_counter()
                app.handler(event, context)
                timings.append(time.perf_counter() - started)
            reads = app._authorizer.store.lookups
    finally:
        app._authorizer = None
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    timings.sort()
    return {"median": statistics.median(timings), "p99": timings[int(len(timings) * 0.99) - 1],
            "fetches": fetches, "reads": reads}


def plan_seconds() -> float:
    """Offline plan of the component with the dev config's section (median of 3)."""
    import yaml

    from serverless_patterns.core.config import StackConfig
    from serverless_patterns.multi_tenant_api import from_config
    from serverless_patterns.offline import run_callable

    root = Path(__file__).resolve().parents[1]
    config = yaml.safe_load((root / "Pulumi.dev.yaml").read_text())["config"]
    section = config["serverless-patterns:patterns"]["multiTenantApi"]
    stack = StackConfig(project="serverless-patterns", stack="dev")
    times = []
    for _ in range(3):
        started = time.perf_counter()
        run_callable(lambda: from_config("tenant-api", section, stack),
                     config={"aws:region": REGION, "aws:allowedAccountIds": json.dumps([ACCOUNT])})
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def figures() -> list[tuple[str, str]]:
    cold = cold_import_seconds()
    warm = warm_invocations()
    return [
        ("multiTenantApi: authorizer cold import (fresh interpreter, median)", f"{cold * 1000:.0f} ms"),
        ("multiTenantApi: authorizer warm invocation, valid token, JWKS cached (median)",
         f"{warm['median'] * 1e6:.0f} µs"),
        ("multiTenantApi: authorizer warm invocation (p99)", f"{warm['p99'] * 1e6:.0f} µs"),
        (f"multiTenantApi: JWKS fetches / key-table reads over {WARM_CALLS + 1} invocations",
         f"{warm['fetches']} / {warm['reads']}"),
        ("multiTenantApi: offline plan of the dev section (median)", f"{plan_seconds():.2f} s"),
    ]


if __name__ == "__main__":
    for label, value in figures():
        print(f"{label}: {value}")
