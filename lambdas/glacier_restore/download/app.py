"""`GET /download?key=...`: a short-lived presigned URL to a restored object, for the people who requested it.

The answer is a presigned GET URL only when the object's restored copy is available (S3 reports
`ongoing-request="false"`) and the authenticated caller is one of its requesters (the IAM identity or
Cognito user recorded by the request workflow, or a Cognito user whose verified email requested it).
Anything else is a 4xx with the reason.

The URL is signed with the credentials of a dedicated signer role (s3:GetObject on the bucket's objects,
kms:Decrypt through S3 where the bucket uses SSE-KMS), assumed here, not with the function's own
credentials: "If you created a presigned URL using a temporary token, then the URL expires when the token
expires, even if you created the URL with a later expiration time"
(https://repost.aws/knowledge-center/presigned-url-s3-bucket-expiration; S3 User Guide, "Who can create a
presigned URL": https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-presigned-url.html). The
function's session credentials can expire at any moment after a request starts, so a URL signed with them
may die before its stated lifetime. An assumed session has a known expiration: it is reused only while it
outlives a new URL by a margin, and renewed otherwise, so every URL lives as long as it says.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import (
    BadRequestError,
    ForbiddenError,
    NotFoundError,
    ServiceError,
    UnauthorizedError,
)
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.config import Config
from botocore.exceptions import ClientError

logger = Logger()
# Only botocore makes outbound calls here: patching every module X-Ray supports would import requests,
# httpx & co. on each cold start (https://docs.powertools.aws.dev/lambda/python/latest/core/tracer/).
tracer = Tracer(patch_modules=("botocore",))
metrics = Metrics()
app = APIGatewayRestResolver(strip_prefixes=["/iam"])

RETRIES = {"mode": "standard", "max_attempts": 4}
_ASSUMED_ROLE = re.compile(r"^arn:(?P<partition>[\w-]+):sts::(?P<account>\d{12}):assumed-role/(?P<role>[^/]+)/.+$")
_IAM_ARN = re.compile(
    r"^arn:(?P<partition>[\w-]+):iam::(?P<account>\d{12}):(?P<kind>user|role)/(?:.*/)?(?P<name>[^/]+)$")


#: SigV4 and the regional virtual-hosted endpoint: presigned URLs must be valid for this bucket's Region.
S3_CONFIG = Config(signature_version="s3v4", s3={"addressing_style": "virtual"}, retries=RETRIES)
#: A signer session is reused only while it outlives a new URL by this much (clock skew between Lambda and S3).
CLOCK_MARGIN_SECONDS = 60
#: RoleSessionName of the signer sessions (CloudTrail shows it; 2-64 of [\w+=,.@-], AssumeRole API reference).
SIGNER_SESSION_NAME = "presigned-downloads"


@dataclass(frozen=True)
class Signer:
    """An S3 client holding one assumed session of the signer role, and when that session ends."""

    client: Any
    expiration: datetime
    access_key_id: str


_signer: Signer | None = None


def now() -> datetime:
    """The current time (UTC), against which signer sessions are judged."""
    return datetime.now(UTC)


@lru_cache(maxsize=1)
def s3_client() -> Any:
    return boto3.client("s3", region_name=os.environ.get("AWS_REGION"), config=S3_CONFIG)


@lru_cache(maxsize=1)
def sts_client() -> Any:
    # The regional STS endpoint (botocore's default for new clients), not the global one.
    return boto3.client("sts", region_name=os.environ.get("AWS_REGION"), config=Config(retries=RETRIES))


def signer(ttl: int) -> Signer:
    """A signer session that outlives a URL of `ttl` seconds by the clock margin, assumed anew when needed.

    The session lasts `SIGNER_SESSION_SECONDS` (the component sets the most a chained role session may
    last: one hour), so one session signs many URLs before it is renewed.
    """
    global _signer
    needed = timedelta(seconds=ttl + CLOCK_MARGIN_SECONDS)
    if _signer is not None and _signer.expiration - now() >= needed:
        return _signer
    credentials = sts_client().assume_role(
        RoleArn=os.environ["SIGNER_ROLE_ARN"], RoleSessionName=SIGNER_SESSION_NAME,
        DurationSeconds=int(os.environ["SIGNER_SESSION_SECONDS"]))["Credentials"]
    expiration = credentials["Expiration"]
    if expiration - now() < needed:
        # Only a misconfiguration gets here (the component checks TTL + margin <= session length).
        logger.error("signer session too short for the URL lifetime",
                     extra={"expiration": expiration.isoformat(), "ttlSeconds": ttl})
        raise ServiceError(503, "The download service cannot sign a URL that lives as long as configured; "
                                "try again shortly.")
    client = boto3.client("s3", region_name=os.environ.get("AWS_REGION"), config=S3_CONFIG,
                          aws_access_key_id=credentials["AccessKeyId"],
                          aws_secret_access_key=credentials["SecretAccessKey"],
                          aws_session_token=credentials["SessionToken"])
    _signer = Signer(client, expiration, credentials["AccessKeyId"])
    return _signer


@lru_cache(maxsize=1)
def dynamodb_client() -> Any:
    return boto3.client("dynamodb", region_name=os.environ.get("AWS_REGION"), config=Config(retries=RETRIES))


#: The AWS_IAM-authorized copies of the routes a web-front-end deployment adds for programmatic callers.
IAM_PREFIX = "/iam"


def on_iam_route(event: Any) -> bool:
    """Whether API Gateway matched one of the `/iam/...` routes (AWS_IAM): read from the resource path it matched
    (its configuration, not anything the caller sends)."""
    return str((event.raw_event.get("requestContext") or {}).get("resourcePath") or "").startswith(IAM_PREFIX + "/")


def auth_mode(event: Any) -> str:
    """How API Gateway authenticated this request: `iam` on the `/iam/...` routes, else the component's mode."""
    return "iam" if on_iam_route(event) else os.environ.get("AUTH_MODE", "iam")


