"""Ordering: a resource that AWS only creates once a grant exists must depend on that grant.

- An image function whose image lives in another account's ECR repository: Lambda's CreateFunction checks
  that it may pull the image (the repository policy must grant it), so the function depends on the
  repository policy.
- An API Gateway stage with access logging: API Gateway refuses the log destination until the account's
  CloudWatch Logs role is set (`aws:apigateway/account:Account`), so the stage depends on that setting.

Dependencies count transitively, through explicit `depends_on`, inputs and components (a dependency on a
component is a dependency on everything in it).
"""

import re
from collections.abc import Iterable

from serverless_patterns.offline.engine import CapturedStack
from serverless_patterns.offline.gate.report import Finding, GateReport, Unchecked
from serverless_patterns.offline.mocks import CapturedResource

ECR_DOC = ("Lambda developer guide, container images, permissions for cross-account images, "
           "https://docs.aws.amazon.com/lambda/latest/dg/images-create.html#configuration-images-xaccount-permissions")
APIGW_DOC = ("API Gateway developer guide, permissions for CloudWatch logging (the account's CloudWatch role ARN), "
             "https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-logging.html")
_IMAGE = re.compile(r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[\w-]+)\.[\w.]+/(?P<repo>[^:@]+)")


class _Graph:
    def __init__(self, stack: CapturedStack) -> None:
        self.by_urn = {r.urn: r for r in stack.resources}
        self.children: dict[str, list[str]] = {}
        for resource in stack.resources:
            self.children.setdefault(resource.parent, []).append(resource.urn)
        self._closure: dict[str, frozenset[str]] = {}

    def direct(self, urn: str) -> Iterable[str]:
        resource = self.by_urn.get(urn)
        if resource is None:
            return ()
        found = set(resource.dependencies)
        for urns in resource.property_dependencies.values():
            found.update(urns)
        return found

    def depends_on(self, urn: str) -> frozenset[str]:
        """Everything `urn` waits for, transitively (components expanded to their descendants)."""
        if urn in self._closure:
            return self._closure[urn]
        seen: set[str] = set()
        todo = list(self.direct(urn))
        while todo:
            current = todo.pop()
            if current in seen:
                continue
            seen.add(current)
            todo.extend(self.direct(current))
            todo.extend(self.children.get(current, ()))
        self._closure[urn] = frozenset(seen)
        return self._closure[urn]


def _account(resource: CapturedResource) -> str:
    parts = str(resource.outputs.get("arn", "")).split(":")
    return parts[4] if len(parts) > 4 else ""


def check(stack: CapturedStack, report: GateReport) -> None:
    graph = _Graph(stack)
    policies: dict[str, list[CapturedResource]] = {}
    for policy in stack.of_type("aws:ecr/repositoryPolicy:RepositoryPolicy"):
        policies.setdefault(str(policy.inputs.get("repository")), []).append(policy)
    for function in stack.of_type("aws:lambda/function:Function"):
        match = _IMAGE.match(str(function.inputs.get("imageUri", "")))
        if not match or match.group("account") == _account(function):
            continue
        report.counts["orderings"] += 1
        grants = policies.get(match.group("repo"), [])
        if not grants:
            report.unchecked.append(Unchecked(function.type, function.name, "imageUri",
                                              f"the policy of repository {match.group('repo')!r} is not in this "
                                              f"stack"))
            continue
        waits = graph.depends_on(function.urn)
        if not any(policy.urn in waits for policy in grants):
            report.findings.append(Finding(
                function.type, function.name, "dependsOn", function.inputs.get("imageUri"),
                f"the image is in account {match.group('account')}: the function must depend on the repository "
                f"policy {grants[0].name!r} that lets account {_account(function)} pull it, or CreateFunction can "
                f"run before the grant exists", ECR_DOC))
    accounts = stack.of_type("aws:apigateway/account:Account")
    for stage in stack.of_type("aws:apigateway/stage:Stage") + stack.of_type("aws:apigatewayv2/stage:Stage"):
        if not stage.inputs.get("accessLogSettings"):
            continue
        same = [a for a in accounts if a.provider == stage.provider]
        if not same:
            report.unchecked.append(Unchecked(stage.type, stage.name, "accessLogSettings",
                                              "the account's API Gateway CloudWatch role setting is not in this stack"))
            continue
        report.counts["orderings"] += 1
        if not any(a.urn in graph.depends_on(stage.urn) for a in same):
            report.findings.append(Finding(
                stage.type, stage.name, "dependsOn", stage.inputs.get("accessLogSettings"),
                f"a stage with access logging must depend on the account's CloudWatch role setting "
                f"{same[0].name!r}, or API Gateway refuses the log destination", APIGW_DOC))
