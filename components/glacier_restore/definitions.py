"""The two GlacierRestore workflows as Amazon States Language, built from plain values.

`request_definition` is the EXPRESS workflow API Gateway runs synchronously for `POST /restores`;
`events_definition` is the STANDARD workflow EventBridge starts for "Object Restore Completed" and
"Object Restore Expired". Both are pure functions of names and ARNs, so the component deploys
exactly the dicts the tests execute in moto's Step Functions engine. JSONPath only (no JSONata).

Error contract of the request workflow (the API maps these to HTTP answers):

- `InvalidRequest` (400): a malformed field; the cause starts with the field name.
- `NotArchived` (400): the object is not in GLACIER or DEEP_ARCHIVE, so it needs no restore.
- `NoSuchKey` (404): no such object in the archive bucket.
- `Forbidden` (403): with per-group prefixes, the key is outside every prefix of the caller's Cognito groups.
- anything else (500): logged with the execution; the caller gets a generic message.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

#: S3 storage classes whose objects must be restored before they can be read, and their tiers.
TIERS_BY_STORAGE_CLASS: dict[str, tuple[str, ...]] = {
    "GLACIER": ("Expedited", "Standard", "Bulk"),
    "DEEP_ARCHIVE": ("Standard", "Bulk"),
}
ALL_TIERS = ("Expedited", "Standard", "Bulk")

STATUS_IN_PROGRESS = "RESTORE_IN_PROGRESS"
STATUS_RESTORED = "RESTORED"
STATUS_EXPIRED = "EXPIRED"
STATUS_FAILED = "RESTORE_FAILED"

#: The request workflow's time limit, under API Gateway's 29-second integration timeout.
REQUEST_TIMEOUT_SECONDS = 25

#: The request workflow's S3 calls (each retries 5xx answers by state, see `_s3_transient`).
S3_TASKS = ("HeadObject", "RestoreObject", "ExtendRestore")

#: Errors the request workflow ends with on purpose (see the module docstring).
CLIENT_ERRORS = {"InvalidRequest": 400, "NotArchived": 400, "NoSuchKey": 404, "Forbidden": 403}

# --- retry policies: every SDK task retries throttling and transient errors with backoff ---------------

_BACKOFF = {"IntervalSeconds": 1, "MaxAttempts": 3, "BackoffRate": 2.0, "JitterStrategy": "FULL"}

#: Network failures and timeouts of the SDK client. S3's throttling (503 SlowDown) and server errors
#: (5xx) are the generic `S3.S3Exception`, like its client errors (403 AccessDenied, 409 conflicts, ...):
#: only the status code in the cause tells them apart, so `_s3_transient` retries those by state,
#: and a client error is answered at once instead of burning the 29-second synchronous call.
S3_RETRY = [{"ErrorEquals": ["S3.SdkClientException"], **_BACKOFF}]
#: Seconds before each retry of an S3 call that answered 5xx (the request workflow's budget is 25 s).
S3_RETRY_WAITS = (1, 2, 4)
#: The optimized DynamoDB integration names errors after the SDK's exception classes, not with the
#: aws-sdk rule "always append Exception": the `RequestLimitExceeded` shape is the class
#: `RequestLimitExceededException`, and errors without a class of their own (on-demand throttling can
#: be one) are the base class `DynamoDB.AmazonDynamoDBException`, which AWS's own sample retries
#: (Step Functions Developer Guide, "Invoke Synchronous Express Workflows through API Gateway":
#: https://docs.aws.amazon.com/step-functions/latest/dg/synchronous-execution.html). Throttling
#: shapes per the DynamoDB guide's error table
#: (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Programming.Errors.html):
#: ProvisionedThroughputExceededException, RequestLimitExceeded, ThrottlingException; 5xx: InternalServerError.
DYNAMODB_RETRY = [{"ErrorEquals": ["DynamoDB.ProvisionedThroughputExceededException",
                                   "DynamoDB.RequestLimitExceededException", "DynamoDB.ThrottlingException",
                                   "DynamoDB.InternalServerErrorException", "DynamoDB.AmazonDynamoDBException",
                                   "DynamoDB.SdkClientException"],
                   **_BACKOFF}]
SES_RETRY = [{"ErrorEquals": ["SesV2.TooManyRequestsException", "SesV2.LimitExceededException",
                              "SesV2.SdkClientException", "SesV2.SesV2Exception"], **_BACKOFF}]
LAMBDA_RETRY = [{"ErrorEquals": ["Lambda.ServiceException", "Lambda.AWSLambdaException",
                                 "Lambda.SdkClientException", "Lambda.TooManyRequestsException"],
                 "IntervalSeconds": 2, "MaxAttempts": 4, "BackoffRate": 2.0, "JitterStrategy": "FULL"}]


@dataclass(frozen=True)
class WorkflowSettings:
    """Everything the definitions need, as plain values (resolved outputs at deploy time)."""

    bucket: str
    table: str
    sender: str
    download_endpoint: str
    allowed_tiers: Sequence[str] = ("Standard", "Bulk")
    default_tier: str = "Standard"
    default_days: int = 7
    max_days: int = 30
    cost_function_arn: str = ""
    restore_state_function_arn: str = ""
    service_name: str = "Archive restore service"
    #: Bulk restores (see `bulk.py`): completions of batch objects count for their batches.
    batches_table: str = ""
    work_bucket: str = ""
    #: With Cognito: the key prefixes each group may restore (the request template passes the caller's
    #: groups as `,a,b,`); empty lets every caller restore any key.
    group_prefixes: Mapping[str, Sequence[str]] = field(default_factory=dict)
    #: The web front end's URL (`https://<domain>`, no trailing slash), when the component serves one: the
    #: emails then link to the pages instead of describing signed API calls.
    site_url: str = ""


def _ddb(action: str) -> str:
    return f"arn:aws:states:::dynamodb:{action}"


def _sdk(service: str, action: str) -> str:
    return f"arn:aws:states:::aws-sdk:{service}:{action}"


def _fail(error: str, cause: str | None = None, cause_path: str | None = None) -> dict[str, Any]:
    state: dict[str, Any] = {"Type": "Fail", "Error": error}
    if cause_path:
        state["CausePath"] = cause_path
    else:
        state["Cause"] = cause
    return state


def _s3_transient(task: str) -> dict[str, Any]:
    """Choice rule: the S3 call `task` answered 5xx (throttling or a server error) and may be retried."""
    return {"And": [{"Variable": "$.failure.Error", "StringEquals": "S3.S3Exception"},
                    {"Variable": "$.failure.Cause", "StringMatches": "*Status Code: 5*"},
                    {"Variable": f"$.retries.{task}.count", "NumericLessThan": len(S3_RETRY_WAITS)}],
            "Next": f"Retry{task}Later"}


def _s3_retry_states(task: str) -> dict[str, Any]:
    """Count the retry of `task`, wait with exponential backoff, then call S3 again."""
    waits = ", ".join(str(w) for w in S3_RETRY_WAITS)
    return {
        f"Retry{task}Later": {
            "Type": "Pass",
            "Parameters": {"count.$": f"States.MathAdd($.retries.{task}.count, 1)",
                           "seconds.$": f"States.ArrayGetItem(States.Array({waits}), $.retries.{task}.count)"},
            "ResultPath": f"$.retries.{task}",
            "Next": f"WaitToRetry{task}",
        },
        f"WaitToRetry{task}": {"Type": "Wait", "SecondsPath": f"$.retries.{task}.seconds", "Next": task},
    }


def _email_is_malformed(path: str) -> dict[str, Any]:
    """Choice condition for a string at `path` that is not one plausible email address (ASL has only `*`)."""
    return {"Or": [
        {"Not": {"Variable": path, "StringMatches": "*@*.*"}},
        *({"Variable": path, "StringMatches": pattern}
          for pattern in ("@*", "*@*@*", "* *", "*@.*", "*..*", "*.", "*,*", "*;*", "*<*", "*>*")),
    ]}


def _validation_rules(s: WorkflowSettings) -> list[dict[str, Any]]:
    """Ordered Choice rules sending each malformed field to the Fail state that names it.

    Type checks come before the comparisons on that field, so no rule compares a value of the wrong type;
    `ApplyDefaults` makes every field present (missing key and email are null).
    """
    days = "$.request.days"
    tier_ok = [{"Variable": "$.request.tier", "StringEquals": tier} for tier in s.allowed_tiers]
    return [
        {"Not": {"Variable": "$.request.key", "IsString": True}, "Next": "InvalidKey"},
        {"Variable": "$.request.key", "StringEquals": "", "Next": "InvalidKey"},
        {"Not": {"Variable": days, "IsNumeric": True}, "Next": "InvalidDays"},
        {"Or": [{"Variable": days, "NumericLessThan": 1},
                {"Variable": days, "NumericGreaterThan": s.max_days},
                # JSON writes a fractional or exponent number with '.', 'e' or 'E'.
                *({"Variable": "$.daysText.value", "StringMatches": p} for p in ("*.*", "*e*", "*E*"))],
         "Next": "InvalidDays"},
        {"Not": {"Variable": "$.request.tier", "IsString": True}, "Next": "InvalidTier"},
        {"Not": {"Or": tier_ok} if len(tier_ok) > 1 else tier_ok[0], "Next": "InvalidTier"},
        {"Not": {"Variable": "$.request.email", "IsString": True}, "Next": "InvalidEmail"},
        {**_email_is_malformed("$.request.email"), "Next": "InvalidEmail"},
    ]


def _match_literally(text: str) -> str:
    """`text` as a StringMatches pattern matching only itself: `*` and `\\` escaped with a backslash
    (Amazon States Language, "Choice Rules": https://states-language.net/spec.html#choice-state)."""
    return text.replace("\\", "\\\\").replace("*", "\\*")


def _group_prefix_rules(s: WorkflowSettings) -> list[dict[str, Any]]:
    """One rule per (group, prefix): the caller is in the group and the key starts with the prefix.

    First, callers without `groups`: only the `/iam` routes' template (AWS_IAM, with the web front end) sends
    none (the Cognito template always sends `,…,`, and the body cannot reach `caller`); group limits bind Cognito
    users, IAM callers are bound by their IAM policies."""
    unbound: list[dict[str, Any]] = [{"Not": {"Variable": "$.caller.groups", "IsPresent": True}, "Next": "HeadObject"}]
    return unbound + [{"And": [{"Variable": "$.caller.groups", "StringMatches": f"*,{_match_literally(group)},*"},
                     {"Variable": "$.request.key", "StringMatches": _match_literally(prefix) + "*"}],
             "Next": "HeadObject"}
            for group, prefixes in sorted(s.group_prefixes.items()) for prefix in prefixes]


def _storage_class_rules(s: WorkflowSettings) -> list[dict[str, Any]]:
    """Choice rules on HeadObject's answer: only archived objects need a restore, and Deep Archive has no
    Expedited tier (S3 answers InvalidObjectState; the caller gets a 400 naming the tier instead)."""
    rules: list[dict[str, Any]] = [
        {"Not": {"Variable": "$.object.StorageClass", "IsPresent": True}, "Next": "NotArchived"},
        {"And": [{"Not": {"Variable": "$.object.StorageClass", "StringEquals": "GLACIER"}},
                 {"Not": {"Variable": "$.object.StorageClass", "StringEquals": "DEEP_ARCHIVE"}}],
         "Next": "NotArchived"},
    ]
    if "Expedited" in s.allowed_tiers:
        rules.append({"And": [{"Variable": "$.object.StorageClass", "StringEquals": "DEEP_ARCHIVE"},
                              {"Variable": "$.request.tier", "StringEquals": "Expedited"}],
                      "Next": "ExpeditedNotAvailable"})
    return rules


def _outcome(code: str, status: str, subject: str, body_template: str, body_args: Sequence[str],
             next_state: str, *, this_request_sets_tier: bool) -> dict[str, Any]:
    """A Pass state naming the path the request took, and the confirmation email (the answer's message).

    Only a request that starts the restore decides its tier and days; joining requests report them as null.
    """
    params: dict[str, Any] = {"code": code, "status": status, "origin": "request"}
    if this_request_sets_tier:
        params.update({"tier.$": "$.request.tier", "days.$": "$.request.days"})
    else:
        params.update({"tier": None, "days": None})
    params["emailSubject.$"] = f"States.Format('{subject}', $.request.key)"
    params["emailBody.$"] = "States.Format('" + body_template + "', " + ", ".join(body_args) + ")"
    return {"Type": "Pass", "Parameters": params, "ResultPath": "$.outcome", "Next": next_state}


def request_definition(s: WorkflowSettings) -> dict[str, Any]:
    """The EXPRESS request workflow: validate, HeadObject, RestoreObject (tier + days), record, email."""
    # Every field present afterwards: a missing key or email becomes null and fails its type check.
    defaults = {"key": None, "email": None, "days": s.default_days, "tier": s.default_tier}
    download_hint = (f"To download it, call GET {s.download_endpoint} with the query parameter key set to the "
                     "URL-encoded object key, signed with the credentials you used for this request.")
    if s.site_url:
        download_hint = f"Download it from My requests on {s.site_url}/requests.html after signing in."
    restore_email_args = ["$.request.key", "$.request.tier", "$.request.days"]
    states: dict[str, Any] = {
        "WithDefaults": {
            "Type": "Pass",
            "Comment": "Fill in the days and tier the request left out.",
            "Parameters": {"defaults": defaults, "body.$": "$.body", "caller.$": "$.caller"},
            "Next": "ApplyDefaults",
        },
        "ApplyDefaults": {
            "Type": "Pass",
            "Parameters": {"request.$": "States.JsonMerge($.defaults, $.body, false)", "caller.$": "$.caller",
                           "retries": {task: {"count": 0} for task in S3_TASKS}},
            "Next": "DescribeDays",
        },
        "DescribeDays": {
            "Type": "Pass",
            "Comment": "Days as JSON text, to tell whole numbers from fractions in the Choice below.",
            "Parameters": {"value.$": "States.JsonToString($.request.days)"},
            "ResultPath": "$.daysText",
            "Next": "ValidateRequest",
        },
        "ValidateRequest": {
            "Type": "Choice",
            "Choices": _validation_rules(s),
            "Default": "CheckGroupPrefixes" if s.group_prefixes else "HeadObject",
        },
        **({"CheckGroupPrefixes": {
            "Type": "Choice",
            "Comment": "Before the object is even looked at: only keys under a prefix of the caller's groups.",
            "Choices": _group_prefix_rules(s),
            "Default": "OutsideYourPrefixes",
        }, "OutsideYourPrefixes": _fail("Forbidden", "key: outside the prefixes your Cognito groups may restore")}
           if s.group_prefixes else {}),
        "InvalidKey": _fail("InvalidRequest", "key: required; the key of the archived object to restore"),
        "InvalidDays": _fail("InvalidRequest", f"days: must be a whole number from 1 to {s.max_days}"),
        "InvalidTier": _fail("InvalidRequest", "tier: must be one of " + ", ".join(s.allowed_tiers)),
        "InvalidEmail": _fail("InvalidRequest",
                              "email: must be one email address, such as researcher@example.org"),
        "HeadObject": {
            "Type": "Task",
            "Resource": _sdk("s3", "headObject"),
            "Parameters": {"Bucket": s.bucket, "Key.$": "$.request.key"},
            "ResultPath": "$.object",
            "Retry": S3_RETRY,
            "Catch": [
                {"ErrorEquals": ["S3.NoSuchKeyException"], "ResultPath": "$.failure", "Next": "NoSuchKey"},
                {"ErrorEquals": ["States.ALL"], "ResultPath": "$.failure", "Next": "ClassifyHeadError"},
            ],
            "Next": "RouteByObjectState",
        },
        "ClassifyHeadError": {
            "Type": "Choice",
            "Comment": "A HEAD answer has no error body: a bare 404 still means the key does not exist (the role "
                       "may s3:ListBucket, so S3 says 404 rather than 403). 5xx is retried; the rest is final.",
            "Choices": [{"Variable": "$.failure.Cause", "StringMatches": "*Status Code: 404*", "Next": "NoSuchKey"},
                        _s3_transient("HeadObject")],
            "Default": "ArchiveUnreadable",
        },
        **_s3_retry_states("HeadObject"),
        "NoSuchKey": _fail("NoSuchKey", cause_path="States.Format('key: there is no object {} in the archive', "
                                                   "$.request.key)"),
        "ArchiveUnreadable": _fail("ArchiveUnreadable", cause_path="States.Format('S3 HeadObject failed: {}', "
                                                                   "$.failure.Cause)"),
        "RouteByObjectState": {
            "Type": "Choice",
            "Choices": [
                *_storage_class_rules(s),
                {"Variable": "$.object.Restore", "IsPresent": True, "Next": "RouteByRestoreState"},
            ],
            "Default": "ClaimRestore",
        },
        "RouteByRestoreState": {
            "Type": "Choice",
            "Comment": "S3's x-amz-restore header: a restore is running, or the restored copy is there.",
            "Choices": [
                {"Variable": "$.object.Restore", "StringMatches": '*ongoing-request="true"*',
                 "Next": "JoinOngoingRestore"},
                {"Variable": "$.object.Restore", "StringMatches": '*ongoing-request="false"*',
                 "Next": "CheckExtension"},
            ],
            "Default": "ClaimRestore",
        },
        "CheckExtension": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Comment": "The copy is there: do the requested days reach past its expiry? (ASL has no date arithmetic.)",
            "Parameters": {"FunctionName": s.restore_state_function_arn,
                           "Payload": {"step": "extension", "restore.$": "$.object.Restore",
                                       "days.$": "$.request.days", "now.$": "$$.State.EnteredTime"}},
            "ResultSelector": {"extend.$": "$.Payload.extend", "currentExpiry.$": "$.Payload.currentExpiry",
                               "requestedExpiry.$": "$.Payload.requestedExpiry"},
            "ResultPath": "$.extension",
            "Retry": LAMBDA_RETRY,
            "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.failure", "Next": "ExtensionUnknown"}],
            "Next": "ExtendOrJoin",
        },
        "ExtensionUnknown": _fail("RestoreFailed", cause_path=(
            "States.Format('Whether the restored copy of {} needs extending could not be decided: {}', "
            "$.request.key, $.failure.Cause)")),
        "ExtendOrJoin": {
            "Type": "Choice",
            "Comment": "More days than remain: S3 extends a restored copy when RestoreObject is sent again.",
            "Choices": [{"Variable": "$.extension.extend", "BooleanEquals": True, "Next": "ExtendRestore"}],
            "Default": "AlreadyRestored",
        },
        "ExtendRestore": {
            "Type": "Task",
            "Resource": _sdk("s3", "restoreObject"),
            "Parameters": {"Bucket": s.bucket, "Key.$": "$.request.key",
                           "RestoreRequest": {"Days.$": "$.request.days"}},
            "ResultPath": None,
            "Retry": S3_RETRY,
            "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.failure", "Next": "ClassifyExtendError"}],
            "Next": "RestoreExtended",
        },
        "ClassifyExtendError": {"Type": "Choice", "Choices": [_s3_transient("ExtendRestore")],
                                "Default": "ExtendFailed"},
        **_s3_retry_states("ExtendRestore"),
        "ExtendFailed": _fail("RestoreFailed", cause_path="$.failure.Cause"),
        "RecordExtension": {
            "Type": "Task",
            "Resource": _ddb("updateItem"),
            "Comment": "The requester joins the record, which now carries the extended expiry.",
            "Parameters": {
                "TableName": s.table,
                "Key": {"objectKey": {"S.$": "$.request.key"}},
                "UpdateExpression": ("ADD requesters :email, principals :principal SET days = :days, "
                                     "restoreExpiryTime = :expiry, extendedAt = :now, updatedAt = :now"),
                "ConditionExpression": "attribute_exists(objectKey) AND #status <> :expired",
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": {
                    ":email": {"SS.$": "States.Array($.request.email)"},
                    ":principal": {"SS.$": "States.Array($.caller.principal)"},
                    ":days": {"N.$": "States.JsonToString($.request.days)"},
                    ":expiry": {"S.$": "$.extension.requestedExpiry"},
                    ":now": {"S.$": "$$.State.EnteredTime"},
                    ":expired": {"S": STATUS_EXPIRED},
                },
            },
            "ResultPath": None,
            "Retry": DYNAMODB_RETRY,
            "Catch": [
                {"ErrorEquals": ["DynamoDB.ConditionalCheckFailedException"], "ResultPath": "$.failure",
                 "Next": "RestoreStartedElsewhere"},
                {"ErrorEquals": ["States.ALL"], "ResultPath": "$.failure", "Next": "RecordFailed"},
            ],
            "Next": "SendConfirmation",
        },
        "NotArchived": _fail("NotArchived", cause_path=(
            "States.Format('key: {} is not in S3 Glacier Flexible Retrieval or Deep Archive, "
            "so it needs no restore', $.request.key)")),
        "ExpeditedNotAvailable": _fail("InvalidRequest",
                                       "tier: Expedited is not available for DEEP_ARCHIVE objects; "
                                       "use Standard or Bulk"),
        "ClaimRestore": {
            "Type": "Task",
            "Resource": _ddb("updateItem"),
            "Comment": "Write ahead: record the new restore before starting it, so that concurrent requests join "
                       "this record and a failed restore is recorded too. A record of an expired, restored or "
                       "failed cycle is replaced (S3 shows no restore, so that cycle is over).",
            "Parameters": {
                "TableName": s.table,
                "Key": {"objectKey": {"S.$": "$.request.key"}},
                "UpdateExpression": (
                    "SET #status = :inProgress, origin = :request, tier = :tier, days = :days, storageClass = :class, "
                    "sizeBytes = :size, eTag = :etag, requesters = :email, principals = :principal, "
                    "notifications = :none, requestedAt = :now, requestId = :id "
                    "REMOVE completedAt, restoreExpiryTime, costEstimate, completionNotifications, expiredAt, "
                    "failure, updatedAt"),
                "ConditionExpression": "attribute_not_exists(objectKey) OR #status IN (:expired, :restored, :failed)",
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": {
                    ":inProgress": {"S": STATUS_IN_PROGRESS}, ":request": {"S": "request"},
                    ":tier": {"S.$": "$.request.tier"}, ":days": {"N.$": "States.JsonToString($.request.days)"},
                    ":class": {"S.$": "$.object.StorageClass"},
                    ":size": {"N.$": "States.JsonToString($.object.ContentLength)"},
                    ":etag": {"S.$": "$.object.ETag"},
                    ":email": {"SS.$": "States.Array($.request.email)"},
                    ":principal": {"SS.$": "States.Array($.caller.principal)"},
                    ":none": {"M": {}}, ":now": {"S.$": "$$.State.EnteredTime"}, ":id": {"S.$": "$$.Execution.Name"},
                    ":expired": {"S": STATUS_EXPIRED}, ":restored": {"S": STATUS_RESTORED},
                    ":failed": {"S": STATUS_FAILED},
                },
            },
            "ResultPath": None,
            "Retry": DYNAMODB_RETRY,
            "Catch": [
                {"ErrorEquals": ["DynamoDB.ConditionalCheckFailedException"], "ResultPath": "$.failure",
                 "Next": "JoinClaimedRestore"},
                {"ErrorEquals": ["States.ALL"], "ResultPath": "$.failure", "Next": "NotRecorded"},
            ],
            "Next": "RestoreObject",
        },
        "JoinClaimedRestore": {
            "Type": "Task",
            "Resource": _ddb("updateItem"),
            "Comment": "Another request claimed this restore a moment ago: join it, then ask S3 anyway (S3 starts "
                       "the restore once and answers the other request with RestoreAlreadyInProgress).",
            "Parameters": {
                "TableName": s.table,
                "Key": {"objectKey": {"S.$": "$.request.key"}},
                "UpdateExpression": "ADD requesters :email, principals :principal SET updatedAt = :now",
                "ExpressionAttributeValues": {
                    ":email": {"SS.$": "States.Array($.request.email)"},
                    ":principal": {"SS.$": "States.Array($.caller.principal)"},
                    ":now": {"S.$": "$$.State.EnteredTime"},
                },
            },
            "ResultPath": None,
            "Retry": DYNAMODB_RETRY,
            "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.failure", "Next": "NotRecorded"}],
            "Next": "RestoreObject",
        },
        "NotRecorded": _fail("RecordFailed", cause_path=(
            "States.Format('The request for {} could not be recorded ({}), so no restore was started; send it "
            "again', $.request.key, $.failure.Error)")),
        "RestoreObject": {
            "Type": "Task",
            "Resource": _sdk("s3", "restoreObject"),
            "Parameters": {
                "Bucket": s.bucket,
                "Key.$": "$.request.key",
                "RestoreRequest": {"Days.$": "$.request.days", "GlacierJobParameters": {"Tier.$": "$.request.tier"}},
            },
            "ResultPath": None,
            "Retry": S3_RETRY,
            "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.failure", "Next": "ClassifyRestoreError"}],
            "Next": "RestoreStarted",
        },
        "ClassifyRestoreError": {
            "Type": "Choice",
            "Comment": "S3 answers 409 RestoreAlreadyInProgress when another restore won the race; 5xx is "
                       "retried; any other answer is final.",
            "Choices": [{"Or": [{"Variable": "$.failure.Cause", "StringMatches": "*RestoreAlreadyInProgress*"},
                                {"Variable": "$.failure.Cause", "StringMatches": "*already in progress*"}],
                         "Next": "JoinOngoingRestore"},
                        _s3_transient("RestoreObject")],
            "Default": "MarkRestoreFailed",
        },
        **_s3_retry_states("RestoreObject"),
        "MarkRestoreFailed": {
            "Type": "Task",
            "Resource": _ddb("updateItem"),
            "Comment": "Only the request that claimed the record marks it failed (a joining request leaves it).",
            "Parameters": {
                "TableName": s.table,
                "Key": {"objectKey": {"S.$": "$.request.key"}},
                "UpdateExpression": "SET #status = :failed, failure = :failure",
                "ConditionExpression": "requestId = :id",
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": {
                    ":failed": {"S": STATUS_FAILED},
                    ":failure": {"S.$": "States.Format('{}: {}', $.failure.Error, $.failure.Cause)"},
                    ":id": {"S.$": "$$.Execution.Name"},
                },
            },
            "ResultPath": None,
            "Retry": DYNAMODB_RETRY,
            "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.markFailure", "Next": "RouteRestoreFailure"}],
            "Next": "RouteRestoreFailure",
        },
        "RouteRestoreFailure": {
            "Type": "Choice",
            "Comment": "S3 refuses to restore an object that left the archive classes since HeadObject.",
            "Choices": [{"Or": [{"Variable": "$.failure.Error", "StringEquals": "S3.InvalidObjectStateException"},
                                {"Variable": "$.failure.Error",
                                 "StringEquals": "S3.ObjectAlreadyInActiveTierErrorException"}],
                         "Next": "NotArchived"}],
            "Default": "RestoreFailed",
        },
        "RestoreFailed": _fail("RestoreFailed", cause_path="$.failure.Cause"),
        "RestoreStarted": _outcome(
            "restore-started", STATUS_IN_PROGRESS, "Restore of {} started",
            "Your request to restore {} from the archive was accepted. Tier: {}. The restored copy stays "
            "available for {} days after the restore completes. You will get another email with the cost "
            "estimate and download instructions when it is ready.", restore_email_args, "SendConfirmation",
            this_request_sets_tier=True),
        "JoinOngoingRestore": _outcome(
            "joined-restore", STATUS_IN_PROGRESS, "Restore of {} already in progress",
            "A restore of {} is already in progress. You have been added to the people notified when it "
            "completes; you will then get the cost estimate and download instructions.",
            ["$.request.key"], "AddRequester", this_request_sets_tier=False),
        "RestoreExtended": _outcome(
            "restore-extended", STATUS_RESTORED, "{} stays restored longer",
            "{} is restored and, as you asked, its copy now stays available until {}. " + download_hint,
            ["$.request.key", "$.extension.requestedExpiry"], "RecordExtension", this_request_sets_tier=False),
        "AlreadyRestored": _outcome(
            "already-restored", STATUS_RESTORED, "{} is already restored",
            "{} is already restored and available for download. " + download_hint,
            ["$.request.key"], "AddRequester", this_request_sets_tier=False),
        "RecordExternalRestore": {
            "Type": "Task",
            "Resource": _ddb("putItem"),
            "Comment": "S3 shows a restore (running or done) that no current record describes.",
            "Parameters": {
                "TableName": s.table,
                "Item": {
                    "objectKey": {"S.$": "$.request.key"},
                    "status": {"S.$": "$.outcome.status"},
                    "origin": {"S.$": "$.outcome.origin"},
                    "tier": {"S.$": "$.outcome.tier"},
                    "days": {"N.$": "States.JsonToString($.outcome.days)"},
                    "storageClass": {"S.$": "$.object.StorageClass"},
                    "sizeBytes": {"N.$": "States.JsonToString($.object.ContentLength)"},
                    "eTag": {"S.$": "$.object.ETag"},
                    "requesters": {"SS.$": "States.Array($.request.email)"},
                    "principals": {"SS.$": "States.Array($.caller.principal)"},
                    "notifications": {"M": {}},
                    "requestedAt": {"S.$": "$$.State.EnteredTime"},
                    "requestId": {"S.$": "$$.Execution.Name"},
                },
            },
            "ResultPath": None,
            "Retry": DYNAMODB_RETRY,
            "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.failure", "Next": "RecordFailed"}],
            "Next": "SendConfirmation",
        },
        "RecordFailed": _fail("RecordFailed", cause_path=(
            "States.Format('The restore of {} is under way but could not be recorded ({}); send the "
            "request again to be added to it', $.request.key, $.failure.Error)")),
        "AddRequester": {
            "Type": "Task",
            "Resource": _ddb("updateItem"),
            "Comment": "Idempotent: adding the same requester twice leaves one entry (string sets).",
            "Parameters": {
                "TableName": s.table,
                "Key": {"objectKey": {"S.$": "$.request.key"}},
                "UpdateExpression": "ADD requesters :email, principals :principal SET updatedAt = :now",
                # Join the current record unless it describes an expired restore (or is missing).
                "ConditionExpression": "attribute_exists(objectKey) AND #status <> :expired",
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": {
                    ":email": {"SS.$": "States.Array($.request.email)"},
                    ":principal": {"SS.$": "States.Array($.caller.principal)"},
                    ":now": {"S.$": "$$.State.EnteredTime"},
                    ":expired": {"S": STATUS_EXPIRED},
                },
            },
            "ResultPath": None,
            "Retry": DYNAMODB_RETRY,
            "Catch": [
                {"ErrorEquals": ["DynamoDB.ConditionalCheckFailedException"], "ResultPath": "$.failure",
                 "Next": "RestoreStartedElsewhere"},
                {"ErrorEquals": ["States.ALL"], "ResultPath": "$.failure", "Next": "RecordFailed"},
            ],
            "Next": "SendConfirmation",
        },
        "RestoreStartedElsewhere": {
            "Type": "Pass",
            "Comment": "S3 shows a restore this service has no current record of: record it as external.",
            "Parameters": {
                "code.$": "$.outcome.code", "status.$": "$.outcome.status", "origin": "external",
                "tier": "unknown", "days": 0,
                "emailSubject.$": "$.outcome.emailSubject", "emailBody.$": "$.outcome.emailBody",
            },
            "ResultPath": "$.outcome",
            "Next": "RecordExternalRestore",
        },
        "SendConfirmation": {
            "Type": "Task",
            "Resource": _sdk("sesv2", "sendEmail"),
            "Parameters": {
                "FromEmailAddress": s.sender,
                "Destination": {"ToAddresses.$": "States.Array($.request.email)"},
                "Content": {"Simple": {
                    "Subject": {"Data.$": "$.outcome.emailSubject", "Charset": "UTF-8"},
                    "Body": {"Text": {"Data.$": "$.outcome.emailBody", "Charset": "UTF-8"}},
                }},
            },
            "ResultSelector": {"state": "SENT", "detail.$": "$.MessageId"},
            "ResultPath": "$.notification",
            "Retry": SES_RETRY,
            "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.failure", "Next": "NotificationFailed"}],
            "Next": "RecordNotification",
        },
        "NotificationFailed": {
            "Type": "Pass",
            "Comment": "The request stays recorded and accepted; the failed email is recorded with it.",
            "Parameters": {"state": "FAILED", "detail.$": "States.Format('{}: {}', $.failure.Error, "
                                                            "$.failure.Cause)"},
            "ResultPath": "$.notification",
            "Next": "RecordNotification",
        },
        "RecordNotification": {
            "Type": "Task",
            "Resource": _ddb("updateItem"),
            "Parameters": {
                "TableName": s.table,
                "Key": {"objectKey": {"S.$": "$.request.key"}},
                "UpdateExpression": "SET notifications.#email = :notification",
                "ExpressionAttributeNames": {"#email.$": "$.request.email"},
                "ExpressionAttributeValues": {":notification": {"M": {
                    "state": {"S.$": "$.notification.state"},
                    "detail": {"S.$": "$.notification.detail"},
                    "at": {"S.$": "$$.State.EnteredTime"},
                }}},
            },
            "ResultPath": None,
            "Retry": DYNAMODB_RETRY,
            "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.notificationRecordFailure",
                       "Next": "Answer"}],
            "Next": "Answer",
        },
        "Answer": {
            "Type": "Pass",
            "Parameters": {
                "outcome.$": "$.outcome.code",
                "key.$": "$.request.key",
                "tier.$": "$.outcome.tier",
                "days.$": "$.outcome.days",
                "storageClass.$": "$.object.StorageClass",
                "message.$": "$.outcome.emailBody",
                "notification.$": "$.notification.state",
                "requestId.$": "$$.Execution.Name",
            },
            "End": True,
        },
    }
    if "Expedited" not in s.allowed_tiers:
        del states["ExpeditedNotAvailable"]
    return {
        "Comment": f"{s.service_name}: validate a restore request, start the S3 restore with the requested "
                   "tier and days, record it and confirm by email.",
        "StartAt": "WithDefaults",
        # API Gateway stops waiting after 29 s: end first, so the caller gets the truthful TIMED_OUT answer.
        # A claim left without a restore is healed by the next request (JoinClaimedRestore asks S3 again).
        "TimeoutSeconds": REQUEST_TIMEOUT_SECONDS,
        "States": states,
    }


