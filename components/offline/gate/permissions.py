"""Permissions a call needs: every function's AWS calls, and the calls of state machines, against their roles.

Each function folder declares the calls of each handler module in `aws_calls.json` (botocore
`service:Operation`, the resource as an ARN template over the function's environment, and `actions`
where the IAM actions are not the call's own, e.g. sts:TagSession with AssumeRole, and `role` where the
call runs with the credentials of a role the function assumes); a test keeps the file honest against the
code. The gate resolves the templates with the function's environment, account
and Region, maps each call to its IAM action(s) and checks the function's role grants them.

Some permissions change AWS's answers rather than allow a call: without `s3:ListBucket` on the bucket,
S3 answers HeadObject/GetObject for a missing key with 403 instead of 404 (`ANSWER_CHANGING`). Those are
required of functions and of state machine roles alike.
"""

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from serverless_patterns.offline.engine import CapturedStack
from serverless_patterns.offline.gate.asl import each_task
from serverless_patterns.offline.gate.iam import fits
from serverless_patterns.offline.gate.report import Finding, GateReport, Unchecked
from serverless_patterns.offline.gate.values import secret_value
from serverless_patterns.offline.mocks import CapturedResource

MANIFEST = "aws_calls.json"
HEAD_OBJECT_DOC = ("S3 API reference, HeadObject, Permissions: without s3:ListBucket a missing key is 403, "
                   "https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html")
GET_OBJECT_DOC = ("S3 API reference, GetObject, Permissions: without s3:ListBucket a missing key is 403, "
                  "https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html")

#: botocore service -> IAM service prefix, where they differ.
IAM_PREFIX = {"stepfunctions": "states", "apigatewaymanagementapi": "execute-api", "sesv2": "ses",
              "cognito-idp": "cognito-idp", "logs": "logs"}
#: Calls whose IAM action is not `<prefix>:<Operation>` (Service Authorization Reference).
CALL_ACTIONS: dict[str, tuple[str, ...]] = {
    "s3:HeadObject": ("s3:GetObject",),
    "s3:HeadBucket": ("s3:ListBucket",),
    "s3:ListObjectsV2": ("s3:ListBucket",),
    "apigatewaymanagementapi:PostToConnection": ("execute-api:ManageConnections",),
    "apigatewaymanagementapi:GetConnection": ("execute-api:ManageConnections",),
    "apigatewaymanagementapi:DeleteConnection": ("execute-api:ManageConnections",),
    "lambda:Invoke": ("lambda:InvokeFunction",),
}
#: Calls whose answer depends on a further permission: call -> (action, resource derived from the object ARN, doc).
ANSWER_CHANGING: dict[str, tuple[str, str]] = {
    "s3:HeadObject": ("s3:ListBucket", HEAD_OBJECT_DOC),
    "s3:GetObject": ("s3:ListBucket", GET_OBJECT_DOC),
}
FUNCTION = "aws:lambda/function:Function"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
STATE_MACHINE = "aws:sfn/stateMachine:StateMachine"


@dataclass(frozen=True)
class Need:
    action: str
    resource: str
    why: str
    source: str
    #: ARN of the role whose credentials make the call (a role the function assumes); None: the owner's role.
    role: str | None = None


def iam_actions(call: str) -> tuple[str, ...]:
    """The IAM actions a botocore `service:Operation` call needs."""
    if call in CALL_ACTIONS:
        return CALL_ACTIONS[call]
    service, operation = call.split(":", 1)
    return (f"{IAM_PREFIX.get(service, service)}:{operation}",)


def bucket_of(object_arn: str) -> str:
    """`arn:aws:s3:::bucket` of `arn:aws:s3:::bucket/key` (or of the bucket ARN itself)."""
    return object_arn.split("/", 1)[0]


@cache
def manifest(folder: str) -> dict[str, Any] | None:
    path = Path(folder) / MANIFEST
    return json.loads(path.read_text()) if path.exists() else None


def _handler_source(function: CapturedResource) -> tuple[Path, str] | None:
    """(folder, handler module) of a zip function, from its code archive."""
    code = function.inputs.get("code")
    assets = getattr(code, "assets", None)
    if not assets:
        return None
    module = str(function.inputs.get("handler", "app.handler")).rsplit(".", 1)[0]
    source = assets.get(f"{module}.py")
    path = getattr(source, "path", None)
    return (Path(path).resolve().parent, module) if path else None


def _resolve(template: str, env: Mapping[str, Any], place: Mapping[str, str]) -> str | None:
    missing = False

    def value(match: re.Match[str]) -> str:
        nonlocal missing
        name = match.group(1)
        if name.startswith("env:"):
            found = env.get(name[4:])
            if not isinstance(found, str):
                missing = True
                return ""
            return found
        return place.get(name, "*")

    resolved = re.sub(r"\$\{([^}]+)\}", value, template)
    return None if missing else resolved


def _place(arn: str) -> dict[str, str]:
    parts = arn.split(":")
    return {"Partition": parts[1], "Region": parts[3], "Account": parts[4]} if len(parts) > 5 else {}


def grants_of(stack: CapturedStack, role: CapturedResource) -> list[tuple[str, str]]:
    """(action, resource) pairs the role's inline policies and RolePolicy resources allow."""
    documents = [item.get("policy") for item in role.inputs.get("inlinePolicies") or [] if isinstance(item, dict)]
    names = {role.outputs.get("name"), role.outputs.get("id"), role.id, role.outputs.get("arn")} - {None, ""}
    documents += [p.inputs.get("policy") for p in stack.of_type(ROLE_POLICY) if p.inputs.get("role") in names]
    grants = []
    for document in documents:
        document = secret_value(document)
        try:
            parsed = json.loads(document) if isinstance(document, str) else document
        except ValueError:
            continue  # the IAM check reports unparseable documents
        statements = parsed.get("Statement") if isinstance(parsed, Mapping) else None
        for statement in statements if isinstance(statements, list) else [statements]:
            if not isinstance(statement, Mapping) or statement.get("Effect") != "Allow" or "Action" not in statement:
                continue
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            resources = statement.get("Resource", "*")
            for action in actions:
                for resource in resources if isinstance(resources, list) else [resources]:
                    grants.append((str(action), str(resource)))
    return grants


