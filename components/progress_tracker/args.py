"""Arguments and limits of ProgressTracker."""


import json
from collections.abc import Mapping, Sequence
from typing import TypedDict

import pulumi

from serverless_patterns.core.function import FunctionSettings

CODE = "progress_tracker/websocket"
CLIENT_PATH = "lambdas/progress_tracker/client/index.html"
STAGE_PATTERN = r"^[A-Za-z0-9_-]{1,128}$"
HTTPS_PATTERN = r"^https://[^\s/$.?#][^\s]*$"
WORKFLOW_ARN_PATTERN = r"^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[A-Za-z0-9_-]{1,80}$"
#: The routes, their handler module and whether the client gets the handler's reply (two-way).
ROUTES: dict[str, tuple[str, str, bool]] = {
    "$connect": ("connect", "on_connect.handler", False),
    "$disconnect": ("disconnect", "on_disconnect.handler", False),
    "$default": ("default", "on_default.handler", True),
    "start": ("start", "on_start.handler", True),
    "resume": ("resume", "on_resume.handler", True),
}
ACCESS_LOG_FORMAT = json.dumps({
    "requestId": "$context.requestId", "ip": "$context.identity.sourceIp", "time": "$context.requestTime",
    "routeKey": "$context.routeKey", "eventType": "$context.eventType", "status": "$context.status",
    "connectionId": "$context.connectionId", "error": "$context.error.message",
    "integrationError": "$context.integrationErrorMessage", "authorizerError": "$context.authorizer.error",
}, separators=(",", ":"))
SFN_LOG_DELIVERY_ACTIONS = ["logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery",
                            "logs:DeleteLogDelivery", "logs:ListLogDeliveries", "logs:PutResourcePolicy",
                            "logs:DescribeResourcePolicies", "logs:DescribeLogGroups"]
#: Where failed progress posts are counted (metric filter on the demo workflow's execution log).
FAILED_POSTS_NAMESPACE = "ServerlessPatterns/ProgressTracker"
FAILED_POSTS_METRIC = "FailedProgressPosts"
#: Step Functions logs each failed attempt of a task as a `TaskFailed` event whose details carry the
#: integration's `resourceType` (botocore: stepfunctions TaskFailedEventDetails); `apigateway` is the
#: direct mode's `arn:aws:states:::apigateway:invoke` post to @connections.
FAILED_POSTS_FILTER = '{ ($.type = "TaskFailed") && ($.details.resourceType = "apigateway") }'
#: ReportProgress's own count of followers it could not reach (Powertools metrics, EMF).
REPORT_METRICS_NAMESPACE = "ServerlessPatterns"
REPORT_SERVICE = "progress-report"
XRAY_ACTIONS = ["xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules",
                "xray:GetSamplingTargets"]


class ProgressTrackerArgs(TypedDict, total=False):
    """Arguments of `ProgressTracker`."""

    stage_name: str
    """Name of the WebSocket API stage (default `live`); used in the URL, the ASL and the IAM scope."""
    demo_reporting_mode: str
    """How the demo order workflow reports: `direct` (default), `lambda` or `eventbridge`."""
    demo_wait_seconds: int
    """Seconds each Wait state of the demo order takes (0-3600, default 3)."""
    workflow_arn: pulumi.Input[str]
    """Your own state machine for the `start` action instead of the demo (add reporting with the helper)."""
    require_token: bool
    """Require a JWT (`?token=`) on `$connect`, verified by a Lambda REQUEST authorizer (default false)."""
    token_issuer: str
    """`iss` the tokens must carry (https URL); required with `require_token`."""
    token_audience: str
    """`aud` the tokens must carry; required with `require_token`."""
    token_jwks_url: str
    """Where the issuer's signing keys are (default `<issuer>/.well-known/jwks.json`)."""
    connection_ttl_hours: int
    """Hours a connection item lives (3-168, default 3: beyond API Gateway's 2-hour connection limit)."""
    progress_ttl_hours: int
    """Hours the latest progress of an execution is kept for `resume` (1-8760, default 48)."""
    throttling_rate_limit: float
    """Steady-state requests per second for the stage's routes (default 50)."""
    throttling_burst_limit: int
    """Burst for the stage's routes (default 100)."""
    event_retry_attempts: int
    """EventBridge retries of a failed delivery to ReportProgress (0-185, default 8)."""
    event_max_age_seconds: int
    """Age after which EventBridge (and Lambda's async retries of ReportProgress) stop retrying and
    dead-letter the event (60-21600: Lambda's event invoke config allows at most 21600; default 3600)."""
    alarm_actions: Sequence[pulumi.Input[str]]
    """ARNs (e.g. SNS topics) notified when progress could not be delivered (default: none)."""
    function_settings: FunctionSettings
    """Settings for every Lambda function (architecture, runtime, log retention, log level)."""
    tags: Mapping[str, str]
    """Tags for every taggable resource."""


