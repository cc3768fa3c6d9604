"""Arguments and limits of GlacierRestore (TypedDicts a checker and the schema read)."""

import json
from collections.abc import Mapping, Sequence
from typing import Any, Required, TypedDict

import pulumi

from serverless_patterns.core.function import FunctionSettings

#: Upper bound this library puts on `max_days`. S3 itself only requires Days >= 1; a restored copy is
#: billed at S3 Standard rates on top of the archive, so keeping it over a year costs more than copying
#: the object out of the archive class.
MAX_RESTORE_DAYS = 365
#: Regions that serve the AWS Price List API.
PRICING_REGIONS = ("us-east-1", "eu-central-1", "ap-south-1")
#: Download URLs are signed with a session of the signer role, which the function assumes with its own
#: role's session: role chaining, limited to one hour (STS AssumeRole, DurationSeconds). The role's
#: MaxSessionDuration (3600..43200, IAM CreateRole) and SigV4's 7-day presign limit are both larger.
SIGNER_SESSION_SECONDS = 3600
#: A URL must end before the session that signed it ("If you created a presigned URL using a temporary
#: token, then the URL expires when the token expires"), with the download function's 60 s clock margin.
MAX_DOWNLOAD_URL_TTL = SIGNER_SESSION_SECONDS - 60
AUTH_MODES = ("iam", "cognito")
#: `group_prefixes` travel as JSON in the environment of the service and download functions, and Lambda allows
#: 4 KB of environment variables per function in aggregate (Lambda quotas:
#: https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html); half of it is left to the rest.
MAX_GROUP_PREFIXES_BYTES = 2048
#: ListObjectsV2 answers at most 1,000 keys per page (MaxKeys).
MAX_BROWSE_PAGE_SIZE = 1000
#: S3 object keys (and so prefixes) are at most 1,024 bytes of UTF-8.
MAX_KEY_BYTES = 1024
#: Bulk restores: the largest batch this library lets you configure, and the restore rate's ceiling (below
#: S3's documented 1,000 restore requests per second per account, leaving room for single requests).
MAX_BULK_OBJECTS = 1_000_000
MAX_BULK_RESTORE_RATE = 900
#: Items per child execution: 200 keys of at most 1,024 bytes stay far below the 256 KiB payload limit.
MAX_BULK_BATCH_SIZE = 200
#: Days the work bucket keeps item lists and per-object results.
WORK_RETENTION_DAYS = 90
BUCKET_NAME_PATTERN = r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]"
#: A KMS key ARN (single- or multi-Region key). Not an alias: IAM authorizes kms:Decrypt against the key ARN
#: ("Using aliases to control access to KMS keys": an alias in a policy's Resource does not match the key,
#: https://docs.aws.amazon.com/kms/latest/developerguide/alias-authorization.html).
KMS_KEY_ARN_PATTERN = (r"arn:aws[\w-]*:kms:[a-z0-9-]+:\d{12}:key/"
                       r"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})")
DOMAIN_PATTERN = r"([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}"
#: A Cognito hosted UI domain prefix: lowercase letters, digits and hyphens, not at either end, and without the
#: reserved words `aws`, `amazon` or `cognito` (CreateUserPoolDomain, Domain: "^[a-z0-9](?:[a-z0-9\-]{0,61}
#: [a-z0-9])?$"; https://docs.aws.amazon.com/cognito/latest/developerguide/cognito-user-pools-assign-domain-prefix.html).
COGNITO_DOMAIN_PREFIX_PATTERN = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
COGNITO_RESERVED_WORDS = ("aws", "amazon", "cognito")
#: An ACM certificate ARN. CloudFront only uses certificates of us-east-1 (CloudFront Developer Guide,
#: "Requirements for using SSL/TLS certificates with CloudFront").
CLOUDFRONT_CERTIFICATE_PATTERN = r"arn:aws[\w-]*:acm:us-east-1:\d{12}:certificate/[0-9a-f-]{36}"
PRICE_CLASSES = ("PriceClass_100", "PriceClass_200", "PriceClass_All")
#: The security policy for viewers on a custom domain (TLS 1.2 only, the strongest CloudFront offers for
#: every viewer; ViewerCertificate.MinimumProtocolVersion, CloudFront API reference). On the default
#: *.cloudfront.net certificate CloudFront fixes the policy at TLSv1 whatever is set
#: (https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_ViewerCertificate.html), so the component
#: sets TLSv1 there and HSTS keeps browsers on HTTPS.
CUSTOM_DOMAIN_TLS_POLICY = "TLSv1.2_2021"
DEFAULT_CERTIFICATE_TLS_POLICY = "TLSv1"
#: CloudFront's limit on a response headers policy's Content-Security-Policy value (CloudFront quotas,
#: "Response headers policies": 1,783 characters).
MAX_CSP_LENGTH = 1783

