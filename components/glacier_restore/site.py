"""The GlacierRestore web front end: static pages on a private S3 bucket, served through CloudFront.

- The bucket is private (all four public access blocks, bucket-owner-enforced, SSE-S3, TLS-only). CloudFront
  reads it through an origin access control (SigV4, signing always); the bucket policy grants
  `cloudfront.amazonaws.com` `s3:GetObject` on the site's objects only, for this distribution only
  (`AWS:SourceArn`; CloudFront Developer Guide, "Restricting access to an Amazon S3 origin":
  https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/private-content-restricting-access-to-s3.html).
- Viewers are redirected to HTTPS; a response headers policy adds HSTS, a Content-Security-Policy that lets the
  pages talk to exactly the API's origin and the Cognito domain, `frame-ancestors 'none'`/X-Frame-Options DENY,
  nosniff and `Referrer-Policy: no-referrer` (the page URL names an object key).
- Sign-in is Cognito's hosted UI: a user pool domain and a public app client (no secret) with the
  authorization-code grant; the pages use PKCE (RFC 7636, S256). Callback and sign-out URL: the site's URL.
- Access logs: CloudFront standard logging to a private log bucket (ACLs on: CloudFront's log delivery
  writes with an ACL grant, https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/
  standard-logging-legacy-s3.html#AccessLogsBucketAndFileOwnership), expired after the log retention.
- The pages are uploaded file by file (`BucketObjectv2`, content type and Cache-Control per file, content from
  the package), plus `config.js` with the API URL, the Cognito domain and client id: a preview twice is no diff.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pulumi
import pulumi_aws as aws

from serverless_patterns.core import iam
from serverless_patterns.glacier_restore.args import (
    CUSTOM_DOMAIN_TLS_POLICY,
    DEFAULT_CERTIFICATE_TLS_POLICY,
    MAX_CSP_LENGTH,
)

if TYPE_CHECKING:
    from serverless_patterns.glacier_restore.component import GlacierRestore

#: The pages, shipped in the package (plain HTML, CSS and JavaScript: no build step).
SITE_DIR = Path(__file__).resolve().parents[2] / "lambdas" / "glacier_restore" / "site"
#: Content type per file extension (what CloudFront passes on from S3's Content-Type).
CONTENT_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
                 ".css": "text/css; charset=utf-8"}
#: Every file is revalidated on each load (ETag, so a 304 when unchanged): the site is a few KB without
#: content-hashed names, and a deploy must show at once, never mix old scripts with new pages.
CACHE_CONTROL = "no-cache"
#: CloudFront's managed "CachingOptimized" cache policy (honours the origin's Cache-Control; no query strings,
#: cookies or headers in the cache key): https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/
#: using-managed-cache-policies.html#managed-cache-caching-optimized
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
#: HSTS for two years (the preload list's minimum is one year: https://hstspreload.org/#submission-requirements).
HSTS_MAX_AGE = 63072000
ORIGIN_ID = "site-bucket"


def site_files() -> dict[str, str]:
    """The page files by S3 key (sorted: a stable order of registrations)."""
    files = {p.name: p.read_text(encoding="utf-8") for p in sorted(SITE_DIR.iterdir())
             if p.is_file() and p.suffix in CONTENT_TYPES}
    if "index.html" not in files:
        raise FileNotFoundError(f"the site's index.html is missing from {SITE_DIR}")
    return files


def content_security_policy(api_origin: str, cognito_origin: str) -> str:
    """Only this site's own scripts and styles; fetches to exactly the API and the Cognito domain."""
    policy = "; ".join([
        "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self'",
        f"connect-src {api_origin} {cognito_origin}", "form-action 'none'", "base-uri 'none'",
        "frame-ancestors 'none'"])
    if len(policy) > MAX_CSP_LENGTH:
        raise ValueError(f"the Content-Security-Policy is {len(policy)} characters; CloudFront allows "
                         f"{MAX_CSP_LENGTH}")
    return policy


