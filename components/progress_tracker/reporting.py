"""Progress reporting steps for any Step Functions definition (pure Python, no Pulumi).

Other programs insert "report 40 %, 'payment captured'" between two of their states::

    target = ReportingTarget.lambda_function(function_arn)      # or .direct(...), .eventbridge(...)
    definition = with_progress(definition, target, after="ChargeCard", percent=40,
                               message="payment captured")

Three ways to report, chosen per workflow:

- ``direct``: no Lambda on the path. The workflow saves the progress in the tracker's table,
  queries the execution's followers and posts to ``/@connections/{id}`` with the optimized
  ``apigateway:invoke`` integration (``AuthType: IAM_ROLE``). A 410 (``ApiGateway.410``; both
  spellings are caught, ErrorEquals is case-sensitive) deletes the gone connection; other
  errors are retried, then recorded in the Map's output and skipped.
  Step Functions documents ``apigateway:invoke`` for REST and HTTP APIs only; WebSocket
  ``@connections`` is not in its list (AWS's samples use it nonetheless). ``lambda`` is the documented path.
- ``lambda``: a ``lambda:invoke`` task calls ReportProgress (stores, fans out, cleans up 410s).
- ``eventbridge``: an ``events:putEvents`` task; a rule delivers the event to ReportProgress
  with retries and a dead-letter queue (decoupled: the workflow never waits on the fan-out).

Whatever happens while reporting, the business workflow continues: every reporting state
catches ``States.ALL`` and goes on to the next business state with its input unchanged.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

MODES = ("direct", "lambda", "eventbridge")
#: The error the optimized API Gateway integration raises for HTTP 410 Gone. AWS's guide documents
#: `ApiGateway.<status>`; `APIGateway.<status>` also appears in AWS material, so both are matched.
GONE_ERRORS = ["ApiGateway.410", "APIGateway.410"]
EVENT_SOURCE = "serverless-patterns.progress-tracker"
DETAIL_TYPE = "Workflow progress reported"
STATUSES = ("RUNNING", "SUCCEEDED", "FAILED")
#: A direct-mode message is posted as is; keep it well under API Gateway's 128 KB message limit.
MAX_STATIC_MESSAGE_BYTES = 32 * 1024
MAX_STATE_NAME = 80
LAMBDA_TRANSIENT_ERRORS = ["Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException",
                           "Lambda.TooManyRequestsException"]
EXECUTION_NAME = "$$.Execution.Name"
#: A Standard workflow runs at most one year (Step Functions quotas, "Maximum execution time":
#: https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html).
MAX_EXECUTION_SECONDS = 365 * 24 * 3600
DEFAULT_PROGRESS_TTL_HOURS = 48


class ReportingError(ValueError):
    """A reporting step that cannot be built (bad target, unknown state, oversized message)."""


@dataclass(frozen=True)
class ReportingTarget:
    """Where progress goes: the tracker's resources one reporting mode needs (plain strings)."""

    mode: str
    table_name: str = ""
    api_endpoint: str = ""
    stage: str = ""
    function_arn: str = ""
    event_bus_name: str = ""
    event_source: str = EVENT_SOURCE
    detail_type: str = DETAIL_TYPE
    progress_ttl_hours: int = DEFAULT_PROGRESS_TTL_HOURS

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ReportingError(f"mode {self.mode!r} is not one of {', '.join(MODES)}")
        needed = {"direct": ("table_name", "api_endpoint", "stage"), "lambda": ("function_arn",),
                  "eventbridge": ("event_bus_name",)}[self.mode]
        missing = [name for name in needed if not getattr(self, name)]
        if missing:
            raise ReportingError(f"{self.mode} reporting needs {', '.join(missing)}")
        ttl = self.progress_ttl_hours
        if not isinstance(ttl, int) or isinstance(ttl, bool) or not 1 <= ttl <= 8760:
            raise ReportingError(f"progress_ttl_hours must be a whole number from 1 to 8760, got {ttl!r}")
        if self.mode == "direct" and ("/" in self.api_endpoint or ":" in self.api_endpoint):
            raise ReportingError(f"api_endpoint must be a host name like '<api>.execute-api.<region>."
                                 f"amazonaws.com', got {self.api_endpoint!r}")

    @classmethod
    def direct(cls, table_name: str, api_endpoint: str, stage: str,
               progress_ttl_hours: int = DEFAULT_PROGRESS_TTL_HOURS) -> ReportingTarget:
        return cls("direct", table_name=table_name, api_endpoint=api_endpoint, stage=stage,
                   progress_ttl_hours=progress_ttl_hours)

    @classmethod
    def lambda_function(cls, function_arn: str) -> ReportingTarget:
        return cls("lambda", function_arn=function_arn)

    @classmethod
    def eventbridge(cls, event_bus_name: str, event_source: str = EVENT_SOURCE,
                    detail_type: str = DETAIL_TYPE) -> ReportingTarget:
        return cls("eventbridge", event_bus_name=event_bus_name, event_source=event_source,
                   detail_type=detail_type)


