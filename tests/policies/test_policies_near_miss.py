"""Near misses: for every rule, a resource that is almost compliant, and still must be reported.

The plainly bad and plainly good cases of each rule are in the per-area tables (`test_policies_iam.py`,
`test_policies_baseline.py`, ...); here each rule gets the case a weakened check would let through: a
partial wildcard, an irrelevant or negated condition, a wildcard value, a setting one step short. The
bookkeeping test derives the rule list from the pack itself, so a new rule without a near miss fails.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from policy_test_helpers import ACCOUNT, REGION, by_hand, doc, resource, stack_by_hand
from test_policies_state_machines import TABLE, exact_statements
from test_policies_state_machines import _stack as state_machine_stack

from serverless_patterns.policies.pack import RULE_IDS

BUCKET_ARN = "arn:aws:s3:::data-bucket"
LOG_ARN = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/app"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
LAMBDA_TRUST = doc({"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"})
STRONG = {"minimumLength": 12, "requireLowercase": True, "requireUppercase": True, "requireNumbers": True,
          "requireSymbols": True}
REASON = "Reviewed in SEC-142: the pattern is needed for the nightly export job"


def _hand(rule: str, typ: str, props: dict[str, Any], config: dict[str, Any] | None = None) -> Callable[[], list]:
    return lambda: by_hand(rule, typ, props, name="near-miss", config=config)


def _bucket_stack(pab: dict[str, bool] | None = None, sse: str = "aws:kms", tls: dict[str, Any] | None = None,
                  ) -> list[Any]:
    bucket = resource("aws:s3/bucket:Bucket", "data", {"bucket": "data-bucket", "id": "data-bucket",
                                                        "arn": BUCKET_ARN})
    flags = {"blockPublicAcls": True, "blockPublicPolicy": True, "ignorePublicAcls": True,
             "restrictPublicBuckets": True, **(pab or {})}
    deny = {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": [BUCKET_ARN, BUCKET_ARN + "/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}, **(tls or {})}
    deps = {"bucket": [bucket]}
    return [bucket,
            resource("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "pab", {"bucket": "data-bucket",
                                                                                      **flags}, deps),
            resource("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
                     "sse", {"bucket": "data-bucket", "rules": [
                         {"applyServerSideEncryptionByDefault": {"sseAlgorithm": sse}}]}, deps),
            resource("aws:s3/bucketPolicy:BucketPolicy", "tls", {"bucket": "data-bucket", "policy": doc(deny)}, deps)]


def _stack(rule: str, resources: Callable[[], list[Any]], config: dict[str, Any] | None = None,
           ) -> Callable[[], list]:
    return lambda: [m for _, m in stack_by_hand(rule, resources(), config)]


def _suppression_unused() -> list[str]:
    """A suppression naming a real resource and a real rule, which no longer silences anything there."""
    config = {"suppressions": [{"ruleId": "iam-no-wildcard-actions", "resource": "app-policy", "reason": REASON}]}
    policy = {"role": "r", "policy": doc({"Effect": "Allow", "Action": "s3:GetObject", "Resource": BUCKET_ARN})}
    by_hand("policy-suppression-requires-reason", ROLE_POLICY, policy, name="app-policy", config=config)
    by_hand("iam-no-wildcard-actions", ROLE_POLICY, policy, name="app-policy")
    return [m for _, m in stack_by_hand("policy-suppression-unused", [resource(ROLE_POLICY, "app-policy", policy)])]


def _config_problem() -> list[str]:
    """A known rule's setting with a one-letter typo: the CLI ignores it silently, the pack does not."""
    by_hand("cognito-password-policy", "aws:cognito/userPool:UserPool", {"passwordPolicy": STRONG},
            config={"minimumLenght": 14})
    return [m for _, m in stack_by_hand("policy-config-valid", [resource("aws:cognito/userPool:UserPool", "p", {})])]


def _sfn_extra_index() -> list[Any]:
    """Exactly what the tasks need, plus the table's indexes on the PutItem statement."""
    statements = exact_statements()
    save = next(s for s in statements if s.get("Sid") == "Save")
    save["Resource"] = [TABLE, TABLE + "/index/*"]
    return state_machine_stack(statements)


def _api(protocol: str, key: str) -> list[Any]:
    api = resource("aws:apigatewayv2/api:Api", "api", {"id": "a1", "protocolType": protocol})
    return [api, resource("aws:apigatewayv2/route:Route", "route", {"apiId": "a1", "routeKey": key,
                                                                  "authorizationType": "NONE"}, {"apiId": [api]})]