def _action_matches(granted: str, needed: str) -> bool:
    pattern = re.escape(granted.lower()).replace(r"\*", ".*").replace(r"\?", ".")
    return re.fullmatch(pattern, needed.lower()) is not None


def satisfied(need: Need, grants: list[tuple[str, str]]) -> bool:
    return any(_action_matches(action, need.action) and (resource == "*" or fits(need.resource, resource) or
                                                          fits(resource, need.resource))
               for action, resource in grants)


def _role(stack: CapturedStack, arn: Any) -> CapturedResource | None:
    return next((r for r in stack.of_type(ROLE) if r.outputs.get("arn") == arn), None)


def function_needs(function: CapturedResource) -> Iterator[Need] | None:
    """What a zip function's handler needs, or None if its calls are not declared."""
    found = _handler_source(function)
    if found is None:
        return None
    folder, module = found
    declared = manifest(str(folder))
    if declared is None or module not in declared:
        return None
    env = (function.inputs.get("environment") or {}).get("variables") or {}
    place = _place(str(function.outputs.get("arn", "")))
    return _needs_of(declared[module], env, place, f"{folder.name}/{MANIFEST} ({module})")


def _needs_of(calls: list[dict[str, Any]], env: Mapping[str, Any], place: Mapping[str, str], where: str
              ) -> Iterator[Need]:
    for call in calls:
        if "when_env" in call and not env.get(call["when_env"]):
            continue
        if "unless_env" in call and env.get(call["unless_env"]):
            continue
        resource = _resolve(call["resource"], env, place)
        role = _resolve(call["role"], env, place) if "role" in call else None
        if resource is None or ("role" in call and role is None):
            continue
        for action in call.get("actions") or iam_actions(call["call"]):
            yield Need(action, resource, f"{call['call']} declared in {where}", where, role)
        if call["call"] in ANSWER_CHANGING:
            action, doc = ANSWER_CHANGING[call["call"]]
            yield Need(action, bucket_of(resource), f"{call['call']} answers a missing key with 403 instead of "
                                                    f"404 without it", doc, role)


def machine_needs(machine: CapturedResource) -> Iterator[Need]:
    """The answer-changing permissions of a state machine's tasks (the pack checks the rest of its role)."""
    try:
        definition = json.loads(secret_value(machine.inputs.get("definition")) or "")
    except (TypeError, ValueError):
        return
    for path, state in each_task(definition):
        resource = str(state.get("Resource", ""))
        match = re.fullmatch(r"arn:[\w-]+:states:::aws-sdk:s3:(headObject|getObject)", resource)
        params = state.get("Parameters") or state.get("Arguments") or {}
        if not match or not isinstance(params, Mapping):
            continue
        bucket = params.get("Bucket")
        partition = str(machine.outputs.get("arn", "arn:aws")).split(":")[1]
        target = f"arn:{partition}:s3:::{bucket}" if isinstance(bucket, str) else f"arn:{partition}:s3:::*"
        call = "s3:" + match.group(1)[0].upper() + match.group(1)[1:]
        action, doc = ANSWER_CHANGING[call]
        yield Need(action, target, f"{call} at {path} answers a missing key with 403 instead of 404 without it", doc)


def check(stack: CapturedStack, report: GateReport) -> None:
    for function in stack.of_type(FUNCTION):
        needs = function_needs(function)
        if needs is None:
            report.unchecked.append(Unchecked(function.type, function.name, "(calls)",
                                              f"no {MANIFEST} entry declares this handler's AWS calls"
                                              if function.inputs.get("code") else "an image function"))
            continue
        wanted = list(needs)
        _check_role(stack, function, [n for n in wanted if n.role is None], report)
        for assumed in sorted({n.role for n in wanted if n.role is not None}):
            _check_role(stack, function, [n for n in wanted if n.role == assumed], report, role_arn=assumed)
    for machine in stack.of_type(STATE_MACHINE):
        machine_wants = list(machine_needs(machine))
        if machine_wants:
            _check_role(stack, machine, machine_wants, report)


def _check_role(stack: CapturedStack, owner: CapturedResource, needs: list[Need], report: GateReport, *,
                role_arn: str | None = None) -> None:
    """Check `needs` against the owner's role, or against the role `role_arn` it assumes."""
    role = _role(stack, role_arn if role_arn is not None else owner.inputs.get("role") or owner.inputs.get("roleArn"))
    if role is None:
        where = f"the role it assumes ({role_arn})" if role_arn else "the role"
        report.unchecked.append(Unchecked(owner.type, owner.name, "role", f"{where} is not in this stack"))
        return
    if role_arn is None:
        report.counts["functions" if owner.type == FUNCTION else "workflows"] += 1
    grants = grants_of(stack, role)
    reported: set[tuple[str, str]] = set()
    for need in needs:
        if (need.action, need.resource) in reported or satisfied(need, grants):
            continue
        reported.add((need.action, need.resource))
        report.findings.append(Finding(
            owner.type, owner.name, "role", role.name,
            f"role {role.name!r} does not grant {need.action} on {need.resource} ({need.why})", need.source))