#: List prices (USD, us-east-1, per the S3 pricing page): the fallback when the Price List API is
#: unreachable. Set your Region's prices in config.
DEFAULT_PRICES: dict[str, Any] = {
    "currency": "USD",
    "retrieval_per_gb": {"DEEP_ARCHIVE": {"Standard": 0.02, "Bulk": 0.0025},
                         "GLACIER": {"Expedited": 0.03, "Standard": 0.01, "Bulk": 0.0}},
    "requests_per_1000": {"DEEP_ARCHIVE": {"Standard": 0.10, "Bulk": 0.025},
                          "GLACIER": {"Expedited": 10.0, "Standard": 0.05, "Bulk": 0.0}},
    "restored_storage_per_gb_month": 0.023,
    "data_transfer_out_per_gb": 0.09,
}

SFN_LOG_DELIVERY_ACTIONS = ["logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery",
                            "logs:DeleteLogDelivery", "logs:ListLogDeliveries", "logs:PutResourcePolicy",
                            "logs:DescribeResourcePolicies", "logs:DescribeLogGroups"]
XRAY_ACTIONS = ["xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules",
                "xray:GetSamplingTargets"]

ACCESS_LOG_FORMAT = json.dumps({
    "requestId": "$context.requestId", "ip": "$context.identity.sourceIp", "caller": "$context.identity.caller",
    "user": "$context.identity.userArn", "cognitoSub": "$context.authorizer.claims.sub",
    "requestTime": "$context.requestTime", "httpMethod": "$context.httpMethod",
    "resourcePath": "$context.resourcePath", "status": "$context.status", "protocol": "$context.protocol",
    "responseLength": "$context.responseLength", "integrationStatus": "$context.integration.status",
    "integrationError": "$context.integration.error", "xrayTraceId": "$context.xrayTraceId",
}, separators=(",", ":"))


class PriceSettings(TypedDict, total=False):
    """Prices the cost estimate falls back to when the Price List API is unreachable."""

    currency: str
    """ISO currency of the prices (default `USD`, the Price List's currency)."""
    retrieval_per_gb: Mapping[str, Mapping[str, float]]
    """Retrieval price per GB, by storage class (`DEEP_ARCHIVE`, `GLACIER`) and tier."""
    requests_per_1000: Mapping[str, Mapping[str, float]]
    """Restore request fee per 1,000 requests, by storage class and tier."""
    restored_storage_per_gb_month: float
    """Storage price per GB-month of the temporary restored copy (S3 Standard rate)."""
    data_transfer_out_per_gb: float
    """Data transfer out to the internet per GB (first paid tier)."""


class WebSiteSettings(TypedDict, total=False):
    """The web front end: pages on a private S3 bucket behind CloudFront, sign-in through Cognito's hosted UI."""

    cognito_domain_prefix: Required[str]
    """Required. The hosted UI's domain prefix: `https://<prefix>.auth.<region>.amazoncognito.com` (1-63
    lowercase letters, digits and hyphens; without `aws`, `amazon` or `cognito`; unique in the Region)."""
    domain_names: Sequence[str]
    """Custom domain names of the site (CloudFront aliases), with `certificate_arn`. The first is the
    site's URL (CORS origin, sign-in callback, email links). Default: the distribution's own domain."""
    certificate_arn: str
    """ACM certificate (us-east-1) covering `domain_names`; viewers then need TLS 1.2 or later."""
    price_class: str
    """CloudFront price class: `PriceClass_100` (default), `PriceClass_200` or `PriceClass_All`."""