def events_definition(s: WorkflowSettings) -> dict[str, Any]:
    """The STANDARD workflow for S3 restore events: estimate, record and notify every requester; expiry."""
    ready_body = (
        "The archived object {} has been restored and can be downloaded until {}. Estimated cost of this "
        "restore: {} To download it, call GET " + s.download_endpoint + " with the query parameter key set "
        "to the URL-encoded object key, signed with the credentials you used for the request; the answer "
        "is a short-lived download link.")
    ready_args = "$.key, $.expiry, $.estimate"
    if s.site_url:
        # One click: the object's page on the site; after sign-in the download starts. The link names the key
        # only (percent-encoded by DecodeKey); it carries no credential, and the download route still checks
        # the signed-in user is a requester.
        ready_body = (
            "The archived object {} has been restored and can be downloaded until {}. Estimated cost of this "
            "restore: {} Download it here (you will be asked to sign in): " + s.site_url
            + "/object.html?download=1&key={}")
        ready_args = "$.key, $.expiry, $.estimate, $.linkKey"
    return {
        "Comment": f"{s.service_name}: handle S3 'Object Restore Completed' and 'Object Restore Expired' events.",
        "StartAt": "DecodeKey",
        "States": {
            "DecodeKey": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Comment": "S3 events carry URL-encoded keys ('red flower.jpg' arrives as 'red+flower.jpg'); the "
                           "records are stored under the key as requested.",
                "Parameters": {"FunctionName": s.restore_state_function_arn,
                               "Payload": {"step": "eventKey", "event.$": "$"}},
                "ResultSelector": {"key.$": "$.Payload.key", "linkKey.$": "$.Payload.linkKey"},
                "ResultPath": "$.object",
                "Retry": LAMBDA_RETRY,
                "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.failure", "Next": "KeyUnreadable"}],
                "Next": "RouteEvent",
            },
            "KeyUnreadable": _fail("KeyUnreadable", cause_path=(
                "States.Format('The object key of this S3 event could not be decoded: {}', $.failure.Cause)")),
            "RouteEvent": {
                "Type": "Choice",
                "Choices": [
                    {"Variable": "$.detail-type", "StringEquals": "Object Restore Completed", "Next": "LoadRecord"},
                    {"Variable": "$.detail-type", "StringEquals": "Object Restore Expired", "Next": "MarkExpired"},
                ],
                "Default": "UnexpectedEvent",
            },
            "UnexpectedEvent": _fail("UnexpectedEvent", "Only Object Restore Completed and Object Restore Expired "
                                                        "events are handled"),
            "LoadRecord": {
                "Type": "Task",
                "Resource": _ddb("getItem"),
                "Parameters": {"TableName": s.table, "Key": {"objectKey": {"S.$": "$.object.key"}},
                               "ConsistentRead": True},
                "ResultPath": "$.record",
                "Retry": DYNAMODB_RETRY,
                "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.failure", "Next": "CompletionFailed"}],
                "Next": "IsKnownRestore",
            },
            "IsKnownRestore": {
                "Type": "Choice",
                "Comment": "Only a restore in progress is completed here: EventBridge may deliver an event twice "
                           "(the record is then RESTORED already), and old cycles have nobody left to notify.",
                "Choices": [
                    {"Not": {"Variable": "$.record.Item", "IsPresent": True}, "Next": "NotRequestedHere"},
                    {"Variable": "$.record.Item.status.S", "StringEquals": STATUS_IN_PROGRESS,
                     "Next": "ClaimCompletion"},
                    {"Variable": "$.record.Item.status.S", "StringEquals": STATUS_RESTORED,
                     "Next": "AlreadyCompleted"},
                ],
                "Default": "NotRequestedHere",
            },
            "ClaimCompletion": {
                "Type": "Task",
                "Resource": _ddb("updateItem"),
                "Comment": "EventBridge delivers at least once, so two executions may read the same restore in "
                           "progress: only the one whose conditional write turns it RESTORED goes on to count it "
                           "for its batches and notify its requesters; the other ends as a repeated event.",
                "Parameters": {
                    "TableName": s.table,
                    "Key": {"objectKey": {"S.$": "$.object.key"}},
                    "UpdateExpression": "SET #status = :restored, completedAt = :at, restoreExpiryTime = :expiry",
                    "ConditionExpression": "#status = :inProgress AND requestId = :cycle",
                    "ExpressionAttributeNames": {"#status": "status"},
                    "ExpressionAttributeValues": {
                        ":restored": {"S": STATUS_RESTORED},
                        ":inProgress": {"S": STATUS_IN_PROGRESS},
                        ":cycle": {"S.$": "$.record.Item.requestId.S"},
                        ":at": {"S.$": "$.time"},
                        ":expiry": {"S.$": "$.detail.restore-expiry-time"},
                    },
                },
                "ResultPath": None,
                "Retry": DYNAMODB_RETRY,
                "Catch": [
                    {"ErrorEquals": ["DynamoDB.ConditionalCheckFailedException"], "ResultPath": None,
                     "Next": "AlreadyCompleted"},
                    {"ErrorEquals": ["States.ALL"], "ResultPath": "$.failure", "Next": "CompletionFailed"},
                ],
                "Next": "HasBatches" if s.batches_table else "EstimateCost",
            },
            "AlreadyCompleted": {
                "Type": "Pass",
                "Comment": "A repeated completion event: the first delivery counted it and notified the requesters.",
                "Parameters": {"outcome": "already-completed", "key.$": "$.object.key"},
                "End": True,
            },
            "NotRequestedHere": {
                "Type": "Pass",
                "Comment": "A restore nobody asked this service for: nobody to notify or charge.",
                "Parameters": {"outcome": "ignored", "key.$": "$.object.key",
                               "reason": "no restore request in progress is recorded for this object"},
                "End": True,
            },
            "EstimateCost": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {
                    "FunctionName": s.cost_function_arn,
                    "Payload": {
                        "sizeBytes.$": "$.detail.object.size",
                        "tier.$": "$.record.Item.tier.S",
                        "days.$": "$.record.Item.days.N",
                        "storageClass.$": "$.record.Item.storageClass.S",
                        "region.$": "$.region",
                    },
                },
                "ResultSelector": {"estimate.$": "$.Payload"},
                "ResultPath": "$.cost",
                "Retry": LAMBDA_RETRY,
                "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.failure", "Next": "EstimateUnavailable"}],
                "Next": "RecordCompletion",
            },
            "EstimateUnavailable": {
                "Type": "Pass",
                "Comment": "Requesters still learn the object is ready; IT prices this restore by hand.",
                "Parameters": {"estimate": {
                    "available": False,
                    "summary": "not available (the calculation failed; the IT team will price this restore).",
                    "error.$": "$.failure.Error",
                }},
                "ResultPath": "$.cost",
                "Next": "RecordCompletion",
            },
            "RecordCompletion": {
                "Type": "Task",
                "Resource": _ddb("updateItem"),
                "Parameters": {
                    "TableName": s.table,
                    "Key": {"objectKey": {"S.$": "$.object.key"}},
                    "UpdateExpression": "SET costEstimate = :estimate",
                    "ExpressionAttributeValues": {
                        ":estimate": {"S.$": "States.JsonToString($.cost.estimate)"},
                    },
                },
                "ResultPath": None,
                "Retry": DYNAMODB_RETRY,
                "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.failure", "Next": "CompletionFailed"}],
                "Next": "NotifyRequesters",
            },
            "NotifyRequesters": {
                "Type": "Map",
                "Comment": "Every requester of this restore, not only the latest.",
                "ItemsPath": "$.record.Item.requesters.SS",
                "ItemSelector": {
                    "email.$": "$$.Map.Item.Value",
                    "key.$": "$.object.key",
                    "linkKey.$": "$.object.linkKey",
                    "expiry.$": "$.detail.restore-expiry-time",
                    "estimate.$": "$.cost.estimate.summary",
                },
                "MaxConcurrency": 10,
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "INLINE"},
                    "StartAt": "SendReadyEmail",
                    "States": {
                        "SendReadyEmail": {
                            "Type": "Task",
                            "Resource": _sdk("sesv2", "sendEmail"),
                            "Parameters": {
                                "FromEmailAddress": s.sender,
                                "Destination": {"ToAddresses.$": "States.Array($.email)"},
                                "Content": {"Simple": {
                                    "Subject": {"Data.$": "States.Format('{} is restored', $.key)",
                                                "Charset": "UTF-8"},
                                    "Body": {"Text": {"Data.$": "States.Format('" + ready_body + "', " + ready_args
                                                                + ")", "Charset": "UTF-8"}},
                                }},
                            },
                            "ResultSelector": {"messageId.$": "$.MessageId"},
                            "ResultPath": "$.sent",
                            "Retry": SES_RETRY,
                            "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.failure",
                                       "Next": "ReadyEmailFailed"}],
                            "Next": "ReadyEmailSent",
                        },
                        "ReadyEmailSent": {
                            "Type": "Pass",
                            "Parameters": {"email.$": "$.email", "state": "SENT", "detail.$": "$.sent.messageId"},
                            "End": True,
                        },
                        "ReadyEmailFailed": {
                            "Type": "Pass",
                            "Parameters": {"email.$": "$.email", "state": "FAILED",
                                           "detail.$": "States.Format('{}: {}', $.failure.Error, $.failure.Cause)"},
                            "End": True,
                        },
                    },
                },
                "ResultPath": "$.notifications",
                "Next": "RecordNotifications",
            },
            "RecordNotifications": {
                "Type": "Task",
                "Resource": _ddb("updateItem"),
                "Parameters": {
                    "TableName": s.table,
                    "Key": {"objectKey": {"S.$": "$.object.key"}},
                    "UpdateExpression": "SET completionNotifications = :notifications",
                    "ExpressionAttributeValues": {
                        ":notifications": {"S.$": "States.JsonToString($.notifications)"},
                    },
                },
                "ResultPath": None,
                "Retry": DYNAMODB_RETRY,
                "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.failure", "Next": "CompletionFailed"}],
                "Next": "Notified",
            },
            "Notified": {
                "Type": "Pass",
                "Parameters": {"outcome": "requesters-notified", "key.$": "$.object.key",
                               "estimate.$": "$.cost.estimate", "notifications.$": "$.notifications"},
                "End": True,
            },
            "MarkExpired": {
                "Type": "Task",
                "Resource": _ddb("updateItem"),
                "Parameters": {
                    "TableName": s.table,
                    "Key": {"objectKey": {"S.$": "$.object.key"}},
                    "UpdateExpression": "SET #status = :expired, expiredAt = :at",
                    "ConditionExpression": "attribute_exists(objectKey)",
                    "ExpressionAttributeNames": {"#status": "status"},
                    "ExpressionAttributeValues": {":expired": {"S": STATUS_EXPIRED}, ":at": {"S.$": "$.time"}},
                },
                "ResultPath": None,
                "Retry": DYNAMODB_RETRY,
                "Catch": [
                    {"ErrorEquals": ["DynamoDB.ConditionalCheckFailedException"], "ResultPath": "$.failure",
                     "Next": "NotRequestedHere"},
                    {"ErrorEquals": ["States.ALL"], "ResultPath": "$.failure", "Next": "CompletionFailed"},
                ],
                "Next": "Expired",
            },
            "Expired": {
                "Type": "Pass",
                "Parameters": {"outcome": "expired", "key.$": "$.object.key"},
                "End": True,
            },
            **(_batch_completion_states(s) if s.batches_table else {}),
            "CompletionFailed": _fail("RecordUnavailable", cause_path=(
                "States.Format('The restore record of {} could not be read or written: {}', "
                "$.object.key, $.failure.Cause)")),
        },
    }


