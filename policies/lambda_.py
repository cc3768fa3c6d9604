"""Lambda and CloudWatch Logs baseline: supported runtimes, active tracing, log retention."""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator

from pulumi_policy import ResourceValidationArgs, Severity

from serverless_patterns.policies.core import prop, resource_rule
from serverless_patterns.policies.knowledge import LAMBDA_RUNTIME_DEPRECATION

FUNCTION = "aws:lambda/function:Function"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"


def check_runtime(args: ResourceValidationArgs) -> Iterator[str]:
    if str(prop(args.props, "packageType", "Zip")) == "Image":
        return  # the image carries its runtime
    runtime = prop(args.props, "runtime")
    if not runtime:
        return
    deprecated = LAMBDA_RUNTIME_DEPRECATION.get(str(runtime))
    if deprecated is None:
        return  # newer than this pack's table
    if datetime.date.fromisoformat(deprecated) <= datetime.date.today():
        family = str(runtime).rstrip("0123456789.x")
        newest = max((r for r in LAMBDA_RUNTIME_DEPRECATION if r.startswith(family)),
                     key=lambda r: (LAMBDA_RUNTIME_DEPRECATION[r], [int(n) for n in re.findall(r"\d+", r)]))
        yield (f"Function {args.name!r} uses runtime {runtime!r}, deprecated by AWS since {deprecated} (no security "
               f"patches; creates and updates get blocked). Fix: move to a supported runtime such as {newest!r}.")


def check_tracing(args: ResourceValidationArgs) -> Iterator[str]:
    mode = (prop(args.props, "tracingConfig") or {}).get("mode", "PassThrough")
    if mode != "Active":
        yield (f"Function {args.name!r} has X-Ray tracing mode {mode!r}. Fix: set tracing_config={{'mode': "
               f"'Active'}} (and grant xray:PutTraceSegments/PutTelemetryRecords).")


def check_retention(args: ResourceValidationArgs) -> Iterator[str]:
    days = prop(args.props, "retentionInDays")
    if not days:
        yield (f"Log group {args.name!r} keeps logs forever (no retentionInDays). Fix: set retention_in_days "
               f"(e.g. 30, or what your compliance needs).")


POLICIES = [
    resource_rule(
        "lambda-supported-runtime",
        "Lambda functions run on a runtime AWS still supports.",
        check_runtime, types={FUNCTION}, severity=Severity.HIGH, cdk_nag="AwsSolutions-L1 (latest runtime)",
        remediation="Move to a supported runtime (the components default to the newest Python)."),
    resource_rule(
        "lambda-tracing-active",
        "Lambda functions have X-Ray active tracing.",
        check_tracing, types={FUNCTION}, severity=Severity.LOW,
        remediation="Set tracing_config mode 'Active'."),
    resource_rule(
        "log-group-retention",
        "CloudWatch log groups have a retention period.",
        check_retention, types={LOG_GROUP}, severity=Severity.LOW,
        remediation="Set retention_in_days."),
]
