"""ECR baseline: immutable tags, scanning on push, and repository policies (of repositories and of creation
templates) that give others pull only."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator
from typing import Any

from pulumi_policy import PolicyResource, ResourceValidationArgs, Severity, StackValidationArgs

from serverless_patterns.policies.conditions import judge
from serverless_patterns.policies.core import (
    DocumentError,
    arn_account,
    as_list,
    each_resource,
    of_type,
    parse_document,
    prop,
    referenced,
    resource_rule,
    stack_rule,
)
from serverless_patterns.policies.knowledge import ECR_PULL_ACTIONS, is_service_principal

REPOSITORY = "aws:ecr/repository:Repository"
REPOSITORY_POLICY = "aws:ecr/repositoryPolicy:RepositoryPolicy"
CREATION_TEMPLATE = "aws:ecr/repositoryCreationTemplate:RepositoryCreationTemplate"
REGISTRY_SCANNING = "aws:ecr/registryScanningConfiguration:RegistryScanningConfiguration"
PULL = frozenset(a.lower() for a in ECR_PULL_ACTIONS)


def check_immutable(args: ResourceValidationArgs) -> Iterator[str]:
    mutability = str(prop(args.props, "imageTagMutability", "MUTABLE"))
    if not mutability.startswith("IMMUTABLE"):
        what = ("Repository creation template {!r} creates repositories with" if args.resource_type ==
                CREATION_TEMPLATE else "Repository {!r} has").format(args.name)
        yield (f"{what} mutable tags ({mutability}): a pushed tag can be overwritten under running functions. "
               f"Fix: image_tag_mutability='IMMUTABLE' and deploy by digest.")


def check_scan_on_push(args: StackValidationArgs) -> Iterator[tuple[PolicyResource, str]]:
    registry_rules: list[Any] = []
    for config in of_type(args, REGISTRY_SCANNING):
        for rule in as_list(prop(config.props, "rules")):
            if isinstance(rule, dict) and rule.get("scanFrequency") in ("SCAN_ON_PUSH", "CONTINUOUS_SCAN"):
                registry_rules.extend(str(f.get("filter", "")) for f in as_list(rule.get("repositoryFilters"))
                                      if isinstance(f, dict))

    def check(repo: PolicyResource) -> Iterator[str]:
        if (prop(repo.props, "imageScanningConfiguration") or {}).get("scanOnPush"):
            return
        name = str(prop(repo.props, "name", ""))
        if any(fnmatch.fnmatchcase(name, pattern) for pattern in registry_rules):
            return
        yield (f"Repository {repo.name!r} does not scan images on push. Fix: image_scanning_configuration="
               f"{{'scan_on_push': True}} (or a registry scanning configuration covering it).")

    yield from each_resource(of_type(args, REPOSITORY), check)


def _is_owner(principal: str, owner: str | None) -> bool:
    """Is `principal` (an account id or IAM ARN) in the registry's own account?"""
    return owner is not None and (principal == owner or arn_account(principal) == owner)


def check_pull_only(args: StackValidationArgs) -> Iterator[tuple[PolicyResource, str]]:
    repositories = of_type(args, REPOSITORY)

    def check(policy_resource: PolicyResource) -> Iterator[str]:
        owner = None
        template = policy_resource.resource_type == CREATION_TEMPLATE
        for repo in referenced(policy_resource, "repository", repositories, "name", "id"):
            owner = prop(repo.props, "registryId") or arn_account(str(prop(repo.props, "arn", "")))
        document = prop(policy_resource.props, "repositoryPolicy" if template else "policy")
        if document in (None, ""):
            return
        try:
            statements = parse_document(document)
        except DocumentError:
            return  # iam-policy-document-valid reports it
        kind = "Repository creation template" if template else "Repository policy"
        for statement in statements:
            if not statement.allows:
                continue
            principals = statement.principals()
            everyone = [p for p in principals.get("*", []) + principals.get("AWS", []) if p == "*"]
            others = [p for p in principals.get("AWS", []) if p != "*" and not _is_owner(p, owner)]
            services = [p for p in principals.get("Service", []) if is_service_principal(p)]
            grantees = everyone + others + services
            if not grantees:
                continue
            extra = [a for a in statement.actions if a.lower() not in PULL]
            where = f"{kind} {policy_resource.name!r} {statement.label()}"
            if extra:
                note = "" if owner else (" (treated as other accounts: the repository is not in this stack)"
                                         if not template else " (treated as other accounts)")
                yield (f"{where} grants {', '.join(extra)} to {', '.join(grantees)}{note}: {statement.show()}. "
                       f"Fix: give other accounts only {', '.join(sorted(ECR_PULL_ACTIONS))}.")
            verdict = judge(statement.conditions, "any")
            if everyone and not verdict:
                yield (f"{where} grants to Principal '*' without a condition that limits it to an organization or "
                       f"account: {verdict.explain()}. Statement: {statement.show()}. Fix: name the consumer "
                       f"accounts, or add Condition StringEquals aws:PrincipalOrgID '<o-...>'.")

    yield from each_resource(of_type(args, REPOSITORY_POLICY, CREATION_TEMPLATE), check)


POLICIES = [
    resource_rule(
        "ecr-immutable-tags",
        "ECR repositories, and the repositories creation templates make, have immutable image tags.",
        check_immutable, types={REPOSITORY, CREATION_TEMPLATE}, severity=Severity.MEDIUM,
        remediation="Set image_tag_mutability='IMMUTABLE'."),
    stack_rule(
        "ecr-scan-on-push",
        "ECR repositories scan images on push.",
        check_scan_on_push, severity=Severity.MEDIUM,
        remediation="Set image_scanning_configuration scan_on_push."),
    stack_rule(
        "ecr-repository-policy-pull-only",
        "ECR repository policies give other accounts and services pull actions only, never to '*' without an "
        "organization condition.",
        check_pull_only, severity=Severity.HIGH, cdk_nag="AwsSolutions-ECR1 (public access)",
        remediation="Grant only ecr:BatchGetImage and ecr:GetDownloadUrlForLayer to consumers."),
]