class GlacierRestoreArgs(TypedDict, total=False):
    """Arguments of `GlacierRestore`."""

    sender_email: Required[str]
    """Required. The verified SES address restore emails come from, e.g. `restores@research.example.org`."""
    sender_identity: str
    """The SES identity covering the sender: the address itself (default) or its (parent) domain."""
    create_sender_identity: bool
    """Create the SES identity (default true; SES then mails a verification link to the address or expects
    the domain's DKIM records). False when the identity is already verified in this account and Region."""
    bucket_name: pulumi.Input[str]
    """An existing archive bucket to serve. Omit it to let the component create a protected bucket."""
    bucket_kms_key_arn: str
    """The KMS key ARN of an existing bucket's SSE-KMS encryption (with `bucket_name`). Downloads of
    SSE-KMS objects need `kms:Decrypt` on it: the role that signs download URLs gets it, only through S3."""
    protect_data: bool
    """Pulumi `protect` on the created bucket (always retained on stack deletion anyway) and deletion
    protection on the requests table (default false)."""
    manage_bucket_notifications: bool
    """Turn on the bucket's EventBridge notifications (default true). This replaces the bucket's
    notification configuration, so set false for an existing bucket whose notifications are managed
    elsewhere (EventBridge delivery must then be switched on there)."""
    storage_classes: Sequence[str]
    """Archive classes of the bucket's objects: `DEEP_ARCHIVE` (default) and/or `GLACIER`."""
    allowed_tiers: Sequence[str]
    """Retrieval tiers requesters may choose (default Standard and Bulk). `Expedited` needs `GLACIER`."""
    default_tier: str
    """Tier used when a request names none (default `Standard`)."""
    default_days: int
    """Days the restored copy stays available when a request names none (default 7)."""
    max_days: int
    """Most days a request may ask for (default 30; at most 365)."""
    download_url_ttl_seconds: int
    """Lifetime of presigned download URLs (default 900; 60 to 3540: a URL ends with the one-hour role
    session that signed it, less a 60 s clock margin)."""
    auth: str
    """`iam` (SigV4-signed requests; the default without `web_site`) or `cognito` (a Cognito user pool ID
    token; the default, and required, with `web_site`)."""
    cognito_user_pool_arns: Sequence[pulumi.Input[str]]
    """User pools whose tokens the API accepts (required with `auth: cognito`)."""
    group_prefixes: Mapping[str, Sequence[str]]
    """With `auth: cognito`: the key prefixes each Cognito group may browse and estimate, e.g.
    `{"genomics": ["projects/genome-"]}`. Omit it to let every signed-in user see the whole archive."""
    browse_page_size: int
    """Objects per page of `GET /objects` when the caller names no `pageSize` (default 100; 1 to 1000)."""
    max_bulk_objects: int
    """Most archived objects one bulk restore may cover (default 100,000; at most 1,000,000)."""
    bulk_restore_rate: int
    """RestoreObject calls per second a bulk restore may start at most (default 100; 1 to 900, below S3's
    1,000 per second per account)."""
    bulk_batch_size: int
    """Objects per child execution of the bulk workflow (default 100; 1 to 200)."""
    inventory_bucket_name: str
    """The existing bucket S3 Inventory delivers the archive bucket's reports to (CSV format, with the optional
    fields Size and StorageClass). Enables `{"manifest": {"format": "S3Inventory", ...}}` on bulk restores;
    the service may read only that bucket's reports of the archive (`[inventory_prefix/]<archive bucket>/`)."""
    inventory_prefix: str
    """The destination prefix of the inventory configuration (default none)."""
    bulk_token_ttl_seconds: int
    """Lifetime of a bulk restore's confirmation token (default 900; 60 to 3600)."""
    prices: PriceSettings
    """Fallback prices for the cost estimate (default: us-east-1 list prices)."""
    use_price_list: bool
    """Ask the AWS Price List API first (default true)."""
    pricing_region: str
    """Region of the Price List endpoint: us-east-1 (default), eu-central-1 or ap-south-1."""
    stage_name: str
    """API stage name (default `v1`)."""
    throttling_rate_limit: float
    """Steady requests per second the API stage allows (default 10)."""
    throttling_burst_limit: int
    """Burst the API stage allows (default 20)."""
    alarm_actions: Sequence[pulumi.Input[str]]
    """ARNs (e.g. SNS topics) notified when restore events fail or land in the dead-letter queue."""
    service_name: str
    """Name used in email subjects and descriptions (default `Archive restore service`)."""
    web_site: WebSiteSettings
    """Serve the web front end (browse, estimate, request, my requests, download) from CloudFront, with sign-in
    through the hosted UI of the first of `cognito_user_pool_arns`. Needs `auth: cognito` (the default when
    this is set). The completion emails then link to the object's page on the site."""
    tags: Mapping[str, str]
    """Tags for every taggable resource (the library adds its own)."""
    function_settings: FunctionSettings
    """Lambda settings (architecture, runtime, log retention, log level)."""


