"""Least-privilege rules over every IAM document a stack can carry.

Identity policies, resource policies and trust policies of every type `policies/coverage.py` lists, and
Lambda permissions. Conditions are judged by what they mean (`policies/conditions.py`). Each rule names
the resource, the statement and the fix.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pulumi_policy import ResourceValidationArgs, Severity

from serverless_patterns.policies.conditions import judge, principal_kind
from serverless_patterns.policies.core import (
    DocumentError,
    Statement,
    as_list,
    is_partial_wildcard_action,
    is_wildcard_action,
    parse_document,
    prop,
    resource_rule,
)
from serverless_patterns.policies.coverage import (
    IDENTITY_DOCUMENTS,
    LAMBDA_PERMISSION,
    RESOURCE_DOCUMENTS,
    TRUST_DOCUMENTS,
)
from serverless_patterns.policies.knowledge import (
    ADMIN_MANAGED_POLICY_NAMES,
    UNSCOPABLE_ACTIONS,
    is_service_principal,
    is_unscopable,
)

ROLE = "aws:iam/role:Role"
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
DOCUMENT_TYPES = frozenset({*IDENTITY_DOCUMENTS, *RESOURCE_DOCUMENTS, *TRUST_DOCUMENTS})


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
    for table, kind in ((IDENTITY_DOCUMENTS, "identity"), (RESOURCE_DOCUMENTS, "resource"),
                        (TRUST_DOCUMENTS, "trust")):
        for name in table.get(typ, ()):
            value = prop(props, name)
            if value not in (None, ""):
                yield Document(name, kind, value)
    if typ == ROLE:
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


def check_partial_wildcard_actions(args: ResourceValidationArgs) -> Iterator[str]:
    if args.resource_type == LAMBDA_PERMISSION:
        action = str(prop(args.props, "action", ""))
        if is_partial_wildcard_action(action):
            yield (f"Permission {args.name!r} grants the action pattern {action!r}, which matches several Lambda "
                   f"actions (and any AWS adds later). Fix: grant exactly 'lambda:InvokeFunction' (or the one "
                   f"action the caller needs).")
        return
    for document, statement in statements(args):
        if not statement.allows:
            continue
        partial = [a for a in statement.actions if is_partial_wildcard_action(a)]
        if partial:
            yield (f"{_where(args, document, statement)} allows the action pattern(s) "
                   f"{', '.join(repr(a) for a in partial)}, which match every present and future action with that "
                   f"name shape (e.g. 's3:Get*' includes s3:GetObjectAcl, s3:GetBucketPolicy, ...): "
                   f"{statement.show()}. Fix: list the exact actions needed, or suppress this rule on this resource "
                   f"with the reason the pattern is needed.")


KMS_KEY_TYPES = frozenset(t for t in RESOURCE_DOCUMENTS if t.startswith("aws:kms/"))
_ACCOUNT_ROOT = re.compile(r"^(arn:[\w-]+:iam::\d{12}:root|\d{12})$")


def _delegates_to_account(statement: Statement) -> bool:
    """The key-policy statement AWS creates by default: `kms:*` to an account root, which grants nothing by
    itself but lets that account's IAM policies grant access to the key."""
    principals = statement.principals()
    return (set(principals) == {"AWS"} and all(_ACCOUNT_ROOT.fullmatch(p) for p in principals["AWS"])
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


#: KMS key policies may tie a service principal to its source through the encryption context instead
#: (e.g. CloudWatch Logs: ArnLike kms:EncryptionContext:aws:logs:arn, KMS developer guide).
KMS_CONTEXT_KEYS = {"kms:encryptioncontext:*": "context"}


def permission_conditions(props: Any) -> dict[str, dict[str, Any]]:
    """A Lambda permission's source fields as the Condition AWS writes into the function policy
    (Lambda API reference, AddPermission: SourceArn -> ArnLike AWS:SourceArn, SourceAccount -> StringEquals
    AWS:SourceAccount, PrincipalOrgID -> StringEquals aws:PrincipalOrgID)."""
    conditions: dict[str, dict[str, Any]] = {}
    if prop(props, "sourceArn"):
        conditions["ArnLike"] = {"aws:SourceArn": prop(props, "sourceArn")}
    equals = {key: prop(props, name) for name, key in (("sourceAccount", "aws:SourceAccount"),
                                                         ("principalOrgId", "aws:PrincipalOrgID"))
              if prop(props, name)}
    if equals:
        conditions["StringEquals"] = equals
    return conditions


def check_service_principal_conditions(args: ResourceValidationArgs) -> Iterator[str]:
    if args.resource_type == LAMBDA_PERMISSION:
        principal = str(prop(args.props, "principal", ""))
        if not (is_service_principal(principal) or principal == "*"):
            return
        kind = principal_kind(principal, service=True)
        verdict = judge(permission_conditions(args.props), kind)
        if verdict:
            return
        yield (f"Permission {args.name!r} lets {principal!r} invoke the function from any source: "
               f"{verdict.explain()}. Any {principal} resource, in any account, could invoke it (confused deputy). "
               f"Fix: set source_arn to the exact calling resource (e.g. the API's execution ARN + '/*/*') and "
               f"source_account to its 12-digit account id.")
        return
    extra = KMS_CONTEXT_KEYS if args.resource_type in KMS_KEY_TYPES else None
    for document, statement in statements(args, "resource"):
        if not statement.allows:
            continue
        services = [s for s in statement.principals().get("Service", []) if is_service_principal(s)]
        if not services:
            continue
        verdict = judge(statement.conditions, "service", extra)
        if verdict:
            continue
        yield (f"{_where(args, document, statement)} grants the service principal(s) {', '.join(services)} "
               f"to any source resource, in any account: {verdict.explain()}. Statement: {statement.show()}. Fix: "
               f"add a Condition such as {{'ArnLike': {{'aws:SourceArn': '<the calling resource ARN>'}}, "
               f"'StringEquals': {{'aws:SourceAccount': '<account id>'}}}} (positive operators, concrete values).")


def check_trust_principals(args: ResourceValidationArgs) -> Iterator[str]:
    for document, statement in statements(args, "trust"):
        if not statement.allows:
            continue
        if statement.not_principal is not None:
            yield (f"{_where(args, document, statement)} trusts everyone except NotPrincipal: {statement.show()}. "
                   f"Fix: name the service principal or the accounts that may assume the role.")
            continue
        principals = statement.principals()
        broad = [p for p in principals.get("*", []) + principals.get("AWS", []) if "*" in p or "?" in p]
        if not principals:
            yield (f"{_where(args, document, statement)} has no Principal: {statement.show()}. Fix: name the "
                   f"service principal (e.g. 'lambda.amazonaws.com') or the accounts that may assume the role.")
        elif broad:
            verdict = judge(statement.conditions, "aws")
            if verdict:
                why = (f" ({', '.join(verdict.restricting)} narrows who, but any role it admits could assume this "
                       f"one)")
            else:
                why = f" ({verdict.explain()})"
            yield (f"{_where(args, document, statement)} lets principal {', '.join(broad)} assume the role{why}: "
                   f"{statement.show()}. Fix: name the service principal or explicit account ids / role ARNs.")


#: Resource policies where Principal '*' is the norm and grants nothing by itself: endpoint policies only
#: filter the requests that pass through the endpoint (each caller still needs its own IAM permission).
ENDPOINT_POLICY_TYPES = frozenset({"aws:ec2/vpcEndpoint:VpcEndpoint", "aws:ec2/vpcEndpointPolicy:VpcEndpointPolicy",
                                   "aws:odb/network:Network"})
#: ECR repository policies and creation templates: `ecr-repository-policy-pull-only` judges their '*'.
ECR_POLICY_TYPES = frozenset({"aws:ecr/repositoryPolicy:RepositoryPolicy",
                              "aws:ecr/repositoryCreationTemplate:RepositoryCreationTemplate"})
#: KMS key policies may limit '*' to the calling account (kms:CallerAccount, KMS developer guide).
KMS_CALLER_KEYS = {"kms:calleraccount": "account", **KMS_CONTEXT_KEYS}


def check_public_principal(args: ResourceValidationArgs) -> Iterator[str]:
    if args.resource_type in ENDPOINT_POLICY_TYPES | ECR_POLICY_TYPES:
        return
    extra = KMS_CALLER_KEYS if args.resource_type in KMS_KEY_TYPES else None
    for document, statement in statements(args, "resource"):
        if not statement.allows:
            continue
        if statement.not_principal is not None:
            yield (f"{_where(args, document, statement)} allows everyone except its NotPrincipal: "
                   f"{statement.show()}. Fix: name the principals in Principal.")
            continue
        principals = statement.principals()
        if "*" not in principals.get("*", []) + principals.get("AWS", []):
            continue
        verdict = judge(statement.conditions, "any", extra)
        if verdict:
            continue
        yield (f"{_where(args, document, statement)} allows Principal '*', so any AWS account (or anonymous caller) "
               f"may use it: {verdict.explain()}. Statement: {statement.show()}. Fix: name the accounts, roles or "
               f"service principals, or add a restricting condition such as StringEquals aws:PrincipalOrgID "
               f"'<o-...>' or aws:SourceAccount '<account id>'; for intended public access, suppress this rule on "
               f"this resource with the reason.")


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
        "iam-no-partial-wildcard-actions",
        "No action patterns such as 's3:Get*' in Allow statements of any IAM policy or Lambda permission.",
        check_partial_wildcard_actions, types=DOCUMENT_TYPES | {LAMBDA_PERMISSION}, severity=Severity.MEDIUM,
        cdk_nag="AwsSolutions-IAM5 (partial action wildcards)",
        remediation="List the exact actions, or suppress with the reason the pattern is needed."),
    resource_rule(
        "iam-no-wildcard-resources",
        "Identity policies use Resource '*' only for actions AWS cannot scope to a resource.",
        check_wildcard_resources, types=set(IDENTITY_DOCUMENTS) | {ROLE}, severity=Severity.HIGH,
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
        check_service_principal_conditions, types=set(RESOURCE_DOCUMENTS) | {LAMBDA_PERMISSION},
        severity=Severity.HIGH,
        remediation="Add source_arn/source_account (Lambda permissions) or an aws:SourceArn/aws:SourceAccount "
                    "condition (resource policies)."),
    resource_rule(
        "iam-resource-policy-public-principal",
        "Resource policies allow Principal '*' (or NotPrincipal) only with a condition that restricts the caller.",
        check_public_principal, types=set(RESOURCE_DOCUMENTS), severity=Severity.CRITICAL,
        remediation="Name the principals, or add aws:PrincipalOrgID / aws:PrincipalAccount / aws:SourceAccount."),
    resource_rule(
        "iam-trust-policy-principal",
        "Role trust policies name a service principal or explicit accounts, never '*'.",
        check_trust_principals, types={ROLE}, severity=Severity.CRITICAL,
        remediation="Use components.core.iam.service_trust(...) or name the trusted account/role ARNs."),
]
