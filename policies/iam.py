"""Least-privilege rules over every IAM document a stack can carry.

Identity policies (role inline policies, policy resources, user/group policies), resource
policies (S3, SQS, SNS, ECR, API Gateway, EventBridge, KMS, Secrets Manager), role trust policies
and Lambda permissions. Each rule names the resource, the statement and the fix.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pulumi_policy import ResourceValidationArgs, Severity

from serverless_patterns.policies.core import (
    DocumentError,
    Statement,
    as_list,
    is_wildcard_action,
    parse_document,
    prop,
    resource_rule,
)
from serverless_patterns.policies.knowledge import (
    ADMIN_MANAGED_POLICY_NAMES,
    CONFUSED_DEPUTY_CONDITION_KEYS,
    ORGANIZATION_CONDITION_KEYS,
    UNSCOPABLE_ACTIONS,
    is_service_principal,
    is_unscopable,
)

#: type -> property holding an identity policy document
IDENTITY_POLICY_TYPES: dict[str, str] = {
    "aws:iam/rolePolicy:RolePolicy": "policy",
    "aws:iam/policy:Policy": "policy",
    "aws:iam/userPolicy:UserPolicy": "policy",
    "aws:iam/groupPolicy:GroupPolicy": "policy",
}
#: type -> property holding a resource policy document (statements with a Principal)
RESOURCE_POLICY_TYPES: dict[str, str] = {
    "aws:s3/bucketPolicy:BucketPolicy": "policy",
    "aws:s3/bucket:Bucket": "policy",
    "aws:sqs/queuePolicy:QueuePolicy": "policy",
    "aws:sqs/queue:Queue": "policy",
    "aws:sns/topicPolicy:TopicPolicy": "policy",
    "aws:sns/topic:Topic": "policy",
    "aws:ecr/repositoryPolicy:RepositoryPolicy": "policy",
    "aws:ecr/registryPolicy:RegistryPolicy": "policy",
    "aws:apigateway/restApiPolicy:RestApiPolicy": "policy",
    "aws:apigateway/restApi:RestApi": "policy",
    "aws:cloudwatch/eventBusPolicy:EventBusPolicy": "policy",
    "aws:kms/key:Key": "policy",
    "aws:kms/keyPolicy:KeyPolicy": "policy",
    "aws:secretsmanager/secretPolicy:SecretPolicy": "policy",
}
ROLE = "aws:iam/role:Role"
LAMBDA_PERMISSION = "aws:lambda/permission:Permission"
ATTACHMENT_TYPES: dict[str, str] = {
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": "policyArn",
    "aws:iam/policyAttachment:PolicyAttachment": "policyArn",
    "aws:iam/userPolicyAttachment:UserPolicyAttachment": "policyArn",
    "aws:iam/groupPolicyAttachment:GroupPolicyAttachment": "policyArn",
}
#: type -> property holding a list of attached policy ARNs (the "exclusive" attachment resources)
EXCLUSIVE_ATTACHMENT_TYPES: dict[str, str] = {
    "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive": "policyArns",
    "aws:iam/userPolicyAttachmentsExclusive:UserPolicyAttachmentsExclusive": "policyArns",
    "aws:iam/groupPolicyAttachmentsExclusive:GroupPolicyAttachmentsExclusive": "policyArns",
}
DOCUMENT_TYPES = frozenset({*IDENTITY_POLICY_TYPES, *RESOURCE_POLICY_TYPES, ROLE})


@dataclass
class Document:
    """One policy document of a resource: where it sits and what kind it is."""

    where: str  # e.g. "policy", "inlinePolicies[0] 'app'", "assumeRolePolicy"
    kind: str  # "identity" | "resource" | "trust"
    value: Any


def documents(args: ResourceValidationArgs) -> Iterator[Document]:
    """Every policy document the resource carries (values may be JSON text or objects)."""
    props = args.props
    typ = args.resource_type
    if typ in IDENTITY_POLICY_TYPES:
        value = prop(props, IDENTITY_POLICY_TYPES[typ])
        if value not in (None, ""):
            yield Document(IDENTITY_POLICY_TYPES[typ], "identity", value)
    elif typ in RESOURCE_POLICY_TYPES:
        value = prop(props, RESOURCE_POLICY_TYPES[typ])
        if value not in (None, ""):
            yield Document(RESOURCE_POLICY_TYPES[typ], "resource", value)
    elif typ == ROLE:
        trust = prop(props, "assumeRolePolicy")
        if trust not in (None, ""):
            yield Document("assumeRolePolicy", "trust", trust)
        for index, inline in enumerate(as_list(prop(props, "inlinePolicies"))):
            if isinstance(inline, dict) and inline.get("policy") not in (None, ""):
                yield Document(f"inlinePolicies[{index}] {inline.get('name', '')!r}", "identity", inline["policy"])


def statements(args: ResourceValidationArgs, *kinds: str) -> Iterator[tuple[Document, Statement]]:
    """Statements of the resource's readable documents of the given kinds (malformed ones are skipped:
    `iam-policy-document-valid` reports them)."""
    for document in documents(args):
        if kinds and document.kind not in kinds:
            continue
        try:
            parsed = parse_document(document.value)
        except DocumentError:
            continue
        for statement in parsed:
            yield document, statement


def _where(args: ResourceValidationArgs, document: Document, statement: Statement) -> str:
    return f"{args.resource_type.split(':')[-1]} {args.name!r} {document.where} {statement.label()}"


# --------------------------------------------------------------------------- rules


def check_document_valid(args: ResourceValidationArgs) -> Iterator[str]:
    for document in documents(args):
        try:
            parse_document(document.value)
        except DocumentError as error:
            text = document.value if isinstance(document.value, str) else repr(document.value)
            shown = text if len(text) <= 200 else text[:197] + "..."
            yield (f"{args.name!r} {document.where}: {error}. The document was: {shown}. Fix: build the "
                   f"document as data (components.core.iam.document or json.dumps), not by string pasting.")


def check_wildcard_actions(args: ResourceValidationArgs) -> Iterator[str]:
    if args.resource_type == LAMBDA_PERMISSION:
        action = prop(args.props, "action", "")
        if is_wildcard_action(str(action)):
            yield (f"Permission {args.name!r} grants action {action!r}. Fix: grant exactly "
                   f"'lambda:InvokeFunction' (or the one action the caller needs).")
        return
    for document, statement in statements(args):
        if not statement.allows:
            continue
        if args.resource_type in KMS_KEY_TYPES and _delegates_to_account(statement):
            continue
        wild = [a for a in statement.actions if is_wildcard_action(a)]
        if wild:
            yield (f"{_where(args, document, statement)} allows {', '.join(repr(a) for a in wild)}: "
                   f"{statement.show()}. Fix: list the exact actions needed (e.g. 's3:GetObject', not 's3:*').")
        if statement.not_actions:
            yield (f"{_where(args, document, statement)} uses Allow with NotAction, which grants every other "
                   f"action of every service: {statement.show()}. Fix: use Allow with an explicit Action list.")


KMS_KEY_TYPES = frozenset({"aws:kms/key:Key", "aws:kms/keyPolicy:KeyPolicy"})
_ACCOUNT_ROOT = re.compile(r"^(arn:[\w-]+:iam::\d{12}:root|\d{12})$")


def _delegates_to_account(statement: Statement) -> bool:
    """The key-policy statement AWS creates by default: `kms:*` to an account root, which grants nothing by
    itself but lets that account's IAM policies grant access to the key."""
    principals = statement.principals()
    return (set(principals) == {"AWS"} and all(_ACCOUNT_ROOT.match(p) for p in principals["AWS"])
            and [a.lower() for a in statement.actions] == ["kms:*"] and not statement.not_actions)