def site_config(api_url: str, cognito_origin: str, client_id: str, site_url: str, a: Mapping[str, Any]) -> str:
    """`config.js`: what the pages need to find the API and sign in (no secret: the client has none), and the
    request choices the API accepts (tiers, days)."""
    config = {"apiUrl": api_url, "cognitoDomain": cognito_origin, "clientId": client_id,
              "redirectUri": site_url + "/", "scopes": "openid email", "tiers": list(a["allowed_tiers"]),
              "defaultTier": a["default_tier"], "defaultDays": a["default_days"], "maxDays": a["max_days"]}
    return "window.GLACIER_CONFIG = Object.freeze(" + json.dumps(config, sort_keys=True) + ");\n"


@dataclass
class Site:
    """What the rest of the component needs of the front end."""

    url: pulumi.Output[str]
    """https://<domain> (no trailing slash): the CORS origin, the sign-in callback and the email links' base."""
    distribution: aws.cloudfront.Distribution
    bucket: aws.s3.Bucket
    log_bucket: aws.s3.Bucket
    client: aws.cognito.UserPoolClient
    domain: aws.cognito.UserPoolDomain
    cognito_origin: pulumi.Output[str]
    headers_policy: aws.cloudfront.ResponseHeadersPolicy


def private_bucket(c: GlacierRestore, suffix: str, *, ownership: str = "BucketOwnerEnforced",
                   expire_days: int | None = None
                   ) -> tuple[aws.s3.Bucket, aws.s3.BucketPublicAccessBlock, aws.s3.BucketOwnershipControls]:
    """An encrypted bucket with every public access blocked (the caller adds the policy, TLS-only included)."""
    bucket = aws.s3.Bucket(c.child_name(suffix), force_destroy=True, tags=c.tags, opts=c.child_opts())
    controls = aws.s3.BucketOwnershipControls(c.child_name(f"{suffix}-ownership"), bucket=bucket.id,
                                              rule={"object_ownership": ownership}, opts=c.child_opts())
    aws.s3.BucketServerSideEncryptionConfiguration(
        c.child_name(f"{suffix}-encryption"), bucket=bucket.id,
        rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}, "bucket_key_enabled": True}],
        opts=c.child_opts())
    block = aws.s3.BucketPublicAccessBlock(
        c.child_name(f"{suffix}-public-access"), bucket=bucket.id, block_public_acls=True, block_public_policy=True,
        ignore_public_acls=True, restrict_public_buckets=True, opts=c.child_opts())
    if expire_days is not None:
        aws.s3.BucketLifecycleConfiguration(
            c.child_name(f"{suffix}-expiry"), bucket=bucket.id,
            rules=[aws.s3.BucketLifecycleConfigurationRuleArgs(
                id="expire-logs", status="Enabled",
                filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(days=expire_days))],
            opts=c.child_opts())
    return bucket, block, controls


