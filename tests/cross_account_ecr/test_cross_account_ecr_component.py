"""`CrossAccountEcr` under the offline engine: two consumer accounts through two providers."""

from __future__ import annotations

import json
import re
from typing import Any

import pulumi
import pulumi_aws as aws
import pytest
from cross_account_ecr_helpers import CONSUMER_B, CONSUMER_C, REGION, REGISTRY, policy_of, run, two_consumers

from serverless_patterns.cross_account_ecr import CrossAccountEcr
from serverless_patterns.cross_account_ecr.args import RELEASE_PROTECT_COUNT
from serverless_patterns.offline import run_callable
from serverless_patterns.offline.engine import CapturedStack
from serverless_patterns.offline.mocks import AwsMocks

PULL = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
DIGEST_URI = re.compile(rf"^{REGISTRY}\.dkr\.ecr\.{REGION}\.amazonaws\.com/shared/hello@sha256:[0-9a-f]{{64}}$")


def test_account_mode_policy_is_exactly_the_two_statements(account_stack: CapturedStack) -> None:
    assert policy_of(account_stack) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "CrossAccountPermission",
                "Effect": "Allow",
                "Principal": {"AWS": [f"arn:aws:iam::{CONSUMER_B}:root", f"arn:aws:iam::{CONSUMER_C}:root"]},
                "Action": PULL,
            },
            {
                "Sid": "LambdaECRImageCrossAccountRetrievalPolicy",
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": PULL,
                "Condition": {
                    "StringLike": {
                        "aws:sourceArn": [
                            f"arn:aws:lambda:{REGION}:{CONSUMER_B}:function:*",
                            f"arn:aws:lambda:{REGION}:{CONSUMER_C}:function:*",
                        ]
                    }
                },
            },
        ],
    }


def test_organization_mode_policy_is_exactly_the_two_statements(org_stack: CapturedStack) -> None:
    paths = ["o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/"]
    assert policy_of(org_stack) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "CrossAccountPermission",
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": PULL,
                "Condition": {
                    "StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"},
                    "ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": paths},
                },
            },
            {
                "Sid": "LambdaECRImageCrossAccountRetrievalPolicy",
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": PULL,
                "Condition": {
                    "StringEquals": {"aws:SourceOrgID": "o-a1b2c3d4e5"},
                    "StringLike": {"aws:sourceArn": f"arn:aws:lambda:{REGION}:*:function:*"},
                    "ForAnyValue:StringLike": {"aws:SourceOrgPaths": paths},
                },
            },
        ],
    }