def check_wildcard_resources(args: ResourceValidationArgs) -> Iterator[str]:
    for document, statement in statements(args, "identity"):
        if not statement.allows:
            continue
        if statement.not_resources:
            yield (f"{_where(args, document, statement)} uses Allow with NotResource, which grants the actions on "
                   f"every other resource: {statement.show()}. Fix: list the resource ARNs.")
        if "*" not in statement.resources:
            continue
        scoped = [a for a in statement.actions if not is_unscopable(a)]
        if scoped:
            yield (f"{_where(args, document, statement)} grants {', '.join(scoped)} on Resource '*': "
                   f"{statement.show()}. Fix: scope these actions to the exact ARNs they act on; only actions AWS "
                   f"cannot scope may use '*' (policies/knowledge.py UNSCOPABLE_ACTIONS: "
                   f"{', '.join(sorted(UNSCOPABLE_ACTIONS)[:6])}, ...).")


def _admin_policy(arn: str) -> str | None:
    """The policy name if `arn` is an AWS-managed administrator or *FullAccess policy."""
    if not isinstance(arn, str) or ":iam::aws:policy/" not in arn:
        return None
    name = arn.rsplit("/", 1)[-1]
    if name in ADMIN_MANAGED_POLICY_NAMES or "FullAccess" in name or name.startswith("AdministratorAccess"):
        return name
    return None


def check_admin_managed(args: ResourceValidationArgs) -> Iterator[str]:
    if args.resource_type == ROLE:
        arns = as_list(prop(args.props, "managedPolicyArns"))
    elif args.resource_type in EXCLUSIVE_ATTACHMENT_TYPES:
        arns = as_list(prop(args.props, EXCLUSIVE_ATTACHMENT_TYPES[args.resource_type]))
    else:
        arns = [prop(args.props, ATTACHMENT_TYPES[args.resource_type])]
    for arn in arns:
        name = _admin_policy(arn)
        if name:
            yield (f"{args.name!r} attaches the AWS-managed policy {name!r} ({arn}), which grants administrator "
                   f"or service-wide access. Fix: replace it with an inline policy of the exact actions on the "
                   f"exact ARNs the role needs.")


