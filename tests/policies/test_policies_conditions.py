"""Conditions judged by what they mean: every bypass of issue 12 and the variants found while fixing them.

Each case runs the whole pack through pulumi-policy's analyzer servicer (resource rules) or its stack
analysis (the ECR rule), and expects exactly the named rule to report it, as mandatory. The semantics
come from the IAM User Guide: condition operators ("IAM JSON policy elements: Condition operators",
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html),
set operators on single- and multivalued keys
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html)
and the global condition keys
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html).
"""

from __future__ import annotations

from typing import Any

import pytest
from google.protobuf import json_format, struct_pb2
from policy_test_helpers import ACCOUNT, REGION, analyze_request, diagnostics, doc, servicer
from pulumi.runtime.proto import analyzer_pb2 as proto

from serverless_patterns.policies.conditions import judge, principal_kind

ORG = "o-a1b2c3d4e5"
RULE_ARN = f"arn:aws:events:{REGION}:{ACCOUNT}:rule/orders"
QUEUE_ARN = f"arn:aws:sqs:{REGION}:{ACCOUNT}:dlq"
FUNCTION_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:worker"
PULL = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
SERVICE_RULE = "iam-service-principal-source-condition"
ECR_RULE = "ecr-repository-policy-pull-only"

# ------------------------------------------------------------------ the judgement itself