def build_site(c: GlacierRestore, a: Mapping[str, Any], api: aws.apigateway.RestApi,
               api_url: pulumi.Output[str]) -> Site:
    """Bucket, origin access control, headers policy, distribution, Cognito domain and client, the pages."""
    from serverless_patterns.glacier_restore.component import tls_only_policy

    w = a["web_site"]
    env = c.env
    retention = a["function_settings"]["log_retention_days"]

    # --- Cognito hosted UI: a domain on the first user pool, and a public client for the pages --------------
    pool_id = pulumi.Output.from_input(a["cognito_user_pool_arns"][0]).apply(lambda arn: arn.rsplit("/", 1)[-1])
    domain = aws.cognito.UserPoolDomain(c.child_name("signin-domain"), domain=w["cognito_domain_prefix"],
                                        user_pool_id=pool_id, opts=c.child_opts())
    cognito_origin = pulumi.Output.concat("https://", domain.domain, ".auth.", env.region, ".amazoncognito.com")
    api_origin = pulumi.Output.concat("https://", api.id, ".execute-api.", env.region, ".", env.dns_suffix)

    # --- buckets -------------------------------------------------------------------------------------------
    bucket, block, _ = private_bucket(c, "site")
    # CloudFront's legacy standard logging writes through an ACL grant to its log-delivery account, so the log
    # bucket keeps ACLs (BucketOwnerPreferred); public ACLs stay blocked. The distribution waits for that
    # setting: CreateDistribution refuses a log bucket whose ACLs are disabled, as a new bucket's are
    # (BucketOwnerEnforced) until its ownership controls apply.
    log_bucket, log_block, log_acls = private_bucket(c, "site-logs", ownership="BucketOwnerPreferred",
                                                     expire_days=retention)
    aws.s3.BucketPolicy(c.child_name("site-logs-tls-only"), bucket=log_bucket.id,
                        policy=pulumi.Output.json_dumps(tls_only_policy(log_bucket.arn)),
                        opts=c.child_opts(depends_on=[log_block]))

    # --- CloudFront ----------------------------------------------------------------------------------------
    oac = aws.cloudfront.OriginAccessControl(
        c.child_name("site-oac"), name=pulumi.Output.concat(c.component_name, "-site-", api.id),
        description=f"{a['service_name']}: CloudFront reads the site bucket (SigV4)",
        origin_access_control_origin_type="s3", signing_behavior="always", signing_protocol="sigv4",
        opts=c.child_opts())
    headers = aws.cloudfront.ResponseHeadersPolicy(
        c.child_name("site-headers"), name=pulumi.Output.concat(c.component_name, "-site-headers-", api.id),
        comment=f"{a['service_name']}: security headers of the web front end",
        security_headers_config=aws.cloudfront.ResponseHeadersPolicySecurityHeadersConfigArgs(
            content_security_policy=aws.cloudfront.ResponseHeadersPolicySecurityHeadersConfigContentSecurityPolicyArgs(
                content_security_policy=pulumi.Output.all(api_origin, cognito_origin).apply(
                    lambda o: content_security_policy(o[0], o[1])),
                override=True),
            strict_transport_security=aws.cloudfront.ResponseHeadersPolicySecurityHeadersConfigStrictTransportSecurityArgs(
                access_control_max_age_sec=HSTS_MAX_AGE, include_subdomains=True, preload=False, override=True),
            frame_options=aws.cloudfront.ResponseHeadersPolicySecurityHeadersConfigFrameOptionsArgs(
                frame_option="DENY", override=True),
            content_type_options=aws.cloudfront.ResponseHeadersPolicySecurityHeadersConfigContentTypeOptionsArgs(
                override=True),
            referrer_policy=aws.cloudfront.ResponseHeadersPolicySecurityHeadersConfigReferrerPolicyArgs(
                referrer_policy="no-referrer", override=True)),
        opts=c.child_opts())
    aliases = list(w.get("domain_names", []))
    certificate = (aws.cloudfront.DistributionViewerCertificateArgs(
        acm_certificate_arn=w["certificate_arn"], ssl_support_method="sni-only",
        minimum_protocol_version=CUSTOM_DOMAIN_TLS_POLICY) if aliases else
        aws.cloudfront.DistributionViewerCertificateArgs(
            cloudfront_default_certificate=True, minimum_protocol_version=DEFAULT_CERTIFICATE_TLS_POLICY))
    distribution = aws.cloudfront.Distribution(
        c.child_name("site"),
        comment=f"{a['service_name']} web front end",
        enabled=True, is_ipv6_enabled=True, http_version="http2and3", price_class=w["price_class"],
        default_root_object="index.html", aliases=aliases or None,
        origins=[aws.cloudfront.DistributionOriginArgs(
            origin_id=ORIGIN_ID, domain_name=bucket.bucket_regional_domain_name, origin_access_control_id=oac.id)],
        default_cache_behavior=aws.cloudfront.DistributionDefaultCacheBehaviorArgs(
            target_origin_id=ORIGIN_ID, viewer_protocol_policy="redirect-to-https",
            allowed_methods=["GET", "HEAD"], cached_methods=["GET", "HEAD"], compress=True,
            cache_policy_id=CACHING_OPTIMIZED, response_headers_policy_id=headers.id),
        restrictions=aws.cloudfront.DistributionRestrictionsArgs(
            geo_restriction=aws.cloudfront.DistributionRestrictionsGeoRestrictionArgs(restriction_type="none")),
        viewer_certificate=certificate,
        logging_config=aws.cloudfront.DistributionLoggingConfigArgs(
            bucket=log_bucket.bucket_domain_name, include_cookies=False, prefix="cloudfront/"),
        tags=c.tags,
        opts=c.child_opts(depends_on=[log_block, log_acls]))
    url = (pulumi.Output.from_input(f"https://{aliases[0]}") if aliases
           else pulumi.Output.concat("https://", distribution.domain_name))

    # Only this distribution may read the pages, only the pages (GetObject on the objects; no listing).
    aws.s3.BucketPolicy(
        c.child_name("site-policy"), bucket=bucket.id,
        policy=pulumi.Output.json_dumps(site_bucket_policy(bucket.arn, distribution.arn)),
        opts=c.child_opts(depends_on=[block]))

    # --- the app client of the pages (public: PKCE, no secret) ---------------------------------------------
    client = aws.cognito.UserPoolClient(
        c.child_name("site-client"), name=pulumi.Output.concat(c.component_name, "-web"), user_pool_id=pool_id,
        generate_secret=False, allowed_oauth_flows_user_pool_client=True, allowed_oauth_flows=["code"],
        allowed_oauth_scopes=["openid", "email"], supported_identity_providers=["COGNITO"],
        callback_urls=[pulumi.Output.concat(url, "/")], logout_urls=[pulumi.Output.concat(url, "/")],
        explicit_auth_flows=["ALLOW_REFRESH_TOKEN_AUTH"], prevent_user_existence_errors="ENABLED",
        enable_token_revocation=True, id_token_validity=60, access_token_validity=60, refresh_token_validity=12,
        token_validity_units=aws.cognito.UserPoolClientTokenValidityUnitsArgs(
            id_token="minutes", access_token="minutes", refresh_token="hours"),
        opts=c.child_opts())

    # --- the pages -----------------------------------------------------------------------------------------
    for key, text in site_files().items():
        upload(c, bucket, key, text)
    upload(c, bucket, "config.js", pulumi.Output.all(api_url, cognito_origin, client.id, url).apply(
        lambda v: site_config(v[0], v[1], v[2], v[3], a)))
    return Site(url=url, distribution=distribution, bucket=bucket, log_bucket=log_bucket, client=client,
                domain=domain, cognito_origin=cognito_origin, headers_policy=headers)


def upload(c: GlacierRestore, bucket: aws.s3.Bucket, key: str, content: pulumi.Input[str]) -> None:
    suffix = key.rsplit(".", 1)[-1]
    aws.s3.BucketObjectv2(
        c.child_name(f"site-{key.replace('.', '-')}"), bucket=bucket.id, key=key, content=content,
        content_type=CONTENT_TYPES["." + suffix], cache_control=CACHE_CONTROL, tags=c.tags, opts=c.child_opts())


def site_bucket_policy(bucket_arn: pulumi.Input[str], distribution_arn: pulumi.Input[str]) -> dict[str, Any]:
    """CloudFront (this distribution only) reads the site's objects; nobody reaches the bucket without TLS."""
    from serverless_patterns.glacier_restore.component import tls_only_policy

    grant = iam.document_data(iam.allow(
        ["s3:GetObject"], [pulumi.Output.concat(bucket_arn, "/*")], sid="CloudFrontReadsThePages",
        principals={"Service": "cloudfront.amazonaws.com"},
        conditions={"StringEquals": {"AWS:SourceArn": distribution_arn}}))
    deny = tls_only_policy(bucket_arn)
    return {**deny, "Statement": [*grant["Statement"], *deny["Statement"]]}