def principal_key(arn: str) -> str:
    """One identity per IAM role or user: sessions of the same role count as the same caller."""
    match = _ASSUMED_ROLE.fullmatch(arn)
    if match:
        return f"role:{match['account']}:{match['role']}"
    match = _IAM_ARN.fullmatch(arn)
    if match:
        return f"{match['kind']}:{match['account']}:{match['name']}"
    return arn


def caller_identities(event: Any) -> tuple[set[str], str | None]:
    """The caller's principal keys and, for Cognito users with a verified email, that email."""
    context = event.request_context
    if auth_mode(event) == "cognito":
        claims = (context.authorizer.claims or {}) if context.authorizer else {}
        sub = claims.get("sub")
        if not sub:
            raise UnauthorizedError("no Cognito identity on the request")
        verified = str(claims.get("email_verified", "")).lower() == "true"
        return {sub}, (claims.get("email", "").lower() or None) if verified else None
    arn = context.identity.user_arn
    if not arn:
        raise UnauthorizedError("no IAM identity on the request")
    return {principal_key(arn)}, None


def caller_groups(event: Any) -> list[str]:
    """The caller's Cognito groups: API Gateway passes the `cognito:groups` claim as text (`a,b` or `[a b]`)."""
    authorizer = event.request_context.authorizer
    raw = ((authorizer.claims or {}) if authorizer else {}).get("cognito:groups", "")
    if isinstance(raw, list):
        return [str(g) for g in raw]
    return [g for g in str(raw).strip("[]").replace(",", " ").split() if g]