# (conditions, kind, restricts, words in the reason when it does not)
JUDGEMENTS: list[tuple[dict[str, Any], str, bool, str]] = [
    ({"ArnLike": {"aws:SourceArn": RULE_ARN}}, "service", True, ""),
    ({"ArnEquals": {"aws:SourceArn": [RULE_ARN, QUEUE_ARN]}}, "service", True, ""),
    ({"StringEquals": {"aws:SourceAccount": ACCOUNT}}, "service", True, ""),
    ({"StringEquals": {"AWS:SOURCEACCOUNT": ACCOUNT}}, "service", True, ""),  # keys are case-insensitive
    ({"StringEquals": {"aws:SourceOrgID": ORG}}, "service", True, ""),
    ({"ForAnyValue:StringLike": {"aws:SourceOrgPaths": [f"{ORG}/r-ab12/ou-ab12-11111111/*"]}}, "service", True, ""),
    ({"StringLike": {"aws:SourceArn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:*"}}, "service", True, ""),
    ({"ArnLike": {"aws:SourceArn": "arn:aws:s3:::reports-bucket"}}, "service", True, ""),
    ({"StringEquals": {"aws:PrincipalOrgID": ORG}}, "aws", True, ""),
    ({"StringEquals": {"aws:PrincipalAccount": ACCOUNT}}, "aws", True, ""),
    ({"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/ci-*"}}, "aws", True, ""),
    ({"StringEquals": {"aws:PrincipalOrgID": ORG}}, "any", True, ""),
    # One restricting condition is enough: conditions are ANDed.
    ({"StringNotEquals": {"aws:SourceAccount": "999999999999"}, "StringEquals": {"aws:SourceAccount": ACCOUNT}},
     "service", True, ""),
    # Negated operators never restrict.
    ({"StringNotEquals": {"aws:SourceAccount": ACCOUNT}}, "service", False, "negated operator"),
    ({"StringNotEquals": {"aws:PrincipalOrgID": ORG}}, "any", False, "negated operator"),
    ({"ArnNotLike": {"aws:SourceArn": RULE_ARN}}, "service", False, "negated operator"),
    ({"StringNotLike": {"aws:PrincipalOrgPaths": [f"{ORG}/*"]}}, "aws", False, "negated operator"),
    # Wildcard values and patterns that match every account, organization or ARN.
    ({"StringLike": {"aws:SourceArn": "*"}}, "service", False, "is not an ARN"),
    ({"ArnLike": {"aws:SourceArn": "arn:aws:*:*:*:*"}}, "service", False, "any partition or service"),
    ({"ArnLike": {"aws:SourceArn": f"arn:aws:events:{REGION}:*:rule/orders"}}, "service", False, "every account"),
    ({"ArnLike": {"aws:SourceArn": "arn:aws:s3:::*"}}, "service", False, "every s3 resource"),
    ({"StringLike": {"aws:SourceAccount": "????????????"}}, "service", False, "12-digit"),
    ({"StringLike": {"aws:SourceAccount": "1111*"}}, "service", False, "12-digit"),
    ({"StringEquals": {"aws:SourceAccount": [ACCOUNT, "*"]}}, "service", False, "12-digit"),
    ({"StringLike": {"aws:PrincipalOrgID": "*"}}, "any", False, "organization id"),
    ({"StringLike": {"aws:PrincipalOrgID": "o-*"}}, "aws", False, "organization id"),
    ({"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": ["o-*/*"]}}, "aws", False, "organization id"),
    ({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/ci"}}, "aws", False, "every account"),
    ({"StringEquals": {"aws:SourceAccount": "${aws:PrincipalAccount}"}}, "service", False, "policy variable"),
    ({"StringEquals": {"aws:SourceAccount": []}}, "service", False, "no values"),
    ({"StringEquals": {"aws:SourceAccount": True}}, "service", False, "not a string"),
    # Keys that do not restrict the principal in question.
    ({"StringEquals": {"aws:PrincipalOrgID": ORG}}, "service", False, "does not identify a service principal"),
    ({"StringEquals": {"aws:SourceAccount": ACCOUNT}}, "aws", False, "does not identify an AWS principal"),
    ({"Bool": {"aws:SecureTransport": "true"}}, "service", False, "says nothing about who is calling"),
    ({"StringEquals": {"aws:RequestedRegion": REGION}}, "any", False, "says nothing about who is calling"),
    # Operators that do not compare the caller to a value.
    ({"Null": {"aws:SourceArn": "false"}}, "service", False, "not a positive match"),
    ({"StringEqualsIgnoreCase": {"aws:SourceAccount": ACCOUNT}}, "service", False, "not a positive match"),
    # ...IfExists is true when the key is absent.
    ({"StringEqualsIfExists": {"aws:SourceAccount": ACCOUNT}}, "service", False,
     "...IfExists is true when the request has no aws:SourceAccount"),
    ({"ArnLikeIfExists": {"aws:SourceArn": RULE_ARN}}, "service", False,
     "...IfExists is true when the request has no aws:SourceArn"),
    ({"StringNotEqualsIfExists": {"aws:SourceAccount": ACCOUNT}}, "service", False, "negated operator"),
    # ARNs: S3's have no account, so their resource name must be literal (a key pattern after it is fine).
    ({"ArnLike": {"aws:SourceArn": "arn:aws:s3:::reports-bucket/*"}}, "service", True, ""),
    ({"ArnLike": {"aws:SourceArn": "arn:aws:events"}}, "service", False, "'arn:aws:events' is not an ARN"),
    # ForAllValues is vacuously true when the key is absent; set operators on single-valued keys are unsafe.
    ({"ForAllValues:StringEquals": {"aws:SourceAccount": ACCOUNT}}, "service", False,
     "ForAllValues is true when the request has no aws:SourceAccount at all"),
    ({"ForAllValues:StringLike": {"aws:PrincipalOrgPaths": [f"{ORG}/*"]}}, "aws", False,
     "ForAllValues is true when the request has no aws:PrincipalOrgPaths at all"),
    ({"ForAnyValue:StringEquals": {"aws:PrincipalOrgID": ORG}}, "aws", False, "single-valued"),
    ({"StringLike": {"aws:PrincipalOrgPaths": [f"{ORG}/*"]}}, "aws", False, "multivalued"),
]


@pytest.mark.parametrize(("conditions", "kind", "restricts", "reason"), JUDGEMENTS,
                         ids=[f"{i}-{next(iter(c[0]))}-{c[1]}" for i, c in enumerate(JUDGEMENTS)])
def test_condition_judgement(conditions: dict[str, Any], kind: str, restricts: bool, reason: str) -> None:
    verdict = judge(conditions, kind)
    assert bool(verdict) is restricts, verdict
    if not restricts:
        assert reason in verdict.explain(), verdict.explain()


def test_judgements_explain_each_condition_by_its_operator_and_key() -> None:
    assert judge(None, "service").explain() == "it has no condition"
    assert judge({"StringEquals": {"aws:SourceAccount": ACCOUNT}}, "service").explain() == ""
    verdict = judge({"StringNotEquals": {"aws:SourceAccount": ACCOUNT}, "Bool": {"aws:SecureTransport": "true"}},
                    "service")
    assert verdict.explain() == (
        "no condition restricts it: StringNotEquals aws:SourceAccount: a negated operator matches every value "
        "except the listed ones; Bool aws:SecureTransport: this key says nothing about who is calling")
    single = judge({"ForAnyValue:StringEquals": {"aws:PrincipalOrgID": ORG}}, "aws").explain()
    assert single.endswith("overly permissive; use StringEquals")


def test_a_condition_block_that_is_not_an_object_is_named_and_the_next_one_still_counts() -> None:
    broken = judge({"StringEquals": "111111111111"}, "service")
    assert not broken and broken.explain() == "no condition restricts it: StringEquals: not an object of keys"
    assert judge({"StringEquals": "111111111111", "ArnLike": {"aws:SourceArn": RULE_ARN}}, "service")


def test_the_kind_of_principal_decides_which_keys_count() -> None:
    assert [principal_kind(p, service=s) for p, s in (("*", True), ("*", False), ("events.amazonaws.com", True),
                                                       (f"arn:aws:iam::{ACCOUNT}:root", False))] == [
        "any", "any", "service", "aws"]


LOGS_CONTEXT = "kms:EncryptionContext:aws:logs:arn"


@pytest.mark.parametrize(("conditions", "restricts"), [
    ({"ArnLike": {LOGS_CONTEXT: f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:*"}}, True),  # KMS developer guide
    ({"StringEquals": {"kms:EncryptionContext:app": "orders"}}, True),
    ({"StringEquals": {"kms:EncryptionContext:app": "orders-*"}}, False),
    ({"StringEquals": {"kms:CallerAccount": ACCOUNT}}, True),
    ({"StringEquals": {"kms:CallerAccountId": ACCOUNT}}, False),
    ({"StringEquals": {"kms:EncryptionContextKeys": "aws:logs:arn"}}, False),
    ({"StringEquals": {"kms:ViaService": f"sqs.{REGION}.amazonaws.com"}}, False),
], ids=["logs-arn-pattern", "literal-context", "context-pattern", "caller-account", "not-caller-account",
        "context-keys", "via-service"])
def test_key_policy_keys_count_by_their_exact_name_or_the_context_prefix(conditions: dict[str, Any],
                                                                          restricts: bool) -> None:
    from serverless_patterns.policies.iam import KMS_CALLER_KEYS

    assert bool(judge(conditions, "any", KMS_CALLER_KEYS)) is restricts


def test_kms_encryption_context_counts_only_in_key_policies_and_only_when_concrete() -> None:
    context = "kms:EncryptionContext:aws:logs:arn"
    extra = {"kms:encryptioncontext:*": "context"}
    log_group = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/app"
    assert judge({"ArnLike": {context: log_group}}, "service", extra)
    assert not judge({"ArnLike": {context: log_group}}, "service")
    assert not judge({"ArnLike": {context: "arn:aws:logs:*:*:*"}}, "service", extra)
    assert not judge({"StringLike": {"kms:EncryptionContext:team": "*"}}, "service", extra)


# ------------------------------------------------------------------ the rules that use it, through the analyzer


def _resource_findings(typ: str, props: dict[str, Any]) -> list[tuple[str, str, str]]:
    return diagnostics(servicer().Analyze(analyze_request(typ, "offender", props), None))


def _queue_policy(conditions: dict[str, Any] | None, principal: str = "events.amazonaws.com") -> dict[str, Any]:
    statement: dict[str, Any] = {"Effect": "Allow", "Principal": {"Service": principal}, "Action": "sqs:SendMessage",
                                 "Resource": QUEUE_ARN}
    if conditions is not None:
        statement["Condition"] = conditions
    return {"queueUrl": "https://sqs.eu-west-1.amazonaws.com/111111111111/dlq", "policy": doc(statement)}


SERVICE_BYPASSES: list[tuple[str, str, dict[str, Any]]] = [
    # Issue 12: a queue policy for a service principal with StringNotEquals aws:SourceAccount.
    ("issue-queue-negated-source-account", "aws:sqs/queuePolicy:QueuePolicy",
     _queue_policy({"StringNotEquals": {"aws:SourceAccount": ACCOUNT}})),
    # Issue 12: a lambda.amazonaws.com statement with StringLike aws:sourceArn "*" (here on an ECR repository).
    ("issue-lambda-source-arn-star", "aws:ecr/repositoryPolicy:RepositoryPolicy",
     {"repository": "shared/app", "policy": doc({"Sid": "LambdaPull", "Effect": "Allow", "Principal": {
         "Service": "lambda.amazonaws.com"}, "Action": PULL, "Condition": {"StringLike": {"aws:sourceArn": "*"}}})}),
    # A creation template's replica policy: the component's organization-mode statement without aws:SourceOrgID.
    ("template-any-account-function", "aws:ecr/repositoryCreationTemplate:RepositoryCreationTemplate",
     {"prefix": "shared", "appliedFors": ["REPLICATION"], "imageTagMutability": "IMMUTABLE",
      "repositoryPolicy": doc({"Sid": "LambdaPull", "Effect": "Allow", "Principal": {
          "Service": "lambda.amazonaws.com"}, "Action": PULL, "Condition": {"StringLike": {
              "aws:sourceArn": f"arn:aws:lambda:{REGION}:*:function:*"}}})}),
    # Issue 18's surviving mutant: an SNS grant to events.amazonaws.com guarded only by aws:SecureTransport.
    ("irrelevant-key", "aws:sns/topicPolicy:TopicPolicy",
     {"arn": "t", "policy": doc({"Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
                                 "Action": "sns:Publish", "Resource": f"arn:aws:sns:{REGION}:{ACCOUNT}:t",
                                 "Condition": {"Bool": {"aws:SecureTransport": "true"}}})}),
    ("wildcard-arn", "aws:sqs/queuePolicy:QueuePolicy",
     _queue_policy({"ArnLike": {"aws:SourceArn": "arn:aws:*:*:*:*"}})),
    ("any-account-arn", "aws:sqs/queuePolicy:QueuePolicy",
     _queue_policy({"ArnLike": {"aws:SourceArn": f"arn:aws:events:{REGION}:*:rule/*"}})),
    ("question-mark-account", "aws:sqs/queuePolicy:QueuePolicy",
     _queue_policy({"StringLike": {"aws:SourceAccount": "????????????"}})),
    ("if-exists", "aws:sqs/queuePolicy:QueuePolicy",
     _queue_policy({"StringEqualsIfExists": {"aws:SourceAccount": ACCOUNT}})),
    ("for-all-values", "aws:sqs/queuePolicy:QueuePolicy",
     _queue_policy({"ForAllValues:StringEquals": {"aws:SourceAccount": ACCOUNT}})),
    ("principal-key-for-a-service", "aws:sqs/queuePolicy:QueuePolicy",
     _queue_policy({"StringEquals": {"aws:PrincipalOrgID": ORG}})),
    ("null-only", "aws:sqs/queuePolicy:QueuePolicy", _queue_policy({"Null": {"aws:SourceArn": "false"}})),
    ("new-type-lambda-resource-policy", "aws:lambda/resourcePolicy:ResourcePolicy",
     {"functionName": "worker", "policy": doc({"Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"},
                                               "Action": "lambda:InvokeFunction", "Resource": FUNCTION_ARN,
                                               "Condition": {"StringNotLike": {"aws:SourceArn": "arn:aws:s3:::x"}}})}),
    ("kms-context-wildcard", "aws:kms/key:Key",
     {"policy": doc({"Effect": "Allow", "Principal": {"Service": f"logs.{REGION}.amazonaws.com"},
                     "Action": ["kms:Encrypt", "kms:Decrypt"], "Resource": "*",
                     "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": "arn:aws:logs:*:*:*"}}})}),
    # Lambda permissions: the source fields become ArnLike/StringEquals conditions in the function policy.
    ("permission-source-arn-star", "aws:lambda/permission:Permission",
     {"action": "lambda:InvokeFunction", "function": "worker", "principal": "apigateway.amazonaws.com",
      "sourceArn": "arn:aws:execute-api:*:*:*"}),
    ("permission-org-for-a-service", "aws:lambda/permission:Permission",
     {"action": "lambda:InvokeFunction", "function": "worker", "principal": "events.amazonaws.com",
      "principalOrgId": ORG}),
    ("permission-star-any-org", "aws:lambda/permission:Permission",
     {"action": "lambda:InvokeFunction", "function": "worker", "principal": "*", "principalOrgId": "o-*"}),
]


@pytest.mark.parametrize(("case", "typ", "props"), SERVICE_BYPASSES, ids=[c[0] for c in SERVICE_BYPASSES])
def test_service_principal_bypasses_are_mandatory_violations(case: str, typ: str, props: dict[str, Any]) -> None:
    found = [(rule, level) for rule, level, _ in _resource_findings(typ, props) if rule == SERVICE_RULE]
    assert found == [(SERVICE_RULE, "mandatory")], (case, _resource_findings(typ, props))


SERVICE_GRANTS_THAT_PASS: list[tuple[str, dict[str, Any]]] = [
    ("aws:sqs/queuePolicy:QueuePolicy", _queue_policy({"ArnEquals": {"aws:SourceArn": RULE_ARN},
                                                        "StringEquals": {"aws:SourceAccount": ACCOUNT}})),
    ("aws:sqs/queuePolicy:QueuePolicy", _queue_policy({"StringEquals": {"aws:SourceOrgID": ORG}})),
    ("aws:kms/key:Key", {"policy": doc({"Effect": "Allow", "Principal": {"Service": f"logs.{REGION}.amazonaws.com"},
                                        "Action": ["kms:Encrypt", "kms:Decrypt"], "Resource": "*", "Condition": {
                                            "ArnLike": {"kms:EncryptionContext:aws:logs:arn":
                                                        f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/app"}}})}),
    ("aws:lambda/permission:Permission", {"action": "lambda:InvokeFunction", "function": "worker",
                                          "principal": "*", "principalOrgId": ORG}),
]


@pytest.mark.parametrize(("typ", "props"), SERVICE_GRANTS_THAT_PASS, ids=[t for t, _ in SERVICE_GRANTS_THAT_PASS])
def test_service_principal_grants_with_restricting_conditions_pass(typ: str, props: dict[str, Any]) -> None:
    assert [f for f in _resource_findings(typ, props) if f[0] == SERVICE_RULE] == []


def _stack_findings(*resources: tuple[str, str, dict[str, Any]]) -> list[tuple[str, str, str, str]]:
    request = proto.AnalyzeStackRequest(resources=[
        proto.AnalyzerResource(type=typ, name=name, urn=f"urn:pulumi:t::t::{typ}::{name}",
                               properties=json_format.ParseDict(props, struct_pb2.Struct()))
        for typ, name, props in resources])
    levels = {proto.ADVISORY: "advisory", proto.MANDATORY: "mandatory"}
    return [(d.policyName, levels.get(d.enforcementLevel, ""), d.urn.rsplit("::", 1)[-1], d.message)
            for d in servicer().AnalyzeStack(request, None).diagnostics]


REPOSITORY = ("aws:ecr/repository:Repository", "repo", {
    "name": "shared/app", "registryId": ACCOUNT, "arn": f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/shared/app",
    "imageTagMutability": "IMMUTABLE", "imageScanningConfiguration": {"scanOnPush": True}})


def _repository_policy(principal: Any, conditions: dict[str, Any] | None = None,
                       actions: list[str] = PULL) -> tuple[str, str, dict[str, Any]]:
    statement: dict[str, Any] = {"Effect": "Allow", "Principal": principal, "Action": actions}
    if conditions:
        statement["Condition"] = conditions
    return ("aws:ecr/repositoryPolicy:RepositoryPolicy", "repo-policy",
            {"repository": "shared/app", "policy": doc(statement)})


ECR_BYPASSES: list[tuple[str, tuple[str, str, dict[str, Any]]]] = [
    # Issue 12: Principal "*" with StringNotEquals aws:PrincipalOrgID grants every account outside the organization.
    ("issue-negated-org", _repository_policy("*", {"StringNotEquals": {"aws:PrincipalOrgID": ORG}})),
    # Issue 12: the same with StringLike aws:PrincipalOrgID "*".
    ("issue-any-org", _repository_policy("*", {"StringLike": {"aws:PrincipalOrgID": "*"}})),
    ("aws-star-any-org", _repository_policy({"AWS": "*"}, {"StringLike": {"aws:PrincipalOrgID": "o-*"}})),
    ("for-all-values-org-paths", _repository_policy("*", {"ForAllValues:StringLike": {
        "aws:PrincipalOrgPaths": [f"{ORG}/*"]}})),
    ("org-id-if-exists", _repository_policy("*", {"StringEqualsIfExists": {"aws:PrincipalOrgID": ORG}})),
    ("any-account-principal-arn", _repository_policy("*", {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:root"}})),
    ("irrelevant-key", _repository_policy("*", {"Bool": {"aws:SecureTransport": "true"}})),
    ("creation-template", ("aws:ecr/repositoryCreationTemplate:RepositoryCreationTemplate", "repo-policy", {
        "prefix": "shared", "appliedFors": ["REPLICATION"], "imageTagMutability": "IMMUTABLE",
        "repositoryPolicy": doc({"Effect": "Allow", "Principal": "*", "Action": PULL,
                                 "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": ORG}}})})),
    # The registry's own account appearing inside another account's role name is not the own account.
    ("own-account-digits-in-a-foreign-role", _repository_policy(
        {"AWS": f"arn:aws:iam::999999999999:role/{ACCOUNT}"}, actions=[*PULL, "ecr:PutImage"])),
]


@pytest.mark.parametrize(("case", "policy"), ECR_BYPASSES, ids=[c[0] for c in ECR_BYPASSES])
def test_ecr_pull_grant_bypasses_are_mandatory_violations(case: str, policy: tuple[str, str, dict[str, Any]]) -> None:
    found = [(rule, level, name) for rule, level, name, _ in _stack_findings(REPOSITORY, policy) if rule == ECR_RULE]
    assert found == [(ECR_RULE, "mandatory", "repo-policy")], case


@pytest.mark.parametrize("conditions", [
    {"StringEquals": {"aws:PrincipalOrgID": ORG}},
    {"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": [f"{ORG}/r-ab12/ou-ab12-11111111/*"]}},
    {"StringEquals": {"aws:PrincipalAccount": ["222222222222", "333333333333"]}},
], ids=["org-id", "org-paths", "accounts"])
def test_ecr_star_with_a_restricting_condition_passes(conditions: dict[str, Any]) -> None:
    assert [f for f in _stack_findings(REPOSITORY, _repository_policy("*", conditions)) if f[0] == ECR_RULE] == []


def test_trust_policy_partial_wildcard_principal_is_flagged() -> None:
    """Issue 18's surviving mutant: `"*" in principal` weakened to `principal == "*"`."""
    found = _resource_findings("aws:iam/role:Role", {"assumeRolePolicy": doc(
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/*"}, "Action": "sts:AssumeRole"})})
    assert [(r, level) for r, level, _ in found] == [("iam-trust-policy-principal", "mandatory")]


PUBLIC_RULE = "iam-resource-policy-public-principal"


def _public_queue(conditions: dict[str, Any] | None) -> dict[str, Any]:
    statement: dict[str, Any] = {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sqs:SendMessage",
                                 "Resource": QUEUE_ARN}
    if conditions:
        statement["Condition"] = conditions
    return {"queueUrl": "https://sqs.eu-west-1.amazonaws.com/111111111111/dlq", "policy": doc(statement)}


@pytest.mark.parametrize("conditions", [
    None,
    {"StringNotEquals": {"aws:PrincipalOrgID": ORG}},
    {"StringLike": {"aws:PrincipalOrgID": "*"}},
    {"ForAllValues:StringLike": {"aws:PrincipalOrgPaths": [f"{ORG}/*"]}},
    {"StringEqualsIfExists": {"aws:PrincipalAccount": ACCOUNT}},
    {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}},
], ids=["none", "negated", "wildcard", "for-all-values", "if-exists", "network-only"])
def test_public_principal_bypasses_are_mandatory_violations(conditions: dict[str, Any] | None) -> None:
    found = _resource_findings("aws:sqs/queuePolicy:QueuePolicy", _public_queue(conditions))
    assert [(r, level) for r, level, _ in found if r == PUBLIC_RULE] == [(PUBLIC_RULE, "mandatory")]


def test_public_principal_restricted_by_meaning_passes() -> None:
    for conditions in ({"StringEquals": {"aws:PrincipalOrgID": ORG}},
                       {"StringEquals": {"aws:PrincipalAccount": ACCOUNT}},
                       {"StringEquals": {"aws:SourceAccount": ACCOUNT}}):
        found = _resource_findings("aws:sqs/queuePolicy:QueuePolicy", _public_queue(conditions))
        assert [f for f in found if f[0] == PUBLIC_RULE] == [], conditions
    kms = {"policy": doc({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": ["kms:Decrypt"], "Resource": "*",
                          "Condition": {"StringEquals": {"kms:CallerAccount": ACCOUNT,
                                                         "kms:ViaService": f"secretsmanager.{REGION}.amazonaws.com"}}})}
    assert [f for f in _resource_findings("aws:kms/key:Key", kms) if f[0] == PUBLIC_RULE] == []
    endpoint = {"vpcEndpointId": "vpce-1", "policy": doc({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                                                          "Resource": "arn:aws:s3:::reports/*"})}
    assert [f for f in _resource_findings("aws:ec2/vpcEndpointPolicy:VpcEndpointPolicy", endpoint)
            if f[0] == PUBLIC_RULE] == []
