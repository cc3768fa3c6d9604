"""API Gateway mapping templates (VTL) for `POST /restores` → `states:StartSyncExecution`.

StartSyncExecution answers HTTP 200 even when the execution FAILED, so the response template reads
the execution's `status` and `error` and sets the real HTTP status with `responseOverride`:

- SUCCEEDED → 202 (restore started or joined) or 200 (already restored, or its copy extended), body = the
  workflow output;
- FAILED with a client error of the workflow (`definitions.CLIENT_ERRORS`) → 400/404 with the reason;
- anything else (FAILED for another reason, TIMED_OUT, ABORTED) → 500/504 with a generic message and
  the request id; the details stay in the workflow's logs. Never a success for a failure.
"""

from __future__ import annotations

import json
from typing import Any, cast

from serverless_patterns.glacier_restore.definitions import CLIENT_ERRORS

#: Caller identity the workflow records per authorization mode (the download route checks it).
PRINCIPAL_EXPRESSIONS = {
    "iam": "$context.identity.userArn",
    "cognito": "$context.authorizer.claims.sub",
}

#: The JSON schema API Gateway checks before the workflow runs: a JSON object with known fields only.
#: Field values are validated by the workflow, which names the field in its 400 answer.
REQUEST_SCHEMA = {
    "$schema": "http://json-schema.org/draft-04/schema#",
    "title": "RestoreRequest",
    "type": "object",
    "properties": {"key": {}, "days": {}, "tier": {}, "email": {}},
    "additionalProperties": False,
}

_ESCAPED = ".replaceAll(\"\\\\'\", \"'\")"


def request_template(state_machine_arn: str, auth: str) -> str:
    """Start the workflow with the body, the authenticated caller and the API request id.

    With Cognito the caller's groups go along as `,a,b,`: API Gateway passes the `cognito:groups` claim as
    text (`a,b` or `[a b]`), and the group names this service knows have no commas, spaces, brackets, quotes
    or backslashes (checked at construction): those are dropped or made separators here, so the text needs no
    escaping and the workflow can match `*,group,*` exactly.
    """
    principal = PRINCIPAL_EXPRESSIONS[auth]
    lines = ["#set($body = $input.json('$'))", f"#set($principal = \"{principal}\")"]
    groups = ""
    if auth == "cognito":
        lines += ["#set($groups = \"$!context.authorizer.claims['cognito:groups']\")",
                  "#set($groups = $groups.replace('\"', '').replace('\\', '').replace(\"[\", \"\").replace(\"]\", \"\")"
                  ".replace(\" \", \",\"))"]
        groups = ", \\\"groups\\\": \\\",$groups,\\\""
    return "\n".join([
        *lines,
        "{",
        f"  \"stateMachineArn\": {json.dumps(state_machine_arn)},",
        "  \"name\": \"$context.requestId\",",
        "  \"input\": \"{\\\"body\\\": $util.escapeJavaScript($body)" + _ESCAPED
        + ", \\\"caller\\\": {\\\"principal\\\": \\\"$util.escapeJavaScript($principal)" + _ESCAPED
        + "\\\", \\\"sourceIp\\\": \\\"$context.identity.sourceIp\\\"" + groups + "}}\",",
        "  \"traceHeader\": \"$context.xrayTraceId\"",
        "}",
    ])


def response_template() -> str:
    """Translate the StartSyncExecution result into a truthful HTTP answer."""
    client_errors = [
        (f"$error == \"{error}\"", status) for error, status in sorted(CLIENT_ERRORS.items())
    ]
    lines = [
        "#set($status = $input.path('$.status'))",
        "#set($error = $input.path('$.error'))",
        "#if($status == \"SUCCEEDED\")",
        "#set($output = $util.parseJson($input.path('$.output')))",
        "#if($output.outcome == \"already-restored\" || $output.outcome == \"restore-extended\")",
        "#set($context.responseOverride.status = 200)",
        "#else",
        "#set($context.responseOverride.status = 202)",
        "#end",
        "$input.path('$.output')",
    ]
    for condition, status in client_errors:
        lines += [
            f"#elseif($status == \"FAILED\" && {condition})",
            f"#set($context.responseOverride.status = {status})",
            "{\"error\": \"$error\", \"message\": \"$util.escapeJavaScript($input.path('$.cause'))" + _ESCAPED
            + "\", \"requestId\": \"$context.requestId\"}",
        ]
    lines += [
        "#elseif($status == \"TIMED_OUT\")",
        "#set($context.responseOverride.status = 504)",
        "{\"error\": \"Timeout\", \"message\": \"The restore request took too long and was stopped; send it "
        "again.\", \"requestId\": \"$context.requestId\"}",
        "#else",
        "#set($context.responseOverride.status = 500)",
        "{\"error\": \"RestoreRequestFailed\", \"message\": \"The restore request could not be completed; it "
        "was logged under the request id.\", \"requestId\": \"$context.requestId\"}",
        "#end",
    ]
    return "\n".join(lines)


def start_failed_template() -> str:
    """Step Functions refused StartSyncExecution itself (throttled, misconfigured): a 5xx, never success."""
    return ("{\"error\": \"WorkflowUnavailable\", \"message\": \"The restore workflow could not be started; "
            "try again later.\", \"requestId\": \"$context.requestId\"}")


def bad_body_template() -> str:
    """The answer when the body is not a JSON object with known fields (API Gateway's request validator).

    Gateway response templates get plain variable substitution, not VTL (no `$util`), and the validator's
    detail (`$context.error.validationErrorString`) contains unescaped quotes, so the message is static.
    """
    fields = cast(dict[str, Any], REQUEST_SCHEMA["properties"])
    return ("{\"error\": \"InvalidRequest\", \"message\": \"body: must be a JSON object whose only fields are "
            + ", ".join(fields) + "\", \"requestId\": \"$context.requestId\"}")