@dataclass(frozen=True)
class ProgressPoint:
    """One report: insert it after (or before) a named state of the definition."""

    percent: int
    message: str
    after: str | None = None
    before: str | None = None
    step: str = ""
    status: str = "RUNNING"
    name: str | None = None


def _fit(text: str, limit: int = MAX_STATE_NAME) -> str:
    """`text` if it fits in `limit` characters, else a prefix and a digest of the whole (still unique)."""
    if len(text) <= limit:
        return text
    return f"{text[:limit - 9]}~{hashlib.sha256(text.encode()).hexdigest()[:8]}"


def state_name(percent: int, message: str) -> str:
    """The default name of a report: "Report <percent>%: <message>", at most 80 characters."""
    return _fit(f"Report {percent}%: {message}")


def inner_name(report: str, part: str) -> str:
    """The name of one state inside (or beside) report `report`: unique per report, at most 80 characters.

    ASL: state names "MUST be unique within the scope of the whole state machine", Parallel branches
    and Map processors included (https://states-language.net/spec.html#states-fields).
    """
    suffix = f" / {part}"
    return _fit(report, MAX_STATE_NAME - len(suffix)) + suffix


def state_names(definition: Mapping[str, Any]) -> list[str]:
    """Every state name of a machine, repeats kept: top level, Parallel branches and Map processors."""
    names: list[str] = []
    for name, state in definition.get("States", {}).items():
        names.append(name)
        if not isinstance(state, Mapping):
            continue
        for branch in state.get("Branches", []):
            names += state_names(branch)
        for key in ("ItemProcessor", "Iterator"):
            if isinstance(state.get(key), Mapping):
                names += state_names(state[key])
    return names


def check_unique_names(definition: Mapping[str, Any]) -> None:
    """Refuse a machine that repeats a state name anywhere (AWS answers DUPLICATE_STATE_NAME)."""
    names = state_names(definition)
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ReportingError(f"state names must be unique in the whole state machine (branches and Map "
                             f"processors included); repeated: {', '.join(repeated)}")


def _check(percent: int, message: str, status: str) -> None:
    if not isinstance(percent, int) or isinstance(percent, bool) or not 0 <= percent <= 100:
        raise ReportingError(f"percent must be a whole number from 0 to 100, got {percent!r}")
    if not isinstance(message, str):
        raise ReportingError(f"message must be a string, got {message!r}")
    if len(message.encode()) > MAX_STATIC_MESSAGE_BYTES:
        raise ReportingError(f"message is {len(message.encode())} bytes; at most {MAX_STATIC_MESSAGE_BYTES}")
    if status not in STATUSES:
        raise ReportingError(f"status must be one of {', '.join(STATUSES)}, got {status!r}")


def _exec_key(prefix_sk: str) -> dict[str, Any]:
    return {"pk": {"S.$": f"States.Format('EXEC#{{}}', {EXECUTION_NAME})"}, "sk": {"S": prefix_sk}}


