"""Ordering: a resource that AWS only creates once a grant exists must depend on that grant.

- An image function whose image lives in another account's ECR repository: Lambda's CreateFunction checks
  that it may pull the image (the repository policy must grant it), so the function depends on the
  repository policy.
- An API Gateway stage with access logging: API Gateway refuses the log destination until the account's
  CloudWatch Logs role is set (`aws:apigateway/account:Account`), so the stage depends on that setting.
- A state machine with logging: CreateStateMachine checks that its role may deliver logs and fails with
  AccessDeniedException "The state machine IAM Role is not authorized to access the Log Destination" when the
  role's policy granting `logs:CreateLogDelivery` is not attached yet, so the state machine depends on it.
- A CloudFront distribution with standard logging (legacy) to a bucket of this stack: CloudFront delivers
  logs through an ACL grant and CreateDistribution refuses a bucket whose ACLs are disabled ("The S3 bucket
  that you specified for CloudFront logs does not enable ACL access"); new buckets have ACLs disabled
  (BucketOwnerEnforced) until their ownership controls say otherwise, so the distribution depends on those.

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
SFN_LOGS_DOC = ("Step Functions developer guide, IAM policies for logging to CloudWatch Logs, "
                "https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html#cloudwatch-iam-policy")
CLOUDFRONT_LOGS_DOC = ("CloudFront developer guide, standard logging (legacy), permissions and bucket ownership, "
                       "https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/standard-logging-legacy-s3.html"
                       "#AccessLogsBucketAndFileOwnership")
#: Object ownership settings that keep a bucket's ACLs on (S3 PutBucketOwnershipControls, ObjectOwnership).
ACLS_ENABLED = ("BucketOwnerPreferred", "ObjectWriter")
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
    _state_machine_logging(stack, report, graph)
    _cloudfront_log_buckets(stack, report, graph)


def _state_machine_logging(stack: CapturedStack, report: GateReport, graph: _Graph) -> None:
    """A logging state machine must wait for the policy that lets its role deliver logs."""
    roles = {str(r.outputs.get("arn")): r for r in stack.of_type("aws:iam/role:Role") if r.outputs.get("arn")}
    policies = stack.of_type("aws:iam/rolePolicy:RolePolicy")
    for machine in stack.of_type("aws:sfn/stateMachine:StateMachine"):
        logging = machine.inputs.get("loggingConfiguration") or {}
        if not isinstance(logging, dict) or logging.get("level", "OFF") == "OFF":
            continue
        role = roles.get(str(machine.inputs.get("roleArn")))
        if role is None:
            report.unchecked.append(Unchecked(machine.type, machine.name, "roleArn",
                                              "the state machine's role is not in this stack"))
            continue
        names = {str(v) for v in (role.id, role.outputs.get("name"), role.outputs.get("id")) if v}
        grants = [p for p in policies if str(p.inputs.get("role")) in names
                  and "logs:CreateLogDelivery" in str(p.inputs.get("policy"))]
        if not grants:
            report.unchecked.append(Unchecked(machine.type, machine.name, "loggingConfiguration",
                                              f"no inline policy of role {role.name!r} in this stack grants "
                                              "logs:CreateLogDelivery"))
            continue
        report.counts["orderings"] += 1
        if not any(p.urn in graph.depends_on(machine.urn) for p in grants):
            report.findings.append(Finding(
                machine.type, machine.name, "dependsOn", logging.get("level"),
                f"a state machine with logging must depend on {grants[0].name!r}, the policy that lets its role "
                "deliver logs: CreateStateMachine fails with AccessDeniedException (the role is not authorized to "
                "access the log destination) when it runs before the policy is attached", SFN_LOGS_DOC))


def _cloudfront_log_buckets(stack: CapturedStack, report: GateReport, graph: _Graph) -> None:
    """A distribution logging to a bucket of this stack must wait for that bucket's ACLs to be enabled."""
    buckets = {str(b.outputs.get("bucketDomainName")): b for b in stack.of_type("aws:s3/bucket:Bucket")
               if b.outputs.get("bucketDomainName")}
    ownership = stack.of_type("aws:s3/bucketOwnershipControls:BucketOwnershipControls")
    for distribution in stack.of_type("aws:cloudfront/distribution:Distribution"):
        logging = distribution.inputs.get("loggingConfig") or {}
        target = logging.get("bucket") if isinstance(logging, dict) else None
        if not target:
            continue
        bucket = buckets.get(str(target))
        if bucket is None:
            report.unchecked.append(Unchecked(distribution.type, distribution.name, "loggingConfig.bucket",
                                              "the log bucket is not in this stack"))
            continue
        report.counts["orderings"] += 1
        controls = [c for c in ownership if str(c.inputs.get("bucket")) in {bucket.id, bucket.outputs.get("bucket")}
                    and (c.inputs.get("rule") or {}).get("objectOwnership") in ACLS_ENABLED]
        waits = graph.depends_on(distribution.urn)
        if not any(c.urn in waits for c in controls):
            report.findings.append(Finding(
                distribution.type, distribution.name, "dependsOn", target,
                "standard logging (legacy) writes through ACLs: the distribution must depend on ownership controls "
                f"of {bucket.name!r} that enable them ({' or '.join(ACLS_ENABLED)}), or CreateDistribution refuses "
                "the bucket (new buckets have ACLs disabled)", CLOUDFRONT_LOGS_DOC))
