"""IAM facts the components and the policy pack share: one source of truth.

Kept free of any Pulumi import so the pack can load it under the policy host and the
components can load it under the language host.
"""

from __future__ import annotations

#: Actions AWS cannot scope to a resource ARN: `Resource: "*"` is the only valid form.
#: Each entry says why, so a reviewer can check the list against the Service Authorization Reference.
UNSCOPABLE_ACTIONS: dict[str, str] = {
    "xray:PutTraceSegments": "X-Ray has no resource-level permissions for trace upload",
    "xray:PutTelemetryRecords": "X-Ray has no resource-level permissions for telemetry upload",
    "xray:GetSamplingRules": "X-Ray sampling rules are read account-wide",
    "xray:GetSamplingTargets": "X-Ray sampling targets are read account-wide",
    "logs:CreateLogDelivery": "CloudWatch vended-log delivery (Step Functions, API Gateway) has no resource ARN",
    "logs:GetLogDelivery": "CloudWatch vended-log delivery has no resource ARN",
    "logs:UpdateLogDelivery": "CloudWatch vended-log delivery has no resource ARN",
    "logs:DeleteLogDelivery": "CloudWatch vended-log delivery has no resource ARN",
    "logs:ListLogDeliveries": "CloudWatch vended-log delivery has no resource ARN",
    "logs:PutResourcePolicy": "log resource policies are account-level",
    "logs:DescribeResourcePolicies": "log resource policies are account-level",
    "logs:DescribeLogGroups": "listing log groups is account-level",
    "ecr:GetAuthorizationToken": "the registry auth token is account-level",
    "pricing:GetProducts": "the Price List API has no resource-level permissions",
    "pricing:DescribeServices": "the Price List API has no resource-level permissions",
    "pricing:GetAttributeValues": "the Price List API has no resource-level permissions",
    "cloudwatch:PutMetricData": "metrics are scoped by the cloudwatch:namespace condition, not by ARN",
    "sts:GetCallerIdentity": "needs no permission and has no resource",
}

#: Actions that only read and pull images from ECR: the only ones another account may get.
ECR_PULL_ACTIONS: frozenset[str] = frozenset({"ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"})


def is_unscopable(action: str) -> bool:
    """True when `action` can only be granted on `Resource: "*"` (case-insensitive, as IAM is)."""
    wanted = action.lower()
    return any(known.lower() == wanted for known in UNSCOPABLE_ACTIONS)