def _direct_branch(target: ReportingTarget, report: str, percent: int, message: str, step: str,
                   status: str) -> dict[str, Any]:
    n = {part: inner_name(report, part) for part in (
        "Save progress", "Find followers", "Post to followers", "Post to connection", "Forget gone follower",
        "Forget gone connection", "Skip failed post")}
    retry_all = {"ErrorEquals": ["States.ALL"], "IntervalSeconds": 1, "MaxAttempts": 2, "BackoffRate": 2.0}
    body = {"type": "progress", "executionId.$": EXECUTION_NAME, "percent": percent, "message": message,
            "step": step, "status": status, "updatedAt.$": "$$.State.EnteredTime"}
    post = {
        "Type": "Task",
        "Resource": "arn:aws:states:::apigateway:invoke",
        "Parameters": {
            "ApiEndpoint": target.api_endpoint,
            "Method": "POST",
            "Stage": target.stage,
            "Path.$": "States.Format('/@connections/{}', $.connectionId)",
            "RequestBody": body,
            "AuthType": "IAM_ROLE",
        },
        "ResultSelector": {"statusCode.$": "$.StatusCode"},
        "ResultPath": "$.post",
        # A 410 is final: never retried (the first matching retrier wins), caught below.
        "Retry": [{"ErrorEquals": GONE_ERRORS, "MaxAttempts": 0}, retry_all],
        "Catch": [{"ErrorEquals": GONE_ERRORS, "ResultPath": "$.error", "Next": n["Forget gone follower"]},
                  {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": n["Skip failed post"]}],
        "End": True,
    }

    def delete(key: dict[str, Any]) -> dict[str, Any]:
        return {"Type": "Task", "Resource": "arn:aws:states:::dynamodb:deleteItem",
                "Parameters": {"TableName": target.table_name, "Key": key}, "ResultPath": None,
                "Retry": [retry_all],
                "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": n["Skip failed post"]}]}

    forget_follower = delete({"pk": {"S.$": f"States.Format('EXEC#{{}}', {EXECUTION_NAME})"},
                              "sk": {"S.$": "States.Format('FOLLOWER#{}', $.connectionId)"}})
    forget_follower["Next"] = n["Forget gone connection"]
    forget_connection = delete({"pk": {"S.$": "States.Format('CONN#{}', $.connectionId)"}, "sk": {"S": "CONN"}})
    forget_connection["End"] = True
    return {
        "StartAt": n["Save progress"],
        "States": {
            n["Save progress"]: {
                "Type": "Task",
                "Resource": "arn:aws:states:::dynamodb:updateItem",
                "Parameters": {
                    "TableName": target.table_name,
                    "Key": _exec_key("STATE"),
                    # ASL has no clock for "now + TTL" (the Lambda path's refresh), so every save moves the
                    # expiry to the start (written by `start`) + the longest possible run + the TTL: the
                    # record cannot expire while the execution still runs.
                    "UpdateExpression": "SET #p = :p, #m = :m, #s = :s, #st = :st, #u = :u, #x = #sa + :life",
                    # Only executions started through the tracker have a state item; never regress.
                    "ConditionExpression": "attribute_exists(pk) AND attribute_exists(#sa) AND "
                                           "(attribute_not_exists(#p) OR #p <= :p)",
                    "ExpressionAttributeNames": {"#p": "percent", "#m": "message", "#s": "step", "#st": "status",
                                                 "#u": "updatedAt", "#x": "expiresAt", "#sa": "startedAt"},
                    "ExpressionAttributeValues": {":p": {"N": str(percent)}, ":m": {"S": message},
                                                  ":s": {"S": step}, ":st": {"S": status},
                                                  ":u": {"S.$": "$$.State.EnteredTime"},
                                                  ":life": {"N": str(MAX_EXECUTION_SECONDS
                                                                     + target.progress_ttl_hours * 3600)}},
                },
                "ResultPath": None,
                "Retry": [{"ErrorEquals": ["DynamoDB.ConditionalCheckFailedException"], "MaxAttempts": 0},
                          retry_all],
                "Catch": [{"ErrorEquals": ["DynamoDB.ConditionalCheckFailedException"], "ResultPath": None,
                           "Next": n["Find followers"]}],
                "Next": n["Find followers"],
            },
            n["Find followers"]: {
                "Type": "Task",
                "Resource": "arn:aws:states:::aws-sdk:dynamodb:query",
                "Parameters": {
                    "TableName": target.table_name,
                    "KeyConditionExpression": "pk = :pk AND begins_with(sk, :f)",
                    "ExpressionAttributeValues": {
                        ":pk": {"S.$": f"States.Format('EXEC#{{}}', {EXECUTION_NAME})"}, ":f": {"S": "FOLLOWER#"}},
                    "ProjectionExpression": "connectionId",
                    "ConsistentRead": True,  # a connection that just started or resumed is included
                },
                "ResultSelector": {"items.$": "$.Items"},
                "ResultPath": "$.followers",
                "Retry": [retry_all],
                "Next": n["Post to followers"],
            },
            n["Post to followers"]: {
                "Type": "Map",
                "ItemsPath": "$.followers.items",
                "ItemSelector": {"connectionId.$": "$$.Map.Item.Value.connectionId.S"},
                "MaxConcurrency": 10,
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "INLINE"},
                    "StartAt": n["Post to connection"],
                    "States": {
                        n["Post to connection"]: post,
                        n["Forget gone follower"]: forget_follower,
                        n["Forget gone connection"]: forget_connection,
                        n["Skip failed post"]: {"Type": "Pass", "Parameters": {
                            "connectionId.$": "$.connectionId", "skipped.$": "$.error.Error"}, "End": True},
                    },
                },
                "End": True,
            },
        },
    }


