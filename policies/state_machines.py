"""Step Functions: logging and tracing, and least privilege derived from the definition itself.

`sfn-role-least-privilege` reads each state machine's Amazon States Language definition (Task
states, also inside Parallel branches and Map processors), maps every task to the IAM actions and
resources it needs, finds the state machine's role and its policies in the stack, and reports
what the role lacks (the execution would fail with AccessDenied) and what it holds that no task
uses. Parameters given as JSONPath (`.$`) or JSONata (`{% %}`) are only known at run time: such a
need is satisfied by any statement granting the right action (the resource rules check scoping).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from pulumi_policy import PolicyConfigSchema, PolicyResource, ResourceValidationArgs, Severity, StackValidationArgs
from pulumi_policy.proxy import UnknownValueError

from serverless_patterns.policies.core import (
    ARN_RE,
    DocumentError,
    Statement,
    action_matches,
    as_list,
    config_value,
    each_resource,
    known,
    of_type,
    parse_document,
    prop,
    referenced,
    resource_rule,
    stack_rule,
    wildcard_match,
)
from serverless_patterns.policies.knowledge import (
    APIGATEWAY_SDK_PATHS,
    SDK_ACTION_IAM_ACTIONS,
    SDK_SERVICE_IAM_PREFIX,
    SFN_SERVICE_ACTIONS,
)

STATE_MACHINE = "aws:sfn/stateMachine:StateMachine"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ROLE_POLICY_ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
MANAGED_POLICY = "aws:iam/policy:Policy"
TABLE = "aws:dynamodb/table:Table"
FUNCTION = "aws:lambda/function:Function"
QUEUE = "aws:sqs/queue:Queue"
EVENT_BUS = "aws:cloudwatch/eventBus:EventBus"
LOG_LEVELS_SCHEMA = PolicyConfigSchema(properties={
    "levels": {"type": "array", "items": {"type": "string", "enum": ["ALL", "ERROR", "FATAL"]},
               "default": ["ALL", "ERROR"], "description": "Logging levels accepted for state machines."},
})
_INTEGRATION = re.compile(r"^arn:[\w-]+:states:::(?P<service>[\w-]+):(?P<action>[\w-]+)(?::(?P<sdk_action>[\w-]+))?"
                          r"(?P<pattern>\.sync(?::2)?|\.waitForTaskToken)?$")
_SERVICE_ACTIONS = frozenset(a.lower() for a in SFN_SERVICE_ACTIONS)
_S3_BUCKET_ACTIONS = re.compile(r"^s3:(ListBucket|ListBucketVersions|GetBucket\w*|PutBucket\w*|DeleteBucket\w*|"
                                r"ListMultipartUploads|CreateBucket)$")


# --------------------------------------------------------------------------- baseline


def check_logging(args: ResourceValidationArgs) -> Iterator[str]:
    levels = config_value("sfn-logging", args.get_config(), "levels", ["ALL", "ERROR"], list)
    logging = known(prop(args.props, "loggingConfiguration", keep_unknown=True)) or {}
    level = known(logging.get("level", "OFF"))
    problems = []
    if level not in levels:
        problems.append(f"level is {level!r} (accepted: {', '.join(levels)})")
    if not known(logging.get("includeExecutionData")):
        problems.append("includeExecutionData is off")
    if not logging.get("logDestination"):
        problems.append("there is no logDestination")
    if problems:
        yield (f"State machine {args.name!r} logging: {'; '.join(problems)}. Fix: logging_configuration={{'level': "
               f"'ALL', 'include_execution_data': True, 'log_destination': <log group ARN>:*}}.")


def check_tracing(args: ResourceValidationArgs) -> Iterator[str]:
    if not (prop(args.props, "tracingConfiguration") or {}).get("enabled"):
        yield (f"State machine {args.name!r} has no X-Ray tracing. Fix: tracing_configuration={{'enabled': True}} "
               f"(and xray:PutTraceSegments/PutTelemetryRecords/GetSamplingRules/GetSamplingTargets on '*').")


# --------------------------------------------------------------------------- definition -> needs


@dataclass(frozen=True)
class Need:
    """One permission a task needs: action, and resource ARN (None: only known at run time)."""

    action: str
    resource: str | None
    state: str
    alternatives: tuple[str, ...] = ()
    """Other ARNs that satisfy the need as well (e.g. an SES sender's domain identity)."""

    def candidates(self) -> tuple[str, ...]:
        return ((self.resource,) if self.resource else ()) + self.alternatives

    def show(self) -> str:
        shown = " or ".join(self.candidates()) or "<runtime value>"
        return f"{self.action} on {shown} (state {self.state!r})"


@dataclass
class Context:
    """What resolving names to ARNs needs: the state machine's place and the stack's resources."""

    partition: str
    region: str
    account: str
    tables: dict[str, str]
    functions: dict[str, str]
    queues: dict[str, str]
    buses: dict[str, str]
    own_arn: str

    def arn(self, service: str, resource: str, *, region: bool = True, account: bool = True) -> str:
        return (f"arn:{self.partition}:{service}:{self.region if region else ''}:"
                f"{self.account if account else ''}:{resource}")


def _static(params: Mapping[str, Any], key: str) -> str | None:
    """A parameter's value if it is fixed in the definition (not JSONPath `.$` nor JSONata)."""
    if f"{key}.$" in params:
        return None
    value = params.get(key)
    if not isinstance(value, str) or value.startswith("{%"):
        return None
    return value


def _function_arn(ctx: Context, name: str | None) -> str | None:
    if name is None:
        return None
    if name.startswith("arn:"):
        return name  # possibly qualified (version/alias): IAM then checks the qualified ARN
    base, _, qualifier = name.partition(":")
    arn = ctx.functions.get(base) or ctx.arn("lambda", f"function:{base}")
    return f"{arn}:{qualifier}" if qualifier else arn


def _table_arn(ctx: Context, name: str | None) -> str | None:
    if name is None:
        return None
    if name.startswith("arn:"):
        return name
    return ctx.tables.get(name, ctx.arn("dynamodb", f"table/{name}"))


def _queue_arn(ctx: Context, url: str | None) -> str | None:
    if url is None:
        return None
    if url in ctx.queues:
        return ctx.queues[url]
    match = re.fullmatch(r"^https://sqs\.([\w-]+)\.[\w.]+/(\d{12})/(.+)$", url)
    return f"arn:{ctx.partition}:sqs:{match.group(1)}:{match.group(2)}:{match.group(3)}" if match else None


def _bus_arn(ctx: Context, name: str | None) -> str | None:
    if name is None:
        return None
    if name.startswith("arn:"):
        return name
    return ctx.buses.get(name, ctx.arn("events", f"event-bus/{name}"))


def _pascal(action: str) -> str:
    return action[:1].upper() + action[1:]


def _s3_resource(ctx: Context, action: str, params: Mapping[str, Any]) -> str | None:
    bucket = _static(params, "Bucket")
    if bucket is None:
        return None
    if _S3_BUCKET_ACTIONS.fullmatch(action):
        return f"arn:{ctx.partition}:s3:::{bucket}"
    key = _static(params, "Key")
    return f"arn:{ctx.partition}:s3:::{bucket}/{key}" if key is not None else None


def _apigateway_needs(ctx: Context, state: str, sdk_action: str, params: Mapping[str, Any]) -> list[Need] | None:
    """API Gateway management calls: an HTTP verb on the resource path (None: not a call we know)."""
    if sdk_action not in APIGATEWAY_SDK_PATHS:
        return None
    action, template = APIGATEWAY_SDK_PATHS[sdk_action]
    path: str | None = template
    for member in re.findall(r"\{(\w+)\}", template):
        value = _static(params, member)
        path = None if value is None or path is None else path.replace("{" + member + "}", value)
    return [Need(action, ctx.arn("apigateway", path, account=False) if path else None, state)]


def _sdk_needs(ctx: Context, state: str, service: str, sdk_action: str, params: Mapping[str, Any]) -> list[Need]:
    if service == "apigateway":
        known = _apigateway_needs(ctx, state, sdk_action, params)
        if known is not None:
            return known
    actions = SDK_ACTION_IAM_ACTIONS.get(f"{service}:{sdk_action}")
    if actions is None:
        prefix = SDK_SERVICE_IAM_PREFIX.get(service, service)
        actions = (f"{prefix}:{_pascal(sdk_action)}",)
    needs = []
    for action in actions:
        resource: str | None = None
        if action == "ses:SendEmail":
            needs += _ses_needs(ctx, state, params)
            continue
        if action.startswith("s3:"):
            resource = _s3_resource(ctx, action, params)
        elif action.startswith("dynamodb:"):
            resource = _table_arn(ctx, _static(params, "TableName"))
            index = _static(params, "IndexName")
            if resource and index:
                resource = f"{resource}/index/{index}"
        elif action.startswith("lambda:"):
            resource = _function_arn(ctx, _static(params, "FunctionName"))
        elif action.startswith("states:"):
            resource = _static(params, "StateMachineArn")
        elif action.startswith("sqs:"):
            resource = _queue_arn(ctx, _static(params, "QueueUrl"))
        elif action.startswith("sns:"):
            resource = _static(params, "TopicArn")
        elif action.startswith("cognito-idp:") and _static(params, "UserPoolId"):
            resource = ctx.arn("cognito-idp", f"userpool/{_static(params, 'UserPoolId')}")
        needs.append(Need(action, resource, state))
    return needs


def _ses_needs(ctx: Context, state: str, params: Mapping[str, Any]) -> list[Need]:
    """SES v2 SendEmail is authorised on the sender identity (the address or its domain) and the configuration set."""
    needs = []
    identity_arn = _static(params, "FromEmailAddressIdentityArn")
    sender = _static(params, "FromEmailAddress")
    if identity_arn:
        needs.append(Need("ses:SendEmail", identity_arn, state))
    elif sender and "@" in sender:
        address = sender.rsplit("<", 1)[-1].rstrip(">").strip()
        needs.append(Need("ses:SendEmail", ctx.arn("ses", f"identity/{address}"), state,
                          (ctx.arn("ses", f"identity/{address.rsplit('@', 1)[1]}"),)))  # RFC 5321 4.1.2
    else:
        needs.append(Need("ses:SendEmail", None, state))
    configuration_set = _static(params, "ConfigurationSetName")
    if configuration_set:
        needs.append(Need("ses:SendEmail", ctx.arn("ses", f"configuration-set/{configuration_set}"), state))
    return needs


def _api_needs(ctx: Context, state: str, params: Mapping[str, Any]) -> list[Need]:
    path = _static(params, "Path")
    dynamic_path = params.get("Path.$")
    connections = "@connections" in str(path or dynamic_path or "")
    action = "execute-api:ManageConnections" if connections else "execute-api:Invoke"
    endpoint = _static(params, "ApiEndpoint")
    match = re.match(r"^(?:https://|wss://)?([a-z0-9]+)\.execute-api\.([\w-]+)\.", endpoint or "")
    stage, method = _static(params, "Stage"), _static(params, "Method")
    if not match or stage is None or method is None or (path is None and not connections):
        return [Need(action, None, state)]  # part of the ARN is only known at run time
    method = method.upper()
    suffix = "@connections/connection" if connections else str(path).lstrip("/")
    resource = f"arn:{ctx.partition}:execute-api:{match.group(2)}:{ctx.account}:{match.group(1)}/{stage}/{method}/" \
               f"{suffix}"
    return [Need(action, resource, state)]


def task_needs(ctx: Context, state: str, resource: str, params: Mapping[str, Any]) -> list[Need]:
    """The permissions one Task state needs."""
    arn = ARN_RE.fullmatch(resource)
    if arn and arn.group("service") == "lambda":
        return [Need("lambda:InvokeFunction", _function_arn(ctx, resource), state)]
    if arn and arn.group("service") == "states" and arn.group("resource").startswith("activity:"):
        return []  # activity workers poll with their own credentials
    match = _INTEGRATION.fullmatch(resource)
    if not match:
        return [Need(f"unknown-integration:{resource}", None, state)]
    service, action, sdk_action, pattern = (match.group("service"), match.group("action"),
                                            match.group("sdk_action"), match.group("pattern"))
    if service == "aws-sdk" and sdk_action:
        return _sdk_needs(ctx, state, action, sdk_action, params)
    if service == "lambda" and action == "invoke":
        return [Need("lambda:InvokeFunction", _function_arn(ctx, _static(params, "FunctionName")), state)]
    if service == "dynamodb":
        return [Need(f"dynamodb:{_pascal(action)}", _table_arn(ctx, _static(params, "TableName")), state)]
    if service == "events" and action == "putEvents":
        entries = params.get("Entries")
        if not isinstance(entries, list):
            return [Need("events:PutEvents", None, state)]
        buses = {_bus_arn(ctx, _static(e, "EventBusName") if isinstance(e, Mapping) and
                          ("EventBusName" in e or "EventBusName.$" in e) else "default") for e in entries}
        return [Need("events:PutEvents", bus, state) for bus in sorted(buses, key=str)]
    if service == "apigateway" and action == "invoke":
        return _api_needs(ctx, state, params)
    if service == "sqs" and action == "sendMessage":
        return [Need("sqs:SendMessage", _queue_arn(ctx, _static(params, "QueueUrl")), state)]
    if service == "sns" and action == "publish":
        return [Need("sns:Publish", _static(params, "TopicArn"), state)]
    if service == "states" and action in ("startExecution", "startSyncExecution"):
        target = _static(params, "StateMachineArn")
        needs = [Need(f"states:{_pascal(action)}", target, state)]
        if pattern and pattern.startswith(".sync"):
            execution = target.replace(":stateMachine:", ":execution:") + ":*" if target else None
            needs += [Need("states:DescribeExecution", execution, state), Need("states:StopExecution", execution,
                                                                                  state)]
            rule = ctx.arn("events", "rule/StepFunctionsGetEventsForStepFunctionsExecutionRule")
            needs += [Need(f"events:{a}", rule, state) for a in ("PutTargets", "PutRule", "DescribeRule")]
        return needs
    if service == "s3":
        return [Need(a, _s3_resource(ctx, a, params), state) for a in
                SDK_ACTION_IAM_ACTIONS.get(f"s3:{action}", (f"s3:{_pascal(action)}",))]
    prefix = SDK_SERVICE_IAM_PREFIX.get(service, service)
    return [Need(f"{prefix}:{_pascal(action)}", None, state)]


def definition_needs(ctx: Context, definition: Mapping[str, Any]) -> list[Need]:
    """Every need of every Task state, recursing into Parallel branches and Map processors."""
    needs: list[Need] = []
    states = definition.get("States")
    if not isinstance(states, Mapping):
        raise DocumentError("the definition has no 'States' object")
    for name, state in states.items():
        if not isinstance(state, Mapping):
            continue
        kind = state.get("Type")
        if kind == "Task" and isinstance(state.get("Resource"), str):
            params = state.get("Parameters") or state.get("Arguments") or {}
            needs += task_needs(ctx, str(name), state["Resource"], params if isinstance(params, Mapping) else {})
            credentials = state.get("Credentials")
            if isinstance(credentials, Mapping):
                needs.append(Need("sts:AssumeRole", _static(credentials, "RoleArn"), str(name)))
        elif kind == "Parallel":
            for branch in as_list(state.get("Branches")):
                if isinstance(branch, Mapping):
                    needs += definition_needs(ctx, branch)
        elif kind == "Map":
            processor = state.get("ItemProcessor") or state.get("Iterator")
            if isinstance(processor, Mapping):
                needs += definition_needs(ctx, processor)
                config = processor.get("ProcessorConfig") or {}
                if isinstance(config, Mapping) and config.get("Mode") == "DISTRIBUTED":
                    execution = ctx.own_arn.replace(":stateMachine:", ":execution:") + "/*"
                    needs += [Need("states:StartExecution", ctx.own_arn, str(name)),
                              Need("states:DescribeExecution", execution, str(name)),
                              Need("states:StopExecution", execution, str(name))]
            for part in ("ItemReader", "ResultWriter"):
                block = state.get(part)
                if isinstance(block, Mapping) and isinstance(block.get("Resource"), str):
                    params = block.get("Parameters") or block.get("Arguments") or {}
                    needs += task_needs(ctx, f"{name}.{part}", block["Resource"],
                                        params if isinstance(params, Mapping) else {})
    return needs


# --------------------------------------------------------------------------- the role's grants


@dataclass(frozen=True)
class Grant:
    action: str
    resource: str
    source: str


def role_grants(args: StackValidationArgs, role: PolicyResource) -> tuple[list[Grant], list[str]]:
    """Allow (action, resource) pairs of the role's policies, and notes on policies that cannot be read."""
    docs: list[tuple[str, Any]] = []
    for index, inline in enumerate(as_list(prop(role.props, "inlinePolicies"))):
        if isinstance(inline, dict) and inline.get("policy"):
            docs.append((f"inline policy #{index + 1}", inline["policy"]))
    for policy in of_type(args, ROLE_POLICY):
        if role in referenced(policy, "role", [role], "id", "name"):
            docs.append((f"RolePolicy {policy.name!r}", prop(policy.props, "policy")))
    managed = [str(a) for a in as_list(prop(role.props, "managedPolicyArns"))]
    for attachment in of_type(args, ROLE_POLICY_ATTACHMENT):
        if role in referenced(attachment, "role", [role], "id", "name"):
            managed.append(str(prop(attachment.props, "policyArn", "")))
    notes = []
    policies = {str(prop(p.props, "arn", "")): p for p in of_type(args, MANAGED_POLICY)}
    for arn in managed:
        if arn in policies:
            docs.append((f"Policy {policies[arn].name!r}", prop(policies[arn].props, "policy")))
        else:
            notes.append(f"managed policy {arn} is attached: its permissions cannot be checked against the "
                         f"definition (use an inline policy of exactly the tasks' permissions)")
    grants = []
    for source, document in docs:
        try:
            statements: list[Statement] = parse_document(document)
        except DocumentError as error:
            notes.append(f"{source} cannot be read: {error}")
            continue
        for statement in statements:
            if not statement.allows or statement.not_actions:
                continue
            for action in statement.actions:
                for resource in statement.resources or ["*"]:
                    grants.append(Grant(action, resource, f"{source} {statement.label()}"))
    return grants, notes


def _resource_covers(granted: str, needed: str) -> bool:
    return wildcard_match(granted, needed)


def _satisfied(need: Need, grants: list[Grant]) -> bool:
    for grant in grants:
        if not action_matches(grant.action, need.action):
            continue
        if need.resource is None or any(_resource_covers(grant.resource, c) for c in need.candidates()):
            return True
    return False


def _used(grant: Grant, needs: list[Need]) -> bool:
    if grant.action.lower() in _SERVICE_ACTIONS:
        return True
    for need in needs:
        if not action_matches(grant.action, need.action):
            continue
        if need.resource is None or any(_resource_covers(grant.resource, c) for c in need.candidates()):
            return True
        # `<arn>:*` next to `<arn>`: the qualified form of a needed Lambda function / execution.
        if grant.resource.endswith(":*") and wildcard_match(grant.resource[:-2], need.resource):
            return True
    return False


def _context(args: StackValidationArgs, machine: PolicyResource) -> Context:
    own = str(prop(machine.props, "arn", ""))
    match = ARN_RE.fullmatch(own)
    partition, region, account = (match.group("partition"), match.group("region"), match.group("account")) \
        if match else ("aws", "*", "*")

    def index(typ: str, key: str) -> dict[str, str]:
        out = {}
        for r in of_type(args, typ):
            try:
                name, arn = prop(r.props, key), prop(r.props, "arn")
            except UnknownValueError:
                continue  # an unknown value only means this name cannot be resolved
            if name and arn:
                out[str(name)] = str(arn)
        return out

    return Context(partition, region, account, index(TABLE, "name"), index(FUNCTION, "name"), index(QUEUE, "url"),
                   index(EVENT_BUS, "name"), own)


def _needs(args: StackValidationArgs, machine: PolicyResource) -> tuple[list[Need] | None, list[str]]:
    """The machine's needs (None if the definition cannot be read), and messages about the definition."""
    raw = prop(machine.props, "definition")
    try:
        definition = json.loads(raw) if isinstance(raw, str) else raw
        if not isinstance(definition, Mapping):
            raise DocumentError("the definition is not a JSON object")
        needs = definition_needs(_context(args, machine), definition)
    except (ValueError, DocumentError) as error:
        return None, [f"State machine {machine.name!r}: the definition cannot be read ({error}), so its role cannot be "
                    f"checked. Fix: build the definition as data and serialise it with json.dumps."]
    problems = []
    unknown = sorted({n.action.split(":", 1)[1] for n in needs if n.action.startswith("unknown-integration:")})
    if unknown:
        problems.append(f"State machine {machine.name!r} uses task resource(s) this pack cannot map to IAM actions: "
                        f"{', '.join(unknown)}. Fix: use an optimised or aws-sdk integration ARN.")
    return [n for n in needs if not n.action.startswith("unknown-integration:")], problems


def check_role_least_privilege(args: StackValidationArgs) -> Iterator[tuple[PolicyResource, str]]:
    roles = of_type(args, ROLE)
    machines = of_type(args, STATE_MACHINE)
    # A role shared by several state machines may hold what any of them needs.
    role_of: dict[str, PolicyResource | None] = {}
    needs_of: dict[str, list[Need] | None] = {}
    problems_of: dict[str, list[str]] = {}

    def prepare(machine: PolicyResource) -> Iterator[str]:
        found = referenced(machine, "roleArn", roles, "arn")
        role_of[machine.urn] = found[0] if found else None
        needs_of[machine.urn], problems_of[machine.urn] = _needs(args, machine)
        return iter(())

    list(each_resource(machines, prepare))

    def check(machine: PolicyResource) -> Iterator[str]:
        if machine.urn not in needs_of:
            return  # unknown values: already reported as a preview advisory
        yield from problems_of[machine.urn]
        needs, role = needs_of[machine.urn], role_of[machine.urn]
        if needs is None:
            return
        if role is None:
            yield (f"State machine {machine.name!r}: its role ({prop(machine.props, 'roleArn')}) is not in this stack, "
                   f"so its permissions cannot be checked against the {len(needs)} permission(s) the definition "
                   f"needs. Fix: create the role beside the state machine.")
            return
        sharing = [urn for urn, other in role_of.items() if other is role]
        all_needs = [n for urn in sharing for n in needs_of.get(urn) or []]
        grants, notes = role_grants(args, role)
        missing = [n for n in needs if not _satisfied(n, grants)]
        excess = [g for g in grants if not _used(g, all_needs)]
        if missing:
            yield (f"State machine {machine.name!r}: role {role.name!r} lacks "
                   f"{'; '.join(dict.fromkeys(n.show() for n in missing))}. The execution fails with AccessDenied "
                   f"at these states. Fix: grant exactly these actions on these ARNs.")
        if excess or notes:
            shown = [f"{g.action} on {g.resource} ({g.source})" for g in excess]
            shared = f" (shared with {len(sharing) - 1} other state machine(s))" if len(sharing) > 1 else ""
            yield (f"State machine {machine.name!r}: role {role.name!r}{shared} holds permissions no task in the "
                   f"definition needs: {'; '.join(dict.fromkeys(shown + notes))}. Fix: remove them (logging and "
                   f"X-Ray delivery actions are allowed).")

    yield from each_resource(machines, check)


POLICIES = [
    resource_rule(
        "sfn-logging",
        "State machines log to CloudWatch Logs with execution data.",
        check_logging, types={STATE_MACHINE}, severity=Severity.MEDIUM, cdk_nag="AwsSolutions-SF1",
        config_schema=LOG_LEVELS_SCHEMA,
        remediation="Set logging_configuration level ALL (or ERROR), include_execution_data and a log group."),
    resource_rule(
        "sfn-tracing",
        "State machines have X-Ray tracing.",
        check_tracing, types={STATE_MACHINE}, severity=Severity.LOW, cdk_nag="AwsSolutions-SF2",
        remediation="Set tracing_configuration enabled."),
    stack_rule(
        "sfn-role-least-privilege",
        "A state machine's role grants exactly what the tasks in its definition need.",
        check_role_least_privilege, severity=Severity.HIGH,
        remediation="Grant each task's action on its resource ARN; remove everything else."),
]