def require_visible(event: Any, key: str) -> None:
    """With per-group prefixes (GROUP_PREFIXES), only keys under a prefix of one of the caller's groups."""
    by_group: dict[str, list[str]] = json.loads(os.environ.get("GROUP_PREFIXES", "{}"))
    if not by_group or on_iam_route(event):
        return  # group limits bind Cognito users; IAM callers are bound by their IAM policies
    allowed = sorted({p for g in caller_groups(event) for p in by_group.get(g, [])})
    if not any(key.startswith(p) for p in allowed):
        metrics.add_metric(name="DownloadsRefused", unit=MetricUnit.Count, value=1)
        raise ForbiddenError("key: outside the prefixes your Cognito groups may see ("
                             + (", ".join(allowed) or "none") + ")")


def is_requester(record: dict[str, Any], principals: set[str], email: str | None) -> bool:
    recorded = {principal_key(p) if p.startswith("arn:") else p for p in record.get("principals", {}).get("SS", [])}
    if principals & recorded:
        return True
    requesters = {e.lower() for e in record.get("requesters", {}).get("SS", [])}
    return email is not None and email in requesters


@app.get("/download")
@tracer.capture_method
def download() -> Response:
    key = app.current_event.get_query_string_value(name="key", default_value="")
    if not key:
        raise BadRequestError("key: the query parameter key (the object key to download) is required")
    require_visible(app.current_event, key)
    principals, email = caller_identities(app.current_event)
    bucket = os.environ["BUCKET_NAME"]
    record = dynamodb_client().get_item(TableName=os.environ["TABLE_NAME"], Key={"objectKey": {"S": key}},
                                        ConsistentRead=True).get("Item")
    if record is None:
        raise NotFoundError(f"key: no restore of {key} was requested through this service")
    if not is_requester(record, principals, email):
        metrics.add_metric(name="DownloadsRefused", unit=MetricUnit.Count, value=1)
        raise ForbiddenError(f"key: you are not among the requesters of the restore of {key}; request it first")
    try:
        head = s3_client().head_object(Bucket=bucket, Key=key)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            raise NotFoundError(f"key: {key} is no longer in the archive") from None
        raise
    restore = head.get("Restore")
    archived = head.get("StorageClass") in ("GLACIER", "DEEP_ARCHIVE")
    if archived and restore is None:
        raise ServiceError(410, f"key: the restored copy of {key} has expired; request a new restore")
    if archived and 'ongoing-request="true"' in restore:
        raise ServiceError(409, f"key: the restore of {key} is still in progress; you will get an email when it "
                                "is ready")
    ttl = int(os.environ.get("URL_TTL_SECONDS", "900"))
    url = signer(ttl).client.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key},
                                                    ExpiresIn=ttl)
    expiry = None
    if restore:
        match = re.search(r'expiry-date="([^"]+)"', restore)
        expiry = match.group(1) if match else None
    metrics.add_metric(name="DownloadsGranted", unit=MetricUnit.Count, value=1)
    logger.info("download granted", extra={"key": key, "principals": sorted(principals)})
    return Response(status_code=200, content_type=content_types.APPLICATION_JSON,
                    body={"key": key, "url": url, "expiresInSeconds": ttl, "restoredCopyAvailableUntil": expiry})


@app.exception_handler(ClientError)
def aws_unavailable(error: ClientError) -> Response:
    """DynamoDB or S3 failed after retries: a retryable 503, with the detail in the logs only."""
    logger.exception("AWS call failed", extra={"code": error.response.get("Error", {}).get("Code")})
    return Response(status_code=503, content_type=content_types.APPLICATION_JSON,
                    body={"statusCode": 503, "message": "The download service is unavailable; try again shortly."})


def with_cors(response: dict[str, Any]) -> dict[str, Any]:
    """Let the web front end (and only it) read the answer: `Access-Control-Allow-Origin` = its origin.

    The component sets `ALLOWED_ORIGIN` to the site's URL when it serves one; without it, no CORS header."""
    origin = os.environ.get("ALLOWED_ORIGIN", "")
    if origin:
        response.setdefault("multiValueHeaders", {})["Access-Control-Allow-Origin"] = [origin]
    return response


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return with_cors(app.resolve(event, context))