def progress_states(target: ReportingTarget, *, percent: int, message: str, next_state: str | None,
                    step: str = "", status: str = "RUNNING", name: str | None = None) -> dict[str, dict[str, Any]]:
    """The state(s) of one report, named `name` (default "Report <percent>%: <message>").

    The report's output is its input (`ResultPath: null`), and any error goes on to
    `next_state` too; without `next_state` the report ends the workflow (a Pass ends it on error).
    """
    _check(percent, message, status)
    name = name or state_name(percent, message)
    payload = {"executionId.$": EXECUTION_NAME, "percent": percent, "message": message, "step": step,
               "status": status}
    skipped = inner_name(name, "not reported")
    after_error = next_state or skipped
    catch = [{"ErrorEquals": ["States.ALL"], "ResultPath": None, "Next": after_error}]
    state: dict[str, Any]
    if target.mode == "direct":
        state = {"Type": "Parallel", "Comment": f"progress {percent}% (direct to @connections)",
                 "Branches": [_direct_branch(target, name, percent, message, step, status)],
                 "ResultPath": None, "Catch": catch}
    elif target.mode == "lambda":
        state = {"Type": "Task", "Comment": f"progress {percent}% (ReportProgress Lambda)",
                 "Resource": "arn:aws:states:::lambda:invoke",
                 "Parameters": {"FunctionName": target.function_arn, "Payload": payload},
                 "ResultPath": None,
                 "Retry": [{"ErrorEquals": LAMBDA_TRANSIENT_ERRORS, "IntervalSeconds": 1, "MaxAttempts": 3,
                            "BackoffRate": 2.0}],
                 "Catch": catch}
    else:
        state = {"Type": "Task", "Comment": f"progress {percent}% (EventBridge)",
                 "Resource": "arn:aws:states:::events:putEvents",
                 "Parameters": {"Entries": [{"EventBusName": target.event_bus_name, "Source": target.event_source,
                                             "DetailType": target.detail_type, "Detail": payload}]},
                 "ResultPath": None,
                 "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 1, "MaxAttempts": 3,
                            "BackoffRate": 2.0}],
                 "Catch": catch}
    states = {name: state}
    if next_state:
        state["Next"] = next_state
    else:
        state["End"] = True
        states[skipped] = {"Type": "Pass", "Comment": "progress could not be reported; the workflow still ends",
                           "End": True}
    return states


def _as_dict(definition: dict[str, Any] | str) -> dict[str, Any]:
    data = json.loads(definition) if isinstance(definition, str) else copy.deepcopy(definition)
    if not isinstance(data, dict) or not isinstance(data.get("States"), dict) or "StartAt" not in data:
        raise ReportingError("the definition needs 'StartAt' and a 'States' object")
    return data


def _redirect(state: dict[str, Any], old: str, new: str) -> None:
    """Point every transition of one state from `old` to `new` (Next, Default, Choices, Catch)."""
    if state.get("Next") == old:
        state["Next"] = new
    if state.get("Default") == old:
        state["Default"] = new
    for rule in state.get("Choices", []):
        if rule.get("Next") == old:
            rule["Next"] = new
    for catcher in state.get("Catch", []):
        if catcher.get("Next") == old:
            catcher["Next"] = new