def check_service_principal_conditions(args: ResourceValidationArgs) -> Iterator[str]:
    if args.resource_type == LAMBDA_PERMISSION:
        principal = str(prop(args.props, "principal", ""))
        if not (is_service_principal(principal) or principal == "*"):
            return
        if prop(args.props, "sourceArn") or prop(args.props, "sourceAccount") or prop(args.props, "principalOrgId"):
            return
        yield (f"Permission {args.name!r} lets {principal!r} invoke the function from any source (no sourceArn "
               f"or sourceAccount): any {principal} resource, in any account, could invoke it (confused deputy). "
               f"Fix: set source_arn (e.g. the API's execution ARN + '/*/*') and source_account.")
        return
    for document, statement in statements(args, "resource"):
        if not statement.allows:
            continue
        services = [s for s in statement.principals().get("Service", []) if is_service_principal(s)]
        if not services:
            continue
        if statement.condition_keys() & CONFUSED_DEPUTY_CONDITION_KEYS:
            continue
        if args.resource_type in ("aws:kms/key:Key", "aws:kms/keyPolicy:KeyPolicy") and any(
                k.startswith("kms:encryptioncontext:") for k in statement.condition_keys()):
            continue
        yield (f"{_where(args, document, statement)} grants the service principal(s) {', '.join(services)} "
               f"without aws:SourceArn / aws:SourceAccount: {statement.show()}. Fix: add a Condition such as "
               f"{{'ArnLike': {{'aws:SourceArn': '<the calling resource ARN>'}}, "
               f"'StringEquals': {{'aws:SourceAccount': '<account>'}}}}.")


def check_trust_principals(args: ResourceValidationArgs) -> Iterator[str]:
    for document, statement in statements(args, "trust"):
        if not statement.allows:
            continue
        if statement.not_principal is not None:
            yield (f"{_where(args, document, statement)} trusts everyone except NotPrincipal: {statement.show()}. "
                   f"Fix: name the service principal or the accounts that may assume the role.")
            continue
        principals = statement.principals()
        broad = [p for p in principals.get("*", []) + principals.get("AWS", []) if "*" in p]
        if not principals:
            yield (f"{_where(args, document, statement)} has no Principal: {statement.show()}. Fix: name the "
                   f"service principal (e.g. 'lambda.amazonaws.com') or the accounts that may assume the role.")
        elif broad:
            org = statement.condition_keys() & ORGANIZATION_CONDITION_KEYS
            suffix = " (an organization condition narrows who, but any role in it could assume this one)" if org \
                else ""
            yield (f"{_where(args, document, statement)} lets principal {', '.join(broad)} assume the role"
                   f"{suffix}: {statement.show()}. Fix: name the service principal or explicit account ids / role "
                   f"ARNs.")


POLICIES = [
    resource_rule(
        "iam-policy-document-valid",
        "IAM policy documents must be valid JSON with Effect/Statement, so IAM and this pack can read them.",
        check_document_valid, types=DOCUMENT_TYPES, severity=Severity.HIGH,
        remediation="Build the document as data (components.core.iam.document) and let Pulumi serialise it."),
    resource_rule(
        "iam-no-wildcard-actions",
        "No '*' or 'service:*' actions (nor Allow+NotAction) in any IAM policy.",
        check_wildcard_actions, types=DOCUMENT_TYPES | {LAMBDA_PERMISSION}, severity=Severity.CRITICAL,
        cdk_nag="AwsSolutions-IAM5 (actions)",
        remediation="List the exact actions the principal needs."),
    resource_rule(
        "iam-no-wildcard-resources",
        "Identity policies use Resource '*' only for actions AWS cannot scope to a resource.",
        check_wildcard_resources, types=set(IDENTITY_POLICY_TYPES) | {ROLE}, severity=Severity.HIGH,
        cdk_nag="AwsSolutions-IAM5 (resources)",
        remediation="Scope every action to the ARNs it acts on; see policies/knowledge.py for the allow-list."),
    resource_rule(
        "iam-no-admin-managed-policies",
        "No AWS-managed administrator or *FullAccess policy attached to a role, user or group.",
        check_admin_managed, types={ROLE, *ATTACHMENT_TYPES, *EXCLUSIVE_ATTACHMENT_TYPES}, severity=Severity.CRITICAL,
        cdk_nag="AwsSolutions-IAM4 (narrower: admin/FullAccess only)",
        remediation="Replace the managed policy with an inline least-privilege policy."),
    resource_rule(
        "iam-service-principal-source-condition",
        "Permissions for AWS service principals carry aws:SourceArn or aws:SourceAccount (confused deputy).",
        check_service_principal_conditions, types=set(RESOURCE_POLICY_TYPES) | {LAMBDA_PERMISSION},
        severity=Severity.HIGH,
        remediation="Add source_arn/source_account (Lambda permissions) or an aws:SourceArn/aws:SourceAccount "
                    "condition (resource policies)."),
    resource_rule(
        "iam-trust-policy-principal",
        "Role trust policies name a service principal or explicit accounts, never '*'.",
        check_trust_principals, types={ROLE}, severity=Severity.CRITICAL,
        remediation="Use components.core.iam.service_trust(...) or name the trusted account/role ARNs."),
]