def _batch_completion_states(s: WorkflowSettings) -> dict[str, Any]:
    """A completed object of bulk batches counts for each batch (and may complete its summary); an object only
    batches asked for gets no cost estimate or email of its own (its batch was priced before it started)."""
    from serverless_patterns.glacier_restore.bulk import summary_states

    return {
        "HasBatches": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.record.Item.batchIds.SS", "IsPresent": True, "Next": "CountForBatches"}],
            "Default": "EstimateCost",
        },
        "CountForBatches": {
            "Type": "Map",
            "ItemsPath": "$.record.Item.batchIds.SS",
            "ItemSelector": {"batchId.$": "$$.Map.Item.Value"},
            "MaxConcurrency": 10,
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "INLINE"},
                "StartAt": "CountCompletion",
                "States": {
                    "CountCompletion": {
                        "Type": "Task",
                        "Resource": _ddb("updateItem"),
                        "Parameters": {"TableName": s.batches_table, "Key": {"batchId": {"S.$": "$.batchId"}},
                                       "UpdateExpression": "ADD completed :one",
                                       "ExpressionAttributeValues": {":one": {"N": "1"}}},
                        "ResultPath": None,
                        "Retry": DYNAMODB_RETRY,
                        "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.failure",
                                   "Next": "EventSummaryUnavailable"}],
                        "Next": "EventClaimSummary",
                    },
                    **summary_states(s.batches_table, s.sender, s.work_bucket, s.service_name, prefix="Event",
                                     batch_path="$.batchId"),
                },
            },
            "ResultPath": None,
            "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.failure", "Next": "CompletionFailed"}],
            "Next": "HasRequesters",
        },
        "HasRequesters": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.record.Item.requesters.SS", "IsPresent": True, "Next": "EstimateCost"}],
            "Default": "BatchObjectRestored",
        },
        "BatchObjectRestored": {
            "Type": "Pass",
            "Parameters": {"outcome": "batch-object-restored", "key.$": "$.object.key",
                           "batches.$": "$.record.Item.batchIds.SS"},
            "End": True,
        },
    }