def with_progress(definition: dict[str, Any] | str, target: ReportingTarget, *, percent: int, message: str,
                  after: str | None = None, before: str | None = None, step: str = "", status: str = "RUNNING",
                  name: str | None = None) -> dict[str, Any]:
    """A copy of `definition` with one report inserted after (or before) a top-level state.

    The report's states are named after the report ("<name> / Save progress", ...), so each report's
    names are its own; a name already used anywhere in the machine (branches and Map processors too)
    is refused, as is a machine that repeats a name.
    """
    data = _as_dict(definition)
    states: dict[str, Any] = data["States"]
    if (after is None) == (before is None):
        raise ReportingError("give exactly one of after= or before=")
    anchor = after if after is not None else before
    if anchor not in states:
        raise ReportingError(f"no state {anchor!r} in the definition; states are {', '.join(states)}")
    name = name or state_name(percent, message)
    check_unique_names(data)
    existing = set(state_names(data))
    if name in existing:
        raise ReportingError(f"a state named {name!r} already exists; pass name=")
    if after is not None:
        anchor_state = states[after]
        if anchor_state.get("Type") in ("Choice", "Succeed", "Fail"):
            raise ReportingError(f"cannot report after {after!r}: a {anchor_state['Type']} state has no single "
                                 "next state; report before its targets instead")
        next_state = anchor_state.pop("Next", None)
        anchor_state.pop("End", None)
        anchor_state["Next"] = name
        new_states = progress_states(target, percent=percent, message=message, next_state=next_state, step=step,
                                     status=status, name=name)
    else:
        for state in states.values():
            _redirect(state, str(before), name)
        if data["StartAt"] == before:
            data["StartAt"] = name
        new_states = progress_states(target, percent=percent, message=message, next_state=before, step=step,
                                     status=status, name=name)
    clash = set(state_names({"States": new_states})) & existing
    if clash:
        raise ReportingError(f"state names already used: {', '.join(sorted(clash))}; pass name=")
    states.update(new_states)
    check_unique_names(data)
    return data


def with_progress_steps(definition: dict[str, Any] | str, target: ReportingTarget,
                        points: Iterable[ProgressPoint]) -> dict[str, Any]:
    """`with_progress` for several points, in order."""
    data = _as_dict(definition)
    for point in points:
        data = with_progress(data, target, percent=point.percent, message=point.message, after=point.after,
                             before=point.before, step=point.step or (point.after or point.before or ""),
                             status=point.status, name=point.name)
    return data


def demo_order_definition(wait_seconds: int = 3) -> dict[str, Any]:
    """The demo order workflow without reporting: inventory, payment and shipping, with waits."""
    if not isinstance(wait_seconds, int) or not 0 <= wait_seconds <= 3600:
        raise ReportingError(f"wait_seconds must be 0-3600, got {wait_seconds!r}")
    return {
        "Comment": "Demo order: reserve inventory, capture payment, ship (progress reported over WebSocket)",
        "StartAt": "Reserve inventory",
        "States": {
            "Reserve inventory": {"Type": "Pass", "Parameters": {"reserved": True, "order.$": "$.order"},
                                  "ResultPath": "$.inventory", "Next": "Wait for warehouse"},
            "Wait for warehouse": {"Type": "Wait", "Seconds": wait_seconds, "Next": "Capture payment"},
            "Capture payment": {"Type": "Pass", "Parameters": {"captured": True, "requestId.$": "$.requestId"},
                                "ResultPath": "$.payment", "Next": "Wait for payment settlement"},
            "Wait for payment settlement": {"Type": "Wait", "Seconds": wait_seconds, "Next": "Ship order"},
            "Ship order": {"Type": "Pass", "Parameters": {"shipped": True}, "ResultPath": "$.shipping",
                           "Next": "Wait for carrier"},
            "Wait for carrier": {"Type": "Wait", "Seconds": wait_seconds, "Next": "Order complete"},
            "Order complete": {"Type": "Succeed"},
        },
    }


#: Where the demo order reports its progress.
DEMO_POINTS: Sequence[ProgressPoint] = (
    ProgressPoint(10, "order received", before="Reserve inventory", step="Received"),
    ProgressPoint(30, "inventory reserved", after="Reserve inventory"),
    ProgressPoint(60, "payment captured", after="Capture payment"),
    ProgressPoint(90, "handed to the carrier", after="Ship order"),
    ProgressPoint(100, "order delivered", after="Wait for carrier", step="Delivered", status="SUCCEEDED"),
)


def demo_order_workflow(target: ReportingTarget, wait_seconds: int = 3) -> dict[str, Any]:
    """The demo order workflow with its five progress reports, for one reporting mode."""
    return with_progress_steps(demo_order_definition(wait_seconds), target, DEMO_POINTS)
