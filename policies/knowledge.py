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


def is_service_principal(principal: str) -> bool:
    """True for AWS service principals such as `lambda.amazonaws.com` (all partitions)."""
    return principal.endswith((".amazonaws.com", ".amazonaws.com.cn", ".c2s.ic.gov", ".sc2s.sgov.gov"))


#: AWS-managed policies that grant administrator-level or service-wide access, beyond any "*FullAccess".
ADMIN_MANAGED_POLICY_NAMES: frozenset[str] = frozenset({
    "AdministratorAccess", "PowerUserAccess", "IAMFullAccess", "AdministratorAccess-Amplify",
    "AdministratorAccess-AWSElasticBeanstalk", "AWSCloudFormationFullAccess",
})

#: Lambda runtimes and the date AWS deprecates them (Lambda developer guide, "Lambda runtimes":
#: supported and deprecated runtime tables). A runtime is unsupported from its date on.
LAMBDA_RUNTIME_DEPRECATION: dict[str, str] = {
    "python2.7": "2021-07-15", "python3.6": "2022-07-18", "python3.7": "2023-12-04",
    "python3.8": "2024-10-14", "python3.9": "2025-12-15", "python3.10": "2026-06-30",
    "python3.11": "2027-06-30", "python3.12": "2028-10-31", "python3.13": "2029-06-30",
    "python3.14": "2029-06-30",
    "nodejs": "2016-10-31", "nodejs4.3": "2020-03-05", "nodejs6.10": "2019-08-12", "nodejs8.10": "2020-03-06",
    "nodejs10.x": "2021-07-30", "nodejs12.x": "2023-03-31", "nodejs14.x": "2023-12-04",
    "nodejs16.x": "2024-06-12", "nodejs18.x": "2025-09-01", "nodejs20.x": "2026-04-30",
    "nodejs22.x": "2027-04-30", "nodejs24.x": "2028-04-30",
    "java8": "2024-01-08", "java8.al2": "2026-06-30", "java11": "2026-06-30", "java17": "2026-06-30",
    "java21": "2029-06-30", "java25": "2029-06-30",
    "dotnetcore1.0": "2019-07-30", "dotnetcore2.0": "2019-05-30", "dotnetcore2.1": "2022-01-05",
    "dotnetcore3.1": "2023-04-03", "dotnet5.0": "2022-05-10", "dotnet6": "2024-12-20", "dotnet7": "2024-05-14",
    "dotnet8": "2026-11-10", "dotnet10": "2028-11-14",
    "ruby2.5": "2021-07-30", "ruby2.7": "2023-12-07", "ruby3.2": "2026-03-31", "ruby3.3": "2027-03-31",
    "ruby3.4": "2028-03-31",
    "go1.x": "2024-01-08", "provided": "2024-01-08", "provided.al2": "2026-06-30", "provided.al2023": "2029-06-30",
}

#: AWS SDK service names used in Step Functions `arn:aws:states:::aws-sdk:<service>:<action>` resources whose
#: IAM prefix differs from the service name (Step Functions "AWS SDK service integrations" table).
SDK_SERVICE_IAM_PREFIX: dict[str, str] = {
    "sesv2": "ses",
    "apigatewaymanagementapi": "execute-api",
    "sfn": "states",
    "eventbridge": "events",
    "cloudwatchlogs": "logs",
    "cloudwatch": "cloudwatch",
    "efs": "elasticfilesystem",
    "elasticloadbalancingv2": "elasticloadbalancing",
    "emrcontainers": "emr-containers",
    "emrserverless": "emr-serverless",
    "lexmodelsv2": "lex",
    "lexruntimev2": "lex",
    "mediapackagevod": "mediapackage-vod",
    "sagemakerruntime": "sagemaker",
    "stepfunctions": "states",
    "acmpca": "acm-pca",
    "dynamodbstreams": "dynamodb",
    "iotdataplane": "iot",
    "opensearch": "es",
    "apigatewayv2": "apigateway",
    "cognitoidentityprovider": "cognito-idp",
}

#: API Gateway (REST) management calls are authorised by HTTP verb on the resource path, not by operation
#: name (Service Authorization Reference, Amazon API Gateway Management:
#: https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonapigatewaymanagement.html):
#: SDK action -> (IAM action, resource path template with `{Member}` placeholders).
APIGATEWAY_SDK_PATHS: dict[str, tuple[str, str]] = {
    "getApiKeys": ("apigateway:GET", "/apikeys"),
    "getApiKey": ("apigateway:GET", "/apikeys/{ApiKey}"),
    "createApiKey": ("apigateway:POST", "/apikeys"),
    "updateApiKey": ("apigateway:PATCH", "/apikeys/{ApiKey}"),
    "deleteApiKey": ("apigateway:DELETE", "/apikeys/{ApiKey}"),
    "createUsagePlanKey": ("apigateway:POST", "/usageplans/{UsagePlanId}/keys"),
    "deleteUsagePlanKey": ("apigateway:DELETE", "/usageplans/{UsagePlanId}/keys/{KeyId}"),
    "getUsagePlanKeys": ("apigateway:GET", "/usageplans/{UsagePlanId}/keys"),
    "getUsage": ("apigateway:GET", "/usageplans/{UsagePlanId}/usage"),
}

#: SDK actions whose IAM action name differs from `<Prefix>:<PascalCaseAction>` (Service Authorization Reference).
#: HeadObject and GetObject also need s3:ListBucket on the bucket to tell a missing key (404) from a
#: refusal (403): "If you don't have the s3:ListBucket permission, Amazon S3 returns an HTTP status code
#: 403 Forbidden error" (https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html, "Permissions").
SDK_ACTION_IAM_ACTIONS: dict[str, tuple[str, ...]] = {
    "s3:headObject": ("s3:GetObject", "s3:ListBucket"),
    "s3:getObject": ("s3:GetObject", "s3:ListBucket"),
    "s3:headBucket": ("s3:ListBucket",),
    "s3:listObjectsV2": ("s3:ListBucket",),
    "s3:listObjects": ("s3:ListBucket",),
    "s3:listObjectVersions": ("s3:ListBucketVersions",),
    "s3:copyObject": ("s3:GetObject", "s3:PutObject"),
    "s3:deleteObjects": ("s3:DeleteObject",),
    "s3:getObjectAttributes": ("s3:GetObject", "s3:GetObjectAttributes"),
    "sesv2:sendEmail": ("ses:SendEmail",),
    "apigatewaymanagementapi:postToConnection": ("execute-api:ManageConnections",),
    "apigatewaymanagementapi:getConnection": ("execute-api:ManageConnections",),
    "apigatewaymanagementapi:deleteConnection": ("execute-api:ManageConnections",),
    "dynamodb:batchGetItem": ("dynamodb:BatchGetItem",),
    "lambda:invoke": ("lambda:InvokeFunction",),
    "sfn:startExecution": ("states:StartExecution",),
    "sfn:startSyncExecution": ("states:StartSyncExecution",),
}

#: Actions a state machine role may hold without any task needing them: CloudWatch vended-log delivery
#: (for `loggingConfiguration`) and X-Ray (for `tracingConfiguration`), as the Step Functions guide lists.
SFN_SERVICE_ACTIONS: frozenset[str] = frozenset({
    "logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies", "logs:DescribeLogGroups",
    "xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets",
})