def test_organization_mode_without_paths() -> None:
    stack = run(lambda p: two_consumers(p, organization_id="o-a1b2c3d4e5"))
    account, service = policy_of(stack)["Statement"]
    assert account["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}
    assert service["Condition"] == {
        "StringEquals": {"aws:SourceOrgID": "o-a1b2c3d4e5"},
        "StringLike": {"aws:sourceArn": f"arn:aws:lambda:{REGION}:*:function:*"},
    }


@pytest.mark.parametrize("stack_name", ["account_stack", "org_stack"])
def test_no_wildcard_principal_without_org_condition_and_no_push(
    stack_name: str, request: pytest.FixtureRequest
) -> None:
    for statement in policy_of(request.getfixturevalue(stack_name))["Statement"]:
        assert statement["Effect"] == "Allow"
        assert sorted(statement["Action"]) == PULL
        principal = statement["Principal"]
        if principal.get("AWS") == "*":
            assert statement["Condition"]["StringEquals"]["aws:PrincipalOrgID"].startswith("o-")
        if "Service" in principal:
            assert principal == {"Service": "lambda.amazonaws.com"}
            condition = statement["Condition"]
            assert "aws:sourceArn" in condition["StringLike"]
            arns = condition["StringLike"]["aws:sourceArn"]
            for arn in arns if isinstance(arns, list) else [arns]:
                assert arn.startswith(f"arn:aws:lambda:{REGION}:") and arn.endswith(":function:*")


def test_repository_is_immutable_scanned_and_encrypted(account_stack: CapturedStack) -> None:
    repo = account_stack.one("aws:ecr/repository:Repository")
    assert repo.inputs["name"] == "shared/hello"
    assert repo.inputs["imageTagMutability"] == "IMMUTABLE"
    assert repo.inputs["imageScanningConfiguration"] == {"scanOnPush": True}
    assert repo.inputs["encryptionConfigurations"] == [{"encryptionType": "AES256"}]
    assert repo.inputs["forceDelete"] is False
    assert repo.provider == ""  # the registry side runs with the component's (stack's) provider


def test_kms_key_encryption() -> None:
    key = f"arn:aws:kms:{REGION}:{REGISTRY}:key/0a1b2c3d-1111-2222-3333-444455556666"
    stack = run(lambda p: two_consumers(p, kms_key_arn=key))
    repo = stack.one("aws:ecr/repository:Repository")
    assert repo.inputs["encryptionConfigurations"] == [{"encryptionType": "KMS", "kmsKey": key}]


def test_lifecycle_rules_protect_releases_first(account_stack: CapturedStack) -> None:
    policy = json.loads(account_stack.one("aws:ecr/lifecyclePolicy:LifecyclePolicy").inputs["policy"])
    selections = [(r["rulePriority"], r["selection"]) for r in policy["rules"]]
    assert selections == [
        (
            1,
            {
                "tagStatus": "tagged",
                "tagPrefixList": ["release-"],
                "countType": "imageCountMoreThan",
                "countNumber": RELEASE_PROTECT_COUNT,
            },
        ),
        (
            2,
            {
                "tagStatus": "tagged",
                "tagPrefixList": ["v"],
                "countType": "imageCountMoreThan",
                "countNumber": RELEASE_PROTECT_COUNT,
            },
        ),
        (
            3,
            {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 7},
        ),
        (
            4,
            {
                "tagStatus": "tagged",
                "tagPrefixList": ["build-"],
                "countType": "imageCountMoreThan",
                "countNumber": 20,
            },
        ),
    ]
    assert all(r["action"] == {"type": "expire"} for r in policy["rules"])


def test_lifecycle_settings_are_applied() -> None:
    stack = run(
        lambda p: two_consumers(
            p,
            lifecycle={
                "untagged_expire_days": 3,
                "build_tag_prefixes": ["ci-", "pr-"],
                "keep_builds": 5,
                "release_tag_prefixes": ["prod-"],
            },
        )
    )
    rules = json.loads(stack.one("aws:ecr/lifecyclePolicy:LifecyclePolicy").inputs["policy"])["rules"]
    assert [(r["selection"].get("tagPrefixList"), r["selection"]["countNumber"]) for r in rules] == [
        (["prod-"], RELEASE_PROTECT_COUNT),
        (None, 3),
        (["ci-"], 5),
        (["pr-"], 5),
    ]


def _provider_urn(stack: CapturedStack, logical: str) -> str:
    return stack.one("pulumi:providers:aws", logical).urn


@pytest.mark.parametrize("account, provider", [(CONSUMER_B, "acct-b"), (CONSUMER_C, "acct-c")])
def test_consumer_functions_run_with_the_consumer_provider(
    account_stack: CapturedStack, account: str, provider: str
) -> None:
    urn = _provider_urn(account_stack, provider)
    component = account_stack.one("serverless-patterns:index:ImageFunction", account)
    children = account_stack.descendants(component.urn)
    assert {c.type for c in children} == {
        "aws:lambda/function:Function",
        "aws:iam/role:Role",
        "aws:iam/rolePolicy:RolePolicy",
        "aws:cloudwatch/logGroup:LogGroup",
    }
    for child in children:
        assert child.provider.startswith(urn + "::"), (child.name, child.provider)
    fn = account_stack.one("aws:lambda/function:Function", account)
    assert fn.outputs["arn"].startswith(f"arn:aws:lambda:{REGION}:{account}:function:")
    out = account_stack.outputs["ecr"]["functions"][account]
    assert out["arn"] == fn.outputs["arn"]


def test_consumer_function_is_a_digest_pinned_image(account_stack: CapturedStack) -> None:
    image_uri = account_stack.outputs["ecr"]["imageUri"]
    assert DIGEST_URI.match(image_uri)
    for account in (CONSUMER_B, CONSUMER_C):
        fn = account_stack.one("aws:lambda/function:Function", account)
        inputs = fn.inputs
        assert inputs["packageType"] == "Image"
        assert inputs["imageUri"] == image_uri
        assert "runtime" not in inputs and "handler" not in inputs and "layers" not in inputs
        assert inputs["architectures"] == ["arm64"]
        assert inputs["tracingConfig"] == {"mode": "Active"}
        assert inputs["loggingConfig"]["logFormat"] == "JSON"
        log_group = account_stack.one("aws:cloudwatch/logGroup:LogGroup", account)
        assert inputs["loggingConfig"]["logGroup"] == log_group.outputs["name"]
        assert log_group.inputs["retentionInDays"] == 30
        assert (inputs["memorySize"], inputs["timeout"]) == (512, 30)


def test_execution_role_is_least_privilege(account_stack: CapturedStack) -> None:
    role = account_stack.one("aws:iam/role:Role", CONSUMER_B)
    trust = json.loads(role.inputs["assumeRolePolicy"])
    assert trust["Statement"] == [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ]
    policy = json.loads(account_stack.one("aws:iam/rolePolicy:RolePolicy", f"{CONSUMER_B}-policy").inputs["policy"])
    log_group = account_stack.one("aws:cloudwatch/logGroup:LogGroup", CONSUMER_B)
    assert policy["Statement"] == [
        {
            "Sid": "WriteOwnLogs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": log_group.outputs["arn"] + ":*",
        },
        {
            "Sid": "XRayTracing",
            "Effect": "Allow",
            "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
            "Resource": "*",
        },
    ]
    assert log_group.outputs["arn"].startswith(f"arn:aws:logs:{REGION}:{CONSUMER_B}:")


def test_digest_given_directly_is_used_as_is() -> None:
    digest = "sha256:" + "ab" * 32
    stack = run(
        lambda p: {
            **two_consumers(p),
            "image_tag": None,
            "image_digest": digest,
            "function": {"architecture": "x86_64", "memory_mb": 1024, "timeout_seconds": 60},
        }
    )
    fn = stack.one("aws:lambda/function:Function", CONSUMER_C)
    assert fn.inputs["imageUri"] == f"{REGISTRY}.dkr.ecr.{REGION}.amazonaws.com/shared/hello@{digest}"
    assert fn.inputs["architectures"] == ["x86_64"]
    assert (fn.inputs["memorySize"], fn.inputs["timeout"]) == (1024, 60)


def test_tag_is_resolved_through_the_registry_account(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tag is looked up once with ecr:DescribeImages semantics (`aws.ecr.get_image`) in the registry's
    account, and every consumer function runs the digest that lookup answered, never the mutable tag."""
    lookups: list[tuple[str, dict[str, Any], str]] = []
    answered: list[str] = []
    original = AwsMocks.call

    def recording(self: AwsMocks, args: Any) -> dict[str, Any]:
        result = original(self, args)
        if args.token == "aws:ecr/getImage:getImage":
            lookups.append((args.token, dict(args.args), self.place_of(args.provider).account))
            answered.append(result["imageDigest"])
        return result

    monkeypatch.setattr(AwsMocks, "call", recording)
    stack = run(lambda p: two_consumers(p, image_tag="release-1.0.1"))
    [(_, request, account)] = lookups
    assert account == REGISTRY
    assert (request["repositoryName"], request["imageTag"], request["registryId"]) == (
        "shared/hello", "release-1.0.1", REGISTRY)
    assert "imageDigest" not in request
    uri = f"{REGISTRY}.dkr.ecr.{REGION}.amazonaws.com/shared/hello@{answered[0]}"
    assert stack.outputs["ecr"]["imageUri"] == uri
    for consumer in (CONSUMER_B, CONSUMER_C):
        assert stack.one("aws:lambda/function:Function", consumer).inputs["imageUri"] == uri


def test_without_an_image_only_the_grants_are_made() -> None:
    stack = run(lambda p: {"repository_name": "shared/hello", "consumer_account_ids": [CONSUMER_B, CONSUMER_C]})
    assert stack.of_type("aws:lambda/function:Function") == []
    assert stack.outputs["ecr"]["imageUri"] is None
    assert len(policy_of(stack)["Statement"][0]["Principal"]["AWS"]) == 2


def test_deployer_role_gets_exactly_the_pull_actions_on_the_repository() -> None:
    stack = run(
        lambda p: {
            "repository_name": "shared/hello",
            "image_tag": "release-1.0.0",
            "consumers": {
                CONSUMER_B: {"provider": p[CONSUMER_B], "deployer_role_name": "ci-deployer"},
                CONSUMER_C: {"provider": p[CONSUMER_C]},
            },
        }
    )
    [grant] = [r for r in stack.of_type("aws:iam/rolePolicy:RolePolicy") if "deployer" in r.name]
    assert grant.provider.startswith(_provider_urn(stack, "acct-b") + "::")
    assert grant.inputs["role"] == "ci-deployer"
    repo_arn = stack.outputs["ecr"]["repositoryArn"]
    assert repo_arn == f"arn:aws:ecr:{REGION}:{REGISTRY}:repository/shared/hello"
    assert json.loads(grant.inputs["policy"])["Statement"] == [
        {"Sid": "PullSharedImage", "Effect": "Allow", "Action": PULL, "Resource": repo_arn}
    ]


def test_consumer_functions_and_deployer_grants_wait_for_the_repository_policy() -> None:
    # A function in another account can use the image only once the repository policy grants the pull
    # ("Amazon ECR cross-account permissions", https://docs.aws.amazon.com/lambda/latest/dg/images-create.html);
    # CreateFunction checks it, so the function (and the deployer's grant) must come after the policy.
    stack = run(
        lambda p: {
            "repository_name": "shared/hello",
            "image_tag": "release-1.0.0",
            "consumers": {
                CONSUMER_B: {"provider": p[CONSUMER_B], "deployer_role_name": "ci-deployer"},
                CONSUMER_C: {"provider": p[CONSUMER_C]},
            },
        }
    )
    policy = stack.one("aws:ecr/repositoryPolicy:RepositoryPolicy").urn
    functions = stack.of_type("aws:lambda/function:Function")
    [grant] = [r for r in stack.of_type("aws:iam/rolePolicy:RolePolicy") if "deployer" in r.name]
    assert len(functions) == 2
    for resource in [*functions, grant]:
        assert policy in resource.dependencies, resource.name


def test_explicit_registry_provider_is_used_for_the_registry_side() -> None:
    def build(p: dict[str, Any]) -> Any:
        registry = aws.Provider("registry", region=REGION, allowed_account_ids=["444444444444"])
        return two_consumers(p, registry_provider=registry)

    stack = run(build)
    urn = _provider_urn(stack, "registry")
    for typ in (
        "aws:ecr/repository:Repository",
        "aws:ecr/repositoryPolicy:RepositoryPolicy",
        "aws:ecr/lifecyclePolicy:LifecyclePolicy",
    ):
        assert stack.one(typ).provider.startswith(urn + "::")
    assert stack.outputs["ecr"]["repositoryUrl"].startswith(f"444444444444.dkr.ecr.{REGION}.")
    assert stack.outputs["ecr"]["imageUri"].startswith(f"444444444444.dkr.ecr.{REGION}.amazonaws.com/shared/hello@")


def test_replication_with_region_specific_creation_templates() -> None:
    stack = run(lambda p: two_consumers(p, replication_regions=["eu-central-1"]))
    replication = stack.one("aws:ecr/replicationConfiguration:ReplicationConfiguration")
    assert replication.inputs["replicationConfiguration"] == {
        "rules": [
            {
                "destinations": [{"region": "eu-central-1", "registryId": REGISTRY}],
                "repositoryFilters": [{"filter": "shared/hello", "filterType": "PREFIX_MATCH"}],
            }
        ]
    }
    template = stack.one("aws:ecr/repositoryCreationTemplate:RepositoryCreationTemplate")
    assert template.inputs["region"] == "eu-central-1"
    assert template.inputs["prefix"] == "shared"
    assert template.inputs["appliedFors"] == ["REPLICATION"]
    assert template.inputs["imageTagMutability"] == "IMMUTABLE"
    statements = json.loads(template.inputs["repositoryPolicy"])["Statement"]
    assert statements[1]["Condition"]["StringLike"]["aws:sourceArn"] == [
        f"arn:aws:lambda:eu-central-1:{CONSUMER_B}:function:*",
        f"arn:aws:lambda:eu-central-1:{CONSUMER_C}:function:*",
    ]


def test_replica_templates_need_no_custom_role() -> None:
    # ECR: a creation template with resource tags or KMS encryption needs a custom role, or replication
    # cannot create the replica repository
    # (https://docs.aws.amazon.com/AmazonECR/latest/userguide/repository-creation-templates-create.html).
    stack = run(lambda p: two_consumers(p, replication_regions=["eu-central-1", "eu-north-1"],
                                        tags={"team": "research-it"}))
    templates = stack.of_type("aws:ecr/repositoryCreationTemplate:RepositoryCreationTemplate")
    assert len(templates) == 2
    for template in templates:
        needs_role = bool(template.inputs.get("resourceTags")) or any(
            c.get("encryptionType") == "KMS" for c in template.inputs.get("encryptionConfigurations") or [])
        assert not needs_role or template.inputs.get("customRoleArn"), template.name


def test_component_outputs(account_stack: CapturedStack) -> None:
    out = account_stack.outputs["ecr"]
    assert out["mode"] == "accounts"
    assert out["repositoryUrl"] == f"{REGISTRY}.dkr.ecr.{REGION}.amazonaws.com/shared/hello"
    assert out["registryId"] == REGISTRY
    assert sorted(out["functions"]) == [CONSUMER_B, CONSUMER_C]


def test_registry_provider_passed_through_opts_providers() -> None:
    """`providers={"aws": registry}` on the component: the registry side and its invokes follow it."""

    def program() -> None:
        registry = aws.Provider("registry", region="eu-central-1", allowed_account_ids=["555555555555"])
        consumer = aws.Provider("consumer", region="eu-central-1", allowed_account_ids=[CONSUMER_B])
        component = CrossAccountEcr(
            "img",
            {
                "repository_name": "shared/hello",
                "image_tag": "release-1.0.0",
                "consumers": {CONSUMER_B: {"provider": consumer}},
            },
            opts=pulumi.ResourceOptions(providers={"aws": registry}),
        )
        pulumi.export("ecr", component.outputs)

    stack = run_callable(program, config={"aws:region": REGION, "aws:allowedAccountIds": json.dumps([REGISTRY])})
    out = stack.outputs["ecr"]
    assert out["imageUri"].startswith("555555555555.dkr.ecr.eu-central-1.amazonaws.com/shared/hello@sha256:")
    assert out["functions"][CONSUMER_B]["arn"].startswith(f"arn:aws:lambda:eu-central-1:{CONSUMER_B}:")
    assert policy_of(stack)["Statement"][1]["Condition"]["StringLike"]["aws:sourceArn"] == [
        f"arn:aws:lambda:eu-central-1:{CONSUMER_B}:function:*"
    ]