def _rest_stage_throttle(settings: dict[str, Any]) -> list[Any]:
    return [resource("aws:apigateway/stage:Stage", "stage", {"restApi": "a1", "stageName": "prod"}),
            resource("aws:apigateway/methodSettings:MethodSettings", "throttle", {
                "restApi": "a1", "stageName": "prod", "methodPath": "*/*", "settings": settings})]


def _repo_policy(statement: dict[str, Any]) -> list[Any]:
    repo = resource("aws:ecr/repository:Repository", "repo", {
        "name": "shared/app", "registryId": ACCOUNT, "arn": f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/shared/app"})
    return [repo, resource("aws:ecr/repositoryPolicy:RepositoryPolicy", "repo-policy",
                           {"repository": "shared/app", "policy": doc(statement)}, {"repository": [repo]})]


NEAR_MISSES: list[tuple[str, str, Callable[[], list]]] = [
    ("policy-suppression-requires-reason", "three words, but a placeholder",
     _hand("policy-suppression-requires-reason", ROLE_POLICY, {"role": "r", "policy": doc(
         {"Effect": "Allow", "Action": "s3:*", "Resource": BUCKET_ARN})}, config={"suppressions": [
             {"ruleId": "iam-no-wildcard-actions", "resource": "near-miss", "reason": "TODO: explain this later"}]})),
    ("iam-policy-document-valid", "Effect in the wrong case",
     _hand("iam-policy-document-valid", ROLE_POLICY, {"role": "r", "policy": doc(
         {"Effect": "allow", "Action": "s3:GetObject", "Resource": BUCKET_ARN})})),
    ("iam-no-wildcard-actions", "the KMS delegation shape, on a queue policy",
     _hand("iam-no-wildcard-actions", "aws:sqs/queuePolicy:QueuePolicy", {"queueUrl": "q", "policy": doc(
         {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "sqs:*",
          "Resource": "*"})})),
    ("iam-no-partial-wildcard-actions", "one character left open",
     _hand("iam-no-partial-wildcard-actions", ROLE_POLICY, {"role": "r", "policy": doc(
         {"Effect": "Allow", "Action": ["s3:PutObject", "s3:GetObjec?"], "Resource": BUCKET_ARN + "/*"})})),
    ("iam-no-wildcard-resources", "'*' next to a real ARN",
     _hand("iam-no-wildcard-resources", ROLE_POLICY, {"role": "r", "policy": doc(
         {"Effect": "Allow", "Action": "s3:GetObject", "Resource": [BUCKET_ARN + "/*", "*"]})})),
    ("iam-no-admin-managed-policies", "AdministratorAccess in another partition",
     _hand("iam-no-admin-managed-policies", "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
           {"role": "r", "policyArn": "arn:aws-us-gov:iam::aws:policy/AdministratorAccess"})),
    ("iam-service-principal-source-condition", "a negated source condition",
     _hand("iam-service-principal-source-condition", "aws:sqs/queuePolicy:QueuePolicy", {"queueUrl": "q", "policy": doc(
         {"Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"}, "Action": "sqs:SendMessage",
          "Resource": f"arn:aws:sqs:{REGION}:{ACCOUNT}:q",
          "Condition": {"StringNotEquals": {"aws:SourceAccount": ACCOUNT}}})})),
    ("iam-resource-policy-public-principal", "'*' limited only by an IfExists organization condition",
     _hand("iam-resource-policy-public-principal", "aws:sns/topicPolicy:TopicPolicy", {"arn": "t", "policy": doc(
         {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sns:Publish",
          "Resource": f"arn:aws:sns:{REGION}:{ACCOUNT}:t",
          "Condition": {"StringEqualsIfExists": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}})})),
    ("iam-trust-policy-principal", "every role of one account",
     _hand("iam-trust-policy-principal", "aws:iam/role:Role", {"assumeRolePolicy": doc(
         {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/*"}, "Action": "sts:AssumeRole"})})),
    ("execute-api-manage-connections-scoped", "the right API path in any account",
     _hand("execute-api-manage-connections-scoped", ROLE_POLICY, {"role": "r", "policy": doc(
         {"Effect": "Allow", "Action": "execute-api:ManageConnections",
          "Resource": f"arn:aws:execute-api:{REGION}:*:a1b2c3d4e5/prod/POST/@connections/*"})})),
    ("apigateway-method-authorized", "'none' in lower case",
     _hand("apigateway-method-authorized", "aws:apigateway/method:Method",
           {"httpMethod": "GET", "authorization": "none"})),
    ("apigateway-route-authorized", "an HTTP catch-all route",
     _stack("apigateway-route-authorized", lambda: _api("HTTP", "ANY /{proxy+}"))),
    ("apigateway-stage-access-logging", "a destination without a format",
     _hand("apigateway-stage-access-logging", "aws:apigatewayv2/stage:Stage",
           {"apiId": "a", "name": "prod", "accessLogSettings": {"destinationArn": LOG_ARN}})),
    ("apigateway-stage-throttling", "a burst limit but a zero rate",
     _stack("apigateway-stage-throttling",
            lambda: _rest_stage_throttle({"throttlingBurstLimit": 50, "throttlingRateLimit": 0}))),
    ("lambda-supported-runtime", "the runtime deprecated most recently",
     _hand("lambda-supported-runtime", "aws:lambda/function:Function", {"runtime": "python3.10", "role": "r"})),
    ("lambda-tracing-active", "a tracing block without a mode",
     _hand("lambda-tracing-active", "aws:lambda/function:Function", {"runtime": "python3.14", "tracingConfig": {}})),
    ("log-group-retention", "retention 0 (never expire)",
     _hand("log-group-retention", "aws:cloudwatch/logGroup:LogGroup", {"name": "/x", "retentionInDays": 0})),
    ("sfn-logging", "level ALL and a destination, but no execution data",
     _hand("sfn-logging", "aws:sfn/stateMachine:StateMachine", {"loggingConfiguration": {
         "level": "ALL", "includeExecutionData": False, "logDestination": LOG_ARN + ":*"}})),
    ("sfn-tracing", "a tracing block without enabled",
     _hand("sfn-tracing", "aws:sfn/stateMachine:StateMachine", {"tracingConfiguration": {}})),
    ("sfn-role-least-privilege", "the exact role plus the table's indexes",
     _stack("sfn-role-least-privilege", _sfn_extra_index)),
    ("dynamodb-point-in-time-recovery", "a recovery block that is off",
     _hand("dynamodb-point-in-time-recovery", "aws:dynamodb/table:Table",
           {"hashKey": "pk", "pointInTimeRecovery": {"enabled": False}})),
    ("dynamodb-kms-encryption", "a KMS key ARN without enabled",
     _hand("dynamodb-kms-encryption", "aws:dynamodb/table:Table", {"serverSideEncryption": {
         "kmsKeyArn": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"}})),
    ("s3-bucket-public-access-block", "three of the four flags",
     _stack("s3-bucket-public-access-block", lambda: _bucket_stack(pab={"ignorePublicAcls": False}))),
    ("s3-bucket-encryption", "an algorithm name AWS does not have",
     _stack("s3-bucket-encryption", lambda: _bucket_stack(sse="AES-256"))),
    ("s3-bucket-tls-only", "the deny keyed on SecureTransport true",
     _stack("s3-bucket-tls-only", lambda: _bucket_stack(tls={"Condition": {"Bool": {"aws:SecureTransport": "true"}}}))),
    ("ecr-repository-policy-pull-only", "Principal '*' with a negated organization condition",
     _stack("ecr-repository-policy-pull-only", lambda: _repo_policy(
         {"Effect": "Allow", "Principal": "*", "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
          "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}}))),
    ("ecr-immutable-tags", "mutable with exclusions, on a creation template",
     _hand("ecr-immutable-tags", "aws:ecr/repositoryCreationTemplate:RepositoryCreationTemplate",
           {"prefix": "shared", "appliedFors": ["REPLICATION"], "imageTagMutability": "MUTABLE_WITH_EXCLUSION"})),
    ("ecr-scan-on-push", "a registry scanning rule for another namespace",
     _stack("ecr-scan-on-push", lambda: [
         resource("aws:ecr/repository:Repository", "repo", {"name": "shared/app"}),
         resource("aws:ecr/registryScanningConfiguration:RegistryScanningConfiguration", "scan", {
             "scanType": "BASIC", "rules": [{"scanFrequency": "SCAN_ON_PUSH", "repositoryFilters": [
                 {"filter": "sharedx/*", "filterType": "WILDCARD"}]}]}),
     ])),
    ("cognito-password-policy", "every class, one character short",
     _hand("cognito-password-policy", "aws:cognito/userPool:UserPool", {"passwordPolicy": {**STRONG,
                                                                                          "minimumLength": 7}})),
    ("policy-suppression-unused", "a real rule on a real resource, no longer needed", _suppression_unused),
    ("policy-config-valid", "a misspelled setting of a real rule", _config_problem),
]


@pytest.mark.parametrize(("rule_id", "what", "findings"), NEAR_MISSES, ids=[c[0] for c in NEAR_MISSES])
def test_near_miss_is_reported(rule_id: str, what: str, findings: Callable[[], list]) -> None:
    assert findings(), f"{rule_id} let an almost-compliant resource through: {what}"


def test_every_rule_of_the_pack_has_a_near_miss() -> None:
    assert sorted({c[0] for c in NEAR_MISSES}) == sorted(RULE_IDS)
